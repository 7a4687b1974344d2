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

/* The most blocks per subscriber [nat] blocks_per_subscriber accepts
 * (Junos allows up to 512). */
#define PLAN_MAX_BLOCKS_PER_SUBSCRIBER 1024

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

/* The fraction of subscribers of @peak_hist whose peak exceeds @ports. */
static double
share_above (const GArray *peak_hist, guint ports)
{
  double total = 0.0, above = 0.0;

  for (guint c = 0; c < peak_hist->len; c++)
    {
      double v = g_array_index (peak_hist, double, c);

      total += v;
      if (c > ports)
        above += v;
    }
  return total > 0.0 ? above / total : 0.0;
}

typedef struct
{
  guint block, blocks, addresses; /* addresses 0: none within the model's limit */
} BlockChoice;

/* pool.block_size and pool.blocks_per_subscriber (see the top of this
 * file); applies them to @c->applied and returns TRUE when given. */
static gboolean
plan_block_limits (PlanCtx *c, guint range)
{
  NatsimPlan *p = c->p;
  const NatsimPlanOptions *opts = c->opts;
  const NatsimUsageResult *u = c->usage;
  guint g = opts->granularity;
  guint demand = natsim_plan_block_size (u->peak_hist, 1, opts->target_blocking, NULL);
  guint top = (demand + g - 1) / g * g;
  g_autoptr (GArray) cands = g_array_new (FALSE, TRUE, sizeof (BlockChoice));
  g_autoptr (GString) table = g_string_new (NULL);
  g_autoptr (GString) why = g_string_new (NULL);
  g_autofree char *t = plan_pct (opts->target_blocking);
  g_autofree char *dem = plan_pct (share_above (u->peak_hist, demand));
  const BlockChoice *best = NULL;
  g_autoptr (GString) bpb = NULL;
  guint fewest = 0;

  g_string_append_printf (why, "Fewer than %s of subscribers (target) peak above %u concurrent "
                          "ports (%s do); the block x blocks per subscriber must hold that. ",
                          t, demand, dem);
  for (guint b = g; b <= MIN (top, range); b += g)
    {
      BlockChoice ch = { b, (demand + b - 1) / b, 0 };

      /* A subscriber's blocks all lie on one address (RFC 4787 REQ-2). */
      if (ch.blocks > PLAN_MAX_BLOCKS_PER_SUBSCRIBER || ch.blocks > range / b)
        continue;
      ch.addresses = plan_block_addresses (c->applied, u, b, opts->target_blocking, NULL);
      g_array_append_val (cands, ch);
      if (ch.addresses > 0 && (fewest == 0 || ch.addresses < fewest))
        fewest = ch.addresses;
    }
  for (guint i = 0; i < cands->len; i++)
    {
      const BlockChoice *ch = &g_array_index (cands, BlockChoice, i);

      g_string_append_printf (table, "%s%u ports x %u block%s: ", i ? "; " : "", ch->block,
                              ch->blocks, ch->blocks == 1 ? "" : "s");
      if (ch->addresses > 0)
        g_string_append_printf (table, "%u address%s", ch->addresses,
                                ch->addresses == 1 ? "" : "es");
      else
        g_string_append_printf (table, "more than %u addresses", NATSIM_NAT_MAX_ADDRESSES);
      if (ch->addresses > 0 && ch->addresses == fewest)
        best = ch;
    }
  if (best == NULL)
    {
      if (cands->len == 0)
        g_string_append_printf (why, "No block size fits: a subscriber's blocks all lie on one "
                                "address (RFC 4787 REQ-2), and no multiple of --granularity %u "
                                "gives blocks of at least %u ports in all within the port range "
                                "of %u ports, so none is recommended. To help: a wider "
                                "port_range or a smaller --granularity.", g, demand, range);
      else
        g_string_append_printf (why, "Erlang B on the blocks subscribers hold (%s): no block "
                                "size is served by %u addresses or fewer, so none is "
                                "recommended. To help: a wider port_range or shorter "
                                "timeouts.", table->str, NATSIM_NAT_MAX_ADDRESSES);
      /* The address count is sized for the blocks the NAT has. */
      c->block = (guint) natsim_params_get_uint (c->applied->nat, "ports_per_subscriber");
      plan_add_item (p, "pool.block_size", NAN, "ports", "erlang-b", "%s", why->str);
      plan_add_item (p, "pool.blocks_per_subscriber", NAN, "blocks", "erlang-b", "%s",
                     why->str);
      return FALSE;
    }
  {
    g_autofree char *bs = g_strdup_printf ("nat.ports_per_subscriber=%u", best->block);
    g_autofree char *bn = g_strdup_printf ("nat.blocks_per_subscriber=%u", best->blocks);

    if (!natsim_scenario_set (c->applied, bs, NULL) ||
        !natsim_scenario_set (c->applied, bn, NULL) ||
        !natsim_scenario_validate (c->applied, NULL))
      return FALSE;
  }
  c->block = best->block;
  bpb = g_string_new (why->str);
  g_string_append_printf (why, "Erlang B on the blocks subscribers hold (a subscriber holding c "
                          "ports holds ceil(c / block) blocks, floor(%u / block) blocks per "
                          "address; block sizes in multiples of --granularity %u): %s. ",
                          range, g, table->str);
  {
    g_autoptr (GString) bsz = g_string_new (why->str);
    g_autofree char *held = plan_pct (share_above (u->peak_hist, best->blocks * best->block));
    const BlockChoice *prev = NULL;

    for (guint i = 0; i < cands->len; i++)
      if (g_array_index (cands, BlockChoice, i).block + g == best->block)
        prev = &g_array_index (cands, BlockChoice, i);
    g_string_append_printf (bsz, "The largest block among those needing the fewest addresses "
                            "(%u) is %u ports: fewer blocks per subscriber mean fewer block "
                            "allocations to log (one record per block on Junos and FortiOS). ",
                            fewest, best->block);
    if (prev != NULL)
      g_string_append_printf (bsz, "A block of %u ports would need %u block%s per subscriber and "
                              "%s%u address%s: %s.", prev->block, prev->blocks,
                              prev->blocks == 1 ? "" : "s",
                              prev->addresses > 0 ? "" : "more than ",
                              prev->addresses > 0 ? prev->addresses : NATSIM_NAT_MAX_ADDRESSES,
                              prev->addresses == 1 ? "" : "es",
                              prev->addresses == fewest ? "no address saved"
                                                        : "more addresses");
    else
      g_string_append_printf (bsz, "No smaller block is considered (--granularity %u).", g);
    g_string_append (bsz, " Applied with pool.blocks_per_subscriber when sizing and verifying "
                          "the pool.");
    g_string_append_printf (bpb, "%u block%s of %u ports = %u ports per subscriber hold the "
                            "peak of all but %s of subscribers (target below %s); ",
                            best->blocks, best->blocks == 1 ? "" : "s", best->block,
                            best->blocks * best->block, held, t);
    if (best->blocks > 1)
      {
        guint less = (best->blocks - 1) * best->block;
        g_autofree char *over = plan_pct (share_above (u->peak_hist, less));

        g_string_append_printf (bpb, "%u block%s (%u ports) would leave %s of subscribers "
                                "needing more, not below the target.", best->blocks - 1,
                                best->blocks - 1 == 1 ? "" : "s", less, over);
      }
    else
      g_string_append (bpb, "fewer than one block is not possible.");
    g_string_append (bpb, " Applied with pool.block_size when sizing and verifying the pool.");
    plan_add_item (p, "pool.block_size", best->block, "ports", "simulation", "%s", bsz->str);
    plan_add_item (p, "pool.blocks_per_subscriber", best->blocks, "blocks", "simulation", "%s",
                   bpb->str);
  }
  return TRUE;
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
  if (current > 0 && !det)
    applied = plan_block_limits (c, range);
  else if (det && block <= range)
    {
      g_autofree char *a = g_strdup_printf ("nat.ports_per_subscriber=%u", block);

      /* Deterministic NAT: the ranges may not fit today's addresses; the
       * address count, sized next, makes them fit (so no validation
       * here). */
      applied = natsim_scenario_set (c->applied, a, NULL);
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
                 current > 0 && !det
                   ? " The NAT allocates port blocks: the block and the per-subscriber limit it "
                     "is given are pool.block_size and pool.blocks_per_subscriber."
                 : applied ? " Applied when sizing and verifying the pool."
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
