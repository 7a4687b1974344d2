/* natsim: the NAT engine's hash table (see nat-private.h). */
#include <glib.h>
#include <string.h>

#include "nat-private.h"

static inline uint64_t
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
  return x;
}

void
nat_table_init (NatTable *t)
{
  t->mask = 1023;
  t->count = 0;
  t->slots = g_new0 (NatTableSlot, t->mask + 1);
}

void
nat_table_clear (NatTable *t)
{
  g_clear_pointer (&t->slots, g_free);
  t->count = 0;
  t->mask = 0;
}

uint32_t
nat_table_get (const NatTable *t, uint64_t k1, uint64_t k2)
{
  for (uint64_t i = mix (k1, k2) & t->mask;; i = (i + 1) & t->mask)
    {
      const NatTableSlot *s = &t->slots[i];
      if (!s->used)
        return NAT_TABLE_NONE;
      if (s->k1 == k1 && s->k2 == k2)
        return s->value;
    }
}

void
nat_table_prefetch (const NatTable *t, uint64_t k1, uint64_t k2)
{
  const NatTableSlot *s = &t->slots[mix (k1, k2) & t->mask];

  /* Both ends: a slot may straddle two cache lines. */
  __builtin_prefetch (s);
  __builtin_prefetch ((const char *) (s + 1) - 1);
}

static void
grow (NatTable *t)
{
  NatTableSlot *old = t->slots;
  uint64_t old_size = t->mask + 1;

  t->mask = old_size * 2 - 1;
  t->slots = g_new0 (NatTableSlot, t->mask + 1);
  for (uint64_t j = 0; j < old_size; j++)
    {
      if (!old[j].used)
        continue;
      uint64_t i = mix (old[j].k1, old[j].k2) & t->mask;
      while (t->slots[i].used)
        i = (i + 1) & t->mask;
      t->slots[i] = old[j];
    }
  g_free (old);
}

void
nat_table_put (NatTable *t, uint64_t k1, uint64_t k2, uint32_t value)
{
  uint64_t i;

  if ((t->count + 1) * 2 > t->mask + 1)
    grow (t);
  for (i = mix (k1, k2) & t->mask; t->slots[i].used; i = (i + 1) & t->mask)
    if (t->slots[i].k1 == k1 && t->slots[i].k2 == k2)
      {
        t->slots[i].value = value;
        return;
      }
  t->slots[i].k1 = k1;
  t->slots[i].k2 = k2;
  t->slots[i].value = value;
  t->slots[i].used = 1;
  t->count++;
}

void
nat_table_del (NatTable *t, uint64_t k1, uint64_t k2)
{
  uint64_t i, j;

  for (i = mix (k1, k2) & t->mask;; i = (i + 1) & t->mask)
    {
      if (!t->slots[i].used)
        return;
      if (t->slots[i].k1 == k1 && t->slots[i].k2 == k2)
        break;
    }
  /* Backward-shift deletion: move later members of the probe run into
   * the hole when their home slot does not lie in (hole, j]. */
  for (j = i;;)
    {
      uint64_t home;
      t->slots[i].used = 0;
      for (;;)
        {
          j = (j + 1) & t->mask;
          if (!t->slots[j].used)
            {
              t->count--;
              return;
            }
          home = mix (t->slots[j].k1, t->slots[j].k2) & t->mask;
          /* Is home cyclically in (i, j]?  Then the entry stays. */
          if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
            continue;
          break;
        }
      t->slots[i] = t->slots[j];
      i = j;
    }
}
