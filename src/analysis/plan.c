/* natsim: the planner (natsim plan): the driver.
 *
 * 1. Measure: the grown scenario, as configured, with the usage tracker
 *    attached (per destination load, per subscriber ports, idle gaps).
 * 2. Timeouts from the idle gaps (plan-timeouts.c), never under the RFC
 *    minimums unless asked; a class that alone needs a far longer timeout
 *    gets an endpoint remedy instead.
 * 3. When a timeout changes, measure again with the new timeouts: the
 *    address count and the port blocks are sized for the timeouts
 *    recommended, not today's.
 * 4. Port blocks (plan-blocks.c), then the address count (Erlang B
 *    confirmed by simulation, plan-addresses.c) with everything above
 *    applied.
 * 5. Verify: the simulation of the address count found, which has every
 *    recommendation applied, is the verification; a recommendation that
 *    fails its target is withheld (natsim_recommendations_apply_verification()).
 * 6. Costs: each timeout change is priced as the difference of two
 *    simulations at the recommended pool (with and without the change).
 *
 * Every simulation uses the scenario's own seeds (natsim/simulate.h), so
 * two simulations differ only in what the plan changed. */
#include <math.h>
#include <string.h>

#include "natsim/error.h"
#include "natsim/runner.h"
#include "natsim/sweep.h"
#include "plan-private.h"
#include "units.h"

void
natsim_plan_options_init (NatsimPlanOptions *opts)
{
  memset (opts, 0, sizeof *opts);
  opts->target_blocking = 0.001;
  opts->target_loss = 0.0;
  opts->growth = 0.2;
  opts->granularity = 64;
  opts->jobs = 1;
  opts->allow_below_rfc = FALSE;
}

static void
note_clear (gpointer p)
{
  NatsimPlanNote *n = p;

  g_free (n->id);
  g_free (n->message);
}

void
natsim_plan_free (NatsimPlan *p)
{
  if (p == NULL)
    return;
  g_clear_pointer (&p->grown, natsim_scenario_free);
  g_clear_pointer (&p->measured, natsim_scenario_free);
  g_clear_pointer (&p->runs, g_ptr_array_unref);
  g_clear_pointer (&p->usage, natsim_usage_result_free);
  g_clear_pointer (&p->recommendations, g_array_unref);
  g_clear_pointer (&p->notes, g_array_unref);
  g_clear_pointer (&p->nat, natsim_params_free);
  g_clear_pointer (&p->analysis, natsim_analysis_free);
  g_clear_pointer (&p->verification, natsim_verification_free);
  g_free (p);
}

/* An empty plan: no recommendations, no notes. */
NatsimPlan *
plan_new (void)
{
  NatsimPlan *p = g_new0 (NatsimPlan, 1);

  p->recommendations = natsim_recommendations_new ();
  p->notes = g_array_new (FALSE, TRUE, sizeof (NatsimPlanNote));
  g_array_set_clear_func (p->notes, note_clear);
  return p;
}

void
plan_add_item (NatsimPlan *p, const char *id, double value, const char *unit, const char *basis,
               const char *fmt, ...)
{
  g_autofree char *reason = NULL;
  va_list ap;

  va_start (ap, fmt);
  reason = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  natsim_recommendations_add (p->recommendations, id, value, unit, basis, "%s", reason);
}

void
plan_add_note (NatsimPlan *p, const char *id, const char *fmt, ...)
{
  NatsimPlanNote n;
  va_list ap;

  va_start (ap, fmt);
  n.id = g_strdup (id);
  n.message = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_array_append_val (p->notes, n);
}

void
plan_stage (const NatsimPlanOptions *opts, const char *message)
{
  if (opts->stage != NULL)
    opts->stage (message, opts->stage_data);
}

char *
plan_pct (double p)
{
  if (isnan (p))
    return g_strdup ("n/a");
  if (p == 0.0)
    return g_strdup ("0 %");
  if (p < 0.0001)
    return g_strdup_printf ("%.2g %%", p * 100.0);
  return g_strdup_printf ("%.3g %%", p * 100.0);
}

/* ---------- growth ---------- */

gboolean
natsim_plan_apply_growth (NatsimScenario *s, double growth, GError **error)
{
  static const char *const count_keys[] = { "count", "flows" };

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!isfinite (growth) || growth < 0.0 || growth > 100.0)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "--growth: expected a fraction between 0 and 100, got %g", growth);
      return FALSE;
    }
  if (growth == 0.0)
    return TRUE;
  for (guint i = 0; i < s->populations->len; i++)
    {
      const NatsimPopulationSpec *spec = g_ptr_array_index (s->populations, i);
      const NatsimKeySpec *keys = natsim_params_specs (spec->params);

      for (guint k = 0; k < G_N_ELEMENTS (count_keys); k++)
        {
          const NatsimKeySpec *ks = natsim_key_lookup (keys, count_keys[k]);
          g_autofree char *a = NULL;
          uint64_t v;

          if (ks == NULL || ks->type != NATSIM_KEY_UINT)
            continue;
          v = natsim_params_get_uint (spec->params, count_keys[k]);
          if (v == 0)
            continue;
          /* Round up, but 1000 x 1.2 is 1200, not 1201. */
          v = (uint64_t) ceil ((double) v * (1.0 + growth) - 1e-9);
          a = g_strdup_printf ("population.%s.%s=%" G_GUINT64_FORMAT, spec->name,
                               count_keys[k], v);
          if (!natsim_scenario_set (s, a, error))
            return FALSE;
        }
      if (natsim_key_lookup (keys, "flows_per_second") != NULL)
        {
          char num[64];
          g_autofree char *a = NULL;

          natsim_format_number (natsim_params_get_double (spec->params, "flows_per_second")
                                  * (1.0 + growth), num, sizeof num);
          a = g_strdup_printf ("population.%s.flows_per_second=%s", spec->name, num);
          if (!natsim_scenario_set (s, a, error))
            return FALSE;
        }
    }
  return TRUE;
}

/* A [nat] addresses value with @k addresses: @nat's own first, then the
 * following ones. */
char *
plan_addresses_value (const NatsimParams *nat, guint k)
{
  g_autoptr (GArray) own = natsim_params_get_addresses (nat, "addresses");
  g_autoptr (GHashTable) used = g_hash_table_new (g_direct_hash, g_direct_equal);
  GString *out = g_string_new (NULL);
  uint32_t next = 0;
  guint n = 0;

  for (guint i = 0; i < own->len && n < k; i++, n++)
    {
      uint32_t a = g_array_index (own, uint32_t, i);
      char buf[16];

      natsim_format_ipv4 (a, buf, sizeof buf);
      g_string_append_printf (out, "%s%s", n ? "," : "", buf);
      g_hash_table_add (used, GUINT_TO_POINTER (a));
      next = MAX (next, a);
    }
  while (n < k)
    {
      char buf[16];

      next++;
      if (g_hash_table_contains (used, GUINT_TO_POINTER (next)))
        continue;
      natsim_format_ipv4 (next, buf, sizeof buf);
      g_string_append_printf (out, ",%s", buf);
      n++;
    }
  return g_string_free (out, FALSE);
}

char *
natsim_plan_addresses_value (const NatsimScenario *s, guint k)
{
  return plan_addresses_value (s->nat, k);
}

guint
plan_pool_servers (const NatsimParams *nat)
{
  uint16_t lo, hi;
  guint servers;

  natsim_params_get_port_range (nat, "port_range", &lo, &hi);
  servers = (guint) hi - lo + 1;
  /* With parity each mapping chooses among the ports of its own parity. */
  if (natsim_params_get_bool (nat, "parity"))
    servers /= 2;
  return servers;
}

const char *
plan_address_selection (const NatsimParams *nat)
{
  if (natsim_key_lookup (natsim_params_specs (nat), "address_selection") == NULL)
    return "hash";
  return natsim_params_get (nat, "address_selection");
}

/* ---------- simulation ---------- */

/* The usage tracker of each replication; its figures land in the slot of
 * the replication (NatsimUsageResult*[replications], user data). */
static void *
usage_begin (const NatsimScenario *s, guint replication, void *user_data)
{
  NatsimTime end = natsim_params_get_duration (s->simulation, "duration");
  NatsimTime warmup = natsim_params_get_duration (s->simulation, "warmup");
  NatsimTime horizon = natsim_params_get_duration (s->nat, "tombstone");
  bool both = natsim_params_get_enum (s->nat, "refresh") == 0;

  return natsim_usage_new (s->populations->len, warmup, end, horizon, both, PLAN_REPLY_WINDOW);
}

static void
usage_nat_event (const NatsimNatEvent *ev, void *state)
{
  natsim_usage_on_nat_event (ev, state);
}

static void
usage_packet (const NatsimPacket *pkt, const NatsimNatResult *res, void *state)
{
  natsim_usage_on_packet (state, pkt, res);
}

static void
usage_end (void *state, guint replication, void *user_data)
{
  NatsimUsageResult **slots = user_data;

  slots[replication] = natsim_usage_finish (state);
  natsim_usage_free (state);
}

/* --mpi: a replication's usage figures travel with its run result. */
static void
usage_save (guint replication, GByteArray *out, void *user_data)
{
  NatsimUsageResult **slots = user_data;

  natsim_serial_put_usage_result (out, slots[replication]);
}

static gboolean
usage_load (guint replication, NatsimSerialReader *in, void *user_data, GError **error)
{
  NatsimUsageResult **slots = user_data;
  NatsimUsageResult *u = natsim_serial_get_usage_result (in, error);

  if (u == NULL)
    return FALSE;
  g_clear_pointer (&slots[replication], natsim_usage_result_free);
  slots[replication] = u;
  return TRUE;
}

static const NatsimSimHooks usage_hooks = {
  usage_begin, usage_nat_event, usage_packet, usage_end, usage_save, usage_load,
};

/* The demand alone: ports per subscriber and per destination, from the
 * NAT's binding events.  Without the packet observer the idle gaps stay
 * empty; the measurement with the recommended timeouts sizes blocks and
 * addresses only, so it needs no gaps and skips the per-packet work. */
static const NatsimSimHooks demand_hooks = {
  usage_begin, usage_nat_event, NULL, usage_end, usage_save, usage_load,
};

/* Runs @s (validated) with the usage tracker when @ret_usage is not NULL
 * (@hooks: usage_hooks or demand_hooks). */
static GPtrArray *
run_measured (const NatsimScenario *s, const NatsimPlanOptions *opts, const NatsimSimHooks *hooks,
              NatsimUsageResult **ret_usage, GError **error)
{
  guint n = (guint) natsim_params_get_uint (s->simulation, "replications");
  g_autofree NatsimUsageResult **slots = g_new0 (NatsimUsageResult *, n);
  NatsimSimOptions so = { 0 };
  GPtrArray *runs;

  so.jobs = opts->jobs;
  so.time_progress = opts->sim_progress;
  so.progress_data = opts->stage_data;
  if (ret_usage != NULL)
    {
      so.hooks = hooks;
      so.hooks_data = slots;
    }
  runs = natsim_simulate (s, &so, error);
  if (ret_usage != NULL)
    {
      NatsimUsageResult *u = natsim_usage_result_new (s->populations->len);

      for (guint r = 0; r < n; r++)
        {
          if (slots[r] != NULL && runs != NULL)
            natsim_usage_result_merge (u, slots[r]);
          g_clear_pointer (&slots[r], natsim_usage_result_free);
        }
      if (runs != NULL)
        *ret_usage = u;
      else
        natsim_usage_result_free (u);
    }
  return runs;
}

/* The figures of @runs of @s. */
static void
figures_of (const NatsimScenario *s, GPtrArray *runs, PlanFigures *f)
{
  g_autofree double *b = g_new0 (double, runs->len);
  g_autofree double *l = g_new0 (double, runs->len);
  double warmup = natsim_time_to_sec (natsim_params_get_duration (s->simulation, "warmup"));
  guint servers;
  uint16_t lo, hi;

  memset (f, 0, sizeof *f);
  natsim_params_get_port_range (s->nat, "port_range", &lo, &hi);
  servers = (guint) hi - lo + 1;
  for (guint r = 0; r < runs->len; r++)
    {
      const NatsimRunResult *run = g_ptr_array_index (runs, r);
      double sum = 0.0;
      guint n = 0;

      b[r] = run->totals.v[NATSIM_STAT_BLOCKING_PROBABILITY];
      l[r] = run->totals.v[NATSIM_STAT_BINDING_LOSSES];
      f->packets_in += run->totals.v[NATSIM_STAT_PACKETS_IN] / runs->len;
      /* Buckets that end after the warm-up: the steady state. */
      for (guint i = 0; i < run->n_intervals; i++)
        if ((i + 1) * run->interval_s > warmup)
          {
            sum += run->tl_ports[i];
            n++;
          }
      f->mean_ports += (n > 0 ? sum / n : 0.0) / runs->len;
      for (guint a = 0; a < run->n_addresses; a++)
        f->peak_ports = MAX (f->peak_ports, run->addr_peak_ports[a]);
    }
  f->replications = runs->len;
  f->blocking = natsim_mean (b, runs->len);
  f->blocking_ci95 = natsim_ci95_halfwidth (b, runs->len);
  f->blocking_upper = f->blocking + f->blocking_ci95;
  f->binding_losses = natsim_mean (l, runs->len);
  f->binding_losses_ci95 = natsim_ci95_halfwidth (l, runs->len);
  f->fill = servers > 0 ? f->peak_ports / servers : 0.0;
}

/* Files the figures of @s (validated) under its cache key.  The
 * measurements' runs count too: the usage tracker only observes, so a
 * later request for the same configuration (the search at the scenario's
 * own pool, nothing else changed) reuses them. */
static void
cache_put (PlanCtx *c, const NatsimScenario *s, const PlanFigures *f)
{
  if (c->cache == NULL)
    c->cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_replace (c->cache, plan_cache_key (c->p->grown, s), g_memdup2 (f, sizeof *f));
}

gboolean
plan_simulate (PlanCtx *c, const char *const *sets, PlanFigures *ret,
               NatsimUsageResult **ret_usage, GError **error)
{
  g_autoptr (NatsimScenario) s = natsim_scenario_copy (c->applied);
  g_autoptr (GPtrArray) runs = NULL;

  for (guint i = 0; sets != NULL && sets[i] != NULL; i++)
    if (!natsim_scenario_set (s, sets[i], error))
      return FALSE;
  if (!natsim_scenario_validate (s, error))
    return FALSE;
  runs = run_measured (s, c->opts, &demand_hooks, ret_usage, error);
  if (runs == NULL)
    return FALSE;
  figures_of (s, runs, ret);
  cache_put (c, s, ret);
  return TRUE;
}

/* ---------- verification ---------- */

/* The settings of @a that differ from @g, as "simulation.KEY=VALUE",
 * "nat.KEY=VALUE" and "population.NAME.KEY=VALUE", in the order of the
 * key tables. */
static void
settings_diff (const NatsimScenario *g, const NatsimScenario *a, gboolean simulation,
               GPtrArray *out)
{
  const NatsimKeySpec *keys = natsim_params_specs (a->nat);

  if (simulation)
    {
      const NatsimKeySpec *sk = natsim_params_specs (a->simulation);

      for (guint k = 0; sk[k].name != NULL; k++)
        {
          const char *v = natsim_params_get (a->simulation, sk[k].name);

          if (g_strcmp0 (v, natsim_params_get (g->simulation, sk[k].name)) != 0)
            g_ptr_array_add (out, g_strdup_printf ("simulation.%s=%s", sk[k].name, v));
        }
    }
  for (guint k = 0; keys[k].name != NULL; k++)
    {
      const char *v = natsim_params_get (a->nat, keys[k].name);

      if (g_strcmp0 (v, natsim_params_get (g->nat, keys[k].name)) != 0)
        g_ptr_array_add (out, g_strdup_printf ("nat.%s=%s", keys[k].name, v));
    }
  for (guint i = 0; i < a->populations->len; i++)
    {
      const NatsimPopulationSpec *pa = g_ptr_array_index (a->populations, i);
      const NatsimPopulationSpec *pg = g_ptr_array_index (g->populations, i);
      const NatsimKeySpec *pk = natsim_params_specs (pa->params);

      for (guint k = 0; pk[k].name != NULL; k++)
        {
          const char *v = natsim_params_get (pa->params, pk[k].name);

          if (g_strcmp0 (v, natsim_params_get (pg->params, pk[k].name)) != 0)
            g_ptr_array_add (out, g_strdup_printf ("population.%s.%s=%s", pa->name,
                                                   pk[k].name, v));
        }
    }
}

/* The settings of @c that differ from the grown scenario. */
static void
collect_settings (const PlanCtx *c, GPtrArray *out)
{
  settings_diff (c->p->grown, c->applied, FALSE, out);
}

static gint
str_ptr_cmp (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

char *
plan_cache_key (const NatsimScenario *grown, const NatsimScenario *s)
{
  g_autoptr (GPtrArray) d = g_ptr_array_new_with_free_func (g_free);

  settings_diff (grown, s, TRUE, d);
  g_ptr_array_sort (d, str_ptr_cmp);
  g_ptr_array_add (d, NULL);
  return g_strjoinv ("\n", (char **) d->pdata);
}

/* The replications of several configurations as one set of units. */
typedef struct
{
  const NatsimScenario **scenarios; /* [unit] */
  const guint           *reps;      /* [unit] */
  NatsimRunResult      **results;   /* [unit] */
  GError               **errors;    /* [unit] */
  GAsyncQueue           *done;
} Batch;

static void
batch_unit (gpointer data, gpointer user_data)
{
  Batch *b = user_data;
  guint u = GPOINTER_TO_UINT (data) - 1;

  b->results[u] = natsim_simulate_replication (b->scenarios[u], b->reps[u], NULL, &b->errors[u]);
  g_async_queue_push (b->done, GUINT_TO_POINTER (u + 1));
}

/* Progress under the runner: units done. */
static void
batch_finished (guint unit, guint done, guint total, void *data)
{
  const NatsimPlanOptions *opts = data;

  if (opts->sim_progress != NULL)
    opts->sim_progress ((double) done / total, done, total, opts->stage_data);
}

/* Runs the @n units on @jobs threads (through the installed runner under
 * --mpi), in unit order as threads come free, so that a configuration's
 * slow replication overlaps the next configuration's instead of leaving
 * a core idle. */
static gboolean
batch_run (Batch *b, guint n, const NatsimPlanOptions *opts, GError **error)
{
  GThreadPool *pool;
  gboolean ok = TRUE;

  if (natsim_runner_installed ())
    return units_run_replications (b->scenarios, b->reps, n, opts->jobs, b->results,
                                   batch_finished, (void *) opts, error);
  b->done = g_async_queue_new ();
  pool = g_thread_pool_new (batch_unit, b, (gint) MIN (MAX (opts->jobs, 1), n), TRUE, NULL);
  for (guint u = 0; u < n; u++)
    g_thread_pool_push (pool, GUINT_TO_POINTER (u + 1), NULL);
  for (guint u = 0; u < n; u++)
    {
      g_async_queue_pop (b->done);
      if (opts->sim_progress != NULL)
        opts->sim_progress ((double) (u + 1) / n, u + 1, n, opts->stage_data);
    }
  g_thread_pool_free (pool, FALSE, TRUE);
  g_async_queue_unref (b->done);
  for (guint u = 0; u < n; u++)
    {
      if (b->errors[u] != NULL && ok)
        {
          g_propagate_error (error, g_steal_pointer (&b->errors[u]));
          ok = FALSE;
        }
      g_clear_error (&b->errors[u]);
    }
  return ok;
}

gboolean
plan_simulate_batch (PlanCtx *c, const PlanJob *jobs, guint n, GError **error)
{
  g_autoptr (GPtrArray) scen = g_ptr_array_new_with_free_func ((GDestroyNotify) natsim_scenario_free);
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) run = g_array_new (FALSE, FALSE, sizeof (guint)); /* jobs to simulate */
  g_autoptr (GString) stage = g_string_new (NULL);
  g_autofree const NatsimScenario **unit_s = NULL;
  g_autofree guint *unit_r = NULL;
  g_autofree NatsimRunResult **results = NULL;
  g_autofree GError **errors = NULL;
  guint n_units = 0, u = 0;
  Batch b;

  for (guint i = 0; i < n; i++)
    {
      NatsimScenario *s = natsim_scenario_copy (c->applied);
      gboolean dup = FALSE;

      g_ptr_array_add (scen, s);
      for (guint k = 0; jobs[i].sets != NULL && jobs[i].sets[k] != NULL; k++)
        if (!natsim_scenario_set (s, jobs[i].sets[k], error))
          return FALSE;
      if (!natsim_scenario_validate (s, error))
        return FALSE;
      g_ptr_array_add (keys, plan_cache_key (c->p->grown, s));
      for (guint k = 0; k < run->len; k++)
        dup |= strcmp (keys->pdata[g_array_index (run, guint, k)], keys->pdata[i]) == 0;
      if (dup || (c->cache != NULL && g_hash_table_contains (c->cache, keys->pdata[i])))
        continue;
      g_array_append_val (run, i);
      n_units += (guint) natsim_params_get_uint (s->simulation, "replications");
      /* "simulating 23 addresses (and ahead: measuring the cost of ...)" */
      if (stage->len == 0)
        g_string_append (stage, jobs[i].stage);
      else
        g_string_append_printf (stage, "%s%s", run->len == 2 ? " (and ahead: " : "; ",
                                jobs[i].stage);
    }
  if (run->len > 1)
    g_string_append_c (stage, ')');
  if (run->len == 1)
    {
      /* One configuration: natsim_simulate(), with progress in simulated
       * time. */
      guint i = g_array_index (run, guint, 0);
      g_autoptr (GPtrArray) runs = NULL;
      PlanFigures f;

      plan_stage (c->opts, stage->str);
      runs = run_measured (scen->pdata[i], c->opts, NULL, NULL, error);
      if (runs == NULL)
        return FALSE;
      figures_of (scen->pdata[i], runs, &f);
      cache_put (c, scen->pdata[i], &f);
    }
  else if (run->len > 1)
    {
      unit_s = g_new0 (const NatsimScenario *, n_units);
      unit_r = g_new0 (guint, n_units);
      results = g_new0 (NatsimRunResult *, n_units);
      errors = g_new0 (GError *, n_units);
      for (guint k = 0; k < run->len; k++)
        {
          const NatsimScenario *s = scen->pdata[g_array_index (run, guint, k)];
          guint reps = (guint) natsim_params_get_uint (s->simulation, "replications");

          for (guint r = 0; r < reps; r++, u++)
            {
              unit_s[u] = s;
              unit_r[u] = r;
            }
        }
      plan_stage (c->opts, stage->str);
      b = (Batch) { unit_s, unit_r, results, errors, NULL };
      if (!batch_run (&b, n_units, c->opts, error))
        {
          for (u = 0; u < n_units; u++)
            g_clear_pointer (&results[u], natsim_run_result_free);
          return FALSE;
        }
      u = 0;
      for (guint k = 0; k < run->len; k++)
        {
          guint i = g_array_index (run, guint, k);
          const NatsimScenario *s = scen->pdata[i];
          guint reps = (guint) natsim_params_get_uint (s->simulation, "replications");
          g_autoptr (GPtrArray) runs = g_ptr_array_new_with_free_func (
            (GDestroyNotify) natsim_run_result_free);
          PlanFigures f;

          for (guint r = 0; r < reps; r++)
            g_ptr_array_add (runs, results[u++]);
          figures_of (s, runs, &f);
          cache_put (c, s, &f);
        }
    }
  for (guint i = 0; i < n; i++)
    if (jobs[i].ret != NULL)
      *jobs[i].ret = *(const PlanFigures *) g_hash_table_lookup (c->cache, keys->pdata[i]);
  return TRUE;
}

gboolean
plan_simulate_cached (PlanCtx *c, const char *const *sets, const char *stage,
                      PlanFigures *ret, GError **error)
{
  PlanJob job = { sets, stage, ret };

  return plan_simulate_batch (c, &job, 1, error);
}

/* The verification from the simulation of every recommendation together
 * (the address count's own simulation: it ran with the timeouts, blocks
 * and remedies applied). */
static void
verify (PlanCtx *c)
{
  NatsimVerification *v = natsim_verification_new ();
  const PlanFigures *f = &c->at_addresses;
  const NatsimPlanOptions *opts = c->opts;
  g_autofree char *b = plan_pct (f->blocking);
  g_autofree char *bc = plan_pct (f->blocking_ci95);
  g_autofree char *t = plan_pct (opts->target_blocking);
  GString *s = g_string_new (NULL);
  double allowed;

  collect_settings (c, v->settings);
  v->replications = f->replications;
  v->blocking = f->blocking;
  v->blocking_ci95 = f->blocking_ci95;
  v->target_blocking = opts->target_blocking;
  v->binding_losses = f->binding_losses;
  v->binding_losses_ci95 = f->binding_losses_ci95;
  v->packets_in = f->packets_in;
  v->target_loss = opts->target_loss;
  v->busiest_fill = f->fill;
  v->blocking_ok = f->blocking_upper < opts->target_blocking;
  /* An inbound packet toward a flow the NAT refused is lost whatever the
   * timeouts: allow the refused share on top of the loss target. */
  allowed = (opts->target_loss + f->blocking_upper) * f->packets_in;
  v->losses_ok = f->binding_losses <= allowed + 1e-9;

  g_string_append_printf (s, "With these settings (");
  for (guint i = 0; i < v->settings->len; i++)
    g_string_append_printf (s, "%s%s", i ? ", " : "", (char *) g_ptr_array_index (v->settings, i));
  if (v->settings->len == 0)
    g_string_append (s, "the scenario as it is");
  g_string_append_printf (s, "), simulated with the scenario's seeds (%u replication%s): "
                          "blocking %s ± %s (target below %s), %.4g binding loss%s per "
                          "replication in %.4g inbound packets, busiest address %.0f %% full.",
                          f->replications, f->replications == 1 ? "" : "s", b, bc, t,
                          f->binding_losses, f->binding_losses == 1 ? "" : "es", f->packets_in,
                          f->fill * 100.0);
  if (!v->blocking_ok)
    g_string_append (s, " Blocking is not below the target: the pool recommendations are "
                        "withheld.");
  if (!v->losses_ok)
    g_string_append (s, " Binding losses exceed the target: the timeout recommendations are "
                        "withheld.");
  v->summary = g_string_free (s, FALSE);
  c->p->verification = v;
}

/* ---------- driver ---------- */

static gboolean
check_options (const NatsimPlanOptions *opts, GError **error)
{
  if (!(opts->target_blocking > 0.0 && opts->target_blocking < 1.0))
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "--target-blocking: expected a probability between 0 and 1 (exclusive), "
                   "got %g", opts->target_blocking);
      return FALSE;
    }
  if (!(opts->target_loss >= 0.0 && opts->target_loss < 1.0))
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "--target-loss: expected a fraction from 0 up to 1 (exclusive), got %g",
                   opts->target_loss);
      return FALSE;
    }
  return TRUE;
}

/* Applies the decided timeouts and remedies to @c->applied. */
static gboolean
apply_timeouts (PlanCtx *c, GError **error)
{
  for (guint i = 0; i < NATSIM_TIMER_N; i++)
    {
      const PlanTimeout *t = &c->timeouts[i];
      g_autofree char *a = NULL;

      if (t->change)
        {
          a = g_strdup_printf ("nat.%s=%.0fs", natsim_timer_info (t->timer)->key, t->value);
          if (!natsim_scenario_set (c->applied, a, error))
            return FALSE;
        }
      if (t->remedy_pop != NULL)
        {
          double hi = t->remedy_interval;
          char lo_s[32], hi_s[32];
          g_autofree char *r = NULL;

          /* RFC 5626: refreshes at 80-100 % of the nominal interval. */
          natsim_format_number (floor (0.8 * hi * 1000.0) / 1000.0, lo_s, sizeof lo_s);
          natsim_format_number (hi, hi_s, sizeof hi_s);
          r = g_strdup_printf ("population.%s.%s=%ss..%ss", t->remedy_pop, t->remedy_key, lo_s,
                               hi_s);
          if (!natsim_scenario_set (c->applied, r, error))
            return FALSE;
        }
    }
  return natsim_scenario_validate (c->applied, error);
}

static gboolean
any_timeout_change (const PlanCtx *c)
{
  for (guint i = 0; i < NATSIM_TIMER_N; i++)
    if (c->timeouts[i].change || c->timeouts[i].remedy_pop != NULL)
      return TRUE;
  return FALSE;
}

/* The contract order of recommendation ids (docs/report.md). */
static guint
rank (const char *id)
{
  static const char *const order[] = {
    "pool.addresses", "pool.ports_per_subscriber", "pool.block_size",
    "pool.blocks_per_subscriber", "timeout.udp", "timeout.udp_stream",
    "timeout.tcp_established", "keepalive.interval", "endpoint.refresh_interval",
  };

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    if (strcmp (id, order[i]) == 0)
      return i;
  return G_N_ELEMENTS (order);
}

static gint
rank_cmp (gconstpointer a, gconstpointer b)
{
  const NatsimRecommendation *x = a, *y = b;
  guint rx = rank (x->id), ry = rank (y->id);

  return rx < ry ? -1 : rx > ry;
}

/* Insertion sort by rank: stable, and the arrays are short. */
static void
stable_sort (GArray *recs)
{
  NatsimRecommendation *r = (NatsimRecommendation *) recs->data;

  for (guint i = 1; i < recs->len; i++)
    for (guint j = i; j > 0 && rank_cmp (&r[j - 1], &r[j]) > 0; j--)
      {
        NatsimRecommendation tmp = r[j];
        r[j] = r[j - 1];
        r[j - 1] = tmp;
      }
}

/* Steps 2 to 6 (see the top of this file). */
static gboolean
plan_steps (PlanCtx *c, GError **error)
{
  g_autoptr (NatsimUsageResult) usage2 = NULL;
  NatsimPlan *p = c->p;

  plan_timeouts_decide (c);
  if (!apply_timeouts (c, error))
    return FALSE;
  if (any_timeout_change (c))
    {
      PlanFigures f;

      /* Sizing for the recommended timeouts: a longer timeout holds each
       * port longer, a shorter one frees it sooner. */
      g_autofree char *wide = g_strconcat ("nat.addresses=",
                                           natsim_params_get (c->measured->nat, "addresses"),
                                           NULL);
      const char *unblocked[] = { "nat.ports_per_subscriber=0", "nat.deterministic=false", wide,
                                  NULL };

      plan_stage (c->opts, "measuring with the recommended timeouts");
      if (!plan_simulate (c, unblocked, &f, &usage2, error))
        return FALSE;
      c->usage = usage2;
    }
  plan_block (c);
  if (!plan_addresses (c, error))
    return FALSE;
  if (c->verified)
    verify (c);
  if (!plan_timeouts_report (c, error))
    return FALSE;
  c->usage = p->usage; /* usage2 goes now */
  if (p->verification != NULL)
    natsim_recommendations_apply_verification (p->recommendations, p->verification);
  stable_sort (p->recommendations);
  return TRUE;
}

NatsimPlan *
natsim_plan_run (const NatsimScenario *s, const NatsimPlanOptions *opts, GError **error)
{
  g_autoptr (NatsimPlan) p = plan_new ();
  PlanCtx c = { 0 };
  gboolean ok;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  g_return_val_if_fail (opts->granularity > 0, NULL);
  if (!check_options (opts, error))
    return NULL;
  p->grown = natsim_scenario_copy (s);
  if (!natsim_plan_apply_growth (p->grown, opts->growth, error) ||
      !natsim_scenario_validate (p->grown, error))
    {
      g_prefix_error (error, "with %.0f %% growth: ", opts->growth * 100.0);
      return NULL;
    }

  plan_stage (opts, "measuring the grown load");
  {
    /* Port blocks would cut each subscriber's demand at the configured
     * block and refuse whole subscribers once the blocks run out: measure
     * the demand without them, and size the blocks from it. */
    g_autoptr (NatsimScenario) measured = natsim_scenario_copy (p->grown);

    guint64 block = natsim_params_get_uint (p->grown->nat, "ports_per_subscriber");
    gboolean det = natsim_params_get_bool (p->grown->nat, "deterministic");

    /* Deterministic NAT (RFC 7422) cuts each subscriber at its fixed
     * range just as a block does: measure without it too. */
    if (det && block == 0)
      block = opts->granularity;
    if (block > 0)
      {
        /* As many addresses as give every inside host one block of the
         * configured size: room for the demand, so that the measurement
         * neither refuses flows nor spends its time searching an
         * exhausted pool. */
        g_autoptr (GArray) own = natsim_params_get_addresses (p->grown->nat, "addresses");
        double hosts = 0.0;
        guint k;
        g_autofree char *v = NULL;
        g_autofree char *a = NULL;

        for (guint i = 0; i < p->grown->populations->len; i++)
          {
            const NatsimPopulationSpec *pop = g_ptr_array_index (p->grown->populations, i);

            if (natsim_key_lookup (natsim_params_specs (pop->params), "count") != NULL)
              hosts += (double) natsim_params_get_uint (pop->params, "count");
          }
        k = (guint) MIN (ceil (hosts * (double) block / plan_pool_servers (p->grown->nat)),
                         (double) NATSIM_NAT_MAX_ADDRESSES);
        k = MAX (k, own->len);
        v = plan_addresses_value (p->grown->nat, k);
        a = g_strconcat ("nat.addresses=", v, NULL);
        if (!natsim_scenario_set (measured, "nat.ports_per_subscriber=0", error) ||
            !natsim_scenario_set (measured, "nat.deterministic=false", error) ||
            !natsim_scenario_set (measured, a, error) ||
            !natsim_scenario_validate (measured, error))
          return NULL;
        plan_add_note (p, "plan.demand_without_blocks", "the measurement (totals, "
                       "per_class, timeline) ran without port blocks and with %u addresses "
                       "(one block of %" G_GUINT64_FORMAT " ports per inside host) so that no "
                       "subscriber's demand is cut; the blocks and the pool are sized from "
                       "that demand and the verification runs with them", k, block);
      }
    p->runs = run_measured (measured, opts, &usage_hooks, &p->usage, error);
    p->measured = natsim_scenario_copy (measured);
    c.measured = g_steal_pointer (&measured);
  }
  if (p->runs == NULL)
    {
      g_clear_pointer (&c.measured, natsim_scenario_free);
      return NULL;
    }
  if (p->runs->len < 2)
    plan_add_note (p, "plan.one_replication", "with one replication there is no confidence "
                   "interval: the simulation confirms on the mean alone");

  c.p = p;
  c.opts = opts;
  c.applied = natsim_scenario_copy (p->grown);
  c.usage = p->usage;
  {
    PlanFigures f;

    figures_of (c.measured, p->runs, &f);
    cache_put (&c, c.measured, &f);
  }
  ok = plan_steps (&c, error);
  plan_timeouts_clear (&c);
  g_clear_pointer (&c.cache, g_hash_table_unref);
  g_clear_pointer (&c.applied, natsim_scenario_free);
  g_clear_pointer (&c.measured, natsim_scenario_free);
  return ok ? g_steal_pointer (&p) : NULL;
}
