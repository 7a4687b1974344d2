/* natsim: the observer that turns NAT verdicts and lifecycle events into
 * the figures of one run (report.json "totals", "per_class",
 * "per_address", "timeline").
 *
 * Counts cover [warmup, end); peaks are taken over the same window, starting
 * from the gauges at the warm-up instant.  The timeline covers the whole run
 * [0, end) so the warm-up can be seen.  Nothing here allocates per packet.
 */
#include <math.h>

#include "natsim/metrics.h"

struct NatsimCollector
{
  NatsimNat  *nat;
  NatsimTime  warmup, end, interval;
  bool        counting;
  guint       n_classes, n_addresses;
  NatsimStats totals;
  NatsimStats *per_class;
  double     *addr_peak, *addr_fail;
  guint64    *class_live;
  double      interval_s;
  guint       n_intervals;
  guint       next_bucket;
  double     *tl_bindings, *tl_ports, *tl_failures;
  double     *tl_addr_ports; /* [n_addresses * n_intervals] or NULL */
};

NatsimCollector *
natsim_collector_new (NatsimNat *nat, guint n_classes, guint n_addresses,
                      NatsimTime warmup, NatsimTime end, NatsimTime interval)
{
  NatsimCollector *c = g_new0 (NatsimCollector, 1);

  g_return_val_if_fail (interval > 0 && end > 0 && warmup < end, NULL);
  c->nat = nat;
  c->warmup = warmup;
  c->end = end;
  c->interval = interval;
  c->n_classes = n_classes;
  c->n_addresses = n_addresses;
  c->per_class = g_new0 (NatsimStats, MAX (n_classes, 1));
  c->class_live = g_new0 (guint64, MAX (n_classes, 1));
  c->addr_peak = g_new0 (double, n_addresses);
  c->addr_fail = g_new0 (double, n_addresses);
  c->interval_s = natsim_time_to_sec (interval);
  c->n_intervals = (guint) ((end + interval - 1) / interval);
  c->tl_bindings = g_new0 (double, c->n_intervals);
  c->tl_ports = g_new0 (double, c->n_intervals);
  c->tl_failures = g_new0 (double, c->n_intervals);
  /* The per-address timeline costs n_addresses doubles per bucket; a big
   * pool over a long run would not fit, so it is bounded (metrics.h). */
  if (n_addresses > 0
      && (guint64) n_addresses * c->n_intervals <= NATSIM_TL_ADDR_MAX_CELLS)
    c->tl_addr_ports = g_new0 (double, (gsize) n_addresses * c->n_intervals);
  c->counting = warmup == 0;
  return c;
}

void
natsim_collector_free (NatsimCollector *c)
{
  if (c == NULL)
    return;
  g_free (c->per_class);
  g_free (c->class_live);
  g_free (c->addr_peak);
  g_free (c->addr_fail);
  g_free (c->tl_bindings);
  g_free (c->tl_ports);
  g_free (c->tl_failures);
  g_free (c->tl_addr_ports);
  g_free (c);
}

static inline void
bump (NatsimCollector *c, guint cls, NatsimStat s)
{
  c->totals.v[s] += 1;
  if (cls < c->n_classes)
    c->per_class[cls].v[s] += 1;
}

static inline bool
in_window (const NatsimCollector *c, NatsimTime t)
{
  return t >= c->warmup && t < c->end;
}

static void
update_peaks (NatsimCollector *c)
{
  double live = (double) natsim_nat_live_bindings (c->nat);

  if (live > c->totals.v[NATSIM_STAT_PEAK_BINDINGS])
    c->totals.v[NATSIM_STAT_PEAK_BINDINGS] = live;
  for (guint a = 0; a < c->n_addresses; a++)
    {
      double p = (double) natsim_nat_ports_in_use (c->nat, a);
      if (p > c->addr_peak[a])
        c->addr_peak[a] = p;
      if (p > c->totals.v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS])
        c->totals.v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS] = p;
    }
  for (guint k = 0; k < c->n_classes; k++)
    if ((double) c->class_live[k] > c->per_class[k].v[NATSIM_STAT_PEAK_BINDINGS])
      c->per_class[k].v[NATSIM_STAT_PEAK_BINDINGS] = (double) c->class_live[k];
}

void
natsim_collector_on_nat_event (const NatsimNatEvent *ev, void *user_data)
{
  NatsimCollector *c = user_data;
  bool count = in_window (c, ev->time);

  switch (ev->type)
    {
    case NATSIM_NAT_EV_BINDING_CREATED:
      if (ev->cls < c->n_classes)
        c->class_live[ev->cls]++;
      if (count)
        {
          bump (c, ev->cls, NATSIM_STAT_BINDINGS_CREATED);
          if (c->totals.v[NATSIM_STAT_PEAK_BINDINGS] < (double) natsim_nat_live_bindings (c->nat))
            c->totals.v[NATSIM_STAT_PEAK_BINDINGS] = (double) natsim_nat_live_bindings (c->nat);
          if (ev->cls < c->n_classes &&
              c->per_class[ev->cls].v[NATSIM_STAT_PEAK_BINDINGS] < (double) c->class_live[ev->cls])
            c->per_class[ev->cls].v[NATSIM_STAT_PEAK_BINDINGS] = (double) c->class_live[ev->cls];
        }
      break;
    case NATSIM_NAT_EV_BINDING_EXPIRED:
      if (ev->cls < c->n_classes && c->class_live[ev->cls] > 0)
        c->class_live[ev->cls]--;
      if (count)
        bump (c, ev->cls, NATSIM_STAT_BINDINGS_EXPIRED);
      break;
    case NATSIM_NAT_EV_PORT_ACQUIRED:
      if (count && ev->addr_index < c->n_addresses)
        {
          double p = (double) natsim_nat_ports_in_use (c->nat, ev->addr_index);
          if (p > c->addr_peak[ev->addr_index])
            c->addr_peak[ev->addr_index] = p;
          if (p > c->totals.v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS])
            c->totals.v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS] = p;
        }
      break;
    case NATSIM_NAT_EV_ALLOC_FAILED:
      if (ev->time < c->end)
        {
          guint b = (guint) (ev->time / c->interval);
          if (b < c->n_intervals)
            c->tl_failures[b] += 1;
        }
      if (count && ev->addr_index < c->n_addresses)
        c->addr_fail[ev->addr_index] += 1;
      break;
    default:
      break;
    }
}

void
natsim_collector_on_packet (NatsimCollector *c, const NatsimPacket *pkt,
                            const NatsimNatResult *res)
{
  guint cls = pkt->cls;
  bool out = pkt->dir == NATSIM_DIR_OUT;

  if (!in_window (c, pkt->time))
    return;
  switch (res->verdict)
    {
    case NATSIM_VERDICT_FORWARDED:
      bump (c, cls, out ? NATSIM_STAT_PACKETS_OUT : NATSIM_STAT_PACKETS_IN);
      if (out && res->new_binding)
        bump (c, cls, NATSIM_STAT_FLOWS);
      if (res->rebinding)
        bump (c, cls, NATSIM_STAT_REBINDINGS);
      break;
    case NATSIM_VERDICT_ALLOC_FAILED:
      bump (c, cls, NATSIM_STAT_FLOWS);
      bump (c, cls, NATSIM_STAT_ALLOCATION_FAILURES);
      bump (c, cls, NATSIM_STAT_PACKETS_DROPPED);
      break;
    case NATSIM_VERDICT_BINDING_LOST:
      bump (c, cls, NATSIM_STAT_BINDING_LOSSES);
      bump (c, cls, NATSIM_STAT_PACKETS_DROPPED);
      break;
    case NATSIM_VERDICT_FILTERED:
      bump (c, cls, NATSIM_STAT_FILTERED);
      bump (c, cls, NATSIM_STAT_PACKETS_DROPPED);
      break;
    case NATSIM_VERDICT_UNSOLICITED:
      bump (c, cls, NATSIM_STAT_PACKETS_DROPPED);
      break;
    case NATSIM_VERDICT_NOT_TRANSLATED:
    default:
      break;
    }
}

void
natsim_collector_add_unreachable (NatsimCollector *c, guint cls, NatsimTime from,
                                  NatsimTime to)
{
  double s;

  from = MAX (from, c->warmup);
  to = MIN (to, c->end);
  if (to <= from)
    return;
  s = natsim_time_to_sec (to - from);
  c->totals.v[NATSIM_STAT_UNREACHABLE_SECONDS] += s;
  if (cls < c->n_classes)
    c->per_class[cls].v[NATSIM_STAT_UNREACHABLE_SECONDS] += s;
}

/* Samples the gauges into the timeline bucket c->next_bucket, at its end
 * (the last bucket may be partial and end at c->end). */
static void
sample_bucket (NatsimCollector *c)
{
  guint k = c->next_bucket;

  c->tl_bindings[k] = (double) natsim_nat_live_bindings (c->nat);
  c->tl_ports[k] = (double) natsim_nat_ports_in_use_total (c->nat);
  if (c->tl_addr_ports != NULL)
    for (guint a = 0; a < c->n_addresses; a++)
      c->tl_addr_ports[(gsize) a * c->n_intervals + k]
        = (double) natsim_nat_ports_in_use (c->nat, a);
  c->next_bucket++;
}

void
natsim_collector_advance (NatsimCollector *c, NatsimTime now)
{
  now = MIN (now, c->end);
  for (;;)
    {
      NatsimTime edge = (NatsimTime) (c->next_bucket + 1) * c->interval;
      NatsimTime next = edge;

      if (!c->counting && c->warmup < next)
        next = c->warmup;
      if (next > now || c->next_bucket >= c->n_intervals)
        break;
      natsim_nat_advance (c->nat, next);
      if (!c->counting && next == c->warmup)
        {
          /* Peaks start from the state at the end of the warm-up. */
          c->counting = true;
          update_peaks (c);
          continue;
        }
      /* Sample at the bucket's end (the last bucket may be partial). */
      sample_bucket (c);
    }
  natsim_nat_advance (c->nat, now);
}

NatsimRunResult *
natsim_collector_finish (NatsimCollector *c)
{
  NatsimRunResult *r = g_new0 (NatsimRunResult, 1);

  natsim_collector_advance (c, c->end);
  if (c->next_bucket < c->n_intervals)
    {
      /* The partial last bucket ends at c->end. */
      sample_bucket (c);
    }
  c->totals.v[NATSIM_STAT_BLOCKING_PROBABILITY] =
    c->totals.v[NATSIM_STAT_FLOWS] > 0
      ? c->totals.v[NATSIM_STAT_ALLOCATION_FAILURES] / c->totals.v[NATSIM_STAT_FLOWS] : 0.0;
  for (guint k = 0; k < c->n_classes; k++)
    {
      NatsimStats *s = &c->per_class[k];
      s->v[NATSIM_STAT_BLOCKING_PROBABILITY] =
        s->v[NATSIM_STAT_FLOWS] > 0
          ? s->v[NATSIM_STAT_ALLOCATION_FAILURES] / s->v[NATSIM_STAT_FLOWS] : 0.0;
    }
  r->totals = c->totals;
  r->n_classes = c->n_classes;
  r->per_class = g_memdup2 (c->per_class, sizeof (NatsimStats) * MAX (c->n_classes, 1));
  r->n_addresses = c->n_addresses;
  r->addr_peak_ports = g_memdup2 (c->addr_peak, sizeof (double) * c->n_addresses);
  r->addr_failures = g_memdup2 (c->addr_fail, sizeof (double) * c->n_addresses);
  r->interval_s = c->interval_s;
  r->n_intervals = c->n_intervals;
  r->tl_bindings = g_memdup2 (c->tl_bindings, sizeof (double) * c->n_intervals);
  r->tl_ports = g_memdup2 (c->tl_ports, sizeof (double) * c->n_intervals);
  r->tl_failures = g_memdup2 (c->tl_failures, sizeof (double) * c->n_intervals);
  if (c->tl_addr_ports != NULL)
    r->tl_addr_ports = g_memdup2 (c->tl_addr_ports, sizeof (double) * c->n_addresses
                                                      * c->n_intervals);
  return r;
}

void
natsim_collector_add_missed_call (NatsimCollector *c, guint cls, NatsimTime t)
{
  if (!in_window (c, t))
    return;
  bump (c, cls, NATSIM_STAT_MISSED_CALLS);
}
