/* natsim: closed forms and statistics over replications.
 *
 * Erlang B is computed with the standard recursion rather than the direct
 * formula A^N/N! / sum(A^k/k!): the recursion only ever holds a probability
 * in [0, 1], so it neither overflows nor loses precision for thousands of
 * servers.  It is O(N) per call; natsim_erlang_b_servers() walks the same
 * recursion once, so it is O(answer). */
#include "natsim/analysis.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>

/* Blocking probability of an M/M/N/N loss system. */
double
natsim_erlang_b (guint servers, double erlangs)
{
  double b = 1.0;

  g_return_val_if_fail (isfinite (erlangs) && erlangs >= 0.0, NAN);

  for (guint n = 1; n <= servers; n++)
    {
      double ab = erlangs * b;

      b = ab / ((double) n + ab);
    }
  return b;
}

/* The fewest servers that keep blocking at or below @target.  Zero load
 * needs no server.  B(N) falls faster than geometrically once N > A, so the
 * walk ends for any finite load and any positive target. */
guint
natsim_erlang_b_servers (double erlangs, double target)
{
  double b = 1.0;
  guint n = 0;

  g_return_val_if_fail (isfinite (erlangs) && erlangs >= 0.0, 0);
  g_return_val_if_fail (target > 0.0, 0);

  if (erlangs == 0.0)
    return 0;
  while (b > target && n < G_MAXUINT)
    {
      double ab;

      n++;
      ab = erlangs * b;
      b = ab / ((double) n + ab);
    }
  return n;
}

/* Arithmetic mean; 0 for no values. */
double
natsim_mean (const double *x, gsize n)
{
  double sum = 0.0;

  if (n == 0)
    return 0.0;
  g_return_val_if_fail (x != NULL, 0.0);
  for (gsize i = 0; i < n; i++)
    sum += x[i];
  return sum / (double) n;
}

/* t(0.975, n-1) * s / sqrt(n), with s the sample standard deviation
 * (denominator n-1). */
double
natsim_ci95_halfwidth (const double *x, gsize n)
{
  double t, s;

  if (n < 2)
    return 0.0;
  g_return_val_if_fail (x != NULL, 0.0);

  t = gsl_cdf_tdist_Pinv (0.975, (double) (n - 1));
  s = gsl_stats_sd (x, 1, n);
  return t * s / sqrt ((double) n);
}
