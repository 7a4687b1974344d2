/* natsim: the planner's address count (pool.addresses).
 *
 * Erlang B on the load measured with the recommended timeouts, then
 * confirmed by simulating the scenario with every other recommendation
 * applied; that simulation is the plan's verification.
 *
 * The loss systems depend on how the NAT picks an address:
 * - A mapping attempt toward remote R holds a port of one public address
 *   for the binding's life.  Under port overlapping (port_reuse =
 *   per-destination, RFC 7857, Linux) a port is free toward R whenever no
 *   binding to R uses it, so every remote is its own loss system per
 *   address; with exclusive ports (RFC 4787 REQ-3) all remotes of a
 *   protocol share the address's ports.
 * - hash (Linux): the address is a hash of the inside (and remote) address
 *   with no fall-back, so k addresses are k separate pools each carrying
 *   1/k of the load: blocking(k) = sum_R w_R B(N, A_R / k).
 * - first-fit, round-robin, least-loaded (Cisco, ASA, CGNs): a flow that
 *   cannot get a port on one address gets it on another, so the k
 *   addresses are one loss system of k x N ports: sum_R w_R B(kN, A_R).
 * - port blocks: the servers are blocks (floor(range / block) per
 *   address) and the load is the blocks subscribers hold (Little's law on
 *   the measured subscriber-seconds at each port count).
 * A_R = attempts_R / seconds x mean holding time (Little's law: the
 * binding-seconds over the bindings created).  The fewest k whose Erlang
 * blocking is below the target is then simulated; the upper end of the
 * 95 % confidence interval of blocking decides, walking down while it
 * stays below the target and up while it does not.  A search bound is
 * never an answer: when nothing meets the target, pool.addresses has no
 * value and the reason says why and what would help. */
#include <math.h>
#include <string.h>

#include "plan-private.h"

/* Destinations evaluated one by one in Erlang B; the rest are bounded
 * together by the largest of their loads (B grows with the load). */
#define MAX_EXPLICIT_DESTINATIONS 256

double
plan_erlang_b (guint servers, double erlangs)
{
  double b = 1.0;

  if (erlangs <= 0.0)
    return 0.0;
  for (guint n = 1; n <= servers; n++)
    {
      double ab = erlangs * b;

      b = ab / ((double) n + ab);
      if (b < 1e-300)
        return 0.0;
    }
  return b;
}

double
natsim_plan_pooled_blocking (const double *erlangs, const double *weights, guint n,
                             guint servers, guint pools)
{
  double sum = 0.0;

  g_return_val_if_fail (pools > 0, NAN);
  for (guint i = 0; i < n; i++)
    if (weights[i] > 0.0)
      sum += weights[i] * plan_erlang_b (servers, erlangs[i] / pools);
  return sum;
}

typedef struct
{
  double erlangs, weight;
  guint  index;
} Load;

static gint
load_cmp (gconstpointer a, gconstpointer b)
{
  const Load *x = a, *y = b;

  if (x->erlangs != y->erlangs)
    return x->erlangs > y->erlangs ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

typedef struct
{
  GArray  *erlangs, *weights; /* double */
  double   total_erlangs;
  double   attempts_per_s;
  double   holding_s;         /* mean holding time, weighted by attempts */
  guint    servers;           /* ports (or blocks) per address */
  guint    n_loads;           /* loss systems before bounding the tail */
  gboolean per_destination;
  gboolean one_pool;          /* addresses fall back to each other */
  guint    block;             /* > 0: servers are blocks of this many ports */
} ErlangModel;

static void
erlang_model_clear (ErlangModel *m)
{
  g_clear_pointer (&m->erlangs, g_array_unref);
  g_clear_pointer (&m->weights, g_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ErlangModel, erlang_model_clear)

static void
add_load (GArray *loads, guint index, double weight, double erlangs)
{
  Load l = { erlangs, weight, index };

  g_array_append_val (loads, l);
}

/* The loss systems of the measured load, heaviest first; beyond
 * MAX_EXPLICIT_DESTINATIONS the rest become one system with their total
 * weight and the largest of their loads (an upper bound). */
static void
erlang_model_build (ErlangModel *m, const NatsimScenario *s, const NatsimUsageResult *u,
                    guint block)
{
  g_autoptr (GArray) loads = g_array_new (FALSE, TRUE, sizeof (Load));
  double attempts = 0.0, weighted_holding = 0.0;
  const char *sel = plan_address_selection (s->nat);
  uint16_t lo, hi;

  memset (m, 0, sizeof *m);
  m->erlangs = g_array_new (FALSE, TRUE, sizeof (double));
  m->weights = g_array_new (FALSE, TRUE, sizeof (double));
  m->servers = plan_pool_servers (s->nat);
  m->per_destination = natsim_params_get_enum (s->nat, "port_reuse") == 0;
  m->one_pool = strcmp (sel, "hash") != 0;
  m->block = block;
  if (u->window_s <= 0)
    return;
  for (guint k = 0; k < NATSIM_USAGE_N_PROTO; k++)
    if (u->port_acquired[k] > 0)
      {
        attempts += u->port_attempts[k];
        weighted_holding += u->port_seconds[k] / u->port_acquired[k] * u->port_attempts[k];
      }
  if (block > 0)
    {
      /* A subscriber holding c ports holds ceil(c / block) blocks. */
      double held = 0.0;

      natsim_params_get_port_range (s->nat, "port_range", &lo, &hi);
      m->servers = ((guint) hi - lo + 1) / block;
      for (guint c = 1; c < u->time_hist->len; c++)
        held += g_array_index (u->time_hist, double, c) * ceil ((double) c / block);
      if (held > 0)
        add_load (loads, 0, 1.0, held / u->window_s);
      m->per_destination = FALSE;
    }
  else if (m->per_destination)
    {
      attempts = weighted_holding = 0.0;
      for (guint i = 0; i < u->destinations->len; i++)
        {
          const NatsimDestinationLoad *d = &g_array_index (u->destinations, NatsimDestinationLoad, i);

          if (d->attempts <= 0 || d->created <= 0)
            continue;
          add_load (loads, i, d->attempts, d->attempts / u->window_s * (d->binding_seconds / d->created));
          attempts += d->attempts;
          weighted_holding += d->binding_seconds / d->created * d->attempts;
        }
    }
  else
    for (guint k = 0; k < NATSIM_USAGE_N_PROTO; k++)
      if (u->port_attempts[k] > 0 && u->port_acquired[k] > 0)
        add_load (loads, k, u->port_attempts[k],
                  u->port_attempts[k] / u->window_s * (u->port_seconds[k] / u->port_acquired[k]));
  if (attempts <= 0 || loads->len == 0)
    return;
  g_array_sort (loads, load_cmp);
  m->n_loads = loads->len;
  m->attempts_per_s = attempts / u->window_s;
  m->holding_s = weighted_holding / attempts;
  {
    double wsum = 0.0;

    for (guint i = 0; i < loads->len; i++)
      wsum += g_array_index (loads, Load, i).weight;
    for (guint i = 0; i < loads->len; i++)
      {
        Load *l = &g_array_index (loads, Load, i);
        double w = l->weight / wsum;

        m->total_erlangs += l->erlangs;
        if (i <= MAX_EXPLICIT_DESTINATIONS)
          {
            g_array_append_val (m->erlangs, l->erlangs);
            g_array_append_val (m->weights, w);
          }
        else
          g_array_index (m->weights, double, m->weights->len - 1) += w;
      }
  }
}

static double
erlang_model_blocking (const ErlangModel *m, guint k)
{
  const double *e = (const double *) m->erlangs->data;
  const double *w = (const double *) m->weights->data;

  if (m->one_pool)
    {
      double sum = 0.0;

      for (guint i = 0; i < m->erlangs->len; i++)
        sum += w[i] * plan_erlang_b (m->servers * k, e[i]);
      return sum;
    }
  return natsim_plan_pooled_blocking (e, w, m->erlangs->len, m->servers, k);
}

guint
plan_block_addresses (const NatsimScenario *s, const NatsimUsageResult *u, guint block,
                      double target, double *ret_erlangs)
{
  g_auto (ErlangModel) m = { 0 };

  erlang_model_build (&m, s, u, block);
  if (ret_erlangs != NULL)
    *ret_erlangs = m.total_erlangs;
  if (m.erlangs->len == 0 || m.servers == 0)
    return 0;
  for (guint k = 1; k <= NATSIM_NAT_MAX_ADDRESSES; k++)
    if (erlang_model_blocking (&m, k) < target)
      return k;
  return 0;
}

/* The distinct keys the hash can spread over in one replication: inside
 * hosts, times remote addresses unless pooling is paired. */
static double
hash_keys (const NatsimScenario *s, const NatsimUsageResult *u)
{
  double subs = u->runs > 0 ? u->subscribers / u->runs : u->subscribers;
  g_autoptr (GHashTable) remotes = g_hash_table_new (g_direct_hash, g_direct_equal);

  if (natsim_params_get_enum (s->nat, "pooling") == NATSIM_POOLING_PAIRED)
    return subs;
  for (guint i = 0; i < u->destinations->len; i++)
    g_hash_table_add (remotes, GUINT_TO_POINTER (
                        g_array_index (u->destinations, NatsimDestinationLoad, i).addr + 1));
  return subs * g_hash_table_size (remotes);
}

static gboolean
simulate_k (PlanCtx *c, guint k, PlanFigures *ret, GError **error)
{
  g_autofree char *value = plan_addresses_value (c->applied->nat, k);
  g_autofree char *a = g_strconcat ("nat.addresses=", value, NULL);
  g_autofree char *msg = g_strdup_printf ("simulating %u address%s", k, k == 1 ? "" : "es");
  const char *sets[] = { a, NULL };

  return plan_simulate_cached (c, sets, msg, ret, error);
}

/* simulate_k() of @k, and with it, when the timeouts change, the
 * recommended pool of @ahead addresses with today's timeouts: the
 * simulation plan_timeouts_report() prices them by, which the plan needs
 * next if @ahead turns out to be the answer (the search then ends). */
static gboolean
simulate_k_ahead (PlanCtx *c, guint k, guint ahead, PlanFigures *ret, GError **error)
{
  g_autofree char *value = plan_addresses_value (c->applied->nat, k);
  g_autofree char *a = g_strconcat ("nat.addresses=", value, NULL);
  g_autofree char *msg = g_strdup_printf ("simulating %u address%s", k, k == 1 ? "" : "es");
  g_autofree char *value2 = NULL;
  g_autoptr (GPtrArray) sets2 = NULL;
  const char *sets[] = { a, NULL };
  PlanJob jobs[2] = { { sets, msg, ret }, { NULL, "measuring the cost of the timeouts", NULL } };

  if (!plan_timeouts_priced (c))
    return plan_simulate_batch (c, jobs, 1, error);
  value2 = plan_addresses_value (c->applied->nat, ahead);
  sets2 = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (sets2, g_strconcat ("nat.addresses=", value2, NULL));
  plan_timeouts_current_sets (c, sets2);
  g_ptr_array_add (sets2, NULL);
  jobs[1].sets = (const char *const *) sets2->pdata;
  return plan_simulate_batch (c, jobs, 2, error);
}

/* The walk's first step, @start = k_erlang - 1, with what it usually
 * needs next simulated alongside: Erlang B counts a block as held for the
 * whole flow, so @start usually meets the target, and then the walk goes
 * on with @start - 1 and (when the timeouts change) their price at
 * @start.  All of it in one set of units keeps both cores busy through
 * the search instead of waiting for the slowest replication twice; the
 * figures go to the simulation cache, where the walk's own steps find
 * them.  When @start fails instead, the two were simulated for nothing
 * and the walk goes up as before: the answer never depends on this. */
static gboolean
simulate_start_ahead (PlanCtx *c, guint start, PlanFigures *ret, GError **error)
{
  g_autofree char *v0 = plan_addresses_value (c->applied->nat, start);
  g_autofree char *v1 = plan_addresses_value (c->applied->nat, start - 1);
  g_autofree char *a0 = g_strconcat ("nat.addresses=", v0, NULL);
  g_autofree char *a1 = g_strconcat ("nat.addresses=", v1, NULL);
  g_autofree char *m0 = g_strdup_printf ("simulating %u addresses", start);
  g_autofree char *m1 = g_strdup_printf ("simulating %u address%s", start - 1,
                                         start - 1 == 1 ? "" : "es");
  g_autoptr (GPtrArray) sets2 = g_ptr_array_new_with_free_func (g_free);
  const char *sets0[] = { a0, NULL }, *sets1[] = { a1, NULL };
  PlanJob jobs[3] = { { sets0, m0, ret }, { sets1, m1, NULL },
                      { NULL, "measuring the cost of the timeouts", NULL } };
  guint n = 2;

  if (plan_timeouts_priced (c))
    {
      g_ptr_array_add (sets2, g_strdup (a0));
      plan_timeouts_current_sets (c, sets2);
      g_ptr_array_add (sets2, NULL);
      jobs[2].sets = (const char *const *) sets2->pdata;
      n = 3;
    }
  return plan_simulate_batch (c, jobs, n, error);
}

/* Verification at the scenario's own address count (nothing sized). */
static gboolean
verify_as_is (PlanCtx *c, GError **error)
{
  if (!plan_simulate_cached (c, NULL, "verifying", &c->at_addresses, error))
    return FALSE;
  c->verified = TRUE;
  return TRUE;
}

static const char *
help_text (const ErlangModel *m, const char *sel)
{
  if (strcmp (sel, "hash") == 0)
    return "add ports (a wider port_range), use an address selection that falls back to "
           "other addresses (first-fit, least-loaded), or spread the traffic over more "
           "inside hosts or destinations";
  if (m->block > 0)
    return "use smaller blocks or fewer blocks per subscriber, or a wider port_range";
  return "add ports (a wider port_range) or shorten the timeouts";
}

/* Deterministic NAT (RFC 7422): no loss system to model.  Each of the
 * inside_addresses owns a fixed range of P ports (the recommended
 * per-subscriber range, or the configured one), an address holds
 * S = floor(range / P) subscribers, so the pool needs ceil(subscribers /
 * S) addresses whatever the traffic, and one fewer cannot hold every
 * range (the NAT refuses that configuration).  Whether P is enough is
 * the simulation's to say. */
static gboolean
plan_addresses_deterministic (PlanCtx *c, GError **error)
{
  NatsimPlan *p = c->p;
  const NatsimPlanOptions *opts = c->opts;
  g_autoptr (GArray) inside = natsim_params_get_addresses (c->applied->nat, "inside_addresses");
  guint64 subs = inside->len, ports, per, k;
  g_autofree char *t = plan_pct (opts->target_blocking);
  g_autoptr (GString) why = g_string_new (NULL);
  PlanFigures f;
  uint16_t lo, hi;
  guint range;

  natsim_params_get_port_range (c->applied->nat, "port_range", &lo, &hi);
  range = (guint) hi - lo + 1;
  ports = natsim_params_get_uint (c->applied->nat, "ports_per_subscriber");
  if (ports == 0 || ports > range)
    {
      plan_add_note (p, "plan.no_range", "pool.addresses: deterministic NAT without a "
                     "per-subscriber port range to size from (see pool.ports_per_subscriber)");
      return verify_as_is (c, error);
    }
  per = range / ports;
  k = (subs + per - 1) / per;
  g_string_append_printf (why, "Deterministic NAT (RFC 7422): %" G_GUINT64_FORMAT
                          " inside_addresses, each owning %" G_GUINT64_FORMAT " ports, "
                          "%" G_GUINT64_FORMAT " per address (floor(%u / %" G_GUINT64_FORMAT
                          ")), need ceil(%" G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT ") = %"
                          G_GUINT64_FORMAT " address%s",
                          subs, ports, per, range, ports, subs, per, k, k == 1 ? "" : "es");
  if (k > 1)
    g_string_append_printf (why, "; %" G_GUINT64_FORMAT " hold only %" G_GUINT64_FORMAT
                            " subscribers, so the NAT cannot give every inside address its "
                            "range", k - 1, (k - 1) * per);
  else
    g_string_append (why, "; fewer than one is not possible");
  g_string_append (why, ". ");
  if (k > NATSIM_NAT_MAX_ADDRESSES)
    {
      g_string_append_printf (why, "That is more than the %u addresses natsim models, so no "
                              "address count is recommended. To help: smaller ranges, fewer "
                              "inside_addresses per pool, or a wider port_range.",
                              NATSIM_NAT_MAX_ADDRESSES);
      plan_add_item (p, "pool.addresses", NAN, "addresses", "arithmetic", "%s", why->str);
      return verify_as_is (c, error);
    }
  if (!simulate_k (c, (guint) k, &f, error))
    return FALSE;
  {
    g_autofree char *bm = plan_pct (f.blocking);
    g_autofree char *bu = plan_pct (f.blocking_upper);
    g_autofree char *v = plan_addresses_value (c->applied->nat, (guint) k);
    g_autofree char *a = g_strconcat ("nat.addresses=", v, NULL);

    g_string_append_printf (why, "Simulation with every other recommendation applied (%u "
                            "replication%s): %s blocking (upper %s, target below %s)",
                            f.replications, f.replications == 1 ? "" : "s", bm, bu, t);
    if (f.blocking_upper < opts->target_blocking)
      {
        g_string_append (why, ".");
        plan_add_item (p, "pool.addresses", (double) k, "addresses", "arithmetic", "%s",
                       why->str);
        c->addresses = (guint) k;
      }
    else
      {
        g_string_append (why, ": the fixed ranges refuse flows whatever the address count, "
                              "so none is recommended. To help: larger ranges "
                              "(ports_per_subscriber) or shorter timeouts.");
        plan_add_item (p, "pool.addresses", NAN, "addresses", "simulation", "%s", why->str);
      }
    if (!natsim_scenario_set (c->applied, a, error) ||
        !natsim_scenario_validate (c->applied, error))
      return FALSE;
  }
  c->at_addresses = f;
  c->verified = TRUE;
  return TRUE;
}

gboolean
plan_addresses (PlanCtx *c, GError **error)
{
  NatsimPlan *p = c->p;
  const NatsimPlanOptions *opts = c->opts;
  g_auto (ErlangModel) m = { 0 };
  guint k_erlang = 0, k, best = 0, lowest_failed = 0, highest_tried = 0;
  PlanFigures at_best = { 0 }, at_failed = { 0 }, at_highest = { 0 };
  double target = opts->target_blocking;
  g_autofree char *t = plan_pct (target);
  const char *sel = plan_address_selection (c->applied->nat);
  const char *basis;
  g_autoptr (GString) why = NULL;

  if (natsim_params_get_bool (c->applied->nat, "deterministic"))
    return plan_addresses_deterministic (c, error);
  erlang_model_build (&m, c->applied, c->usage, c->block);
  if (m.attempts_per_s <= 0 || m.erlangs->len == 0)
    {
      plan_add_note (p, "plan.no_flows", "pool.addresses: the scenario makes no mapping "
                     "attempts in the measured window; nothing to size");
      return verify_as_is (c, error);
    }

  why = g_string_new (NULL);
  g_string_append_printf (why, "Measured %.4g mapping attempts/s with a mean holding time of "
                          "%.4g s (Little's law: binding-seconds / bindings) at %.0f %% growth%s. ",
                          m.attempts_per_s, m.holding_s, opts->growth * 100.0,
                          c->usage != p->usage ? ", with the recommended timeouts" : "");
  if (m.block > 0)
    g_string_append_printf (why, "Port blocks of %u ports: %u blocks per address, and "
                            "subscribers hold %.4g blocks on average (%.4g erlang). ",
                            m.block, m.servers, m.total_erlangs, m.total_erlangs);
  else if (m.per_destination)
    g_string_append_printf (why, "%.4g erlang in all. With port overlapping each remote "
                            "endpoint (%u measured) is its own loss system of %u ports per "
                            "address. ", m.total_erlangs, m.n_loads, m.servers);
  else
    g_string_append_printf (why, "%.4g erlang in all. With exclusive ports all remotes share "
                            "%u ports per address. ", m.total_erlangs, m.servers);
  if (m.one_pool)
    g_string_append_printf (why, "Address selection %s falls back to another address when "
                            "one is full, so k addresses are one loss system of k x %u. ",
                            sel, m.servers);
  else
    g_string_append (why, "Address selection hash picks one address per inside host (and "
                          "remote) without fallback, so k addresses are k pools each "
                          "carrying 1/k of the load. ");

  /* One inside host (with paired pooling, or toward one remote address):
   * every flow hashes to the same address, whatever k. */
  if (!m.one_pool && hash_keys (c->applied, c->usage) <= 1.0)
    {
      g_string_append_printf (why, "All traffic is 1 inside host%s: with hash selection it "
                              "uses one address whatever the pool, so no address count "
                              "meets the target. To help: %s.",
                              natsim_params_get_enum (c->applied->nat, "pooling")
                                  == NATSIM_POOLING_PAIRED
                                ? " (pooling = paired)" : " to 1 remote address",
                              help_text (&m, sel));
      plan_add_item (p, "pool.addresses", NAN, "addresses", "simulation", "%s", why->str);
      return verify_as_is (c, error);
    }

  for (k = 1; k <= NATSIM_NAT_MAX_ADDRESSES; k++)
    if (erlang_model_blocking (&m, k) < target)
      {
        k_erlang = k;
        break;
      }
  if (k_erlang == 0)
    {
      g_autofree char *bm = plan_pct (erlang_model_blocking (&m, NATSIM_NAT_MAX_ADDRESSES));

      g_string_append_printf (why, "Erlang B: even %u addresses (the most natsim models) give "
                              "%s blocking (target below %s), so no address count is "
                              "recommended. To help: %s.", NATSIM_NAT_MAX_ADDRESSES, bm, t,
                              help_text (&m, sel));
      plan_add_item (p, "pool.addresses", NAN, "addresses", "erlang-b", "%s", why->str);
      return verify_as_is (c, error);
    }
  {
    g_autofree char *b1 = plan_pct (erlang_model_blocking (&m, k_erlang));
    g_string_append_printf (why, "Erlang B: %u address%s %s blocking", k_erlang,
                            k_erlang == 1 ? " gives" : "es give", b1);
    if (k_erlang > 1)
      {
        g_autofree char *b0 = plan_pct (erlang_model_blocking (&m, k_erlang - 1));
        g_string_append_printf (why, ", %u %s %s", k_erlang - 1,
                                k_erlang - 1 == 1 ? "gives" : "give", b0);
      }
    g_string_append_printf (why, " (target below %s). ", t);
  }

  /* Confirm by simulation: walk down from the Erlang answer while the
   * upper end of the 95 % CI stays below the target, else walk up.  The
   * answer needs "best meets the target, best - 1 does not": the walk
   * starts at k_erlang - 1, so that when Erlang B is one address
   * generous (it counts a block as held for the whole flow) two
   * simulations (k - 1 meets, k - 2 fails) settle it instead of three,
   * and when it is exact two still do (k - 1 fails, k meets).  Blocking
   * falls as addresses are added (the same seeds, more room), so the
   * walk finds the count the walk from k_erlang finds. */
  {
    PlanFigures f;
    guint start = k_erlang > 1 ? k_erlang - 1 : k_erlang;

    if (!(start + 1 == k_erlang && start > 1 ? simulate_start_ahead (c, start, &f, error)
                                              : simulate_k (c, start, &f, error)))
      return FALSE;
    highest_tried = start;
    at_highest = f;
    if (f.blocking_upper >= target && start < k_erlang)
      {
        lowest_failed = start;
        at_failed = f;
        if (!simulate_k_ahead (c, k_erlang, k_erlang, &f, error))
          return FALSE;
        highest_tried = k_erlang;
        at_highest = f;
        start = k_erlang;
        if (f.blocking_upper < target)
          {
            best = k_erlang;
            at_best = f;
          }
      }
    if (best != 0)
      ; /* k_erlang meets the target and k_erlang - 1 does not */
    else if (f.blocking_upper < target)
      {
        best = start;
        at_best = f;
        for (k = start - 1; k >= 1 && k + PLAN_MAX_CONFIRM_STEPS > k_erlang; k--)
          {
            /* If k fails, k + 1 is the answer: price the timeouts there
             * meanwhile, on the first step (the usual end of the walk). */
            if (!(k + 1 == start ? simulate_k_ahead (c, k, k + 1, &f, error)
                                 : simulate_k (c, k, &f, error)))
              return FALSE;
            if (f.blocking_upper >= target)
              {
                lowest_failed = k;
                at_failed = f;
                break;
              }
            best = k;
            at_best = f;
          }
      }
    else
      {
        lowest_failed = k_erlang;
        at_failed = f;
        for (k = k_erlang + 1; k <= NATSIM_NAT_MAX_ADDRESSES && k < k_erlang + PLAN_MAX_CONFIRM_STEPS;
             k++)
          {
            if (!simulate_k (c, k, &f, error))
              return FALSE;
            highest_tried = k;
            at_highest = f;
            if (f.blocking_upper < target)
              {
                best = k;
                at_best = f;
                break;
              }
            lowest_failed = k;
            at_failed = f;
          }
      }
  }

  if (best != 0)
    {
      g_autofree char *bm = plan_pct (at_best.blocking);
      g_autofree char *bc = plan_pct (at_best.blocking_ci95);
      g_autofree char *bu = plan_pct (at_best.blocking_upper);
      g_autofree char *a = NULL;
      g_autofree char *v = plan_addresses_value (c->applied->nat, best);

      g_string_append_printf (why, "Simulation with every other recommendation applied (%u "
                              "replications): %u address%s %s (±%s, upper %s) blocking",
                              at_best.replications, best, best == 1 ? " gives" : "es give", bm,
                              bc, bu);
      if (lowest_failed != 0)
        {
          g_autofree char *fm = plan_pct (at_failed.blocking);
          g_autofree char *fu = plan_pct (at_failed.blocking_upper);
          g_string_append_printf (why, "; %u %s %s (upper %s), not below the target",
                                  lowest_failed, lowest_failed == 1 ? "gives" : "give", fm, fu);
        }
      else if (best == 1)
        g_string_append (why, "; fewer than one is not possible");
      g_string_append (why, ". ");
      basis = best == k_erlang ? "erlang-b" : "simulation";
      g_string_append (why, best == k_erlang
                              ? "Erlang B decided; the simulation confirms it."
                              : "The simulation decided: Erlang B's answer was not the fewest "
                                "addresses that the simulation confirms.");
      plan_add_item (p, "pool.addresses", best, "addresses", basis, "%s", why->str);
      a = g_strconcat ("nat.addresses=", v, NULL);
      if (!natsim_scenario_set (c->applied, a, error) ||
          !natsim_scenario_validate (c->applied, error))
        return FALSE;
      c->addresses = best;
      c->at_addresses = at_best;
    }
  else
    {
      g_autofree char *fm = plan_pct (at_failed.blocking);
      g_autofree char *fu = plan_pct (at_failed.blocking_upper);
      g_autofree char *v = plan_addresses_value (c->applied->nat, highest_tried);
      g_autofree char *a = g_strconcat ("nat.addresses=", v, NULL);

      double keys = m.one_pool ? 0.0 : hash_keys (c->applied, c->usage);

      g_string_append_printf (why, "Simulation: %u to %u addresses all leave blocking at or "
                              "above the target (%u: %s, upper %s), so no address count is "
                              "recommended.", k_erlang, highest_tried, lowest_failed, fm, fu);
      if (keys >= 1.0 && keys < highest_tried)
        g_string_append_printf (why, " The hash has only %.0f inside host%s%s to spread over, "
                                "so at most that many addresses carry traffic.", keys,
                                keys == 1.0 ? "" : "s",
                                natsim_params_get_enum (c->applied->nat, "pooling")
                                    == NATSIM_POOLING_PAIRED
                                  ? "" : " x remote addresses");
      g_string_append_printf (why, " To help: %s.", help_text (&m, sel));
      plan_add_item (p, "pool.addresses", NAN, "addresses", "simulation", "%s", why->str);
      plan_add_note (p, "plan.unconfirmed", "pool.addresses: no address count from %u to %u "
                     "was confirmed below the blocking target by simulation", k_erlang,
                     highest_tried);
      /* The costs of the other recommendations are measured at the largest
       * pool tried. */
      if (!natsim_scenario_set (c->applied, a, error) ||
          !natsim_scenario_validate (c->applied, error))
        return FALSE;
      c->at_addresses = at_highest;
    }
  c->verified = TRUE;
  return TRUE;
}
