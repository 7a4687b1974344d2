/* natsim: sweep.txt, the table `natsim sweep` prints: one row per grid
 * point, the varied keys, then the figures report_sweep_shown lists. */
#include "report-private.h"

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
natsim_sweep_to_text (const NatsimSweep *sw)
{
  GString *out;

  g_return_val_if_fail (sw != NULL, NULL);

  out = g_string_new (NULL);
  for (guint i = 0; i < sw->axes->len; i++)
    g_string_append_printf (out, "%-24s ", ((NatsimSweepAxis *) g_ptr_array_index (sw->axes, i))->key);
  for (guint k = 0; k < REPORT_SWEEP_N_SHOWN; k++)
    g_string_append_printf (out, "%22s ", natsim_stat_name (report_sweep_shown[k]));
  g_string_append_c (out, '\n');
  for (guint p = 0; p < sw->n_points; p++)
    {
      for (guint i = 0; i < sw->axes->len; i++)
        g_string_append_printf (out, "%-24s ", natsim_sweep_point_value (sw, p, i));
      for (guint k = 0; k < REPORT_SWEEP_N_SHOWN; k++)
        {
          char num[64];
          natsim_format_number (report_sweep_value (sw, p, report_sweep_shown[k]), num, sizeof num);
          g_string_append_printf (out, "%22s ", num);
        }
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}
