/* natsim: declarative configuration keys and parameter sets.
 *
 * A NatsimParams is one value string (and its origin) per entry of a key
 * table, indexed like the table.  Lookups are linear scans: tables hold a
 * few dozen keys and are read at configuration time, never per packet.
 */
#include "natsim/params.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "natsim/error.h"

struct NatsimParams
{
  const NatsimKeySpec *specs;
  guint                n;
  char               **values;  /* n entries, NULL: unset */
  char               **origins; /* n entries */
};

/* ---------------------------------------------------------------------- */
/* Key tables */

const NatsimKeySpec *
natsim_key_lookup (const NatsimKeySpec *specs, const char *name)
{
  g_return_val_if_fail (specs != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (const NatsimKeySpec *k = specs; k->name != NULL; k++)
    if (strcmp (k->name, name) == 0)
      return k;
  return NULL;
}

guint
natsim_edit_distance (const char *a, const char *b)
{
  size_t la, lb;
  guint *row;
  guint result;

  g_return_val_if_fail (a != NULL && b != NULL, G_MAXUINT);

  la = strlen (a);
  lb = strlen (b);
  /* Levenshtein distance with one row of lb + 1 cells. */
  row = g_new (guint, lb + 1);
  for (size_t j = 0; j <= lb; j++)
    row[j] = (guint) j;
  for (size_t i = 1; i <= la; i++)
    {
      guint diag = row[0];

      row[0] = (guint) i;
      for (size_t j = 1; j <= lb; j++)
        {
          guint up = row[j];
          guint cost = a[i - 1] == b[j - 1] ? 0 : 1;
          guint best = MIN (up + 1, row[j - 1] + 1);

          row[j] = MIN (best, diag + cost);
          diag = up;
        }
    }
  result = row[lb];
  g_free (row);
  return result;
}

const char *
natsim_name_suggest (const char *const *names, gsize n_names, const char *name)
{
  const char *best = NULL;
  guint best_dist = G_MAXUINT;
  size_t len;

  g_return_val_if_fail (name != NULL, NULL);

  len = strlen (name);
  if (len == 0)
    return NULL;

  /* A close spelling first (at most 2 edits, and fewer edits than the name
   * has characters, so that "x" does not suggest "d"). */
  for (gsize i = 0; i < n_names; i++)
    {
      guint d = natsim_edit_distance (name, names[i]);

      if (d <= 2 && d < len && d < best_dist)
        {
          best = names[i];
          best_dist = d;
        }
    }
  if (best != NULL)
    return best;

  /* Then a prefix either way ("udp" -> "udp_timeout", "replications_max" ->
   * "replications"), for names of 3 characters or more. */
  if (len < 3)
    return NULL;
  for (gsize i = 0; i < n_names; i++)
    if (g_str_has_prefix (names[i], name)
        || (strlen (names[i]) >= 3 && g_str_has_prefix (name, names[i])))
      return names[i];
  return NULL;
}

const char *
natsim_key_suggest (const NatsimKeySpec *specs, const char *name)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new ();

  g_return_val_if_fail (specs != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (const NatsimKeySpec *k = specs; k->name != NULL; k++)
    g_ptr_array_add (names, (gpointer) k->name);
  return natsim_name_suggest ((const char *const *) names->pdata, names->len,
                              name);
}

char *
natsim_key_names (const NatsimKeySpec *specs)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (specs != NULL, NULL);

  for (const NatsimKeySpec *k = specs; k->name != NULL; k++)
    {
      if (out->len > 0)
        g_string_append (out, ", ");
      g_string_append (out, k->name);
    }
  return g_string_free (out, FALSE);
}

static gboolean
spec_bounded (const NatsimKeySpec *spec)
{
  return spec->min != 0.0 || spec->max != 0.0;
}

/* The upper bound applies when max is non-zero (max 0 with min > 0 means
 * "at least min"). */
static gboolean
spec_has_max (const NatsimKeySpec *spec)
{
  return spec->max != 0.0;
}

static void
append_duration_sec (GString *out, double sec)
{
  char buf[64];

  natsim_format_duration (natsim_time_from_sec (sec), buf, sizeof buf);
  g_string_append (out, buf);
}

static void
append_number (GString *out, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (buf, sizeof buf, "%.15g", v);
  g_string_append (out, buf);
}

/* " between A and B" / " of at least A" / " of at most B", or nothing. */
static void
append_bounds (GString *out, const NatsimKeySpec *spec, gboolean duration)
{
  void (*fmt) (GString *, double) = duration ? append_duration_sec
                                             : append_number;

  if (!spec_bounded (spec))
    return;
  if (spec_has_max (spec))
    {
      g_string_append (out, " between ");
      fmt (out, spec->min);
      g_string_append (out, " and ");
      fmt (out, spec->max);
    }
  else
    {
      g_string_append (out, " of at least ");
      fmt (out, spec->min);
    }
}

char *
natsim_key_describe (const NatsimKeySpec *spec)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (spec != NULL, NULL);

  switch (spec->type)
    {
    case NATSIM_KEY_STRING:
      g_string_append (out, "a text value");
      break;
    case NATSIM_KEY_ENUM:
      g_string_append (out, "one of ");
      for (guint i = 0; spec->choices && spec->choices[i]; i++)
        {
          if (i > 0)
            g_string_append (out, spec->choices[i + 1] ? ", " : " or ");
          g_string_append (out, spec->choices[i]);
        }
      break;
    case NATSIM_KEY_BOOL:
      g_string_append (out, "true or false");
      break;
    case NATSIM_KEY_UINT:
      g_string_append (out, "a whole number");
      append_bounds (out, spec, FALSE);
      break;
    case NATSIM_KEY_DOUBLE:
      g_string_append (out, "a number");
      append_bounds (out, spec, FALSE);
      break;
    case NATSIM_KEY_DURATION:
      g_string_append (out, "a duration such as 250ms, 30s, 2m or 1h30m");
      append_bounds (out, spec, TRUE);
      break;
    case NATSIM_KEY_DURATION_RANGE:
      g_string_append (out, "a duration such as 30s or a range such as "
                            "60s..120s");
      append_bounds (out, spec, TRUE);
      break;
    case NATSIM_KEY_PORT_RANGE:
      g_string_append (out, "a port range such as 1024-65535 or a single port "
                            "(1 to 65535)");
      break;
    case NATSIM_KEY_ADDRESSES:
      g_string_append (out, "IPv4 addresses, ranges (a-b) or CIDR blocks "
                            "(a/len), comma-separated");
      if (spec_has_max (spec))
        g_string_append_printf (out, ", at most %.0f addresses", spec->max);
      break;
    case NATSIM_KEY_ENDPOINTS:
      g_string_append (out, "endpoints such as 203.0.113.100:5000, "
                            "comma-separated");
      if (spec_has_max (spec))
        g_string_append_printf (out, ", at most %.0f", spec->max);
      break;
    case NATSIM_KEY_DISTRIBUTION:
      g_string_append (out, "a distribution such as 30s, fixed(30s), "
                            "exponential(180s), uniform(1s,5s) or "
                            "lognormal(120s,0.8)");
      break;
    case NATSIM_KEY_DURATION_LIST:
      g_string_append (out, "comma-separated durations such as 4s, 7s, 1m "
                            "(possibly none)");
      if (spec->min > 0.0 && spec_has_max (spec))
        g_string_append_printf (out, ", %.0f to %.0f of them", spec->min,
                                spec->max);
      else if (spec_has_max (spec))
        g_string_append_printf (out, ", at most %.0f", spec->max);
      else if (spec->min > 0.0)
        g_string_append_printf (out, ", at least %.0f", spec->min);
      break;
    default:
      g_assert_not_reached ();
    }
  return g_string_free (out, FALSE);
}

static gboolean
expected_error (const NatsimKeySpec *spec, const char *value, GError **error)
{
  g_autofree char *what = natsim_key_describe (spec);

  g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
               "expected %s, got '%s'", what, value);
  return FALSE;
}

static gboolean
duration_in_bounds (const NatsimKeySpec *spec, NatsimTime t)
{
  if (!spec_bounded (spec))
    return TRUE;
  if (t < natsim_time_from_sec (spec->min))
    return FALSE;
  return !spec_has_max (spec) || t <= natsim_time_from_sec (spec->max);
}

/* Comma-separated durations into @ret (may be NULL); an empty or blank
 * string is the empty list. */
static gboolean
parse_duration_list (const NatsimKeySpec *spec, const char *value,
                     GArray *ret, GError **error)
{
  g_autofree char *copy = g_strstrip (g_strdup (value));
  g_auto (GStrv) items = NULL;
  guint n = 0;

  if (copy[0] != '\0')
    items = g_strsplit (copy, ",", -1);
  for (guint i = 0; items && items[i]; i++)
    {
      NatsimTime t;

      if (!natsim_parse_duration (g_strstrip (items[i]), &t, error))
        return FALSE;
      if (ret)
        g_array_append_val (ret, t);
      n++;
    }
  if ((spec_has_max (spec) && n > spec->max) || n < spec->min)
    return expected_error (spec, value, error);
  return TRUE;
}

gboolean
natsim_key_validate (const NatsimKeySpec *spec, const char *value,
                     GError **error)
{
  g_return_val_if_fail (spec != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  switch (spec->type)
    {
    case NATSIM_KEY_STRING:
      return TRUE;
    case NATSIM_KEY_ENUM:
      for (guint i = 0; spec->choices && spec->choices[i]; i++)
        if (strcmp (spec->choices[i], value) == 0)
          return TRUE;
      return expected_error (spec, value, error);
    case NATSIM_KEY_BOOL:
      if (!natsim_parse_bool (value, NULL, NULL))
        return expected_error (spec, value, error);
      return TRUE;
    case NATSIM_KEY_UINT:
      {
        uint64_t v;
        uint64_t max = spec_has_max (spec) ? (uint64_t) spec->max : UINT64_MAX;

        if (!natsim_parse_uint (value, max, &v, NULL) || (double) v < spec->min)
          return expected_error (spec, value, error);
        return TRUE;
      }
    case NATSIM_KEY_DOUBLE:
      {
        double lo = spec_bounded (spec) ? spec->min : -G_MAXDOUBLE;
        double hi = spec_has_max (spec) ? spec->max : G_MAXDOUBLE;

        if (!natsim_parse_double (value, lo, hi, NULL, NULL))
          return expected_error (spec, value, error);
        return TRUE;
      }
    case NATSIM_KEY_DURATION:
      {
        NatsimTime t;

        if (!natsim_parse_duration (value, &t, error))
          return FALSE;
        if (!duration_in_bounds (spec, t))
          return expected_error (spec, value, error);
        return TRUE;
      }
    case NATSIM_KEY_DURATION_RANGE:
      {
        NatsimTime lo, hi;

        if (!natsim_parse_duration_range (value, &lo, &hi, error))
          return FALSE;
        if (!duration_in_bounds (spec, lo) || !duration_in_bounds (spec, hi))
          return expected_error (spec, value, error);
        return TRUE;
      }
    case NATSIM_KEY_PORT_RANGE:
      return natsim_parse_port_range (value, NULL, NULL, error);
    case NATSIM_KEY_ADDRESSES:
    case NATSIM_KEY_ENDPOINTS:
      {
        g_autoptr (GArray) list = NULL;
        guint max = spec_has_max (spec) ? (guint) spec->max : 0;

        if (spec->type == NATSIM_KEY_ADDRESSES)
          list = natsim_parse_address_list (value, max, error);
        else
          list = natsim_parse_endpoint_list (value, max, error);
        return list != NULL;
      }
    case NATSIM_KEY_DISTRIBUTION:
      return natsim_parse_dist (value, NULL, error);
    case NATSIM_KEY_DURATION_LIST:
      return parse_duration_list (spec, value, NULL, error);
    default:
      g_assert_not_reached ();
    }
  return FALSE;
}

/* ---------------------------------------------------------------------- */
/* Parameter sets */

NatsimParams *
natsim_params_new (const NatsimKeySpec *specs)
{
  NatsimParams *p;

  g_return_val_if_fail (specs != NULL, NULL);

  p = g_new0 (NatsimParams, 1);
  p->specs = specs;
  while (specs[p->n].name != NULL)
    p->n++;
  p->values = g_new0 (char *, p->n + 1);
  p->origins = g_new0 (char *, p->n + 1);
  for (guint i = 0; i < p->n; i++)
    if (specs[i].default_value != NULL)
      {
        p->values[i] = g_strdup (specs[i].default_value);
        p->origins[i] = g_strdup ("default");
      }
  return p;
}

NatsimParams *
natsim_params_copy (const NatsimParams *p)
{
  NatsimParams *c;

  g_return_val_if_fail (p != NULL, NULL);

  c = g_new0 (NatsimParams, 1);
  c->specs = p->specs;
  c->n = p->n;
  c->values = g_new0 (char *, p->n + 1);
  c->origins = g_new0 (char *, p->n + 1);
  for (guint i = 0; i < p->n; i++)
    {
      c->values[i] = g_strdup (p->values[i]);
      c->origins[i] = g_strdup (p->origins[i]);
    }
  return c;
}

void
natsim_params_free (NatsimParams *p)
{
  if (p == NULL)
    return;
  for (guint i = 0; i < p->n; i++)
    {
      g_free (p->values[i]);
      g_free (p->origins[i]);
    }
  g_free (p->values);
  g_free (p->origins);
  g_free (p);
}

const NatsimKeySpec *
natsim_params_specs (const NatsimParams *p)
{
  g_return_val_if_fail (p != NULL, NULL);

  return p->specs;
}

static int
params_index (const NatsimParams *p, const char *key)
{
  for (guint i = 0; i < p->n; i++)
    if (strcmp (p->specs[i].name, key) == 0)
      return (int) i;
  return -1;
}

gboolean
natsim_params_set (NatsimParams *p, const char *key, const char *value,
                   const char *origin, GError **error)
{
  int i;

  g_return_val_if_fail (p != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  i = params_index (p, key);
  if (i < 0)
    {
      const char *hint = natsim_key_suggest (p->specs, key);

      if (hint != NULL)
        g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                     "unknown key; did you mean %s?", hint);
      else
        {
          g_autofree char *names = natsim_key_names (p->specs);

          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "unknown key; expected one of %s", names);
        }
      return FALSE;
    }
  if (!natsim_key_validate (&p->specs[i], value, error))
    return FALSE;

  g_free (p->values[i]);
  g_free (p->origins[i]);
  p->values[i] = g_strdup (value);
  p->origins[i] = g_strdup (origin);
  return TRUE;
}

const char *
natsim_params_get (const NatsimParams *p, const char *key)
{
  int i;

  g_return_val_if_fail (p != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  i = params_index (p, key);
  return i < 0 ? NULL : p->values[i];
}

const char *
natsim_params_origin (const NatsimParams *p, const char *key)
{
  int i;

  g_return_val_if_fail (p != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  i = params_index (p, key);
  return i < 0 ? NULL : p->origins[i];
}

const char *
natsim_params_missing (const NatsimParams *p)
{
  g_return_val_if_fail (p != NULL, NULL);

  for (guint i = 0; i < p->n; i++)
    if (p->values[i] == NULL)
      return p->specs[i].name;
  return NULL;
}

/* The value of @key, which must be in the table with @type and set. */
static const char *
typed_value (const NatsimParams *p, const char *key, NatsimKeyType type,
             const NatsimKeySpec **ret_spec)
{
  int i;

  g_assert (p != NULL && key != NULL);
  i = params_index (p, key);
  g_assert (i >= 0);
  g_assert (p->specs[i].type == type);
  g_assert (p->values[i] != NULL);
  if (ret_spec)
    *ret_spec = &p->specs[i];
  return p->values[i];
}

bool
natsim_params_get_bool (const NatsimParams *p, const char *key)
{
  bool v = false;
  gboolean ok = natsim_parse_bool (typed_value (p, key, NATSIM_KEY_BOOL, NULL),
                                   &v, NULL);

  g_assert (ok);
  return v;
}

uint64_t
natsim_params_get_uint (const NatsimParams *p, const char *key)
{
  uint64_t v = 0;
  gboolean ok = natsim_parse_uint (typed_value (p, key, NATSIM_KEY_UINT, NULL),
                                   UINT64_MAX, &v, NULL);

  g_assert (ok);
  return v;
}

double
natsim_params_get_double (const NatsimParams *p, const char *key)
{
  double v = 0.0;
  gboolean ok = natsim_parse_double (typed_value (p, key, NATSIM_KEY_DOUBLE,
                                                  NULL),
                                     -G_MAXDOUBLE, G_MAXDOUBLE, &v, NULL);

  g_assert (ok);
  return v;
}

NatsimTime
natsim_params_get_duration (const NatsimParams *p, const char *key)
{
  NatsimTime v = 0;
  gboolean ok = natsim_parse_duration (typed_value (p, key,
                                                    NATSIM_KEY_DURATION, NULL),
                                       &v, NULL);

  g_assert (ok);
  return v;
}

void
natsim_params_get_duration_range (const NatsimParams *p, const char *key,
                                  NatsimTime *ret_lo, NatsimTime *ret_hi)
{
  gboolean ok = natsim_parse_duration_range (
      typed_value (p, key, NATSIM_KEY_DURATION_RANGE, NULL), ret_lo, ret_hi,
      NULL);

  g_assert (ok);
}

void
natsim_params_get_port_range (const NatsimParams *p, const char *key,
                              uint16_t *ret_lo, uint16_t *ret_hi)
{
  gboolean ok = natsim_parse_port_range (
      typed_value (p, key, NATSIM_KEY_PORT_RANGE, NULL), ret_lo, ret_hi, NULL);

  g_assert (ok);
}

guint
natsim_params_get_enum (const NatsimParams *p, const char *key)
{
  const NatsimKeySpec *spec;
  const char *v = typed_value (p, key, NATSIM_KEY_ENUM, &spec);

  for (guint i = 0; spec->choices && spec->choices[i]; i++)
    if (strcmp (spec->choices[i], v) == 0)
      return i;
  g_assert_not_reached ();
  return 0;
}

GArray *
natsim_params_get_addresses (const NatsimParams *p, const char *key)
{
  const NatsimKeySpec *spec;
  const char *v = typed_value (p, key, NATSIM_KEY_ADDRESSES, &spec);
  GArray *list = natsim_parse_address_list (v, spec_has_max (spec)
                                                    ? (guint) spec->max : 0,
                                            NULL);

  g_assert (list != NULL);
  return list;
}

GArray *
natsim_params_get_endpoints (const NatsimParams *p, const char *key)
{
  const NatsimKeySpec *spec;
  const char *v = typed_value (p, key, NATSIM_KEY_ENDPOINTS, &spec);
  GArray *list = natsim_parse_endpoint_list (v, spec_has_max (spec)
                                                     ? (guint) spec->max : 0,
                                             NULL);

  g_assert (list != NULL);
  return list;
}

GArray *
natsim_params_get_duration_list (const NatsimParams *p, const char *key)
{
  const NatsimKeySpec *spec;
  const char *v = typed_value (p, key, NATSIM_KEY_DURATION_LIST, &spec);
  GArray *list = g_array_new (FALSE, FALSE, sizeof (NatsimTime));
  gboolean ok = parse_duration_list (spec, v, list, NULL);

  g_assert (ok);
  return list;
}

void
natsim_params_get_dist (const NatsimParams *p, const char *key,
                        NatsimDist *ret)
{
  gboolean ok = natsim_parse_dist (typed_value (p, key,
                                                NATSIM_KEY_DISTRIBUTION, NULL),
                                   ret, NULL);

  g_assert (ok);
}
