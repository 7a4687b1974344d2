/* Unit tests of the trace module (src/trace): reader, decoders, CIDR sets
 * and the pcap writer.
 *
 * Golden facts come from traces/README.md (tshark 4.0 figures recorded in
 * the shared MANIFEST.md, cross-checked with tcpdump 4.99); the hostile
 * captures in tests/data/bad-traces/ each have an expected outcome in
 * bad_cases[]; link types and header layouts no sample covers are written
 * by the tests themselves with libpcap (pcap_open_dead + pcap_dump) into a
 * temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <pcap/pcap.h>
#include <string.h>

#include "natsim/error.h"
#include "natsim/reasm.h"
#include "natsim/sip-stream.h"
#include "natsim/trace.h"

#define IP4(a, b, c, d)                                                     \
  (((uint32_t) (a) << 24) | ((uint32_t) (b) << 16) | ((uint32_t) (c) << 8) \
   | (uint32_t) (d))

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

static char *
sample_path (const char *name)
{
  const char *root = g_getenv ("NATSIM_SOURCE_ROOT");

  assert_non_null (root);
  return g_build_filename (root, "traces", name, NULL);
}

static char *
bad_path (const char *name)
{
  const char *data = g_getenv ("NATSIM_DATA");

  assert_non_null (data);
  return g_build_filename (data, "bad-traces", name, NULL);
}

/* A decoded packet kept after the reader moved on: the pointers are
 * replaced by copies of what they pointed to. */
typedef struct
{
  NatsimTracePacket p;
  GBytes           *ip;      /* the captured IP datagram */
  GBytes           *payload; /* the transport payload */
} Kept;

static void
kept_clear (gpointer data)
{
  Kept *k = data;

  g_bytes_unref (k->ip);
  g_bytes_unref (k->payload);
}

typedef struct
{
  GArray          *packets; /* Kept */
  NatsimTraceStats stats;
  GPtrArray       *errors;  /* messages of NATSIM_TRACE_ERROR, in order */
  uint64_t         first_unix_ns;
  gboolean         have_first;
} Run;

static void
run_clear (Run *run)
{
  g_clear_pointer (&run->packets, g_array_unref);
  g_clear_pointer (&run->errors, g_ptr_array_unref);
}

/* Reads @paths to the end, going on after errors (the caller decides). */
static void
run_reader (NatsimTraceReader *r, Run *ret)
{
  NatsimTracePacket p;
  NatsimTraceResult res;
  guint             guard = 0;

  memset (ret, 0, sizeof *ret);
  ret->packets = g_array_new (FALSE, TRUE, sizeof (Kept));
  g_array_set_clear_func (ret->packets, kept_clear);
  ret->errors = g_ptr_array_new_with_free_func (g_free);
  while ((res = natsim_trace_reader_next (r, &p)) != NATSIM_TRACE_END)
    {
      assert_true (++guard < 1000000);
      if (res == NATSIM_TRACE_ERROR)
        {
          const GError *e = natsim_trace_reader_error (r);

          assert_non_null (e);
          assert_true (g_error_matches (e, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT)
                       || g_error_matches (e, NATSIM_ERROR, NATSIM_ERROR_IO));
          g_ptr_array_add (ret->errors, g_strdup (e->message));
          continue;
        }
      assert_int_equal (res, NATSIM_TRACE_PACKET);
      assert_null (natsim_trace_reader_error (r));
      /* Invariants of every decoded packet. */
      assert_true (p.ip_version == 4 || p.ip_version == 6);
      assert_true (p.ip_caplen <= p.ip_length);
      assert_true (p.l4_offset <= p.ip_caplen);
      assert_true (p.payload == NULL
                   || (p.payload >= p.ip && p.payload + p.payload_len <= p.ip + p.ip_caplen));
      if (p.ip_version == 4)
        {
          uint8_t mapped[16];

          natsim_ipv4_to_mapped (p.src4, mapped);
          assert_memory_equal (mapped, p.src, 16);
          natsim_ipv4_to_mapped (p.dst4, mapped);
          assert_memory_equal (mapped, p.dst, 16);
        }
      {
        Kept k;

        k.p = p;
        k.ip = g_bytes_new (p.ip, p.ip_caplen);
        k.payload = g_bytes_new (p.payload, p.payload_len);
        k.p.ip = NULL;
        k.p.payload = NULL;
        if (ret->packets->len > 0)
          {
            const Kept *prev = &g_array_index (ret->packets, Kept, ret->packets->len - 1);
            assert_true (prev->p.time <= p.time); /* monotone */
          }
        g_array_append_val (ret->packets, k);
      }
    }
  ret->stats = *natsim_trace_reader_stats (r);
  ret->have_first = natsim_trace_reader_first_time (r, &ret->first_unix_ns);
  /* Every record is decoded or skipped; skips add up. */
  {
    guint64 sum = 0;

    for (guint i = 0; i < NATSIM_TRACE_SKIP_N; i++)
      sum += ret->stats.skipped[i];
    assert_int_equal (sum, ret->stats.packets_skipped);
    assert_int_equal (ret->stats.packets_read,
                      ret->stats.packets_decoded + ret->stats.packets_skipped);
    assert_int_equal (ret->stats.packets_decoded, ret->packets->len);
    assert_int_equal (ret->stats.ipv4 + ret->stats.ipv6, ret->stats.packets_decoded);
    assert_int_equal (ret->stats.udp + ret->stats.tcp + ret->stats.icmp,
                      ret->stats.packets_decoded);
  }
}

/* Opens and reads one or more files; fails the test on an open error. */
static void
run_paths (const char *const *paths, guint n, Run *ret)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimTraceReader) r = natsim_trace_reader_open (paths, n, &error);

  assert_null (error);
  assert_non_null (r);
  run_reader (r, ret);
}

static void
run_sample (const char *name, Run *ret)
{
  g_autofree char *path = sample_path (name);
  const char      *paths[] = { path };

  run_paths (paths, 1, ret);
}

static const Kept *
kept (const Run *run, guint i)
{
  assert_true (i < run->packets->len);
  return &g_array_index (run->packets, Kept, i);
}

/* Conversations as tshark -z conv counts them: unordered endpoint pairs. */
static guint
conversations (const Run *run, uint8_t proto)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < run->packets->len; i++)
    {
      const NatsimTracePacket *p = &kept (run, i)->p;
      char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
      g_autofree char *ea = NULL, *eb = NULL;

      if (p->proto != proto || !p->has_ports)
        continue;
      inet_ntop (AF_INET6, p->src, a, sizeof a);
      inet_ntop (AF_INET6, p->dst, b, sizeof b);
      ea = g_strdup_printf ("%s.%u", a, p->src_port);
      eb = g_strdup_printf ("%s.%u", b, p->dst_port);
      g_hash_table_add (seen, strcmp (ea, eb) < 0 ? g_strconcat (ea, "|", eb, NULL)
                                                  : g_strconcat (eb, "|", ea, NULL));
    }
  return g_hash_table_size (seen);
}

static double
duration_s (const Run *run)
{
  return natsim_time_to_sec (kept (run, run->packets->len - 1)->p.time);
}

static gboolean
contains (const char *haystack, const char *needle)
{
  return haystack != NULL && strstr (haystack, needle) != NULL;
}

/* RFC 1071 checksum over @n bytes, plus @sum. */
static uint16_t
cksum (uint32_t sum, const uint8_t *p, size_t n)
{
  for (; n > 1; n -= 2, p += 2)
    sum += (uint32_t) (p[0] << 8 | p[1]);
  if (n)
    sum += (uint32_t) p[0] << 8;
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t) ~sum;
}

/* True if the IPv4 header and the UDP/TCP/ICMP checksums of a fully
 * captured IPv4 packet verify (sum to zero). */
static gboolean
checksums_verify (const Kept *k)
{
  gsize          n;
  const uint8_t *ip = g_bytes_get_data (k->ip, &n);
  size_t         hlen = (size_t) (ip[0] & 15) * 4;
  size_t         l4len = n - hlen;
  uint32_t       sum = 0;

  if (n != k->p.ip_length || cksum (0, ip, hlen) != 0)
    return FALSE;
  if (ip[9] != 1)
    {
      uint8_t pseudo[12];

      memcpy (pseudo, ip + 12, 8);
      pseudo[8] = 0;
      pseudo[9] = ip[9];
      pseudo[10] = (uint8_t) (l4len >> 8);
      pseudo[11] = (uint8_t) l4len;
      for (size_t i = 0; i < 12; i += 2)
        sum += (uint32_t) (pseudo[i] << 8 | pseudo[i + 1]);
    }
  return cksum (sum, ip + hlen, l4len) == 0;
}

/* ------------------------------------------------------------------ */
/* Building captures in a temporary directory                           */

typedef struct
{
  uint8_t  b[2048];
  size_t   n;
  uint32_t wire; /* on-the-wire length if not n (0: n) */
} Frame;

static void
put (Frame *f, const void *data, size_t n)
{
  assert_true (f->n + n <= sizeof f->b);
  memcpy (f->b + f->n, data, n);
  f->n += n;
}

static void
put8 (Frame *f, unsigned v)
{
  uint8_t b = (uint8_t) v;
  put (f, &b, 1);
}

static void
put16 (Frame *f, unsigned v)
{
  put8 (f, v >> 8);
  put8 (f, v);
}

static void
put32 (Frame *f, uint32_t v)
{
  put16 (f, v >> 16);
  put16 (f, v & 0xffff);
}

static void
put_eth (Frame *f, unsigned ethertype)
{
  static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };

  put (f, macs, sizeof macs);
  put16 (f, ethertype);
}

/* IPv4 header with @ihl words (options are NOPs); checksum left 0. */
static void
put_ipv4 (Frame *f, unsigned ihl, unsigned tos, unsigned total, unsigned frag,
          unsigned proto, uint32_t src, uint32_t dst)
{
  put8 (f, 0x40 | ihl);
  put8 (f, tos);
  put16 (f, total);
  put16 (f, 0x1234);
  put16 (f, frag);
  put8 (f, 64);
  put8 (f, proto);
  put16 (f, 0);
  put32 (f, src);
  put32 (f, dst);
  for (unsigned i = 5; i < ihl; i++)
    put32 (f, 0x01010101);
}

static void
put_udp (Frame *f, unsigned sport, unsigned dport, const char *payload)
{
  size_t n = strlen (payload);

  put16 (f, sport);
  put16 (f, dport);
  put16 (f, (unsigned) (8 + n));
  put16 (f, 0);
  put (f, payload, n);
}

static void
put_tcp (Frame *f, unsigned sport, unsigned dport, unsigned flags, const char *payload)
{
  put16 (f, sport);
  put16 (f, dport);
  put32 (f, 1000);
  put32 (f, 0);
  put8 (f, 5 << 4);
  put8 (f, flags);
  put16 (f, 65535);
  put16 (f, 0);
  put16 (f, 0);
  put (f, payload, strlen (payload));
}

static const uint8_t v6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t v6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

static void
put_ipv6 (Frame *f, unsigned tclass, unsigned plen, unsigned next)
{
  put32 (f, (6u << 28) | (tclass << 20) | 0x12345);
  put16 (f, plen);
  put8 (f, next);
  put8 (f, 64);
  put (f, v6_src, 16);
  put (f, v6_dst, 16);
}

/* An IPv4/UDP packet 10.0.0.1:5060 -> 203.0.113.10:5070 carrying "hello". */
static void
put_ipv4_udp (Frame *f)
{
  put_ipv4 (f, 5, 0, 20 + 8 + 5, 0, 17, IP4 (10, 0, 0, 1), IP4 (203, 0, 113, 10));
  put_udp (f, 5060, 5070, "hello");
}

typedef struct
{
  char *dir;
} Fixture;

static int
setup_dir (void **state)
{
  Fixture *fx = g_new0 (Fixture, 1);

  fx->dir = g_dir_make_tmp ("natsim-test-trace-XXXXXX", NULL);
  assert_non_null (fx->dir);
  *state = fx;
  return 0;
}

static int
teardown_dir (void **state)
{
  Fixture    *fx = *state;
  GDir       *d = g_dir_open (fx->dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (fx->dir, name, NULL);
      g_unlink (p);
    }
  if (d != NULL)
    g_dir_close (d);
  g_rmdir (fx->dir);
  g_free (fx->dir);
  g_free (fx);
  return 0;
}

/* Writes @frames as a pcap of link type @dlt; microsecond times 1 ms apart. */
static char *
write_capture (const Fixture *fx, const char *name, int dlt, const Frame *frames,
               guint n)
{
  char           *path = g_build_filename (fx->dir, name, NULL);
  pcap_t         *dead = pcap_open_dead (dlt, 65535);
  pcap_dumper_t  *d;

  assert_non_null (dead);
  d = pcap_dump_open (dead, path);
  assert_non_null (d);
  for (guint i = 0; i < n; i++)
    {
      struct pcap_pkthdr h;

      memset (&h, 0, sizeof h);
      h.ts.tv_sec = 1700000000;
      h.ts.tv_usec = (suseconds_t) (i * 1000);
      h.caplen = (bpf_u_int32) frames[i].n;
      h.len = frames[i].wire ? frames[i].wire : (bpf_u_int32) frames[i].n;
      pcap_dump ((u_char *) d, &h, frames[i].b);
    }
  pcap_dump_close (d);
  pcap_close (dead);
  return path;
}

static void
run_frames (const Fixture *fx, int dlt, const Frame *frames, guint n, Run *ret)
{
  g_autofree char *path = write_capture (fx, "frames.pcap", dlt, frames, n);
  const char      *paths[] = { path };

  run_paths (paths, 1, ret);
}

/* ------------------------------------------------------------------ */
/* Golden facts from the sample captures                                */

static void
test_webex (void **state)
{
  Run run;

  run_sample ("ndpi-webex-client.pcap", &run);
  assert_int_equal (run.stats.packets_read, 1110);
  assert_int_equal (run.stats.packets_decoded, 1110);
  assert_int_equal (run.stats.udp, 38);
  assert_int_equal (run.stats.tcp, 1072);
  assert_int_equal (run.stats.ipv4, 1110);
  assert_int_equal (conversations (&run, 17), 2);
  assert_int_equal (conversations (&run, 6), 55);
  assert_true (duration_s (&run) > 117.25 && duration_s (&run) < 117.35);
  assert_int_equal (run.stats.out_of_order, 0);
  assert_int_equal (run.stats.bad_timestamps, 0);
  /* tcpdump 'tcp[13] & 2 != 0 and tcp[13] & 16 == 0': 61 bare SYNs. */
  {
    guint syn = 0;
    for (guint i = 0; i < run.packets->len; i++)
      syn += (kept (&run, i)->p.tcp_flags & (NATSIM_TCP_SYN | NATSIM_TCP_ACK))
             == NATSIM_TCP_SYN;
    assert_int_equal (syn, 61);
  }
  assert_true (run.have_first);
  assert_int_equal (run.first_unix_ns, UINT64_C (1444570624853841000));
  run_clear (&run);
}

static void
test_heplify_rtp (void **state)
{
  Run run;

  run_sample ("heplify-sip-call-rtp-rtcp.pcap", &run);
  assert_int_equal (run.stats.packets_read, 4269);
  assert_int_equal (run.stats.udp, 3583);
  assert_int_equal (run.stats.tcp, 522);
  /* The rest is STP, CDP and ARP. */
  assert_int_equal (run.stats.skipped[NATSIM_TRACE_SKIP_NON_IP], 4269 - 3583 - 522);
  assert_int_equal (run.stats.packets_skipped, 4269 - 3583 - 522);
  assert_int_equal (conversations (&run, 17), 18);
  assert_int_equal (conversations (&run, 6), 60);
  assert_true (duration_s (&run) > 34.85 && duration_s (&run) < 34.95);
  run_clear (&run);
}

static void
test_fax (void **state)
{
  Run run;

  run_sample ("ndpi-fax-t38-sip.pcap", &run);
  assert_int_equal (run.stats.packets_read, 1552);
  assert_int_equal (run.stats.udp, 1552);
  assert_int_equal (conversations (&run, 17), 5);
  assert_true (duration_s (&run) > 109.25 && duration_s (&run) < 109.35);
  run_clear (&run);
}

static void
assert_kept_equal (const Kept *a, const Kept *b)
{
  const NatsimTracePacket *p = &a->p, *q = &b->p;

  assert_int_equal (p->time, q->time);
  assert_int_equal (p->unix_ns, q->unix_ns);
  assert_int_equal (p->record, q->record);
  assert_int_equal (p->ip_version, q->ip_version);
  assert_int_equal (p->proto, q->proto);
  assert_int_equal (p->tcp_flags, q->tcp_flags);
  assert_int_equal (p->dscp, q->dscp);
  assert_int_equal (p->icmp_type, q->icmp_type);
  assert_int_equal (p->icmp_code, q->icmp_code);
  assert_int_equal (p->has_ports, q->has_ports);
  assert_int_equal (p->fragment, q->fragment);
  assert_memory_equal (p->src, q->src, 16);
  assert_memory_equal (p->dst, q->dst, 16);
  assert_int_equal (p->src4, q->src4);
  assert_int_equal (p->dst4, q->dst4);
  assert_int_equal (p->src_port, q->src_port);
  assert_int_equal (p->dst_port, q->dst_port);
  assert_int_equal (p->ip_length, q->ip_length);
  assert_int_equal (p->wire_length, q->wire_length);
  assert_int_equal (p->ip_caplen, q->ip_caplen);
  assert_int_equal (p->l4_offset, q->l4_offset);
  assert_int_equal (p->payload_len, q->payload_len);
  assert_true (g_bytes_equal (a->ip, b->ip));
  assert_true (g_bytes_equal (a->payload, b->payload));
}

static void
test_isa_pcap_pcapng_identical (void **state)
{
  Run a, b;

  run_sample ("isa-sip-call-lab.pcap", &a);
  run_sample ("isa-sip-call-lab.pcapng", &b);
  assert_int_equal (a.stats.packets_read, 175);
  assert_int_equal (a.stats.udp, 173);
  assert_int_equal (a.stats.icmp, 2);
  assert_int_equal (conversations (&a, 17), 2);
  assert_true (duration_s (&a) > 36.35 && duration_s (&a) < 36.45);
  /* RTP marked EF (tos 0xb8): tcpdump 'ip[1] & 0xfc == 0xb8' finds 80. */
  {
    guint ef = 0;
    for (guint i = 0; i < a.packets->len; i++)
      ef += kept (&a, i)->p.dscp == 46;
    assert_int_equal (ef, 80);
  }
  /* The two ICMP packets are port unreachables: decoded, no ports. */
  for (guint i = 0; i < a.packets->len; i++)
    {
      const NatsimTracePacket *p = &kept (&a, i)->p;
      if (p->proto == 1)
        {
          assert_int_equal (p->icmp_type, 3);
          assert_int_equal (p->icmp_code, 3);
          assert_false (p->has_ports);
        }
    }
  assert_int_equal (a.packets->len, b.packets->len);
  assert_memory_equal (&a.stats, &b.stats, sizeof a.stats);
  for (guint i = 0; i < a.packets->len; i++)
    assert_kept_equal (kept (&a, i), kept (&b, i));
  run_clear (&a);
  run_clear (&b);
}

static void
test_sll_nanosecond (void **state)
{
  g_autofree char *path = sample_path ("tcpdump-sll-nanosecond.pcap");
  const char      *paths[] = { path };
  g_autoptr (NatsimTraceReader) r = natsim_trace_reader_open (paths, 1, NULL);
  Run run;

  assert_non_null (r);
  assert_string_equal (natsim_trace_reader_file_link_type (r, 0), "LINUX_SLL");
  run_reader (r, &run);
  assert_int_equal (run.packets->len, 3);
  assert_int_equal (run.first_unix_ns, UINT64_C (1418145369924505488));
  assert_int_equal (kept (&run, 0)->p.time, 0);
  assert_int_equal (kept (&run, 1)->p.time, UINT64_C (127521774));
  assert_int_equal (kept (&run, 2)->p.time, UINT64_C (127609669));
  assert_int_equal (kept (&run, 0)->p.tcp_flags, NATSIM_TCP_SYN);
  assert_int_equal (kept (&run, 1)->p.tcp_flags, NATSIM_TCP_SYN | NATSIM_TCP_ACK);
  assert_int_equal (kept (&run, 2)->p.tcp_flags, NATSIM_TCP_ACK);
  for (guint i = 0; i < 3; i++)
    {
      const NatsimTracePacket *p = &kept (&run, i)->p;
      bool out = i != 1;

      assert_int_equal (p->proto, 6);
      assert_int_equal (out ? p->src4 : p->dst4, IP4 (131, 155, 215, 69));
      assert_int_equal (out ? p->dst4 : p->src4, IP4 (137, 116, 81, 94));
      assert_int_equal (out ? p->src_port : p->dst_port, 46656);
      assert_int_equal (out ? p->dst_port : p->src_port, 80);
      assert_int_equal (p->payload_len, 0);
      assert_int_equal (p->ip_length, p->wire_length - 16);
    }
  run_clear (&run);
}

static void
test_non_ip_links (void **state)
{
  Run run;

  run_sample ("tcpdump-qinq.pcap", &run);
  assert_int_equal (run.stats.packets_read, 2);
  assert_int_equal (run.stats.skipped[NATSIM_TRACE_SKIP_NON_IP], 2);
  run_clear (&run);

  run_sample ("tcpdump-loopback.pcap", &run);
  assert_int_equal (run.stats.packets_read, 6);
  assert_int_equal (run.stats.skipped[NATSIM_TRACE_SKIP_NON_IP], 6);
  assert_false (run.stats.packets_decoded);
  assert_true (run.have_first); /* records were read, none decoded */
  run_clear (&run);
}

static void
test_nflog (void **state)
{
  static const uint16_t ports[] = { 42585, 45190, 44031, 48736 };
  static const size_t   dns_len[] = { 45, 57, 49, 61 };
  Run run;

  run_sample ("tcpdump-nflog.pcap", &run);
  assert_int_equal (run.packets->len, 4);
  for (guint i = 0; i < 4; i++)
    {
      const NatsimTracePacket *p = &kept (&run, i)->p;

      assert_int_equal (p->proto, 17);
      assert_int_equal (p->src4, IP4 (74, 82, 42, 42));
      assert_int_equal (p->dst4, IP4 (10, 0, 0, 20));
      assert_int_equal (p->src_port, 53);
      assert_int_equal (p->dst_port, ports[i]);
      assert_int_equal (p->payload_len, dns_len[i]);
      assert_int_equal (p->ip_length, 20 + 8 + dns_len[i]);
    }
  run_clear (&run);
}

static void
test_ipv6_fragments (void **state)
{
  Run run;

  run_sample ("heplify-ipv6-udp-fragmented.pcap", &run);
  assert_int_equal (run.packets->len, 6);
  assert_int_equal (run.stats.ipv6, 6);
  assert_int_equal (run.stats.fragments, 4);
  assert_int_equal (run.stats.later_fragments, 3);
  for (guint i = 0; i < 6; i++)
    {
      const NatsimTracePacket *p = &kept (&run, i)->p;

      assert_int_equal (p->ip_version, 6);
      assert_int_equal (p->proto, 17);
      assert_int_equal (p->fragment, i >= 2);
      assert_int_equal (p->has_ports, i <= 2);
      assert_int_equal (p->src_port, i <= 2 ? 6363 : 0);
      assert_int_equal (p->dst_port, i <= 2 ? 6363 : 0);
      assert_int_equal (p->src4, 0);
    }
  /* The first fragment: 1448 bytes of the 5379-byte datagram after the
   * 8-byte fragment header, of which 8 are the UDP header. */
  assert_int_equal (kept (&run, 2)->p.ip_length, 40 + 1456);
  assert_int_equal (kept (&run, 2)->p.payload_len, 1448 - 8);
  assert_int_equal (kept (&run, 5)->p.payload_len, 1043);
  run_clear (&run);
}

static void
test_sip_ipv6_unsigned_seconds (void **state)
{
  Run run;

  run_sample ("heplify-sip-ipv6-udp.pcap", &run);
  assert_int_equal (run.packets->len, 6);
  /* Seconds fields >= 2^31 are unsigned (2071 and 2092, not 1935/1956):
   * read so, the capture is in order. */
  assert_int_equal (run.stats.out_of_order, 0);
  assert_int_equal (run.stats.bad_timestamps, 0);
  assert_int_equal (kept (&run, 4)->p.unix_ns,
                    UINT64_C (3215500952) * NATSIM_NSEC_PER_SEC + 251758000);
  for (guint i = 0; i < 6; i++)
    {
      assert_int_equal (kept (&run, i)->p.ip_version, 6);
      assert_int_equal (kept (&run, i)->p.src_port, 5060);
    }
  {
    gsize       n;
    const char *sip = g_bytes_get_data (kept (&run, 0)->payload, &n);
    assert_true (n > 7 && memcmp (sip, "INVITE ", 7) == 0);
  }
  run_clear (&run);
}

static void
test_sip_ipv4_tcp (void **state)
{
  Run run;

  run_sample ("heplify-sip-ipv4-tcp.pcap", &run);
  assert_int_equal (run.packets->len, 84);
  assert_int_equal (run.stats.udp, 68);
  assert_int_equal (run.stats.tcp, 16);
  assert_int_equal (kept (&run, 0)->p.tcp_flags, NATSIM_TCP_SYN);
  assert_int_equal (kept (&run, 0)->p.src4, IP4 (10, 33, 6, 100));
  assert_int_equal (kept (&run, 0)->p.src_port, 64802);
  assert_int_equal (kept (&run, 0)->p.dst_port, 5060);
  assert_int_equal (kept (&run, 2)->p.payload_len, 788);
  {
    gsize       n;
    const char *sip = g_bytes_get_data (kept (&run, 2)->payload, &n);
    assert_true (n == 788 && memcmp (sip, "INVITE ", 7) == 0);
  }
  run_clear (&run);
}

/* ------------------------------------------------------------------ */
/* Hostile captures                                                     */

typedef struct
{
  const char *name;
  const char *open_error;  /* substring of the open error, or NULL */
  const char *read_error;  /* substring of the (single) read error, or NULL */
  guint       decoded;
  guint       read;        /* records read */
  struct
  {
    NatsimTraceSkip reason;
    guint           count;
  } skips[6];              /* zero-count entries end the list */
  guint       bad_timestamps;
  guint       out_of_order;
} BadCase;

#define SK(r, n) { NATSIM_TRACE_SKIP_##r, n }

static const BadCase bad_cases[] = {
  /* From the shared corpus (MANIFEST.md bad/). */
  { "tcpdump-timestamp-invalid-micro.pcap", NULL, NULL, 3, 3, { { 0, 0 } }, 2, 1 },
  { "tcpdump-udp-length-heapoverflow.pcap", NULL, NULL, 0, 1, { SK (UDP_TRUNCATED, 1) }, 0, 0 },
  /* Its frame length is 4093509168 bytes; its microseconds negative. */
  { "ndpi-fuzz-truncated-record.pcap", NULL, NULL, 0, 1, { SK (LEN_TOO_LARGE, 1) }, 1, 0 },
  { "tcpdump-empty.pcapng", NULL, NULL, 0, 0, { { 0, 0 } }, 0, 0 },
  { "tcpdump-ipv6-frag-negative-len.pcap", NULL, NULL, 0, 1, { SK (IPV6_BAD_LENGTH, 1) }, 0, 0 },
  /* A first fragment (MF set) cut by the 46-byte snaplen: ports known,
   * decoded as a truncated fragment. */
  { "tcpdump-esp-truncated.pcap", NULL, NULL, 1, 1, { { 0, 0 } }, 0, 0 },
  /* Made by make-bad-traces.py. */
  { "natsim-empty.pcap", "not a pcap or pcapng capture (empty file)", NULL, 0, 0, { { 0, 0 } }, 0, 0 },
  { "natsim-garbage.pcap", "not a pcap or pcapng capture (unknown file format)", NULL, 0, 0, { { 0, 0 } }, 0, 0 },
  { "natsim-wrong-magic.pcap", "not a pcap or pcapng capture (unknown file format)", NULL, 0, 0, { { 0, 0 } }, 0, 0 },
  { "natsim-truncated-global-header.pcap", "not a pcap or pcapng capture (truncated dump file", NULL, 0, 0, { { 0, 0 } }, 0, 0 },
  { "natsim-unsupported-linktype.pcap", "unsupported link type IEEE802_11 (802.11, DLT 105)", NULL, 0, 0, { { 0, 0 } }, 0, 0 },
  { "natsim-pcapng-bad-shb-length.pcapng", "not a pcap or pcapng capture (Section Header Block", NULL, 0, 0, { { 0, 0 } }, 0, 0 },
  /* Cut captures: read up to the cut by default (test_cut_capture for
   * --strict and the counts). */
  { "natsim-truncated-record.pcap", NULL, NULL, 1, 1, { { 0, 0 } }, 0, 0 },
  { "natsim-truncated-record-header.pcap", NULL, NULL, 1, 1, { { 0, 0 } }, 0, 0 },
  { "natsim-caplen-huge.pcap", NULL, "packet 2: invalid packet capture length 4294967295", 1, 1, { { 0, 0 } }, 0, 0 },
  { "natsim-pcapng-bad-block-length.pcapng", NULL, "packet 2: block in pcapng dump file has a length of 13", 1, 1, { { 0, 0 } }, 0, 0 },
  /* libpcap cuts a pcap record to the file's snaplen (40): UDP header cut. */
  { "natsim-caplen-over-snaplen.pcap", NULL, NULL, 0, 2, { SK (UDP_TRUNCATED, 2) }, 0, 0 },
  { "natsim-caplen-over-len.pcap", NULL, NULL, 1, 2, { SK (CAPLEN_EXCEEDS_LEN, 1) }, 0, 0 },
  /* The MPLS frame carries IPv4 under its label: decoded. */
  { "natsim-non-ip-ethertypes.pcap", NULL, NULL, 1, 6, { SK (NON_IP, 5) }, 0, 0 },
  { "natsim-link-truncated.pcap", NULL, NULL, 0, 3, { SK (TRUNCATED_LINK, 2), SK (BAD_LINK, 1) }, 0, 0 },
  { "natsim-ipv4-bad-ihl.pcap", NULL, NULL, 0, 2, { SK (IPV4_BAD_IHL, 2) }, 0, 0 },
  { "natsim-ipv4-bad-length.pcap", NULL, NULL, 0, 5,
    { SK (IPV4_BAD_LENGTH, 3), SK (IP_BAD_VERSION, 1), SK (IPV4_TRUNCATED, 1) }, 0, 0 },
  { "natsim-tcp-bad-offset.pcap", NULL, NULL, 0, 3, { SK (TCP_BAD_OFFSET, 2), SK (TCP_TRUNCATED, 1) }, 0, 0 },
  { "natsim-udp-bad-length.pcap", NULL, NULL, 0, 5,
    { SK (UDP_BAD_LENGTH, 2), SK (UDP_TRUNCATED, 1), SK (ICMP_TRUNCATED, 1), SK (TUNNEL_UNSUPPORTED, 1) }, 0, 0 },
  { "natsim-ipv6-bad-ext.pcap", NULL, NULL, 0, 6,
    { SK (IPV6_BAD_EXT, 4), SK (IPV6_BAD_LENGTH, 1), SK (IPV6_TRUNCATED, 1) }, 0, 0 },
  { "natsim-nflog-bad-tlv.pcap", NULL, NULL, 0, 5, { SK (BAD_LINK, 4), SK (TRUNCATED_LINK, 1) }, 0, 0 },
};

static const BadCase *
bad_case_lookup (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    if (strcmp (bad_cases[i].name, name) == 0)
      return &bad_cases[i];
  return NULL;
}

static void
check_bad_case (const BadCase *bc)
{
  g_autofree char *path = bad_path (bc->name);
  const char      *paths[] = { path };
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimTraceReader) r = natsim_trace_reader_open (paths, 1, &error);
  Run run;

  if (bc->open_error != NULL)
    {
      g_autofree char *prefix = g_strconcat (path, ": ", NULL);

      assert_null (r);
      assert_true (g_error_matches (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT));
      if (!contains (error->message, bc->open_error))
        fail_msg ("%s: open error '%s' lacks '%s'", bc->name, error->message,
                  bc->open_error);
      assert_true (g_str_has_prefix (error->message, prefix));
      assert_null (strchr (error->message, '\n'));
      return;
    }
  if (r == NULL)
    fail_msg ("%s: unexpected open error: %s", bc->name, error->message);
  run_reader (r, &run);
  if (bc->read_error != NULL)
    {
      assert_int_equal (run.errors->len, 1);
      if (!contains (g_ptr_array_index (run.errors, 0), bc->read_error))
        fail_msg ("%s: read error '%s' lacks '%s'", bc->name,
                  (char *) g_ptr_array_index (run.errors, 0), bc->read_error);
      assert_true (contains (g_ptr_array_index (run.errors, 0), path));
      assert_int_equal (run.stats.files_failed, 1);
    }
  else
    assert_int_equal (run.errors->len, 0);
  if (run.stats.packets_decoded != bc->decoded || run.stats.packets_read != bc->read)
    fail_msg ("%s: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
              " records decoded, expected %u of %u", bc->name,
              run.stats.packets_decoded, run.stats.packets_read, bc->decoded, bc->read);
  {
    guint64 listed = 0;

    for (guint i = 0; i < G_N_ELEMENTS (bc->skips) && bc->skips[i].count; i++)
      {
        if (run.stats.skipped[bc->skips[i].reason] != bc->skips[i].count)
          fail_msg ("%s: %s skipped %" G_GUINT64_FORMAT " times, expected %u",
                    bc->name, natsim_trace_skip_name (bc->skips[i].reason),
                    run.stats.skipped[bc->skips[i].reason], bc->skips[i].count);
        listed += bc->skips[i].count;
      }
    assert_int_equal (run.stats.packets_skipped, listed);
  }
  if (run.stats.bad_timestamps != bc->bad_timestamps
      || run.stats.out_of_order != bc->out_of_order)
    fail_msg ("%s: %" G_GUINT64_FORMAT " bad and %" G_GUINT64_FORMAT
              " out-of-order timestamps, expected %u and %u", bc->name,
              run.stats.bad_timestamps, run.stats.out_of_order, bc->bad_timestamps,
              bc->out_of_order);
  run_clear (&run);
}

static void
test_bad_traces (void **state)
{
  const char *data = g_getenv ("NATSIM_DATA");
  g_autofree char *dir = NULL;
  GDir       *d;
  const char *name;
  guint       seen = 0;

  assert_non_null (data);
  dir = g_build_filename (data, "bad-traces", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    check_bad_case (&bad_cases[i]);

  /* Every capture in the directory has an expected outcome above: a new
   * hostile file must be looked at, not silently accepted. */
  d = g_dir_open (dir, 0, NULL);
  assert_non_null (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      if (!g_str_has_suffix (name, ".pcap") && !g_str_has_suffix (name, ".pcapng"))
        continue;
      if (bad_case_lookup (name) == NULL)
        fail_msg ("%s: no expected outcome in bad_cases[]", name);
      seen++;
    }
  g_dir_close (d);
  assert_int_equal (seen, G_N_ELEMENTS (bad_cases));
}

/* After a read error the other files go on; the error names the file. */
static void
test_error_then_continue (void **state)
{
  g_autofree char *bad = bad_path ("natsim-truncated-record.pcap");
  g_autofree char *good = sample_path ("tcpdump-sll-nanosecond.pcap");
  const char      *paths[] = { good, bad };
  g_autoptr (NatsimTraceReader) r = natsim_trace_reader_open (paths, 2, NULL);
  Run run;

  assert_non_null (r);
  natsim_trace_reader_set_strict (r, TRUE);
  run_reader (r, &run);
  assert_int_equal (run.errors->len, 1);
  assert_true (contains (g_ptr_array_index (run.errors, 0), bad));
  assert_true (contains (g_ptr_array_index (run.errors, 0), "packet 2"));
  /* 1 packet of the bad file (2023) after the 3 of the good one (2014). */
  assert_int_equal (run.packets->len, 4);
  assert_int_equal (kept (&run, 3)->p.file_index, 1);
  assert_int_equal (kept (&run, 3)->p.record, 1);
  assert_int_equal (run.stats.files_failed, 1);
  run_clear (&run);
}

/* Copies @name (a sample) into the fixture without its last @cut bytes, as
 * a capture whose writer was killed. */
static char *
cut_copy (const Fixture *fx, const char *name, gsize cut)
{
  g_autofree char *src = sample_path (name);
  g_autofree char *data = NULL;
  char  *dst = g_build_filename (fx->dir, name, NULL);
  gsize  n;

  assert_true (g_file_get_contents (src, &data, &n, NULL));
  assert_true (n > cut);
  assert_true (g_file_set_contents (dst, data, (gssize) (n - cut), NULL));
  return dst;
}

/* A capture whose last record is cut: every complete record is read, the
 * cut is counted and named; --strict makes it an error.  pcap (the last
 * record's data cut, or its header) and pcapng alike. */
static void
test_cut_capture (void **state)
{
  Fixture *fx = *state;
  const struct
  {
    const char *name;
    gsize       cut;
    guint       complete; /* records before the cut one */
  } cases[] = {
    { "scapy-gre-sip.pcap", 10, 7 },          /* inside the last record's data */
    { "isa-sip-call-lab.pcap", 46 + 8, 174 }, /* the last record: its 46 bytes, half its header */
    { "isa-sip-call-lab.pcapng", 108 + 30, 174 }, /* its closing statistics block, then 30 bytes */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = cut_copy (fx, cases[i].name, cases[i].cut);
      g_autofree char *good = sample_path ("tcpdump-sll-nanosecond.pcap");
      const char *paths[] = { good, path };
      g_autoptr (NatsimTraceReader) r = natsim_trace_reader_open (paths, 2, NULL);
      g_autoptr (NatsimTraceReader) strict = natsim_trace_reader_open (paths, 2, NULL);
      g_autofree char *msg = NULL;
      Run run, run_strict;

      assert_non_null (r);
      run_reader (r, &run);
      assert_int_equal (run.errors->len, 0);
      assert_int_equal (run.stats.packets_read, 3 + cases[i].complete);
      assert_int_equal (run.stats.files_cut, 1);
      assert_int_equal (run.stats.cut_file, 1);
      assert_int_equal (run.stats.cut_record, cases[i].complete + 1);
      assert_int_equal (run.stats.files_failed, 0);
      msg = natsim_trace_cut_message (&run.stats, paths);
      assert_non_null (msg);
      assert_true (g_str_has_prefix (msg, path));
      {
        g_autofree char *want = g_strdup_printf ("ends inside record %u", cases[i].complete + 1);

        assert_true (contains (msg, want));
      }
      assert_null (strchr (msg, '\n'));

      natsim_trace_reader_set_strict (strict, TRUE);
      run_reader (strict, &run_strict);
      assert_int_equal (run_strict.errors->len, 1);
      assert_true (contains (g_ptr_array_index (run_strict.errors, 0), path));
      assert_true (contains (g_ptr_array_index (run_strict.errors, 0), "truncated"));
      assert_int_equal (run_strict.stats.files_cut, 0);
      assert_int_equal (run_strict.stats.packets_read, 3 + cases[i].complete);
      run_clear (&run);
      run_clear (&run_strict);
    }
  /* A whole capture: nothing to say. */
  {
    NatsimTraceStats st;

    memset (&st, 0, sizeof st);
    assert_null (natsim_trace_cut_message (&st, (const char *[]) { "x" }));
    assert_null (natsim_trace_bad_time_message (&st));
    st.bad_timestamps = 2;
    {
      g_autofree char *m = natsim_trace_bad_time_message (&st);
      assert_true (contains (m, "2 records with an impossible timestamp"));
    }
  }
}

static void
test_open_errors (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GError) error = NULL;
  g_autofree char *good = sample_path ("tcpdump-qinq.pcap");
  g_autofree char *missing = g_build_filename (fx->dir, "missing.pcap", NULL);
  const char *paths[] = { good, missing };
  NatsimTraceReader *r;

  r = natsim_trace_reader_open (paths, 2, &error);
  assert_null (r);
  assert_true (g_error_matches (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT));
  assert_true (g_str_has_prefix (error->message, missing));
  assert_true (contains (error->message, "cannot open: No such file or directory"));
  g_clear_error (&error);

  paths[1] = fx->dir;
  r = natsim_trace_reader_open (paths, 2, &error);
  assert_null (r);
  assert_true (contains (error->message, "is a directory"));
}

/* ------------------------------------------------------------------ */
/* Merging                                                              */

static char *
write_udp_times (const Fixture *fx, const char *name, const NatsimTime *times,
                 guint n, uint16_t port)
{
  char *path = g_build_filename (fx->dir, name, NULL);
  g_autoptr (NatsimPcapWriter) w = natsim_pcap_writer_open (path, NULL);

  assert_non_null (w);
  natsim_pcap_writer_set_epoch (w, NATSIM_SEC (1700000000));
  for (guint i = 0; i < n; i++)
    {
      NatsimPacket pkt = { 0 };

      pkt.time = times[i];
      pkt.src_addr = IP4 (10, 0, 0, 1);
      pkt.dst_addr = IP4 (198, 51, 100, 1);
      pkt.src_port = port;
      pkt.dst_port = (uint16_t) (1000 + i);
      pkt.proto = NATSIM_PROTO_UDP;
      assert_true (natsim_pcap_writer_write_udp (w, &pkt, NULL, 0));
    }
  assert_true (natsim_pcap_writer_close (w, NULL));
  return path;
}

static void
test_merge (void **state)
{
  Fixture *fx = *state;
  static const NatsimTime ta[] = { NATSIM_MSEC (10), NATSIM_MSEC (20), NATSIM_MSEC (30), NATSIM_MSEC (40) };
  static const NatsimTime tb[] = { NATSIM_MSEC (5), NATSIM_MSEC (20), NATSIM_MSEC (25), NATSIM_MSEC (50), NATSIM_MSEC (60) };
  g_autofree char *a = write_udp_times (fx, "a.pcap", ta, G_N_ELEMENTS (ta), 1111);
  g_autofree char *b = write_udp_times (fx, "b.pcap", tb, G_N_ELEMENTS (tb), 2222);
  const char *paths[] = { a, b };
  /* Expected (file, record): ties (20 ms) go to the earlier path. */
  static const guint want[][2] = { { 1, 1 }, { 0, 1 }, { 0, 2 }, { 1, 2 }, { 1, 3 },
                                   { 0, 3 }, { 0, 4 }, { 1, 4 }, { 1, 5 } };
  Run run;

  run_paths (paths, 2, &run);
  assert_int_equal (run.packets->len, G_N_ELEMENTS (want));
  assert_int_equal (run.first_unix_ns, NATSIM_SEC (1700000000) + NATSIM_MSEC (5));
  for (guint i = 0; i < run.packets->len; i++)
    {
      const NatsimTracePacket *p = &kept (&run, i)->p;
      const NatsimTime        *t = want[i][0] == 0 ? ta : tb;

      assert_int_equal (p->file_index, want[i][0]);
      assert_int_equal (p->record, want[i][1]);
      assert_int_equal (p->src_port, want[i][0] == 0 ? 1111 : 2222);
      assert_int_equal (p->time, t[want[i][1] - 1] - NATSIM_MSEC (5));
      assert_int_equal (p->unix_ns, NATSIM_SEC (1700000000) + t[want[i][1] - 1]);
    }
  run_clear (&run);

  /* The same file twice: each packet twice in a row, file 0 first. */
  paths[1] = a;
  run_paths (paths, 2, &run);
  assert_int_equal (run.packets->len, 2 * G_N_ELEMENTS (ta));
  for (guint i = 0; i < run.packets->len; i += 2)
    {
      assert_int_equal (kept (&run, i)->p.file_index, 0);
      assert_int_equal (kept (&run, i + 1)->p.file_index, 1);
      assert_int_equal (kept (&run, i)->p.unix_ns, kept (&run, i + 1)->p.unix_ns);
    }
  run_clear (&run);
}

/* Out-of-order timestamps are counted and clamped to stay monotone. */
static void
test_out_of_order (void **state)
{
  Fixture *fx = *state;
  static const NatsimTime t[] = { NATSIM_SEC (1), NATSIM_SEC (3), NATSIM_SEC (2), NATSIM_SEC (4) };
  g_autofree char *a = write_udp_times (fx, "ooo.pcap", t, G_N_ELEMENTS (t), 1);
  const char *paths[] = { a };
  Run run;

  run_paths (paths, 1, &run);
  assert_int_equal (run.stats.out_of_order, 1);
  assert_int_equal (kept (&run, 0)->p.time, 0);
  assert_int_equal (kept (&run, 1)->p.time, NATSIM_SEC (2));
  assert_int_equal (kept (&run, 2)->p.time, NATSIM_SEC (2)); /* clamped */
  assert_int_equal (kept (&run, 3)->p.time, NATSIM_SEC (3));
  run_clear (&run);
}

/* ------------------------------------------------------------------ */
/* Link types and headers no sample covers                              */

static void
assert_hello_udp (const Run *run, guint i)
{
  const NatsimTracePacket *p = &kept (run, i)->p;

  assert_int_equal (p->ip_version, 4);
  assert_int_equal (p->proto, 17);
  assert_int_equal (p->src4, IP4 (10, 0, 0, 1));
  assert_int_equal (p->dst4, IP4 (203, 0, 113, 10));
  assert_int_equal (p->src_port, 5060);
  assert_int_equal (p->dst_port, 5070);
  assert_int_equal (p->ip_length, 33);
  assert_int_equal (p->payload_len, 5);
  assert_true (g_bytes_get_size (kept (run, i)->payload) == 5
               && memcmp (g_bytes_get_data (kept (run, i)->payload, NULL), "hello", 5) == 0);
}

static void
test_link_loopback (void **state)
{
  Fixture *fx = *state;
  Frame f[5] = { 0 };
  Run run;

  /* DLT_NULL in both byte orders; AF_INET6 as macOS (30) numbers it. */
  put32 (&f[0], 0x02000000); /* AF_INET, little-endian writer */
  put_ipv4_udp (&f[0]);
  put32 (&f[1], 2);          /* AF_INET, big-endian writer */
  put_ipv4_udp (&f[1]);
  put32 (&f[2], 0x1e000000);
  put_ipv6 (&f[2], 0, 8 + 2, 17);
  put_udp (&f[2], 1, 2, "v6");
  put32 (&f[3], 0x07000000); /* AF 7: not IP */
  put_ipv4_udp (&f[3]);
  put16 (&f[4], 2);          /* cut short */
  run_frames (fx, DLT_NULL, f, 5, &run);
  assert_int_equal (run.packets->len, 3);
  assert_hello_udp (&run, 0);
  assert_hello_udp (&run, 1);
  assert_int_equal (kept (&run, 2)->p.ip_version, 6);
  assert_memory_equal (kept (&run, 2)->p.src, v6_src, 16);
  assert_int_equal (run.stats.skipped[NATSIM_TRACE_SKIP_NON_IP], 1);
  assert_int_equal (run.stats.skipped[NATSIM_TRACE_SKIP_TRUNCATED_LINK], 1);
  run_clear (&run);

  /* DLT_LOOP: network order. */
  memset (f, 0, sizeof f);
  put32 (&f[0], 2);
  put_ipv4_udp (&f[0]);
  run_frames (fx, DLT_LOOP, f, 1, &run);
  assert_int_equal (run.packets->len, 1);
  assert_hello_udp (&run, 0);
  run_clear (&run);
}

static void
test_link_raw (void **state)
{
  Fixture *fx = *state;
  Frame f[3] = { 0 };
  Run run;

  put_ipv4_udp (&f[0]);
  put_ipv6 (&f[1], 0, 8, 17);
  put_udp (&f[1], 1, 2, "");
  put8 (&f[2], 0x50); /* version 5 */
  put (&f[2], "0123456789012345678901234567890123456789", 39);
  run_frames (fx, DLT_RAW, f, 3, &run);
  assert_int_equal (run.packets->len, 2);
  assert_hello_udp (&run, 0);
  assert_int_equal (kept (&run, 1)->p.ip_version, 6);
  assert_int_equal (run.stats.skipped[NATSIM_TRACE_SKIP_IP_BAD_VERSION], 1);
  run_clear (&run);

  /* DLT_IPV4 and DLT_IPV6 insist on their version. */
  run_frames (fx, DLT_IPV4, f, 2, &run);
  assert_int_equal (run.packets->len, 1);
  assert_int_equal (run.stats.skipped[NATSIM_TRACE_SKIP_IP_BAD_VERSION], 1);
  run_clear (&run);
  run_frames (fx, DLT_IPV6, f, 2, &run);
  assert_int_equal (run.packets->len, 1);
  assert_int_equal (kept (&run, 0)->p.ip_version, 6);
  run_clear (&run);
}

static void
test_link_sll_vlan_pppoe (void **state)
{
  Fixture *fx = *state;
  Frame f[4] = { 0 };
  Run run;

  /* Linux cooked v2: protocol, reserved, ifindex, hatype, pkttype, halen, addr. */
  put16 (&f[0], 0x0800);
  put16 (&f[0], 0);
  put32 (&f[0], 3);
  put16 (&f[0], 1);
  put8 (&f[0], 4);
  put8 (&f[0], 6);
  put (&f[0], "\2\0\0\0\0\1\0\0", 8);
  put_ipv4_udp (&f[0]);
  run_frames (fx, DLT_LINUX_SLL2, f, 1, &run);
  assert_int_equal (run.packets->len, 1);
  assert_hello_udp (&run, 0);
  run_clear (&run);

  /* Linux cooked v1 with an 802.1Q tag left in. */
  memset (f, 0, sizeof f);
  put16 (&f[0], 4);
  put16 (&f[0], 1);
  put16 (&f[0], 6);
  put (&f[0], "\2\0\0\0\0\1\0\0", 8);
  put16 (&f[0], 0x8100);
  put16 (&f[0], 100);
  put16 (&f[0], 0x0800);
  put_ipv4_udp (&f[0]);
  run_frames (fx, DLT_LINUX_SLL, f, 1, &run);
  assert_int_equal (run.packets->len, 1);
  assert_hello_udp (&run, 0);
  run_clear (&run);

  /* Ethernet: 802.1Q; 802.1ad + 802.1Q (QinQ); PPPoE session; PPPoE LCP. */
  memset (f, 0, sizeof f);
  put_eth (&f[0], 0x8100);
  put16 (&f[0], 10);
  put16 (&f[0], 0x0800);
  put_ipv4_udp (&f[0]);
  put_eth (&f[1], 0x88a8);
  put16 (&f[1], 200);
  put16 (&f[1], 0x8100);
  put16 (&f[1], 2001);
  put16 (&f[1], 0x0800);
  put_ipv4_udp (&f[1]);
  put_eth (&f[2], 0x8864);
  put (&f[2], "\x11\x00\x12\x34", 4);
  put16 (&f[2], 2 + 33);
  put16 (&f[2], 0x0021);
  put_ipv4_udp (&f[2]);
  put_eth (&f[3], 0x8864);
  put (&f[3], "\x11\x00\x12\x34", 4);
  put16 (&f[3], 6);
  put16 (&f[3], 0xc021);
  put32 (&f[3], 0x01010004);
  run_frames (fx, DLT_EN10MB, f, 4, &run);
  assert_int_equal (run.packets->len, 3);
  for (guint i = 0; i < 3; i++)
    assert_hello_udp (&run, i);
  assert_int_equal (run.stats.skipped[NATSIM_TRACE_SKIP_NON_IP], 1);
  run_clear (&run);
}

static void
test_ipv4_details (void **state)
{
  Fixture *fx = *state;
  Frame f[9] = { 0 };
  Run run;

  /* 0: options (IHL 6), DSCP 46, Ethernet padding after the datagram. */
  put_eth (&f[0], 0x0800);
  put_ipv4 (&f[0], 6, 0xb8, 24 + 8 + 2, 0, 17, IP4 (10, 0, 0, 1), IP4 (203, 0, 113, 10));
  put_udp (&f[0], 5060, 5070, "hi");
  put (&f[0], "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
  /* 1: first fragment (MF, offset 0) with ports; UDP length is the whole
   * datagram's, beyond this fragment. */
  put_eth (&f[1], 0x0800);
  put_ipv4 (&f[1], 5, 0, 20 + 8 + 8, 0x2000, 17, IP4 (10, 0, 0, 1), IP4 (203, 0, 113, 10));
  put16 (&f[1], 5060);
  put16 (&f[1], 5070);
  put16 (&f[1], 3000);
  put16 (&f[1], 0);
  put (&f[1], "fragment", 8);
  /* 2: a later fragment: no ports. */
  put_eth (&f[2], 0x0800);
  put_ipv4 (&f[2], 5, 0, 20 + 16, 2, 17, IP4 (10, 0, 0, 1), IP4 (203, 0, 113, 10));
  put (&f[2], "0123456789abcdef", 16);
  /* 3: ICMP echo request, id 0x4242; 4: ICMP time exceeded. */
  put_eth (&f[3], 0x0800);
  put_ipv4 (&f[3], 5, 0, 28, 0, 1, IP4 (10, 0, 0, 1), IP4 (203, 0, 113, 10));
  put (&f[3], "\x08\x00\x00\x00\x42\x42\x00\x01", 8);
  put_eth (&f[4], 0x0800);
  put_ipv4 (&f[4], 5, 0, 28, 0, 1, IP4 (203, 0, 113, 1), IP4 (10, 0, 0, 1));
  put (&f[4], "\x0b\x00\x00\x00\x00\x00\x00\x00", 8);
  /* 5: TCP with options and payload, SYN|ACK|PSH. */
  put_eth (&f[5], 0x0800);
  put_ipv4 (&f[5], 5, 0, 20 + 24 + 3, 0, 6, IP4 (10, 0, 0, 1), IP4 (203, 0, 113, 10));
  put16 (&f[5], 40000);
  put16 (&f[5], 443);
  put32 (&f[5], 1);
  put32 (&f[5], 2);
  put8 (&f[5], 6 << 4);
  put8 (&f[5], 0x1a);
  put16 (&f[5], 100);
  put32 (&f[5], 0);
  put32 (&f[5], 0x01010101);
  put (&f[5], "abc", 3);
  /* 6: cut by the snaplen inside the UDP payload (wire 100 bytes). */
  put_eth (&f[6], 0x0800);
  put_ipv4 (&f[6], 5, 0, 86, 0, 17, IP4 (10, 0, 0, 1), IP4 (203, 0, 113, 10));
  put16 (&f[6], 1);
  put16 (&f[6], 2);
  put16 (&f[6], 66);
  put16 (&f[6], 0);
  put (&f[6], "cut", 3);
  f[6].wire = 100;
  /* 7: total length 0 (segmentation offload): the frame's length counts. */
  put_eth (&f[7], 0x0800);
  put_ipv4 (&f[7], 5, 0, 0, 0, 6, IP4 (10, 0, 0, 1), IP4 (203, 0, 113, 10));
  put_tcp (&f[7], 40000, 443, NATSIM_TCP_ACK, "tso-data");
  /* 8: ESP: unsupported (GRE is opened: test-tunnels.c). */
  put_eth (&f[8], 0x0800);
  put_ipv4 (&f[8], 5, 0, 24, 0, 50, IP4 (10, 0, 0, 1), IP4 (203, 0, 113, 10));
  put32 (&f[8], 0x00000800);
  run_frames (fx, DLT_EN10MB, f, 9, &run);

  assert_int_equal (run.packets->len, 8);
  assert_int_equal (kept (&run, 0)->p.dscp, 46);
  assert_int_equal (kept (&run, 0)->p.ip_length, 34);
  assert_int_equal (kept (&run, 0)->p.ip_caplen, 34);
  assert_int_equal (kept (&run, 0)->p.l4_offset, 24);
  assert_int_equal (kept (&run, 0)->p.payload_len, 2);
  assert_int_equal (kept (&run, 0)->p.wire_length, 14 + 34 + 12);

  assert_true (kept (&run, 1)->p.fragment);
  assert_true (kept (&run, 1)->p.has_ports);
  assert_int_equal (kept (&run, 1)->p.src_port, 5060);
  assert_int_equal (kept (&run, 1)->p.payload_len, 8);
  assert_true (kept (&run, 2)->p.fragment);
  assert_false (kept (&run, 2)->p.has_ports);
  assert_int_equal (kept (&run, 2)->p.proto, 17);
  assert_int_equal (kept (&run, 2)->p.payload_len, 16);
  assert_int_equal (run.stats.fragments, 2);
  assert_int_equal (run.stats.later_fragments, 1);

  assert_true (kept (&run, 3)->p.has_ports);
  assert_int_equal (kept (&run, 3)->p.src_port, 0x4242);
  assert_int_equal (kept (&run, 3)->p.dst_port, 0x4242);
  assert_int_equal (kept (&run, 3)->p.icmp_type, 8);
  assert_false (kept (&run, 4)->p.has_ports);
  assert_int_equal (kept (&run, 4)->p.icmp_type, 11);

  assert_int_equal (kept (&run, 5)->p.tcp_flags, 0x1a);
  assert_int_equal (kept (&run, 5)->p.l4_offset, 20);
  assert_int_equal (kept (&run, 5)->p.payload_len, 3);
  assert_int_equal (kept (&run, 5)->p.src_port, 40000);

  assert_int_equal (kept (&run, 6)->p.ip_length, 86);
  assert_int_equal (kept (&run, 6)->p.ip_caplen, 31);
  assert_int_equal (kept (&run, 6)->p.payload_len, 3);
  assert_int_equal (kept (&run, 6)->p.wire_length, 100);
  assert_int_equal (run.stats.truncated, 1);

  assert_int_equal (kept (&run, 7)->p.ip_length, 20 + 20 + 8);
  assert_int_equal (kept (&run, 7)->p.payload_len, 8);

  assert_int_equal (run.stats.skipped[NATSIM_TRACE_SKIP_UNSUPPORTED_PROTO], 1);
  run_clear (&run);
}

static void
test_ipv6_details (void **state)
{
  Fixture *fx = *state;
  Frame f[5] = { 0 };
  Run run;

  /* 0: hop-by-hop, destination options, routing, AH, then TCP;
   * traffic class 0xb8 (EF). */
  put_eth (&f[0], 0x86dd);
  put_ipv6 (&f[0], 0xb8, 8 + 16 + 24 + 16 + 20, 0);
  put8 (&f[0], 60);      /* HBH: next dstopts, 8 bytes */
  put8 (&f[0], 0);
  put (&f[0], "\1\4\0\0\0\0", 6);
  put8 (&f[0], 43);      /* dstopts: next routing, 16 bytes */
  put8 (&f[0], 1);
  put (&f[0], "\1\14\0\0\0\0\0\0\0\0\0\0\0\0", 14);
  put8 (&f[0], 51);      /* routing: next AH, 24 bytes */
  put8 (&f[0], 2);
  put (&f[0], "\4\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 22);
  put8 (&f[0], 6);       /* AH: next TCP, (2 + 2) * 4 = 16 bytes */
  put8 (&f[0], 2);
  put (&f[0], "\0\0\0\0\0\1\0\0\0\1\0\0\0\0", 14);
  put_tcp (&f[0], 40000, 443, NATSIM_TCP_SYN, "");
  /* 1: ICMPv6 echo reply id 7; 2: ICMPv6 neighbour solicitation. */
  put_eth (&f[1], 0x86dd);
  put_ipv6 (&f[1], 0, 8, 58);
  put (&f[1], "\x81\x00\x00\x00\x00\x07\x00\x01", 8);
  put_eth (&f[2], 0x86dd);
  put_ipv6 (&f[2], 0, 8, 58);
  put (&f[2], "\x87\x00\x00\x00\x00\x00\x00\x00", 8);
  /* 3: ICMP for IPv4 inside IPv6: unsupported. */
  put_eth (&f[3], 0x86dd);
  put_ipv6 (&f[3], 0, 8, 1);
  put (&f[3], "\x08\x00\x00\x00\x00\x07\x00\x01", 8);
  /* 4: no next header. */
  put_eth (&f[4], 0x86dd);
  put_ipv6 (&f[4], 0, 0, 59);
  run_frames (fx, DLT_EN10MB, f, 5, &run);

  assert_int_equal (run.packets->len, 3);
  assert_int_equal (kept (&run, 0)->p.proto, 6);
  assert_int_equal (kept (&run, 0)->p.dscp, 46);
  assert_int_equal (kept (&run, 0)->p.tcp_flags, NATSIM_TCP_SYN);
  assert_int_equal (kept (&run, 0)->p.dst_port, 443);
  assert_int_equal (kept (&run, 0)->p.l4_offset, 40 + 64);
  assert_int_equal (kept (&run, 1)->p.src_port, 7);
  assert_int_equal (kept (&run, 1)->p.icmp_type, 129);
  assert_true (kept (&run, 1)->p.has_ports);
  assert_false (kept (&run, 2)->p.has_ports);
  assert_int_equal (run.stats.skipped[NATSIM_TRACE_SKIP_UNSUPPORTED_PROTO], 2);
  run_clear (&run);
}

/* ------------------------------------------------------------------ */
/* Mutations: damaged copies of real captures never crash or hang      */

/* Reads @path to the end whatever happens: an open error, read errors,
 * skips; run_reader() checks the invariants of every decoded packet. */
static void
read_whatever (const char *path)
{
  const char *paths[] = { path };
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimTraceReader) r = natsim_trace_reader_open (paths, 1, &error);
  Run run;

  if (r == NULL)
    {
      assert_true (g_error_matches (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT));
      assert_true (g_str_has_prefix (error->message, path));
      return;
    }
  run_reader (r, &run);
  run_clear (&run);
}

static void
test_mutations (void **state)
{
  Fixture *fx = *state;
  static const char *samples[] = {
    "tcpdump-sll-nanosecond.pcap", "tcpdump-nflog.pcap", "tcpdump-qinq.pcap",
    "heplify-ipv6-udp-fragmented.pcap", "heplify-sip-ipv6-udp.pcap",
    "heplify-sip-ipv4-tcp.pcap", "isa-sip-call-lab.pcapng",
  };
  g_autofree char *out = g_build_filename (fx->dir, "mutant.pcap", NULL);
  g_autoptr (GRand) rand = g_rand_new_with_seed (20240601);

  for (guint s = 0; s < G_N_ELEMENTS (samples); s++)
    {
      g_autofree char *path = sample_path (samples[s]);
      g_autofree char *orig = NULL;
      g_autofree char *buf = NULL;
      gsize            len;

      assert_true (g_file_get_contents (path, &orig, &len, NULL));
      buf = g_malloc (len);
      /* Every truncation of the small captures, a sample of the others. */
      for (gsize cut = 0; cut < len; cut += len < 4096 ? 1 : 97)
        {
          assert_true (g_file_set_contents_full (out, orig, (gssize) cut,
                                                 G_FILE_SET_CONTENTS_NONE, 0644, NULL));
          read_whatever (out);
        }
      /* Random byte changes, denser near the front where headers are. */
      for (guint m = 0; m < 150; m++)
        {
          guint changes = (guint) g_rand_int_range (rand, 1, 9);

          memcpy (buf, orig, len);
          for (guint c = 0; c < changes; c++)
            {
              gsize at = (gsize) g_rand_int_range (rand, 0, (gint32) MIN (len, (gsize) (m % 2 ? len : 512)));
              buf[at] = (char) g_rand_int_range (rand, 0, 256);
            }
          assert_true (g_file_set_contents_full (out, buf, (gssize) len,
                                                 G_FILE_SET_CONTENTS_NONE, 0644, NULL));
          read_whatever (out);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Conversion to NAT packets                                            */

static void
test_to_nat (void **state)
{
  NatsimTracePacket tp;
  NatsimPacket      pkt, untouched;

  memset (&tp, 0, sizeof tp);
  tp.time = NATSIM_SEC (3);
  tp.ip_version = 4;
  tp.proto = 17;
  tp.has_ports = true;
  tp.src4 = IP4 (10, 0, 0, 1);
  tp.dst4 = IP4 (198, 51, 100, 1);
  tp.src_port = 5060;
  tp.dst_port = 5061;
  tp.ip_length = 70000; /* jumbo: saturates */
  tp.dscp = 26;
  assert_true (natsim_trace_packet_to_nat (&tp, true, &pkt));
  assert_int_equal (pkt.time, NATSIM_SEC (3));
  assert_int_equal (pkt.dir, NATSIM_DIR_OUT);
  assert_int_equal (pkt.src_addr, IP4 (10, 0, 0, 1));
  assert_int_equal (pkt.dst_addr, IP4 (198, 51, 100, 1));
  assert_int_equal (pkt.src_port, 5060);
  assert_int_equal (pkt.dst_port, 5061);
  assert_int_equal (pkt.proto, NATSIM_PROTO_UDP);
  assert_int_equal (pkt.length, 65535);
  assert_int_equal (pkt.dscp, 26);
  assert_int_equal (pkt.cls, 0);
  assert_true (natsim_trace_packet_to_nat (&tp, false, &pkt));
  assert_int_equal (pkt.dir, NATSIM_DIR_IN);

  memset (&untouched, 0x5a, sizeof untouched);
  pkt = untouched;
  tp.has_ports = false; /* later fragment */
  assert_false (natsim_trace_packet_to_nat (&tp, true, &pkt));
  tp.has_ports = true;
  tp.ip_version = 6;
  assert_false (natsim_trace_packet_to_nat (&tp, true, &pkt));
  assert_memory_equal (&pkt, &untouched, sizeof pkt);
}

/* ------------------------------------------------------------------ */
/* Writer                                                               */

static guint
count_dir_entries (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  assert_non_null (d);
  while (g_dir_read_name (d) != NULL)
    n++;
  g_dir_close (d);
  return n;
}

static void
test_writer_round_trip (void **state)
{
  Fixture *fx = *state;
  g_autofree char *path = g_build_filename (fx->dir, "synth.pcap", NULL);
  g_autoptr (GError) error = NULL;
  NatsimPacket pkts[6];
  static const char sip[] = "REGISTER sip:example.com SIP/2.0\r\n\r\n";
  g_autoptr (NatsimPcapWriter) w = NULL;
  Run run;

  memset (pkts, 0, sizeof pkts);
  for (guint i = 0; i < G_N_ELEMENTS (pkts); i++)
    {
      pkts[i].time = NATSIM_SEC (10) + i * UINT64_C (123456789) + 7; /* odd ns */
      pkts[i].src_addr = IP4 (10, 0, 0, 5);
      pkts[i].dst_addr = IP4 (198, 51, 100, 7);
      pkts[i].src_port = 5060;
      pkts[i].dst_port = 5060;
      pkts[i].dir = NATSIM_DIR_OUT;
      pkts[i].proto = NATSIM_PROTO_UDP;
    }
  /* 0: UDP with payload; 1: UDP sized by length (RTP 200 bytes, EF);
   * 2: TCP SYN; 3: TCP ACK with data, inbound; 4: ICMP echo;
   * 5: UDP with an odd payload length (checksum padding). */
  pkts[1].length = 200;
  pkts[1].dscp = 46;
  pkts[1].src_port = 16384;
  pkts[1].dst_port = 20000;
  pkts[2].proto = NATSIM_PROTO_TCP;
  pkts[2].tcp_flags = NATSIM_TCP_SYN;
  pkts[2].src_port = 40001;
  pkts[2].dst_port = 443;
  pkts[3].proto = NATSIM_PROTO_TCP;
  pkts[3].tcp_flags = NATSIM_TCP_ACK;
  pkts[3].dir = NATSIM_DIR_IN;
  pkts[3].src_addr = IP4 (198, 51, 100, 7);
  pkts[3].dst_addr = IP4 (10, 0, 0, 5);
  pkts[3].src_port = 443;
  pkts[3].dst_port = 40001;
  pkts[4].proto = NATSIM_PROTO_ICMP;
  pkts[4].src_port = 77;
  pkts[4].dst_port = 77;
  pkts[4].length = 84;

  w = natsim_pcap_writer_open (path, &error);
  assert_non_null (w);
  assert_null (error);
  assert_true (natsim_pcap_writer_write_udp (w, &pkts[0], (const uint8_t *) sip, strlen (sip)));
  assert_true (natsim_pcap_writer_write_udp (w, &pkts[1], NULL, 0));
  assert_true (natsim_pcap_writer_write_tcp (w, &pkts[2], NULL, 0));
  assert_true (natsim_pcap_writer_write (w, &pkts[3], (const uint8_t *) "data", 4));
  assert_true (natsim_pcap_writer_write (w, &pkts[4], NULL, 0));
  assert_true (natsim_pcap_writer_write_udp (w, &pkts[5], (const uint8_t *) "odd", 3));
  /* Too large for a 65535-byte frame: refused, nothing written. */
  {
    g_autofree uint8_t *big = g_malloc0 (65536);
    assert_false (natsim_pcap_writer_write_udp (w, &pkts[0], big, 65535 - 14 - 20 - 8 + 1));
    /* A zero-length payload that is not NULL: an empty datagram. */
    assert_true (natsim_pcap_writer_write_udp (w, &pkts[5], big, 0));
  }
  /* Nothing under the name before close; one temporary file beside it. */
  assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  assert_int_equal (count_dir_entries (fx->dir), 1);
  assert_int_equal (natsim_pcap_writer_packets (w), 7);
  assert_true (natsim_pcap_writer_close (w, &error));
  assert_null (error);
  assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  assert_int_equal (count_dir_entries (fx->dir), 1);
  g_clear_pointer (&w, natsim_pcap_writer_free);
  assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));

  {
    const char *paths[] = { path };
    run_paths (paths, 1, &run);
  }
  assert_int_equal (run.packets->len, 7);
  /* Epoch 0: capture time is simulated time, to the nanosecond. */
  assert_int_equal (run.first_unix_ns, pkts[0].time);
  for (guint i = 0; i < 6; i++)
    {
      const Kept  *k = kept (&run, i);
      NatsimPacket back;

      assert_true (checksums_verify (k));
      assert_int_equal (k->p.unix_ns, pkts[i].time);
      assert_true (natsim_trace_packet_to_nat (&k->p, pkts[i].dir == NATSIM_DIR_OUT, &back));
      assert_int_equal (back.time, pkts[i].time - pkts[0].time);
      assert_int_equal (back.src_addr, pkts[i].src_addr);
      assert_int_equal (back.dst_addr, pkts[i].dst_addr);
      assert_int_equal (back.src_port, pkts[i].src_port);
      assert_int_equal (back.dst_port, pkts[i].dst_port);
      assert_int_equal (back.proto, pkts[i].proto);
      assert_int_equal (back.tcp_flags, pkts[i].tcp_flags);
      assert_int_equal (back.dscp, pkts[i].dscp);
      assert_int_equal (back.dir, pkts[i].dir);
      if (pkts[i].length)
        assert_int_equal (back.length, pkts[i].length);
    }
  assert_int_equal (kept (&run, 0)->p.ip_length, 20 + 8 + strlen (sip));
  assert_true (g_bytes_get_size (kept (&run, 0)->payload) == strlen (sip)
               && memcmp (g_bytes_get_data (kept (&run, 0)->payload, NULL), sip, strlen (sip)) == 0);
  assert_int_equal (kept (&run, 1)->p.payload_len, 200 - 28);
  assert_int_equal (kept (&run, 2)->p.ip_length, 40);
  assert_int_equal (kept (&run, 3)->p.payload_len, 4);
  assert_int_equal (kept (&run, 4)->p.icmp_type, 8);
  assert_int_equal (kept (&run, 5)->p.payload_len, 3);
  /* The 7th packet: an empty UDP datagram. */
  assert_int_equal (kept (&run, 6)->p.ip_length, 28);
  assert_true (checksums_verify (kept (&run, 6)));
  run_clear (&run);
}

static void
test_writer_abandoned (void **state)
{
  Fixture *fx = *state;
  g_autofree char *path = g_build_filename (fx->dir, "abandoned.pcap", NULL);
  g_autofree char *nodir = g_build_filename (fx->dir, "no", "such", "dir.pcap", NULL);
  g_autoptr (GError) error = NULL;
  NatsimPcapWriter *w;
  NatsimPacket pkt = { 0 };

  pkt.proto = NATSIM_PROTO_UDP;
  w = natsim_pcap_writer_open (path, NULL);
  assert_non_null (w);
  assert_true (natsim_pcap_writer_write (w, &pkt, NULL, 0));
  pkt.proto = 47;
  assert_false (natsim_pcap_writer_write (w, &pkt, NULL, 0));
  natsim_pcap_writer_free (w); /* without close: nothing remains */
  assert_int_equal (count_dir_entries (fx->dir), 0);
  natsim_pcap_writer_free (NULL);

  w = natsim_pcap_writer_open (nodir, &error);
  assert_null (w);
  assert_true (g_error_matches (error, NATSIM_ERROR, NATSIM_ERROR_IO));
  assert_true (g_str_has_prefix (error->message, nodir));
}

/* ------------------------------------------------------------------ */
/* CIDR sets                                                            */

static bool
contains6 (const NatsimCidrSet *set, const char *s)
{
  uint8_t a[16];

  assert_int_equal (inet_pton (AF_INET6, s, a), 1);
  return natsim_cidr_set_contains (set, a);
}

static void
test_cidr_default (void **state)
{
  g_autoptr (NatsimCidrSet) set = natsim_cidr_set_new_default ();
  g_autofree char *s = natsim_cidr_set_to_string (set);

  assert_string_equal (s, "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fc00::/7");
  assert_true (natsim_cidr_set_contains_ipv4 (set, IP4 (10, 1, 2, 3)));
  assert_true (natsim_cidr_set_contains_ipv4 (set, IP4 (172, 31, 255, 255)));
  assert_false (natsim_cidr_set_contains_ipv4 (set, IP4 (172, 32, 0, 0)));
  assert_false (natsim_cidr_set_contains_ipv4 (set, IP4 (172, 15, 255, 255)));
  assert_true (natsim_cidr_set_contains_ipv4 (set, IP4 (192, 168, 0, 1)));
  assert_true (natsim_cidr_set_contains_ipv4 (set, IP4 (100, 64, 0, 1)));
  assert_true (natsim_cidr_set_contains_ipv4 (set, IP4 (100, 127, 255, 255)));
  assert_false (natsim_cidr_set_contains_ipv4 (set, IP4 (100, 128, 0, 0)));
  assert_false (natsim_cidr_set_contains_ipv4 (set, IP4 (8, 8, 8, 8)));
  assert_false (natsim_cidr_set_contains_ipv4 (set, IP4 (203, 0, 113, 1)));
  assert_true (contains6 (set, "fd00::1"));
  assert_true (contains6 (set, "fc00::"));
  assert_false (contains6 (set, "fe80::1"));
  assert_false (contains6 (set, "2001:db8::1"));
  assert_true (contains6 (set, "::ffff:10.0.0.1")); /* v4-mapped */
  assert_false (contains6 (set, "::10.0.0.1"));     /* not v4-mapped */
}

/* natsim_cidr_set_contains_ipv4() bisects ranges built from the prefixes;
 * natsim_cidr_set_contains() on the v4-mapped address scans the prefixes
 * themselves.  They must agree on every address, whatever the set: IPv6
 * prefixes that cover or cut the v4-mapped block, nested, adjacent and
 * duplicate prefixes, the ends of the address space, lists of many /32s. */
static void
check_ipv4_agrees (const NatsimCidrSet *set, uint32_t addr)
{
  uint8_t mapped[16];

  natsim_ipv4_to_mapped (addr, mapped);
  if (natsim_cidr_set_contains_ipv4 (set, addr) != natsim_cidr_set_contains (set, mapped))
    {
      g_autofree char *s = natsim_cidr_set_to_string (set);
      fail_msg ("%u.%u.%u.%u in {%s}: bisection says %d", addr >> 24, (addr >> 16) & 255,
                (addr >> 8) & 255, addr & 255, s, natsim_cidr_set_contains_ipv4 (set, addr));
    }
}

static void
test_cidr_ipv4_ranges (void **state)
{
  static const char *sets[] = {
    "10.0.0.0/8,10.1.0.0/16", "10.1.0.0/16,10.0.0.0/8", "10.0.0.0/9,10.128.0.0/9",
    "10.0.0.0/8,11.0.0.0/8,12.0.0.0/7", "10.0.0.0/8,10.0.0.0/8",
    "255.255.255.255/32,0.0.0.0/32,128.0.0.0/1", "0.0.0.0/0,10.0.0.0/8",
    "::ffff:0:0/96", "::/0", "::/80", "::ffff:192.0.2.0/120", "::ffff:0:0/97",
    "fd00::/8,2001:db8::/32", "::/96", "::ffff:10.0.0.0/104,fc00::/7,192.168.0.0/16",
    "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fc00::/7",
  };
  static const uint32_t probes[] = {
    0, 1, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu, 0x09ffffffu, 0x0a000000u,
    0x0a00ffffu, 0x0a010000u, 0x0a01ffffu, 0x0a020000u, 0x0a7fffffu, 0x0a800000u,
    0x0affffffu, 0x0b000000u, 0x0dffffffu, 0x0e000000u, 0xc00001ffu, 0xc0000200u,
    0xc00002ffu, 0xc0000300u, 0xc0a7ffffu, 0xc0a80000u, 0xc0a8ffffu, 0xc0a90000u,
  };
  uint64_t x = 0x2545f4914f6cdd1dull;

  for (guint i = 0; i < G_N_ELEMENTS (sets); i++)
    {
      g_autoptr (NatsimCidrSet) set = natsim_cidr_set_new ();

      assert_true (natsim_cidr_set_add_string (set, sets[i], NULL));
      for (guint k = 0; k < G_N_ELEMENTS (probes); k++)
        check_ipv4_agrees (set, probes[k]);
      for (guint k = 0; k < 20000; k++)
        {
          x ^= x << 13, x ^= x >> 7, x ^= x << 17;
          check_ipv4_agrees (set, (uint32_t) x);
        }
    }

  /* Hundreds of random prefixes, added in several lists: both ends of
   * each and its neighbours, and random addresses. */
  {
    g_autoptr (NatsimCidrSet) set = natsim_cidr_set_new ();
    g_autoptr (GArray) edges = g_array_new (FALSE, FALSE, sizeof (uint32_t));

    for (guint list = 0; list < 8; list++)
      {
        g_autoptr (GString) s = g_string_new (NULL);

        for (guint k = 0; k < 64; k++)
          {
            guint len;
            uint32_t lo, hi, e[4];

            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            len = k % 4 == 0 ? 32 : 8 + (guint) (x % 25);
            lo = (uint32_t) (x >> 32) & (len == 0 ? 0 : UINT32_MAX << (32 - len));
            hi = lo | (len == 32 ? 0 : UINT32_MAX >> len);
            e[0] = lo - 1, e[1] = lo, e[2] = hi, e[3] = hi + 1;
            g_array_append_vals (edges, e, 4);
            g_string_append_printf (s, "%s%u.%u.%u.%u/%u", k ? "," : "", lo >> 24,
                                    (lo >> 16) & 255, (lo >> 8) & 255, lo & 255, len);
          }
        assert_true (natsim_cidr_set_add_string (set, s->str, NULL));
        for (guint k = 0; k < edges->len; k++)
          check_ipv4_agrees (set, g_array_index (edges, uint32_t, k));
      }
    for (guint k = 0; k < 100000; k++)
      {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        check_ipv4_agrees (set, (uint32_t) x);
      }
  }
}

static void
test_cidr_parse (void **state)
{
  g_autoptr (NatsimCidrSet) set = natsim_cidr_set_new ();
  g_autoptr (GError) error = NULL;
  static const char *bad[] = {
    "", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/ 8", "10.0.0/8",
    "10.0.0.0/8x", "fd00::/129", "fd00:::/8", "example.com", "10.0.0.0/8,,",
    "10.0.0.0/0x8", "256.0.0.0/8",
  };

  assert_true (natsim_cidr_set_add_string (set, "10.0.2.15/32", &error));
  assert_true (natsim_cidr_set_add_string (set, " 200.57.7.196 , fd00::/8 ", &error));
  assert_true (natsim_cidr_set_add_string (set, "0.0.0.0/0", &error));
  assert_null (error);
  assert_int_equal (natsim_cidr_set_size (set), 4);
  {
    g_autofree char *s = natsim_cidr_set_to_string (set);
    assert_string_equal (s, "10.0.2.15/32,200.57.7.196/32,fd00::/8,0.0.0.0/0");
  }
  assert_true (natsim_cidr_set_contains_ipv4 (set, IP4 (8, 8, 8, 8))); /* 0/0 */
  assert_false (contains6 (set, "2001:db8::1")); /* 0.0.0.0/0 is IPv4 only */
  assert_true (contains6 (set, "fd12::1"));

  g_clear_pointer (&set, natsim_cidr_set_free);
  set = natsim_cidr_set_new ();
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      if (natsim_cidr_set_add_string (set, bad[i], &error))
        fail_msg ("'%s' accepted", bad[i]);
      assert_true (g_error_matches (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT));
      g_clear_error (&error);
    }
  /* Host bits: refused with a suggestion; a bad list adds nothing. */
  assert_false (natsim_cidr_set_add_string (set, "192.168.1.10/24", &error));
  assert_true (contains (error->message, "did you mean 192.168.1.0/24?"));
  g_clear_error (&error);
  assert_false (natsim_cidr_set_add_string (set, "fd00::1/8", &error));
  assert_true (contains (error->message, "did you mean fd00::/8?"));
  g_clear_error (&error);
  assert_false (natsim_cidr_set_add_string (set, "10.0.0.0/8,bogus", &error));
  g_clear_error (&error);
  assert_int_equal (natsim_cidr_set_size (set), 0);
  assert_true (natsim_cidr_set_add_string (set, "10.0.0.0/9", NULL));
  assert_true (natsim_cidr_set_contains_ipv4 (set, IP4 (10, 127, 0, 1)));
  assert_false (natsim_cidr_set_contains_ipv4 (set, IP4 (10, 128, 0, 1)));
}

static void
test_skip_names (void **state)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < NATSIM_TRACE_SKIP_N; i++)
    {
      const char *name = natsim_trace_skip_name (i);

      assert_non_null (name);
      assert_non_null (natsim_trace_skip_description (i));
      assert_false (g_hash_table_contains (seen, name));
      g_hash_table_add (seen, (gpointer) name);
    }
  assert_null (natsim_trace_skip_name (NATSIM_TRACE_SKIP_N));
  assert_string_equal (natsim_trace_skip_name (NATSIM_TRACE_SKIP_NON_IP), "non-ip");
  assert_string_equal (natsim_trace_skip_name (NATSIM_TRACE_SKIP_CAPLEN_EXCEEDS_LEN),
                       "caplen-exceeds-len");
  assert_string_equal (natsim_trace_skip_name (NATSIM_TRACE_SKIP_IPV6_BAD_EXT),
                       "ipv6-bad-ext");
}

/* ------------------------------------------------------------------ */
/* Optional cross-check against tcpdump, when it is installed           */

static guint
tcpdump_count (const char *tcpdump, const char *path, const char *filter)
{
  g_autofree char *out = NULL;
  const char *argv[] = { tcpdump, "-nn", "-q", "-r", path, filter, NULL };
  int   status = 0;
  guint lines = 0;

  assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                             NULL, NULL, &out, NULL, &status, NULL));
  for (const char *p = out; *p; p++)
    lines += *p == '\n';
  return lines;
}

static void
test_tcpdump_cross_check (void **state)
{
  static const char *samples[] = {
    "ndpi-webex-client.pcap", "heplify-sip-call-rtp-rtcp.pcap",
    "isa-sip-call-lab.pcap", "ndpi-fax-t38-sip.pcap", "heplify-sip-ipv4-tcp.pcap",
    "tcpdump-sll-nanosecond.pcap",
  };
  g_autofree char *tcpdump = g_find_program_in_path ("tcpdump");

  if (tcpdump == NULL)
    {
      skip ();
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      g_autofree char *path = sample_path (samples[i]);
      Run run;

      run_sample (samples[i], &run);
      assert_int_equal (run.stats.udp, tcpdump_count (tcpdump, path, "udp"));
      assert_int_equal (run.stats.tcp, tcpdump_count (tcpdump, path, "tcp"));
      assert_int_equal (run.stats.icmp, tcpdump_count (tcpdump, path, "icmp or icmp6"));
      run_clear (&run);
    }
}


/* ------------------------------------------------------------------ */
/* Tunnels                                                              */

/* The tunnel samples (traces/gen-tunnels.py, written with scapy): the same
 * 8 packets (3 REGISTER / 200 OK pairs, a DNS query and answer) through
 * each encapsulation.  tshark 4.0 finds, in every one, 2 UDP conversations
 * (10.1.1.10:5060 <-> 203.0.113.5:5060, 6 packets; 10.1.1.10:40000 <->
 * 10.1.1.1:53, 2 packets); the inner IP datagrams total 1853 bytes. */
static const struct
{
  const char *name;
  guint       tunnel_bits;  /* NatsimTraceTunnel bits of every packet */
  guint       outer_udp;    /* decoded packets with --outer */
  guint       outer_gre;    /* ... and GRE packets skipped (unsupported-proto) */
} tunnel_samples[] = {
  { "scapy-gre-sip.pcap", 1u << NATSIM_TRACE_TUNNEL_GRE, 0, 8 },
  { "scapy-gre-key-seq-sip.pcap", 1u << NATSIM_TRACE_TUNNEL_GRE, 0, 8 },
  { "scapy-erspan1-sip.pcap", 1u << NATSIM_TRACE_TUNNEL_ERSPAN, 0, 8 },
  { "scapy-erspan2-sip.pcap", 1u << NATSIM_TRACE_TUNNEL_ERSPAN, 0, 8 },
  { "scapy-erspan3-sip.pcap", 1u << NATSIM_TRACE_TUNNEL_ERSPAN, 0, 8 },
  { "scapy-vxlan-sip.pcap", 1u << NATSIM_TRACE_TUNNEL_VXLAN, 8, 0 },
  { "scapy-geneve-sip.pcap", 1u << NATSIM_TRACE_TUNNEL_GENEVE, 8, 0 },
  { "scapy-mpls-sip.pcap", 1u << NATSIM_TRACE_TUNNEL_MPLS, 8, 0 },
};

static void
test_tunnel_samples (void **state)
{
  for (guint i = 0; i < G_N_ELEMENTS (tunnel_samples); i++)
    {
      Run     run;
      guint64 bytes = 0;
      guint   registers = 0;

      run_sample (tunnel_samples[i].name, &run);
      if (run.stats.packets_decoded != 8 || run.stats.packets_skipped != 0)
        fail_msg ("%s: %" G_GUINT64_FORMAT " decoded, %" G_GUINT64_FORMAT " skipped",
                  tunnel_samples[i].name, run.stats.packets_decoded,
                  run.stats.packets_skipped);
      assert_int_equal (run.stats.udp, 8);
      assert_int_equal (conversations (&run, 17), 2);
      for (guint k = 0; k < NATSIM_TRACE_TUNNEL_N; k++)
        assert_int_equal (run.stats.tunnels[k],
                          (tunnel_samples[i].tunnel_bits & (1u << k)) ? 8 : 0);
      for (guint j = 0; j < run.packets->len; j++)
        {
          const Kept *k = kept (&run, j);
          gsize       n;
          const char *payload = g_bytes_get_data (k->payload, &n);

          assert_int_equal (k->p.tunnels, tunnel_samples[i].tunnel_bits);
          assert_int_equal (k->p.ip_version, 4);
          /* The inner datagram: inside addresses, fully captured. */
          assert_int_equal (k->p.src4 >> 24 == 10 || k->p.dst4 >> 24 == 10, 1);
          assert_int_equal (k->p.ip_caplen, k->p.ip_length);
          assert_true (checksums_verify (k));
          assert_true (k->p.wire_length > k->p.ip_length);
          bytes += k->p.ip_length;
          registers += n > 9 && memcmp (payload, "REGISTER ", 9) == 0;
        }
      assert_int_equal (bytes, 1853);
      assert_int_equal (registers, 3);
      assert_int_equal (kept (&run, 0)->p.src4, IP4 (10, 1, 1, 10));
      assert_int_equal (kept (&run, 0)->p.dst4, IP4 (203, 0, 113, 5));
      assert_int_equal (kept (&run, 0)->p.src_port, 5060);
      run_clear (&run);
    }
}

/* --outer: the tunnel as captured.  GRE has no ports and is skipped as
 * before; VXLAN and Geneve are UDP datagrams to 4789 / 6081 from the
 * switch; MPLS is popped anyway (the IP under it is the only one). */
static void
test_tunnel_outer (void **state)
{
  for (guint i = 0; i < G_N_ELEMENTS (tunnel_samples); i++)
    {
      g_autofree char *path = sample_path (tunnel_samples[i].name);
      const char      *paths[] = { path };
      g_autoptr (GError) error = NULL;
      g_autoptr (NatsimTraceReader) r = natsim_trace_reader_open (paths, 1, &error);
      Run run;

      assert_non_null (r);
      natsim_trace_reader_set_decapsulate (r, FALSE);
      run_reader (r, &run);
      assert_int_equal (run.stats.packets_decoded, tunnel_samples[i].outer_udp);
      assert_int_equal (run.stats.skipped[NATSIM_TRACE_SKIP_UNSUPPORTED_PROTO],
                        tunnel_samples[i].outer_gre);
      for (guint j = 0; j < run.packets->len; j++)
        {
          const NatsimTracePacket *p = &kept (&run, j)->p;

          if (tunnel_samples[i].tunnel_bits == 1u << NATSIM_TRACE_TUNNEL_MPLS)
            {
              assert_int_equal (p->tunnels, 1u << NATSIM_TRACE_TUNNEL_MPLS);
              continue;
            }
          assert_int_equal (p->tunnels, 0);
          assert_int_equal (p->src4, IP4 (192, 0, 2, 1));
          assert_int_equal (p->dst4, IP4 (192, 0, 2, 100));
          assert_true (p->dst_port == 4789 || p->dst_port == 6081);
        }
      run_clear (&run);
    }
}

/* An IPv4 + GRE header with @gflags and @type; @extra words follow it
 * (checksum, key, sequence as the flags say); @inner bytes of payload. */
static void
put_gre (Frame *f, unsigned gflags, unsigned type, unsigned extra, unsigned inner,
         unsigned frag)
{
  put_eth (f, 0x0800);
  put_ipv4 (f, 5, 0, 20 + 4 + 4 * extra + inner, frag, 47, IP4 (192, 0, 2, 1),
            IP4 (192, 0, 2, 100));
  put16 (f, gflags);
  put16 (f, type);
  for (unsigned i = 0; i < extra; i++)
    put32 (f, 0x01020304);
}

/* Header variants and hostile tunnels, one frame each. */
static void
test_tunnel_variants (void **state)
{
  Fixture *fx = *state;
  Frame    f[14];
  Run      run;

  memset (f, 0, sizeof f);
  /* 0: GRE with checksum, key and sequence (3 extra words), IPv4 inside. */
  put_gre (&f[0], 0xb000, 0x0800, 3, 33, 0);
  put_ipv4_udp (&f[0]);
  /* 1: GRE with a key only, IPv6 inside. */
  put_gre (&f[1], 0x2000, 0x86dd, 1, 40 + 8 + 5, 0);
  put_ipv6 (&f[1], 0, 8 + 5, 17);
  put_udp (&f[1], 5060, 5060, "hello");
  /* 2: PPTP's enhanced GRE (version 1): not opened. */
  put_gre (&f[2], 0x3001, 0x880b, 2, 4, 0);
  put32 (&f[2], 0xff030021);
  /* 3: GRE with the routing bit (RFC 1701): not opened. */
  put_gre (&f[3], 0x4000, 0x0800, 1, 0, 0);
  /* 4: GRE header cut in the middle of its key. */
  put_eth (&f[4], 0x0800);
  put_ipv4 (&f[4], 5, 0, 26, 0, 47, IP4 (192, 0, 2, 1), IP4 (192, 0, 2, 100));
  put16 (&f[4], 0x2000);
  put16 (&f[4], 0x0800);
  put16 (&f[4], 7);
  /* 5: the first fragment of a GRE packet. */
  put_gre (&f[5], 0, 0x0800, 0, 33, 0x2000);
  put_ipv4_udp (&f[5]);
  /* 6: ERSPAN type II with version 2 in its header: not opened. */
  put_gre (&f[6], 0x1000, 0x88be, 1, 8 + 14 + 33, 0);
  put32 (&f[6], 0x20000001);
  put32 (&f[6], 0);
  put_eth (&f[6], 0x0800);
  put_ipv4_udp (&f[6]);
  /* 7: GRE in GRE in GRE in GRE in GRE: deeper than followed. */
  put_gre (&f[7], 0, 0x0800, 0, 4 * (20 + 4) + 33, 0);
  for (unsigned i = 0; i < 4; i++)
    {
      put_ipv4 (&f[7], 5, 0, (3 - i) * 24 + 24 + 33, 0, 47, IP4 (192, 0, 2, 1),
                IP4 (192, 0, 2, 100));
      put16 (&f[7], 0);
      put16 (&f[7], 0x0800);
    }
  put_ipv4_udp (&f[7]);
  /* 8: UDP to 4789 without the VXLAN I flag: an ordinary datagram. */
  put_eth (&f[8], 0x0800);
  put_ipv4 (&f[8], 5, 0, 20 + 8 + 8, 0, 17, IP4 (10, 0, 0, 1), IP4 (203, 0, 113, 10));
  put_udp (&f[8], 40000, 4789, "\x01\x02\x03\x04\x05\x06\x07\x08");
  /* 9: VXLAN whose inner frame says more than the outer UDP length holds. */
  put_eth (&f[9], 0x0800);
  put_ipv4 (&f[9], 5, 0, 20 + 8 + 8 + 14 + 33, 0, 17, IP4 (192, 0, 2, 1),
            IP4 (192, 0, 2, 100));
  put16 (&f[9], 50000);
  put16 (&f[9], 4789);
  put16 (&f[9], 8 + 8 + 14 + 33);
  put16 (&f[9], 0);
  put32 (&f[9], 0x08000000);
  put32 (&f[9], 0x00138900);
  put_eth (&f[9], 0x0800);
  put_ipv4 (&f[9], 5, 0, 20 + 8 + 50, 0, 17, IP4 (10, 0, 0, 1), IP4 (203, 0, 113, 10));
  put_udp (&f[9], 5060, 5070, "hello");
  /* 10: MPLS, 17 labels without a bottom of stack. */
  put_eth (&f[10], 0x8847);
  for (unsigned i = 0; i < 17; i++)
    put32 (&f[10], (16 + i) << 12);
  put_ipv4_udp (&f[10]);
  /* 11: MPLS pseudowire: a control word, then an Ethernet frame. */
  put_eth (&f[11], 0x8847);
  put32 (&f[11], (1000u << 12) | 0x100 | 64);
  put32 (&f[11], 0);
  put_eth (&f[11], 0x0800);
  put_ipv4_udp (&f[11]);
  /* 12: MPLS label stack cut before its bottom. */
  put_eth (&f[12], 0x8847);
  put32 (&f[12], 1000u << 12);
  put16 (&f[12], 0);
  /* 13: Geneve with one option word, IPv4 inside. */
  put_eth (&f[13], 0x0800);
  put_ipv4 (&f[13], 5, 0, 20 + 8 + 12 + 33, 0, 17, IP4 (192, 0, 2, 1),
            IP4 (192, 0, 2, 100));
  put16 (&f[13], 50000);
  put16 (&f[13], 6081);
  put16 (&f[13], 8 + 12 + 33);
  put16 (&f[13], 0);
  put8 (&f[13], 1);
  put8 (&f[13], 0);
  put16 (&f[13], 0x0800);
  put32 (&f[13], 0x00004d00);
  put32 (&f[13], 0x01020304);
  put_ipv4_udp (&f[13]);
  run_frames (fx, DLT_EN10MB, f, 14, &run);

  assert_int_equal (run.stats.packets_read, 14);
  assert_int_equal (run.packets->len, 5);
  assert_int_equal (kept (&run, 0)->p.record, 1);
  assert_int_equal (kept (&run, 0)->p.tunnels, 1u << NATSIM_TRACE_TUNNEL_GRE);
  assert_int_equal (kept (&run, 0)->p.src4, IP4 (10, 0, 0, 1));
  assert_int_equal (kept (&run, 0)->p.dst_port, 5070);
  assert_int_equal (kept (&run, 0)->p.payload_len, 5);
  assert_int_equal (kept (&run, 1)->p.record, 2);
  assert_int_equal (kept (&run, 1)->p.ip_version, 6);
  assert_int_equal (kept (&run, 1)->p.dst_port, 5060);
  assert_int_equal (kept (&run, 2)->p.record, 9);
  assert_int_equal (kept (&run, 2)->p.tunnels, 0);
  assert_int_equal (kept (&run, 2)->p.dst_port, 4789);
  assert_int_equal (kept (&run, 3)->p.record, 12);
  assert_int_equal (kept (&run, 3)->p.tunnels, 1u << NATSIM_TRACE_TUNNEL_MPLS);
  assert_int_equal (kept (&run, 3)->p.src_port, 5060);
  assert_int_equal (kept (&run, 4)->p.record, 14);
  assert_int_equal (kept (&run, 4)->p.tunnels, 1u << NATSIM_TRACE_TUNNEL_GENEVE);
  assert_int_equal (kept (&run, 4)->p.dst_port, 5070);

  assert_int_equal (run.stats.skipped[NATSIM_TRACE_SKIP_TUNNEL_UNSUPPORTED], 3); /* 2, 3, 6 */
  assert_int_equal (run.stats.skipped[NATSIM_TRACE_SKIP_TUNNEL_TRUNCATED], 2);   /* 4, 12 */
  assert_int_equal (run.stats.skipped[NATSIM_TRACE_SKIP_TUNNEL_FRAGMENT], 1);    /* 5 */
  assert_int_equal (run.stats.skipped[NATSIM_TRACE_SKIP_TUNNEL_TOO_DEEP], 1);    /* 7 */
  assert_int_equal (run.stats.skipped[NATSIM_TRACE_SKIP_IPV4_BAD_LENGTH], 1);    /* 9 */
  assert_int_equal (run.stats.skipped[NATSIM_TRACE_SKIP_BAD_LINK], 1);           /* 10 */
  run_clear (&run);
}


/* ------------------------------------------------------------------ */
/* Reassembly                                                           */

typedef struct
{
  guint     complete;
  guint     with_expires; /* reassembled REGISTERs whose Expires was read */
  guint     pieces;
  guint64   bytes;
  GPtrArray *ports;       /* "sport>dport" of each datagram */
} ReasmRun;

static void
reasm_sample (const char *name, NatsimReasm *ra, ReasmRun *ret)
{
  g_autofree char *path = sample_path (name);
  const char      *paths[] = { path };
  g_autoptr (NatsimTraceReader) r = natsim_trace_reader_open (paths, 1, NULL);
  NatsimTracePacket tp;

  assert_non_null (r);
  memset (ret, 0, sizeof *ret);
  ret->ports = g_ptr_array_new_with_free_func (g_free);
  while (natsim_trace_reader_next (r, &tp) == NATSIM_TRACE_PACKET)
    {
      NatsimReasmDatagram d;

      if (!tp.fragment)
        continue;
      if (natsim_reasm_add (ra, &tp, &d) != NATSIM_REASM_COMPLETE)
        continue;
      ret->complete++;
      ret->pieces += d.fragments;
      ret->bytes += d.bytes;
      assert_true (d.has_ports);
      g_ptr_array_add (ret->ports, g_strdup_printf ("%u>%u", d.src_port, d.dst_port));
      /* The Expires header is in the last piece; the payload is whole. */
      if (d.payload_len > 3000 && g_strstr_len ((const char *) d.payload, (gssize) d.payload_len,
                                                "\r\nExpires: 1800\r\n") != NULL
          && memcmp (d.payload, "REGISTER ", 9) == 0
          && memcmp (d.payload + d.payload_len - 4, "\r\n\r\n", 4) == 0)
        ret->with_expires++;
    }
  natsim_reasm_flush (ra);
}

/* The samples of traces/gen-fragments.py: REGISTERs of ~3.5 kB in three
 * IPv4 pieces (and IPv6 ones of 1280 bytes), in order, out of order, and
 * with an overlapping piece, a duplicate and a missing last piece. */
static void
test_reasm_samples (void **state)
{
  ReasmRun run;

  {
    g_autoptr (NatsimReasm) ra = natsim_reasm_new (0);

    reasm_sample ("scapy-sip-fragments.pcap", ra, &run);
    assert_int_equal (run.complete, 6);
    assert_int_equal (run.with_expires, 6);
    assert_int_equal (run.pieces, 4 * 3 + 2 * 3);
    assert_string_equal (g_ptr_array_index (run.ports, 0), "5060>5060");
    /* Every piece's IP length counts: 3 x (1500 + 1500 + 549) per IPv4
     * REGISTER, tshark's frame sizes less 14 bytes of Ethernet. */
    assert_int_equal (natsim_reasm_stats (ra)->datagrams, 6);
    assert_int_equal (natsim_reasm_stats (ra)->lost, 0);
    g_ptr_array_unref (run.ports);
  }
  {
    g_autoptr (NatsimReasm) ra = natsim_reasm_new (0);

    reasm_sample ("scapy-sip-fragments-reordered.pcap", ra, &run);
    assert_int_equal (run.complete, 4);
    assert_int_equal (run.with_expires, 4);
    assert_int_equal (run.bytes, 4 * (1500 + 1500 + 549));
    g_ptr_array_unref (run.ports);
  }
  {
    g_autoptr (NatsimReasm) ra = natsim_reasm_new (0);
    const NatsimReasmStats *st;

    reasm_sample ("scapy-sip-fragments-overlap.pcap", ra, &run);
    st = natsim_reasm_stats (ra);
    /* REGISTER 1, and 3 despite its duplicate piece; 2 overlaps (its
     * remaining piece waits in vain), 4 never gets its last piece. */
    assert_int_equal (run.complete, 2);
    assert_int_equal (run.with_expires, 2);
    assert_int_equal (st->overlapping, 1);
    assert_int_equal (st->duplicates, 1);
    assert_int_equal (st->timed_out, 2);
    assert_int_equal (st->lost, 3 + 1 + 1 + 2);
    g_ptr_array_unref (run.ports);
  }
}

/* A fragment as the reader would hand it: @len data bytes at @offset of
 * datagram @id, at @t seconds. */
static NatsimTracePacket
frag (uint8_t *buf, uint8_t version, uint32_t id, uint32_t offset, uint32_t len, bool more,
      double t)
{
  NatsimTracePacket p;
  uint32_t          hdr = version == 4 ? 20 : 48;

  memset (&p, 0, sizeof p);
  p.time = (NatsimTime) (t * 1e9);
  p.ip_version = version;
  p.proto = 17;
  p.fragment = true;
  p.frag_id = id;
  p.frag_offset = offset;
  p.frag_more = more;
  p.frag_data = hdr;
  p.l4_offset = hdr;
  p.ip = buf;
  p.ip_length = p.ip_caplen = hdr + len;
  natsim_ipv4_to_mapped (IP4 (10, 0, 0, 1), p.src);
  natsim_ipv4_to_mapped (IP4 (203, 0, 113, 1), p.dst);
  /* Data: a UDP header 5060 -> 5070 at offset 0, then the offset's low byte. */
  for (uint32_t i = 0; i < len; i++)
    buf[hdr + i] = (uint8_t) (offset + i);
  if (offset == 0)
    {
      static const uint8_t udp[8] = { 0x13, 0xc4, 0x13, 0xce, 0, 0, 0, 0 };

      memcpy (buf + hdr, udp, 8);
    }
  return p;
}

/* Timeouts as Linux's (30 s IPv4, 60 s IPv6), pieces not a multiple of 8,
 * an exact duplicate of the last piece, eviction when the pool is full. */
static void
test_reasm_rules (void **state)
{
  static uint8_t buf[128];
  g_autoptr (NatsimReasm) ra = natsim_reasm_new (2);
  NatsimReasmDatagram d;
  NatsimTracePacket p;

  /* IPv4: the last piece 31 s after the first comes too late. */
  p = frag (buf, 4, 1, 0, 16, true, 0.0);
  assert_int_equal (natsim_reasm_add (ra, &p, &d), NATSIM_REASM_PENDING);
  p = frag (buf, 4, 1, 16, 8, false, 31.0);
  assert_int_equal (natsim_reasm_add (ra, &p, &d), NATSIM_REASM_PENDING);
  assert_int_equal (natsim_reasm_stats (ra)->timed_out, 1);
  natsim_reasm_flush (ra);
  /* IPv6: 59 s is still in time; the last piece first, then a duplicate of
   * it (ignored), then the first. */
  p = frag (buf, 6, 7, 16, 5, false, 100.0);
  assert_int_equal (natsim_reasm_add (ra, &p, &d), NATSIM_REASM_PENDING);
  p = frag (buf, 6, 7, 16, 5, false, 100.5);
  assert_int_equal (natsim_reasm_add (ra, &p, &d), NATSIM_REASM_PENDING);
  assert_int_equal (natsim_reasm_stats (ra)->duplicates, 1);
  p = frag (buf, 6, 7, 0, 16, true, 159.0);
  assert_int_equal (natsim_reasm_add (ra, &p, &d), NATSIM_REASM_COMPLETE);
  assert_int_equal (d.fragments, 2);
  assert_int_equal (d.src_port, 5060);
  assert_int_equal (d.dst_port, 5070);
  assert_int_equal (d.payload_len, 16 + 5 - 8);
  assert_int_equal (d.payload[8], 16); /* byte 16 of the datagram, from the last piece */
  assert_int_equal (d.bytes, (48 + 16) + (48 + 5));
  /* A middle piece of 12 bytes (not a multiple of 8) is refused. */
  p = frag (buf, 4, 2, 8, 12, true, 200.0);
  assert_int_equal (natsim_reasm_add (ra, &p, &d), NATSIM_REASM_DROPPED);
  assert_int_equal (natsim_reasm_stats (ra)->invalid, 1);
  /* Three datagrams in a pool of two: the oldest goes. */
  p = frag (buf, 4, 10, 0, 8, true, 300.0);
  natsim_reasm_add (ra, &p, &d);
  p = frag (buf, 4, 11, 0, 8, true, 300.1);
  natsim_reasm_add (ra, &p, &d);
  p = frag (buf, 4, 12, 0, 8, true, 300.2);
  natsim_reasm_add (ra, &p, &d);
  assert_int_equal (natsim_reasm_stats (ra)->evicted, 1);
  p = frag (buf, 4, 10, 8, 8, false, 300.3);
  assert_int_equal (natsim_reasm_add (ra, &p, &d), NATSIM_REASM_PENDING);
  p = frag (buf, 4, 12, 8, 8, false, 300.4);
  assert_int_equal (natsim_reasm_add (ra, &p, &d), NATSIM_REASM_COMPLETE);
  /* Overlap: [0,16) then [8,24): the datagram is dropped. */
  p = frag (buf, 4, 20, 0, 16, true, 400.0);
  natsim_reasm_add (ra, &p, &d);
  p = frag (buf, 4, 20, 8, 16, false, 400.1);
  assert_int_equal (natsim_reasm_add (ra, &p, &d), NATSIM_REASM_DROPPED);
  assert_int_equal (natsim_reasm_stats (ra)->overlapping, 1);
}

/* ------------------------------------------------------------------ */
/* SIP over TCP                                                         */

static void
collect_message (const NatsimTracePacket *tp, const uint8_t *msg, size_t len, void *user_data)
{
  GPtrArray *out = user_data;
  const uint8_t *eol = memchr (msg, '\r', len);
  const char *cseq = g_strstr_len ((const char *) msg, (gssize) len, "CSeq: ");
  size_t n = eol != NULL ? (size_t) (eol - msg) : len;

  /* "METHOD-or-status CSeq", e.g. "REGISTER 3" or "SIP/2.0 200 OK 3". */
  g_ptr_array_add (out, g_strdup_printf ("%.*s %c", (int) MIN (n, 14), msg,
                                         cseq != NULL ? cseq[6] : '?'));
  /* A message is whole: it ends with its headers' blank line or body. */
  assert_true (len >= 4);
}

static GPtrArray *
stream_sample (const char *name, NatsimSipStreamStats *ret_stats)
{
  g_autofree char *path = sample_path (name);
  const char      *paths[] = { path };
  g_autoptr (NatsimTraceReader) r = natsim_trace_reader_open (paths, 1, NULL);
  g_autoptr (NatsimSipStreams) s = natsim_sip_streams_new (0, 0);
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  NatsimTracePacket tp;

  assert_non_null (r);
  while (natsim_trace_reader_next (r, &tp) == NATSIM_TRACE_PACKET)
    natsim_sip_streams_feed (s, &tp, collect_message, out);
  *ret_stats = *natsim_sip_streams_stats (s);
  return out;
}

static char *
joined (GPtrArray *a)
{
  g_ptr_array_add (a, NULL);
  return g_strjoinv ("|", (char **) a->pdata);
}

/* traces/gen-sip-tcp.py: two messages in one segment, one across two
 * segments, keepalives before a message, a body framed by Content-Length,
 * a response and a request in one segment; then a lost segment, segments
 * out of order and a retransmission. */
static void
test_sip_tcp_streams (void **state)
{
  NatsimSipStreamStats st;
  g_autoptr (GPtrArray) a = stream_sample ("scapy-sip-tcp.pcap", &st);
  g_autoptr (GPtrArray) b = NULL;
  g_autofree char *ja = joined (a);
  g_autofree char *jb = NULL;

  assert_string_equal (ja, "REGISTER sip:e 1|REGISTER sip:e 2|SIP/2.0 200 OK 1|SIP/2.0 200 OK 2|"
                           "REGISTER sip:e 3|SIP/2.0 200 OK 3|REGISTER sip:e 4|SIP/2.0 200 OK 4|"
                           "REGISTER sip:e 5|SIP/2.0 200 OK 5|NOTIFY sip:100 1");
  assert_int_equal (st.messages, 11);
  assert_int_equal (st.keepalives, 3); /* ping, pong, the ping before REGISTER 4 */
  assert_int_equal (st.gaps, 0);
  assert_int_equal (st.skipped, 0);

  b = stream_sample ("scapy-sip-tcp-gaps.pcap", &st);
  jb = joined (b);
  /* REGISTER 2 lost its middle; REGISTER 4's pieces came in reverse; the
   * retransmitted REGISTER 5 counts once. */
  assert_string_equal (jb, "REGISTER sip:e 1|SIP/2.0 200 OK 1|REGISTER sip:e 3|SIP/2.0 200 OK 2|"
                           "SIP/2.0 200 OK 3|SIP/2.0 200 OK 4|REGISTER sip:e 5|SIP/2.0 200 OK 5");
  assert_int_equal (st.gaps, 2);
  assert_true (st.skipped > 0);
}

/* A TCP segment of SIP from 10.0.0.@host:5060 carrying @text at @seq. */
static NatsimTracePacket
segment (guint host, uint32_t seq, const char *text, uint8_t flags)
{
  NatsimTracePacket p;

  memset (&p, 0, sizeof p);
  p.ip_version = 4;
  p.proto = 6;
  p.has_ports = true;
  p.tcp_flags = flags;
  p.tcp_seq = seq;
  p.src_port = 5060;
  p.dst_port = 5060;
  natsim_ipv4_to_mapped (IP4 (10, 0, 0, host), p.src);
  natsim_ipv4_to_mapped (IP4 (203, 0, 113, 1), p.dst);
  p.payload = (const uint8_t *) text;
  p.payload_len = strlen (text);
  return p;
}

/* The pools' bounds: a fourth direction in a pool of three gives up the
 * least recently used one; a message larger than the buffer is skipped
 * and the stream goes on with the next; FIN frees a direction. */
static void
test_sip_stream_bounds (void **state)
{
  g_autoptr (NatsimSipStreams) s = natsim_sip_streams_new (3, 128);
  g_autoptr (GPtrArray) got = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *big = g_strdup_printf ("REGISTER sip:x SIP/2.0\r\nX-Pad: %0200d\r\n"
                                          "Content-Length: 0\r\n\r\n", 0);
  const char *msg = "OPTIONS sip:x SIP/2.0\r\nCSeq: 7 OPTIONS\r\nl: 0\r\n\r\n";
  NatsimTracePacket p;

  for (guint h = 1; h <= 4; h++)
    {
      p = segment (h, 100, "OPTIONS sip:x SIP/2.0\r\nCSeq: ", 0);
      p.time = h;
      natsim_sip_streams_feed (s, &p, collect_message, got);
    }
  assert_int_equal (natsim_sip_streams_stats (s)->evicted, 1);
  /* Host 1 was given up: the rest of its message is a stream joined
   * mid-message, skipped; host 2 completes its message. */
  p = segment (2, 100 + 29, "2 OPTIONS\r\nl: 0\r\n\r\n", 0);
  p.time = 5;
  natsim_sip_streams_feed (s, &p, collect_message, got);
  p = segment (1, 100 + 29, "1 OPTIONS\r\nl: 0\r\n\r\n", 0);
  p.time = 6;
  natsim_sip_streams_feed (s, &p, collect_message, got);
  assert_int_equal (natsim_sip_streams_stats (s)->evicted, 2);
  assert_int_equal (got->len, 1);
  assert_string_equal (g_ptr_array_index (got, 0), "OPTIONS sip:x  2");

  /* Larger than 128 bytes: skipped, then the next message is read. */
  p = segment (3, 1000, big, NATSIM_TCP_SYN);
  p.payload_len = 0;
  p.time = 7;
  natsim_sip_streams_feed (s, &p, collect_message, got);
  p = segment (3, 1001, big, 0);
  natsim_sip_streams_feed (s, &p, collect_message, got);
  assert_true (natsim_sip_streams_stats (s)->overflows >= 1);
  p = segment (3, 1001 + (uint32_t) strlen (big), msg, 0);
  natsim_sip_streams_feed (s, &p, collect_message, got);
  assert_int_equal (got->len, 2);
  assert_string_equal (g_ptr_array_index (got, 1), "OPTIONS sip:x  7");

  /* FIN frees the direction: its next segment starts a new stream, which
   * skips to a message start. */
  p = segment (3, 5000, "", NATSIM_TCP_FIN);
  natsim_sip_streams_feed (s, &p, collect_message, got);
  p = segment (3, 9000, "tail of something\r\n", 0);
  natsim_sip_streams_feed (s, &p, collect_message, got);
  p = segment (3, 9000 + 19, msg, 0);
  natsim_sip_streams_feed (s, &p, collect_message, got);
  assert_int_equal (got->len, 3);
}

/* SIP over WebSocket (traces/gen-sip-websocket.py): the HTTP upgrade to
 * the "sip" subprotocol, masked client frames (one split over two
 * segments), a ping and its pong.  tshark decodes the same 3 REGISTERs and
 * 3 200 OKs. */
static void
test_sip_websocket (void **state)
{
  NatsimSipStreamStats st;
  g_autoptr (GPtrArray) a = stream_sample ("scapy-sip-websocket.pcap", &st);
  g_autofree char *ja = joined (a);

  assert_string_equal (ja, "REGISTER sip:e 1|SIP/2.0 200 OK 1|REGISTER sip:e 2|SIP/2.0 200 OK 2|"
                           "REGISTER sip:e 3|SIP/2.0 200 OK 3");
  assert_int_equal (st.keepalives, 2);
  assert_int_equal (st.gaps, 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_webex),
    cmocka_unit_test (test_heplify_rtp),
    cmocka_unit_test (test_fax),
    cmocka_unit_test (test_isa_pcap_pcapng_identical),
    cmocka_unit_test (test_sll_nanosecond),
    cmocka_unit_test (test_non_ip_links),
    cmocka_unit_test (test_nflog),
    cmocka_unit_test (test_ipv6_fragments),
    cmocka_unit_test (test_sip_ipv6_unsigned_seconds),
    cmocka_unit_test (test_sip_ipv4_tcp),
    cmocka_unit_test (test_bad_traces),
    cmocka_unit_test (test_error_then_continue),
    cmocka_unit_test_setup_teardown (test_cut_capture, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_open_errors, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_merge, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_out_of_order, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_link_loopback, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_link_raw, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_link_sll_vlan_pppoe, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_ipv4_details, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_ipv6_details, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_mutations, setup_dir, teardown_dir),
    cmocka_unit_test (test_to_nat),
    cmocka_unit_test_setup_teardown (test_writer_round_trip, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_writer_abandoned, setup_dir, teardown_dir),
    cmocka_unit_test (test_cidr_default),
    cmocka_unit_test (test_cidr_parse),
    cmocka_unit_test (test_cidr_ipv4_ranges),
    cmocka_unit_test (test_skip_names),
    cmocka_unit_test (test_tcpdump_cross_check),
    cmocka_unit_test (test_tunnel_samples),
    cmocka_unit_test (test_tunnel_outer),
    cmocka_unit_test_setup_teardown (test_tunnel_variants, setup_dir, teardown_dir),
    cmocka_unit_test (test_reasm_samples),
    cmocka_unit_test (test_reasm_rules),
    cmocka_unit_test (test_sip_tcp_streams),
    cmocka_unit_test (test_sip_websocket),
    cmocka_unit_test (test_sip_stream_bounds),
  };

  return cmocka_run_group_tests_name ("trace", tests, NULL, NULL);
}
