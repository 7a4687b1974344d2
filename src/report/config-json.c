/* natsim: the configuration as report.json echoes it ("config"): every
 * effective key of [nat], each population and [simulation], as the value
 * strings natsim used, in the order of the key tables (docs/report.md). */
#include "natsim/report.h"

void
natsim_params_to_json (JsonBuilder *b, const NatsimParams *p)
{
  g_return_if_fail (b != NULL && p != NULL);

  for (const NatsimKeySpec *k = natsim_params_specs (p); k->name != NULL; k++)
    {
      const char *v = natsim_params_get (p, k->name);

      json_builder_set_member_name (b, k->name);
      if (v != NULL)
        json_builder_add_string_value (b, v);
      else
        json_builder_add_null_value (b);
    }
}

/* "forwards": [{"name": ..., "protocol": ..., "public": ..., "inside": ...}] */
static void
forwards_to_json (JsonBuilder *b, const NatsimScenario *s)
{
  json_builder_begin_array (b);
  for (guint i = 0; i < s->forwards->len; i++)
    {
      const NatsimForwardSpec *f = s->forwards->pdata[i];

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, f->name);
      natsim_params_to_json (b, f->params);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

JsonNode *
natsim_scenario_config_to_json (const NatsimScenario *s)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  g_return_val_if_fail (s != NULL, NULL);

  json_builder_begin_object (b);

  json_builder_set_member_name (b, "nat");
  json_builder_begin_object (b);
  natsim_params_to_json (b, s->nat);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "populations");
  json_builder_begin_array (b);
  for (guint i = 0; i < s->populations->len; i++)
    {
      const NatsimPopulationSpec *p = s->populations->pdata[i];

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, p->name);
      json_builder_set_member_name (b, "profile");
      json_builder_add_string_value (b, p->profile->name);
      natsim_params_to_json (b, p->params);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  /* Static port forwards only when there are some: reports of scenarios
   * without them stay as they were. */
  if (s->forwards != NULL && s->forwards->len > 0)
    {
      json_builder_set_member_name (b, "forwards");
      forwards_to_json (b, s);
    }

  json_builder_set_member_name (b, "simulation");
  json_builder_begin_object (b);
  natsim_params_to_json (b, s->simulation);
  json_builder_end_object (b);

  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
natsim_nat_config_to_json (const NatsimParams *nat)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  g_return_val_if_fail (nat != NULL, NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "nat");
  json_builder_begin_object (b);
  natsim_params_to_json (b, nat);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
