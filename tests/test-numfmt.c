/* natsim: the number formatter of the reports for people. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <locale.h>
#include <math.h>
#include <string.h>

#include "natsim/numfmt.h"

static void
check_num (double v, const char *want)
{
  char buf[NATSIM_NUM_BUF];

  if (strcmp (natsim_fmt_num (buf, v), want) != 0)
    fail_msg ("natsim_fmt_num (%.17g) = '%s', expected '%s'", v, buf, want);
}

static void
test_num (void **state)
{
  check_num (0.0, "0");
  check_num (-0.0, "0");
  check_num (3.0, "3");
  check_num (8.6, "8.6");
  check_num (19.9, "19.9");
  check_num (413.6, "414");
  check_num (0.047, "0.047");
  check_num (0.0012345, "0.00123");
  check_num (9.996, "10");
  check_num (999.6, "1,000");
  check_num (1106.4, "1,110");
  check_num (10539.0, "10,500");
  check_num (26085.79, "26,100");
  check_num (595820.2, "596,000");
  check_num (-24879.0, "-24,900");
  check_num (1887000.0, "1.89 M");
  check_num (999950.0, "1 M");
  check_num (36210.0, "36,200");
  check_num (999.95e6, "1 G");
  check_num (16.707843102739446, "16.7");
  check_num (5.8e-25, "< 0.001");
  check_num (-5.8e-25, "> -0.001");
  check_num (1e300, "> 999 P");
  check_num (2.5e15, "2.5 P");
  check_num (-1e300, "< -999 P");
  check_num (NAN, "n/a");
  check_num (INFINITY, "n/a");
}

static void
test_int_percent_noun (void **state)
{
  char buf[NATSIM_NUM_BUF];

  assert_string_equal (natsim_fmt_int (buf, 64512), "64,512");
  assert_string_equal (natsim_fmt_int (buf, 999), "999");
  assert_string_equal (natsim_fmt_int (buf, 1000), "1,000");
  assert_string_equal (natsim_fmt_int (buf, 1234567), "1,234,567");
  assert_string_equal (natsim_fmt_int (buf, -0.2), "0");
  assert_string_equal (natsim_fmt_percent (buf, 0.0), "0");
  assert_string_equal (natsim_fmt_percent (buf, 0.988), "98.8");
  assert_string_equal (natsim_fmt_percent (buf, 0.349), "34.9");
  assert_string_equal (natsim_fmt_percent (buf, 0.006), "0.6");
  assert_string_equal (natsim_fmt_percent (buf, 1.5e-5), "0.0015");
  assert_string_equal (natsim_fmt_percent (buf, 5.8e-25), "< 0.001");
  assert_string_equal (natsim_fmt_percent (buf, 0.99996), "> 99.9");
  assert_string_equal (natsim_fmt_percent (buf, 1.0), "100");
  assert_string_equal (natsim_fmt_noun (buf, 1, TRUE, "address", "addresses"), "1 address");
  assert_string_equal (natsim_fmt_noun (buf, 2, TRUE, "address", "addresses"), "2 addresses");
  assert_string_equal (natsim_fmt_noun (buf, 0, TRUE, "address", "addresses"), "0 addresses");
  assert_string_equal (natsim_fmt_noun (buf, 10.4, FALSE, "call", "calls"), "10.4 calls");
  assert_string_equal (natsim_fmt_noun (buf, 1.0004, FALSE, "call", "calls"), "1 call");
  assert_string_equal (natsim_fmt_noun (buf, 1500, TRUE, "port", "ports"), "1,500 ports");
}

static void
test_text_plain (void **state)
{
  static const struct
  {
    const char *in, *want;
  } cases[] = {
    { "3.621e+04 erlang", "36,200 erlang" },
    { "at 5.8e-23 %", "at < 0.001 %" },
    { "x 1.887e+06 y", "x 1.89 M y" },
    { "rfc4787.req5 and 1e5x and 2E3", "rfc4787.req5 and 1e5x and 2,000" },
    { "a -2.5e+03 b", "a -2,500 b" },
    { "no numbers here", "no numbers here" },
    { "30s..120s 3e", "30s..120s 3e" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = natsim_fmt_text_plain (cases[i].in);

      if (strcmp (got, cases[i].want) != 0)
        fail_msg ("'%s' -> '%s', expected '%s'", cases[i].in, got, cases[i].want);
    }
}

/* A decimal-comma locale changes nothing. */
static void
test_locale (void **state)
{
  char buf[NATSIM_NUM_BUF];

  if (setlocale (LC_ALL, "de_DE.UTF-8") == NULL)
    skip ();
  assert_string_equal (natsim_fmt_num (buf, 19.9), "19.9");
  assert_string_equal (natsim_fmt_num (buf, 1887000.0), "1.89 M");
  assert_string_equal (natsim_fmt_int (buf, 64512), "64,512");
  setlocale (LC_ALL, "C");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_num),
    cmocka_unit_test (test_int_percent_noun),
    cmocka_unit_test (test_text_plain),
    cmocka_unit_test (test_locale),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
