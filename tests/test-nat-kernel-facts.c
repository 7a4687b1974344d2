/* docs/reference.md section 3 (Linux netfilter) reproduced on the NAT engine.
 *
 * The facts were measured on a Linux 6.x kernel in network namespaces: SNAT
 * to one address with a port range of 10, and in places udp timeout 5 s or
 * TCP established timeout 5 s.  The engine runs with the values of the
 * "linux" preset (EIM, APDF, per-destination reuse, preserve, Linux port
 * search, paired pooling, no parity, unsolicited hold, UDP 30 s / stream
 * 120 s, refresh both), changed only where the fact says so.
 */
#include "nat-harness.h"

#define PUBLIC    IP4 (203, 0, 113, 1)
#define CLIENT    IP4 (10, 0, 0, 2)
#define SERVER    IP4 (198, 51, 100, 10)
#define SIP_PORT  5060
#define PORT_LO   20000
#define PORT_HI   20009 /* a range of 10 ports */

typedef Harness Kernel;

/* The linux preset with the namespace test's port range of 10. */
static NatsimNatConfig
linux_config (void)
{
  NatsimNatConfig cfg;

  memset (&cfg, 0, sizeof cfg);
  cfg.addresses = g_new (uint32_t, 1);
  cfg.addresses[0] = PUBLIC;
  cfg.n_addresses = 1;
  cfg.port_lo = PORT_LO;
  cfg.port_hi = PORT_HI;
  cfg.mapping = NATSIM_MAPPING_EIM;
  cfg.filtering = NATSIM_FILTER_APDF;
  cfg.port_reuse = NATSIM_REUSE_PER_DESTINATION;
  cfg.allocation = NATSIM_ALLOC_PRESERVE;
  cfg.port_search = NATSIM_SEARCH_LINUX;
  cfg.pooling = NATSIM_POOLING_PAIRED;
  cfg.parity = false;
  cfg.unsolicited_hold = true;
  cfg.udp_timeout = NATSIM_SEC (30);
  cfg.udp_stream_timeout = NATSIM_SEC (120);
  cfg.tcp_established_timeout = NATSIM_SEC (432000);
  cfg.tcp_transitory_timeout = NATSIM_SEC (120);
  cfg.icmp_timeout = NATSIM_SEC (30);
  cfg.refresh = NATSIM_REFRESH_BOTH;
  cfg.quarantine = 0;
  cfg.ports_per_subscriber = 0;
  cfg.blocks_per_subscriber = 0;
  cfg.sip_alg = false;
  cfg.tombstone = NATSIM_SEC (600);
  return cfg;
}

/* Takes over @cfg; its addresses are freed with the kernel.  The rng is
 * always passed, seeded with 20240601; packets are 100 bytes. */
static Kernel *
kernel_new (NatsimNatConfig *cfg)
{
  return harness_new_full (cfg, true, 20240601, 100);
}

static void
kernel_free (Kernel *k)
{
  harness_free (k);
}

/* 30 single-packet UDP flows from distinct client ports, 10 ms apart;
 * flow i goes to server(i).  Returns the number forwarded; ports used are
 * added to @ports (a set), failures counted in *ret_failed. */
typedef Ep (*ServerOf) (guint i);

static Ep
one_server (guint i)
{
  return ep (SERVER, SIP_PORT);
}

static Ep
three_server_ports (guint i)
{
  return ep (SERVER, (uint16_t) (SIP_PORT + i % 3));
}

static Ep
three_server_addresses (guint i)
{
  return ep (SERVER + i % 3, SIP_PORT);
}

static void
run_30_flows (Kernel *k, ServerOf server, guint *ret_passed,
              guint *ret_failed, GHashTable *ports, bool first_ten_pass)
{
  guint passed = 0, failed = 0;

  for (guint i = 0; i < 30; i++)
    {
      NatsimNatResult res;
      NatsimVerdict   v;

      v = udp_out (k, T0 + i * NATSIM_MSEC (10),
                   ep (CLIENT, (uint16_t) (40000 + i)), server (i), &res);
      if (v == NATSIM_VERDICT_FORWARDED)
        {
          passed++;
          assert_int_equal (res.ext_addr, PUBLIC);
          assert_in_range (res.ext_port, PORT_LO, PORT_HI);
          g_hash_table_add (ports, GUINT_TO_POINTER (res.ext_port));
          if (first_ten_pass)
            assert_true (i < 10);
        }
      else
        {
          assert_int_equal (v, NATSIM_VERDICT_ALLOC_FAILED);
          failed++;
          if (first_ten_pass)
            assert_true (i >= 10);
        }
    }
  *ret_passed = passed;
  *ret_failed = failed;
}

/* 30 flows to one server ip:port: 10 pass, 20 dropped (insert_failed 20). */
static void
test_30_flows_one_server (void **state)
{
  NatsimNatConfig cfg = linux_config ();
  Kernel         *k = kernel_new (&cfg);
  GHashTable     *ports = g_hash_table_new (NULL, NULL);
  guint           passed, failed;

  run_30_flows (k, one_server, &passed, &failed, ports, true);
  assert_int_equal (passed, 10);
  assert_int_equal (failed, 20);
  assert_int_equal (count_events (k, NATSIM_NAT_EV_ALLOC_FAILED), 20);
  assert_int_equal (count_events (k, NATSIM_NAT_EV_BINDING_CREATED), 10);
  assert_int_equal (g_hash_table_size (ports), 10);
  assert_int_equal (natsim_nat_live_bindings (k->nat), 10);
  assert_int_equal (natsim_nat_ports_in_use (k->nat, 0), 10);
  g_hash_table_unref (ports);
  kernel_free (k);
}

/* The same 30 flows over 3 server ports: all pass on the same 10 ports. */
static void
test_30_flows_three_server_ports (void **state)
{
  NatsimNatConfig cfg = linux_config ();
  Kernel         *k = kernel_new (&cfg);
  GHashTable     *ports = g_hash_table_new (NULL, NULL);
  guint           passed, failed;

  run_30_flows (k, three_server_ports, &passed, &failed, ports, false);
  assert_int_equal (passed, 30);
  assert_int_equal (failed, 0);
  assert_int_equal (count_events (k, NATSIM_NAT_EV_ALLOC_FAILED), 0);
  assert_true (g_hash_table_size (ports) <= 10);
  assert_int_equal (natsim_nat_live_bindings (k->nat), 30);
  assert_int_equal (natsim_nat_ports_in_use (k->nat, 0), 10);
  g_hash_table_unref (ports);
  kernel_free (k);
}

/* ... and over 3 server addresses: the same. */
static void
test_30_flows_three_server_addresses (void **state)
{
  NatsimNatConfig cfg = linux_config ();
  Kernel         *k = kernel_new (&cfg);
  GHashTable     *ports = g_hash_table_new (NULL, NULL);
  guint           passed, failed;

  run_30_flows (k, three_server_addresses, &passed, &failed, ports, false);
  assert_int_equal (passed, 30);
  assert_int_equal (failed, 0);
  assert_int_equal (count_events (k, NATSIM_NAT_EV_ALLOC_FAILED), 0);
  assert_true (g_hash_table_size (ports) <= 10);
  assert_int_equal (natsim_nat_live_bindings (k->nat), 30);
  assert_int_equal (natsim_nat_ports_in_use (k->nat, 0), 10);
  g_hash_table_unref (ports);
  kernel_free (k);
}

/* A datagram refused for lack of a port leaves no state: once the 10
 * bindings expire, 10 of the 20 refused flows pass on retry, the others
 * are refused again, and nothing else ever expired. */
static void
test_refused_datagram_leaves_no_state (void **state)
{
  NatsimNatConfig cfg = linux_config ();
  Kernel         *k = kernel_new (&cfg);
  GHashTable     *ports = g_hash_table_new (NULL, NULL);
  guint           passed, failed, retried = 0;

  run_30_flows (k, one_server, &passed, &failed, ports, true);
  assert_int_equal (natsim_nat_live_bindings (k->nat), 10);
  natsim_nat_advance (k->nat, T0 + NATSIM_SEC (31));
  assert_int_equal (count_events (k, NATSIM_NAT_EV_BINDING_EXPIRED), 10);
  assert_int_equal (natsim_nat_live_bindings (k->nat), 0);
  assert_int_equal (natsim_nat_ports_in_use (k->nat, 0), 0);
  for (guint i = 10; i < 30; i++)
    if (udp_out (k, T0 + NATSIM_SEC (32), ep (CLIENT, (uint16_t) (40000 + i)),
                 one_server (i), NULL)
        == NATSIM_VERDICT_FORWARDED)
      retried++;
  assert_int_equal (retried, 10);
  assert_int_equal (count_events (k, NATSIM_NAT_EV_ALLOC_FAILED), 30);
  g_hash_table_unref (ports);
  kernel_free (k);
}

/* udp timeout 5 s: inbound 4 s after the last packet is delivered, 7 s
 * after it is lost. */
static void
test_udp_timeout_5s (void **state)
{
  Ep              c = ep (CLIENT, 40000), s = ep (SERVER, SIP_PORT);
  NatsimNatConfig cfg;
  Kernel         *k;

  cfg = linux_config ();
  cfg.udp_timeout = NATSIM_SEC (5);
  k = kernel_new (&cfg);
  assert_int_equal (udp_out (k, T0, c, s, NULL), NATSIM_VERDICT_FORWARDED);
  assert_int_equal (udp_in (k, T0 + NATSIM_SEC (4), s, c, NULL),
                    NATSIM_VERDICT_FORWARDED);
  /* That reply was the last packet. */
  assert_int_equal (udp_in (k, T0 + NATSIM_SEC (4 + 7), s, c, NULL),
                    NATSIM_VERDICT_BINDING_LOST);
  kernel_free (k);

  cfg = linux_config ();
  cfg.udp_timeout = NATSIM_SEC (5);
  k = kernel_new (&cfg);
  udp_out (k, T0, c, s, NULL);
  assert_int_equal (udp_in (k, T0 + NATSIM_SEC (7), s, c, NULL),
                    NATSIM_VERDICT_BINDING_LOST);
  assert_int_equal (count_events (k, NATSIM_NAT_EV_BINDING_LOST), 1);
  kernel_free (k);
}

/* Outbound keepalives every 3 s keep the mapping (one port all along). */
static void
test_outbound_keepalive_keeps_mapping (void **state)
{
  Ep              c = ep (CLIENT, 40000), s = ep (SERVER, SIP_PORT);
  NatsimNatConfig cfg = linux_config ();
  NatsimNatResult res;
  Kernel         *k;
  uint16_t        port = 0;

  cfg.udp_timeout = NATSIM_SEC (5);
  k = kernel_new (&cfg);
  for (guint i = 0; i <= 20; i++)
    {
      assert_int_equal (udp_out (k, T0 + NATSIM_SEC (3 * i), c, s, &res),
                        NATSIM_VERDICT_FORWARDED);
      assert_int_equal (res.new_binding, i == 0);
      assert_false (res.rebinding);
      if (i == 0)
        port = res.ext_port;
      assert_int_equal (res.ext_port, port);
    }
  /* The last keepalive was at 60 s. */
  assert_int_equal (udp_in (k, T0 + NATSIM_SEC (62), s, c, NULL),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (count_events (k, NATSIM_NAT_EV_BINDING_EXPIRED), 0);
  assert_int_equal (count_events (k, NATSIM_NAT_EV_BINDING_CREATED), 1);
  kernel_free (k);
}

/* Inbound-only traffic every 3 s also keeps it (both directions refresh);
 * also with the stream timeout at 5 s, so that each inbound refresh is what
 * keeps the mapping. */
static void
test_inbound_only_keeps_mapping (void **state)
{
  Ep c = ep (CLIENT, 40000), s = ep (SERVER, SIP_PORT);

  for (guint variant = 0; variant < 2; variant++)
    {
      NatsimNatConfig cfg = linux_config ();
      Kernel         *k;

      cfg.udp_timeout = NATSIM_SEC (5);
      if (variant == 1)
        cfg.udp_stream_timeout = NATSIM_SEC (5);
      k = kernel_new (&cfg);
      assert_int_equal (udp_out (k, T0, c, s, NULL),
                        NATSIM_VERDICT_FORWARDED);
      for (guint i = 1; i <= 20; i++)
        assert_int_equal (udp_in (k, T0 + NATSIM_SEC (3 * i), s, c, NULL),
                          NATSIM_VERDICT_FORWARDED);
      assert_int_equal (count_events (k, NATSIM_NAT_EV_BINDING_EXPIRED), 0);
      assert_true (natsim_nat_binding_alive (k->nat, NATSIM_PROTO_UDP, c.addr,
                                             c.port, s.addr, s.port));
      kernel_free (k);
    }
}

/* Address-and-port-dependent filtering: a probe from another port or
 * another address of the server is dropped and creates nothing. */
static void
test_filtering_apdf (void **state)
{
  Ep              c = ep (CLIENT, 40000), s = ep (SERVER, SIP_PORT);
  NatsimNatConfig cfg = linux_config ();
  Kernel         *k;

  cfg.udp_timeout = NATSIM_SEC (5);
  k = kernel_new (&cfg);
  udp_out (k, T0, c, s, NULL);
  assert_int_equal (udp_in (k, T0 + NATSIM_MSEC (500),
                            ep (SERVER, SIP_PORT + 1), c, NULL),
                    NATSIM_VERDICT_FILTERED);
  assert_int_equal (udp_in (k, T0 + NATSIM_MSEC (600),
                            ep (SERVER + 1, SIP_PORT), c, NULL),
                    NATSIM_VERDICT_FILTERED);
  assert_int_equal (udp_in (k, T0 + NATSIM_MSEC (700), s, c, NULL),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (count_events (k, NATSIM_NAT_EV_FILTERED), 2);
  assert_int_equal (natsim_nat_live_bindings (k->nat), 1);
  kernel_free (k);
}

/* TCP with established timeout 5 s: after 7 s idle the server's send is a
 * binding loss; the client's next send makes a new binding (a rebinding;
 * the server then resets it). */
static void
test_tcp_established_timeout (void **state)
{
  Ep              c = ep (CLIENT, 40000), s = ep (SERVER, 8934);
  NatsimNatConfig cfg = linux_config ();
  NatsimNatResult res;
  Kernel         *k;
  const NatsimTime last = T0 + NATSIM_SEC (1) + NATSIM_MSEC (50);

  cfg.tcp_established_timeout = NATSIM_SEC (5);
  k = kernel_new (&cfg);
  assert_int_equal (send_pkt (k, T0, NATSIM_PROTO_TCP, NATSIM_DIR_OUT, c, s,
                              NATSIM_TCP_SYN, NULL),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (send_pkt (k, T0 + NATSIM_MSEC (50), NATSIM_PROTO_TCP,
                              NATSIM_DIR_IN, s, c,
                              NATSIM_TCP_SYN | NATSIM_TCP_ACK, NULL),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (send_pkt (k, T0 + NATSIM_MSEC (100), NATSIM_PROTO_TCP,
                              NATSIM_DIR_OUT, c, s, NATSIM_TCP_ACK, NULL),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (send_pkt (k, T0 + NATSIM_SEC (1), NATSIM_PROTO_TCP,
                              NATSIM_DIR_OUT, c, s, NATSIM_TCP_ACK, NULL),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (send_pkt (k, last, NATSIM_PROTO_TCP, NATSIM_DIR_IN, s, c,
                              NATSIM_TCP_ACK, NULL),
                    NATSIM_VERDICT_FORWARDED);
  /* Established: 5 s after the last packet. */
  natsim_nat_advance (k->nat, last + NATSIM_SEC (5) - 1);
  assert_true (natsim_nat_binding_alive (k->nat, NATSIM_PROTO_TCP, c.addr,
                                         c.port, s.addr, s.port));
  assert_int_equal (send_pkt (k, last + NATSIM_SEC (7), NATSIM_PROTO_TCP,
                              NATSIM_DIR_IN, s, c, NATSIM_TCP_ACK, NULL),
                    NATSIM_VERDICT_BINDING_LOST);
  assert_int_equal (send_pkt (k, last + NATSIM_SEC (7) + NATSIM_MSEC (10),
                              NATSIM_PROTO_TCP, NATSIM_DIR_OUT, c, s,
                              NATSIM_TCP_ACK, &res),
                    NATSIM_VERDICT_FORWARDED);
  assert_true (res.new_binding);
  assert_true (res.rebinding);
  kernel_free (k);
}

/* The first reply of a connection still gets the UDP timeout; only a
 * refresh after a reply was seen, the connection being more than 2 s old,
 * gets the stream timeout. */
static void
test_first_reply_gets_udp_timeout (void **state)
{
  Ep              c = ep (CLIENT, 40000), s = ep (SERVER, SIP_PORT);
  NatsimNatConfig cfg;
  Kernel         *k;

  cfg = linux_config ();
  cfg.udp_timeout = NATSIM_SEC (5);
  k = kernel_new (&cfg);
  udp_out (k, T0, c, s, NULL);
  /* First reply at 3 s (older than 2 s): expiry 3 + 5 s, not 3 + 120 s. */
  assert_int_equal (udp_in (k, T0 + NATSIM_SEC (3), s, c, NULL),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (udp_in (k, T0 + NATSIM_MSEC (8500), s, c, NULL),
                    NATSIM_VERDICT_BINDING_LOST);
  kernel_free (k);

  cfg = linux_config ();
  cfg.udp_timeout = NATSIM_SEC (5);
  k = kernel_new (&cfg);
  udp_out (k, T0, c, s, NULL);
  udp_in (k, T0 + NATSIM_SEC (3), s, c, NULL);
  /* The second reply gets the stream timeout (120 s). */
  assert_int_equal (udp_in (k, T0 + NATSIM_SEC (4), s, c, NULL),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (udp_in (k, T0 + NATSIM_SEC (100), s, c, NULL),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (count_events (k, NATSIM_NAT_EV_BINDING_EXPIRED), 0);
  kernel_free (k);
}

/* A new mapping of an inside endpoint takes the public port of that
 * endpoint's other live mappings when it is free toward the new remote. */
static void
test_new_mapping_takes_own_port (void **state)
{
  Ep              c = ep (CLIENT, 40000);
  NatsimNatConfig cfg = linux_config ();
  NatsimNatResult res;
  Kernel         *k = kernel_new (&cfg);
  uint16_t        port;

  assert_int_equal (udp_out (k, T0, c, ep (SERVER, SIP_PORT), &res),
                    NATSIM_VERDICT_FORWARDED);
  port = res.ext_port;
  for (guint i = 1; i <= 5; i++)
    {
      assert_int_equal (udp_out (k, T0 + i, c, ep (SERVER + i, SIP_PORT),
                                 &res),
                        NATSIM_VERDICT_FORWARDED);
      assert_int_equal (res.ext_port, port);
    }
  assert_int_equal (natsim_nat_ports_in_use (k->nat, 0), 1);
  kernel_free (k);
}

/* Unsolicited hold with a small range: ten flows to one server fill the 10
 * ports; the mappings expire (udp 5 s) while the server keeps sending to
 * each of them.  Each such datagram holds its public port toward the
 * server, so the flows' own new datagrams are refused, until the server
 * stops and the held entries expire 5 s later. */
static void
test_unsolicited_hold_refuses_own_flow (void **state)
{
  Ep              s = ep (SERVER, SIP_PORT);
  NatsimNatConfig cfg = linux_config ();
  Kernel         *k;
  guint           n;

  cfg.udp_timeout = NATSIM_SEC (5);
  k = kernel_new (&cfg);
  for (guint i = 0; i < 10; i++)
    assert_int_equal (udp_out (k, T0, ep (CLIENT, (uint16_t) (40000 + i)), s,
                               NULL),
                      NATSIM_VERDICT_FORWARDED);
  /* Mappings died at T0+5 s.  The server sends at 6 s and 10 s. */
  for (guint round = 0; round < 2; round++)
    {
      NatsimTime t = T0 + NATSIM_SEC (6 + 4 * round);

      for (guint i = 0; i < 10; i++)
        assert_int_equal (udp_in (k, t, s, ep (CLIENT, (uint16_t) (40000 + i)),
                                  NULL),
                          NATSIM_VERDICT_BINDING_LOST);
      for (guint i = 0; i < 10; i++)
        assert_int_equal (udp_out (k, t + NATSIM_SEC (1),
                                   ep (CLIENT, (uint16_t) (40000 + i)), s,
                                   NULL),
                          NATSIM_VERDICT_ALLOC_FAILED);
    }
  assert_int_equal (count_events (k, NATSIM_NAT_EV_ALLOC_FAILED), 20);
  /* The last holds were made at T0+10 s and end at T0+15 s. */
  n = 0;
  for (guint i = 0; i < 10; i++)
    {
      NatsimNatResult res;

      if (udp_out (k, T0 + NATSIM_SEC (16),
                   ep (CLIENT, (uint16_t) (40000 + i)), s, &res)
          == NATSIM_VERDICT_FORWARDED)
        {
          assert_true (res.rebinding);
          n++;
        }
    }
  assert_int_equal (n, 10);
  kernel_free (k);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_30_flows_one_server),
    cmocka_unit_test (test_30_flows_three_server_ports),
    cmocka_unit_test (test_30_flows_three_server_addresses),
    cmocka_unit_test (test_refused_datagram_leaves_no_state),
    cmocka_unit_test (test_udp_timeout_5s),
    cmocka_unit_test (test_outbound_keepalive_keeps_mapping),
    cmocka_unit_test (test_inbound_only_keeps_mapping),
    cmocka_unit_test (test_filtering_apdf),
    cmocka_unit_test (test_tcp_established_timeout),
    cmocka_unit_test (test_first_reply_gets_udp_timeout),
    cmocka_unit_test (test_new_mapping_takes_own_port),
    cmocka_unit_test (test_unsolicited_hold_refuses_own_flow),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
