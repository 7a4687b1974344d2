/* natsim trace: streaming, merging capture reader.
 *
 * Each file is a libpcap offline handle opened with nanosecond precision,
 * so pcap and pcapng, microsecond and nanosecond captures all give
 * nanoseconds.  Several files are merged by timestamp with a k-way merge:
 * a binary min-heap holds the index of every file that has a pending
 * record, keyed by (timestamp, file index) so that ties go to the earlier
 * path.  A pending record stays in its handle's buffer (pcap_next_ex()
 * keeps it valid until the next read of that handle), so nothing is
 * copied: handing out a packet costs O(log k) and no allocation, and
 * memory is one buffer per file whatever the trace's size.
 *
 * Fast path.  libpcap reads a classic pcap file with two fread() calls per
 * record (header, then data) through a 4 KiB stdio buffer, copying every
 * byte twice; that alone costs as much per packet as the whole NAT.  For a
 * regular file in the plain pcap format (magic a1b2c3d4 or a1b23c4d in host
 * byte order, version 2.4) the reader instead pread()s 128 KiB blocks (more
 * for a record that does not fit) from the descriptor libpcap opened and
 * hands out records in place, with exactly the header and bytes libpcap
 * would give for such a record: the timestamp scaled to nanoseconds as
 * libpcap does, caplen and len untouched, the data unmodified (libpcap
 * changes nothing for a file in host byte order).  The first record that is
 * not plainly valid (caplen above len or the snapshot length, a
 * timestamp field out of range, a record running past the end of the file,
 * end of file, a read error) hands the file back to libpcap at that
 * record's offset (fseek() on pcap_file()), so every odd case, its message
 * and its error are libpcap's own, and the result does not depend on the
 * path taken.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <pcap/pcap.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "natsim/error.h"
#include "trace-private.h"

/* Capture times past this (year 2540) are out of range: ns must fit 64 bits. */
#define TRACE_MAX_SEC INT64_C (18000000000)

/* The fast path's block size, and the sizes of the pcap file and record
 * headers. */
#define FAST_BLOCK       (256u * 1024u)
#define PCAP_FILE_HDR    24u
#define PCAP_RECORD_HDR  16u
#define PCAP_MAGIC_USEC  UINT32_C (0xa1b2c3d4)
#define PCAP_MAGIC_NSEC  UINT32_C (0xa1b23c4d)

typedef struct
{
  char                     *path;
  pcap_t                   *pcap;     /* NULL once exhausted or failed */
  int                       dlt;
  uint32_t                  snaplen;
  uint64_t                  records;  /* records read so far */
  /* The pending record (valid while the file is in the heap). */
  const struct pcap_pkthdr *hdr;
  const uint8_t            *data;
  uint64_t                  ts;       /* its clamped capture time, ns */
  uint64_t                  last_ts;
  bool                      have_last;
  /* The fast path (see the top of the file); fast_fd < 0 when off. */
  int                       fast_fd;     /* libpcap's descriptor, not ours */
  bool                      fast_nsec;   /* timestamps in ns, else us */
  uint32_t                  fast_snaplen; /* libpcap's snapshot length */
  uint8_t                  *fast_buf;
  size_t                    fast_size;   /* allocated */
  size_t                    fast_len;    /* bytes read into fast_buf */
  size_t                    fast_pos;    /* the next record in fast_buf */
  uint64_t                  fast_off;    /* file offset of fast_buf[0] */
  struct pcap_pkthdr        fast_hdr;    /* the pending record's header */
} TraceFile;

struct NatsimTraceReader
{
  TraceFile        *files;
  guint             n_files;
  guint            *heap;          /* file indices, min-heap by (ts, index) */
  guint             heap_len;
  guint             n_primed;      /* files whose first record was read */
  bool              root_consumed; /* heap[0]'s record was handed out */
  bool              have_first;
  uint64_t          first_ts;
  uint64_t          last_ts;       /* the last record handed out (the merge never goes back) */
  NatsimTraceStats  stats;
  NatsimTracePacket scratch;       /* decoded here, copied out on success */
  unsigned          decode_flags;  /* TRACE_DECODE_* */
  bool              strict;        /* a cut last record is an error */
  GError           *error;
};

/* ------------------------------------------------------------------------ */
/* The fast path for classic pcap files                                     */

static uint32_t
load_u32 (const uint8_t *p)
{
  uint32_t v;

  memcpy (&v, p, sizeof v);
  return v;
}

static uint16_t
load_u16 (const uint8_t *p)
{
  uint16_t v;

  memcpy (&v, p, sizeof v);
  return v;
}

/* Turns the fast path on for @f if libpcap opened a regular file in the
 * plain pcap format in host byte order; otherwise libpcap reads it all. */
static void
fast_setup (TraceFile *f)
{
  FILE    *fp = pcap_file (f->pcap);
  uint8_t  hdr[PCAP_FILE_HDR];
  uint32_t magic;
  struct stat st;
  int      fd;

  f->fast_fd = -1;
  if (fp == NULL || pcap_snapshot (f->pcap) <= 0)
    return;
  fd = fileno (fp);
  if (fd < 0 || fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    return;
  if (pread (fd, hdr, sizeof hdr, 0) != (ssize_t) sizeof hdr)
    return;
  magic = load_u32 (hdr);
  if ((magic != PCAP_MAGIC_USEC && magic != PCAP_MAGIC_NSEC)
      || load_u16 (hdr + 4) != 2 || load_u16 (hdr + 6) != 4)
    return;
  f->fast_fd = fd;
  f->fast_nsec = magic == PCAP_MAGIC_NSEC;
  f->fast_snaplen = (uint32_t) pcap_snapshot (f->pcap);
  f->fast_off = PCAP_FILE_HDR;
}

/* Hands @f back to libpcap at the next record's offset.  False if the
 * stream cannot be positioned (then the file has failed). */
static bool
fast_stop (TraceFile *f)
{
  uint64_t off = f->fast_off + f->fast_pos;

  f->fast_fd = -1;
  g_clear_pointer (&f->fast_buf, g_free);
  f->fast_size = f->fast_len = f->fast_pos = 0;
  return off <= (uint64_t) G_MAXINT64
         && fseeko (pcap_file (f->pcap), (off_t) off, SEEK_SET) == 0;
}

/* Makes at least @need bytes from fast_pos available; false at end of file,
 * on a read error or if the file is shorter than that. */
static bool
fast_refill (TraceFile *f, size_t need)
{
  if (f->fast_pos > 0)
    {
      f->fast_len -= f->fast_pos;
      memmove (f->fast_buf, f->fast_buf + f->fast_pos, f->fast_len);
      f->fast_off += f->fast_pos;
      f->fast_pos = 0;
    }
  if (need > f->fast_size)
    {
      f->fast_size = MAX (need, (size_t) FAST_BLOCK);
      f->fast_buf = g_realloc (f->fast_buf, f->fast_size);
    }
  while (f->fast_len < need)
    {
      ssize_t n = pread (f->fast_fd, f->fast_buf + f->fast_len, f->fast_size - f->fast_len,
                         (off_t) (f->fast_off + f->fast_len));

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return false;
      f->fast_len += (size_t) n;
    }
  return true;
}

/* The next record of @f through the fast path into f->fast_hdr and
 * *ret_data; false when libpcap must take over from this record on. */
static bool
fast_next (TraceFile *f, const uint8_t **ret_data)
{
  for (;;)
    {
      size_t avail = f->fast_len - f->fast_pos;
      size_t need = PCAP_RECORD_HDR;

      if (avail >= PCAP_RECORD_HDR)
        {
          const uint8_t *h = f->fast_buf + f->fast_pos;
          uint32_t sec = load_u32 (h), frac = load_u32 (h + 4);
          uint32_t caplen = load_u32 (h + 8), len = load_u32 (h + 12);

          /* Anything libpcap might treat specially goes to libpcap. */
          if (caplen > len || caplen > f->fast_snaplen || sec > (uint32_t) INT32_MAX
              || frac >= (f->fast_nsec ? UINT32_C (1000000000) : UINT32_C (1000000)))
            return false;
          need += caplen;
          if (avail >= need)
            {
              f->fast_hdr.ts.tv_sec = (time_t) sec;
              f->fast_hdr.ts.tv_usec = f->fast_nsec ? (suseconds_t) frac
                                                    : (suseconds_t) frac * 1000;
              f->fast_hdr.caplen = caplen;
              f->fast_hdr.len = len;
              *ret_data = h + PCAP_RECORD_HDR;
              f->fast_pos += need;
              return true;
            }
        }
      if (!fast_refill (f, need))
        return false;
    }
}

/* ------------------------------------------------------------------------ */
/* Opening                                                                  */

static void
link_type_name (int dlt, char *buf, size_t size)
{
  const char *name = pcap_datalink_val_to_name (dlt);
  const char *desc = pcap_datalink_val_to_description (dlt);

  if (name != NULL && desc != NULL)
    g_snprintf (buf, size, "%s (%s, DLT %d)", name, desc, dlt);
  else if (name != NULL)
    g_snprintf (buf, size, "%s (DLT %d)", name, dlt);
  else
    g_snprintf (buf, size, "DLT %d", dlt);
}

static gboolean
trace_file_open (TraceFile *f, const char *path, GError **error)
{
  char      errbuf[PCAP_ERRBUF_SIZE];
  GStatBuf  st;
  gboolean  is_stdin = strcmp (path, "-") == 0;

  f->path = g_strdup (path);
  f->fast_fd = -1;
  if (!is_stdin)
    {
      if (g_stat (path, &st) != 0)
        {
          int saved = errno;
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "%s: cannot open: %s", path, g_strerror (saved));
          return FALSE;
        }
      if (S_ISDIR (st.st_mode))
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "%s: is a directory, not a pcap or pcapng capture", path);
          return FALSE;
        }
      if (S_ISREG (st.st_mode) && st.st_size == 0)
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "%s: not a pcap or pcapng capture (empty file)", path);
          return FALSE;
        }
    }

  errbuf[0] = '\0';
  f->pcap = pcap_open_offline_with_tstamp_precision (path, PCAP_TSTAMP_PRECISION_NANO,
                                                     errbuf);
  if (f->pcap == NULL)
    {
      /* libpcap reports a failed fopen() as "PATH: strerror". */
      size_t n = strlen (path);

      if (strncmp (errbuf, path, n) == 0 && strncmp (errbuf + n, ": ", 2) == 0)
        g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                     "%s: cannot open: %s", path, errbuf + n + 2);
      else
        g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                     "%s: not a pcap or pcapng capture (%s)", path,
                     errbuf[0] ? errbuf : "libpcap gave no reason");
      return FALSE;
    }

  f->dlt = pcap_datalink (f->pcap);
  if (!trace_link_supported (f->dlt))
    {
      char name[128];

      link_type_name (f->dlt, name, sizeof name);
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "%s: unsupported link type %s; natsim reads Ethernet, Linux "
                   "cooked (SLL, SLL2), raw IP, BSD loopback (NULL, LOOP) and "
                   "NFLOG captures",
                   path, name);
      return FALSE;
    }
  /* libpcap adjusts a zero or silly snaplen to its maximum; be as lenient. */
  f->snaplen = pcap_snapshot (f->pcap) > 0 ? (uint32_t) pcap_snapshot (f->pcap)
                                           : UINT32_MAX;
  if (!is_stdin)
    fast_setup (f);
  return TRUE;
}

NatsimTraceReader *
natsim_trace_reader_open (const char *const *paths, guint n, GError **error)
{
  g_autoptr (NatsimTraceReader) r = NULL;

  g_return_val_if_fail (paths != NULL, NULL);
  g_return_val_if_fail (n > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  r = g_new0 (NatsimTraceReader, 1);
  r->files = g_new0 (TraceFile, n);
  r->n_files = n;
  r->heap = g_new0 (guint, n);
  r->decode_flags = TRACE_DECODE_DECAP;
  for (guint i = 0; i < n; i++)
    {
      g_return_val_if_fail (paths[i] != NULL, NULL);
      if (!trace_file_open (&r->files[i], paths[i], error))
        return NULL;
    }
  return g_steal_pointer (&r);
}

void
natsim_trace_reader_free (NatsimTraceReader *r)
{
  if (r == NULL)
    return;
  for (guint i = 0; i < r->n_files; i++)
    {
      if (r->files[i].pcap != NULL)
        pcap_close (r->files[i].pcap);
      g_free (r->files[i].path);
      g_free (r->files[i].fast_buf);
    }
  g_free (r->files);
  g_free (r->heap);
  g_clear_error (&r->error);
  g_free (r);
}

void
natsim_trace_reader_set_decapsulate (NatsimTraceReader *r, gboolean decapsulate)
{
  g_return_if_fail (r != NULL);
  g_return_if_fail (r->stats.packets_read == 0);
  if (decapsulate)
    r->decode_flags |= TRACE_DECODE_DECAP;
  else
    r->decode_flags &= ~TRACE_DECODE_DECAP;
}

void
natsim_trace_reader_set_strict (NatsimTraceReader *r, gboolean strict)
{
  g_return_if_fail (r != NULL);
  g_return_if_fail (r->stats.packets_read == 0);
  r->strict = strict;
}

char *
natsim_trace_cut_message (const NatsimTraceStats *st, const char *const *paths)
{
  g_autoptr (GString) s = NULL;

  g_return_val_if_fail (st != NULL && paths != NULL, NULL);
  if (st->files_cut == 0)
    return NULL;
  s = g_string_new (NULL);
  g_string_append_printf (s, "%s: the capture ends inside record %" G_GUINT64_FORMAT
                          " (cut short, as when the capture was stopped while writing); the %"
                          G_GUINT64_FORMAT " complete record%s before it were read",
                          paths[st->cut_file], st->cut_record, st->cut_record - 1,
                          st->cut_record == 2 ? "" : "s");
  if (st->files_cut > 1)
    g_string_append_printf (s, " (and %" G_GUINT64_FORMAT " more cut file%s)",
                            st->files_cut - 1, st->files_cut == 2 ? "" : "s");
  return g_string_free (g_steal_pointer (&s), FALSE);
}

char *
natsim_trace_bad_time_message (const NatsimTraceStats *st)
{
  g_return_val_if_fail (st != NULL, NULL);
  if (st->bad_timestamps == 0)
    return NULL;
  return g_strdup_printf ("%" G_GUINT64_FORMAT " record%s with an impossible timestamp "
                          "(fraction of a second out of range, or a time before 1970 or "
                          "after 2540): clamped into range", st->bad_timestamps,
                          st->bad_timestamps == 1 ? "" : "s");
}

/* True for libpcap's words for a file that ends inside a record (sf-pcap.c
 * and sf-pcapng.c): the header or the data of the record is incomplete. */
static bool
is_cut_message (const char *msg)
{
  return g_str_has_prefix (msg, "truncated dump file;")
         || g_str_has_prefix (msg, "truncated pcapng dump file;");
}

/* ------------------------------------------------------------------------ */
/* Reading records                                                          */

/* Capture time in ns since 1970.  Sets *ret_bad for a fraction outside
 * [0, 1 s) or a time out of range (then clamped into range). */
static uint64_t
record_time (const struct pcap_pkthdr *h, bool *ret_bad)
{
  int64_t  sec = (int64_t) h->ts.tv_sec;
  int64_t  frac = (int64_t) h->ts.tv_usec; /* ns: nanosecond precision */
  uint64_t ns;

  /* The pcap format's seconds are an unsigned 32-bit field (good until
   * 2106), but libpcap hands them over sign-extended: undo that. */
  if (sec < 0 && sec >= INT32_MIN)
    sec += INT64_C (1) << 32;
  *ret_bad = frac < 0 || frac >= (int64_t) NATSIM_NSEC_PER_SEC || sec < 0
             || sec > TRACE_MAX_SEC;
  if (sec < 0)
    sec = 0;
  if (sec > TRACE_MAX_SEC)
    sec = TRACE_MAX_SEC;
  ns = (uint64_t) sec * NATSIM_NSEC_PER_SEC;
  if (frac < 0)
    ns = (uint64_t) -frac > ns ? 0 : ns - (uint64_t) -frac;
  else
    ns += (uint64_t) frac; /* < 2^43: no overflow below TRACE_MAX_SEC */
  return ns;
}

typedef enum
{
  FILL_OK,
  FILL_EOF,
  FILL_ERROR,
} FillResult;

/* Reads the next record of @f into its pending slot. */
static FillResult
trace_file_fill (NatsimTraceReader *r, TraceFile *f)
{
  struct pcap_pkthdr *hdr;
  const u_char       *data;
  const char         *msg;
  bool                seek_failed = false;
  int                 rc;

  if (f->pcap == NULL)
    return FILL_EOF;
  if (f->fast_fd >= 0 && fast_next (f, &data))
    {
      hdr = &f->fast_hdr;
      rc = 1;
    }
  else if (f->fast_fd >= 0 && !fast_stop (f))
    {
      seek_failed = true;
      rc = PCAP_ERROR;
    }
  else
    rc = pcap_next_ex (f->pcap, &hdr, &data);
  if (rc == 1)
    {
      bool     bad;
      uint64_t ts = record_time (hdr, &bad);

      f->records++;
      if (bad)
        r->stats.bad_timestamps++;
      /* Out of order within the file: count it, and clamp to keep the
       * stream monotone (the NAT engine's clock never goes back). */
      if (f->have_last && ts < f->last_ts)
        {
          r->stats.out_of_order++;
          ts = f->last_ts;
        }
      f->last_ts = ts;
      f->have_last = true;
      f->hdr = hdr;
      f->data = data;
      f->ts = ts;
      return FILL_OK;
    }
  if (rc == PCAP_ERROR_BREAK)
    {
      /* End of file: give the buffer back now, not at free. */
      pcap_close (f->pcap);
      f->pcap = NULL;
      return FILL_EOF;
    }

  /* PCAP_ERROR: a truncated record, an impossible length, an I/O error.
   * (0, "timeout", cannot happen offline; treat it alike.) */
  if (seek_failed)
    msg = "error reading dump file: cannot seek back to the record";
  else if (rc == PCAP_ERROR)
    msg = pcap_geterr (f->pcap);
  else
    msg = "unexpected result from libpcap";
  if (!seek_failed && rc == PCAP_ERROR && !r->strict && is_cut_message (msg))
    {
      /* Nothing can follow a cut record: the file ends here. */
      if (r->stats.files_cut++ == 0)
        {
          r->stats.cut_file = (guint) (f - r->files);
          r->stats.cut_record = f->records + 1;
        }
      pcap_close (f->pcap);
      f->pcap = NULL;
      return FILL_EOF;
    }
  g_clear_error (&r->error);
  g_set_error (&r->error, NATSIM_ERROR,
               g_str_has_prefix (msg, "error reading dump file")
                 ? NATSIM_ERROR_IO : NATSIM_ERROR_INVALID_INPUT,
               "%s: packet %" G_GUINT64_FORMAT ": %s", f->path, f->records + 1,
               msg);
  pcap_close (f->pcap);
  f->pcap = NULL;
  r->stats.files_failed++;
  return FILL_ERROR;
}

/* ------------------------------------------------------------------------ */
/* The merge heap                                                           */

static inline bool
heap_less (const NatsimTraceReader *r, guint a, guint b)
{
  const TraceFile *fa = &r->files[a], *fb = &r->files[b];

  return fa->ts < fb->ts || (fa->ts == fb->ts && a < b);
}

static void
heap_sift_down (NatsimTraceReader *r, guint i)
{
  for (;;)
    {
      guint l = 2 * i + 1, m = i, tmp;

      if (l < r->heap_len && heap_less (r, r->heap[l], r->heap[m]))
        m = l;
      if (l + 1 < r->heap_len && heap_less (r, r->heap[l + 1], r->heap[m]))
        m = l + 1;
      if (m == i)
        return;
      tmp = r->heap[i];
      r->heap[i] = r->heap[m];
      r->heap[m] = tmp;
      i = m;
    }
}

static void
heap_push (NatsimTraceReader *r, guint file)
{
  guint i = r->heap_len++;

  r->heap[i] = file;
  while (i > 0)
    {
      guint parent = (i - 1) / 2, tmp;

      if (!heap_less (r, r->heap[i], r->heap[parent]))
        break;
      tmp = r->heap[i];
      r->heap[i] = r->heap[parent];
      r->heap[parent] = tmp;
      i = parent;
    }
}

static void
heap_remove_root (NatsimTraceReader *r)
{
  r->heap[0] = r->heap[--r->heap_len];
  heap_sift_down (r, 0);
}

/* ------------------------------------------------------------------------ */
/* The packet path                                                          */

static void
count_decoded (NatsimTraceStats *s, const NatsimTracePacket *p)
{
  s->packets_decoded++;
  s->bytes_decoded += p->ip_length;
  if (p->ip_version == 4)
    s->ipv4++;
  else
    s->ipv6++;
  switch (p->proto)
    {
    case 17:
      s->udp++;
      break;
    case 6:
      s->tcp++;
      break;
    default:
      s->icmp++; /* the decoder returns nothing else */
      break;
    }
  if (p->fragment)
    {
      s->fragments++;
      if (!p->has_ports)
        s->later_fragments++;
    }
  if (p->ip_caplen < p->ip_length)
    s->truncated++;
  for (guint k = 0; k < NATSIM_TRACE_TUNNEL_N; k++)
    if (p->tunnels & (1u << k))
      s->tunnels[k]++;
}

/* Moves the merge on to the next record of all files (the earliest);
 * fills @ret_idx with its file.  PACKET means a record is there. */
static NatsimTraceResult
reader_advance (NatsimTraceReader *r, guint *ret_idx)
{
  TraceFile *f;
  guint      idx;

  g_clear_error (&r->error);
  /* The first record of every file, before choosing any, so that the
   * first one handed out is the earliest of all. */
  while (r->n_primed < r->n_files)
    {
      guint i = r->n_primed++;

      switch (trace_file_fill (r, &r->files[i]))
        {
        case FILL_OK:
          heap_push (r, i);
          break;
        case FILL_EOF:
          break;
        case FILL_ERROR:
          return NATSIM_TRACE_ERROR;
        }
    }
  if (r->root_consumed)
    {
      r->root_consumed = false;
      switch (trace_file_fill (r, &r->files[r->heap[0]]))
        {
        case FILL_OK:
          heap_sift_down (r, 0);
          break;
        case FILL_EOF:
          heap_remove_root (r);
          break;
        case FILL_ERROR:
          heap_remove_root (r);
          return NATSIM_TRACE_ERROR;
        }
    }
  if (r->heap_len == 0)
    return NATSIM_TRACE_END;

  idx = r->heap[0];
  f = &r->files[idx];
  r->root_consumed = true;
  if (!r->have_first)
    {
      r->have_first = true;
      r->first_ts = f->ts;
    }
  r->last_ts = f->ts;
  r->stats.packets_read++;
  r->stats.bytes_captured += f->hdr->caplen;
  r->stats.bytes_wire += f->hdr->len;
  *ret_idx = idx;
  return NATSIM_TRACE_PACKET;
}

NatsimTraceResult
natsim_trace_reader_next (NatsimTraceReader *r, NatsimTracePacket *ret)
{
  g_return_val_if_fail (r != NULL, NATSIM_TRACE_ERROR);
  g_return_val_if_fail (ret != NULL, NATSIM_TRACE_ERROR);

  for (;;)
    {
      TraceFile        *f;
      guint             idx = 0;
      NatsimTraceSkip   skip;
      NatsimTraceResult res = reader_advance (r, &idx);

      if (res != NATSIM_TRACE_PACKET)
        return res;
      f = &r->files[idx];
      /* libpcap already cuts pcap records to the snaplen and refuses
       * larger pcapng ones; checked again because the decoder relies on
       * caplen being what the buffer holds. */
      if (f->hdr->caplen > f->snaplen)
        skip = NATSIM_TRACE_SKIP_CAPLEN_EXCEEDS_SNAPLEN;
      else if (trace_decode (f->dlt, f->data, f->hdr->caplen, f->hdr->len, r->decode_flags,
                             &r->scratch, &skip))
        {
          NatsimTracePacket *p = &r->scratch;

          p->unix_ns = f->ts;
          p->time = f->ts >= r->first_ts ? f->ts - r->first_ts : 0;
          p->file_index = idx;
          p->record = f->records;
          count_decoded (&r->stats, p);
          *ret = *p;
          return NATSIM_TRACE_PACKET;
        }
      r->stats.skipped[skip]++;
      r->stats.packets_skipped++;
    }
}

const GError *
natsim_trace_reader_error (const NatsimTraceReader *r)
{
  g_return_val_if_fail (r != NULL, NULL);
  return r->error;
}

const NatsimTraceStats *
natsim_trace_reader_stats (const NatsimTraceReader *r)
{
  g_return_val_if_fail (r != NULL, NULL);
  return &r->stats;
}

gboolean
natsim_trace_reader_first_time (const NatsimTraceReader *r, uint64_t *ret_unix_ns)
{
  g_return_val_if_fail (r != NULL, FALSE);
  if (!r->have_first)
    return FALSE;
  if (ret_unix_ns != NULL)
    *ret_unix_ns = r->first_ts;
  return TRUE;
}

gboolean
natsim_trace_reader_last_time (const NatsimTraceReader *r, NatsimTime *ret_time)
{
  g_return_val_if_fail (r != NULL, FALSE);
  if (!r->have_first)
    return FALSE;
  if (ret_time != NULL)
    *ret_time = r->last_ts >= r->first_ts ? r->last_ts - r->first_ts : 0;
  return TRUE;
}

guint
natsim_trace_reader_n_files (const NatsimTraceReader *r)
{
  g_return_val_if_fail (r != NULL, 0);
  return r->n_files;
}

const char *
natsim_trace_reader_file_link_type (const NatsimTraceReader *r, guint i)
{
  const char *name;

  g_return_val_if_fail (r != NULL, NULL);
  g_return_val_if_fail (i < r->n_files, NULL);
  name = pcap_datalink_val_to_name (r->files[i].dlt);
  return name != NULL ? name : "unknown";
}

bool
natsim_trace_packet_to_nat (const NatsimTracePacket *tp, bool outbound,
                            NatsimPacket *ret)
{
  g_return_val_if_fail (tp != NULL, false);
  g_return_val_if_fail (ret != NULL, false);

  if (tp->ip_version != 4 || !tp->has_ports)
    return false;
  memset (ret, 0, sizeof *ret);
  ret->time = tp->time;
  ret->src_addr = tp->src4;
  ret->dst_addr = tp->dst4;
  ret->src_port = tp->src_port;
  ret->dst_port = tp->dst_port;
  ret->length = (uint16_t) MIN (tp->ip_length, G_MAXUINT16);
  ret->proto = tp->proto;
  ret->dir = outbound ? NATSIM_DIR_OUT : NATSIM_DIR_IN;
  ret->tcp_flags = tp->tcp_flags;
  ret->dscp = tp->dscp;
  return true;
}
