/* natsim: traffic characterisation (`natsim analyze`).
 *
 * One pass over the captures.  Flows are kept in a hash table keyed by the
 * folded 5-tuple (the lower (address, port) side first, so both directions
 * meet in one entry) and in a queue ordered by last packet: each packet
 * moves its flow to the tail, and flows idle for the flow timeout are
 * closed from the head.  Both are O(1) per packet, and memory follows live
 * flows, never the trace.  A flow allocates its entry once; the per-packet
 * path allocates nothing else (reservoirs grow by doubling up to their cap;
 * fragments and TCP streams use pools allocated with the analysis).
 *
 * The other files of the analysis: analyze-sample.c (reservoirs and
 * quantiles), analyze-sip.c (registrations), analyze-tables.c (the seed's
 * tables); its writers are in src/report (report-analysis-*.c).
 */
#include <math.h>
#include <string.h>

#include "analyze-private.h"
#include "natsim/recommend.h"
#include "natsim/error.h"
#include "natsim/nat.h"
#include "natsim/parse.h"
#include "natsim/reasm.h"
#include "natsim/sip-stream.h"
#include "natsim/replay.h"
#include "natsim/rng.h"

#define DEFAULT_FLOW_TIMEOUT (3600 * NATSIM_NSEC_PER_SEC)
#define DEFAULT_MAX_SAMPLES  262144u

static guint
bytes_hash (const void *p, size_t n)
{
  /* FNV-1a, 32 bits. */
  const uint8_t *b = p;
  guint32 h = 2166136261u;

  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 16777619u;
  return h;
}

static guint
flow_key_hash (gconstpointer k)
{
  return bytes_hash (k, sizeof (FlowKey));
}

static gboolean
flow_key_equal (gconstpointer x, gconstpointer y)
{
  return memcmp (x, y, sizeof (FlowKey)) == 0;
}

static guint
sip_key_hash (gconstpointer k)
{
  return bytes_hash (k, sizeof (SipKey));
}

static gboolean
sip_key_equal (gconstpointer x, gconstpointer y)
{
  return memcmp (x, y, sizeof (SipKey)) == 0;
}

NatsimAnalysis *
natsim_analysis_new (const NatsimCidrSet *inside, const NatsimAnalyzeOptions *opts)
{
  NatsimAnalysis *a = g_new0 (NatsimAnalysis, 1);

  g_return_val_if_fail (inside != NULL, NULL);
  a->inside = inside;
  a->flow_timeout = opts != NULL && opts->flow_timeout > 0 ? opts->flow_timeout
                                                           : DEFAULT_FLOW_TIMEOUT;
  a->max_samples = opts != NULL && opts->max_samples > 0 ? opts->max_samples
                                                         : DEFAULT_MAX_SAMPLES;
  a->outer = opts != NULL && opts->outer;
  /* A fixed seed: the kept sample depends on the input only. */
  a->rng = natsim_rng_new (1, 0, "analyze:reservoir");
  a->flows = g_hash_table_new_full (flow_key_hash, flow_key_equal, NULL, g_free);
  g_queue_init (&a->idle);
  a->sip_eps = g_hash_table_new_full (sip_key_hash, sip_key_equal, NULL, g_free);
  a->n_classes = natsim_replay_n_classes ();
  a->classes = g_new0 (ClassState, a->n_classes);
  a->reasm = natsim_reasm_new (0);
  a->streams = natsim_sip_streams_new (0, 0);
  return a;
}

void
natsim_analysis_free (NatsimAnalysis *a)
{
  if (a == NULL)
    return;
  g_hash_table_unref (a->flows);
  g_hash_table_unref (a->sip_eps);
  natsim_reasm_free (a->reasm);
  natsim_sip_streams_free (a->streams);
  for (guint c = 0; c < a->n_classes; c++)
    for (guint i = 0; i < R_N; i++)
      if (a->classes[c].r[i].v != NULL)
        g_array_unref (a->classes[c].r[i].v);
  g_free (a->classes);
  if (a->sip_interval.v != NULL)
    g_array_unref (a->sip_interval.v);
  if (a->sip_req.v != NULL)
    g_array_unref (a->sip_req.v);
  if (a->sip_ok.v != NULL)
    g_array_unref (a->sip_ok.v);
  gsl_rng_free (a->rng);
  g_free (a);
}

/* Adds a finished flow to its class and forgets it. */
static void
flow_close (NatsimAnalysis *a, Flow *f)
{
  ClassState *cs = &a->classes[f->cls];
  NatsimTime duration = f->last - f->first;

  cs->fig.flows++;
  cs->fig.packets += f->packets;
  cs->fig.bytes += f->bytes;
  if (f->webex == 1)
    cs->fig.webex_calling_flows++;
  else if (f->webex == 2)
    cs->fig.webex_app_config_flows++;
  if (duration >= LONG_LIVED)
    cs->fig.long_lived_flows++;
  analyze_reservoir_add (a, &cs->r[R_DURATION], natsim_time_to_sec (duration));
  a->flows_total++;
  g_queue_unlink (&a->idle, &f->link);
  g_hash_table_remove (a->flows, &f->key);
}

static int
endpoint_compare (const uint8_t *a, uint16_t pa, const uint8_t *b, uint16_t pb)
{
  int c = memcmp (a, b, 16);

  if (c != 0)
    return c;
  return (pa > pb) - (pa < pb);
}

/* Which end of a new flow is the local one (the endpoint whose traffic the
 * NAT would translate), and its class.  One inside end: that end.  Both or
 * neither inside: the sender of the first packet seen, unless only the
 * other reading gives a known class (a capture that began mid-flow). */
static void
flow_classify (const NatsimAnalysis *a, Flow *f, const NatsimTracePacket *tp,
               bool src_is_a)
{
  bool src_in = natsim_cidr_set_contains (a->inside, tp->src);
  bool dst_in = natsim_cidr_set_contains (a->inside, tp->dst);
  bool local_is_src;
  guint c;

  if (src_in != dst_in)
    local_is_src = src_in;
  else
    {
      guint fwd = natsim_replay_classify_flow (tp->proto, tp->src_port, tp->dst_port);
      guint rev = natsim_replay_classify_flow (tp->proto, tp->dst_port, tp->src_port);

      local_is_src = !((fwd == NATSIM_CLASS_OTHER_UDP || fwd == NATSIM_CLASS_OTHER_TCP) &&
                       rev != NATSIM_CLASS_OTHER_UDP && rev != NATSIM_CLASS_OTHER_TCP);
    }
  if (local_is_src)
    c = natsim_replay_classify_flow (tp->proto, tp->src_port, tp->dst_port);
  else
    c = natsim_replay_classify_flow (tp->proto, tp->dst_port, tp->src_port);
  f->cls = (uint16_t) c;
  f->local = (uint8_t) (local_is_src == src_is_a ? 0 : 1);
  f->local_port = local_is_src ? tp->src_port : tp->dst_port;
  {
    const uint8_t *remote = local_is_src ? tp->dst : tp->src;
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

    if (memcmp (remote, mapped, 12) == 0)
      {
        uint32_t r4 = ((uint32_t) remote[12] << 24) | ((uint32_t) remote[13] << 16) |
                      ((uint32_t) remote[14] << 8) | remote[15];
        const char *w = natsim_webex_subnet (r4);

        f->webex = w == NULL ? 0 : strcmp (w, "calling") == 0 ? 1 : 2;
      }
  }
}

/* Adds @tp, a packet with ports or a reassembled datagram of @packets
 * fragments and @bytes IP bytes, to its flow. */
static void
flow_account (NatsimAnalysis *a, const NatsimTracePacket *tp, guint64 packets, guint64 bytes)
{
  FlowKey key;
  Flow *f;
  bool src_is_a;
  uint64_t expected;
  bool from_local;

  a->packets_total += packets;
  a->bytes_total += bytes;

  memset (&key, 0, sizeof key);
  key.proto = tp->proto;
  src_is_a = endpoint_compare (tp->src, tp->src_port, tp->dst, tp->dst_port) <= 0;
  memcpy (key.a, src_is_a ? tp->src : tp->dst, 16);
  memcpy (key.b, src_is_a ? tp->dst : tp->src, 16);
  key.pa = src_is_a ? tp->src_port : tp->dst_port;
  key.pb = src_is_a ? tp->dst_port : tp->src_port;

  f = g_hash_table_lookup (a->flows, &key);
  if (f == NULL)
    {
      f = g_new0 (Flow, 1);
      f->key = key;
      f->first = f->last = tp->time;
      f->link.data = f;
      flow_classify (a, f, tp, src_is_a);
      g_hash_table_insert (a->flows, &f->key, f);
      a->peak_live_flows = MAX (a->peak_live_flows, g_hash_table_size (a->flows));
    }
  else
    {
      ClassState *cs = &a->classes[f->cls];
      NatsimTime gap = tp->time - f->last;

      analyze_reservoir_add (a, &cs->r[R_GAP], natsim_time_to_sec (gap));
      if (tp->time - f->first >= LONG_LIVED && gap >= REFRESH_MIN_GAP)
        analyze_reservoir_add (a, &cs->r[R_REFRESH], natsim_time_to_sec (gap));
      g_queue_unlink (&a->idle, &f->link);
      f->last = tp->time;
    }
  g_queue_push_tail_link (&a->idle, &f->link);
  f->packets += packets;
  f->bytes += bytes;

  /* QoS: what the local end marks. */
  from_local = (f->local == 0) == src_is_a;
  if (from_local)
    {
      ClassState *cs = &a->classes[f->cls];

      cs->fig.dscp_observed[tp->dscp & 63] += packets;
      expected = natsim_analysis_dscp_expected (f->cls, f->local_port);
      if (expected != 0)
        {
          cs->fig.dscp_checked += packets;
          if (expected & (UINT64_C (1) << (tp->dscp & 63)))
            cs->fig.dscp_expected += packets;
          else
            cs->fig.dscp_other += packets;
        }
    }

  if (tp->proto == NATSIM_PROTO_TCP)
    natsim_sip_streams_feed (a->streams, tp, analyze_sip_message, a);
  else if (tp->proto == NATSIM_PROTO_UDP && tp->payload_len >= 8)
    analyze_sip_observe (a, tp, tp->payload, tp->payload_len);
}

void
natsim_analysis_add_packet (NatsimAnalysis *a, const NatsimTracePacket *tp)
{
  g_return_if_fail (a != NULL && tp != NULL && !a->finished);

  if (!a->any)
    a->first_time = tp->time;
  a->any = true;
  a->last_time = MAX (a->last_time, tp->time);

  /* Close flows idle for the flow timeout (the queue's head is the least
   * recently seen). */
  while (a->idle.head != NULL)
    {
      Flow *old = a->idle.head->data;

      if (tp->time < old->last || tp->time - old->last < a->flow_timeout)
        break;
      flow_close (a, old);
    }

  if (tp->fragment)
    {
      /* A datagram counts when its last piece is in, with every piece;
       * pieces of datagrams that never complete count as packets without
       * ports (natsim_analysis_finish()). */
      NatsimReasmDatagram d;

      a->any_fragment = true;
      if (natsim_reasm_add (a->reasm, tp, &d) == NATSIM_REASM_COMPLETE)
        {
          NatsimTracePacket whole = *tp;

          if (!d.has_ports)
            {
              a->no_ports += d.fragments;
              return;
            }
          whole.fragment = false;
          whole.has_ports = true;
          whole.src_port = d.src_port;
          whole.dst_port = d.dst_port;
          whole.tcp_flags = d.tcp_flags;
          whole.payload = d.payload;
          whole.payload_len = d.payload_len;
          whole.ip = NULL;
          whole.ip_caplen = 0;
          flow_account (a, &whole, d.fragments, d.bytes);
        }
      return;
    }
  if (!tp->has_ports)
    {
      a->no_ports++;
      return;
    }
  flow_account (a, tp, 1, tp->ip_length);
}

void
natsim_analysis_finish (NatsimAnalysis *a, const NatsimTraceStats *stats)
{
  g_return_if_fail (a != NULL && !a->finished);

  if (stats != NULL)
    a->stats = *stats;
  natsim_reasm_flush (a->reasm);
  a->no_ports += natsim_reasm_stats (a->reasm)->lost;
  /* Least recently seen first: a fixed order for a fixed input. */
  while (a->idle.head != NULL)
    flow_close (a, a->idle.head->data);
  for (guint c = 0; c < a->n_classes; c++)
    {
      ClassState *cs = &a->classes[c];

      analyze_reservoir_quantiles (&cs->r[R_DURATION], &cs->fig.duration);
      analyze_reservoir_quantiles (&cs->r[R_GAP], &cs->fig.idle_gap);
      analyze_reservoir_quantiles (&cs->r[R_REFRESH], &cs->fig.refresh_gap);
      cs->fig.keepalive_s = cs->fig.refresh_gap.n >= 3 ? cs->fig.refresh_gap.p50 : NAN;
    }
  a->sip.endpoints = g_hash_table_size (a->sip_eps);
  analyze_reservoir_quantiles (&a->sip_interval, &a->sip.interval);
  analyze_reservoir_quantiles (&a->sip_req, &a->sip.expires_requested);
  analyze_reservoir_quantiles (&a->sip_ok, &a->sip.expires_granted);
  a->finished = true;
}

const NatsimClassAnalysis *
natsim_analysis_class (const NatsimAnalysis *a, guint cls)
{
  g_return_val_if_fail (a != NULL && cls < a->n_classes, NULL);
  return &a->classes[cls].fig;
}

const double *
natsim_analysis_class_gaps (const NatsimAnalysis *a, guint cls, gsize *ret_n)
{
  const Reservoir *r;

  g_return_val_if_fail (a != NULL && a->finished && cls < a->n_classes && ret_n != NULL, NULL);
  r = &a->classes[cls].r[R_GAP];
  *ret_n = r->v != NULL ? r->v->len : 0;
  return *ret_n > 0 ? (const double *) r->v->data : NULL;
}

const double *
natsim_analysis_class_refresh_gaps (const NatsimAnalysis *a, guint cls, gsize *ret_n)
{
  const Reservoir *r;

  g_return_val_if_fail (a != NULL && a->finished && cls < a->n_classes && ret_n != NULL, NULL);
  r = &a->classes[cls].r[R_REFRESH];
  *ret_n = r->v != NULL ? r->v->len : 0;
  return *ret_n > 0 ? (const double *) r->v->data : NULL;
}

double
natsim_analysis_duration_s (const NatsimAnalysis *a)
{
  g_return_val_if_fail (a != NULL, 0.0);
  return a->any ? natsim_time_to_sec (a->last_time - a->first_time) : 0.0;
}

const NatsimTraceStats *
natsim_analysis_trace_stats (const NatsimAnalysis *a)
{
  g_return_val_if_fail (a != NULL, NULL);
  return &a->stats;
}

void
natsim_analysis_totals (const NatsimAnalysis *a, NatsimAnalysisTotals *ret)
{
  g_return_if_fail (a != NULL && a->finished && ret != NULL);
  memset (ret, 0, sizeof *ret);
  ret->inside = a->inside;
  ret->flow_timeout = a->flow_timeout;
  ret->max_samples = a->max_samples;
  ret->outer = a->outer;
  ret->flows = a->flows_total;
  ret->packets = a->packets_total;
  ret->bytes = a->bytes_total;
  ret->peak_live_flows = a->peak_live_flows;
  ret->no_ports = a->no_ports;
  ret->duration_s = natsim_analysis_duration_s (a);
  ret->trace = &a->stats;
  ret->reassembly = a->any_fragment ? natsim_reasm_stats (a->reasm) : NULL;
  ret->sip_tcp = natsim_sip_streams_stats (a->streams);
}

const NatsimSipAnalysis *
natsim_analysis_sip (const NatsimAnalysis *a)
{
  g_return_val_if_fail (a != NULL, NULL);
  return &a->sip;
}

NatsimAnalysis *
natsim_analyze (const char *const *traces, guint n, const NatsimCidrSet *inside,
                const NatsimAnalyzeOptions *opts, GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  g_autoptr (NatsimTraceReader) r = natsim_trace_reader_open (traces, n, error);
  g_autoptr (NatsimAnalysis) a = NULL;
  NatsimTracePacket tp;
  NatsimTraceResult res;
  guint64 steps = 0;

  if (r == NULL)
    return NULL;
  natsim_trace_reader_set_decapsulate (r, opts == NULL || !opts->outer);
  a = natsim_analysis_new (inside, opts);
  while ((res = natsim_trace_reader_next (r, &tp)) == NATSIM_TRACE_PACKET)
    {
      natsim_analysis_add_packet (a, &tp);
      if (opts != NULL && opts->progress != NULL && (++steps & 4095) == 0)
        {
          const NatsimTraceStats *st = natsim_trace_reader_stats (r);

          opts->progress (st->bytes_captured + 16 * st->packets_read, opts->progress_data);
        }
    }
  if (res == NATSIM_TRACE_ERROR)
    {
      const GError *e = natsim_trace_reader_error (r);

      g_set_error_literal (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                           e != NULL ? e->message : "trace read error");
      return NULL;
    }
  natsim_analysis_finish (a, natsim_trace_reader_stats (r));
  return g_steal_pointer (&a);
}

static double recommended_timeout (const NatsimAnalysis *a, uint8_t proto,
                                   const char **ret_class);

/* The idle timeout that keeps the long-lived flows of @proto alive: the
 * longest refresh gap over the classes of that transport with its margin
 * (natsim_timeout_for_gap(); NaN when no class has 3 refresh gaps).  DNS and NTP are left out: each query stands
 * alone and expects only its answer, so a binding that dies between two
 * queries costs nothing (a client polling NTP from port 123 every 17 min
 * would otherwise ask for a 17 min UDP timeout). */
double
natsim_analysis_recommended_timeout (const NatsimAnalysis *a, uint8_t proto,
                                     const char **ret_class)
{
  const char *unused = NULL;

  return recommended_timeout (a, proto, ret_class != NULL ? ret_class : &unused);
}

static double
recommended_timeout (const NatsimAnalysis *a, uint8_t proto, const char **ret_class)
{
  const char *const *names = natsim_replay_class_names ();
  double best = NAN;

  for (guint c = 0; c < a->n_classes; c++)
    {
      const NatsimClassAnalysis *f = &a->classes[c].fig;

      if (natsim_analysis_class_proto (c) != proto || c == NATSIM_CLASS_DNS || c == NATSIM_CLASS_NTP)
        continue;
      if (f->refresh_gap.n >= 3 && (isnan (best) || f->refresh_gap.max > best))
        {
          best = f->refresh_gap.max;
          *ret_class = names[c];
        }
    }
  /* The one timeout-from-gap rule, as natsim plan --trace applies it. */
  return natsim_timeout_for_gap (best);
}

