/* Per-subscriber port blocks of the NAT engine (src/nat) combined with
 * held entries (unsolicited_hold), against docs/nat-model.md: when a block
 * goes back to the pool and when it must not. */
#include "nat-harness.h"


/* Eight ports 5000-5007 = two blocks of four, one block per subscriber,
 * Linux-like unsolicited hold. */
static NatsimNatConfig
hold_block_config (void)
{
  NatsimNatConfig cfg = base_config ();

  cfg.port_hi = 5007;
  cfg.unsolicited_hold = true;
  cfg.ports_per_subscriber = 4;
  cfg.blocks_per_subscriber = 1;
  return cfg;
}

/* A takes block 0 (port 5000), C block 1 and keeps it.  A's binding dies
 * at T0+30 s and block 0 goes back to the pool; R1's datagram to A at
 * T0+31 s holds 5000 toward R1 until T0+61 s.  Returns the harness. */
static Harness *
setup_held_port_in_free_block (void)
{
  NatsimNatConfig cfg = hold_block_config ();
  Harness        *h = harness_new_full (&cfg, false, 0, 200);
  Ep              A = ep (IN (1), 4000), C = ep (IN (3), 4000);
  Ep              R1 = ep (REM_A, 3478);
  NatsimNatResult res;

  assert_int_equal (udp_out (h, T0, A, R1, &res), NATSIM_VERDICT_FORWARDED);
  assert_int_equal (res.ext_port, 5000);
  assert_int_equal (udp_out (h, T0, C, R1, &res), NATSIM_VERDICT_FORWARDED);
  assert_int_equal (res.ext_port, 5004);
  /* C stays alive throughout (refreshed at T0+25 s and T0+50 s). */
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (25), C, R1, NULL),
                    NATSIM_VERDICT_FORWARDED);
  return h;
}

static void
keep_c (Harness *h)
{
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (50), ep (IN (3), 4000),
                             ep (REM_A, 3478), NULL),
                    NATSIM_VERDICT_FORWARDED);
}

/* B takes block 0 and lands on the held port 5000 (free toward R2).  When
 * B's binding dies (held entry long gone) none of block 0's ports is in
 * use: the block must go back to the pool and D must get it. */
static void
test_block_with_held_port_is_returned (void **state)
{
  Harness        *h = setup_held_port_in_free_block ();
  Ep              A = ep (IN (1), 4000), B = ep (IN (2), 4000);
  Ep              D = ep (IN (4), 4000);
  Ep              R1 = ep (REM_A, 3478), R2 = ep (REM_B, 3478);
  NatsimNatResult res;

  assert_int_equal (udp_in (h, T0 + NATSIM_SEC (31), R1, A, NULL),
                    NATSIM_VERDICT_BINDING_LOST);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), 2); /* 5000 held, 5004 */
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (32), B, R2, &res),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (res.ext_port, 5000);
  keep_c (h);
  /* Held entry dies at T0+61 s, B's binding at T0+62 s. */
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (63), D, R1, &res),
                    NATSIM_VERDICT_FORWARDED);
  assert_in_range (res.ext_port, 5000, 5003);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), 2);
  harness_free (h);
}

/* B takes block 0 and gets 5001 (5000 is held toward R1).  When the held
 * entry dies B's 5001 is still in use: block 0 stays B's, so D finds no
 * block at all. */
static void
test_block_not_returned_while_in_use (void **state)
{
  Harness        *h = setup_held_port_in_free_block ();
  Ep              A = ep (IN (1), 4000), B = ep (IN (2), 4000);
  Ep              D = ep (IN (4), 4000);
  Ep              R1 = ep (REM_A, 3478);
  NatsimNatResult res;

  assert_int_equal (udp_in (h, T0 + NATSIM_SEC (31), R1, A, NULL),
                    NATSIM_VERDICT_BINDING_LOST);
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (32), B, R1, &res),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (res.ext_port, 5001);
  keep_c (h);
  /* Held entry dies at T0+61 s; B's binding lives until T0+62 s. */
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (61) + NATSIM_MSEC (500), D, R1,
                             &res),
                    NATSIM_VERDICT_ALLOC_FAILED);
  /* B's own next binding still comes from its block. */
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (61) + NATSIM_MSEC (600),
                             ep (IN (2), 4001), R1, &res),
                    NATSIM_VERDICT_FORWARDED);
  assert_in_range (res.ext_port, 5000, 5003);
  harness_free (h);
}

/* Blocks of one port and parity kept (RFC 4787 section 4.2.2): an odd inside port cannot use block 0 (port 5000), so the
 * subscriber takes block 1 (5001) as well.  Block 0 holds no port of it
 * and must go back to the pool at once; once the binding dies the
 * subscriber holds no block at all. */
static void
test_block_taken_without_port_is_returned (void **state)
{
  for (int q = 0; q < 2; q++)
    {
      NatsimNatConfig cfg = base_config ();
      Harness *h;
      NatsimNatResult res;

      cfg.port_hi = 5003;
      cfg.parity = true;
      cfg.ports_per_subscriber = 1;
      cfg.blocks_per_subscriber = 2;
      cfg.quarantine = q ? NATSIM_SEC (5) : 0;
      h = harness_new_full (&cfg, false, 0, 100);
      assert_int_equal (udp_out (h, T0, ep (IN (1), 1001), ep (REM_A, 3478), &res),
                        NATSIM_VERDICT_FORWARDED);
      assert_int_equal (res.ext_port, 5001);
      assert_int_equal (natsim_nat_blocks_in_use (h->nat, 0), 1);
      /* Another subscriber takes one block, not the last two. */
      assert_int_equal (udp_out (h, T0, ep (IN (2), 1000), ep (REM_A, 3478), &res),
                        NATSIM_VERDICT_FORWARDED);
      assert_int_equal (natsim_nat_blocks_in_use (h->nat, 0), 2);
      natsim_nat_advance (h->nat, T0 + NATSIM_SEC (100));
      assert_int_equal (natsim_nat_blocks_in_use (h->nat, 0), 0);
      assert_int_equal (natsim_nat_block_holders (h->nat), 0);
      harness_free (h);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_block_with_held_port_is_returned),
    cmocka_unit_test (test_block_not_returned_while_in_use),
    cmocka_unit_test (test_block_taken_without_port_is_returned),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
