/* natsim: sweep.html, self-contained (inline CSS and SVG): a line chart
 * per figure for one varied key, a heat map for two (gnuplot, see
 * natsim/charts.h), then the grid as a table. */
#include "report-private.h"

#include "natsim/charts.h"

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
  const char *name = report_stat_label (k);

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
        y[p] = report_sweep_value (sw, p, k);
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
        z[p] = report_sweep_value (sw, p, k);
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
  g_autofree char *valid = g_utf8_make_valid (s, -1);
  g_autofree char *e = g_markup_escape_text (valid, -1);

  g_string_append (out, e);
}

/* sweep.html: self-contained (inline CSS and SVG). */
char *
natsim_sweep_to_html (const NatsimSweep *sw, gboolean charts)
{
  GString *out;
  g_autoptr (GError) why = NULL;
  GString *svgs;

  g_return_val_if_fail (sw != NULL, NULL);

  out = g_string_new (NULL);
  svgs = g_string_new (NULL);

  {
    g_autofree char *title = g_strconcat ("natsim sweep: ", sw->scenario_path, NULL);

    report_html_begin (out, title);
  }
  g_string_append (out, "<p class=\"meta\">");
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
                          "parameters.</p>\n</header>\n",
                          sw->seed);

  if (charts && natsim_charts_available (&why))
    for (guint i = 0; i < REPORT_SWEEP_N_SHOWN; i++)
      {
        g_autofree char *svg = chart_svg (sw, report_sweep_shown[i], i, &why);
        if (svg == NULL)
          break;
        g_string_append_printf (svgs, "<figure>\n%s</figure>\n", svg);
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
      g_string_append (out, "<p class=\"skipped\">Charts were skipped: ");
      html_text (out, why->message);
      g_string_append (out, ".</p>\n");
    }
  g_string_free (svgs, TRUE);

  g_string_append (out, "<h2>Points</h2>\n<div class=\"table-wrap\"><table>\n<thead><tr>");
  for (guint i = 0; i < sw->axes->len; i++)
    {
      g_string_append (out, "<th scope=\"col\">");
      html_text (out, ((NatsimSweepAxis *) g_ptr_array_index (sw->axes, i))->key);
      g_string_append (out, "</th>");
    }
  for (guint k = 0; k < REPORT_SWEEP_N_SHOWN; k++)
    g_string_append_printf (out, "<th scope=\"col\" class=\"num\">%s</th>",
                            report_stat_label (report_sweep_shown[k]));
  g_string_append (out, "</tr></thead>\n<tbody>\n");
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
      for (guint k = 0; k < REPORT_SWEEP_N_SHOWN; k++)
        {
          g_autofree char *cell = report_sweep_cell (sum, report_sweep_shown[k]);

          g_string_append (out, "<td class=\"num\">");
          html_text (out, cell);
          g_string_append (out, "</td>");
        }
      g_string_append (out, "</tr>\n");
    }
  g_string_append (out, "</tbody>\n</table></div>\n<p class=\"note-text\">Means over the "
                        "replications, ± the 95 % confidence half-width. All figures: "
                        "sweep.csv, sweep.json.</p>\n</main>\n</body>\n</html>\n");
  return g_string_free (out, FALSE);
}

