/* natsim: the "generic" profile: textbook flows for classroom experiments
 * and closed-form cross-checks (Erlang B, keepalive arithmetic).
 *
 * Flows arrive as a Poisson process (flows_per_second) or as an exact
 * count spaced flow_spacing apart.  Each flow picks one of the population's
 * hosts at random and a destination (round-robin or random over the list),
 * sends packets_per_flow packets packet_interval apart, optionally gets
 * replies from the remote (so the UDP stream rule applies), and afterwards
 * the remote may send unsolicited inbound packets at the given delays after
 * the flow's last outbound packet, to probe whether the binding survived.
 *
 * Flow state lives in a pool indexed by flow id (event data), recycled when
 * a flow has no events left, so memory follows live flows, not the run.
 */
#include <gsl/gsl_randist.h>

#include "model-private.h"
#include "natsim/error.h"

enum { PROTO_UDP, PROTO_TCP, PROTO_ICMP };
enum { CHOICE_ROUND_ROBIN, CHOICE_RANDOM };
enum { PORTS_DISTINCT, PORTS_FIXED };
enum { REPLY_NONE, REPLY_FIRST, REPLY_EVERY };
enum { PROBE_SAME, PROBE_OTHER_PORT, PROBE_OTHER_ADDRESS };
enum { CLOSE_FIN, CLOSE_RST, CLOSE_NONE };

static const char *const protocol_choices[] = { "udp", "tcp", "icmp", NULL };
static const char *const choice_choices[] = { "round-robin", "random", NULL };
static const char *const ports_choices[] = { "distinct", "fixed", NULL };
static const char *const reply_choices[] = { "none", "first", "every", NULL };
static const char *const probe_choices[] = { "same", "other-port", "other-address", NULL };
static const char *const close_choices[] = { "fin", "rst", "none", NULL };

static const NatsimKeySpec generic_keys[] = {
  { "count", NATSIM_KEY_UINT, "1", "inside hosts the flows come from", 1, 1000000, NULL },
  { "flows", NATSIM_KEY_UINT, "0",
    "an exact number of flows, flow_spacing apart from start (0: Poisson arrivals)",
    0, 100000000, NULL },
  { "flows_per_second", NATSIM_KEY_DOUBLE, "1", "Poisson arrival rate of flows", 0, 1e6, NULL },
  { "flow_spacing", NATSIM_KEY_DURATION, "10ms", "gap between flows when flows > 0", 0, 86400, NULL },
  { "start", NATSIM_KEY_DURATION, "0s", "time of the first flow when flows > 0", 0, 30 * 86400.0, NULL },
  { "packets_per_flow", NATSIM_KEY_UINT, "1", "outbound packets per flow", 1, 1000000, NULL },
  { "packet_interval", NATSIM_KEY_DURATION, "1s", "gap between a flow's packets", 0, 86400, NULL },
  { "protocol", NATSIM_KEY_ENUM, "udp", "transport of the flows", 0, 0, protocol_choices },
  { "destinations", NATSIM_KEY_ENDPOINTS, "198.51.100.10:5000",
    "remote endpoints, ip:port list", 1, 65536, NULL },
  { "destination_count", NATSIM_KEY_UINT, "0",
    "N random destinations in 198.51.100.0/24 instead of the list (0: use the list)",
    0, 65536, NULL },
  { "destination_choice", NATSIM_KEY_ENUM, "round-robin",
    "how a flow picks its destination", 0, 0, choice_choices },
  { "source_ports", NATSIM_KEY_ENUM, "distinct",
    "distinct: each flow a new ephemeral port (32768-60999); fixed: source_port",
    0, 0, ports_choices },
  { "source_port", NATSIM_KEY_UINT, "40000", "source port when source_ports = fixed", 1, 65535, NULL },
  { "reply", NATSIM_KEY_ENUM, "none",
    "the remote answers the first or every outbound packet", 0, 0, reply_choices },
  { "reply_delay", NATSIM_KEY_DURATION, "20ms", "delay of a reply", 0, 3600, NULL },
  { "inbound_probes", NATSIM_KEY_DURATION_LIST, "",
    "unsolicited inbound packets at these delays after the flow's last outbound packet",
    0, 64, NULL },
  { "probe_from", NATSIM_KEY_ENUM, "same",
    "probes come from the flow's remote, another port or another address of it",
    0, 0, probe_choices },
  { "tcp_close", NATSIM_KEY_ENUM, "fin", "how a TCP flow ends after its last packet", 0, 0, close_choices },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

typedef enum
{
  EV_ARRIVAL,
  EV_SEND,
  EV_REPLY,
  EV_PROBE,
  EV_CLOSE,
} GenericEvent;

typedef struct
{
  uint32_t   host;     /* inside address */
  uint16_t   src_port;
  NatsimEndpoint dst;
  uint32_t   sent;     /* outbound packets so far */
  uint32_t   delivered; /* ... of which the NAT forwarded */
  uint32_t   next_probe;
  uint32_t   pending;  /* events in the queue for this flow */
  uint32_t   hint;     /* where the NAT found its binding (NatsimPacket.hint) */
  NatsimTime last_out;
} Flow;

typedef struct
{
  NatsimPopulation parent;
  /* configuration */
  guint       n_hosts;
  uint64_t    n_flows;
  double      rate;
  NatsimTime  spacing, start, interval, reply_delay;
  uint32_t    packets_per_flow;
  guint       protocol, choice, ports, reply, probe_from, tcp_close;
  uint16_t    fixed_port;
  GArray     *destinations; /* NatsimEndpoint */
  GArray     *probes;       /* NatsimTime */
  /* state */
  uint64_t    arrivals;
  guint       rr;
  uint16_t   *next_port;    /* per host, distinct source ports */
  GArray     *flows;        /* Flow pool */
  GArray     *free_flows;   /* uint32_t */
} GenericPopulation;

static guint
generic_n_hosts (const NatsimParams *params)
{
  return (guint) natsim_params_get_uint (params, "count");
}

static gboolean
generic_validate (const NatsimParams *params, GError **error)
{
  guint protocol = natsim_params_get_enum (params, "protocol");
  uint64_t flows = natsim_params_get_uint (params, "flows");

  if (flows == 0 && natsim_params_get_double (params, "flows_per_second") <= 0.0)
    {
      natsim_set_key_error (error, "flows_per_second",
                            "must be above 0 when flows = 0 (Poisson arrivals)");
      return FALSE;
    }
  if (protocol == PROTO_ICMP && natsim_params_get_enum (params, "probe_from") != PROBE_SAME)
    {
      natsim_set_key_error (error, "probe_from",
                            "ICMP echo probes can only come from the same remote");
      return FALSE;
    }
  return TRUE;
}

static uint32_t
flow_alloc (GenericPopulation *g)
{
  uint32_t id;

  if (g->free_flows->len > 0)
    {
      id = g_array_index (g->free_flows, uint32_t, g->free_flows->len - 1);
      g_array_set_size (g->free_flows, g->free_flows->len - 1);
    }
  else
    {
      id = g->flows->len;
      g_array_set_size (g->flows, id + 1);
    }
  memset (&g_array_index (g->flows, Flow, id), 0, sizeof (Flow));
  return id;
}

static void
flow_schedule (GenericPopulation *g, uint32_t id, NatsimTime t, GenericEvent kind)
{
  Flow *f = &g_array_index (g->flows, Flow, id);

  f->pending++;
  natsim_population_schedule (g->parent.ctx, t, kind, id);
}

static void
flow_event_done (GenericPopulation *g, uint32_t id)
{
  Flow *f = &g_array_index (g->flows, Flow, id);

  g_assert (f->pending > 0);
  if (--f->pending == 0)
    g_array_append_val (g->free_flows, id);
}

static uint8_t
ip_proto (const GenericPopulation *g)
{
  switch (g->protocol)
    {
    case PROTO_TCP: return NATSIM_PROTO_TCP;
    case PROTO_ICMP: return NATSIM_PROTO_ICMP;
    default: return NATSIM_PROTO_UDP;
    }
}

/* Offers one packet of flow @f to the NAT; returns the NAT's verdict. */
static NatsimVerdict
send_packet (GenericPopulation *g, Flow *f, NatsimTime now, bool outbound,
             const NatsimEndpoint *remote, uint8_t tcp_flags)
{
  const NatsimPopulationContext *ctx = g->parent.ctx;
  NatsimPacket pkt = { 0 };
  NatsimNatResult res;

  pkt.time = now;
  pkt.proto = ip_proto (g);
  pkt.dir = outbound ? NATSIM_DIR_OUT : NATSIM_DIR_IN;
  pkt.cls = ctx->cls;
  pkt.endpoint = f->host - ctx->inside_base;
  pkt.length = 100;
  pkt.tcp_flags = tcp_flags;
  /* Only a hint (a probe from another remote is another flow): spares the
   * flow table's lookup for the flow's later packets and replies. */
  pkt.hint = f->hint;
  if (outbound)
    {
      pkt.src_addr = f->host;
      pkt.src_port = f->src_port;
      pkt.dst_addr = remote->addr;
      pkt.dst_port = remote->port;
    }
  else
    {
      pkt.src_addr = remote->addr;
      pkt.src_port = remote->port;
      pkt.dst_addr = f->host;
      pkt.dst_port = f->src_port;
    }
  if (pkt.proto == NATSIM_PROTO_ICMP)
    {
      /* RFC 5508: the echo identifier plays the role of both ports. */
      if (outbound)
        pkt.dst_port = pkt.src_port;
      else
        pkt.src_port = pkt.dst_port;
    }
  ctx->send (ctx->sim, &pkt, &res);
  if (res.hint != 0)
    f->hint = res.hint;
  return res.verdict;
}

static void
schedule_next_arrival (GenericPopulation *g, NatsimTime now)
{
  const NatsimPopulationContext *ctx = g->parent.ctx;
  NatsimTime t;

  if (g->n_flows > 0)
    {
      if (g->arrivals >= g->n_flows)
        return;
      t = natsim_time_add (g->start, g->spacing * g->arrivals);
    }
  else
    t = natsim_time_add (now, natsim_time_from_sec (gsl_ran_exponential (ctx->rng, 1.0 / g->rate)));
  if (t >= ctx->end)
    return;
  natsim_population_schedule (ctx, t, EV_ARRIVAL, 0);
}

static void
generic_start (NatsimPopulation *pop)
{
  GenericPopulation *g = (GenericPopulation *) pop;

  schedule_next_arrival (g, 0);
}

static void
start_flow (GenericPopulation *g, NatsimTime now)
{
  const NatsimPopulationContext *ctx = g->parent.ctx;
  uint32_t id = flow_alloc (g);
  guint h;

  /* An exact count of flows goes round-robin over the hosts (classroom
   * cases want to know who sent what); Poisson flows pick a host at
   * random. */
  if (g->n_flows > 0)
    h = (guint) ((g->arrivals - 1) % g->n_hosts);
  else
    h = g->n_hosts > 1 ? (guint) gsl_rng_uniform_int (ctx->rng, g->n_hosts) : 0;
  guint d;
  Flow *f;

  f = &g_array_index (g->flows, Flow, id);
  f->host = ctx->inside_base + h;
  if (g->ports == PORTS_FIXED)
    f->src_port = g->fixed_port;
  else
    {
      /* Linux's default ephemeral range, net.ipv4.ip_local_port_range. */
      f->src_port = g->next_port[h];
      g->next_port[h] = (uint16_t) (f->src_port >= 60999 ? 32768 : f->src_port + 1);
    }
  if (g->choice == CHOICE_RANDOM && g->destinations->len > 1)
    d = (guint) gsl_rng_uniform_int (ctx->rng, g->destinations->len);
  else
    d = g->rr++ % g->destinations->len;
  f->dst = g_array_index (g->destinations, NatsimEndpoint, d);
  flow_schedule (g, id, now, EV_SEND);
}

static NatsimEndpoint
probe_source (const GenericPopulation *g, const Flow *f)
{
  NatsimEndpoint r = f->dst;

  if (g->probe_from == PROBE_OTHER_PORT)
    r.port = (uint16_t) (r.port == 65535 ? 65534 : r.port + 1);
  else if (g->probe_from == PROBE_OTHER_ADDRESS)
    r.addr ^= 1;
  return r;
}

static void
handle_send (GenericPopulation *g, uint32_t id, NatsimTime now)
{
  Flow *f = &g_array_index (g->flows, Flow, id);
  uint8_t flags = 0;
  bool last, forwarded;

  if (g->protocol == PROTO_TCP)
    flags = f->sent == 0 ? NATSIM_TCP_SYN : NATSIM_TCP_ACK;
  forwarded = send_packet (g, f, now, true, &f->dst, flags) == NATSIM_VERDICT_FORWARDED;
  f = &g_array_index (g->flows, Flow, id);
  f->sent++;
  f->delivered += forwarded;
  f->last_out = now;
  last = f->sent >= g->packets_per_flow;

  /* The remote answers only what reached it: a packet the NAT dropped
   * (no port free) never left the site, so it gets no reply; "first"
   * answers the first packet that got through. */
  if (forwarded &&
      (g->reply == REPLY_EVERY || (g->reply == REPLY_FIRST && f->delivered == 1)))
    flow_schedule (g, id, now + g->reply_delay, EV_REPLY);
  if (!last)
    flow_schedule (g, id, now + g->interval, EV_SEND);
  else
    {
      if (g->protocol == PROTO_TCP && g->tcp_close != CLOSE_NONE)
        flow_schedule (g, id, now + g->interval, EV_CLOSE);
      if (g->probes->len > 0)
        {
          f = &g_array_index (g->flows, Flow, id);
          f->next_probe = 0;
          flow_schedule (g, id, now + g_array_index (g->probes, NatsimTime, 0), EV_PROBE);
        }
    }
}

static void
generic_handle (NatsimPopulation *pop, const NatsimEvent *ev)
{
  GenericPopulation *g = (GenericPopulation *) pop;
  uint32_t id = (uint32_t) ev->data;
  Flow *f;

  if (ev->kind == EV_ARRIVAL)
    {
      g->arrivals++;
      start_flow (g, ev->time);
      schedule_next_arrival (g, ev->time);
      return;
    }

  f = &g_array_index (g->flows, Flow, id);
  switch ((GenericEvent) ev->kind)
    {
    case EV_SEND:
      handle_send (g, id, ev->time);
      break;
    case EV_REPLY:
      send_packet (g, f, ev->time, false, &f->dst,
                   g->protocol == PROTO_TCP && f->sent == 1 ? (NATSIM_TCP_SYN | NATSIM_TCP_ACK)
                                                           : NATSIM_TCP_ACK);
      break;
    case EV_CLOSE:
      send_packet (g, f, ev->time, true, &f->dst,
                   g->tcp_close == CLOSE_RST ? NATSIM_TCP_RST : (NATSIM_TCP_FIN | NATSIM_TCP_ACK));
      break;
    case EV_PROBE:
      {
        NatsimEndpoint from = probe_source (g, f);
        send_packet (g, f, ev->time, false, &from, NATSIM_TCP_ACK);
        f = &g_array_index (g->flows, Flow, id);
        if (++f->next_probe < g->probes->len)
          flow_schedule (g, id,
                         f->last_out + g_array_index (g->probes, NatsimTime, f->next_probe),
                         EV_PROBE);
      }
      break;
    case EV_ARRIVAL:
    default:
      g_assert_not_reached ();
    }
  flow_event_done (g, id);
}

static void
generic_finish (NatsimPopulation *pop, NatsimTime end)
{
}

static void
generic_free (NatsimPopulation *pop)
{
  GenericPopulation *g = (GenericPopulation *) pop;

  g_array_unref (g->destinations);
  g_array_unref (g->probes);
  g_array_unref (g->flows);
  g_array_unref (g->free_flows);
  g_free (g->next_port);
  g_free (g);
}

static gsize
generic_memory_bytes (const NatsimPopulation *pop)
{
  const GenericPopulation *g = (const GenericPopulation *) pop;

  return sizeof *g + sizeof (uint16_t) * g->n_hosts
         + sizeof (NatsimEndpoint) * g->destinations->len
         + (g->probes != NULL ? sizeof (NatsimTime) * g->probes->len : 0)
         + sizeof (Flow) * g->flows->len + sizeof (uint32_t) * g->free_flows->len;
}

static const NatsimPopulationClass generic_class = {
  generic_start, generic_handle, generic_finish, generic_free, generic_memory_bytes,
};

static NatsimPopulation *
generic_create (const NatsimParams *params, const NatsimPopulationContext *ctx)
{
  GenericPopulation *g = g_new0 (GenericPopulation, 1);
  uint64_t n_random;

  g->parent.klass = &generic_class;
  g->parent.ctx = ctx;
  g->n_hosts = (guint) natsim_params_get_uint (params, "count");
  g->n_flows = natsim_params_get_uint (params, "flows");
  g->rate = natsim_params_get_double (params, "flows_per_second");
  g->spacing = natsim_params_get_duration (params, "flow_spacing");
  g->start = natsim_params_get_duration (params, "start");
  g->packets_per_flow = (uint32_t) natsim_params_get_uint (params, "packets_per_flow");
  g->interval = natsim_params_get_duration (params, "packet_interval");
  g->protocol = natsim_params_get_enum (params, "protocol");
  g->choice = natsim_params_get_enum (params, "destination_choice");
  g->ports = natsim_params_get_enum (params, "source_ports");
  g->fixed_port = (uint16_t) natsim_params_get_uint (params, "source_port");
  g->reply = natsim_params_get_enum (params, "reply");
  g->reply_delay = natsim_params_get_duration (params, "reply_delay");
  g->probe_from = natsim_params_get_enum (params, "probe_from");
  g->tcp_close = natsim_params_get_enum (params, "tcp_close");
  g->probes = natsim_params_get_duration_list (params, "inbound_probes");
  g_array_sort (g->probes, (GCompareFunc) natsim_time_compare);

  n_random = natsim_params_get_uint (params, "destination_count");
  if (n_random > 0)
    {
      /* Drawn once per replication from this population's stream:
       * addresses in 198.51.100.0/24 (documentation range), ports
       * 1024-65535. */
      g->destinations = g_array_sized_new (FALSE, FALSE, sizeof (NatsimEndpoint), (guint) n_random);
      for (uint64_t i = 0; i < n_random; i++)
        {
          NatsimEndpoint e;
          e.addr = UINT32_C (0xc6336400) | (uint32_t) gsl_rng_uniform_int (ctx->rng, 256);
          e.port = (uint16_t) (1024 + gsl_rng_uniform_int (ctx->rng, 65536 - 1024));
          g_array_append_val (g->destinations, e);
        }
    }
  else
    g->destinations = natsim_params_get_endpoints (params, "destinations");

  g->next_port = g_new (uint16_t, g->n_hosts);
  for (guint h = 0; h < g->n_hosts; h++)
    g->next_port[h] = 32768;
  g->flows = g_array_new (FALSE, FALSE, sizeof (Flow));
  g->free_flows = g_array_new (FALSE, FALSE, sizeof (uint32_t));
  return &g->parent;
}

const NatsimProfile natsim_profile_generic = {
  "generic",
  "textbook flows: Poisson or an exact count, packets, replies, inbound probes",
  generic_keys,
  generic_n_hosts,
  generic_validate,
  generic_create,
};
