/* natsim sweep: a scenario over a grid of parameter values. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "cli-private.h"
#include "natsim/charts.h"
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

/* The figures charted and tabulated, in this order. */
static const NatsimStat shown[] = {
  NATSIM_STAT_BLOCKING_PROBABILITY,
  NATSIM_STAT_PEAK_PORTS_PER_ADDRESS,
  NATSIM_STAT_BINDING_LOSSES,
  NATSIM_STAT_REBINDINGS,
};

static double
point_value (const NatsimSweep *sw, guint p, NatsimStat k)
{
  return ((const NatsimSummary *) g_ptr_array_index (sw->summaries, p))->totals.v[k];
}

/* An axis's x values: its numbers when numeric, else 1, 2, 3, ... */
static double *
axis_x (const NatsimSweepAxis *a)
{
  double *x = g_new0 (double, a->values->len);

  for (guint i = 0; i < a->values->len; i++)
    x[i] = a->numeric ? a->x[i] : (double) (i + 1);
  return x;
}

static gboolean
increasing (const double *x, guint n)
{
  for (guint i = 1; i < n; i++)
    if (!(x[i] > x[i - 1]))
      return FALSE;
  return TRUE;
}

/* One chart of figure @k over the grid: a line per value of the other
 * axes for one axis, a heat map for two; NULL with @error otherwise. */
static char *
chart_svg (const NatsimSweep *sw, NatsimStat k, guint index, GError **error)
{
  g_autofree char *prefix = g_strdup_printf ("s%u", index);
  const char *name = natsim_stat_name (k);

  if (sw->axes->len == 1)
    {
      const NatsimSweepAxis *a = g_ptr_array_index (sw->axes, 0);
      g_autofree double *x = axis_x (a);
      g_autofree double *y = g_new0 (double, sw->n_points);
      NatsimChartSeries series = { name, y };
      NatsimLineChart chart = { 0 };

      if (!increasing (x, a->values->len))
        {
          g_set_error (error, NATSIM_CHART_ERROR, NATSIM_CHART_ERROR_INVALID,
                       "the values of %s are not increasing", a->key);
          return NULL;
        }
      for (guint p = 0; p < sw->n_points; p++)
        y[p] = point_value (sw, p, k);
      chart.title = name;
      chart.x_label = a->key;
      chart.y_label = name;
      chart.x = x;
      chart.n_x = sw->n_points;
      chart.series = &series;
      chart.n_series = 1;
      chart.style = NATSIM_CHART_LINES;
      chart.y_from_zero = TRUE;
      return natsim_chart_line_svg (&chart, prefix, error);
    }
  if (sw->axes->len == 2)
    {
      const NatsimSweepAxis *ax = g_ptr_array_index (sw->axes, 1);
      const NatsimSweepAxis *ay = g_ptr_array_index (sw->axes, 0);
      g_autofree double *x = axis_x (ax);
      g_autofree double *y = axis_x (ay);
      g_autofree double *z = g_new0 (double, sw->n_points);
      NatsimHeatMap map = { 0 };

      /* The first axis varies slowest: point p is row p / n_x, column p % n_x. */
      for (guint p = 0; p < sw->n_points; p++)
        z[p] = point_value (sw, p, k);
      map.title = name;
      map.x_label = ax->key;
      map.y_label = ay->key;
      map.z_label = name;
      map.x = x;
      map.n_x = ax->values->len;
      map.y = y;
      map.n_y = ay->values->len;
      map.z = z;
      map.show_values = sw->n_points <= 64;
      return natsim_chart_heatmap_svg (&map, prefix, error);
    }
  g_set_error (error, NATSIM_CHART_ERROR, NATSIM_CHART_ERROR_INVALID,
               "charts need one or two varied keys, not %u", sw->axes->len);
  return NULL;
}

static void
html_text (GString *out, const char *s)
{
  g_autofree char *e = g_markup_escape_text (s, -1);

  g_string_append (out, e);
}

/* sweep.html: self-contained (inline CSS and SVG). */
static char *
sweep_html (const NatsimSweep *sw, gboolean charts)
{
  GString *out = g_string_new (NULL);
  g_autoptr (GError) why = NULL;
  GString *svgs = g_string_new (NULL);

  g_string_append (out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                        "<title>natsim sweep</title>\n<style>\n"
                        "body{font-family:sans-serif;margin:2em;max-width:70em;color:#222}\n"
                        "table{border-collapse:collapse;margin:1em 0}\n"
                        "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}\n"
                        "th{background:#f3f3f3}\n.chart svg{max-width:100%;height:auto}\n"
                        "</style>\n</head>\n<body>\n<h1>natsim sweep: ");
  html_text (out, sw->scenario_path);
  g_string_append (out, "</h1>\n<p>");
  g_string_append_printf (out, "%u grid points over ", sw->n_points);
  for (guint i = 0; i < sw->axes->len; i++)
    {
      const NatsimSweepAxis *a = g_ptr_array_index (sw->axes, i);
      g_string_append (out, i ? " and <code>" : "<code>");
      html_text (out, a->key);
      g_string_append_printf (out, "</code> (%u values)", a->values->len);
    }
  g_string_append_printf (out, "; every point uses seed %" G_GUINT64_FORMAT
                          " (common random numbers), so differences come from the "
                          "parameters.</p>\n",
                          sw->seed);

  if (charts && natsim_charts_available (&why))
    for (guint i = 0; i < G_N_ELEMENTS (shown); i++)
      {
        g_autofree char *svg = chart_svg (sw, shown[i], i, &why);
        if (svg == NULL)
          break;
        g_string_append_printf (svgs, "<div class=\"chart\">\n%s\n</div>\n", svg);
      }
  else if (!charts && why == NULL)
    g_set_error (&why, NATSIM_CHART_ERROR, NATSIM_CHART_ERROR_DISABLED, "charts disabled");
  if (why == NULL)
    {
      g_string_append (out, "<h2>Charts</h2>\n");
      g_string_append (out, svgs->str);
    }
  else
    {
      g_string_append (out, "<p>Charts were skipped: ");
      html_text (out, why->message);
      g_string_append (out, ".</p>\n");
    }
  g_string_free (svgs, TRUE);

  g_string_append (out, "<h2>Points</h2>\n<table>\n<tr>");
  for (guint i = 0; i < sw->axes->len; i++)
    {
      g_string_append (out, "<th>");
      html_text (out, ((NatsimSweepAxis *) g_ptr_array_index (sw->axes, i))->key);
      g_string_append (out, "</th>");
    }
  for (guint k = 0; k < G_N_ELEMENTS (shown); k++)
    g_string_append_printf (out, "<th>%s</th>", natsim_stat_name (shown[k]));
  g_string_append (out, "</tr>\n");
  for (guint p = 0; p < sw->n_points; p++)
    {
      const NatsimSummary *sum = g_ptr_array_index (sw->summaries, p);

      g_string_append (out, "<tr>");
      for (guint i = 0; i < sw->axes->len; i++)
        {
          g_string_append (out, "<td>");
          html_text (out, natsim_sweep_point_value (sw, p, i));
          g_string_append (out, "</td>");
        }
      for (guint k = 0; k < G_N_ELEMENTS (shown); k++)
        {
          char num[64], ci[64];

          natsim_format_number (sum->totals.v[shown[k]], num, sizeof num);
          g_string_append_printf (out, "<td>%s", num);
          if (sum->replications > 1)
            {
              natsim_format_number (sum->ci95.v[shown[k]], ci, sizeof ci);
              g_string_append_printf (out, " ±%s", ci);
            }
          g_string_append (out, "</td>");
        }
      g_string_append (out, "</tr>\n");
    }
  g_string_append (out, "</table>\n<p>Means over the replications, ± the 95 % confidence "
                        "half-width. All figures: sweep.csv, sweep.json.</p>\n</body>\n</html>\n");
  return g_string_free (out, FALSE);
}

/* The table printed on stdout (and sweep.txt). */
static char *
sweep_text (const NatsimSweep *sw)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < sw->axes->len; i++)
    g_string_append_printf (out, "%-24s ", ((NatsimSweepAxis *) g_ptr_array_index (sw->axes, i))->key);
  for (guint k = 0; k < G_N_ELEMENTS (shown); k++)
    g_string_append_printf (out, "%22s ", natsim_stat_name (shown[k]));
  g_string_append_c (out, '\n');
  for (guint p = 0; p < sw->n_points; p++)
    {
      for (guint i = 0; i < sw->axes->len; i++)
        g_string_append_printf (out, "%-24s ", natsim_sweep_point_value (sw, p, i));
      for (guint k = 0; k < G_N_ELEMENTS (shown); k++)
        {
          char num[64];
          natsim_format_number (point_value (sw, p, shown[k]), num, sizeof num);
          g_string_append_printf (out, "%22s ", num);
        }
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

/* A Markdown table cell: '|' and newlines would break the row. */
static void
md_cell (GString *out, const char *s)
{
  g_string_append (out, " ");
  for (const char *q = s; *q != '\0'; q++)
    if (*q == '|')
      g_string_append (out, "\\|");
    else if (*q == '\n' || *q == '\r')
      g_string_append_c (out, ' ');
    else
      g_string_append_c (out, *q);
  g_string_append (out, " |");
}

/* sweep.md: the grid as a Markdown table, means ± 95 % CI half-widths. */
static char *
sweep_markdown (const NatsimSweep *sw)
{
  GString *out = g_string_new (NULL);

  g_string_append (out, "# natsim sweep: ");
  g_string_append (out, sw->scenario_path);
  g_string_append_printf (out, "\n\n%u grid points; every point uses seed %" G_GUINT64_FORMAT
                          " (common random numbers), so differences come from the "
                          "parameters.\n\n|", sw->n_points, sw->seed);
  for (guint i = 0; i < sw->axes->len; i++)
    md_cell (out, ((NatsimSweepAxis *) g_ptr_array_index (sw->axes, i))->key);
  for (guint k = 0; k < G_N_ELEMENTS (shown); k++)
    md_cell (out, natsim_stat_name (shown[k]));
  g_string_append (out, "\n|");
  for (guint i = 0; i < sw->axes->len; i++)
    g_string_append (out, " --- |");
  for (guint k = 0; k < G_N_ELEMENTS (shown); k++)
    g_string_append (out, " ---: |");
  g_string_append_c (out, '\n');
  for (guint p = 0; p < sw->n_points; p++)
    {
      const NatsimSummary *sum = g_ptr_array_index (sw->summaries, p);

      g_string_append_c (out, '|');
      for (guint i = 0; i < sw->axes->len; i++)
        md_cell (out, natsim_sweep_point_value (sw, p, i));
      for (guint k = 0; k < G_N_ELEMENTS (shown); k++)
        {
          char num[64], ci[64];
          g_autofree char *cell = NULL;

          natsim_format_number (sum->totals.v[shown[k]], num, sizeof num);
          if (sum->replications > 1)
            {
              natsim_format_number (sum->ci95.v[shown[k]], ci, sizeof ci);
              cell = g_strdup_printf ("%s ±%s", num, ci);
            }
          else
            cell = g_strdup (num);
          md_cell (out, cell);
        }
      g_string_append_c (out, '\n');
    }
  g_string_append (out, "\nAll figures: sweep.csv, sweep.json.\n");
  return g_string_free (out, FALSE);
}

/* TRUE when the comma-separated @formats (already checked) names @name. */
static gboolean
wants_format (const char *formats, const char *name)
{
  g_auto (GStrv) list = g_strsplit (formats, ",", -1);

  for (guint i = 0; list[i] != NULL; i++)
    if (g_ascii_strcasecmp (g_strstrip (list[i]), name) == 0)
      return TRUE;
  return FALSE;
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
  g_autofree char *csv = NULL;
  g_autofree char *json = NULL;
  g_autofree char *html = NULL;
  g_autofree char *md = NULL;
  g_autofree char *txt = NULL;
  g_autofree char *formats = NULL;
  gint jobs = 1;
  gboolean quiet = FALSE, no_html = FALSE;
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

  /* Render everything, then write: the outputs appear complete or not. */
  csv = natsim_sweep_to_csv (sw);
  txt = sweep_text (sw);
  if (wants_format (formats, "json"))
    json = natsim_sweep_to_json (sw);
  if (wants_format (formats, "md"))
    md = sweep_markdown (sw);
  if (!no_html && wants_format (formats, "html"))
    html = sweep_html (sw, TRUE);
  if (g_mkdir_with_parents (out_dir, 0777) != 0)
    {
      int saved = errno;
      g_set_error (&error, NATSIM_ERROR, NATSIM_ERROR_IO, "cannot create %s: %s", out_dir,
                   g_strerror (saved));
      return cli_fail (g_steal_pointer (&error));
    }
  {
    g_autofree char *p_csv = g_build_filename (out_dir, "sweep.csv", NULL);
    g_autofree char *p_json = g_build_filename (out_dir, "sweep.json", NULL);
    g_autofree char *p_html = g_build_filename (out_dir, "sweep.html", NULL);
    g_autofree char *p_md = g_build_filename (out_dir, "sweep.md", NULL);
    g_autofree char *p_txt = g_build_filename (out_dir, "sweep.txt", NULL);

    if (!natsim_write_file_atomic (p_csv, csv, -1, &error) ||
        (json != NULL && !natsim_write_file_atomic (p_json, json, -1, &error)) ||
        (md != NULL && !natsim_write_file_atomic (p_md, md, -1, &error)) ||
        (wants_format (formats, "text") && !natsim_write_file_atomic (p_txt, txt, -1, &error)) ||
        (html != NULL && !natsim_write_file_atomic (p_html, html, -1, &error)))
      return cli_fail (g_steal_pointer (&error));
  }
  if (!quiet)
    {
      fputs (txt, stdout);
      printf ("\nSweep written to %s/\n", out_dir);
    }
  return EXIT_OK;
}
