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

#include <gsl/gsl_statistics_double.h>

#include "natsim/analyze.h"
#include "natsim/error.h"
#include "natsim/plan.h"
#include "natsim/replay.h"
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
  g_clear_pointer (&p->nat, natsim_params_free);
  g_clear_pointer (&p->analysis, natsim_analysis_free);
  g_free (p);
}

/* An empty plan: no items, no notes. */
static NatsimPlan *
plan_new (void)
{
  NatsimPlan *p = g_new0 (NatsimPlan, 1);

  p->items = g_array_new (FALSE, TRUE, sizeof (NatsimPlanItem));
  g_array_set_clear_func (p->items, item_clear);
  p->notes = g_array_new (FALSE, TRUE, sizeof (NatsimPlanNote));
  g_array_set_clear_func (p->notes, note_clear);
  return p;
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
static char *
addresses_value (const NatsimParams *nat, guint k)
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
  return addresses_value (s->nat, k);
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

/* The ports of one public address that one mapping can choose from: the
 * port range, halved with parity (each parity class is a pool of half the
 * range). */
static guint
pool_servers (const NatsimParams *nat)
{
  uint16_t lo, hi;
  guint servers;

  natsim_params_get_port_range (nat, "port_range", &lo, &hi);
  servers = (guint) hi - lo + 1;
  if (natsim_params_get_bool (nat, "parity"))
    servers /= 2;
  return servers;
}

/* The loss systems of the measured load, heaviest first; beyond
 * MAX_EXPLICIT_DESTINATIONS the rest become one system with their total
 * weight and the largest of their loads (an upper bound). */
static void
erlang_model_build (ErlangModel *m, const NatsimScenario *s, const NatsimUsageResult *u)
{
  g_autoptr (GArray) loads = g_array_new (FALSE, TRUE, sizeof (Load));
  double attempts = 0.0, weighted_holding = 0.0;

  memset (m, 0, sizeof *m);
  m->erlangs = g_array_new (FALSE, TRUE, sizeof (double));
  m->weights = g_array_new (FALSE, TRUE, sizeof (double));
  m->servers = pool_servers (s->nat);
  m->per_destination = natsim_params_get_enum (s->nat, "port_reuse") == 0;
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

/* ---------- idle gaps that matter to reachability ---------- */

/* A binding that lapses between two packets of a flow only costs
 * something when a packet must come in through it after the lapse.  Replies
 * to the flow's own requests arrive within a round trip of an outbound
 * packet, which recreates the binding, so they always find it alive (every
 * timeout worth considering is longer than the reply window).  Only flows
 * that receive inbound packets more than REPLY_WINDOW after their last
 * outbound packet (incoming calls, NOTIFYs, pushes, probes: traffic the
 * remote starts) need their binding kept across their idle gaps; the gaps
 * of the other flows (an NTP poll every 17 minutes from a fixed port, DNS,
 * request/response over a reused 5-tuple) are left out of the timeout
 * recommendation.  The usage tracker applies the rule (natsim_usage_new()). */
#define REPLY_WINDOW (5 * NATSIM_NSEC_PER_SEC)

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

  return natsim_usage_new (s->populations->len, warmup, end, horizon, both, REPLY_WINDOW);
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

static const NatsimSimHooks usage_hooks = {
  usage_begin, usage_nat_event, usage_packet, usage_end,
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
  so.time_progress = opts->sim_progress;
  so.progress_data = opts->stage_data;
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
          g_string_append_printf (why, "No flow that receives unsolicited inbound packets went "
                                  "idle under this timer; the %s minimum of %.0f s is enough.",
                                  timers[i].rfc, timers[i].rfc_min);
        }
      else
        {
          gap = natsim_usage_gap_quantile (u, kind, opts->target_loss);
          value = ceil (gap + MAX (0.1 * gap, 5.0));
          if (opts->target_loss > 0)
            g_string_append_printf (why, "%.4g %% of counted idle gaps are longer than %.4g s",
                                    opts->target_loss * 100.0, gap);
          else
            g_string_append_printf (why, "The longest counted idle gap is %.4g s", gap);
          g_string_append (why, " (per class:");
          for (guint c = 0; c < u->n_classes; c++)
            {
              double m = u->class_gap_max[c * NATSIM_GAP_N + kind];
              if (m > 0)
                g_string_append_printf (why, " %s %.4g s", names[c], m);
            }
          g_string_append_printf (why, "); with a margin of 10 %% (at least 5 s) the shortest "
                                  "timeout without binding loss is %.0f s.", value);
        }
      /* The rule, and what it left out. */
      g_string_append_printf (why, " Only the gaps of flows that receive inbound packets more "
                              "than %.0f s after their last outbound packet count (a binding "
                              "that lapses matters only when the remote starts traffic through "
                              "it; replies follow an outbound packet that recreates it): %.0f "
                              "of %.0f flows.", natsim_time_to_sec (REPLY_WINDOW),
                              u->exposed_flows, u->gap_flows);
      if (u->ignored_gap_count[kind] > 0)
        {
          g_string_append_printf (why, " Left out: %.0f gaps of the other flows (longest:",
                                  u->ignored_gap_count[kind]);
          for (guint c = 0; c < u->n_classes; c++)
            {
              double m = u->ignored_class_gap_max[c * NATSIM_GAP_N + kind];
              if (m > 0)
                g_string_append_printf (why, " %s %.4g s", names[c], m);
            }
          g_string_append (why, ").");
        }
      if (u->gap_count[kind] > 0)
        {
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
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  g_autoptr (NatsimPlan) p = plan_new ();
  g_autofree NatsimUsageResult **slots = NULL;
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
  so.jobs = opts->jobs;
  so.time_progress = opts->sim_progress;
  so.progress_data = opts->stage_data;
  so.hooks = &usage_hooks;
  so.hooks_data = slots;
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

/* ---------- from captures ---------- */

static double
gsl_quantile_sorted (const double *sorted, gsize n, double q)
{
  if (q >= 1.0)
    return sorted[n - 1];
  return gsl_stats_quantile_from_sorted_data (sorted, 1, n, q);
}

/* A copy of @nat with KEY=@value set. */
static NatsimParams *
nat_with (const NatsimParams *nat, const char *key, const char *value, GError **error)
{
  g_autoptr (NatsimParams) p = natsim_params_copy (nat);

  if (!natsim_params_set (p, key, value, "plan", error))
    return NULL;
  return g_steal_pointer (&p);
}

/* Replays the captures through a NAT of @nat. */
static NatsimRunResult *
replay_with (const NatsimParams *nat, const char *const *traces, guint n,
             const NatsimCidrSet *inside, GError **error)
{
  NatsimNatConfig cfg;
  NatsimRunResult *run;

  if (!natsim_nat_config_from_params (nat, &cfg, error))
    return NULL;
  run = natsim_replay (&cfg, traces, n, inside, 60 * NATSIM_NSEC_PER_SEC, 1, NULL, error);
  natsim_nat_config_clear (&cfg);
  return run;
}

static double
run_blocking (const NatsimRunResult *r)
{
  return r->totals.v[NATSIM_STAT_FLOWS] > 0
           ? r->totals.v[NATSIM_STAT_ALLOCATION_FAILURES] / r->totals.v[NATSIM_STAT_FLOWS]
           : 0.0;
}

/* Replays with @key=@value and returns the blocking, or NaN and @error. */
static double
replay_blocking (const NatsimParams *nat, const char *key, const char *value,
                 const char *const *traces, guint n, const NatsimCidrSet *inside,
                 GError **error)
{
  g_autoptr (NatsimParams) p = nat_with (nat, key, value, error);
  g_autoptr (NatsimRunResult) r = NULL;

  if (p == NULL)
    return NAN;
  r = replay_with (p, traces, n, inside, error);
  return r != NULL ? run_blocking (r) : NAN;
}

/* pool.addresses from the replay: the offered load (mapping attempts per
 * second x mean holding time, Little's law over the timeline of live
 * bindings) with growth, Erlang B for the fewest addresses with all remotes
 * sharing each address's ports (exclusive reuse: an upper bound on
 * blocking, as port overlapping only splits the load further), confirmed by
 * replaying the capture with that many addresses. */
static gboolean
plan_trace_addresses (NatsimPlan *p, const NatsimParams *nat, const NatsimRunResult *run,
                      const char *const *traces, guint n, const NatsimCidrSet *inside,
                      const NatsimPlanOptions *opts, GError **error)
{
  double duration = run->n_intervals * run->interval_s, live = 0.0, created, attempts;
  double holding, erlangs, lambda, b_k = 0.0, b_prev = NAN, measured = NAN;
  g_autofree char *t = pct (opts->target_blocking);
  guint servers, k = 0, k_erlang;
  const char *basis = "erlang-b";

  attempts = run->totals.v[NATSIM_STAT_FLOWS];
  created = run->totals.v[NATSIM_STAT_BINDINGS_CREATED];
  if (attempts <= 0 || created <= 0 || run->n_intervals == 0 || duration <= 0)
    {
      add_note (p, "plan.no_flows", "pool.addresses: the capture makes no mapping attempts "
                "through the NAT; nothing to size");
      return TRUE;
    }
  for (guint i = 0; i < run->n_intervals; i++)
    live += run->tl_bindings[i];
  live /= run->n_intervals;
  lambda = created / duration;
  holding = lambda > 0 ? live / lambda : 0.0;
  erlangs = attempts / duration * holding * (1.0 + opts->growth);
  servers = pool_servers (nat);
  for (k = 1; k <= NATSIM_NAT_MAX_ADDRESSES; k++)
    {
      b_k = erlang_b_fast (servers, erlangs / k);
      if (b_k < opts->target_blocking)
        break;
      b_prev = b_k;
    }
  if (k > NATSIM_NAT_MAX_ADDRESSES)
    k = NATSIM_NAT_MAX_ADDRESSES;
  k_erlang = k;
  /* Confirm on the capture itself (as captured, without growth). */
  for (; k <= NATSIM_NAT_MAX_ADDRESSES && k < k_erlang + MAX_CONFIRM_STEPS; k++)
    {
      g_autofree char *v = addresses_value (nat, k);

      stage (opts, "replaying the capture");
      measured = replay_blocking (nat, "addresses", v, traces, n, inside, error);
      if (isnan (measured))
        return FALSE;
      if (measured < opts->target_blocking)
        break;
      basis = "trace";
    }
  {
    g_autofree char *bk = pct (b_k);
    g_autofree char *bm = pct (measured);
    g_autofree char *bp = isnan (b_prev) ? NULL : pct (b_prev);

    add_item (p, "pool.addresses", k, "addresses", basis,
              "Replaying the capture: %.0f mapping attempts in %.4g s, %.4g live bindings on "
              "average, so a mean holding time of %.4g s (Little's law) and %.4g erlang at "
              "%.0f %% growth. Erlang B with all remotes sharing the %u ports of an address "
              "(an upper bound under port overlapping): %u address%s %s blocking%s%s%s "
              "(target below %s). Replayed with %u address%s, the capture itself sees %s "
              "blocking. %s",
              attempts, duration, live, holding, erlangs, opts->growth * 100.0, servers,
              k_erlang, k_erlang == 1 ? " gives" : "es give", bk,
              bp != NULL ? ", one fewer gives " : "", bp != NULL ? bp : "",
              bp != NULL ? "" : "", t, k, k == 1 ? "" : "es", bm,
              k == k_erlang ? "Erlang B decided; the replay confirms it."
                            : "The replay decided: Erlang B's answer refused too many of "
                              "the captured flows.");
  }
  return TRUE;
}

/* pool.ports_per_subscriber from replays: the smallest multiple of the
 * granularity with which the NAT (nat.ports_per_subscriber = block) refuses
 * no more than the target fraction of the capture's mapping attempts beyond
 * what it refuses without a block.  Blocking falls as the block grows, so
 * a doubling search then a bisection needs O(log(range / granularity))
 * replays. */
static gboolean
plan_trace_block (NatsimPlan *p, const NatsimParams *nat, const NatsimRunResult *run,
                  const char *const *traces, guint n, const NatsimCidrSet *inside,
                  const NatsimPlanOptions *opts, GError **error)
{
  g_autofree char *t = pct (opts->target_blocking);
  double base, b = NAN;
  uint16_t lo, hi;
  guint range, steps, good, bad = 0, block, replays = 0;

  if (run->totals.v[NATSIM_STAT_FLOWS] <= 0)
    return TRUE;
  natsim_params_get_port_range (nat, "port_range", &lo, &hi);
  range = (guint) hi - lo + 1;
  steps = MAX (range / opts->granularity, 1);
  {
    g_autoptr (NatsimRunResult) r0 = NULL;
    g_autoptr (NatsimParams) p0 = nat_with (nat, "ports_per_subscriber", "0", error);

    if (p0 == NULL || (r0 = replay_with (p0, traces, n, inside, error)) == NULL)
      return FALSE;
    base = run_blocking (r0);
    replays++;
  }
  /* Doubling: the first multiple that passes. */
  for (good = 1;; good = MIN (good * 2, steps))
    {
      char v[32];

      g_snprintf (v, sizeof v, "%u", good * opts->granularity);
      stage (opts, "replaying the capture with a port block");
      b = replay_blocking (nat, "ports_per_subscriber", v, traces, n, inside, error);
      replays++;
      if (isnan (b))
        return FALSE;
      if (b - base < opts->target_blocking || good == steps)
        break;
      bad = good;
    }
  /* Bisection between the last failing and the first passing multiple. */
  while (good - bad > 1)
    {
      guint mid = bad + (good - bad) / 2;
      char v[32];
      double bm;

      g_snprintf (v, sizeof v, "%u", mid * opts->granularity);
      bm = replay_blocking (nat, "ports_per_subscriber", v, traces, n, inside, error);
      replays++;
      if (isnan (bm))
        return FALSE;
      if (bm - base < opts->target_blocking)
        good = mid;
      else
        bad = mid;
    }
  block = good * opts->granularity;
  {
    g_autofree char *bb = NULL;
    double final;

    {
      char v[32];
      g_snprintf (v, sizeof v, "%u", block);
      final = replay_blocking (nat, "ports_per_subscriber", v, traces, n, inside, error);
      if (isnan (final))
        return FALSE;
    }
    bb = pct (MAX (final - base, 0.0));
    add_item (p, "pool.ports_per_subscriber", block, "ports", "trace",
              "Replaying the capture with per-subscriber port blocks (%u replays): a block of "
              "%u ports (multiple of %u) refuses %s of the captured mapping attempts beyond "
              "what the NAT refuses without a block (target below %s)%s. %u subscribers fit "
              "per address (floor(%u / %u)). The capture's own subscribers are measured, "
              "without growth.",
              replays + 1, block, opts->granularity, bb, t,
              final - base >= opts->target_blocking ? "; no block within the port range "
                                                      "meets the target"
                                                    : "",
              block ? range / block : 0, range, block);
  }
  return TRUE;
}

/* timeout.* and keepalive.interval from the idle gaps of the capture:
 * per transport, the (1 - target_loss) quantile of the refresh gaps (gaps
 * of at least 1 s in flows already 60 s old: keepalives and refreshes) of
 * the classes whose flows wait for the remote to reach them, plus a
 * margin of 10 % (at least 5 s).  DNS and NTP are left out as in
 * analysis.json: each query expects only its answer, so a binding that
 * lapses between queries costs nothing. */
static void
plan_trace_timeouts (NatsimPlan *p, const NatsimParams *nat, const NatsimPlanOptions *opts)
{
  const char *const *names = natsim_replay_class_names ();
  const NatsimAnalysis *a = p->analysis;
  double udp_value = NAN;
  gboolean any_udp = FALSE, any_tcp = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (timers); i++)
    {
      uint8_t proto = timers[i].kind == NATSIM_GAP_TCP_ESTABLISHED ? NATSIM_PROTO_TCP
                                                                     : NATSIM_PROTO_UDP;
      double current = natsim_time_to_sec (natsim_params_get_duration (nat, timers[i].key));
      double gap = NAN, value;
      const char *decider = NULL;
      GString *why = g_string_new (NULL);
      guint64 flows = 0;

      for (guint c = 0; c < natsim_replay_n_classes (); c++)
        {
          const NatsimClassAnalysis *f = natsim_analysis_class (a, c);
          gsize nr = 0;
          const double *r;
          double q;

          if (natsim_analysis_class_proto (c) != proto)
            continue;
          flows += f->flows;
          if (c == NATSIM_CLASS_DNS || c == NATSIM_CLASS_NTP)
            continue;
          r = natsim_analysis_class_refresh_gaps (a, c, &nr);
          if (nr == 0)
            continue;
          q = gsl_quantile_sorted (r, nr, 1.0 - opts->target_loss);
          if (g_str_equal (why->str, ""))
            g_string_append (why, "; per class:");
          g_string_append_printf (why, " %s %.4g s", names[c], q);
          if (isnan (gap) || q > gap)
            {
              gap = q;
              decider = names[c];
            }
        }
      if (flows == 0)
        {
          g_string_free (why, TRUE);
          continue;
        }
      if (proto == NATSIM_PROTO_UDP)
        any_udp = TRUE;
      else
        any_tcp = TRUE;
      if (isnan (gap))
        {
          value = timers[i].rfc_min;
          g_string_assign (why, "");
          g_string_append_printf (why, "No long-lived %s flow (60 s or more) refreshed its "
                                  "binding after an idle gap in the capture (DNS and NTP "
                                  "left out); the %s minimum of %.0f s is enough.",
                                  proto == NATSIM_PROTO_UDP ? "UDP" : "TCP", timers[i].rfc,
                                  timers[i].rfc_min);
        }
      else
        {
          g_autofree char *per_class = g_strdup (why->str);

          value = ceil (gap + MAX (0.1 * gap, 5.0));
          g_string_assign (why, "");
          if (opts->target_loss > 0)
            g_string_append_printf (why, "%.4g %% of the refresh gaps of class %s are longer "
                                    "than %.4g s (%s", opts->target_loss * 100.0, decider, gap, decider);
          else
            g_string_append_printf (why, "The longest refresh gap is %.4g s (class %s", gap,
                                    decider);
          g_string_append_printf (why, "%s); refresh gaps are the idle gaps of at least 1 s in "
                                  "%s flows already 60 s old (keepalives, re-registrations, "
                                  "polls), DNS and NTP left out (each query expects only its "
                                  "answer, so a lapse between queries costs nothing). With a "
                                  "margin of 10 %% (at least 5 s) the shortest timeout without "
                                  "binding loss is %.0f s.", per_class,
                                  proto == NATSIM_PROTO_UDP ? "UDP" : "TCP", value);
          if (value < timers[i].rfc_min)
            g_string_append_printf (why, " That is under the %s minimum of %.0f s: a NAT that "
                                    "follows the RFC keeps bindings longer.", timers[i].rfc,
                                    timers[i].rfc_min);
        }
      g_string_append_printf (why, " Currently %.0f s%s.", current,
                              !isnan (gap) && gap >= current
                                ? ", too short: bindings are lost between refreshes" : "");
      if (timers[i].kind == NATSIM_GAP_UDP)
        udp_value = value;
      add_item (p, timers[i].id, value, "s", "trace", "%s", why->str);
      g_string_free (why, TRUE);
    }
  (void) udp_value;
  if (any_udp || any_tcp)
    {
      double timeout = any_udp
                         ? MIN (natsim_time_to_sec (natsim_params_get_duration (nat, "udp_timeout")),
                                natsim_time_to_sec (natsim_params_get_duration (nat, "udp_stream_timeout")))
                         : natsim_time_to_sec (natsim_params_get_duration (nat, "tcp_established_timeout"));
      double value = floor (0.8 * timeout * 1000.0) / 1000.0;

      add_item (p, "keepalive.interval", value, "s", "trace",
                "When the NAT cannot be changed: its shortest %s timeout is %.4g s, and RFC "
                "5626 randomises keepalives between 80 and 100 %% of the interval, so "
                "endpoints need a keepalive every %.4g s (80 %% of the timeout) at most.",
                any_udp ? "UDP" : "TCP", timeout, value);
    }
}

NatsimPlan *
natsim_plan_run_trace (const NatsimParams *nat, const char *const *traces, guint n,
                       const NatsimCidrSet *inside, const NatsimPlanOptions *opts,
                       GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  g_autoptr (NatsimPlan) p = plan_new ();
  NatsimRunResult *run;

  g_return_val_if_fail (nat != NULL && traces != NULL && n > 0 && inside != NULL, NULL);
  g_return_val_if_fail (opts->granularity > 0, NULL);
  if (!(opts->target_blocking > 0.0 && opts->target_blocking < 1.0) ||
      !(opts->target_loss >= 0.0 && opts->target_loss < 1.0) ||
      !isfinite (opts->growth) || opts->growth < 0.0 || opts->growth > 100.0)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "--target-blocking, --target-loss or --growth out of range");
      return NULL;
    }
  p->nat = natsim_params_copy (nat);

  stage (opts, "analysing the capture");
  p->analysis = natsim_analyze (traces, n, inside, NULL, error);
  if (p->analysis == NULL)
    return NULL;
  stage (opts, "replaying the capture");
  run = replay_with (nat, traces, n, inside, error);
  if (run == NULL)
    return NULL;
  p->runs = g_ptr_array_new_with_free_func ((GDestroyNotify) natsim_run_result_free);
  g_ptr_array_add (p->runs, run);
  add_note (p, "plan.one_replication", "a capture is one replication: there is no confidence "
            "interval, and the replay confirms on what was captured");

  if (!plan_trace_addresses (p, nat, run, traces, n, inside, opts, error) ||
      !plan_trace_block (p, nat, run, traces, n, inside, opts, error))
    return NULL;
  plan_trace_timeouts (p, nat, opts);
  return g_steal_pointer (&p);
}
