/* natsim: the simulation driver.
 *
 * One replication: build the NAT from [nat], one population per
 * [population], each with its own random stream; pop events in time order
 * until the end; every packet goes through the NAT and the collector.
 * Replications run on a GThreadPool; each writes only its own result slot,
 * so the outcome does not depend on the number of threads.
 */
#include <inttypes.h>
#include <stdatomic.h>

#include "natsim/error.h"
#include "natsim/eventq.h"
#include "natsim/narrate.h"
#include "natsim/rng.h"
#include "natsim/simulate.h"
#include "step.h"
#include "units.h"

typedef struct
{
  NatsimNat         *nat;
  NatsimCollector   *collector;
  FILE              *events;
  NatsimNarrator    *narrator; /* with events */
  const NatsimSimHooks *hooks;
  void              *hook_state;
  NatsimTime         ff_last;  /* the last exchange of the trains fast-forwarded so far */
} Sim;

/* Narrates (--events), then hands lifecycle events to the collector. */
static void
narrate_nat_event (const NatsimNatEvent *ev, void *user_data)
{
  Sim *sim = user_data;

  natsim_collector_on_nat_event (ev, sim->collector);
  natsim_narrator_nat_event (sim->narrator, ev);
}

/* With extra observers: the collector (or narration) first, then them. */
static void
observe_nat_event (const NatsimNatEvent *ev, void *user_data)
{
  Sim *sim = user_data;

  if (sim->events != NULL)
    narrate_nat_event (ev, sim);
  else
    natsim_collector_on_nat_event (ev, sim->collector);
  if (sim->hooks->nat_event != NULL)
    sim->hooks->nat_event (ev, sim->hook_state);
}

static void
sim_send (void *data, const NatsimPacket *pkt, NatsimNatResult *ret)
{
  Sim *sim = data;

  /* Models send at the time of the event they handle, to which the event
   * loop has already brought the collector: the step's advance is then a
   * no-op (no NAT timer is ever due at the time it is armed). */
  natsim_step_packet (sim->nat, sim->collector, pkt, ret);
  if (sim->hooks != NULL && sim->hooks->packet != NULL)
    sim->hooks->packet (pkt, ret, sim->hook_state);
  if (sim->narrator != NULL)
    natsim_narrator_packet (sim->narrator, pkt, ret);
}

/* Fast-forward only where no one looks at single packets: narration
 * (--events), extra observers and the collector's packet log see every
 * packet, so they get every packet. */
static bool
sim_fast_forward (void *data, uint16_t cls, const NatsimNatTrain *trains, guint n)
{
  Sim *sim = data;

  if (sim->narrator != NULL || sim->hooks != NULL || natsim_collector_logs_packets (sim->collector)
      || !natsim_nat_fast_forward (sim->nat, trains, n))
    return false;
  for (guint i = 0; i < n; i++)
    {
      natsim_collector_on_train (sim->collector, cls, trains[i].next, trains[i].gap,
                                 trains[i].last);
      sim->ff_last = MAX (sim->ff_last, trains[i].last);
    }
  return true;
}

static void
sim_unreachable (void *data, uint16_t cls, NatsimTime from, NatsimTime to)
{
  Sim *sim = data;

  natsim_collector_add_unreachable (sim->collector, cls, from, to);
}

static void
sim_missed_call (void *data, uint16_t cls, NatsimTime t)
{
  Sim *sim = data;

  natsim_collector_add_missed_call (sim->collector, cls, t);
}

/* Where a replication's memory went at its end, by owner (the benchmarks
 * print it; report.json does not carry it). */
static void
record_memory (NatsimRunResult *r, const NatsimNat *nat, const NatsimEventQueue *queue,
               const GPtrArray *pops, gsize collector_bytes)
{
  NatsimNatMemory nm;

  natsim_nat_memory (nat, &nm);
  r->mem_nat = nm.total;
  r->mem_events = natsim_eventq_memory_bytes (queue);
  r->mem_models = 0;
  for (guint i = 0; i < pops->len; i++)
    r->mem_models += natsim_population_memory_bytes (g_ptr_array_index (pops, i));
  r->mem_collector = collector_bytes;
}

NatsimRunResult *
natsim_simulate_replication (const NatsimScenario *s, guint replication, FILE *events,
                             GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return natsim_simulate_replication_observed (s, replication, events, NULL, NULL, error);
}

/* One replication; with @clock, publishes the simulated time reached
 * every 1024 events (read by natsim_simulate()'s progress, on another
 * thread). */
static NatsimRunResult *
replication_run (const NatsimScenario *s, guint replication, FILE *events,
                 const NatsimSimHooks *hooks, void *hooks_data, atomic_uint_fast64_t *clock,
                 GError **error)
{
  guint64 n_events = 0;
  NatsimTime last_event = 0;
  NatsimRunResult *result;
  NatsimNatConfig cfg;
  g_autoptr (gsl_rng) nat_rng = NULL;
  g_autoptr (NatsimNat) nat = NULL;
  g_autoptr (NatsimCollector) collector = NULL;
  g_autoptr (NatsimEventQueue) queue = NULL;
  g_autoptr (GPtrArray) pops = NULL;
  g_autoptr (GPtrArray) rngs = NULL;
  g_autofree NatsimPopulationContext *ctxs = NULL;
  g_autoptr (NatsimNarrator) narrator = NULL;
  g_auto (GStrv) class_names = NULL;
  uint64_t seed = natsim_params_get_uint (s->simulation, "seed");
  NatsimTime end = natsim_params_get_duration (s->simulation, "duration");
  NatsimTime warmup = natsim_params_get_duration (s->simulation, "warmup");
  NatsimTime interval = natsim_params_get_duration (s->simulation, "timeline_interval");
  uint32_t next_host = 1;
  gsize coll_bytes;
  NatsimEvent ev;
  Sim sim = { 0 };

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (!natsim_scenario_nat_config (s, &cfg, error))
    {
      g_prefix_error (error, "%s: [nat] ", s->path);
      return NULL;
    }
  nat_rng = natsim_rng_new (seed, replication, "nat");
  nat = natsim_nat_new (&cfg, nat_rng);
  collector = natsim_collector_new (nat, s->populations->len, cfg.n_addresses, warmup, end,
                                    interval);
  if (events != NULL)
    {
      class_names = natsim_scenario_class_names (s);
      narrator = natsim_narrator_new (events, nat, &cfg, (const char *const *) class_names,
                                      s->populations->len);
      /* Replications are numbered from 1 wherever people read them. */
      fprintf (events, "# %s: replication %u of %" G_GUINT64_FORMAT ", seed %" G_GUINT64_FORMAT
               "\n", s->path, replication + 1,
               natsim_params_get_uint (s->simulation, "replications"), seed);
      natsim_narrator_legend (narrator);
    }
  natsim_nat_config_clear (&cfg);
  queue = natsim_population_queue_new ();
  sim.nat = nat;
  sim.collector = collector;
  sim.events = events;
  sim.narrator = narrator;
  sim.hooks = hooks;
  if (hooks != NULL)
    {
      sim.hook_state = hooks->begin != NULL ? hooks->begin (s, replication, hooks_data) : NULL;
      natsim_nat_set_observer (nat, observe_nat_event, &sim);
    }
  else if (events != NULL)
    natsim_nat_set_observer (nat, narrate_nat_event, &sim);
  else
    natsim_nat_set_observer (nat, natsim_collector_on_nat_event, collector);

  pops = g_ptr_array_new_with_free_func ((GDestroyNotify) natsim_population_free);
  rngs = g_ptr_array_new_with_free_func ((GDestroyNotify) gsl_rng_free);
  ctxs = g_new0 (NatsimPopulationContext, s->populations->len);
  for (guint i = 0; i < s->populations->len; i++)
    {
      const NatsimPopulationSpec *spec = g_ptr_array_index (s->populations, i);
      g_autofree char *stream = g_strconcat ("population:", spec->name, NULL);
      NatsimPopulationContext *ctx = &ctxs[i];
      gsl_rng *rng = natsim_rng_new (seed, replication, stream);

      g_ptr_array_add (rngs, rng);
      ctx->queue = queue;
      ctx->rng = rng;
      ctx->cls = (uint16_t) i;
      /* Inside hosts are numbered consecutively in 10.0.0.0/8 in
       * population order. */
      ctx->inside_base = UINT32_C (0x0a000000) + next_host;
      next_host += spec->profile->n_hosts (spec->params);
      ctx->end = end;
      ctx->send = sim_send;
      ctx->unreachable = sim_unreachable;
      ctx->missed_call = sim_missed_call;
      ctx->fast_forward = sim_fast_forward;
      ctx->nat = nat;
      ctx->sim = &sim;
      g_ptr_array_add (pops, spec->profile->create (spec->params, ctx));
    }
  for (guint i = 0; i < pops->len; i++)
    {
      NatsimPopulation *pop = g_ptr_array_index (pops, i);
      pop->klass->start (pop);
    }
  while (natsim_population_next_event (queue, end, &ev))
    {
      NatsimPopulation *pop = g_ptr_array_index (pops, ev.aux);

      /* Every event moves the clock, packets or not: the models may look
       * at the NAT's state (natsim_nat_flow_state()). */
      natsim_collector_advance (collector, ev.time);
      last_event = ev.time;
      pop->klass->handle (pop, &ev);
      if (clock != NULL && (++n_events & 1023) == 0)
        atomic_store_explicit (clock, ev.time, memory_order_relaxed);
    }
  /* The populations finish with the NAT's clock where the last event left
   * it; a fast-forwarded exchange would have been an event (before the
   * end: the trains stop there). */
  if (sim.ff_last > last_event)
    natsim_collector_advance (collector, sim.ff_last);
  for (guint i = 0; i < pops->len; i++)
    {
      NatsimPopulation *pop = g_ptr_array_index (pops, i);
      pop->klass->finish (pop, end);
    }
  coll_bytes = natsim_collector_memory_bytes (collector);
  result = natsim_collector_finish (collector);
  record_memory (result, nat, queue, pops, coll_bytes);
  if (hooks != NULL && hooks->end != NULL)
    hooks->end (sim.hook_state, replication, hooks_data);
  return result;
}

NatsimRunResult *
natsim_simulate_replication_observed (const NatsimScenario *s, guint replication, FILE *events,
                                      const NatsimSimHooks *hooks, void *hooks_data,
                                      GError **error)
{
  return replication_run (s, replication, events, hooks, hooks_data, NULL, error);
}

typedef struct
{
  const NatsimScenario *scenario;
  atomic_uint_fast64_t *clocks; /* per replication: simulated time reached */
  NatsimRunResult     **results;
  GError              **errors;
  GAsyncQueue          *done;
  FILE                 *events;
  const NatsimSimHooks *hooks;
  void                 *hooks_data;
} Job;

static void
run_job (gpointer data, gpointer user_data)
{
  Job *job = user_data;
  guint rep = GPOINTER_TO_UINT (data) - 1;

  job->results[rep] = replication_run (job->scenario, rep, rep == 0 ? job->events : NULL,
                                       job->hooks, job->hooks_data,
                                       job->clocks != NULL ? &job->clocks[rep] : NULL,
                                       &job->errors[rep]);
  g_async_queue_push (job->done, GUINT_TO_POINTER (rep + 1));
}

GPtrArray *
natsim_simulate (const NatsimScenario *s, const NatsimSimOptions *opts, GError **error)
{
  /* Before the declarations below allocate. */
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  /* --mpi: the same replications, spread over the processes (units.c). */
  if (units_distributed (opts))
    return units_simulate (s, opts, error);
  guint n = (guint) natsim_params_get_uint (s->simulation, "replications");
  guint jobs = MAX (opts != NULL ? opts->jobs : 1, 1);
  g_autofree NatsimRunResult **results = g_new0 (NatsimRunResult *, n);
  g_autofree GError **errors = g_new0 (GError *, n);
  GPtrArray *out;
  g_autofree atomic_uint_fast64_t *clocks = NULL;
  Job job = { s, NULL, results, errors, g_async_queue_new (), opts ? opts->events : NULL,
              opts ? opts->hooks : NULL, opts ? opts->hooks_data : NULL };

  if (opts != NULL && opts->time_progress != NULL)
    {
      /* Progress within replications: they run on worker threads (one
       * with --jobs 1, which changes nothing in the results) while this
       * thread reads their clocks a few times a second. */
      NatsimTime end = natsim_params_get_duration (s->simulation, "duration");
      GThreadPool *pool;
      guint done = 0;

      clocks = g_new0 (atomic_uint_fast64_t, n);
      for (guint r = 0; r < n; r++)
        atomic_init (&clocks[r], 0);
      job.clocks = clocks;
      pool = g_thread_pool_new (run_job, &job, (gint) MIN (jobs, n), TRUE, NULL);
      for (guint r = 0; r < n; r++)
        g_thread_pool_push (pool, GUINT_TO_POINTER (r + 1), NULL);
      while (done < n)
        {
          gpointer d = g_async_queue_timeout_pop (job.done, G_USEC_PER_SEC / 4);
          double reached = 0;

          if (d != NULL)
            {
              atomic_store_explicit (&clocks[GPOINTER_TO_UINT (d) - 1], end,
                                     memory_order_relaxed);
              done++;
            }
          for (guint r = 0; r < n; r++)
            reached += (double) MIN (atomic_load_explicit (&clocks[r], memory_order_relaxed),
                                     end);
          opts->time_progress (end > 0 ? reached / ((double) end * n) : 1.0, done, n,
                               opts->progress_data);
        }
      g_thread_pool_free (pool, FALSE, TRUE);
    }
  else if (jobs == 1)
    {
      for (guint r = 0; r < n; r++)
        {
          run_job (GUINT_TO_POINTER (r + 1), &job);
          g_async_queue_pop (job.done);
          if (opts && opts->progress)
            opts->progress (r + 1, n, opts->progress_data);
        }
    }
  else
    {
      GThreadPool *pool = g_thread_pool_new (run_job, &job, (gint) MIN (jobs, n), TRUE, NULL);
      for (guint r = 0; r < n; r++)
        g_thread_pool_push (pool, GUINT_TO_POINTER (r + 1), NULL);
      for (guint r = 0; r < n; r++)
        {
          g_async_queue_pop (job.done);
          if (opts && opts->progress)
            opts->progress (r + 1, n, opts->progress_data);
        }
      g_thread_pool_free (pool, FALSE, TRUE);
    }
  g_async_queue_unref (job.done);

  out = g_ptr_array_new_with_free_func ((GDestroyNotify) natsim_run_result_free);
  for (guint r = 0; r < n; r++)
    {
      if (errors[r] != NULL && (error == NULL || *error == NULL))
        g_propagate_error (error, g_steal_pointer (&errors[r]));
      g_clear_error (&errors[r]);
      g_ptr_array_add (out, results[r]);
    }
  if (error != NULL && *error != NULL)
    {
      g_ptr_array_unref (out);
      return NULL;
    }
  return out;
}

char **
natsim_scenario_class_names (const NatsimScenario *s)
{
  char **names = g_new0 (char *, s->populations->len + 1);

  for (guint i = 0; i < s->populations->len; i++)
    names[i] = g_strdup (((NatsimPopulationSpec *) g_ptr_array_index (s->populations, i))->name);
  return names;
}
