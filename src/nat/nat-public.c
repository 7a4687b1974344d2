/* natsim NAT engine: the NAT's own public addresses and static port
 * forwards.
 *
 * docs/nat-model.md "Hairpinning" and "Static port forwards" are the
 * contract.  A forward reserves its public port: the port allocator never
 * gives it to another inside endpoint; forwards are few, so finding the
 * forward of a public port (only on an address that has forwards) or of
 * an inside endpoint (only when a flow has no live binding) is a scan of
 * them.
 */
#include "nat-private.h"

uint32_t
nat_public_index (const NatsimNat *nat, uint32_t addr)
{
  if (addr < nat->pub_min || addr > nat->pub_max)
    return NONE;
  for (guint i = 0; i < nat->cfg.n_addresses; i++)
    if (nat->cfg.addresses[i] == addr)
      return i;
  return NONE;
}

bool
natsim_nat_is_public (const NatsimNat *nat, uint32_t addr)
{
  return nat_public_index (nat, addr) != NONE;
}

uint32_t
nat_forward_for_inside (const NatsimNat *nat, uint8_t proto, uint32_t in_addr, uint16_t in_port)
{
  for (guint i = 0; i < nat->cfg.n_forwards; i++)
    {
      const NatsimNatForward *f = &nat->cfg.forwards[i];
      if (f->proto == proto && f->in_addr == in_addr && f->in_port == in_port &&
          nat->fwd_addr_idx[i] != NONE)
        return i;
    }
  return NONE;
}

/* The forward that reserved public (addr_idx, port) in @proto's port space,
 * or NONE: a scan of the forwards, paid only on an address that has some. */
uint32_t
nat_forward_at (const NatsimNat *nat, uint8_t proto, uint32_t addr_idx, uint16_t port)
{
  if (nat->addrs[addr_idx].n_forwards == 0)
    return NONE;
  for (guint i = 0; i < nat->cfg.n_forwards; i++)
    if (nat->fwd_addr_idx[i] == addr_idx && nat->cfg.forwards[i].ext_port == port &&
        proto_idx (nat->cfg.forwards[i].proto) == proto_idx (proto))
      return i;
  return NONE;
}

uint32_t
nat_forward_for_public (NatsimNat *nat, uint8_t proto, uint32_t addr_idx, uint16_t port)
{
  if (nat->cfg.n_forwards == 0 || port < nat->cfg.port_lo || port > nat->cfg.port_hi)
    return NONE;
  return nat_forward_at (nat, proto, addr_idx, port);
}

/* Copies the forwards (the config's array is the caller's), resolves their
 * addresses and reserves their ports.  A forward whose address is not in
 * the pool or whose port is outside the range is ignored (the scenario
 * loader refuses such forwards with a message; this keeps the engine safe
 * for other callers). */
void
nat_forwards_init (NatsimNat *nat)
{
  nat->pub_min = UINT32_MAX;
  nat->pub_max = 0;
  for (guint i = 0; i < nat->cfg.n_addresses; i++)
    {
      nat->pub_min = MIN (nat->pub_min, nat->cfg.addresses[i]);
      nat->pub_max = MAX (nat->pub_max, nat->cfg.addresses[i]);
    }
  if (nat->cfg.n_forwards == 0)
    {
      nat->cfg.forwards = NULL;
      return;
    }
  nat->cfg.forwards = g_memdup2 (nat->cfg.forwards, sizeof (NatsimNatForward) * nat->cfg.n_forwards);
  nat->fwd_addr_idx = g_new (uint32_t, nat->cfg.n_forwards);
  for (guint i = 0; i < nat->cfg.n_forwards; i++)
    {
      const NatsimNatForward *f = &nat->cfg.forwards[i];
      uint32_t a = nat_public_index (nat, f->ext_addr);

      nat->fwd_addr_idx[i] = NONE;
      if (a == NONE || f->ext_port < nat->cfg.port_lo || f->ext_port > nat->cfg.port_hi ||
          nat_forward_at (nat, f->proto, a, f->ext_port) != NONE || i >= UINT16_MAX)
        continue;
      nat->fwd_addr_idx[i] = a;
      nat->addrs[a].n_forwards++;
    }
}

void
nat_forwards_clear (NatsimNat *nat)
{
  g_clear_pointer (&nat->cfg.forwards, g_free);
  g_clear_pointer (&nat->fwd_addr_idx, g_free);
}
