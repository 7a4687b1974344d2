/* natsim: replications as units of the installed runner (natsim/runner.h),
 * for natsim_simulate() and natsim_sweep_run() under --mpi. */
#pragma once

#include "natsim/simulate.h"

/* Whether natsim_simulate() with @opts goes through the runner: one is
 * installed, and any observers can hand their figures between processes
 * (NatsimSimHooks save and load).  Otherwise every process runs every
 * replication itself, with the same outcome. */
gboolean units_distributed (const NatsimSimOptions *opts);

/* natsim_simulate() through the runner. */
GPtrArray *units_simulate (const NatsimScenario *s, const NatsimSimOptions *opts,
                           GError **error);

/* Runs replication @reps[u] of @scenarios[u] for every unit u < @n
 * through the runner into @results[u]; @finished (may be NULL) hears of
 * each unit done, on the process that writes. */
gboolean units_run_replications (const NatsimScenario *const *scenarios, const guint *reps,
                                 guint n, guint jobs, NatsimRunResult **results,
                                 void (*finished) (guint unit, guint done, guint total,
                                                   void *data),
                                 void *finished_data, GError **error);

/* A digest of unit @u's inputs: scenario @s (every effective key of every
 * group), replication @rep and @u; units carry it so that processes
 * started with different inputs fail instead of mixing their figures. */
guint64 units_digest (const NatsimScenario *s, guint rep, guint u);
