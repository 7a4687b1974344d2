/* natsim: traffic characterisation (`natsim analyze`).
 *
 * One pass over the captures.  Flows are kept in a hash table keyed by the
 * folded 5-tuple (the lower (address, port) side first, so both directions
 * meet in one entry) and in a queue ordered by last packet: each packet
 * moves its flow to the tail, and flows idle for the flow timeout are
 * closed from the head.  Both are O(1) per packet, and memory follows live
 * flows, never the trace.  A flow allocates its entry once; the per-packet
 * path allocates nothing else (reservoirs grow by doubling up to their cap).
 *
 * Samples (idle gaps, durations, refresh gaps, REGISTER intervals, Expires)
 * go into per-figure reservoirs: all values up to the cap, then Vitter's
 * algorithm R with a fixed-seed generator, so the same input always keeps
 * the same sample.  Quantiles come from GSL on the sorted sample.
 */
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <string.h>

#include "natsim/analyze.h"
#include "natsim/error.h"
#include "natsim/nat.h"
#include "natsim/parse.h"
#include "natsim/reasm.h"
#include "natsim/sip-stream.h"
#include "natsim/replay.h"
#include "natsim/rng.h"

#define DEFAULT_FLOW_TIMEOUT (3600 * NATSIM_NSEC_PER_SEC)
#define DEFAULT_MAX_SAMPLES  262144u
/* A flow this old is "long-lived"; its gaps of at least REFRESH_MIN_GAP
 * are keepalives or refreshes rather than the bursts of an exchange. */
#define LONG_LIVED           (60 * NATSIM_NSEC_PER_SEC)
#define REFRESH_MIN_GAP      NATSIM_NSEC_PER_SEC
/* REGISTERs of one endpoint closer than this belong to one attempt
 * (retransmissions, the answer to a 401/407 challenge). */
#define REGISTER_SAME_ATTEMPT (5 * NATSIM_NSEC_PER_SEC)

/* ------------------------------------------------------------------------ */
/* The seed's tables (docs/reference.md section 1)                          */

typedef struct
{
  uint8_t     a, b, c, d, len;
  const char *purpose;
} Subnet;

/* Webex Calling cloud subnets, then the app configuration ranges (TCP 443,
 * 8443).  150.253.128.0/17 is in both lists; the first match wins. */
static const Subnet webex_subnets[] = {
  { 23, 89, 0, 0, 16, "calling" },     { 85, 119, 56, 0, 23, "calling" },
  { 128, 177, 14, 0, 24, "calling" },  { 128, 177, 36, 0, 24, "calling" },
  { 135, 84, 168, 0, 21, "calling" },  { 139, 177, 64, 0, 21, "calling" },
  { 139, 177, 72, 0, 23, "calling" },  { 144, 196, 0, 0, 16, "calling" },
  { 150, 253, 128, 0, 17, "calling" }, { 163, 129, 0, 0, 16, "calling" },
  { 170, 72, 0, 0, 16, "calling" },    { 170, 133, 128, 0, 18, "calling" },
  { 185, 115, 196, 0, 22, "calling" }, { 199, 19, 196, 0, 23, "calling" },
  { 199, 19, 199, 0, 24, "calling" },  { 199, 59, 64, 0, 21, "calling" },
  { 62, 109, 192, 0, 18, "app-config" }, { 64, 68, 96, 0, 19, "app-config" },
  { 150, 253, 128, 0, 17, "app-config" }, { 207, 182, 160, 0, 19, "app-config" },
};

const char *
natsim_webex_subnet (uint32_t addr)
{
  for (guint i = 0; i < G_N_ELEMENTS (webex_subnets); i++)
    {
      const Subnet *s = &webex_subnets[i];
      uint32_t net = ((uint32_t) s->a << 24) | ((uint32_t) s->b << 16) |
                     ((uint32_t) s->c << 8) | s->d;
      uint32_t mask = s->len == 0 ? 0 : UINT32_MAX << (32 - s->len);

      if ((addr & mask) == net)
        return s->purpose;
    }
  return NULL;
}

/* The DSCP values the seed's QoS table prescribes for packets an endpoint
 * sends in class @cls from @local_port: a bit set of DSCP values, 0 when
 * the table says nothing. */
static uint64_t
dscp_expected (guint cls, uint16_t local_port)
{
  switch (cls)
    {
    case NATSIM_CLASS_APP_AUDIO:
      return UINT64_C (1) << 46;                          /* EF */
    case NATSIM_CLASS_APP_VIDEO:
      return UINT64_C (1) << 34;                          /* AF41 */
    case NATSIM_CLASS_DEVICE_MEDIA:
      return (UINT64_C (1) << 46) | (UINT64_C (1) << 34); /* audio EF, video AF41 */
    case NATSIM_CLASS_SIP_TLS:
      /* Devices signal from 5060-5080 with CS3, the app with CS0. */
      return local_port >= 5060 && local_port <= 5080 ? UINT64_C (1) << 24 : UINT64_C (1);
    default:
      return 0;
    }
}

/* ------------------------------------------------------------------------ */
/* Quantiles and reservoirs                                                 */

void
natsim_quantiles_from_sorted (const double *sorted, size_t n, NatsimQuantiles *ret)
{
  g_return_if_fail (ret != NULL);

  ret->n = ret->kept = n;
  if (n == 0)
    {
      ret->min = ret->p50 = ret->p90 = ret->p99 = ret->max = NAN;
      return;
    }
  ret->min = sorted[0];
  ret->p50 = gsl_stats_quantile_from_sorted_data (sorted, 1, n, 0.5);
  ret->p90 = gsl_stats_quantile_from_sorted_data (sorted, 1, n, 0.9);
  ret->p99 = gsl_stats_quantile_from_sorted_data (sorted, 1, n, 0.99);
  ret->max = sorted[n - 1];
}

typedef struct
{
  GArray *v;    /* double */
  guint64 seen;
} Reservoir;

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* ------------------------------------------------------------------------ */
/* Flows                                                                    */

typedef struct
{
  uint8_t  a[16], b[16];  /* a <= b as (address, port) */
  uint16_t pa, pb;
  uint8_t  proto;
  uint8_t  pad[3];        /* zeroed: the key is hashed and compared as bytes */
} FlowKey;

typedef struct
{
  FlowKey    key;
  GList      link;        /* in the idle queue; data = this flow */
  NatsimTime first, last;
  guint64    packets, bytes;
  uint16_t   cls;
  uint16_t   local_port;
  uint8_t    local;       /* 0: side a is the local end, 1: side b */
  uint8_t    webex;       /* 0, 1 calling, 2 app-config */
} Flow;

typedef struct
{
  uint8_t  addr[16];
  uint16_t port;
  uint8_t  proto;
  uint8_t  pad;
} SipKey;

typedef struct
{
  SipKey     key;
  NatsimTime attempt;     /* start of the last registration attempt */
  uint32_t   call_id;     /* of its last REGISTER */
  gint64     challenged;  /* CSeq of that REGISTER if a 401/407 answered it, else -1 */
} SipEndpoint;

enum { R_DURATION, R_GAP, R_REFRESH, R_N };

typedef struct
{
  NatsimClassAnalysis fig;
  Reservoir           r[R_N];
} ClassState;

struct NatsimAnalysis
{
  const NatsimCidrSet *inside;
  NatsimTime           flow_timeout;
  guint                max_samples;
  bool                 outer;
  gsl_rng             *rng;
  GHashTable          *flows;     /* FlowKey* -> Flow* (owned) */
  GQueue               idle;      /* Flow links, least recently seen first */
  GHashTable          *sip_eps;   /* SipKey* -> SipEndpoint* (owned) */
  guint                n_classes;
  ClassState          *classes;
  NatsimSipAnalysis    sip;
  Reservoir            sip_interval, sip_req, sip_ok;
  NatsimTraceStats     stats;
  NatsimReasm         *reasm;     /* fragments, bounded pool */
  NatsimSipStreams    *streams;   /* SIP over TCP, bounded pool */
  bool                 any_fragment;
  guint64              flows_total, packets_total, bytes_total, no_ports;
  guint64              peak_live_flows;
  NatsimTime           first_time, last_time;
  bool                 any, finished;
};

static void
reservoir_add (NatsimAnalysis *a, Reservoir *r, double x)
{
  r->seen++;
  if (r->v == NULL)
    r->v = g_array_new (FALSE, FALSE, sizeof (double));
  if (r->v->len < a->max_samples)
    g_array_append_val (r->v, x);
  else
    {
      /* Algorithm R: the new value replaces a kept one with probability
       * cap / seen, so the sample stays uniform over all values. */
      guint64 j = (guint64) (gsl_rng_uniform (a->rng) * (double) r->seen);

      if (j < a->max_samples)
        g_array_index (r->v, double, j) = x;
    }
}

static void
reservoir_quantiles (Reservoir *r, NatsimQuantiles *ret)
{
  guint len = r->v != NULL ? r->v->len : 0;

  if (len > 0)
    g_array_sort (r->v, compare_double);
  natsim_quantiles_from_sorted (len > 0 ? (const double *) r->v->data : NULL, len, ret);
  ret->n = r->seen;
}

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
  reservoir_add (a, &cs->r[R_DURATION], natsim_time_to_sec (duration));
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

static SipEndpoint *
sip_endpoint (NatsimAnalysis *a, const uint8_t addr[16], uint16_t port, uint8_t proto)
{
  SipKey key;

  memset (&key, 0, sizeof key);
  memcpy (key.addr, addr, 16);
  key.port = port;
  key.proto = proto;
  return g_hash_table_lookup (a->sip_eps, &key);
}

/* One SIP message (a UDP payload, or a message framed from a TCP stream)
 * sent by @tp's source. */
static void
sip_observe (NatsimAnalysis *a, const NatsimTracePacket *tp, const uint8_t *msg, size_t len)
{
  NatsimSipInfo info;
  SipEndpoint *ep;

  if (!natsim_sip_peek (msg, len, &info))
    return;
  if (info.kind == NATSIM_SIP_REGISTER_OK)
    {
      a->sip.register_oks++;
      if (info.expires >= 0)
        reservoir_add (a, &a->sip_ok, (double) info.expires);
      return;
    }
  if (info.kind == NATSIM_SIP_REGISTER_CHALLENGE)
    {
      /* The registrar asks for credentials; the endpoint it answers is the
       * destination.  Remember which REGISTER was challenged. */
      ep = sip_endpoint (a, tp->dst, tp->dst_port, tp->proto);
      if (ep != NULL && info.call_id != 0 && info.call_id == ep->call_id)
        ep->challenged = info.cseq;
      return;
    }
  a->sip.registers++;
  if (info.expires == 0)
    a->sip.unregisters++;
  else if (info.expires > 0)
    reservoir_add (a, &a->sip_req, (double) info.expires);
  ep = sip_endpoint (a, tp->src, tp->src_port, tp->proto);
  if (ep == NULL)
    {
      ep = g_new0 (SipEndpoint, 1);
      memcpy (ep->key.addr, tp->src, 16);
      ep->key.port = tp->src_port;
      ep->key.proto = tp->proto;
      ep->attempt = tp->time;
      ep->call_id = info.call_id;
      ep->challenged = -1;
      g_hash_table_insert (a->sip_eps, &ep->key, ep);
      return;
    }
  /* RFC 3261 22.2: the REGISTER that answers a 401/407 carries the same
   * Call-ID and the next CSeq; however late it comes, it completes the
   * challenged attempt rather than starting a refresh. */
  if (ep->challenged >= 0 && info.call_id != 0 && info.call_id == ep->call_id
      && info.cseq == ep->challenged + 1)
    {
      ep->challenged = -1;
      return;
    }
  ep->call_id = info.call_id;
  ep->challenged = -1;
  if (tp->time - ep->attempt >= REGISTER_SAME_ATTEMPT)
    {
      reservoir_add (a, &a->sip_interval, natsim_time_to_sec (tp->time - ep->attempt));
      ep->attempt = tp->time;
    }
}

static void
sip_stream_message (const NatsimTracePacket *tp, const uint8_t *msg, size_t len, void *user_data)
{
  sip_observe (user_data, tp, msg, len);
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

      reservoir_add (a, &cs->r[R_GAP], natsim_time_to_sec (gap));
      if (tp->time - f->first >= LONG_LIVED && gap >= REFRESH_MIN_GAP)
        reservoir_add (a, &cs->r[R_REFRESH], natsim_time_to_sec (gap));
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
      expected = dscp_expected (f->cls, f->local_port);
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
    natsim_sip_streams_feed (a->streams, tp, sip_stream_message, a);
  else if (tp->proto == NATSIM_PROTO_UDP && tp->payload_len >= 8)
    sip_observe (a, tp, tp->payload, tp->payload_len);
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

      reservoir_quantiles (&cs->r[R_DURATION], &cs->fig.duration);
      reservoir_quantiles (&cs->r[R_GAP], &cs->fig.idle_gap);
      reservoir_quantiles (&cs->r[R_REFRESH], &cs->fig.refresh_gap);
      cs->fig.keepalive_s = cs->fig.refresh_gap.n >= 3 ? cs->fig.refresh_gap.p50 : NAN;
    }
  a->sip.endpoints = g_hash_table_size (a->sip_eps);
  reservoir_quantiles (&a->sip_interval, &a->sip.interval);
  reservoir_quantiles (&a->sip_req, &a->sip.expires_requested);
  reservoir_quantiles (&a->sip_ok, &a->sip.expires_granted);
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

/* ------------------------------------------------------------------------ */
/* analysis.json                                                            */

/* A small JSON writer with the layout of report.json: 2-space indent,
 * "key": value, one member per line, arrays of scalars on one line.
 * Numbers: integers in full; seconds and ratios with at most 6 decimals
 * (microseconds: a capture's resolution), trailing zeros dropped but one
 * decimal kept, through g_ascii_formatd (locale-independent); NaN -> null. */
typedef struct
{
  GString *s;
  guint    depth;
  bool     first;
} JsonOut;

static void
jo_indent (JsonOut *j)
{
  for (guint i = 0; i < j->depth; i++)
    g_string_append (j->s, "  ");
}

static void
jo_string (GString *s, const char *v)
{
  g_autofree char *valid = g_utf8_make_valid (v, -1);

  g_string_append_c (s, '"');
  for (const char *q = valid; *q != '\0'; q++)
    {
      unsigned char c = (unsigned char) *q;

      if (c == '"' || c == '\\')
        g_string_append_printf (s, "\\%c", c);
      else if (c < 0x20)
        g_string_append_printf (s, "\\u%04x", c);
      else
        g_string_append_c (s, (char) c);
    }
  g_string_append_c (s, '"');
}

static void
jo_double (GString *s, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  size_t n;

  if (!isfinite (v))
    {
      g_string_append (s, "null");
      return;
    }
  g_ascii_formatd (buf, sizeof buf, "%.6f", v);
  n = strlen (buf);
  while (n > 0 && buf[n - 1] == '0')
    n--;
  if (n > 0 && buf[n - 1] == '.')
    n++; /* keep "x.0" */
  buf[n] = '\0';
  if (strcmp (buf, "-0.0") == 0)
    g_strlcpy (buf, "0.0", sizeof buf);
  g_string_append (s, buf);
}

/* Starts a member (or an array element when @key is NULL). */
static void
jo_key (JsonOut *j, const char *key)
{
  if (!j->first)
    g_string_append_c (j->s, ',');
  if (j->depth > 0)
    g_string_append_c (j->s, '\n');
  j->first = false;
  jo_indent (j);
  if (key != NULL)
    {
      jo_string (j->s, key);
      g_string_append (j->s, ": ");
    }
}

static void
jo_open (JsonOut *j, const char *key, char bracket)
{
  if (j->depth > 0 || key != NULL)
    jo_key (j, key);
  g_string_append_c (j->s, bracket);
  j->depth++;
  j->first = true;
}

static void
jo_close (JsonOut *j, char bracket)
{
  bool empty = j->first;

  j->depth--;
  if (!empty)
    {
      g_string_append_c (j->s, '\n');
      jo_indent (j);
    }
  g_string_append_c (j->s, bracket);
  j->first = false;
}

static void
jo_uint (JsonOut *j, const char *key, guint64 v)
{
  jo_key (j, key);
  g_string_append_printf (j->s, "%" G_GUINT64_FORMAT, v);
}

static void
jo_num (JsonOut *j, const char *key, double v)
{
  jo_key (j, key);
  jo_double (j->s, v);
}

static void
jo_str (JsonOut *j, const char *key, const char *v)
{
  jo_key (j, key);
  if (v == NULL)
    g_string_append (j->s, "null");
  else
    jo_string (j->s, v);
}

static void
jo_quantiles (JsonOut *j, const char *key, const NatsimQuantiles *q)
{
  jo_open (j, key, '{');
  jo_uint (j, "samples", q->n);
  jo_uint (j, "kept", q->kept);
  jo_num (j, "min", q->min);
  jo_num (j, "p50", q->p50);
  jo_num (j, "p90", q->p90);
  jo_num (j, "p99", q->p99);
  jo_num (j, "max", q->max);
  jo_close (j, '}');
}

static void
jo_dscp_list (GString *s, uint64_t set)
{
  bool first = true;

  g_string_append_c (s, '[');
  for (guint d = 0; d < 64; d++)
    if (set & (UINT64_C (1) << d))
      {
        g_string_append_printf (s, "%s%u", first ? "" : ", ", d);
        first = false;
      }
  g_string_append_c (s, ']');
}

/* The transport of a class's flows: TCP for the TCP services of the port
 * table, none for ICMP, else UDP (DNS and NTP included; "sip" may be
 * either, and is counted as UDP, its usual transport). */
uint8_t
natsim_analysis_class_proto (guint cls)
{
  switch (cls)
    {
    case NATSIM_CLASS_SIP_TLS:
    case NATSIM_CLASS_SIP_TRUNK_TLS:
    case NATSIM_CLASS_HTTPS:
    case NATSIM_CLASS_PUSH:
    case NATSIM_CLASS_OTHER_TCP:
      return NATSIM_PROTO_TCP;
    case NATSIM_CLASS_ICMP:
      return 0;
    default:
      return NATSIM_PROTO_UDP;
    }
}

static double recommended_timeout (const NatsimAnalysis *a, uint8_t proto,
                                   const char **ret_class);

/* The idle timeout that keeps the long-lived flows of @proto alive: the
 * largest p99 refresh gap over the classes of that transport (NaN when no
 * class has 3 refresh gaps).  DNS and NTP are left out: each query stands
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
      if (f->refresh_gap.n >= 3 && (isnan (best) || f->refresh_gap.p99 > best))
        {
          best = f->refresh_gap.p99;
          *ret_class = names[c];
        }
    }
  return best;
}

char *
natsim_analysis_to_json (const NatsimAnalysis *a, const char *const *traces, guint n)
{
  const char *const *names = natsim_replay_class_names ();
  g_autofree char *inside = NULL;
  JsonOut j = { g_string_new (NULL), 0, true };
  const NatsimTraceStats *st = &a->stats;

  g_return_val_if_fail (a != NULL && a->finished, NULL);

  inside = natsim_cidr_set_to_string (a->inside);
  jo_open (&j, NULL, '{');
  jo_str (&j, "schema", NATSIM_ANALYSIS_SCHEMA);
  jo_str (&j, "natsim_version", NATSIM_VERSION);
  jo_str (&j, "command", "analyze");

  jo_open (&j, "inputs", '{');
  jo_key (&j, "traces");
  g_string_append_c (j.s, '[');
  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append (j.s, ", ");
      jo_string (j.s, traces[i]);
    }
  g_string_append_c (j.s, ']');
  jo_key (&j, "inside");
  g_string_append_c (j.s, '[');
  {
    g_auto (GStrv) parts = g_strsplit (inside, ",", -1);

    for (guint i = 0; parts[i] != NULL && parts[i][0] != '\0'; i++)
      {
        if (i > 0)
          g_string_append (j.s, ", ");
        jo_string (j.s, parts[i]);
      }
  }
  g_string_append_c (j.s, ']');
  jo_num (&j, "flow_timeout_s", natsim_time_to_sec (a->flow_timeout));
  jo_uint (&j, "max_samples", a->max_samples);
  /* Only when asked for: the default (tunnels opened) keeps the document
   * of a capture without tunnels as it always was. */
  if (a->outer)
    {
      jo_key (&j, "outer");
      g_string_append (j.s, "true");
    }
  jo_close (&j, '}');

  jo_open (&j, "capture", '{');
  jo_uint (&j, "packets_read", st->packets_read);
  jo_uint (&j, "packets_decoded", st->packets_decoded);
  jo_uint (&j, "packets_skipped", st->packets_skipped);
  jo_open (&j, "skipped", '{');
  for (guint i = 0; i < NATSIM_TRACE_SKIP_N; i++)
    if (st->skipped[i] > 0)
      jo_uint (&j, natsim_trace_skip_name ((NatsimTraceSkip) i), st->skipped[i]);
  jo_close (&j, '}');
  jo_uint (&j, "ipv4", st->ipv4);
  jo_uint (&j, "ipv6", st->ipv6);
  jo_uint (&j, "udp", st->udp);
  jo_uint (&j, "tcp", st->tcp);
  jo_uint (&j, "icmp", st->icmp);
  jo_uint (&j, "no_ports", a->no_ports);
  jo_uint (&j, "truncated", st->truncated);
  jo_uint (&j, "out_of_order", st->out_of_order);
  /* Present when there are some, like the tunnels below: the document of
   * an ordinary capture stays as it was. */
  if (st->bad_timestamps > 0)
    jo_uint (&j, "bad_timestamps", st->bad_timestamps);
  if (st->files_cut > 0)
    jo_uint (&j, "files_cut", st->files_cut);
  if (a->any_fragment)
    {
      const NatsimReasmStats *rs = natsim_reasm_stats (a->reasm);

      jo_open (&j, "reassembly", '{');
      jo_uint (&j, "datagrams", rs->datagrams);
      jo_uint (&j, "fragments", rs->fragments);
      jo_uint (&j, "fragments_lost", rs->lost);
      jo_uint (&j, "overlapping", rs->overlapping);
      jo_uint (&j, "timed_out", rs->timed_out);
      jo_uint (&j, "evicted", rs->evicted);
      jo_uint (&j, "invalid", rs->invalid);
      jo_uint (&j, "duplicates", rs->duplicates);
      jo_close (&j, '}');
    }
  {
    guint64 any = 0;

    for (guint k = 0; k < NATSIM_TRACE_TUNNEL_N; k++)
      any += st->tunnels[k];
    if (any > 0)
      {
        jo_open (&j, "decapsulated", '{');
        for (guint k = 0; k < NATSIM_TRACE_TUNNEL_N; k++)
          if (st->tunnels[k] > 0)
            jo_uint (&j, natsim_trace_tunnel_name ((NatsimTraceTunnel) k), st->tunnels[k]);
        jo_close (&j, '}');
      }
  }
  jo_num (&j, "duration_s", a->any ? natsim_time_to_sec (a->last_time - a->first_time) : 0.0);
  jo_close (&j, '}');

  jo_open (&j, "totals", '{');
  jo_uint (&j, "flows", a->flows_total);
  jo_uint (&j, "packets", a->packets_total);
  jo_uint (&j, "bytes", a->bytes_total);
  jo_uint (&j, "peak_live_flows", a->peak_live_flows);
  jo_close (&j, '}');

  jo_open (&j, "classes", '{');
  for (guint c = 0; c < a->n_classes; c++)
    {
      const NatsimClassAnalysis *f = &a->classes[c].fig;
      uint64_t expected_any = 0;

      /* All the DSCP values the table allows in this class. */
      expected_any = dscp_expected (c, 0) | dscp_expected (c, 5060);
      jo_open (&j, names[c], '{');
      jo_uint (&j, "flows", f->flows);
      jo_uint (&j, "packets", f->packets);
      jo_uint (&j, "bytes", f->bytes);
      jo_uint (&j, "webex_calling_flows", f->webex_calling_flows);
      jo_uint (&j, "webex_app_config_flows", f->webex_app_config_flows);
      jo_uint (&j, "long_lived_flows", f->long_lived_flows);
      jo_quantiles (&j, "duration_s", &f->duration);
      jo_quantiles (&j, "idle_gap_s", &f->idle_gap);
      jo_quantiles (&j, "refresh_gap_s", &f->refresh_gap);
      jo_num (&j, "keepalive_s", f->keepalive_s);
      jo_open (&j, "dscp", '{');
      jo_key (&j, "expected");
      if (expected_any == 0)
        g_string_append (j.s, "null");
      else
        jo_dscp_list (j.s, expected_any);
      jo_uint (&j, "checked", f->dscp_checked);
      jo_uint (&j, "as_expected", f->dscp_expected);
      jo_uint (&j, "other", f->dscp_other);
      jo_open (&j, "observed", '[');
      for (guint d = 0; d < 64; d++)
        if (f->dscp_observed[d] > 0)
          {
            jo_open (&j, NULL, '{');
            jo_uint (&j, "dscp", d);
            jo_uint (&j, "packets", f->dscp_observed[d]);
            jo_close (&j, '}');
          }
      jo_close (&j, ']');
      jo_close (&j, '}');
      jo_close (&j, '}');
    }
  jo_close (&j, '}');

  jo_open (&j, "sip", '{');
  jo_uint (&j, "register_requests", a->sip.registers);
  jo_uint (&j, "register_oks", a->sip.register_oks);
  jo_uint (&j, "registering_endpoints", a->sip.endpoints);
  jo_uint (&j, "unregisters", a->sip.unregisters);
  jo_quantiles (&j, "register_interval_s", &a->sip.interval);
  jo_quantiles (&j, "expires_requested_s", &a->sip.expires_requested);
  jo_quantiles (&j, "expires_granted_s", &a->sip.expires_granted);
  {
    /* SIP over TCP, when the capture has it (absent otherwise, so the
     * document of a UDP-only capture is as it was). */
    const NatsimSipStreamStats *ts = natsim_sip_streams_stats (a->streams);

    if (ts->messages + ts->keepalives + ts->gaps + ts->overflows > 0)
      {
        jo_open (&j, "tcp_streams", '{');
        jo_uint (&j, "messages", ts->messages);
        jo_uint (&j, "keepalives", ts->keepalives);
        jo_uint (&j, "gaps", ts->gaps);
        jo_uint (&j, "overflows", ts->overflows);
        jo_uint (&j, "evicted", ts->evicted);
        jo_uint (&j, "bytes_skipped", ts->skipped);
        jo_close (&j, '}');
      }
  }
  jo_close (&j, '}');

  jo_open (&j, "recommendations", '[');
  {
    const uint8_t protos[2] = { NATSIM_PROTO_UDP, NATSIM_PROTO_TCP };
    const char *ids[2] = { "timeout.udp", "timeout.tcp_established" };

    for (guint i = 0; i < 2; i++)
      {
        const char *cls = NULL;
        double v = recommended_timeout (a, protos[i], &cls);
        g_autofree char *reason = NULL;

        if (isnan (v))
          continue;
        reason = g_strdup_printf ("longest p99 refresh gap of long-lived %s flows (class %s); "
                                  "a shorter idle timeout drops their bindings between "
                                  "refreshes", i == 0 ? "UDP" : "TCP", cls);
        jo_open (&j, NULL, '{');
        jo_str (&j, "id", ids[i]);
        jo_num (&j, "value", ceil (v));
        jo_str (&j, "unit", "s");
        jo_str (&j, "reason", reason);
        jo_str (&j, "basis", "trace");
        jo_close (&j, '}');
      }
  }
  jo_close (&j, ']');

  jo_open (&j, "warnings", '[');
  {
    g_autofree char *cut = natsim_trace_cut_message (st, traces);
    g_autofree char *bad_time = natsim_trace_bad_time_message (st);

    if (cut != NULL)
      {
        jo_open (&j, NULL, '{');
        jo_str (&j, "id", "trace.cut");
        jo_str (&j, "message", cut);
        jo_close (&j, '}');
      }
    if (bad_time != NULL)
      {
        jo_open (&j, NULL, '{');
        jo_str (&j, "id", "trace.bad_timestamps");
        jo_str (&j, "message", bad_time);
        jo_close (&j, '}');
      }
  }
  if (st->packets_skipped > 0)
    {
      g_autoptr (GString) m = g_string_new (NULL);

      g_string_append_printf (m, "%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                              " packets could not be decoded (", st->packets_skipped,
                              st->packets_read);
      for (guint i = 0, k = 0; i < NATSIM_TRACE_SKIP_N; i++)
        if (st->skipped[i] > 0)
          g_string_append_printf (m, "%s%s %" G_GUINT64_FORMAT, k++ > 0 ? ", " : "",
                                  natsim_trace_skip_name ((NatsimTraceSkip) i), st->skipped[i]);
      g_string_append_c (m, ')');
      jo_open (&j, NULL, '{');
      jo_str (&j, "id", "analyze.skipped");
      jo_str (&j, "message", m->str);
      jo_close (&j, '}');
    }
  for (guint c = 0; c < a->n_classes; c++)
    {
      const NatsimClassAnalysis *f = &a->classes[c].fig;
      const NatsimQuantiles *qs[3] = { &f->duration, &f->idle_gap, &f->refresh_gap };

      for (guint i = 0; i < 3; i++)
        if (qs[i]->kept < qs[i]->n)
          {
            g_autofree char *m = g_strdup_printf (
              "class %s: quantiles from a uniform sample of %" G_GUINT64_FORMAT " of %"
              G_GUINT64_FORMAT " values", names[c], qs[i]->kept, qs[i]->n);
            jo_open (&j, NULL, '{');
            jo_str (&j, "id", "analyze.sampled");
            jo_str (&j, "message", m);
            jo_close (&j, '}');
            break;
          }
    }
  jo_close (&j, ']');
  jo_close (&j, '}');
  g_string_append_c (j.s, '\n');
  return g_string_free (j.s, FALSE);
}

/* ------------------------------------------------------------------------ */
/* Text summary                                                             */

/* Seconds for people: 3 decimals below 10 s, else 1; "-" when unknown. */
static const char *
fmt_seconds (char *buf, size_t size, double v)
{
  if (!isfinite (v))
    return "-";
  return g_ascii_formatd (buf, size, v < 10 ? "%.3f" : "%.1f", v);
}

static void
text_seconds (GString *s, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (s, " %9s", fmt_seconds (buf, sizeof buf, v));
}

char *
natsim_analysis_to_text (const NatsimAnalysis *a)
{
  const char *const *names = natsim_replay_class_names ();
  GString *s = g_string_new (NULL);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_return_val_if_fail (a != NULL && a->finished, NULL);

  g_string_append_printf (s, "Traffic analysis: %" G_GUINT64_FORMAT " packets read, %"
                          G_GUINT64_FORMAT " decoded, %" G_GUINT64_FORMAT " skipped; %s s\n",
                          a->stats.packets_read, a->stats.packets_decoded,
                          a->stats.packets_skipped,
                          g_ascii_formatd (buf, sizeof buf, "%.3f",
                                           a->any ? natsim_time_to_sec (a->last_time - a->first_time) : 0.0));
  g_string_append_printf (s, "%" G_GUINT64_FORMAT " flows (both directions folded), %"
                          G_GUINT64_FORMAT " packets with ports, %" G_GUINT64_FORMAT
                          " without\n\n", a->flows_total, a->packets_total, a->no_ports);
  g_string_append_printf (s, "%-13s %6s %8s %6s %9s %9s %9s %9s %9s %9s %s\n", "class", "flows",
                          "packets", "webex", "dur p50", "dur max", "gap p50", "gap p99",
                          "gap max", "keepalive", "dscp ok");
  for (guint c = 0; c < a->n_classes; c++)
    {
      const NatsimClassAnalysis *f = &a->classes[c].fig;

      if (f->flows == 0)
        continue;
      g_string_append_printf (s, "%-13s %6" G_GUINT64_FORMAT " %8" G_GUINT64_FORMAT " %6"
                              G_GUINT64_FORMAT, names[c], f->flows, f->packets,
                              f->webex_calling_flows + f->webex_app_config_flows);
      text_seconds (s, f->duration.p50);
      text_seconds (s, f->duration.max);
      text_seconds (s, f->idle_gap.p50);
      text_seconds (s, f->idle_gap.p99);
      text_seconds (s, f->idle_gap.max);
      text_seconds (s, f->keepalive_s);
      if (f->dscp_checked > 0)
        g_string_append_printf (s, " %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
                                f->dscp_expected, f->dscp_checked);
      else
        g_string_append (s, " -");
      g_string_append_c (s, '\n');
    }
  g_string_append (s, "(seconds; gap = idle time between a flow's packets; keepalive = median "
                      "gap >= 1 s in flows older than 60 s)\n");
  if (a->sip.registers + a->sip.register_oks > 0)
    {
      g_string_append_printf (s, "\nSIP: %" G_GUINT64_FORMAT " REGISTER from %" G_GUINT64_FORMAT
                              " endpoint(s), %" G_GUINT64_FORMAT " 2xx answers",
                              a->sip.registers, a->sip.endpoints, a->sip.register_oks);
      if (a->sip.interval.n > 0)
        {
          char b2[G_ASCII_DTOSTR_BUF_SIZE];

          g_string_append_printf (s, "; refresh interval p50 %s s, max %s s",
                                  fmt_seconds (buf, sizeof buf, a->sip.interval.p50),
                                  fmt_seconds (b2, sizeof b2, a->sip.interval.max));
        }
      if (a->sip.expires_requested.n > 0)
        g_string_append_printf (s, "; Expires requested p50 %s s",
                                fmt_seconds (buf, sizeof buf, a->sip.expires_requested.p50));
      if (a->sip.expires_granted.n > 0)
        g_string_append_printf (s, ", granted p50 %s s",
                                fmt_seconds (buf, sizeof buf, a->sip.expires_granted.p50));
      g_string_append_c (s, '\n');
    }
  for (guint i = 0, shown = 0; i < 2; i++)
    {
      const char *cls = NULL;
      double v = recommended_timeout (a, i == 0 ? NATSIM_PROTO_UDP : NATSIM_PROTO_TCP, &cls);

      if (isnan (v))
        continue;
      if (shown++ == 0)
        g_string_append_c (s, '\n');
      g_string_append_printf (s, "A %s idle timeout of at least %s s keeps the long-lived "
                                 "%s flows alive (class %s, p99 refresh gap)\n",
                              i == 0 ? "UDP" : "TCP",
                              g_ascii_formatd (buf, sizeof buf, "%.0f", ceil (v)),
                              i == 0 ? "UDP" : "TCP", cls);
    }
  return g_string_free (s, FALSE);
}
