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
char *run_gnuplot (const char *script, GError **error);
char *finish_svg (char *raw, const char *prefix, const char *title,
                  GError **error);
gboolean check_prefix (const char *prefix, GError **error);
gboolean check_series (const NatsimChartSeries *series, guint n_series, guint n,
                       GError **error);
double series_max (const NatsimChartSeries *series, guint n_series, guint n);

/* charts-script.c */
void append_quoted (GString *out, const char *s);
void append_number (GString *out, double v);
void append_tic_label (GString *out, const char *label);
const char *label_number (char *buf, double v);
double time_step (double span);
guint append_tics (GString *gp, const char *axis, double lo, double hi, double scale,
                   const char *suffix, gboolean integers);
guint append_tics_step (GString *gp, const char *axis, double lo, double hi, double scale,
                        const char *suffix, gboolean integers, double step);
guint append_share_tics (GString *gp, double lo, double hi, double of);
void append_log_tics (GString *gp, const char *axis, double lo, double hi);
void append_margins (GString *gp, guint left_width, guint right_width);
void append_setting (GString *out, const char *what, const char *text);
void append_preamble (GString *out, const char *title, const char *x_label,
                      const char *y_label);

G_END_DECLS
