/* natsim: configuration checks against BCP 127 and the Webex Calling
 * guidance (REFERENCE.md sections 1 and 2).  Each check has a stable id
 * that report.json "warnings" and `natsim check` use. */
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

GPtrArray *
natsim_check_scenario (const NatsimScenario *s)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) check_free);
  const NatsimParams *n = s->nat;
  double udp = natsim_time_to_sec (natsim_params_get_duration (n, "udp_timeout"));
  double stream = natsim_time_to_sec (natsim_params_get_duration (n, "udp_stream_timeout"));
  double est = natsim_time_to_sec (natsim_params_get_duration (n, "tcp_established_timeout"));
  double trans = natsim_time_to_sec (natsim_params_get_duration (n, "tcp_transitory_timeout"));
  double icmp = natsim_time_to_sec (natsim_params_get_duration (n, "icmp_timeout"));
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
    add (out, "rfc4787.req4",
         "parity = false: RFC 4787 REQ-4 recommends port parity preservation "
         "(RTP on even, RTCP on the next odd port)");
  if (udp < 120.0)
    add (out, "rfc4787.req5",
         "udp_timeout = %s is under the 2 min that RFC 4787 REQ-5 requires",
         natsim_params_get (n, "udp_timeout"));
  if (stream < 120.0)
    add (out, "rfc4787.req5",
         "udp_stream_timeout = %s is under the 2 min that RFC 4787 REQ-5 requires",
         natsim_params_get (n, "udp_stream_timeout"));
  if (natsim_params_get_enum (n, "filtering") == NATSIM_FILTER_APDF)
    add (out, "rfc4787.req8",
         "filtering = address-port-dependent: RFC 4787 REQ-8 recommends endpoint-independent "
         "or address-dependent filtering for application transparency");
  if (natsim_params_get_bool (n, "sip_alg"))
    add (out, "rfc4787.req10",
         "sip_alg = true: disable the SIP ALG (RFC 4787 REQ-10; the Webex Calling guidance "
         "says not to manipulate SIP on the NAT)");
  if (est < 7440.0)
    add (out, "rfc5382.req5",
         "tcp_established_timeout = %s is under the 2 h 4 min (7440 s) of RFC 5382 REQ-5",
         natsim_params_get (n, "tcp_established_timeout"));
  if (trans < 240.0)
    add (out, "rfc5382.req5",
         "tcp_transitory_timeout = %s is under the 4 min (240 s) of RFC 5382 REQ-5",
         natsim_params_get (n, "tcp_transitory_timeout"));
  if (icmp < 60.0)
    add (out, "rfc5508.req",
         "icmp_timeout = %s is under the 60 s that RFC 5508 requires for ICMP query mappings",
         natsim_params_get (n, "icmp_timeout"));
  if (est < 1800.0)
    add (out, "webex.tcp_timeout",
         "tcp_established_timeout = %s: the Webex Calling guidance asks for at least "
         "30 minutes on NAT and SPI devices (mobile keepalives are ~30 min)",
         natsim_params_get (n, "tcp_established_timeout"));
  return out;
}
