/* natsim trace: traffic classes by port, after the Webex port table.
 *
 * The one classifier of replay, analyze and plan (natsim/classify.h):
 * packet decoding, so it lives with the decoders.  Plain C, no allocation.
 */
#include "natsim/classify.h"
#include "natsim/nat.h"

static const char *const class_names[NATSIM_CLASS_N + 1] = {
  "sip-tls", "sip-trunk-tls", "sip", "stun", "app-audio", "app-video",
  "device-media", "ntp", "dns", "https", "push", "other-udp", "other-tcp",
  "icmp", NULL
};

const char *const *
natsim_replay_class_names (void)
{
  return class_names;
}

guint
natsim_replay_n_classes (void)
{
  return NATSIM_CLASS_N;
}

guint
natsim_replay_classify (uint8_t proto, uint16_t port)
{
  if (proto == NATSIM_PROTO_ICMP)
    return NATSIM_CLASS_ICMP;
  if (port == 123)
    return NATSIM_CLASS_NTP;
  if (port == 53)
    return NATSIM_CLASS_DNS;
  if (port == 5060 || port == 5061)
    return NATSIM_CLASS_SIP;
  if (proto == NATSIM_PROTO_TCP)
    {
      if (port == 8934)
        return NATSIM_CLASS_SIP_TLS;
      if (port == 5062)
        return NATSIM_CLASS_SIP_TRUNK_TLS;
      if (port == 443 || port == 8443)
        return NATSIM_CLASS_HTTPS;
      if (port == 2197 || port == 5223 || (port >= 5228 && port <= 5230))
        return NATSIM_CLASS_PUSH;
      return NATSIM_CLASS_OTHER_TCP;
    }
  if (port == 5004 || port == 9000 || port == 3478)
    return NATSIM_CLASS_STUN;
  if (port >= 8500 && port <= 8599)
    return NATSIM_CLASS_APP_AUDIO;
  if (port >= 8600 && port <= 8699)
    return NATSIM_CLASS_APP_VIDEO;
  if (port >= 19560 && port <= 19660)
    return NATSIM_CLASS_DEVICE_MEDIA;
  return NATSIM_CLASS_OTHER_UDP;
}

guint
natsim_replay_classify_flow (uint8_t proto, uint16_t local_port, uint16_t remote_port)
{
  guint c = natsim_replay_classify (proto, remote_port);

  /* Media toward the cloud relay or a peer goes to any port in
   * 19560-65535, so a remote port there says little; the endpoint's own
   * port tells what it is (docs/reference.md section 1: the app sends audio from
   * 8500-8599, video from 8600-8699, devices from 19560-19660). */
  if (c == NATSIM_CLASS_OTHER_UDP || c == NATSIM_CLASS_DEVICE_MEDIA)
    {
      if (local_port >= 8500 && local_port <= 8599)
        return NATSIM_CLASS_APP_AUDIO;
      if (local_port >= 8600 && local_port <= 8699)
        return NATSIM_CLASS_APP_VIDEO;
      if (local_port >= 19560 && local_port <= 19660)
        return NATSIM_CLASS_DEVICE_MEDIA;
    }
  return c;
}

int
natsim_replay_class_index (const char *name)
{
  for (int i = 0; i < NATSIM_CLASS_N; i++)
    if (g_strcmp0 (class_names[i], name) == 0)
      return i;
  return -1;
}
