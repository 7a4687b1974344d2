/* natsim classify end to end, and [forward NAME] groups in scenarios. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define CLI_HARNESS_TMPDIR "natsim-classify-XXXXXX"
#include "cli-harness.h"

static const char *const files[] = {
  "classification.txt", "classification.json", "classification.md", "classification.html"
};

static void
test_default_outputs (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *out = g_build_filename (dir, "c", NULL);
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *root, *life;
  JsonArray *tests;
  Run r = natsim ("classify", "--out", out, NULL);

  assert_int_equal (r.status, 0);
  assert_non_null (strstr (r.out, "port-restricted cone"));
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *p = g_build_filename (out, files[i], NULL);
      assert_true (g_file_test (p, G_FILE_TEST_IS_REGULAR));
    }
  {
    g_autofree char *p = g_build_filename (out, "classification.json", NULL);
    root = load_json (p, &parser);
  }
  assert_string_equal (json_object_get_string_member (root, "schema"), "natsim.classification/1");
  assert_string_equal (json_object_get_string_member (root, "mapping"), "endpoint-independent");
  assert_string_equal (json_object_get_string_member (root, "filtering"), "address-port-dependent");
  assert_false (json_object_get_boolean_member (root, "hairpinning"));
  assert_true (json_object_get_boolean_member (root, "port_preservation"));
  assert_true (json_object_get_null_member (root, "pooling"));
  life = json_object_get_object_member (root, "binding_lifetime_s");
  assert_int_equal (json_object_get_int_member (life, "udp"), 30);
  assert_int_equal (json_object_get_int_member (life, "tcp"), 432000);
  assert_string_equal (json_object_get_string_member (root, "rfc3489_name"), "port-restricted cone");
  tests = json_object_get_array_member (root, "tests");
  assert_true (json_array_get_length (tests) >= 10);
  for (guint i = 0; i < json_array_get_length (tests); i++)
    {
      JsonObject *t = json_array_get_object_element (tests, i);
      assert_true (json_object_has_member (t, "transcript"));
      assert_true (json_object_has_member (t, "reasoning"));
    }
  run_clear (&r);
  natsim_ok ("classify", "--out", out, "--format", "json", "-q", NULL);
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
  assert_int_equal (system (cmd), 0);
}

/* Same inputs, byte-identical classification.json; --set reaches the NAT. */
static void
test_deterministic_and_set (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *a = g_build_filename (dir, "a", NULL);
  g_autofree char *b = g_build_filename (dir, "b", NULL);
  g_autofree char *ja = NULL, *jb = NULL;
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);

  natsim_ok ("classify", "--set", "nat.preset=pf", "--format", "json", "--out", a, "-q", NULL);
  natsim_ok ("classify", "--set", "nat.preset=pf", "--format", "json", "--out", b, "-q", NULL);
  {
    g_autofree char *pa = g_build_filename (a, "classification.json", NULL);
    g_autofree char *pb = g_build_filename (b, "classification.json", NULL);
    ja = read_file (pa);
    jb = read_file (pb);
  }
  assert_string_equal (ja, jb);
  assert_non_null (strstr (ja, "\"rfc3489_name\": \"symmetric\""));
  assert_non_null (strstr (ja, "\"preset\": \"pf\""));
  natsim_ok ("classify", "--set", "nat.filtering=endpoint-independent", "--set",
             "nat.hairpinning=true", "--format", "json", "--out", a, "-q", NULL);
  g_free (ja);
  {
    g_autofree char *pa = g_build_filename (a, "classification.json", NULL);
    ja = read_file (pa);
  }
  assert_non_null (strstr (ja, "\"rfc3489_name\": \"full cone\""));
  assert_non_null (strstr (ja, "\"hairpinning\": true"));
  assert_int_equal (system (cmd), 0);
}

static void
test_bad_input (void **state)
{
  static const char *const cases[][4] = {
    { "classify", "--format", "csv", NULL },
    { "classify", "--set", "nat.mapping=cone", NULL },
    { "classify", "--set", "population.x.count=3", NULL },
    { "classify", "--set", "nat.preset=openwrt", NULL },
    { "classify", "does-not-exist.ini", NULL, NULL },
    { "classify", "a.ini", "b.ini", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Run r = natsim_argv (cases[i]);
      if (r.status != 2)
        fail_msg ("natsim %s %s: status %d", cases[i][1], cases[i][2], r.status);
      assert_non_null (strstr (r.err, "natsim: "));
      /* One line. */
      assert_ptr_equal (strchr (r.err, '\n'), r.err + strlen (r.err) - 1);
      run_clear (&r);
    }
}

static char *
write_scenario (const char *dir, const char *name, const char *forward)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *text = g_strdup_printf (
    "[simulation]\nduration = 1m\n\n[nat]\npreset = linux\naddresses = 203.0.113.1\n\n"
    "%s\n[population x]\nprofile = generic\nflows = 1\ndestinations = 198.51.100.10:5060\n",
    forward);

  assert_true (g_file_set_contents (path, text, -1, NULL));
  return g_steal_pointer (&path);
}

/* [forward NAME]: accepted when right, refused with file, line, group and
 * key when not; echoed in report.json's config. */
static void
test_forward_groups (void **state)
{
  static const struct { const char *body, *expect; } bad[] = {
    { "[forward t]\nprotocol = tcp\npublic = 203.0.113.9:5062\ninside = 10.0.0.1:5062\n",
      ":10: [forward t] public: expected an address of [nat] addresses" },
    { "[forward t]\nprotocol = tcp\npublic = 203.0.113.1:80\ninside = 10.0.0.1:5062\n",
      "[forward t] public: expected a port inside [nat] port_range 1024-65535, got 80" },
    { "[forward t]\nprotocol = sctp\npublic = 203.0.113.1:5062\ninside = 10.0.0.1:5062\n",
      ":9: [forward t] protocol: expected one of udp or tcp" },
    { "[forward t]\nprotocol = tcp\npublic = 203.0.113.1:5062\n",
      "[forward t] inside: required key missing" },
    { "[forward t]\nprotocol = tcp\npublic = 203.0.113.1:5062\ninside = 10.0.0.1:5062\nport = 1\n",
      ":12: [forward t] port: unknown key" },
    { "[forward t]\nprotocol = tcp\npublic = 203.0.113.1:5062\ninside = 10.0.0.1:5062\n"
      "[forward u]\nprotocol = tcp\npublic = 203.0.113.1:5062\ninside = 10.0.0.2:5062\n",
      "[forward u] public: [forward t] forwards the same public endpoint" },
    { "[forward t]\nprotocol = tcp\npublic = 203.0.113.1:5062\ninside = 0.0.0.0:5062\n",
      ":11: [forward t] inside: expected the address of an inside host, got 0.0.0.0 (the unspecified address)" },
    { "[forward t]\nprotocol = tcp\npublic = 203.0.113.1:5062\ninside = 203.0.113.1:5063\n",
      "[forward t] inside: expected the address of an inside host, got 203.0.113.1 (a public address of this NAT)" },
    { "[forward t]\nprotocol = udp\npublic = 203.0.113.1:5062\ninside = 239.1.1.1:5062\n",
      "[forward t] inside: expected the address of an inside host, got 239.1.1.1 (a multicast, reserved or broadcast address)" },
    { "[forward a b]\nprotocol = tcp\npublic = 203.0.113.1:5062\ninside = 10.0.0.1:5062\n",
      "[forward a b]: expected [forward NAME]" },
  };
  g_autofree char *dir = tmpdir ();
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
  g_autofree char *good = write_scenario (
    dir, "good.ini", "[forward trunk]\nprotocol = tcp\npublic = 203.0.113.1:5062\ninside = 10.0.0.1:5062\n");
  g_autofree char *out = g_build_filename (dir, "out", NULL);
  g_autofree char *json = NULL;

  natsim_ok ("simulate", good, "--out", out, "--format", "json", "-q", NULL);
  {
    g_autofree char *p = g_build_filename (out, "report.json", NULL);
    json = read_file (p);
  }
  assert_non_null (strstr (json, "\"public\": \"203.0.113.1:5062\""));
  {
    Run r = natsim ("check", good, NULL);
    assert_int_equal (r.status, 0);
    assert_non_null (strstr (r.out, "[forward trunk]"));
    assert_non_null (strstr (r.out, "203.0.113.1:5062"));
    run_clear (&r);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *path = write_scenario (dir, "bad.ini", bad[i].body);
      Run r = natsim ("check", path, NULL);
      if (r.status != 2 || strstr (r.err, bad[i].expect) == NULL)
        fail_msg ("case %zu: status %d, stderr '%s', expected '%s'", i, r.status, r.err,
                  bad[i].expect);
      run_clear (&r);
    }
  assert_int_equal (system (cmd), 0);
}

/* A figure of report.json: "totals" (@cls NULL) or per_class.@cls. */
static double
figure (const char *dir, const char *cls, const char *key)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *root = load_report (dir, &parser);
  JsonObject *o = cls == NULL ? json_object_get_object_member (root, "totals")
                              : json_object_get_object_member (
                                  json_object_get_object_member (root, "per_class"), cls);

  assert_non_null (o);
  return json_object_get_double_member (o, key);
}

static char *
html_of (const char *dir)
{
  g_autofree char *p = g_build_filename (dir, "report.html", NULL);
  return read_file (p);
}

/* docs/classroom.md quotes these figures; if the model changes them, the
 * lesson text must change too. */
static void
test_classroom_lessons (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
  g_autofree char *d = g_build_filename (dir, "r", NULL);
  g_autofree char *html = NULL;

  natsim_ok ("simulate", "scenarios/classroom-exhaustion.ini", "-q", "-o", d, NULL);
  assert_int_equal (figure (d, "one-server", "allocation_failures"), 20);
  assert_int_equal (figure (d, "three-servers", "allocation_failures"), 0);
  assert_int_equal (figure (d, NULL, "peak_ports_per_address"), 10);
  html = html_of (d);
  assert_non_null (strstr (html, "id=\"packets\""));
  assert_non_null (strstr (html, "dropped: no free port (allocation failure)"));
  g_clear_pointer (&html, g_free);
  natsim_ok ("simulate", "scenarios/classroom-exhaustion.ini", "--set", "nat.port_reuse=exclusive",
             "-q", "-o", d, NULL);
  assert_int_equal (figure (d, "three-servers", "allocation_failures"), 20);

  natsim_ok ("simulate", "scenarios/classroom-timeout.ini", "-q", "-o", d, NULL);
  assert_int_equal (figure (d, "keepalive-40s", "rebindings"), 11);
  assert_int_equal (figure (d, "probed-31s", "binding_losses"), 1);
  assert_int_equal (figure (d, "probed-twice", "binding_losses"), 0);
  natsim_ok ("simulate", "scenarios/classroom-timeout.ini", "--set", "nat.refresh=outbound", "-q",
             "-o", d, NULL);
  assert_int_equal (figure (d, "probed-twice", "binding_losses"), 1);
  natsim_ok ("simulate", "scenarios/classroom-timeout.ini", "--set", "nat.udp_timeout=2m", "-q",
             "-o", d, NULL);
  assert_int_equal (figure (d, NULL, "binding_losses") + figure (d, NULL, "rebindings"), 0);

  {
    static const char *const f[] = { "address-port-dependent", "address-dependent",
                                     "endpoint-independent" };
    static const int port[] = { 1, 0, 0 }, addr[] = { 1, 1, 0 };
    for (int i = 0; i < 3; i++)
      {
        g_autofree char *set = g_strdup_printf ("nat.filtering=%s", f[i]);
        natsim_ok ("simulate", "scenarios/classroom-filtering.ini", "--set", set, "-q", "-o", d,
                   NULL);
        assert_int_equal (figure (d, "same-server", "filtered"), 0);
        assert_int_equal (figure (d, "same-server", "packets_in"), 1);
        assert_int_equal (figure (d, "other-port", "filtered"), port[i]);
        assert_int_equal (figure (d, "other-address", "filtered"), addr[i]);
      }
  }

  natsim_ok ("simulate", "scenarios/classroom-hairpinning.ini", "-q", "-o", d, NULL);
  assert_int_equal (figure (d, NULL, "packets_out"), 4);
  assert_int_equal (figure (d, NULL, "packets_dropped"), 0);
  html = html_of (d);
  assert_non_null (strstr (html, "(hairpin)"));
  g_clear_pointer (&html, g_free);
  natsim_ok ("simulate", "scenarios/classroom-hairpinning.ini", "--set", "nat.hairpinning=false",
             "-q", "-o", d, NULL);
  assert_int_equal (figure (d, NULL, "packets_out"), 1);
  assert_int_equal (figure (d, NULL, "packets_dropped"), 3);
  html = html_of (d);
  assert_non_null (strstr (html, "dropped: for the NAT box itself (no hairpinning)"));
  g_clear_pointer (&html, g_free);

  natsim_ok ("simulate", "scenarios/classroom-blocks.ini", "-q", "-o", d, NULL);
  assert_int_equal (figure (d, "heavy", "allocation_failures"), 8);
  assert_int_equal (figure (d, "light", "allocation_failures"), 4);
  assert_int_equal (figure (d, "late", "allocation_failures"), 0);
  natsim_ok ("simulate", "scenarios/classroom-blocks.ini", "--set", "nat.pooling=arbitrary", "-q",
             "-o", d, NULL);
  assert_int_equal (figure (d, "late", "allocation_failures"), 4);

  natsim_ok ("replay", "traces/isa-sip-call-lab.pcap", "--inside", "10.0.2.15/32", "-q", "-o", d,
             NULL);
  assert_int_equal (figure (d, NULL, "packets_dropped"), 5);
  natsim_ok ("replay", "traces/isa-sip-call-lab.pcap", "--inside", "10.0.2.15/32", "--set",
             "nat.udp_timeout=10s", "-q", "-o", d, NULL);
  assert_int_equal (figure (d, NULL, "binding_losses"), 1);
  natsim_ok ("replay", "traces/isa-sip-call-lab.pcap", "--inside", "10.0.2.15/32", "--scenario",
             "scenarios/classroom-capture.ini", "-q", "-o", d, NULL);
  assert_int_equal (figure (d, NULL, "packets_in"), 88);
  assert_int_equal (figure (d, NULL, "packets_dropped"), 1);
  natsim_ok ("replay", "traces/isa-sip-call-lab.pcap", "--inside", "10.0.2.15/32", "--scenario",
             "scenarios/classroom-capture.ini", "--set", "nat.udp_timeout=10s", "-q", "-o", d, NULL);
  assert_int_equal (figure (d, NULL, "binding_losses"), 0);
  assert_int_equal (system (cmd), 0);
}

/* A certificate trunk's incoming calls need a static forward of its
 * listen port; a registration trunk's arrive over its own connection. */
static void
test_certificate_trunk_forward (void **state)
{
  static const char *const base =
    "[simulation]\nduration = 10m\nseed = 1\nreplications = 1\n\n[nat]\npreset = linux\n"
    "addresses = 203.0.113.1\n\n%s[population lgw]\nprofile = local-gateway\ncount = 1\n"
    "trunk = %s\nerlangs = 5\ninbound_fraction = 1\n";
  static const char *const fw =
    "[forward trunk]\nprotocol = tcp\npublic = 203.0.113.1:5062\ninside = 10.0.0.1:5062\n\n";
  g_autofree char *dir = tmpdir ();
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
  g_autofree char *d = g_build_filename (dir, "r", NULL);
  g_autofree char *p = g_build_filename (dir, "gw.ini", NULL);
  double missed_without;

  {
    g_autofree char *t = g_strdup_printf (base, "", "certificate");
    assert_true (g_file_set_contents (p, t, -1, NULL));
  }
  natsim_ok ("simulate", p, "-q", "-o", d, "--format", "json", NULL);
  missed_without = figure (d, NULL, "missed_calls");
  assert_true (missed_without > 0);
  assert_true (figure (d, NULL, "packets_dropped") >= missed_without);
  {
    g_autofree char *t = g_strdup_printf (base, fw, "certificate");
    assert_true (g_file_set_contents (p, t, -1, NULL));
  }
  natsim_ok ("simulate", p, "-q", "-o", d, "--format", "json", NULL);
  assert_int_equal (figure (d, NULL, "missed_calls"), 0);
  {
    g_autofree char *t = g_strdup_printf (base, "", "registration");
    assert_true (g_file_set_contents (p, t, -1, NULL));
  }
  natsim_ok ("simulate", p, "-q", "-o", d, "--format", "json", NULL);
  assert_int_equal (figure (d, NULL, "missed_calls"), 0);
  assert_int_equal (system (cmd), 0);
}

/* Only runs of at most 300 packets get the packet diagram. */
static void
test_packet_diagram_only_small (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
  g_autofree char *d = g_build_filename (dir, "r", NULL);
  g_autofree char *big = write_scenario (dir, "big.ini", "");
  g_autofree char *html = NULL;

  natsim_ok ("simulate", big, "--set", "population.x.flows=300", "-q", "-o", d, NULL);
  html = html_of (d);
  assert_non_null (strstr (html, "The 300 packets of the run"));
  g_clear_pointer (&html, g_free);
  natsim_ok ("simulate", big, "--set", "population.x.flows=301", "-q", "-o", d, NULL);
  html = html_of (d);
  assert_null (strstr (html, "id=\"packets\""));
  assert_int_equal (system (cmd), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_default_outputs),
    cmocka_unit_test (test_deterministic_and_set),
    cmocka_unit_test (test_bad_input),
    cmocka_unit_test (test_forward_groups),
    cmocka_unit_test (test_classroom_lessons),
    cmocka_unit_test (test_certificate_trunk_forward),
    cmocka_unit_test (test_packet_diagram_only_small),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
