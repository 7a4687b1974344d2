/* natsim: the kinds of chart (line charts, bar charts, heat maps), each
 * a gnuplot script run through chart_run_gnuplot() and chart_finish_svg(). */
#include "charts-private.h"
#include "natsim/charts.h"
#include "natsim/numfmt.h"

#include <math.h>
#include <string.h>

/* Okabe-Ito colours: distinguishable with the common colour blindnesses
 * and in grey-scale print. */
static const char *const palette[] = {
  "#0072b2", "#e69f00", "#009e73", "#cc79a7",
  "#56b4e9", "#d55e00", "#f0e442", "#000000",
};

#define LIMIT_COLOUR "#c0392b"

/* ---- the charts ---- */

/* Line chart: one datablock, x then one column per series. */
char *
natsim_chart_line_svg (const NatsimLineChart *c, const char *id_prefix,
                       GError **error)
{
  g_autoptr (GString) gp = NULL;
  gboolean limit = FALSE, marker = FALSE;
  double top, x_lo, x_hi;
  const char *with;

  g_return_val_if_fail (c != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (!chart_check_prefix (id_prefix, error)
      || !chart_check_series (c->series, c->n_series, c->n_x, error))
    return NULL;
  if (c->x == NULL)
    {
      g_set_error_literal (error, NATSIM_CHART_ERROR,
                           NATSIM_CHART_ERROR_INVALID, "a chart needs x values");
      return NULL;
    }
  limit = c->limit_label != NULL && isfinite (c->limit);
  marker = c->marker_label != NULL && isfinite (c->marker_x)
           && (!c->x_log || c->marker_x > 0.0);
  if (c->x_log)
    for (guint i = 0; i < c->n_x; i++)
      if (!(c->x[i] > 0.0))
        {
          g_set_error_literal (error, NATSIM_CHART_ERROR,
                               NATSIM_CHART_ERROR_INVALID,
                               "a logarithmic x axis needs x values above 0");
          return NULL;
        }

  gp = g_string_new (NULL);
  {
    /* A flat line on an axis says little: the title says it is flat. */
    gboolean flat = TRUE;
    double first = NAN;
    g_autofree char *title = NULL;

    for (guint s_ = 0; s_ < c->n_series && flat; s_++)
      for (guint i = 0; i < c->n_x && flat; i++)
        if (isfinite (c->series[s_].y[i]))
          {
            if (isnan (first))
              first = c->series[s_].y[i];
            else if (c->series[s_].y[i] != first)
              flat = FALSE;
          }
    title = flat && c->n_x > 1 && c->title != NULL
              ? g_strconcat (c->title, " (the same at every point)", NULL)
              : g_strdup (c->title);
    chart_append_preamble (gp, title, c->x_label, c->y_label);
  }
  g_string_append (gp, "$d << EOD\n");
  for (guint i = 0; i < c->n_x; i++)
    {
      chart_append_number (gp, c->x[i]);
      for (guint s = 0; s < c->n_series; s++)
        {
          g_string_append_c (gp, ' ');
          chart_append_number (gp, c->series[s].y[i]);
        }
      g_string_append_c (gp, '\n');
    }
  g_string_append (gp, "EOD\n");

  /* The x range is the data's (no rounding out to tics); a single point
   * gets some room. */
  x_lo = c->x[0];
  x_hi = c->x[c->n_x - 1];
  if (marker)
    {
      /* The marker inside the x range, with some room on a log axis. */
      x_lo = MIN (x_lo, c->x_log ? c->marker_x / 1.5 : c->marker_x);
      x_hi = MAX (x_hi, c->x_log ? c->marker_x * 1.5 : c->marker_x);
    }
  if (!marker && c->style == NATSIM_CHART_BOXES && c->n_x > 1)
    {
      x_lo = c->x[0] - (c->x[1] - c->x[0]) / 2.0;
      x_hi = c->x[c->n_x - 1] + (c->x[c->n_x - 1] - c->x[c->n_x - 2]) / 2.0;
    }
  if (!(x_lo < x_hi))
    {
      /* A single point: some room around it. */
      double room = c->x_log ? 0.0 : MAX (fabs (x_lo) * 0.1, 1.0);

      if (c->x_log)
        {
          x_lo /= 2.0;
          x_hi *= 2.0;
        }
      else
        {
          x_lo -= room;
          x_hi += room;
        }
    }
  g_string_append (gp, "set xrange [");
  chart_append_number (gp, x_lo);
  g_string_append_c (gp, ':');
  chart_append_number (gp, x_hi);
  g_string_append (gp, "]\n");
  if (c->x_log)
    {
      g_string_append (gp, "set logscale x 10\n");
      chart_append_log_tics (gp, "x", x_lo, x_hi);
    }
  else if (c->x_time && x_hi - x_lo >= 6.0)
    chart_append_tics_step (gp, "x", x_lo, x_hi, 1.0, "", FALSE, chart_time_step (x_hi - x_lo));
  else
    chart_append_tics (gp, "x", x_lo, x_hi, 1.0, "", FALSE);

  /* The y axis scaled to the data; a limit far above it (a pool of
   * 64,512 ports against 414 in use) is not drawn, the share axis says
   * how far away it is. */
  top = chart_series_max (c->series, c->n_series, c->n_x);
  if (limit && c->limit > top && c->y2_share_of > 0.0 && top < 0.5 * c->limit)
    limit = FALSE;
  if (limit && c->limit > top)
    top = c->limit;
  {
    double y_lo = 0.0, y_hi = top > 0.0 ? top * 1.08 : 1.0;
    gboolean integers = TRUE;
    guint left, right = 0;

    if (!(c->y_from_zero || c->style == NATSIM_CHART_BOXES))
      {
        double lo = top;

        for (guint s_ = 0; s_ < c->n_series; s_++)
          for (guint i = 0; i < c->n_x; i++)
            if (isfinite (c->series[s_].y[i]) && c->series[s_].y[i] < lo)
              lo = c->series[s_].y[i];
        y_lo = lo < top ? lo - (top - lo) * 0.05 : lo - 1.0;
        y_hi = lo < top ? top + (top - lo) * 0.05 : top + 1.0;
      }
    for (guint s_ = 0; s_ < c->n_series && integers; s_++)
      for (guint i = 0; i < c->n_x && integers; i++)
        integers = !isfinite (c->series[s_].y[i]) || c->series[s_].y[i] == floor (c->series[s_].y[i]);
    g_string_append (gp, "set yrange [");
    chart_append_number (gp, y_lo);
    g_string_append_c (gp, ':');
    chart_append_number (gp, y_hi);
    g_string_append (gp, "]\n");
    left = chart_append_tics (gp, "y", y_lo, y_hi, 1.0, "", integers && y_hi - y_lo >= 2.0);
    if (c->y2_share_of > 0.0)
      {
        /* The same range as a share: y2 = y / share_of, tics in %. */
        g_string_append (gp, "set ytics nomirror\nset y2range [");
        chart_append_number (gp, y_lo);
        g_string_append_c (gp, ':');
        chart_append_number (gp, y_hi);
        g_string_append (gp, "]\n");
        right = chart_append_share_tics (gp, y_lo, y_hi, c->y2_share_of);
        chart_append_setting (gp, "y2label", c->y2_label);
      }
    chart_append_margins (gp, left, right);
  }
  if (c->shade_label != NULL && isfinite (c->shade_to) && c->shade_to > x_lo)
    {
      double to = MIN (c->shade_to, x_hi);

      g_string_append (gp, "set object 1 rect from first ");
      chart_append_number (gp, x_lo);
      g_string_append (gp, ", graph 0 to first ");
      chart_append_number (gp, to);
      g_string_append (gp, ", graph 1 behind fc rgb '#e8e8e8' fs solid 1.0 noborder\n"
                           "set label 1 ");
      chart_append_quoted (gp, c->shade_label);
      g_string_append (gp, " at first ");
      chart_append_number (gp, (x_lo + to) / 2.0);
      /* At the foot of the band: gauges sit high once warmed up. */
      g_string_append (gp, ", graph 0.05 center tc rgb '#555555' front\n");
    }
  if (c->style == NATSIM_CHART_BOXES)
    g_string_append (gp, "set style fill solid 0.85 noborder\n"
                         "set boxwidth 0.85 relative\n");

  switch (c->style)
    {
    case NATSIM_CHART_STEPS:
      with = "steps lw 2";
      break;
    case NATSIM_CHART_BOXES:
      with = "boxes";
      break;
    case NATSIM_CHART_LINES:
    default:
      with = "lines lw 2";
      break;
    }
  /* A single series needs no key: the title says what it is. */
  if (c->n_series == 1 && !limit && !marker)
    g_string_append (gp, "unset key\n");
  if (marker)
    {
      /* A vertical line drawn as an arrow without head; its key entry is
       * an empty plot (NaN) in the same style. */
      g_string_append (gp, "set arrow 1 from ");
      chart_append_number (gp, c->marker_x);
      g_string_append (gp, ", graph 0 to ");
      chart_append_number (gp, c->marker_x);
      g_string_append (gp, ", graph 1 nohead dt 2 lw 2 lc rgb '" LIMIT_COLOUR "' front\n");
    }
  g_string_append (gp, "plot ");
  for (guint s = 0; s < c->n_series; s++)
    {
      g_string_append_printf (gp, "%s$d using 1:%u with %s lc rgb '%s' title ",
                              s > 0 ? ", " : "", s + 2, with,
                              palette[s % G_N_ELEMENTS (palette)]);
      chart_append_quoted (gp, c->series[s].name);
    }
  if (limit)
    {
      /* The limit as a plotted constant, so that it has a key entry. */
      g_string_append (gp, ", ");
      chart_append_number (gp, c->limit);
      g_string_append (gp, " with lines dt 2 lw 2 lc rgb '" LIMIT_COLOUR
                           "' title ");
      chart_append_quoted (gp, c->limit_label);
    }
  if (marker)
    {
      g_string_append (gp, ", NaN with lines dt 2 lw 2 lc rgb '" LIMIT_COLOUR
                           "' title ");
      chart_append_quoted (gp, c->marker_label);
    }
  g_string_append (gp, "\n");

  return chart_finish_svg (chart_run_gnuplot (gp->str, error), id_prefix, c->title,
                     error);
}

/* Bar chart: categories at x = 0, 1, ...; series side by side. */
char *
natsim_chart_bars_svg (const NatsimBarChart *c, const char *id_prefix,
                       GError **error)
{
  g_autoptr (GString) gp = NULL;
  double width, top;
  gboolean many;

  g_return_val_if_fail (c != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (!chart_check_prefix (id_prefix, error)
      || !chart_check_series (c->series, c->n_series, c->n_categories, error))
    return NULL;
  if (c->categories == NULL)
    {
      g_set_error_literal (error, NATSIM_CHART_ERROR,
                           NATSIM_CHART_ERROR_INVALID,
                           "a bar chart needs category names");
      return NULL;
    }

  gp = g_string_new (NULL);
  chart_append_preamble (gp, c->title, c->x_label, c->y_label);
  /* Each row: the category index, then per series its value and its
   * label as a quoted string (written by natsim's formatter, so no
   * exponent ever reaches the page). */
  g_string_append (gp, "$d << EOD\n");
  for (guint i = 0; i < c->n_categories; i++)
    {
      g_string_append_printf (gp, "%u", i);
      for (guint s = 0; s < c->n_series; s++)
        {
          char buf[NATSIM_NUM_BUF];

          g_string_append_c (gp, ' ');
          chart_append_number (gp, c->series[s].y[i]);
          g_string_append_printf (gp, " \"%s\"",
                                  isfinite (c->series[s].y[i]) ? chart_label_number (buf, c->series[s].y[i])
                                                               : "");
        }
      g_string_append_c (gp, '\n');
    }
  g_string_append (gp, "EOD\n");

  width = 0.8 / c->n_series;
  top = chart_series_max (c->series, c->n_series, c->n_categories);
  many = c->n_categories > 6;
  g_string_append_printf (gp, "set xrange [-0.6:%u.6]\n",
                          c->n_categories - 1);
  {
    double y_hi = top > 0.0 ? top * 1.15 : 1.0;
    guint left;

    g_string_append (gp, "set yrange [0:");
    chart_append_number (gp, y_hi);
    g_string_append (gp, "]\n");
    left = chart_append_tics (gp, "y", 0.0, y_hi, 1.0, "", y_hi >= 2.0);
    /* Rotated category names reach right of their bar. */
    chart_append_margins (gp, left, many ? 6 : 0);
  }
  g_string_append (gp, "set grid noxtics ytics\n"
                       "set style fill solid 0.85 noborder\n");
  g_string_append (gp, "set boxwidth ");
  chart_append_number (gp, width * 0.95);
  g_string_append (gp, " absolute\nset xtics (");
  for (guint i = 0; i < c->n_categories; i++)
    {
      g_string_append (gp, i > 0 ? ", " : "");
      chart_append_quoted (gp, c->categories[i]);
      g_string_append_printf (gp, " %u", i);
    }
  g_string_append_printf (gp, ") scale 0%s\n",
                          many ? " rotate by -30 left" : "");
  if (c->n_series == 1)
    g_string_append (gp, "unset key\n");

  g_string_append (gp, "plot ");
  for (guint s = 0; s < c->n_series; s++)
    {
      double off = -0.4 + width * (s + 0.5);
      char buf[G_ASCII_DTOSTR_BUF_SIZE];

      g_ascii_formatd (buf, sizeof buf, "%.6f", off);
      g_string_append_printf (gp,
                              "%s$d using ($1+(%s)):%u with boxes "
                              "lc rgb '%s' title ",
                              s > 0 ? ", " : "", buf, 2 * s + 2,
                              palette[s % G_N_ELEMENTS (palette)]);
      chart_append_quoted (gp, c->series[s].name);
      /* The value above each bar. */
      g_string_append_printf (gp,
                              ", $d using ($1+(%s)):%u:%u with labels offset 0,0.8 notitle",
                              buf, 2 * s + 2, 2 * s + 3);
    }
  g_string_append (gp, "\n");

  return chart_finish_svg (chart_run_gnuplot (gp->str, error), id_prefix, c->title,
                     error);
}

/* Heat map: cells at integer (i, j), tics labelled with the x and y
 * values, so that uneven grids (1, 2, 4, 8) get even cells. */
char *
natsim_chart_heatmap_svg (const NatsimHeatMap *m, const char *id_prefix,
                          GError **error)
{
  g_autoptr (GString) gp = NULL;
  double z_lo = 0.0, z_hi = 0.0;
  gboolean constant;
  guint left = 1, right = 0;

  g_return_val_if_fail (m != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (!chart_check_prefix (id_prefix, error))
    return NULL;
  if (m->n_x == 0 || m->n_y == 0 || m->x == NULL || m->y == NULL
      || m->z == NULL)
    {
      g_set_error_literal (error, NATSIM_CHART_ERROR,
                           NATSIM_CHART_ERROR_INVALID,
                           "a heat map needs x values, y values and a grid");
      return NULL;
    }

  {
    gboolean any = FALSE;

    for (gsize k = 0; k < (gsize) m->n_x * m->n_y; k++)
      if (isfinite (m->z[k]))
        {
          z_lo = any ? MIN (z_lo, m->z[k]) : m->z[k];
          z_hi = any ? MAX (z_hi, m->z[k]) : m->z[k];
          any = TRUE;
        }
    constant = !any || z_lo == z_hi;
  }
  gp = g_string_new (NULL);
  {
    g_autofree char *title
      = constant && m->title != NULL ? g_strconcat (m->title, " (the same at every point)", NULL)
                                     : g_strdup (m->title);

    chart_append_preamble (gp, title, m->x_label, m->y_label);
  }
  /* One cell per grid point: column, row, value and its label. */
  g_string_append (gp, "$d << EOD\n");
  for (guint j = 0; j < m->n_y; j++)
    for (guint i = 0; i < m->n_x; i++)
      {
        char buf[NATSIM_NUM_BUF];
        double z = m->z[(gsize) j * m->n_x + i];

        g_string_append_printf (gp, "%u %u ", i, j);
        chart_append_number (gp, z);
        g_string_append_printf (gp, " \"%s\"\n", isfinite (z) ? chart_label_number (buf, z) : "");
      }
  g_string_append (gp, "EOD\n");

  g_string_append_printf (gp,
                          "set xrange [-0.5:%u.5]\nset yrange [-0.5:%u.5]\n"
                          "unset grid\nunset key\nset border 15\n"
                          "set tics scale 0\n"
                          "set palette defined (0 '#440154', 1 '#3b528b', "
                          "2 '#21918c', 3 '#5ec962', 4 '#fde725')\n"
                          "set style textbox opaque noborder\n",
                          m->n_x - 1, m->n_y - 1);
  if (constant)
    {
      /* One value everywhere: a scale around it would invent a range
       * (a constant 0 got -1..1); one colour and the value say it all. */
      g_string_append (gp, "unset colorbox\nset cbrange [0:1]\n");
    }
  else
    {
      g_string_append (gp, "set cbrange [");
      chart_append_number (gp, z_lo);
      g_string_append_c (gp, ':');
      chart_append_number (gp, z_hi);
      g_string_append (gp, "]\n");
      chart_append_setting (gp, "cblabel", m->z_label);
      {
        g_autoptr (GString) cb = g_string_new (NULL);

        right = chart_append_tics (cb, "cb", z_lo, z_hi, 1.0, "", FALSE);
        g_string_append (gp, cb->str);
      }
    }
  g_string_append (gp, "set xtics (");
  for (guint i = 0; i < m->n_x; i++)
    {
      char buf[NATSIM_NUM_BUF];

      g_string_append (gp, i > 0 ? ", " : "");
      chart_append_tic_label (gp, chart_label_number (buf, m->x[i]));
      g_string_append_printf (gp, " %u", i);
    }
  g_string_append (gp, ")\nset ytics (");
  for (guint j = 0; j < m->n_y; j++)
    {
      char buf[NATSIM_NUM_BUF];

      g_string_append (gp, j > 0 ? ", " : "");
      chart_append_tic_label (gp, chart_label_number (buf, m->y[j]));
      g_string_append_printf (gp, " %u", j);
      left = MAX (left, (guint) strlen (buf));
    }
  g_string_append (gp, ")\n");
  chart_append_margins (gp, left, constant ? 0 : right + 8);
  /* Discrete cells as filled rectangles (vector shapes: no image
   * smoothing can blend neighbouring points), white gaps between. */
  g_string_append_printf (gp, "plot $d using 1:2:(0.5):(0.5):%s with boxxyerror "
                              "fs solid 1.0 border lc rgb '#ffffff' fc %s",
                          constant ? "(0.35)" : "3", constant ? "palette" : "palette");
  if (m->show_values)
    g_string_append (gp, ", $d using 1:2:4 with labels boxed");
  g_string_append (gp, "\n");

  return chart_finish_svg (chart_run_gnuplot (gp->str, error), id_prefix, m->title,
                     error);
}
