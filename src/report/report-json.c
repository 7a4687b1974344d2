/* natsim: report.json (docs/report.md, schema "natsim.report/1").
 *
 * The document is built as a JsonNode tree with JsonBuilder, keys in the
 * contract's order, and then serialized by the small writer below instead
 * of JsonGenerator.  Why: json-glib 1.6's generator prints doubles with
 * g_ascii_dtostr(), i.e. %.17g, so 0.1 comes out as 0.10000000000000001
 * (in our figures and in the scenario config alike), and its pretty layout
 * ("key" : value, "{  }") differs between json-glib versions.  A report must
 * be byte-identical for identical input on any machine and locale.
 *
 * Numbers:
 * - integers (JSON int nodes) are printed in full;
 * - counts (natsim_stat_is_count(), per-address figures, timelines,
 *   timeline interval, recommendation values) are stored as int nodes when
 *   they are integral and below 2^53, as doubles otherwise (a mean over
 *   replications may be fractional);
 * - doubles are printed in the shortest form that reads back to the same
 *   double (%.1g ... %.17g through g_ascii_formatd, checked with
 *   g_ascii_strtod): 0.1 is "0.1", 2/3 is "0.66666666666666663".  A double
 *   always shows a '.' or an exponent ("0.0", "3.0", "1e-05") so that a
 *   reader keeps it a float;
 * - NaN and infinities, which JSON cannot hold, are written as null.
 * Layout: 2-space indent, "key": value, arrays of scalars on one line,
 * "{}" and "[]" when empty, a final newline.  Strings are UTF-8 (invalid
 * sequences replaced by U+FFFD) with control characters escaped. */
#include "natsim/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Largest integer below which every integer is exactly a double. */
#define EXACT_INT_LIMIT 9007199254740992.0 /* 2^53 */

static void
add_double (JsonBuilder *b, double v)
{
  if (!isfinite (v))
    json_builder_add_null_value (b);
  else
    json_builder_add_double_value (b, v);
}

/* A count: an integer when it is one, else a double. */
static void
add_count (JsonBuilder *b, double v)
{
  if (isfinite (v) && v == floor (v) && fabs (v) < EXACT_INT_LIMIT)
    json_builder_add_int_value (b, (gint64) v);
  else
    add_double (b, v);
}

static void
add_stat (JsonBuilder *b, NatsimStat s, double v)
{
  if (natsim_stat_is_count (s))
    add_count (b, v);
  else
    add_double (b, v);
}

static void
add_string_or_null (JsonBuilder *b, const char *s)
{
  if (s != NULL)
    json_builder_add_string_value (b, s);
  else
    json_builder_add_null_value (b);
}

/* {"flows": ..., ...} in NatsimStat order; @stats NULL gives nulls. */
static void
add_stats_object (JsonBuilder *b, const NatsimStats *stats)
{
  json_builder_begin_object (b);
  for (guint s = 0; s < NATSIM_STAT_N; s++)
    {
      json_builder_set_member_name (b, natsim_stat_name (s));
      if (stats != NULL)
        add_stat (b, s, stats->v[s]);
      else
        json_builder_add_null_value (b);
    }
  json_builder_end_object (b);
}

/* Half-widths are real numbers even for counts. */
static void
add_ci_object (JsonBuilder *b, const NatsimStats *ci, gboolean have_ci)
{
  json_builder_begin_object (b);
  for (guint s = 0; s < NATSIM_STAT_N; s++)
    {
      json_builder_set_member_name (b, natsim_stat_name (s));
      if (have_ci)
        add_double (b, ci->v[s]);
      else
        json_builder_add_null_value (b);
    }
  json_builder_end_object (b);
}

static void
add_series (JsonBuilder *b, const GArray *a)
{
  json_builder_begin_array (b);
  for (guint i = 0; a != NULL && i < a->len; i++)
    add_count (b, g_array_index (a, double, i));
  json_builder_end_array (b);
}

/* @member: one {"address", @key: series} object per public address, in
 * per_address order, from the GArray at @offset of its summary; addresses
 * without that series (not recorded) are left out. */
static void
add_address_series (JsonBuilder *b, const NatsimSummary *sum, const char *member,
                    gsize offset, const char *key)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; sum != NULL && sum->addresses != NULL && i < sum->addresses->len; i++)
    {
      const NatsimAddressSummary *a = &g_array_index (sum->addresses, NatsimAddressSummary, i);
      const GArray *series = G_STRUCT_MEMBER (const GArray *, a, offset);

      if (series == NULL)
        continue;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "address");
      json_builder_add_string_value (b, a->address);
      json_builder_set_member_name (b, key);
      add_series (b, series);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static void
add_figures (JsonBuilder *b, const NatsimSummary *sum)
{
  gboolean have_ci = sum != NULL && sum->replications > 1;

  json_builder_set_member_name (b, "totals");
  add_stats_object (b, sum != NULL ? &sum->totals : NULL);

  json_builder_set_member_name (b, "ci95");
  add_ci_object (b, sum != NULL ? &sum->ci95 : NULL, have_ci);

  json_builder_set_member_name (b, "per_class");
  json_builder_begin_object (b);
  for (guint i = 0; sum != NULL && sum->classes != NULL
                    && i < sum->classes->len; i++)
    {
      const NatsimClassSummary *c
        = &g_array_index (sum->classes, NatsimClassSummary, i);

      json_builder_set_member_name (b, c->name);
      add_stats_object (b, &c->mean);
    }
  json_builder_end_object (b);

  json_builder_set_member_name (b, "per_address");
  json_builder_begin_array (b);
  for (guint i = 0; sum != NULL && sum->addresses != NULL
                    && i < sum->addresses->len; i++)
    {
      const NatsimAddressSummary *a
        = &g_array_index (sum->addresses, NatsimAddressSummary, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "address");
      json_builder_add_string_value (b, a->address);
      json_builder_set_member_name (b, "peak_ports");
      add_count (b, a->peak_ports);
      json_builder_set_member_name (b, "allocation_failures");
      add_count (b, a->allocation_failures);
      /* Extension: port blocks and address selection (docs/report.md). */
      json_builder_set_member_name (b, "blocks");
      add_count (b, a->blocks);
      json_builder_set_member_name (b, "peak_blocks");
      add_count (b, a->peak_blocks);
      json_builder_set_member_name (b, "address_fallbacks");
      add_count (b, a->address_fallbacks);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "timeline");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "interval_s");
  add_count (b, sum != NULL ? sum->interval_s : 0.0);
  json_builder_set_member_name (b, "bindings");
  add_series (b, sum != NULL ? sum->tl_bindings : NULL);
  json_builder_set_member_name (b, "ports_in_use");
  add_series (b, sum != NULL ? sum->tl_ports : NULL);
  json_builder_set_member_name (b, "allocation_failures");
  add_series (b, sum != NULL ? sum->tl_failures : NULL);
  /* Extension: one series per public address, in per_address order; empty
   * when the per-address timeline was not recorded (too many cells). */
  add_address_series (b, sum, "ports_in_use_per_address",
                      G_STRUCT_OFFSET (NatsimAddressSummary, tl_ports), "ports");
  /* Extension: port blocks in use (all addresses), subscribers holding a
   * block, and blocks in use per address; empty without port blocks. */
  json_builder_set_member_name (b, "blocks_in_use");
  add_series (b, sum != NULL ? sum->tl_blocks : NULL);
  json_builder_set_member_name (b, "subscribers_with_blocks");
  add_series (b, sum != NULL ? sum->tl_block_subscribers : NULL);
  add_address_series (b, sum, "blocks_in_use_per_address",
                      G_STRUCT_OFFSET (NatsimAddressSummary, tl_blocks), "blocks");
  json_builder_end_object (b);
}

/* The whole document, keys in the contract's order.  A report without a
 * summary (no figures) has replications 0 and nulls in totals and ci95. */
/* report.json "verification" (natsim plan; docs/report.md). */
static void
add_verification (JsonBuilder *b, const NatsimVerification *v)
{
  json_builder_set_member_name (b, "verification");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "settings");
  json_builder_begin_array (b);
  for (guint i = 0; i < v->settings->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (v->settings, i));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "replications");
  add_count (b, v->replications);
  json_builder_set_member_name (b, "blocking_probability");
  add_double (b, v->blocking);
  json_builder_set_member_name (b, "blocking_probability_ci95");
  add_double (b, v->blocking_ci95);
  json_builder_set_member_name (b, "target_blocking");
  add_double (b, v->target_blocking);
  json_builder_set_member_name (b, "binding_losses");
  add_double (b, v->binding_losses);
  json_builder_set_member_name (b, "binding_losses_ci95");
  add_double (b, v->binding_losses_ci95);
  json_builder_set_member_name (b, "packets_in");
  add_double (b, v->packets_in);
  json_builder_set_member_name (b, "target_loss");
  add_double (b, v->target_loss);
  json_builder_set_member_name (b, "busiest_address_fill");
  add_double (b, v->busiest_fill);
  json_builder_set_member_name (b, "blocking_ok");
  json_builder_add_boolean_value (b, v->blocking_ok);
  json_builder_set_member_name (b, "losses_ok");
  json_builder_add_boolean_value (b, v->losses_ok);
  json_builder_set_member_name (b, "summary");
  add_string_or_null (b, v->summary);
  json_builder_end_object (b);
}

static JsonNode *
build_document (const NatsimReport *r)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  const NatsimSummary *sum = r->summary;

  json_builder_begin_object (b);

  json_builder_set_member_name (b, "schema");
  json_builder_add_string_value (b, NATSIM_REPORT_SCHEMA);
  json_builder_set_member_name (b, "natsim_version");
  json_builder_add_string_value (b, NATSIM_VERSION);
  json_builder_set_member_name (b, "command");
  json_builder_add_string_value (b, r->command);

  json_builder_set_member_name (b, "inputs");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "scenario");
  add_string_or_null (b, r->scenario);
  json_builder_set_member_name (b, "traces");
  json_builder_begin_array (b);
  for (guint i = 0; r->traces != NULL && i < r->traces->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (r->traces, i));
  json_builder_end_array (b);
  /* Extension for replay: the copies of the population (1 when the
   * capture is replayed as it is); absent for other commands. */
  if (r->scale > 0)
    {
      json_builder_set_member_name (b, "scale");
      json_builder_add_int_value (b, r->scale);
    }
  json_builder_end_object (b);

  /* JSON int nodes are signed 64-bit; seeds above 2^63-1 would wrap. */
  json_builder_set_member_name (b, "seed");
  json_builder_add_int_value (b, (gint64) r->seed);
  json_builder_set_member_name (b, "replications");
  json_builder_add_int_value (b, sum != NULL ? sum->replications : 0);

  json_builder_set_member_name (b, "config");
  if (r->config != NULL)
    json_builder_add_value (b, json_node_copy (r->config));
  else
    {
      json_builder_begin_object (b);
      json_builder_end_object (b);
    }

  add_figures (b, sum);

  json_builder_set_member_name (b, "recommendations");
  json_builder_begin_array (b);
  for (guint i = 0; r->recommendations != NULL
                    && i < r->recommendations->len; i++)
    {
      const NatsimRecommendation *rec
        = &g_array_index (r->recommendations, NatsimRecommendation, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, rec->id);
      json_builder_set_member_name (b, "value");
      add_count (b, rec->value);
      json_builder_set_member_name (b, "unit");
      add_string_or_null (b, rec->unit);
      json_builder_set_member_name (b, "reason");
      add_string_or_null (b, rec->reason);
      json_builder_set_member_name (b, "basis");
      add_string_or_null (b, rec->basis);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "warnings");
  json_builder_begin_array (b);
  for (guint i = 0; r->warnings != NULL && i < r->warnings->len; i++)
    {
      const NatsimWarning *w = &g_array_index (r->warnings, NatsimWarning, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, w->id);
      json_builder_set_member_name (b, "message");
      add_string_or_null (b, w->message);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  /* Extension for replay (appended): what share of the capture the NAT
   * saw, and why the rest was not offered; absent for other commands. */
  if (r->coverage != NULL)
    {
      json_builder_set_member_name (b, "coverage");
      json_builder_add_value (b, json_node_copy (r->coverage));
    }
  if (r->verification != NULL)
    add_verification (b, r->verification);

  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ---- the writer ---- */

static void
append_indent (GString *out, guint depth)
{
  for (guint i = 0; i < depth; i++)
    g_string_append (out, "  ");
}

static void
append_string (GString *out, const char *s)
{
  g_autofree char *valid = g_utf8_make_valid (s, -1);

  g_string_append_c (out, '"');
  for (const char *p = valid; *p != '\0'; p++)
    {
      unsigned char c = (unsigned char) *p;

      switch (c)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\b':
          g_string_append (out, "\\b");
          break;
        case '\f':
          g_string_append (out, "\\f");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          if (c < 0x20)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_c (out, (char) c);
          break;
        }
    }
  g_string_append_c (out, '"');
}

/* The shortest decimal that reads back as @v: the fewest significant
 * digits N (1..17; 17 always suffice for an IEEE double) for which %.{N-1}e
 * round-trips through g_ascii_strtod().  Like Python's repr(), the digits
 * are then shown in fixed notation when the decimal exponent X is in
 * [-4, 16), else in exponent notation: 100.0 is "100.0", not "1e+02". */
static void
append_double (GString *out, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  char fmt[16];
  int digits = 17;
  int exponent;

  if (!isfinite (v))
    {
      g_string_append (out, "null");
      return;
    }
  if (v == 0.0)
    v = 0.0; /* no "-0.0" */
  for (int n = 1; n <= 17; n++)
    {
      g_snprintf (fmt, sizeof fmt, "%%.%de", n - 1);
      g_ascii_formatd (buf, sizeof buf, fmt, v);
      if (g_ascii_strtod (buf, NULL) == v)
        {
          digits = n;
          break;
        }
    }
  exponent = atoi (strchr (buf, 'e') + 1);
  if (exponent >= -4 && exponent < 16)
    {
      /* Rounding at the same decimal position gives the same digits. */
      g_snprintf (fmt, sizeof fmt, "%%.%df", MAX (digits - 1 - exponent, 0));
      g_ascii_formatd (buf, sizeof buf, fmt, v);
      g_string_append (out, buf);
      if (strchr (buf, '.') == NULL)
        g_string_append (out, ".0");
      return;
    }
  /* "1.5e+20", "1e-05" (%.0e prints no lone ".") */
  g_string_append (out, buf);
}

static void
append_value (GString *out, JsonNode *node)
{
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
      g_string_append_printf (out, "%" G_GINT64_FORMAT,
                              json_node_get_int (node));
      break;
    case G_TYPE_DOUBLE:
      append_double (out, json_node_get_double (node));
      break;
    case G_TYPE_BOOLEAN:
      g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
      break;
    case G_TYPE_STRING:
      append_string (out, json_node_get_string (node));
      break;
    default:
      g_string_append (out, "null");
      break;
    }
}

static gboolean
is_scalar (JsonNode *node)
{
  JsonNodeType t = JSON_NODE_TYPE (node);

  return t == JSON_NODE_VALUE || t == JSON_NODE_NULL;
}

static void append_node (GString *out, JsonNode *node, guint depth);

static void
append_array (GString *out, JsonArray *array, guint depth)
{
  guint n = json_array_get_length (array);
  gboolean flat = TRUE;

  if (n == 0)
    {
      g_string_append (out, "[]");
      return;
    }
  for (guint i = 0; i < n && flat; i++)
    flat = is_scalar (json_array_get_element (array, i));

  /* Arrays of numbers or strings (timelines, traces) stay on one line. */
  if (flat)
    {
      g_string_append_c (out, '[');
      for (guint i = 0; i < n; i++)
        {
          if (i > 0)
            g_string_append (out, ", ");
          append_node (out, json_array_get_element (array, i), depth + 1);
        }
      g_string_append_c (out, ']');
      return;
    }

  g_string_append (out, "[\n");
  for (guint i = 0; i < n; i++)
    {
      append_indent (out, depth + 1);
      append_node (out, json_array_get_element (array, i), depth + 1);
      g_string_append (out, i + 1 < n ? ",\n" : "\n");
    }
  append_indent (out, depth);
  g_string_append_c (out, ']');
}

static void
append_object (GString *out, JsonObject *object, guint depth)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;
  gboolean first = TRUE;

  if (json_object_get_size (object) == 0)
    {
      g_string_append (out, "{}");
      return;
    }
  g_string_append (out, "{\n");
  /* Insertion order: the contract fixes the order of keys. */
  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      if (!first)
        g_string_append (out, ",\n");
      first = FALSE;
      append_indent (out, depth + 1);
      append_string (out, name);
      g_string_append (out, ": ");
      append_node (out, member, depth + 1);
    }
  g_string_append_c (out, '\n');
  append_indent (out, depth);
  g_string_append_c (out, '}');
}

static void
append_node (GString *out, JsonNode *node, guint depth)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      append_object (out, json_node_get_object (node), depth);
      break;
    case JSON_NODE_ARRAY:
      append_array (out, json_node_get_array (node), depth);
      break;
    case JSON_NODE_VALUE:
      append_value (out, node);
      break;
    case JSON_NODE_NULL:
    default:
      g_string_append (out, "null");
      break;
    }
}

/* report.json as a newly allocated, NUL-terminated string. */
char *
natsim_report_to_json (const NatsimReport *r)
{
  g_autoptr (JsonNode) root = NULL;
  GString *out;

  g_return_val_if_fail (r != NULL, NULL);

  root = build_document (r);
  out = g_string_new (NULL);
  append_node (out, root, 0);
  g_string_append_c (out, '\n');
  return g_string_free (out, FALSE);
}

/* Any document in report.json's deterministic layout (classification.json
 * uses it too). */
char *
natsim_json_to_string (JsonNode *root)
{
  GString *out;

  g_return_val_if_fail (root != NULL, NULL);
  out = g_string_new (NULL);
  append_node (out, root, 0);
  g_string_append_c (out, '\n');
  return g_string_free (out, FALSE);
}
