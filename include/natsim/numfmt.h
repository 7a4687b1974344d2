/* natsim: the one number formatter of every report for people (text,
 * Markdown, HTML, charts, the sentences of findings and recommendations).
 *
 * Locale-independent, never in exponent notation:
 * - measured figures (means, confidence half-widths) keep at most 3
 *   significant digits, with thousands separators up to a million and
 *   "1.89 M", "2.5 G" beyond ("10,500", "414", "19.9", "0.047");
 * - exact counts (pool sizes, ports, addresses) are shown in full with
 *   thousands separators ("64,512");
 * - percentages never read "0.0" for something that happened nor "100" for
 *   something that did not quite ("< 0.001", "> 99.9").
 * Machine-readable outputs (report.json, CSV) keep the shortest
 * round-trip form instead (natsim_format_number, report.json's writer). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Size of the buffers the functions below write into. */
#define NATSIM_NUM_BUF 64

/* A measured figure: 3 significant digits (see above); "n/a" when not
 * finite; nonzero values under 0.001 as "< 0.001".  Returns @buf. */
const char *natsim_fmt_num (char *buf, double v);

/* An exact count, rounded to an integer, with thousands separators
 * ("64,512"); "n/a" when not finite.  Returns @buf. */
const char *natsim_fmt_int (char *buf, double v);

/* A fraction as a percentage without the sign: 3 significant digits,
 * "0" for zero, "< 0.001" for a tiny share, "> 99.9" for one just under
 * all, "100" for all.  Returns @buf. */
const char *natsim_fmt_percent (char *buf, double fraction);

/* "1 address", "2 addresses", "10.4 calls", "1,500 ports": @v formatted
 * (exactly by natsim_fmt_int when @exact, else natsim_fmt_num) and the
 * noun in the singular only for exactly one.  Returns @buf. */
const char *natsim_fmt_noun (char *buf, double v, gboolean exact, const char *one,
                             const char *many);

/* @text with every number written in exponent notation ("3.621e+04",
 * "5.8e-23") rewritten by natsim_fmt_num ("36,200", "< 0.001"): a safety
 * net for sentences composed elsewhere.  Newly allocated. */
char *natsim_fmt_text_plain (const char *text);

G_END_DECLS
