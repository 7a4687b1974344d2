/* natsim: recommendations and the timeout rules they share.
 *
 * One recommendation type for every command that advises (natsim check,
 * simulate, plan, analyze) and for report.json "recommendations"
 * (docs/report.md), and one rule turning a refresh gap into a timeout, so
 * that the commands never disagree about the same gap. */
#pragma once

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

typedef struct
{
  char  *id;     /* "pool.addresses", "timeout.udp", ... (docs/report.md) */
  double value;  /* NAN: no value meets the target; the reason says why */
  char  *unit;
  char  *reason;
  char  *basis;  /* "simulation", "erlang-b", "trace", "arithmetic" */
} NatsimRecommendation;

/* Frees the strings of @r (not @r itself). */
void natsim_recommendation_clear (NatsimRecommendation *r);

/* An empty GArray of NatsimRecommendation that clears its elements. */
GArray *natsim_recommendations_new (void);

/* Appends a recommendation to @recs; the reason is formatted from @fmt. */
void natsim_recommendations_add (GArray *recs, const char *id, double value,
                                 const char *unit, const char *basis,
                                 const char *fmt, ...) G_GNUC_PRINTF (6, 7);

/* Appends copies of every recommendation of @from to @into. */
void natsim_recommendations_extend (GArray *into, const GArray *from);

/* The first recommendation @id of @recs, or NULL. */
const NatsimRecommendation *natsim_recommendations_find (const GArray *recs,
                                                         const char *id);

/* The timers natsim advises on, with their RFC minimums. */
typedef enum
{
  NATSIM_TIMER_UDP,             /* nat.udp_timeout */
  NATSIM_TIMER_UDP_STREAM,      /* nat.udp_stream_timeout */
  NATSIM_TIMER_TCP_ESTABLISHED, /* nat.tcp_established_timeout */
  NATSIM_TIMER_N
} NatsimTimer;

typedef struct
{
  const char *id;      /* recommendation id: "timeout.udp" */
  const char *key;     /* [nat] key: "udp_timeout" */
  double      rfc_min; /* seconds */
  const char *rfc;     /* "RFC 4787 REQ-5" */
} NatsimTimerInfo;

const NatsimTimerInfo *natsim_timer_info (NatsimTimer t);

/* The one timeout-from-gap rule: the shortest idle timeout that keeps a
 * binding across an idle gap of @gap_s seconds, with a margin for delay
 * and scheduling jitter of 10 % of the gap (at least 5 s), rounded up to
 * a whole second.  Used by natsim check (the profiles' longest refresh
 * gap), natsim plan (the longest measured gap, or its 1 - target_loss
 * quantile) and natsim analyze (the longest refresh gap of a capture). */
double natsim_timeout_for_gap (double gap_s);

/* The same, then raised to the RFC minimum of @t unless @allow_below_rfc
 * (RFC 4787 REQ-5, RFC 5382 REQ-5); NAN stays NAN. */
double natsim_timeout_recommend (NatsimTimer t, double gap_s, bool allow_below_rfc);

/* The text of the rule, for reasons: a printf format fragment ("%%"). */
#define NATSIM_TIMEOUT_RULE_TEXT "a margin of 10 %% of the gap (at least 5 s), rounded up to a whole second"

/* The keepalive interval that refreshes a binding of timeout @timeout_s:
 * RFC 5626 randomises keepalives between 80 and 100 % of the interval,
 * so 80 % of the timeout (rounded down to a millisecond). */
double natsim_keepalive_for_timeout (double timeout_s);

/* What natsim plan measured with all its recommendations applied together
 * (report.json "verification", docs/report.md). */
typedef struct
{
  GPtrArray *settings;          /* char*: "nat.addresses=...", "nat.udp_timeout=120s", ... */
  guint      replications;      /* the scenario's own seeds */
  double     blocking;          /* mean blocking probability */
  double     blocking_ci95;     /* 95 % half-width, 0 with one replication */
  double     target_blocking;
  double     binding_losses;    /* mean per replication */
  double     binding_losses_ci95;
  double     packets_in;        /* mean inbound packets offered per replication */
  double     target_loss;       /* fraction of inbound packets */
  double     busiest_fill;      /* the busiest address's peak ports / ports per address */
  gboolean   blocking_ok;       /* upper end of the blocking CI below the target */
  gboolean   losses_ok;         /* binding losses within the target (see plan) */
  char      *summary;           /* "With these settings: blocking ..." */
} NatsimVerification;

NatsimVerification *natsim_verification_new (void);
void natsim_verification_free (NatsimVerification *v);
NatsimVerification *natsim_verification_copy (const NatsimVerification *v);

/* Withholds from @recs what @v shows failing: without blocking_ok the
 * pool.* recommendations, without losses_ok the timeout.* ones, get no
 * value (NAN) and a reason saying what the verification measured.  A
 * recommendation that fails its target is never given. */
void natsim_recommendations_apply_verification (GArray *recs, const NatsimVerification *v);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimVerification, natsim_verification_free)

G_END_DECLS
