/* natsim report: analysis.json, the document of `natsim analyze`
 * (schema natsim.analysis/1, docs/analysis.md).
 *
 * Written by hand rather than through json-glib so that the layout is the
 * one of report.json and fixed byte for byte (golden tests compare it).
 */
#include <math.h>
#include <string.h>

#include "natsim/analysis-report.h"
#include "natsim/recommend.h"
#include "natsim/nat.h"
#include "natsim/replay.h"

/* A small JSON writer with the layout of report.json: 2-space indent,
 * "key": value, one member per line, arrays of scalars on one line.
 * Numbers: integers in full; seconds and ratios with at most 6 decimals
 * (microseconds: a capture's resolution), trailing zeros dropped but one
 * decimal kept, through g_ascii_formatd (locale-independent); NaN -> null. */
typedef struct
{
  GString *s;
  guint    depth;
  bool     first;
} JsonOut;

static void
jo_indent (JsonOut *j)
{
  for (guint i = 0; i < j->depth; i++)
    g_string_append (j->s, "  ");
}

static void
jo_string (GString *s, const char *v)
{
  g_autofree char *valid = g_utf8_make_valid (v, -1);

  g_string_append_c (s, '"');
  for (const char *q = valid; *q != '\0'; q++)
    {
      unsigned char c = (unsigned char) *q;

      if (c == '"' || c == '\\')
        g_string_append_printf (s, "\\%c", c);
      else if (c < 0x20)
        g_string_append_printf (s, "\\u%04x", c);
      else
        g_string_append_c (s, (char) c);
    }
  g_string_append_c (s, '"');
}

static void
jo_double (GString *s, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  size_t n;

  if (!isfinite (v))
    {
      g_string_append (s, "null");
      return;
    }
  g_ascii_formatd (buf, sizeof buf, "%.6f", v);
  n = strlen (buf);
  while (n > 0 && buf[n - 1] == '0')
    n--;
  if (n > 0 && buf[n - 1] == '.')
    n++; /* keep "x.0" */
  buf[n] = '\0';
  if (strcmp (buf, "-0.0") == 0)
    g_strlcpy (buf, "0.0", sizeof buf);
  g_string_append (s, buf);
}

/* Starts a member (or an array element when @key is NULL). */
static void
jo_key (JsonOut *j, const char *key)
{
  if (!j->first)
    g_string_append_c (j->s, ',');
  if (j->depth > 0)
    g_string_append_c (j->s, '\n');
  j->first = false;
  jo_indent (j);
  if (key != NULL)
    {
      jo_string (j->s, key);
      g_string_append (j->s, ": ");
    }
}

static void
jo_open (JsonOut *j, const char *key, char bracket)
{
  if (j->depth > 0 || key != NULL)
    jo_key (j, key);
  g_string_append_c (j->s, bracket);
  j->depth++;
  j->first = true;
}

static void
jo_close (JsonOut *j, char bracket)
{
  bool empty = j->first;

  j->depth--;
  if (!empty)
    {
      g_string_append_c (j->s, '\n');
      jo_indent (j);
    }
  g_string_append_c (j->s, bracket);
  j->first = false;
}

static void
jo_uint (JsonOut *j, const char *key, guint64 v)
{
  jo_key (j, key);
  g_string_append_printf (j->s, "%" G_GUINT64_FORMAT, v);
}

static void
jo_num (JsonOut *j, const char *key, double v)
{
  jo_key (j, key);
  jo_double (j->s, v);
}

static void
jo_str (JsonOut *j, const char *key, const char *v)
{
  jo_key (j, key);
  if (v == NULL)
    g_string_append (j->s, "null");
  else
    jo_string (j->s, v);
}

static void
jo_quantiles (JsonOut *j, const char *key, const NatsimQuantiles *q)
{
  jo_open (j, key, '{');
  jo_uint (j, "samples", q->n);
  jo_uint (j, "kept", q->kept);
  jo_num (j, "min", q->min);
  jo_num (j, "p50", q->p50);
  jo_num (j, "p90", q->p90);
  jo_num (j, "p99", q->p99);
  jo_num (j, "max", q->max);
  jo_close (j, '}');
}

static void
jo_dscp_list (GString *s, uint64_t set)
{
  bool first = true;

  g_string_append_c (s, '[');
  for (guint d = 0; d < 64; d++)
    if (set & (UINT64_C (1) << d))
      {
        g_string_append_printf (s, "%s%u", first ? "" : ", ", d);
        first = false;
      }
  g_string_append_c (s, ']');
}

char *
natsim_analysis_to_json (const NatsimAnalysis *a, const char *const *traces, guint n)
{
  const char *const *names = natsim_replay_class_names ();
  g_autofree char *inside = NULL;
  JsonOut j = { g_string_new (NULL), 0, true };
  const NatsimTraceStats *st;
  NatsimAnalysisTotals t;
  const NatsimSipAnalysis *sip;

  g_return_val_if_fail (a != NULL, NULL);
  natsim_analysis_totals (a, &t);
  st = t.trace;
  sip = natsim_analysis_sip (a);

  inside = natsim_cidr_set_to_string (t.inside);
  jo_open (&j, NULL, '{');
  jo_str (&j, "schema", NATSIM_ANALYSIS_SCHEMA);
  jo_str (&j, "natsim_version", NATSIM_VERSION);
  jo_str (&j, "command", "analyze");

  jo_open (&j, "inputs", '{');
  jo_key (&j, "traces");
  g_string_append_c (j.s, '[');
  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append (j.s, ", ");
      jo_string (j.s, traces[i]);
    }
  g_string_append_c (j.s, ']');
  jo_key (&j, "inside");
  g_string_append_c (j.s, '[');
  {
    g_auto (GStrv) parts = g_strsplit (inside, ",", -1);

    for (guint i = 0; parts[i] != NULL && parts[i][0] != '\0'; i++)
      {
        if (i > 0)
          g_string_append (j.s, ", ");
        jo_string (j.s, parts[i]);
      }
  }
  g_string_append_c (j.s, ']');
  jo_num (&j, "flow_timeout_s", natsim_time_to_sec (t.flow_timeout));
  jo_uint (&j, "max_samples", t.max_samples);
  /* Only when asked for: the default (tunnels opened) keeps the document
   * of a capture without tunnels as it always was. */
  if (t.outer)
    {
      jo_key (&j, "outer");
      g_string_append (j.s, "true");
    }
  jo_close (&j, '}');

  jo_open (&j, "capture", '{');
  jo_uint (&j, "packets_read", st->packets_read);
  jo_uint (&j, "packets_decoded", st->packets_decoded);
  jo_uint (&j, "packets_skipped", st->packets_skipped);
  jo_open (&j, "skipped", '{');
  for (guint i = 0; i < NATSIM_TRACE_SKIP_N; i++)
    if (st->skipped[i] > 0)
      jo_uint (&j, natsim_trace_skip_name ((NatsimTraceSkip) i), st->skipped[i]);
  jo_close (&j, '}');
  jo_uint (&j, "ipv4", st->ipv4);
  jo_uint (&j, "ipv6", st->ipv6);
  jo_uint (&j, "udp", st->udp);
  jo_uint (&j, "tcp", st->tcp);
  jo_uint (&j, "icmp", st->icmp);
  jo_uint (&j, "no_ports", t.no_ports);
  jo_uint (&j, "truncated", st->truncated);
  jo_uint (&j, "out_of_order", st->out_of_order);
  /* Present when there are some, like the tunnels below: the document of
   * an ordinary capture stays as it was. */
  if (st->bad_timestamps > 0)
    jo_uint (&j, "bad_timestamps", st->bad_timestamps);
  if (st->files_cut > 0)
    jo_uint (&j, "files_cut", st->files_cut);
  if (t.reassembly != NULL)
    {
      const NatsimReasmStats *rs = t.reassembly;

      jo_open (&j, "reassembly", '{');
      jo_uint (&j, "datagrams", rs->datagrams);
      jo_uint (&j, "fragments", rs->fragments);
      jo_uint (&j, "fragments_lost", rs->lost);
      jo_uint (&j, "overlapping", rs->overlapping);
      jo_uint (&j, "timed_out", rs->timed_out);
      jo_uint (&j, "evicted", rs->evicted);
      jo_uint (&j, "invalid", rs->invalid);
      jo_uint (&j, "duplicates", rs->duplicates);
      jo_close (&j, '}');
    }
  {
    guint64 any = 0;

    for (guint k = 0; k < NATSIM_TRACE_TUNNEL_N; k++)
      any += st->tunnels[k];
    if (any > 0)
      {
        jo_open (&j, "decapsulated", '{');
        for (guint k = 0; k < NATSIM_TRACE_TUNNEL_N; k++)
          if (st->tunnels[k] > 0)
            jo_uint (&j, natsim_trace_tunnel_name ((NatsimTraceTunnel) k), st->tunnels[k]);
        jo_close (&j, '}');
      }
  }
  jo_num (&j, "duration_s", t.duration_s);
  jo_close (&j, '}');

  jo_open (&j, "totals", '{');
  jo_uint (&j, "flows", t.flows);
  jo_uint (&j, "packets", t.packets);
  jo_uint (&j, "bytes", t.bytes);
  jo_uint (&j, "peak_live_flows", t.peak_live_flows);
  jo_close (&j, '}');

  jo_open (&j, "classes", '{');
  for (guint c = 0; c < natsim_replay_n_classes (); c++)
    {
      const NatsimClassAnalysis *f = natsim_analysis_class (a, c);
      uint64_t expected_any = 0;

      /* All the DSCP values the table allows in this class. */
      expected_any = natsim_analysis_dscp_expected (c, 0) | natsim_analysis_dscp_expected (c, 5060);
      jo_open (&j, names[c], '{');
      jo_uint (&j, "flows", f->flows);
      jo_uint (&j, "packets", f->packets);
      jo_uint (&j, "bytes", f->bytes);
      jo_uint (&j, "webex_calling_flows", f->webex_calling_flows);
      jo_uint (&j, "webex_app_config_flows", f->webex_app_config_flows);
      jo_uint (&j, "long_lived_flows", f->long_lived_flows);
      jo_quantiles (&j, "duration_s", &f->duration);
      jo_quantiles (&j, "idle_gap_s", &f->idle_gap);
      jo_quantiles (&j, "refresh_gap_s", &f->refresh_gap);
      jo_num (&j, "keepalive_s", f->keepalive_s);
      jo_open (&j, "dscp", '{');
      jo_key (&j, "expected");
      if (expected_any == 0)
        g_string_append (j.s, "null");
      else
        jo_dscp_list (j.s, expected_any);
      jo_uint (&j, "checked", f->dscp_checked);
      jo_uint (&j, "as_expected", f->dscp_expected);
      jo_uint (&j, "other", f->dscp_other);
      jo_open (&j, "observed", '[');
      for (guint d = 0; d < 64; d++)
        if (f->dscp_observed[d] > 0)
          {
            jo_open (&j, NULL, '{');
            jo_uint (&j, "dscp", d);
            jo_uint (&j, "packets", f->dscp_observed[d]);
            jo_close (&j, '}');
          }
      jo_close (&j, ']');
      jo_close (&j, '}');
      jo_close (&j, '}');
    }
  jo_close (&j, '}');

  jo_open (&j, "sip", '{');
  jo_uint (&j, "register_requests", sip->registers);
  jo_uint (&j, "register_oks", sip->register_oks);
  jo_uint (&j, "registering_endpoints", sip->endpoints);
  jo_uint (&j, "unregisters", sip->unregisters);
  jo_quantiles (&j, "register_interval_s", &sip->interval);
  jo_quantiles (&j, "expires_requested_s", &sip->expires_requested);
  jo_quantiles (&j, "expires_granted_s", &sip->expires_granted);
  {
    /* SIP over TCP, when the capture has it (absent otherwise, so the
     * document of a UDP-only capture is as it was). */
    const NatsimSipStreamStats *ts = t.sip_tcp;

    if (ts->messages + ts->keepalives + ts->gaps + ts->overflows > 0)
      {
        jo_open (&j, "tcp_streams", '{');
        jo_uint (&j, "messages", ts->messages);
        jo_uint (&j, "keepalives", ts->keepalives);
        jo_uint (&j, "gaps", ts->gaps);
        jo_uint (&j, "overflows", ts->overflows);
        jo_uint (&j, "evicted", ts->evicted);
        jo_uint (&j, "bytes_skipped", ts->skipped);
        jo_close (&j, '}');
      }
  }
  jo_close (&j, '}');

  jo_open (&j, "recommendations", '[');
  {
    const uint8_t protos[2] = { NATSIM_PROTO_UDP, NATSIM_PROTO_TCP };
    const char *ids[2] = { "timeout.udp", "timeout.tcp_established" };

    for (guint i = 0; i < 2; i++)
      {
        const char *cls = NULL;
        double v = natsim_analysis_recommended_timeout (a, protos[i], &cls);
        g_autofree char *reason = NULL;

        if (isnan (v))
          continue;
        reason = g_strdup_printf ("longest refresh gap of long-lived %s flows (class %s) plus "
                                  NATSIM_TIMEOUT_RULE_TEXT "; a shorter idle timeout drops "
                                  "their bindings between refreshes",
                                  i == 0 ? "UDP" : "TCP", cls);
        jo_open (&j, NULL, '{');
        jo_str (&j, "id", ids[i]);
        jo_num (&j, "value", ceil (v));
        jo_str (&j, "unit", "s");
        jo_str (&j, "reason", reason);
        jo_str (&j, "basis", "trace");
        jo_close (&j, '}');
      }
  }
  jo_close (&j, ']');

  jo_open (&j, "warnings", '[');
  {
    g_autofree char *cut = natsim_trace_cut_message (st, traces);
    g_autofree char *bad_time = natsim_trace_bad_time_message (st);

    if (cut != NULL)
      {
        jo_open (&j, NULL, '{');
        jo_str (&j, "id", "trace.cut");
        jo_str (&j, "message", cut);
        jo_close (&j, '}');
      }
    if (bad_time != NULL)
      {
        jo_open (&j, NULL, '{');
        jo_str (&j, "id", "trace.bad_timestamps");
        jo_str (&j, "message", bad_time);
        jo_close (&j, '}');
      }
  }
  if (st->packets_skipped > 0)
    {
      g_autoptr (GString) m = g_string_new (NULL);

      g_string_append_printf (m, "%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                              " packets could not be decoded (", st->packets_skipped,
                              st->packets_read);
      for (guint i = 0, k = 0; i < NATSIM_TRACE_SKIP_N; i++)
        if (st->skipped[i] > 0)
          g_string_append_printf (m, "%s%s %" G_GUINT64_FORMAT, k++ > 0 ? ", " : "",
                                  natsim_trace_skip_name ((NatsimTraceSkip) i), st->skipped[i]);
      g_string_append_c (m, ')');
      jo_open (&j, NULL, '{');
      jo_str (&j, "id", "analyze.skipped");
      jo_str (&j, "message", m->str);
      jo_close (&j, '}');
    }
  for (guint c = 0; c < natsim_replay_n_classes (); c++)
    {
      const NatsimClassAnalysis *f = natsim_analysis_class (a, c);
      const NatsimQuantiles *qs[3] = { &f->duration, &f->idle_gap, &f->refresh_gap };

      for (guint i = 0; i < 3; i++)
        if (qs[i]->kept < qs[i]->n)
          {
            g_autofree char *m = g_strdup_printf (
              "class %s: quantiles from a uniform sample of %" G_GUINT64_FORMAT " of %"
              G_GUINT64_FORMAT " values", names[c], qs[i]->kept, qs[i]->n);
            jo_open (&j, NULL, '{');
            jo_str (&j, "id", "analyze.sampled");
            jo_str (&j, "message", m);
            jo_close (&j, '}');
            break;
          }
    }
  jo_close (&j, ']');
  jo_close (&j, '}');
  g_string_append_c (j.s, '\n');
  return g_string_free (j.s, FALSE);
}

