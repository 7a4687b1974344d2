/* natsim command line: the memory guard of check and simulate.
 *
 * A scenario can ask for more state than the machine holds (a million
 * endpoints, or Poisson flows at a high rate behind long timeouts); the
 * run would then swap or be killed after minutes.  The guard estimates
 * the memory a replication needs before anything runs and refuses the
 * run (exit 2) when the replications run at once would not fit the
 * memory available, unless --force.
 *
 * The estimate is coarse on purpose and errs high.  Its unit costs were
 * measured with /usr/bin/time on this engine (maximum resident set size):
 * - a fixed base of about 20 MB (tables, port state, libraries);
 * - about 4 KB per endpoint of the device and app profiles (their model
 *   state, bindings and remembered expired bindings over an hour);
 * - about 0.5 KB per binding slot of a generic population, whose slots
 *   are its flow rate times how long a flow's binding lives and is then
 *   remembered (active time + idle timeout + nat.tombstone), by Little's
 *   law, bounded by the run's duration;
 * - the timeline: 8 bytes per point, address and figure.
 * Each replication running at once (--jobs) holds its own copy, and with
 * --mpi every process of the node runs its own: each gets its share of
 * the node's available memory. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli-private.h"
#include "natsim/error.h"

#define MEM_BASE          (UINT64_C (20) << 20)
#define MEM_PER_ENDPOINT  (UINT64_C (4) << 10)
#define MEM_PER_SLOT      (UINT64_C (512))

/* Binding slots of a generic population (see above). */
static double
generic_slots (const NatsimParams *pop, const NatsimParams *nat, double duration)
{
  const char *protocol = natsim_params_get (pop, "protocol");
  const char *reply = natsim_params_get (pop, "reply");
  uint64_t flows = natsim_params_get_uint (pop, "flows");
  double rate = flows > 0 ? (double) flows / MAX (duration, 1.0)
                          : natsim_params_get_double (pop, "flows_per_second");
  double active = (double) (natsim_params_get_uint (pop, "packets_per_flow") - 1) *
                  natsim_time_to_sec (natsim_params_get_duration (pop, "packet_interval"));
  const char *timeout_key = "udp_timeout";
  double life;

  if (g_strcmp0 (protocol, "tcp") == 0)
    timeout_key = "tcp_established_timeout";
  else if (g_strcmp0 (protocol, "icmp") == 0)
    timeout_key = "icmp_timeout";
  else if (g_strcmp0 (reply, "none") != 0)
    timeout_key = "udp_stream_timeout";
  life = active + natsim_time_to_sec (natsim_params_get_duration (nat, timeout_key)) +
         natsim_time_to_sec (natsim_params_get_duration (nat, "tombstone"));
  if (flows > 0)
    return (double) flows;
  return rate * MIN (life, duration);
}

/* The memory the machine has available now: MemAvailable of
 * /proc/meminfo, else the free physical pages; 0 when unknown.
 * NATSIM_MEMORY_AVAILABLE (bytes) stands in for it in tests, which
 * cannot size a scenario to whatever memory the test machine has. */
static guint64
memory_available (void)
{
  g_autofree char *meminfo = NULL;
  const char *p;
  const char *env = g_getenv ("NATSIM_MEMORY_AVAILABLE");
  long pages, page_size;

  if (env != NULL && *env != '\0')
    return g_ascii_strtoull (env, NULL, 10);
  if (g_file_get_contents ("/proc/meminfo", &meminfo, NULL, NULL) &&
      (p = strstr (meminfo, "MemAvailable:")) != NULL)
    {
      guint64 kb = g_ascii_strtoull (p + strlen ("MemAvailable:"), NULL, 10);

      if (kb > 0)
        return kb << 10;
    }
  pages = sysconf (_SC_AVPHYS_PAGES);
  page_size = sysconf (_SC_PAGESIZE);
  return pages > 0 && page_size > 0 ? (guint64) pages * (guint64) page_size : 0;
}

void
cli_memory_estimate (const NatsimScenario *s, guint jobs, CliMemoryEstimate *ret)
{
  double duration = natsim_time_to_sec (natsim_params_get_duration (s->simulation, "duration"));
  double interval =
    natsim_time_to_sec (natsim_params_get_duration (s->simulation, "timeline_interval"));
  guint replications = (guint) natsim_params_get_uint (s->simulation, "replications");
  g_autoptr (GArray) addrs = natsim_params_get_addresses (s->nat, "addresses");
  double bytes = (double) MEM_BASE;

  for (guint i = 0; i < s->populations->len; i++)
    {
      const NatsimPopulationSpec *p = g_ptr_array_index (s->populations, i);

      if (strcmp (p->profile->name, "generic") == 0)
        bytes += (double) MEM_PER_SLOT * generic_slots (p->params, s->nat, duration);
      else
        bytes += (double) MEM_PER_ENDPOINT * p->profile->n_hosts (p->params);
    }
  /* Timeline: per point, the totals and the per-address series, for each
   * class and figure (a generous 16 series). */
  bytes += 8.0 * (duration / MAX (interval, 1e-9)) * (16.0 + addrs->len) *
           (1 + s->populations->len);
  ret->per_replication = (guint64) MIN (bytes, 1e19);
  ret->parallel = MAX (MIN (jobs, replications), 1u);
  ret->total = ret->per_replication * ret->parallel;
  ret->ranks = MAX (cli_mpi_ranks_on_node (), 1u);
  ret->available = memory_available () / ret->ranks;
}

void
cli_format_bytes (guint64 bytes, char *buf, gsize size)
{
  if (bytes >= (UINT64_C (1) << 30))
    g_snprintf (buf, size, "%.1f GiB", (double) bytes / (double) (UINT64_C (1) << 30));
  else
    g_snprintf (buf, size, "%.0f MiB", (double) bytes / (double) (UINT64_C (1) << 20));
}

gboolean
cli_memory_guard (const NatsimScenario *s, guint jobs, gboolean force, GError **error)
{
  CliMemoryEstimate m;
  char need[32], have[32];
  g_autofree char *share = NULL;

  cli_memory_estimate (s, jobs, &m);
  if (m.available == 0 || m.total <= m.available)
    return TRUE;
  cli_format_bytes (m.total, need, sizeof need);
  cli_format_bytes (m.available, have, sizeof have);
  /* --mpi: the processes of a node share its memory. */
  share = m.ranks > 1
    ? g_strdup_printf ("the %s available to each of the %u processes on this node", have, m.ranks)
    : g_strdup_printf ("the %s this machine has available", have);
  if (force)
    {
      /* Said before running: the user asked for it, but should know. */
      fprintf (stderr, "natsim: warning: %s needs about %s of memory (%u replication%s at "
                       "once), more than %s; running anyway (--force)\n",
               s->path, need, m.parallel, m.parallel == 1 ? "" : "s", share);
      return TRUE;
    }
  g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
               "%s: needs about %s of memory (%u replication%s at once), more than %s; "
               "reduce the endpoints, flow rates, timeouts or --jobs, or run anyway with "
               "--force",
               s->path, need, m.parallel, m.parallel == 1 ? "" : "s", share);
  return FALSE;
}
