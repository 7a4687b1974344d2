/* natsim command line: shared helpers. */
#pragma once

#include <glib.h>

#include "natsim/report.h"
#include "natsim/scenario.h"
#include "natsim/simulate.h"

/* Exit statuses (DESIGN.md): 0 success, 2 bad input or usage, 1 other. */
enum { EXIT_OK = 0, EXIT_FAILURE_OTHER = 1, EXIT_BAD_INPUT = 2 };

/* Prints "natsim: MESSAGE" and returns the exit status for @error. */
int cli_fail (GError *error);

/* Loads @path, applies --set assignments and validates. */
NatsimScenario *cli_load_scenario (const char *path, char **sets, GError **error);

int cmd_simulate (int argc, char **argv);
int cmd_replay (int argc, char **argv);
int cmd_analyze (int argc, char **argv);
int cmd_synth (int argc, char **argv);
int cmd_plan (int argc, char **argv);
int cmd_sweep (int argc, char **argv);
int cmd_check (int argc, char **argv);
int cmd_presets (int argc, char **argv);
int cmd_profiles (int argc, char **argv);
