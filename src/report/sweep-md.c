/* natsim: sweep.md, the grid as a Markdown table, means ± 95 % confidence
 * half-widths. */
#include "report-private.h"

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

char *
natsim_sweep_to_markdown (const NatsimSweep *sw)
{
  GString *out;

  g_return_val_if_fail (sw != NULL, NULL);

  out = g_string_new (NULL);
  g_string_append (out, "# natsim sweep: ");
  g_string_append (out, sw->scenario_path);
  g_string_append_printf (out, "\n\n%u grid points; every point uses seed %" G_GUINT64_FORMAT
                          " (common random numbers), so differences come from the "
                          "parameters.\n\n|", sw->n_points, sw->seed);
  for (guint i = 0; i < sw->axes->len; i++)
    md_cell (out, ((NatsimSweepAxis *) g_ptr_array_index (sw->axes, i))->key);
  for (guint k = 0; k < REPORT_SWEEP_N_SHOWN; k++)
    md_cell (out, report_stat_label (report_sweep_shown[k]));
  g_string_append (out, "\n|");
  for (guint i = 0; i < sw->axes->len; i++)
    g_string_append (out, " --- |");
  for (guint k = 0; k < REPORT_SWEEP_N_SHOWN; k++)
    g_string_append (out, " ---: |");
  g_string_append_c (out, '\n');
  for (guint p = 0; p < sw->n_points; p++)
    {
      const NatsimSummary *sum = g_ptr_array_index (sw->summaries, p);

      g_string_append_c (out, '|');
      for (guint i = 0; i < sw->axes->len; i++)
        md_cell (out, natsim_sweep_point_value (sw, p, i));
      for (guint k = 0; k < REPORT_SWEEP_N_SHOWN; k++)
        {
          g_autofree char *cell = report_sweep_cell (sum, report_sweep_shown[k]);

          md_cell (out, cell);
        }
      g_string_append_c (out, '\n');
    }
  g_string_append (out, "\nMeans over the replications, ± the 95 % confidence half-width. "
                        "All figures: sweep.csv, sweep.json.\n");
  return g_string_free (out, FALSE);
}
