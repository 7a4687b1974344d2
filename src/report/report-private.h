/* natsim: what the report writers share (number formats, the scenario
 * configuration as the report holds it, findings, charts).  Private to
 * src/report/. */
#pragma once

#include <glib.h>

#include "natsim/report.h"

G_BEGIN_DECLS

#define REPORT_NUM_BUF 64

/* A figure for people: integers as such, else 1 decimal from 1 up and
 * 2 significant digits below ("0.047"); "n/a" when not finite.  Written
 * into @buf (REPORT_NUM_BUF bytes), locale-independent. */
const char *report_fmt_num (char *buf, double v);

/* A probability as a percentage without the sign: "66.7", "0.0",
 * "0.012". */
const char *report_fmt_percent (char *buf, double p);

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
  char          *text; /* plain text, one or more sentences */
} ReportFinding;

/* The findings of @r in plain words, most important first
 * (ReportFinding*, owned by the array). */
GPtrArray *report_findings (const NatsimReport *r);

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
ReportTable *report_table_recommendations (const NatsimReport *r);

G_END_DECLS
