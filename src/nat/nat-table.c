/* natsim: the NAT engine's hash table (see nat-private.h). */
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nat-private.h"

/* Grow when the load would pass 4/5; grow by half, which keeps the load
 * between 0.53 and 0.8.  A dense table (the indexes with an entry per
 * binding: nat_table_init_dense) grows when it would pass 9/10, by an
 * eighth, which keeps the load between 0.8 and 0.9: a slot is 8 bytes, so
 * an entry costs 8.9 to 10 bytes instead of 10 to 15, a sixth of the 64
 * bytes a live binding with its indexes may take (docs/performance.md
 * "Memory").  Each entry is moved about eight times by growth (sequential
 * passes, a few milliseconds a million) and probe runs are longer: on a
 * port-block CGN plan, where subscribers and hosts are looked up on every
 * new binding, perf counted 45 % more samples in table lookups with every
 * table dense, so only those that hold bytes per binding are.
 *
 * Robin Hood linear probing: an entry never sits further from its home
 * slot than the entry it passed on insertion, so along a probe run the
 * homes never decrease (the run is sorted by home).  Plain linear probing
 * made the lookups that matter the long ones: most hits are of keys
 * inserted a second before (a flow's next packets) and most lookups are
 * misses (a new flow asks the flow table and the inside index before it
 * exists), and both cost what an insertion at the current load costs.
 * Counted on scenarios/cgn-pba.ini (6 minutes, one replication): 4.8
 * slots per hit and 5.4 per miss before, 2.3 per lookup with Robin Hood,
 * which evens the displacements out (a recent key is no further than an
 * old one) and stops a miss at the first entry nearer its home than the
 * probe is to the key's; deletion shifts the run back and stops at the
 * first entry at home.  A slot's home comes from its stored hash, so
 * probing reads no record. */
#define INITIAL_CAP 1024u

/* Would one more entry pass the table's load? */
static inline bool
over_load (const NatTable *t)
{
  uint64_t n = (uint64_t) t->count + 1, cap = t->cap;

  return t->dense ? n * 10 > cap * 9 : n * 5 > cap * 4;
}

static inline uint32_t
mix (uint64_t k1, uint64_t k2)
{
  /* A 64-bit finaliser (splitmix64 style) over both halves: keys that
   * differ in a single port must land far apart. */
  uint64_t x = k1 * UINT64_C (0x9e3779b97f4a7c15) ^ k2;
  x ^= x >> 30;
  x *= UINT64_C (0xbf58476d1ce4e5b9);
  x ^= x >> 27;
  x *= UINT64_C (0x94d049bb133111eb);
  x ^= x >> 31;
  return (uint32_t) (x >> 32);
}

/* The home slot of a hash: multiply-shift onto [0, cap), so that the
 * capacity need not be a power of two. */
static inline uint32_t
home_of (uint32_t cap, uint32_t h)
{
  return (uint32_t) (((uint64_t) h * cap) >> 32);
}

static inline uint32_t
next_of (uint32_t cap, uint32_t i)
{
  return i + 1 == cap ? 0 : i + 1;
}

/* How far slot @i's entry sits from its home (cyclically). */
static inline uint32_t
dist_of (uint32_t cap, uint32_t i, uint32_t h)
{
  uint32_t home = home_of (cap, h);

  return i >= home ? i - home : i + cap - home;
}

/* Large slot arrays are mappings of their own, 2 MiB aligned, in transparent huge pages where the kernel
 * offers them on request (madvise mode): a big table is probed at random,
 * so with 4 KiB pages nearly every probe of a cold key also missed the
 * TLB (under virtualisation a two-dimensional page walk), and filling a
 * new one took a page fault every 4 KiB.  Mapped directly, not through
 * malloc: glibc serves blocks below its mmap threshold, which rises to
 * 32 MiB as big blocks are freed, from the heap, which then keeps the
 * freed tables resident. */
#define HUGE_PAGE ((size_t) 2 << 20)

void *
nat_alloc_large (size_t bytes)
{
  size_t page = (size_t) sysconf (_SC_PAGESIZE);
  size_t len = (bytes + page - 1) & ~(page - 1);
  uint8_t *p;
  size_t head;

  if (bytes < HUGE_PAGE)
    return g_malloc (bytes);
  /* Over-map by one huge page and trim to a 2 MiB boundary (munmap wants
   * page-aligned addresses, hence len). */
  p = mmap (NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    g_error ("out of memory for %zu bytes", bytes);
  head = (HUGE_PAGE - ((uintptr_t) p & (HUGE_PAGE - 1))) & (HUGE_PAGE - 1);
  if (head > 0)
    munmap (p, head);
  munmap (p + head + len, HUGE_PAGE - head);
  p += head;
#ifdef MADV_HUGEPAGE
  /* Only advice: without THP the pages stay small, nothing else changes. */
  (void) madvise (p, bytes, MADV_HUGEPAGE);
#endif
  return p;
}

void
nat_free_large (void *p, size_t bytes)
{
  if (p == NULL)
    return;
  if (bytes < HUGE_PAGE)
    g_free (p);
  else
    munmap (p, bytes);
}

static NatTableSlot *
slots_new (uint32_t cap)
{
  NatTableSlot *s = nat_alloc_large (sizeof (NatTableSlot) * (size_t) cap);

  /* value NAT_TABLE_NONE marks an empty slot */
  memset (s, 0xff, sizeof (NatTableSlot) * cap);
  return s;
}

void
nat_table_init (NatTable *t, NatTableEq eq, const void *ctx)
{
  t->cap = INITIAL_CAP;
  t->count = 0;
  t->dense = false;
  t->eq = eq;
  t->ctx = ctx;
  t->slots = slots_new (t->cap);
}

void
nat_table_init_dense (NatTable *t, NatTableEq eq, const void *ctx)
{
  nat_table_init (t, eq, ctx);
  t->dense = true;
}

void
nat_table_clear (NatTable *t)
{
  nat_free_large (t->slots, sizeof (NatTableSlot) * (size_t) t->cap);
  t->slots = NULL;
  t->count = 0;
  t->cap = 0;
}

size_t
nat_table_bytes (const NatTable *t)
{
  return (size_t) t->cap * sizeof (NatTableSlot);
}

/* The slot holding the key, or where the probe for it stopped (an empty
 * slot, or the first entry nearer its home than the key would be, where
 * an insertion puts the key): *ret_found says which, *ret_dist the key's
 * distance from its home there. */
static inline uint32_t
find (const NatTable *t, uint32_t h, uint64_t k1, uint64_t k2, bool *ret_found,
      uint32_t *ret_dist)
{
  uint32_t cap = t->cap;
  uint32_t i = home_of (cap, h);

  for (uint32_t d = 0;; d++, i = next_of (cap, i))
    {
      const NatTableSlot *s = &t->slots[i];
      /* The hash first: a hit (most often at home) computes no distance,
       * and at home (d = 0) no entry can be nearer its home. */
      if (s->value != NAT_TABLE_NONE && s->hash == h && t->eq (t->ctx, s->value, k1, k2))
        {
          *ret_found = true;
          *ret_dist = d;
          return i;
        }
      if (s->value == NAT_TABLE_NONE || (d > 0 && dist_of (cap, i, s->hash) < d))
        {
          *ret_found = false;
          *ret_dist = d;
          return i;
        }
    }
}

uint32_t
nat_table_get (const NatTable *t, uint64_t k1, uint64_t k2)
{
  bool found;
  uint32_t d;
  uint32_t i = find (t, mix (k1, k2), k1, k2, &found, &d);

  return found ? t->slots[i].value : NAT_TABLE_NONE;
}

uint32_t
nat_table_home (const NatTable *t, uint64_t k1, uint64_t k2)
{
  return home_of (t->cap, mix (k1, k2));
}

void
nat_table_prefetch (const NatTable *t, uint64_t k1, uint64_t k2)
{
  /* An 8-byte slot never straddles two cache lines. */
  __builtin_prefetch (&t->slots[nat_table_home (t, k1, k2)]);
}

uint32_t
nat_table_candidate (const NatTable *t, uint64_t k1, uint64_t k2)
{
  uint32_t h = mix (k1, k2);
  uint32_t cap = t->cap;
  uint32_t i = home_of (cap, h);

  for (uint32_t d = 0;; d++, i = next_of (cap, i))
    {
      const NatTableSlot *s = &t->slots[i];
      if (s->value == NAT_TABLE_NONE || dist_of (cap, i, s->hash) < d)
        return NAT_TABLE_NONE;
      if (s->hash == h)
        return s->value;
    }
}

/* Robin Hood insertion of an entry known to be absent at slot @i, where
 * its probe stopped: an empty slot, or the first entry nearer its home
 * than the new one would be there.  The rest of the run moves one slot on,
 * up to its first empty slot: it stays sorted by home (the entries before
 * @i have homes at or before the new one's, those from @i on after it),
 * and no entry leaves its run, so the run need not be re-examined (no
 * distance computed per slot, the cost of classic swap-as-you-go). */
static void
insert_at (NatTableSlot *slots, uint32_t cap, NatTableSlot e, uint32_t i)
{
  for (;; i = next_of (cap, i))
    {
      NatTableSlot moved = slots[i];
      slots[i] = e;
      if (moved.value == NAT_TABLE_NONE)
        return;
      e = moved;
    }
}

static void
grow (NatTable *t)
{
  NatTableSlot *old = t->slots;
  uint32_t old_cap = t->cap;

  g_assert (old_cap < UINT32_MAX / 3 * 2);
  t->cap = t->dense ? old_cap / 8 * 9 : old_cap + old_cap / 2;
  t->slots = slots_new (t->cap);
  for (uint32_t j = 0; j < old_cap; j++)
    {
      uint32_t cap = t->cap, i, d;
      if (old[j].value == NAT_TABLE_NONE)
        continue;
      /* The keys are distinct: only the insertion point is searched. */
      for (i = home_of (cap, old[j].hash), d = 0;
           t->slots[i].value != NAT_TABLE_NONE && dist_of (cap, i, t->slots[i].hash) >= d;
           i = next_of (cap, i), d++)
        ;
      insert_at (t->slots, cap, old[j], i);
    }
  nat_free_large (old, sizeof (NatTableSlot) * (size_t) old_cap);
}

uint32_t
nat_table_swap (NatTable *t, uint64_t k1, uint64_t k2, uint32_t value)
{
  uint32_t h = mix (k1, k2);
  NatTableSlot e = { value, h };
  bool found;
  uint32_t i, d, old;

  g_assert (value != NAT_TABLE_NONE);
  if (over_load (t))
    grow (t);
  i = find (t, h, k1, k2, &found, &d);
  if (found)
    {
      old = t->slots[i].value;
      t->slots[i].value = value;
      return old;
    }
  insert_at (t->slots, t->cap, e, i);
  t->count++;
  return NAT_TABLE_NONE;
}

void
nat_table_put (NatTable *t, uint64_t k1, uint64_t k2, uint32_t value)
{
  nat_table_swap (t, k1, k2, value);
}

uint32_t
nat_table_take (NatTable *t, uint64_t k1, uint64_t k2)
{
  uint32_t cap = t->cap;
  bool found;
  uint32_t d, old;
  uint32_t i = find (t, mix (k1, k2), k1, k2, &found, &d);

  if (!found)
    return NAT_TABLE_NONE;
  old = t->slots[i].value;
  /* Backward shift: the rest of the run moves one slot nearer home, up
   * to an empty slot or an entry at home (no tombstones). */
  for (uint32_t j = next_of (cap, i);; i = j, j = next_of (cap, j))
    {
      NatTableSlot *s = &t->slots[j];
      if (s->value == NAT_TABLE_NONE || dist_of (cap, j, s->hash) == 0)
        break;
      t->slots[i] = *s;
    }
  t->slots[i].value = NAT_TABLE_NONE;
  t->count--;
  return old;
}

void
nat_table_del (NatTable *t, uint64_t k1, uint64_t k2)
{
  nat_table_take (t, k1, k2);
}

/* ---------- entries aside (NatSide) ---------- */

static inline uint32_t *
side_entry (const NatSide *s, uint32_t e)
{
  return (uint32_t *) (void *) (s->entries->data
                                + (gsize) e * g_array_get_element_size (s->entries));
}

static bool
side_eq (const void *ctx, uint32_t value, uint64_t k1, uint64_t k2)
{
  const NatSide *s = ctx;

  return *side_entry (s, value) == k1 && k2 == 0;
}

void
nat_side_init (NatSide *s, guint size)
{
  g_assert (size >= sizeof (uint32_t));
  nat_table_init (&s->index, side_eq, s);
  s->entries = g_array_new (FALSE, FALSE, size);
  s->free = NONE;
}

void
nat_side_clear (NatSide *s)
{
  nat_table_clear (&s->index);
  g_clear_pointer (&s->entries, g_array_unref);
}

size_t
nat_side_bytes (const NatSide *s)
{
  return nat_table_bytes (&s->index)
         + (size_t) s->entries->len * g_array_get_element_size (s->entries);
}

void *
nat_side_get (const NatSide *s, uint32_t idx)
{
  uint32_t e = nat_table_get (&s->index, idx, 0);

  return e == NAT_TABLE_NONE ? NULL : side_entry (s, e);
}

void *
nat_side_add (NatSide *s, uint32_t idx)
{
  uint32_t e = s->free;
  uint32_t *p;

  if (e != NONE)
    s->free = *side_entry (s, e);
  else
    {
      e = s->entries->len;
      g_array_set_size (s->entries, e + 1);
    }
  p = side_entry (s, e);
  *p = idx;
  nat_table_put (&s->index, idx, 0, e);
  return p;
}

void
nat_side_del (NatSide *s, uint32_t idx)
{
  uint32_t e = nat_table_take (&s->index, idx, 0);

  g_assert (e != NAT_TABLE_NONE);
  *side_entry (s, e) = s->free;
  s->free = e;
}
