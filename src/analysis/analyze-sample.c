/* natsim analysis: quantiles and reservoir samples of `natsim analyze`.
 *
 * Samples (idle gaps, durations, refresh gaps, REGISTER intervals, Expires)
 * go into per-figure reservoirs: all values up to the cap, then Vitter's
 * algorithm R with a fixed-seed generator, so the same input always keeps
 * the same sample.  Quantiles come from GSL on the sorted sample.
 */
#include <gsl/gsl_statistics_double.h>
#include <math.h>

#include "analyze-private.h"

void
natsim_quantiles_from_sorted (const double *sorted, size_t n, NatsimQuantiles *ret)
{
  g_return_if_fail (ret != NULL);

  ret->n = ret->kept = n;
  if (n == 0)
    {
      ret->min = ret->p50 = ret->p90 = ret->p99 = ret->max = NAN;
      return;
    }
  ret->min = sorted[0];
  ret->p50 = gsl_stats_quantile_from_sorted_data (sorted, 1, n, 0.5);
  ret->p90 = gsl_stats_quantile_from_sorted_data (sorted, 1, n, 0.9);
  ret->p99 = gsl_stats_quantile_from_sorted_data (sorted, 1, n, 0.99);
  ret->max = sorted[n - 1];
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

void
analyze_reservoir_add (NatsimAnalysis *a, Reservoir *r, double x)
{
  r->seen++;
  if (r->v == NULL)
    r->v = g_array_new (FALSE, FALSE, sizeof (double));
  if (r->v->len < a->max_samples)
    g_array_append_val (r->v, x);
  else
    {
      /* Algorithm R: the new value replaces a kept one with probability
       * cap / seen, so the sample stays uniform over all values. */
      guint64 j = (guint64) (gsl_rng_uniform (a->rng) * (double) r->seen);

      if (j < a->max_samples)
        g_array_index (r->v, double, j) = x;
    }
}

void
analyze_reservoir_quantiles (Reservoir *r, NatsimQuantiles *ret)
{
  guint len = r->v != NULL ? r->v->len : 0;

  if (len > 0)
    g_array_sort (r->v, compare_double);
  natsim_quantiles_from_sorted (len > 0 ? (const double *) r->v->data : NULL, len, ret);
  ret->n = r->seen;
}

void
analyze_reservoir_clear (Reservoir *r)
{
  g_clear_pointer (&r->v, g_array_unref);
}
