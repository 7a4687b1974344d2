/* natsim: the NAT engine's hash table (see nat-private.h). */
#include <glib.h>
#include <string.h>

#include "nat-private.h"

/* Grow when the load would pass 4/5; grow by half.  Linear probing stays
 * short at this load because a probe compares 8-byte slots (eight to a
 * cache line) by their 32-bit hash and reads the record only on a hash
 * match; growing by half instead of doubling keeps the load between 0.53
 * and 0.8, which is what memory per binding pays for. */
#define LOAD_NUM 4u
#define LOAD_DEN 5u
#define INITIAL_CAP 1024u

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
home_of (const NatTable *t, uint32_t h)
{
  return (uint32_t) (((uint64_t) h * t->cap) >> 32);
}

static inline uint32_t
next_of (const NatTable *t, uint32_t i)
{
  return i + 1 == t->cap ? 0 : i + 1;
}

static NatTableSlot *
slots_new (uint32_t cap)
{
  NatTableSlot *s = g_new (NatTableSlot, cap);

  /* value NAT_TABLE_NONE marks an empty slot */
  memset (s, 0xff, sizeof (NatTableSlot) * cap);
  return s;
}

void
nat_table_init (NatTable *t, NatTableEq eq, const void *ctx)
{
  t->cap = INITIAL_CAP;
  t->count = 0;
  t->eq = eq;
  t->ctx = ctx;
  t->slots = slots_new (t->cap);
}

void
nat_table_clear (NatTable *t)
{
  g_clear_pointer (&t->slots, g_free);
  t->count = 0;
  t->cap = 0;
}

size_t
nat_table_bytes (const NatTable *t)
{
  return (size_t) t->cap * sizeof (NatTableSlot);
}

uint32_t
nat_table_get (const NatTable *t, uint64_t k1, uint64_t k2)
{
  uint32_t h = mix (k1, k2);

  for (uint32_t i = home_of (t, h);; i = next_of (t, i))
    {
      const NatTableSlot *s = &t->slots[i];
      if (s->value == NAT_TABLE_NONE)
        return NAT_TABLE_NONE;
      if (s->hash == h && t->eq (t->ctx, s->value, k1, k2))
        return s->value;
    }
}

static void
grow (NatTable *t)
{
  NatTableSlot *old = t->slots;
  uint32_t old_cap = t->cap;

  g_assert (old_cap < UINT32_MAX / 3 * 2);
  t->cap = old_cap + old_cap / 2;
  t->slots = slots_new (t->cap);
  for (uint32_t j = 0; j < old_cap; j++)
    {
      uint32_t i;
      if (old[j].value == NAT_TABLE_NONE)
        continue;
      for (i = home_of (t, old[j].hash); t->slots[i].value != NAT_TABLE_NONE; i = next_of (t, i))
        ;
      t->slots[i] = old[j];
    }
  g_free (old);
}

void
nat_table_put (NatTable *t, uint64_t k1, uint64_t k2, uint32_t value)
{
  uint32_t h = mix (k1, k2);
  uint32_t i;

  g_assert (value != NAT_TABLE_NONE);
  if ((uint64_t) (t->count + 1) * LOAD_DEN > (uint64_t) t->cap * LOAD_NUM)
    grow (t);
  for (i = home_of (t, h); t->slots[i].value != NAT_TABLE_NONE; i = next_of (t, i))
    if (t->slots[i].hash == h && t->eq (t->ctx, t->slots[i].value, k1, k2))
      {
        t->slots[i].value = value;
        return;
      }
  t->slots[i].value = value;
  t->slots[i].hash = h;
  t->count++;
}

void
nat_table_del (NatTable *t, uint64_t k1, uint64_t k2)
{
  uint32_t h = mix (k1, k2);
  uint32_t i, j;

  for (i = home_of (t, h);; i = next_of (t, i))
    {
      if (t->slots[i].value == NAT_TABLE_NONE)
        return;
      if (t->slots[i].hash == h && t->eq (t->ctx, t->slots[i].value, k1, k2))
        break;
    }
  /* Backward-shift deletion: move later members of the probe run into
   * the hole when their home slot does not lie in (hole, j]; the home
   * comes from the stored hash, so no record is read. */
  for (j = i;;)
    {
      uint32_t home;
      t->slots[i].value = NAT_TABLE_NONE;
      for (;;)
        {
          j = next_of (t, j);
          if (t->slots[j].value == NAT_TABLE_NONE)
            {
              t->count--;
              return;
            }
          home = home_of (t, t->slots[j].hash);
          /* Is home cyclically in (i, j]?  Then the entry stays. */
          if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
            continue;
          break;
        }
      t->slots[i] = t->slots[j];
      i = j;
    }
}
