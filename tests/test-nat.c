/* Unit tests of the NAT engine (src/nat) against docs/nat-model.md.
 *
 * Each test builds a NatsimNatConfig by hand (every field set in
 * base_config()), feeds packets in inside addressing and asserts exact
 * verdicts, ports, times and lifecycle events.  The tests were written from
 * the header and the semantics page only, not from the implementation.
 *
 * Addresses are documentation ranges: inside 10.0.0.x, public 203.0.113.x,
 * remotes 198.51.100.x and 192.0.2.x.
 */
#include "nat-harness.h"

#define REM_C IP4 (198, 51, 100, 77)

/* ------------------------------------------------------------------ */
/* Harness                                                              */

/* Replaces the pool by 203.0.113.1 .. 203.0.113.n. */
static void
config_set_pool (NatsimNatConfig *cfg, guint n)
{
  g_free (cfg->addresses);
  cfg->addresses = g_new (uint32_t, n);
  for (guint i = 0; i < n; i++)
    cfg->addresses[i] = IP4 (203, 0, 113, 1 + i);
  cfg->n_addresses = n;
}

/* Takes over @cfg (its addresses are freed by harness_free() through
 * natsim_nat_config_clear(), after the engine is gone).  An rng is passed
 * only when the header says the engine needs one, so the "may be NULL"
 * contract is exercised too. */
static Harness *
harness_new (NatsimNatConfig *cfg, unsigned long seed)
{
  return harness_new_full (cfg,
                           cfg->allocation == NATSIM_ALLOC_RANDOM
                             || cfg->port_search == NATSIM_SEARCH_LINUX,
                           seed, 200);
}

/* An outbound UDP packet that must be translated; returns its port. */
static uint16_t
udp_out_ok (Harness *h, NatsimTime t, Ep in, Ep rem)
{
  NatsimNatResult res;

  assert_int_equal (udp_out (h, t, in, rem, &res), NATSIM_VERDICT_FORWARDED);
  assert_int_equal (res.verdict, NATSIM_VERDICT_FORWARDED);
  assert_in_range (res.ext_port, h->cfg.port_lo, h->cfg.port_hi);
  return res.ext_port;
}

static const NatsimNatEvent *
last_event (const Harness *h, NatsimNatEventType type)
{
  for (guint i = h->events->len; i > 0; i--)
    {
      const NatsimNatEvent *ev = &g_array_index (h->events, NatsimNatEvent,
                                                 i - 1);
      if (ev->type == type)
        return ev;
    }
  /* Not reached: fail_msg() jumps out of the test. */
  static const NatsimNatEvent none;
  fail_msg ("no event of type %d", (int) type);
  return &none;
}

static bool
alive (const Harness *h, uint8_t proto, Ep in, Ep rem)
{
  return natsim_nat_binding_alive (h->nat, proto, in.addr, in.port, rem.addr,
                                   rem.port);
}

/* The binding (proto, in, rem) is alive 1 ns before @expiry and dead at
 * @expiry (docs: dead at its expiry instant).  Advances the clock. */
static void
expect_expiry (Harness *h, uint8_t proto, Ep in, Ep rem, NatsimTime expiry)
{
  natsim_nat_advance (h->nat, expiry - 1);
  assert_true (alive (h, proto, in, rem));
  natsim_nat_advance (h->nat, expiry);
  assert_false (alive (h, proto, in, rem));
}

static uint16_t
next_port (const Harness *h, uint16_t p)
{
  return p == h->cfg.port_hi ? h->cfg.port_lo : (uint16_t) (p + 1);
}

static int
cmp_u16 (const void *a, const void *b)
{
  return (int) *(const uint16_t *) a - (int) *(const uint16_t *) b;
}

/* ------------------------------------------------------------------ */
/* Mapping behaviour                                                    */

/* The same inside endpoint sends to R1, to R1's address on another port
 * (R1b) and to another address (R2).  port_reuse exclusive and sequential
 * allocation make a fresh allocation visible as the next port. */
static void
run_mapping (NatsimMapping mapping, uint16_t ret_ports[3])
{
  NatsimNatConfig cfg = base_config ();
  Ep              I = ep (IN (1), 4000);
  Harness        *h;

  cfg.mapping = mapping;
  cfg.port_reuse = NATSIM_REUSE_EXCLUSIVE;
  cfg.allocation = NATSIM_ALLOC_SEQUENTIAL;
  h = harness_new (&cfg, 0);
  ret_ports[0] = udp_out_ok (h, T0, I, ep (REM_A, 3478));
  ret_ports[1] = udp_out_ok (h, T0 + NATSIM_SEC (1), I, ep (REM_A, 3479));
  ret_ports[2] = udp_out_ok (h, T0 + NATSIM_SEC (2), I, ep (REM_B, 3478));
  assert_int_equal (natsim_nat_live_bindings (h->nat), 3);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_BINDING_CREATED), 3);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0),
                    count_events (h, NATSIM_NAT_EV_PORT_ACQUIRED));

  /* Each further packet of the three flows keeps its port. */
  assert_int_equal (udp_out_ok (h, T0 + NATSIM_SEC (3), I, ep (REM_A, 3478)),
                    ret_ports[0]);
  assert_int_equal (udp_out_ok (h, T0 + NATSIM_SEC (3), I, ep (REM_A, 3479)),
                    ret_ports[1]);
  assert_int_equal (udp_out_ok (h, T0 + NATSIM_SEC (3), I, ep (REM_B, 3478)),
                    ret_ports[2]);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_BINDING_CREATED), 3);
  harness_free (h);
}

static void
test_mapping_eim (void **state)
{
  uint16_t p[3];

  run_mapping (NATSIM_MAPPING_EIM, p);
  assert_int_equal (p[1], p[0]);
  assert_int_equal (p[2], p[0]);
}

static void
test_mapping_adm (void **state)
{
  uint16_t p[3];

  run_mapping (NATSIM_MAPPING_ADM, p);
  assert_int_equal (p[1], p[0]);                           /* same address */
  assert_int_equal (p[2], p[0] == 5009 ? 5000 : p[0] + 1); /* fresh */
}

static void
test_mapping_apdm (void **state)
{
  uint16_t p[3];

  run_mapping (NATSIM_MAPPING_APDM, p);
  assert_int_equal (p[1], p[0] == 5009 ? 5000 : p[0] + 1);
  assert_int_equal (p[2], p[1] == 5009 ? 5000 : p[1] + 1);
}

/* APDM never reuses, but a fresh allocation may land on the same port: with
 * per-destination reuse and preserve, the inside port 5005 is free toward
 * every new remote (another reply 5-tuple), so all three bindings use it.
 * Another inside host toward R1 cannot have it. */
static void
test_mapping_apdm_lands_on_same_port (void **state)
{
  NatsimNatConfig cfg = base_config ();
  Ep              I = ep (IN (1), 5005);
  Harness        *h;
  uint16_t        other;

  cfg.mapping = NATSIM_MAPPING_APDM;
  cfg.port_reuse = NATSIM_REUSE_PER_DESTINATION;
  cfg.allocation = NATSIM_ALLOC_PRESERVE;
  h = harness_new (&cfg, 0);
  assert_int_equal (udp_out_ok (h, T0, I, ep (REM_A, 3478)), 5005);
  assert_int_equal (udp_out_ok (h, T0 + 1, I, ep (REM_A, 3479)), 5005);
  assert_int_equal (udp_out_ok (h, T0 + 2, I, ep (REM_B, 3478)), 5005);
  assert_int_equal (natsim_nat_live_bindings (h->nat), 3);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), 1);
  other = udp_out_ok (h, T0 + 3, ep (IN (2), 5005), ep (REM_A, 3478));
  assert_int_not_equal (other, 5005);
  harness_free (h);
}

/* Mapping reuse needs E free toward R: under per-destination, once another
 * inside endpoint holds (E, R2), the EIM endpoint gets a fresh port toward
 * R2, while toward a third remote it reuses E. */
static void
test_mapping_reuse_needs_free_port (void **state)
{
  NatsimNatConfig cfg = base_config ();
  Ep              I = ep (IN (1), 4000); /* out of range: no preserve */
  Harness        *h;
  uint16_t        e, p, q;

  cfg.mapping = NATSIM_MAPPING_EIM;
  cfg.port_reuse = NATSIM_REUSE_PER_DESTINATION;
  cfg.allocation = NATSIM_ALLOC_PRESERVE;
  h = harness_new (&cfg, 0);
  e = udp_out_ok (h, T0, I, ep (REM_A, 3478));
  /* J's inside port is E: preserve gives it E toward R2. */
  assert_int_equal (udp_out_ok (h, T0 + 1, ep (IN (2), e), ep (REM_B, 3478)),
                    e);
  p = udp_out_ok (h, T0 + 2, I, ep (REM_B, 3478));
  assert_int_not_equal (p, e);
  /* Toward a third remote both E and p are free; either is a reuse (the
   * docs do not say which), a fresh allocation would be a third port. */
  q = udp_out_ok (h, T0 + 3, I, ep (REM_C, 3478));
  assert_true (q == e || q == p);
  assert_int_equal (natsim_nat_live_bindings (h->nat), 4);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), 2);
  harness_free (h);
}

/* ------------------------------------------------------------------ */
/* Filtering                                                            */

static void
run_filtering (NatsimFiltering filtering, NatsimVerdict v_same_addr,
               NatsimVerdict v_other_addr)
{
  NatsimNatConfig cfg = base_config ();
  Ep              I = ep (IN (1), 4000);
  Ep              R1 = ep (REM_A, 3478), R1b = ep (REM_A, 9999);
  Ep              R2 = ep (REM_B, 3478);
  NatsimNatResult res;
  Harness        *h;
  uint16_t        e;
  guint           expect_live = 1, expect_filtered = 0;

  cfg.filtering = filtering;
  cfg.mapping = NATSIM_MAPPING_EIM;
  h = harness_new (&cfg, 0);
  e = udp_out_ok (h, T0, I, R1);

  /* The remote the binding was made for is always delivered. */
  assert_int_equal (udp_in (h, T0 + NATSIM_SEC (1), R1, I, &res),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (res.ext_addr, PUB1);
  assert_int_equal (res.ext_port, e);
  assert_false (res.new_binding);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_BINDING_CREATED), 1);

  const Ep    probes[2] = { R1b, R2 };
  const NatsimVerdict expect[2] = { v_same_addr, v_other_addr };
  for (guint i = 0; i < 2; i++)
    {
      NatsimTime t = T0 + NATSIM_SEC (2 + i);

      assert_int_equal (udp_in (h, t, probes[i], I, &res), expect[i]);
      if (expect[i] == NATSIM_VERDICT_FORWARDED)
        {
          const NatsimNatEvent *ev;

          assert_true (res.new_binding);
          assert_false (res.rebinding);
          assert_int_equal (res.ext_addr, PUB1);
          assert_int_equal (res.ext_port, e);
          ev = last_event (h, NATSIM_NAT_EV_BINDING_CREATED);
          assert_true (ev->inbound);
          assert_int_equal (ev->time, t);
          assert_int_equal (ev->in_addr, I.addr);
          assert_int_equal (ev->in_port, I.port);
          assert_int_equal (ev->rem_addr, probes[i].addr);
          assert_int_equal (ev->rem_port, probes[i].port);
          assert_int_equal (ev->ext_addr, PUB1);
          assert_int_equal (ev->ext_port, e);
          assert_true (alive (h, NATSIM_PROTO_UDP, I, probes[i]));
          expect_live++;
          /* The created binding is an ordinary one: a second packet is
           * delivered without creating anything, and outbound uses E. */
          assert_int_equal (udp_in (h, t + 1, probes[i], I, &res),
                            NATSIM_VERDICT_FORWARDED);
          assert_false (res.new_binding);
          assert_int_equal (udp_out (h, t + 2, I, probes[i], &res),
                            NATSIM_VERDICT_FORWARDED);
          assert_false (res.new_binding);
          assert_int_equal (res.ext_port, e);
        }
      else
        {
          const NatsimNatEvent *ev;

          expect_filtered++;
          assert_int_equal (count_events (h, NATSIM_NAT_EV_FILTERED),
                            expect_filtered);
          ev = last_event (h, NATSIM_NAT_EV_FILTERED);
          assert_int_equal (ev->time, t);
          assert_int_equal (ev->rem_addr, probes[i].addr);
          assert_int_equal (ev->rem_port, probes[i].port);
          assert_false (alive (h, NATSIM_PROTO_UDP, I, probes[i]));
        }
      assert_int_equal (natsim_nat_live_bindings (h->nat), expect_live);
      assert_int_equal (count_events (h, NATSIM_NAT_EV_BINDING_CREATED),
                        expect_live);
    }
  /* Filtering never touches the port gauges: still one port. */
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), 1);
  harness_free (h);
}

static void
test_filtering_eif (void **state)
{
  run_filtering (NATSIM_FILTER_EIF, NATSIM_VERDICT_FORWARDED,
                 NATSIM_VERDICT_FORWARDED);
}

static void
test_filtering_adf (void **state)
{
  run_filtering (NATSIM_FILTER_ADF, NATSIM_VERDICT_FORWARDED,
                 NATSIM_VERDICT_FILTERED);
}

static void
test_filtering_apdf (void **state)
{
  run_filtering (NATSIM_FILTER_APDF, NATSIM_VERDICT_FILTERED,
                 NATSIM_VERDICT_FILTERED);
}

/* ------------------------------------------------------------------ */
/* Port reuse                                                           */

/* Two ports; I1 -> R1, I2 -> R1, I3 -> R2, I3 -> R1.
 * exclusive: I1, I2 own both ports; I3 fails toward R2 and R1 (2 failures).
 * per-destination: I3 overlaps a port toward R2 (its reply 5-tuple is
 * unused); toward R1 both (E, R1) are taken, so 1 failure. */
static void
run_port_reuse (NatsimPortReuse reuse, const NatsimVerdict expect[4],
                guint expect_live)
{
  NatsimNatConfig cfg = base_config ();
  Ep              R1 = ep (REM_A, 3478), R2 = ep (REM_B, 3478);
  const Ep        ins[4] = { ep (IN (1), 4000), ep (IN (2), 4000),
                             ep (IN (3), 4000), ep (IN (3), 4000) };
  const Ep        rems[4] = { R1, R1, R2, R1 };
  guint           failures = 0;
  Harness        *h;

  cfg.port_lo = 5000;
  cfg.port_hi = 5001;
  cfg.port_reuse = reuse;
  cfg.mapping = NATSIM_MAPPING_EIM;
  h = harness_new (&cfg, 0);
  for (guint i = 0; i < 4; i++)
    {
      NatsimNatResult res;

      assert_int_equal (udp_out (h, T0 + NATSIM_SEC (i), ins[i], rems[i],
                                 &res),
                        expect[i]);
      if (res.verdict == NATSIM_VERDICT_ALLOC_FAILED)
        failures++;
      else
        assert_in_range (res.ext_port, 5000, 5001);
    }
  assert_int_equal (count_events (h, NATSIM_NAT_EV_ALLOC_FAILED), failures);
  assert_int_equal (natsim_nat_live_bindings (h->nat), expect_live);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), 2);
  harness_free (h);
}

static void
test_port_reuse_exclusive (void **state)
{
  const NatsimVerdict v[4] = { NATSIM_VERDICT_FORWARDED,
                               NATSIM_VERDICT_FORWARDED,
                               NATSIM_VERDICT_ALLOC_FAILED,
                               NATSIM_VERDICT_ALLOC_FAILED };
  run_port_reuse (NATSIM_REUSE_EXCLUSIVE, v, 2);
}

static void
test_port_reuse_per_destination (void **state)
{
  const NatsimVerdict v[4] = { NATSIM_VERDICT_FORWARDED,
                               NATSIM_VERDICT_FORWARDED,
                               NATSIM_VERDICT_FORWARDED,
                               NATSIM_VERDICT_ALLOC_FAILED };
  run_port_reuse (NATSIM_REUSE_PER_DESTINATION, v, 3);
}

/* ------------------------------------------------------------------ */
/* Allocation                                                           */

static void
test_alloc_preserve (void **state)
{
  NatsimNatConfig cfg = base_config ();
  Ep              R1 = ep (REM_A, 3478), R2 = ep (REM_B, 3478);
  Harness        *h;
  uint16_t        b, d;

  cfg.allocation = NATSIM_ALLOC_PRESERVE;
  cfg.port_reuse = NATSIM_REUSE_PER_DESTINATION;
  h = harness_new (&cfg, 0);
  /* Kept when free. */
  assert_int_equal (udp_out_ok (h, T0, ep (IN (1), 5003), R1), 5003);
  /* Taken toward R1 by another inside host: a different port. */
  b = udp_out_ok (h, T0 + 1, ep (IN (2), 5003), R1);
  assert_int_not_equal (b, 5003);
  /* Toward another remote 5003 is free again (per-destination). */
  assert_int_equal (udp_out_ok (h, T0 + 2, ep (IN (3), 5003), R2), 5003);
  /* An inside port outside the range cannot be kept. */
  d = udp_out_ok (h, T0 + 3, ep (IN (4), 40000), R1);
  assert_int_not_equal (d, 5003);
  assert_int_not_equal (d, b);
  harness_free (h);

  /* Exclusive: 5003 belongs to IN1's endpoint toward every remote. */
  cfg = base_config ();
  cfg.allocation = NATSIM_ALLOC_PRESERVE;
  cfg.port_reuse = NATSIM_REUSE_EXCLUSIVE;
  h = harness_new (&cfg, 0);
  assert_int_equal (udp_out_ok (h, T0, ep (IN (1), 5003), R1), 5003);
  assert_int_not_equal (udp_out_ok (h, T0 + 1, ep (IN (3), 5003), R2), 5003);
  harness_free (h);
}

/* Sequential: each allocation takes the port after the last one allocated
 * (wrapping), also toward another remote where that port is free anyway. */
static void
test_alloc_sequential (void **state)
{
  NatsimNatConfig cfg = base_config ();
  Ep              R1 = ep (REM_A, 3478);
  Harness        *h;
  uint16_t        p[10];
  NatsimNatResult res;

  cfg.allocation = NATSIM_ALLOC_SEQUENTIAL;
  cfg.port_reuse = NATSIM_REUSE_PER_DESTINATION;
  h = harness_new (&cfg, 0);
  for (guint i = 0; i < 10; i++)
    {
      p[i] = udp_out_ok (h, T0 + i, ep (IN (1), (uint16_t) (4000 + i)), R1);
      if (i > 0)
        assert_int_equal (p[i], next_port (h, p[i - 1]));
    }
  assert_int_equal (udp_out (h, T0 + 10, ep (IN (1), 4010), R1, &res),
                    NATSIM_VERDICT_ALLOC_FAILED);
  /* The failure allocated nothing: the next port is still after p[9]. */
  assert_int_equal (udp_out_ok (h, T0 + 11, ep (IN (1), 4011),
                                ep (REM_B, 3478)),
                    next_port (h, p[9]));
  harness_free (h);
}

static void
run_random (unsigned long seed, uint16_t ports[50])
{
  NatsimNatConfig cfg = base_config ();
  Harness        *h;

  cfg.port_lo = 5000;
  cfg.port_hi = 5999;
  cfg.allocation = NATSIM_ALLOC_RANDOM;
  cfg.port_search = NATSIM_SEARCH_FULL;
  h = harness_new (&cfg, seed);
  for (guint i = 0; i < 50; i++)
    ports[i] = udp_out_ok (h, T0 + i, ep (IN (1), (uint16_t) (4000 + i)),
                           ep (REM_A, 3478));
  harness_free (h);
}

static void
test_alloc_random (void **state)
{
  uint16_t a[50], b[50], c[50], sorted[50];
  guint    consecutive = 0;

  run_random (42, a);
  run_random (42, b);
  run_random (43, c);
  /* Deterministic for a seed. */
  assert_memory_equal (a, b, sizeof a);
  /* Another seed gives another sequence. */
  assert_true (memcmp (a, c, sizeof a) != 0);
  /* In range (checked by udp_out_ok), distinct toward one remote, and not
   * a sequential scan. */
  memcpy (sorted, a, sizeof sorted);
  qsort (sorted, 50, sizeof sorted[0], cmp_u16);
  for (guint i = 1; i < 50; i++)
    assert_int_not_equal (sorted[i], sorted[i - 1]);
  for (guint i = 1; i < 50; i++)
    if (a[i] == a[i - 1] + 1)
      consecutive++;
  assert_true (consecutive < 10);
}

/* ------------------------------------------------------------------ */
/* Parity (RFC 4787 REQ-4)                                              */

static void
test_parity (void **state)
{
  NatsimNatConfig cfg = base_config ();
  Ep              R1 = ep (REM_A, 3478);
  Harness        *h;
  uint16_t        p;

  cfg.parity = true;
  cfg.allocation = NATSIM_ALLOC_PRESERVE;
  cfg.port_reuse = NATSIM_REUSE_PER_DESTINATION;
  h = harness_new (&cfg, 0);
  /* Five hosts with even inside port 5002: the first keeps it, the others
   * collide and get the other even ports. */
  assert_int_equal (udp_out_ok (h, T0, ep (IN (1), 5002), R1), 5002);
  for (guint i = 2; i <= 5; i++)
    {
      p = udp_out_ok (h, T0 + i, ep (IN (i), 5002), R1);
      assert_int_equal (p % 2, 0);
    }
  /* Only odd ports are left toward R1: an even inside port fails. */
  assert_int_equal (udp_out (h, T0 + 6, ep (IN (6), 5002), R1, NULL),
                    NATSIM_VERDICT_ALLOC_FAILED);
  /* Odd inside ports (one out of range) get odd ports, five of them. */
  assert_int_equal (udp_out_ok (h, T0 + 7, ep (IN (7), 5007), R1), 5007);
  for (guint i = 8; i <= 11; i++)
    {
      p = udp_out_ok (h, T0 + i, ep (IN (i), 4001), R1);
      assert_int_equal (p % 2, 1);
    }
  assert_int_equal (udp_out (h, T0 + 12, ep (IN (12), 4001), R1, NULL),
                    NATSIM_VERDICT_ALLOC_FAILED);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), 10);
  harness_free (h);

  /* Sequential with parity: the scan skips the other parity. */
  cfg = base_config ();
  cfg.parity = true;
  cfg.allocation = NATSIM_ALLOC_SEQUENTIAL;
  h = harness_new (&cfg, 0);
  for (guint i = 0; i < 6; i++)
    {
      uint16_t in_port = (uint16_t) (4000 + i);

      p = udp_out_ok (h, T0 + i, ep (IN (1), in_port), R1);
      assert_int_equal (p % 2, in_port % 2);
    }
  harness_free (h);
}

/* ------------------------------------------------------------------ */
/* port_search = linux                                                  */

/* Fills ports 5000 .. hi-1 toward R1 (preserve keeps each inside port),
 * leaving only hi free, then offers a flow whose inside port is out of the
 * range.  Returns its verdict; *ret_port gets the port on success. */
static NatsimVerdict
probe_after_fill (NatsimPortSearch search, uint16_t hi, unsigned long seed,
                  uint16_t *ret_port)
{
  NatsimNatConfig cfg = base_config ();
  Ep              R1 = ep (REM_A, 3478);
  NatsimNatResult res;
  NatsimVerdict   v;
  Harness        *h;

  cfg.port_lo = 5000;
  cfg.port_hi = hi;
  cfg.allocation = NATSIM_ALLOC_PRESERVE;
  cfg.port_search = search;
  cfg.port_reuse = NATSIM_REUSE_PER_DESTINATION;
  h = harness_new (&cfg, seed);
  for (uint16_t p = 5000; p < hi; p++)
    assert_int_equal (udp_out_ok (h, T0, ep (IN (1), p), R1), p);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), hi - 5000);
  v = udp_out (h, T0 + NATSIM_SEC (1), ep (IN (2), 40000), R1, &res);
  if (v == NATSIM_VERDICT_FORWARDED)
    *ret_port = res.ext_port;
  else
    assert_int_equal (v, NATSIM_VERDICT_ALLOC_FAILED);
  harness_free (h);
  return v;
}

/* 1000 ports, 999 in use toward R: the Linux search probes at most 248 ports
 * from a random offset, so it misses the free one for most seeds; the full
 * search always finds it. */
static void
test_linux_search_large_range_can_fail (void **state)
{
  guint    fail = 0, ok = 0;
  uint16_t p = 0;

  for (unsigned long seed = 1; seed <= 60; seed++)
    {
      if (probe_after_fill (NATSIM_SEARCH_LINUX, 5999, seed, &p)
          == NATSIM_VERDICT_FORWARDED)
        {
          assert_int_equal (p, 5999);
          ok++;
        }
      else
        fail++;
    }
  /* Success needs the free port among <= 248 of 1000 probes. */
  assert_true (fail > 30);
  assert_true (ok >= 1);

  p = 0;
  assert_int_equal (probe_after_fill (NATSIM_SEARCH_FULL, 5999, 0, &p),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (p, 5999);
}

/* 100 ports (<= 128): the whole range is searched, never a failure. */
static void
test_linux_search_small_range_complete (void **state)
{
  for (unsigned long seed = 1; seed <= 40; seed++)
    {
      uint16_t p = 0;

      assert_int_equal (probe_after_fill (NATSIM_SEARCH_LINUX, 5099, seed, &p),
                        NATSIM_VERDICT_FORWARDED);
      assert_int_equal (p, 5099);
    }
}

/* Linux step 2 (find_appropriate_src): a new binding of an inside endpoint
 * takes the port of its other live binding when free toward the new
 * remote; when not free, another port. */
static void
test_linux_search_reuses_own_port (void **state)
{
  for (unsigned long seed = 1; seed <= 10; seed++)
    {
      NatsimNatConfig cfg = base_config ();
      Ep              I = ep (IN (1), 40000);
      Harness        *h;
      uint16_t        e, p;

      cfg.port_lo = 5000;
      cfg.port_hi = 5999;
      cfg.port_search = NATSIM_SEARCH_LINUX;
      cfg.allocation = NATSIM_ALLOC_PRESERVE;
      cfg.mapping = NATSIM_MAPPING_EIM;
      cfg.port_reuse = NATSIM_REUSE_PER_DESTINATION;
      h = harness_new (&cfg, seed);
      e = udp_out_ok (h, T0, I, ep (REM_A, 3478));
      for (guint i = 0; i < 10; i++)
        assert_int_equal (udp_out_ok (h, T0 + 1 + i, I,
                                      ep (IP4 (198, 51, 100, 10 + i), 5060)),
                          e);
      /* Another endpoint takes (E, R2) by preserving its inside port E. */
      assert_int_equal (udp_out_ok (h, T0 + 20, ep (IN (2), e),
                                    ep (REM_B, 5060)),
                        e);
      p = udp_out_ok (h, T0 + 21, I, ep (REM_B, 5060));
      assert_int_not_equal (p, e);
      assert_int_equal (natsim_nat_live_bindings (h->nat), 13);
      harness_free (h);
    }
}

/* Linux step 1 applies only with allocation = preserve: with random
 * allocation an in-range, free inside port is kept only by chance. */
static void
test_linux_search_preserve_only_when_asked (void **state)
{
  guint kept_random = 0;

  for (unsigned long seed = 1; seed <= 5; seed++)
    for (guint mode = 0; mode < 2; mode++)
      {
        NatsimNatConfig cfg = base_config ();
        Harness        *h;

        cfg.port_lo = 5000;
        cfg.port_hi = 5999;
        cfg.port_search = NATSIM_SEARCH_LINUX;
        cfg.allocation = mode == 0 ? NATSIM_ALLOC_PRESERVE
                                   : NATSIM_ALLOC_RANDOM;
        h = harness_new (&cfg, seed);
        for (guint i = 0; i < 20; i++)
          {
            uint16_t in_port = (uint16_t) (5000 + 37 * i);
            uint16_t p = udp_out_ok (h, T0 + i, ep (IN (1 + i), in_port),
                                     ep (REM_A, 3478));

            if (mode == 0)
              assert_int_equal (p, in_port);
            else if (p == in_port)
              kept_random++;
          }
        harness_free (h);
      }
  /* 100 random choices among 1000 ports: a handful of hits at most. */
  assert_true (kept_random < 5);
}

/* ------------------------------------------------------------------ */
/* Pooling                                                              */

static void
check_event_addr_index (const Harness *h)
{
  for (guint i = 0; i < h->events->len; i++)
    {
      const NatsimNatEvent *ev = &g_array_index (h->events, NatsimNatEvent,
                                                 i);
      if (ev->type != NATSIM_NAT_EV_BINDING_CREATED)
        continue;
      assert_true (ev->addr_index < h->cfg.n_addresses);
      assert_int_equal (h->cfg.addresses[ev->addr_index], ev->ext_addr);
    }
}

static bool
in_pool (const Harness *h, uint32_t addr)
{
  for (guint i = 0; i < h->cfg.n_addresses; i++)
    if (h->cfg.addresses[i] == addr)
      return true;
  return false;
}

/* Paired: every binding of an inside address uses one public address, over
 * 30 remotes, even with APDM (a fresh allocation each time). */
static void
test_pooling_paired (void **state)
{
  NatsimNatConfig cfg = base_config ();
  Harness        *h;
  uint32_t        first_addr[21];
  GHashTable     *used = g_hash_table_new (NULL, NULL);

  config_set_pool (&cfg, 4);
  cfg.port_lo = 5000;
  cfg.port_hi = 5999;
  cfg.pooling = NATSIM_POOLING_PAIRED;
  cfg.mapping = NATSIM_MAPPING_APDM;
  h = harness_new (&cfg, 0);
  for (guint in = 1; in <= 20; in++)
    for (guint r = 1; r <= 30; r++)
      {
        NatsimNatResult res;

        assert_int_equal (udp_out (h, T0 + in, ep (IN (in), 4000),
                                   ep (IP4 (198, 51, 100, r), 3478), &res),
                          NATSIM_VERDICT_FORWARDED);
        assert_true (in_pool (h, res.ext_addr));
        if (r == 1)
          first_addr[in] = res.ext_addr;
        else
          assert_int_equal (res.ext_addr, first_addr[in]);
        g_hash_table_add (used, GUINT_TO_POINTER (res.ext_addr));
      }
  /* The pool is used: 20 inside addresses do not all hash to one. */
  assert_true (g_hash_table_size (used) >= 2);
  check_event_addr_index (h);
  g_hash_table_unref (used);
  harness_free (h);
}

/* Arbitrary: the address follows (inside address, remote address), so it
 * varies across remotes; another inside port of the same host toward the
 * same remote address (other port) gets the same address. */
static void
test_pooling_arbitrary (void **state)
{
  NatsimNatConfig cfg = base_config ();
  Harness        *h;
  uint32_t        addr_of[51];
  GHashTable     *used = g_hash_table_new (NULL, NULL);

  config_set_pool (&cfg, 4);
  cfg.port_lo = 5000;
  cfg.port_hi = 5999;
  cfg.pooling = NATSIM_POOLING_ARBITRARY;
  cfg.mapping = NATSIM_MAPPING_APDM;
  h = harness_new (&cfg, 0);
  for (guint r = 1; r <= 50; r++)
    {
      NatsimNatResult res;

      assert_int_equal (udp_out (h, T0, ep (IN (1), 4000),
                                 ep (IP4 (198, 51, 100, r), 3478), &res),
                        NATSIM_VERDICT_FORWARDED);
      assert_true (in_pool (h, res.ext_addr));
      addr_of[r] = res.ext_addr;
      g_hash_table_add (used, GUINT_TO_POINTER (res.ext_addr));
    }
  assert_true (g_hash_table_size (used) >= 2);
  for (guint r = 1; r <= 50; r++)
    {
      NatsimNatResult res;

      assert_int_equal (udp_out (h, T0 + 1, ep (IN (1), 4001),
                                 ep (IP4 (198, 51, 100, r), 3479), &res),
                        NATSIM_VERDICT_FORWARDED);
      assert_int_equal (res.ext_addr, addr_of[r]);
    }
  check_event_addr_index (h);
  g_hash_table_unref (used);
  harness_free (h);
}

/* Only the pooled address is searched: no fall-back to another address
 * with free ports.  One port per address; two inside hosts that pair with
 * the same address compete for it while the other address stays idle. */
static void
test_pooling_no_fallback (void **state)
{
  NatsimNatConfig cfg = base_config ();
  Ep              R1 = ep (REM_A, 3478);
  Harness        *h;
  guint           host_of[2] = { 0, 0 };
  guint           second = 0, idx = 0;

  config_set_pool (&cfg, 2);
  cfg.port_lo = cfg.port_hi = 5000;
  cfg.pooling = NATSIM_POOLING_PAIRED;
  h = harness_new (&cfg, 0);
  /* Each host toward its own remote, so none competes: learn the address
   * index of each host until two share one. */
  for (guint i = 1; i <= 40 && second == 0; i++)
    {
      const NatsimNatEvent *ev;

      udp_out_ok (h, T0 + i, ep (IN (i), 4000), ep (IP4 (192, 0, 2, i), 9));
      ev = last_event (h, NATSIM_NAT_EV_BINDING_CREATED);
      if (host_of[ev->addr_index] == 0)
        host_of[ev->addr_index] = i;
      else
        {
          second = i;
          idx = ev->addr_index;
        }
    }
  assert_int_not_equal (second, 0);
  harness_free (h);

  cfg = base_config ();
  config_set_pool (&cfg, 2);
  cfg.port_lo = cfg.port_hi = 5000;
  cfg.pooling = NATSIM_POOLING_PAIRED;
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, ep (IN (host_of[idx]), 4000), R1);
  assert_int_equal (udp_out (h, T0 + 1, ep (IN (second), 4000), R1, NULL),
                    NATSIM_VERDICT_ALLOC_FAILED);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, idx), 1);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 1 - idx), 0);
  harness_free (h);
}

/* ------------------------------------------------------------------ */
/* Timers                                                               */

static void
test_udp_timeout_exact (void **state)
{
  Ep              I = ep (IN (1), 4000), R = ep (REM_A, 3478);
  NatsimNatConfig cfg;
  Harness        *h;
  const NatsimNatEvent *ev;

  /* 1 ns before the expiry: delivered. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, I, R);
  assert_int_equal (udp_in (h, T0 + NATSIM_SEC (30) - 1, R, I, NULL),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_BINDING_EXPIRED), 0);
  harness_free (h);

  /* At the expiry: lost, and the expiry is reported at that instant. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, I, R);
  assert_int_equal (udp_in (h, T0 + NATSIM_SEC (30), R, I, NULL),
                    NATSIM_VERDICT_BINDING_LOST);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_BINDING_EXPIRED), 1);
  ev = last_event (h, NATSIM_NAT_EV_BINDING_EXPIRED);
  assert_int_equal (ev->time, T0 + NATSIM_SEC (30));
  assert_int_equal (ev->in_addr, I.addr);
  assert_int_equal (ev->rem_port, R.port);
  assert_int_equal (natsim_nat_live_bindings (h->nat), 0);
  harness_free (h);

  /* The same through natsim_nat_advance. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, I, R);
  expect_expiry (h, NATSIM_PROTO_UDP, I, R, T0 + NATSIM_SEC (30));
  assert_int_equal (count_events (h, NATSIM_NAT_EV_BINDING_EXPIRED), 1);
  harness_free (h);

  /* An outbound refresh restarts the timer from its own time. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, I, R);
  udp_out_ok (h, T0 + NATSIM_SEC (20), I, R);
  expect_expiry (h, NATSIM_PROTO_UDP, I, R, T0 + NATSIM_SEC (50));
  harness_free (h);
}

static void
test_udp_stream_rule (void **state)
{
  Ep              I = ep (IN (1), 4000), R = ep (REM_A, 3478);
  NatsimNatConfig cfg;
  Harness        *h;

  /* The first reply gets udp_timeout (30 s). */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, I, R);
  assert_int_equal (udp_in (h, T0 + NATSIM_SEC (1), R, I, NULL),
                    NATSIM_VERDICT_FORWARDED);
  expect_expiry (h, NATSIM_PROTO_UDP, I, R, T0 + NATSIM_SEC (31));
  harness_free (h);

  /* A refresh after the reply, binding 3 s old: udp_stream_timeout. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, I, R);
  udp_in (h, T0 + NATSIM_SEC (1), R, I, NULL);
  udp_out_ok (h, T0 + NATSIM_SEC (3), I, R);
  expect_expiry (h, NATSIM_PROTO_UDP, I, R, T0 + NATSIM_SEC (123));
  harness_free (h);

  /* The same refresh when the binding is only 1.5 s old: udp_timeout. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, I, R);
  udp_in (h, T0 + NATSIM_SEC (1), R, I, NULL);
  udp_out_ok (h, T0 + NATSIM_MSEC (1500), I, R);
  expect_expiry (h, NATSIM_PROTO_UDP, I, R,
                 T0 + NATSIM_MSEC (1500) + NATSIM_SEC (30));
  harness_free (h);

  /* A first reply when the binding is already 5 s old still gets
   * udp_timeout; the next packet gets the stream timeout. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, I, R);
  udp_in (h, T0 + NATSIM_SEC (5), R, I, NULL);
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (35) - 1);
  assert_true (alive (h, NATSIM_PROTO_UDP, I, R));
  udp_out_ok (h, T0 + NATSIM_SEC (35) - 1, I, R);
  expect_expiry (h, NATSIM_PROTO_UDP, I, R,
                 T0 + NATSIM_SEC (155) - 1);
  harness_free (h);
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, I, R);
  udp_in (h, T0 + NATSIM_SEC (5), R, I, NULL);
  expect_expiry (h, NATSIM_PROTO_UDP, I, R, T0 + NATSIM_SEC (35));
  harness_free (h);

  /* A second inbound packet (refresh both) also gets the stream timeout. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, I, R);
  udp_in (h, T0 + NATSIM_SEC (1), R, I, NULL);
  udp_in (h, T0 + NATSIM_SEC (4), R, I, NULL);
  expect_expiry (h, NATSIM_PROTO_UDP, I, R, T0 + NATSIM_SEC (124));
  harness_free (h);
}

/* The same rule when udp_timeout is 2 s or less: a binding's first timer
 * can come while it is young, so its creation time is kept aside
 * (nat-private.h, Binding); the rule must still count from creation. */
static void
test_udp_stream_rule_short_timeout (void **state)
{
  Ep              I = ep (IN (1), 4000), R = ep (REM_A, 3478);
  NatsimNatConfig cfg;
  Harness        *h;
  NatsimFlowState st;

  (void) state;
  cfg = base_config ();
  cfg.udp_timeout = NATSIM_SEC (1);
  cfg.udp_stream_timeout = NATSIM_SEC (10);
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, I, R);
  /* A reply at 0.5 s, young: udp_timeout (expiry 1.5 s); the first timer
   * (1 s) finds it refreshed and moves to 1.5 s. */
  assert_int_equal (udp_in (h, T0 + NATSIM_MSEC (500), R, I, NULL), NATSIM_VERDICT_FORWARDED);
  natsim_nat_advance (h->nat, T0 + NATSIM_MSEC (1200));
  udp_out_ok (h, T0 + NATSIM_MSEC (1200), I, R);
  /* At exactly 2 s it is not yet more than 2 s old: udp_timeout again. */
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (2));
  udp_out_ok (h, T0 + NATSIM_SEC (2), I, R);
  assert_true (natsim_nat_flow_state (h->nat, NATSIM_PROTO_UDP, I.addr, I.port, R.addr, R.port,
                                      &st));
  assert_int_equal (st.expiry, T0 + NATSIM_SEC (3));
  /* 1 ns later it is: the stream timeout. */
  udp_out_ok (h, T0 + NATSIM_SEC (2) + 1, I, R);
  expect_expiry (h, NATSIM_PROTO_UDP, I, R, T0 + NATSIM_SEC (12) + 1);
  harness_free (h);

  /* Dead while young, the tombstone says when; the flow's next binding
   * is young again from its own creation. */
  cfg = base_config ();
  cfg.udp_timeout = NATSIM_SEC (1);
  cfg.udp_stream_timeout = NATSIM_SEC (10);
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, I, R);
  udp_in (h, T0 + NATSIM_MSEC (100), R, I, NULL);
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (5));
  assert_true (natsim_nat_flow_state (h->nat, NATSIM_PROTO_UDP, I.addr, I.port, R.addr, R.port,
                                      &st));
  assert_false (st.alive);
  assert_int_equal (st.died, T0 + NATSIM_MSEC (1100));
  udp_out_ok (h, T0 + NATSIM_SEC (5), I, R);
  udp_in (h, T0 + NATSIM_SEC (5) + NATSIM_MSEC (100), R, I, NULL);
  udp_out_ok (h, T0 + NATSIM_SEC (6), I, R);
  expect_expiry (h, NATSIM_PROTO_UDP, I, R, T0 + NATSIM_SEC (7));
  harness_free (h);
}

/* An inside endpoint with more flows than its list holds for a walk
 * (ENDPOINT_LIST_MAX): its flows are found through the flow table, alive
 * or dead, and once all are forgotten it starts again as a list. */
static void
test_crowded_endpoint (void **state)
{
  Ep              I = ep (IN (1), 4000);
  NatsimNatConfig cfg;
  Harness        *h;
  NatsimFlowState st;
  NatsimNatResult res;
  uint16_t        port;
  const guint     n = 40;

  (void) state;
  cfg = base_config ();
  cfg.tombstone = NATSIM_SEC (600);
  h = harness_new (&cfg, 0);
  /* EIM: one mapping, so every flow shares the external port. */
  port = udp_out_ok (h, T0, I, ep (IP4 (198, 51, 100, 1), 7000));
  for (guint i = 1; i < n; i++)
    assert_int_equal (udp_out_ok (h, T0 + NATSIM_MSEC (i), I, ep (IP4 (198, 51, 100, 1 + i), 7000)),
                      port);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_BINDING_CREATED), n);
  assert_true (natsim_nat_check (h->nat));
  /* Every flow is found (a second packet refreshes it, creates nothing),
   * and its replies come in. */
  for (guint i = 0; i < n; i++)
    {
      Ep r = ep (IP4 (198, 51, 100, 1 + i), 7000);
      if (i < n / 2)
        udp_out_ok (h, T0 + NATSIM_SEC (20), I, r);
      assert_int_equal (udp_in (h, T0 + NATSIM_SEC (20), r, I, &res), NATSIM_VERDICT_FORWARDED);
      assert_false (res.new_binding);
    }
  assert_int_equal (count_events (h, NATSIM_NAT_EV_BINDING_CREATED), n);
  /* Refresh both: all live until 50 s; then the second half dies at 50 s
   * and the first half, refreshed again at 40 s, lives on. */
  for (guint i = 0; i < n / 2; i++)
    udp_out_ok (h, T0 + NATSIM_SEC (40), I, ep (IP4 (198, 51, 100, 1 + i), 7000));
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (60));
  assert_true (natsim_nat_check (h->nat));
  for (guint i = 0; i < n; i++)
    {
      assert_true (natsim_nat_flow_state (h->nat, NATSIM_PROTO_UDP, I.addr, I.port,
                                          IP4 (198, 51, 100, 1 + i), 7000, &st));
      assert_int_equal (st.alive, i < n / 2);
      if (i >= n / 2)
        assert_int_equal (st.died, T0 + NATSIM_SEC (50));
      assert_int_equal (st.ext_port, port);
    }
  /* A dead flow that sends again is a rebinding (its tombstone is found). */
  udp_out (h, T0 + NATSIM_SEC (61), I, ep (IP4 (198, 51, 100, n), 7000), &res);
  assert_true (res.new_binding);
  assert_true (res.rebinding);
  /* The first half kept alive (the endpoint stays crowded) while the
   * second half's tombstones are forgotten (died by 91 s, + 600 s). */
  for (NatsimTime t = T0 + NATSIM_SEC (65); t <= T0 + NATSIM_SEC (700); t += NATSIM_SEC (25))
    for (guint i = 0; i < n / 2; i++)
      udp_out_ok (h, t, I, ep (IP4 (198, 51, 100, 1 + i), 7000));
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (700));
  assert_true (natsim_nat_check (h->nat));
  for (guint i = 0; i < n; i++)
    assert_int_equal (natsim_nat_flow_state (h->nat, NATSIM_PROTO_UDP, I.addr, I.port,
                                             IP4 (198, 51, 100, 1 + i), 7000, &st),
                      i < n / 2);
  udp_out (h, T0 + NATSIM_SEC (701), I, ep (IP4 (198, 51, 100, n), 7000), &res);
  assert_true (res.new_binding);
  assert_false (res.rebinding);
  /* All dead and forgotten (30 s + 600 s of tombstone): unknown. */
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (2000));
  for (guint i = 0; i < n; i++)
    assert_false (natsim_nat_flow_state (h->nat, NATSIM_PROTO_UDP, I.addr, I.port,
                                         IP4 (198, 51, 100, 1 + i), 7000, &st));
  /* The endpoint again, with three flows: a list. */
  for (guint i = 0; i < 3; i++)
    {
      udp_out (h, T0 + NATSIM_SEC (2001), I, ep (IP4 (198, 51, 100, 1 + i), 7000), &res);
      assert_true (res.new_binding);
      assert_false (res.rebinding);
    }
  for (guint i = 0; i < 3; i++)
    {
      udp_out (h, T0 + NATSIM_SEC (2002), I, ep (IP4 (198, 51, 100, 1 + i), 7000), &res);
      assert_false (res.new_binding);
    }
  assert_false (alive (h, NATSIM_PROTO_UDP, I, ep (IP4 (198, 51, 100, 4), 7000)));
  assert_true (natsim_nat_check (h->nat));
  harness_free (h);
}

/* Bindings that expire at one instant do so in the order their timers
 * were set, however often a record was reused before: here a flow fails
 * again and again at one instant (each failure a tombstone replacing the
 * last, whose timer stays queued), then gets a binding that expires with
 * another one set before it. */
static void
test_equal_expiry_order_after_failures (void **state)
{
  Ep A = ep (IN (1), 5000), X = ep (IN (2), 5000), Y = ep (IN (3), 5000);
  Ep R = ep (IP4 (198, 51, 100, 2), 80), R2 = ep (IP4 (198, 51, 100, 3), 80);

  (void) state;
  for (guint failures = 1; failures <= 40; failures++)
    {
      NatsimNatConfig cfg = base_config ();
      Harness *h;
      const NatsimNatEvent *ev;
      guint n = 0;

      cfg.port_lo = cfg.port_hi = 1024;
      cfg.udp_timeout = NATSIM_SEC (10);
      cfg.tombstone = NATSIM_SEC (20);
      cfg.mapping = NATSIM_MAPPING_APDM;
      h = harness_new (&cfg, 0);
      udp_out_ok (h, T0, A, R);
      /* The one port is A's toward R: X toward R cannot have it. */
      for (guint i = 0; i < failures; i++)
        assert_int_equal (udp_out (h, T0 + NATSIM_SEC (1), X, R, NULL),
                          NATSIM_VERDICT_ALLOC_FAILED);
      /* A is gone at 10 s: Y, then X (another remote each) share the port,
       * both until 21 s. */
      udp_out_ok (h, T0 + NATSIM_SEC (11), Y, R2);
      udp_out_ok (h, T0 + NATSIM_SEC (11), X, R);
      natsim_nat_advance (h->nat, T0 + NATSIM_SEC (40));
      for (guint i = 0; i < h->events->len; i++)
        {
          ev = &g_array_index (h->events, NatsimNatEvent, i);
          if (ev->type != NATSIM_NAT_EV_BINDING_EXPIRED || ev->time != T0 + NATSIM_SEC (21))
            continue;
          assert_int_equal (ev->in_addr, n == 0 ? Y.addr : X.addr);
          n++;
        }
      assert_int_equal (n, 2);
      harness_free (h);
    }
}

/* Random traffic of a few inside endpoints, each with up to 30 remotes
 * (lists walked and crowded, endpoints emptied and filled again), UDP and
 * TCP, both directions, short timeouts and tombstones, a small port range
 * (failures): the engine's bookkeeping holds after every packet. */
static void
test_bookkeeping_random (void **state)
{
  static const NatsimTime tombstones[] = { 0, NATSIM_SEC (5), NATSIM_SEC (40) };
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);

  (void) state;
  gsl_rng_set (r, 7);
  for (guint round = 0; round < G_N_ELEMENTS (tombstones) * 2; round++)
    {
      NatsimNatConfig cfg = base_config ();
      Harness *h;
      NatsimTime t = T0;

      cfg.port_lo = 5000;
      cfg.port_hi = 5000 + (round % 2 ? 3 : 40);
      cfg.udp_timeout = NATSIM_SEC (10);
      cfg.udp_stream_timeout = NATSIM_SEC (3);
      cfg.tcp_established_timeout = NATSIM_SEC (30);
      cfg.tcp_transitory_timeout = NATSIM_SEC (4);
      cfg.tombstone = tombstones[round / 2];
      cfg.mapping = round % 2 ? NATSIM_MAPPING_EIM : NATSIM_MAPPING_APDM;
      cfg.unsolicited_hold = true;
      h = harness_new (&cfg, 0);
      natsim_nat_set_observer (h->nat, NULL, NULL);
      for (guint i = 0; i < 6000; i++)
        {
          Ep in = ep (IN (1 + gsl_rng_uniform_int (r, 3)), 4000);
          Ep rem = ep (IP4 (198, 51, 100, 1 + gsl_rng_uniform_int (r, 30)), 7000);
          bool tcp = gsl_rng_uniform (r) < 0.3;
          bool out = gsl_rng_uniform (r) < 0.7;
          static const uint8_t flags[] = { NATSIM_TCP_SYN, NATSIM_TCP_SYN | NATSIM_TCP_ACK,
                                           NATSIM_TCP_ACK, NATSIM_TCP_FIN | NATSIM_TCP_ACK,
                                           NATSIM_TCP_RST };

          /* Whole seconds now and then: expiries on one instant. */
          t += gsl_rng_uniform (r) < 0.5 ? NATSIM_SEC (gsl_rng_uniform_int (r, 3))
                                         : (NatsimTime) gsl_rng_uniform_int (r, NATSIM_MSEC (900));
          send_pkt (h, t, tcp ? NATSIM_PROTO_TCP : NATSIM_PROTO_UDP,
                    out ? NATSIM_DIR_OUT : NATSIM_DIR_IN, out ? in : rem, out ? rem : in,
                    tcp ? flags[gsl_rng_uniform_int (r, G_N_ELEMENTS (flags))] : 0, NULL);
          if (!natsim_nat_check (h->nat))
            fail_msg ("round %u, packet %u", round, i);
        }
      natsim_nat_advance (h->nat, t + NATSIM_SEC (200));
      assert_true (natsim_nat_check (h->nat));
      harness_free (h);
    }
  gsl_rng_free (r);
}

static void
test_tcp_timers (void **state)
{
  Ep              I = ep (IN (1), 40000), R = ep (REM_A, 8934);
  NatsimNatConfig cfg;
  Harness        *h;
  const NatsimTime est = NATSIM_SEC (7440), trans = NATSIM_SEC (240);

  /* SYN only: transitory. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  assert_int_equal (tcp_out (h, T0, I, R, NATSIM_TCP_SYN),
                    NATSIM_VERDICT_FORWARDED);
  expect_expiry (h, NATSIM_PROTO_TCP, I, R, T0 + trans);
  harness_free (h);

  /* SYN, SYN-ACK in, ACK out: established. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  assert_int_equal (tcp_out (h, T0, I, R, NATSIM_TCP_SYN),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (tcp_in (h, T0 + NATSIM_MSEC (100), R, I,
                            NATSIM_TCP_SYN | NATSIM_TCP_ACK),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (tcp_out (h, T0 + NATSIM_MSEC (200), I, R, NATSIM_TCP_ACK),
                    NATSIM_VERDICT_FORWARDED);
  expect_expiry (h, NATSIM_PROTO_TCP, I, R, T0 + NATSIM_MSEC (200) + est);
  harness_free (h);

  /* Mid-stream pickup: a first packet with ACK and no SYN is established. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  assert_int_equal (tcp_out (h, T0, I, R, NATSIM_TCP_ACK),
                    NATSIM_VERDICT_FORWARDED);
  expect_expiry (h, NATSIM_PROTO_TCP, I, R, T0 + est);
  harness_free (h);

  /* FIN on an established connection: transitory (shortens the expiry),
   * and it stays transitory for later packets. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  tcp_out (h, T0, I, R, NATSIM_TCP_SYN);
  tcp_in (h, T0 + NATSIM_MSEC (100), R, I, NATSIM_TCP_SYN | NATSIM_TCP_ACK);
  tcp_out (h, T0 + NATSIM_MSEC (200), I, R, NATSIM_TCP_ACK);
  assert_int_equal (tcp_out (h, T0 + NATSIM_SEC (10), I, R,
                             NATSIM_TCP_FIN | NATSIM_TCP_ACK),
                    NATSIM_VERDICT_FORWARDED);
  expect_expiry (h, NATSIM_PROTO_TCP, I, R, T0 + NATSIM_SEC (10) + trans);
  harness_free (h);
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  tcp_out (h, T0, I, R, NATSIM_TCP_SYN);
  tcp_in (h, T0 + NATSIM_MSEC (100), R, I, NATSIM_TCP_SYN | NATSIM_TCP_ACK);
  tcp_out (h, T0 + NATSIM_MSEC (200), I, R, NATSIM_TCP_ACK);
  tcp_out (h, T0 + NATSIM_SEC (10), I, R, NATSIM_TCP_FIN | NATSIM_TCP_ACK);
  assert_int_equal (tcp_in (h, T0 + NATSIM_SEC (11), R, I, NATSIM_TCP_ACK),
                    NATSIM_VERDICT_FORWARDED);
  expect_expiry (h, NATSIM_PROTO_TCP, I, R, T0 + NATSIM_SEC (11) + trans);
  harness_free (h);

  /* RST from the remote (refresh both): transitory. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  tcp_out (h, T0, I, R, NATSIM_TCP_SYN);
  tcp_in (h, T0 + NATSIM_MSEC (100), R, I, NATSIM_TCP_SYN | NATSIM_TCP_ACK);
  tcp_out (h, T0 + NATSIM_MSEC (200), I, R, NATSIM_TCP_ACK);
  assert_int_equal (tcp_in (h, T0 + NATSIM_SEC (10), R, I, NATSIM_TCP_RST),
                    NATSIM_VERDICT_FORWARDED);
  expect_expiry (h, NATSIM_PROTO_TCP, I, R, T0 + NATSIM_SEC (10) + trans);
  harness_free (h);

  /* RST from the inside on a mid-stream connection: transitory. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  tcp_out (h, T0, I, R, NATSIM_TCP_ACK);
  assert_int_equal (tcp_out (h, T0 + NATSIM_SEC (5), I, R, NATSIM_TCP_RST),
                    NATSIM_VERDICT_FORWARDED);
  expect_expiry (h, NATSIM_PROTO_TCP, I, R, T0 + NATSIM_SEC (5) + trans);
  harness_free (h);
}

static void
test_icmp_timeout (void **state)
{
  /* Echo: the ports hold the query id. */
  Ep              I = ep (IN (1), 0x1234), R = ep (REM_A, 0x1234);
  NatsimNatConfig cfg;
  Harness        *h;

  cfg = base_config ();
  h = harness_new (&cfg, 0);
  assert_int_equal (send_pkt (h, T0, NATSIM_PROTO_ICMP, NATSIM_DIR_OUT, I, R,
                              0, NULL),
                    NATSIM_VERDICT_FORWARDED);
  expect_expiry (h, NATSIM_PROTO_ICMP, I, R, T0 + NATSIM_SEC (60));
  harness_free (h);

  cfg = base_config ();
  h = harness_new (&cfg, 0);
  send_pkt (h, T0, NATSIM_PROTO_ICMP, NATSIM_DIR_OUT, I, R, 0, NULL);
  assert_int_equal (send_pkt (h, T0 + NATSIM_SEC (60) - 1, NATSIM_PROTO_ICMP,
                              NATSIM_DIR_IN, R, I, 0, NULL),
                    NATSIM_VERDICT_FORWARDED);
  harness_free (h);

  cfg = base_config ();
  h = harness_new (&cfg, 0);
  send_pkt (h, T0, NATSIM_PROTO_ICMP, NATSIM_DIR_OUT, I, R, 0, NULL);
  assert_int_equal (send_pkt (h, T0 + NATSIM_SEC (60), NATSIM_PROTO_ICMP,
                              NATSIM_DIR_IN, R, I, 0, NULL),
                    NATSIM_VERDICT_BINDING_LOST);
  harness_free (h);
}

/* Inbound-only traffic every 20 s after one outbound packet (udp 30 s). */
static void
test_refresh_both_vs_outbound (void **state)
{
  Ep I = ep (IN (1), 4000), R = ep (REM_A, 3478);

  for (guint mode = 0; mode < 2; mode++)
    {
      NatsimNatConfig cfg = base_config ();
      Harness        *h;

      cfg.refresh = mode == 0 ? NATSIM_REFRESH_BOTH : NATSIM_REFRESH_OUTBOUND;
      h = harness_new (&cfg, 0);
      udp_out_ok (h, T0, I, R);
      for (guint k = 1; k <= 5; k++)
        {
          NatsimVerdict expect;

          if (mode == 0 || k == 1)
            expect = NATSIM_VERDICT_FORWARDED;
          else
            expect = NATSIM_VERDICT_BINDING_LOST;
          assert_int_equal (udp_in (h, T0 + NATSIM_SEC (20 * k), R, I, NULL),
                            expect);
        }
      if (mode == 0)
        {
          assert_true (alive (h, NATSIM_PROTO_UDP, I, R));
          assert_int_equal (count_events (h, NATSIM_NAT_EV_BINDING_EXPIRED),
                            0);
        }
      else
        {
          const NatsimNatEvent *ev;

          assert_false (alive (h, NATSIM_PROTO_UDP, I, R));
          ev = last_event (h, NATSIM_NAT_EV_BINDING_EXPIRED);
          /* The inbound packet at 20 s did not move the expiry. */
          assert_int_equal (ev->time, T0 + NATSIM_SEC (30));
          assert_int_equal (count_events (h, NATSIM_NAT_EV_BINDING_LOST), 4);
        }
      harness_free (h);
    }
}

/* ------------------------------------------------------------------ */
/* Quarantine (RFC 6888 REQ-8)                                          */

static void
test_quarantine (void **state)
{
  Ep              A = ep (IN (1), 4000), B = ep (IN (2), 4000);
  Ep              R1 = ep (REM_A, 3478), R2 = ep (REM_B, 3478);
  NatsimNatConfig cfg;
  NatsimNatResult res;
  Harness        *h;

  /* One port; A's binding dies at T0+30 s, quarantine 60 s. */
  for (guint reuse = 0; reuse < 2; reuse++)
    {
      Ep toward = reuse == 0 ? R1 : R2;

      cfg = base_config ();
      cfg.port_lo = cfg.port_hi = 5000;
      cfg.port_reuse = reuse == 0 ? NATSIM_REUSE_EXCLUSIVE
                                  : NATSIM_REUSE_PER_DESTINATION;
      cfg.quarantine = NATSIM_SEC (60);
      h = harness_new (&cfg, 0);
      assert_int_equal (udp_out_ok (h, T0, A, R1), 5000);
      assert_int_equal (udp_out (h, T0 + NATSIM_SEC (31), B, toward, NULL),
                        NATSIM_VERDICT_ALLOC_FAILED);
      assert_int_equal (udp_out (h, T0 + NATSIM_SEC (89), B, toward, NULL),
                        NATSIM_VERDICT_ALLOC_FAILED);
      assert_int_equal (udp_out_ok (h, T0 + NATSIM_SEC (91), B, toward),
                        5000);
      assert_int_equal (count_events (h, NATSIM_NAT_EV_ALLOC_FAILED), 2);
      harness_free (h);
    }

  /* The same inside endpoint may have its port back at once. */
  cfg = base_config ();
  cfg.port_lo = cfg.port_hi = 5000;
  cfg.port_reuse = NATSIM_REUSE_EXCLUSIVE;
  cfg.quarantine = NATSIM_SEC (60);
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, A, R1);
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (31), A, R1, &res),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (res.ext_port, 5000);
  assert_true (res.rebinding);
  harness_free (h);

  /* Control: without quarantine B gets it at once. */
  cfg = base_config ();
  cfg.port_lo = cfg.port_hi = 5000;
  cfg.port_reuse = NATSIM_REUSE_EXCLUSIVE;
  cfg.quarantine = 0;
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, A, R1);
  assert_int_equal (udp_out_ok (h, T0 + NATSIM_SEC (31), B, R1), 5000);
  harness_free (h);
}

/* ------------------------------------------------------------------ */
/* Per-subscriber port blocks (RFC 6888 REQ-4, RFC 7422)                */

static NatsimNatConfig
block_config (uint16_t lo, uint16_t hi, uint32_t blocks)
{
  NatsimNatConfig cfg = base_config ();

  cfg.port_lo = lo;
  cfg.port_hi = hi;
  cfg.ports_per_subscriber = 4;
  cfg.blocks_per_subscriber = blocks;
  cfg.port_reuse = NATSIM_REUSE_PER_DESTINATION;
  cfg.allocation = NATSIM_ALLOC_SEQUENTIAL;
  return cfg;
}

static void
test_ports_per_subscriber_one_block (void **state)
{
  NatsimNatConfig cfg = block_config (5000, 5099, 1);
  Ep              R1 = ep (REM_A, 3478);
  Harness        *h = harness_new (&cfg, 0);
  uint16_t        p[4], b, q;

  for (guint i = 0; i < 4; i++)
    p[i] = udp_out_ok (h, T0 + i, ep (IN (1), (uint16_t) (4000 + i)), R1);
  qsort (p, 4, sizeof p[0], cmp_u16);
  /* Four distinct ports of one block of four contiguous ports. */
  assert_int_equal (p[3] - p[0], 3);
  assert_int_equal (udp_out (h, T0 + 4, ep (IN (1), 4004), R1, NULL),
                    NATSIM_VERDICT_ALLOC_FAILED);
  /* Another subscriber still succeeds, outside the first block. */
  b = udp_out_ok (h, T0 + 5, ep (IN (2), 4000), R1);
  assert_true (b < p[0] || b > p[3]);
  /* Toward another remote the subscriber's block has room again
   * (per-destination), and only its block is used. */
  q = udp_out_ok (h, T0 + 6, ep (IN (1), 4004), ep (REM_B, 3478));
  assert_in_range (q, p[0], p[3]);
  harness_free (h);
}

static void
test_ports_per_subscriber_two_blocks (void **state)
{
  NatsimNatConfig cfg = block_config (5000, 5099, 2);
  Ep              R1 = ep (REM_A, 3478);
  Harness        *h = harness_new (&cfg, 0);
  uint16_t        p[8];

  for (guint i = 0; i < 8; i++)
    p[i] = udp_out_ok (h, T0 + i, ep (IN (1), (uint16_t) (4000 + i)), R1);
  assert_int_equal (udp_out (h, T0 + 8, ep (IN (1), 4008), R1, NULL),
                    NATSIM_VERDICT_ALLOC_FAILED);
  qsort (p, 8, sizeof p[0], cmp_u16);
  for (guint i = 1; i < 8; i++)
    assert_int_not_equal (p[i], p[i - 1]);
  /* Two blocks of four contiguous ports. */
  assert_int_equal (p[3] - p[0], 3);
  assert_int_equal (p[7] - p[4], 3);
  assert_int_equal (udp_out (h, T0 + 9, ep (IN (2), 4000), R1, NULL),
                    NATSIM_VERDICT_FORWARDED);
  harness_free (h);
}

/* Eight ports = two blocks.  A takes one, B the other, C finds none until
 * A's bindings expire and its block is returned. */
static void
test_ports_per_subscriber_block_returned (void **state)
{
  NatsimNatConfig cfg = block_config (5000, 5007, 1);
  Ep              R1 = ep (REM_A, 3478);
  Ep              C = ep (IN (3), 4000), B = ep (IN (2), 4000);
  Harness        *h = harness_new (&cfg, 0);
  uint16_t        a[4], c;

  for (guint i = 0; i < 4; i++)
    a[i] = udp_out_ok (h, T0, ep (IN (1), (uint16_t) (4000 + i)), R1);
  qsort (a, 4, sizeof a[0], cmp_u16);
  udp_out_ok (h, T0, B, R1);
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (1), C, R1, NULL),
                    NATSIM_VERDICT_ALLOC_FAILED);
  udp_out_ok (h, T0 + NATSIM_SEC (20), B, R1); /* B keeps its block */
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (29), C, R1, NULL),
                    NATSIM_VERDICT_ALLOC_FAILED);
  /* A's four bindings died at T0+30 s. */
  c = udp_out_ok (h, T0 + NATSIM_SEC (31), C, R1);
  assert_in_range (c, a[0], a[3]);
  /* The block now belongs to C: a fourth subscriber has none. */
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (32), ep (IN (4), 4000), R1,
                             NULL),
                    NATSIM_VERDICT_ALLOC_FAILED);
  harness_free (h);
}

/* ------------------------------------------------------------------ */
/* Exhaustion (RFC 6888 REQ-5)                                          */

static void
test_exhaustion_never_evicts (void **state)
{
  NatsimNatConfig cfg = base_config ();
  Ep              R1 = ep (REM_A, 3478);
  Harness        *h;
  uint16_t        p[4];
  const NatsimNatEvent *ev;

  cfg.port_lo = 5000;
  cfg.port_hi = 5003;
  h = harness_new (&cfg, 0);
  for (guint i = 0; i < 4; i++)
    p[i] = udp_out_ok (h, T0, ep (IN (1 + i), 4000), R1);
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (1), ep (IN (5), 4000), R1,
                             NULL),
                    NATSIM_VERDICT_ALLOC_FAILED);
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (2), ep (IN (1), 4001), R1,
                             NULL),
                    NATSIM_VERDICT_ALLOC_FAILED);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_ALLOC_FAILED), 2);
  ev = last_event (h, NATSIM_NAT_EV_ALLOC_FAILED);
  assert_int_equal (ev->time, T0 + NATSIM_SEC (2));
  assert_int_equal (ev->in_addr, IN (1));
  assert_int_equal (ev->in_port, 4001);
  assert_int_equal (ev->rem_addr, REM_A);
  assert_int_equal (ev->rem_port, 3478);
  /* Nothing was evicted. */
  assert_int_equal (count_events (h, NATSIM_NAT_EV_BINDING_EXPIRED), 0);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_PORT_RELEASED), 0);
  assert_int_equal (natsim_nat_live_bindings (h->nat), 4);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), 4);
  for (guint i = 0; i < 4; i++)
    {
      NatsimNatResult res;

      assert_int_equal (udp_in (h, T0 + NATSIM_SEC (3), R1,
                                ep (IN (1 + i), 4000), &res),
                        NATSIM_VERDICT_FORWARDED);
      assert_int_equal (res.ext_port, p[i]);
    }
  harness_free (h);
}

/* ------------------------------------------------------------------ */
/* Inbound classification, binding loss and rebinding                   */

static void
test_classification (void **state)
{
  Ep              I = ep (IN (1), 4000);
  Ep              R1 = ep (REM_A, 3478), R2 = ep (REM_B, 3478);
  NatsimNatConfig cfg;
  NatsimNatResult res;
  Harness        *h;

  /* Never any binding: unsolicited. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  assert_int_equal (udp_in (h, T0, R1, I, NULL), NATSIM_VERDICT_UNSOLICITED);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_UNSOLICITED), 1);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_BINDING_CREATED), 0);
  assert_int_equal (natsim_nat_live_bindings (h->nat), 0);
  harness_free (h);

  /* A live binding toward R1, packet from R2 (APDF): filtered. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, I, R1);
  assert_int_equal (udp_in (h, T0 + 1, R2, I, NULL), NATSIM_VERDICT_FILTERED);
  /* Another inside endpoint of the same host never had a binding. */
  assert_int_equal (udp_in (h, T0 + 2, R1, ep (IN (1), 4001), NULL),
                    NATSIM_VERDICT_UNSOLICITED);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_FILTERED), 1);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_UNSOLICITED), 1);
  harness_free (h);

  /* The binding died at T0+30 s: binding lost from R1; a remote the
   * endpoint never talked to would have been filtered by APDF even while
   * the binding lived, so it is unsolicited, not a loss. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, I, R1);
  assert_int_equal (udp_in (h, T0 + NATSIM_SEC (40), R1, I, NULL),
                    NATSIM_VERDICT_BINDING_LOST);
  assert_int_equal (udp_in (h, T0 + NATSIM_SEC (41), R2, I, NULL),
                    NATSIM_VERDICT_UNSOLICITED);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_BINDING_LOST), 1);
  harness_free (h);

  /* Under EIF the same packet from R2 would have been accepted: a loss. */
  cfg = base_config ();
  cfg.filtering = NATSIM_FILTER_EIF;
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, I, R1);
  assert_int_equal (udp_in (h, T0 + NATSIM_SEC (41), R2, I, NULL),
                    NATSIM_VERDICT_BINDING_LOST);
  harness_free (h);

  /* Under ADF: R1's address on another port would have been accepted (a
   * loss), another address not (unsolicited). */
  cfg = base_config ();
  cfg.filtering = NATSIM_FILTER_ADF;
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, I, R1);
  assert_int_equal (udp_in (h, T0 + NATSIM_SEC (40), ep (REM_A, 9999), I,
                            NULL),
                    NATSIM_VERDICT_BINDING_LOST);
  assert_int_equal (udp_in (h, T0 + NATSIM_SEC (41), R2, I, NULL),
                    NATSIM_VERDICT_UNSOLICITED);
  harness_free (h);

  /* Still remembered just before the tombstone (600 s after death) ends. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, I, R1);
  assert_int_equal (udp_in (h, T0 + NATSIM_SEC (629), R1, I, NULL),
                    NATSIM_VERDICT_BINDING_LOST);
  harness_free (h);

  /* Forgotten after it: unsolicited. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, I, R1);
  assert_int_equal (udp_in (h, T0 + NATSIM_SEC (631), R1, I, NULL),
                    NATSIM_VERDICT_UNSOLICITED);
  harness_free (h);

  /* Rebinding: an outbound packet of the expired flow. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  assert_int_equal (udp_out (h, T0, I, R1, &res), NATSIM_VERDICT_FORWARDED);
  assert_true (res.new_binding);
  assert_false (res.rebinding);
  assert_false (last_event (h, NATSIM_NAT_EV_BINDING_CREATED)->rebinding);
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (10), I, R1, &res),
                    NATSIM_VERDICT_FORWARDED);
  assert_false (res.new_binding);
  assert_false (res.rebinding);
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (50), I, R1, &res),
                    NATSIM_VERDICT_FORWARDED);
  assert_true (res.new_binding);
  assert_true (res.rebinding);
  assert_true (last_event (h, NATSIM_NAT_EV_BINDING_CREATED)->rebinding);
  assert_false (last_event (h, NATSIM_NAT_EV_BINDING_CREATED)->inbound);
  /* A new remote of the same endpoint is a new flow, not a rebinding. */
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (51), I, R2, &res),
                    NATSIM_VERDICT_FORWARDED);
  assert_true (res.new_binding);
  assert_false (res.rebinding);
  harness_free (h);

  /* After the tombstone the flow is new again. */
  cfg = base_config ();
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, I, R1);
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (631), I, R1, &res),
                    NATSIM_VERDICT_FORWARDED);
  assert_true (res.new_binding);
  assert_false (res.rebinding);
  harness_free (h);
}

/* A flow whose allocation failed never had a binding; the remote answering
 * it is still a binding loss. */
static void
test_binding_lost_after_alloc_failure (void **state)
{
  NatsimNatConfig cfg = base_config ();
  Ep              A = ep (IN (1), 4000), B = ep (IN (2), 4000);
  Ep              R1 = ep (REM_A, 3478);
  Harness        *h;

  cfg.port_lo = cfg.port_hi = 5000;
  h = harness_new (&cfg, 0);
  udp_out_ok (h, T0, A, R1);
  assert_int_equal (udp_out (h, T0 + 1, B, R1, NULL),
                    NATSIM_VERDICT_ALLOC_FAILED);
  assert_int_equal (udp_in (h, T0 + NATSIM_SEC (1), R1, B, NULL),
                    NATSIM_VERDICT_BINDING_LOST);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_BINDING_LOST), 1);
  /* A third endpoint that never sent: unsolicited. */
  assert_int_equal (udp_in (h, T0 + NATSIM_SEC (2), R1, ep (IN (3), 4000),
                            NULL),
                    NATSIM_VERDICT_UNSOLICITED);
  assert_int_equal (natsim_nat_live_bindings (h->nat), 1);
  harness_free (h);
}

/* ------------------------------------------------------------------ */
/* Unsolicited hold (Linux)                                             */

static NatsimNatConfig
hold_config (uint16_t hi, bool hold)
{
  NatsimNatConfig cfg = base_config ();

  cfg.port_lo = 5000;
  cfg.port_hi = hi;
  cfg.port_search = NATSIM_SEARCH_LINUX;
  cfg.allocation = NATSIM_ALLOC_PRESERVE;
  cfg.port_reuse = NATSIM_REUSE_PER_DESTINATION;
  cfg.unsolicited_hold = hold;
  return cfg;
}

/* One port.  The binding dies at T0+30 s; the remote keeps sending (every
 * < 30 s) and each datagram holds (5000, R) for 30 s: the flow's own new
 * outbound datagrams are refused until the hold from T0+75 s ends at
 * T0+105 s (never promoted to the 120 s stream timeout). */
static void
test_unsolicited_hold (void **state)
{
  Ep              I = ep (IN (1), 40000), R = ep (REM_A, 5060);
  NatsimNatResult res;
  NatsimNatConfig cfg = hold_config (5000, true);
  Harness        *h = harness_new (&cfg, 1);

  assert_int_equal (udp_out_ok (h, T0, I, R), 5000);
  assert_int_equal (udp_in (h, T0 + NATSIM_SEC (31), R, I, NULL),
                    NATSIM_VERDICT_BINDING_LOST);
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (32), I, R, NULL),
                    NATSIM_VERDICT_ALLOC_FAILED);
  assert_int_equal (udp_in (h, T0 + NATSIM_SEC (50), R, I, NULL),
                    NATSIM_VERDICT_BINDING_LOST);
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (55), I, R, NULL),
                    NATSIM_VERDICT_ALLOC_FAILED);
  assert_int_equal (udp_in (h, T0 + NATSIM_SEC (75), R, I, NULL),
                    NATSIM_VERDICT_BINDING_LOST);
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (100), I, R, NULL),
                    NATSIM_VERDICT_ALLOC_FAILED);
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (104), I, R, NULL),
                    NATSIM_VERDICT_ALLOC_FAILED);
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (106), I, R, &res),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (res.ext_port, 5000);
  assert_true (res.rebinding);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_ALLOC_FAILED), 4);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_BINDING_LOST), 3);
  harness_free (h);

  /* The hold is per remote: toward another remote the port is free. */
  cfg = hold_config (5000, true);
  h = harness_new (&cfg, 1);
  udp_out_ok (h, T0, I, R);
  udp_in (h, T0 + NATSIM_SEC (31), R, I, NULL);
  assert_int_equal (udp_out_ok (h, T0 + NATSIM_SEC (32), I,
                                ep (REM_B, 5060)),
                    5000);
  harness_free (h);

  /* Control: without the hold the flow gets its port back at once. */
  cfg = hold_config (5000, false);
  h = harness_new (&cfg, 1);
  udp_out_ok (h, T0, I, R);
  assert_int_equal (udp_in (h, T0 + NATSIM_SEC (31), R, I, NULL),
                    NATSIM_VERDICT_BINDING_LOST);
  assert_int_equal (udp_out_ok (h, T0 + NATSIM_SEC (32), I, R), 5000);
  harness_free (h);

  /* With ten ports the flow's next binding gets another port. */
  for (unsigned long seed = 1; seed <= 20; seed++)
    {
      uint16_t old;

      cfg = hold_config (5009, true);
      h = harness_new (&cfg, seed);
      old = udp_out_ok (h, T0, I, R);
      udp_in (h, T0 + NATSIM_SEC (31), R, I, NULL);
      assert_int_equal (udp_out (h, T0 + NATSIM_SEC (32), I, R, &res),
                        NATSIM_VERDICT_FORWARDED);
      assert_int_not_equal (res.ext_port, old);
      assert_true (res.rebinding);
      harness_free (h);
    }
}

/* ------------------------------------------------------------------ */
/* Gauges                                                               */

static void
test_gauges (void **state)
{
  NatsimNatConfig cfg = base_config ();
  Harness        *h;
  const NatsimNatEvent *ev;
  uint16_t        d;

  /* Three bindings on one port toward three remotes: one port in use. */
  cfg.allocation = NATSIM_ALLOC_PRESERVE;
  cfg.port_reuse = NATSIM_REUSE_PER_DESTINATION;
  h = harness_new (&cfg, 0);
  assert_int_equal (natsim_nat_live_bindings (h->nat), 0);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), 0);
  assert_int_equal (udp_out_ok (h, T0, ep (IN (1), 5005), ep (REM_A, 1)),
                    5005);
  assert_int_equal (udp_out_ok (h, T0 + NATSIM_SEC (1), ep (IN (2), 5005),
                                ep (REM_B, 1)),
                    5005);
  assert_int_equal (udp_out_ok (h, T0 + NATSIM_SEC (2), ep (IN (3), 5005),
                                ep (REM_C, 1)),
                    5005);
  assert_int_equal (natsim_nat_live_bindings (h->nat), 3);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), 1);
  assert_int_equal (natsim_nat_ports_in_use_total (h->nat), 1);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_PORT_ACQUIRED), 1);
  d = udp_out_ok (h, T0 + NATSIM_SEC (3), ep (IN (4), 4000), ep (REM_A, 1));
  assert_int_not_equal (d, 5005);
  assert_int_equal (natsim_nat_live_bindings (h->nat), 4);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), 2);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_PORT_ACQUIRED), 2);

  /* Bindings die one by one; 5005 is released with its last binding. */
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (30));
  assert_int_equal (natsim_nat_live_bindings (h->nat), 3);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), 2);
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (31));
  assert_int_equal (natsim_nat_live_bindings (h->nat), 2);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_PORT_RELEASED), 0);
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (32));
  assert_int_equal (natsim_nat_live_bindings (h->nat), 1);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), 1);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_PORT_RELEASED), 1);
  ev = last_event (h, NATSIM_NAT_EV_PORT_RELEASED);
  assert_int_equal (ev->ext_port, 5005);
  assert_int_equal (ev->ext_addr, PUB1);
  assert_int_equal (ev->time, T0 + NATSIM_SEC (32));
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (33));
  assert_int_equal (natsim_nat_live_bindings (h->nat), 0);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), 0);
  assert_int_equal (natsim_nat_ports_in_use_total (h->nat), 0);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_PORT_RELEASED), 2);
  assert_int_equal (last_event (h, NATSIM_NAT_EV_PORT_RELEASED)->ext_port, d);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_BINDING_EXPIRED), 4);
  harness_free (h);

  /* Per address: a pool of two, paired; the gauge of each address counts
   * the ports its bindings hold. */
  cfg = base_config ();
  config_set_pool (&cfg, 2);
  cfg.port_lo = 5000;
  cfg.port_hi = 5099;
  h = harness_new (&cfg, 0);
  {
    guint per_addr[2] = { 0, 0 };

    for (guint i = 1; i <= 16; i++)
      {
        udp_out_ok (h, T0, ep (IN (i), 4000), ep (REM_A, 3478));
        ev = last_event (h, NATSIM_NAT_EV_BINDING_CREATED);
        assert_true (ev->addr_index < 2);
        per_addr[ev->addr_index]++;
      }
    assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), per_addr[0]);
    assert_int_equal (natsim_nat_ports_in_use (h->nat, 1), per_addr[1]);
    assert_int_equal (natsim_nat_ports_in_use_total (h->nat), 16);
    assert_int_equal (count_events (h, NATSIM_NAT_EV_PORT_ACQUIRED), 16);
  }
  check_event_addr_index (h);
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (1000));
  assert_int_equal (count_events (h, NATSIM_NAT_EV_PORT_RELEASED), 16);
  assert_int_equal (natsim_nat_ports_in_use_total (h->nat), 0);
  harness_free (h);
}

/* ------------------------------------------------------------------ */
/* Determinism (RFC 4787 REQ-11)                                        */

/* A mixed workload from its own rng (seed 7): UDP, TCP and ICMP, both
 * directions, 20 hosts, a small port range so that allocation fails,
 * random allocation, Linux search, arbitrary pooling, hold, quarantine. */
static GArray *
run_workload (unsigned long nat_seed, GArray *verdicts)
{
  static const uint8_t flags[] = {
    NATSIM_TCP_SYN, NATSIM_TCP_SYN | NATSIM_TCP_ACK, NATSIM_TCP_ACK,
    NATSIM_TCP_FIN | NATSIM_TCP_ACK, NATSIM_TCP_RST,
  };
  NatsimNatConfig cfg = base_config ();
  gsl_rng        *traffic = gsl_rng_alloc (gsl_rng_mt19937);
  Harness        *h;
  GArray         *events;
  NatsimTime      t = T0;

  config_set_pool (&cfg, 2);
  cfg.port_lo = 5000;
  cfg.port_hi = 5003;
  cfg.allocation = NATSIM_ALLOC_RANDOM;
  cfg.port_search = NATSIM_SEARCH_LINUX;
  cfg.pooling = NATSIM_POOLING_ARBITRARY;
  cfg.unsolicited_hold = true;
  cfg.quarantine = NATSIM_SEC (5);
  cfg.udp_timeout = NATSIM_SEC (20);
  cfg.tcp_transitory_timeout = NATSIM_SEC (30);
  cfg.tcp_established_timeout = NATSIM_SEC (60);
  cfg.tombstone = NATSIM_SEC (120);
  h = harness_new (&cfg, nat_seed);
  gsl_rng_set (traffic, 7);
  for (guint i = 0; i < 3000; i++)
    {
      double   u = gsl_rng_uniform (traffic);
      uint8_t  proto = u < 0.7 ? NATSIM_PROTO_UDP
                       : u < 0.9 ? NATSIM_PROTO_TCP : NATSIM_PROTO_ICMP;
      Ep       in = ep (IN (1 + gsl_rng_uniform_int (traffic, 20)),
                        (uint16_t) (40000 + gsl_rng_uniform_int (traffic, 4)));
      Ep       rem = ep (IP4 (198, 51, 100,
                              1 + gsl_rng_uniform_int (traffic, 4)),
                         (uint16_t) (5060 + gsl_rng_uniform_int (traffic, 2)));
      bool     outbound = gsl_rng_uniform (traffic) < 0.6;
      uint8_t  fl = 0;
      NatsimVerdict v;

      t += (NatsimTime) gsl_rng_uniform_int (traffic, NATSIM_MSEC (200));
      if (proto == NATSIM_PROTO_TCP)
        fl = flags[gsl_rng_uniform_int (traffic, G_N_ELEMENTS (flags))];
      if (proto == NATSIM_PROTO_ICMP)
        rem.port = in.port;
      v = outbound ? send_pkt (h, t, proto, NATSIM_DIR_OUT, in, rem, fl, NULL)
                   : send_pkt (h, t, proto, NATSIM_DIR_IN, rem, in, fl, NULL);
      g_array_append_val (verdicts, v);
    }
  natsim_nat_advance (h->nat, t + NATSIM_SEC (10000));
  /* Everything ended: gauges at zero, acquisitions balanced. */
  assert_int_equal (natsim_nat_live_bindings (h->nat), 0);
  assert_int_equal (natsim_nat_ports_in_use_total (h->nat), 0);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_PORT_ACQUIRED),
                    count_events (h, NATSIM_NAT_EV_PORT_RELEASED));
  assert_int_equal (count_events (h, NATSIM_NAT_EV_BINDING_CREATED),
                    count_events (h, NATSIM_NAT_EV_BINDING_EXPIRED));
  events = h->events;
  h->events = g_array_new (FALSE, FALSE, sizeof (NatsimNatEvent));
  harness_free (h);
  gsl_rng_free (traffic);
  return events;
}

static bool
events_equal (const NatsimNatEvent *a, const NatsimNatEvent *b)
{
  return a->type == b->type && a->time == b->time && a->proto == b->proto
         && a->cls == b->cls
         && a->in_addr == b->in_addr && a->rem_addr == b->rem_addr
         && a->ext_addr == b->ext_addr && a->in_port == b->in_port
         && a->rem_port == b->rem_port && a->ext_port == b->ext_port
         && a->addr_index == b->addr_index && a->rebinding == b->rebinding
         && a->inbound == b->inbound;
}

static void
test_determinism (void **state)
{
  GArray *va = g_array_new (FALSE, FALSE, sizeof (NatsimVerdict));
  GArray *vb = g_array_new (FALSE, FALSE, sizeof (NatsimVerdict));
  GArray *a = run_workload (99, va);
  GArray *b = run_workload (99, vb);
  guint   kinds[8] = { 0 };

  assert_int_equal (a->len, b->len);
  for (guint i = 0; i < a->len; i++)
    {
      const NatsimNatEvent *ea = &g_array_index (a, NatsimNatEvent, i);

      assert_true (events_equal (ea, &g_array_index (b, NatsimNatEvent, i)));
      assert_true ((guint) ea->type < G_N_ELEMENTS (kinds));
      kinds[ea->type]++;
    }
  assert_memory_equal (va->data, vb->data, va->len * sizeof (NatsimVerdict));
  /* The workload exercised the interesting paths. */
  assert_true (kinds[NATSIM_NAT_EV_BINDING_CREATED] > 0);
  assert_true (kinds[NATSIM_NAT_EV_BINDING_EXPIRED] > 0);
  assert_true (kinds[NATSIM_NAT_EV_ALLOC_FAILED] > 0);
  assert_true (kinds[NATSIM_NAT_EV_BINDING_LOST] > 0);
  assert_true (kinds[NATSIM_NAT_EV_FILTERED] > 0);
  g_array_free (a, TRUE);
  g_array_free (b, TRUE);
  g_array_free (va, TRUE);
  g_array_free (vb, TRUE);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_mapping_eim),
    cmocka_unit_test (test_mapping_adm),
    cmocka_unit_test (test_mapping_apdm),
    cmocka_unit_test (test_mapping_apdm_lands_on_same_port),
    cmocka_unit_test (test_mapping_reuse_needs_free_port),
    cmocka_unit_test (test_filtering_eif),
    cmocka_unit_test (test_filtering_adf),
    cmocka_unit_test (test_filtering_apdf),
    cmocka_unit_test (test_port_reuse_exclusive),
    cmocka_unit_test (test_port_reuse_per_destination),
    cmocka_unit_test (test_alloc_preserve),
    cmocka_unit_test (test_alloc_sequential),
    cmocka_unit_test (test_alloc_random),
    cmocka_unit_test (test_parity),
    cmocka_unit_test (test_linux_search_large_range_can_fail),
    cmocka_unit_test (test_linux_search_small_range_complete),
    cmocka_unit_test (test_linux_search_reuses_own_port),
    cmocka_unit_test (test_linux_search_preserve_only_when_asked),
    cmocka_unit_test (test_pooling_paired),
    cmocka_unit_test (test_pooling_arbitrary),
    cmocka_unit_test (test_pooling_no_fallback),
    cmocka_unit_test (test_udp_timeout_exact),
    cmocka_unit_test (test_udp_stream_rule),
    cmocka_unit_test (test_udp_stream_rule_short_timeout),
    cmocka_unit_test (test_crowded_endpoint),
    cmocka_unit_test (test_equal_expiry_order_after_failures),
    cmocka_unit_test (test_bookkeeping_random),
    cmocka_unit_test (test_tcp_timers),
    cmocka_unit_test (test_icmp_timeout),
    cmocka_unit_test (test_refresh_both_vs_outbound),
    cmocka_unit_test (test_quarantine),
    cmocka_unit_test (test_ports_per_subscriber_one_block),
    cmocka_unit_test (test_ports_per_subscriber_two_blocks),
    cmocka_unit_test (test_ports_per_subscriber_block_returned),
    cmocka_unit_test (test_exhaustion_never_evicts),
    cmocka_unit_test (test_classification),
    cmocka_unit_test (test_binding_lost_after_alloc_failure),
    cmocka_unit_test (test_unsolicited_hold),
    cmocka_unit_test (test_gauges),
    cmocka_unit_test (test_determinism),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
