/* natsim command line: --mpi (natsim/mpi-runner.h, when built with MPI).
 *
 * MPI starts before the command parses its options, so that a usage error
 * is printed once, by rank 0: every other rank's standard output and
 * error go to /dev/null (rank 0 speaks for the run, and other ranks' own
 * failures reach it as messages), standard error only without
 * NATSIM_MPI_VERBOSE=1. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cli-private.h"
#include "natsim/error.h"
#ifdef NATSIM_HAVE_MPI
#include "natsim/mpi-runner.h"
#endif

#ifdef NATSIM_HAVE_MPI
static gboolean mpi_started;
#endif
static GError *last_error;

void
cli_remember_error (const GError *error)
{
  g_clear_error (&last_error);
  if (error != NULL)
    last_error = g_error_copy (error);
}

gboolean
cli_mpi_wanted (int argc, char **argv)
{
  static const char *const commands[] = { "simulate", "sweep", "plan" };
  gboolean mpi = FALSE, known = FALSE;

  if (argc < 2)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    known |= strcmp (argv[1], commands[i]) == 0;
  for (int i = 2; i < argc && strcmp (argv[i], "--") != 0; i++)
    {
      /* --help exits from the option parser, before MPI could be ended
       * properly: print it like a run without --mpi. */
      if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0 ||
          strcmp (argv[i], "-?") == 0 || strcmp (argv[i], "--help-all") == 0)
        return FALSE;
      mpi |= strcmp (argv[i], "--mpi") == 0;
    }
  /* Other commands reject --mpi as an unknown option. */
  return mpi && known;
}

int
cli_mpi_start (int *argc, char ***argv)
{
#ifdef NATSIM_HAVE_MPI
  g_autoptr (GError) error = NULL;

  if (!natsim_mpi_start (argc, argv, &error))
    return cli_fail (g_steal_pointer (&error));
  mpi_started = TRUE;
  if (natsim_mpi_rank () != 0)
    {
      int fd = open ("/dev/null", O_WRONLY);

      if (fd >= 0)
        {
          fflush (stdout);
          fflush (stderr);
          dup2 (fd, STDOUT_FILENO);
          /* NATSIM_MPI_VERBOSE=1 keeps their standard error: what a rank
           * says itself (its own failure, GLib's warnings) when a run on
           * a cluster has to be understood. */
          if (g_strcmp0 (g_getenv ("NATSIM_MPI_VERBOSE"), "1") != 0)
            dup2 (fd, STDERR_FILENO);
          close (fd);
        }
    }
  return EXIT_OK;
#else
  fprintf (stderr, "natsim: --mpi: natsim was built without MPI (install libopenmpi-dev and "
           "rebuild: meson setup build -Dmpi=enabled)\n");
  return EXIT_BAD_INPUT;
#endif
}

gboolean
cli_mpi_is_root (void)
{
#ifdef NATSIM_HAVE_MPI
  return !mpi_started || natsim_mpi_rank () == 0;
#else
  return TRUE;
#endif
}

guint
cli_mpi_ranks_on_node (void)
{
#ifdef NATSIM_HAVE_MPI
  if (mpi_started)
    return (guint) natsim_mpi_ranks_on_node ();
#endif
  return 1;
}

gboolean
cli_mpi_gather (GError **error)
{
#ifdef NATSIM_HAVE_MPI
  if (mpi_started)
    return natsim_mpi_gather (error);
#endif
  return TRUE;
}

int
cli_mpi_finish (int status)
{
#ifdef NATSIM_HAVE_MPI
  g_autoptr (GError) other = NULL;

  if (!mpi_started)
    return status;
  /* NATSIM_MPI_VERBOSE=1: how the units were spread (rank 0, stderr). */
  if (natsim_mpi_rank () == 0 && g_strcmp0 (g_getenv ("NATSIM_MPI_VERBOSE"), "1") == 0)
    {
      GString *line = g_string_new ("natsim: --mpi: units run by rank:");

      for (int k = 0; k < natsim_mpi_size (); k++)
        g_string_append_printf (line, " %d:%" G_GUINT64_FORMAT, k, natsim_mpi_units_run (k));
      fprintf (stderr, "%s\n", line->str);
      g_string_free (line, TRUE);
    }
  status = natsim_mpi_finish (status, status != EXIT_OK ? last_error : NULL, &other);
  mpi_started = FALSE;
  g_clear_error (&last_error);
  if (other != NULL)
    return cli_fail (g_steal_pointer (&other));
#endif
  return status;
}
