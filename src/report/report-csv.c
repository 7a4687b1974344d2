/* natsim: report.csv, the per-class figures for spreadsheets (RFC 4180:
 * comma-separated, CRLF line ends, fields with a comma, quote or line
 * break quoted, quotes doubled).
 *
 * Columns: "class", then every figure in NatsimStat order under its
 * report.json key; one line per class, then "(total)" with the totals.
 * Numbers as in report.json (shortest text that reads back to the same
 * double, '.' as the decimal sign), so a spreadsheet in any locale reads
 * them the same way when told the file is in C/English notation. */
#include "report-private.h"

#include <math.h>
#include <string.h>

static void
append_field (GString *out, const char *s)
{
  g_autofree char *valid = g_utf8_make_valid (s, -1);

  if (strpbrk (valid, ",\"\r\n") == NULL)
    {
      g_string_append (out, valid);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *p = valid; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

/* The shortest decimal that reads back as @v; integers without a point;
 * empty for NaN. */
static void
append_number (GString *out, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (v))
    return;
  v += 0.0;
  if (v == floor (v) && fabs (v) < 9007199254740992.0)
    {
      g_string_append_printf (out, "%" G_GINT64_FORMAT, (gint64) v);
      return;
    }
  for (int digits = 1; digits <= 17; digits++)
    {
      char fmt[8];

      g_snprintf (fmt, sizeof fmt, "%%.%dg", digits);
      g_ascii_formatd (buf, sizeof buf, fmt, v);
      if (g_ascii_strtod (buf, NULL) == v)
        break;
    }
  g_string_append (out, buf);
}

static void
append_row (GString *out, const char *name, const NatsimStats *st)
{
  append_field (out, name);
  for (guint s = 0; s < NATSIM_STAT_N; s++)
    {
      g_string_append_c (out, ',');
      append_number (out, st->v[s]);
    }
  g_string_append (out, "\r\n");
}

/* report.csv as a string (a header only when the report has no figures). */
char *
natsim_report_to_csv (const NatsimReport *r)
{
  GString *out;
  const NatsimSummary *sum;

  g_return_val_if_fail (r != NULL, NULL);

  sum = r->summary;
  out = g_string_new ("class");
  for (guint s = 0; s < NATSIM_STAT_N; s++)
    g_string_append_printf (out, ",%s", natsim_stat_name (s));
  g_string_append (out, "\r\n");
  if (sum == NULL)
    return g_string_free (out, FALSE);
  for (guint i = 0; sum->classes != NULL && i < sum->classes->len; i++)
    {
      const NatsimClassSummary *c
        = &g_array_index (sum->classes, NatsimClassSummary, i);

      append_row (out, c->name, &c->mean);
    }
  append_row (out, "(total)", &sum->totals);
  return g_string_free (out, FALSE);
}
