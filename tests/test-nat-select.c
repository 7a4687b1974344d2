/* natsim: NAT engine sizing behaviour (docs/nat-model.md "Address
 * selection", "Port blocks", "Deterministic NAT"): address selection and
 * its fall-backs, port-block figures, allocation failure causes, the
 * active block timeout, block release after quarantine, deterministic NAT
 * arithmetic, and the vendor presets' selection. */
#include "nat-harness.h"

#include "natsim/metrics.h"
#include "natsim/scenario.h"
#include "natsim/simulate.h"

#define PUB(i) IP4 (203, 0, 113, 1 + (i))
#define R_SIP  ep (REM_A, 5060)

static NatsimNatConfig
pool_config (guint n_addresses, uint16_t lo, uint16_t hi, NatsimAddressSelection sel,
             NatsimPooling pooling)
{
  NatsimNatConfig cfg = base_config ();

  g_free (cfg.addresses);
  cfg.addresses = g_new (uint32_t, n_addresses);
  for (guint i = 0; i < n_addresses; i++)
    cfg.addresses[i] = PUB (i);
  cfg.n_addresses = n_addresses;
  cfg.port_lo = lo;
  cfg.port_hi = hi;
  cfg.address_selection = sel;
  cfg.pooling = pooling;
  cfg.port_reuse = NATSIM_REUSE_EXCLUSIVE;
  return cfg;
}

/* The public address a new flow of @in toward @rem got, or 0 on failure. */
static uint32_t
flow_addr (Harness *h, NatsimTime t, Ep in, Ep rem)
{
  NatsimNatResult res;

  if (udp_out (h, t, in, rem, &res) != NATSIM_VERDICT_FORWARDED)
    return 0;
  return res.ext_addr;
}

/* The last event of @type (the test fails when there is none). */
static const NatsimNatEvent *
last_event (const Harness *h, NatsimNatEventType type)
{
  static const NatsimNatEvent none = { 0 };

  for (guint i = h->events->len; i > 0; i--)
    if (g_array_index (h->events, NatsimNatEvent, i - 1).type == type)
      return &g_array_index (h->events, NatsimNatEvent, i - 1);
  fail_msg ("no event of type %d", (int) type);
  return &none;
}

/* ---------- address selection ---------- */

/* hash (Linux): only the hashed address is tried; no fall-back. */
static void
test_hash_no_fallback (void **state)
{
  NatsimNatConfig cfg = pool_config (2, 5000, 5000, NATSIM_SELECT_HASH, NATSIM_POOLING_PAIRED);
  Harness *h = harness_new_full (&cfg, false, 0, 100);
  uint32_t a;

  a = flow_addr (h, T0, ep (IN (1), 1000), R_SIP);
  assert_true (a == PUB (0) || a == PUB (1));
  /* The host's address is full; the other one is free but never tried. */
  assert_int_equal (udp_out (h, T0, ep (IN (1), 1001), R_SIP, NULL), NATSIM_VERDICT_ALLOC_FAILED);
  assert_int_equal (last_event (h, NATSIM_NAT_EV_ALLOC_FAILED)->cause, NATSIM_FAIL_NO_FREE_PORT);
  assert_int_equal (last_event (h, NATSIM_NAT_EV_ALLOC_FAILED)->ext_addr, a);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_ADDRESS_FALLBACK), 0);
  harness_free (h);
}

/* first-fit: the lowest address that can serve the flow; the next one
 * only when it is full (Cisco IOS overload, PIX/ASA PAT). */
static void
test_first_fit_fills_in_order (void **state)
{
  NatsimNatConfig cfg = pool_config (3, 5000, 5001, NATSIM_SELECT_FIRST_FIT,
                                     NATSIM_POOLING_ARBITRARY);
  Harness *h = harness_new_full (&cfg, false, 0, 100);
  const uint32_t want[] = { PUB (0), PUB (0), PUB (1), PUB (1), PUB (2), PUB (2) };

  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    assert_int_equal (flow_addr (h, T0, ep (IN (1 + i), 1000), R_SIP), want[i]);
  /* Four flows fell back, each from address 0, the first choice. */
  assert_int_equal (count_events (h, NATSIM_NAT_EV_ADDRESS_FALLBACK), 4);
  assert_int_equal (last_event (h, NATSIM_NAT_EV_ADDRESS_FALLBACK)->from_index, 0);
  assert_int_equal (last_event (h, NATSIM_NAT_EV_ADDRESS_FALLBACK)->from_addr, PUB (0));
  assert_int_equal (last_event (h, NATSIM_NAT_EV_ADDRESS_FALLBACK)->addr_index, 2);
  /* The pool is full: refused, blamed on the first choice. */
  assert_int_equal (flow_addr (h, T0, ep (IN (7), 1000), R_SIP), 0);
  assert_int_equal (last_event (h, NATSIM_NAT_EV_ALLOC_FAILED)->addr_index, 0);
  assert_int_equal (last_event (h, NATSIM_NAT_EV_ALLOC_FAILED)->cause, NATSIM_FAIL_NO_FREE_PORT);
  harness_free (h);
}

/* first-fit with per-destination ports: address 0 serves every remote
 * until its ports toward that remote run out. */
static void
test_first_fit_per_destination (void **state)
{
  NatsimNatConfig cfg = pool_config (2, 5000, 5001, NATSIM_SELECT_FIRST_FIT,
                                     NATSIM_POOLING_ARBITRARY);
  Harness *h;

  cfg.port_reuse = NATSIM_REUSE_PER_DESTINATION;
  h = harness_new_full (&cfg, false, 0, 100);
  assert_int_equal (flow_addr (h, T0, ep (IN (1), 1000), R_SIP), PUB (0));
  assert_int_equal (flow_addr (h, T0, ep (IN (2), 1000), R_SIP), PUB (0));
  assert_int_equal (flow_addr (h, T0, ep (IN (3), 1000), R_SIP), PUB (1));
  /* Toward another remote address 0 has both ports again. */
  assert_int_equal (flow_addr (h, T0, ep (IN (4), 1000), ep (REM_B, 53)), PUB (0));
  harness_free (h);
}

/* Paired pooling (RFC 4787 REQ-2): a host keeps its address while it has
 * a live binding, even when it is full or a lower one has room; a host
 * with none gets the selection's address again. */
static void
test_paired_keeps_address (void **state)
{
  NatsimNatConfig cfg = pool_config (2, 5000, 5001, NATSIM_SELECT_FIRST_FIT,
                                     NATSIM_POOLING_PAIRED);
  Harness *h = harness_new_full (&cfg, false, 0, 100);

  assert_int_equal (flow_addr (h, T0, ep (IN (1), 1000), R_SIP), PUB (0));
  assert_int_equal (flow_addr (h, T0, ep (IN (1), 1001), R_SIP), PUB (0));
  /* Host 1 holds address 0, which is full: no fall-back for it. */
  assert_int_equal (flow_addr (h, T0, ep (IN (1), 1002), R_SIP), 0);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_ADDRESS_FALLBACK), 0);
  /* A new host falls back to address 1. */
  assert_int_equal (flow_addr (h, T0, ep (IN (2), 1000), R_SIP), PUB (1));
  assert_int_equal (count_events (h, NATSIM_NAT_EV_ADDRESS_FALLBACK), 1);
  /* Host 2 stays alive; host 1's bindings die at T0 + 30 s. */
  assert_int_equal (flow_addr (h, T0 + NATSIM_SEC (20), ep (IN (2), 1000), R_SIP), PUB (1));
  /* Address 0 is empty now, but host 2 keeps address 1 ... */
  assert_int_equal (flow_addr (h, T0 + NATSIM_SEC (40), ep (IN (2), 1001), R_SIP), PUB (1));
  /* ... and host 1, holding nothing, gets the first fit again. */
  assert_int_equal (flow_addr (h, T0 + NATSIM_SEC (40), ep (IN (1), 1003), R_SIP), PUB (0));
  harness_free (h);
}

/* round-robin: new hosts get addresses in turn, with fall-back to the
 * next one that can serve the flow (ASA PAT pool round-robin). */
static void
test_round_robin (void **state)
{
  NatsimNatConfig cfg = pool_config (3, 5000, 5001, NATSIM_SELECT_ROUND_ROBIN,
                                     NATSIM_POOLING_PAIRED);
  Harness *h = harness_new_full (&cfg, false, 0, 100);

  assert_int_equal (flow_addr (h, T0, ep (IN (1), 1000), R_SIP), PUB (0));
  assert_int_equal (flow_addr (h, T0, ep (IN (2), 1000), R_SIP), PUB (1));
  assert_int_equal (flow_addr (h, T0, ep (IN (3), 1000), R_SIP), PUB (2));
  /* A known host keeps its address (and fills it). */
  assert_int_equal (flow_addr (h, T0, ep (IN (1), 1001), R_SIP), PUB (0));
  assert_int_equal (count_events (h, NATSIM_NAT_EV_ADDRESS_FALLBACK), 0);
  /* Host 4's turn is address 0, which is full: the next one serves. */
  assert_int_equal (flow_addr (h, T0, ep (IN (4), 1000), R_SIP), PUB (1));
  assert_int_equal (count_events (h, NATSIM_NAT_EV_ADDRESS_FALLBACK), 1);
  assert_int_equal (last_event (h, NATSIM_NAT_EV_ADDRESS_FALLBACK)->from_index, 0);
  /* The turn moves on past the address taken. */
  assert_int_equal (flow_addr (h, T0, ep (IN (5), 1000), R_SIP), PUB (2));
  harness_free (h);
}

/* least-loaded: the address with the most free ports (ties: the lowest). */
static void
test_least_loaded (void **state)
{
  NatsimNatConfig cfg = pool_config (2, 5000, 5003, NATSIM_SELECT_LEAST_LOADED,
                                     NATSIM_POOLING_ARBITRARY);
  Harness *h = harness_new_full (&cfg, false, 0, 100);
  const uint32_t want[] = { PUB (0), PUB (1), PUB (0), PUB (1), PUB (0) };

  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    assert_int_equal (flow_addr (h, T0, ep (IN (1 + i), 1000), R_SIP), want[i]);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), 3);
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 1), 2);
  harness_free (h);
}

/* least-loaded with port blocks: the address with the most free blocks. */
static void
test_least_loaded_blocks (void **state)
{
  NatsimNatConfig cfg = pool_config (2, 5000, 5007, NATSIM_SELECT_LEAST_LOADED,
                                     NATSIM_POOLING_PAIRED);
  Harness *h;

  cfg.ports_per_subscriber = 2;
  cfg.blocks_per_subscriber = 4;
  h = harness_new_full (&cfg, false, 0, 100);
  assert_int_equal (natsim_nat_blocks_per_address (h->nat), 4);
  for (guint i = 0; i < 4; i++)
    assert_int_equal (flow_addr (h, T0, ep (IN (1 + i), 1000), R_SIP), PUB (i % 2));
  assert_int_equal (natsim_nat_blocks_in_use (h->nat, 0), 2);
  assert_int_equal (natsim_nat_blocks_in_use (h->nat, 1), 2);
  assert_int_equal (natsim_nat_block_holders (h->nat), 4);
  /* A subscriber's further blocks are on its own address. */
  for (uint16_t p = 0; p < 4; p++)
    assert_int_equal (flow_addr (h, T0, ep (IN (1), (uint16_t) (2000 + p)), R_SIP), PUB (0));
  assert_int_equal (natsim_nat_blocks_in_use (h->nat, 0), 4);
  assert_int_equal (natsim_nat_blocks_in_use (h->nat, 1), 2);
  harness_free (h);
}

/* ---------- port blocks ---------- */

static void
test_block_figures_and_release (void **state)
{
  NatsimNatConfig cfg = pool_config (1, 5000, 5007, NATSIM_SELECT_HASH, NATSIM_POOLING_PAIRED);
  Harness *h;

  cfg.ports_per_subscriber = 2;
  cfg.blocks_per_subscriber = 4;
  h = harness_new_full (&cfg, false, 0, 100);
  assert_int_equal (natsim_nat_blocks_per_address (h->nat), 4);
  for (uint16_t p = 0; p < 3; p++)
    assert_int_equal (flow_addr (h, T0, ep (IN (1), (uint16_t) (1000 + p)), R_SIP), PUB (0));
  assert_int_equal (flow_addr (h, T0, ep (IN (2), 1000), R_SIP), PUB (0));
  assert_int_equal (natsim_nat_blocks_in_use (h->nat, 0), 3);
  assert_int_equal (natsim_nat_block_holders (h->nat), 2);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_BLOCK_ACQUIRED), 3);
  /* The block event names the subscriber and the block's first port. */
  assert_int_equal (last_event (h, NATSIM_NAT_EV_BLOCK_ACQUIRED)->in_addr, IN (2));
  assert_int_equal ((last_event (h, NATSIM_NAT_EV_BLOCK_ACQUIRED)->ext_port - 5000) % 2, 0);
  /* Every binding dies at T0 + 30 s: its blocks return (RFC 7422). */
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (30));
  assert_int_equal (natsim_nat_blocks_in_use (h->nat, 0), 0);
  assert_int_equal (natsim_nat_block_holders (h->nat), 0);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_BLOCK_RELEASED), 3);
  harness_free (h);
}

/* With a quarantine a block whose last port freed returns only when the
 * quarantine has passed (its ports would be of no use to another
 * subscriber before). */
static void
test_block_release_after_quarantine (void **state)
{
  NatsimNatConfig cfg = pool_config (1, 5000, 5003, NATSIM_SELECT_HASH, NATSIM_POOLING_PAIRED);
  Harness *h;

  cfg.ports_per_subscriber = 2;
  cfg.blocks_per_subscriber = 1;
  cfg.quarantine = NATSIM_SEC (60);
  h = harness_new_full (&cfg, false, 0, 100);
  assert_int_equal (flow_addr (h, T0, ep (IN (1), 1000), R_SIP), PUB (0));
  assert_int_equal (flow_addr (h, T0, ep (IN (2), 1000), R_SIP), PUB (0));
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (31));
  assert_int_equal (natsim_nat_ports_in_use (h->nat, 0), 0);
  assert_int_equal (natsim_nat_blocks_in_use (h->nat, 0), 2);
  /* Both blocks are still held: a third subscriber gets none. */
  assert_int_equal (flow_addr (h, T0 + NATSIM_SEC (31), ep (IN (3), 1000), R_SIP), 0);
  assert_int_equal (last_event (h, NATSIM_NAT_EV_ALLOC_FAILED)->cause, NATSIM_FAIL_NO_FREE_BLOCK);
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (89));
  assert_int_equal (natsim_nat_blocks_in_use (h->nat, 0), 2);
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (90));
  assert_int_equal (natsim_nat_blocks_in_use (h->nat, 0), 0);
  assert_int_equal (natsim_nat_block_holders (h->nat), 0);
  assert_int_equal (flow_addr (h, T0 + NATSIM_SEC (90), ep (IN (3), 1000), R_SIP), PUB (0));
  harness_free (h);
}

/* The block of a port of subscriber @in's flow (offset into the range / size). */
static guint
block_of (Harness *h, NatsimTime t, Ep in, guint size)
{
  NatsimNatResult res;

  assert_int_equal (udp_out (h, t, in, R_SIP, &res), NATSIM_VERDICT_FORWARDED);
  return (guint) (res.ext_port - h->cfg.port_lo) / size;
}

/* Active block timeout (Junos active-block-timeout, FortiOS pba-timeout):
 * after it, the next port comes from a new block even with ports free. */
static void
test_block_timeout (void **state)
{
  for (int with_timeout = 0; with_timeout < 2; with_timeout++)
    {
      NatsimNatConfig cfg = pool_config (1, 5000, 5015, NATSIM_SELECT_HASH,
                                         NATSIM_POOLING_PAIRED);
      Harness *h;
      guint b1, b2, b3;

      cfg.ports_per_subscriber = 4;
      cfg.blocks_per_subscriber = 4;
      cfg.udp_timeout = NATSIM_SEC (1000);
      cfg.block_timeout = with_timeout ? NATSIM_SEC (120) : 0;
      h = harness_new_full (&cfg, false, 0, 100);
      b1 = block_of (h, T0, ep (IN (1), 1000), 4);
      b2 = block_of (h, T0 + NATSIM_SEC (10), ep (IN (1), 1001), 4);
      assert_int_equal (b1, b2);
      b3 = block_of (h, T0 + NATSIM_SEC (130), ep (IN (1), 1002), 4);
      if (with_timeout)
        {
          assert_int_not_equal (b3, b1);
          assert_int_equal (natsim_nat_blocks_in_use (h->nat, 0), 2);
          /* The new block is the active one now. */
          assert_int_equal (block_of (h, T0 + NATSIM_SEC (131), ep (IN (1), 1003), 4), b3);
        }
      else
        {
          assert_int_equal (b3, b1);
          assert_int_equal (natsim_nat_blocks_in_use (h->nat, 0), 1);
        }
      harness_free (h);
    }
}

/* At its block limit a subscriber whose active block timed out keeps
 * taking ports from the blocks it holds. */
static void
test_block_timeout_at_limit (void **state)
{
  NatsimNatConfig cfg = pool_config (1, 5000, 5015, NATSIM_SELECT_HASH, NATSIM_POOLING_PAIRED);
  Harness *h;
  guint b1;

  cfg.ports_per_subscriber = 4;
  cfg.blocks_per_subscriber = 1;
  cfg.udp_timeout = NATSIM_SEC (1000);
  cfg.block_timeout = NATSIM_SEC (120);
  h = harness_new_full (&cfg, false, 0, 100);
  b1 = block_of (h, T0, ep (IN (1), 1000), 4);
  assert_int_equal (block_of (h, T0 + NATSIM_SEC (200), ep (IN (1), 1001), 4), b1);
  assert_int_equal (natsim_nat_blocks_in_use (h->nat, 0), 1);
  harness_free (h);
}

/* With an active block timeout, new ports come from the active block
 * only (Junos: "New requests for NAT ports for the subscriber are served
 * from the active block"); a block that timed out only drains.  When the
 * active block is returned (its last port freed), the next port comes
 * from a new block with a new timer, not from the timed-out block that
 * still holds the subscriber's older ports; without a timeout the held
 * block serves it. */
static void
test_block_timeout_after_return (void **state)
{
  for (int with_timeout = 0; with_timeout < 2; with_timeout++)
    {
      NatsimNatConfig cfg = pool_config (1, 5000, 5015, NATSIM_SELECT_HASH,
                                         NATSIM_POOLING_PAIRED);
      Ep a = ep (IN (1), 1000);
      Harness *h;
      guint b1, b2, b3;

      cfg.ports_per_subscriber = 4;
      cfg.blocks_per_subscriber = 4;
      cfg.udp_timeout = NATSIM_SEC (60);
      cfg.block_timeout = with_timeout ? NATSIM_SEC (120) : 0;
      h = harness_new_full (&cfg, false, 0, 100);
      /* Flow a stays alive (refreshed every 50 s) and keeps block b1. */
      b1 = block_of (h, T0, a, 4);
      assert_int_equal (block_of (h, T0 + NATSIM_SEC (50), a, 4), b1);
      assert_int_equal (block_of (h, T0 + NATSIM_SEC (100), a, 4), b1);
      /* At 130 s a second flow; with the timeout it opens block b2, which
       * is returned when the flow expires at 190 s. */
      b2 = block_of (h, T0 + NATSIM_SEC (130), ep (IN (1), 1001), 4);
      assert_int_equal (block_of (h, T0 + NATSIM_SEC (150), a, 4), b1);
      natsim_nat_advance (h->nat, T0 + NATSIM_SEC (195));
      assert_int_equal (natsim_nat_blocks_in_use (h->nat, 0), 1);
      assert_int_equal (block_of (h, T0 + NATSIM_SEC (200), a, 4), b1);
      b3 = block_of (h, T0 + NATSIM_SEC (210), ep (IN (1), 1002), 4);
      if (with_timeout)
        {
          assert_int_not_equal (b2, b1);
          assert_int_not_equal (b3, b1);
          assert_int_equal (natsim_nat_blocks_in_use (h->nat, 0), 2);
          /* b3's timer started at 210 s: at 320 s it still serves, at
           * 340 s it has timed out and a new block serves. */
          assert_int_equal (block_of (h, T0 + NATSIM_SEC (250), a, 4), b1);
          assert_int_equal (block_of (h, T0 + NATSIM_SEC (260), ep (IN (1), 1002), 4), b3);
          assert_int_equal (block_of (h, T0 + NATSIM_SEC (300), a, 4), b1);
          assert_int_equal (block_of (h, T0 + NATSIM_SEC (300), ep (IN (1), 1002), 4), b3);
          assert_int_equal (block_of (h, T0 + NATSIM_SEC (320), ep (IN (1), 1003), 4), b3);
          b2 = block_of (h, T0 + NATSIM_SEC (340), ep (IN (1), 1004), 4);
          assert_int_not_equal (b2, b3);
          assert_int_not_equal (b2, b1);
          /* Filled up, the active block gives way to a new block, not to
           * the free ports of the older ones. */
          for (guint i = 0; i < 3; i++)
            assert_int_equal (block_of (h, T0 + NATSIM_SEC (341 + i), ep (IN (1), 1005 + i), 4),
                              b2);
          b3 = block_of (h, T0 + NATSIM_SEC (345), ep (IN (1), 1008), 4);
          assert_int_not_equal (b3, b1);
          assert_int_not_equal (b3, b2);
          assert_int_equal (natsim_nat_blocks_in_use (h->nat, 0), 4);
        }
      else
        {
          assert_int_equal (b2, b1);
          assert_int_equal (b3, b1);
        }
      harness_free (h);
    }
}

/* A UDP packet from @rem to the NAT's public endpoint @pub. */
static NatsimVerdict
udp_in_public (Harness *h, NatsimTime t, Ep rem, Ep pub)
{
  NatsimPacket pkt = { 0 };
  NatsimNatResult res;

  pkt.time = t;
  pkt.src_addr = rem.addr, pkt.src_port = rem.port;
  pkt.dst_addr = pub.addr, pkt.dst_port = pub.port;
  pkt.proto = NATSIM_PROTO_UDP;
  pkt.dir = NATSIM_DIR_IN;
  pkt.length = 100;
  return natsim_nat_process_public (h->nat, &pkt, &res);
}

/* A static forward is configuration, not a pool mapping (Cisco IOS: a
 * static entry beside the overload pool; Linux: a DNAT rule beside
 * masquerade): with paired pooling and a selection that is not hash, its
 * binding on the forward's address neither pins the inside host's
 * dynamic mappings to that address nor counts as one of them.  The
 * host's dynamic mappings stay paired with each other (RFC 4787 REQ-2),
 * and its forwarded port keeps leaving from the forward. */
static void
test_forward_on_other_address_paired (void **state)
{
  NatsimNatConfig cfg = pool_config (2, 5000, 5999, NATSIM_SELECT_FIRST_FIT,
                                     NATSIM_POOLING_PAIRED);
  NatsimNatResult res;
  Harness *h;

  cfg.forwards = g_new0 (NatsimNatForward, 1);
  cfg.n_forwards = 1;
  cfg.forwards[0].proto = NATSIM_PROTO_UDP;
  cfg.forwards[0].ext_addr = PUB (1);
  cfg.forwards[0].ext_port = 5500;
  cfg.forwards[0].in_addr = IN (1);
  cfg.forwards[0].in_port = 5060;
  h = harness_new_full (&cfg, false, 0, 100);
  /* A remote reaches the inside host through the forward on the second
   * address: a binding there. */
  assert_int_equal (udp_in_public (h, T0, ep (REM_A, 7000), ep (PUB (1), 5500)),
                    NATSIM_VERDICT_FORWARDED);
  /* The host's first dynamic flow: first-fit's first address, not the
   * forward's. */
  assert_int_equal (flow_addr (h, T0 + NATSIM_SEC (1), ep (IN (1), 1000), ep (REM_B, 80)),
                    PUB (0));
  /* Its next dynamic flow is paired with the first. */
  assert_int_equal (flow_addr (h, T0 + NATSIM_SEC (2), ep (IN (1), 1001), ep (REM_B, 443)),
                    PUB (0));
  /* The forwarded port still leaves from the forward's public endpoint. */
  assert_int_equal (udp_out (h, T0 + NATSIM_SEC (3), ep (IN (1), 5060), ep (REM_B, 5060), &res),
                    NATSIM_VERDICT_FORWARDED);
  assert_int_equal (res.ext_addr, PUB (1));
  assert_int_equal (res.ext_port, 5500);
  /* Once the dynamic mappings have expired (30 s) while the forward's
   * binding is kept alive, nothing pins the host: first-fit again. */
  assert_int_equal (udp_in_public (h, T0 + NATSIM_SEC (25), ep (REM_A, 7000), ep (PUB (1), 5500)),
                    NATSIM_VERDICT_FORWARDED);
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (40));
  assert_int_equal (flow_addr (h, T0 + NATSIM_SEC (41), ep (IN (1), 1002), ep (REM_B, 80)),
                    PUB (0));
  harness_free (h);
}

/* ---------- failure causes ---------- */

static void
test_failure_causes_engine (void **state)
{
  /* no_free_port: no blocks, the address is full. */
  {
    NatsimNatConfig cfg = pool_config (1, 5000, 5000, NATSIM_SELECT_HASH, NATSIM_POOLING_PAIRED);
    Harness *h = harness_new_full (&cfg, false, 0, 100);

    assert_int_equal (flow_addr (h, T0, ep (IN (1), 1000), R_SIP), PUB (0));
    assert_int_equal (flow_addr (h, T0, ep (IN (2), 1000), R_SIP), 0);
    assert_int_equal (last_event (h, NATSIM_NAT_EV_ALLOC_FAILED)->cause, NATSIM_FAIL_NO_FREE_PORT);
    harness_free (h);
  }
  /* no_free_block and subscriber_block_limit: blocks of one port. */
  {
    NatsimNatConfig cfg = pool_config (1, 5000, 5003, NATSIM_SELECT_HASH, NATSIM_POOLING_PAIRED);
    Harness *h;

    cfg.ports_per_subscriber = 1;
    cfg.blocks_per_subscriber = 2;
    h = harness_new_full (&cfg, false, 0, 100);
    assert_int_equal (flow_addr (h, T0, ep (IN (1), 1000), R_SIP), PUB (0));
    assert_int_equal (flow_addr (h, T0, ep (IN (1), 1001), R_SIP), PUB (0));
    assert_int_equal (flow_addr (h, T0, ep (IN (1), 1002), R_SIP), 0);
    assert_int_equal (last_event (h, NATSIM_NAT_EV_ALLOC_FAILED)->cause,
                      NATSIM_FAIL_SUBSCRIBER_BLOCK_LIMIT);
    assert_int_equal (flow_addr (h, T0, ep (IN (2), 1000), R_SIP), PUB (0));
    assert_int_equal (flow_addr (h, T0, ep (IN (2), 1001), R_SIP), PUB (0));
    /* Subscriber 2 is at its limit too, but the pool had no block left
     * for subscriber 3 before any limit applied. */
    assert_int_equal (flow_addr (h, T0, ep (IN (3), 1000), R_SIP), 0);
    assert_int_equal (last_event (h, NATSIM_NAT_EV_ALLOC_FAILED)->cause, NATSIM_FAIL_NO_FREE_BLOCK);
    harness_free (h);
  }
  /* no_free_block for a subscriber under its limit that needs a second
   * block when the pool has none. */
  {
    NatsimNatConfig cfg = pool_config (1, 5000, 5001, NATSIM_SELECT_HASH, NATSIM_POOLING_PAIRED);
    Harness *h;

    cfg.ports_per_subscriber = 1;
    cfg.blocks_per_subscriber = 4;
    h = harness_new_full (&cfg, false, 0, 100);
    assert_int_equal (flow_addr (h, T0, ep (IN (1), 1000), R_SIP), PUB (0));
    assert_int_equal (flow_addr (h, T0, ep (IN (2), 1000), R_SIP), PUB (0));
    assert_int_equal (flow_addr (h, T0, ep (IN (1), 1001), R_SIP), 0);
    assert_int_equal (last_event (h, NATSIM_NAT_EV_ALLOC_FAILED)->cause, NATSIM_FAIL_NO_FREE_BLOCK);
    harness_free (h);
  }
}

/* The collector counts each cause; they add up to allocation_failures. */
static void
test_failure_causes_collected (void **state)
{
  NatsimNatConfig cfg = pool_config (1, 5000, 5003, NATSIM_SELECT_HASH, NATSIM_POOLING_PAIRED);
  g_autoptr (NatsimNat) nat = NULL;
  g_autoptr (NatsimCollector) c = NULL;
  g_autoptr (NatsimRunResult) r = NULL;
  const struct { uint32_t host; uint16_t port; } flows[] = {
    { IN (1), 1000 }, { IN (1), 1001 }, { IN (1), 1002 }, /* block limit */
    { IN (2), 1000 }, { IN (2), 1001 }, { IN (3), 1000 }, /* no free block */
  };

  cfg.ports_per_subscriber = 1;
  cfg.blocks_per_subscriber = 2;
  nat = natsim_nat_new (&cfg, NULL);
  c = natsim_collector_new (nat, 1, 1, 0, NATSIM_SEC (20), NATSIM_SEC (10));
  natsim_nat_set_observer (nat, natsim_collector_on_nat_event, c);
  for (guint i = 0; i < G_N_ELEMENTS (flows); i++)
    {
      NatsimPacket pkt = { 0 };
      NatsimNatResult res;

      pkt.time = NATSIM_SEC (1) + i;
      pkt.src_addr = flows[i].host;
      pkt.src_port = flows[i].port;
      pkt.dst_addr = REM_A;
      pkt.dst_port = 5060;
      pkt.proto = NATSIM_PROTO_UDP;
      pkt.dir = NATSIM_DIR_OUT;
      natsim_collector_advance (c, pkt.time);
      natsim_nat_process (nat, &pkt, &res);
      natsim_collector_on_packet (c, &pkt, &res);
    }
  r = natsim_collector_finish (c);
  assert_int_equal ((int) r->totals.v[NATSIM_STAT_ALLOCATION_FAILURES], 2);
  assert_int_equal ((int) r->totals.v[NATSIM_STAT_SUBSCRIBER_BLOCK_LIMIT], 1);
  assert_int_equal ((int) r->totals.v[NATSIM_STAT_NO_FREE_BLOCK], 1);
  assert_int_equal ((int) r->totals.v[NATSIM_STAT_NO_FREE_PORT], 0);
  assert_int_equal ((int) r->totals.v[NATSIM_STAT_SUBSCRIBER_PORT_LIMIT], 0);
  assert_int_equal ((int) r->per_class[0].v[NATSIM_STAT_NO_FREE_BLOCK], 1);
  /* Block figures: 4 blocks, all in use by 2 subscribers. */
  assert_int_equal ((int) r->blocks_per_address, 4);
  assert_int_equal ((int) r->totals.v[NATSIM_STAT_PEAK_BLOCKS_PER_ADDRESS], 4);
  assert_int_equal ((int) r->totals.v[NATSIM_STAT_PEAK_BLOCK_SUBSCRIBERS], 2);
  assert_int_equal ((int) r->addr_peak_blocks[0], 4);
  assert_non_null (r->tl_blocks);
  assert_int_equal ((int) r->tl_blocks[0], 4);
  assert_int_equal ((int) r->tl_block_subscribers[0], 2);
  assert_non_null (r->tl_addr_blocks);
  assert_int_equal ((int) r->tl_addr_blocks[0], 4);
  /* The bindings live 30 s: all four blocks are in use at the end (20 s). */
  assert_int_equal ((int) r->tl_blocks[1], 4);
  natsim_nat_config_clear (&cfg);
}

/* Fall-backs are counted per address they landed on. */
static void
test_fallbacks_collected (void **state)
{
  NatsimNatConfig cfg = pool_config (2, 5000, 5000, NATSIM_SELECT_FIRST_FIT,
                                     NATSIM_POOLING_ARBITRARY);
  g_autoptr (NatsimNat) nat = natsim_nat_new (&cfg, NULL);
  g_autoptr (NatsimCollector) c = natsim_collector_new (nat, 1, 2, 0, NATSIM_SEC (20),
                                                        NATSIM_SEC (10));
  g_autoptr (NatsimRunResult) r = NULL;

  natsim_nat_set_observer (nat, natsim_collector_on_nat_event, c);
  for (guint i = 0; i < 3; i++)
    {
      NatsimPacket pkt = { 0 };
      NatsimNatResult res;

      pkt.time = NATSIM_SEC (1);
      pkt.src_addr = IN (1 + i);
      pkt.src_port = 1000;
      pkt.dst_addr = REM_A;
      pkt.dst_port = 5060;
      pkt.proto = NATSIM_PROTO_UDP;
      natsim_collector_advance (c, pkt.time);
      natsim_nat_process (nat, &pkt, &res);
      natsim_collector_on_packet (c, &pkt, &res);
    }
  r = natsim_collector_finish (c);
  assert_int_equal ((int) r->totals.v[NATSIM_STAT_ADDRESS_FALLBACKS], 1);
  assert_int_equal ((int) r->addr_fallbacks[0], 0);
  assert_int_equal ((int) r->addr_fallbacks[1], 1);
  assert_int_equal ((int) r->totals.v[NATSIM_STAT_NO_FREE_PORT], 1);
  assert_int_equal ((int) r->addr_failures[0], 1);
  /* No port blocks: no block figures. */
  assert_null (r->tl_blocks);
  assert_int_equal ((int) r->blocks_per_address, 0);
  natsim_nat_config_clear (&cfg);
}

/* ---------- deterministic NAT (RFC 7422) ---------- */

static NatsimNatConfig
det_config (guint n_addresses, guint n_inside, uint32_t ports)
{
  NatsimNatConfig cfg = pool_config (n_addresses, 1024, 65535, NATSIM_SELECT_HASH,
                                     NATSIM_POOLING_PAIRED);

  cfg.deterministic = true;
  cfg.ports_per_subscriber = ports;
  cfg.inside_addresses = g_new (uint32_t, n_inside);
  /* Given in descending order: subscribers are numbered in ascending. */
  for (guint i = 0; i < n_inside; i++)
    cfg.inside_addresses[i] = IP4 (100, 64, 0, 0) + (n_inside - 1 - i);
  cfg.n_inside = n_inside;
  return cfg;
}

static void
test_deterministic_arithmetic (void **state)
{
  NatsimNatConfig cfg = det_config (3, 1000, 0);
  NatsimDeterministicPlan d;
  Harness *h;
  const guint subs[] = { 0, 1, 333, 334, 999 };

  /* 1000 subscribers on 3 addresses: 334 per address share 64512 ports,
   * floor(64512 / 334) = 193 each. */
  assert_true (natsim_nat_deterministic_plan (&cfg, &d));
  assert_int_equal (d.subscribers, 1000);
  assert_int_equal (d.range, 64512);
  assert_int_equal (d.ports, 193);
  assert_int_equal (d.per_address, 334);
  assert_int_equal (d.capacity, 1002);
  assert_int_equal (d.addresses_needed, 3);
  h = harness_new_full (&cfg, false, 0, 100);
  for (guint k = 0; k < G_N_ELEMENTS (subs); k++)
    {
      guint i = subs[k];
      uint32_t lo = 1024 + (i % 334) * 193;
      NatsimNatResult res;

      assert_int_equal (udp_out (h, T0, ep (IP4 (100, 64, 0, 0) + i, 40000), R_SIP, &res),
                        NATSIM_VERDICT_FORWARDED);
      assert_int_equal (res.ext_addr, PUB (i / 334));
      assert_true (res.ext_port >= lo && res.ext_port < lo + 193);
    }
  /* Deterministic NAT keeps no block state. */
  assert_int_equal (natsim_nat_blocks_per_address (h->nat), 0);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_BLOCK_ACQUIRED), 0);
  harness_free (h);

  /* With a given range size: 64512 / 1000 = 64 subscribers per address. */
  cfg = det_config (2, 129, 1000);
  assert_false (natsim_nat_deterministic_plan (&cfg, &d));
  assert_int_equal (d.per_address, 64);
  assert_int_equal (d.capacity, 128);
  assert_int_equal (d.addresses_needed, 3);
  natsim_nat_config_clear (&cfg);
}

/* natsim check shows the arithmetic. */
static void
test_describe (void **state)
{
  NatsimNatConfig cfg = det_config (4, 1024, 0);
  g_autofree char *det = natsim_nat_config_describe (&cfg);
  g_autofree char *pba = NULL;

  assert_non_null (strstr (det, "subscribers              1024 (inside_addresses)\n"));
  assert_non_null (strstr (det, "ports per subscriber     252 = floor(64512 / ceil(1024 / 4))\n"));
  assert_non_null (strstr (det, "subscribers per address  256 = floor(64512 / 252)\n"));
  assert_non_null (strstr (det, "capacity                 1024 = 256 x 4 addresses\n"));
  assert_non_null (strstr (det, "addresses needed         4 = ceil(1024 / 256)\n"));
  natsim_nat_config_clear (&cfg);

  cfg = pool_config (8, 1024, 65535, NATSIM_SELECT_LEAST_LOADED, NATSIM_POOLING_PAIRED);
  cfg.ports_per_subscriber = 512;
  cfg.blocks_per_subscriber = 8;
  pba = natsim_nat_config_describe (&cfg);
  assert_non_null (strstr (pba, "blocks per address       126 = floor(64512 / 512)\n"));
  assert_non_null (strstr (pba, "blocks in the pool       1008 = 126 x 8"));
  assert_non_null (strstr (pba, "ports per subscriber     at most 4096 = 8 blocks x 512\n"));
  assert_non_null (strstr (pba, "least-loaded"));
  natsim_nat_config_clear (&cfg);
}

/* A subscriber's range is its limit: it is refused while its neighbour's
 * range has room; an address outside the subscribers owns no range. */
static void
test_deterministic_exhaustion (void **state)
{
  NatsimNatConfig cfg = det_config (1, 2, 2);
  Harness *h;
  uint32_t s0 = IP4 (100, 64, 0, 0), s1 = IP4 (100, 64, 0, 1);
  NatsimNatResult res;

  cfg.port_lo = 5000;
  cfg.port_hi = 5003;
  h = harness_new_full (&cfg, false, 0, 100);
  assert_int_equal (udp_out (h, T0, ep (s1, 1000), R_SIP, &res), NATSIM_VERDICT_FORWARDED);
  assert_true (res.ext_port == 5002 || res.ext_port == 5003);
  assert_int_equal (udp_out (h, T0, ep (s1, 1001), R_SIP, &res), NATSIM_VERDICT_FORWARDED);
  assert_true (res.ext_port == 5002 || res.ext_port == 5003);
  assert_int_equal (udp_out (h, T0, ep (s1, 1002), R_SIP, &res), NATSIM_VERDICT_ALLOC_FAILED);
  assert_int_equal (last_event (h, NATSIM_NAT_EV_ALLOC_FAILED)->cause,
                    NATSIM_FAIL_SUBSCRIBER_PORT_LIMIT);
  assert_int_equal (udp_out (h, T0, ep (s0, 1000), R_SIP, &res), NATSIM_VERDICT_FORWARDED);
  assert_true (res.ext_port == 5000 || res.ext_port == 5001);
  assert_int_equal (udp_out (h, T0, ep (IP4 (100, 64, 0, 2), 1000), R_SIP, &res),
                    NATSIM_VERDICT_ALLOC_FAILED);
  assert_int_equal (last_event (h, NATSIM_NAT_EV_ALLOC_FAILED)->cause, NATSIM_FAIL_NO_FREE_BLOCK);
  harness_free (h);
}

/* ---------- keys and presets ---------- */

static NatsimScenario *
load (const char *nat_keys, GError **error)
{
  g_autofree char *ini = g_strdup_printf (
    "[simulation]\nduration = 1m\n[nat]\n%s\n"
    "[population p]\nprofile = generic\ncount = 1\nflows_per_second = 1\n"
    "destinations = 198.51.100.1:53\n", nat_keys);

  return natsim_scenario_load_data (ini, strlen (ini), "t.ini", error);
}

static void
test_keys (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = NULL;
  NatsimNatConfig cfg;

  s = load ("address_selection = first-fit\nblock_timeout = 2m", &error);
  g_assert_no_error (error);
  assert_true (natsim_nat_config_from_params (s->nat, &cfg, &error));
  assert_int_equal (cfg.address_selection, NATSIM_SELECT_FIRST_FIT);
  assert_true (cfg.block_timeout == NATSIM_SEC (120));
  assert_false (cfg.deterministic);
  assert_null (cfg.inside_addresses);
  natsim_nat_config_clear (&cfg);
  g_clear_pointer (&s, natsim_scenario_free);

  s = load ("address_selection = best-fit", &error);
  assert_null (s);
  assert_non_null (error);
  assert_non_null (strstr (error->message, "address_selection"));
  g_clear_error (&error);

  s = load ("deterministic = true\naddresses = 203.0.113.1-203.0.113.4\n"
            "inside_addresses = 100.64.0.0/22\nports_per_subscriber = 252", &error);
  g_assert_no_error (error);
  assert_true (natsim_nat_config_from_params (s->nat, &cfg, &error));
  assert_true (cfg.deterministic);
  assert_int_equal (cfg.n_inside, 1024);
  natsim_nat_config_clear (&cfg);
  g_clear_pointer (&s, natsim_scenario_free);

  /* 1024 subscribers at 1000 ports: 64 per address, 16 addresses needed;
   * the scenario is refused with the place and the arithmetic. */
  s = load ("deterministic = true\naddresses = 203.0.113.1-203.0.113.4\n"
            "inside_addresses = 100.64.0.0/22\nports_per_subscriber = 1000", &error);
  assert_null (s);
  assert_non_null (error);
  assert_true (g_str_has_prefix (error->message, "t.ini:"));
  assert_true (g_str_has_suffix (error->message,
                                 "[nat] deterministic: 1024 inside_addresses need 16 public "
                                 "addresses at 1000 ports each (64 subscribers per address), "
                                 "addresses has 4"));
  g_clear_error (&error);

  /* 65536 subscribers cannot share one address's 64512 ports. */
  s = load ("deterministic = true", &error);
  assert_null (s);
  assert_non_null (error);
  assert_non_null (strstr (error->message, "less than one port each"));
}

/* Fills a 2-address pool from new hosts, all toward one remote endpoint;
 * returns the address index of each flow (-1: refused) in @got. */
static guint
fill_pool (Harness *h, int *got, guint n)
{
  guint ok = 0;

  for (guint i = 0; i < n; i++)
    {
      uint32_t a = flow_addr (h, T0, ep (IN (1 + i), 40000), R_SIP);
      got[i] = a == 0 ? -1 : (int) (a - PUB (0));
      ok += a != 0;
    }
  return ok;
}

static Harness *
preset_nat (const char *preset, const char *range)
{
  g_autofree char *keys = g_strdup_printf (
    "preset = %s\naddresses = 203.0.113.1-203.0.113.2\nport_range = %s", preset, range);
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = load (keys, &error);
  NatsimNatConfig cfg;

  g_assert_no_error (error);
  assert_true (natsim_nat_config_from_params (s->nat, &cfg, &error));
  return harness_new_full (&cfg, true, 1, 100);
}

/* Each preset selects addresses as its vendor does (docs/nat-model.md). */
static void
test_presets (void **state)
{
  int got[8];
  Harness *h;

  /* Linux: hash, no fall-back: every refusal is on a full address and no
   * flow moved to the other one. */
  h = preset_nat ("linux", "20000-20001");
  assert_int_equal (h->cfg.address_selection, NATSIM_SELECT_HASH);
  fill_pool (h, got, 8);
  assert_int_equal (count_events (h, NATSIM_NAT_EV_ADDRESS_FALLBACK), 0);
  for (guint i = 0; i < h->events->len; i++)
    {
      const NatsimNatEvent *ev = &g_array_index (h->events, NatsimNatEvent, i);
      if (ev->type == NATSIM_NAT_EV_ALLOC_FAILED)
        assert_int_equal (natsim_nat_ports_in_use (h->nat, ev->addr_index), 2);
    }
  harness_free (h);

  /* Cisco IOS overload (parity kept: two even ports per address) and ASA
   * PAT: first fit, the second address only once the first is full. */
  {
    const char *const presets[] = { "cisco-ios", "cisco-asa" };
    const int capacity[] = { 2, 4 };

    for (guint p = 0; p < G_N_ELEMENTS (presets); p++)
      {
        guint ok;

        h = preset_nat (presets[p], "20000-20003");
        assert_int_equal (h->cfg.address_selection, NATSIM_SELECT_FIRST_FIT);
        ok = fill_pool (h, got, 8);
        assert_int_equal (ok, 2 * capacity[p]);
        for (int i = 0; i < 2 * capacity[p]; i++)
          assert_int_equal (got[i], i / capacity[p]);
        assert_int_equal (count_events (h, NATSIM_NAT_EV_ADDRESS_FALLBACK), capacity[p]);
        harness_free (h);
      }
  }

  /* Juniper PBA: a new subscriber's block on the address with the most
   * free blocks (2 blocks of 128 per address here). */
  h = preset_nat ("juniper-pba", "20000-20255");
  assert_int_equal (h->cfg.address_selection, NATSIM_SELECT_LEAST_LOADED);
  assert_int_equal (fill_pool (h, got, 5), 4);
  assert_int_equal (got[0], 0);
  assert_int_equal (got[1], 1);
  assert_int_equal (got[2], 0);
  assert_int_equal (got[3], 1);
  assert_int_equal (got[4], -1);
  assert_int_equal (last_event (h, NATSIM_NAT_EV_ALLOC_FAILED)->cause, NATSIM_FAIL_NO_FREE_BLOCK);
  harness_free (h);
}

/* Runs replication 1 of scenario text @ini with --events; the narration,
 * and the run's result in @ret_result. */
static char *
narrated_run (const char *ini, NatsimRunResult **ret_result)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = natsim_scenario_load_data (ini, strlen (ini), "t.ini", &error);
  char *buf = NULL;
  size_t len = 0;
  FILE *events;

  g_assert_no_error (error);
  events = open_memstream (&buf, &len);
  *ret_result = natsim_simulate_replication (s, 0, events, &error);
  fclose (events);
  g_assert_no_error (error);
  return buf;
}

/* --events narrates fall-backs, blocks and the cause of a refusal. */
static void
test_events_narration (void **state)
{
  const char *ini =
    "[simulation]\nduration = 20s\nseed = 1\n"
    "[nat]\npreset = juniper-pba\naddresses = 203.0.113.1-203.0.113.2\n"
    "port_range = 20000-20255\naddress_selection = first-fit\n"
    "[population p]\nprofile = generic\ncount = 5\nflows = 5\nflow_spacing = 1s\n"
    "packets_per_flow = 1\nsource_ports = fixed\nsource_port = 40000\n"
    "destinations = 198.51.100.1:53\n";
  g_autoptr (NatsimRunResult) r = NULL;
  g_autofree char *text = narrated_run (ini, &r);

  /* Hosts 1 and 2 fill address 1's two blocks, 3 and 4 fall back to
   * address 2, host 5 finds no block. */
  assert_non_null (strstr (text, " in a new port block of 128 taken for the subscriber "
                                 "(ports 20000-20127)"));
  assert_non_null (strstr (text, " -> (203.0.113.2:20000) -> 198.51.100.1:53  forwarded, "
                                 "address fall-back: 203.0.113.1 could not serve it; "));
  assert_non_null (strstr (text, "  dropped, allocation failed (no_free_block): "));
  assert_int_equal ((int) r->totals.v[NATSIM_STAT_ADDRESS_FALLBACKS], 2);
  assert_int_equal ((int) r->totals.v[NATSIM_STAT_NO_FREE_BLOCK], 1);
  assert_int_equal ((int) r->addr_fallbacks[1], 2);
}

/* --events on a hairpinned packet through a static forward: the sender's
 * new binding is told as the sender's; the forward's binding made by the
 * second leg is not the sender's earlier mapping. */
static void
test_events_narration_hairpin (void **state)
{
  const char *ini =
    "[simulation]\nduration = 20s\nseed = 1\n"
    "[nat]\npreset = linux\naddresses = 203.0.113.1\nhairpinning = true\n"
    "[forward trunk]\nprotocol = udp\npublic = 203.0.113.1:5062\ninside = 10.0.0.1:5062\n"
    "[population trunk]\nprofile = generic\nflows = 1\nsource_ports = fixed\n"
    "source_port = 5062\ndestinations = 198.51.100.10:5062\n"
    "[population lan]\nprofile = generic\nflows = 1\nstart = 10s\n"
    "destinations = 203.0.113.1:5062\n";
  g_autoptr (NatsimRunResult) r = NULL;
  g_autofree char *text = narrated_run (ini, &r);
  const char *line;

  line = strstr (text, "\n10.000000 lan udp ");
  assert_non_null (line);
  assert_non_null (strstr (line, "-> 203.0.113.1:5062  forwarded, new binding, "));
  /* 10.0.0.2 had no mapping before this packet. */
  assert_null (g_strstr_len (line, strchr (line + 1, '\n') - line, "public endpoint was"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_hash_no_fallback),
    cmocka_unit_test (test_first_fit_fills_in_order),
    cmocka_unit_test (test_first_fit_per_destination),
    cmocka_unit_test (test_paired_keeps_address),
    cmocka_unit_test (test_round_robin),
    cmocka_unit_test (test_least_loaded),
    cmocka_unit_test (test_least_loaded_blocks),
    cmocka_unit_test (test_block_figures_and_release),
    cmocka_unit_test (test_block_release_after_quarantine),
    cmocka_unit_test (test_block_timeout),
    cmocka_unit_test (test_block_timeout_at_limit),
    cmocka_unit_test (test_block_timeout_after_return),
    cmocka_unit_test (test_forward_on_other_address_paired),
    cmocka_unit_test (test_failure_causes_engine),
    cmocka_unit_test (test_failure_causes_collected),
    cmocka_unit_test (test_fallbacks_collected),
    cmocka_unit_test (test_deterministic_arithmetic),
    cmocka_unit_test (test_deterministic_exhaustion),
    cmocka_unit_test (test_describe),
    cmocka_unit_test (test_keys),
    cmocka_unit_test (test_presets),
    cmocka_unit_test (test_events_narration),
    cmocka_unit_test (test_events_narration_hairpin),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
