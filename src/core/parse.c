/* natsim: strict parsers for the value types of scenarios and --set.
 *
 * The scalar parsers work on spans of the caller's string and allocate
 * nothing; only the list parsers return new arrays.  Every failure sets
 * NATSIM_ERROR_INVALID_INPUT with a message that says what was expected and
 * quotes what was given ("expected ..., got '...'"); the caller prefixes the
 * place (file, line, group, key).
 */
#include "natsim/parse.h"

#include <gsl/gsl_randist.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "natsim/error.h"

#define DURATION_EXAMPLES "250ms, 30s, 2m or 1h30m"
#define DIST_EXAMPLES \
  "30s, fixed(30s), exponential(180s), uniform(1s,5s) or lognormal(120s,0.8)"
#define ADDRESS_FORMS "an IPv4 address, a range (a-b) or a CIDR block (a/len)"

/* ---------------------------------------------------------------------- */
/* Spans */

static void
span_trim (const char **p, const char **end)
{
  while (*p < *end && g_ascii_isspace (**p))
    (*p)++;
  while (*end > *p && g_ascii_isspace ((*end)[-1]))
    (*end)--;
}

static const char *
span_find (const char *p, const char *end, char c)
{
  for (; p < end; p++)
    if (*p == c)
      return p;
  return NULL;
}

/* Unsigned decimal, digits only (no sign, no spaces: the caller trims). */
static gboolean
span_uint (const char *p, const char *end, uint64_t max, uint64_t *ret)
{
  uint64_t v = 0;

  if (p == end)
    return FALSE;
  for (; p < end; p++)
    {
      unsigned d;

      if (!g_ascii_isdigit (*p))
        return FALSE;
      d = (unsigned) (*p - '0');
      /* v * 10 + d <= max; d > max first, or max - d wraps around (a
       * single digit above a bound below 10 was accepted). */
      if (d > max || v > (max - d) / 10)
        return FALSE;
      v = v * 10 + d;
    }
  *ret = v;
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* Durations */

typedef enum
{
  DUR_OK,
  DUR_SYNTAX,
  DUR_NEGATIVE,
  DUR_TOO_LONG,
} DurStatus;

/* In decreasing order: a duration's units must appear in this order, each
 * at most once ("1h30m", not "30m1h" or "1m1m"). */
static const struct
{
  const char *name;
  NatsimTime  ns;
} duration_units[] = {
  { "d", UINT64_C (86400) * NATSIM_NSEC_PER_SEC },
  { "h", UINT64_C (3600) * NATSIM_NSEC_PER_SEC },
  { "m", UINT64_C (60) * NATSIM_NSEC_PER_SEC },
  { "s", NATSIM_NSEC_PER_SEC },
  { "ms", NATSIM_NSEC_PER_MSEC },
  { "us", NATSIM_NSEC_PER_USEC },
  { "ns", 1 },
};

#define UNIT_SECONDS 3

static int
duration_unit_lookup (const char *p, size_t len)
{
  for (guint i = 0; i < G_N_ELEMENTS (duration_units); i++)
    if (strlen (duration_units[i].name) == len
        && memcmp (duration_units[i].name, p, len) == 0)
      return (int) i;
  return -1;
}

/* A sequence of NUMBER UNIT components in decreasing unit order, or one
 * plain NUMBER (seconds).  NUMBER is DIGITS or DIGITS.DIGITS; fractions
 * are rounded to the nanosecond. */
static DurStatus
span_duration (const char *p, const char *end, NatsimTime *ret)
{
  NatsimTime total = 0;
  int last_unit = -1;

  span_trim (&p, &end);
  if (p == end)
    return DUR_SYNTAX;
  if (*p == '-' && p + 1 < end
      && (g_ascii_isdigit (p[1]) || p[1] == '.'))
    return DUR_NEGATIVE;

  while (p < end)
    {
      uint64_t ip = 0, num = 0, den = 1;
      gboolean huge = FALSE;
      const char *u;
      int unit;
      NatsimTime unit_ns, v, frac_ns = 0;

      if (!g_ascii_isdigit (*p))
        return DUR_SYNTAX;
      for (; p < end && g_ascii_isdigit (*p); p++)
        {
          unsigned d = (unsigned) (*p - '0');

          if (ip > (UINT64_MAX - d) / 10)
            huge = TRUE;
          else
            ip = ip * 10 + d;
        }
      if (p < end && *p == '.')
        {
          p++;
          if (p == end || !g_ascii_isdigit (*p))
            return DUR_SYNTAX;
          for (; p < end && g_ascii_isdigit (*p); p++)
            if (den < UINT64_C (1000000000000000000))
              {
                num = num * 10 + (uint64_t) (*p - '0');
                den *= 10;
              }
        }

      u = p;
      while (p < end && g_ascii_isalpha (*p))
        p++;
      if (u == p)
        {
          /* A plain number means seconds, and must stand alone. */
          if (last_unit >= 0 || p != end)
            return DUR_SYNTAX;
          unit = UNIT_SECONDS;
        }
      else
        {
          unit = duration_unit_lookup (u, (size_t) (p - u));
          if (unit < 0 || unit <= last_unit)
            return DUR_SYNTAX;
        }
      last_unit = unit;
      unit_ns = duration_units[unit].ns;

      if (huge || ip > NATSIM_DURATION_MAX / unit_ns)
        return DUR_TOO_LONG;
      if (num > 0)
        frac_ns = (NatsimTime) llround ((double) num / (double) den
                                        * (double) unit_ns);
      v = ip * unit_ns + frac_ns;
      if (v > NATSIM_DURATION_MAX - total)
        return DUR_TOO_LONG;
      total += v;
    }

  *ret = total;
  return DUR_OK;
}

static void
set_duration_error (GError **error, DurStatus st, const char *what)
{
  switch (st)
    {
    case DUR_NEGATIVE:
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "expected a non-negative duration such as "
                   DURATION_EXAMPLES ", got '%s'", what);
      break;
    case DUR_TOO_LONG:
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "expected a duration of at most 10 years, got '%s'", what);
      break;
    case DUR_SYNTAX:
    case DUR_OK:
    default:
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "expected a duration such as " DURATION_EXAMPLES
                   ", got '%s'", what);
      break;
    }
}

gboolean
natsim_parse_duration (const char *s, NatsimTime *ret, GError **error)
{
  NatsimTime v;
  DurStatus st;

  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  st = span_duration (s, s + strlen (s), &v);
  if (st != DUR_OK)
    {
      set_duration_error (error, st, s);
      return FALSE;
    }
  if (ret)
    *ret = v;
  return TRUE;
}

gboolean
natsim_parse_duration_range (const char *s, NatsimTime *ret_lo,
                             NatsimTime *ret_hi, GError **error)
{
  const char *end, *dots;
  NatsimTime lo, hi;
  DurStatus st;

  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  end = s + strlen (s);
  dots = strstr (s, "..");
  if (dots == NULL)
    {
      st = span_duration (s, end, &lo);
      if (st != DUR_OK)
        {
          set_duration_error (error, st, s);
          return FALSE;
        }
      hi = lo;
    }
  else
    {
      st = span_duration (s, dots, &lo);
      if (st == DUR_OK)
        st = span_duration (dots + 2, end, &hi);
      if (st == DUR_NEGATIVE || st == DUR_TOO_LONG)
        {
          set_duration_error (error, st, s);
          return FALSE;
        }
      if (st != DUR_OK)
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "expected a duration such as 30s or a range such as "
                       "60s..120s, got '%s'", s);
          return FALSE;
        }
      if (lo > hi)
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "expected a duration range LOW..HIGH with LOW <= HIGH, "
                       "got '%s'", s);
          return FALSE;
        }
    }

  if (ret_lo)
    *ret_lo = lo;
  if (ret_hi)
    *ret_hi = hi;
  return TRUE;
}

void
natsim_format_duration (NatsimTime t, char *buf, size_t size)
{
  /* 213503d23h59m59s999ms999us999ns is the longest: 32 bytes. */
  char tmp[64];
  size_t n = 0;

  g_return_if_fail (buf != NULL && size > 0);

  if (t == 0)
    {
      g_strlcpy (buf, "0s", size);
      return;
    }
  tmp[0] = '\0';
  for (guint i = 0; i < G_N_ELEMENTS (duration_units); i++)
    {
      uint64_t q = t / duration_units[i].ns;

      if (q == 0)
        continue;
      t -= q * duration_units[i].ns;
      n += (size_t) snprintf (tmp + n, sizeof tmp - n, "%" PRIu64 "%s", q,
                              duration_units[i].name);
    }
  g_strlcpy (buf, tmp, size);
}

/* ---------------------------------------------------------------------- */
/* Ports and addresses */

static gboolean
span_port_range (const char *p, const char *end, uint16_t *ret_lo,
                 uint16_t *ret_hi)
{
  const char *dash;
  uint64_t lo, hi;

  span_trim (&p, &end);
  dash = span_find (p, end, '-');
  if (dash == NULL)
    {
      if (!span_uint (p, end, 65535, &lo))
        return FALSE;
      hi = lo;
    }
  else
    {
      const char *a = p, *a_end = dash, *b = dash + 1, *b_end = end;

      span_trim (&a, &a_end);
      span_trim (&b, &b_end);
      if (!span_uint (a, a_end, 65535, &lo) || !span_uint (b, b_end, 65535, &hi))
        return FALSE;
    }
  if (lo < 1 || lo > hi)
    return FALSE;
  *ret_lo = (uint16_t) lo;
  *ret_hi = (uint16_t) hi;
  return TRUE;
}

gboolean
natsim_parse_port_range (const char *s, uint16_t *ret_lo, uint16_t *ret_hi,
                         GError **error)
{
  uint16_t lo, hi;

  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!span_port_range (s, s + strlen (s), &lo, &hi))
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "expected a port range such as 1024-65535 or a single port, "
                   "with 1 <= LOW <= HIGH <= 65535, got '%s'", s);
      return FALSE;
    }
  if (ret_lo)
    *ret_lo = lo;
  if (ret_hi)
    *ret_hi = hi;
  return TRUE;
}

/* Four decimal octets 0..255.  Leading zeros are refused ("01.2.3.4"):
 * inet_aton() would read them as octal, so they are ambiguous. */
static gboolean
span_ipv4 (const char *p, const char *end, uint32_t *ret)
{
  uint32_t addr = 0;

  span_trim (&p, &end);
  for (int i = 0; i < 4; i++)
    {
      const char *q = p;
      uint64_t octet;

      while (q < end && *q != '.')
        q++;
      if (q - p < 1 || q - p > 3 || (q - p > 1 && *p == '0'))
        return FALSE;
      if (!span_uint (p, q, 255, &octet))
        return FALSE;
      addr = (addr << 8) | (uint32_t) octet;
      if (i < 3)
        {
          if (q == end)
            return FALSE;
          p = q + 1;
        }
      else if (q != end)
        return FALSE;
    }
  *ret = addr;
  return TRUE;
}

gboolean
natsim_parse_ipv4 (const char *s, uint32_t *ret, GError **error)
{
  uint32_t addr;

  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!span_ipv4 (s, s + strlen (s), &addr))
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "expected an IPv4 address such as 203.0.113.1, got '%s'", s);
      return FALSE;
    }
  if (ret)
    *ret = addr;
  return TRUE;
}

void
natsim_format_ipv4 (uint32_t addr, char *buf, size_t size)
{
  g_return_if_fail (buf != NULL && size > 0);

  snprintf (buf, size, "%u.%u.%u.%u", (addr >> 24) & 0xff, (addr >> 16) & 0xff,
            (addr >> 8) & 0xff, addr & 0xff);
}

typedef struct
{
  uint32_t lo, hi;
} AddrInterval;

static int
interval_cmp (const void *a, const void *b)
{
  const AddrInterval *x = a, *y = b;

  return (x->lo > y->lo) - (x->lo < y->lo);
}

static gboolean
address_item_syntax_error (const char *p, const char *end, GError **error)
{
  g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
               "expected " ADDRESS_FORMS ", got '%.*s'", (int) (end - p), p);
  return FALSE;
}

/* One item of an address list: "a", "a-b" or "a/len". */
static gboolean
span_address_item (const char *p, const char *end, AddrInterval *ret,
                   GError **error)
{
  const char *slash, *dash;

  span_trim (&p, &end);
  slash = span_find (p, end, '/');
  dash = span_find (p, end, '-');
  if (slash != NULL)
    {
      uint32_t net, mask;
      uint64_t len;
      const char *l = slash + 1, *l_end = end;

      span_trim (&l, &l_end);
      if (!span_ipv4 (p, slash, &net) || !span_uint (l, l_end, 32, &len))
        return address_item_syntax_error (p, end, error);
      mask = len == 0 ? 0 : ~UINT32_C (0) << (32 - len);
      if ((net & ~mask) != 0)
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "expected a CIDR block with no host bits set "
                       "(such as 203.0.113.0/24), got '%.*s'",
                       (int) (end - p), p);
          return FALSE;
        }
      ret->lo = net;
      ret->hi = net | ~mask;
      return TRUE;
    }
  if (dash != NULL)
    {
      uint32_t a, b;

      if (!span_ipv4 (p, dash, &a) || !span_ipv4 (dash + 1, end, &b))
        return address_item_syntax_error (p, end, error);
      if (a > b)
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "expected an address range FIRST-LAST with FIRST <= "
                       "LAST, got '%.*s'", (int) (end - p), p);
          return FALSE;
        }
      ret->lo = a;
      ret->hi = b;
      return TRUE;
    }
  if (!span_ipv4 (p, end, &ret->lo))
    return address_item_syntax_error (p, end, error);
  ret->hi = ret->lo;
  return TRUE;
}

GArray *
natsim_parse_address_list (const char *s, guint max_count, GError **error)
{
  g_autoptr (GArray) items = NULL;
  g_autoptr (GArray) sorted = NULL;
  GArray *addrs;
  const char *p, *end;
  uint64_t total = 0;
  char a[16];

  g_return_val_if_fail (s != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (max_count == 0)
    max_count = NATSIM_ADDRESS_LIST_MAX;

  p = s;
  end = s + strlen (s);
  span_trim (&p, &end);
  if (p == end)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "expected at least one address (" ADDRESS_FORMS
                   ", comma-separated), got '%s'", s);
      return NULL;
    }

  /* First the intervals and their total size, so that "0.0.0.0/0" is
   * refused before anything is expanded. */
  items = g_array_new (FALSE, FALSE, sizeof (AddrInterval));
  while (p <= end)
    {
      const char *comma = span_find (p, end, ',');
      const char *item_end = comma ? comma : end;
      AddrInterval iv;

      if (!span_address_item (p, item_end, &iv, error))
        return NULL;
      g_array_append_val (items, iv);
      total += (uint64_t) (iv.hi - iv.lo) + 1;
      if (comma == NULL)
        break;
      p = comma + 1;
    }
  if (total > max_count)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "expected at most %u addresses, got %" PRIu64 " in '%s'",
                   max_count, total, s);
      return NULL;
    }

  /* Duplicates: sort the intervals, any overlap is one. O(k log k) in the
   * number of items, independent of how many addresses they hold. */
  sorted = g_array_sized_new (FALSE, FALSE, sizeof (AddrInterval), items->len);
  g_array_append_vals (sorted, items->data, items->len);
  g_array_sort (sorted, interval_cmp);
  for (guint i = 1; i < sorted->len; i++)
    {
      const AddrInterval *prev = &g_array_index (sorted, AddrInterval, i - 1);
      const AddrInterval *cur = &g_array_index (sorted, AddrInterval, i);

      if (cur->lo <= prev->hi)
        {
          natsim_format_ipv4 (cur->lo, a, sizeof a);
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "expected distinct addresses, got %s more than once "
                       "in '%s'", a, s);
          return NULL;
        }
    }

  addrs = g_array_sized_new (FALSE, FALSE, sizeof (uint32_t), (guint) total);
  for (guint i = 0; i < items->len; i++)
    {
      const AddrInterval *iv = &g_array_index (items, AddrInterval, i);
      uint32_t x = iv->lo;

      for (;;)
        {
          g_array_append_val (addrs, x);
          if (x == iv->hi)
            break;
          x++;
        }
    }
  return addrs;
}

static int
u64_cmp (const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

  return (x > y) - (x < y);
}

GArray *
natsim_parse_endpoint_list (const char *s, guint max_count, GError **error)
{
  g_autoptr (GArray) eps = NULL;
  g_autoptr (GArray) keys = NULL;
  const char *p, *end;

  g_return_val_if_fail (s != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (max_count == 0)
    max_count = NATSIM_ADDRESS_LIST_MAX;

  p = s;
  end = s + strlen (s);
  span_trim (&p, &end);
  if (p == end)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "expected at least one endpoint such as "
                   "203.0.113.100:5000, got '%s'", s);
      return NULL;
    }

  eps = g_array_new (FALSE, FALSE, sizeof (NatsimEndpoint));
  keys = g_array_new (FALSE, FALSE, sizeof (uint64_t));
  while (p <= end)
    {
      const char *comma = span_find (p, end, ',');
      const char *item = p, *item_end = comma ? comma : end;
      const char *colon, *port, *port_end;
      NatsimEndpoint ep;
      uint64_t v, key;

      span_trim (&item, &item_end);
      colon = span_find (item, item_end, ':');
      port = colon ? colon + 1 : item_end;
      port_end = item_end;
      if (colon == NULL || !span_ipv4 (item, colon, &ep.addr)
          || (span_trim (&port, &port_end), !span_uint (port, port_end, 65535, &v))
          || v == 0)
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "expected an endpoint ADDRESS:PORT such as "
                       "203.0.113.100:5000 (port 1 to 65535), got '%.*s'",
                       (int) (item_end - item), item);
          return NULL;
        }
      ep.port = (uint16_t) v;
      if (eps->len >= max_count)
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "expected at most %u endpoints, got more in '%s'",
                       max_count, s);
          return NULL;
        }
      g_array_append_val (eps, ep);
      key = ((uint64_t) ep.addr << 16) | ep.port;
      g_array_append_val (keys, key);
      if (comma == NULL)
        break;
      p = comma + 1;
    }

  g_array_sort (keys, u64_cmp);
  for (guint i = 1; i < keys->len; i++)
    if (g_array_index (keys, uint64_t, i) == g_array_index (keys, uint64_t, i - 1))
      {
        uint64_t key = g_array_index (keys, uint64_t, i);
        char a[16];

        natsim_format_ipv4 ((uint32_t) (key >> 16), a, sizeof a);
        g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                     "expected distinct endpoints, got %s:%u more than once "
                     "in '%s'", a, (unsigned) (key & 0xffff), s);
        return NULL;
      }

  return g_steal_pointer (&eps);
}

/* ---------------------------------------------------------------------- */
/* Scalars */

gboolean
natsim_parse_bool (const char *s, bool *ret, GError **error)
{
  static const char *const yes[] = { "true", "yes", "on", "1" };
  static const char *const no[] = { "false", "no", "off", "0" };
  const char *p, *end;
  size_t len;

  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  p = s;
  end = s + strlen (s);
  span_trim (&p, &end);
  len = (size_t) (end - p);
  for (guint i = 0; i < G_N_ELEMENTS (yes); i++)
    {
      if (strlen (yes[i]) == len && g_ascii_strncasecmp (p, yes[i], len) == 0)
        {
          if (ret)
            *ret = true;
          return TRUE;
        }
      if (strlen (no[i]) == len && g_ascii_strncasecmp (p, no[i], len) == 0)
        {
          if (ret)
            *ret = false;
          return TRUE;
        }
    }
  g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
               "expected true or false (also yes/no, on/off, 1/0), got '%s'", s);
  return FALSE;
}

gboolean
natsim_parse_uint (const char *s, uint64_t max, uint64_t *ret, GError **error)
{
  const char *p, *end;
  uint64_t v;

  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  p = s;
  end = s + strlen (s);
  span_trim (&p, &end);
  if (!span_uint (p, end, max, &v))
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "expected a whole number between 0 and %" PRIu64
                   ", got '%s'", max, s);
      return FALSE;
    }
  if (ret)
    *ret = v;
  return TRUE;
}

/* Decimal notation only: g_ascii_strtod() alone would also take "inf",
 * "nan" and hexadecimal floats. */
static gboolean
span_double (const char *p, const char *end, double *ret)
{
  char tmp[64];
  char *stop = NULL;
  double v;
  size_t len;

  span_trim (&p, &end);
  len = (size_t) (end - p);
  if (len == 0 || len >= sizeof tmp)
    return FALSE;
  for (const char *q = p; q < end; q++)
    if (!g_ascii_isdigit (*q) && *q != '.' && *q != 'e' && *q != 'E'
        && *q != '+' && *q != '-')
      return FALSE;
  memcpy (tmp, p, len);
  tmp[len] = '\0';
  v = g_ascii_strtod (tmp, &stop);
  if (stop != tmp + len || !isfinite (v))
    return FALSE;
  *ret = v;
  return TRUE;
}

gboolean
natsim_parse_double (const char *s, double min, double max, double *ret,
                     GError **error)
{
  double v;

  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!span_double (s, s + strlen (s), &v) || v < min || v > max)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "expected a number between %g and %g, got '%s'", min, max,
                   s);
      return FALSE;
    }
  if (ret)
    *ret = v;
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* Distributions */

#define LOGNORMAL_SIGMA_MAX 5.0

typedef enum
{
  DIST_OK,
  DIST_SYNTAX,
  DIST_EXPONENTIAL_ZERO,
  DIST_UNIFORM_ORDER,
  DIST_LOGNORMAL_ARGS,
} DistStatus;

static gboolean
span_name_is (const char *p, size_t len, const char *name)
{
  return len == strlen (name) && memcmp (p, name, len) == 0;
}

/* NAME(ARGS) or a bare duration. */
static DistStatus
span_dist (const char *p, const char *end, NatsimDist *d)
{
  const char *open, *args, *comma;
  size_t name_len;

  span_trim (&p, &end);
  open = span_find (p, end, '(');
  if (open == NULL)
    {
      /* A bare duration is a fixed value. */
      d->kind = NATSIM_DIST_FIXED;
      return span_duration (p, end, &d->a) == DUR_OK ? DIST_OK : DIST_SYNTAX;
    }
  if (end[-1] != ')')
    return DIST_SYNTAX;

  name_len = (size_t) (open - p);
  while (name_len > 0 && g_ascii_isspace (p[name_len - 1]))
    name_len--;
  args = open + 1;
  end--; /* the ')' */
  comma = span_find (args, end, ',');

  if (span_name_is (p, name_len, "fixed")
      || span_name_is (p, name_len, "exponential"))
    {
      gboolean expo = span_name_is (p, name_len, "exponential");

      if (comma != NULL || span_duration (args, end, &d->a) != DUR_OK)
        return DIST_SYNTAX;
      if (expo && d->a == 0)
        return DIST_EXPONENTIAL_ZERO;
      d->kind = expo ? NATSIM_DIST_EXPONENTIAL : NATSIM_DIST_FIXED;
      return DIST_OK;
    }
  if (comma == NULL || span_find (comma + 1, end, ',') != NULL
      || span_duration (args, comma, &d->a) != DUR_OK)
    return DIST_SYNTAX;
  if (span_name_is (p, name_len, "uniform"))
    {
      if (span_duration (comma + 1, end, &d->b) != DUR_OK)
        return DIST_SYNTAX;
      if (d->a > d->b)
        return DIST_UNIFORM_ORDER;
      d->kind = NATSIM_DIST_UNIFORM;
      return DIST_OK;
    }
  if (span_name_is (p, name_len, "lognormal"))
    {
      if (d->a == 0 || !span_double (comma + 1, end, &d->sigma)
          || !(d->sigma > 0.0) || d->sigma > LOGNORMAL_SIGMA_MAX)
        return DIST_LOGNORMAL_ARGS;
      d->kind = NATSIM_DIST_LOGNORMAL;
      return DIST_OK;
    }
  return DIST_SYNTAX;
}

gboolean
natsim_parse_dist (const char *s, NatsimDist *ret, GError **error)
{
  NatsimDist d = { 0 };

  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  switch (span_dist (s, s + strlen (s), &d))
    {
    case DIST_OK:
      if (ret)
        *ret = d;
      return TRUE;
    case DIST_EXPONENTIAL_ZERO:
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "expected exponential(MEAN) with a mean above 0, got '%s'",
                   s);
      return FALSE;
    case DIST_UNIFORM_ORDER:
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "expected uniform(LOW,HIGH) with LOW <= HIGH, got '%s'", s);
      return FALSE;
    case DIST_LOGNORMAL_ARGS:
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "expected lognormal(MEDIAN,SIGMA) with a median above 0 "
                   "and 0 < SIGMA <= 5, got '%s'", s);
      return FALSE;
    case DIST_SYNTAX:
    default:
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "expected a distribution such as " DIST_EXAMPLES
                   ", got '%s'", s);
      return FALSE;
    }
}

/* Nanoseconds from a double draw, rounded, saturating. */
static NatsimTime
ns_from_double (double x)
{
  if (!(x > 0.0))
    return 0;
  if (x >= 18446744073709549568.0) /* the largest double below 2^64 */
    return NATSIM_TIME_INFINITY;
  return (NatsimTime) (x + 0.5);
}

NatsimTime
natsim_dist_sample (const NatsimDist *d, gsl_rng *rng)
{
  g_return_val_if_fail (d != NULL, 0);

  switch (d->kind)
    {
    case NATSIM_DIST_FIXED:
      return d->a;
    case NATSIM_DIST_EXPONENTIAL:
      return ns_from_double (gsl_ran_exponential (rng, (double) d->a));
    case NATSIM_DIST_UNIFORM:
      {
        /* gsl_rng_uniform() is in [0, 1); the clamp guards the rounding
         * of the product, so the draw is in [a, b]. */
        NatsimTime span = d->b - d->a;
        NatsimTime off = (NatsimTime) (gsl_rng_uniform (rng) * (double) span);

        return d->a + MIN (off, span);
      }
    case NATSIM_DIST_LOGNORMAL:
      return ns_from_double (gsl_ran_lognormal (rng, log ((double) d->a),
                                                d->sigma));
    default:
      g_assert_not_reached ();
    }
  return 0;
}

double
natsim_dist_mean (const NatsimDist *d)
{
  g_return_val_if_fail (d != NULL, 0.0);

  switch (d->kind)
    {
    case NATSIM_DIST_FIXED:
    case NATSIM_DIST_EXPONENTIAL:
      return (double) d->a;
    case NATSIM_DIST_UNIFORM:
      return ((double) d->a + (double) d->b) / 2.0;
    case NATSIM_DIST_LOGNORMAL:
      return (double) d->a * exp (d->sigma * d->sigma / 2.0);
    default:
      g_assert_not_reached ();
    }
  return 0.0;
}
