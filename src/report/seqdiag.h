/* natsim: packet sequence diagrams as inline SVG (classify's transcripts,
 * report.html's packets of small runs). */
#pragma once

#include <glib.h>

/* One vertical line of the diagram: an inside host, the NAT, a remote. */
typedef struct
{
  const char *title;    /* e.g. "client" */
  const char *subtitle; /* e.g. "192.0.2.10"; may be NULL */
} SeqLane;

/* One packet: from lane @from through the NAT lane to lane @to. */
typedef struct
{
  const char *time;    /* "0.100 s" */
  const char *caption; /* what the packet says or is; may be NULL */
  guint       from, to;
  const char *left;    /* the packet as sent (segment into the NAT); may be NULL */
  const char *right;   /* as translated (segment out of the NAT); may be NULL */
  const char *drop;    /* non-NULL: dropped at the NAT, and why */
} SeqMessage;

/* A self-contained <svg> element (every text escaped), @n_msgs rows.
 * Messages whose @from is the NAT lane start there. */
char *report_seq_diagram_svg (const SeqLane *lanes, guint n_lanes, guint nat_lane,
                              const SeqMessage *msgs, guint n_msgs);

/* report.html's "Every packet" section: the packets of the first run as a
 * sequence diagram, when the run kept them (NatsimSummary packets);
 * nothing otherwise (report-packets.c). */
#include "natsim/report.h"
void report_html_packets (GString *out, const NatsimReport *r);
