/* natsim: scenario internals shared between the files of src/scenario. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One "key = value" line as the pre-scan saw it. */
typedef struct
{
  char *key;
  char *value; /* inline comment stripped, trimmed */
  guint line;  /* 1-based */
} ScanKey;

/* One [group] with its keys in file order. */
typedef struct
{
  char      *name; /* normalised: "simulation", "nat", "population NAME" */
  guint      line;
  GPtrArray *keys; /* ScanKey* */
} ScanGroup;

/* The outcome of scenario_scan(): the groups in file order and the text
 * rewritten for GKeyFile (same line numbers; comments, inline comments and
 * surrounding whitespace removed). */
typedef struct
{
  GPtrArray *groups; /* ScanGroup* */
  char      *clean;
  gsize      clean_len;
} ScanResult;

/* Reads the structure of a scenario file: checks that it is UTF-8 text made
 * of [group] headers, key = value lines and comments, that no group and no
 * key within a group appears twice, and records the line of each.  Errors
 * are "NAME:LINE: ...". */
ScanResult *scenario_scan (const char *data, gsize length, const char *name,
                           GError **error);
void scenario_scan_free (ScanResult *r);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScanResult, scenario_scan_free)

G_END_DECLS
