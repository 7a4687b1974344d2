/* natsim: NAT engine packet-path benchmark.
 *
 * N live UDP flows (distinct inside endpoints toward 64 servers, Linux
 * preset values, 8 public addresses); each step offers one outbound packet
 * of a random flow (refresh) or, one time in 4, the server's answer
 * (inbound delivery), 1 us apart, so lookups, refreshes and lazy timer
 * re-arming dominate.  Prints packets per second; asserts nothing on time.
 */
#include <stdio.h>
#include <string.h>

#include "natsim/nat.h"

#include "bench-common.h"

static void
run (guint n_flows, guint steps)
{
  uint32_t addrs[8];
  NatsimNatConfig cfg;
  NatsimNat *nat;
  NatsimPacket pkt = { 0 };
  uint64_t s = 88172645463325252ull;
  gint64 t0, t1;
  guint64 forwarded = 0;

  for (guint i = 0; i < 8; i++)
    addrs[i] = 0xcb007101u + i;
  cfg = bench_nat_config (addrs, 8);
  cfg.port_search = NATSIM_SEARCH_FULL;
  cfg.pooling = NATSIM_POOLING_PAIRED;
  cfg.udp_timeout = NATSIM_SEC (300);
  cfg.udp_stream_timeout = NATSIM_SEC (300);
  cfg.tombstone = NATSIM_SEC (3600);
  nat = natsim_nat_new (&cfg, NULL);

  pkt.proto = NATSIM_PROTO_UDP;
  pkt.length = 200;
  /* Create the flows. */
  for (guint i = 0; i < n_flows; i++)
    {
      pkt.time = i;
      pkt.dir = NATSIM_DIR_OUT;
      pkt.src_addr = 0x0a000000u + 1 + i / 16;
      pkt.src_port = (uint16_t) (40000 + i % 16);
      pkt.dst_addr = 0xc6336400u + i % 64;
      pkt.dst_port = 5060;
      natsim_nat_process (nat, &pkt, NULL);
    }
  t0 = g_get_monotonic_time ();
  for (guint k = 0; k < steps; k++)
    {
      uint64_t r = xorshift (&s);
      guint i = (guint) (r % n_flows);
      bool in = ((r >> 40) & 3) == 0;
      uint32_t inside = 0x0a000000u + 1 + i / 16, remote = 0xc6336400u + i % 64;
      uint16_t iport = (uint16_t) (40000 + i % 16);

      pkt.time = n_flows + (NatsimTime) k * 1000;
      pkt.dir = in ? NATSIM_DIR_IN : NATSIM_DIR_OUT;
      pkt.src_addr = in ? remote : inside;
      pkt.src_port = in ? 5060 : iport;
      pkt.dst_addr = in ? inside : remote;
      pkt.dst_port = in ? iport : 5060;
      forwarded += natsim_nat_process (nat, &pkt, NULL) == NATSIM_VERDICT_FORWARDED;
    }
  t1 = g_get_monotonic_time ();
  printf ("nat packet path flows=%u %.1f Mpackets/s (%u packets, %" G_GUINT64_FORMAT
          " forwarded, %" G_GUINT64_FORMAT " live bindings)\n",
          n_flows, steps / ((double) (t1 - t0) / 1e6) / 1e6, steps, forwarded,
          natsim_nat_live_bindings (nat));
  natsim_nat_free (nat);
}

int
main (int argc, char **argv)
{
  bool quick = argc > 1 && strcmp (argv[1], "--quick") == 0;

  run (1000, quick ? 100000 : 5000000);
  run (100000, quick ? 100000 : 5000000);
  if (!quick)
    run (1000000, 5000000);
  return 0;
}
