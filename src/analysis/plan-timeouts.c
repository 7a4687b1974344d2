/* natsim: the planner's timeouts, keepalive and endpoint remedies.
 *
 * timeout.*: the longest counted idle gap per timer (or its 1 - target_loss
 * quantile) through the one timeout-from-gap rule (natsim/recommend.h),
 * never under the RFC minimum unless the user allows it.  Only the gaps of
 * flows the remote reaches through their binding count (natsim_usage_new()).
 *
 * Endpoint remedies: when one class alone needs a timeout more than twice
 * what every other class (and the RFC) needs, e.g. intercoms that
 * re-register hourly without keepalives, raising the timer for all flows
 * keeps every other binding that much longer.  The plan then recommends the
 * timeout the others need and a refresh interval for that class (its
 * register or keepalive interval), and prices the NAT-side alternative.
 *
 * Costs and savings are the measured differences of two simulations at the
 * recommended address count, with and without the change. */
#include <math.h>
#include <string.h>

#include "natsim/sweep.h"
#include "plan-private.h"

/* One class needing more than this times the others' timeout gets a
 * remedy instead. */
#define REMEDY_FACTOR 2.0

G_STATIC_ASSERT ((int) NATSIM_TIMER_UDP == (int) NATSIM_GAP_UDP);
G_STATIC_ASSERT ((int) NATSIM_TIMER_UDP_STREAM == (int) NATSIM_GAP_UDP_STREAM);
G_STATIC_ASSERT ((int) NATSIM_TIMER_TCP_ESTABLISHED == (int) NATSIM_GAP_TCP_ESTABLISHED);

/* The population key that sets the refresh interval of @pop's flows of
 * @proto (the longest refresh need of its profile), or NULL. */
static const char *
refresh_key (const NatsimPopulationSpec *pop, uint8_t proto)
{
  NatsimRefreshNeed needs[NATSIM_REFRESH_NEEDS_MAX];
  guint n = 0;
  const char *key = NULL;
  NatsimTime longest = 0;

  if (pop->profile->refresh_gaps == NULL)
    return NULL;
  pop->profile->refresh_gaps (pop->params, needs, &n);
  for (guint i = 0; i < n; i++)
    if (needs[i].proto == proto && needs[i].key != NULL && needs[i].gap_hi >= longest &&
        natsim_key_lookup (pop->profile->keys, needs[i].key) != NULL)
      {
        longest = needs[i].gap_hi;
        key = needs[i].key;
      }
  return key;
}

static void
decide_one (PlanCtx *c, NatsimTimer timer)
{
  const NatsimUsageResult *u = c->usage;
  const NatsimTimerInfo *info = natsim_timer_info (timer);
  const NatsimScenario *g = c->p->grown;
  PlanTimeout *t = &c->timeouts[timer];
  NatsimGapKind kind = (NatsimGapKind) timer;
  gboolean allow = c->opts->allow_below_rfc;
  guint decider = G_MAXUINT;
  double g1 = 0.0, g2 = 0.0;

  t->timer = timer;
  t->current = natsim_time_to_sec (natsim_params_get_duration (g->nat, info->key));
  t->gap = NAN;
  if (u->flows[kind] <= 0 && u->gap_count[kind] <= 0)
    return; /* no flow of this kind */
  t->present = TRUE;
  if (u->gap_count[kind] <= 0)
    {
      /* Nothing needs the binding across an idle gap: the RFC minimum, or
       * with --allow-below-rfc today's value (nothing to gain by asking). */
      t->value = allow ? t->current : info->rfc_min;
      t->change = t->value != t->current;
      return;
    }
  t->gap = natsim_usage_gap_quantile (u, kind, c->opts->target_loss);
  t->value = natsim_timeout_recommend (timer, t->gap, allow);
  for (guint k = 0; k < u->n_classes; k++)
    {
      double m = u->class_gap_max[k * NATSIM_GAP_N + kind];

      if (m > g1)
        {
          g2 = g1;
          g1 = m;
          decider = k;
        }
      else if (m > g2)
        g2 = m;
    }
  if (c->opts->target_loss == 0.0 && decider != G_MAXUINT)
    {
      const NatsimPopulationSpec *pop = g_ptr_array_index (g->populations, decider);
      uint8_t proto = timer == NATSIM_TIMER_TCP_ESTABLISHED ? NATSIM_PROTO_TCP
                                                           : NATSIM_PROTO_UDP;
      /* When no other class has gaps, the others need only the RFC
       * minimum (or, below the RFC, no more than today's value). */
      double others = g2 > 0.0 ? natsim_timeout_recommend (timer, g2, allow)
                               : (allow ? MIN (t->current, info->rfc_min) : info->rfc_min);
      const char *key = refresh_key (pop, proto);

      if (key != NULL && t->value > REMEDY_FACTOR * others)
        {
          t->remedy_pop = g_strdup (pop->name);
          t->remedy_key = g_strdup (key);
          t->remedy_timeout = t->value;
          t->remedy_gap = g1;
          t->value = others;
        }
    }
  t->change = t->value != t->current;
}

void
plan_timeouts_decide (PlanCtx *c)
{
  for (guint i = 0; i < NATSIM_TIMER_N; i++)
    decide_one (c, (NatsimTimer) i);
  /* One refresh interval per class: within the shortest timeout it must
   * outlive. */
  for (guint i = 0; i < NATSIM_TIMER_N; i++)
    {
      PlanTimeout *t = &c->timeouts[i];

      if (t->remedy_pop == NULL)
        continue;
      t->remedy_interval = natsim_keepalive_for_timeout (t->value);
      for (guint j = 0; j < NATSIM_TIMER_N; j++)
        if (c->timeouts[j].remedy_pop != NULL &&
            strcmp (c->timeouts[j].remedy_pop, t->remedy_pop) == 0 &&
            strcmp (c->timeouts[j].remedy_key, t->remedy_key) == 0)
          t->remedy_interval = MIN (t->remedy_interval,
                                    natsim_keepalive_for_timeout (c->timeouts[j].value));
    }
}

void
plan_timeouts_clear (PlanCtx *c)
{
  for (guint i = 0; i < NATSIM_TIMER_N; i++)
    {
      g_clear_pointer (&c->timeouts[i].remedy_pop, g_free);
      g_clear_pointer (&c->timeouts[i].remedy_key, g_free);
      g_clear_pointer (&c->timeouts[i].why, g_free);
    }
}

/* The ports-in-use difference @with - @without, as a sentence. */
static void
append_cost (GString *why, const PlanFigures *with, const PlanFigures *without)
{
  double d = with->mean_ports - without->mean_ports;
  double dp = with->peak_ports - without->peak_ports;

  g_string_append_printf (why, "mean ports in use %.4g instead of %.4g (%s%.4g), busiest "
                          "address peak %.0f instead of %.0f ports (%s%.0f), binding losses "
                          "%.4g instead of %.4g per replication",
                          with->mean_ports, without->mean_ports, d >= 0 ? "+" : "", d,
                          with->peak_ports, without->peak_ports, dp >= 0 ? "+" : "", dp,
                          with->binding_losses, without->binding_losses);
}

/* Simulates @c->applied with every timer that @pop alone needs set to
 * what it needs and @pop's refresh key set back to the grown scenario's:
 * the NAT-side alternative to the endpoint remedy. */
static gboolean
simulate_nat_side (PlanCtx *c, const char *pop, PlanFigures *ret, GError **error)
{
  g_autoptr (GPtrArray) sets = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < NATSIM_TIMER_N; i++)
    {
      const PlanTimeout *t = &c->timeouts[i];
      const NatsimPopulationSpec *gp;

      if (t->remedy_pop == NULL || strcmp (t->remedy_pop, pop) != 0)
        continue;
      gp = natsim_scenario_find_population (c->p->grown, pop);
      g_ptr_array_add (sets, g_strdup_printf ("nat.%s=%.0fs", natsim_timer_info (t->timer)->key,
                                              t->remedy_timeout));
      g_ptr_array_add (sets, g_strdup_printf ("population.%s.%s=%s", pop, t->remedy_key,
                                              natsim_params_get (gp->params, t->remedy_key)));
    }
  g_ptr_array_add (sets, NULL);
  return plan_simulate_cached (c, (const char *const *) sets->pdata,
                               "measuring the NAT-side alternative", ret, error);
}

gboolean
plan_timeouts_priced (const PlanCtx *c)
{
  for (guint i = 0; i < NATSIM_TIMER_N; i++)
    if (c->timeouts[i].present && c->timeouts[i].change)
      return TRUE;
  return FALSE;
}

void
plan_timeouts_current_sets (const PlanCtx *c, GPtrArray *sets)
{
  for (guint i = 0; i < NATSIM_TIMER_N; i++)
    if (c->timeouts[i].change)
      g_ptr_array_add (sets, g_strdup_printf ("nat.%s=%.0fs",
                                              natsim_timer_info (c->timeouts[i].timer)->key,
                                              c->timeouts[i].current));
}

/* The recommended pool with today's timeouts (the endpoint remedies
 * kept): the other half of the price of the timeout changes, which are
 * priced together so that one simulation serves them all. */
static gboolean
simulate_current_timeouts (PlanCtx *c, GError **error)
{
  g_autoptr (GPtrArray) sets = g_ptr_array_new_with_free_func (g_free);

  plan_timeouts_current_sets (c, sets);
  g_ptr_array_add (sets, NULL);
  if (!plan_simulate_cached (c, (const char *const *) sets->pdata,
                             "measuring the cost of the timeouts", &c->without, error))
    return FALSE;
  c->have_without = TRUE;
  return TRUE;
}

/* "udp_timeout = 3950 s, udp_stream_timeout = 3876 s": what @pop alone
 * would need of the NAT. */
static char *
nat_side (const PlanCtx *c, const char *pop)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < NATSIM_TIMER_N; i++)
    {
      const PlanTimeout *t = &c->timeouts[i];

      if (t->remedy_pop != NULL && strcmp (t->remedy_pop, pop) == 0)
        g_string_append_printf (s, "%s%s = %.0f s", s->len ? ", " : "",
                                natsim_timer_info (t->timer)->key, t->remedy_timeout);
    }
  return g_string_free (s, FALSE);
}

static void
append_gaps (GString *why, const NatsimUsageResult *u, char **names, NatsimGapKind kind,
             const double *per_class)
{
  for (guint k = 0; k < u->n_classes; k++)
    {
      double m = per_class[k * NATSIM_GAP_N + kind];

      if (m > 0)
        g_string_append_printf (why, " %s %.4g s", names[k], m);
    }
}

static gboolean
report_one (PlanCtx *c, const PlanTimeout *t, char **names, GError **error)
{
  const NatsimUsageResult *u = c->p->usage;
  const NatsimTimerInfo *info = natsim_timer_info (t->timer);
  const NatsimPlanOptions *opts = c->opts;
  NatsimGapKind kind = (NatsimGapKind) t->timer;
  GString *why = g_string_new (NULL);

  if (isnan (t->gap))
    {
      if (opts->allow_below_rfc)
        g_string_append_printf (why, "No flow that receives unsolicited inbound packets went "
                                "idle under this timer; nothing needs a longer one, so "
                                "today's %.0f s stays (--allow-below-rfc).", t->current);
      else
        g_string_append_printf (why, "No flow that receives unsolicited inbound packets went "
                                "idle under this timer; the %s minimum of %.0f s is enough.",
                                info->rfc, info->rfc_min);
    }
  else
    {
      if (opts->target_loss > 0)
        g_string_append_printf (why, "%.4g %% of counted idle gaps are longer than %.4g s",
                                opts->target_loss * 100.0, t->gap);
      else
        g_string_append_printf (why, "The longest counted idle gap is %.4g s", t->gap);
      g_string_append (why, " (per class:");
      append_gaps (why, u, names, kind, u->class_gap_max);
      g_string_append_printf (why, "); with " NATSIM_TIMEOUT_RULE_TEXT " it needs %.0f s",
                              natsim_timeout_for_gap (t->remedy_pop != NULL ? t->remedy_gap
                                                                            : t->gap));
      if (t->remedy_pop != NULL)
        g_string_append_printf (why, ", but only class %s needs that much: %.0f s serves "
                                "every other class%s, and endpoint.refresh_interval gives "
                                "class %s the remedy", t->remedy_pop, t->value,
                                opts->allow_below_rfc ? "" : " and the RFC", t->remedy_pop);
      else if (!opts->allow_below_rfc && natsim_timeout_for_gap (t->gap) < info->rfc_min)
        g_string_append_printf (why, ", under the %s minimum of %.0f s, so %.0f s (allow "
                                "less with --allow-below-rfc)", info->rfc, info->rfc_min,
                                info->rfc_min);
      else if (natsim_timeout_for_gap (t->gap) < info->rfc_min)
        g_string_append_printf (why, ", under the %s minimum of %.0f s (--allow-below-rfc): "
                                "a NAT that follows the RFC keeps bindings longer", info->rfc,
                                info->rfc_min);
      g_string_append (why, ".");
    }
  g_string_append_printf (why, " Only the gaps of flows that receive inbound packets more "
                          "than %.0f s after their last outbound packet count (a binding that "
                          "lapses matters only when the remote starts traffic through it; "
                          "replies follow an outbound packet that recreates it): %.0f of %.0f "
                          "flows.", natsim_time_to_sec (PLAN_REPLY_WINDOW), u->exposed_flows,
                          u->gap_flows);
  if (u->ignored_gap_count[kind] > 0)
    {
      g_string_append_printf (why, " Left out: %.0f gaps of the other flows (longest:",
                              u->ignored_gap_count[kind]);
      append_gaps (why, u, names, kind, u->ignored_class_gap_max);
      g_string_append (why, ").");
    }
  g_string_append_printf (why, " Currently %.0f s%s.", t->current,
                          !isnan (t->gap) && t->gap >= t->current
                            ? ", too short: bindings are lost" : "");
  if (t->change && c->verified)
    {
      if (!c->have_without && !simulate_current_timeouts (c, error))
        {
          g_string_free (why, TRUE);
          return FALSE;
        }
      g_string_append_printf (why, " Measured at the recommended pool (two simulations, same "
                              "seeds, %s to %.0f s%s against keeping %s): ",
                              t->value > t->current ? "raising it" : "lowering it", t->value,
                              c->n_changes > 1 ? " with the other timeout changes" : "",
                              c->n_changes > 1 ? "today's timeouts" : "today's value");
      append_cost (why, &c->at_addresses, &c->without);
      g_string_append (why, ".");
    }
  plan_add_item (c->p, info->id, t->value, "s", "simulation", "%s", why->str);
  g_string_free (why, TRUE);
  return TRUE;
}

static gboolean
report_remedy (PlanCtx *c, const PlanTimeout *t, GError **error)
{
  const NatsimTimerInfo *info = natsim_timer_info (t->timer);
  GString *why = g_string_new (NULL);

  g_string_append_printf (why, "Class %s alone keeps its bindings idle for up to %.4g s under "
                          "%s (every other class needs %.0f s or less). Set its %s so that it "
                          "refreshes at least every %.4g s (population.%s.%s, RFC 5626: "
                          "80-100 %% of the interval; or enable keepalives at that interval) "
                          "instead of raising the timeout for every flow.",
                          t->remedy_pop, t->remedy_gap, info->key, t->value, t->remedy_key,
                          t->remedy_interval, t->remedy_pop, t->remedy_key);
  if (c->verified)
    {
      PlanFigures alt;
      g_autofree char *what = nat_side (c, t->remedy_pop);

      if (!simulate_nat_side (c, t->remedy_pop, &alt, error))
        {
          g_string_free (why, TRUE);
          return FALSE;
        }
      g_string_append_printf (why, " The NAT-side alternative, %s with the class unchanged, "
                              "measured at the recommended pool (two simulations, same "
                              "seeds): ", what);
      append_cost (why, &alt, &c->at_addresses);
      g_string_append (why, ".");
    }
  plan_add_item (c->p, "endpoint.refresh_interval", t->remedy_interval, "s", "simulation", "%s",
                 why->str);
  g_string_free (why, TRUE);
  return TRUE;
}

static void
report_keepalive (PlanCtx *c)
{
  const NatsimUsageResult *u = c->p->usage;
  const NatsimParams *nat = c->p->grown->nat;
  gboolean udp = u->flows[NATSIM_GAP_UDP] + u->flows[NATSIM_GAP_UDP_STREAM] +
                 u->gap_count[NATSIM_GAP_UDP] + u->gap_count[NATSIM_GAP_UDP_STREAM] > 0;
  gboolean tcp = u->flows[NATSIM_GAP_TCP_ESTABLISHED] + u->gap_count[NATSIM_GAP_TCP_ESTABLISHED] > 0;
  double timeout, value;
  gboolean lost;
  const char *what;

  if (udp)
    {
      double ut = natsim_time_to_sec (natsim_params_get_duration (nat, "udp_timeout"));
      double st = natsim_time_to_sec (natsim_params_get_duration (nat, "udp_stream_timeout"));

      timeout = MIN (ut, st);
      lost = u->gap_max[NATSIM_GAP_UDP] >= ut || u->gap_max[NATSIM_GAP_UDP_STREAM] >= st;
      what = "UDP";
    }
  else if (tcp)
    {
      timeout = natsim_time_to_sec (natsim_params_get_duration (nat, "tcp_established_timeout"));
      lost = u->gap_max[NATSIM_GAP_TCP_ESTABLISHED] >= timeout;
      what = "TCP";
    }
  else
    return;
  value = natsim_keepalive_for_timeout (timeout);
  plan_add_item (c->p, "keepalive.interval", value, "s", "simulation",
                 "When the NAT cannot be changed: its shortest %s timeout is %.4g s, and RFC "
                 "5626 randomises keepalives between 80 and 100 %% of the interval, so "
                 "endpoints need a keepalive every %.4g s (80 %% of the timeout) at most. %s",
                 what, timeout, value,
                 lost ? "Today some flows stay idle for longer than their timer, so bindings "
                        "are lost."
                      : "Today's traffic already refreshes bindings often enough.");
}

gboolean
plan_timeouts_report (PlanCtx *c, GError **error)
{
  g_auto (GStrv) names = natsim_scenario_class_names (c->p->grown);

  c->n_changes = 0;
  for (guint i = 0; i < NATSIM_TIMER_N; i++)
    c->n_changes += c->timeouts[i].present && c->timeouts[i].change;

  for (guint i = 0; i < NATSIM_TIMER_N; i++)
    if (c->timeouts[i].present && !report_one (c, &c->timeouts[i], names, error))
      return FALSE;
  report_keepalive (c);
  for (guint i = 0; i < NATSIM_TIMER_N; i++)
    {
      const PlanTimeout *t = &c->timeouts[i];
      gboolean seen = FALSE;

      if (t->remedy_pop == NULL)
        continue;
      /* One remedy per class and key, from the timer that needs it most. */
      for (guint j = 0; j < i; j++)
        if (c->timeouts[j].remedy_pop != NULL &&
            strcmp (c->timeouts[j].remedy_pop, t->remedy_pop) == 0)
          seen = TRUE;
      if (!seen && !report_remedy (c, t, error))
        return FALSE;
    }
  return TRUE;
}
