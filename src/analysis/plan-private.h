/* natsim: the planner's internals, shared by its parts:
 *
 *   plan.c           the driver: options, growth, the measurement, order of
 *                    the steps, the verification and the costs
 *   plan-timeouts.c  timeouts, keepalive and endpoint remedies from idle gaps
 *   plan-blocks.c    per-subscriber port blocks
 *   plan-addresses.c the address count (Erlang B, confirmed by simulation)
 *   plan-trace.c     the same from captures (natsim plan --trace)
 *
 * Every simulation of a plan uses the scenario's own seed and replications,
 * so two runs that differ only in a setting differ only by that setting. */
#pragma once

#include "natsim/plan.h"
#include "natsim/recommend.h"

/* The margin between the last outbound packet of a flow and an inbound one
 * for the inbound one to count as the remote starting traffic (see
 * natsim_usage_new()). */
#define PLAN_REPLY_WINDOW (5 * NATSIM_NSEC_PER_SEC)

/* Simulated address counts tried around the Erlang B answer. */
#define PLAN_MAX_CONFIRM_STEPS 16

/* The figures of one simulated configuration (all its replications). */
typedef struct
{
  double   blocking, blocking_ci95, blocking_upper; /* mapping attempts refused */
  double   binding_losses, binding_losses_ci95;
  double   packets_in;
  double   mean_ports;       /* ports in use (all addresses), time mean after warm-up */
  double   peak_ports;       /* the busiest address's peak ports, max over replications */
  double   fill;             /* peak_ports / ports per address */
  guint    replications;
} PlanFigures;

/* One timeout decision (plan-timeouts.c). */
typedef struct
{
  NatsimTimer timer;
  gboolean    present;   /* the scenario has flows under this timer */
  gboolean    change;    /* value differs from the current setting */
  double      current, value, gap;
  /* Endpoint remedy: the class @remedy_pop refreshes too rarely for the
   * others' timeout; NULL when none. */
  char       *remedy_pop;
  char       *remedy_key;      /* its population key: "register_interval" */
  double      remedy_timeout;  /* the timeout the class alone would need */
  double      remedy_interval; /* the refresh interval recommended to the class */
  double      remedy_gap;      /* the class's longest gap */
  char       *why;             /* the reason, before the measured cost */
} PlanTimeout;

typedef struct
{
  NatsimPlan              *p;
  const NatsimPlanOptions *opts;
  PlanTimeout              timeouts[NATSIM_TIMER_N];
  /* The scenario of the measurement (port blocks lifted). */
  NatsimScenario          *measured;
  /* The scenario with the recommended settings applied so far. */
  NatsimScenario          *applied;
  /* Usage measured with the recommended timeouts (the plan's own, or a
   * second measurement). */
  const NatsimUsageResult *usage;
  guint                    block;        /* recommended block, 0: none applied */
  guint                    addresses;    /* recommended count, 0: none */
  PlanFigures              at_addresses; /* the simulation of @applied with @addresses */
  gboolean                 verified;
  /* @applied with today's timeouts: the baseline of their price. */
  PlanFigures              without;
  gboolean                 have_without;
  guint                    n_changes;    /* timeouts that change */
  /* Figures of the configurations simulated so far, by plan_cache_key(). */
  GHashTable              *cache;
} PlanCtx;

NatsimPlan *plan_new (void);
char *plan_addresses_value (const NatsimParams *nat, guint k);

void plan_add_item (NatsimPlan *p, const char *id, double value, const char *unit,
                    const char *basis, const char *fmt, ...) G_GNUC_PRINTF (6, 7);
void plan_add_note (NatsimPlan *p, const char *id, const char *fmt, ...) G_GNUC_PRINTF (3, 4);
void plan_stage (const NatsimPlanOptions *opts, const char *message);
char *plan_pct (double p);

/* Simulates @c->applied with "GROUP.KEY=VALUE" settings @sets
 * (NULL-terminated, may be NULL) applied, fills @ret and files it in the
 * cache.  With @ret_usage, also measures the demand into it (a new
 * NatsimUsageResult): ports per subscriber and per destination, without
 * the idle gaps (they stay empty). */
gboolean plan_simulate (PlanCtx *c, const char *const *sets, PlanFigures *ret,
                        NatsimUsageResult **ret_usage, GError **error);

/* The settings of @s that differ from @grown (simulation, nat and
 * population keys), sorted, one a line: equal keys mean the same
 * configuration with the same seeds, hence the same figures. */
char *plan_cache_key (const NatsimScenario *grown, const NatsimScenario *s);

/* One configuration for plan_simulate_batch(): @c->applied with @sets. */
typedef struct
{
  const char *const *sets;  /* NULL-terminated, may be NULL */
  const char        *stage; /* what it is, for the progress */
  PlanFigures       *ret;   /* NULL: simulated ahead of need, into the cache only */
} PlanJob;

/* Simulates the configurations of @jobs not simulated before (each once,
 * by plan_cache_key()) as one set of units, the replications of the first
 * first, announced as one stage; fills each job's @ret.  A job with @ret
 * NULL is a configuration the plan will probably ask for next: running it
 * with the others keeps both cores busy while the slower replication of
 * another finishes, and its figures wait in the cache. */
gboolean plan_simulate_batch (PlanCtx *c, const PlanJob *jobs, guint n, GError **error);

/* plan_simulate() of @c->applied with @sets (no usage tracker), announced
 * as @stage, or the figures of an earlier simulation of the same
 * configuration (no stage then: nothing runs). */
gboolean plan_simulate_cached (PlanCtx *c, const char *const *sets, const char *stage,
                               PlanFigures *ret, GError **error);

/* Erlang B(servers, erlangs), stopping once it is negligible. */
double plan_erlang_b (guint servers, double erlangs);

/* The ports of one public address a mapping can choose from. */
guint plan_pool_servers (const NatsimParams *nat);

/* The address selection of @nat: "hash" when the engine has no choice. */
const char *plan_address_selection (const NatsimParams *nat);

void plan_timeouts_decide (PlanCtx *c);
void plan_timeouts_clear (PlanCtx *c);
/* The timeout, keepalive and remedy recommendations, with their measured
 * costs (simulations at the recommended address count). */
gboolean plan_timeouts_report (PlanCtx *c, GError **error);
/* Whether plan_timeouts_report() prices a timeout change (the simulation
 * of the recommended pool with today's timeouts), and the settings of that
 * simulation over @c->applied (appended to @sets, "nat.KEY=VALUE"). */
gboolean plan_timeouts_priced (const PlanCtx *c);
void plan_timeouts_current_sets (const PlanCtx *c, GPtrArray *sets);

void plan_block (PlanCtx *c);

/* Erlang B's fewest addresses (0: none up to NATSIM_NAT_MAX_ADDRESSES)
 * when subscribers hold blocks of @block ports, from the measured
 * subscriber-seconds at each port count of @u (plan-addresses.c); the
 * offered blocks (erlang) go to @ret_erlangs (may be NULL). */
guint plan_block_addresses (const NatsimScenario *s, const NatsimUsageResult *u, guint block,
                            double target, double *ret_erlangs);
gboolean plan_addresses (PlanCtx *c, GError **error);
