/* natsim: scenario files (GKeyFile), presets and --set overrides.
 *
 * Groups: [simulation], [nat], [population NAME] (one per population, NAME
 * made of letters, digits, '-' and '_').  Every key is validated against its
 * table (natsim_simulation_keys, natsim_nat_keys, the profile's keys);
 * unknown groups and keys are errors with a did-you-mean.  Every error is
 * NATSIM_ERROR_INVALID_INPUT and reads
 *   "FILE:LINE: [group] key: expected ..., got '...'"
 * (LINE where it is known).
 *
 * Effective [nat] values are resolved in this order: key defaults, the
 * preset's values, the file's keys, --set overrides (a --set nat.preset
 * replaces the preset underneath the file's explicit keys).
 */
#pragma once

#include <glib.h>

#include "natsim/model.h"
#include "natsim/nat.h"
#include "natsim/params.h"

G_BEGIN_DECLS

/* [simulation] keys: duration, warmup, seed, replications, timeline_interval. */
extern const NatsimKeySpec natsim_simulation_keys[];

typedef struct
{
  char                *name;    /* the NAME of [population NAME] */
  const NatsimProfile *profile;
  NatsimParams        *params;  /* the profile's keys */
  char                *origin;  /* "FILE:LINE" of its [population NAME] header */
} NatsimPopulationSpec;

/* A [forward NAME] group: a static port forward (docs/nat-model.md). */
typedef struct
{
  char         *name;
  NatsimParams *params; /* natsim_forward_keys */
  char         *origin; /* "FILE:LINE" of its header */
} NatsimForwardSpec;

/* [forward NAME] keys: protocol, public, inside. */
extern const NatsimKeySpec natsim_forward_keys[];

/* Inside hosts of all populations together: 10.0.0.1 to 10.255.255.254. */
#define NATSIM_SCENARIO_MAX_HOSTS ((1u << 24) - 2)

typedef struct
{
  char         *path;        /* as given */
  NatsimParams *simulation;
  NatsimParams *nat;         /* effective, preset applied */
  GPtrArray    *populations; /* NatsimPopulationSpec*, in file order */
  /* private: what the file and --set said of [nat], to re-resolve presets */
  GPtrArray    *nat_assignments;
  GPtrArray    *forwards;    /* NatsimForwardSpec*, in file order */
} NatsimScenario;

/* Loads and validates a scenario file.  Comments: a line whose first
 * non-blank character is '#' or ';'; after a value or a group header, a
 * '#' at its start or after a blank begins a comment to the end of the
 * line.  Duplicate groups and duplicate keys within a group are errors.
 * A missing file is NATSIM_ERROR_INVALID_INPUT, a read failure
 * NATSIM_ERROR_IO. */
NatsimScenario *natsim_scenario_load (const char *path, GError **error);

/* The same from memory; @name stands for the file in messages; @length
 * may be (gsize) -1 for a NUL-terminated @data. */
NatsimScenario *natsim_scenario_load_data (const char *data, gsize length,
                                           const char *name, GError **error);

/* Loads, applies each of @overrides (NULL-terminated, may be NULL) as
 * natsim_scenario_set() does, and only then validates: an override may
 * repair what the file alone would fail (e.g. warmup >= duration). */
NatsimScenario *natsim_scenario_load_with_overrides (const char *path,
                                                     const char *const *overrides,
                                                     GError **error);
NatsimScenario *natsim_scenario_load_data_with_overrides (const char *data,
                                                          gsize length,
                                                          const char *name,
                                                          const char *const *overrides,
                                                          GError **error);

/* The population called @name, or NULL. */
NatsimPopulationSpec *natsim_scenario_find_population (const NatsimScenario *s,
                                                       const char *name);

/* Applies "group.key=value": "nat.udp_timeout=30s",
 * "simulation.seed=3", "population.phones.count=5000".  The key and value
 * are checked at once (errors read "--set ASSIGNMENT: ..."); cross-key
 * checks wait for natsim_scenario_validate().  s is unchanged on failure.
 * A population's profile cannot be overridden. */
gboolean natsim_scenario_set (NatsimScenario *s, const char *assignment,
                              GError **error);

/* Cross-group checks (warmup < duration, at least one population, the
 * nat config builds, inside addresses suffice, ...). */
gboolean natsim_scenario_validate (NatsimScenario *s, GError **error);

/* The NAT config of @s: its [nat] keys and its [forward NAME] groups
 * (checked against the pool).  Clear with natsim_nat_config_clear(). */
gboolean natsim_scenario_nat_config (const NatsimScenario *s, NatsimNatConfig *ret,
                                     GError **error);

/* A deep copy (for sweep points). */
NatsimScenario *natsim_scenario_copy (const NatsimScenario *s);

void natsim_scenario_free (NatsimScenario *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimScenario, natsim_scenario_free)

G_END_DECLS
