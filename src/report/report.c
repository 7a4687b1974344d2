/* natsim: the report object, and writing reports to a directory.
 *
 * Reports appear complete or not at all (README.md, "Commands"): every file is written
 * to a temporary file beside its target, flushed to disk, then renamed over
 * it.  All formats are rendered in memory before the first file is touched,
 * and an unknown format name is refused before anything is created. */
#include "report-private.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "natsim/error.h"

static void
warning_clear (gpointer p)
{
  NatsimWarning *w = p;

  g_clear_pointer (&w->id, g_free);
  g_clear_pointer (&w->message, g_free);
}

/* An empty report of @command: no scenario, no traces, no figures. */
NatsimReport *
natsim_report_new (const char *command)
{
  NatsimReport *r;

  g_return_val_if_fail (command != NULL, NULL);

  r = g_new0 (NatsimReport, 1);
  r->command = g_strdup (command);
  r->traces = g_ptr_array_new_with_free_func (g_free);
  r->recommendations = natsim_recommendations_new ();
  r->warnings = g_array_new (FALSE, TRUE, sizeof (NatsimWarning));
  g_array_set_clear_func (r->warnings, warning_clear);
  return r;
}

/* Frees @r and everything it owns; NULL-safe. */
void
natsim_report_free (NatsimReport *r)
{
  if (r == NULL)
    return;
  g_free (r->command);
  g_free (r->scenario);
  g_clear_pointer (&r->traces, g_ptr_array_unref);
  g_clear_pointer (&r->config, json_node_unref);
  g_clear_pointer (&r->summary, natsim_summary_free);
  g_clear_pointer (&r->recommendations, g_array_unref);
  g_clear_pointer (&r->warnings, g_array_unref);
  g_clear_pointer (&r->coverage, json_node_unref);
  g_clear_pointer (&r->verification, natsim_verification_free);
  g_free (r);
}

/* Appends a warning; @id names the rule ("rfc4787.req5"). */
void
natsim_report_add_warning (NatsimReport *r, const char *id, const char *fmt,
                           ...)
{
  NatsimWarning w;
  va_list ap;

  g_return_if_fail (r != NULL && id != NULL && fmt != NULL);

  va_start (ap, fmt);
  w.id = g_strdup (id);
  w.message = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_array_append_val (r->warnings, w);
}

/* Appends a recommendation; the reason is formatted from @fmt. */
void
natsim_report_add_recommendation (NatsimReport *r, const char *id,
                                  double value, const char *unit,
                                  const char *basis, const char *fmt, ...)
{
  NatsimRecommendation rec;
  va_list ap;

  g_return_if_fail (r != NULL && id != NULL && unit != NULL && basis != NULL
                    && fmt != NULL);

  va_start (ap, fmt);
  rec.id = g_strdup (id);
  rec.value = value;
  rec.unit = g_strdup (unit);
  rec.basis = g_strdup (basis);
  rec.reason = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_array_append_val (r->recommendations, rec);
}

/* g_file_set_contents_full() writes PATH.XXXXXX in the same directory,
 * fsyncs it (DURABLE), renames it over @path, and unlinks the temporary file
 * if any step fails, so @path holds either its old contents or the new ones.
 * Failures are reported as NATSIM_ERROR_IO naming @path. */
gboolean
natsim_write_file_atomic (const char *path, const char *contents,
                          gssize length, GError **error)
{
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (path != NULL && contents != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_file_set_contents_full (path, contents, length,
                                 G_FILE_SET_CONTENTS_CONSISTENT
                                   | G_FILE_SET_CONTENTS_DURABLE,
                                 0666, &local))
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_IO,
                   "cannot write %s: %s", path, local->message);
      return FALSE;
    }
  return TRUE;
}

typedef enum
{
  FORMAT_TEXT = 1 << 0,
  FORMAT_JSON = 1 << 1,
  FORMAT_MD = 1 << 2,
  FORMAT_HTML = 1 << 3,
  FORMAT_CSV = 1 << 4,
  FORMAT_PDF = 1 << 5,
} ReportFormat;

/* Name, bit and file, in the order the files are written. */
static const struct
{
  const char  *name;
  ReportFormat format;
  const char  *file;
} known_formats[] = {
  { "text", FORMAT_TEXT, "report.txt" },
  { "json", FORMAT_JSON, "report.json" },
  { "md", FORMAT_MD, "report.md" },
  { "html", FORMAT_HTML, "report.html" },
  { "csv", FORMAT_CSV, "report.csv" },
  { "pdf", FORMAT_PDF, "report.pdf" },
};

/* Parses "text,json" (spaces and empty items ignored; NULL or empty means
 * json) into a set of formats. */
static gboolean
parse_formats (const char *formats, unsigned *ret_set, GError **error)
{
  g_auto (GStrv) names = NULL;
  unsigned set = 0;

  if (formats == NULL)
    formats = "json";
  names = g_strsplit (formats, ",", -1);
  for (guint i = 0; names[i] != NULL; i++)
    {
      const char *name = g_strstrip (names[i]);
      gboolean found = FALSE;

      if (*name == '\0')
        continue;
      for (gsize k = 0; k < G_N_ELEMENTS (known_formats); k++)
        {
          if (g_ascii_strcasecmp (name, known_formats[k].name) == 0)
            {
              set |= known_formats[k].format;
              found = TRUE;
            }
        }
      if (!found)
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "unknown report format '%s' (known formats: text, "
                       "json, md, html, csv, pdf)",
                       name);
          return FALSE;
        }
    }
  if (set == 0)
    set = FORMAT_JSON;
  *ret_set = set;
  return TRUE;
}

/* Checks @formats without writing anything (for the CLI, before a run). */
gboolean
natsim_report_check_formats (const char *formats, GError **error)
{
  unsigned set = 0;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  return parse_formats (formats, &set, error);
}

/* Renders the report in @format. */
static char *
render (const NatsimReport *r, ReportFormat format)
{
  switch (format)
    {
    case FORMAT_TEXT:
      return natsim_report_to_text (r);
    case FORMAT_JSON:
      return natsim_report_to_json (r);
    case FORMAT_MD:
      return natsim_report_to_markdown (r);
    case FORMAT_HTML:
      return natsim_report_to_html (r, TRUE);
    case FORMAT_CSV:
      return natsim_report_to_csv (r);
    case FORMAT_PDF: /* binary: printed from the HTML by the caller */
    default:
      g_assert_not_reached ();
    }
}

/* Writes @contents[k] (NULL: not wanted) to DIR/@files[k], creating @dir
 * first; each file complete or absent. */
static gboolean
write_rendered (const char *dir, const char *const *files, char **contents,
                const gssize *lengths, gsize n, GError **error)
{
  gboolean ok = TRUE;

  if (g_mkdir_with_parents (dir, 0777) != 0)
    {
      int saved = errno;

      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_IO,
                   "cannot create directory %s: %s", dir, g_strerror (saved));
      return FALSE;
    }
  for (gsize k = 0; ok && k < n; k++)
    {
      g_autofree char *path = NULL;

      if (contents[k] == NULL)
        continue;
      path = g_build_filename (dir, files[k], NULL);
      ok = natsim_write_file_atomic (path, contents[k], lengths != NULL ? lengths[k] : -1,
                                     error);
    }
  return ok;
}

/* Creates @dir and writes the reports named by @formats into it.  Every
 * format is rendered before the directory is created, so that a failure
 * leaves nothing new behind.  (A failure while writing the second file
 * leaves the first one written: each file is complete or absent.) */
gboolean
natsim_report_write_dir (const NatsimReport *r, const char *dir,
                         const char *formats, GError **error)
{
  return natsim_report_write_dir_full (r, dir, formats, NULL, error);
}

gboolean
natsim_report_write_dir_full (const NatsimReport *r, const char *dir, const char *formats,
                              char **ret_skipped, GError **error)
{
  unsigned set = 0;
  char *contents[G_N_ELEMENTS (known_formats)] = { NULL };
  gssize lengths[G_N_ELEMENTS (known_formats)];
  const char *files[G_N_ELEMENTS (known_formats)];
  g_autoptr (GBytes) pdf = NULL;
  g_autofree char *skipped = NULL;
  gboolean ok;

  g_return_val_if_fail (r != NULL && dir != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!parse_formats (formats, &set, error))
    return FALSE;

  for (gsize k = 0; k < G_N_ELEMENTS (known_formats); k++)
    {
      files[k] = known_formats[k].file;
      lengths[k] = -1;
      if (known_formats[k].format == FORMAT_PDF)
        continue;
      if (set & known_formats[k].format)
        contents[k] = render (r, known_formats[k].format);
    }
  if (set & FORMAT_PDF)
    {
      /* report.html printed: the page as written, or rendered for it. */
      g_autofree char *html = NULL;
      const char *page = NULL;

      for (gsize k = 0; k < G_N_ELEMENTS (known_formats); k++)
        if (known_formats[k].format == FORMAT_HTML)
          page = contents[k];
      if (page == NULL)
        page = html = natsim_report_to_html (r, TRUE);
      pdf = report_html_to_pdf (page, &skipped);
      for (gsize k = 0; k < G_N_ELEMENTS (known_formats); k++)
        if (known_formats[k].format == FORMAT_PDF && pdf != NULL)
          {
            gsize len = 0;
            const char *data = g_bytes_get_data (pdf, &len);

            contents[k] = g_memdup2 (data, len);
            lengths[k] = (gssize) len;
          }
    }
  ok = write_rendered (dir, files, contents, lengths, G_N_ELEMENTS (known_formats), error);
  for (gsize k = 0; k < G_N_ELEMENTS (known_formats); k++)
    g_free (contents[k]);
  if (ok && ret_skipped != NULL)
    *ret_skipped = skipped != NULL ? g_strdup_printf ("report.pdf was skipped: %s.", skipped)
                                   : NULL;
  return ok;
}

/* sweep.csv always, then the other sweep files in the order of
 * known_formats. */
gboolean
natsim_sweep_write_dir (const NatsimSweep *sw, const char *dir, const char *formats,
                        GError **error)
{
  static const char *const files[] = { "sweep.csv", "sweep.txt", "sweep.json",
                                       "sweep.md", "sweep.html" };
  char *contents[G_N_ELEMENTS (files)] = { NULL };
  unsigned set = 0;
  gboolean ok;

  g_return_val_if_fail (sw != NULL && dir != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!parse_formats (formats, &set, error))
    return FALSE;
  contents[0] = natsim_sweep_to_csv (sw);
  if (set & FORMAT_TEXT)
    contents[1] = natsim_sweep_to_text (sw);
  if (set & FORMAT_JSON)
    contents[2] = natsim_sweep_to_json (sw);
  if (set & FORMAT_MD)
    contents[3] = natsim_sweep_to_markdown (sw);
  if (set & FORMAT_HTML)
    contents[4] = natsim_sweep_to_html (sw, TRUE);
  ok = write_rendered (dir, files, contents, NULL, G_N_ELEMENTS (files), error);
  for (gsize k = 0; k < G_N_ELEMENTS (files); k++)
    g_free (contents[k]);
  return ok;
}
