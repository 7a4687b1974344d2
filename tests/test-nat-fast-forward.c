/* natsim: the fast-forward of steady UDP exchanges (src/nat/nat-lease.c).
 *
 * The contract is "the same as sending the packets": every test runs the
 * same traffic on two engines, one packet by packet, the other with the
 * steady part as a train, and compares what the engines know and tell
 * (flow state, lifecycle events) from the train's end on. */
#include "nat-harness.h"

#define TICK NATSIM_SEC (1)

static const Ep IN_EP = { IN (1), 16384 };
static const Ep REM_EP = { REM_A, 20000 };

/* One exchange of the media flow at @t: the packet and its answer. */
static void
exchange (Harness *h, NatsimTime t)
{
  assert_int_equal (udp_out (h, t, IN_EP, REM_EP, NULL), NATSIM_VERDICT_FORWARDED);
  assert_int_equal (udp_in (h, t, REM_EP, IN_EP, NULL), NATSIM_VERDICT_FORWARDED);
}

static NatsimNatTrain
train (NatsimTime next, NatsimTime gap, NatsimTime last)
{
  NatsimNatTrain tr = { 0 };

  tr.in_addr = IN_EP.addr;
  tr.in_port = IN_EP.port;
  tr.rem_addr = REM_EP.addr;
  tr.rem_port = REM_EP.port;
  tr.next = next;
  tr.gap = gap;
  tr.last = last;
  return tr;
}

static NatsimFlowState
state (Harness *h)
{
  NatsimFlowState st;

  natsim_nat_flow_state (h->nat, NATSIM_PROTO_UDP, IN_EP.addr, IN_EP.port, REM_EP.addr,
                         REM_EP.port, &st);
  return st;
}

static void
assert_same_state (Harness *a, Harness *b)
{
  NatsimFlowState x = state (a), y = state (b);

  assert_int_equal (x.known, y.known);
  assert_int_equal (x.alive, y.alive);
  assert_int_equal (x.expiry, y.expiry);
  assert_int_equal (x.died, y.died);
  assert_int_equal (x.ext_addr, y.ext_addr);
  assert_int_equal (x.ext_port, y.ext_port);
}

static void
assert_same_events (Harness *a, Harness *b)
{
  assert_int_equal (a->events->len, b->events->len);
  for (guint i = 0; i < a->events->len; i++)
    {
      const NatsimNatEvent *x = &g_array_index (a->events, NatsimNatEvent, i);
      const NatsimNatEvent *y = &g_array_index (b->events, NatsimNatEvent, i);
      assert_int_equal (x->type, y->type);
      assert_int_equal (x->time, y->time);
      assert_int_equal (x->ext_port, y->ext_port);
    }
}

static void
check_equivalence (NatsimRefresh refresh, NatsimTime gap, guint n)
{
  NatsimNatConfig ca = base_config (), cb = base_config ();
  Harness *a, *b;
  NatsimTime next = T0 + 3 * TICK, last = next + (n - 1) * gap;
  NatsimNatTrain tr = train (next, gap, last);

  ca.refresh = cb.refresh = refresh;
  a = harness_new_full (&ca, false, 0, 200);
  b = harness_new_full (&cb, false, 0, 200);
  /* The first ticks one by one on both: created, answered, past 2 s. */
  for (guint k = 0; k < 3; k++)
    {
      exchange (a, T0 + k * TICK);
      exchange (b, T0 + k * TICK);
    }
  for (guint k = 0; k < n; k++)
    exchange (a, next + k * gap);
  assert_true (natsim_nat_fast_forward (b->nat, &tr, 1));
  natsim_nat_advance (a->nat, last);
  natsim_nat_advance (b->nat, last);
  assert_same_state (a, b);
  assert_true (state (b).alive);
  assert_int_equal (state (b).expiry, last + NATSIM_SEC (120));
  /* Just before and at the expiry the train's last exchange set. */
  natsim_nat_advance (a->nat, last + NATSIM_SEC (120) - 1);
  natsim_nat_advance (b->nat, last + NATSIM_SEC (120) - 1);
  assert_same_state (a, b);
  assert_true (state (b).alive);
  natsim_nat_advance (a->nat, last + NATSIM_SEC (120));
  natsim_nat_advance (b->nat, last + NATSIM_SEC (120));
  assert_same_state (a, b);
  assert_false (state (b).alive);
  assert_same_events (a, b);
  /* The flow comes back: a new binding on both, the mark gone. */
  exchange (a, last + NATSIM_SEC (200));
  exchange (b, last + NATSIM_SEC (200));
  assert_same_state (a, b);
  assert_int_equal (state (b).expiry, last + NATSIM_SEC (230));
  assert_same_events (a, b);
  harness_free (a);
  harness_free (b);
}

static void
test_equals_packets (void **state_)
{
  check_equivalence (NATSIM_REFRESH_BOTH, TICK, 1);
  check_equivalence (NATSIM_REFRESH_BOTH, TICK, 500);
  check_equivalence (NATSIM_REFRESH_OUTBOUND, TICK, 500);
  /* RTCP-like: every 5 s; gaps up to just under the stream timeout. */
  check_equivalence (NATSIM_REFRESH_BOTH, NATSIM_SEC (5), 100);
  check_equivalence (NATSIM_REFRESH_BOTH, NATSIM_SEC (120) - 1, 10);
}

/* Each condition that makes closed form inexact refuses the train. */
static void
test_refusals (void **state_)
{
  NatsimNatConfig cfg = base_config ();
  Harness *h = harness_new_full (&cfg, false, 0, 200);
  NatsimNatTrain tr;
  NatsimNatTrain two[2];
  NatsimTime before;

  /* Unknown flow. */
  tr = train (T0 + 3 * TICK, TICK, T0 + 10 * TICK);
  assert_false (natsim_nat_fast_forward (h->nat, &tr, 1));
  /* Alive but never answered: the UDP timeout, not the stream's. */
  assert_int_equal (udp_out (h, T0, IN_EP, REM_EP, NULL), NATSIM_VERDICT_FORWARDED);
  assert_false (natsim_nat_fast_forward (h->nat, &tr, 1));
  assert_int_equal (udp_in (h, T0, REM_EP, IN_EP, NULL), NATSIM_VERDICT_FORWARDED);
  /* Answered, but the next exchange is not more than 2 s after creation. */
  tr = train (T0 + 2 * TICK, TICK, T0 + 10 * TICK);
  assert_false (natsim_nat_fast_forward (h->nat, &tr, 1));
  /* The binding dies (UDP timeout 30 s) before the next exchange. */
  tr = train (T0 + NATSIM_SEC (30), TICK, T0 + NATSIM_SEC (40));
  assert_false (natsim_nat_fast_forward (h->nat, &tr, 1));
  /* A gap the stream timeout does not bridge. */
  tr = train (T0 + 3 * TICK, NATSIM_SEC (120), T0 + 3 * TICK + NATSIM_SEC (240));
  assert_false (natsim_nat_fast_forward (h->nat, &tr, 1));
  /* A train whose first exchange is already past (steady otherwise), or
   * ending before it starts, or without a gap. */
  natsim_nat_advance (h->nat, T0 + 5 * TICK);
  tr = train (T0 + 4 * TICK, TICK, T0 + 10 * TICK);
  assert_false (natsim_nat_fast_forward (h->nat, &tr, 1));
  tr = train (T0 + 6 * TICK, TICK, T0 + 5 * TICK);
  assert_false (natsim_nat_fast_forward (h->nat, &tr, 1));
  tr = train (T0 + 6 * TICK, 0, T0 + 6 * TICK);
  assert_false (natsim_nat_fast_forward (h->nat, &tr, 1));
  /* Two schedules for one flow. */
  two[0] = train (T0 + 6 * TICK, TICK, T0 + 10 * TICK);
  two[1] = two[0];
  assert_false (natsim_nat_fast_forward (h->nat, two, 2));
  /* All or nothing: a good train with a bad one changes nothing. */
  before = state (h).expiry;
  two[1].in_port++;
  assert_false (natsim_nat_fast_forward (h->nat, two, 2));
  assert_int_equal (state (h).expiry, before);
  /* And the good one alone goes. */
  assert_true (natsim_nat_fast_forward (h->nat, two, 1));
  assert_int_equal (state (h).expiry, T0 + 10 * TICK + NATSIM_SEC (120));
  /* Not twice. */
  assert_false (natsim_nat_fast_forward (h->nat, two, 1));
  harness_free (h);
}

/* A remote that is one of the NAT's own public addresses would be a
 * hairpin, which other paths can refresh: refused. */
static void
test_refuses_hairpin (void **state_)
{
  NatsimNatConfig cfg = base_config ();
  Harness *h;
  Ep in = IN_EP, pub = { PUB1, 5005 };
  NatsimNatTrain tr;

  cfg.hairpinning = true;
  h = harness_new_full (&cfg, false, 0, 200);
  udp_out (h, T0, in, pub, NULL);
  /* answered (inside addressing), and past 2 s: steady but for the remote */
  assert_int_equal (udp_in (h, T0, pub, in, NULL), NATSIM_VERDICT_FORWARDED);
  udp_out (h, T0 + 3 * TICK, in, pub, NULL);
  tr = train (T0 + 4 * TICK, TICK, T0 + 10 * TICK);
  tr.rem_addr = pub.addr;
  tr.rem_port = pub.port;
  assert_false (natsim_nat_fast_forward (h->nat, &tr, 1));
  /* The same train toward an ordinary remote goes. */
  udp_out (h, T0 + 3 * TICK, in, REM_EP, NULL);
  udp_in (h, T0 + 3 * TICK, REM_EP, in, NULL);
  udp_out (h, T0 + 6 * TICK, in, REM_EP, NULL);
  tr = train (T0 + 7 * TICK, TICK, T0 + 10 * TICK);
  assert_true (natsim_nat_fast_forward (h->nat, &tr, 1));
  harness_free (h);
}

/* A packet of the flow from elsewhere during the train is overwritten by
 * the train's later exchanges, as it would be; one after the train counts. */
static void
test_refresh_inside_train (void **state_)
{
  NatsimNatConfig ca = base_config (), cb = base_config ();
  Harness *a = harness_new_full (&ca, false, 0, 200), *b = harness_new_full (&cb, false, 0, 200);
  NatsimTime next = T0 + 3 * TICK, last = T0 + 100 * TICK;
  NatsimNatTrain tr = train (next, TICK, last);

  for (guint k = 0; k < 3; k++)
    {
      exchange (a, T0 + k * TICK);
      exchange (b, T0 + k * TICK);
    }
  assert_true (natsim_nat_fast_forward (b->nat, &tr, 1));
  for (NatsimTime t = next; t <= last; t += TICK)
    {
      if (t == T0 + 50 * TICK)
        {
          /* the extra packet comes between two exchanges */
          udp_out (a, t - NATSIM_MSEC (500), IN_EP, REM_EP, NULL);
          udp_out (b, t - NATSIM_MSEC (500), IN_EP, REM_EP, NULL);
        }
      exchange (a, t);
    }
  natsim_nat_advance (b->nat, last);
  assert_same_state (a, b);
  udp_out (a, last + NATSIM_SEC (7), IN_EP, REM_EP, NULL);
  udp_out (b, last + NATSIM_SEC (7), IN_EP, REM_EP, NULL);
  assert_same_state (a, b);
  assert_int_equal (state (b).expiry, last + NATSIM_SEC (127));
  natsim_nat_advance (a->nat, last + NATSIM_SEC (500));
  natsim_nat_advance (b->nat, last + NATSIM_SEC (500));
  assert_same_state (a, b);
  assert_same_events (a, b);
  harness_free (a);
  harness_free (b);
}

/* A hint is only a hint: a stale or wrong one finds the right binding. */
static void
test_hint_checked (void **state_)
{
  NatsimNatConfig cfg = base_config ();
  Harness *h = harness_new_full (&cfg, false, 0, 200);
  Ep other = { IN (2), 16384 };
  NatsimNatResult r1, r2;
  NatsimPacket pkt = { 0 };
  NatsimNatResult res = { 0 };
  NatsimFlowState st;
  uint32_t hint;

  udp_out (h, T0, IN_EP, REM_EP, &r1);
  udp_out (h, T0, other, REM_EP, &r2);
  assert_int_not_equal (r1.hint, 0);
  assert_int_not_equal (r1.hint, r2.hint);
  pkt.time = T0 + TICK;
  pkt.proto = NATSIM_PROTO_UDP;
  pkt.dir = NATSIM_DIR_OUT;
  pkt.src_addr = IN_EP.addr;
  pkt.src_port = IN_EP.port;
  pkt.dst_addr = REM_EP.addr;
  pkt.dst_port = REM_EP.port;
  /* The other flow's record, an out-of-range one: the flow's own. */
  for (guint k = 0; k < 3; k++)
    {
      pkt.hint = k == 0 ? r2.hint : k == 1 ? UINT32_MAX : r1.hint;
      assert_int_equal (natsim_nat_process (h->nat, &pkt, &res), NATSIM_VERDICT_FORWARDED);
      assert_int_equal (res.ext_port, r1.ext_port);
      assert_int_equal (res.hint, r1.hint);
      assert_false (res.new_binding);
      hint = pkt.hint;
      assert_true (natsim_nat_flow_state_hint (h->nat, NATSIM_PROTO_UDP, IN_EP.addr, IN_EP.port,
                                               REM_EP.addr, REM_EP.port, &hint, &st));
      assert_true (st.alive);
      assert_int_equal (st.ext_port, r1.ext_port);
      assert_int_equal (hint, r1.hint);
    }
  /* The binding dies: its hint no longer finds it alive. */
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (60));
  hint = r1.hint;
  assert_true (natsim_nat_flow_state_hint (h->nat, NATSIM_PROTO_UDP, IN_EP.addr, IN_EP.port,
                                           REM_EP.addr, REM_EP.port, &hint, &st));
  assert_false (st.alive);
  pkt.time = T0 + NATSIM_SEC (61);
  pkt.hint = r1.hint;
  assert_int_equal (natsim_nat_process (h->nat, &pkt, &res), NATSIM_VERDICT_FORWARDED);
  assert_true (res.new_binding);
  assert_true (res.rebinding);
  /* A record freed (tombstone forgotten) still holds the flow's key: its
   * hint must not be taken for the flow's record. */
  natsim_nat_advance (h->nat, T0 + NATSIM_SEC (2000));
  assert_int_equal (natsim_nat_live_bindings (h->nat), 0);
  pkt.time = T0 + NATSIM_SEC (2001);
  pkt.hint = res.hint;
  assert_int_equal (natsim_nat_process (h->nat, &pkt, &r1), NATSIM_VERDICT_FORWARDED);
  assert_true (r1.new_binding);
  pkt.src_addr = other.addr;
  pkt.hint = 0;
  assert_int_equal (natsim_nat_process (h->nat, &pkt, &r2), NATSIM_VERDICT_FORWARDED);
  assert_true (r2.new_binding);
  assert_int_not_equal (r1.hint, r2.hint);
  assert_int_equal (natsim_nat_live_bindings (h->nat), 2);
  harness_free (h);
}

/* RTP and RTCP of one call whose last exchanges fall on one instant expire
 * together: in the order the packets' timers give them (the engine's
 * events in order), since with port blocks the order in which blocks come
 * back decides later allocations. */
static void
test_equal_expiries_keep_order (void **state_)
{
  static const NatsimTime stream[] = { NATSIM_SEC (120), NATSIM_SEC (37) };

  for (guint v = 0; v < G_N_ELEMENTS (stream); v++)
    {
      NatsimNatConfig ca = base_config (), cb = base_config ();
      Harness *a, *b;
      Ep rtcp_in = { IN_EP.addr, (uint16_t) (IN_EP.port + 1) };
      Ep rtcp_rem = { REM_EP.addr, (uint16_t) (REM_EP.port + 1) };
      NatsimTime last = T0 + NATSIM_SEC (300);
      NatsimNatTrain tr[2];

      ca.udp_stream_timeout = cb.udp_stream_timeout = stream[v];
      a = harness_new_full (&ca, false, 0, 200);
      b = harness_new_full (&cb, false, 0, 200);
      for (Harness *h = a; h != NULL; h = h == a ? b : NULL)
        for (guint k = 0; k < 3; k++)
          {
            exchange (h, T0 + k * TICK);
            if (k == 0)
              {
                udp_out (h, T0, rtcp_in, rtcp_rem, NULL);
                udp_in (h, T0, rtcp_rem, rtcp_in, NULL);
              }
          }
      for (NatsimTime t = T0 + 3 * TICK; t <= last; t += TICK)
        {
          exchange (a, t);
          if ((t - T0) % NATSIM_SEC (5) == 0)
            {
              udp_out (a, t, rtcp_in, rtcp_rem, NULL);
              udp_in (a, t, rtcp_rem, rtcp_in, NULL);
            }
        }
      tr[0] = train (T0 + 3 * TICK, TICK, last);
      tr[1] = train (T0 + NATSIM_SEC (5), NATSIM_SEC (5), last);
      tr[1].in_port++;
      tr[1].rem_port++;
      assert_true (natsim_nat_fast_forward (b->nat, tr, 2));
      natsim_nat_advance (a->nat, last + NATSIM_SEC (1000));
      natsim_nat_advance (b->nat, last + NATSIM_SEC (1000));
      assert_int_equal (count_events (a, NATSIM_NAT_EV_BINDING_EXPIRED), 2);
      assert_same_events (a, b);
      harness_free (a);
      harness_free (b);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_equals_packets),
    cmocka_unit_test (test_refusals),
    cmocka_unit_test (test_refuses_hairpin),
    cmocka_unit_test (test_refresh_inside_train),
    cmocka_unit_test (test_hint_checked),
    cmocka_unit_test (test_equal_expiries_keep_order),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
