/* NAT engine: hairpinning (RFC 4787 REQ-9, RFC 5382 REQ-8), inbound
 * packets addressed to a public endpoint, and static port forwards
 * (docs/nat-model.md "Hairpinning" and "Static port forwards"). */
#include "nat-harness.h"

#define PUB IP4 (203, 0, 113, 1)

static NatsimVerdict
pub_in (Harness *h, NatsimTime t, uint8_t proto, Ep rem, Ep pub, NatsimNatResult *ret)
{
  NatsimPacket pkt;
  NatsimNatResult res;
  NatsimVerdict v;

  memset (&pkt, 0, sizeof pkt);
  memset (&res, 0, sizeof res);
  pkt.time = t;
  pkt.src_addr = rem.addr, pkt.src_port = rem.port;
  pkt.dst_addr = pub.addr, pkt.dst_port = pub.port;
  pkt.proto = proto;
  pkt.dir = NATSIM_DIR_IN;
  pkt.length = 100;
  v = natsim_nat_process_public (h->nat, &pkt, &res);
  assert_int_equal (v, res.verdict);
  if (ret != NULL)
    *ret = res;
  return v;
}

static Harness *
make (NatsimFiltering filtering, bool hairpinning)
{
  NatsimNatConfig cfg = base_config ();

  cfg.filtering = filtering;
  cfg.hairpinning = hairpinning;
  return harness_new_full (&cfg, false, 0, 100);
}

/* Without hairpinning a packet to the NAT's own public endpoint is not
 * translated, creates nothing and reaches nobody. */
static void
test_hairpin_off (void **state)
{
  Harness *h = make (NATSIM_FILTER_EIF, false);
  NatsimNatResult r;

  assert_int_equal (udp_out (h, T0, ep (IN (1), 1000), ep (REM_A, 80), &r), NATSIM_VERDICT_FORWARDED);
  assert_int_equal (r.ext_port, 5000);
  assert_int_equal (udp_out (h, T0 + 1, ep (IN (2), 2000), ep (PUB, 5000), &r),
                    NATSIM_VERDICT_NOT_TRANSLATED);
  assert_false (r.hairpinned);
  assert_int_equal (natsim_nat_live_bindings (h->nat), 1);
  assert_true (natsim_nat_is_public (h->nat, PUB));
  assert_false (natsim_nat_is_public (h->nat, REM_A));
  harness_free (h);
}

/* With hairpinning and EIF the packet reaches the mapping's owner, coming
 * from the sender's external endpoint (REQ-9b). */
static void
test_hairpin_eif (void **state)
{
  Harness *h = make (NATSIM_FILTER_EIF, true);
  NatsimNatResult r;

  udp_out (h, T0, ep (IN (1), 1000), ep (REM_A, 80), NULL);
  assert_int_equal (udp_out (h, T0 + 1, ep (IN (2), 2000), ep (PUB, 5000), &r),
                    NATSIM_VERDICT_FORWARDED);
  assert_true (r.hairpinned);
  assert_int_equal (r.in_addr, IN (1));
  assert_int_equal (r.in_port, 1000);
  assert_int_equal (r.ext_addr, PUB);
  assert_int_equal (r.ext_port, 5001); /* IN(2)'s own mapping */
  /* Both legs made bindings: IN(2) toward PUB:5000, IN(1) toward PUB:5001. */
  assert_true (natsim_nat_binding_alive (h->nat, NATSIM_PROTO_UDP, IN (2), 2000, PUB, 5000));
  assert_true (natsim_nat_binding_alive (h->nat, NATSIM_PROTO_UDP, IN (1), 1000, PUB, 5001));
  /* The answer goes back the same way. */
  assert_int_equal (udp_out (h, T0 + 2, ep (IN (1), 1000), ep (PUB, 5001), &r),
                    NATSIM_VERDICT_FORWARDED);
  assert_true (r.hairpinned);
  assert_int_equal (r.in_addr, IN (2));
  assert_int_equal (r.in_port, 2000);
  assert_int_equal (r.ext_port, 5000);
  harness_free (h);
}

/* With address-and-port-dependent filtering, hairpinned packets are
 * filtered like any other until the receiver has sent to the sender's
 * external endpoint. */
static void
test_hairpin_apdf (void **state)
{
  Harness *h = make (NATSIM_FILTER_APDF, true);
  NatsimNatResult r;

  udp_out (h, T0, ep (IN (1), 1000), ep (REM_A, 80), NULL);
  udp_out (h, T0, ep (IN (2), 2000), ep (REM_A, 80), NULL);
  assert_int_equal (udp_out (h, T0 + 1, ep (IN (2), 2000), ep (PUB, 5000), &r),
                    NATSIM_VERDICT_FILTERED);
  assert_true (r.hairpinned);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_FILTERED), 1);
  /* IN(1) opens its filter toward IN(2)'s external endpoint (and is
   * delivered: IN(2) has sent to PUB:5000 meanwhile). */
  assert_int_equal (udp_out (h, T0 + 2, ep (IN (1), 1000), ep (PUB, 5001), &r),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (r.in_addr, IN (2));
  assert_int_equal (udp_out (h, T0 + 3, ep (IN (2), 2000), ep (PUB, 5000), &r),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (r.in_addr, IN (1));
  /* A port nobody holds reaches nobody. */
  assert_int_equal (udp_out (h, T0 + 4, ep (IN (2), 2000), ep (PUB, 5007), &r),
                    NATSIM_VERDICT_UNSOLICITED);
  assert_true (r.hairpinned);
  harness_free (h);
}

/* Inbound packets in outside addressing: the exact binding, the filter of
 * the mapping that holds the endpoint, expiry, and nothing else. */
static void
test_public_inbound (void **state)
{
  Harness *h = make (NATSIM_FILTER_ADF, false);
  NatsimNatResult r;

  udp_out (h, T0, ep (IN (1), 1000), ep (REM_A, 80), NULL);
  assert_int_equal (pub_in (h, T0 + NATSIM_SEC (1), NATSIM_PROTO_UDP, ep (REM_A, 80), ep (PUB, 5000), &r),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (r.in_addr, IN (1));
  assert_int_equal (r.in_port, 1000);
  assert_false (r.new_binding);
  /* ADF: another port of the same address is accepted (a new binding),
   * another address is not. */
  assert_int_equal (pub_in (h, T0 + NATSIM_SEC (2), NATSIM_PROTO_UDP, ep (REM_A, 81), ep (PUB, 5000), &r),
                    NATSIM_VERDICT_FORWARDED);
  assert_true (r.new_binding);
  assert_int_equal (pub_in (h, T0 + NATSIM_SEC (2), NATSIM_PROTO_UDP, ep (REM_B, 80), ep (PUB, 5000), &r),
                    NATSIM_VERDICT_FILTERED);
  /* Not a public address, not a port in use, another protocol. */
  assert_int_equal (pub_in (h, T0 + NATSIM_SEC (3), NATSIM_PROTO_UDP, ep (REM_A, 80), ep (REM_B, 5000), NULL),
                    NATSIM_VERDICT_UNSOLICITED);
  assert_int_equal (pub_in (h, T0 + NATSIM_SEC (3), NATSIM_PROTO_UDP, ep (REM_A, 80), ep (PUB, 5004), NULL),
                    NATSIM_VERDICT_UNSOLICITED);
  assert_int_equal (pub_in (h, T0 + NATSIM_SEC (3), NATSIM_PROTO_TCP, ep (REM_A, 80), ep (PUB, 5000), NULL),
                    NATSIM_VERDICT_UNSOLICITED);
  /* After the timeout (30 s after the last packet that refreshed). */
  assert_int_equal (pub_in (h, T0 + NATSIM_SEC (40), NATSIM_PROTO_UDP, ep (REM_A, 80), ep (PUB, 5000), NULL),
                    NATSIM_VERDICT_BINDING_LOST);
  harness_free (h);
}

/* A packet addressed to an expired external endpoint must not reach the
 * inside endpoint through another of its mappings (as inside addressing
 * would under EIF). */
static void
test_public_no_detour (void **state)
{
  NatsimNatConfig cfg = base_config ();
  Harness *h;

  cfg.mapping = NATSIM_MAPPING_APDM;
  cfg.filtering = NATSIM_FILTER_EIF;
  cfg.port_reuse = NATSIM_REUSE_EXCLUSIVE;
  h = harness_new_full (&cfg, false, 0, 100);
  udp_out (h, T0, ep (IN (1), 1000), ep (REM_A, 80), NULL);                   /* 5000 */
  udp_out (h, T0 + NATSIM_SEC (20), ep (IN (1), 1000), ep (REM_B, 80), NULL); /* 5001 */
  /* At 35 s the first mapping is gone, the second lives. */
  assert_int_equal (pub_in (h, T0 + NATSIM_SEC (35), NATSIM_PROTO_UDP, ep (REM_B, 9), ep (PUB, 5000), NULL),
                    NATSIM_VERDICT_BINDING_LOST);
  assert_int_equal (pub_in (h, T0 + NATSIM_SEC (36), NATSIM_PROTO_UDP, ep (REM_B, 9), ep (PUB, 5001), NULL),
                    NATSIM_VERDICT_FORWARDED);
  harness_free (h);
}

static Harness *
make_forward (bool hairpinning)
{
  NatsimNatConfig cfg = base_config ();

  cfg.hairpinning = hairpinning;
  cfg.forwards = g_new0 (NatsimNatForward, 1);
  cfg.n_forwards = 1;
  cfg.forwards[0].proto = NATSIM_PROTO_TCP;
  cfg.forwards[0].ext_addr = PUB;
  cfg.forwards[0].ext_port = 5005;
  cfg.forwards[0].in_addr = IN (9);
  cfg.forwards[0].in_port = 5062;
  return harness_new_full (&cfg, false, 0, 100);
}

/* A static forward lets any remote open a connection to the inside
 * endpoint (whatever the filtering), in either addressing. */
static void
test_forward_inbound (void **state)
{
  Harness *h = make_forward (false);
  NatsimNatResult r;

  assert_int_equal (send_pkt (h, T0, NATSIM_PROTO_TCP, NATSIM_DIR_IN, ep (REM_A, 8934),
                              ep (IN (9), 5062), NATSIM_TCP_SYN, &r),
                    NATSIM_VERDICT_FORWARDED);
  assert_true (r.new_binding);
  assert_int_equal (r.ext_port, 5005);
  assert_int_equal (pub_in (h, T0 + 1, NATSIM_PROTO_TCP, ep (REM_B, 9000), ep (PUB, 5005), &r),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (r.in_addr, IN (9));
  assert_int_equal (r.in_port, 5062);
  assert_true (natsim_nat_binding_alive (h->nat, NATSIM_PROTO_TCP, IN (9), 5062, REM_B, 9000));
  /* The forward is TCP only. */
  assert_int_equal (pub_in (h, T0 + 2, NATSIM_PROTO_UDP, ep (REM_B, 9000), ep (PUB, 5005), NULL),
                    NATSIM_VERDICT_UNSOLICITED);
  harness_free (h);
}

/* The forward's inside endpoint leaves from the forward's port, and the
 * allocator never hands that port to anyone else. */
static void
test_forward_outbound_and_reserved (void **state)
{
  Harness *h = make_forward (false);
  NatsimNatResult r;
  guint ok = 0;

  tcp_out (h, T0, ep (IN (9), 5062), ep (REM_A, 5062), NATSIM_TCP_SYN);
  assert_true (natsim_nat_flow_state (h->nat, NATSIM_PROTO_TCP, IN (9), 5062, REM_A, 5062,
                                      &(NatsimFlowState) { 0 }));
  {
    NatsimFlowState st;
    natsim_nat_flow_state (h->nat, NATSIM_PROTO_TCP, IN (9), 5062, REM_A, 5062, &st);
    assert_int_equal (st.ext_port, 5005);
  }
  /* Ten ports, one reserved and in use by the forward: nine TCP flows of
   * other hosts toward one remote get the nine others, the tenth fails. */
  for (int i = 0; i < 10; i++)
    {
      NatsimVerdict v = send_pkt (h, T0 + 1, NATSIM_PROTO_TCP, NATSIM_DIR_OUT,
                                  ep (IN (20 + i), 40000), ep (REM_B, 443), NATSIM_TCP_SYN, &r);
      if (v == NATSIM_VERDICT_FORWARDED)
        {
          ok++;
          assert_int_not_equal (r.ext_port, 5005);
        }
    }
  assert_int_equal (ok, 9);
  harness_free (h);
}

/* With hairpinning an inside host reaches the forward through its public
 * endpoint; without, it does not. */
static void
test_forward_hairpin (void **state)
{
  Harness *h = make_forward (true);
  NatsimNatResult r;

  assert_int_equal (send_pkt (h, T0, NATSIM_PROTO_TCP, NATSIM_DIR_OUT, ep (IN (1), 40000),
                              ep (PUB, 5005), NATSIM_TCP_SYN, &r),
                    NATSIM_VERDICT_FORWARDED);
  assert_true (r.hairpinned);
  assert_int_equal (r.in_addr, IN (9));
  assert_int_equal (r.in_port, 5062);
  harness_free (h);
  h = make_forward (false);
  assert_int_equal (send_pkt (h, T0, NATSIM_PROTO_TCP, NATSIM_DIR_OUT, ep (IN (1), 40000),
                              ep (PUB, 5005), NATSIM_TCP_SYN, &r),
                    NATSIM_VERDICT_NOT_TRANSLATED);
  harness_free (h);
}

/* An inside endpoint with two mappings (APDM: one external port per
 * remote) and endpoint-independent filtering.  R2 sends to the endpoint's
 * mapping toward R1, while the endpoint's own flow toward R2 is alive on
 * another port: the packet is let in through that mapping, and the live
 * binding of the flow toward R2 stays as it was (it must not be taken
 * for a tombstone and dropped while it still holds its port). */
static void
test_public_inbound_flow_alive_elsewhere (void **state)
{
  NatsimNatConfig cfg = base_config ();
  Harness *h;
  Ep X = ep (IN (1), 1000), R1 = ep (REM_A, 80), R2 = ep (REM_B, 80);
  NatsimNatResult r1, r2, r;

  cfg.mapping = NATSIM_MAPPING_APDM;
  cfg.filtering = NATSIM_FILTER_EIF;
  h = harness_new_full (&cfg, false, 0, 100);
  assert_int_equal (udp_out (h, T0, X, R1, &r1), NATSIM_VERDICT_FORWARDED);
  assert_int_equal (udp_out (h, T0, X, R2, &r2), NATSIM_VERDICT_FORWARDED);
  assert_int_not_equal (r1.ext_port, r2.ext_port);
  assert_int_equal (pub_in (h, T0 + NATSIM_SEC (1), NATSIM_PROTO_UDP, R2,
                            ep (PUB, r1.ext_port), &r), NATSIM_VERDICT_FORWARDED);
  assert_int_equal (r.in_addr, X.addr);
  assert_int_equal (r.in_port, X.port);
  /* Both mappings are still there, each on its own port. */
  assert_int_equal (natsim_nat_live_bindings (h->nat), 2);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), 2);
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (2), X, R2, &r), NATSIM_VERDICT_FORWARDED);
  assert_int_equal (r.ext_port, r2.ext_port);
  assert_false (r.new_binding);
  /* Once both expire no port stays in use. */
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (100));
  assert_int_equal (natsim_nat_live_bindings (h->nat), 0);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), 0);
  harness_free (h);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_hairpin_off),
    cmocka_unit_test (test_hairpin_eif),
    cmocka_unit_test (test_hairpin_apdf),
    cmocka_unit_test (test_public_inbound),
    cmocka_unit_test (test_public_no_detour),
    cmocka_unit_test (test_public_inbound_flow_alive_elsewhere),
    cmocka_unit_test (test_forward_inbound),
    cmocka_unit_test (test_forward_outbound_and_reserved),
    cmocka_unit_test (test_forward_hairpin),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
