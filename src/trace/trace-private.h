/* natsim trace: internals shared by the module's files. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "natsim/trace.h"

#include "cursor.h"

/* The most VLAN tags (802.1Q / 802.1ad / QinQ) peeled off one frame, and
 * the most IPv6 extension headers walked in one packet; both bound the
 * decoder's loops on hostile input.  Real stacks use 2 tags and at most
 * 6 extension headers (RFC 8200 section 4.1 order). */
#define TRACE_MAX_VLAN_TAGS   8
#define TRACE_MAX_IPV6_EXT    10

/* The most MPLS labels popped from one stack, and the most tunnels opened
 * in one packet (GRE, ERSPAN, VXLAN, Geneve): both bound the decoder on
 * hostile input.  Real networks stack 2-3 labels and one tunnel, rarely
 * two (VXLAN over an MPLS core). */
#define TRACE_MAX_MPLS_LABELS 16
#define TRACE_MAX_TUNNELS     4

/* trace_decode() flags: open tunnels (the default of a reader; --outer
 * turns it off). */
#define TRACE_DECODE_DECAP    1u

/* The largest on-the-wire frame length believed.  Ethernet jumbo frames
 * are 9 KiB and Linux BIG TCP segments (IPv6 jumbograms seen on the host)
 * up to 512 KiB; a larger pcap "len" is a damaged or fuzzed record, whose
 * length would otherwise poison the byte counts. */
#define TRACE_MAX_WIRE_LEN    (1024u * 1024u)

/* True if trace_decode() understands link type @dlt. */
bool trace_link_supported (int dlt);

/* Decodes one record of link type @dlt (@caplen bytes captured out of
 * @wire_len on the wire) into @ret, setting every field but time, unix_ns,
 * file_index and record; with TRACE_DECODE_DECAP in @flags, tunnels are
 * opened and @ret describes the innermost packet.  Returns true, or false
 * with the reason in *ret_skip (and @ret partly written).  Plain C: no
 * allocation, no GLib. */
bool trace_decode (int dlt, const uint8_t *data, uint32_t caplen,
                   uint32_t wire_len, unsigned flags, NatsimTracePacket *ret,
                   NatsimTraceSkip *ret_skip);

/* Between decode.c (link layer, IP, transport) and decap.c (tunnels). */

/* Ethertypes and PPP protocol numbers the decoder follows. */
enum
{
  ETH_P_IPV4    = 0x0800,
  ETH_P_IPV6    = 0x86dd,
  ETH_P_8021Q   = 0x8100,
  ETH_P_8021AD  = 0x88a8,
  ETH_P_QINQ1   = 0x9100, /* pre-standard QinQ outer tags */
  ETH_P_QINQ2   = 0x9200,
  ETH_P_PPPOE_S = 0x8864,
  ETH_P_MPLS_UC = 0x8847,
  ETH_P_MPLS_MC = 0x8848,
  ETH_P_TEB     = 0x6558, /* transparent Ethernet bridging (GRE, Geneve) */
  ETH_P_ERSPAN  = 0x88be, /* ERSPAN type I (no GRE sequence) and II */
  ETH_P_ERSPAN3 = 0x22eb,
  PPP_IPV4      = 0x0021,
  PPP_IPV6      = 0x0057,
};

/* What the link layer says follows it. */
typedef enum
{
  L3_BY_VERSION = 0, /* look at the version nibble */
  L3_IPV4       = 4,
  L3_IPV6       = 6,
} L3Kind;

typedef struct
{
  NatsimCursor c;         /* positioned at the IP header */
  uint32_t     wire_left; /* bytes on the wire from the IP header on */
  L3Kind       kind;
} L3Start;

typedef enum
{
  TUNNEL_NONE,  /* not a tunnel: @ret is the packet */
  TUNNEL_INNER, /* @l3 holds the inner packet */
  TUNNEL_SKIP,  /* a tunnel that cannot be opened; *ret_skip says why */
} TunnelResult;

/* Decodes the link layer of a frame of link type @dlt up to its IP header
 * into @ret; MPLS sets its bit in @tunnels.  decap.c calls it back for the
 * Ethernet frame inside a tunnel. */
bool trace_decode_link (int dlt, const uint8_t *data, uint32_t caplen,
                        uint32_t wire_len, L3Start *ret, uint8_t *tunnels,
                        NatsimTraceSkip *ret_skip);

/* Pops an MPLS label stack at @c and says what follows it. */
bool trace_decode_mpls (NatsimCursor *c, L3Kind *ret_kind, bool *ret_ethernet,
                        NatsimTraceSkip *ret_skip);

/* Open the tunnel whose outer packet @ret describes (GRE; VXLAN or Geneve
 * over UDP), setting its bit in @tunnels and the inner packet in @l3. */
TunnelResult trace_tunnel_gre (const NatsimTracePacket *ret, uint8_t *tunnels,
                               L3Start *l3, NatsimTraceSkip *ret_skip);
TunnelResult trace_tunnel_udp (const NatsimTracePacket *ret, uint8_t *tunnels,
                               L3Start *l3, NatsimTraceSkip *ret_skip);
