/* natsim: analysis.html (natsim analyze --format html). */
#include <math.h>
#include <string.h>

#include "natsim/analysis-html.h"
#include "natsim/charts.h"
#include "natsim/replay.h"
#include "natsim/nat.h"

/* Points of a CDF chart: the sample is thinned to at most this many. */
#define CDF_POINTS 400

static void
text (GString *out, const char *s)
{
  g_autofree char *e = g_markup_escape_text (s, -1);

  g_string_append (out, e);
}

/* Seconds for people, locale-independent; "-" when unknown. */
static void
seconds (GString *out, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (v))
    g_string_append (out, "-");
  else
    g_string_append (out, g_ascii_formatd (buf, sizeof buf, v < 10 ? "%.3f" : "%.1f", v));
}

/* The CDF of the sorted gaps as a line chart with the timeout marked.
 * Gaps of 0 (packets with the same timestamp) cannot sit on a log axis
 * and are drawn from 1 microsecond. */
static char *
cdf_svg (const char *cls, const double *gaps, gsize n, double timeout_s, const char *proto,
         guint index, GError **error)
{
  guint points = (guint) MIN (n, CDF_POINTS);
  g_autofree double *x = g_new (double, points);
  g_autofree double *y = g_new (double, points);
  g_autofree char *title = g_strdup_printf ("Idle gaps of class %s", cls);
  g_autofree char *marker = g_strdup_printf ("NAT %s timeout", proto);
  g_autofree char *prefix = g_strdup_printf ("a%u", index);
  NatsimChartSeries series = { "fraction of gaps <= x", y };
  NatsimLineChart chart = { 0 };
  guint m = 0;

  for (guint i = 0; i < points; i++)
    {
      /* Evenly spaced ranks, the last one the maximum. */
      gsize r = points == 1 ? n - 1 : (gsize) ((double) i * (double) (n - 1) / (points - 1));
      double v = MAX (gaps[r], 1e-6);

      if (m > 0 && v <= x[m - 1])
        {
          y[m - 1] = (double) (r + 1) / (double) n;
          continue;
        }
      x[m] = v;
      y[m] = (double) (r + 1) / (double) n;
      m++;
    }
  chart.title = title;
  chart.x_label = "idle gap (s, log scale)";
  chart.y_label = "fraction of gaps <= x";
  chart.x = x;
  chart.n_x = m;
  chart.series = &series;
  chart.n_series = 1;
  chart.style = NATSIM_CHART_STEPS;
  chart.y_from_zero = TRUE;
  chart.x_log = TRUE;
  chart.marker_label = marker;
  chart.marker_x = timeout_s;
  return natsim_chart_line_svg (&chart, prefix, error);
}

char *
natsim_analysis_to_html (const NatsimAnalysis *a, const char *const *traces, guint n,
                         double udp_timeout_s, double tcp_timeout_s, gboolean charts)
{
  const char *const *names = natsim_replay_class_names ();
  GString *out = g_string_new (NULL);
  g_autoptr (GError) why = NULL;
  GString *svgs = g_string_new (NULL);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append (out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                        "<title>natsim analyze</title>\n<style>\n"
                        "body{font-family:sans-serif;margin:2em;max-width:70em;color:#222}\n"
                        "table{border-collapse:collapse;margin:1em 0}\n"
                        "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}\n"
                        "th{background:#f3f3f3}\ntd:first-child{text-align:left}\n"
                        ".chart svg{max-width:100%;height:auto}\n"
                        "@media print{.chart{break-inside:avoid}}\n"
                        "</style>\n</head>\n<body>\n<h1>natsim analyze: ");
  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append (out, ", ");
      text (out, traces[i]);
    }
  g_string_append (out, "</h1>\n<p>");
  g_string_append_printf (out, "%s s of capture. ",
                          g_ascii_formatd (buf, sizeof buf, "%.3f",
                                           natsim_analysis_duration_s (a)));
  g_string_append (out, "An idle gap is the time between two packets of a flow (either "
                        "direction). A NAT binding whose timeout is shorter than a gap "
                        "lapses in it; the charts mark the timeout of the NAT compared (UDP ");
  seconds (out, udp_timeout_s);
  g_string_append (out, " s, TCP established ");
  seconds (out, tcp_timeout_s);
  g_string_append (out, " s).</p>\n");

  if (charts && natsim_charts_available (&why))
    for (guint c = 0; c < natsim_replay_n_classes (); c++)
      {
        uint8_t proto = natsim_analysis_class_proto (c);
        gsize ng = 0;
        const double *gaps = natsim_analysis_class_gaps (a, c, &ng);
        g_autofree char *svg = NULL;

        if (ng == 0 || proto == 0)
          continue;
        svg = cdf_svg (names[c], gaps, ng, proto == NATSIM_PROTO_TCP ? tcp_timeout_s
                                                                     : udp_timeout_s,
                       proto == NATSIM_PROTO_TCP ? "TCP" : "UDP", c, &why);
        if (svg == NULL)
          break;
        g_string_append_printf (svgs, "<div class=\"chart\">\n%s\n</div>\n", svg);
      }
  else if (!charts && why == NULL)
    g_set_error (&why, NATSIM_CHART_ERROR, NATSIM_CHART_ERROR_DISABLED, "charts disabled");
  if (why == NULL)
    {
      g_string_append (out, "<h2>Idle-gap distributions</h2>\n");
      if (svgs->len == 0)
        g_string_append (out, "<p>No flow had two packets: there is no idle gap to "
                              "show.</p>\n");
      g_string_append (out, svgs->str);
    }
  else
    {
      g_string_append (out, "<p>Charts were skipped: ");
      text (out, why->message);
      g_string_append (out, ".</p>\n");
    }
  g_string_free (svgs, TRUE);

  g_string_append (out, "<h2>Classes</h2>\n<table>\n<tr><th>class</th><th>flows</th>"
                        "<th>packets</th><th>webex</th><th>duration p50</th>"
                        "<th>duration max</th><th>gap p50</th><th>gap p99</th>"
                        "<th>gap max</th><th>keepalive</th><th>DSCP as expected</th></tr>\n");
  for (guint c = 0; c < natsim_replay_n_classes (); c++)
    {
      const NatsimClassAnalysis *f = natsim_analysis_class (a, c);
      const double v[] = { f->duration.p50, f->duration.max, f->idle_gap.p50,
                           f->idle_gap.p99, f->idle_gap.max, f->keepalive_s };

      if (f->flows == 0)
        continue;
      g_string_append (out, "<tr><td>");
      text (out, names[c]);
      g_string_append_printf (out, "</td><td>%" G_GUINT64_FORMAT "</td><td>%" G_GUINT64_FORMAT
                              "</td><td>%" G_GUINT64_FORMAT "</td>", f->flows, f->packets,
                              f->webex_calling_flows + f->webex_app_config_flows);
      for (guint i = 0; i < G_N_ELEMENTS (v); i++)
        {
          g_string_append (out, "<td>");
          seconds (out, v[i]);
          g_string_append (out, "</td>");
        }
      if (f->dscp_checked > 0)
        g_string_append_printf (out, "<td>%" G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT
                                "</td></tr>\n", f->dscp_expected, f->dscp_checked);
      else
        g_string_append (out, "<td>-</td></tr>\n");
    }
  g_string_append (out, "</table>\n<p>Seconds. Keepalive: the median gap of at least 1 s in "
                        "flows older than 60 s, when there are 3 such gaps.</p>\n");

  g_string_append (out, "<h2>Recommendations</h2>\n<ul>\n");
  {
    guint shown = 0;

    for (guint i = 0; i < 2; i++)
      {
        const char *cls = NULL;
        double v = natsim_analysis_recommended_timeout (
          a, i == 0 ? NATSIM_PROTO_UDP : NATSIM_PROTO_TCP, &cls);

        if (isnan (v))
          continue;
        shown++;
        g_string_append_printf (out, "<li>A %s idle timeout of at least %s s keeps the "
                                "long-lived %s flows alive (class ",
                                i == 0 ? "UDP" : "TCP",
                                g_ascii_formatd (buf, sizeof buf, "%.0f", ceil (v)),
                                i == 0 ? "UDP" : "TCP");
        text (out, cls);
        g_string_append (out, ", p99 refresh gap).</li>\n");
      }
    if (shown == 0)
      g_string_append (out, "<li>No class has enough refresh gaps for a timeout "
                            "recommendation.</li>\n");
  }
  g_string_append (out, "</ul>\n<p>All figures: analysis.json.</p>\n</body>\n</html>\n");
  return g_string_free (out, FALSE);
}
