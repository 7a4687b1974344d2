/* natsim command line: helpers the subcommands share. */
#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli-private.h"
#include "natsim/error.h"
#include "natsim/parse.h"

int
cli_fail (GError *error)
{
  int status = EXIT_FAILURE_OTHER;

  if (error == NULL)
    return status;
  if ((error->domain == NATSIM_ERROR && error->code == NATSIM_ERROR_INVALID_INPUT) ||
      error->domain == G_OPTION_ERROR || error->domain == G_KEY_FILE_ERROR)
    status = EXIT_BAD_INPUT;
  fprintf (stderr, "natsim: %s\n", error->message);
  cli_remember_error (error);
  g_error_free (error);
  return status;
}

NatsimScenario *
cli_load_scenario (const char *path, char **sets, GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  g_autoptr (NatsimScenario) s = natsim_scenario_load (path, error);

  if (s == NULL)
    return NULL;
  for (guint i = 0; sets != NULL && sets[i] != NULL; i++)
    if (!natsim_scenario_set (s, sets[i], error))
      return NULL;
  if (!natsim_scenario_validate (s, error))
    return NULL;
  return g_steal_pointer (&s);
}

gboolean
cli_check_jobs (gint jobs, GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (jobs < 1 || jobs > 1024)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--jobs: expected 1 to 1024, got %d", jobs);
      return FALSE;
    }
  return TRUE;
}

gboolean
cli_check_formats (char **formats, GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (*formats == NULL)
    *formats = g_strdup (NATSIM_REPORT_DEFAULT_FORMATS);
  if (!cli_format_list_nonempty (*formats, error))
    return FALSE;
  return natsim_report_check_formats (*formats, error);
}

gboolean
cli_format_list_nonempty (const char *formats, GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_auto (GStrv) list = g_strsplit (formats, ",", -1);

  /* "--format ''" (or ",,") would otherwise write nothing and exit 0: a
   * run that produces no report is a usage error, not a success. */
  for (guint i = 0; list[i] != NULL; i++)
    if (g_strstrip (list[i])[0] != '\0')
      return TRUE;
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "expected at least one format, got '%s'", formats);
  return FALSE;
}

gboolean
cli_parse_seed (const char *arg, uint64_t *ret_seed, GError **error)
{
  uint64_t v;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!natsim_parse_uint (arg, G_MAXUINT64, &v, error))
    {
      g_prefix_error (error, "--seed %s: ", arg);
      return FALSE;
    }
  *ret_seed = v;
  return TRUE;
}

gboolean
cli_set_replications (NatsimScenario *s, const char *arg, GError **error)
{
  g_autofree char *a = NULL;
  uint64_t r;

  /* Parsed as text: an integer option would take -1 for "not given". */
  if (!natsim_parse_uint (arg, G_MAXUINT32, &r, error) || r < 1)
    {
      g_clear_error (error);
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--replications %s: expected a whole number, at least 1", arg);
      return FALSE;
    }
  a = g_strdup_printf ("simulation.replications=%" G_GUINT64_FORMAT, r);
  return natsim_scenario_set (s, a, error);
}

char *
cli_default_out_dir (const char *path, const char *suffix)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *name = NULL;
  char *dot = strrchr (base, '.');

  if (dot != NULL && dot != base)
    *dot = '\0';
  name = g_strconcat (base, suffix, NULL);
  return g_build_filename ("reports", name, NULL);
}

NatsimCidrSet *
cli_inside_set (char **insides, GError **error)
{
  g_autoptr (NatsimCidrSet) inside = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (insides == NULL || insides[0] == NULL)
    return natsim_cidr_set_new_default ();
  inside = natsim_cidr_set_new ();
  for (guint i = 0; insides[i] != NULL; i++)
    if (!natsim_cidr_set_add_string (inside, insides[i], error))
      {
        g_prefix_error (error, "--inside %s: ", insides[i]);
        return NULL;
      }
  return g_steal_pointer (&inside);
}

NatsimParams *
cli_nat_params_from_sets (char **sets, const char *context, GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  g_autoptr (NatsimParams) p = natsim_params_new (natsim_nat_keys);
  g_autofree char *preset_name = g_strdup (natsim_params_get (p, "preset"));
  g_autofree char *origin = NULL;
  const NatsimNatPreset *preset;

  for (guint i = 0; sets != NULL && sets[i] != NULL; i++)
    {
      const char *eq = strchr (sets[i], '=');

      if (!g_str_has_prefix (sets[i], "nat.") || eq == NULL || eq == sets[i] + 4)
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "--set %s: expected nat.KEY=VALUE (%s configures only the NAT)",
                       sets[i], context);
          return NULL;
        }
      if (strncmp (sets[i] + 4, "preset=", 7) == 0)
        {
          g_free (preset_name);
          preset_name = g_strdup (eq + 1);
        }
    }
  preset = natsim_nat_preset_lookup (preset_name);
  if (preset == NULL)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "--set nat.preset=%s: unknown preset (natsim presets lists them)",
                   preset_name);
      return NULL;
    }
  origin = g_strdup_printf ("preset %s", preset->name);
  for (guint i = 0; preset->values[i] != NULL && preset->values[i + 1] != NULL; i += 2)
    if (!natsim_params_set (p, preset->values[i], preset->values[i + 1], origin, error))
      {
        g_prefix_error (error, "[nat] %s (preset %s): ", preset->values[i], preset->name);
        return NULL;
      }
  for (guint i = 0; sets != NULL && sets[i] != NULL; i++)
    {
      const char *eq = strchr (sets[i], '=');
      g_autofree char *key = g_strndup (sets[i] + 4, (gsize) (eq - sets[i] - 4));

      if (!natsim_params_set (p, key, eq + 1, "--set", error))
        {
          g_prefix_error (error, "--set %s: ", sets[i]);
          return NULL;
        }
    }
  return g_steal_pointer (&p);
}

NatsimReport *
cli_scenario_report (const char *command, const char *path, const NatsimScenario *s,
                     const NatsimScenario *measured, const GPtrArray *runs)
{
  NatsimReport *report = natsim_report_new (command);
  g_auto (GStrv) names = natsim_scenario_class_names (s);
  GArray *addrs = natsim_params_get_addresses (measured->nat, "addresses");

  report->summary = natsim_summarize ((NatsimRunResult *const *) runs->pdata, runs->len,
                                      (const char *const *) names, (const uint32_t *) addrs->data,
                                      addrs->len);
  g_array_unref (addrs);
  report->scenario = g_strdup (path);
  report->seed = natsim_params_get_uint (s->simulation, "seed");
  report->config = natsim_scenario_config_to_json (s);
  return report;
}

void
cli_add_check_warnings (NatsimReport *report, const NatsimScenario *s)
{
  g_autoptr (GPtrArray) checks = natsim_check_scenario (s);

  for (guint i = 0; i < checks->len; i++)
    {
      NatsimCheck *c = g_ptr_array_index (checks, i);
      natsim_report_add_warning (report, c->id, "%s", c->message);
    }
}

void
cli_add_nat_check_warnings (NatsimReport *report, const NatsimParams *nat)
{
  g_autoptr (GPtrArray) none = g_ptr_array_new ();
  g_autoptr (GPtrArray) checks = NULL;
  /* The checks of the [nat] group alone: a scenario with this NAT and no
   * population (a capture's endpoints are not modelled). */
  NatsimScenario view = { .path = (char *) "", .nat = (NatsimParams *) nat,
                          .populations = none };

  checks = natsim_check_scenario (&view);
  for (guint i = 0; i < checks->len; i++)
    {
      NatsimCheck *c = g_ptr_array_index (checks, i);
      natsim_report_add_warning (report, c->id, "%s", c->message);
    }
}

gboolean
cli_write_report (const NatsimReport *report, const char *out_dir, const char *formats,
                  gboolean quiet, GError **error)
{
  g_autofree char *skipped = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!natsim_report_write_dir_full (report, out_dir, formats, &skipped, error))
    return FALSE;
  /* Like charts without gnuplot: the other reports are complete. */
  if (skipped != NULL)
    fprintf (stderr, "natsim: %s\n", skipped);
  if (!quiet)
    {
      natsim_report_write_text (report, stdout);
      printf ("\nReports written to %s/\n", out_dir);
    }
  return TRUE;
}

gboolean
cli_events_open (CliEvents *ev, const char *path, GError **error)
{
  memset (ev, 0, sizeof *ev);
  if (path == NULL)
    return TRUE;
  ev->path = g_strdup (path);
  if (strcmp (path, "-") == 0)
    {
      ev->file = stdout;
      return TRUE;
    }
  /* Narration goes to a temporary file renamed at the end, so a failed
   * run leaves no half-written narration behind. */
  ev->tmp = g_strconcat (path, ".tmp", NULL);
  ev->file = fopen (ev->tmp, "w");
  if (ev->file == NULL)
    {
      int saved = errno;

      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_IO, "--events %s: %s", path,
                   g_strerror (saved));
      g_clear_pointer (&ev->tmp, g_free);
      g_clear_pointer (&ev->path, g_free);
      return FALSE;
    }
  return TRUE;
}

gboolean
cli_events_close (CliEvents *ev, gboolean ok, GError **error)
{
  gboolean done = TRUE;

  if (ev->file == stdout)
    fflush (stdout);
  else if (ev->file != NULL)
    {
      int saved = 0;

      if (fclose (ev->file) != 0)
        saved = errno;
      else if (ok && rename (ev->tmp, ev->path) != 0)
        saved = errno;
      if (saved != 0 || !ok)
        {
          unlink (ev->tmp);
          if (saved != 0 && ok)
            {
              g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_IO, "--events %s: %s", ev->path,
                           g_strerror (saved));
              done = FALSE;
            }
        }
    }
  ev->file = NULL;
  g_clear_pointer (&ev->tmp, g_free);
  g_clear_pointer (&ev->path, g_free);
  return done;
}

guint64
cli_traces_size (const char *const *traces, guint n)
{
  guint64 total = 0;

  for (guint i = 0; i < n; i++)
    {
      GStatBuf st;

      if (strcmp (traces[i], "-") == 0 || g_stat (traces[i], &st) != 0)
        return 0;
      total += (guint64) st.st_size;
    }
  return total;
}

gboolean
cli_trace_warnings (const NatsimTraceStats *st, const char *const *paths, gboolean strict,
                    GError **error)
{
  g_autofree char *cut = natsim_trace_cut_message (st, paths);
  g_autofree char *bad_time = natsim_trace_bad_time_message (st);

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (cut != NULL && strict)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "%s; --strict refuses a cut capture", cut);
      return FALSE;
    }
  if (cut != NULL)
    fprintf (stderr, "natsim: warning: %s\n", cut);
  if (bad_time != NULL)
    fprintf (stderr, "natsim: warning: %s\n", bad_time);
  return TRUE;
}
