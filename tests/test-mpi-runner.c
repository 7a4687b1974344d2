/* natsim: the MPI runner (natsim/mpi-runner.h) on its own, run by
 * tests/test-mpi.sh under mpirun with 3 processes and 2 threads each.
 *
 * 1. 60 units of mixed sizes (0 to 18 ms): every process stores every
 *    unit's result, in unit order, with the bytes the unit made; the work
 *    reached every process (the queue is dynamic: each asks for more).
 * 2. A unit that fails on rank 2 (the last): every process gets that
 *    error, naming rank 2, and no process waits for ever.
 * 3. A run after the failure works again.
 * 4. A run of zero units.
 * Rank 0 prints what failed and exits 1; other ranks report their own
 * failures through natsim_mpi_finish().
 */
#include <stdio.h>
#include <string.h>

#include "natsim/mpi-runner.h"
#include "natsim/runner.h"
#include "natsim/serial.h"

typedef struct
{
  guint    n;
  int     *ran_on;   /* [n]: the rank whose bytes were stored */
  guint64 *payload;  /* [n]: what the stored bytes said the unit was */
  guint    stored;   /* store() calls, in order */
  gboolean order_ok;
  int      fail_rank; /* units run there fail (-1: none) */
} Run;

static GBytes *
unit_run (guint u, void *data, GError **error)
{
  Run *r = data;
  GByteArray *out;

  /* Big and small units mixed; rank 0's slower, so that every rank
   * surely gets units even if it starts late on a busy machine. */
  g_usleep ((gulong) (u % 10) * 2000);
  if (natsim_mpi_rank () == 0)
    g_usleep (20000);
  if (natsim_mpi_rank () == r->fail_rank)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "unit %u failed on purpose", u);
      return NULL;
    }
  out = g_byte_array_new ();
  natsim_serial_put_u64 (out, (guint64) u * 1000003u);
  natsim_serial_put_u32 (out, (guint32) natsim_mpi_rank ());
  return g_byte_array_free_to_bytes (out);
}

static gboolean
unit_store (guint u, GBytes *b, void *data, GError **error)
{
  Run *r = data;
  NatsimSerialReader rd;
  gsize len = 0;
  const void *p = g_bytes_get_data (b, &len);
  guint32 rank;

  if (u != r->stored++)
    r->order_ok = FALSE;
  natsim_serial_reader_init (&rd, p, len);
  if (!natsim_serial_get_u64 (&rd, &r->payload[u], error) ||
      !natsim_serial_get_u32 (&rd, &rank, error))
    return FALSE;
  r->ran_on[u] = (int) rank;
  return TRUE;
}

static const NatsimUnitOps ops = { unit_run, unit_store, NULL };

static void
run_init (Run *r, guint n, int fail_rank)
{
  r->n = n;
  r->ran_on = g_new0 (int, MAX (n, 1));
  r->payload = g_new0 (guint64, MAX (n, 1));
  r->stored = 0;
  r->order_ok = TRUE;
  r->fail_rank = fail_rank;
}

static void
run_clear (Run *r)
{
  g_free (r->ran_on);
  g_free (r->payload);
}

/* The first failed check, for this process's report. */
static GError *failure;

static void
check (gboolean ok, const char *what)
{
  if (!ok && failure == NULL)
    failure = g_error_new (G_FILE_ERROR, G_FILE_ERROR_FAILED, "rank %d: %s", natsim_mpi_rank (),
                           what);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) other = NULL;
  gboolean on_rank[64] = { FALSE };
  guint ranks = 0;
  int size, status;
  Run r;

  if (!natsim_mpi_start (&argc, &argv, &error))
    {
      fprintf (stderr, "test-mpi-runner: %s\n", error->message);
      return 1;
    }
  size = natsim_mpi_size ();

  /* 1. */
  run_init (&r, 60, -1);
  check (natsim_runner_run (r.n, 2, &ops, &r, &error), "run 1 failed");
  g_clear_error (&error);
  check (r.stored == r.n && r.order_ok, "run 1: not every unit stored, in order");
  for (guint u = 0; u < r.n; u++)
    {
      check (r.payload[u] == (guint64) u * 1000003u, "run 1: a unit's bytes changed");
      if (r.ran_on[u] >= 0 && r.ran_on[u] < 64 && !on_rank[r.ran_on[u]])
        {
          on_rank[r.ran_on[u]] = TRUE;
          ranks++;
        }
    }
  check (r.ran_on[0] == 0, "run 1: unit 0 did not run on rank 0");
  check (ranks == (guint) MIN (size, 64), "run 1: some process ran no unit");
  run_clear (&r);

  /* 2. */
  run_init (&r, 40, size - 1);
  check (!natsim_runner_run (r.n, 2, &ops, &r, &error), "run 2 did not fail");
  if (size > 1)
    check (error != NULL && g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_INVAL) &&
             g_str_has_prefix (error->message, "rank 2: unit ") &&
             strstr (error->message, "failed on purpose") != NULL,
           "run 2: not the failing rank's error");
  check (r.stored == 0, "run 2: results stored after a failure");
  g_clear_error (&error);
  run_clear (&r);

  /* 3. */
  run_init (&r, 7, -1);
  check (natsim_runner_run (r.n, 2, &ops, &r, &error), "run 3 (after a failure) failed");
  g_clear_error (&error);
  check (r.stored == r.n && r.payload[6] == 6u * 1000003u, "run 3: results missing");
  run_clear (&r);

  /* 4. */
  run_init (&r, 0, -1);
  check (natsim_runner_run (0, 2, &ops, &r, &error), "run 4 (no units) failed");
  g_clear_error (&error);
  run_clear (&r);

  if (natsim_mpi_rank () == 0 && failure != NULL)
    fprintf (stderr, "test-mpi-runner: %s\n", failure->message);
  status = natsim_mpi_finish (failure != NULL, failure, &other);
  if (other != NULL)
    {
      fprintf (stderr, "test-mpi-runner: %s\n", other->message);
      status = 1;
    }
  if (natsim_mpi_rank () == 0 && status == 0)
    printf ("test-mpi-runner: %d processes, every check passed\n", size);
  g_clear_error (&failure);
  return status;
}
