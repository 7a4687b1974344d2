/* natsim: IPv4 and IPv6 reassembly of fragmented datagrams, for analysis.
 *
 * Fragments are handed out by the reader one by one (each is a packet on
 * the wire); a NatsimReasm puts the pieces of each datagram together so
 * that the datagram can be attributed to its flow (its ports are in the
 * first fragment only) and its payload read whole (a REGISTER in three
 * fragments).  Behaviour follows Linux (net/ipv4/ip_fragment.c,
 * net/ipv6/reassembly.c, inet_fragment.c):
 *
 * - a datagram is keyed by addresses, protocol and identification;
 * - it is forgotten if not complete 30 s (IPv4, ipfrag_time) or 60 s
 *   (IPv6, ip6frag_time) after its first piece arrived;
 * - a piece that overlaps another drops the whole datagram (RFC 5722 for
 *   IPv6; IPv4 since Linux 4.19, the FragmentSmack fix); an exact duplicate
 *   is ignored;
 * - memory is bounded: a fixed pool of datagram slots of 64 KiB each is
 *   allocated up front; when all are in use the oldest datagram is dropped
 *   to make room (Linux refuses new pieces above ipfrag_high_thresh
 *   instead; for a capture the newer datagram is the better guess).
 *
 * Plain C on the packet path: natsim_reasm_add() allocates nothing.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "natsim/time.h"
#include "natsim/trace.h"

G_BEGIN_DECLS

#define NATSIM_REASM_TIMEOUT_V4 (30 * NATSIM_NSEC_PER_SEC)
#define NATSIM_REASM_TIMEOUT_V6 (60 * NATSIM_NSEC_PER_SEC)

typedef struct NatsimReasm NatsimReasm;

typedef struct
{
  guint64 datagrams;   /* reassembled */
  guint64 fragments;   /* pieces of the reassembled datagrams */
  guint64 lost;        /* pieces of datagrams that never completed (timed
                        * out, dropped, or pending at the end) */
  guint64 overlapping; /* datagrams dropped for overlapping pieces */
  guint64 timed_out;   /* datagrams forgotten incomplete */
  guint64 evicted;     /* datagrams dropped to make room */
  guint64 invalid;     /* datagrams dropped for a piece cut by the snaplen,
                        * past 64 KiB or of a length not a multiple of 8 */
  guint64 duplicates;  /* pieces seen twice, ignored */
} NatsimReasmStats;

/* A pool of @slots datagrams (0: 64). */
NatsimReasm *natsim_reasm_new (guint slots);
void natsim_reasm_free (NatsimReasm *r);

/* A complete datagram.  Pointers are valid until the next call. */
typedef struct
{
  bool           has_ports;   /* UDP or TCP header whole in the datagram */
  uint16_t       src_port, dst_port;
  uint8_t        tcp_flags;
  const uint8_t *payload;     /* the transport payload of the whole datagram */
  size_t         payload_len;
  guint          fragments;   /* pieces it came in */
  guint64        bytes;       /* sum of the pieces' IP lengths */
} NatsimReasmDatagram;

typedef enum
{
  NATSIM_REASM_PENDING,   /* kept, the datagram is not complete */
  NATSIM_REASM_COMPLETE,  /* @ret holds the datagram this piece completed */
  NATSIM_REASM_DROPPED,   /* the piece (and its datagram) could not be used */
} NatsimReasmResult;

/* Adds @tp (tp->fragment must be true; time must not decrease).  Expires
 * datagrams older than their timeout first. */
NatsimReasmResult natsim_reasm_add (NatsimReasm *r, const NatsimTracePacket *tp,
                                    NatsimReasmDatagram *ret);

/* Forgets every pending datagram (end of the capture), counting its
 * pieces as lost. */
void natsim_reasm_flush (NatsimReasm *r);

const NatsimReasmStats *natsim_reasm_stats (const NatsimReasm *r);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimReasm, natsim_reasm_free)

G_END_DECLS
