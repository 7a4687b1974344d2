/* natsim trace: pcap writer for `natsim synth`.
 *
 * Frames are built in one reused buffer: Ethernet II, IPv4 (no options)
 * and UDP, TCP or ICMP echo, with real lengths and checksums, so that the
 * capture reads back through natsim's own reader and opens cleanly in
 * Wireshark.  libpcap does the file format: a pcap_open_dead() handle with
 * nanosecond precision and pcap_dump_fopen() on a temporary file beside the
 * target, renamed over it by natsim_pcap_writer_close() (README.md,
 * "Commands": nothing is written half).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <pcap/pcap.h>
#include <string.h>
#include <unistd.h>

#include "natsim/error.h"
#include "natsim/trace.h"

#define WRITER_SNAPLEN  65535
#define ETH_HLEN        14
#define IPV4_HLEN       20

struct NatsimPcapWriter
{
  char          *path;
  char          *tmp_path;
  pcap_t        *dead;
  pcap_dumper_t *dumper;    /* NULL once closed */
  uint64_t       epoch_ns;
  uint16_t       ip_id;
  guint64        packets;
  bool           committed; /* renamed into place */
  uint8_t        frame[WRITER_SNAPLEN];
};

static const uint8_t mac_inside[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t mac_gateway[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

NatsimPcapWriter *
natsim_pcap_writer_open (const char *path, GError **error)
{
  g_autoptr (NatsimPcapWriter) w = NULL;
  FILE *fp;
  int   fd;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  w = g_new0 (NatsimPcapWriter, 1);
  w->path = g_strdup (path);
  w->dead = pcap_open_dead_with_tstamp_precision (DLT_EN10MB, WRITER_SNAPLEN,
                                                  PCAP_TSTAMP_PRECISION_NANO);
  if (w->dead == NULL)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_FAILED,
                   "%s: libpcap could not create a capture handle", path);
      return NULL;
    }

  w->tmp_path = g_strconcat (path, ".XXXXXX", NULL);
  fd = g_mkstemp_full (w->tmp_path, O_RDWR | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_IO, "%s: cannot create: %s",
                   path, g_strerror (saved));
      g_clear_pointer (&w->tmp_path, g_free);
      return NULL;
    }
  fp = fdopen (fd, "wb");
  if (fp == NULL)
    {
      int saved = errno;

      close (fd);
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_IO, "%s: cannot create: %s",
                   path, g_strerror (saved));
      return NULL; /* free() removes the temporary file */
    }
  /* On failure pcap_dump_fopen() closes @fp itself. */
  w->dumper = pcap_dump_fopen (w->dead, fp);
  if (w->dumper == NULL)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_IO, "%s: cannot write: %s",
                   path, pcap_geterr (w->dead));
      return NULL;
    }
  return g_steal_pointer (&w);
}

void
natsim_pcap_writer_set_epoch (NatsimPcapWriter *w, uint64_t unix_ns)
{
  g_return_if_fail (w != NULL);
  w->epoch_ns = unix_ns;
}

guint64
natsim_pcap_writer_packets (const NatsimPcapWriter *w)
{
  g_return_val_if_fail (w != NULL, 0);
  return w->packets;
}

static inline void
put16 (uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t) (v >> 8);
  p[1] = (uint8_t) v;
}

static inline void
put32 (uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t) (v >> 24);
  p[1] = (uint8_t) (v >> 16);
  p[2] = (uint8_t) (v >> 8);
  p[3] = (uint8_t) v;
}

/* RFC 1071 one's-complement sum of 16-bit big-endian words.  At most
 * 65535 bytes are summed, so 32 bits cannot overflow. */
static uint32_t
csum_add (uint32_t sum, const uint8_t *p, size_t n)
{
  while (n > 1)
    {
      sum += (uint32_t) p[0] << 8 | p[1];
      p += 2;
      n -= 2;
    }
  if (n > 0)
    sum += (uint32_t) p[0] << 8;
  return sum;
}

static uint16_t
csum_fold (uint32_t sum)
{
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t) ~sum;
}

/* Builds and writes one frame of transport protocol @proto. */
static bool
write_frame (NatsimPcapWriter *w, const NatsimPacket *pkt, uint8_t proto,
             const uint8_t *payload, size_t len)
{
  size_t             l4_len = proto == NATSIM_PROTO_TCP ? 20 : 8;
  size_t             plen, ip_total, frame_len;
  uint8_t           *eth = w->frame, *ip = eth + ETH_HLEN, *l4 = ip + IPV4_HLEN;
  bool               out = pkt->dir == NATSIM_DIR_OUT;
  uint32_t           sum;
  uint64_t           t;
  struct pcap_pkthdr h;

  if (w->dumper == NULL)
    return false;
  if (payload != NULL)
    plen = len;
  else
    plen = pkt->length > IPV4_HLEN + l4_len ? pkt->length - IPV4_HLEN - l4_len : 0;
  if (plen > WRITER_SNAPLEN - ETH_HLEN - IPV4_HLEN - l4_len)
    return false;
  ip_total = IPV4_HLEN + l4_len + plen;
  frame_len = ETH_HLEN + ip_total;

  memcpy (eth, out ? mac_gateway : mac_inside, 6);
  memcpy (eth + 6, out ? mac_inside : mac_gateway, 6);
  put16 (eth + 12, 0x0800);

  ip[0] = 0x45;
  ip[1] = (uint8_t) (pkt->dscp << 2);
  put16 (ip + 2, (uint16_t) ip_total);
  put16 (ip + 4, w->ip_id++);
  put16 (ip + 6, 0x4000); /* DF, as Linux sends with path MTU discovery */
  ip[8] = 64;
  ip[9] = proto;
  put16 (ip + 10, 0);
  put32 (ip + 12, pkt->src_addr);
  put32 (ip + 16, pkt->dst_addr);
  put16 (ip + 10, csum_fold (csum_add (0, ip, IPV4_HLEN)));

  if (payload != NULL)
    memcpy (l4 + l4_len, payload, plen);
  else
    memset (l4 + l4_len, 0, plen);

  switch (proto)
    {
    case NATSIM_PROTO_UDP:
      put16 (l4, pkt->src_port);
      put16 (l4 + 2, pkt->dst_port);
      put16 (l4 + 4, (uint16_t) (l4_len + plen));
      put16 (l4 + 6, 0);
      break;
    case NATSIM_PROTO_TCP:
      put16 (l4, pkt->src_port);
      put16 (l4 + 2, pkt->dst_port);
      put32 (l4 + 4, 0);           /* sequence: not modelled */
      put32 (l4 + 8, 0);           /* acknowledgement */
      l4[12] = 5 << 4;             /* data offset, no options */
      l4[13] = pkt->tcp_flags;
      put16 (l4 + 14, 65535);      /* window */
      put16 (l4 + 16, 0);
      put16 (l4 + 18, 0);          /* urgent pointer */
      break;
    default:
      l4[0] = out ? 8 : 0;         /* echo request / reply (RFC 792) */
      l4[1] = 0;
      put16 (l4 + 2, 0);
      put16 (l4 + 4, pkt->src_port); /* RFC 5508: the id is in both ports */
      put16 (l4 + 6, (uint16_t) w->packets);
      break;
    }

  if (proto == NATSIM_PROTO_ICMP)
    sum = 0; /* ICMPv4 has no pseudo-header */
  else
    {
      uint8_t pseudo[12];

      memcpy (pseudo, ip + 12, 8);
      pseudo[8] = 0;
      pseudo[9] = proto;
      put16 (pseudo + 10, (uint16_t) (l4_len + plen));
      sum = csum_add (0, pseudo, sizeof pseudo);
    }
  {
    uint16_t c = csum_fold (csum_add (sum, l4, l4_len + plen));
    size_t   at = proto == NATSIM_PROTO_UDP ? 6 : proto == NATSIM_PROTO_TCP ? 16 : 2;

    /* RFC 768: a computed UDP checksum of 0 is sent as all ones. */
    if (proto == NATSIM_PROTO_UDP && c == 0)
      c = 0xffff;
    put16 (l4 + at, c);
  }

  t = natsim_time_add (w->epoch_ns, pkt->time);
  memset (&h, 0, sizeof h);
  h.ts.tv_sec = (time_t) (t / NATSIM_NSEC_PER_SEC);
  h.ts.tv_usec = (suseconds_t) (t % NATSIM_NSEC_PER_SEC); /* ns: nano handle */
  h.caplen = (bpf_u_int32) frame_len;
  h.len = (bpf_u_int32) frame_len;
  pcap_dump ((u_char *) w->dumper, &h, w->frame);
  w->packets++;
  return true;
}

bool
natsim_pcap_writer_write_udp (NatsimPcapWriter *w, const NatsimPacket *pkt,
                              const uint8_t *payload, size_t len)
{
  g_return_val_if_fail (w != NULL, false);
  g_return_val_if_fail (pkt != NULL, false);
  return write_frame (w, pkt, NATSIM_PROTO_UDP, payload, len);
}

bool
natsim_pcap_writer_write_tcp (NatsimPcapWriter *w, const NatsimPacket *pkt,
                              const uint8_t *payload, size_t len)
{
  g_return_val_if_fail (w != NULL, false);
  g_return_val_if_fail (pkt != NULL, false);
  return write_frame (w, pkt, NATSIM_PROTO_TCP, payload, len);
}

bool
natsim_pcap_writer_write (NatsimPcapWriter *w, const NatsimPacket *pkt,
                          const uint8_t *payload, size_t len)
{
  g_return_val_if_fail (w != NULL, false);
  g_return_val_if_fail (pkt != NULL, false);
  switch (pkt->proto)
    {
    case NATSIM_PROTO_UDP:
    case NATSIM_PROTO_TCP:
    case NATSIM_PROTO_ICMP:
      return write_frame (w, pkt, pkt->proto, payload, len);
    default:
      return false;
    }
}

gboolean
natsim_pcap_writer_close (NatsimPcapWriter *w, GError **error)
{
  FILE    *fp;
  gboolean ok;
  int      saved = 0;

  g_return_val_if_fail (w != NULL, FALSE);
  g_return_val_if_fail (w->dumper != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  fp = pcap_dump_file (w->dumper);
  errno = 0;
  ok = pcap_dump_flush (w->dumper) == 0 && !ferror (fp);
  if (!ok)
    saved = errno;
  else if (fsync (fileno (fp)) != 0)
    {
      ok = FALSE;
      saved = errno;
    }
  pcap_dump_close (w->dumper);
  w->dumper = NULL;
  if (!ok)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_IO, "%s: cannot write: %s",
                   w->path, saved ? g_strerror (saved) : "write error");
      g_unlink (w->tmp_path);
      g_clear_pointer (&w->tmp_path, g_free);
      return FALSE;
    }
  if (g_rename (w->tmp_path, w->path) != 0)
    {
      saved = errno;
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_IO, "%s: cannot rename %s: %s",
                   w->path, w->tmp_path, g_strerror (saved));
      g_unlink (w->tmp_path);
      g_clear_pointer (&w->tmp_path, g_free);
      return FALSE;
    }
  w->committed = true;
  return TRUE;
}

void
natsim_pcap_writer_free (NatsimPcapWriter *w)
{
  if (w == NULL)
    return;
  if (w->dumper != NULL)
    pcap_dump_close (w->dumper);
  if (!w->committed && w->tmp_path != NULL)
    g_unlink (w->tmp_path);
  if (w->dead != NULL)
    pcap_close (w->dead);
  g_free (w->tmp_path);
  g_free (w->path);
  g_free (w);
}
