/* natsim synth: the simulated packets of a scenario as a capture.
 *
 * Runs the first replication of the scenario (replication 1: replications
 * are numbered from 1 wherever a person reads them, as in --events and
 * progress) and writes every packet offered to the NAT, in both directions and in inside addressing (what a capture on
 * the LAN side of the NAT shows), with NatsimPcapWriter: Ethernet, IPv4,
 * UDP / TCP / ICMP echo with real lengths and checksums, carrying what the
 * models send (synth_payload()): SIP requests and 200 OKs on port 5060
 * (REGISTER with Expires, INVITE, BYE), CRLF and STUN keepalives, STUN
 * checks, RTP and RTCP, so that tshark decodes them and `natsim analyze`
 * finds the registrations (and only them).
 * Replaying the capture with the scenario's NAT settings gives the totals
 * of the simulation (tests/test-cli-trace.c checks it).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli-private.h"
#include "natsim/error.h"
#include "natsim/parse.h"
#include "natsim/trace.h"

/* Capture time of simulated time 0: 2024-01-01T00:00:00Z (fixed, so the
 * capture is the same on every run). */
#define SYNTH_EPOCH_NS (UINT64_C (1704067200) * NATSIM_NSEC_PER_SEC)

/* What synth knows of one inside endpoint (address and port). */
typedef struct
{
  guint       cseq;        /* SIP requests sent */
  const char *method;      /* the last one's method ... */
  bool        registering; /* ... and whether it is REGISTER */
  uint8_t     txid[12];    /* the last STUN transaction */
  uint32_t    mapped_addr; /* its reflexive address, as the NAT mapped it */
  uint16_t    mapped_port;
} SynthEndpoint;

/* One RTP / RTCP stream (one direction of a media flow). */
typedef struct
{
  uint16_t   seq;
  uint32_t   ssrc, ts0;
  NatsimTime first;
  uint32_t   packets, octets;
} SynthStream;

typedef struct
{
  NatsimPcapWriter *writer;
  GHashTable       *endpoints; /* (address << 16 | port) -> SynthEndpoint */
  GHashTable       *streams;   /* FlowKey string -> SynthStream */
  guint             expires;   /* seconds */
  guint64           failed;    /* frames the writer refused */
  GString          *buf;
} Synth;

static void *
synth_begin (const NatsimScenario *s, guint replication, void *user_data)
{
  return user_data;
}

static SynthEndpoint *
synth_endpoint (Synth *sy, uint32_t addr, uint16_t port)
{
  gpointer key = GSIZE_TO_POINTER (((gsize) addr << 16) | port);
  SynthEndpoint *ep = g_hash_table_lookup (sy->endpoints, key);

  if (ep == NULL)
    {
      ep = g_new0 (SynthEndpoint, 1);
      ep->method = "REGISTER";
      ep->registering = true;
      g_hash_table_insert (sy->endpoints, key, ep);
    }
  return ep;
}

/* FNV-1a over a few words: deterministic SSRCs and transaction ids. */
static uint32_t
mix (uint32_t a, uint32_t b, uint32_t c)
{
  uint32_t h = 2166136261u, w[3] = { a, b, c };

  for (guint i = 0; i < 3; i++)
    for (guint k = 0; k < 4; k++)
      h = (h ^ ((w[i] >> (8 * k)) & 0xff)) * 16777619u;
  return h;
}

static void
put16 (GString *b, unsigned v)
{
  g_string_append_c (b, (char) (v >> 8));
  g_string_append_c (b, (char) v);
}

static void
put32 (GString *b, uint32_t v)
{
  put16 (b, v >> 16);
  put16 (b, v & 0xffff);
}

/* The model's signalling sizes (src/model/endpoint.c: "sizes tell the
 * requests apart"): the request a packet of IP length @length carries. */
static const char *
sip_method_for (uint16_t length)
{
  switch (length)
    {
    case 1100:
      return "INVITE";
    case 600:
      return "BYE";
    default:
      return "REGISTER";
    }
}

/* A minimal valid request (RFC 3261 section 8.1.1) from the inside
 * endpoint to the registrar, or the registrar's 200 OK to its last one. */
static void
sip_payload (Synth *sy, const NatsimPacket *pkt)
{
  bool request = pkt->dir == NATSIM_DIR_OUT;
  uint32_t in_addr = request ? pkt->src_addr : pkt->dst_addr;
  uint16_t in_port = request ? pkt->src_port : pkt->dst_port;
  uint32_t reg_addr = request ? pkt->dst_addr : pkt->src_addr;
  SynthEndpoint *ep = synth_endpoint (sy, in_addr, in_port);
  bool registering;
  char in[16], reg[16];

  natsim_format_ipv4 (in_addr, in, sizeof in);
  natsim_format_ipv4 (reg_addr, reg, sizeof reg);
  if (request)
    {
      ep->cseq++;
      ep->method = sip_method_for (pkt->length);
      ep->registering = pkt->length != 1100 && pkt->length != 600;
    }
  registering = ep->registering;
  g_string_truncate (sy->buf, 0);
  if (request)
    g_string_append_printf (sy->buf, "%s sip:%s%s%s SIP/2.0\r\n", ep->method,
                            registering ? "" : "callee", registering ? "" : "@", reg);
  else
    g_string_append (sy->buf, "SIP/2.0 200 OK\r\n");
  g_string_append_printf (sy->buf,
                          "Via: SIP/2.0/UDP %s:%u;rport;branch=z9hG4bK%08x%04x\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:%s@%s>;tag=%08x\r\n"
                          "To: <sip:%s@%s>\r\n"
                          "Call-ID: %08x%04x@%s\r\n"
                          "CSeq: %u %s\r\n"
                          "Contact: <sip:%s@%s:%u>%s\r\n",
                          in, in_port, in_addr, ep->cseq, in, reg, in_addr,
                          registering ? in : "callee", reg, in_addr, in_port, in, ep->cseq,
                          ep->method, in, in, in_port,
                          request || !registering ? "" : ";expires=");
  if (!request && registering)
    {
      /* The granted time goes in the Contact line just started. */
      g_string_truncate (sy->buf, sy->buf->len - 2);
      g_string_append_printf (sy->buf, "%u\r\n", sy->expires);
    }
  if (request && registering)
    g_string_append_printf (sy->buf, "Expires: %u\r\n", sy->expires);
  g_string_append (sy->buf, "Content-Length: 0\r\n\r\n");
}

/* RFC 8489 Binding request (20-byte header, no attribute: IP length 48, the
 * model's STUN keepalive and check), or its success response with the
 * XOR-MAPPED-ADDRESS the NAT gave the request (IP length 60). */
static void
stun_payload (Synth *sy, const NatsimPacket *pkt, const NatsimNatResult *res)
{
  bool request = pkt->dir == NATSIM_DIR_OUT;
  SynthEndpoint *ep = synth_endpoint (sy, request ? pkt->src_addr : pkt->dst_addr,
                                      request ? pkt->src_port : pkt->dst_port);

  g_string_truncate (sy->buf, 0);
  if (request)
    {
      for (guint i = 0; i < 3; i++)
        {
          uint32_t w = mix (pkt->src_addr, ((uint32_t) pkt->src_port << 16) | ep->cseq, i);

          memcpy (ep->txid + 4 * i, &w, 4);
        }
      ep->cseq++;
      ep->mapped_addr = res->ext_addr;
      ep->mapped_port = res->ext_port;
    }
  put16 (sy->buf, request ? 0x0001 : 0x0101);
  put16 (sy->buf, request ? 0 : 12);
  put32 (sy->buf, UINT32_C (0x2112A442));
  g_string_append_len (sy->buf, (const char *) ep->txid, 12);
  if (!request)
    {
      put16 (sy->buf, 0x0020); /* XOR-MAPPED-ADDRESS */
      put16 (sy->buf, 8);
      put16 (sy->buf, 0x0001); /* IPv4 */
      put16 (sy->buf, ep->mapped_port ^ 0x2112);
      put32 (sy->buf, ep->mapped_addr ^ UINT32_C (0x2112A442));
    }
}

/* The stream key of a media packet (its RTP ports for RTCP). */
static char *
stream_key (const NatsimPacket *pkt, bool rtcp)
{
  return g_strdup_printf ("%08x:%u>%08x:%u", pkt->src_addr,
                          rtcp ? pkt->src_port - 1 : pkt->src_port, pkt->dst_addr,
                          rtcp ? pkt->dst_port - 1 : pkt->dst_port);
}

/* RTP (RFC 3550 5.1) with the payload type and clock of the codec the port
 * and marking say (the app's audio ports 8500-8599: Opus, dynamic 111,
 * 48 kHz; its video ports 8600-8699 or AF41: H.264, dynamic 96, 90 kHz;
 * other audio: PCMU, 0, 8 kHz), or RTCP: a sender report and an SDES CNAME
 * (RFC 3550 6.4.1, 6.5) filling the packet. */
static void
media_payload (Synth *sy, const NatsimPacket *pkt, size_t len, bool rtcp)
{
  bool out = pkt->dir == NATSIM_DIR_OUT;
  uint16_t local = out ? pkt->src_port : pkt->dst_port;
  uint16_t rtp_local = rtcp ? (uint16_t) (local - 1) : local;
  g_autofree char *key = stream_key (pkt, rtcp);
  SynthStream *st = g_hash_table_lookup (sy->streams, key);
  bool video = (rtp_local >= 8600 && rtp_local <= 8699) || pkt->dscp == 34;
  unsigned pt = video ? 96 : rtp_local >= 8500 && rtp_local <= 8599 ? 111 : 0;
  uint64_t clock = video ? 90000 : pt == 111 ? 48000 : 8000;
  uint32_t ts;

  if (st == NULL)
    {
      st = g_new0 (SynthStream, 1);
      st->ssrc = mix (pkt->src_addr, pkt->dst_addr,
                      ((uint32_t) (rtcp ? pkt->src_port - 1 : pkt->src_port) << 16)
                        | (uint16_t) (rtcp ? pkt->dst_port - 1 : pkt->dst_port));
      st->seq = (uint16_t) (st->ssrc >> 7);
      st->ts0 = st->ssrc * UINT32_C (2654435761);
      st->first = pkt->time;
      g_hash_table_insert (sy->streams, g_steal_pointer (&key), st);
    }
  ts = st->ts0 + (uint32_t) ((pkt->time - st->first) * clock / NATSIM_NSEC_PER_SEC);
  g_string_truncate (sy->buf, 0);
  if (!rtcp)
    {
      g_string_append_c (sy->buf, (char) 0x80);  /* V=2 */
      g_string_append_c (sy->buf, (char) pt);
      put16 (sy->buf, st->seq++);
      put32 (sy->buf, ts);
      put32 (sy->buf, st->ssrc);
      /* PCMU silence is 0xff; the others are opaque to a dissector. */
      while (sy->buf->len < len)
        g_string_append_c (sy->buf, (char) (pt == 0 ? 0xff : 0x55));
      st->packets++;
      st->octets += (uint32_t) (len - 12);
      return;
    }
  {
    /* NTP time of the packet: seconds since 1900 (the capture's epoch is
     * 2024-01-01, 3913056000 s after 1900). */
    uint64_t ns = pkt->time;
    uint32_t ntp_sec = (uint32_t) (UINT64_C (3913056000) + ns / NATSIM_NSEC_PER_SEC);
    uint32_t ntp_frac = (uint32_t) (((ns % NATSIM_NSEC_PER_SEC) << 32) / NATSIM_NSEC_PER_SEC);
    size_t text = len - 28 - 11;
    g_autofree char *cname = g_strdup_printf ("%08x@synth.natsim.invalid", st->ssrc);

    g_string_append_c (sy->buf, (char) 0x80);    /* V=2, no report block */
    g_string_append_c (sy->buf, (char) 200);     /* SR */
    put16 (sy->buf, 6);
    put32 (sy->buf, st->ssrc);
    put32 (sy->buf, ntp_sec);
    put32 (sy->buf, ntp_frac);
    put32 (sy->buf, ts);
    put32 (sy->buf, st->packets);
    put32 (sy->buf, st->octets);
    g_string_append_c (sy->buf, (char) 0x81);    /* V=2, one chunk */
    g_string_append_c (sy->buf, (char) 202);     /* SDES */
    put16 (sy->buf, (unsigned) ((len - 28) / 4 - 1));
    put32 (sy->buf, st->ssrc);
    g_string_append_c (sy->buf, 1);              /* CNAME */
    g_string_append_c (sy->buf, (char) text);
    for (size_t i = 0; i < text; i++)
      g_string_append_c (sy->buf, i < strlen (cname) ? cname[i] : '.');
    g_string_append_c (sy->buf, 0);              /* end of items */
  }
}

/* What the model sent, by port and size (the models' sizes, see
 * src/model/endpoint.c): on the SIP port, CRLF keepalives (32), STUN
 * keepalives (48, answered with 60) and requests; elsewhere STUN checks,
 * RTP (200, from an even port above 1023 to one above 1023: the models'
 * even/odd media pairs) and RTCP (100, on the odd ports next to an RTP
 * stream already written); anything else keeps its size in zero bytes.
 * Returns the payload in sy->buf, or false for zeros. */
static bool
synth_payload (Synth *sy, const NatsimPacket *pkt, const NatsimNatResult *res)
{
  bool out = pkt->dir == NATSIM_DIR_OUT;
  uint16_t local = out ? pkt->src_port : pkt->dst_port;
  uint16_t remote = out ? pkt->dst_port : pkt->src_port;
  size_t len = pkt->length > 28 ? pkt->length - 28u : 0;

  if (pkt->proto != NATSIM_PROTO_UDP)
    return false;
  if ((out && pkt->length == 48) || (!out && pkt->length == 60))
    {
      stun_payload (sy, pkt, res);
      return true;
    }
  if (remote == 5060)
    {
      if (out && pkt->length == 32)
        {
          /* RFC 5626 3.5.1: the double-CRLF ping. */
          g_string_assign (sy->buf, "\r\n\r\n");
          return true;
        }
      sip_payload (sy, pkt);
      return true;
    }
  if (local < 1024 || remote < 1024)
    return false;
  if (pkt->length == 200 && (local & 1) == 0)
    {
      media_payload (sy, pkt, len, false);
      return true;
    }
  if (pkt->length == 100 && (local & 1) && (remote & 1) && len % 4 == 0)
    {
      g_autofree char *key = stream_key (pkt, true);

      if (g_hash_table_contains (sy->streams, key))
        {
          media_payload (sy, pkt, len, true);
          return true;
        }
    }
  return false;
}

static void
synth_packet (const NatsimPacket *pkt, const NatsimNatResult *res, void *state)
{
  Synth *sy = state;
  bool ok;

  if (synth_payload (sy, pkt, res))
    ok = natsim_pcap_writer_write (sy->writer, pkt, (const uint8_t *) sy->buf->str,
                                   sy->buf->len);
  else
    ok = natsim_pcap_writer_write (sy->writer, pkt, NULL, 0);
  if (!ok)
    sy->failed++;
}

static const NatsimSimHooks synth_hooks = { synth_begin, NULL, synth_packet, NULL };

int
cmd_synth (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = NULL;
  g_autoptr (NatsimPcapWriter) writer = NULL;
  g_autoptr (NatsimRunResult) run = NULL;
  g_autoptr (GPtrArray) sets = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) endpoints = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                                            g_free);
  g_autoptr (GHashTable) streams = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GString) buf = g_string_new (NULL);
  g_auto (GStrv) user_sets = NULL;
  g_autofree char *out = NULL;
  g_autofree char *seed_arg = NULL;
  uint64_t seed = 0;
  gint expires = 3600;
  gboolean quiet = FALSE;
  Synth sy = { 0 };
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out, "The capture to write (required)",
      "OUT.pcap" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &seed_arg, "Seed (default the scenario's)", "N" },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &user_sets,
      "Override a scenario key, e.g. population.phones.count=50 (repeatable)",
      "GROUP.KEY=VALUE" },
    { "sip-expires", 0, 0, G_OPTION_ARG_INT, &expires,
      "Expires of the synthetic REGISTERs, seconds (default 3600)", "S" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing on stdout", NULL },
    { NULL }
  };

  ctx = g_option_context_new ("SCENARIO -o OUT.pcap - the simulated packets as a capture");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Runs replication 1 of the scenario (the one simulate --events narrates) and writes\n"
    "every packet offered to the NAT, both directions, in inside addressing (a capture on\n"
    "the LAN side): Ethernet, IPv4, UDP/TCP/ICMP echo with correct lengths and checksums,\n"
    "nanosecond pcap starting at 2024-01-01T00:00:00Z.  Payloads are what the models send:\n"
    "on UDP 5060 SIP requests (REGISTER, INVITE, BYE) and 200 OKs, CRLF keepalives and STUN\n"
    "binding requests and responses; STUN checks; RTP with the codec's payload type,\n"
    "sequence, timestamp and SSRC, and RTCP sender reports, on the media ports.  The file\n"
    "appears complete or not at all.  Replaying it with the\n"
    "scenario's NAT (natsim replay OUT.pcap --scenario SCENARIO) gives the simulation's\n"
    "totals when the scenario has no warmup.\n"
    "\nExamples:\n"
    "  natsim synth scenarios/classroom-exhaustion.ini -o /tmp/classroom.pcap\n"
    "  natsim synth scenarios/default.ini -o /tmp/site.pcap --set simulation.duration=10m \\\n"
    "      --set simulation.warmup=0s\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if (argc != 2)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "synth: expected one SCENARIO (see 'natsim synth --help')");
      return cli_fail (g_steal_pointer (&error));
    }
  if (out == NULL)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "synth: -o OUT.pcap is required");
      return cli_fail (g_steal_pointer (&error));
    }
  if (seed_arg != NULL && !cli_parse_seed (seed_arg, &seed, &error))
    return cli_fail (g_steal_pointer (&error));
  if (expires < 0)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--sip-expires %d: expected seconds >= 0", expires);
      return cli_fail (g_steal_pointer (&error));
    }

  for (guint i = 0; user_sets != NULL && user_sets[i] != NULL; i++)
    g_ptr_array_add (sets, g_strdup (user_sets[i]));
  if (seed_arg != NULL)
    g_ptr_array_add (sets, g_strdup_printf ("simulation.seed=%" G_GUINT64_FORMAT, seed));
  g_ptr_array_add (sets, NULL);
  s = cli_load_scenario (argv[1], (char **) sets->pdata, &error);
  if (s == NULL)
    return cli_fail (g_steal_pointer (&error));

  writer = natsim_pcap_writer_open (out, &error);
  if (writer == NULL)
    return cli_fail (g_steal_pointer (&error));
  natsim_pcap_writer_set_epoch (writer, SYNTH_EPOCH_NS);
  sy.writer = writer;
  sy.endpoints = endpoints;
  sy.streams = streams;
  sy.expires = (guint) expires;
  sy.buf = buf;
  run = natsim_simulate_replication_observed (s, 0, NULL, &synth_hooks, &sy, &error);
  if (run == NULL)
    return cli_fail (g_steal_pointer (&error));
  if (sy.failed > 0)
    {
      g_set_error (&error, NATSIM_ERROR, NATSIM_ERROR_FAILED,
                   "%s: %" G_GUINT64_FORMAT " packets could not be written; nothing written",
                   out, sy.failed);
      return cli_fail (g_steal_pointer (&error));
    }
  if (!natsim_pcap_writer_close (writer, &error))
    return cli_fail (g_steal_pointer (&error));
  if (!quiet)
    printf ("Wrote %" G_GUINT64_FORMAT " packets (replication 1, seed %" G_GUINT64_FORMAT
            ") to %s\n",
            natsim_pcap_writer_packets (writer),
            natsim_params_get_uint (s->simulation, "seed"), out);
  return EXIT_OK;
}
