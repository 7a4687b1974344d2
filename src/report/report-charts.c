/* natsim: the charts of a run's report (report.html), drawn through the
 * generic chart functions of charts.c:
 * - ports in use over time per public address, with the pool limit;
 * - live bindings over time;
 * - allocation failures per timeline interval;
 * - binding losses per class.
 * A chart with nothing to show (no failures, no losses) is replaced by a
 * sentence saying so.  Long timelines are thinned to at most MAX_POINTS
 * points: gauges keep the largest value of each group of buckets (a peak
 * must not vanish), counts are summed (and the axis says so). */
#include "report-private.h"

#include <math.h>
#include <string.h>

#include "natsim/charts.h"
#include "natsim/numfmt.h"
#include "natsim/parse.h"

#define MAX_POINTS 1500
#define MAX_ADDRESS_SERIES 8

static void
chart_free (gpointer p)
{
  ReportChart *c = p;

  g_free (c->id);
  g_free (c->title);
  g_free (c->svg);
  g_free (c->note);
  g_free (c);
}

const ReportChart *
report_chart_find (GPtrArray *charts, const char *id)
{
  for (guint i = 0; charts != NULL && i < charts->len; i++)
    {
      const ReportChart *c = g_ptr_array_index (charts, i);

      if (strcmp (c->id, id) == 0)
        return c;
    }
  return NULL;
}

/* The time axis in a unit that suits the run's length.  Gauges (ports,
 * bindings) are sampled at the end of each bucket and start from the empty
 * NAT at time 0, so their axis is 0 then the bucket ends; counts within a
 * bucket (failures) are drawn at the bucket's middle. */
typedef struct
{
  guint       group;   /* buckets per point */
  guint       n;       /* points of a count series */
  double     *x_gauge; /* [n + 1]: 0, then the ends of the groups */
  double     *x_mid;   /* [n]: the middles of the groups */
  const char *label;
  double      unit;    /* seconds per x unit */
  double      warmup;  /* the warm-up's end in x units (0: none) */
} TimeAxis;

static void
time_axis_init (TimeAxis *t, const NatsimReport *r, const NatsimSummary *sum, guint n_buckets)
{
  double span = sum->interval_s * n_buckets;
  double unit;

  t->group = (n_buckets + MAX_POINTS - 1) / MAX_POINTS;
  if (t->group == 0)
    t->group = 1;
  t->n = (n_buckets + t->group - 1) / t->group;
  if (span <= 600.0)
    {
      unit = 1.0;
      t->label = "time since start (s)";
    }
  else if (span <= 3.0 * 3600.0)
    {
      unit = 60.0;
      t->label = "time since start (min)";
    }
  else
    {
      unit = 3600.0;
      t->label = "time since start (h)";
    }
  t->unit = unit;
  {
    const char *w = report_config_get (r, "simulation", "warmup");
    NatsimTime wt;

    t->warmup = w != NULL && natsim_parse_duration (w, &wt, NULL)
                  ? natsim_time_to_sec (wt) / unit : 0.0;
  }
  t->x_gauge = g_new (double, t->n + 1);
  t->x_mid = g_new (double, MAX (t->n, 1));
  t->x_gauge[0] = 0.0;
  for (guint i = 0; i < t->n; i++)
    {
      guint first = i * t->group;
      guint last = MIN ((i + 1) * t->group, n_buckets);

      t->x_gauge[i + 1] = sum->interval_s * last / unit;
      t->x_mid[i] = sum->interval_s * (first + last) / 2.0 / unit;
    }
}

static void
time_axis_clear (TimeAxis *t)
{
  g_clear_pointer (&t->x_gauge, g_free);
  g_clear_pointer (&t->x_mid, g_free);
}

/* A gauge on the axis: 0 at time 0, then the largest value of each
 * group (a peak must not vanish when thinning). */
static double *
thin_gauge (const TimeAxis *t, const GArray *a)
{
  double *y = g_new0 (double, t->n + 1);

  for (guint k = 0; k < a->len; k++)
    {
      guint i = k / t->group;
      double v = g_array_index (a, double, k);

      if (i >= t->n)
        break;
      if (k % t->group == 0 || v > y[i + 1])
        y[i + 1] = v;
    }
  return y;
}

/* A count on the axis: the sum of each group. */
static double *
thin_count (const TimeAxis *t, const GArray *a)
{
  double *y = g_new0 (double, MAX (t->n, 1));

  for (guint k = 0; k < a->len; k++)
    {
      guint i = k / t->group;

      if (i >= t->n)
        break;
      y[i] += g_array_index (a, double, k);
    }
  return y;
}

static gboolean
all_zero (const GArray *a)
{
  for (guint k = 0; a != NULL && k < a->len; k++)
    if (g_array_index (a, double, k) != 0.0)
      return FALSE;
  return TRUE;
}

/* Adds a chart.  When gnuplot failed, the first reason is kept in
 * *@failed: every chart is then skipped (the next ones would fail the same
 * way, each after the time limit). */
static void
add_chart (GPtrArray *out, const char *id, const char *title, char *svg,
           GError **error, GError **failed)
{
  ReportChart *c;

  if (svg == NULL)
    {
      if (*failed == NULL)
        *failed = g_steal_pointer (error);
      return;
    }
  c = g_new0 (ReportChart, 1);
  c->id = g_strdup (id);
  c->title = g_strdup (title);
  c->svg = svg;
  g_ptr_array_add (out, c);
}

static void
add_note (GPtrArray *out, const char *id, const char *title,
          const char *note)
{
  ReportChart *c = g_new0 (ReportChart, 1);

  c->id = g_strdup (id);
  c->title = g_strdup (title);
  c->note = g_strdup (note);
  g_ptr_array_add (out, c);
}

/* The warm-up, left out of every count, shaded on time charts. */
static void
shade_warmup (NatsimLineChart *chart, const TimeAxis *t)
{
  chart->x_time = TRUE;
  if (t->warmup > 0.0)
    {
      chart->shade_label = "warm-up";
      chart->shade_to = t->warmup;
    }
}

static void
chart_ports (GPtrArray *out, const NatsimReport *r, const NatsimSummary *sum,
             const TimeAxis *t, GError **failed)
{
  static const char title[] = "Ports in use per public address";
  g_autoptr (GArray) order = report_address_order (sum, MAX_ADDRESS_SERIES);
  g_autoptr (GPtrArray) ys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree NatsimChartSeries *series = NULL;
  g_autofree char *limit_label = NULL;
  g_autofree char *y2_label = NULL;
  g_autoptr (GError) error = NULL;
  NatsimLineChart chart = { 0 };
  guint pool = report_pool_size (r);
  gboolean per_address = order->len > 0;
  guint n_addr = sum->addresses != NULL ? sum->addresses->len : 0;

  for (guint i = 0; i < order->len && per_address; i++)
    per_address = g_array_index (sum->addresses, NatsimAddressSummary,
                                 g_array_index (order, guint, i))
                    .tl_ports
                  != NULL;
  if (per_address)
    for (guint i = 0; i < order->len; i++)
      {
        const NatsimAddressSummary *a
          = &g_array_index (sum->addresses, NatsimAddressSummary,
                            g_array_index (order, guint, i));

        g_ptr_array_add (ys, thin_gauge (t, a->tl_ports));
        g_ptr_array_add (names, g_strdup (a->address));
      }
  else
    {
      /* No per-address timeline: the sum over the pool. */
      g_ptr_array_add (ys, thin_gauge (t, sum->tl_ports));
      char n[REPORT_NUM_BUF];

      g_ptr_array_add (names, g_strdup_printf ("all %s together",
                                               natsim_fmt_noun (n, n_addr, TRUE, "address",
                                                                "addresses")));
      pool *= MAX (n_addr, 1u);
    }
  series = g_new0 (NatsimChartSeries, ys->len);
  for (guint i = 0; i < ys->len; i++)
    {
      series[i].name = g_ptr_array_index (names, i);
      series[i].y = g_ptr_array_index (ys, i);
    }
  if (!per_address)
    chart.title = "Ports in use, all public addresses together";
  else if (n_addr > order->len)
    chart.title = "Ports in use on the busiest public addresses";
  else
    chart.title = title;
  chart.x_label = t->label;
  chart.y_label = "ports in use";
  chart.x = t->x_gauge;
  chart.n_x = t->n + 1;
  chart.series = series;
  chart.n_series = ys->len;
  chart.style = NATSIM_CHART_LINES;
  chart.y_from_zero = TRUE;
  if (pool > 0)
    {
      char n[REPORT_NUM_BUF];

      /* The y axis fits the ports in use; the right axis gives them as a
       * share of the pool, and the limit line appears when the data come
       * near it. */
      limit_label = g_strdup_printf ("pool limit (%s)", natsim_fmt_noun (n, pool, TRUE, "port", "ports"));
      chart.limit_label = limit_label;
      chart.limit = pool;
      y2_label = g_strdup_printf ("share of the %s pool", natsim_fmt_int (n, pool));
      chart.y2_share_of = pool;
      chart.y2_label = y2_label;
    }
  shade_warmup (&chart, t);
  {
    char *svg = natsim_chart_line_svg (&chart, "ports", &error);

    add_chart (out, "ports", chart.title, svg, &error, failed);
  }
}

static void
chart_bindings (GPtrArray *out, const NatsimSummary *sum, const TimeAxis *t,
                GError **failed)
{
  g_autofree double *y = thin_gauge (t, sum->tl_bindings);
  g_autoptr (GError) error = NULL;
  NatsimChartSeries series = { "live bindings", y };
  NatsimLineChart chart = { 0 };
  char *svg;

  chart.title = "Live bindings";
  chart.x_label = t->label;
  chart.y_label = "bindings";
  chart.x = t->x_gauge;
  chart.n_x = t->n + 1;
  chart.series = &series;
  chart.n_series = 1;
  chart.style = NATSIM_CHART_LINES;
  chart.y_from_zero = TRUE;
  shade_warmup (&chart, t);
  svg = natsim_chart_line_svg (&chart, "bindings", &error);
  add_chart (out, "bindings", chart.title, svg, &error, failed);
}

static void
chart_failures (GPtrArray *out, const NatsimSummary *sum, const TimeAxis *t,
                GError **failed)
{
  static const char title[] = "Allocation failures over time";
  g_autofree double *y = NULL;
  g_autofree char *y_label = NULL;
  g_autoptr (GError) error = NULL;
  NatsimChartSeries series = { "allocation failures", NULL };
  NatsimLineChart chart = { 0 };
  char buf[REPORT_NUM_BUF];
  char *svg;

  if (all_zero (sum->tl_failures))
    {
      add_note (out, "failures", title,
                "No allocation failures: every new flow got a port, so "
                "there is nothing to draw.");
      return;
    }
  y = thin_count (t, sum->tl_failures);
  series.y = y;
  natsim_format_duration ((NatsimTime) llround (sum->interval_s * t->group
                                                 * 1e9),
                          buf, sizeof buf);
  y_label = g_strdup_printf ("refused flows per %s", buf);
  chart.title = title;
  chart.x_label = t->label;
  chart.y_label = y_label;
  chart.x = t->x_mid;
  chart.n_x = t->n;
  chart.series = &series;
  chart.n_series = 1;
  chart.style = NATSIM_CHART_BOXES;
  chart.y_from_zero = TRUE;
  shade_warmup (&chart, t);
  svg = natsim_chart_line_svg (&chart, "failures", &error);
  add_chart (out, "failures", title, svg, &error, failed);
}

/* Binding losses and rebindings per class, housekeeping left out: NTP
 * polls that rebind every quarter of an hour are harmless and would
 * dwarf the bars that matter.  The note under the chart says how many
 * were left out. */
static void
chart_losses (GPtrArray *out, const NatsimSummary *sum, GError **failed)
{
  static const char title[] = "Binding losses and rebindings per class";
  guint n = sum->classes != NULL ? sum->classes->len : 0;
  g_autofree const char **names = g_new0 (const char *, MAX (n, 1u));
  g_autofree double *losses = g_new0 (double, MAX (n, 1u));
  g_autofree double *rebinds = g_new0 (double, MAX (n, 1u));
  g_autoptr (GError) error = NULL;
  NatsimChartSeries series[2] = { { "binding losses (inbound packets "
                                    "dropped)", NULL },
                                  { "rebindings (outbound packets that "
                                    "found their binding expired)", NULL } };
  NatsimBarChart chart = { 0 };
  gboolean any = FALSE;
  double hk_rebinds = sum->totals.v[NATSIM_STAT_REBINDINGS_HOUSEKEEPING];
  double hk_losses = sum->totals.v[NATSIM_STAT_BINDING_LOSSES_HOUSEKEEPING];
  g_autofree char *left_out = NULL;
  char *svg;

  for (guint i = 0; i < n; i++)
    {
      const NatsimClassSummary *c
        = &g_array_index (sum->classes, NatsimClassSummary, i);

      names[i] = c->name;
      losses[i] = MAX (0.0, c->mean.v[NATSIM_STAT_BINDING_LOSSES]
                              - c->mean.v[NATSIM_STAT_BINDING_LOSSES_HOUSEKEEPING]);
      rebinds[i] = MAX (0.0, c->mean.v[NATSIM_STAT_REBINDINGS]
                               - c->mean.v[NATSIM_STAT_REBINDINGS_HOUSEKEEPING]);
      any = any || losses[i] > 0.0 || rebinds[i] > 0.0;
    }
  if (hk_rebinds > 0.0 || hk_losses > 0.0)
    {
      char a[REPORT_NUM_BUF], b[REPORT_NUM_BUF];

      natsim_fmt_noun (a, hk_rebinds, FALSE, "rebinding", "rebindings");
      natsim_fmt_noun (b, hk_losses, FALSE, "lost packet", "lost packets");
      left_out = g_strdup_printf ("Housekeeping flows (NTP, configuration and firmware "
                                  "checks) are left out: %s%s%s, all harmless.",
                                  hk_rebinds > 0.0 ? a : "",
                                  hk_rebinds > 0.0 && hk_losses > 0.0 ? " and " : "",
                                  hk_losses > 0.0 ? b : "");
    }
  if (!any)
    {
      g_autofree char *note
        = g_strconcat ("No binding losses and no rebindings in any class", left_out != NULL
                       ? " apart from housekeeping flows" : "", ": there is nothing to draw.",
                       left_out != NULL ? " " : "", left_out, NULL);

      add_note (out, "losses", title, note);
      return;
    }
  series[0].y = losses;
  series[1].y = rebinds;
  chart.title = title;
  chart.y_label = "packets";
  chart.categories = names;
  chart.n_categories = n;
  chart.series = series;
  chart.n_series = 2;
  svg = natsim_chart_bars_svg (&chart, "losses", &error);
  add_chart (out, "losses", title, svg, &error, failed);
  if (svg != NULL && left_out != NULL)
    ((ReportChart *) g_ptr_array_index (out, out->len - 1))->note = g_steal_pointer (&left_out);
}

GPtrArray *
report_charts (const NatsimReport *r, char **ret_skipped)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) failed = NULL;
  GPtrArray *out;
  const NatsimSummary *sum = r->summary;
  TimeAxis t = { 0 };

  if (!natsim_charts_available (&error))
    {
      *ret_skipped = g_strdup (error->message);
      return NULL;
    }
  out = g_ptr_array_new_with_free_func (chart_free);
  if (sum == NULL || sum->tl_bindings == NULL || sum->tl_bindings->len == 0)
    return out;

  time_axis_init (&t, r, sum, sum->tl_bindings->len);
  chart_ports (out, r, sum, &t, &failed);
  if (failed == NULL)
    chart_bindings (out, sum, &t, &failed);
  if (failed == NULL)
    chart_failures (out, sum, &t, &failed);
  if (failed == NULL && sum->classes != NULL && sum->classes->len > 0)
    chart_losses (out, sum, &failed);
  time_axis_clear (&t);
  if (failed != NULL)
    {
      *ret_skipped = g_strdup (failed->message);
      g_ptr_array_unref (out);
      return NULL;
    }
  return out;
}
