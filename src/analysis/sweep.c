/* natsim: parameter sweeps.
 *
 * The grid is built and checked completely before any simulation starts:
 * every value of every key is applied to a copy of the scenario (which
 * checks the key and the value), then every point is validated as a whole
 * (cross-key rules), so a typo costs nothing and writes nothing.
 *
 * Work units are (point, replication) pairs: a point's replications are
 * independent (natsim/simulate.h), so flattening keeps every thread busy
 * even when points are few and replications many.  Units write only their
 * own slot; summaries are computed in point order at the end.
 */
#include <math.h>
#include <string.h>

#include "natsim/error.h"
#include "natsim/runner.h"
#include "natsim/sweep.h"
#include "units.h"

void
natsim_format_number (double v, char *buf, gsize size)
{
  char fmt[16];

  if (!isfinite (v))
    {
      g_strlcpy (buf, "nan", size);
      return;
    }
  if (v == 0.0)
    v = 0.0; /* no "-0" */
  if (fabs (v) < 1e15 && v == floor (v))
    {
      g_snprintf (buf, size, "%.0f", v);
      return;
    }
  for (int n = 1; n <= 17; n++)
    {
      g_snprintf (fmt, sizeof fmt, "%%.%dg", n);
      g_ascii_formatd (buf, (gint) size, fmt, v);
      if (g_ascii_strtod (buf, NULL) == v)
        return;
    }
}

void
natsim_sweep_axis_free (NatsimSweepAxis *a)
{
  if (a == NULL)
    return;
  g_free (a->key);
  g_clear_pointer (&a->values, g_ptr_array_unref);
  g_free (a->x);
  g_free (a);
}

static gboolean
parse_plain_number (const char *s, double *ret)
{
  char *end = NULL;
  double v;

  if (*s == '\0')
    return FALSE;
  v = g_ascii_strtod (s, &end);
  if (end == s || *end != '\0' || !isfinite (v))
    return FALSE;
  *ret = v;
  return TRUE;
}

/* A number or a duration in seconds; *ret_duration says which. */
static gboolean
parse_scalar (const char *s, double *ret, gboolean *ret_duration)
{
  NatsimTime t;

  if (parse_plain_number (s, ret))
    {
      *ret_duration = FALSE;
      return TRUE;
    }
  if (natsim_parse_duration (s, &t, NULL))
    {
      *ret = natsim_time_to_sec (t);
      *ret_duration = TRUE;
      return TRUE;
    }
  return FALSE;
}

static gboolean
expand_range (NatsimSweepAxis *a, const char *spec, const char *range, GError **error)
{
  g_autofree char *text = g_strdup (range);
  char *colon = strrchr (text, ':');
  char *dots = strstr (text, "..");
  double lo, hi, step, count;
  gboolean dlo, dhi, dstep, duration;
  guint64 n;

  *colon = '\0';
  *dots = '\0';
  g_strstrip (text);
  g_strstrip (dots + 2);
  g_strstrip (colon + 1);
  if (!parse_scalar (text, &lo, &dlo) || !parse_scalar (dots + 2, &hi, &dhi) ||
      !parse_scalar (colon + 1, &step, &dstep))
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "--vary %s: expected A..B:STEP with numbers or durations (e.g. "
                   "30s..300s:30s or 100..1000:100)", spec);
      return FALSE;
    }
  duration = dlo || dhi || dstep;
  if (!(step > 0) || hi < lo)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "--vary %s: expected A <= B and a STEP above 0", spec);
      return FALSE;
    }
  /* Count in double first: (hi - lo) / step may be far beyond any integer
   * (0..9:1e-94), and converting that is undefined behaviour. */
  count = floor ((hi - lo) / step + 1e-9) + 1;
  if (!(count <= NATSIM_SWEEP_MAX_VALUES))
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "--vary %s: %.17g values, more than %u", spec, count,
                   NATSIM_SWEEP_MAX_VALUES);
      return FALSE;
    }
  n = (guint64) count;
  a->x = g_new0 (double, n);
  for (guint64 i = 0; i < n; i++)
    {
      char num[64];
      double v = lo + (double) i * step;

      /* Round away the accumulated binary error (0.1 x 3). */
      v = g_ascii_strtod (g_ascii_formatd (num, sizeof num, "%.12g", v), NULL);
      a->x[i] = v;
      natsim_format_number (v, num, sizeof num);
      g_ptr_array_add (a->values, duration ? g_strconcat (num, "s", NULL) : g_strdup (num));
    }
  a->numeric = TRUE;
  return TRUE;
}

NatsimSweepAxis *
natsim_sweep_axis_parse (const char *spec, GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  g_autoptr (NatsimSweepAxis) a = g_new0 (NatsimSweepAxis, 1);
  const char *eq = strchr (spec, '=');
  g_autofree char *rest = NULL;

  a->values = g_ptr_array_new_with_free_func (g_free);
  if (eq == NULL || eq == spec)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "--vary %s: expected KEY=V1,V2,... or KEY=A..B:STEP", spec);
      return NULL;
    }
  a->key = g_strstrip (g_strndup (spec, (gsize) (eq - spec)));
  rest = g_strstrip (g_strdup (eq + 1));
  if (strchr (a->key, '.') == NULL || *rest == '\0')
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "--vary %s: expected GROUP.KEY=VALUES (e.g. nat.udp_timeout=30s,60s)", spec);
      return NULL;
    }
  if (strstr (rest, "..") != NULL && strchr (strstr (rest, ".."), ':') != NULL &&
      strchr (rest, ',') == NULL && strchr (rest, ';') == NULL)
    {
      if (!expand_range (a, spec, rest, error))
        return NULL;
      return g_steal_pointer (&a);
    }
  {
    g_auto (GStrv) items = g_strsplit (rest, strchr (rest, ';') != NULL ? ";" : ",", -1);
    guint n = g_strv_length (items);
    gboolean numeric = TRUE;

    if (n > NATSIM_SWEEP_MAX_VALUES)
      {
        g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                     "--vary %s: %u values, more than %u", spec, n, NATSIM_SWEEP_MAX_VALUES);
        return NULL;
      }
    a->x = g_new0 (double, MAX (n, 1));
    for (guint i = 0; i < n; i++)
      {
        gboolean dur;

        g_strstrip (items[i]);
        if (*items[i] == '\0')
          {
            g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                         "--vary %s: empty value (position %u)", spec, i + 1);
            return NULL;
          }
        for (guint j = 0; j < i; j++)
          if (strcmp (items[i], g_ptr_array_index (a->values, j)) == 0)
            {
              g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                           "--vary %s: value '%s' given twice", spec, items[i]);
              return NULL;
            }
        if (!parse_scalar (items[i], &a->x[i], &dur))
          numeric = FALSE;
        g_ptr_array_add (a->values, g_strdup (items[i]));
      }
    a->numeric = numeric;
  }
  return g_steal_pointer (&a);
}

void
natsim_sweep_free (NatsimSweep *sw)
{
  if (sw == NULL)
    return;
  g_free (sw->scenario_path);
  g_clear_pointer (&sw->axes, g_ptr_array_unref);
  g_clear_pointer (&sw->scenarios, g_ptr_array_unref);
  g_clear_pointer (&sw->summaries, g_ptr_array_unref);
  g_free (sw);
}

guint
natsim_sweep_point_index (const NatsimSweep *sw, guint point, guint axis)
{
  guint stride = 1;

  for (guint i = sw->axes->len; i-- > axis + 1;)
    stride *= ((NatsimSweepAxis *) g_ptr_array_index (sw->axes, i))->values->len;
  return (point / stride) % ((NatsimSweepAxis *) g_ptr_array_index (sw->axes, axis))->values->len;
}

const char *
natsim_sweep_point_value (const NatsimSweep *sw, guint point, guint axis)
{
  NatsimSweepAxis *a = g_ptr_array_index (sw->axes, axis);

  return g_ptr_array_index (a->values, natsim_sweep_point_index (sw, point, axis));
}

static char *
assignment (const NatsimSweepAxis *a, guint i)
{
  return g_strdup_printf ("%s=%s", a->key, (const char *) g_ptr_array_index (a->values, i));
}

NatsimSweep *
natsim_sweep_new (const NatsimScenario *s, const char *const *specs, GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  g_autoptr (NatsimSweep) sw = g_new0 (NatsimSweep, 1);
  guint64 points = 1;

  sw->scenario_path = g_strdup (s->path);
  sw->seed = natsim_params_get_uint (s->simulation, "seed");
  sw->axes = g_ptr_array_new_with_free_func ((GDestroyNotify) natsim_sweep_axis_free);
  sw->scenarios = g_ptr_array_new_with_free_func ((GDestroyNotify) natsim_scenario_free);
  sw->summaries = g_ptr_array_new_with_free_func ((GDestroyNotify) natsim_summary_free);
  if (specs == NULL || specs[0] == NULL)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "sweep: expected at least one --vary KEY=VALUES");
      return NULL;
    }
  for (guint i = 0; specs[i] != NULL; i++)
    {
      NatsimSweepAxis *a = natsim_sweep_axis_parse (specs[i], error);

      if (a == NULL)
        return NULL;
      g_ptr_array_add (sw->axes, a);
      for (guint j = 0; j + 1 < sw->axes->len; j++)
        if (strcmp (((NatsimSweepAxis *) g_ptr_array_index (sw->axes, j))->key, a->key) == 0)
          {
            g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                         "--vary %s: the key %s is varied twice", specs[i], a->key);
            return NULL;
          }
      /* Every value on its own: the key exists, the value fits it. */
      for (guint v = 0; v < a->values->len; v++)
        {
          g_autoptr (NatsimScenario) probe = natsim_scenario_copy (s);
          g_autofree char *as = assignment (a, v);

          if (!natsim_scenario_set (probe, as, error))
            {
              g_prefix_error (error, "--vary: ");
              return NULL;
            }
        }
      points *= a->values->len;
      if (points > NATSIM_SWEEP_MAX_POINTS)
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "sweep: more than %u grid points", NATSIM_SWEEP_MAX_POINTS);
          return NULL;
        }
    }
  sw->n_points = (guint) points;
  /* Every point as a whole (cross-key checks such as warmup < duration). */
  for (guint p = 0; p < sw->n_points; p++)
    {
      g_autoptr (NatsimScenario) ps = natsim_scenario_copy (s);

      for (guint i = 0; i < sw->axes->len; i++)
        {
          NatsimSweepAxis *a = g_ptr_array_index (sw->axes, i);
          g_autofree char *as = assignment (a, natsim_sweep_point_index (sw, p, i));

          if (!natsim_scenario_set (ps, as, error))
            return NULL;
        }
      if (!natsim_scenario_validate (ps, error))
        {
          GString *where = g_string_new (NULL);
          for (guint i = 0; i < sw->axes->len; i++)
            g_string_append_printf (where, "%s%s=%s", i ? ", " : "",
                                    ((NatsimSweepAxis *) g_ptr_array_index (sw->axes, i))->key,
                                    natsim_sweep_point_value (sw, p, i));
          g_prefix_error (error, "sweep point %s: ", where->str);
          g_string_free (where, TRUE);
          return NULL;
        }
      g_ptr_array_add (sw->scenarios, g_steal_pointer (&ps));
    }
  return g_steal_pointer (&sw);
}

typedef struct
{
  guint point, replication;
} Unit;

typedef struct
{
  NatsimSweep       *sw;
  Unit              *units;
  NatsimRunResult ***results; /* [point][replication] */
  GError           **errors;  /* [unit] */
  GAsyncQueue       *done;
} SweepJob;

static void
run_unit (gpointer data, gpointer user_data)
{
  SweepJob *job = user_data;
  guint u = GPOINTER_TO_UINT (data) - 1;
  const Unit *unit = &job->units[u];
  const NatsimScenario *s = g_ptr_array_index (job->sw->scenarios, unit->point);

  job->results[unit->point][unit->replication] =
    natsim_simulate_replication (s, unit->replication, NULL, &job->errors[u]);
  g_async_queue_push (job->done, GUINT_TO_POINTER (u + 1));
}

typedef struct
{
  const Unit        *units;
  guint             *left; /* [point]: replications still to come */
  guint              points_done, n_points;
  NatsimProgressFunc progress;
  void              *progress_data;
} SpreadProgress;

static void
spread_finished (guint u, guint done, guint total, void *data)
{
  SpreadProgress *sp = data;

  if (--sp->left[sp->units[u].point] == 0)
    {
      sp->points_done++;
      if (sp->progress != NULL)
        sp->progress (sp->points_done, sp->n_points, sp->progress_data);
    }
}

/* The units through the installed runner (natsim/runner.h). */
static gboolean
run_spread (NatsimSweep *sw, const Unit *units, guint n_units, guint jobs,
            NatsimRunResult ***results, SpreadProgress *sp, GError **error)
{
  g_autofree const NatsimScenario **scenarios = g_new (const NatsimScenario *, MAX (n_units, 1));
  g_autofree guint *reps = g_new (guint, MAX (n_units, 1));
  g_autofree NatsimRunResult **flat = g_new0 (NatsimRunResult *, MAX (n_units, 1));

  for (guint u = 0; u < n_units; u++)
    {
      scenarios[u] = g_ptr_array_index (sw->scenarios, units[u].point);
      reps[u] = units[u].replication;
    }
  if (!units_run_replications (scenarios, reps, n_units, jobs, flat, spread_finished, sp, error))
    return FALSE;
  for (guint u = 0; u < n_units; u++)
    results[units[u].point][units[u].replication] = flat[u];
  return TRUE;
}

gboolean
natsim_sweep_run (NatsimSweep *sw, guint jobs, NatsimProgressFunc progress, void *progress_data,
                  GError **error)
{
  g_autofree guint *reps = g_new0 (guint, sw->n_points);
  g_autofree guint *left = g_new0 (guint, sw->n_points);
  g_autofree Unit *units = NULL;
  g_autofree GError **errors = NULL;
  g_autofree NatsimRunResult ***results = g_new0 (NatsimRunResult **, sw->n_points);
  SweepJob job = { 0 };
  guint n_units = 0, u = 0, points_done = 0;
  gboolean ok = TRUE;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  for (guint p = 0; p < sw->n_points; p++)
    {
      const NatsimScenario *s = g_ptr_array_index (sw->scenarios, p);
      reps[p] = (guint) natsim_params_get_uint (s->simulation, "replications");
      left[p] = reps[p];
      results[p] = g_new0 (NatsimRunResult *, reps[p]);
      n_units += reps[p];
    }
  units = g_new0 (Unit, n_units);
  errors = g_new0 (GError *, n_units);
  for (guint p = 0; p < sw->n_points; p++)
    for (guint r = 0; r < reps[p]; r++, u++)
      units[u] = (Unit) { p, r };
  if (natsim_runner_installed ())
    {
      /* --mpi: the same units, spread over the processes (units.c). */
      SpreadProgress sp = { units, left, 0, sw->n_points, progress, progress_data };

      ok = run_spread (sw, units, n_units, jobs, results, &sp, error);
    }
  else
    {
      job.sw = sw;
      job.units = units;
      job.results = results;
      job.errors = errors;
      job.done = g_async_queue_new ();

      if (jobs <= 1)
        for (u = 0; u < n_units; u++)
          run_unit (GUINT_TO_POINTER (u + 1), &job);
      {
        GThreadPool *pool = NULL;

        if (jobs > 1)
          {
            pool = g_thread_pool_new (run_unit, &job, (gint) MIN (jobs, n_units), TRUE, NULL);
            for (u = 0; u < n_units; u++)
              g_thread_pool_push (pool, GUINT_TO_POINTER (u + 1), NULL);
          }
        for (u = 0; u < n_units; u++)
          {
            guint done = GPOINTER_TO_UINT (g_async_queue_pop (job.done)) - 1;
            if (--left[units[done].point] == 0)
              {
                points_done++;
                if (progress != NULL)
                  progress (points_done, sw->n_points, progress_data);
              }
          }
        if (pool != NULL)
          g_thread_pool_free (pool, FALSE, TRUE);
      }
      g_async_queue_unref (job.done);
    }

  for (u = 0; u < n_units; u++)
    if (errors[u] != NULL)
      {
        if (ok)
          g_propagate_error (error, g_steal_pointer (&errors[u]));
        ok = FALSE;
        g_clear_error (&errors[u]);
      }
  g_ptr_array_set_size (sw->summaries, 0);
  for (guint p = 0; p < sw->n_points; p++)
    {
      if (ok)
        {
          const NatsimScenario *s = g_ptr_array_index (sw->scenarios, p);
          g_auto (GStrv) names = natsim_scenario_class_names (s);
          g_autoptr (GArray) addrs = natsim_params_get_addresses (s->nat, "addresses");

          g_ptr_array_add (sw->summaries,
                           natsim_summarize (results[p], reps[p], (const char *const *) names,
                                             (const uint32_t *) addrs->data, addrs->len));
        }
      for (guint r = 0; r < reps[p]; r++)
        g_clear_pointer (&results[p][r], natsim_run_result_free);
      g_free (results[p]);
    }
  return ok;
}
