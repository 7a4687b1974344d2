/* natsim NAT engine: choosing the external endpoint of a new binding.
 *
 * docs/nat-model.md "When is an external port free?" and "Choosing a port
 * for a new binding" are the contract of this file.
 */
#include "nat-private.h"

/* Is external (addr, port) free for a new binding of inside endpoint I
 * toward remote R?  See docs/nat-model.md "When is an external port free". */
static bool
port_free (NatsimNat *nat, uint32_t addr_idx, uint8_t proto, uint16_t port,
           uint32_t in_addr, uint16_t in_port, uint32_t rem_addr,
           uint16_t rem_port, bool reuse)
{
  const PortState *ps = port_state_c (nat, addr_idx, proto, port);
  bool same_owner = ps->owner_addr == in_addr && ps->owner_port == in_port;

  /* A static forward's port is never allocated dynamically. */
  if (nat_forward_at (nat, proto, addr_idx, port) != NONE)
    return false;
  if (ps->head == 0)
    {
      /* RFC 6888 REQ-8: quarantine before another endpoint gets it. */
      if (nat->cfg.quarantine > 0 && !same_owner)
        {
          NatsimTime released = port_released (nat, addr_idx, proto, port);
          if (released != 0 && nat->now < natsim_time_add (released, nat->cfg.quarantine))
            return false;
        }
      return true;
    }
  if (nat->cfg.port_reuse == NATSIM_REUSE_EXCLUSIVE)
    {
      /* RFC 4787 REQ-3: a port belongs to one inside endpoint; only the
       * mapping-reuse step may share it, and only with its owner. */
      if (!reuse || !same_owner)
        return false;
    }
  return nat_reply_get (nat, proto, addr_idx, port, rem_addr, rem_port) == NONE;
}

static inline bool
parity_ok (const NatsimNat *nat, uint16_t port, uint16_t in_port)
{
  return !nat->cfg.parity || ((port ^ in_port) & 1) == 0;
}

/* Scans [lo, hi] (offsets into the range) from offset @start, wrapping,
 * for a free port; returns the port or 0. */
static uint16_t
scan_range (NatsimNat *nat, uint32_t addr_idx, uint8_t proto, uint32_t lo,
            uint32_t hi, uint32_t start, uint32_t in_addr, uint16_t in_port,
            uint32_t rem_addr, uint16_t rem_port)
{
  uint32_t n = hi - lo + 1;
  uint32_t off = start;

  /* start, start + 1, ..., hi, lo, ..., start - 1: a wrap, no division. */
  for (uint32_t i = 0; i < n; i++, off = off == hi ? lo : off + 1)
    {
      uint16_t port = (uint16_t) (nat->cfg.port_lo + off);
      if (!parity_ok (nat, port, in_port))
        continue;
      if (port_free (nat, addr_idx, proto, port, in_addr, in_port, rem_addr, rem_port, false))
        return port;
    }
  return 0;
}

/* nf_nat_l4proto_unique_tuple: from a random offset, 128 probes, then
 * 64, 32, 16 and 8 more from new random offsets (248 in all); the whole
 * range once when it has 128 ports or fewer. */
static uint16_t
linux_search (NatsimNat *nat, uint32_t addr_idx, uint8_t proto, uint32_t lo,
              uint32_t hi, uint32_t in_addr, uint16_t in_port,
              uint32_t rem_addr, uint16_t rem_port)
{
  uint32_t n = hi - lo + 1;
  uint32_t attempts = MIN (n, 128u);
  uint32_t off = nat->rng ? (uint32_t) gsl_rng_uniform_int (nat->rng, 65536) : 0;

  for (;;)
    {
      for (uint32_t i = 0; i < attempts; i++, off++)
        {
          uint16_t port = (uint16_t) (nat->cfg.port_lo + lo + off % n);
          if (!parity_ok (nat, port, in_port))
            port = (uint16_t) (port ^ 1);
          if (port < nat->cfg.port_lo + lo || port > nat->cfg.port_lo + hi)
            continue;
          if (port_free (nat, addr_idx, proto, port, in_addr, in_port, rem_addr, rem_port, false))
            return port;
        }
      if (attempts >= n || attempts < 16)
        return 0;
      attempts /= 2;
      off = nat->rng ? (uint32_t) gsl_rng_uniform_int (nat->rng, 65536) : 0;
    }
}

static uint16_t
search_in (NatsimNat *nat, uint32_t addr_idx, uint8_t proto, uint32_t lo,
           uint32_t hi, uint32_t in_addr, uint16_t in_port, uint32_t rem_addr,
           uint16_t rem_port)
{
  AddressState *a = &nat->addrs[addr_idx];
  uint32_t start;

  if (nat->cfg.port_search == NATSIM_SEARCH_LINUX)
    return linux_search (nat, addr_idx, proto, lo, hi, in_addr, in_port, rem_addr, rem_port);
  if (nat->cfg.allocation == NATSIM_ALLOC_RANDOM && nat->rng != NULL)
    start = lo + (uint32_t) gsl_rng_uniform_int (nat->rng, hi - lo + 1);
  else
    {
      start = a->last_alloc[proto_idx (proto)] + 1;
      if (start < lo || start > hi)
        start = lo;
    }
  return scan_range (nat, addr_idx, proto, lo, hi, start, in_addr, in_port, rem_addr, rem_port);
}

/* A live binding of the inside endpoint (its list from @head) whose
 * external endpoint a new binding toward (rem_addr, rem_port) may reuse
 * under the mapping rule. */
static Binding *
mapping_candidate (NatsimNat *nat, uint32_t head, uint32_t rem_addr)
{
  if (head == NONE || nat->cfg.mapping == NATSIM_MAPPING_APDM)
    return NULL;
  for (uint32_t i = head; i != NONE; i = binding (nat, i)->next)
    {
      Binding *c = binding (nat, i);
      if (c->status != B_ALIVE)
        continue;
      if (nat->cfg.mapping == NATSIM_MAPPING_EIM || c->rem_addr == rem_addr)
        return c;
    }
  return NULL;
}

/* Steps 1-2 of the port choice (docs/nat-model.md): the inside source port
 * and the external port of the endpoint's mapping, in the order of the
 * port_search rule; 0 when neither fits. */
static uint16_t
try_fixed_ports (NatsimNat *nat, const NatsimPacket *pkt, const Binding *cand,
                 uint32_t addr_idx, const Subscriber *sub)
{
  uint8_t proto = pkt->proto;
  uint32_t in_addr = pkt->src_addr, rem_addr = pkt->dst_addr;
  uint16_t in_port = pkt->src_port, rem_port = pkt->dst_port;
  bool linux_order = nat->cfg.port_search == NATSIM_SEARCH_LINUX;
  bool preserve_ok = nat->cfg.allocation == NATSIM_ALLOC_PRESERVE &&
                     in_port >= nat->cfg.port_lo && in_port <= nat->cfg.port_hi &&
                     (sub == NULL || nat_in_blocks (nat, sub, in_port));

  /* Linux tries the original port first, then the source's existing
   * mapping (find_appropriate_src); the generic model honours the mapping
   * rule first, as RFC 4787 REQ-1 asks. */
  if (linux_order && preserve_ok &&
      port_free (nat, addr_idx, proto, in_port, in_addr, in_port, rem_addr, rem_port, false))
    return in_port;
  if (cand != NULL && b_addr (cand) == addr_idx &&
      (sub == NULL || nat_in_blocks (nat, sub, cand->ext_port)) &&
      port_free (nat, addr_idx, proto, cand->ext_port, in_addr, in_port, rem_addr, rem_port, true))
    return cand->ext_port;
  if (!linux_order && preserve_ok && parity_ok (nat, in_port, in_port) &&
      port_free (nat, addr_idx, proto, in_port, in_addr, in_port, rem_addr, rem_port, false))
    return in_port;
  return 0;
}

/* Step 3 without blocks: searches the address's whole range. */
static uint16_t
search_address (NatsimNat *nat, const NatsimPacket *pkt, uint32_t addr_idx)
{
  /* With exclusive ports a full address has nothing to search; hash
   * selection searches anyway, so that its random draws stay as they were. */
  if (nat->cfg.address_selection != NATSIM_SELECT_HASH &&
      nat->cfg.port_reuse == NATSIM_REUSE_EXCLUSIVE &&
      nat->addrs[addr_idx].in_use[proto_idx (pkt->proto)] >= nat->range)
    return 0;
  return search_in (nat, addr_idx, pkt->proto, 0, nat->range - 1, pkt->src_addr,
                    pkt->src_port, pkt->dst_addr, pkt->dst_port);
}

static uint16_t
search_block (NatsimNat *nat, const NatsimPacket *pkt, uint32_t addr_idx, uint32_t blk)
{
  uint32_t lo = blk * nat->block_size;

  return search_in (nat, addr_idx, pkt->proto, lo, lo + nat->block_size - 1,
                    pkt->src_addr, pkt->src_port, pkt->dst_addr, pkt->dst_port);
}

/* Step 3 with port blocks: searches the subscriber's blocks, taking a new
 * block when they are full and the limit allows; 0 (and the cause) when
 * nothing is free. */
static uint16_t
search_blocks (NatsimNat *nat, const NatsimPacket *pkt, uint32_t addr_idx,
               Subscriber *sub, uint8_t *cause)
{
  uint16_t port = 0;

  if (nat->cfg.block_timeout > 0)
    {
      /* Junos active-block-timeout, FortiOS pba-timeout: new ports come
       * from the active block; once it has been active this long, from a
       * new block even with ports free in it.  The blocks it replaced only
       * drain: when the active block has been returned (its last port
       * freed), the next port too comes from a new block with a new timer,
       * not from a timed-out one, and so does it when the active block is
       * full.  At the limit (no new block), the held blocks keep serving
       * (below). */
      if (sub->active == NONE ||
          nat->now >= natsim_time_add (sub->active_since, nat->cfg.block_timeout))
        nat_subscriber_take_block (nat, sub);
      if (sub->active != NONE && (port = search_block (nat, pkt, addr_idx, sub->active)) != 0)
        return port;
      /* The active block is full: a new one, rather than the old ones. */
      if (nat_subscriber_take_block (nat, sub) &&
          (port = search_block (nat, pkt, addr_idx, sub->active)) != 0)
        return port;
    }
  for (;;)
    {
      for (uint32_t i = 0; i < sub->n_blocks && port == 0; i++)
        port = search_block (nat, pkt, addr_idx, sub->blocks[i]);
      if (port != 0)
        return port;
      if (!nat_subscriber_take_block (nat, sub))
        {
          *cause = sub->n_blocks >= nat->cfg.blocks_per_subscriber
                     ? NATSIM_FAIL_SUBSCRIBER_BLOCK_LIMIT : NATSIM_FAIL_NO_FREE_BLOCK;
          return 0;
        }
    }
}

static void
allocated (NatsimNat *nat, const NatsimPacket *pkt, uint32_t addr_idx, uint16_t port,
           uint32_t *ret_addr_idx, uint16_t *ret_port)
{
  nat->addrs[addr_idx].last_alloc[proto_idx (pkt->proto)] = (uint32_t) (port - nat->cfg.port_lo);
  *ret_addr_idx = addr_idx;
  *ret_port = port;
}

/* Without port blocks: the addresses in the selection's order (paired
 * pooling pins a host with live bindings to its address, RFC 4787 REQ-2). */
static bool
allocate_dynamic (NatsimNat *nat, const NatsimPacket *pkt, const Binding *cand,
                  uint32_t *ret_addr_idx, uint16_t *ret_port, uint8_t *cause)
{
  uint32_t pinned = cand != NULL ? b_addr (cand) : NONE, first = NONE, a;
  bool only = false;
  AddrIter it;

  if (nat->track_hosts)
    {
      Host *h = nat_host_get (nat, pkt->src_addr);
      if (h != NULL)
        pinned = h->addr_idx, only = true;
    }
  nat_select_begin (nat, &it, pkt, pinned, only, false);
  while ((a = nat_select_next (nat, &it)) != NONE)
    {
      uint16_t port = try_fixed_ports (nat, pkt, cand, a, NULL);

      if (first == NONE)
        first = a;
      if (port == 0)
        port = search_address (nat, pkt, a);
      if (port == 0)
        continue;
      if (a != first)
        nat_emit_fallback (nat, pkt, first, a, port);
      if (a != it.pinned)
        nat_select_taken (nat, &it, a);
      allocated (nat, pkt, a, port, ret_addr_idx, ret_port);
      return true;
    }
  *ret_addr_idx = first;
  *cause = NATSIM_FAIL_NO_FREE_PORT;
  return false;
}

/* A new subscriber: the first address in the selection's order with a
 * free block; NULL when none has one (*ret_first: the first choice). */
static Subscriber *
new_subscriber (NatsimNat *nat, const NatsimPacket *pkt, const Binding *cand,
                uint32_t *ret_first)
{
  uint32_t first = NONE, a;
  Subscriber *sub;
  AddrIter it;

  nat_select_begin (nat, &it, pkt, cand != NULL ? b_addr (cand) : NONE, false, true);
  while ((a = nat_select_next (nat, &it)) != NONE)
    {
      if (first == NONE)
        first = a;
      if (nat->addrs[a].free_blocks > 0)
        break;
    }
  *ret_first = first;
  if (a == NONE)
    return NULL;
  sub = nat_subscriber_get (nat, pkt->src_addr, a);
  nat_subscriber_take_block (nat, sub);
  if (a != first)
    nat_emit_fallback (nat, pkt, first, a, 0);
  if (a != it.pinned)
    nat_select_taken (nat, &it, a);
  return sub;
}

/* Port blocks (RFC 6888 REQ-4, RFC 7422): a subscriber's ports come from
 * its blocks, all on one address while it holds any (RFC 4787 REQ-2). */
static bool
allocate_blocks (NatsimNat *nat, const NatsimPacket *pkt, const Binding *cand,
                 uint32_t *ret_addr_idx, uint16_t *ret_port, uint8_t *cause)
{
  Subscriber *sub = nat_subscriber_find (nat, pkt->src_addr);
  uint32_t n_blocks_before = 0;
  uint16_t port;

  if (sub == NULL)
    {
      sub = new_subscriber (nat, pkt, cand, ret_addr_idx);
      if (sub == NULL)
        {
          *cause = NATSIM_FAIL_NO_FREE_BLOCK;
          return false;
        }
    }
  else
    n_blocks_before = sub->n_blocks;
  port = try_fixed_ports (nat, pkt, cand, sub->addr_idx, sub);
  if (port == 0)
    port = search_blocks (nat, pkt, sub->addr_idx, sub, cause);
  if (port != 0)
    {
      nat_subscriber_trim (nat, sub, n_blocks_before, port);
      allocated (nat, pkt, sub->addr_idx, port, ret_addr_idx, ret_port);
      return true;
    }
  *ret_addr_idx = sub->addr_idx;
  nat_subscriber_undo (nat, sub, n_blocks_before);
  return false;
}

/* The position of @in_addr in the sorted inside_addresses, or NONE. */
static uint32_t
subscriber_number (const NatsimNat *nat, uint32_t in_addr)
{
  guint lo = 0, hi = nat->cfg.n_inside;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (nat->cfg.inside_addresses[mid] < in_addr)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo < nat->cfg.n_inside && nat->cfg.inside_addresses[lo] == in_addr ? lo : NONE;
}

/* Deterministic NAT (RFC 7422): the subscriber's address and port range
 * follow from its number; nothing is allocated but the port. */
static bool
allocate_deterministic (NatsimNat *nat, const NatsimPacket *pkt, const Binding *cand,
                        uint32_t *ret_addr_idx, uint16_t *ret_port, uint8_t *cause)
{
  uint32_t i = subscriber_number (nat, pkt->src_addr);
  uint32_t blk;
  Subscriber range = { 0 };
  uint16_t port;

  if (i == NONE)
    {
      /* Not one of nat.inside_addresses: it owns no range. */
      *ret_addr_idx = NONE;
      *cause = NATSIM_FAIL_NO_FREE_BLOCK;
      return false;
    }
  blk = i % nat->det_per_address;
  range.in_addr = pkt->src_addr;
  range.addr_idx = i / nat->det_per_address;
  range.n_blocks = 1;
  range.blocks = &blk;
  port = try_fixed_ports (nat, pkt, cand, range.addr_idx, &range);
  if (port == 0)
    port = search_block (nat, pkt, range.addr_idx, blk);
  if (port != 0)
    {
      allocated (nat, pkt, range.addr_idx, port, ret_addr_idx, ret_port);
      return true;
    }
  *ret_addr_idx = range.addr_idx;
  *cause = NATSIM_FAIL_SUBSCRIBER_PORT_LIMIT;
  return false;
}

/* Chooses the external endpoint of a new binding; false on exhaustion
 * (*ret_addr_idx is then the address that was tried first, *ret_cause
 * why it failed). */
bool
nat_allocate (NatsimNat *nat, const NatsimPacket *pkt, uint32_t head,
              uint32_t *ret_addr_idx, uint16_t *ret_port, uint8_t *ret_cause)
{
  Binding *cand = mapping_candidate (nat, head, pkt->dst_addr);

  *ret_cause = NATSIM_FAIL_NO_FREE_PORT;
  if (nat->cfg.deterministic)
    return allocate_deterministic (nat, pkt, cand, ret_addr_idx, ret_port, ret_cause);
  if (nat->pba)
    return allocate_blocks (nat, pkt, cand, ret_addr_idx, ret_port, ret_cause);
  return allocate_dynamic (nat, pkt, cand, ret_addr_idx, ret_port, ret_cause);
}
