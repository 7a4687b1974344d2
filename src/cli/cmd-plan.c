/* natsim plan: sizing recommendations for a scenario, with the evidence. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli-private.h"
#include "natsim/error.h"
#include "natsim/plan.h"
#include "natsim/replay.h"

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

/* [nat] for a plan from captures: key defaults, the preset (the last
 * --set nat.preset=NAME, else the default), then every --set nat.KEY=VALUE
 * in order.  Without a scenario only nat.* assignments make sense. */
static NatsimParams *
trace_nat_params (char **sets, GError **error)
{
  g_autoptr (NatsimParams) p = natsim_params_new (natsim_nat_keys);
  g_autofree char *preset_name = g_strdup (natsim_params_get (p, "preset"));
  g_autofree char *origin = NULL;
  const NatsimNatPreset *preset;

  for (guint i = 0; sets != NULL && sets[i] != NULL; i++)
    {
      const char *eq = strchr (sets[i], '=');

      if (!g_str_has_prefix (sets[i], "nat.") || eq == NULL || eq == sets[i] + 4)
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "--set %s: expected nat.KEY=VALUE (plan --trace configures only "
                       "the NAT)", sets[i]);
          return NULL;
        }
      if (strncmp (sets[i] + 4, "preset=", 7) == 0)
        {
          g_free (preset_name);
          preset_name = g_strdup (eq + 1);
        }
    }
  preset = natsim_nat_preset_lookup (preset_name);
  if (preset == NULL)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "--set nat.preset=%s: unknown preset (natsim presets lists them)",
                   preset_name);
      return NULL;
    }
  origin = g_strdup_printf ("preset %s", preset->name);
  for (guint i = 0; preset->values[i] != NULL && preset->values[i + 1] != NULL; i += 2)
    if (!natsim_params_set (p, preset->values[i], preset->values[i + 1], origin, error))
      {
        g_prefix_error (error, "[nat] %s (preset %s): ", preset->values[i], preset->name);
        return NULL;
      }
  for (guint i = 0; sets != NULL && sets[i] != NULL; i++)
    {
      const char *eq = strchr (sets[i], '=');
      g_autofree char *key = g_strndup (sets[i] + 4, (gsize) (eq - sets[i] - 4));

      if (!natsim_params_set (p, key, eq + 1, "--set", error))
        {
          g_prefix_error (error, "--set %s: ", sets[i]);
          return NULL;
        }
    }
  return g_steal_pointer (&p);
}

/* report.json "config" for a plan from captures: the [nat] keys. */
static JsonNode *
trace_config_json (const NatsimParams *p)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "nat");
  json_builder_begin_object (b);
  for (const NatsimKeySpec *k = natsim_params_specs (p); k->name != NULL; k++)
    {
      const char *v = natsim_params_get (p, k->name);

      json_builder_set_member_name (b, k->name);
      if (v != NULL)
        json_builder_add_string_value (b, v);
      else
        json_builder_add_null_value (b);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
add_plan_items (NatsimReport *report, const NatsimPlan *plan)
{
  for (guint i = 0; i < plan->items->len; i++)
    {
      const NatsimPlanItem *it = &g_array_index (plan->items, NatsimPlanItem, i);
      natsim_report_add_recommendation (report, it->id, it->value, it->unit, it->basis, "%s",
                                        it->reason);
    }
}

static void
add_plan_notes (NatsimReport *report, const NatsimPlan *plan)
{
  for (guint i = 0; i < plan->notes->len; i++)
    {
      const NatsimPlanNote *n = &g_array_index (plan->notes, NatsimPlanNote, i);
      natsim_report_add_warning (report, n->id, "%s", n->message);
    }
}

/* natsim plan --trace TRACE...: the report of a plan from captures. */
static NatsimReport *
trace_report (const NatsimPlan *plan, char **traces, GError **error)
{
  g_autoptr (NatsimReport) report = natsim_report_new ("plan");
  NatsimNatConfig cfg;

  if (!natsim_nat_config_from_params (plan->nat, &cfg, error))
    return NULL;
  report->summary = natsim_summarize ((NatsimRunResult *const *) plan->runs->pdata,
                                      plan->runs->len, natsim_replay_class_names (),
                                      cfg.addresses);
  natsim_nat_config_clear (&cfg);
  for (guint i = 0; traces[i] != NULL; i++)
    g_ptr_array_add (report->traces, g_strdup (traces[i]));
  report->seed = 1;
  report->config = trace_config_json (plan->nat);
  add_plan_items (report, plan);
  add_plan_notes (report, plan);
  return g_steal_pointer (&report);
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
  g_auto (GStrv) traces = NULL;
  g_auto (GStrv) insides = NULL;
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
    { "trace", 't', 0, G_OPTION_ARG_FILENAME_ARRAY, &traces,
      "Plan from a capture instead of a scenario (repeatable; merged by time)", "TRACE" },
    { "inside", 'i', 0, G_OPTION_ARG_STRING_ARRAY, &insides,
      "With --trace: inside prefix (repeatable; default RFC 1918, RFC 6598, ULA)", "CIDR" },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets,
      "Override a scenario key, e.g. nat.udp_timeout=30s (repeatable; with --trace only "
      "nat.KEY)", "GROUP.KEY=VALUE" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
      "Directory for the reports (default reports/SCENARIO-NAME-plan)", "DIR" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &formats,
      "Report formats to write (default " NATSIM_REPORT_DEFAULT_FORMATS ")", "LIST" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Replications run in parallel (default 1)", "N" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print no summary on stdout", NULL },
    { NULL }
  };

  ctx = g_option_context_new ("SCENARIO.ini | --trace TRACE... - recommend pool size, port "
                              "blocks, timeouts and keepalives");
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
    "\nWith --trace TRACE... (no scenario) the timeouts come from the captures' idle gaps\n"
    "(natsim analyze: refresh gaps of long-lived flows, DNS and NTP left out; basis trace)\n"
    "and the pool from replays through the NAT configured by --set nat.KEY=VALUE\n"
    "(Erlang B on the measured attempts and holding times, confirmed by replay).\n"
    "\nExamples:\n"
    "  natsim plan scenarios/plan-erlang.ini\n"
    "  natsim plan scenarios/default.ini --target-blocking 0.01% --growth 50% --jobs 4\n"
    "  natsim plan --trace traces/synth-sip-udp.pcap --set nat.udp_timeout=30s\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if ((traces == NULL && argc != 2) || (traces != NULL && argc != 1))
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "plan: expected one SCENARIO.ini or --trace TRACE..., not both (see "
                   "'natsim plan --help')");
      return cli_fail (g_steal_pointer (&error));
    }
  if (traces == NULL && insides != NULL)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "plan: --inside applies only with --trace");
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

  if (isatty (STDERR_FILENO))
    opts.stage = stage;
  if (traces != NULL)
    {
      g_autoptr (NatsimParams) nat = trace_nat_params (sets, &error);
      g_autoptr (NatsimCidrSet) inside = NULL;

      if (nat == NULL)
        return cli_fail (g_steal_pointer (&error));
      if (insides != NULL && insides[0] != NULL)
        {
          inside = natsim_cidr_set_new ();
          for (guint i = 0; insides[i] != NULL; i++)
            if (!natsim_cidr_set_add_string (inside, insides[i], &error))
              {
                g_prefix_error (&error, "--inside %s: ", insides[i]);
                return cli_fail (g_steal_pointer (&error));
              }
        }
      else
        inside = natsim_cidr_set_new_default ();
      plan = natsim_plan_run_trace (nat, (const char *const *) traces, g_strv_length (traces),
                                    inside, &opts, &error);
      if (plan == NULL || (report = trace_report (plan, traces, &error)) == NULL)
        return cli_fail (g_steal_pointer (&error));
      if (out_dir == NULL)
        {
          g_autofree char *base = default_out_dir (traces[0]);
          out_dir = g_steal_pointer (&base);
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
  add_plan_notes (report, plan);

  if (!natsim_report_write_dir (report, out_dir, formats, &error))
    return cli_fail (g_steal_pointer (&error));
  if (!quiet)
    {
      natsim_report_write_text (report, stdout);
      printf ("\nReports written to %s/\n", out_dir);
    }
  return EXIT_OK;
}
