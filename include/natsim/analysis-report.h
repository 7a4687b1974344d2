/* natsim: the text and JSON outputs of `natsim analyze` (src/report). */
#pragma once

#include <glib.h>

#include "natsim/analyze.h"

G_BEGIN_DECLS

/* analysis.json of a finished analysis (deterministic, locale-independent;
 * @traces as given, @n of them). */
char *natsim_analysis_to_json (const NatsimAnalysis *a, const char *const *traces, guint n);

/* The text summary (analysis.txt, and what `natsim analyze` prints). */
char *natsim_analysis_to_text (const NatsimAnalysis *a);

G_END_DECLS
