/* natsim trace: names and descriptions of the skip reasons and tunnel
 * kinds the decoder reports. */
#include <stddef.h>

#include "natsim/trace.h"

static const struct
{
  const char *name;
  const char *description;
} skip_info[NATSIM_TRACE_SKIP_N] = {
  [NATSIM_TRACE_SKIP_CAPLEN_EXCEEDS_LEN] = { "caplen-exceeds-len",
    "record claims more captured bytes than were on the wire" },
  [NATSIM_TRACE_SKIP_CAPLEN_EXCEEDS_SNAPLEN] = { "caplen-exceeds-snaplen",
    "record claims more captured bytes than the file's snapshot length" },
  [NATSIM_TRACE_SKIP_LEN_TOO_LARGE] = { "len-too-large",
    "record's on-the-wire length is beyond any real frame (over 1 MiB)" },
  [NATSIM_TRACE_SKIP_TRUNCATED_LINK] = { "truncated-link",
    "link-layer header cut short" },
  [NATSIM_TRACE_SKIP_BAD_LINK] = { "bad-link-header",
    "link-layer header inconsistent (too many VLAN tags, malformed NFLOG TLVs or no packet in an NFLOG record)" },
  [NATSIM_TRACE_SKIP_NON_IP] = { "non-ip",
    "not IPv4 or IPv6 (ARP, STP, LLDP, loopback test frames, ...)" },
  [NATSIM_TRACE_SKIP_IP_BAD_VERSION] = { "ip-bad-version",
    "IP version field does not match the link-layer protocol" },
  [NATSIM_TRACE_SKIP_IPV4_TRUNCATED] = { "ipv4-truncated",
    "IPv4 header not fully captured" },
  [NATSIM_TRACE_SKIP_IPV4_BAD_IHL] = { "ipv4-bad-ihl",
    "IPv4 header length (IHL) below 5 words" },
  [NATSIM_TRACE_SKIP_IPV4_BAD_LENGTH] = { "ipv4-bad-length",
    "IPv4 total length shorter than its header or longer than the frame" },
  [NATSIM_TRACE_SKIP_IPV6_TRUNCATED] = { "ipv6-truncated",
    "IPv6 header not fully captured" },
  [NATSIM_TRACE_SKIP_IPV6_BAD_LENGTH] = { "ipv6-bad-length",
    "IPv6 payload length longer than the frame, or zero without a jumbo payload" },
  [NATSIM_TRACE_SKIP_IPV6_BAD_EXT] = { "ipv6-bad-ext",
    "IPv6 extension header chain truncated, too long, or running past the packet" },
  [NATSIM_TRACE_SKIP_UDP_TRUNCATED] = { "udp-truncated",
    "UDP header not fully captured" },
  [NATSIM_TRACE_SKIP_UDP_BAD_LENGTH] = { "udp-bad-length",
    "UDP length field below 8 or beyond the IP payload" },
  [NATSIM_TRACE_SKIP_TCP_TRUNCATED] = { "tcp-truncated",
    "TCP header not fully captured" },
  [NATSIM_TRACE_SKIP_TCP_BAD_OFFSET] = { "tcp-bad-offset",
    "TCP data offset below 5 words or beyond the IP payload" },
  [NATSIM_TRACE_SKIP_ICMP_TRUNCATED] = { "icmp-truncated",
    "ICMP header not fully captured" },
  [NATSIM_TRACE_SKIP_UNSUPPORTED_PROTO] = { "unsupported-proto",
    "transport protocol other than UDP, TCP or ICMP (ESP, SCTP, GRE under --outer, ...)" },
  [NATSIM_TRACE_SKIP_TUNNEL_TRUNCATED] = { "tunnel-truncated",
    "tunnel header (GRE, ERSPAN, VXLAN, Geneve, MPLS) not fully captured" },
  [NATSIM_TRACE_SKIP_TUNNEL_UNSUPPORTED] = { "tunnel-unsupported",
    "tunnel natsim does not open (enhanced GRE of PPTP, GRE source routing, an unknown GRE, ERSPAN or Geneve payload)" },
  [NATSIM_TRACE_SKIP_TUNNEL_FRAGMENT] = { "tunnel-fragment",
    "fragment of a tunnel packet (the outer datagram is not reassembled)" },
  [NATSIM_TRACE_SKIP_TUNNEL_TOO_DEEP] = { "tunnel-too-deep",
    "tunnels nested deeper than natsim follows (4 levels)" },
};

static const char *const tunnel_names[NATSIM_TRACE_TUNNEL_N] = {
  [NATSIM_TRACE_TUNNEL_GRE] = "gre",
  [NATSIM_TRACE_TUNNEL_ERSPAN] = "erspan",
  [NATSIM_TRACE_TUNNEL_VXLAN] = "vxlan",
  [NATSIM_TRACE_TUNNEL_GENEVE] = "geneve",
  [NATSIM_TRACE_TUNNEL_MPLS] = "mpls",
};

const char *
natsim_trace_tunnel_name (NatsimTraceTunnel kind)
{
  if ((unsigned) kind >= NATSIM_TRACE_TUNNEL_N)
    return NULL;
  return tunnel_names[kind];
}

const char *
natsim_trace_skip_name (NatsimTraceSkip reason)
{
  if ((unsigned) reason >= NATSIM_TRACE_SKIP_N)
    return NULL;
  return skip_info[reason].name;
}

const char *
natsim_trace_skip_description (NatsimTraceSkip reason)
{
  if ((unsigned) reason >= NATSIM_TRACE_SKIP_N)
    return NULL;
  return skip_info[reason].description;
}
