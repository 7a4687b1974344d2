/* natsim: traffic characterisation without a NAT (`natsim analyze`).
 *
 * Streams captures and describes their traffic for choosing NAT timeouts:
 * flows (5-tuples, both directions folded into one) per traffic class of the
 * seed's port table (the replay classifier, natsim/replay.h), whether their
 * remote end lies in the Webex Calling subnets, per class the packets,
 * bytes, flow durations and idle gaps with quantiles (GSL), an estimated
 * keepalive / refresh period, SIP REGISTER intervals and Expires values from
 * clear-text SIP, and DSCP marking against the seed's QoS table.  The
 * result is written as analysis.json (schema natsim.analysis/1, docs/analysis.md)
 * and as a text summary.
 *
 * Memory follows live flows: a flow idle for longer than the flow timeout
 * is closed (its figures are added to its class) and forgotten.  Samples of
 * gaps and durations are kept per class up to a cap; beyond it a uniform
 * reservoir sample of that size (deterministic) stands for all of them, and
 * the document says so.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "natsim/reasm.h"
#include "natsim/sip-stream.h"
#include "natsim/sip.h"
#include "natsim/time.h"
#include "natsim/trace.h"

G_BEGIN_DECLS

#define NATSIM_ANALYSIS_SCHEMA "natsim.analysis/1"

/* Quantiles of a sample (seconds).  When n == 0 every value is NaN. */
typedef struct
{
  guint64 n;       /* values seen */
  guint64 kept;    /* values the quantiles are computed from (<= n) */
  double  min, p50, p90, p99, max;
} NatsimQuantiles;

/* Quantiles of @sorted (@n values in ascending order) with
 * gsl_stats_quantile_from_sorted_data(); ret->n and ret->kept are @n. */
void natsim_quantiles_from_sorted (const double *sorted, size_t n,
                                   NatsimQuantiles *ret);

/* The Webex subnet @addr (IPv4, host order) lies in: "calling" (Webex
 * Calling cloud subnets) or "app-config" (app configuration), after
 * docs/reference.md section 1; NULL if none. */
const char *natsim_webex_subnet (uint32_t addr);

typedef struct
{
  NatsimTime flow_timeout; /* a flow idle this long ends (0: 1 h) */
  guint      max_samples;  /* kept samples per class and figure (0: 262144) */
  bool       outer;        /* study tunnels as captured, not their inner packets */
  /* natsim_analyze(): called every few thousand records with the bytes
   * of the captures read so far (captured bytes plus 16 per record, as
   * pcap stores them); may be NULL.  Never changes the analysis. */
  void     (*progress) (guint64 bytes_read, void *user_data);
  void      *progress_data;
} NatsimAnalyzeOptions;

typedef struct NatsimAnalysis NatsimAnalysis;

/* An empty analysis with inside addresses @inside (borrowed; must outlive
 * it) and @opts (NULL: defaults). */
NatsimAnalysis *natsim_analysis_new (const NatsimCidrSet *inside,
                                     const NatsimAnalyzeOptions *opts);
void natsim_analysis_free (NatsimAnalysis *a);

/* Adds one decoded packet (time must not decrease). */
void natsim_analysis_add_packet (NatsimAnalysis *a, const NatsimTracePacket *tp);

/* Closes every live flow and computes the figures; no packet may be added
 * afterwards.  @stats (may be NULL) are the reader's counts. */
void natsim_analysis_finish (NatsimAnalysis *a, const NatsimTraceStats *stats);

/* Reads @traces (@n paths, merged by time) into a finished analysis.  An
 * unreadable file fails with NATSIM_ERROR_INVALID_INPUT naming it. */
NatsimAnalysis *natsim_analyze (const char *const *traces, guint n,
                                const NatsimCidrSet *inside,
                                const NatsimAnalyzeOptions *opts,
                                GError **error);

/* Figures of one class of a finished analysis (@cls: the replay class
 * index).  Counts are 0 and quantiles NaN for a class without flows. */
typedef struct
{
  guint64         flows, packets, bytes;
  guint64         webex_calling_flows, webex_app_config_flows;
  guint64         long_lived_flows;   /* lasting at least 60 s */
  NatsimQuantiles duration;           /* flow durations, s */
  NatsimQuantiles idle_gap;           /* gaps between a flow's packets, s */
  NatsimQuantiles refresh_gap;        /* gaps >= 1 s in flows older than 60 s */
  double          keepalive_s;        /* refresh_gap.p50 when >= 3 gaps, else NaN */
  guint64         dscp_checked, dscp_expected, dscp_other;
  guint64         dscp_observed[64];  /* packets sent by the local side, per DSCP */
} NatsimClassAnalysis;

const NatsimClassAnalysis *natsim_analysis_class (const NatsimAnalysis *a, guint cls);

/* The idle gaps of class @cls of a finished analysis, in seconds, sorted
 * ascending (all of them, or the uniform sample the quantiles use when
 * there were more than max_samples); stores their number in @ret_n.  The
 * array belongs to @a.  NULL and 0 when the class has no gap. */
const double *natsim_analysis_class_gaps (const NatsimAnalysis *a, guint cls, gsize *ret_n);

/* The refresh gaps of class @cls (as natsim_analysis_class_gaps()). */
const double *natsim_analysis_class_refresh_gaps (const NatsimAnalysis *a, guint cls,
                                                  gsize *ret_n);

/* The duration of the capture (first to last packet), seconds. */
double natsim_analysis_duration_s (const NatsimAnalysis *a);

/* The timeout analysis.json recommends for @proto (NATSIM_PROTO_UDP or
 * NATSIM_PROTO_TCP; docs/analysis.md), NaN when no class qualifies; the
 * deciding class name goes to @ret_class (may be NULL). */
double natsim_analysis_recommended_timeout (const NatsimAnalysis *a, uint8_t proto,
                                            const char **ret_class);

/* The transport of a class's flows: NATSIM_PROTO_TCP, NATSIM_PROTO_UDP, or
 * 0 for ICMP ("sip" counts as UDP, its usual transport). */
uint8_t natsim_analysis_class_proto (guint cls);

typedef struct
{
  guint64         registers;          /* REGISTER requests */
  guint64         register_oks;       /* 2xx answers to REGISTER */
  guint64         endpoints;          /* distinct senders of REGISTER */
  guint64         unregisters;        /* REGISTER with expires 0 */
  NatsimQuantiles interval;           /* between refreshes of one endpoint, s */
  NatsimQuantiles expires_requested;  /* s */
  NatsimQuantiles expires_granted;    /* s */
} NatsimSipAnalysis;

const NatsimSipAnalysis *natsim_analysis_sip (const NatsimAnalysis *a);

/* The reader's counts given to natsim_analysis_finish() (zero if none). */
const NatsimTraceStats *natsim_analysis_trace_stats (const NatsimAnalysis *a);

/* What a finished analysis read and found, for its writers (src/report,
 * natsim/analysis-report.h).  Pointers belong to the analysis. */
typedef struct
{
  const NatsimCidrSet        *inside;
  NatsimTime                  flow_timeout;
  guint                       max_samples;
  bool                        outer;        /* --outer */
  guint64                     flows, packets, bytes, peak_live_flows;
  guint64                     no_ports;     /* packets without ports, pieces of
                                             * datagrams never reassembled */
  double                      duration_s;
  const NatsimTraceStats     *trace;        /* the reader's counts */
  const NatsimReasmStats     *reassembly;   /* NULL when no fragment was seen */
  const NatsimSipStreamStats *sip_tcp;      /* SIP over TCP */
} NatsimAnalysisTotals;

void natsim_analysis_totals (const NatsimAnalysis *a, NatsimAnalysisTotals *ret);

/* The DSCP values the seed's QoS table prescribes for packets an endpoint
 * sends in class @cls from @local_port: a bit set of DSCP values, 0 when
 * the table says nothing. */
uint64_t natsim_analysis_dscp_expected (guint cls, uint16_t local_port);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimAnalysis, natsim_analysis_free)

G_END_DECLS
