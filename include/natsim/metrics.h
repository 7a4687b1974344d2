/* natsim: the figures every run produces, and the observer that counts them.
 *
 * The NatsimStat order is the order of the report.json "totals" object
 * (DESIGN.md contract); new figures are appended, never inserted. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "natsim/nat.h"
#include "natsim/time.h"

G_BEGIN_DECLS

typedef enum
{
  NATSIM_STAT_FLOWS,
  NATSIM_STAT_BINDINGS_CREATED,
  NATSIM_STAT_BINDINGS_EXPIRED,
  NATSIM_STAT_PEAK_BINDINGS,
  NATSIM_STAT_PEAK_PORTS_PER_ADDRESS,
  NATSIM_STAT_ALLOCATION_FAILURES,
  NATSIM_STAT_BLOCKING_PROBABILITY,
  NATSIM_STAT_BINDING_LOSSES,
  NATSIM_STAT_FILTERED,
  NATSIM_STAT_REBINDINGS,
  NATSIM_STAT_UNREACHABLE_SECONDS,
  NATSIM_STAT_PACKETS_OUT,
  NATSIM_STAT_PACKETS_IN,
  NATSIM_STAT_PACKETS_DROPPED,
  NATSIM_STAT_MISSED_CALLS,        /* incoming calls lost to a dead or filtered binding (extension) */
  NATSIM_STAT_N
} NatsimStat;

/* The report.json key of a figure ("flows", "peak_bindings", ...). */
const char *natsim_stat_name (NatsimStat s);

/* True for counts (printed as integers when the value is integral). */
bool natsim_stat_is_count (NatsimStat s);

typedef struct
{
  double v[NATSIM_STAT_N];
} NatsimStats;

/* The result of one replication (or one replay). */
typedef struct
{
  NatsimStats  totals;
  guint        n_classes;
  NatsimStats *per_class;          /* [n_classes] */
  guint        n_addresses;
  double      *addr_peak_ports;    /* [n_addresses] */
  double      *addr_failures;      /* [n_addresses] */
  double       interval_s;         /* timeline bucket width */
  guint        n_intervals;
  double      *tl_bindings;        /* live bindings at the end of each bucket */
  double      *tl_ports;           /* ports in use (all addresses) at the end of each bucket */
  double      *tl_failures;        /* allocation failures within each bucket */
} NatsimRunResult;

void natsim_run_result_free (NatsimRunResult *r);

typedef struct NatsimCollector NatsimCollector;

/* Counts verdicts and NAT events of one run.  Statistics cover
 * [@warmup, @end); the timeline covers [0, @end) in buckets of @interval. */
NatsimCollector *natsim_collector_new (NatsimNat *nat, guint n_classes,
                                       guint n_addresses, NatsimTime warmup,
                                       NatsimTime end, NatsimTime interval);
void natsim_collector_free (NatsimCollector *c);

/* The NAT observer to install with natsim_nat_set_observer(); @user_data is
 * the collector.  Chain it from another observer when narrating. */
void natsim_collector_on_nat_event (const NatsimNatEvent *ev, void *user_data);

/* Records the verdict of one packet offered to the NAT. */
void natsim_collector_on_packet (NatsimCollector *c, const NatsimPacket *pkt,
                                 const NatsimNatResult *res);

/* Adds unreachable time for class @cls (endpoint-seconds). */
void natsim_collector_add_unreachable (NatsimCollector *c, guint cls,
                                       NatsimTime from, NatsimTime to);

/* Brings gauges and the timeline up to @now (call before each packet; the
 * collector advances the NAT's timers at bucket edges itself). */
void natsim_collector_advance (NatsimCollector *c, NatsimTime now);

/* Closes the run at its end time and returns the figures. */
NatsimRunResult *natsim_collector_finish (NatsimCollector *c);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimCollector, natsim_collector_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimRunResult, natsim_run_result_free)

G_END_DECLS
