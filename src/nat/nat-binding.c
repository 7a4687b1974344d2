/* natsim NAT engine: binding records, inside entries and events.
 *
 * A binding record is ALIVE (translating), DEAD (expired, remembered as a
 * tombstone for cfg.tombstone to classify binding losses and rebindings),
 * FAILED (a tombstone of a flow whose allocation failed) or HELD (Linux:
 * an unsolicited inbound datagram to an expired mapping, holding the old
 * external port toward that remote).  Records are recycled through a free
 * list; nat_binding_init is the one place that fills one in.
 */
#include <string.h>

#include "nat-private.h"

void
nat_emit (NatsimNat *nat, NatsimNatEventType type, const Binding *b, bool rebinding,
          bool inbound)
{
  nat_emit_full (nat, type, b, rebinding, inbound, 0, NONE);
}

void
nat_emit_full (NatsimNat *nat, NatsimNatEventType type, const Binding *b,
               bool rebinding, bool inbound, uint8_t cause, uint32_t from)
{
  NatsimNatEvent ev;

  if (nat->observer == NULL)
    return;
  ev.type = type;
  ev.time = nat->now;
  ev.proto = b->proto;
  ev.cls = b->cls;
  ev.endpoint = b->endpoint;
  ev.in_addr = b->in_addr;
  ev.in_port = b->in_port;
  ev.rem_addr = b->rem_addr;
  ev.rem_port = b->rem_port;
  ev.addr_index = b->addr_idx;
  ev.ext_addr = b->addr_idx < nat->cfg.n_addresses ? nat->cfg.addresses[b->addr_idx] : 0;
  ev.ext_port = b->ext_port;
  ev.rebinding = rebinding;
  ev.inbound = inbound;
  ev.cause = cause;
  ev.from_index = from;
  ev.from_addr = from < nat->cfg.n_addresses ? nat->cfg.addresses[from] : 0;
  nat->observer (&ev, nat->observer_data);
}

void
nat_emit_packet (NatsimNat *nat, NatsimNatEventType type, const NatsimPacket *pkt,
                 uint32_t addr_idx)
{
  Binding b = { 0 };
  NatFlow f;

  if (nat->observer == NULL)
    return;
  nat_flow_of_packet (pkt, &f);
  nat_binding_init (nat, &b, B_FREE, &f, addr_idx, 0);
  nat_emit (nat, type, &b, false, false);
}

uint32_t
nat_binding_alloc (NatsimNat *nat)
{
  uint32_t idx;
  Binding *b;
  uint32_t gen;

  if (nat->free_binding != NONE)
    {
      idx = nat->free_binding;
      nat->free_binding = binding (nat, idx)->next;
    }
  else
    {
      idx = nat->bindings->len;
      g_array_set_size (nat->bindings, idx + 1);
      binding (nat, idx)->generation = 0;
    }
  b = binding (nat, idx);
  gen = b->generation + 1;
  memset (b, 0, sizeof *b);
  b->generation = gen;
  b->inside = NONE;
  b->prev = b->next = NONE;
  b->addr_idx = NONE;
  return idx;
}

/* Fills in a freshly allocated (or zeroed) record for flow @f on external
 * endpoint (@addr_idx, @ext_port); links and timers are the caller's. */
void
nat_binding_init (NatsimNat *nat, Binding *b, BindingStatus status,
                  const NatFlow *f, uint32_t addr_idx, uint16_t ext_port)
{
  b->in_addr = f->in_addr;
  b->in_port = f->in_port;
  b->rem_addr = f->rem_addr;
  b->rem_port = f->rem_port;
  b->proto = f->proto;
  b->cls = f->cls;
  b->endpoint = f->endpoint;
  b->status = (uint8_t) status;
  b->addr_idx = addr_idx;
  b->ext_port = ext_port;
  b->created = nat->now;
}

void
nat_binding_release (NatsimNat *nat, uint32_t idx)
{
  Binding *b = binding (nat, idx);

  b->status = B_FREE;
  b->generation++;
  b->next = nat->free_binding;
  nat->free_binding = idx;
}

uint32_t
nat_inside_get (NatsimNat *nat, uint8_t proto, uint32_t addr, uint16_t port, bool create)
{
  uint64_t k = key_endpoint (proto, addr, port);
  uint32_t idx = nat_table_get (&nat->inside_index, k, 0);
  InsideEntry *e;

  if (idx != NAT_TABLE_NONE || !create)
    return idx == NAT_TABLE_NONE ? NONE : idx;
  if (nat->free_insides->len > 0)
    {
      idx = g_array_index (nat->free_insides, uint32_t, nat->free_insides->len - 1);
      g_array_set_size (nat->free_insides, nat->free_insides->len - 1);
    }
  else
    {
      idx = nat->insides->len;
      g_array_set_size (nat->insides, idx + 1);
    }
  e = inside (nat, idx);
  e->in_addr = addr;
  e->in_port = port;
  e->proto = proto;
  e->alive = e->dead = NONE;
  e->n = 0;
  nat_table_put (&nat->inside_index, k, 0, idx);
  return idx;
}

void
nat_list_remove (NatsimNat *nat, uint32_t *head, uint32_t idx)
{
  Binding *b = binding (nat, idx);

  if (b->prev != NONE)
    binding (nat, b->prev)->next = b->next;
  else
    *head = b->next;
  if (b->next != NONE)
    binding (nat, b->next)->prev = b->prev;
  b->prev = b->next = NONE;
}

void
nat_list_push (NatsimNat *nat, uint32_t *head, uint32_t idx)
{
  Binding *b = binding (nat, idx);

  b->prev = NONE;
  b->next = *head;
  if (*head != NONE)
    binding (nat, *head)->prev = idx;
  *head = idx;
}

/* Detaches a binding from its inside entry, dropping the entry when empty. */
void
nat_inside_detach (NatsimNat *nat, uint32_t idx, bool from_alive)
{
  Binding *b = binding (nat, idx);
  uint32_t e_idx = b->inside;
  InsideEntry *e;

  if (e_idx == NONE)
    return;
  e = inside (nat, e_idx);
  nat_list_remove (nat, from_alive ? &e->alive : &e->dead, idx);
  b->inside = NONE;
  if (--e->n == 0)
    {
      nat_table_del (&nat->inside_index, key_endpoint (e->proto, e->in_addr, e->in_port), 0);
      g_array_append_val (nat->free_insides, e_idx);
    }
}

uint32_t
nat_binding_create (NatsimNat *nat, const NatsimPacket *pkt, const NatFlow *f,
                    uint32_t addr_idx, uint16_t ext_port, bool rebinding, bool inbound)
{
  uint32_t idx = nat_binding_alloc (nat);
  uint32_t e_idx = nat_inside_get (nat, f->proto, f->in_addr, f->in_port, true);
  Binding *b = binding (nat, idx);

  nat_binding_init (nat, b, B_ALIVE, f, addr_idx, ext_port);
  b->inside = e_idx;
  if (b->proto == NATSIM_PROTO_TCP)
    {
      /* Linux loose tracking (nf_conntrack_tcp_loose): a connection seen
       * mid-stream is taken as established. */
      if ((pkt->tcp_flags & NATSIM_TCP_SYN) && !(pkt->tcp_flags & NATSIM_TCP_ACK))
        b->tcp = TCP_SYN_SENT;
      else if (pkt->tcp_flags & (NATSIM_TCP_FIN | NATSIM_TCP_RST))
        b->tcp = TCP_CLOSING;
      else
        b->tcp = TCP_ESTABLISHED;
    }
  nat_list_push (nat, &inside (nat, e_idx)->alive, idx);
  inside (nat, e_idx)->n++;
  nat_table_put (&nat->flows, key_endpoint (f->proto, f->in_addr, f->in_port),
                 key_remote (f->rem_addr, f->rem_port), idx);
  nat_table_put (&nat->replies, key_endpoint (f->proto, addr_idx, ext_port),
                 key_remote (f->rem_addr, f->rem_port), idx);
  nat_port_ref (nat, b);
  nat->live++;
  if (nat_host_tracked (nat, addr_idx, f->proto, ext_port))
    nat_host_ref (nat, f->in_addr, addr_idx, +1);
  b = binding (nat, idx);
  nat_timer_start (nat, idx, natsim_time_add (nat->now, nat_timeout_for (nat, b)));
  nat_emit (nat, NATSIM_NAT_EV_BINDING_CREATED, b, rebinding, inbound);
  if (inbound)
    b->replied = 1;
  return idx;
}

/* Removes a tombstone that a new binding of the same flow replaces. */
void
nat_tombstone_replace (NatsimNat *nat, uint32_t idx)
{
  nat_inside_detach (nat, idx, false);
  nat_binding_release (nat, idx);
}
