/* natsim: the recommendation type and the timeout rules (natsim/recommend.h). */
#include "natsim/recommend.h"

#include <math.h>
#include <string.h>

void
natsim_recommendation_clear (NatsimRecommendation *r)
{
  if (r == NULL)
    return;
  g_clear_pointer (&r->id, g_free);
  g_clear_pointer (&r->unit, g_free);
  g_clear_pointer (&r->reason, g_free);
  g_clear_pointer (&r->basis, g_free);
}

static void
clear_func (gpointer p)
{
  natsim_recommendation_clear (p);
}

GArray *
natsim_recommendations_new (void)
{
  GArray *a = g_array_new (FALSE, TRUE, sizeof (NatsimRecommendation));

  g_array_set_clear_func (a, clear_func);
  return a;
}

void
natsim_recommendations_add (GArray *recs, const char *id, double value, const char *unit,
                            const char *basis, const char *fmt, ...)
{
  NatsimRecommendation r;
  va_list ap;

  g_return_if_fail (recs != NULL && id != NULL && unit != NULL && basis != NULL && fmt != NULL);
  va_start (ap, fmt);
  r.id = g_strdup (id);
  r.value = value;
  r.unit = g_strdup (unit);
  r.basis = g_strdup (basis);
  r.reason = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_array_append_val (recs, r);
}

void
natsim_recommendations_extend (GArray *into, const GArray *from)
{
  g_return_if_fail (into != NULL);
  for (guint i = 0; from != NULL && i < from->len; i++)
    {
      const NatsimRecommendation *r = &g_array_index (from, NatsimRecommendation, i);

      natsim_recommendations_add (into, r->id, r->value, r->unit, r->basis, "%s", r->reason);
    }
}

const NatsimRecommendation *
natsim_recommendations_find (const GArray *recs, const char *id)
{
  for (guint i = 0; recs != NULL && i < recs->len; i++)
    {
      const NatsimRecommendation *r = &g_array_index (recs, NatsimRecommendation, i);

      if (strcmp (r->id, id) == 0)
        return r;
    }
  return NULL;
}

static const NatsimTimerInfo timers[NATSIM_TIMER_N] = {
  /* RFC 4787 REQ-5: a UDP mapping timer MUST NOT expire in less than
   * 2 minutes. */
  { "timeout.udp", "udp_timeout", 120, "RFC 4787 REQ-5" },
  { "timeout.udp_stream", "udp_stream_timeout", 120, "RFC 4787 REQ-5" },
  /* RFC 5382 REQ-5: the established connection idle-timeout MUST NOT be
   * less than 2 hours 4 minutes. */
  { "timeout.tcp_established", "tcp_established_timeout", 7440, "RFC 5382 REQ-5" },
};

const NatsimTimerInfo *
natsim_timer_info (NatsimTimer t)
{
  g_return_val_if_fail (t < NATSIM_TIMER_N, NULL);
  return &timers[t];
}

double
natsim_timeout_for_gap (double gap_s)
{
  if (isnan (gap_s))
    return NAN;
  if (gap_s < 0.0)
    gap_s = 0.0;
  /* The margin covers what the gap does not show: network delay of the
   * refresh, scheduling jitter of the endpoint, and (for measured gaps)
   * the gaps a finite run did not see. */
  return ceil (gap_s + MAX (0.1 * gap_s, 5.0) - 1e-9);
}

double
natsim_timeout_recommend (NatsimTimer t, double gap_s, bool allow_below_rfc)
{
  double v = natsim_timeout_for_gap (gap_s);

  g_return_val_if_fail (t < NATSIM_TIMER_N, NAN);
  if (isnan (v) || allow_below_rfc)
    return v;
  return MAX (v, timers[t].rfc_min);
}

double
natsim_keepalive_for_timeout (double timeout_s)
{
  return floor (0.8 * timeout_s * 1000.0) / 1000.0;
}

NatsimVerification *
natsim_verification_new (void)
{
  NatsimVerification *v = g_new0 (NatsimVerification, 1);

  v->settings = g_ptr_array_new_with_free_func (g_free);
  return v;
}

void
natsim_verification_free (NatsimVerification *v)
{
  if (v == NULL)
    return;
  g_clear_pointer (&v->settings, g_ptr_array_unref);
  g_free (v->summary);
  g_free (v);
}

NatsimVerification *
natsim_verification_copy (const NatsimVerification *v)
{
  NatsimVerification *c;

  if (v == NULL)
    return NULL;
  c = natsim_verification_new ();
  for (guint i = 0; i < v->settings->len; i++)
    g_ptr_array_add (c->settings, g_strdup (g_ptr_array_index (v->settings, i)));
  c->replications = v->replications;
  c->blocking = v->blocking;
  c->blocking_ci95 = v->blocking_ci95;
  c->target_blocking = v->target_blocking;
  c->binding_losses = v->binding_losses;
  c->binding_losses_ci95 = v->binding_losses_ci95;
  c->packets_in = v->packets_in;
  c->target_loss = v->target_loss;
  c->busiest_fill = v->busiest_fill;
  c->blocking_ok = v->blocking_ok;
  c->losses_ok = v->losses_ok;
  c->summary = g_strdup (v->summary);
  return c;
}

static void
withhold (NatsimRecommendation *r, const char *why)
{
  char *reason;

  if (isnan (r->value))
    return;
  reason = g_strdup_printf ("Not given: %s (the value the rule gave, %.6g %s, failed the "
                            "target when simulated with the other recommendations). %s",
                            why, r->value, r->unit, r->reason);
  g_free (r->reason);
  r->reason = reason;
  r->value = NAN;
}

void
natsim_recommendations_apply_verification (GArray *recs, const NatsimVerification *v)
{
  g_return_if_fail (recs != NULL && v != NULL);
  for (guint i = 0; i < recs->len; i++)
    {
      NatsimRecommendation *r = &g_array_index (recs, NatsimRecommendation, i);

      if (!v->blocking_ok && g_str_has_prefix (r->id, "pool."))
        {
          g_autofree char *why
            = g_strdup_printf ("blocking %.3g %% (±%.2g) is not below the target of %.3g %%",
                               v->blocking * 100.0, v->blocking_ci95 * 100.0,
                               v->target_blocking * 100.0);
          withhold (r, why);
        }
      if (!v->losses_ok && g_str_has_prefix (r->id, "timeout."))
        {
          g_autofree char *why
            = g_strdup_printf ("%.4g binding losses per replication in %.4g inbound packets "
                               "exceed the target of %.3g %% beyond the flows refused",
                               v->binding_losses, v->packets_in, v->target_loss * 100.0);
          withhold (r, why);
        }
    }
}
