/* natsim: trace replay throughput benchmark.
 *
 * Writes a synthetic UDP capture with NatsimPcapWriter into a temporary
 * directory (so it is read back from the page cache): 20,000 flows from
 * inside hosts in 10.0.0.0/8 to outside servers, each a conversation of
 * requests and replies.  Flows start over the first ten minutes; a third
 * are media-like (about 20 ms between packets), a third chatty (about 1 s),
 * a third keepalive-like (about 15 s); the gaps are exponential and every
 * reply follows its request after a few milliseconds of round trip.  Then,
 * in the same run, it times
 *
 *   - the raw libpcap loop: pcap_open_offline() and pcap_next_ex() counting
 *     records, the most any reader built on libpcap can do;
 *   - natsim_replay() end to end on the same file (linux preset, the
 *     default inside set), wall time of the whole call: its one pass over
 *     the capture, the NAT, the collector and its result;
 *
 * and prints both in packets per second, with their ratio.  Each is the
 * best of a few rounds, so a busy machine disturbs the figures less.  The
 * file is deleted at the end.  Asserts nothing on time; exits non-zero only
 * if something fails (the capture cannot be written or replayed, or replay
 * does not see every packet).
 *
 *   bench-replay [--quick | --replay-only] [PACKETS]
 *
 * --replay-only times natsim_replay() alone, five rounds, for profiling
 * (perf record bench-replay --replay-only).
 */
#include <glib/gstdio.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "natsim/error.h"
#include "natsim/params.h"
#include "natsim/replay.h"

#define N_FLOWS 20000

typedef struct
{
  NatsimTime next;     /* time of the flow's next packet */
  NatsimTime mean_gap; /* mean gap between requests */
  uint32_t   inside, server;
  uint16_t   inside_port, server_port;
  uint16_t   length;
  bool       reply;    /* the next packet is the server's reply */
} Flow;

static uint64_t
xorshift (uint64_t *s)
{
  uint64_t x = *s;

  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

/* Uniform in [0, 1). */
static double
uniform (uint64_t *s)
{
  return (double) (xorshift (s) >> 11) / 9007199254740992.0;
}

/* Exponential with mean @mean ns. */
static NatsimTime
exponential (uint64_t *s, NatsimTime mean)
{
  double u = uniform (s);

  return (NatsimTime) (-log1p (-u) * (double) mean);
}

/* A min-heap of flow indices by next packet time. */
static void
sift_down (guint *heap, guint len, const Flow *flows, guint i)
{
  for (;;)
    {
      guint l = 2 * i + 1, m = i, t;

      if (l < len && flows[heap[l]].next < flows[heap[m]].next)
        m = l;
      if (l + 1 < len && flows[heap[l + 1]].next < flows[heap[m]].next)
        m = l + 1;
      if (m == i)
        return;
      t = heap[i];
      heap[i] = heap[m];
      heap[m] = t;
      i = m;
    }
}

/* Remote ports of the Webex-like mix: SIP, STUN, media, NTP, DNS, other. */
static const uint16_t server_ports[] = { 5060, 5004, 9000, 19560, 33434, 123, 53, 40000 };

static gboolean
write_capture (const char *path, guint64 n_packets, GError **error)
{
  g_autoptr (NatsimPcapWriter) w = NULL;
  g_autofree Flow *flows = g_new0 (Flow, N_FLOWS);
  g_autofree guint *heap = g_new (guint, N_FLOWS);
  uint64_t s = 88172645463325252ull;

  w = natsim_pcap_writer_open (path, error);
  if (w == NULL)
    return FALSE;
  natsim_pcap_writer_set_epoch (w, UINT64_C (1700000000) * NATSIM_NSEC_PER_SEC);
  for (guint i = 0; i < N_FLOWS; i++)
    {
      Flow *f = &flows[i];
      static const NatsimTime gaps[] = { NATSIM_MSEC (20), NATSIM_SEC (1), NATSIM_SEC (15) };

      /* 5,000 inside hosts with 4 flows each, toward 500 servers. */
      f->inside = 0x0a000000u + 1 + (i / 4) / 250 * 256 + (i / 4) % 250;
      f->inside_port = (uint16_t) (20000 + (i % 4) * 1000 + xorshift (&s) % 1000);
      f->server = 0xc6336400u + (uint32_t) (xorshift (&s) % 250)
                  + (i % 2 == 0 ? 0 : 0x05000000u); /* 198.51.100.x, 203.51.100.x */
      f->server_port = server_ports[xorshift (&s) % G_N_ELEMENTS (server_ports)];
      f->mean_gap = gaps[i % 3];
      f->length = (uint16_t) (i % 3 == 0 ? 200 : 60 + xorshift (&s) % 400);
      f->next = (NatsimTime) (uniform (&s) * (double) NATSIM_SEC (600));
      heap[i] = i;
    }
  for (guint i = N_FLOWS / 2; i-- > 0;)
    sift_down (heap, N_FLOWS, flows, i);

  for (guint64 k = 0; k < n_packets; k++)
    {
      Flow *f = &flows[heap[0]];
      NatsimPacket pkt = { 0 };

      pkt.time = f->next;
      pkt.proto = NATSIM_PROTO_UDP;
      pkt.length = f->length;
      if (!f->reply)
        {
          pkt.dir = NATSIM_DIR_OUT;
          pkt.src_addr = f->inside;
          pkt.src_port = f->inside_port;
          pkt.dst_addr = f->server;
          pkt.dst_port = f->server_port;
          /* The reply after a round trip of 2 to 50 ms. */
          f->next += NATSIM_MSEC (2) + xorshift (&s) % NATSIM_MSEC (48);
        }
      else
        {
          pkt.dir = NATSIM_DIR_IN;
          pkt.src_addr = f->server;
          pkt.src_port = f->server_port;
          pkt.dst_addr = f->inside;
          pkt.dst_port = f->inside_port;
          f->next += 1 + exponential (&s, f->mean_gap);
        }
      f->reply = !f->reply;
      if (!natsim_pcap_writer_write_udp (w, &pkt, NULL, 0))
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_IO, "%s: write failed", path);
          return FALSE;
        }
      sift_down (heap, N_FLOWS, flows, 0);
    }
  return natsim_pcap_writer_close (w, error);
}

/* The raw libpcap loop: records per second, or < 0 on failure. */
static double
raw_rate (const char *path, guint64 *ret_packets)
{
  char errbuf[PCAP_ERRBUF_SIZE];
  struct pcap_pkthdr *hdr;
  const u_char *data;
  guint64 n = 0;
  gint64 t0, t1;
  pcap_t *p;
  int rc;

  t0 = g_get_monotonic_time ();
  p = pcap_open_offline (path, errbuf);
  if (p == NULL)
    {
      fprintf (stderr, "bench-replay: %s\n", errbuf);
      return -1;
    }
  while ((rc = pcap_next_ex (p, &hdr, &data)) == 1)
    n++;
  pcap_close (p);
  t1 = g_get_monotonic_time ();
  if (rc != PCAP_ERROR_BREAK)
    return -1;
  *ret_packets = n;
  return (double) n / ((double) MAX (t1 - t0, 1) / 1e6);
}

/* natsim_replay() end to end: packets read per second, or < 0 on failure. */
static double
replay_rate (const NatsimNatConfig *cfg, const NatsimCidrSet *inside, const char *path,
             NatsimReplayInfo *ret_info)
{
  const char *traces[] = { path };
  g_autoptr (GError) error = NULL;
  NatsimRunResult *run;
  gint64 t0, t1;

  t0 = g_get_monotonic_time ();
  run = natsim_replay (cfg, traces, 1, inside, 60 * NATSIM_NSEC_PER_SEC, 1, ret_info, &error);
  t1 = g_get_monotonic_time ();
  if (run == NULL)
    {
      fprintf (stderr, "bench-replay: %s\n", error->message);
      return -1;
    }
  natsim_run_result_free (run);
  return (double) ret_info->packets_read / ((double) MAX (t1 - t0, 1) / 1e6);
}

/* The linux preset's NAT, as `natsim replay` builds it without a scenario. */
static gboolean
linux_config (NatsimNatConfig *ret, GError **error)
{
  g_autoptr (NatsimParams) p = natsim_params_new (natsim_nat_keys);
  const NatsimNatPreset *preset = natsim_nat_preset_lookup ("linux");

  g_assert (preset != NULL);
  for (guint i = 0; preset->values[i] != NULL && preset->values[i + 1] != NULL; i += 2)
    if (!natsim_params_set (p, preset->values[i], preset->values[i + 1], "preset linux", error))
      return FALSE;
  return natsim_nat_config_from_params (p, ret, error);
}

/* Writes the capture to @path and prints the figures; 0 on success. */
static int
run (const char *path, guint64 n_packets, guint rounds, bool replay_only)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimCidrSet) inside = natsim_cidr_set_new_default ();
  double best_raw = 0, best_replay = 0;
  NatsimNatConfig cfg;
  NatsimReplayInfo info = { 0 };
  guint64 raw_packets = 0;
  gint64 t0, t1;
  int status = 0;

  if (!linux_config (&cfg, &error))
    {
      fprintf (stderr, "bench-replay: %s\n", error->message);
      return 1;
    }
  t0 = g_get_monotonic_time ();
  if (!write_capture (path, n_packets, &error))
    {
      fprintf (stderr, "bench-replay: %s\n", error->message);
      natsim_nat_config_clear (&cfg);
      return 1;
    }
  t1 = g_get_monotonic_time ();
  printf ("capture: %" G_GUINT64_FORMAT " UDP packets, %d flows, written in %.1f s\n",
          n_packets, N_FLOWS, (double) (t1 - t0) / 1e6);

  for (guint r = 0; r < rounds && status == 0; r++)
    {
      double raw = replay_only ? 1 : raw_rate (path, &raw_packets);
      double rep = replay_rate (&cfg, inside, path, &info);

      if (replay_only)
        raw_packets = n_packets;
      if (raw < 0 || rep < 0 || raw_packets != n_packets || info.packets_read != n_packets)
        {
          fprintf (stderr, "bench-replay: read %" G_GUINT64_FORMAT " (raw) and %"
                   G_GUINT64_FORMAT " (replay) of %" G_GUINT64_FORMAT " packets\n",
                   raw_packets, info.packets_read, n_packets);
          status = 1;
          break;
        }
      printf ("round %u: raw libpcap loop %.2f Mpackets/s, natsim replay %.2f Mpackets/s\n",
              r + 1, raw / 1e6, rep / 1e6);
      best_raw = MAX (best_raw, raw);
      best_replay = MAX (best_replay, rep);
    }
  natsim_nat_config_clear (&cfg);
  if (status != 0)
    return status;
  if (replay_only)
    {
      printf ("natsim replay end to end: %.2f Mpackets/s (best of %u)\n", best_replay / 1e6,
              rounds);
      return 0;
    }
  printf ("raw libpcap loop: %.2f Mpackets/s (best of %u)\n", best_raw / 1e6, rounds);
  printf ("natsim replay end to end: %.2f Mpackets/s (best of %u; %" G_GUINT64_FORMAT
          " offered out, %" G_GUINT64_FORMAT " in)\n",
          best_replay / 1e6, rounds, info.offered_out, info.offered_in);
  printf ("replay / raw: %.2f (target >= 0.50)\n", best_replay / best_raw);
  return 0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  bool quick = argc > 1 && strcmp (argv[1], "--quick") == 0;
  bool replay_only = argc > 1 && strcmp (argv[1], "--replay-only") == 0;
  guint64 n_packets = quick ? 100000 : 2000000;
  int status;

  if (argc > 1 + (quick || replay_only))
    n_packets = g_ascii_strtoull (argv[1 + (quick || replay_only)], NULL, 10);
  dir = g_dir_make_tmp ("natsim-bench-replay-XXXXXX", &error);
  if (dir == NULL)
    {
      fprintf (stderr, "bench-replay: %s\n", error->message);
      return 1;
    }
  path = g_build_filename (dir, "replay.pcap", NULL);
  status = run (path, n_packets, quick ? 1 : replay_only ? 5 : 3, replay_only);
  g_unlink (path);
  g_rmdir (dir);
  return status;
}
