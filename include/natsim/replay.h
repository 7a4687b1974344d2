/* natsim: trace replay, the second packet source of the engine.
 *
 * natsim_replay() streams one or more captures (merged by timestamp)
 * through one NAT and one collector, as natsim_simulate_replication() does
 * for modelled traffic.  Each decoded IPv4 packet with ports is offered to
 * the NAT by where its addresses lie: inside source and outside destination
 * is outbound, outside source and inside destination is inbound (inside
 * addressing, as a capture taken inside the NAT shows it).  Inside to inside
 * and outside to outside packets are not for the NAT and are only counted.
 *
 * Packets are put in traffic classes by their remote port and protocol
 * (natsim_replay_class_names(), after the seed's port table); `natsim
 * analyze` uses the same classifier.
 *
 * Scaling (--scale K) predicts K times the pilot population: the captures
 * are read by K readers at once, merged by time.  Copy 0 is the capture as
 * it is; copy j (1 <= j < K) is shifted by a random offset o_j, uniform in
 * [0, offset_max) from the stream "scale" of the seed, and each of its
 * inside IPv4 hosts gets its own address in 240.0.0.0/4 (reserved, RFC 1112
 * class E: never a real host, so clones cannot collide with the inside
 * hosts of a capture, which may use any private range): inside host h
 * (numbered from 0 in order of first appearance in the capture) becomes
 * 240.0.0.0 + 1 + h (K - 1) + (j - 1).  Capacity: hosts x (K - 1) must
 * stay below 2^28 - 1; an inside host already in 240.0.0.0/4 would
 * collide with the clones and is refused.  The whole copy shares one
 * offset, so every reader stays in time order and memory stays one
 * libpcap buffer per file and copy.
 *
 * The captures are read twice: once to find the end of the run (the time
 * of the last packet) and, when scaling, the inside hosts; once to replay.
 * Memory stays constant whatever the size of the trace (plus one entry per
 * inside host when scaling). */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <stdio.h>

#include "natsim/metrics.h"
#include "natsim/classify.h"
#include "natsim/nat.h"
#include "natsim/trace.h"

G_BEGIN_DECLS

typedef struct
{
  guint64 packets_read;      /* records taken from the files */
  guint64 packets_decoded;   /* decoded by the reader (IPv4 and IPv6) */
  guint64 offered_out;       /* offered to the NAT as outbound */
  guint64 offered_in;        /* offered to the NAT as inbound */
  guint64 not_translated;    /* inside -> inside, outside -> outside */
  guint64 inside_only;       /* ... of which inside -> inside */
  guint64 ipv6;              /* decoded IPv6 packets (not translated by a NAT44) */
  guint64 untranslatable;    /* IPv4 without ports: ICMP other than echo, fragments
                              * of other protocols (later fragments of UDP, TCP
                              * and ICMP echo follow their first, below) */
  guint64 skipped;           /* records the reader could not decode (sum of skipped[]) */
  guint64 skipped_by_reason[NATSIM_TRACE_SKIP_N];
  guint64 mid_stream_tcp;    /* outbound TCP packets that created a binding without SYN */
  NatsimTime end;            /* end of the run: last packet time + 1 ns */
  NatsimTime interval;       /* timeline interval used (widened for long traces) */
  guint   scale;             /* copies of the population (1: as captured) */
  guint64 inside_hosts;      /* distinct inside IPv4 hosts of the capture (scale > 1) */
  NatsimTraceStats trace;    /* the reader's counts for the capture (copy 0): cut
                              * files, bad timestamps, tunnels opened, ... */
  guint64 fragments_forwarded; /* later IPv4 fragments offered with their first */
  guint64 fragments_dropped;   /* ... dropped: the first was not translated, or
                                * did not come within 30 s */
} NatsimReplayInfo;

/* How to scale the population of a capture. */
typedef struct
{
  guint      scale;      /* copies, >= 1 (1: replay as captured) */
  NatsimTime offset_max; /* copies 1.. start at an offset in [0, offset_max) */
} NatsimReplayScale;

/* The first address of the clone range, 240.0.0.0/4 (host order). */
#define NATSIM_REPLAY_CLONE_NET  UINT32_C (0xf0000000)
#define NATSIM_REPLAY_CLONE_MASK UINT32_C (0xf0000000)

/* Replays @traces (@n paths; "-" is standard input, which can only be read
 * once and is therefore refused) through a NAT built from @cfg, with
 * inside addresses @inside, a timeline of @interval buckets (widened so that
 * the timeline has at most a million points) and NAT random streams from
 * @seed.  Open and read errors fail with NATSIM_ERROR_INVALID_INPUT naming
 * the file.  @ret_info may be NULL. */
NatsimRunResult *natsim_replay (const NatsimNatConfig *cfg,
                                const char *const *traces, guint n,
                                const NatsimCidrSet *inside,
                                NatsimTime interval, uint64_t seed,
                                NatsimReplayInfo *ret_info, GError **error);

/* natsim_replay() with the population scaled by @scale (NULL: as
 * captured).  Fails with NATSIM_ERROR_INVALID_INPUT if the clones do not fit
 * 240.0.0.0/4 or an inside host lies there. */
NatsimRunResult *natsim_replay_scaled (const NatsimNatConfig *cfg,
                                       const char *const *traces, guint n,
                                       const NatsimCidrSet *inside,
                                       NatsimTime interval, uint64_t seed,
                                       const NatsimReplayScale *scale,
                                       NatsimReplayInfo *ret_info,
                                       GError **error);

/* What else watches a replay (natsim_replay_observed()). */
typedef struct
{
  FILE *events;  /* narration (natsim/narrate.h), or NULL */
  /* Called on the calling thread every few thousand records with the
   * bytes of the capture read so far (copy 0; record headers counted as
   * 16 bytes, as in pcap); may be NULL. */
  void (*progress) (guint64 bytes_read, void *user_data);
  void *progress_data;
} NatsimReplayObserver;

/* natsim_replay_scaled() with narration and progress (@obs may be NULL). */
NatsimRunResult *natsim_replay_observed (const NatsimNatConfig *cfg,
                                         const char *const *traces, guint n,
                                         const NatsimCidrSet *inside,
                                         NatsimTime interval, uint64_t seed,
                                         const NatsimReplayScale *scale,
                                         const NatsimReplayObserver *obs,
                                         NatsimReplayInfo *ret_info,
                                         GError **error);

G_END_DECLS
