/* natsim trace: link, IP and transport decoding of one captured record.
 *
 * Plain C on the packet path: no allocation, no GLib, every field read
 * through the bounds-checked cursor.  Two lengths bound each layer: what
 * was captured (the cursor) and what the headers declare (IPv4 total
 * length, IPv6 payload length); a declared length larger than what was on
 * the wire is a malformed packet, a captured length shorter than the
 * declared one is an ordinary snaplen cut and only limits the payload.
 */
#include <pcap/pcap.h>
#include <string.h>

#include "cursor.h"
#include "trace-private.h"

/* Bytes on the wire from the start of the IP header on, when unknown
 * (NFLOG holds a copy of the packet whose wire length it does not say). */
#define WIRE_UNKNOWN UINT32_MAX

enum
{
  IPPROTO_V_HOPOPTS  = 0,
  IPPROTO_V_ICMP     = 1,
  IPPROTO_V_TCP      = 6,
  IPPROTO_V_UDP      = 17,
  IPPROTO_V_ROUTING  = 43,
  IPPROTO_V_FRAGMENT = 44,
  IPPROTO_V_GRE      = 47,
  IPPROTO_V_AH       = 51,
  IPPROTO_V_ICMPV6   = 58,
  IPPROTO_V_NONE     = 59,
  IPPROTO_V_DSTOPTS  = 60,
};

bool
trace_link_supported (int dlt)
{
  switch (dlt)
    {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_NULL:
    case DLT_LOOP:
    case DLT_NFLOG:
      return true;
    default:
      return false;
    }
}

/* From an ethertype, peeling VLAN tags, MPLS label stacks (with the
 * Ethernet frame of a pseudowire under them) and a PPPoE session header;
 * MPLS sets its bit in @tunnels. */
static bool
decode_ethertype (NatsimCursor *c, uint16_t type, L3Kind *ret_kind,
                  uint8_t *tunnels, NatsimTraceSkip *ret_skip)
{
  unsigned tags = 0;
  uint16_t ppp;
  bool     ethernet;

  for (;;)
    {
      switch (type)
        {
        case ETH_P_MPLS_UC:
        case ETH_P_MPLS_MC:
          if (++tags > TRACE_MAX_VLAN_TAGS)
            {
              *ret_skip = NATSIM_TRACE_SKIP_BAD_LINK;
              return false;
            }
          *tunnels |= 1u << NATSIM_TRACE_TUNNEL_MPLS;
          if (!trace_decode_mpls (c, ret_kind, &ethernet, ret_skip))
            return false;
          if (!ethernet)
            return true;
          /* The pseudowire's Ethernet frame: MACs, then its type. */
          if (!cursor_skip (c, 12) || !cursor_read_u16 (c, &type))
            {
              *ret_skip = NATSIM_TRACE_SKIP_TUNNEL_TRUNCATED;
              return false;
            }
          break;
        case ETH_P_IPV4:
          *ret_kind = L3_IPV4;
          return true;
        case ETH_P_IPV6:
          *ret_kind = L3_IPV6;
          return true;
        case ETH_P_8021Q:
        case ETH_P_8021AD:
        case ETH_P_QINQ1:
        case ETH_P_QINQ2:
          if (++tags > TRACE_MAX_VLAN_TAGS)
            {
              *ret_skip = NATSIM_TRACE_SKIP_BAD_LINK;
              return false;
            }
          /* Tag control information, then the inner type. */
          if (!cursor_skip (c, 2) || !cursor_read_u16 (c, &type))
            {
              *ret_skip = NATSIM_TRACE_SKIP_TRUNCATED_LINK;
              return false;
            }
          break;
        case ETH_P_PPPOE_S:
          /* RFC 2516: ver/type, code, session id, length, then PPP. */
          if (!cursor_skip (c, 6) || !cursor_read_u16 (c, &ppp))
            {
              *ret_skip = NATSIM_TRACE_SKIP_TRUNCATED_LINK;
              return false;
            }
          if (ppp == PPP_IPV4)
            *ret_kind = L3_IPV4;
          else if (ppp == PPP_IPV6)
            *ret_kind = L3_IPV6;
          else
            {
              *ret_skip = NATSIM_TRACE_SKIP_NON_IP;
              return false;
            }
          return true;
        default:
          /* ARP, LLDP, 802.3 length fields (<= 1500) with LLC, ... */
          *ret_skip = NATSIM_TRACE_SKIP_NON_IP;
          return false;
        }
    }
}

/* NFLOG (Linux netfilter log): a 4-byte header (family, version, resource
 * id), then TLVs whose length and type are in host byte order (libpcap
 * converts them to ours) and whose length counts the 4-byte TLV header but
 * not the padding to 4 bytes.  The packet is the NFULA_PAYLOAD TLV. */
static bool
decode_nflog (NatsimCursor *c, bool cut, NatsimTraceSkip *ret_skip)
{
  enum { NFULA_PAYLOAD = 9 };
  uint8_t  family, version;
  uint16_t tlv_len, tlv_type;

  if (!cursor_read_u8 (c, &family) || !cursor_read_u8 (c, &version)
      || !cursor_skip (c, 2))
    {
      *ret_skip = NATSIM_TRACE_SKIP_TRUNCATED_LINK;
      return false;
    }
  if (version != 0)
    {
      *ret_skip = NATSIM_TRACE_SKIP_BAD_LINK;
      return false;
    }
  /* Each pass consumes >= 4 bytes, so the loop ends. */
  while (cursor_remaining (c) >= 4)
    {
      size_t body, padded;

      /* The loop condition leaves room for both; checked all the same. */
      if (!cursor_read_u16_host (c, &tlv_len) || !cursor_read_u16_host (c, &tlv_type)
          || tlv_len < 4)
        {
          *ret_skip = NATSIM_TRACE_SKIP_BAD_LINK;
          return false;
        }
      body = (size_t) tlv_len - 4;
      if (tlv_type == NFULA_PAYLOAD)
        {
          /* Longer than the record: corrupt, unless the record was cut by
           * the snaplen (then the packet is as truncated as the record). */
          if (body > cursor_remaining (c) && !cut)
            {
              *ret_skip = NATSIM_TRACE_SKIP_BAD_LINK;
              return false;
            }
          *c = cursor_sub (c, body);
          return true;
        }
      padded = (body + 3) & ~(size_t) 3;
      if (!cursor_skip (c, padded) && !cursor_skip (c, body))
        {
          *ret_skip = NATSIM_TRACE_SKIP_BAD_LINK;
          return false;
        }
    }
  /* A log record without a copy of the packet. */
  *ret_skip = cursor_remaining (c) ? NATSIM_TRACE_SKIP_TRUNCATED_LINK
                                   : NATSIM_TRACE_SKIP_BAD_LINK;
  return false;
}

/* BSD loopback: a 4-byte address family, in the capturing host's order
 * (DLT_NULL) or network order (DLT_LOOP); accept both byte orders of both.
 * AF_INET6 differs by OS: 10 Linux, 24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS. */
static bool
decode_loopback (NatsimCursor *c, L3Kind *ret_kind, NatsimTraceSkip *ret_skip)
{
  uint32_t af;

  if (!cursor_read_u32 (c, &af))
    {
      *ret_skip = NATSIM_TRACE_SKIP_TRUNCATED_LINK;
      return false;
    }
  if ((af & 0xffff) == 0)
    af = ((af >> 24) & 0xff) | ((af >> 8) & 0xff00);
  switch (af)
    {
    case 2:
      *ret_kind = L3_IPV4;
      return true;
    case 10:
    case 24:
    case 28:
    case 30:
      *ret_kind = L3_IPV6;
      return true;
    default:
      *ret_skip = NATSIM_TRACE_SKIP_NON_IP;
      return false;
    }
}

bool
trace_decode_link (int dlt, const uint8_t *data, uint32_t caplen, uint32_t wire_len,
                   L3Start *ret, uint8_t *tunnels, NatsimTraceSkip *ret_skip)
{
  NatsimCursor c = cursor_make (data, caplen);
  uint16_t     type;
  L3Kind       kind = L3_BY_VERSION;

  switch (dlt)
    {
    case DLT_EN10MB:
      /* Destination and source MAC, then the ethertype. */
      if (!cursor_skip (&c, 12) || !cursor_read_u16 (&c, &type))
        {
          *ret_skip = NATSIM_TRACE_SKIP_TRUNCATED_LINK;
          return false;
        }
      if (!decode_ethertype (&c, type, &kind, tunnels, ret_skip))
        return false;
      break;

    case DLT_LINUX_SLL:
      /* Packet type, ARPHRD type, address length, 8 address bytes, protocol. */
      if (!cursor_skip (&c, 14) || !cursor_read_u16 (&c, &type))
        {
          *ret_skip = NATSIM_TRACE_SKIP_TRUNCATED_LINK;
          return false;
        }
      if (!decode_ethertype (&c, type, &kind, tunnels, ret_skip))
        return false;
      break;

    case DLT_LINUX_SLL2:
      /* Protocol, reserved, ifindex, ARPHRD type, packet type, address
       * length, 8 address bytes: 20 bytes. */
      if (!cursor_read_u16 (&c, &type) || !cursor_skip (&c, 18))
        {
          *ret_skip = NATSIM_TRACE_SKIP_TRUNCATED_LINK;
          return false;
        }
      if (!decode_ethertype (&c, type, &kind, tunnels, ret_skip))
        return false;
      break;

    case DLT_RAW:
      break;
    case DLT_IPV4:
      kind = L3_IPV4;
      break;
    case DLT_IPV6:
      kind = L3_IPV6;
      break;

    case DLT_NULL:
    case DLT_LOOP:
      if (!decode_loopback (&c, &kind, ret_skip))
        return false;
      break;

    case DLT_NFLOG:
      if (!decode_nflog (&c, caplen < wire_len, ret_skip))
        return false;
      ret->c = c;
      ret->wire_left = WIRE_UNKNOWN;
      ret->kind = L3_BY_VERSION;
      return true;

    default:
      *ret_skip = NATSIM_TRACE_SKIP_NON_IP;
      return false;
    }

  ret->wire_left = wire_len - (uint32_t) c.off; /* c.off <= caplen <= wire_len */
  ret->c = cursor_sub (&c, cursor_remaining (&c));
  ret->kind = kind;
  return true;
}

/* Transport header.  @c covers the captured bytes of the IP payload,
 * @declared its length per the IP header.  For a first fragment the
 * transport length fields describe the whole datagram, not this piece. */
static bool
decode_l4 (NatsimCursor *c, size_t declared, bool fragment, unsigned dflags,
           NatsimTracePacket *ret, NatsimTraceSkip *ret_skip)
{
  uint16_t sport, dport, ulen, id;
  uint32_t seq;
  uint8_t  doff, flags, type, code;
  size_t   start = c->off;

  switch (ret->proto)
    {
    case IPPROTO_V_UDP:
      if (!cursor_read_u16 (c, &sport) || !cursor_read_u16 (c, &dport)
          || !cursor_read_u16 (c, &ulen) || !cursor_skip (c, 2))
        {
          *ret_skip = NATSIM_TRACE_SKIP_UDP_TRUNCATED;
          return false;
        }
      if (ulen < 8 || (!fragment && ulen > declared))
        {
          *ret_skip = NATSIM_TRACE_SKIP_UDP_BAD_LENGTH;
          return false;
        }
      ret->src_port = sport;
      ret->dst_port = dport;
      ret->has_ports = true;
      {
        size_t want = fragment ? declared - 8 : (size_t) ulen - 8;
        size_t have = cursor_remaining (c);
        ret->payload = cursor_here (c);
        ret->payload_len = want < have ? want : have;
      }
      break;

    case IPPROTO_V_TCP:
      if (!cursor_read_u16 (c, &sport) || !cursor_read_u16 (c, &dport)
          || !cursor_read_u32 (c, &seq) || !cursor_skip (c, 4) || !cursor_read_u8 (c, &doff)
          || !cursor_read_u8 (c, &flags) || !cursor_skip (c, 6))
        {
          *ret_skip = NATSIM_TRACE_SKIP_TCP_TRUNCATED;
          return false;
        }
      doff >>= 4;
      if (doff < 5 || (size_t) doff * 4 > declared)
        {
          *ret_skip = NATSIM_TRACE_SKIP_TCP_BAD_OFFSET;
          return false;
        }
      ret->src_port = sport;
      ret->dst_port = dport;
      ret->tcp_flags = flags;
      ret->tcp_seq = seq;
      ret->has_ports = true;
      /* Options may be cut by the snaplen: then no payload. */
      if (!cursor_skip (c, (size_t) doff * 4 - 20))
        c->off = c->len;
      ret->payload = cursor_here (c);
      {
        size_t want = declared - (size_t) doff * 4;
        size_t have = cursor_remaining (c);
        ret->payload_len = want < have ? want : have;
      }
      break;

    case IPPROTO_V_ICMP:
    case IPPROTO_V_ICMPV6:
      if (ret->proto != (ret->ip_version == 4 ? IPPROTO_V_ICMP : IPPROTO_V_ICMPV6))
        {
          *ret_skip = NATSIM_TRACE_SKIP_UNSUPPORTED_PROTO;
          return false;
        }
      /* Type, code, checksum, then 4 bytes: identifier and sequence for
       * echo (RFC 792, RFC 4443). */
      if (!cursor_read_u8 (c, &type) || !cursor_read_u8 (c, &code)
          || !cursor_skip (c, 2) || !cursor_read_u16 (c, &id)
          || !cursor_skip (c, 2))
        {
          *ret_skip = NATSIM_TRACE_SKIP_ICMP_TRUNCATED;
          return false;
        }
      ret->icmp_type = type;
      ret->icmp_code = code;
      if (ret->ip_version == 4 ? (type == 8 || type == 0)
                               : (type == 128 || type == 129))
        {
          /* RFC 5508: the query identifier plays the part of both ports. */
          ret->src_port = id;
          ret->dst_port = id;
          ret->has_ports = true;
        }
      ret->payload = cursor_here (c);
      {
        size_t want = declared >= 8 ? declared - 8 : 0;
        size_t have = cursor_remaining (c);
        ret->payload_len = want < have ? want : have;
      }
      break;

    case IPPROTO_V_GRE:
      /* Opened by tunnel_open(); as a transport it is not decoded. */
      if ((dflags & TRACE_DECODE_DECAP) == 0)
        {
          *ret_skip = NATSIM_TRACE_SKIP_UNSUPPORTED_PROTO;
          return false;
        }
      ret->payload = cursor_here (c);
      {
        size_t have = cursor_remaining (c);
        ret->payload_len = declared < have ? declared : have;
      }
      break;

    default:
      *ret_skip = NATSIM_TRACE_SKIP_UNSUPPORTED_PROTO;
      return false;
    }

  ret->l4_offset = (uint32_t) start; /* @c starts at the IP header */
  return true;
}

/* A later fragment: no transport header, only the protocol number. */
static bool
decode_later_fragment (NatsimCursor *c, size_t declared, unsigned flags,
                       NatsimTracePacket *ret, NatsimTraceSkip *ret_skip)
{
  bool known = ret->proto == IPPROTO_V_UDP || ret->proto == IPPROTO_V_TCP
               || ret->proto == (ret->ip_version == 4 ? IPPROTO_V_ICMP
                                                      : IPPROTO_V_ICMPV6);
  size_t have = cursor_remaining (c);

  if (!known)
    {
      *ret_skip = ret->proto == IPPROTO_V_GRE && (flags & TRACE_DECODE_DECAP)
                    ? NATSIM_TRACE_SKIP_TUNNEL_FRAGMENT
                    : NATSIM_TRACE_SKIP_UNSUPPORTED_PROTO;
      return false;
    }
  ret->payload = cursor_here (c);
  ret->payload_len = declared < have ? declared : have;
  return true;
}

static bool
decode_ipv4 (const L3Start *l3, unsigned flags, NatsimTracePacket *ret,
             NatsimTraceSkip *ret_skip)
{
  NatsimCursor c = l3->c;
  uint8_t      vihl, tos, ttl, proto;
  uint16_t     total, id, frag, csum;
  uint32_t     src, dst;
  size_t       hlen, captured = cursor_remaining (&c);

  if (!cursor_read_u8 (&c, &vihl))
    {
      *ret_skip = NATSIM_TRACE_SKIP_IPV4_TRUNCATED;
      return false;
    }
  if (vihl >> 4 != 4)
    {
      *ret_skip = NATSIM_TRACE_SKIP_IP_BAD_VERSION;
      return false;
    }
  if (!cursor_read_u8 (&c, &tos) || !cursor_read_u16 (&c, &total)
      || !cursor_read_u16 (&c, &id) || !cursor_read_u16 (&c, &frag)
      || !cursor_read_u8 (&c, &ttl) || !cursor_read_u8 (&c, &proto)
      || !cursor_read_u16 (&c, &csum) || !cursor_read_u32 (&c, &src)
      || !cursor_read_u32 (&c, &dst))
    {
      *ret_skip = NATSIM_TRACE_SKIP_IPV4_TRUNCATED;
      return false;
    }
  hlen = (size_t) (vihl & 0x0f) * 4;
  if (hlen < 20)
    {
      *ret_skip = NATSIM_TRACE_SKIP_IPV4_BAD_IHL;
      return false;
    }
  /* A total length of 0 is what captures of TCP segmentation offload show
   * on some systems: take the frame's length instead. */
  if (total == 0 && l3->wire_left != WIRE_UNKNOWN && l3->wire_left <= 0xffff)
    total = (uint16_t) l3->wire_left;
  if (total < hlen || (l3->wire_left != WIRE_UNKNOWN && total > l3->wire_left))
    {
      *ret_skip = NATSIM_TRACE_SKIP_IPV4_BAD_LENGTH;
      return false;
    }
  /* Options are skipped. */
  if (!cursor_skip (&c, hlen - 20))
    {
      *ret_skip = NATSIM_TRACE_SKIP_IPV4_TRUNCATED;
      return false;
    }

  ret->ip_version = 4;
  ret->proto = proto;
  ret->dscp = tos >> 2;
  ret->src4 = src;
  ret->dst4 = dst;
  natsim_ipv4_to_mapped (src, ret->src);
  natsim_ipv4_to_mapped (dst, ret->dst);
  ret->ip_length = total;
  ret->ip = l3->c.p;
  ret->ip_caplen = (uint32_t) (total < captured ? total : captured);

  /* Parse within the datagram only: Ethernet padding and trailers after
   * it are not payload. */
  c.len = ret->ip_caplen;
  {
    uint16_t offset = frag & 0x1fff;
    bool     more = (frag & 0x2000) != 0;
    size_t   declared = total - hlen;

    ret->fragment = more || offset != 0;
    ret->frag_more = more;
    ret->frag_offset = (uint32_t) offset * 8;
    ret->frag_id = id;
    ret->frag_data = (uint32_t) hlen;
    if (offset != 0)
      return decode_later_fragment (&c, declared, flags, ret, ret_skip);
    return decode_l4 (&c, declared, ret->fragment, flags, ret, ret_skip);
  }
}

static bool
decode_ipv6 (const L3Start *l3, unsigned flags, NatsimTracePacket *ret,
             NatsimTraceSkip *ret_skip)
{
  NatsimCursor c = l3->c;
  uint32_t     vtcfl;
  uint16_t     plen;
  uint8_t      next, hlim;
  size_t       captured = cursor_remaining (&c), declared;
  unsigned     n_ext;

  if (!cursor_read_u32 (&c, &vtcfl))
    {
      *ret_skip = NATSIM_TRACE_SKIP_IPV6_TRUNCATED;
      return false;
    }
  if (vtcfl >> 28 != 6)
    {
      *ret_skip = NATSIM_TRACE_SKIP_IP_BAD_VERSION;
      return false;
    }
  if (!cursor_read_u16 (&c, &plen) || !cursor_read_u8 (&c, &next)
      || !cursor_read_u8 (&c, &hlim) || !cursor_read_bytes (&c, ret->src, 16)
      || !cursor_read_bytes (&c, ret->dst, 16))
    {
      *ret_skip = NATSIM_TRACE_SKIP_IPV6_TRUNCATED;
      return false;
    }
  declared = plen;
  if (plen == 0 && next != IPPROTO_V_NONE)
    {
      /* RFC 2675 jumbogram: the real length is in a hop-by-hop option;
       * trust the frame's length, which bounds it anyway. */
      if (next != IPPROTO_V_HOPOPTS || l3->wire_left == WIRE_UNKNOWN
          || l3->wire_left <= 40)
        {
          *ret_skip = NATSIM_TRACE_SKIP_IPV6_BAD_LENGTH;
          return false;
        }
      declared = l3->wire_left - 40;
    }
  if (l3->wire_left != WIRE_UNKNOWN && declared > l3->wire_left - 40)
    {
      *ret_skip = NATSIM_TRACE_SKIP_IPV6_BAD_LENGTH;
      return false;
    }

  ret->ip_version = 6;
  ret->dscp = (uint8_t) ((vtcfl >> 20) & 0xff) >> 2;
  ret->src4 = 0;
  ret->dst4 = 0;
  ret->ip_length = (uint32_t) (40 + declared);
  ret->ip = l3->c.p;
  ret->ip_caplen = (uint32_t) (ret->ip_length < captured ? ret->ip_length : captured);
  c.len = ret->ip_caplen;

  /* Walk the extension headers (RFC 8200 section 4), @declared counting
   * down what the payload length leaves.  Bounded: at most
   * TRACE_MAX_IPV6_EXT headers, each consuming >= 8 bytes. */
  for (n_ext = 0;; n_ext++)
    {
      uint8_t  nh, hlen8;
      size_t   ext_len;
      uint16_t offlg;

      if (next != IPPROTO_V_HOPOPTS && next != IPPROTO_V_ROUTING
          && next != IPPROTO_V_FRAGMENT && next != IPPROTO_V_DSTOPTS
          && next != IPPROTO_V_AH)
        break;
      if (n_ext >= TRACE_MAX_IPV6_EXT || !cursor_peek_u8 (&c, 0, &nh)
          || !cursor_peek_u8 (&c, 1, &hlen8))
        {
          *ret_skip = NATSIM_TRACE_SKIP_IPV6_BAD_EXT;
          return false;
        }
      if (next == IPPROTO_V_FRAGMENT)
        ext_len = 8;
      else if (next == IPPROTO_V_AH)
        ext_len = ((size_t) hlen8 + 2) * 4; /* RFC 4302: 32-bit words - 2 */
      else
        ext_len = ((size_t) hlen8 + 1) * 8;
      if (ext_len > declared || !cursor_has (&c, ext_len))
        {
          *ret_skip = NATSIM_TRACE_SKIP_IPV6_BAD_EXT;
          return false;
        }
      if (next == IPPROTO_V_FRAGMENT)
        {
          NatsimCursor f = c;
          uint32_t     ident;

          /* Next header, reserved, then offset (13 bits), 2 reserved, M,
           * then the identification. */
          if (!cursor_skip (&f, 2) || !cursor_read_u16 (&f, &offlg)
              || !cursor_read_u32 (&f, &ident))
            {
              *ret_skip = NATSIM_TRACE_SKIP_IPV6_BAD_EXT;
              return false;
            }
          ret->fragment = true;
          ret->frag_more = (offlg & 1) != 0;
          ret->frag_offset = (uint32_t) (offlg >> 3) * 8;
          ret->frag_id = ident;
          ret->frag_data = (uint32_t) (c.off + ext_len);
          if (offlg >> 3 != 0)
            {
              cursor_skip (&c, ext_len);
              ret->proto = nh;
              return decode_later_fragment (&c, declared - ext_len, flags, ret,
                                            ret_skip);
            }
        }
      cursor_skip (&c, ext_len);
      declared -= ext_len;
      next = nh;
    }

  ret->proto = next;
  return decode_l4 (&c, declared, ret->fragment, flags, ret, ret_skip);
}

/* The version nibble decides when the link layer did not. */
static bool
decode_l3 (const L3Start *l3, unsigned flags, NatsimTracePacket *ret,
           NatsimTraceSkip *ret_skip)
{
  L3Kind  kind = l3->kind;
  uint8_t v;

  if (kind == L3_BY_VERSION)
    {
      if (!cursor_peek_u8 (&l3->c, 0, &v))
        {
          *ret_skip = NATSIM_TRACE_SKIP_TRUNCATED_LINK;
          return false;
        }
      if (v >> 4 == 4)
        kind = L3_IPV4;
      else if (v >> 4 == 6)
        kind = L3_IPV6;
      else
        {
          *ret_skip = NATSIM_TRACE_SKIP_IP_BAD_VERSION;
          return false;
        }
    }
  if (kind == L3_IPV4)
    return decode_ipv4 (l3, flags, ret, ret_skip);
  return decode_ipv6 (l3, flags, ret, ret_skip);
}

/* The fields a decoded packet describes, reset before each (inner) IP
 * header; the tunnel bits and the frame's wire length stay. */
static void
packet_reset (NatsimTracePacket *ret)
{
  ret->tcp_flags = 0;
  ret->tcp_seq = 0;
  ret->icmp_type = 0;
  ret->icmp_code = 0;
  ret->has_ports = false;
  ret->fragment = false;
  ret->src_port = 0;
  ret->dst_port = 0;
  ret->l4_offset = 0;
  ret->payload = NULL;
  ret->payload_len = 0;
  ret->frag_more = false;
  ret->frag_offset = 0;
  ret->frag_id = 0;
  ret->frag_data = 0;
}

bool
trace_decode (int dlt, const uint8_t *data, uint32_t caplen, uint32_t wire_len,
              unsigned flags, NatsimTracePacket *ret, NatsimTraceSkip *ret_skip)
{
  L3Start l3;

  if (caplen > wire_len)
    {
      *ret_skip = NATSIM_TRACE_SKIP_CAPLEN_EXCEEDS_LEN;
      return false;
    }
  if (wire_len > TRACE_MAX_WIRE_LEN)
    {
      *ret_skip = NATSIM_TRACE_SKIP_LEN_TOO_LARGE;
      return false;
    }
  ret->tunnels = 0;
  if (!trace_decode_link (dlt, data, caplen, wire_len, &l3, &ret->tunnels, ret_skip))
    return false;
  ret->wire_length = wire_len;

  /* Each pass opens one tunnel; the inner packet is what is analysed. */
  for (unsigned depth = 0;; depth++)
    {
      TunnelResult tr;

      packet_reset (ret);
      if (!decode_l3 (&l3, flags, ret, ret_skip))
        return false;
      if ((flags & TRACE_DECODE_DECAP) == 0)
        return true;
      if (ret->proto == IPPROTO_V_GRE)
        tr = trace_tunnel_gre (ret, &ret->tunnels, &l3, ret_skip);
      else if (ret->proto == IPPROTO_V_UDP)
        tr = trace_tunnel_udp (ret, &ret->tunnels, &l3, ret_skip);
      else
        tr = TUNNEL_NONE;
      if (tr == TUNNEL_NONE)
        return true;
      if (tr == TUNNEL_SKIP)
        return false;
      if (depth + 1 >= TRACE_MAX_TUNNELS)
        {
          *ret_skip = NATSIM_TRACE_SKIP_TUNNEL_TOO_DEEP;
          return false;
        }
    }
}
