/* natsim: report.md, the report for people as Markdown (CommonMark with
 * GitHub pipe tables).
 *
 * Order: findings first, in plain words; then the recommendations; then
 * the evidence (configuration, totals, per class, per address, warnings).
 * Text from the scenario (class names, keys, values, messages) is escaped
 * so that it cannot turn into markup or break a table. */
#include "report-private.h"

#include <string.h>

/* @s with Markdown's punctuation escaped and line breaks as spaces (inside
 * a table cell a newline would end the row). */
static void
append_md (GString *out, const char *s)
{
  g_autofree char *valid = g_utf8_make_valid (s != NULL ? s : "", -1);

  for (const char *p = valid; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '\\': case '`': case '*': case '_': case '[': case ']':
        case '<': case '>': case '|': case '#': case '!': case '&':
          g_string_append_c (out, '\\');
          g_string_append_c (out, *p);
          break;
        case '\n': case '\r': case '\t':
          g_string_append_c (out, ' ');
          break;
        default:
          if ((unsigned char) *p < 0x20)
            g_string_append_c (out, ' ');
          else
            g_string_append_c (out, *p);
          break;
        }
    }
}

/* `code`: an id or key (backticks inside are unlikely; they become '). */
static void
append_code (GString *out, const char *s)
{
  g_string_append_c (out, '`');
  for (const char *p = s; *p != '\0'; p++)
    g_string_append_c (out, *p == '`' || *p == '\n' ? '\'' : *p);
  g_string_append_c (out, '`');
}

static void
append_table (GString *out, const ReportTable *t, gboolean code_first)
{
  g_string_append_c (out, '|');
  for (guint c = 0; c < t->columns->len; c++)
    {
      g_string_append_c (out, ' ');
      append_md (out, g_ptr_array_index (t->columns, c));
      g_string_append (out, " |");
    }
  g_string_append (out, "\n|");
  for (guint c = 0; c < t->columns->len; c++)
    g_string_append (out, g_array_index (t->numeric, gboolean, c) ? "---:|"
                                                                  : "---|");
  g_string_append_c (out, '\n');
  for (guint i = 0; i < t->rows->len; i++)
    {
      char **row = g_ptr_array_index (t->rows, i);
      gboolean bold = t->total_row && i + 1 == t->rows->len;

      g_string_append_c (out, '|');
      for (guint c = 0; c < t->columns->len; c++)
        {
          g_string_append_c (out, ' ');
          if (bold && *row[c] != '\0')
            g_string_append (out, "**");
          if (c == 0 && code_first)
            append_code (out, row[c]);
          else
            append_md (out, row[c]);
          if (bold && *row[c] != '\0')
            g_string_append (out, "**");
          g_string_append (out, " |");
        }
      g_string_append_c (out, '\n');
    }
  if (t->note != NULL)
    {
      g_string_append_c (out, '\n');
      append_md (out, t->note);
      g_string_append_c (out, '\n');
    }
}

static void
append_section_table (GString *out, const char *heading, ReportTable *t,
                      gboolean code_first)
{
  g_autoptr (ReportTable) owned = t;

  if (t == NULL)
    return;
  g_string_append_printf (out, "\n%s\n\n", heading);
  append_table (out, t, code_first);
}

static void
append_title (GString *out, const NatsimReport *r)
{
  g_autofree char *traces = report_traces_list (r);
  g_autofree char *run = report_run_sentence (r);

  g_string_append (out, "# natsim ");
  append_md (out, r->command);
  if (r->scenario != NULL)
    {
      g_string_append (out, ": ");
      append_md (out, r->scenario);
    }
  g_string_append (out, "\n\n");
  if (traces != NULL)
    {
      g_string_append (out, "Traces: ");
      append_md (out, traces);
      g_string_append (out, ".  \n");
    }
  g_string_append (out, run);
  g_string_append_c (out, '\n');
}

static void
append_findings (GString *out, const NatsimReport *r)
{
  g_autoptr (GPtrArray) findings = report_findings (r);
  g_autofree char *basis = report_basis_sentence (r);
  g_autofree char *headline = report_headline (r);

  g_string_append (out, "\n## Findings\n\n");
  if (headline != NULL)
    {
      g_string_append (out, "**What matters:** ");
      append_md (out, headline);
      g_string_append (out, "\n\n");
    }
  for (guint i = 0; i < findings->len; i++)
    {
      const ReportFinding *f = g_ptr_array_index (findings, i);

      g_string_append_printf (out, "- **%s:** ", report_severity_label (f->severity));
      append_md (out, f->text);
      g_string_append_c (out, '\n');
    }
  if (*basis != '\0')
    {
      g_string_append_c (out, '\n');
      append_md (out, basis);
      g_string_append_c (out, '\n');
    }
}

static void
append_recommendations (GString *out, const NatsimReport *r)
{
  g_autoptr (ReportTable) t = report_table_recommendations (r);

  g_string_append (out, "\n## Recommendations\n\n");
  if (t == NULL)
    {
      g_string_append (out, "No recommendations in this report "
                            "(`natsim plan` computes them).\n");
      return;
    }
  append_table (out, t, TRUE);
}

static void
append_warnings (GString *out, const NatsimReport *r)
{
  g_string_append (out, "\n### Warnings\n\n");
  if (r->warnings == NULL || r->warnings->len == 0)
    {
      g_string_append (out, "The configuration passes every check.\n");
      return;
    }
  for (guint i = 0; i < r->warnings->len; i++)
    {
      const NatsimWarning *w = &g_array_index (r->warnings, NatsimWarning, i);
      g_autofree char *message = natsim_fmt_text_plain (w->message != NULL ? w->message : "");

      g_string_append (out, "- ");
      append_code (out, w->id);
      g_string_append (out, ": ");
      append_md (out, message);
      g_string_append_c (out, '\n');
    }
}

/* report.md as a string, one trailing newline. */
char *
natsim_report_to_markdown (const NatsimReport *r)
{
  GString *out;

  g_return_val_if_fail (r != NULL, NULL);

  out = g_string_new (NULL);
  append_title (out, r);
  append_findings (out, r);
  append_recommendations (out, r);

  g_string_append (out, "\n## Evidence\n\n"
                        "The charts are in report.html; every figure is in "
                        "report.json.\n");
  g_string_append (out, "\n### Configuration\n");
  append_section_table (out, "#### NAT", report_table_config (r, "nat"), TRUE);
  append_section_table (out, "#### Populations", report_table_populations (r),
                        TRUE);
  append_section_table (out, "#### Simulation",
                        report_table_config (r, "simulation"), TRUE);
  append_section_table (out, "### Totals", report_table_totals (r), FALSE);
  append_section_table (out, "### By flow kind", report_table_kinds (r), FALSE);
  append_section_table (out, "### Per class", report_table_classes (r),
                        FALSE);
  append_section_table (out, "### Per address", report_table_addresses (r),
                        FALSE);
  append_warnings (out, r);
  return g_string_free (out, FALSE);
}
