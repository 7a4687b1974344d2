/* natsim: declarative configuration keys.
 *
 * Every configurable group ([simulation], [nat], each population profile)
 * publishes a table of NatsimKeySpec.  One loader (src/scenario) validates
 * any group against its table, so unknown keys, did-you-mean suggestions,
 * type errors and bounds are handled in one place, and `natsim presets` /
 * `natsim profiles` print the same tables users configure.
 *
 * NatsimParams holds the effective value of each key of one table as its
 * validated string (with where it came from), so a report can echo the
 * configuration exactly and --set / sweeps work on strings.  The typed
 * getters re-parse a value that is already known to be valid.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "natsim/parse.h"
#include "natsim/time.h"

G_BEGIN_DECLS

typedef enum
{
  NATSIM_KEY_STRING,
  NATSIM_KEY_ENUM,           /* one of spec->choices */
  NATSIM_KEY_BOOL,
  NATSIM_KEY_UINT,           /* bounded by min/max */
  NATSIM_KEY_DOUBLE,         /* bounded by min/max */
  NATSIM_KEY_DURATION,       /* bounded by min/max, in seconds */
  NATSIM_KEY_DURATION_RANGE, /* "a..b", bounded by min/max, in seconds */
  NATSIM_KEY_PORT_RANGE,
  NATSIM_KEY_ADDRESSES,      /* list/range/CIDR, at most max addresses */
  NATSIM_KEY_ENDPOINTS,      /* list of ip:port, at most max */
  NATSIM_KEY_DISTRIBUTION,   /* exponential(...), ... */
  NATSIM_KEY_DURATION_LIST,  /* "4s, 7s, 1m": at most max items, each <= 10 years; may be empty */
} NatsimKeyType;

typedef struct
{
  const char         *name;
  NatsimKeyType       type;
  const char         *default_value; /* NULL: the key is required */
  const char         *help;          /* one line, for check/profiles/presets */
  double              min, max;      /* bounds; both 0 means unbounded; else
                                        min is a lower bound and max, when
                                        not 0, an upper bound */
  const char *const  *choices;       /* NATSIM_KEY_ENUM, NULL-terminated */
} NatsimKeySpec;

/* Tables end with an entry whose name is NULL. */
const NatsimKeySpec *natsim_key_lookup (const NatsimKeySpec *specs,
                                        const char *name);

/* The closest key name (edit distance <= 2, or a prefix), or NULL. */
const char *natsim_key_suggest (const NatsimKeySpec *specs, const char *name);

/* Levenshtein distance between two strings (bytes). */
guint natsim_edit_distance (const char *a, const char *b);

/* The closest of @names to @name, by the rule of natsim_key_suggest():
 * the smallest edit distance if it is <= 2 (and shorter than @name), else
 * the first name that @name is a prefix of, or that is a prefix of @name
 * (names of 3 characters or more); NULL if none. */
const char *natsim_name_suggest (const char *const *names, gsize n_names,
                                 const char *name);

/* "a, b, c": the key names of a table (newly allocated). */
char *natsim_key_names (const NatsimKeySpec *specs);

/* Describes the expected form of a key, e.g. "a duration such as 30s or 2m
 * between 1s and 10d" (newly allocated). */
char *natsim_key_describe (const NatsimKeySpec *spec);

/* Checks @value against @spec; the error says what was expected and what
 * was given, without the place (the caller prefixes it). */
gboolean natsim_key_validate (const NatsimKeySpec *spec, const char *value,
                              GError **error);

typedef struct NatsimParams NatsimParams;

/* A parameter set for @specs (borrowed: tables are static) with every
 * default filled in (origin "default"); required keys are unset. */
NatsimParams *natsim_params_new (const NatsimKeySpec *specs);
NatsimParams *natsim_params_copy (const NatsimParams *p);
void natsim_params_free (NatsimParams *p);

const NatsimKeySpec *natsim_params_specs (const NatsimParams *p);

/* Validates and sets; @origin says where the value came from ("file.ini:12",
 * "--set", "preset linux").  Unknown keys and invalid values fail (no place
 * prefix: the caller adds it). */
gboolean natsim_params_set (NatsimParams *p, const char *key,
                            const char *value, const char *origin,
                            GError **error);

/* The value string, or NULL if unset. */
const char *natsim_params_get (const NatsimParams *p, const char *key);
const char *natsim_params_origin (const NatsimParams *p, const char *key);

/* The first required key that has no value, or NULL when all are set. */
const char *natsim_params_missing (const NatsimParams *p);

/* Typed getters: the key must exist in the table and hold a valid value
 * (programming error otherwise). */
bool        natsim_params_get_bool (const NatsimParams *p, const char *key);
uint64_t    natsim_params_get_uint (const NatsimParams *p, const char *key);
double      natsim_params_get_double (const NatsimParams *p, const char *key);
NatsimTime  natsim_params_get_duration (const NatsimParams *p, const char *key);
void        natsim_params_get_duration_range (const NatsimParams *p,
                                              const char *key,
                                              NatsimTime *ret_lo,
                                              NatsimTime *ret_hi);
void        natsim_params_get_port_range (const NatsimParams *p,
                                          const char *key, uint16_t *ret_lo,
                                          uint16_t *ret_hi);
/* Index of the value within spec->choices. */
guint       natsim_params_get_enum (const NatsimParams *p, const char *key);
GArray     *natsim_params_get_addresses (const NatsimParams *p,
                                         const char *key); /* uint32_t, new */
GArray     *natsim_params_get_endpoints (const NatsimParams *p,
                                         const char *key); /* NatsimEndpoint, new */
GArray     *natsim_params_get_duration_list (const NatsimParams *p,
                                             const char *key); /* NatsimTime, new */
void        natsim_params_get_dist (const NatsimParams *p, const char *key,
                                    NatsimDist *ret);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimParams, natsim_params_free)

G_END_DECLS
