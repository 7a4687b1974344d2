/* natsim: the trace replay driver.
 *
 * One pass over the captures: every IPv4 packet with ports that crosses the
 * inside/outside boundary is offered to the NAT and the collector, as
 * natsim_simulate_replication() does for modelled traffic.  The end of the
 * run (the time of the last record, decodable or not) is known only at the
 * end, so the collector is an open one (natsim_collector_new_open()), closed
 * there; standard input ("-") can be replayed.  The per-packet path
 * allocates nothing and uses no GError.
 *
 * With --scale K, a first pass numbers the inside hosts (the clones'
 * addresses depend on it) and finds the end, then K readers (one per copy
 * of the population) are merged by (time + copy offset, copy) in a small
 * binary heap, so the NAT sees one stream in time order: O(log K) per
 * packet.  Standard input cannot be read twice: --scale refuses it.
 *
 * The merged stream is read REPLAY_AHEAD packets ahead of the NAT into a
 * small ring: a packet's inside/outside test and translation to a NAT
 * packet depend on nothing the NAT does, so they are done when it enters
 * the ring, and the NAT is told to start loading its flow's table slot
 * then, and its binding halfway through the ring (natsim_nat_prefetch()).
 * On a capture whose flows interleave at random those two loads miss every
 * cache and cost more than everything else a packet does; ahead of time
 * they overlap with the work on the packets before.  Everything with an
 * effect (the NAT, the collector, the counts, narration, fragments) still
 * happens packet by packet in capture order when a packet leaves the ring,
 * and a read error is reported after the packets read before it, as
 * without the ring.
 */
#include <string.h>

#include "natsim/error.h"
#include "natsim/narrate.h"
#include "natsim/parse.h"
#include "natsim/replay.h"
#include "natsim/rng.h"
#include "step.h"

/* The most timeline points (as the scenario's timeline_interval check). */
#define REPLAY_TIMELINE_MAX_POINTS UINT64_C (1000000)

/* Packets read ahead of the NAT (a power of 2), and how far ahead of its
 * turn a packet's binding is asked for: the flow table slot was asked for
 * REPLAY_AHEAD packets ahead, the binding REPLAY_AHEAD_BINDING ahead.  A
 * load from memory takes a few hundred nanoseconds at worst, about what
 * one packet costs; the distance leaves room for runs of packets that cost
 * little (not offered, or whose flow was already in cache). */
#define REPLAY_AHEAD         16u
#define REPLAY_AHEAD_BINDING 8u

/* The reader's pending error as a GError of ours (exit 2, naming the file). */
static void
set_read_error (const NatsimTraceReader *r, GError **error)
{
  const GError *e = natsim_trace_reader_error (r);

  g_set_error_literal (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       e != NULL ? e->message : "trace read error");
}

/* First pass (--scale): the inside IPv4 hosts numbered in order of first
 * appearance into @hosts, and the time of the last decoded packet (which
 * --scale offsets). */
static gboolean
first_pass (const char *const *traces, guint n, const NatsimCidrSet *inside,
            GHashTable *hosts, NatsimTime *ret_last, gboolean *ret_any, GError **error)
{
  g_autoptr (NatsimTraceReader) r = natsim_trace_reader_open (traces, n, error);
  NatsimTracePacket tp;
  NatsimTraceResult res;

  if (r == NULL)
    return FALSE;
  *ret_last = 0;
  *ret_any = FALSE;
  while ((res = natsim_trace_reader_next (r, &tp)) == NATSIM_TRACE_PACKET)
    {
      *ret_last = tp.time;
      *ret_any = TRUE;
      if (tp.ip_version != 4)
        continue;
      for (guint k = 0; k < 2; k++)
        {
          uint32_t a = k == 0 ? tp.src4 : tp.dst4;

          if (natsim_cidr_set_contains_ipv4 (inside, a) &&
              !g_hash_table_contains (hosts, GUINT_TO_POINTER (a)))
            {
              if ((a & NATSIM_REPLAY_CLONE_MASK) == NATSIM_REPLAY_CLONE_NET)
                {
                  char buf[16];

                  natsim_format_ipv4 (a, buf, sizeof buf);
                  g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                               "--scale: inside host %s lies in 240.0.0.0/4, where the "
                               "clones of the population are numbered", buf);
                  return FALSE;
                }
              g_hash_table_insert (hosts, GUINT_TO_POINTER (a),
                                   GUINT_TO_POINTER (g_hash_table_size (hosts)));
            }
        }
    }
  if (res == NATSIM_TRACE_ERROR)
    {
      set_read_error (r, error);
      return FALSE;
    }
  return TRUE;
}

/* One copy of the population: a reader, its pending packet and offset. */
typedef struct
{
  NatsimTraceReader *reader;
  NatsimTracePacket  tp;
  NatsimTime         offset;
  NatsimTime         time; /* tp.time + offset */
} Copy;

static bool
copy_before (const Copy *copies, guint a, guint b)
{
  if (copies[a].time != copies[b].time)
    return copies[a].time < copies[b].time;
  return a < b;
}

static void
heap_sift_down (guint *heap, guint len, const Copy *copies, guint i)
{
  for (;;)
    {
      guint l = 2 * i + 1, r = l + 1, m = i, t;

      if (l < len && copy_before (copies, heap[l], heap[m]))
        m = l;
      if (r < len && copy_before (copies, heap[r], heap[m]))
        m = r;
      if (m == i)
        return;
      t = heap[i];
      heap[i] = heap[m];
      heap[m] = t;
      i = m;
    }
}

/* Reads the next packet of copy @c; returns NATSIM_TRACE_END when it is
 * exhausted. */
static NatsimTraceResult
copy_advance (Copy *c)
{
  NatsimTraceResult res = natsim_trace_reader_next (c->reader, &c->tp);

  if (res == NATSIM_TRACE_PACKET)
    c->time = natsim_time_add (c->tp.time, c->offset);
  return res;
}

/* The address of copy @j of the inside host numbered @h. */
static uint32_t
clone_address (guint64 h, guint scale, guint j)
{
  return NATSIM_REPLAY_CLONE_NET + 1 + (uint32_t) (h * (scale - 1) + (j - 1));
}

static void
copies_free (Copy *copies, guint n)
{
  for (guint i = 0; copies != NULL && i < n; i++)
    natsim_trace_reader_free (copies[i].reader);
  g_free (copies);
}

/* What a packet of the merged stream is to the NAT, decided when it
 * enters the ring (replay_prepare()). */
typedef enum
{
  PENDING_IPV6,           /* not IPv4 */
  PENDING_LOCAL,          /* both ends on the same side */
  PENDING_LATER_FRAGMENT, /* a later IPv4 fragment (no ports) */
  PENDING_UNTRANSLATABLE, /* no ports (ICMP other than echo) */
  PENDING_OFFER,          /* offered to the NAT as @pkt */
} PendingKind;

/* A packet in the ring: what replay_offer() needs of it, so the reader's
 * packet (and the buffer its pointers point into) can move on. */
typedef struct
{
  NatsimPacket pkt;     /* PENDING_OFFER: the packet as offered */
  NatsimTime   time;    /* capture time + the copy's offset */
  guint        j;       /* the copy it comes from */
  uint32_t     src4, dst4, frag_id, ip_length;
  uint8_t      proto;
  uint8_t      kind;    /* PendingKind */
  bool         src_in;  /* the source is inside */
  bool         fragment;
} Pending;

/* One replay: its inputs, the copies being merged, the NAT they feed and
 * what is counted on the way. */
typedef struct
{
  const NatsimNatConfig *cfg;
  const char *const     *traces;
  guint                  n;
  guint                  k;         /* copies of the population (--scale) */
  const NatsimCidrSet   *inside;
  GHashTable            *hosts;     /* inside host -> its number (k > 1) */
  Copy                  *copies;    /* k of them */
  guint                 *heap;      /* copies with a pending packet */
  guint                  heap_len;
  gsl_rng               *nat_rng;
  NatsimNat             *nat;
  NatsimCollector       *collector;
  NatsimTime             interval;
  NatsimTime             last;      /* the last decoded packet (k > 1) */
  gboolean               any;       /* any packet decoded (k > 1) */
  NatsimTime             max_offset;
  NatsimTime             end;
  struct FragEntry      *frags;     /* FRAG_TABLE entries */
  Pending                ring[REPLAY_AHEAD]; /* packets read ahead */
  guint                  ring_head, ring_len;
  Copy                  *failed;    /* the copy whose reader failed, if any */
  NatsimReplayInfo       info;
  const NatsimReplayObserver *obs; /* may be NULL */
  NatsimNarrator        *narrator; /* with obs->events */
} Replay;

/* Later IPv4 fragments carry no ports; Linux reassembles before NAT
 * (nf_defrag_ipv4) and translates the datagram whole, so its later pieces
 * go wherever its first went: forwarded if the first was translated,
 * dropped if it was not, or if it never came within the reassembly
 * timeout (ipfrag_time, 30 s).  Pieces that arrive before their first wait
 * and go with it.  Datagrams are remembered in a fixed, direct-mapped
 * table (a collision forgets the older datagram; its waiting pieces count
 * as dropped): no allocation on the packet path. */
#define FRAG_TABLE_BITS 12
#define FRAG_TIMEOUT    (30 * NATSIM_NSEC_PER_SEC)

typedef enum
{
  FRAG_WAITING,   /* later pieces seen, not the first */
  FRAG_FORWARDED, /* the first was translated */
  FRAG_DROPPED,   /* the first was not */
} FragState;

typedef struct FragEntry
{
  bool         used;
  uint8_t      state;    /* FragState */
  uint8_t      proto;
  uint16_t     id;
  guint        copy;
  uint32_t     src, dst; /* as captured */
  NatsimTime   first_seen;
  NatsimPacket first;    /* the first piece as offered (FRAG_FORWARDED) */
  guint        waiting;  /* pieces waiting for the first */
  guint64      waiting_bytes;
} FragEntry;

static FragEntry *
frag_entry (Replay *r, guint j, const Pending *tp, NatsimTime now)
{
  uint32_t   h = (tp->src4 * UINT32_C (2654435761)) ^ (tp->dst4 * UINT32_C (40503))
                 ^ ((uint32_t) tp->frag_id << 8) ^ tp->proto ^ (j * UINT32_C (97));
  FragEntry *e = &r->frags[(h * UINT32_C (2654435769)) >> (32 - FRAG_TABLE_BITS)];
  bool       same = e->used && e->copy == j && e->src == tp->src4 && e->dst == tp->dst4
                    && e->id == (uint16_t) tp->frag_id && e->proto == tp->proto;

  if (same && now >= e->first_seen && now - e->first_seen <= FRAG_TIMEOUT)
    return e;
  if (e->used && e->waiting > 0 && e->copy == 0)
    r->info.fragments_dropped += e->waiting;
  memset (e, 0, sizeof *e);
  e->used = true;
  e->copy = j;
  e->src = tp->src4;
  e->dst = tp->dst4;
  e->id = (uint16_t) tp->frag_id;
  e->proto = tp->proto;
  e->first_seen = now;
  e->state = FRAG_WAITING;
  return e;
}

/* Offers one later piece of @e's datagram as a packet of its flow. */
static void
frag_forward (Replay *r, guint j, const FragEntry *e, NatsimTime now, uint32_t length)
{
  NatsimPacket    pkt = e->first;
  NatsimNatResult nr;

  pkt.time = now;
  pkt.length = (uint16_t) MIN (length, G_MAXUINT16);
  pkt.tcp_flags = 0;
  r->info.fragments_forwarded += j == 0;
  natsim_step_packet (r->nat, r->collector, &pkt, &nr);
  if (r->narrator != NULL)
    natsim_narrator_packet (r->narrator, &pkt, &nr);
}

/* A later piece (no ports) of copy @j. */
static void
frag_later (Replay *r, guint j, const Pending *tp, NatsimTime now)
{
  FragEntry *e = frag_entry (r, j, tp, now);

  switch ((FragState) e->state)
    {
    case FRAG_FORWARDED:
      frag_forward (r, j, e, now, tp->ip_length);
      break;
    case FRAG_DROPPED:
      r->info.fragments_dropped += j == 0;
      break;
    case FRAG_WAITING:
    default:
      e->waiting++;
      e->waiting_bytes += tp->ip_length;
      break;
    }
}

/* The first piece of copy @j, offered as @pkt with result @nr: its
 * datagram's waiting pieces follow it. */
static void
frag_first (Replay *r, guint j, const Pending *tp, const NatsimPacket *pkt,
            const NatsimNatResult *nr)
{
  FragEntry *e = frag_entry (r, j, tp, pkt->time);
  guint      waiting = e->waiting;

  e->state = nr->verdict == NATSIM_VERDICT_FORWARDED ? FRAG_FORWARDED : FRAG_DROPPED;
  e->first = *pkt;
  e->waiting = 0;
  if (e->state == FRAG_DROPPED)
    r->info.fragments_dropped += j == 0 ? waiting : 0;
  else
    for (guint i = 0; i < waiting; i++)
      frag_forward (r, j, e, pkt->time, (uint32_t) (e->waiting_bytes / waiting));
}

static void
replay_clear (Replay *r)
{
  g_clear_pointer (&r->frags, g_free);
  copies_free (r->copies, r->k);
  g_clear_pointer (&r->heap, g_free);
  g_clear_pointer (&r->collector, natsim_collector_free);
  g_clear_pointer (&r->nat, natsim_nat_free);
  g_clear_pointer (&r->nat_rng, gsl_rng_free);
  g_clear_pointer (&r->hosts, g_hash_table_unref);
  g_clear_pointer (&r->narrator, natsim_narrator_free);
}

/* --scale reads the traces twice (first_pass(), then the copies). */
static gboolean
refuse_stdin_scaled (const char *const *traces, guint n, guint k, GError **error)
{
  for (guint i = 0; k > 1 && i < n; i++)
    if (strcmp (traces[i], "-") == 0)
      {
        g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                     "-: --scale %u reads the traces twice; standard input cannot be "
                     "replayed with --scale (save it to a file first)", k);
        return FALSE;
      }
  return TRUE;
}

/* --scale: numbers the inside hosts and checks that their clones fit
 * 240.0.0.0/4. */
static gboolean
number_hosts (Replay *r, GError **error)
{
  guint64 n_hosts;

  r->hosts = g_hash_table_new (g_direct_hash, g_direct_equal);
  if (!first_pass (r->traces, r->n, r->inside, r->hosts, &r->last, &r->any, error))
    return FALSE;
  n_hosts = g_hash_table_size (r->hosts);

  if (n_hosts * (r->k - 1) > (~NATSIM_REPLAY_CLONE_MASK) - 1)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "--scale %u: %" G_GUINT64_FORMAT " inside hosts x %u clones do not "
                   "fit 240.0.0.0/4 (at most %u clone addresses)",
                   r->k, n_hosts, r->k - 1, (~NATSIM_REPLAY_CLONE_MASK) - 1);
      return FALSE;
    }
  r->info.inside_hosts = n_hosts;
  return TRUE;
}

/* Opens the k copies at their offsets (copy 0 is the capture as it is),
 * reads the first packet of each and heaps those that have one. */
static gboolean
copies_open (Replay *r, uint64_t seed, const NatsimReplayScale *scale, GError **error)
{
  g_autoptr (gsl_rng) scale_rng = natsim_rng_new (seed, 0, "scale");
  /* Copies after the first exist only with a @scale. */
  NatsimTime offset_max = scale != NULL ? scale->offset_max : 0;

  r->copies = g_new0 (Copy, r->k);
  r->heap = g_new (guint, r->k);
  for (guint j = 0; j < r->k; j++)
    {
      Copy *c = &r->copies[j];
      NatsimTraceResult res;

      if (j > 0 && offset_max > 0)
        c->offset = (NatsimTime) (gsl_rng_uniform (scale_rng) * (double) offset_max);
      r->max_offset = MAX (r->max_offset, c->offset);
      c->reader = natsim_trace_reader_open (r->traces, r->n, error);
      if (c->reader == NULL)
        return FALSE;
      res = copy_advance (c);
      if (res == NATSIM_TRACE_ERROR)
        {
          set_read_error (c->reader, error);
          return FALSE;
        }
      if (res == NATSIM_TRACE_PACKET)
        r->heap[r->heap_len++] = j;
    }
  for (guint i = r->heap_len; i-- > 0;)
    heap_sift_down (r->heap, r->heap_len, r->copies, i);
  return TRUE;
}

/* The timeline's interval doubled until the run fits its most points. */
static NatsimTime
fit_interval (NatsimTime interval, NatsimTime end)
{
  while (end / interval > REPLAY_TIMELINE_MAX_POINTS)
    interval *= 2;
  return interval;
}

/* Narration (--events): lifecycle events go to the collector, then the
 * narrator. */
static void
narrate_nat_event (const NatsimNatEvent *ev, void *user_data)
{
  Replay *r = user_data;

  natsim_collector_on_nat_event (ev, r->collector);
  natsim_narrator_nat_event (r->narrator, ev);
}

/* The NAT and its collector.  With --scale the end is known from the first
 * pass; without, only at the end (natsim_collector_finish_at()). */
static void
replay_nat_new (Replay *r, uint64_t seed)
{
  r->nat_rng = natsim_rng_new (seed, 0, "nat");
  r->nat = natsim_nat_new (r->cfg, r->nat_rng);
  if (r->k > 1)
    {
      r->end = r->any ? natsim_time_add (r->last, r->max_offset) + 1 : 1;
      r->interval = fit_interval (r->interval, r->end);
      r->collector = natsim_collector_new (r->nat, NATSIM_CLASS_N, r->cfg->n_addresses, 0,
                                           r->end, r->interval);
    }
  else
    {
      r->end = 0;
      r->collector = natsim_collector_new_open (r->nat, NATSIM_CLASS_N, r->cfg->n_addresses,
                                                r->interval, REPLAY_TIMELINE_MAX_POINTS);
    }
  if (r->obs != NULL && r->obs->events != NULL)
    {
      r->narrator = natsim_narrator_new (r->obs->events, r->nat, r->cfg, natsim_replay_class_names (),
                                         NATSIM_CLASS_N);
      natsim_narrator_legend (r->narrator);
      natsim_nat_set_observer (r->nat, narrate_nat_event, r);
    }
  else
    natsim_nat_set_observer (r->nat, natsim_collector_on_nat_event, r->collector);
}

/* Decides what the pending packet of copy @j is to the NAT, into @p: all
 * that depends on the packet alone (sides, translation to a NAT packet,
 * clone address, traffic class), nothing that depends on the NAT. */
static void
replay_prepare (const Replay *r, guint j, Pending *p)
{
  const Copy *c = &r->copies[j];
  const NatsimTracePacket *tp = &c->tp;
  bool dst_in, outbound;

  p->j = j;
  p->time = c->time;
  p->src4 = tp->src4;
  p->dst4 = tp->dst4;
  p->frag_id = tp->frag_id;
  p->ip_length = tp->ip_length;
  p->proto = tp->proto;
  p->fragment = tp->fragment;
  if (tp->ip_version != 4)
    {
      p->kind = PENDING_IPV6;
      return;
    }
  p->src_in = natsim_cidr_set_contains_ipv4 (r->inside, tp->src4);
  dst_in = natsim_cidr_set_contains_ipv4 (r->inside, tp->dst4);
  if (p->src_in == dst_in)
    {
      p->kind = PENDING_LOCAL;
      return;
    }
  if (tp->fragment && !tp->has_ports)
    {
      p->kind = PENDING_LATER_FRAGMENT;
      return;
    }
  if (!natsim_trace_packet_to_nat (tp, p->src_in, &p->pkt))
    {
      p->kind = PENDING_UNTRANSLATABLE;
      return;
    }
  p->kind = PENDING_OFFER;
  outbound = p->src_in;
  p->pkt.time = c->time;
  if (j > 0)
    {
      uint32_t *in_addr = outbound ? &p->pkt.src_addr : &p->pkt.dst_addr;
      guint64 h = GPOINTER_TO_UINT (g_hash_table_lookup (r->hosts,
                                                         GUINT_TO_POINTER (*in_addr)));

      *in_addr = clone_address (h, r->k, j);
    }
  p->pkt.cls = (uint16_t) natsim_replay_classify_flow (p->pkt.proto,
                                                       outbound ? p->pkt.src_port : p->pkt.dst_port,
                                                       outbound ? p->pkt.dst_port : p->pkt.src_port);
}

/* Offers packet @p to the NAT, or counts why not.  Packets not offered are
 * counted once, for the capture (copy 0), like the reader's counts. */
static void
replay_offer (Replay *r, Pending *p)
{
  guint j = p->j;
  NatsimNatResult nr;

  switch ((PendingKind) p->kind)
    {
    case PENDING_IPV6:
      r->info.ipv6 += j == 0;
      return;
    case PENDING_LOCAL:
      r->info.not_translated += j == 0;
      r->info.inside_only += j == 0 && p->src_in;
      return;
    case PENDING_LATER_FRAGMENT:
      frag_later (r, j, p, p->time);
      return;
    case PENDING_UNTRANSLATABLE:
      r->info.untranslatable += j == 0;
      return;
    case PENDING_OFFER:
    default:
      break;
    }
  if (p->src_in)
    r->info.offered_out++;
  else
    r->info.offered_in++;
  natsim_step_packet (r->nat, r->collector, &p->pkt, &nr);
  if (r->narrator != NULL)
    natsim_narrator_packet (r->narrator, &p->pkt, &nr);
  if (p->fragment)
    frag_first (r, j, p, &p->pkt, &nr);
  /* A TCP connection whose first packet seen is not a SYN: the NAT picks it
   * up mid-stream, as Linux conntrack's loose tracking. */
  if (p->src_in && p->pkt.proto == NATSIM_PROTO_TCP && nr.new_binding &&
      (p->pkt.tcp_flags & NATSIM_TCP_SYN) == 0)
    r->info.mid_stream_tcp++;
}

/* Bytes of the capture consumed so far, for progress: captured bytes plus
 * a 16-byte record header each. */
static guint64
bytes_read (const NatsimTraceReader *r)
{
  const NatsimTraceStats *st = natsim_trace_reader_stats (r);

  return st->bytes_captured + 16 * st->packets_read;
}

/* Moves the next packet of the merge (the earliest pending one of all
 * copies) into the ring, asking the NAT for its flow's slot, and reads the
 * next packet of its copy.  False when there is none, or after a read
 * error (r->failed, reported once the ring has drained). */
static bool
ring_pull (Replay *r)
{
  guint j;
  Copy *c;
  Pending *p;
  NatsimTraceResult res;

  if (r->heap_len == 0 || r->failed != NULL)
    return false;
  j = r->heap[0];
  c = &r->copies[j];
  p = &r->ring[(r->ring_head + r->ring_len++) % REPLAY_AHEAD];
  replay_prepare (r, j, p);
  if (p->kind == PENDING_OFFER)
    natsim_nat_prefetch (r->nat, &p->pkt);
  res = copy_advance (c);
  if (res == NATSIM_TRACE_ERROR)
    {
      /* With --scale the first pass read the same files; a file that
       * changed since is still an input error. */
      r->failed = c;
      return false;
    }
  if (res == NATSIM_TRACE_END)
    r->heap[0] = r->heap[--r->heap_len];
  heap_sift_down (r->heap, r->heap_len, r->copies, 0);
  return true;
}

/* Merges the copies in time order through the NAT. */
static gboolean
replay_merge (Replay *r, GError **error)
{
  guint64 steps = 0;

  while (r->ring_len < REPLAY_AHEAD && ring_pull (r))
    ;
  while (r->ring_len > 0)
    {
      Pending *p = &r->ring[r->ring_head];

      if (r->ring_len > REPLAY_AHEAD_BINDING)
        {
          const Pending *q = &r->ring[(r->ring_head + REPLAY_AHEAD_BINDING) % REPLAY_AHEAD];

          if (q->kind == PENDING_OFFER)
            natsim_nat_prefetch_binding (r->nat, &q->pkt);
        }
      replay_offer (r, p);
      r->ring_head = (r->ring_head + 1) % REPLAY_AHEAD;
      r->ring_len--;
      if (r->obs != NULL && r->obs->progress != NULL && (++steps & 4095) == 0)
        r->obs->progress (bytes_read (r->copies[0].reader), r->obs->progress_data);
      ring_pull (r);
    }
  if (r->failed != NULL)
    {
      set_read_error (r->failed->reader, error);
      return FALSE;
    }
  return TRUE;
}

/* The reader's counts, those of the capture (copy 0), not multiplied; and
 * without --scale the end, now known. */
static void
replay_close (Replay *r)
{
  const NatsimTraceStats *st = natsim_trace_reader_stats (r->copies[0].reader);

  /* Pieces still waiting for a first piece that never came. */
  for (guint i = 0; i < (1u << FRAG_TABLE_BITS); i++)
    if (r->frags[i].used && r->frags[i].copy == 0)
      r->info.fragments_dropped += r->frags[i].waiting;
  r->info.packets_read = st->packets_read;
  r->info.packets_decoded = st->packets_decoded;
  r->info.skipped = st->packets_skipped;
  memcpy (r->info.skipped_by_reason, st->skipped, sizeof r->info.skipped_by_reason);
  r->info.trace = *st;
  if (r->k == 1)
    {
      /* The run covers every record, decodable or not; the collector
       * doubles its interval as natsim_collector_new()'s caller above. */
      r->any = natsim_trace_reader_last_time (r->copies[0].reader, &r->last);
      r->end = r->any ? r->last + 1 : 1;
      r->interval = fit_interval (r->interval, r->end);
    }
  r->info.end = r->end;
  r->info.interval = r->interval;
  r->info.scale = r->k;
}

NatsimRunResult *
natsim_replay_scaled (const NatsimNatConfig *cfg, const char *const *traces, guint n,
                      const NatsimCidrSet *inside, NatsimTime interval, uint64_t seed,
                      const NatsimReplayScale *scale, NatsimReplayInfo *ret_info,
                      GError **error)
{
  return natsim_replay_observed (cfg, traces, n, inside, interval, seed, scale, NULL,
                                 ret_info, error);
}

NatsimRunResult *
natsim_replay_observed (const NatsimNatConfig *cfg, const char *const *traces, guint n,
                        const NatsimCidrSet *inside, NatsimTime interval, uint64_t seed,
                        const NatsimReplayScale *scale, const NatsimReplayObserver *obs,
                        NatsimReplayInfo *ret_info, GError **error)
{
  Replay r = { 0 };
  NatsimRunResult *result = NULL;

  g_return_val_if_fail (cfg != NULL && inside != NULL, NULL);
  g_return_val_if_fail (n > 0 && traces != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  r.cfg = cfg;
  r.obs = obs;
  r.traces = traces;
  r.n = n;
  r.k = scale != NULL ? MAX (scale->scale, 1u) : 1;
  r.interval = interval != 0 ? interval : 60 * NATSIM_NSEC_PER_SEC;
  if (!refuse_stdin_scaled (traces, n, r.k, error))
    return NULL;
  r.inside = inside;
  r.frags = g_new0 (FragEntry, 1u << FRAG_TABLE_BITS);
  if ((r.k == 1 || number_hosts (&r, error)) && copies_open (&r, seed, scale, error))
    {
      replay_nat_new (&r, seed);
      if (replay_merge (&r, error))
        {
          replay_close (&r);
          result = r.k > 1 ? natsim_collector_finish (r.collector)
                           : natsim_collector_finish_at (r.collector, r.end);
          if (ret_info != NULL)
            *ret_info = r.info;
        }
    }
  replay_clear (&r);
  return result;
}

NatsimRunResult *
natsim_replay (const NatsimNatConfig *cfg, const char *const *traces, guint n,
               const NatsimCidrSet *inside, NatsimTime interval, uint64_t seed,
               NatsimReplayInfo *ret_info, GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return natsim_replay_scaled (cfg, traces, n, inside, interval, seed, NULL, ret_info, error);
}
