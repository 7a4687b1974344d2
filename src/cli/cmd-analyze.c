/* natsim analyze: traffic characterisation of captures, without a NAT.
 *
 * The command in three steps: parse and check the options (analyze_parse),
 * analyse the captures (with progress), write the outputs
 * (analyze_write). */
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

typedef struct
{
  char   **insides;
  char    *out_dir;
  char    *formats;
  char    *flow_timeout;
  gint     max_samples;
  gboolean outer;
  gboolean strict;
  gboolean quiet;
  /* derived */
  gboolean want_text, want_json, want_html;
  NatsimAnalyzeOptions opts;
  char   **traces; /* argv + 1, borrowed */
  guint    n_traces;
} AnalyzeArgs;

static void
analyze_args_clear (AnalyzeArgs *a)
{
  g_strfreev (a->insides);
  g_free (a->out_dir);
  g_free (a->formats);
  g_free (a->flow_timeout);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AnalyzeArgs, analyze_args_clear)

/* --format: text, json and html, comma-separated (default text,json). */
static gboolean
analyze_formats (AnalyzeArgs *a, GError **error)
{
  g_auto (GStrv) list = NULL;

  if (a->formats != NULL && !cli_format_list_nonempty (a->formats, error))
    {
      g_prefix_error (error, "--format: ");
      return FALSE;
    }
  list = g_strsplit (a->formats != NULL ? a->formats : "text,json", ",", -1);
  for (guint i = 0; list[i] != NULL; i++)
    {
      g_strstrip (list[i]);
      if (g_ascii_strcasecmp (list[i], "text") == 0)
        a->want_text = TRUE;
      else if (g_ascii_strcasecmp (list[i], "json") == 0)
        a->want_json = TRUE;
      else if (g_ascii_strcasecmp (list[i], "html") == 0)
        a->want_html = TRUE;
      else if (list[i][0] != '\0')
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "--format: unknown format '%s' (known formats: text, json, html)", list[i]);
          return FALSE;
        }
    }
  return TRUE;
}

/* Parses the command line into @a; the checks that need no file. */
static gboolean
analyze_parse (int *argc, char ***argv, AnalyzeArgs *a, GError **error)
{
  g_autoptr (GOptionContext) ctx = NULL;
  GOptionEntry entries[] = {
    { "inside", 'i', 0, G_OPTION_ARG_STRING_ARRAY, &a->insides,
      "Inside prefix, e.g. 10.0.2.15/32 (repeatable; default RFC 1918, RFC 6598, ULA)",
      "CIDR" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &a->out_dir,
      "Directory for analysis.json and analysis.txt (default reports/TRACE-NAME-analysis)",
      "DIR" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &a->formats,
      "Files to write: text,json,html (default text,json)", "LIST" },
    { "flow-timeout", 0, 0, G_OPTION_ARG_STRING, &a->flow_timeout,
      "A flow idle this long ends; its next packet starts a new flow (default 1h)",
      "DURATION" },
    { "max-samples", 0, 0, G_OPTION_ARG_INT, &a->max_samples,
      "Samples kept per class and figure for quantiles (default 262144)", "N" },
    { "outer", 0, 0, G_OPTION_ARG_NONE, &a->outer,
      "Study tunnels (GRE, ERSPAN, VXLAN, Geneve) as captured instead of the packets inside",
      NULL },
    { "strict", 0, 0, G_OPTION_ARG_NONE, &a->strict,
      "Refuse a capture whose last record is cut short (default: read up to it and warn)",
      NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &a->quiet, "Print no summary on stdout", NULL },
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
  if (!g_option_context_parse (ctx, argc, argv, error))
    return FALSE;
  if (*argc < 2)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "analyze: expected at least one TRACE (see 'natsim analyze --help')");
      return FALSE;
    }
  a->traces = *argv + 1;
  a->n_traces = (guint) *argc - 1;
  if (a->max_samples < 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--max-samples %d: expected a positive count", a->max_samples);
      return FALSE;
    }
  a->opts.max_samples = (guint) a->max_samples;
  a->opts.outer = a->outer;
  if (a->flow_timeout != NULL)
    {
      if (!natsim_parse_duration (a->flow_timeout, &a->opts.flow_timeout, error))
        {
          g_prefix_error (error, "--flow-timeout %s: ", a->flow_timeout);
          return FALSE;
        }
      if (a->opts.flow_timeout == 0)
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "--flow-timeout %s: must be above 0", a->flow_timeout);
          return FALSE;
        }
    }
  if (!analyze_formats (a, error))
    return FALSE;
  if (a->out_dir == NULL)
    a->out_dir = cli_default_out_dir (a->traces[0], "-analysis");
  return TRUE;
}

/* Writes @contents (NULL: skipped) to DIR/@name. */
static gboolean
write_one (const char *dir, const char *name, const char *contents, GError **error)
{
  g_autofree char *path = NULL;

  if (contents == NULL)
    return TRUE;
  path = g_build_filename (dir, name, NULL);
  return natsim_write_file_atomic (path, contents, -1, error);
}

/* Renders the chosen formats, then writes them into the output directory. */
static gboolean
analyze_write (const AnalyzeArgs *a, const NatsimAnalysis *analysis, const char *text,
               GError **error)
{
  const char *const *traces = (const char *const *) a->traces;
  g_autofree char *json = NULL;
  g_autofree char *html = NULL;

  if (!a->want_text && !a->want_json && !a->want_html)
    return TRUE;
  if (a->want_json)
    json = natsim_analysis_to_json (analysis, traces, a->n_traces);
  if (a->want_html)
    {
      double udp, tcp;

      default_timeouts (&udp, &tcp);
      html = natsim_analysis_to_html (analysis, traces, a->n_traces, udp, tcp, TRUE);
    }
  if (g_mkdir_with_parents (a->out_dir, 0777) != 0)
    {
      int saved = errno;

      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_IO, "cannot create directory %s: %s",
                   a->out_dir, g_strerror (saved));
      return FALSE;
    }
  return write_one (a->out_dir, "analysis.json", json, error) &&
         write_one (a->out_dir, "analysis.html", html, error) &&
         write_one (a->out_dir, "analysis.txt", a->want_text ? text : NULL, error);
}

static void
analyze_progress (guint64 bytes, void *user_data)
{
  CliProgress *bar = user_data;
  guint64 total = bar->total;

  if (total > 0)
    cli_progress_update (bar, (double) bytes / (double) total, "reading the capture");
}

int
cmd_analyze (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_auto (AnalyzeArgs) a = { 0 };
  g_autoptr (NatsimCidrSet) inside = NULL;
  g_autoptr (NatsimAnalysis) analysis = NULL;
  g_autofree char *text = NULL;
  CliProgress bar;

  if (!analyze_parse (&argc, &argv, &a, &error))
    return cli_fail (g_steal_pointer (&error));
  inside = cli_inside_set (a.insides, &error);
  if (inside == NULL)
    return cli_fail (g_steal_pointer (&error));

  cli_progress_init (&bar, a.quiet);
  bar.total = cli_traces_size ((const char *const *) a.traces, a.n_traces);
  if (bar.enabled)
    {
      a.opts.progress = analyze_progress;
      a.opts.progress_data = &bar;
    }
  analysis = natsim_analyze ((const char *const *) a.traces, a.n_traces, inside, &a.opts,
                             &error);
  cli_progress_done (&bar);
  if (analysis == NULL)
    return cli_fail (g_steal_pointer (&error));
  if (!cli_trace_warnings (natsim_analysis_trace_stats (analysis),
                           (const char *const *) a.traces, a.strict, &error))
    return cli_fail (g_steal_pointer (&error));

  text = natsim_analysis_to_text (analysis);
  if (!analyze_write (&a, analysis, text, &error))
    return cli_fail (g_steal_pointer (&error));
  if (!a.quiet)
    {
      fputs (text, stdout);
      printf ("\nAnalysis written to %s/\n", a.out_dir);
    }
  return EXIT_OK;
}
