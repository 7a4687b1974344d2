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
 * The lazy timer (nat-timers.c) already handles an expiry that moves
 * later, so applying it now changes no timer order and nothing else in
 * the engine.  Nothing else may touch the binding meanwhile: the packets
 * of the flow come only from the train, a hairpin (an inside host sending
 * to one of our public addresses) is refused, and any other refresh
 * before @last (process_public's mapping reuse) would be overwritten by
 * the train's later exchanges, so nat_refresh() ignores it while the
 * record is marked UDP_LEASED.
 */
#include "nat-private.h"

#define TRAINS_MAX 8u

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
  idx = nat_table_get (&nat->flows, key_endpoint (NATSIM_PROTO_UDP, tr->in_addr, tr->in_port),
                       key_remote (tr->rem_addr, tr->rem_port));
  if (idx == NAT_TABLE_NONE)
    return NONE;
  b = binding (nat, idx);
  /* nat_timeout_for(): the stream timeout needs a reply seen before the
   * packet and an entry more than 2 s old at it; a timer due at or before
   * the next exchange runs before it (natsim_nat_advance). */
  if (b->status != B_ALIVE || !b->replied || b->tcp == UDP_LEASED
      || tr->next <= natsim_time_add (b->t0, NATSIM_SEC (2)) || b->expiry <= tr->next)
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
    {
      binding (nat, idx[i])->tcp = UDP_LEASED;
      nat_set_expiry (nat, idx[i],
                      natsim_time_add (trains[i].last, nat->cfg.udp_stream_timeout));
    }
  return true;
}
