/* natsim: the NAT/PAT gateway engine.
 *
 * docs/nat-model.md is the contract of this file; every rule there is
 * implemented here and tested in tests/test-nat*.c.
 *
 * Data layout (all plain C, no per-packet allocation in steady state):
 *  - bindings: a pool of Binding records recycled through a free list.  A
 *    binding is ALIVE (translating), DEAD (expired, remembered as a
 *    tombstone for cfg.tombstone to classify binding losses and
 *    rebindings), FAILED (a tombstone of a flow whose allocation failed) or
 *    HELD (Linux: an unsolicited inbound datagram to an expired mapping,
 *    holding the old external port toward that remote).
 *  - flows:   (proto, inside ip:port, remote ip:port) -> binding, ALIVE,
 *             DEAD or FAILED.
 *  - replies: (proto, address index, external port, remote ip:port) ->
 *             binding, ALIVE or HELD: the "is this 5-tuple used" check of
 *             per-destination port reuse (nf_nat_used_tuple).
 *  - insides: (proto, inside ip:port) -> InsideEntry, heading two lists of
 *             that endpoint's bindings (alive, remembered), for mapping
 *             reuse (EIM/ADM) and filtering (EIF/ADF).  Walking them is
 *             O(bindings of one inside endpoint), which is small for
 *             clients; a server-like inside endpoint with thousands of
 *             remotes pays for it.
 *  - ports:   per (address, protocol) a dense array of PortState
 *             (reference count, last owner, release time), allocated on
 *             first use: about 1.5 MB per address and protocol for the full
 *             range.
 *  - timers:  a private event queue; one pending timer per binding, pushed
 *             at creation and re-pushed lazily when it fires on a binding
 *             that was refreshed meanwhile (or earlier when a refresh
 *             shortens the expiry), so a refresh costs no queue operation.
 */
#include <string.h>

#include "nat-private.h"
#include "natsim/eventq.h"
#include "natsim/nat.h"

typedef enum
{
  B_FREE,
  B_ALIVE,
  B_DEAD,
  B_FAILED,
  B_HELD,
} BindingStatus;

typedef enum
{
  TCP_NONE,
  TCP_SYN_SENT,
  TCP_SYN_RECV,
  TCP_ESTABLISHED,
  TCP_CLOSING,
} TcpState;

#define NONE UINT32_MAX

typedef struct
{
  uint32_t   in_addr, rem_addr;
  uint16_t   in_port, rem_port;
  uint8_t    proto;
  uint8_t    status;
  uint8_t    tcp;
  uint8_t    replied;
  uint16_t   ext_port;
  uint16_t   cls;
  uint32_t   addr_idx;
  uint32_t   endpoint;
  uint32_t   inside;     /* InsideEntry index (ALIVE, DEAD, FAILED) */
  uint32_t   prev, next; /* links in the inside entry's list */
  uint32_t   generation; /* bumped on every status change, for timers */
  NatsimTime created;
  NatsimTime expiry;     /* ALIVE/HELD: idle expiry; DEAD/FAILED: forget time */
  NatsimTime timer_at;   /* time of the pending timer event */
  NatsimTime died;       /* DEAD: when the binding expired */
} Binding;

typedef struct
{
  uint32_t in_addr;
  uint16_t in_port;
  uint8_t  proto;
  uint32_t alive, dead; /* list heads */
  uint32_t n;           /* bindings in both lists */
} InsideEntry;

typedef struct
{
  uint32_t   refs;       /* live bindings and held entries on this port */
  uint32_t   owner_addr; /* inside endpoint that last held it */
  uint16_t   owner_port;
  uint16_t   pad;
  NatsimTime released;   /* when refs last dropped to 0 */
} PortState;

typedef struct
{
  uint32_t  in_addr;
  uint32_t  addr_idx;
  uint32_t  n_blocks;
  uint32_t *blocks; /* block indices, into the pool's block array */
} Subscriber;

enum { PROTO_IDX_UDP, PROTO_IDX_TCP, PROTO_IDX_ICMP, N_PROTO_IDX };

typedef struct
{
  PortState *ports[N_PROTO_IDX];     /* [range] each, lazily */
  uint32_t   in_use[N_PROTO_IDX];    /* ports with refs > 0 */
  uint32_t   last_alloc[N_PROTO_IDX];/* offset of the last allocated port */
  /* port blocks (ports_per_subscriber > 0) */
  uint32_t  *block_owner;            /* subscriber index + 1, 0 = free */
  uint32_t  *block_used;             /* ports in use in the block (all protocols) */
  uint32_t   next_block;             /* where the next free-block search starts */
  uint32_t   free_blocks;
} AddressState;

struct NatsimNat
{
  NatsimNatConfig   cfg;
  gsl_rng          *rng;
  uint32_t          range;       /* ports in the range */
  uint32_t          n_blocks;    /* blocks per address */

  GArray           *bindings;    /* Binding */
  uint32_t          free_binding;
  GArray           *insides;     /* InsideEntry */
  GArray           *free_insides;/* uint32_t */
  GArray           *subscribers; /* Subscriber */
  GArray           *free_subscribers;
  NatTable          flows, replies, inside_index, subscriber_index;
  AddressState     *addrs;

  NatsimEventQueue *timers;
  NatsimTime        now;
  guint64           live;        /* ALIVE bindings */

  NatsimNatObserver observer;
  void             *observer_data;
};

/* ---------- small helpers ---------- */

static inline int
proto_idx (uint8_t proto)
{
  switch (proto)
    {
    case NATSIM_PROTO_TCP: return PROTO_IDX_TCP;
    case NATSIM_PROTO_ICMP: return PROTO_IDX_ICMP;
    default: return PROTO_IDX_UDP;
    }
}

static inline uint64_t
key_endpoint (uint8_t proto, uint32_t addr, uint16_t port)
{
  return ((uint64_t) proto << 48) | ((uint64_t) port << 32) | addr;
}

static inline uint64_t
key_remote (uint32_t addr, uint16_t port)
{
  return ((uint64_t) port << 32) | addr;
}

static inline Binding *
binding (NatsimNat *nat, uint32_t idx)
{
  return &g_array_index (nat->bindings, Binding, idx);
}

static inline InsideEntry *
inside (NatsimNat *nat, uint32_t idx)
{
  return &g_array_index (nat->insides, InsideEntry, idx);
}

static inline uint64_t
hash32 (uint64_t x)
{
  x ^= x >> 33;
  x *= UINT64_C (0xff51afd7ed558ccd);
  x ^= x >> 33;
  x *= UINT64_C (0xc4ceb9fe1a85ec53);
  x ^= x >> 33;
  return x;
}

static void
emit (NatsimNat *nat, NatsimNatEventType type, const Binding *b, bool rebinding,
      bool inbound)
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
  nat->observer (&ev, nat->observer_data);
}

static void
emit_packet (NatsimNat *nat, NatsimNatEventType type, const NatsimPacket *pkt,
             uint32_t addr_idx)
{
  Binding b = { 0 };

  if (nat->observer == NULL)
    return;
  b.proto = pkt->proto;
  b.cls = pkt->cls;
  b.endpoint = pkt->endpoint;
  if (pkt->dir == NATSIM_DIR_OUT)
    {
      b.in_addr = pkt->src_addr, b.in_port = pkt->src_port;
      b.rem_addr = pkt->dst_addr, b.rem_port = pkt->dst_port;
    }
  else
    {
      b.in_addr = pkt->dst_addr, b.in_port = pkt->dst_port;
      b.rem_addr = pkt->src_addr, b.rem_port = pkt->src_port;
    }
  b.addr_idx = addr_idx;
  emit (nat, type, &b, false, false);
}

/* ---------- pools ---------- */

static uint32_t
binding_alloc (NatsimNat *nat)
{
  uint32_t idx;

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
  {
    Binding *b = binding (nat, idx);
    uint32_t gen = b->generation + 1;
    memset (b, 0, sizeof *b);
    b->generation = gen;
    b->inside = NONE;
    b->prev = b->next = NONE;
    b->addr_idx = NONE;
  }
  return idx;
}

static void
binding_release (NatsimNat *nat, uint32_t idx)
{
  Binding *b = binding (nat, idx);

  b->status = B_FREE;
  b->generation++;
  b->next = nat->free_binding;
  nat->free_binding = idx;
}

static uint32_t
inside_get (NatsimNat *nat, uint8_t proto, uint32_t addr, uint16_t port, bool create)
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

static void
list_remove (NatsimNat *nat, uint32_t *head, uint32_t idx)
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

static void
list_push (NatsimNat *nat, uint32_t *head, uint32_t idx)
{
  Binding *b = binding (nat, idx);

  b->prev = NONE;
  b->next = *head;
  if (*head != NONE)
    binding (nat, *head)->prev = idx;
  *head = idx;
}

/* Detaches a binding from its inside entry, dropping the entry when empty. */
static void
inside_detach (NatsimNat *nat, uint32_t idx, bool from_alive)
{
  Binding *b = binding (nat, idx);
  uint32_t e_idx = b->inside;
  InsideEntry *e;

  if (e_idx == NONE)
    return;
  e = inside (nat, e_idx);
  list_remove (nat, from_alive ? &e->alive : &e->dead, idx);
  b->inside = NONE;
  if (--e->n == 0)
    {
      nat_table_del (&nat->inside_index, key_endpoint (e->proto, e->in_addr, e->in_port), 0);
      g_array_append_val (nat->free_insides, e_idx);
    }
}

/* ---------- ports and blocks ---------- */

static PortState *
port_state (NatsimNat *nat, uint32_t addr_idx, uint8_t proto, uint16_t port)
{
  AddressState *a = &nat->addrs[addr_idx];
  int p = proto_idx (proto);

  if (a->ports[p] == NULL)
    a->ports[p] = g_new0 (PortState, nat->range);
  return &a->ports[p][port - nat->cfg.port_lo];
}

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
  nat_table_put (&nat->subscriber_index, in_addr, 0, idx);
  return s;
}

static uint32_t
subscriber_index (NatsimNat *nat, const Subscriber *s)
{
  return (uint32_t) (s - &g_array_index (nat->subscribers, Subscriber, 0));
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
static bool
subscriber_take_block (NatsimNat *nat, Subscriber *s)
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
          return true;
        }
    }
  return false;
}

static void
block_port_changed (NatsimNat *nat, uint32_t addr_idx, uint16_t port, int delta)
{
  AddressState *a = &nat->addrs[addr_idx];
  uint32_t blk;
  Subscriber *s;

  if (nat->cfg.ports_per_subscriber == 0)
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
   * in use. */
  s = &g_array_index (nat->subscribers, Subscriber, a->block_owner[blk] - 1);
  a->block_owner[blk] = 0;
  a->free_blocks++;
  for (uint32_t i = 0; i < s->n_blocks; i++)
    if (s->blocks[i] == blk)
      {
        s->blocks[i] = s->blocks[--s->n_blocks];
        break;
      }
  if (s->n_blocks == 0)
    subscriber_forget (nat, s);
}

static void
port_ref (NatsimNat *nat, Binding *b)
{
  PortState *ps = port_state (nat, b->addr_idx, b->proto, b->ext_port);

  if (ps->refs++ == 0)
    {
      nat->addrs[b->addr_idx].in_use[proto_idx (b->proto)]++;
      block_port_changed (nat, b->addr_idx, b->ext_port, +1);
      emit (nat, NATSIM_NAT_EV_PORT_ACQUIRED, b, false, false);
    }
  if (b->status == B_ALIVE)
    {
      ps->owner_addr = b->in_addr;
      ps->owner_port = b->in_port;
    }
}

static void
port_unref (NatsimNat *nat, Binding *b)
{
  PortState *ps = port_state (nat, b->addr_idx, b->proto, b->ext_port);

  g_assert (ps->refs > 0);
  if (--ps->refs == 0)
    {
      ps->released = nat->now;
      nat->addrs[b->addr_idx].in_use[proto_idx (b->proto)]--;
      emit (nat, NATSIM_NAT_EV_PORT_RELEASED, b, false, false);
      block_port_changed (nat, b->addr_idx, b->ext_port, -1);
    }
}

/* Is external (addr, port) free for a new binding of inside endpoint I
 * toward remote R?  See docs/nat-model.md "When is an external port free". */
static bool
port_free (NatsimNat *nat, uint32_t addr_idx, uint8_t proto, uint16_t port,
           uint32_t in_addr, uint16_t in_port, uint32_t rem_addr,
           uint16_t rem_port, bool reuse)
{
  PortState *ps = port_state (nat, addr_idx, proto, port);
  bool same_owner = ps->owner_addr == in_addr && ps->owner_port == in_port;

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

/* Is @port inside one of the subscriber's blocks? */
static bool
in_blocks (const NatsimNat *nat, const Subscriber *s, uint16_t port)
{
  uint32_t blk = (uint32_t) (port - nat->cfg.port_lo) / nat->cfg.ports_per_subscriber;

  for (uint32_t i = 0; i < s->n_blocks; i++)
    if (s->blocks[i] == blk)
      return true;
  return false;
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

/* Chooses the external endpoint of a new binding; false on exhaustion. */
static bool
allocate (NatsimNat *nat, const NatsimPacket *pkt, uint32_t e_idx,
          uint32_t *ret_addr_idx, uint16_t *ret_port)
{
  uint8_t proto = pkt->proto;
  uint32_t in_addr = pkt->src_addr, rem_addr = pkt->dst_addr;
  uint16_t in_port = pkt->src_port, rem_port = pkt->dst_port;
  bool linux_order = nat->cfg.port_search == NATSIM_SEARCH_LINUX;
  Binding *cand = mapping_candidate (nat, e_idx, rem_addr);
  uint32_t addr_idx;
  Subscriber *sub = NULL;
  uint16_t port = 0;
  uint32_t n_blocks_before = 0;
  bool preserve_ok;

  /* With a mapping to reuse, its address; else the pooling rule's. */
  addr_idx = cand ? cand->addr_idx : choose_address (nat, in_addr, rem_addr);
  if (nat->cfg.ports_per_subscriber > 0)
    {
      sub = subscriber_of (nat, in_addr, true, addr_idx);
      addr_idx = sub->addr_idx;
      n_blocks_before = sub->n_blocks;
      if (sub->n_blocks == 0 && !subscriber_take_block (nat, sub))
        goto fail;
    }

  preserve_ok = nat->cfg.allocation == NATSIM_ALLOC_PRESERVE &&
                in_port >= nat->cfg.port_lo && in_port <= nat->cfg.port_hi &&
                (sub == NULL || in_blocks (nat, sub, in_port));

  /* Linux tries the original port first, then the source's existing
   * mapping (find_appropriate_src); the generic model honours the mapping
   * rule first, as RFC 4787 REQ-1 asks. */
  if (linux_order && preserve_ok &&
      port_free (nat, addr_idx, proto, in_port, in_addr, in_port, rem_addr, rem_port, false))
    {
      port = in_port;
      goto done;
    }
  if (cand != NULL && cand->addr_idx == addr_idx &&
      (sub == NULL || in_blocks (nat, sub, cand->ext_port)) &&
      port_free (nat, addr_idx, proto, cand->ext_port, in_addr, in_port, rem_addr, rem_port, true))
    {
      port = cand->ext_port;
      goto done;
    }
  if (!linux_order && preserve_ok && parity_ok (nat, in_port, in_port) &&
      port_free (nat, addr_idx, proto, in_port, in_addr, in_port, rem_addr, rem_port, false))
    {
      port = in_port;
      goto done;
    }

  if (sub == NULL)
    port = search_in (nat, addr_idx, proto, 0, nat->range - 1, in_addr, in_port, rem_addr, rem_port);
  else
    {
      /* Search the subscriber's blocks, taking a new block when they are
       * full and the limit allows. */
      for (;;)
        {
          for (uint32_t i = 0; i < sub->n_blocks && port == 0; i++)
            {
              uint32_t lo = sub->blocks[i] * nat->cfg.ports_per_subscriber;
              uint32_t hi = lo + nat->cfg.ports_per_subscriber - 1;
              port = search_in (nat, addr_idx, proto, lo, hi, in_addr, in_port, rem_addr, rem_port);
            }
          if (port != 0 || !subscriber_take_block (nat, sub))
            break;
        }
    }
  if (port == 0)
    goto fail;

done:
  nat->addrs[addr_idx].last_alloc[proto_idx (proto)] = (uint32_t) (port - nat->cfg.port_lo);
  *ret_addr_idx = addr_idx;
  *ret_port = port;
  return true;

fail:
  *ret_addr_idx = addr_idx;
  if (sub != NULL)
    {
      /* Return blocks taken during this attempt that hold no port; a
       * subscriber with no port in use keeps no block. */
      AddressState *a = &nat->addrs[sub->addr_idx];
      /* Taken now: none holds a port of this subscriber (held entries may
       * still keep some of their ports in use). */
      while (sub->n_blocks > n_blocks_before)
        {
          a->block_owner[sub->blocks[--sub->n_blocks]] = 0;
          a->free_blocks++;
        }
      for (uint32_t i = 0; i < sub->n_blocks;)
        {
          uint32_t blk = sub->blocks[i];
          if (a->block_used[blk] == 0)
            {
              a->block_owner[blk] = 0;
              a->free_blocks++;
              sub->blocks[i] = sub->blocks[--sub->n_blocks];
            }
          else
            i++;
        }
      if (sub->n_blocks == 0)
        subscriber_forget (nat, sub);
    }
  return false;
}

/* ---------- timers ---------- */

static void
timer_arm (NatsimNat *nat, uint32_t idx, NatsimTime at)
{
  Binding *b = binding (nat, idx);

  b->timer_at = at;
  natsim_eventq_push (nat->timers, at, 0, b->generation, idx);
}

/* Sets a new expiry; pushes a timer only when the expiry moved earlier
 * than the pending one (lazy re-arming handles later expiries). */
static void
set_expiry (NatsimNat *nat, uint32_t idx, NatsimTime expiry)
{
  Binding *b = binding (nat, idx);

  b->expiry = expiry;
  if (expiry < b->timer_at)
    timer_arm (nat, idx, expiry);
}

static NatsimTime
timeout_for (const NatsimNat *nat, const Binding *b)
{
  switch (b->proto)
    {
    case NATSIM_PROTO_TCP:
      return b->tcp == TCP_ESTABLISHED ? nat->cfg.tcp_established_timeout
                                       : nat->cfg.tcp_transitory_timeout;
    case NATSIM_PROTO_ICMP:
      return nat->cfg.icmp_timeout;
    default:
      /* nf_conntrack_proto_udp.c: the stream timeout once a reply has been
       * seen (before this packet) and the entry is more than 2 s old. */
      if (b->replied && nat->now > b->created + NATSIM_SEC (2))
        return nat->cfg.udp_stream_timeout;
      return nat->cfg.udp_timeout;
    }
}

static void
tcp_track (Binding *b, const NatsimPacket *pkt)
{
  uint8_t f = pkt->tcp_flags;
  bool out = pkt->dir == NATSIM_DIR_OUT;

  if (f & (NATSIM_TCP_RST | NATSIM_TCP_FIN))
    {
      b->tcp = TCP_CLOSING;
      return;
    }
  switch (b->tcp)
    {
    case TCP_SYN_SENT:
      if (!out && (f & NATSIM_TCP_SYN) && (f & NATSIM_TCP_ACK))
        b->tcp = TCP_SYN_RECV;
      break;
    case TCP_SYN_RECV:
      if (out && !(f & NATSIM_TCP_SYN) && (f & NATSIM_TCP_ACK))
        b->tcp = TCP_ESTABLISHED;
      break;
    default:
      break;
    }
}

/* The binding dies: it leaves the reply table and its port, and stays as a
 * tombstone in the flow table for cfg.tombstone. */
static void
binding_expire (NatsimNat *nat, uint32_t idx)
{
  Binding *b = binding (nat, idx);
  uint32_t e_idx = b->inside;

  g_assert (b->status == B_ALIVE);
  nat_table_del (&nat->replies, key_endpoint (b->proto, b->addr_idx, b->ext_port),
                 key_remote (b->rem_addr, b->rem_port));
  nat->live--;
  emit (nat, NATSIM_NAT_EV_BINDING_EXPIRED, b, false, false);
  port_unref (nat, b);
  b = binding (nat, idx);
  b->status = B_DEAD;
  b->died = nat->now;
  b->generation++;
  list_remove (nat, &inside (nat, e_idx)->alive, idx);
  list_push (nat, &inside (nat, e_idx)->dead, idx);
  b->expiry = natsim_time_add (nat->now, nat->cfg.tombstone);
  if (nat->cfg.tombstone == 0)
    {
      inside_detach (nat, idx, false);
      nat_table_del (&nat->flows, key_endpoint (b->proto, b->in_addr, b->in_port),
                     key_remote (b->rem_addr, b->rem_port));
      binding_release (nat, idx);
      return;
    }
  timer_arm (nat, idx, b->expiry);
}

/* A tombstone is forgotten. */
static void
tombstone_forget (NatsimNat *nat, uint32_t idx)
{
  Binding *b = binding (nat, idx);

  inside_detach (nat, idx, false);
  b = binding (nat, idx);
  /* The flow may have a new binding by now; only drop our own entry. */
  if (nat_table_get (&nat->flows, key_endpoint (b->proto, b->in_addr, b->in_port),
                     key_remote (b->rem_addr, b->rem_port)) == idx)
    nat_table_del (&nat->flows, key_endpoint (b->proto, b->in_addr, b->in_port),
                   key_remote (b->rem_addr, b->rem_port));
  binding_release (nat, idx);
}

static void
held_expire (NatsimNat *nat, uint32_t idx)
{
  Binding *b = binding (nat, idx);

  nat_table_del (&nat->replies, key_endpoint (b->proto, b->addr_idx, b->ext_port),
                 key_remote (b->rem_addr, b->rem_port));
  port_unref (nat, b);
  binding_release (nat, idx);
}

void
natsim_nat_advance (NatsimNat *nat, NatsimTime now)
{
  NatsimEvent ev;

  g_return_if_fail (now >= nat->now);
  while (natsim_eventq_peek_time (nat->timers) <= now)
    {
      Binding *b;
      natsim_eventq_pop (nat->timers, &ev);
      b = binding (nat, (uint32_t) ev.data);
      if (b->generation != ev.aux || b->timer_at != ev.time)
        continue; /* stale */
      nat->now = ev.time;
      if (b->expiry > ev.time)
        {
          timer_arm (nat, (uint32_t) ev.data, b->expiry);
          continue;
        }
      switch (b->status)
        {
        case B_ALIVE: binding_expire (nat, (uint32_t) ev.data); break;
        case B_DEAD:
        case B_FAILED: tombstone_forget (nat, (uint32_t) ev.data); break;
        case B_HELD: held_expire (nat, (uint32_t) ev.data); break;
        default: break;
        }
    }
  nat->now = now;
}

/* ---------- packets ---------- */

static void
refresh (NatsimNat *nat, uint32_t idx, const NatsimPacket *pkt)
{
  Binding *b = binding (nat, idx);
  bool out = pkt->dir == NATSIM_DIR_OUT;

  if (b->proto == NATSIM_PROTO_TCP)
    tcp_track (b, pkt);
  /* RFC 4787 REQ-6: outbound refresh MUST, inbound MAY. */
  if (out || nat->cfg.refresh == NATSIM_REFRESH_BOTH)
    set_expiry (nat, idx, natsim_time_add (nat->now, timeout_for (nat, b)));
  if (!out)
    b->replied = 1;
}

static uint32_t
binding_create (NatsimNat *nat, const NatsimPacket *pkt, uint32_t in_addr,
                uint16_t in_port, uint32_t rem_addr, uint16_t rem_port,
                uint32_t addr_idx, uint16_t ext_port, bool rebinding, bool inbound)
{
  uint32_t idx = binding_alloc (nat);
  uint32_t e_idx = inside_get (nat, pkt->proto, in_addr, in_port, true);
  Binding *b = binding (nat, idx);

  b->in_addr = in_addr;
  b->in_port = in_port;
  b->rem_addr = rem_addr;
  b->rem_port = rem_port;
  b->proto = pkt->proto;
  b->status = B_ALIVE;
  b->cls = pkt->cls;
  b->endpoint = pkt->endpoint;
  b->addr_idx = addr_idx;
  b->ext_port = ext_port;
  b->created = nat->now;
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
  list_push (nat, &inside (nat, e_idx)->alive, idx);
  inside (nat, e_idx)->n++;
  nat_table_put (&nat->flows, key_endpoint (b->proto, in_addr, in_port),
                 key_remote (rem_addr, rem_port), idx);
  nat_table_put (&nat->replies, key_endpoint (b->proto, addr_idx, ext_port),
                 key_remote (rem_addr, rem_port), idx);
  port_ref (nat, b);
  nat->live++;
  b = binding (nat, idx);
  b->expiry = natsim_time_add (nat->now, timeout_for (nat, b));
  b->timer_at = NATSIM_TIME_INFINITY;
  timer_arm (nat, idx, b->expiry);
  emit (nat, NATSIM_NAT_EV_BINDING_CREATED, b, rebinding, inbound);
  if (inbound)
    b->replied = 1;
  return idx;
}

/* Removes a tombstone that a new binding of the same flow replaces. */
static void
tombstone_replace (NatsimNat *nat, uint32_t idx)
{
  inside_detach (nat, idx, false);
  binding_release (nat, idx);
}

static NatsimVerdict
process_out (NatsimNat *nat, const NatsimPacket *pkt, NatsimNatResult *res)
{
  uint64_t k1 = key_endpoint (pkt->proto, pkt->src_addr, pkt->src_port);
  uint64_t k2 = key_remote (pkt->dst_addr, pkt->dst_port);
  uint32_t idx = nat_table_get (&nat->flows, k1, k2);
  bool rebinding = false;
  uint32_t addr_idx = NONE, e_idx, old_addr = NONE;
  uint16_t port = 0, old_port = 0;
  NatsimTime old_died = 0;

  if (idx != NAT_TABLE_NONE && binding (nat, idx)->status == B_ALIVE)
    {
      Binding *b = binding (nat, idx);
      refresh (nat, idx, pkt);
      res->ext_addr = nat->cfg.addresses[b->addr_idx];
      res->ext_port = b->ext_port;
      return NATSIM_VERDICT_FORWARDED;
    }
  if (idx != NAT_TABLE_NONE)
    {
      /* A tombstone: the flow had a binding if it knows its external
       * endpoint (a FAILED tombstone inherits the one before it). */
      Binding *t = binding (nat, idx);
      rebinding = t->addr_idx != NONE;
      old_addr = t->addr_idx;
      old_port = t->ext_port;
      old_died = t->died;
      tombstone_replace (nat, idx);
      nat_table_del (&nat->flows, k1, k2);
    }

  e_idx = inside_get (nat, pkt->proto, pkt->src_addr, pkt->src_port, false);
  if (!allocate (nat, pkt, e_idx, &addr_idx, &port))
    {
      /* RFC 6888 REQ-5: never evict; the packet is dropped.  Conntrack
       * keeps no state, but the flow is remembered (FAILED) so that a
       * reply to it is classified as a binding loss. */
      uint32_t t = binding_alloc (nat);
      Binding *b = binding (nat, t);
      emit_packet (nat, NATSIM_NAT_EV_ALLOC_FAILED, pkt, addr_idx);
      if (nat->cfg.tombstone > 0)
        {
          uint32_t e = inside_get (nat, pkt->proto, pkt->src_addr, pkt->src_port, true);
          b = binding (nat, t);
          b->in_addr = pkt->src_addr;
          b->in_port = pkt->src_port;
          b->rem_addr = pkt->dst_addr;
          b->rem_port = pkt->dst_port;
          b->proto = pkt->proto;
          b->cls = pkt->cls;
          b->endpoint = pkt->endpoint;
          b->status = B_FAILED;
          b->died = old_died;
          /* The remote still knows the flow by its last external endpoint
           * (Linux: further datagrams to it keep holding that port). */
          b->addr_idx = old_addr;
          b->ext_port = old_port;
          b->inside = e;
          list_push (nat, &inside (nat, e)->dead, t);
          inside (nat, e)->n++;
          nat_table_put (&nat->flows, k1, k2, t);
          b->expiry = natsim_time_add (nat->now, nat->cfg.tombstone);
          timer_arm (nat, t, b->expiry);
        }
      else
        binding_release (nat, t);
      return NATSIM_VERDICT_ALLOC_FAILED;
    }

  idx = binding_create (nat, pkt, pkt->src_addr, pkt->src_port, pkt->dst_addr,
                        pkt->dst_port, addr_idx, port, rebinding, false);
  res->new_binding = true;
  res->rebinding = rebinding;
  res->ext_addr = nat->cfg.addresses[addr_idx];
  res->ext_port = port;
  return NATSIM_VERDICT_FORWARDED;
}

/* Does the filtering rule let (rem_addr, rem_port) reach binding @c's
 * external endpoint? */
static bool
filter_accepts (const NatsimNat *nat, const Binding *c, uint32_t rem_addr, uint16_t rem_port)
{
  switch (nat->cfg.filtering)
    {
    case NATSIM_FILTER_EIF: return true;
    case NATSIM_FILTER_ADF: return c->rem_addr == rem_addr;
    default: return c->rem_addr == rem_addr && c->rem_port == rem_port;
    }
}

static NatsimVerdict
process_in (NatsimNat *nat, const NatsimPacket *pkt, NatsimNatResult *res)
{
  uint32_t in_addr = pkt->dst_addr, rem_addr = pkt->src_addr;
  uint16_t in_port = pkt->dst_port, rem_port = pkt->src_port;
  uint64_t k1 = key_endpoint (pkt->proto, in_addr, in_port);
  uint64_t k2 = key_remote (rem_addr, rem_port);
  uint32_t idx = nat_table_get (&nat->flows, k1, k2);
  uint32_t e_idx;
  Binding *b;

  if (idx != NAT_TABLE_NONE && binding (nat, idx)->status == B_ALIVE)
    {
      b = binding (nat, idx);
      refresh (nat, idx, pkt);
      res->ext_addr = nat->cfg.addresses[b->addr_idx];
      res->ext_port = b->ext_port;
      return NATSIM_VERDICT_FORWARDED;
    }

  e_idx = inside_get (nat, pkt->proto, in_addr, in_port, false);
  if (e_idx != NONE && inside (nat, e_idx)->alive != NONE)
    {
      /* Another binding of this inside endpoint is alive: the filtering
       * rule decides (RFC 4787 REQ-8). */
      for (uint32_t i = inside (nat, e_idx)->alive; i != NONE; i = binding (nat, i)->next)
        {
          Binding *c = binding (nat, i);
          if (!filter_accepts (nat, c, rem_addr, rem_port))
            continue;
          if (nat_table_get (&nat->replies, key_endpoint (c->proto, c->addr_idx, c->ext_port),
                             k2) != NAT_TABLE_NONE)
            continue; /* that 5-tuple belongs to someone else */
          {
            uint32_t a = c->addr_idx;
            uint16_t p = c->ext_port;
            if (idx != NAT_TABLE_NONE)
              {
                tombstone_replace (nat, idx);
                nat_table_del (&nat->flows, k1, k2);
              }
            idx = binding_create (nat, pkt, in_addr, in_port, rem_addr, rem_port, a, p,
                                  false, true);
            res->new_binding = true;
            res->ext_addr = nat->cfg.addresses[a];
            res->ext_port = p;
            return NATSIM_VERDICT_FORWARDED;
          }
        }
      emit_packet (nat, NATSIM_NAT_EV_FILTERED, pkt, NONE);
      return NATSIM_VERDICT_FILTERED;
    }

  /* No live mapping.  Did one exist that would have accepted this packet? */
  if (e_idx != NONE)
    {
      uint32_t match = NONE;
      if (idx != NAT_TABLE_NONE)
        match = idx;
      else
        for (uint32_t i = inside (nat, e_idx)->dead; i != NONE; i = binding (nat, i)->next)
          if (filter_accepts (nat, binding (nat, i), rem_addr, rem_port))
            {
              match = i;
              break;
            }
      if (match != NONE)
        {
          b = binding (nat, match);
          emit_packet (nat, NATSIM_NAT_EV_BINDING_LOST, pkt, b->addr_idx);
          if (nat->cfg.unsolicited_hold && b->addr_idx != NONE && pkt->proto == NATSIM_PROTO_UDP &&
              nat->cfg.port_reuse == NATSIM_REUSE_PER_DESTINATION)
            {
              /* Linux: the datagram becomes an unsolicited conntrack entry
               * (remote -> public ip:port) holding that port toward this
               * remote for the UDP timeout, refreshed by each further one. */
              uint64_t rk1 = key_endpoint (pkt->proto, b->addr_idx, b->ext_port);
              uint32_t h = nat_table_get (&nat->replies, rk1, k2);
              if (h == NAT_TABLE_NONE)
                {
                  uint32_t addr_idx = b->addr_idx;
                  uint16_t ext_port = b->ext_port;
                  h = binding_alloc (nat);
                  b = binding (nat, h);
                  b->proto = pkt->proto;
                  b->status = B_HELD;
                  b->addr_idx = addr_idx;
                  b->ext_port = ext_port;
                  b->rem_addr = rem_addr;
                  b->rem_port = rem_port;
                  b->cls = pkt->cls;
                  b->created = nat->now;
                  nat_table_put (&nat->replies, rk1, k2, h);
                  port_ref (nat, b);
                  b = binding (nat, h);
                  b->expiry = natsim_time_add (nat->now, nat->cfg.udp_timeout);
                  b->timer_at = NATSIM_TIME_INFINITY;
                  timer_arm (nat, h, b->expiry);
                }
              else if (binding (nat, h)->status == B_HELD)
                set_expiry (nat, h, natsim_time_add (nat->now, nat->cfg.udp_timeout));
            }
          return NATSIM_VERDICT_BINDING_LOST;
        }
    }
  emit_packet (nat, NATSIM_NAT_EV_UNSOLICITED, pkt, NONE);
  return NATSIM_VERDICT_UNSOLICITED;
}

NatsimVerdict
natsim_nat_process (NatsimNat *nat, const NatsimPacket *pkt, NatsimNatResult *ret)
{
  NatsimNatResult res = { 0 };

  natsim_nat_advance (nat, pkt->time);
  if (pkt->dir == NATSIM_DIR_OUT)
    res.verdict = process_out (nat, pkt, &res);
  else
    res.verdict = process_in (nat, pkt, &res);
  if (ret != NULL)
    *ret = res;
  return res.verdict;
}

/* ---------- lifecycle and gauges ---------- */

NatsimNat *
natsim_nat_new (const NatsimNatConfig *cfg, gsl_rng *rng)
{
  NatsimNat *nat;

  g_return_val_if_fail (cfg != NULL, NULL);
  g_return_val_if_fail (cfg->n_addresses > 0 && cfg->n_addresses <= NATSIM_NAT_MAX_ADDRESSES, NULL);
  g_return_val_if_fail (cfg->port_lo >= 1 && cfg->port_lo <= cfg->port_hi, NULL);

  nat = g_new0 (NatsimNat, 1);
  nat->cfg = *cfg;
  nat->cfg.addresses = g_memdup2 (cfg->addresses, sizeof (uint32_t) * cfg->n_addresses);
  if (nat->cfg.blocks_per_subscriber == 0)
    nat->cfg.blocks_per_subscriber = 1;
  nat->rng = rng;
  nat->range = (uint32_t) cfg->port_hi - cfg->port_lo + 1;
  nat->bindings = g_array_new (FALSE, FALSE, sizeof (Binding));
  nat->free_binding = NONE;
  nat->insides = g_array_new (FALSE, FALSE, sizeof (InsideEntry));
  nat->free_insides = g_array_new (FALSE, FALSE, sizeof (uint32_t));
  nat->subscribers = g_array_new (FALSE, FALSE, sizeof (Subscriber));
  nat->free_subscribers = g_array_new (FALSE, FALSE, sizeof (uint32_t));
  nat_table_init (&nat->flows);
  nat_table_init (&nat->replies);
  nat_table_init (&nat->inside_index);
  nat_table_init (&nat->subscriber_index);
  nat->addrs = g_new0 (AddressState, cfg->n_addresses);
  if (cfg->ports_per_subscriber > 0)
    {
      nat->n_blocks = nat->range / cfg->ports_per_subscriber;
      for (guint i = 0; i < cfg->n_addresses; i++)
        {
          nat->addrs[i].block_owner = g_new0 (uint32_t, nat->n_blocks);
          nat->addrs[i].block_used = g_new0 (uint32_t, nat->n_blocks);
          nat->addrs[i].free_blocks = nat->n_blocks;
        }
    }
  for (guint i = 0; i < cfg->n_addresses; i++)
    for (int p = 0; p < N_PROTO_IDX; p++)
      nat->addrs[i].last_alloc[p] = nat->range - 1;
  nat->timers = natsim_eventq_new ();
  return nat;
}

void
natsim_nat_free (NatsimNat *nat)
{
  if (nat == NULL)
    return;
  for (guint i = 0; i < nat->cfg.n_addresses; i++)
    {
      for (int p = 0; p < N_PROTO_IDX; p++)
        g_free (nat->addrs[i].ports[p]);
      g_free (nat->addrs[i].block_owner);
      g_free (nat->addrs[i].block_used);
    }
  for (guint i = 0; i < nat->subscribers->len; i++)
    g_free (g_array_index (nat->subscribers, Subscriber, i).blocks);
  g_free (nat->addrs);
  g_array_unref (nat->bindings);
  g_array_unref (nat->insides);
  g_array_unref (nat->free_insides);
  g_array_unref (nat->subscribers);
  g_array_unref (nat->free_subscribers);
  nat_table_clear (&nat->flows);
  nat_table_clear (&nat->replies);
  nat_table_clear (&nat->inside_index);
  nat_table_clear (&nat->subscriber_index);
  natsim_eventq_free (nat->timers);
  g_free (nat->cfg.addresses);
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

bool
natsim_nat_binding_alive (const NatsimNat *nat, uint8_t proto, uint32_t in_addr,
                          uint16_t in_port, uint32_t rem_addr, uint16_t rem_port)
{
  uint32_t idx = nat_table_get (&nat->flows, key_endpoint (proto, in_addr, in_port),
                                key_remote (rem_addr, rem_port));

  return idx != NAT_TABLE_NONE &&
         g_array_index (nat->bindings, Binding, idx).status == B_ALIVE &&
         g_array_index (nat->bindings, Binding, idx).expiry > nat->now;
}

bool
natsim_nat_flow_state (const NatsimNat *nat, uint8_t proto, uint32_t in_addr,
                       uint16_t in_port, uint32_t rem_addr, uint16_t rem_port,
                       NatsimFlowState *ret)
{
  uint32_t idx = nat_table_get (&nat->flows, key_endpoint (proto, in_addr, in_port),
                                key_remote (rem_addr, rem_port));
  const Binding *b;
  NatsimFlowState st = { 0 };

  if (idx == NAT_TABLE_NONE)
    {
      *ret = st;
      return false;
    }
  b = &g_array_index (nat->bindings, Binding, idx);
  st.known = true;
  st.alive = b->status == B_ALIVE && b->expiry > nat->now;
  if (b->status == B_ALIVE)
    st.expiry = b->expiry;
  else
    st.died = b->died;
  if (b->status == B_ALIVE && !st.alive)
    st.died = b->expiry; /* dead at this instant, timer not yet run */
  if (b->addr_idx != NONE)
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
