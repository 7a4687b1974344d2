/* natsim: the planner (natsim plan).
 *
 * One measurement run of the grown scenario, as configured, with the usage
 * tracker attached (per destination load, per subscriber ports, idle gaps),
 * then:
 *
 * - pool.addresses: Erlang B on the measured load.  A mapping attempt toward
 *   remote R holds a port of one public address for the binding's life.
 *   Under port overlapping (port_reuse = per-destination, RFC 7857, Linux) a
 *   port is free toward R whenever no binding to R uses it, so every remote
 *   forms its own loss system per address; with exclusive ports (RFC 4787
 *   REQ-3) all remotes of a protocol share the address's ports.  The NAT
 *   picks the public address by a hash of the inside (and remote) address
 *   and never falls back to another one (Linux, natsim's engine), so k
 *   addresses are k separate pools of N ports each carrying 1/k of the
 *   load, not one pool of k x N ports: blocking(k) = sum_R w_R B(N, A_R / k)
 *   with A_R = attempts_R / seconds x mean holding time (Little's law: the
 *   binding-seconds over the bindings created).  The fewest k whose Erlang
 *   blocking is below the target is then simulated; the upper end of the
 *   95 % confidence interval of blocking decides, walking down while it
 *   stays below the target and up while it does not.
 * - pool.ports_per_subscriber: from the per-subscriber peak of concurrent
 *   ports in the busy window (the peak, not the time-weighted level: a
 *   block must hold a subscriber's busiest moment, when the NAT would
 *   otherwise refuse its flows).
 * - timeout.*: the longest (or the 1 - target_loss quantile) idle gap per
 *   timer plus a margin of 10 % (at least 5 s); the port cost of a change
 *   is Little's law again: rate of flows ending under that timer x change.
 * - keepalive.interval: 80 % of the shortest UDP timeout (RFC 5626
 *   randomises keepalives between 80 and 100 % of the interval).
 */
#include <math.h>
#include <string.h>

#include "natsim/error.h"
#include "natsim/plan.h"
#include "natsim/sweep.h"

/* Destinations evaluated one by one in Erlang B; the rest are bounded
 * together by the largest of their loads (B grows with the load). */
#define MAX_EXPLICIT_DESTINATIONS 256
/* Simulated address counts tried around the Erlang B answer. */
#define MAX_CONFIRM_STEPS 16

void
natsim_plan_options_init (NatsimPlanOptions *opts)
{
  memset (opts, 0, sizeof *opts);
  opts->target_blocking = 0.001;
  opts->target_loss = 0.0;
  opts->growth = 0.2;
  opts->granularity = 64;
  opts->jobs = 1;
}

static void
item_clear (gpointer p)
{
  NatsimPlanItem *it = p;

  g_free (it->id);
  g_free (it->unit);
  g_free (it->reason);
  g_free (it->basis);
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
  g_clear_pointer (&p->runs, g_ptr_array_unref);
  g_clear_pointer (&p->usage, natsim_usage_result_free);
  g_clear_pointer (&p->items, g_array_unref);
  g_clear_pointer (&p->notes, g_array_unref);
  g_free (p);
}

const NatsimPlanItem *
natsim_plan_find (const NatsimPlan *p, const char *id)
{
  for (guint i = 0; i < p->items->len; i++)
    {
      const NatsimPlanItem *it = &g_array_index (p->items, NatsimPlanItem, i);
      if (strcmp (it->id, id) == 0)
        return it;
    }
  return NULL;
}

static void add_item (NatsimPlan *p, const char *id, double value, const char *unit,
                      const char *basis, const char *fmt, ...) G_GNUC_PRINTF (6, 7);

static void
add_item (NatsimPlan *p, const char *id, double value, const char *unit, const char *basis,
          const char *fmt, ...)
{
  NatsimPlanItem it;
  va_list ap;

  va_start (ap, fmt);
  it.id = g_strdup (id);
  it.value = value;
  it.unit = g_strdup (unit);
  it.basis = g_strdup (basis);
  it.reason = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_array_append_val (p->items, it);
}

static void add_note (NatsimPlan *p, const char *id, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static void
add_note (NatsimPlan *p, const char *id, const char *fmt, ...)
{
  NatsimPlanNote n;
  va_list ap;

  va_start (ap, fmt);
  n.id = g_strdup (id);
  n.message = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_array_append_val (p->notes, n);
}

static void
stage (const NatsimPlanOptions *opts, const char *message)
{
  if (opts->stage != NULL)
    opts->stage (message, opts->stage_data);
}

/* ---------- growth ---------- */

gboolean
natsim_plan_apply_growth (NatsimScenario *s, double growth, GError **error)
{
  static const char *const count_keys[] = { "count", "flows" };

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

char *
natsim_plan_addresses_value (const NatsimScenario *s, guint k)
{
  g_autoptr (GArray) own = natsim_params_get_addresses (s->nat, "addresses");
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

/* ---------- Erlang B ---------- */

/* B(servers, erlangs), stopping once it is negligible. */
static double
erlang_b_fast (guint servers, double erlangs)
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
      sum += weights[i] * erlang_b_fast (servers, erlangs[i] / pools);
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
  GArray *erlangs, *weights; /* double */
  double  total_erlangs;
  double  attempts_per_s;
  double  holding_s;         /* mean holding time, weighted by attempts */
  guint   servers;           /* ports per address (per remote with overlapping) */
  guint   n_loads;           /* loss systems before bounding the tail */
  gboolean per_destination;
} ErlangModel;

static void
erlang_model_clear (ErlangModel *m)
{
  g_clear_pointer (&m->erlangs, g_array_unref);
  g_clear_pointer (&m->weights, g_array_unref);
}

/* The loss systems of the measured load, heaviest first; beyond
 * MAX_EXPLICIT_DESTINATIONS the rest become one system with their total
 * weight and the largest of their loads (an upper bound). */
static void
erlang_model_build (ErlangModel *m, const NatsimScenario *s, const NatsimUsageResult *u)
{
  g_autoptr (GArray) loads = g_array_new (FALSE, TRUE, sizeof (Load));
  uint16_t lo, hi;
  double attempts = 0.0, weighted_holding = 0.0;

  memset (m, 0, sizeof *m);
  m->erlangs = g_array_new (FALSE, TRUE, sizeof (double));
  m->weights = g_array_new (FALSE, TRUE, sizeof (double));
  natsim_params_get_port_range (s->nat, "port_range", &lo, &hi);
  m->servers = (guint) hi - lo + 1;
  m->per_destination = natsim_params_get_enum (s->nat, "port_reuse") == 0;
  if (natsim_params_get_bool (s->nat, "parity"))
    m->servers /= 2; /* each parity class is a pool of half the range */
  if (u->window_s <= 0)
    return;
  if (m->per_destination)
    for (guint i = 0; i < u->destinations->len; i++)
      {
        const NatsimDestinationLoad *d = &g_array_index (u->destinations, NatsimDestinationLoad, i);
        Load l = { 0 };

        if (d->attempts <= 0 || d->created <= 0)
          continue;
        l.index = i;
        l.weight = d->attempts;
        l.erlangs = d->attempts / u->window_s * (d->binding_seconds / d->created);
        attempts += d->attempts;
        weighted_holding += d->binding_seconds / d->created * d->attempts;
        g_array_append_val (loads, l);
      }
  else
    for (guint k = 0; k < NATSIM_USAGE_N_PROTO; k++)
      {
        Load l = { 0 };

        if (u->port_attempts[k] <= 0 || u->port_acquired[k] <= 0)
          continue;
        l.index = k;
        l.weight = u->port_attempts[k];
        l.erlangs = u->port_attempts[k] / u->window_s * (u->port_seconds[k] / u->port_acquired[k]);
        attempts += u->port_attempts[k];
        weighted_holding += u->port_seconds[k] / u->port_acquired[k] * u->port_attempts[k];
        g_array_append_val (loads, l);
      }
  if (attempts <= 0)
    return;
  g_array_sort (loads, load_cmp);
  m->n_loads = loads->len;
  m->attempts_per_s = attempts / u->window_s;
  m->holding_s = weighted_holding / attempts;
  for (guint i = 0; i < loads->len; i++)
    {
      Load *l = &g_array_index (loads, Load, i);
      double w = l->weight / attempts;

      m->total_erlangs += l->erlangs;
      if (i < MAX_EXPLICIT_DESTINATIONS)
        {
          g_array_append_val (m->erlangs, l->erlangs);
          g_array_append_val (m->weights, w);
        }
      else if (i == MAX_EXPLICIT_DESTINATIONS)
        {
          g_array_append_val (m->erlangs, l->erlangs);
          g_array_append_val (m->weights, w);
        }
      else
        g_array_index (m->weights, double, m->weights->len - 1) += w;
    }
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ErlangModel, erlang_model_clear)

static double
erlang_model_blocking (const ErlangModel *m, guint k)
{
  return natsim_plan_pooled_blocking ((const double *) m->erlangs->data,
                                      (const double *) m->weights->data, m->erlangs->len,
                                      m->servers, k);
}

/* ---------- simulation ---------- */

typedef struct
{
  NatsimUsageResult **slots; /* per replication */
} UsageSlots;

static void *
usage_begin (const NatsimScenario *s, guint replication, void *user_data)
{
  NatsimTime end = natsim_params_get_duration (s->simulation, "duration");
  NatsimTime warmup = natsim_params_get_duration (s->simulation, "warmup");
  NatsimTime horizon = natsim_params_get_duration (s->nat, "tombstone");
  bool both = natsim_params_get_enum (s->nat, "refresh") == 0;

  return natsim_usage_new (s->populations->len, warmup, end, horizon, both);
}

static void
usage_packet (const NatsimPacket *pkt, const NatsimNatResult *res, void *state)
{
  natsim_usage_on_packet (state, pkt, res);
}

static void
usage_end (void *state, guint replication, void *user_data)
{
  UsageSlots *slots = user_data;
  NatsimUsage *u = state;

  slots->slots[replication] = natsim_usage_finish (u);
  natsim_usage_free (u);
}

static const NatsimSimHooks usage_hooks = {
  usage_begin, natsim_usage_on_nat_event, usage_packet, usage_end,
};

typedef struct
{
  double mean, ci95, upper;
  guint  replications;
} Blocking;

/* Simulates @grown with @k public addresses. */
static gboolean
simulate_addresses (const NatsimScenario *grown, guint k, const NatsimPlanOptions *opts,
                    Blocking *ret, GError **error)
{
  g_autoptr (NatsimScenario) s = natsim_scenario_copy (grown);
  g_autofree char *value = natsim_plan_addresses_value (grown, k);
  g_autofree char *a = g_strconcat ("nat.addresses=", value, NULL);
  g_autoptr (GPtrArray) runs = NULL;
  g_autofree double *x = NULL;
  NatsimSimOptions so = { 0 };
  g_autofree char *msg = g_strdup_printf ("simulating %u address%s", k, k == 1 ? "" : "es");

  stage (opts, msg);
  if (!natsim_scenario_set (s, a, error) || !natsim_scenario_validate (s, error))
    return FALSE;
  so.jobs = opts->jobs;
  runs = natsim_simulate (s, &so, error);
  if (runs == NULL)
    return FALSE;
  x = g_new0 (double, runs->len);
  for (guint r = 0; r < runs->len; r++)
    x[r] = ((NatsimRunResult *) g_ptr_array_index (runs, r))->totals.v[NATSIM_STAT_BLOCKING_PROBABILITY];
  ret->mean = natsim_mean (x, runs->len);
  ret->ci95 = natsim_ci95_halfwidth (x, runs->len);
  ret->upper = ret->mean + ret->ci95;
  ret->replications = runs->len;
  return TRUE;
}

static char *
pct (double p)
{
  if (p == 0.0)
    return g_strdup ("0 %");
  if (p < 0.0001)
    return g_strdup_printf ("%.2g %%", p * 100.0);
  return g_strdup_printf ("%.3g %%", p * 100.0);
}

static gboolean
plan_addresses (NatsimPlan *p, const NatsimPlanOptions *opts, GError **error)
{
  g_auto (ErlangModel) m;
  guint k_erlang = 0, k, best = 0, lowest_failed = 0;
  Blocking at_erlang = { 0 }, at_best = { 0 }, at_failed = { 0 };
  double target = opts->target_blocking;
  g_autofree char *t = pct (target);
  const char *basis;
  GString *why;

  erlang_model_build (&m, p->grown, p->usage);
  if (m.attempts_per_s <= 0)
    {
      add_note (p, "plan.no_flows", "pool.addresses: the scenario makes no mapping attempts "
                "in the measured window; nothing to size");
      return TRUE;
    }
  for (k = 1; k <= NATSIM_NAT_MAX_ADDRESSES; k++)
    if (erlang_model_blocking (&m, k) < target)
      {
        k_erlang = k;
        break;
      }
  if (k_erlang == 0)
    {
      add_note (p, "plan.too_large", "pool.addresses: Erlang B needs more than %u addresses "
                "for %.4g erlang; the engine models at most %u", NATSIM_NAT_MAX_ADDRESSES,
                m.total_erlangs, NATSIM_NAT_MAX_ADDRESSES);
      k_erlang = NATSIM_NAT_MAX_ADDRESSES;
    }

  /* Confirm by simulation: walk down from the Erlang answer while the
   * upper end of the 95 % CI stays below the target, else walk up. */
  if (!simulate_addresses (p->grown, k_erlang, opts, &at_erlang, error))
    return FALSE;
  if (at_erlang.upper < target)
    {
      best = k_erlang;
      at_best = at_erlang;
      for (k = k_erlang - 1; k >= 1 && k + MAX_CONFIRM_STEPS > k_erlang; k--)
        {
          Blocking b;
          if (!simulate_addresses (p->grown, k, opts, &b, error))
            return FALSE;
          if (b.upper >= target)
            {
              lowest_failed = k;
              at_failed = b;
              break;
            }
          best = k;
          at_best = b;
        }
    }
  else
    {
      lowest_failed = k_erlang;
      at_failed = at_erlang;
      for (k = k_erlang + 1; k <= NATSIM_NAT_MAX_ADDRESSES && k < k_erlang + MAX_CONFIRM_STEPS; k++)
        {
          Blocking b;
          if (!simulate_addresses (p->grown, k, opts, &b, error))
            return FALSE;
          if (b.upper < target)
            {
              best = k;
              at_best = b;
              break;
            }
          lowest_failed = k;
          at_failed = b;
        }
    }

  why = g_string_new (NULL);
  g_string_append_printf (why,
                          "Measured %.4g mapping attempts/s with a mean holding time of %.4g s "
                          "(Little's law: binding-seconds / bindings), %.4g erlang in all at %.0f %% "
                          "growth. ",
                          m.attempts_per_s, m.holding_s, m.total_erlangs, opts->growth * 100.0);
  if (m.per_destination)
    g_string_append_printf (why,
                            "With port overlapping each remote endpoint (%u measured) is its own "
                            "loss system of %u ports per address; ",
                            m.n_loads, m.servers);
  else
    g_string_append_printf (why, "With exclusive ports all remotes share %u ports per address; ",
                            m.servers);
  g_string_append (why, "the NAT hashes each inside host to one address without fallback, so "
                        "k addresses are k pools each carrying 1/k of the load. ");
  {
    g_autofree char *b1 = pct (erlang_model_blocking (&m, k_erlang));
    g_string_append_printf (why, "Erlang B: %u address%s %s blocking", k_erlang,
                            k_erlang == 1 ? " gives" : "es give", b1);
    if (k_erlang > 1)
      {
        g_autofree char *b0 = pct (erlang_model_blocking (&m, k_erlang - 1));
        g_string_append_printf (why, ", %u %s %s", k_erlang - 1,
                                k_erlang - 1 == 1 ? "gives" : "give", b0);
      }
    g_string_append_printf (why, " (target below %s). ", t);
  }
  if (best != 0)
    {
      g_autofree char *bm = pct (at_best.mean);
      g_autofree char *bc = pct (at_best.ci95);
      g_autofree char *bu = pct (at_best.upper);
      g_string_append_printf (why, "Simulation (%u replications): %u address%s %s (±%s, "
                              "upper %s) blocking",
                              at_best.replications, best, best == 1 ? " gives" : "es give", bm,
                              bc, bu);
      if (lowest_failed != 0)
        {
          g_autofree char *fm = pct (at_failed.mean);
          g_autofree char *fu = pct (at_failed.upper);
          g_string_append_printf (why, "; %u %s %s (upper %s), not below the target",
                                  lowest_failed, lowest_failed == 1 ? "gives" : "give", fm, fu);
        }
      g_string_append (why, ". ");
      basis = best == k_erlang ? "erlang-b" : "simulation";
      g_string_append (why, best == k_erlang
                              ? "Erlang B decided; the simulation confirms it."
                              : "The simulation decided: Erlang B's answer was not the fewest "
                                "addresses that the simulation confirms.");
    }
  else
    {
      g_autofree char *fm = pct (at_failed.mean);
      g_autofree char *fu = pct (at_failed.upper);
      best = lowest_failed;
      basis = "simulation";
      g_string_append_printf (why, "Simulation: even %u addresses give %s blocking (upper %s); "
                              "not confirmed below the target.", lowest_failed, fm, fu);
      add_note (p, "plan.unconfirmed", "pool.addresses: no address count up to %u was "
                "confirmed below the blocking target by simulation", lowest_failed);
    }
  add_item (p, "pool.addresses", best, "addresses", basis, "%s", why->str);
  g_string_free (why, TRUE);
  return TRUE;
}

/* ---------- port blocks ---------- */

guint
natsim_plan_block_size (const GArray *peak_hist, guint granularity, double target,
                        double *ret_fraction)
{
  double total = 0.0;
  guint block;

  g_return_val_if_fail (granularity > 0, 0);
  for (guint c = 0; c < peak_hist->len; c++)
    total += g_array_index (peak_hist, double, c);
  for (block = granularity;; block += granularity)
    {
      double above = 0.0;

      for (guint c = block + 1; c < peak_hist->len; c++)
        above += g_array_index (peak_hist, double, c);
      if (total <= 0.0 || above / total < target || block + 1 >= peak_hist->len)
        {
          if (ret_fraction != NULL)
            *ret_fraction = total > 0.0 ? above / total : 0.0;
          return block;
        }
    }
}

static double
hist_quantile (const GArray *h, double q)
{
  double total = 0.0, acc = 0.0;

  for (guint c = 0; c < h->len; c++)
    total += g_array_index (h, double, c);
  for (guint c = 0; c < h->len; c++)
    {
      acc += g_array_index (h, double, c);
      if (acc >= q * total)
        return c;
    }
  return h->len > 0 ? h->len - 1 : 0;
}

static void
plan_block (NatsimPlan *p, const NatsimPlanOptions *opts)
{
  const NatsimUsageResult *u = p->usage;
  g_autofree char *t = pct (opts->target_blocking);
  g_autofree char *f = NULL;
  uint16_t lo, hi;
  guint range, block, max_peak = u->peak_hist->len > 0 ? u->peak_hist->len - 1 : 0;
  guint current = (guint) natsim_params_get_uint (p->grown->nat, "ports_per_subscriber");
  guint blocks = (guint) natsim_params_get_uint (p->grown->nat, "blocks_per_subscriber");
  double frac = 0.0, time_above = 0.0, time_total = 0.0;

  if (u->subscribers <= 0)
    {
      add_note (p, "plan.no_subscribers", "pool.ports_per_subscriber: no subscriber held a "
                "port in the measured window");
      return;
    }
  natsim_params_get_port_range (p->grown->nat, "port_range", &lo, &hi);
  range = (guint) hi - lo + 1;
  block = natsim_plan_block_size (u->peak_hist, opts->granularity, opts->target_blocking, &frac);
  for (guint c = 1; c < u->time_hist->len; c++)
    {
      double v = g_array_index (u->time_hist, double, c);
      time_total += v;
      if (c > block)
        time_above += v;
    }
  f = pct (frac);
  if (block > range)
    add_note (p, "plan.block_too_large", "pool.ports_per_subscriber: a block of %u ports does "
              "not fit the port range of %u ports", block, range);
  add_item (p, "pool.ports_per_subscriber", block, "ports", "simulation",
            "Per-subscriber peak of concurrent external ports in the busy window, over %.0f "
            "subscriber%s (all replications): median %.0f, 99th percentile %.0f, maximum %u. "
            "A block of %u ports (multiple of %u) leaves %s of subscribers needing more "
            "(target below %s; %.3g %% of port-holding subscriber time is above it). "
            "%u subscribers fit per address (floor(%u / %u)%s).",
            u->subscribers, u->subscribers == 1 ? "" : "s", hist_quantile (u->peak_hist, 0.5),
            hist_quantile (u->peak_hist, 0.99), max_peak, block, opts->granularity, f, t,
            time_total > 0 ? 100.0 * time_above / time_total : 0.0, block ? range / block : 0,
            range, block, block > range ? ": the block is larger than the port range" : "");
  if (current > 0 && max_peak >= (guint64) current * blocks)
    add_note (p, "plan.block_censored", "pool.ports_per_subscriber: measured under the "
              "configured limit of %u x %u ports, which some subscribers reached: their demand "
              "may be higher than measured", blocks, current);
}

/* ---------- timeouts and keepalive ---------- */

static const struct
{
  NatsimGapKind kind;
  const char   *id;
  const char   *key;
  double        rfc_min;
  const char   *rfc;
} timers[] = {
  { NATSIM_GAP_UDP, "timeout.udp", "udp_timeout", 120, "RFC 4787 REQ-5" },
  { NATSIM_GAP_UDP_STREAM, "timeout.udp_stream", "udp_stream_timeout", 120, "RFC 4787 REQ-5" },
  { NATSIM_GAP_TCP_ESTABLISHED, "timeout.tcp_established", "tcp_established_timeout", 7440,
    "RFC 5382 REQ-5" },
};

static void
plan_timeouts (NatsimPlan *p, const NatsimPlanOptions *opts)
{
  const NatsimUsageResult *u = p->usage;
  g_auto (GStrv) names = natsim_scenario_class_names (p->grown);

  for (guint i = 0; i < G_N_ELEMENTS (timers); i++)
    {
      NatsimGapKind kind = timers[i].kind;
      double current = natsim_time_to_sec (natsim_params_get_duration (p->grown->nat, timers[i].key));
      double gap = 0.0, value, rate, extra;
      GString *why;

      if (u->flows[kind] <= 0 && u->gap_count[kind] <= 0)
        continue; /* no flow of this kind */
      why = g_string_new (NULL);
      rate = u->window_s > 0 ? u->flows[kind] / u->window_s : 0.0;
      if (u->gap_count[kind] <= 0)
        {
          value = timers[i].rfc_min;
          g_string_append_printf (why, "No flow went idle between packets under this timer; "
                                  "the %s minimum of %.0f s is enough.", timers[i].rfc,
                                  timers[i].rfc_min);
        }
      else
        {
          gap = natsim_usage_gap_quantile (u, kind, opts->target_loss);
          value = ceil (gap + MAX (0.1 * gap, 5.0));
          if (opts->target_loss > 0)
            g_string_append_printf (why, "%.4g %% of idle gaps are longer than %.4g s", 
                                    opts->target_loss * 100.0, gap);
          else
            g_string_append_printf (why, "The longest idle gap of a live flow is %.4g s", gap);
          g_string_append (why, " (per class:");
          for (guint c = 0; c < u->n_classes; c++)
            {
              double m = u->class_gap_max[c * NATSIM_GAP_N + kind];
              if (m > 0)
                g_string_append_printf (why, " %s %.4g s", names[c], m);
            }
          g_string_append_printf (why, "); with a margin of 10 %% (at least 5 s) the shortest "
                                  "timeout without binding loss is %.0f s.", value);
          if (value < timers[i].rfc_min)
            g_string_append_printf (why, " That is under the %s minimum of %.0f s: a NAT that "
                                    "follows the RFC keeps bindings longer.", timers[i].rfc,
                                    timers[i].rfc_min);
        }
      extra = rate * (value - current);
      g_string_append_printf (why, " Currently %.0f s%s; at %.4g flows/s ending under this "
                              "timer, %s to %.0f s %s about %.4g ports in use (Little's law).",
                              current,
                              gap >= current ? ", too short: bindings are lost" : "",
                              rate, value >= current ? "raising it" : "lowering it", value,
                              value >= current ? "costs" : "frees", fabs (extra));
      add_item (p, timers[i].id, value, "s", "simulation", "%s", why->str);
      g_string_free (why, TRUE);
    }
}

static void
plan_keepalive (NatsimPlan *p)
{
  const NatsimUsageResult *u = p->usage;
  gboolean udp = u->flows[NATSIM_GAP_UDP] + u->flows[NATSIM_GAP_UDP_STREAM] +
                 u->gap_count[NATSIM_GAP_UDP] + u->gap_count[NATSIM_GAP_UDP_STREAM] > 0;
  gboolean tcp = u->flows[NATSIM_GAP_TCP_ESTABLISHED] + u->gap_count[NATSIM_GAP_TCP_ESTABLISHED] > 0;
  double timeout, value;
  gboolean lost;
  const char *what;

  if (udp)
    {
      timeout = MIN (natsim_time_to_sec (natsim_params_get_duration (p->grown->nat, "udp_timeout")),
                     natsim_time_to_sec (natsim_params_get_duration (p->grown->nat, "udp_stream_timeout")));
      lost = u->gap_max[NATSIM_GAP_UDP] >=
               natsim_time_to_sec (natsim_params_get_duration (p->grown->nat, "udp_timeout")) ||
             u->gap_max[NATSIM_GAP_UDP_STREAM] >=
               natsim_time_to_sec (natsim_params_get_duration (p->grown->nat, "udp_stream_timeout"));
      what = "UDP";
    }
  else if (tcp)
    {
      timeout = natsim_time_to_sec (natsim_params_get_duration (p->grown->nat,
                                                                "tcp_established_timeout"));
      lost = u->gap_max[NATSIM_GAP_TCP_ESTABLISHED] >= timeout;
      what = "TCP";
    }
  else
    return;
  value = floor (0.8 * timeout * 1000.0) / 1000.0;
  add_item (p, "keepalive.interval", value, "s", "simulation",
            "When the NAT cannot be changed: its shortest %s timeout is %.4g s, and RFC 5626 "
            "randomises keepalives between 80 and 100 %% of the interval, so endpoints need a "
            "keepalive every %.4g s (80 %% of the timeout) at most. %s",
            what, timeout, value,
            lost
              ? "Today some flows stay idle for longer than their timer, so bindings are lost."
              : "Today's traffic already refreshes bindings often enough.");
}

/* ---------- driver ---------- */

NatsimPlan *
natsim_plan_run (const NatsimScenario *s, const NatsimPlanOptions *opts, GError **error)
{
  g_autoptr (NatsimPlan) p = g_new0 (NatsimPlan, 1);
  g_autofree NatsimUsageResult **slots = NULL;
  UsageSlots us;
  NatsimSimOptions so = { 0 };
  guint n;

  g_return_val_if_fail (opts->granularity > 0, NULL);
  if (!(opts->target_blocking > 0.0 && opts->target_blocking < 1.0))
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "--target-blocking: expected a probability between 0 and 1 (exclusive), "
                   "got %g", opts->target_blocking);
      return NULL;
    }
  if (!(opts->target_loss >= 0.0 && opts->target_loss < 1.0))
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "--target-loss: expected a fraction from 0 up to 1 (exclusive), got %g",
                   opts->target_loss);
      return NULL;
    }
  p->items = g_array_new (FALSE, TRUE, sizeof (NatsimPlanItem));
  g_array_set_clear_func (p->items, item_clear);
  p->notes = g_array_new (FALSE, TRUE, sizeof (NatsimPlanNote));
  g_array_set_clear_func (p->notes, note_clear);
  p->grown = natsim_scenario_copy (s);
  if (!natsim_plan_apply_growth (p->grown, opts->growth, error) ||
      !natsim_scenario_validate (p->grown, error))
    {
      g_prefix_error (error, "with %.0f %% growth: ", opts->growth * 100.0);
      return NULL;
    }

  stage (opts, "measuring the grown load");
  n = (guint) natsim_params_get_uint (p->grown->simulation, "replications");
  slots = g_new0 (NatsimUsageResult *, n);
  us.slots = slots;
  so.jobs = opts->jobs;
  so.hooks = &usage_hooks;
  so.hooks_data = &us;
  p->runs = natsim_simulate (p->grown, &so, error);
  p->usage = natsim_usage_result_new (p->grown->populations->len);
  for (guint r = 0; r < n; r++)
    {
      if (slots[r] != NULL && p->runs != NULL)
        natsim_usage_result_merge (p->usage, slots[r]);
      g_clear_pointer (&slots[r], natsim_usage_result_free);
    }
  if (p->runs == NULL)
    return NULL;
  if (n < 2)
    add_note (p, "plan.one_replication", "with one replication there is no confidence "
              "interval: the simulation confirms on the mean alone");

  if (!plan_addresses (p, opts, error))
    return NULL;
  plan_block (p, opts);
  plan_timeouts (p, opts);
  plan_keepalive (p);
  return g_steal_pointer (&p);
}
