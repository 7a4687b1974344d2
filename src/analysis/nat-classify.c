/* natsim: RFC 5780 behaviour discovery against the simulated NAT.
 *
 * Each test builds a fresh NAT from the config, plays the packets a STUN
 * client and server would exchange (the server's answers are addressed to
 * the mapped address it saw, in outside addressing, through
 * natsim_nat_process_public()), and reads the answer off what arrived.
 * The prober never looks inside the NAT: it knows only what a real client
 * and server would know, so the same reasoning works against a real NAT
 * (tests/oracle does it with the Linux kernel).
 */
#include <math.h>
#include <string.h>

#include "natsim/nat-classify.h"
#include "natsim/rng.h"

typedef struct
{
  const NatsimNatConfig *cfg;
  guint64                seed;
  guint                  n_nats;  /* fresh NATs so far: each its own RNG stream */
  NatsimNat             *nat;
  gsl_rng               *rng;
  NatsimTime             t0;      /* start of the test or trial */
  guint                  trial;
  NatsimProbeTest       *test;
} Bench;

typedef struct
{
  bool     delivered;
  uint32_t seen_addr; /* the source as the receiver saw it */
  uint16_t seen_port;
  NatsimVerdict verdict;
} Outcome;

static const char *const mapping_words[] = {
  "endpoint-independent", "address-dependent", "address-port-dependent"
};

/* ---------- transcripts ---------- */

static void
step_free (NatsimProbeStep *s)
{
  g_free (s->message);
  g_free (s->reason);
  g_free (s);
}

static void
test_free (NatsimProbeTest *t)
{
  g_free (t->id);
  g_free (t->title);
  g_free (t->reference);
  g_free (t->result);
  g_free (t->reasoning);
  g_ptr_array_unref (t->steps);
  g_free (t);
}

void
natsim_classification_free (NatsimClassification *c)
{
  if (c == NULL)
    return;
  g_ptr_array_unref (c->tests);
  g_free (c);
}

static NatsimProbeTest *
test_begin (NatsimClassification *c, Bench *b, const char *id, const char *title,
            const char *reference)
{
  NatsimProbeTest *t = g_new0 (NatsimProbeTest, 1);

  t->id = g_strdup (id);
  t->title = g_strdup (title);
  t->reference = g_strdup (reference);
  t->steps = g_ptr_array_new_with_free_func ((GDestroyNotify) step_free);
  g_ptr_array_add (c->tests, t);
  b->test = t;
  return t;
}

static void G_GNUC_PRINTF (3, 4)
test_end (NatsimProbeTest *t, const char *result, const char *fmt, ...)
{
  va_list ap;

  t->result = g_strdup (result);
  va_start (ap, fmt);
  t->reasoning = g_strdup_vprintf (fmt, ap);
  va_end (ap);
}

static char *
ep (uint32_t addr, uint16_t port)
{
  return g_strdup_printf ("%u.%u.%u.%u:%u", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255,
                          addr & 255, port);
}

/* A fresh NAT: no test sees another's bindings. */
static void
bench_reset (Bench *b, guint trial)
{
  g_clear_pointer (&b->nat, natsim_nat_free);
  g_clear_pointer (&b->rng, gsl_rng_free);
  b->rng = natsim_rng_new (b->seed, b->n_nats++, "classify");
  b->nat = natsim_nat_new (b->cfg, b->rng);
  /* Start at 1 s, later than any NAT's time zero. */
  b->t0 = NATSIM_SEC (1);
  b->trial = trial;
}

static const char *
drop_reason (NatsimVerdict v, bool outbound)
{
  switch (v)
    {
    case NATSIM_VERDICT_ALLOC_FAILED:
      return "dropped: no external port was free for a new mapping";
    case NATSIM_VERDICT_BINDING_LOST:
      return "dropped: the mapping it was addressed to has expired";
    case NATSIM_VERDICT_FILTERED:
      return "dropped by the filtering rule: the mapping is alive but does not accept "
             "packets from this address and port";
    case NATSIM_VERDICT_UNSOLICITED:
      return "dropped: no mapping on the address and port it was sent to";
    case NATSIM_VERDICT_NOT_TRANSLATED:
      return outbound ? "not looped back: the NAT does not hairpin, the packet goes to the "
                        "NAT box itself and no host receives it"
                      : "not translated";
    case NATSIM_VERDICT_FORWARDED:
    default:
      return NULL;
    }
}

static NatsimProbeStep *
step_add (Bench *b, NatsimTime at, const NatsimPacket *pkt, const char *message)
{
  NatsimProbeStep *s = g_new0 (NatsimProbeStep, 1);

  s->trial = b->trial;
  s->t = natsim_time_to_sec (at - b->t0);
  s->proto = pkt->proto;
  s->tcp_flags = pkt->tcp_flags;
  s->outbound = pkt->dir == NATSIM_DIR_OUT;
  s->src_addr = pkt->src_addr;
  s->src_port = pkt->src_port;
  s->dst_addr = pkt->dst_addr;
  s->dst_port = pkt->dst_port;
  s->message = g_strdup (message);
  g_ptr_array_add (b->test->steps, s);
  return s;
}

/* The probe packet both directions send: @at seconds from the test's
 * start, 48 bytes. */
static NatsimPacket
probe_packet (const Bench *b, double at, NatsimDirection dir, uint8_t proto, uint8_t flags,
              uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
  NatsimPacket pkt = { 0 };

  pkt.time = b->t0 + natsim_time_from_sec (at);
  pkt.src_addr = src, pkt.src_port = sport;
  pkt.dst_addr = dst, pkt.dst_port = dport;
  pkt.proto = proto;
  pkt.tcp_flags = flags;
  pkt.dir = dir;
  pkt.length = 48;
  return pkt;
}

/* An inside host sends @message at @at (seconds from the test's start). */
static Outcome
send_out (Bench *b, double at, uint8_t proto, uint8_t flags, uint32_t src, uint16_t sport,
          uint32_t dst, uint16_t dport, const char *message)
{
  NatsimPacket pkt = probe_packet (b, at, NATSIM_DIR_OUT, proto, flags, src, sport, dst, dport);
  NatsimNatResult res;
  NatsimProbeStep *s;
  Outcome o = { 0 };

  natsim_nat_process (b->nat, &pkt, &res);
  s = step_add (b, pkt.time, &pkt, message);
  s->verdict = res.verdict;
  s->hairpinned = res.hairpinned;
  if (res.verdict == NATSIM_VERDICT_FORWARDED)
    {
      s->delivered = true;
      s->seen_addr = res.ext_addr, s->seen_port = res.ext_port;
      if (res.hairpinned)
        s->to_addr = res.in_addr, s->to_port = res.in_port;
      else
        s->to_addr = dst, s->to_port = dport;
    }
  else
    s->reason = g_strdup (drop_reason (res.verdict, true));
  o.delivered = s->delivered;
  o.seen_addr = s->seen_addr;
  o.seen_port = s->seen_port;
  o.verdict = res.verdict;
  return o;
}

/* A server sends @message from (src, sport) to the public endpoint
 * (dst, dport), as it would to a mapped address it was told. */
static Outcome
send_in (Bench *b, double at, uint8_t proto, uint8_t flags, uint32_t src, uint16_t sport,
         uint32_t dst, uint16_t dport, const char *message)
{
  NatsimPacket pkt = probe_packet (b, at, NATSIM_DIR_IN, proto, flags, src, sport, dst, dport);
  NatsimNatResult res;
  NatsimProbeStep *s;
  Outcome o = { 0 };

  natsim_nat_process_public (b->nat, &pkt, &res);
  s = step_add (b, pkt.time, &pkt, message);
  s->verdict = res.verdict;
  if (res.verdict == NATSIM_VERDICT_FORWARDED)
    {
      s->delivered = true;
      s->seen_addr = src, s->seen_port = sport;
      s->to_addr = res.in_addr, s->to_port = res.in_port;
    }
  else
    s->reason = g_strdup (drop_reason (res.verdict, false));
  o.delivered = s->delivered;
  o.seen_addr = src, o.seen_port = sport;
  o.verdict = res.verdict;
  return o;
}

/* A binding request from (src, sport) to a server and the server's
 * response to the mapped address it saw; returns the request's outcome
 * (seen_* = the mapped address) with delivered = both arrived. */
static Outcome
request (Bench *b, double at, uint32_t src, uint16_t sport, uint32_t srv, uint16_t srv_port,
         const char *what)
{
  g_autofree char *msg = g_strdup_printf ("binding request%s%s", what ? ": " : "",
                                          what ? what : "");
  Outcome q = send_out (b, at, NATSIM_PROTO_UDP, 0, src, sport, srv, srv_port, msg);
  g_autofree char *mapped = NULL;
  g_autofree char *resp = NULL;
  Outcome r;

  if (!q.delivered)
    return q;
  mapped = ep (q.seen_addr, q.seen_port);
  resp = g_strdup_printf ("binding response: mapped address %s", mapped);
  r = send_in (b, at + 0.01, NATSIM_PROTO_UDP, 0, srv, srv_port, q.seen_addr, q.seen_port, resp);
  q.delivered = r.delivered;
  return q;
}

/* ---------- the tests ---------- */

/* An even client port inside the port range, with room for 32 more above
 * it: 40000 when the range allows (the RFC 5780 examples' style), else
 * the middle of the range. */
static uint16_t
client_port (const NatsimNatConfig *cfg)
{
  uint32_t lo = cfg->port_lo, hi = cfg->port_hi, p;

  if (lo <= 40000 && 40000 + 32 <= hi)
    return 40000;
  p = lo + (hi - lo) / 2;
  if (p + 32 > hi && hi >= 32)
    p = hi - 32 > lo ? hi - 32 : lo;
  p &= ~1u;
  if (p < lo)
    p = lo + (lo & 1);
  return (uint16_t) MIN (p, 65534u);
}

/* RFC 5780 section 4.3: the same client socket to (A1,P1), (A2,P1),
 * (A2,P2); compare the mapped addresses. */
static const char *
test_mapping (NatsimClassification *c, Bench *b, uint16_t cp)
{
  NatsimProbeTest *t = test_begin (c, b, "mapping", "Mapping behaviour", "RFC 5780 section 4.3");
  g_autofree char *m1 = NULL, *m2 = NULL, *m3 = NULL;
  Outcome r1, r2, r3;

  bench_reset (b, 0);
  r1 = request (b, 0.0, NATSIM_CLASSIFY_CLIENT, cp, NATSIM_CLASSIFY_SERVER1,
                NATSIM_CLASSIFY_PORT1, "test I, to the primary address and port");
  r2 = request (b, 0.1, NATSIM_CLASSIFY_CLIENT, cp, NATSIM_CLASSIFY_SERVER2,
                NATSIM_CLASSIFY_PORT1, "test II, to the alternate address, primary port");
  if (!r1.delivered || !r2.delivered)
    {
      test_end (t, "unknown", "A binding request or its response did not arrive, so no "
                "mapped address can be compared.");
      return "unknown";
    }
  m1 = ep (r1.seen_addr, r1.seen_port);
  m2 = ep (r2.seen_addr, r2.seen_port);
  if (r1.seen_addr == r2.seen_addr && r1.seen_port == r2.seen_port)
    {
      test_end (t, mapping_words[0], "Tests I and II saw the same mapped address %s toward "
                "two server addresses: the NAT reuses the mapping for any destination.", m1);
      return mapping_words[0];
    }
  r3 = request (b, 0.2, NATSIM_CLASSIFY_CLIENT, cp, NATSIM_CLASSIFY_SERVER2,
                NATSIM_CLASSIFY_PORT2, "test III, to the alternate address and port");
  if (!r3.delivered)
    {
      test_end (t, "unknown", "Tests I and II saw different mapped addresses (%s, %s) but "
                "test III got no answer.", m1, m2);
      return "unknown";
    }
  m3 = ep (r3.seen_addr, r3.seen_port);
  if (r2.seen_addr == r3.seen_addr && r2.seen_port == r3.seen_port)
    {
      test_end (t, mapping_words[1], "Tests I and II saw different mapped addresses (%s, %s); "
                "test III, another port of the second server address, saw %s again: the "
                "mapping depends on the destination address only.", m1, m2, m3);
      return mapping_words[1];
    }
  test_end (t, mapping_words[2], "Each destination got its own mapped address (%s, %s, %s): "
            "the mapping depends on the destination address and port.", m1, m2, m3);
  return mapping_words[2];
}

/* RFC 5780 section 4.4: ask the server to answer from the other address
 * and port, then from the other port only. */
static const char *
test_filtering (NatsimClassification *c, Bench *b, uint16_t cp)
{
  NatsimProbeTest *t = test_begin (c, b, "filtering", "Filtering behaviour",
                                   "RFC 5780 section 4.4");
  Outcome r, q, a;

  bench_reset (b, 0);
  r = request (b, 0.0, NATSIM_CLASSIFY_CLIENT, cp, NATSIM_CLASSIFY_SERVER1,
               NATSIM_CLASSIFY_PORT1, "test I");
  if (!r.delivered)
    {
      test_end (t, "unknown", "The first binding request got no response.");
      return "unknown";
    }
  q = send_out (b, 0.1, NATSIM_PROTO_UDP, 0, NATSIM_CLASSIFY_CLIENT, cp, NATSIM_CLASSIFY_SERVER1,
                NATSIM_CLASSIFY_PORT1, "binding request: test II, change IP and port");
  a = send_in (b, 0.11, NATSIM_PROTO_UDP, 0, NATSIM_CLASSIFY_SERVER2, NATSIM_CLASSIFY_PORT2,
               q.seen_addr, q.seen_port, "binding response from the alternate address and port");
  if (q.delivered && a.delivered)
    {
      test_end (t, "endpoint-independent", "The response from an address and port the client "
                "never sent to arrived: any remote may use the mapping.");
      return "endpoint-independent";
    }
  q = send_out (b, 0.2, NATSIM_PROTO_UDP, 0, NATSIM_CLASSIFY_CLIENT, cp, NATSIM_CLASSIFY_SERVER1,
                NATSIM_CLASSIFY_PORT1, "binding request: test III, change port");
  a = send_in (b, 0.21, NATSIM_PROTO_UDP, 0, NATSIM_CLASSIFY_SERVER1, NATSIM_CLASSIFY_PORT2,
               q.seen_addr, q.seen_port, "binding response from the primary address, alternate port");
  if (q.delivered && a.delivered)
    {
      test_end (t, "address-dependent", "The response from another address was dropped, the "
                "one from another port of the same address arrived: the mapping accepts any "
                "port of an address the client sent to.");
      return "address-dependent";
    }
  test_end (t, "address-port-dependent", "Both responses from an address or port the client "
            "never sent to were dropped: only the exact address and port the client sent to "
            "may answer.");
  return "address-port-dependent";
}

/* RFC 5780 section 4.5 (RFC 4787 REQ-9): two inside hosts learn their
 * mapped addresses; the first sends to the second's (opening its own
 * filter toward it), then the second to the first's. */
static bool
test_hairpinning (NatsimClassification *c, Bench *b, uint16_t cp)
{
  NatsimProbeTest *t = test_begin (c, b, "hairpinning", "Hairpinning",
                                   "RFC 5780 section 4.5, RFC 4787 REQ-9, RFC 5382 REQ-8");
  Outcome r1, r2, h2;
  g_autofree char *m1 = NULL, *m2 = NULL, *seen = NULL;
  uint16_t cp2 = (uint16_t) (cp + 2);

  bench_reset (b, 0);
  r1 = request (b, 0.0, NATSIM_CLASSIFY_CLIENT, cp, NATSIM_CLASSIFY_SERVER1,
                NATSIM_CLASSIFY_PORT1, "host 1 learns its mapped address");
  r2 = request (b, 0.1, NATSIM_CLASSIFY_CLIENT2, cp2, NATSIM_CLASSIFY_SERVER1,
                NATSIM_CLASSIFY_PORT1, "host 2 learns its mapped address");
  if (!r1.delivered || !r2.delivered)
    {
      test_end (t, "unknown", "A binding request got no response.");
      return false;
    }
  m1 = ep (r1.seen_addr, r1.seen_port);
  m2 = ep (r2.seen_addr, r2.seen_port);
  send_out (b, 0.2, NATSIM_PROTO_UDP, 0, NATSIM_CLASSIFY_CLIENT, cp, r2.seen_addr,
            r2.seen_port, "host 1 to host 2's mapped address (opens host 1's filter)");
  h2 = send_out (b, 0.3, NATSIM_PROTO_UDP, 0, NATSIM_CLASSIFY_CLIENT2, cp2, r1.seen_addr,
                 r1.seen_port, "host 2 to host 1's mapped address");
  {
    const NatsimProbeStep *s1 = g_ptr_array_index (t->steps, t->steps->len - 2);
    const NatsimProbeStep *s2 = g_ptr_array_index (t->steps, t->steps->len - 1);

    if (!s1->hairpinned && !s2->hairpinned)
      {
        test_end (t, "no", "Packets to the mapped addresses %s and %s were not looped back "
                  "to the inside: the NAT does not hairpin.", m1, m2);
        return false;
      }
    if (h2.delivered)
      {
        seen = ep (h2.seen_addr, h2.seen_port);
        test_end (t, "yes", "Host 2's packet to %s reached host 1, which saw it come from %s "
                  "(%s, as RFC 4787 REQ-9 asks).", m1, seen,
                  h2.seen_addr == r2.seen_addr ? "host 2's external address"
                                               : "not host 2's mapped address");
        return true;
      }
    test_end (t, "yes", "The NAT looped the packets back to the inside, but host 1's "
              "filtering refused them (the mapping toward host 2 differs from the one host 1 "
              "opened): hairpinning is supported, its filtering applies.");
    return true;
  }
}

/* RFC 4787 section 4.2.1: two client ports, each its own mapping. */
static bool
test_port_preservation (NatsimClassification *c, Bench *b, uint16_t cp)
{
  NatsimProbeTest *t = test_begin (c, b, "port-preservation", "Port preservation",
                                   "RFC 4787 section 4.2.1");
  Outcome r1, r2;
  g_autofree char *m1 = NULL, *m2 = NULL;

  bench_reset (b, 0);
  r1 = request (b, 0.0, NATSIM_CLASSIFY_CLIENT, cp, NATSIM_CLASSIFY_SERVER1,
                NATSIM_CLASSIFY_PORT1, NULL);
  r2 = request (b, 0.1, NATSIM_CLASSIFY_CLIENT, (uint16_t) (cp + 1), NATSIM_CLASSIFY_SERVER1,
                NATSIM_CLASSIFY_PORT1, NULL);
  if (!r1.delivered || !r2.delivered)
    {
      test_end (t, "unknown", "A binding request got no response.");
      return false;
    }
  m1 = ep (r1.seen_addr, r1.seen_port);
  m2 = ep (r2.seen_addr, r2.seen_port);
  if (r1.seen_port == cp && r2.seen_port == cp + 1)
    {
      test_end (t, "yes", "Client ports %u and %u were mapped to %s and %s: the NAT keeps "
                "the inside port when it is free.", cp, cp + 1, m1, m2);
      return true;
    }
  test_end (t, "no", "Client ports %u and %u were mapped to %s and %s: the NAT chooses "
            "its own ports.", cp, cp + 1, m1, m2);
  return false;
}

/* RFC 4787 REQ-4: another inside host takes each port first, so the
 * client's port cannot be kept; does the chosen port keep its parity? */
static bool
test_parity (NatsimClassification *c, Bench *b, uint16_t cp)
{
  NatsimProbeTest *t = test_begin (c, b, "parity", "Port parity", "RFC 4787 REQ-4");
  guint kept = 0, tried = 0;

  /* Two even ports, two odd, ...: a sequential allocator that happens to
   * alternate with the client's ports cannot pass for parity-keeping. */
  static const uint16_t order[8] = { 0, 2, 1, 3, 4, 6, 5, 7 };

  bench_reset (b, 0);
  for (guint i = 0; i < 8; i++)
    {
      uint16_t p = (uint16_t) (cp + 4 + order[i]);
      Outcome r;

      request (b, 0.2 * i, NATSIM_CLASSIFY_BLOCKER, p, NATSIM_CLASSIFY_SERVER1,
               NATSIM_CLASSIFY_PORT1, "another host takes the port first");
      r = request (b, 0.2 * i + 0.1, NATSIM_CLASSIFY_CLIENT, p, NATSIM_CLASSIFY_SERVER1,
                   NATSIM_CLASSIFY_PORT1, NULL);
      if (!r.delivered)
        continue;
      tried++;
      if (((r.seen_port ^ p) & 1) == 0)
        kept++;
    }
  if (tried == 0)
    {
      test_end (t, "unknown", "No binding request got a response.");
      return false;
    }
  if (kept == tried)
    {
      test_end (t, "yes", "All %u client ports that could not be kept were mapped to ports "
                "of the same parity (even to even, odd to odd), as RTP and RTCP need.", tried);
      return true;
    }
  test_end (t, "no", "%u of %u client ports that could not be kept were mapped to a port "
            "of the other parity.", tried - kept, tried);
  return false;
}

/* RFC 4787 REQ-2: sessions of one inside address toward many remotes;
 * do they all use one external address? */
static const char *
test_pooling (NatsimClassification *c, Bench *b, uint16_t cp)
{
  NatsimProbeTest *t = test_begin (c, b, "pooling", "IP address pooling", "RFC 4787 REQ-2");
  uint32_t first = 0;
  guint answered = 0;
  bool same = true;

  if (b->cfg->n_addresses < 2)
    {
      test_end (t, "not tested", "The NAT has one public address: there is nothing to pool.");
      return NULL;
    }
  bench_reset (b, 0);
  for (guint i = 0; i < 16; i++)
    {
      uint32_t srv = 0xC6336400u + 10 + i; /* 198.51.100.10 ... */
      Outcome r = request (b, 0.1 * i, NATSIM_CLASSIFY_CLIENT, (uint16_t) (cp + 2 * i), srv,
                           NATSIM_CLASSIFY_PORT1, NULL);
      if (!r.delivered)
        continue;
      if (answered++ == 0)
        first = r.seen_addr;
      else if (r.seen_addr != first)
        same = false;
    }
  if (answered < 2)
    {
      test_end (t, "unknown", "Fewer than two binding requests got a response.");
      return NULL;
    }
  if (same)
    {
      test_end (t, "paired", "%u sessions of one inside address, from different ports to "
                "different servers, all used one external address.", answered);
      return "paired";
    }
  test_end (t, "arbitrary", "Sessions of one inside address toward different servers used "
            "different external addresses.");
  return "arbitrary";
}

/* One lifetime trial: a fresh mapping, @gap seconds of silence, then the
 * server sends to it.  True if it arrived. */
static bool
lifetime_trial (Bench *b, guint trial, uint8_t proto, uint16_t cp, double gap)
{
  Outcome q;
  double last;
  g_autofree char *msg = g_strdup_printf ("after %.0f s of silence: still mapped?", gap);

  bench_reset (b, trial);
  if (proto == NATSIM_PROTO_UDP)
    {
      /* No response: only the outbound request sets the timer. */
      q = send_out (b, 0.0, proto, 0, NATSIM_CLASSIFY_CLIENT, cp, NATSIM_CLASSIFY_SERVER1,
                    NATSIM_CLASSIFY_PORT1, "request (the server does not answer yet)");
      last = 0.0;
    }
  else
    {
      q = send_out (b, 0.0, proto, NATSIM_TCP_SYN, NATSIM_CLASSIFY_CLIENT, cp,
                    NATSIM_CLASSIFY_SERVER1, NATSIM_CLASSIFY_PORT1, "SYN");
      if (q.delivered)
        send_in (b, 0.001, proto, NATSIM_TCP_SYN | NATSIM_TCP_ACK, NATSIM_CLASSIFY_SERVER1,
                 NATSIM_CLASSIFY_PORT1, q.seen_addr, q.seen_port, "SYN-ACK");
      q = send_out (b, 0.002, proto, NATSIM_TCP_ACK, NATSIM_CLASSIFY_CLIENT, cp,
                    NATSIM_CLASSIFY_SERVER1, NATSIM_CLASSIFY_PORT1, "ACK (established)");
      last = 0.002;
    }
  if (!q.delivered)
    return false;
  return send_in (b, last + gap, proto, proto == NATSIM_PROTO_TCP ? NATSIM_TCP_ACK : 0,
                  NATSIM_CLASSIFY_SERVER1, NATSIM_CLASSIFY_PORT1, q.seen_addr, q.seen_port, msg)
    .delivered;
}

/* RFC 5780 section 4.6: growing idle gaps (1, 2, 4, ... s) until the
 * mapping is gone, then bisection to one second.  Returns the shortest
 * gap (whole seconds) after which the mapping was gone; -1 when it
 * outlived the longest gap tried, NAN when no fresh mapping could be
 * reached at all. */
static double
test_lifetime (NatsimClassification *c, Bench *b, uint8_t proto, uint16_t cp)
{
  const char *name = proto == NATSIM_PROTO_TCP ? "tcp" : "udp";
  g_autofree char *id = g_strdup_printf ("lifetime-%s", name);
  g_autofree char *title = g_strdup_printf ("Binding lifetime (%s)", proto == NATSIM_PROTO_TCP
                                            ? "TCP, established" : "UDP");
  NatsimProbeTest *t = test_begin (c, b, id, title, "RFC 5780 section 4.6");
  double lo = 0.0, hi = 1.0; /* alive after lo, gone after hi */
  guint trial = 1;
  g_autofree char *res = NULL;

  if (!lifetime_trial (b, trial++, proto, cp, 0.0))
    {
      test_end (t, "unknown", "The server could not reach a fresh mapping at all.");
      return NAN;
    }
  /* Start from 1 s: a 0 s gap is the trial above. */
  while (lifetime_trial (b, trial++, proto, cp, hi))
    {
      lo = hi;
      if (hi >= NATSIM_CLASSIFY_MAX_GAP_S)
        {
          test_end (t, "longer than the longest gap tried",
                    "The mapping survived %.0f s of silence.", hi);
          return -1.0;
        }
      hi *= 2.0;
    }
  while (hi - lo > 1.0)
    {
      double mid = floor ((lo + hi) / 2.0);
      if (lifetime_trial (b, trial++, proto, cp, mid))
        lo = mid;
      else
        hi = mid;
    }
  res = g_strdup_printf ("%.0f s", hi);
  test_end (t, res, "The server reached the mapping after %.0f s of silence but not after "
            "%.0f s: the mapping lives %.0f s (to within one second) after the last packet "
            "that refreshed it.", lo, hi, hi);
  return hi;
}

/* Which direction refreshes a mapping of lifetime @life: packets every
 * 0.6 lifetimes in one direction only; the mapping must outlive its
 * lifetime to deliver the server's packet 1.8 (outbound trial) or 1.2
 * (inbound trial) lifetimes after the first packet. */
static NatsimRefreshFound
test_refresh (NatsimClassification *c, Bench *b, uint8_t proto, uint16_t cp, double life)
{
  const char *name = proto == NATSIM_PROTO_TCP ? "tcp" : "udp";
  g_autofree char *id = g_strdup_printf ("refresh-%s", name);
  g_autofree char *title = g_strdup_printf ("Which packets refresh a mapping (%s)",
                                            proto == NATSIM_PROTO_TCP ? "TCP" : "UDP");
  NatsimProbeTest *t = test_begin (c, b, id, title, "RFC 4787 REQ-6, RFC 5382 REQ-5");
  uint8_t fl = proto == NATSIM_PROTO_TCP ? NATSIM_TCP_ACK : 0;
  bool out_ok = true, in_ok = true;
  NatsimRefreshFound found;
  double step = 0.6 * life;

  if (!(life > 0))
    {
      test_end (t, "unknown", "No lifetime was found to test with.");
      return NATSIM_REFRESH_FOUND_UNKNOWN;
    }
  for (guint dir = 0; dir < 2; dir++)
    {
      Outcome q;
      double t0 = 0.0;

      bench_reset (b, dir + 1);
      if (proto == NATSIM_PROTO_TCP)
        {
          q = send_out (b, 0.0, proto, NATSIM_TCP_SYN, NATSIM_CLASSIFY_CLIENT, cp,
                        NATSIM_CLASSIFY_SERVER1, NATSIM_CLASSIFY_PORT1, "SYN");
          if (q.delivered)
            send_in (b, 0.001, proto, NATSIM_TCP_SYN | NATSIM_TCP_ACK, NATSIM_CLASSIFY_SERVER1,
                     NATSIM_CLASSIFY_PORT1, q.seen_addr, q.seen_port, "SYN-ACK");
          t0 = 0.002;
          q = send_out (b, t0, proto, NATSIM_TCP_ACK, NATSIM_CLASSIFY_CLIENT, cp,
                        NATSIM_CLASSIFY_SERVER1, NATSIM_CLASSIFY_PORT1, "ACK (established)");
        }
      else
        q = send_out (b, 0.0, proto, 0, NATSIM_CLASSIFY_CLIENT, cp, NATSIM_CLASSIFY_SERVER1,
                      NATSIM_CLASSIFY_PORT1, "request");
      if (!q.delivered)
        {
          test_end (t, "unknown", "The first packet was dropped.");
          return NATSIM_REFRESH_FOUND_UNKNOWN;
        }
      if (dir == 0)
        {
          for (guint k = 1; k <= 2; k++)
            send_out (b, t0 + k * step, proto, fl, NATSIM_CLASSIFY_CLIENT, cp,
                      NATSIM_CLASSIFY_SERVER1, NATSIM_CLASSIFY_PORT1, "client keepalive");
          /* 1.8 lifetimes after the first packet: alive only if the
           * client's keepalives refreshed it. */
          out_ok = send_in (b, t0 + 3 * step, proto, fl, NATSIM_CLASSIFY_SERVER1,
                            NATSIM_CLASSIFY_PORT1, q.seen_addr, q.seen_port,
                            "server: still mapped?").delivered;
        }
      else
        {
          /* The second arrives 1.2 lifetimes after the first packet: only
           * if the first refreshed the mapping (whatever timeout the
           * refresh gave, e.g. Linux's longer "stream" one). */
          send_in (b, t0 + step, proto, fl, NATSIM_CLASSIFY_SERVER1, NATSIM_CLASSIFY_PORT1,
                   q.seen_addr, q.seen_port, "server keepalive");
          in_ok = send_in (b, t0 + 2 * step, proto, fl, NATSIM_CLASSIFY_SERVER1,
                           NATSIM_CLASSIFY_PORT1, q.seen_addr, q.seen_port,
                           "server keepalive: still mapped?").delivered;
        }
    }
  found = out_ok ? (in_ok ? NATSIM_REFRESH_FOUND_BOTH : NATSIM_REFRESH_FOUND_OUTBOUND)
                 : (in_ok ? NATSIM_REFRESH_FOUND_INBOUND : NATSIM_REFRESH_FOUND_NEITHER);
  test_end (t, natsim_refresh_found_name (found),
            "Trial 1: only the client sent, every %.1f s, and the server's packet 1.8 "
            "lifetimes after the first one %s. Trial 2: only the server sent, every %.1f s, and "
            "its second packet, 1.2 lifetimes after the first packet, %s. (The lifetime is "
            "%.0f s: a mapping nothing refreshed would be gone by then.)",
            step, out_ok ? "arrived" : "was dropped", step, in_ok ? "arrived" : "was dropped",
            life);
  return found;
}

/* ---------- entry points ---------- */

const char *
natsim_refresh_found_name (NatsimRefreshFound r)
{
  switch (r)
    {
    case NATSIM_REFRESH_FOUND_BOTH: return "both";
    case NATSIM_REFRESH_FOUND_OUTBOUND: return "outbound";
    case NATSIM_REFRESH_FOUND_INBOUND: return "inbound";
    case NATSIM_REFRESH_FOUND_NEITHER: return "neither";
    case NATSIM_REFRESH_FOUND_UNKNOWN:
    default: return "unknown";
    }
}

const char *
natsim_rfc3489_name (const char *mapping, const char *filtering)
{
  if (g_strcmp0 (mapping, "endpoint-independent") == 0)
    {
      if (g_strcmp0 (filtering, "endpoint-independent") == 0)
        return "full cone";
      if (g_strcmp0 (filtering, "address-dependent") == 0)
        return "restricted cone";
      if (g_strcmp0 (filtering, "address-port-dependent") == 0)
        return "port-restricted cone";
      return "unknown";
    }
  if (g_strcmp0 (mapping, "address-dependent") == 0 ||
      g_strcmp0 (mapping, "address-port-dependent") == 0)
    return "symmetric";
  return "unknown";
}

NatsimClassification *
natsim_classify (const NatsimNatConfig *cfg, guint64 seed)
{
  NatsimClassification *c = g_new0 (NatsimClassification, 1);
  Bench b = { 0 };
  uint16_t cp = client_port (cfg);

  g_return_val_if_fail (cfg != NULL, NULL);
  c->tests = g_ptr_array_new_with_free_func ((GDestroyNotify) test_free);
  b.cfg = cfg;
  b.seed = seed;
  c->mapping = test_mapping (c, &b, cp);
  c->filtering = test_filtering (c, &b, cp);
  c->rfc3489_name = natsim_rfc3489_name (c->mapping, c->filtering);
  c->hairpinning = test_hairpinning (c, &b, cp);
  c->port_preservation = test_port_preservation (c, &b, cp);
  c->parity = test_parity (c, &b, cp);
  c->pooling = test_pooling (c, &b, cp);
  c->lifetime_udp = test_lifetime (c, &b, NATSIM_PROTO_UDP, cp);
  c->refresh_udp = test_refresh (c, &b, NATSIM_PROTO_UDP, cp, c->lifetime_udp);
  c->lifetime_tcp = test_lifetime (c, &b, NATSIM_PROTO_TCP, cp);
  c->refresh_tcp = test_refresh (c, &b, NATSIM_PROTO_TCP, cp, c->lifetime_tcp);
  g_clear_pointer (&b.nat, natsim_nat_free);
  g_clear_pointer (&b.rng, gsl_rng_free);
  return c;
}
