/* End-to-end test harness: runs the natsim executable ($NATSIM) from the
 * source root ($NATSIM_SOURCE_ROOT) and reads what it wrote.
 *
 * Include after <cmocka.h>; define CLI_HARNESS_TMPDIR (a g_dir_make_tmp
 * template) first to name the temporary directories. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <sys/wait.h>

#ifndef CLI_HARNESS_TMPDIR
#define CLI_HARNESS_TMPDIR "natsim-cli-XXXXXX"
#endif

typedef struct
{
  int   status;
  char *out;
  char *err;
} Run;

static G_GNUC_UNUSED void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
}

/* Runs natsim with @args (NULL-terminated) from the source root. */
static G_GNUC_UNUSED Run
natsim_argv (const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  Run r = { 0 };
  int wait_status = 0;

  g_ptr_array_add (argv, (char *) g_getenv ("NATSIM"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (g_getenv ("NATSIM_SOURCE_ROOT"), (char **) argv->pdata, NULL, 0, NULL, NULL,
                     &r.out, &r.err, &wait_status, &error))
    fail_msg ("spawn: %s", error->message);
  r.status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : 128 + WTERMSIG (wait_status);
  return r;
}

/* The NULL-terminated arguments from @first on, as a NULL-terminated array
 * (the strings are not copied). */
static G_GNUC_UNUSED GPtrArray *
natsim_args (const char *first, va_list ap)
{
  GPtrArray *args = g_ptr_array_new ();

  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) a);
  g_ptr_array_add (args, NULL);
  return args;
}

/* Runs natsim with the NULL-terminated arguments, from the source root. */
static G_GNUC_UNUSED Run
natsim (const char *first, ...)
{
  g_autoptr (GPtrArray) args = NULL;
  va_list ap;

  va_start (ap, first);
  args = natsim_args (first, ap);
  va_end (ap);
  return natsim_argv ((const char *const *) args->pdata);
}

/* Runs natsim and fails the test unless it exits 0. */
static G_GNUC_UNUSED void
natsim_ok (const char *first, ...)
{
  g_autoptr (GPtrArray) args = NULL;
  va_list ap;
  Run r;

  va_start (ap, first);
  args = natsim_args (first, ap);
  va_end (ap);
  r = natsim_argv ((const char *const *) args->pdata);
  if (r.status != 0)
    fail_msg ("natsim %s: status %d, stderr '%s'", first, r.status, r.err);
  run_clear (&r);
}

/* A new temporary directory. */
static G_GNUC_UNUSED char *
tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *d = g_dir_make_tmp (CLI_HARNESS_TMPDIR, &error);

  assert_non_null (d);
  return d;
}

/* The contents of @path; fails the test when it cannot be read. */
static G_GNUC_UNUSED char *
read_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, &error))
    fail_msg ("%s", error->message);
  return contents;
}

/* The root object of the JSON file @path; its parser in @ret_parser. */
static G_GNUC_UNUSED JsonObject *
load_json (const char *path, JsonParser **ret_parser)
{
  g_autoptr (GError) error = NULL;
  JsonParser *p = json_parser_new ();

  if (!json_parser_load_from_file (p, path, &error))
    fail_msg ("%s: %s", path, error->message);
  *ret_parser = p;
  return json_node_get_object (json_parser_get_root (p));
}

/* The root object of DIR/report.json; its parser in @ret_parser. */
static G_GNUC_UNUSED JsonObject *
load_report (const char *dir, JsonParser **ret_parser)
{
  g_autofree char *path = g_build_filename (dir, "report.json", NULL);

  return load_json (path, ret_parser);
}

/* The message of the report's warning @id, or NULL. */
static G_GNUC_UNUSED const char *
report_warning (JsonObject *root, const char *id)
{
  JsonArray *w = json_object_get_array_member (root, "warnings");

  for (guint i = 0; i < json_array_get_length (w); i++)
    {
      JsonObject *o = json_array_get_object_element (w, i);

      if (strcmp (json_object_get_string_member (o, "id"), id) == 0)
        return json_object_get_string_member (o, "message");
    }
  return NULL;
}

/* A run that must have succeeded (else the test fails with its stderr):
 * cleared, and the root object of DIR/report.json returned. */
static G_GNUC_UNUSED JsonObject *
report_of_run (Run *r, const char *dir, JsonParser **ret_parser)
{
  if (r->status != 0)
    fail_msg ("exit %d: %s", r->status, r->err);
  run_clear (r);
  return load_report (dir, ret_parser);
}
