/* natsim: report.pdf, report.html printed on A4 by headless Chromium.
 *
 * The page's print stylesheet (style.c) does the layout: A4, tables as
 * wide as the page with wrapping cells, rows and charts kept whole.  The
 * HTML goes to a private temporary directory, Chromium prints it there
 * (its profile too, so nothing of the user's browser is touched or
 * needed), and the PDF is then written like every report: atomically.
 * Chromium is optional, like gnuplot: without it (or when it fails or
 * takes longer than the time limit) report.pdf is skipped and the reason
 * given in a sentence.
 *
 * Environment: NATSIM_CHROMIUM names the browser (default: the first of
 * chromium, chromium-browser, google-chrome in PATH); NATSIM_PDF_TIMEOUT
 * the time limit in seconds (default 120). */
#include "report-private.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "natsim/error.h"

#define PDF_TIMEOUT_S 120.0

char *
report_pdf_browser (char **ret_why)
{
  static const char *const names[] = { "chromium", "chromium-browser", "google-chrome" };
  const char *env = g_getenv ("NATSIM_CHROMIUM");

  if (env != NULL && *env != '\0')
    {
      char *found = g_find_program_in_path (env);

      if (found == NULL && ret_why != NULL)
        *ret_why = g_strdup_printf ("%s (NATSIM_CHROMIUM) is not installed", env);
      return found;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      char *found = g_find_program_in_path (names[i]);

      if (found != NULL)
        return found;
    }
  if (ret_why != NULL)
    *ret_why = g_strdup ("Chromium is not installed");
  return NULL;
}

char *
natsim_report_pdf_unavailable (void)
{
  char *why = NULL;
  g_autofree char *browser = report_pdf_browser (&why);

  return why;
}

typedef struct
{
  gboolean done;
  gboolean timed_out;
} WaitState;

static void
on_exited (GObject *source, GAsyncResult *res, gpointer data)
{
  WaitState *st = data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), res, NULL);
  st->done = TRUE;
}

static gboolean
on_timeout (gpointer data)
{
  WaitState *st = data;

  st->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

static double
pdf_timeout_s (void)
{
  const char *v = g_getenv ("NATSIM_PDF_TIMEOUT");
  double s = v != NULL ? g_ascii_strtod (v, NULL) : 0.0;

  return s > 0.0 && s < 86400.0 ? s : PDF_TIMEOUT_S;
}

/* Runs @argv and waits for it, at most the time limit; FALSE with the
 * reason in *@ret_why when it could not run, failed or was stopped. */
static gboolean
run_browser (const char *const *argv, char **ret_why)
{
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GMainContext) ctx = NULL;
  g_autoptr (GError) local = NULL;
  WaitState st = { 0 };
  GSource *timer;
  double limit_s = pdf_timeout_s ();
  char secs[NATSIM_NUM_BUF];

  proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                    | G_SUBPROCESS_FLAGS_STDERR_SILENCE
                                    | G_SUBPROCESS_FLAGS_STDIN_INHERIT, &local);
  if (proc == NULL)
    {
      *ret_why = g_strdup_printf ("%s could not be started: %s", argv[0], local->message);
      return FALSE;
    }
  ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  g_subprocess_wait_async (proc, NULL, on_exited, &st);
  timer = g_timeout_source_new ((guint) (limit_s * 1000.0));
  g_source_set_callback (timer, on_timeout, &st, NULL);
  g_source_attach (timer, ctx);
  while (!st.done && !st.timed_out)
    g_main_context_iteration (ctx, TRUE);
  if (!st.done)
    {
      g_subprocess_force_exit (proc);
      while (!st.done)
        g_main_context_iteration (ctx, TRUE);
    }
  g_source_destroy (timer);
  g_source_unref (timer);
  g_main_context_pop_thread_default (ctx);
  if (st.timed_out)
    {
      *ret_why = g_strdup_printf ("%s did not finish within %s s and was stopped", argv[0],
                                  natsim_fmt_num (secs, limit_s));
      return FALSE;
    }
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    {
      *ret_why = g_strdup_printf ("%s failed", argv[0]);
      return FALSE;
    }
  return TRUE;
}

/* Removes @dir and the files directly inside it. */
static void
remove_tree (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        remove_tree (path);
      else
        g_unlink (path);
    }
  g_rmdir (dir);
}

GBytes *
report_html_to_pdf (const char *html, char **ret_why)
{
  g_autofree char *browser = report_pdf_browser (ret_why);
  g_autoptr (GError) local = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *page = NULL;
  g_autofree char *pdf = NULL;
  g_autofree char *profile = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *print_arg = NULL;
  g_autofree char *profile_arg = NULL;
  char *data = NULL;
  gsize len = 0;
  GBytes *out = NULL;

  if (browser == NULL)
    return NULL;
  tmp = g_dir_make_tmp ("natsim-pdf-XXXXXX", &local);
  if (tmp == NULL)
    {
      *ret_why = g_strdup_printf ("no temporary directory: %s", local->message);
      return NULL;
    }
  page = g_build_filename (tmp, "report.html", NULL);
  pdf = g_build_filename (tmp, "report.pdf", NULL);
  profile = g_build_filename (tmp, "profile", NULL);
  if (!g_file_set_contents (page, html, -1, &local))
    {
      *ret_why = g_strdup_printf ("no temporary file: %s", local->message);
      remove_tree (tmp);
      return NULL;
    }
  uri = g_filename_to_uri (page, NULL, NULL);
  print_arg = g_strconcat ("--print-to-pdf=", pdf, NULL);
  profile_arg = g_strconcat ("--user-data-dir=", profile, NULL);
  {
    /* --no-sandbox: the page is our own local file, and the sandbox
     * cannot start as root (CI, containers).  Both header/footer flags:
     * the name changed between Chromium versions; the other is ignored. */
    const char *argv[] = { browser, "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-extensions", "--no-first-run",
                           "--no-pdf-header-footer", "--print-to-pdf-no-header",
                           profile_arg, print_arg, uri, NULL };

    if (run_browser (argv, ret_why) && g_file_get_contents (pdf, &data, &len, &local))
      {
        if (len > 4 && memcmp (data, "%PDF", 4) == 0)
          out = g_bytes_new_take (g_steal_pointer (&data), len);
        else
          *ret_why = g_strdup_printf ("%s wrote no PDF", browser);
      }
    else if (*ret_why == NULL)
      *ret_why = g_strdup_printf ("%s wrote no PDF", browser);
  }
  g_free (data);
  remove_tree (tmp);
  return out;
}
