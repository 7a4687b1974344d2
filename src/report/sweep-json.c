/* natsim: sweep.json (schema natsim.sweep/1, docs/report.md): the grid,
 * then per point its values, replications, totals, ci95 and per-class
 * means. */
#include "report-private.h"

#include <math.h>

static void
json_number (JsonBuilder *b, NatsimStat k, double v)
{
  if (natsim_stat_is_count (k) && v == floor (v) && fabs (v) < 9e15)
    json_builder_add_int_value (b, (gint64) v);
  else
    json_builder_add_double_value (b, v);
}

static void
json_stats (JsonBuilder *b, const char *name, const NatsimStats *st)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  for (guint k = 0; k < NATSIM_STAT_N; k++)
    {
      json_builder_set_member_name (b, natsim_stat_name (k));
      json_number (b, k, st->v[k]);
    }
  json_builder_end_object (b);
}

char *
natsim_sweep_to_json (const NatsimSweep *sw)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  char *text;

  g_return_val_if_fail (sw != NULL, NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "schema");
  json_builder_add_string_value (b, NATSIM_SWEEP_SCHEMA);
  json_builder_set_member_name (b, "natsim_version");
  json_builder_add_string_value (b, NATSIM_VERSION);
  json_builder_set_member_name (b, "command");
  json_builder_add_string_value (b, "sweep");
  json_builder_set_member_name (b, "inputs");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "scenario");
  json_builder_add_string_value (b, sw->scenario_path);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "seed");
  json_builder_add_int_value (b, (gint64) sw->seed);
  json_builder_set_member_name (b, "grid");
  json_builder_begin_array (b);
  for (guint i = 0; i < sw->axes->len; i++)
    {
      const NatsimSweepAxis *a = g_ptr_array_index (sw->axes, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "key");
      json_builder_add_string_value (b, a->key);
      json_builder_set_member_name (b, "values");
      json_builder_begin_array (b);
      for (guint v = 0; v < a->values->len; v++)
        json_builder_add_string_value (b, g_ptr_array_index (a->values, v));
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "points");
  json_builder_begin_array (b);
  for (guint p = 0; p < sw->summaries->len; p++)
    {
      const NatsimSummary *sum = g_ptr_array_index (sw->summaries, p);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "values");
      json_builder_begin_object (b);
      for (guint i = 0; i < sw->axes->len; i++)
        {
          json_builder_set_member_name (b, ((NatsimSweepAxis *) g_ptr_array_index (sw->axes, i))->key);
          json_builder_add_string_value (b, natsim_sweep_point_value (sw, p, i));
        }
      json_builder_end_object (b);
      json_builder_set_member_name (b, "replications");
      json_builder_add_int_value (b, sum->replications);
      json_stats (b, "totals", &sum->totals);
      if (sum->replications > 1)
        json_stats (b, "ci95", &sum->ci95);
      else
        {
          json_builder_set_member_name (b, "ci95");
          json_builder_add_null_value (b);
        }
      json_builder_set_member_name (b, "per_class");
      json_builder_begin_object (b);
      for (guint c = 0; sum->classes != NULL && c < sum->classes->len; c++)
        {
          const NatsimClassSummary *cs = &g_array_index (sum->classes, NatsimClassSummary, c);
          json_stats (b, cs->name, &cs->mean);
        }
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 2);
  text = json_generator_to_data (gen, NULL);
  {
    char *with_nl = g_strconcat (text, "\n", NULL);
    g_free (text);
    return with_nl;
  }
}
