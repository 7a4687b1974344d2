/* natsim: captures in and out.
 *
 * The trace module is the second packet source of the engine (README.md, "Traces"):
 * it streams one or more pcap / pcapng files through libpcap, merges them by
 * timestamp, decodes link, IP and transport headers and hands out one
 * NatsimTracePacket at a time.  It also classifies addresses as inside or
 * outside (NatsimCidrSet) and writes captures for `natsim synth`
 * (NatsimPcapWriter).
 *
 * Reading is streamed: memory is one read buffer per open file (libpcap's,
 * and a 256 KiB block for native-order pcap files, read with pread()) plus
 * a heap of one index per file, whatever the size of the trace.  The per-packet
 * path (natsim_trace_reader_next()) allocates nothing and never uses GError;
 * errors are reported at open (GError) or as NATSIM_TRACE_ERROR with the
 * message available from natsim_trace_reader_error().
 *
 * Input is hostile: every header field is read through bounds-checked
 * helpers; a packet that cannot be decoded is skipped and counted by reason
 * (NatsimTraceSkip), never trusted.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "natsim/nat.h"
#include "natsim/time.h"

G_BEGIN_DECLS

/* ------------------------------------------------------------------------ */
/* Decoded packets                                                          */

/* Tunnels the decoder opens (unless told not to: --outer).  The inner
 * packet is what a NatsimTracePacket describes; its `tunnels` bit set says
 * which were opened on the way.  Names are stable (reports use them). */
typedef enum
{
  NATSIM_TRACE_TUNNEL_GRE,    /* GRE carrying IP, Ethernet or MPLS (RFC 2784, 2890) */
  NATSIM_TRACE_TUNNEL_ERSPAN, /* ERSPAN types I, II, III over GRE */
  NATSIM_TRACE_TUNNEL_VXLAN,  /* VXLAN, UDP 4789 (RFC 7348) */
  NATSIM_TRACE_TUNNEL_GENEVE, /* Geneve, UDP 6081 (RFC 8926) */
  NATSIM_TRACE_TUNNEL_MPLS,   /* MPLS label stacks, ethertypes 0x8847 / 0x8848 (RFC 3032) */
  NATSIM_TRACE_TUNNEL_N
} NatsimTraceTunnel;

/* "gre", "erspan", "vxlan", "geneve", "mpls"; NULL if out of range. */
const char *natsim_trace_tunnel_name (NatsimTraceTunnel kind);

/* One decoded IPv4 or IPv6 packet.  Pointers point into the reader's
 * buffers and stay valid until the next call to natsim_trace_reader_next()
 * or natsim_trace_reader_free(). */
typedef struct
{
  NatsimTime     time;        /* ns since the first record of all files */
  uint64_t       unix_ns;     /* capture timestamp, ns since 1970 (after clamping) */
  guint          file_index;  /* which of the paths given to open */
  uint64_t       record;      /* 1-based record number within that file */

  uint8_t        ip_version;  /* 4 or 6 */
  uint8_t        proto;       /* IP protocol (IPv6: after extension headers):
                               * 1, 6, 17 or 58 */
  uint8_t        tcp_flags;   /* as on the wire (NATSIM_TCP_*), TCP only */
  uint32_t       tcp_seq;     /* sequence number, TCP only */
  uint8_t        dscp;        /* from the IPv4 TOS / IPv6 traffic class */
  uint8_t        icmp_type;   /* ICMP / ICMPv6 only */
  uint8_t        icmp_code;
  bool           has_ports;   /* UDP, TCP, ICMP echo; false for non-first
                               * fragments and ICMP other than echo */
  bool           fragment;    /* any fragment (first or later) */
  uint8_t        src[16];     /* IPv6, or IPv4 as v4-mapped ::ffff:a.b.c.d */
  uint8_t        dst[16];
  uint32_t       src4, dst4;  /* IPv4 only, host byte order (0 for IPv6) */
  uint16_t       src_port;    /* ICMP echo: the identifier, in both ports */
  uint16_t       dst_port;
  uint32_t       ip_length;   /* IPv4 total length / IPv6 40 + payload length */
  uint32_t       wire_length; /* length of the frame on the wire (pcap len) */

  const uint8_t *ip;          /* the captured IP datagram ... */
  uint32_t       ip_caplen;   /* ... bytes of it captured (<= ip_length) */
  uint32_t       l4_offset;   /* transport header offset from @ip (0 if none) */
  const uint8_t *payload;     /* transport payload, captured bytes only */
  size_t         payload_len;
  uint8_t        tunnels;     /* bit set of NatsimTraceTunnel opened to reach
                               * this packet (0: none); wire_length stays the
                               * outer frame's */
  bool           frag_more;   /* fragments only: more fragments follow (MF) */
  uint32_t       frag_offset; /* fragments only: offset of this piece, bytes */
  uint32_t       frag_id;     /* fragments only: the datagram's identification
                               * (IPv4 16 bits, IPv6 32 bits) */
  uint32_t       frag_data;   /* fragments only: offset from @ip of the piece's
                               * data (after the IPv4 header or the IPv6
                               * fragment header) */
} NatsimTracePacket;

/* Why a record was skipped.  Names are stable (reports and tests use them). */
typedef enum
{
  NATSIM_TRACE_SKIP_CAPLEN_EXCEEDS_LEN,  /* captured more than was on the wire */
  NATSIM_TRACE_SKIP_CAPLEN_EXCEEDS_SNAPLEN, /* captured more than the file's snaplen */
  NATSIM_TRACE_SKIP_LEN_TOO_LARGE,       /* on-the-wire length beyond any real frame */
  NATSIM_TRACE_SKIP_TRUNCATED_LINK,      /* link-layer header cut short */
  NATSIM_TRACE_SKIP_BAD_LINK,            /* link header inconsistent (VLAN stack, NFLOG TLVs) */
  NATSIM_TRACE_SKIP_NON_IP,              /* ARP, STP, LLDP, MPLS, ... */
  NATSIM_TRACE_SKIP_IP_BAD_VERSION,      /* version nibble does not match the link type */
  NATSIM_TRACE_SKIP_IPV4_TRUNCATED,      /* IPv4 header not fully captured */
  NATSIM_TRACE_SKIP_IPV4_BAD_IHL,        /* IHL < 5 */
  NATSIM_TRACE_SKIP_IPV4_BAD_LENGTH,     /* total length < IHL, or longer than the frame */
  NATSIM_TRACE_SKIP_IPV6_TRUNCATED,      /* fixed IPv6 header not fully captured */
  NATSIM_TRACE_SKIP_IPV6_BAD_LENGTH,     /* payload length longer than the frame, or 0 */
  NATSIM_TRACE_SKIP_IPV6_BAD_EXT,        /* extension header chain truncated, too long or past the packet */
  NATSIM_TRACE_SKIP_UDP_TRUNCATED,       /* UDP header not fully captured */
  NATSIM_TRACE_SKIP_UDP_BAD_LENGTH,      /* UDP length < 8 or beyond the IP payload */
  NATSIM_TRACE_SKIP_TCP_TRUNCATED,       /* fixed TCP header not fully captured */
  NATSIM_TRACE_SKIP_TCP_BAD_OFFSET,      /* data offset < 5 or beyond the IP payload */
  NATSIM_TRACE_SKIP_ICMP_TRUNCATED,      /* ICMP header not fully captured */
  NATSIM_TRACE_SKIP_UNSUPPORTED_PROTO,   /* not UDP, TCP, ICMP, ICMPv6 (e.g. ESP; GRE under --outer) */
  NATSIM_TRACE_SKIP_TUNNEL_TRUNCATED,    /* GRE / ERSPAN / VXLAN / Geneve / MPLS header cut short */
  NATSIM_TRACE_SKIP_TUNNEL_UNSUPPORTED,  /* a GRE version, payload or ERSPAN version not opened */
  NATSIM_TRACE_SKIP_TUNNEL_FRAGMENT,     /* a fragment of a tunnel packet */
  NATSIM_TRACE_SKIP_TUNNEL_TOO_DEEP,     /* more nested tunnels than followed */
  NATSIM_TRACE_SKIP_N
} NatsimTraceSkip;

/* "caplen-exceeds-len", "non-ip", ...; NULL if out of range. */
const char *natsim_trace_skip_name (NatsimTraceSkip reason);
/* One sentence for reports, e.g. "IPv4 header length (IHL) below 5 words". */
const char *natsim_trace_skip_description (NatsimTraceSkip reason);

typedef struct
{
  guint64 packets_read;    /* records taken from the files */
  guint64 packets_decoded; /* returned as NATSIM_TRACE_PACKET */
  guint64 packets_skipped; /* sum of skipped[] */
  guint64 skipped[NATSIM_TRACE_SKIP_N];
  guint64 bytes_captured;  /* sum of captured lengths of all records */
  guint64 bytes_wire;      /* sum of on-the-wire lengths of all records */
  guint64 bytes_decoded;   /* sum of ip_length of decoded packets */
  guint64 ipv4, ipv6;      /* decoded packets by family ... */
  guint64 udp, tcp, icmp;  /* ... and by protocol (icmp counts ICMPv6 too) */
  guint64 fragments;       /* decoded fragments, first or later */
  guint64 later_fragments; /* ... of which not the first (no ports) */
  guint64 truncated;       /* decoded packets captured shorter than on the wire */
  guint64 out_of_order;    /* records whose timestamp went back; clamped */
  guint64 bad_timestamps;  /* fraction outside [0, 1 s) or time out of range */
  guint64 files_failed;    /* files abandoned after a read error */
  guint64 tunnels[NATSIM_TRACE_TUNNEL_N]; /* decoded packets that came out of
                                           * each kind of tunnel */
  guint64 files_cut;       /* files whose last record is cut short (read up to it) */
  guint   cut_file;        /* the first such file (index into the paths) ... */
  guint64 cut_record;      /* ... and its cut record's number (1-based) */
} NatsimTraceStats;

/* ------------------------------------------------------------------------ */
/* Reader                                                                   */

typedef struct NatsimTraceReader NatsimTraceReader;

typedef enum
{
  NATSIM_TRACE_ERROR  = -1, /* a file failed; see natsim_trace_reader_error() */
  NATSIM_TRACE_END    = 0,  /* every file is exhausted */
  NATSIM_TRACE_PACKET = 1,  /* *ret holds the next packet */
} NatsimTraceResult;

/* Opens @n capture files (pcap or pcapng, any timestamp precision; "-" is
 * standard input) for reading as one stream merged by timestamp, ties going
 * to the earlier path.  Every file is opened and its link type checked now:
 * a missing, unreadable or non-capture file, or an unsupported link type,
 * fails the whole open with NATSIM_ERROR_INVALID_INPUT naming the path.
 * Supported: Ethernet (802.1Q / 802.1ad / QinQ tags, PPPoE session),
 * Linux cooked SLL and SLL2, raw IP (RAW, IPV4, IPV6), BSD loopback
 * (NULL, LOOP) and NFLOG. */
NatsimTraceReader *natsim_trace_reader_open (const char *const *paths, guint n,
                                             GError **error);

/* NULL-safe. */
void natsim_trace_reader_free (NatsimTraceReader *r);

/* Whether tunnels (GRE, ERSPAN, VXLAN, Geneve) are opened, so that the
 * inner packets are handed out (the default), or the outer packets are
 * (false: `--outer`, to study the tunnel itself; GRE is then skipped as
 * unsupported-proto).  MPLS is always popped: under it is the only IP
 * header.  Call before the first natsim_trace_reader_next(). */
void natsim_trace_reader_set_decapsulate (NatsimTraceReader *r, gboolean decapsulate);

/* What to do with a file whose last record is cut short (the capture ends
 * inside it, as when tcpdump is killed while writing): by default the
 * complete records before it are read and the file ends there, counted in
 * stats.files_cut (the first one in cut_file and cut_record), as tshark
 * does; when @strict, it is a NATSIM_TRACE_ERROR like any other damage.
 * Call before the first natsim_trace_reader_next(). */
void natsim_trace_reader_set_strict (NatsimTraceReader *r, gboolean strict);

/* One line for a warning about @st's cut files ("PATH: the capture ends
 * inside record N; ..."), @paths being the paths given to open; NULL when
 * no file was cut.  Free with g_free(). */
char *natsim_trace_cut_message (const NatsimTraceStats *st, const char *const *paths);

/* One line about records with impossible timestamps (@st->bad_timestamps),
 * or NULL when there were none.  Free with g_free(). */
char *natsim_trace_bad_time_message (const NatsimTraceStats *st);

/* Decodes the next packet into @ret, skipping (and counting) records that
 * cannot be decoded.  Timestamps: time = capture time - the earliest first
 * record of all files.  Within one file a timestamp lower than its
 * predecessor's is counted (stats.out_of_order) and clamped to it, so the
 * merged stream never goes back in time.
 *
 * On NATSIM_TRACE_ERROR (a record of one file could not be read: truncated
 * file, impossible record length, I/O error) @ret is untouched, the error
 * names the file and the packet number, and that file is dropped; the
 * caller may stop (exit 2) or call again to go on with the other files.
 * Allocates nothing, except the message of an error. */
NatsimTraceResult natsim_trace_reader_next (NatsimTraceReader *r,
                                            NatsimTracePacket *ret);

/* The error of the last NATSIM_TRACE_ERROR (owned by the reader; valid until
 * the next call to next()), or NULL. */
const GError *natsim_trace_reader_error (const NatsimTraceReader *r);

/* Counts so far. */
const NatsimTraceStats *natsim_trace_reader_stats (const NatsimTraceReader *r);

/* The capture timestamp of the first record (ns since 1970), known after
 * the first call to next(); FALSE before, or if the files hold no record. */
gboolean natsim_trace_reader_first_time (const NatsimTraceReader *r,
                                         uint64_t *ret_unix_ns);

/* The time of the last record read so far, decodable or not (relative to
 * the first record of all files, as NatsimTracePacket.time): at the end,
 * where the capture ends.  FALSE before the first record is read, or if the
 * files hold none. */
gboolean natsim_trace_reader_last_time (const NatsimTraceReader *r,
                                        NatsimTime *ret_time);

guint natsim_trace_reader_n_files (const NatsimTraceReader *r);
/* libpcap's name of the file's link type, e.g. "EN10MB", "LINUX_SLL". */
const char *natsim_trace_reader_file_link_type (const NatsimTraceReader *r,
                                                guint i);

/* Fills a NAT packet from an IPv4 trace packet with ports (UDP, TCP, ICMP
 * echo), with dir NATSIM_DIR_OUT if @outbound, else NATSIM_DIR_IN; the
 * addresses stay as captured (inside addressing for a capture taken inside
 * the NAT).  cls and endpoint are 0.  Returns false, leaving @ret
 * untouched, for IPv6, non-first fragments and ICMP other than echo. */
bool natsim_trace_packet_to_nat (const NatsimTracePacket *tp, bool outbound,
                                 NatsimPacket *ret);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimTraceReader, natsim_trace_reader_free)

/* ------------------------------------------------------------------------ */
/* Inside / outside classification                                          */

/* A set of IPv4 and IPv6 prefixes.  IPv4 prefixes are kept as v4-mapped
 * IPv6 prefixes (::ffff:0:0/96 + len), so one lookup serves both families.
 * Lookups scan the list: O(number of prefixes), meant for the handful of
 * --inside prefixes a user gives. */
typedef struct NatsimCidrSet NatsimCidrSet;

NatsimCidrSet *natsim_cidr_set_new (void);

/* The default inside set: RFC 1918 (10/8, 172.16/12, 192.168/16),
 * RFC 6598 shared address space (100.64/10) and IPv6 ULA (fc00::/7). */
NatsimCidrSet *natsim_cidr_set_new_default (void);

/* NULL-safe. */
void natsim_cidr_set_free (NatsimCidrSet *set);

/* Adds "10.0.0.0/8", "fd00::/8", a bare address (a /32 or /128), or a
 * comma-separated list of them.  Strict: host bits set beyond the prefix,
 * an out-of-range length or trailing garbage is NATSIM_ERROR_INVALID_INPUT
 * and nothing is added. */
gboolean natsim_cidr_set_add_string (NatsimCidrSet *set, const char *s,
                                     GError **error);

/* True if @addr (16 bytes; IPv4 as v4-mapped) is in one of the prefixes. */
bool natsim_cidr_set_contains (const NatsimCidrSet *set, const uint8_t addr[16]);

/* Same for an IPv4 address in host byte order: a bisection of the set's
 * IPv4 ranges, O(log prefixes). */
bool natsim_cidr_set_contains_ipv4 (const NatsimCidrSet *set, uint32_t addr);

guint natsim_cidr_set_size (const NatsimCidrSet *set);

/* "10.0.0.0/8,fd00::/8" in the order added (a new string; "" if empty). */
char *natsim_cidr_set_to_string (const NatsimCidrSet *set);

/* Writes @addr4 (host order) as v4-mapped IPv6 into @ret. */
void natsim_ipv4_to_mapped (uint32_t addr4, uint8_t ret[16]);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimCidrSet, natsim_cidr_set_free)

/* ------------------------------------------------------------------------ */
/* Writer                                                                   */

/* Writes NAT packets as an Ethernet pcap with nanosecond timestamps, to
 * PATH.XXXXXX beside @path, renamed over @path by natsim_pcap_writer_close()
 * only: a failed or abandoned capture never appears under its name. */
typedef struct NatsimPcapWriter NatsimPcapWriter;

NatsimPcapWriter *natsim_pcap_writer_open (const char *path, GError **error);

/* Capture timestamp = @unix_ns + packet time; the default is 0, so a
 * packet's capture time (NatsimTracePacket.unix_ns on reading back) equals
 * its simulated time.  Set before the first write. */
void natsim_pcap_writer_set_epoch (NatsimPcapWriter *w, uint64_t unix_ns);

/* Appends one Ethernet + IPv4 + UDP / TCP frame for @pkt, with correct
 * lengths and IPv4, UDP and TCP checksums.  The transport payload is
 * @payload (@len bytes) or, if @payload is NULL, pkt->length minus the
 * headers in zero bytes (none if pkt->length is smaller), so a simulated
 * packet keeps its size.  TOS carries pkt->dscp; TCP carries pkt->tcp_flags
 * with sequence numbers 0.  Outbound frames go from MAC 02:00:00:00:00:01
 * to 02:00:00:00:00:02, inbound the other way.  Returns false, writing
 * nothing, if the frame would exceed 65535 bytes or the writer has failed
 * or is closed. */
bool natsim_pcap_writer_write_udp (NatsimPcapWriter *w, const NatsimPacket *pkt,
                                   const uint8_t *payload, size_t len);
bool natsim_pcap_writer_write_tcp (NatsimPcapWriter *w, const NatsimPacket *pkt,
                                   const uint8_t *payload, size_t len);

/* By pkt->proto: UDP, TCP, or ICMP echo (request outbound, reply inbound,
 * the identifier from pkt->src_port, which RFC 5508 style equals dst_port).
 * False for other protocols. */
bool natsim_pcap_writer_write (NatsimPcapWriter *w, const NatsimPacket *pkt,
                               const uint8_t *payload, size_t len);

guint64 natsim_pcap_writer_packets (const NatsimPcapWriter *w);

/* Flushes, syncs and renames the capture into place.  On failure the
 * temporary file is removed and NATSIM_ERROR_IO says why.  The writer must
 * still be freed; no further writes are accepted. */
gboolean natsim_pcap_writer_close (NatsimPcapWriter *w, GError **error);

/* NULL-safe; if the writer was not closed successfully its temporary file is
 * removed and nothing appears at the path. */
void natsim_pcap_writer_free (NatsimPcapWriter *w);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimPcapWriter, natsim_pcap_writer_free)

G_END_DECLS
