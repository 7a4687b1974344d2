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

/* --mpi (cli-mpi.c).  Whether the command line asks for it (simulate,
 * sweep and plan take it; not with --help). */
gboolean cli_mpi_wanted (int argc, char **argv);
/* Starts MPI on every process (before the command parses its options);
 * EXIT_OK, or the status of the failure it printed (exit 2 when natsim
 * was built without MPI). */
int cli_mpi_start (int *argc, char ***argv);
/* TRUE on the process that writes and prints: rank 0, or any process
 * without --mpi. */
gboolean cli_mpi_is_root (void);
/* --mpi: the processes of this run on this node (they share its memory);
 * 1 without --mpi. */
guint cli_mpi_ranks_on_node (void);
/* Before rank 0 writes: FALSE with the error of another rank that
 * failed (natsim_mpi_gather()); TRUE without --mpi and on other ranks. */
gboolean cli_mpi_gather (GError **error);
/* Ends the run on every process with the command's @status (its error as
 * cli_fail() last saw it); returns the process's exit status. */
int cli_mpi_finish (int status);
/* cli_fail() keeps a copy of the error it prints, for cli_mpi_finish(). */
void cli_remember_error (const GError *error);

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
gboolean cli_set_replications (NatsimScenario *s, const char *arg, GError **error);

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
 * scenario, seed and config.  @measured is the scenario the runs ran (@s,
 * or plan's measurement with port blocks lifted): the per-address figures
 * are named by its addresses. */
NatsimReport *cli_scenario_report (const char *command, const char *path, const NatsimScenario *s,
                                   const NatsimScenario *measured, const GPtrArray *runs);

/* The configuration checks of @s as warnings of @report. */
void cli_add_check_warnings (NatsimReport *report, const NatsimScenario *s);

/* The configuration checks of a [nat] group alone (replay) as warnings. */
void cli_add_nat_check_warnings (NatsimReport *report, const NatsimParams *nat);

/* Writes @report's @formats to @out_dir and, unless @quiet, prints its text
 * and "Reports written to OUT_DIR/" on stdout. */
gboolean cli_write_report (const NatsimReport *report, const char *out_dir, const char *formats,
                           gboolean quiet, GError **error);

/* --events FILE|-: narration to standard output, or to FILE through a
 * temporary file renamed only when the run succeeded. */
typedef struct
{
  FILE *file; /* NULL: no narration */
  char *path;
  char *tmp;
} CliEvents;

/* Opens @path (NULL: no narration; "-": standard output). */
gboolean cli_events_open (CliEvents *ev, const char *path, GError **error);
/* Closes; renames the temporary file into place when @ok, else removes
 * it.  Fails only when @ok and the file could not be completed. */
gboolean cli_events_close (CliEvents *ev, gboolean ok, GError **error);

/* The total size of the files @traces, for progress; 0 when one is
 * standard input or cannot be examined (progress then shows nothing). */
guint64 cli_traces_size (const char *const *traces, guint n);

/* The memory guard (memory.c): an estimate of what a run of @s needs. */
typedef struct
{
  guint64 per_replication; /* bytes */
  guint   parallel;        /* replications held at once (--jobs) */
  guint64 total;           /* per_replication x parallel */
  guint   ranks;           /* --mpi: processes on this node sharing it (else 1) */
  guint64 available;       /* the machine's available memory, 0 if unknown;
                            * with --mpi, this process's share of it */
} CliMemoryEstimate;

void cli_memory_estimate (const NatsimScenario *s, guint jobs, CliMemoryEstimate *ret);
/* False (exit 2) when the estimate exceeds the available memory, unless
 * @force, which only warns on stderr. */
gboolean cli_memory_guard (const NatsimScenario *s, guint jobs, gboolean force,
                           GError **error);
/* "512 MiB", "3.1 GiB". */
void cli_format_bytes (guint64 bytes, char *buf, gsize size);

/* Progress with an ETA on standard error (progress.c): only when it is a
 * terminal and not @quiet. */
typedef struct
{
  gboolean enabled;
  gint64   start_us, last_us;
  gboolean drawn;
  guint64  total; /* for the caller: the amount that makes 100 % */
} CliProgress;

void cli_progress_init (CliProgress *p, gboolean quiet);
/* Redraws "natsim: WHAT NN%, about T left" (at most 4 times a second). */
void cli_progress_update (CliProgress *p, double fraction, const char *what);
/* Clears the progress line. */
void cli_progress_done (CliProgress *p);
/* "45s", "3m07s", "1h02m". */
void cli_progress_format_eta (double seconds, char *buf, gsize size);

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
