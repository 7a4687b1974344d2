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
    if (strstr (lines[i], "line ") != NULL && strchr (lines[i], ':') != NULL)
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

/* A short number for tic labels ("0.5", "1e+06"). */
static void
append_label_number (GString *out, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.6g", v + 0.0));
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
                          "samplen 2 spacing 1.1\n"
                          "set lmargin 10\nset rmargin 4\n",
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
  append_preamble (gp, c->title, c->x_label, c->y_label);
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
  if (c->x_log)
    /* Decade tics labelled plainly (0.001, 1, 1000), not with the
     * fixed decimals gnuplot would copy from the data. */
    g_string_append (gp, "set logscale x 10\nset format x \"%g\"\nset xtics 10\n");
  x_lo = c->x[0];
  x_hi = c->x[c->n_x - 1];
  if (marker)
    {
      /* The marker inside the x range, with some room on a log axis. */
      x_lo = MIN (x_lo, c->x_log ? c->marker_x / 1.5 : c->marker_x);
      x_hi = MAX (x_hi, c->x_log ? c->marker_x * 1.5 : c->marker_x);
    }
  if (marker && c->style != NATSIM_CHART_BOXES && x_lo < x_hi)
    {
      g_string_append (gp, "set xrange [");
      append_number (gp, x_lo);
      g_string_append_c (gp, ':');
      append_number (gp, x_hi);
      g_string_append (gp, "]\n");
    }
  else if (c->n_x == 1 || c->x[0] == c->x[c->n_x - 1])
    g_string_append (gp, "set autoscale x\n");
  else
    {
      g_string_append (gp, "set xrange [");
      append_number (gp, c->style == NATSIM_CHART_BOXES
                           ? c->x[0] - (c->x[1] - c->x[0]) / 2.0 : c->x[0]);
      g_string_append_c (gp, ':');
      append_number (gp, c->style == NATSIM_CHART_BOXES
                           ? c->x[c->n_x - 1]
                               + (c->x[c->n_x - 1] - c->x[c->n_x - 2]) / 2.0
                           : c->x[c->n_x - 1]);
      g_string_append (gp, "]\n");
    }
  top = series_max (c->series, c->n_series, c->n_x);
  if (limit && c->limit > top)
    top = c->limit;
  if (c->y_from_zero || c->style == NATSIM_CHART_BOXES)
    {
      g_string_append (gp, "set yrange [0:");
      /* Room above the top so the limit line is not on the border. */
      if (top > 0.0)
        append_number (gp, top * 1.08);
      else
        g_string_append (gp, "1");
      g_string_append (gp, "]\n");
    }
  if (top < 10.0 && c->y_from_zero)
    g_string_append (gp, "set ytics 1\n");
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
  g_string_append (gp, "$d << EOD\n");
  for (guint i = 0; i < c->n_categories; i++)
    {
      g_string_append_printf (gp, "%u", i);
      for (guint s = 0; s < c->n_series; s++)
        {
          g_string_append_c (gp, ' ');
          append_number (gp, c->series[s].y[i]);
        }
      g_string_append_c (gp, '\n');
    }
  g_string_append (gp, "EOD\n");

  width = 0.8 / c->n_series;
  top = series_max (c->series, c->n_series, c->n_categories);
  many = c->n_categories > 6;
  g_string_append_printf (gp, "set xrange [-0.6:%u.6]\n",
                          c->n_categories - 1);
  g_string_append (gp, "set yrange [0:");
  if (top > 0.0)
    append_number (gp, top * 1.15);
  else
    g_string_append (gp, "1");
  g_string_append (gp, "]\n");
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
                              s > 0 ? ", " : "", buf, s + 2,
                              palette[s % G_N_ELEMENTS (palette)]);
      append_quoted (gp, c->series[s].name);
      /* The value above each bar (C locale in the child: '.'). */
      g_string_append_printf (gp,
                              ", $d using ($1+(%s)):%u:(sprintf('%%.4g', "
                              "$%u)) with labels offset 0,0.8 notitle",
                              buf, s + 2, s + 2);
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

  gp = g_string_new (NULL);
  append_preamble (gp, m->title, m->x_label, m->y_label);
  g_string_append (gp, "$d << EOD\n");
  for (guint j = 0; j < m->n_y; j++)
    {
      for (guint i = 0; i < m->n_x; i++)
        {
          g_string_append_printf (gp, "%u %u ", i, j);
          append_number (gp, m->z[(gsize) j * m->n_x + i]);
          g_string_append_c (gp, '\n');
        }
      g_string_append_c (gp, '\n');
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
  append_setting (gp, "cblabel", m->z_label);
  g_string_append (gp, "set xtics (");
  for (guint i = 0; i < m->n_x; i++)
    {
      g_string_append (gp, i > 0 ? ", '" : "'");
      append_label_number (gp, m->x[i]);
      g_string_append_printf (gp, "' %u", i);
    }
  g_string_append (gp, ")\nset ytics (");
  for (guint j = 0; j < m->n_y; j++)
    {
      g_string_append (gp, j > 0 ? ", '" : "'");
      append_label_number (gp, m->y[j]);
      g_string_append_printf (gp, "' %u", j);
    }
  g_string_append (gp, ")\nplot $d using 1:2:3 with image");
  if (m->show_values)
    g_string_append (gp, ", $d using 1:2:(sprintf('%.3g', $3)) "
                         "with labels boxed");
  g_string_append (gp, "\n");

  return finish_svg (run_gnuplot (gp->str, error), id_prefix, m->title,
                     error);
}
