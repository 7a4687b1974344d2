/* natsim: parsing of the value types used in scenarios and on the command
 * line.  Every parser is strict (trailing garbage, empty strings, negative or
 * out-of-range values are errors) and reports what it expected in @error
 * (NATSIM_ERROR_INVALID_INPUT); the caller prefixes the place (file, group,
 * key).  None of them allocates on success except the list parsers. */
#pragma once

#include <glib.h>
#include <gsl/gsl_rng.h>
#include <stdbool.h>
#include <stdint.h>

#include "natsim/time.h"

G_BEGIN_DECLS

/* Durations: "250ms", "30s", "2m", "1h30m", "1.5s", "7440" (plain seconds).
 * Units: ns, us, ms, s, m, h, d.  At most 10 years. */
gboolean natsim_parse_duration (const char *s, NatsimTime *ret, GError **error);

/* "60s..120s" (lo <= hi) or a single duration (lo == hi). */
gboolean natsim_parse_duration_range (const char *s, NatsimTime *ret_lo,
                                      NatsimTime *ret_hi, GError **error);

/* Writes a canonical duration ("1h30m", "250ms", "0s") into buf. */
void natsim_format_duration (NatsimTime t, char *buf, size_t size);

/* "1024-65535" or a single port "5060"; 1 <= lo <= hi <= 65535. */
gboolean natsim_parse_port_range (const char *s, uint16_t *ret_lo,
                                  uint16_t *ret_hi, GError **error);

/* Dotted-quad IPv4 address, host byte order. */
gboolean natsim_parse_ipv4 (const char *s, uint32_t *ret, GError **error);

/* Writes a dotted quad (host order input) into buf (>= 16 bytes). */
void natsim_format_ipv4 (uint32_t addr, char *buf, size_t size);

/* Comma-separated list of addresses, ranges "a-b" and CIDRs "a/len" into a
 * new GArray of uint32_t (host order), in the order given, duplicates
 * refused.  At most @max_count addresses in all. */
GArray *natsim_parse_address_list (const char *s, guint max_count,
                                   GError **error);

typedef struct
{
  uint32_t addr; /* host order */
  uint16_t port;
} NatsimEndpoint;

/* Comma-separated "a.b.c.d:port" list into a new GArray of NatsimEndpoint. */
GArray *natsim_parse_endpoint_list (const char *s, guint max_count,
                                    GError **error);

/* "true"/"false" (also yes/no, on/off, 1/0). */
gboolean natsim_parse_bool (const char *s, bool *ret, GError **error);

/* Non-negative integer with an upper bound. */
gboolean natsim_parse_uint (const char *s, uint64_t max, uint64_t *ret,
                            GError **error);

/* Finite double within [min, max]. */
gboolean natsim_parse_double (const char *s, double min, double max,
                              double *ret, GError **error);

typedef enum
{
  NATSIM_DIST_FIXED,       /* fixed(x) */
  NATSIM_DIST_EXPONENTIAL, /* exponential(mean) */
  NATSIM_DIST_UNIFORM,     /* uniform(a,b) */
  NATSIM_DIST_LOGNORMAL,   /* lognormal(median,sigma): median a duration, sigma unitless */
} NatsimDistKind;

typedef struct
{
  NatsimDistKind kind;
  NatsimTime     a; /* fixed value, mean, lower bound or median */
  NatsimTime     b; /* upper bound (uniform) */
  double         sigma; /* lognormal shape */
} NatsimDist;

/* "exponential(180s)", "uniform(1s,5s)", "fixed(30s)", "lognormal(120s,0.8)";
 * a bare duration means fixed. */
gboolean natsim_parse_dist (const char *s, NatsimDist *ret, GError **error);

/* One draw, in nanoseconds. */
NatsimTime natsim_dist_sample (const NatsimDist *d, gsl_rng *rng);

/* Mean of the distribution, in nanoseconds. */
double natsim_dist_mean (const NatsimDist *d);

G_END_DECLS
