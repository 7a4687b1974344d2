/* natsim: memory per live binding (docs/performance.md "Memory").
 *
 * Generic one-packet UDP flows held by a 2 h timeout, at 100,000 and at
 * 1,000,000 live bindings:
 *
 *  1. the NAT engine alone: each size in a child process that creates the
 *     bindings (1000 hosts 10.0.x.y, a new source port per flow, 250
 *     remotes, one public address, the Linux rules: port preservation, then
 *     random probes) and reports natsim_nat_memory();
 *     the parent reads the child's peak RSS (wait4);
 *  2. the whole program: `natsim simulate` of the same traffic (the
 *     generic profile, 1000 hosts, flows = N, 1 ms apart, 256 random
 *     destinations)
 *     in a child, its peak RSS.
 *
 * Prints, per size, the engine's accounting by category in bytes per live
 * binding, and the slope of peak RSS between the two sizes (bytes per
 * additional live binding), which is what the bounds are about: at most
 * 128 bytes per live binding for the whole program.  Counts bytes, not
 * time, so a busy machine does not change the figures.
 *
 * Usage: bench-memory [--quick] [NATSIM]   (--quick: 10,000 and 100,000
 * flows of 100 hosts; without NATSIM the whole-program part is skipped)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "natsim/nat.h"

#include "bench-common.h"

#define N_REMOTE 250u

/* Inside hosts: fixed, so that the slope is per binding, not per host (the
 * program keeps some state per inside host outside the NAT engine). */
static guint n_hosts = 1000;

static void
held_flows (guint n, NatsimNatMemory *ret)
{
  uint32_t addr = 0xcb007101u; /* 203.0.113.1 */
  NatsimNatConfig cfg = bench_nat_config (&addr, 1);
  NatsimPacket pkt = { 0 };
  guint hosts = n_hosts;
  gsl_rng *rng;
  NatsimNat *nat;

  cfg.port_search = NATSIM_SEARCH_LINUX;
  cfg.pooling = NATSIM_POOLING_ARBITRARY;
  cfg.unsolicited_hold = true;
  cfg.udp_timeout = NATSIM_SEC (7200);
  cfg.udp_stream_timeout = NATSIM_SEC (7200);
  cfg.tombstone = NATSIM_SEC (600);
  rng = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (rng, 1);
  nat = natsim_nat_new (&cfg, rng);
  pkt.proto = NATSIM_PROTO_UDP;
  pkt.dir = NATSIM_DIR_OUT;
  pkt.length = 100;
  for (guint i = 0; i < n; i++)
    {
      guint h = i % hosts;
      pkt.time = NATSIM_SEC (1) + (NatsimTime) i * NATSIM_MSEC (1);
      pkt.src_addr = 0x0a000000u | h;
      pkt.src_port = (uint16_t) (32768 + i / hosts);
      pkt.dst_addr = 0xc6336401u + i % N_REMOTE; /* 198.51.100.1 + */
      pkt.dst_port = 5000;
      natsim_nat_process (nat, &pkt, NULL);
    }
  natsim_nat_memory (nat, ret);
  natsim_nat_free (nat);
  gsl_rng_free (rng);
}

/* Peak RSS (KiB) of a finished child. */
static long
wait_child (pid_t pid)
{
  struct rusage ru;
  int status;

  while (wait4 (pid, &status, 0, &ru) < 0)
    if (errno != EINTR)
      return -1;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return -1;
  return ru.ru_maxrss;
}

/* The engine alone, in a child: its accounting through a pipe. */
static long
engine_child (guint n, NatsimNatMemory *ret)
{
  int fd[2];
  pid_t pid;
  ssize_t got;

  if (pipe (fd) != 0)
    return -1;
  pid = fork ();
  if (pid == 0)
    {
      NatsimNatMemory m;
      close (fd[0]);
      held_flows (n, &m);
      _exit (write (fd[1], &m, sizeof m) == (ssize_t) sizeof m ? 0 : 1);
    }
  close (fd[1]);
  got = read (fd[0], ret, sizeof *ret);
  close (fd[0]);
  if (pid < 0 || got != (ssize_t) sizeof *ret)
    return -1;
  return wait_child (pid);
}

/* natsim simulate of the same traffic, in a child; its peak RSS. */
static long
program_child (const char *natsim, const char *dir, guint n)
{
  g_autofree char *ini = g_strdup_printf ("%s/held-%u.ini", dir, n);
  g_autofree char *out = g_strdup_printf ("%s/out-%u", dir, n);
  g_autofree char *text = g_strdup_printf (
    "[simulation]\nduration = %us\nwarmup = 60s\nseed = 1\nreplications = 1\n"
    "[nat]\npreset = linux\naddresses = 203.0.113.1\nudp_timeout = 2h\n"
    "[population flows]\nprofile = generic\ncount = %u\nflows = %u\n"
    "flow_spacing = 1ms\nstart = 0s\npackets_per_flow = 1\n"
    "destination_count = 256\ndestination_choice = random\n",
    n / 1000 + 70, n_hosts, n);
  pid_t pid;

  if (!g_file_set_contents (ini, text, -1, NULL))
    return -1;
  pid = fork ();
  if (pid == 0)
    {
      execl (natsim, natsim, "simulate", ini, "-q", "-f", "json", "-o", out, "--force",
             (char *) NULL);
      _exit (127);
    }
  return pid < 0 ? -1 : wait_child (pid);
}

static void
row (const char *name, gsize b0, const NatsimNatMemory *m0, gsize b1, const NatsimNatMemory *m1)
{
  printf ("  %-38s %8.1f %8.1f\n", name, (double) b0 / (double) m0->live_bindings,
          (double) b1 / (double) m1->live_bindings);
}

static gsize
other (const NatsimNatMemory *m)
{
  return m->blocks + m->hosts + m->fixed;
}

static gsize
binding_and_indexes (const NatsimNatMemory *m)
{
  return m->bindings + m->flow_index + m->inside_index + m->reply_index;
}

/* Removes what program_child() wrote. */
static void
remove_outputs (const char *dir, const guint *sizes)
{
  for (int k = 0; k < 2; k++)
    {
      g_autofree char *ini = g_strdup_printf ("%s/held-%u.ini", dir, sizes[k]);
      g_autofree char *json = g_strdup_printf ("%s/out-%u/report.json", dir, sizes[k]);
      g_autofree char *out = g_strdup_printf ("%s/out-%u", dir, sizes[k]);
      g_remove (json);
      g_rmdir (out);
      g_remove (ini);
    }
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  bool quick = argc > 1 && strcmp (argv[1], "--quick") == 0;
  const char *natsim = argc > (quick ? 2 : 1) ? argv[quick ? 2 : 1] : NULL;
  guint sizes[2] = { quick ? 10000 : 100000, quick ? 100000 : 1000000 };
  NatsimNatMemory m[2];
  long rss[2], prog[2] = { -1, -1 };

  if (quick)
    n_hosts = 100;

  for (int k = 0; k < 2; k++)
    {
      rss[k] = engine_child (sizes[k], &m[k]);
      if (rss[k] < 0 || m[k].live_bindings != sizes[k])
        {
          fprintf (stderr, "bench-memory: the engine run of %u flows failed\n", sizes[k]);
          return 1;
        }
    }
  printf ("NAT engine, generic one-packet UDP flows held by a 2 h timeout\n");
  printf ("bytes per live binding (natsim_nat_memory)   %u      %u\n", sizes[0], sizes[1]);
#define ROW(name, field) row (name, m[0].field, &m[0], m[1].field, &m[1])
  ROW ("binding records", bindings);
  ROW ("flow index", flow_index);
  ROW ("inside-endpoint index", inside_index);
  ROW ("replies index (crowded ports)", reply_index);
  ROW ("timers", timers);
  ROW ("port state", ports);
  row ("blocks, hosts, fixed", other (&m[0]), &m[0], other (&m[1]), &m[1]);
  ROW ("total", total);
#undef ROW
  row ("binding + indexes", binding_and_indexes (&m[0]), &m[0], binding_and_indexes (&m[1]),
       &m[1]);
  printf ("peak RSS of the engine alone: %ld KiB, %ld KiB; slope %.1f bytes per live binding\n",
          rss[0], rss[1],
          (double) (rss[1] - rss[0]) * 1024.0 / (double) (sizes[1] - sizes[0]));
  if (natsim != NULL)
    {
      g_autofree char *dir = g_dir_make_tmp ("natsim-bench-memory-XXXXXX", NULL);

      for (int k = 0; k < 2 && dir != NULL; k++)
        prog[k] = program_child (natsim, dir, sizes[k]);
      if (dir == NULL || prog[0] < 0 || prog[1] < 0)
        {
          fprintf (stderr, "bench-memory: natsim simulate failed (%s)\n", natsim);
          if (dir != NULL)
            remove_outputs (dir, sizes);
          return 1;
        }
      printf ("peak RSS of natsim simulate: %ld KiB, %ld KiB; slope %.1f bytes per live binding "
              "(whole program)\n", prog[0], prog[1],
              (double) (prog[1] - prog[0]) * 1024.0 / (double) (sizes[1] - sizes[0]));
      remove_outputs (dir, sizes);
    }
  return 0;
}
