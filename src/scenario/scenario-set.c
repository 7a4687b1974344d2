/* natsim: how a scenario's values are layered: key defaults < preset <
 * file < --set.  [nat] is re-resolved whenever one of its assignments
 * changes, so that a preset given by --set lands under the file's explicit
 * keys and the earlier overrides.
 */
#include <string.h>

#include "natsim/error.h"
#include "natsim/scenario.h"
#include "scenario-private.h"

static char *
preset_names (void)
{
  GString *out = g_string_new (NULL);

  for (const NatsimNatPreset *p = natsim_nat_presets; p->name != NULL; p++)
    g_string_append_printf (out, "%s%s", out->len ? ", " : "", p->name);
  return g_string_free (out, FALSE);
}

/* Rebuilds s->nat: key defaults, then the preset's values (origin
 * "preset NAME"), then every assignment of the file and of --set in
 * order.  The preset is the last "preset" assignment, else the key's
 * default.  s is unchanged on failure. */
gboolean
scenario_resolve_nat (NatsimScenario *s, GError **error)
{
  const NatsimKeySpec *preset_spec = natsim_key_lookup (natsim_nat_keys,
                                                        "preset");
  const char *preset_name = "linux";
  const NatAssignment *preset_from = NULL;
  const NatsimNatPreset *preset;
  g_autoptr (NatsimParams) p = NULL;
  g_autofree char *origin = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (preset_spec != NULL && preset_spec->default_value != NULL)
    preset_name = preset_spec->default_value;
  for (guint i = 0; i < s->nat_assignments->len; i++)
    {
      const NatAssignment *a = s->nat_assignments->pdata[i];

      if (strcmp (a->key, "preset") == 0)
        {
          preset_name = a->value;
          preset_from = a;
        }
    }

  preset = natsim_nat_preset_lookup (preset_name);
  if (preset == NULL)
    {
      g_autofree char *names = preset_names ();

      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "expected one of %s, got '%s'", names, preset_name);
      scenario_prefix_key_place (error, s, preset_from ? preset_from->origin : NULL,
                        "nat", "preset", preset_name);
      return FALSE;
    }

  p = natsim_params_new (natsim_nat_keys);
  origin = g_strdup_printf ("preset %s", preset->name);
  for (guint i = 0; preset->values[i] != NULL && preset->values[i + 1] != NULL;
       i += 2)
    if (!natsim_params_set (p, preset->values[i], preset->values[i + 1],
                            origin, error))
      {
        g_prefix_error (error, "%s: [nat] %s (preset %s): ", s->path,
                        preset->values[i], preset->name);
        return FALSE;
      }
  for (guint i = 0; i < s->nat_assignments->len; i++)
    {
      const NatAssignment *a = s->nat_assignments->pdata[i];

      if (!natsim_params_set (p, a->key, a->value, a->origin, error))
        {
          scenario_prefix_key_place (error, s, a->origin, "nat", a->key, a->value);
          return FALSE;
        }
    }

  natsim_params_free (s->nat);
  s->nat = g_steal_pointer (&p);
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* --set */

static gboolean
set_usage_error (const char *assignment, GError **error)
{
  g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
               "--set %s: expected GROUP.KEY=VALUE such as "
               "nat.udp_timeout=30s, simulation.seed=3 or "
               "population.NAME.count=5000", assignment);
  return FALSE;
}

static gboolean
set_nat (NatsimScenario *s, const char *assignment, const char *key,
         const char *value, GError **error)
{
  /* Checks key and value against the current effective set, then
   * re-resolves everything so that a new preset lands under the file's
   * explicit keys and the earlier overrides. */
  if (!natsim_params_set (s->nat, key, value, "--set", error))
    {
      g_prefix_error (error, "--set %s: ", assignment);
      return FALSE;
    }
  g_ptr_array_add (s->nat_assignments,
                   scenario_nat_assignment_new (key, value, "--set"));
  if (!scenario_resolve_nat (s, error))
    {
      g_ptr_array_remove_index (s->nat_assignments,
                                s->nat_assignments->len - 1);
      return FALSE;
    }
  return TRUE;
}

static gboolean
set_population (NatsimScenario *s, const char *assignment, const char *rest,
                const char *value, GError **error)
{
  const char *dot = strchr (rest, '.');
  g_autofree char *pname = NULL;
  const char *key;
  NatsimPopulationSpec *p;

  if (dot == NULL || dot == rest || dot[1] == '\0')
    return set_usage_error (assignment, error);
  pname = g_strndup (rest, (gsize) (dot - rest));
  key = dot + 1;
  p = natsim_scenario_find_population (s, pname);
  if (p == NULL)
    {
      g_autoptr (GPtrArray) names = g_ptr_array_new ();
      g_autofree char *list = NULL;
      const char *hint;

      for (guint i = 0; i < s->populations->len; i++)
        g_ptr_array_add (names,
                         ((NatsimPopulationSpec *) s->populations->pdata[i])->name);
      hint = natsim_name_suggest ((const char *const *) names->pdata,
                                  names->len, pname);
      g_ptr_array_add (names, NULL);
      list = g_strjoinv (", ", (char **) names->pdata);
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "--set %s: no population '%s'; expected one of %s%s%s%s",
                   assignment, pname, list, hint ? " (did you mean " : "",
                   hint ? hint : "", hint ? "?)" : "");
      return FALSE;
    }
  if (strcmp (key, "profile") == 0)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "--set %s: the profile of a population cannot be "
                   "overridden; change it in the scenario", assignment);
      return FALSE;
    }
  if (!natsim_params_set (p->params, key, value, "--set", error))
    {
      g_prefix_error (error, "--set %s: ", assignment);
      return FALSE;
    }
  return TRUE;
}

gboolean
natsim_scenario_set (NatsimScenario *s, const char *assignment,
                     GError **error)
{
  static const char *const groups[] = { "simulation", "nat", "population" };
  const char *eq, *dot;
  g_autofree char *lhs = NULL;
  g_autofree char *value = NULL;
  g_autofree char *group = NULL;
  const char *rest;

  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (assignment != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (const char *c = assignment; *c; c++)
    if ((unsigned char) *c < 0x20 || *c == 0x7f)
      {
        g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                     "--set: expected GROUP.KEY=VALUE without control "
                     "characters");
        return FALSE;
      }
  eq = strchr (assignment, '=');
  if (eq == NULL)
    return set_usage_error (assignment, error);
  lhs = g_strstrip (g_strndup (assignment, (gsize) (eq - assignment)));
  value = g_strstrip (g_strdup (eq + 1));
  dot = strchr (lhs, '.');
  if (dot == NULL || dot == lhs || dot[1] == '\0')
    return set_usage_error (assignment, error);
  group = g_strndup (lhs, (gsize) (dot - lhs));
  rest = dot + 1;

  if (strcmp (group, "simulation") == 0)
    {
      if (!natsim_params_set (s->simulation, rest, value, "--set", error))
        {
          g_prefix_error (error, "--set %s: ", assignment);
          return FALSE;
        }
      return TRUE;
    }
  if (strcmp (group, "nat") == 0)
    return set_nat (s, assignment, rest, value, error);
  if (strcmp (group, "population") == 0)
    return set_population (s, assignment, rest, value, error);

  {
    const char *hint = natsim_name_suggest (groups, G_N_ELEMENTS (groups),
                                            group);

    g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                 "--set %s: unknown group '%s'; %s%s%s", assignment, group,
                 hint ? "did you mean " : "expected simulation, nat or "
                                          "population.NAME",
                 hint ? hint : "", hint ? "?" : "");
  }
  return FALSE;
}

