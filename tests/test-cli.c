/* natsim: the command line end to end (integration suite).
 *
 * Runs the natsim executable (path from $NATSIM) on the shipped scenarios and
 * on broken input, parses report.json with json-glib and checks the figures
 * the scenarios are built to show, determinism, and exit statuses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "cli-harness.h"

static double
class_figure (JsonObject *report, const char *cls, const char *key)
{
  JsonObject *per_class = json_object_get_object_member (report, "per_class");
  JsonObject *c = json_object_get_object_member (per_class, cls);

  assert_non_null (c);
  return json_object_get_double_member (c, key);
}

static void
test_version_and_help (void **state)
{
  Run r = natsim ("--version", NULL);
  assert_int_equal (r.status, 0);
  assert_true (g_str_has_prefix (r.out, "natsim 0."));
  run_clear (&r);

  r = natsim ("--help", NULL);
  assert_int_equal (r.status, 0);
  assert_non_null (strstr (r.out, "Examples:"));
  run_clear (&r);

  r = natsim ("simulate", "--help", NULL);
  assert_int_equal (r.status, 0);
  assert_non_null (strstr (r.out, "--replications"));
  assert_non_null (strstr (r.out, "Examples:"));
  run_clear (&r);

  r = natsim (NULL);
  assert_int_equal (r.status, 2);
  run_clear (&r);

  r = natsim ("simulat", NULL);
  assert_int_equal (r.status, 2);
  assert_non_null (strstr (r.err, "unknown command"));
  run_clear (&r);
}

static void
test_catalogues (void **state)
{
  const char *presets[] = { "linux", "rfc", "cisco-ios", "cisco-asa", "pf", "juniper-pba" };
  Run r = natsim ("presets", NULL);

  assert_int_equal (r.status, 0);
  for (guint i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      g_autofree char *needle = g_strdup_printf ("preset = %s\n", presets[i]);
      assert_non_null (strstr (r.out, needle));
    }
  run_clear (&r);
  r = natsim ("profiles", NULL);
  assert_int_equal (r.status, 0);
  assert_non_null (strstr (r.out, "profile = generic"));
  assert_non_null (strstr (r.out, "inbound_probes"));
  run_clear (&r);
  r = natsim ("presets", "extra", NULL);
  assert_int_equal (r.status, 2);
  run_clear (&r);
}

static void
test_check (void **state)
{
  Run r = natsim ("check", "scenarios/classroom-exhaustion.ini", "--set", "nat.preset=rfc", NULL);

  assert_int_equal (r.status, 0);
  assert_non_null (strstr (r.out, "valid"));
  /* The preset's values show with their origin; the file's port range stays. */
  assert_non_null (strstr (r.out, "# preset rfc"));
  assert_non_null (strstr (r.out, "1024-1033"));
  /* rfc has parity and EIM, so no REQ-4 / REQ-1 warnings, but Linux's
   * 30 s UDP timeout is gone too. */
  assert_null (strstr (r.out, "rfc4787.req5"));
  run_clear (&r);

  r = natsim ("check", "scenarios/classroom-exhaustion.ini", NULL);
  assert_int_equal (r.status, 0);
  assert_non_null (strstr (r.out, "warning rfc4787.req5"));
  run_clear (&r);
}

static void
test_classroom_exhaustion (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *rep, *totals;
  Run r = natsim ("simulate", "scenarios/classroom-exhaustion.ini", "--out", dir, "-q", NULL);

  assert_int_equal (r.status, 0);
  run_clear (&r);
  rep = load_report (dir, &parser);
  assert_string_equal (json_object_get_string_member (rep, "schema"), "natsim.report/1");
  assert_string_equal (json_object_get_string_member (rep, "command"), "simulate");
  totals = json_object_get_object_member (rep, "totals");
  assert_int_equal (json_object_get_int_member (totals, "flows"), 60);
  assert_int_equal (json_object_get_int_member (totals, "allocation_failures"), 20);
  assert_int_equal (json_object_get_int_member (totals, "peak_ports_per_address"), 10);
  assert_int_equal ((int) class_figure (rep, "one-server", "allocation_failures"), 20);
  assert_int_equal ((int) class_figure (rep, "three-servers", "allocation_failures"), 0);
  assert_int_equal ((int) class_figure (rep, "three-servers", "packets_out"), 30);
  g_autofree char *txt = g_build_filename (dir, "report.txt", NULL);
  assert_true (g_file_test (txt, G_FILE_TEST_EXISTS));
}

static void
test_classroom_timeout (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *rep;
  Run r = natsim ("simulate", "scenarios/classroom-timeout.ini", "--out", dir, "-q", NULL);

  assert_int_equal (r.status, 0);
  run_clear (&r);
  rep = load_report (dir, &parser);
  assert_int_equal ((int) class_figure (rep, "keepalive-20s", "rebindings"), 0);
  assert_int_equal ((int) class_figure (rep, "keepalive-40s", "rebindings"), 11);
  assert_int_equal ((int) class_figure (rep, "probed-29s", "binding_losses"), 0);
  assert_int_equal ((int) class_figure (rep, "probed-29s", "packets_in"), 1);
  assert_int_equal ((int) class_figure (rep, "probed-31s", "binding_losses"), 1);
  assert_int_equal ((int) class_figure (rep, "probed-twice", "packets_in"), 2);
}

static void
test_events_narration (void **state)
{
  g_autofree char *dir = tmpdir ();
  Run r = natsim ("simulate", "scenarios/classroom-exhaustion.ini", "--out", dir, "-q",
                  "--events", "-", NULL);
  guint created = 0, failed = 0;
  g_auto (GStrv) lines = NULL;

  assert_int_equal (r.status, 0);
  lines = g_strsplit (r.out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (strstr (lines[i], " -> (203.0.113.1:") != NULL &&
          strstr (lines[i], "  forwarded, new binding, ") != NULL)
        created++;
      if (strstr (lines[i], "  dropped, allocation failed (no_free_port): ") != NULL)
        failed++;
    }
  assert_int_equal (created, 40);
  assert_int_equal (failed, 20);
  run_clear (&r);
}

static char *
report_bytes (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "report.json", NULL);

  return read_file (path);
}

/* Media fast-forward (docs/performance.md) gives the report.json of the
 * packets one by one (what --events gets): a mapping that dies between
 * the last event and the end (the populations finish at the NAT's clock),
 * expiries of RTP and RTCP on one instant returning port blocks in order,
 * a warm-up, and the ordinary VoIP profiles. */
static void
test_fast_forward_same_report (void **state)
{
  static const struct
  {
    const char *ini, *seed;
  } cases[] = {
    { "[simulation]\nduration = 10m\nwarmup = 0s\nseed = 1\nreplications = 1\n"
      "[nat]\npreset = linux\naddresses = 203.0.113.1\ntombstone = 1m\n"
      "[population p]\nprofile = sip-udp\ncount = 1\nstart_spread = 1s\nkeepalive = none\n"
      "notify_per_hour = 0\nregister_interval = 3600s\ncalls_per_hour = 2\n"
      "call_duration = fixed(30m)\n"
      "[population g]\nprofile = generic\nflows = 400\nflow_spacing = 10ms\n", "10" },
    { "[simulation]\nduration = 1h\nwarmup = 0s\nseed = 1\nreplications = 1\n"
      "[nat]\npreset = linux\naddresses = 203.0.113.1\nports_per_subscriber = 2\n"
      "blocks_per_subscriber = 1024\ntombstone = 5m\nport_reuse = exclusive\n"
      "[population gw]\nprofile = local-gateway\ncount = 1\nerlangs = 40\n"
      "call_duration = exponential(60s)\nrtcp_interval = 2s\n", "1" },
    { "[simulation]\nduration = 20m\nwarmup = 5m\nseed = 1\nreplications = 1\n"
      "[nat]\npreset = linux\naddresses = 203.0.113.1-203.0.113.2\n"
      "[population ph]\nprofile = cisco-mpp\ncount = 50\ncalls_per_hour = 6\n"
      "[population dt]\nprofile = webex-desktop\ncount = 50\ncalls_per_hour = 6\n"
      "[population mo]\nprofile = webex-mobile\ncount = 50\ncalls_per_hour = 6\n", "3" },
  };
  g_autofree char *dir = tmpdir ();

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autofree char *ini = g_strdup_printf ("%s/ff%u.ini", dir, k);
      g_autofree char *a = g_strdup_printf ("%s/a%u", dir, k);
      g_autofree char *b = g_strdup_printf ("%s/b%u", dir, k);
      g_autofree char *ev = g_strdup_printf ("%s/ev%u.txt", dir, k);
      g_autofree char *ja = NULL, *jb = NULL;
      Run r;

      assert_true (g_file_set_contents (ini, cases[k].ini, -1, NULL));
      r = natsim ("simulate", ini, "--seed", cases[k].seed, "--out", a, "-q", "-f", "json", NULL);
      assert_int_equal (r.status, 0);
      run_clear (&r);
      r = natsim ("simulate", ini, "--seed", cases[k].seed, "--out", b, "-q", "-f", "json",
                  "--events", ev, NULL);
      assert_int_equal (r.status, 0);
      run_clear (&r);
      ja = report_bytes (a);
      jb = report_bytes (b);
      assert_string_equal (ja, jb);
    }
}

static void
test_determinism (void **state)
{
  g_autofree char *a = tmpdir (), *b = tmpdir (), *c = tmpdir ();
  g_autofree char *ja = NULL, *jb = NULL, *jc = NULL;
  Run r;

  r = natsim ("simulate", "scenarios/erlang-b.ini", "--replications", "4", "--set",
              "simulation.duration=30m", "--out", a, "-q", "--jobs", "1", NULL);
  assert_int_equal (r.status, 0);
  run_clear (&r);
  r = natsim ("simulate", "scenarios/erlang-b.ini", "--replications", "4", "--set",
              "simulation.duration=30m", "--out", b, "-q", "--jobs", "1", NULL);
  assert_int_equal (r.status, 0);
  run_clear (&r);
  r = natsim ("simulate", "scenarios/erlang-b.ini", "--replications", "4", "--set",
              "simulation.duration=30m", "--out", c, "-q", "--jobs", "2", NULL);
  assert_int_equal (r.status, 0);
  run_clear (&r);
  ja = report_bytes (a);
  jb = report_bytes (b);
  jc = report_bytes (c);
  assert_string_equal (ja, jb);
  assert_string_equal (ja, jc);

  /* Another seed gives other figures. */
  r = natsim ("simulate", "scenarios/erlang-b.ini", "--replications", "4", "--set",
              "simulation.duration=30m", "--out", b, "-q", "--seed", "2", NULL);
  assert_int_equal (r.status, 0);
  run_clear (&r);
  g_free (jb);
  jb = report_bytes (b);
  assert_string_not_equal (ja, jb);
}

static void
test_default_scenario (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *rep;
  Run r = natsim ("simulate", "scenarios/default.ini", "--out", dir, NULL);

  assert_int_equal (r.status, 0);
  assert_non_null (strstr (r.out, "Per class"));
  assert_non_null (strstr (r.out, "refresh.udp"));
  assert_non_null (strstr (r.out, "keepalive.interval"));
  rep = load_report (dir, &parser);
  assert_int_equal (json_object_get_int_member (rep, "replications"), 5);
  /* The Webex endpoints signal over TCP, which Linux keeps 432000 s: never
   * unreachable, no binding lost. */
  assert_true (class_figure (rep, "phones", "flows") > 1000);
  assert_true (class_figure (rep, "phones", "packets_out") > 100000);
  assert_true (class_figure (rep, "phones", "unreachable_seconds") == 0.0);
  assert_true (class_figure (rep, "mobiles", "missed_calls") == 0.0);
  assert_true (class_figure (rep, "gateway", "binding_losses") == 0.0);
  /* The adapters' 24-29 s keepalives just beat the 30 s UDP timeout. */
  assert_true (class_figure (rep, "atas", "unreachable_seconds") == 0.0);
  /* The intercoms REGISTER hourly and send nothing in between: their
   * binding lives 30 s of each hour (4 intercoms, 110 min after warm-up:
   * about 26,000 endpoint-seconds unreachable) and calls are missed. */
  assert_true (class_figure (rep, "intercoms", "unreachable_seconds") > 20000);
  assert_true (class_figure (rep, "intercoms", "missed_calls") > 0);
  run_clear (&r);

  /* RFC 5626 STUN keepalives every 24-29 s repair them. */
  r = natsim ("simulate", "scenarios/default.ini", "--out", dir, "-q", "--set",
              "population.intercoms.keepalive=stun", "--replications", "1", NULL);
  assert_int_equal (r.status, 0);
  run_clear (&r);
  g_clear_object (&parser);
  rep = load_report (dir, &parser);
  assert_true (class_figure (rep, "intercoms", "unreachable_seconds") == 0.0);
  assert_true (class_figure (rep, "intercoms", "missed_calls") == 0.0);
}

typedef struct
{
  const char *args[8];
  int         status;
  const char *stderr_has;
} BadCase;

static void
test_bad_input (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *out = g_build_filename (dir, "never", NULL);
  g_autofree char *bad = g_build_filename (g_getenv ("NATSIM_DATA"), "bad-scenarios",
                                           "unknown-key.ini", NULL);
  const BadCase cases[] = {
    { { "simulate", "no-such-file.ini", NULL }, 2, "no-such-file.ini" },
    { { "simulate", bad, "--out", out, NULL }, 2, "unknown-key.ini:" },
    { { "simulate", "scenarios/classroom-exhaustion.ini", "--set", "nat.udp_timeout=fast",
        "--out", out, NULL }, 2, "--set nat.udp_timeout=fast" },
    { { "simulate", "scenarios/classroom-exhaustion.ini", "--set", "nat.bogus=1", "--out",
        out, NULL }, 2, "bogus" },
    { { "simulate", "scenarios/classroom-exhaustion.ini", "--format", "docx", "--out", out,
        NULL }, 2, "docx" },
    { { "simulate", "scenarios/classroom-exhaustion.ini", "--jobs", "0", "--out", out, NULL },
      2, "--jobs" },
    { { "simulate", "scenarios/classroom-exhaustion.ini", "--replications", "0", "--out", out,
        NULL }, 2, "replications" },
    { { "simulate", "--frobnicate", NULL }, 2, "frobnicate" },
    { { "simulate", NULL }, 2, "SCENARIO" },
    { { "check", bad, NULL }, 2, "unknown-key.ini:" },
    { { "simulate", "/dev/urandom", "--out", out, NULL }, 2, "/dev/urandom" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const BadCase *c = &cases[i];
      Run r = natsim (c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5],
                      c->args[6], c->args[7]);
      g_auto (GStrv) lines = g_strsplit (g_strchomp (r.err), "\n", -1);

      if (r.status != c->status || strstr (r.err, c->stderr_has) == NULL)
        fail_msg ("case %u (%s %s): status %d, stderr '%s'", i, c->args[0],
                  c->args[1] ? c->args[1] : "", r.status, r.err);
      /* One clear line, prefixed. */
      assert_int_equal (g_strv_length (lines), 1);
      assert_true (g_str_has_prefix (r.err, "natsim: "));
      run_clear (&r);
      /* Nothing written. */
      assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
    }
}

/* The "totals" and "per_class" objects of a report, serialized. */
static char *
report_figures (const char *dir)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *rep = load_report (dir, &parser);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *totals = NULL;
  g_autofree char *per_class = NULL;

  json_generator_set_root (gen, json_object_get_member (rep, "totals"));
  totals = json_generator_to_data (gen, NULL);
  json_generator_set_root (gen, json_object_get_member (rep, "per_class"));
  per_class = json_generator_to_data (gen, NULL);
  return g_strconcat (totals, "\n", per_class, NULL);
}

static void
test_replay_sip_call (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *rep, *inputs;
  JsonArray *traces;
  Run r = natsim ("replay", "traces/isa-sip-call-lab.pcap", "--inside", "10.0.2.15/32",
                  "--out", dir, NULL);

  if (r.status != 0)
    fail_msg ("status %d, stderr '%s'", r.status, r.err);
  run_clear (&r);
  rep = load_report (dir, &parser);
  assert_string_equal (json_object_get_string_member (rep, "schema"), "natsim.report/1");
  assert_string_equal (json_object_get_string_member (rep, "command"), "replay");
  assert_int_equal (json_object_get_int_member (rep, "replications"), 1);
  inputs = json_object_get_object_member (rep, "inputs");
  traces = json_object_get_array_member (inputs, "traces");
  assert_int_equal (json_array_get_length (traces), 1);
  assert_string_equal (json_array_get_string_element (traces, 0),
                       "traces/isa-sip-call-lab.pcap");
  assert_non_null (json_object_get_object_member (
    json_object_get_object_member (rep, "config"), "nat"));
  assert_true (json_object_has_member (json_object_get_object_member (rep, "per_class"), "sip"));
  assert_true (json_object_get_double_member (json_object_get_object_member (rep, "totals"),
                                              "packets_out") > 0);
  assert_true (class_figure (rep, "sip", "flows") > 0);
}

static void
test_replay_pcap_pcapng_same (void **state)
{
  g_autofree char *dir1 = tmpdir ();
  g_autofree char *dir2 = tmpdir ();
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  Run r = natsim ("replay", "traces/isa-sip-call-lab.pcap", "--inside", "10.0.2.15/32",
                  "--out", dir1, "-q", NULL);

  assert_int_equal (r.status, 0);
  run_clear (&r);
  r = natsim ("replay", "traces/isa-sip-call-lab.pcapng", "--inside", "10.0.2.15/32",
              "--out", dir2, "-q", NULL);
  assert_int_equal (r.status, 0);
  run_clear (&r);
  a = report_figures (dir1);
  b = report_figures (dir2);
  assert_string_equal (a, b);
}

static void
test_replay_bad_trace (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *out = g_build_filename (dir, "never", NULL);
  /* Fails at open: not a capture at all (see bad-traces/README.md). */
  g_autofree char *bad = g_build_filename (g_getenv ("NATSIM_DATA"), "bad-traces",
                                           "natsim-garbage.pcap", NULL);
  /* Opens, then ends inside its second record: refused under --strict
   * (test-cli-trace.c checks the default, a warning). */
  g_autofree char *trunc = g_build_filename (g_getenv ("NATSIM_DATA"), "bad-traces",
                                             "natsim-truncated-record.pcap", NULL);
  const char *paths[] = { bad, trunc };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      Run r = natsim ("replay", paths[i], "--strict", "--out", out, NULL);
      g_auto (GStrv) lines = g_strsplit (g_strchomp (r.err), "\n", -1);

      assert_int_equal (r.status, 2);
      assert_int_equal (g_strv_length (lines), 1);
      assert_true (g_str_has_prefix (r.err, "natsim: "));
      assert_non_null (strstr (r.err, paths[i]));
      assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
      run_clear (&r);
    }

  /* Without --scenario only nat.* keys can be set. */
  {
    Run r = natsim ("replay", "traces/isa-sip-call-lab.pcap", "--set", "simulation.seed=2",
                    "--out", out, NULL);
    assert_int_equal (r.status, 2);
    assert_non_null (strstr (r.err, "simulation.seed=2"));
    assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
    run_clear (&r);
  }
}

static void
test_replay_exhaustion (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *totals;
  /* Two external ports for the Webex client's many flows: the full search
   * finds both taken, so mapping attempts fail (261 of 296 at the time of
   * writing). */
  Run r = natsim ("replay", "traces/ndpi-webex-client.pcap", "--set", "nat.port_range=1024-1025",
                  "--set", "nat.port_search=full", "--out", dir, "-q", NULL);

  if (r.status != 0)
    fail_msg ("status %d, stderr '%s'", r.status, r.err);
  run_clear (&r);
  totals = json_object_get_object_member (load_report (dir, &parser), "totals");
  assert_true (json_object_get_double_member (totals, "allocation_failures") > 0);
  assert_true (json_object_get_double_member (totals, "blocking_probability") > 0);
}

static void
test_replay_determinism (void **state)
{
  g_autofree char *dir1 = tmpdir ();
  g_autofree char *dir2 = tmpdir ();
  g_autofree char *p1 = g_build_filename (dir1, "report.json", NULL);
  g_autofree char *p2 = g_build_filename (dir2, "report.json", NULL);
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  gsize la = 0, lb = 0;
  const char *dirs[] = { dir1, dir2 };

  for (guint i = 0; i < 2; i++)
    {
      Run r = natsim ("replay", "traces/ndpi-webex-client.pcap", "--set",
                      "nat.allocation=random", "--seed", "7", "--out", dirs[i], "-q", NULL);
      assert_int_equal (r.status, 0);
      run_clear (&r);
    }
  assert_true (g_file_get_contents (p1, &a, &la, NULL));
  assert_true (g_file_get_contents (p2, &b, &lb, NULL));
  assert_int_equal (la, lb);
  assert_memory_equal (a, b, la);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_version_and_help),
    cmocka_unit_test (test_catalogues),
    cmocka_unit_test (test_check),
    cmocka_unit_test (test_classroom_exhaustion),
    cmocka_unit_test (test_classroom_timeout),
    cmocka_unit_test (test_events_narration),
    cmocka_unit_test (test_determinism),
    cmocka_unit_test (test_default_scenario),
    cmocka_unit_test (test_bad_input),
    cmocka_unit_test (test_replay_sip_call),
    cmocka_unit_test (test_replay_pcap_pcapng_same),
    cmocka_unit_test (test_replay_bad_trace),
    cmocka_unit_test (test_replay_exhaustion),
    cmocka_unit_test (test_replay_determinism),
    cmocka_unit_test (test_fast_forward_same_report),
  };

  if (g_getenv ("NATSIM") == NULL)
    return 77;
  return cmocka_run_group_tests (tests, NULL, NULL);
}
