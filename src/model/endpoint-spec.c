/* natsim: an EndpointSpec without running it: the key readers the VoIP
 * profiles share, and what a spec implies for the configuration checks and
 * the planner (refresh gaps, port demand) in closed form.  The population
 * that runs a spec is in endpoint.c.
 */
#include <math.h>
#include <string.h>

#include "endpoint.h"
#include "natsim/error.h"

/* ---- key readers shared by the profiles ---- */

void
endpoint_read_common_keys (const NatsimParams *p, EndpointSpec *spec)
{
  spec->count = (guint) natsim_params_get_uint (p, "count");
  spec->start_spread = natsim_params_get_duration (p, "start_spread");
  spec->media_interval = natsim_params_get_duration (p, "media_packet_interval");
  spec->rtcp_interval = natsim_params_get_duration (p, "rtcp_interval");
}

void
endpoint_read_call_keys (const NatsimParams *p, EndpointSpec *spec)
{
  spec->calls_per_hour = natsim_params_get_double (p, "calls_per_hour");
  spec->curve = endpoint_curve (natsim_params_get_enum (p, "busy_hour_profile"));
  spec->start_hour = natsim_params_get_double (p, "start_hour");
  natsim_params_get_dist (p, "call_duration", &spec->duration);
  spec->inbound_fraction = natsim_params_get_double (p, "inbound_fraction");
  spec->video_fraction = natsim_params_get_double (p, "video_fraction");
}

void
endpoint_webex_cloud_media (const NatsimParams *p, EndpointSpec *spec, uint16_t stun_port)
{
  spec->media_net = WEBEX_MEDIA_NET;
  spec->media_mask = 0xffff;
  natsim_params_get_port_range (p, "cloud_media_ports", &spec->media_port_lo,
                                &spec->media_port_hi);
  spec->stun.addr = WEBEX_STUN;
  spec->stun.port = stun_port;
  spec->dscp_audio = DSCP_EF;
  spec->dscp_video = DSCP_AF41;
}

guint
endpoint_n_hosts (const NatsimParams *p)
{
  return (guint) natsim_params_get_uint (p, "count");
}

gboolean
endpoint_validate_media (const NatsimParams *p, const char *key, GError **error)
{
  uint16_t lo, hi;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  natsim_params_get_port_range (p, key, &lo, &hi);
  if (((lo + 1u) & ~1u) + 1u > hi)
    {
      natsim_set_key_error (error, key, "%u-%u holds no even/odd (RTP/RTCP) port pair", lo, hi);
      return FALSE;
    }
  return TRUE;
}

/* ---- what the configuration checks need ---- */

void
endpoint_refresh_gaps (const EndpointSpec *s, NatsimRefreshNeed *out, guint *n)
{
  *n = 0;
  if (!s->sig_on_demand)
    {
      NatsimRefreshNeed *r = &out[(*n)++];
      bool ka = s->keepalive != KEEPALIVE_NONE && s->ka_hi > 0 && s->ka_hi < s->reg_hi;

      r->proto = s->sig_proto;
      r->what = ka ? (s->sig_proto == NATSIM_PROTO_UDP ? "SIP keepalive" : "SIP-TLS keepalive")
                   : (s->sig_proto == NATSIM_PROTO_UDP ? "SIP REGISTER refresh"
                                                       : "SIP-TLS REGISTER refresh");
      r->key = ka ? "keepalive_interval" : "register_interval";
      r->gap_lo = ka ? s->ka_lo : s->reg_lo;
      r->gap_hi = ka ? s->ka_hi : s->reg_hi;
      r->replies = s->sig_proto == NATSIM_PROTO_TCP || !ka || s->keepalive == KEEPALIVE_STUN;
      r->keepalive = ka;
      r->reachability = !s->aux_reach;
    }
  if (s->aux_dst.port != 0 && *n < NATSIM_REFRESH_NEEDS_MAX)
    {
      NatsimRefreshNeed *r = &out[(*n)++];
      r->proto = NATSIM_PROTO_TCP;
      r->what = s->aux_what;
      r->key = s->aux_reach ? "push_keepalive" : "websocket_keepalive";
      r->gap_lo = s->aux_lo;
      r->gap_hi = s->aux_hi;
      r->replies = true;
      r->keepalive = true;
      r->reachability = s->aux_reach;
    }
}

void
endpoint_port_demand (const EndpointSpec *s, NatsimPortDemand *out)
{
  double a = (double) s->count * s->calls_per_hour * natsim_dist_mean (&s->duration)
             / (3600.0 * (double) NATSIM_NSEC_PER_SEC);
  double per_host = s->count > 0 ? a / s->count : 0.0;

  memset (out, 0, sizeof *out);
  out->endpoints = s->count;
  /* Background exchanges (NTP, HTTPS) hold a mapping for a timeout out of
   * every period of minutes: about a tenth of a port per host. */
  out->long_lived = (s->sig_on_demand ? 0.0 : 1.0) + (s->aux_dst.port != 0 ? 1.0 : 0.0)
                    + (s->n_background > 0 ? 0.1 : 0.0);
  /* A Poisson number of calls in progress: mean plus three standard
   * deviations covers the busy hour with room. */
  out->peak_calls = a > 0 ? ceil (a + 3.0 * sqrt (a)) : 0.0;
  out->ports_per_call = s->calls_per_hour > 0 ? 2.0 + 2.0 * s->video_fraction : 0.0;
  if (s->max_calls == 1)
    out->peak_calls_per_host = a > 0 ? 1.0 : 0.0;
  else
    out->peak_calls_per_host = per_host > 0 ? ceil (per_host + 3.0 * sqrt (per_host)) : 0.0;
  if (s->max_calls > 0)
    out->peak_calls_per_host = MIN (out->peak_calls_per_host, (double) s->max_calls);
  out->media_pairs = s->calls_per_hour > 0;
}
