/* natsim classify: RFC 5780 behaviour discovery against the simulated NAT. */
#include <stdio.h>
#include <string.h>

#include "cli-private.h"
#include "natsim/classify-report.h"
#include "natsim/nat-classify.h"
#include "natsim/error.h"

int
cmd_classify (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = NULL;
  g_autoptr (NatsimParams) params = NULL;
  g_autoptr (NatsimClassification) c = NULL;
  g_autoptr (JsonNode) config = NULL;
  g_auto (GStrv) sets = NULL;
  g_autofree char *out_dir = NULL;
  g_autofree char *formats = NULL;
  g_autofree char *text = NULL;
  gboolean quiet = FALSE;
  NatsimNatConfig cfg = { 0 };
  NatsimClassifyInputs in = { 0 };
  guint64 seed = 1;
  GOptionEntry entries[] = {
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets,
      "Override a key, e.g. nat.preset=rfc or nat.udp_timeout=2m (repeatable)", "GROUP.KEY=VALUE" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
      "Directory for the outputs (default reports/classify or reports/SCENARIO-NAME-classify)",
      "DIR" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &formats,
      "Outputs to write: text,json,md,html (default all four)", "LIST" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print no summary on stdout", NULL },
    { NULL }
  };

  ctx = g_option_context_new ("[SCENARIO.ini] - what kind of NAT is this? (RFC 5780 tests)");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Runs the behaviour tests of RFC 5780 against the simulated NAT of SCENARIO.ini (without\n"
    "one: the default NAT, the linux preset; --set nat.preset=NAME for another): mapping,\n"
    "filtering, hairpinning, port preservation, parity, pooling, the binding lifetime of\n"
    "UDP and TCP (to within one second) and which direction refreshes it, and the RFC 3489\n"
    "name.  Writes DIR/classification.json (every test's probe transcript),\n"
    "classification.txt, classification.md and classification.html (each test drawn as a\n"
    "sequence diagram).\n"
    "\nExamples:\n"
    "  natsim classify\n"
    "  natsim classify --set nat.preset=rfc\n"
    "  natsim classify --set nat.filtering=endpoint-independent --format json --out /tmp/fc\n"
    "  natsim classify scenarios/classroom-filtering.ini\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if (argc > 2)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "classify: expected at most one SCENARIO.ini (see 'natsim classify --help')");
      return cli_fail (g_steal_pointer (&error));
    }
  if (formats == NULL)
    formats = g_strdup ("text,json,md,html");
  if (!natsim_classification_check_formats (formats, &error))
    {
      g_prefix_error (&error, "--format: ");
      return cli_fail (g_steal_pointer (&error));
    }

  if (argc == 2)
    {
      s = cli_load_scenario (argv[1], sets, &error);
      if (s == NULL)
        return cli_fail (g_steal_pointer (&error));
      if (!natsim_scenario_nat_config (s, &cfg, &error))
        return cli_fail (g_steal_pointer (&error));
      config = natsim_nat_config_to_json (s->nat);
      seed = natsim_params_get_uint (s->simulation, "seed");
      in.scenario = argv[1];
      if (out_dir == NULL)
        out_dir = cli_default_out_dir (argv[1], "-classify");
    }
  else
    {
      params = cli_nat_params_from_sets (sets, "classify without a scenario", &error);
      if (params == NULL)
        return cli_fail (g_steal_pointer (&error));
      if (!natsim_nat_config_from_params (params, &cfg, &error))
        {
          g_prefix_error (&error, "[nat] ");
          return cli_fail (g_steal_pointer (&error));
        }
      config = natsim_nat_config_to_json (params);
      if (out_dir == NULL)
        out_dir = g_build_filename ("reports", "classify", NULL);
    }
  in.config = config;

  c = natsim_classify (&cfg, seed);
  natsim_nat_config_clear (&cfg);
  if (!natsim_classification_write_dir (c, &in, out_dir, formats, &error))
    return cli_fail (g_steal_pointer (&error));
  if (!quiet)
    {
      text = natsim_classification_to_text (c, &in);
      fputs (text, stdout);
      printf ("\nOutputs written to %s/\n", out_dir);
    }
  return EXIT_OK;
}
