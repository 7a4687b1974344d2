/* natsim: endpoint-model benchmarks (busy hours on one core).
 *
 * Default: a 100,000-endpoint, one-hour Webex Calling site that must
 * simulate in under a minute on one core.  The scenario is
 * scenarios/campus.ini scaled from 30,002 to 100,000 endpoints (same mix,
 * same keys: 60 % MPP phones, room devices, desktop apps, mobile apps, local
 * gateways at 150 erlangs each), behind the same cisco-asa preset with the
 * public addresses scaled too, for the busiest hour of the office curve
 * (start_hour = 10).
 *
 * --million: the carrier busy hour of 1,000,000 endpoints (700,000 MPP
 * phones, 200,000 desktop apps, 100,000 mobile apps; 512 public addresses,
 * linux preset, flat load).  --scaling runs that mix at 100,000 and at
 * 1,000,000 endpoints, each in its own child process so that each has its
 * own peak RSS, and prints both and the ratio of the time per endpoint
 * (1,000,000 over 100,000): 1.0 is linear scaling.  Only the endpoint
 * counts change between the two; the 512 addresses stay.
 *
 * Every mode runs one replication on the calling thread
 * (natsim_simulate_replication), so a figure is one core's.  Prints wall
 * time, simulated packets (offered to the NAT: forwarded plus dropped),
 * packets per second, peak RSS and bytes per endpoint; asserts nothing on
 * time.  Options:
 *   --quick          small and short (the smoke test): 1 % of the campus
 *                    for 10 min; with --million or --scaling, 1,000 and
 *                    10,000 endpoints of the carrier mix for 10 min
 *   --million        the carrier mix at 1,000,000 endpoints
 *   --mix N          the carrier mix at N endpoints (70/20/10 %)
 *   --scaling        the carrier mix at 100,000 and 1,000,000 endpoints
 *   --set G.K=V      any scenario override, repeatable
 *                    (--set population.phones.media_packet_interval=1s)
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "natsim/scenario.h"
#include "natsim/simulate.h"

/* One replication of one hour, measured from the start, a timeline by the minute. */
#define HOUR_SIMULATION \
  "[simulation]\n"       \
  "duration = 1h\n"      \
  "warmup = 0s\n"        \
  "seed = 1\n"           \
  "replications = 1\n"   \
  "timeline_interval = 1m\n"

/* campus.ini times 10/3, rounded so that the counts add up to 100,000. */
static const char scenario_full[] =
  HOUR_SIMULATION
  "[nat]\n"
  "preset = cisco-asa\n"
  "addresses = 203.0.113.1-203.0.113.13\n"
  "port_range = 1024-65535\n"
  "[population phones]\n"
  "profile = cisco-mpp\ncount = 60000\nstart_spread = 2m\ncalls_per_hour = 1.5\n"
  "busy_hour_profile = office\nstart_hour = 10\nvideo_fraction = 0.02\n"
  "media_packet_interval = 2s\n"
  "[population rooms]\n"
  "profile = room-device\ncount = 700\ncalls_per_hour = 0.8\n"
  "busy_hour_profile = office\nstart_hour = 10\ncall_duration = lognormal(30m,0.5)\n"
  "media_packet_interval = 2s\n"
  "[population desktops]\n"
  "profile = webex-desktop\ncount = 23300\nstart_spread = 2m\ncalls_per_hour = 1.2\n"
  "busy_hour_profile = office\nstart_hour = 10\nvideo_fraction = 0.3\n"
  "media_packet_interval = 2s\n"
  "[population mobiles]\n"
  "profile = webex-mobile\ncount = 15994\nstart_spread = 2m\ncalls_per_hour = 0.4\n"
  "busy_hour_profile = office\nstart_hour = 10\nmedia_packet_interval = 2s\n"
  "[population gateways]\n"
  "profile = local-gateway\ncount = 6\nerlangs = 150\n"
  "busy_hour_profile = office\nstart_hour = 10\nmedia_packet_interval = 2s\n";

/* The carrier busy hour; the counts are set by the mode (carrier_overrides). */
static const char scenario_carrier[] =
  HOUR_SIMULATION
  "[nat]\n"
  "preset = linux\n"
  "addresses = 203.0.112.0-203.0.113.255\n"
  "port_range = 1024-65535\n"
  "[population phones]\n"
  "profile = cisco-mpp\ncount = 700000\nstart_spread = 2m\ncalls_per_hour = 1.5\n"
  "[population desktops]\n"
  "profile = webex-desktop\ncount = 200000\nstart_spread = 2m\ncalls_per_hour = 1.2\n"
  "[population mobiles]\n"
  "profile = webex-mobile\ncount = 100000\nstart_spread = 2m\ncalls_per_hour = 0.4\n";

/* The same mix at 1 % for ten minutes. */
static const char *const quick_overrides[] = {
  "simulation.duration=10m",
  "nat.addresses=203.0.113.1",
  "population.phones.count=600",
  "population.rooms.count=7",
  "population.desktops.count=233",
  "population.mobiles.count=160",
  "population.gateways.count=1",
  NULL,
};

static double
peak_rss_bytes (void)
{
  struct rusage ru;

  if (getrusage (RUSAGE_SELF, &ru) != 0)
    return -1.0;
  return (double) ru.ru_maxrss * 1024.0; /* Linux: KiB */
}

/* CPU time (user + system) of this thread so far, seconds: what a load
 * on the machine inflates much less than wall time. */
static double
thread_cpu_s (void)
{
  struct rusage ru;

  if (getrusage (RUSAGE_THREAD, &ru) != 0)
    return 0.0;
  return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6
         + (double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6;
}

/* What one run measured. */
typedef struct
{
  guint64 endpoints;
  double  wall_s, load_s, sim_s, cpu_s;
  double  packets, out, in, dropped;
  double  created, peak_bindings, peak_ports;
  double  peak_rss; /* bytes, of the process that ran it */
  /* Bytes allocated at the end, by owner (NatsimRunResult mem_*). */
  double  mem_nat, mem_events, mem_models, mem_collector;
} Figures;

/* Loads the scenario with @overrides and runs one replication on this
 * thread; false (message printed) on failure. */
static gboolean
run_one (const char *data, GPtrArray *overrides, Figures *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = NULL;
  g_autoptr (NatsimRunResult) r = NULL;
  gint64 t0, t1, t2;

  memset (f, 0, sizeof *f);
  t0 = g_get_monotonic_time ();
  s = natsim_scenario_load_data_with_overrides (data, (gsize) -1, "bench-models.ini",
                                                (const char *const *) overrides->pdata, &error);
  if (s == NULL)
    {
      fprintf (stderr, "bench-models: %s\n", error->message);
      return FALSE;
    }
  for (guint i = 0; i < s->populations->len; i++)
    {
      const NatsimPopulationSpec *p = g_ptr_array_index (s->populations, i);
      f->endpoints += p->profile->n_hosts (p->params);
    }
  t1 = g_get_monotonic_time ();
  f->cpu_s = thread_cpu_s ();
  r = natsim_simulate_replication (s, 0, NULL, &error);
  f->cpu_s = thread_cpu_s () - f->cpu_s;
  t2 = g_get_monotonic_time ();
  if (r == NULL)
    {
      fprintf (stderr, "bench-models: %s\n", error->message);
      return FALSE;
    }
  f->out = r->totals.v[NATSIM_STAT_PACKETS_OUT];
  f->in = r->totals.v[NATSIM_STAT_PACKETS_IN];
  f->dropped = r->totals.v[NATSIM_STAT_PACKETS_DROPPED];
  f->packets = f->out + f->in + f->dropped;
  f->created = r->totals.v[NATSIM_STAT_BINDINGS_CREATED];
  f->peak_bindings = r->totals.v[NATSIM_STAT_PEAK_BINDINGS];
  f->peak_ports = r->totals.v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS];
  f->mem_nat = (double) r->mem_nat;
  f->mem_events = (double) r->mem_events;
  f->mem_models = (double) r->mem_models;
  f->mem_collector = (double) r->mem_collector;
  f->sim_s = natsim_time_to_sec (natsim_params_get_duration (s->simulation, "duration"));
  f->load_s = (double) (t1 - t0) / 1e6;
  f->wall_s = (double) (t2 - t1) / 1e6;
  f->peak_rss = peak_rss_bytes ();
  return TRUE;
}

static void
print_figures (const char *what, const Figures *f, double budget_s)
{
  double ep = (double) MAX (f->endpoints, 1);

  printf ("%s: %" G_GUINT64_FORMAT " endpoints, %.0f s simulated, 1 replication, 1 thread\n",
          what, f->endpoints, f->sim_s);
  printf ("  wall time        %.2f s (scenario load %.3f s)%s\n", f->wall_s, f->load_s,
          budget_s > 0 && f->wall_s >= budget_s ? "  ** over the budget **" : "");
  printf ("  cpu time         %.2f s (user + system, this thread)\n", f->cpu_s);
  printf ("  packets          %.0f through the NAT (%.0f out, %.0f in, %.0f dropped)\n",
          f->packets, f->out, f->in, f->dropped);
  printf ("  throughput       %.2f Mpackets/s, %.1fx real time\n", f->packets / f->wall_s / 1e6,
          f->sim_s / f->wall_s);
  printf ("  bindings         %.0f created, peak %.0f live, peak %.0f ports per address\n",
          f->created, f->peak_bindings, f->peak_ports);
  printf ("  peak RSS         %.1f MiB, %.0f bytes per endpoint\n", f->peak_rss / 1048576.0,
          f->peak_rss / (double) MAX (f->endpoints, 1));
  printf ("  held at the end  NAT %.1f MiB, events %.1f MiB, models %.1f MiB, collector %.1f MiB\n",
          f->mem_nat / 1048576.0, f->mem_events / 1048576.0, f->mem_models / 1048576.0,
          f->mem_collector / 1048576.0);
  printf ("  per endpoint     NAT %.0f B, events %.0f B, models %.0f B, collector %.0f B\n",
          f->mem_nat / ep, f->mem_events / ep, f->mem_models / ep, f->mem_collector / ep);
}

/* The overrides of the carrier mix at @n endpoints (70/20/10 %), then
 * @user's; @quick: ten minutes. */
static GPtrArray *
carrier_overrides (guint64 n, bool quick, GPtrArray *user)
{
  GPtrArray *o = g_ptr_array_new_with_free_func (g_free);
  guint64 phones = n * 7 / 10, desktops = n * 2 / 10;

  g_ptr_array_add (o, g_strdup_printf ("population.phones.count=%" G_GUINT64_FORMAT, phones));
  g_ptr_array_add (o, g_strdup_printf ("population.desktops.count=%" G_GUINT64_FORMAT,
                                       desktops));
  g_ptr_array_add (o, g_strdup_printf ("population.mobiles.count=%" G_GUINT64_FORMAT,
                                       n - phones - desktops));
  if (quick)
    g_ptr_array_add (o, g_strdup ("simulation.duration=10m"));
  for (guint i = 0; i < user->len; i++)
    g_ptr_array_add (o, g_strdup (g_ptr_array_index (user, i)));
  g_ptr_array_add (o, NULL);
  return o;
}

/* Runs the carrier mix at @n endpoints in a child process (its own peak
 * RSS, read by wait4()); false on failure. */
static gboolean
run_child (guint64 n, bool quick, GPtrArray *user, Figures *f)
{
  int fds[2];
  pid_t pid;
  int status = 0;
  struct rusage ru;
  gsize got = 0;

  if (pipe (fds) != 0)
    return FALSE;
  fflush (stdout);
  pid = fork ();
  if (pid < 0)
    return FALSE;
  if (pid == 0)
    {
      g_autoptr (GPtrArray) o = carrier_overrides (n, quick, user);
      Figures c;
      gboolean ok;

      close (fds[0]);
      ok = run_one (scenario_carrier, o, &c);
      if (ok && write (fds[1], &c, sizeof c) != (ssize_t) sizeof c)
        ok = FALSE;
      close (fds[1]);
      _exit (ok ? 0 : 1);
    }
  close (fds[1]);
  while (got < sizeof *f)
    {
      ssize_t k = read (fds[0], (char *) f + got, sizeof *f - got);
      if (k <= 0)
        break;
      got += (gsize) k;
    }
  close (fds[0]);
  if (wait4 (pid, &status, 0, &ru) != pid || !WIFEXITED (status) || WEXITSTATUS (status) != 0
      || got != sizeof *f)
    return FALSE;
  f->peak_rss = (double) ru.ru_maxrss * 1024.0;
  return TRUE;
}

static int
scaling (bool quick, GPtrArray *user)
{
  const guint64 sizes[2] = { quick ? 1000 : 100000, quick ? 10000 : 1000000 };
  Figures f[2];
  double per_ep[2];

  for (int k = 0; k < 2; k++)
    {
      g_autofree char *what = g_strdup_printf ("carrier mix, size %d", k + 1);

      if (!run_child (sizes[k], quick, user, &f[k]))
        {
          fprintf (stderr, "bench-models: the run of %" G_GUINT64_FORMAT " endpoints failed\n",
                   sizes[k]);
          return 1;
        }
      print_figures (what, &f[k], 0);
      per_ep[k] = f[k].cpu_s / (double) f[k].endpoints;
    }
  printf ("scaling %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " endpoints (x%.0f)\n",
          sizes[0], sizes[1], (double) sizes[1] / (double) sizes[0]);
  printf ("  wall time        x%.2f\n", f[1].wall_s / f[0].wall_s);
  printf ("  cpu time         x%.2f\n", f[1].cpu_s / f[0].cpu_s);
  printf ("  packets          x%.2f\n", f[1].packets / f[0].packets);
  printf ("  peak RSS         x%.2f; %.0f bytes per added endpoint\n",
          f[1].peak_rss / f[0].peak_rss,
          (f[1].peak_rss - f[0].peak_rss) / (double) (f[1].endpoints - f[0].endpoints));
  printf ("  cpu time per endpoint, large / small: %.2f (1.00: linear)\n", per_ep[1] / per_ep[0]);
  printf ("  cpu time per packet, large / small:   %.2f\n",
          (f[1].cpu_s / f[1].packets) / (f[0].cpu_s / f[0].packets));
  return 0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GPtrArray) user = g_ptr_array_new ();
  g_autoptr (GPtrArray) overrides = g_ptr_array_new ();
  bool quick = false, scale = false;
  guint64 mix = 0;
  Figures f;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--quick") == 0)
        quick = true;
      else if (strcmp (argv[i], "--scaling") == 0)
        scale = true;
      else if (strcmp (argv[i], "--million") == 0)
        mix = 1000000;
      else if (strcmp (argv[i], "--mix") == 0 && i + 1 < argc)
        {
          char *end = NULL;

          mix = g_ascii_strtoull (argv[++i], &end, 10);
          if (end == NULL || *end != '\0' || mix < 10 || mix > 4000000)
            {
              fprintf (stderr, "bench-models: --mix takes 10 to 4000000 endpoints\n");
              return 2;
            }
        }
      else if (strcmp (argv[i], "--set") == 0 && i + 1 < argc)
        g_ptr_array_add (user, argv[++i]);
      else
        {
          fprintf (stderr, "usage: %s [--quick] [--million | --mix N | --scaling] "
                   "[--set GROUP.KEY=VALUE]...\n", argv[0]);
          return 2;
        }
    }
  if (scale)
    return scaling (quick, user);
  if (mix > 0)
    {
      g_autoptr (GPtrArray) o = carrier_overrides (quick ? MIN (mix, 10000) : mix, quick, user);

      if (!run_one (scenario_carrier, o, &f))
        return 1;
      print_figures ("carrier mix (endpoint models)", &f, mix == 1000000 && !quick ? 120.0 : 0);
      return 0;
    }
  if (quick)
    {
      /* Quick values first: an explicit --set still wins. */
      for (guint i = 0; quick_overrides[i] != NULL; i++)
        g_ptr_array_add (overrides, (gpointer) quick_overrides[i]);
    }
  for (guint i = 0; i < user->len; i++)
    g_ptr_array_add (overrides, g_ptr_array_index (user, i));
  g_ptr_array_add (overrides, NULL);
  if (!run_one (scenario_full, overrides, &f))
    return 1;
  print_figures ("endpoint models", &f, quick ? 0 : 60.0);
  return 0;
}
