/* natsim: command-line entry point and subcommand dispatch. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cli-private.h"

typedef struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} Command;

static const Command commands[] = {
  { "simulate", cmd_simulate, "run a scenario: discrete-event simulation through the NAT model" },
  { "replay", cmd_replay, "replay captures (pcap, pcapng) through the NAT model" },
  { "analyze", cmd_analyze, "characterise captured traffic (flows, gaps, SIP, DSCP) without a NAT" },
  { "synth", cmd_synth, "write the simulated packets of a scenario as a pcap capture" },
  { "plan", cmd_plan, "sizing recommendations: addresses, port blocks, timeouts, keepalives" },
  { "sweep", cmd_sweep, "run a scenario over a grid of parameter values" },
  { "classify", cmd_classify, "what kind of NAT is it? RFC 5780 tests against the simulated NAT" },
  { "check", cmd_check, "validate a scenario; print the effective configuration and warnings" },
  { "presets", cmd_presets, "list the NAT behaviour presets and their values" },
  { "profiles", cmd_profiles, "list the traffic profiles and their keys" },
  { NULL, NULL, NULL }
};

static void
usage (FILE *out)
{
  fprintf (out,
           "Usage: natsim COMMAND [OPTION...]\n"
           "\n"
           "natsim simulates a stateful NAT/PAT gateway (port pools, timeouts, filtering)\n"
           "under modelled traffic, to size PAT pools and check timeouts before a VoIP\n"
           "roll-out.\n"
           "\nCommands:\n");
  for (const Command *c = commands; c->name != NULL; c++)
    fprintf (out, "  %-10s %s\n", c->name, c->summary);
  fprintf (out,
           "\nExamples:\n"
           "  natsim simulate scenarios/default.ini\n"
           "  natsim simulate scenarios/classroom-exhaustion.ini --set nat.port_range=1024-1033 --events -\n"
           "  natsim check scenarios/default.ini\n"
           "  natsim classify --set nat.preset=rfc\n"
           "  natsim presets\n"
           "\nRun 'natsim COMMAND --help' for the options of a command.\n"
           "Exit status: 0 success, 2 bad input or usage, 1 any other failure.\n");
}

int
main (int argc, char **argv)
{
  const char *name;

  setlocale (LC_ALL, "");
  /* Numbers in reports never depend on the locale (report writers use
   * g_ascii_*), but keep printf's own formatting C-like too. */
  setlocale (LC_NUMERIC, "C");

  if (argc < 2)
    {
      usage (stderr);
      return EXIT_BAD_INPUT;
    }
  name = argv[1];
  if (strcmp (name, "--version") == 0 || strcmp (name, "-V") == 0)
    {
      printf ("natsim %s\n", NATSIM_VERSION);
      return EXIT_OK;
    }
  if (strcmp (name, "--help") == 0 || strcmp (name, "-h") == 0 || strcmp (name, "help") == 0)
    {
      usage (stdout);
      return EXIT_OK;
    }
  for (const Command *c = commands; c->name != NULL; c++)
    if (strcmp (c->name, name) == 0)
      {
        int status;

        if (!cli_mpi_wanted (argc, argv))
          return c->run (argc - 1, argv + 1);
        /* --mpi: every process of mpirun/srun runs the command; the
         * units of work are spread over them, rank 0 writes. */
        status = cli_mpi_start (&argc, &argv);
        if (status != EXIT_OK)
          return status;
        status = c->run (argc - 1, argv + 1);
        return cli_mpi_finish (status);
      }
  fprintf (stderr, "natsim: unknown command '%s'\n\n", name);
  usage (stderr);
  return EXIT_BAD_INPUT;
}
