/* natsim: the tables of a report's evidence, built once and rendered by
 * both the Markdown and the HTML writer (cells are plain text; each writer
 * escapes them for its format). */
#include "report-private.h"

#include <math.h>
#include <string.h>

void
report_table_free (ReportTable *t)
{
  if (t == NULL)
    return;
  g_clear_pointer (&t->columns, g_ptr_array_unref);
  g_clear_pointer (&t->numeric, g_array_unref);
  g_clear_pointer (&t->rows, g_ptr_array_unref);
  g_free (t->note);
  g_free (t);
}

/* A table with the given headings; a heading starting with '#' is a
 * numeric column (the '#' is dropped). */
static ReportTable *
table_new (const char *first, ...)
{
  ReportTable *t = g_new0 (ReportTable, 1);
  va_list ap;

  t->columns = g_ptr_array_new_with_free_func (g_free);
  t->numeric = g_array_new (FALSE, FALSE, sizeof (gboolean));
  t->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  va_start (ap, first);
  for (const char *h = first; h != NULL; h = va_arg (ap, const char *))
    {
      gboolean num = h[0] == '#';

      g_ptr_array_add (t->columns, g_strdup (num ? h + 1 : h));
      g_array_append_val (t->numeric, num);
    }
  va_end (ap);
  return t;
}

static void
table_add_column (ReportTable *t, const char *heading, gboolean numeric)
{
  g_ptr_array_add (t->columns, g_strdup (heading));
  g_array_append_val (t->numeric, numeric);
}

/* Appends a row of @t->columns->len cells (copied). */
static void
table_add_row (ReportTable *t, const char *const *cells)
{
  guint n = t->columns->len;
  char **row = g_new0 (char *, n + 1);

  for (guint i = 0; i < n; i++)
    row[i] = g_strdup (cells[i] != NULL ? cells[i] : "");
  g_ptr_array_add (t->rows, row);
}

/* A configuration value as text: strings as they are, other JSON values
 * in JSON notation (locale-independent). */
static char *
value_text (JsonNode *n)
{
  if (JSON_NODE_HOLDS_VALUE (n)
      && json_node_get_value_type (n) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (n));
  if (JSON_NODE_HOLDS_VALUE (n)
      && json_node_get_value_type (n) == G_TYPE_DOUBLE)
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];

      return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.15g",
                                        json_node_get_double (n)));
    }
  return json_to_string (n, FALSE);
}

static JsonObject *
config_member_object (const NatsimReport *r, const char *group)
{
  JsonObject *root;
  JsonNode *g;

  if (r->config == NULL || !JSON_NODE_HOLDS_OBJECT (r->config))
    return NULL;
  root = json_node_get_object (r->config);
  if (!json_object_has_member (root, group))
    return NULL;
  g = json_object_get_member (root, group);
  return JSON_NODE_HOLDS_OBJECT (g) ? json_node_get_object (g) : NULL;
}

/* key | value, in the configuration's order ("nat", "simulation"). */
ReportTable *
report_table_config (const NatsimReport *r, const char *group)
{
  JsonObject *o = config_member_object (r, group);
  ReportTable *t;
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  if (o == NULL || json_object_get_size (o) == 0)
    return NULL;
  t = table_new ("key", "value", NULL);
  json_object_iter_init_ordered (&iter, o);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      g_autofree char *v = value_text (member);
      const char *cells[] = { name, v };

      table_add_row (t, cells);
    }
  return t;
}

/* One column per population, one row per key (keys in order of first
 * appearance): profiles share most keys, so this is compact. */
ReportTable *
report_table_populations (const NatsimReport *r)
{
  JsonObject *root;
  JsonNode *pops;
  JsonArray *a;
  g_autoptr (GPtrArray) keys = NULL;
  g_autoptr (GHashTable) seen = NULL;
  ReportTable *t;
  guint n;

  if (r->config == NULL || !JSON_NODE_HOLDS_OBJECT (r->config))
    return NULL;
  root = json_node_get_object (r->config);
  if (!json_object_has_member (root, "populations"))
    return NULL;
  pops = json_object_get_member (root, "populations");
  if (!JSON_NODE_HOLDS_ARRAY (pops))
    return NULL;
  a = json_node_get_array (pops);
  n = json_array_get_length (a);
  if (n == 0)
    return NULL;

  keys = g_ptr_array_new ();
  seen = g_hash_table_new (g_str_hash, g_str_equal);
  t = table_new ("key", NULL);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *p = json_array_get_element (a, i);
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;
      g_autofree char *title = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (p))
        {
          table_add_column (t, "?", FALSE);
          continue;
        }
      json_object_iter_init_ordered (&iter, json_node_get_object (p));
      while (json_object_iter_next_ordered (&iter, &name, &member))
        {
          if (strcmp (name, "name") == 0)
            title = value_text (member);
          else if (!g_hash_table_contains (seen, name))
            {
              g_hash_table_add (seen, (gpointer) name);
              g_ptr_array_add (keys, (gpointer) name);
            }
        }
      table_add_column (t, title != NULL ? title : "?", FALSE);
    }
  for (guint k = 0; k < keys->len; k++)
    {
      const char *key = g_ptr_array_index (keys, k);
      g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func (g_free);

      g_ptr_array_add (cells, g_strdup (key));
      for (guint i = 0; i < n; i++)
        {
          JsonNode *p = json_array_get_element (a, i);
          JsonObject *o = JSON_NODE_HOLDS_OBJECT (p) ? json_node_get_object (p)
                                                     : NULL;

          if (o != NULL && json_object_has_member (o, key))
            g_ptr_array_add (cells,
                             value_text (json_object_get_member (o, key)));
          else
            g_ptr_array_add (cells, g_strdup (""));
        }
      table_add_row (t, (const char *const *) cells->pdata);
    }
  return t;
}

/* figure | mean | ± 95 % */
ReportTable *
report_table_totals (const NatsimReport *r)
{
  const NatsimSummary *sum = r->summary;
  gboolean ci;
  ReportTable *t;

  if (sum == NULL)
    return NULL;
  ci = sum->replications > 1;
  t = ci ? table_new ("figure", "#mean", "#± 95 %", NULL)
         : table_new ("figure", "#value", NULL);
  for (guint s = 0; s < NATSIM_STAT_N; s++)
    {
      char v[REPORT_NUM_BUF], h[REPORT_NUM_BUF];
      g_autofree char *value = NULL;
      g_autofree char *half = NULL;
      const char *cells[3];

      /* The per-kind figures have a table of their own. */
      if (report_stat_is_by_kind (s) || report_stat_hidden (sum, s))
        continue;
      if (s == NATSIM_STAT_BLOCKING_PROBABILITY)
        {
          value = g_strdup_printf ("%s %%",
                                   report_fmt_percent (v, sum->totals.v[s]));
          half = g_strdup_printf ("%s %%",
                                  report_fmt_percent (h, sum->ci95.v[s]));
        }
      else
        {
          value = g_strdup (report_fmt_num (v, sum->totals.v[s]));
          half = g_strdup (report_fmt_num (h, sum->ci95.v[s]));
        }
      cells[0] = report_stat_label (s);
      cells[1] = value;
      cells[2] = half;
      table_add_row (t, cells);
    }
  return t;
}

/* The per-class columns. */
static const NatsimStat class_stats[] = {
  NATSIM_STAT_FLOWS,
  NATSIM_STAT_ALLOCATION_FAILURES,
  NATSIM_STAT_BLOCKING_PROBABILITY,
  NATSIM_STAT_BINDING_LOSSES,
  NATSIM_STAT_FILTERED,
  NATSIM_STAT_REBINDINGS,
  NATSIM_STAT_UNREACHABLE_SECONDS,
  NATSIM_STAT_MISSED_CALLS,
  NATSIM_STAT_PEAK_BINDINGS,
};

static const char *const class_titles[] = {
  "flows", "allocation failures", "blocking", "binding losses",
  "filtered", "rebindings", "unreachable endpoint-s", "missed calls",
  "peak bindings",
};

G_STATIC_ASSERT (G_N_ELEMENTS (class_stats) == G_N_ELEMENTS (class_titles));

static void
add_class_row (ReportTable *t, const char *name, const NatsimStats *st)
{
  char bufs[G_N_ELEMENTS (class_stats)][REPORT_NUM_BUF];
  g_autofree char *blocking = NULL;
  const char *cells[G_N_ELEMENTS (class_stats) + 1];

  cells[0] = name;
  for (gsize k = 0; k < G_N_ELEMENTS (class_stats); k++)
    {
      NatsimStat s = class_stats[k];

      if (s == NATSIM_STAT_BLOCKING_PROBABILITY)
        {
          blocking = g_strdup_printf ("%s %%",
                                      report_fmt_percent (bufs[k], st->v[s]));
          cells[k + 1] = blocking;
        }
      else
        cells[k + 1] = report_fmt_num (bufs[k], st->v[s]);
    }
  table_add_row (t, cells);
}

ReportTable *
report_table_classes (const NatsimReport *r)
{
  const NatsimSummary *sum = r->summary;
  ReportTable *t;

  if (sum == NULL || sum->classes == NULL || sum->classes->len == 0)
    return NULL;
  t = table_new ("class", NULL);
  for (gsize k = 0; k < G_N_ELEMENTS (class_titles); k++)
    table_add_column (t, class_titles[k], TRUE);
  for (guint i = 0; i < sum->classes->len; i++)
    {
      const NatsimClassSummary *c
        = &g_array_index (sum->classes, NatsimClassSummary, i);

      add_class_row (t, c->name, &c->mean);
    }
  if (sum->classes->len > 1)
    {
      add_class_row (t, "all classes", &sum->totals);
      t->total_row = TRUE;
    }
  return t;
}

/* kind | rebindings | binding losses: totals by what the packets were
 * for; NULL when no packet had a kind (generic flows, captures). */
ReportTable *
report_table_kinds (const NatsimReport *r)
{
  const NatsimSummary *sum = r->summary;
  static const char *const kind_titles[NATSIM_FLOW_N] = {
    [NATSIM_FLOW_SIGNALLING] = "registration and signalling",
    [NATSIM_FLOW_MEDIA] = "media (RTP, RTCP, STUN)",
    [NATSIM_FLOW_KEEPALIVE] = "keepalive",
    [NATSIM_FLOW_HOUSEKEEPING] = "housekeeping (NTP, configuration, firmware)",
    [NATSIM_FLOW_OTHER] = "unclassified",
  };
  static const NatsimFlowKind order[] = { NATSIM_FLOW_SIGNALLING, NATSIM_FLOW_MEDIA,
                                          NATSIM_FLOW_KEEPALIVE, NATSIM_FLOW_HOUSEKEEPING,
                                          NATSIM_FLOW_OTHER };
  gboolean any = FALSE;
  ReportTable *t;

  if (sum == NULL)
    return NULL;
  for (guint s = 0; s < NATSIM_STAT_N; s++)
    if (report_stat_is_by_kind (s) && sum->totals.v[s] > 0.0)
      any = TRUE;
  if (!any)
    return NULL;
  t = table_new ("flow kind", "#rebindings", "#binding losses", NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (order); i++)
    {
      char a[REPORT_NUM_BUF], b[REPORT_NUM_BUF];
      double rb = report_kind_value (&sum->totals, NATSIM_STAT_REBINDINGS, order[i]);
      double bl = report_kind_value (&sum->totals, NATSIM_STAT_BINDING_LOSSES, order[i]);
      const char *cells[3] = { kind_titles[order[i]], report_fmt_num (a, rb),
                               report_fmt_num (b, bl) };

      if (order[i] == NATSIM_FLOW_OTHER && rb <= 0.0 && bl <= 0.0)
        continue;
      table_add_row (t, cells);
    }
  t->note = g_strdup ("Housekeeping flows carry nothing anybody calls in over: their "
                      "rebindings and losses are harmless and never counted as problems.");
  return t;
}

ReportTable *
report_table_addresses (const NatsimReport *r)
{
  const NatsimSummary *sum = r->summary;
  g_autoptr (GArray) order = NULL;
  guint pool = report_pool_size (r);
  gboolean blocks = FALSE, fallbacks = FALSE;
  ReportTable *t;

  if (sum == NULL || sum->addresses == NULL || sum->addresses->len == 0)
    return NULL;
  order = report_address_order (sum, REPORT_MAX_ADDRESS_ROWS);
  t = pool > 0 ? table_new ("address", "#peak ports", "#share of the pool",
                            "#allocation failures", NULL)
               : table_new ("address", "#peak ports", "#allocation failures",
                            NULL);
  /* Port blocks and address fall-backs get columns when there are any. */
  for (guint i = 0; i < sum->addresses->len; i++)
    {
      const NatsimAddressSummary *a = &g_array_index (sum->addresses, NatsimAddressSummary, i);

      blocks = blocks || a->blocks > 0.0;
      fallbacks = fallbacks || a->address_fallbacks > 0.0;
    }
  if (blocks)
    table_add_column (t, "peak blocks", TRUE);
  if (fallbacks)
    table_add_column (t, "fall-backs", TRUE);
  for (guint i = 0; i < order->len; i++)
    {
      const NatsimAddressSummary *a
        = &g_array_index (sum->addresses, NatsimAddressSummary,
                          g_array_index (order, guint, i));
      char p[REPORT_NUM_BUF], s[REPORT_NUM_BUF], f[REPORT_NUM_BUF];
      char bk[REPORT_NUM_BUF], bt[REPORT_NUM_BUF], fb[REPORT_NUM_BUF];
      g_autofree char *share = NULL;
      g_autofree char *block_cell = NULL;
      const char *cells[6];
      guint n = 0;

      cells[n++] = a->address;
      cells[n++] = report_fmt_num (p, a->peak_ports);
      if (pool > 0)
        {
          share = g_strdup_printf ("%s %%",
                                   report_fmt_percent (s, a->peak_ports / pool));
          cells[n++] = share;
        }
      cells[n++] = report_fmt_num (f, a->allocation_failures);
      if (blocks)
        {
          block_cell = g_strdup_printf ("%s of %s", report_fmt_num (bk, a->peak_blocks),
                                        report_fmt_num (bt, a->blocks));
          cells[n++] = block_cell;
        }
      if (fallbacks)
        cells[n++] = report_fmt_num (fb, a->address_fallbacks);
      table_add_row (t, cells);
    }
  if (order->len < sum->addresses->len)
    t->note = g_strdup_printf ("The %u busiest of %u addresses are shown; "
                               "report.json lists them all.",
                               order->len, sum->addresses->len);
  else if (pool > 0)
    {
      char n[REPORT_NUM_BUF];

      t->note = g_strdup_printf ("The pool holds %s per address (nat.port_range).",
                                 natsim_fmt_noun (n, pool, TRUE, "port", "ports"));
    }
  return t;
}

ReportTable *
report_table_recommendations (const NatsimReport *r)
{
  ReportTable *t;

  if (r->recommendations == NULL || r->recommendations->len == 0)
    return NULL;
  t = table_new ("recommendation", "#value", "reason", "basis", NULL);
  for (guint i = 0; i < r->recommendations->len; i++)
    {
      const NatsimRecommendation *rec
        = &g_array_index (r->recommendations, NatsimRecommendation, i);
      char buf[REPORT_NUM_BUF];
      g_autofree char *value = NULL;
      g_autofree char *reason = NULL;
      const char *cells[4];

      value = g_strdup_printf ("%s%s%s", report_fmt_value (buf, rec->value),
                               rec->unit != NULL && *rec->unit != '\0' ? " "
                                                                       : "",
                               rec->unit != NULL ? rec->unit : "");
      reason = natsim_fmt_text_plain (rec->reason != NULL ? rec->reason : "");
      cells[0] = rec->id;
      cells[1] = value;
      cells[2] = reason;
      cells[3] = rec->basis != NULL ? rec->basis : "";
      table_add_row (t, cells);
    }
  return t;
}
