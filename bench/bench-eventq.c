/* Benchmark of the event queue: the classic hold model, and stress shapes.
 *
 * hold: N events are pending; each step pops the earliest and pushes one at
 * now + Exp(mean 1 s), times in nanoseconds; N = 1k, 100k and 1M.  Run for
 * the production queue (src/core/eventq.c, "radix256") and for the
 * baseline, a plain binary heap on (time, insertion sequence) with the same
 * slab and lazy cancellation ("binheap"), kept here as the reference the
 * production structure has to beat.  Then, at N = 100k:
 *  - ties: 100k pushes at one time, then 100k pops (checks FIFO);
 *  - jumps: hold with increments of 1 us (90 %) or 1 day (10 %);
 *  - peek-hold: hold with a peek before every pop, after a far event was
 *    peeked at before the fill (the front heap and rebase path);
 *  - rearm: NAT-like timer churn, each step cancels a random pending timer
 *    and re-arms it 30 s ahead (the baseline has no compaction, so its
 *    memory grows with every cancel; the figure shows it).
 *
 * The exponential draws come from an inline xorshift64* generator and
 * -log(u), about 9 ns a draw on the reference machine, so the figures are
 * the queue's and not a library RNG's; the same draws (same seed) feed
 * every queue.  Both queues are called through the same function pointers.
 * Each figure is steps per second of wall time (g_get_monotonic_time) over
 * the timed steps only, the initial fill excluded, followed by the memory
 * the queue holds.  Nothing is asserted about timings; a checksum of popped
 * times is printed so that the work cannot be optimised away and both
 * queues can be seen to agree.  Total run time is about 15 s.
 */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "natsim/eventq.h"

/* xorshift64* (Vigna), and an exponential of mean 1 s in ns. */
typedef struct
{
  uint64_t s;
} BenchRng;

static inline uint64_t
bench_rng_next (BenchRng *r)
{
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * UINT64_C (0x2545f4914f6cdd1d);
}

static inline NatsimTime
bench_exp_ns (BenchRng *r)
{
  /* u in (0, 1): 53 random bits, offset by half a step. */
  double u = ((double) (bench_rng_next (r) >> 11) + 0.5) * 0x1.0p-53;

  return (NatsimTime) (-log (u) * 1e9);
}

/* The baseline: a binary heap of (time, seq) with payload, a slab of
 * generations for lazy cancellation (same scheme as the production
 * queue). */
typedef struct
{
  NatsimTime time;
  uint64_t   seq;
  uint32_t   slot;
  uint32_t   gen;
  uint32_t   kind;
  uint32_t   aux;
  uint64_t   data;
} HeapEntry;

typedef struct
{
  HeapEntry *h;
  size_t     n;
  size_t     cap;
  uint64_t   seq;
  uint32_t  *gen;
  uint32_t  *free_slots;
  uint32_t   nslots;
  uint32_t   slot_cap;
  uint32_t   nfree;
  size_t     live;
  NatsimTime last_popped;
} HeapQueue;

static inline bool
heap_less (const HeapEntry *a, const HeapEntry *b)
{
  return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static HeapQueue *
heap_new (void)
{
  return g_new0 (HeapQueue, 1);
}

static void
heap_free (HeapQueue *q)
{
  g_free (q->h);
  g_free (q->gen);
  g_free (q->free_slots);
  g_free (q);
}

static NatsimEventId
heap_push (HeapQueue *q, NatsimTime time, uint32_t kind, uint32_t aux, uint64_t data)
{
  HeapEntry x;
  uint32_t slot;
  size_t i;

  g_assert (time >= q->last_popped);
  if (q->nfree > 0)
    slot = q->free_slots[--q->nfree];
  else
    {
      if (q->nslots == q->slot_cap)
        {
          q->slot_cap = q->slot_cap ? q->slot_cap * 2 : 1024;
          q->gen = g_renew (uint32_t, q->gen, q->slot_cap);
          q->free_slots = g_renew (uint32_t, q->free_slots, q->slot_cap);
        }
      slot = q->nslots++;
      q->gen[slot] = 0;
    }
  x.time = time;
  x.seq = q->seq++;
  x.slot = slot;
  x.gen = ++q->gen[slot];
  x.kind = kind;
  x.aux = aux;
  x.data = data;
  if (q->n == q->cap)
    {
      q->cap = q->cap ? q->cap * 2 : 1024;
      q->h = g_renew (HeapEntry, q->h, q->cap);
    }
  i = q->n++;
  while (i > 0)
    {
      size_t parent = (i - 1) / 2;

      if (!heap_less (&x, &q->h[parent]))
        break;
      q->h[i] = q->h[parent];
      i = parent;
    }
  q->h[i] = x;
  q->live++;
  return ((uint64_t) x.gen << 32) | slot;
}

/* Removes the top of the heap into @ret. Requires: q->n > 0. */
static void
heap_remove_top (HeapQueue *q, HeapEntry *ret)
{
  HeapEntry x = q->h[--q->n];
  size_t i = 0;

  *ret = q->h[0];
  for (;;)
    {
      size_t child = 2 * i + 1;

      if (child >= q->n)
        break;
      if (child + 1 < q->n && heap_less (&q->h[child + 1], &q->h[child]))
        child++;
      if (!heap_less (&q->h[child], &x))
        break;
      q->h[i] = q->h[child];
      i = child;
    }
  if (q->n > 0)
    q->h[i] = x;
}

static bool
heap_pop (HeapQueue *q, NatsimEvent *ret)
{
  HeapEntry top;

  do
    {
      if (q->n == 0)
        return false;
      heap_remove_top (q, &top);
    }
  while (q->gen[top.slot] != top.gen); /* skip cancelled */
  q->gen[top.slot]++;
  q->free_slots[q->nfree++] = top.slot;
  q->live--;
  q->last_popped = top.time;
  ret->time = top.time;
  ret->id = ((uint64_t) top.gen << 32) | top.slot;
  ret->kind = top.kind;
  ret->aux = top.aux;
  ret->data = top.data;
  return true;
}

static void
heap_cancel (HeapQueue *q, NatsimEventId id)
{
  uint32_t slot = (uint32_t) id;
  uint32_t gen = (uint32_t) (id >> 32);

  if (slot >= q->nslots || (gen & 1) == 0 || q->gen[slot] != gen)
    return;
  q->gen[slot]++;
  q->free_slots[q->nfree++] = slot;
  q->live--;
}

static NatsimTime
heap_peek_time (HeapQueue *q)
{
  while (q->n > 0 && q->gen[q->h[0].slot] != q->h[0].gen)
    {
      HeapEntry stale;

      heap_remove_top (q, &stale);
    }
  return q->n > 0 ? q->h[0].time : NATSIM_TIME_INFINITY;
}

/* One interface over both queues, so that the measured loops are the same
 * code; the function pointers cost the same for both. */
typedef struct
{
  const char *name;
  void *(*create) (void);
  void (*destroy) (void *q);
  NatsimEventId (*push) (void *q, NatsimTime t, uint32_t kind, uint32_t aux, uint64_t data);
  bool (*pop) (void *q, NatsimEvent *ret);
  NatsimTime (*peek_time) (void *q);
  void (*cancel) (void *q, NatsimEventId id);
  size_t (*memory) (void *q);
} BenchQueue;

static void *
prod_create (void)
{
  return natsim_eventq_new ();
}

static void
prod_destroy (void *q)
{
  natsim_eventq_free (q);
}

static NatsimEventId
prod_push (void *q, NatsimTime t, uint32_t kind, uint32_t aux, uint64_t data)
{
  return natsim_eventq_push (q, t, kind, aux, data);
}

static bool
prod_pop (void *q, NatsimEvent *ret)
{
  return natsim_eventq_pop (q, ret);
}

static NatsimTime
prod_peek_time (void *q)
{
  return natsim_eventq_peek_time (q);
}

static void
prod_cancel (void *q, NatsimEventId id)
{
  natsim_eventq_cancel (q, id);
}

static size_t
prod_memory (void *q)
{
  return natsim_eventq_memory_bytes (q);
}

static void *
base_create (void)
{
  return heap_new ();
}

static void
base_destroy (void *q)
{
  heap_free (q);
}

static NatsimEventId
base_push (void *q, NatsimTime t, uint32_t kind, uint32_t aux, uint64_t data)
{
  return heap_push (q, t, kind, aux, data);
}

static bool
base_pop (void *q, NatsimEvent *ret)
{
  return heap_pop (q, ret);
}

static NatsimTime
base_peek_time (void *q)
{
  return heap_peek_time (q);
}

static void
base_cancel (void *q, NatsimEventId id)
{
  heap_cancel (q, id);
}

static size_t
base_memory (void *q)
{
  HeapQueue *h = q;

  return sizeof *h + h->cap * sizeof (HeapEntry) + (size_t) h->slot_cap * 2 * sizeof (uint32_t);
}

static const BenchQueue queues[] = {
  { "radix256", prod_create, prod_destroy, prod_push, prod_pop, prod_peek_time, prod_cancel, prod_memory },
  { "binheap", base_create, base_destroy, base_push, base_pop, base_peek_time, base_cancel, base_memory },
};

/* Increments: 0 = Exp(1 s); 1 = 1 us with p = 0.9, else 1 day. */
static inline NatsimTime
bench_increment (BenchRng *r, int shape)
{
  if (shape == 0)
    return bench_exp_ns (r);
  return (bench_rng_next (r) % 10 == 0) ? NATSIM_SEC (86400) : NATSIM_NSEC_PER_USEC;
}

static void
bench_hold (const BenchQueue *bq, size_t n, size_t steps, int shape, bool peek,
            const char *label)
{
  void *q = bq->create ();
  BenchRng rng = { UINT64_C (0x853c49e6748fea9b) };
  NatsimEvent ev;
  uint64_t checksum = 0;
  gint64 t0;
  gint64 t1;

  if (peek)
    {
      /* A far event, peeked at before anything else happens, so that
       * everything after lands before the peeked time. */
      bq->push (q, NATSIM_SEC (1000000), 0, 0, n);
      (void) bq->peek_time (q);
    }
  for (size_t i = 0; i < n; i++)
    bq->push (q, bench_increment (&rng, shape), 0, 0, i);
  t0 = g_get_monotonic_time ();
  for (size_t i = 0; i < steps; i++)
    {
      if (peek)
        checksum += bq->peek_time (q);
      if (!bq->pop (q, &ev))
        g_assert_not_reached ();
      checksum += ev.time;
      bq->push (q, ev.time + bench_increment (&rng, shape), ev.kind, ev.aux, ev.data);
    }
  t1 = g_get_monotonic_time ();
  printf ("eventq %s N=%zu queue=%s %.1f Mevents/s (%zu steps, %.1f MB, checksum %016"
          G_GINT64_MODIFIER "x)\n",
          label, n, bq->name, (double) steps / (double) MAX (t1 - t0, 1), steps,
          (double) bq->memory (q) / 1e6, checksum);
  fflush (stdout);
  bq->destroy (q);
}

/* Timer churn: n timers pending about 30 s ahead and n / 10 hold-model
 * events; each hold event cancels a random timer and re-arms it (a NAT
 * refreshing a binding's idle timeout on every packet). */
static void
bench_rearm (const BenchQueue *bq, size_t n, size_t steps)
{
  void *q = bq->create ();
  BenchRng rng = { UINT64_C (0x9e3779b97f4a7c15) };
  NatsimEventId *ids = g_new (NatsimEventId, n);
  NatsimEvent ev;
  uint64_t checksum = 0;
  gint64 t0;
  gint64 t1;

  for (size_t i = 0; i < n; i++)
    ids[i] = bq->push (q, NATSIM_SEC (30) + bench_exp_ns (&rng), 1, 0, i);
  for (size_t i = 0; i < n / 10; i++)
    bq->push (q, bench_exp_ns (&rng), 0, 0, i);
  t0 = g_get_monotonic_time ();
  for (size_t i = 0; i < steps; i++)
    {
      size_t k;

      if (!bq->pop (q, &ev))
        g_assert_not_reached ();
      checksum += ev.time;
      if (ev.kind == 1)
        {
          /* A timer fired: re-arm it. */
          ids[ev.data] = bq->push (q, ev.time + NATSIM_SEC (30), 1, 0, ev.data);
          continue;
        }
      bq->push (q, ev.time + bench_exp_ns (&rng) / 10, 0, 0, ev.data);
      k = (size_t) (bench_rng_next (&rng) % n);
      bq->cancel (q, ids[k]);
      ids[k] = bq->push (q, ev.time + NATSIM_SEC (30), 1, 0, k);
    }
  t1 = g_get_monotonic_time ();
  printf ("eventq rearm N=%zu queue=%s %.1f Mevents/s (%zu pops, each with a cancel and "
          "2 pushes, %.1f MB, checksum %016" G_GINT64_MODIFIER "x)\n",
          n, bq->name, (double) steps / (double) MAX (t1 - t0, 1), steps,
          (double) bq->memory (q) / 1e6, checksum);
  fflush (stdout);
  g_free (ids);
  bq->destroy (q);
}

/* Bursts: push n events at one time, pop them all; repeat. */
static void
bench_ties (const BenchQueue *bq, size_t n, size_t rounds)
{
  void *q = bq->create ();
  NatsimEvent ev;
  uint64_t checksum = 0;
  NatsimTime now = 0;
  gint64 t0;
  gint64 t1;

  t0 = g_get_monotonic_time ();
  for (size_t r = 0; r < rounds; r++)
    {
      now += NATSIM_SEC (1) + r;
      for (size_t i = 0; i < n; i++)
        bq->push (q, now, 0, 0, i);
      for (size_t i = 0; i < n; i++)
        {
          if (!bq->pop (q, &ev) || ev.data != i)
            g_assert_not_reached (); /* FIFO among equal times */
          checksum += ev.data;
        }
    }
  t1 = g_get_monotonic_time ();
  printf ("eventq ties N=%zu queue=%s %.1f Mevents/s (%zu rounds of push+pop, checksum %016"
          G_GINT64_MODIFIER "x)\n",
          n, bq->name, (double) (n * rounds) / (double) MAX (t1 - t0, 1), rounds, checksum);
  fflush (stdout);
  bq->destroy (q);
}

int
main (int argc, char **argv)
{
  /* --quick: a smoke run; QUEUE N: one hold run, rearm N: one timer churn
   * run of the production queue, for profiling. */
  bool quick = argc > 1 && strcmp (argv[1], "--quick") == 0;
  static const size_t sizes[] = { 1000, 100000, 1000000 };
  size_t steps = quick ? 100000 : 10000000;

  if (argc == 3 && strcmp (argv[1], "rearm") == 0)
    {
      bench_rearm (&queues[0], (size_t) g_ascii_strtoull (argv[2], NULL, 10), steps / 2);
      return 0;
    }
  if (argc == 3)
    {
      for (size_t k = 0; k < G_N_ELEMENTS (queues); k++)
        if (strcmp (argv[1], queues[k].name) == 0)
          bench_hold (&queues[k], (size_t) g_ascii_strtoull (argv[2], NULL, 10), steps, 0,
                      false, "hold");
      return 0;
    }

  for (size_t s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (size_t k = 0; k < G_N_ELEMENTS (queues); k++)
      bench_hold (&queues[k], sizes[s], steps, 0, false, "hold");
  for (size_t k = 0; k < G_N_ELEMENTS (queues); k++)
    bench_ties (&queues[k], 100000, quick ? 2 : 50);
  for (size_t k = 0; k < G_N_ELEMENTS (queues); k++)
    bench_hold (&queues[k], 100000, steps / 2, 1, false, "jumps");
  for (size_t k = 0; k < G_N_ELEMENTS (queues); k++)
    bench_hold (&queues[k], 100000, steps / 2, 0, true, "peek-hold");
  for (size_t k = 0; k < G_N_ELEMENTS (queues); k++)
    bench_rearm (&queues[k], 100000, steps / 2);
  return 0;
}
