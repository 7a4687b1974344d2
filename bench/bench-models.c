/* natsim: endpoint-model benchmark (a 100,000-endpoint busy hour on one core).
 *
 * A 100,000-endpoint, one-hour Webex Calling site must simulate in under a
 * minute on one core.  The scenario is scenarios/campus.ini scaled from
 * 30,002 to 100,000 endpoints (same mix, same keys: 60 % MPP phones, room
 * devices, desktop apps, mobile apps, local gateways at 150 erlangs each),
 * behind the same cisco-asa preset with the public addresses scaled too,
 * for the busiest hour of the office curve (start_hour = 10).  One
 * replication on the calling thread (natsim_simulate_replication), so the
 * figure is one core's.
 *
 * Prints wall time, simulated packets (offered to the NAT: forwarded plus
 * dropped) and packets per second, and the peak RSS; asserts nothing on
 * time.  Options:
 *   --quick          1 % of the endpoints for 10 min (the smoke test)
 *   --set G.K=V      any scenario override, repeatable
 *                    (--set population.phones.media_packet_interval=1s)
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "natsim/scenario.h"
#include "natsim/simulate.h"

/* campus.ini times 10/3, rounded so that the counts add up to 100,000. */
static const char scenario_full[] =
  "[simulation]\n"
  "duration = 1h\n"
  "warmup = 0s\n"
  "seed = 1\n"
  "replications = 1\n"
  "timeline_interval = 1m\n"
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
peak_rss_mib (void)
{
  struct rusage ru;

  if (getrusage (RUSAGE_SELF, &ru) != 0)
    return -1.0;
  return (double) ru.ru_maxrss / 1024.0; /* Linux: KiB */
}

int
main (int argc, char **argv)
{
  g_autoptr (GPtrArray) overrides = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = NULL;
  g_autoptr (NatsimRunResult) r = NULL;
  bool quick = false;
  guint64 endpoints = 0;
  double packets, sim_s, wall_s, load_s;
  gint64 t0, t1, t2;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--quick") == 0)
        quick = true;
      else if (strcmp (argv[i], "--set") == 0 && i + 1 < argc)
        g_ptr_array_add (overrides, argv[++i]);
      else
        {
          fprintf (stderr, "usage: %s [--quick] [--set GROUP.KEY=VALUE]...\n", argv[0]);
          return 2;
        }
    }
  if (quick)
    {
      /* Quick values first: an explicit --set still wins. */
      for (guint i = 0; quick_overrides[i] != NULL; i++)
        g_ptr_array_insert (overrides, (gint) i, (gpointer) quick_overrides[i]);
    }
  g_ptr_array_add (overrides, NULL);

  t0 = g_get_monotonic_time ();
  s = natsim_scenario_load_data_with_overrides (scenario_full, (gsize) -1, "bench-models.ini",
                                                (const char *const *) overrides->pdata, &error);
  if (s == NULL)
    {
      fprintf (stderr, "bench-models: %s\n", error->message);
      return 2;
    }
  for (guint i = 0; i < s->populations->len; i++)
    {
      const NatsimPopulationSpec *p = g_ptr_array_index (s->populations, i);
      endpoints += p->profile->n_hosts (p->params);
    }
  t1 = g_get_monotonic_time ();
  r = natsim_simulate_replication (s, 0, NULL, &error);
  t2 = g_get_monotonic_time ();
  if (r == NULL)
    {
      fprintf (stderr, "bench-models: %s\n", error->message);
      return 1;
    }

  packets = r->totals.v[NATSIM_STAT_PACKETS_OUT] + r->totals.v[NATSIM_STAT_PACKETS_IN]
            + r->totals.v[NATSIM_STAT_PACKETS_DROPPED];
  sim_s = natsim_time_to_sec (natsim_params_get_duration (s->simulation, "duration"));
  load_s = (double) (t1 - t0) / 1e6;
  wall_s = (double) (t2 - t1) / 1e6;
  printf ("endpoint models: %" G_GUINT64_FORMAT " endpoints, %.0f s simulated, 1 replication, "
          "1 thread\n", endpoints, sim_s);
  printf ("  wall time        %.2f s (scenario load %.3f s)%s\n", wall_s, load_s,
          !quick && wall_s >= 60.0 ? "  ** over the one-minute budget **" : "");
  printf ("  packets          %.0f offered to the NAT (%.0f out, %.0f in, %.0f dropped)\n",
          packets, r->totals.v[NATSIM_STAT_PACKETS_OUT], r->totals.v[NATSIM_STAT_PACKETS_IN],
          r->totals.v[NATSIM_STAT_PACKETS_DROPPED]);
  printf ("  throughput       %.2f Mpackets/s, %.1fx real time\n", packets / wall_s / 1e6,
          sim_s / wall_s);
  printf ("  bindings         %.0f created, peak %.0f live, peak %.0f ports per address\n",
          r->totals.v[NATSIM_STAT_BINDINGS_CREATED], r->totals.v[NATSIM_STAT_PEAK_BINDINGS],
          r->totals.v[NATSIM_STAT_PEAK_PORTS_PER_ADDRESS]);
  printf ("  peak RSS         %.1f MiB\n", peak_rss_mib ());
  return 0;
}
