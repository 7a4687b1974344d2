/* natsim plan and natsim sweep end to end (integration suite).
 *
 * Runs the natsim executable ($NATSIM) from the source root on the shipped
 * plan-*.ini / sweep-*.ini scenarios, whose answers are known analytically
 * (see the comments in those files), and on broken grids. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define CLI_HARNESS_TMPDIR "natsim-plan-XXXXXX"
#include "cli-harness.h"

/* Removes @dir and the files in it (one level). */
static void
remove_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

/* The recommendation @id of DIR/report.json. */
static JsonObject *
recommendation (JsonParser *p, const char *id)
{
  JsonObject *root = json_node_get_object (json_parser_get_root (p));
  JsonArray *recs = json_object_get_array_member (root, "recommendations");

  for (guint i = 0; i < json_array_get_length (recs); i++)
    {
      JsonObject *r = json_array_get_object_element (recs, i);
      if (strcmp (json_object_get_string_member (r, "id"), id) == 0)
        return r;
    }
  fail_msg ("no recommendation %s", id);
  return NULL;
}

/* Erlang B: B(50, 80/2) = 1.9 %, B(50, 80/3) = 0.0017 %: three addresses,
 * decided by Erlang B and confirmed by simulation. */
static void
test_plan_erlang (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autoptr (JsonParser) p = NULL;
  JsonObject *rec, *root;
  Run r = natsim ("plan", "scenarios/plan-erlang.ini", "--out", dir, "--jobs", "2",
                  "--format", "json", NULL);

  if (r.status != 0)
    fail_msg ("exit %d: %s", r.status, r.err);
  run_clear (&r);
  load_report (dir, &p);
  root = json_node_get_object (json_parser_get_root (p));
  assert_string_equal (json_object_get_string_member (root, "command"), "plan");
  rec = recommendation (p, "pool.addresses");
  assert_int_equal (json_object_get_int_member (rec, "value"), 3);
  assert_string_equal (json_object_get_string_member (rec, "basis"), "erlang-b");
  assert_string_equal (json_object_get_string_member (rec, "unit"), "addresses");
  assert_non_null (strstr (json_object_get_string_member (rec, "reason"), "Erlang B"));
  rec = recommendation (p, "keepalive.interval");
  assert_int_equal (json_object_get_int_member (rec, "value"), 24);
  remove_dir (dir);
}

/* Every subscriber holds 130 ports at the peak: a block of 192. */
static void
test_plan_ports (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autoptr (JsonParser) p = NULL;
  JsonObject *rec;
  Run r = natsim ("plan", "scenarios/plan-ports.ini", "--out", dir, "--format", "json", NULL);

  if (r.status != 0)
    fail_msg ("exit %d: %s", r.status, r.err);
  run_clear (&r);
  load_report (dir, &p);
  rec = recommendation (p, "pool.ports_per_subscriber");
  assert_int_equal (json_object_get_int_member (rec, "value"), 192);
  assert_string_equal (json_object_get_string_member (rec, "basis"), "simulation");
  assert_non_null (strstr (json_object_get_string_member (rec, "reason"), "336 subscribers fit"));
  rec = recommendation (p, "pool.addresses");
  assert_int_equal (json_object_get_int_member (rec, "value"), 1);
  remove_dir (dir);
}

static void
test_plan_bad_input (void **state)
{
  Run r = natsim ("plan", "scenarios/plan-erlang.ini", "--target-blocking", "abc", NULL);

  assert_int_equal (r.status, 2);
  run_clear (&r);
  r = natsim ("plan", "scenarios/plan-erlang.ini", "--target-blocking", "150%", NULL);
  assert_int_equal (r.status, 2);
  run_clear (&r);
  r = natsim ("plan", NULL);
  assert_int_equal (r.status, 2);
  run_clear (&r);
}

static char *
read_text (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return read_file (path);
}

static void
test_sweep_jobs (void **state)
{
  g_autofree char *d1 = tmpdir ();
  g_autofree char *d2 = tmpdir ();
  g_autofree char *c1 = NULL, *c2 = NULL, *j1 = NULL, *j2 = NULL;
  g_auto (GStrv) lines = NULL;
  Run r = natsim ("sweep", "scenarios/sweep-timeout.ini", "--vary", "nat.udp_timeout=30s..90s:30s",
                  "--vary", "population.flows.flows_per_second=1,2", "--out", d1, "--jobs", "1",
                  "--no-html", NULL);

  if (r.status != 0)
    fail_msg ("exit %d: %s", r.status, r.err);
  run_clear (&r);
  r = natsim ("sweep", "scenarios/sweep-timeout.ini", "--vary", "nat.udp_timeout=30s..90s:30s",
              "--vary", "population.flows.flows_per_second=1,2", "--out", d2, "--jobs", "2",
              "--no-html", NULL);
  if (r.status != 0)
    fail_msg ("exit %d: %s", r.status, r.err);
  run_clear (&r);
  c1 = read_text (d1, "sweep.csv");
  c2 = read_text (d2, "sweep.csv");
  assert_string_equal (c1, c2);
  j1 = read_text (d1, "sweep.json");
  j2 = read_text (d2, "sweep.json");
  assert_string_equal (j1, j2);
  lines = g_strsplit (c1, "\n", -1);
  /* Header, six points, and the empty string after the last newline. */
  assert_int_equal (g_strv_length (lines), 8);
  assert_true (g_str_has_prefix (lines[0], "nat.udp_timeout,population.flows.flows_per_second,flows,flows_ci95,"));
  assert_true (g_str_has_prefix (lines[1], "30s,1,"));
  assert_true (g_str_has_prefix (lines[6], "90s,2,"));
  assert_non_null (strstr (j1, "\"schema\" : \"natsim.sweep/1\""));
  remove_dir (d1);
  remove_dir (d2);
}

/* A bad key or value anywhere in the grid: exit 2 before anything runs
 * or is written. */
static void
test_sweep_invalid (void **state)
{
  const char *bad[] = {
    "nat.udp_timout=30s,60s",
    "nat.udp_timeout=30s,sixty",
    "nat.udp_timeout=0s..60s:30s",
    "nat.udp_timeout=60s..30s:10s",
    "simulation.warmup=1m,1h",
    "population.nobody.count=1,2",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *dir = tmpdir ();
      g_autofree char *out = g_build_filename (dir, "out", NULL);
      Run r = natsim ("sweep", "scenarios/sweep-timeout.ini", "--vary", "nat.udp_timeout=30s,60s",
                      "--vary", bad[i], "--out", out, NULL);

      if (r.status != 2)
        fail_msg ("%s: exit %d: %s", bad[i], r.status, r.err);
      assert_non_null (strstr (r.err, "natsim: "));
      assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
      run_clear (&r);
      g_rmdir (dir);
    }
  {
    Run r = natsim ("sweep", "scenarios/sweep-timeout.ini", NULL);
    assert_int_equal (r.status, 2);
    run_clear (&r);
  }
}

/* A plan from a capture: traces/synth-sip-udp.pcap holds SIP phones that
 * re-REGISTER every 90 s (packet_interval in traces/synth-sip-udp.ini), so
 * the recommended UDP timeout must exceed 90 s; the pool comes from the
 * replay (one address, basis erlang-b or trace). */
static void
test_plan_trace (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autoptr (JsonParser) p = NULL;
  JsonObject *rec, *root, *inputs;
  Run r = natsim ("plan", "--trace", "traces/synth-sip-udp.pcap", "--set",
                  "nat.udp_timeout=30s", "--out", dir, "--quiet", NULL);

  if (r.status != 0)
    fail_msg ("exit %d: %s", r.status, r.err);
  run_clear (&r);
  load_report (dir, &p);
  root = json_node_get_object (json_parser_get_root (p));
  assert_string_equal (json_object_get_string_member (root, "command"), "plan");
  inputs = json_object_get_object_member (root, "inputs");
  assert_int_equal (json_array_get_length (json_object_get_array_member (inputs, "traces")), 1);
  rec = recommendation (p, "timeout.udp");
  assert_true (json_object_get_double_member (rec, "value") > 90.0);
  assert_string_equal (json_object_get_string_member (rec, "basis"), "trace");
  assert_non_null (strstr (json_object_get_string_member (rec, "reason"), "sip"));
  rec = recommendation (p, "pool.addresses");
  assert_int_equal (json_object_get_int_member (rec, "value"), 1);
  assert_true (strcmp (json_object_get_string_member (rec, "basis"), "erlang-b") == 0 ||
               strcmp (json_object_get_string_member (rec, "basis"), "trace") == 0);
  rec = recommendation (p, "pool.ports_per_subscriber");
  assert_int_equal (json_object_get_int_member (rec, "value") % 64, 0);
  rec = recommendation (p, "keepalive.interval");
  assert_int_equal (json_object_get_int_member (rec, "value"), 24);
  /* The default formats, as simulate writes them. */
  {
    const char *files[] = { "report.txt", "report.json", "report.md", "report.html" };

    for (guint i = 0; i < G_N_ELEMENTS (files); i++)
      {
        g_autofree char *f = g_build_filename (dir, files[i], NULL);
        assert_true (g_file_test (f, G_FILE_TEST_EXISTS));
      }
  }
  remove_dir (dir);

  /* A scenario and --trace together, a bad format, a non-nat --set: 2. */
  {
    const char *const bad[][8] = {
      { "plan", "scenarios/plan-erlang.ini", "--trace", "traces/synth-sip-udp.pcap", NULL },
      { "plan", "--trace", "traces/synth-sip-udp.pcap", "--format", "docx", NULL },
      { "plan", "--trace", "traces/synth-sip-udp.pcap", "--set", "simulation.seed=2", NULL },
      { "plan", "--trace", "traces/no-such-file.pcap", NULL },
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        Run b = natsim (bad[i][0], bad[i][1], bad[i][2], bad[i][3], bad[i][4], bad[i][5],
                        NULL);
        if (b.status != 2)
          fail_msg ("case %u: exit %d: %s", i, b.status, b.err);
        run_clear (&b);
      }
  }
}

/* Gaps of flows that never receive unsolicited inbound packets (NTP polls
 * from a fixed port every 15-17 min) do not drive the UDP timeouts: on the
 * default scenario with the intercoms re-registering every 100-120 s, the
 * stream timeout follows the registrations and keepalives of the flows
 * that take incoming calls, and the reason says which flows were left
 * out. */
static void
test_plan_reachability_gaps (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autoptr (JsonParser) p = NULL;
  JsonObject *rec;
  const char *reason;
  Run r = natsim ("plan", "scenarios/default.ini", "--set", "population.intercoms.register_interval=100s..120s",
                  "--replications", "2", "--growth", "0", "--out", dir, "--format", "json",
                  "--quiet", NULL);

  if (r.status != 0)
    fail_msg ("exit %d: %s", r.status, r.err);
  run_clear (&r);
  load_report (dir, &p);
  rec = recommendation (p, "timeout.udp_stream");
  /* The adapters' 24-29 s CRLF keepalives, not the phones' 17 min NTP. */
  assert_true (json_object_get_double_member (rec, "value") < 300.0);
  reason = json_object_get_string_member (rec, "reason");
  assert_non_null (strstr (reason, "Left out"));
  assert_non_null (strstr (reason, "after their last outbound packet"));
  remove_dir (dir);
}

/* sweep --format: sweep.csv always, the others as asked; a bad format
 * fails before running. */
static void
test_sweep_formats (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *out = g_build_filename (dir, "s", NULL);
  const char *present[] = { "sweep.csv", "sweep.json", "sweep.md", "sweep.txt" };
  Run r = natsim ("sweep", "scenarios/sweep-timeout.ini", "--vary", "nat.udp_timeout=30s,60s",
                  "--set", "simulation.replications=1", "--format", "text,json,md", "--out",
                  out, "--quiet", NULL);

  if (r.status != 0)
    fail_msg ("exit %d: %s", r.status, r.err);
  run_clear (&r);
  for (guint i = 0; i < G_N_ELEMENTS (present); i++)
    {
      g_autofree char *f = g_build_filename (out, present[i], NULL);
      assert_true (g_file_test (f, G_FILE_TEST_EXISTS));
    }
  {
    g_autofree char *f = g_build_filename (out, "sweep.html", NULL);
    assert_false (g_file_test (f, G_FILE_TEST_EXISTS));
  }
  remove_dir (out);
  r = natsim ("sweep", "scenarios/sweep-timeout.ini", "--vary", "nat.udp_timeout=30s,60s",
              "--format", "json,bogus", "--out", out, NULL);
  assert_int_equal (r.status, 2);
  assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  run_clear (&r);
  g_rmdir (dir);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_plan_erlang),
    cmocka_unit_test (test_plan_ports),
    cmocka_unit_test (test_plan_bad_input),
    cmocka_unit_test (test_sweep_jobs),
    cmocka_unit_test (test_sweep_invalid),
    cmocka_unit_test (test_plan_trace),
    cmocka_unit_test (test_plan_reachability_gaps),
    cmocka_unit_test (test_sweep_formats),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
