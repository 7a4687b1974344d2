/* natsim: error domain used at the edges (scenario, traces, CLI). */
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

G_END_DECLS
