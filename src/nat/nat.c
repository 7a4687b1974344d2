/* natsim: the NAT/PAT gateway engine (lifecycle and gauges).
 *
 * docs/nat-model.md is the contract of the engine; every rule there is
 * implemented in src/nat and tested in tests/test-nat*.c.  The engine is
 * split along its seams:
 *  - nat-packet.c:  the packet path (translation, delivery, filtering);
 *  - nat-alloc.c:   choosing the external endpoint of a new binding;
 *  - nat-blocks.c:  ports in use and subscribers' port blocks;
 *  - nat-timers.c:  idle timers, expiry, TCP tracking;
 *  - nat-binding.c: binding records, the inside-endpoint and per-port
 *                   lists of them, events;
 *  - nat-table.c:   the hash table behind the flow, reply and inside
 *                   indexes;
 *  - nat-config.c:  the [nat] keys, presets and config validation.
 *
 * Data layout (nat-private.h; all plain C, no per-packet allocation in
 * steady state): a pool of 48-byte Binding records recycled through a
 * free list, hash tables of 8-byte slots indexing them (the inside
 * endpoints whose lists they head, where a flow is looked up, and the
 * flows of crowded endpoints and bindings of crowded ports), per
 * address and protocol PortState in pages allocated on first write (each
 * port heads the list of its bindings while they are few), and a private event queue of 16-byte timer entries.  Where the bytes go:
 * natsim_nat_memory() and docs/performance.md "Memory".
 */
#include <stdlib.h>
#include <string.h>

#include "nat-private.h"

static int
cmp_u32 (const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

  return x < y ? -1 : x > y;
}

/* Table callbacks of the subscriber and host indexes (key: inside address). */
static bool
subscriber_eq (const void *ctx, uint32_t idx, uint64_t k1, uint64_t k2)
{
  const NatsimNat *nat = ctx;

  return g_array_index (nat->subscribers, Subscriber, idx).in_addr == k1 && k2 == 0;
}

static bool
host_eq (const void *ctx, uint32_t idx, uint64_t k1, uint64_t k2)
{
  const NatsimNat *nat = ctx;

  return g_array_index (nat->hosts, Host, idx).in_addr == k1 && k2 == 0;
}

/* ---------- lifecycle and gauges ---------- */

NatsimNat *
natsim_nat_new (const NatsimNatConfig *cfg, gsl_rng *rng)
{
  NatsimNat *nat;
  NatsimDeterministicPlan det = { 0 };


  g_return_val_if_fail (cfg != NULL, NULL);
  g_return_val_if_fail (cfg->n_addresses > 0 && cfg->n_addresses <= NATSIM_NAT_MAX_ADDRESSES, NULL);
  g_return_val_if_fail (cfg->port_lo >= 1 && cfg->port_lo <= cfg->port_hi, NULL);

  g_return_val_if_fail (!cfg->deterministic || natsim_nat_deterministic_plan (cfg, &det), NULL);

  nat = g_new0 (NatsimNat, 1);
  nat->cfg = *cfg;
  nat->cfg.addresses = g_memdup2 (cfg->addresses, sizeof (uint32_t) * cfg->n_addresses);
  nat->cfg.inside_addresses = cfg->n_inside > 0
    ? g_memdup2 (cfg->inside_addresses, sizeof (uint32_t) * cfg->n_inside) : NULL;
  if (nat->cfg.blocks_per_subscriber == 0)
    nat->cfg.blocks_per_subscriber = 1;
  nat->rng = rng;
  nat->range = (uint32_t) cfg->port_hi - cfg->port_lo + 1;
  nat->n_port_pages = (nat->range + PORT_PAGE - 1) >> PORT_PAGE_SHIFT;
  nat->page_pool = g_ptr_array_new_with_free_func (g_free);
  nat->free_binding = NONE;
  nat->subscribers = g_array_new (FALSE, FALSE, sizeof (Subscriber));
  nat->free_subscribers = g_array_new (FALSE, FALSE, sizeof (uint32_t));
  nat_table_init_dense (&nat->flows, nat_binding_eq_flow, nat);
  nat_table_init_dense (&nat->inside_index, nat_binding_eq_inside, nat);
  nat_table_init_dense (&nat->replies, nat_binding_eq_reply, nat);
  nat_table_init (&nat->subscriber_index, subscriber_eq, nat);
  nat_table_init (&nat->host_index, host_eq, nat);
  nat_side_init (&nat->leases, sizeof (Lease));
  nat_side_init (&nat->young, sizeof (YoungEntry));
  nat_side_init (&nat->prevs, sizeof (PrevEntry));
  /* Binding: can a UDP binding's first timer come while it is young? */
  nat->young_aside = nat->cfg.udp_timeout <= NATSIM_SEC (2);
  nat->hosts = g_array_new (FALSE, FALSE, sizeof (Host));
  nat->free_hosts = g_array_new (FALSE, FALSE, sizeof (uint32_t));
  nat->addrs = g_new0 (AddressState, cfg->n_addresses);
  if (cfg->deterministic)
    {
      /* RFC 7422: subscriber i owns range i % per_address of address
       * i / per_address; only this index is kept, no allocation state. */
      nat->block_size = (uint32_t) det.ports;
      nat->det_per_address = (uint32_t) det.per_address;
      qsort (nat->cfg.inside_addresses, cfg->n_inside, sizeof (uint32_t), cmp_u32);
    }
  else if (cfg->ports_per_subscriber > 0)
    {
      nat->pba = true;
      nat->block_size = cfg->ports_per_subscriber;
      nat->n_blocks = nat->range / cfg->ports_per_subscriber;
      for (guint i = 0; i < cfg->n_addresses; i++)
        {
          nat->addrs[i].block_owner = g_new0 (uint32_t, nat->n_blocks);
          nat->addrs[i].block_used = g_new0 (uint32_t, nat->n_blocks);
          nat->addrs[i].block_free_at = g_new0 (NatsimTime, nat->n_blocks);
          nat->addrs[i].free_blocks = nat->n_blocks;
        }
    }
  /* RFC 4787 REQ-2 with a selection other than hash: a host's address is
   * remembered while it has live bindings (port blocks remember it in the
   * subscriber; hash needs no memory). */
  nat->track_hosts = cfg->pooling == NATSIM_POOLING_PAIRED &&
                     cfg->address_selection != NATSIM_SELECT_HASH &&
                     !nat->pba && !cfg->deterministic;
  for (guint i = 0; i < cfg->n_addresses; i++)
    for (int p = 0; p < N_PROTO_IDX; p++)
      nat->addrs[i].last_alloc[p] = nat->range - 1;
  nat->timers = natsim_eventq_new_direct ();
  nat_forwards_init (nat);
  return nat;
}

/* Port pages come from blocks of PAGE_POOL_BLOCK bytes: in allocation
 * order, so the layout is the same on every run. */
#define PAGE_POOL_BLOCK (64u * 1024u)

void *
nat_port_page_new (NatsimNat *nat, gsize bytes)
{
  void *page;

  if (nat->pool_left < bytes)
    {
      nat->pool_next = g_malloc0 (PAGE_POOL_BLOCK);
      nat->pool_left = PAGE_POOL_BLOCK;
      nat->pool_bytes += PAGE_POOL_BLOCK;
      g_ptr_array_add (nat->page_pool, nat->pool_next);
    }
  page = nat->pool_next;
  nat->pool_next += bytes;
  nat->pool_left -= bytes;
  return page;
}

void
natsim_nat_free (NatsimNat *nat)
{
  if (nat == NULL)
    return;
  g_ptr_array_free (nat->page_pool, TRUE);
  for (guint i = 0; i < nat->cfg.n_addresses; i++)
    {
      for (int p = 0; p < N_PROTO_IDX; p++)
        {
          g_free (nat->addrs[i].ports[p]);
          g_free (nat->addrs[i].released[p]);
        }
      g_free (nat->addrs[i].block_owner);
      g_free (nat->addrs[i].block_used);
      g_free (nat->addrs[i].block_free_at);
    }
  for (guint i = 0; i < nat->subscribers->len; i++)
    g_free (g_array_index (nat->subscribers, Subscriber, i).blocks);
  g_free (nat->addrs);
  for (guint i = 0; i < nat->n_chunks; i++)
    g_free (nat->chunks[i]);
  g_free (nat->chunks);
  g_array_unref (nat->subscribers);
  g_array_unref (nat->free_subscribers);
  nat_table_clear (&nat->flows);
  nat_table_clear (&nat->inside_index);
  nat_table_clear (&nat->replies);
  nat_table_clear (&nat->subscriber_index);
  nat_table_clear (&nat->host_index);
  nat_side_clear (&nat->leases);
  nat_side_clear (&nat->young);
  nat_side_clear (&nat->prevs);
  g_array_unref (nat->hosts);
  g_array_unref (nat->free_hosts);
  natsim_eventq_free (nat->timers);
  nat_forwards_clear (nat);
  g_free (nat->cfg.addresses);
  g_free (nat->cfg.inside_addresses);
  g_free (nat);
}

void
natsim_nat_set_observer (NatsimNat *nat, NatsimNatObserver func, void *user_data)
{
  nat->observer = func;
  nat->observer_data = user_data;
}

guint64
natsim_nat_live_bindings (const NatsimNat *nat)
{
  return nat->live;
}

guint64
natsim_nat_ports_in_use (const NatsimNat *nat, guint addr_index)
{
  const AddressState *a;
  uint32_t m = 0;

  g_return_val_if_fail (addr_index < nat->cfg.n_addresses, 0);
  a = &nat->addrs[addr_index];
  /* Port spaces are per protocol; the busiest one is what runs out. */
  for (int p = 0; p < N_PROTO_IDX; p++)
    m = MAX (m, a->in_use[p]);
  return m;
}

guint64
natsim_nat_ports_in_use_total (const NatsimNat *nat)
{
  guint64 sum = 0;

  for (guint i = 0; i < nat->cfg.n_addresses; i++)
    sum += natsim_nat_ports_in_use (nat, i);
  return sum;
}

guint64
natsim_nat_blocks_per_address (const NatsimNat *nat)
{
  return nat->pba ? nat->n_blocks : 0;
}

guint64
natsim_nat_blocks_in_use (const NatsimNat *nat, guint addr_index)
{
  g_return_val_if_fail (addr_index < nat->cfg.n_addresses, 0);
  return nat->pba ? nat->n_blocks - nat->addrs[addr_index].free_blocks : 0;
}

guint64
natsim_nat_block_holders (const NatsimNat *nat)
{
  return nat->pba ? nat->subscriber_index.count : 0;
}

bool
natsim_nat_binding_alive (const NatsimNat *nat, uint8_t proto, uint32_t in_addr,
                          uint16_t in_port, uint32_t rem_addr, uint16_t rem_port)
{
  uint32_t idx = nat_flow_lookup (nat, key_endpoint (proto, in_addr, in_port),
                                key_remote (rem_addr, rem_port));

  return idx != NAT_TABLE_NONE &&
         binding_c (nat, idx)->status == B_ALIVE &&
         binding_c (nat, idx)->expiry > nat->now;
}

bool
natsim_nat_flow_state (const NatsimNat *nat, uint8_t proto, uint32_t in_addr,
                       uint16_t in_port, uint32_t rem_addr, uint16_t rem_port,
                       NatsimFlowState *ret)
{
  uint32_t hint = 0;

  return natsim_nat_flow_state_hint (nat, proto, in_addr, in_port, rem_addr, rem_port, &hint,
                                     ret);
}

bool
natsim_nat_flow_state_hint (const NatsimNat *nat, uint8_t proto, uint32_t in_addr,
                            uint16_t in_port, uint32_t rem_addr, uint16_t rem_port,
                            uint32_t *hint, NatsimFlowState *ret)
{
  uint32_t idx = nat_flow_find (nat, key_endpoint (proto, in_addr, in_port),
                                key_remote (rem_addr, rem_port), *hint);
  const Binding *b;
  NatsimFlowState st = { 0 };

  *hint = idx == NAT_TABLE_NONE ? 0 : idx + 1;
  if (idx == NAT_TABLE_NONE)
    {
      *ret = st;
      return false;
    }
  b = binding_c (nat, idx);
  st.known = true;
  st.alive = b->status == B_ALIVE && b->expiry > nat->now;
  if (b->status == B_ALIVE)
    st.expiry = b->expiry;
  else
    st.died = b->at;
  if (b->status == B_ALIVE && !st.alive)
    st.died = b->expiry; /* dead at this instant, timer not yet run */
  if (b_addr (b) != NONE)
    {
      st.ext_addr = nat->cfg.addresses[b->addr_idx];
      st.ext_port = b->ext_port;
    }
  *ret = st;
  return true;
}

NatsimTime
natsim_nat_now (const NatsimNat *nat)
{
  return nat->now;
}

/* GArray's allocation for @len elements of @size (GLib grows to the next
 * power of two of the bytes, at least 16). */
static gsize
garray_bytes (guint len, gsize size)
{
  gsize want = MAX ((gsize) len * size, (gsize) 16), n = 1;

  while (n < want)
    n <<= 1;
  return n;
}

void
natsim_nat_memory (const NatsimNat *nat, NatsimNatMemory *ret)
{
  NatsimNatMemory m = { 0 };

  g_return_if_fail (nat != NULL && ret != NULL);
  m.live_bindings = nat->live;
  m.records = (guint64) nat->n_bindings - nat->n_free;
  m.bindings = (gsize) nat->n_chunks * BINDING_CHUNK * sizeof (Binding);
  m.flow_index = nat_table_bytes (&nat->flows);
  m.inside_index = nat_table_bytes (&nat->inside_index) + nat_side_bytes (&nat->prevs);
  m.reply_index = nat_table_bytes (&nat->replies);
  m.timers = natsim_eventq_memory_bytes (nat->timers) + nat_side_bytes (&nat->leases)
             + nat_side_bytes (&nat->young);
  /* Port state: the pages allocated, whole, and the page tables. */
  m.ports = (gsize) nat->port_pages * PORT_PAGE * sizeof (PortState)
            + (gsize) nat->released_pages * PORT_PAGE * sizeof (NatsimTime);
  for (guint i = 0; i < nat->cfg.n_addresses; i++)
    {
      const AddressState *a = &nat->addrs[i];
      for (int p = 0; p < N_PROTO_IDX; p++)
        {
          if (a->ports[p] != NULL)
            m.ports += (gsize) nat->n_port_pages * sizeof (PortState *);
          if (a->released[p] != NULL)
            m.ports += (gsize) nat->n_port_pages * sizeof (NatsimTime *);
        }
      if (a->block_owner != NULL)
        m.blocks += (gsize) nat->n_blocks * (2 * sizeof (uint32_t) + sizeof (NatsimTime));
    }
  if (nat->subscribers->len > 0)
    m.blocks += garray_bytes (nat->subscribers->len, sizeof (Subscriber))
                + garray_bytes (nat->subscribers->len, sizeof (uint32_t))
                + (gsize) nat->subscribers->len * nat->cfg.blocks_per_subscriber * sizeof (uint32_t);
  m.blocks += nat_table_bytes (&nat->subscriber_index);
  if (nat->hosts->len > 0)
    m.hosts += garray_bytes (nat->hosts->len, sizeof (Host))
               + garray_bytes (nat->hosts->len, sizeof (uint32_t));
  m.hosts += nat_table_bytes (&nat->host_index);
  m.fixed = sizeof *nat + (gsize) nat->chunks_cap * sizeof (Binding *)
            + (gsize) nat->cfg.n_addresses * (sizeof (AddressState) + sizeof (uint32_t))
            + (gsize) nat->cfg.n_inside * sizeof (uint32_t)
            + (gsize) nat->cfg.n_forwards * (sizeof (NatsimNatForward) + sizeof (uint32_t))
            /* the pool blocks' bytes not (yet) cut into pages */
            + nat->pool_bytes - (gsize) nat->port_pages * PORT_PAGE * sizeof (PortState)
            - (gsize) nat->released_pages * PORT_PAGE * sizeof (NatsimTime);
  m.total = m.bindings + m.flow_index + m.inside_index + m.reply_index + m.timers + m.ports + m.blocks
            + m.hosts + m.fixed;
  *ret = m;
}
