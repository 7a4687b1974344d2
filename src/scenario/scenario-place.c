/* natsim: where a scenario error is.
 *
 * Every message names the place: "FILE:LINE: [group] key: ..." for values
 * from the file, "--set group.key=value: ..." for overrides, and
 * "FILE: [group] key (default): ..." for defaults.  The place is also kept
 * as data in the error (natsim_error_get_line() ...).
 */
#include <string.h>

#include "natsim/error.h"
#include "natsim/scenario.h"
#include "scenario-private.h"

void
scenario_set_place (GError **error, const char *file, guint line, const char *group,
                    const char *key)
{
  if (error != NULL && *error != NULL)
    natsim_error_set_place (*error, file, line, group, key);
}

/* The line of an origin "FILE:LINE" of the scenario file (the loader writes
 * them so, in natsim_params_set()), 0 for any other origin (a preset,
 * --set, a default). */
guint
scenario_origin_line (const NatsimScenario *s, const char *origin)
{
  size_t n = strlen (s->path);

  if (origin == NULL || strncmp (origin, s->path, n) != 0 || origin[n] != ':'
      || !g_ascii_isdigit (origin[n + 1]))
    return 0;
  return (guint) g_ascii_strtoull (origin + n + 1, NULL, 10);
}

gboolean
scenario_origin_is_file (const NatsimScenario *s, const char *origin)
{
  return scenario_origin_line (s, origin) != 0;
}

/* "population phones" -> "population.phones", as --set spells it. */
static char *
set_group_name (const char *group)
{
  if (g_str_has_prefix (group, POPULATION_PREFIX))
    return g_strconcat ("population.", group + strlen (POPULATION_PREFIX),
                        NULL);
  return g_strdup (group);
}

/* Prefixes the place of @key of [@group], which came from @origin, and
 * records it in the error (natsim_error_get_line() ...). */
void
scenario_prefix_key_place (GError **error, const NatsimScenario *s, const char *origin,
                  const char *group, const char *key, const char *value)
{
  guint line = scenario_origin_line (s, origin);
  gboolean from_set = g_strcmp0 (origin, "--set") == 0;

  if (error == NULL || *error == NULL)
    return;
  natsim_error_set_place (*error, from_set ? NULL : s->path, line, group, key);
  if (line != 0)
    g_prefix_error (error, "%s: [%s] %s: ", origin, group, key);
  else if (from_set)
    {
      g_autofree char *sg = set_group_name (group);

      g_prefix_error (error, "--set %s.%s=%s: ", sg, key, value ? value : "");
    }
  else if (origin != NULL)
    g_prefix_error (error, "%s: [%s] %s (%s): ", s->path, group, key, origin);
  else
    g_prefix_error (error, "%s: [%s] %s: ", s->path, group, key);
}

/* Same, for the effective value of @key in @params. */
void
scenario_prefix_param_place (GError **error, const NatsimScenario *s,
                    const NatsimParams *params, const char *group,
                    const char *key)
{
  scenario_prefix_key_place (error, s, natsim_params_origin (params, key), group, key,
                    natsim_params_get (params, key));
}

/* Prefixes the place of [@group] as a whole, whose header is at
 * @group_origin (or unknown: NULL), and records it in the error. */
void
scenario_prefix_group_place (GError **error, const NatsimScenario *s, const char *group,
                    const char *group_origin)
{
  guint line = scenario_origin_line (s, group_origin);

  if (error == NULL || *error == NULL)
    return;
  natsim_error_set_place (*error, s->path, line, group, NULL);
  g_prefix_error (error, "%s: [%s]: ", line != 0 ? group_origin : s->path, group);
}

/* An error of a cross-key check (profile validate(), nat config) about a
 * key of @params (natsim_set_key_error()) is placed where that key was
 * set; any other at [@group]. */
void
scenario_prefix_check_place (GError **error, const NatsimScenario *s,
                    const NatsimParams *params, const char *group,
                    const char *group_origin)
{
  GError *err = error ? *error : NULL;
  const char *key = natsim_error_get_key (err);

  if (err == NULL)
    return;
  if (key != NULL && natsim_error_get_detail (err) != NULL
      && natsim_key_lookup (natsim_params_specs (params), key) != NULL)
    {
      g_autofree char *k = g_strdup (key);

      /* The message without its "KEY: ", which the place repeats. */
      g_free (err->message);
      err->message = g_strdup (natsim_error_get_detail (err));
      scenario_prefix_param_place (error, s, params, group, k);
      return;
    }
  scenario_prefix_group_place (error, s, group, group_origin);
}

