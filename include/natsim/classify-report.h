/* natsim: the classify outputs (classification.json, .txt, .md, .html).
 * docs/report.md documents classification.json (schema
 * "natsim.classification/1"). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "natsim/nat-classify.h"

G_BEGIN_DECLS

#define NATSIM_CLASSIFICATION_SCHEMA "natsim.classification/1"

/* What a classification was run on: the scenario path (or NULL for the
 * default NAT) and the effective [nat] keys ({"nat": {...}}, borrowed). */
typedef struct
{
  const char *scenario;
  JsonNode   *config;
} NatsimClassifyInputs;

char *natsim_classification_to_json (const NatsimClassification *c,
                                     const NatsimClassifyInputs *in);
char *natsim_classification_to_text (const NatsimClassification *c,
                                     const NatsimClassifyInputs *in);
char *natsim_classification_to_markdown (const NatsimClassification *c,
                                         const NatsimClassifyInputs *in);
/* Self-contained HTML: each test's transcript drawn as an SVG sequence
 * diagram (client hosts, the NAT, the servers). */
char *natsim_classification_to_html (const NatsimClassification *c,
                                     const NatsimClassifyInputs *in);

/* Checks a --format list for classify: text, json, md, html. */
gboolean natsim_classification_check_formats (const char *formats, GError **error);

/* Writes DIR/classification.{txt,json,md,html} for the formats named in
 * @formats (every file rendered first, each written atomically). */
gboolean natsim_classification_write_dir (const NatsimClassification *c,
                                          const NatsimClassifyInputs *in,
                                          const char *dir, const char *formats,
                                          GError **error);

G_END_DECLS
