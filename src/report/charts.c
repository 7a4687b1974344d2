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
#include "charts-private.h"
#include "natsim/charts.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <unistd.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_S 30.0

G_DEFINE_QUARK (natsim-chart-error-quark, natsim_chart_error)

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
char *
chart_run_gnuplot (const char *script, GError **error)
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
char *
chart_finish_svg (char *raw, const char *prefix, const char *title,
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
    return NULL; /* chart_run_gnuplot() has set @error */
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

gboolean
chart_check_prefix (const char *prefix, GError **error)
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

gboolean
chart_check_series (const NatsimChartSeries *series, guint n_series, guint n,
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
double
chart_series_max (const NatsimChartSeries *series, guint n_series, guint n)
{
  double m = 0.0;

  for (guint s = 0; s < n_series; s++)
    for (guint i = 0; i < n; i++)
      if (isfinite (series[s].y[i]) && series[s].y[i] > m)
        m = series[s].y[i];
  return m;
}
