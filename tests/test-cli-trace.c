/* natsim: captures end to end (integration suite): `natsim analyze`,
 * `natsim replay` (and --scale), `natsim synth`.
 *
 * Golden files: every sample capture in traces/ has its analysis.json and,
 * where a NAT study makes sense, its replay report.json under
 * tests/data/golden-traces/, compared byte for byte.  After an intended
 * change, regenerate them with
 *
 *     NATSIM_UPDATE_GOLDEN=1 meson test -C BUILD cli-trace
 *
 * and review the diff before committing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#define CLI_HARNESS_TMPDIR "natsim-trace-XXXXXX"
#include "cli-harness.h"

/* Compares @path with the golden file @name, or rewrites the golden file
 * when NATSIM_UPDATE_GOLDEN is set. */
static void
check_golden (const char *path, const char *name)
{
  g_autofree char *golden = g_build_filename (g_getenv ("NATSIM_DATA"), "golden-traces", name,
                                              NULL);
  g_autofree char *got = read_file (path);
  g_autofree char *want = NULL;

  if (g_getenv ("NATSIM_UPDATE_GOLDEN") != NULL)
    {
      g_autoptr (GError) error = NULL;

      if (!g_file_set_contents (golden, got, -1, &error))
        fail_msg ("%s", error->message);
      return;
    }
  if (!g_file_test (golden, G_FILE_TEST_EXISTS))
    fail_msg ("%s: no golden file (run with NATSIM_UPDATE_GOLDEN=1 and review)", golden);
  want = read_file (golden);
  if (strcmp (got, want) != 0)
    fail_msg ("%s differs from %s (regenerate with NATSIM_UPDATE_GOLDEN=1 and review the diff)",
              path, golden);
}

/* ------------------------------------------------------------------------ */
/* Golden files of the samples                                              */

typedef struct
{
  const char *trace;       /* under traces/ */
  const char *replay[5];   /* replay options, or { NULL } for no replay golden */
} Sample;

/* Every capture in traces/ must be listed (test_every_sample_has_golden). */
static const Sample samples[] = {
  { "heplify-ipv6-udp-fragmented.pcap", { NULL } },
  { "heplify-sip-call-rtp-rtcp.pcap", { "--inside", "200.57.7.196/32", NULL } },
  { "heplify-sip-ipv4-tcp.pcap", { "--set", "nat.udp_timeout=2m", NULL } },
  { "heplify-sip-ipv6-udp.pcap", { NULL } },
  { "isa-sip-call-lab.pcap", { "--inside", "10.0.2.15/32", NULL } },
  { "isa-sip-call-lab.pcapng", { "--inside", "10.0.2.15/32", NULL } },
  { "ndpi-fax-t38-sip.pcap", { "--inside", "192.168.0.0/16", NULL } },
  { "ndpi-webex-client.pcap", { "--set", "nat.port_range=1024-1100", "--set",
                                "nat.port_search=full", NULL } },
  { "tcpdump-loopback.pcap", { NULL } },
  { "tcpdump-nflog.pcap", { NULL } },
  { "tcpdump-qinq.pcap", { NULL } },
  { "tcpdump-sll-nanosecond.pcap", { NULL } },
  { "synth-sip-udp.pcap", { "--scenario", "traces/synth-sip-udp.ini", NULL } },
  { "synth-classroom-exhaustion.pcap", { "--scenario", "scenarios/classroom-exhaustion.ini",
                                         NULL } },
  /* One per encapsulation (traces/gen-tunnels.py): the inner packets are
   * analysed and replayed, so every one gives the same figures. */
  { "scapy-gre-sip.pcap", { "--inside", "10.1.1.0/24", NULL } },
  { "scapy-gre-key-seq-sip.pcap", { NULL } },
  { "scapy-erspan1-sip.pcap", { NULL } },
  { "scapy-erspan2-sip.pcap", { "--inside", "10.1.1.0/24", NULL } },
  { "scapy-erspan3-sip.pcap", { NULL } },
  { "scapy-vxlan-sip.pcap", { "--inside", "10.1.1.0/24", NULL } },
  { "scapy-geneve-sip.pcap", { NULL } },
  { "scapy-mpls-sip.pcap", { "--inside", "10.1.1.0/24", NULL } },
  /* Fragments (traces/gen-fragments.py) and SIP over TCP
   * (traces/gen-sip-tcp.py). */
  { "scapy-sip-fragments.pcap", { "--inside", "10.1.1.0/24", NULL } },
  { "scapy-sip-fragments-reordered.pcap", { NULL } },
  { "scapy-sip-fragments-overlap.pcap", { NULL } },
  { "scapy-sip-tcp.pcap", { NULL } },
  { "scapy-sip-tcp-gaps.pcap", { NULL } },
  { "scapy-sip-websocket.pcap", { NULL } },
};

/* "x.pcapng" -> "x.pcapng.analysis.json" etc. */
static char *
golden_name (const char *trace, const char *kind)
{
  return g_strconcat (trace, ".", kind, ".json", NULL);
}

static void
test_every_sample_has_golden (void **state)
{
  g_autofree char *dir = g_build_filename (g_getenv ("NATSIM_SOURCE_ROOT"), "traces", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  assert_non_null (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      bool listed = false;

      if (!g_str_has_suffix (name, ".pcap") && !g_str_has_suffix (name, ".pcapng"))
        continue;
      n++;
      for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
        listed = listed || strcmp (samples[i].trace, name) == 0;
      if (!listed)
        fail_msg ("traces/%s has no golden test: add it to samples[]", name);
    }
  assert_int_equal (n, G_N_ELEMENTS (samples));
}

static void
test_golden_analyze (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *json = g_build_filename (dir, "analysis.json", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      g_autofree char *trace = g_build_filename ("traces", samples[i].trace, NULL);
      g_autofree char *golden = golden_name (samples[i].trace, "analysis");

      natsim_ok ("analyze", trace, "--out", dir, "--format", "json", "-q", NULL);
      check_golden (json, golden);
    }
}

/* analyze --outer: the VXLAN sample as captured, eight datagrams from the
 * switch to the collector's port 4789 (one flow each: the switch varies its
 * source port), and no SIP; the document says it was asked for. */
static void
test_analyze_outer (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *json = g_build_filename (dir, "analysis.json", NULL);
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *root, *cap;

  natsim_ok ("analyze", "traces/scapy-vxlan-sip.pcap", "--outer", "--out", dir, "--format",
             "json", "-q", NULL);
  root = load_json (json, &parser);
  assert_true (json_object_get_boolean_member (json_object_get_object_member (root, "inputs"),
                                               "outer"));
  cap = json_object_get_object_member (root, "capture");
  assert_int_equal (json_object_get_int_member (cap, "udp"), 8);
  assert_false (json_object_has_member (cap, "decapsulated"));
  assert_int_equal (json_object_get_int_member (json_object_get_object_member (root, "totals"),
                                                "flows"), 8);
  assert_int_equal (json_object_get_int_member (json_object_get_object_member (root, "sip"),
                                                "register_requests"), 0);
}

/* A capture cut short (its last record incomplete, as when tcpdump is
 * killed): analyze and replay read the complete records, warn on stderr
 * and in the document, exit 0; --strict refuses it, writing nothing. */
static void
test_cut_capture (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *cut = g_build_filename (dir, "cut.pcap", NULL);
  g_autofree char *data = NULL;
  gsize n;
  const char *cmds[] = { "analyze", "replay" };
  const char *docs[] = { "analysis.json", "report.json" };
  g_autofree char *src = g_build_filename (g_getenv ("NATSIM_SOURCE_ROOT"), "traces",
                                           "scapy-gre-sip.pcap", NULL);

  assert_true (g_file_get_contents (src, &data, &n, NULL));
  assert_true (g_file_set_contents (cut, data, (gssize) n - 10, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (cmds); i++)
    {
      g_autofree char *out = g_build_filename (dir, cmds[i], NULL);
      g_autofree char *never = g_build_filename (dir, "never", NULL);
      g_autofree char *doc = g_build_filename (out, docs[i], NULL);
      g_autoptr (JsonParser) parser = NULL;
      const char *message;
      Run r = natsim (cmds[i], cut, "--out", out, "--format", "json", "-q", NULL);

      assert_int_equal (r.status, 0);
      assert_non_null (strstr (r.err, "natsim: warning: "));
      assert_non_null (strstr (r.err, "ends inside record 8"));
      assert_non_null (strstr (r.err, "the 7 complete records before it were read"));
      run_clear (&r);
      message = report_warning (load_json (doc, &parser), "trace.cut");
      assert_non_null (message);
      assert_non_null (strstr (message, cut));

      r = natsim (cmds[i], cut, "--strict", "--out", never, NULL);
      assert_int_equal (r.status, 2);
      assert_non_null (strstr (r.err, "--strict refuses a cut capture"));
      assert_null (strchr (g_strchomp (r.err), '\n'));
      assert_false (g_file_test (never, G_FILE_TEST_EXISTS));
      run_clear (&r);
    }
  /* plan --trace plans from the complete records and says so too. */
  {
    g_autofree char *out = g_build_filename (dir, "plan", NULL);
    g_autofree char *doc = g_build_filename (out, "report.json", NULL);
    g_autoptr (JsonParser) parser = NULL;
    const char *message;
    Run r = natsim ("plan", "--trace", cut, "--out", out, "--format", "json", "-q", NULL);

    assert_int_equal (r.status, 0);
    assert_non_null (strstr (r.err, "natsim: warning: "));
    assert_non_null (strstr (r.err, "the 7 complete records before it were read"));
    run_clear (&r);
    message = report_warning (load_json (doc, &parser), "trace.cut");
    assert_non_null (message);
    assert_non_null (strstr (message, cut));
  }
}

/* Impossible timestamps: in the capture summary and as a warning. */
static void
test_bad_timestamps (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *doc = g_build_filename (dir, "analysis.json", NULL);
  g_autofree char *bad = g_build_filename (g_getenv ("NATSIM_DATA"), "bad-traces",
                                           "tcpdump-timestamp-invalid-micro.pcap", NULL);
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *root;
  Run r = natsim ("analyze", bad, "--out", dir, "--format", "json", "-q", NULL);

  assert_int_equal (r.status, 0);
  assert_non_null (strstr (r.err, "natsim: warning: 2 records with an impossible timestamp"));
  run_clear (&r);
  root = load_json (doc, &parser);
  assert_int_equal (json_object_get_int_member (json_object_get_object_member (root, "capture"),
                                                "bad_timestamps"), 2);
  assert_non_null (report_warning (root, "trace.bad_timestamps"));
}

/* Replay of fragments: later pieces go with their first through the NAT
 * (waiting for it when they come first), and are dropped when the first
 * was not translated: the REGISTERs of the reordered sample sent by an
 * inside phone (forwarded), then seen as unsolicited inbound traffic to an
 * inside registrar (dropped). */
static void
test_replay_fragments (void **state)
{
  const struct
  {
    const char *inside;
    gint64      out, in, dropped;
    const char *warning;
  } cases[] = {
    { "10.1.1.0/24", 12, 4, 0, "8 later IPv4 fragment(s) went with their first fragment through "
                               "the NAT, 0 were dropped" },
    { "203.0.113.5/32", 4, 0, 4, "0 later IPv4 fragment(s) went with their first fragment "
                                 "through the NAT, 8 were dropped" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *dir = tmpdir ();
      g_autoptr (JsonParser) parser = NULL;
      JsonObject *root, *totals;
      const char *message;

      natsim_ok ("replay", "traces/scapy-sip-fragments-reordered.pcap", "--inside",
                 cases[i].inside, "--out", dir, "--format", "json", "-q", NULL);
      root = load_report (dir, &parser);
      totals = json_object_get_object_member (root, "totals");
      assert_int_equal (json_object_get_int_member (totals, "packets_out"), cases[i].out);
      assert_int_equal (json_object_get_int_member (totals, "packets_in"), cases[i].in);
      assert_int_equal (json_object_get_int_member (totals, "packets_dropped"), cases[i].dropped);
      message = report_warning (root, "replay.fragments");
      assert_non_null (message);
      assert_true (g_str_has_prefix (message, cases[i].warning));
    }
}

static void
test_golden_replay (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *json = g_build_filename (dir, "report.json", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      g_autofree char *trace = g_build_filename ("traces", samples[i].trace, NULL);
      g_autofree char *golden = golden_name (samples[i].trace, "replay");
      g_autoptr (GPtrArray) args = g_ptr_array_new ();
      Run r;

      if (samples[i].replay[0] == NULL)
        continue;
      g_ptr_array_add (args, (char *) "replay");
      g_ptr_array_add (args, trace);
      for (guint k = 0; samples[i].replay[k] != NULL; k++)
        g_ptr_array_add (args, (char *) samples[i].replay[k]);
      g_ptr_array_add (args, (char *) "--out");
      g_ptr_array_add (args, dir);
      g_ptr_array_add (args, (char *) "--format");
      g_ptr_array_add (args, (char *) "json");
      g_ptr_array_add (args, (char *) "-q");
      g_ptr_array_add (args, NULL);
      r = natsim_argv ((const char *const *) args->pdata);
      if (r.status != 0)
        fail_msg ("replay %s: status %d, stderr '%s'", trace, r.status, r.err);
      run_clear (&r);
      check_golden (json, golden);
    }
}

/* A scaled replay: the synthetic phones, 4 times, through one NAT. */
static void
test_golden_replay_scaled (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *json = g_build_filename (dir, "report.json", NULL);

  natsim_ok ("replay", "traces/synth-sip-udp.pcap", "--scenario", "traces/synth-sip-udp.ini",
             "--scale", "4", "--scale-offset", "90s", "--out", dir, "--format", "json", "-q",
             NULL);
  check_golden (json, "synth-sip-udp.pcap.replay-scale4.json");
}

/* The .pcap and the .pcapng of the same packets: identical documents apart
 * from the name of the input. */
static void
test_pcap_pcapng_identical (void **state)
{
  g_autofree char *d1 = tmpdir ();
  g_autofree char *d2 = tmpdir ();
  const char *files[] = { "analysis.json", "report.json" };

  natsim_ok ("analyze", "traces/isa-sip-call-lab.pcap", "--out", d1, "-q", NULL);
  natsim_ok ("analyze", "traces/isa-sip-call-lab.pcapng", "--out", d2, "-q", NULL);
  natsim_ok ("replay", "traces/isa-sip-call-lab.pcap", "--inside", "10.0.2.15/32", "--out", d1,
             "-q", NULL);
  natsim_ok ("replay", "traces/isa-sip-call-lab.pcapng", "--inside", "10.0.2.15/32", "--out",
             d2, "-q", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *p1 = g_build_filename (d1, files[i], NULL);
      g_autofree char *p2 = g_build_filename (d2, files[i], NULL);
      g_autofree char *a = read_file (p1);
      g_autofree char *b = read_file (p2);
      g_autoptr (GString) b_renamed = g_string_new (b);

      g_string_replace (b_renamed, "isa-sip-call-lab.pcapng", "isa-sip-call-lab.pcap", 0);
      assert_string_not_equal (a, b);
      assert_string_equal (a, b_renamed->str);
    }
}

/* ------------------------------------------------------------------------ */
/* Hostile input                                                            */

/* Every capture in tests/data/bad-traces/: exit 0 (counted skips) or 2 (one
 * clear line naming the file), never a crash, for analyze and replay. */
static void
test_bad_traces (void **state)
{
  g_autofree char *bad_dir = g_build_filename (g_getenv ("NATSIM_DATA"), "bad-traces", NULL);
  g_autofree char *dir = tmpdir ();
  g_autoptr (GDir) d = g_dir_open (bad_dir, 0, NULL);
  const char *name;
  guint n = 0, failed = 0;

  assert_non_null (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (bad_dir, name, NULL);
      const char *cmds[] = { "analyze", "replay" };

      if (!g_str_has_suffix (name, ".pcap") && !g_str_has_suffix (name, ".pcapng"))
        continue;
      n++;
      for (guint c = 0; c < G_N_ELEMENTS (cmds); c++)
        {
          g_autofree char *out = g_build_filename (dir, name, NULL);
          Run r = natsim (cmds[c], path, "--out", out, "-q", NULL);

          if (r.status != 0 && r.status != 2)
            fail_msg ("%s %s: status %d, stderr '%s'", cmds[c], name, r.status, r.err);
          if (r.status == 2)
            {
              g_auto (GStrv) lines = g_strsplit (g_strchomp (r.err), "\n", -1);

              assert_int_equal (g_strv_length (lines), 1);
              assert_true (g_str_has_prefix (r.err, "natsim: "));
              assert_non_null (strstr (r.err, name));
              assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
              failed++;
            }
          run_clear (&r);
        }
    }
  assert_true (n >= 20);
  assert_true (failed > 0);
}

/* Skips are counted in analysis.json, by reason. */
static void
test_analyze_counts_skips (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *path = g_build_filename (g_getenv ("NATSIM_DATA"), "bad-traces",
                                            "natsim-ipv4-bad-ihl.pcap", NULL);
  g_autofree char *json = g_build_filename (dir, "analysis.json", NULL);
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *capture;

  natsim_ok ("analyze", path, "--out", dir, "-q", NULL);
  capture = json_object_get_object_member (load_json (json, &parser), "capture");
  assert_int_equal (json_object_get_int_member (capture, "packets_skipped"), 2);
  assert_int_equal (json_object_get_int_member (
                      json_object_get_object_member (capture, "skipped"), "ipv4-bad-ihl"), 2);
}

/* ------------------------------------------------------------------------ */
/* analyze facts                                                            */

static JsonObject *
class_object (JsonObject *doc, const char *cls)
{
  return json_object_get_object_member (json_object_get_object_member (doc, "classes"), cls);
}

static double
quantile (JsonObject *o, const char *member, const char *q)
{
  return json_object_get_double_member (json_object_get_object_member (o, member), q);
}

/* The synthetic phones: 12 registering every 90 s, 7 times each, with
 * Expires 3600 and answers. */
static void
test_analyze_sip_registrations (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *json = g_build_filename (dir, "analysis.json", NULL);
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *doc, *sip, *cls;

  natsim_ok ("analyze", "traces/synth-sip-udp.pcap", "--out", dir, "-q", NULL);
  doc = load_json (json, &parser);
  assert_string_equal (json_object_get_string_member (doc, "schema"), "natsim.analysis/1");
  sip = json_object_get_object_member (doc, "sip");
  assert_int_equal (json_object_get_int_member (sip, "register_requests"), 84);
  assert_int_equal (json_object_get_int_member (sip, "register_oks"), 84);
  assert_int_equal (json_object_get_int_member (sip, "registering_endpoints"), 12);
  assert_int_equal (json_object_get_int_member (
                      json_object_get_object_member (sip, "register_interval_s"), "samples"),
                    72);
  assert_true (quantile (sip, "register_interval_s", "p50") == 90.0);
  assert_true (quantile (sip, "expires_requested_s", "max") == 3600.0);
  assert_true (quantile (sip, "expires_granted_s", "min") == 3600.0);
  cls = class_object (doc, "sip");
  assert_int_equal (json_object_get_int_member (cls, "flows"), 12);
  assert_int_equal (json_object_get_int_member (cls, "packets"), 168);
  /* From the 200 OK (40 ms after a REGISTER) to the next REGISTER. */
  assert_true (fabs (json_object_get_double_member (cls, "keepalive_s") - 89.96) < 1e-9);
  assert_true (fabs (quantile (cls, "idle_gap_s", "max") - 89.96) < 1e-9);
  cls = class_object (doc, "dns");
  assert_int_equal (json_object_get_int_member (cls, "flows"),
                    json_object_get_int_member (cls, "packets") / 2);
}

/* The Webex client: its TLS flows go to the Webex app configuration ranges
 * (62.109.192.0/18, 64.68.96.0/19), the media to 62.109.229.158:9000. */
static void
test_analyze_webex (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *json = g_build_filename (dir, "analysis.json", NULL);
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *doc;

  natsim_ok ("analyze", "traces/ndpi-webex-client.pcap", "--out", dir, "-q", NULL);
  doc = load_json (json, &parser);
  assert_int_equal (json_object_get_int_member (json_object_get_object_member (doc, "capture"),
                                                "packets_read"), 1110);
  assert_true (json_object_get_int_member (class_object (doc, "https"),
                                           "webex_app_config_flows") > 0);
  assert_int_equal (json_object_get_int_member (class_object (doc, "stun"),
                                                "webex_app_config_flows"), 1);
}

/* The ISA call's RTP is marked EF: DSCP observed per class. */
static void
test_analyze_dscp (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *json = g_build_filename (dir, "analysis.json", NULL);
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *doc;
  guint64 ef = 0;

  natsim_ok ("analyze", "traces/isa-sip-call-lab.pcap", "--out", dir, "-q", NULL);
  doc = load_json (json, &parser);
  for (GList *l = json_object_get_members (json_object_get_object_member (doc, "classes"));
       l != NULL; l = g_list_delete_link (l, l))
    {
      JsonObject *dscp = json_object_get_object_member (class_object (doc, l->data), "dscp");
      JsonArray *obs = json_object_get_array_member (dscp, "observed");

      for (guint i = 0; i < json_array_get_length (obs); i++)
        {
          JsonObject *o = json_array_get_object_element (obs, i);

          if (json_object_get_int_member (o, "dscp") == 46)
            ef += (guint64) json_object_get_int_member (o, "packets");
        }
    }
  /* 80 RTP packets are EF-marked, some by each end; each end is the local
   * end of one folded flow only, so at least half are seen. */
  assert_true (ef > 0 && ef <= 80);
}

static void
test_analyze_usage (void **state)
{
  Run r = natsim ("analyze", NULL);

  assert_int_equal (r.status, 2);
  run_clear (&r);
  r = natsim ("analyze", "traces/isa-sip-call-lab.pcap", "--format", "xml", NULL);
  assert_int_equal (r.status, 2);
  assert_non_null (strstr (r.err, "xml"));
  run_clear (&r);
  r = natsim ("analyze", "traces/isa-sip-call-lab.pcap", "--inside", "10.0.0.1/8", NULL);
  assert_int_equal (r.status, 2);
  run_clear (&r);
  r = natsim ("analyze", "traces/no-such-file.pcap", NULL);
  assert_int_equal (r.status, 2);
  assert_non_null (strstr (r.err, "no-such-file.pcap"));
  run_clear (&r);
}

/* ------------------------------------------------------------------------ */
/* synth                                                                    */

/* The figures a capture of the simulation must reproduce exactly when
 * replayed through the same NAT with the same seed.  Not compared:
 * bindings_expired (the simulation's window ends at its duration, a
 * replay's 1 ns after its last packet, so bindings dying in between count
 * in one only), unreachable_seconds and missed_calls (endpoint models
 * only), blocking_probability (follows from flows and failures). */
static const char *const exact_totals[] = {
  "flows", "bindings_created", "peak_bindings", "peak_ports_per_address",
  "allocation_failures", "binding_losses", "filtered", "rebindings",
  "packets_out", "packets_in", "packets_dropped", NULL
};

static void
check_synth_replay_equals_simulate (const char *scenario, const char *const *sets)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *pcap = g_build_filename (dir, "synth.pcap", NULL);
  g_autofree char *sim_dir = g_build_filename (dir, "sim", NULL);
  g_autofree char *rep_dir = g_build_filename (dir, "rep", NULL);
  g_autofree char *sim_json = g_build_filename (sim_dir, "report.json", NULL);
  g_autofree char *rep_json = g_build_filename (rep_dir, "report.json", NULL);
  g_autoptr (JsonParser) p1 = NULL;
  g_autoptr (JsonParser) p2 = NULL;
  g_autoptr (GPtrArray) synth = g_ptr_array_new ();
  g_autoptr (GPtrArray) sim = g_ptr_array_new ();
  g_autoptr (GPtrArray) rep = g_ptr_array_new ();
  JsonObject *a, *b;
  Run r;

  g_ptr_array_add (synth, (char *) "synth");
  g_ptr_array_add (synth, (char *) scenario);
  g_ptr_array_add (synth, (char *) "-o");
  g_ptr_array_add (synth, pcap);
  g_ptr_array_add (synth, (char *) "-q");
  g_ptr_array_add (sim, (char *) "simulate");
  g_ptr_array_add (sim, (char *) scenario);
  g_ptr_array_add (sim, (char *) "--replications");
  g_ptr_array_add (sim, (char *) "1");
  g_ptr_array_add (sim, (char *) "--out");
  g_ptr_array_add (sim, sim_dir);
  g_ptr_array_add (sim, (char *) "--format");
  g_ptr_array_add (sim, (char *) "json");
  g_ptr_array_add (rep, (char *) "replay");
  g_ptr_array_add (rep, pcap);
  g_ptr_array_add (rep, (char *) "--scenario");
  g_ptr_array_add (rep, (char *) scenario);
  g_ptr_array_add (rep, (char *) "--out");
  g_ptr_array_add (rep, rep_dir);
  g_ptr_array_add (rep, (char *) "--format");
  g_ptr_array_add (rep, (char *) "json");
  g_ptr_array_add (rep, (char *) "-q");
  for (guint i = 0; sets != NULL && sets[i] != NULL; i++)
    {
      g_ptr_array_add (synth, (char *) "--set");
      g_ptr_array_add (synth, (char *) sets[i]);
      g_ptr_array_add (sim, (char *) "--set");
      g_ptr_array_add (sim, (char *) sets[i]);
      g_ptr_array_add (rep, (char *) "--set");
      g_ptr_array_add (rep, (char *) sets[i]);
    }
  g_ptr_array_add (synth, NULL);
  g_ptr_array_add (sim, NULL);
  g_ptr_array_add (rep, NULL);

  r = natsim_argv ((const char *const *) synth->pdata);
  if (r.status != 0)
    fail_msg ("synth %s: status %d, stderr '%s'", scenario, r.status, r.err);
  run_clear (&r);
  r = natsim_argv ((const char *const *) sim->pdata);
  if (r.status != 0)
    fail_msg ("simulate %s: status %d, stderr '%s'", scenario, r.status, r.err);
  run_clear (&r);
  r = natsim_argv ((const char *const *) rep->pdata);
  if (r.status != 0)
    fail_msg ("replay of synth %s: status %d, stderr '%s'", scenario, r.status, r.err);
  run_clear (&r);

  a = json_object_get_object_member (load_json (sim_json, &p1), "totals");
  b = json_object_get_object_member (load_json (rep_json, &p2), "totals");
  for (guint i = 0; exact_totals[i] != NULL; i++)
    {
      double x = json_object_get_double_member (a, exact_totals[i]);
      double y = json_object_get_double_member (b, exact_totals[i]);

      if (x != y)
        fail_msg ("%s: %s simulate %g, replay of synth %g", scenario, exact_totals[i], x, y);
    }
  /* Something happened. */
  assert_true (json_object_get_double_member (a, "packets_out") > 0);
}

static void
test_synth_replay_equals_simulate (void **state)
{
  const char *const seed7[] = { "simulation.seed=7", NULL };
  const char *const tight[] = { "nat.port_range=1024-1030", "nat.udp_timeout=1m", NULL };
  g_autofree char *mixed = g_build_filename (g_getenv ("NATSIM_DATA"), "golden-traces",
                                             "synth-mixed.ini", NULL);

  check_synth_replay_equals_simulate ("traces/synth-sip-udp.ini", NULL);
  check_synth_replay_equals_simulate ("traces/synth-sip-udp.ini", seed7);
  check_synth_replay_equals_simulate ("traces/synth-sip-udp.ini", tight);
  check_synth_replay_equals_simulate ("scenarios/classroom-exhaustion.ini", NULL);
  /* TCP with handshakes and closes, UDP probes, ICMP, exhaustion. */
  check_synth_replay_equals_simulate (mixed, NULL);
}

/* The capture reads back: packet count, SIP payloads, valid for tcpdump. */
static void
test_synth_capture (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *pcap = g_build_filename (dir, "s.pcap", NULL);
  g_autofree char *again = g_build_filename (dir, "again.pcap", NULL);
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autofree char *tcpdump = g_find_program_in_path ("tcpdump");
  gsize la = 0, lb = 0;
  Run r = natsim ("synth", "traces/synth-sip-udp.ini", "-o", pcap, NULL);

  assert_int_equal (r.status, 0);
  assert_non_null (strstr (r.out, "Wrote 408 packets"));
  run_clear (&r);
  /* Deterministic: the same bytes again, and the shipped sample. */
  natsim_ok ("synth", "traces/synth-sip-udp.ini", "-o", again, "-q", NULL);
  assert_true (g_file_get_contents (pcap, &a, &la, NULL));
  assert_true (g_file_get_contents (again, &b, &lb, NULL));
  assert_int_equal (la, lb);
  assert_memory_equal (a, b, la);
  g_clear_pointer (&b, g_free);
  {
    g_autofree char *sample = g_build_filename (g_getenv ("NATSIM_SOURCE_ROOT"), "traces",
                                                "synth-sip-udp.pcap", NULL);

    assert_true (g_file_get_contents (sample, &b, &lb, NULL));
    assert_int_equal (la, lb);
    assert_memory_equal (a, b, la);
  }

  if (tcpdump != NULL)
    {
      const char *argv[] = { tcpdump, "-nn", "-vv", "-r", pcap, NULL };
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      int status = 0;

      assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                                 &err, &status, NULL));
      assert_true (g_spawn_check_exit_status (status, NULL));
      assert_null (strstr (out, "bad udp cksum"));
      assert_null (strstr (out, "bad cksum"));
      assert_non_null (strstr (out, "udp sum ok"));
      assert_non_null (strstr (out, "REGISTER sip:198.51.100.10 SIP/2.0"));
      assert_non_null (strstr (out, "Expires: 3600"));
    }
}

/* Nothing half-written: a failing synth leaves no file. */
static void
test_synth_errors (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *pcap = g_build_filename (dir, "never.pcap", NULL);
  g_autofree char *nodir = g_build_filename (dir, "no", "such", "dir", "x.pcap", NULL);
  Run r = natsim ("synth", "traces/synth-sip-udp.ini", "-o", pcap, "--set",
                  "simulation.duration=-1", NULL);

  assert_int_equal (r.status, 2);
  assert_false (g_file_test (pcap, G_FILE_TEST_EXISTS));
  run_clear (&r);
  r = natsim ("synth", "traces/synth-sip-udp.ini", NULL);
  assert_int_equal (r.status, 2);
  run_clear (&r);
  r = natsim ("synth", "traces/synth-sip-udp.ini", "-o", nodir, NULL);
  assert_true (r.status != 0);
  assert_false (g_file_test (nodir, G_FILE_TEST_EXISTS));
  run_clear (&r);
}

/* ------------------------------------------------------------------------ */
/* replay --scale                                                           */

static JsonObject *
replay_totals (const char *dir, JsonParser **parser)
{
  return json_object_get_object_member (load_report (dir, parser), "totals");
}

static void
test_replay_scale (void **state)
{
  g_autofree char *d1 = tmpdir ();
  g_autofree char *d3 = tmpdir ();
  g_autofree char *d3b = tmpdir ();
  g_autofree char *p3 = g_build_filename (d3, "report.json", NULL);
  g_autofree char *p3b = g_build_filename (d3b, "report.json", NULL);
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autoptr (JsonParser) j1 = NULL;
  g_autoptr (JsonParser) j3 = NULL;
  g_autoptr (JsonParser) jin = NULL;
  JsonObject *t1, *t3;
  const char *scaled[] = { "flows", "rebindings", "packets_out", "packets_in",
                           "bindings_created", NULL };
  Run r;

  natsim_ok ("replay", "traces/synth-sip-udp.pcap", "--scenario", "traces/synth-sip-udp.ini",
             "--out", d1, "-q", NULL);
  natsim_ok ("replay", "traces/synth-sip-udp.pcap", "--scenario", "traces/synth-sip-udp.ini",
             "--scale", "3", "--out", d3, "-q", NULL);
  t1 = replay_totals (d1, &j1);
  t3 = replay_totals (d3, &j3);
  /* A large pool: the copies do not interact, so counts scale exactly. */
  for (guint i = 0; scaled[i] != NULL; i++)
    assert_true (json_object_get_double_member (t3, scaled[i]) ==
                 3 * json_object_get_double_member (t1, scaled[i]));
  assert_true (json_object_get_double_member (t3, "peak_bindings") >
               json_object_get_double_member (t1, "peak_bindings"));
  {
    g_autofree char *in = g_build_filename (d3, "report.json", NULL);
    JsonObject *inputs = json_object_get_object_member (load_json (in, &jin), "inputs");

    assert_int_equal (json_object_get_int_member (inputs, "scale"), 3);
  }

  /* Deterministic for the seed. */
  natsim_ok ("replay", "traces/synth-sip-udp.pcap", "--scenario", "traces/synth-sip-udp.ini",
             "--scale", "3", "--out", d3b, "-q", NULL);
  a = read_file (p3);
  b = read_file (p3b);
  assert_string_equal (a, b);

  /* Scaling the classroom's ten ports: more failures. */
  {
    g_autoptr (JsonParser) jc = NULL;
    JsonObject *tc;

    natsim_ok ("replay", "traces/synth-classroom-exhaustion.pcap", "--scenario",
               "scenarios/classroom-exhaustion.ini", "--scale", "2", "--out", d1, "-q", NULL);
    tc = replay_totals (d1, &jc);
    assert_true (json_object_get_double_member (tc, "allocation_failures") > 20);
  }

  r = natsim ("replay", "traces/synth-sip-udp.pcap", "--scale", "0", NULL);
  assert_int_equal (r.status, 2);
  run_clear (&r);
  r = natsim ("replay", "traces/synth-sip-udp.pcap", "--scale", "2", "--scale-offset", "soon",
              NULL);
  assert_int_equal (r.status, 2);
  run_clear (&r);
}

/* One pass: `natsim replay -` reads the capture from standard input and
 * gives what the file gives; --scale, which reads twice, refuses it. */
static void
test_replay_stdin (void **state)
{
  g_autofree char *d1 = tmpdir ();
  g_autofree char *d2 = tmpdir ();
  g_autoptr (JsonParser) j1 = NULL;
  g_autoptr (JsonParser) j2 = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GList) members = NULL;
  JsonObject *t1, *t2;
  const char *script = "exec \"$0\" replay - --inside 10.0.2.15/32 --out \"$1\" "
                       "--format json -q < traces/isa-sip-call-lab.pcap";
  const char *argv[] = { "/bin/sh", "-c", script, g_getenv ("NATSIM"), d2, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int wait_status = 0;
  Run r;

  natsim_ok ("replay", "traces/isa-sip-call-lab.pcap", "--inside", "10.0.2.15/32", "--out", d1,
             "--format", "json", "-q", NULL);
  if (!g_spawn_sync (g_getenv ("NATSIM_SOURCE_ROOT"), (char **) argv, NULL, 0, NULL, NULL,
                     &out, &err, &wait_status, &error))
    fail_msg ("spawn: %s", error->message);
  if (!WIFEXITED (wait_status) || WEXITSTATUS (wait_status) != 0)
    fail_msg ("replay - < traces/isa-sip-call-lab.pcap: wait status %d, stderr '%s'",
              wait_status, err);
  t1 = replay_totals (d1, &j1);
  t2 = replay_totals (d2, &j2);
  members = json_object_get_members (t1);
  assert_true (g_list_length (members) > 0);
  assert_int_equal (json_object_get_size (t1), json_object_get_size (t2));
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;

      assert_true (json_object_has_member (t2, name));
      if (json_object_get_double_member (t1, name) != json_object_get_double_member (t2, name))
        fail_msg ("totals.%s: %g from the file, %g from standard input", name,
                  json_object_get_double_member (t1, name),
                  json_object_get_double_member (t2, name));
    }
  assert_true (json_object_get_double_member (t2, "packets_out") > 0);
  /* The timeline and the per-class figures too (same end, same buckets). */
  for (guint i = 0; i < 2; i++)
    {
      const char *member = i == 0 ? "timeline" : "per_class";
      JsonObject *o1 = json_node_get_object (json_parser_get_root (j1));
      JsonObject *o2 = json_node_get_object (json_parser_get_root (j2));
      g_autofree char *a = json_to_string (json_object_get_member (o1, member), FALSE);
      g_autofree char *b = json_to_string (json_object_get_member (o2, member), FALSE);

      assert_string_equal (a, b);
    }

  r = natsim ("replay", "-", "--scale", "2", NULL);
  assert_int_equal (r.status, 2);
  assert_non_null (strstr (r.err, "--scale"));
  run_clear (&r);
}

/* analyze --format html: analysis.html with the class table, and an idle-gap
 * CDF chart (inline <svg>) when gnuplot is installed. */
static void
test_analyze_html (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *path = g_build_filename (dir, "analysis.html", NULL);
  g_autofree char *json = g_build_filename (dir, "analysis.json", NULL);
  g_autofree char *html = NULL;
  g_autofree char *gnuplot = g_find_program_in_path ("gnuplot");

  natsim_ok ("analyze", "traces/synth-sip-udp.pcap", "--format", "html", "--out", dir,
             "--quiet", NULL);
  html = read_file (path);
  assert_false (g_file_test (json, G_FILE_TEST_EXISTS));
  assert_non_null (strstr (html, "<!DOCTYPE html>"));
  assert_non_null (strstr (html, "<td>sip</td>"));
  if (gnuplot != NULL && g_getenv ("NATSIM_NO_CHARTS") == NULL)
    {
      assert_non_null (strstr (html, "<svg"));
      assert_non_null (strstr (html, "NAT UDP timeout"));
    }
  else
    assert_non_null (strstr (html, "Charts were skipped"));
  g_unlink (path);
  g_rmdir (dir);
  {
    Run r = natsim ("analyze", "traces/synth-sip-udp.pcap", "--format", "pdf", "--quiet", NULL);
    assert_int_equal (r.status, 2);
    run_clear (&r);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_every_sample_has_golden),
    cmocka_unit_test (test_golden_analyze),
    cmocka_unit_test (test_analyze_outer),
    cmocka_unit_test (test_cut_capture),
    cmocka_unit_test (test_bad_timestamps),
    cmocka_unit_test (test_replay_fragments),
    cmocka_unit_test (test_golden_replay),
    cmocka_unit_test (test_golden_replay_scaled),
    cmocka_unit_test (test_pcap_pcapng_identical),
    cmocka_unit_test (test_bad_traces),
    cmocka_unit_test (test_analyze_counts_skips),
    cmocka_unit_test (test_analyze_sip_registrations),
    cmocka_unit_test (test_analyze_webex),
    cmocka_unit_test (test_analyze_dscp),
    cmocka_unit_test (test_analyze_usage),
    cmocka_unit_test (test_synth_replay_equals_simulate),
    cmocka_unit_test (test_synth_capture),
    cmocka_unit_test (test_synth_errors),
    cmocka_unit_test (test_replay_scale),
    cmocka_unit_test (test_replay_stdin),
    cmocka_unit_test (test_analyze_html),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
