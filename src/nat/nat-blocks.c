/* natsim NAT engine: port reference counts and port blocks.
 *
 * ports: per (address, protocol) PortState (its bindings, last owner) in
 * pages of PORT_PAGE ports, a page allocated when first written: 10 bytes
 * a port, and with a quarantine 8 more bytes a port for the release time
 * (its own pages, allocated when a port is first freed).  With ports_per_subscriber
 * > 0 (RFC 6888 REQ-4, RFC 7422) each address is cut into blocks that
 * subscribers (inside addresses) take and return.
 */
#include "nat-private.h"

static Subscriber *
subscriber_of (NatsimNat *nat, uint32_t in_addr, bool create, uint32_t addr_idx)
{
  uint32_t idx = nat_table_get (&nat->subscriber_index, in_addr, 0);
  Subscriber *s;

  if (idx != NAT_TABLE_NONE)
    return &g_array_index (nat->subscribers, Subscriber, idx);
  if (!create)
    return NULL;
  if (nat->free_subscribers->len > 0)
    {
      idx = g_array_index (nat->free_subscribers, uint32_t, nat->free_subscribers->len - 1);
      g_array_set_size (nat->free_subscribers, nat->free_subscribers->len - 1);
    }
  else
    {
      idx = nat->subscribers->len;
      g_array_set_size (nat->subscribers, idx + 1);
      g_array_index (nat->subscribers, Subscriber, idx).blocks =
        g_new (uint32_t, nat->cfg.blocks_per_subscriber);
    }
  s = &g_array_index (nat->subscribers, Subscriber, idx);
  s->in_addr = in_addr;
  s->addr_idx = addr_idx;
  s->n_blocks = 0;
  s->active = NONE;
  s->active_since = 0;
  nat_table_put (&nat->subscriber_index, in_addr, 0, idx);
  return s;
}

/* The subscriber of @in_addr, or NULL when it holds no block. */
Subscriber *
nat_subscriber_find (NatsimNat *nat, uint32_t in_addr)
{
  return subscriber_of (nat, in_addr, false, 0);
}

/* The subscriber of @in_addr, created on @addr_idx if it holds no block. */
Subscriber *
nat_subscriber_get (NatsimNat *nat, uint32_t in_addr, uint32_t addr_idx)
{
  return subscriber_of (nat, in_addr, true, addr_idx);
}

static uint32_t
subscriber_index (NatsimNat *nat, const Subscriber *s)
{
  return (uint32_t) (s - &g_array_index (nat->subscribers, Subscriber, 0));
}

static void
emit_block (NatsimNat *nat, NatsimNatEventType type, const Subscriber *s, uint32_t blk)
{
  Binding b = { 0 };

  if (nat->observer == NULL)
    return;
  b.in_addr = s->in_addr;
  b.addr_idx = s->addr_idx;
  b.ext_port = (uint16_t) (nat->cfg.port_lo + blk * nat->block_size);
  nat_emit (nat, type, &b, false, false);
}

/* Drops a subscriber that holds no block. */
static void
subscriber_forget (NatsimNat *nat, Subscriber *s)
{
  uint32_t idx = subscriber_index (nat, s);

  nat_table_del (&nat->subscriber_index, s->in_addr, 0);
  g_array_append_val (nat->free_subscribers, idx);
}

/* Takes a free block on the subscriber's address; false when none is left
 * or the subscriber holds blocks_per_subscriber already. */
bool
nat_subscriber_take_block (NatsimNat *nat, Subscriber *s)
{
  AddressState *a = &nat->addrs[s->addr_idx];

  if (s->n_blocks >= nat->cfg.blocks_per_subscriber || a->free_blocks == 0)
    return false;
  for (uint32_t i = 0; i < nat->n_blocks; i++)
    {
      uint32_t blk = (a->next_block + i) % nat->n_blocks;
      if (a->block_owner[blk] == 0)
        {
          /* block_used is kept while the block is free too: a held entry
           * may keep one of its ports in use. */
          a->block_owner[blk] = subscriber_index (nat, s) + 1;
          a->free_blocks--;
          a->next_block = (blk + 1) % nat->n_blocks;
          s->blocks[s->n_blocks++] = blk;
          s->active = blk;
          s->active_since = nat->now;
          emit_block (nat, NATSIM_NAT_EV_BLOCK_ACQUIRED, s, blk);
          return true;
        }
    }
  return false;
}

/* Returns block @blk (the subscriber's i-th) to the pool. */
static void
block_return (NatsimNat *nat, Subscriber *s, uint32_t i)
{
  AddressState *a = &nat->addrs[s->addr_idx];
  uint32_t blk = s->blocks[i];

  a->block_owner[blk] = 0;
  a->free_blocks++;
  s->blocks[i] = s->blocks[--s->n_blocks];
  if (s->active == blk)
    s->active = NONE;
  emit_block (nat, NATSIM_NAT_EV_BLOCK_RELEASED, s, blk);
}

/* After a failed allocation: returns the blocks taken during the attempt
 * (the first @n_blocks_before were held before) and every block that holds
 * no port in use; a subscriber with no port in use keeps no block.  With a
 * quarantine an empty block waits for its timer (block_port_changed). */
void
nat_subscriber_undo (NatsimNat *nat, Subscriber *sub, uint32_t n_blocks_before)
{
  AddressState *a = &nat->addrs[sub->addr_idx];

  /* Taken now: none holds a port of this subscriber (held entries may
   * still keep some of their ports in use). */
  while (sub->n_blocks > n_blocks_before)
    block_return (nat, sub, sub->n_blocks - 1);
  for (uint32_t i = 0; i < sub->n_blocks;)
    {
      if (a->block_used[sub->blocks[i]] == 0 && nat->cfg.quarantine == 0)
        block_return (nat, sub, i);
      else
        i++;
    }
  if (sub->n_blocks == 0)
    subscriber_forget (nat, sub);
}

/* After a successful allocation of @port: returns the blocks taken during
 * the attempt (after the first @n_blocks_before) that hold no port in use
 * and not @port either.  Such a block was taken because it could not serve
 * the flow (parity, a forward's port, a 5-tuple in use); kept, it would
 * stay the subscriber's with no port whose release could return it. */
void
nat_subscriber_trim (NatsimNat *nat, Subscriber *sub, uint32_t n_blocks_before, uint16_t port)
{
  AddressState *a = &nat->addrs[sub->addr_idx];
  uint32_t mine = (uint32_t) (port - nat->cfg.port_lo) / nat->block_size;

  for (uint32_t i = sub->n_blocks; i > n_blocks_before; i--)
    if (sub->blocks[i - 1] != mine && a->block_used[sub->blocks[i - 1]] == 0)
      block_return (nat, sub, i - 1);
}

/* Is @port inside one of the subscriber's blocks? */
bool
nat_in_blocks (const NatsimNat *nat, const Subscriber *s, uint16_t port)
{
  uint32_t blk = (uint32_t) (port - nat->cfg.port_lo) / nat->block_size;

  for (uint32_t i = 0; i < s->n_blocks; i++)
    if (s->blocks[i] == blk)
      return true;
  return false;
}

/* Releases block @blk of address @addr_idx from its owner. */
static void
block_release (NatsimNat *nat, uint32_t addr_idx, uint32_t blk)
{
  AddressState *a = &nat->addrs[addr_idx];
  Subscriber *s = &g_array_index (nat->subscribers, Subscriber, a->block_owner[blk] - 1);

  for (uint32_t i = 0; i < s->n_blocks; i++)
    if (s->blocks[i] == blk)
      {
        block_return (nat, s, i);
        break;
      }
  if (s->n_blocks == 0)
    subscriber_forget (nat, s);
}

/* The quarantine of an empty block has passed (TIMER_BLOCK). */
void
nat_block_timer (NatsimNat *nat, uint32_t addr_idx, uint32_t blk, NatsimTime at)
{
  AddressState *a = &nat->addrs[addr_idx];

  if (a->block_owner[blk] != 0 && a->block_used[blk] == 0 && a->block_free_at[blk] == at)
    block_release (nat, addr_idx, blk);
}

static void
block_port_changed (NatsimNat *nat, uint32_t addr_idx, uint16_t port, int delta)
{
  AddressState *a = &nat->addrs[addr_idx];
  uint32_t blk;

  if (!nat->pba)
    return;
  blk = (uint32_t) (port - nat->cfg.port_lo) / nat->cfg.ports_per_subscriber;
  if (blk >= nat->n_blocks)
    return;
  /* Counted whether or not the block has an owner: a held entry can take
   * a port of a free block, which a subscriber may take next. */
  a->block_used[blk] = (uint32_t) ((int64_t) a->block_used[blk] + delta);
  if (a->block_used[blk] != 0 || a->block_owner[blk] == 0)
    return;
  /* RFC 7422: the block goes back to the pool once none of its ports is
   * in use; with a quarantine (RFC 6888 REQ-8) only when it has passed,
   * so that the next owner does not get a block of quarantined ports. */
  if (nat->cfg.quarantine > 0)
    {
      a->block_free_at[blk] = natsim_time_add (nat->now, nat->cfg.quarantine);
      natsim_eventq_push_direct (nat->timers, a->block_free_at[blk], addr_idx | TIMER_BLOCK_BIT, blk);
      return;
    }
  block_release (nat, addr_idx, blk);
}

void
nat_port_ref (NatsimNat *nat, Binding *b)
{
  PortState *ps = port_state (nat, b->addr_idx, b_proto (b), b->ext_port);

  /* nat_reply_add has just put @b on the port: the first one if alone. */
  if (b->pnext == 0 && !(ps->head & PORT_CROWDED) && binding (nat, ps->head - 1) == b)
    {
      nat->addrs[b->addr_idx].in_use[b->pidx]++;
      block_port_changed (nat, b->addr_idx, b->ext_port, +1);
      nat_emit (nat, NATSIM_NAT_EV_PORT_ACQUIRED, b, false, false);
    }
  if (b->status == B_ALIVE)
    {
      ps->owner_addr = b->in_addr;
      ps->owner_port = b->in_port;
    }
}

void
nat_port_unref (NatsimNat *nat, Binding *b)
{
  PortState *ps = port_state (nat, b->addr_idx, b_proto (b), b->ext_port);

  /* nat_reply_del has just taken @b off the port: was it the last? */
  if (ps->head == 0)
    {
      if (nat->cfg.quarantine > 0)
        port_set_released (nat, b->addr_idx, b_proto (b), b->ext_port, nat->now);
      nat->addrs[b->addr_idx].in_use[b->pidx]--;
      nat_emit (nat, NATSIM_NAT_EV_PORT_RELEASED, b, false, false);
      block_port_changed (nat, b->addr_idx, b->ext_port, -1);
    }
}
