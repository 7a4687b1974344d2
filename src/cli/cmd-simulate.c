/* natsim simulate: run a scenario and write its reports. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli-private.h"
#include "natsim/error.h"

/* Progress in simulated time over all replications. */
static void
progress (double fraction, guint done, guint total, void *user_data)
{
  char what[64];

  g_snprintf (what, sizeof what, "simulating, %u of %u replication%s done", done, total,
              total == 1 ? "" : "s");
  cli_progress_update (user_data, fraction, what);
}

/* Adds the recommendations that follow from arithmetic on @s. */
static void
add_recommendations (NatsimReport *report, const NatsimScenario *s)
{
  g_autoptr (GArray) recs = natsim_check_recommendations (s);

  natsim_recommendations_extend (report->recommendations, recs);
}

int
cmd_simulate (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = NULL;
  g_autoptr (GPtrArray) runs = NULL;
  g_autoptr (NatsimReport) report = NULL;
  g_auto (GStrv) sets = NULL;
  g_autofree char *out_dir = NULL;
  g_autofree char *formats = NULL;
  g_autofree char *events_path = NULL;
  g_autofree char *seed_arg = NULL;
  g_autofree char *replications = NULL;
  gint jobs = 1;
  gboolean quiet = FALSE, force = FALSE, mpi = FALSE;
  CliEvents events;
  CliProgress bar;
  NatsimSimOptions opts = { 0 };
  GOptionEntry entries[] = {
    { "seed", 0, 0, G_OPTION_ARG_STRING, &seed_arg, "Random seed (overrides [simulation] seed)", "N" },
    { "replications", 'r', 0, G_OPTION_ARG_STRING, &replications,
      "Independent replications (overrides [simulation] replications)", "R" },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets,
      "Override a scenario key, e.g. nat.udp_timeout=30s (repeatable)", "GROUP.KEY=VALUE" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
      "Directory for the reports (default reports/SCENARIO-NAME)", "DIR" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &formats,
      "Report formats to write: text,json,md,html,csv,pdf (default text,json,md,html; pdf needs Chromium)", "LIST" },
    { "events", 'e', 0, G_OPTION_ARG_FILENAME, &events_path,
      "Narrate the NAT's decisions of replication 1 in time order ('-' for stdout)", "FILE" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Replications run in parallel (default 1)", "N" },
    { "mpi", 0, 0, G_OPTION_ARG_NONE, &mpi,
      "Under mpirun or srun: spread the replications over the processes (rank 0 writes; README, "
      "\"Cluster runs\")", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print no summary on stdout", NULL },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force,
      "Run even when the estimated memory exceeds what the machine has available", NULL },
    { NULL }
  };

  ctx = g_option_context_new ("SCENARIO.ini - run a scenario through the NAT model");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Runs the replications of SCENARIO.ini (warm-up excluded from the statistics), prints\n"
    "a summary and writes DIR/report.json (schema natsim.report/1), DIR/report.txt,\n"
    "DIR/report.md and DIR/report.html (charts drawn by gnuplot when it is installed).\n"
    "Results are identical for any --jobs; the same inputs and seed give a byte-identical\n"
    "report.json.  Before running, the memory the run needs is estimated (as natsim\n"
    "check shows); a run that would not fit the machine's available memory is refused\n"
    "(exit 2) unless --force.\n"
    "\nExamples:\n"
    "  natsim simulate scenarios/default.ini\n"
    "  natsim simulate scenarios/erlang-b.ini --replications 20 --jobs 2 --out /tmp/erl\n"
    "  natsim simulate scenarios/classroom-timeout.ini --set nat.udp_timeout=2m --events -\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if (argc != 2)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "simulate: expected one SCENARIO.ini (see 'natsim simulate --help')");
      return cli_fail (g_steal_pointer (&error));
    }
  if (!cli_check_jobs (jobs, &error))
    return cli_fail (g_steal_pointer (&error));

  s = cli_load_scenario (argv[1], sets, &error);
  if (s == NULL)
    return cli_fail (g_steal_pointer (&error));
  if (seed_arg != NULL)
    {
      uint64_t seed;
      g_autofree char *a = NULL;

      if (!cli_parse_seed (seed_arg, &seed, &error))
        return cli_fail (g_steal_pointer (&error));
      a = g_strdup_printf ("simulation.seed=%" G_GUINT64_FORMAT, seed);
      if (!natsim_scenario_set (s, a, &error))
        return cli_fail (g_steal_pointer (&error));
    }
  if (replications != NULL && !cli_set_replications (s, replications, &error))
    return cli_fail (g_steal_pointer (&error));
  if (!natsim_scenario_validate (s, &error))
    return cli_fail (g_steal_pointer (&error));
  if (out_dir == NULL)
    out_dir = cli_default_out_dir (argv[1], "");

  /* Check the formats before spending time on the run. */
  if (!cli_check_formats (&formats, &error))
    {
      g_prefix_error (&error, "--format: ");
      return cli_fail (g_steal_pointer (&error));
    }

  /* Before anything runs: a run that cannot fit in memory would only
   * swap or be killed minutes later. */
  if (!cli_memory_guard (s, (guint) jobs, force, &error))
    return cli_fail (g_steal_pointer (&error));

  /* --mpi: rank 0 alone narrates (replication 1 runs there) and writes. */
  if (!cli_events_open (&events, cli_mpi_is_root () ? events_path : NULL, &error))
    return cli_fail (g_steal_pointer (&error));

  opts.jobs = (guint) jobs;
  opts.events = events.file;
  cli_progress_init (&bar, quiet);
  if (bar.enabled)
    {
      opts.time_progress = progress;
      opts.progress_data = &bar;
    }
  runs = natsim_simulate (s, &opts, &error);
  cli_progress_done (&bar);
  if (!cli_events_close (&events, runs != NULL, runs != NULL ? &error : NULL) || runs == NULL)
    return cli_fail (g_steal_pointer (&error));

  if (!cli_mpi_is_root ())
    return EXIT_OK;
  report = cli_scenario_report ("simulate", argv[1], s, s, runs);
  cli_add_check_warnings (report, s);
  add_recommendations (report, s);

  if (!cli_write_report (report, out_dir, formats, quiet, &error))
    return cli_fail (g_steal_pointer (&error));
  return EXIT_OK;
}
