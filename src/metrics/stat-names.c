/* natsim: names of the figures, and freeing a run's result.
 *
 * The names are the report.json keys of the "totals" object (docs/report.md,
 * schema natsim.report/1), in NatsimStat order. */
#include "natsim/metrics.h"

static const char *const stat_names[NATSIM_STAT_N] = {
  [NATSIM_STAT_FLOWS] = "flows",
  [NATSIM_STAT_BINDINGS_CREATED] = "bindings_created",
  [NATSIM_STAT_BINDINGS_EXPIRED] = "bindings_expired",
  [NATSIM_STAT_PEAK_BINDINGS] = "peak_bindings",
  [NATSIM_STAT_PEAK_PORTS_PER_ADDRESS] = "peak_ports_per_address",
  [NATSIM_STAT_ALLOCATION_FAILURES] = "allocation_failures",
  [NATSIM_STAT_BLOCKING_PROBABILITY] = "blocking_probability",
  [NATSIM_STAT_BINDING_LOSSES] = "binding_losses",
  [NATSIM_STAT_FILTERED] = "filtered",
  [NATSIM_STAT_REBINDINGS] = "rebindings",
  [NATSIM_STAT_UNREACHABLE_SECONDS] = "unreachable_seconds",
  [NATSIM_STAT_PACKETS_OUT] = "packets_out",
  [NATSIM_STAT_PACKETS_IN] = "packets_in",
  [NATSIM_STAT_PACKETS_DROPPED] = "packets_dropped",
  [NATSIM_STAT_MISSED_CALLS] = "missed_calls",
  [NATSIM_STAT_REBINDINGS_SIGNALLING] = "rebindings_signalling",
  [NATSIM_STAT_REBINDINGS_MEDIA] = "rebindings_media",
  [NATSIM_STAT_REBINDINGS_KEEPALIVE] = "rebindings_keepalive",
  [NATSIM_STAT_REBINDINGS_HOUSEKEEPING] = "rebindings_housekeeping",
  [NATSIM_STAT_BINDING_LOSSES_SIGNALLING] = "binding_losses_signalling",
  [NATSIM_STAT_BINDING_LOSSES_MEDIA] = "binding_losses_media",
  [NATSIM_STAT_BINDING_LOSSES_KEEPALIVE] = "binding_losses_keepalive",
  [NATSIM_STAT_BINDING_LOSSES_HOUSEKEEPING] = "binding_losses_housekeeping",
  [NATSIM_STAT_NO_FREE_PORT] = "no_free_port",
  [NATSIM_STAT_NO_FREE_BLOCK] = "no_free_block",
  [NATSIM_STAT_SUBSCRIBER_BLOCK_LIMIT] = "subscriber_block_limit",
  [NATSIM_STAT_SUBSCRIBER_PORT_LIMIT] = "subscriber_port_limit",
  [NATSIM_STAT_ADDRESS_FALLBACKS] = "address_fallbacks",
  [NATSIM_STAT_PEAK_BLOCKS_PER_ADDRESS] = "peak_blocks_per_address",
  [NATSIM_STAT_PEAK_BLOCK_SUBSCRIBERS] = "peak_subscribers_with_blocks",
};

static const char *const kind_names[NATSIM_FLOW_N] = {
  [NATSIM_FLOW_OTHER] = "other",
  [NATSIM_FLOW_SIGNALLING] = "signalling",
  [NATSIM_FLOW_MEDIA] = "media",
  [NATSIM_FLOW_KEEPALIVE] = "keepalive",
  [NATSIM_FLOW_HOUSEKEEPING] = "housekeeping",
};

const char *
natsim_flow_kind_name (NatsimFlowKind kind)
{
  g_return_val_if_fail ((unsigned) kind < NATSIM_FLOW_N, NULL);
  return kind_names[kind];
}

/* The per-kind figures follow each base in NatsimFlowKind order,
 * signalling first. */
NatsimStat
natsim_stat_by_kind (NatsimStat base, NatsimFlowKind kind)
{
  g_return_val_if_fail (base == NATSIM_STAT_REBINDINGS || base == NATSIM_STAT_BINDING_LOSSES,
                        NATSIM_STAT_N);
  g_return_val_if_fail ((unsigned) kind < NATSIM_FLOW_N, NATSIM_STAT_N);
  if (kind == NATSIM_FLOW_OTHER)
    return NATSIM_STAT_N;
  return (base == NATSIM_STAT_REBINDINGS ? NATSIM_STAT_REBINDINGS_SIGNALLING
                                         : NATSIM_STAT_BINDING_LOSSES_SIGNALLING)
         + (kind - NATSIM_FLOW_SIGNALLING);
}

/* The report.json key of @s; NULL (and a critical) for an invalid value. */
const char *
natsim_stat_name (NatsimStat s)
{
  g_return_val_if_fail ((unsigned) s < NATSIM_STAT_N, NULL);
  return stat_names[s];
}

/* Counts are everything but the two real-valued figures: a probability and
 * a duration. */
bool
natsim_stat_is_count (NatsimStat s)
{
  g_return_val_if_fail ((unsigned) s < NATSIM_STAT_N, false);
  return s != NATSIM_STAT_BLOCKING_PROBABILITY
         && s != NATSIM_STAT_UNREACHABLE_SECONDS;
}

/* Frees @r and every array it holds; NULL-safe. */
void
natsim_run_result_free (NatsimRunResult *r)
{
  if (r == NULL)
    return;
  g_free (r->per_class);
  g_free (r->addr_peak_ports);
  g_free (r->addr_failures);
  g_free (r->tl_bindings);
  g_free (r->tl_ports);
  g_free (r->tl_failures);
  g_free (r->tl_addr_ports);
  g_free (r->addr_peak_blocks);
  g_free (r->addr_fallbacks);
  g_free (r->tl_blocks);
  g_free (r->tl_block_subscribers);
  g_free (r->tl_addr_blocks);
  g_clear_pointer (&r->packets, g_array_unref);
  g_free (r);
}
