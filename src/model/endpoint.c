/* natsim: the endpoint engine behind the VoIP profiles.
 *
 * One population of endpoints running one EndpointSpec (endpoint.h).
 * Per-endpoint state lives in arrays sized by count at creation; calls live
 * in a pool recycled when a call ends, so memory follows the endpoints and
 * the concurrent calls, never the packets.
 *
 * Timing.  A request and its answer (REGISTER and 200 OK, a STUN request
 * and its response, a TCP handshake) are offered to the NAT at the same
 * instant: the NAT's state depends on gaps of seconds, not on round trips.
 * Media is one packet per stream and direction per media_packet_interval
 * (default 1 s, not the 50 packets/s of 20 ms RTP): a binding only cares
 * about the longest gap between packets, so this gives the same NAT state
 * for a fiftieth of the work.  Once a call's streams are steady the rest
 * of its ticks go to the driver as trains (media_fast_forward()), which
 * the NAT applies in closed form with the same result.
 *
 * Reachability.  The cloud reaches an endpoint over its "reach" flow (the
 * signalling connection, or for a mobile app its push connection) at the
 * public address the registrar last learnt.  The endpoint is unreachable
 * from the moment that mapping dies (the NAT tells us when, through
 * natsim_nat_flow_state()) until it is usable again:
 * - TCP: the endpoint's next segment on the dead connection creates a new
 *   mapping (loose tracking, as Linux) that the server does not know; the
 *   server answers with a reset, the endpoint reconnects from a new source
 *   port and registers again; reachable when that REGISTER is answered.
 * - UDP: the next refresh creates a new mapping.  If it got the same public
 *   port, the registrar's address works again at once; if not, a REGISTER
 *   or a STUN keepalive (RFC 5626 section 4.4.2: a changed reflexive
 *   address is a flow failure, the UA registers again) repairs it, a CRLF
 *   keepalive does not and the endpoint stays unreachable until its next
 *   REGISTER.  Requests the cloud sends meanwhile to the stale address are
 *   lost without reaching this flow's mapping, so they are not NAT binding
 *   losses here; incoming calls among them count as missed calls.
 */
#include <gsl/gsl_randist.h>
#include <math.h>

#include "endpoint.h"
#include "natsim/error.h"

enum
{
  EV_BOOT,
  EV_REGISTER,
  EV_KEEPALIVE,
  EV_AUX_KEEPALIVE,
  EV_OPTIONS,
  EV_NOTIFY,
  EV_CALL_ARRIVAL,
  EV_MEDIA,
  EV_CALL_END,
  EV_BACKGROUND, /* + background index */
};

typedef enum
{
  REQ_REGISTER,
  REQ_KEEPALIVE,
  REQ_INVITE,
  REQ_BYE,
} Request;

/* Linux's default ephemeral range, net.ipv4.ip_local_port_range. */
#define EPHEMERAL_LO 32768
#define EPHEMERAL_HI 60999

typedef struct
{
  NatsimTime down_since; /* unreachable since; NATSIM_TIME_INFINITY: reachable */
  uint32_t   reg_addr;   /* public endpoint the registrar knows (0: none) */
  uint16_t   reg_port;
  uint16_t   sig_port;   /* current signalling source port, 0: none */
  uint16_t   aux_port;   /* current websocket/push source port, 0: none */
  uint16_t   next_eph;
  uint16_t   next_sig;
  uint16_t   audio_cur, video_cur;
  uint16_t   calls;
  uint32_t   pairs;      /* 1 + its media pair bitmap in the pool, 0: none (no call) */
  uint32_t   sig_hint, aux_hint; /* natsim_nat_flow_state_hint() of those flows */
  bool       booted;
  bool       registered; /* has been reachable once */
  bool       stale;      /* the registrar knows a public address that is not the current mapping's */
} Endpoint;

/* Ticks of a call's media sent one by one before its streams are steady
 * enough to fast-forward (media_fast_forward()). */
#define MEDIA_FF_FIRST 3u

typedef struct
{
  uint32_t       ep;
  uint16_t       audio, video; /* even local ports; 0: none */
  NatsimEndpoint ra, rv;       /* remote media (RTP; RTCP is the next port) */
  NatsimTime     end;
  uint32_t       ticks;
  uint32_t       ff_at;        /* ticks done before trying a fast-forward */
  bool           direct;       /* ICE found the peer inside: no NAT traffic */
  bool           on_demand_sig;
} Call;

typedef struct
{
  NatsimPopulation parent;
  EndpointSpec     spec;
  Endpoint        *eps;
  guint            audio_pairs, video_pairs;
  /* Media pair bitmaps (a bit per audio pair, then a bit per video pair),
   * lent to an endpoint while it has calls: a range of thousands of pairs
   * (sip-udp: 8,192) would otherwise cost kilobytes per endpoint that
   * almost never calls. */
  uint8_t         *pair_pool;  /* [pool_cap * pair_bytes] */
  guint            pair_bytes, audio_bytes, pool_len, pool_cap;
  GArray          *pool_free;  /* uint32_t: bitmaps back in the pool (all zero) */
  GArray          *calls;      /* Call pool */
  GArray          *free_calls; /* uint32_t */
  double           max_rate;   /* population call arrivals per second, busiest hour */
  guint            rtcp_every;
  /* What the packets sent now are for (NatsimFlowKind): set by the
   * exchange that sends them, so that metrics can tell a harmless NTP
   * rebinding from a lost REGISTER. */
  uint8_t          kind;
} EndpointPopulation;

const char *const endpoint_curve_choices[] = { "flat", "office", NULL };

/* Relative call load per clock hour of an office day (0:00 to 23:00),
 * peaking at 10:00: a morning and a smaller afternoon busy hour with a
 * lunch dip, as business telephony shows.  A planning assumption, not a
 * measurement: a scenario needing another shape sets flat and scales
 * calls_per_hour itself. */
static const double office_curve[24] = {
  0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.20, 0.60, 0.95, 1.00, 0.90,
  0.50, 0.70, 0.90, 0.85, 0.70, 0.40, 0.15, 0.08, 0.05, 0.04, 0.03, 0.02,
};

const double *
endpoint_curve (guint index)
{
  return index == 1 ? office_curve : NULL;
}

/* ---- packets ---- */

static inline uint32_t
host_of (const EndpointPopulation *e, guint i)
{
  return e->parent.ctx->inside_base + i;
}

static inline NatsimEndpoint
sig_remote (const EndpointPopulation *e, guint i)
{
  NatsimEndpoint r = e->spec.sig_server;

  r.addr += i % MAX (e->spec.sig_servers, 1);
  return r;
}

/* Where endpoint @ep keeps the flow hint (NatsimPacket.hint) of its flow
 * from @lport: the signalling and websocket flows, which it uses and asks
 * about before every exchange, keep one; NULL for the others. */
static uint32_t *
flow_hint (Endpoint *ep, uint16_t lport)
{
  if (lport == 0)
    return NULL;
  if (lport == ep->sig_port)
    return &ep->sig_hint;
  if (lport == ep->aux_port)
    return &ep->aux_hint;
  return NULL;
}

/* Offers one packet of endpoint @i: outbound from (@i, @lport) to @remote,
 * or inbound from @remote to it. */
static NatsimVerdict
xmit (EndpointPopulation *e, guint i, NatsimTime now, uint8_t proto, bool out,
      uint16_t lport, NatsimEndpoint remote, uint8_t flags, uint8_t dscp,
      uint16_t length, NatsimNatResult *ret)
{
  const NatsimPopulationContext *ctx = e->parent.ctx;
  NatsimPacket pkt = { 0 };
  NatsimNatResult res;
  uint32_t *hint = flow_hint (&e->eps[i], lport);

  pkt.time = now;
  pkt.proto = proto;
  pkt.dir = out ? NATSIM_DIR_OUT : NATSIM_DIR_IN;
  pkt.cls = ctx->cls;
  pkt.endpoint = i;
  pkt.length = length;
  pkt.tcp_flags = proto == NATSIM_PROTO_TCP ? flags : 0;
  pkt.dscp = dscp;
  pkt.kind = e->kind;
  if (out)
    {
      pkt.src_addr = host_of (e, i);
      pkt.src_port = lport;
      pkt.dst_addr = remote.addr;
      pkt.dst_port = remote.port;
    }
  else
    {
      pkt.src_addr = remote.addr;
      pkt.src_port = remote.port;
      pkt.dst_addr = host_of (e, i);
      pkt.dst_port = lport;
    }
  if (hint != NULL)
    pkt.hint = *hint;
  if (ret == NULL)
    ret = &res;
  ctx->send (ctx->sim, &pkt, ret);
  if (hint != NULL && ret->hint != 0)
    *hint = ret->hint;
  return ret->verdict;
}

static uint16_t
next_ephemeral (Endpoint *ep)
{
  uint16_t p = ep->next_eph;

  ep->next_eph = (uint16_t) (p >= EPHEMERAL_HI ? EPHEMERAL_LO : p + 1);
  return p;
}

static NatsimTime
draw_range (EndpointPopulation *e, NatsimTime lo, NatsimTime hi)
{
  if (hi <= lo)
    return lo;
  return lo + (NatsimTime) (gsl_rng_uniform (e->parent.ctx->rng) * (double) (hi - lo));
}

static void
schedule (EndpointPopulation *e, NatsimTime t, uint32_t kind, uint32_t data)
{
  const NatsimPopulationContext *ctx = e->parent.ctx;

  if (t < ctx->end)
    natsim_population_schedule (ctx, t, kind, data);
}

/* The flow state of a flow of endpoint @i; true if its mapping is dead
 * (it existed and expired), with the instant it died in @ret_died. */
static bool
flow_dead (EndpointPopulation *e, guint i, uint8_t proto, uint16_t lport,
           NatsimEndpoint remote, NatsimTime *ret_died)
{
  uint32_t none = 0, *hint = flow_hint (&e->eps[i], lport);
  NatsimFlowState st;

  if (!natsim_nat_flow_state_hint (e->parent.ctx->nat, proto, host_of (e, i), lport, remote.addr,
                                   remote.port, hint != NULL ? hint : &none, &st))
    return false;
  if (st.alive)
    return false;
  *ret_died = st.died;
  return true;
}

/* ---- reachability ---- */

static void
reach_lost (EndpointPopulation *e, guint i, NatsimTime since)
{
  Endpoint *ep = &e->eps[i];

  if (!ep->registered)
    return;
  ep->down_since = MIN (ep->down_since, since);
}

static void
reach_restored (EndpointPopulation *e, guint i, NatsimTime now)
{
  Endpoint *ep = &e->eps[i];
  const NatsimPopulationContext *ctx = e->parent.ctx;

  ep->registered = true;
  if (ep->down_since != NATSIM_TIME_INFINITY)
    {
      if (ctx->unreachable != NULL && now > ep->down_since)
        ctx->unreachable (ctx->sim, ctx->cls, ep->down_since, now);
      ep->down_since = NATSIM_TIME_INFINITY;
    }
}

static void
missed_call (EndpointPopulation *e, NatsimTime now)
{
  const NatsimPopulationContext *ctx = e->parent.ctx;

  if (ctx->missed_call != NULL)
    ctx->missed_call (ctx->sim, ctx->cls, now);
}

/* ---- connections ---- */

/* Opens a TCP connection (SYN, SYN/ACK, ACK) from a new source port;
 * false when the NAT had no port for it. */
static bool
tcp_open (EndpointPopulation *e, guint i, NatsimTime now, NatsimEndpoint remote,
          uint16_t lport, uint8_t dscp)
{
  if (xmit (e, i, now, NATSIM_PROTO_TCP, true, lport, remote, NATSIM_TCP_SYN, dscp, 60, NULL)
      != NATSIM_VERDICT_FORWARDED)
    return false;
  xmit (e, i, now, NATSIM_PROTO_TCP, false, lport, remote, NATSIM_TCP_SYN | NATSIM_TCP_ACK,
        dscp, 60, NULL);
  xmit (e, i, now, NATSIM_PROTO_TCP, true, lport, remote, NATSIM_TCP_ACK, dscp, 52, NULL);
  return true;
}

static void
tcp_close (EndpointPopulation *e, guint i, NatsimTime now, NatsimEndpoint remote,
           uint16_t lport, uint8_t dscp)
{
  xmit (e, i, now, NATSIM_PROTO_TCP, true, lport, remote, NATSIM_TCP_FIN | NATSIM_TCP_ACK,
        dscp, 52, NULL);
  xmit (e, i, now, NATSIM_PROTO_TCP, false, lport, remote, NATSIM_TCP_FIN | NATSIM_TCP_ACK,
        dscp, 52, NULL);
  xmit (e, i, now, NATSIM_PROTO_TCP, true, lport, remote, NATSIM_TCP_ACK, dscp, 52, NULL);
}

static uint16_t
next_sig_port (EndpointPopulation *e, Endpoint *ep)
{
  const EndpointSpec *s = &e->spec;
  guint span;

  if (s->sig_port_lo == 0)
    return next_ephemeral (ep);
  span = (guint) (s->sig_port_hi - s->sig_port_lo) + 1;
  return (uint16_t) (s->sig_port_lo + (ep->next_sig++ % span));
}

/* A REGISTER and its 200 OK on the current signalling flow. */
static void
sig_register_exchange (EndpointPopulation *e, guint i, NatsimTime now, bool reach)
{
  const EndpointSpec *s = &e->spec;
  Endpoint *ep = &e->eps[i];
  NatsimEndpoint remote = sig_remote (e, i);
  NatsimNatResult res;

  e->kind = NATSIM_FLOW_SIGNALLING;
  if (xmit (e, i, now, s->sig_proto, true, ep->sig_port, remote, NATSIM_TCP_ACK, s->sig_dscp,
            900, &res) != NATSIM_VERDICT_FORWARDED)
    {
      if (reach)
        reach_lost (e, i, now);
      return;
    }
  xmit (e, i, now, s->sig_proto, false, ep->sig_port, remote, NATSIM_TCP_ACK, s->sig_dscp, 500,
        NULL);
  if (reach)
    {
      ep->reg_addr = res.ext_addr;
      ep->reg_port = res.ext_port;
      ep->stale = false;
      reach_restored (e, i, now);
    }
}

/* Connects the signalling flow (TCP: a new connection) and registers. */
static bool
sig_connect (EndpointPopulation *e, guint i, NatsimTime now, bool reach)
{
  const EndpointSpec *s = &e->spec;
  Endpoint *ep = &e->eps[i];
  uint16_t port = s->sig_proto == NATSIM_PROTO_TCP || ep->sig_port == 0
                    ? next_sig_port (e, ep) : ep->sig_port;

  e->kind = NATSIM_FLOW_SIGNALLING;
  if (s->sig_proto == NATSIM_PROTO_TCP
      && !tcp_open (e, i, now, sig_remote (e, i), port, s->sig_dscp))
    {
      ep->sig_port = 0;
      if (reach)
        reach_lost (e, i, now);
      return false;
    }
  ep->sig_port = port;
  sig_register_exchange (e, i, now, reach);
  return true;
}

/* An outbound request on the signalling flow with its answer, repairing a
 * dead mapping as the endpoint would (see the file comment). */
static void
sig_request (EndpointPopulation *e, guint i, NatsimTime now, Request req)
{
  const EndpointSpec *s = &e->spec;
  Endpoint *ep = &e->eps[i];
  bool reach = !s->aux_reach;
  NatsimEndpoint remote = sig_remote (e, i);
  NatsimTime died = 0;
  bool dead;
  bool answered;
  NatsimNatResult res;
  /* Sizes tell the requests apart in captures and tests. */
  uint16_t length = req == REQ_KEEPALIVE ? (s->keepalive == KEEPALIVE_STUN ? 48 : 32)
                    : req == REQ_INVITE  ? 1100
                    : req == REQ_BYE     ? 600
                                         : 900;
  /* A keepalive is not signalling: its rebindings are told apart. */
  uint8_t kind = req == REQ_KEEPALIVE ? NATSIM_FLOW_KEEPALIVE : NATSIM_FLOW_SIGNALLING;

  e->kind = kind;
  if (ep->sig_port == 0)
    {
      sig_connect (e, i, now, reach);
      if (req == REQ_REGISTER || ep->sig_port == 0)
        return;
      e->kind = kind;
    }
  dead = flow_dead (e, i, s->sig_proto, ep->sig_port, remote, &died);
  if (s->sig_proto == NATSIM_PROTO_TCP)
    {
      if (dead)
        {
          /* Loose tracking: the segment makes a new mapping the server
           * does not know; it answers with a reset. */
          if (xmit (e, i, now, NATSIM_PROTO_TCP, true, ep->sig_port, remote, NATSIM_TCP_ACK,
                    s->sig_dscp, length, NULL) == NATSIM_VERDICT_FORWARDED)
            xmit (e, i, now, NATSIM_PROTO_TCP, false, ep->sig_port, remote, NATSIM_TCP_RST,
                  s->sig_dscp, 40, NULL);
          if (reach)
            reach_lost (e, i, died);
          if (!sig_connect (e, i, now, reach) || req == REQ_REGISTER || req == REQ_KEEPALIVE)
            return;
          /* The request itself goes over the new connection. */
          e->kind = kind;
        }
      else if (req == REQ_REGISTER)
        {
          sig_register_exchange (e, i, now, reach);
          return;
        }
      if (xmit (e, i, now, NATSIM_PROTO_TCP, true, ep->sig_port, remote, NATSIM_TCP_ACK,
                s->sig_dscp, length, NULL) == NATSIM_VERDICT_FORWARDED)
        xmit (e, i, now, NATSIM_PROTO_TCP, false, ep->sig_port, remote, NATSIM_TCP_ACK,
              s->sig_dscp, req == REQ_KEEPALIVE ? 32 : 500, NULL);
      return;
    }

  /* UDP. */
  if (xmit (e, i, now, NATSIM_PROTO_UDP, true, ep->sig_port, remote, 0, s->sig_dscp, length,
            &res) != NATSIM_VERDICT_FORWARDED)
    {
      if (reach)
        reach_lost (e, i, dead ? died : now);
      return;
    }
  if (dead && reach)
    reach_lost (e, i, died);
  answered = req != REQ_KEEPALIVE || s->keepalive == KEEPALIVE_STUN;
  if (answered)
    xmit (e, i, now, NATSIM_PROTO_UDP, false, ep->sig_port, remote, 0, s->sig_dscp,
          req == REQ_KEEPALIVE ? 60 : 500, NULL);
  if (!reach)
    return;
  if (req == REQ_REGISTER)
    {
      ep->reg_addr = res.ext_addr;
      ep->reg_port = res.ext_port;
      ep->stale = false;
      reach_restored (e, i, now);
    }
  else if (res.ext_addr == ep->reg_addr && res.ext_port == ep->reg_port)
    reach_restored (e, i, now);
  else if (req == REQ_KEEPALIVE && s->keepalive == KEEPALIVE_STUN)
    /* RFC 5626 section 4.4.2: a new reflexive address is a flow failure;
     * the UA registers again at once. */
    sig_register_exchange (e, i, now, reach);
  else
    {
      ep->stale = true;
      reach_lost (e, i, now);
    }
}

/* A keepalive (or a reconnect) of the websocket / push connection. */
static void
aux_keepalive (EndpointPopulation *e, guint i, NatsimTime now)
{
  const EndpointSpec *s = &e->spec;
  Endpoint *ep = &e->eps[i];
  NatsimTime died = 0;

  e->kind = NATSIM_FLOW_KEEPALIVE;
  if (ep->aux_port != 0 && flow_dead (e, i, NATSIM_PROTO_TCP, ep->aux_port, s->aux_dst, &died))
    {
      if (xmit (e, i, now, NATSIM_PROTO_TCP, true, ep->aux_port, s->aux_dst, NATSIM_TCP_ACK,
                DSCP_CS0, 80, NULL) == NATSIM_VERDICT_FORWARDED)
        xmit (e, i, now, NATSIM_PROTO_TCP, false, ep->aux_port, s->aux_dst, NATSIM_TCP_RST,
              DSCP_CS0, 40, NULL);
      if (s->aux_reach)
        reach_lost (e, i, died);
      ep->aux_port = 0;
    }
  if (ep->aux_port == 0)
    {
      uint16_t port = next_ephemeral (ep);
      if (!tcp_open (e, i, now, s->aux_dst, port, DSCP_CS0))
        {
          if (s->aux_reach)
            reach_lost (e, i, now);
          return;
        }
      ep->aux_port = port;
    }
  xmit (e, i, now, NATSIM_PROTO_TCP, true, ep->aux_port, s->aux_dst, NATSIM_TCP_ACK, DSCP_CS0,
        80, NULL);
  xmit (e, i, now, NATSIM_PROTO_TCP, false, ep->aux_port, s->aux_dst, NATSIM_TCP_ACK, DSCP_CS0,
        80, NULL);
  if (s->aux_reach)
    reach_restored (e, i, now);
}

/* A request from the cloud over the endpoint's reach flow (an OPTIONS, a
 * NOTIFY, an INVITE, a push message); true when the endpoint got it (and
 * answered). */
static bool
deliver_request (EndpointPopulation *e, guint i, NatsimTime now, uint16_t length)
{
  const EndpointSpec *s = &e->spec;
  Endpoint *ep = &e->eps[i];
  uint8_t proto = s->aux_reach ? NATSIM_PROTO_TCP : s->sig_proto;
  uint16_t lport = s->aux_reach ? ep->aux_port : ep->sig_port;
  NatsimEndpoint remote = s->aux_reach ? s->aux_dst : sig_remote (e, i);
  uint8_t dscp = s->aux_reach ? DSCP_CS0 : s->sig_dscp;
  NatsimTime died = 0;

  if (!ep->registered || lport == 0)
    return false;
  e->kind = NATSIM_FLOW_SIGNALLING;
  if (ep->stale)
    return false; /* sent to an address that is no mapping of this flow any more */
  if (xmit (e, i, now, proto, false, lport, remote, NATSIM_TCP_ACK, dscp, length, NULL)
      != NATSIM_VERDICT_FORWARDED)
    {
      reach_lost (e, i, flow_dead (e, i, proto, lport, remote, &died) ? died : now);
      return false;
    }
  xmit (e, i, now, proto, true, lport, remote, NATSIM_TCP_ACK, dscp, 400, NULL);
  return true;
}

/* A certificate trunk's incoming call: the cloud's SIP edge opens (or
 * reuses) its own TCP connection from 8934 to the gateway's public address
 * and listen port, so only a static port forward lets it in; true when the
 * gateway got the INVITE (and answered). */
static bool
deliver_listen (EndpointPopulation *e, guint i, NatsimTime now)
{
  const EndpointSpec *s = &e->spec;
  NatsimEndpoint edge = { s->sig_server.addr, 8934 };
  uint16_t lp = s->listen_port;

  if (xmit (e, i, now, NATSIM_PROTO_TCP, false, lp, edge, NATSIM_TCP_SYN, s->sig_dscp, 60, NULL)
      != NATSIM_VERDICT_FORWARDED)
    return false;
  xmit (e, i, now, NATSIM_PROTO_TCP, true, lp, edge, NATSIM_TCP_SYN | NATSIM_TCP_ACK,
        s->sig_dscp, 60, NULL);
  xmit (e, i, now, NATSIM_PROTO_TCP, false, lp, edge, NATSIM_TCP_ACK, s->sig_dscp, 1200, NULL);
  xmit (e, i, now, NATSIM_PROTO_TCP, true, lp, edge, NATSIM_TCP_ACK, s->sig_dscp, 400, NULL);
  return true;
}

/* ---- background exchanges ---- */

static void
background (EndpointPopulation *e, guint i, guint j, NatsimTime now)
{
  const EndpointBackground *b = &e->spec.background[j];
  Endpoint *ep = &e->eps[i];
  uint16_t port = b->src_port != 0 ? b->src_port : next_ephemeral (ep);

  e->kind = NATSIM_FLOW_HOUSEKEEPING;
  if (b->proto == NATSIM_PROTO_UDP)
    {
      if (xmit (e, i, now, NATSIM_PROTO_UDP, true, port, b->dst, 0, b->dscp, 76, NULL)
          == NATSIM_VERDICT_FORWARDED)
        xmit (e, i, now, NATSIM_PROTO_UDP, false, port, b->dst, 0, b->dscp, 76, NULL);
      return;
    }
  if (!tcp_open (e, i, now, b->dst, port, b->dscp))
    return;
  xmit (e, i, now, NATSIM_PROTO_TCP, true, port, b->dst, NATSIM_TCP_ACK, b->dscp, 600, NULL);
  xmit (e, i, now, NATSIM_PROTO_TCP, false, port, b->dst, NATSIM_TCP_ACK, b->dscp, 1400, NULL);
  tcp_close (e, i, now, b->dst, port, b->dscp);
}

/* ---- calls ---- */

/* Endpoint @i's audio (or video) pair bitmap, lent from the pool if it
 * has none. */
static uint8_t *
pair_map (EndpointPopulation *e, guint i, bool video)
{
  Endpoint *ep = &e->eps[i];

  if (ep->pairs == 0)
    {
      uint32_t k;

      if (e->pool_free->len > 0)
        {
          k = g_array_index (e->pool_free, uint32_t, e->pool_free->len - 1);
          g_array_set_size (e->pool_free, e->pool_free->len - 1);
        }
      else
        {
          if (e->pool_len == e->pool_cap)
            {
              guint cap = MAX (e->pool_cap * 2, 16u);

              e->pair_pool = g_realloc_n (e->pair_pool, cap, e->pair_bytes);
              memset (e->pair_pool + (gsize) e->pool_cap * e->pair_bytes, 0,
                      (gsize) (cap - e->pool_cap) * e->pair_bytes);
              e->pool_cap = cap;
            }
          k = e->pool_len++;
        }
      ep->pairs = k + 1;
    }
  return e->pair_pool + (gsize) (ep->pairs - 1) * e->pair_bytes + (video ? e->audio_bytes : 0);
}

/* Endpoint @i has no call left: its bitmap goes back to the pool when it
 * is all zero, as a fresh one is (a pair at port 0 is never freed, so its
 * bit would stay: such a bitmap stays with its endpoint). */
static void
pair_map_release (EndpointPopulation *e, guint i)
{
  Endpoint *ep = &e->eps[i];
  const uint8_t *map;
  uint32_t k;

  if (ep->pairs == 0)
    return;
  k = ep->pairs - 1;
  map = e->pair_pool + (gsize) k * e->pair_bytes;
  for (guint b = 0; b < e->pair_bytes; b++)
    if (map[b] != 0)
      return;
  g_array_append_val (e->pool_free, k);
  ep->pairs = 0;
}

static uint16_t
pair_alloc (EndpointPopulation *e, guint i, bool video)
{
  const EndpointSpec *s = &e->spec;
  guint n = video ? e->video_pairs : e->audio_pairs;
  uint8_t *map = pair_map (e, i, video);
  uint16_t *cur = video ? &e->eps[i].video_cur : &e->eps[i].audio_cur;
  uint16_t lo = video ? s->video_lo : s->audio_lo;

  for (guint k = 0; k < n; k++)
    {
      guint p = (*cur + k) % n;
      gsize bit = p;
      if (!(map[bit / 8] & (1u << (bit % 8))))
        {
          map[bit / 8] |= (uint8_t) (1u << (bit % 8));
          *cur = (uint16_t) ((p + 1) % n);
          /* The first even port at or above lo. */
          return (uint16_t) (((lo + 1u) & ~1u) + 2u * p);
        }
    }
  return 0;
}

static void
pair_free (EndpointPopulation *e, guint i, bool video, uint16_t port)
{
  const EndpointSpec *s = &e->spec;
  uint8_t *map = pair_map (e, i, video);
  uint16_t lo = video ? s->video_lo : s->audio_lo;
  gsize bit = (port - ((lo + 1u) & ~1u)) / 2;

  map[bit / 8] &= (uint8_t) ~(1u << (bit % 8));
}

static NatsimEndpoint
media_remote (EndpointPopulation *e)
{
  const EndpointSpec *s = &e->spec;
  gsl_rng *rng = e->parent.ctx->rng;
  NatsimEndpoint r;
  guint evens = (guint) (s->media_port_hi - s->media_port_lo + 1) / 2;

  /* Host parts 1 .. mask-1: no network or broadcast address. */
  r.addr = s->media_net | (uint32_t) (1 + gsl_rng_uniform_int (rng, MAX (s->media_mask, 2) - 1));
  r.port = (uint16_t) (((s->media_port_lo + 1u) & ~1u) + 2u * gsl_rng_uniform_int (rng, MAX (evens, 1)));
  return r;
}

static uint32_t
call_alloc (EndpointPopulation *e)
{
  uint32_t id;

  if (e->free_calls->len > 0)
    {
      id = g_array_index (e->free_calls, uint32_t, e->free_calls->len - 1);
      g_array_set_size (e->free_calls, e->free_calls->len - 1);
    }
  else
    {
      id = e->calls->len;
      g_array_set_size (e->calls, id + 1);
    }
  memset (&g_array_index (e->calls, Call, id), 0, sizeof (Call));
  return id;
}

static void
stun_check (EndpointPopulation *e, guint i, NatsimTime now, uint16_t port)
{
  const EndpointSpec *s = &e->spec;

  if (s->stun.port == 0 || port == 0)
    return;
  e->kind = NATSIM_FLOW_MEDIA;
  if (xmit (e, i, now, NATSIM_PROTO_UDP, true, port, s->stun, 0, s->dscp_audio, 48, NULL)
      == NATSIM_VERDICT_FORWARDED)
    xmit (e, i, now, NATSIM_PROTO_UDP, false, port, s->stun, 0, s->dscp_audio, 60, NULL);
}

/* A mobile app connects its signalling for a call (after a push or to
 * place one). */
static bool
on_demand_connect (EndpointPopulation *e, guint i, NatsimTime now)
{
  return e->eps[i].sig_port != 0 || sig_connect (e, i, now, false);
}

static void
start_call (EndpointPopulation *e, guint i, NatsimTime now)
{
  const EndpointSpec *s = &e->spec;
  gsl_rng *rng = e->parent.ctx->rng;
  Endpoint *ep = &e->eps[i];
  bool inbound = gsl_rng_uniform (rng) < s->inbound_fraction;
  bool video = gsl_rng_uniform (rng) < s->video_fraction;
  bool direct = gsl_rng_uniform (rng) < s->ice_direct;
  NatsimTime duration = natsim_dist_sample (&s->duration, rng);
  uint32_t id;
  Call *c;

  if (!ep->booted || (s->max_calls > 0 && ep->calls >= s->max_calls))
    return; /* busy: the call goes elsewhere (not a NAT matter) */
  e->kind = NATSIM_FLOW_SIGNALLING;
  if (inbound)
    {
      if (s->listen_port != 0 ? !deliver_listen (e, i, now)
                              : !deliver_request (e, i, now, 1200))
        {
          if (ep->registered)
            missed_call (e, now);
          return;
        }
      if (s->sig_on_demand)
        {
          /* Woken by the push: connect, register, then take the INVITE. */
          if (!on_demand_connect (e, i, now))
            {
              missed_call (e, now);
              return;
            }
          xmit (e, i, now, NATSIM_PROTO_TCP, false, ep->sig_port, sig_remote (e, i),
                NATSIM_TCP_ACK, s->sig_dscp, 1200, NULL);
          xmit (e, i, now, NATSIM_PROTO_TCP, true, ep->sig_port, sig_remote (e, i),
                NATSIM_TCP_ACK, s->sig_dscp, 900, NULL);
        }
    }
  else
    {
      if (s->sig_on_demand && !on_demand_connect (e, i, now))
        return;
      sig_request (e, i, now, REQ_INVITE);
    }

  id = call_alloc (e);
  c = &g_array_index (e->calls, Call, id);
  c->ep = i;
  c->ff_at = MEDIA_FF_FIRST;
  c->direct = direct;
  c->on_demand_sig = s->sig_on_demand;
  c->end = natsim_time_add (now, MAX (duration, NATSIM_MSEC (1)));
  c->audio = pair_alloc (e, i, false);
  c->video = video ? pair_alloc (e, i, true) : 0;
  c->ra = media_remote (e);
  c->rv = c->ra;
  c->rv.port = (uint16_t) (c->ra.port <= 65532 ? c->ra.port + 2 : c->ra.port - 2);
  ep->calls++;
  /* ICE gathers its server-reflexive candidates with STUN whether or not
   * the media ends up direct. */
  stun_check (e, i, now, c->audio);
  stun_check (e, i, now, c->video);
  if (!direct && c->audio != 0)
    schedule (e, now, EV_MEDIA, id);
  natsim_population_schedule (e->parent.ctx, c->end, EV_CALL_END, id);
}

static void
media_stream (EndpointPopulation *e, guint i, NatsimTime now, uint16_t port, NatsimEndpoint r,
              uint8_t dscp, bool rtcp)
{
  e->kind = NATSIM_FLOW_MEDIA;
  xmit (e, i, now, NATSIM_PROTO_UDP, true, port, r, 0, dscp, 200, NULL);
  xmit (e, i, now, NATSIM_PROTO_UDP, false, port, r, 0, dscp, 200, NULL);
  if (rtcp)
    {
      NatsimEndpoint rc = r;
      rc.port++;
      xmit (e, i, now, NATSIM_PROTO_UDP, true, (uint16_t) (port + 1), rc, 0, dscp, 100, NULL);
      xmit (e, i, now, NATSIM_PROTO_UDP, false, (uint16_t) (port + 1), rc, 0, dscp, 100, NULL);
    }
}

/* The train of a stream's future ticks among ticks 1..@k after @now
 * (tick j at now + j * gap): those whose index (@first_index + j - 1) is a
 * multiple of @every. */
static guint
media_train (NatsimNatTrain *tr, uint32_t in_addr, uint16_t port, NatsimEndpoint r,
             NatsimTime now, NatsimTime gap, uint64_t k, uint64_t first_index, uint64_t every)
{
  uint64_t j1 = 1 + (every - first_index % every) % every;

  if (j1 > k)
    return 0;
  tr->in_addr = in_addr;
  tr->in_port = port;
  tr->rem_addr = r.addr;
  tr->rem_port = r.port;
  tr->next = now + j1 * gap;
  tr->gap = every * gap;
  tr->last = now + (j1 + (k - j1) / every * every) * gap;
  return 1;
}

/* After its first ticks a call's media streams are steady (each has seen
 * its answer and is past Linux's 2 s stream rule), and every later tick
 * only moves their expiries: the rest of the call goes to the driver as
 * trains (natsim_nat_fast_forward()) instead of one event per tick, with
 * the same result.  Refused (narration, a NAT state that does not allow
 * it), it is tried again after twice as many ticks. */
static bool
media_fast_forward (EndpointPopulation *e, uint32_t id, NatsimTime now)
{
  const NatsimPopulationContext *ctx = e->parent.ctx;
  Call *c = &g_array_index (e->calls, Call, id);
  NatsimTime d = e->spec.media_interval;
  NatsimTime limit = MIN (c->end, ctx->end);
  uint32_t host = host_of (e, c->ep);
  NatsimEndpoint rc = c->ra, rvc = c->rv;
  NatsimNatTrain tr[4];
  guint n = 0;
  uint64_t k;

  if (ctx->fast_forward == NULL || limit <= now + d)
    return false;
  /* Tick j (at now + j * d) is scheduled while before the call's end and
   * handled while before the run's. */
  k = (limit - now - 1) / d;
  rc.port++;
  rvc.port++;
  n += media_train (&tr[n], host, c->audio, c->ra, now, d, k, c->ticks, 1);
  n += media_train (&tr[n], host, (uint16_t) (c->audio + 1), rc, now, d, k, c->ticks,
                    e->rtcp_every);
  if (c->video != 0)
    {
      n += media_train (&tr[n], host, c->video, c->rv, now, d, k, c->ticks, 1);
      n += media_train (&tr[n], host, (uint16_t) (c->video + 1), rvc, now, d, k, c->ticks,
                        e->rtcp_every);
    }
  if (ctx->fast_forward (ctx->sim, ctx->cls, tr, n))
    return true;
  c->ff_at = c->ticks * 2;
  return false;
}

static void
media_tick (EndpointPopulation *e, uint32_t id, NatsimTime now)
{
  Call c = g_array_index (e->calls, Call, id);
  bool rtcp = c.ticks % e->rtcp_every == 0;

  media_stream (e, c.ep, now, c.audio, c.ra, e->spec.dscp_audio, rtcp);
  if (c.video != 0)
    media_stream (e, c.ep, now, c.video, c.rv, e->spec.dscp_video, rtcp);
  g_array_index (e->calls, Call, id).ticks++;
  if (now + e->spec.media_interval < c.end)
    {
      if (c.ticks + 1 >= c.ff_at && media_fast_forward (e, id, now))
        return;
      schedule (e, now + e->spec.media_interval, EV_MEDIA, id);
    }
}

static void
end_call (EndpointPopulation *e, uint32_t id, NatsimTime now)
{
  Call c = g_array_index (e->calls, Call, id);
  Endpoint *ep = &e->eps[c.ep];

  if (c.audio != 0)
    pair_free (e, c.ep, false, c.audio);
  if (c.video != 0)
    pair_free (e, c.ep, true, c.video);
  ep->calls--;
  if (ep->calls == 0)
    pair_map_release (e, c.ep);
  e->kind = NATSIM_FLOW_SIGNALLING;
  if (ep->sig_port != 0)
    sig_request (e, c.ep, now, REQ_BYE);
  if (c.on_demand_sig && ep->calls == 0 && ep->sig_port != 0)
    {
      tcp_close (e, c.ep, now, sig_remote (e, c.ep), ep->sig_port, e->spec.sig_dscp);
      ep->sig_port = 0;
    }
  g_array_append_val (e->free_calls, id);
}

static double
curve_factor (const EndpointPopulation *e, NatsimTime now)
{
  double h;

  if (e->spec.curve == NULL)
    return 1.0;
  h = fmod (e->spec.start_hour + natsim_time_to_sec (now) / 3600.0, 24.0);
  return e->spec.curve[(guint) h % 24];
}

static void
schedule_arrival (EndpointPopulation *e, NatsimTime now)
{
  double dt;

  if (e->max_rate <= 0.0)
    return;
  dt = gsl_ran_exponential (e->parent.ctx->rng, 1.0 / e->max_rate);
  schedule (e, natsim_time_add (now, natsim_time_from_sec (dt)), EV_CALL_ARRIVAL, 0);
}

/* ---- the population ---- */

static void
endpoint_start (NatsimPopulation *pop)
{
  EndpointPopulation *e = (EndpointPopulation *) pop;

  for (guint i = 0; i < e->spec.count; i++)
    schedule (e, draw_range (e, 0, e->spec.start_spread), EV_BOOT, i);
  schedule_arrival (e, 0);
}

static void
boot (EndpointPopulation *e, guint i, NatsimTime now)
{
  const EndpointSpec *s = &e->spec;
  Endpoint *ep = &e->eps[i];

  ep->booted = true;
  if (s->aux_dst.port != 0)
    {
      aux_keepalive (e, i, now);
      schedule (e, now + draw_range (e, s->aux_lo, s->aux_hi), EV_AUX_KEEPALIVE, i);
    }
  if (!s->sig_on_demand)
    {
      sig_connect (e, i, now, !s->aux_reach);
      schedule (e, now + draw_range (e, s->reg_lo, s->reg_hi), EV_REGISTER, i);
      if (s->ka_hi > 0 && s->keepalive != KEEPALIVE_NONE)
        schedule (e, now + draw_range (e, s->ka_lo, s->ka_hi), EV_KEEPALIVE, i);
      if (s->options_hi > 0)
        schedule (e, now + draw_range (e, s->options_lo, s->options_hi), EV_OPTIONS, i);
    }
  if (s->notify_per_hour > 0)
    schedule (e, now + natsim_time_from_sec (gsl_ran_exponential (e->parent.ctx->rng,
                                                                  3600.0 / s->notify_per_hour)),
              EV_NOTIFY, i);
  /* Background exchanges start at a random phase of their period. */
  for (guint j = 0; j < s->n_background; j++)
    schedule (e, now + draw_range (e, 0, s->background[j].hi), EV_BACKGROUND + j, i);
}

static void
endpoint_handle (NatsimPopulation *pop, const NatsimEvent *ev)
{
  EndpointPopulation *e = (EndpointPopulation *) pop;
  const EndpointSpec *s = &e->spec;
  guint i = (guint) ev->data;
  NatsimTime now = ev->time;

  switch (ev->kind)
    {
    case EV_BOOT:
      boot (e, i, now);
      break;
    case EV_REGISTER:
      sig_request (e, i, now, REQ_REGISTER);
      schedule (e, now + draw_range (e, s->reg_lo, s->reg_hi), EV_REGISTER, i);
      break;
    case EV_KEEPALIVE:
      if (e->eps[i].sig_port != 0)
        sig_request (e, i, now, REQ_KEEPALIVE);
      schedule (e, now + draw_range (e, s->ka_lo, s->ka_hi), EV_KEEPALIVE, i);
      break;
    case EV_AUX_KEEPALIVE:
      aux_keepalive (e, i, now);
      schedule (e, now + draw_range (e, s->aux_lo, s->aux_hi), EV_AUX_KEEPALIVE, i);
      break;
    case EV_OPTIONS:
      deliver_request (e, i, now, 500);
      schedule (e, now + draw_range (e, s->options_lo, s->options_hi), EV_OPTIONS, i);
      break;
    case EV_NOTIFY:
      deliver_request (e, i, now, 700);
      schedule (e, now + natsim_time_from_sec (gsl_ran_exponential (e->parent.ctx->rng,
                                                                    3600.0 / s->notify_per_hour)),
                EV_NOTIFY, i);
      break;
    case EV_CALL_ARRIVAL:
      /* Thinning (Lewis and Shedler): arrivals at the busiest rate, each
       * kept with the probability of the current hour's factor. */
      if (gsl_rng_uniform (e->parent.ctx->rng) < curve_factor (e, now))
        start_call (e, s->count > 1 ? (guint) gsl_rng_uniform_int (e->parent.ctx->rng, s->count)
                                    : 0, now);
      schedule_arrival (e, now);
      break;
    case EV_MEDIA:
      media_tick (e, (uint32_t) ev->data, now);
      break;
    case EV_CALL_END:
      end_call (e, (uint32_t) ev->data, now);
      break;
    default:
      g_assert (ev->kind >= EV_BACKGROUND && ev->kind < EV_BACKGROUND + s->n_background);
      background (e, i, ev->kind - EV_BACKGROUND, now);
      schedule (e, now + draw_range (e, s->background[ev->kind - EV_BACKGROUND].lo,
                                     s->background[ev->kind - EV_BACKGROUND].hi),
                ev->kind, i);
      break;
    }
}

static void
endpoint_finish (NatsimPopulation *pop, NatsimTime end)
{
  EndpointPopulation *e = (EndpointPopulation *) pop;
  const EndpointSpec *s = &e->spec;
  const NatsimPopulationContext *ctx = pop->ctx;

  if (ctx->unreachable == NULL)
    return;
  for (guint i = 0; i < s->count; i++)
    {
      Endpoint *ep = &e->eps[i];
      uint16_t lport = s->aux_reach ? ep->aux_port : ep->sig_port;
      NatsimEndpoint remote = s->aux_reach ? s->aux_dst : sig_remote (e, i);
      uint8_t proto = s->aux_reach ? NATSIM_PROTO_TCP : s->sig_proto;
      NatsimFlowState st;

      if (!ep->registered)
        continue;
      if (ep->down_since == NATSIM_TIME_INFINITY && lport != 0
          && natsim_nat_flow_state (ctx->nat, proto, host_of (e, i), lport, remote.addr,
                                    remote.port, &st))
        {
          /* The NAT's clock is at the last event: a mapping alive then may
           * still die before the end. */
          if (!st.alive)
            ep->down_since = st.died;
          else if (st.expiry < end)
            ep->down_since = st.expiry;
        }
      if (ep->down_since != NATSIM_TIME_INFINITY && end > ep->down_since)
        ctx->unreachable (ctx->sim, ctx->cls, ep->down_since, end);
    }
}

static void
endpoint_free (NatsimPopulation *pop)
{
  EndpointPopulation *e = (EndpointPopulation *) pop;

  g_free (e->eps);
  g_free (e->pair_pool);
  g_array_unref (e->pool_free);
  g_array_unref (e->calls);
  g_array_unref (e->free_calls);
  g_free (e);
}

static gsize
endpoint_memory_bytes (const NatsimPopulation *pop)
{
  const EndpointPopulation *e = (const EndpointPopulation *) pop;
  const EndpointSpec *s = &e->spec;

  return sizeof *e + sizeof (Endpoint) * s->count + (gsize) e->pool_cap * e->pair_bytes
         + sizeof (uint32_t) * e->pool_free->len
         + sizeof (Call) * e->calls->len + sizeof (uint32_t) * e->free_calls->len;
}

static const NatsimPopulationClass endpoint_class = {
  endpoint_start, endpoint_handle, endpoint_finish, endpoint_free, endpoint_memory_bytes,
};

NatsimPopulation *
endpoint_population_new (const EndpointSpec *spec, const NatsimPopulationContext *ctx)
{
  EndpointPopulation *e = g_new0 (EndpointPopulation, 1);
  EndpointSpec *s = &e->spec;

  e->parent.klass = &endpoint_class;
  e->parent.ctx = ctx;
  *s = *spec;
  if (s->video_lo == 0)
    {
      s->video_lo = s->audio_lo;
      s->video_hi = s->audio_hi;
    }
  e->eps = g_new0 (Endpoint, s->count);
  for (guint i = 0; i < s->count; i++)
    {
      e->eps[i].down_since = NATSIM_TIME_INFINITY;
      /* Spread the ephemeral ports so hosts do not all start alike. */
      e->eps[i].next_eph = (uint16_t) (EPHEMERAL_LO + (i * 97u) % (EPHEMERAL_HI - EPHEMERAL_LO));
    }
  e->audio_pairs = MAX ((guint) (s->audio_hi - ((s->audio_lo + 1u) & ~1u) + 1) / 2, 1);
  e->video_pairs = MAX ((guint) (s->video_hi - ((s->video_lo + 1u) & ~1u) + 1) / 2, 1);
  e->audio_bytes = (e->audio_pairs + 7) / 8;
  e->pair_bytes = e->audio_bytes + (e->video_pairs + 7) / 8;
  e->pool_free = g_array_new (FALSE, FALSE, sizeof (uint32_t));
  e->calls = g_array_new (FALSE, FALSE, sizeof (Call));
  e->free_calls = g_array_new (FALSE, FALSE, sizeof (uint32_t));
  e->max_rate = (double) s->count * s->calls_per_hour / 3600.0;
  e->rtcp_every = (guint) MAX (1, (s->rtcp_interval + s->media_interval / 2) / s->media_interval);
  return &e->parent;
}
