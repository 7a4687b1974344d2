/* natsim: sweep.csv (RFC 4180): one row per grid point, the varied keys,
 * then each figure's mean and 95 % confidence half-width (empty with one
 * replication).  Numbers as in report.json: the shortest text that reads
 * back to the same double. */
#include "report-private.h"

#include <string.h>

static void
csv_field (GString *out, const char *v)
{
  if (strpbrk (v, ",\"\r\n") == NULL)
    {
      g_string_append (out, v);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *c = v; *c; c++)
    {
      if (*c == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *c);
    }
  g_string_append_c (out, '"');
}

static void
csv_number (GString *out, double v)
{
  char buf[64];

  natsim_format_number (v, buf, sizeof buf);
  g_string_append (out, buf);
}

char *
natsim_sweep_to_csv (const NatsimSweep *sw)
{
  GString *out;

  g_return_val_if_fail (sw != NULL, NULL);

  out = g_string_new (NULL);
  for (guint i = 0; i < sw->axes->len; i++)
    {
      csv_field (out, ((NatsimSweepAxis *) g_ptr_array_index (sw->axes, i))->key);
      g_string_append_c (out, ',');
    }
  for (guint k = 0; k < NATSIM_STAT_N; k++)
    g_string_append_printf (out, "%s,%s_ci95%s", natsim_stat_name (k), natsim_stat_name (k),
                            k + 1 < NATSIM_STAT_N ? "," : "\n");
  for (guint p = 0; p < sw->summaries->len; p++)
    {
      const NatsimSummary *sum = g_ptr_array_index (sw->summaries, p);

      for (guint i = 0; i < sw->axes->len; i++)
        {
          csv_field (out, natsim_sweep_point_value (sw, p, i));
          g_string_append_c (out, ',');
        }
      for (guint k = 0; k < NATSIM_STAT_N; k++)
        {
          csv_number (out, sum->totals.v[k]);
          g_string_append_c (out, ',');
          if (sum->replications > 1)
            csv_number (out, sum->ci95.v[k]);
          g_string_append (out, k + 1 < NATSIM_STAT_N ? "," : "\n");
        }
    }
  return g_string_free (out, FALSE);
}
