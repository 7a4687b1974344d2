/* natsim NAT engine: look-ahead hints for packet sources (trace replay).
 *
 * On traffic whose flows interleave at random (a capture of thousands of
 * flows), each packet's flow table slot and binding are cold: two cache
 * misses that cost more than the rest of the packet path.  A source that
 * reads a few packets ahead asks for both early, in two stages (the slot
 * must be there before the binding it names can be found), so the misses
 * overlap with the work on the packets before.  Read-only; the second
 * stage goes by the slot's stored hash and reads no record, so it never
 * waits for the binding it asks for.
 */
#include "nat-private.h"

/* The flows table's key of @pkt's flow, as process_out() and process_in()
 * look it up (inside addressing). */
static inline void
flow_key (const NatsimPacket *pkt, uint64_t *k1, uint64_t *k2)
{
  NatFlow f;

  nat_flow_of_packet (pkt, &f);
  *k1 = key_endpoint (f.proto, f.in_addr, f.in_port);
  *k2 = key_remote (f.rem_addr, f.rem_port);
}

void
natsim_nat_prefetch (const NatsimNat *nat, const NatsimPacket *pkt)
{
  uint64_t k1, k2;

  flow_key (pkt, &k1, &k2);
  nat_table_prefetch (&nat->inside_index, k1, 0);
}

void
natsim_nat_prefetch_binding (const NatsimNat *nat, const NatsimPacket *pkt)
{
  uint64_t k1, k2;
  uint32_t idx;

  flow_key (pkt, &k1, &k2);
  idx = nat_table_candidate (&nat->inside_index, k1, 0);
  if (idx != NAT_TABLE_NONE)
    {
      const Binding *b = binding_c (nat, idx);

      /* Both ends: records are not aligned to cache lines. */
      __builtin_prefetch (b);
      __builtin_prefetch ((const char *) (b + 1) - 1);
    }
}
