/* End to end through the natsim executable: what a user meets at the
 * command line.  Replay coverage and its warnings, replay --events, the
 * narration's rules and arrows, usage errors (--seed -1, --format ""), the
 * --set that a validation error blames, check printing the profile, and
 * progress that never changes a report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#define CLI_HARNESS_TMPDIR "natsim-usage-XXXXXX"
#include "cli-harness.h"

static gint64
coverage_int (JsonObject *root, const char *member)
{
  JsonObject *c = json_object_get_object_member (root, "coverage");

  assert_non_null (c);
  return json_object_get_int_member (c, member);
}

static gint64
not_offered (JsonObject *root, const char *reason)
{
  JsonObject *c = json_object_get_object_member (root, "coverage");

  return json_object_get_int_member (json_object_get_object_member (c, "not_offered"), reason);
}

/* packets_read = packets_offered + packets_not_offered, and the reasons
 * add up to packets_not_offered. */
static void
assert_coverage_adds_up (JsonObject *root)
{
  JsonObject *c = json_object_get_object_member (root, "coverage");
  JsonObject *no = json_object_get_object_member (c, "not_offered");
  g_autoptr (GList) reasons = json_object_get_members (no);
  gint64 sum = 0;

  for (GList *l = reasons; l != NULL; l = l->next)
    sum += json_object_get_int_member (no, l->data);
  assert_int_equal (sum, coverage_int (root, "packets_not_offered"));
  assert_int_equal (coverage_int (root, "packets_read"),
                    coverage_int (root, "packets_offered") +
                      coverage_int (root, "packets_not_offered"));
  assert_int_equal (coverage_int (root, "packets_offered"),
                    coverage_int (root, "packets_outbound") +
                      coverage_int (root, "packets_inbound") +
                      coverage_int (root, "fragments_with_first"));
}

/* Replays @trace (plus NULL-terminated options) into a new directory and
 * loads its report.json. */
static JsonObject *
replay (JsonParser **ret_parser, char **ret_dir, const char *trace, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  char *dir = tmpdir ();
  va_list ap;
  Run r;

  g_ptr_array_add (args, "replay");
  g_ptr_array_add (args, (char *) trace);
  va_start (ap, trace);
  for (const char *a = va_arg (ap, const char *); a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) a);
  va_end (ap);
  g_ptr_array_add (args, "--out");
  g_ptr_array_add (args, dir);
  g_ptr_array_add (args, "-q");
  g_ptr_array_add (args, NULL);
  r = natsim_argv ((const char *const *) args->pdata);
  if (r.status != 0)
    fail_msg ("replay %s: status %d: %s", trace, r.status, r.err);
  run_clear (&r);
  *ret_dir = dir;
  return load_report (dir, ret_parser);
}

/* The loopback capture holds no IP at all, the ISA capture only inside to
 * inside traffic under the default inside set: nothing crosses the NAT and
 * the report says so, with the --inside hint. */
static void
test_replay_nothing_translated (void **state)
{
  g_autoptr (JsonParser) p1 = NULL, p2 = NULL;
  g_autofree char *d1 = NULL, *d2 = NULL;
  JsonObject *lo = replay (&p1, &d1, "traces/tcpdump-loopback.pcap", NULL);
  JsonObject *isa = replay (&p2, &d2, "traces/isa-sip-call-lab.pcap", NULL);
  const char *m;

  assert_int_equal (coverage_int (lo, "packets_read"), 6);
  assert_int_equal (coverage_int (lo, "packets_offered"), 0);
  assert_int_equal (not_offered (lo, "non-ip"), 6);
  assert_coverage_adds_up (lo);
  m = report_warning (lo, "replay.nothing_translated");
  assert_non_null (m);
  assert_non_null (strstr (m, "--inside"));

  assert_int_equal (coverage_int (isa, "packets_read"), 175);
  assert_int_equal (coverage_int (isa, "packets_offered"), 0);
  assert_int_equal (not_offered (isa, "inside_to_inside"), 175);
  assert_coverage_adds_up (isa);
  m = report_warning (isa, "replay.nothing_translated");
  assert_non_null (m);
  assert_non_null (strstr (m, "inside_to_inside 175"));
  assert_non_null (strstr (m, "--inside"));
}

/* With --inside the call crosses the NAT: 173 of 175 packets (two have no
 * ports), no coverage warning; scaled copies do not change the coverage of
 * the capture. */
static void
test_replay_coverage (void **state)
{
  g_autoptr (JsonParser) p1 = NULL, p2 = NULL;
  g_autofree char *d1 = NULL, *d2 = NULL;
  JsonObject *one = replay (&p1, &d1, "traces/isa-sip-call-lab.pcap", "--inside",
                            "10.0.2.15/32", NULL);
  JsonObject *three = replay (&p2, &d2, "traces/isa-sip-call-lab.pcap", "--inside",
                              "10.0.2.15/32", "--scale", "3", NULL);

  assert_int_equal (coverage_int (one, "packets_read"), 175);
  assert_int_equal (coverage_int (one, "packets_offered"), 173);
  assert_int_equal (not_offered (one, "no_ports"), 2);
  assert_coverage_adds_up (one);
  assert_null (report_warning (one, "replay.nothing_translated"));
  assert_null (report_warning (one, "replay.mostly_inside"));
  for (guint i = 0; i < 2; i++)
    {
      const char *m = i == 0 ? "packets_offered" : "packets_outbound";
      assert_int_equal (coverage_int (three, m), coverage_int (one, m));
    }
  assert_coverage_adds_up (three);
}

/* The T.38 capture is mostly a SIP conversation between two private
 * addresses: the report warns that most of it stayed inside. */
static void
test_replay_mostly_inside (void **state)
{
  g_autoptr (JsonParser) p = NULL;
  g_autofree char *d = NULL;
  JsonObject *fax = replay (&p, &d, "traces/ndpi-fax-t38-sip.pcap", NULL);
  const char *m = report_warning (fax, "replay.mostly_inside");

  assert_true (coverage_int (fax, "packets_offered") > 0);
  assert_true (not_offered (fax, "inside_to_inside") * 2 > coverage_int (fax, "packets_read"));
  assert_non_null (m);
  assert_non_null (strstr (m, "--inside"));
  assert_null (report_warning (fax, "replay.nothing_translated"));
  assert_coverage_adds_up (fax);
}

/* Replay reports carry the configuration warnings simulate gives for the
 * same NAT (a 15 s UDP timeout is under RFC 4787 REQ-5's 2 min), and do
 * not suggest --replications, which replay does not take. */
static void
test_replay_config_warnings (void **state)
{
  g_autoptr (JsonParser) p = NULL;
  g_autofree char *d = NULL;
  JsonObject *rep = replay (&p, &d, "traces/synth-sip-udp.pcap", "--set",
                            "nat.udp_timeout=15s", NULL);
  g_autofree char *txt_path = g_build_filename (d, "report.txt", NULL);
  g_autofree char *md_path = g_build_filename (d, "report.md", NULL);
  g_autofree char *txt = read_file (txt_path);
  g_autofree char *md = read_file (md_path);
  const char *m = report_warning (rep, "rfc4787.req5");
  Run r = natsim ("replay", "traces/synth-sip-udp.pcap", "--replications", "3", NULL);

  assert_non_null (m);
  assert_non_null (strstr (m, "udp_timeout = 15s"));
  assert_null (strstr (txt, "--replications"));
  assert_null (strstr (md, "--replications"));
  /* ... which it indeed rejects. */
  assert_int_equal (r.status, 2);
  run_clear (&r);
}

static guint
count_lines (const char *text, const char *needle)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    n += strstr (lines[i], needle) != NULL;
  return n;
}

/* replay --events narrates every packet offered to the NAT: the classroom
 * capture through the classroom NAT refuses 20 flows.  --events FILE
 * writes the same narration. */
static void
test_replay_events (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *file = g_build_filename (dir, "events.txt", NULL);
  g_autofree char *written = NULL;
  g_autoptr (JsonParser) p = NULL;
  JsonObject *root;
  Run r = natsim ("replay", "traces/synth-classroom-exhaustion.pcap", "--scenario",
                  "scenarios/classroom-exhaustion.ini", "--events", "-", "-q", "--out", dir,
                  NULL);
  Run f;

  assert_int_equal (r.status, 0);
  root = load_report (dir, &p);
  assert_int_equal (count_lines (r.out, "dropped, allocation failed (no_free_port): "), 20);
  assert_int_equal (count_lines (r.out, " -> (") + count_lines (r.out, " <- ("),
                    coverage_int (root, "packets_offered"));
  assert_int_equal (coverage_int (root, "fragments_with_first"), 0);
  assert_true (g_str_has_prefix (r.out, "# time(s) class proto inside"));
  f = natsim ("replay", "traces/synth-classroom-exhaustion.pcap", "--scenario",
              "scenarios/classroom-exhaustion.ini", "--events", file, "-q", "--out", dir, NULL);
  assert_int_equal (f.status, 0);
  written = read_file (file);
  assert_string_equal (written, r.out);
  run_clear (&r);
  run_clear (&f);

  /* Narration never changes the report. */
  {
    g_autofree char *plain = tmpdir ();
    g_autofree char *pj = g_build_filename (plain, "report.json", NULL);
    g_autofree char *ej = g_build_filename (dir, "report.json", NULL);
    g_autofree char *a = NULL, *b = NULL;

    natsim_ok ("replay", "traces/synth-classroom-exhaustion.pcap", "--scenario",
               "scenarios/classroom-exhaustion.ini", "-q", "--out", plain, NULL);
    a = read_file (pj);
    b = read_file (ej);
    assert_string_equal (a, b);
  }
}

/* Narration names the class, the rule that decided, the public endpoint
 * (also of a filtered packet) and the expiry, with one arrow convention:
 * inside left, remote right, arrows along the packet. */
static void
test_narration (void **state)
{
  static const char ini[] =
    "[simulation]\nduration = 2m\nwarmup = 0s\nreplications = 1\n"
    "[nat]\npreset = linux\naddresses = 203.0.113.1\nport_range = 1024-1033\n"
    "[population eim]\nprofile = generic\nflows = 2\nflow_spacing = 1s\n"
    "source_ports = fixed\nsource_port = 40000\n"
    "destinations = 198.51.100.10:5000, 198.51.100.11:5000\n"
    "inbound_probes = 1s, 50s\nprobe_from = other-port\n";
  g_autofree char *dir = tmpdir ();
  g_autofree char *path = g_build_filename (dir, "n.ini", NULL);
  g_autofree char *out = g_build_filename (dir, "out", NULL);
  g_auto (GStrv) lines = NULL;
  Run r;

  assert_true (g_file_set_contents (path, ini, -1, NULL));
  r = natsim ("simulate", path, "--events", "-", "-q", "--out", out, NULL);
  assert_int_equal (r.status, 0);
  assert_non_null (strstr (r.out, "replication 1 of 1"));
  lines = g_strsplit (r.out, "\n", -1);
  /* The first flow: a port search, its public endpoint and expiry. */
  assert_non_null (strstr (r.out, "0.000000 eim udp 10.0.0.1:40000 -> (203.0.113.1:"));
  assert_int_equal (count_lines (r.out, "forwarded, new binding, port search took"), 1);
  assert_int_equal (count_lines (r.out, "; expires at 30.000000"), 1);
  /* The second flow reuses the mapping (RFC 4787 REQ-1). */
  assert_int_equal (count_lines (r.out, "mapping reused: mapping = endpoint-independent"), 1);
  /* Probes from another port are filtered; the line names the mapping. */
  assert_int_equal (count_lines (r.out, "dropped, filtered: "), 2);
  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], "dropped, filtered") != NULL)
      {
        assert_non_null (strstr (lines[i], " <- (203.0.113.1:"));
        assert_null (strstr (lines[i], "(-)"));
      }
  /* Expiry: no packet, so no direction. */
  assert_int_equal (count_lines (r.out, " -- (203.0.113.1:"), 2);
  assert_int_equal (count_lines (r.out, "binding expired"), 2);
  /* After expiry the late probes are unsolicited, with no public endpoint. */
  assert_int_equal (count_lines (r.out, "<- (-) <- 198.51.100.1"), 2);
  run_clear (&r);

  /* A subscriber's block of 4 ports: the first flow takes it, four flows
   * get a port in it, the next two are refused by the block limit, and
   * freed ports wait in quarantine. */
  assert_true (g_file_set_contents (path,
    "[simulation]\nduration = 2m\nwarmup = 0s\nreplications = 1\n"
    "[nat]\npreset = linux\naddresses = 203.0.113.1\nport_range = 1024-1151\n"
    "ports_per_subscriber = 4\nquarantine = 10s\n"
    "[population blk]\nprofile = generic\nflows = 6\nflow_spacing = 1s\n", -1, NULL));
  r = natsim ("simulate", path, "--events", "-", "-q", "--out", out, NULL);
  assert_int_equal (r.status, 0);
  assert_int_equal (count_lines (r.out, "in a new port block of 4 taken for the subscriber"), 1);
  assert_int_equal (count_lines (r.out, "in the subscriber's port block of 4"), 3);
  assert_int_equal (count_lines (r.out, "dropped, allocation failed (subscriber_block_limit): "
                                        "the subscriber's port block of 4 ports is full"), 2);
  assert_int_equal (count_lines (r.out, "quarantine (RFC 6888 REQ-8)"), 2);
  assert_int_equal (count_lines (r.out, "binding expired"), 4);
  run_clear (&r);
}

/* --seed -1 and other non-numbers are usage errors (exit 2), never
 * ignored; --format "" writes nothing and is a usage error too. */
static void
test_usage_errors (void **state)
{
  const char *const seed_runs[][4] = {
    { "simulate", "scenarios/classroom-exhaustion.ini", NULL },
    { "replay", "traces/synth-sip-udp.pcap", NULL },
    { "synth", "scenarios/classroom-exhaustion.ini", "-o", "/dev/null" },
  };
  const char *const format_runs[][2] = {
    { "simulate", "scenarios/classroom-exhaustion.ini" },
    { "replay", "traces/synth-sip-udp.pcap" },
    { "analyze", "traces/synth-sip-udp.pcap" },
    { "sweep", "scenarios/sweep-timeout.ini" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (seed_runs); i++)
    for (guint v = 0; v < 3; v++)
      {
        const char *value = v == 0 ? "-1" : v == 1 ? "x" : "";
        const char *args[8] = { 0 };
        guint n = 0;
        Run r;

        for (guint k = 0; k < 4 && seed_runs[i][k] != NULL; k++)
          args[n++] = seed_runs[i][k];
        args[n++] = "--seed";
        args[n++] = value;
        r = natsim_argv (args);
        assert_int_equal (r.status, 2);
        assert_true (g_str_has_prefix (r.err, "natsim: --seed "));
        run_clear (&r);
      }
  for (guint v = 0; v < 3; v++)
    {
      const char *value = v == 0 ? "-1" : v == 1 ? "0" : "two";
      Run r = natsim ("simulate", "scenarios/classroom-exhaustion.ini", "--replications",
                      value, NULL);
      Run p = natsim ("plan", "scenarios/plan-erlang.ini", "--replications", value, NULL);

      assert_int_equal (r.status, 2);
      assert_true (g_str_has_prefix (r.err, "natsim: --replications "));
      assert_int_equal (p.status, 2);
      assert_true (g_str_has_prefix (p.err, "natsim: --replications "));
      run_clear (&r);
      run_clear (&p);
    }
  for (guint i = 0; i < G_N_ELEMENTS (format_runs); i++)
    for (guint v = 0; v < 2; v++)
      {
        const char *args[] = { format_runs[i][0], format_runs[i][1], "--format",
                               v == 0 ? "" : " , ", i == 3 ? "--vary" : NULL,
                               "nat.udp_timeout=30s,60s", NULL };
        Run r = natsim_argv (args);

        assert_int_equal (r.status, 2);
        assert_non_null (strstr (r.err, "expected at least one format"));
        run_clear (&r);
      }
}

/* A --set that makes the scenario invalid is blamed, not the file line it
 * now contradicts; check prints each population's profile. */
static void
test_set_blamed_and_check_profile (void **state)
{
  Run r = natsim ("synth", "scenarios/default.ini", "-o", "/dev/null", "--set",
                  "simulation.duration=10m", NULL);
  Run c;

  assert_int_equal (r.status, 2);
  assert_true (g_str_has_prefix (r.err, "natsim: --set simulation.duration=10m: "));
  assert_non_null (strstr (r.err, "warmup"));
  run_clear (&r);

  c = natsim ("check", "scenarios/small-site-generic.ini", NULL);
  assert_int_equal (c.status, 0);
  assert_int_equal (count_lines (c.out, "profile                  = generic"), 3);
  run_clear (&c);
}

/* Progress appears only on a terminal and never changes a report: a run
 * under script(1) (a pseudo-terminal) draws it and writes the same
 * report.json as a run without; without a terminal stderr stays empty. */
static void
test_progress (void **state)
{
  g_autofree char *script = g_find_program_in_path ("script");
  g_autofree char *a = tmpdir (), *b = tmpdir ();
  g_autofree char *cmd = NULL, *ja = NULL, *jb = NULL, *pa = NULL, *pb = NULL;
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;
  Run r = natsim ("simulate", "scenarios/small-site-generic.ini", "--out", b, "-q", NULL);

  assert_int_equal (r.status, 0);
  assert_string_equal (r.err, "");
  run_clear (&r);
  if (script == NULL)
    {
      print_message ("script(1) not installed: progress on a terminal not checked\n");
      return;
    }
  cmd = g_strdup_printf ("%s -qec 'cd %s && %s simulate scenarios/small-site-generic.ini "
                         "--out %s --jobs 2' /dev/null",
                         script, g_getenv ("NATSIM_SOURCE_ROOT"), g_getenv ("NATSIM"), a);
  assert_true (g_spawn_command_line_sync (cmd, &out, NULL, &status, &error));
  assert_non_null (strstr (out, "natsim: simulating, "));
  assert_non_null (strstr (out, " left"));
  pa = g_build_filename (a, "report.json", NULL);
  pb = g_build_filename (b, "report.json", NULL);
  ja = read_file (pa);
  jb = read_file (pb);
  assert_string_equal (ja, jb);

  /* Replay shows the bytes of the capture read, the report unchanged. */
  {
    g_autofree char *c = tmpdir (), *d = tmpdir ();
    g_autofree char *cmd2 = NULL, *out2 = NULL, *pc = NULL, *pd = NULL, *jc = NULL, *jd = NULL;
    Run q = natsim ("replay", "traces/heplify-sip-call-rtp-rtcp.pcap", "--out", d, "-q", NULL);

    assert_int_equal (q.status, 0);
    assert_string_equal (q.err, "");
    run_clear (&q);
    cmd2 = g_strdup_printf ("%s -qec 'cd %s && %s replay traces/heplify-sip-call-rtp-rtcp.pcap "
                            "--out %s' /dev/null",
                            script, g_getenv ("NATSIM_SOURCE_ROOT"), g_getenv ("NATSIM"), c);
    assert_true (g_spawn_command_line_sync (cmd2, &out2, NULL, &status, &error));
    assert_non_null (strstr (out2, "natsim: replaying the capture "));
    pc = g_build_filename (c, "report.json", NULL);
    pd = g_build_filename (d, "report.json", NULL);
    jc = read_file (pc);
    jd = read_file (pd);
    assert_string_equal (jc, jd);
  }
}

/* A scenario that cannot fit in memory (a million UDP flows a second,
 * each remembered for the hour of nat.tombstone: about 1.7 TB) is refused
 * by check and by simulate before anything runs (exit 2, naming --force);
 * check --force reports the estimate and exits 0; an ordinary scenario
 * passes with its estimate printed. */
static void
test_memory_guard (void **state)
{
  static const char ini[] =
    "[simulation]\nduration = 1h\nwarmup = 0s\nreplications = 1\n"
    "[nat]\npreset = linux\naddresses = 203.0.113.1-203.0.113.16\n"
    "[population flood]\nprofile = generic\ncount = 1000\nflows_per_second = 1000000\n";
  g_autofree char *dir = tmpdir ();
  g_autofree char *path = g_build_filename (dir, "huge.ini", NULL);
  g_autofree char *out = g_build_filename (dir, "out", NULL);
  Run r;

  assert_true (g_file_set_contents (path, ini, -1, NULL));
  r = natsim ("simulate", path, "--out", out, NULL);
  assert_int_equal (r.status, 2);
  assert_non_null (strstr (r.err, "of memory"));
  assert_non_null (strstr (r.err, "--force"));
  assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  run_clear (&r);

  r = natsim ("check", path, NULL);
  assert_int_equal (r.status, 2);
  assert_non_null (strstr (r.out, "# memory"));
  assert_non_null (strstr (r.err, "of memory"));
  run_clear (&r);

  r = natsim ("check", path, "--force", NULL);
  assert_int_equal (r.status, 0);
  assert_non_null (strstr (r.out, "GiB"));
  run_clear (&r);

  r = natsim ("check", "scenarios/default.ini", NULL);
  assert_int_equal (r.status, 0);
  assert_non_null (strstr (r.out, "simulate needs about "));
  run_clear (&r);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_replay_nothing_translated),
    cmocka_unit_test (test_replay_coverage),
    cmocka_unit_test (test_replay_mostly_inside),
    cmocka_unit_test (test_replay_config_warnings),
    cmocka_unit_test (test_replay_events),
    cmocka_unit_test (test_narration),
    cmocka_unit_test (test_usage_errors),
    cmocka_unit_test (test_set_blamed_and_check_profile),
    cmocka_unit_test (test_progress),
    cmocka_unit_test (test_memory_guard),
  };

  if (g_getenv ("NATSIM") == NULL)
    return 77;
  return cmocka_run_group_tests (tests, NULL, NULL);
}
