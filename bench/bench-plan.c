/* natsim: planner benchmark (plan of a 20,000-subscriber port-block CGN within a minute).
 *
 * natsim plan on a 20,000-subscriber port-block CGN (scenarios/cgn-pba.ini:
 * generic traffic, 2,000 flows/s, two replications of 20 minutes) must
 * finish within a minute on this machine (two cores).  Prints, for every
 * stage of the plan, its wall time and the process CPU time it used, then
 * the totals and the peak RSS, and the answer; asserts nothing on time.
 * Options:
 *   --quick          a tenth of the subscribers and flows for 3 minutes
 *                    (the smoke test)
 *   --jobs N         replications in parallel (default 2)
 *   --set G.K=V      any scenario override, repeatable
 * The scenario is read from $NATSIM_SOURCE_ROOT/scenarios/cgn-pba.ini (the
 * current directory when unset). */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "natsim/plan.h"
#include "natsim/scenario.h"

typedef struct
{
  char   *stage;
  double  wall0, cpu0;
  double  start_wall, start_cpu;
} Clock;

static double
now (clockid_t id)
{
  struct timespec ts;

  clock_gettime (id, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
close_stage (Clock *c)
{
  if (c->stage != NULL)
    printf ("  %-44s wall %7.2f s  cpu %7.2f s\n", c->stage,
            now (CLOCK_MONOTONIC) - c->wall0, now (CLOCK_PROCESS_CPUTIME_ID) - c->cpu0);
  g_clear_pointer (&c->stage, g_free);
}

static void
on_stage (const char *message, void *user_data)
{
  Clock *c = user_data;

  close_stage (c);
  c->stage = g_strdup (message);
  c->wall0 = now (CLOCK_MONOTONIC);
  c->cpu0 = now (CLOCK_PROCESS_CPUTIME_ID);
  fflush (stdout);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = NULL;
  g_autoptr (NatsimPlan) plan = NULL;
  g_autoptr (GPtrArray) sets = g_ptr_array_new ();
  g_autofree char *path = NULL;
  const char *root = g_getenv ("NATSIM_SOURCE_ROOT");
  gboolean quick = FALSE;
  NatsimPlanOptions opts;
  Clock clk = { 0 };
  struct rusage ru;
  guint jobs = 2;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--quick") == 0)
        quick = TRUE;
      else if (strcmp (argv[i], "--jobs") == 0 && i + 1 < argc)
        jobs = (guint) g_ascii_strtoull (argv[++i], NULL, 10);
      else if (strcmp (argv[i], "--set") == 0 && i + 1 < argc)
        g_ptr_array_add (sets, argv[++i]);
      else
        {
          fprintf (stderr, "usage: bench-plan [--quick] [--jobs N] [--set G.K=V]...\n");
          return 2;
        }
    }
  if (quick)
    {
      static const char *const q[] = {
        "population.subscribers.count=2000", "population.subscribers.flows_per_second=200",
        "simulation.duration=3m", "simulation.warmup=1m",
      };
      for (guint i = 0; i < G_N_ELEMENTS (q); i++)
        g_ptr_array_insert (sets, (gint) i, (gpointer) q[i]);
    }
  g_ptr_array_add (sets, NULL);
  path = g_build_filename (root != NULL ? root : ".", "scenarios", "cgn-pba.ini", NULL);
  s = natsim_scenario_load_with_overrides (path, (const char *const *) sets->pdata, &error);
  if (s == NULL)
    {
      fprintf (stderr, "bench-plan: %s\n", error->message);
      return 1;
    }
  natsim_plan_options_init (&opts);
  opts.jobs = MAX (jobs, 1);
  opts.stage = on_stage;
  opts.stage_data = &clk;
  printf ("natsim plan %s (%s, --jobs %u)\n", path, quick ? "quick" : "full", opts.jobs);
  clk.start_wall = now (CLOCK_MONOTONIC);
  clk.start_cpu = now (CLOCK_PROCESS_CPUTIME_ID);
  plan = natsim_plan_run (s, &opts, &error);
  close_stage (&clk);
  if (plan == NULL)
    {
      fprintf (stderr, "bench-plan: %s\n", error->message);
      return 1;
    }
  getrusage (RUSAGE_SELF, &ru);
  printf ("total: wall %.2f s, cpu %.2f s, peak RSS %ld MB\n",
          now (CLOCK_MONOTONIC) - clk.start_wall, now (CLOCK_PROCESS_CPUTIME_ID) - clk.start_cpu,
          ru.ru_maxrss / 1024);
  for (guint i = 0; i < plan->recommendations->len; i++)
    {
      const NatsimRecommendation *r = &g_array_index (plan->recommendations, NatsimRecommendation, i);
      printf ("  %s = %g %s (%s)\n", r->id, r->value, r->unit, r->basis);
    }
  if (plan->verification != NULL)
    printf ("%s\n", plan->verification->summary);
  return 0;
}
