/* natsim: traffic classes by port and protocol.
 *
 * The classifier replay, analyze and plan share (src/trace/classify.c):
 * packets are put in classes by their remote port and protocol after the
 * Webex port table (docs/reference.md section 1); the names keep the
 * natsim_replay_ prefix they were introduced with.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Traffic classes by remote port, after the seed's port table
 * (docs/reference.md section 1).  The order is the class index (and the order
 * of per_class in report.json and classes in analysis.json). */
typedef enum
{
  NATSIM_CLASS_SIP_TLS,        /* TCP 8934 (registration trunk, devices, app) */
  NATSIM_CLASS_SIP_TRUNK_TLS,  /* TCP 5062 (certificate-based trunk) */
  NATSIM_CLASS_SIP,            /* 5060, 5061 (clear-text SIP, SIP to the PSTN gateway) */
  NATSIM_CLASS_STUN,           /* UDP 5004, 9000 (and 3478) */
  NATSIM_CLASS_APP_AUDIO,      /* UDP 8500-8599 */
  NATSIM_CLASS_APP_VIDEO,      /* UDP 8600-8699 */
  NATSIM_CLASS_DEVICE_MEDIA,   /* UDP 19560-19660 */
  NATSIM_CLASS_NTP,            /* 123 */
  NATSIM_CLASS_DNS,            /* 53 */
  NATSIM_CLASS_HTTPS,          /* TCP 443, 8443 */
  NATSIM_CLASS_PUSH,           /* TCP 2197, 5223, 5228-5230 */
  NATSIM_CLASS_OTHER_UDP,
  NATSIM_CLASS_OTHER_TCP,
  NATSIM_CLASS_ICMP,
  NATSIM_CLASS_N
} NatsimTrafficClass;

/* The traffic class names, in class order (static, NULL-terminated). */
const char *const *natsim_replay_class_names (void);
guint natsim_replay_n_classes (void);

/* The class index of a packet by its remote port and protocol. */
guint natsim_replay_classify (uint8_t proto, uint16_t remote_port);

/* The class of a flow by both its ports: by the remote port first; UDP
 * whose remote port is unknown or in the media range 19560-19660 (which the
 * cloud's media ports 19560-65535 overlap) is classed by the local port
 * when it lies in a range the seed assigns to endpoint media (app audio
 * 8500-8599, app video 8600-8699, device media 19560-19660).  Replay and
 * analyze use this one classifier. */
guint natsim_replay_classify_flow (uint8_t proto, uint16_t local_port,
                                   uint16_t remote_port);

/* The index of class @name, or -1. */
int natsim_replay_class_index (const char *name);

G_END_DECLS
