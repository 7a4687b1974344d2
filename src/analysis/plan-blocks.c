/* natsim: the planner's per-subscriber port blocks.
 *
 * pool.ports_per_subscriber: from the per-subscriber peak of concurrent
 * ports in the busy window, measured with the recommended timeouts (the
 * peak, not the time-weighted level: a block must hold a subscriber's
 * busiest moment, when the NAT would otherwise refuse its flows).  When
 * the NAT allocates port blocks, the block is applied before the address
 * count is sized, and so verified with everything else. */
#include <math.h>

#include "plan-private.h"

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

void
plan_block (PlanCtx *c)
{
  NatsimPlan *p = c->p;
  const NatsimPlanOptions *opts = c->opts;
  const NatsimUsageResult *u = c->usage;
  g_autofree char *t = plan_pct (opts->target_blocking);
  g_autofree char *f = NULL;
  uint16_t lo, hi;
  guint range, block, max_peak = u->peak_hist->len > 0 ? u->peak_hist->len - 1 : 0;
  guint current = (guint) natsim_params_get_uint (p->grown->nat, "ports_per_subscriber");
  guint blocks = (guint) natsim_params_get_uint (p->grown->nat, "blocks_per_subscriber");
  /* Deterministic NAT (RFC 7422): ports_per_subscriber is each
   * subscriber's fixed range, sized like a block. */
  gboolean det = natsim_params_get_bool (p->grown->nat, "deterministic");
  double frac = 0.0, time_above = 0.0, time_total = 0.0;
  gboolean applied = FALSE;

  if (u->subscribers <= 0)
    {
      plan_add_note (p, "plan.no_subscribers", "pool.ports_per_subscriber: no subscriber held "
                     "a port in the measured window");
      return;
    }
  natsim_params_get_port_range (p->grown->nat, "port_range", &lo, &hi);
  range = (guint) hi - lo + 1;
  block = natsim_plan_block_size (u->peak_hist, opts->granularity, opts->target_blocking, &frac);
  for (guint k = 1; k < u->time_hist->len; k++)
    {
      double v = g_array_index (u->time_hist, double, k);
      time_total += v;
      if (k > block)
        time_above += v;
    }
  f = plan_pct (frac);
  if (block > range)
    plan_add_note (p, "plan.block_too_large", "pool.ports_per_subscriber: a block of %u ports "
                   "does not fit the port range of %u ports", block, range);
  else if (current > 0 || det)
    {
      g_autofree char *a = g_strdup_printf ("nat.ports_per_subscriber=%u", block);

      /* The NAT allocates blocks: size the pool with the recommended one. */
      /* Deterministic NAT: the ranges may not fit today's addresses;
       * the address count, sized next, makes them fit. */
      applied = natsim_scenario_set (c->applied, a, NULL) &&
                (det || natsim_scenario_validate (c->applied, NULL));
      if (applied)
        c->block = block;
    }
  plan_add_item (p, "pool.ports_per_subscriber", block > range ? NAN : block, "ports",
                 "simulation",
                 "Per-subscriber peak of concurrent external ports in the busy window, over "
                 "%.0f subscriber%s (all replications): median %.0f, 99th percentile %.0f, "
                 "maximum %u. A block of %u ports (multiple of %u) leaves %s of subscribers "
                 "needing more (target below %s; %.3g %% of port-holding subscriber time is "
                 "above it). %u subscribers fit per address (floor(%u / %u)%s).%s",
                 u->subscribers, u->subscribers == 1 ? "" : "s",
                 hist_quantile (u->peak_hist, 0.5), hist_quantile (u->peak_hist, 0.99),
                 max_peak, block, opts->granularity, f, t,
                 time_total > 0 ? 100.0 * time_above / time_total : 0.0,
                 block ? range / block : 0, range, block,
                 block > range ? ": the block is larger than the port range" : "",
                 applied ? " Applied when sizing and verifying the pool."
                         : current == 0 ? " The NAT allocates ports one by one "
                                          "(ports_per_subscriber = 0): this is the block a "
                                          "port-block NAT would need; the pool is sized "
                                          "without it."
                                        : "");
  if (current > 0 && !det && max_peak >= (guint64) current * blocks)
    plan_add_note (p, "plan.block_censored", "pool.ports_per_subscriber: measured under the "
                   "configured limit of %u x %u ports, which some subscribers reached: their "
                   "demand may be higher than measured", blocks, current);
}
