/* natsim: where units of work run.
 *
 * natsim_simulate() (a unit is a replication) and natsim_sweep_run() (a
 * point x replication) hand their units to the installed runner when
 * there is one; without (the default) they run them on this process's
 * thread pool as before.  A distributed runner (--mpi, src/analysis/mpi.c)
 * runs the same program on every process (SPMD): every process calls the
 * same drivers in the same order with the same inputs; the runner spreads
 * each call's units over the processes and gives every process every
 * unit's result, as bytes (natsim/serial.h), in unit order, so that the
 * drivers stay in step and one process writes the reports.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  /* Runs unit @unit and returns its result as bytes.  On any process, on
   * a worker thread; units of one call run concurrently. */
  GBytes *(*run) (guint unit, void *data, GError **error);
  /* Takes unit @unit's result: on every process, on the calling thread,
   * in unit order, once every unit has run.  Replaces what run() left on
   * this process, so that every process holds the same figures. */
  gboolean (*store) (guint unit, GBytes *result, void *data, GError **error);
  /* Unit @unit has finished, @done of @total: on the process that writes
   * the reports only, on the calling thread (progress).  May be NULL. */
  void (*finished) (guint unit, guint done, guint total, void *data);
} NatsimUnitOps;

typedef struct
{
  /* Runs units [0, @n_units) of one call with @jobs threads per process;
   * unit 0 runs on the process that writes (replication 1's narration).
   * On failure every process returns the same error. */
  gboolean (*run) (void *runner_data, guint n_units, guint jobs, const NatsimUnitOps *ops,
                   void *data, GError **error);
  /* This process's number among those the runner spans (0: the one that
   * writes), for messages that name who ran a unit.  May be NULL (0). */
  int (*process) (void *runner_data);
} NatsimRunnerClass;

/* Installs the process's runner (NULL: none); the CLI does it once, before
 * any run. */
void natsim_runner_install (const NatsimRunnerClass *klass, void *runner_data);

/* Whether a runner is installed. */
gboolean natsim_runner_installed (void);

/* The installed runner's number for this process (0 without a runner). */
int natsim_runner_process (void);

/* Runs @n_units units through the installed runner (one must be). */
gboolean natsim_runner_run (guint n_units, guint jobs, const NatsimUnitOps *ops, void *data,
                            GError **error);

G_END_DECLS
