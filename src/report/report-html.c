/* natsim: report.html, one self-contained page: inline CSS, charts as
 * inline SVG (gnuplot, see charts.c), no script, no external resource, so
 * that it can be mailed, archived and printed as it is.
 *
 * Same order as report.md: findings, recommendations, evidence.  Every
 * text that comes from the input goes through g_markup_escape_text(); the
 * SVG comes from gnuplot, which escapes the labels it draws. */
#include "report-private.h"
#include "seqdiag.h"

#include <string.h>

static void
append_text (GString *out, const char *s)
{
  g_autofree char *valid = g_utf8_make_valid (s != NULL ? s : "", -1);
  g_autofree char *escaped = g_markup_escape_text (valid, -1);

  g_string_append (out, escaped);
}

static void
append_code (GString *out, const char *s)
{
  g_string_append (out, "<code>");
  append_text (out, s);
  g_string_append (out, "</code>");
}

static void
append_table (GString *out, const ReportTable *t, gboolean code_first)
{
  g_string_append (out, "<div class=\"table-wrap\"><table>\n<thead><tr>");
  for (guint c = 0; c < t->columns->len; c++)
    {
      g_string_append (out, g_array_index (t->numeric, gboolean, c)
                              ? "<th scope=\"col\" class=\"num\">"
                              : "<th scope=\"col\">");
      append_text (out, g_ptr_array_index (t->columns, c));
      g_string_append (out, "</th>");
    }
  g_string_append (out, "</tr></thead>\n<tbody>\n");
  for (guint i = 0; i < t->rows->len; i++)
    {
      char **row = g_ptr_array_index (t->rows, i);

      g_string_append (out, t->total_row && i + 1 == t->rows->len
                              ? "<tr class=\"total\">" : "<tr>");
      for (guint c = 0; c < t->columns->len; c++)
        {
          g_string_append (out, g_array_index (t->numeric, gboolean, c)
                                  ? "<td class=\"num\">" : "<td>");
          if (c == 0 && code_first)
            append_code (out, row[c]);
          else
            append_text (out, row[c]);
          g_string_append (out, "</td>");
        }
      g_string_append (out, "</tr>\n");
    }
  g_string_append (out, "</tbody>\n</table></div>\n");
  if (t->note != NULL)
    {
      g_string_append (out, "<p class=\"note-text\">");
      append_text (out, t->note);
      g_string_append (out, "</p>\n");
    }
}

/* A key/value table as a definition list in two columns (the NAT has
 * some twenty keys: a long narrow table wastes a page). */
static void
append_kv (GString *out, ReportTable *t)
{
  g_autoptr (ReportTable) owned = t;

  if (t == NULL)
    return;
  g_string_append (out, "<dl class=\"kv\">\n");
  for (guint i = 0; i < t->rows->len; i++)
    {
      char **row = g_ptr_array_index (t->rows, i);

      g_string_append (out, "<div><dt>");
      append_code (out, row[0]);
      g_string_append (out, "</dt><dd>");
      append_text (out, row[1]);
      g_string_append (out, "</dd></div>\n");
    }
  g_string_append (out, "</dl>\n");
}

static void
append_owned_table (GString *out, const char *heading, ReportTable *t,
                    gboolean code_first)
{
  g_autoptr (ReportTable) owned = t;

  if (t == NULL)
    return;
  g_string_append (out, heading);
  append_table (out, t, code_first);
}

/* The most populations side by side: more would not fit across A4
 * (each value may be as long as "lognormal(30m,0.5)"). */
#define POPULATIONS_PER_TABLE 4

/* The populations table in slices of POPULATIONS_PER_TABLE columns, each
 * with the key column and only the keys some population of the slice
 * has, so that every population is on screen and on paper. */
static void
append_populations (GString *out, ReportTable *t)
{
  g_autoptr (ReportTable) owned = t;
  guint n;

  if (t == NULL)
    return;
  g_string_append (out, "<h4>Populations</h4>\n");
  n = t->columns->len - 1;
  for (guint first = 0; first < n; first += POPULATIONS_PER_TABLE)
    {
      guint last = MIN (first + POPULATIONS_PER_TABLE, n);
      ReportTable slice = { 0 };

      slice.columns = g_ptr_array_new ();
      slice.numeric = g_array_new (FALSE, FALSE, sizeof (gboolean));
      slice.rows = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (slice.columns, g_ptr_array_index (t->columns, 0));
      g_array_append_val (slice.numeric, g_array_index (t->numeric, gboolean, 0));
      for (guint c = first; c < last; c++)
        {
          g_ptr_array_add (slice.columns, g_ptr_array_index (t->columns, c + 1));
          g_array_append_val (slice.numeric, g_array_index (t->numeric, gboolean, c + 1));
        }
      for (guint i = 0; i < t->rows->len; i++)
        {
          char **row = g_ptr_array_index (t->rows, i);
          char **cells = g_new0 (char *, last - first + 2);
          gboolean any = FALSE;

          cells[0] = row[0];
          for (guint c = first; c < last; c++)
            {
              cells[c - first + 1] = row[c + 1];
              any = any || *row[c + 1] != '\0';
            }
          if (any)
            g_ptr_array_add (slice.rows, cells);
          else
            g_free (cells);
        }
      append_table (out, &slice, TRUE);
      g_ptr_array_unref (slice.columns);
      g_array_unref (slice.numeric);
      g_ptr_array_unref (slice.rows);
    }
}

static void
append_chart (GString *out, GPtrArray *charts, const char *id)
{
  const ReportChart *c = report_chart_find (charts, id);

  if (c == NULL)
    return;
  if (c->svg != NULL)
    {
      g_string_append_printf (out, "<figure id=\"chart-%s\">\n", c->id);
      g_string_append (out, c->svg);
      if (c->note != NULL)
        {
          g_string_append (out, "<figcaption>");
          append_text (out, c->note);
          g_string_append (out, "</figcaption>\n");
        }
      g_string_append (out, "</figure>\n");
    }
  else if (c->note != NULL)
    {
      g_string_append (out, "<p class=\"note-text\">");
      append_text (out, c->note);
      g_string_append (out, "</p>\n");
    }
}

static const char *
severity_class (ReportSeverity s)
{
  switch (s)
    {
    case REPORT_FINDING_BAD:
      return "bad";
    case REPORT_FINDING_NOTE:
      return "note";
    case REPORT_FINDING_OK:
    default:
      return "ok";
    }
}

static void
append_head (GString *out, const NatsimReport *r)
{
  g_autoptr (GString) title = g_string_new ("natsim ");
  g_autofree char *traces = report_traces_list (r);
  g_autofree char *run = report_run_sentence (r);

  g_string_append (title, r->command);
  if (r->scenario != NULL)
    g_string_append_printf (title, ": %s", r->scenario);

  report_html_begin (out, title->str);
  g_string_append (out, "<p class=\"meta\">");
  if (traces != NULL)
    {
      g_string_append (out, "Traces: ");
      append_text (out, traces);
      g_string_append (out, ". ");
    }
  g_string_append (out, run);
  g_string_append (out, "</p>\n</header>\n");
}

static void
append_findings (GString *out, const NatsimReport *r)
{
  g_autoptr (GPtrArray) findings = report_findings (r);
  g_autofree char *basis = report_basis_sentence (r);
  g_autofree char *headline = report_headline (r);

  g_string_append (out, "\n<section id=\"findings\">\n<h2>Findings</h2>\n");
  if (headline != NULL)
    {
      g_string_append (out, "<p class=\"headline\"><strong>What matters:</strong> ");
      append_text (out, headline);
      g_string_append (out, "</p>\n");
    }
  g_string_append (out, "<ul class=\"findings\">\n");
  for (guint i = 0; i < findings->len; i++)
    {
      const ReportFinding *f = g_ptr_array_index (findings, i);

      g_string_append_printf (out, "<li class=\"%s\"><span class=\"tag\">%s"
                                   "</span> ",
                              severity_class (f->severity),
                              report_severity_label (f->severity));
      append_text (out, f->text);
      g_string_append (out, "</li>\n");
    }
  g_string_append (out, "</ul>\n");
  if (*basis != '\0')
    {
      g_string_append (out, "<p class=\"basis\">");
      append_text (out, basis);
      g_string_append (out, "</p>\n");
    }
  g_string_append (out, "</section>\n");
}

static void
append_recommendations (GString *out, const NatsimReport *r)
{
  g_autoptr (ReportTable) t = report_table_recommendations (r);

  g_string_append (out, "\n<section id=\"recommendations\">\n"
                        "<h2>Recommendations</h2>\n");
  if (t == NULL)
    g_string_append (out, "<p>No recommendations in this report "
                          "(<code>natsim plan</code> computes them).</p>\n");
  else
    append_table (out, t, TRUE);
  g_string_append (out, "</section>\n");
}

static void
append_warnings (GString *out, const NatsimReport *r)
{
  g_string_append (out, "<h3 id=\"warnings\">Warnings</h3>\n");
  if (r->warnings == NULL || r->warnings->len == 0)
    {
      g_string_append (out, "<p>The configuration passes every check.</p>\n");
      return;
    }
  g_string_append (out, "<ul class=\"warnings\">\n");
  for (guint i = 0; i < r->warnings->len; i++)
    {
      const NatsimWarning *w = &g_array_index (r->warnings, NatsimWarning, i);
      g_autofree char *message = natsim_fmt_text_plain (w->message != NULL ? w->message : "");

      g_string_append (out, "<li>");
      append_code (out, w->id);
      g_string_append (out, ": ");
      append_text (out, message);
      g_string_append (out, "</li>\n");
    }
  g_string_append (out, "</ul>\n");
}

static void
append_evidence (GString *out, const NatsimReport *r, GPtrArray *charts,
                 const char *skipped)
{
  g_string_append (out, "\n<section id=\"evidence\">\n<h2>Evidence</h2>\n");
  if (skipped != NULL)
    {
      g_string_append (out, "<p class=\"skipped\">Charts were skipped: ");
      append_text (out, skipped);
      g_string_append (out, ". The tables below hold the same figures.</p>\n");
    }

  g_string_append (out, "<h3 id=\"configuration\">Configuration</h3>\n"
                        "<h4>NAT</h4>\n");
  append_kv (out, report_table_config (r, "nat"));
  append_populations (out, report_table_populations (r));
  g_string_append (out, "<h4>Simulation</h4>\n");
  append_kv (out, report_table_config (r, "simulation"));

  append_owned_table (out, "<h3 id=\"totals\">Totals</h3>\n",
                      report_table_totals (r), FALSE);
  append_owned_table (out, "<h3 id=\"by-kind\">By flow kind</h3>\n",
                      report_table_kinds (r), FALSE);

  append_owned_table (out, "<h3 id=\"per-class\">Per class</h3>\n",
                      report_table_classes (r), FALSE);
  append_chart (out, charts, "losses");

  append_owned_table (out, "<h3 id=\"per-address\">Per address</h3>\n",
                      report_table_addresses (r), FALSE);
  append_chart (out, charts, "ports");

  if (report_chart_find (charts, "bindings") != NULL
      || report_chart_find (charts, "failures") != NULL)
    {
      g_string_append (out, "<h3 id=\"over-time\">Over time</h3>\n");
      append_chart (out, charts, "bindings");
      append_chart (out, charts, "failures");
    }
  append_warnings (out, r);
  g_string_append (out, "</section>\n");
}

/* report.html as a string. */
char *
natsim_report_to_html (const NatsimReport *r, gboolean charts)
{
  g_autoptr (GPtrArray) drawn = NULL;
  g_autofree char *skipped = NULL;
  GString *out;

  g_return_val_if_fail (r != NULL, NULL);

  if (charts)
    drawn = report_charts (r, &skipped);
  else
    skipped = g_strdup ("they were not requested");

  out = g_string_new (NULL);
  append_head (out, r);
  append_findings (out, r);
  append_recommendations (out, r);
  append_evidence (out, r, drawn, skipped);
  report_html_packets (out, r);
  g_string_append (out, "\n<footer>\n<p>Written by natsim " NATSIM_VERSION
                        ". report.json next to this page holds every figure "
                        "(schema " NATSIM_REPORT_SCHEMA "); report.md holds "
                        "this text without the charts.</p>\n</footer>\n"
                        "</main>\n</body>\n</html>\n");
  return g_string_free (out, FALSE);
}
