/* natsim: tests of the replay driver's read-ahead and the NAT's look-ahead
 * hints.
 *
 * natsim_replay() reads packets ahead of the NAT into a ring and asks the
 * NAT to load their flows early (natsim_nat_prefetch()).  What must hold:
 * every packet reaches the NAT exactly once, in capture order, whatever the
 * capture's length against the ring's; a read error is reported after the
 * packets before it were offered (narration shows them all); and the hints
 * change nothing in the NAT.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "natsim/classify.h"
#include "natsim/error.h"
#include "natsim/params.h"
#include "natsim/replay.h"
#include "natsim/rng.h"

/* The linux preset's NAT, as `natsim replay` builds it without a scenario,
 * with @port_lo..@port_hi as its port range (a small range makes ports run
 * out, so that order matters to more verdicts). */
static void
linux_config (NatsimNatConfig *ret, const char *port_range)
{
  g_autoptr (NatsimParams) p = natsim_params_new (natsim_nat_keys);
  const NatsimNatPreset *preset = natsim_nat_preset_lookup ("linux");

  assert_non_null (preset);
  for (guint i = 0; preset->values[i] != NULL && preset->values[i + 1] != NULL; i += 2)
    assert_true (natsim_params_set (p, preset->values[i], preset->values[i + 1], "preset",
                                    NULL));
  if (port_range != NULL)
    assert_true (natsim_params_set (p, "port_range", port_range, "test", NULL));
  assert_true (natsim_nat_config_from_params (p, ret, NULL));
}

static uint64_t
next_random (uint64_t *s)
{
  uint64_t x = *s;

  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

/* @n packets of 60 flows interleaved at random, 40 % inbound, with a
 * packet between two inside hosts now and then (not offered: it
 * exercises the ring with entries the NAT never sees).  Inside
 * addressing, times from 0, 2 to 40 s apart so that some bindings
 * expire under the 30 s UDP timeout. */
static NatsimPacket *
random_packets (guint n)
{
  NatsimPacket *pkts = g_new0 (NatsimPacket, MAX (n, 1u));
  uint64_t s = 0x853c49e6748fea9bull;
  NatsimTime now = 0;

  for (guint i = 0; i < n; i++)
    {
      NatsimPacket *p = &pkts[i];
      guint flow = (guint) (next_random (&s) % 60);
      uint32_t in_addr = 0x0a000001u + flow / 3;
      uint16_t in_port = (uint16_t) (40000 + flow);
      uint32_t rem_addr = 0xcb007100u + flow % 7; /* 203.0.113.x */
      uint16_t rem_port = (uint16_t) (5060 + flow % 5);

      if (i > 0)
        now += NATSIM_MSEC (2) + next_random (&s) % NATSIM_SEC (2);
      if (i % 50 == 49)
        now += NATSIM_SEC (40);
      p->time = now;
      p->proto = NATSIM_PROTO_UDP;
      p->length = 100;
      if (i % 23 == 22)
        {
          /* Inside to inside. */
          p->dir = NATSIM_DIR_OUT;
          p->src_addr = in_addr, p->src_port = in_port;
          p->dst_addr = 0x0a0000f0u, p->dst_port = 53;
        }
      else if (next_random (&s) % 5 < 2)
        {
          p->dir = NATSIM_DIR_IN;
          p->src_addr = rem_addr, p->src_port = rem_port;
          p->dst_addr = in_addr, p->dst_port = in_port;
        }
      else
        {
          p->dir = NATSIM_DIR_OUT;
          p->src_addr = in_addr, p->src_port = in_port;
          p->dst_addr = rem_addr, p->dst_port = rem_port;
        }
    }
  return pkts;
}

static char *
write_capture (const char *dir, const char *name, const NatsimPacket *pkts, guint n)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autoptr (NatsimPcapWriter) w = natsim_pcap_writer_open (path, NULL);

  assert_non_null (w);
  natsim_pcap_writer_set_epoch (w, UINT64_C (1700000000) * NATSIM_NSEC_PER_SEC);
  for (guint i = 0; i < n; i++)
    assert_true (natsim_pcap_writer_write_udp (w, &pkts[i], NULL, 0));
  assert_true (natsim_pcap_writer_close (w, NULL));
  return path;
}

static bool
is_inside (uint32_t a)
{
  return (a >> 24) == 10;
}

/* Captures shorter than the ring, as long as it, one longer, and longer
 * still: the NAT sees each offered packet once and in order, with the
 * verdicts and public endpoints that feeding it the same packets one by
 * one gives. */
static void
test_replay_every_packet_in_order (void **state)
{
  static const guint lengths[] = { 0, 1, 7, 8, 9, 15, 16, 17, 33, 300 };
  g_autofree char *dir = g_dir_make_tmp ("natsim-test-replay-XXXXXX", NULL);
  g_autofree NatsimPacket *pkts = random_packets (300);
  g_autoptr (NatsimCidrSet) inside = natsim_cidr_set_new_default ();
  NatsimNatConfig cfg;

  assert_non_null (dir);
  linux_config (&cfg, "1024-1033");
  for (guint l = 0; l < G_N_ELEMENTS (lengths); l++)
    {
      guint n = lengths[l];
      g_autofree char *path = write_capture (dir, "c.pcap", pkts, n);
      const char *traces[] = { path };
      g_autoptr (GError) error = NULL;
      g_autoptr (gsl_rng) rng = natsim_rng_new (7, 0, "nat");
      NatsimNat *nat = natsim_nat_new (&cfg, rng);
      NatsimReplayInfo info = { 0 };
      NatsimRunResult *run;
      guint offered = 0, local = 0;

      run = natsim_replay (&cfg, traces, 1, inside, 0, 7, &info, &error);
      assert_non_null (run);
      assert_int_equal (info.packets_read, n);
      for (guint i = 0; i < n; i++)
        {
          NatsimPacket p = pkts[i];
          NatsimNatResult nr;
          const NatsimPacketRecord *rec;
          bool out = p.dir == NATSIM_DIR_OUT;

          if (is_inside (p.src_addr) && is_inside (p.dst_addr))
            {
              local++;
              continue;
            }
          p.cls = (uint16_t) natsim_replay_classify_flow (p.proto, out ? p.src_port : p.dst_port,
                                                          out ? p.dst_port : p.src_port);
          natsim_nat_process (nat, &p, &nr);
          assert_non_null (run->packets);
          assert_true (offered < run->packets->len);
          rec = &g_array_index (run->packets, NatsimPacketRecord, offered);
          if (rec->time != p.time || rec->src_addr != p.src_addr || rec->src_port != p.src_port
              || rec->dir != p.dir || rec->verdict != nr.verdict || rec->ext_port != nr.ext_port
              || rec->ext_addr != nr.ext_addr)
            fail_msg ("capture of %u: packet %u (offered %u) differs: time %" G_GUINT64_FORMAT
                      "/%" G_GUINT64_FORMAT ", verdict %u/%d, port %u/%u", n, i, offered,
                      rec->time, p.time, rec->verdict, nr.verdict, rec->ext_port, nr.ext_port);
          offered++;
        }
      assert_int_equal (info.offered_out + info.offered_in, offered);
      assert_int_equal (info.not_translated, local);
      assert_int_equal (run->packets != NULL ? run->packets->len : 0, offered);
      natsim_run_result_free (run);
      natsim_nat_free (nat);
      g_unlink (path);
    }
  natsim_nat_config_clear (&cfg);
  g_rmdir (dir);
}

static char *
replay_events (const char *path, const NatsimNatConfig *cfg, GError **error)
{
  const char *traces[] = { path };
  g_autoptr (NatsimCidrSet) inside = natsim_cidr_set_new_default ();
  NatsimReplayObserver obs = { 0 };
  NatsimRunResult *run;
  char *text = NULL;
  size_t len = 0;

  obs.events = open_memstream (&text, &len);
  assert_non_null (obs.events);
  run = natsim_replay_observed (cfg, traces, 1, inside, 0, 1, NULL, &obs, NULL, error);
  fclose (obs.events);
  if (run != NULL)
    natsim_run_result_free (run);
  return text;
}

/* A record libpcap refuses after 100 good ones: replay fails naming record
 * 101, and the narration of the 100 before it is whole (the ring had read
 * past them when the error came). */
static void
test_replay_error_after_packets (void **state)
{
  g_autofree char *dir = g_dir_make_tmp ("natsim-test-replay-XXXXXX", NULL);
  g_autofree NatsimPacket *pkts = random_packets (100);
  g_autofree char *good = write_capture (dir, "good.pcap", pkts, 100);
  g_autofree char *bad = g_build_filename (dir, "bad.pcap", NULL);
  g_autofree char *data = NULL;
  g_autofree char *good_events = NULL;
  g_autofree char *bad_events = NULL;
  g_autoptr (GError) error = NULL;
  /* Time 1 s, caplen and len 2^32 - 1: "invalid packet capture length". */
  static const uint8_t record[16] = { 0x5b, 0x5f, 0x5e, 0x65, 0, 0, 0, 0,
                                      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
  GString *s;
  gsize n;
  NatsimNatConfig cfg;

  linux_config (&cfg, NULL);
  assert_true (g_file_get_contents (good, &data, &n, NULL));
  s = g_string_new_len (data, (gssize) n);
  g_string_append_len (s, (const char *) record, sizeof record);
  assert_true (g_file_set_contents (bad, s->str, (gssize) s->len, NULL));
  g_string_free (s, TRUE);

  good_events = replay_events (good, &cfg, &error);
  assert_null (error);
  bad_events = replay_events (bad, &cfg, &error);
  assert_non_null (error);
  if (strstr (error->message, "packet 101:") == NULL)
    fail_msg ("error '%s' does not name packet 101", error->message);
  /* Every packet line of the good run, then nothing more than its end. */
  assert_true (strlen (bad_events) > 1000);
  if (strncmp (good_events, bad_events, strlen (bad_events)) != 0)
    fail_msg ("the narration of the failed run is not a prefix of the good run's");
  {
    g_auto (GStrv) good_lines = g_strsplit (good_events, "\n", -1);
    g_auto (GStrv) bad_lines = g_strsplit (bad_events, "\n", -1);
    guint good_pkts = 0, bad_pkts = 0;

    for (guint i = 0; good_lines[i] != NULL; i++)
      good_pkts += strstr (good_lines[i], "->") != NULL || strstr (good_lines[i], "<-") != NULL;
    for (guint i = 0; bad_lines[i] != NULL; i++)
      bad_pkts += strstr (bad_lines[i], "->") != NULL || strstr (bad_lines[i], "<-") != NULL;
    assert_true (good_pkts >= 90);
    assert_int_equal (bad_pkts, good_pkts);
  }
  natsim_nat_config_clear (&cfg);
  g_unlink (good);
  g_unlink (bad);
  g_rmdir (dir);
}

/* Two NATs fed the same packets, one with hints for packets to come (and
 * for packets that never come) before each: same verdicts, same public
 * endpoints, through table growth, expiries and port exhaustion. */
static void
test_nat_prefetch_changes_nothing (void **state)
{
  g_autoptr (gsl_rng) rng_a = natsim_rng_new (3, 0, "nat");
  g_autoptr (gsl_rng) rng_b = natsim_rng_new (3, 0, "nat");
  NatsimNatConfig cfg;
  NatsimNat *a, *b;
  uint64_t s = 0x9e3779b97f4a7c15ull;
  NatsimTime now = 0;
  enum { N = 60000, FLOWS = 6000, AHEAD = 8 };
  g_autofree NatsimPacket *pkts = g_new0 (NatsimPacket, N);
  guint forwarded = 0;

  linux_config (&cfg, "1024-5023");
  a = natsim_nat_new (&cfg, rng_a);
  b = natsim_nat_new (&cfg, rng_b);
  for (guint i = 0; i < N; i++)
    {
      NatsimPacket *p = &pkts[i];
      guint flow = (guint) (next_random (&s) % FLOWS);
      uint32_t in_addr = 0x0a000000u + 1 + flow;
      uint32_t rem_addr = 0xc6336400u + flow % 200;

      now += next_random (&s) % NATSIM_MSEC (3);
      p->time = now;
      p->proto = flow % 4 == 0 ? NATSIM_PROTO_TCP : NATSIM_PROTO_UDP;
      p->tcp_flags = NATSIM_TCP_ACK;
      p->length = 80;
      p->dir = next_random (&s) % 5 < 2 ? NATSIM_DIR_IN : NATSIM_DIR_OUT;
      if (p->dir == NATSIM_DIR_OUT)
        {
          p->src_addr = in_addr, p->src_port = (uint16_t) (30000 + flow % 1000);
          p->dst_addr = rem_addr, p->dst_port = 443;
        }
      else
        {
          p->src_addr = rem_addr, p->src_port = 443;
          p->dst_addr = in_addr, p->dst_port = (uint16_t) (30000 + flow % 1000);
        }
    }
  for (guint i = 0; i < N; i++)
    {
      NatsimNatResult ra, rb;
      NatsimPacket never = pkts[(i * 7919u) % N];

      if (i + 2 * AHEAD < N)
        natsim_nat_prefetch (a, &pkts[i + 2 * AHEAD]);
      if (i + AHEAD < N)
        natsim_nat_prefetch_binding (a, &pkts[i + AHEAD]);
      never.src_port ^= 0x5555;
      natsim_nat_prefetch (a, &never);
      natsim_nat_prefetch_binding (a, &never);
      natsim_nat_process (a, &pkts[i], &ra);
      natsim_nat_process (b, &pkts[i], &rb);
      if (ra.verdict != rb.verdict || ra.ext_addr != rb.ext_addr || ra.ext_port != rb.ext_port
          || ra.new_binding != rb.new_binding)
        fail_msg ("packet %u: verdict %d/%d, port %u/%u", i, ra.verdict, rb.verdict,
                  ra.ext_port, rb.ext_port);
      forwarded += ra.verdict == NATSIM_VERDICT_FORWARDED;
    }
  /* The mix exercised more than one verdict. */
  assert_true (forwarded > N / 3 && forwarded < N);
  natsim_nat_free (a);
  natsim_nat_free (b);
  natsim_nat_config_clear (&cfg);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_replay_every_packet_in_order),
    cmocka_unit_test (test_replay_error_after_packets),
    cmocka_unit_test (test_nat_prefetch_changes_nothing),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
