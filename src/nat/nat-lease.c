/* natsim NAT engine: fast-forward of steady UDP exchanges (nat.h).
 *
 * A call's media is one exchange per stream every media interval for the
 * whole call: most of a carrier hour's packets, each of which only moves
 * its binding's expiry.  Once the binding is steady, that is known in
 * closed form:
 * - it is alive and lives until the next exchange, and the stream timeout
 *   (nf_conntrack_proto_udp.c: a reply seen, more than 2 s old) applies to
 *   every later packet, which is longer than the gap between exchanges,
 *   so each packet finds the binding alive: forwarded, nothing created;
 * - each exchange sets expiry = its time + the stream timeout (outbound
 *   always refreshes, RFC 4787 REQ-6; inbound sets the same value or
 *   nothing), so the last one decides: @last + the stream timeout.
 * The binding gets its final expiry at once, and the train is kept in
 * the lease index: when the binding's lazy timer (nat-timers.c) comes up
 * during the train it re-arms where the packets would have left the
 * expiry by then (nat_lease_rearm()), so the timer entries, and with them
 * the order of expiries that fall on one instant (port blocks returned in
 * that order), are those of the packets.  Nothing else may touch the
 * binding meanwhile: the packets
 * of the flow come only from the train, a hairpin (an inside host sending
 * to one of our public addresses) is refused, and any other refresh
 * before @last (process_public's mapping reuse) would be overwritten by
 * the train's later exchanges, so nat_refresh() ignores it while the
 * record is marked UDP_LEASED.
 */
#include "nat-private.h"

#define TRAINS_MAX 8u

static const Lease *
lease_of (const NatsimNat *nat, uint32_t idx)
{
  const Lease *l = nat_side_get (&nat->leases, idx);

  g_assert (l != NULL);
  return l;
}

/* The expiry the train's packets would have given binding @idx when its
 * timer comes up at @t: that of its last exchange before @t (a timer due
 * at an instant runs before the packets of that instant), or the expiry it
 * had before the train. */
NatsimTime
nat_lease_rearm (const NatsimNat *nat, uint32_t idx, NatsimTime t)
{
  const Lease *l = lease_of (nat, idx);
  NatsimTime tick;

  if (t <= l->next)
    return l->pre_expiry;
  tick = MIN (l->next + (t - 1 - l->next) / l->gap * l->gap, l->last);
  return MIN (natsim_time_add (tick, nat->cfg.udp_stream_timeout), binding_c (nat, idx)->expiry);
}

NatsimTime
nat_lease_last (const NatsimNat *nat, uint32_t idx)
{
  return lease_of (nat, idx)->last;
}

/* The train is over (or its binding died). */
void
nat_lease_end (NatsimNat *nat, uint32_t idx)
{
  nat_side_del (&nat->leases, idx);
  binding (nat, idx)->tcp = 0;
}

static void
lease_start (NatsimNat *nat, uint32_t idx, const NatsimNatTrain *tr)
{
  Binding *b = binding (nat, idx);
  Lease *e = nat_side_add (&nat->leases, idx);

  e->pre_expiry = b->expiry;
  e->next = tr->next;
  e->gap = tr->gap;
  e->last = tr->last;
  b->tcp = UDP_LEASED;
  nat_set_expiry (nat, idx, natsim_time_add (tr->last, nat->cfg.udp_stream_timeout));
}

/* The train's binding if fast-forwarding it is exact, else NONE. */
static uint32_t
steady_binding (NatsimNat *nat, const NatsimNatTrain *tr)
{
  NatsimTime stream = nat->cfg.udp_stream_timeout;
  uint32_t idx;
  const Binding *b;

  if (tr->gap == 0 || tr->next < nat->now || tr->last < tr->next || stream <= tr->gap
      || nat_public_index (nat, tr->rem_addr) != NONE)
    return NONE;
  idx = nat_flow_lookup (nat, key_endpoint (NATSIM_PROTO_UDP, tr->in_addr, tr->in_port),
                         key_remote (tr->rem_addr, tr->rem_port));
  if (idx == NAT_TABLE_NONE)
    return NONE;
  b = binding (nat, idx);
  /* nat_timeout_for(): the stream timeout needs a reply seen before the
   * packet and an entry more than 2 s old at it; a timer due at or before
   * the next exchange runs before it (natsim_nat_advance). */
  if (b->status != B_ALIVE || !b->replied || nat_leased (b)
      || !nat_udp_old (nat, idx, tr->next) || b->expiry <= tr->next)
    return NONE;
  return idx;
}

bool
natsim_nat_fast_forward (NatsimNat *nat, const NatsimNatTrain *trains, guint n)
{
  uint32_t idx[TRAINS_MAX];

  g_return_val_if_fail (n <= TRAINS_MAX, false);
  for (guint i = 0; i < n; i++)
    {
      idx[i] = steady_binding (nat, &trains[i]);
      if (idx[i] == NONE)
        return false;
      for (guint j = 0; j < i; j++)
        if (idx[j] == idx[i])
          return false; /* two schedules for one flow: send them */
    }
  for (guint i = 0; i < n; i++)
    lease_start (nat, idx[i], &trains[i]);
  return true;
}
