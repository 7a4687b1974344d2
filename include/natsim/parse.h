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

/* The longest duration accepted: 10 Julian years (3652d12h). */
#define NATSIM_DURATION_MAX (UINT64_C (315576000) * NATSIM_NSEC_PER_SEC)

/* The most addresses (or endpoints) a list may hold when the caller gives
 * no max_count (0): the size of a /8. */
#define NATSIM_ADDRESS_LIST_MAX (1u << 24)

/* Durations: "250ms", "30s", "2m", "1h30m", "1.5s", "7440" (plain seconds).
 * Units: ns, us, ms, s, m, h, d, each at most once and in that decreasing
 * order ("1h30m", not "30m1h"); a plain number stands alone and means
 * seconds.  Fractions are rounded to the nanosecond.  Whitespace around the
 * value is ignored, inside it refused.  At most NATSIM_DURATION_MAX. */
gboolean natsim_parse_duration (const char *s, NatsimTime *ret, GError **error);

/* "60s..120s" (lo <= hi) or a single duration (lo == hi). */
gboolean natsim_parse_duration_range (const char *s, NatsimTime *ret_lo,
                                      NatsimTime *ret_hi, GError **error);

/* Writes a canonical duration ("1h30m", "250ms", "0s", "1s500ms": every
 * non-zero unit from d down to ns) into buf (32 bytes suffice).  The
 * result parses back to @t. */
void natsim_format_duration (NatsimTime t, char *buf, size_t size);

/* "1024-65535" or a single port "5060"; 1 <= lo <= hi <= 65535. */
gboolean natsim_parse_port_range (const char *s, uint16_t *ret_lo,
                                  uint16_t *ret_hi, GError **error);

/* Dotted-quad IPv4 address, host byte order.  Octets are decimal 0..255
 * without leading zeros ("01.2.3.4" is refused: inet_aton reads it as
 * octal). */
gboolean natsim_parse_ipv4 (const char *s, uint32_t *ret, GError **error);

/* Writes a dotted quad (host order input) into buf (>= 16 bytes). */
void natsim_format_ipv4 (uint32_t addr, char *buf, size_t size);

/* Comma-separated list of addresses, ranges "a-b" (a <= b) and CIDRs
 * "a/len" (0 <= len <= 32, no host bits set) into a new GArray of uint32_t
 * (host order), in the order given, duplicates (overlaps) refused.  A CIDR
 * block stands for every address in it, network and broadcast addresses
 * included (a NAT pool is not a LAN).  At most @max_count addresses in all
 * (0: NATSIM_ADDRESS_LIST_MAX); the size is checked before anything is
 * expanded.  An empty list is refused. */
GArray *natsim_parse_address_list (const char *s, guint max_count,
                                   GError **error);

typedef struct
{
  uint32_t addr; /* host order */
  uint16_t port;
} NatsimEndpoint;

/* Comma-separated "a.b.c.d:port" list (port 1..65535) into a new GArray of
 * NatsimEndpoint, in the order given, duplicates refused, at most
 * @max_count (0: NATSIM_ADDRESS_LIST_MAX).  An empty list is refused. */
GArray *natsim_parse_endpoint_list (const char *s, guint max_count,
                                    GError **error);

/* "true"/"false" (also yes/no, on/off, 1/0; case-insensitive). */
gboolean natsim_parse_bool (const char *s, bool *ret, GError **error);

/* Non-negative decimal integer (digits only) with an upper bound. */
gboolean natsim_parse_uint (const char *s, uint64_t max, uint64_t *ret,
                            GError **error);

/* Finite double within [min, max], decimal notation ("1.5", "2e-3"; no
 * "inf", "nan" or hexadecimal). */
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
 * a bare duration means fixed.  exponential needs a mean > 0, uniform
 * LOW <= HIGH, lognormal a median > 0 and 0 < sigma <= 5. */
gboolean natsim_parse_dist (const char *s, NatsimDist *ret, GError **error);

/* One draw, in nanoseconds, rounded and saturating (uniform draws lie in
 * [a, b]; lognormal is exp(N(ln(median in ns), sigma))). */
NatsimTime natsim_dist_sample (const NatsimDist *d, gsl_rng *rng);

/* Mean of the distribution, in nanoseconds. */
double natsim_dist_mean (const NatsimDist *d);

G_END_DECLS
