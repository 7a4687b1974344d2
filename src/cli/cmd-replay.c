/* natsim replay: captures through the NAT model, and their reports. */
#include <inttypes.h>
#include <stdio.h>

#include "cli-private.h"
#include "natsim/parse.h"
#include "natsim/replay.h"

/* The most copies --scale accepts (each is one reader per file). */
#define REPLAY_MAX_SCALE 10000

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
}

int
cmd_replay (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = NULL;
  g_autoptr (NatsimParams) own_nat = NULL;
  g_autoptr (NatsimCidrSet) inside = NULL;
  g_autoptr (NatsimRunResult) run = NULL;
  g_autoptr (NatsimReport) report = NULL;
  g_auto (GStrv) sets = NULL;
  g_auto (GStrv) insides = NULL;
  g_autofree char *scenario = NULL;
  g_autofree char *out_dir = NULL;
  g_autofree char *formats = NULL;
  const NatsimParams *nat_params;
  NatsimNatConfig cfg;
  NatsimReplayInfo info;
  NatsimTime interval = 60 * NATSIM_NSEC_PER_SEC;
  uint64_t seed_value = 1;
  g_autofree char *seed_arg = NULL;
  gint scale = 1;
  g_autofree char *scale_offset = NULL;
  NatsimReplayScale scaling = { 1, 60 * NATSIM_NSEC_PER_SEC };
  gboolean quiet = FALSE, strict = FALSE;
  GOptionEntry entries[] = {
    { "scenario", 0, 0, G_OPTION_ARG_FILENAME, &scenario,
      "Take the NAT configuration ([nat]) from this scenario", "S.ini" },
    { "inside", 'i', 0, G_OPTION_ARG_STRING_ARRAY, &insides,
      "Inside prefix, e.g. 10.0.2.15/32 (repeatable; default RFC 1918, RFC 6598, ULA)",
      "CIDR" },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets,
      "Override a key, e.g. nat.udp_timeout=30s (repeatable; only nat.* without --scenario)",
      "GROUP.KEY=VALUE" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
      "Directory for the reports (default reports/TRACE-NAME)", "DIR" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &formats,
      "Report formats to write: text,json,md,html,csv,pdf (default text,json,md,html; pdf needs Chromium)", "LIST" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &seed_arg,
      "Seed of the NAT's random port choices (default the scenario's, else 1)", "N" },
    { "scale", 'k', 0, G_OPTION_ARG_INT, &scale,
      "Predict K times the population: clone every inside host K-1 times (default 1)", "K" },
    { "scale-offset", 0, 0, G_OPTION_ARG_STRING, &scale_offset,
      "Clones start at a random offset below this duration (default 60s)", "DURATION" },
    { "strict", 0, 0, G_OPTION_ARG_NONE, &strict,
      "Refuse a capture whose last record is cut short (default: read up to it and warn)",
      NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print no summary on stdout", NULL },
    { NULL }
  };

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
    "DIR/report.md and DIR/report.html (--format chooses).\n"
    "\n--scale K replays K copies of the capture through one NAT: copy j > 0 starts at a\n"
    "random offset (same seed, same offsets) and inside host number h (in order of first\n"
    "appearance) becomes 240.0.0.0 + 1 + h(K-1) + (j-1); inside hosts must not lie in\n"
    "240.0.0.0/4.\n"
    "\nExamples:\n"
    "  natsim replay traces/isa-sip-call-lab.pcap --inside 10.0.2.15/32\n"
    "  natsim replay traces/ndpi-webex-client.pcap --set nat.udp_timeout=2m\n"
    "  natsim replay a.pcap b.pcapng --scenario scenarios/default.ini --out /tmp/r\n"
    "  natsim replay traces/synth-sip-udp.pcap --scale 20 --scale-offset 90s\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if (argc < 2)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "replay: expected at least one TRACE (see 'natsim replay --help')");
      return cli_fail (g_steal_pointer (&error));
    }

  if (scenario != NULL)
    {
      s = cli_load_scenario (scenario, sets, &error);
      if (s == NULL)
        return cli_fail (g_steal_pointer (&error));
      nat_params = s->nat;
      seed_value = natsim_params_get_uint (s->simulation, "seed");
      interval = natsim_params_get_duration (s->simulation, "timeline_interval");
    }
  else
    {
      own_nat = cli_nat_params_from_sets (sets, "replay without --scenario", &error);
      if (own_nat == NULL)
        return cli_fail (g_steal_pointer (&error));
      nat_params = own_nat;
    }
  if (seed_arg != NULL && !cli_parse_seed (seed_arg, &seed_value, &error))
    return cli_fail (g_steal_pointer (&error));
  if (scale < 1 || scale > REPLAY_MAX_SCALE)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--scale %d: expected 1 to %d copies", scale, REPLAY_MAX_SCALE);
      return cli_fail (g_steal_pointer (&error));
    }
  scaling.scale = (guint) scale;
  if (scale_offset != NULL && !natsim_parse_duration (scale_offset, &scaling.offset_max, &error))
    {
      g_prefix_error (&error, "--scale-offset %s: ", scale_offset);
      return cli_fail (g_steal_pointer (&error));
    }

  inside = cli_inside_set (insides, &error);
  if (inside == NULL)
    return cli_fail (g_steal_pointer (&error));

  if (out_dir == NULL)
    out_dir = strcmp (argv[1], "-") == 0 ? g_build_filename ("reports", "stdin", NULL)
                                         : cli_default_out_dir (argv[1], "");
  /* Check the formats before spending time on the replay. */
  if (!cli_check_formats (&formats, &error))
    {
      g_prefix_error (&error, "--format: ");
      return cli_fail (g_steal_pointer (&error));
    }

  /* A scenario's [forward NAME] groups apply to the replay too. */
  if (s != NULL ? !natsim_scenario_nat_config (s, &cfg, &error)
                : !natsim_nat_config_from_params (nat_params, &cfg, &error))
    {
      g_prefix_error (&error, "%s[nat] ", scenario != NULL ? scenario : "");
      if (scenario != NULL)
        g_prefix_error (&error, ": ");
      return cli_fail (g_steal_pointer (&error));
    }
  run = natsim_replay_scaled (&cfg, (const char *const *) argv + 1, (guint) argc - 1, inside,
                              interval, seed_value, &scaling, &info, &error);
  if (run == NULL
      || !cli_trace_warnings (&info.trace, (const char *const *) argv + 1, strict, &error))
    {
      natsim_nat_config_clear (&cfg);
      return cli_fail (g_steal_pointer (&error));
    }

  report = natsim_report_new ("replay");
  report->summary = natsim_summarize (&run, 1, natsim_replay_class_names (), cfg.addresses);
  natsim_nat_config_clear (&cfg);
  report->scenario = g_strdup (scenario);
  for (int i = 1; i < argc; i++)
    g_ptr_array_add (report->traces, g_strdup (argv[i]));
  report->seed = seed_value;
  report->config = natsim_nat_config_to_json (nat_params);
  add_warnings (report, &info, (const char *const *) argv + 1);

  if (info.scale > 1)
    natsim_report_add_warning (report, "replay.scale",
                               "the population was scaled %u times: %" G_GUINT64_FORMAT
                               " inside hosts cloned into 240.0.0.0/4, copies offset by up "
                               "to %g s", info.scale, info.inside_hosts,
                               (double) scaling.offset_max / NATSIM_NSEC_PER_SEC);
  report->scale = info.scale;
  if (!natsim_report_write_dir (report, out_dir, formats, &error))
    return cli_fail (g_steal_pointer (&error));
  if (!quiet)
    {
      natsim_report_write_text (report, stdout);
      printf ("\nReplayed %" G_GUINT64_FORMAT " packets (%" G_GUINT64_FORMAT " outbound, %"
              G_GUINT64_FORMAT " inbound, %" G_GUINT64_FORMAT " not translated) of %"
              G_GUINT64_FORMAT " read\n",
              info.offered_out + info.offered_in, info.offered_out, info.offered_in,
              info.not_translated, info.packets_read);
      printf ("Reports written to %s/\n", out_dir);
    }
  return EXIT_OK;
}
