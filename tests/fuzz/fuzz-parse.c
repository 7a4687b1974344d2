/* natsim fuzz target: value strings (parse.h), key validation, --inside
 * prefixes and sweep --vary axes.
 *
 * The first byte selects the parser (and, in its high bits, a parameter:
 * a bound, a key type, a key of a table); the rest, up to the first NUL,
 * is the string.  Round trips the API promises (durations and IPv4
 * addresses format back to what was parsed) are checked. */
#include <math.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "fuzz.h"
#include "natsim/nat.h"
#include "natsim/params.h"
#include "natsim/parse.h"
#include "natsim/scenario.h"
#include "natsim/sweep.h"
#include "natsim/trace.h"

enum
{
  SEL_DURATION,
  SEL_DURATION_RANGE,
  SEL_PORT_RANGE,
  SEL_IPV4,
  SEL_ADDRESS_LIST,
  SEL_ENDPOINT_LIST,
  SEL_BOOL,
  SEL_UINT,
  SEL_DOUBLE,
  SEL_DIST,
  SEL_KEY_TYPE,     /* natsim_key_validate over a spec of each type */
  SEL_KEY_TABLE,    /* ... over the keys of [nat], [simulation], profiles */
  SEL_CIDR,
  SEL_SWEEP_AXIS,
  SEL_N
};

static const char *const choices[] = { "linux", "pf", "eim", NULL };

/* One spec per key type, with bounds as real tables have them. */
static const NatsimKeySpec type_specs[] = {
  { "k", NATSIM_KEY_STRING, "x", "", 0, 0, NULL },
  { "k", NATSIM_KEY_ENUM, "linux", "", 0, 0, choices },
  { "k", NATSIM_KEY_BOOL, "false", "", 0, 0, NULL },
  { "k", NATSIM_KEY_UINT, "1", "", 1, 1e6, NULL },
  { "k", NATSIM_KEY_UINT, "0", "", 0, 0, NULL },
  { "k", NATSIM_KEY_DOUBLE, "0.5", "", 0, 1, NULL },
  { "k", NATSIM_KEY_DOUBLE, "0", "", 0, 0, NULL },
  { "k", NATSIM_KEY_DURATION, "30s", "", 1, 864000, NULL },
  { "k", NATSIM_KEY_DURATION, "0s", "", 0, 0, NULL },
  { "k", NATSIM_KEY_DURATION_RANGE, "1s..2s", "", 0.001, 3600, NULL },
  { "k", NATSIM_KEY_PORT_RANGE, "1024-65535", "", 0, 0, NULL },
  { "k", NATSIM_KEY_ADDRESSES, "192.0.2.1", "", 0, 256, NULL },
  { "k", NATSIM_KEY_ADDRESSES, "192.0.2.1", "", 0, 0, NULL },
  { "k", NATSIM_KEY_ENDPOINTS, "192.0.2.1:5060", "", 0, 16, NULL },
  { "k", NATSIM_KEY_DISTRIBUTION, "fixed(1s)", "", 0, 0, NULL },
  { "k", NATSIM_KEY_DISTRIBUTION, "fixed(1s)", "", 1, 3600, NULL },
  { "k", NATSIM_KEY_DURATION_LIST, "", "", 0, 8, NULL },
};

static gsl_rng *rng;

static void
check_list (GArray *a, guint max_count, GError *error)
{
  if (a == NULL)
    fuzz_assert (error != NULL);
  else
    {
      fuzz_assert (a->len > 0 && a->len <= max_count);
      g_array_unref (a);
    }
}

static void
key_validate (const NatsimKeySpec *spec, const char *s)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *describe = natsim_key_describe (spec);

  fuzz_assert (describe != NULL);
  if (!natsim_key_validate (spec, s, &error))
    fuzz_assert (error != NULL);
  else
    {
      /* A valid value must be usable by the typed getters. */
      g_autoptr (NatsimParams) p = NULL;
      NatsimKeySpec table[2] = { *spec, { NULL } };
      g_autoptr (GError) set_error = NULL;

      if (spec->default_value != NULL
          && !natsim_key_validate (spec, spec->default_value, NULL))
        return; /* our own table entry does not fit its bounds */
      p = natsim_params_new (table);
      fuzz_assert (natsim_params_set (p, spec->name, s, "fuzz", &set_error));
      switch (spec->type)
        {
        case NATSIM_KEY_BOOL: (void) natsim_params_get_bool (p, spec->name); break;
        case NATSIM_KEY_UINT: (void) natsim_params_get_uint (p, spec->name); break;
        case NATSIM_KEY_DOUBLE: (void) natsim_params_get_double (p, spec->name); break;
        case NATSIM_KEY_DURATION: (void) natsim_params_get_duration (p, spec->name); break;
        case NATSIM_KEY_ENUM: (void) natsim_params_get_enum (p, spec->name); break;
        case NATSIM_KEY_DURATION_RANGE:
          {
            NatsimTime lo, hi;

            natsim_params_get_duration_range (p, spec->name, &lo, &hi);
            fuzz_assert (lo <= hi);
            break;
          }
        case NATSIM_KEY_PORT_RANGE:
          {
            uint16_t lo, hi;

            natsim_params_get_port_range (p, spec->name, &lo, &hi);
            fuzz_assert (1 <= lo && lo <= hi);
            break;
          }
        case NATSIM_KEY_ADDRESSES:
          g_array_unref (natsim_params_get_addresses (p, spec->name));
          break;
        case NATSIM_KEY_ENDPOINTS:
          g_array_unref (natsim_params_get_endpoints (p, spec->name));
          break;
        case NATSIM_KEY_DURATION_LIST:
          g_array_unref (natsim_params_get_duration_list (p, spec->name));
          break;
        case NATSIM_KEY_DISTRIBUTION:
          {
            NatsimDist d;

            natsim_params_get_dist (p, spec->name, &d);
            break;
          }
        case NATSIM_KEY_STRING:
        default:
          break;
        }
    }
}

static const NatsimKeySpec *
table_key (guint which, guint index)
{
  const NatsimKeySpec *table;
  guint n = 0;

  if (which == 0)
    table = natsim_nat_keys;
  else if (which == 1)
    table = natsim_simulation_keys;
  else
    {
      guint n_profiles = 0;

      while (natsim_profiles[n_profiles] != NULL)
        n_profiles++;
      table = natsim_profiles[(which - 2) % n_profiles]->keys;
    }
  while (table[n].name != NULL)
    n++;
  return n > 0 ? &table[index % n] : NULL;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *s = NULL;
  guint sel, param;

  fuzz_setup ();
  if (size < 1)
    return 0;
  if (rng == NULL)
    rng = gsl_rng_alloc (gsl_rng_mt19937);
  sel = data[0] % SEL_N;
  param = data[0] / SEL_N; /* 0..15 */
  s = g_strndup ((const char *) data + 1, size - 1);

  switch (sel)
    {
    case SEL_DURATION:
      {
        NatsimTime t, t2;
        char buf[32];

        if (natsim_parse_duration (s, &t, &error))
          {
            fuzz_assert (t <= NATSIM_DURATION_MAX);
            natsim_format_duration (t, buf, sizeof buf);
            fuzz_assert (natsim_parse_duration (buf, &t2, NULL));
            fuzz_assert (t == t2);
          }
        break;
      }
    case SEL_DURATION_RANGE:
      {
        NatsimTime lo, hi;

        if (natsim_parse_duration_range (s, &lo, &hi, &error))
          fuzz_assert (lo <= hi && hi <= NATSIM_DURATION_MAX);
        break;
      }
    case SEL_PORT_RANGE:
      {
        uint16_t lo, hi;

        if (natsim_parse_port_range (s, &lo, &hi, &error))
          fuzz_assert (1 <= lo && lo <= hi);
        break;
      }
    case SEL_IPV4:
      {
        uint32_t a, b;
        char buf[16];

        if (natsim_parse_ipv4 (s, &a, &error))
          {
            natsim_format_ipv4 (a, buf, sizeof buf);
            fuzz_assert (natsim_parse_ipv4 (buf, &b, NULL) && a == b);
          }
        break;
      }
    case SEL_ADDRESS_LIST:
      {
        guint max = 1u << param; /* 1 .. 32768 */

        GArray *a = natsim_parse_address_list (s, max, &error);

        check_list (a, max, error);
        break;
      }
    case SEL_ENDPOINT_LIST:
      {
        guint max = 1u + param * 4;

        GArray *a = natsim_parse_endpoint_list (s, max, &error);

        check_list (a, max, error);
        break;
      }
    case SEL_BOOL:
      {
        bool b;

        (void) natsim_parse_bool (s, &b, &error);
        break;
      }
    case SEL_UINT:
      {
        static const uint64_t maxes[] = { 0, 1, 255, 65535, UINT32_MAX,
                                          G_MAXINT64, UINT64_MAX };
        uint64_t max = maxes[param % G_N_ELEMENTS (maxes)], v;

        if (natsim_parse_uint (s, max, &v, &error))
          fuzz_assert (v <= max);
        break;
      }
    case SEL_DOUBLE:
      {
        static const double bounds[][2] = { { 0, 1 }, { -1e308, 1e308 },
                                            { 0, 0 }, { 1e-9, 1e9 } };
        const double *b = bounds[param % G_N_ELEMENTS (bounds)];
        double v;

        if (natsim_parse_double (s, b[0], b[1], &v, &error))
          fuzz_assert (isfinite (v) && v >= b[0] && v <= b[1]);
        break;
      }
    case SEL_DIST:
      {
        NatsimDist d;

        if (natsim_parse_dist (s, &d, &error))
          {
            gsl_rng_set (rng, param);
            fuzz_assert (!isnan (natsim_dist_mean (&d)));
            for (int i = 0; i < 4; i++)
              {
                NatsimTime t = natsim_dist_sample (&d, rng);

                if (d.kind == NATSIM_DIST_UNIFORM)
                  fuzz_assert (d.a <= t && t <= d.b);
                else if (d.kind == NATSIM_DIST_FIXED)
                  fuzz_assert (t == d.a);
              }
          }
        break;
      }
    case SEL_KEY_TYPE:
      key_validate (&type_specs[param % G_N_ELEMENTS (type_specs)], s);
      break;
    case SEL_KEY_TABLE:
      {
        /* The key's index comes from the string's second byte, if any. */
        guint index = size > 2 ? data[1] : 0;
        const NatsimKeySpec *spec = table_key (param, index);

        if (spec != NULL)
          key_validate (spec, size > 2 ? s + 1 : s);
        break;
      }
    case SEL_CIDR:
      {
        g_autoptr (NatsimCidrSet) set = natsim_cidr_set_new ();
        guint before = natsim_cidr_set_size (set);

        if (natsim_cidr_set_add_string (set, s, &error))
          {
            g_autofree char *text = natsim_cidr_set_to_string (set);
            g_autoptr (NatsimCidrSet) again = natsim_cidr_set_new ();
            uint8_t addr[16] = { 0 };

            fuzz_assert (natsim_cidr_set_add_string (again, text, NULL));
            fuzz_assert (natsim_cidr_set_size (again) == natsim_cidr_set_size (set));
            (void) natsim_cidr_set_contains (set, addr);
            /* The IPv4 test (a bisection of ranges) agrees with the scan
             * of the prefixes, at addresses taken from the input. */
            for (size_t k = 0; k + 4 <= size; k += 4)
              {
                uint32_t a4 = ((uint32_t) data[k] << 24) | ((uint32_t) data[k + 1] << 16)
                              | ((uint32_t) data[k + 2] << 8) | data[k + 3];

                for (int d = -1; d <= 1; d++)
                  {
                    natsim_ipv4_to_mapped (a4 + (uint32_t) d, addr);
                    fuzz_assert (natsim_cidr_set_contains_ipv4 (set, a4 + (uint32_t) d)
                                 == natsim_cidr_set_contains (set, addr));
                  }
              }
          }
        else
          fuzz_assert (natsim_cidr_set_size (set) == before);
        break;
      }
    case SEL_SWEEP_AXIS:
      {
        NatsimSweepAxis *axis = natsim_sweep_axis_parse (s, &error);

        if (axis != NULL)
          {
            fuzz_assert (axis->values->len > 0
                         && axis->values->len <= NATSIM_SWEEP_MAX_VALUES);
            natsim_sweep_axis_free (axis);
          }
        else
          fuzz_assert (error != NULL);
        break;
      }
    default:
      g_assert_not_reached ();
    }
  return 0;
}
