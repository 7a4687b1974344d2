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
  PortState *ps = port_state (nat, addr_idx, proto, port);
  bool same_owner = ps->owner_addr == in_addr && ps->owner_port == in_port;

  /* A static forward's port is never allocated dynamically. */
  if (ps->forward != 0)
    return false;
  if (ps->refs == 0)
    {
      /* RFC 6888 REQ-8: quarantine before another endpoint gets it. */
      if (nat->cfg.quarantine > 0 && !same_owner && ps->released != 0 &&
          nat->now < natsim_time_add (ps->released, nat->cfg.quarantine))
        return false;
      return true;
    }
  if (nat->cfg.port_reuse == NATSIM_REUSE_EXCLUSIVE)
    {
      /* RFC 4787 REQ-3: a port belongs to one inside endpoint; only the
       * mapping-reuse step may share it, and only with its owner. */
      if (!reuse || !same_owner)
        return false;
    }
  return nat_table_get (&nat->replies,
                        key_endpoint (proto, addr_idx, port),
                        key_remote (rem_addr, rem_port)) == NAT_TABLE_NONE;
}

static uint32_t
choose_address (NatsimNat *nat, uint32_t in_addr, uint32_t rem_addr)
{
  uint64_t h;

  if (nat->cfg.n_addresses == 1)
    return 0;
  if (nat->cfg.pooling == NATSIM_POOLING_PAIRED)
    h = hash32 (in_addr); /* like Linux "persistent": the source alone */
  else
    h = hash32 (((uint64_t) in_addr << 32) | rem_addr);
  return (uint32_t) (h % nat->cfg.n_addresses);
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

  for (uint32_t i = 0; i < n; i++)
    {
      uint32_t off = lo + (start - lo + i) % n;
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

/* A live binding of inside entry @e whose external endpoint a new binding
 * toward (rem_addr, rem_port) may reuse under the mapping rule. */
static Binding *
mapping_candidate (NatsimNat *nat, uint32_t e_idx, uint32_t rem_addr)
{
  if (e_idx == NONE || nat->cfg.mapping == NATSIM_MAPPING_APDM)
    return NULL;
  for (uint32_t i = inside (nat, e_idx)->alive; i != NONE; i = binding (nat, i)->next)
    {
      Binding *c = binding (nat, i);
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
  if (cand != NULL && cand->addr_idx == addr_idx &&
      (sub == NULL || nat_in_blocks (nat, sub, cand->ext_port)) &&
      port_free (nat, addr_idx, proto, cand->ext_port, in_addr, in_port, rem_addr, rem_port, true))
    return cand->ext_port;
  if (!linux_order && preserve_ok && parity_ok (nat, in_port, in_port) &&
      port_free (nat, addr_idx, proto, in_port, in_addr, in_port, rem_addr, rem_port, false))
    return in_port;
  return 0;
}

/* Step 3: searches the range, or the subscriber's blocks (taking a new
 * block when they are full and the limit allows); 0 when nothing is free. */
static uint16_t
search_port (NatsimNat *nat, const NatsimPacket *pkt, uint32_t addr_idx, Subscriber *sub)
{
  uint16_t port = 0;

  if (sub == NULL)
    return search_in (nat, addr_idx, pkt->proto, 0, nat->range - 1, pkt->src_addr,
                      pkt->src_port, pkt->dst_addr, pkt->dst_port);
  for (;;)
    {
      for (uint32_t i = 0; i < sub->n_blocks && port == 0; i++)
        {
          uint32_t lo = sub->blocks[i] * nat->cfg.ports_per_subscriber;
          uint32_t hi = lo + nat->cfg.ports_per_subscriber - 1;
          port = search_in (nat, addr_idx, pkt->proto, lo, hi, pkt->src_addr,
                            pkt->src_port, pkt->dst_addr, pkt->dst_port);
        }
      if (port != 0 || !nat_subscriber_take_block (nat, sub))
        return port;
    }
}

/* Chooses the external endpoint of a new binding; false on exhaustion
 * (*ret_addr_idx is then the address that was tried). */
bool
nat_allocate (NatsimNat *nat, const NatsimPacket *pkt, uint32_t e_idx,
              uint32_t *ret_addr_idx, uint16_t *ret_port)
{
  Binding *cand = mapping_candidate (nat, e_idx, pkt->dst_addr);
  uint32_t addr_idx;
  Subscriber *sub = NULL;
  uint16_t port = 0;
  uint32_t n_blocks_before = 0;

  /* With a mapping to reuse, its address; else the pooling rule's. */
  addr_idx = cand ? cand->addr_idx : choose_address (nat, pkt->src_addr, pkt->dst_addr);
  if (nat->cfg.ports_per_subscriber > 0)
    {
      sub = nat_subscriber_get (nat, pkt->src_addr, addr_idx);
      addr_idx = sub->addr_idx;
      n_blocks_before = sub->n_blocks;
      if (sub->n_blocks == 0 && !nat_subscriber_take_block (nat, sub))
        goto fail;
    }
  port = try_fixed_ports (nat, pkt, cand, addr_idx, sub);
  if (port == 0)
    port = search_port (nat, pkt, addr_idx, sub);
  if (port == 0)
    goto fail;
  nat->addrs[addr_idx].last_alloc[proto_idx (pkt->proto)] = (uint32_t) (port - nat->cfg.port_lo);
  *ret_addr_idx = addr_idx;
  *ret_port = port;
  return true;

fail:
  *ret_addr_idx = addr_idx;
  if (sub != NULL)
    nat_subscriber_undo (nat, sub, n_blocks_before);
  return false;
}
