/* natsim: the planner from captures (natsim plan --trace).
 *
 * The timeouts come from the captures' refresh gaps (natsim analyze) by
 * the one timeout-from-gap rule, the pool from replays of the captures
 * through the configured NAT: Erlang B on the replayed attempts and
 * holding times, confirmed by replaying with that many addresses, and the
 * port block from replays with growing blocks. */
#include <math.h>
#include <string.h>

#include <gsl/gsl_statistics_double.h>

#include "natsim/analyze.h"
#include "natsim/error.h"
#include "natsim/replay.h"
#include "plan-private.h"

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
  g_autofree char *t = plan_pct (opts->target_blocking);
  guint servers, k = 0, k_erlang;
  const char *basis = "erlang-b";

  attempts = run->totals.v[NATSIM_STAT_FLOWS];
  created = run->totals.v[NATSIM_STAT_BINDINGS_CREATED];
  if (attempts <= 0 || created <= 0 || run->n_intervals == 0 || duration <= 0)
    {
      plan_add_note (p, "plan.no_flows", "pool.addresses: the capture makes no mapping attempts "
                "through the NAT; nothing to size");
      return TRUE;
    }
  for (guint i = 0; i < run->n_intervals; i++)
    live += run->tl_bindings[i];
  live /= run->n_intervals;
  lambda = created / duration;
  holding = lambda > 0 ? live / lambda : 0.0;
  erlangs = attempts / duration * holding * (1.0 + opts->growth);
  servers = plan_pool_servers (nat);
  for (k = 1; k <= NATSIM_NAT_MAX_ADDRESSES; k++)
    {
      b_k = plan_erlang_b (servers, erlangs / k);
      if (b_k < opts->target_blocking)
        break;
      b_prev = b_k;
    }
  if (k > NATSIM_NAT_MAX_ADDRESSES)
    {
      g_autofree char *bk = plan_pct (b_k);

      /* A search bound is never an answer. */
      plan_add_item (p, "pool.addresses", NAN, "addresses", "erlang-b",
                     "Replaying the capture: %.0f mapping attempts in %.4g s, %.4g erlang at "
                     "%.0f %% growth. Erlang B: even %u addresses (the most natsim models) of "
                     "%u ports give %s blocking (target below %s), so no address count is "
                     "recommended. To help: add ports (a wider port_range) or shorten the "
                     "timeouts.", attempts, duration, erlangs, opts->growth * 100.0,
                     NATSIM_NAT_MAX_ADDRESSES, servers, bk, t);
      return TRUE;
    }
  k_erlang = k;
  /* Confirm on the capture itself (as captured, without growth). */
  for (; k <= NATSIM_NAT_MAX_ADDRESSES && k < k_erlang + PLAN_MAX_CONFIRM_STEPS; k++)
    {
      g_autofree char *v = plan_addresses_value (nat, k);

      plan_stage (opts, "replaying the capture");
      measured = replay_blocking (nat, "addresses", v, traces, n, inside, error);
      if (isnan (measured))
        return FALSE;
      if (measured < opts->target_blocking)
        break;
      basis = "trace";
    }
  {
    g_autofree char *bk = plan_pct (b_k);
    g_autofree char *bm = plan_pct (measured);
    g_autofree char *bp = isnan (b_prev) ? NULL : plan_pct (b_prev);

    plan_add_item (p, "pool.addresses", k, "addresses", basis,
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
  g_autofree char *t = plan_pct (opts->target_blocking);
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
      plan_stage (opts, "replaying the capture with a port block");
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
    bb = plan_pct (MAX (final - base, 0.0));
    plan_add_item (p, "pool.ports_per_subscriber", block, "ports", "trace",
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

  for (guint i = 0; i < NATSIM_TIMER_N; i++)
    {
      const NatsimTimerInfo *info = natsim_timer_info ((NatsimTimer) i);
      uint8_t proto = i == NATSIM_TIMER_TCP_ESTABLISHED ? NATSIM_PROTO_TCP : NATSIM_PROTO_UDP;
      double current = natsim_time_to_sec (natsim_params_get_duration (nat, info->key));
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
          /* As natsim analyze: a class needs 3 refresh gaps to count. */
          if (nr < 3)
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
          value = opts->allow_below_rfc ? current : info->rfc_min;
          g_string_assign (why, "");
          g_string_append_printf (why, "No long-lived %s flow (60 s or more) refreshed its "
                                  "binding after an idle gap in the capture (DNS and NTP "
                                  "left out); ", proto == NATSIM_PROTO_UDP ? "UDP" : "TCP");
          if (opts->allow_below_rfc)
            g_string_append (why, "nothing needs a longer timeout, so today's stays "
                                  "(--allow-below-rfc).");
          else
            g_string_append_printf (why, "the %s minimum of %.0f s is enough.", info->rfc,
                                    info->rfc_min);
        }
      else
        {
          g_autofree char *per_class = g_strdup (why->str);

          double needed = natsim_timeout_for_gap (gap);

          value = natsim_timeout_recommend ((NatsimTimer) i, gap, opts->allow_below_rfc);
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
                                  "answer, so a lapse between queries costs nothing). With "
                                  NATSIM_TIMEOUT_RULE_TEXT " the shortest timeout without "
                                  "binding loss is %.0f s (as natsim analyze says).", per_class,
                                  proto == NATSIM_PROTO_UDP ? "UDP" : "TCP", needed);
          if (needed < info->rfc_min && !opts->allow_below_rfc)
            g_string_append_printf (why, " That is under the %s minimum of %.0f s, so %.0f s "
                                    "(allow less with --allow-below-rfc).", info->rfc,
                                    info->rfc_min, info->rfc_min);
          else if (needed < info->rfc_min)
            g_string_append_printf (why, " That is under the %s minimum of %.0f s "
                                    "(--allow-below-rfc): a NAT that follows the RFC keeps "
                                    "bindings longer.", info->rfc, info->rfc_min);
        }
      g_string_append_printf (why, " Currently %.0f s%s.", current,
                              !isnan (gap) && gap >= current
                                ? ", too short: bindings are lost between refreshes" : "");
      if (i == NATSIM_TIMER_UDP)
        udp_value = value;
      plan_add_item (p, info->id, value, "s", "trace", "%s", why->str);
      g_string_free (why, TRUE);
    }
  (void) udp_value;
  if (any_udp || any_tcp)
    {
      double timeout = any_udp
                         ? MIN (natsim_time_to_sec (natsim_params_get_duration (nat, "udp_timeout")),
                                natsim_time_to_sec (natsim_params_get_duration (nat, "udp_stream_timeout")))
                         : natsim_time_to_sec (natsim_params_get_duration (nat, "tcp_established_timeout"));
      double value = natsim_keepalive_for_timeout (timeout);

      plan_add_item (p, "keepalive.interval", value, "s", "trace",
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
  g_autoptr (NatsimPlan) p = plan_new ();
  NatsimRunResult *run;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
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

  plan_stage (opts, "analysing the capture");
  p->analysis = natsim_analyze (traces, n, inside, NULL, error);
  if (p->analysis == NULL)
    return NULL;
  {
    /* A capture cut short is planned from its complete records, as analyze
     * and replay read it; the plan says so (docs/analysis.md). */
    const NatsimTraceStats *st = natsim_analysis_trace_stats (p->analysis);
    g_autofree char *cut = natsim_trace_cut_message (st, traces);
    g_autofree char *bad_time = natsim_trace_bad_time_message (st);

    if (cut != NULL)
      plan_add_note (p, "trace.cut", "%s", cut);
    if (bad_time != NULL)
      plan_add_note (p, "trace.bad_timestamps", "%s", bad_time);
  }
  plan_stage (opts, "replaying the capture");
  run = replay_with (nat, traces, n, inside, error);
  if (run == NULL)
    return NULL;
  p->runs = g_ptr_array_new_with_free_func ((GDestroyNotify) natsim_run_result_free);
  g_ptr_array_add (p->runs, run);
  plan_add_note (p, "plan.one_replication", "a capture is one replication: there is no confidence "
            "interval, and the replay confirms on what was captured");

  if (!plan_trace_addresses (p, nat, run, traces, n, inside, opts, error) ||
      !plan_trace_block (p, nat, run, traces, n, inside, opts, error))
    return NULL;
  plan_trace_timeouts (p, nat, opts);
  return g_steal_pointer (&p);
}
