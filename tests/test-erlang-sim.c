/* natsim: the simulator against Erlang B (integration suite).
 *
 * Single-packet UDP flows to one destination, Poisson arrivals, N = 50
 * ports: every binding holds its port for exactly the UDP timeout, so the
 * pool is an Erlang loss system with offered load A = rate x udp_timeout
 * (docs/reference.md section 4).  At 0.8, 1.0 and 1.2 erlang per port the
 * simulated blocking probability must contain Erlang B (by the standard
 * recursion) in its 95 % confidence interval.  Seeds are fixed, so the
 * test is deterministic. */
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

static void
check_load (double erlangs_per_port)
{
  double a = erlangs_per_port * PORTS;
  double rate = a / TIMEOUT_S;
  double expected = natsim_erlang_b (PORTS, a);
  g_autofree char *ini = g_strdup_printf (
    "[simulation]\n"
    "duration = 2h\nwarmup = 10m\nseed = 7\nreplications = 12\ntimeline_interval = 10m\n"
    "[nat]\npreset = linux\naddresses = 203.0.113.1\nport_range = 1024-%u\n"
    "port_search = full\nudp_timeout = 30s\n"
    "[population flows]\nprofile = generic\ncount = 2000\n"
    "flows_per_second = %.17g\npackets_per_flow = 1\ndestinations = 198.51.100.10:5000\n",
    1024 + PORTS - 1, rate);
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = natsim_scenario_load_data (ini, strlen (ini), "erlang.ini", &error);
  g_autoptr (GPtrArray) runs = NULL;
  g_autoptr (NatsimSummary) sum = NULL;
  NatsimSimOptions opts = { .jobs = 2 };
  double mean, half;

  assert_non_null (s);
  assert_true (natsim_scenario_validate (s, &error));
  runs = natsim_simulate (s, &opts, &error);
  assert_non_null (runs);
  sum = natsim_summarize ((NatsimRunResult *const *) runs->pdata, runs->len, NULL,
                          (const uint32_t[]) { 0xcb007101 });
  mean = sum->totals.v[NATSIM_STAT_BLOCKING_PROBABILITY];
  half = sum->ci95.v[NATSIM_STAT_BLOCKING_PROBABILITY];
  print_message ("A/N = %.1f: Erlang B %.5f, simulated %.5f +- %.5f\n", erlangs_per_port,
                 expected, mean, half);
  assert_true (half > 0.0 && half < 0.02);
  assert_true (fabs (mean - expected) <= half);
  /* Peak ports never exceed the pool. */
  assert_true (sum->totals.v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS] <= PORTS);
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
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
