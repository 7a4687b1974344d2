/* natsim: scenario internals shared between the files of src/scenario. */
#pragma once

#include <glib.h>

#include "natsim/scenario.h"

G_BEGIN_DECLS

/* One "key = value" line as the pre-scan saw it. */
typedef struct
{
  char *key;
  char *value; /* inline comment stripped, trimmed */
  guint line;  /* 1-based */
} ScanKey;

/* One [group] with its keys in file order. */
typedef struct
{
  char      *name; /* normalised: "simulation", "nat", "population NAME" */
  guint      line;
  GPtrArray *keys; /* ScanKey* */
} ScanGroup;

/* The outcome of scenario_scan(): the groups in file order and the text
 * rewritten for GKeyFile (same line numbers; comments, inline comments and
 * surrounding whitespace removed). */
typedef struct
{
  GPtrArray *groups; /* ScanGroup* */
  char      *clean;
  gsize      clean_len;
} ScanResult;

/* Reads the structure of a scenario file: checks that it is UTF-8 text made
 * of [group] headers, key = value lines and comments, that no group and no
 * key within a group appears twice, and records the line of each.  Errors
 * are "NAME:LINE: ...". */
ScanResult *scenario_scan (const char *data, gsize length, const char *name,
                           GError **error);
void scenario_scan_free (ScanResult *r);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScanResult, scenario_scan_free)

/* Groups [population NAME] start with this. */
#define POPULATION_PREFIX "population "

/* One [nat] key as the file or a --set gave it. */
typedef struct
{
  char *key;
  char *value;
  char *origin; /* "FILE:LINE" or "--set" */
} NatAssignment;

/* A new assignment (copies of the strings); free with g_free of each. */
NatAssignment *scenario_nat_assignment_new (const char *key, const char *value,
                                            const char *origin);

/* Rebuilds s->nat: key defaults, then the preset's values (origin
 * "preset NAME"), then every assignment of the file and of --set in order
 * (scenario-set.c).  s is unchanged on failure. */
gboolean scenario_resolve_nat (NatsimScenario *s, GError **error);

/* A group's NAME ([population NAME], [forward NAME]): letters, digits, '-'
 * and '_', not empty. */
gboolean scenario_name_valid (const char *name);

/* Places in messages (scenario-place.c). */

/* Records the place of the error just set in @error, if any (its message
 * names the place too): natsim_error_set_place(). */
void scenario_set_place (GError **error, const char *file, guint line, const char *group,
                         const char *key);

/* The line of an origin "FILE:LINE" of the scenario file, 0 for any other
 * origin (a preset, --set, a default). */
guint scenario_origin_line (const NatsimScenario *s, const char *origin);
gboolean scenario_origin_is_file (const NatsimScenario *s, const char *origin);
/* Prefixes the place of @key of [@group], which came from @origin, and
 * records it in the error. */
void scenario_prefix_key_place (GError **error, const NatsimScenario *s, const char *origin,
                                const char *group, const char *key, const char *value);
/* Same, for the effective value of @key in @params. */
void scenario_prefix_param_place (GError **error, const NatsimScenario *s,
                                  const NatsimParams *params, const char *group,
                                  const char *key);
/* The place of [@group] as a whole, its header at @group_origin (or NULL). */
void scenario_prefix_group_place (GError **error, const NatsimScenario *s, const char *group,
                                  const char *group_origin);
/* An error of a cross-key check about a key of @params
 * (natsim_set_key_error()) is placed where that key was set; any other at
 * [@group]. */
void scenario_prefix_check_place (GError **error, const NatsimScenario *s,
                                  const NatsimParams *params, const char *group,
                                  const char *group_origin);

G_END_DECLS
