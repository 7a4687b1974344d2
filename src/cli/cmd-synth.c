/* natsim synth: the simulated packets of a scenario as a capture.
 *
 * Runs the first replication of the scenario (replication 1: replications
 * are numbered from 1 wherever a person reads them, as in --events and
 * progress) and writes every packet offered to the NAT, in both directions and in inside addressing (what a capture on
 * the LAN side of the NAT shows), with NatsimPcapWriter: Ethernet, IPv4,
 * UDP / TCP / ICMP echo with real lengths and checksums.  UDP to port 5060
 * carries a clear-text SIP REGISTER (with Expires), UDP from port 5060 a
 * 200 OK granting it, so that `natsim analyze` finds the registrations.
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

typedef struct
{
  NatsimPcapWriter *writer;
  GHashTable       *cseq;    /* (address << 16 | port) -> REGISTERs sent */
  guint             expires; /* seconds */
  guint64           failed;  /* frames the writer refused */
  GString          *buf;
} Synth;

static void *
synth_begin (const NatsimScenario *s, guint replication, void *user_data)
{
  return user_data;
}

/* A minimal valid REGISTER (RFC 3261 section 10.2) from the inside
 * endpoint to the registrar, or the registrar's 200 OK to it. */
static void
sip_payload (Synth *sy, const NatsimPacket *pkt)
{
  bool request = pkt->dir == NATSIM_DIR_OUT;
  uint32_t in_addr = request ? pkt->src_addr : pkt->dst_addr;
  uint16_t in_port = request ? pkt->src_port : pkt->dst_port;
  uint32_t reg_addr = request ? pkt->dst_addr : pkt->src_addr;
  gpointer key = GSIZE_TO_POINTER (((gsize) in_addr << 16) | in_port);
  guint cseq = GPOINTER_TO_UINT (g_hash_table_lookup (sy->cseq, key));
  char in[16], reg[16];

  natsim_format_ipv4 (in_addr, in, sizeof in);
  natsim_format_ipv4 (reg_addr, reg, sizeof reg);
  if (request)
    g_hash_table_insert (sy->cseq, key, GUINT_TO_POINTER (++cseq));
  g_string_truncate (sy->buf, 0);
  if (request)
    g_string_append_printf (sy->buf, "REGISTER sip:%s SIP/2.0\r\n", reg);
  else
    g_string_append (sy->buf, "SIP/2.0 200 OK\r\n");
  g_string_append_printf (sy->buf,
                          "Via: SIP/2.0/UDP %s:%u;rport;branch=z9hG4bK%08x%04x\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:%s@%s>;tag=%08x\r\n"
                          "To: <sip:%s@%s>\r\n"
                          "Call-ID: %08x%04x@%s\r\n"
                          "CSeq: %u REGISTER\r\n"
                          "Contact: <sip:%s@%s:%u>%s\r\n",
                          in, in_port, in_addr, cseq, in, reg, in_addr, in, reg, in_addr,
                          in_port, in, cseq, in, in, in_port,
                          request ? "" : ";expires=");
  if (!request)
    {
      /* The granted time goes in the Contact line just started. */
      g_string_truncate (sy->buf, sy->buf->len - 2);
      g_string_append_printf (sy->buf, "%u\r\n", sy->expires);
    }
  if (request)
    g_string_append_printf (sy->buf, "Expires: %u\r\n", sy->expires);
  g_string_append (sy->buf, "Content-Length: 0\r\n\r\n");
}

static void
synth_packet (const NatsimPacket *pkt, const NatsimNatResult *res, void *state)
{
  Synth *sy = state;
  bool ok;

  if (pkt->proto == NATSIM_PROTO_UDP &&
      ((pkt->dir == NATSIM_DIR_OUT && pkt->dst_port == 5060) ||
       (pkt->dir == NATSIM_DIR_IN && pkt->src_port == 5060)))
    {
      sip_payload (sy, pkt);
      ok = natsim_pcap_writer_write (sy->writer, pkt, (const uint8_t *) sy->buf->str,
                                     sy->buf->len);
    }
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
  g_autoptr (GHashTable) cseq = g_hash_table_new (g_direct_hash, g_direct_equal);
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
    "nanosecond pcap starting at 2024-01-01T00:00:00Z.  UDP to port 5060 carries a clear-text SIP REGISTER, UDP from\n"
    "5060 a 200 OK.  The file appears complete or not at all.  Replaying it with the\n"
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
  sy.cseq = cseq;
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
