/* natsim: chart internals shared between the files of src/report that
 * draw the charts: charts.c (running gnuplot, its SVG made ready to
 * inline, argument checks), charts-script.c (building the gnuplot
 * script) and charts-kinds.c (the line charts, bar charts and heat
 * maps).  Each function is described where it is defined. */
#pragma once

#include <glib.h>

#include "natsim/charts.h"

G_BEGIN_DECLS

/* charts.c */
char *chart_run_gnuplot (const char *script, GError **error);
char *chart_finish_svg (char *raw, const char *prefix, const char *title,
                  GError **error);
gboolean chart_check_prefix (const char *prefix, GError **error);
gboolean chart_check_series (const NatsimChartSeries *series, guint n_series, guint n,
                       GError **error);
double chart_series_max (const NatsimChartSeries *series, guint n_series, guint n);

/* charts-script.c */
void chart_append_quoted (GString *out, const char *s);
void chart_append_number (GString *out, double v);
void chart_append_tic_label (GString *out, const char *label);
const char *chart_label_number (char *buf, double v);
double chart_time_step (double span);
guint chart_append_tics (GString *gp, const char *axis, double lo, double hi, double scale,
                   const char *suffix, gboolean integers);
guint chart_append_tics_step (GString *gp, const char *axis, double lo, double hi, double scale,
                        const char *suffix, gboolean integers, double step);
guint chart_append_share_tics (GString *gp, double lo, double hi, double of);
void chart_append_log_tics (GString *gp, const char *axis, double lo, double hi);
void chart_append_margins (GString *gp, guint left_width, guint right_width);
void chart_append_setting (GString *out, const char *what, const char *text);
void chart_append_preamble (GString *out, const char *title, const char *x_label,
                      const char *y_label);

G_END_DECLS
