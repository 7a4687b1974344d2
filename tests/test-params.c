/* Tests of src/core/params.c: key tables, suggestions, descriptions,
 * validation with bounds, parameter sets and the typed getters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "natsim/error.h"
#include "natsim/params.h"

static const char *const colour_choices[] = { "red", "green", "blue", NULL };

static const NatsimKeySpec test_keys[] = {
  { "name", NATSIM_KEY_STRING, "anon", "a label", 0, 0, NULL },
  { "colour", NATSIM_KEY_ENUM, "green", "a colour", 0, 0, colour_choices },
  { "enabled", NATSIM_KEY_BOOL, "false", "on or off", 0, 0, NULL },
  { "count", NATSIM_KEY_UINT, "1", "how many", 1, 10000, NULL },
  { "seed", NATSIM_KEY_UINT, "0", "unbounded", 0, 0, NULL },
  { "fraction", NATSIM_KEY_DOUBLE, "0.5", "a share", 0, 1, NULL },
  { "rate", NATSIM_KEY_DOUBLE, "1", "at least 0.5", 0.5, 0, NULL },
  { "register_interval", NATSIM_KEY_DURATION_RANGE, "60s..120s", "refresh", 1, 3600, NULL },
  { "udp_timeout", NATSIM_KEY_DURATION, "30s", "idle", 0.001, 30 * 86400.0, NULL },
  { "udp_stream_timeout", NATSIM_KEY_DURATION, "120s", "stream", 0, 0, NULL },
  { "port_range", NATSIM_KEY_PORT_RANGE, "1024-65535", "ports", 0, 0, NULL },
  { "addresses", NATSIM_KEY_ADDRESSES, "203.0.113.1", "pool", 1, 4, NULL },
  { "destinations", NATSIM_KEY_ENDPOINTS, "198.51.100.1:53", "remotes", 0, 2, NULL },
  { "call_duration", NATSIM_KEY_DISTRIBUTION, "exponential(180s)", "calls", 0, 0, NULL },
  { "probes", NATSIM_KEY_DURATION_LIST, "", "probe delays", 0, 3, NULL },
  { "profile_hint", NATSIM_KEY_STRING, NULL, "required", 0, 0, NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static void
assert_invalid (GError *error, const char *needle)
{
  assert_non_null (error);
  assert_true (g_error_matches (error, NATSIM_ERROR,
                                NATSIM_ERROR_INVALID_INPUT));
  if (strstr (error->message, needle) == NULL)
    fail_msg ("message '%s' lacks '%s'", error->message, needle);
}

static void
test_lookup_and_suggest (void **state)
{
  g_autofree char *names = NULL;

  assert_non_null (natsim_key_lookup (test_keys, "udp_timeout"));
  assert_ptr_equal (natsim_key_lookup (test_keys, "count"), &test_keys[3]);
  assert_null (natsim_key_lookup (test_keys, "udp_timout"));
  assert_null (natsim_key_lookup (test_keys, ""));

  /* Edit distance <= 2. */
  assert_string_equal (natsim_key_suggest (test_keys, "registr_interval"),
                       "register_interval");
  assert_string_equal (natsim_key_suggest (test_keys, "udp_timout"),
                       "udp_timeout");
  assert_string_equal (natsim_key_suggest (test_keys, "colour_"), "colour");
  assert_string_equal (natsim_key_suggest (test_keys, "color"), "colour");
  assert_string_equal (natsim_key_suggest (test_keys, "cuont"), "count");
  /* Prefixes either way. */
  assert_string_equal (natsim_key_suggest (test_keys, "call"), "call_duration");
  assert_string_equal (natsim_key_suggest (test_keys, "udp_stream"),
                       "udp_stream_timeout");
  assert_string_equal (natsim_key_suggest (test_keys, "enabled_always"),
                       "enabled");
  /* Nothing close. */
  assert_null (natsim_key_suggest (test_keys, "bandwidth"));
  assert_null (natsim_key_suggest (test_keys, "x"));
  assert_null (natsim_key_suggest (test_keys, ""));

  assert_int_equal (natsim_edit_distance ("kitten", "sitting"), 3);
  assert_int_equal (natsim_edit_distance ("", "abc"), 3);
  assert_int_equal (natsim_edit_distance ("nat", "nat"), 0);
  assert_int_equal (natsim_edit_distance ("natt", "nat"), 1);

  names = natsim_key_names (test_keys);
  assert_true (g_str_has_prefix (names, "name, colour, enabled, count,"));
  assert_true (g_str_has_suffix (names, "probes, profile_hint"));
}

static void
test_describe (void **state)
{
  static const struct
  {
    const char *key;
    const char *text;
  } cases[] = {
    { "name", "a text value" },
    { "colour", "one of red, green or blue" },
    { "enabled", "true or false" },
    { "count", "a whole number between 1 and 10000" },
    { "seed", "a whole number" },
    { "fraction", "a number between 0 and 1" },
    { "rate", "a number of at least 0.5" },
    { "register_interval", "a duration such as 30s or a range such as 60s..120s between 1s and 1h" },
    { "udp_timeout", "a duration such as 250ms, 30s, 2m or 1h30m between 1ms and 30d" },
    { "udp_stream_timeout", "a duration such as 250ms, 30s, 2m or 1h30m" },
    { "port_range", "a port range such as 1024-65535 or a single port (1 to 65535)" },
    { "addresses", "IPv4 addresses, ranges (a-b) or CIDR blocks (a/len), comma-separated, at most 4 addresses" },
    { "destinations", "endpoints such as 203.0.113.100:5000, comma-separated, at most 2" },
    { "call_duration", "a distribution such as 30s, fixed(30s), exponential(180s), uniform(1s,5s) or lognormal(120s,0.8)" },
    { "probes", "comma-separated durations such as 4s, 7s, 1m (possibly none), at most 3" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = natsim_key_describe (
          natsim_key_lookup (test_keys, cases[i].key));

      assert_string_equal (text, cases[i].text);
    }
}

static void
test_validate (void **state)
{
  static const struct
  {
    const char *key;
    const char *value;
    const char *needle; /* NULL: valid */
  } cases[] = {
    { "name", "", NULL },
    { "name", "anything at all", NULL },
    { "colour", "blue", NULL },
    { "colour", "Blue", "expected one of red, green or blue, got 'Blue'" },
    { "colour", "", "got ''" },
    { "enabled", "yes", NULL },
    { "enabled", "maybe", "expected true or false, got 'maybe'" },
    { "count", "1", NULL },
    { "count", "10000", NULL },
    { "count", "0", "expected a whole number between 1 and 10000, got '0'" },
    { "count", "10001", "expected a whole number between 1 and 10000, got '10001'" },
    { "count", "99999999999", "got '99999999999'" },
    { "count", "-1", "got '-1'" },
    { "count", "1.5", "got '1.5'" },
    { "seed", "18446744073709551615", NULL },
    { "seed", "0", NULL },
    { "fraction", "0", NULL },
    { "fraction", "1", NULL },
    { "fraction", "1.5", "expected a number between 0 and 1, got '1.5'" },
    { "fraction", "-0.1", "got '-0.1'" },
    { "rate", "1e6", NULL },
    { "rate", "0.4", "expected a number of at least 0.5, got '0.4'" },
    { "register_interval", "1s..1h", NULL },
    { "register_interval", "500ms..2s", "between 1s and 1h, got '500ms..2s'" },
    { "register_interval", "120s..60s", "LOW <= HIGH" },
    { "udp_timeout", "1ms", NULL },
    { "udp_timeout", "30d", NULL },
    { "udp_timeout", "0s", "between 1ms and 30d, got '0s'" },
    { "udp_timeout", "30d1s", "between 1ms and 30d, got '30d1s'" },
    { "udp_timeout", "abc", "expected a duration such as 250ms, 30s, 2m or 1h30m, got 'abc'" },
    { "udp_timeout", "-5s", "expected a non-negative duration" },
    { "udp_stream_timeout", "0s", NULL },
    { "udp_stream_timeout", "3652d12h", NULL },
    { "port_range", "0-70000", "got '0-70000'" },
    { "addresses", "10.0.0.0/30", NULL },
    { "addresses", "10.0.0.0/29", "expected at most 4 addresses, got 8" },
    { "addresses", "", "expected at least one address" },
    { "destinations", "1.2.3.4:5,1.2.3.4:6", NULL },
    { "destinations", "1.2.3.4:5,1.2.3.4:6,1.2.3.4:7", "expected at most 2 endpoints" },
    { "call_duration", "uniform(1s,2s)", NULL },
    { "call_duration", "gaussian(1s)", "expected a distribution" },
    { "probes", "", NULL },
    { "probes", "   ", NULL },
    { "probes", "4s, 7s, 1m", NULL },
    { "probes", "1s,2s,3s,4s", "at most 3, got '1s,2s,3s,4s'" },
    { "probes", "4s,,7s", "expected a duration" },
    { "probes", "4s, x", "got 'x'" },
    { "probes", "4s,", "expected a duration" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      const NatsimKeySpec *spec = natsim_key_lookup (test_keys, cases[i].key);
      gboolean ok = natsim_key_validate (spec, cases[i].value, &error);

      if (cases[i].needle == NULL)
        {
          if (!ok)
            fail_msg ("%s = '%s' refused: %s", cases[i].key, cases[i].value,
                      error->message);
        }
      else
        {
          if (ok)
            fail_msg ("%s = '%s' accepted", cases[i].key, cases[i].value);
          assert_invalid (error, cases[i].needle);
        }
    }
}

static void
test_defaults (void **state)
{
  g_autoptr (NatsimParams) p = natsim_params_new (test_keys);

  assert_ptr_equal (natsim_params_specs (p), test_keys);
  for (const NatsimKeySpec *k = test_keys; k->name; k++)
    {
      assert_int_equal (g_strcmp0 (natsim_params_get (p, k->name),
                                   k->default_value), 0);
      if (k->default_value)
        assert_string_equal (natsim_params_origin (p, k->name), "default");
      else
        assert_null (natsim_params_origin (p, k->name));
    }
  assert_null (natsim_params_get (p, "nonexistent"));
  assert_null (natsim_params_origin (p, "nonexistent"));
  assert_string_equal (natsim_params_missing (p), "profile_hint");
  assert_true (natsim_params_set (p, "profile_hint", "x", "test", NULL));
  assert_null (natsim_params_missing (p));
}

static void
test_set_get (void **state)
{
  g_autoptr (NatsimParams) p = natsim_params_new (test_keys);
  g_autoptr (GArray) addrs = NULL;
  g_autoptr (GArray) eps = NULL;
  g_autoptr (GArray) probes = NULL;
  NatsimTime lo, hi;
  uint16_t plo, phi;
  NatsimDist d;

  /* Typed getters on the defaults. */
  assert_false (natsim_params_get_bool (p, "enabled"));
  assert_int_equal (natsim_params_get_uint (p, "count"), 1);
  assert_true (natsim_params_get_double (p, "fraction") == 0.5);
  assert_int_equal (natsim_params_get_duration (p, "udp_timeout"),
                    30 * NATSIM_NSEC_PER_SEC);
  natsim_params_get_duration_range (p, "register_interval", &lo, &hi);
  assert_int_equal (lo, 60 * NATSIM_NSEC_PER_SEC);
  assert_int_equal (hi, 120 * NATSIM_NSEC_PER_SEC);
  natsim_params_get_port_range (p, "port_range", &plo, &phi);
  assert_int_equal (plo, 1024);
  assert_int_equal (phi, 65535);
  assert_int_equal (natsim_params_get_enum (p, "colour"), 1);
  natsim_params_get_dist (p, "call_duration", &d);
  assert_int_equal (d.kind, NATSIM_DIST_EXPONENTIAL);
  probes = natsim_params_get_duration_list (p, "probes");
  assert_int_equal (probes->len, 0);
  g_clear_pointer (&probes, g_array_unref);

  /* Set, then get, with origins. */
  assert_true (natsim_params_set (p, "enabled", "on", "file.ini:3", NULL));
  assert_true (natsim_params_get_bool (p, "enabled"));
  assert_string_equal (natsim_params_get (p, "enabled"), "on");
  assert_string_equal (natsim_params_origin (p, "enabled"), "file.ini:3");
  assert_true (natsim_params_set (p, "count", "5000", "--set", NULL));
  assert_int_equal (natsim_params_get_uint (p, "count"), 5000);
  assert_string_equal (natsim_params_origin (p, "count"), "--set");
  assert_true (natsim_params_set (p, "colour", "blue", "preset x", NULL));
  assert_int_equal (natsim_params_get_enum (p, "colour"), 2);
  assert_true (natsim_params_set (p, "seed", "18446744073709551615", "t", NULL));
  assert_true (natsim_params_get_uint (p, "seed") == UINT64_MAX);
  assert_true (natsim_params_set (p, "rate", "2.5", "t", NULL));
  assert_true (natsim_params_get_double (p, "rate") == 2.5);
  assert_true (natsim_params_set (p, "udp_timeout", "1h30m", "t", NULL));
  assert_int_equal (natsim_params_get_duration (p, "udp_timeout"),
                    5400 * NATSIM_NSEC_PER_SEC);
  assert_true (natsim_params_set (p, "register_interval", "90s", "t", NULL));
  natsim_params_get_duration_range (p, "register_interval", &lo, &hi);
  assert_int_equal (lo, 90 * NATSIM_NSEC_PER_SEC);
  assert_int_equal (hi, 90 * NATSIM_NSEC_PER_SEC);
  assert_true (natsim_params_set (p, "port_range", "5060", "t", NULL));
  natsim_params_get_port_range (p, "port_range", &plo, &phi);
  assert_int_equal (plo, 5060);
  assert_int_equal (phi, 5060);
  assert_true (natsim_params_set (p, "addresses", "10.0.0.1-10.0.0.3", "t", NULL));
  addrs = natsim_params_get_addresses (p, "addresses");
  assert_int_equal (addrs->len, 3);
  assert_int_equal (g_array_index (addrs, uint32_t, 2), 0x0a000003);
  assert_true (natsim_params_set (p, "destinations", "1.2.3.4:5, 1.2.3.4:6", "t", NULL));
  eps = natsim_params_get_endpoints (p, "destinations");
  assert_int_equal (eps->len, 2);
  assert_int_equal (g_array_index (eps, NatsimEndpoint, 1).port, 6);
  assert_true (natsim_params_set (p, "probes", "4s, 7s,1m", "t", NULL));
  probes = natsim_params_get_duration_list (p, "probes");
  assert_int_equal (probes->len, 3);
  assert_int_equal (g_array_index (probes, NatsimTime, 2),
                    60 * NATSIM_NSEC_PER_SEC);
  assert_true (natsim_params_set (p, "call_duration", "lognormal(2m,1)", "t", NULL));
  natsim_params_get_dist (p, "call_duration", &d);
  assert_int_equal (d.kind, NATSIM_DIST_LOGNORMAL);
  assert_true (d.sigma == 1.0);
}

static void
test_set_errors (void **state)
{
  g_autoptr (NatsimParams) p = natsim_params_new (test_keys);
  g_autoptr (GError) error = NULL;

  assert_false (natsim_params_set (p, "registr_interval", "60s", "t", &error));
  assert_invalid (error, "unknown key; did you mean register_interval?");
  g_clear_error (&error);

  assert_false (natsim_params_set (p, "bandwidth", "1", "t", &error));
  assert_invalid (error, "unknown key; expected one of name, colour, enabled,");
  g_clear_error (&error);

  /* A refused value leaves the previous one and its origin. */
  assert_false (natsim_params_set (p, "count", "0", "t", &error));
  assert_invalid (error, "expected a whole number between 1 and 10000, got '0'");
  assert_string_equal (natsim_params_get (p, "count"), "1");
  assert_string_equal (natsim_params_origin (p, "count"), "default");
  g_clear_error (&error);

  assert_false (natsim_params_set (p, "colour", "purple", "t", &error));
  assert_invalid (error, "expected one of red, green or blue, got 'purple'");
  assert_int_equal (natsim_params_get_enum (p, "colour"), 1);
}

static void
test_copy (void **state)
{
  g_autoptr (NatsimParams) p = natsim_params_new (test_keys);
  g_autoptr (NatsimParams) c = NULL;

  assert_true (natsim_params_set (p, "count", "7", "a.ini:1", NULL));
  c = natsim_params_copy (p);
  assert_string_equal (natsim_params_get (c, "count"), "7");
  assert_string_equal (natsim_params_origin (c, "count"), "a.ini:1");
  assert_null (natsim_params_get (c, "profile_hint"));

  assert_true (natsim_params_set (c, "count", "8", "--set", NULL));
  assert_string_equal (natsim_params_get (p, "count"), "7");
  assert_string_equal (natsim_params_origin (p, "count"), "a.ini:1");
  g_clear_pointer (&p, natsim_params_free);
  assert_string_equal (natsim_params_get (c, "count"), "8");

  natsim_params_free (NULL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_lookup_and_suggest),
    cmocka_unit_test (test_describe),
    cmocka_unit_test (test_validate),
    cmocka_unit_test (test_defaults),
    cmocka_unit_test (test_set_get),
    cmocka_unit_test (test_set_errors),
    cmocka_unit_test (test_copy),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
