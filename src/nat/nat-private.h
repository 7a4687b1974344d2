/* natsim: NAT engine internals. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An open-addressing hash table from a key (two 64-bit words) to a 32-bit
 * value, Robin Hood linear probing with backward-shift deletion (no
 * tombstones, so lookups stay short under churn).  A slot is 8 bytes: the
 * value (an index into a record array) and the key's 32-bit hash; the key
 * itself is not stored but compared against the record (the eq callback),
 * which is read only when the hashes match.  The capacity grows by half
 * at 4/5 load, or by an eighth at 9/10 for a dense table (nat-table.c): amortised O(1), and no allocation at all
 * once the table has reached the working set of the run.  Chosen over
 * GHashTable because it has no per-entry allocation and 8 bytes per slot. */
typedef struct
{
  uint32_t value; /* NAT_TABLE_NONE: empty */
  uint32_t hash;
} NatTableSlot;

/* Does the record behind @value have the key (k1, k2)? */
typedef bool (*NatTableEq) (const void *ctx, uint32_t value, uint64_t k1, uint64_t k2);

typedef struct
{
  NatTableSlot *slots;
  uint32_t      cap;
  uint32_t      count;
  bool          dense;   /* grows at 9/10 by an eighth, else at 4/5 by half */
  NatTableEq    eq;
  const void   *ctx;
} NatTable;

#define NAT_TABLE_NONE UINT32_MAX

void     nat_table_init (NatTable *t, NatTableEq eq, const void *ctx);
/* The same for an index with an entry per binding (nat-table.c). */
void     nat_table_init_dense (NatTable *t, NatTableEq eq, const void *ctx);
void     nat_table_clear (NatTable *t);
/* The value for the key, or NAT_TABLE_NONE. */
uint32_t nat_table_get (const NatTable *t, uint64_t k1, uint64_t k2);
/* Inserts or replaces (the record of a replaced value must still have the
 * key). */
void     nat_table_put (NatTable *t, uint64_t k1, uint64_t k2, uint32_t value);
/* The same in one probe, returning the value replaced or NAT_TABLE_NONE. */
uint32_t nat_table_swap (NatTable *t, uint64_t k1, uint64_t k2, uint32_t value);
/* Removes the key if present (its record must still have the key). */
void     nat_table_del (NatTable *t, uint64_t k1, uint64_t k2);
/* The same, returning the value removed or NAT_TABLE_NONE. */
uint32_t nat_table_take (NatTable *t, uint64_t k1, uint64_t k2);
/* Bytes allocated for the slots. */
size_t   nat_table_bytes (const NatTable *t);
/* @bytes for a large array probed at random (table slots): from 2 MiB
 * on, a 2 MiB-aligned mapping in huge pages; freed with nat_free_large()
 * and the same size. */
void    *nat_alloc_large (size_t bytes);
void     nat_free_large (void *p, size_t bytes);
/* The slot where a probe for the key begins (its home). */
uint32_t nat_table_home (const NatTable *t, uint64_t k1, uint64_t k2);
/* Hints (nat-prefetch.c), reading no record: start loading the slot where
 * a lookup of the key begins; the value of the first slot of the key's
 * probe run whose hash matches the key's (the likely value, to load its
 * record early), or NAT_TABLE_NONE. */
void     nat_table_prefetch (const NatTable *t, uint64_t k1, uint64_t k2);
uint32_t nat_table_candidate (const NatTable *t, uint64_t k1, uint64_t k2);

/* Entries kept aside for a few binding records, by record number:
 * fast-forwarded trains (nat-lease.c) and, with short UDP timeouts, young
 * bindings' creation times (nat-timers.c).  An entry is @size bytes and
 * begins with its record number (uint32_t); free entries are a list
 * through that word.  The NatTable's key is the record number. */
typedef struct
{
  NatTable index;   /* record number -> entry */
  GArray  *entries;
  uint32_t free;
} NatSide;

void   nat_side_init (NatSide *s, guint size);
void   nat_side_clear (NatSide *s);
size_t nat_side_bytes (const NatSide *s);
/* The record's entry, or NULL. */
void  *nat_side_get (const NatSide *s, uint32_t idx);
/* A new entry for a record that has none (its other bytes undefined). */
void  *nat_side_add (NatSide *s, uint32_t idx);
/* Removes the record's entry, which it must have. */
void   nat_side_del (NatSide *s, uint32_t idx);

/* ---------- engine state (shared by the nat-*.c files) ---------- */

#include <glib.h>

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

/* A UDP record's tcp field (unused by UDP otherwise): its flow is being
 * fast-forwarded (nat-lease.c); until the train's last exchange, its
 * expiry is that exchange's, and the train is in the lease index. */
#define UDP_LEASED 1u

/* A fast-forwarded train on a binding (nat-lease.c), a NatSide entry. */
typedef struct
{
  uint32_t   idx;        /* the binding */
  NatsimTime pre_expiry; /* the binding's expiry when the train was taken */
  NatsimTime next, gap, last;
} Lease;

/* A young binding's creation time, aside (NatsimNat.young_aside). */
typedef struct
{
  uint32_t   idx;
  NatsimTime created;
} YoungEntry;

#define NONE UINT32_MAX

/* A binding record: 48 bytes (docs/performance.md "Memory").  Times stay
 * 64-bit nanoseconds because the engine compares them exactly (packet
 * times are arbitrary nanoseconds and timeouts reach 30 days); a record
 * needs three of them (expiry, its pending timer, when it was created or
 * died) but holds two, as no state needs all three at once:
 * - DEAD, FAILED: expiry is when the tombstone is forgotten and its timer
 *   is due then; @at is when the binding died.
 * - ALIVE, HELD: @at is the pending timer.  The creation time matters
 *   only for Linux's 2 s rule on UDP (nf_conntrack_proto_udp.c, the stream
 *   timeout needs an entry more than 2 s old), so a UDP binding is
 *   created @young: @at holds its creation time and its first timer is
 *   due at @at + udp_timeout, where it was armed.  The first time its
 *   timer moves (nat-timers.c), it is old for good, and @at becomes the
 *   timer.  Only when udp_timeout is 2 s or less can the first timer come
 *   while the binding is young; then (nat->young_aside) @at is the timer
 *   from the start and a young binding's creation time is kept aside.
 * A timer entry carries its record's generation, bumped on every status
 * change (through the record's reuses): an entry is current when its
 * generation and its time are the record's (natsim_nat_advance), so an
 * entry left behind by an earlier use or status (a tombstone replaced by a
 * new binding leaves its own) never runs, and of a binding's entries due
 * at one instant (lazy timers push a new entry when an expiry moves
 * earlier) the first runs it.
 *
 * A flow's record is found from its inside endpoint: the inside index
 * gives the endpoint's list (nat-binding.c), and the flow is the listed
 * record with its remote (at most one is: a new binding of a flow
 * replaces its tombstone).  The list is linked one way: a record leaves
 * it by a walk from the head.  An endpoint with more than
 * ENDPOINT_LIST_MAX listed records is crowded: until its list is empty,
 * its records are in the flow table too and their predecessors are kept
 * aside (PrevEntry), so neither a lookup nor a removal walks a long
 * list. */
typedef struct
{
  uint32_t   in_addr, rem_addr;
  uint16_t   in_port, rem_port;
  uint16_t   ext_port;
  uint16_t   addr_idx;   /* NO_ADDR when none */
  uint16_t   cls;
  uint16_t   pidx : 2;   /* protocol: PROTO_IDX_* (b_proto()) */
  uint16_t   status : 3; /* BindingStatus */
  uint16_t   tcp : 3;    /* TcpState */
  uint16_t   replied : 1;
  uint16_t   listed : 1; /* in its inside endpoint's list (ALIVE, DEAD, FAILED) */
  uint16_t   young : 1;  /* UDP ALIVE: the creation time still counts (above) */
  uint16_t   crowded : 1;/* listed, and its endpoint's flows are in the flow table */
  uint16_t   spare : 4;
  uint32_t   gen;        /* its generation, for its timer entries (above) */
  uint32_t   next;       /* the next in its inside endpoint's list; the free list */
  uint32_t   pnext;      /* 1 + next binding on the same external port (ALIVE, HELD), 0 = end */
  NatsimTime expiry;     /* ALIVE/HELD: idle expiry; DEAD/FAILED: forget time */
  NatsimTime at;         /* ALIVE/HELD: the pending timer (young: created); DEAD/FAILED: died */
} Binding;

G_STATIC_ASSERT (sizeof (Binding) == 48);

/* The predecessor of a crowded endpoint's record in its list (Binding),
 * a NatSide entry. */
typedef struct
{
  uint32_t idx;
  uint32_t prev; /* NONE: the head */
} PrevEntry;

#define NO_ADDR UINT16_MAX

/* A port's bindings are a list while they are few (a walk of at most
 * PORT_LIST_MAX records); past that, until the port is free again, the
 * replies table indexes them (per-destination reuse with many remotes on
 * one port, e.g. a preserved port every host uses). */
#define PORT_LIST_MAX 16u
/* The same for an inside endpoint's list, which a flow lookup walks. */
#define ENDPOINT_LIST_MAX 8u
#define PORT_CROWDED  UINT32_C (0x80000000)

/* addr_idx of a record as the engine's uint32 address index (NONE if none). */
static inline uint32_t
b_addr (const Binding *b)
{
  return b->addr_idx == NO_ADDR ? UINT32_MAX : b->addr_idx;
}

/* The flow a binding belongs to, in inside addressing. */
typedef struct
{
  uint32_t in_addr, rem_addr;
  uint16_t in_port, rem_port;
  uint8_t  proto;
  uint16_t cls;
} NatFlow;

/* Per external port: 10 bytes (packed), in pages of PORT_PAGE ports per
 * address and protocol, a page allocated when one of its ports is first
 * written (a port gets a binding): a carrier run uses a few thousand of
 * an address's 64,512 ports, and whole arrays for 512 addresses were most
 * of its memory.  An absent page reads as ports never used (all zero).
 * Pages are never freed: a free port keeps its last owner (inbound
 * routing to it, RFC 6888 REQ-8's same-owner exception), so an empty
 * page is not the same as an absent one.  The port is in use while it
 * has ALIVE or HELD bindings: head != 0. */
typedef struct __attribute__ ((packed))
{
  uint32_t   head;       /* 0: none; below PORT_CROWDED: 1 + the first of the
                          * port's bindings (a list through pnext); PORT_CROWDED
                          * | n: n bindings, indexed by the replies table */
  uint32_t   owner_addr; /* inside endpoint that last held it */
  uint16_t   owner_port;
} PortState;

G_STATIC_ASSERT (sizeof (PortState) == 10);

/* 8 ports a page (80 bytes): the ports a busy hour uses are spread over
 * the range (a phone's source port, preserved, is random), so large pages
 * are almost all touched; measured in docs/performance.md "Memory". */
#define PORT_PAGE_SHIFT 3u
#define PORT_PAGE       (1u << PORT_PAGE_SHIFT)

typedef struct
{
  uint32_t  in_addr;
  uint32_t  addr_idx;
  uint32_t  n_blocks;
  uint32_t *blocks; /* block indices, into the pool's block array */
  uint32_t  active; /* the block new ports come from (block_timeout > 0), or NONE */
  NatsimTime active_since;
} Subscriber;

/* An inside host's address under paired pooling with a selection other
 * than hash (RFC 4787 REQ-2: kept while the host has a live binding). */
typedef struct
{
  uint32_t in_addr;
  uint32_t addr_idx;
  uint64_t n;       /* live bindings */
} Host;

enum { PROTO_IDX_UDP, PROTO_IDX_TCP, PROTO_IDX_ICMP, N_PROTO_IDX };

typedef struct
{
  PortState **ports[N_PROTO_IDX];    /* page table [n_port_pages] of pages
                                      * [PORT_PAGE], each lazily */
  NatsimTime **released[N_PROTO_IDX];/* quarantine > 0: when each port was last
                                      * freed, pages as ports (absent = never) */
  uint32_t   in_use[N_PROTO_IDX];    /* ports in use (head != 0) */
  uint32_t   last_alloc[N_PROTO_IDX];/* offset of the last allocated port */
  /* port blocks (ports_per_subscriber > 0) */
  uint32_t  *block_owner;            /* subscriber index + 1, 0 = free */
  uint32_t  *block_used;             /* ports in use in the block (all protocols) */
  uint32_t   next_block;             /* where the next free-block search starts */
  uint32_t   free_blocks;
  NatsimTime *block_free_at;         /* quarantine > 0: when an empty block returns */
  uint32_t   tried;                  /* selection stamp (nat->select_stamp when tried) */
  uint32_t   n_forwards;             /* static forwards on this address */
} AddressState;

/* Entries of the engine's private queue (direct payload a, b): a binding's
 * idle timer (a = binding, b = its generation) or, with TIMER_BLOCK_BIT
 * in a, a port block's quarantine (a = address | bit, b = block). */
#define TIMER_BLOCK_BIT UINT32_C (0x80000000)

struct NatsimNat
{
  NatsimNatConfig   cfg;
  gsl_rng          *rng;
  uint32_t          range;       /* ports in the range */
  uint32_t          n_port_pages;/* pages of PORT_PAGE ports covering the range */
  uint64_t          port_pages;  /* PortState pages allocated, all addresses */
  uint64_t          released_pages; /* ... and quarantine pages */
  /* Pages are cut from pool blocks (no allocator header per 80-byte page;
   * pages are never freed one by one). */
  GPtrArray        *page_pool;
  uint8_t          *pool_next;
  gsize             pool_left, pool_bytes;
  uint32_t          n_blocks;    /* blocks per address */

  /* Binding records in chunks of BINDING_CHUNK, never moved (pointers to
   * records stay valid while others are allocated), so the capacity is
   * within one chunk of the records ever needed at once. */
  Binding         **chunks;
  uint32_t          n_chunks, chunks_cap;
  uint32_t          n_bindings;  /* records handed out (live, tombstones, free) */
  uint32_t          n_free;      /* ... of which on the free list */
  uint32_t          free_binding;
  NatSide           leases;      /* fast-forwarded trains (nat-lease.c): Lease */
  /* udp_timeout <= 2 s: a young binding's timer is its own and its
   * creation time is aside (Binding): YoungEntry. */
  bool              young_aside;
  NatSide           young;
  NatSide           prevs;       /* PrevEntry */
  GArray           *subscribers; /* Subscriber */
  GArray           *free_subscribers;
  /* inside_index: (proto, inside ip:port) -> the first binding of that
   * endpoint's list; flows: (proto, inside ip:port, remote ip:port) ->
   * binding, for crowded endpoints only (Binding); subscriber_index:
   * inside address -> Subscriber. */
  NatTable          flows, inside_index, subscriber_index;
  /* replies: (proto, address index, external port, remote ip:port) ->
   * binding, for the bindings of crowded ports only (PORT_LIST_MAX). */
  NatTable          replies;
  AddressState     *addrs;
  bool              pba;         /* dynamic port blocks (ports_per_subscriber > 0) */
  uint32_t          block_size;  /* ports per block or deterministic range, 0 = none */

  /* address selection (nat-select.c) */
  uint32_t          rr_next;     /* round-robin: the next address in turn */
  uint32_t          select_stamp;
  bool              track_hosts; /* paired pooling without hash: hosts table */
  GArray           *hosts;       /* Host */
  GArray           *free_hosts;  /* uint32_t */
  NatTable          host_index;

  /* deterministic NAT (RFC 7422) */
  uint32_t          det_per_address;

  NatsimEventQueue *timers;
  NatsimTime        now;
  guint64           live;        /* ALIVE bindings */

  NatsimNatObserver observer;
  void             *observer_data;

  /* hairpinning and static forwards (nat-public.c) */
  uint32_t          pub_min, pub_max; /* bounds of the pool, a quick "not ours" */
  uint32_t         *fwd_addr_idx;     /* per forward: its address's index */
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

/* A record's protocol (it keeps the index: 2 bits). */
static inline uint8_t
b_proto (const Binding *b)
{
  static const uint8_t of_idx[N_PROTO_IDX] = { NATSIM_PROTO_UDP, NATSIM_PROTO_TCP,
                                               NATSIM_PROTO_ICMP };
  return of_idx[b->pidx];
}

/* When the record's pending timer is due (Binding). */
static inline NatsimTime
b_timer_at (const NatsimNat *nat, const Binding *b)
{
  if (b->status == B_DEAD || b->status == B_FAILED)
    return b->expiry;
  if (b->young && !nat->young_aside)
    return natsim_time_add (b->at, nat->cfg.udp_timeout);
  return b->at;
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

#define BINDING_CHUNK_BITS 12
#define BINDING_CHUNK (1u << BINDING_CHUNK_BITS)

static inline Binding *
binding_c (const NatsimNat *nat, uint32_t idx)
{
  return &nat->chunks[idx >> BINDING_CHUNK_BITS][idx & (BINDING_CHUNK - 1)];
}

static inline Binding *
binding (NatsimNat *nat, uint32_t idx)
{
  return binding_c (nat, idx);
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

/* nat.c: a zeroed page of @bytes from the pool. */
void *nat_port_page_new (NatsimNat *nat, gsize bytes);

/* The page of external (addr, port) for writing: allocated on first
 * touch (the page table too, on the address's first use, as the whole
 * array was before), so never on the steady-state packet path once the
 * ports in use have been used before. */
static inline PortState *
port_state (NatsimNat *nat, uint32_t addr_idx, uint8_t proto, uint16_t port)
{
  uint32_t off = (uint32_t) port - nat->cfg.port_lo;
  PortState ***table = &nat->addrs[addr_idx].ports[proto_idx (proto)];
  PortState **page;

  if (G_UNLIKELY (*table == NULL))
    *table = g_new0 (PortState *, nat->n_port_pages);
  page = &(*table)[off >> PORT_PAGE_SHIFT];
  if (G_UNLIKELY (*page == NULL))
    {
      *page = nat_port_page_new (nat, PORT_PAGE * sizeof (PortState));
      nat->port_pages++;
    }
  return &(*page)[off & (PORT_PAGE - 1)];
}

/* The state of external (addr, port) for reading: an absent page is
 * ports never used (no bindings, no owner). */
static inline const PortState *
port_state_c (const NatsimNat *nat, uint32_t addr_idx, uint8_t proto, uint16_t port)
{
  static const PortState unused;
  uint32_t off = (uint32_t) port - nat->cfg.port_lo;
  PortState *const *table = nat->addrs[addr_idx].ports[proto_idx (proto)];
  const PortState *page;

  if (table == NULL || (page = table[off >> PORT_PAGE_SHIFT]) == NULL)
    return &unused;
  return &page[off & (PORT_PAGE - 1)];
}

/* When external (addr, port) was last freed (quarantine > 0), 0 = never. */
static inline NatsimTime
port_released (const NatsimNat *nat, uint32_t addr_idx, uint8_t proto, uint16_t port)
{
  uint32_t off = (uint32_t) port - nat->cfg.port_lo;
  NatsimTime *const *table = nat->addrs[addr_idx].released[proto_idx (proto)];
  const NatsimTime *page;

  if (table == NULL || (page = table[off >> PORT_PAGE_SHIFT]) == NULL)
    return 0;
  return page[off & (PORT_PAGE - 1)];
}

static inline void
port_set_released (NatsimNat *nat, uint32_t addr_idx, uint8_t proto, uint16_t port, NatsimTime t)
{
  uint32_t off = (uint32_t) port - nat->cfg.port_lo;
  NatsimTime ***table = &nat->addrs[addr_idx].released[proto_idx (proto)];
  NatsimTime **page;

  if (*table == NULL)
    *table = g_new0 (NatsimTime *, nat->n_port_pages);
  page = &(*table)[off >> PORT_PAGE_SHIFT];
  if (*page == NULL)
    {
      *page = nat_port_page_new (nat, PORT_PAGE * sizeof (NatsimTime));
      nat->released_pages++;
    }
  (*page)[off & (PORT_PAGE - 1)] = t;
}

/* The flow of a packet, in inside addressing. */
static inline void
nat_flow_of_packet (const NatsimPacket *pkt, NatFlow *f)
{
  f->proto = pkt->proto;
  f->cls = pkt->cls;
  if (pkt->dir == NATSIM_DIR_OUT)
    {
      f->in_addr = pkt->src_addr, f->in_port = pkt->src_port;
      f->rem_addr = pkt->dst_addr, f->rem_port = pkt->dst_port;
    }
  else
    {
      f->in_addr = pkt->dst_addr, f->in_port = pkt->dst_port;
      f->rem_addr = pkt->src_addr, f->rem_port = pkt->src_port;
    }
}

/* nat-binding.c: binding records, their lists, events. */
void     nat_emit (NatsimNat *nat, NatsimNatEventType type, const Binding *b,
                   bool rebinding, bool inbound);
void     nat_emit_packet (NatsimNat *nat, NatsimNatEventType type,
                          const NatsimPacket *pkt, uint32_t addr_idx);
void     nat_emit_full (NatsimNat *nat, NatsimNatEventType type, const Binding *b,
                        bool rebinding, bool inbound, uint8_t cause, uint32_t from);
uint32_t nat_binding_alloc (NatsimNat *nat);
bool     nat_binding_eq_flow (const void *nat, uint32_t idx, uint64_t k1, uint64_t k2);

/* The flow's record (ALIVE or a tombstone), or NAT_TABLE_NONE (Binding). */
uint32_t nat_flow_lookup (const NatsimNat *nat, uint64_t k1, uint64_t k2);

/* The same; a caller's @hint (1 + a record number, NatsimPacket.hint) is
 * tried first: a live record with the flow's key is the one the lookup
 * finds (a flow gets a new record only when its old one is not alive),
 * so a hint that holds spares the lookup and one that does not changes
 * nothing. */
static inline uint32_t
nat_flow_find (const NatsimNat *nat, uint64_t k1, uint64_t k2, uint32_t hint)
{
  uint32_t idx = hint - 1;

  if (hint != 0 && (uint64_t) idx < (uint64_t) nat->n_chunks * BINDING_CHUNK
      && binding_c (nat, idx)->status == B_ALIVE && nat_binding_eq_flow (nat, idx, k1, k2))
    return idx;
  return nat_flow_lookup (nat, k1, k2);
}

/* Is the record's flow being fast-forwarded (nat-lease.c)? */
static inline bool
nat_leased (const Binding *b)
{
  return b->pidx != PROTO_IDX_TCP && b->tcp == UDP_LEASED;
}

/* nat-lease.c */
NatsimTime nat_lease_rearm (const NatsimNat *nat, uint32_t idx, NatsimTime t);
NatsimTime nat_lease_last (const NatsimNat *nat, uint32_t idx);
void       nat_lease_end (NatsimNat *nat, uint32_t idx);
bool     nat_binding_eq_inside (const void *nat, uint32_t idx, uint64_t k1, uint64_t k2);
bool     nat_binding_eq_reply (const void *nat, uint32_t idx, uint64_t k1, uint64_t k2);
void     nat_binding_init (NatsimNat *nat, Binding *b, BindingStatus status,
                           const NatFlow *f, uint32_t addr_idx, uint16_t ext_port);
void     nat_binding_release (NatsimNat *nat, uint32_t idx);
/* An inside endpoint's bindings form one list, newest first: a binding
 * enters at the head when created (ALIVE) or when it becomes a tombstone
 * (DEAD, FAILED), so the ALIVE ones in list order and the tombstones in
 * list order are each newest first.  nat_inside_head: the first, or NONE. */
uint32_t nat_inside_head (const NatsimNat *nat, uint8_t proto, uint32_t addr, uint16_t port);
bool     nat_inside_has_alive (NatsimNat *nat, uint32_t head);
void     nat_inside_push (NatsimNat *nat, uint32_t idx);
void     nat_inside_detach (NatsimNat *nat, uint32_t idx);
/* The external port's ALIVE or HELD binding toward the remote (the "is this
 * 5-tuple used" check, nf_nat_used_tuple), or NONE; add and remove keep
 * the port's list. */
uint32_t nat_reply_get (const NatsimNat *nat, uint8_t proto, uint32_t addr_idx,
                        uint16_t port, uint32_t rem_addr, uint16_t rem_port);
void     nat_reply_add (NatsimNat *nat, uint32_t idx);
void     nat_reply_del (NatsimNat *nat, uint32_t idx);
uint32_t nat_binding_create (NatsimNat *nat, const NatsimPacket *pkt,
                             const NatFlow *f, uint32_t addr_idx,
                             uint16_t ext_port, bool rebinding, bool inbound);
void     nat_tombstone_replace (NatsimNat *nat, uint32_t idx);

/* nat-blocks.c: port reference counts; nat-alloc.c: port choice. */
void     nat_port_ref (NatsimNat *nat, Binding *b);
void     nat_port_unref (NatsimNat *nat, Binding *b);
bool     nat_allocate (NatsimNat *nat, const NatsimPacket *pkt, uint32_t head,
                       uint32_t *ret_addr_idx, uint16_t *ret_port, uint8_t *ret_cause);

/* nat-public.c: public addresses and static forwards. */
uint32_t nat_public_index (const NatsimNat *nat, uint32_t addr);
uint32_t nat_forward_for_inside (const NatsimNat *nat, uint8_t proto, uint32_t in_addr,
                                 uint16_t in_port);
uint32_t nat_forward_for_public (NatsimNat *nat, uint8_t proto, uint32_t addr_idx,
                                 uint16_t port);
uint32_t nat_forward_at (const NatsimNat *nat, uint8_t proto, uint32_t addr_idx, uint16_t port);
void     nat_forwards_init (NatsimNat *nat);
void     nat_forwards_clear (NatsimNat *nat);

/* Does a host's binding on (@addr_idx, @port) count for paired pooling?
 * Not a static forward's: it is configuration, not a pool mapping, so it
 * neither pins the host's dynamic mappings to its address nor moves with
 * them (docs/nat-model.md, "Static port forwards"). */
static inline bool
nat_host_tracked (NatsimNat *nat, uint32_t addr_idx, uint8_t proto, uint16_t port)
{
  return nat->track_hosts &&
         (nat->cfg.n_forwards == 0 || nat_forward_at (nat, proto, addr_idx, port) == NONE);
}

/* nat-timers.c: idle timers, expiry, TCP tracking. */
void     nat_timer_start (NatsimNat *nat, uint32_t idx, NatsimTime expiry);
void     nat_set_expiry (NatsimNat *nat, uint32_t idx, NatsimTime expiry);
NatsimTime nat_timeout_for (const NatsimNat *nat, uint32_t idx);
/* Is binding @idx (ALIVE, UDP) more than 2 s old at @t? */
bool     nat_udp_old (const NatsimNat *nat, uint32_t idx, NatsimTime t);
void     nat_refresh (NatsimNat *nat, uint32_t idx, const NatsimPacket *pkt);

/* nat-select.c: which public address a new binding or block takes. */
typedef struct
{
  uint32_t pinned;   /* tried first (a mapping's or host's address), or NONE */
  bool     only;     /* nothing but the pinned address */
  bool     blocks;   /* least-loaded counts free blocks */
  uint8_t  proto;
  uint32_t hash_addr;
  uint32_t k;        /* addresses returned so far */
  uint32_t j;        /* position in the first-fit / round-robin order */
  uint32_t start;    /* round-robin start */
} AddrIter;

void     nat_select_begin (NatsimNat *nat, AddrIter *it, const NatsimPacket *pkt,
                           uint32_t pinned, bool only, bool blocks);
uint32_t nat_select_next (NatsimNat *nat, AddrIter *it);
void     nat_select_taken (NatsimNat *nat, AddrIter *it, uint32_t addr_idx);
void     nat_emit_fallback (NatsimNat *nat, const NatsimPacket *pkt, uint32_t from,
                            uint32_t to, uint16_t port);
Host    *nat_host_get (NatsimNat *nat, uint32_t in_addr);
void     nat_host_ref (NatsimNat *nat, uint32_t in_addr, uint32_t addr_idx, int delta);

/* nat-blocks.c: port blocks of subscribers (ports_per_subscriber > 0). */
Subscriber *nat_subscriber_find (NatsimNat *nat, uint32_t in_addr);
void     nat_block_timer (NatsimNat *nat, uint32_t addr_idx, uint32_t blk, NatsimTime at);
Subscriber *nat_subscriber_get (NatsimNat *nat, uint32_t in_addr, uint32_t addr_idx);
bool     nat_subscriber_take_block (NatsimNat *nat, Subscriber *s);
void     nat_subscriber_undo (NatsimNat *nat, Subscriber *sub, uint32_t n_blocks_before);
void     nat_subscriber_trim (NatsimNat *nat, Subscriber *sub, uint32_t n_blocks_before,
                              uint16_t port);
bool     nat_in_blocks (const NatsimNat *nat, const Subscriber *s, uint16_t port);
