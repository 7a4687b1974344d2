/* Every example in every --help runs as written from the repository root.
 *
 * The commands come from `natsim --help`; each command's examples are the
 * "  natsim ..." lines after "Examples:" (or "Example:") in its --help,
 * with "\" continuation lines joined.  Each example runs in a scratch
 * directory laid out like the repository root (scenarios/ and traces/
 * link to the real ones), so that default report directories (reports/...)
 * land there and not in the source tree, and must exit 0.
 *
 * Argument "fast" runs the examples that take a few seconds at most,
 * "slow" the others (listed in slow_examples[]); the two together run
 * them all.  Every command must have at least one example. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Examples that take more than a few seconds (a substring of the example). */
static const char *const slow_examples[] = {
  "natsim plan scenarios/default.ini",
  "--scenario scenarios/default.ini",
  NULL,
};

static gboolean slow_mode;

static gboolean
is_slow (const char *example)
{
  for (guint i = 0; slow_examples[i] != NULL; i++)
    if (strstr (example, slow_examples[i]) != NULL)
      return TRUE;
  return FALSE;
}

/* Runs natsim with @args (NULL-terminated, args[0] is ignored) in @cwd;
 * returns the exit status, stdout and stderr in @ret_out / @ret_err. */
static int
run_in (const char *cwd, char **args, char **ret_out, char **ret_err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  int wait_status = 0;

  g_ptr_array_add (argv, (char *) g_getenv ("NATSIM"));
  for (guint i = 1; args[i] != NULL; i++)
    g_ptr_array_add (argv, args[i]);
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (cwd, (char **) argv->pdata, NULL, 0, NULL, NULL, ret_out, ret_err,
                     &wait_status, &error))
    fail_msg ("spawn: %s", error->message);
  return WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : 128 + WTERMSIG (wait_status);
}

/* The commands listed under "Commands:" in `natsim --help`. */
static GPtrArray *
commands (const char *help)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) lines = g_strsplit (help, "\n", -1);
  gboolean in = FALSE;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "Commands:"))
        in = TRUE;
      else if (in && g_str_has_prefix (lines[i], "  "))
        {
          g_auto (GStrv) words = g_strsplit (g_strstrip (lines[i]), " ", 2);
          g_ptr_array_add (out, g_strdup (words[0]));
        }
      else if (in)
        break;
    }
  return out;
}

/* The examples of a --help text, continuation lines joined. */
static GPtrArray *
examples (const char *help)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) lines = g_strsplit (help, "\n", -1);
  GString *cur = NULL;
  gboolean in = FALSE;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *l = lines[i];

      if (g_str_has_prefix (l, "Examples:") || g_str_has_prefix (l, "Example:"))
        in = TRUE;
      else if (in && cur != NULL)
        {
          /* A continuation of the line before. */
          g_string_append_c (cur, ' ');
          g_string_append (cur, l);
        }
      else if (in && g_str_has_prefix (l, "  natsim "))
        cur = g_string_new (l);
      else if (in && l[0] != ' ')
        in = FALSE;
      if (cur != NULL)
        {
          if (g_str_has_suffix (cur->str, "\\"))
            g_string_truncate (cur, cur->len - 1);
          else
            {
              g_ptr_array_add (out, g_strdup (g_strstrip (cur->str)));
              g_string_free (cur, TRUE);
              cur = NULL;
            }
        }
    }
  g_assert (cur == NULL);
  return out;
}

/* A scratch directory laid out like the repository root. */
static char *
scratch_root (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("natsim-help-XXXXXX", &error);
  const char *src = g_getenv ("NATSIM_SOURCE_ROOT");

  assert_non_null (dir);
  for (guint i = 0; i < 2; i++)
    {
      const char *name = i == 0 ? "scenarios" : "traces";
      g_autofree char *target = g_build_filename (src, name, NULL);
      g_autofree char *link = g_build_filename (dir, name, NULL);

      assert_int_equal (symlink (target, link), 0);
    }
  return dir;
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) d = NULL;
  const char *name;

  if (g_file_test (path, G_FILE_TEST_IS_SYMLINK) || !g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_unlink (path);
      return;
    }
  d = g_dir_open (path, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      remove_tree (child);
    }
  g_rmdir (path);
}

static void
test_help_examples (void **state)
{
  g_autofree char *root = scratch_root ();
  g_autofree char *top = NULL;
  g_autoptr (GPtrArray) cmds = NULL;
  char *help_args[] = { "natsim", "--help", NULL };
  guint ran = 0, total = 0;
  g_autoptr (GString) failures = g_string_new (NULL);

  assert_int_equal (run_in (root, help_args, &top, NULL), 0);
  cmds = commands (top);
  assert_true (cmds->len >= 9);
  /* The top-level help's own examples, then each command's. */
  g_ptr_array_insert (cmds, 0, g_strdup (""));
  for (guint c = 0; c < cmds->len; c++)
    {
      const char *cmd = g_ptr_array_index (cmds, c);
      char *args[] = { "natsim", (char *) cmd, "--help", NULL };
      g_autofree char *help = NULL;
      g_autoptr (GPtrArray) ex = NULL;

      if (cmd[0] == '\0')
        {
          args[1] = "--help";
          args[2] = NULL;
        }
      assert_int_equal (run_in (root, args, &help, NULL), 0);
      ex = examples (help);
      if (ex->len == 0)
        fail_msg ("'natsim %s --help' has no example", cmd);
      for (guint i = 0; i < ex->len; i++)
        {
          const char *e = g_ptr_array_index (ex, i);
          g_auto (GStrv) argv = NULL;
          g_autoptr (GError) error = NULL;
          g_autofree char *out = NULL, *err = NULL;
          int status;

          total++;
          if (is_slow (e) != slow_mode)
            continue;
          if (!g_shell_parse_argv (e, NULL, &argv, &error))
            fail_msg ("%s: %s", e, error->message);
          status = run_in (root, argv, &out, &err);
          if (status != 0)
            g_string_append_printf (failures, "example '%s' exited %d: %s", e, status, err);
          ran++;
        }
    }
  print_message ("ran %u of %u examples (%s)\n", ran, total, slow_mode ? "slow" : "fast");
  assert_true (ran > 0);
  if (failures->len > 0)
    fail_msg ("%s", failures->str);
  remove_tree (root);
}

int
main (int argc, char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_help_examples),
  };

  if (g_getenv ("NATSIM") == NULL)
    return 77;
  slow_mode = argc > 1 && strcmp (argv[1], "slow") == 0;
  return cmocka_run_group_tests (tests, NULL, NULL);
}
