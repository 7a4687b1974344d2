/* natsim check / presets / profiles: the catalogues and the effective
 * configuration, printed from the same key tables the loader validates
 * against. */
#include <stdio.h>
#include <string.h>

#include "cli-private.h"

static gboolean
parse_no_args (const char *name, const char *summary, const char *description,
               int *argc, char ***argv, GError **error)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (summary);

  g_option_context_set_description (ctx, description);
  if (!g_option_context_parse (ctx, argc, argv, error))
    return FALSE;
  if (*argc != 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "%s: takes no arguments (see 'natsim %s --help')", name, name);
      return FALSE;
    }
  return TRUE;
}

static void
print_params (const char *group, const NatsimParams *p, gboolean origins)
{
  const NatsimKeySpec *specs = natsim_params_specs (p);

  if (group != NULL)
    printf ("[%s]\n", group);
  for (const NatsimKeySpec *k = specs; k->name != NULL; k++)
    {
      const char *v = natsim_params_get (p, k->name);
      if (origins)
        printf ("%-24s = %-28s # %s\n", k->name, v ? v : "(unset)",
                natsim_params_origin (p, k->name) ? natsim_params_origin (p, k->name) : "");
      else
        printf ("%-24s = %s\n", k->name, v ? v : "(unset)");
    }
}

int
cmd_check (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = NULL;
  g_autoptr (GPtrArray) checks = NULL;
  g_autoptr (GArray) recs = NULL;
  g_auto (GStrv) sets = NULL;
  gint jobs = 1;
  gboolean force = FALSE;
  CliMemoryEstimate mem;
  char need[32], have[32];
  GOptionEntry entries[] = {
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets,
      "Override a scenario key, e.g. nat.udp_timeout=30s (repeatable)", "GROUP.KEY=VALUE" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs,
      "Replications simulate would run at once, for the memory estimate (default 1)", "N" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force,
      "Exit 0 even when the estimated memory exceeds what is available", NULL },
    { NULL }
  };

  ctx = g_option_context_new ("SCENARIO.ini - validate a scenario");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Validates SCENARIO.ini, prints every effective key with where its value came from\n"
    "(default, preset, file line, --set), the configuration warnings and the\n"
    "recommendations that follow from arithmetic on the endpoint profiles, and the memory\n"
    "a simulation needs (estimated from the endpoints, flow rates and timeouts).  Exit\n"
    "status 2 when the scenario is invalid or would need more memory than the machine\n"
    "has available (unless --force).\n"
    "\nExamples:\n"
    "  natsim check scenarios/default.ini\n"
    "  natsim check scenarios/default.ini --set nat.preset=rfc\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if (argc != 2)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "check: expected one SCENARIO.ini (see 'natsim check --help')");
      return cli_fail (g_steal_pointer (&error));
    }
  if (!cli_check_jobs (jobs, &error))
    return cli_fail (g_steal_pointer (&error));
  s = cli_load_scenario (argv[1], sets, &error);
  if (s == NULL)
    return cli_fail (g_steal_pointer (&error));

  printf ("# %s: valid\n\n", argv[1]);
  print_params ("simulation", s->simulation, TRUE);
  printf ("\n");
  print_params ("nat", s->nat, TRUE);
  for (guint i = 0; i < s->forwards->len; i++)
    {
      const NatsimForwardSpec *f = g_ptr_array_index (s->forwards, i);
      printf ("\n[forward %s]\n", f->name);
      print_params (NULL, f->params, TRUE);
    }
  for (guint i = 0; i < s->populations->len; i++)
    {
      const NatsimPopulationSpec *p = g_ptr_array_index (s->populations, i);
      printf ("\n[population %s]\n", p->name);
      /* The profile is not one of the profile's own keys, but it decides
       * what the group is: print it first, placed at the group's header
       * (a population's profile cannot be overridden). */
      printf ("%-24s = %-28s # %s\n", "profile", p->profile->name,
              p->origin != NULL ? p->origin : "");
      print_params (NULL, p->params, TRUE);
    }
  {
    NatsimNatConfig cfg;

    /* The port arithmetic of the NAT (blocks, deterministic NAT). */
    if (natsim_nat_config_from_params (s->nat, &cfg, NULL))
      {
        g_autofree char *ports = natsim_nat_config_describe (&cfg);
        printf ("\n# port arithmetic\n%s", ports);
        natsim_nat_config_clear (&cfg);
      }
  }
  checks = natsim_check_scenario (s);
  printf ("\n# %u warning%s\n", checks->len, checks->len == 1 ? "" : "s");
  for (guint i = 0; i < checks->len; i++)
    {
      NatsimCheck *c = g_ptr_array_index (checks, i);
      printf ("warning %s: %s\n", c->id, c->message);
    }
  recs = natsim_check_recommendations (s);
  printf ("\n# %u recommendation%s\n", recs->len, recs->len == 1 ? "" : "s");
  for (guint i = 0; i < recs->len; i++)
    {
      const NatsimRecommendation *r = &g_array_index (recs, NatsimRecommendation, i);
      printf ("recommendation %s = %g %s (%s): %s\n", r->id, r->value, r->unit, r->basis,
              r->reason);
    }
  cli_memory_estimate (s, (guint) jobs, &mem);
  cli_format_bytes (mem.total, need, sizeof need);
  if (mem.available > 0)
    cli_format_bytes (mem.available, have, sizeof have);
  else
    g_strlcpy (have, "unknown", sizeof have);
  printf ("\n# memory\nsimulate needs about %s (%u replication%s at once); available: %s\n",
          need, mem.parallel, mem.parallel == 1 ? "" : "s", have);
  if (!cli_memory_guard (s, (guint) jobs, force, &error))
    return cli_fail (g_steal_pointer (&error));
  return EXIT_OK;
}

int
cmd_presets (int argc, char **argv)
{
  GError *error = NULL;

  if (!parse_no_args ("presets", "- list the NAT behaviour presets",
                      "Prints each preset of the [nat] group with its values; keys given in a\n"
                      "scenario override the preset.\n\nExample:\n  natsim presets\n",
                      &argc, &argv, &error))
    return cli_fail (error);
  printf ("[nat] keys (defaults are the linux preset):\n");
  for (const NatsimKeySpec *k = natsim_nat_keys; k->name != NULL; k++)
    printf ("  %-24s %-16s %s\n", k->name, k->default_value, k->help);
  for (const NatsimNatPreset *p = natsim_nat_presets; p->name != NULL; p++)
    {
      printf ("\npreset = %s\n  %s\n", p->name, p->description);
      for (guint i = 0; p->values[i] != NULL; i += 2)
        printf ("  %-24s = %s\n", p->values[i], p->values[i + 1]);
    }
  return EXIT_OK;
}

int
cmd_profiles (int argc, char **argv)
{
  GError *error = NULL;

  if (!parse_no_args ("profiles", "- list the traffic profiles",
                      "Prints each profile a [population NAME] group can use, with its keys,\n"
                      "defaults and meaning.\n\nExample:\n  natsim profiles\n",
                      &argc, &argv, &error))
    return cli_fail (error);
  for (guint i = 0; natsim_profiles[i] != NULL; i++)
    {
      const NatsimProfile *p = natsim_profiles[i];
      printf ("%sprofile = %s\n  %s\n", i ? "\n" : "", p->name, p->description);
      for (const NatsimKeySpec *k = p->keys; k->name != NULL; k++)
        printf ("  %-20s %-20s %s\n", k->name,
                k->default_value ? (*k->default_value ? k->default_value : "(none)") : "(required)",
                k->help);
    }
  return EXIT_OK;
}
