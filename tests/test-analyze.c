/* natsim: traffic characterisation (unit): SIP peeking, the Webex subnet
 * table, quantiles, flow folding and gaps, flow timeout, sampling cap, DSCP
 * against the QoS table, the shared classifier. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "natsim/analyze.h"
#include "natsim/analysis-report.h"
#include "natsim/replay.h"

static NatsimSipInfo
peek (const char *s)
{
  NatsimSipInfo info;

  natsim_sip_peek ((const uint8_t *) s, strlen (s), &info);
  return info;
}

static void
test_sip_peek (void **state)
{
  NatsimSipInfo i;

  i = peek ("REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1\r\n"
            "CSeq: 7 REGISTER\r\nExpires: 120\r\n\r\n");
  assert_int_equal (i.kind, NATSIM_SIP_REGISTER);
  assert_int_equal (i.expires, 120);
  assert_int_equal (i.cseq, 7);

  /* RFC 3261 10.2.1.1: the Contact parameter wins; compact "m", any case. */
  i = peek ("REGISTER sip:x SIP/2.0\nexpires: 3600\nm: <sip:a@10.0.0.1>;EXPIRES=60\n\n");
  assert_int_equal (i.kind, NATSIM_SIP_REGISTER);
  assert_int_equal (i.expires, 60);

  /* Only the first contact; headers after the blank line are body. */
  i = peek ("REGISTER sip:x SIP/2.0\r\nContact: <sip:a@b>, <sip:c@d>;expires=5\r\n\r\n"
            "Expires: 9\r\n");
  assert_int_equal (i.expires, -1);

  /* 200 OK to REGISTER: granted value; to INVITE: nothing. */
  i = peek ("SIP/2.0 200 OK\r\nCSeq: 2 REGISTER\r\nContact: <sip:a@b>;expires=1800\r\n\r\n");
  assert_int_equal (i.kind, NATSIM_SIP_REGISTER_OK);
  assert_int_equal (i.expires, 1800);
  i = peek ("SIP/2.0 200 OK\r\nCSeq: 2 INVITE\r\n\r\n");
  assert_int_equal (i.kind, NATSIM_SIP_NONE);
  i = peek ("SIP/2.0 401 Unauthorized\r\nCSeq: 1 REGISTER\r\n\r\n");
  assert_int_equal (i.kind, NATSIM_SIP_REGISTER_CHALLENGE);
  assert_int_equal (i.status, 401);
  i = peek ("SIP/2.0 407 Proxy Authentication Required\r\ni: abc@h \r\nCSeq: 4 REGISTER\r\n\r\n");
  assert_int_equal (i.kind, NATSIM_SIP_REGISTER_CHALLENGE);
  assert_int_equal (i.cseq, 4);
  assert_int_equal (i.call_id, peek ("REGISTER sip:x SIP/2.0\r\nCall-ID:abc@h\r\n\r\n").call_id);
  assert_int_not_equal (i.call_id, peek ("REGISTER sip:x SIP/2.0\r\nCall-ID: abd@h\r\n\r\n").call_id);
  assert_int_equal (peek ("REGISTER sip:x SIP/2.0\r\n\r\n").call_id, 0);
  i = peek ("SIP/2.0 403 Forbidden\r\nCSeq: 1 REGISTER\r\n\r\n");
  assert_int_equal (i.kind, NATSIM_SIP_NONE);

  /* Contact parameters count only outside <...> (RFC 3261 20.10): a URI
   * parameter named expires is not the contact's expiry. */
  i = peek ("REGISTER sip:x SIP/2.0\r\nContact: <sip:p3@host;expires=5>\r\nExpires: 900\r\n\r\n");
  assert_int_equal (i.expires, 900);
  i = peek ("REGISTER sip:x SIP/2.0\r\nContact: <sip:p3@host;expires=5>;expires=60\r\n"
            "Expires: 900\r\n\r\n");
  assert_int_equal (i.expires, 60);
  /* A quoted display name with ';', '<' and ',' in it, a comma inside the
   * URI, spaces around '='. */
  i = peek ("REGISTER sip:x SIP/2.0\r\nContact: \"A;expires=1 <b>, \\\"c\" "
            "<sip:a@b;x=1,2> ; expires = 70, <sip:c@d>;expires=5\r\n\r\n");
  assert_int_equal (i.expires, 70);

  /* Not SIP, or hostile. */
  i = peek ("INVITE sip:x SIP/2.0\r\n\r\n");
  assert_int_equal (i.kind, NATSIM_SIP_NONE);
  i = peek ("GET / HTTP/1.1\r\n\r\n");
  assert_int_equal (i.kind, NATSIM_SIP_NONE);
  i = peek ("REGISTER sip:x SIP/2.0\r\nExpires: 99999999999999999999\r\nCSeq: x\r\n");
  assert_int_equal (i.kind, NATSIM_SIP_REGISTER);
  assert_int_equal (i.expires, -1);
  assert_int_equal (i.cseq, -1);
  i = peek ("REGISTER sip:x SIP/2.0\r\nExpires:");
  assert_int_equal (i.expires, -1);
  {
    /* Reads only @len bytes: "Expires: 12" cut to "Expires: 1". */
    const char *s = "REGISTER sip:x SIP/2.0\r\nExpires: 12";
    NatsimSipInfo j;

    natsim_sip_peek ((const uint8_t *) s, strlen (s) - 1, &j);
    assert_int_equal (j.expires, 1);
  }
  assert_false (natsim_sip_peek (NULL, 0, &i));
}

/* Messages on a stream transport (RFC 3261 18.3). */
static void
test_sip_frame (void **state)
{
  const char *two = "REGISTER sip:x SIP/2.0\r\nContent-Length: 4\r\n\r\nbodySIP/2.0 200 OK\r\n"
                    "l: 0\r\n\r\n";
  size_t n = 0;

  assert_int_equal (natsim_sip_frame ((const uint8_t *) two, strlen (two), &n),
                    NATSIM_SIP_FRAME_COMPLETE);
  assert_int_equal (n, strlen ("REGISTER sip:x SIP/2.0\r\nContent-Length: 4\r\n\r\nbody"));
  assert_int_equal (natsim_sip_frame ((const uint8_t *) two + n, strlen (two) - n, &n),
                    NATSIM_SIP_FRAME_COMPLETE);
  assert_int_equal (n, strlen ("SIP/2.0 200 OK\r\nl: 0\r\n\r\n"));
  /* Headers or body not all there yet. */
  assert_int_equal (natsim_sip_frame ((const uint8_t *) two, 30, &n), NATSIM_SIP_FRAME_PARTIAL);
  assert_int_equal (natsim_sip_frame ((const uint8_t *) two, 48, &n), NATSIM_SIP_FRAME_PARTIAL);
  assert_int_equal (natsim_sip_frame ((const uint8_t *) "REG", 3, &n), NATSIM_SIP_FRAME_PARTIAL);
  /* Not a start line, a bad length. */
  assert_int_equal (natsim_sip_frame ((const uint8_t *) "hello world, not SIP", 20, &n),
                    NATSIM_SIP_FRAME_INVALID);
  assert_int_equal (natsim_sip_frame ((const uint8_t *) "GET / HTTP/1.1\r\n\r\n", 18, &n),
                    NATSIM_SIP_FRAME_INVALID);
  assert_int_equal (natsim_sip_frame ((const uint8_t *) "OPTIONS sip:a SIP/2.0\r\nl: -1\r\n\r\n",
                                      34, &n),
                    NATSIM_SIP_FRAME_INVALID);
  assert_true (natsim_sip_is_start ((const uint8_t *) "INVITE tel:+1 SIP/2.0", 21));
  assert_false (natsim_sip_is_start ((const uint8_t *) "\r\n\r\n", 4));
}

static void
test_webex_subnets (void **state)
{
  assert_string_equal (natsim_webex_subnet (0x17590101), "calling");      /* 23.89.1.1 */
  assert_string_equal (natsim_webex_subnet (0xC713C401),
                       "calling");                                          /* 199.19.196.1 */
  assert_string_equal (natsim_webex_subnet (0x3E6DE59E), "app-config");   /* 62.109.229.158 */
  assert_string_equal (natsim_webex_subnet (0x96FD8001), "calling");      /* 150.253.128.1: both */
  assert_null (natsim_webex_subnet (0x55773A01));                          /* 85.119.58.1: past /23 */
  assert_string_equal (natsim_webex_subnet (0x55773901), "calling");      /* 85.119.57.1 */
  assert_null (natsim_webex_subnet (0x0A000001));
}

static void
test_quantiles (void **state)
{
  double x[101];
  NatsimQuantiles q;

  for (guint i = 0; i <= 100; i++)
    x[i] = i;
  natsim_quantiles_from_sorted (x, 101, &q);
  assert_true (q.min == 0.0 && q.max == 100.0);
  assert_true (q.p50 == 50.0 && q.p90 == 90.0 && q.p99 == 99.0);
  natsim_quantiles_from_sorted (x, 2, &q); /* 0, 1: interpolated */
  assert_true (fabs (q.p50 - 0.5) < 1e-12);
  natsim_quantiles_from_sorted (NULL, 0, &q);
  assert_true (q.n == 0 && isnan (q.p50));
}

static void
test_classify_flow (void **state)
{
  const char *const *names = natsim_replay_class_names ();

  assert_string_equal (names[natsim_replay_classify_flow (6, 50000, 8934)], "sip-tls");
  assert_string_equal (names[natsim_replay_classify_flow (6, 50000, 5062)], "sip-trunk-tls");
  assert_string_equal (names[natsim_replay_classify_flow (17, 8500, 19600)], "app-audio");
  assert_string_equal (names[natsim_replay_classify_flow (17, 8650, 30000)], "app-video");
  assert_string_equal (names[natsim_replay_classify_flow (17, 19561, 40000)], "device-media");
  assert_string_equal (names[natsim_replay_classify_flow (17, 40000, 9000)], "stun");
  assert_string_equal (names[natsim_replay_classify_flow (6, 40000, 5229)], "push");
  assert_string_equal (names[natsim_replay_classify_flow (17, 40000, 41000)], "other-udp");
  assert_int_equal (natsim_replay_class_index ("dns"), NATSIM_CLASS_DNS);
  assert_int_equal (natsim_replay_class_index ("nope"), -1);
}

/* A hand-made IPv4 packet. */
static NatsimTracePacket
packet (double t, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t dscp)
{
  NatsimTracePacket p;

  memset (&p, 0, sizeof p);
  p.time = (NatsimTime) llround (t * 1e9);
  p.ip_version = 4;
  p.proto = 17;
  p.has_ports = true;
  p.src4 = src;
  p.dst4 = dst;
  natsim_ipv4_to_mapped (src, p.src);
  natsim_ipv4_to_mapped (dst, p.dst);
  p.src_port = sport;
  p.dst_port = dport;
  p.dscp = dscp;
  p.ip_length = 100;
  return p;
}

#define PHONE  UINT32_C (0x0a000001) /* 10.0.0.1 */
#define RELAY  UINT32_C (0x17590101) /* 23.89.1.1, Webex Calling */

static void
test_flows_and_gaps (void **state)
{
  g_autoptr (NatsimCidrSet) inside = natsim_cidr_set_new_default ();
  g_autoptr (NatsimAnalysis) a = natsim_analysis_new (inside, NULL);
  const NatsimClassAnalysis *c;
  NatsimTracePacket p;

  /* App audio, both directions folded into one flow: out EF, in anything,
   * one out packet unmarked.  Gaps 0.02 s; then a keepalive every 30 s
   * for 3 minutes. */
  for (guint i = 0; i < 10; i++)
    {
      p = packet (i * 0.02, PHONE, 8500, RELAY, 19600, i == 4 ? 0 : 46);
      natsim_analysis_add_packet (a, &p);
      p = packet (i * 0.02 + 0.01, RELAY, 19600, PHONE, 8500, 0);
      natsim_analysis_add_packet (a, &p);
    }
  for (guint i = 1; i <= 6; i++)
    {
      p = packet (0.19 + i * 30.0, PHONE, 8500, RELAY, 19600, 46);
      natsim_analysis_add_packet (a, &p);
    }
  natsim_analysis_finish (a, NULL);
  c = natsim_analysis_class (a, NATSIM_CLASS_APP_AUDIO);
  assert_int_equal (c->flows, 1);
  assert_int_equal (c->packets, 26);
  assert_int_equal (c->bytes, 2600);
  assert_int_equal (c->webex_calling_flows, 1);
  assert_int_equal (c->long_lived_flows, 1);
  assert_int_equal (c->idle_gap.n, 25);
  assert_true (fabs (c->idle_gap.max - 30.0) < 1e-9);
  assert_true (fabs (c->idle_gap.p50 - 0.01) < 1e-9);
  assert_true (fabs (c->duration.max - 180.19) < 1e-9);
  /* Gaps >= 1 s once the flow is 60 s old: at 60.19 ... 180.19 (5). */
  assert_int_equal (c->refresh_gap.n, 5);
  assert_true (fabs (c->keepalive_s - 30.0) < 1e-9);
  /* DSCP: 16 packets from the phone, one not EF; the relay's not checked. */
  assert_int_equal (c->dscp_checked, 16);
  assert_int_equal (c->dscp_expected, 15);
  assert_int_equal (c->dscp_other, 1);
  assert_int_equal (c->dscp_observed[46], 15);
  assert_int_equal (c->dscp_observed[0], 1);
}

static void
test_flow_timeout_and_cap (void **state)
{
  g_autoptr (NatsimCidrSet) inside = natsim_cidr_set_new_default ();
  NatsimAnalyzeOptions opts = { 10 * NATSIM_NSEC_PER_SEC, 4 };
  g_autoptr (NatsimAnalysis) a = natsim_analysis_new (inside, &opts);
  g_autoptr (NatsimAnalysis) b = natsim_analysis_new (inside, &opts);
  const NatsimClassAnalysis *c, *d;
  NatsimTracePacket p;

  /* DNS: one endpoint pair, packets 1 s apart, a 20 s pause splits it. */
  for (guint i = 0; i < 20; i++)
    {
      double t = i < 10 ? i : i + 20.0;

      p = packet (t, PHONE, 40000, RELAY, 53, 0);
      natsim_analysis_add_packet (a, &p);
      natsim_analysis_add_packet (b, &p);
    }
  natsim_analysis_finish (a, NULL);
  natsim_analysis_finish (b, NULL);
  c = natsim_analysis_class (a, NATSIM_CLASS_DNS);
  assert_int_equal (c->flows, 2);
  assert_int_equal (c->idle_gap.n, 18);
  assert_int_equal (c->idle_gap.kept, 4);
  assert_true (c->idle_gap.max == 1.0);
  /* The same sample for the same input. */
  d = natsim_analysis_class (b, NATSIM_CLASS_DNS);
  assert_memory_equal (&c->idle_gap, &d->idle_gap, sizeof c->idle_gap);
}

static void
test_sip_intervals (void **state)
{
  g_autoptr (NatsimCidrSet) inside = natsim_cidr_set_new_default ();
  g_autoptr (NatsimAnalysis) a = natsim_analysis_new (inside, NULL);
  const char *reg = "REGISTER sip:r SIP/2.0\r\nCSeq: 1 REGISTER\r\nExpires: 300\r\n\r\n";
  const NatsimSipAnalysis *sip;
  /* A REGISTER, its challenge answer 0.1 s later (same attempt), then
   * refreshes after 60 and 180 s. */
  const double times[] = { 0.0, 0.1, 60.0, 60.1, 240.0 };

  for (guint i = 0; i < G_N_ELEMENTS (times); i++)
    {
      NatsimTracePacket p = packet (times[i], PHONE, 5060, RELAY, 5060, 24);

      p.payload = (const uint8_t *) reg;
      p.payload_len = strlen (reg);
      natsim_analysis_add_packet (a, &p);
    }
  natsim_analysis_finish (a, NULL);
  sip = natsim_analysis_sip (a);
  assert_int_equal (sip->registers, 5);
  assert_int_equal (sip->endpoints, 1);
  assert_int_equal (sip->interval.n, 2);
  assert_true (sip->interval.min == 60.0 && sip->interval.max == 180.0);
  assert_true (sip->expires_requested.p50 == 300.0);
}

/* A REGISTER challenged with 401 and answered 17 s later (same Call-ID,
 * next CSeq) is one attempt; the refresh interval is the 600 s between
 * attempts, not 17 s.  A REGISTER with another Call-ID is not an answer. */
static void
test_sip_challenge (void **state)
{
  g_autoptr (NatsimCidrSet) inside = natsim_cidr_set_new_default ();
  g_autoptr (NatsimAnalysis) a = natsim_analysis_new (inside, NULL);
  const struct
  {
    double      t;
    bool        from_phone;
    const char *msg;
  } seq[] = {
    { 0.0, true, "REGISTER sip:r SIP/2.0\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\n\r\n" },
    { 0.05, false, "SIP/2.0 401 Unauthorized\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\n\r\n" },
    { 17.0, true, "REGISTER sip:r SIP/2.0\r\nCall-ID: c1\r\nCSeq: 2 REGISTER\r\n\r\n" },
    { 17.05, false, "SIP/2.0 200 OK\r\nCall-ID: c1\r\nCSeq: 2 REGISTER\r\n\r\n" },
    { 600.0, true, "REGISTER sip:r SIP/2.0\r\nCall-ID: c1\r\nCSeq: 3 REGISTER\r\n\r\n" },
    { 600.05, false, "SIP/2.0 407 Proxy Auth\r\nCall-ID: c1\r\nCSeq: 3 REGISTER\r\n\r\n" },
    { 620.0, true, "REGISTER sip:r SIP/2.0\r\nCall-ID: c1\r\nCSeq: 4 REGISTER\r\n\r\n" },
    /* Not an answer: another Call-ID 20 s later starts an attempt. */
    { 1200.0, true, "REGISTER sip:r SIP/2.0\r\nCall-ID: c1\r\nCSeq: 5 REGISTER\r\n\r\n" },
    { 1200.05, false, "SIP/2.0 401 Unauthorized\r\nCall-ID: c1\r\nCSeq: 5 REGISTER\r\n\r\n" },
    { 1220.0, true, "REGISTER sip:r SIP/2.0\r\nCall-ID: c2\r\nCSeq: 6 REGISTER\r\n\r\n" },
  };
  const NatsimSipAnalysis *sip;

  for (guint i = 0; i < G_N_ELEMENTS (seq); i++)
    {
      NatsimTracePacket p = seq[i].from_phone ? packet (seq[i].t, PHONE, 5060, RELAY, 5060, 24)
                                              : packet (seq[i].t, RELAY, 5060, PHONE, 5060, 24);

      p.payload = (const uint8_t *) seq[i].msg;
      p.payload_len = strlen (seq[i].msg);
      natsim_analysis_add_packet (a, &p);
    }
  natsim_analysis_finish (a, NULL);
  sip = natsim_analysis_sip (a);
  assert_int_equal (sip->registers, 6);
  assert_int_equal (sip->register_oks, 1);
  assert_int_equal (sip->interval.n, 3);
  assert_true (sip->interval.min == 20.0);
  assert_true (sip->interval.p50 == 600.0 && sip->interval.max == 600.0);
}

static void
test_json_deterministic (void **state)
{
  g_autoptr (NatsimCidrSet) inside = natsim_cidr_set_new_default ();
  g_autoptr (NatsimAnalysis) a = natsim_analysis_new (inside, NULL);
  const char *traces[] = { "x.pcap" };
  g_autofree char *json = NULL;
  g_autofree char *again = NULL;
  NatsimTracePacket p = packet (1.5, PHONE, 8500, RELAY, 8500, 46);

  natsim_analysis_add_packet (a, &p);
  p = packet (1.6, PHONE, 8500, RELAY, 8500, 46);
  natsim_analysis_add_packet (a, &p);
  natsim_analysis_finish (a, NULL);
  json = natsim_analysis_to_json (a, traces, 1);
  again = natsim_analysis_to_json (a, traces, 1);
  assert_string_equal (json, again);
  assert_non_null (strstr (json, "\"schema\": \"natsim.analysis/1\""));
  assert_non_null (strstr (json, "\"p50\": 0.1,"));
  assert_non_null (strstr (json, "\"expected\": [46]"));
  assert_non_null (strstr (json, "\"min\": null"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_sip_peek),
    cmocka_unit_test (test_sip_frame),
    cmocka_unit_test (test_sip_challenge),
    cmocka_unit_test (test_webex_subnets),
    cmocka_unit_test (test_quantiles),
    cmocka_unit_test (test_classify_flow),
    cmocka_unit_test (test_flows_and_gaps),
    cmocka_unit_test (test_flow_timeout_and_cap),
    cmocka_unit_test (test_sip_intervals),
    cmocka_unit_test (test_json_deterministic),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
