/* natsim: the Webex app on a desktop ("webex-desktop") and on a phone
 * ("webex-mobile"), from the Webex Calling port reference (docs/reference.md
 * section 1).
 *
 * Desktop: SIP-TLS from an ephemeral port to 8934 (DSCP CS0) with RFC 5626
 * CRLF keepalives answered by the server, a long-lived HTTPS/websocket
 * connection to 443 with its own keepalive, calls with audio on an even/odd
 * pair in 8500-8599 (EF) and video in 8600-8699 (AF41), STUN checks.
 *
 * Mobile: only a push connection (APNS 5223 or FCM 5228) stays up, with a
 * keepalive around 28 minutes; an incoming call arrives as a push message,
 * after which the app connects its SIP-TLS signalling, registers and takes
 * the call; the connection closes when the call ends.  Media as desktop.
 * The push connection is what makes a mobile reachable: when its mapping
 * dies, pushes (and calls) are lost until the next keepalive reconnects.
 *
 * Intervals the reference does not give (the desktop's REGISTER and
 * keepalive periods, the websocket ping) are assumptions named in the key
 * help; every one is a key.
 */
#include "endpoint.h"

static const char *const push_choices[] = { "apns", "fcm", NULL };

#define APP_MEDIA_KEYS                                                                   \
  { "ice_direct", NATSIM_KEY_DOUBLE, "0.1",                                              \
    "share of calls whose media goes directly to a peer inside (ICE)", 0, 1, NULL },      \
  { "audio_ports", NATSIM_KEY_PORT_RANGE, "8500-8599", "local audio ports, even/odd pairs", \
    0, 0, NULL },                                                                         \
  { "video_ports", NATSIM_KEY_PORT_RANGE, "8600-8699", "local video ports, even/odd pairs", \
    0, 0, NULL },                                                                         \
  { "cloud_media_ports", NATSIM_KEY_PORT_RANGE, "19560-65535", "cloud media ports", 0, 0, NULL }, \
  { "stun_port", NATSIM_KEY_UINT, "5004", "cloud STUN port (5004 or 9000; 0: no STUN)",  \
    0, 65535, NULL }

static const NatsimKeySpec desktop_keys[] = {
  ENDPOINT_KEYS_COMMON ("50"),
  { "register_interval", NATSIM_KEY_DURATION_RANGE, "9m..10m",
    "REGISTER refresh over the SIP-TLS connection (assumed: 10 min expiry)", 1, 86400, NULL },
  { "keepalive_interval", NATSIM_KEY_DURATION_RANGE, "96s..120s",
    "CRLF keepalive on the SIP-TLS connection (RFC 5626: 80-100 % of 120 s)", 0, 86400, NULL },
  { "websocket_keepalive", NATSIM_KEY_DURATION_RANGE, "27s..30s",
    "ping on the HTTPS/websocket connection to 443 (assumed: about 30 s)", 1, 86400, NULL },
  { "sip_servers", NATSIM_KEY_UINT, "2", "cloud SIP edges the apps spread over (port 8934)",
    1, 64, NULL },
  { "options_interval", NATSIM_KEY_DURATION_RANGE, "0s",
    "OPTIONS from the cloud over the connection (0s: none)", 0, 86400, NULL },
  { "notify_per_hour", NATSIM_KEY_DOUBLE, "1",
    "NOTIFY requests from the cloud per app per hour (Poisson)", 0, 3600, NULL },
  ENDPOINT_KEYS_CALLS ("2", "0.3", "0.5"),
  APP_MEDIA_KEYS,
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static const NatsimKeySpec mobile_keys[] = {
  ENDPOINT_KEYS_COMMON ("50"),
  { "push_service", NATSIM_KEY_ENUM, "apns", "APNS (TCP 5223) or FCM (TCP 5228)", 0, 0,
    push_choices },
  { "push_keepalive", NATSIM_KEY_DURATION_RANGE, "27m..28m",
    "keepalive of the push connection (around 28 min)", 1, 86400, NULL },
  { "notify_per_hour", NATSIM_KEY_DOUBLE, "2",
    "push messages per app per hour besides calls (Poisson)", 0, 3600, NULL },
  { "sip_servers", NATSIM_KEY_UINT, "2", "cloud SIP edges the apps spread over (port 8934)",
    1, 64, NULL },
  ENDPOINT_KEYS_CALLS ("0.5", "0.1", "0.6"),
  APP_MEDIA_KEYS,
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static void
app_media (const NatsimParams *p, EndpointSpec *s)
{
  s->ice_direct = natsim_params_get_double (p, "ice_direct");
  s->max_calls = 1;
  natsim_params_get_port_range (p, "audio_ports", &s->audio_lo, &s->audio_hi);
  natsim_params_get_port_range (p, "video_ports", &s->video_lo, &s->video_hi);
  endpoint_webex_cloud_media (p, s, (uint16_t) natsim_params_get_uint (p, "stun_port"));
  s->sig_proto = NATSIM_PROTO_TCP;
  s->sig_server.addr = WEBEX_SIP_EDGE;
  s->sig_server.port = 8934;
  s->sig_servers = (guint) natsim_params_get_uint (p, "sip_servers");
  s->sig_dscp = DSCP_CS0;
  s->notify_per_hour = natsim_params_get_double (p, "notify_per_hour");
}

static void
desktop_spec (const NatsimParams *p, EndpointSpec *s)
{
  memset (s, 0, sizeof *s);
  endpoint_read_common_keys (p, s);
  endpoint_read_call_keys (p, s);
  app_media (p, s);
  natsim_params_get_duration_range (p, "register_interval", &s->reg_lo, &s->reg_hi);
  natsim_params_get_duration_range (p, "keepalive_interval", &s->ka_lo, &s->ka_hi);
  s->keepalive = s->ka_hi > 0 ? KEEPALIVE_CRLF : KEEPALIVE_NONE;
  natsim_params_get_duration_range (p, "options_interval", &s->options_lo, &s->options_hi);
  s->aux_dst.addr = WEBEX_WEBSOCKET;
  s->aux_dst.port = 443;
  natsim_params_get_duration_range (p, "websocket_keepalive", &s->aux_lo, &s->aux_hi);
  s->aux_what = "HTTPS/websocket keepalive";
}

static void
mobile_spec (const NatsimParams *p, EndpointSpec *s)
{
  bool fcm = natsim_params_get_enum (p, "push_service") == 1;

  memset (s, 0, sizeof *s);
  endpoint_read_common_keys (p, s);
  endpoint_read_call_keys (p, s);
  app_media (p, s);
  s->sig_on_demand = true;
  s->aux_dst.addr = fcm ? PUSH_FCM : PUSH_APNS;
  s->aux_dst.port = fcm ? 5228 : 5223;
  natsim_params_get_duration_range (p, "push_keepalive", &s->aux_lo, &s->aux_hi);
  s->aux_reach = true;
  s->aux_what = fcm ? "FCM push keepalive" : "APNS push keepalive";
}

static gboolean
app_validate (const NatsimParams *p, GError **error)
{
  return endpoint_validate_media (p, "audio_ports", error)
         && endpoint_validate_media (p, "video_ports", error)
         && endpoint_validate_media (p, "cloud_media_ports", error);
}

ENDPOINT_PROFILE_CALLBACKS (desktop, desktop_spec)

ENDPOINT_PROFILE_CALLBACKS (mobile, mobile_spec)

const NatsimProfile natsim_profile_webex_desktop = {
  "webex-desktop",
  "Webex app on a desktop: SIP-TLS to 8934 with keepalives, websocket to 443, "
  "audio 8500-8599 and video 8600-8699 pairs",
  desktop_keys,
  endpoint_n_hosts,
  app_validate,
  desktop_create,
  desktop_refresh_gaps,
  desktop_port_demand,
};

const NatsimProfile natsim_profile_webex_mobile = {
  "webex-mobile",
  "Webex app on a phone: push connection (APNS 5223 / FCM 5228) with ~28 min keepalives; "
  "calls arrive by push",
  mobile_keys,
  endpoint_n_hosts,
  app_validate,
  mobile_create,
  mobile_refresh_gaps,
  mobile_port_demand,
};
