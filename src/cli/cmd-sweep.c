/* natsim sweep: a scenario over a grid of parameter values. */
#include <stdio.h>
#include <unistd.h>

#include "cli-private.h"
#include "natsim/error.h"
#include "natsim/sweep.h"

static void
progress (guint done, guint total, void *user_data)
{
  char what[64];

  g_snprintf (what, sizeof what, "sweeping, %u of %u point%s done", done, total,
              total == 1 ? "" : "s");
  cli_progress_update (user_data, total > 0 ? (double) done / total : 1.0, what);
}

/* @formats (already checked) without "html" (--no-html). */
static char *
formats_without_html (const char *formats)
{
  g_auto (GStrv) list = g_strsplit (formats, ",", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; list[i] != NULL; i++)
    if (g_ascii_strcasecmp (g_strstrip (list[i]), "html") != 0 && *list[i] != '\0')
      g_string_append_printf (out, "%s%s", out->len > 0 ? "," : "", list[i]);
  /* Nothing left still means sweep.csv alone, not the JSON default. */
  if (out->len == 0)
    g_string_append (out, "csv");
  return g_string_free (out, FALSE);
}

int
cmd_sweep (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = NULL;
  g_autoptr (NatsimSweep) sw = NULL;
  g_auto (GStrv) sets = NULL;
  g_auto (GStrv) vary = NULL;
  g_autofree char *out_dir = NULL;
  g_autofree char *txt = NULL;
  g_autofree char *formats = NULL;
  gint jobs = 1;
  gboolean quiet = FALSE, no_html = FALSE, mpi = FALSE;
  CliProgress bar;
  GOptionEntry entries[] = {
    { "vary", 'V', 0, G_OPTION_ARG_STRING_ARRAY, &vary,
      "A key and its values: KEY=V1,V2,... or KEY=A..B:STEP (repeatable; the grid is "
      "their Cartesian product)", "KEY=VALUES" },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets,
      "Override a scenario key at every point (repeatable)", "GROUP.KEY=VALUE" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
      "Directory for sweep.csv, sweep.json, sweep.html (default reports/SCENARIO-NAME-sweep)",
      "DIR" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Simulations run in parallel (default 1)", "N" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &formats,
      "Files besides sweep.csv: text (sweep.txt), json, md, html (default "
      NATSIM_REPORT_DEFAULT_FORMATS ")", "LIST" },
    { "no-html", 0, 0, G_OPTION_ARG_NONE, &no_html, "Write no sweep.html", NULL },
    { "mpi", 0, 0, G_OPTION_ARG_NONE, &mpi,
      "Under mpirun or srun: spread the simulations over the processes (rank 0 writes; README, "
      "\"Cluster runs\")", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print no table on stdout", NULL },
    { NULL }
  };

  ctx = g_option_context_new ("SCENARIO.ini - run a scenario over a grid of parameter values");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "KEY is any scenario key as for --set (nat.udp_timeout, population.NAME.count, ...).\n"
    "Values are separated by commas, or by ';' when a value holds commas (address lists);\n"
    "A..B:STEP expands numbers or durations (30s..300s:30s).  Every value and every grid\n"
    "point is checked before anything runs.  Every point uses the scenario's seed (common\n"
    "random numbers); results are identical for any --jobs.  Writes DIR/sweep.csv (one row\n"
    "per point: the varied keys, then each figure's mean and ci95 half-width),\n"
    "and, as --format asks (default " NATSIM_REPORT_DEFAULT_FORMATS "), DIR/sweep.txt (the\n"
    "table), DIR/sweep.json (schema natsim.sweep/1), DIR/sweep.md (the table in Markdown)\n"
    "and DIR/sweep.html (a line chart for one varied key, heat maps for two, when gnuplot\n"
    "is installed).\n"
    "\nExamples:\n"
    "  natsim sweep scenarios/sweep-timeout.ini --vary nat.udp_timeout=30s..300s:30s\n"
    "  natsim sweep scenarios/sweep-timeout.ini --vary nat.port_range=1024-1073,1024-1123 \\\n"
    "      --vary population.flows.flows_per_second=1,2,3 --jobs 2\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if (argc != 2)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "sweep: expected one SCENARIO.ini (see 'natsim sweep --help')");
      return cli_fail (g_steal_pointer (&error));
    }
  if (!cli_check_jobs (jobs, &error) || !cli_check_formats (&formats, &error))
    return cli_fail (g_steal_pointer (&error));
  s = cli_load_scenario (argv[1], sets, &error);
  if (s == NULL)
    return cli_fail (g_steal_pointer (&error));
  sw = natsim_sweep_new (s, (const char *const *) vary, &error);
  if (sw == NULL)
    return cli_fail (g_steal_pointer (&error));
  if (out_dir == NULL)
    out_dir = cli_default_out_dir (argv[1], "-sweep");

  cli_progress_init (&bar, quiet);
  if (!natsim_sweep_run (sw, (guint) jobs, bar.enabled ? progress : NULL, &bar, &error))
    {
      cli_progress_done (&bar);
      return cli_fail (g_steal_pointer (&error));
    }
  cli_progress_done (&bar);

  /* --mpi: rank 0 alone writes. */
  if (!cli_mpi_is_root ())
    return EXIT_OK;
  if (no_html)
    {
      char *f = formats_without_html (formats);
      g_free (formats);
      formats = f;
    }
  if (!natsim_sweep_write_dir (sw, out_dir, formats, &error))
    return cli_fail (g_steal_pointer (&error));
  txt = natsim_sweep_to_text (sw);
  if (!quiet)
    {
      fputs (txt, stdout);
      printf ("\nSweep written to %s/\n", out_dir);
    }
  return EXIT_OK;
}
