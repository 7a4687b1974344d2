/* natsim trace: internals shared by the module's files. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "natsim/trace.h"

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
