/* natsim: the process's runner of units of work (natsim/runner.h).
 *
 * A process-wide setting: a distributed run spans the whole program (every
 * process runs the same drivers), and the drivers that have units to hand
 * out (simulate, sweep, and through simulate the planner) then need no
 * option threaded through every caller. */
#include "natsim/runner.h"

static const NatsimRunnerClass *runner_class;
static void *runner_data;

void
natsim_runner_install (const NatsimRunnerClass *klass, void *data)
{
  runner_class = klass;
  runner_data = data;
}

gboolean
natsim_runner_installed (void)
{
  return runner_class != NULL;
}

int
natsim_runner_process (void)
{
  return runner_class != NULL && runner_class->process != NULL
    ? runner_class->process (runner_data) : 0;
}

gboolean
natsim_runner_run (guint n_units, guint jobs, const NatsimUnitOps *ops, void *data,
                   GError **error)
{
  g_return_val_if_fail (runner_class != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  return runner_class->run (runner_data, n_units, MAX (jobs, 1), ops, data, error);
}
