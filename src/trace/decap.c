/* natsim trace: tunnel decapsulation of one decoded packet.
 *
 * MPLS label stacks (under Ethernet or GRE), GRE with what it carries (IP,
 * Ethernet, MPLS, ERSPAN types I to III), VXLAN and Geneve.  Each opens one
 * tunnel and hands the inner packet back to decode.c as an L3Start (or the
 * inner Ethernet frame to trace_decode_link()).  Plain C on the packet path,
 * like decode.c: no allocation, no GLib, every field read through the
 * bounds-checked cursor.
 */
#include <pcap/pcap.h>

#include "cursor.h"
#include "trace-private.h"

/* An MPLS label stack (RFC 3032): 4-byte entries up to the one with the
 * bottom-of-stack bit.  What follows has no type field: the first nibble
 * says IPv4 or IPv6; 0 is the pseudowire control word (RFC 4385) before an
 * Ethernet frame (RFC 4448), which sets *ret_ethernet. */
bool
trace_decode_mpls (NatsimCursor *c, L3Kind *ret_kind, bool *ret_ethernet,
                   NatsimTraceSkip *ret_skip)
{
  uint32_t entry = 0;
  uint8_t  v;

  for (unsigned n = 0; (entry & 0x100) == 0; n++)
    {
      if (n >= TRACE_MAX_MPLS_LABELS)
        {
          *ret_skip = NATSIM_TRACE_SKIP_BAD_LINK;
          return false;
        }
      if (!cursor_read_u32 (c, &entry))
        {
          *ret_skip = NATSIM_TRACE_SKIP_TUNNEL_TRUNCATED;
          return false;
        }
    }
  if (!cursor_peek_u8 (c, 0, &v))
    {
      *ret_skip = NATSIM_TRACE_SKIP_TUNNEL_TRUNCATED;
      return false;
    }
  *ret_ethernet = false;
  switch (v >> 4)
    {
    case 4:
      *ret_kind = L3_IPV4;
      return true;
    case 6:
      *ret_kind = L3_IPV6;
      return true;
    case 0:
      if (!cursor_skip (c, 4))
        {
          *ret_skip = NATSIM_TRACE_SKIP_TUNNEL_TRUNCATED;
          return false;
        }
      *ret_ethernet = true;
      return true;
    default:
      *ret_skip = NATSIM_TRACE_SKIP_NON_IP;
      return false;
    }
}

/* After a tunnel header: @c holds the captured bytes that follow it, out of
 * @declared on the wire per the outer headers.  Either an Ethernet frame
 * (@ethernet) or an IP packet of @kind. */
static TunnelResult
tunnel_inner (const NatsimCursor *c, size_t declared, bool ethernet, L3Kind kind,
              uint8_t *tunnels, L3Start *l3, NatsimTraceSkip *ret_skip)
{
  size_t captured = cursor_remaining (c);
  size_t wire = declared > c->off ? declared - c->off : 0;

  if (captured > wire)
    captured = wire;
  if (ethernet)
    return trace_decode_link (DLT_EN10MB, cursor_here (c), (uint32_t) captured, (uint32_t) wire,
                              l3, tunnels, ret_skip)
             ? TUNNEL_INNER
             : TUNNEL_SKIP;
  if (captured == 0)
    {
      /* Nothing after the tunnel header: the inner packet is cut. */
      *ret_skip = NATSIM_TRACE_SKIP_TUNNEL_TRUNCATED;
      return TUNNEL_SKIP;
    }
  l3->c = cursor_make (cursor_here (c), captured);
  l3->wire_left = (uint32_t) wire;
  l3->kind = kind;
  return TUNNEL_INNER;
}

/* GRE (RFC 2784, keys and sequence numbers of RFC 2890) and what it
 * carries: IP, Ethernet (0x6558), MPLS, ERSPAN type I (0x88be without a
 * sequence number: the mirrored frame right after GRE), type II (0x88be
 * with one: an 8-byte header, version 1) and type III (0x22eb: a 12-byte
 * header, version 2, and an 8-byte platform header when its O bit is set). */
TunnelResult
trace_tunnel_gre (const NatsimTracePacket *ret, uint8_t *tunnels, L3Start *l3,
                  NatsimTraceSkip *ret_skip)
{
  NatsimCursor c = cursor_make (ret->payload, ret->payload_len);
  size_t       declared = ret->ip_length - ret->l4_offset;
  uint16_t     gflags, type, ver;
  uint8_t      last;
  bool         ethernet = false;
  L3Kind       kind = L3_BY_VERSION;

  if (ret->fragment)
    {
      *ret_skip = NATSIM_TRACE_SKIP_TUNNEL_FRAGMENT;
      return TUNNEL_SKIP;
    }
  if (!cursor_read_u16 (&c, &gflags) || !cursor_read_u16 (&c, &type))
    {
      *ret_skip = NATSIM_TRACE_SKIP_TUNNEL_TRUNCATED;
      return TUNNEL_SKIP;
    }
  /* Version 1 is PPTP's enhanced GRE (PPP inside); routing (RFC 1701) is
   * long obsolete. */
  if ((gflags & 0x7) != 0 || (gflags & 0x4000) != 0)
    {
      *ret_skip = NATSIM_TRACE_SKIP_TUNNEL_UNSUPPORTED;
      return TUNNEL_SKIP;
    }
  if (!cursor_skip (&c, (gflags & 0x8000) ? 4 : 0)     /* checksum, reserved */
      || !cursor_skip (&c, (gflags & 0x2000) ? 4 : 0)  /* key */
      || !cursor_skip (&c, (gflags & 0x1000) ? 4 : 0)) /* sequence number */
    {
      *ret_skip = NATSIM_TRACE_SKIP_TUNNEL_TRUNCATED;
      return TUNNEL_SKIP;
    }
  switch (type)
    {
    case ETH_P_IPV4:
      kind = L3_IPV4;
      *tunnels |= 1u << NATSIM_TRACE_TUNNEL_GRE;
      break;
    case ETH_P_IPV6:
      kind = L3_IPV6;
      *tunnels |= 1u << NATSIM_TRACE_TUNNEL_GRE;
      break;
    case ETH_P_TEB:
      ethernet = true;
      *tunnels |= 1u << NATSIM_TRACE_TUNNEL_GRE;
      break;
    case ETH_P_MPLS_UC:
    case ETH_P_MPLS_MC:
      *tunnels |= (1u << NATSIM_TRACE_TUNNEL_GRE) | (1u << NATSIM_TRACE_TUNNEL_MPLS);
      if (!trace_decode_mpls (&c, &kind, &ethernet, ret_skip))
        return TUNNEL_SKIP;
      break;
    case ETH_P_ERSPAN:
      *tunnels |= 1u << NATSIM_TRACE_TUNNEL_ERSPAN;
      ethernet = true;
      if ((gflags & 0x1000) == 0)
        break; /* type I */
      if (!cursor_read_u16 (&c, &ver) || !cursor_skip (&c, 6))
        {
          *ret_skip = NATSIM_TRACE_SKIP_TUNNEL_TRUNCATED;
          return TUNNEL_SKIP;
        }
      if (ver >> 12 != 1)
        {
          *ret_skip = NATSIM_TRACE_SKIP_TUNNEL_UNSUPPORTED;
          return TUNNEL_SKIP;
        }
      break;
    case ETH_P_ERSPAN3:
      *tunnels |= 1u << NATSIM_TRACE_TUNNEL_ERSPAN;
      ethernet = true;
      if (!cursor_read_u16 (&c, &ver) || !cursor_skip (&c, 9) || !cursor_read_u8 (&c, &last))
        {
          *ret_skip = NATSIM_TRACE_SKIP_TUNNEL_TRUNCATED;
          return TUNNEL_SKIP;
        }
      if (ver >> 12 != 2)
        {
          *ret_skip = NATSIM_TRACE_SKIP_TUNNEL_UNSUPPORTED;
          return TUNNEL_SKIP;
        }
      if ((last & 1) && !cursor_skip (&c, 8))
        {
          *ret_skip = NATSIM_TRACE_SKIP_TUNNEL_TRUNCATED;
          return TUNNEL_SKIP;
        }
      break;
    default:
      *ret_skip = NATSIM_TRACE_SKIP_TUNNEL_UNSUPPORTED;
      return TUNNEL_SKIP;
    }
  return tunnel_inner (&c, declared, ethernet, kind, tunnels, l3, ret_skip);
}

/* VXLAN (RFC 7348, UDP 4789): 8 bytes with the I flag set, then Ethernet.
 * Geneve (RFC 8926, UDP 6081): 8 bytes plus options, then what its
 * protocol type says.  A datagram to these ports that does not look like
 * either stays the UDP datagram it is. */
TunnelResult
trace_tunnel_udp (const NatsimTracePacket *ret, uint8_t *tunnels, L3Start *l3,
                  NatsimTraceSkip *ret_skip)
{
  NatsimCursor c = cursor_make (ret->payload, ret->payload_len);
  NatsimCursor u = cursor_make (ret->ip + ret->l4_offset, 8);
  uint16_t     ulen = 0, type;
  uint8_t      b0, b1;
  bool         ethernet = false;
  L3Kind       kind = L3_BY_VERSION;

  if (!ret->has_ports || ret->fragment
      || (ret->dst_port != 4789 && ret->dst_port != 6081))
    return TUNNEL_NONE;
  /* The UDP length, read before by decode_l4(), bounds the inner packet. */
  if (!cursor_skip (&u, 4) || !cursor_read_u16 (&u, &ulen) || ulen < 8)
    return TUNNEL_NONE;
  if (!cursor_peek_u8 (&c, 0, &b0) || !cursor_peek_u8 (&c, 1, &b1))
    return TUNNEL_NONE;
  if (ret->dst_port == 4789)
    {
      if ((b0 & 0x08) == 0)
        return TUNNEL_NONE;
      if (!cursor_skip (&c, 8))
        {
          *ret_skip = NATSIM_TRACE_SKIP_TUNNEL_TRUNCATED;
          return TUNNEL_SKIP;
        }
      *tunnels |= 1u << NATSIM_TRACE_TUNNEL_VXLAN;
      ethernet = true;
    }
  else
    {
      if (b0 >> 6 != 0)
        return TUNNEL_NONE;
      if (!cursor_skip (&c, 2) || !cursor_read_u16 (&c, &type) || !cursor_skip (&c, 4)
          || !cursor_skip (&c, (size_t) (b0 & 0x3f) * 4))
        {
          *ret_skip = NATSIM_TRACE_SKIP_TUNNEL_TRUNCATED;
          return TUNNEL_SKIP;
        }
      *tunnels |= 1u << NATSIM_TRACE_TUNNEL_GENEVE;
      if (type == ETH_P_TEB)
        ethernet = true;
      else if (type == ETH_P_IPV4)
        kind = L3_IPV4;
      else if (type == ETH_P_IPV6)
        kind = L3_IPV6;
      else
        {
          *ret_skip = NATSIM_TRACE_SKIP_TUNNEL_UNSUPPORTED;
          return TUNNEL_SKIP;
        }
    }
  return tunnel_inner (&c, (size_t) ulen - 8, ethernet, kind, tunnels, l3, ret_skip);
}
