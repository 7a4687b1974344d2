/* natsim: means and confidence intervals of several replications. */
#include "natsim/analysis.h"

/* Blocking probability of one run: its failures over its mapping attempts,
 * 0 when it made none (docs/report.md: blocking_probability =
 * allocation_failures / flows). */
static double
run_blocking (const NatsimStats *st)
{
  double flows = st->v[NATSIM_STAT_FLOWS];

  if (flows <= 0.0)
    return 0.0;
  return st->v[NATSIM_STAT_ALLOCATION_FAILURES] / flows;
}

/* Fills @mean and @ci95 from the statistics @get(run) of every run.  The
 * blocking probability is the mean of the per-run ratios, not the ratio of
 * the means, so that its confidence interval is that of a plain mean. */
static void
summarize_stats (NatsimRunResult *const *runs, guint n,
                 const NatsimStats *(*get) (const NatsimRunResult *, guint),
                 guint index, double *scratch, NatsimStats *mean,
                 NatsimStats *ci95)
{
  for (guint s = 0; s < NATSIM_STAT_N; s++)
    {
      for (guint i = 0; i < n; i++)
        {
          const NatsimStats *st = get (runs[i], index);

          scratch[i] = s == NATSIM_STAT_BLOCKING_PROBABILITY
                         ? run_blocking (st) : st->v[s];
        }
      mean->v[s] = natsim_mean (scratch, n);
      ci95->v[s] = natsim_ci95_halfwidth (scratch, n);
    }
}

static const NatsimStats *
get_totals (const NatsimRunResult *r, guint index)
{
  return &r->totals;
}

static const NatsimStats *
get_class (const NatsimRunResult *r, guint index)
{
  return &r->per_class[index];
}

/* The mean, bucket by bucket, of one timeline of every run. */
static GArray *
mean_series (NatsimRunResult *const *runs, guint n, gsize offset,
             guint n_intervals)
{
  GArray *a = g_array_sized_new (FALSE, TRUE, sizeof (double), n_intervals);

  for (guint k = 0; k < n_intervals; k++)
    {
      double sum = 0.0, m;

      for (guint i = 0; i < n; i++)
        {
          const double *series
            = G_STRUCT_MEMBER (const double *, runs[i], offset);

          sum += series[k];
        }
      m = sum / (double) n;
      g_array_append_val (a, m);
    }
  return a;
}

static void
class_summary_clear (gpointer p)
{
  NatsimClassSummary *c = p;

  g_clear_pointer (&c->name, g_free);
}

static void
address_summary_clear (gpointer p)
{
  NatsimAddressSummary *a = p;

  g_clear_pointer (&a->address, g_free);
  g_clear_pointer (&a->tl_ports, g_array_unref);
  g_clear_pointer (&a->tl_blocks, g_array_unref);
}

/* The mean over runs of a per-address figure (0 for a run without it). */
static double
mean_address_figure (NatsimRunResult *const *runs, guint n, gsize offset, guint a,
                     double *scratch)
{
  for (guint i = 0; i < n; i++)
    {
      const double *v = G_STRUCT_MEMBER (const double *, runs[i], offset);
      scratch[i] = v != NULL ? v[a] : 0.0;
    }
  return natsim_mean (scratch, n);
}

/* The mean, bucket by bucket, of address @a's per-address timeline over
 * every run; NULL unless every run recorded it. */
static GArray *
mean_address_series (NatsimRunResult *const *runs, guint n, guint a,
                     guint n_intervals, gsize offset)
{
  GArray *series;

  for (guint i = 0; i < n; i++)
    if (G_STRUCT_MEMBER (const double *, runs[i], offset) == NULL)
      return NULL;
  series = g_array_sized_new (FALSE, TRUE, sizeof (double), n_intervals);
  for (guint k = 0; k < n_intervals; k++)
    {
      double sum = 0.0, m;

      for (guint i = 0; i < n; i++)
        sum += G_STRUCT_MEMBER (const double *, runs[i], offset)[(gsize) a * n_intervals + k];
      m = sum / (double) n;
      g_array_append_val (series, m);
    }
  return series;
}

/* @class_names may be NULL (classes are then called "class0", ...);
 * @addresses (host byte order, @n_given of them) are the public addresses
 * the runs used: as many as the runs have (a configuration other than the
 * runs' would name the wrong addresses, or read past the list). */
NatsimSummary *
natsim_summarize (NatsimRunResult *const *runs, guint n,
                  const char *const *class_names, const uint32_t *addresses,
                  guint n_given)
{
  NatsimSummary *s;
  guint n_classes, n_addresses, n_intervals;
  g_autofree double *scratch = NULL;

  g_return_val_if_fail (runs != NULL && n > 0, NULL);

  n_classes = runs[0]->n_classes;
  n_addresses = runs[0]->n_addresses;
  n_intervals = runs[0]->n_intervals;
  for (guint i = 0; i < n; i++)
    {
      g_assert (runs[i] != NULL);
      g_assert (runs[i]->n_classes == n_classes);
      g_assert (runs[i]->n_addresses == n_addresses);
      g_assert (runs[i]->n_intervals == n_intervals);
    }
  g_return_val_if_fail (addresses != NULL || n_addresses == 0, NULL);
  g_return_val_if_fail (n_given == n_addresses, NULL);

  s = g_new0 (NatsimSummary, 1);
  s->replications = n;
  scratch = g_new (double, n);

  summarize_stats (runs, n, get_totals, 0, scratch, &s->totals, &s->ci95);

  s->classes = g_array_sized_new (FALSE, TRUE, sizeof (NatsimClassSummary),
                                  n_classes);
  g_array_set_clear_func (s->classes, class_summary_clear);
  for (guint c = 0; c < n_classes; c++)
    {
      NatsimClassSummary cs = { 0 };

      cs.name = class_names != NULL ? g_strdup (class_names[c])
                                    : g_strdup_printf ("class%u", c);
      summarize_stats (runs, n, get_class, c, scratch, &cs.mean, &cs.ci95);
      g_array_append_val (s->classes, cs);
    }

  s->addresses = g_array_sized_new (FALSE, TRUE,
                                    sizeof (NatsimAddressSummary),
                                    n_addresses);
  g_array_set_clear_func (s->addresses, address_summary_clear);
  for (guint a = 0; a < n_addresses; a++)
    {
      NatsimAddressSummary as = { 0 };
      uint32_t ip = addresses[a];

      for (guint i = 0; i < n; i++)
        scratch[i] = runs[i]->addr_peak_ports[a];
      as.peak_ports = natsim_mean (scratch, n);
      for (guint i = 0; i < n; i++)
        scratch[i] = runs[i]->addr_failures[a];
      as.allocation_failures = natsim_mean (scratch, n);
      as.address = g_strdup_printf ("%u.%u.%u.%u", (ip >> 24) & 0xffu,
                                    (ip >> 16) & 0xffu, (ip >> 8) & 0xffu,
                                    ip & 0xffu);
      as.tl_ports = mean_address_series (runs, n, a, n_intervals,
                                         G_STRUCT_OFFSET (NatsimRunResult, tl_addr_ports));
      as.blocks = runs[0]->blocks_per_address;
      as.peak_blocks = mean_address_figure (runs, n, G_STRUCT_OFFSET (NatsimRunResult,
                                                                      addr_peak_blocks),
                                            a, scratch);
      as.address_fallbacks = mean_address_figure (runs, n, G_STRUCT_OFFSET (NatsimRunResult,
                                                                            addr_fallbacks),
                                                  a, scratch);
      as.tl_blocks = mean_address_series (runs, n, a, n_intervals,
                                          G_STRUCT_OFFSET (NatsimRunResult, tl_addr_blocks));
      g_array_append_val (s->addresses, as);
    }

  s->interval_s = runs[0]->interval_s;
  s->tl_bindings = mean_series (runs, n,
                                G_STRUCT_OFFSET (NatsimRunResult, tl_bindings),
                                n_intervals);
  s->tl_ports = mean_series (runs, n,
                             G_STRUCT_OFFSET (NatsimRunResult, tl_ports),
                             n_intervals);
  s->tl_failures = mean_series (runs, n,
                                G_STRUCT_OFFSET (NatsimRunResult, tl_failures),
                                n_intervals);
  s->blocks_per_address = runs[0]->blocks_per_address;
  if (runs[0]->tl_blocks != NULL)
    {
      s->tl_blocks = mean_series (runs, n, G_STRUCT_OFFSET (NatsimRunResult, tl_blocks),
                                  n_intervals);
      s->tl_block_subscribers
        = mean_series (runs, n, G_STRUCT_OFFSET (NatsimRunResult, tl_block_subscribers),
                       n_intervals);
    }
  if (n > 0 && runs[0]->packets != NULL)
    s->packets = g_array_ref (runs[0]->packets);
  return s;
}

/* Frees @s and everything it holds; NULL-safe. */
void
natsim_summary_free (NatsimSummary *s)
{
  if (s == NULL)
    return;
  g_clear_pointer (&s->classes, g_array_unref);
  g_clear_pointer (&s->addresses, g_array_unref);
  g_clear_pointer (&s->tl_bindings, g_array_unref);
  g_clear_pointer (&s->tl_ports, g_array_unref);
  g_clear_pointer (&s->tl_failures, g_array_unref);
  g_clear_pointer (&s->tl_blocks, g_array_unref);
  g_clear_pointer (&s->tl_block_subscribers, g_array_unref);
  g_clear_pointer (&s->packets, g_array_unref);
  g_free (s);
}
