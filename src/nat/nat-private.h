/* natsim: NAT engine internals. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* An open-addressing hash table from a 128-bit key to a 32-bit value,
 * linear probing with backward-shift deletion (no tombstones, so lookups
 * stay short under churn).  Grows by doubling at 50 % load: amortised
 * O(1), and no allocation at all once the table has reached the working
 * set of the run.  Chosen over GHashTable because it stores keys inline
 * (one cache line per probe, no per-entry allocation). */
typedef struct
{
  uint64_t k1, k2;
  uint32_t value;
  uint32_t used;
} NatTableSlot;

typedef struct
{
  NatTableSlot *slots;
  uint64_t      mask;
  uint64_t      count;
} NatTable;

#define NAT_TABLE_NONE UINT32_MAX

void     nat_table_init (NatTable *t);
void     nat_table_clear (NatTable *t);
/* The value for the key, or NAT_TABLE_NONE. */
uint32_t nat_table_get (const NatTable *t, uint64_t k1, uint64_t k2);
/* Inserts or replaces. */
void     nat_table_put (NatTable *t, uint64_t k1, uint64_t k2, uint32_t value);
/* Removes the key if present. */
void     nat_table_del (NatTable *t, uint64_t k1, uint64_t k2);
