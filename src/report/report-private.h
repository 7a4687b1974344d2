/* natsim: what the report writers share (number formats, the scenario
 * configuration as the report holds it, findings, charts).  Private to
 * src/report/. */
#pragma once

#include <glib.h>

#include "natsim/numfmt.h"
#include "natsim/report.h"

G_BEGIN_DECLS

#define REPORT_NUM_BUF 64

/* A measured figure for people: natsim_fmt_num() (natsim/numfmt.h), at
 * most 3 significant digits, thousands separators, never an exponent.
 * Written into @buf (REPORT_NUM_BUF bytes). */
const char *report_fmt_num (char *buf, double v);

/* A probability as a percentage without the sign: natsim_fmt_percent()
 * ("66.7", "0", "0.012", "< 0.001"). */
const char *report_fmt_percent (char *buf, double p);

/* A value as configured or recommended (a timeout, a port count):
 * integers in full with separators ("4,500"), others as report_fmt_num. */
const char *report_fmt_value (char *buf, double v);

/* TRUE for the per-kind figures (rebindings_*, binding_losses_*), which
 * the tables show by kind rather than among the totals. */
gboolean report_stat_is_by_kind (NatsimStat s);

/* The value of @base (NATSIM_STAT_REBINDINGS or _BINDING_LOSSES) of
 * @kind in @st; for NATSIM_FLOW_OTHER what no kind accounts for. */
double report_kind_value (const NatsimStats *st, NatsimStat base, NatsimFlowKind kind);

/* The label of a figure for people ("flows (mapping attempts)"). */
const char *report_stat_label (NatsimStat s);
/* True for a figure the totals tables leave out: the failure causes,
 * fall-backs and block figures while they are 0 (no port blocks, nothing
 * refused, hash selection). */
gboolean report_stat_hidden (const NatsimSummary *sum, NatsimStat s);

/* Seconds as "h:mm:ss" (time since the start of the run). */
const char *report_fmt_clock (char *buf, double seconds);

/* A string member of the report's configuration: @group is "nat" or
 * "simulation"; NULL when absent or not a string. */
const char *report_config_get (const NatsimReport *r, const char *group,
                               const char *key);

/* A string member of the population called @name in the configuration. */
const char *report_population_get (const NatsimReport *r, const char *name,
                                   const char *key);

/* Ports per public address from nat.port_range (0 when unknown). */
guint report_pool_size (const NatsimReport *r);

/* The measured time per endpoint in seconds: duration - warmup (0 when
 * unknown). */
double report_measured_seconds (const NatsimReport *r);

typedef enum
{
  REPORT_FINDING_OK,   /* nothing wrong */
  REPORT_FINDING_NOTE, /* worth knowing */
  REPORT_FINDING_BAD,  /* something is lost or refused */
} ReportSeverity;

typedef struct
{
  ReportSeverity severity;
  guint          harm; /* rank within the severity, lower is worse */
  char          *text; /* plain text, one or more sentences */
} ReportFinding;

/* The findings of @r in plain words, ranked by harm to a VoIP operator:
 * problems first (missed calls, unreachable endpoints, refused flows,
 * lost packets, ...), then notes, then what is fine.  Housekeeping
 * rebindings and losses are never a problem (ReportFinding*, owned by the
 * array). */
GPtrArray *report_findings (const NatsimReport *r);

/* What the findings (report-findings.c) share with the headline and the
 * rest of report-common.c. */

/* TRUE when the run had a warm-up (left out of the counts, but not of
 * the timeline). */
gboolean report_has_warmup (const NatsimReport *r);

/* The total of figure @s. */
double report_total (const NatsimSummary *sum, NatsimStat s);

/* " (±0.4)" after a figure when there is a confidence interval; @percent
 * gives it in percentage points. */
void report_append_ci (GString *out, const NatsimSummary *sum, NatsimStat s,
                       gboolean percent);

/* Class @i of the summary, and the number of classes. */
const NatsimClassSummary *report_class_at (const NatsimSummary *sum, guint i);
guint report_n_classes (const NatsimSummary *sum);

/* The class with the most of @s, or NULL when none has any. */
const NatsimClassSummary *report_worst_class (const NatsimSummary *sum, NatsimStat s);

/* The singular for what reads as exactly one once formatted. */
const char *report_plural (double n, const char *one, const char *many);

/* ", all of them in class X" or ", most (N) in class X" when there are
 * several classes; nothing otherwise. */
void report_append_worst_class (GString *out, const NatsimSummary *sum, NatsimStat s);

/* ": all signalling" or ": 8 signalling, 2 media" for the kinds of @base
 * in @st other than housekeeping; nothing when no kind is known (generic
 * flows, captures). */
void report_append_kinds (GString *out, const NatsimStats *st, NatsimStat base);

/* One sentence of what matters to a VoIP operator, shown before the
 * findings: missed calls and unreachable endpoint time (when the run has
 * registering endpoints), refused flows, lost inbound packets (not
 * counting housekeeping); NULL without figures. */
char *report_headline (const NatsimReport *r);

/* A paragraph about how to read the figures (replications, warm-up). */
char *report_basis_sentence (const NatsimReport *r);

/* The label of a finding's severity ("Problem", "Note", "OK"). */
const char *report_severity_label (ReportSeverity s);

/* The report's traces as "a.pcap, b.pcap", or NULL when it has none. */
char *report_traces_list (const NatsimReport *r);

/* "Seed S, N replications, natsim VERSION." */
char *report_run_sentence (const NatsimReport *r);

/* Addresses in the order the tables and charts show them: all of them
 * in report order when there are at most @max, else the @max busiest (by
 * peak ports, ties in report order).  Indices into summary->addresses. */
GArray *report_address_order (const NatsimSummary *sum, guint max);

/* The most addresses listed in the per-address tables. */
#define REPORT_MAX_ADDRESS_ROWS 64
/* ... and in the plain-text summary, read on a terminal. */
#define REPORT_MAX_TEXT_ADDRESS_ROWS 16

typedef struct
{
  char *id;      /* "ports", "bindings", "failures", "losses" */
  char *title;   /* heading */
  char *svg;     /* inline SVG, or NULL when @note says why not */
  char *note;    /* e.g. "No allocation failures: nothing to draw." */
} ReportChart;

/* The charts of @r, in the order the HTML shows them.  When charts
 * cannot be drawn at all, returns NULL and sets @ret_skipped to the reason
 * ("gnuplot is not installed"). */
GPtrArray *report_charts (const NatsimReport *r, char **ret_skipped);

/* The chart called @id in @charts, or NULL. */
const ReportChart *report_chart_find (GPtrArray *charts, const char *id);

G_END_DECLS

G_BEGIN_DECLS

/* A table of the evidence, rendered by the Markdown and HTML writers. */
typedef struct
{
  GPtrArray *columns;   /* char*, headings */
  GArray    *numeric;   /* gboolean per column: numbers, right-aligned */
  GPtrArray *rows;      /* GStrv, one cell per column */
  gboolean   total_row; /* the last row sums up the others */
  char      *note;      /* a sentence under the table, or NULL */
} ReportTable;

void report_table_free (ReportTable *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReportTable, report_table_free)

/* The tables of the evidence; NULL when there is nothing to show. */
ReportTable *report_table_config (const NatsimReport *r, const char *group);
ReportTable *report_table_populations (const NatsimReport *r);
ReportTable *report_table_totals (const NatsimReport *r);
ReportTable *report_table_classes (const NatsimReport *r);
ReportTable *report_table_addresses (const NatsimReport *r);
ReportTable *report_table_kinds (const NatsimReport *r);
ReportTable *report_table_recommendations (const NatsimReport *r);

/* The figures the sweep's tables and charts show, in this order. */
#define REPORT_SWEEP_N_SHOWN 4
extern const NatsimStat report_sweep_shown[REPORT_SWEEP_N_SHOWN];

/* "mean ± half-width" of figure @k at one grid point (percent for the
 * blocking probability), by the one number formatter; newly allocated. */
char *report_sweep_cell (const NatsimSummary *sum, NatsimStat k);

/* The mean of figure @k at grid point @point. */
double report_sweep_value (const NatsimSweep *sw, guint point, NatsimStat k);

/* The stylesheet every HTML page of natsim shares (report.html,
 * sweep.html, analysis.html), screen and A4 print. */
extern const char report_stylesheet[];

/* Starts a page: doctype, head with @title and the stylesheet, then
 * "<body><main><header><h1>@title</h1>" (the caller closes the header). */
void report_html_begin (GString *out, const char *title);

/* The browser that prints report.pdf (NATSIM_CHROMIUM, else chromium,
 * chromium-browser or google-chrome in PATH), or NULL and the reason. */
char *report_pdf_browser (char **ret_why);

/* @html printed on A4 as a PDF by headless Chromium, or NULL and the
 * reason in *@ret_why (newly allocated). */
GBytes *report_html_to_pdf (const char *html, char **ret_why);

G_END_DECLS
