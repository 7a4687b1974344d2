/* natsim: tests of report/ (report.json contract, text summary, writing).
 *
 * The golden files in tests/data/ were checked by hand against docs/report.md.
 * To regenerate them after a deliberate format change, run the test with
 * NATSIM_UPDATE_GOLDEN=1 and review the diff. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <locale.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "natsim/error.h"
#include "natsim/report.h"

#include "report-fixture.h"

static const char *const contract_keys[] = {
  "schema", "natsim_version", "command", "inputs", "seed", "replications",
  "config", "totals", "ci95", "per_class", "per_address", "timeline",
  "recommendations", "warnings",
};

static void
test_json_golden (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *json = natsim_report_to_json (r);
  g_autofree char *again = natsim_report_to_json (r);

  check_golden (json, "report-golden.json");
  assert_string_equal (json, again);
}

static void
check_members (JsonObject *o, const char *const *keys, gsize n_keys)
{
  g_autoptr (GList) members = json_object_get_members (o);
  GList *l = members;

  assert_int_equal (g_list_length (members), n_keys);
  for (gsize i = 0; i < n_keys; i++, l = l->next)
    assert_string_equal (l->data, keys[i]);
}

static void
test_json_contract (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *json = natsim_report_to_json (r);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) config = NULL;
  const char *stat_keys[NATSIM_STAT_N];
  JsonObject *root, *totals, *ci95, *per_class, *timeline, *o;
  JsonArray *a;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  check_members (root, contract_keys, G_N_ELEMENTS (contract_keys));

  assert_string_equal (json_object_get_string_member (root, "schema"),
                       "natsim.report/1");
  assert_string_equal (json_object_get_string_member (root, "natsim_version"),
                       NATSIM_VERSION);
  assert_string_equal (json_object_get_string_member (root, "command"),
                       "simulate");
  assert_int_equal (json_object_get_int_member (root, "seed"), 7);
  assert_int_equal (json_object_get_int_member (root, "replications"), 2);

  o = json_object_get_object_member (root, "inputs");
  {
    static const char *const keys[] = { "scenario", "traces" };

    check_members (o, keys, G_N_ELEMENTS (keys));
  }
  assert_string_equal (json_object_get_string_member (o, "scenario"),
                       "scenarios/x.ini");
  assert_int_equal (
    json_array_get_length (json_object_get_array_member (o, "traces")), 0);

  /* The config is copied as given. */
  config = json_from_string (config_json, &error);
  g_assert_no_error (error);
  assert_true (json_node_equal (config,
                                json_object_get_member (root, "config")));

  for (guint s = 0; s < NATSIM_STAT_N; s++)
    stat_keys[s] = natsim_stat_name (s);
  totals = json_object_get_object_member (root, "totals");
  check_members (totals, stat_keys, NATSIM_STAT_N);
  ci95 = json_object_get_object_member (root, "ci95");
  check_members (ci95, stat_keys, NATSIM_STAT_N);

  /* Integral counts are integers; fractional means and reals are not. */
  assert_int_equal (json_node_get_value_type (
                      json_object_get_member (totals, "flows")),
                    G_TYPE_INT64);
  assert_int_equal (json_object_get_int_member (totals,
                                                "allocation_failures"), 20);
  assert_int_equal (json_node_get_value_type (
                      json_object_get_member (totals, "peak_bindings")),
                    G_TYPE_DOUBLE);
  assert_true (json_object_get_double_member (totals, "peak_bindings")
               == 10.5);
  assert_int_equal (json_node_get_value_type (
                      json_object_get_member (totals,
                                              "blocking_probability")),
                    G_TYPE_DOUBLE);
  assert_true (fabs (json_object_get_double_member (totals,
                                                    "blocking_probability")
                     - 2.0 / 3.0) < 1e-15);
  assert_int_equal (json_node_get_value_type (
                      json_object_get_member (totals,
                                              "unreachable_seconds")),
                    G_TYPE_DOUBLE);
  assert_true (json_object_get_double_member (ci95, "allocation_failures")
               == 1.3);

  per_class = json_object_get_object_member (root, "per_class");
  {
    static const char *const keys[] = { "phones", "apps" };

    check_members (per_class, keys, G_N_ELEMENTS (keys));
  }
  check_members (json_object_get_object_member (per_class, "apps"),
                 stat_keys, NATSIM_STAT_N);

  a = json_object_get_array_member (root, "per_address");
  assert_int_equal (json_array_get_length (a), 2);
  {
    static const char *const keys[] = { "address", "peak_ports",
                                        "allocation_failures", "blocks",
                                        "peak_blocks", "address_fallbacks" };

    o = json_array_get_object_element (a, 1);
    check_members (o, keys, G_N_ELEMENTS (keys));
    assert_string_equal (json_object_get_string_member (o, "address"),
                         "203.0.113.2");
  }

  timeline = json_object_get_object_member (root, "timeline");
  {
    static const char *const keys[] = { "interval_s", "bindings",
                                        "ports_in_use",
                                        "allocation_failures",
                                        "ports_in_use_per_address",
                                        "blocks_in_use",
                                        "subscribers_with_blocks",
                                        "blocks_in_use_per_address" };

    check_members (timeline, keys, G_N_ELEMENTS (keys));
  }
  /* The per-address extension: one series per address, in per_address
   * order, means over the runs. */
  a = json_object_get_array_member (timeline, "ports_in_use_per_address");
  assert_int_equal (json_array_get_length (a), 2);
  {
    static const char *const keys[] = { "address", "ports" };
    JsonArray *ports;

    o = json_array_get_object_element (a, 1);
    check_members (o, keys, G_N_ELEMENTS (keys));
    assert_string_equal (json_object_get_string_member (o, "address"),
                         "203.0.113.2");
    ports = json_object_get_array_member (o, "ports");
    assert_int_equal (json_array_get_length (ports), 3);
    assert_true (json_array_get_double_element (ports, 0) == 0.5);
    assert_true (json_array_get_double_element (ports, 2) == 4.5);
    o = json_array_get_object_element (a, 0);
    assert_int_equal (json_array_get_int_element (
                        json_object_get_array_member (o, "ports"), 1), 3);
  }
  assert_int_equal (json_object_get_int_member (timeline, "interval_s"), 60);
  assert_int_equal (json_array_get_length (
                      json_object_get_array_member (timeline, "bindings")),
                    3);

  a = json_object_get_array_member (root, "recommendations");
  assert_int_equal (json_array_get_length (a), 2);
  {
    static const char *const keys[] = { "id", "value", "unit", "reason",
                                        "basis" };

    o = json_array_get_object_element (a, 0);
    check_members (o, keys, G_N_ELEMENTS (keys));
    assert_string_equal (json_object_get_string_member (o, "id"),
                         "pool.addresses");
    assert_int_equal (json_object_get_int_member (o, "value"), 3);
    assert_string_equal (json_object_get_string_member (o, "basis"),
                         "erlang-b");
  }

  a = json_object_get_array_member (root, "warnings");
  assert_int_equal (json_array_get_length (a), 2);
  {
    static const char *const keys[] = { "id", "message" };

    o = json_array_get_object_element (a, 1);
    check_members (o, keys, G_N_ELEMENTS (keys));
    assert_string_equal (json_object_get_string_member (o, "message"),
                         "a \"quoted\"\tword, a back\\slash and\na line");
  }
}

/* One replication: no confidence intervals, so null for every key.  No
 * summary at all: replications 0 and null figures. */
static void
test_json_without_ci (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autoptr (NatsimReport) empty = natsim_report_new ("analyze");
  g_autofree char *json = NULL;
  g_autofree char *json_empty = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *root, *ci95, *totals;

  r->summary->replications = 1;
  json = natsim_report_to_json (r);
  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  ci95 = json_object_get_object_member (root, "ci95");
  assert_int_equal (json_object_get_size (ci95), NATSIM_STAT_N);
  for (guint s = 0; s < NATSIM_STAT_N; s++)
    assert_true (json_object_get_null_member (ci95, natsim_stat_name (s)));

  json_empty = natsim_report_to_json (empty);
  json_parser_load_from_data (parser, json_empty, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  check_members (root, contract_keys, G_N_ELEMENTS (contract_keys));
  assert_int_equal (json_object_get_int_member (root, "replications"), 0);
  assert_true (json_object_get_null_member (
    json_object_get_object_member (root, "inputs"), "scenario"));
  assert_int_equal (json_object_get_size (
                      json_object_get_object_member (root, "config")),
                    0);
  totals = json_object_get_object_member (root, "totals");
  assert_true (json_object_get_null_member (totals, "flows"));
  assert_non_null (strstr (json_empty, "\"config\": {},\n"));
  assert_non_null (strstr (json_empty, "\"per_address\": [],\n"));
}

/* Number formats: shortest round-trip decimals, locale-independent. */
static void
test_json_numbers (void **state)
{
  static const struct
  {
    double      value;
    const char *text;
  } cases[] = {
    { 0.1, "0.1" },
    { 2.0 / 3.0, "0.6666666666666666" },
    { 22.5, "22.5" },
    { 100.0, "100" },          /* integral: an integer */
    { -0.0, "0" },
    { 1e-05, "1e-05" },
    { 0.0001, "0.0001" },
    { 1.5e20, "1.5e+20" },     /* integral but beyond 2^53: a double */
    { 9007199254740991.0, "9007199254740991" },
    { 123456.789, "123456.789" },
    { -2.5, "-2.5" },
    { 1e300, "1e+300" },
    { 5e-324, "5e-324" },
    { NAN, "null" },
    { INFINITY, "null" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (NatsimReport) r = natsim_report_new ("plan");
      g_autofree char *json = NULL;
      g_autofree char *want = NULL;

      natsim_report_add_recommendation (r, "x", cases[i].value, "u", "b",
                                        "r");
      json = natsim_report_to_json (r);
      want = g_strdup_printf ("\"value\": %s,\n", cases[i].text);
      if (strstr (json, want) == NULL)
        fail_msg ("case %" G_GSIZE_FORMAT ": %s not found in\n%s", i, want,
                  json);
    }

  /* Non-integral doubles in the config keep a '.' ("3.0"). */
  {
    g_autoptr (NatsimReport) r = natsim_report_new ("plan");
    g_autofree char *json = NULL;
    g_autoptr (GError) error = NULL;

    r->config = json_from_string ("{\"a\": 3.0, \"b\": 0.1, \"c\": 3,"
                                  " \"d\": [true, false, null, \"\\u0001\"]}",
                                  &error);
    g_assert_no_error (error);
    json = natsim_report_to_json (r);
    assert_non_null (strstr (json, "\"a\": 3.0,\n"));
    assert_non_null (strstr (json, "\"b\": 0.1,\n"));
    assert_non_null (strstr (json, "\"c\": 3,\n"));
    assert_non_null (strstr (json,
                             "\"d\": [true, false, null, \"\\u0001\"]\n"));
  }
}

static void
test_text (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *text = natsim_report_to_text (r);
  g_autofree char *printed = NULL;
  gsize len = 0;
  FILE *f;

  check_golden (text, "report-golden.txt");

  assert_non_null (strstr (text, "natsim simulate\n"));
  assert_non_null (strstr (text, "  scenario      scenarios/x.ini\n"));
  assert_non_null (strstr (text, "  seed          7\n"));
  assert_non_null (strstr (text, "  replications  2 (means, ± 95 % "));
  assert_non_null (strstr (text, "  allocation failures       20 ± 1.3 "
                                 "(blocking 66.7 %)\n"));
  assert_non_null (strstr (text, "  peak bindings             10.5 ± 6.35\n"));
  assert_non_null (strstr (text, "\nPer class\n"));
  assert_non_null (strstr (text, "\nPer address\n"));
  assert_non_null (strstr (text, "  203.0.113.2"));
  assert_non_null (strstr (text, "  rfc4787.req5: UDP timeout 30 s is below"));
  assert_non_null (strstr (text, "  pool.addresses = 3 addresses (erlang-b): "
                                 "64512 ports per address"));

  /* natsim_report_write_text() prints the same. */
  f = open_memstream (&printed, &len);
  assert_non_null (f);
  natsim_report_write_text (r, f);
  assert_int_equal (fclose (f), 0);
  assert_string_equal (printed, text);

  /* One replication: no "±". */
  r->summary->replications = 1;
  g_free (text);
  text = natsim_report_to_text (r);
  assert_null (strstr (text, "±"));
  assert_non_null (strstr (text, "  allocation failures       20 "
                                 "(blocking 66.7 %)\n"));
}


/* A carrier pool: the text summary lists the 16 busiest addresses and the
 * range of the others, in report order; report.json keeps them all. */
static void
test_text_many_addresses (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *text = NULL;
  g_autofree char *json = NULL;

  (void) state;
  for (guint i = 2; i < 40; i++)
    {
      NatsimAddressSummary a = { 0 };

      a.address = g_strdup_printf ("198.51.100.%u", i);
      /* 198.51.100.2..13 are quiet (1 port); 14..39 busy (100 + i). */
      a.peak_ports = i < 14 ? 1.0 : 100.0 + i;
      g_array_append_val (r->summary->addresses, a);
    }
  text = natsim_report_to_text (r);
  assert_non_null (strstr (text, "(the 16 busiest of 40 addresses; the other 24 peaked at 1 to"));
  assert_non_null (strstr (text, "  198.51.100.39 "));
  assert_non_null (strstr (text, "  198.51.100.24 "));
  assert_null (strstr (text, "  198.51.100.23 "));
  assert_null (strstr (text, "  198.51.100.2 "));
  assert_null (strstr (text, "  203.0.113.2 "));
  json = natsim_report_to_json (r);
  assert_non_null (json);
  assert_non_null (strstr (json, "\"198.51.100.2\""));
  assert_non_null (strstr (json, "\"203.0.113.2\""));
}

/* ---- reports for people ---- */

/* @a occurs in @s before @b. */
static void
assert_before (const char *s, const char *a, const char *b)
{
  const char *pa = strstr (s, a), *pb = strstr (s, b);

  if (pa == NULL || pb == NULL || pa >= pb)
    fail_msg ("expected '%s' before '%s'", a, b);
}

static void
test_markdown (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *md = natsim_report_to_markdown (r);
  g_autofree char *again = natsim_report_to_markdown (r);

  check_golden (md, "report-golden.md");
  assert_string_equal (md, again);

  /* Findings first, then recommendations, then the evidence. */
  assert_before (md, "## Findings", "## Recommendations");
  assert_before (md, "## Recommendations", "## Evidence");
  assert_before (md, "### Configuration", "### Per class");
  assert_before (md, "### Per class", "### Per address");
  assert_before (md, "### Per address", "### Warnings");
  /* A finding in words, with its confidence half-width in points. */
  assert_non_null (strstr (md, "- **Problem:** With 2 public addresses of "
                               "10 ports each, 66.7 % (±10) of new flows "
                               "were refused"));
  assert_non_null (strstr (md, "Figures are means over 2 independent "
                               "replications"));
  assert_non_null (strstr (md, "| `pool.addresses` | 3 addresses |"));
  /* Text from the input cannot become markup or break a line. */
  assert_non_null (strstr (md, "- `test.escaping`: a \"quoted\" word, a "
                               "back\\\\slash and a line\n"));
  assert_non_null (strstr (md, "| **all classes** |"));
}

static void
test_html (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *html = NULL;
  g_autofree char *plain = NULL;

  /* main() sets NATSIM_NO_CHARTS: the golden does not depend on gnuplot. */
  html = natsim_report_to_html (r, TRUE);
  check_golden (html, "report-golden.html");

  assert_true (g_str_has_prefix (html, "<!DOCTYPE html>\n"));
  assert_true (g_str_has_suffix (html, "</html>\n"));
  assert_before (html, "<h2>Findings</h2>", "<h2>Recommendations</h2>");
  assert_before (html, "<h2>Recommendations</h2>", "<h2>Evidence</h2>");
  assert_before (html, "id=\"configuration\"", "id=\"per-class\"");
  assert_before (html, "id=\"per-class\"", "id=\"per-address\"");
  assert_before (html, "id=\"per-address\"", "id=\"warnings\"");
  assert_non_null (strstr (html, "Charts were skipped: charts are disabled "
                                 "(NATSIM_NO_CHARTS is set)."));
  /* Escaped, self-contained, no script. */
  assert_non_null (strstr (html, "a &quot;quoted&quot;\tword, a "
                                 "back\\slash and\na line"));
  assert_null (strstr (html, "<script"));
  assert_null (strstr (html, "<link"));
  assert_null (strstr (html, "src="));
  assert_null (strstr (html, "url("));

  /* Without charts asked for, the page says so instead. */
  plain = natsim_report_to_html (r, FALSE);
  assert_non_null (strstr (plain, "Charts were skipped: they were not "
                                  "requested."));
}

static void
test_html_escapes_names (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *html = NULL;
  g_autofree char *md = NULL;
  NatsimClassSummary *c = &g_array_index (r->summary->classes,
                                          NatsimClassSummary, 0);

  g_free (c->name);
  c->name = g_strdup ("<b>phones</b> & \"co\" | `x`");
  g_free (r->scenario);
  r->scenario = g_strdup ("<script>alert(1)</script>.ini");
  html = natsim_report_to_html (r, FALSE);
  assert_null (strstr (html, "<b>phones"));
  assert_null (strstr (html, "<script>"));
  assert_non_null (strstr (html, "&lt;b&gt;phones&lt;/b&gt; &amp; "
                                 "&quot;co&quot;"));
  md = natsim_report_to_markdown (r);
  assert_non_null (strstr (md, "\\<b\\>phones\\</b\\> \\& \"co\" \\| "
                               "\\`x\\`"));
}

static void
test_csv (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *csv = natsim_report_to_csv (r);
  g_auto (GStrv) lines = g_strsplit (csv, "\r\n", -1);
  NatsimClassSummary *c;

  check_golden (csv, "report-golden.csv");
  assert_int_equal (g_strv_length (lines), 5); /* header, 2 classes, total, "" */
  assert_true (g_str_has_prefix (lines[0], "class,flows,bindings_created,"));
  assert_true (g_str_has_prefix (lines[3], "(total),30,10,4,10.5,"));

  c = &g_array_index (r->summary->classes, NatsimClassSummary, 1);
  g_free (c->name);
  c->name = g_strdup ("a,\"b\"");
  g_free (csv);
  csv = natsim_report_to_csv (r);
  assert_non_null (strstr (csv, "\r\n\"a,\"\"b\"\"\",0,"));
}

/* The blocking finding names the true causes of the refusals. */
static void
test_finding_causes (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *md = NULL;
  NatsimStats *t = &r->summary->totals;

  /* make_report: 20 refusals without a cause split: the classic text. */
  md = natsim_report_to_markdown (r);
  assert_non_null (strstr (md, "of new flows were refused for want of a free port"));
  assert_null (strstr (md, " Why:"));
  g_clear_pointer (&md, g_free);

  t->v[NATSIM_STAT_NO_FREE_BLOCK] = 15.0;
  t->v[NATSIM_STAT_SUBSCRIBER_BLOCK_LIMIT] = 5.0;
  md = natsim_report_to_markdown (r);
  assert_null (strstr (md, "for want of a free port"));
  assert_non_null (strstr (md, " Why: 15 found no free port block on the addresses they "
                               "could use (the pool ran out of blocks: add addresses or "
                               "use smaller blocks); 5 came from subscribers already "
                               "holding all ? of their blocks (nat.blocks\\_per\\_subscriber) "
                               "with every port in use."));
  g_clear_pointer (&md, g_free);

  t->v[NATSIM_STAT_NO_FREE_BLOCK] = 0.0;
  t->v[NATSIM_STAT_SUBSCRIBER_BLOCK_LIMIT] = 0.0;
  t->v[NATSIM_STAT_SUBSCRIBER_PORT_LIMIT] = 20.0;
  md = natsim_report_to_markdown (r);
  assert_non_null (strstr (md, " Why: 20 came from subscribers whose fixed port range "
                               "(deterministic NAT, "));
}

/* Findings are derived from the figures: a clean run says so. */
static void
test_findings (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *md = NULL;
  NatsimStats *t = &r->summary->totals;

  /* make_report: refusals, losses, rebindings, unreachable time. */
  md = natsim_report_to_markdown (r);
  assert_non_null (strstr (md, "The worst interval was 0:02:00-0:03:00 "
                               "after the start, with 20 of the 20 "
                               "refusals"));
  assert_non_null (strstr (md, "3 inbound packets were dropped"));
  assert_non_null (strstr (md, "Class phones loses its bindings"));
  assert_non_null (strstr (md, "Registered endpoints of class phones could "
                               "not be reached for 99.9 endpoint-seconds"));
  assert_non_null (strstr (md, "The configuration fails 2 checks "
                               "(rfc4787.req5, test.escaping)"));
  assert_null (strstr (md, "Nothing was lost"));

  /* Nothing refused or lost. */
  for (guint s = 0; s < NATSIM_STAT_N; s++)
    if (s != NATSIM_STAT_FLOWS && s != NATSIM_STAT_PEAK_PORTS_PER_ADDRESS
        && s != NATSIM_STAT_PACKETS_OUT)
      t->v[s] = 0.0;
  for (guint i = 0; i < r->summary->classes->len; i++)
    {
      NatsimClassSummary *c
        = &g_array_index (r->summary->classes, NatsimClassSummary, i);

      memset (&c->mean, 0, sizeof c->mean);
    }
  g_array_set_size (r->warnings, 0);
  r->summary->replications = 1;
  g_free (md);
  md = natsim_report_to_markdown (r);
  assert_non_null (strstr (md, "- **OK:** Nothing was lost"));
  assert_non_null (strstr (md, "- **OK:** Every new flow got a port (30 "
                               "mapping attempts, no allocation failure)"));
  assert_non_null (strstr (md, "a single replication"));
  assert_non_null (strstr (md, "The configuration passes every check."));

  /* No figures at all. */
  {
    g_autoptr (NatsimReport) empty = natsim_report_new ("analyze");
    g_autofree char *md_empty = natsim_report_to_markdown (empty);
    g_autofree char *html_empty = natsim_report_to_html (empty, TRUE);
    g_autofree char *csv_empty = natsim_report_to_csv (empty);

    assert_non_null (strstr (md_empty, "This report holds no figures."));
    assert_non_null (strstr (html_empty, "This report holds no figures."));
    assert_null (strstr (csv_empty, "(total)"));
  }
}

/* The outputs must not depend on LC_NUMERIC: compare them under a locale
 * with a decimal comma, if the machine has one. */
static void
test_locale_independent (void **state)
{
  static const char *const locales[] = { "de_DE.UTF-8", "de_DE.utf8",
                                         "fr_FR.UTF-8", "fr_FR.utf8",
                                         "ru_RU.UTF-8", "nl_NL.UTF-8" };
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *json_c = NULL;
  g_autofree char *text_c = NULL;
  g_autofree char *md_c = NULL;
  g_autofree char *html_c = NULL;
  g_autofree char *csv_c = NULL;
  g_autofree char *saved = g_strdup (setlocale (LC_NUMERIC, NULL));
  const char *used = NULL;

  setlocale (LC_NUMERIC, "C");
  json_c = natsim_report_to_json (r);
  text_c = natsim_report_to_text (r);
  md_c = natsim_report_to_markdown (r);
  html_c = natsim_report_to_html (r, TRUE);
  csv_c = natsim_report_to_csv (r);

  for (gsize i = 0; i < G_N_ELEMENTS (locales) && used == NULL; i++)
    {
      if (setlocale (LC_NUMERIC, locales[i]) != NULL
          && strcmp (localeconv ()->decimal_point, ",") == 0)
        used = locales[i];
    }
  if (used == NULL)
    {
      setlocale (LC_NUMERIC, saved);
      print_message ("no decimal-comma locale installed; skipped\n");
      skip ();
      return;
    }
  {
    g_autofree char *json_l = natsim_report_to_json (r);
    g_autofree char *text_l = natsim_report_to_text (r);
    g_autofree char *md_l = natsim_report_to_markdown (r);
    g_autofree char *html_l = natsim_report_to_html (r, TRUE);
    g_autofree char *csv_l = natsim_report_to_csv (r);
    char check[32];

    /* The locale really is active: printf would use a comma. */
    g_snprintf (check, sizeof check, "%.1f", 0.5);
    assert_string_equal (check, "0,5");
    setlocale (LC_NUMERIC, saved);
    assert_string_equal (json_l, json_c);
    assert_string_equal (text_l, text_c);
    assert_string_equal (md_l, md_c);
    assert_string_equal (html_l, html_c);
    assert_string_equal (csv_l, csv_c);
  }
}

static char *
make_tmp_dir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("natsim-report-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The sorted names in @dir, joined with spaces. */
static char *
list_dir (const char *dir)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  assert_non_null (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_dir_close (d);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static void
test_write_dir (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *out = g_build_filename (tmp, "out", "sub", NULL);
  g_autofree char *json_path = g_build_filename (out, "report.json", NULL);
  g_autofree char *text_path = g_build_filename (out, "report.txt", NULL);
  g_autofree char *json = natsim_report_to_json (r);
  g_autofree char *text = natsim_report_to_text (r);
  g_autofree char *got = NULL;
  g_autoptr (GError) error = NULL;

  /* json only by default. */
  assert_true (natsim_report_write_dir (r, out, NULL, &error));
  g_assert_no_error (error);
  assert_true (g_file_test (json_path, G_FILE_TEST_IS_REGULAR));
  assert_false (g_file_test (text_path, G_FILE_TEST_EXISTS));

  /* Both, over an existing report.json. */
  assert_true (g_file_set_contents (json_path, "old", -1, NULL));
  assert_true (natsim_report_write_dir (r, out, " text , json ", &error));
  g_assert_no_error (error);
  assert_true (g_file_get_contents (json_path, &got, NULL, NULL));
  assert_string_equal (got, json);
  g_free (got);
  assert_true (g_file_get_contents (text_path, &got, NULL, NULL));
  assert_string_equal (got, text);
  {
    g_autofree char *names = list_dir (out);

    assert_string_equal (names, "report.json report.txt");
  }

  /* Every format. */
  assert_true (natsim_report_write_dir (r, out, NATSIM_REPORT_DEFAULT_FORMATS
                                        ",csv", &error));
  g_assert_no_error (error);
  {
    g_autofree char *names = list_dir (out);
    g_autofree char *md_path = g_build_filename (out, "report.md", NULL);
    g_autofree char *md = natsim_report_to_markdown (r);

    assert_string_equal (names, "report.csv report.html report.json "
                                "report.md report.txt");
    g_free (got);
    assert_true (g_file_get_contents (md_path, &got, NULL, NULL));
    assert_string_equal (got, md);
  }

  remove_tree (tmp);
}

/* Without a browser report.pdf is skipped with a sentence; the other
 * reports are written all the same. */
static void
test_write_dir_pdf_skipped (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *out = g_build_filename (tmp, "out", NULL);
  g_autofree char *json = g_build_filename (out, "report.json", NULL);
  g_autofree char *pdf = g_build_filename (out, "report.pdf", NULL);
  g_autofree char *skipped = NULL;
  g_autofree char *why = NULL;
  g_autoptr (GError) error = NULL;

  g_setenv ("NATSIM_CHROMIUM", "natsim-no-such-browser", TRUE);
  why = natsim_report_pdf_unavailable ();
  assert_string_equal (why, "natsim-no-such-browser (NATSIM_CHROMIUM) is not installed");
  assert_true (natsim_report_write_dir_full (r, out, "json,pdf", &skipped, &error));
  g_assert_no_error (error);
  assert_string_equal (skipped, "report.pdf was skipped: natsim-no-such-browser "
                                "(NATSIM_CHROMIUM) is not installed.");
  assert_true (g_file_test (json, G_FILE_TEST_EXISTS));
  assert_false (g_file_test (pdf, G_FILE_TEST_EXISTS));
  g_unsetenv ("NATSIM_CHROMIUM");
  remove_tree (tmp);
}

static void
test_write_dir_unknown_format (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *out = g_build_filename (tmp, "out", NULL);
  g_autoptr (GError) error = NULL;

  assert_false (natsim_report_write_dir (r, out, "json,md,docx", &error));
  g_assert_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT);
  assert_non_null (strstr (error->message, "'docx'"));
  assert_non_null (strstr (error->message, "text, json, md, html, csv, pdf"));
  g_clear_error (&error);
  assert_false (natsim_report_check_formats ("html, docx", &error));
  g_assert_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  assert_true (natsim_report_check_formats (NATSIM_REPORT_DEFAULT_FORMATS
                                            ",CSV, ,PDF", &error));
  g_assert_no_error (error);
  /* Refused before anything was created. */
  assert_false (g_file_test (out, G_FILE_TEST_EXISTS));

  remove_tree (tmp);
}

/* A write that fails leaves neither a partial report nor a temporary
 * file, and keeps what was there. */
static void
test_write_dir_failure (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *tmp = make_tmp_dir ();
  g_autoptr (GError) error = NULL;

  /* report.json cannot be replaced: a directory is in its way (this
   * fails for root too, unlike a read-only directory). */
  {
    g_autofree char *out = g_build_filename (tmp, "blocked", NULL);
    g_autofree char *in_the_way = g_build_filename (out, "report.json", NULL);
    g_autofree char *names = NULL;

    assert_int_equal (g_mkdir_with_parents (in_the_way, 0755), 0);
    assert_false (natsim_report_write_dir (r, out, "json", &error));
    g_assert_error (error, NATSIM_ERROR, NATSIM_ERROR_IO);
    assert_non_null (strstr (error->message, "report.json"));
    g_clear_error (&error);
    names = list_dir (out);
    assert_string_equal (names, "report.json");
    assert_true (g_file_test (in_the_way, G_FILE_TEST_IS_DIR));
  }

  /* DIR cannot be created: a file is in its way. */
  {
    g_autofree char *file = g_build_filename (tmp, "file", NULL);
    g_autofree char *out = g_build_filename (file, "out", NULL);

    assert_true (g_file_set_contents (file, "x", -1, NULL));
    assert_false (natsim_report_write_dir (r, out, "json", &error));
    g_assert_error (error, NATSIM_ERROR, NATSIM_ERROR_IO);
    assert_non_null (strstr (error->message, out));
    g_clear_error (&error);
  }

  /* A read-only directory (meaningless for root, who may write anyway). */
  if (geteuid () != 0)
    {
      g_autofree char *out = g_build_filename (tmp, "readonly", NULL);
      g_autofree char *json_path = g_build_filename (out, "report.json",
                                                     NULL);
      g_autofree char *names = NULL;
      g_autofree char *got = NULL;

      assert_int_equal (g_mkdir (out, 0755), 0);
      assert_true (g_file_set_contents (json_path, "old", -1, NULL));
      assert_int_equal (g_chmod (out, 0555), 0);
      assert_false (natsim_report_write_dir (r, out, "text,json", &error));
      g_assert_error (error, NATSIM_ERROR, NATSIM_ERROR_IO);
      g_clear_error (&error);
      names = list_dir (out);
      assert_string_equal (names, "report.json");
      assert_true (g_file_get_contents (json_path, &got, NULL, NULL));
      assert_string_equal (got, "old");
      assert_int_equal (g_chmod (out, 0755), 0);
    }

  remove_tree (tmp);
}

static void
test_write_file_atomic (void **state)
{
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *path = g_build_filename (tmp, "f.txt", NULL);
  g_autofree char *missing = g_build_filename (tmp, "no", "f.txt", NULL);
  g_autofree char *got = NULL;
  g_autofree char *names = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;

  assert_true (natsim_write_file_atomic (path, "abc\0def", 7, &error));
  g_assert_no_error (error);
  assert_true (g_file_get_contents (path, &got, &len, NULL));
  assert_int_equal (len, 7);
  assert_memory_equal (got, "abc\0def", 7);

  assert_false (natsim_write_file_atomic (missing, "x", -1, &error));
  g_assert_error (error, NATSIM_ERROR, NATSIM_ERROR_IO);
  assert_non_null (strstr (error->message, missing));

  names = list_dir (tmp);
  assert_string_equal (names, "f.txt");
  remove_tree (tmp);
}

/* Findings are ranked by harm: missed calls, then unreachable endpoints,
 * then refused flows, then lost packets; a headline says what matters. */
static void
test_findings_ranked_by_harm (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *md = NULL;
  NatsimStats *t = &r->summary->totals;
  NatsimClassSummary *phones = &g_array_index (r->summary->classes, NatsimClassSummary, 0);

  t->v[NATSIM_STAT_MISSED_CALLS] = 4.0;
  phones->mean.v[NATSIM_STAT_MISSED_CALLS] = 4.0;
  md = natsim_report_to_markdown (r);
  assert_before (md, "**What matters:** 4 missed calls", "- **Problem:**");
  assert_before (md, "4 incoming calls were missed", "could not be reached");
  assert_before (md, "could not be reached", "of new flows were refused");
  assert_before (md, "of new flows were refused", "inbound packets were dropped");
  /* One missed call is singular. */
  t->v[NATSIM_STAT_MISSED_CALLS] = 1.0;
  g_free (md);
  md = natsim_report_to_markdown (r);
  assert_non_null (strstr (md, "1 missed call;"));
  assert_non_null (strstr (md, "1 incoming call was missed"));
}

/* Housekeeping rebindings (NTP polls) are never a problem; signalling
 * rebindings are, and the finding says which kind they are. */
static void
test_findings_kinds (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *md = NULL;
  g_autofree char *html = NULL;
  NatsimStats *t = &r->summary->totals;
  NatsimClassSummary *phones = &g_array_index (r->summary->classes, NatsimClassSummary, 0);

  /* Only housekeeping: 25 of 30 attempts rebind, all NTP. */
  for (guint s = 0; s < NATSIM_STAT_N; s++)
    if (s != NATSIM_STAT_FLOWS && s != NATSIM_STAT_PEAK_PORTS_PER_ADDRESS
        && s != NATSIM_STAT_PACKETS_OUT)
      t->v[s] = 0.0;
  for (guint i = 0; i < r->summary->classes->len; i++)
    memset (&g_array_index (r->summary->classes, NatsimClassSummary, i).mean, 0,
            sizeof (NatsimStats));
  t->v[NATSIM_STAT_REBINDINGS] = t->v[NATSIM_STAT_REBINDINGS_HOUSEKEEPING] = 25.0;
  t->v[NATSIM_STAT_BINDING_LOSSES] = t->v[NATSIM_STAT_BINDING_LOSSES_HOUSEKEEPING] = 2.0;
  phones->mean = *t;
  g_array_set_size (r->warnings, 0);
  md = natsim_report_to_markdown (r);
  assert_null (strstr (md, "**Problem:**"));
  assert_null (strstr (md, "**Note:**"));
  assert_non_null (strstr (md, "- **OK:** 25 rebindings and 2 inbound packets lost belong to "
                               "housekeeping flows (NTP, configuration or firmware checks) of "
                               "class phones: harmless"));
  assert_non_null (strstr (md, "- **OK:** Nothing was lost"));
  assert_non_null (strstr (md, "no inbound packet lost."));
  assert_non_null (strstr (md, "| housekeeping (NTP, configuration, firmware) | 25 | 2 |"));
  /* The chart leaves housekeeping out: only it here, so no bar chart. */
  html = natsim_report_to_html (r, FALSE);
  assert_non_null (strstr (html, "By flow kind"));

  /* Signalling on top: a problem, named as such. */
  t->v[NATSIM_STAT_REBINDINGS] += 20.0;
  t->v[NATSIM_STAT_REBINDINGS_SIGNALLING] = 20.0;
  phones->mean = *t;
  g_free (md);
  md = natsim_report_to_markdown (r);
  assert_non_null (strstr (md, "- **Problem:** Class phones loses its bindings between packets: "
                               "20 of its 30 mapping attempts (66.7 %) re-created a binding "
                               "that had expired, all signalling,"));
  assert_before (md, "**Problem:** Class phones", "**OK:** 25 rebindings");
}

/* A check failed by several populations is named once. */
static void
test_findings_warning_ids_once (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *md = NULL;

  g_array_set_size (r->warnings, 0);
  natsim_report_add_warning (r, "refresh.udp", "[population a] too slow");
  natsim_report_add_warning (r, "rfc4787.req5", "short");
  natsim_report_add_warning (r, "refresh.udp", "[population b] too slow");
  md = natsim_report_to_markdown (r);
  assert_non_null (strstr (md, "The configuration fails 2 checks (refresh.udp 2 times, "
                               "rfc4787.req5); see Warnings below."));
}

/* No number in any report for people is in exponent notation, whatever
 * the figures and whatever other modules wrote in reasons. */
static void
test_no_exponent (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *text = NULL;
  g_autofree char *md = NULL;
  g_autofree char *html = NULL;
  g_autoptr (GRegex) exp = g_regex_new ("[0-9][eE][-+]?[0-9]", 0, 0, NULL);
  NatsimStats *t = &r->summary->totals;

  t->v[NATSIM_STAT_PACKETS_OUT] = 1887000.0;
  r->summary->ci95.v[NATSIM_STAT_PACKETS_OUT] = 16.707843102739446;
  t->v[NATSIM_STAT_BLOCKING_PROBABILITY] = 5.8e-25;
  r->summary->ci95.v[NATSIM_STAT_UNREACHABLE_SECONDS] = 1e-9;
  natsim_report_add_recommendation (r, "pool.addresses", 36210.0, "erlang", "erlang-b",
                                    "%.4g erlang at %g %%", 36210.0, 5.8e-23);
  natsim_report_add_warning (r, "x.y", "offered %g", 1.887e6);
  text = natsim_report_to_text (r);
  md = natsim_report_to_markdown (r);
  html = natsim_report_to_html (r, FALSE);
  assert_non_null (strstr (text, "1.89 M ± 16.7"));
  assert_non_null (strstr (md, "36,200 erlang at \\< 0.001 %"));
  assert_non_null (strstr (md, "offered 1.89 M"));
  assert_false (g_regex_match (exp, text, 0, NULL));
  assert_false (g_regex_match (exp, md, 0, NULL));
  assert_false (g_regex_match (exp, html, 0, NULL));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_json_golden),
    cmocka_unit_test (test_json_contract),
    cmocka_unit_test (test_json_without_ci),
    cmocka_unit_test (test_json_numbers),
    cmocka_unit_test (test_text),
    cmocka_unit_test (test_text_many_addresses),
    cmocka_unit_test (test_markdown),
    cmocka_unit_test (test_html),
    cmocka_unit_test (test_html_escapes_names),
    cmocka_unit_test (test_csv),
    cmocka_unit_test (test_findings),
    cmocka_unit_test (test_finding_causes),
    cmocka_unit_test (test_findings_ranked_by_harm),
    cmocka_unit_test (test_findings_kinds),
    cmocka_unit_test (test_findings_warning_ids_once),
    cmocka_unit_test (test_no_exponent),
    cmocka_unit_test (test_locale_independent),
    cmocka_unit_test (test_write_dir),
    cmocka_unit_test (test_write_dir_unknown_format),
    cmocka_unit_test (test_write_dir_pdf_skipped),
    cmocka_unit_test (test_write_dir_failure),
    cmocka_unit_test (test_write_file_atomic),
  };

  setlocale (LC_ALL, "");
  /* The reports for people are compared with golden files: no charts
   * (they depend on gnuplot's version; test-html.c covers them). */
  g_setenv ("NATSIM_NO_CHARTS", "1", TRUE);
  return cmocka_run_group_tests (tests, NULL, NULL);
}
