/* natsim: the trace replay driver.
 *
 * Two passes over the captures: the first finds the end of the run (the
 * time of the last decoded packet), so the collector's window and timeline
 * are known before any packet is offered; the second offers every IPv4
 * packet with ports that crosses the inside/outside boundary to the NAT and
 * the collector, as natsim_simulate_replication() does for modelled
 * traffic.  The per-packet path allocates nothing and uses no GError.
 */
#include <string.h>

#include "natsim/error.h"
#include "natsim/replay.h"
#include "natsim/rng.h"

/* The most timeline points (as the scenario's timeline_interval check). */
#define REPLAY_TIMELINE_MAX_POINTS UINT64_C (1000000)

/* Traffic classes by remote port, after the seed's port table
 * (REFERENCE.md section 1).  The order is the class index. */
enum
{
  CLASS_SIP_TLS,
  CLASS_SIP_TRUNK_TLS,
  CLASS_SIP,
  CLASS_STUN,
  CLASS_APP_AUDIO,
  CLASS_APP_VIDEO,
  CLASS_DEVICE_MEDIA,
  CLASS_NTP,
  CLASS_DNS,
  CLASS_HTTPS,
  CLASS_PUSH,
  CLASS_OTHER_UDP,
  CLASS_OTHER_TCP,
  CLASS_ICMP,
  CLASS_N
};

static const char *const class_names[CLASS_N + 1] = {
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
  return CLASS_N;
}

guint
natsim_replay_classify (uint8_t proto, uint16_t port)
{
  if (proto == NATSIM_PROTO_ICMP)
    return CLASS_ICMP;
  if (port == 123)
    return CLASS_NTP;
  if (port == 53)
    return CLASS_DNS;
  if (port == 5060 || port == 5061)
    return CLASS_SIP;
  if (proto == NATSIM_PROTO_TCP)
    {
      if (port == 8934)
        return CLASS_SIP_TLS;
      if (port == 5062)
        return CLASS_SIP_TRUNK_TLS;
      if (port == 443 || port == 8443)
        return CLASS_HTTPS;
      if (port == 2197 || port == 5223 || (port >= 5228 && port <= 5230))
        return CLASS_PUSH;
      return CLASS_OTHER_TCP;
    }
  if (port == 5004 || port == 9000 || port == 3478)
    return CLASS_STUN;
  if (port >= 8500 && port <= 8599)
    return CLASS_APP_AUDIO;
  if (port >= 8600 && port <= 8699)
    return CLASS_APP_VIDEO;
  if (port >= 19560 && port <= 19660)
    return CLASS_DEVICE_MEDIA;
  return CLASS_OTHER_UDP;
}

/* The reader's pending error as a GError of ours (exit 2, naming the file). */
static void
set_read_error (const NatsimTraceReader *r, GError **error)
{
  const GError *e = natsim_trace_reader_error (r);

  g_set_error_literal (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       e != NULL ? e->message : "trace read error");
}

/* First pass: the time of the last decoded packet. */
static gboolean
find_end (const char *const *traces, guint n, NatsimTime *ret_last, gboolean *ret_any,
          GError **error)
{
  g_autoptr (NatsimTraceReader) r = natsim_trace_reader_open (traces, n, error);
  NatsimTracePacket tp;
  NatsimTraceResult res;

  if (r == NULL)
    return FALSE;
  *ret_last = 0;
  *ret_any = FALSE;
  while ((res = natsim_trace_reader_next (r, &tp)) == NATSIM_TRACE_PACKET)
    {
      *ret_last = tp.time;
      *ret_any = TRUE;
    }
  if (res == NATSIM_TRACE_ERROR)
    {
      set_read_error (r, error);
      return FALSE;
    }
  return TRUE;
}

NatsimRunResult *
natsim_replay (const NatsimNatConfig *cfg, const char *const *traces, guint n,
               const NatsimCidrSet *inside, NatsimTime interval, uint64_t seed,
               NatsimReplayInfo *ret_info, GError **error)
{
  g_autoptr (gsl_rng) nat_rng = NULL;
  g_autoptr (NatsimNat) nat = NULL;
  g_autoptr (NatsimCollector) collector = NULL;
  g_autoptr (NatsimTraceReader) reader = NULL;
  NatsimReplayInfo info = { 0 };
  const NatsimTraceStats *st;
  NatsimTracePacket tp;
  NatsimTraceResult res;
  NatsimTime last = 0, end;
  gboolean any = FALSE;

  g_return_val_if_fail (cfg != NULL && inside != NULL, NULL);
  g_return_val_if_fail (n > 0 && traces != NULL, NULL);

  if (interval == 0)
    interval = 60 * NATSIM_NSEC_PER_SEC;
  for (guint i = 0; i < n; i++)
    if (strcmp (traces[i], "-") == 0)
      {
        g_set_error_literal (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                             "-: replay reads its traces twice; standard input cannot be "
                             "replayed (save it to a file first)");
        return NULL;
      }

  if (!find_end (traces, n, &last, &any, error))
    return NULL;
  end = any ? last + 1 : 1;
  while (end / interval > REPLAY_TIMELINE_MAX_POINTS)
    interval *= 2;

  reader = natsim_trace_reader_open (traces, n, error);
  if (reader == NULL)
    return NULL;
  nat_rng = natsim_rng_new (seed, 0, "nat");
  nat = natsim_nat_new (cfg, nat_rng);
  collector = natsim_collector_new (nat, CLASS_N, cfg->n_addresses, 0, end, interval);
  natsim_nat_set_observer (nat, natsim_collector_on_nat_event, collector);

  while ((res = natsim_trace_reader_next (reader, &tp)) == NATSIM_TRACE_PACKET)
    {
      NatsimPacket pkt;
      NatsimNatResult nr;
      bool src_in, dst_in, outbound;

      if (tp.ip_version != 4)
        {
          info.ipv6++;
          continue;
        }
      src_in = natsim_cidr_set_contains_ipv4 (inside, tp.src4);
      dst_in = natsim_cidr_set_contains_ipv4 (inside, tp.dst4);
      if (src_in == dst_in)
        {
          info.not_translated++;
          continue;
        }
      outbound = src_in;
      if (!natsim_trace_packet_to_nat (&tp, outbound, &pkt))
        {
          info.untranslatable++;
          continue;
        }
      pkt.cls = (uint16_t) natsim_replay_classify (pkt.proto,
                                                   outbound ? pkt.dst_port : pkt.src_port);
      if (outbound)
        info.offered_out++;
      else
        info.offered_in++;
      natsim_collector_advance (collector, pkt.time);
      natsim_nat_process (nat, &pkt, &nr);
      natsim_collector_on_packet (collector, &pkt, &nr);
      /* A TCP connection whose first packet seen is not a SYN: the NAT
       * picks it up mid-stream, as Linux conntrack's loose tracking. */
      if (outbound && pkt.proto == NATSIM_PROTO_TCP && nr.new_binding &&
          (pkt.tcp_flags & NATSIM_TCP_SYN) == 0)
        info.mid_stream_tcp++;
    }
  if (res == NATSIM_TRACE_ERROR)
    {
      /* The first pass read the same files; a file that changed since is
       * still an input error. */
      set_read_error (reader, error);
      return NULL;
    }

  st = natsim_trace_reader_stats (reader);
  info.packets_read = st->packets_read;
  info.packets_decoded = st->packets_decoded;
  info.skipped = st->packets_skipped;
  memcpy (info.skipped_by_reason, st->skipped, sizeof info.skipped_by_reason);
  info.end = end;
  info.interval = interval;
  if (ret_info != NULL)
    *ret_info = info;
  return natsim_collector_finish (collector);
}
