/* natsim: a standalone driver for the fuzz targets (no libFuzzer).
 *
 *   fuzz-TARGET PATH...
 *
 * Runs LLVMFuzzerTestOneInput() once over each file given, and over every
 * regular file of each directory given (sorted by name, not recursive), so
 * every target is also an ordinary test over its seed corpus and the
 * reproducers of bugs fuzzing has found.  Exits 0 when every input ran, 1
 * when a path could not be read; a bug aborts (or is reported by a
 * sanitizer or valgrind). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
run_file (const char *path, guint *n_run)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      fprintf (stderr, "fuzz-main: %s\n", error->message);
      return FALSE;
    }
  if (g_getenv ("FUZZ_MAIN_VERBOSE") != NULL)
    fprintf (stderr, "fuzz-main: %s (%zu bytes)\n", path, (size_t) length);
  /* An exact-size heap copy, so that a read past the end is caught by
   * valgrind or ASan as it would be under libFuzzer. */
  {
    uint8_t *copy = g_malloc (length > 0 ? length : 1);

    memcpy (copy, contents, length);

    LLVMFuzzerTestOneInput (copy, length);
    g_free (copy);
  }
  (*n_run)++;
  return TRUE;
}

static gboolean
run_dir (const char *path, guint *n_run)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (path, 0, &error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  gboolean ok = TRUE;
  const char *name;

  if (dir == NULL)
    {
      fprintf (stderr, "fuzz-main: %s\n", error->message);
      return FALSE;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      const char *file = g_ptr_array_index (names, i);

      if (g_file_test (file, G_FILE_TEST_IS_REGULAR))
        ok = run_file (file, n_run) && ok;
    }
  return ok;
}

int
main (int argc, char **argv)
{
  gboolean ok = TRUE;
  guint n_run = 0;

  if (argc < 2)
    {
      fprintf (stderr, "usage: %s FILE-OR-DIRECTORY...\n", argv[0]);
      return 2;
    }
  for (int i = 1; i < argc; i++)
    {
      if (g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        ok = run_dir (argv[i], &n_run) && ok;
      else
        ok = run_file (argv[i], &n_run) && ok;
    }
  printf ("%s: %u inputs run\n", argv[0], n_run);
  return ok ? 0 : 1;
}
