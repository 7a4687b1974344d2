/* natsim: parameter sweeps (natsim sweep).
 *
 * A sweep runs the Cartesian grid of the values given for some scenario
 * keys.  Every point uses the scenario's seed (common random numbers), so
 * differences between points come from the parameters, not from the
 * random streams.  Every (point, replication) is an independent unit on a
 * GLib thread pool writing only its own slot, so results are identical for
 * any number of jobs. */
#pragma once

#include <glib.h>

#include "natsim/analysis.h"
#include "natsim/scenario.h"
#include "natsim/simulate.h"

G_BEGIN_DECLS

#define NATSIM_SWEEP_SCHEMA "natsim.sweep/1"

/* The most values one --vary may give, and the most grid points. */
#define NATSIM_SWEEP_MAX_VALUES 1000
#define NATSIM_SWEEP_MAX_POINTS 10000

typedef struct
{
  char      *key;    /* "nat.udp_timeout", as for --set */
  GPtrArray *values; /* char*, as applied */
  gboolean   numeric;/* every value is a number or a duration (charts) */
  double    *x;      /* [values->len] numbers (durations in seconds) when numeric */
} NatsimSweepAxis;

/* Parses "KEY=V1,V2,..." (values separated by ';' instead when the text
 * holds one, for values that contain commas) or "KEY=A..B:STEP" (numbers,
 * or durations such as 30s..300s:30s).  Checks the form only. */
NatsimSweepAxis *natsim_sweep_axis_parse (const char *spec, GError **error);
void natsim_sweep_axis_free (NatsimSweepAxis *a);

typedef struct
{
  char          *scenario_path;
  guint64        seed;
  GPtrArray     *axes;      /* NatsimSweepAxis* */
  guint          n_points;
  GPtrArray     *scenarios; /* NatsimScenario* per point, validated */
  GPtrArray     *summaries; /* NatsimSummary* per point, after running */
} NatsimSweep;

/* Builds the grid over @s from the --vary specs: every value of every key
 * is applied and every point validated before anything runs; any failure
 * is NATSIM_ERROR_INVALID_INPUT naming the key and value. */
NatsimSweep *natsim_sweep_new (const NatsimScenario *s, const char *const *specs,
                               GError **error);

/* Runs every point; @progress gets (points done, points) on the calling
 * thread. */
gboolean natsim_sweep_run (NatsimSweep *sw, guint jobs, NatsimProgressFunc progress,
                           void *progress_data, GError **error);

/* The value of axis @axis at point @point. */
const char *natsim_sweep_point_value (const NatsimSweep *sw, guint point, guint axis);

/* Index of axis @axis's value at point @point (the first axis varies
 * slowest). */
guint natsim_sweep_point_index (const NatsimSweep *sw, guint point, guint axis);

void natsim_sweep_free (NatsimSweep *sw);

/* The shortest decimal text that reads back as @v, locale-independent;
 * integral values without a fraction ("3", "0.25", "1e-07"). */
void natsim_format_number (double v, char *buf, gsize size);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimSweep, natsim_sweep_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimSweepAxis, natsim_sweep_axis_free)

G_END_DECLS
