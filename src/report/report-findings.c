/* natsim: the findings of a report, i.e. its figures turned into
 * sentences, and their ranking by harm.  The number formats and the
 * phrases they share with the headline are in report-common.c. */
#include "report-private.h"

#include <string.h>

#include "natsim/numfmt.h"

/* ---- findings ----
 *
 * Ranked by harm to a VoIP operator: what a caller notices first (missed
 * calls, endpoints nobody can reach, flows refused), then packets lost,
 * then what may become a problem, then what is fine.  Rebindings and
 * binding losses are told apart by flow kind (natsim/nat.h): housekeeping
 * flows (NTP, configuration and firmware checks) carry nothing anybody
 * calls in over, so they are never a problem. */

/* Harm ranks within a severity: lower is worse. */
enum
{
  HARM_MISSED_CALLS = 10,
  HARM_UNREACHABLE = 20,
  HARM_REFUSED = 30,
  HARM_LOST = 40,
  HARM_REBINDING = 50,
  HARM_FILTERED = 60,
  HARM_NEAR_FULL = 70,
  HARM_MEDIA_REBINDING = 80,
  HARM_CONFIG = 90,
  HARM_HOUSEKEEPING = 100,
  HARM_NOTHING_LOST = 105,
  HARM_HEADROOM = 110,
};

static void
finding_free (gpointer p)
{
  ReportFinding *f = p;

  g_free (f->text);
  g_free (f);
}

static void
add_finding (GPtrArray *out, ReportSeverity severity, guint harm, GString *text)
{
  ReportFinding *f = g_new0 (ReportFinding, 1);

  f->severity = severity;
  f->harm = harm;
  f->text = g_string_free (text, FALSE);
  g_ptr_array_add (out, f);
}


/* "the busiest public address used at most 7 of its 10 ports (70 %)",
 * and with @free ", so 30 % of the pool stayed free at the peak". */
static void
append_headroom (GString *out, const NatsimReport *r,
                 const NatsimSummary *sum, gboolean free)
{
  char a[REPORT_NUM_BUF], b[REPORT_NUM_BUF];
  guint pool = report_pool_size (r);
  double peak = report_total (sum, NATSIM_STAT_PEAK_PORTS_PER_ADDRESS);

  g_string_append_printf (out, "the busiest public address used at most %s",
                          report_fmt_num (a, peak));
  report_append_ci (out, sum, NATSIM_STAT_PEAK_PORTS_PER_ADDRESS, FALSE);
  if (pool == 0)
    {
      g_string_append (out, " ports");
      return;
    }
  g_string_append_printf (out, " of its %s (%s %%)",
                          natsim_fmt_noun (b, pool, TRUE, "port", "ports"),
                          report_fmt_percent (a, peak / pool));
  if (free)
    g_string_append_printf (out, ", so %s %% of the pool stayed free at "
                                 "the peak",
                            report_fmt_percent (b, MAX (0.0, 1.0 - peak / pool)));
}

/* "With 2 public addresses of 64,512 ports each" */
static void
append_pool (GString *out, const NatsimReport *r, const NatsimSummary *sum)
{
  guint n = sum->addresses != NULL ? sum->addresses->len : 0;
  guint pool = report_pool_size (r);
  char a[REPORT_NUM_BUF], b[REPORT_NUM_BUF];

  if (n == 0)
    {
      g_string_append (out, "With this pool");
      return;
    }
  g_string_append_printf (out, "With %s", natsim_fmt_noun (a, n, TRUE, "public address",
                                                           "public addresses"));
  if (pool > 0)
    g_string_append_printf (out, " of %s%s", natsim_fmt_noun (b, pool, TRUE, "port", "ports"),
                            n == 1 ? "" : " each");
}

/* The timeline bucket with the most failures. */
static void
append_worst_interval (GString *out, const NatsimReport *r,
                       const NatsimSummary *sum)
{
  guint best = 0;
  double most = 0.0, all = 0.0;
  char a[REPORT_NUM_BUF], b[REPORT_NUM_BUF], c[REPORT_NUM_BUF];
  char d[REPORT_NUM_BUF];

  if (sum->tl_failures == NULL || sum->tl_failures->len < 2)
    return;
  for (guint k = 0; k < sum->tl_failures->len; k++)
    {
      double v = g_array_index (sum->tl_failures, double, k);

      all += v;
      if (v > most)
        {
          most = v;
          best = k;
        }
    }
  if (most <= 0.0)
    return;
  /* Name the worst interval only when refusals cluster there (twice the
   * mean per interval); a steady overload has no worst hour worth
   * naming. */
  if (most < 2.0 * all / sum->tl_failures->len)
    {
      g_string_append (out, " Refusals are spread over the whole run, not "
                            "bunched in one busy interval.");
      return;
    }
  g_string_append_printf (out, " The worst interval was %s-%s after the "
                               "start, with %s of the %s refusals of the "
                               "whole run%s.",
                          report_fmt_clock (a, best * sum->interval_s),
                          report_fmt_clock (b, (best + 1) * sum->interval_s),
                          report_fmt_num (c, most),
                          report_fmt_num (d, all),
                          report_has_warmup (r) ? " (warm-up included)" : "");
}

/* Names the true causes of the refusals (report.json no_free_port ...). */
static void
append_failure_causes (GString *t, const NatsimReport *r, const NatsimSummary *sum)
{
  char a[REPORT_NUM_BUF];
  const char *blocks = report_config_get (r, "nat", "blocks_per_subscriber");
  const char *size = report_config_get (r, "nat", "ports_per_subscriber");
  double port = report_total (sum, NATSIM_STAT_NO_FREE_PORT);
  double nb = report_total (sum, NATSIM_STAT_NO_FREE_BLOCK);
  double bl = report_total (sum, NATSIM_STAT_SUBSCRIBER_BLOCK_LIMIT);
  double pl = report_total (sum, NATSIM_STAT_SUBSCRIBER_PORT_LIMIT);
  const char *sep = " Why:";

  if (nb > 0.0)
    {
      g_string_append_printf (t, "%s %s found no free port block on the addresses "
                                 "they could use (the pool ran out of blocks: add "
                                 "addresses or use smaller blocks)",
                              sep, report_fmt_num (a, nb));
      sep = ";";
    }
  if (bl > 0.0)
    {
      g_string_append_printf (t, "%s %s came from subscribers already holding all "
                                 "%s of their blocks (nat.blocks_per_subscriber) "
                                 "with every port in use",
                              sep, report_fmt_num (a, bl), blocks != NULL ? blocks : "?");
      sep = ";";
    }
  if (pl > 0.0)
    {
      g_string_append_printf (t, "%s %s came from subscribers whose fixed port range "
                                 "(deterministic NAT, %s ports) was full",
                              sep, report_fmt_num (a, pl),
                              size != NULL && strcmp (size, "0") != 0 ? size : "an even share of the");
      sep = ";";
    }
  if (port > 0.0)
    g_string_append_printf (t, "%s %s found no free port on their address", sep,
                            report_fmt_num (a, port));
  g_string_append (t, ".");
}

static void
find_blocking (GPtrArray *out, const NatsimReport *r, const NatsimSummary *sum)
{
  char a[REPORT_NUM_BUF], b[REPORT_NUM_BUF], c[REPORT_NUM_BUF];
  double fails = report_total (sum, NATSIM_STAT_ALLOCATION_FAILURES);
  double flows = report_total (sum, NATSIM_STAT_FLOWS);
  const char *block = report_config_get (r, "nat", "ports_per_subscriber");
  GString *t = g_string_new (NULL);
  gboolean by_cause;

  if (fails <= 0.0)
    {
      guint pool = report_pool_size (r);
      double peak = report_total (sum, NATSIM_STAT_PEAK_PORTS_PER_ADDRESS);
      gboolean tight = pool > 0 && peak >= 0.9 * pool;

      g_string_append_printf (t, "Every new flow got a port (%s mapping "
                                 "%s, no allocation failure): ",
                              report_fmt_num (a, flows),
                              report_plural (flows, "attempt", "attempts"));
      append_headroom (t, r, sum, TRUE);
      g_string_append (t, tight ? ". That is close to the limit: a little "
                                  "more traffic will be refused."
                                : ".");
      add_finding (out, tight ? REPORT_FINDING_NOTE : REPORT_FINDING_OK,
                   tight ? HARM_NEAR_FULL : HARM_HEADROOM, t);
      return;
    }

  by_cause = report_total (sum, NATSIM_STAT_NO_FREE_BLOCK) + report_total (sum, NATSIM_STAT_SUBSCRIBER_BLOCK_LIMIT)
             + report_total (sum, NATSIM_STAT_SUBSCRIBER_PORT_LIMIT) > 0.0;
  append_pool (t, r, sum);
  g_string_append_printf (t, ", %s %%", report_fmt_percent (a, report_total (sum, NATSIM_STAT_BLOCKING_PROBABILITY)));
  report_append_ci (t, sum, NATSIM_STAT_BLOCKING_PROBABILITY, TRUE);
  g_string_append_printf (t, " of new flows were refused%s: %s of %s mapping %s",
                          by_cause ? "" : " for want of a free port",
                          report_fmt_num (b, fails), report_fmt_num (c, flows),
                          report_plural (flows, "attempt", "attempts"));
  report_append_worst_class (t, sum, NATSIM_STAT_ALLOCATION_FAILURES);
  {
    const NatsimClassSummary *w
      = report_worst_class (sum, NATSIM_STAT_ALLOCATION_FAILURES);

    if (w != NULL && report_n_classes (sum) > 1)
      g_string_append_printf (
        t, " (%s %% of its flows)",
        report_fmt_percent (a, w->mean.v[NATSIM_STAT_BLOCKING_PROBABILITY]));
  }
  g_string_append (t, ".");
  if (by_cause)
    append_failure_causes (t, r, sum);
  else if (block != NULL && strcmp (block, "0") != 0)
    g_string_append_printf (t, " Each subscriber may hold at most %s ports "
                               "(nat.ports_per_subscriber), which refuses "
                               "flows before the pool is full.",
                            block);
  else
    {
      g_string_append (t, " At the peak ");
      append_headroom (t, r, sum, FALSE);
      g_string_append (t, ".");
    }
  append_worst_interval (t, r, sum);
  add_finding (out, REPORT_FINDING_BAD, HARM_REFUSED, t);
}

static void
find_losses (GPtrArray *out, const NatsimSummary *sum)
{
  char a[REPORT_NUM_BUF], b[REPORT_NUM_BUF];
  double all = report_total (sum, NATSIM_STAT_BINDING_LOSSES);
  double lost = all - report_total (sum, NATSIM_STAT_BINDING_LOSSES_HOUSEKEEPING);
  double in = report_total (sum, NATSIM_STAT_PACKETS_IN);
  GString *t;

  if (lost <= 1e-9 * MAX (all, 1.0))
    return;
  t = g_string_new (NULL);
  g_string_append (t, report_fmt_num (a, lost));
  if (lost == all)
    report_append_ci (t, sum, NATSIM_STAT_BINDING_LOSSES, FALSE);
  g_string_append_printf (t, " inbound %s dropped because the binding "
                             "%s needed had expired or was never created "
                             "(binding losses: %s %% of the inbound "
                             "packets that should have arrived",
                          report_plural (lost, "packet was", "packets were"),
                          report_plural (lost, "it", "they"),
                          report_fmt_percent (b, lost / (lost + in)));
  report_append_kinds (t, &sum->totals, NATSIM_STAT_BINDING_LOSSES);
  report_append_worst_class (t, sum, NATSIM_STAT_BINDING_LOSSES);
  g_string_append (t, ").");
  add_finding (out, REPORT_FINDING_BAD, HARM_LOST, t);
}

/* The timeout a class's bindings most likely live by. */
static void
append_timeouts (GString *out, const NatsimReport *r, const char *cls)
{
  const char *proto = report_population_get (r, cls, "protocol");
  const char *udp = report_config_get (r, "nat", "udp_timeout");
  const char *tcp = report_config_get (r, "nat", "tcp_established_timeout");

  if (proto != NULL && g_ascii_strcasecmp (proto, "tcp") == 0 && tcp != NULL)
    g_string_append_printf (out, " (nat.tcp_established_timeout is %s)", tcp);
  else if (proto != NULL && g_ascii_strcasecmp (proto, "udp") == 0
           && udp != NULL)
    g_string_append_printf (out, " (nat.udp_timeout is %s)", udp);
  else if (udp != NULL && tcp != NULL)
    g_string_append_printf (out, " (nat.udp_timeout is %s, "
                                 "nat.tcp_established_timeout %s)",
                            udp, tcp);
}

static void
find_rebindings (GPtrArray *out, const NatsimReport *r,
                 const NatsimSummary *sum)
{
  for (guint i = 0; i < report_n_classes (sum); i++)
    {
      const NatsimClassSummary *c = report_class_at (sum, i);
      const NatsimStats *st = &c->mean;
      double all = st->v[NATSIM_STAT_REBINDINGS];
      double media = report_kind_value (st, NATSIM_STAT_REBINDINGS, NATSIM_FLOW_MEDIA);
      double rebinds = all - report_kind_value (st, NATSIM_STAT_REBINDINGS, NATSIM_FLOW_HOUSEKEEPING);
      double harmful = rebinds - media;
      double flows = st->v[NATSIM_STAT_FLOWS];
      double share = flows > 0.0 ? rebinds / flows : 0.0;
      char a[REPORT_NUM_BUF], b[REPORT_NUM_BUF], p[REPORT_NUM_BUF];
      GString *t;

      /* Housekeeping rebindings are harmless: see find_housekeeping(). */
      if (rebinds <= 1e-9 * MAX (all, 1.0))
        continue;
      t = g_string_new (NULL);
      if (harmful <= 1e-9 * MAX (all, 1.0))
        {
          /* Only media: a call's first packets (its STUN checks) toward a
           * server an earlier call used from the same port. */
          g_string_append_printf (t, "Class %s re-created %s expired media %s (RTP, RTCP or a "
                                     "call's STUN checks; %s %% of its %s mapping %s). "
                                     "Harmless when it happens as a call starts; during a "
                                     "call the peer would keep sending to the old public "
                                     "port, which shows as media binding losses.",
                                  c->name, report_fmt_num (a, media),
                                  report_plural (media, "binding", "bindings"),
                                  report_fmt_percent (p, flows > 0.0 ? media / flows : 0.0),
                                  report_fmt_num (b, flows), report_plural (flows, "attempt", "attempts"));
          add_finding (out, REPORT_FINDING_NOTE, HARM_MEDIA_REBINDING, t);
          continue;
        }
      if (share >= 0.9)
        g_string_append_printf (t, "Class %s rebinds at (almost) every "
                                   "refresh: ", c->name);
      else
        g_string_append_printf (t, "Class %s loses its bindings between "
                                   "packets: ", c->name);
      g_string_append_printf (t, "%s of its %s mapping %s (%s %%) "
                                 "re-created a binding that had expired",
                              report_fmt_num (a, rebinds),
                              report_fmt_num (b, flows),
                              report_plural (flows, "attempt", "attempts"),
                              report_fmt_percent (p, share));
      report_append_kinds (t, st, NATSIM_STAT_REBINDINGS);
      g_string_append (t, ", because its packets come less often than the NAT keeps an idle "
                          "binding");
      append_timeouts (t, r, c->name);
      g_string_append (t, ". Each time the public port may change, so a "
                          "registrar or peer may keep sending to a port "
                          "that is gone.");
      add_finding (out, harmful / MAX (flows, 1e-300) >= 0.5 ? REPORT_FINDING_BAD
                                                           : REPORT_FINDING_NOTE,
                   HARM_REBINDING, t);
    }
}

/* One sentence for every housekeeping rebinding and loss: never a
 * problem, but a reader of report.json sees them and should know why the
 * report does not worry. */
static void
find_housekeeping (GPtrArray *out, const NatsimSummary *sum)
{
  double rebinds = report_total (sum, NATSIM_STAT_REBINDINGS_HOUSEKEEPING);
  double lost = report_total (sum, NATSIM_STAT_BINDING_LOSSES_HOUSEKEEPING);
  char a[REPORT_NUM_BUF], b[REPORT_NUM_BUF];
  GString *t;
  guint named = 0;

  if (rebinds <= 0.0 && lost <= 0.0)
    return;
  t = g_string_new (NULL);
  if (rebinds > 0.0)
    g_string_append_printf (t, "%s %s", report_fmt_num (a, rebinds),
                            report_plural (rebinds, "rebinding", "rebindings"));
  if (lost > 0.0)
    g_string_append_printf (t, "%s%s inbound %s", rebinds > 0.0 ? " and " : "",
                            report_fmt_num (b, lost),
                            report_plural (lost, "packet lost", "packets lost"));
  g_string_append (t, " belong to housekeeping flows (NTP, configuration or firmware checks)");
  {
    g_autoptr (GPtrArray) names = g_ptr_array_new ();

    for (guint i = 0; i < report_n_classes (sum); i++)
      {
        const NatsimClassSummary *c = report_class_at (sum, i);

        if (c->mean.v[NATSIM_STAT_REBINDINGS_HOUSEKEEPING] > 0.0
            || c->mean.v[NATSIM_STAT_BINDING_LOSSES_HOUSEKEEPING] > 0.0)
          g_ptr_array_add (names, c->name);
      }
    /* "of class a", "of classes a and b", "of classes a, b and c" */
    for (named = 0; named < names->len; named++)
      g_string_append_printf (t, "%s%s",
                              named == 0 ? (names->len == 1 ? " of class " : " of classes ")
                              : named + 1 == names->len ? " and " : ", ",
                              (const char *) g_ptr_array_index (names, named));
  }
  g_string_append (t, ": harmless, because nothing calls in over them and each poll simply "
                      "opens a new binding; they are left out of the problems above.");
  add_finding (out, REPORT_FINDING_OK, HARM_HOUSEKEEPING, t);
}

/* Classes by unreachable time, longest first (ties in report order). */
static gint
compare_unreachable (gconstpointer pa, gconstpointer pb)
{
  const NatsimClassSummary *a = *(const NatsimClassSummary *const *) pa;
  const NatsimClassSummary *b = *(const NatsimClassSummary *const *) pb;
  double va = a->mean.v[NATSIM_STAT_UNREACHABLE_SECONDS];
  double vb = b->mean.v[NATSIM_STAT_UNREACHABLE_SECONDS];

  if (va != vb)
    return va > vb ? -1 : 1;
  return a < b ? -1 : a > b;
}

static void
find_unreachable (GPtrArray *out, const NatsimReport *r,
                  const NatsimSummary *sum)
{
  double measured = report_measured_seconds (r);
  g_autoptr (GPtrArray) order = g_ptr_array_new ();

  for (guint i = 0; i < report_n_classes (sum); i++)
    if (report_class_at (sum, i)->mean.v[NATSIM_STAT_UNREACHABLE_SECONDS] > 0.0)
      g_ptr_array_add (order, (gpointer) report_class_at (sum, i));
  g_ptr_array_sort (order, compare_unreachable);
  for (guint i = 0; i < order->len; i++)
    {
      const NatsimClassSummary *c = g_ptr_array_index (order, i);
      double s = c->mean.v[NATSIM_STAT_UNREACHABLE_SECONDS];
      const char *count_s = report_population_get (r, c->name, "count");
      double count = count_s != NULL ? g_ascii_strtod (count_s, NULL) : 0.0;
      char a[REPORT_NUM_BUF], p[REPORT_NUM_BUF];
      GString *t = g_string_new (NULL);

      g_string_append_printf (t, "Registered endpoints of class %s could "
                                 "not be reached for %s endpoint-seconds",
                              c->name, report_fmt_num (a, s));
      if (count > 0.0 && measured > 0.0)
        g_string_append_printf (t, " (%s %% of their measured time)",
                                report_fmt_percent (p, s / (count * measured)));
      g_string_append (t, ": their binding was gone, so a call to them "
                          "would not have arrived.");
      add_finding (out, REPORT_FINDING_BAD, HARM_UNREACHABLE, t);
    }
}

static void
find_other (GPtrArray *out, const NatsimReport *r, const NatsimSummary *sum)
{
  char a[REPORT_NUM_BUF];
  double missed = report_total (sum, NATSIM_STAT_MISSED_CALLS);
  double filtered = report_total (sum, NATSIM_STAT_FILTERED);

  if (missed > 0.0)
    {
      GString *t = g_string_new (NULL);

      g_string_append (t, report_fmt_num (a, missed));
      report_append_ci (t, sum, NATSIM_STAT_MISSED_CALLS, FALSE);
      g_string_append_printf (t, " incoming %s missed: the called endpoint's binding was gone or "
                              "the NAT filtered the call",
                              report_plural (missed, "call was", "calls were"));
      report_append_worst_class (t, sum, NATSIM_STAT_MISSED_CALLS);
      g_string_append (t, ".");
      add_finding (out, REPORT_FINDING_BAD, HARM_MISSED_CALLS, t);
    }
  if (filtered > 0.0)
    {
      GString *t = g_string_new (NULL);
      const char *rule = report_config_get (r, "nat", "filtering");

      g_string_append_printf (t, "%s inbound %s refused by the filtering "
                                 "rule",
                              report_fmt_num (a, filtered),
                              report_plural (filtered, "packet was", "packets were"));
      if (rule != NULL)
        g_string_append_printf (t, " (nat.filtering = %s)", rule);
      g_string_append (t, " while the binding was alive: the NAT let in "
                          "only the peers the endpoint had contacted");
      report_append_worst_class (t, sum, NATSIM_STAT_FILTERED);
      g_string_append (t, ".");
      add_finding (out, REPORT_FINDING_NOTE, HARM_FILTERED, t);
    }
}

/* One finding for the configuration checks, each id named once ("refresh.udp
 * (2 populations)" when several populations fail the same check). */
static void
find_warnings (GPtrArray *out, const NatsimReport *r)
{
  g_autoptr (GPtrArray) ids = NULL;
  g_autoptr (GArray) counts = NULL;
  GString *t;

  if (r->warnings == NULL || r->warnings->len == 0)
    return;
  ids = g_ptr_array_new ();
  counts = g_array_new (FALSE, TRUE, sizeof (guint));
  for (guint i = 0; i < r->warnings->len; i++)
    {
      const char *id = g_array_index (r->warnings, NatsimWarning, i).id;
      guint k;

      for (k = 0; k < ids->len; k++)
        if (strcmp (g_ptr_array_index (ids, k), id) == 0)
          break;
      if (k == ids->len)
        {
          guint one = 0;

          g_ptr_array_add (ids, (gpointer) id);
          g_array_append_val (counts, one);
        }
      g_array_index (counts, guint, k)++;
    }
  t = g_string_new (NULL);
  g_string_append_printf (t, "The configuration fails %u %s (",
                          ids->len, ids->len == 1 ? "check" : "checks");
  for (guint k = 0; k < ids->len; k++)
    {
      guint n = g_array_index (counts, guint, k);

      g_string_append_printf (t, "%s%s", k > 0 ? ", " : "",
                              (const char *) g_ptr_array_index (ids, k));
      if (n > 1)
        g_string_append_printf (t, " %u times", n);
    }
  g_string_append (t, "); see Warnings below.");
  add_finding (out, REPORT_FINDING_NOTE, HARM_CONFIG, t);
}

static gint
severity_rank (ReportSeverity s)
{
  return s == REPORT_FINDING_BAD ? 0 : s == REPORT_FINDING_NOTE ? 1 : 2;
}

/* Problems first, then notes, then what is fine; within a severity by
 * harm; ties keep the order they were found in. */
static void
sort_by_harm (GPtrArray *findings)
{
  /* An insertion sort: stable, and there are a dozen findings at most
   * per class (g_ptr_array_sort is not stable before GLib 2.76). */
  for (guint i = 1; i < findings->len; i++)
    {
      ReportFinding *f = findings->pdata[i];
      guint j = i;

      while (j > 0)
        {
          ReportFinding *g = findings->pdata[j - 1];

          if (severity_rank (g->severity) < severity_rank (f->severity)
              || (g->severity == f->severity && g->harm <= f->harm))
            break;
          findings->pdata[j] = g;
          j--;
        }
      findings->pdata[j] = f;
    }
}

GPtrArray *
report_findings (const NatsimReport *r)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (finding_free);
  const NatsimSummary *sum = r->summary;
  gboolean clean;

  if (sum == NULL)
    {
      add_finding (out, REPORT_FINDING_NOTE, HARM_CONFIG,
                   g_string_new ("This report holds no figures."));
      find_warnings (out, r);
      return out;
    }
  /* Housekeeping losses and rebindings do not spoil a clean run. */
  clean = report_total (sum, NATSIM_STAT_ALLOCATION_FAILURES) <= 0.0
          && report_total (sum, NATSIM_STAT_BINDING_LOSSES)
               - report_total (sum, NATSIM_STAT_BINDING_LOSSES_HOUSEKEEPING) <= 0.0
          && report_total (sum, NATSIM_STAT_REBINDINGS)
               - report_total (sum, NATSIM_STAT_REBINDINGS_HOUSEKEEPING) <= 0.0
          && report_total (sum, NATSIM_STAT_UNREACHABLE_SECONDS) <= 0.0
          && report_total (sum, NATSIM_STAT_MISSED_CALLS) <= 0.0;
  if (clean)
    add_finding (out, REPORT_FINDING_OK, HARM_NOTHING_LOST,
                 g_string_new ("Nothing was lost: no flow was refused, no "
                               "binding expired under a flow that still "
                               "needed it, and no inbound packet was dropped "
                               "for want of a binding."));
  find_other (out, r, sum);
  find_unreachable (out, r, sum);
  find_blocking (out, r, sum);
  find_losses (out, sum);
  find_rebindings (out, r, sum);
  find_housekeeping (out, sum);
  find_warnings (out, r);
  sort_by_harm (out);
  return out;
}
