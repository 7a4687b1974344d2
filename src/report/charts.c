/* natsim: charts drawn by gnuplot (SVG terminal) in a subprocess.
 *
 * Why a subprocess and not a plotting library: gnuplot is packaged
 * everywhere, its SVG is small and deterministic, and a missing or broken
 * gnuplot must only cost the charts, never the report.  So:
 * - the script, with the data inline as datablocks ($d << EOD), goes to
 *   a temporary file that gnuplot reads (its stdin is /dev/null), and the
 *   SVG comes back on its stdout.  Not stdin: a gnuplot that dies early
 *   would leave us writing into a closed pipe (SIGPIPE kills the caller);
 *   a file cannot;
 * - gnuplot runs with -d (no ~/.gnuplot or system init file) and LC_ALL=C
 *   (the numbers we write use '.' whatever the caller's locale), so the
 *   output depends only on the input and on gnuplot's version;
 * - the child is watched from a private GMainContext with a time limit;
 *   past it the child is killed and the chart reported as skipped.
 *
 * Labels go into gnuplot single-quoted strings (no backslash escapes; a
 * quote is doubled) with enhanced text off, so '^', '_', '@', '{' in a
 * class name print as themselves; gnuplot escapes '<' and '&' in the SVG.
 * The ids gnuplot gives its elements (gnuplot_canvas, gpPt0, ...) are
 * prefixed so that several charts can be inlined into one HTML page. */
#include "natsim/charts.h"
#include "natsim/numfmt.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <unistd.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_S 30.0

G_DEFINE_QUARK (natsim-chart-error-quark, natsim_chart_error)

/* Okabe-Ito colours: distinguishable with the common colour blindnesses
 * and in grey-scale print. */
static const char *const palette[] = {
  "#0072b2", "#e69f00", "#009e73", "#cc79a7",
  "#56b4e9", "#d55e00", "#f0e442", "#000000",
};

#define LIMIT_COLOUR "#c0392b"

/* The gnuplot program, or NULL (with the reason) when charts cannot be
 * drawn. */
static char *
find_gnuplot (GError **error)
{
  const char *no = g_getenv ("NATSIM_NO_CHARTS");
  const char *path = g_getenv ("NATSIM_GNUPLOT");
  char *found;

  if (no != NULL && *no != '\0' && strcmp (no, "0") != 0)
    {
      g_set_error_literal (error, NATSIM_CHART_ERROR,
                           NATSIM_CHART_ERROR_DISABLED,
                           "charts are disabled (NATSIM_NO_CHARTS is set)");
      return NULL;
    }
  found = g_find_program_in_path (path != NULL && *path != '\0' ? path
                                                                : "gnuplot");
  if (found == NULL)
    g_set_error_literal (error, NATSIM_CHART_ERROR,
                         NATSIM_CHART_ERROR_NO_GNUPLOT,
                         "gnuplot is not installed");
  return found;
}

/* TRUE when gnuplot can be run (and charts are not disabled). */
gboolean
natsim_charts_available (GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_autofree char *gnuplot = find_gnuplot (error);

  return gnuplot != NULL;
}

static double
chart_timeout_s (void)
{
  const char *s = g_getenv ("NATSIM_CHART_TIMEOUT");
  double t;

  if (s == NULL)
    return DEFAULT_TIMEOUT_S;
  t = g_ascii_strtod (s, NULL);
  return t > 0.0 && t <= 3600.0 ? t : DEFAULT_TIMEOUT_S;
}

typedef struct
{
  gboolean  done, timed_out;
  GBytes   *out, *err;
  GError   *error;
} RunState;

static void
on_communicated (GObject *source, GAsyncResult *res, gpointer user_data)
{
  RunState *st = user_data;

  g_subprocess_communicate_finish (G_SUBPROCESS (source), res, &st->out,
                                   &st->err, &st->error);
  st->done = TRUE;
}

static gboolean
on_timeout (gpointer user_data)
{
  RunState *st = user_data;

  st->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* The first line of gnuplot's complaint, for "gnuplot failed: ...". */
static char *
first_error_line (GBytes *err)
{
  gsize len = 0;
  const char *data = err != NULL ? g_bytes_get_data (err, &len) : NULL;
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (data == NULL || len == 0)
    return g_strdup ("no message");
  text = g_utf8_make_valid (data, (gssize) len);
  lines = g_strsplit (text, "\n", -1);
  /* gnuplot echoes the offending line, then a caret line, then
   * "line N: message": prefer the line that names the error. */
  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], "line ") != NULL && strchr (lines[i], ':') != NULL
        && strstr (lines[i], "warning:") == NULL)
      return g_strdup (g_strstrip (lines[i]));
  for (guint i = 0; lines[i] != NULL; i++)
    if (*g_strstrip (lines[i]) != '\0')
      return g_strdup (lines[i]);
  return g_strdup ("no message");
}

/* Runs gnuplot on @script and returns what it wrote on stdout. */
static char *
run_gnuplot (const char *script, GError **error)
{
  g_autofree char *gnuplot = find_gnuplot (error);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GCancellable) cancel = NULL;
  g_autofree char *script_path = NULL;
  g_autoptr (GMainContext) ctx = NULL;
  g_autoptr (GError) local = NULL;
  GSource *timer;
  RunState st = { 0 };
  const char *argv[4];
  char *out = NULL;
  double limit_s = chart_timeout_s ();
  int fd;

  if (gnuplot == NULL)
    return NULL;

  fd = g_file_open_tmp ("natsim-chart-XXXXXX.gp", &script_path, &local);
  if (fd < 0)
    {
      g_set_error (error, NATSIM_CHART_ERROR, NATSIM_CHART_ERROR_FAILED,
                   "no temporary file for gnuplot: %s", local->message);
      return NULL;
    }
  close (fd);
  if (!g_file_set_contents (script_path, script, -1, &local))
    {
      g_set_error (error, NATSIM_CHART_ERROR, NATSIM_CHART_ERROR_FAILED,
                   "no temporary file for gnuplot: %s", local->message);
      g_unlink (script_path);
      return NULL;
    }

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C", TRUE);
  argv[0] = gnuplot;
  argv[1] = "-d"; /* no init files: the output depends on the input only */
  argv[2] = script_path;
  argv[3] = NULL;
  proc = g_subprocess_launcher_spawnv (launcher, argv, &local);
  if (proc == NULL)
    {
      g_set_error (error, NATSIM_CHART_ERROR, NATSIM_CHART_ERROR_FAILED,
                   "gnuplot could not be started: %s", local->message);
      g_unlink (script_path);
      return NULL;
    }

  /* The child is watched from a context of our own, so that a caller's
   * main loop (or none) does not matter and no callback runs elsewhere. */
  ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  cancel = g_cancellable_new ();
  g_subprocess_communicate_async (proc, NULL, cancel, on_communicated, &st);
  timer = g_timeout_source_new ((guint) (limit_s * 1000.0));
  g_source_set_callback (timer, on_timeout, &st, NULL);
  g_source_attach (timer, ctx);
  while (!st.done)
    {
      g_main_context_iteration (ctx, TRUE);
      if (st.timed_out && !g_cancellable_is_cancelled (cancel))
        {
          g_subprocess_force_exit (proc);
          g_cancellable_cancel (cancel);
        }
    }
  g_source_destroy (timer);
  g_source_unref (timer);
  if (!st.timed_out)
    {
      /* The pipes are closed; the exit status follows at once. */
      g_subprocess_wait (proc, NULL, NULL);
    }
  g_main_context_pop_thread_default (ctx);
  g_unlink (script_path);

  if (st.timed_out)
    g_set_error (error, NATSIM_CHART_ERROR, NATSIM_CHART_ERROR_FAILED,
                 "gnuplot did not finish within %g s and was stopped",
                 limit_s);
  else if (st.error != NULL)
    g_set_error (error, NATSIM_CHART_ERROR, NATSIM_CHART_ERROR_FAILED,
                 "gnuplot failed: %s", st.error->message);
  else if (!g_subprocess_get_if_exited (proc)
           || g_subprocess_get_exit_status (proc) != 0)
    {
      g_autofree char *why = first_error_line (st.err);

      g_set_error (error, NATSIM_CHART_ERROR, NATSIM_CHART_ERROR_FAILED,
                   "gnuplot failed: %s", why);
    }
  else
    {
      gsize len = 0;
      const char *data = g_bytes_get_data (st.out, &len);

      out = g_strndup (data != NULL ? data : "", len);
    }
  g_clear_error (&st.error);
  g_clear_pointer (&st.out, g_bytes_unref);
  g_clear_pointer (&st.err, g_bytes_unref);
  return out;
}

/* ---- script building ---- */

/* @s as a gnuplot single-quoted string: valid UTF-8, control characters
 * as spaces, quotes doubled. */
static void
append_quoted (GString *out, const char *s)
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
static void
append_number (GString *out, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (v))
    g_string_append (out, "NaN");
  else
    g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.12g",
                                           v + 0.0));
}

/* A tic label: gnuplot reads it as a format, so '%' is doubled. */
static void
append_tic_label (GString *out, const char *label)
{
  g_autoptr (GString) escaped = g_string_new (NULL);

  for (const char *p = label; *p != '\0'; p++)
    {
      if (*p == '%')
        g_string_append_c (escaped, '%');
      g_string_append_c (escaped, *p);
    }
  append_quoted (out, escaped->str);
}

/* A tic or value label: natsim's formatter, never an exponent. */
static const char *
label_number (char *buf, double v)
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
static double
time_step (double span)
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
static guint
append_tics_step (GString *gp, const char *axis, double lo, double hi, double scale,
                  const char *suffix, gboolean integers, double step);

static guint
append_tics (GString *gp, const char *axis, double lo, double hi, double scale,
             const char *suffix, gboolean integers)
{
  if (!(hi > lo) || !isfinite (lo) || !isfinite (hi))
    return 1;
  return append_tics_step (gp, axis, lo, hi, scale, suffix, integers, nice_step (hi - lo, 6));
}

static guint
append_tics_step (GString *gp, const char *axis, double lo, double hi, double scale,
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
      g_autofree char *label = g_strconcat (label_number (buf, fabs (v) < step * 1e-9 ? 0.0 : v * scale),
                                            suffix, NULL);

      g_string_append (gp, k > 0 ? ", " : "");
      append_tic_label (gp, label);
      g_string_append_c (gp, ' ');
      append_number (gp, v);
      width = MAX (width, (guint) g_utf8_strlen (label, -1));
    }
  g_string_append (gp, ")\n");
  return width;
}

/* Tics of the right axis: positions in y units over [@lo, @hi], labels
 * the share of @of in percent at nice percentages. */
static guint
append_share_tics (GString *gp, double lo, double hi, double of)
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
      g_autofree char *label = g_strconcat (label_number (buf, fabs (v) < step * 1e-9 ? 0.0 : v),
                                            " %", NULL);

      g_string_append (gp, k > 0 ? ", " : "");
      append_tic_label (gp, label);
      g_string_append_c (gp, ' ');
      append_number (gp, v * of / 100.0);
      width = MAX (width, (guint) g_utf8_strlen (label, -1));
    }
  g_string_append (gp, ")\n");
  return width;
}

/* Decade tics of a logarithmic axis over [@lo, @hi] (both above 0),
 * with 2 and 5 in between when the range spans less than two decades
 * (one label alone says nothing). */
static void
append_log_tics (GString *gp, const char *axis, double lo, double hi)
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
        append_tic_label (gp, label_number (buf, v));
        g_string_append_c (gp, ' ');
        append_number (gp, v);
      }
  g_string_append (gp, ")\n");
}

/* Left (and right) margins wide enough for tic labels of @width
 * characters and the axis label beside them. */
static void
append_margins (GString *gp, guint left_width, guint right_width)
{
  g_string_append_printf (gp, "set lmargin %u\nset rmargin %u\n", MAX (10u, left_width + 5u),
                          right_width > 0 ? right_width + 6u : 4u);
}

static void
append_setting (GString *out, const char *what, const char *text)
{
  if (text == NULL || *text == '\0')
    return;
  g_string_append_printf (out, "set %s ", what);
  append_quoted (out, text);
  g_string_append_c (out, '\n');
}

static void
append_preamble (GString *out, const char *title, const char *x_label,
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
  append_setting (out, "title", title);
  append_setting (out, "xlabel", x_label);
  append_setting (out, "ylabel", y_label);
}

/* ---- SVG post-processing ---- */

/* Replaces every occurrence of @from in @s by @to. */
static void
replace_all (GString *s, const char *from, const char *to)
{
  gsize from_len = strlen (from), to_len = strlen (to);
  gsize pos = 0;

  for (;;)
    {
      char *hit = strstr (s->str + pos, from);

      if (hit == NULL)
        break;
      pos = (gsize) (hit - s->str);
      g_string_erase (s, (gssize) pos, (gssize) from_len);
      g_string_insert (s, (gssize) pos, to);
      pos += to_len;
    }
}

/* The ids declared in @svg (id='x' or id="x"), each once. */
static GPtrArray *
collect_ids (const char *svg)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (const char *p = strstr (svg, " id="); p != NULL;
       p = strstr (p + 1, " id="))
    {
      char quote = p[4];
      const char *start = p + 5, *end;
      char *id;

      if (quote != '\'' && quote != '"')
        continue;
      end = strchr (start, quote);
      if (end == NULL)
        break;
      id = g_strndup (start, (gsize) (end - start));
      if (g_hash_table_contains (seen, id))
        {
          g_free (id);
          continue;
        }
      g_ptr_array_add (ids, id);
      g_hash_table_add (seen, id);
    }
  return ids;
}

/* gnuplot's SVG made ready to inline: from "<svg" on (no XML prolog),
 * ids and references to them prefixed with @prefix, the document title
 * set to @title, and an accessible name. */
static char *
finish_svg (char *raw, const char *prefix, const char *title,
            GError **error)
{
  g_autofree char *owned = raw;
  const char *start = raw != NULL ? strstr (raw, "<svg") : NULL;
  const char *end = raw != NULL ? g_strrstr (raw, "</svg>") : NULL;
  g_autoptr (GString) svg = NULL;
  g_autoptr (GPtrArray) ids = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *title_el = NULL;

  if (raw == NULL)
    return NULL; /* run_gnuplot() has set @error */
  if (start == NULL || end == NULL || end < start)
    {
      g_set_error_literal (error, NATSIM_CHART_ERROR,
                           NATSIM_CHART_ERROR_FAILED,
                           "gnuplot wrote no SVG document");
      return NULL;
    }
  svg = g_string_new_len (start, (gssize) (end - start) + 6);
  g_string_append_c (svg, '\n');

  ids = collect_ids (svg->str);
  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = g_ptr_array_index (ids, i);
      /* The declaration (id='x' or id="x") and the references to it
       * (href='#x', url(#x)), each followed by its closing character. */
      static const char *const forms[][2] = {
        { " id='", "'" }, { " id=\"", "\"" },
        { "#", "'" }, { "#", "\"" }, { "#", ")" },
      };

      for (gsize k = 0; k < G_N_ELEMENTS (forms); k++)
        {
          g_autofree char *from = g_strconcat (forms[k][0], id, forms[k][1],
                                               NULL);
          g_autofree char *to = g_strconcat (forms[k][0], prefix, "-", id,
                                             forms[k][1], NULL);

          replace_all (svg, from, to);
        }
    }

  escaped = g_markup_escape_text (title != NULL ? title : "chart", -1);
  title_el = g_strdup_printf ("<title>%s</title>", escaped);
  replace_all (svg, "<title>Gnuplot</title>", title_el);
  {
    g_autofree char *attrs
      = g_strdup_printf ("<svg role=\"img\" aria-label=\"%s\" class=\"chart\"",
                         escaped);

    g_string_erase (svg, 0, 4);
    g_string_prepend (svg, attrs);
  }
  return g_string_free (g_steal_pointer (&svg), FALSE);
}

static gboolean
check_prefix (const char *prefix, GError **error)
{
  gboolean ok = prefix != NULL && *prefix != '\0';

  for (const char *p = prefix; ok && *p != '\0'; p++)
    ok = g_ascii_isalnum (*p) || *p == '-' || *p == '_';
  if (!ok)
    g_set_error (error, NATSIM_CHART_ERROR, NATSIM_CHART_ERROR_INVALID,
                 "chart id prefix '%s' must be letters, digits, '-' or '_'",
                 prefix != NULL ? prefix : "(null)");
  return ok;
}

static gboolean
check_series (const NatsimChartSeries *series, guint n_series, guint n,
              GError **error)
{
  if (n == 0 || series == NULL || n_series == 0)
    {
      g_set_error_literal (error, NATSIM_CHART_ERROR,
                           NATSIM_CHART_ERROR_INVALID,
                           "a chart needs at least one point and one series");
      return FALSE;
    }
  for (guint s = 0; s < n_series; s++)
    if (series[s].y == NULL)
      {
        g_set_error (error, NATSIM_CHART_ERROR, NATSIM_CHART_ERROR_INVALID,
                     "series %u has no values", s);
        return FALSE;
      }
  return TRUE;
}

/* The largest finite value of the series (0 when none). */
static double
series_max (const NatsimChartSeries *series, guint n_series, guint n)
{
  double m = 0.0;

  for (guint s = 0; s < n_series; s++)
    for (guint i = 0; i < n; i++)
      if (isfinite (series[s].y[i]) && series[s].y[i] > m)
        m = series[s].y[i];
  return m;
}

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
  if (!check_prefix (id_prefix, error)
      || !check_series (c->series, c->n_series, c->n_x, error))
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
    append_preamble (gp, title, c->x_label, c->y_label);
  }
  g_string_append (gp, "$d << EOD\n");
  for (guint i = 0; i < c->n_x; i++)
    {
      append_number (gp, c->x[i]);
      for (guint s = 0; s < c->n_series; s++)
        {
          g_string_append_c (gp, ' ');
          append_number (gp, c->series[s].y[i]);
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
  append_number (gp, x_lo);
  g_string_append_c (gp, ':');
  append_number (gp, x_hi);
  g_string_append (gp, "]\n");
  if (c->x_log)
    {
      g_string_append (gp, "set logscale x 10\n");
      append_log_tics (gp, "x", x_lo, x_hi);
    }
  else if (c->x_time && x_hi - x_lo >= 6.0)
    append_tics_step (gp, "x", x_lo, x_hi, 1.0, "", FALSE, time_step (x_hi - x_lo));
  else
    append_tics (gp, "x", x_lo, x_hi, 1.0, "", FALSE);

  /* The y axis scaled to the data; a limit far above it (a pool of
   * 64,512 ports against 414 in use) is not drawn, the share axis says
   * how far away it is. */
  top = series_max (c->series, c->n_series, c->n_x);
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
    append_number (gp, y_lo);
    g_string_append_c (gp, ':');
    append_number (gp, y_hi);
    g_string_append (gp, "]\n");
    left = append_tics (gp, "y", y_lo, y_hi, 1.0, "", integers && y_hi - y_lo >= 2.0);
    if (c->y2_share_of > 0.0)
      {
        /* The same range as a share: y2 = y / share_of, tics in %. */
        g_string_append (gp, "set ytics nomirror\nset y2range [");
        append_number (gp, y_lo);
        g_string_append_c (gp, ':');
        append_number (gp, y_hi);
        g_string_append (gp, "]\n");
        right = append_share_tics (gp, y_lo, y_hi, c->y2_share_of);
        append_setting (gp, "y2label", c->y2_label);
      }
    append_margins (gp, left, right);
  }
  if (c->shade_label != NULL && isfinite (c->shade_to) && c->shade_to > x_lo)
    {
      double to = MIN (c->shade_to, x_hi);

      g_string_append (gp, "set object 1 rect from first ");
      append_number (gp, x_lo);
      g_string_append (gp, ", graph 0 to first ");
      append_number (gp, to);
      g_string_append (gp, ", graph 1 behind fc rgb '#e8e8e8' fs solid 1.0 noborder\n"
                           "set label 1 ");
      append_quoted (gp, c->shade_label);
      g_string_append (gp, " at first ");
      append_number (gp, (x_lo + to) / 2.0);
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
      append_number (gp, c->marker_x);
      g_string_append (gp, ", graph 0 to ");
      append_number (gp, c->marker_x);
      g_string_append (gp, ", graph 1 nohead dt 2 lw 2 lc rgb '" LIMIT_COLOUR "' front\n");
    }
  g_string_append (gp, "plot ");
  for (guint s = 0; s < c->n_series; s++)
    {
      g_string_append_printf (gp, "%s$d using 1:%u with %s lc rgb '%s' title ",
                              s > 0 ? ", " : "", s + 2, with,
                              palette[s % G_N_ELEMENTS (palette)]);
      append_quoted (gp, c->series[s].name);
    }
  if (limit)
    {
      /* The limit as a plotted constant, so that it has a key entry. */
      g_string_append (gp, ", ");
      append_number (gp, c->limit);
      g_string_append (gp, " with lines dt 2 lw 2 lc rgb '" LIMIT_COLOUR
                           "' title ");
      append_quoted (gp, c->limit_label);
    }
  if (marker)
    {
      g_string_append (gp, ", NaN with lines dt 2 lw 2 lc rgb '" LIMIT_COLOUR
                           "' title ");
      append_quoted (gp, c->marker_label);
    }
  g_string_append (gp, "\n");

  return finish_svg (run_gnuplot (gp->str, error), id_prefix, c->title,
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
  if (!check_prefix (id_prefix, error)
      || !check_series (c->series, c->n_series, c->n_categories, error))
    return NULL;
  if (c->categories == NULL)
    {
      g_set_error_literal (error, NATSIM_CHART_ERROR,
                           NATSIM_CHART_ERROR_INVALID,
                           "a bar chart needs category names");
      return NULL;
    }

  gp = g_string_new (NULL);
  append_preamble (gp, c->title, c->x_label, c->y_label);
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
          append_number (gp, c->series[s].y[i]);
          g_string_append_printf (gp, " \"%s\"",
                                  isfinite (c->series[s].y[i]) ? label_number (buf, c->series[s].y[i])
                                                               : "");
        }
      g_string_append_c (gp, '\n');
    }
  g_string_append (gp, "EOD\n");

  width = 0.8 / c->n_series;
  top = series_max (c->series, c->n_series, c->n_categories);
  many = c->n_categories > 6;
  g_string_append_printf (gp, "set xrange [-0.6:%u.6]\n",
                          c->n_categories - 1);
  {
    double y_hi = top > 0.0 ? top * 1.15 : 1.0;
    guint left;

    g_string_append (gp, "set yrange [0:");
    append_number (gp, y_hi);
    g_string_append (gp, "]\n");
    left = append_tics (gp, "y", 0.0, y_hi, 1.0, "", y_hi >= 2.0);
    /* Rotated category names reach right of their bar. */
    append_margins (gp, left, many ? 6 : 0);
  }
  g_string_append (gp, "set grid noxtics ytics\n"
                       "set style fill solid 0.85 noborder\n");
  g_string_append (gp, "set boxwidth ");
  append_number (gp, width * 0.95);
  g_string_append (gp, " absolute\nset xtics (");
  for (guint i = 0; i < c->n_categories; i++)
    {
      g_string_append (gp, i > 0 ? ", " : "");
      append_quoted (gp, c->categories[i]);
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
      append_quoted (gp, c->series[s].name);
      /* The value above each bar. */
      g_string_append_printf (gp,
                              ", $d using ($1+(%s)):%u:%u with labels offset 0,0.8 notitle",
                              buf, 2 * s + 2, 2 * s + 3);
    }
  g_string_append (gp, "\n");

  return finish_svg (run_gnuplot (gp->str, error), id_prefix, c->title,
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
  if (!check_prefix (id_prefix, error))
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

    append_preamble (gp, title, m->x_label, m->y_label);
  }
  /* One cell per grid point: column, row, value and its label. */
  g_string_append (gp, "$d << EOD\n");
  for (guint j = 0; j < m->n_y; j++)
    for (guint i = 0; i < m->n_x; i++)
      {
        char buf[NATSIM_NUM_BUF];
        double z = m->z[(gsize) j * m->n_x + i];

        g_string_append_printf (gp, "%u %u ", i, j);
        append_number (gp, z);
        g_string_append_printf (gp, " \"%s\"\n", isfinite (z) ? label_number (buf, z) : "");
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
      append_number (gp, z_lo);
      g_string_append_c (gp, ':');
      append_number (gp, z_hi);
      g_string_append (gp, "]\n");
      append_setting (gp, "cblabel", m->z_label);
      {
        g_autoptr (GString) cb = g_string_new (NULL);

        right = append_tics (cb, "cb", z_lo, z_hi, 1.0, "", FALSE);
        g_string_append (gp, cb->str);
      }
    }
  g_string_append (gp, "set xtics (");
  for (guint i = 0; i < m->n_x; i++)
    {
      char buf[NATSIM_NUM_BUF];

      g_string_append (gp, i > 0 ? ", " : "");
      append_tic_label (gp, label_number (buf, m->x[i]));
      g_string_append_printf (gp, " %u", i);
    }
  g_string_append (gp, ")\nset ytics (");
  for (guint j = 0; j < m->n_y; j++)
    {
      char buf[NATSIM_NUM_BUF];

      g_string_append (gp, j > 0 ? ", " : "");
      append_tic_label (gp, label_number (buf, m->y[j]));
      g_string_append_printf (gp, " %u", j);
      left = MAX (left, (guint) strlen (buf));
    }
  g_string_append (gp, ")\n");
  append_margins (gp, left, constant ? 0 : right + 8);
  /* Discrete cells as filled rectangles (vector shapes: no image
   * smoothing can blend neighbouring points), white gaps between. */
  g_string_append_printf (gp, "plot $d using 1:2:(0.5):(0.5):%s with boxxyerror "
                              "fs solid 1.0 border lc rgb '#ffffff' fc %s",
                          constant ? "(0.35)" : "3", constant ? "palette" : "palette");
  if (m->show_values)
    g_string_append (gp, ", $d using 1:2:4 with labels boxed");
  g_string_append (gp, "\n");

  return finish_svg (run_gnuplot (gp->str, error), id_prefix, m->title,
                     error);
}
