/* natsim: scenario loading and validation (the layering of presets and
 * --set is in scenario-set.c, the places of messages in scenario-place.c).
 *
 * Loading is three steps:
 *  1. scenario_scan() (scenario-scan.c) reads the structure of the text:
 *     line numbers, duplicates, comments, inline comments;
 *  2. GKeyFile parses the cleaned text, and every group is checked against
 *     its key table (natsim_simulation_keys, natsim_nat_keys, the
 *     profile's keys), each value with its "FILE:LINE" as origin;
 *  3. [nat] is resolved (defaults, preset, file keys, --set) and
 *     natsim_scenario_validate() does the cross-group checks.
 *
 * Every message names the place: "FILE:LINE: [group] key: ..." for values
 * from the file, "--set group.key=value: ..." for overrides, and
 * "FILE: [group] key (default): ..." for defaults.
 */
#include "natsim/scenario.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <string.h>

#include "natsim/error.h"
#include "scenario-private.h"
#include "scenario-forward.h"

/* Larger files are not scenarios; refuse them before reading them whole. */
#define SCENARIO_MAX_FILE_BYTES (16u * 1024 * 1024)

/* duration / timeline_interval: each point costs a few counters per
 * class; a million is already far more than a chart shows. */
#define TIMELINE_MAX_POINTS UINT64_C (1000000)

#define DAY_SEC (86400.0)

const NatsimKeySpec natsim_simulation_keys[] = {
  { "duration", NATSIM_KEY_DURATION, "1h",
    "simulated time of one replication", 0.001, 30 * DAY_SEC, NULL },
  { "warmup", NATSIM_KEY_DURATION, "0s",
    "initial time left out of the statistics (shorter than duration)", 0,
    30 * DAY_SEC, NULL },
  { "seed", NATSIM_KEY_UINT, "1",
    "seed of every random stream (same seed, same report)", 0, 0, NULL },
  { "replications", NATSIM_KEY_UINT, "1",
    "independent runs, for 95 % confidence intervals", 1, 10000, NULL },
  { "timeline_interval", NATSIM_KEY_DURATION, "60s",
    "sampling interval of the report's timelines", 0.001, 30 * DAY_SEC, NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

NatAssignment *
scenario_nat_assignment_new (const char *key, const char *value, const char *origin)
{
  NatAssignment *a = g_new0 (NatAssignment, 1);

  a->key = g_strdup (key);
  a->value = g_strdup (value);
  a->origin = g_strdup (origin);
  return a;
}

static void
nat_assignment_free (NatAssignment *a)
{
  if (a == NULL)
    return;
  g_free (a->key);
  g_free (a->value);
  g_free (a->origin);
  g_free (a);
}

static void
population_spec_free (NatsimPopulationSpec *p)
{
  if (p == NULL)
    return;
  g_free (p->name);
  natsim_params_free (p->params);
  g_free (p->origin);
  g_free (p);
}

static NatsimScenario *
scenario_new (const char *path)
{
  NatsimScenario *s = g_new0 (NatsimScenario, 1);

  s->path = g_strdup (path);
  s->simulation = natsim_params_new (natsim_simulation_keys);
  s->nat = natsim_params_new (natsim_nat_keys);
  s->populations = g_ptr_array_new_with_free_func (
      (GDestroyNotify) population_spec_free);
  s->nat_assignments = g_ptr_array_new_with_free_func (
      (GDestroyNotify) nat_assignment_free);
  s->forwards = g_ptr_array_new_with_free_func ((GDestroyNotify) scenario_forward_free);
  return s;
}

void
natsim_scenario_free (NatsimScenario *s)
{
  if (s == NULL)
    return;
  g_free (s->path);
  natsim_params_free (s->simulation);
  natsim_params_free (s->nat);
  g_clear_pointer (&s->populations, g_ptr_array_unref);
  g_clear_pointer (&s->nat_assignments, g_ptr_array_unref);
  g_clear_pointer (&s->forwards, g_ptr_array_unref);
  g_free (s);
}

NatsimScenario *
natsim_scenario_copy (const NatsimScenario *s)
{
  NatsimScenario *c;

  g_return_val_if_fail (s != NULL, NULL);

  c = g_new0 (NatsimScenario, 1);
  c->path = g_strdup (s->path);
  c->simulation = natsim_params_copy (s->simulation);
  c->nat = natsim_params_copy (s->nat);
  c->populations = g_ptr_array_new_with_free_func (
      (GDestroyNotify) population_spec_free);
  for (guint i = 0; i < s->populations->len; i++)
    {
      const NatsimPopulationSpec *p = s->populations->pdata[i];
      NatsimPopulationSpec *q = g_new0 (NatsimPopulationSpec, 1);

      q->name = g_strdup (p->name);
      q->profile = p->profile;
      q->params = natsim_params_copy (p->params);
      q->origin = g_strdup (p->origin);
      g_ptr_array_add (c->populations, q);
    }
  c->nat_assignments = g_ptr_array_new_with_free_func (
      (GDestroyNotify) nat_assignment_free);
  for (guint i = 0; i < s->nat_assignments->len; i++)
    {
      const NatAssignment *a = s->nat_assignments->pdata[i];

      g_ptr_array_add (c->nat_assignments,
                       scenario_nat_assignment_new (a->key, a->value, a->origin));
    }
  c->forwards = g_ptr_array_new_with_free_func ((GDestroyNotify) scenario_forward_free);
  for (guint i = 0; i < s->forwards->len; i++)
    g_ptr_array_add (c->forwards, scenario_forward_copy (s->forwards->pdata[i]));
  return c;
}

NatsimPopulationSpec *
natsim_scenario_find_population (const NatsimScenario *s, const char *name)
{
  g_return_val_if_fail (s != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < s->populations->len; i++)
    {
      NatsimPopulationSpec *p = s->populations->pdata[i];

      if (strcmp (p->name, name) == 0)
        return p;
    }
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* Loading */

static gboolean
load_simulation (NatsimScenario *s, GKeyFile *kf, const ScanGroup *g,
                 GError **error)
{
  for (guint i = 0; i < g->keys->len; i++)
    {
      const ScanKey *k = g->keys->pdata[i];
      g_autofree char *value = g_key_file_get_value (kf, g->name, k->key, NULL);
      g_autofree char *origin = g_strdup_printf ("%s:%u", s->path, k->line);

      if (value == NULL)
        value = g_strdup (k->value);
      if (!natsim_params_set (s->simulation, k->key, value, origin, error))
        {
          scenario_prefix_key_place (error, s, origin, g->name, k->key, value);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
load_nat (NatsimScenario *s, GKeyFile *kf, const ScanGroup *g, GError **error)
{
  for (guint i = 0; i < g->keys->len; i++)
    {
      const ScanKey *k = g->keys->pdata[i];
      g_autofree char *value = g_key_file_get_value (kf, g->name, k->key, NULL);
      g_autofree char *origin = g_strdup_printf ("%s:%u", s->path, k->line);

      if (value == NULL)
        value = g_strdup (k->value);
      /* Checks the key and value now, for a message in file order; the
       * effective values are resolved once every group is read. */
      if (!natsim_params_set (s->nat, k->key, value, origin, error))
        {
          scenario_prefix_key_place (error, s, origin, g->name, k->key, value);
          return FALSE;
        }
      g_ptr_array_add (s->nat_assignments,
                       scenario_nat_assignment_new (k->key, value, origin));
    }
  return TRUE;
}

gboolean
scenario_name_valid (const char *name)
{
  if (name[0] == '\0')
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

static const ScanKey *
scan_group_key (const ScanGroup *g, const char *key)
{
  for (guint i = 0; i < g->keys->len; i++)
    {
      const ScanKey *k = g->keys->pdata[i];

      if (strcmp (k->key, key) == 0)
        return k;
    }
  return NULL;
}

static gboolean
load_population (NatsimScenario *s, GKeyFile *kf, const ScanGroup *g,
                 GError **error)
{
  const char *pname = g->name + strlen (POPULATION_PREFIX);
  const ScanKey *pk = scan_group_key (g, "profile");
  const NatsimProfile *profile;
  g_autofree char *profile_value = NULL;
  NatsimPopulationSpec *spec;

  if (!scenario_name_valid (pname))
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "%s:%u: [%s]: expected [population NAME] with one NAME made "
                   "of letters, digits, '-' and '_'", s->path, g->line,
                   g->name);
      scenario_set_place (error, s->path, g->line, g->name, NULL);
      return FALSE;
    }
  if (pk == NULL)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "%s:%u: [%s] profile: required key missing; expected one "
                   "of %s", s->path, g->line, g->name, natsim_profile_names ());
      scenario_set_place (error, s->path, g->line, g->name, "profile");
      return FALSE;
    }
  profile_value = g_key_file_get_value (kf, g->name, "profile", NULL);
  if (profile_value == NULL)
    profile_value = g_strdup (pk->value);
  profile = natsim_profile_lookup (profile_value);
  if (profile == NULL)
    {
      g_autoptr (GPtrArray) names = g_ptr_array_new ();
      const char *hint;

      for (guint i = 0; natsim_profiles[i] != NULL; i++)
        g_ptr_array_add (names, (gpointer) natsim_profiles[i]->name);
      hint = natsim_name_suggest ((const char *const *) names->pdata,
                                  names->len, profile_value);
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "%s:%u: [%s] profile: expected one of %s, got '%s'%s%s%s",
                   s->path, pk->line, g->name, natsim_profile_names (),
                   profile_value, hint ? "; did you mean " : "",
                   hint ? hint : "", hint ? "?" : "");
      scenario_set_place (error, s->path, pk->line, g->name, "profile");
      return FALSE;
    }

  spec = g_new0 (NatsimPopulationSpec, 1);
  spec->name = g_strdup (pname);
  spec->profile = profile;
  spec->params = natsim_params_new (profile->keys);
  spec->origin = g_strdup_printf ("%s:%u", s->path, g->line);
  g_ptr_array_add (s->populations, spec);

  for (guint i = 0; i < g->keys->len; i++)
    {
      const ScanKey *k = g->keys->pdata[i];
      g_autofree char *value = NULL;
      g_autofree char *origin = NULL;

      if (k == pk)
        continue;
      value = g_key_file_get_value (kf, g->name, k->key, NULL);
      if (value == NULL)
        value = g_strdup (k->value);
      origin = g_strdup_printf ("%s:%u", s->path, k->line);
      if (!natsim_params_set (spec->params, k->key, value, origin, error))
        {
          scenario_prefix_key_place (error, s, origin, g->name, k->key, value);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
unknown_group_error (const NatsimScenario *s, const ScanGroup *g,
                     GError **error)
{
  static const char *const groups[] = { "simulation", "nat", "population" };
  const char *space = strchr (g->name, ' ');
  g_autofree char *first = space ? g_strndup (g->name,
                                              (gsize) (space - g->name))
                                 : g_strdup (g->name);
  const char *hint = natsim_name_suggest (groups, G_N_ELEMENTS (groups), first);
  g_autofree char *hint_text = NULL;

  if (hint != NULL && strcmp (hint, "population") == 0)
    hint_text = g_strdup_printf ("[population %s]", space ? space + 1 : "NAME");
  else if (hint != NULL)
    hint_text = g_strdup_printf ("[%s]", hint);

  if (hint_text != NULL)
    g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                 "%s:%u: [%s]: unknown group; did you mean %s?", s->path,
                 g->line, g->name, hint_text);
  else
    g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                 "%s:%u: [%s]: unknown group; expected [simulation], [nat] or "
                 "[population NAME]", s->path, g->line, g->name);
  scenario_set_place (error, s->path, g->line, g->name, NULL);
  return FALSE;
}

/* Parses and checks every key; no cross-group checks. */
static NatsimScenario *
scenario_parse (const char *data, gsize length, const char *name,
                GError **error)
{
  g_autoptr (ScanResult) scan = NULL;
  g_autoptr (GKeyFile) kf = NULL;
  g_autoptr (GError) kf_error = NULL;
  g_autoptr (NatsimScenario) s = NULL;

  scan = scenario_scan (data, length, name, error);
  if (scan == NULL)
    return NULL;
  if (scan->groups->len == 0)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "%s: empty scenario: expected [simulation], [nat] and at "
                   "least one [population NAME] group", name);
      return NULL;
    }

  kf = g_key_file_new ();
  if (!g_key_file_load_from_data (kf, scan->clean, scan->clean_len,
                                  G_KEY_FILE_NONE, &kf_error))
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT, "%s: %s",
                   name, kf_error->message);
      return NULL;
    }

  s = scenario_new (name);
  for (guint i = 0; i < scan->groups->len; i++)
    {
      const ScanGroup *g = scan->groups->pdata[i];
      gboolean ok;

      if (strcmp (g->name, "simulation") == 0)
        ok = load_simulation (s, kf, g, error);
      else if (strcmp (g->name, "nat") == 0)
        ok = load_nat (s, kf, g, error);
      else if (g_str_has_prefix (g->name, POPULATION_PREFIX))
        ok = load_population (s, kf, g, error);
      else if (g_str_has_prefix (g->name, SCENARIO_FORWARD_PREFIX))
        ok = scenario_load_forward (s, kf, g, error);
      else if (strcmp (g->name, "population") == 0)
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "%s:%u: [population]: expected [population NAME] with "
                       "a NAME made of letters, digits, '-' and '_'", name,
                       g->line);
          scenario_set_place (error, name, g->line, g->name, NULL);
          ok = FALSE;
        }
      else
        ok = unknown_group_error (s, g, error);
      if (!ok)
        return NULL;
    }

  if (!scenario_resolve_nat (s, error))
    return NULL;
  return g_steal_pointer (&s);
}

NatsimScenario *
natsim_scenario_load_data_with_overrides (const char *data, gsize length,
                                          const char *name,
                                          const char *const *overrides,
                                          GError **error)
{
  g_autoptr (NatsimScenario) s = NULL;

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (length == (gsize) -1)
    length = strlen (data);
  s = scenario_parse (data, length, name, error);
  if (s == NULL)
    return NULL;
  for (guint i = 0; overrides != NULL && overrides[i] != NULL; i++)
    if (!natsim_scenario_set (s, overrides[i], error))
      return NULL;
  if (!natsim_scenario_validate (s, error))
    return NULL;
  return g_steal_pointer (&s);
}

NatsimScenario *
natsim_scenario_load_data (const char *data, gsize length, const char *name,
                           GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return natsim_scenario_load_data_with_overrides (data, length, name, NULL,
                                                   error);
}

static gboolean
read_scenario_file (const char *path, char **ret_data, gsize *ret_len,
                    GError **error)
{
  GStatBuf st;
  char *data = NULL;
  gsize len = 0;

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;

      g_set_error (error, NATSIM_ERROR,
                   saved == ENOENT || saved == ENOTDIR
                       ? NATSIM_ERROR_INVALID_INPUT : NATSIM_ERROR_IO,
                   "%s: cannot open the scenario: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  if (S_ISDIR (st.st_mode))
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "%s: expected a scenario file, got a directory", path);
      return FALSE;
    }
  if (S_ISREG (st.st_mode) && (guint64) st.st_size > SCENARIO_MAX_FILE_BYTES)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "%s: not a scenario file: %" G_GUINT64_FORMAT " bytes, "
                   "more than %u", path, (guint64) st.st_size,
                   SCENARIO_MAX_FILE_BYTES);
      return FALSE;
    }
  /* Read at most one byte more than the limit, so a device or pipe that
   * never ends (/dev/urandom, /dev/zero) is refused instead of hanging. */
  {
    FILE *f = fopen (path, "rb");
    gsize cap = SCENARIO_MAX_FILE_BYTES + 1;

    if (f == NULL)
      {
        int saved = errno;
        g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_IO,
                     "%s: cannot read the scenario: %s", path, g_strerror (saved));
        return FALSE;
      }
    data = g_malloc (cap + 1);
    len = fread (data, 1, cap, f);
    if (ferror (f))
      {
        int saved = errno;
        fclose (f);
        g_free (data);
        g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_IO,
                     "%s: cannot read the scenario: %s", path, g_strerror (saved));
        return FALSE;
      }
    fclose (f);
    if (len > SCENARIO_MAX_FILE_BYTES)
      {
        g_free (data);
        g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                     "%s: not a scenario file: more than %u bytes", path,
                     SCENARIO_MAX_FILE_BYTES);
        return FALSE;
      }
    data[len] = '\0';
  }
  *ret_data = data;
  *ret_len = len;
  return TRUE;
}

NatsimScenario *
natsim_scenario_load_with_overrides (const char *path,
                                     const char *const *overrides,
                                     GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!read_scenario_file (path, &data, &len, error))
    return NULL;
  return natsim_scenario_load_data_with_overrides (data, len, path, overrides,
                                                   error);
}

NatsimScenario *
natsim_scenario_load (const char *path, GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return natsim_scenario_load_with_overrides (path, NULL, error);
}

/* ---------------------------------------------------------------------- */
/* Cross-group checks */

static gboolean
validate_simulation (NatsimScenario *s, GError **error)
{
  NatsimTime duration = natsim_params_get_duration (s->simulation, "duration");
  NatsimTime warmup = natsim_params_get_duration (s->simulation, "warmup");
  NatsimTime interval = natsim_params_get_duration (s->simulation,
                                                    "timeline_interval");
  char buf[64];

  /* A cross-key error is blamed on the key the user just changed: a
   * --set duration that falls below the file's warmup names the --set. */
  if (warmup >= duration &&
      g_strcmp0 (natsim_params_origin (s->simulation, "duration"), "--set") == 0 &&
      g_strcmp0 (natsim_params_origin (s->simulation, "warmup"), "--set") != 0)
    {
      natsim_format_duration (warmup, buf, sizeof buf);
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "expected a duration longer than warmup (%s, %s), got '%s'",
                   buf, natsim_params_origin (s->simulation, "warmup"),
                   natsim_params_get (s->simulation, "duration"));
      scenario_prefix_param_place (error, s, s->simulation, "simulation", "duration");
      return FALSE;
    }
  if (warmup >= duration)
    {
      natsim_format_duration (duration, buf, sizeof buf);
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "expected a duration shorter than duration (%s), got '%s'",
                   buf, natsim_params_get (s->simulation, "warmup"));
      scenario_prefix_param_place (error, s, s->simulation, "simulation", "warmup");
      return FALSE;
    }
  if (duration / interval > TIMELINE_MAX_POINTS)
    {
      natsim_format_duration (duration, buf, sizeof buf);
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "expected at most %" PRIu64 " timeline points over "
                   "duration %s, got %" PRIu64 " with '%s'",
                   TIMELINE_MAX_POINTS, buf, duration / interval,
                   natsim_params_get (s->simulation, "timeline_interval"));
      scenario_prefix_param_place (error, s, s->simulation, "simulation",
                          "timeline_interval");
      return FALSE;
    }
  return TRUE;
}

static gboolean
validate_nat (NatsimScenario *s, GError **error)
{
  NatsimNatConfig cfg = { 0 };

  if (!natsim_nat_config_from_params (s->nat, &cfg, error))
    {
      scenario_prefix_check_place (error, s, s->nat, "nat", NULL);
      return FALSE;
    }
  if (!scenario_validate_forwards (s, &cfg, error))
    {
      natsim_nat_config_clear (&cfg);
      return FALSE;
    }
  natsim_nat_config_clear (&cfg);
  return TRUE;
}

static gboolean
validate_populations (NatsimScenario *s, GError **error)
{
  guint64 hosts = 0;

  if (s->populations->len == 0)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "%s: expected at least one [population NAME] group "
                   "(profiles: %s)", s->path, natsim_profile_names ());
      return FALSE;
    }

  for (guint i = 0; i < s->populations->len; i++)
    {
      const NatsimPopulationSpec *p = s->populations->pdata[i];
      g_autofree char *group = g_strconcat (POPULATION_PREFIX, p->name, NULL);
      const char *missing = natsim_params_missing (p->params);

      if (missing != NULL)
        {
          g_autofree char *what = natsim_key_describe (
              natsim_key_lookup (p->profile->keys, missing));

          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "%s: [%s] %s: required key missing; expected %s",
                       scenario_origin_is_file (s, p->origin) ? p->origin : s->path,
                       group, missing, what);
          scenario_set_place (error, s->path, scenario_origin_line (s, p->origin), group,
                              missing);
          return FALSE;
        }
      if (p->profile->validate != NULL
          && !p->profile->validate (p->params, error))
        {
          scenario_prefix_check_place (error, s, p->params, group, p->origin);
          return FALSE;
        }
      if (p->profile->n_hosts != NULL)
        hosts += p->profile->n_hosts (p->params);
      if (hosts > NATSIM_SCENARIO_MAX_HOSTS)
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "the populations need %" G_GUINT64_FORMAT " inside "
                       "addresses up to this one, more than the %u of "
                       "10.0.0.0/8", hosts, NATSIM_SCENARIO_MAX_HOSTS);
          if (natsim_key_lookup (p->profile->keys, "count") != NULL)
            scenario_prefix_param_place (error, s, p->params, group, "count");
          else
            scenario_prefix_group_place (error, s, group, p->origin);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
natsim_scenario_validate (NatsimScenario *s, GError **error)
{
  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return validate_simulation (s, error) && validate_nat (s, error)
         && validate_populations (s, error);
}
