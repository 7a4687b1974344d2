/* natsim: Cisco devices: the MPP desk phone ("cisco-mpp") and the
 * Board/Desk/Room series ("room-device"), from the Webex Calling port
 * reference (docs/reference.md section 1).
 *
 * A device keeps one SIP-TLS connection from a port in 5060-5080 to a
 * cloud SIP edge on 8934 (DSCP CS3) and refreshes its REGISTER every 1-2
 * minutes; it polls NTP from 51494 to 123, checks its configuration over
 * HTTPS (443) and its firmware (6970) now and then, and sends SRTP/SRTCP
 * from an even/odd pair in 19560-19660 (audio EF, video AF41) toward the
 * cloud media ports 19560-65535, after STUN checks to 5004 or 9000.  With
 * probability ice_direct the media of a call goes straight to a peer inside
 * the organisation and never crosses the NAT.  A room device is the same
 * with video on every call by default.
 */
#include "endpoint.h"

#define DEVICE_KEYS(count, cph, video)                                                   \
  ENDPOINT_KEYS_COMMON (count),                                                          \
  { "register_interval", NATSIM_KEY_DURATION_RANGE, "60s..120s",                         \
    "REGISTER refresh over the SIP-TLS connection, uniform in the range", 1, 86400, NULL }, \
  { "sip_ports", NATSIM_KEY_PORT_RANGE, "5060-5080",                                     \
    "source ports of the SIP-TLS connection (a reconnect takes the next one)", 0, 0, NULL }, \
  { "sip_servers", NATSIM_KEY_UINT, "2", "cloud SIP edges the devices spread over (port 8934)", \
    1, 64, NULL },                                                                        \
  { "options_interval", NATSIM_KEY_DURATION_RANGE, "0s",                                 \
    "OPTIONS from the cloud over the connection (0s: none)", 0, 86400, NULL },            \
  { "notify_per_hour", NATSIM_KEY_DOUBLE, "0.5",                                         \
    "NOTIFY requests from the cloud per device per hour (Poisson)", 0, 3600, NULL },      \
  { "ntp_interval", NATSIM_KEY_DURATION_RANGE, "15m..17m",                               \
    "NTP poll from 51494 to 123", 1, 86400, NULL },                                       \
  { "config_interval", NATSIM_KEY_DURATION_RANGE, "55m..65m",                            \
    "HTTPS (443) configuration resync", 1, 7 * 86400.0, NULL },                           \
  { "firmware_interval", NATSIM_KEY_DURATION_RANGE, "12h..24h",                          \
    "firmware check on 6970", 1, 30 * 86400.0, NULL },                                    \
  ENDPOINT_KEYS_CALLS (cph, video, "0.5"),                                               \
  { "ice_direct", NATSIM_KEY_DOUBLE, "0.1",                                              \
    "share of calls whose media goes directly to a peer inside (ICE)", 0, 1, NULL },      \
  { "media_ports", NATSIM_KEY_PORT_RANGE, "19560-19660",                                 \
    "local SRTP/SRTCP ports, even/odd pairs", 0, 0, NULL },                               \
  { "cloud_media_ports", NATSIM_KEY_PORT_RANGE, "19560-65535",                           \
    "cloud media ports", 0, 0, NULL },                                                    \
  { "stun_port", NATSIM_KEY_UINT, "5004", "cloud STUN port (5004 or 9000; 0: no STUN)",  \
    0, 65535, NULL },                                                                     \
  { NULL, 0, NULL, NULL, 0, 0, NULL }

static const NatsimKeySpec mpp_keys[] = { DEVICE_KEYS ("100", "2", "0") };
static const NatsimKeySpec room_keys[] = { DEVICE_KEYS ("2", "1", "1") };

static void
device_spec (const NatsimParams *p, EndpointSpec *s)
{
  memset (s, 0, sizeof *s);
  endpoint_read_common_keys (p, s);
  endpoint_read_call_keys (p, s);
  s->sig_proto = NATSIM_PROTO_TCP;
  natsim_params_get_port_range (p, "sip_ports", &s->sig_port_lo, &s->sig_port_hi);
  s->sig_server.addr = WEBEX_SIP_EDGE;
  s->sig_server.port = 8934;
  s->sig_servers = (guint) natsim_params_get_uint (p, "sip_servers");
  s->sig_dscp = DSCP_CS3;
  natsim_params_get_duration_range (p, "register_interval", &s->reg_lo, &s->reg_hi);
  s->keepalive = KEEPALIVE_NONE;
  natsim_params_get_duration_range (p, "options_interval", &s->options_lo, &s->options_hi);
  s->notify_per_hour = natsim_params_get_double (p, "notify_per_hour");

  s->background[0] = (EndpointBackground) { NATSIM_PROTO_UDP, 51494, { WEBEX_NTP, 123 }, 0, 0,
                                            DSCP_CS0 };
  natsim_params_get_duration_range (p, "ntp_interval", &s->background[0].lo,
                                    &s->background[0].hi);
  s->background[1] = (EndpointBackground) { NATSIM_PROTO_TCP, 0, { WEBEX_CONFIG, 443 }, 0, 0,
                                            DSCP_CS0 };
  natsim_params_get_duration_range (p, "config_interval", &s->background[1].lo,
                                    &s->background[1].hi);
  s->background[2] = (EndpointBackground) { NATSIM_PROTO_TCP, 0, { WEBEX_FIRMWARE, 6970 }, 0, 0,
                                            DSCP_CS0 };
  natsim_params_get_duration_range (p, "firmware_interval", &s->background[2].lo,
                                    &s->background[2].hi);
  s->n_background = 3;

  s->ice_direct = natsim_params_get_double (p, "ice_direct");
  s->max_calls = 1;
  natsim_params_get_port_range (p, "media_ports", &s->audio_lo, &s->audio_hi);
  endpoint_webex_cloud_media (p, s, (uint16_t) natsim_params_get_uint (p, "stun_port"));
}

static gboolean
device_validate (const NatsimParams *p, GError **error)
{
  /* Video takes a second pair from the same range. */
  uint16_t lo, hi;

  if (!endpoint_validate_media (p, "media_ports", error)
      || !endpoint_validate_media (p, "cloud_media_ports", error))
    return FALSE;
  natsim_params_get_port_range (p, "media_ports", &lo, &hi);
  if (natsim_params_get_double (p, "video_fraction") > 0 && ((lo + 1u) & ~1u) + 3u > hi)
    {
      natsim_set_key_error (error, "media_ports", "%u-%u holds one pair, video needs a second",
                            lo, hi);
      return FALSE;
    }
  return TRUE;
}

ENDPOINT_PROFILE_CALLBACKS (device, device_spec)

const NatsimProfile natsim_profile_cisco_mpp = {
  "cisco-mpp",
  "MPP desk phone: SIP-TLS 5060-5080 -> 8934, REGISTER every 60-120 s, NTP, HTTPS, "
  "SRTP pairs in 19560-19660",
  mpp_keys,
  endpoint_n_hosts,
  device_validate,
  device_create,
  device_refresh_gaps,
  device_port_demand,
};

const NatsimProfile natsim_profile_room_device = {
  "room-device",
  "Board/Desk/Room series: as cisco-mpp with a video pair on every call",
  room_keys,
  endpoint_n_hosts,
  device_validate,
  device_create,
  device_refresh_gaps,
  device_port_demand,
};
