/* natsim replay: captures through the NAT model, and their reports.
 *
 * The command in four steps: parse and check the options (replay_parse),
 * find the NAT configuration (replay_nat_params), replay, then build the
 * report with its coverage and warnings (replay_report). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli-private.h"
#include "natsim/parse.h"
#include "natsim/replay.h"

/* The most copies --scale accepts (each is one reader per file). */
#define REPLAY_MAX_SCALE 10000

typedef struct
{
  char   **sets;
  char   **insides;
  char    *scenario;
  char    *out_dir;
  char    *formats;
  char    *seed_arg;
  char    *scale_offset;
  char    *events_path;
  gint     scale;
  gboolean strict;
  gboolean quiet;
  /* derived */
  char   **traces; /* argv + 1, borrowed */
  guint    n_traces;
} ReplayArgs;

static void
replay_args_clear (ReplayArgs *a)
{
  g_strfreev (a->sets);
  g_strfreev (a->insides);
  g_free (a->scenario);
  g_free (a->out_dir);
  g_free (a->formats);
  g_free (a->seed_arg);
  g_free (a->scale_offset);
  g_free (a->events_path);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ReplayArgs, replay_args_clear)

/* Parses the command line into @a; the checks that need no file. */
static gboolean
replay_parse (int *argc, char ***argv, ReplayArgs *a, GError **error)
{
  g_autoptr (GOptionContext) ctx = NULL;
  GOptionEntry entries[] = {
    { "scenario", 0, 0, G_OPTION_ARG_FILENAME, &a->scenario,
      "Take the NAT configuration ([nat]) from this scenario", "S.ini" },
    { "inside", 'i', 0, G_OPTION_ARG_STRING_ARRAY, &a->insides,
      "Inside prefix, e.g. 10.0.2.15/32 (repeatable; default RFC 1918, RFC 6598, ULA)",
      "CIDR" },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &a->sets,
      "Override a key, e.g. nat.udp_timeout=30s (repeatable; only nat.* without --scenario)",
      "GROUP.KEY=VALUE" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &a->out_dir,
      "Directory for the reports (default reports/TRACE-NAME)", "DIR" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &a->formats,
      "Report formats to write: text,json,md,html,csv,pdf (default text,json,md,html; pdf needs Chromium)", "LIST" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &a->seed_arg,
      "Seed of the NAT's random port choices (default the scenario's, else 1)", "N" },
    { "scale", 'k', 0, G_OPTION_ARG_INT, &a->scale,
      "Predict K times the population: clone every inside host K-1 times (default 1)", "K" },
    { "scale-offset", 0, 0, G_OPTION_ARG_STRING, &a->scale_offset,
      "Clones start at a random offset below this duration (default 60s)", "DURATION" },
    { "events", 'e', 0, G_OPTION_ARG_FILENAME, &a->events_path,
      "Narrate the NAT's decision on every packet in time order ('-' for stdout)", "FILE" },
    { "strict", 0, 0, G_OPTION_ARG_NONE, &a->strict,
      "Refuse a capture whose last record is cut short (default: read up to it and warn)",
      NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &a->quiet, "Print no summary on stdout", NULL },
    { NULL }
  };

  a->scale = 1;
  ctx = g_option_context_new ("TRACE... - replay captures through the NAT model");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Streams the captures (pcap or pcapng, merged by timestamp) through the NAT: packets\n"
    "from an inside address to an outside one are outbound, the reverse inbound (as seen\n"
    "inside the NAT); others are not translated.  Packets are classed by remote port.\n"
    "Tunnels (GRE, ERSPAN, VXLAN, Geneve, MPLS) are opened and the packets inside replayed;\n"
    "later IPv4 fragments go with their first fragment, as Linux reassembles before NAT.\n"
    "A capture whose last record is cut is read up to it with a warning (--strict refuses\n"
    "it).\n"
    "TRACE - reads standard input (default --out reports/stdin; not with --scale).\n"
    "Prints a summary and writes DIR/report.json (schema natsim.report/1), DIR/report.txt,\n"
    "DIR/report.md and DIR/report.html (--format chooses).  report.json \"coverage\" says\n"
    "how many packets went through the NAT and why the others did not; a warning says so\n"
    "when nothing or little of the capture crossed the NAT (check --inside).\n"
    "\n--scale K replays K copies of the capture through one NAT: copy j > 0 starts at a\n"
    "random offset (same seed, same offsets) and inside host number h (in order of first\n"
    "appearance) becomes 240.0.0.0 + 1 + h(K-1) + (j-1); inside hosts must not lie in\n"
    "240.0.0.0/4.\n"
    "\nExamples:\n"
    "  natsim replay traces/isa-sip-call-lab.pcap --inside 10.0.2.15/32\n"
    "  natsim replay traces/ndpi-webex-client.pcap --set nat.udp_timeout=2m\n"
    "  natsim replay traces/isa-sip-call-lab.pcap traces/ndpi-webex-client.pcap \\\n"
    "      --scenario scenarios/default.ini --out /tmp/r\n"
    "  natsim replay traces/synth-sip-udp.pcap --scale 20 --scale-offset 90s\n"
    "  natsim replay traces/synth-classroom-exhaustion.pcap \\\n"
    "      --scenario scenarios/classroom-exhaustion.ini --events -\n");
  if (!g_option_context_parse (ctx, argc, argv, error))
    return FALSE;
  if (*argc < 2)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "replay: expected at least one TRACE (see 'natsim replay --help')");
      return FALSE;
    }
  a->traces = *argv + 1;
  a->n_traces = (guint) *argc - 1;
  if (a->scale < 1 || a->scale > REPLAY_MAX_SCALE)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--scale %d: expected 1 to %d copies", a->scale, REPLAY_MAX_SCALE);
      return FALSE;
    }
  if (a->out_dir == NULL)
    a->out_dir = strcmp (a->traces[0], "-") == 0 ? g_build_filename ("reports", "stdin", NULL)
                                                 : cli_default_out_dir (a->traces[0], "");
  /* Check the formats before spending time on the replay. */
  if (!cli_check_formats (&a->formats, error))
    {
      g_prefix_error (error, "--format: ");
      return FALSE;
    }
  return TRUE;
}

/* The [nat] of the replay: the scenario's (with --set), or the defaults
 * and nat.* --set.  Also the seed and timeline interval. */
static const NatsimParams *
replay_nat_params (const ReplayArgs *a, NatsimScenario **ret_s, NatsimParams **ret_own,
                   uint64_t *ret_seed, NatsimTime *ret_interval, GError **error)
{
  uint64_t seed = 1;

  *ret_interval = 60 * NATSIM_NSEC_PER_SEC;
  if (a->scenario != NULL)
    {
      *ret_s = cli_load_scenario (a->scenario, a->sets, error);
      if (*ret_s == NULL)
        return NULL;
      seed = natsim_params_get_uint ((*ret_s)->simulation, "seed");
      *ret_interval = natsim_params_get_duration ((*ret_s)->simulation, "timeline_interval");
    }
  else
    {
      *ret_own = cli_nat_params_from_sets (a->sets, "replay without --scenario", error);
      if (*ret_own == NULL)
        return NULL;
    }
  if (a->seed_arg != NULL && !cli_parse_seed (a->seed_arg, &seed, error))
    return NULL;
  *ret_seed = seed;
  return a->scenario != NULL ? (*ret_s)->nat : *ret_own;
}

/* Packets of the capture not offered to the NAT, by reason, as "name n"
 * pairs into @json (an object being built) and @text (", "-separated);
 * returns their sum. */
static guint64
not_offered (const NatsimReplayInfo *info, JsonBuilder *json, GString *text)
{
  guint64 sum = 0;

  for (guint i = 0; i < NATSIM_TRACE_SKIP_N + 5; i++)
    {
      const char *name;
      guint64 v;

      if (i == 0)
        name = "inside_to_inside", v = info->inside_only;
      else if (i == 1)
        name = "outside_to_outside", v = info->not_translated - info->inside_only;
      else if (i == 2)
        name = "ipv6", v = info->ipv6;
      else if (i == 3)
        name = "no_ports", v = info->untranslatable;
      else if (i == 4)
        name = "fragment_dropped", v = info->fragments_dropped;
      else
        name = natsim_trace_skip_name ((NatsimTraceSkip) (i - 5)),
        v = info->skipped_by_reason[i - 5];
      sum += v;
      if (json != NULL)
        {
          json_builder_set_member_name (json, name);
          json_builder_add_int_value (json, (gint64) v);
        }
      if (text != NULL && v > 0)
        g_string_append_printf (text, "%s%s %" G_GUINT64_FORMAT, text->len > 0 ? ", " : "",
                                name, v);
    }
  return sum;
}

/* Packets of the capture (copy 0) that went through the NAT: every copy
 * of --scale offers exactly the packets of the capture (the inside test is
 * made on the captured addresses), so the total divides evenly; later
 * fragments that went with their first are counted for copy 0 only. */
static guint64
offered (const NatsimReplayInfo *info)
{
  return (info->offered_out + info->offered_in) / MAX (info->scale, 1u) +
         info->fragments_forwarded;
}

/* report.json "coverage" (docs/report.md). */
static JsonNode *
coverage_json (const NatsimReplayInfo *info)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  guint k = MAX (info->scale, 1u);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "packets_read");
  json_builder_add_int_value (b, (gint64) info->packets_read);
  json_builder_set_member_name (b, "packets_offered");
  json_builder_add_int_value (b, (gint64) offered (info));
  json_builder_set_member_name (b, "packets_outbound");
  json_builder_add_int_value (b, (gint64) (info->offered_out / k));
  json_builder_set_member_name (b, "packets_inbound");
  json_builder_add_int_value (b, (gint64) (info->offered_in / k));
  json_builder_set_member_name (b, "fragments_with_first");
  json_builder_add_int_value (b, (gint64) info->fragments_forwarded);
  json_builder_set_member_name (b, "packets_not_offered");
  json_builder_add_int_value (b, (gint64) not_offered (info, NULL, NULL));
  json_builder_set_member_name (b, "not_offered");
  json_builder_begin_object (b);
  not_offered (info, b, NULL);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* The hint every coverage warning ends with. */
#define INSIDE_HINT \
  "only IPv4 packets between an inside and an outside address go through the NAT; " \
  "name the inside hosts with --inside CIDR (e.g. --inside 10.0.2.15/32; by default " \
  "RFC 1918, RFC 6598 and ULA addresses are inside)"

static void
add_coverage_warnings (NatsimReport *report, const NatsimReplayInfo *info)
{
  g_autoptr (GString) why = g_string_new (NULL);
  guint64 off = offered (info);

  not_offered (info, NULL, why);
  if (off == 0)
    natsim_report_add_warning (report, "replay.nothing_translated",
                               "nothing was replayed: none of the %" G_GUINT64_FORMAT
                               " packets read went through the NAT (%s), so every figure is "
                               "zero; %s",
                               info->packets_read, why->len > 0 ? why->str : "empty capture",
                               INSIDE_HINT);
  else if (info->inside_only * 2 > info->packets_read)
    natsim_report_add_warning (report, "replay.mostly_inside",
                               "most of the capture stayed inside: %" G_GUINT64_FORMAT " of %"
                               G_GUINT64_FORMAT " packets went from an inside address to "
                               "another and only %" G_GUINT64_FORMAT " went through the NAT; "
                               "the figures describe that part only; %s",
                               info->inside_only, info->packets_read, off, INSIDE_HINT);
}

static void
add_warnings (NatsimReport *report, const NatsimReplayInfo *info, const char *const *traces)
{
  g_autofree char *cut = natsim_trace_cut_message (&info->trace, traces);
  g_autofree char *bad_time = natsim_trace_bad_time_message (&info->trace);

  if (cut != NULL)
    natsim_report_add_warning (report, "trace.cut", "%s", cut);
  if (info->fragments_forwarded + info->fragments_dropped > 0)
    natsim_report_add_warning (report, "replay.fragments",
                               "%" G_GUINT64_FORMAT " later IPv4 fragment(s) went with their "
                               "first fragment through the NAT, %" G_GUINT64_FORMAT
                               " were dropped (their first fragment was not translated or "
                               "did not arrive within 30 s), as Linux reassembles before NAT",
                               info->fragments_forwarded, info->fragments_dropped);
  if (bad_time != NULL)
    natsim_report_add_warning (report, "trace.bad_timestamps", "%s", bad_time);
  if (info->mid_stream_tcp > 0)
    natsim_report_add_warning (report, "replay.mid_stream",
                               "%" G_GUINT64_FORMAT " TCP connection(s) began before the "
                               "capture (no SYN seen): picked up mid-stream, as Linux "
                               "loose tracking does",
                               info->mid_stream_tcp);
  if (info->skipped + info->ipv6 + info->untranslatable > 0)
    {
      g_autoptr (GString) s = g_string_new (NULL);

      for (guint i = 0; i < NATSIM_TRACE_SKIP_N; i++)
        if (info->skipped_by_reason[i] > 0)
          g_string_append_printf (s, "%s%s %" G_GUINT64_FORMAT, s->len > 0 ? ", " : "",
                                  natsim_trace_skip_name ((NatsimTraceSkip) i),
                                  info->skipped_by_reason[i]);
      if (info->ipv6 > 0)
        g_string_append_printf (s, "%sipv6 %" G_GUINT64_FORMAT, s->len > 0 ? ", " : "",
                                info->ipv6);
      if (info->untranslatable > 0)
        g_string_append_printf (s, "%sno-ports %" G_GUINT64_FORMAT, s->len > 0 ? ", " : "",
                                info->untranslatable);
      natsim_report_add_warning (report, "replay.skipped",
                                 "%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                                 " packets were not offered to the NAT (%s)",
                                 info->skipped + info->ipv6 + info->untranslatable,
                                 info->packets_read, s->str);
    }
  add_coverage_warnings (report, info);
}

/* The replay's report: figures, inputs, configuration, coverage and
 * warnings (the configuration checks of simulate, then the capture's). */
static NatsimReport *
replay_report (const ReplayArgs *a, NatsimRunResult *run, const NatsimNatConfig *cfg,
               const NatsimParams *nat_params, uint64_t seed, const NatsimReplayInfo *info,
               const NatsimReplayScale *scaling)
{
  NatsimReport *report = natsim_report_new ("replay");

  report->summary = natsim_summarize (&run, 1, natsim_replay_class_names (), cfg->addresses,
                                      cfg->n_addresses);
  report->scenario = g_strdup (a->scenario);
  for (guint i = 0; i < a->n_traces; i++)
    g_ptr_array_add (report->traces, g_strdup (a->traces[i]));
  report->seed = seed;
  report->config = natsim_nat_config_to_json (nat_params);
  report->coverage = coverage_json (info);
  cli_add_nat_check_warnings (report, nat_params);
  add_warnings (report, info, (const char *const *) a->traces);
  if (info->scale > 1)
    natsim_report_add_warning (report, "replay.scale",
                               "the population was scaled %u times: %" G_GUINT64_FORMAT
                               " inside hosts cloned into 240.0.0.0/4, copies offset by up "
                               "to %g s", info->scale, info->inside_hosts,
                               (double) scaling->offset_max / NATSIM_NSEC_PER_SEC);
  report->scale = info->scale;
  return report;
}

/* Progress of a replay: bytes read against the size of the files (their
 * sum, once per copy of --scale; unknown for standard input). */
static void
replay_progress (guint64 bytes, void *user_data)
{
  CliProgress *bar = user_data;

  if (bar->total > 0)
    cli_progress_update (bar, (double) bytes / (double) bar->total, "replaying the capture");
}

int
cmd_replay (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_auto (ReplayArgs) a = { 0 };
  g_autoptr (NatsimScenario) s = NULL;
  g_autoptr (NatsimParams) own_nat = NULL;
  g_autoptr (NatsimCidrSet) inside = NULL;
  g_autoptr (NatsimRunResult) run = NULL;
  g_autoptr (NatsimReport) report = NULL;
  const NatsimParams *nat_params;
  NatsimNatConfig cfg;
  NatsimReplayInfo info;
  NatsimTime interval;
  uint64_t seed;
  NatsimReplayScale scaling = { 1, 60 * NATSIM_NSEC_PER_SEC };
  CliEvents events;
  CliProgress progress;
  NatsimReplayObserver obs = { 0 };

  if (!replay_parse (&argc, &argv, &a, &error))
    return cli_fail (g_steal_pointer (&error));
  nat_params = replay_nat_params (&a, &s, &own_nat, &seed, &interval, &error);
  if (nat_params == NULL)
    return cli_fail (g_steal_pointer (&error));
  scaling.scale = (guint) a.scale;
  if (a.scale_offset != NULL &&
      !natsim_parse_duration (a.scale_offset, &scaling.offset_max, &error))
    {
      g_prefix_error (&error, "--scale-offset %s: ", a.scale_offset);
      return cli_fail (g_steal_pointer (&error));
    }
  inside = cli_inside_set (a.insides, &error);
  if (inside == NULL)
    return cli_fail (g_steal_pointer (&error));
  /* A scenario's [forward NAME] groups apply to the replay too. */
  if (s != NULL ? !natsim_scenario_nat_config (s, &cfg, &error)
                : !natsim_nat_config_from_params (nat_params, &cfg, &error))
    {
      g_prefix_error (&error, "%s[nat] ", a.scenario != NULL ? a.scenario : "");
      if (a.scenario != NULL)
        g_prefix_error (&error, ": ");
      return cli_fail (g_steal_pointer (&error));
    }
  if (!cli_events_open (&events, a.events_path, &error))
    {
      natsim_nat_config_clear (&cfg);
      return cli_fail (g_steal_pointer (&error));
    }

  cli_progress_init (&progress, a.quiet);
  /* Copies of --scale advance together in time, so copy 0's bytes
   * measure the whole. */
  progress.total = cli_traces_size ((const char *const *) a.traces, a.n_traces);
  obs.events = events.file;
  if (progress.enabled)
    {
      obs.progress = replay_progress;
      obs.progress_data = &progress;
    }
  run = natsim_replay_observed (&cfg, (const char *const *) a.traces, a.n_traces, inside,
                                interval, seed, &scaling, &obs, &info, &error);
  cli_progress_done (&progress);
  if (!cli_events_close (&events, run != NULL, run != NULL ? &error : NULL) || run == NULL ||
      !cli_trace_warnings (&info.trace, (const char *const *) a.traces, a.strict, &error))
    {
      natsim_nat_config_clear (&cfg);
      return cli_fail (g_steal_pointer (&error));
    }

  report = replay_report (&a, run, &cfg, nat_params, seed, &info, &scaling);
  natsim_nat_config_clear (&cfg);
  if (!natsim_report_write_dir (report, a.out_dir, a.formats, &error))
    return cli_fail (g_steal_pointer (&error));
  if (!a.quiet)
    {
      natsim_report_write_text (report, stdout);
      printf ("\nReplayed %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " packets read (%"
              G_GUINT64_FORMAT " outbound, %" G_GUINT64_FORMAT " inbound, %" G_GUINT64_FORMAT
              " later fragments with their first); %" G_GUINT64_FORMAT
              " not offered to the NAT\n",
              offered (&info), info.packets_read, info.offered_out / info.scale,
              info.offered_in / info.scale, info.fragments_forwarded,
              not_offered (&info, NULL, NULL));
      printf ("Reports written to %s/\n", a.out_dir);
    }
  return EXIT_OK;
}
