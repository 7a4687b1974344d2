/* natsim: replications as units of the installed runner (units.h).
 *
 * A unit's bytes are a digest of its inputs and the number of the process
 * that ran it, its run result (natsim/serial.h), then what its observers
 * saved (the planner's usage figures).  Every process, the one that ran
 * the unit included, reads them back, so that every process holds bit for
 * bit the same figures and takes the same next step.
 *
 * The digest: processes started with other inputs (another scenario file
 * on a node, another --set) still agree on the number of units and would
 * otherwise mix their figures into one report without a word. */
#include <string.h>

#include "natsim/error.h"
#include "natsim/runner.h"
#include "natsim/serial.h"
#include "units.h"

typedef struct
{
  const NatsimScenario *const *scenarios; /* [n] */
  const guint                 *reps;      /* [n] */
  FILE                        *events;    /* narration of unit 0 */
  const NatsimSimHooks        *hooks;
  void                        *hooks_data;
  NatsimRunResult            **results;   /* [n] */
  void (*finished) (guint unit, guint done, guint total, void *data);
  void                        *finished_data;
} Units;

/* FNV-1a, 64 bits: a check that two processes hold the same inputs, not
 * a defence against forgery. */
#define FNV_OFFSET UINT64_C (0xcbf29ce484222325)
#define FNV_PRIME  UINT64_C (0x100000001b3)

static guint64
fnv (guint64 h, const void *data, gsize len)
{
  const guint8 *p = data;

  for (gsize i = 0; i < len; i++)
    h = (h ^ p[i]) * FNV_PRIME;
  return h;
}

/* With its terminating NUL, so that "ab","c" and "a","bc" differ; NULL
 * as a byte no string holds. */
static guint64
fnv_str (guint64 h, const char *s)
{
  static const guint8 none = 0xff;

  return s != NULL ? fnv (h, s, strlen (s) + 1) : fnv (h, &none, 1);
}

static guint64
fnv_u64 (guint64 h, guint64 v)
{
  guint64 le = GUINT64_TO_LE (v);

  return fnv (h, &le, sizeof le);
}

/* Every key of @p's table with its effective value (defaults included). */
static guint64
fnv_params (guint64 h, const NatsimParams *p)
{
  for (const NatsimKeySpec *k = natsim_params_specs (p); k->name != NULL; k++)
    {
      h = fnv_str (h, k->name);
      h = fnv_str (h, natsim_params_get (p, k->name));
    }
  return h;
}

/* The effective inputs of unit @u: the scenario as loaded with its
 * overrides (every group's keys, the preset resolved), the replication
 * and the unit's number.  The file's path is left out: nodes may reach
 * the same file by other paths. */
guint64
units_digest (const NatsimScenario *s, guint rep, guint u)
{
  guint64 h = FNV_OFFSET;

  h = fnv_params (h, s->simulation);
  h = fnv_params (h, s->nat);
  h = fnv_u64 (h, s->populations->len);
  for (guint i = 0; i < s->populations->len; i++)
    {
      const NatsimPopulationSpec *pop = g_ptr_array_index (s->populations, i);

      h = fnv_str (h, pop->name);
      h = fnv_str (h, pop->profile->name);
      h = fnv_params (h, pop->params);
    }
  h = fnv_u64 (h, s->forwards != NULL ? s->forwards->len : 0);
  for (guint i = 0; s->forwards != NULL && i < s->forwards->len; i++)
    {
      const NatsimForwardSpec *f = g_ptr_array_index (s->forwards, i);

      h = fnv_str (h, f->name);
      h = fnv_params (h, f->params);
    }
  h = fnv_u64 (h, rep);
  return fnv_u64 (h, u);
}

static GBytes *
unit_run (guint u, void *data, GError **error)
{
  Units *us = data;
  g_autoptr (NatsimRunResult) r = NULL;
  GByteArray *out;

  r = natsim_simulate_replication_observed (us->scenarios[u], us->reps[u],
                                            u == 0 ? us->events : NULL, us->hooks,
                                            us->hooks_data, error);
  if (r == NULL)
    return NULL;
  out = g_byte_array_new ();
  natsim_serial_put_u64 (out, units_digest (us->scenarios[u], us->reps[u], u));
  natsim_serial_put_u32 (out, (guint32) natsim_runner_process ());
  natsim_serial_put_run_result (out, r);
  if (us->hooks != NULL)
    us->hooks->save (us->reps[u], out, us->hooks_data);
  return g_byte_array_free_to_bytes (out);
}

static gboolean
unit_store (guint u, GBytes *bytes, void *data, GError **error)
{
  Units *us = data;
  NatsimSerialReader rd;
  gsize len = 0;
  const void *p = g_bytes_get_data (bytes, &len);
  NatsimRunResult *r;
  guint64 digest;
  guint32 process;

  natsim_serial_reader_init (&rd, p, len);
  if (!natsim_serial_get_u64 (&rd, &digest, error) ||
      !natsim_serial_get_u32 (&rd, &process, error))
    return FALSE;
  if (digest != units_digest (us->scenarios[u], us->reps[u], u))
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_FAILED,
                   "rank %u ran unit %u from another scenario (different inputs on the ranks)",
                   process, u);
      return FALSE;
    }
  r = natsim_serial_get_run_result (&rd, error);
  if (r == NULL)
    return FALSE;
  g_clear_pointer (&us->results[u], natsim_run_result_free);
  us->results[u] = r;
  if (us->hooks != NULL && !us->hooks->load (us->reps[u], &rd, us->hooks_data, error))
    return FALSE;
  if (rd.left != 0)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_FAILED,
                   "unit %u: %" G_GSIZE_FORMAT " bytes left over after its result", u, rd.left);
      return FALSE;
    }
  return TRUE;
}

static void
unit_finished (guint u, guint done, guint total, void *data)
{
  Units *us = data;

  if (us->finished != NULL)
    us->finished (u, done, total, us->finished_data);
}

static const NatsimUnitOps unit_ops = { unit_run, unit_store, unit_finished };

static gboolean
run_units (Units *us, guint n, guint jobs, GError **error)
{
  if (natsim_runner_run (n, jobs, &unit_ops, us, error))
    return TRUE;
  for (guint u = 0; u < n; u++)
    g_clear_pointer (&us->results[u], natsim_run_result_free);
  return FALSE;
}

gboolean
units_run_replications (const NatsimScenario *const *scenarios, const guint *reps, guint n,
                        guint jobs, NatsimRunResult **results,
                        void (*finished) (guint unit, guint done, guint total, void *data),
                        void *finished_data, GError **error)
{
  Units us = { scenarios, reps, NULL, NULL, NULL, results, finished, finished_data };

  return run_units (&us, n, jobs, error);
}

gboolean
units_distributed (const NatsimSimOptions *opts)
{
  const NatsimSimHooks *h = opts != NULL ? opts->hooks : NULL;

  return natsim_runner_installed () && (h == NULL || (h->save != NULL && h->load != NULL));
}

/* Progress of natsim_simulate(): replications done. */
static void
simulate_finished (guint unit, guint done, guint total, void *data)
{
  const NatsimSimOptions *opts = data;

  if (opts->time_progress != NULL)
    opts->time_progress ((double) done / total, done, total, opts->progress_data);
  else if (opts->progress != NULL)
    opts->progress (done, total, opts->progress_data);
}

GPtrArray *
units_simulate (const NatsimScenario *s, const NatsimSimOptions *opts, GError **error)
{
  guint n = (guint) natsim_params_get_uint (s->simulation, "replications");
  g_autofree const NatsimScenario **scenarios = g_new (const NatsimScenario *, MAX (n, 1));
  g_autofree guint *reps = g_new (guint, MAX (n, 1));
  g_autofree NatsimRunResult **results = g_new0 (NatsimRunResult *, MAX (n, 1));
  Units us = { scenarios, reps, NULL, NULL, NULL, results, NULL, NULL };
  GPtrArray *out;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  for (guint r = 0; r < n; r++)
    {
      scenarios[r] = s;
      reps[r] = r;
    }
  if (opts != NULL)
    {
      us.events = opts->events;
      us.hooks = opts->hooks;
      us.hooks_data = opts->hooks_data;
      if (opts->progress != NULL || opts->time_progress != NULL)
        {
          us.finished = simulate_finished;
          us.finished_data = (void *) opts;
        }
    }
  if (!run_units (&us, n, opts != NULL ? opts->jobs : 1, error))
    return NULL;
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) natsim_run_result_free);
  for (guint r = 0; r < n; r++)
    g_ptr_array_add (out, results[r]);
  return out;
}
