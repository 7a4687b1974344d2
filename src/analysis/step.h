/* natsim: the per-packet step shared by the simulation and replay drivers.
 *
 * Both drivers feed one NAT and one collector with packets in time order;
 * what happens to one packet is the same whether a model or a capture sent
 * it, so it is written once here.  Inline: it runs once per packet.
 */
#pragma once

#include "natsim/metrics.h"
#include "natsim/nat.h"

/* Brings the collector to the packet's time (the NAT's timers fire and the
 * timeline samples the buckets that ended before it), offers the packet to
 * the NAT and records the verdict.  Allocates nothing. */
static inline void
natsim_step_packet (NatsimNat *nat, NatsimCollector *collector, const NatsimPacket *pkt,
                    NatsimNatResult *ret)
{
  natsim_collector_advance (collector, pkt->time);
  natsim_nat_process (nat, pkt, ret);
  natsim_collector_on_packet (collector, pkt, ret);
}
