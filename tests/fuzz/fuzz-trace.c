/* natsim fuzz target: captures (pcap, pcapng).
 *
 * The reader opens paths only, so the input is put in an anonymous memory
 * file (memfd; a temporary file where that is missing) and opened as
 * /proc/self/fd/N: a regular file, so the reader's own pread() fast path
 * for native pcap is exercised as well as libpcap.  Inputs of odd length
 * are opened twice, as two files merged by timestamp.  Every packet is
 * read, checked against the documented invariants, turned into NAT
 * packets in both directions, and fed to IP reassembly and to the SIP
 * streams (small pools, so that eviction is exercised too). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "fuzz.h"
#include "natsim/reasm.h"
#include "natsim/sip-stream.h"
#include "natsim/sip.h"
#include "natsim/trace.h"

static int
input_fd (const uint8_t *data, size_t size, char **ret_path)
{
  int fd = -1;
  size_t off = 0;

#ifdef MFD_CLOEXEC
  fd = memfd_create ("natsim-fuzz", MFD_CLOEXEC);
#endif
  if (fd >= 0)
    *ret_path = g_strdup_printf ("/proc/self/fd/%d", fd);
  else
    {
      char *tmpl = g_build_filename (g_get_tmp_dir (), "natsim-fuzz-XXXXXX", NULL);

      fd = g_mkstemp (tmpl);
      if (fd < 0)
        g_error ("fuzz-trace: cannot create a temporary file: %s", g_strerror (errno));
      *ret_path = tmpl;
    }
  while (off < size)
    {
      ssize_t n = write (fd, data + off, size - off);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        g_error ("fuzz-trace: write: %s", g_strerror (errno));
      off += (size_t) n;
    }
  return fd;
}

static uint64_t sink;

static void
check_packet (const NatsimTracePacket *tp)
{
  NatsimPacket pkt;

  fuzz_assert (tp->ip_version == 4 || tp->ip_version == 6);
  fuzz_assert (tp->ip != NULL);
  fuzz_assert (tp->ip_caplen <= tp->ip_length);
  fuzz_assert (tp->l4_offset <= tp->ip_caplen);
  if (tp->payload_len > 0)
    {
      fuzz_assert (tp->payload >= tp->ip);
      fuzz_assert (tp->payload + tp->payload_len <= tp->ip + tp->ip_caplen);
      /* Touch every byte handed out: ASan / valgrind see a bad pointer. */
      for (size_t i = 0; i < tp->payload_len; i++)
        sink += tp->payload[i];
    }
  for (uint32_t i = 0; i < tp->ip_caplen; i++)
    sink += tp->ip[i];
  if (natsim_trace_packet_to_nat (tp, true, &pkt))
    sink += pkt.src_port;
  if (natsim_trace_packet_to_nat (tp, false, &pkt))
    sink += pkt.dst_port;
}

static void
on_message (const NatsimTracePacket *tp, const uint8_t *msg, size_t len, void *user_data)
{
  NatsimSipInfo info;

  for (size_t i = 0; i < len; i++)
    sink += msg[i];
  sink += natsim_sip_peek (msg, len, &info);
}

/* Reassembly and SIP streams of every packet. */
static void
check_layers (NatsimReasm *ra, NatsimSipStreams *ss, const NatsimTracePacket *tp)
{
  NatsimReasmDatagram d;

  if (tp->fragment)
    {
      if (natsim_reasm_add (ra, tp, &d) == NATSIM_REASM_COMPLETE)
        {
          for (size_t i = 0; i < d.payload_len; i++)
            sink += d.payload[i];
          fuzz_assert (d.fragments >= 1);
        }
      return;
    }
  natsim_sip_streams_feed (ss, tp, on_message, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (NatsimReasm) ra = natsim_reasm_new (2);
  g_autoptr (NatsimSipStreams) ss = natsim_sip_streams_new (2, 256);
  g_autoptr (NatsimTraceReader) r = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  const char *paths[2];
  guint n_files = (size & 1) ? 2 : 1;
  guint64 n_packets = 0, n_errors = 0;
  NatsimTracePacket tp;
  NatsimTraceResult res;
  int fd;

  fuzz_setup ();
  fd = input_fd (data, size, &path);
  paths[0] = paths[1] = path;

  r = natsim_trace_reader_open (paths, n_files, &error);
  if (r == NULL)
    fuzz_assert (error != NULL && error->message != NULL);
  else
    {
      const NatsimTraceStats *st;
      guint64 sum = 0;
      uint64_t first;
      NatsimTime last, prev = 0;

      fuzz_assert (natsim_trace_reader_n_files (r) == n_files);
      for (guint i = 0; i < n_files; i++)
        fuzz_assert (natsim_trace_reader_file_link_type (r, i) != NULL);
      while ((res = natsim_trace_reader_next (r, &tp)) != NATSIM_TRACE_END)
        {
          if (res == NATSIM_TRACE_ERROR)
            {
              const GError *e = natsim_trace_reader_error (r);

              fuzz_assert (e != NULL && e->message != NULL);
              /* A failed file is dropped: at most one error per file. */
              fuzz_assert (++n_errors <= n_files);
              continue;
            }
          fuzz_assert (res == NATSIM_TRACE_PACKET);
          /* The merged stream never goes back in time. */
          fuzz_assert (tp.time >= prev);
          prev = tp.time;
          fuzz_assert (tp.file_index < n_files);
          check_packet (&tp);
          check_layers (ra, ss, &tp);
          n_packets++;
        }
      st = natsim_trace_reader_stats (r);
      for (guint i = 0; i < NATSIM_TRACE_SKIP_N; i++)
        {
          sum += st->skipped[i];
          fuzz_assert (natsim_trace_skip_name ((NatsimTraceSkip) i) != NULL);
        }
      fuzz_assert (sum == st->packets_skipped);
      fuzz_assert (st->packets_decoded == n_packets);
      fuzz_assert (st->packets_decoded + st->packets_skipped == st->packets_read);
      if (natsim_trace_reader_first_time (r, &first))
        fuzz_assert (natsim_trace_reader_last_time (r, &last));
    }
  g_clear_pointer (&r, natsim_trace_reader_free);
  close (fd);
  if (!g_str_has_prefix (path, "/proc/"))
    g_unlink (path);
  return 0;
}
