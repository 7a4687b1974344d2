/* natsim: the units-of-work path that --mpi takes (natsim/runner.h,
 * src/analysis/units.c), without MPI: an in-process runner runs the units
 * backwards and on a thread pool, hands only their bytes to store(), and
 * natsim_simulate(), natsim_sweep_run() and natsim_plan_run() (whose usage
 * observers save and load their figures) give exactly what they give
 * without a runner.  A unit that fails fails the run with its error; a
 * unit's result from other inputs fails it too.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "natsim/plan.h"
#include "natsim/report.h"
#include "natsim/runner.h"
#include "natsim/serial.h"
#include "natsim/sweep.h"

/* ---------- a runner in one process ---------- */

typedef struct
{
  guint  calls;        /* runs */
  guint  units;        /* units run, over all runs */
  guint  fail_unit;    /* G_MAXUINT: none */
  guint  last_finished;
  /* Unit @kept_unit's bytes: kept from a run (use_kept FALSE), or handed
   * to store() in place of the run's own (TRUE), as a process started
   * with other inputs would send them. */
  guint    kept_unit;
  gboolean use_kept;
  GBytes  *kept;
} TestRunner;

typedef struct
{
  const NatsimUnitOps *ops;
  void                *data;
  GBytes             **results;
  GError             **errors;
} Batch;

static void
batch_run (gpointer item, gpointer user_data)
{
  Batch *b = user_data;
  guint u = GPOINTER_TO_UINT (item) - 1;

  b->results[u] = b->ops->run (u, b->data, &b->errors[u]);
}

static gboolean
test_runner_run (void *runner_data, guint n, guint jobs, const NatsimUnitOps *ops, void *data,
                 GError **error)
{
  TestRunner *tr = runner_data;
  g_autofree GBytes **results = g_new0 (GBytes *, MAX (n, 1));
  g_autofree GError **errors = g_new0 (GError *, MAX (n, 1));
  Batch b = { ops, data, results, errors };
  GThreadPool *pool = g_thread_pool_new (batch_run, &b, 2, TRUE, NULL);
  gboolean ok = TRUE;

  tr->calls++;
  /* Backwards: nothing may depend on the order units run in. */
  for (guint u = n; u-- > 0;)
    if (u != tr->fail_unit)
      g_thread_pool_push (pool, GUINT_TO_POINTER (u + 1), NULL);
  g_thread_pool_free (pool, FALSE, TRUE);
  if (tr->fail_unit < n)
    g_set_error (&errors[tr->fail_unit], G_FILE_ERROR, G_FILE_ERROR_IO, "unit %u broke",
                 tr->fail_unit);
  for (guint u = 0; u < n; u++)
    {
      if (errors[u] != NULL && ok)
        {
          g_propagate_error (error, g_steal_pointer (&errors[u]));
          ok = FALSE;
        }
      g_clear_error (&errors[u]);
    }
  for (guint u = 0; u < n; u++)
    {
      if (ok)
        {
          tr->units++;
          if (ops->finished != NULL)
            ops->finished (u, u + 1, n, data);
          tr->last_finished = u + 1;
          /* Only the bytes travel: store() gets a copy. */
          {
            gsize len = 0;
            const void *p;

            if (tr->use_kept && u == tr->kept_unit)
              p = g_bytes_get_data (tr->kept, &len);
            else
              p = g_bytes_get_data (results[u], &len);
            if (!tr->use_kept && u == tr->kept_unit)
              {
                g_clear_pointer (&tr->kept, g_bytes_unref);
                tr->kept = g_bytes_ref (results[u]);
              }
            g_autoptr (GBytes) copy = g_bytes_new (p, len);

            if (!ops->store (u, copy, data, error))
              ok = FALSE;
          }
        }
      g_clear_pointer (&results[u], g_bytes_unref);
    }
  return ok;
}

static const NatsimRunnerClass test_runner = { test_runner_run };

/* ---------- fixtures ---------- */

static NatsimScenario *
load (const char *name, GError **error)
{
  g_autofree char *path = g_build_filename (g_getenv ("NATSIM_SOURCE_ROOT"), "scenarios", name,
                                            NULL);
  NatsimScenario *s = natsim_scenario_load (path, error);

  if (s != NULL && !natsim_scenario_validate (s, error))
    g_clear_pointer (&s, natsim_scenario_free);
  return s;
}

static GByteArray *
runs_bytes (GPtrArray *runs)
{
  GByteArray *out = g_byte_array_new ();

  for (guint i = 0; i < runs->len; i++)
    natsim_serial_put_run_result (out, g_ptr_array_index (runs, i));
  return out;
}

static void
assert_same_bytes (GByteArray *a, GByteArray *b)
{
  assert_int_equal (a->len, b->len);
  assert_memory_equal (a->data, b->data, a->len);
}

static void
progress (guint done, guint total, void *user_data)
{
  guint *last = user_data;

  *last = done;
}

/* ---------- tests ---------- */

static void
test_simulate (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = load ("erlang-b.ini", &error);
  TestRunner tr = { 0, 0, G_MAXUINT, 0 };
  NatsimSimOptions opts = { 0 };
  g_autoptr (GPtrArray) plain = NULL;
  g_autoptr (GPtrArray) spread = NULL;
  g_autoptr (GByteArray) a = NULL;
  g_autoptr (GByteArray) b = NULL;
  guint last = 0;

  g_assert_no_error (error);
  assert_true (natsim_scenario_set (s, "simulation.replications=5", &error));
  opts.jobs = 1;
  plain = natsim_simulate (s, &opts, &error);
  g_assert_no_error (error);

  natsim_runner_install (&test_runner, &tr);
  opts.progress = progress;
  opts.progress_data = &last;
  spread = natsim_simulate (s, &opts, &error);
  natsim_runner_install (NULL, NULL);
  g_assert_no_error (error);
  assert_int_equal (tr.calls, 1);
  assert_int_equal (tr.units, 5);
  assert_int_equal (last, 5);
  assert_int_equal (spread->len, 5);
  a = runs_bytes (plain);
  b = runs_bytes (spread);
  assert_same_bytes (a, b);
}

static void
test_simulate_unit_fails (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = load ("erlang-b.ini", &error);
  TestRunner tr = { 0, 0, 2, 0 };
  NatsimSimOptions opts = { 0 };
  GPtrArray *runs;

  g_assert_no_error (error);
  assert_true (natsim_scenario_set (s, "simulation.replications=4", &error));
  opts.jobs = 1;
  natsim_runner_install (&test_runner, &tr);
  runs = natsim_simulate (s, &opts, &error);
  natsim_runner_install (NULL, NULL);
  assert_null (runs);
  assert_true (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_IO));
  assert_string_equal (error->message, "unit 2 broke");
}

/* A result from a scenario loaded apart (another path) with the same
 * inputs is taken; one from other inputs fails the run, saying so. */
static void
test_simulate_other_inputs (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = load ("erlang-b.ini", &error);
  g_autoptr (NatsimScenario) same = NULL;
  g_autoptr (NatsimScenario) other = NULL;
  TestRunner tr = { 0, 0, G_MAXUINT, 0, 1, FALSE, NULL };
  NatsimSimOptions opts = { 0 };
  g_autoptr (GPtrArray) first = NULL;
  g_autoptr (GPtrArray) again = NULL;
  GPtrArray *mixed;

  g_assert_no_error (error);
  assert_true (natsim_scenario_set (s, "simulation.replications=3", &error));
  same = natsim_scenario_copy (s);
  g_free (same->path);
  same->path = g_strdup ("/elsewhere/erlang-b.ini");
  other = natsim_scenario_copy (s);
  assert_true (natsim_scenario_set (other, "nat.udp_timeout=31s", &error));
  g_assert_no_error (error);
  opts.jobs = 1;
  natsim_runner_install (&test_runner, &tr);
  first = natsim_simulate (s, &opts, &error);
  g_assert_no_error (error);
  assert_non_null (tr.kept);

  tr.use_kept = TRUE;
  again = natsim_simulate (same, &opts, &error);
  g_assert_no_error (error);
  assert_non_null (again);

  mixed = natsim_simulate (other, &opts, &error);
  natsim_runner_install (NULL, NULL);
  g_clear_pointer (&tr.kept, g_bytes_unref);
  assert_null (mixed);
  assert_non_null (error);
  assert_string_equal (error->message,
                       "rank 0 ran unit 1 from another scenario (different inputs on the ranks)");
}

static char *
sweep_json (const NatsimScenario *s, TestRunner *tr, guint *ret_points_done, GError **error)
{
  static const char *const vary[] = { "nat.udp_timeout=30s,90s,150s", NULL };
  g_autoptr (NatsimSweep) sw = natsim_sweep_new (s, vary, error);

  if (sw == NULL)
    return NULL;
  if (tr != NULL)
    natsim_runner_install (&test_runner, tr);
  if (!natsim_sweep_run (sw, 2, progress, ret_points_done, error))
    {
      natsim_runner_install (NULL, NULL);
      return NULL;
    }
  natsim_runner_install (NULL, NULL);
  return natsim_sweep_to_json (sw);
}

static void
test_sweep (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = load ("sweep-timeout.ini", &error);
  TestRunner tr = { 0, 0, G_MAXUINT, 0 };
  g_autofree char *plain = NULL;
  g_autofree char *spread = NULL;
  guint points = 0;

  g_assert_no_error (error);
  plain = sweep_json (s, NULL, &points, &error);
  g_assert_no_error (error);
  points = 0;
  spread = sweep_json (s, &tr, &points, &error);
  g_assert_no_error (error);
  /* One run of 3 points x 4 replications; every point reported done. */
  assert_int_equal (tr.calls, 1);
  assert_int_equal (tr.units, 12);
  assert_int_equal (points, 3);
  assert_string_equal (plain, spread);
}

static void
test_plan (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = load ("plan-erlang.ini", &error);
  TestRunner tr = { 0, 0, G_MAXUINT, 0 };
  g_autoptr (NatsimPlan) plain = NULL;
  g_autoptr (NatsimPlan) spread = NULL;
  g_autoptr (GByteArray) a = g_byte_array_new ();
  g_autoptr (GByteArray) b = g_byte_array_new ();
  NatsimPlanOptions opts;

  g_assert_no_error (error);
  natsim_plan_options_init (&opts);
  plain = natsim_plan_run (s, &opts, &error);
  g_assert_no_error (error);
  natsim_runner_install (&test_runner, &tr);
  spread = natsim_plan_run (s, &opts, &error);
  natsim_runner_install (NULL, NULL);
  g_assert_no_error (error);
  /* Every simulation of the plan went through the runner. */
  assert_true (tr.calls >= 3);

  assert_int_equal (plain->recommendations->len, spread->recommendations->len);
  for (guint i = 0; i < plain->recommendations->len; i++)
    {
      const NatsimRecommendation *x = &g_array_index (plain->recommendations,
                                                      NatsimRecommendation, i);
      const NatsimRecommendation *y = &g_array_index (spread->recommendations,
                                                      NatsimRecommendation, i);

      assert_string_equal (x->id, y->id);
      assert_memory_equal (&x->value, &y->value, sizeof (double));
      assert_string_equal (x->reason, y->reason);
      assert_string_equal (x->basis, y->basis);
    }
  /* The usage figures, saved and loaded by the planner's observers. */
  natsim_serial_put_usage_result (a, plain->usage);
  natsim_serial_put_usage_result (b, spread->usage);
  assert_same_bytes (a, b);
  g_clear_pointer (&a, g_byte_array_unref);
  g_clear_pointer (&b, g_byte_array_unref);
  a = runs_bytes (plain->runs);
  b = runs_bytes (spread->runs);
  assert_same_bytes (a, b);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_simulate),
    cmocka_unit_test (test_simulate_unit_fails),
    cmocka_unit_test (test_simulate_other_inputs),
    cmocka_unit_test (test_sweep),
    cmocka_unit_test (test_plan),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
