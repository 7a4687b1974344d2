/* natsim plan: sizing recommendations for a scenario, with the evidence. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli-private.h"
#include "natsim/error.h"
#include "natsim/plan.h"

/* "0.001", "0.1%": a fraction, or a percentage with a '%' suffix. */
static gboolean
parse_fraction (const char *option, const char *text, double *ret, GError **error)
{
  g_autofree char *s = g_strstrip (g_strdup (text));
  gsize len = strlen (s);
  gboolean percent = len > 0 && s[len - 1] == '%';
  char *end = NULL;
  double v;

  if (percent)
    s[--len] = '\0';
  g_strchomp (s);
  v = g_ascii_strtod (s, &end);
  if (*s == '\0' || end == NULL || *end != '\0' || !isfinite (v) || v < 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s: expected a fraction such as 0.001 or a percentage such as 0.1%%, "
                   "got '%s'", option, text);
      return FALSE;
    }
  *ret = percent ? v / 100.0 : v;
  return TRUE;
}

static void
stage (const char *message, void *user_data)
{
  fprintf (stderr, "natsim: plan: %s\n", message);
  fflush (stderr);
}

static char *
default_out_dir (const char *scenario)
{
  g_autofree char *base = g_path_get_basename (scenario);
  char *dot = strrchr (base, '.');

  if (dot != NULL && dot != base)
    *dot = '\0';
  return g_strdup_printf ("reports/%s-plan", base);
}

int
cmd_plan (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = NULL;
  g_autoptr (NatsimPlan) plan = NULL;
  g_autoptr (NatsimReport) report = NULL;
  g_auto (GStrv) sets = NULL;
  g_auto (GStrv) names = NULL;
  g_autofree char *out_dir = NULL;
  g_autofree char *formats = NULL;
  g_autofree char *target_blocking = NULL;
  g_autofree char *target_loss = NULL;
  g_autofree char *growth = NULL;
  gint64 replications = -1;
  gint jobs = 1, granularity = 64;
  gboolean quiet = FALSE;
  NatsimPlanOptions opts;
  GArray *addrs;
  GOptionEntry entries[] = {
    { "target-blocking", 'b', 0, G_OPTION_ARG_STRING, &target_blocking,
      "Highest acceptable blocking probability of new flows, and of a subscriber needing "
      "more ports than its block (default 0.1%)", "P" },
    { "target-loss", 'l', 0, G_OPTION_ARG_STRING, &target_loss,
      "Fraction of idle gaps a timeout may cut (default 0: no binding loss)", "P" },
    { "growth", 'g', 0, G_OPTION_ARG_STRING, &growth,
      "Plan for this much more endpoints and flows (default 20%)", "F" },
    { "granularity", 0, 0, G_OPTION_ARG_INT, &granularity,
      "Port blocks are multiples of this (default 64)", "N" },
    { "replications", 'r', 0, G_OPTION_ARG_INT64, &replications,
      "Independent replications per run (overrides [simulation] replications)", "R" },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets,
      "Override a scenario key, e.g. nat.udp_timeout=30s (repeatable)", "GROUP.KEY=VALUE" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
      "Directory for the reports (default reports/SCENARIO-NAME-plan)", "DIR" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &formats,
      "Report formats to write (default " NATSIM_REPORT_DEFAULT_FORMATS ")", "LIST" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Replications run in parallel (default 1)", "N" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print no summary on stdout", NULL },
    { NULL }
  };

  ctx = g_option_context_new ("SCENARIO.ini - recommend pool size, port blocks, timeouts and "
                              "keepalives");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Runs SCENARIO.ini with --growth applied and measures the mapping attempts, holding\n"
    "times, per-subscriber ports and idle gaps, then recommends (report.json\n"
    "\"recommendations\"):\n"
    "  pool.addresses            fewest public addresses with blocking below the target:\n"
    "                            Erlang B on the measured load, confirmed by simulation\n"
    "                            (upper end of the 95 % CI below the target)\n"
    "  pool.ports_per_subscriber smallest port block (multiple of --granularity) that\n"
    "                            holds the per-subscriber peak often enough\n"
    "  timeout.udp, timeout.udp_stream, timeout.tcp_established\n"
    "                            shortest timeouts without binding loss, port cost of a change\n"
    "  keepalive.interval        the keepalive endpoints need when the NAT cannot change\n"
    "Results are identical for any --jobs.\n"
    "\nExamples:\n"
    "  natsim plan scenarios/plan-erlang.ini\n"
    "  natsim plan scenarios/default.ini --target-blocking 0.01% --growth 50% --jobs 4\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if (argc != 2)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "plan: expected one SCENARIO.ini (see 'natsim plan --help')");
      return cli_fail (g_steal_pointer (&error));
    }
  if (jobs < 1 || jobs > 1024)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--jobs: expected 1 to 1024, got %d", jobs);
      return cli_fail (g_steal_pointer (&error));
    }
  if (granularity < 1 || granularity > 65535)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--granularity: expected 1 to 65535, got %d", granularity);
      return cli_fail (g_steal_pointer (&error));
    }
  natsim_plan_options_init (&opts);
  if ((target_blocking != NULL &&
       !parse_fraction ("--target-blocking", target_blocking, &opts.target_blocking, &error)) ||
      (target_loss != NULL &&
       !parse_fraction ("--target-loss", target_loss, &opts.target_loss, &error)) ||
      (growth != NULL && !parse_fraction ("--growth", growth, &opts.growth, &error)))
    return cli_fail (g_steal_pointer (&error));
  opts.granularity = (guint) granularity;
  opts.jobs = (guint) jobs;
  if (formats == NULL)
    formats = g_strdup (NATSIM_REPORT_DEFAULT_FORMATS);
  if (!natsim_report_check_formats (formats, &error))
    return cli_fail (g_steal_pointer (&error));

  s = cli_load_scenario (argv[1], sets, &error);
  if (s == NULL)
    return cli_fail (g_steal_pointer (&error));
  if (replications != -1)
    {
      g_autofree char *a = g_strdup_printf ("simulation.replications=%" G_GINT64_FORMAT,
                                            replications);
      if (replications < 1 || !natsim_scenario_set (s, a, &error))
        {
          if (error == NULL)
            g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                         "--replications: expected at least 1");
          return cli_fail (g_steal_pointer (&error));
        }
      if (!natsim_scenario_validate (s, &error))
        return cli_fail (g_steal_pointer (&error));
    }
  if (out_dir == NULL)
    out_dir = default_out_dir (argv[1]);
  if (isatty (STDERR_FILENO))
    opts.stage = stage;

  plan = natsim_plan_run (s, &opts, &error);
  if (plan == NULL)
    return cli_fail (g_steal_pointer (&error));

  report = natsim_report_new ("plan");
  names = natsim_scenario_class_names (plan->grown);
  addrs = natsim_params_get_addresses (plan->grown->nat, "addresses");
  report->summary = natsim_summarize ((NatsimRunResult *const *) plan->runs->pdata,
                                      plan->runs->len, (const char *const *) names,
                                      (const uint32_t *) addrs->data);
  g_array_unref (addrs);
  report->scenario = g_strdup (argv[1]);
  report->seed = natsim_params_get_uint (plan->grown->simulation, "seed");
  report->config = natsim_scenario_config_to_json (plan->grown);
  for (guint i = 0; i < plan->items->len; i++)
    {
      const NatsimPlanItem *it = &g_array_index (plan->items, NatsimPlanItem, i);
      natsim_report_add_recommendation (report, it->id, it->value, it->unit, it->basis, "%s",
                                        it->reason);
    }
  {
    g_autoptr (GPtrArray) checks = natsim_check_scenario (plan->grown);
    for (guint i = 0; i < checks->len; i++)
      {
        NatsimCheck *c = g_ptr_array_index (checks, i);
        natsim_report_add_warning (report, c->id, "%s", c->message);
      }
  }
  for (guint i = 0; i < plan->notes->len; i++)
    {
      const NatsimPlanNote *n = &g_array_index (plan->notes, NatsimPlanNote, i);
      natsim_report_add_warning (report, n->id, "%s", n->message);
    }

  if (!natsim_report_write_dir (report, out_dir, formats, &error))
    return cli_fail (g_steal_pointer (&error));
  if (!quiet)
    {
      natsim_report_write_text (report, stdout);
      printf ("\nReports written to %s/\n", out_dir);
    }
  return EXIT_OK;
}
