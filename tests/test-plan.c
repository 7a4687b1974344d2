/* natsim: the planner's pieces and the sweep grid (unit suite). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "natsim/error.h"
#include "natsim/plan.h"
#include "natsim/sweep.h"

/* The one timeout-from-gap rule: gap + max(10 %, 5 s), rounded up; the
 * RFC floors unless allowed below them. */
static void
test_timeout_rule (void **state)
{
  assert_float_equal (natsim_timeout_for_gap (3600.0), 3960.0, 0);
  assert_float_equal (natsim_timeout_for_gap (32.49), 38.0, 0);
  assert_float_equal (natsim_timeout_for_gap (10.0), 15.0, 0);
  assert_float_equal (natsim_timeout_for_gap (50.0), 55.0, 0);
  assert_float_equal (natsim_timeout_for_gap (100.0), 110.0, 0);
  assert_true (isnan (natsim_timeout_for_gap (NAN)));
  assert_float_equal (natsim_timeout_recommend (NATSIM_TIMER_UDP, 32.49, false), 120.0, 0);
  assert_float_equal (natsim_timeout_recommend (NATSIM_TIMER_UDP, 32.49, true), 38.0, 0);
  assert_float_equal (natsim_timeout_recommend (NATSIM_TIMER_TCP_ESTABLISHED, 1680.0, false),
                      7440.0, 0);
  assert_float_equal (natsim_timeout_recommend (NATSIM_TIMER_TCP_ESTABLISHED, 1680.0, true),
                      1848.0, 0);
  assert_float_equal (natsim_timeout_recommend (NATSIM_TIMER_UDP_STREAM, 200.0, false), 220.0, 0);
  assert_float_equal (natsim_keepalive_for_timeout (30.0), 24.0, 0);
  assert_string_equal (natsim_timer_info (NATSIM_TIMER_UDP)->key, "udp_timeout");
}

/* A recommendation that fails its target in the verification is not
 * given: its value goes (NAN, null in report.json) and the reason says
 * what was measured; the others stay. */
static void
test_verification_withholds (void **state)
{
  g_autoptr (GArray) recs = natsim_recommendations_new ();
  g_autoptr (NatsimVerification) v = natsim_verification_new ();
  const NatsimRecommendation *r;

  natsim_recommendations_add (recs, "pool.addresses", 3, "addresses", "erlang-b", "Erlang %d", 3);
  natsim_recommendations_add (recs, "pool.ports_per_subscriber", 128, "ports", "simulation", "b");
  natsim_recommendations_add (recs, "timeout.udp", 120, "s", "simulation", "t");
  natsim_recommendations_add (recs, "keepalive.interval", 24, "s", "simulation", "k");
  v->blocking = 0.02;
  v->blocking_ci95 = 0.001;
  v->target_blocking = 0.001;
  v->blocking_ok = FALSE;
  v->losses_ok = TRUE;
  natsim_recommendations_apply_verification (recs, v);
  r = natsim_recommendations_find (recs, "pool.addresses");
  assert_true (isnan (r->value));
  assert_non_null (strstr (r->reason, "Not given"));
  assert_non_null (strstr (r->reason, "Erlang 3"));
  assert_true (isnan (natsim_recommendations_find (recs, "pool.ports_per_subscriber")->value));
  assert_float_equal (natsim_recommendations_find (recs, "timeout.udp")->value, 120, 0);
  assert_float_equal (natsim_recommendations_find (recs, "keepalive.interval")->value, 24, 0);

  /* Losses over the target withhold the timeouts only. */
  {
    g_autoptr (GArray) r2 = natsim_recommendations_new ();

    natsim_recommendations_add (r2, "pool.addresses", 3, "addresses", "erlang-b", "e");
    natsim_recommendations_add (r2, "timeout.udp", 120, "s", "simulation", "t");
    v->blocking_ok = TRUE;
    v->losses_ok = FALSE;
    natsim_recommendations_apply_verification (r2, v);
    assert_float_equal (natsim_recommendations_find (r2, "pool.addresses")->value, 3, 0);
    assert_true (isnan (natsim_recommendations_find (r2, "timeout.udp")->value));
    /* Copies are deep and equal. */
    {
      g_autoptr (GArray) r3 = natsim_recommendations_new ();

      natsim_recommendations_extend (r3, r2);
      assert_int_equal (r3->len, 2);
      assert_string_equal (g_array_index (r3, NatsimRecommendation, 1).reason,
                           g_array_index (r2, NatsimRecommendation, 1).reason);
      assert_ptr_not_equal (g_array_index (r3, NatsimRecommendation, 1).reason,
                            g_array_index (r2, NatsimRecommendation, 1).reason);
    }
  }
}

static void
test_pooled_blocking (void **state)
{
  double a[] = { 80.0 }, w[] = { 1.0 };
  double a2[] = { 40.0, 10.0 }, w2[] = { 0.75, 0.25 };

  /* One destination, one pool: plain Erlang B. */
  assert_float_equal (natsim_plan_pooled_blocking (a, w, 1, 50, 1), natsim_erlang_b (50, 80.0), 1e-15);
  /* k pools carry 1/k of the load each. */
  assert_float_equal (natsim_plan_pooled_blocking (a, w, 1, 50, 3), natsim_erlang_b (50, 80.0 / 3), 1e-15);
  assert_true (natsim_plan_pooled_blocking (a, w, 1, 50, 2) > 0.001);
  assert_true (natsim_plan_pooled_blocking (a, w, 1, 50, 3) < 0.001);
  /* Destinations weigh by their share of the attempts. */
  assert_float_equal (natsim_plan_pooled_blocking (a2, w2, 2, 20, 1),
                      0.75 * natsim_erlang_b (20, 40.0) + 0.25 * natsim_erlang_b (20, 10.0), 1e-15);
  /* Negligible blocking is exactly 0, not a denormal. */
  assert_true (natsim_plan_pooled_blocking (w, w, 1, 64512, 1) == 0.0);
}

static void
test_block_size (void **state)
{
  g_autoptr (GArray) h = g_array_new (FALSE, TRUE, sizeof (double));
  double frac = -1;

  /* Every subscriber peaks at 130 ports: ceil(130 / 64) x 64. */
  g_array_set_size (h, 131);
  g_array_index (h, double, 130) = 100;
  assert_int_equal (natsim_plan_block_size (h, 64, 0.001, &frac), 192);
  assert_float_equal (frac, 0.0, 0);
  assert_int_equal (natsim_plan_block_size (h, 10, 0.001, NULL), 130);
  /* 1 in 1000 above 64 is not below a 0.1 % target; 1 in 1001 is. */
  g_array_set_size (h, 0);
  g_array_set_size (h, 101);
  g_array_index (h, double, 10) = 999;
  g_array_index (h, double, 100) = 1;
  assert_int_equal (natsim_plan_block_size (h, 64, 0.001, &frac), 128);
  g_array_index (h, double, 10) = 1000;
  assert_int_equal (natsim_plan_block_size (h, 64, 0.001, &frac), 64);
  assert_float_equal (frac, 1.0 / 1001, 1e-15);
}

static void
test_format_number (void **state)
{
  char buf[64];

  natsim_format_number (3.0, buf, sizeof buf);
  assert_string_equal (buf, "3");
  natsim_format_number (0.1, buf, sizeof buf);
  assert_string_equal (buf, "0.1");
  natsim_format_number (2.6666399999999999, buf, sizeof buf);
  assert_string_equal (buf, "2.66664");
  natsim_format_number (-0.0, buf, sizeof buf);
  assert_string_equal (buf, "0");
  natsim_format_number (1e-7, buf, sizeof buf);
  assert_string_equal (buf, "1e-07");
}

static void
test_axis_parse (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimSweepAxis) a = natsim_sweep_axis_parse ("nat.udp_timeout=30s..90s:30s", &error);
  g_autoptr (NatsimSweepAxis) b = natsim_sweep_axis_parse ("population.x.flows_per_second=0.1..0.3:0.1", &error);
  g_autoptr (NatsimSweepAxis) c = natsim_sweep_axis_parse ("nat.addresses=203.0.113.1;203.0.113.1,203.0.113.2", &error);
  g_autoptr (NatsimSweepAxis) d = natsim_sweep_axis_parse ("population.p.register_interval=60s..120s", &error);

  assert_non_null (a);
  assert_int_equal (a->values->len, 3);
  assert_string_equal (g_ptr_array_index (a->values, 2), "90s");
  assert_true (a->numeric);
  assert_float_equal (a->x[1], 60.0, 0);
  assert_non_null (b);
  assert_int_equal (b->values->len, 3);
  assert_string_equal (g_ptr_array_index (b->values, 2), "0.3");
  assert_non_null (c);
  assert_int_equal (c->values->len, 2);
  assert_string_equal (g_ptr_array_index (c->values, 1), "203.0.113.1,203.0.113.2");
  assert_false (c->numeric);
  /* A duration range without a step is one value. */
  assert_non_null (d);
  assert_int_equal (d->values->len, 1);

  assert_null (natsim_sweep_axis_parse ("nat.udp_timeout", &error));
  assert_true (g_error_matches (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT));
  g_clear_error (&error);
  assert_null (natsim_sweep_axis_parse ("nat.udp_timeout=90s..30s:30s", &error));
  g_clear_error (&error);
  assert_null (natsim_sweep_axis_parse ("nat.udp_timeout=30s,,60s", &error));
  g_clear_error (&error);
  assert_null (natsim_sweep_axis_parse ("nat.udp_timeout=30s,30s", &error));
  g_clear_error (&error);
}

static const char scenario[] =
  "[simulation]\nduration = 10m\nwarmup = 1m\nreplications = 2\n"
  "[nat]\naddresses = 203.0.113.1\nport_range = 1024-1073\n"
  "[population flows]\nprofile = generic\ncount = 1000\nflows_per_second = 2.5\n";

static void
test_grid (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = natsim_scenario_load_data (scenario, (gsize) -1, "t.ini", &error);
  const char *ok[] = { "nat.udp_timeout=30s,60s", "population.flows.count=10..30:10", NULL };
  const char *bad_key[] = { "nat.udp_timeout=30s", "nat.port_rnage=1024-2047", NULL };
  const char *bad_point[] = { "simulation.warmup=1m,20m", NULL };
  g_autoptr (NatsimSweep) sw = NULL;

  assert_non_null (s);
  sw = natsim_sweep_new (s, ok, &error);
  assert_non_null (sw);
  assert_int_equal (sw->n_points, 6);
  /* The first key varies slowest. */
  assert_string_equal (natsim_sweep_point_value (sw, 0, 0), "30s");
  assert_string_equal (natsim_sweep_point_value (sw, 2, 1), "30");
  assert_string_equal (natsim_sweep_point_value (sw, 3, 0), "60s");
  assert_string_equal (natsim_sweep_point_value (sw, 4, 1), "20");
  assert_null (natsim_sweep_new (s, bad_key, &error));
  assert_true (g_error_matches (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT));
  assert_non_null (strstr (error->message, "port_rnage"));
  g_clear_error (&error);
  assert_null (natsim_sweep_new (s, bad_point, &error));
  assert_non_null (strstr (error->message, "simulation.warmup=20m"));
}

static void
test_growth_and_addresses (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = natsim_scenario_load_data (scenario, (gsize) -1, "t.ini", &error);
  NatsimPopulationSpec *pop;
  g_autofree char *three = NULL;

  assert_non_null (s);
  assert_true (natsim_plan_apply_growth (s, 0.2, &error));
  pop = natsim_scenario_find_population (s, "flows");
  assert_int_equal (natsim_params_get_uint (pop->params, "count"), 1200);
  assert_string_equal (natsim_params_get (pop->params, "flows_per_second"), "3");
  assert_false (natsim_plan_apply_growth (s, -1, &error));
  g_clear_error (&error);
  three = natsim_plan_addresses_value (s, 3);
  assert_string_equal (three, "203.0.113.1,203.0.113.2,203.0.113.3");
}

/* Feeds the tracker one subscriber's bindings and one flow's packets. */
static void
test_usage (void **state)
{
  g_autoptr (NatsimUsage) u = natsim_usage_new (1, 10 * NATSIM_NSEC_PER_SEC,
                                                100 * NATSIM_NSEC_PER_SEC,
                                                3600 * NATSIM_NSEC_PER_SEC, true, 0);
  g_autoptr (NatsimUsageResult) r = NULL;
  NatsimNatEvent ev = { 0 };
  NatsimPacket pkt = { 0 };
  NatsimNatResult res = { 0 };

  ev.type = NATSIM_NAT_EV_BINDING_CREATED;
  ev.proto = NATSIM_PROTO_UDP;
  ev.in_addr = 0x0a000001;
  ev.rem_addr = 0xc6336400;
  ev.rem_port = 5000;
  /* Three ports at t = 20 s, one of them shared by two bindings. */
  for (guint i = 0; i < 4; i++)
    {
      ev.time = 20 * NATSIM_NSEC_PER_SEC;
      ev.in_port = (uint16_t) (40000 + MIN (i, 2));
      ev.ext_port = (uint16_t) (40000 + MIN (i, 2));
      ev.rem_port = (uint16_t) (5000 + i);
      natsim_usage_on_nat_event (&ev, u);
    }
  ev.type = NATSIM_NAT_EV_BINDING_EXPIRED;
  ev.time = 50 * NATSIM_NSEC_PER_SEC;
  ev.in_port = ev.ext_port = 40000;
  ev.rem_port = 5000;
  natsim_usage_on_nat_event (&ev, u);

  pkt.proto = NATSIM_PROTO_UDP;
  pkt.src_addr = 0x0a000002;
  pkt.src_port = 1234;
  pkt.dst_addr = 0xc6336400;
  pkt.dst_port = 5000;
  res.verdict = NATSIM_VERDICT_FORWARDED;
  for (guint t = 20; t <= 80; t += 30)
    {
      pkt.time = t * NATSIM_NSEC_PER_SEC;
      natsim_usage_on_packet (u, &pkt, &res);
    }
  r = natsim_usage_finish (u);
  assert_int_equal (r->peak_hist->len, 4);
  assert_float_equal (g_array_index (r->peak_hist, double, 3), 1.0, 0);
  assert_float_equal (r->subscribers, 1.0, 0);
  /* 3 ports from 20 s to 50 s, then 2 to the end (100 s). */
  assert_float_equal (g_array_index (r->time_hist, double, 3), 30.0, 1e-9);
  assert_float_equal (g_array_index (r->time_hist, double, 2), 50.0, 1e-9);
  assert_int_equal (r->destinations->len, 4);
  assert_float_equal (r->gap_count[NATSIM_GAP_UDP], 2.0, 0);
  assert_float_equal (natsim_usage_gap_quantile (r, NATSIM_GAP_UDP, 0.0), 30.0, 1e-9);
  assert_float_equal (r->flows[NATSIM_GAP_UDP], 1.0, 0);
}

/* The per-subscriber port counts under churn: 200 subscribers take and
 * release thousands of ports (some shared by two bindings) in a
 * pseudo-random order, enough to grow the tracker's port table several
 * times and delete from long probe runs; every subscriber's peak must
 * equal a naive count of its distinct ports in use. */
static void
test_usage_port_churn (void **state)
{
  enum { SUBS = 200, SLOTS = 40, STEPS = 60000 };
  g_autoptr (NatsimUsage) u = natsim_usage_new (1, 0, 1000 * NATSIM_NSEC_PER_SEC,
                                                3600 * NATSIM_NSEC_PER_SEC, true, 0);
  g_autoptr (NatsimUsageResult) r = NULL;
  g_autoptr (GArray) want = g_array_new (FALSE, TRUE, sizeof (double));
  /* refs[s][k]: live bindings of subscriber s on its k-th port. */
  static guint refs[SUBS][SLOTS];
  guint live[SUBS] = { 0 }, peak[SUBS] = { 0 };
  guint64 x = 88172645463325252ULL;
  NatsimNatEvent ev = { 0 };

  memset (refs, 0, sizeof refs);
  ev.proto = NATSIM_PROTO_UDP;
  ev.rem_addr = 0xc6336400;
  for (guint i = 0; i < STEPS; i++)
    {
      guint s, k;
      gboolean up;

      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      s = (guint) (x % SUBS);
      k = (guint) ((x >> 20) % SLOTS);
      /* Ports go up more often than down early on, then balance. */
      up = refs[s][k] == 0 || (refs[s][k] == 1 && ((x >> 40) & 3) == 0);
      if (!up && refs[s][k] == 0)
        continue;
      ev.type = up ? NATSIM_NAT_EV_BINDING_CREATED : NATSIM_NAT_EV_BINDING_EXPIRED;
      ev.time = (NatsimTime) (i + 1) * (NATSIM_NSEC_PER_SEC / 100);
      ev.in_addr = 0x0a000000 + s + 1;
      /* Ports of different subscribers collide in their low bits on
       * purpose: the XOR fold of a 64-bit key would put them together. */
      ev.ext_port = (uint16_t) (1024 + k * 64 + (s & 63));
      ev.addr_index = s % 3;
      ev.rem_port = (uint16_t) (5000 + refs[s][k]);
      natsim_usage_on_nat_event (&ev, u);
      if (up)
        {
          if (refs[s][k]++ == 0 && ++live[s] > peak[s])
            peak[s] = live[s];
        }
      else if (--refs[s][k] == 0)
        live[s]--;
    }
  r = natsim_usage_finish (u);
  for (guint s = 0; s < SUBS; s++)
    if (peak[s] > 0)
      {
        if (peak[s] >= want->len)
          g_array_set_size (want, peak[s] + 1);
        g_array_index (want, double, peak[s]) += 1.0;
      }
  assert_int_equal (r->peak_hist->len, want->len);
  for (guint c = 0; c < want->len; c++)
    assert_float_equal (g_array_index (r->peak_hist, double, c),
                        g_array_index (want, double, c), 0);
  assert_true (want->len > 20);
}

/* With a reply window, a flow's gaps count only once it receives an
 * unsolicited inbound packet; the gaps of a flow that only gets replies
 * are left out. */
static void
test_usage_unsolicited (void **state)
{
  g_autoptr (NatsimUsage) u = natsim_usage_new (1, 10 * NATSIM_NSEC_PER_SEC,
                                                100 * NATSIM_NSEC_PER_SEC,
                                                3600 * NATSIM_NSEC_PER_SEC, true,
                                                5 * NATSIM_NSEC_PER_SEC);
  g_autoptr (NatsimUsageResult) r = NULL;
  NatsimNatResult res = { 0 };
  /* Flow A (port 1000): out, out, out, then in 10 s after the last out.
   * Flow B (port 2000): out, out, then a reply 1 s later. */
  static const struct { uint16_t port; guint t; bool out; } pkts[] = {
    { 1000, 20, true }, { 2000, 20, true }, { 1000, 50, true }, { 2000, 50, true },
    { 2000, 51, false }, { 1000, 80, true }, { 1000, 90, false },
  };

  res.verdict = NATSIM_VERDICT_FORWARDED;
  for (guint i = 0; i < G_N_ELEMENTS (pkts); i++)
    {
      NatsimPacket pkt = { 0 };
      uint32_t in = 0x0a000002, rem = 0xc6336400;

      pkt.proto = NATSIM_PROTO_UDP;
      pkt.time = pkts[i].t * NATSIM_NSEC_PER_SEC;
      pkt.dir = pkts[i].out ? NATSIM_DIR_OUT : NATSIM_DIR_IN;
      pkt.src_addr = pkts[i].out ? in : rem;
      pkt.dst_addr = pkts[i].out ? rem : in;
      pkt.src_port = pkts[i].out ? pkts[i].port : 5000;
      pkt.dst_port = pkts[i].out ? 5000 : pkts[i].port;
      natsim_usage_on_packet (u, &pkt, &res);
    }
  r = natsim_usage_finish (u);
  /* A: 30 s and 30 s held back, then counted with the 10 s gap. */
  assert_float_equal (r->gap_count[NATSIM_GAP_UDP], 3.0, 0);
  assert_float_equal (r->gap_max[NATSIM_GAP_UDP], 30.0, 1e-9);
  /* B: 30 s and 1 s, left out. */
  assert_float_equal (r->ignored_gap_count[NATSIM_GAP_UDP], 2.0, 0);
  assert_float_equal (r->ignored_class_gap_max[NATSIM_GAP_UDP], 30.0, 1e-9);
  assert_float_equal (r->exposed_flows, 1.0, 0);
  assert_float_equal (r->gap_flows, 2.0, 0);
}

/* A packet the NAT did not translate (to its own public address with
 * hairpinning off) is no flow of the subscriber's: no gap, no flow. */
static void
test_usage_not_translated (void **state)
{
  g_autoptr (NatsimUsage) u = natsim_usage_new (1, 0, 100 * NATSIM_NSEC_PER_SEC,
                                                3600 * NATSIM_NSEC_PER_SEC, true, 0);
  g_autoptr (NatsimUsageResult) r = NULL;
  NatsimNatResult res = { 0 };

  res.verdict = NATSIM_VERDICT_NOT_TRANSLATED;
  for (guint t = 10; t <= 40; t += 10)
    {
      NatsimPacket pkt = { 0 };

      pkt.proto = NATSIM_PROTO_UDP;
      pkt.time = t * NATSIM_NSEC_PER_SEC;
      pkt.dir = NATSIM_DIR_OUT;
      pkt.src_addr = 0x0a000002;
      pkt.dst_addr = 0xcb007101;
      pkt.src_port = 1000;
      pkt.dst_port = 5000;
      natsim_usage_on_packet (u, &pkt, &res);
    }
  r = natsim_usage_finish (u);
  assert_float_equal (r->gap_count[NATSIM_GAP_UDP], 0.0, 0);
  assert_float_equal (r->gap_flows, 0.0, 0);
}

/* A plain model of the tracker's idle gaps, for test_usage_flow_churn:
 * one record per live 5-tuple in a hash table, its held-back gaps as
 * values, a flow ended when a packet finds it idle beyond the horizon
 * (the tracker's sweeps must not change the figures). */
typedef struct
{
  guint16    cls;
  guint8     proto, kind;
  gboolean   replied, exposed;
  NatsimTime first, last_out, last_refresh, last_packet;
  GArray    *held; /* double gap, then kind, in pairs */
} RefFlow;

typedef struct
{
  double gap_hist[NATSIM_GAP_N][NATSIM_GAP_BINS];
  double gap_count[NATSIM_GAP_N], gap_max[NATSIM_GAP_N], flows[NATSIM_GAP_N];
  double ignored_gap_count[NATSIM_GAP_N];
  double class_gap_max[2 * NATSIM_GAP_N], ignored_class_gap_max[2 * NATSIM_GAP_N];
  double gap_flows, exposed_flows;
} RefFigures;

static void
ref_flow_free (gpointer p)
{
  RefFlow *f = p;

  g_array_unref (f->held);
  g_free (f);
}

static guint
ref_bin (double gap)
{
  double x;

  if (gap <= NATSIM_GAP_BIN0)
    return 0;
  x = floor (log (gap / NATSIM_GAP_BIN0) / log (NATSIM_GAP_RATIO));
  return x >= NATSIM_GAP_BINS - 1 ? NATSIM_GAP_BINS - 1 : (guint) x;
}

static void
ref_count (RefFigures *r, const RefFlow *f, double gap, guint kind)
{
  r->gap_hist[kind][ref_bin (gap)] += 1;
  r->gap_count[kind] += 1;
  r->gap_max[kind] = MAX (r->gap_max[kind], gap);
  r->class_gap_max[f->cls * NATSIM_GAP_N + kind] = MAX (r->class_gap_max[f->cls * NATSIM_GAP_N + kind], gap);
}

static void
ref_close (RefFigures *r, const RefFlow *f, NatsimTime warmup, NatsimTime end)
{
  if (f->kind < NATSIM_GAP_N && f->last_refresh >= warmup && f->last_refresh < end)
    r->flows[f->kind] += 1;
  for (guint i = 0; i < f->held->len; i += 2)
    {
      double gap = g_array_index (f->held, double, i);
      guint kind = (guint) g_array_index (f->held, double, i + 1);
      double *m = &r->ignored_class_gap_max[f->cls * NATSIM_GAP_N + kind];

      r->ignored_gap_count[kind] += 1;
      *m = MAX (*m, gap);
    }
  r->gap_flows += 1;
  if (f->exposed)
    r->exposed_flows += 1;
}

static guint8
ref_kind (const RefFlow *f, NatsimTime now)
{
  if (f->proto == NATSIM_PROTO_UDP)
    return f->replied && now - f->first > 2 * NATSIM_NSEC_PER_SEC ? NATSIM_GAP_UDP_STREAM
                                                                   : NATSIM_GAP_UDP;
  return f->replied ? NATSIM_GAP_TCP_ESTABLISHED : NATSIM_GAP_N;
}

/* The tracker's idle-gap figures against the plain model, over thousands
 * of flows (the flow table grows several times and deletes from long probe
 * runs): flows with more held-back gaps than fit inline, flows exposed
 * after many of them, flows that end by the horizon (found by the sweep
 * or by their next packet), TCP flows closed by FIN, packets before the
 * warm-up and replies refused by the NAT. */
static void
test_usage_flow_churn (void **state)
{
  enum { ENDPOINTS = 3000, STEPS = 200000 };
  const NatsimTime warmup = 50 * NATSIM_NSEC_PER_SEC, end = 2000 * NATSIM_NSEC_PER_SEC;
  const NatsimTime horizon = 120 * NATSIM_NSEC_PER_SEC, window = 5 * NATSIM_NSEC_PER_SEC;

  for (guint refresh_inbound = 0; refresh_inbound < 2; refresh_inbound++)
    {
      g_autoptr (NatsimUsage) u = natsim_usage_new (2, warmup, end, horizon, refresh_inbound,
                                                    window);
      g_autoptr (NatsimUsageResult) r = NULL;
      g_autoptr (GHashTable) flows = g_hash_table_new_full (g_int64_hash, g_int64_equal,
                                                            g_free, ref_flow_free);
      static RefFigures want;
      guint64 x = 0x2545f4914f6cdd1dULL;
      NatsimTime now = 0;
      guint most_held = 0;
      GHashTableIter it;
      gpointer value;

      memset (&want, 0, sizeof want);
      for (guint i = 0; i < STEPS; i++)
        {
          NatsimPacket pkt = { 0 };
          NatsimNatResult res = { 0 };
          guint e, port;
          gboolean out;
          guint64 key;
          RefFlow *f;

          x ^= x << 13, x ^= x >> 7, x ^= x << 17;
          /* Bursts of packets, now and then a pause longer than the horizon. */
          now += (NatsimTime) ((x >> 8) % 20) * (NATSIM_NSEC_PER_SEC / 1000) +
                 ((x >> 50) == 0 ? 130 * NATSIM_NSEC_PER_SEC : 0);
          /* Half the packets from 40 busy endpoints: long flows holding
           * back many gaps. */
          e = (guint) ((x >> 16) % ((x >> 60) & 1 ? 40 : ENDPOINTS));
          port = 1000 + (guint) ((x >> 32) % 4);
          out = ((x >> 36) % 3) != 0;
          pkt.time = now;
          pkt.proto = e % 5 == 0 ? NATSIM_PROTO_TCP : NATSIM_PROTO_UDP;
          pkt.cls = (uint16_t) (e % 2);
          pkt.dir = out ? NATSIM_DIR_OUT : NATSIM_DIR_IN;
          pkt.src_addr = out ? 0x0a000000 + e : 0xc6336400 + e % 7;
          pkt.dst_addr = out ? 0xc6336400 + e % 7 : 0x0a000000 + e;
          pkt.src_port = (uint16_t) (out ? port : 5000);
          pkt.dst_port = (uint16_t) (out ? 5000 : port);
          if (pkt.proto == NATSIM_PROTO_TCP && ((x >> 40) % 50) == 0)
            pkt.tcp_flags = NATSIM_TCP_FIN;
          res.verdict = ((x >> 44) % 10) == 0 ? NATSIM_VERDICT_BINDING_LOST
                                              : NATSIM_VERDICT_FORWARDED;
          natsim_usage_on_packet (u, &pkt, &res);
          if (now >= end)
            continue;
          key = (guint64) e << 24 | port << 8 | pkt.proto;
          f = g_hash_table_lookup (flows, &key);
          if (f != NULL && now - f->last_packet > horizon)
            {
              ref_close (&want, f, warmup, end);
              g_hash_table_remove (flows, &key);
              f = NULL;
            }
          if (f == NULL)
            {
              if (!out)
                continue;
              f = g_new0 (RefFlow, 1);
              f->held = g_array_new (FALSE, FALSE, sizeof (double));
              f->cls = pkt.cls;
              f->proto = pkt.proto;
              f->first = f->last_out = f->last_refresh = f->last_packet = now;
              f->kind = ref_kind (f, now);
              g_hash_table_insert (flows, g_memdup2 (&key, sizeof key), f);
            }
          else
            {
              if (!out && !f->exposed && now - f->last_out > window)
                {
                  f->exposed = TRUE;
                  for (guint k = 0; k < f->held->len; k += 2)
                    ref_count (&want, f, g_array_index (f->held, double, k),
                               (guint) g_array_index (f->held, double, k + 1));
                  g_array_set_size (f->held, 0);
                }
              if (f->kind < NATSIM_GAP_N && now >= warmup)
                {
                  double gap = natsim_time_to_sec (now - f->last_refresh), kind = f->kind;

                  if (f->exposed)
                    ref_count (&want, f, gap, f->kind);
                  else
                    {
                      g_array_append_val (f->held, gap);
                      g_array_append_val (f->held, kind);
                      most_held = MAX (most_held, f->held->len / 2);
                    }
                }
              f->last_packet = now;
              if (out)
                f->last_out = now;
              if (out || refresh_inbound)
                {
                  f->kind = ref_kind (f, now);
                  f->last_refresh = now;
                }
              if (!out && res.verdict == NATSIM_VERDICT_FORWARDED)
                f->replied = TRUE;
            }
          if (pkt.tcp_flags & NATSIM_TCP_FIN)
            {
              f->kind = NATSIM_GAP_N;
              ref_close (&want, f, warmup, end);
              g_hash_table_remove (flows, &key);
            }
        }
      assert_true (now > end);
      r = natsim_usage_finish (u);
      g_hash_table_iter_init (&it, flows);
      while (g_hash_table_iter_next (&it, NULL, &value))
        ref_close (&want, value, warmup, end);

      assert_true (want.gap_flows > 10000 && want.exposed_flows > 1000);
      assert_true (most_held > 20);
      assert_true (want.ignored_gap_count[NATSIM_GAP_UDP] > 1000);
      assert_true (want.gap_count[NATSIM_GAP_UDP_STREAM] > 1000);
      assert_true (want.gap_count[NATSIM_GAP_TCP_ESTABLISHED] > 100);
      assert_float_equal (r->gap_flows, want.gap_flows, 0);
      assert_float_equal (r->exposed_flows, want.exposed_flows, 0);
      for (guint k = 0; k < NATSIM_GAP_N; k++)
        {
          assert_float_equal (r->gap_count[k], want.gap_count[k], 0);
          assert_float_equal (r->gap_max[k], want.gap_max[k], 0);
          assert_float_equal (r->flows[k], want.flows[k], 0);
          assert_float_equal (r->ignored_gap_count[k], want.ignored_gap_count[k], 0);
          assert_memory_equal (r->gap_hist[k], want.gap_hist[k], sizeof want.gap_hist[k]);
        }
      assert_memory_equal (r->class_gap_max, want.class_gap_max, sizeof want.class_gap_max);
      assert_memory_equal (r->ignored_class_gap_max, want.ignored_class_gap_max,
                           sizeof want.ignored_class_gap_max);
    }
}

/* The stages of a plan, in order. */
static void
collect_stage (const char *message, void *user_data)
{
  g_ptr_array_add (user_data, g_strdup (message));
}

/* The address search simulates each configuration once and settles
 * "k meets the target, k - 1 does not" in two simulations when Erlang B
 * is right or one address generous; the verification and the timeouts'
 * cost reuse what was simulated. */
static void
test_plan_simulates_once (void **state)
{
  static const char ini[] =
    /* Port blocks: 2,004 subscribers with the growth, nearly all holding
     * one of the 1,008 blocks of an address; Erlang B on 2,004 erlang
     * asks for 3 addresses, while 2 hold them all. */
    "[simulation]\nduration = 6m\nwarmup = 1m\nseed = 1\nreplications = 2\n"
    "[nat]\npreset = juniper-pba\naddresses = 203.0.113.1\n"
    "[population subscribers]\nprofile = generic\ncount = 1670\nflows_per_second = 167\n"
    "packets_per_flow = 3\npacket_interval = 1s\nprotocol = udp\ndestination_count = 20\n"
    "destination_choice = random\nreply = every\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = natsim_scenario_load_data (ini, (gsize) -1, "t.ini", &error);
  g_autoptr (GPtrArray) stages = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (NatsimPlan) p = NULL;
  g_autofree char *at = NULL, *below = NULL;
  const NatsimRecommendation *r;
  NatsimPlanOptions opts;
  guint searched = 0;
  gboolean seen_at = FALSE, seen_below = FALSE;

  (void) state;
  assert_non_null (s);
  natsim_plan_options_init (&opts);
  opts.stage = collect_stage;
  opts.stage_data = stages;
  p = natsim_plan_run (s, &opts, &error);
  assert_non_null (p);
  r = natsim_recommendations_find (p->recommendations, "pool.addresses");
  assert_non_null (r);
  assert_false (isnan (r->value));
  assert_true (r->value > 1.0);
  assert_string_equal (r->basis, "simulation"); /* fewer than Erlang B's answer */
  at = g_strdup_printf ("simulating %.0f addresses", r->value);
  below = g_strdup_printf ("simulating %.0f address%s", r->value - 1,
                           r->value - 1 == 1 ? "" : "es");
  for (guint i = 0; i < stages->len; i++)
    {
      const char *m = g_ptr_array_index (stages, i);
      g_auto (GStrv) parts = NULL;

      for (guint j = 0; j < i; j++)
        assert_string_not_equal (m, g_ptr_array_index (stages, j));
      /* A stage may simulate several configurations at once: "simulating
       * 3 addresses (and ahead: simulating 2 addresses; measuring the cost
       * of the timeouts)" (the answer, one fewer and the timeouts' price at
       * the answer, when Erlang B's count less one meets the target). */
      parts = g_strsplit_set (m, "(;)", -1);
      for (guint k = 0; parts[k] != NULL; k++)
        {
          const char *q = g_strstrip (parts[k]);

          if (g_str_has_prefix (q, "and ahead: "))
            q += strlen ("and ahead: ");
          if (!g_str_has_prefix (q, "simulating "))
            continue;
          searched++;
          seen_at |= strcmp (q, at) == 0;
          seen_below |= strcmp (q, below) == 0;
        }
      assert_string_not_equal (m, "measuring the cost of the timeouts");
    }
  /* The answer and one fewer were simulated, and nothing more. */
  assert_true (seen_at);
  assert_true (seen_below);
  assert_int_equal (searched, 2);
  assert_non_null (p->verification);

  /* The price of the timeouts comes from the simulation of the answer with
   * today's timeouts: the same figure as simulating that configuration
   * apart. */
  {
    g_autoptr (NatsimScenario) today = natsim_scenario_copy (p->grown);
    g_autoptr (GPtrArray) runs = NULL;
    g_autofree char *want = NULL;
    NatsimSimOptions so = { 0 };
    double warmup = 60.0, mean = 0.0;
    const NatsimRecommendation *t = natsim_recommendations_find (p->recommendations,
                                                                 "timeout.udp");

    assert_non_null (t);
    for (guint i = 0; i < p->verification->settings->len; i++)
      {
        const char *set = g_ptr_array_index (p->verification->settings, i);

        if (!g_str_has_prefix (set, "nat.udp_timeout=") &&
            !g_str_has_prefix (set, "nat.udp_stream_timeout="))
          assert_true (natsim_scenario_set (today, set, &error));
      }
    assert_true (natsim_scenario_validate (today, &error));
    so.jobs = 2;
    runs = natsim_simulate (today, &so, &error);
    assert_non_null (runs);
    for (guint rep = 0; rep < runs->len; rep++)
      {
        const NatsimRunResult *run = g_ptr_array_index (runs, rep);
        double sum = 0.0;
        guint n = 0;

        for (guint i = 0; i < run->n_intervals; i++)
          if ((i + 1) * run->interval_s > warmup)
            {
              sum += run->tl_ports[i];
              n++;
            }
        mean += sum / n / runs->len;
      }
    want = g_strdup_printf (" instead of %.4g (", mean);
    assert_non_null (strstr (t->reason, want));
  }
}

/* The measurements' simulations count as simulated configurations: with
 * the scenario's own pool equal to the answer (11 addresses, written as
 * the planner writes them) and no port blocks, the search's simulation of
 * 11 addresses is the measurement with the recommended timeouts, and the
 * price of the timeouts at 11 is the first measurement: neither runs
 * again, and the verification's figures are those of simulating that
 * configuration apart. */
static void
test_plan_reuses_measurements (void **state)
{
  g_autoptr (GString) ini = g_string_new (
    "[simulation]\nduration = 40m\nwarmup = 5m\nseed = 1\nreplications = 8\n"
    "timeline_interval = 5m\n[nat]\npreset = linux\nport_range = 1024-1073\n"
    "port_search = full\nudp_timeout = 30s\naddresses = 203.0.113.1");
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = NULL;
  g_autoptr (NatsimScenario) v = NULL;
  g_autoptr (GPtrArray) stages = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) runs = NULL;
  g_autoptr (NatsimPlan) p = NULL;
  g_autofree double *b = NULL;
  const NatsimRecommendation *r;
  NatsimPlanOptions opts;
  NatsimSimOptions so = { 0 };

  (void) state;
  for (guint i = 2; i <= 11; i++)
    g_string_append_printf (ini, ",203.0.113.%u", i);
  g_string_append (ini, "\n[population flows]\nprofile = generic\ncount = 1000\n"
                        "flows_per_second = 2.2222\npackets_per_flow = 1\n"
                        "destinations = 198.51.100.10:5000\n");
  s = natsim_scenario_load_data (ini->str, (gsize) -1, "t.ini", &error);
  assert_non_null (s);
  natsim_plan_options_init (&opts);
  opts.jobs = 2;
  opts.stage = collect_stage;
  opts.stage_data = stages;
  p = natsim_plan_run (s, &opts, &error);
  assert_non_null (p);
  r = natsim_recommendations_find (p->recommendations, "pool.addresses");
  assert_non_null (r);
  assert_float_equal (r->value, 11.0, 0);
  assert_non_null (natsim_recommendations_find (p->recommendations, "timeout.udp"));
  for (guint i = 0; i < stages->len; i++)
    {
      assert_string_not_equal (g_ptr_array_index (stages, i), "simulating 11 addresses");
      assert_string_not_equal (g_ptr_array_index (stages, i),
                               "measuring the cost of the timeouts");
    }
  assert_non_null (p->verification);

  v = natsim_scenario_copy (p->grown);
  for (guint i = 0; i < p->verification->settings->len; i++)
    assert_true (natsim_scenario_set (v, g_ptr_array_index (p->verification->settings, i),
                                      &error));
  assert_true (natsim_scenario_validate (v, &error));
  so.jobs = 2;
  runs = natsim_simulate (v, &so, &error);
  assert_non_null (runs);
  b = g_new0 (double, runs->len);
  for (guint i = 0; i < runs->len; i++)
    b[i] = ((const NatsimRunResult *) g_ptr_array_index (runs, i))
             ->totals.v[NATSIM_STAT_BLOCKING_PROBABILITY];
  assert_int_equal (p->verification->replications, runs->len);
  assert_true (p->verification->blocking > 0.0);
  assert_float_equal (p->verification->blocking, natsim_mean (b, runs->len), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_timeout_rule),
    cmocka_unit_test (test_verification_withholds),
    cmocka_unit_test (test_pooled_blocking),
    cmocka_unit_test (test_block_size),
    cmocka_unit_test (test_format_number),
    cmocka_unit_test (test_axis_parse),
    cmocka_unit_test (test_grid),
    cmocka_unit_test (test_growth_and_addresses),
    cmocka_unit_test (test_usage),
    cmocka_unit_test (test_usage_port_churn),
    cmocka_unit_test (test_usage_unsolicited),
    cmocka_unit_test (test_usage_not_translated),
    cmocka_unit_test (test_usage_flow_churn),
    cmocka_unit_test (test_plan_simulates_once),
    cmocka_unit_test (test_plan_reuses_measurements),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
