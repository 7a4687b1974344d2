/* natsim: reports.  One NatsimReport, several writers (text, JSON,
 * Markdown, HTML, CSV) behind one small interface.  report.json follows
 * the contract in docs/report.md, schema "natsim.report/1". */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "natsim/analysis.h"

G_BEGIN_DECLS

#define NATSIM_REPORT_SCHEMA "natsim.report/1"

typedef struct
{
  char  *id;
  double value;
  char  *unit;
  char  *reason;
  char  *basis; /* "simulation", "erlang-b", "trace" */
} NatsimRecommendation;

typedef struct
{
  char *id;
  char *message;
} NatsimWarning;

/* The report owns everything it points to (strings, @traces, @config,
 * @summary) and frees it in natsim_report_free(). */
typedef struct
{
  char          *command;  /* "simulate", "replay", ... */
  char          *scenario; /* path as given, or NULL */
  GPtrArray     *traces;   /* char*, as given */
  guint          scale;    /* replay --scale K: copies of the population;
                            * 0 when not a replay (inputs.scale absent) */
  guint64        seed;
  JsonNode      *config;   /* from natsim_scenario_config_to_json() */
  NatsimSummary *summary;
  GArray        *recommendations; /* NatsimRecommendation */
  GArray        *warnings;        /* NatsimWarning */
  JsonNode      *coverage; /* replay: how much of the capture went through
                            * the NAT (report.json "coverage"), else NULL */
} NatsimReport;

NatsimReport *natsim_report_new (const char *command);
void natsim_report_free (NatsimReport *r);
void natsim_report_add_warning (NatsimReport *r, const char *id,
                                const char *fmt, ...) G_GNUC_PRINTF (3, 4);
void natsim_report_add_recommendation (NatsimReport *r, const char *id,
                                       double value, const char *unit,
                                       const char *basis, const char *fmt,
                                       ...) G_GNUC_PRINTF (6, 7);

/* The report.json document (deterministic: no time, no host, fixed key
 * order, locale-independent numbers). */
char *natsim_report_to_json (const NatsimReport *r);

/* The human summary printed on stdout. */
void natsim_report_write_text (const NatsimReport *r, FILE *out);

/* The same summary as a string (report.txt; locale-independent numbers). */
char *natsim_report_to_text (const NatsimReport *r);

/* Writes @contents to @path atomically (temporary file, then rename). */
gboolean natsim_write_file_atomic (const char *path, const char *contents,
                                   gssize length, GError **error);

/* The formats commands write when the user names none. */
#define NATSIM_REPORT_DEFAULT_FORMATS "text,json,md,html"

/* The report for people as Markdown (report.md): findings, then the
 * recommendations, then the evidence (configuration, totals, per-class and
 * per-address tables, warnings).  Locale-independent numbers. */
char *natsim_report_to_markdown (const NatsimReport *r);

/* The same as a self-contained HTML page (report.html: inline CSS, no
 * external resources, every text escaped), with the charts drawn by gnuplot
 * inlined as SVG when @charts is TRUE and gnuplot is available (see
 * natsim/charts.h; NATSIM_NO_CHARTS=1 disables them); otherwise the page
 * says why the charts were skipped. */
char *natsim_report_to_html (const NatsimReport *r, gboolean charts);

/* The per-class figures as CSV (report.csv, RFC 4180): a header line, one
 * line per class, then "(total)"; columns in NatsimStat order. */
char *natsim_report_to_csv (const NatsimReport *r);

/* Checks a comma-separated list of format names (text, json, md, html,
 * csv; case-insensitive, spaces and empty items ignored); sets
 * NATSIM_ERROR_INVALID_INPUT naming the unknown one. */
gboolean natsim_report_check_formats (const char *formats, GError **error);

/* Writes DIR/report.json (and the other formats named in @formats, a
 * comma-separated list of text, json, md, html, csv; NULL means json)
 * atomically: report.txt, report.json, report.md, report.html,
 * report.csv.  Every file is rendered before the first is written. */
gboolean natsim_report_write_dir (const NatsimReport *r, const char *dir,
                                  const char *formats, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimReport, natsim_report_free)

G_END_DECLS
