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
#include "natsim/scenario.h"

G_BEGIN_DECLS

typedef void (*NatsimProgressFunc) (guint done, guint total, void *user_data);

typedef struct
{
  guint              jobs;      /* worker threads, >= 1 */
  FILE              *events;    /* narration of replication 0, or NULL */
  NatsimProgressFunc progress;  /* called on the calling thread, may be NULL */
  void              *progress_data;
} NatsimSimOptions;

/* Runs replication @replication of @s (validated). */
NatsimRunResult *natsim_simulate_replication (const NatsimScenario *s,
                                              guint replication, FILE *events,
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

G_END_DECLS
