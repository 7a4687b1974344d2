/* natsim NAT engine: binding records, their lists and events.
 *
 * A binding record is ALIVE (translating), DEAD (expired, remembered as a
 * tombstone for cfg.tombstone to classify binding losses and rebindings),
 * FAILED (a tombstone of a flow whose allocation failed) or HELD (Linux:
 * an unsolicited inbound datagram to an expired mapping, holding the old
 * external port toward that remote).  Records are recycled through a free
 * list; nat_binding_init is the one place that fills one in.  An inside
 * endpoint's records form one list headed from the inside index, where a
 * flow's record is found (nat_flow_lookup; the flow table as well for a
 * crowded endpoint), and an external port's ALIVE and HELD records one
 * list headed from its PortState.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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
  ev.proto = b_proto (b);
  ev.cls = b->cls;
  ev.in_addr = b->in_addr;
  ev.in_port = b->in_port;
  ev.rem_addr = b->rem_addr;
  ev.rem_port = b->rem_port;
  ev.addr_index = b_addr (b);
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

/* A chunk of records aligned to a cache line: four 48-byte records share
 * three lines, and the flow's key at the head of a record (read first on
 * a lookup) is in one line for three of them.  (Chunks in
 * 2 MiB huge-page arenas spared page faults but, allocated eight ahead
 * and resident whole, added 5 bytes of peak RSS per live binding at a
 * million: not taken.)  posix_memalign memory is freed with free(), which
 * is what g_free() calls. */
static Binding *
chunk_new (void)
{
  void *p = NULL;

  if (posix_memalign (&p, 64, sizeof (Binding) * BINDING_CHUNK) != 0)
    g_error ("out of memory for %zu bytes of binding records", sizeof (Binding) * BINDING_CHUNK);
#ifdef MADV_POPULATE_WRITE
  /* Every record of the chunk is written soon: map its pages in one call
   * rather than a page fault every 64 records (a fault is an exit to the
   * hypervisor in a VM).  Only a hint: an older kernel refuses it. */
  {
    uintptr_t lo = ((uintptr_t) p + 4095) & ~(uintptr_t) 4095;
    uintptr_t hi = ((uintptr_t) p + sizeof (Binding) * BINDING_CHUNK) & ~(uintptr_t) 4095;
    if (hi > lo)
      (void) madvise ((void *) lo, hi - lo, MADV_POPULATE_WRITE);
  }
#endif
  return p;
}

uint32_t
nat_binding_alloc (NatsimNat *nat)
{
  uint32_t idx, gen = 0;
  Binding *b;

  if (nat->free_binding != NONE)
    {
      idx = nat->free_binding;
      b = binding (nat, idx);
      nat->free_binding = b->next;
      nat->n_free--;
      /* Timer entries of an earlier use may still be queued (Binding). */
      gen = b->gen;
    }
  else
    {
      idx = nat->n_bindings;
      g_assert (idx + 1 < PORT_CROWDED); /* PortState.head holds 1 + idx */
      if ((idx & (BINDING_CHUNK - 1)) == 0)
        {
          if (nat->n_chunks == nat->chunks_cap)
            {
              nat->chunks_cap = nat->chunks_cap ? nat->chunks_cap * 2 : 16;
              nat->chunks = g_renew (Binding *, nat->chunks, nat->chunks_cap);
            }
          nat->chunks[nat->n_chunks++] = chunk_new ();
        }
      nat->n_bindings++;
    }
  b = binding (nat, idx);
  memset (b, 0, sizeof *b);
  b->gen = gen + 1;
  b->next = NONE;
  b->addr_idx = NO_ADDR;
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
  b->pidx = (uint16_t) proto_idx (f->proto);
  b->cls = f->cls;
  b->status = (uint16_t) status;
  g_assert (addr_idx == NONE || addr_idx < NO_ADDR);
  b->addr_idx = addr_idx == NONE ? NO_ADDR : (uint16_t) addr_idx;
  b->ext_port = ext_port;
  b->young = 0;
  b->at = nat->now; /* created (nat_timer_start() makes it the timer) or died */
}

/* Timer entries of it may still be queued: they are stale (Binding). */
void
nat_binding_release (NatsimNat *nat, uint32_t idx)
{
  Binding *b = binding (nat, idx);

  b->status = B_FREE;
  b->gen++;
  b->next = nat->free_binding;
  nat->free_binding = idx;
  nat->n_free++;
}

/* Table callbacks: the flow table's key is the binding's (proto, inside
 * endpoint, remote), the inside index's the first binding's (proto, inside
 * endpoint). */
bool
nat_binding_eq_flow (const void *ctx, uint32_t idx, uint64_t k1, uint64_t k2)
{
  const NatsimNat *nat = ctx;
  const Binding *b = binding_c (nat, idx);

  return key_endpoint (b_proto (b), b->in_addr, b->in_port) == k1 &&
         key_remote (b->rem_addr, b->rem_port) == k2;
}

bool
nat_binding_eq_inside (const void *ctx, uint32_t idx, uint64_t k1, uint64_t k2)
{
  const NatsimNat *nat = ctx;
  const Binding *b = binding_c (nat, idx);

  return key_endpoint (b_proto (b), b->in_addr, b->in_port) == k1 && k2 == 0;
}

uint32_t
nat_inside_head (const NatsimNat *nat, uint8_t proto, uint32_t addr, uint16_t port)
{
  uint32_t idx = nat_table_get (&nat->inside_index, key_endpoint (proto, addr, port), 0);

  return idx == NAT_TABLE_NONE ? NONE : idx;
}

/* Does the list from @head hold an ALIVE binding? */
bool
nat_inside_has_alive (NatsimNat *nat, uint32_t head)
{
  for (uint32_t i = head; i != NONE; i = binding (nat, i)->next)
    if (binding (nat, i)->status == B_ALIVE)
      return true;
  return false;
}

uint32_t
nat_flow_lookup (const NatsimNat *nat, uint64_t k1, uint64_t k2)
{
  uint32_t i = nat_table_get (&nat->inside_index, k1, 0);

  if (i == NAT_TABLE_NONE)
    return NAT_TABLE_NONE;
  if (binding_c (nat, i)->crowded)
    return nat_table_get (&nat->flows, k1, k2);
  for (; i != NONE; i = binding_c (nat, i)->next)
    {
      const Binding *b = binding_c (nat, i);
      if (key_remote (b->rem_addr, b->rem_port) == k2)
        return i;
    }
  return NAT_TABLE_NONE;
}

/* A crowded endpoint's record (Binding): in the flow table, and its
 * predecessor aside. */
static void
crowd (NatsimNat *nat, uint32_t idx, uint32_t prev)
{
  Binding *b = binding (nat, idx);
  PrevEntry *p;

  b->crowded = 1;
  nat_table_put (&nat->flows, key_endpoint (b_proto (b), b->in_addr, b->in_port),
                 key_remote (b->rem_addr, b->rem_port), idx);
  p = nat_side_add (&nat->prevs, idx);
  p->prev = prev;
}

static inline void
prev_set (NatsimNat *nat, uint32_t idx, uint32_t prev)
{
  ((PrevEntry *) nat_side_get (&nat->prevs, idx))->prev = prev;
}

/* Puts @idx at the head of its inside endpoint's list. */
void
nat_inside_push (NatsimNat *nat, uint32_t idx)
{
  Binding *b = binding (nat, idx);
  uint64_t k = key_endpoint (b_proto (b), b->in_addr, b->in_port);
  uint32_t head, n = 0;

  g_assert (!b->listed);
  /* One probe: the new head goes in, the old one comes out. */
  head = nat_table_swap (&nat->inside_index, k, 0, idx);
  b->listed = 1;
  if (head == NAT_TABLE_NONE)
    {
      b->next = NONE;
      return;
    }
  b->next = head;
  if (binding (nat, head)->crowded)
    {
      crowd (nat, idx, NONE);
      prev_set (nat, head, idx);
      return;
    }
  for (uint32_t i = head; i != NONE && n < ENDPOINT_LIST_MAX; i = binding (nat, i)->next)
    n++;
  if (n >= ENDPOINT_LIST_MAX)
    {
      /* Too many for a walk: the flow table takes over the endpoint. */
      uint32_t prev = NONE;

      for (uint32_t i = idx; i != NONE; prev = i, i = binding (nat, i)->next)
        crowd (nat, i, prev);
    }
}

/* Takes a binding out of its inside endpoint's list (if it is in one);
 * the endpoint leaves the index with its last binding. */
void
nat_inside_detach (NatsimNat *nat, uint32_t idx)
{
  Binding *b = binding (nat, idx);
  uint64_t k;
  uint32_t prev, next = b->next;

  if (!b->listed)
    return;
  k = key_endpoint (b_proto (b), b->in_addr, b->in_port);
  if (b->crowded)
    {
      prev = ((const PrevEntry *) nat_side_get (&nat->prevs, idx))->prev;
      nat_side_del (&nat->prevs, idx);
      nat_table_del (&nat->flows, k, key_remote (b->rem_addr, b->rem_port));
      if (next != NONE)
        prev_set (nat, next, prev);
    }
  else
    {
      /* A short list: find the predecessor from the head. */
      prev = nat_table_get (&nat->inside_index, k, 0);
      if (prev == idx)
        prev = NONE;
      else
        while (binding (nat, prev)->next != idx)
          prev = binding (nat, prev)->next;
    }
  if (prev != NONE)
    binding (nat, prev)->next = next;
  else if (next == NONE)
    nat_table_del (&nat->inside_index, k, 0);
  else
    nat_table_put (&nat->inside_index, k, 0, next);
  b->next = NONE;
  b->listed = 0;
  b->crowded = 0;
}

/* ---------- per external port: the bindings on it ---------- */

bool
nat_binding_eq_reply (const void *ctx, uint32_t idx, uint64_t k1, uint64_t k2)
{
  const NatsimNat *nat = ctx;
  const Binding *b = binding_c (nat, idx);

  return key_endpoint (b_proto (b), b->addr_idx, b->ext_port) == k1 &&
         key_remote (b->rem_addr, b->rem_port) == k2;
}

uint32_t
nat_reply_get (const NatsimNat *nat, uint8_t proto, uint32_t addr_idx, uint16_t port,
               uint32_t rem_addr, uint16_t rem_port)
{
  uint32_t i = port_state_c (nat, addr_idx, proto, port)->head;

  if (i & PORT_CROWDED)
    return nat_table_get (&nat->replies, key_endpoint (proto, addr_idx, port),
                          key_remote (rem_addr, rem_port));
  while (i != 0)
    {
      const Binding *b = binding_c (nat, i - 1);
      if (b->rem_addr == rem_addr && b->rem_port == rem_port && b_proto (b) == proto)
        return i - 1;
      i = b->pnext;
    }
  return NONE;
}

static void
reply_put (NatsimNat *nat, uint32_t idx)
{
  Binding *b = binding (nat, idx);

  nat_table_put (&nat->replies, key_endpoint (b_proto (b), b->addr_idx, b->ext_port),
                 key_remote (b->rem_addr, b->rem_port), idx);
}

/* Before nat_port_ref: the binding joins its port. */
void
nat_reply_add (NatsimNat *nat, uint32_t idx)
{
  Binding *b = binding (nat, idx);
  PortState *ps = port_state (nat, b->addr_idx, b_proto (b), b->ext_port);
  uint32_t n = 0;

  /* The callers checked that the 5-tuple is unused. */
  g_assert (nat_reply_get (nat, b_proto (b), b->addr_idx, b->ext_port, b->rem_addr,
                           b->rem_port) == NONE);
  if (ps->head & PORT_CROWDED)
    {
      reply_put (nat, idx);
      ps->head++;
      return;
    }
  for (uint32_t i = ps->head; i != 0 && n < PORT_LIST_MAX; i = binding (nat, i - 1)->pnext)
    n++;
  if (n >= PORT_LIST_MAX)
    {
      /* Too many for a walk: the table takes over the port. */
      n = 0;
      for (uint32_t i = ps->head; i != 0; n++)
        {
          uint32_t next = binding (nat, i - 1)->pnext;
          binding (nat, i - 1)->pnext = 0;
          reply_put (nat, i - 1);
          i = next;
        }
      reply_put (nat, idx);
      ps->head = PORT_CROWDED | (n + 1);
      return;
    }
  b->pnext = ps->head;
  ps->head = idx + 1;
}

/* Before nat_port_unref: the binding leaves its port. */
void
nat_reply_del (NatsimNat *nat, uint32_t idx)
{
  Binding *b = binding (nat, idx);
  PortState *ps = port_state (nat, b->addr_idx, b_proto (b), b->ext_port);
  Binding *p;

  if (ps->head & PORT_CROWDED)
    {
      nat_table_del (&nat->replies, key_endpoint (b_proto (b), b->addr_idx, b->ext_port),
                     key_remote (b->rem_addr, b->rem_port));
      /* With the last one gone the port is free: a list again. */
      ps->head = ps->head - 1 == PORT_CROWDED ? 0 : ps->head - 1;
      return;
    }
  if (ps->head == idx + 1)
    ps->head = b->pnext;
  else
    {
      g_assert (ps->head != 0);
      for (p = binding (nat, ps->head - 1); p->pnext != idx + 1; p = binding (nat, p->pnext - 1))
        g_assert (p->pnext != 0);
      p->pnext = b->pnext;
    }
  b->pnext = 0;
}

uint32_t
nat_binding_create (NatsimNat *nat, const NatsimPacket *pkt, const NatFlow *f,
                    uint32_t addr_idx, uint16_t ext_port, bool rebinding, bool inbound)
{
  uint32_t idx = nat_binding_alloc (nat);
  Binding *b = binding (nat, idx);

  nat_binding_init (nat, b, B_ALIVE, f, addr_idx, ext_port);
  if (b->pidx == PROTO_IDX_TCP)
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
  nat_inside_push (nat, idx);
  nat_reply_add (nat, idx);
  b = binding (nat, idx);
  nat_port_ref (nat, b);
  nat->live++;
  if (nat_host_tracked (nat, addr_idx, f->proto, ext_port))
    nat_host_ref (nat, f->in_addr, addr_idx, +1);
  b = binding (nat, idx);
  nat_timer_start (nat, idx, natsim_time_add (nat->now, nat_timeout_for (nat, idx)));
  nat_emit (nat, NATSIM_NAT_EV_BINDING_CREATED, b, rebinding, inbound);
  if (inbound)
    b->replied = 1;
  return idx;
}

/* Removes a tombstone that a new binding of the same flow replaces. */
void
nat_tombstone_replace (NatsimNat *nat, uint32_t idx)
{
  nat_inside_detach (nat, idx);
  nat_binding_release (nat, idx);
}

/* ---------- bookkeeping check (natsim_nat_check) ---------- */

#define CHECK(cond, ...)                                                    \
  do                                                                        \
    {                                                                       \
      if (!(cond))                                                          \
        {                                                                   \
          g_warning (__VA_ARGS__);                                          \
          return false;                                                     \
        }                                                                   \
    }                                                                       \
  while (0)

/* The list from @head: its records are listed, of one endpoint, tombstones
 * or alive, flows distinct; a crowded one is wholly in the flow table with
 * each record's predecessor aside, a walked one short.  Adds its length to
 * *@n_listed and its crowded records to *@n_crowded. */
static bool
check_list (const NatsimNat *nat, uint32_t head, guint64 *n_listed, guint64 *n_crowded)
{
  const Binding *h = binding_c (nat, head);
  uint64_t k = key_endpoint (b_proto (h), h->in_addr, h->in_port);
  uint32_t prev = NONE, n = 0;

  for (uint32_t i = head; i != NONE; prev = i, i = binding_c (nat, i)->next)
    {
      const Binding *b = binding_c (nat, i);
      uint64_t k2 = key_remote (b->rem_addr, b->rem_port);

      CHECK (n++ < nat->n_bindings, "inside list from %u: a cycle", head);
      CHECK (b->listed, "record %u: on a list, not marked listed", i);
      CHECK (b->status == B_ALIVE || b->status == B_DEAD || b->status == B_FAILED,
             "record %u: listed with status %d", i, (int) b->status);
      CHECK (key_endpoint (b_proto (b), b->in_addr, b->in_port) == k,
             "record %u: on another endpoint's list", i);
      CHECK (b->crowded == h->crowded, "record %u: crowded %d, its head %d", i, b->crowded,
             h->crowded);
      for (uint32_t j = b->next; j != NONE && !b->crowded; j = binding_c (nat, j)->next)
        CHECK (key_remote (binding_c (nat, j)->rem_addr, binding_c (nat, j)->rem_port) != k2,
               "records %u and %u: one flow listed twice", i, j);
      if (b->crowded)
        {
          const PrevEntry *p = nat_side_get (&nat->prevs, i);
          CHECK (nat_table_get (&nat->flows, k, k2) == i, "record %u: not in the flow table", i);
          CHECK (p != NULL && p->prev == prev, "record %u: predecessor %u kept as %u", i, prev,
                 p == NULL ? NONE : p->prev);
          (*n_crowded)++;
        }
    }
  CHECK (h->crowded || n <= ENDPOINT_LIST_MAX, "inside list from %u: %u records walked", head, n);
  *n_listed += n;
  return true;
}

bool
natsim_nat_check (const NatsimNat *nat)
{
  guint64 n_listed = 0, n_crowded = 0, marked = 0, n_free = 0;
  const NatTable *t;

  g_return_val_if_fail (nat != NULL, false);
  t = &nat->inside_index;
  for (uint32_t s = 0; s < t->cap; s++)
    if (t->slots[s].value != NAT_TABLE_NONE
        && !check_list (nat, t->slots[s].value, &n_listed, &n_crowded))
      return false;
  for (uint32_t i = 0; i < nat->n_bindings; i++)
    {
      marked += binding_c (nat, i)->listed;
      n_free += binding_c (nat, i)->status == B_FREE;
    }
  for (uint32_t i = nat->free_binding, n = 0; i != NONE; i = binding_c (nat, i)->next)
    CHECK (++n <= n_free && binding_c (nat, i)->status == B_FREE, "free list: record %u", i);
  CHECK (n_free == nat->n_free, "%" G_GUINT64_FORMAT " free records, %u counted", n_free,
         nat->n_free);
  CHECK (marked == n_listed, "%" G_GUINT64_FORMAT " records marked listed, %" G_GUINT64_FORMAT
         " on lists", marked, n_listed);
  CHECK (nat->flows.count == n_crowded && nat->prevs.index.count == n_crowded,
         "%" G_GUINT64_FORMAT " crowded records, %u in the flow table, %u predecessors",
         n_crowded, nat->flows.count, nat->prevs.index.count);
  return true;
}
