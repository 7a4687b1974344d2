/* natsim: analysis.html, the page for people of `natsim analyze`. */
#pragma once

#include <glib.h>

#include "natsim/analyze.h"

G_BEGIN_DECLS

/* A self-contained HTML page (inline CSS and SVG, nothing loaded from
 * elsewhere) for a finished analysis of @traces (@n, as given): per class
 * with idle gaps, the idle-gap CDF (gnuplot, natsim/charts.h; log x axis)
 * with the NAT's timeout of that transport marked (@udp_timeout_s for UDP
 * classes, @tcp_timeout_s for TCP), then the class table and the
 * recommendations.  Without charts (@charts FALSE, gnuplot missing or
 * failing) the page says why and keeps its tables. */
char *natsim_analysis_to_html (const NatsimAnalysis *a, const char *const *traces, guint n,
                               double udp_timeout_s, double tcp_timeout_s, gboolean charts);

G_END_DECLS
