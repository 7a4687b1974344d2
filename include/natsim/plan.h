/* natsim: sizing recommendations (natsim plan).
 *
 * The planner runs a scenario with growth applied, watching who holds which
 * ports toward where and how long flows stay idle (natsim/metrics.h,
 * NatsimUsage), decides the timeouts from the idle gaps (one rule,
 * natsim/recommend.h), measures again with them, sizes port blocks and the
 * address count (Erlang B, confirmed by simulation) for them, and verifies
 * all recommendations together by simulation with the scenario's seeds.
 * Recommendation ids and bases are those of the report contract
 * (docs/report.md). */
#pragma once

#include <glib.h>

#include "natsim/analysis.h"
#include "natsim/analyze.h"
#include "natsim/metrics.h"
#include "natsim/recommend.h"
#include "natsim/scenario.h"
#include "natsim/simulate.h"

G_BEGIN_DECLS

typedef struct
{
  double             target_blocking; /* probability, default 0.001 */
  double             target_loss;     /* fraction of idle gaps a timeout may cut, default 0 */
  double             growth;          /* default 0.2: 20 % more endpoints and flows */
  guint              granularity;     /* port block multiple, default 64 */
  guint              jobs;            /* replications in parallel */
  /* Timeouts may go below the RFC minimums (RFC 4787 REQ-5, RFC 5382
   * REQ-5); default FALSE. */
  gboolean           allow_below_rfc;
  /* Called on the calling thread before each stage, may be NULL. */
  void             (*stage) (const char *message, void *user_data);
  void              *stage_data;
  /* Progress of a stage's simulations in simulated time (passed to
   * natsim_simulate() as time_progress, with @stage_data); may be NULL. */
  void             (*sim_progress) (double fraction, guint done, guint total,
                                    void *user_data);
} NatsimPlanOptions;

/* Fills @opts with the defaults. */
void natsim_plan_options_init (NatsimPlanOptions *opts);

typedef struct
{
  char *id;
  char *message;
} NatsimPlanNote;

typedef struct
{
  NatsimScenario    *grown;   /* the scenario with growth applied */
  /* The scenario @runs ran: @grown, or @grown with port blocks and
   * deterministic NAT lifted and room in the pool (see
   * plan.demand_without_blocks). */
  NatsimScenario    *measured;
  GPtrArray         *runs;    /* NatsimRunResult of the measurement, by replication */
  /* Usage over all measurement replications; its gap figures count only
   * the idle gaps of flows that received an inbound packet more than the
   * reply window (5 s) after their last outbound one (ignored_gap_*: what
   * that left out). */
  NatsimUsageResult *usage;
  GArray            *recommendations; /* NatsimRecommendation, in contract order */
  GArray            *notes;   /* NatsimPlanNote: caveats for the report's warnings */
  /* Plans from captures (natsim_plan_run_trace()): @grown and @usage are
   * NULL, @runs holds the one replay through the configured NAT. */
  NatsimParams      *nat;      /* the [nat] configuration replayed, or NULL */
  NatsimAnalysis    *analysis; /* the captures' traffic analysis, or NULL */
  /* All recommendations applied together and simulated with the
   * scenario's seeds; NULL for plans from captures or when nothing was
   * simulated. */
  NatsimVerification *verification;
} NatsimPlan;

/* Plans @s (validated).  Errors: invalid growth (NATSIM_ERROR_INVALID_INPUT),
 * a grown scenario that does not validate, or a failed run. */
NatsimPlan *natsim_plan_run (const NatsimScenario *s, const NatsimPlanOptions *opts,
                             GError **error);
void natsim_plan_free (NatsimPlan *p);

/* Plans from captures: analyses @traces (@n paths; idle gaps per class,
 * natsim/analyze.h) for timeout.* and keepalive.interval (basis "trace"),
 * and replays them through a NAT of @nat with inside addresses @inside
 * (natsim/replay.h) for pool.addresses (Erlang B on the measured load with
 * growth, confirmed by replay: basis "erlang-b" or "trace") and
 * pool.ports_per_subscriber (replays with port blocks, basis "trace").
 * Errors: unreadable captures or an invalid configuration
 * (NATSIM_ERROR_INVALID_INPUT). */
NatsimPlan *natsim_plan_run_trace (const NatsimParams *nat, const char *const *traces,
                                   guint n, const NatsimCidrSet *inside,
                                   const NatsimPlanOptions *opts, GError **error);

/* Scales every population's count (and the generic profile's aggregate
 * flows / flows_per_second) by 1 + @growth, rounding counts up. */
gboolean natsim_plan_apply_growth (NatsimScenario *s, double growth, GError **error);

/* A [nat] addresses value with @k addresses: the scenario's own first, then
 * the following ones (newly allocated). */
char *natsim_plan_addresses_value (const NatsimScenario *s, guint k);

/* Blocking of mapping attempts when destination i (share @weights[i] of the
 * attempts, offered load @erlangs[i]) is split evenly over @pools pools of
 * @servers ports each: sum_i w_i B(servers, A_i / pools). */
double natsim_plan_pooled_blocking (const double *erlangs, const double *weights, guint n,
                                    guint servers, guint pools);

/* The smallest multiple of @granularity (at least @granularity) such that
 * the fraction of subscribers whose peak exceeds it, from @peak_hist
 * (double, index = ports, value = subscribers), is below @target; stores
 * that fraction in @ret_fraction (may be NULL). */
guint natsim_plan_block_size (const GArray *peak_hist, guint granularity, double target,
                              double *ret_fraction);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimPlan, natsim_plan_free)

G_END_DECLS
