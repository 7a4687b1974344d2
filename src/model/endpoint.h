/* natsim: the endpoint engine shared by the VoIP profiles (private).
 *
 * Every VoIP profile (cisco-mpp, room-device, webex-desktop, webex-mobile,
 * local-gateway, sip-udp) is one EndpointSpec filled from its keys (shared
 * readers in endpoint-spec.c); the engine in endpoint.c runs it.  An endpoint has up to four kinds of
 * "channels":
 * - a signalling connection (SIP over TCP/TLS or UDP) with REGISTER
 *   refreshes, optional keepalives, and requests from the cloud (OPTIONS,
 *   NOTIFY, INVITE) arriving over the endpoint's current mapping;
 * - an optional second long-lived TCP connection (a websocket, a push
 *   connection) with its own keepalive; for a mobile app it is the one
 *   that makes the endpoint reachable;
 * - periodic background exchanges (NTP, configuration checks);
 * - calls with STUN checks and media on even/odd (RTP/RTCP) port pairs.
 * The profile files only describe; nothing here knows a profile by name.
 */
#pragma once

#include "model-private.h"
#include "natsim/error.h"
#include "natsim/parse.h"

/* DSCP code points of docs/reference.md section 1. */
#define DSCP_CS0  0
#define DSCP_CS3  24
#define DSCP_AF41 34
#define DSCP_EF   46

#define ENDPOINT_MAX_BACKGROUND 3

/* An IPv4 address in host byte order. */
#define IPV4(a, b, c, d) \
  ((uint32_t) (a) << 24 | (uint32_t) (b) << 16 | (uint32_t) (c) << 8 | (uint32_t) (d))

/* Where the Webex Calling cloud is (docs/reference.md section 1): SIP
 * edges in 85.119.56.0/23, media relays and STUN in 144.196.0.0/16,
 * device NTP in 23.89.0.0/16, device configuration in 170.72.0.0/16, the
 * apps' websocket in 62.109.192.0/18.  Push services and third-party SIP
 * providers use documentation addresses (198.51.100.0/24, 192.0.2.0/24). */
#define WEBEX_SIP_EDGE   IPV4 (85, 119, 56, 10)
#define WEBEX_MEDIA_NET  IPV4 (144, 196, 0, 0)
#define WEBEX_STUN       IPV4 (144, 196, 0, 10)
#define WEBEX_NTP        IPV4 (23, 89, 1, 123)
#define WEBEX_CONFIG     IPV4 (170, 72, 0, 10)
#define WEBEX_FIRMWARE   IPV4 (170, 72, 0, 11)
#define WEBEX_WEBSOCKET  IPV4 (62, 109, 192, 20)
#define PUSH_APNS        IPV4 (198, 51, 100, 50)
#define PUSH_FCM         IPV4 (198, 51, 100, 60)

/* How the endpoint's keepalive on its signalling flow looks. */
typedef enum
{
  KEEPALIVE_NONE,
  KEEPALIVE_STUN, /* RFC 5626 STUN keepalive over UDP: answered, detects a changed mapping */
  KEEPALIVE_CRLF, /* RFC 5626 CRLF: over UDP no answer; over TCP the server pongs */
} EndpointKeepalive;

/* A periodic request/response exchange on its own short flow. */
typedef struct
{
  uint8_t        proto;      /* UDP: request + answer; TCP: handshake, request, close */
  uint16_t       src_port;   /* 0: a new ephemeral port each time */
  NatsimEndpoint dst;
  NatsimTime     lo, hi;     /* interval, uniform in [lo, hi] */
  uint8_t        dscp;
} EndpointBackground;

typedef struct
{
  guint          count;
  NatsimTime     start_spread;  /* endpoints boot uniformly in [0, start_spread) */

  /* Signalling. */
  uint8_t        sig_proto;
  uint16_t       sig_port_lo, sig_port_hi; /* source ports; 0,0: ephemeral */
  NatsimEndpoint sig_server;    /* the first of sig_servers consecutive addresses */
  guint          sig_servers;
  uint8_t        sig_dscp;
  bool           sig_on_demand; /* connected only for a call (mobile app) */
  uint16_t       listen_port;   /* certificate trunk: incoming calls open a TCP
                                 * connection from the cloud to this port (0: none) */
  NatsimTime     reg_lo, reg_hi;
  EndpointKeepalive keepalive;
  NatsimTime     ka_lo, ka_hi;  /* 0: no keepalive */
  NatsimTime     options_lo, options_hi; /* cloud OPTIONS; 0: none */
  double         notify_per_hour;        /* cloud NOTIFY (or push messages) */

  /* Second long-lived connection (websocket, push); aux_dst.port 0: none. */
  NatsimEndpoint aux_dst;
  NatsimTime     aux_lo, aux_hi;
  bool           aux_reach;     /* calls and notifications arrive over it */
  const char    *aux_what;

  EndpointBackground background[ENDPOINT_MAX_BACKGROUND];
  guint          n_background;

  /* Calls. */
  double         calls_per_hour;   /* per endpoint at the busiest hour */
  const double  *curve;            /* 24 factors in [0, 1], NULL: flat */
  double         start_hour;       /* clock hour at simulated time 0 */
  NatsimDist     duration;
  double         inbound_fraction, video_fraction, ice_direct;
  guint          max_calls;        /* per endpoint, 0: unlimited */
  uint16_t       audio_lo, audio_hi; /* even/odd pairs from here */
  uint16_t       video_lo, video_hi; /* 0: video pairs from the audio range */
  uint32_t       media_net;        /* remote media: random hosts of this network */
  uint32_t       media_mask;       /* host bits of media_net (0xffff: a /16) */
  uint16_t       media_port_lo, media_port_hi;
  NatsimEndpoint stun;             /* port 0: no STUN checks */
  NatsimTime     media_interval, rtcp_interval;
  uint8_t        dscp_audio, dscp_video;
} EndpointSpec;

/* Checks shared by the profiles: a media range must hold an even/odd
 * pair. */
gboolean endpoint_validate_media (const NatsimParams *p, const char *key, GError **error);

/* A population running @spec (copied). */
NatsimPopulation *endpoint_population_new (const EndpointSpec *spec,
                                           const NatsimPopulationContext *ctx);

/* The refresh needs and port demand that @spec implies. */
void endpoint_refresh_gaps (const EndpointSpec *spec, NatsimRefreshNeed *out, guint *n);
void endpoint_port_demand (const EndpointSpec *spec, NatsimPortDemand *out);

/* The Webex cloud media side of @spec: remote media on random hosts of
 * WEBEX_MEDIA_NET at the cloud_media_ports key, STUN checks to WEBEX_STUN
 * at @stun_port (0: none), audio EF and video AF41. */
void endpoint_webex_cloud_media (const NatsimParams *p, EndpointSpec *spec, uint16_t stun_port);

/* The n_hosts callback of the endpoint profiles: the "count" key
 * (ENDPOINT_KEYS_COMMON). */
guint endpoint_n_hosts (const NatsimParams *p);

/* Defines the create, refresh_gaps and port_demand callbacks of a profile
 * (PREFIX_create, PREFIX_refresh_gaps, PREFIX_port_demand) that read the
 * profile's keys with @spec_fn (void spec_fn (const NatsimParams *,
 * EndpointSpec *)) and hand the spec to the endpoint population. */
#define ENDPOINT_PROFILE_CALLBACKS(prefix, spec_fn)                                   \
  static NatsimPopulation *prefix##_create (const NatsimParams *p,                     \
                                            const NatsimPopulationContext *ctx)        \
  {                                                                                    \
    EndpointSpec s;                                                                    \
                                                                                       \
    spec_fn (p, &s);                                                                   \
    return endpoint_population_new (&s, ctx);                                          \
  }                                                                                    \
                                                                                       \
  static void prefix##_refresh_gaps (const NatsimParams *p, NatsimRefreshNeed *out,    \
                                     guint *n)                                         \
  {                                                                                    \
    EndpointSpec s;                                                                    \
                                                                                       \
    spec_fn (p, &s);                                                                   \
    endpoint_refresh_gaps (&s, out, n);                                                \
  }                                                                                    \
                                                                                       \
  static void prefix##_port_demand (const NatsimParams *p, NatsimPortDemand *out)      \
  {                                                                                    \
    EndpointSpec s;                                                                    \
                                                                                       \
    spec_fn (p, &s);                                                                   \
    endpoint_port_demand (&s, out);                                                    \
  }

/* Shared key readers: the call keys (calls_per_hour, busy_hour_profile,
 * start_hour, call_duration, inbound_fraction, video_fraction) and the
 * media timing keys (media_packet_interval, rtcp_interval). */
void endpoint_read_call_keys (const NatsimParams *p, EndpointSpec *spec);
void endpoint_read_common_keys (const NatsimParams *p, EndpointSpec *spec);

/* The busy-hour curves of the busy_hour_profile key, and the 24 factors of
 * choice @index (NULL for flat). */
extern const char *const endpoint_curve_choices[];
const double *endpoint_curve (guint index);

/* Key table entries every endpoint profile has.  (Macros expand to table
 * rows only; the tables themselves stay readable per profile.) */
#define ENDPOINT_KEYS_COMMON(count_default)                                          \
  { "count", NATSIM_KEY_UINT, count_default, "endpoints (inside hosts)", 1, 4000000, NULL }, \
  { "start_spread", NATSIM_KEY_DURATION, "60s",                                       \
    "endpoints boot (connect and register) uniformly within this time", 0, 86400, NULL }, \
  { "media_packet_interval", NATSIM_KEY_DURATION, "1s",                               \
    "one media packet per stream per interval (the NAT state depends only on gaps)",  \
    0.001, 60, NULL },                                                                \
  { "rtcp_interval", NATSIM_KEY_DURATION, "5s", "RTCP report interval", 0.001, 600, NULL }

#define ENDPOINT_KEYS_CALLS(cph, video, inbound)                                      \
  { "calls_per_hour", NATSIM_KEY_DOUBLE, cph,                                         \
    "calls per endpoint per hour at the busiest hour (Poisson)", 0, 3600, NULL },     \
  { "busy_hour_profile", NATSIM_KEY_ENUM, "flat",                                     \
    "flat, or office: 24 hourly factors peaking at 10:00 (src/model/endpoint.c)",       \
    0, 0, endpoint_curve_choices },                                                   \
  { "start_hour", NATSIM_KEY_DOUBLE, "10", "clock hour at simulated time 0", 0, 23.999, NULL }, \
  { "call_duration", NATSIM_KEY_DISTRIBUTION, "exponential(180s)",                    \
    "call holding time", 0, 0, NULL },                                                \
  { "inbound_fraction", NATSIM_KEY_DOUBLE, inbound,                                   \
    "share of calls that come in from the cloud", 0, 1, NULL },                       \
  { "video_fraction", NATSIM_KEY_DOUBLE, video, "share of calls with a video stream pair", 0, 1, NULL }

extern const NatsimProfile natsim_profile_cisco_mpp;
extern const NatsimProfile natsim_profile_room_device;
extern const NatsimProfile natsim_profile_webex_desktop;
extern const NatsimProfile natsim_profile_webex_mobile;
extern const NatsimProfile natsim_profile_local_gateway;
extern const NatsimProfile natsim_profile_sip_udp;
