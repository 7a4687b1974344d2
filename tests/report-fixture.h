/* natsim: the small hand-built report of the report tests
 * (test-report.c, test-html.c), and golden-file comparison. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <string.h>

#include "natsim/report.h"

G_GNUC_UNUSED static const char *const config_json
  = "{\"nat\": {\"preset\": \"linux\", \"port_range\": \"1024-1033\","
    " \"udp_timeout\": \"30s\"},"
    " \"populations\": [{\"name\": \"phones\", \"profile\": \"cisco-mpp\","
    " \"count\": \"2000\"}],"
    " \"simulation\": {\"duration\": \"1h\", \"seed\": \"7\"}}";

/* One replication's figures; @k varies them between the two runs. */
G_GNUC_UNUSED static NatsimRunResult *
make_run (double k)
{
  NatsimRunResult *r = g_new0 (NatsimRunResult, 1);
  NatsimStats *t = &r->totals;

  t->v[NATSIM_STAT_FLOWS] = 30.0;
  t->v[NATSIM_STAT_BINDINGS_CREATED] = 10.0;
  t->v[NATSIM_STAT_BINDINGS_EXPIRED] = 4.0;
  t->v[NATSIM_STAT_PEAK_BINDINGS] = 10.0 + k;         /* mean 10.5 */
  t->v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS] = 5.0;
  t->v[NATSIM_STAT_ALLOCATION_FAILURES] = 19.0 + 2.0 * k; /* mean 20 */
  t->v[NATSIM_STAT_BINDING_LOSSES] = 3.0;
  t->v[NATSIM_STAT_FILTERED] = 1.0;
  t->v[NATSIM_STAT_REBINDINGS] = 2.0;
  t->v[NATSIM_STAT_UNREACHABLE_SECONDS] = 100.0;
  t->v[NATSIM_STAT_PACKETS_OUT] = 100.0;
  t->v[NATSIM_STAT_PACKETS_IN] = 80.0;
  t->v[NATSIM_STAT_PACKETS_DROPPED] = 24.0;

  r->n_classes = 2;
  r->per_class = g_new0 (NatsimStats, 2);
  r->per_class[0] = *t;
  r->per_class[0].v[NATSIM_STAT_UNREACHABLE_SECONDS] = 99.9;
  r->per_class[1].v[NATSIM_STAT_UNREACHABLE_SECONDS] = 0.1;

  r->n_addresses = 2;
  r->addr_peak_ports = g_new0 (double, 2);
  r->addr_failures = g_new0 (double, 2);
  r->addr_peak_ports[0] = 5.0;
  r->addr_peak_ports[1] = 4.0 + k; /* mean 4.5 */
  r->addr_failures[0] = 19.0 + 2.0 * k;
  r->addr_failures[1] = 0.0;

  r->interval_s = 60.0;
  r->n_intervals = 3;
  r->tl_bindings = g_new0 (double, 3);
  r->tl_ports = g_new0 (double, 3);
  r->tl_failures = g_new0 (double, 3);
  for (guint i = 0; i < 3; i++)
    {
      r->tl_bindings[i] = 3.0 * i + k;
      r->tl_ports[i] = 3.0 * i;
      r->tl_failures[i] = i == 2 ? 19.0 + 2.0 * k : 0.0;
    }
  /* Per address: address 1 fills up, address 2 follows (mean 0.5, 2.5, 4.5). */
  r->tl_addr_ports = g_new0 (double, 2 * 3);
  for (guint i = 0; i < 3; i++)
    {
      r->tl_addr_ports[0 * 3 + i] = 2.0 * i + (i > 0 ? 1.0 : 0.0);
      r->tl_addr_ports[1 * 3 + i] = 2.0 * i + k;
    }
  return r;
}

/* A report as `natsim simulate` would make it, two replications.  The CI
 * half-widths are then set by hand so that the golden file does not depend
 * on the last digit of GSL's t quantile, and so that they exercise the
 * number formats. */
G_GNUC_UNUSED static NatsimReport *
make_report (void)
{
  NatsimReport *r = natsim_report_new ("simulate");
  NatsimRunResult *runs[2] = { make_run (0.0), make_run (1.0) };
  const char *const names[] = { "phones", "apps" };
  const uint32_t addrs[] = { 0xCB007101u, 0xCB007102u };
  g_autoptr (GError) error = NULL;
  NatsimStats *ci;

  r->scenario = g_strdup ("scenarios/x.ini");
  r->seed = 7;
  r->config = json_from_string (config_json, &error);
  g_assert_no_error (error);
  r->summary = natsim_summarize (runs, 2, names, addrs, G_N_ELEMENTS (addrs));
  natsim_run_result_free (runs[0]);
  natsim_run_result_free (runs[1]);

  ci = &r->summary->ci95;
  for (guint s = 0; s < NATSIM_STAT_N; s++)
    ci->v[s] = 0.0;
  ci->v[NATSIM_STAT_FLOWS] = 0.0;
  ci->v[NATSIM_STAT_PEAK_BINDINGS] = 6.353102368087354;
  ci->v[NATSIM_STAT_ALLOCATION_FAILURES] = 1.3;
  ci->v[NATSIM_STAT_BLOCKING_PROBABILITY] = 0.1;
  ci->v[NATSIM_STAT_UNREACHABLE_SECONDS] = 1e-05;
  ci->v[NATSIM_STAT_PACKETS_OUT] = 150.0;

  natsim_report_add_recommendation (r, "pool.addresses", 3.0, "addresses",
                                    "erlang-b",
                                    "%u ports per address at %.0f Erlang "
                                    "keep blocking below %g %%",
                                    64512u, 150000.0, 1.0);
  natsim_report_add_recommendation (r, "keepalive.interval", 22.5, "s",
                                    "simulation",
                                    "below the UDP timeout of %d s", 30);
  natsim_report_add_warning (r, "rfc4787.req5",
                             "UDP timeout %d s is below the 2 min minimum",
                             30);
  natsim_report_add_warning (r, "test.escaping",
                             "a \"quoted\"\tword, a back\\slash and\na line");
  return r;
}

G_GNUC_UNUSED static char *
data_path (const char *name)
{
  const char *dir = g_getenv ("NATSIM_DATA");

  if (dir == NULL)
    fail_msg ("NATSIM_DATA is not set (run the test through meson test)");
  return g_build_filename (dir, name, NULL);
}

/* Compares @actual with the golden file @name, or rewrites it when
 * NATSIM_UPDATE_GOLDEN is set. */
G_GNUC_UNUSED static void
check_golden (const char *actual, const char *name)
{
  g_autofree char *path = data_path (name);
  g_autofree char *expected = NULL;
  g_autoptr (GError) error = NULL;

  if (g_getenv ("NATSIM_UPDATE_GOLDEN") != NULL)
    {
      g_assert_true (g_file_set_contents (path, actual, -1, &error));
      g_assert_no_error (error);
    }
  if (!g_file_get_contents (path, &expected, NULL, &error))
    fail_msg ("%s: %s", path, error->message);
  if (strcmp (actual, expected) != 0)
    {
      g_autofree char *got = g_strconcat (name, ".actual", NULL);

      g_file_set_contents (got, actual, -1, NULL);
      fail_msg ("output differs from %s; actual output written to %s "
                "(diff them)", path, got);
    }
}

/* Removes @path and, for a directory, what it holds (test trees only). */
G_GNUC_UNUSED static void
remove_tree (const char *path)
{
  GDir *d = g_dir_open (path, 0, NULL);

  if (d != NULL)
    {
      const char *name;

      while ((name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
      g_dir_close (d);
      g_rmdir (path);
    }
  else
    g_unlink (path);
}
