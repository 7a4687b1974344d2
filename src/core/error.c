/* natsim: the error domain used at the edges (scenario, traces, CLI). */
#include <stdarg.h>

#include "natsim/error.h"

typedef struct
{
  char *file;
  guint line;
  char *group;
  char *key;
  char *detail;
} NatsimErrorPrivate;

static void
natsim_error_private_init (NatsimErrorPrivate *p)
{
}

static void
natsim_error_private_copy (const NatsimErrorPrivate *s, NatsimErrorPrivate *d)
{
  if (s == NULL || d == NULL)
    return; /* never: the macro's lookup checks the domain */
  d->file = g_strdup (s->file);
  d->line = s->line;
  d->group = g_strdup (s->group);
  d->key = g_strdup (s->key);
  d->detail = g_strdup (s->detail);
}

static void
natsim_error_private_clear (NatsimErrorPrivate *p)
{
  if (p == NULL)
    return;
  g_clear_pointer (&p->file, g_free);
  g_clear_pointer (&p->group, g_free);
  g_clear_pointer (&p->key, g_free);
  g_clear_pointer (&p->detail, g_free);
}

/* The domain is registered under the name "NatsimError". */
G_DEFINE_EXTENDED_ERROR (NatsimError, natsim_error)

static NatsimErrorPrivate *
error_fields (const GError *error)
{
  if (error == NULL || error->domain != NATSIM_ERROR)
    return NULL;
  return natsim_error_get_private (error);
}

void
natsim_set_key_error (GError **error, const char *key, const char *format, ...)
{
  va_list args;
  char *detail;
  GError *e;
  NatsimErrorPrivate *p;

  g_return_if_fail (key != NULL && format != NULL);
  g_return_if_fail (error == NULL || *error == NULL);

  if (error == NULL)
    return;
  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);
  e = g_error_new (NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT, "%s: %s", key, detail);
  p = error_fields (e);
  if (p != NULL)
    {
      p->key = g_strdup (key);
      p->detail = g_steal_pointer (&detail);
    }
  g_free (detail);
  *error = e;
}

void
natsim_error_set_place (GError *error, const char *file, guint line, const char *group,
                        const char *key)
{
  NatsimErrorPrivate *p;

  g_return_if_fail (error != NULL);
  p = error_fields (error);
  if (p == NULL)
    return; /* another domain carries no place */
  g_free (p->file);
  p->file = g_strdup (file);
  p->line = line;
  g_free (p->group);
  p->group = g_strdup (group);
  g_free (p->key);
  p->key = g_strdup (key);
}

const char *
natsim_error_get_file (const GError *error)
{
  const NatsimErrorPrivate *p = error_fields (error);

  return p != NULL ? p->file : NULL;
}

guint
natsim_error_get_line (const GError *error)
{
  const NatsimErrorPrivate *p = error_fields (error);

  return p != NULL ? p->line : 0;
}

const char *
natsim_error_get_group (const GError *error)
{
  const NatsimErrorPrivate *p = error_fields (error);

  return p != NULL ? p->group : NULL;
}

const char *
natsim_error_get_key (const GError *error)
{
  const NatsimErrorPrivate *p = error_fields (error);

  return p != NULL ? p->key : NULL;
}

const char *
natsim_error_get_detail (const GError *error)
{
  const NatsimErrorPrivate *p = error_fields (error);

  return p != NULL ? p->detail : NULL;
}
