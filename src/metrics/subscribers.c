/* natsim: the usage tracker: per subscriber ports, per destination load,
 * and idle gaps per flow, for the planner (natsim plan).
 *
 * Three views of one run, all over the statistics window [warmup, end):
 *
 * - Per subscriber (inside address): the external ports it holds at once.
 *   A port counts once per (protocol, public address, port) however many of
 *   the subscriber's bindings share it (EIM reuse, port overlapping toward
 *   different remotes), because that is what a per-subscriber port block
 *   (RFC 6888 REQ-4, RFC 7422) has to hold.  Ports are counted from binding
 *   events, not from PORT_ACQUIRED/RELEASED: with port overlapping two
 *   subscribers can share an external port toward different remotes, and
 *   the NAT reports only the first acquisition and the last release.
 * - Per remote endpoint: mapping attempts, bindings created and the time
 *   integral of live bindings, i.e. the offered load of the Erlang loss
 *   system each destination forms under port overlapping (Little's law:
 *   mean holding time = binding-seconds / bindings created).
 * - Per flow (5-tuple): the time since the flow's last refreshing packet at
 *   each later packet, by the timer that governed that gap.  With a reply
 *   window, only the gaps of flows that receive an unsolicited inbound
 *   packet (more than the window after their last outbound packet) count:
 *   a flow's gaps are held back until it first receives one, then counted,
 *   and left out (counted apart) when it ends without one.  A binding that
 *   lapses between two packets of a flow only costs something when a packet
 *   must come in through it after the lapse; replies to the flow's own
 *   requests follow an outbound packet, which recreates the binding.
 *
 * Subscribers and destinations are hash tables keyed by packed integers,
 * an entry allocated when one first appears (subscribers are looked up
 * through an open-addressing index beside theirs).  The two tables that change
 * with every binding or packet allocate nothing in steady state:
 * subscriber ports live in the subscriber's record (the first 14) and
 * beyond that in an open-addressing table of packed keys (a port comes
 * and goes with each binding), and flows in an open-addressing table
 * of (hash, record index) slots over records in fixed chunks, recycled
 * through a free list.  A flow's record is 80 bytes with its held-back
 * gaps inline as (histogram bin, kind) pairs and the longest one per kind
 * (what the figures need of them); only a flow with more than
 * FLOW_HELD_INLINE held-back gaps takes an overflow array, itself recycled.
 * (A busy CGN plan follows millions of short flows per run, all of them
 * alive for the whole run under a one-hour tombstone: a hash node and a
 * malloc per flow and per held-back gap cost most of the tracker's time
 * and memory.)  Flows idle for longer than the horizon are dropped by a
 * sweep that runs at most once per horizon, so its cost is amortised O(1)
 * per flow.
 */
#include <math.h>
#include <string.h>

#include "natsim/metrics.h"

#define SUB_PORTS_INLINE 14

typedef struct
{
  guint      ports;
  guint      peak;       /* in the window */
  bool       seen;       /* had a change in the window (peak initialised) */
  NatsimTime since;      /* when ports last changed */
  guint      n_inline;   /* ports in port[]; the other ports - n_inline are in sub_ports */
  /* The subscriber's ports ((protocol slot, address index, port) packed)
   * with the bindings using each: the first SUB_PORTS_INLINE live in the
   * record, found by a short scan in the cache lines the record brings. */
  struct
  {
    guint32 key, refs;
  } port[SUB_PORTS_INLINE];
} Sub;

typedef struct
{
  NatsimDestinationLoad load;
  guint64               live;
  NatsimTime            since;
} Dest;

/* Held-back gaps kept in the flow itself; more go to an overflow array. */
#define FLOW_HELD_INLINE 8
/* Flow records per chunk (chunks never move: records are found by index). */
#define FLOW_CHUNK_BITS 14
#define FLOW_CHUNK (1u << FLOW_CHUNK_BITS)

enum
{
  FLOW_USED = 1,
  FLOW_REPLIED = 2, /* an inbound packet was seen */
  FLOW_EXPOSED = 4, /* its gaps count (unsolicited inbound seen, or no reply window) */
};

/* One flow (5-tuple).  Its last refresh is not stored: outbound packets
 * always refresh, inbound ones only with refresh_inbound, so it is
 * last_packet (refresh_inbound) or last_out (otherwise).  A held-back gap
 * is kept as its histogram bin and timer kind, (bin << 2) | kind; the
 * longest held-back gap of each kind is kept apart (gap_max and the class
 * maxima need its value, the histogram only its bin). */
typedef struct
{
  uint32_t   in_addr, rem_addr;
  uint16_t   in_port, rem_port;
  uint16_t   cls;
  uint8_t    proto;
  uint8_t    flags;
  NatsimTime first;
  NatsimTime last_out;     /* last outbound packet */
  NatsimTime last_packet;
  NatsimTime held_max[2];  /* longest held-back gap, ns, by held_slot() */
  uint8_t    kind;         /* NatsimGapKind at the last refresh, or NATSIM_GAP_N */
  uint8_t    n_inline;     /* held-back gaps in held[] */
  uint16_t   held[FLOW_HELD_INLINE];
  uint32_t   more;         /* 0, or 1 + index of its overflow in held_more; free: next free */
} Flow;

G_STATIC_ASSERT (sizeof (Flow) <= 80);

/* Flows: open addressing over (32-bit hash << 32 | record index + 1), 0
 * empty, linear probing, backward-shift deletion, at most half full; the
 * records live in chunks, recycled through a free list. */
typedef struct
{
  guint64   *slots;
  guint32    mask, used;
  GPtrArray *chunks;     /* Flow[FLOW_CHUNK] each */
  guint32    n_records;  /* records handed out of the chunks so far */
  guint32    free_head;  /* 1 + index of a free record, 0: none */
  GPtrArray *held_more;  /* GArray of guint16 each: held-back gaps beyond the inline ones */
  GArray    *free_more;  /* guint32 indexes of emptied held_more arrays */
  /* Recently seen flows, direct-mapped by hash: (hash << 32 | index + 1).
   * A flow's packets come close together while the table holds every
   * flow of the run (the horizon is the NAT's tombstone, an hour by
   * default), so most packets find their flow here without touching the
   * table's slots (tens of megabytes, a cache miss each).  An entry may be
   * stale (its record freed or reused): the key decides. */
  guint64   *recent;
} FlowTable;

#define FLOW_RECENT (1u << 16)

/* Subscriber ports: packed key + 1 (0 marks an empty slot) -> reference
 * count, open addressing with linear probing and backward-shift deletion,
 * at most half full; key and count side by side (one cache line a
 * probe). */
typedef struct
{
  guint64 key;
  guint32 refs;
} PortSlot;

typedef struct
{
  PortSlot *slots;
  guint32   mask, used;
} PortMap;

/* Subscribers by inside address: an index over the records that @subs
 * owns (open addressing, at most half full, never deleted from), so that
 * a port change costs one probe; @subs keeps them in the order it always
 * had for natsim_usage_finish(). */
typedef struct
{
  Sub     *sub;     /* NULL: empty */
  uint32_t in_addr;
} SubSlot;

typedef struct
{
  SubSlot *slots;
  guint32  mask, used;
} SubIndex;

struct NatsimUsage
{
  NatsimTime  warmup, end, horizon, next_sweep;
  NatsimTime  reply_window; /* 0: every gap counts */
  bool        refresh_inbound;
  guint       n_classes;
  GHashTable *subs;      /* uint32 in_addr (pointer) -> Sub */
  SubIndex    sub_index; /* the same, for lookups */
  PortMap     sub_ports; /* (in_addr, proto, addr_idx, port) -> bindings using it */
  GHashTable *dests;     /* guint64 (proto, addr, port) -> Dest */
  FlowTable   flows;
  guint64     ports_live[NATSIM_USAGE_N_PROTO];
  NatsimTime  ports_since[NATSIM_USAGE_N_PROTO];
  NatsimUsageResult *r;
};

static guint
proto_slot (uint8_t proto)
{
  switch (proto)
    {
    case NATSIM_PROTO_TCP: return NATSIM_USAGE_TCP;
    case NATSIM_PROTO_ICMP: return NATSIM_USAGE_ICMP;
    default: return NATSIM_USAGE_UDP;
    }
}

static guint32
flow_hash (const Flow *k)
{
  guint64 h = ((guint64) k->in_addr << 32 | k->rem_addr) * UINT64_C (0x9e3779b97f4a7c15);

  h ^= ((guint64) k->in_port << 24 | (guint64) k->rem_port << 8 | k->proto) * UINT64_C (0xc2b2ae3d27d4eb4f);
  return (guint32) (h ^ (h >> 32));
}

static bool
flow_key_equal (const Flow *x, const Flow *y)
{
  return x->in_addr == y->in_addr && x->rem_addr == y->rem_addr && x->in_port == y->in_port &&
         x->rem_port == y->rem_port && x->proto == y->proto;
}

static guint32 mix64 (guint64 x);

static guint
dest_key_hash (gconstpointer p)
{
  return mix64 (*(const guint64 *) p);
}

NatsimUsageResult *
natsim_usage_result_new (guint n_classes)
{
  NatsimUsageResult *r = g_new0 (NatsimUsageResult, 1);

  r->n_classes = n_classes;
  r->peak_hist = g_array_new (FALSE, TRUE, sizeof (double));
  r->time_hist = g_array_new (FALSE, TRUE, sizeof (double));
  r->destinations = g_array_new (FALSE, TRUE, sizeof (NatsimDestinationLoad));
  r->class_gap_max = g_new0 (double, (gsize) MAX (n_classes, 1) * NATSIM_GAP_N);
  r->ignored_class_gap_max = g_new0 (double, (gsize) MAX (n_classes, 1) * NATSIM_GAP_N);
  return r;
}

void
natsim_usage_result_free (NatsimUsageResult *r)
{
  if (r == NULL)
    return;
  g_array_unref (r->peak_hist);
  g_array_unref (r->time_hist);
  g_array_unref (r->destinations);
  g_free (r->class_gap_max);
  g_free (r->ignored_class_gap_max);
  g_free (r);
}

/* ---------- flow table ---------- */

static void
flow_table_init (FlowTable *t, guint32 slots)
{
  t->slots = g_new0 (guint64, slots);
  t->mask = slots - 1;
  t->used = 0;
}

static void
flow_table_clear (FlowTable *t)
{
  g_clear_pointer (&t->slots, g_free);
  g_clear_pointer (&t->recent, g_free);
  g_clear_pointer (&t->chunks, g_ptr_array_unref);
  g_clear_pointer (&t->held_more, g_ptr_array_unref);
  g_clear_pointer (&t->free_more, g_array_unref);
}

static inline Flow *
flow_at (const FlowTable *t, guint32 index)
{
  return (Flow *) g_ptr_array_index (t->chunks, index >> FLOW_CHUNK_BITS) +
         (index & (FLOW_CHUNK - 1));
}

/* The slot holding flow @k (hash @h), or the empty slot where it would go;
 * *ret is the flow or NULL. */
static guint32
flow_find (const FlowTable *t, const Flow *k, guint32 h, Flow **ret)
{
  guint32 i = h & t->mask;

  for (;;)
    {
      guint64 s = t->slots[i];

      if (s == 0)
        {
          *ret = NULL;
          return i;
        }
      if ((guint32) (s >> 32) == h)
        {
          Flow *f = flow_at (t, (guint32) s - 1);

          if (flow_key_equal (f, k))
            {
              *ret = f;
              return i;
            }
        }
      i = (i + 1) & t->mask;
    }
}

static void
flow_table_grow (FlowTable *t)
{
  guint64 *old = t->slots;
  guint32 n = t->mask + 1;

  flow_table_init (t, n * 2);
  for (guint32 i = 0; i < n; i++)
    if (old[i] != 0)
      {
        guint32 j = (guint32) (old[i] >> 32) & t->mask;

        while (t->slots[j] != 0)
          j = (j + 1) & t->mask;
        t->slots[j] = old[i];
        t->used++;
      }
  g_free (old);
}

/* A cleared record from the free list or the current chunk, with @k's
 * key, stored at empty slot @slot (from flow_find() with hash @h). */
static Flow *
flow_insert (FlowTable *t, guint32 slot, const Flow *k, guint32 h, guint32 *ret_index)
{
  guint32 index;
  Flow *f;

  if (t->free_head != 0)
    {
      index = t->free_head - 1;
      f = flow_at (t, index);
      t->free_head = f->more;
    }
  else
    {
      index = t->n_records++;
      if ((index & (FLOW_CHUNK - 1)) == 0)
        g_ptr_array_add (t->chunks, g_new (Flow, FLOW_CHUNK));
      f = flow_at (t, index);
    }
  memset (f, 0, sizeof *f);
  f->in_addr = k->in_addr;
  f->rem_addr = k->rem_addr;
  f->in_port = k->in_port;
  f->rem_port = k->rem_port;
  f->proto = k->proto;
  f->flags = FLOW_USED;
  t->slots[slot] = (guint64) h << 32 | (index + 1);
  if (++t->used * 2 > t->mask + 1)
    flow_table_grow (t);
  *ret_index = index;
  return f;
}

/* Empties a flow's held-back gaps beyond the inline ones (kept for reuse). */
static void
flow_drop_more (FlowTable *t, Flow *f)
{
  if (f->more != 0)
    {
      guint32 i = f->more - 1;

      g_array_set_size (g_ptr_array_index (t->held_more, i), 0);
      g_array_append_val (t->free_more, i);
      f->more = 0;
    }
}

/* Removes flow @f: from its slot (backward shift, as port_map_delete())
 * and to the free list. */
static void
flow_remove (FlowTable *t, Flow *f)
{
  Flow *found;
  guint32 i = flow_find (t, f, flow_hash (f), &found);
  guint32 j = i;
  guint32 index = (guint32) t->slots[i] - 1;

  g_assert (found == f);
  for (;;)
    {
      guint32 home;

      j = (j + 1) & t->mask;
      if (t->slots[j] == 0)
        break;
      home = (guint32) (t->slots[j] >> 32) & t->mask;
      if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
        {
          t->slots[i] = t->slots[j];
          i = j;
        }
    }
  t->slots[i] = 0;
  t->used--;
  flow_drop_more (t, f);
  f->flags = 0;
  f->more = t->free_head;
  t->free_head = index + 1;
}

/* ---------- subscriber port map ---------- */

static guint32
mix64 (guint64 x)
{
  /* splitmix64's finaliser: the packed keys differ in a few low bits of
   * each field, which an XOR of the halves (g_int64_hash) folds onto the
   * same values. */
  x ^= x >> 30;
  x *= UINT64_C (0xbf58476d1ce4e5b9);
  x ^= x >> 27;
  x *= UINT64_C (0x94d049bb133111eb);
  x ^= x >> 31;
  return (guint32) x;
}

static void
port_map_init (PortMap *m, guint32 slots)
{
  m->slots = g_new0 (PortSlot, slots);
  m->mask = slots - 1;
  m->used = 0;
}

static void
port_map_clear (PortMap *m)
{
  g_clear_pointer (&m->slots, g_free);
}

/* The slot of stored key @k, or the empty slot where it would go. */
static guint32
port_map_slot (const PortMap *m, guint64 k)
{
  guint32 i = mix64 (k) & m->mask;

  while (m->slots[i].key != 0 && m->slots[i].key != k)
    i = (i + 1) & m->mask;
  return i;
}

static void
port_map_grow (PortMap *m)
{
  PortMap old = *m;

  port_map_init (m, (old.mask + 1) * 2);
  for (guint32 i = 0; i <= old.mask; i++)
    if (old.slots[i].key != 0)
      {
        m->slots[port_map_slot (m, old.slots[i].key)] = old.slots[i];
        m->used++;
      }
  port_map_clear (&old);
}

/* Empties slot @i, moving later entries of its probe run back so that
 * every entry stays reachable from its home slot. */
static void
port_map_delete (PortMap *m, guint32 i)
{
  guint32 j = i;

  for (;;)
    {
      guint32 home;

      j = (j + 1) & m->mask;
      if (m->slots[j].key == 0)
        break;
      home = mix64 (m->slots[j].key) & m->mask;
      /* Entry j may move to i unless its home lies cyclically in (i, j]. */
      if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
        {
          m->slots[i] = m->slots[j];
          i = j;
        }
    }
  m->slots[i].key = 0;
  m->slots[i].refs = 0;
  m->used--;
}

/* ---------- subscriber index ---------- */

static void
sub_index_init (SubIndex *x, guint32 slots)
{
  x->slots = g_new0 (SubSlot, slots);
  x->mask = slots - 1;
  x->used = 0;
}

/* The slot of @in_addr, or the empty slot where it would go. */
static guint32
sub_index_slot (const SubIndex *x, uint32_t in_addr)
{
  guint32 i = mix64 (in_addr) & x->mask;

  while (x->slots[i].sub != NULL && x->slots[i].in_addr != in_addr)
    i = (i + 1) & x->mask;
  return i;
}

static void
sub_index_add (SubIndex *x, guint32 i, uint32_t in_addr, Sub *s)
{
  x->slots[i].sub = s;
  x->slots[i].in_addr = in_addr;
  if (++x->used * 2 > x->mask + 1)
    {
      SubIndex old = *x;

      sub_index_init (x, (old.mask + 1) * 2);
      for (guint32 k = 0; k <= old.mask; k++)
        if (old.slots[k].sub != NULL)
          x->slots[sub_index_slot (x, old.slots[k].in_addr)] = old.slots[k];
      x->used = old.used;
      g_free (old.slots);
    }
}

NatsimUsage *
natsim_usage_new (guint n_classes, NatsimTime warmup, NatsimTime end, NatsimTime horizon,
                  bool refresh_inbound, NatsimTime reply_window)
{
  NatsimUsage *u = g_new0 (NatsimUsage, 1);

  g_return_val_if_fail (warmup < end, NULL);
  u->warmup = warmup;
  u->end = end;
  u->horizon = horizon > 0 ? horizon : NATSIM_NSEC_PER_SEC * 3600;
  u->next_sweep = u->horizon;
  u->refresh_inbound = refresh_inbound;
  u->reply_window = reply_window;
  u->n_classes = n_classes;
  u->subs = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  port_map_init (&u->sub_ports, 1024);
  sub_index_init (&u->sub_index, 1024);
  u->dests = g_hash_table_new_full (dest_key_hash, g_int64_equal, g_free, g_free);
  flow_table_init (&u->flows, 1024);
  u->flows.recent = g_new0 (guint64, FLOW_RECENT);
  u->flows.chunks = g_ptr_array_new_with_free_func (g_free);
  u->flows.held_more = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  u->flows.free_more = g_array_new (FALSE, FALSE, sizeof (guint32));
  u->r = natsim_usage_result_new (n_classes);
  u->r->runs = 1;
  u->r->window_s = natsim_time_to_sec (end - warmup);
  return u;
}

void
natsim_usage_free (NatsimUsage *u)
{
  if (u == NULL)
    return;
  g_hash_table_unref (u->subs);
  port_map_clear (&u->sub_ports);
  g_free (u->sub_index.slots);
  g_hash_table_unref (u->dests);
  flow_table_clear (&u->flows);
  natsim_usage_result_free (u->r);
  g_free (u);
}

/* Seconds of [from, to) that fall in the window. */
static double
window_overlap (const NatsimUsage *u, NatsimTime from, NatsimTime to)
{
  from = MAX (from, u->warmup);
  to = MIN (to, u->end);
  return to > from ? natsim_time_to_sec (to - from) : 0.0;
}

static void
hist_add (GArray *h, guint index, double v)
{
  if (index >= h->len)
    g_array_set_size (h, index + 1);
  g_array_index (h, double, index) += v;
}

/* ---------- per subscriber ---------- */

static void
sub_change (NatsimUsage *u, Sub *s, NatsimTime now, int delta)
{
  if (s->ports > 0)
    hist_add (u->r->time_hist, s->ports, window_overlap (u, s->since, now));
  if (now >= u->warmup && now < u->end && !s->seen)
    {
      /* The peak over the window starts from the level at its start. */
      s->seen = true;
      s->peak = s->ports;
    }
  if (delta > 0)
    s->ports++;
  else if (s->ports > 0)
    s->ports--;
  s->since = now;
  if (s->seen && now < u->end && s->ports > s->peak)
    s->peak = s->ports;
}

/* The port within its subscriber: protocol slot, address index, port. */
static guint32
sub_port_key (const NatsimNatEvent *ev)
{
  return (guint32) proto_slot (ev->proto) << 30 | (guint32) (ev->addr_index & 0x3fff) << 16 |
         ev->ext_port;
}

/* A binding of @ev's subscriber took (@delta 1) or left (-1) its external
 * port: the subscriber's count of ports moves when it is the first or the
 * last binding there.  The subscriber's record is created with its first
 * port. */
static void
sub_port_ref (NatsimUsage *u, const NatsimNatEvent *ev, int delta)
{
  guint32 si = sub_index_slot (&u->sub_index, ev->in_addr);
  Sub *s = u->sub_index.slots[si].sub;
  guint32 k = sub_port_key (ev);

  if (s == NULL)
    {
      if (delta < 0)
        return;
      s = g_new0 (Sub, 1);
      s->since = ev->time;
      g_hash_table_insert (u->subs, GUINT_TO_POINTER (ev->in_addr), s);
      sub_index_add (&u->sub_index, si, ev->in_addr, s);
    }
  for (guint j = 0; j < s->n_inline; j++)
    if (s->port[j].key == k)
      {
        if (delta > 0)
          s->port[j].refs++;
        else if (--s->port[j].refs == 0)
          {
            s->port[j] = s->port[--s->n_inline];
            sub_change (u, s, ev->time, -1);
          }
        return;
      }
  if (s->ports > s->n_inline)
    {
      /* Some of its ports are in the shared table: the port may be one. */
      PortMap *m = &u->sub_ports;
      guint64 key = ((guint64) ev->in_addr << 32 | k) + 1; /* never wraps: the protocol slot is at most 2 */
      guint32 i = port_map_slot (m, key);

      if (m->slots[i].key != 0)
        {
          if (delta > 0)
            m->slots[i].refs++;
          else if (--m->slots[i].refs == 0)
            {
              port_map_delete (m, i);
              sub_change (u, s, ev->time, -1);
            }
          return;
        }
    }
  if (delta < 0)
    return;
  if (s->n_inline < SUB_PORTS_INLINE)
    {
      s->port[s->n_inline].key = k;
      s->port[s->n_inline].refs = 1;
      s->n_inline++;
    }
  else
    {
      PortMap *m = &u->sub_ports;
      guint64 key = ((guint64) ev->in_addr << 32 | k) + 1;
      guint32 i = port_map_slot (m, key);

      m->slots[i].key = key;
      m->slots[i].refs = 1;
      if (++m->used * 2 > m->mask + 1)
        port_map_grow (m);
    }
  sub_change (u, s, ev->time, +1);
}

/* ---------- per destination ---------- */

static Dest *
dest_of (NatsimUsage *u, uint8_t proto, uint32_t addr, uint16_t port, NatsimTime now)
{
  guint64 key = (guint64) proto << 48 | (guint64) addr << 16 | port;
  Dest *d = g_hash_table_lookup (u->dests, &key);

  if (d == NULL)
    {
      d = g_new0 (Dest, 1);
      d->load.proto = proto;
      d->load.addr = addr;
      d->load.port = port;
      d->since = now;
      g_hash_table_insert (u->dests, g_memdup2 (&key, sizeof key), d);
    }
  return d;
}

static void
dest_live (NatsimUsage *u, Dest *d, NatsimTime now, int delta)
{
  d->load.binding_seconds += (double) d->live * window_overlap (u, d->since, now);
  d->since = now;
  if (delta > 0)
    d->live++;
  else if (d->live > 0)
    d->live--;
}

static void
ports_live (NatsimUsage *u, guint slot, NatsimTime now, int delta)
{
  u->r->port_seconds[slot] += (double) u->ports_live[slot] * window_overlap (u, u->ports_since[slot], now);
  u->ports_since[slot] = now;
  if (delta > 0)
    u->ports_live[slot]++;
  else if (u->ports_live[slot] > 0)
    u->ports_live[slot]--;
}

void
natsim_usage_on_nat_event (const NatsimNatEvent *ev, void *user_data)
{
  NatsimUsage *u = user_data;
  bool count = ev->time >= u->warmup && ev->time < u->end;
  guint slot = proto_slot (ev->proto);
  Dest *d;

  switch (ev->type)
    {
    case NATSIM_NAT_EV_BINDING_CREATED:
      d = dest_of (u, ev->proto, ev->rem_addr, ev->rem_port, ev->time);
      dest_live (u, d, ev->time, +1);
      if (count)
        {
          d->load.created += 1;
          if (!ev->inbound)
            d->load.attempts += 1;
        }
      sub_port_ref (u, ev, +1);
      break;
    case NATSIM_NAT_EV_BINDING_EXPIRED:
      d = dest_of (u, ev->proto, ev->rem_addr, ev->rem_port, ev->time);
      dest_live (u, d, ev->time, -1);
      sub_port_ref (u, ev, -1);
      break;
    case NATSIM_NAT_EV_ALLOC_FAILED:
      if (count)
        {
          d = dest_of (u, ev->proto, ev->rem_addr, ev->rem_port, ev->time);
          d->load.attempts += 1;
          u->r->port_attempts[slot] += 1;
        }
      break;
    case NATSIM_NAT_EV_PORT_ACQUIRED:
      ports_live (u, slot, ev->time, +1);
      if (count)
        {
          u->r->port_acquired[slot] += 1;
          u->r->port_attempts[slot] += 1;
        }
      break;
    case NATSIM_NAT_EV_PORT_RELEASED:
      ports_live (u, slot, ev->time, -1);
      break;
    default:
      break;
    }
}

/* ---------- idle gaps per flow ---------- */

static guint
gap_bin (double gap_s)
{
  double x;

  if (gap_s <= NATSIM_GAP_BIN0)
    return 0;
  x = floor (log (gap_s / NATSIM_GAP_BIN0) / log (NATSIM_GAP_RATIO));
  return x >= NATSIM_GAP_BINS - 1 ? NATSIM_GAP_BINS - 1 : (guint) x;
}

static void
max_into (double *m, double v)
{
  *m = MAX (*m, v);
}

static void
count_gap (NatsimUsage *u, const Flow *f, double gap, guint kind)
{
  NatsimUsageResult *r = u->r;

  r->gap_hist[kind][gap_bin (gap)] += 1;
  r->gap_count[kind] += 1;
  max_into (&r->gap_max[kind], gap);
  if (f->cls < u->n_classes)
    max_into (&r->class_gap_max[f->cls * NATSIM_GAP_N + kind], gap);
}

/* The slot of held_max for gap kind @kind: a flow's proto gives it at
 * most two kinds (UDP, UDP stream; or TCP established). */
static inline guint
held_slot (guint kind)
{
  return kind == NATSIM_GAP_UDP_STREAM ? 1 : 0;
}

static inline NatsimTime
flow_last_refresh (const NatsimUsage *u, const Flow *f)
{
  return u->refresh_inbound ? f->last_packet : f->last_out;
}

static void
flow_hold_gap (NatsimUsage *u, Flow *f, NatsimTime gap_ns, guint kind)
{
  FlowTable *t = &u->flows;
  guint16 g = (guint16) (gap_bin (natsim_time_to_sec (gap_ns)) << 2 | kind);
  NatsimTime *m = &f->held_max[held_slot (kind)];

  G_STATIC_ASSERT (NATSIM_GAP_BINS <= (1 << 14) && NATSIM_GAP_N <= 4);
  *m = MAX (*m, gap_ns);
  if (f->n_inline < FLOW_HELD_INLINE)
    {
      f->held[f->n_inline++] = g;
      return;
    }
  if (f->more == 0)
    {
      if (t->free_more->len > 0)
        {
          f->more = g_array_index (t->free_more, guint32, t->free_more->len - 1) + 1;
          g_array_set_size (t->free_more, t->free_more->len - 1);
        }
      else
        {
          g_ptr_array_add (t->held_more, g_array_new (FALSE, FALSE, sizeof (guint16)));
          f->more = t->held_more->len;
        }
    }
  g_array_append_val ((GArray *) g_ptr_array_index (t->held_more, f->more - 1), g);
}

/* Calls @fn on each held-back gap of @f (kind, bin). */
#define FOR_EACH_HELD(t, f, g, body)                                              \
  do                                                                              \
    {                                                                             \
      for (guint h_ = 0; h_ < (f)->n_inline; h_++)                                \
        {                                                                         \
          guint16 g = (f)->held[h_];                                              \
          body;                                                                   \
        }                                                                         \
      if ((f)->more != 0)                                                         \
        {                                                                         \
          GArray *a_ = g_ptr_array_index ((t)->held_more, (f)->more - 1);         \
          for (guint h_ = 0; h_ < a_->len; h_++)                                  \
            {                                                                     \
              guint16 g = g_array_index (a_, guint16, h_);                        \
              body;                                                               \
            }                                                                     \
        }                                                                         \
    }                                                                             \
  while (0)

/* The kinds (bit per NatsimGapKind) among @f's held-back gaps. */
static guint
flow_held_kinds (const FlowTable *t, const Flow *f)
{
  guint kinds = 0;

  FOR_EACH_HELD (t, f, g, kinds |= 1u << (g & 3));
  return kinds;
}

/* The figures of a flow that ends (or is still open at the end of the run):
 * the timer it idled under, and its held-back gaps, left out. */
static void
close_flow (NatsimUsage *u, const Flow *f)
{
  NatsimUsageResult *r = u->r;
  NatsimTime last_refresh = flow_last_refresh (u, f);

  if (f->kind < NATSIM_GAP_N && last_refresh >= u->warmup && last_refresh < u->end)
    r->flows[f->kind] += 1;
  if (f->n_inline > 0)
    {
      guint kinds = flow_held_kinds (&u->flows, f);

      FOR_EACH_HELD (&u->flows, f, g, r->ignored_gap_count[g & 3] += 1);
      if (f->cls < u->n_classes)
        for (guint k = 0; k < NATSIM_GAP_N; k++)
          if (kinds & (1u << k))
            max_into (&r->ignored_class_gap_max[f->cls * NATSIM_GAP_N + k],
                      natsim_time_to_sec (f->held_max[held_slot (k)]));
    }
  r->gap_flows += 1;
  if (f->flags & FLOW_EXPOSED)
    r->exposed_flows += 1;
}

static void
end_flow (NatsimUsage *u, Flow *f)
{
  close_flow (u, f);
  flow_remove (&u->flows, f);
}

/* Drops flows idle for longer than the horizon. */
static void
sweep_flows (NatsimUsage *u, NatsimTime now)
{
  FlowTable *t = &u->flows;

  for (guint32 i = 0; i < t->n_records; i++)
    {
      Flow *f = flow_at (t, i);

      if ((f->flags & FLOW_USED) && now - f->last_packet > u->horizon)
        end_flow (u, f);
    }
  u->next_sweep = natsim_time_add (now, u->horizon);
}

static guint8
gap_kind (const Flow *f, NatsimTime now)
{
  bool replied = f->flags & FLOW_REPLIED;

  if (f->proto == NATSIM_PROTO_UDP)
    /* Linux: the stream timeout applies to refreshes once a reply was
     * seen and the connection is more than 2 s old. */
    return replied && now - f->first > 2 * NATSIM_NSEC_PER_SEC ? NATSIM_GAP_UDP_STREAM
                                                               : NATSIM_GAP_UDP;
  if (f->proto == NATSIM_PROTO_TCP && replied)
    return NATSIM_GAP_TCP_ESTABLISHED;
  return NATSIM_GAP_N;
}

/* A flow receives @t: an unsolicited packet when it comes more than the
 * reply window after the flow's last outbound packet.  From then on, and
 * for its held-back gaps, the flow needs its binding to outlive every idle
 * gap. */
static void
check_unsolicited (NatsimUsage *u, Flow *f, NatsimTime t)
{
  NatsimUsageResult *r = u->r;

  if ((f->flags & FLOW_EXPOSED) || t - f->last_out <= u->reply_window)
    return;
  f->flags |= FLOW_EXPOSED;
  if (f->n_inline == 0)
    return;
  {
    guint kinds = flow_held_kinds (&u->flows, f);

    FOR_EACH_HELD (&u->flows, f, g, {
      r->gap_hist[g & 3][g >> 2] += 1;
      r->gap_count[g & 3] += 1;
    });
    for (guint k = 0; k < NATSIM_GAP_N; k++)
      if (kinds & (1u << k))
        {
          double gap = natsim_time_to_sec (f->held_max[held_slot (k)]);

          max_into (&r->gap_max[k], gap);
          if (f->cls < u->n_classes)
            max_into (&r->class_gap_max[f->cls * NATSIM_GAP_N + k], gap);
        }
  }
  f->n_inline = 0;
  f->held_max[0] = f->held_max[1] = 0;
  flow_drop_more (&u->flows, f);
}

void
natsim_usage_on_packet (NatsimUsage *u, const NatsimPacket *pkt, const NatsimNatResult *res)
{
  bool out = pkt->dir == NATSIM_DIR_OUT;
  Flow key;
  Flow *f;
  guint32 h, slot, index;
  guint64 *recent;

  if (res->verdict == NATSIM_VERDICT_NOT_TRANSLATED || pkt->time >= u->end ||
      pkt->proto == NATSIM_PROTO_ICMP)
    return;
  if (pkt->time >= u->next_sweep)
    sweep_flows (u, pkt->time);
  key.proto = pkt->proto;
  key.in_addr = out ? pkt->src_addr : pkt->dst_addr;
  key.in_port = out ? pkt->src_port : pkt->dst_port;
  key.rem_addr = out ? pkt->dst_addr : pkt->src_addr;
  key.rem_port = out ? pkt->dst_port : pkt->src_port;
  h = flow_hash (&key);
  recent = &u->flows.recent[h & (FLOW_RECENT - 1)];
  f = NULL;
  if ((guint32) (*recent >> 32) == h && (guint32) *recent != 0)
    {
      Flow *r = flow_at (&u->flows, (guint32) *recent - 1);

      if ((r->flags & FLOW_USED) && flow_key_equal (r, &key))
        f = r;
    }
  if (f == NULL)
    {
      slot = flow_find (&u->flows, &key, h, &f);
      if (f != NULL)
        *recent = u->flows.slots[slot];
    }
  if (f != NULL && pkt->time - f->last_packet > u->horizon)
    {
      /* Idle beyond the horizon: the NAT, too, has forgotten it. */
      end_flow (u, f);
      slot = flow_find (&u->flows, &key, h, &f);
    }
  if (f == NULL)
    {
      /* Only an outbound packet starts a flow. */
      if (!out)
        return;
      f = flow_insert (&u->flows, slot, &key, h, &index);
      *recent = (guint64) h << 32 | (index + 1);
      f->cls = pkt->cls;
      if (u->reply_window == 0)
        f->flags |= FLOW_EXPOSED;
      f->first = f->last_out = f->last_packet = pkt->time;
      f->kind = gap_kind (f, pkt->time);
    }
  else
    {
      if (!out)
        check_unsolicited (u, f, pkt->time);
      if (f->kind < NATSIM_GAP_N && pkt->time >= u->warmup)
        {
          NatsimTime gap = pkt->time - flow_last_refresh (u, f);

          if (f->flags & FLOW_EXPOSED)
            count_gap (u, f, natsim_time_to_sec (gap), f->kind);
          else
            flow_hold_gap (u, f, gap, f->kind);
        }
      f->last_packet = pkt->time;
      if (out)
        f->last_out = pkt->time;
      if (out || u->refresh_inbound)
        f->kind = gap_kind (f, pkt->time);
      if (!out && res->verdict == NATSIM_VERDICT_FORWARDED)
        f->flags |= FLOW_REPLIED;
    }
  if (pkt->proto == NATSIM_PROTO_TCP && (pkt->tcp_flags & (NATSIM_TCP_FIN | NATSIM_TCP_RST)))
    {
      /* Closed: its binding ends under the transitory timer, not idle. */
      f->kind = NATSIM_GAP_N;
      end_flow (u, f);
    }
}

/* ---------- results ---------- */

static gint
dest_cmp (gconstpointer a, gconstpointer b)
{
  const NatsimDestinationLoad *x = a, *y = b;

  if (x->proto != y->proto)
    return x->proto < y->proto ? -1 : 1;
  if (x->addr != y->addr)
    return x->addr < y->addr ? -1 : 1;
  if (x->port != y->port)
    return x->port < y->port ? -1 : 1;
  return 0;
}

NatsimUsageResult *
natsim_usage_finish (NatsimUsage *u)
{
  NatsimUsageResult *r = u->r;
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, u->subs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Sub *s = value;
      guint peak;

      if (s->ports > 0)
        hist_add (r->time_hist, s->ports, window_overlap (u, s->since, u->end));
      /* A subscriber that held ports all through the window without a
       * change peaked at that level. */
      peak = s->seen ? s->peak : (s->since < u->end ? s->ports : 0);
      if (peak > 0)
        {
          hist_add (r->peak_hist, peak, 1.0);
          r->subscribers += 1;
        }
    }
  g_hash_table_iter_init (&it, u->dests);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Dest *d = value;
      dest_live (u, d, u->end, 0);
      if (d->load.attempts > 0 || d->load.binding_seconds > 0)
        g_array_append_val (r->destinations, d->load);
    }
  g_array_sort (r->destinations, dest_cmp);
  for (guint k = 0; k < NATSIM_USAGE_N_PROTO; k++)
    ports_live (u, k, u->end, 0);
  for (guint32 i = 0; i < u->flows.n_records; i++)
    {
      const Flow *f = flow_at (&u->flows, i);

      if (f->flags & FLOW_USED)
        close_flow (u, f);
    }
  u->r = NULL;
  return r;
}

void
natsim_usage_result_merge (NatsimUsageResult *into, const NatsimUsageResult *from)
{
  g_autoptr (GArray) merged = g_array_new (FALSE, TRUE, sizeof (NatsimDestinationLoad));
  guint i = 0, j = 0;

  g_return_if_fail (into->n_classes == from->n_classes);
  into->runs += from->runs;
  into->window_s += from->window_s;
  into->subscribers += from->subscribers;
  for (guint c = 0; c < from->peak_hist->len; c++)
    hist_add (into->peak_hist, c, g_array_index (from->peak_hist, double, c));
  for (guint c = 0; c < from->time_hist->len; c++)
    hist_add (into->time_hist, c, g_array_index (from->time_hist, double, c));
  /* Both destination lists are sorted: merge them. */
  while (i < into->destinations->len || j < from->destinations->len)
    {
      NatsimDestinationLoad m;

      if (j >= from->destinations->len)
        m = g_array_index (into->destinations, NatsimDestinationLoad, i++);
      else if (i >= into->destinations->len)
        m = g_array_index (from->destinations, NatsimDestinationLoad, j++);
      else
        {
          const NatsimDestinationLoad *a = &g_array_index (into->destinations, NatsimDestinationLoad, i);
          const NatsimDestinationLoad *b = &g_array_index (from->destinations, NatsimDestinationLoad, j);
          gint c = dest_cmp (a, b);

          if (c < 0)
            m = *a, i++;
          else if (c > 0)
            m = *b, j++;
          else
            {
              m = *a;
              m.attempts += b->attempts;
              m.created += b->created;
              m.binding_seconds += b->binding_seconds;
              i++, j++;
            }
        }
      g_array_append_val (merged, m);
    }
  g_array_set_size (into->destinations, 0);
  g_array_append_vals (into->destinations, merged->data, merged->len);
  for (guint k = 0; k < NATSIM_USAGE_N_PROTO; k++)
    {
      into->port_attempts[k] += from->port_attempts[k];
      into->port_acquired[k] += from->port_acquired[k];
      into->port_seconds[k] += from->port_seconds[k];
    }
  for (guint k = 0; k < NATSIM_GAP_N; k++)
    {
      for (guint b = 0; b < NATSIM_GAP_BINS; b++)
        into->gap_hist[k][b] += from->gap_hist[k][b];
      into->gap_count[k] += from->gap_count[k];
      into->gap_max[k] = MAX (into->gap_max[k], from->gap_max[k]);
      into->flows[k] += from->flows[k];
      into->ignored_gap_count[k] += from->ignored_gap_count[k];
    }
  for (guint c = 0; c < into->n_classes * NATSIM_GAP_N; c++)
    {
      into->class_gap_max[c] = MAX (into->class_gap_max[c], from->class_gap_max[c]);
      into->ignored_class_gap_max[c] = MAX (into->ignored_class_gap_max[c],
                                            from->ignored_class_gap_max[c]);
    }
  into->exposed_flows += from->exposed_flows;
  into->gap_flows += from->gap_flows;
}

double
natsim_usage_gap_quantile (const NatsimUsageResult *r, NatsimGapKind kind, double q)
{
  double allowed, above = 0.0;

  g_return_val_if_fail (kind < NATSIM_GAP_N, 0.0);
  if (r->gap_count[kind] <= 0)
    return 0.0;
  if (q <= 0.0)
    return r->gap_max[kind];
  allowed = q * r->gap_count[kind];
  /* Walk down from the longest gaps while at most @allowed lie above. */
  for (guint b = NATSIM_GAP_BINS; b-- > 0;)
    {
      if (above + r->gap_hist[kind][b] > allowed)
        {
          double edge = NATSIM_GAP_BIN0 * pow (NATSIM_GAP_RATIO, (double) b + 1);
          return MIN (edge, r->gap_max[kind]);
        }
      above += r->gap_hist[kind][b];
    }
  return 0.0;
}
