/* natsim: what the writers for people share: number formats, lookups in
 * the configuration the report carries, and the phrases the findings
 * (report-findings.c) and the headline turn the figures into.
 *
 * Findings are derived from the report alone (totals, ci95, per_class,
 * per_address, timeline, config, warnings), so that a report rebuilt from
 * report.json would say the same.  Every number goes through the one
 * formatter of natsim/numfmt.h: the same text in every locale, at most
 * three significant digits for measured figures, never an exponent. */
#include "report-private.h"

#include <math.h>
#include <string.h>

#include "natsim/numfmt.h"
#include "natsim/parse.h"

const char *
report_fmt_num (char *buf, double v)
{
  return natsim_fmt_num (buf, v);
}

const char *
report_fmt_percent (char *buf, double p)
{
  return natsim_fmt_percent (buf, p);
}

const char *
report_fmt_value (char *buf, double v)
{
  if (isfinite (v) && v == floor (v))
    return natsim_fmt_int (buf, v);
  return natsim_fmt_num (buf, v);
}

gboolean
report_stat_is_by_kind (NatsimStat s)
{
  return s >= NATSIM_STAT_REBINDINGS_SIGNALLING && s <= NATSIM_STAT_BINDING_LOSSES_HOUSEKEEPING;
}

static const char *const stat_labels[NATSIM_STAT_N] = {
  [NATSIM_STAT_FLOWS] = "flows (mapping attempts)",
  [NATSIM_STAT_BINDINGS_CREATED] = "bindings created",
  [NATSIM_STAT_BINDINGS_EXPIRED] = "bindings expired",
  [NATSIM_STAT_PEAK_BINDINGS] = "peak bindings",
  [NATSIM_STAT_PEAK_PORTS_PER_ADDRESS] = "peak ports per address",
  [NATSIM_STAT_ALLOCATION_FAILURES] = "allocation failures",
  [NATSIM_STAT_BLOCKING_PROBABILITY] = "blocking probability",
  [NATSIM_STAT_BINDING_LOSSES] = "binding losses",
  [NATSIM_STAT_FILTERED] = "filtered inbound",
  [NATSIM_STAT_REBINDINGS] = "rebindings",
  [NATSIM_STAT_UNREACHABLE_SECONDS] = "unreachable endpoint-s",
  [NATSIM_STAT_PACKETS_OUT] = "packets out",
  [NATSIM_STAT_PACKETS_IN] = "packets in",
  [NATSIM_STAT_PACKETS_DROPPED] = "packets dropped",
  [NATSIM_STAT_MISSED_CALLS] = "missed calls",
  [NATSIM_STAT_REBINDINGS_SIGNALLING] = "rebindings, signalling",
  [NATSIM_STAT_REBINDINGS_MEDIA] = "rebindings, media",
  [NATSIM_STAT_REBINDINGS_KEEPALIVE] = "rebindings, keepalive",
  [NATSIM_STAT_REBINDINGS_HOUSEKEEPING] = "rebindings, housekeeping",
  [NATSIM_STAT_BINDING_LOSSES_SIGNALLING] = "binding losses, signalling",
  [NATSIM_STAT_BINDING_LOSSES_MEDIA] = "binding losses, media",
  [NATSIM_STAT_BINDING_LOSSES_KEEPALIVE] = "binding losses, keepalive",
  [NATSIM_STAT_BINDING_LOSSES_HOUSEKEEPING] = "binding losses, housekeeping",
  [NATSIM_STAT_NO_FREE_PORT] = "failed: no free port",
  [NATSIM_STAT_NO_FREE_BLOCK] = "failed: no free block",
  [NATSIM_STAT_SUBSCRIBER_BLOCK_LIMIT] = "failed: sub. block limit",
  [NATSIM_STAT_SUBSCRIBER_PORT_LIMIT] = "failed: sub. port limit",
  [NATSIM_STAT_ADDRESS_FALLBACKS] = "address fall-backs",
  [NATSIM_STAT_PEAK_BLOCKS_PER_ADDRESS] = "peak blocks per address",
  [NATSIM_STAT_PEAK_BLOCK_SUBSCRIBERS] = "peak block subscribers",
};

gboolean
report_stat_hidden (const NatsimSummary *sum, NatsimStat s)
{
  return s >= NATSIM_STAT_NO_FREE_PORT && sum->totals.v[s] == 0.0 && sum->ci95.v[s] == 0.0;
}

const char *
report_stat_label (NatsimStat s)
{
  g_return_val_if_fail ((unsigned) s < NATSIM_STAT_N, "?");
  /* A figure added to NatsimStat without a label shows its key. */
  return stat_labels[s] != NULL ? stat_labels[s] : natsim_stat_name (s);
}

const char *
report_fmt_clock (char *buf, double seconds)
{
  guint64 s;

  if (!isfinite (seconds) || seconds < 0.0)
    seconds = 0.0;
  s = (guint64) llround (seconds);
  g_snprintf (buf, REPORT_NUM_BUF, "%" G_GUINT64_FORMAT ":%02u:%02u",
              s / 3600u, (guint) (s / 60u % 60u), (guint) (s % 60u));
  return buf;
}

static JsonObject *
config_object (const NatsimReport *r)
{
  if (r->config == NULL || !JSON_NODE_HOLDS_OBJECT (r->config))
    return NULL;
  return json_node_get_object (r->config);
}

static const char *
object_string (JsonObject *o, const char *key)
{
  JsonNode *n;

  if (o == NULL || !json_object_has_member (o, key))
    return NULL;
  n = json_object_get_member (o, key);
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

const char *
report_config_get (const NatsimReport *r, const char *group, const char *key)
{
  JsonObject *root = config_object (r);
  JsonNode *g;

  if (root == NULL || !json_object_has_member (root, group))
    return NULL;
  g = json_object_get_member (root, group);
  if (!JSON_NODE_HOLDS_OBJECT (g))
    return NULL;
  return object_string (json_node_get_object (g), key);
}

const char *
report_population_get (const NatsimReport *r, const char *name,
                       const char *key)
{
  JsonObject *root = config_object (r);
  JsonNode *pops;
  JsonArray *a;

  if (root == NULL || !json_object_has_member (root, "populations"))
    return NULL;
  pops = json_object_get_member (root, "populations");
  if (!JSON_NODE_HOLDS_ARRAY (pops))
    return NULL;
  a = json_node_get_array (pops);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *p = json_array_get_element (a, i);
      const char *n;

      if (!JSON_NODE_HOLDS_OBJECT (p))
        continue;
      n = object_string (json_node_get_object (p), "name");
      if (n != NULL && strcmp (n, name) == 0)
        return object_string (json_node_get_object (p), key);
    }
  return NULL;
}

guint
report_pool_size (const NatsimReport *r)
{
  const char *range = report_config_get (r, "nat", "port_range");
  uint16_t lo, hi;

  if (range == NULL || !natsim_parse_port_range (range, &lo, &hi, NULL))
    return 0;
  return (guint) hi - lo + 1u;
}

static gboolean
config_seconds (const NatsimReport *r, const char *key, double *ret)
{
  const char *v = report_config_get (r, "simulation", key);
  NatsimTime t;

  if (v == NULL || !natsim_parse_duration (v, &t, NULL))
    return FALSE;
  *ret = natsim_time_to_sec (t);
  return TRUE;
}

double
report_measured_seconds (const NatsimReport *r)
{
  double duration = 0.0, warmup = 0.0;

  if (!config_seconds (r, "duration", &duration))
    return 0.0;
  config_seconds (r, "warmup", &warmup);
  return duration > warmup ? duration - warmup : 0.0;
}

/* TRUE when the run had a warm-up (left out of the counts, but not of
 * the timeline). */
gboolean
report_has_warmup (const NatsimReport *r)
{
  double warmup = 0.0;

  return config_seconds (r, "warmup", &warmup) && warmup > 0.0;
}

/* ---- phrases shared by the findings and the headline ---- */

double
report_total (const NatsimSummary *sum, NatsimStat s)
{
  return sum->totals.v[s];
}

/* " (±0.4)" after a figure when there is a confidence interval; @percent
 * gives it in percentage points. */
void
report_append_ci (GString *out, const NatsimSummary *sum, NatsimStat s,
           gboolean percent)
{
  char buf[REPORT_NUM_BUF];
  double h = sum->ci95.v[s];

  /* A zero half-width (every replication agreed) says nothing a reader
   * needs. */
  if (sum->replications < 2 || !isfinite (h) || h == 0.0)
    return;
  g_string_append_printf (out, " (±%s)",
                          percent ? report_fmt_percent (buf, h)
                                  : report_fmt_num (buf, h));
}

const NatsimClassSummary *
report_class_at (const NatsimSummary *sum, guint i)
{
  return &g_array_index (sum->classes, NatsimClassSummary, i);
}

guint
report_n_classes (const NatsimSummary *sum)
{
  return sum->classes != NULL ? sum->classes->len : 0;
}

/* The class with the most of @s, or NULL when none has any. */
const NatsimClassSummary *
report_worst_class (const NatsimSummary *sum, NatsimStat s)
{
  const NatsimClassSummary *worst = NULL;

  for (guint i = 0; i < report_n_classes (sum); i++)
    {
      const NatsimClassSummary *c = report_class_at (sum, i);

      if (c->mean.v[s] > 0.0
          && (worst == NULL || c->mean.v[s] > worst->mean.v[s]))
        worst = c;
    }
  return worst;
}

/* The singular for what reads as exactly one once formatted. */
const char *
report_plural (double n, const char *one, const char *many)
{
  char buf[REPORT_NUM_BUF];

  return strcmp (report_fmt_num (buf, n), "1") == 0 ? one : many;
}

/* ", all of them in class X" or ", most (N) in class X" when there are
 * several classes; nothing otherwise. */
void
report_append_worst_class (GString *out, const NatsimSummary *sum, NatsimStat s)
{
  const NatsimClassSummary *c = report_worst_class (sum, s);
  char buf[REPORT_NUM_BUF];

  if (c == NULL || report_n_classes (sum) < 2)
    return;
  if (c->mean.v[s] >= report_total (sum, s) * 0.999)
    g_string_append_printf (out, ", all of them in class %s", c->name);
  else
    g_string_append_printf (out, ", most (%s) in class %s",
                            report_fmt_num (buf, c->mean.v[s]), c->name);
}

double
report_kind_value (const NatsimStats *st, NatsimStat base, NatsimFlowKind kind)
{
  double rest = st->v[base];

  if (kind != NATSIM_FLOW_OTHER)
    return st->v[natsim_stat_by_kind (base, kind)];
  for (guint k = NATSIM_FLOW_SIGNALLING; k < NATSIM_FLOW_N; k++)
    rest -= st->v[natsim_stat_by_kind (base, (NatsimFlowKind) k)];
  /* Means of sums and sums of means differ by rounding only. */
  return rest > 1e-9 * MAX (st->v[base], 1.0) ? rest : 0.0;
}

static const char *
kind_words (NatsimFlowKind kind)
{
  switch (kind)
    {
    case NATSIM_FLOW_SIGNALLING:
      return "signalling";
    case NATSIM_FLOW_MEDIA:
      return "media";
    case NATSIM_FLOW_KEEPALIVE:
      return "keepalive";
    case NATSIM_FLOW_HOUSEKEEPING:
      return "housekeeping";
    case NATSIM_FLOW_OTHER:
    default:
      return "unclassified";
    }
}

/* ": all signalling" or ": 8 signalling, 2 media" for the kinds of @base
 * in @st other than housekeeping; nothing when no kind is known (generic
 * flows, captures). */
void
report_append_kinds (GString *out, const NatsimStats *st, NatsimStat base)
{
  guint n = 0, only = NATSIM_FLOW_OTHER;
  gboolean first = TRUE;

  for (guint k = 0; k < NATSIM_FLOW_N; k++)
    if (k != NATSIM_FLOW_HOUSEKEEPING && report_kind_value (st, base, (NatsimFlowKind) k) > 0.0)
      {
        n++;
        only = k;
      }
  if (n == 0 || (n == 1 && only == NATSIM_FLOW_OTHER))
    return;
  if (n == 1)
    {
      g_string_append_printf (out, ", all %s", kind_words ((NatsimFlowKind) only));
      return;
    }
  for (guint k = 0; k < NATSIM_FLOW_N; k++)
    {
      char buf[REPORT_NUM_BUF];
      double v = report_kind_value (st, base, (NatsimFlowKind) k);

      if (k == NATSIM_FLOW_HOUSEKEEPING || v <= 0.0)
        continue;
      g_string_append_printf (out, "%s%s %s", first ? " (" : ", ", report_fmt_num (buf, v),
                              kind_words ((NatsimFlowKind) k));
      first = FALSE;
    }
  g_string_append_c (out, ')');
}

/* The population names of the report's configuration that are VoIP
 * endpoints (every profile but generic): they register, so missed calls
 * and unreachable time apply to them. */
static gboolean
has_registering_populations (const NatsimReport *r)
{
  JsonNode *pops;
  JsonArray *a;

  if (r->config == NULL || !JSON_NODE_HOLDS_OBJECT (r->config)
      || !json_object_has_member (json_node_get_object (r->config), "populations"))
    return FALSE;
  pops = json_object_get_member (json_node_get_object (r->config), "populations");
  if (!JSON_NODE_HOLDS_ARRAY (pops))
    return FALSE;
  a = json_node_get_array (pops);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *p = json_array_get_element (a, i);
      const char *profile;

      if (!JSON_NODE_HOLDS_OBJECT (p))
        continue;
      profile = object_string (json_node_get_object (p), "profile");
      if (profile != NULL && strcmp (profile, "generic") != 0)
        return TRUE;
    }
  return FALSE;
}

char *
report_headline (const NatsimReport *r)
{
  const NatsimSummary *sum = r->summary;
  GString *t;
  char a[REPORT_NUM_BUF], b[REPORT_NUM_BUF];
  double missed, unreach, fails, flows, lost;
  const NatsimClassSummary *c;

  if (sum == NULL)
    return NULL;
  missed = report_total (sum, NATSIM_STAT_MISSED_CALLS);
  unreach = report_total (sum, NATSIM_STAT_UNREACHABLE_SECONDS);
  fails = report_total (sum, NATSIM_STAT_ALLOCATION_FAILURES);
  flows = report_total (sum, NATSIM_STAT_FLOWS);
  lost = report_total (sum, NATSIM_STAT_BINDING_LOSSES)
         - report_total (sum, NATSIM_STAT_BINDING_LOSSES_HOUSEKEEPING);
  t = g_string_new (NULL);
  if (has_registering_populations (r) || missed > 0.0 || unreach > 0.0)
    {
      if (missed > 0.0)
        {
          g_string_append (t, report_fmt_num (a, missed));
          report_append_ci (t, sum, NATSIM_STAT_MISSED_CALLS, FALSE);
          g_string_append_printf (t, " %s", report_plural (missed, "missed call", "missed calls"));
        }
      else
        g_string_append (t, "no missed call");
      if (unreach > 0.0)
        {
          double measured = report_measured_seconds (r);
          const char *count_s;
          double count;

          c = report_worst_class (sum, NATSIM_STAT_UNREACHABLE_SECONDS);
          g_string_append_printf (t, "; endpoints unreachable for %s endpoint-seconds",
                                  report_fmt_num (a, unreach));
          count_s = c != NULL ? report_population_get (r, c->name, "count") : NULL;
          count = count_s != NULL ? g_ascii_strtod (count_s, NULL) : 0.0;
          if (c != NULL && count > 0.0 && measured > 0.0)
            g_string_append_printf (t, " (%s: %s %% of the time)", c->name,
                                    report_fmt_percent (b, c->mean.v[NATSIM_STAT_UNREACHABLE_SECONDS]
                                                             / (count * measured)));
        }
      else
        g_string_append (t, "; every registered endpoint reachable");
      g_string_append (t, "; ");
    }
  if (fails > 0.0)
    {
      char d[REPORT_NUM_BUF];

      g_string_append_printf (t, "%s %% of new flows refused (%s of %s)",
                              report_fmt_percent (a, report_total (sum, NATSIM_STAT_BLOCKING_PROBABILITY)),
                              report_fmt_num (b, fails), report_fmt_num (d, flows));
    }
  else
    g_string_append (t, "no flow refused");
  if (lost > 0.0)
    g_string_append_printf (t, "; %s inbound %s", report_fmt_num (a, lost),
                            report_plural (lost, "packet lost", "packets lost"));
  else
    g_string_append (t, "; no inbound packet lost");
  g_string_append_c (t, '.');
  /* Capitalise the first letter. */
  t->str[0] = g_ascii_toupper (t->str[0]);
  return g_string_free (t, FALSE);
}

char *
report_basis_sentence (const NatsimReport *r)
{
  const NatsimSummary *sum = r->summary;
  const char *warmup = report_config_get (r, "simulation", "warmup");
  const char *duration = report_config_get (r, "simulation", "duration");
  GString *t = g_string_new (NULL);

  if (sum == NULL)
    return g_string_free (t, FALSE);
  if (sum->replications > 1)
    g_string_append_printf (t, "Figures are means over %u independent "
                               "replications; ± gives the 95 %% confidence "
                               "half-width.",
                            sum->replications);
  else if (g_strcmp0 (r->command, "replay") == 0)
    /* A replay has one pass over the capture and no --replications. */
    g_string_append (t, "Figures come from one pass over the capture, so "
                        "they carry no confidence interval.");
  else
    g_string_append (t, "Figures come from a single replication, so they "
                        "carry no confidence interval (run with "
                        "--replications 10 for one).");
  if (duration != NULL)
    {
      g_string_append_printf (t, " The run lasted %s", duration);
      if (warmup != NULL && report_has_warmup (r))
        g_string_append_printf (t, "; counts leave out the first %s "
                                   "(warm-up)", warmup);
      g_string_append (t, ".");
    }
  return g_string_free (t, FALSE);
}

const char *
report_severity_label (ReportSeverity s)
{
  switch (s)
    {
    case REPORT_FINDING_BAD:
      return "Problem";
    case REPORT_FINDING_NOTE:
      return "Note";
    case REPORT_FINDING_OK:
    default:
      return "OK";
    }
}

char *
report_traces_list (const NatsimReport *r)
{
  GString *t;

  if (r->traces == NULL || r->traces->len == 0)
    return NULL;
  t = g_string_new (NULL);
  for (guint i = 0; i < r->traces->len; i++)
    {
      if (i > 0)
        g_string_append (t, ", ");
      g_string_append (t, g_ptr_array_index (r->traces, i));
    }
  return g_string_free (t, FALSE);
}

char *
report_run_sentence (const NatsimReport *r)
{
  guint reps = r->summary != NULL ? r->summary->replications : 0;

  return g_strdup_printf ("Seed %" G_GUINT64_FORMAT ", %u %s, natsim %s.", r->seed, reps,
                          reps == 1 ? "replication" : "replications", NATSIM_VERSION);
}

/* Busiest first; ties keep report order (the index decides). */
static gint
compare_busier (gconstpointer pa, gconstpointer pb, gpointer user_data)
{
  const NatsimSummary *sum = user_data;
  guint a = *(const guint *) pa, b = *(const guint *) pb;
  double va = g_array_index (sum->addresses, NatsimAddressSummary, a).peak_ports;
  double vb = g_array_index (sum->addresses, NatsimAddressSummary, b).peak_ports;

  if (va != vb)
    return va > vb ? -1 : 1;
  return a < b ? -1 : a > b;
}

static gint
compare_index (gconstpointer pa, gconstpointer pb)
{
  guint a = *(const guint *) pa, b = *(const guint *) pb;

  return a < b ? -1 : a > b;
}

GArray *
report_address_order (const NatsimSummary *sum, guint max)
{
  guint n = sum != NULL && sum->addresses != NULL ? sum->addresses->len : 0;
  GArray *order = g_array_sized_new (FALSE, FALSE, sizeof (guint), n);

  for (guint i = 0; i < n; i++)
    g_array_append_val (order, i);
  if (n <= max)
    return order;
  /* The @max busiest, shown in report order. */
  g_array_sort_with_data (order, compare_busier, (gpointer) sum);
  g_array_set_size (order, max);
  g_array_sort (order, compare_index);
  return order;
}
