/* natsim: the MPI runner (natsim/mpi-runner.h).
 *
 * Rank 0 keeps each run's work queue.  Its own --jobs threads take units
 * first (unit 0 is replication 1, which rank 0 narrates); every other
 * rank starts a run by asking for --jobs units and asks for one more with
 * every result it sends back, so a rank that drew short units simply comes
 * back sooner: the queue balances itself without knowing unit sizes.
 *
 * Only the thread that called the runner talks MPI (MPI_THREAD_FUNNELED);
 * it waits by polling (MPI_Iprobe, then a short wait on the queue of
 * finished local units, 20 us to 1 ms), because Open MPI's blocking
 * receives spin a core that the --jobs threads of a node need.
 *
 * Messages are a header of four 64-bit words (run, unit, argument,
 * payload length), then the payload in chunks of at most 1 GiB (MPI counts
 * are ints).  Run numbers keep the processes in step: each process counts
 * its runs, and a message of another run is stale (a request rank 0 had no
 * use for) or a sign that the processes no longer run the same program,
 * which fails the run instead of waiting for ever.
 */
#include <mpi.h>
#include <string.h>

#include "natsim/error.h"
#include "natsim/mpi-runner.h"
#include "natsim/runner.h"
#include "natsim/serial.h"

enum
{
  /* To rank 0. */
  TAG_REQUEST = 1, /* run, -, units wanted */
  TAG_RESULT,      /* run, unit; payload: the result */
  TAG_UNIT_ERROR,  /* run, unit; payload: the error */
  TAG_DONE,        /* the process's command succeeded */
  TAG_FAIL,        /* -, -, exit status; payload: the error */
  /* From rank 0. */
  TAG_ASSIGN,      /* run, unit */
  TAG_FINAL,       /* run, units, 0 done or 1 failed; payload: the error */
  TAG_SHARE,       /* run, unit; payload: its result (after a TAG_FINAL, every unit) */
  TAG_EXIT,        /* stop waiting: the command is over */
  /* Payload chunks, right after their header. */
  TAG_DATA,
};

#define CHUNK   ((gsize) 1 << 30)
/* The longest message a failed rank sends at the end (natsim_mpi_finish()). */
#define FAIL_MESSAGE_MAX 1000
/* Waits between polls: short right after a message or a finished unit
 * (answers come in bursts: a result, then the next unit), doubling while
 * nothing happens, so that an idle process costs almost nothing and a
 * busy one hardly waits. */
#define POLL_MIN_US 20
#define POLL_MAX_US 1000

static gulong
backoff (gulong wait)
{
  return MIN (wait * 2, POLL_MAX_US);
}

typedef struct
{
  int      src, tag;
  guint64  run, unit, arg;
  GBytes  *payload; /* NULL: none */
} Msg;

static struct
{
  int       rank, size;
  int       node_size; /* processes on this node (sharing its memory) */
  guint64   run;      /* runs started by this process */
  gboolean  stopped;  /* rank > 0: rank 0 has said stop */
  gboolean *reported; /* rank 0, [size]: the rank has finished its command */
  guint64  *units;    /* rank 0, [size]: units each rank has run, over all runs */
  GError   *failure;  /* rank 0: a rank's failure reported at the end */
  int       ahead;    /* rank 0: a rank found waiting in a later run (0: none, -1: said) */
} mpi;

static void
send_msg (int dest, int tag, guint64 run, guint64 unit, guint64 arg, const void *data,
          gsize len)
{
  guint64 h[4] = { run, unit, arg, len };

  MPI_Send (h, 4, MPI_UINT64_T, dest, tag, MPI_COMM_WORLD);
  for (gsize off = 0; off < len; off += CHUNK)
    MPI_Send ((const guint8 *) data + off, (int) MIN (CHUNK, len - off), MPI_BYTE, dest,
              TAG_DATA, MPI_COMM_WORLD);
}

static void
send_bytes (int dest, int tag, guint64 run, guint64 unit, guint64 arg, GBytes *b)
{
  gsize len = 0;
  const void *data = b != NULL ? g_bytes_get_data (b, &len) : NULL;

  send_msg (dest, tag, run, unit, arg, data, len);
}

/* Receives a message from @from (MPI_ANY_SOURCE: anyone) if one is there. */
static gboolean
poll_msg (int from, Msg *m)
{
  MPI_Status st;
  guint64 h[4];
  int flag = 0;

  MPI_Iprobe (from, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
  if (!flag)
    return FALSE;
  if (st.MPI_TAG == TAG_DATA)
    {
      /* Never without its header (the header is received first and its
       * chunks right after); drop it rather than stall on it. */
      int count = 0;
      g_autofree guint8 *junk = NULL;

      MPI_Get_count (&st, MPI_BYTE, &count);
      junk = g_malloc (MAX (count, 1));
      MPI_Recv (junk, count, MPI_BYTE, st.MPI_SOURCE, TAG_DATA, MPI_COMM_WORLD,
                MPI_STATUS_IGNORE);
      return FALSE;
    }
  MPI_Recv (h, 4, MPI_UINT64_T, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  m->src = st.MPI_SOURCE;
  m->tag = st.MPI_TAG;
  m->run = h[0];
  m->unit = h[1];
  m->arg = h[2];
  m->payload = NULL;
  if (h[3] > 0)
    {
      guint8 *buf = g_malloc (h[3]);

      for (gsize off = 0; off < h[3]; off += CHUNK)
        MPI_Recv (buf + off, (int) MIN (CHUNK, h[3] - off), MPI_BYTE, m->src, TAG_DATA,
                  MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      m->payload = g_bytes_new_take (buf, h[3]);
    }
  return TRUE;
}

static void
msg_clear (Msg *m)
{
  g_clear_pointer (&m->payload, g_bytes_unref);
}

static GBytes *
error_to_bytes (const GError *e)
{
  GByteArray *out = g_byte_array_new ();

  natsim_serial_put_string (out, g_quark_to_string (e->domain));
  natsim_serial_put_u64 (out, (guint64) (gint64) e->code);
  natsim_serial_put_string (out, e->message);
  return g_byte_array_free_to_bytes (out);
}

/* The error in @b, which rank @rank sent; named after it unless it is
 * rank 0 (whose messages read as those of a run in one process). */
static GError *
error_from_bytes (GBytes *b, int rank)
{
  g_autofree char *domain = NULL;
  g_autofree char *message = NULL;
  NatsimSerialReader rd;
  guint64 code;
  gsize len = 0;
  const void *data = b != NULL ? g_bytes_get_data (b, &len) : NULL;

  natsim_serial_reader_init (&rd, data, len);
  if (!natsim_serial_get_string (&rd, &domain, NULL) ||
      !natsim_serial_get_u64 (&rd, &code, NULL) ||
      !natsim_serial_get_string (&rd, &message, NULL))
    return g_error_new (NATSIM_ERROR, NATSIM_ERROR_FAILED,
                        "rank %d failed (its message did not arrive whole)", rank);
  /* The same domain and code: the exit status (2 for bad input) follows. */
  if (rank > 0)
    return g_error_new (g_quark_from_string (domain), (gint) (gint64) code, "rank %d: %s",
                        rank, message);
  return g_error_new_literal (g_quark_from_string (domain), (gint) (gint64) code, message);
}

static GError *
out_of_step (int rank, const char *what)
{
  return g_error_new (NATSIM_ERROR, NATSIM_ERROR_FAILED,
                      "rank %d %s: the processes no longer run the same command (same "
                      "natsim, same arguments and input files on every node?)", rank, what);
}

/* ---------- the units this process runs ---------- */

typedef struct
{
  guint   unit;
  GBytes *result;
  GError *error;
} Finished;

typedef struct
{
  const NatsimUnitOps *ops;
  void                *data;
  GAsyncQueue         *done; /* Finished* */
} Local;

static void
local_run (gpointer item, gpointer user_data)
{
  Local *l = user_data;
  Finished *f = g_new0 (Finished, 1);

  f->unit = GPOINTER_TO_UINT (item) - 1;
  f->result = l->ops->run (f->unit, l->data, &f->error);
  if (f->result == NULL && f->error == NULL)
    f->error = g_error_new (NATSIM_ERROR, NATSIM_ERROR_FAILED, "unit %u gave no result",
                            f->unit);
  g_async_queue_push (l->done, f);
}

static void
finished_free (Finished *f)
{
  g_clear_pointer (&f->result, g_bytes_unref);
  g_clear_error (&f->error);
  g_free (f);
}

/* ---------- rank 0 ---------- */

typedef struct
{
  guint64              run;
  guint                n, next, done, outstanding;
  const NatsimUnitOps *ops;
  void                *data;
  GBytes             **results; /* [n] */
  guint               *credits; /* [size]: units a rank has asked for */
  guint               *busy;    /* [size]: units a rank is running */
  GError              *failure;
  guint                failure_unit;
} Root;

/* Records the first failure in unit order (a run in one process reports
 * the failing replication that comes first), and stops handing out. */
static void
root_fail (Root *r, guint unit, GError *e)
{
  if (r->failure == NULL || unit < r->failure_unit)
    {
      g_clear_error (&r->failure);
      r->failure = e;
      r->failure_unit = unit;
    }
  else
    g_error_free (e);
}

static void
root_outcome (Root *r, int rank, guint unit, GBytes *result, GError *e)
{
  r->busy[rank]--;
  r->outstanding--;
  if (rank > 0)
    r->credits[rank]++;
  if (e != NULL)
    {
      root_fail (r, unit, e);
      return;
    }
  r->results[unit] = result;
  r->done++;
  mpi.units[rank]++;
  if (r->ops->finished != NULL)
    r->ops->finished (unit, r->done, r->n, r->data);
}

/* Rank @rank has finished its command: it asks for nothing more, and
 * units it held (none, unless the processes parted ways) are not waited
 * for. */
static void
root_forget (Root *r, int rank)
{
  mpi.reported[rank] = TRUE;
  r->credits[rank] = 0;
  r->outstanding -= r->busy[rank];
  r->busy[rank] = 0;
}

static void
root_message (Root *r, Msg *m)
{
  switch (m->tag)
    {
    case TAG_REQUEST:
      if (m->run == r->run)
        r->credits[m->src] += (guint) m->arg;
      else if (m->run > r->run)
        root_fail (r, G_MAXUINT, out_of_step (m->src, "is in a later run"));
      /* Earlier runs: units it asked for that were not needed. */
      break;
    case TAG_RESULT:
    case TAG_UNIT_ERROR:
      if (m->run != r->run || m->unit >= r->n || r->busy[m->src] == 0 ||
          r->results[m->unit] != NULL)
        {
          root_fail (r, G_MAXUINT, out_of_step (m->src, "sent a result nobody asked for"));
          break;
        }
      if (m->tag == TAG_RESULT)
        root_outcome (r, m->src, (guint) m->unit, g_steal_pointer (&m->payload), NULL);
      else
        root_outcome (r, m->src, (guint) m->unit, NULL, error_from_bytes (m->payload, m->src));
      break;
    case TAG_FAIL:
      /* Its command failed outside a run (bad input on its node): the
       * run cannot complete as one program. */
      root_forget (r, m->src);
      root_fail (r, G_MAXUINT - 1, error_from_bytes (m->payload, m->src));
      break;
    case TAG_DONE:
      root_forget (r, m->src);
      root_fail (r, G_MAXUINT, out_of_step (m->src, "finished without this run"));
      break;
    default:
      break;
    }
}

static gboolean
root_run (guint n, guint jobs, const NatsimUnitOps *ops, void *data, GError **error)
{
  g_autofree GBytes **results = g_new0 (GBytes *, MAX (n, 1));
  g_autofree guint *credits = g_new0 (guint, mpi.size);
  g_autofree guint *busy = g_new0 (guint, mpi.size);
  Root r = { ++mpi.run, n, 0, 0, 0, ops, data, results, credits, busy, NULL, G_MAXUINT };
  Local local = { ops, data, g_async_queue_new_full ((GDestroyNotify) finished_free) };
  GThreadPool *pool = g_thread_pool_new (local_run, &local, (gint) jobs, FALSE, NULL);
  gulong wait = POLL_MIN_US;
  gboolean ok = TRUE;

  for (;;)
    {
      Msg m;
      Finished *f;

      /* Hand out: this process's threads first, then whoever asked. */
      while (r.failure == NULL && r.next < n && busy[0] < jobs)
        {
          g_thread_pool_push (pool, GUINT_TO_POINTER (r.next + 1), NULL);
          r.next++;
          busy[0]++;
          r.outstanding++;
        }
      for (int k = 1; k < mpi.size; k++)
        while (r.failure == NULL && r.next < n && credits[k] > 0)
          {
            send_msg (k, TAG_ASSIGN, r.run, r.next, 0, NULL, 0);
            r.next++;
            credits[k]--;
            busy[k]++;
            r.outstanding++;
          }
      /* After a failure, wait for the units under way, then stop. */
      if (r.outstanding == 0 && (r.failure != NULL || r.next == n))
        break;
      if (poll_msg (MPI_ANY_SOURCE, &m))
        {
          root_message (&r, &m);
          msg_clear (&m);
          wait = POLL_MIN_US;
          continue;
        }
      f = g_async_queue_timeout_pop (local.done, wait);
      if (f != NULL)
        {
          root_outcome (&r, 0, f->unit, g_steal_pointer (&f->result),
                        g_steal_pointer (&f->error));
          finished_free (f);
          wait = POLL_MIN_US;
        }
      else
        wait = backoff (wait);
    }
  g_thread_pool_free (pool, FALSE, TRUE);
  g_async_queue_unref (local.done);

  /* Rank 0 stores first: a result it cannot take (a unit run from other
   * inputs on another rank) fails the run on every process with its
   * message, rather than on each process in its own words. */
  for (guint u = 0; r.failure == NULL && u < n; u++)
    {
      GError *e = NULL;

      if (!ops->store (u, results[u], data, &e))
        r.failure = e;
    }
  if (r.failure == NULL)
    {
      /* Every result to every process, in unit order, one message each
       * (no copy of them all at once). */
      for (int k = 1; k < mpi.size; k++)
        if (!mpi.reported[k])
          {
            send_msg (k, TAG_FINAL, r.run, n, 0, NULL, 0);
            for (guint u = 0; u < n; u++)
              send_bytes (k, TAG_SHARE, r.run, u, 0, results[u]);
          }
    }
  else
    {
      g_autoptr (GBytes) b = error_to_bytes (r.failure);

      for (int k = 1; k < mpi.size; k++)
        if (!mpi.reported[k])
          send_bytes (k, TAG_FINAL, r.run, 0, 1, b);
      g_propagate_error (error, g_steal_pointer (&r.failure));
      ok = FALSE;
    }
  for (guint u = 0; u < n; u++)
    g_clear_pointer (&results[u], g_bytes_unref);
  return ok;
}

/* ---------- other ranks ---------- */

/* The @n results rank 0 sends after its final message of run @run, to
 * store() in unit order. */
static gboolean
worker_store (guint64 run, guint n, const NatsimUnitOps *ops, void *data, GError **error)
{
  gulong wait = POLL_MIN_US;

  for (guint u = 0; u < n;)
    {
      Msg m;
      gboolean ok;

      if (!poll_msg (0, &m))
        {
          g_usleep (wait);
          wait = backoff (wait);
          continue;
        }
      wait = POLL_MIN_US;
      if (m.tag != TAG_SHARE || m.run != run || m.unit != u)
        {
          msg_clear (&m);
          g_propagate_error (error, out_of_step (0, "sent results out of order"));
          return FALSE;
        }
      if (m.payload == NULL)
        m.payload = g_bytes_new (NULL, 0);
      ok = ops->store (u, m.payload, data, error);
      msg_clear (&m);
      if (!ok)
        return FALSE;
      u++;
    }
  return TRUE;
}

static gboolean
worker_run (guint n, guint jobs, const NatsimUnitOps *ops, void *data, GError **error)
{
  guint64 run = ++mpi.run;
  Local local = { ops, data, g_async_queue_new_full ((GDestroyNotify) finished_free) };
  GThreadPool *pool;
  GError *failure = NULL;
  gboolean over = FALSE;
  gulong wait = POLL_MIN_US;
  guint busy = 0;

  if (mpi.stopped)
    {
      g_async_queue_unref (local.done);
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_FAILED, "rank %d: stopped by rank 0",
                   mpi.rank);
      return FALSE;
    }
  pool = g_thread_pool_new (local_run, &local, (gint) jobs, FALSE, NULL);
  send_msg (0, TAG_REQUEST, run, 0, jobs, NULL, 0);
  while (!over || busy > 0)
    {
      Msg m;
      Finished *f;

      if (!over && poll_msg (0, &m))
        {
          if (m.tag == TAG_ASSIGN && m.run == run && m.unit < n)
            {
              g_thread_pool_push (pool, GUINT_TO_POINTER ((guint) m.unit + 1), NULL);
              busy++;
            }
          else if (m.tag == TAG_FINAL && m.run == run && m.arg == 0 && m.unit == n)
            over = TRUE;
          else if (m.tag == TAG_FINAL && m.run == run && m.arg == 0)
            {
              /* Rank 0 succeeded with another number of units: the
               * processes were given other inputs (another --vary). */
              failure = g_error_new (NATSIM_ERROR, NATSIM_ERROR_FAILED,
                                     "rank 0 ran %" G_GUINT64_FORMAT " units where this rank "
                                     "has %u (different inputs on the ranks)", m.unit, n);
              over = TRUE;
            }
          else if (m.tag == TAG_FINAL && m.run == run)
            {
              failure = error_from_bytes (m.payload, 0);
              over = TRUE;
            }
          else if (m.tag == TAG_ASSIGN && m.run == run)
            {
              failure = g_error_new (NATSIM_ERROR, NATSIM_ERROR_FAILED,
                                     "rank 0 handed out unit %" G_GUINT64_FORMAT " where this "
                                     "rank has %u units (different inputs on the ranks)",
                                     m.unit, n);
              over = TRUE;
            }
          else if (m.tag == TAG_EXIT)
            {
              /* Rank 0 has finished its command without this run (it
               * failed before it): nothing will come. */
              mpi.stopped = TRUE;
              failure = g_error_new (NATSIM_ERROR, NATSIM_ERROR_FAILED,
                                     "rank %d: stopped by rank 0", mpi.rank);
              over = TRUE;
            }
          else
            {
              failure = out_of_step (0, "sent a message of another run");
              over = TRUE;
            }
          msg_clear (&m);
          wait = POLL_MIN_US;
          continue;
        }
      f = g_async_queue_timeout_pop (local.done, wait);
      if (f == NULL)
        {
          wait = backoff (wait);
          continue;
        }
      wait = POLL_MIN_US;
      busy--;
      /* Once the run is over nobody waits for it. */
      if (!over && f->error != NULL)
        {
          g_autoptr (GBytes) b = error_to_bytes (f->error);
          send_bytes (0, TAG_UNIT_ERROR, run, f->unit, 0, b);
        }
      else if (!over)
        send_bytes (0, TAG_RESULT, run, f->unit, 0, f->result);
      finished_free (f);
    }
  g_thread_pool_free (pool, FALSE, TRUE);
  g_async_queue_unref (local.done);
  if (failure != NULL)
    {
      g_propagate_error (error, failure);
      return FALSE;
    }
  /* If a result cannot be stored, this process fails; it tells rank 0
   * so when it finishes (natsim_mpi_finish()), and the rest of the
   * results, unread, are dropped then. */
  return worker_store (run, n, ops, data, error);
}

static gboolean
mpi_runner_run (void *runner_data, guint n, guint jobs, const NatsimUnitOps *ops, void *data,
                GError **error)
{
  if (mpi.rank == 0)
    return root_run (n, jobs, ops, data, error);
  return worker_run (n, jobs, ops, data, error);
}

static int
mpi_runner_process (void *runner_data)
{
  return mpi.rank;
}

static const NatsimRunnerClass mpi_runner = { mpi_runner_run, mpi_runner_process };

/* ---------- start and finish ---------- */

int
natsim_mpi_rank (void)
{
  return mpi.rank;
}

int
natsim_mpi_size (void)
{
  return MAX (mpi.size, 1);
}

int
natsim_mpi_ranks_on_node (void)
{
  return MAX (mpi.node_size, 1);
}

guint64
natsim_mpi_units_run (int rank)
{
  return mpi.units != NULL && rank >= 0 && rank < mpi.size ? mpi.units[rank] : 0;
}

gboolean
natsim_mpi_start (int *argc, char ***argv, GError **error)
{
  int provided = MPI_THREAD_SINGLE;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  /* Registers the extended error domain before errors are rebuilt from
   * their domain's name (error_from_bytes()). */
  (void) natsim_error_quark ();
  if (MPI_Init_thread (argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_FAILED, "--mpi: MPI_Init_thread failed");
      return FALSE;
    }
  MPI_Comm_rank (MPI_COMM_WORLD, &mpi.rank);
  MPI_Comm_size (MPI_COMM_WORLD, &mpi.size);
  {
    /* The processes that can share memory are those of this node. */
    MPI_Comm node;

    mpi.node_size = 1;
    if (MPI_Comm_split_type (MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, mpi.rank, MPI_INFO_NULL,
                             &node) == MPI_SUCCESS)
      {
        MPI_Comm_size (node, &mpi.node_size);
        MPI_Comm_free (&node);
      }
  }
  if (provided < MPI_THREAD_FUNNELED)
    {
      /* Every process sees the same library: all of them stop here. */
      MPI_Finalize ();
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_FAILED,
                   "--mpi: the MPI library offers no thread support (MPI_THREAD_FUNNELED)");
      return FALSE;
    }
  mpi.reported = g_new0 (gboolean, mpi.size);
  mpi.units = g_new0 (guint64, mpi.size);
  natsim_runner_install (&mpi_runner, NULL);
  return TRUE;
}

/* Waits until every other rank has finished its command (it ran the same
 * runs) or waits in a run rank 0 has not started; keeps the first failure
 * reported, and the first rank found ahead. */
static void
root_collect (void)
{
  gulong wait = POLL_MIN_US;
  int left = 0;

  for (int k = 1; k < mpi.size; k++)
    left += !mpi.reported[k];
  while (left > 0)
    {
      Msg m;

      if (!poll_msg (MPI_ANY_SOURCE, &m))
        {
          g_usleep (wait);
          wait = backoff (wait);
          continue;
        }
      wait = POLL_MIN_US;
      if (!mpi.reported[m.src] &&
          ((m.tag == TAG_REQUEST && m.run > mpi.run) || m.tag == TAG_DONE ||
           m.tag == TAG_FAIL))
        {
          mpi.reported[m.src] = TRUE;
          left--;
          if (m.tag == TAG_FAIL && mpi.failure == NULL)
            mpi.failure = error_from_bytes (m.payload, m.src);
          if (m.tag == TAG_REQUEST && mpi.ahead == 0)
            mpi.ahead = m.src;
        }
      msg_clear (&m);
    }
}

gboolean
natsim_mpi_gather (GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (mpi.rank != 0 || mpi.reported == NULL)
    return TRUE;
  root_collect ();
  if (mpi.failure != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&mpi.failure));
      return FALSE;
    }
  if (mpi.ahead > 0)
    {
      g_propagate_error (error, out_of_step (mpi.ahead, "waits in a run rank 0 did not start"));
      mpi.ahead = -1;
      return FALSE;
    }
  return TRUE;
}

static int
root_finish (int status, GError **ret_error)
{
  /* After rank 0's own failure, ranks may wait in a run that it will not
   * start: that is expected, not a failure of theirs. */
  root_collect ();
  for (int k = 1; k < mpi.size; k++)
    send_msg (k, TAG_EXIT, mpi.run, 0, (guint64) status, NULL, 0);
  MPI_Finalize ();
  natsim_runner_install (NULL, NULL);
  g_clear_pointer (&mpi.reported, g_free);
  g_clear_pointer (&mpi.units, g_free);
  /* Rank 0's own failure is the run's; another rank's only when rank 0
   * succeeded. */
  if (status == 0 && mpi.failure != NULL)
    g_propagate_error (ret_error, g_steal_pointer (&mpi.failure));
  else if (status == 0 && mpi.ahead > 0)
    g_propagate_error (ret_error,
                       out_of_step (mpi.ahead, "waits in a run rank 0 did not start"));
  g_clear_error (&mpi.failure);
  return status;
}

int
natsim_mpi_finish (int status, const GError *error, GError **ret_error)
{
  gulong wait = POLL_MIN_US;

  g_return_val_if_fail (ret_error == NULL || *ret_error == NULL, status);
  if (mpi.rank == 0)
    return root_finish (status, ret_error);
  if (!mpi.stopped)
    {
      if (status == 0)
        send_msg (0, TAG_DONE, mpi.run, 0, 0, NULL, 0);
      else
        {
          g_autoptr (GError) e = error != NULL
            ? g_error_copy (error)
            : g_error_new (NATSIM_ERROR, NATSIM_ERROR_FAILED, "failed (exit status %d)", status);
          g_autoptr (GBytes) b = NULL;

          /* Small enough to go eagerly (MPI buffers it): rank 0 may be
           * sending this rank a run's results at the same moment, and
           * two large sends toward each other would wait for ever. */
          if (strlen (e->message) > FAIL_MESSAGE_MAX)
            {
              char *cut = g_strdup_printf ("%.*s...", FAIL_MESSAGE_MAX, e->message);

              g_free (e->message);
              e->message = cut;
            }
          b = error_to_bytes (e);

          send_bytes (0, TAG_FAIL, mpi.run, 0, (guint64) status, b);
        }
    }
  while (!mpi.stopped)
    {
      Msg m;

      if (!poll_msg (0, &m))
        {
          g_usleep (wait);
          wait = backoff (wait);
          continue;
        }
      wait = POLL_MIN_US;
      if (m.tag == TAG_EXIT)
        mpi.stopped = TRUE;
      else if (m.tag == TAG_ASSIGN)
        {
          /* Only if the processes parted ways; answer, so that rank 0
           * does not wait for it. */
          g_autoptr (GError) e = g_error_new (NATSIM_ERROR, NATSIM_ERROR_FAILED,
                                              "has finished its command already");
          g_autoptr (GBytes) b = error_to_bytes (e);

          send_bytes (0, TAG_UNIT_ERROR, m.run, m.unit, 0, b);
        }
      msg_clear (&m);
    }
  MPI_Finalize ();
  natsim_runner_install (NULL, NULL);
  g_clear_pointer (&mpi.reported, g_free);
  g_clear_pointer (&mpi.units, g_free);
  return 0;
}
