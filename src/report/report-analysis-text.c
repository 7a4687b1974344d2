/* natsim report: analysis.txt, the summary `natsim analyze` prints. */
#include <math.h>

#include "natsim/analysis-report.h"
#include "natsim/nat.h"
#include "natsim/numfmt.h"
#include "natsim/replay.h"

/* Seconds for people by the one number formatter (3 significant
 * digits); "-" when unknown. */
static const char *
fmt_seconds (char *buf, double v)
{
  if (!isfinite (v))
    return "-";
  return natsim_fmt_num (buf, v);
}

static void
text_seconds (GString *s, double v)
{
  char buf[NATSIM_NUM_BUF];

  g_string_append_printf (s, " %9s", fmt_seconds (buf, v));
}

char *
natsim_analysis_to_text (const NatsimAnalysis *a)
{
  const char *const *names = natsim_replay_class_names ();
  const NatsimSipAnalysis *sip;
  NatsimAnalysisTotals t;
  GString *s;
  char buf[NATSIM_NUM_BUF];

  g_return_val_if_fail (a != NULL, NULL);
  natsim_analysis_totals (a, &t);
  sip = natsim_analysis_sip (a);
  s = g_string_new (NULL);

  g_string_append_printf (s, "Traffic analysis: %" G_GUINT64_FORMAT " packets read, %"
                          G_GUINT64_FORMAT " decoded, %" G_GUINT64_FORMAT " skipped; %s s\n",
                          t.trace->packets_read, t.trace->packets_decoded,
                          t.trace->packets_skipped,
                          natsim_fmt_num (buf, t.duration_s));
  g_string_append_printf (s, "%" G_GUINT64_FORMAT " flows (both directions folded), %"
                          G_GUINT64_FORMAT " packets with ports, %" G_GUINT64_FORMAT
                          " without\n\n", t.flows, t.packets, t.no_ports);
  g_string_append_printf (s, "%-13s %6s %8s %6s %9s %9s %9s %9s %9s %9s %s\n", "class", "flows",
                          "packets", "webex", "dur p50", "dur max", "gap p50", "gap p99",
                          "gap max", "keepalive", "dscp ok");
  for (guint c = 0; c < natsim_replay_n_classes (); c++)
    {
      const NatsimClassAnalysis *f = natsim_analysis_class (a, c);

      if (f->flows == 0)
        continue;
      g_string_append_printf (s, "%-13s %6" G_GUINT64_FORMAT " %8" G_GUINT64_FORMAT " %6"
                              G_GUINT64_FORMAT, names[c], f->flows, f->packets,
                              f->webex_calling_flows + f->webex_app_config_flows);
      text_seconds (s, f->duration.p50);
      text_seconds (s, f->duration.max);
      text_seconds (s, f->idle_gap.p50);
      text_seconds (s, f->idle_gap.p99);
      text_seconds (s, f->idle_gap.max);
      text_seconds (s, f->keepalive_s);
      if (f->dscp_checked > 0)
        g_string_append_printf (s, " %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
                                f->dscp_expected, f->dscp_checked);
      else
        g_string_append (s, " -");
      g_string_append_c (s, '\n');
    }
  g_string_append (s, "(seconds; gap = idle time between a flow's packets; keepalive = median "
                      "gap >= 1 s in flows older than 60 s)\n");
  if (sip->registers + sip->register_oks > 0)
    {
      g_string_append_printf (s, "\nSIP: %" G_GUINT64_FORMAT " REGISTER from %" G_GUINT64_FORMAT
                              " endpoint(s), %" G_GUINT64_FORMAT " 2xx answers",
                              sip->registers, sip->endpoints, sip->register_oks);
      if (sip->interval.n > 0)
        {
          char b2[NATSIM_NUM_BUF];

          g_string_append_printf (s, "; refresh interval p50 %s s, max %s s",
                                  fmt_seconds (buf, sip->interval.p50),
                                  fmt_seconds (b2, sip->interval.max));
        }
      if (sip->expires_requested.n > 0)
        g_string_append_printf (s, "; Expires requested p50 %s s",
                                fmt_seconds (buf, sip->expires_requested.p50));
      if (sip->expires_granted.n > 0)
        g_string_append_printf (s, ", granted p50 %s s",
                                fmt_seconds (buf, sip->expires_granted.p50));
      g_string_append_c (s, '\n');
    }
  for (guint i = 0, shown = 0; i < 2; i++)
    {
      const char *cls = NULL;
      double v = natsim_analysis_recommended_timeout (a, i == 0 ? NATSIM_PROTO_UDP : NATSIM_PROTO_TCP, &cls);

      if (isnan (v))
        continue;
      if (shown++ == 0)
        g_string_append_c (s, '\n');
      g_string_append_printf (s, "A %s idle timeout of at least %s s keeps the long-lived "
                                 "%s flows alive (class %s: longest refresh gap plus margin)\n",
                              i == 0 ? "UDP" : "TCP",
                              natsim_fmt_int (buf, ceil (v)),
                              i == 0 ? "UDP" : "TCP", cls);
    }
  return g_string_free (s, FALSE);
}
