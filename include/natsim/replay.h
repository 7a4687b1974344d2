/* natsim: trace replay, the second packet source of the engine.
 *
 * natsim_replay() streams one or more captures (merged by timestamp)
 * through one NAT and one collector, as natsim_simulate_replication() does
 * for modelled traffic.  Each decoded IPv4 packet with ports is offered to
 * the NAT by where its addresses lie: inside source and outside destination
 * is outbound, outside source and inside destination is inbound (inside
 * addressing, as a capture taken inside the NAT shows it).  Inside to inside
 * and outside to outside packets are not for the NAT and are only counted.
 *
 * Packets are put in traffic classes by their remote port and protocol
 * (natsim_replay_class_names(), after the seed's port table).
 *
 * The captures are read twice: once to find the end of the run (the time
 * of the last packet), once to replay; memory stays constant whatever the
 * size of the trace. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "natsim/metrics.h"
#include "natsim/nat.h"
#include "natsim/trace.h"

G_BEGIN_DECLS

typedef struct
{
  guint64 packets_read;      /* records taken from the files */
  guint64 packets_decoded;   /* decoded by the reader (IPv4 and IPv6) */
  guint64 offered_out;       /* offered to the NAT as outbound */
  guint64 offered_in;        /* offered to the NAT as inbound */
  guint64 not_translated;    /* inside -> inside, outside -> outside */
  guint64 ipv6;              /* decoded IPv6 packets (not translated by a NAT44) */
  guint64 untranslatable;    /* IPv4 without ports: later fragments, ICMP other than echo */
  guint64 skipped;           /* records the reader could not decode (sum of skipped[]) */
  guint64 skipped_by_reason[NATSIM_TRACE_SKIP_N];
  guint64 mid_stream_tcp;    /* outbound TCP packets that created a binding without SYN */
  NatsimTime end;            /* end of the run: last packet time + 1 ns */
  NatsimTime interval;       /* timeline interval used (widened for long traces) */
} NatsimReplayInfo;

/* The traffic class names, in class order (static, NULL-terminated). */
const char *const *natsim_replay_class_names (void);
guint natsim_replay_n_classes (void);

/* The class index of a packet by its remote port and protocol. */
guint natsim_replay_classify (uint8_t proto, uint16_t remote_port);

/* Replays @traces (@n paths; "-" is standard input, which can only be read
 * once and is therefore refused) through a NAT built from @cfg, with
 * inside addresses @inside, a timeline of @interval buckets (widened so that
 * the timeline has at most a million points) and NAT random streams from
 * @seed.  Open and read errors fail with NATSIM_ERROR_INVALID_INPUT naming
 * the file.  @ret_info may be NULL. */
NatsimRunResult *natsim_replay (const NatsimNatConfig *cfg,
                                const char *const *traces, guint n,
                                const NatsimCidrSet *inside,
                                NatsimTime interval, uint64_t seed,
                                NatsimReplayInfo *ret_info, GError **error);

G_END_DECLS
