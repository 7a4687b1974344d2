/* natsim analysis: the seed's tables `natsim analyze` compares captures
 * with (docs/reference.md section 1): the Webex subnets, the DSCP marking
 * of the QoS table, the transport of each traffic class.
 */
#include "natsim/analyze.h"
#include "natsim/nat.h"
#include "natsim/replay.h"

typedef struct
{
  uint8_t     a, b, c, d, len;
  const char *purpose;
} Subnet;

/* Webex Calling cloud subnets, then the app configuration ranges (TCP 443,
 * 8443).  150.253.128.0/17 is in both lists; the first match wins. */
static const Subnet webex_subnets[] = {
  { 23, 89, 0, 0, 16, "calling" },     { 85, 119, 56, 0, 23, "calling" },
  { 128, 177, 14, 0, 24, "calling" },  { 128, 177, 36, 0, 24, "calling" },
  { 135, 84, 168, 0, 21, "calling" },  { 139, 177, 64, 0, 21, "calling" },
  { 139, 177, 72, 0, 23, "calling" },  { 144, 196, 0, 0, 16, "calling" },
  { 150, 253, 128, 0, 17, "calling" }, { 163, 129, 0, 0, 16, "calling" },
  { 170, 72, 0, 0, 16, "calling" },    { 170, 133, 128, 0, 18, "calling" },
  { 185, 115, 196, 0, 22, "calling" }, { 199, 19, 196, 0, 23, "calling" },
  { 199, 19, 199, 0, 24, "calling" },  { 199, 59, 64, 0, 21, "calling" },
  { 62, 109, 192, 0, 18, "app-config" }, { 64, 68, 96, 0, 19, "app-config" },
  { 150, 253, 128, 0, 17, "app-config" }, { 207, 182, 160, 0, 19, "app-config" },
};

const char *
natsim_webex_subnet (uint32_t addr)
{
  for (guint i = 0; i < G_N_ELEMENTS (webex_subnets); i++)
    {
      const Subnet *s = &webex_subnets[i];
      uint32_t net = ((uint32_t) s->a << 24) | ((uint32_t) s->b << 16) |
                     ((uint32_t) s->c << 8) | s->d;
      uint32_t mask = s->len == 0 ? 0 : UINT32_MAX << (32 - s->len);

      if ((addr & mask) == net)
        return s->purpose;
    }
  return NULL;
}

/* The DSCP values the seed's QoS table prescribes for packets an endpoint
 * sends in class @cls from @local_port: a bit set of DSCP values, 0 when
 * the table says nothing. */
uint64_t
natsim_analysis_dscp_expected (guint cls, uint16_t local_port)
{
  switch (cls)
    {
    case NATSIM_CLASS_APP_AUDIO:
      return UINT64_C (1) << 46;                          /* EF */
    case NATSIM_CLASS_APP_VIDEO:
      return UINT64_C (1) << 34;                          /* AF41 */
    case NATSIM_CLASS_DEVICE_MEDIA:
      return (UINT64_C (1) << 46) | (UINT64_C (1) << 34); /* audio EF, video AF41 */
    case NATSIM_CLASS_SIP_TLS:
      /* Devices signal from 5060-5080 with CS3, the app with CS0. */
      return local_port >= 5060 && local_port <= 5080 ? UINT64_C (1) << 24 : UINT64_C (1);
    default:
      return 0;
    }
}

/* The transport of a class's flows: TCP for the TCP services of the port
 * table, none for ICMP, else UDP (DNS and NTP included; "sip" may be
 * either, and is counted as UDP, its usual transport). */
uint8_t
natsim_analysis_class_proto (guint cls)
{
  switch (cls)
    {
    case NATSIM_CLASS_SIP_TLS:
    case NATSIM_CLASS_SIP_TRUNK_TLS:
    case NATSIM_CLASS_HTTPS:
    case NATSIM_CLASS_PUSH:
    case NATSIM_CLASS_OTHER_TCP:
      return NATSIM_PROTO_TCP;
    case NATSIM_CLASS_ICMP:
      return 0;
    default:
      return NATSIM_PROTO_UDP;
    }
}

