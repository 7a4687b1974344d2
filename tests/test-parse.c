/* Tests of src/core/parse.c: every parser with good values, bad values and
 * boundaries; canonical duration formatting; address list expansion and
 * limits; distribution sampling against the analytic means. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <string.h>

#include "natsim/error.h"
#include "natsim/parse.h"
#include "natsim/rng.h"

#define SEC(x)  ((NatsimTime) (x) * NATSIM_NSEC_PER_SEC)
#define MSEC(x) ((NatsimTime) (x) * NATSIM_NSEC_PER_MSEC)
#define MIN_(x) (SEC (x) * 60)
#define HOUR(x) (SEC (x) * 3600)
#define DAY(x)  (SEC (x) * 86400)

/* The error must be INVALID_INPUT and contain @needle. */
static void
assert_invalid (GError *error, const char *needle)
{
  assert_non_null (error);
  assert_true (g_error_matches (error, NATSIM_ERROR,
                                NATSIM_ERROR_INVALID_INPUT));
  if (strstr (error->message, needle) == NULL)
    fail_msg ("message '%s' lacks '%s'", error->message, needle);
}

/* ---------------------------------------------------------------------- */
/* Durations */

static void
test_duration_good (void **state)
{
  static const struct
  {
    const char *s;
    NatsimTime  ns;
  } cases[] = {
    { "250ms", MSEC (250) },
    { "30s", SEC (30) },
    { "2m", MIN_ (2) },
    { "1h30m", HOUR (1) + MIN_ (30) },
    { "2m30s", MIN_ (2) + SEC (30) },
    { "7440", SEC (7440) },
    { "0", 0 },
    { "0s", 0 },
    { "1.5s", MSEC (1500) },
    { "1.5", MSEC (1500) },
    { "0.25h", MIN_ (15) },
    { "  30s\t", SEC (30) },
    { "1d", DAY (1) },
    { "100us", 100 * NATSIM_NSEC_PER_USEC },
    { "10ns", 10 },
    { "1.5ns", 2 }, /* rounded to the nanosecond */
    { "0.1s", MSEC (100) },
    { "1d2h3m4s5ms6us7ns",
      DAY (1) + HOUR (2) + MIN_ (3) + SEC (4) + MSEC (5) + 6000 + 7 },
    { "3652d12h", NATSIM_DURATION_MAX },
    { "315576000", NATSIM_DURATION_MAX },
    { "007s", SEC (7) },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      NatsimTime t = 12345;

      if (!natsim_parse_duration (cases[i].s, &t, &error))
        fail_msg ("'%s' refused: %s", cases[i].s, error->message);
      if (t != cases[i].ns)
        fail_msg ("'%s' gave %" G_GUINT64_FORMAT, cases[i].s, t);
    }
}

static void
test_duration_bad (void **state)
{
  static const struct
  {
    const char *s;
    const char *needle;
  } cases[] = {
    { "abc", "expected a duration such as 250ms, 30s, 2m or 1h30m, got 'abc'" },
    { "", "got ''" },
    { "   ", "expected a duration" },
    { "-5s", "expected a non-negative duration" },
    { "-1", "non-negative" },
    { "1h 30m", "got '1h 30m'" },
    { "30m1h", "expected a duration" },  /* units in decreasing order */
    { "1m1m", "expected a duration" },   /* each unit once */
    { "5x", "expected a duration" },
    { "5 s", "expected a duration" },
    { "1.", "expected a duration" },
    { ".5s", "expected a duration" },
    { "1..5", "expected a duration" },
    { "1e3s", "expected a duration" },
    { "+5s", "expected a duration" },
    { "s", "expected a duration" },
    { "1h30", "expected a duration" },   /* a plain number stands alone */
    { "5mss", "expected a duration" },
    { "3652d12h1ns", "at most 10 years" },
    { "315576001", "at most 10 years" },
    { "99999999999999999999999s", "at most 10 years" },
    { "99999999999999999999999999999999ns", "at most 10 years" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      NatsimTime t = 4242;

      if (natsim_parse_duration (cases[i].s, &t, &error))
        fail_msg ("'%s' accepted", cases[i].s);
      assert_invalid (error, cases[i].needle);
      assert_int_equal (t, 4242); /* ret_* untouched on failure */
    }
}

static void
test_duration_format (void **state)
{
  static const struct
  {
    NatsimTime  ns;
    const char *s;
  } cases[] = {
    { 0, "0s" },
    { HOUR (1) + MIN_ (30), "1h30m" },
    { MSEC (250), "250ms" },
    { MIN_ (2), "2m" },
    { MSEC (1500), "1s500ms" },
    { SEC (90), "1m30s" },
    { SEC (7440), "2h4m" },
    { DAY (30), "30d" },
    { 1, "1ns" },
    { DAY (1) + 1, "1d1ns" },
    { NATSIM_DURATION_MAX, "3652d12h" },
  };
  char buf[64];

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      NatsimTime back = 0;

      natsim_format_duration (cases[i].ns, buf, sizeof buf);
      assert_string_equal (buf, cases[i].s);
      assert_true (natsim_parse_duration (buf, &back, NULL));
      assert_int_equal (back, cases[i].ns);
    }

  /* The longest possible form fits in 32 bytes. */
  natsim_format_duration (NATSIM_TIME_INFINITY, buf, sizeof buf);
  assert_true (strlen (buf) < 32);
  /* A short buffer truncates, NUL-terminated. */
  natsim_format_duration (HOUR (1) + MIN_ (30), buf, 3);
  assert_string_equal (buf, "1h");
}

static void
test_duration_range (void **state)
{
  g_autoptr (GError) error = NULL;
  NatsimTime lo = 0, hi = 0;

  assert_true (natsim_parse_duration_range ("60s..120s", &lo, &hi, NULL));
  assert_int_equal (lo, SEC (60));
  assert_int_equal (hi, SEC (120));
  assert_true (natsim_parse_duration_range ("30s", &lo, &hi, NULL));
  assert_int_equal (lo, SEC (30));
  assert_int_equal (hi, SEC (30));
  assert_true (natsim_parse_duration_range (" 1.5s .. 2m ", &lo, &hi, NULL));
  assert_int_equal (lo, MSEC (1500));
  assert_int_equal (hi, MIN_ (2));
  assert_true (natsim_parse_duration_range ("5s..5s", &lo, &hi, NULL));

  assert_false (natsim_parse_duration_range ("120s..60s", &lo, &hi, &error));
  assert_invalid (error, "LOW <= HIGH, got '120s..60s'");
  g_clear_error (&error);
  assert_false (natsim_parse_duration_range ("..", &lo, &hi, &error));
  assert_invalid (error, "range such as 60s..120s, got '..'");
  g_clear_error (&error);
  assert_false (natsim_parse_duration_range ("1s..", &lo, &hi, &error));
  g_clear_error (&error);
  assert_false (natsim_parse_duration_range ("1s..2s..3s", &lo, &hi, &error));
  g_clear_error (&error);
  assert_false (natsim_parse_duration_range ("-1s..2s", &lo, &hi, &error));
  assert_invalid (error, "non-negative");
}

/* ---------------------------------------------------------------------- */
/* Ports and addresses */

static void
test_port_range (void **state)
{
  static const char *const bad[] = {
    "0-70000", "0-100", "0", "65536", "100-50", "", "-5", "1024-", "a-b",
    "1024-65535-1", "1.5", "+80",
  };
  uint16_t lo = 0, hi = 0;

  assert_true (natsim_parse_port_range ("1024-65535", &lo, &hi, NULL));
  assert_int_equal (lo, 1024);
  assert_int_equal (hi, 65535);
  assert_true (natsim_parse_port_range ("5060", &lo, &hi, NULL));
  assert_int_equal (lo, 5060);
  assert_int_equal (hi, 5060);
  assert_true (natsim_parse_port_range ("1-1", &lo, &hi, NULL));
  assert_int_equal (lo, 1);
  assert_true (natsim_parse_port_range (" 65535 ", &lo, &hi, NULL));
  assert_true (natsim_parse_port_range ("1 - 65535", &lo, &hi, NULL));

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *needle = g_strdup_printf ("got '%s'", bad[i]);

      lo = hi = 7;
      if (natsim_parse_port_range (bad[i], &lo, &hi, &error))
        fail_msg ("'%s' accepted", bad[i]);
      assert_invalid (error, "expected a port range such as 1024-65535");
      assert_invalid (error, needle);
      assert_int_equal (lo, 7);
    }
}

static void
test_ipv4 (void **state)
{
  static const char *const bad[] = {
    "01.2.3.4", "1.2.3.04", "256.1.1.1", "1.2.3", "1.2.3.4.5", "1.2.3.",
    "a.b.c.d", "1..2.3", "1.2.3.4/24", "", "1.2.3.-4", "1.2.3.4:80",
    "0x1.2.3.4", "1.2.3.1000", " ",
  };
  char buf[16];
  uint32_t a = 0;

  assert_true (natsim_parse_ipv4 ("0.0.0.0", &a, NULL));
  assert_int_equal (a, 0);
  assert_true (natsim_parse_ipv4 ("255.255.255.255", &a, NULL));
  assert_int_equal (a, UINT32_MAX);
  assert_true (natsim_parse_ipv4 (" 203.0.113.1 ", &a, NULL));
  assert_int_equal (a, 0xcb007101);
  assert_true (natsim_parse_ipv4 ("10.0.0.0", &a, NULL));
  assert_int_equal (a, 0x0a000000);

  natsim_format_ipv4 (0xcb007101, buf, sizeof buf);
  assert_string_equal (buf, "203.0.113.1");
  natsim_format_ipv4 (UINT32_MAX, buf, sizeof buf);
  assert_string_equal (buf, "255.255.255.255");

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;

      a = 99;
      if (natsim_parse_ipv4 (bad[i], &a, &error))
        fail_msg ("'%s' accepted", bad[i]);
      assert_invalid (error, "expected an IPv4 address such as 203.0.113.1");
      assert_int_equal (a, 99);
    }
}

static void
assert_addresses (const char *s, guint max, const char *const *expected,
                  guint n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) list = natsim_parse_address_list (s, max, &error);

  if (list == NULL)
    {
      fail_msg ("'%s' refused: %s", s, error->message);
      return;
    }
  assert_int_equal (list->len, n);
  for (guint i = 0; i < n; i++)
    {
      char buf[16];

      natsim_format_ipv4 (g_array_index (list, uint32_t, i), buf, sizeof buf);
      assert_string_equal (buf, expected[i]);
    }
}

static void
test_address_list (void **state)
{
  static const char *const range[] = { "203.0.113.1", "203.0.113.2",
                                       "203.0.113.3", "203.0.113.4" };
  static const char *const mixed[] = { "10.0.0.9", "10.0.0.0", "10.0.0.1",
                                       "10.0.0.2", "10.0.0.3", "192.0.2.1" };
  static const char *const slash31[] = { "10.0.0.4", "10.0.0.5" };
  static const char *const slash32[] = { "10.0.0.5" };
  static const char *const top[] = { "255.255.255.254", "255.255.255.255" };
  g_autoptr (GArray) big = NULL;

  assert_addresses ("203.0.113.1-203.0.113.4", 0, range, 4);
  /* In the order given; a CIDR block from network to broadcast. */
  assert_addresses ("10.0.0.9, 10.0.0.0/30 ,192.0.2.1", 0, mixed, 6);
  assert_addresses ("10.0.0.4/31", 0, slash31, 2);
  assert_addresses ("10.0.0.5/32", 0, slash32, 1);
  assert_addresses ("10.0.0.5", 1, slash32, 1);
  /* The end of the address space does not wrap. */
  assert_addresses ("255.255.255.254-255.255.255.255", 0, top, 2);
  assert_addresses ("255.255.255.254/31", 2, top, 2);

  /* max_count is inclusive. */
  big = natsim_parse_address_list ("10.0.0.0/22", 1024, NULL);
  assert_non_null (big);
  assert_int_equal (big->len, 1024);
  assert_int_equal (g_array_index (big, uint32_t, 0), 0x0a000000);
  assert_int_equal (g_array_index (big, uint32_t, 1023), 0x0a0003ff);
}

static void
test_address_list_bad (void **state)
{
  static const struct
  {
    const char *s;
    guint       max;
    const char *needle;
  } cases[] = {
    /* Refused from the size alone, before anything is expanded. */
    { "0.0.0.0/0", 1024, "expected at most 1024 addresses, got 4294967296 in '0.0.0.0/0'" },
    { "0.0.0.0/0", 0, "expected at most 16777216 addresses, got 4294967296" },
    { "10.0.0.0/22,10.4.0.1", 1024, "got 1025" },
    { "1.1.1.1,1.1.1.2", 1, "expected at most 1 addresses, got 2" },
    { "", 10, "expected at least one address" },
    { "   ", 10, "expected at least one address" },
    { "1.1.1.1,,1.1.1.2", 10, "got ''" },
    { "1.1.1.1,", 10, "got ''" },
    { "1.1.1.1,1.1.1.1", 10, "expected distinct addresses, got 1.1.1.1 more than once" },
    { "10.0.0.0/30, 10.0.0.2", 10, "got 10.0.0.2 more than once" },
    { "10.0.0.3-10.0.0.5,10.0.0.0/30", 10, "got 10.0.0.3 more than once" },
    { "10.0.0.5/24", 0, "no host bits set (such as 203.0.113.0/24), got '10.0.0.5/24'" },
    { "10.0.0.0/33", 0, "got '10.0.0.0/33'" },
    { "10.0.0.0/", 0, "got '10.0.0.0/'" },
    { "10.0.0.0/-1", 0, "got '10.0.0.0/-1'" },
    { "10.0.0.9-10.0.0.1", 0, "FIRST <= LAST, got '10.0.0.9-10.0.0.1'" },
    { "10.0.0.1-", 0, "expected an IPv4 address, a range (a-b) or a CIDR block" },
    { "example.com", 0, "got 'example.com'" },
    { "01.2.3.4", 0, "got '01.2.3.4'" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GArray) list = natsim_parse_address_list (cases[i].s,
                                                           cases[i].max,
                                                           &error);

      if (list != NULL)
        fail_msg ("'%s' accepted", cases[i].s);
      assert_invalid (error, cases[i].needle);
    }
}

static void
test_endpoint_list (void **state)
{
  static const struct
  {
    const char *s;
    guint       max;
    const char *needle;
  } bad[] = {
    { "", 0, "expected at least one endpoint" },
    { ":5000", 0, "got ':5000'" },
    { "1.2.3.4", 0, "got '1.2.3.4'" },
    { "1.2.3.4:0", 0, "port 1 to 65535), got '1.2.3.4:0'" },
    { "1.2.3.4:65536", 0, "got '1.2.3.4:65536'" },
    { "1.2.3.4:http", 0, "got '1.2.3.4:http'" },
    { "1.2.3.4:80,", 0, "got ''" },
    { "1.2.3.4:80, 1.2.3.4:80", 0, "got 1.2.3.4:80 more than once" },
    { "1.2.3.4:80,1.2.3.4:81", 1, "expected at most 1 endpoints" },
    { "1.2.3.0/24:80", 0, "got '1.2.3.0/24:80'" },
  };
  g_autoptr (GArray) eps = NULL;
  const NatsimEndpoint *e;

  eps = natsim_parse_endpoint_list ("203.0.113.100:5000, 198.51.100.7:53,"
                                    "203.0.113.100:5001", 3, NULL);
  assert_non_null (eps);
  assert_int_equal (eps->len, 3);
  e = &g_array_index (eps, NatsimEndpoint, 0);
  assert_int_equal (e->addr, 0xcb007164);
  assert_int_equal (e->port, 5000);
  e = &g_array_index (eps, NatsimEndpoint, 1);
  assert_int_equal (e->addr, 0xc6336407);
  assert_int_equal (e->port, 53);
  e = &g_array_index (eps, NatsimEndpoint, 2);
  assert_int_equal (e->port, 5001);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GArray) list = natsim_parse_endpoint_list (bad[i].s,
                                                            bad[i].max,
                                                            &error);

      if (list != NULL)
        fail_msg ("'%s' accepted", bad[i].s);
      assert_invalid (error, bad[i].needle);
    }
}

/* ---------------------------------------------------------------------- */
/* Scalars */

static void
test_bool (void **state)
{
  static const char *const yes[] = { "true", "yes", "on", "1", "TRUE", " Yes " };
  static const char *const no[] = { "false", "no", "off", "0", "False" };
  static const char *const bad[] = { "", "2", "truee", "y", "enabled", "-1" };
  bool v;

  for (guint i = 0; i < G_N_ELEMENTS (yes); i++)
    {
      v = false;
      assert_true (natsim_parse_bool (yes[i], &v, NULL));
      assert_true (v);
    }
  for (guint i = 0; i < G_N_ELEMENTS (no); i++)
    {
      v = true;
      assert_true (natsim_parse_bool (no[i], &v, NULL));
      assert_false (v);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;

      assert_false (natsim_parse_bool (bad[i], &v, &error));
      assert_invalid (error, "expected true or false");
    }
}

static void
test_uint (void **state)
{
  static const char *const bad[] = { "", "-1", "1.5", "1e3", "+1", "0x10",
                                     "12a", "1 2", "18446744073709551616" };
  g_autoptr (GError) error = NULL;
  uint64_t v = 0;

  assert_true (natsim_parse_uint ("0", 10, &v, NULL));
  assert_int_equal (v, 0);
  assert_true (natsim_parse_uint (" 42 ", 100, &v, NULL));
  assert_int_equal (v, 42);
  assert_true (natsim_parse_uint ("10", 10, &v, NULL));
  assert_int_equal (v, 10);
  assert_true (natsim_parse_uint ("18446744073709551615", UINT64_MAX, &v, NULL));
  assert_true (v == UINT64_MAX);

  assert_false (natsim_parse_uint ("11", 10, &v, &error));
  assert_invalid (error, "expected a whole number between 0 and 10, got '11'");
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_clear_error (&error);
      v = 5;
      if (natsim_parse_uint (bad[i], UINT64_MAX, &v, &error))
        fail_msg ("'%s' accepted", bad[i]);
      assert_invalid (error, "expected a whole number");
      assert_int_equal (v, 5);
    }
}

static void
test_double (void **state)
{
  static const char *const bad[] = { "", "inf", "nan", "-inf", "0x10", "1.5x",
                                     "1,5", "1e999", "e3", "." };
  g_autoptr (GError) error = NULL;
  double v = 0;

  assert_true (natsim_parse_double ("1.5", 0, 10, &v, NULL));
  assert_true (v == 1.5);
  assert_true (natsim_parse_double ("-2", -5, 5, &v, NULL));
  assert_true (v == -2.0);
  assert_true (natsim_parse_double ("1e3", 0, 1e3, &v, NULL));
  assert_true (v == 1000.0);
  assert_true (natsim_parse_double (" 0 ", 0, 1, &v, NULL));
  assert_true (natsim_parse_double ("1", 0, 1, &v, NULL));

  assert_false (natsim_parse_double ("1.01", 0, 1, &v, &error));
  assert_invalid (error, "expected a number between 0 and 1, got '1.01'");
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_clear_error (&error);
      if (natsim_parse_double (bad[i], -G_MAXDOUBLE, G_MAXDOUBLE, &v, &error))
        fail_msg ("'%s' accepted", bad[i]);
      assert_invalid (error, "expected a number");
    }
}

/* ---------------------------------------------------------------------- */
/* Distributions */

static void
test_dist_parse (void **state)
{
  static const struct
  {
    const char *s;
    const char *needle;
  } bad[] = {
    { "", "expected a distribution such as 30s, fixed(30s)" },
    { "normal(1s)", "got 'normal(1s)'" },
    { "exponential(180s", "expected a distribution" },
    { "exponential()", "expected a distribution" },
    { "exponential(1s,2s)", "expected a distribution" },
    { "exponential(0s)", "mean above 0" },
    { "uniform(5s,1s)", "LOW <= HIGH, got 'uniform(5s,1s)'" },
    { "uniform(1s)", "expected a distribution" },
    { "uniform(1s,2s,3s)", "expected a distribution" },
    { "lognormal(120s,0)", "0 < SIGMA <= 5" },
    { "lognormal(120s,5.1)", "0 < SIGMA <= 5" },
    { "lognormal(120s,-1)", "0 < SIGMA <= 5" },
    { "lognormal(0s,1)", "median above 0" },
    { "lognormal(120s,abc)", "0 < SIGMA <= 5" },
    { "lognormal(120s)", "expected a distribution" },
    { "fixed(-1s)", "expected a distribution" },
    { "Exponential(1s)", "expected a distribution" },
    { "exponential(180s) x", "expected a distribution" },
  };
  NatsimDist d;

  assert_true (natsim_parse_dist ("30s", &d, NULL));
  assert_int_equal (d.kind, NATSIM_DIST_FIXED);
  assert_int_equal (d.a, SEC (30));
  assert_true (natsim_parse_dist ("fixed(250ms)", &d, NULL));
  assert_int_equal (d.kind, NATSIM_DIST_FIXED);
  assert_int_equal (d.a, MSEC (250));
  assert_true (natsim_parse_dist (" exponential( 180s ) ", &d, NULL));
  assert_int_equal (d.kind, NATSIM_DIST_EXPONENTIAL);
  assert_int_equal (d.a, SEC (180));
  assert_true (natsim_parse_dist ("uniform(1s, 5s)", &d, NULL));
  assert_int_equal (d.kind, NATSIM_DIST_UNIFORM);
  assert_int_equal (d.a, SEC (1));
  assert_int_equal (d.b, SEC (5));
  assert_true (natsim_parse_dist ("uniform(2s,2s)", &d, NULL));
  assert_true (natsim_parse_dist ("lognormal(120s,0.8)", &d, NULL));
  assert_int_equal (d.kind, NATSIM_DIST_LOGNORMAL);
  assert_int_equal (d.a, SEC (120));
  assert_true (d.sigma == 0.8);
  assert_true (natsim_parse_dist ("lognormal(1m,5)", &d, NULL));
  assert_true (natsim_parse_dist ("fixed(0s)", &d, NULL));

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;

      if (natsim_parse_dist (bad[i].s, &d, &error))
        fail_msg ("'%s' accepted", bad[i].s);
      assert_invalid (error, bad[i].needle);
    }
}

/* The sample mean of 1e5 draws with a fixed seed lies within @tol
 * (relative) of natsim_dist_mean(), which must equal @analytic. */
static void
check_sample_mean (const char *spec, double analytic, double tol)
{
  g_autoptr (gsl_rng) rng = gsl_rng_alloc (gsl_rng_mt19937);
  NatsimDist d;
  double sum = 0.0;
  const int n = 100000;

  gsl_rng_set (rng, 42);
  assert_true (natsim_parse_dist (spec, &d, NULL));
  assert_true (fabs (natsim_dist_mean (&d) - analytic) <= 1e-9 * analytic);
  for (int i = 0; i < n; i++)
    {
      NatsimTime x = natsim_dist_sample (&d, rng);

      if (d.kind == NATSIM_DIST_UNIFORM)
        assert_true (x >= d.a && x <= d.b);
      sum += (double) x;
    }
  if (fabs (sum / n - analytic) > tol * analytic)
    fail_msg ("%s: sample mean %g, expected %g", spec, sum / n, analytic);
}

static void
test_dist_sample (void **state)
{
  g_autoptr (gsl_rng) rng = gsl_rng_alloc (gsl_rng_mt19937);
  NatsimDist d;

  check_sample_mean ("exponential(180s)", 180e9, 0.02);
  check_sample_mean ("uniform(1s,5s)", 3e9, 0.01);
  check_sample_mean ("lognormal(120s,0.8)", 120e9 * exp (0.32), 0.02);
  check_sample_mean ("lognormal(10ms,0.1)", 10e6 * exp (0.005), 0.01);

  /* Fixed and degenerate uniform are exact. */
  assert_true (natsim_parse_dist ("fixed(30s)", &d, NULL));
  assert_int_equal (natsim_dist_sample (&d, rng), SEC (30));
  assert_true (natsim_dist_mean (&d) == 30e9);
  assert_true (natsim_parse_dist ("uniform(2s,2s)", &d, NULL));
  assert_int_equal (natsim_dist_sample (&d, rng), SEC (2));

  /* The median of lognormal is its parameter. */
  {
    int below = 0;

    assert_true (natsim_parse_dist ("lognormal(120s,0.8)", &d, NULL));
    gsl_rng_set (rng, 7);
    for (int i = 0; i < 100000; i++)
      below += natsim_dist_sample (&d, rng) < SEC (120);
    assert_true (below > 49000 && below < 51000);
  }
}

/* A GError that is already set is a programming error: the parsers refuse
 * it with a critical (g_return_val_if_fail), leave their result and the
 * pending error alone, and report failure. */
static guint n_criticals;

static void
count_critical (const gchar *domain, GLogLevelFlags level, const gchar *message,
                gpointer user_data)
{
  n_criticals++;
}

static void
test_error_already_set (void **state)
{
  GLogLevelFlags fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK);
  guint handler = g_log_set_handler ("natsim-core", G_LOG_LEVEL_CRITICAL, count_critical, NULL);
  g_autoptr (GError) error = g_error_new_literal (NATSIM_ERROR, NATSIM_ERROR_FAILED, "earlier");
  uint64_t v = 7;
  NatsimTime t = 5;
  g_autoptr (GArray) list = NULL;

  n_criticals = 0;
  assert_false (natsim_parse_uint ("12", 100, &v, &error));
  assert_false (natsim_parse_duration ("30s", &t, &error));
  list = natsim_parse_address_list ("192.0.2.1", 0, &error);
  assert_null (list);
  natsim_set_key_error (&error, "key", "later");
  assert_int_equal (n_criticals, 4);
  assert_int_equal (v, 7);
  assert_int_equal (t, 5);
  assert_string_equal (error->message, "earlier");
  g_log_remove_handler ("natsim-core", handler);
  g_log_set_always_fatal (fatal);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_error_already_set),
    cmocka_unit_test (test_duration_good),
    cmocka_unit_test (test_duration_bad),
    cmocka_unit_test (test_duration_format),
    cmocka_unit_test (test_duration_range),
    cmocka_unit_test (test_port_range),
    cmocka_unit_test (test_ipv4),
    cmocka_unit_test (test_address_list),
    cmocka_unit_test (test_address_list_bad),
    cmocka_unit_test (test_endpoint_list),
    cmocka_unit_test (test_bool),
    cmocka_unit_test (test_uint),
    cmocka_unit_test (test_double),
    cmocka_unit_test (test_dist_parse),
    cmocka_unit_test (test_dist_sample),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
