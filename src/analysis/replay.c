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
 */
#include <string.h>

#include "natsim/error.h"
#include "natsim/narrate.h"
#include "natsim/parse.h"
#include "natsim/replay.h"
#include "natsim/rng.h"

/* The most timeline points (as the scenario's timeline_interval check). */
#define REPLAY_TIMELINE_MAX_POINTS UINT64_C (1000000)

static const char *const class_names[NATSIM_CLASS_N + 1] = {
  "sip-tls", "sip-trunk-tls", "sip", "stun", "app-audio", "app-video",
  "device-media", "ntp", "dns", "https", "push", "other-udp", "other-tcp",
  "icmp", NULL
};

const char *const *
natsim_replay_class_names (void)
{
  return class_names;
}

guint
natsim_replay_n_classes (void)
{
  return NATSIM_CLASS_N;
}

guint
natsim_replay_classify (uint8_t proto, uint16_t port)
{
  if (proto == NATSIM_PROTO_ICMP)
    return NATSIM_CLASS_ICMP;
  if (port == 123)
    return NATSIM_CLASS_NTP;
  if (port == 53)
    return NATSIM_CLASS_DNS;
  if (port == 5060 || port == 5061)
    return NATSIM_CLASS_SIP;
  if (proto == NATSIM_PROTO_TCP)
    {
      if (port == 8934)
        return NATSIM_CLASS_SIP_TLS;
      if (port == 5062)
        return NATSIM_CLASS_SIP_TRUNK_TLS;
      if (port == 443 || port == 8443)
        return NATSIM_CLASS_HTTPS;
      if (port == 2197 || port == 5223 || (port >= 5228 && port <= 5230))
        return NATSIM_CLASS_PUSH;
      return NATSIM_CLASS_OTHER_TCP;
    }
  if (port == 5004 || port == 9000 || port == 3478)
    return NATSIM_CLASS_STUN;
  if (port >= 8500 && port <= 8599)
    return NATSIM_CLASS_APP_AUDIO;
  if (port >= 8600 && port <= 8699)
    return NATSIM_CLASS_APP_VIDEO;
  if (port >= 19560 && port <= 19660)
    return NATSIM_CLASS_DEVICE_MEDIA;
  return NATSIM_CLASS_OTHER_UDP;
}

guint
natsim_replay_classify_flow (uint8_t proto, uint16_t local_port, uint16_t remote_port)
{
  guint c = natsim_replay_classify (proto, remote_port);

  /* Media toward the cloud relay or a peer goes to any port in
   * 19560-65535, so a remote port there says little; the endpoint's own
   * port tells what it is (REFERENCE.md section 1: the app sends audio from
   * 8500-8599, video from 8600-8699, devices from 19560-19660). */
  if (c == NATSIM_CLASS_OTHER_UDP || c == NATSIM_CLASS_DEVICE_MEDIA)
    {
      if (local_port >= 8500 && local_port <= 8599)
        return NATSIM_CLASS_APP_AUDIO;
      if (local_port >= 8600 && local_port <= 8699)
        return NATSIM_CLASS_APP_VIDEO;
      if (local_port >= 19560 && local_port <= 19660)
        return NATSIM_CLASS_DEVICE_MEDIA;
    }
  return c;
}

int
natsim_replay_class_index (const char *name)
{
  for (int i = 0; i < NATSIM_CLASS_N; i++)
    if (g_strcmp0 (class_names[i], name) == 0)
      return i;
  return -1;
}

/* natsim_cidr_set_contains_ipv4() scans the prefix list with 16-byte
 * compares, which cost a tenth of a replay with the default set; a trace
 * asks about the same few thousand addresses millions of times.  Answers
 * are kept in a direct-mapped cache of 4096 entries (32 KiB, whatever the
 * size of the trace); a collision only costs a new lookup. */
#define INSIDE_CACHE_BITS 12

typedef struct
{
  uint32_t addr;
  uint32_t state; /* 0: empty, 1: outside, 2: inside */
} InsideCacheEntry;

typedef struct
{
  const NatsimCidrSet *set;
  InsideCacheEntry     entries[1u << INSIDE_CACHE_BITS];
} InsideCache;

static InsideCache *
inside_cache_new (const NatsimCidrSet *set)
{
  InsideCache *c = g_new0 (InsideCache, 1);

  c->set = set;
  return c;
}

static inline bool
inside_cache_contains (InsideCache *c, uint32_t addr)
{
  /* Fibonacci hashing: the top bits of addr * 2^32 / phi. */
  InsideCacheEntry *e = &c->entries[(addr * UINT32_C (2654435769)) >> (32 - INSIDE_CACHE_BITS)];
  bool in;

  if (e->state != 0 && e->addr == addr)
    return e->state == 2;
  in = natsim_cidr_set_contains_ipv4 (c->set, addr);
  e->addr = addr;
  e->state = in ? 2 : 1;
  return in;
}

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
first_pass (const char *const *traces, guint n, InsideCache *inside,
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

          if (inside_cache_contains (inside, a) &&
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

/* Narration: lifecycle events go to the collector, then the narrator. */
typedef struct
{
  NatsimCollector *collector;
  NatsimNarrator  *narrator;
} Narrated;

static void
narrate_nat_event (const NatsimNatEvent *ev, void *user_data)
{
  Narrated *nd = user_data;

  natsim_collector_on_nat_event (ev, nd->collector);
  natsim_narrator_nat_event (nd->narrator, ev);
}

/* Bytes of the capture consumed so far, for progress: captured bytes plus
 * a 16-byte record header each. */
static guint64
bytes_read (const NatsimTraceReader *r)
{
  const NatsimTraceStats *st = natsim_trace_reader_stats (r);

  return st->bytes_captured + 16 * st->packets_read;
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
  g_autoptr (NatsimNarrator) narrator = NULL;
  Narrated narrated = { 0 };
  guint64 steps = 0;
  g_autoptr (gsl_rng) nat_rng = NULL;
  g_autoptr (gsl_rng) scale_rng = NULL;
  g_autoptr (NatsimNat) nat = NULL;
  g_autoptr (NatsimCollector) collector = NULL;
  g_autoptr (GHashTable) hosts = NULL;
  g_autofree guint *heap = NULL;
  g_autofree InsideCache *cache = NULL;
  Copy *copies = NULL;
  NatsimReplayInfo info = { 0 };
  NatsimTime last = 0, end, max_offset = 0;
  gboolean any = FALSE;
  guint k = scale != NULL ? MAX (scale->scale, 1u) : 1, heap_len = 0;
  GError *read_error = NULL;
  NatsimRunResult *result;

  g_return_val_if_fail (cfg != NULL && inside != NULL, NULL);
  g_return_val_if_fail (n > 0 && traces != NULL, NULL);

  if (interval == 0)
    interval = 60 * NATSIM_NSEC_PER_SEC;
  for (guint i = 0; k > 1 && i < n; i++)
    if (strcmp (traces[i], "-") == 0)
      {
        g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                     "-: --scale %u reads the traces twice; standard input cannot be "
                     "replayed with --scale (save it to a file first)", k);
        return NULL;
      }

  cache = inside_cache_new (inside);
  if (k > 1)
    {
      guint64 n_hosts;

      hosts = g_hash_table_new (g_direct_hash, g_direct_equal);
      if (!first_pass (traces, n, cache, hosts, &last, &any, error))
        return NULL;
      n_hosts = g_hash_table_size (hosts);

      if (n_hosts * (k - 1) > (~NATSIM_REPLAY_CLONE_MASK) - 1)
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "--scale %u: %" G_GUINT64_FORMAT " inside hosts x %u clones do not "
                       "fit 240.0.0.0/4 (at most %u clone addresses)",
                       k, n_hosts, k - 1, (~NATSIM_REPLAY_CLONE_MASK) - 1);
          return NULL;
        }
      info.inside_hosts = n_hosts;
    }

  /* Copy j's offset; copy 0 is the capture as it is. */
  copies = g_new0 (Copy, k);
  heap = g_new (guint, k);
  scale_rng = natsim_rng_new (seed, 0, "scale");
  for (guint j = 0; j < k; j++)
    {
      NatsimTraceResult res;

      if (j > 0 && scale->offset_max > 0)
        copies[j].offset = (NatsimTime) (gsl_rng_uniform (scale_rng) *
                                         (double) scale->offset_max);
      max_offset = MAX (max_offset, copies[j].offset);
      copies[j].reader = natsim_trace_reader_open (traces, n, error);
      if (copies[j].reader == NULL)
        {
          copies_free (copies, k);
          return NULL;
        }
      res = copy_advance (&copies[j]);
      if (res == NATSIM_TRACE_ERROR)
        {
          set_read_error (copies[j].reader, error);
          copies_free (copies, k);
          return NULL;
        }
      if (res == NATSIM_TRACE_PACKET)
        heap[heap_len++] = j;
    }
  for (guint i = heap_len; i-- > 0;)
    heap_sift_down (heap, heap_len, copies, i);

  nat_rng = natsim_rng_new (seed, 0, "nat");
  nat = natsim_nat_new (cfg, nat_rng);
  if (k > 1)
    {
      end = any ? natsim_time_add (last, max_offset) + 1 : 1;
      while (end / interval > REPLAY_TIMELINE_MAX_POINTS)
        interval *= 2;
      collector = natsim_collector_new (nat, NATSIM_CLASS_N, cfg->n_addresses, 0, end,
                                        interval);
    }
  else
    {
      /* The end is known at the end (natsim_collector_finish_at()). */
      end = 0;
      collector = natsim_collector_new_open (nat, NATSIM_CLASS_N, cfg->n_addresses,
                                             interval, REPLAY_TIMELINE_MAX_POINTS);
    }
  if (obs != NULL && obs->events != NULL)
    {
      narrator = natsim_narrator_new (obs->events, nat, cfg, class_names, NATSIM_CLASS_N);
      natsim_narrator_legend (narrator);
      narrated.collector = collector;
      narrated.narrator = narrator;
      natsim_nat_set_observer (nat, narrate_nat_event, &narrated);
    }
  else
    natsim_nat_set_observer (nat, natsim_collector_on_nat_event, collector);

  while (heap_len > 0)
    {
      guint j = heap[0];
      Copy *c = &copies[j];
      const NatsimTracePacket *tp = &c->tp;
      NatsimPacket pkt;
      NatsimNatResult nr;
      NatsimTraceResult res;
      bool src_in, dst_in, outbound;

      /* Packets not offered are counted once, for the capture (copy 0),
       * like the reader's counts. */
      if (tp->ip_version != 4)
        info.ipv6 += j == 0;
      else
        {
          src_in = inside_cache_contains (cache, tp->src4);
          dst_in = inside_cache_contains (cache, tp->dst4);
          if (src_in == dst_in)
            {
              info.not_translated += j == 0;
              info.inside_only += j == 0 && src_in;
            }
          else if (!natsim_trace_packet_to_nat (tp, src_in, &pkt))
            info.untranslatable += j == 0;
          else
            {
              outbound = src_in;
              pkt.time = c->time;
              if (j > 0)
                {
                  uint32_t *in_addr = outbound ? &pkt.src_addr : &pkt.dst_addr;
                  guint64 h = GPOINTER_TO_UINT (g_hash_table_lookup (hosts,
                                                                     GUINT_TO_POINTER (*in_addr)));

                  *in_addr = clone_address (h, k, j);
                }
              pkt.cls = (uint16_t) natsim_replay_classify_flow (
                pkt.proto, outbound ? pkt.src_port : pkt.dst_port,
                outbound ? pkt.dst_port : pkt.src_port);
              if (outbound)
                info.offered_out++;
              else
                info.offered_in++;
              natsim_collector_advance (collector, pkt.time);
              natsim_nat_process (nat, &pkt, &nr);
              natsim_collector_on_packet (collector, &pkt, &nr);
              if (narrator != NULL)
                natsim_narrator_packet (narrator, &pkt, &nr);
              /* A TCP connection whose first packet seen is not a SYN: the
               * NAT picks it up mid-stream, as Linux conntrack's loose
               * tracking. */
              if (outbound && pkt.proto == NATSIM_PROTO_TCP && nr.new_binding &&
                  (pkt.tcp_flags & NATSIM_TCP_SYN) == 0)
                info.mid_stream_tcp++;
            }
        }

      if (obs != NULL && obs->progress != NULL && (++steps & 4095) == 0)
        obs->progress (bytes_read (copies[0].reader), obs->progress_data);
      res = copy_advance (c);
      if (res == NATSIM_TRACE_ERROR)
        {
          /* With --scale the first pass read the same files; a file that
           * changed since is still an input error. */
          set_read_error (c->reader, &read_error);
          break;
        }
      if (res == NATSIM_TRACE_END)
        heap[0] = heap[--heap_len];
      heap_sift_down (heap, heap_len, copies, 0);
    }
  if (read_error != NULL)
    {
      g_propagate_error (error, read_error);
      copies_free (copies, k);
      return NULL;
    }

  /* Reader counts are those of the capture (copy 0), not multiplied. */
  {
    const NatsimTraceStats *st = natsim_trace_reader_stats (copies[0].reader);

    info.packets_read = st->packets_read;
    info.packets_decoded = st->packets_decoded;
    info.skipped = st->packets_skipped;
    memcpy (info.skipped_by_reason, st->skipped, sizeof info.skipped_by_reason);
    if (k == 1)
      {
        /* The run covers every record, decodable or not; the collector
         * doubles its interval as natsim_collector_new()'s caller above. */
        any = natsim_trace_reader_last_time (copies[0].reader, &last);
        end = any ? last + 1 : 1;
        while (end / interval > REPLAY_TIMELINE_MAX_POINTS)
          interval *= 2;
      }
  }
  copies_free (copies, k);
  info.end = end;
  info.interval = interval;
  info.scale = k;
  result = k > 1 ? natsim_collector_finish (collector)
                 : natsim_collector_finish_at (collector, end);
  if (ret_info != NULL)
    *ret_info = info;
  return result;
}

NatsimRunResult *
natsim_replay (const NatsimNatConfig *cfg, const char *const *traces, guint n,
               const NatsimCidrSet *inside, NatsimTime interval, uint64_t seed,
               NatsimReplayInfo *ret_info, GError **error)
{
  return natsim_replay_scaled (cfg, traces, n, inside, interval, seed, NULL, ret_info, error);
}
