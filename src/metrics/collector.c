/* natsim: the observer that turns NAT verdicts and lifecycle events into
 * the figures of one run (report.json "totals", "per_class",
 * "per_address", "timeline").
 *
 * Counts cover [warmup, end); peaks are taken over the same window, starting
 * from the gauges at the warm-up instant.  The timeline covers the whole run
 * [0, end) so the warm-up can be seen.  Nothing here allocates per packet
 * (an open collector's timeline grows by doubling, so allocations are
 * logarithmic in the length of the run).
 *
 * An open collector (natsim_collector_new_open()) does not know its end
 * until natsim_collector_finish_at(): its timeline arrays grow as buckets
 * advance and, when a time t with t / interval > max_points is reached,
 * adjacent bucket pairs are merged and the interval doubled (the sample
 * "at the end of a bucket" of a merged pair is the later one, counts add).
 * The buckets of a merged pair end where the merged bucket ends, so the
 * result is the one a closed collector created with the same end and the
 * final interval gives.
 */
#include <math.h>
#include <string.h>

#include "natsim/metrics.h"

/* One (class, address, protocol, port) with live bindings of the class on
 * it.  refs 0 marks an empty slot: an entry whose count drops to 0 is
 * removed at once. */
typedef struct
{
  guint64 key;
  guint32 refs; /* live bindings of the class on the port */
  guint32 unused;
} PortRef;

/* The port references of every class: open addressing with linear probing
 * and backward-shift deletion (no tombstones), 16 bytes a slot inline,
 * grown by doubling at 70 % load.  It replaces a GHashTable whose entries
 * were each a separate allocation (about 70 bytes per port in use, and
 * long probe chains under g_int64_hash); a run with a million endpoints
 * holds millions of these. */
typedef struct
{
  PortRef *slots;
  guint64  mask;  /* capacity - 1, a power of two */
  guint64  count; /* entries with refs > 0 */
} PortRefTable;

#define PORT_REFS_INITIAL 1024u

struct NatsimCollector
{
  NatsimNat  *nat;
  NatsimTime  warmup, end, interval;
  bool        counting;
  guint       n_classes, n_addresses;
  NatsimStats totals;
  NatsimStats *per_class;
  double     *addr_peak, *addr_fail;
  guint64    *class_live;
  double      interval_s;
  guint       n_intervals;
  guint       next_bucket;
  double     *tl_bindings, *tl_ports, *tl_failures;
  double     *tl_addr_ports; /* [n_addresses * addr_stride] or NULL */
  /* Port blocks (only when the NAT has them) */
  bool        blocks;
  double     *addr_peak_blocks, *addr_fallbacks;
  double     *tl_blocks, *tl_block_subs;
  double     *tl_addr_blocks; /* like tl_addr_ports */
  guint       addr_stride;   /* row length of tl_addr_ports (n_intervals when closed) */
  /* Open mode (until natsim_collector_finish_at()): the end is unknown
   * (c->end is G_MAXUINT64), n_intervals counts the buckets
   * reached so far, cap the buckets allocated. */
  bool        open;
  guint64     max_points;
  guint       cap;
  NatsimTime  reached;       /* times below this need no open_reach() */
  /* Per class: the external ports its live bindings hold, for its
   * peak_ports_per_address.  class_ports counts, per (class, address,
   * protocol), the ports with at least one live binding of the class;
   * port_refs holds those bindings per (class, address, protocol, port)
   * (one entry per port a class uses, never per packet). */
  guint      *class_ports;   /* [(cls * n_addresses + addr) * 3 + proto] */
  PortRefTable port_refs;
  GArray     *packets;       /* NatsimPacketRecord until more than the log holds */
};

static guint
proto_slot (uint8_t proto)
{
  return proto == NATSIM_PROTO_UDP ? 0 : proto == NATSIM_PROTO_TCP ? 1 : 2;
}

static inline guint64
port_refs_hash (guint64 key)
{
  /* splitmix64's finaliser: keys differing in one port or class bit land
   * far apart. */
  key ^= key >> 30;
  key *= G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  key ^= key >> 27;
  key *= G_GUINT64_CONSTANT (0x94d049bb133111eb);
  key ^= key >> 31;
  return key;
}

static void
port_refs_init (PortRefTable *t)
{
  t->mask = PORT_REFS_INITIAL - 1;
  t->count = 0;
  t->slots = g_new0 (PortRef, PORT_REFS_INITIAL);
}

/* The first allocation of an open collector's timeline, in buckets. */
#define OPEN_INITIAL_BUCKETS 64u

/* The block and fall-back figures' arrays, for @n buckets. */
static void
init_block_figures (NatsimCollector *c, guint n)
{
  c->addr_peak_blocks = g_new0 (double, MAX (c->n_addresses, 1));
  c->addr_fallbacks = g_new0 (double, MAX (c->n_addresses, 1));
  c->blocks = natsim_nat_blocks_per_address (c->nat) > 0;
  if (!c->blocks)
    return;
  c->tl_blocks = g_new0 (double, n);
  c->tl_block_subs = g_new0 (double, n);
  if (c->tl_addr_ports != NULL)
    c->tl_addr_blocks = g_new0 (double, (gsize) c->n_addresses * n);
}

NatsimCollector *
natsim_collector_new (NatsimNat *nat, guint n_classes, guint n_addresses,
                      NatsimTime warmup, NatsimTime end, NatsimTime interval)
{
  NatsimCollector *c;

  g_return_val_if_fail (interval > 0 && end > 0 && warmup < end, NULL);
  c = g_new0 (NatsimCollector, 1);
  c->nat = nat;
  c->warmup = warmup;
  c->end = end;
  c->interval = interval;
  c->n_classes = n_classes;
  c->n_addresses = n_addresses;
  c->per_class = g_new0 (NatsimStats, MAX (n_classes, 1));
  c->class_live = g_new0 (guint64, MAX (n_classes, 1));
  c->addr_peak = g_new0 (double, n_addresses);
  c->addr_fail = g_new0 (double, n_addresses);
  c->interval_s = natsim_time_to_sec (interval);
  c->n_intervals = (guint) ((end + interval - 1) / interval);
  c->tl_bindings = g_new0 (double, c->n_intervals);
  c->tl_ports = g_new0 (double, c->n_intervals);
  c->tl_failures = g_new0 (double, c->n_intervals);
  /* The per-address timeline costs n_addresses doubles per bucket; a big
   * pool over a long run would not fit, so it is bounded (metrics.h). */
  if (n_addresses > 0
      && (guint64) n_addresses * c->n_intervals <= NATSIM_TL_ADDR_MAX_CELLS)
    c->tl_addr_ports = g_new0 (double, (gsize) n_addresses * c->n_intervals);
  c->addr_stride = c->n_intervals;
  c->counting = warmup == 0;
  init_block_figures (c, c->n_intervals);
  c->class_ports = g_new0 (guint, (gsize) MAX (n_classes, 1) * MAX (n_addresses, 1) * 3);
  port_refs_init (&c->port_refs);
  c->packets = g_array_new (FALSE, FALSE, sizeof (NatsimPacketRecord));
  return c;
}

NatsimCollector *
natsim_collector_new_open (NatsimNat *nat, guint n_classes, guint n_addresses,
                           NatsimTime interval, guint64 max_points)
{
  NatsimCollector *c;

  g_return_val_if_fail (interval > 0 && max_points > 0 && max_points < G_MAXUINT, NULL);
  c = g_new0 (NatsimCollector, 1);
  c->nat = nat;
  c->warmup = 0;
  c->end = G_MAXUINT64;
  c->interval = interval;
  c->n_classes = n_classes;
  c->n_addresses = n_addresses;
  c->per_class = g_new0 (NatsimStats, MAX (n_classes, 1));
  c->class_live = g_new0 (guint64, MAX (n_classes, 1));
  c->addr_peak = g_new0 (double, n_addresses);
  c->addr_fail = g_new0 (double, n_addresses);
  c->interval_s = natsim_time_to_sec (interval);
  c->open = true;
  c->max_points = max_points;
  c->cap = OPEN_INITIAL_BUCKETS;
  c->n_intervals = 0;
  c->reached = 0;
  c->tl_bindings = g_new0 (double, c->cap);
  c->tl_ports = g_new0 (double, c->cap);
  c->tl_failures = g_new0 (double, c->cap);
  if (n_addresses > 0)
    c->tl_addr_ports = g_new0 (double, (gsize) n_addresses * c->cap);
  c->addr_stride = c->cap;
  c->counting = true;
  init_block_figures (c, c->cap);
  c->class_ports = g_new0 (guint, (gsize) MAX (n_classes, 1) * MAX (n_addresses, 1) * 3);
  port_refs_init (&c->port_refs);
  c->packets = g_array_new (FALSE, FALSE, sizeof (NatsimPacketRecord));
  return c;
}

gsize
natsim_collector_memory_bytes (const NatsimCollector *c)
{
  gsize per_addr, buckets, n = sizeof *c;

  g_return_val_if_fail (c != NULL, 0);
  per_addr = c->n_addresses * sizeof (double);
  buckets = c->open ? c->cap : c->n_intervals;
  n += sizeof (NatsimStats) * MAX (c->n_classes, 1) + sizeof (guint64) * MAX (c->n_classes, 1);
  n += 4 * per_addr; /* peaks, failures, block peaks, fall-backs */
  n += 3 * buckets * sizeof (double);
  if (c->blocks)
    n += 2 * buckets * sizeof (double);
  if (c->tl_addr_ports != NULL)
    n += per_addr * c->addr_stride;
  if (c->tl_addr_blocks != NULL)
    n += per_addr * c->addr_stride;
  n += sizeof (guint) * MAX (c->n_classes, 1) * MAX (c->n_addresses, 1) * 3;
  n += sizeof (PortRef) * (c->port_refs.mask + 1);
  if (c->packets != NULL)
    n += sizeof (NatsimPacketRecord) * c->packets->len;
  return n;
}

void
natsim_collector_free (NatsimCollector *c)
{
  if (c == NULL)
    return;
  g_free (c->per_class);
  g_free (c->class_live);
  g_free (c->addr_peak);
  g_free (c->addr_fail);
  g_free (c->tl_bindings);
  g_free (c->tl_ports);
  g_free (c->tl_failures);
  g_free (c->tl_addr_ports);
  g_free (c->addr_peak_blocks);
  g_free (c->addr_fallbacks);
  g_free (c->tl_blocks);
  g_free (c->tl_block_subs);
  g_free (c->tl_addr_blocks);
  g_free (c->class_ports);
  g_clear_pointer (&c->port_refs.slots, g_free);
  g_clear_pointer (&c->packets, g_array_unref);
  g_free (c);
}

/* Keeps the packet for the sequence diagram of small runs; the log is
 * dropped (once) when the run outgrows it, so a large run pays one test
 * per packet. */
static void
log_packet (NatsimCollector *c, const NatsimPacket *pkt, const NatsimNatResult *res)
{
  NatsimPacketRecord rec = { 0 };

  if (c->packets == NULL)
    return;
  if (c->packets->len >= NATSIM_PACKET_LOG_MAX)
    {
      g_clear_pointer (&c->packets, g_array_unref);
      return;
    }
  rec.time = pkt->time;
  rec.src_addr = pkt->src_addr, rec.src_port = pkt->src_port;
  rec.dst_addr = pkt->dst_addr, rec.dst_port = pkt->dst_port;
  rec.ext_addr = res->ext_addr, rec.ext_port = res->ext_port;
  rec.in_addr = res->in_addr, rec.in_port = res->in_port;
  rec.cls = pkt->cls;
  rec.proto = pkt->proto;
  rec.dir = pkt->dir;
  rec.verdict = (uint8_t) res->verdict;
  rec.tcp_flags = pkt->tcp_flags;
  rec.hairpinned = res->hairpinned;
  g_array_append_val (c->packets, rec);
}

static inline void
bump_by (NatsimCollector *c, guint cls, NatsimStat s, double n)
{
  c->totals.v[s] += n;
  if (cls < c->n_classes)
    c->per_class[cls].v[s] += n;
}

static inline void
bump (NatsimCollector *c, guint cls, NatsimStat s)
{
  bump_by (c, cls, s, 1);
}

/* Counts @base (rebindings or binding losses) again under the packet's
 * flow kind; unclassified packets have no figure of their own. */
static inline void
bump_kind (NatsimCollector *c, guint cls, NatsimStat base, uint8_t kind)
{
  if (kind != NATSIM_FLOW_OTHER && kind < NATSIM_FLOW_N)
    bump (c, cls, natsim_stat_by_kind (base, (NatsimFlowKind) kind));
}

/* Open mode: merges adjacent bucket pairs and doubles the interval.  A
 * pair's sample is that of its later bucket (both end where the merged
 * bucket ends), its failures add; a merged bucket whose later half was not
 * sampled yet is not complete and is sampled again at its end. */
static void
open_merge (NatsimCollector *c)
{
  guint n = c->n_intervals, h = (n + 1) / 2;

  for (guint m = 0; m < h; m++)
    {
      guint lo = 2 * m, hi = lo + 1 < n ? lo + 1 : lo;

      c->tl_bindings[m] = c->tl_bindings[hi];
      c->tl_ports[m] = c->tl_ports[hi];
      c->tl_failures[m] = c->tl_failures[lo] + (hi != lo ? c->tl_failures[hi] : 0.0);
      if (c->blocks)
        {
          c->tl_blocks[m] = c->tl_blocks[hi];
          c->tl_block_subs[m] = c->tl_block_subs[hi];
        }
    }
  for (guint m = h; m < n; m++)
    {
      c->tl_bindings[m] = c->tl_ports[m] = c->tl_failures[m] = 0.0;
      if (c->blocks)
        c->tl_blocks[m] = c->tl_block_subs[m] = 0.0;
    }
  for (int t = 0; t < 2; t++)
    {
      double *rows = t == 0 ? c->tl_addr_ports : c->tl_addr_blocks;

      if (rows == NULL)
        continue;
      for (guint a = 0; a < c->n_addresses; a++)
        {
          double *row = rows + (gsize) a * c->addr_stride;

          for (guint m = 0; m < h; m++)
            row[m] = row[2 * m + 1 < n ? 2 * m + 1 : 2 * m];
          for (guint m = h; m < n; m++)
            row[m] = 0.0;
        }
    }
  c->n_intervals = h;
  c->next_bucket /= 2;
  c->interval *= 2;
  c->interval_s = natsim_time_to_sec (c->interval);
}

static double *
grow_array (double *a, guint old_len, guint new_len)
{
  a = g_renew (double, a, new_len);
  memset (a + old_len, 0, sizeof (double) * (new_len - old_len));
  return a;
}

/* Open mode: a per-address timeline with rows of @cap buckets. */
static double *
grow_rows (NatsimCollector *c, double *rows, guint cap)
{
  double *t;

  if (rows == NULL)
    return NULL;
  t = g_new0 (double, (gsize) c->n_addresses * cap);
  for (guint a = 0; a < c->n_addresses; a++)
    memcpy (t + (gsize) a * cap, rows + (gsize) a * c->addr_stride,
            sizeof (double) * c->n_intervals);
  g_free (rows);
  return t;
}

/* Open mode: makes the timeline hold @n buckets (n_intervals = @n). */
static void
open_grow (NatsimCollector *c, guint n)
{
  if (n > c->cap)
    {
      guint cap = c->cap;

      while (cap < n)
        cap = cap <= G_MAXUINT / 2 ? cap * 2 : n;
      c->tl_bindings = grow_array (c->tl_bindings, c->cap, cap);
      c->tl_ports = grow_array (c->tl_ports, c->cap, cap);
      c->tl_failures = grow_array (c->tl_failures, c->cap, cap);
      if (c->blocks)
        {
          c->tl_blocks = grow_array (c->tl_blocks, c->cap, cap);
          c->tl_block_subs = grow_array (c->tl_block_subs, c->cap, cap);
        }
      c->tl_addr_ports = grow_rows (c, c->tl_addr_ports, cap);
      c->tl_addr_blocks = grow_rows (c, c->tl_addr_blocks, cap);
      c->addr_stride = cap;
      c->cap = cap;
    }
  if (n > c->n_intervals)
    c->n_intervals = n;
}

/* Open mode: the per-address timeline is given up once it is sure to
 * exceed NATSIM_TL_ADDR_MAX_CELLS at the end: with @n buckets now, the end
 * has at least @n buckets if the interval stays, and at least
 * ceil((max_points + 1) / 2) if it doubles again. */
static void
open_check_addr_cells (NatsimCollector *c, guint n)
{
  guint64 after_doubling = (c->max_points + 2) / 2;

  if (c->tl_addr_ports != NULL
      && (guint64) c->n_addresses * n > NATSIM_TL_ADDR_MAX_CELLS
      && (guint64) c->n_addresses * after_doubling > NATSIM_TL_ADDR_MAX_CELLS)
    {
      g_clear_pointer (&c->tl_addr_ports, g_free);
      g_clear_pointer (&c->tl_addr_blocks, g_free);
    }
}

/* Open mode: makes room for the bucket holding @t, doubling the interval
 * while t / interval > max_points (as a closed collector's caller sizes
 * the interval from its end). */
static void
open_reach (NatsimCollector *c, NatsimTime t)
{
  guint64 n;

  while (t / c->interval > c->max_points)
    open_merge (c);
  n = t / c->interval + 1;
  open_check_addr_cells (c, (guint) n);
  open_grow (c, (guint) n);
  /* The next bucket edge, or no more reach needed below it. */
  c->reached = n * c->interval;
}

static inline bool
in_window (const NatsimCollector *c, NatsimTime t)
{
  return t >= c->warmup && t < c->end;
}

/* Block peaks: of address @a (G_MAXUINT: every address) and of the
 * subscribers holding blocks. */
static void
update_block_peaks (NatsimCollector *c, guint a)
{
  double subs = (double) natsim_nat_block_holders (c->nat);

  for (guint i = a == G_MAXUINT ? 0 : a; i < c->n_addresses; i++)
    {
      double p = (double) natsim_nat_blocks_in_use (c->nat, i);

      if (p > c->addr_peak_blocks[i])
        c->addr_peak_blocks[i] = p;
      if (p > c->totals.v[NATSIM_STAT_PEAK_BLOCKS_PER_ADDRESS])
        c->totals.v[NATSIM_STAT_PEAK_BLOCKS_PER_ADDRESS] = p;
      if (a != G_MAXUINT)
        break;
    }
  if (subs > c->totals.v[NATSIM_STAT_PEAK_BLOCK_SUBSCRIBERS])
    c->totals.v[NATSIM_STAT_PEAK_BLOCK_SUBSCRIBERS] = subs;
}

/* The slot of @key in @t: its entry, or the empty slot where it goes. */
static inline guint64
port_refs_find (const PortRefTable *t, guint64 key)
{
  guint64 i = port_refs_hash (key) & t->mask;

  while (t->slots[i].refs != 0 && t->slots[i].key != key)
    i = (i + 1) & t->mask;
  return i;
}

static void
port_refs_grow (PortRefTable *t)
{
  PortRef *old = t->slots;
  guint64 old_size = t->mask + 1;

  t->mask = old_size * 2 - 1;
  t->slots = g_new0 (PortRef, t->mask + 1);
  for (guint64 j = 0; j < old_size; j++)
    if (old[j].refs != 0)
      t->slots[port_refs_find (t, old[j].key)] = old[j];
  g_free (old);
}

/* Empties slot @i, moving later members of its probe run back into the
 * hole unless their home slot lies cyclically in (hole, j]. */
static void
port_refs_remove_at (PortRefTable *t, guint64 i)
{
  guint64 j = i;

  t->count--;
  for (;;)
    {
      guint64 home;

      t->slots[i].refs = 0;
      for (;;)
        {
          j = (j + 1) & t->mask;
          if (t->slots[j].refs == 0)
            return;
          home = port_refs_hash (t->slots[j].key) & t->mask;
          if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
            continue;
          break;
        }
      t->slots[i] = t->slots[j];
      i = j;
    }
}

/* A live binding of class @cls took (@delta 1) or left (-1) its external
 * port: the class's count of ports on that address moves when it is the
 * first or the last of its bindings there. */
static void
class_port_ref (NatsimCollector *c, const NatsimNatEvent *ev, int delta)
{
  PortRefTable *t = &c->port_refs;
  guint64 key;
  guint64 i;
  guint slot;

  if (ev->cls >= c->n_classes || ev->addr_index >= c->n_addresses)
    return;
  /* 16 bits of class, 16 of port, 2 of protocol, the address index
   * (below NATSIM_NAT_MAX_ADDRESSES) above them. */
  key = (guint64) ev->addr_index << 34 | (guint64) proto_slot (ev->proto) << 32
        | (guint64) ev->ext_port << 16 | ev->cls;
  i = port_refs_find (t, key);
  slot = ((guint) ev->cls * c->n_addresses + ev->addr_index) * 3 + proto_slot (ev->proto);
  if (delta > 0)
    {
      double n;

      if (t->slots[i].refs != 0)
        {
          t->slots[i].refs++;
          return;
        }
      if ((t->count + 1) * 10 > (t->mask + 1) * 7)
        {
          port_refs_grow (t);
          i = port_refs_find (t, key);
        }
      t->slots[i].key = key;
      t->slots[i].refs = 1;
      t->count++;
      n = (double) ++c->class_ports[slot];
      if (c->counting && in_window (c, ev->time)
          && n > c->per_class[ev->cls].v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS])
        c->per_class[ev->cls].v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS] = n;
      return;
    }
  if (t->slots[i].refs == 0)
    return;
  if (--t->slots[i].refs == 0)
    {
      port_refs_remove_at (t, i);
      c->class_ports[slot]--;
    }
}

static void
update_peaks (NatsimCollector *c)
{
  double live = (double) natsim_nat_live_bindings (c->nat);

  if (live > c->totals.v[NATSIM_STAT_PEAK_BINDINGS])
    c->totals.v[NATSIM_STAT_PEAK_BINDINGS] = live;
  for (guint a = 0; a < c->n_addresses; a++)
    {
      double p = (double) natsim_nat_ports_in_use (c->nat, a);
      if (p > c->addr_peak[a])
        c->addr_peak[a] = p;
      if (p > c->totals.v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS])
        c->totals.v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS] = p;
    }
  if (c->blocks)
    update_block_peaks (c, G_MAXUINT);
  for (guint k = 0; k < c->n_classes; k++)
    if ((double) c->class_live[k] > c->per_class[k].v[NATSIM_STAT_PEAK_BINDINGS])
      c->per_class[k].v[NATSIM_STAT_PEAK_BINDINGS] = (double) c->class_live[k];
  for (guint k = 0; k < c->n_classes; k++)
    for (guint i = 0; i < c->n_addresses * 3; i++)
      if ((double) c->class_ports[k * c->n_addresses * 3 + i]
          > c->per_class[k].v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS])
        c->per_class[k].v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS]
          = (double) c->class_ports[k * c->n_addresses * 3 + i];
}

void
natsim_collector_on_nat_event (const NatsimNatEvent *ev, void *user_data)
{
  NatsimCollector *c = user_data;
  bool count = in_window (c, ev->time);

  switch (ev->type)
    {
    case NATSIM_NAT_EV_BINDING_CREATED:
      if (ev->cls < c->n_classes)
        c->class_live[ev->cls]++;
      class_port_ref (c, ev, +1);
      if (count)
        {
          bump (c, ev->cls, NATSIM_STAT_BINDINGS_CREATED);
          if (c->totals.v[NATSIM_STAT_PEAK_BINDINGS] < (double) natsim_nat_live_bindings (c->nat))
            c->totals.v[NATSIM_STAT_PEAK_BINDINGS] = (double) natsim_nat_live_bindings (c->nat);
          if (ev->cls < c->n_classes &&
              c->per_class[ev->cls].v[NATSIM_STAT_PEAK_BINDINGS] < (double) c->class_live[ev->cls])
            c->per_class[ev->cls].v[NATSIM_STAT_PEAK_BINDINGS] = (double) c->class_live[ev->cls];
        }
      break;
    case NATSIM_NAT_EV_BINDING_EXPIRED:
      if (ev->cls < c->n_classes && c->class_live[ev->cls] > 0)
        c->class_live[ev->cls]--;
      class_port_ref (c, ev, -1);
      if (count)
        bump (c, ev->cls, NATSIM_STAT_BINDINGS_EXPIRED);
      break;
    case NATSIM_NAT_EV_PORT_ACQUIRED:
      if (count && ev->addr_index < c->n_addresses)
        {
          double p = (double) natsim_nat_ports_in_use (c->nat, ev->addr_index);
          if (p > c->addr_peak[ev->addr_index])
            c->addr_peak[ev->addr_index] = p;
          if (p > c->totals.v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS])
            c->totals.v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS] = p;
        }
      break;
    case NATSIM_NAT_EV_ALLOC_FAILED:
      if (c->open && ev->time >= c->reached)
        open_reach (c, ev->time);
      if (ev->time < c->end)
        {
          guint b = (guint) (ev->time / c->interval);
          if (b < c->n_intervals)
            c->tl_failures[b] += 1;
        }
      if (count && ev->addr_index < c->n_addresses)
        c->addr_fail[ev->addr_index] += 1;
      if (count && ev->cause < NATSIM_FAIL_N)
        bump (c, ev->cls, (NatsimStat) (NATSIM_STAT_NO_FREE_PORT + ev->cause));
      break;
    case NATSIM_NAT_EV_ADDRESS_FALLBACK:
      if (count)
        {
          bump (c, ev->cls, NATSIM_STAT_ADDRESS_FALLBACKS);
          if (ev->addr_index < c->n_addresses)
            c->addr_fallbacks[ev->addr_index] += 1;
        }
      break;
    case NATSIM_NAT_EV_BLOCK_ACQUIRED:
      if (count && c->blocks && ev->addr_index < c->n_addresses)
        update_block_peaks (c, ev->addr_index);
      break;
    default:
      break;
    }
}

void
natsim_collector_on_packet (NatsimCollector *c, const NatsimPacket *pkt,
                            const NatsimNatResult *res)
{
  guint cls = pkt->cls;
  bool out = pkt->dir == NATSIM_DIR_OUT;

  log_packet (c, pkt, res);
  if (!in_window (c, pkt->time))
    return;
  switch (res->verdict)
    {
    case NATSIM_VERDICT_FORWARDED:
      bump (c, cls, out ? NATSIM_STAT_PACKETS_OUT : NATSIM_STAT_PACKETS_IN);
      if (out && res->new_binding)
        bump (c, cls, NATSIM_STAT_FLOWS);
      if (res->rebinding)
        {
          bump (c, cls, NATSIM_STAT_REBINDINGS);
          bump_kind (c, cls, NATSIM_STAT_REBINDINGS, pkt->kind);
        }
      break;
    case NATSIM_VERDICT_ALLOC_FAILED:
      bump (c, cls, NATSIM_STAT_FLOWS);
      bump (c, cls, NATSIM_STAT_ALLOCATION_FAILURES);
      bump (c, cls, NATSIM_STAT_PACKETS_DROPPED);
      break;
    case NATSIM_VERDICT_BINDING_LOST:
      bump (c, cls, NATSIM_STAT_BINDING_LOSSES);
      bump_kind (c, cls, NATSIM_STAT_BINDING_LOSSES, pkt->kind);
      bump (c, cls, NATSIM_STAT_PACKETS_DROPPED);
      break;
    case NATSIM_VERDICT_FILTERED:
      bump (c, cls, NATSIM_STAT_FILTERED);
      bump (c, cls, NATSIM_STAT_PACKETS_DROPPED);
      break;
    case NATSIM_VERDICT_UNSOLICITED:
      bump (c, cls, NATSIM_STAT_PACKETS_DROPPED);
      break;
    case NATSIM_VERDICT_NOT_TRANSLATED:
      /* The engine returns it only for an inside host's packet to the
       * NAT's own public endpoint without hairpinning: it reaches nobody. */
      if (out)
        bump (c, cls, NATSIM_STAT_PACKETS_DROPPED);
      break;
    default:
      break;
    }
}

bool
natsim_collector_logs_packets (const NatsimCollector *c)
{
  return c->packets != NULL;
}

/* How many of next, next + gap, ..., last lie in [lo, hi). */
static guint64
ticks_within (NatsimTime next, NatsimTime gap, NatsimTime last, NatsimTime lo, NatsimTime hi)
{
  NatsimTime first, stop;

  if (hi <= lo || last < lo || next >= hi)
    return 0;
  /* The first tick at or after lo, and the last one before hi. */
  first = next >= lo ? next : next + (lo - next + gap - 1) / gap * gap;
  stop = MIN (last, hi - 1);
  if (first > stop)
    return 0;
  return (stop - first) / gap + 1;
}

void
natsim_collector_on_train (NatsimCollector *c, guint cls, NatsimTime next, NatsimTime gap,
                           NatsimTime last)
{
  guint64 n;

  g_return_if_fail (gap > 0 && c->packets == NULL);
  n = ticks_within (next, gap, last, c->warmup, c->end);
  bump_by (c, cls, NATSIM_STAT_PACKETS_OUT, (double) n);
  bump_by (c, cls, NATSIM_STAT_PACKETS_IN, (double) n);
}

void
natsim_collector_add_unreachable (NatsimCollector *c, guint cls, NatsimTime from,
                                  NatsimTime to)
{
  double s;

  from = MAX (from, c->warmup);
  to = MIN (to, c->end);
  if (to <= from)
    return;
  s = natsim_time_to_sec (to - from);
  c->totals.v[NATSIM_STAT_UNREACHABLE_SECONDS] += s;
  if (cls < c->n_classes)
    c->per_class[cls].v[NATSIM_STAT_UNREACHABLE_SECONDS] += s;
}

/* Samples the gauges into the timeline bucket c->next_bucket, at its end
 * (the last bucket may be partial and end at c->end). */
static void
sample_bucket (NatsimCollector *c)
{
  guint k = c->next_bucket;

  c->tl_bindings[k] = (double) natsim_nat_live_bindings (c->nat);
  c->tl_ports[k] = (double) natsim_nat_ports_in_use_total (c->nat);
  if (c->tl_addr_ports != NULL)
    for (guint a = 0; a < c->n_addresses; a++)
      c->tl_addr_ports[(gsize) a * c->addr_stride + k]
        = (double) natsim_nat_ports_in_use (c->nat, a);
  if (c->blocks)
    {
      double sum = 0.0;

      for (guint a = 0; a < c->n_addresses; a++)
        {
          double blocks = (double) natsim_nat_blocks_in_use (c->nat, a);

          sum += blocks;
          if (c->tl_addr_blocks != NULL)
            c->tl_addr_blocks[(gsize) a * c->addr_stride + k] = blocks;
        }
      c->tl_blocks[k] = sum;
      c->tl_block_subs[k] = (double) natsim_nat_block_holders (c->nat);
    }
  c->next_bucket++;
}

void
natsim_collector_advance (NatsimCollector *c, NatsimTime now)
{
  now = MIN (now, c->end);
  if (c->open && now >= c->reached)
    open_reach (c, now);
  for (;;)
    {
      NatsimTime edge = (NatsimTime) (c->next_bucket + 1) * c->interval;
      NatsimTime next = edge;

      if (!c->counting && c->warmup < next)
        next = c->warmup;
      if (next > now || c->next_bucket >= c->n_intervals)
        break;
      natsim_nat_advance (c->nat, next);
      if (!c->counting && next == c->warmup)
        {
          /* Peaks start from the state at the end of the warm-up. */
          c->counting = true;
          update_peaks (c);
          continue;
        }
      /* Sample at the bucket's end (the last bucket may be partial). */
      sample_bucket (c);
    }
  natsim_nat_advance (c->nat, now);
}

/* A per-address timeline with rows of n_intervals buckets, or NULL. */
static double *
copy_rows (const NatsimCollector *c, const double *rows)
{
  double *r;

  if (rows == NULL)
    return NULL;
  r = g_new (double, (gsize) c->n_addresses * c->n_intervals);
  for (guint a = 0; a < c->n_addresses; a++)
    memcpy (r + (gsize) a * c->n_intervals, rows + (gsize) a * c->addr_stride,
            sizeof (double) * c->n_intervals);
  return r;
}

NatsimRunResult *
natsim_collector_finish (NatsimCollector *c)
{
  NatsimRunResult *r = g_new0 (NatsimRunResult, 1);

  natsim_collector_advance (c, c->end);
  r->packets = g_steal_pointer (&c->packets);
  if (c->next_bucket < c->n_intervals)
    {
      /* The partial last bucket ends at c->end. */
      sample_bucket (c);
    }
  c->totals.v[NATSIM_STAT_BLOCKING_PROBABILITY] =
    c->totals.v[NATSIM_STAT_FLOWS] > 0
      ? c->totals.v[NATSIM_STAT_ALLOCATION_FAILURES] / c->totals.v[NATSIM_STAT_FLOWS] : 0.0;
  for (guint k = 0; k < c->n_classes; k++)
    {
      NatsimStats *s = &c->per_class[k];
      s->v[NATSIM_STAT_BLOCKING_PROBABILITY] =
        s->v[NATSIM_STAT_FLOWS] > 0
          ? s->v[NATSIM_STAT_ALLOCATION_FAILURES] / s->v[NATSIM_STAT_FLOWS] : 0.0;
    }
  r->totals = c->totals;
  r->n_classes = c->n_classes;
  r->per_class = g_memdup2 (c->per_class, sizeof (NatsimStats) * MAX (c->n_classes, 1));
  r->n_addresses = c->n_addresses;
  r->addr_peak_ports = g_memdup2 (c->addr_peak, sizeof (double) * c->n_addresses);
  r->addr_failures = g_memdup2 (c->addr_fail, sizeof (double) * c->n_addresses);
  r->addr_peak_blocks = g_memdup2 (c->addr_peak_blocks, sizeof (double) * c->n_addresses);
  r->addr_fallbacks = g_memdup2 (c->addr_fallbacks, sizeof (double) * c->n_addresses);
  r->blocks_per_address = (double) natsim_nat_blocks_per_address (c->nat);
  r->interval_s = c->interval_s;
  r->n_intervals = c->n_intervals;
  r->tl_bindings = g_memdup2 (c->tl_bindings, sizeof (double) * c->n_intervals);
  r->tl_ports = g_memdup2 (c->tl_ports, sizeof (double) * c->n_intervals);
  r->tl_failures = g_memdup2 (c->tl_failures, sizeof (double) * c->n_intervals);
  r->tl_addr_ports = copy_rows (c, c->tl_addr_ports);
  if (c->blocks)
    {
      r->tl_blocks = g_memdup2 (c->tl_blocks, sizeof (double) * c->n_intervals);
      r->tl_block_subscribers = g_memdup2 (c->tl_block_subs, sizeof (double) * c->n_intervals);
      r->tl_addr_blocks = copy_rows (c, c->tl_addr_blocks);
    }
  return r;
}

NatsimRunResult *
natsim_collector_finish_at (NatsimCollector *c, NatsimTime end)
{
  guint64 n;

  g_return_val_if_fail (c != NULL && c->open, NULL);
  g_return_val_if_fail (end > natsim_nat_now (c->nat), NULL);
  /* The interval a closed collector's caller would choose for @end. */
  while (end / c->interval > c->max_points)
    open_merge (c);
  n = (end + c->interval - 1) / c->interval;
  g_return_val_if_fail (n >= c->n_intervals, NULL);
  open_grow (c, (guint) n);
  if (c->tl_addr_ports != NULL
      && (guint64) c->n_addresses * n > NATSIM_TL_ADDR_MAX_CELLS)
    {
      g_clear_pointer (&c->tl_addr_ports, g_free);
      g_clear_pointer (&c->tl_addr_blocks, g_free);
    }
  /* From here on a closed collector over [0, end). */
  c->open = false;
  c->end = end;
  return natsim_collector_finish (c);
}

void
natsim_collector_add_missed_call (NatsimCollector *c, guint cls, NatsimTime t)
{
  if (!in_window (c, t))
    return;
  bump (c, cls, NATSIM_STAT_MISSED_CALLS);
}
