/* Tests for src/core/eventq.c: ordering, FIFO ties, cancellation, peek,
 * monotonicity, bounded memory, and a randomised comparison against a
 * reference binary heap keyed by (time, insertion sequence). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib.h>

#include "natsim/eventq.h"

/* A small deterministic generator for the tests (SplitMix64). */
static uint64_t
test_next (uint64_t *s)
{
  uint64_t z = (*s += UINT64_C (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * UINT64_C (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static uint64_t
test_below (uint64_t *s, uint64_t n)
{
  return test_next (s) % n;
}

static void
test_order (void **state)
{
  g_autoptr (NatsimEventQueue) q = natsim_eventq_new ();
  uint64_t rng = 1;
  NatsimEvent ev;
  NatsimTime prev = 0;
  size_t n = 0;

  (void) state;
  assert_int_equal (natsim_eventq_size (q), 0);
  assert_false (natsim_eventq_pop (q, &ev));
  for (int i = 0; i < 20000; i++)
    natsim_eventq_push (q, test_below (&rng, UINT64_C (1) << (8 + i % 50)), 1, 2,
                        (uint64_t) i);
  assert_int_equal (natsim_eventq_size (q), 20000);
  while (natsim_eventq_pop (q, &ev))
    {
      assert_true (ev.time >= prev);
      assert_int_equal (ev.kind, 1);
      assert_int_equal (ev.aux, 2);
      prev = ev.time;
      n++;
    }
  assert_int_equal (n, 20000);
  assert_int_equal (natsim_eventq_size (q), 0);
  assert_true (natsim_eventq_peek_time (q) == NATSIM_TIME_INFINITY);
}

static void
test_ties_fifo (void **state)
{
  g_autoptr (NatsimEventQueue) q = natsim_eventq_new ();
  NatsimEvent ev;
  uint64_t expect = 0;

  (void) state;
  /* Three interleaved times; the middle one gets 100k events. */
  for (uint64_t i = 0; i < 100000; i++)
    {
      natsim_eventq_push (q, NATSIM_SEC (5), 0, 0, i);
      if (i % 1000 == 0)
        {
          natsim_eventq_push (q, NATSIM_SEC (3), 1, 0, i);
          natsim_eventq_push (q, NATSIM_SEC (7) + 1, 2, 0, i);
        }
    }
  for (uint64_t i = 0; i < 100; i++)
    {
      assert_true (natsim_eventq_pop (q, &ev));
      assert_true (ev.time == NATSIM_SEC (3));
      assert_int_equal (ev.kind, 1);
      assert_true (ev.data == i * 1000);
    }
  for (uint64_t i = 0; i < 100000; i++)
    {
      assert_true (natsim_eventq_pop (q, &ev));
      assert_true (ev.time == NATSIM_SEC (5));
      assert_true (ev.data == expect);
      expect++;
      /* Events pushed at the current time while draining come after the
       * ones already there. */
      if (i == 50000)
        natsim_eventq_push (q, NATSIM_SEC (5), 0, 0, 100000);
    }
  assert_true (natsim_eventq_pop (q, &ev));
  assert_true (ev.time == NATSIM_SEC (5) && ev.data == 100000);
  for (uint64_t i = 0; i < 100; i++)
    {
      assert_true (natsim_eventq_pop (q, &ev));
      assert_true (ev.time == NATSIM_SEC (7) + 1);
      assert_true (ev.data == i * 1000);
    }
  assert_false (natsim_eventq_pop (q, &ev));
}

static void
test_cancel (void **state)
{
  g_autoptr (NatsimEventQueue) q = natsim_eventq_new ();
  NatsimEventId a, b, c, d;
  NatsimEvent ev;

  (void) state;
  a = natsim_eventq_push (q, 10, 0, 0, 'a');
  b = natsim_eventq_push (q, 20, 0, 0, 'b');
  c = natsim_eventq_push (q, 20, 0, 0, 'c');
  d = natsim_eventq_push (q, 30, 0, 0, 'd');
  assert_true (a != 0 && b != 0 && c != 0 && d != 0);
  assert_true (a != b && b != c && c != d && a != d);
  assert_int_equal (natsim_eventq_size (q), 4);

  natsim_eventq_cancel (q, b);
  assert_int_equal (natsim_eventq_size (q), 3);
  natsim_eventq_cancel (q, b); /* twice: no-op */
  natsim_eventq_cancel (q, 0); /* never valid */
  natsim_eventq_cancel (q, UINT64_MAX);
  natsim_eventq_cancel (q, (UINT64_C (1) << 32) | 12345);
  assert_int_equal (natsim_eventq_size (q), 3);

  assert_true (natsim_eventq_peek_time (q) == 10);
  assert_true (natsim_eventq_pop (q, &ev));
  assert_true (ev.id == a && ev.data == 'a' && ev.time == 10);
  natsim_eventq_cancel (q, a); /* already fired: no-op */
  assert_int_equal (natsim_eventq_size (q), 2);

  /* The slot of a fired or cancelled event is reused; old ids stay dead. */
  {
    NatsimEventId e = natsim_eventq_push (q, 25, 0, 0, 'e');

    assert_true (e != a && e != b);
    natsim_eventq_cancel (q, a);
    natsim_eventq_cancel (q, b);
    assert_int_equal (natsim_eventq_size (q), 3);
    natsim_eventq_cancel (q, d);
    assert_int_equal (natsim_eventq_size (q), 2);
    assert_true (natsim_eventq_pop (q, &ev) && ev.id == c && ev.time == 20);
    assert_true (natsim_eventq_pop (q, &ev) && ev.id == e && ev.time == 25);
  }
  assert_false (natsim_eventq_pop (q, &ev));
  assert_int_equal (natsim_eventq_size (q), 0);
  assert_true (natsim_eventq_peek_time (q) == NATSIM_TIME_INFINITY);

  /* Cancelling the earliest event moves peek to the next one. */
  a = natsim_eventq_push (q, 100, 0, 0, 1);
  b = natsim_eventq_push (q, 200, 0, 0, 2);
  assert_true (natsim_eventq_peek_time (q) == 100);
  natsim_eventq_cancel (q, a);
  assert_true (natsim_eventq_peek_time (q) == 200);
  natsim_eventq_cancel (q, b);
  assert_true (natsim_eventq_peek_time (q) == NATSIM_TIME_INFINITY);
  assert_false (natsim_eventq_pop (q, &ev));
}

static void
test_peek (void **state)
{
  g_autoptr (NatsimEventQueue) q = natsim_eventq_new ();
  NatsimEvent ev;

  (void) state;
  assert_true (natsim_eventq_peek_time (q) == NATSIM_TIME_INFINITY);
  natsim_eventq_push (q, NATSIM_SEC (100), 0, 0, 1);
  natsim_eventq_push (q, NATSIM_SEC (50), 0, 0, 2);
  assert_true (natsim_eventq_peek_time (q) == NATSIM_SEC (50));
  assert_true (natsim_eventq_peek_time (q) == NATSIM_SEC (50));
  assert_int_equal (natsim_eventq_size (q), 2);

  /* After a peek, pushes between the last popped time (0) and the peeked
   * time are still legal and come first, FIFO among equal times. */
  natsim_eventq_push (q, NATSIM_SEC (10), 0, 0, 3);
  natsim_eventq_push (q, NATSIM_SEC (10), 0, 0, 4);
  natsim_eventq_push (q, 0, 0, 0, 5);
  natsim_eventq_push (q, NATSIM_SEC (50), 0, 0, 6);
  assert_true (natsim_eventq_peek_time (q) == 0);
  assert_true (natsim_eventq_pop (q, &ev) && ev.data == 5);
  assert_true (natsim_eventq_pop (q, &ev) && ev.data == 3);
  natsim_eventq_push (q, NATSIM_SEC (10), 0, 0, 7);
  natsim_eventq_push (q, NATSIM_SEC (20), 0, 0, 8);
  assert_true (natsim_eventq_pop (q, &ev) && ev.data == 4);
  assert_true (natsim_eventq_pop (q, &ev) && ev.data == 7);
  assert_true (natsim_eventq_peek_time (q) == NATSIM_SEC (20));
  assert_true (natsim_eventq_pop (q, &ev) && ev.data == 8);
  assert_true (natsim_eventq_pop (q, &ev) && ev.data == 2);
  assert_true (natsim_eventq_pop (q, &ev) && ev.data == 6);
  assert_true (natsim_eventq_peek_time (q) == NATSIM_SEC (100));
  assert_true (natsim_eventq_pop (q, &ev) && ev.data == 1);
  assert_true (natsim_eventq_peek_time (q) == NATSIM_TIME_INFINITY);
  assert_int_equal (natsim_eventq_size (q), 0);
}

static void
test_extreme_times (void **state)
{
  g_autoptr (NatsimEventQueue) q = natsim_eventq_new ();
  NatsimEvent ev;

  (void) state;
  natsim_eventq_push (q, NATSIM_TIME_INFINITY, 0, 0, 3);
  natsim_eventq_push (q, NATSIM_TIME_INFINITY - 1, 0, 0, 2);
  natsim_eventq_push (q, 0, 0, 0, 0);
  natsim_eventq_push (q, UINT64_C (1) << 63, 0, 0, 1);
  natsim_eventq_push (q, NATSIM_TIME_INFINITY, 0, 0, 4);
  for (uint64_t i = 0; i < 5; i++)
    {
      assert_true (natsim_eventq_pop (q, &ev));
      assert_true (ev.data == i);
    }
  assert_true (ev.time == NATSIM_TIME_INFINITY);
  assert_false (natsim_eventq_pop (q, &ev));
  natsim_eventq_push (q, NATSIM_TIME_INFINITY, 0, 0, 5);
  assert_true (natsim_eventq_pop (q, &ev) && ev.data == 5);
}

static unsigned criticals;

static void
count_criticals (const gchar *domain, GLogLevelFlags level, const gchar *message,
                 gpointer user_data)
{
  (void) domain;
  (void) level;
  (void) message;
  (void) user_data;
  criticals++;
}

static void
test_monotonicity (void **state)
{
  g_autoptr (NatsimEventQueue) q = natsim_eventq_new ();
  GLogLevelFlags old_fatal;
  guint handler;
  NatsimEvent ev;

  (void) state;
  natsim_eventq_push (q, 100, 0, 0, 0);
  natsim_eventq_push (q, 200, 0, 0, 1);
  assert_true (natsim_eventq_pop (q, &ev) && ev.time == 100);

  /* Pushing before the last popped time is a programming error: a
   * critical, the push is refused (id 0) and the queue is unchanged.
   * G_DEBUG=fatal-criticals is in the test environment, so relax it. */
  old_fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK);
  handler = g_log_set_handler ("natsim-core", G_LOG_LEVEL_CRITICAL, count_criticals, NULL);
  criticals = 0;
  assert_true (natsim_eventq_push (q, 99, 0, 0, 2) == 0);
  assert_int_equal (criticals, 1);
  g_log_remove_handler ("natsim-core", handler);
  g_log_set_always_fatal (old_fatal);

  assert_int_equal (natsim_eventq_size (q), 1);
  assert_true (natsim_eventq_push (q, 100, 0, 0, 3) != 0); /* equal is fine */
  assert_true (natsim_eventq_pop (q, &ev) && ev.data == 3);
  assert_true (natsim_eventq_pop (q, &ev) && ev.data == 1);
}

/* Timer churn (a NAT re-arming a binding timeout on every packet): cancelled
 * entries must not pile up. */
static void
test_memory_bounded (void **state)
{
  enum { TIMERS = 1000 };
  g_autoptr (NatsimEventQueue) q = natsim_eventq_new ();
  NatsimEventId ids[TIMERS];
  NatsimTime now = 0;
  uint64_t rng = 7;
  NatsimEvent ev;
  size_t peak = 0;

  (void) state;
  for (int i = 0; i < TIMERS; i++)
    ids[i] = natsim_eventq_push (q, NATSIM_SEC (7440), 0, 0, (uint64_t) i);
  for (int round = 0; round < 1000000; round++)
    {
      size_t i = (size_t) test_below (&rng, TIMERS);
      size_t m;

      /* A packet event now, that re-arms timer i far ahead. */
      natsim_eventq_push (q, now + 1000, 1, 0, 0);
      assert_true (natsim_eventq_pop (q, &ev));
      assert_int_equal (ev.kind, 1);
      now = ev.time;
      natsim_eventq_cancel (q, ids[i]);
      ids[i] = natsim_eventq_push (q, now + NATSIM_SEC (7440) + test_below (&rng, 1000), 0, 0,
                                   (uint64_t) i);
      m = natsim_eventq_memory_bytes (q);
      peak = MAX (peak, m);
    }
  assert_int_equal (natsim_eventq_size (q), TIMERS);
  /* Without compaction a million stale 32-byte entries would be >= 32 MB. */
  assert_true (peak < 8u * 1024 * 1024);

  for (int i = 0; i < TIMERS; i++)
    natsim_eventq_cancel (q, ids[i]);
  assert_int_equal (natsim_eventq_size (q), 0);

  /* Equal-time bursts in many different places do not leave capacity
   * behind either: memory follows the peak number of pending events. */
  for (int burst = 0; burst < 200; burst++)
    {
      NatsimTime t = now + (UINT64_C (1) << (burst % 48)) + (uint64_t) burst;

      for (int i = 0; i < 10000; i++)
        natsim_eventq_push (q, t, 2, 0, 0);
      for (int i = 0; i < 10000; i++)
        {
          assert_true (natsim_eventq_pop (q, &ev));
          assert_int_equal (ev.kind, 2);
          now = ev.time;
        }
      peak = MAX (peak, natsim_eventq_memory_bytes (q));
    }
  assert_true (peak < 8u * 1024 * 1024);
}

/* Mass cancellation triggers compaction, in the radix part (whole buckets
 * emptied, partial ones kept in order) and in the front heap (events pushed
 * below a peeked minimum). */
static void
test_compaction (void **state)
{
  enum { N = 20000 };
  g_autoptr (NatsimEventQueue) q = natsim_eventq_new ();
  g_autofree NatsimEventId *ids = g_new (NatsimEventId, N);
  g_autofree NatsimEventId *front = g_new (NatsimEventId, N);
  uint64_t rng = 99;
  NatsimEvent ev;
  uint64_t expect;

  (void) state;
  natsim_eventq_free (NULL);
  for (uint64_t i = 0; i < N; i++)
    ids[i] = natsim_eventq_push (q, NATSIM_SEC (1000) + (i / 4) * 4096 + test_below (&rng, 2), 0,
                                 0, i);
  /* Raise the queue's origin to its minimum, then push below it. */
  assert_true (natsim_eventq_peek_time (q) >= NATSIM_SEC (1000));
  for (uint64_t i = 0; i < N; i++)
    front[i] = natsim_eventq_push (q, NATSIM_SEC (500) + i % 7, 1, 0, i);
  /* Keep every 1000th of each. */
  for (uint64_t i = 0; i < N; i++)
    if (i % 1000 != 0)
      {
        natsim_eventq_cancel (q, ids[i]);
        natsim_eventq_cancel (q, front[i]);
      }
  assert_int_equal (natsim_eventq_size (q), 2 * N / 1000);
  assert_true (natsim_eventq_memory_bytes (q) > 0);

  /* The front ones first, by time then insertion order. */
  for (uint64_t t = 0; t < 7; t++)
    for (uint64_t i = 0; i < N; i += 1000)
      if (i % 7 == t)
        {
          assert_true (natsim_eventq_pop (q, &ev));
          assert_int_equal (ev.kind, 1);
          assert_true (ev.time == NATSIM_SEC (500) + t && ev.data == i);
        }
  expect = 0;
  while (natsim_eventq_pop (q, &ev))
    {
      assert_int_equal (ev.kind, 0);
      assert_true (ev.data == expect);
      assert_true (ev.id == ids[expect]);
      expect += 1000;
    }
  assert_true (expect == N);
}

/* A far event is peeked at first, then a whole simulation happens before
 * it, peeking before every pop (a trace merge loop does this).  Order and
 * FIFO ties must hold throughout. */
static void
test_peek_far_marker (void **state)
{
  g_autoptr (NatsimEventQueue) q = natsim_eventq_new ();
  uint64_t rng = 5;
  NatsimEvent ev;
  NatsimTime prev = 0;
  uint64_t last_tie = 0;
  uint64_t tie_serial = 0;

  (void) state;
  natsim_eventq_push (q, NATSIM_SEC (7200), 9, 0, 0);
  assert_true (natsim_eventq_peek_time (q) == NATSIM_SEC (7200));
  for (uint64_t i = 0; i < 1000; i++)
    natsim_eventq_push (q, test_below (&rng, NATSIM_SEC (1)), 1, 0, 0);
  for (int step = 0; step < 200000; step++)
    {
      NatsimTime p = natsim_eventq_peek_time (q);

      assert_true (natsim_eventq_pop (q, &ev));
      assert_true (ev.time == p);
      assert_true (ev.time >= prev);
      if (ev.kind == 2)
        {
          /* Ties pushed in order at the same time pop in order. */
          if (ev.time == prev && last_tie != 0)
            assert_true (ev.data > last_tie);
          last_tie = ev.data;
        }
      prev = ev.time;
      assert_int_not_equal (ev.kind, 9);
      if (step % 100 == 0)
        for (int j = 0; j < 3; j++)
          natsim_eventq_push (q, ev.time + 1000, 2, 0, ++tie_serial);
      natsim_eventq_push (q, ev.time + test_below (&rng, NATSIM_MSEC (10)), 1, 0, 0);
    }
  assert_true (prev < NATSIM_SEC (7200));
}

/* The reference: a binary heap on (time, seq) with a table of pending ids. */
typedef struct
{
  NatsimTime    time;
  uint64_t      seq;
  NatsimEventId id;
  uint32_t      kind;
  uint32_t      aux;
  uint64_t      data;
} RefEvent;

typedef struct
{
  GArray     *heap;    /* RefEvent, lazily deleted */
  GArray     *pending; /* NatsimEventId, for picking one at random */
  GHashTable *index;   /* id -> position in pending + 1 */
  uint64_t    seq;
} RefQueue;

static bool
ref_less (const RefEvent *a, const RefEvent *b)
{
  return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void
ref_init (RefQueue *r)
{
  r->heap = g_array_new (FALSE, FALSE, sizeof (RefEvent));
  r->pending = g_array_new (FALSE, FALSE, sizeof (NatsimEventId));
  r->index = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  r->seq = 0;
}

static void
ref_clear (RefQueue *r)
{
  g_array_unref (r->heap);
  g_array_unref (r->pending);
  g_hash_table_unref (r->index);
}

static bool
ref_is_pending (RefQueue *r, NatsimEventId id)
{
  gint64 k = (gint64) id;

  return g_hash_table_contains (r->index, &k);
}

static void
ref_forget (RefQueue *r, NatsimEventId id)
{
  gint64 k = (gint64) id;
  guint pos = GPOINTER_TO_UINT (g_hash_table_lookup (r->index, &k)) - 1;
  NatsimEventId last = g_array_index (r->pending, NatsimEventId, r->pending->len - 1);

  g_array_index (r->pending, NatsimEventId, pos) = last;
  if (last != id)
    {
      gint64 *lk = g_new (gint64, 1);

      *lk = (gint64) last;
      g_hash_table_replace (r->index, lk, GUINT_TO_POINTER (pos + 1));
    }
  g_array_set_size (r->pending, r->pending->len - 1);
  g_hash_table_remove (r->index, &k);
}

static void
ref_push (RefQueue *r, NatsimTime time, NatsimEventId id, uint32_t kind, uint32_t aux,
          uint64_t data)
{
  RefEvent e = { time, r->seq++, id, kind, aux, data };
  RefEvent *h;
  guint i;
  gint64 *k = g_new (gint64, 1);

  *k = (gint64) id;
  assert_false (g_hash_table_contains (r->index, k));
  g_array_append_val (r->pending, id);
  g_hash_table_insert (r->index, k, GUINT_TO_POINTER (r->pending->len));

  g_array_append_val (r->heap, e);
  h = (RefEvent *) (void *) r->heap->data;
  i = r->heap->len - 1;
  while (i > 0 && ref_less (&e, &h[(i - 1) / 2]))
    {
      h[i] = h[(i - 1) / 2];
      i = (i - 1) / 2;
    }
  h[i] = e;
}

static void
ref_pop_top (RefQueue *r)
{
  RefEvent *h = (RefEvent *) (void *) r->heap->data;
  guint n = r->heap->len - 1;
  RefEvent x = h[n];
  guint i = 0;

  for (;;)
    {
      guint c = 2 * i + 1;

      if (c >= n)
        break;
      if (c + 1 < n && ref_less (&h[c + 1], &h[c]))
        c++;
      if (!ref_less (&h[c], &x))
        break;
      h[i] = h[c];
      i = c;
    }
  if (n > 0)
    h[i] = x;
  g_array_set_size (r->heap, n);
}

/* The earliest pending event, or NULL. */
static const RefEvent *
ref_top (RefQueue *r)
{
  while (r->heap->len > 0)
    {
      const RefEvent *top = &g_array_index (r->heap, RefEvent, 0);

      if (ref_is_pending (r, top->id))
        return top;
      ref_pop_top (r);
    }
  return NULL;
}

static void
run_random_comparison (uint64_t seed, int ops)
{
  g_autoptr (NatsimEventQueue) q = natsim_eventq_new ();
  g_autoptr (GArray) dead = g_array_new (FALSE, FALSE, sizeof (NatsimEventId));
  RefQueue r;
  uint64_t rng = seed;
  NatsimTime now = 0;
  uint64_t serial = 0;
  size_t pops = 0;
  size_t max_size = 0;

  ref_init (&r);
  for (int op = 0; op < ops; op++)
    {
      /* Phases: grow, steady with heavy cancelling, shrink. */
      int phase = (op * 6 / ops) % 3;
      uint64_t push_p = phase == 0 ? 65 : phase == 1 ? 45 : 25;
      uint64_t cancel_p = phase == 1 ? 30 : 10;
      uint64_t roll = test_below (&rng, 100);

      if (roll < push_p)
        {
          NatsimTime t;
          uint64_t how = test_below (&rng, 100);
          uint32_t kind = (uint32_t) test_below (&rng, 1000);
          uint32_t aux = (uint32_t) test_next (&rng);
          NatsimEventId id;

          if (how < 20)
            t = now; /* ties at the current time */
          else if (how < 35)
            t = now + test_below (&rng, 1000); /* within a microsecond */
          else if (how < 60)
            t = now + test_below (&rng, 2 * NATSIM_NSEC_PER_SEC); /* seconds */
          else if (how < 70)
            t = now + NATSIM_SEC (86400) + test_below (&rng, 3); /* a day, with ties */
          else if (how < 75)
            t = now + (test_next (&rng) >> (12 + test_below (&rng, 40))); /* any scale */
          else if (how < 90 && r.pending->len > 0)
            {
              /* The time of some pending event: ties deep in the queue. */
              NatsimEventId other = g_array_index (r.pending, NatsimEventId,
                                                   test_below (&rng, r.pending->len));
              const RefEvent *h = (const RefEvent *) (const void *) r.heap->data;

              t = now;
              for (guint i = 0; i < r.heap->len; i++)
                if (h[i].id == other)
                  {
                    t = h[i].time;
                    break;
                  }
            }
          else
            {
              /* Between now and the peeked minimum (exercises pushes below
               * the queue's internal origin after a peek). */
              NatsimTime p = natsim_eventq_peek_time (q);
              const RefEvent *top = ref_top (&r);

              assert_true (p == (top ? top->time : NATSIM_TIME_INFINITY));
              t = (top && top->time > now) ? now + test_below (&rng, top->time - now) : now;
            }
          id = natsim_eventq_push (q, t, kind, aux, serial);
          assert_true (id != 0);
          ref_push (&r, t, id, kind, aux, serial);
          serial++;
        }
      else if (roll < push_p + cancel_p)
        {
          if (r.pending->len > 0 && test_below (&rng, 4) != 0)
            {
              NatsimEventId id = g_array_index (r.pending, NatsimEventId,
                                                test_below (&rng, r.pending->len));

              natsim_eventq_cancel (q, id);
              ref_forget (&r, id);
              g_array_append_val (dead, id);
            }
          else if (dead->len > 0 && test_below (&rng, 2) == 0)
            natsim_eventq_cancel (q, g_array_index (dead, NatsimEventId,
                                                    test_below (&rng, dead->len)));
          else
            natsim_eventq_cancel (q, test_next (&rng));
        }
      else if (roll < 97)
        {
          NatsimEvent ev;
          const RefEvent *top = ref_top (&r);

          if (top == NULL)
            assert_false (natsim_eventq_pop (q, &ev));
          else
            {
              assert_true (natsim_eventq_pop (q, &ev));
              assert_true (ev.time == top->time);
              assert_true (ev.id == top->id);
              assert_true (ev.data == top->data);
              assert_int_equal (ev.kind, top->kind);
              assert_int_equal (ev.aux, top->aux);
              now = ev.time;
              ref_forget (&r, ev.id);
              g_array_append_val (dead, ev.id);
              ref_pop_top (&r);
              pops++;
            }
        }
      else
        {
          const RefEvent *top = ref_top (&r);

          assert_true (natsim_eventq_peek_time (q) == (top ? top->time : NATSIM_TIME_INFINITY));
        }
      assert_int_equal (natsim_eventq_size (q), r.pending->len);
      max_size = MAX (max_size, r.pending->len);
    }

  /* Drain. */
  for (;;)
    {
      NatsimEvent ev;
      const RefEvent *top = ref_top (&r);

      if (top == NULL)
        break;
      assert_true (natsim_eventq_pop (q, &ev));
      assert_true (ev.time == top->time && ev.id == top->id && ev.data == top->data);
      ref_forget (&r, ev.id);
      ref_pop_top (&r);
      pops++;
    }
  {
    NatsimEvent ev;

    assert_false (natsim_eventq_pop (q, &ev));
  }
  assert_int_equal (natsim_eventq_size (q), 0);
  /* The mix must actually have exercised a large queue. */
  assert_true (max_size > 2000);
  assert_true (pops > (size_t) ops / 10);
  ref_clear (&r);
}

static void
test_random_vs_reference (void **state)
{
  (void) state;
  run_random_comparison (20240601, 150000);
  run_random_comparison (1, 60000);
  run_random_comparison (UINT64_C (0xdeadbeef), 60000);
}

/* A direct queue (payload inline, no cancellation) pops in the same order
 * as the ordinary queue fed the same pushes: the NAT engine's timers
 * depend on it (ties FIFO, pushes below the base after a peek, far and
 * near times mixed, peeks and pops interleaved). */
static void
test_direct_same_order (void **state)
{
  g_autoptr (NatsimEventQueue) q = natsim_eventq_new ();
  g_autoptr (NatsimEventQueue) d = natsim_eventq_new_direct ();
  uint64_t rng = 77;
  NatsimTime now = 0;
  uint32_t seq = 0;
  size_t pops = 0, ties = 0;
  NatsimTime last = NATSIM_TIME_INFINITY;

  (void) state;
  assert_int_equal (natsim_eventq_size (d), 0);
  for (int i = 0; i < 200000; i++)
    {
      uint64_t op = test_below (&rng, 10);

      if (op < 6)
        {
          /* ties (a few fixed offsets), near and far times */
          uint64_t k = test_below (&rng, 4);
          NatsimTime dt = k == 0 ? NATSIM_SEC (30) : k == 1 ? test_below (&rng, 1000)
                        : k == 2 ? test_below (&rng, NATSIM_SEC (1))
                                 : test_below (&rng, NATSIM_SEC (7200));
          natsim_eventq_push (q, now + dt, 0, seq, (uint64_t) seq * 3);
          natsim_eventq_push_direct (d, now + dt, seq, seq * 3);
          seq++;
        }
      else if (op < 7)
        {
          assert_true (natsim_eventq_peek_time (q) == natsim_eventq_peek_time (d));
        }
      else
        {
          NatsimEvent ev;
          NatsimTime t;
          uint32_t a, b;
          bool got = natsim_eventq_pop (q, &ev);

          assert_int_equal (got, natsim_eventq_pop_direct (d, &t, &a, &b));
          if (!got)
            continue;
          assert_true (ev.time == t);
          assert_int_equal (ev.aux, a);
          assert_int_equal ((uint32_t) ev.data, b);
          ties += t == last;
          last = t;
          now = t;
          pops++;
        }
      assert_int_equal (natsim_eventq_size (q), natsim_eventq_size (d));
    }
  assert_true (pops > 50000);
  assert_true (ties > 100);
  /* 16 bytes an entry: the direct queue holds far less than the other. */
  assert_true (natsim_eventq_memory_bytes (d) < natsim_eventq_memory_bytes (q));
}

/* Growing the chunk pool past the size where it becomes a mapping of its
 * own (4 MiB, moved by mremap rather than copied) loses no entry and
 * keeps the order: 1.5 million pending timers (24 MB), pushed in three
 * waves with pops in between so that the pool grows while buckets at
 * every level hold entries; ties (a few fixed offsets) stay FIFO. */
static void
test_pool_growth_mapped (void **state)
{
  g_autoptr (NatsimEventQueue) d = natsim_eventq_new_direct ();
  uint64_t rng = 4242;
  uint32_t seq = 0, popped = 0, last_seq = 0;
  NatsimTime now = 0, last = 0;

  (void) state;
  for (int wave = 0; wave < 3; wave++)
    {
      for (int i = 0; i < 500000; i++)
        {
          uint64_t k = test_below (&rng, 4);
          NatsimTime dt = k == 0 ? NATSIM_SEC (60) : k == 1 ? NATSIM_SEC (3600)
                        : test_below (&rng, NATSIM_SEC (7200));
          natsim_eventq_push_direct (d, now + dt, seq, ~seq);
          seq++;
        }
      assert_true (natsim_eventq_memory_bytes (d) >= (size_t) (wave + 1) * 400000 * 16);
      /* Pop a fifth, in order. */
      for (uint32_t n = natsim_eventq_size (d) / 5; n > 0; n--)
        {
          NatsimTime t;
          uint32_t a, b;
          assert_true (natsim_eventq_pop_direct (d, &t, &a, &b));
          assert_true (t >= last);
          assert_int_equal (b, ~a);
          if (t == last && popped > 0)
            assert_true (a > last_seq);
          last = t, last_seq = a, now = t;
          popped++;
        }
    }
  for (;;)
    {
      NatsimTime t;
      uint32_t a, b;
      if (!natsim_eventq_pop_direct (d, &t, &a, &b))
        break;
      assert_true (t >= last);
      assert_int_equal (b, ~a);
      if (t == last)
        assert_true (a > last_seq);
      last = t, last_seq = a;
      popped++;
    }
  assert_int_equal (popped, seq);
  assert_int_equal (natsim_eventq_size (d), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_direct_same_order),
    cmocka_unit_test (test_pool_growth_mapped),
    cmocka_unit_test (test_order),
    cmocka_unit_test (test_ties_fifo),
    cmocka_unit_test (test_cancel),
    cmocka_unit_test (test_peek),
    cmocka_unit_test (test_extreme_times),
    cmocka_unit_test (test_monotonicity),
    cmocka_unit_test (test_memory_bounded),
    cmocka_unit_test (test_compaction),
    cmocka_unit_test (test_peek_far_marker),
    cmocka_unit_test (test_random_vs_reference),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
