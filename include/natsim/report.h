/* natsim: reports, the one interface of every writer.  One NatsimReport
 * and its writers (text, JSON, Markdown, HTML, CSV); the sweep's writers
 * (sweep.csv, sweep.json, sweep.txt, sweep.md, sweep.html); the
 * configuration echo of report.json.  report.json follows the contract in
 * docs/report.md, schema "natsim.report/1".  Commands call these writers
 * and write nothing themselves. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "natsim/analysis.h"
#include "natsim/recommend.h"
#include "natsim/scenario.h"
#include "natsim/sweep.h"

G_BEGIN_DECLS

#define NATSIM_REPORT_SCHEMA "natsim.report/1"

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
  /* natsim plan: every recommendation applied and simulated together
   * (report.json "verification"); NULL in other reports. */
  NatsimVerification *verification;
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

/* @root in report.json's deterministic layout (2-space indent, shortest
 * round-tripping doubles, a final newline). */
char *natsim_json_to_string (JsonNode *root);

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
 * csv, pdf; case-insensitive, spaces and empty items ignored); sets
 * NATSIM_ERROR_INVALID_INPUT naming the unknown one. */
gboolean natsim_report_check_formats (const char *formats, GError **error);

/* Writes DIR/report.json (and the other formats named in @formats, a
 * comma-separated list of text, json, md, html, csv; NULL means json)
 * atomically: report.txt, report.json, report.md, report.html,
 * report.csv.  Every file is rendered before the first is written.  A
 * "pdf" is printed as natsim_report_write_dir_full() does, its reason for
 * skipping dropped. */
gboolean natsim_report_write_dir (const NatsimReport *r, const char *dir,
                                  const char *formats, GError **error);

/* The same, and "pdf" in @formats also writes report.pdf: report.html
 * printed on A4 by headless Chromium.  Without Chromium (or when it fails)
 * report.pdf is skipped, the other files are written, and
 * *@ret_skipped (when not NULL) holds a sentence saying why
 * ("report.pdf was skipped: Chromium is not installed."), else NULL. */
gboolean natsim_report_write_dir_full (const NatsimReport *r, const char *dir,
                                       const char *formats, char **ret_skipped,
                                       GError **error);

/* NULL when report.pdf can be printed, else why not ("Chromium is not
 * installed"); newly allocated. */
char *natsim_report_pdf_unavailable (void);

/* ---- The configuration as report.json echoes it ("config") ---- */

/* Adds every key of @p to the object being built in @b, in table order,
 * with its value string (null when unset): how reports echo a group. */
void natsim_params_to_json (JsonBuilder *b, const NatsimParams *p);

/* {"nat": {...}, "populations": [{"name":..., "profile":..., ...}],
 *  "simulation": {...}}: every effective key with its value string,
 * in table order. */
JsonNode *natsim_scenario_config_to_json (const NatsimScenario *s);

/* {"nat": {...}}: the configuration of a run without a scenario (replay,
 * plan --trace). */
JsonNode *natsim_nat_config_to_json (const NatsimParams *nat);

/* ---- Sweep writers (natsim sweep) ---- */

/* sweep.csv: one row per point, the varied keys then each total's mean
 * and ci95 half-width (empty with one replication). */
char *natsim_sweep_to_csv (const NatsimSweep *sw);

/* sweep.json (schema natsim.sweep/1). */
char *natsim_sweep_to_json (const NatsimSweep *sw);

/* The table `natsim sweep` prints on stdout (and sweep.txt). */
char *natsim_sweep_to_text (const NatsimSweep *sw);

/* sweep.md: the grid as a Markdown table, means ± 95 % CI half-widths. */
char *natsim_sweep_to_markdown (const NatsimSweep *sw);

/* sweep.html: self-contained (inline CSS and SVG); a line chart per
 * figure for one varied key, a heat map for two, when @charts and gnuplot
 * allow (otherwise the page says why), then the table. */
char *natsim_sweep_to_html (const NatsimSweep *sw, gboolean charts);

/* Writes DIR/sweep.csv and, as @formats asks (text, json, md, html; csv
 * is always written), sweep.txt, sweep.json, sweep.md, sweep.html;
 * everything is rendered before the first file is written. */
gboolean natsim_sweep_write_dir (const NatsimSweep *sw, const char *dir,
                                 const char *formats, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimReport, natsim_report_free)

G_END_DECLS
