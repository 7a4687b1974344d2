/* natsim NAT engine: the packet path (outbound translation, inbound
 * delivery and filtering).
 *
 * docs/nat-model.md "Inbound packets" and "Rebinding" are the contract of
 * this file.  Tables used here:
 *  - flows:   (proto, inside ip:port, remote ip:port) -> binding, ALIVE,
 *             DEAD or FAILED.
 *  - per external port (PortState.head): its ALIVE and HELD bindings,
 *             for the "is this 5-tuple used" check of per-destination
 *             port reuse (nf_nat_used_tuple): a walk of that port's
 *             bindings, usually none or one.
 *  - inside_index: (proto, inside ip:port) -> the head of that endpoint's
 *             list of bindings (alive and remembered, newest first), for
 *             mapping reuse (EIM/ADM) and filtering (EIF/ADF).  Walking it
 *             is O(bindings of one inside endpoint), which is small for
 *             clients; a server-like inside endpoint with thousands of
 *             remotes pays for it.
 */
#include "nat-private.h"

static inline NatsimVerdict
forwarded (NatsimNat *nat, uint32_t addr_idx, uint16_t port, NatsimNatResult *res)
{
  res->ext_addr = nat->cfg.addresses[addr_idx];
  res->ext_port = port;
  return NATSIM_VERDICT_FORWARDED;
}

/* RFC 6888 REQ-5: never evict; the packet is dropped.  Conntrack keeps no
 * state, but the flow is remembered (FAILED) so that a reply to it is
 * classified as a binding loss.  The remote still knows the flow by its
 * last external endpoint (@old_addr, @old_port: Linux keeps holding that
 * port for further datagrams to it). */
static NatsimVerdict
alloc_failed (NatsimNat *nat, const NatsimPacket *pkt, uint32_t addr_idx, uint8_t cause,
              uint32_t old_addr, uint16_t old_port, NatsimTime old_died)
{
  uint32_t t = nat_binding_alloc (nat);
  Binding *b;
  NatFlow f;

  nat_flow_of_packet (pkt, &f);
  if (nat->observer != NULL)
    {
      Binding ev = { 0 };
      nat_binding_init (nat, &ev, B_FREE, &f, addr_idx, 0);
      nat_emit_full (nat, NATSIM_NAT_EV_ALLOC_FAILED, &ev, false, false, cause, NONE);
    }
  if (nat->cfg.tombstone == 0)
    {
      nat_binding_release (nat, t);
      return NATSIM_VERDICT_ALLOC_FAILED;
    }
  b = binding (nat, t);
  nat_binding_init (nat, b, B_FAILED, &f, old_addr, old_port);
  b->at = old_died;
  nat_inside_push (nat, t);
  nat_timer_start (nat, t, natsim_time_add (nat->now, nat->cfg.tombstone));
  return NATSIM_VERDICT_ALLOC_FAILED;
}

/* A static forward's inside endpoint leaves from the forward's public
 * endpoint (a static mapping), when that 5-tuple is unused. */
static bool
forward_out (NatsimNat *nat, const NatsimPacket *pkt, uint32_t *ret_addr_idx, uint16_t *ret_port)
{
  uint32_t fw = nat->cfg.n_forwards == 0 ? NONE
              : nat_forward_for_inside (nat, pkt->proto, pkt->src_addr, pkt->src_port);
  uint32_t a;
  uint16_t p;

  if (fw == NONE)
    return false;
  a = nat->fwd_addr_idx[fw];
  p = nat->cfg.forwards[fw].ext_port;
  if (nat_reply_get (nat, pkt->proto, a, p, pkt->dst_addr, pkt->dst_port) != NONE)
    return false;
  *ret_addr_idx = a;
  *ret_port = p;
  return true;
}

static NatsimVerdict
process_out (NatsimNat *nat, const NatsimPacket *pkt, NatsimNatResult *res)
{
  uint64_t k1 = key_endpoint (pkt->proto, pkt->src_addr, pkt->src_port);
  uint64_t k2 = key_remote (pkt->dst_addr, pkt->dst_port);
  uint32_t idx = nat_flow_find (nat, k1, k2, pkt->hint);
  bool rebinding = false;
  uint32_t addr_idx = NONE, e_idx, old_addr = NONE;
  uint16_t port = 0, old_port = 0;
  NatsimTime old_died = 0;
  uint8_t cause;
  NatFlow f;

  if (idx != NAT_TABLE_NONE && binding (nat, idx)->status == B_ALIVE)
    {
      Binding *b = binding (nat, idx);
      nat_refresh (nat, idx, pkt);
      res->hint = idx + 1;
      return forwarded (nat, b->addr_idx, b->ext_port, res);
    }
  if (idx != NAT_TABLE_NONE)
    {
      /* A tombstone: the flow had a binding if it knows its external
       * endpoint (a FAILED tombstone inherits the one before it). */
      Binding *t = binding (nat, idx);
      rebinding = b_addr (t) != NONE;
      old_addr = b_addr (t);
      old_port = t->ext_port;
      old_died = t->at;
      nat_tombstone_replace (nat, idx);
    }

  e_idx = nat_inside_head (nat, pkt->proto, pkt->src_addr, pkt->src_port);
  if (!forward_out (nat, pkt, &addr_idx, &port) &&
      !nat_allocate (nat, pkt, e_idx, &addr_idx, &port, &cause))
    return alloc_failed (nat, pkt, addr_idx, cause, old_addr, old_port, old_died);

  nat_flow_of_packet (pkt, &f);
  res->hint = nat_binding_create (nat, pkt, &f, addr_idx, port, rebinding, false) + 1;
  res->new_binding = true;
  res->rebinding = rebinding;
  return forwarded (nat, addr_idx, port, res);
}

/* Does the filtering rule let (rem_addr, rem_port) reach binding @c's
 * external endpoint? */
static bool
filter_accepts (const NatsimNat *nat, const Binding *c, uint32_t rem_addr, uint16_t rem_port)
{
  switch (nat->cfg.filtering)
    {
    case NATSIM_FILTER_EIF: return true;
    case NATSIM_FILTER_ADF: return c->rem_addr == rem_addr;
    default: return c->rem_addr == rem_addr && c->rem_port == rem_port;
    }
}

/* Inbound step 2-3: another binding of the inside endpoint is alive; the
 * filtering rule decides (RFC 4787 REQ-8).  @head starts the endpoint's
 * list; @idx is the flow's tombstone or NAT_TABLE_NONE. */
static NatsimVerdict
inbound_filter (NatsimNat *nat, const NatsimPacket *pkt, const NatFlow *f,
                uint32_t head, uint32_t idx, NatsimNatResult *res)
{
  for (uint32_t i = head; i != NONE; i = binding (nat, i)->next)
    {
      Binding *c = binding (nat, i);
      uint32_t a;
      uint16_t p;

      if (c->status != B_ALIVE || !filter_accepts (nat, c, f->rem_addr, f->rem_port))
        continue;
      if (nat_reply_get (nat, b_proto (c), c->addr_idx, c->ext_port, f->rem_addr,
                         f->rem_port) != NONE)
        continue; /* that 5-tuple belongs to someone else */
      a = c->addr_idx;
      p = c->ext_port;
      if (idx != NAT_TABLE_NONE)
        {
          nat_tombstone_replace (nat, idx);
        }
      nat_binding_create (nat, pkt, f, a, p, false, true);
      res->new_binding = true;
      return forwarded (nat, a, p, res);
    }
  nat_emit_packet (nat, NATSIM_NAT_EV_FILTERED, pkt, NONE);
  return NATSIM_VERDICT_FILTERED;
}

/* Linux: an inbound datagram to an expired mapping becomes an unsolicited
 * conntrack entry (remote -> public ip:port) holding that port toward this
 * remote for the UDP timeout, refreshed by each further one. */
static void
hold_port (NatsimNat *nat, const NatFlow *f, uint32_t addr_idx, uint16_t ext_port)
{
  uint32_t h = nat_reply_get (nat, f->proto, addr_idx, ext_port, f->rem_addr, f->rem_port);
  Binding *b;
  NatFlow held = *f;

  if (h != NONE)
    {
      if (binding (nat, h)->status == B_HELD)
        nat_set_expiry (nat, h, natsim_time_add (nat->now, nat->cfg.udp_timeout));
      return;
    }
  /* The entry belongs to the remote, not to an inside endpoint. */
  held.in_addr = 0;
  held.in_port = 0;
  h = nat_binding_alloc (nat);
  b = binding (nat, h);
  nat_binding_init (nat, b, B_HELD, &held, addr_idx, ext_port);
  nat_reply_add (nat, h);
  b = binding (nat, h);
  nat_port_ref (nat, b);
  nat_timer_start (nat, h, natsim_time_add (nat->now, nat->cfg.udp_timeout));
}

/* Inbound step 4-5: no live mapping.  Did one exist that would have
 * accepted this packet? */
static NatsimVerdict
inbound_unmapped (NatsimNat *nat, const NatsimPacket *pkt, const NatFlow *f,
                  uint32_t head, uint32_t idx)
{
  uint32_t match = idx != NAT_TABLE_NONE ? idx : NONE;
  Binding *b;

  if (head == NONE)
    match = NONE;
  else if (match == NONE)
    for (uint32_t i = head; i != NONE; i = binding (nat, i)->next)
      if (binding (nat, i)->status != B_ALIVE &&
          filter_accepts (nat, binding (nat, i), f->rem_addr, f->rem_port))
        {
          match = i;
          break;
        }
  if (match == NONE)
    {
      nat_emit_packet (nat, NATSIM_NAT_EV_UNSOLICITED, pkt, NONE);
      return NATSIM_VERDICT_UNSOLICITED;
    }
  b = binding (nat, match);
  nat_emit_packet (nat, NATSIM_NAT_EV_BINDING_LOST, pkt, b_addr (b));
  if (nat->cfg.unsolicited_hold && b_addr (b) != NONE && pkt->proto == NATSIM_PROTO_UDP &&
      nat->cfg.port_reuse == NATSIM_REUSE_PER_DESTINATION)
    hold_port (nat, f, b->addr_idx, b->ext_port);
  return NATSIM_VERDICT_BINDING_LOST;
}

static bool forward_in (NatsimNat *nat, const NatsimPacket *pkt, const NatFlow *f,
                        uint32_t idx, NatsimNatResult *res);

static NatsimVerdict
process_in (NatsimNat *nat, const NatsimPacket *pkt, NatsimNatResult *res)
{
  NatFlow f;
  uint32_t idx, e_idx;

  nat_flow_of_packet (pkt, &f);
  idx = nat_flow_find (nat, key_endpoint (f.proto, f.in_addr, f.in_port),
                       key_remote (f.rem_addr, f.rem_port), pkt->hint);
  if (idx != NAT_TABLE_NONE && binding (nat, idx)->status == B_ALIVE)
    {
      Binding *b = binding (nat, idx);
      nat_refresh (nat, idx, pkt);
      res->hint = idx + 1;
      return forwarded (nat, b->addr_idx, b->ext_port, res);
    }
  if (nat->cfg.n_forwards > 0 && forward_in (nat, pkt, &f, idx, res))
    return NATSIM_VERDICT_FORWARDED;
  e_idx = nat_inside_head (nat, f.proto, f.in_addr, f.in_port);
  if (e_idx != NONE && nat_inside_has_alive (nat, e_idx))
    return inbound_filter (nat, pkt, &f, e_idx, idx, res);
  return inbound_unmapped (nat, pkt, &f, e_idx, idx);
}

/* An inbound packet addressed to a public endpoint (outside addressing):
 * the binding of that exact 5-tuple, else a static forward, else the
 * inside endpoint holding the public endpoint, whose filtering decides;
 * else a remembered binding on it (binding lost) or nothing (unsolicited). */
static NatsimVerdict
process_public (NatsimNat *nat, const NatsimPacket *pkt, NatsimNatResult *res)
{
  uint32_t a = nat_public_index (nat, pkt->dst_addr);
  uint16_t port = pkt->dst_port;
  uint64_t k2 = key_remote (pkt->src_addr, pkt->src_port);
  NatsimPacket in = *pkt;
  uint32_t idx, fw, e_idx;
  const PortState *ps;
  NatFlow f;

  if (a == NONE || port < nat->cfg.port_lo || port > nat->cfg.port_hi)
    {
      nat_emit_packet (nat, NATSIM_NAT_EV_UNSOLICITED, pkt, NONE);
      return NATSIM_VERDICT_UNSOLICITED;
    }
  idx = nat_reply_get (nat, pkt->proto, a, port, pkt->src_addr, pkt->src_port);
  if (idx != NONE && binding (nat, idx)->status == B_ALIVE)
    {
      Binding *b = binding (nat, idx);
      in.dst_addr = b->in_addr;
      in.dst_port = b->in_port;
      res->in_addr = b->in_addr;
      res->in_port = b->in_port;
      nat_refresh (nat, idx, &in);
      return forwarded (nat, a, port, res);
    }
  fw = nat_forward_for_public (nat, pkt->proto, a, port);
  if (fw != NONE)
    {
      in.dst_addr = nat->cfg.forwards[fw].in_addr;
      in.dst_port = nat->cfg.forwards[fw].in_port;
      res->in_addr = in.dst_addr;
      res->in_port = in.dst_port;
      return process_in (nat, &in, res);
    }
  ps = port_state_c (nat, a, pkt->proto, port);
  if (ps->owner_addr == 0 && ps->owner_port == 0)
    {
      nat_emit_packet (nat, NATSIM_NAT_EV_UNSOLICITED, pkt, NONE);
      return NATSIM_VERDICT_UNSOLICITED;
    }
  in.dst_addr = ps->owner_addr;
  in.dst_port = ps->owner_port;
  res->in_addr = in.dst_addr;
  res->in_port = in.dst_port;
  nat_flow_of_packet (&in, &f);
  e_idx = nat_inside_head (nat, f.proto, f.in_addr, f.in_port);
  if (e_idx == NONE)
    {
      nat_emit_packet (nat, NATSIM_NAT_EV_UNSOLICITED, &in, NONE);
      return NATSIM_VERDICT_UNSOLICITED;
    }
  if (ps->head != 0)
    {
      bool held = false;
      for (uint32_t i = e_idx; i != NONE; i = binding (nat, i)->next)
        {
          Binding *c = binding (nat, i);
          uint32_t old;
          if (c->status != B_ALIVE || c->addr_idx != a || c->ext_port != port)
            continue;
          held = true;
          /* RFC 4787 REQ-8: the filtering rule of that mapping; the
           * 5-tuple must be unused (a held entry may own it). */
          if (!filter_accepts (nat, c, f.rem_addr, f.rem_port) || idx != NONE)
            continue;
          old = nat_flow_lookup (nat, key_endpoint (f.proto, f.in_addr, f.in_port), k2);
          if (old != NAT_TABLE_NONE && binding (nat, old)->status == B_ALIVE)
            {
              /* The flow toward this remote is alive on another public
               * endpoint: the packet passes through mapping c, and the
               * flow keeps its own binding (it is no tombstone). */
              nat_refresh (nat, i, &in);
              return forwarded (nat, a, port, res);
            }
          if (old != NAT_TABLE_NONE)
            nat_tombstone_replace (nat, old);
          nat_binding_create (nat, &in, &f, a, port, false, true);
          res->new_binding = true;
          return forwarded (nat, a, port, res);
        }
      if (held)
        {
          nat_emit_packet (nat, NATSIM_NAT_EV_FILTERED, &in, NONE);
          return NATSIM_VERDICT_FILTERED;
        }
    }
  /* No live mapping on that endpoint: one that would have accepted the
   * packet died (binding lost), or none ever did (unsolicited). */
  for (uint32_t i = e_idx; i != NONE; i = binding (nat, i)->next)
    {
      Binding *d = binding (nat, i);
      if (d->status != B_ALIVE && d->addr_idx == a && d->ext_port == port &&
          filter_accepts (nat, d, f.rem_addr, f.rem_port))
        {
          nat_emit_packet (nat, NATSIM_NAT_EV_BINDING_LOST, &in, a);
          if (nat->cfg.unsolicited_hold && pkt->proto == NATSIM_PROTO_UDP &&
              nat->cfg.port_reuse == NATSIM_REUSE_PER_DESTINATION)
            hold_port (nat, &f, a, port);
          return NATSIM_VERDICT_BINDING_LOST;
        }
    }
  nat_emit_packet (nat, NATSIM_NAT_EV_UNSOLICITED, &in, NONE);
  return NATSIM_VERDICT_UNSOLICITED;
}

/* RFC 4787 REQ-9, RFC 5382 REQ-8: an inside host sends to a public
 * endpoint of this NAT.  With hairpinning the packet is translated as any
 * outbound packet (its source becomes the sender's external endpoint,
 * REQ-9b) and then offered to the public endpoint as an inbound packet,
 * whose filtering applies; without, the NAT does not translate it (it is
 * for the NAT box itself, where no host receives it). */
static NatsimVerdict
process_hairpin (NatsimNat *nat, const NatsimPacket *pkt, NatsimNatResult *res)
{
  NatsimNatResult leg = { 0 };
  NatsimPacket in = *pkt;
  NatsimVerdict v;

  if (!nat->cfg.hairpinning)
    return NATSIM_VERDICT_NOT_TRANSLATED;
  v = process_out (nat, pkt, res);
  if (v != NATSIM_VERDICT_FORWARDED)
    return v;
  res->hairpinned = true;
  in.dir = NATSIM_DIR_IN;
  in.src_addr = res->ext_addr;
  in.src_port = res->ext_port;
  v = process_public (nat, &in, &leg);
  res->in_addr = leg.in_addr;
  res->in_port = leg.in_port;
  return v;
}

/* A static forward accepts any remote: the packet creates a binding of
 * the forward's inside endpoint on the forward's public endpoint (as a
 * DNAT rule creates a conntrack entry). */
static bool
forward_in (NatsimNat *nat, const NatsimPacket *pkt, const NatFlow *f, uint32_t idx,
            NatsimNatResult *res)
{
  uint32_t fw = nat_forward_for_inside (nat, f->proto, f->in_addr, f->in_port);
  uint32_t a;
  uint16_t p;

  if (fw == NONE)
    return false;
  a = nat->fwd_addr_idx[fw];
  p = nat->cfg.forwards[fw].ext_port;
  if (nat_reply_get (nat, f->proto, a, p, f->rem_addr, f->rem_port) != NONE)
    return false;
  if (idx != NAT_TABLE_NONE)
    {
      nat_tombstone_replace (nat, idx);
    }
  nat_binding_create (nat, pkt, f, a, p, false, true);
  res->new_binding = true;
  forwarded (nat, a, p, res);
  return true;
}

/* A record keeps its protocol in 2 bits (Binding); packet sources pass
 * nothing else (trace.h: NATSIM_TRACE_SKIP_UNSUPPORTED_PROTO). */
static inline bool
proto_supported (uint8_t proto)
{
  return proto == NATSIM_PROTO_UDP || proto == NATSIM_PROTO_TCP || proto == NATSIM_PROTO_ICMP;
}

NatsimVerdict
natsim_nat_process_public (NatsimNat *nat, const NatsimPacket *pkt, NatsimNatResult *ret)
{
  NatsimNatResult res = { 0 };

  g_return_val_if_fail (pkt->dir == NATSIM_DIR_IN && proto_supported (pkt->proto),
                        NATSIM_VERDICT_NOT_TRANSLATED);
  natsim_nat_advance (nat, pkt->time);
  res.verdict = process_public (nat, pkt, &res);
  if (ret != NULL)
    *ret = res;
  return res.verdict;
}

NatsimVerdict
natsim_nat_process (NatsimNat *nat, const NatsimPacket *pkt, NatsimNatResult *ret)
{
  NatsimNatResult res = { 0 };

  g_return_val_if_fail (proto_supported (pkt->proto), NATSIM_VERDICT_NOT_TRANSLATED);
  natsim_nat_advance (nat, pkt->time);
  if (pkt->dir == NATSIM_DIR_OUT && nat_public_index (nat, pkt->dst_addr) != NONE)
    res.verdict = process_hairpin (nat, pkt, &res);
  else if (pkt->dir == NATSIM_DIR_OUT)
    res.verdict = process_out (nat, pkt, &res);
  else
    res.verdict = process_in (nat, pkt, &res);
  if (ret != NULL)
    *ret = res;
  return res.verdict;
}
