/* natsim NAT engine: look-ahead hints for packet sources (trace replay).
 *
 * On traffic whose flows interleave at random (a capture of thousands of
 * flows), each packet's inside-index slot and the first record of its
 * endpoint's list (most often the flow's own) are cold: two cache misses
 * that cost more than the rest of the packet path.  A source that reads a
 * few packets ahead asks for both early, in two stages (the slot must be
 * there before the record it names can be found), so the misses overlap
 * with the work on the packets before.  Read-only; the second stage goes
 * by the slot's stored hash and reads no record, so it never waits for
 * the record it asks for.
 */
#include "nat-private.h"

/* The inside endpoint of @pkt's flow, the inside index's key, as
 * process_out() and process_in() look it up (inside addressing). */
static inline uint64_t
endpoint_key (const NatsimPacket *pkt)
{
  NatFlow f;

  nat_flow_of_packet (pkt, &f);
  return key_endpoint (f.proto, f.in_addr, f.in_port);
}

void
natsim_nat_prefetch (const NatsimNat *nat, const NatsimPacket *pkt)
{
  nat_table_prefetch (&nat->inside_index, endpoint_key (pkt), 0);
}

void
natsim_nat_prefetch_binding (const NatsimNat *nat, const NatsimPacket *pkt)
{
  uint32_t idx = nat_table_candidate (&nat->inside_index, endpoint_key (pkt), 0);

  if (idx != NAT_TABLE_NONE)
    {
      const Binding *b = binding_c (nat, idx);

      /* Both ends: a 48-byte record may straddle two cache lines. */
      __builtin_prefetch (b);
      __builtin_prefetch ((const char *) (b + 1) - 1);
    }
}
