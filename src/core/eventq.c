/* natsim: the discrete-event queue.
 *
 * DESIGN: a monotone radix queue with 8-bit digits.
 *
 * A radix heap (Ahuja, Mehlhorn, Orlin and Tarjan) whose buckets are
 * indexed by one 8-bit digit per level: a hierarchical timing wheel anchored
 * at the last extracted time instead of at a fixed tick.  It exploits the
 * DES monotonicity: nothing is scheduled before the last popped event.
 *
 *  - base is a time <= every key stored in the radix part.  An entry with
 *    time t == base sits in the "now" bucket; otherwise at level
 *    L = msb(t ^ base) / 8 (0..7), in bucket digit_L(t) of that level.  The
 *    place is a function of (t, base) alone.
 *  - To find the minimum, take the lowest non-empty bucket of the lowest
 *    non-empty level (bitmaps and count-trailing-zeros, no scan over empty
 *    buckets), scan it for its minimum m, set base = m and redistribute the
 *    bucket: every entry shares the bits above digit L with m, so each lands
 *    strictly lower, m itself in "now", and no other bucket changes place.
 *    A level-0 bucket holds a single key, and a bucket whose entries are all
 *    equal (one entry, or a burst of ties) becomes "now" by a swap.  So an
 *    entry is copied at most 8 times in its life, in practice 1 to 3 times:
 *    a key d ns ahead of base starts at level floor(log2(d) / 8).
 *  - Ties stay FIFO with no sequence number: equal keys always share a
 *    bucket, buckets are append-only FIFO lists, and a bucket is only ever
 *    redistributed, in order, into buckets that are empty at that moment.
 *    By induction, equal keys sit in insertion order.
 *  - Buckets are lists of 32-entry chunks from one pool with a free list:
 *    memory is O(stored entries) + at most 2049 partly filled 512-byte
 *    chunks, whatever the time distribution; a burst leaves no per-bucket
 *    capacity behind.  Huge jumps (1 day ahead next to 1 us ahead) start at
 *    a higher level and cost at most 8 moves; no calendar resizing or ladder
 *    rung heuristics to go wrong.
 *  - Entries are 16 bytes (time, slot, generation); the payload waits in the
 *    slot, so cascades copy little, and the pop's one cache miss (the slot)
 *    is prefetched when the entry comes within 2^16 ns of base.
 *  - peek_time prepares "now" and so raises base to the true minimum, past
 *    the last popped time, where a later push may legally land.  Such a push
 *    (last_popped <= t < base) goes to a binary "front" heap on
 *    (time, sequence); front keys are all < base <= radix keys, so pop
 *    drains the front first.  In a peek-pop-handle-push loop the front stays
 *    empty.  If it outgrows the radix part (e.g. a far event was peeked at,
 *    then everything happened before it), everything is re-placed under
 *    base = last popped time (eq_rebase): O(front + radix) <= O(2 front),
 *    so O(1) amortised per front push, and the front never dominates.
 *
 * Cancellation: an id is (generation << 32) | slot of a slab; the 32-bit
 * generation is odd while pending, so an id is never 0.  Cancel checks and
 * bumps the generation and frees the slot, O(1), no hash set; the entry
 * stays and is dropped when pop or peek meets it (its generation no longer
 * matches).  When cancelled entries exceed 4096 and outnumber live ones, one
 * ordered pass compacts every bucket: O(1) amortised per cancel, memory
 * O(live) under timer churn.  (A stored stale entry would be misread only
 * after 2^31 reuses of its slot; compaction keeps it from living that long.)
 *
 * Complexity: push O(1); pop O(1) amortised (at most 8 copies per event,
 * plus the scan of each redistributed bucket, which reads what the copy
 * pass then reads); cancel O(1) amortised; peek O(1) amortised; a front
 * push O(log f).  Versus a binary heap: a fixed ~33 KB of bucket headers,
 * 52 bytes per pending event instead of ~48, and each event copied a few
 * times instead of sifted through log2(n) cache-missing levels.
 *
 * MEASURED with bench/bench-eventq.c (hold model: pop one, push one at
 * now + Exp(mean 1 s), times in ns; 1e7 steps; 2-core AMD EPYC VM shared
 * with other builds, gcc 12 -O2; Mevents/s, median of 6 runs, and range):
 *
 *     pending N        1k                100k              1M
 *     radix (this)    23   (22.7-23.8)   17.5 (15.6-19.5)  14.7 (14.4-16.7)
 *     binary heap     14   (13.9-14.1)    5.8 (5.0-6.5)     1.9 (1.8-2.6)
 *
 *   Memory at 1M pending: radix 54.7 MB, heap 50.3 MB.
 *   100k ties at one time, push then pop:  radix ~72,  heap ~13.
 *   Increments 1 us (90 %) or 1 day (10 %), N = 100k:  radix ~52, heap ~6.
 *   Peek before every pop, a far event peeked first, N = 100k:  radix ~16,
 *   heap ~5.5 (without eq_rebase the radix queue falls to 5.3).
 *   Timer churn (cancel + re-arm per step), N = 100k:  radix ~4 in 9 MB;
 *   the heap, which never compacts, ~2 in 169 MB and growing.
 *   Alternatives tried, in one session where this gave 17 at 1M: 4-, 6-,
 *   10- and 11-bit digits (at 1M: 5.7, 11.0,
 *   13.4, 9.9), 16- and 64-entry chunks (no better), the bucket lower bound
 *   as new base instead of the scanned minimum (slower at 1k, the same at
 *   1M), 32-byte entries carrying the payload (1M: ~11).
 */
#include "natsim/eventq.h"

#include <string.h>
#include <sys/mman.h>

/* Tunables, overridable with -D for experiments (see MEASURED above). */
#ifndef EQ_DIGIT_BITS
#define EQ_DIGIT_BITS 8
#endif
#define EQ_FANOUT     (1u << EQ_DIGIT_BITS)
#define EQ_LEVELS     ((64 + EQ_DIGIT_BITS - 1) / EQ_DIGIT_BITS)
#define EQ_WORDS      ((EQ_FANOUT + 63) / 64)
#ifndef EQ_CHUNK
#define EQ_CHUNK      32u
#endif
#define EQ_NIL        UINT32_MAX

/* Compact when more than this many cancelled entries are stored and they
 * outnumber the live ones. */
#define EQ_COMPACT_MIN 4096u

/* Rebase when the front heap holds more than this many entries and more
 * than the radix part. */
#ifndef EQ_REBASE_MIN
#define EQ_REBASE_MIN 64u
#endif

/* What the buckets move around: 16 bytes. */
typedef struct
{
  NatsimTime time;
  uint32_t   slot;
  uint32_t   gen;
} EqEntry;

/* Per event slot: the generation and the payload, one aligned half cache
 * line, so the one miss a pop takes brings both. */
typedef struct
{
  uint32_t gen; /* odd while pending */
  uint32_t kind;
  uint32_t aux;
  uint32_t unused;
  uint64_t data;
  uint64_t unused2;
} EqSlot;

G_STATIC_ASSERT (sizeof (EqSlot) == 32);

typedef struct
{
  EqEntry e[EQ_CHUNK];
} EqChunk;

/* A FIFO list of chunks: entries from (head, hpos) to (tail, tlen); hpos
 * is non-zero only in "now", the one bucket popped from the front. */
typedef struct
{
  uint32_t head;
  uint32_t tail;
  uint32_t hpos;
  uint32_t tlen;
} EqBucket;

typedef struct
{
  EqEntry  e;
  uint64_t seq;
} EqFrontEntry;

struct NatsimEventQueue
{
  bool       direct;        /* entries carry (slot, gen) as the payload */
  NatsimTime base;          /* <= every radix key; > every front key */
  NatsimTime last_popped;   /* monotonicity floor for pushes */
  size_t     live;          /* pending, not cancelled */
  size_t     stale;         /* cancelled entries still stored */
  size_t     radix_entries; /* entries (live or stale) in the radix part */

  uint32_t level_mask;                   /* bit L: level L non-empty */
  uint64_t bitmap[EQ_LEVELS][EQ_WORDS];  /* non-empty buckets */
  EqBucket now;                          /* time == base, FIFO */
  EqBucket buckets[EQ_LEVELS][EQ_FANOUT];

  EqChunk  *chunks;
  size_t    chunks_map_bytes; /* > 0: chunks is a mapping of that size */
  uint32_t *chunk_next;
  uint32_t  nchunks;
  uint32_t  chunk_cap;
  uint32_t  chunk_free;

  EqSlot   *slots;      /* 64-byte aligned, inside slots_raw */
  void     *slots_raw;
  uint32_t *free_slots; /* LIFO stack, so a freed slot is reused hot */
  uint32_t  nslots;
  uint32_t  slot_cap;
  uint32_t  nfree;

  EqFrontEntry *front;  /* binary heap on (time, seq) */
  size_t        nfront;
  size_t        front_cap;
  uint64_t      front_seq;

  EqEntry *scratch;     /* for eq_rebase() */
  size_t   scratch_cap;
};

static const EqBucket eq_bucket_empty = { EQ_NIL, EQ_NIL, 0, 0 };

/* A large chunk pool is a mapping of its own, grown in place or moved by
 * the kernel (mremap: no copy), in transparent huge pages where the kernel
 * offers them on request (madvise mode).  Grown with realloc it was copied
 * at every growth (glibc serves blocks below its mmap threshold, which
 * rises to 32 MiB, from the heap), and the copies' page faults were most
 * of a carrier run's: a big queue holds every binding's timer.  Huge
 * pages also spare a TLB miss on most bucket visits, as buckets are filled
 * and drained all over the pool. */
#define EQ_MAP_MIN ((size_t) 4 << 20)

static void
eq_chunks_resize (NatsimEventQueue *q, uint32_t cap)
{
  size_t bytes = (size_t) cap * sizeof (EqChunk);
#if defined(MREMAP_MAYMOVE) && defined(MAP_ANONYMOUS)
  void *p;

  if (bytes >= EQ_MAP_MIN)
    {
      if (q->chunks_map_bytes > 0)
        p = mremap (q->chunks, q->chunks_map_bytes, bytes, MREMAP_MAYMOVE);
      else
        {
          p = mmap (NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
          if (p != MAP_FAILED)
            {
              memcpy (p, q->chunks, (size_t) q->chunk_cap * sizeof (EqChunk));
              g_free (q->chunks);
            }
        }
      if (p == MAP_FAILED)
        g_error ("out of memory for %zu bytes of event queue", bytes);
#ifdef MADV_HUGEPAGE
      /* Only advice: without THP the pages stay small. */
      (void) madvise (p, bytes, MADV_HUGEPAGE);
#endif
      q->chunks = p;
      q->chunks_map_bytes = bytes;
      return;
    }
#endif
  q->chunks = g_renew (EqChunk, q->chunks, cap);
}

/* Chunk pool. */

static uint32_t
eq_chunk_alloc (NatsimEventQueue *q)
{
  uint32_t c;

  if (q->chunk_free != EQ_NIL)
    {
      c = q->chunk_free;
      q->chunk_free = q->chunk_next[c];
    }
  else
    {
      if (q->nchunks == q->chunk_cap)
        {
          /* By half: the chunk pool is most of a big queue's memory. */
          uint32_t cap = q->chunk_cap ? q->chunk_cap + q->chunk_cap / 2 : 64;

          g_assert (cap > q->chunk_cap && cap < EQ_NIL);
          eq_chunks_resize (q, cap);
          q->chunk_next = g_renew (uint32_t, q->chunk_next, cap);
          q->chunk_cap = cap;
        }
      c = q->nchunks++;
    }
  q->chunk_next[c] = EQ_NIL;
  return c;
}

static inline void
eq_chunk_release (NatsimEventQueue *q, uint32_t c)
{
  q->chunk_next[c] = q->chunk_free;
  q->chunk_free = c;
}

static inline void
eq_bucket_append (NatsimEventQueue *q, EqBucket *b, const EqEntry *e)
{
  if (b->tail == EQ_NIL)
    {
      uint32_t c = eq_chunk_alloc (q);

      b->head = b->tail = c;
      b->hpos = 0;
      b->tlen = 0;
    }
  else if (b->tlen == EQ_CHUNK)
    {
      uint32_t c = eq_chunk_alloc (q);

      q->chunk_next[b->tail] = c;
      b->tail = c;
      b->tlen = 0;
    }
  q->chunks[b->tail].e[b->tlen++] = *e;
}

/* Radix part. */

static inline void
eq_radix_place (NatsimEventQueue *q, const EqEntry *e)
{
  uint64_t x = e->time ^ q->base;
  unsigned level;
  unsigned digit;
  EqBucket *b;

  if (x == 0)
    {
      /* Popped soon: fetch its slot early. */
      if (!q->direct)
        __builtin_prefetch (&q->slots[e->slot]);
      eq_bucket_append (q, &q->now, e);
      return;
    }
  level = (unsigned) (63 - __builtin_clzll (x)) / EQ_DIGIT_BITS;
  digit = (unsigned) (e->time >> (level * EQ_DIGIT_BITS)) & (EQ_FANOUT - 1);
  b = &q->buckets[level][digit];
  if (b->head == EQ_NIL)
    {
      q->bitmap[level][digit / 64] |= UINT64_C (1) << (digit % 64);
      q->level_mask |= 1u << level;
    }
  /* Within 2^(2 * EQ_DIGIT_BITS) ns of base: popped soon, so fetch its
   * slot early (the one cache miss a pop cannot avoid). */
  if (level <= 1 && !q->direct)
    __builtin_prefetch (&q->slots[e->slot]);
  eq_bucket_append (q, b, e);
}

static inline bool
eq_level_is_empty (const NatsimEventQueue *q, unsigned level)
{
  for (unsigned i = 0; i < EQ_WORDS; i++)
    if (q->bitmap[level][i] != 0)
      return false;
  return true;
}

/* Takes out the lowest non-empty bucket, clearing its bitmap bit. */
static EqBucket
eq_radix_take_lowest (NatsimEventQueue *q, unsigned *ret_level,
                      unsigned *ret_digit)
{
  unsigned level = (unsigned) __builtin_ctz (q->level_mask);
  uint64_t *words = q->bitmap[level];
  unsigned w = 0;
  unsigned digit;
  EqBucket b;

  while (words[w] == 0)
    w++;
  digit = w * 64 + (unsigned) __builtin_ctzll (words[w]);
  words[w] &= words[w] - 1;
  if (words[w] == 0 && eq_level_is_empty (q, level))
    q->level_mask &= ~(1u << level);
  b = q->buckets[level][digit];
  q->buckets[level][digit] = eq_bucket_empty;
  *ret_level = level;
  *ret_digit = digit;
  return b;
}

/* Places every entry of @src (taken out of the structure) relative to the
 * current base, in order, and frees its chunks.  The caller guarantees that
 * every target bucket is empty, so appending keeps ties FIFO. */
static void
eq_redistribute (NatsimEventQueue *q, const EqBucket *src)
{
  uint32_t c = src->head;

  while (c != EQ_NIL)
    {
      uint32_t end = (c == src->tail) ? src->tlen : EQ_CHUNK;
      uint32_t next = q->chunk_next[c];

      for (uint32_t i = (c == src->head) ? src->hpos : 0; i < end; i++)
        {
          /* Copy: placing may grow (move) the chunk array. */
          EqEntry e = q->chunks[c].e[i];

          eq_radix_place (q, &e);
        }
      eq_chunk_release (q, c);
      c = next;
    }
}

/* Raises base to the radix minimum and fills the "now" bucket.
 * Requires: "now" empty, radix_entries > 0. */
static void
eq_radix_advance (NatsimEventQueue *q)
{
  unsigned level;
  unsigned digit;
  NatsimTime lo = NATSIM_TIME_INFINITY;
  NatsimTime hi = 0;
  EqBucket src;

  g_assert (q->now.head == EQ_NIL && q->level_mask != 0);
  src = eq_radix_take_lowest (q, &level, &digit);
  if (level == 0)
    {
      /* One key per level-0 bucket: it becomes "now" as it is. */
      q->base = (q->base & ~(uint64_t) (EQ_FANOUT - 1)) | digit;
      q->now = src;
      return;
    }

  /* The new base is the bucket's minimum (the classic radix heap step).
   * The minimum shares every bit above this level's digit with the old
   * base and with the other entries of the bucket, so all of them land
   * strictly below this level, the minimum itself right in "now", and every
   * other bucket keeps its place.  (Using the bucket's lower bound instead
   * saves this scan but walks single entries down through empty levels;
   * measured, the scan is cheaper, as it reads what the next pass reads.) */
  for (uint32_t c = src.head; c != EQ_NIL; c = q->chunk_next[c])
    {
      uint32_t end = (c == src.tail) ? src.tlen : EQ_CHUNK;
      const EqEntry *e = q->chunks[c].e;

      /* Chunks are scattered: fetch the next one while scanning this one.
       * This bucket was filled long ago and is cold. */
      if (q->chunk_next[c] != EQ_NIL)
        {
          const char *p = (const char *) &q->chunks[q->chunk_next[c]];

          for (size_t off = 0; off < sizeof (EqChunk); off += 64)
            __builtin_prefetch (p + off);
        }
      for (uint32_t i = 0; i < end; i++)
        {
          lo = MIN (lo, e[i].time);
          hi = MAX (hi, e[i].time);
        }
    }
  q->base = lo;
  if (lo == hi)
    {
      /* All equal (a single entry, or a burst of ties): no copying. */
      q->now = src;
      return;
    }
  eq_redistribute (q, &src);
}

/* Removes the head of "now" into @ret. Requires: "now" non-empty. */
static inline void
eq_now_take (NatsimEventQueue *q, EqEntry *ret)
{
  EqBucket *b = &q->now;
  uint32_t c = b->head;

  *ret = q->chunks[c].e[b->hpos++];
  if (c == b->tail && b->hpos == b->tlen)
    {
      eq_chunk_release (q, c);
      *b = eq_bucket_empty;
    }
  else if (b->hpos == EQ_CHUNK)
    {
      b->head = q->chunk_next[c];
      b->hpos = 0;
      eq_chunk_release (q, c);
    }
  q->radix_entries--;
}

/* Front heap. */

static inline bool
eq_front_less (const EqFrontEntry *a, const EqFrontEntry *b)
{
  return a->e.time < b->e.time || (a->e.time == b->e.time && a->seq < b->seq);
}

static void
eq_front_sift_down (NatsimEventQueue *q, size_t i)
{
  EqFrontEntry *h = q->front;
  size_t n = q->nfront;
  EqFrontEntry x = h[i];

  for (;;)
    {
      size_t child = 2 * i + 1;

      if (child >= n)
        break;
      if (child + 1 < n && eq_front_less (&h[child + 1], &h[child]))
        child++;
      if (!eq_front_less (&h[child], &x))
        break;
      h[i] = h[child];
      i = child;
    }
  h[i] = x;
}

static void
eq_front_push (NatsimEventQueue *q, const EqEntry *e)
{
  EqFrontEntry x = { *e, q->front_seq++ };
  size_t i;

  if (q->nfront == q->front_cap)
    {
      q->front_cap = q->front_cap ? q->front_cap * 2 : 64;
      q->front = g_renew (EqFrontEntry, q->front, q->front_cap);
    }
  i = q->nfront++;
  while (i > 0)
    {
      size_t parent = (i - 1) / 2;

      if (!eq_front_less (&x, &q->front[parent]))
        break;
      q->front[i] = q->front[parent];
      i = parent;
    }
  q->front[i] = x;
}

static void
eq_front_pop (NatsimEventQueue *q, EqEntry *ret)
{
  *ret = q->front[0].e;
  q->nfront--;
  if (q->nfront > 0)
    {
      q->front[0] = q->front[q->nfront];
      eq_front_sift_down (q, 0);
    }
}

/* Slots. */

static inline bool
eq_entry_is_live (const NatsimEventQueue *q, const EqEntry *e)
{
  return q->direct || q->slots[e->slot].gen == e->gen;
}

static inline void
eq_slot_release (NatsimEventQueue *q, uint32_t slot)
{
  q->slots[slot].gen++;
  q->free_slots[q->nfree++] = slot;
}

static uint32_t
eq_slot_alloc (NatsimEventQueue *q)
{
  uint32_t slot;

  if (q->nfree > 0)
    return q->free_slots[--q->nfree];
  if (q->nslots == q->slot_cap)
    {
      uint32_t cap = q->slot_cap ? q->slot_cap * 2 : 1024;

      g_assert (cap > q->slot_cap && cap < EQ_NIL);
      /* g_malloc aborts on out of memory, as everywhere in GLib; align
       * by hand (g_aligned_alloc needs GLib 2.72). */
      void *raw = g_malloc ((size_t) cap * sizeof (EqSlot) + 63);
      EqSlot *slots = (EqSlot *) (((uintptr_t) raw + 63) & ~(uintptr_t) 63);

      if (q->nslots > 0)
        memcpy (slots, q->slots, (size_t) q->nslots * sizeof (EqSlot));
      g_free (q->slots_raw);
      q->slots_raw = raw;
      q->slots = slots;
      q->free_slots = g_renew (uint32_t, q->free_slots, cap);
      q->slot_cap = cap;
    }
  slot = q->nslots++;
  q->slots[slot].gen = 0;
  return slot;
}

/* Compaction. */

/* Drops the cancelled entries of @b in place, keeping the order; returns
 * how many were dropped. */
static size_t
eq_bucket_compact (NatsimEventQueue *q, EqBucket *b)
{
  uint32_t rc = b->head;
  uint32_t ri = b->hpos;
  uint32_t wc = b->head;
  uint32_t wi = b->hpos;
  size_t dropped = 0;
  bool wrote = false;
  uint32_t c;

  if (b->head == EQ_NIL)
    return 0;
  for (;;)
    {
      uint32_t end = (rc == b->tail) ? b->tlen : EQ_CHUNK;

      if (ri == end)
        {
          if (rc == b->tail)
            break;
          rc = q->chunk_next[rc];
          ri = 0;
          continue;
        }
      if (eq_entry_is_live (q, &q->chunks[rc].e[ri]))
        {
          if (wi == EQ_CHUNK)
            {
              wc = q->chunk_next[wc];
              wi = 0;
            }
          q->chunks[wc].e[wi++] = q->chunks[rc].e[ri];
          wrote = true;
        }
      else
        dropped++;
      ri++;
    }
  if (!wrote)
    {
      c = b->head;
      while (c != EQ_NIL)
        {
          uint32_t next = q->chunk_next[c];

          eq_chunk_release (q, c);
          c = next;
        }
      *b = eq_bucket_empty;
      return dropped;
    }
  c = q->chunk_next[wc];
  while (c != EQ_NIL)
    {
      uint32_t next = q->chunk_next[c];

      eq_chunk_release (q, c);
      c = next;
    }
  q->chunk_next[wc] = EQ_NIL;
  b->tail = wc;
  b->tlen = wi;
  return dropped;
}

static void
eq_compact (NatsimEventQueue *q)
{
  size_t dropped;
  size_t kept = 0;

  dropped = eq_bucket_compact (q, &q->now);
  for (unsigned level = 0; level < EQ_LEVELS; level++)
    {
      if (!(q->level_mask & (1u << level)))
        continue;
      for (unsigned w = 0; w < EQ_WORDS; w++)
        {
          uint64_t bits = q->bitmap[level][w];

          while (bits != 0)
            {
              unsigned digit = w * 64 + (unsigned) __builtin_ctzll (bits);
              EqBucket *b = &q->buckets[level][digit];

              bits &= bits - 1;
              dropped += eq_bucket_compact (q, b);
              if (b->head == EQ_NIL)
                q->bitmap[level][w] &= ~(UINT64_C (1) << (digit % 64));
            }
        }
      if (eq_level_is_empty (q, level))
        q->level_mask &= ~(1u << level);
    }
  q->radix_entries -= dropped;

  /* The front heap: filter, then heapify; (time, seq) keys keep FIFO. */
  for (size_t i = 0; i < q->nfront; i++)
    if (eq_entry_is_live (q, &q->front[i].e))
      q->front[kept++] = q->front[i];
  dropped += q->nfront - kept;
  q->nfront = kept;
  for (size_t i = kept / 2; i-- > 0;)
    eq_front_sift_down (q, i);

  g_assert (dropped == q->stale);
  q->stale = 0;
}


/* Rebasing. */

/* Appends the live entries of @b to @out from @k, frees its chunks and
 * empties it; returns the new count.  Drops (and uncounts) stale ones. */
static size_t
eq_bucket_collect (NatsimEventQueue *q, EqBucket *b, EqEntry *out, size_t k)
{
  uint32_t c = b->head;

  while (c != EQ_NIL)
    {
      uint32_t end = (c == b->tail) ? b->tlen : EQ_CHUNK;
      uint32_t next = q->chunk_next[c];

      for (uint32_t i = (c == b->head) ? b->hpos : 0; i < end; i++)
        {
          const EqEntry *e = &q->chunks[c].e[i];

          if (eq_entry_is_live (q, e))
            out[k++] = *e;
          else
            q->stale--;
        }
      eq_chunk_release (q, c);
      c = next;
    }
  *b = eq_bucket_empty;
  return k;
}

/* Moves every stored entry back into the radix part under
 * base = last_popped, emptying the front heap.  Used when a peek has raised
 * base and the front heap has since outgrown the radix part (e.g. one far
 * event was peeked at, then the whole simulation happened before it): the
 * cost, O(front + radix) <= O(2 front), is paid for by the front pushes, so
 * it is O(1) amortised, and the front heap never dominates.
 * Ties stay FIFO: front keys are all < base <= radix keys, the front is
 * emptied in (time, seq) order, each radix bucket in its own order, and
 * equal keys come from one source only, into empty buckets. */
static void
eq_rebase (NatsimEventQueue *q)
{
  size_t n = q->radix_entries + q->nfront;
  size_t k = 0;

  if (n > q->scratch_cap)
    {
      q->scratch_cap = MAX (n, 2 * q->scratch_cap);
      g_free (q->scratch);
      q->scratch = g_new (EqEntry, q->scratch_cap);
    }
  while (q->nfront > 0)
    {
      eq_front_pop (q, &q->scratch[k]);
      if (eq_entry_is_live (q, &q->scratch[k]))
        k++;
      else
        q->stale--;
    }
  k = eq_bucket_collect (q, &q->now, q->scratch, k);
  for (unsigned level = 0; level < EQ_LEVELS; level++)
    {
      for (unsigned w = 0; w < EQ_WORDS; w++)
        {
          uint64_t bits = q->bitmap[level][w];

          while (bits != 0)
            {
              unsigned digit = w * 64 + (unsigned) __builtin_ctzll (bits);

              bits &= bits - 1;
              k = eq_bucket_collect (q, &q->buckets[level][digit], q->scratch, k);
            }
          q->bitmap[level][w] = 0;
        }
    }
  q->level_mask = 0;
  q->base = q->last_popped;
  for (size_t i = 0; i < k; i++)
    eq_radix_place (q, &q->scratch[i]);
  q->radix_entries = k;
}

/* Public API. */

NatsimEventQueue *
natsim_eventq_new (void)
{
  NatsimEventQueue *q = g_new0 (NatsimEventQueue, 1);

  q->now = eq_bucket_empty;
  for (unsigned level = 0; level < EQ_LEVELS; level++)
    for (unsigned d = 0; d < EQ_FANOUT; d++)
      q->buckets[level][d] = eq_bucket_empty;
  q->chunk_free = EQ_NIL;
  return q;
}

void
natsim_eventq_free (NatsimEventQueue *q)
{
  if (q == NULL)
    return;
  if (q->chunks_map_bytes > 0)
    munmap (q->chunks, q->chunks_map_bytes);
  else
    g_free (q->chunks);
  g_free (q->chunk_next);
  g_free (q->slots_raw);
  g_free (q->free_slots);
  g_free (q->front);
  g_free (q->scratch);
  g_free (q);
}

NatsimEventQueue *
natsim_eventq_new_direct (void)
{
  NatsimEventQueue *q = natsim_eventq_new ();

  q->direct = true;
  return q;
}

static void
eq_insert (NatsimEventQueue *q, const EqEntry *e)
{
  NatsimTime time = e->time;

  /* With nothing stored, base may drop back to the monotonicity floor. */
  if (time < q->base && q->radix_entries == 0 && q->nfront == 0)
    q->base = q->last_popped;
  if (time < q->base)
    {
      eq_front_push (q, e);
      if (q->nfront > EQ_REBASE_MIN && q->nfront > q->radix_entries)
        eq_rebase (q);
    }
  else
    {
      eq_radix_place (q, e);
      q->radix_entries++;
    }
  q->live++;
}

void
natsim_eventq_push_direct (NatsimEventQueue *q, NatsimTime time, uint32_t a, uint32_t b)
{
  EqEntry e;

  g_return_if_fail (q != NULL && q->direct);
  g_return_if_fail (time >= q->last_popped);

  e.time = time;
  e.slot = a;
  e.gen = b;
  eq_insert (q, &e);
}

/* The earliest stored entry, removed (live or not); false when empty. */
static bool
eq_take (NatsimEventQueue *q, EqEntry *e)
{
  if (q->nfront > 0)
    eq_front_pop (q, e);
  else
    {
      if (q->now.head == EQ_NIL)
        {
          if (q->radix_entries == 0)
            return false;
          eq_radix_advance (q);
        }
      eq_now_take (q, e);
    }
  return true;
}

bool
natsim_eventq_pop_direct (NatsimEventQueue *q, NatsimTime *ret_time, uint32_t *ret_a,
                          uint32_t *ret_b)
{
  EqEntry e;

  g_return_val_if_fail (q != NULL && q->direct, false);

  if (!eq_take (q, &e))
    return false;
  *ret_time = e.time;
  *ret_a = e.slot;
  *ret_b = e.gen;
  q->live--;
  q->last_popped = e.time;
  return true;
}

NatsimEventId
natsim_eventq_push (NatsimEventQueue *q, NatsimTime time, uint32_t kind,
                    uint32_t aux, uint64_t data)
{
  EqEntry e;
  uint32_t slot;

  g_return_val_if_fail (q != NULL && !q->direct, 0);
  g_return_val_if_fail (time >= q->last_popped, 0);

  slot = eq_slot_alloc (q);
  e.time = time;
  e.slot = slot;
  e.gen = ++q->slots[slot].gen;
  q->slots[slot].kind = kind;
  q->slots[slot].aux = aux;
  q->slots[slot].data = data;

  /* With nothing stored, base may drop back to the monotonicity floor. */
  if (time < q->base && q->radix_entries == 0 && q->nfront == 0)
    q->base = q->last_popped;
  if (time < q->base)
    {
      eq_front_push (q, &e);
      if (q->nfront > EQ_REBASE_MIN && q->nfront > q->radix_entries)
        eq_rebase (q);
    }
  else
    {
      eq_radix_place (q, &e);
      q->radix_entries++;
    }
  q->live++;
  return ((uint64_t) e.gen << 32) | slot;
}

bool
natsim_eventq_pop (NatsimEventQueue *q, NatsimEvent *ret)
{
  EqEntry e;

  g_return_val_if_fail (q != NULL && !q->direct, false);
  g_return_val_if_fail (ret != NULL, false);

  for (;;)
    {
      if (q->nfront > 0)
        eq_front_pop (q, &e);
      else
        {
          if (q->now.head == EQ_NIL)
            {
              if (q->radix_entries == 0)
                return false;
              eq_radix_advance (q);
            }
          eq_now_take (q, &e);
        }
      if (eq_entry_is_live (q, &e))
        break;
      q->stale--;
    }
  ret->time = e.time;
  ret->id = ((uint64_t) e.gen << 32) | e.slot;
  ret->kind = q->slots[e.slot].kind;
  ret->aux = q->slots[e.slot].aux;
  ret->data = q->slots[e.slot].data;
  eq_slot_release (q, e.slot);
  q->live--;
  q->last_popped = e.time;
  return true;
}

NatsimTime
natsim_eventq_peek_time (NatsimEventQueue *q)
{
  g_return_val_if_fail (q != NULL, NATSIM_TIME_INFINITY);

  for (;;)
    {
      EqEntry e;

      if (q->nfront > 0)
        {
          if (eq_entry_is_live (q, &q->front[0].e))
            return q->front[0].e.time;
          eq_front_pop (q, &e);
          q->stale--;
          continue;
        }
      if (q->now.head == EQ_NIL)
        {
          if (q->radix_entries == 0)
            return NATSIM_TIME_INFINITY;
          eq_radix_advance (q);
        }
      if (eq_entry_is_live (q, &q->chunks[q->now.head].e[q->now.hpos]))
        return q->base;
      eq_now_take (q, &e);
      q->stale--;
    }
}

void
natsim_eventq_cancel (NatsimEventQueue *q, NatsimEventId id)
{
  uint32_t slot = (uint32_t) id;
  uint32_t gen = (uint32_t) (id >> 32);

  g_return_if_fail (q != NULL && !q->direct);

  if (slot >= q->nslots || (gen & 1) == 0 || q->slots[slot].gen != gen)
    return;
  eq_slot_release (q, slot);
  q->live--;
  q->stale++;
  if (q->stale > EQ_COMPACT_MIN && q->stale > q->live)
    eq_compact (q);
}

size_t
natsim_eventq_size (const NatsimEventQueue *q)
{
  g_return_val_if_fail (q != NULL, 0);

  return q->live;
}

size_t
natsim_eventq_memory_bytes (const NatsimEventQueue *q)
{
  g_return_val_if_fail (q != NULL, 0);

  return sizeof *q
         + (size_t) q->chunk_cap * (sizeof (EqChunk) + sizeof (uint32_t))
         + (size_t) q->slot_cap * (sizeof (EqSlot) + sizeof (uint32_t)) + (q->slot_cap ? 63 : 0)
         + q->front_cap * sizeof (EqFrontEntry) + q->scratch_cap * sizeof (EqEntry);
}
