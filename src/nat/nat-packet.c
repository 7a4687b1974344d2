/* natsim NAT engine: the packet path (outbound translation, inbound
 * delivery and filtering).
 *
 * docs/nat-model.md "Inbound packets" and "Rebinding" are the contract of
 * this file.  Tables used here:
 *  - flows:   (proto, inside ip:port, remote ip:port) -> binding, ALIVE,
 *             DEAD or FAILED.
 *  - replies: (proto, address index, external port, remote ip:port) ->
 *             binding, ALIVE or HELD: the "is this 5-tuple used" check of
 *             per-destination port reuse (nf_nat_used_tuple).
 *  - insides: (proto, inside ip:port) -> InsideEntry, heading two lists of
 *             that endpoint's bindings (alive, remembered), for mapping
 *             reuse (EIM/ADM) and filtering (EIF/ADF).  Walking them is
 *             O(bindings of one inside endpoint), which is small for
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
alloc_failed (NatsimNat *nat, const NatsimPacket *pkt, uint32_t addr_idx,
              uint32_t old_addr, uint16_t old_port, NatsimTime old_died)
{
  uint32_t t = nat_binding_alloc (nat);
  uint32_t e;
  Binding *b;
  NatFlow f;

  nat_emit_packet (nat, NATSIM_NAT_EV_ALLOC_FAILED, pkt, addr_idx);
  if (nat->cfg.tombstone == 0)
    {
      nat_binding_release (nat, t);
      return NATSIM_VERDICT_ALLOC_FAILED;
    }
  e = nat_inside_get (nat, pkt->proto, pkt->src_addr, pkt->src_port, true);
  nat_flow_of_packet (pkt, &f);
  b = binding (nat, t);
  nat_binding_init (nat, b, B_FAILED, &f, old_addr, old_port);
  b->died = old_died;
  b->inside = e;
  nat_list_push (nat, &inside (nat, e)->dead, t);
  inside (nat, e)->n++;
  nat_table_put (&nat->flows, key_endpoint (f.proto, f.in_addr, f.in_port),
                 key_remote (f.rem_addr, f.rem_port), t);
  nat_timer_start (nat, t, natsim_time_add (nat->now, nat->cfg.tombstone));
  return NATSIM_VERDICT_ALLOC_FAILED;
}

static NatsimVerdict
process_out (NatsimNat *nat, const NatsimPacket *pkt, NatsimNatResult *res)
{
  uint64_t k1 = key_endpoint (pkt->proto, pkt->src_addr, pkt->src_port);
  uint64_t k2 = key_remote (pkt->dst_addr, pkt->dst_port);
  uint32_t idx = nat_table_get (&nat->flows, k1, k2);
  bool rebinding = false;
  uint32_t addr_idx = NONE, e_idx, old_addr = NONE;
  uint16_t port = 0, old_port = 0;
  NatsimTime old_died = 0;
  NatFlow f;

  if (idx != NAT_TABLE_NONE && binding (nat, idx)->status == B_ALIVE)
    {
      Binding *b = binding (nat, idx);
      nat_refresh (nat, idx, pkt);
      return forwarded (nat, b->addr_idx, b->ext_port, res);
    }
  if (idx != NAT_TABLE_NONE)
    {
      /* A tombstone: the flow had a binding if it knows its external
       * endpoint (a FAILED tombstone inherits the one before it). */
      Binding *t = binding (nat, idx);
      rebinding = t->addr_idx != NONE;
      old_addr = t->addr_idx;
      old_port = t->ext_port;
      old_died = t->died;
      nat_tombstone_replace (nat, idx);
      nat_table_del (&nat->flows, k1, k2);
    }

  e_idx = nat_inside_get (nat, pkt->proto, pkt->src_addr, pkt->src_port, false);
  if (!nat_allocate (nat, pkt, e_idx, &addr_idx, &port))
    return alloc_failed (nat, pkt, addr_idx, old_addr, old_port, old_died);

  nat_flow_of_packet (pkt, &f);
  nat_binding_create (nat, pkt, &f, addr_idx, port, rebinding, false);
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
 * filtering rule decides (RFC 4787 REQ-8).  @idx is the flow's tombstone
 * or NAT_TABLE_NONE. */
static NatsimVerdict
inbound_filter (NatsimNat *nat, const NatsimPacket *pkt, const NatFlow *f,
                uint32_t e_idx, uint32_t idx, NatsimNatResult *res)
{
  uint64_t k2 = key_remote (f->rem_addr, f->rem_port);

  for (uint32_t i = inside (nat, e_idx)->alive; i != NONE; i = binding (nat, i)->next)
    {
      Binding *c = binding (nat, i);
      uint32_t a;
      uint16_t p;

      if (!filter_accepts (nat, c, f->rem_addr, f->rem_port))
        continue;
      if (nat_table_get (&nat->replies, key_endpoint (c->proto, c->addr_idx, c->ext_port),
                         k2) != NAT_TABLE_NONE)
        continue; /* that 5-tuple belongs to someone else */
      a = c->addr_idx;
      p = c->ext_port;
      if (idx != NAT_TABLE_NONE)
        {
          nat_tombstone_replace (nat, idx);
          nat_table_del (&nat->flows, key_endpoint (f->proto, f->in_addr, f->in_port), k2);
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
  uint64_t rk1 = key_endpoint (f->proto, addr_idx, ext_port);
  uint64_t k2 = key_remote (f->rem_addr, f->rem_port);
  uint32_t h = nat_table_get (&nat->replies, rk1, k2);
  Binding *b;
  NatFlow held = *f;

  if (h != NAT_TABLE_NONE)
    {
      if (binding (nat, h)->status == B_HELD)
        nat_set_expiry (nat, h, natsim_time_add (nat->now, nat->cfg.udp_timeout));
      return;
    }
  /* The entry belongs to the remote, not to an inside endpoint. */
  held.in_addr = 0;
  held.in_port = 0;
  held.endpoint = 0;
  h = nat_binding_alloc (nat);
  b = binding (nat, h);
  nat_binding_init (nat, b, B_HELD, &held, addr_idx, ext_port);
  nat_table_put (&nat->replies, rk1, k2, h);
  nat_port_ref (nat, b);
  nat_timer_start (nat, h, natsim_time_add (nat->now, nat->cfg.udp_timeout));
}

/* Inbound step 4-5: no live mapping.  Did one exist that would have
 * accepted this packet? */
static NatsimVerdict
inbound_unmapped (NatsimNat *nat, const NatsimPacket *pkt, const NatFlow *f,
                  uint32_t e_idx, uint32_t idx)
{
  uint32_t match = idx != NAT_TABLE_NONE ? idx : NONE;
  Binding *b;

  if (e_idx == NONE)
    match = NONE;
  else if (match == NONE)
    for (uint32_t i = inside (nat, e_idx)->dead; i != NONE; i = binding (nat, i)->next)
      if (filter_accepts (nat, binding (nat, i), f->rem_addr, f->rem_port))
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
  nat_emit_packet (nat, NATSIM_NAT_EV_BINDING_LOST, pkt, b->addr_idx);
  if (nat->cfg.unsolicited_hold && b->addr_idx != NONE && pkt->proto == NATSIM_PROTO_UDP &&
      nat->cfg.port_reuse == NATSIM_REUSE_PER_DESTINATION)
    hold_port (nat, f, b->addr_idx, b->ext_port);
  return NATSIM_VERDICT_BINDING_LOST;
}

static NatsimVerdict
process_in (NatsimNat *nat, const NatsimPacket *pkt, NatsimNatResult *res)
{
  NatFlow f;
  uint32_t idx, e_idx;

  nat_flow_of_packet (pkt, &f);
  idx = nat_table_get (&nat->flows, key_endpoint (f.proto, f.in_addr, f.in_port),
                       key_remote (f.rem_addr, f.rem_port));
  if (idx != NAT_TABLE_NONE && binding (nat, idx)->status == B_ALIVE)
    {
      Binding *b = binding (nat, idx);
      nat_refresh (nat, idx, pkt);
      return forwarded (nat, b->addr_idx, b->ext_port, res);
    }
  e_idx = nat_inside_get (nat, f.proto, f.in_addr, f.in_port, false);
  if (e_idx != NONE && inside (nat, e_idx)->alive != NONE)
    return inbound_filter (nat, pkt, &f, e_idx, idx, res);
  return inbound_unmapped (nat, pkt, &f, e_idx, idx);
}

NatsimVerdict
natsim_nat_process (NatsimNat *nat, const NatsimPacket *pkt, NatsimNatResult *ret)
{
  NatsimNatResult res = { 0 };

  natsim_nat_advance (nat, pkt->time);
  if (pkt->dir == NATSIM_DIR_OUT)
    res.verdict = process_out (nat, pkt, &res);
  else
    res.verdict = process_in (nat, pkt, &res);
  if (ret != NULL)
    *ret = res;
  return res.verdict;
}
