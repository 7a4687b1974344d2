/* natsim: charts for the HTML reports, drawn by gnuplot.
 *
 * Each function writes a gnuplot script (data inline, as datablocks) to a
 * temporary file, runs `gnuplot -d FILE` as a subprocess and reads an SVG
 * document from its stdout.
 * The SVG has no XML prolog (ready to inline into HTML), its ids carry a
 * prefix given by the caller (several charts can share one page), and it
 * depends only on the input and on gnuplot's version: fixed size and fonts,
 * no time or host inside.
 *
 * Every tic label and value label is written by natsim's number
 * formatter (natsim/numfmt.h: thousands separators, never an exponent),
 * and the margins grow with the longest label so that none is clipped.
 *
 * Charts are optional: when gnuplot is not installed, fails, or runs longer
 * than the time limit (it is then killed), the functions return NULL and
 * set an error in NATSIM_CHART_ERROR whose message is the reason, ready for
 * "charts were skipped: <reason>".  Nothing here hangs or aborts.
 *
 * Environment:
 *   NATSIM_NO_CHARTS=1         charts are disabled (NATSIM_CHART_ERROR_DISABLED)
 *   NATSIM_GNUPLOT=PATH        the gnuplot program (default: gnuplot in PATH)
 *   NATSIM_CHART_TIMEOUT=SEC   time limit per chart (default 30 s) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define NATSIM_CHART_ERROR (natsim_chart_error_quark ())

typedef enum
{
  NATSIM_CHART_ERROR_DISABLED,  /* NATSIM_NO_CHARTS is set */
  NATSIM_CHART_ERROR_NO_GNUPLOT, /* gnuplot is not installed */
  NATSIM_CHART_ERROR_FAILED,    /* gnuplot failed, timed out or wrote no SVG */
  NATSIM_CHART_ERROR_INVALID,   /* bad arguments (no points, mismatched sizes) */
} NatsimChartErrorCode;

GQuark natsim_chart_error_quark (void);

/* How a line chart's series are drawn. */
typedef enum
{
  NATSIM_CHART_LINES,  /* a polyline through the points */
  NATSIM_CHART_STEPS,  /* a value holds until the next x (gauges sampled at ends) */
  NATSIM_CHART_BOXES,  /* one bar per x (counts within an interval) */
} NatsimChartStyle;

/* One named series; @y has the chart's @n_x values (NaN leaves a gap). */
typedef struct
{
  const char   *name;
  const double *y;
} NatsimChartSeries;

typedef struct
{
  const char              *title;   /* may be NULL */
  const char              *x_label; /* may be NULL */
  const char              *y_label; /* may be NULL */
  const double            *x;       /* [n_x], increasing */
  guint                    n_x;
  const NatsimChartSeries *series;  /* [n_series], at least one */
  guint                    n_series;
  NatsimChartStyle         style;
  /* A horizontal line at @limit (e.g. the port pool size) when
   * @limit_label is not NULL; the y axis then reaches it. */
  const char              *limit_label;
  double                   limit;
  gboolean                 y_from_zero; /* start the y axis at 0 */
  /* Added later; zero-initialised charts draw as before. */
  gboolean                 x_log;        /* logarithmic x axis (x values must be > 0) */
  /* A vertical line at x = @marker_x (e.g. a timeout) when @marker_label
   * is not NULL; the x axis then reaches it. */
  const char              *marker_label;
  double                   marker_x;
  /* A second y axis on the right showing y as a percentage of
   * @y2_share_of (e.g. ports in use as a share of the pool) when it is
   * above 0, labelled @y2_label. */
  double                   y2_share_of;
  const char              *y2_label;
  /* A shaded band from the left edge to x = @shade_to (e.g. the warm-up)
   * labelled @shade_label, when @shade_label is not NULL. */
  const char              *shade_label;
  double                   shade_to;
  /* x is a time in seconds, minutes or hours: tics at steps a clock
   * reader expects (5, 10, 15, 20, 30, 60, ...). */
  gboolean                 x_time;
} NatsimLineChart;

typedef struct
{
  const char              *title, *x_label, *y_label; /* may be NULL */
  const char *const       *categories; /* [n_categories] bar labels */
  guint                    n_categories;
  const NatsimChartSeries *series;     /* [n_series], y[n_categories] each */
  guint                    n_series;
} NatsimBarChart;

typedef struct
{
  const char   *title, *x_label, *y_label, *z_label; /* may be NULL */
  const double *x;  /* [n_x] column values (any order; shown as given) */
  guint         n_x;
  const double *y;  /* [n_y] row values */
  guint         n_y;
  const double *z;  /* [n_y * n_x], row major: z[j * n_x + i] at (x[i], y[j]) */
  gboolean      show_values; /* print z in each cell (small grids) */
} NatsimHeatMap;

/* Width and height of every chart, in SVG user units (pixels). */
#define NATSIM_CHART_WIDTH 760
#define NATSIM_CHART_HEIGHT 340

/* TRUE when charts can be drawn; otherwise FALSE and, when @error is not
 * NULL, the reason (DISABLED or NO_GNUPLOT). */
gboolean natsim_charts_available (GError **error);

/* A line chart as an SVG document (ids prefixed with @id_prefix, e.g.
 * "c1"), or NULL and @error. */
char *natsim_chart_line_svg (const NatsimLineChart *chart,
                             const char *id_prefix, GError **error);

/* A bar chart (clustered bars, one cluster per category). */
char *natsim_chart_bars_svg (const NatsimBarChart *chart,
                             const char *id_prefix, GError **error);

/* A heat map of @map->z over the grid of x and y values. */
char *natsim_chart_heatmap_svg (const NatsimHeatMap *map,
                                const char *id_prefix, GError **error);

G_END_DECLS
