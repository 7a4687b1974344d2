/* natsim NAT engine: address selection across a pool of public addresses.
 *
 * docs/nat-model.md "Address selection" is the contract of this file:
 *  - hash: Linux (nf_nat_core.c find_best_ips_proto): a hash of the inside
 *    address (and, with arbitrary pooling, the remote address) picks one
 *    address; there is no fall-back when it is full;
 *  - first-fit: the lowest address that can serve the flow (Cisco IOS
 *    overload pools, PIX/ASA PAT);
 *  - round-robin: addresses in turn, falling back to the next one that can
 *    serve the flow (ASA PAT pool "round-robin");
 *  - least-loaded: the address with the most free ports, or with port
 *    blocks the most free blocks.
 * With paired pooling (RFC 4787 REQ-2) a host keeps its address while it
 * holds a live binding (or, with port blocks, a block): the caller pins
 * that address and allows no fall-back.
 *
 * Iteration is allocation-free: "tried" is a stamp per address.
 */
#include "nat-private.h"

static uint32_t
hash_address (NatsimNat *nat, uint32_t in_addr, uint32_t rem_addr)
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

void
nat_select_begin (NatsimNat *nat, AddrIter *it, const NatsimPacket *pkt,
                  uint32_t pinned, bool only, bool blocks)
{
  it->pinned = pinned;
  it->only = only || nat->cfg.address_selection == NATSIM_SELECT_HASH;
  it->blocks = blocks;
  it->proto = pkt->proto;
  it->k = 0;
  it->j = 0;
  it->hash_addr = NONE;
  it->start = nat->rr_next % nat->cfg.n_addresses;
  if (nat->cfg.address_selection == NATSIM_SELECT_HASH && pinned == NONE)
    it->pinned = hash_address (nat, pkt->src_addr, pkt->dst_addr);
  if (++nat->select_stamp == 0)
    {
      for (guint a = 0; a < nat->cfg.n_addresses; a++)
        nat->addrs[a].tried = 0;
      nat->select_stamp = 1;
    }
}

/* How much room an address has for least-loaded selection. */
static uint64_t
room (const NatsimNat *nat, const AddrIter *it, uint32_t a)
{
  const AddressState *s = &nat->addrs[a];

  if (it->blocks)
    return s->free_blocks;
  return nat->range - s->in_use[proto_idx (it->proto)];
}

/* The next address to try, or NONE when every allowed one was tried. */
uint32_t
nat_select_next (NatsimNat *nat, AddrIter *it)
{
  uint32_t n = nat->cfg.n_addresses, a = NONE;

  if (it->k == 0 && it->pinned != NONE)
    a = it->pinned;
  else if (it->only)
    return NONE;
  else
    switch (nat->cfg.address_selection)
      {
      case NATSIM_SELECT_FIRST_FIT:
      case NATSIM_SELECT_ROUND_ROBIN:
        {
          uint32_t base = nat->cfg.address_selection == NATSIM_SELECT_FIRST_FIT ? 0 : it->start;

          while (it->j < n && a == NONE)
            {
              uint32_t c = (base + it->j++) % n;
              if (nat->addrs[c].tried != nat->select_stamp)
                a = c;
            }
          break;
        }
      case NATSIM_SELECT_LEAST_LOADED:
        {
          uint64_t best = 0;

          /* The most room; ties go to the lowest address. */
          for (uint32_t c = 0; c < n; c++)
            if (nat->addrs[c].tried != nat->select_stamp && (a == NONE || room (nat, it, c) > best))
              {
                a = c;
                best = room (nat, it, c);
              }
          break;
        }
      default:
        break;
      }
  if (a == NONE)
    return NONE;
  nat->addrs[a].tried = nat->select_stamp;
  it->k++;
  return a;
}

/* The iteration chose @addr_idx: round-robin moves on past it. */
void
nat_select_taken (NatsimNat *nat, AddrIter *it, uint32_t addr_idx)
{
  (void) it;
  if (nat->cfg.address_selection == NATSIM_SELECT_ROUND_ROBIN)
    nat->rr_next = (addr_idx + 1) % nat->cfg.n_addresses;
}

void
nat_emit_fallback (NatsimNat *nat, const NatsimPacket *pkt, uint32_t from, uint32_t to,
                   uint16_t port)
{
  Binding b = { 0 };
  NatFlow f;

  if (nat->observer == NULL)
    return;
  nat_flow_of_packet (pkt, &f);
  nat_binding_init (nat, &b, B_FREE, &f, to, port);
  nat_emit_full (nat, NATSIM_NAT_EV_ADDRESS_FALLBACK, &b, false, false, 0, from);
}

Host *
nat_host_get (NatsimNat *nat, uint32_t in_addr)
{
  uint32_t idx = nat_table_get (&nat->host_index, in_addr, 0);

  return idx == NAT_TABLE_NONE ? NULL : &g_array_index (nat->hosts, Host, idx);
}

/* A live binding of @in_addr on @addr_idx was created (+1) or died (-1). */
void
nat_host_ref (NatsimNat *nat, uint32_t in_addr, uint32_t addr_idx, int delta)
{
  uint32_t idx = nat_table_get (&nat->host_index, in_addr, 0);
  Host *h;

  if (idx == NAT_TABLE_NONE)
    {
      if (delta < 0)
        return;
      if (nat->free_hosts->len > 0)
        {
          idx = g_array_index (nat->free_hosts, uint32_t, nat->free_hosts->len - 1);
          g_array_set_size (nat->free_hosts, nat->free_hosts->len - 1);
        }
      else
        {
          idx = nat->hosts->len;
          g_array_set_size (nat->hosts, idx + 1);
        }
      h = &g_array_index (nat->hosts, Host, idx);
      h->in_addr = in_addr;
      h->addr_idx = addr_idx;
      h->n = 0;
      nat_table_put (&nat->host_index, in_addr, 0, idx);
    }
  h = &g_array_index (nat->hosts, Host, idx);
  if (delta > 0)
    h->n++;
  else if (h->n > 0 && --h->n == 0)
    {
      nat_table_del (&nat->host_index, in_addr, 0);
      g_array_append_val (nat->free_hosts, idx);
    }
}
