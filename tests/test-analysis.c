/* natsim: tests of analysis/ (Erlang B, statistics, summaries). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "natsim/analysis.h"

/* Fails unless |got - want| <= tol * max(1, |want|). */
static void
check_close (double got, double want, double tol, const char *what)
{
  double scale = fabs (want) > 1.0 ? fabs (want) : 1.0;

  if (!(fabs (got - want) <= tol * scale))
    fail_msg ("%s: got %.17g, want %.17g (tolerance %g)", what, got, want,
              tol);
}

/* Erlang B from its definition, (A^N/N!) / sum_k (A^k/k!): an independent
 * reference for small N (the terms stay far from overflow there). */
static double
erlang_b_direct (guint n, double a)
{
  double term = 1.0, sum = 1.0;

  for (guint k = 1; k <= n; k++)
    {
      term *= a / (double) k;
      sum += term;
    }
  return term / sum;
}

static void
test_erlang_b_known (void **state)
{
  /* Exact values (rational arithmetic, rounded once to double). */
  check_close (natsim_erlang_b (1, 1.0), 0.5, 1e-15, "B(1,1)");
  check_close (natsim_erlang_b (2, 1.0), 0.2, 1e-15, "B(2,1)");
  check_close (natsim_erlang_b (10, 5.0), 0.018384570336648132, 1e-13,
               "B(10,5)");
  check_close (natsim_erlang_b (9, 5.0), 0.03745778597419395, 1e-13,
               "B(9,5)");
  check_close (natsim_erlang_b (50, 40.0), 0.01869067110963225, 1e-12,
               "B(50,40)");
  check_close (natsim_erlang_b (100, 80.0), 0.003992028604553197, 1e-12,
               "B(100,80)");

  /* Boundaries: no server blocks everything, no load blocks nothing. */
  check_close (natsim_erlang_b (0, 3.0), 1.0, 0.0, "B(0,3)");
  check_close (natsim_erlang_b (5, 0.0), 0.0, 0.0, "B(5,0)");
}

static void
test_erlang_b_direct (void **state)
{
  for (guint n = 1; n <= 60; n++)
    for (double a = 0.5; a <= 60.0; a *= 1.7)
      {
        g_autofree char *what = g_strdup_printf ("B(%u,%g)", n, a);

        check_close (natsim_erlang_b (n, a), erlang_b_direct (n, a), 1e-11,
                     what);
      }
}

static void
test_erlang_b_large (void **state)
{
  double b = natsim_erlang_b (10000, 9000.0);
  double b_prev = natsim_erlang_b (9999, 9000.0);
  double b_equal = natsim_erlang_b (10000, 10000.0);

  assert_true (isfinite (b));
  assert_true (b >= 0.0 && b <= 1.0);
  assert_true (b <= b_prev);
  /* For A = N large, B ~ sqrt(2 / (pi N)) = 0.00798 (N = 10000). */
  assert_true (isfinite (b_equal));
  assert_true (b_equal > 0.0075 && b_equal < 0.0085);
  /* Heavy overload: B -> 1 - N/A. */
  check_close (natsim_erlang_b (10000, 20000.0), 0.5, 1e-3, "B(1e4,2e4)");
}

static void
test_erlang_b_servers (void **state)
{
  /* B(9,5) = 0.037458 > 0.02 >= B(10,5) = 0.018385. */
  assert_int_equal (natsim_erlang_b_servers (5.0, 0.02), 10);
  assert_int_equal (natsim_erlang_b_servers (5.0, 0.0374), 10);
  assert_int_equal (natsim_erlang_b_servers (5.0, 0.0375), 9);
  assert_int_equal (natsim_erlang_b_servers (1.0, 0.5), 1);
  assert_int_equal (natsim_erlang_b_servers (1.0, 0.4999), 2);
  assert_int_equal (natsim_erlang_b_servers (0.0, 0.01), 0);
  assert_int_equal (natsim_erlang_b_servers (3.0, 1.0), 0);

  /* The defining property, over a range of loads. */
  for (double a = 0.3; a < 3000.0; a *= 2.3)
    {
      guint n = natsim_erlang_b_servers (a, 0.01);

      assert_true (natsim_erlang_b (n, a) <= 0.01);
      assert_true (n == 0 || natsim_erlang_b (n - 1, a) > 0.01);
    }
}

static void
test_mean_ci (void **state)
{
  double x[10];
  double mean = 5.5, ss = 0.0, s, want;

  for (guint i = 0; i < 10; i++)
    x[i] = (double) (i + 1);
  check_close (natsim_mean (x, 10), 5.5, 1e-15, "mean 1..10");
  check_close (natsim_mean (x, 0), 0.0, 0.0, "mean of nothing");

  /* Sample standard deviation by hand, t(0.975, 9) = 2.262157 from
   * tables. */
  for (guint i = 0; i < 10; i++)
    ss += (x[i] - mean) * (x[i] - mean);
  s = sqrt (ss / 9.0);
  want = 2.262157 * s / sqrt (10.0);
  check_close (natsim_ci95_halfwidth (x, 10), want, 1e-6, "ci95 1..10");
  check_close (want, 2.16585, 1e-5, "hand value");

  /* Two values: t(0.975, 1) = 12.706205. */
  {
    double y[2] = { 10.0, 12.0 };

    check_close (natsim_ci95_halfwidth (y, 2),
                 12.706205 * sqrt (2.0) / sqrt (2.0), 1e-6, "ci95 n=2");
  }

  check_close (natsim_ci95_halfwidth (x, 1), 0.0, 0.0, "ci95 n=1");
  check_close (natsim_ci95_halfwidth (x, 0), 0.0, 0.0, "ci95 n=0");
  {
    double same[4] = { 3.0, 3.0, 3.0, 3.0 };

    check_close (natsim_ci95_halfwidth (same, 4), 0.0, 0.0, "ci95 const");
  }
}

/* A run with 2 classes, 2 addresses and 3 timeline buckets. */
static NatsimRunResult *
make_run (double flows, double failures, double base)
{
  NatsimRunResult *r = g_new0 (NatsimRunResult, 1);

  r->totals.v[NATSIM_STAT_FLOWS] = flows;
  r->totals.v[NATSIM_STAT_ALLOCATION_FAILURES] = failures;
  /* Deliberately wrong: summaries recompute blocking per run. */
  r->totals.v[NATSIM_STAT_BLOCKING_PROBABILITY] = 42.0;
  r->totals.v[NATSIM_STAT_PACKETS_OUT] = base;
  r->totals.v[NATSIM_STAT_UNREACHABLE_SECONDS] = base / 4.0;

  r->n_classes = 2;
  r->per_class = g_new0 (NatsimStats, 2);
  r->per_class[0].v[NATSIM_STAT_FLOWS] = flows;
  r->per_class[0].v[NATSIM_STAT_ALLOCATION_FAILURES] = failures;
  r->per_class[1].v[NATSIM_STAT_FLOWS] = 0.0;
  r->per_class[1].v[NATSIM_STAT_REBINDINGS] = base;

  r->n_addresses = 2;
  r->addr_peak_ports = g_new0 (double, 2);
  r->addr_failures = g_new0 (double, 2);
  r->addr_peak_ports[0] = base;
  r->addr_peak_ports[1] = base + 1.0;
  r->addr_failures[0] = failures;
  r->addr_failures[1] = 0.0;

  r->interval_s = 60.0;
  r->n_intervals = 3;
  r->tl_bindings = g_new0 (double, 3);
  r->tl_ports = g_new0 (double, 3);
  r->tl_failures = g_new0 (double, 3);
  for (guint k = 0; k < 3; k++)
    {
      r->tl_bindings[k] = base + k;
      r->tl_ports[k] = 2.0 * (base + k);
      r->tl_failures[k] = k == 2 ? failures : 0.0;
    }
  return r;
}

static void
test_summarize (void **state)
{
  NatsimRunResult *runs[3];
  const char *names[] = { "phones", "flows" };
  const uint32_t addrs[] = { 0xCB007101u /* 203.0.113.1 */,
                             0x0A0000FFu /* 10.0.0.255 */ };
  g_autoptr (NatsimSummary) s = NULL;
  const NatsimClassSummary *c0, *c1;
  const NatsimAddressSummary *a0, *a1;
  double out[3] = { 10.0, 20.0, 30.0 };

  runs[0] = make_run (10.0, 5.0, 10.0); /* blocking 0.5 */
  runs[1] = make_run (0.0, 0.0, 20.0);  /* no flows: blocking 0 */
  runs[2] = make_run (4.0, 1.0, 30.0);  /* blocking 0.25 */

  s = natsim_summarize (runs, 3, names, addrs, G_N_ELEMENTS (addrs));
  assert_non_null (s);
  assert_int_equal (s->replications, 3);

  check_close (s->totals.v[NATSIM_STAT_FLOWS], 14.0 / 3.0, 1e-15, "flows");
  check_close (s->totals.v[NATSIM_STAT_ALLOCATION_FAILURES], 2.0, 1e-15,
               "failures");
  /* Mean of the per-run ratios (0.5 + 0 + 0.25) / 3, not 6/14. */
  check_close (s->totals.v[NATSIM_STAT_BLOCKING_PROBABILITY], 0.25, 1e-15,
               "blocking");
  check_close (s->totals.v[NATSIM_STAT_PACKETS_OUT], 20.0, 1e-15, "out");
  check_close (s->totals.v[NATSIM_STAT_UNREACHABLE_SECONDS], 5.0, 1e-15,
               "unreachable");
  check_close (s->ci95.v[NATSIM_STAT_PACKETS_OUT],
               natsim_ci95_halfwidth (out, 3), 1e-15, "ci out");
  /* t(0.975, 2) = 4.302653, s = 10, n = 3. */
  check_close (s->ci95.v[NATSIM_STAT_PACKETS_OUT], 4.302653 * 10.0 / sqrt (3),
               1e-6, "ci out by hand");
  check_close (s->ci95.v[NATSIM_STAT_BLOCKING_PROBABILITY],
               4.302653 * 0.25 / sqrt (3), 1e-6, "ci blocking");

  assert_int_equal (s->classes->len, 2);
  c0 = &g_array_index (s->classes, NatsimClassSummary, 0);
  c1 = &g_array_index (s->classes, NatsimClassSummary, 1);
  assert_string_equal (c0->name, "phones");
  assert_string_equal (c1->name, "flows");
  check_close (c0->mean.v[NATSIM_STAT_BLOCKING_PROBABILITY], 0.25, 1e-15,
               "class blocking");
  check_close (c1->mean.v[NATSIM_STAT_BLOCKING_PROBABILITY], 0.0, 0.0,
               "class without flows");
  check_close (c1->mean.v[NATSIM_STAT_REBINDINGS], 20.0, 1e-15,
               "class rebindings");
  check_close (c1->ci95.v[NATSIM_STAT_REBINDINGS],
               natsim_ci95_halfwidth (out, 3), 1e-15, "class ci");

  assert_int_equal (s->addresses->len, 2);
  a0 = &g_array_index (s->addresses, NatsimAddressSummary, 0);
  a1 = &g_array_index (s->addresses, NatsimAddressSummary, 1);
  assert_string_equal (a0->address, "203.0.113.1");
  assert_string_equal (a1->address, "10.0.0.255");
  check_close (a0->peak_ports, 20.0, 1e-15, "peak ports");
  check_close (a1->peak_ports, 21.0, 1e-15, "peak ports 2");
  check_close (a0->allocation_failures, 2.0, 1e-15, "addr failures");

  check_close (s->interval_s, 60.0, 0.0, "interval");
  assert_int_equal (s->tl_bindings->len, 3);
  assert_int_equal (s->tl_ports->len, 3);
  assert_int_equal (s->tl_failures->len, 3);
  for (guint k = 0; k < 3; k++)
    {
      check_close (g_array_index (s->tl_bindings, double, k), 20.0 + k,
                   1e-15, "tl bindings");
      check_close (g_array_index (s->tl_ports, double, k), 40.0 + 2.0 * k,
                   1e-15, "tl ports");
    }
  check_close (g_array_index (s->tl_failures, double, 2), 2.0, 1e-15,
               "tl failures");

  for (guint i = 0; i < 3; i++)
    natsim_run_result_free (runs[i]);
}

static void
test_summarize_single (void **state)
{
  NatsimRunResult *run = make_run (8.0, 2.0, 5.0);
  const uint32_t addrs[] = { 1u, 2u };
  g_autoptr (NatsimSummary) s = natsim_summarize (&run, 1, NULL, addrs, G_N_ELEMENTS (addrs));

  assert_int_equal (s->replications, 1);
  check_close (s->totals.v[NATSIM_STAT_BLOCKING_PROBABILITY], 0.25, 1e-15,
               "blocking");
  for (guint k = 0; k < NATSIM_STAT_N; k++)
    check_close (s->ci95.v[k], 0.0, 0.0, "no ci with one run");
  assert_string_equal (g_array_index (s->classes, NatsimClassSummary,
                                      1).name, "class1");
  assert_string_equal (g_array_index (s->addresses, NatsimAddressSummary,
                                      1).address, "0.0.0.2");
  natsim_run_result_free (run);
  natsim_run_result_free (NULL);
  natsim_summary_free (NULL);
}

static void
test_stat_names (void **state)
{
  static const char *const keys[] = {
    "flows", "bindings_created", "bindings_expired", "peak_bindings",
    "peak_ports_per_address", "allocation_failures", "blocking_probability",
    "binding_losses", "filtered", "rebindings", "unreachable_seconds",
    "packets_out", "packets_in", "packets_dropped", "missed_calls",
    "rebindings_signalling", "rebindings_media", "rebindings_keepalive",
    "rebindings_housekeeping", "binding_losses_signalling", "binding_losses_media",
    "binding_losses_keepalive", "binding_losses_housekeeping",
    "no_free_port", "no_free_block", "subscriber_block_limit",
    "subscriber_port_limit", "address_fallbacks", "peak_blocks_per_address",
    "peak_subscribers_with_blocks",
  };

  assert_int_equal (G_N_ELEMENTS (keys), NATSIM_STAT_N);
  for (guint s = 0; s < NATSIM_STAT_N; s++)
    {
      assert_string_equal (natsim_stat_name (s), keys[s]);
      assert_int_equal (natsim_stat_is_count (s),
                        s != NATSIM_STAT_BLOCKING_PROBABILITY
                          && s != NATSIM_STAT_UNREACHABLE_SECONDS);
    }
  /* The per-kind figures of both bases, and no figure for "other". */
  assert_int_equal (natsim_stat_by_kind (NATSIM_STAT_REBINDINGS, NATSIM_FLOW_SIGNALLING),
                    NATSIM_STAT_REBINDINGS_SIGNALLING);
  assert_int_equal (natsim_stat_by_kind (NATSIM_STAT_REBINDINGS, NATSIM_FLOW_HOUSEKEEPING),
                    NATSIM_STAT_REBINDINGS_HOUSEKEEPING);
  assert_int_equal (natsim_stat_by_kind (NATSIM_STAT_BINDING_LOSSES, NATSIM_FLOW_MEDIA),
                    NATSIM_STAT_BINDING_LOSSES_MEDIA);
  assert_int_equal (natsim_stat_by_kind (NATSIM_STAT_BINDING_LOSSES, NATSIM_FLOW_KEEPALIVE),
                    NATSIM_STAT_BINDING_LOSSES_KEEPALIVE);
  assert_int_equal (natsim_stat_by_kind (NATSIM_STAT_REBINDINGS, NATSIM_FLOW_OTHER),
                    NATSIM_STAT_N);
  assert_string_equal (natsim_flow_kind_name (NATSIM_FLOW_HOUSEKEEPING), "housekeeping");
  assert_string_equal (natsim_flow_kind_name (NATSIM_FLOW_OTHER), "other");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_erlang_b_known),
    cmocka_unit_test (test_erlang_b_direct),
    cmocka_unit_test (test_erlang_b_large),
    cmocka_unit_test (test_erlang_b_servers),
    cmocka_unit_test (test_mean_ci),
    cmocka_unit_test (test_summarize),
    cmocka_unit_test (test_summarize_single),
    cmocka_unit_test (test_stat_names),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
