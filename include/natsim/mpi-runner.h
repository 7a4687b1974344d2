/* natsim: runs spread over the processes of mpirun or srun (--mpi).
 *
 * Every process runs the same command (SPMD).  natsim_mpi_start() installs
 * a runner (natsim/runner.h) that hands the units of every run out from
 * rank 0 as a work queue: each process asks for the next unit when one of
 * its --jobs threads is free, so long and short units mix; every result
 * travels back as exact bytes (natsim/serial.h) and, once a run's units
 * are all done, rank 0 sends every result to every process so that all of
 * them take the same next step.  Only rank 0 writes and prints.
 *
 * A unit that fails, or a process whose command fails (bad input on its
 * node), stops the run: rank 0 hands out no more units, waits for those
 * under way, and every process returns that error, naming the rank.
 * natsim_mpi_finish() then gathers every process's outcome, so that no
 * process waits for another that has already given up.
 *
 * Built only with MPI (meson feature "mpi"); needs MPI_THREAD_FUNNELED:
 * only the calling thread talks MPI, the --jobs threads only compute. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Initialises MPI (MPI_Init_thread) and installs the runner.  Call once,
 * first thing, on every process. */
gboolean natsim_mpi_start (int *argc, char ***argv, GError **error);

/* This process's rank and the number of processes (0 and 1 before
 * natsim_mpi_start()). */
int natsim_mpi_rank (void);
int natsim_mpi_size (void);

/* The processes on this process's node (itself included; 1 before
 * natsim_mpi_start()): they share its memory. */
int natsim_mpi_ranks_on_node (void);

/* On rank 0, before natsim_mpi_finish(): the units rank @rank has run
 * so far, over all runs (0 elsewhere). */
guint64 natsim_mpi_units_run (int rank);

/* On rank 0, once its command has computed everything and before it
 * writes: waits until every other rank has finished its command, and
 * fails with the first failure one of them reported, so that a run some
 * rank failed writes nothing.  TRUE at once on other ranks (they then
 * call natsim_mpi_finish(), which tells rank 0). */
gboolean natsim_mpi_gather (GError **error);

/* Ends the distributed run; every process calls it once with its outcome:
 * @status (0 success) and, on failure, its @error (may be NULL).  Rank 0
 * waits until every other process has finished or is waiting for a run
 * rank 0 will not start, tells them to stop, and returns @status; when
 * @status is 0 but another process failed, that process's error in
 * @ret_error (for the caller to print; exit status from it).  Other ranks
 * return 0: rank 0 speaks for the run.  MPI is finalised. */
int natsim_mpi_finish (int status, const GError *error, GError **ret_error);

G_END_DECLS
