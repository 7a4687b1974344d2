/* natsim: the NAT engine's memory accounting (natsim_nat_memory) and the
 * bytes a live binding costs (docs/performance.md "Memory").
 *
 * The figures come from the engine's own accounting of what it allocated
 * (table slots, record chunks, queue chunks, port pages: capacity, not
 * element counts), never from timing or the process's RSS. */
#include "nat-harness.h"

/* Generic one-packet UDP flows held by a 2 h timeout, as the issue's
 * measurement: hosts 10.0.x.y, a new ephemeral source port per flow, the
 * remote round-robin over 250 addresses, one public address, the Linux
 * rules. */
#define N_LIVE   100000u
#define N_HOSTS  1000u
#define N_REMOTE 250u

/* Bounds per live binding, in bytes: the binding record with its indexes
 * (flows, inside endpoints, crowded ports), and everything the engine
 * allocated (timers and port state too).  The whole program's figure, the
 * slope of peak RSS, is bench/bench-memory.c's. */
#define BOUND_NAT_BINDING_AND_INDEXES 64u
#define BOUND_ENGINE                  128u

/* Port state: per address and protocol a table of 8064 page pointers
 * (64512 ports in pages of 8), and 80-byte pages. */
#define PORT_TABLE      (8064 * 8)
#define PORT_PAGE_BYTES (8 * 10)

static NatsimNatConfig
held_flows_config (void)
{
  NatsimNatConfig cfg = base_config ();

  cfg.port_lo = 1024;
  cfg.port_hi = 65535;
  cfg.allocation = NATSIM_ALLOC_PRESERVE;
  cfg.port_search = NATSIM_SEARCH_LINUX;
  cfg.pooling = NATSIM_POOLING_ARBITRARY;
  cfg.unsolicited_hold = true;
  cfg.udp_timeout = NATSIM_SEC (7200);
  cfg.udp_stream_timeout = NATSIM_SEC (7200);
  return cfg;
}

static void
one_packet_flows (Harness *h, uint32_t n, NatsimTime start)
{
  for (uint32_t i = 0; i < n; i++)
    {
      Ep in = ep (IP4 (10, 0, (i % N_HOSTS) >> 8, (i % N_HOSTS) & 0xff),
                  (uint16_t) (32768 + i / N_HOSTS));
      Ep rem = ep (IP4 (198, 51, 100, 1 + i % N_REMOTE), 5000);

      assert_int_equal (udp_out (h, start + (NatsimTime) i * NATSIM_MSEC (10), in, rem, NULL),
                        NATSIM_VERDICT_FORWARDED);
    }
}

static gsize
nat_binding_and_indexes (const NatsimNatMemory *m)
{
  return m->bindings + m->flow_index + m->inside_index + m->reply_index;
}

static void
test_bytes_per_live_binding (void **state)
{
  NatsimNatConfig cfg = held_flows_config ();
  Harness *h = harness_new_full (&cfg, true, 1, 100);
  NatsimNatMemory m;
  double nat_b, whole_b;

  (void) state;
  natsim_nat_set_observer (h->nat, NULL, NULL); /* no event log of 100k */
  one_packet_flows (h, N_LIVE, T0);
  natsim_nat_memory (h->nat, &m);
  assert_int_equal (m.live_bindings, N_LIVE);
  assert_int_equal (m.records, N_LIVE);
  nat_b = (double) nat_binding_and_indexes (&m) / (double) m.live_bindings;
  whole_b = (double) m.total / (double) m.live_bindings;
  print_message ("%u live bindings: records %.1f B, flow index %.1f B, inside index %.1f B, "
                 "reply index %.1f B, timers %.1f B, ports %.1f B, fixed %.1f B; binding + "
                 "indexes %.1f B, engine %.1f B per live binding\n", N_LIVE,
                 (double) m.bindings / N_LIVE, (double) m.flow_index / N_LIVE,
                 (double) m.inside_index / N_LIVE, (double) m.reply_index / N_LIVE,
                 (double) m.timers / N_LIVE,
                 (double) m.ports / N_LIVE, (double) m.fixed / N_LIVE, nat_b, whole_b);
  assert_true (nat_b <= BOUND_NAT_BINDING_AND_INDEXES);
  assert_true (whole_b <= BOUND_ENGINE);
  harness_free (h);
}

/* The accounting counts what is allocated: record chunks of 4096, table
 * slots at the capacity the load factor chose, port pages; and it keeps
 * counting capacity after the bindings are gone. */
static void
test_counts_capacity (void **state)
{
  NatsimNatConfig cfg = held_flows_config ();
  Harness *h;
  NatsimNatMemory m, after;

  (void) state;
  cfg.udp_timeout = NATSIM_SEC (120);
  cfg.udp_stream_timeout = NATSIM_SEC (120);
  cfg.tombstone = NATSIM_SEC (60);
  h = harness_new_full (&cfg, true, 1, 100);
  natsim_nat_set_observer (h->nat, NULL, NULL);
  one_packet_flows (h, 5000, T0);
  natsim_nat_memory (h->nat, &m);
  assert_int_equal (m.live_bindings, 5000);
  /* 5000 records: two chunks of 4096 records of 48 bytes. */
  assert_int_equal (m.bindings, 2 * 4096 * 48);
  /* Slots of 8 bytes, 1024 growing by an eighth while over 9/10 full:
   * 1024, 1152, 1296, ..., 4662, 5238, 5886 (5000 > 9/10 of 5238), one
   * entry per inside endpoint (5000 of one flow each); no endpoint is
   * crowded, so the flow table and the crowded lists' predecessors
   * (counted with the inside index) keep their first 1024 slots. */
  assert_int_equal (m.flow_index, 1024 * 8);
  assert_int_equal (m.inside_index, 5886 * 8 + 1024 * 8);
  /* One protocol on one address: a page table of 8064 pages of 8 ports
   * (64512 ports) and the pages of 10-byte port states written, at least
   * the 5 preserved ports' and not all (5000 bindings on 64512 ports). */
  assert_int_equal ((m.ports - PORT_TABLE) % PORT_PAGE_BYTES, 0);
  assert_true (m.ports >= PORT_TABLE + PORT_PAGE_BYTES);
  assert_true (m.ports < PORT_TABLE + 8064 * PORT_PAGE_BYTES);
  /* 5000 pending timers of 16 bytes in 512-byte chunks, and more. */
  assert_true (m.timers >= 5000 * 16);
  assert_int_equal (m.total, m.bindings + m.flow_index + m.inside_index + m.reply_index + m.timers + m.ports
                             + m.blocks + m.hosts + m.fixed);
  /* A TCP binding brings the TCP page table and one page. */
  assert_int_equal (send_pkt (h, T0 + NATSIM_SEC (51), NATSIM_PROTO_TCP, NATSIM_DIR_OUT,
                              ep (IN (1), 40000), ep (REM_A, 443), NATSIM_TCP_SYN, NULL),
                    NATSIM_VERDICT_FORWARDED);
  natsim_nat_memory (h->nat, &after);
  assert_int_equal (after.ports, m.ports + PORT_TABLE + PORT_PAGE_BYTES);
  /* Everything expired and forgotten (120 s + 60 s of tombstone): no
   * record in use, the capacity stays allocated and counted. */
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (1000));
  natsim_nat_memory (h->nat, &after);
  assert_int_equal (after.live_bindings, 0);
  assert_int_equal (after.records, 0);
  assert_int_equal (after.bindings, m.bindings);
  assert_int_equal (after.flow_index, m.flow_index);
  harness_free (h);
}

/* Port state is allocated a page of 8 ports at a time, when a port of
 * the page is first written (it gets a binding); reading a port of an
 * absent page (inbound to it, a port search probing it) allocates
 * nothing; pages stay (a free port keeps its last owner). */
static void
test_port_pages (void **state)
{
  NatsimNatConfig cfg = held_flows_config ();
  Harness *h = harness_new_full (&cfg, true, 1, 100);
  NatsimNatMemory m0, m;
  NatsimNatResult r;

  (void) state;
  natsim_nat_memory (h->nat, &m0);
  assert_int_equal (m0.ports, 0);
  /* 40000 is the first port of page (40000 - 1024) / 8 = 4872. */
  assert_int_equal (udp_out (h, T0, ep (IN (1), 40000), ep (REM_A, 5000), &r),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (r.ext_port, 40000);
  natsim_nat_memory (h->nat, &m);
  assert_int_equal (m.ports, PORT_TABLE + PORT_PAGE_BYTES);
  /* Its last port: the same page. */
  assert_int_equal (udp_out (h, T0 + 1, ep (IN (2), 40007), ep (REM_A, 5000), &r),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (r.ext_port, 40007);
  natsim_nat_memory (h->nat, &m);
  assert_int_equal (m.ports, PORT_TABLE + PORT_PAGE_BYTES);
  /* The next port: the next page. */
  assert_int_equal (udp_out (h, T0 + 2, ep (IN (3), 40008), ep (REM_A, 5000), &r),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (r.ext_port, 40008);
  natsim_nat_memory (h->nat, &m);
  assert_int_equal (m.ports, PORT_TABLE + 2 * PORT_PAGE_BYTES);
  /* Inbound to a port of an absent page: unsolicited, nothing allocated. */
  assert_int_equal (udp_in (h, T0 + 3, ep (REM_B, 7000), ep (PUB1, 50000), NULL),
                    NATSIM_VERDICT_UNSOLICITED);
  natsim_nat_memory (h->nat, &m);
  assert_int_equal (m.ports, PORT_TABLE + 2 * PORT_PAGE_BYTES);
  /* 40000 toward REM_A:5000 is taken: the search probes from a random
   * offset and allocates at most the page of the port it takes. */
  assert_int_equal (udp_out (h, T0 + 4, ep (IN (4), 40000), ep (REM_A, 5000), &r),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_not_equal (r.ext_port, 40000);
  natsim_nat_memory (h->nat, &m);
  assert_true (m.ports == PORT_TABLE + 2 * PORT_PAGE_BYTES
               || m.ports == PORT_TABLE + 3 * PORT_PAGE_BYTES);
  /* All expired and forgotten: the pages stay, and the freed port still
   * leads inbound packets to its last owner's endpoint as before. */
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (30000));
  {
    NatsimNatMemory later;
    natsim_nat_memory (h->nat, &later);
    assert_int_equal (later.live_bindings, 0);
    assert_int_equal (later.ports, m.ports);
  }
  harness_free (h);
}

/* Port blocks and paired pooling put their state in their own rows. */
static void
test_categories (void **state)
{
  NatsimNatConfig cfg = held_flows_config ();
  Harness *h;
  NatsimNatMemory m;

  (void) state;
  cfg.ports_per_subscriber = 512;
  cfg.blocks_per_subscriber = 4;
  h = harness_new_full (&cfg, true, 1, 100);
  natsim_nat_memory (h->nat, &m);
  /* 126 blocks of 512 ports: owner, use count and free time per block. */
  assert_true (m.blocks >= 126 * (4 + 4 + 8));
  assert_int_equal (m.hosts, 1024 * 8); /* the empty host index */
  assert_int_equal (udp_out (h, T0, ep (IN (1), 40000), ep (REM_A, 5000), NULL),
                    NATSIM_VERDICT_FORWARDED);
  {
    NatsimNatMemory m2;
    natsim_nat_memory (h->nat, &m2);
    /* A subscriber record and its block list appeared. */
    assert_true (m2.blocks > m.blocks);
    assert_int_equal (m2.live_bindings, 1);
  }
  harness_free (h);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_bytes_per_live_binding),
    cmocka_unit_test (test_counts_capacity),
    cmocka_unit_test (test_port_pages),
    cmocka_unit_test (test_categories),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
