/* natsim: tests of the endpoint profiles (src/model): what each profile
 * sends (ports, protocols, intervals, DSCP of docs/reference.md section 1), and
 * reachability against closed-form keepalive/timeout arithmetic.
 *
 * Two harnesses: record() runs the populations of a scenario straight on a
 * NAT and keeps every packet with its verdict; figures() runs the real
 * driver (natsim_simulate_replication) and returns report figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "natsim/model.h"
#include "natsim/rng.h"
#include "natsim/scenario.h"
#include "natsim/simulate.h"

typedef struct
{
  NatsimPacket  pkt;
  NatsimVerdict verdict;
  uint32_t      ext_addr;
  uint16_t      ext_port;
} Rec;

typedef struct
{
  NatsimNat *nat;
  GArray    *recs;
  guint      missed;
  double     unreachable;
  guint      trains;   /* fast-forwarded */
} Harness;

static void
harness_send (void *sim, const NatsimPacket *pkt, NatsimNatResult *ret)
{
  Harness *h = sim;
  Rec r;

  natsim_nat_process (h->nat, pkt, ret);
  r.pkt = *pkt;
  r.verdict = ret->verdict;
  r.ext_addr = ret->ext_addr;
  r.ext_port = ret->ext_port;
  g_array_append_val (h->recs, r);
}

/* Fast-forwards on the NAT and records each train's packets as the
 * per-packet run would see them (forwarded, out then in at each tick). */
static bool
harness_fast_forward (void *sim, uint16_t cls, const NatsimNatTrain *trains, guint n)
{
  Harness *h = sim;

  if (!natsim_nat_fast_forward (h->nat, trains, n))
    return false;
  h->trains += n;
  for (guint i = 0; i < n; i++)
    for (NatsimTime t = trains[i].next; t <= trains[i].last; t += trains[i].gap)
      for (guint d = 0; d < 2; d++)
        {
          Rec r = { 0 };
          bool out = d == 0;

          r.pkt.time = t;
          r.pkt.proto = NATSIM_PROTO_UDP;
          r.pkt.dir = out ? NATSIM_DIR_OUT : NATSIM_DIR_IN;
          r.pkt.cls = cls;
          r.pkt.src_addr = out ? trains[i].in_addr : trains[i].rem_addr;
          r.pkt.src_port = out ? trains[i].in_port : trains[i].rem_port;
          r.pkt.dst_addr = out ? trains[i].rem_addr : trains[i].in_addr;
          r.pkt.dst_port = out ? trains[i].rem_port : trains[i].in_port;
          r.verdict = NATSIM_VERDICT_FORWARDED;
          g_array_append_val (h->recs, r);
        }
  return true;
}

static void
harness_missed (void *sim, uint16_t cls, NatsimTime t)
{
  ((Harness *) sim)->missed++;
}

static void
harness_unreachable (void *sim, uint16_t cls, NatsimTime from, NatsimTime to)
{
  ((Harness *) sim)->unreachable += natsim_time_to_sec (to - from);
}

static NatsimScenario *
load (const char *ini)
{
  g_autoptr (GError) error = NULL;
  NatsimScenario *s = natsim_scenario_load_data (ini, (gsize) -1, "test.ini", &error);

  if (s == NULL)
    fail_msg ("%s", error->message);
  return s;
}

/* Runs every population of @ini on one NAT; returns the packets of all.
 * With @fast the models may fast-forward steady media (the trains'
 * packets are recorded when the train is handed over). */
static GArray *
record_full (const char *ini, Harness *ret_h, bool fast)
{
  g_autoptr (NatsimScenario) s = load (ini);
  g_autoptr (GError) error = NULL;
  g_autoptr (gsl_rng) nat_rng = natsim_rng_new (1, 0, "nat");
  g_autoptr (NatsimEventQueue) q = natsim_population_queue_new ();
  g_autoptr (GPtrArray) pops = g_ptr_array_new_with_free_func ((GDestroyNotify) natsim_population_free);
  g_autoptr (GPtrArray) rngs = g_ptr_array_new_with_free_func ((GDestroyNotify) gsl_rng_free);
  g_autofree NatsimPopulationContext *ctxs = g_new0 (NatsimPopulationContext, s->populations->len);
  NatsimTime end = natsim_params_get_duration (s->simulation, "duration");
  NatsimNatConfig cfg;
  NatsimEvent ev;
  uint32_t next_host = 1;

  assert_true (natsim_nat_config_from_params (s->nat, &cfg, &error));
  memset (ret_h, 0, sizeof *ret_h);
  ret_h->nat = natsim_nat_new (&cfg, nat_rng);
  natsim_nat_config_clear (&cfg);
  ret_h->recs = g_array_new (FALSE, FALSE, sizeof (Rec));
  for (guint i = 0; i < s->populations->len; i++)
    {
      const NatsimPopulationSpec *spec = g_ptr_array_index (s->populations, i);
      g_autofree char *stream = g_strconcat ("population:", spec->name, NULL);
      gsl_rng *rng = natsim_rng_new (1, 0, stream);

      g_ptr_array_add (rngs, rng);
      ctxs[i].queue = q;
      ctxs[i].rng = rng;
      ctxs[i].cls = (uint16_t) i;
      ctxs[i].inside_base = UINT32_C (0x0a000000) + next_host;
      next_host += spec->profile->n_hosts (spec->params);
      ctxs[i].end = end;
      ctxs[i].send = harness_send;
      ctxs[i].unreachable = harness_unreachable;
      ctxs[i].missed_call = harness_missed;
      ctxs[i].fast_forward = fast ? harness_fast_forward : NULL;
      ctxs[i].nat = ret_h->nat;
      ctxs[i].sim = ret_h;
      g_ptr_array_add (pops, spec->profile->create (spec->params, &ctxs[i]));
    }
  for (guint i = 0; i < pops->len; i++)
    {
      NatsimPopulation *p = g_ptr_array_index (pops, i);
      p->klass->start (p);
    }
  while (natsim_population_next_event (q, end, &ev))
    {
      NatsimPopulation *p = g_ptr_array_index (pops, ev.aux);
      natsim_nat_advance (ret_h->nat, ev.time);
      p->klass->handle (p, &ev);
    }
  for (guint i = 0; i < pops->len; i++)
    {
      NatsimPopulation *p = g_ptr_array_index (pops, i);
      p->klass->finish (p, end);
    }
  return ret_h->recs;
}

static GArray *
record (const char *ini, Harness *ret_h)
{
  return record_full (ini, ret_h, false);
}

static void
harness_clear (Harness *h)
{
  natsim_nat_free (h->nat);
  g_array_unref (h->recs);
}

/* One replication through the driver. */
static NatsimRunResult *
figures (const char *ini, const char *const *overrides)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s =
    natsim_scenario_load_data_with_overrides (ini, (gsize) -1, "test.ini", overrides, &error);
  NatsimRunResult *r;

  if (s == NULL)
    fail_msg ("%s", error->message);
  r = natsim_simulate_replication (s, 0, NULL, &error);
  if (r == NULL)
    fail_msg ("%s", error->message);
  return r;
}

static double
stat (const NatsimRunResult *r, guint cls, NatsimStat st)
{
  return r->per_class[cls].v[st];
}

#define HEADER(duration) \
  "[simulation]\nduration = " duration "\nwarmup = 0s\nseed = 1\nreplications = 1\n" \
  "[nat]\npreset = linux\naddresses = 203.0.113.1-203.0.113.2\n"

static bool
is_out (const Rec *r)
{
  return r->pkt.dir == NATSIM_DIR_OUT;
}

/* The gaps between outbound packets of one endpoint matching @match are all
 * within [lo, hi] seconds; returns how many gaps were seen. */
static guint
check_gaps (GArray *recs, uint32_t endpoint, bool (*match) (const Rec *), double lo, double hi)
{
  NatsimTime last = NATSIM_TIME_INFINITY;
  guint n = 0;

  for (guint i = 0; i < recs->len; i++)
    {
      const Rec *r = &g_array_index (recs, Rec, i);
      if (r->pkt.endpoint != endpoint || !match (r))
        continue;
      if (last != NATSIM_TIME_INFINITY)
        {
          double gap = natsim_time_to_sec (r->pkt.time - last);
          if (gap < lo - 1e-9 || gap > hi + 1e-9)
            fail_msg ("gap %.3f s outside [%g, %g] at %.3f s", gap, lo, hi,
                      natsim_time_to_sec (r->pkt.time));
          n++;
        }
      last = r->pkt.time;
    }
  return n;
}

static bool
is_mpp_register (const Rec *r)
{
  return is_out (r) && r->pkt.proto == NATSIM_PROTO_TCP && r->pkt.dst_port == 8934
         && r->pkt.length == 900 && r->pkt.tcp_flags == NATSIM_TCP_ACK;
}

static bool
is_udp_keepalive (const Rec *r)
{
  return is_out (r) && r->pkt.proto == NATSIM_PROTO_UDP && r->pkt.dst_port == 5060
         && r->pkt.length < 100;
}

/* RTP on an even port with its RTCP on the next odd port toward the
 * remote's next port, all within [lo, hi], with @dscp; returns the number
 * of RTP packets seen. */
static guint
check_media (GArray *recs, uint16_t lo, uint16_t hi, uint8_t dscp, uint16_t rlo)
{
  guint rtp = 0, rtcp = 0;

  for (guint i = 0; i < recs->len; i++)
    {
      const Rec *r = &g_array_index (recs, Rec, i);
      if (!is_out (r) || r->pkt.proto != NATSIM_PROTO_UDP || r->pkt.src_port < lo
          || r->pkt.src_port > hi || r->pkt.dst_port == 5004 || r->pkt.dst_port == 9000)
        continue;
      assert_int_equal (r->pkt.dscp, dscp);
      assert_true (r->pkt.dst_port >= rlo);
      if (r->pkt.length == 200)
        {
          /* RTP: even to even. */
          assert_int_equal (r->pkt.src_port % 2, 0);
          assert_int_equal (r->pkt.dst_port % 2, 0);
          rtp++;
        }
      else
        {
          /* RTCP: odd to odd, right after the RTP of its pair. */
          const Rec *prev = &g_array_index (recs, Rec, i - 2);
          assert_int_equal (r->pkt.src_port % 2, 1);
          assert_int_equal (prev->pkt.src_port + 1, r->pkt.src_port);
          assert_int_equal (prev->pkt.dst_port + 1, r->pkt.dst_port);
          rtcp++;
        }
    }
  assert_true (rtcp > 0);
  return rtp;
}

static void
test_catalogue (void **state)
{
  const char *names[] = { "cisco-mpp", "room-device", "webex-desktop", "webex-mobile",
                          "local-gateway", "sip-udp" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const NatsimProfile *p = natsim_profile_lookup (names[i]);
      assert_non_null (p);
      assert_non_null (p->refresh_gaps);
      assert_non_null (p->port_demand);
      assert_non_null (strstr (natsim_profile_names (), names[i]));
    }
}

static void
test_mpp_packets (void **state)
{
  Harness h;
  GArray *recs = record (HEADER ("2h")
                         "[population ph]\nprofile = cisco-mpp\ncount = 20\n"
                         "calls_per_hour = 3\nvideo_fraction = 0.5\nice_direct = 0\n"
                         "config_interval = 20m..30m\nfirmware_interval = 30m..40m\n", &h);
  guint gaps = 0, ntp = 0, https = 0, fw = 0, stun = 0, sig = 0;

  for (uint32_t e = 0; e < 20; e++)
    gaps += check_gaps (recs, e, is_mpp_register, 60, 120);
  assert_true (gaps > 20 * 50);
  for (guint i = 0; i < recs->len; i++)
    {
      const Rec *r = &g_array_index (recs, Rec, i);
      if (!is_out (r))
        continue;
      if (r->pkt.dst_port == 8934)
        {
          assert_int_equal (r->pkt.proto, NATSIM_PROTO_TCP);
          assert_true (r->pkt.src_port >= 5060 && r->pkt.src_port <= 5080);
          assert_int_equal (r->pkt.dscp, 24); /* CS3 */
          sig++;
        }
      else if (r->pkt.dst_port == 123)
        {
          assert_int_equal (r->pkt.proto, NATSIM_PROTO_UDP);
          assert_int_equal (r->pkt.src_port, 51494);
          ntp++;
        }
      else if (r->pkt.dst_port == 443)
        https += r->pkt.proto == NATSIM_PROTO_TCP;
      else if (r->pkt.dst_port == 6970)
        fw += r->pkt.proto == NATSIM_PROTO_TCP;
      else if (r->pkt.dst_port == 5004)
        {
          assert_true (r->pkt.src_port >= 19560 && r->pkt.src_port <= 19660);
          stun++;
        }
    }
  assert_true (sig > 0 && ntp >= 20 * 6 && https > 0 && fw > 0 && stun > 0);
  harness_clear (&h);
}

static void
test_mpp_media_pairs (void **state)
{
  Harness h;
  GArray *recs = record (HEADER ("1h")
                         "[population ph]\nprofile = cisco-mpp\ncount = 10\n"
                         "calls_per_hour = 4\nvideo_fraction = 0\nice_direct = 0\n", &h);

  assert_true (check_media (recs, 19560, 19660, 46, 19560) > 1000);
  harness_clear (&h);
}

static void
test_desktop_packets (void **state)
{
  Harness h;
  GArray *recs = record (HEADER ("1h")
                         "[population app]\nprofile = webex-desktop\ncount = 10\n"
                         "calls_per_hour = 4\nvideo_fraction = 1\nice_direct = 0\n", &h);
  guint sig = 0, ws = 0;

  assert_true (check_media (recs, 8500, 8599, 46, 19560) > 500);
  assert_true (check_media (recs, 8600, 8699, 34, 19560) > 500);
  for (guint i = 0; i < recs->len; i++)
    {
      const Rec *r = &g_array_index (recs, Rec, i);
      if (!is_out (r) || r->pkt.proto != NATSIM_PROTO_TCP)
        continue;
      if (r->pkt.dst_port == 8934)
        {
          assert_true (r->pkt.src_port >= 32768); /* ephemeral */
          assert_int_equal (r->pkt.dscp, 0);      /* CS0 */
          sig++;
        }
      else if (r->pkt.dst_port == 443)
        ws++;
    }
  /* Keepalives every 96-120 s, websocket pings every 27-30 s. */
  assert_true (sig >= 10 * 30);
  assert_true (ws >= 10 * 110);
  harness_clear (&h);
}

static bool
is_push (const Rec *r)
{
  return is_out (r) && r->pkt.dst_port == 5223 && r->pkt.length == 80;
}

static void
test_mobile_push (void **state)
{
  Harness h;
  GArray *recs = record (HEADER ("4h")
                         "[population mob]\nprofile = webex-mobile\ncount = 5\n"
                         "calls_per_hour = 0\nnotify_per_hour = 0\n", &h);
  guint gaps = 0;

  for (uint32_t e = 0; e < 5; e++)
    gaps += check_gaps (recs, e, is_push, 27 * 60, 28 * 60);
  assert_true (gaps >= 5 * 7);
  /* Without calls a mobile only talks to its push service. */
  for (guint i = 0; i < recs->len; i++)
    {
      const Rec *r = &g_array_index (recs, Rec, i);
      assert_int_equal (r->pkt.proto, NATSIM_PROTO_TCP);
      assert_int_equal (is_out (r) ? r->pkt.dst_port : r->pkt.src_port, 5223);
    }
  harness_clear (&h);
}

static void
test_gateway_packets (void **state)
{
  Harness h;
  GArray *recs = record (HEADER ("30m")
                         "[population lgw]\nprofile = local-gateway\nerlangs = 20\n", &h);
  guint calls = 0;

  assert_true (check_media (recs, 8000, 48199, 46, 19560) > 10000);
  for (guint i = 0; i < recs->len; i++)
    {
      const Rec *r = &g_array_index (recs, Rec, i);
      if (is_out (r) && r->pkt.proto == NATSIM_PROTO_UDP && r->pkt.dst_port == 5004)
        calls++;
    }
  /* 20 erlangs of 180 s calls: 400 calls an hour, about 200 here. */
  assert_true (calls > 140 && calls < 260);
  harness_clear (&h);
}

static void
test_sip_udp_keepalive (void **state)
{
  Harness h;
  GArray *recs = record (HEADER ("1h")
                         "[population sip]\nprofile = sip-udp\ncount = 5\nkeepalive = crlf\n", &h);
  guint gaps = 0;

  for (uint32_t e = 0; e < 5; e++)
    gaps += check_gaps (recs, e, is_udp_keepalive, 24, 29);
  assert_true (gaps >= 5 * 120);
  for (guint i = 0; i < recs->len; i++)
    {
      const Rec *r = &g_array_index (recs, Rec, i);
      if (is_udp_keepalive (r))
        assert_int_equal (r->pkt.src_port, 5060);
    }
  harness_clear (&h);
}

#define SIP_UDP_ONE \
  "[population sip]\nprofile = sip-udp\ncount = 1\nstart_spread = 0s\nkeepalive = crlf\n" \
  "register_interval = 2h\ncalls_per_hour = 0\nnotify_per_hour = 0\n"

/* Keepalives every 24-29 s behind a 20 s timeout (no replies: the stream
 * timeout is 20 s too): every keepalive finds its mapping dead. */
static void
test_sip_udp_rebinds (void **state)
{
  const char *const t20[] = { "nat.udp_timeout=20s", "nat.udp_stream_timeout=20s", NULL };
  const char *const t30[] = { "nat.udp_timeout=30s", "population.sip.notify_per_hour=60", NULL };
  g_autoptr (NatsimRunResult) r = figures (HEADER ("1h") SIP_UDP_ONE, t20);
  g_autoptr (NatsimRunResult) ok = NULL;
  double out = stat (r, 0, NATSIM_STAT_PACKETS_OUT);

  /* One REGISTER at boot, then keepalives: all rebind. */
  assert_true (out > 120);
  assert_int_equal ((int) stat (r, 0, NATSIM_STAT_REBINDINGS), (int) out - 1);
  /* Unreachable (G - 20 s) per gap: 4 to 9 s each. */
  assert_true (stat (r, 0, NATSIM_STAT_UNREACHABLE_SECONDS) >= 4.0 * (out - 1));
  assert_true (stat (r, 0, NATSIM_STAT_UNREACHABLE_SECONDS) <= 9.0 * out);

  ok = figures (HEADER ("1h") SIP_UDP_ONE, t30);
  assert_int_equal ((int) stat (ok, 0, NATSIM_STAT_REBINDINGS), 0);
  assert_int_equal ((int) stat (ok, 0, NATSIM_STAT_BINDING_LOSSES), 0);
  assert_true (stat (ok, 0, NATSIM_STAT_PACKETS_IN) > 30);
  assert_true (stat (ok, 0, NATSIM_STAT_UNREACHABLE_SECONDS) == 0.0);
}

/* Refreshes every G ~ uniform[24 s, 29 s], timeout T = 20 s, Poisson
 * inbound requests: the lost share is E[(G-T)+]/E[G] = 6.5 / 26.5, and so
 * is the unreachable share of time; none when T > 29 s. */
static void
test_closed_form_loss (void **state)
{
  const double expected = 6.5 / 26.5;
  Harness h;
  GArray *recs;
  guint sent = 0, lost = 0;
  double p, half;

  recs = record ("[simulation]\nduration = 2h\nwarmup = 0s\nseed = 1\nreplications = 1\n"
                 "[nat]\npreset = linux\naddresses = 203.0.113.1-203.0.113.2\n"
                 "udp_timeout = 20s\nudp_stream_timeout = 20s\n"
                 "[population sip]\nprofile = sip-udp\ncount = 200\nkeepalive = stun\n"
                 "register_interval = 3h\ncalls_per_hour = 0\nnotify_per_hour = 4\n", &h);
  for (guint i = 0; i < recs->len; i++)
    {
      const Rec *r = &g_array_index (recs, Rec, i);
      if (r->pkt.dir != NATSIM_DIR_IN || r->pkt.length != 700)
        continue;
      sent++;
      lost += r->verdict == NATSIM_VERDICT_BINDING_LOST;
    }
  assert_true (sent > 1200);
  p = (double) lost / sent;
  half = 1.96 * sqrt (expected * (1 - expected) / sent);
  if (fabs (p - expected) > half)
    fail_msg ("lost share %.4f outside %.4f +- %.4f (%u requests)", p, expected, half, sent);
  /* Time: 200 endpoints over 2 h minus the boot spread. */
  p = h.unreachable / (200.0 * 7200.0);
  if (fabs (p - expected) > 0.01)
    fail_msg ("unreachable share %.4f, expected %.4f", p, expected);
  harness_clear (&h);

  recs = record ("[simulation]\nduration = 2h\nwarmup = 0s\nseed = 1\nreplications = 1\n"
                 "[nat]\npreset = linux\naddresses = 203.0.113.1-203.0.113.2\n"
                 "udp_timeout = 30s\nudp_stream_timeout = 30s\n"
                 "[population sip]\nprofile = sip-udp\ncount = 200\nkeepalive = stun\n"
                 "register_interval = 3h\ncalls_per_hour = 0\nnotify_per_hour = 4\n", &h);
  for (guint i = 0; i < recs->len; i++)
    assert_int_not_equal (g_array_index (recs, Rec, i).verdict, NATSIM_VERDICT_BINDING_LOST);
  assert_true (h.unreachable == 0.0);
  harness_clear (&h);
}

#define MPP_ONE \
  "[population ph]\nprofile = cisco-mpp\ncount = 1\nstart_spread = 0s\n" \
  "register_interval = 120s\ncalls_per_hour = 0\nnotify_per_hour = 0\n"

/* REGISTER over TCP every 120 s behind a 60 s established timeout: each
 * refresh meets a reset and reconnects; unreachable 60 s per gap, the last
 * gap until the end included: 30 x 60 s in an hour. */
static void
test_mpp_tcp_timeout (void **state)
{
  const char *const t60[] = { "nat.tcp_established_timeout=60s", NULL };
  const char *const t7440[] = { "nat.tcp_established_timeout=7440s", NULL };
  g_autoptr (NatsimRunResult) r = figures (HEADER ("1h") MPP_ONE, t60);
  g_autoptr (NatsimRunResult) ok = figures (HEADER ("1h") MPP_ONE, t7440);
  const char *const t60n[] = { "nat.tcp_established_timeout=60s",
                               "population.ph.notify_per_hour=30", NULL };
  const char *const t7440n[] = { "nat.tcp_established_timeout=7440s",
                                 "population.ph.notify_per_hour=30", NULL };
  g_autoptr (NatsimRunResult) rn = figures (HEADER ("1h") MPP_ONE, t60n);
  g_autoptr (NatsimRunResult) okn = figures (HEADER ("1h") MPP_ONE, t7440n);

  assert_float_equal (stat (r, 0, NATSIM_STAT_UNREACHABLE_SECONDS), 1800.0, 1e-6);
  /* Inbound NOTIFYs find the mapping gone about half the time. */
  assert_true (stat (rn, 0, NATSIM_STAT_BINDING_LOSSES) > 3);
  assert_int_equal ((int) stat (okn, 0, NATSIM_STAT_BINDING_LOSSES), 0);
  assert_true (stat (okn, 0, NATSIM_STAT_PACKETS_IN) > 30 + 10);
  assert_int_equal ((int) stat (ok, 0, NATSIM_STAT_BINDING_LOSSES), 0);
  assert_true (stat (ok, 0, NATSIM_STAT_UNREACHABLE_SECONDS) == 0.0);
}

#define MOBILES \
  "[population mob]\nprofile = webex-mobile\ncount = 200\ncalls_per_hour = 2\n" \
  "inbound_fraction = 1\nnotify_per_hour = 0\n"

static void
test_mobile_missed_calls (void **state)
{
  const char *const t15[] = { "nat.tcp_established_timeout=15m", NULL };
  const char *const t30[] = { "nat.tcp_established_timeout=30m", NULL };
  g_autoptr (NatsimRunResult) r = figures (HEADER ("3h") MOBILES, t15);
  g_autoptr (NatsimRunResult) ok = figures (HEADER ("3h") MOBILES, t30);

  assert_true (stat (r, 0, NATSIM_STAT_MISSED_CALLS) > 10);
  assert_true (stat (r, 0, NATSIM_STAT_BINDING_LOSSES) > 10);
  assert_true (stat (r, 0, NATSIM_STAT_UNREACHABLE_SECONDS) > 0);
  assert_int_equal ((int) stat (ok, 0, NATSIM_STAT_MISSED_CALLS), 0);
  assert_int_equal ((int) stat (ok, 0, NATSIM_STAT_BINDING_LOSSES), 0);
  assert_true (stat (ok, 0, NATSIM_STAT_UNREACHABLE_SECONDS) == 0.0);
}

static const char *const mix =
  "[population ph]\nprofile = cisco-mpp\ncount = 50\n"
  "[population app]\nprofile = webex-desktop\ncount = 20\n"
  "[population lgw]\nprofile = local-gateway\nerlangs = 5\n";

static void
test_determinism (void **state)
{
  g_autofree char *one = g_strconcat (HEADER ("30m"), mix, NULL);
  g_autofree char *two = g_strconcat (HEADER ("30m"), mix,
                                      "[population mob]\nprofile = webex-mobile\ncount = 30\n",
                                      NULL);
  g_autoptr (NatsimRunResult) a = figures (one, NULL);
  g_autoptr (NatsimRunResult) b = figures (one, NULL);
  g_autoptr (NatsimRunResult) c = figures (two, NULL);

  assert_memory_equal (&a->totals, &b->totals, sizeof (NatsimStats));
  /* Another population leaves the packets of the others as they were. */
  for (guint k = 0; k < 3; k++)
    {
      assert_float_equal (stat (a, k, NATSIM_STAT_PACKETS_OUT), stat (c, k, NATSIM_STAT_PACKETS_OUT), 0);
      assert_float_equal (stat (a, k, NATSIM_STAT_PACKETS_IN), stat (c, k, NATSIM_STAT_PACKETS_IN), 0);
      assert_float_equal (stat (a, k, NATSIM_STAT_FLOWS), stat (c, k, NATSIM_STAT_FLOWS), 0);
    }
  assert_true (stat (a, 0, NATSIM_STAT_PACKETS_OUT) > 1000);
}

static bool
has_check (GPtrArray *checks, const char *id, const char *needle)
{
  for (guint i = 0; i < checks->len; i++)
    {
      NatsimCheck *c = g_ptr_array_index (checks, i);
      if (strcmp (c->id, id) == 0 && (needle == NULL || strstr (c->message, needle) != NULL))
        return true;
    }
  return false;
}

static bool
has_rec (GArray *recs, const char *id, double value)
{
  for (guint i = 0; i < recs->len; i++)
    {
      const NatsimRecommendation *r = &g_array_index (recs, NatsimRecommendation, i);
      if (strcmp (r->id, id) == 0 && (value < 0 || r->value == value))
        {
          assert_string_equal (r->basis, "arithmetic");
          return true;
        }
    }
  return false;
}

static void
test_checks (void **state)
{
  g_autofree char *ini = g_strconcat (HEADER ("1h"),
    "[population sip]\nprofile = sip-udp\nkeepalive = crlf\n"
    "[population mob]\nprofile = webex-mobile\n"
    "[population lgw]\nprofile = local-gateway\nerlangs = 40\n", NULL);
  const char *const bad[] = { "nat.udp_timeout=20s", "nat.tcp_established_timeout=15m",
                              "nat.ports_per_subscriber=32", NULL };
  const char *const good[] = { "nat.preset=rfc", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = natsim_scenario_load_data_with_overrides (ini, (gsize) -1, "t.ini",
                                                                           bad, &error);
  g_autoptr (NatsimScenario) g = natsim_scenario_load_data_with_overrides (ini, (gsize) -1, "t.ini",
                                                                           good, &error);
  g_autoptr (NatsimScenario) d = NULL;
  g_autoptr (GPtrArray) checks = NULL;
  g_autoptr (GArray) recs = NULL;

  assert_non_null (s);
  assert_non_null (g);
  checks = natsim_check_scenario (s);
  recs = natsim_check_recommendations (s);
  assert_true (has_check (checks, "refresh.udp", "24s..29s"));
  assert_true (has_check (checks, "refresh.tcp", "27m..28m"));
  assert_true (has_check (checks, "pool.ports_per_subscriber", "lgw"));
  assert_true (has_check (checks, "rfc4787.req4", "even/odd"));
  /* 80 % of the 20 s timeout. */
  assert_true (has_rec (recs, "keepalive.interval", 16));
  assert_true (has_rec (recs, "timeout.udp", 120));
  assert_true (has_rec (recs, "timeout.tcp_established", 7440));
  assert_true (has_rec (recs, "pool.ports_per_subscriber", -1));
  g_clear_pointer (&checks, g_ptr_array_unref);
  g_clear_pointer (&recs, g_array_unref);

  /* BCP 127 timeouts cover every refresh: silence. */
  checks = natsim_check_scenario (g);
  recs = natsim_check_recommendations (g);
  assert_false (has_check (checks, "refresh.udp", NULL));
  assert_false (has_check (checks, "refresh.tcp", NULL));
  assert_int_equal (recs->len, 0);
  g_clear_pointer (&checks, g_ptr_array_unref);
  g_clear_pointer (&recs, g_array_unref);

  /* The shipped default: only its intercoms (no keepalive by design). */
  {
    g_autofree char *path = g_build_filename (g_getenv ("NATSIM_SOURCE_ROOT") ? g_getenv ("NATSIM_SOURCE_ROOT") : ".",
                                              "scenarios", "default.ini", NULL);
    d = natsim_scenario_load (path, &error);
    if (d == NULL)
      fail_msg ("%s", error->message);
    checks = natsim_check_scenario (d);
    assert_false (has_check (checks, "refresh.tcp", NULL));
    assert_true (has_check (checks, "refresh.udp", "intercoms"));
    for (guint i = 0; i < checks->len; i++)
      {
        NatsimCheck *c = g_ptr_array_index (checks, i);
        if (strcmp (c->id, "refresh.udp") == 0)
          assert_non_null (strstr (c->message, "[population intercoms]"));
      }
  }
}

static guint
count_checks (GPtrArray *checks, const char *id)
{
  guint n = 0;

  for (guint i = 0; i < checks->len; i++)
    n += strcmp (((NatsimCheck *) g_ptr_array_index (checks, i))->id, id) == 0;
  return n;
}

static NatsimScenario *
load_default (const char *const *overrides)
{
  const char *root = g_getenv ("NATSIM_SOURCE_ROOT");
  g_autofree char *path = g_build_filename (root != NULL ? root : ".", "scenarios",
                                            "default.ini", NULL);
  g_autoptr (GError) error = NULL;
  NatsimScenario *s = natsim_scenario_load_with_overrides (path, overrides, &error);

  if (s == NULL)
    fail_msg ("%s", error->message);
  return s;
}

/* The shipped default is a Linux NAT, and its report is meant to have
 * something in it: exactly these warnings fire, each once, and the only
 * endpoint warning is the intercoms' (hourly REGISTER, no keepalive, by
 * design).  Every Webex population and the keepalive-driven adapters are
 * sound: no refresh.* or pool.* warning names them.  Given RFC 5626
 * keepalives, the intercoms are sound too, and the endpoint checks fall
 * silent with no recommendation left. */
static void
test_checks_default (void **state)
{
  static const char *const expected[] = {
    "rfc4787.req2",  /* arbitrary pooling over 2 addresses (Linux default) */
    "rfc4787.req4",  /* parity off while media uses even/odd pairs */
    "rfc4787.req5",  /* udp_timeout 30 s */
    "rfc4787.req8",  /* address-and-port-dependent filtering */
    "rfc5382.req5",  /* tcp_transitory_timeout 120 s */
    "rfc5508.req",   /* icmp_timeout 30 s */
    "refresh.udp",   /* the intercoms */
  };
  const char *const sound[] = { "population.intercoms.keepalive=stun", NULL };
  const char *const pops[] = { "phones", "rooms", "desktops", "mobiles", "gateway", "atas" };
  g_autoptr (NatsimScenario) d = load_default (NULL);
  g_autoptr (NatsimScenario) ok = load_default (sound);
  g_autoptr (GPtrArray) checks = natsim_check_scenario (d);
  g_autoptr (GArray) recs = natsim_check_recommendations (d);
  g_autoptr (GPtrArray) ok_checks = natsim_check_scenario (ok);
  g_autoptr (GArray) ok_recs = natsim_check_recommendations (ok);

  assert_int_equal (checks->len, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    if (count_checks (checks, expected[i]) != 1)
      fail_msg ("%s fired %u times on default.ini", expected[i],
                count_checks (checks, expected[i]));
  for (guint i = 0; i < checks->len; i++)
    {
      NatsimCheck *c = g_ptr_array_index (checks, i);
      if (g_str_has_prefix (c->id, "refresh.") || g_str_has_prefix (c->id, "pool."))
        {
          assert_string_equal (c->id, "refresh.udp");
          assert_true (g_str_has_prefix (c->message, "[population intercoms] "));
          for (guint k = 0; k < G_N_ELEMENTS (pops); k++)
            {
              g_autofree char *tag = g_strdup_printf ("[population %s]", pops[k]);
              assert_null (strstr (c->message, tag));
            }
        }
    }
  /* The recommendations are the intercoms' arithmetic: a keepalive at
   * 80 % of the 30 s UDP timeout, or a timeout over their hour
   * (natsim_timeout_for_gap: 3600 s + 10 % = 3960 s). */
  assert_int_equal (recs->len, 2);
  assert_true (has_rec (recs, "keepalive.interval", 24));
  assert_true (has_rec (recs, "timeout.udp", 3960));
  for (guint i = 0; i < recs->len; i++)
    assert_non_null (strstr (g_array_index (recs, NatsimRecommendation, i).reason,
                             "intercoms"));

  /* Intercoms with STUN keepalives every 24-29 s: the same RFC warnings,
   * nothing from the endpoints. */
  assert_int_equal (ok_checks->len, G_N_ELEMENTS (expected) - 1);
  assert_int_equal (count_checks (ok_checks, "refresh.udp"), 0);
  assert_int_equal (count_checks (ok_checks, "refresh.tcp"), 0);
  assert_int_equal (count_checks (ok_checks, "pool.ports"), 0);
  assert_int_equal (count_checks (ok_checks, "pool.ports_per_subscriber"), 0);
  assert_int_equal (ok_recs->len, 0);
}

/* Each endpoint warning on a configuration built to deserve it, and its
 * sound twin silent. */
static void
test_checks_each_warning (void **state)
{
  /* refresh.tcp: MPP REGISTER every 60-120 s behind a 60 s TCP timeout. */
  {
    g_autofree char *ini = g_strconcat (HEADER ("1h"),
                                        "[population ph]\nprofile = cisco-mpp\ncount = 10\n",
                                        NULL);
    const char *const bad[] = { "nat.tcp_established_timeout=60s", NULL };
    const char *const good[] = { "nat.tcp_established_timeout=7440s", NULL };
    g_autoptr (NatsimScenario) b = natsim_scenario_load_data_with_overrides (ini, (gsize) -1,
                                                                             "t.ini", bad, NULL);
    g_autoptr (NatsimScenario) g = natsim_scenario_load_data_with_overrides (ini, (gsize) -1,
                                                                             "t.ini", good, NULL);
    g_autoptr (GPtrArray) cb = NULL, cg = NULL;
    g_autoptr (GArray) rb = NULL;

    assert_non_null (b);
    assert_non_null (g);
    cb = natsim_check_scenario (b);
    cg = natsim_check_scenario (g);
    rb = natsim_check_recommendations (b);
    assert_true (has_check (cb, "refresh.tcp", "[population ph]"));
    assert_true (has_check (cb, "refresh.tcp", "SIP-TLS REGISTER refresh"));
    assert_true (has_rec (rb, "timeout.tcp_established", 7440));
    assert_int_equal (count_checks (cg, "refresh.tcp"), 0);
  }

  /* refresh.udp on an answered keepalive: STUN every 24-29 s is under the
   * 30 s udp_timeout but not under a 25 s stream timeout. */
  {
    g_autofree char *ini = g_strconcat (HEADER ("1h"),
                                        "[population sip]\nprofile = sip-udp\nkeepalive = stun\n",
                                        NULL);
    const char *const bad[] = { "nat.udp_timeout=30s", "nat.udp_stream_timeout=25s", NULL };
    const char *const good[] = { "nat.udp_timeout=30s", "nat.udp_stream_timeout=120s", NULL };
    g_autoptr (NatsimScenario) b = natsim_scenario_load_data_with_overrides (ini, (gsize) -1,
                                                                             "t.ini", bad, NULL);
    g_autoptr (NatsimScenario) g = natsim_scenario_load_data_with_overrides (ini, (gsize) -1,
                                                                             "t.ini", good, NULL);
    g_autoptr (GPtrArray) cb = NULL, cg = NULL;

    assert_non_null (b);
    assert_non_null (g);
    cb = natsim_check_scenario (b);
    cg = natsim_check_scenario (g);
    assert_true (has_check (cb, "refresh.udp", "udp_stream_timeout = 25s"));
    assert_int_equal (count_checks (cg, "refresh.udp"), 0);
  }

  /* pool.ports: 3000 phones on one address of 1024 ports, with exclusive
   * ports (every binding its own port) and with port overlapping (one
   * signalling connection each toward the same edges). */
  {
    g_autofree char *ini = g_strconcat (HEADER ("1h"),
                                        "[population ph]\nprofile = cisco-mpp\ncount = 3000\n",
                                        NULL);
    const char *const excl[] = { "nat.preset=cisco-asa", "nat.addresses=203.0.113.1",
                                 "nat.port_range=1024-2047", NULL };
    const char *const over[] = { "nat.addresses=203.0.113.1", "nat.port_range=1024-2047",
                                 NULL };
    const char *const good[] = { "nat.addresses=203.0.113.1", NULL };
    g_autoptr (NatsimScenario) e = natsim_scenario_load_data_with_overrides (ini, (gsize) -1,
                                                                             "t.ini", excl, NULL);
    g_autoptr (NatsimScenario) o = natsim_scenario_load_data_with_overrides (ini, (gsize) -1,
                                                                             "t.ini", over, NULL);
    g_autoptr (NatsimScenario) g = natsim_scenario_load_data_with_overrides (ini, (gsize) -1,
                                                                             "t.ini", good, NULL);
    g_autoptr (GPtrArray) ce = NULL, co = NULL, cg = NULL;
    g_autoptr (GArray) re = NULL, rg = NULL;

    assert_non_null (e);
    assert_non_null (o);
    assert_non_null (g);
    ce = natsim_check_scenario (e);
    co = natsim_check_scenario (o);
    cg = natsim_check_scenario (g);
    re = natsim_check_recommendations (e);
    rg = natsim_check_recommendations (g);
    assert_true (has_check (ce, "pool.ports", "exclusive"));
    assert_true (has_check (co, "pool.ports", "one signalling connection"));
    /* At least 3 x 1024 ports: three addresses or more. */
    assert_true (has_rec (re, "pool.addresses", -1));
    for (guint i = 0; i < re->len; i++)
      {
        const NatsimRecommendation *r = &g_array_index (re, NatsimRecommendation, i);
        if (strcmp (r->id, "pool.addresses") == 0)
          assert_true (r->value >= 3);
      }
    assert_int_equal (count_checks (cg, "pool.ports"), 0);
    assert_int_equal (rg->len, 0);
  }

  /* pool.ports_per_subscriber: a gateway with 40 erlangs in a 32-port
   * block; 1024 ports hold it. */
  {
    g_autofree char *ini = g_strconcat (HEADER ("1h"),
                                        "[population lgw]\nprofile = local-gateway\n"
                                        "erlangs = 40\n", NULL);
    const char *const bad[] = { "nat.ports_per_subscriber=32", NULL };
    const char *const good[] = { "nat.ports_per_subscriber=1024", NULL };
    g_autoptr (NatsimScenario) b = natsim_scenario_load_data_with_overrides (ini, (gsize) -1,
                                                                             "t.ini", bad, NULL);
    g_autoptr (NatsimScenario) g = natsim_scenario_load_data_with_overrides (ini, (gsize) -1,
                                                                             "t.ini", good, NULL);
    g_autoptr (GPtrArray) cb = NULL, cg = NULL;

    assert_non_null (b);
    assert_non_null (g);
    cb = natsim_check_scenario (b);
    cg = natsim_check_scenario (g);
    assert_true (has_check (cb, "pool.ports_per_subscriber", "[population lgw]"));
    assert_int_equal (count_checks (cg, "pool.ports_per_subscriber"), 0);
  }

  /* rfc4787.req4: with media it names the populations that need pairs;
   * with generic flows only it is the plain RFC reminder; parity on
   * silences it. */
  {
    g_autofree char *media = g_strconcat (HEADER ("1h"),
                                          "[population ph]\nprofile = cisco-mpp\ncount = 5\n"
                                          "[population web]\nprofile = generic\n", NULL);
    g_autofree char *plain = g_strconcat (HEADER ("1h"),
                                          "[population web]\nprofile = generic\n", NULL);
    const char *const off[] = { "nat.parity=false", NULL };
    const char *const on[] = { "nat.parity=true", NULL };
    g_autoptr (NatsimScenario) m = natsim_scenario_load_data_with_overrides (media, (gsize) -1,
                                                                             "t.ini", off, NULL);
    g_autoptr (NatsimScenario) p = natsim_scenario_load_data_with_overrides (plain, (gsize) -1,
                                                                             "t.ini", off, NULL);
    g_autoptr (NatsimScenario) g = natsim_scenario_load_data_with_overrides (media, (gsize) -1,
                                                                             "t.ini", on, NULL);
    g_autoptr (GPtrArray) cm = NULL, cp = NULL, cg = NULL;

    assert_non_null (m);
    assert_non_null (p);
    assert_non_null (g);
    cm = natsim_check_scenario (m);
    cp = natsim_check_scenario (p);
    cg = natsim_check_scenario (g);
    assert_true (has_check (cm, "rfc4787.req4", "populations ph send RTP/RTCP"));
    assert_int_equal (count_checks (cp, "rfc4787.req4"), 1);
    assert_false (has_check (cp, "rfc4787.req4", "even/odd port pairs"));
    assert_int_equal (count_checks (cg, "rfc4787.req4"), 0);
  }
}

/* A remote answers only packets that reached it: with 10 ports and 30
 * single-packet flows to one server (the classroom exhaustion case), the
 * 20 refused flows get no reply, so the run shows 20 allocation failures
 * and no binding loss; every inbound packet follows a forwarded outbound
 * packet of its flow.  Without the rule each refused flow's reply would be
 * counted as a binding loss. */
static void
test_generic_no_reply_to_dropped (void **state)
{
  const char *ini =
    "[simulation]\nduration = 30s\nwarmup = 0s\nseed = 1\nreplications = 1\n"
    "[nat]\npreset = linux\naddresses = 203.0.113.1\nport_range = 1024-1033\n"
    "[population p]\nprofile = generic\nflows = 30\nflow_spacing = 10ms\nstart = 0s\n"
    "destinations = 198.51.100.10:5000\nreply = every\npackets_per_flow = 2\n"
    "packet_interval = 1s\n";
  Harness h;
  GArray *recs = record (ini, &h);
  g_autoptr (GHashTable) forwarded = g_hash_table_new (g_direct_hash, g_direct_equal);
  guint refused = 0, inbound = 0;
  g_autoptr (NatsimRunResult) r = figures (ini, NULL);

  for (guint i = 0; i < recs->len; i++)
    {
      const Rec *x = &g_array_index (recs, Rec, i);

      if (x->pkt.dir == NATSIM_DIR_OUT)
        {
          if (x->verdict == NATSIM_VERDICT_FORWARDED)
            g_hash_table_add (forwarded, GUINT_TO_POINTER ((guint) x->pkt.src_port));
          else
            refused++;
        }
      else
        {
          inbound++;
          assert_true (g_hash_table_contains (forwarded,
                                              GUINT_TO_POINTER ((guint) x->pkt.dst_port)));
          assert_int_equal (x->verdict, NATSIM_VERDICT_FORWARDED);
        }
    }
  /* 10 flows of 2 packets got through and were answered, 20 x 2 refused. */
  assert_int_equal (refused, 40);
  assert_int_equal (inbound, 20);
  assert_int_equal ((int) stat (r, 0, NATSIM_STAT_ALLOCATION_FAILURES), 40);
  assert_int_equal ((int) stat (r, 0, NATSIM_STAT_BINDING_LOSSES), 0);
  harness_clear (&h);
}

/* The populations' event queue: kind, class and datum come back as
 * scheduled (the widest of each), in time order with ties in the order
 * they were scheduled whatever the class, and nothing at or after the end
 * comes out. */
static void
test_population_events (void **state)
{
  g_autoptr (NatsimEventQueue) q = natsim_population_queue_new ();
  NatsimPopulationContext a = { 0 }, b = { 0 };
  struct
  {
    NatsimTime t;
    uint32_t   kind, data;
    uint16_t   cls;
  } want[] = {
    { NATSIM_SEC (1), 3, 7, 0 },
    { NATSIM_SEC (2), G_MAXUINT16, G_MAXUINT32, G_MAXUINT16 },
    { NATSIM_SEC (2), 0, 0, 1 },
    { NATSIM_SEC (2), 5, 123456789, G_MAXUINT16 },
    { NATSIM_SEC (5), 9, 1, 1 },
  };
  NatsimEvent ev;

  a.queue = b.queue = q;
  a.cls = G_MAXUINT16;
  b.cls = 1;
  /* Scheduled out of time order; ties at 2 s in the order of want[]. */
  natsim_population_schedule (&b, NATSIM_SEC (5), 9, 1);
  natsim_population_schedule (&b, NATSIM_SEC (9), 1, 1); /* at the end: never taken */
  natsim_population_schedule (&a, NATSIM_SEC (2), G_MAXUINT16, G_MAXUINT32);
  natsim_population_schedule (&b, NATSIM_SEC (2), 0, 0);
  a.cls = 0;
  natsim_population_schedule (&a, NATSIM_SEC (1), 3, 7);
  a.cls = G_MAXUINT16;
  natsim_population_schedule (&a, NATSIM_SEC (2), 5, 123456789);
  for (gsize i = 0; i < G_N_ELEMENTS (want); i++)
    {
      assert_true (natsim_population_next_event (q, NATSIM_SEC (9), &ev));
      assert_int_equal (ev.time, want[i].t);
      assert_int_equal (ev.kind, want[i].kind);
      assert_int_equal (ev.aux, want[i].cls);
      assert_int_equal (ev.data, want[i].data);
    }
  assert_false (natsim_population_next_event (q, NATSIM_SEC (9), &ev));
}

/* The state an endpoint population keeps grows by a few dozen bytes per
 * endpoint (a 40-byte record), nothing per endpoint beyond that: the media
 * pair bitmaps are lent only to endpoints in a call (sip-udp's default
 * range holds 8,192 pairs, 2 KB of bits); docs/performance.md "Simulation
 * speed" states the figure.  Measured on populations of 1,000 and 3,000
 * endpoints, before anything ran. */
static void
test_endpoint_bytes (void **state)
{
  const char *profiles[] = { "cisco-mpp", "room-device", "webex-desktop", "webex-mobile",
                             "sip-udp" };

  for (guint k = 0; k < G_N_ELEMENTS (profiles); k++)
    {
      gsize bytes[2];

      for (guint n = 0; n < 2; n++)
        {
          g_autofree char *ini = g_strdup_printf (HEADER ("1m") "[population p]\nprofile = %s\n"
                                                  "count = %u\n", profiles[k], n ? 3000 : 1000);
          g_autoptr (NatsimScenario) s = load (ini);
          const NatsimPopulationSpec *spec = g_ptr_array_index (s->populations, 0);
          g_autoptr (NatsimEventQueue) q = natsim_population_queue_new ();
          NatsimPopulationContext ctx = { 0 };
          g_autoptr (NatsimPopulation) pop = NULL;

          ctx.queue = q;
          ctx.inside_base = UINT32_C (0x0a000001);
          ctx.end = NATSIM_SEC (60);
          pop = spec->profile->create (spec->params, &ctx);
          bytes[n] = natsim_population_memory_bytes (pop);
        }
      /* 2,000 endpoints more: 40 bytes each. */
      assert_true (bytes[1] - bytes[0] >= 2000 * 32);
      assert_true (bytes[1] - bytes[0] <= 2000 * 64);
    }
}

static int
rec_cmp (const void *pa, const void *pb)
{
  const Rec *a = pa, *b = pb;
#define CMP(f) if (a->f != b->f) return a->f < b->f ? -1 : 1
  CMP (pkt.time);
  CMP (pkt.src_addr);
  CMP (pkt.src_port);
  CMP (pkt.dst_addr);
  CMP (pkt.dst_port);
  CMP (pkt.dir);
  CMP (pkt.proto);
  CMP (pkt.cls);
  CMP (verdict);
#undef CMP
  return 0;
}

/* Steady media handed over as trains (natsim_nat_fast_forward()) are the
 * packets the models would send one by one: the same packets at the same
 * times (RTCP phase, calls cut by their end and by the run's end), and the
 * same reachability and NAT state. */
static void
test_media_fast_forward_same_packets (void **state)
{
  /* Random call lengths; and whole seconds, so that a call's end (and
   * the run's) falls exactly on a media tick, which is not sent. */
  static const char *const inis[] = {
    "[simulation]\nduration = 20m\nwarmup = 0s\nseed = 3\nreplications = 1\n"
    "[nat]\npreset = linux\naddresses = 203.0.113.1-203.0.113.2\n"
    "[population ph]\nprofile = cisco-mpp\ncount = 40\ncalls_per_hour = 6\n"
    "[population dt]\nprofile = webex-desktop\ncount = 40\ncalls_per_hour = 6\n"
    "video_fraction = 0.5\n",
    "[simulation]\nduration = 10m\nwarmup = 0s\nseed = 4\nreplications = 1\n"
    "[nat]\npreset = linux\naddresses = 203.0.113.1-203.0.113.2\n"
    "[population ph]\nprofile = cisco-mpp\ncount = 40\ncalls_per_hour = 12\n"
    "call_duration = fixed(47s)\n"
    "[population dt]\nprofile = webex-desktop\ncount = 40\ncalls_per_hour = 12\n"
    "video_fraction = 0.5\ncall_duration = fixed(600s)\n",
  };

  for (guint k = 0; k < G_N_ELEMENTS (inis); k++)
    {
      Harness a, b;
      GArray *ra = record_full (inis[k], &a, false), *rb = record_full (inis[k], &b, true);

      assert_int_equal (a.trains, 0);
      assert_true (b.trains > 40);
      assert_int_equal (ra->len, rb->len);
      g_array_sort (ra, rec_cmp);
      g_array_sort (rb, rec_cmp);
      for (guint i = 0; i < ra->len; i++)
        assert_int_equal (rec_cmp (&g_array_index (ra, Rec, i), &g_array_index (rb, Rec, i)), 0);
      assert_int_equal (a.missed, b.missed);
      assert_true (a.unreachable == b.unreachable);
      /* at one clock: the run's end */
      natsim_nat_advance (a.nat, NATSIM_SEC (k == 0 ? 1200 : 600));
      natsim_nat_advance (b.nat, NATSIM_SEC (k == 0 ? 1200 : 600));
      assert_int_equal (natsim_nat_live_bindings (a.nat), natsim_nat_live_bindings (b.nat));
      harness_clear (&a);
      harness_clear (&b);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_catalogue),
    cmocka_unit_test (test_population_events),
    cmocka_unit_test (test_endpoint_bytes),
    cmocka_unit_test (test_mpp_packets),
    cmocka_unit_test (test_mpp_media_pairs),
    cmocka_unit_test (test_desktop_packets),
    cmocka_unit_test (test_mobile_push),
    cmocka_unit_test (test_gateway_packets),
    cmocka_unit_test (test_sip_udp_keepalive),
    cmocka_unit_test (test_sip_udp_rebinds),
    cmocka_unit_test (test_closed_form_loss),
    cmocka_unit_test (test_mpp_tcp_timeout),
    cmocka_unit_test (test_mobile_missed_calls),
    cmocka_unit_test (test_determinism),
    cmocka_unit_test (test_checks),
    cmocka_unit_test (test_checks_default),
    cmocka_unit_test (test_checks_each_warning),
    cmocka_unit_test (test_generic_no_reply_to_dropped),
    cmocka_unit_test (test_media_fast_forward_same_packets),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
