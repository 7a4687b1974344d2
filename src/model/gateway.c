/* natsim: the Webex Calling local gateway ("local-gateway") and a
 * third-party SIP phone over UDP ("sip-udp").
 *
 * Local gateway (docs/reference.md section 1): a registration-based trunk
 * keeps one SIP-TLS connection from its external interface (8000-65535) to
 * a cloud SIP edge on 8934, registered and kept alive with OPTIONS pings,
 * and takes incoming calls over it; a certificate-based trunk talks to
 * 5062 instead, and for an incoming call the cloud opens its own TCP
 * connection from 8934 to the gateway's public address and `listen_port`:
 * only a static port forward ([forward NAME], docs/nat-model.md) lets it
 * in, otherwise the call is missed.
 * Media uses even/odd pairs from 8000-48199 toward the cloud's 19560-65535.
 * Calls come from an Erlang load: Poisson arrivals at rate erlangs / mean
 * holding time, shared by the gateways of the population, with no limit on
 * concurrent calls unless max_calls says so.
 *
 * sip-udp: a third-party SIP phone that registers over UDP from 5060 to its
 * provider (REGISTER Expires, refreshed before it runs out) and keeps the
 * NAT binding alive with RFC 5626 keepalives every 24-29 s (80-100 % of
 * the nominal, "because many NATs have UDP timeouts as low as 30 s"): STUN
 * (answered, detects a changed mapping) or CRLF (unanswered over UDP).  It
 * is the profile to study UDP timeouts with.
 */
#include "endpoint.h"

static const char *const trunk_choices[] = { "registration", "certificate", NULL };
static const char *const keepalive_choices[] = { "none", "stun", "crlf", NULL };

static const NatsimKeySpec gateway_keys[] = {
  ENDPOINT_KEYS_COMMON ("1"),
  { "trunk", NATSIM_KEY_ENUM, "registration",
    "registration (SIP-TLS to 8934, registered) or certificate (SIP-TLS to 5062)", 0, 0,
    trunk_choices },
  { "listen_port", NATSIM_KEY_UINT, "5062",
    "certificate trunk: the gateway's port the cloud connects to for incoming calls "
    "(publish it with a [forward NAME] group)", 1, 65535, NULL },
  { "sip_ports", NATSIM_KEY_PORT_RANGE, "8000-65535",
    "source ports of the trunk connection (a reconnect takes the next one)", 0, 0, NULL },
  { "register_interval", NATSIM_KEY_DURATION_RANGE, "50m..60m",
    "REGISTER refresh of a registration trunk (assumed: 1 h expiry)", 1, 86400, NULL },
  { "keepalive_interval", NATSIM_KEY_DURATION_RANGE, "60s",
    "OPTIONS ping from the gateway on the trunk (IOS sip-options-keepalive, 60 s)",
    0, 86400, NULL },
  { "options_interval", NATSIM_KEY_DURATION_RANGE, "60s",
    "OPTIONS ping from the cloud over the trunk (0s: none)", 0, 86400, NULL },
  { "erlangs", NATSIM_KEY_DOUBLE, "10", "offered call load per gateway at the busiest hour",
    0, 100000, NULL },
  { "max_calls", NATSIM_KEY_UINT, "0", "concurrent calls per gateway, 0: unlimited", 0, 100000,
    NULL },
  { "busy_hour_profile", NATSIM_KEY_ENUM, "flat",
    "flat, or office: 24 hourly factors peaking at 10:00 (src/model/endpoint.c)", 0, 0,
    endpoint_curve_choices },
  { "start_hour", NATSIM_KEY_DOUBLE, "10", "clock hour at simulated time 0", 0, 23.999, NULL },
  { "call_duration", NATSIM_KEY_DISTRIBUTION, "exponential(180s)", "call holding time", 0, 0,
    NULL },
  { "inbound_fraction", NATSIM_KEY_DOUBLE, "0.5", "share of calls that come in from the cloud",
    0, 1, NULL },
  { "media_ports", NATSIM_KEY_PORT_RANGE, "8000-48199", "local media ports, even/odd pairs", 0,
    0, NULL },
  { "cloud_media_ports", NATSIM_KEY_PORT_RANGE, "19560-65535", "cloud media ports", 0, 0, NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static const NatsimKeySpec sip_udp_keys[] = {
  ENDPOINT_KEYS_COMMON ("10"),
  { "sip_port", NATSIM_KEY_UINT, "5060", "local SIP port", 1, 65535, NULL },
  { "registrar", NATSIM_KEY_ENDPOINTS, "192.0.2.20:5060", "the provider's registrar", 1, 1,
    NULL },
  { "register_interval", NATSIM_KEY_DURATION_RANGE, "3240s..3600s",
    "REGISTER refresh (Expires 3600, refreshed at 90-100 %)", 1, 86400, NULL },
  { "keepalive", NATSIM_KEY_ENUM, "stun",
    "RFC 5626 keepalive: stun (answered), crlf (unanswered over UDP) or none", 0, 0,
    keepalive_choices },
  { "keepalive_interval", NATSIM_KEY_DURATION_RANGE, "24s..29s",
    "keepalive gap (RFC 5626 UDP default: 80-100 % of 29 s)", 0, 86400, NULL },
  { "options_interval", NATSIM_KEY_DURATION_RANGE, "0s",
    "OPTIONS from the provider (0s: none)", 0, 86400, NULL },
  { "notify_per_hour", NATSIM_KEY_DOUBLE, "1",
    "NOTIFY requests from the provider per phone per hour (Poisson)", 0, 3600, NULL },
  ENDPOINT_KEYS_CALLS ("1", "0", "0.5"),
  { "media_ports", NATSIM_KEY_PORT_RANGE, "16384-32767", "local RTP/RTCP ports, even/odd pairs",
    0, 0, NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static void
gateway_spec (const NatsimParams *p, EndpointSpec *s)
{
  double mean_s;
  bool cert = natsim_params_get_enum (p, "trunk") == 1;

  memset (s, 0, sizeof *s);
  endpoint_read_common_keys (p, s);
  s->sig_proto = NATSIM_PROTO_TCP;
  natsim_params_get_port_range (p, "sip_ports", &s->sig_port_lo, &s->sig_port_hi);
  s->sig_server.addr = WEBEX_SIP_EDGE;
  s->sig_server.port = cert ? 5062 : 8934;
  s->listen_port = cert ? (uint16_t) natsim_params_get_uint (p, "listen_port") : 0;
  s->sig_servers = 1;
  s->sig_dscp = DSCP_CS3;
  natsim_params_get_duration_range (p, "register_interval", &s->reg_lo, &s->reg_hi);
  natsim_params_get_duration_range (p, "keepalive_interval", &s->ka_lo, &s->ka_hi);
  s->keepalive = s->ka_hi > 0 ? KEEPALIVE_CRLF : KEEPALIVE_NONE; /* OPTIONS, answered */
  natsim_params_get_duration_range (p, "options_interval", &s->options_lo, &s->options_hi);

  s->curve = endpoint_curve (natsim_params_get_enum (p, "busy_hour_profile"));
  natsim_params_get_dist (p, "call_duration", &s->duration);
  mean_s = natsim_dist_mean (&s->duration) / (double) NATSIM_NSEC_PER_SEC;
  /* Erlangs = arrival rate x mean holding time. */
  s->calls_per_hour = mean_s > 0 ? natsim_params_get_double (p, "erlangs") * 3600.0 / mean_s : 0;
  s->start_hour = natsim_params_get_double (p, "start_hour");
  s->inbound_fraction = natsim_params_get_double (p, "inbound_fraction");
  s->max_calls = (guint) natsim_params_get_uint (p, "max_calls");
  natsim_params_get_port_range (p, "media_ports", &s->audio_lo, &s->audio_hi);
  endpoint_webex_cloud_media (p, s, 5004);
}

static void
sip_udp_spec (const NatsimParams *p, EndpointSpec *s)
{
  g_autoptr (GArray) reg = natsim_params_get_endpoints (p, "registrar");
  guint ka = natsim_params_get_enum (p, "keepalive");

  memset (s, 0, sizeof *s);
  endpoint_read_common_keys (p, s);
  endpoint_read_call_keys (p, s);
  s->sig_proto = NATSIM_PROTO_UDP;
  s->sig_port_lo = s->sig_port_hi = (uint16_t) natsim_params_get_uint (p, "sip_port");
  s->sig_server = g_array_index (reg, NatsimEndpoint, 0);
  s->sig_servers = 1;
  s->sig_dscp = DSCP_CS3;
  natsim_params_get_duration_range (p, "register_interval", &s->reg_lo, &s->reg_hi);
  natsim_params_get_duration_range (p, "keepalive_interval", &s->ka_lo, &s->ka_hi);
  s->keepalive = ka == 1 ? KEEPALIVE_STUN : ka == 2 ? KEEPALIVE_CRLF : KEEPALIVE_NONE;
  natsim_params_get_duration_range (p, "options_interval", &s->options_lo, &s->options_hi);
  s->notify_per_hour = natsim_params_get_double (p, "notify_per_hour");
  s->max_calls = 1;
  natsim_params_get_port_range (p, "media_ports", &s->audio_lo, &s->audio_hi);
  /* The provider's media servers: 192.0.2.0/24 (documentation). */
  s->media_net = IPV4 (192, 0, 2, 0);
  s->media_mask = 0xff;
  s->media_port_lo = 10000;
  s->media_port_hi = 20000;
  s->dscp_audio = DSCP_EF;
  s->dscp_video = DSCP_AF41;
}

static gboolean
gateway_validate (const NatsimParams *p, GError **error)
{
  return endpoint_validate_media (p, "media_ports", error)
         && endpoint_validate_media (p, "cloud_media_ports", error);
}

static gboolean
sip_udp_validate (const NatsimParams *p, GError **error)
{
  return endpoint_validate_media (p, "media_ports", error);
}

ENDPOINT_PROFILE_CALLBACKS (gateway, gateway_spec)

ENDPOINT_PROFILE_CALLBACKS (sip_udp, sip_udp_spec)

const NatsimProfile natsim_profile_local_gateway = {
  "local-gateway",
  "Webex Calling local gateway: SIP-TLS trunk to 8934 (or 5062) kept alive, "
  "media pairs in 8000-48199, Erlang call load",
  gateway_keys,
  endpoint_n_hosts,
  gateway_validate,
  gateway_create,
  gateway_refresh_gaps,
  gateway_port_demand,
};

const NatsimProfile natsim_profile_sip_udp = {
  "sip-udp",
  "third-party SIP over UDP 5060: REGISTER Expires, RFC 5626 keepalives every 24-29 s "
  "(STUN or CRLF)",
  sip_udp_keys,
  endpoint_n_hosts,
  sip_udp_validate,
  sip_udp_create,
  sip_udp_refresh_gaps,
  sip_udp_port_demand,
};
