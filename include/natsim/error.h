/* natsim: error domain used at the edges (scenario, traces, CLI).
 *
 * NATSIM_ERROR is an extended error domain: besides its message, an error
 * can carry the place it is about as data (the file and line, the group,
 * the key) and, for an error about one key's value, the message without
 * that key.  Code that adds the place to a message reads these fields; it
 * never parses a message. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define NATSIM_ERROR (natsim_error_quark ())

typedef enum
{
  NATSIM_ERROR_INVALID_INPUT, /* bad scenario, trace or argument: exit 2 */
  NATSIM_ERROR_IO,            /* could not read or write a file: exit 1 */
  NATSIM_ERROR_FAILED,        /* anything else: exit 1 */
} NatsimErrorCode;

GQuark natsim_error_quark (void);

/* Sets NATSIM_ERROR_INVALID_INPUT about the value of @key (a cross-key
 * check of a group's values).  The message reads "KEY: DETAIL" for any
 * reader; @key and DETAIL are kept as data so that the caller that knows
 * where @key was set can say so (natsim_error_get_key(),
 * natsim_error_get_detail()). */
void natsim_set_key_error (GError **error, const char *key, const char *format, ...)
  G_GNUC_PRINTF (3, 4);

/* Records the place @error is about: @file and @line (0: unknown), @group,
 * @key (each may be NULL: unknown).  The message is left as it is. */
void natsim_error_set_place (GError *error, const char *file, guint line, const char *group,
                             const char *key);

/* The fields of an error of NATSIM_ERROR (NULL or 0 when unknown, or when
 * @error is of another domain). */
const char *natsim_error_get_file (const GError *error);
guint natsim_error_get_line (const GError *error);
const char *natsim_error_get_group (const GError *error);
const char *natsim_error_get_key (const GError *error);
/* The message of natsim_set_key_error() without its key. */
const char *natsim_error_get_detail (const GError *error);

G_END_DECLS
