/* natsim: trace replay throughput benchmark.
 *
 * Writes two synthetic UDP captures with NatsimPcapWriter into a temporary
 * directory (so they are read back from the page cache), of the same
 * number of packets in 20,000 flows:
 *
 *   - "ordered": flows from inside hosts in 10.0.0.0/8 (5,000 hosts with
 *     4 flows each) to 500 outside servers, each a conversation of requests
 *     and replies.  Flows start over the first ten minutes; a third are
 *     media-like (about 20 ms between packets), a third chatty (about 1 s),
 *     a third keepalive-like (about 15 s); the gaps are exponential and
 *     every reply follows its request after a few milliseconds of round
 *     trip.  Consecutive packets mostly belong to few, recently seen flows.
 *   - "interleaved": each packet belongs to one of the 20,000 flows drawn
 *     uniformly at random, 40 % of them inbound; every flow has its own
 *     inside host (random in 10.0.0.0/8) and its own outside server
 *     (random in public space), so 40,000 distinct addresses; about 100 us
 *     between packets.  No locality at all: the worst case for the NAT's
 *     tables and the inside/outside test.
 *
 * Then, in rounds that alternate the shapes (so that a load on the machine
 * hits both alike), it times on each file
 *
 *   - the raw libpcap loop: pcap_open_offline() and pcap_next_ex() counting
 *     records, the most any reader built on libpcap can do;
 *   - natsim_replay() end to end on the same file (linux preset, the
 *     default inside set), wall time of the whole call: its one pass over
 *     the capture, the NAT, the collector and its result;
 *
 * and prints both in packets per second with their ratio, per round and
 * over the rounds (median, lowest and highest of the per-round ratios, each
 * taken on one file within one round).  The ratio of wall times is the
 * figure; the ratio of CPU times (user and system, this process) is
 * printed beside it because it moves less when other programs take the
 * processor away.  Both files are deleted at the end.
 * Asserts nothing on time; exits non-zero only if something fails (a
 * capture cannot be written or replayed, or replay does not see every
 * packet).
 *
 *   bench-replay [--quick | --replay-only[=SHAPE] | --keep=DIR] [PACKETS]
 *
 * --quick: 100,000 packets a shape, one round (the smoke test).
 * --replay-only times natsim_replay() alone, five rounds, on both shapes or
 * on SHAPE (ordered or interleaved), for profiling (perf record
 * bench-replay --replay-only=interleaved).  --keep=DIR writes the captures
 * to DIR/replay-ordered.pcap and DIR/replay-interleaved.pcap, times
 * nothing and keeps them.
 */
#include <glib/gstdio.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "natsim/error.h"
#include "natsim/params.h"
#include "natsim/replay.h"

#include "bench-common.h"

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

/* A UDP packet of flow @f at @t, from the inside host when @out, else
 * from the server. */
static NatsimPacket
flow_packet (const Flow *f, NatsimTime t, bool out)
{
  NatsimPacket pkt = { 0 };

  pkt.time = t;
  pkt.proto = NATSIM_PROTO_UDP;
  pkt.length = f->length;
  pkt.dir = out ? NATSIM_DIR_OUT : NATSIM_DIR_IN;
  pkt.src_addr = out ? f->inside : f->server;
  pkt.src_port = out ? f->inside_port : f->server_port;
  pkt.dst_addr = out ? f->server : f->inside;
  pkt.dst_port = out ? f->server_port : f->inside_port;
  return pkt;
}

/* A capture whose times start at a fixed date (2023-11-14). */
static NatsimPcapWriter *
open_writer (const char *path, GError **error)
{
  NatsimPcapWriter *w = natsim_pcap_writer_open (path, error);

  if (w != NULL)
    natsim_pcap_writer_set_epoch (w, UINT64_C (1700000000) * NATSIM_NSEC_PER_SEC);
  return w;
}

/* The ordered shape (see the top of the file). */
static gboolean
write_ordered (const char *path, guint64 n_packets, GError **error)
{
  g_autoptr (NatsimPcapWriter) w = NULL;
  g_autofree Flow *flows = g_new0 (Flow, N_FLOWS);
  g_autofree guint *heap = g_new (guint, N_FLOWS);
  uint64_t s = 88172645463325252ull;

  w = open_writer (path, error);
  if (w == NULL)
    return FALSE;
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
      NatsimPacket pkt = flow_packet (f, f->next, !f->reply);

      if (!f->reply)
        /* The reply after a round trip of 2 to 50 ms. */
        f->next += NATSIM_MSEC (2) + xorshift (&s) % NATSIM_MSEC (48);
      else
        f->next += 1 + exponential (&s, f->mean_gap);
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

/* A random public (outside) address: not in 0/8, 10/8, 100.64/10,
 * 127/8, 169.254/16, 172.16/12, 192.168/16 nor 224/3. */
static uint32_t
public_address (uint64_t *s)
{
  for (;;)
    {
      uint32_t a = (uint32_t) (xorshift (s) >> 16);
      uint32_t top = a >> 24;

      if (top == 0 || top == 10 || top == 127 || top >= 224
          || (a & 0xffc00000u) == 0x64400000u || (a & 0xffff0000u) == 0xa9fe0000u
          || (a & 0xfff00000u) == 0xac100000u || (a & 0xffff0000u) == 0xc0a80000u)
        continue;
      return a;
    }
}

/* The interleaved shape (see the top of the file). */
static gboolean
write_interleaved (const char *path, guint64 n_packets, GError **error)
{
  g_autoptr (NatsimPcapWriter) w = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autofree Flow *flows = g_new0 (Flow, N_FLOWS);
  uint64_t s = 0x9e3779b97f4a7c15ull;
  NatsimTime now = 0;

  w = open_writer (path, error);
  if (w == NULL)
    return FALSE;
  /* 40,000 distinct addresses: redraw any address already taken. */
  for (guint i = 0; i < N_FLOWS; i++)
    {
      Flow *f = &flows[i];

      do
        f->inside = 0x0a000000u + 1 + (uint32_t) (xorshift (&s) % 0xfffffeu);
      while (g_hash_table_contains (seen, GUINT_TO_POINTER (f->inside)));
      g_hash_table_add (seen, GUINT_TO_POINTER (f->inside));
      do
        f->server = public_address (&s);
      while (g_hash_table_contains (seen, GUINT_TO_POINTER (f->server)));
      g_hash_table_add (seen, GUINT_TO_POINTER (f->server));
      f->inside_port = (uint16_t) (1024 + xorshift (&s) % 64512);
      f->server_port = server_ports[xorshift (&s) % G_N_ELEMENTS (server_ports)];
      f->length = (uint16_t) (i % 3 == 0 ? 200 : 60 + xorshift (&s) % 400);
    }

  for (guint64 k = 0; k < n_packets; k++)
    {
      Flow *f = &flows[xorshift (&s) % N_FLOWS];
      NatsimPacket pkt;

      now += 1 + exponential (&s, 100 * 1000);
      pkt = flow_packet (f, now, xorshift (&s) % 5 >= 2);
      if (!natsim_pcap_writer_write_udp (w, &pkt, NULL, 0))
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_IO, "%s: write failed", path);
          return FALSE;
        }
    }
  return natsim_pcap_writer_close (w, error);
}

/* CPU time of this process (user and system), seconds. */
static double
cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* The raw libpcap loop: records per second of wall time, or < 0 on
 * failure; *ret_cpu: the CPU seconds it took. */
static double
raw_rate (const char *path, guint64 *ret_packets, double *ret_cpu)
{
  double c0 = cpu_seconds ();
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
  *ret_cpu = cpu_seconds () - c0;
  if (rc != PCAP_ERROR_BREAK)
    return -1;
  *ret_packets = n;
  return (double) n / ((double) MAX (t1 - t0, 1) / 1e6);
}

/* natsim_replay() end to end: packets read per second of wall time, or
 * < 0 on failure; *ret_cpu: the CPU seconds it took. */
static double
replay_rate (const NatsimNatConfig *cfg, const NatsimCidrSet *inside, const char *path,
             NatsimReplayInfo *ret_info, double *ret_cpu)
{
  double c0 = cpu_seconds ();
  const char *traces[] = { path };
  g_autoptr (GError) error = NULL;
  NatsimRunResult *run;
  gint64 t0, t1;

  t0 = g_get_monotonic_time ();
  run = natsim_replay (cfg, traces, 1, inside, 60 * NATSIM_NSEC_PER_SEC, 1, ret_info, &error);
  t1 = g_get_monotonic_time ();
  *ret_cpu = cpu_seconds () - c0;
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

typedef struct
{
  const char *name;
  gboolean  (*write) (const char *path, guint64 n_packets, GError **error);
  char       *path;
  double      ratio[16];     /* replay / raw packet rates (wall time), per round */
  double      cpu_ratio[16]; /* the same by CPU time */
  double      best_raw, best_replay;
  NatsimReplayInfo info;
} Shape;

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* One round on one shape: the raw loop then replay, on the same file;
 * 0 on success. */
static int
time_shape (Shape *sh, const NatsimNatConfig *cfg, const NatsimCidrSet *inside,
            guint64 n_packets, guint r, bool replay_only)
{
  guint64 raw_packets = n_packets;
  double raw_cpu = 1, rep_cpu = 1;
  double raw = replay_only ? 1 : raw_rate (sh->path, &raw_packets, &raw_cpu);
  double rep = replay_rate (cfg, inside, sh->path, &sh->info, &rep_cpu);

  if (raw < 0 || rep < 0 || raw_packets != n_packets || sh->info.packets_read != n_packets)
    {
      fprintf (stderr, "bench-replay: %s: read %" G_GUINT64_FORMAT " (raw) and %"
               G_GUINT64_FORMAT " (replay) of %" G_GUINT64_FORMAT " packets\n",
               sh->name, raw_packets, sh->info.packets_read, n_packets);
      return 1;
    }
  if (replay_only)
    printf ("round %u, %-11s: natsim replay %.2f Mpackets/s\n", r + 1, sh->name, rep / 1e6);
  else
    printf ("round %u, %-11s: raw libpcap loop %.2f Mpackets/s, natsim replay %.2f "
            "Mpackets/s, ratio %.2f (by CPU time %.2f)\n", r + 1, sh->name, raw / 1e6,
            rep / 1e6, rep / raw, raw_cpu / MAX (rep_cpu, 1e-9));
  fflush (stdout);
  sh->ratio[r] = rep / raw;
  sh->cpu_ratio[r] = raw_cpu / MAX (rep_cpu, 1e-9);
  sh->best_raw = MAX (sh->best_raw, raw);
  sh->best_replay = MAX (sh->best_replay, rep);
  return 0;
}

/* Sorts @v (@n values) and returns their median. */
static double
median_of (double *v, guint n)
{
  qsort (v, n, sizeof v[0], compare_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
print_shape (Shape *sh, guint rounds, bool replay_only, bool quick)
{
  double sorted[G_N_ELEMENTS (sh->ratio)], cpu[G_N_ELEMENTS (sh->ratio)];
  double median, cpu_median;

  if (replay_only)
    {
      printf ("%s: natsim replay end to end %.2f Mpackets/s (best of %u)\n", sh->name,
              sh->best_replay / 1e6, rounds);
      return;
    }
  memcpy (sorted, sh->ratio, rounds * sizeof sorted[0]);
  memcpy (cpu, sh->cpu_ratio, rounds * sizeof cpu[0]);
  median = median_of (sorted, rounds);
  cpu_median = median_of (cpu, rounds);
  printf ("%s: raw libpcap loop %.2f, natsim replay %.2f Mpackets/s (best of %u; %"
          G_GUINT64_FORMAT " offered out, %" G_GUINT64_FORMAT " in)\n",
          sh->name, sh->best_raw / 1e6, sh->best_replay / 1e6, rounds,
          sh->info.offered_out, sh->info.offered_in);
  /* In 100,000 packets of 20,000 flows a fifth of the packets open a
   * flow: a smoke test, not the figure. */
  printf ("%s: replay / raw: median %.2f, lowest %.2f, highest %.2f over %u rounds %s\n",
          sh->name, median, sorted[0], sorted[rounds - 1], rounds,
          quick ? "(--quick: too short to compare with the target)" : "(target >= 0.50)");
  printf ("%s: replay / raw by CPU time: median %.2f, lowest %.2f, highest %.2f\n", sh->name,
          cpu_median, cpu[0], cpu[rounds - 1]);
}

/* Writes the captures into @dir and, unless @keep, times them in @rounds
 * alternating rounds and prints the figures; 0 on success. */
static int
run (const char *dir, const char *only, guint64 n_packets, guint rounds, bool replay_only,
     bool keep, bool quick)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimCidrSet) inside = natsim_cidr_set_new_default ();
  Shape shapes[] = { { "ordered", write_ordered }, { "interleaved", write_interleaved } };
  NatsimNatConfig cfg;
  int status = 0;

  g_assert (rounds <= G_N_ELEMENTS (shapes[0].ratio));
  if (!linux_config (&cfg, &error))
    {
      fprintf (stderr, "bench-replay: %s\n", error->message);
      return 1;
    }
  for (guint i = 0; i < G_N_ELEMENTS (shapes) && status == 0; i++)
    {
      g_autofree char *base = g_strdup_printf ("replay-%s.pcap", shapes[i].name);
      gint64 t0, t1;

      if (only != NULL && strcmp (only, shapes[i].name) != 0)
        continue;
      shapes[i].path = g_build_filename (dir, base, NULL);
      t0 = g_get_monotonic_time ();
      if (!shapes[i].write (shapes[i].path, n_packets, &error))
        {
          fprintf (stderr, "bench-replay: %s\n", error->message);
          g_clear_pointer (&shapes[i].path, g_free);
          status = 1;
          break;
        }
      t1 = g_get_monotonic_time ();
      printf ("capture %s: %" G_GUINT64_FORMAT " UDP packets, %d flows, written in %.1f s\n",
              shapes[i].name, n_packets, N_FLOWS, (double) (t1 - t0) / 1e6);
    }
  for (guint r = 0; r < rounds && status == 0 && !keep; r++)
    for (guint k = 0; k < G_N_ELEMENTS (shapes) && status == 0; k++)
      {
        /* Alternate which shape goes first, too. */
        Shape *sh = &shapes[(k + r) % G_N_ELEMENTS (shapes)];

        if (sh->path != NULL)
          status = time_shape (sh, &cfg, inside, n_packets, r, replay_only);
      }
  for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      if (status == 0 && !keep && shapes[i].path != NULL)
        print_shape (&shapes[i], rounds, replay_only, quick);
      if (!keep && shapes[i].path != NULL)
        g_unlink (shapes[i].path);
      g_free (shapes[i].path);
    }
  natsim_nat_config_clear (&cfg);
  return status;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  const char *only = NULL;
  const char *keep = NULL;
  bool quick = false, replay_only = false;
  guint64 n_packets = 0;
  int status;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--quick") == 0)
        quick = true;
      else if (strcmp (argv[i], "--replay-only") == 0)
        replay_only = true;
      else if (g_str_has_prefix (argv[i], "--replay-only="))
        {
          replay_only = true;
          only = argv[i] + strlen ("--replay-only=");
          if (strcmp (only, "ordered") != 0 && strcmp (only, "interleaved") != 0)
            {
              fprintf (stderr, "bench-replay: %s: the shapes are ordered and interleaved\n",
                       argv[i]);
              return 2;
            }
        }
      else if (g_str_has_prefix (argv[i], "--keep="))
        keep = argv[i] + strlen ("--keep=");
      else if (argv[i][0] != '-' && n_packets == 0)
        n_packets = g_ascii_strtoull (argv[i], NULL, 10);
      else
        {
          fprintf (stderr, "usage: bench-replay [--quick | --replay-only[=SHAPE] | "
                   "--keep=DIR] [PACKETS]\n");
          return 2;
        }
    }
  if (n_packets == 0)
    n_packets = quick ? 100000 : 2000000;
  if (keep != NULL)
    return run (keep, NULL, n_packets, 0, false, true, false);
  dir = g_dir_make_tmp ("natsim-bench-replay-XXXXXX", &error);
  if (dir == NULL)
    {
      fprintf (stderr, "bench-replay: %s\n", error->message);
      return 1;
    }
  status = run (dir, only, n_packets, quick ? 1 : 5, replay_only, false, quick);
  g_rmdir (dir);
  return status;
}
