/* natsim: run results as bytes and back (--mpi sends them between
 * processes).
 *
 * The encoding is exact: every double travels as its 64-bit pattern, so a
 * result read back is bit for bit the one written and reports made from
 * it are byte-identical to those of the process that ran it.  Integers
 * and bit patterns are little-endian whatever the host, so processes of
 * any byte order agree.  Every array carries its length and whether it
 * is there at all (NULL stays NULL).  A reader checks every length
 * against what is left and fails, never reads past the end. */
#pragma once

#include <glib.h>

#include "natsim/metrics.h"

G_BEGIN_DECLS

/* A cursor over bytes being read. */
typedef struct
{
  const guint8 *p;
  gsize         left;
} NatsimSerialReader;

void natsim_serial_reader_init (NatsimSerialReader *rd, const void *data, gsize len);

void natsim_serial_put_u32 (GByteArray *out, guint32 v);
void natsim_serial_put_u64 (GByteArray *out, guint64 v);
void natsim_serial_put_double (GByteArray *out, double v);
/* A length, then the bytes. */
void natsim_serial_put_string (GByteArray *out, const char *s);

/* Each fails (NATSIM_ERROR_FAILED, "truncated ...") when too few bytes
 * are left. */
gboolean natsim_serial_get_u32 (NatsimSerialReader *rd, guint32 *ret, GError **error);
gboolean natsim_serial_get_u64 (NatsimSerialReader *rd, guint64 *ret, GError **error);
gboolean natsim_serial_get_double (NatsimSerialReader *rd, double *ret, GError **error);
/* A newly allocated string. */
gboolean natsim_serial_get_string (NatsimSerialReader *rd, char **ret, GError **error);

/* NatsimRunResult: every field, the packet log included. */
void natsim_serial_put_run_result (GByteArray *out, const NatsimRunResult *r);
NatsimRunResult *natsim_serial_get_run_result (NatsimSerialReader *rd, GError **error);

/* NatsimUsageResult (the planner's usage figures): every field. */
void natsim_serial_put_usage_result (GByteArray *out, const NatsimUsageResult *u);
NatsimUsageResult *natsim_serial_get_usage_result (NatsimSerialReader *rd, GError **error);

G_END_DECLS
