/* natsim: the collector's open mode (natsim_collector_new_open(),
 * natsim_collector_finish_at()) gives exactly what a closed collector gives
 * with the same end and the final interval: the same packets through two
 * identical NATs, one watched by each, compared figure by figure (timeline
 * merges, growth, the per-address timeline and its cell limit).
 */
#include "nat-harness.h"

#include "natsim/metrics.h"

#define PUB(i) IP4 (203, 0, 113, 1 + (i))

static NatsimNatConfig
config (guint n_addresses, uint16_t ports)
{
  NatsimNatConfig cfg;

  memset (&cfg, 0, sizeof cfg);
  cfg.addresses = g_new (uint32_t, n_addresses);
  for (guint i = 0; i < n_addresses; i++)
    cfg.addresses[i] = PUB (i);
  cfg.n_addresses = n_addresses;
  cfg.port_lo = 5000;
  cfg.port_hi = (uint16_t) (5000 + ports - 1);
  cfg.mapping = NATSIM_MAPPING_EIM;
  cfg.filtering = NATSIM_FILTER_APDF;
  cfg.port_reuse = NATSIM_REUSE_PER_DESTINATION;
  cfg.allocation = NATSIM_ALLOC_SEQUENTIAL;
  cfg.port_search = NATSIM_SEARCH_FULL;
  cfg.pooling = NATSIM_POOLING_PAIRED;
  cfg.udp_timeout = NATSIM_SEC (30);
  cfg.udp_stream_timeout = NATSIM_SEC (120);
  cfg.tcp_established_timeout = NATSIM_SEC (7440);
  cfg.tcp_transitory_timeout = NATSIM_SEC (240);
  cfg.icmp_timeout = NATSIM_SEC (60);
  cfg.refresh = NATSIM_REFRESH_BOTH;
  cfg.tombstone = NATSIM_SEC (600);
  return cfg;
}

/* @n UDP packets spread over [0, @span): a few inside hosts talking to a
 * few servers, replies now and then (some unsolicited). */
static GArray *
traffic (guint n, NatsimTime span, uint64_t seed)
{
  GArray *pkts = g_array_sized_new (FALSE, TRUE, sizeof (NatsimPacket), n);
  GRand *rand = g_rand_new_with_seed ((guint32) seed);
  NatsimTime t = 0;

  for (guint i = 0; i < n; i++)
    {
      NatsimPacket p;
      uint32_t in = IP4 (10, 0, 0, 1 + g_rand_int_range (rand, 0, 6));
      uint16_t in_port = (uint16_t) (40000 + g_rand_int_range (rand, 0, 8));
      uint32_t rem = IP4 (198, 51, 100, 1 + g_rand_int_range (rand, 0, 5));
      uint16_t rem_port = (uint16_t) (1000 + g_rand_int_range (rand, 0, 3));

      memset (&p, 0, sizeof p);
      t += (NatsimTime) (g_rand_double (rand) * 2.0 * (double) span / n);
      p.time = MIN (t, span - 1);
      p.proto = NATSIM_PROTO_UDP;
      p.length = 100;
      p.cls = (uint16_t) g_rand_int_range (rand, 0, 3);
      if (g_rand_int_range (rand, 0, 4) == 0)
        {
          p.dir = NATSIM_DIR_IN;
          p.src_addr = rem;
          p.src_port = rem_port;
          p.dst_addr = PUB (g_rand_int_range (rand, 0, 2));
          p.dst_port = (uint16_t) (5000 + g_rand_int_range (rand, 0, 4));
        }
      else
        {
          p.dir = NATSIM_DIR_OUT;
          p.src_addr = in;
          p.src_port = in_port;
          p.dst_addr = rem;
          p.dst_port = rem_port;
        }
      g_array_append_val (pkts, p);
    }
  g_rand_free (rand);
  return pkts;
}

/* Replays @pkts through a fresh NAT watched by a closed collector (@open
 * false: [0, @end) in buckets of @interval doubled as replay does) or an
 * open one finished at @end. */
static NatsimRunResult *
run (const NatsimNatConfig *cfg, const GArray *pkts, NatsimTime end, NatsimTime interval,
     guint64 max_points, bool open)
{
  g_autoptr (NatsimNat) nat = natsim_nat_new (cfg, NULL);
  g_autoptr (NatsimCollector) c = NULL;
  NatsimRunResult *r;

  if (open)
    c = natsim_collector_new_open (nat, 3, cfg->n_addresses, interval, max_points);
  else
    {
      while (end / interval > max_points)
        interval *= 2;
      c = natsim_collector_new (nat, 3, cfg->n_addresses, 0, end, interval);
    }
  assert_non_null (c);
  natsim_nat_set_observer (nat, natsim_collector_on_nat_event, c);
  for (guint i = 0; i < pkts->len; i++)
    {
      NatsimPacket p = g_array_index (pkts, NatsimPacket, i);
      NatsimNatResult res;

      natsim_collector_advance (c, p.time);
      natsim_nat_process (nat, &p, &res);
      natsim_collector_on_packet (c, &p, &res);
    }
  r = open ? natsim_collector_finish_at (c, end) : natsim_collector_finish (c);
  assert_non_null (r);
  return r;
}

static void
assert_same_doubles (const double *a, const double *b, gsize n, const char *what)
{
  for (gsize i = 0; i < n; i++)
    if (a[i] != b[i])
      fail_msg ("%s[%" G_GSIZE_FORMAT "]: closed %g, open %g", what, i, a[i], b[i]);
}

static void
assert_same_result (const NatsimRunResult *a, const NatsimRunResult *b)
{
  assert_int_equal (a->n_intervals, b->n_intervals);
  assert_true (a->interval_s == b->interval_s);
  assert_int_equal (a->n_classes, b->n_classes);
  assert_int_equal (a->n_addresses, b->n_addresses);
  assert_same_doubles (a->totals.v, b->totals.v, NATSIM_STAT_N, "totals");
  assert_same_doubles ((const double *) a->per_class, (const double *) b->per_class,
                       (gsize) NATSIM_STAT_N * a->n_classes, "per_class");
  assert_same_doubles (a->addr_peak_ports, b->addr_peak_ports, a->n_addresses,
                       "addr_peak_ports");
  assert_same_doubles (a->addr_failures, b->addr_failures, a->n_addresses, "addr_failures");
  assert_same_doubles (a->tl_bindings, b->tl_bindings, a->n_intervals, "tl_bindings");
  assert_same_doubles (a->tl_ports, b->tl_ports, a->n_intervals, "tl_ports");
  assert_same_doubles (a->tl_failures, b->tl_failures, a->n_intervals, "tl_failures");
  assert_true ((a->tl_addr_ports == NULL) == (b->tl_addr_ports == NULL));
  if (a->tl_addr_ports != NULL)
    assert_same_doubles (a->tl_addr_ports, b->tl_addr_ports,
                         (gsize) a->n_addresses * a->n_intervals, "tl_addr_ports");
}

/* Closed and open over the same packets; returns the final bucket count. */
static guint
compare (guint n_addresses, uint16_t ports, guint n_pkts, NatsimTime span, NatsimTime end,
         NatsimTime interval, guint64 max_points, uint64_t seed, bool *ret_addr_tl)
{
  NatsimNatConfig cfg = config (n_addresses, ports);
  g_autoptr (GArray) pkts = traffic (n_pkts, span, seed);
  g_autoptr (NatsimRunResult) closed = NULL;
  g_autoptr (NatsimRunResult) open = NULL;
  guint n;

  closed = run (&cfg, pkts, end, interval, max_points, false);
  open = run (&cfg, pkts, end, interval, max_points, true);
  assert_same_result (closed, open);
  n = closed->n_intervals;
  if (ret_addr_tl != NULL)
    *ret_addr_tl = closed->tl_addr_ports != NULL;
  natsim_nat_config_clear (&cfg);
  return n;
}

/* Many merges: a long run in buckets of 1 s, at most 8 points; ends on and
 * off bucket edges, and where one more doubling is due. */
static void
test_open_merges (void **state)
{
  const NatsimTime s = NATSIM_SEC (1);
  const NatsimTime ends[] = { 1, s - 1, s, s + 1, 8 * s, 9 * s - 1, 9 * s, 9 * s + 1,
                              16 * s, 18 * s, 18 * s - 1, 1000 * s + 7, 4321 * s };

  for (guint i = 0; i < G_N_ELEMENTS (ends); i++)
    for (uint64_t seed = 1; seed <= 3; seed++)
      {
        NatsimTime end = ends[i];
        guint n = compare (2, 4, end > 1 ? 400 : 0, end, end, s, 8, seed, NULL);

        assert_true (n >= 1 && n <= 9);
      }
  /* Packets only early, the end much later (merges at the finish only). */
  compare (2, 4, 300, 20 * s, 5000 * s, s, 8, 7, NULL);
  /* No merge at all. */
  assert_int_equal (compare (3, 4, 500, 600 * s, 600 * s, 60 * s, 1000000, 5, NULL), 10);
}

/* Allocation failures land in merged buckets (a tiny pool). */
static void
test_open_failures (void **state)
{
  NatsimNatConfig cfg = config (1, 2);
  g_autoptr (GArray) pkts = traffic (2000, NATSIM_SEC (3000), 11);
  g_autoptr (NatsimRunResult) closed = run (&cfg, pkts, NATSIM_SEC (3000), NATSIM_SEC (1), 16,
                                            false);
  g_autoptr (NatsimRunResult) open = run (&cfg, pkts, NATSIM_SEC (3000), NATSIM_SEC (1), 16,
                                          true);

  assert_true (closed->totals.v[NATSIM_STAT_ALLOCATION_FAILURES] > 0);
  assert_same_result (closed, open);
  natsim_nat_config_clear (&cfg);
}

/* The per-address timeline's cell limit (NATSIM_TL_ADDR_MAX_CELLS): one
 * address keeps it through a doubling even though the buckets before it
 * exceed the limit; two addresses over the limit at the end lose it. */
static void
test_open_addr_cells (void **state)
{
  const NatsimTime us = NATSIM_NSEC_PER_SEC / 1000000;
  bool kept = false;

  /* 1.5 M buckets of 1 us would be reached: doubled to 750,000 of 2 us. */
  assert_int_equal (compare (1, 8, 3000, 1500000 * us, 1500000 * us, us, 1000000, 3, &kept),
                    750000);
  assert_true (kept);
  /* 1,000,001 buckets at the end: over the limit with one address. */
  compare (1, 8, 3000, 1000000 * us, 1000000 * us + 1, us, 1000000, 4, &kept);
  assert_false (kept);
  /* Two addresses, 600,000 buckets: over the limit. */
  assert_int_equal (compare (2, 8, 3000, 1200000 * us, 1200000 * us, us, 1000000, 5, &kept),
                    600000);
  assert_false (kept);
  /* Two addresses, 400,000 buckets: kept. */
  assert_int_equal (compare (2, 8, 3000, 400000 * us, 400000 * us, us, 1000000, 6, &kept),
                    400000);
  assert_true (kept);
}

static NatsimPacket
udp (NatsimTime t, uint16_t cls, bool out, uint32_t host, uint16_t port, uint8_t kind)
{
  NatsimPacket p;

  memset (&p, 0, sizeof p);
  p.time = t;
  p.proto = NATSIM_PROTO_UDP;
  p.length = 100;
  p.cls = cls;
  p.kind = kind;
  p.dir = out ? NATSIM_DIR_OUT : NATSIM_DIR_IN;
  p.src_addr = out ? host : IP4 (198, 51, 100, 1);
  p.src_port = out ? port : 1000;
  /* Inbound packets in inside addressing (natsim/nat.h). */
  p.dst_addr = out ? IP4 (198, 51, 100, 1) : host;
  p.dst_port = out ? 1000 : port;
  return p;
}

/* Per class, the most ports of one address its live bindings held at
 * once; rebindings and binding losses also counted by flow kind. */
static void
test_class_ports_and_kinds (void **state)
{
  NatsimNatConfig cfg = config (1, 10);
  g_autoptr (NatsimNat) nat = natsim_nat_new (&cfg, NULL);
  g_autoptr (NatsimCollector) c = natsim_collector_new (nat, 3, 1, 0, NATSIM_SEC (300),
                                                        NATSIM_SEC (60));
  g_autoptr (NatsimRunResult) r = NULL;
  const uint32_t a = IP4 (10, 0, 0, 1), b = IP4 (10, 0, 0, 2);
  const NatsimTime s = NATSIM_SEC (1);
  struct
  {
    NatsimTime t;
    uint16_t   cls;
    bool       out;
    uint32_t   host;
    uint16_t   port;
    uint8_t    kind;
  } steps[] = {
    /* Class 0 holds 3 ports, class 1 then 2 (5 in all). */
    { 0, 0, true, a, 40000, NATSIM_FLOW_SIGNALLING },
    { 0, 0, true, a, 40001, NATSIM_FLOW_SIGNALLING },
    { 0, 0, true, a, 40002, NATSIM_FLOW_SIGNALLING },
    { s, 1, true, b, 40000, NATSIM_FLOW_MEDIA },
    { s, 1, true, b, 40001, NATSIM_FLOW_MEDIA },
    /* A keepalive answer to class 0's first port, dead since 30 s. */
    { 50 * s, 0, false, a, 40000, NATSIM_FLOW_KEEPALIVE },
    /* Class 1 comes back with 3 ports, two of them rebindings (an NTP
     * poll and a REGISTER). */
    { 100 * s, 1, true, b, 40000, NATSIM_FLOW_HOUSEKEEPING },
    { 100 * s, 1, true, b, 40001, NATSIM_FLOW_SIGNALLING },
    { 100 * s, 1, true, b, 40002, NATSIM_FLOW_MEDIA },
  };

  natsim_nat_set_observer (nat, natsim_collector_on_nat_event, c);
  for (gsize i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      NatsimPacket p = udp (steps[i].t, steps[i].cls, steps[i].out, steps[i].host,
                            steps[i].port, steps[i].kind);
      NatsimNatResult res;

      natsim_collector_advance (c, p.time);
      natsim_nat_process (nat, &p, &res);
      natsim_collector_on_packet (c, &p, &res);
      if (!steps[i].out)
        assert_int_equal (res.verdict, NATSIM_VERDICT_BINDING_LOST);
    }
  r = natsim_collector_finish (c);
  assert_int_equal ((int) r->totals.v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS], 5);
  assert_int_equal ((int) r->per_class[0].v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS], 3);
  assert_int_equal ((int) r->per_class[1].v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS], 3);
  assert_int_equal ((int) r->per_class[2].v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS], 0);
  assert_int_equal ((int) r->totals.v[NATSIM_STAT_REBINDINGS], 2);
  assert_int_equal ((int) r->totals.v[NATSIM_STAT_REBINDINGS_HOUSEKEEPING], 1);
  assert_int_equal ((int) r->totals.v[NATSIM_STAT_REBINDINGS_SIGNALLING], 1);
  assert_int_equal ((int) r->totals.v[NATSIM_STAT_REBINDINGS_MEDIA], 0);
  assert_int_equal ((int) r->per_class[1].v[NATSIM_STAT_REBINDINGS_HOUSEKEEPING], 1);
  assert_int_equal ((int) r->totals.v[NATSIM_STAT_BINDING_LOSSES], 1);
  assert_int_equal ((int) r->totals.v[NATSIM_STAT_BINDING_LOSSES_KEEPALIVE], 1);
  assert_int_equal ((int) r->per_class[0].v[NATSIM_STAT_BINDING_LOSSES_KEEPALIVE], 1);
  natsim_nat_config_clear (&cfg);
}

/* After a warm-up, a class's peak starts from the ports it holds at the
 * warm-up's end (as the totals' peak does). */
static void
test_class_ports_warmup (void **state)
{
  NatsimNatConfig cfg = config (1, 10);
  g_autoptr (NatsimNat) nat = natsim_nat_new (&cfg, NULL);
  g_autoptr (NatsimCollector) c = natsim_collector_new (nat, 1, 1, NATSIM_SEC (10),
                                                        NATSIM_SEC (60), NATSIM_SEC (10));
  g_autoptr (NatsimRunResult) r = NULL;
  const uint32_t a = IP4 (10, 0, 0, 1);

  natsim_nat_set_observer (nat, natsim_collector_on_nat_event, c);
  for (uint16_t i = 0; i < 4; i++)
    {
      NatsimPacket p = udp (NATSIM_SEC (1), 0, true, a, (uint16_t) (40000 + i), 0);
      NatsimNatResult res;

      natsim_collector_advance (c, p.time);
      natsim_nat_process (nat, &p, &res);
      natsim_collector_on_packet (c, &p, &res);
    }
  r = natsim_collector_finish (c);
  /* Opened in the warm-up, alive at its end (30 s timeout). */
  assert_int_equal ((int) r->per_class[0].v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS], 4);
  assert_int_equal ((int) r->totals.v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS], 4);
  natsim_nat_config_clear (&cfg);
}

/* A fast-forwarded train counts what its packets would, one by one:
 * only ticks inside [warm-up end, run end), per class and in total. */
static void
test_train_counts (void **state)
{
  static const struct
  {
    double next, gap, last;
  } trains[] = {
    { 5, 1, 70 },       /* straddles both edges */
    { 10, 5, 60 },      /* first tick on the warm-up's end (counted), last on the run's (not) */
    { 2, 3, 8 },        /* all in the warm-up */
    { 61, 1, 100 },     /* all after the end */
    { 9.5, 0.5, 59.5 }, /* half-second ticks */
    { 20, 7, 20 },      /* one tick */
    { 3, 13, 55 },      /* first counted tick is not the first */
  };
  NatsimNatConfig cfg = config (1, 10);
  g_autoptr (NatsimNat) nat = natsim_nat_new (&cfg, NULL);
  g_autoptr (NatsimNat) nat_b = natsim_nat_new (&cfg, NULL);
  g_autoptr (NatsimCollector) a = natsim_collector_new (nat, 2, 1, NATSIM_SEC (10),
                                                        NATSIM_SEC (60), NATSIM_SEC (10));
  g_autoptr (NatsimCollector) b = natsim_collector_new (nat_b, 2, 1, NATSIM_SEC (10),
                                                        NATSIM_SEC (60), NATSIM_SEC (10));
  g_autoptr (NatsimRunResult) ra = NULL;
  g_autoptr (NatsimRunResult) rb = NULL;
  NatsimNatResult fwd = { 0 };

  /* Packets are logged until NATSIM_PACKET_LOG_MAX: fill both logs. */
  assert_true (natsim_collector_logs_packets (b));
  for (guint i = 0; i <= NATSIM_PACKET_LOG_MAX; i++)
    {
      NatsimPacket p = udp (NATSIM_SEC (30), 1, true, IP4 (10, 0, 0, 1), 40000, 0);
      natsim_collector_on_packet (a, &p, &fwd);
      natsim_collector_on_packet (b, &p, &fwd);
    }
  assert_false (natsim_collector_logs_packets (b));
  fwd.verdict = NATSIM_VERDICT_FORWARDED;
  for (guint k = 0; k < G_N_ELEMENTS (trains); k++)
    {
      NatsimTime next = (NatsimTime) (trains[k].next * 1e9), gap = (NatsimTime) (trains[k].gap * 1e9);
      NatsimTime last = (NatsimTime) (trains[k].last * 1e9);
      uint16_t cls = (uint16_t) (k % 2);

      for (NatsimTime t = next; t <= last; t += gap)
        {
          NatsimPacket o = udp (t, cls, true, IP4 (10, 0, 0, 2), 40000, 0);
          NatsimPacket i = udp (t, cls, false, IP4 (10, 0, 0, 2), 40000, 0);
          natsim_collector_on_packet (a, &o, &fwd);
          natsim_collector_on_packet (a, &i, &fwd);
        }
      natsim_collector_on_train (b, cls, next, gap, last);
    }
  ra = natsim_collector_finish (a);
  rb = natsim_collector_finish (b);
  assert_true (ra->totals.v[NATSIM_STAT_PACKETS_OUT] > NATSIM_PACKET_LOG_MAX + 100);
  for (guint st = NATSIM_STAT_PACKETS_OUT; st <= NATSIM_STAT_PACKETS_IN; st++)
    {
      assert_true (ra->totals.v[st] == rb->totals.v[st]);
      for (guint c = 0; c < 2; c++)
        assert_true (ra->per_class[c].v[st] == rb->per_class[c].v[st]);
    }
  natsim_nat_config_clear (&cfg);
}

/* Per-class port counts under heavy churn: tens of thousands of
 * (class, address, protocol, port) references taken and dropped in random
 * order, several bindings per port, so the collector's port table grows
 * and deletes from long probe runs; each class's peak must match a plain
 * array of counts kept beside it. */
static void
test_class_ports_churn (void **state)
{
  enum { CLASSES = 3, ADDRS = 4, PORTS = 3000, STEPS = 400000 };
  NatsimNatConfig cfg = config (ADDRS, 10);
  g_autoptr (NatsimNat) nat = natsim_nat_new (&cfg, NULL);
  g_autoptr (NatsimCollector) c = natsim_collector_new (nat, CLASSES, ADDRS, 0,
                                                        NATSIM_SEC (3600), NATSIM_SEC (60));
  g_autoptr (NatsimRunResult) r = NULL;
  g_autofree guint8 *refs = g_new0 (guint8, (gsize) CLASSES * ADDRS * 2 * PORTS);
  guint used[CLASSES][ADDRS][2] = { { { 0 } } };
  guint peak[CLASSES] = { 0 };
  GRand *rand = g_rand_new_with_seed (7);

  for (guint step = 0; step < STEPS; step++)
    {
      NatsimNatEvent ev = { 0 };
      guint cls = (guint) g_rand_int_range (rand, 0, CLASSES);
      guint addr = (guint) g_rand_int_range (rand, 0, ADDRS);
      guint proto = (guint) g_rand_int_range (rand, 0, 2);
      /* Ports drift over the run so entries come and go. */
      guint port = (guint) g_rand_int_range (rand, 0, 1000) + (step / (STEPS / 3)) * 1000;
      guint8 *ref = &refs[((cls * ADDRS + addr) * 2 + proto) * PORTS + port];
      bool create = *ref == 0 || (*ref < 6 && g_rand_boolean (rand));

      ev.type = create ? NATSIM_NAT_EV_BINDING_CREATED : NATSIM_NAT_EV_BINDING_EXPIRED;
      ev.time = NATSIM_MSEC (step);
      ev.proto = proto == 0 ? NATSIM_PROTO_UDP : NATSIM_PROTO_TCP;
      ev.cls = (uint16_t) cls;
      ev.addr_index = addr;
      ev.ext_port = (uint16_t) (1024 + port);
      natsim_collector_on_nat_event (&ev, c);
      if (create)
        {
          if ((*ref)++ == 0 && ++used[cls][addr][proto] > peak[cls])
            peak[cls] = used[cls][addr][proto];
        }
      else if (--(*ref) == 0)
        used[cls][addr][proto]--;
    }
  g_rand_free (rand);
  r = natsim_collector_finish (c);
  for (guint k = 0; k < CLASSES; k++)
    {
      assert_true (peak[k] > 700);
      assert_int_equal ((int) r->per_class[k].v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS],
                        (int) peak[k]);
    }
  natsim_nat_config_clear (&cfg);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_open_merges),
    cmocka_unit_test (test_open_failures),
    cmocka_unit_test (test_open_addr_cells),
    cmocka_unit_test (test_class_ports_and_kinds),
    cmocka_unit_test (test_train_counts),
    cmocka_unit_test (test_class_ports_warmup),
    cmocka_unit_test (test_class_ports_churn),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
