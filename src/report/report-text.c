/* natsim: the human summary (stdout, and report.txt).
 *
 * Every number goes through the one formatter (natsim/numfmt.h), so the
 * text is the same in every locale: no decimal comma, ',' between
 * thousands, at most three significant digits, never an exponent. */
#include "report-private.h"

#include <math.h>
#include <string.h>

#define LABEL_WIDTH 26
#define NUM_BUF REPORT_NUM_BUF

/* Characters of @s on a terminal (bytes when it is not UTF-8). */
static guint
display_width (const char *s)
{
  return g_utf8_validate (s, -1, NULL) ? (guint) g_utf8_strlen (s, -1)
                                       : (guint) strlen (s);
}

/* Appends @s padded with spaces to @width characters, on the left when
 * @right_align. */
static void
append_padded (GString *out, const char *s, guint width, gboolean right_align)
{
  guint len = display_width (s);
  guint pad = len < width ? width - len : 0;

  if (!right_align)
    g_string_append (out, s);
  for (guint i = 0; i < pad; i++)
    g_string_append_c (out, ' ');
  if (right_align)
    g_string_append (out, s);
}

/* Appends @s, indenting the lines after the first by @indent spaces so
 * that a multi-line message stays under its heading. */
static void
append_indented (GString *out, const char *s, guint indent)
{
  for (const char *p = s; *p != '\0'; p++)
    {
      g_string_append_c (out, *p);
      if (*p == '\n')
        for (guint i = 0; i < indent; i++)
          g_string_append_c (out, ' ');
    }
}


static void
append_heading (GString *out, const NatsimReport *r)
{
  char buf[NUM_BUF];
  guint reps = r->summary != NULL ? r->summary->replications : 0;

  g_string_append_printf (out, "natsim %s\n", r->command);
  if (r->scenario != NULL)
    g_string_append_printf (out, "  scenario      %s\n", r->scenario);
  if (r->traces != NULL && r->traces->len > 0)
    {
      g_string_append (out, "  traces        ");
      for (guint i = 0; i < r->traces->len; i++)
        g_string_append_printf (out, "%s%s", i > 0 ? ", " : "",
                                (const char *) g_ptr_array_index (r->traces,
                                                                  i));
      g_string_append_c (out, '\n');
    }
  g_snprintf (buf, sizeof buf, "%" G_GUINT64_FORMAT, r->seed);
  g_string_append_printf (out, "  seed          %s\n", buf);
  if (reps > 1)
    g_string_append_printf (out, "  replications  %u (means, ± 95 %% "
                                 "confidence half-width)\n", reps);
  else
    g_string_append_printf (out, "  replications  %u\n", reps);
}

static void
append_totals (GString *out, const NatsimSummary *sum)
{
  gboolean ci = sum->replications > 1;

  g_string_append (out, "\nTotals\n");
  for (guint s = 0; s < NATSIM_STAT_N; s++)
    {
      char v[NUM_BUF], h[NUM_BUF], p[NUM_BUF];

      /* Blocking is shown beside the failures it is the share of; the
       * per-kind figures get a table of their own. */
      if (s == NATSIM_STAT_BLOCKING_PROBABILITY || report_stat_is_by_kind (s)
          || report_stat_hidden (sum, s))
        continue;
      g_string_append (out, "  ");
      /* A figure added to NatsimStat without a label shows its key. */
      append_padded (out, report_stat_label (s), LABEL_WIDTH,
                     FALSE);
      g_string_append (out, report_fmt_num (v, sum->totals.v[s]));
      if (ci)
        g_string_append_printf (out, " ± %s", report_fmt_num (h, sum->ci95.v[s]));
      if (s == NATSIM_STAT_ALLOCATION_FAILURES)
        g_string_append_printf (
          out, " (blocking %s %%)",
          report_fmt_percent (p, sum->totals.v[NATSIM_STAT_BLOCKING_PROBABILITY]));
      g_string_append_c (out, '\n');
    }
}

/* The columns of the per-class table. */
static const struct
{
  const char *title;
  NatsimStat  stat;
} class_columns[] = {
  { "flows", NATSIM_STAT_FLOWS },
  { "failures", NATSIM_STAT_ALLOCATION_FAILURES },
  { "blocking", NATSIM_STAT_BLOCKING_PROBABILITY },
  { "losses", NATSIM_STAT_BINDING_LOSSES },
  { "filtered", NATSIM_STAT_FILTERED },
  { "rebindings", NATSIM_STAT_REBINDINGS },
  { "unreachable s", NATSIM_STAT_UNREACHABLE_SECONDS },
};

#define COLUMN_WIDTH 14

/* Room for the title and two spaces before it. */
static guint
column_width (const char *title)
{
  return MAX ((guint) strlen (title) + 2, 10u);
}

static void
append_classes (GString *out, const NatsimSummary *sum)
{
  guint name_width = 5; /* "class" */

  if (sum->classes == NULL || sum->classes->len == 0)
    return;
  for (guint i = 0; i < sum->classes->len; i++)
    {
      const NatsimClassSummary *c
        = &g_array_index (sum->classes, NatsimClassSummary, i);

      name_width = MAX (name_width, display_width (c->name));
    }

  g_string_append (out, "\nPer class\n  ");
  append_padded (out, "class", name_width, FALSE);
  for (gsize k = 0; k < G_N_ELEMENTS (class_columns); k++)
    append_padded (out, class_columns[k].title,
                   column_width (class_columns[k].title), TRUE);
  g_string_append_c (out, '\n');

  for (guint i = 0; i < sum->classes->len; i++)
    {
      const NatsimClassSummary *c
        = &g_array_index (sum->classes, NatsimClassSummary, i);

      g_string_append (out, "  ");
      append_padded (out, c->name, name_width, FALSE);
      for (gsize k = 0; k < G_N_ELEMENTS (class_columns); k++)
        {
          char buf[NUM_BUF];
          NatsimStat s = class_columns[k].stat;
          guint width = column_width (class_columns[k].title);

          if (s == NATSIM_STAT_BLOCKING_PROBABILITY)
            {
              g_autofree char *pc
                = g_strdup_printf ("%s %%", report_fmt_percent (buf, c->mean.v[s]));

              append_padded (out, pc, width, TRUE);
            }
          else
            append_padded (out, report_fmt_num (buf, c->mean.v[s]), width, TRUE);
        }
      g_string_append_c (out, '\n');
    }
}

/* Plain text wrapped at @width columns, continuation lines indented by
 * @indent spaces. */
static void
append_wrapped (GString *out, const char *text, guint indent, guint width)
{
  g_auto (GStrv) words = g_strsplit (text, " ", -1);
  guint col = indent;

  for (guint i = 0; words[i] != NULL; i++)
    {
      g_autofree char *word = g_strdup (words[i]);
      guint len;

      /* A unit stays with its number: "100 %" is not split. */
      while (words[i + 1] != NULL && words[i + 1][0] == '%')
        {
          char *joined = g_strconcat (word, " ", words[++i], NULL);

          g_free (word);
          word = joined;
        }
      len = display_width (word);
      if (*word == '\0')
        continue;
      if (col > indent && col + 1 + len > width)
        {
          g_string_append_c (out, '\n');
          for (guint k = 0; k < indent; k++)
            g_string_append_c (out, ' ');
          col = indent;
        }
      else if (col > indent)
        {
          g_string_append_c (out, ' ');
          col++;
        }
      g_string_append (out, word);
      col += len;
    }
  g_string_append_c (out, '\n');
}

/* What matters, then the findings ranked by harm, as report.md has them. */
static void
append_findings (GString *out, const NatsimReport *r)
{
  g_autoptr (GPtrArray) findings = report_findings (r);
  g_autofree char *headline = report_headline (r);

  g_string_append (out, "\nFindings\n");
  if (headline != NULL)
    {
      g_autofree char *line = g_strconcat ("What matters: ", headline, NULL);

      g_string_append (out, "  ");
      append_wrapped (out, line, 4, 78);
    }
  for (guint i = 0; i < findings->len; i++)
    {
      const ReportFinding *f = g_ptr_array_index (findings, i);
      g_autofree char *line = g_strdup_printf ("%s: %s", report_severity_label (f->severity),
                                               f->text);

      g_string_append (out, "  - ");
      append_wrapped (out, line, 4, 78);
    }
}

/* Rebindings and binding losses by flow kind (report_table_kinds). */
static void
append_kinds (GString *out, const NatsimReport *r)
{
  g_autoptr (ReportTable) t = report_table_kinds (r);

  if (t == NULL)
    return;
  g_string_append (out, "\nBy flow kind\n  ");
  append_padded (out, "flow kind", 44, FALSE);
  append_padded (out, "rebindings", 12, TRUE);
  append_padded (out, "losses", 10, TRUE);
  g_string_append_c (out, '\n');
  for (guint i = 0; i < t->rows->len; i++)
    {
      char **row = g_ptr_array_index (t->rows, i);

      g_string_append (out, "  ");
      append_padded (out, row[0], 44, FALSE);
      append_padded (out, row[1], 12, TRUE);
      append_padded (out, row[2], 10, TRUE);
      g_string_append_c (out, '\n');
    }
}

static void
append_addresses (GString *out, const NatsimSummary *sum)
{
  g_autoptr (GArray) order = NULL;
  gboolean blocks = FALSE, fallbacks = FALSE;

  if (sum->addresses == NULL || sum->addresses->len == 0)
    return;
  /* Port blocks and address fall-backs get columns when there are any. */
  for (guint i = 0; i < sum->addresses->len; i++)
    {
      const NatsimAddressSummary *a = &g_array_index (sum->addresses, NatsimAddressSummary, i);

      blocks = blocks || a->blocks > 0.0;
      fallbacks = fallbacks || a->address_fallbacks > 0.0;
    }

  /* A carrier pool has hundreds of addresses: a terminal shows the
   * busiest few and the range of the rest (report.json lists them all). */
  order = report_address_order (sum, REPORT_MAX_TEXT_ADDRESS_ROWS);
  g_string_append (out, "\nPer address\n  ");
  append_padded (out, "address", 15, FALSE);
  append_padded (out, "peak ports", COLUMN_WIDTH, TRUE);
  append_padded (out, "allocation failures", 22, TRUE);
  if (blocks)
    append_padded (out, "peak blocks", COLUMN_WIDTH, TRUE);
  if (fallbacks)
    append_padded (out, "fall-backs", COLUMN_WIDTH, TRUE);
  g_string_append_c (out, '\n');
  for (guint i = 0; i < order->len; i++)
    {
      const NatsimAddressSummary *a
        = &g_array_index (sum->addresses, NatsimAddressSummary, g_array_index (order, guint, i));
      char buf[NUM_BUF];

      g_string_append (out, "  ");
      append_padded (out, a->address, 15, FALSE);
      append_padded (out, report_fmt_num (buf, a->peak_ports), COLUMN_WIDTH, TRUE);
      append_padded (out, report_fmt_num (buf, a->allocation_failures), 22, TRUE);
      if (blocks)
        append_padded (out, report_fmt_num (buf, a->peak_blocks), COLUMN_WIDTH, TRUE);
      if (fallbacks)
        append_padded (out, report_fmt_num (buf, a->address_fallbacks), COLUMN_WIDTH, TRUE);
      g_string_append_c (out, '\n');
    }
  if (order->len < sum->addresses->len)
    {
      double lo = G_MAXDOUBLE, hi = 0.0;
      guint shown = 0;
      char a[NUM_BUF], b[NUM_BUF];

      /* The rest: every address not listed above. */
      for (guint i = 0; i < sum->addresses->len; i++)
        {
          double v = g_array_index (sum->addresses, NatsimAddressSummary, i).peak_ports;

          if (shown < order->len && g_array_index (order, guint, shown) == i)
            {
              shown++;
              continue;
            }
          lo = MIN (lo, v);
          hi = MAX (hi, v);
        }
      g_autofree char *line
        = g_strdup_printf ("(the %u busiest of %u addresses; the other %u peaked at %s to "
                           "%s ports; report.json lists them all)",
                           order->len, sum->addresses->len, sum->addresses->len - order->len,
                           report_fmt_num (a, lo), report_fmt_num (b, hi));

      g_string_append (out, "  ");
      append_wrapped (out, line, 2, 78);
    }
}

static void
append_notes (GString *out, const NatsimReport *r)
{
  if (r->warnings != NULL && r->warnings->len > 0)
    {
      g_string_append (out, "\nWarnings\n");
      for (guint i = 0; i < r->warnings->len; i++)
        {
          const NatsimWarning *w
            = &g_array_index (r->warnings, NatsimWarning, i);

          g_autofree char *message = natsim_fmt_text_plain (w->message != NULL ? w->message : "");

          g_string_append_printf (out, "  %s: ", w->id);
          append_indented (out, message, 4);
          g_string_append_c (out, '\n');
        }
    }
  if (r->recommendations != NULL && r->recommendations->len > 0)
    {
      g_string_append (out, "\nRecommendations\n");
      for (guint i = 0; i < r->recommendations->len; i++)
        {
          const NatsimRecommendation *rec
            = &g_array_index (r->recommendations, NatsimRecommendation, i);
          char buf[NUM_BUF];

          g_string_append_printf (out, "  %s = %s %s (%s)", rec->id,
                                  report_fmt_value (buf, rec->value),
                                  rec->unit != NULL ? rec->unit : "",
                                  rec->basis != NULL ? rec->basis : "");
          if (rec->reason != NULL && *rec->reason != '\0')
            {
              g_autofree char *reason = natsim_fmt_text_plain (rec->reason);

              g_string_append (out, ": ");
              append_indented (out, reason, 4);
            }
          g_string_append_c (out, '\n');
        }
    }
  if (r->verification != NULL && r->verification->summary != NULL)
    {
      g_string_append (out, "\nVerification\n  ");
      append_indented (out, r->verification->summary, 4);
      g_string_append_c (out, '\n');
    }
}

/* The summary as text, one trailing newline. */
char *
natsim_report_to_text (const NatsimReport *r)
{
  GString *out;

  g_return_val_if_fail (r != NULL, NULL);

  out = g_string_new (NULL);
  append_heading (out, r);
  append_findings (out, r);
  if (r->summary != NULL)
    {
      append_totals (out, r->summary);
      append_kinds (out, r);
      append_classes (out, r->summary);
      append_addresses (out, r->summary);
    }
  append_notes (out, r);
  return g_string_free (out, FALSE);
}

/* Prints the summary on @out (stdout for the CLI). */
void
natsim_report_write_text (const NatsimReport *r, FILE *out)
{
  g_autofree char *text = NULL;

  g_return_if_fail (r != NULL && out != NULL);

  text = natsim_report_to_text (r);
  fputs (text, out);
}
