/* natsim: running a scenario: replications as independent units of work.
 *
 * A replication depends only on (scenario, seed, replication index): its
 * random streams are derived from those (natsim/rng.h), so replications can
 * run in any order, on any thread, or later on any machine, and the results
 * are identical for any --jobs. */
#pragma once

#include <glib.h>
#include <stdio.h>

#include "natsim/metrics.h"
#include "natsim/recommend.h"
#include "natsim/scenario.h"
#include "natsim/serial.h"

G_BEGIN_DECLS

typedef void (*NatsimProgressFunc) (guint done, guint total, void *user_data);

/* Extra observers of every replication (the planner's usage tracker).
 * All calls for one replication happen on the thread that runs it; keep
 * per-replication results in per-replication slots so that the outcome
 * does not depend on --jobs. */
typedef struct
{
  /* Before the run: returns the replication's observer state. */
  void *(*begin) (const NatsimScenario *s, guint replication, void *user_data);
  /* Every NAT lifecycle event, after the collector has seen it. */
  void (*nat_event) (const NatsimNatEvent *ev, void *state);
  /* Every packet offered to the NAT, with its verdict. */
  void (*packet) (const NatsimPacket *pkt, const NatsimNatResult *res, void *state);
  /* After the run: hands @state back (store its figures, free it). */
  void (*end) (void *state, guint replication, void *user_data);
  /* Runs spread over processes (natsim/runner.h, --mpi): writes the
   * figures end() stored for @replication, and reads them back into their
   * place on every process (replacing what is there).  Without both, a
   * run with these observers is not spread: every process runs every
   * replication. */
  void (*save) (guint replication, GByteArray *out, void *user_data);
  gboolean (*load) (guint replication, NatsimSerialReader *in, void *user_data, GError **error);
} NatsimSimHooks;

typedef struct
{
  guint              jobs;      /* worker threads, >= 1 */
  FILE              *events;    /* narration of replication 0, or NULL */
  NatsimProgressFunc progress;  /* called on the calling thread, may be NULL */
  void              *progress_data;
  /* Progress in simulated time, called a few times a second on the calling
   * thread with the share of all replications' simulated time done (0..1)
   * and the replications finished; replaces @progress when set.  The
   * replications then run on worker threads, --jobs 1 included (results
   * do not depend on it).  @progress_data is passed. */
  void (*time_progress) (double fraction, guint done, guint total, void *user_data);
  const NatsimSimHooks *hooks;  /* may be NULL */
  void              *hooks_data;
} NatsimSimOptions;

/* Runs replication @replication of @s (validated). */
NatsimRunResult *natsim_simulate_replication (const NatsimScenario *s,
                                              guint replication, FILE *events,
                                              GError **error);

/* The same with extra observers (@hooks may be NULL). */
NatsimRunResult *natsim_simulate_replication_observed (const NatsimScenario *s,
                                                       guint replication,
                                                       FILE *events,
                                                       const NatsimSimHooks *hooks,
                                                       void *hooks_data,
                                                       GError **error);

/* Runs every replication of @s; returns a GPtrArray of NatsimRunResult in
 * replication order. */
GPtrArray *natsim_simulate (const NatsimScenario *s,
                            const NatsimSimOptions *opts, GError **error);

/* Names of the classes (populations) of @s, in class order (NULL-terminated,
 * free with g_strfreev). */
char **natsim_scenario_class_names (const NatsimScenario *s);

typedef struct
{
  char *id;
  char *message;
} NatsimCheck;

/* Configuration checks (RFC minimums, ALG, ...): a GPtrArray of NatsimCheck*,
 * in a fixed order. */
GPtrArray *natsim_check_scenario (const NatsimScenario *s);

/* Recommendations from arithmetic on the scenario, basis "arithmetic"
 * (timeouts against the profiles' longest refresh gaps by
 * natsim_timeout_recommend(), keepalive intervals, port demand): a GArray
 * of NatsimRecommendation (natsim/recommend.h), in a fixed order. */
GArray *natsim_check_recommendations (const NatsimScenario *s);

G_END_DECLS
