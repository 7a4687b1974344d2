/* natsim command line: shared helpers. */
#pragma once

#include <glib.h>

#include "natsim/report.h"
#include "natsim/scenario.h"
#include "natsim/simulate.h"
#include "natsim/trace.h"

/* Exit statuses (README.md, "Commands"): 0 success, 2 bad input or usage, 1 other. */
enum { EXIT_OK = 0, EXIT_FAILURE_OTHER = 1, EXIT_BAD_INPUT = 2 };

/* Prints "natsim: MESSAGE" and returns the exit status for @error. */
int cli_fail (GError *error);

/* What the reader met in the captures @paths (counts @st): a cut last
 * record fails with NATSIM_ERROR_INVALID_INPUT when @strict, else it and
 * impossible timestamps are warned about on stderr ("natsim: warning: ..."),
 * as tshark does; the report carries them as warnings too. */
gboolean cli_trace_warnings (const NatsimTraceStats *st, const char *const *paths,
                             gboolean strict, GError **error);

/* Loads @path, applies --set assignments and validates. */
NatsimScenario *cli_load_scenario (const char *path, char **sets, GError **error);

/* --jobs: 1 to 1024. */
gboolean cli_check_jobs (gint jobs, GError **error);

/* --format: defaults *@formats to NATSIM_REPORT_DEFAULT_FORMATS, then
 * checks it (the error is not prefixed). */
gboolean cli_check_formats (char **formats, GError **error);

/* False with an error when the comma-separated @formats names no format
 * at all ("" or ","). */
gboolean cli_format_list_nonempty (const char *formats, GError **error);

/* --seed N: a non-negative decimal integer; anything else (-1, "x") is a
 * usage error naming --seed. */
gboolean cli_parse_seed (const char *arg, uint64_t *ret_seed, GError **error);

/* --replications R (R at least 1) as simulation.replications=R; the
 * scenario still wants validating. */
gboolean cli_set_replications (NatsimScenario *s, gint64 replications, GError **error);

/* reports/NAME@suffix, NAME the base name of @path without its extension. */
char *cli_default_out_dir (const char *path, const char *suffix);

/* --inside CIDR...: the inside prefixes, or the default set (RFC 1918,
 * RFC 6598, ULA) without any. */
NatsimCidrSet *cli_inside_set (char **insides, GError **error);

/* [nat] without a scenario: key defaults, the preset (the last
 * --set nat.preset=NAME, else the default), then every --set nat.KEY=VALUE
 * in order.  Only nat.* assignments make sense without a scenario; the
 * error for others reads "(@context configures only the NAT)". */
NatsimParams *cli_nat_params_from_sets (char **sets, const char *context, GError **error);

/* A @command report of @runs of scenario @s (loaded from @path): summary,
 * scenario, seed and config. */
NatsimReport *cli_scenario_report (const char *command, const char *path, const NatsimScenario *s,
                                   const GPtrArray *runs);

/* The configuration checks of @s as warnings of @report. */
void cli_add_check_warnings (NatsimReport *report, const NatsimScenario *s);

/* Writes @report's @formats to @out_dir and, unless @quiet, prints its text
 * and "Reports written to OUT_DIR/" on stdout. */
gboolean cli_write_report (const NatsimReport *report, const char *out_dir, const char *formats,
                           gboolean quiet, GError **error);

int cmd_simulate (int argc, char **argv);
int cmd_replay (int argc, char **argv);
int cmd_analyze (int argc, char **argv);
int cmd_synth (int argc, char **argv);
int cmd_plan (int argc, char **argv);
int cmd_sweep (int argc, char **argv);
int cmd_check (int argc, char **argv);
int cmd_classify (int argc, char **argv);
int cmd_presets (int argc, char **argv);
int cmd_profiles (int argc, char **argv);
