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

/* Progress of a plan: each stage on its own line, and within a stage the
 * progress of its simulations with an ETA. */
typedef struct
{
  CliProgress bar;
  guint       n_stage;
  char        what[160];
} PlanProgress;

static void
stage (const char *message, void *user_data)
{
  PlanProgress *p = user_data;

  cli_progress_done (&p->bar);
  p->n_stage++;
  fprintf (stderr, "natsim: plan: stage %u: %s\n", p->n_stage, message);
  fflush (stderr);
  g_snprintf (p->what, sizeof p->what, "plan stage %u (%s)", p->n_stage, message);
  cli_progress_init (&p->bar, FALSE);
}

static void
sim_progress (double fraction, guint done, guint total, void *user_data)
{
  PlanProgress *p = user_data;

  cli_progress_update (&p->bar, fraction, p->what);
}

static void
add_plan_items (NatsimReport *report, const NatsimPlan *plan)
{
  natsim_recommendations_extend (report->recommendations, plan->recommendations);
  g_clear_pointer (&report->verification, natsim_verification_free);
  report->verification = natsim_verification_copy (plan->verification);
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
                                      cfg.addresses, cfg.n_addresses);
  natsim_nat_config_clear (&cfg);
  for (guint i = 0; traces[i] != NULL; i++)
    g_ptr_array_add (report->traces, g_strdup (traces[i]));
  report->seed = 1;
  report->config = natsim_nat_config_to_json (plan->nat);
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
  g_auto (GStrv) traces = NULL;
  g_auto (GStrv) insides = NULL;
  g_autofree char *out_dir = NULL;
  g_autofree char *formats = NULL;
  g_autofree char *target_blocking = NULL;
  g_autofree char *target_loss = NULL;
  g_autofree char *growth = NULL;
  g_autofree char *replications = NULL;
  gint jobs = -1, granularity = 64; /* jobs -1: the default (below) */
  gboolean quiet = FALSE, allow_below_rfc = FALSE, mpi = FALSE;
  PlanProgress progress = { 0 };
  NatsimPlanOptions opts;
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
    { "allow-below-rfc", 0, 0, G_OPTION_ARG_NONE, &allow_below_rfc,
      "Let timeouts go below the RFC minimums (RFC 4787 REQ-5: 120 s for UDP, RFC 5382 "
      "REQ-5: 7440 s for established TCP)", NULL },
    { "replications", 'r', 0, G_OPTION_ARG_STRING, &replications,
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
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs,
      "Replications run in parallel (default: the processors, at most 4; 1 with --mpi)", "N" },
    { "mpi", 0, 0, G_OPTION_ARG_NONE, &mpi,
      "Under mpirun or srun: spread the simulations over the processes (rank 0 writes; README, "
      "\"Cluster runs\")", NULL },
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
    "                            (upper end of the 95 % CI below the target); no value\n"
    "                            when no count meets it, with the reason\n"
    "  pool.ports_per_subscriber smallest port block (multiple of --granularity) that\n"
    "                            holds the per-subscriber peak often enough\n"
    "  pool.block_size, pool.blocks_per_subscriber\n"
    "                            for a port-block NAT: the block x blocks that hold that\n"
    "                            peak, the largest block among those needing the fewest\n"
    "                            addresses (Erlang B on the blocks held)\n"
    "  timeout.udp, timeout.udp_stream, timeout.tcp_established\n"
    "                            shortest timeouts without binding loss (gap + 10 %, at\n"
    "                            least 5 s), never under the RFC minimums unless\n"
    "                            --allow-below-rfc; the cost of a change is measured by\n"
    "                            two simulations\n"
    "  keepalive.interval        the keepalive endpoints need when the NAT cannot change\n"
    "  endpoint.refresh_interval when one class alone needs a long timeout: its refresh\n"
    "                            interval instead, with the cost of the NAT-side fix\n"
    "The pool is sized for the recommended timeouts, and all recommendations are\n"
    "simulated together with the scenario's seeds (\"verification\"); one that fails\n"
    "its target is not given.  Results are identical for any --jobs.\n"
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
  if (traces != NULL && mpi)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "plan: --mpi spreads the simulations of a scenario's plan; a plan from "
                   "--trace replays captures in one process");
      return cli_fail (g_steal_pointer (&error));
    }
  if (traces == NULL && insides != NULL)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "plan: --inside applies only with --trace");
      return cli_fail (g_steal_pointer (&error));
    }
  /* A plan runs half a dozen simulations of every replication, so by
   * default it uses the machine's processors (at most 4, which bounds the
   * memory of replications held at once); results are identical for any
   * --jobs.  Under MPI the processes are the parallelism: one each. */
  if (jobs == -1)
    jobs = mpi ? 1 : (gint) CLAMP (g_get_num_processors (), 1, 4);
  if (!cli_check_jobs (jobs, &error))
    return cli_fail (g_steal_pointer (&error));
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
  opts.allow_below_rfc = allow_below_rfc;
  opts.jobs = (guint) jobs;
  if (!cli_check_formats (&formats, &error))
    return cli_fail (g_steal_pointer (&error));

  cli_progress_init (&progress.bar, quiet);
  if (progress.bar.enabled)
    {
      opts.stage = stage;
      opts.sim_progress = sim_progress;
      opts.stage_data = &progress;
    }
  if (traces != NULL)
    {
      g_autoptr (NatsimParams) nat = cli_nat_params_from_sets (sets, "plan --trace", &error);
      g_autoptr (NatsimCidrSet) inside = NULL;

      if (nat == NULL || (inside = cli_inside_set (insides, &error)) == NULL)
        return cli_fail (g_steal_pointer (&error));
      plan = natsim_plan_run_trace (nat, (const char *const *) traces, g_strv_length (traces),
                                    inside, &opts, &error);
      cli_progress_done (&progress.bar);
      if (plan == NULL || (report = trace_report (plan, traces, &error)) == NULL)
        return cli_fail (g_steal_pointer (&error));
      /* A cut capture or bad timestamps: said on stderr too, as analyze
       * and replay do. */
      if (plan->analysis != NULL &&
          !cli_trace_warnings (natsim_analysis_trace_stats (plan->analysis),
                               (const char *const *) traces, FALSE, &error))
        return cli_fail (g_steal_pointer (&error));
      if (out_dir == NULL)
        out_dir = cli_default_out_dir (traces[0], "-plan");
      if (!cli_write_report (report, out_dir, formats, quiet, &error))
        return cli_fail (g_steal_pointer (&error));
      return EXIT_OK;
    }

  s = cli_load_scenario (argv[1], sets, &error);
  if (s == NULL)
    return cli_fail (g_steal_pointer (&error));
  if (replications != NULL &&
      (!cli_set_replications (s, replications, &error) || !natsim_scenario_validate (s, &error)))
    return cli_fail (g_steal_pointer (&error));
  if (out_dir == NULL)
    out_dir = cli_default_out_dir (argv[1], "-plan");

  plan = natsim_plan_run (s, &opts, &error);
  cli_progress_done (&progress.bar);
  if (plan == NULL)
    return cli_fail (g_steal_pointer (&error));

  /* --mpi: rank 0 alone writes, once every rank got this far. */
  if (!cli_mpi_is_root ())
    return EXIT_OK;
  if (!cli_mpi_gather (&error))
    return cli_fail (g_steal_pointer (&error));
  report = cli_scenario_report ("plan", argv[1], plan->grown, plan->measured,
                                plan->runs);
  add_plan_items (report, plan);
  cli_add_check_warnings (report, plan->grown);
  add_plan_notes (report, plan);

  if (!cli_write_report (report, out_dir, formats, quiet, &error))
    return cli_fail (g_steal_pointer (&error));
  return EXIT_OK;
}
