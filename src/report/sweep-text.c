/* natsim: sweep.txt, the table `natsim sweep` prints: one row per grid
 * point, the varied keys, then the figures report_sweep_shown lists, each
 * its mean ± 95 % confidence half-width by the one number formatter. */
#include "report-private.h"

#include <string.h>

const NatsimStat report_sweep_shown[REPORT_SWEEP_N_SHOWN] = {
  NATSIM_STAT_BLOCKING_PROBABILITY,
  NATSIM_STAT_PEAK_PORTS_PER_ADDRESS,
  NATSIM_STAT_BINDING_LOSSES,
  NATSIM_STAT_REBINDINGS,
};

double
report_sweep_value (const NatsimSweep *sw, guint point, NatsimStat k)
{
  return ((const NatsimSummary *) g_ptr_array_index (sw->summaries, point))->totals.v[k];
}

char *
report_sweep_cell (const NatsimSummary *sum, NatsimStat k)
{
  char num[REPORT_NUM_BUF], ci[REPORT_NUM_BUF];
  gboolean pc = k == NATSIM_STAT_BLOCKING_PROBABILITY;

  if (pc)
    report_fmt_percent (num, sum->totals.v[k]);
  else
    report_fmt_num (num, sum->totals.v[k]);
  if (sum->replications < 2)
    return g_strconcat (num, pc ? " %" : "", NULL);
  if (pc)
    report_fmt_percent (ci, sum->ci95.v[k]);
  else
    report_fmt_num (ci, sum->ci95.v[k]);
  return g_strdup_printf ("%s ± %s%s", num, ci, pc ? " %" : "");
}

char *
natsim_sweep_to_text (const NatsimSweep *sw)
{
  GString *out;

  g_return_val_if_fail (sw != NULL, NULL);

  out = g_string_new (NULL);
  for (guint i = 0; i < sw->axes->len; i++)
    g_string_append_printf (out, "%-24s ", ((NatsimSweepAxis *) g_ptr_array_index (sw->axes, i))->key);
  for (guint k = 0; k < REPORT_SWEEP_N_SHOWN; k++)
    g_string_append_printf (out, "%26s ", report_stat_label (report_sweep_shown[k]));
  g_string_append_c (out, '\n');
  for (guint p = 0; p < sw->n_points; p++)
    {
      for (guint i = 0; i < sw->axes->len; i++)
        g_string_append_printf (out, "%-24s ", natsim_sweep_point_value (sw, p, i));
      for (guint k = 0; k < REPORT_SWEEP_N_SHOWN; k++)
        {
          g_autofree char *cell
            = report_sweep_cell (g_ptr_array_index (sw->summaries, p), report_sweep_shown[k]);

          /* %*s counts bytes: "±" takes two. */
          g_string_append_printf (out, "%*s ", 26 + (strstr (cell, "±") != NULL ? 1 : 0), cell);
        }
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}
