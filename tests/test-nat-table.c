/* natsim: the NAT engine's hash table (src/nat/nat-table.c), Robin Hood
 * linear probing with backward-shift deletion.
 *
 * The table stores no keys: a value indexes a record that holds its key,
 * here an array of keys, and the eq callback compares against it.  The
 * tests check the table against a reference (GHashTable) under random
 * churn and growth, and the cases a probing table gets wrong: runs that
 * wrap around the end of the slot array, deleting inside such a run, a
 * miss stopping early, and replacing a value in place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "../src/nat/nat-private.h"

#define MAX_KEYS 200000u

typedef struct
{
  uint64_t k1[MAX_KEYS];
  uint64_t k2[MAX_KEYS];
} Keys;

static unsigned eq_calls;

static bool
keys_eq (const void *ctx, uint32_t value, uint64_t k1, uint64_t k2)
{
  const Keys *keys = ctx;

  eq_calls++;
  assert_true (value < MAX_KEYS);
  return keys->k1[value] == k1 && keys->k2[value] == k2;
}

/* Occupied slots, counted from the slot array itself. */
static uint32_t
occupied (const NatTable *t)
{
  uint32_t n = 0;

  for (uint32_t i = 0; i < t->cap; i++)
    n += t->slots[i].value != NAT_TABLE_NONE;
  return n;
}

/* @n keys (k1 from @from on, k2 = 7) whose probes begin at slot @home of
 * a table of the initial capacity; their values are their indexes. */
static uint32_t
keys_at_home (const NatTable *t, Keys *keys, uint32_t first, uint32_t n, uint32_t home,
              uint64_t *from)
{
  for (uint32_t v = first; v < first + n; v++)
    {
      while (nat_table_home (t, *from, 7) != home)
        (*from)++;
      keys->k1[v] = (*from)++;
      keys->k2[v] = 7;
    }
  return first + n;
}

static void
test_wrap_around_delete (void **state)
{
  Keys *keys = g_new0 (Keys, 1);
  NatTable t;
  uint32_t last;
  uint64_t from = 1;

  (void) state;
  nat_table_init (&t, keys_eq, keys);
  last = t.cap - 1;
  /* Values 0-2 begin at the last slot and wrap to slots 0 and 1; value 3
   * begins at slot 0 and is pushed to slot 2 behind them; value 4 at slot
   * 1 goes to slot 3. */
  keys_at_home (&t, keys, 0, 3, last, &from);
  keys_at_home (&t, keys, 3, 1, 0, &from);
  keys_at_home (&t, keys, 4, 1, 1, &from);
  for (uint32_t v = 0; v < 5; v++)
    assert_int_equal (nat_table_swap (&t, keys->k1[v], keys->k2[v], v), NAT_TABLE_NONE);
  assert_int_equal (t.slots[last].value, 0);
  assert_int_equal (t.slots[0].value, 1);
  assert_int_equal (t.slots[1].value, 2);
  assert_int_equal (t.slots[2].value, 3);
  assert_int_equal (t.slots[3].value, 4);

  /* Deleting the run's first entry shifts every later one back by one
   * slot, across the end of the array: nothing may be lost or left
   * behind a hole. */
  assert_int_equal (nat_table_take (&t, keys->k1[0], keys->k2[0]), 0);
  assert_int_equal (t.count, 4);
  assert_int_equal (occupied (&t), 4);
  assert_int_equal (t.slots[last].value, 1);
  assert_int_equal (t.slots[0].value, 2);
  assert_int_equal (t.slots[1].value, 3);
  assert_int_equal (t.slots[2].value, 4);
  assert_int_equal (t.slots[3].value, NAT_TABLE_NONE);
  for (uint32_t v = 1; v < 5; v++)
    assert_int_equal (nat_table_get (&t, keys->k1[v], keys->k2[v]), v);
  assert_int_equal (nat_table_get (&t, keys->k1[0], keys->k2[0]), NAT_TABLE_NONE);

  /* Deleting the entry that wrapped to slot 0: the shift stops at value
   * 4, which is then at home. */
  assert_int_equal (nat_table_take (&t, keys->k1[2], keys->k2[2]), 2);
  assert_int_equal (t.slots[0].value, 3);
  assert_int_equal (t.slots[1].value, 4);
  assert_int_equal (t.slots[2].value, NAT_TABLE_NONE);
  for (uint32_t v = 1; v < 5; v++)
    assert_int_equal (nat_table_get (&t, keys->k1[v], keys->k2[v]), v == 2 ? NAT_TABLE_NONE : v);

  /* An absent key and a second delete change nothing. */
  assert_int_equal (nat_table_take (&t, keys->k1[2], keys->k2[2]), NAT_TABLE_NONE);
  nat_table_del (&t, keys->k1[0], keys->k2[0]);
  assert_int_equal (t.count, 3);
  assert_int_equal (occupied (&t), 3);
  nat_table_clear (&t);
  g_free (keys);
}

static void
test_robin_hood_order (void **state)
{
  Keys *keys = g_new0 (Keys, 1);
  NatTable t;
  uint64_t from = 1;
  uint32_t absent_hash = 0, saved_hash;

  (void) state;
  nat_table_init (&t, keys_eq, keys);
  /* Four keys at home 10 fill slots 10-13; a key at home 11 then takes
   * slot 14 and one at home 12 slot 15.  A fifth key at home 10 is
   * further from home at slot 14 (4) than the home-11 key there (3): it
   * takes the slot and pushes both on by one. */
  keys_at_home (&t, keys, 0, 4, 10, &from);
  keys_at_home (&t, keys, 4, 1, 11, &from);
  keys_at_home (&t, keys, 5, 1, 12, &from);
  keys_at_home (&t, keys, 6, 1, 10, &from);
  for (uint32_t v = 0; v < 7; v++)
    nat_table_put (&t, keys->k1[v], keys->k2[v], v);
  assert_int_equal (t.slots[13].value, 3);
  assert_int_equal (t.slots[14].value, 6);
  assert_int_equal (t.slots[15].value, 4);
  assert_int_equal (t.slots[16].value, 5);
  for (uint32_t v = 0; v < 7; v++)
    assert_int_equal (nat_table_get (&t, keys->k1[v], keys->k2[v]), v);

  /* A miss stops early: an absent key of home 10 is at distance 5 at
   * slot 15, whose entry (home 11) is at distance 4, so the probe ends
   * there.  Slot 16 is given the absent key's hash: a probe that went on
   * would compare the record there. */
  keys_at_home (&t, keys, 7, 1, 10, &from);
  nat_table_put (&t, keys->k1[7], keys->k2[7], 7);
  for (uint32_t i = 10; i < 20; i++)
    if (t.slots[i].value == 7)
      absent_hash = t.slots[i].hash;
  assert_int_equal (nat_table_take (&t, keys->k1[7], keys->k2[7]), 7);
  assert_int_equal (t.slots[16].value, 5);
  saved_hash = t.slots[16].hash;
  t.slots[16].hash = absent_hash;
  eq_calls = 0;
  assert_int_equal (nat_table_get (&t, keys->k1[7], keys->k2[7]), NAT_TABLE_NONE);
  assert_int_equal (eq_calls, 0);
  t.slots[16].hash = saved_hash;

  /* Replacing keeps the slot and the count; swap returns the old value. */
  keys->k1[8] = keys->k1[6];
  keys->k2[8] = keys->k2[6];
  assert_int_equal (nat_table_swap (&t, keys->k1[6], keys->k2[6], 8), 6);
  assert_int_equal (t.slots[14].value, 8);
  assert_int_equal (t.count, 7);

  /* Deleting the first home-10 key shifts the run back up to the first
   * entry at home (none here, the run ends at an empty slot). */
  assert_int_equal (nat_table_take (&t, keys->k1[0], keys->k2[0]), 0);
  assert_int_equal (t.slots[10].value, 1);
  assert_int_equal (t.slots[13].value, 8);
  assert_int_equal (t.slots[14].value, 4);
  assert_int_equal (t.slots[15].value, 5);
  assert_int_equal (t.slots[16].value, NAT_TABLE_NONE);
  nat_table_clear (&t);
  g_free (keys);
}

static uint64_t
xorshift (uint64_t *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* Random puts, swaps, takes and gets against a GHashTable, through growth
 * from 1024 slots: the same answers, the same count, every key found. */
static void
test_random_against_reference (void **state)
{
  Keys *keys = g_new0 (Keys, 1);
  GHashTable *ref = g_hash_table_new (g_direct_hash, g_direct_equal);
  NatTable t;
  uint64_t s = 0x9e3779b97f4a7c15ull;
  const uint32_t n_keys = 150000;
  uint32_t cap_before;

  (void) state;
  /* Keys shaped as the engine's: (proto, address, port) and a remote;
   * many share an address or a port, some differ in one bit only. */
  for (uint32_t v = 0; v < n_keys; v++)
    {
      keys->k1[v] = ((uint64_t) 17 << 48) | ((uint64_t) (1024 + v % 977) << 32) | (0x0a000000u + v / 977);
      keys->k2[v] = ((uint64_t) (5000 + v % 3) << 32) | (0xc6336400u + v % 200);
    }
  nat_table_init (&t, keys_eq, keys);
  cap_before = t.cap;
  for (uint32_t step = 0; step < 1200000; step++)
    {
      uint64_t r = xorshift (&s);
      /* The key range widens over time, so the table grows under churn. */
      uint32_t range = MIN (n_keys, 2000 + step / 8);
      uint32_t v = (uint32_t) (r % range);
      gpointer present = g_hash_table_lookup (ref, GUINT_TO_POINTER (v + 1));
      uint32_t want = present ? v : NAT_TABLE_NONE;

      switch ((r >> 32) % 8)
        {
        case 0:
        case 1:
          assert_int_equal (nat_table_swap (&t, keys->k1[v], keys->k2[v], v), want);
          g_hash_table_add (ref, GUINT_TO_POINTER (v + 1));
          break;
        case 2:
          nat_table_put (&t, keys->k1[v], keys->k2[v], v);
          g_hash_table_add (ref, GUINT_TO_POINTER (v + 1));
          break;
        case 3:
        case 4:
          assert_int_equal (nat_table_take (&t, keys->k1[v], keys->k2[v]), want);
          g_hash_table_remove (ref, GUINT_TO_POINTER (v + 1));
          break;
        case 5:
          nat_table_del (&t, keys->k1[v], keys->k2[v]);
          g_hash_table_remove (ref, GUINT_TO_POINTER (v + 1));
          break;
        default:
          assert_int_equal (nat_table_get (&t, keys->k1[v], keys->k2[v]), want);
          break;
        }
      assert_int_equal (t.count, g_hash_table_size (ref));
      /* Never above 4/5 load. */
      assert_true ((uint64_t) t.count * 5 <= (uint64_t) t.cap * 4);
    }
  assert_true (t.cap > cap_before);
  assert_int_equal (occupied (&t), t.count);
  for (uint32_t v = 0; v < n_keys; v++)
    assert_int_equal (nat_table_get (&t, keys->k1[v], keys->k2[v]),
                      g_hash_table_contains (ref, GUINT_TO_POINTER (v + 1)) ? v : NAT_TABLE_NONE);
  g_hash_table_unref (ref);
  nat_table_clear (&t);
  g_free (keys);
}

/* Growth: the capacity grows by half from 1024 at 4/5 load (by an eighth
 * at 9/10, dense), and every key inserted before is found after each
 * growth. */
static void
check_growth (bool dense)
{
  Keys *keys = g_new0 (Keys, 1);
  NatTable t;
  uint32_t cap = 1024, grows = 0;
  uint64_t num = dense ? 9 : 4, den = dense ? 10 : 5;

  if (dense)
    nat_table_init_dense (&t, keys_eq, keys);
  else
    nat_table_init (&t, keys_eq, keys);
  assert_int_equal (nat_table_bytes (&t), 1024 * sizeof (NatTableSlot));
  for (uint32_t v = 0; v < MAX_KEYS; v++)
    {
      keys->k1[v] = v;
      keys->k2[v] = 0;
      nat_table_put (&t, v, 0, v);
      if (t.cap != cap)
        {
          assert_int_equal (t.cap, dense ? cap / 8 * 9 : cap + cap / 2);
          /* It grew for the entry that would have passed the load. */
          assert_true ((uint64_t) v * den <= (uint64_t) cap * num);
          assert_true ((uint64_t) (v + 1) * den > (uint64_t) cap * num);
          cap = t.cap;
          grows++;
          for (uint32_t w = 0; w <= v; w++)
            assert_int_equal (nat_table_get (&t, w, 0), w);
        }
    }
  assert_true (grows >= 10);
  assert_int_equal (t.count, MAX_KEYS);
  assert_int_equal (occupied (&t), MAX_KEYS);
  assert_int_equal (nat_table_bytes (&t), (size_t) t.cap * sizeof (NatTableSlot));
  /* Emptied again: every slot free, nothing found. */
  for (uint32_t v = 0; v < MAX_KEYS; v++)
    assert_int_equal (nat_table_take (&t, v, 0), v);
  assert_int_equal (t.count, 0);
  assert_int_equal (occupied (&t), 0);
  assert_int_equal (nat_table_get (&t, 5, 0), NAT_TABLE_NONE);
  nat_table_clear (&t);
  g_free (keys);
}

static void
test_growth (void **state)
{
  (void) state;
  check_growth (false);
  check_growth (true);
}

/* Large arrays: from 2 MiB on, 2 MiB-aligned mappings (for huge pages)
 * whatever the size, every byte usable; smaller ones from the heap. */
static void
test_large_alloc (void **state)
{
  const size_t sizes[] = { 1000, (2u << 20) - 8, (2u << 20) + 24, (5u << 20) + 4100 };

  (void) state;
  for (int round = 0; round < 3; round++)
    for (size_t i = 0; i < G_N_ELEMENTS (sizes); i++)
      {
        uint8_t *p = nat_alloc_large (sizes[i]);
        assert_non_null (p);
        if (sizes[i] >= (2u << 20))
          assert_int_equal ((uintptr_t) p & ((2u << 20) - 1), 0);
        memset (p, 0xa5, sizes[i]);
        assert_int_equal (p[sizes[i] - 1], 0xa5);
        nat_free_large (p, sizes[i]);
      }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_wrap_around_delete),
    cmocka_unit_test (test_robin_hood_order),
    cmocka_unit_test (test_random_against_reference),
    cmocka_unit_test (test_growth),
    cmocka_unit_test (test_large_alloc),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
