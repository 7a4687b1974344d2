/* natsim: configuration checks against BCP 127 and the Webex Calling
 * guidance (docs/reference.md sections 1 and 2).  Each check has a stable id
 * that report.json "warnings" and `natsim check` use. */
#include <math.h>
#include <string.h>

#include "natsim/recommend.h"
#include "natsim/simulate.h"

static void
add (GPtrArray *out, const char *id, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static void
add (GPtrArray *out, const char *id, const char *fmt, ...)
{
  NatsimCheck *c = g_new0 (NatsimCheck, 1);
  va_list ap;

  va_start (ap, fmt);
  c->id = g_strdup (id);
  c->message = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_ptr_array_add (out, c);
}

static void
check_free (NatsimCheck *c)
{
  g_free (c->id);
  g_free (c->message);
  g_free (c);
}

static void
recommend (GArray *out, const char *id, double value, const char *unit, const char *fmt,
           ...) G_GNUC_PRINTF (5, 6);

static void
recommend (GArray *out, const char *id, double value, const char *unit, const char *fmt, ...)
{
  g_autofree char *reason = NULL;
  va_list ap;

  if (out == NULL)
    return;
  va_start (ap, fmt);
  reason = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  natsim_recommendations_add (out, id, value, unit, "arithmetic", "%s", reason);
}

/* "phones, desktops": the populations that send media on even/odd pairs,
 * or NULL. */
static char *
media_populations (const NatsimScenario *s)
{
  GString *names = NULL;

  for (guint i = 0; i < s->populations->len; i++)
    {
      const NatsimPopulationSpec *p = g_ptr_array_index (s->populations, i);
      NatsimPortDemand d = { 0 };
      if (p->profile->port_demand == NULL)
        continue;
      p->profile->port_demand (p->params, &d);
      if (!d.media_pairs)
        continue;
      if (names == NULL)
        names = g_string_new ("populations ");
      else
        g_string_append (names, ", ");
      g_string_append (names, p->name);
    }
  return names != NULL ? g_string_free (names, FALSE) : NULL;
}

/* E[(G - T)+] / E[G] for G uniform on [a, b]: the share of time (and of
 * Poisson inbound requests) that finds the mapping gone when every gap G
 * between refreshes lets it die T after the last one. */
static double
loss_fraction (double a, double b, double t)
{
  double mean = (a + b) / 2.0;

  if (mean <= 0.0 || t >= b)
    return 0.0;
  if (b <= a)
    return (a - t) / a;
  if (t <= a)
    return (mean - t) / mean;
  return (b - t) * (b - t) / (2.0 * (b - a)) / mean;
}

static void
fmt_dur (char *buf, double sec)
{
  natsim_format_duration (natsim_time_from_sec (sec), buf, 32);
}

typedef struct
{
  double      gap;   /* longest gap of any long-lived flow of this protocol */
  const char *pop;   /* ... in that population */
  const char *what;
  bool        failing;
} Longest;

/* What the endpoint checks read from the NAT configuration, once. */
typedef struct
{
  double udp, stream, est;  /* the three idle timeouts, seconds */
  double range;             /* ports per public address */
  guint  n_addresses;
  double pps;               /* ports a subscriber may hold (0 = no limit) */
  bool   exclusive;         /* port_reuse = exclusive */
} NatView;

/* Port demand summed over the populations. */
typedef struct
{
  double      total;        /* long-lived flows and media of every endpoint */
  double      one_service;  /* one signalling connection per endpoint */
  double      per_host_max; /* the busiest host's ports */
  const char *per_host_pop;
} Demand;

/* The idle timeout that holds a refresh need's mapping, its key, why that
 * one, and whether the need's gaps outlive it. */
static bool
refresh_fails (const NatView *v, const NatsimRefreshNeed *r, double hi, double *ret_t,
               const char **ret_key, const char **ret_why)
{
  if (r->proto != NATSIM_PROTO_UDP)
    {
      *ret_t = v->est;
      *ret_key = "tcp_established_timeout";
      *ret_why = "";
      return hi >= v->est;
    }
  /* Linux (nf_conntrack_proto_udp.c) gives udp_stream_timeout only to
   * refreshes after a reply once the entry is 2 s old; the first reply of
   * every new mapping still gets udp_timeout.  A flow survives only if its
   * gaps stay under udp_timeout (and, once answered, under the stream
   * timeout); docs/reference.md, Linux netfilter. */
  if (hi >= v->udp)
    {
      *ret_t = v->udp;
      *ret_key = "udp_timeout";
      *ret_why = r->replies
                   ? " (udp_stream_timeout does not help: it only applies to refreshes "
                     "after a reply once the mapping is 2 s old, and each new mapping's "
                     "first reply still gets udp_timeout)"
                   : " (the remote does not answer these packets, so udp_timeout "
                     "applies, never udp_stream_timeout)";
    }
  else
    {
      *ret_t = v->stream;
      *ret_key = "udp_stream_timeout";
      *ret_why = " (an answered flow is held by the stream timeout after its first "
                 "refresh)";
    }
  return hi >= v->udp || (r->replies && hi >= v->stream);
}

/* One population's refresh needs against the timeouts: a warning and a
 * keepalive recommendation for each need whose gaps outlive its mapping,
 * and the longest gap per protocol for the timeout recommendations. */
static void
check_refresh (const NatView *v, const NatsimPopulationSpec *p, Longest *lu, Longest *lt,
               GPtrArray *warnings, GArray *recs)
{
  NatsimRefreshNeed needs[NATSIM_REFRESH_NEEDS_MAX];
  guint n_needs = 0;
  char b1[32], b2[32], b3[32], b4[32];

  if (p->profile->refresh_gaps != NULL)
    p->profile->refresh_gaps (p->params, needs, &n_needs);
  for (guint k = 0; k < n_needs; k++)
    {
      const NatsimRefreshNeed *r = &needs[k];
      double lo = natsim_time_to_sec (r->gap_lo), hi = natsim_time_to_sec (r->gap_hi);
      bool is_udp = r->proto == NATSIM_PROTO_UDP;
      Longest *l = is_udp ? lu : lt;
      double t;
      const char *key, *why;

      if (hi > l->gap)
        {
          l->gap = hi;
          l->pop = p->name;
          l->what = r->what;
        }
      if (!refresh_fails (v, r, hi, &t, &key, &why))
        continue;
      l->failing = true;
      fmt_dur (b1, t);
      fmt_dur (b2, lo);
      fmt_dur (b3, hi);
      if (warnings != NULL)
        add (warnings, is_udp ? "refresh.udp" : "refresh.tcp",
             "[population %s] %s = %s is shorter than the %s gap of %s (%s..%s): the "
             "mapping dies between refreshes%s; expect about %.0f %% of inbound requests "
             "lost%s and each endpoint unreachable that share of the time "
             "(E[(G-T)+]/E[G], gaps uniform in [%s, %s])",
             p->name, key, b1, r->what, p->profile->name, b2, b3, why,
             100.0 * loss_fraction (lo, hi, t),
             r->reachability ? ", incoming calls among them missed," : "", b2, b3);
      if (natsim_key_lookup (p->profile->keys, "keepalive_interval") != NULL)
        {
          /* RFC 5626: keepalives at 80-100 % of a nominal interval;
           * a nominal of 80 % of the timeout keeps a 20 % margin. */
          double nominal = floor (t * 0.8);
          fmt_dur (b4, floor (nominal * 0.8));
          fmt_dur (b2, nominal);
          recommend (recs, "keepalive.interval", nominal, "s",
                     "[population %s] set keepalive_interval = %s..%s%s (RFC 5626: 80-100 %% "
                     "of a %s nominal) to refresh within %s = %s with a 20 %% margin",
                     p->name, b4, b2,
                     r->keepalive ? "" : " with keepalive = stun", b2, key, b1);
        }
    }
}

/* Adds one population's busy-hour port demand. */
static void
add_demand (const NatsimPopulationSpec *p, Demand *dm)
{
  NatsimPortDemand d = { 0 };
  double host;

  if (p->profile->port_demand == NULL)
    return;
  p->profile->port_demand (p->params, &d);
  dm->total += d.endpoints * d.long_lived + d.peak_calls * d.ports_per_call;
  dm->one_service += d.endpoints;
  /* Each host also holds a few short flows (NTP, HTTPS, DNS) in their
   * timeouts. */
  host = d.long_lived + d.peak_calls_per_host * d.ports_per_call + 2.0;
  if (host > dm->per_host_max)
    {
      dm->per_host_max = host;
      dm->per_host_pop = p->name;
    }
}

/* The timeout recommendations from the longest failing refresh gaps, by
 * the one timeout-from-gap rule (natsim/recommend.h). */
static void
recommend_timeouts (const Longest *lu, const Longest *lt, GArray *recs)
{
  char b1[32];

  if (lu->failing)
    {
      double v = natsim_timeout_recommend (NATSIM_TIMER_UDP, lu->gap, false);
      fmt_dur (b1, lu->gap);
      recommend (recs, "timeout.udp", v, "s",
                 "the longest UDP refresh gap is %s (%s of population %s); a timeout of the gap "
                 "plus 10 %% (at least 5 s) keeps every binding, and RFC 4787 REQ-5 asks for at "
                 "least 2 min; where the timeout cannot grow, shorten the keepalive instead",
                 b1, lu->what, lu->pop);
    }
  if (lt->failing)
    {
      double v = natsim_timeout_recommend (NATSIM_TIMER_TCP_ESTABLISHED, lt->gap, false);
      fmt_dur (b1, lt->gap);
      recommend (recs, "timeout.tcp_established", v, "s",
                 "the longest TCP keepalive or refresh gap is %s (%s of population %s); the "
                 "timeout must exceed it with margin, the Webex guidance asks for at least "
                 "30 min on NAT and SPI devices, and RFC 5382 REQ-5 for at least 7440 s",
                 b1, lt->what, lt->pop);
    }
}

/* The busy-hour port demand against the pool and the subscriber limit. */
static void
check_demand (const NatView *v, const Demand *dm, GPtrArray *warnings, GArray *recs)
{
  if (dm->total > 0.0 && v->n_addresses > 0)
    {
      double ports = v->exclusive ? dm->total : dm->one_service;
      double per_addr = ports / v->n_addresses;
      if (per_addr > v->range)
        {
          double need = ceil (ports / v->range);
          if (warnings != NULL)
            add (warnings, "pool.ports",
                 "about %.0f ports per public address at the busy hour (%s; a high-quantile "
                 "estimate from the counts, simulate for the real peak) but port_range holds "
                 "%.0f: PAT may run out of ports",
                 per_addr,
                 v->exclusive ? "long-lived flows and media of every endpoint, port_reuse = "
                                "exclusive"
                              : "one signalling connection per endpoint toward the same service",
                 v->range);
          recommend (recs, "pool.addresses", need, "addresses",
                     "%.0f ports at the busy hour over %.0f ports per address",
                     per_addr * v->n_addresses, v->range);
        }
    }
  if (v->pps > 0.0 && dm->per_host_max > v->pps)
    {
      double r = 1.0;
      while (r < dm->per_host_max * 1.25)
        r *= 2.0;
      if (warnings != NULL)
        add (warnings, "pool.ports_per_subscriber",
             "[population %s] one host needs about %.0f ports at the busy hour (signalling, "
             "background and media pairs of its concurrent calls) but ports_per_subscriber x "
             "blocks_per_subscriber allows %.0f",
             dm->per_host_pop, dm->per_host_max, v->pps);
      recommend (recs, "pool.ports_per_subscriber", r, "ports",
                 "population %s: about %.0f ports per host at the busy hour plus 25 %% margin, "
                 "rounded up to a power of two", dm->per_host_pop, dm->per_host_max);
    }
}

/* The checks and recommendations that come from the endpoint profiles:
 * refresh gaps against the timeouts, port demand against the pool. */
static void
analyse_endpoints (const NatsimScenario *s, GPtrArray *warnings, GArray *recs)
{
  const NatsimParams *n = s->nat;
  g_autoptr (GArray) addrs = natsim_params_get_addresses (n, "addresses");
  uint16_t port_lo, port_hi;
  NatView v = {
    .udp = natsim_time_to_sec (natsim_params_get_duration (n, "udp_timeout")),
    .stream = natsim_time_to_sec (natsim_params_get_duration (n, "udp_stream_timeout")),
    .est = natsim_time_to_sec (natsim_params_get_duration (n, "tcp_established_timeout")),
    .n_addresses = addrs->len,
    .pps = (double) natsim_params_get_uint (n, "ports_per_subscriber")
           * (double) natsim_params_get_uint (n, "blocks_per_subscriber"),
    .exclusive = natsim_params_get_enum (n, "port_reuse") == NATSIM_REUSE_EXCLUSIVE,
  };
  Longest lu = { 0 }, lt = { 0 };
  Demand dm = { 0 };

  natsim_params_get_port_range (n, "port_range", &port_lo, &port_hi);
  v.range = (double) port_hi - port_lo + 1.0;

  for (guint i = 0; i < s->populations->len; i++)
    {
      const NatsimPopulationSpec *p = g_ptr_array_index (s->populations, i);
      check_refresh (&v, p, &lu, &lt, warnings, recs);
      add_demand (p, &dm);
    }
  recommend_timeouts (&lu, &lt, recs);
  check_demand (&v, &dm, warnings, recs);
}

GArray *
natsim_check_recommendations (const NatsimScenario *s)
{
  GArray *recs = natsim_recommendations_new ();

  analyse_endpoints (s, NULL, recs);
  return recs;
}

/* Check @id: the duration @key of @n is at least @min_s seconds; else the
 * warning "KEY = VALUE@consequence". */
static void
check_min_duration (GPtrArray *out, const NatsimParams *n, const char *key, double min_s,
                    const char *id, const char *consequence)
{
  if (natsim_time_to_sec (natsim_params_get_duration (n, key)) < min_s)
    add (out, id, "%s = %s%s", key, natsim_params_get (n, key), consequence);
}

GPtrArray *
natsim_check_scenario (const NatsimScenario *s)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) check_free);
  const NatsimParams *n = s->nat;
  g_autoptr (GArray) addrs = natsim_params_get_addresses (n, "addresses");

  if (natsim_params_get_enum (n, "mapping") != NATSIM_MAPPING_EIM)
    add (out, "rfc4787.req1",
         "mapping = %s: RFC 4787 REQ-1 requires endpoint-independent mapping; "
         "STUN-discovered addresses will not work for media",
         natsim_params_get (n, "mapping"));
  if (addrs->len > 1 && natsim_params_get_enum (n, "pooling") != NATSIM_POOLING_PAIRED)
    add (out, "rfc4787.req2",
         "pooling = arbitrary with %u addresses: RFC 4787 REQ-2 recommends paired pooling "
         "(an endpoint's SIP and media may leave from different public addresses)",
         addrs->len);
  if (!natsim_params_get_bool (n, "parity"))
    {
      g_autofree char *media = media_populations (s);
      if (media != NULL)
        add (out, "rfc4787.req4",
             "parity = false while %s send RTP/RTCP on even/odd port pairs: RFC 4787 REQ-4 "
             "recommends port parity preservation; the public ports of a pair may come out "
             "odd/even or apart, which breaks peers that take RTCP to be the RTP port + 1",
             media);
      else
        add (out, "rfc4787.req4",
             "parity = false: RFC 4787 REQ-4 recommends port parity preservation "
             "(RTP on even, RTCP on the next odd port)");
    }
  check_min_duration (out, n, "udp_timeout", 120.0, "rfc4787.req5",
                      " is under the 2 min that RFC 4787 REQ-5 requires");
  check_min_duration (out, n, "udp_stream_timeout", 120.0, "rfc4787.req5",
                      " is under the 2 min that RFC 4787 REQ-5 requires");
  if (natsim_params_get_enum (n, "filtering") == NATSIM_FILTER_APDF)
    add (out, "rfc4787.req8",
         "filtering = address-port-dependent: RFC 4787 REQ-8 recommends endpoint-independent "
         "or address-dependent filtering for application transparency");
  if (natsim_params_get_bool (n, "sip_alg"))
    add (out, "rfc4787.req10",
         "sip_alg = true: disable the SIP ALG (RFC 4787 REQ-10; the Webex Calling guidance "
         "says not to manipulate SIP on the NAT)");
  check_min_duration (out, n, "tcp_established_timeout", 7440.0, "rfc5382.req5",
                      " is under the 2 h 4 min (7440 s) of RFC 5382 REQ-5");
  check_min_duration (out, n, "tcp_transitory_timeout", 240.0, "rfc5382.req5",
                      " is under the 4 min (240 s) of RFC 5382 REQ-5");
  check_min_duration (out, n, "icmp_timeout", 60.0, "rfc5508.req",
                      " is under the 60 s that RFC 5508 requires for ICMP query mappings");
  check_min_duration (out, n, "tcp_established_timeout", 1800.0, "webex.tcp_timeout",
                      ": the Webex Calling guidance asks for at least 30 minutes on NAT and "
                      "SPI devices (mobile keepalives are ~30 min)");
  analyse_endpoints (s, out, NULL);
  return out;
}
