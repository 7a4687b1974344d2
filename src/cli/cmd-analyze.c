/* natsim analyze: traffic characterisation of captures, without a NAT. */
#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "cli-private.h"
#include "natsim/analysis-html.h"
#include "natsim/analysis-report.h"
#include "natsim/analyze.h"
#include "natsim/nat.h"
#include "natsim/error.h"
#include "natsim/parse.h"

/* The UDP and TCP established timeouts of the default NAT (its preset
 * applied), marked on the idle-gap charts. */
static void
default_timeouts (double *ret_udp, double *ret_tcp)
{
  g_autoptr (NatsimParams) p = natsim_params_new (natsim_nat_keys);
  const NatsimNatPreset *preset = natsim_nat_preset_lookup (natsim_params_get (p, "preset"));

  for (guint i = 0; preset != NULL && preset->values[i] != NULL && preset->values[i + 1] != NULL;
       i += 2)
    (void) natsim_params_set (p, preset->values[i], preset->values[i + 1], "preset", NULL);
  *ret_udp = natsim_time_to_sec (natsim_params_get_duration (p, "udp_timeout"));
  *ret_tcp = natsim_time_to_sec (natsim_params_get_duration (p, "tcp_established_timeout"));
}

int
cmd_analyze (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimCidrSet) inside = NULL;
  g_autoptr (NatsimAnalysis) analysis = NULL;
  g_auto (GStrv) insides = NULL;
  g_autofree char *out_dir = NULL;
  g_autofree char *formats = NULL;
  g_autofree char *flow_timeout = NULL;
  g_autofree char *text = NULL;
  gboolean want_text = FALSE, want_json = FALSE, want_html = FALSE, quiet = FALSE;
  gboolean outer = FALSE, strict = FALSE;
  gint max_samples = 0;
  NatsimAnalyzeOptions opts = { 0 };
  GOptionEntry entries[] = {
    { "inside", 'i', 0, G_OPTION_ARG_STRING_ARRAY, &insides,
      "Inside prefix, e.g. 10.0.2.15/32 (repeatable; default RFC 1918, RFC 6598, ULA)",
      "CIDR" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
      "Directory for analysis.json and analysis.txt (default reports/TRACE-NAME-analysis)",
      "DIR" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &formats,
      "Files to write: text,json,html (default text,json)", "LIST" },
    { "flow-timeout", 0, 0, G_OPTION_ARG_STRING, &flow_timeout,
      "A flow idle this long ends; its next packet starts a new flow (default 1h)",
      "DURATION" },
    { "max-samples", 0, 0, G_OPTION_ARG_INT, &max_samples,
      "Samples kept per class and figure for quantiles (default 262144)", "N" },
    { "outer", 0, 0, G_OPTION_ARG_NONE, &outer,
      "Study tunnels (GRE, ERSPAN, VXLAN, Geneve) as captured instead of the packets inside",
      NULL },
    { "strict", 0, 0, G_OPTION_ARG_NONE, &strict,
      "Refuse a capture whose last record is cut short (default: read up to it and warn)",
      NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print no summary on stdout", NULL },
    { NULL }
  };

  ctx = g_option_context_new ("TRACE... - characterise captured traffic, for choosing timeouts");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Streams the captures (pcap or pcapng, merged by timestamp) and describes their flows\n"
    "(5-tuples, both directions together) per traffic class of the Webex port table:\n"
    "packets, bytes, durations and idle gaps (p50, p90, p99, max), keepalive periods, SIP\n"
    "REGISTER intervals and Expires, DSCP marking against the seed's QoS table, and how\n"
    "many flows go to the Webex Calling subnets.  Prints a summary and writes\n"
    "DIR/analysis.json (schema natsim.analysis/1, docs/analysis.md) and DIR/analysis.txt;\n"
    "--format html adds DIR/analysis.html (idle-gap CDF per class with the timeout of\n"
    "the default NAT marked, drawn by gnuplot when installed, and the class table).\n"
    "Tunnels (GRE, ERSPAN I/II/III, VXLAN, Geneve, MPLS) are opened and the packets inside\n"
    "studied (--outer: the tunnel itself); IP fragments are reassembled; SIP over TCP and\n"
    "WebSocket is read as a stream.  A capture whose last record is cut is read up to it\n"
    "with a warning (--strict refuses it).\n"
    "\nExamples:\n"
    "  natsim analyze traces/ndpi-webex-client.pcap\n"
    "  natsim analyze traces/isa-sip-call-lab.pcap --inside 10.0.2.15/32 --out /tmp/a\n"
    "  natsim analyze traces/scapy-erspan2-sip.pcap\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if (argc < 2)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "analyze: expected at least one TRACE (see 'natsim analyze --help')");
      return cli_fail (g_steal_pointer (&error));
    }
  if (max_samples < 0)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--max-samples %d: expected a positive count", max_samples);
      return cli_fail (g_steal_pointer (&error));
    }
  opts.max_samples = (guint) max_samples;
  opts.outer = outer;
  if (flow_timeout != NULL)
    {
      if (!natsim_parse_duration (flow_timeout, &opts.flow_timeout, &error))
        {
          g_prefix_error (&error, "--flow-timeout %s: ", flow_timeout);
          return cli_fail (g_steal_pointer (&error));
        }
      if (opts.flow_timeout == 0)
        {
          g_set_error (&error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "--flow-timeout %s: must be above 0", flow_timeout);
          return cli_fail (g_steal_pointer (&error));
        }
    }

  inside = cli_inside_set (insides, &error);
  if (inside == NULL)
    return cli_fail (g_steal_pointer (&error));

  if (formats != NULL && !cli_format_list_nonempty (formats, &error))
    {
      g_prefix_error (&error, "--format: ");
      return cli_fail (g_steal_pointer (&error));
    }
  {
    g_auto (GStrv) list = g_strsplit (formats != NULL ? formats : "text,json", ",", -1);

    for (guint i = 0; list[i] != NULL; i++)
      {
        g_strstrip (list[i]);
        if (g_ascii_strcasecmp (list[i], "text") == 0)
          want_text = TRUE;
        else if (g_ascii_strcasecmp (list[i], "json") == 0)
          want_json = TRUE;
        else if (g_ascii_strcasecmp (list[i], "html") == 0)
          want_html = TRUE;
        else if (list[i][0] != '\0')
          {
            g_set_error (&error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                         "--format: unknown format '%s' (known formats: text, json, html)", list[i]);
            return cli_fail (g_steal_pointer (&error));
          }
      }
  }
  if (out_dir == NULL)
    out_dir = cli_default_out_dir (argv[1], "-analysis");

  analysis = natsim_analyze ((const char *const *) argv + 1, (guint) argc - 1, inside, &opts,
                             &error);
  if (analysis == NULL)
    return cli_fail (g_steal_pointer (&error));
  if (!cli_trace_warnings (natsim_analysis_trace_stats (analysis),
                           (const char *const *) argv + 1, strict, &error))
    return cli_fail (g_steal_pointer (&error));

  text = natsim_analysis_to_text (analysis);
  if (want_text || want_json || want_html)
    {
      g_autofree char *json = want_json ? natsim_analysis_to_json (
                                            analysis, (const char *const *) argv + 1,
                                            (guint) argc - 1)
                                        : NULL;
      g_autofree char *html = NULL;

      if (want_html)
        {
          double udp, tcp;

          default_timeouts (&udp, &tcp);
          html = natsim_analysis_to_html (analysis, (const char *const *) argv + 1,
                                          (guint) argc - 1, udp, tcp, TRUE);
        }

      if (g_mkdir_with_parents (out_dir, 0777) != 0)
        {
          int saved = errno;

          g_set_error (&error, NATSIM_ERROR, NATSIM_ERROR_IO, "cannot create directory %s: %s",
                       out_dir, g_strerror (saved));
          return cli_fail (g_steal_pointer (&error));
        }
      if (json != NULL)
        {
          g_autofree char *path = g_build_filename (out_dir, "analysis.json", NULL);

          if (!natsim_write_file_atomic (path, json, -1, &error))
            return cli_fail (g_steal_pointer (&error));
        }
      if (html != NULL)
        {
          g_autofree char *path = g_build_filename (out_dir, "analysis.html", NULL);

          if (!natsim_write_file_atomic (path, html, -1, &error))
            return cli_fail (g_steal_pointer (&error));
        }
      if (want_text)
        {
          g_autofree char *path = g_build_filename (out_dir, "analysis.txt", NULL);

          if (!natsim_write_file_atomic (path, text, -1, &error))
            return cli_fail (g_steal_pointer (&error));
        }
    }
  if (!quiet)
    {
      fputs (text, stdout);
      printf ("\nAnalysis written to %s/\n", out_dir);
    }
  return EXIT_OK;
}
