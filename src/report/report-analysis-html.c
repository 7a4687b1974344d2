/* natsim: analysis.html (natsim analyze --format html), on the stylesheet
 * of report.html (style.c), every number by the one formatter. */
#include <math.h>
#include <string.h>

#include "report-private.h"

#include "natsim/analysis-html.h"
#include "natsim/charts.h"
#include "natsim/numfmt.h"
#include "natsim/replay.h"
#include "natsim/nat.h"

/* Points of a CDF chart: the sample is thinned to at most this many. */
#define CDF_POINTS 400

static void
text (GString *out, const char *s)
{
  g_autofree char *valid = g_utf8_make_valid (s != NULL ? s : "", -1);
  g_autofree char *e = g_markup_escape_text (valid, -1);

  g_string_append (out, e);
}

/* Seconds for people, locale-independent; "-" when unknown. */
static void
seconds (GString *out, double v)
{
  char buf[NATSIM_NUM_BUF];

  if (!isfinite (v))
    g_string_append (out, "-");
  else
    g_string_append (out, natsim_fmt_num (buf, v));
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
  char buf[NATSIM_NUM_BUF];

  {
    g_autoptr (GString) title = g_string_new ("natsim analyze: ");

    for (guint i = 0; i < n; i++)
      g_string_append_printf (title, "%s%s", i > 0 ? ", " : "", traces[i]);
    report_html_begin (out, title->str);
  }
  g_string_append (out, "<p class=\"meta\">");
  g_string_append_printf (out, "%s s of capture.</p>\n</header>\n<p>",
                          natsim_fmt_num (buf, natsim_analysis_duration_s (a)));
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
        g_string_append_printf (svgs, "<figure>\n%s</figure>\n", svg);
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
      g_string_append (out, "<p class=\"skipped\">Charts were skipped: ");
      text (out, why->message);
      g_string_append (out, ".</p>\n");
    }
  g_string_free (svgs, TRUE);

  g_string_append (out, "<h2>Classes</h2>\n<div class=\"table-wrap\"><table>\n<thead><tr>"
                        "<th scope=\"col\">class</th><th class=\"num\">flows</th>"
                        "<th class=\"num\">packets</th><th class=\"num\">webex</th>"
                        "<th class=\"num\">duration p50</th><th class=\"num\">duration max</th>"
                        "<th class=\"num\">gap p50</th><th class=\"num\">gap p99</th>"
                        "<th class=\"num\">gap max</th><th class=\"num\">keepalive</th>"
                        "<th class=\"num\">DSCP as expected</th></tr></thead>\n<tbody>\n");
  for (guint c = 0; c < natsim_replay_n_classes (); c++)
    {
      const NatsimClassAnalysis *f = natsim_analysis_class (a, c);
      const double v[] = { f->duration.p50, f->duration.max, f->idle_gap.p50,
                           f->idle_gap.p99, f->idle_gap.max, f->keepalive_s };

      if (f->flows == 0)
        continue;
      g_string_append (out, "<tr><td>");
      text (out, names[c]);
      g_string_append_printf (out, "</td><td class=\"num\">%s", natsim_fmt_int (buf, (double) f->flows));
      g_string_append_printf (out, "</td><td class=\"num\">%s", natsim_fmt_int (buf, (double) f->packets));
      g_string_append_printf (out, "</td><td class=\"num\">%s</td>",
                              natsim_fmt_int (buf, (double) (f->webex_calling_flows
                                                             + f->webex_app_config_flows)));
      for (guint i = 0; i < G_N_ELEMENTS (v); i++)
        {
          g_string_append (out, "<td class=\"num\">");
          seconds (out, v[i]);
          g_string_append (out, "</td>");
        }
      if (f->dscp_checked > 0)
        {
          char b2[NATSIM_NUM_BUF];

          g_string_append_printf (out, "<td class=\"num\">%s / %s</td></tr>\n",
                                  natsim_fmt_int (buf, (double) f->dscp_expected),
                                  natsim_fmt_int (b2, (double) f->dscp_checked));
        }
      else
        g_string_append (out, "<td class=\"num\">-</td></tr>\n");
    }
  g_string_append (out, "</tbody>\n</table></div>\n<p class=\"note-text\">Seconds. Keepalive: the median gap of at least 1 s in "
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
                                natsim_fmt_int (buf, ceil (v)),
                                i == 0 ? "UDP" : "TCP");
        text (out, cls);
        g_string_append (out, ": longest refresh gap plus margin).</li>\n");
      }
    if (shown == 0)
      g_string_append (out, "<li>No class has enough refresh gaps for a timeout "
                            "recommendation.</li>\n");
  }
  g_string_append (out, "</ul>\n<p class=\"note-text\">All figures: analysis.json.</p>\n"
                        "</main>\n</body>\n</html>\n");
  return g_string_free (out, FALSE);
}
