/* natsim: building the gnuplot scripts of the charts (quoting, numbers,
 * tics, margins, the preamble every chart starts with). */
#include "charts-private.h"
#include "natsim/charts.h"
#include "natsim/numfmt.h"

#include <math.h>
#include <string.h>

/* ---- script building ---- */

/* @s as a gnuplot single-quoted string: valid UTF-8, control characters
 * as spaces, quotes doubled. */
void
chart_append_quoted (GString *out, const char *s)
{
  g_autofree char *valid = g_utf8_make_valid (s != NULL ? s : "", -1);

  g_string_append_c (out, '\'');
  for (const char *p = valid; *p != '\0'; p++)
    {
      if (*p == '\'')
        g_string_append (out, "''");
      else if ((unsigned char) *p < 0x20 || *p == 0x7f)
        g_string_append_c (out, ' ');
      else
        g_string_append_c (out, *p);
    }
  g_string_append_c (out, '\'');
}

/* A number for gnuplot: '.' whatever the locale, NaN for a gap. */
void
chart_append_number (GString *out, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (v))
    g_string_append (out, "NaN");
  else
    g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.12g",
                                           v + 0.0));
}

/* A tic label: gnuplot reads it as a format, so '%' is doubled. */
void
chart_append_tic_label (GString *out, const char *label)
{
  g_autoptr (GString) escaped = g_string_new (NULL);

  for (const char *p = label; *p != '\0'; p++)
    {
      if (*p == '%')
        g_string_append_c (escaped, '%');
      g_string_append_c (escaped, *p);
    }
  chart_append_quoted (out, escaped->str);
}

/* A tic or value label: natsim's formatter, never an exponent. */
const char *
chart_label_number (char *buf, double v)
{
  /* A tic at 0.0001 is exactly that, not "< 0.001": small values in
   * plain decimals, 3 significant digits (no exponent either way). */
  if (v != 0.0 && isfinite (v) && fabs (v) < 0.001 && fabs (v) >= 1e-12)
    {
      char fmt[16];
      int decimals = 2 - (int) floor (log10 (fabs (v)));
      char *end;

      g_snprintf (fmt, sizeof fmt, "%%.%df", decimals);
      g_ascii_formatd (buf, NATSIM_NUM_BUF, fmt, v);
      end = buf + strlen (buf) - 1;
      while (end > buf && *end == '0')
        *end-- = '\0';
      return buf;
    }
  return natsim_fmt_num (buf, v + 0.0);
}

/* A step of 1, 2, 2.5 or 5 times a power of ten giving about @n tics
 * over @span. */
static double
nice_step (double span, guint n)
{
  double raw = span / n;
  double mag = pow (10.0, floor (log10 (raw)));
  double f = raw / mag;

  if (f <= 1.0)
    return mag;
  if (f <= 2.0)
    return 2.0 * mag;
  if (f <= 2.5)
    return 2.5 * mag;
  if (f <= 5.0)
    return 5.0 * mag;
  return 10.0 * mag;
}

/* Steps of a clock: about 6 tics over @span (seconds, minutes or hours). */
double
chart_time_step (double span)
{
  static const double steps[] = { 1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 720, 1440 };

  for (gsize i = 0; i < G_N_ELEMENTS (steps); i++)
    if (steps[i] >= span / 6.0)
      return steps[i];
  return nice_step (span, 5);
}

/* "set {axis}tics ('0' 0, '1,000' 1000, ...)" over [@lo, @hi], each label
 * the value times @scale plus @suffix; returns the longest label's length
 * in characters (for the margin). */
guint
chart_append_tics_step (GString *gp, const char *axis, double lo, double hi, double scale,
                  const char *suffix, gboolean integers, double step);

guint
chart_append_tics (GString *gp, const char *axis, double lo, double hi, double scale,
             const char *suffix, gboolean integers)
{
  if (!(hi > lo) || !isfinite (lo) || !isfinite (hi))
    return 1;
  return chart_append_tics_step (gp, axis, lo, hi, scale, suffix, integers, nice_step (hi - lo, 6));
}

guint
chart_append_tics_step (GString *gp, const char *axis, double lo, double hi, double scale,
                  const char *suffix, gboolean integers, double step)
{
  double first;
  guint width = 1, k = 0;

  if (!(hi > lo) || !isfinite (lo) || !isfinite (hi) || !(step > 0.0))
    return 1;
  if (integers && step < 1.0)
    step = 1.0;
  first = ceil (lo / step - 1e-9) * step;
  g_string_append_printf (gp, "set %stics (", axis);
  for (double v = first; v <= hi + step * 1e-9 && k < 50; v = first + step * ++k)
    {
      char buf[NATSIM_NUM_BUF];
      g_autofree char *label = g_strconcat (chart_label_number (buf, fabs (v) < step * 1e-9 ? 0.0 : v * scale),
                                            suffix, NULL);

      g_string_append (gp, k > 0 ? ", " : "");
      chart_append_tic_label (gp, label);
      g_string_append_c (gp, ' ');
      chart_append_number (gp, v);
      width = MAX (width, (guint) g_utf8_strlen (label, -1));
    }
  g_string_append (gp, ")\n");
  return width;
}

/* Tics of the right axis: positions in y units over [@lo, @hi], labels
 * the share of @of in percent at nice percentages. */
guint
chart_append_share_tics (GString *gp, double lo, double hi, double of)
{
  double plo = 100.0 * lo / of, phi = 100.0 * hi / of;
  double step, first;
  guint width = 1, k = 0;

  if (!(phi > plo))
    return 1;
  step = nice_step (phi - plo, 5);
  first = ceil (plo / step - 1e-9) * step;
  g_string_append (gp, "set y2tics (");
  for (double v = first; v <= phi + step * 1e-9 && k < 50; v = first + step * ++k)
    {
      char buf[NATSIM_NUM_BUF];
      g_autofree char *label = g_strconcat (chart_label_number (buf, fabs (v) < step * 1e-9 ? 0.0 : v),
                                            " %", NULL);

      g_string_append (gp, k > 0 ? ", " : "");
      chart_append_tic_label (gp, label);
      g_string_append_c (gp, ' ');
      chart_append_number (gp, v * of / 100.0);
      width = MAX (width, (guint) g_utf8_strlen (label, -1));
    }
  g_string_append (gp, ")\n");
  return width;
}

/* Decade tics of a logarithmic axis over [@lo, @hi] (both above 0),
 * with 2 and 5 in between when the range spans less than two decades
 * (one label alone says nothing). */
void
chart_append_log_tics (GString *gp, const char *axis, double lo, double hi)
{
  static const double fine[] = { 1.0, 2.0, 5.0 };
  gboolean few = log10 (hi / lo) < 2.0;
  double d = pow (10.0, floor (log10 (lo)));
  guint k = 0;

  g_string_append_printf (gp, "set %stics (", axis);
  for (; d <= hi * 1.0000001 && k < 100; d *= 10.0)
    for (gsize i = 0; i < (few ? G_N_ELEMENTS (fine) : 1); i++)
      {
        double v = d * fine[i];
        char buf[NATSIM_NUM_BUF];

        if (v < lo * 0.9999999 || v > hi * 1.0000001)
          continue;
        g_string_append (gp, k++ > 0 ? ", " : "");
        chart_append_tic_label (gp, chart_label_number (buf, v));
        g_string_append_c (gp, ' ');
        chart_append_number (gp, v);
      }
  g_string_append (gp, ")\n");
}

/* Left (and right) margins wide enough for tic labels of @width
 * characters and the axis label beside them. */
void
chart_append_margins (GString *gp, guint left_width, guint right_width)
{
  g_string_append_printf (gp, "set lmargin %u\nset rmargin %u\n", MAX (10u, left_width + 5u),
                          right_width > 0 ? right_width + 6u : 4u);
}

void
chart_append_setting (GString *out, const char *what, const char *text)
{
  if (text == NULL || *text == '\0')
    return;
  g_string_append_printf (out, "set %s ", what);
  chart_append_quoted (out, text);
  g_string_append_c (out, '\n');
}

void
chart_append_preamble (GString *out, const char *title, const char *x_label,
                 const char *y_label)
{
  g_string_append_printf (out,
                          "set terminal svg size %d,%d fixed noenhanced "
                          "font 'sans,12' background '#ffffff'\n"
                          "set encoding utf8\n"
                          "set output\n"
                          "set border 3 lc rgb '#555555'\n"
                          "set tics nomirror textcolor rgb '#333333'\n"
                          "set grid lc rgb '#e0e0e0' lt 1\n"
                          "set key outside below center horizontal "
                          "samplen 2 spacing 1.1\n",
                          NATSIM_CHART_WIDTH, NATSIM_CHART_HEIGHT);
  chart_append_setting (out, "title", title);
  chart_append_setting (out, "xlabel", x_label);
  chart_append_setting (out, "ylabel", y_label);
}
