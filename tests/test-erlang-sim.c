/* natsim: the simulator against Erlang B (integration suite).
 *
 * Single-packet UDP flows to one destination, Poisson arrivals, N = 50
 * ports: every binding holds its port for exactly the UDP timeout, so the
 * pool is an Erlang loss system with offered load A = rate x udp_timeout
 * (docs/reference.md section 4).  At 0.8, 1.0 and 1.2 erlang per port the
 * simulated blocking probability must contain Erlang B (by the standard
 * recursion) in its 95 % confidence interval.  Seeds are fixed, so the
 * test is deterministic.  With first-fit address selection, k addresses
 * toward one remote endpoint must behave as one pool of k x N ports. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "natsim/analysis.h"
#include "natsim/simulate.h"

#include <math.h>
#include <string.h>

#define PORTS 50
#define TIMEOUT_S 30.0

/* Simulates @k addresses of PORTS ports each at @erlangs_per_port with
 * address selection @selection; returns the summary. */
static NatsimSummary *
simulate_pool (guint k, double erlangs_per_port, const char *selection)
{
  double a = erlangs_per_port * PORTS * k;
  double rate = a / TIMEOUT_S;
  g_autofree char *ini = g_strdup_printf (
    "[simulation]\n"
    "duration = 2h\nwarmup = 10m\nseed = 7\nreplications = 12\ntimeline_interval = 10m\n"
    "[nat]\npreset = linux\naddresses = 203.0.113.1-203.0.113.%u\nport_range = 1024-%u\n"
    "port_search = full\nudp_timeout = 30s\naddress_selection = %s\n"
    "[population flows]\nprofile = generic\ncount = 2000\n"
    "flows_per_second = %.17g\npackets_per_flow = 1\ndestinations = 198.51.100.10:5000\n",
    k, 1024 + PORTS - 1, selection, rate);
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = natsim_scenario_load_data (ini, strlen (ini), "erlang.ini", &error);
  g_autoptr (GPtrArray) runs = NULL;
  g_autofree uint32_t *addrs = g_new (uint32_t, k);
  NatsimSimOptions opts = { .jobs = 2 };

  assert_non_null (s);
  assert_true (natsim_scenario_validate (s, &error));
  runs = natsim_simulate (s, &opts, &error);
  assert_non_null (runs);
  for (guint i = 0; i < k; i++)
    addrs[i] = 0xcb007101 + i;
  return natsim_summarize ((NatsimRunResult *const *) runs->pdata, runs->len, NULL, addrs, k);
}

static void
check_load (double erlangs_per_port)
{
  double expected = natsim_erlang_b (PORTS, erlangs_per_port * PORTS);
  g_autoptr (NatsimSummary) sum = simulate_pool (1, erlangs_per_port, "hash");
  double mean, half;

  mean = sum->totals.v[NATSIM_STAT_BLOCKING_PROBABILITY];
  half = sum->ci95.v[NATSIM_STAT_BLOCKING_PROBABILITY];
  print_message ("A/N = %.1f: Erlang B %.5f, simulated %.5f +- %.5f\n", erlangs_per_port,
                 expected, mean, half);
  assert_true (half > 0.0 && half < 0.02);
  assert_true (fabs (mean - expected) <= half);
  /* Peak ports never exceed the pool. */
  assert_true (sum->totals.v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS] <= PORTS);
}

/* first-fit: k addresses of N ports toward ONE remote endpoint are one
 * loss system of k x N servers (a flow is refused only when every address
 * is full toward it), so blocking is Erlang B (k N, A).  hash splits the
 * same load into k pools of N ports, each refusing on its own: more
 * blocking. */
static void
test_erlang_first_fit (void **state)
{
  const guint k = 3;
  double expected = natsim_erlang_b (k * PORTS, 1.0 * PORTS * k);
  g_autoptr (NatsimSummary) ff = simulate_pool (k, 1.0, "first-fit");
  g_autoptr (NatsimSummary) hash = simulate_pool (k, 1.0, "hash");
  double mean = ff->totals.v[NATSIM_STAT_BLOCKING_PROBABILITY];
  double half = ff->ci95.v[NATSIM_STAT_BLOCKING_PROBABILITY];
  double hmean = hash->totals.v[NATSIM_STAT_BLOCKING_PROBABILITY];
  double hhalf = hash->ci95.v[NATSIM_STAT_BLOCKING_PROBABILITY];

  print_message ("first-fit %u x %u ports: Erlang B(%u) %.5f, simulated %.5f +- %.5f; "
                 "hash %.5f +- %.5f\n", k, PORTS, k * PORTS, expected, mean, half, hmean, hhalf);
  assert_true (half > 0.0 && half < 0.02);
  assert_true (fabs (mean - expected) <= half);
  assert_true (hmean - hhalf > mean + half);
  /* first-fit fills address 0 first: it is full at the peak. */
  assert_true (g_array_index (ff->addresses, NatsimAddressSummary, 0).peak_ports == PORTS);
  assert_true (ff->totals.v[NATSIM_STAT_ADDRESS_FALLBACKS] > 0);
  assert_true (hash->totals.v[NATSIM_STAT_ADDRESS_FALLBACKS] == 0);
}

static void
test_erlang_08 (void **state)
{
  check_load (0.8);
}

static void
test_erlang_10 (void **state)
{
  check_load (1.0);
}

static void
test_erlang_12 (void **state)
{
  check_load (1.2);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_erlang_08),
    cmocka_unit_test (test_erlang_10),
    cmocka_unit_test (test_erlang_12),
    cmocka_unit_test (test_erlang_first_fit),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
