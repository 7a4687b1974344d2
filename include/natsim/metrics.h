/* natsim: the figures every run produces, and the observer that counts them.
 *
 * The NatsimStat order is the order of the report.json "totals" object
 * (docs/report.md contract); new figures are appended, never inserted. */
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
  /* Rebindings and binding losses by what the packet was for
   * (NatsimFlowKind; extension).  Unclassified packets (generic flows,
   * captures) count in none of them. */
  NATSIM_STAT_REBINDINGS_SIGNALLING,
  NATSIM_STAT_REBINDINGS_MEDIA,
  NATSIM_STAT_REBINDINGS_KEEPALIVE,
  NATSIM_STAT_REBINDINGS_HOUSEKEEPING,
  NATSIM_STAT_BINDING_LOSSES_SIGNALLING,
  NATSIM_STAT_BINDING_LOSSES_MEDIA,
  NATSIM_STAT_BINDING_LOSSES_KEEPALIVE,
  NATSIM_STAT_BINDING_LOSSES_HOUSEKEEPING,
  /* allocation_failures by cause (NatsimAllocFailure order); they add up
   * to allocation_failures */
  NATSIM_STAT_NO_FREE_PORT,
  NATSIM_STAT_NO_FREE_BLOCK,
  NATSIM_STAT_SUBSCRIBER_BLOCK_LIMIT,
  NATSIM_STAT_SUBSCRIBER_PORT_LIMIT,
  NATSIM_STAT_ADDRESS_FALLBACKS,   /* bindings or blocks placed on another address than the first choice */
  NATSIM_STAT_PEAK_BLOCKS_PER_ADDRESS,
  NATSIM_STAT_PEAK_BLOCK_SUBSCRIBERS, /* subscribers holding a port block at once */
  NATSIM_STAT_N
} NatsimStat;

/* The report.json key of a figure ("flows", "peak_bindings", ...). */
const char *natsim_stat_name (NatsimStat s);

/* The figure counting @base (NATSIM_STAT_REBINDINGS or
 * NATSIM_STAT_BINDING_LOSSES) of packets of @kind; NATSIM_STAT_N for
 * NATSIM_FLOW_OTHER, which has no figure of its own. */
NatsimStat natsim_stat_by_kind (NatsimStat base, NatsimFlowKind kind);

/* The name of a flow kind as the report keys use it ("signalling",
 * "media", "keepalive", "housekeeping", "other"). */
const char *natsim_flow_kind_name (NatsimFlowKind kind);

/* True for counts (printed as integers when the value is integral). */
bool natsim_stat_is_count (NatsimStat s);

typedef struct
{
  double v[NATSIM_STAT_N];
} NatsimStats;

/* One packet as the NAT saw it (report.html draws the packets of small
 * runs as a sequence diagram). */
typedef struct
{
  NatsimTime time;
  uint32_t   src_addr, dst_addr;   /* as offered (inside addressing) */
  uint16_t   src_port, dst_port;
  uint32_t   ext_addr;             /* forwarded: the public endpoint used */
  uint16_t   ext_port;
  uint16_t   cls;
  uint32_t   in_addr;              /* hairpinned: the inside endpoint reached */
  uint16_t   in_port;
  uint8_t    proto, dir, verdict, tcp_flags;
  bool       hairpinned;
} NatsimPacketRecord;

/* Runs with at most this many packets keep every packet (NatsimRunResult
 * packets). */
#define NATSIM_PACKET_LOG_MAX 300u

/* The result of one replication (or one replay). */
typedef struct
{
  NatsimStats  totals;
  guint        n_classes;
  NatsimStats *per_class;          /* [n_classes] */
  guint        n_addresses;
  double      *addr_peak_ports;    /* [n_addresses] */
  double      *addr_failures;      /* [n_addresses] */
  double      *addr_peak_blocks;   /* [n_addresses] */
  double      *addr_fallbacks;     /* [n_addresses]: fall-backs onto this address */
  double       blocks_per_address; /* port blocks on each address (0: no blocks) */
  double       interval_s;         /* timeline bucket width */
  guint        n_intervals;
  double      *tl_bindings;        /* live bindings at the end of each bucket */
  double      *tl_ports;           /* ports in use (all addresses) at the end of each bucket */
  double      *tl_failures;        /* allocation failures within each bucket */
  /* Ports in use per public address at the end of each bucket, address
   * major: [a * n_intervals + k].  NULL when n_addresses * n_intervals
   * exceeds NATSIM_TL_ADDR_MAX_CELLS (a /16 pool over a long run). */
  double      *tl_addr_ports;
  /* Port blocks (blocks_per_address > 0, else NULL): blocks in use (all
   * addresses) and subscribers holding a block at the end of each bucket;
   * blocks in use per address like tl_addr_ports (NULL when that is). */
  double      *tl_blocks;
  double      *tl_block_subscribers;
  double      *tl_addr_blocks;
  /* Every packet offered to the NAT, in order, when the run had at most
   * NATSIM_PACKET_LOG_MAX of them (NatsimPacketRecord); else NULL. */
  GArray      *packets;
  /* Bytes allocated at the end of the run, by owner (for benchmarks and
   * docs/performance.md; not in report.json): the NAT engine
   * (natsim_nat_memory()), the event queue of the populations, the
   * populations' own state, this collector.  0 where unknown (a replay). */
  gsize        mem_nat, mem_events, mem_models, mem_collector;
} NatsimRunResult;

/* The most cells (addresses x timeline buckets) of the per-address
 * timeline; beyond it the per-address timeline is not recorded. */
#define NATSIM_TL_ADDR_MAX_CELLS 1000000u

void natsim_run_result_free (NatsimRunResult *r);

typedef struct NatsimCollector NatsimCollector;

/* Bytes the collector holds (its arrays and its port table, at capacity). */
gsize natsim_collector_memory_bytes (const NatsimCollector *c);

/* Counts verdicts and NAT events of one run.  Statistics cover
 * [@warmup, @end); the timeline covers [0, @end) in buckets of @interval. */
NatsimCollector *natsim_collector_new (NatsimNat *nat, guint n_classes,
                                       guint n_addresses, NatsimTime warmup,
                                       NatsimTime end, NatsimTime interval);

/* An open-ended collector: the end of the run is given only when it is
 * closed, by natsim_collector_finish_at().  No warm-up: statistics cover
 * [0, end).  The timeline starts with buckets of @interval and grows as
 * buckets are reached; when a time t with t / interval > @max_points is
 * reached (or is the end), adjacent bucket pairs are merged and the
 * interval doubled: a merged bucket's samples "at the end of the bucket"
 * are those of its later half, its counts the sum of both.  The figures
 * are those a natsim_collector_new() collector gives with the same end and
 * the final interval (the smallest @interval * 2^j with
 * end / (@interval * 2^j) <= @max_points). */
NatsimCollector *natsim_collector_new_open (NatsimNat *nat, guint n_classes,
                                            guint n_addresses, NatsimTime interval,
                                            guint64 max_points);
void natsim_collector_free (NatsimCollector *c);

/* The NAT observer to install with natsim_nat_set_observer(); @user_data is
 * the collector.  Chain it from another observer when narrating. */
void natsim_collector_on_nat_event (const NatsimNatEvent *ev, void *user_data);

/* Records the verdict of one packet offered to the NAT. */
void natsim_collector_on_packet (NatsimCollector *c, const NatsimPacket *pkt,
                                 const NatsimNatResult *res);

/* True while the collector still logs every packet (the first
 * NATSIM_PACKET_LOG_MAX of a run): packets must then be offered one by
 * one, never fast-forwarded. */
bool natsim_collector_logs_packets (const NatsimCollector *c);

/* Records the packets of a fast-forwarded train (natsim_nat_fast_forward()):
 * one forwarded outbound and one forwarded inbound packet of class @cls at
 * each of @next, @next + @gap, ... up to @last, as natsim_collector_on_packet()
 * would one by one. */
void natsim_collector_on_train (NatsimCollector *c, guint cls, NatsimTime next,
                                NatsimTime gap, NatsimTime last);

/* Adds unreachable time for class @cls (endpoint-seconds). */
void natsim_collector_add_unreachable (NatsimCollector *c, guint cls,
                                       NatsimTime from, NatsimTime to);

/* Counts one incoming call of class @cls lost at @t (a dead or filtered
 * binding); only within [warmup, end). */
void natsim_collector_add_missed_call (NatsimCollector *c, guint cls,
                                       NatsimTime t);

/* Brings gauges and the timeline up to @now (call before each packet; the
 * collector advances the NAT's timers at bucket edges itself). */
void natsim_collector_advance (NatsimCollector *c, NatsimTime now);

/* Closes the run at its end time and returns the figures. */
NatsimRunResult *natsim_collector_finish (NatsimCollector *c);

/* Closes an open collector's run at @end, which must lie after every time
 * given to it (the NAT's clock included), and returns the figures as
 * natsim_collector_finish() does; the collector is then closed. */
NatsimRunResult *natsim_collector_finish_at (NatsimCollector *c, NatsimTime end);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimCollector, natsim_collector_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimRunResult, natsim_run_result_free)

/* ---- Usage: who holds which ports, toward where, and how long flows idle
 * (src/metrics/subscribers.c; the planner's evidence, natsim plan). ---- */

/* Which NAT idle timer governs a gap between packets of a flow. */
typedef enum
{
  NATSIM_GAP_UDP,             /* UDP before a reply was seen */
  NATSIM_GAP_UDP_STREAM,      /* UDP after a reply, flow older than 2 s */
  NATSIM_GAP_TCP_ESTABLISHED, /* TCP after the first reply, before FIN/RST */
  NATSIM_GAP_N
} NatsimGapKind;

/* Idle gaps are kept in logarithmic bins: bin i holds gaps in
 * (NATSIM_GAP_BIN0 * NATSIM_GAP_RATIO^i, NATSIM_GAP_BIN0 * NATSIM_GAP_RATIO^(i+1)]
 * seconds (1 % wide, 1 ms to beyond 30 days); bin 0 also holds shorter gaps. */
#define NATSIM_GAP_BINS  2200
#define NATSIM_GAP_BIN0  0.001
#define NATSIM_GAP_RATIO 1.01

/* The load offered toward one remote endpoint (proto, address, port). */
typedef struct
{
  uint8_t  proto;
  uint32_t addr;
  uint16_t port;
  double   attempts;        /* outbound mapping attempts (created + refused) */
  double   created;         /* bindings created toward it */
  double   binding_seconds; /* time integral of its live bindings */
} NatsimDestinationLoad;

/* Protocol slots of the port-level figures. */
enum { NATSIM_USAGE_UDP, NATSIM_USAGE_TCP, NATSIM_USAGE_ICMP, NATSIM_USAGE_N_PROTO };

/* What one run (or the sum of several) says about usage; every figure
 * covers [warmup, end) and is a sum (merge adds runs). */
typedef struct
{
  guint   runs;
  double  window_s;         /* measured seconds, summed over runs */
  guint   n_classes;
  /* Per subscriber (inside address): concurrent external ports it holds,
   * counted as distinct (protocol, public address, port) in use by its
   * live bindings.  peak_hist[c]: subscribers whose peak in the window
   * was c ports; time_hist[c]: subscriber-seconds spent holding c ports
   * (c >= 1; time without ports is not counted). */
  GArray *peak_hist;        /* double */
  GArray *time_hist;        /* double */
  double  subscribers;      /* subscribers that held a port in the window */
  GArray *destinations;     /* NatsimDestinationLoad, sorted by (proto, addr, port) */
  /* Port level (per protocol): a port is held while any binding uses it. */
  double  port_attempts[NATSIM_USAGE_N_PROTO]; /* acquisitions + allocation failures */
  double  port_acquired[NATSIM_USAGE_N_PROTO];
  double  port_seconds[NATSIM_USAGE_N_PROTO];  /* time integral of ports in use */
  /* Idle gaps between packets of a flow (time since the flow's last
   * refreshing packet, at each later packet of the flow), by timer: the
   * counted gaps (with a reply window, only those of flows that receive
   * unsolicited inbound packets; see natsim_usage_new()). */
  double  gap_hist[NATSIM_GAP_N][NATSIM_GAP_BINS];
  double  gap_count[NATSIM_GAP_N];
  double  gap_max[NATSIM_GAP_N];               /* seconds, max over runs */
  double *class_gap_max;                       /* [n_classes * NATSIM_GAP_N] */
  /* Gaps left out: those of flows that ended without an unsolicited
   * inbound packet (always 0 without a reply window). */
  double  ignored_gap_count[NATSIM_GAP_N];
  double *ignored_class_gap_max;               /* [n_classes * NATSIM_GAP_N], seconds */
  double  exposed_flows;                       /* flows whose gaps count */
  double  gap_flows;                           /* flows followed */
  /* Flows that went idle for good (or were still open at the end) under
   * each timer: the flows whose bindings a longer timeout keeps longer.
   * TCP flows closed by FIN/RST are not counted. */
  double  flows[NATSIM_GAP_N];
} NatsimUsageResult;

typedef struct NatsimUsage NatsimUsage;

/* A usage tracker for one run over [@warmup, @end).  Flows idle for longer
 * than @horizon (the NAT's tombstone: after it the NAT, too, treats the
 * 5-tuple as new) are forgotten and their next packet starts a new flow.
 * @refresh_inbound: inbound packets refresh bindings (nat.refresh = both).
 * @reply_window: 0, every idle gap counts; else a flow's gaps count only if
 * it receives an inbound packet more than @reply_window after its last
 * outbound packet (an unsolicited inbound: an incoming call, a NOTIFY, a
 * push), its gaps held back until it does and left out (ignored_gap_*)
 * when it ends without one.
 * Memory follows live subscribers, destinations and recent flows (80
 * bytes a flow); an entry is allocated per new subscriber or destination,
 * never per packet, and flows and ports reuse their slots. */
NatsimUsage *natsim_usage_new (guint n_classes, NatsimTime warmup,
                               NatsimTime end, NatsimTime horizon,
                               bool refresh_inbound, NatsimTime reply_window);
void natsim_usage_free (NatsimUsage *u);

/* The NAT observer part (chain it after the collector); @user_data is the
 * tracker. */
void natsim_usage_on_nat_event (const NatsimNatEvent *ev, void *user_data);

/* Records one packet offered to the NAT and its verdict. */
void natsim_usage_on_packet (NatsimUsage *u, const NatsimPacket *pkt,
                             const NatsimNatResult *res);

/* Closes the run at its end and returns the figures. */
NatsimUsageResult *natsim_usage_finish (NatsimUsage *u);

/* An empty result (for summing runs into). */
NatsimUsageResult *natsim_usage_result_new (guint n_classes);

/* Adds @from into @into (same class count). */
void natsim_usage_result_merge (NatsimUsageResult *into,
                                const NatsimUsageResult *from);

/* The smallest gap g (upper edge of its bin, or the exact maximum) such
 * that at most a fraction @q of the gaps of @kind are longer; 0 when there
 * are none.  @q = 0 gives the exact maximum. */
double natsim_usage_gap_quantile (const NatsimUsageResult *r,
                                  NatsimGapKind kind, double q);

void natsim_usage_result_free (NatsimUsageResult *r);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimUsage, natsim_usage_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimUsageResult, natsim_usage_result_free)

G_END_DECLS
