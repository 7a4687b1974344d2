/* natsim: run results as bytes and back (natsim/serial.h).
 *
 * Layout: a magic word per record (so that a reader out of step fails at
 * once instead of reading garbage as lengths), then the fields in the
 * order of the struct.  Arrays are a presence flag (0 or 1), an element
 * count, then the elements.  A field added to NatsimRunResult or
 * NatsimUsageResult must be added here too: test-serial compares every
 * field after a round trip, and test-mpi compares reports made from
 * results that travelled between processes with those made in one.
 */
#include <string.h>

#include "natsim/error.h"
#include "natsim/serial.h"

/* A new field must be serialised: update serial.c and test-serial.c,
 * then these sizes (the bytes beside the arrays whose shape is written
 * out: the figures, the gap bins).  Checked where pointers and size_t are
 * 64 bits wide (the build machines); elsewhere the padding differs. */
#if GLIB_SIZEOF_VOID_P == 8 && GLIB_SIZEOF_SIZE_T == 8
G_STATIC_ASSERT (sizeof (NatsimRunResult) == sizeof (NatsimStats) + 176);
G_STATIC_ASSERT (sizeof (NatsimUsageResult) ==
                 sizeof (double) * (NATSIM_GAP_N * NATSIM_GAP_BINS + 4 * NATSIM_GAP_N +
                                    3 * NATSIM_USAGE_N_PROTO) + 88);
#endif

#define RUN_MAGIC   UINT32_C (0x4e535231) /* "NSR1" */
#define USAGE_MAGIC UINT32_C (0x4e535531) /* "NSU1" */

void
natsim_serial_reader_init (NatsimSerialReader *rd, const void *data, gsize len)
{
  rd->p = data;
  rd->left = len;
}

void
natsim_serial_put_double (GByteArray *out, double v)
{
  guint64 bits;

  /* The bit pattern, not a decimal text: exact for every value, -0, NaN
   * payloads and infinities included. */
  G_STATIC_ASSERT (sizeof bits == sizeof v);
  memcpy (&bits, &v, sizeof bits);
  natsim_serial_put_u64 (out, bits);
}

void
natsim_serial_put_string (GByteArray *out, const char *s)
{
  gsize len = s != NULL ? strlen (s) : 0;

  natsim_serial_put_u64 (out, len);
  g_byte_array_append (out, (const guint8 *) (s != NULL ? s : ""), (guint) len);
}

static gboolean
have (const NatsimSerialReader *rd, guint64 n, GError **error)
{
  if (rd->left < n)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_FAILED,
                   "truncated result: %" G_GUINT64_FORMAT " bytes wanted, %" G_GSIZE_FORMAT
                   " left", n, rd->left);
      return FALSE;
    }
  return TRUE;
}

static gboolean
take (NatsimSerialReader *rd, void *dst, gsize n, GError **error)
{
  if (!have (rd, n, error))
    return FALSE;
  memcpy (dst, rd->p, n);
  rd->p += n;
  rd->left -= n;
  return TRUE;
}


/* natsim_serial_put_u32/_u64() and natsim_serial_get_u32/_u64():
 * little-endian, whatever the host. */
#define SERIAL_UINT(bits)                                                                    \
  void                                                                                       \
  natsim_serial_put_u##bits (GByteArray *out, guint##bits v)                                 \
  {                                                                                          \
    guint##bits le = GUINT##bits##_TO_LE (v);                                                \
                                                                                             \
    g_byte_array_append (out, (const guint8 *) &le, sizeof le);                              \
  }                                                                                          \
                                                                                             \
  gboolean                                                                                   \
  natsim_serial_get_u##bits (NatsimSerialReader *rd, guint##bits *ret, GError **error)       \
  {                                                                                          \
    guint##bits le;                                                                          \
                                                                                             \
    if (!take (rd, &le, sizeof le, error))                                                   \
      return FALSE;                                                                          \
    *ret = GUINT##bits##_FROM_LE (le);                                                       \
    return TRUE;                                                                             \
  }

SERIAL_UINT (32)
SERIAL_UINT (64)

gboolean
natsim_serial_get_double (NatsimSerialReader *rd, double *ret, GError **error)
{
  guint64 bits;

  if (!natsim_serial_get_u64 (rd, &bits, error))
    return FALSE;
  memcpy (ret, &bits, sizeof bits);
  return TRUE;
}

gboolean
natsim_serial_get_string (NatsimSerialReader *rd, char **ret, GError **error)
{
  guint64 len;
  char *s;

  if (!natsim_serial_get_u64 (rd, &len, error))
    return FALSE;
  if (!have (rd, len, error))
    return FALSE;
  s = g_malloc (len + 1);
  memcpy (s, rd->p, len);
  s[len] = '\0';
  rd->p += len;
  rd->left -= len;
  *ret = s;
  return TRUE;
}

/* A guint count that must also fit what is left at @elem bytes each. */
static gboolean
get_count (NatsimSerialReader *rd, gsize elem, guint *ret, GError **error)
{
  guint64 n;

  if (!natsim_serial_get_u64 (rd, &n, error))
    return FALSE;
  if (n > G_MAXUINT || (elem > 0 && n > rd->left / elem))
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_FAILED,
                   "truncated result: %" G_GUINT64_FORMAT " elements of %" G_GSIZE_FORMAT
                   " bytes announced, %" G_GSIZE_FORMAT " bytes left", n, elem, rd->left);
      return FALSE;
    }
  *ret = (guint) n;
  return TRUE;
}

/* A byte count written by natsim_serial_put_u64(). */
static gboolean
get_size (NatsimSerialReader *rd, gsize *ret, GError **error)
{
  guint64 v;

  if (!natsim_serial_get_u64 (rd, &v, error))
    return FALSE;
  if (v > G_MAXSIZE)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_FAILED,
                   "inconsistent result: a size of %" G_GUINT64_FORMAT " bytes", v);
      return FALSE;
    }
  *ret = (gsize) v;
  return TRUE;
}

static gboolean
get_magic (NatsimSerialReader *rd, guint32 want, const char *what, GError **error)
{
  guint32 m;

  if (!natsim_serial_get_u32 (rd, &m, error))
    return FALSE;
  if (m != want)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_FAILED,
                   "not a %s record (tag %08x): the processes run different natsim builds?",
                   what, m);
      return FALSE;
    }
  return TRUE;
}

static void
put_doubles (GByteArray *out, const double *v, gsize n)
{
  natsim_serial_put_u32 (out, v != NULL);
  if (v == NULL)
    return;
  natsim_serial_put_u64 (out, n);
  for (gsize i = 0; i < n; i++)
    natsim_serial_put_double (out, v[i]);
}

/* An array written by put_doubles(): NULL when it was NULL, else
 * MAX (n, @min) elements (the collector allocates at least @min), the
 * first n read.  Fails when the count is not @want (G_MAXSIZE: any). */
static gboolean
get_doubles_n (NatsimSerialReader *rd, gsize want, gsize min, double **ret, guint *ret_n,
               GError **error)
{
  guint32 present;
  guint n;
  g_autofree double *v = NULL;

  if (!natsim_serial_get_u32 (rd, &present, error))
    return FALSE;
  if (present == 0)
    {
      *ret = NULL;
      *ret_n = 0;
      return TRUE;
    }
  if (!get_count (rd, sizeof (guint64), &n, error))
    return FALSE;
  if (want != G_MAXSIZE && n != want)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_FAILED,
                   "inconsistent result: an array of %u values where %" G_GSIZE_FORMAT
                   " belong", n, want);
      return FALSE;
    }
  v = g_new0 (double, MAX ((gsize) n, min));
  for (guint i = 0; i < n; i++)
    if (!natsim_serial_get_double (rd, &v[i], error))
      return FALSE;
  *ret = g_steal_pointer (&v);
  *ret_n = n;
  return TRUE;
}

static gboolean
get_doubles (NatsimSerialReader *rd, gsize want, gsize min, double **ret, GError **error)
{
  guint n;

  return get_doubles_n (rd, want, min, ret, &n, error);
}

static void
put_stats (GByteArray *out, const NatsimStats *st)
{
  for (guint i = 0; i < NATSIM_STAT_N; i++)
    natsim_serial_put_double (out, st->v[i]);
}

static gboolean
get_stats (NatsimSerialReader *rd, NatsimStats *st, GError **error)
{
  for (guint i = 0; i < NATSIM_STAT_N; i++)
    if (!natsim_serial_get_double (rd, &st->v[i], error))
      return FALSE;
  return TRUE;
}

static void
put_packet (GByteArray *out, const NatsimPacketRecord *p)
{
  natsim_serial_put_u64 (out, p->time);
  natsim_serial_put_u32 (out, p->src_addr);
  natsim_serial_put_u32 (out, p->dst_addr);
  natsim_serial_put_u32 (out, p->src_port);
  natsim_serial_put_u32 (out, p->dst_port);
  natsim_serial_put_u32 (out, p->ext_addr);
  natsim_serial_put_u32 (out, p->ext_port);
  natsim_serial_put_u32 (out, p->cls);
  natsim_serial_put_u32 (out, p->in_addr);
  natsim_serial_put_u32 (out, p->in_port);
  natsim_serial_put_u32 (out, (guint32) p->proto | (guint32) p->dir << 8 |
                                (guint32) p->verdict << 16 | (guint32) p->tcp_flags << 24);
  natsim_serial_put_u32 (out, p->hairpinned);
}

#define PACKET_BYTES (8 + 11 * 4)

static gboolean
get_packet (NatsimSerialReader *rd, NatsimPacketRecord *p, GError **error)
{
  guint32 v[11];
  guint64 t;

  if (!natsim_serial_get_u64 (rd, &t, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (v); i++)
    if (!natsim_serial_get_u32 (rd, &v[i], error))
      return FALSE;
  memset (p, 0, sizeof *p);
  p->time = t;
  p->src_addr = v[0];
  p->dst_addr = v[1];
  p->src_port = (uint16_t) v[2];
  p->dst_port = (uint16_t) v[3];
  p->ext_addr = v[4];
  p->ext_port = (uint16_t) v[5];
  p->cls = (uint16_t) v[6];
  p->in_addr = v[7];
  p->in_port = (uint16_t) v[8];
  p->proto = (uint8_t) v[9];
  p->dir = (uint8_t) (v[9] >> 8);
  p->verdict = (uint8_t) (v[9] >> 16);
  p->tcp_flags = (uint8_t) (v[9] >> 24);
  p->hairpinned = v[10] != 0;
  return TRUE;
}

/* The per-address and the timeline arrays of a run result, in the order
 * written, so that writer and reader cannot disagree.  A timeline array
 * is one value per interval, or per address and interval (@cells). */
typedef struct
{
  gsize    offset; /* of the double * in NatsimRunResult */
  gboolean cells;
} RunArray;

#define RUN_ARRAY(field, cells) { G_STRUCT_OFFSET (NatsimRunResult, field), cells }

static const RunArray addr_arrays[] = {
  RUN_ARRAY (addr_peak_ports, FALSE),
  RUN_ARRAY (addr_failures, FALSE),
  RUN_ARRAY (addr_peak_blocks, FALSE),
  RUN_ARRAY (addr_fallbacks, FALSE),
};

static const RunArray tl_arrays[] = {
  RUN_ARRAY (tl_bindings, FALSE),
  RUN_ARRAY (tl_ports, FALSE),
  RUN_ARRAY (tl_failures, FALSE),
  RUN_ARRAY (tl_addr_ports, TRUE),
  RUN_ARRAY (tl_blocks, FALSE),
  RUN_ARRAY (tl_block_subscribers, FALSE),
  RUN_ARRAY (tl_addr_blocks, TRUE),
};

#define RUN_ARRAY_PTR(r, a) G_STRUCT_MEMBER_P (r, (a)->offset)

static void
put_run_arrays (GByteArray *out, const NatsimRunResult *r, const RunArray *arrays, gsize n,
                gsize len, gsize cells)
{
  for (gsize i = 0; i < n; i++)
    put_doubles (out, *(double *const *) RUN_ARRAY_PTR (r, &arrays[i]),
                 arrays[i].cells ? cells : len);
}

static gboolean
get_run_arrays (NatsimSerialReader *rd, NatsimRunResult *r, const RunArray *arrays, gsize n,
                gsize len, gsize cells, GError **error)
{
  for (gsize i = 0; i < n; i++)
    if (!get_doubles (rd, arrays[i].cells ? cells : len, 0,
                      (double **) RUN_ARRAY_PTR (r, &arrays[i]), error))
      return FALSE;
  return TRUE;
}

void
natsim_serial_put_run_result (GByteArray *out, const NatsimRunResult *r)
{
  gsize cells = (gsize) r->n_addresses * r->n_intervals;

  natsim_serial_put_u32 (out, RUN_MAGIC);
  /* The figure count first: a build with more figures is another build. */
  natsim_serial_put_u32 (out, NATSIM_STAT_N);
  put_stats (out, &r->totals);
  natsim_serial_put_u64 (out, r->n_classes);
  for (guint c = 0; c < r->n_classes; c++)
    put_stats (out, &r->per_class[c]);
  natsim_serial_put_u64 (out, r->n_addresses);
  put_run_arrays (out, r, addr_arrays, G_N_ELEMENTS (addr_arrays), r->n_addresses, 0);
  natsim_serial_put_double (out, r->blocks_per_address);
  natsim_serial_put_double (out, r->interval_s);
  natsim_serial_put_u64 (out, r->n_intervals);
  put_run_arrays (out, r, tl_arrays, G_N_ELEMENTS (tl_arrays), r->n_intervals, cells);
  natsim_serial_put_u32 (out, r->packets != NULL);
  if (r->packets != NULL)
    {
      natsim_serial_put_u64 (out, r->packets->len);
      for (guint i = 0; i < r->packets->len; i++)
        put_packet (out, &g_array_index (r->packets, NatsimPacketRecord, i));
    }
  natsim_serial_put_u64 (out, r->mem_nat);
  natsim_serial_put_u64 (out, r->mem_events);
  natsim_serial_put_u64 (out, r->mem_models);
  natsim_serial_put_u64 (out, r->mem_collector);
}

NatsimRunResult *
natsim_serial_get_run_result (NatsimSerialReader *rd, GError **error)
{
  g_autoptr (NatsimRunResult) r = g_new0 (NatsimRunResult, 1);
  guint32 n_stats, has_packets;
  gsize cells;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (!get_magic (rd, RUN_MAGIC, "run result", error) ||
      !natsim_serial_get_u32 (rd, &n_stats, error))
    return NULL;
  if (n_stats != NATSIM_STAT_N)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_FAILED,
                   "a run result with %u figures, this natsim has %u: the processes run "
                   "different natsim builds", n_stats, (guint) NATSIM_STAT_N);
      return NULL;
    }
  if (!get_stats (rd, &r->totals, error) ||
      !get_count (rd, sizeof (double) * NATSIM_STAT_N, &r->n_classes, error))
    return NULL;
  /* As the collector: room for one class at least. */
  r->per_class = g_new0 (NatsimStats, MAX (r->n_classes, 1));
  for (guint c = 0; c < r->n_classes; c++)
    if (!get_stats (rd, &r->per_class[c], error))
      return NULL;
  if (!get_count (rd, 0, &r->n_addresses, error) ||
      !get_run_arrays (rd, r, addr_arrays, G_N_ELEMENTS (addr_arrays), r->n_addresses, 0,
                       error) ||
      !natsim_serial_get_double (rd, &r->blocks_per_address, error) ||
      !natsim_serial_get_double (rd, &r->interval_s, error) ||
      !get_count (rd, 0, &r->n_intervals, error))
    return NULL;
  cells = (gsize) r->n_addresses * r->n_intervals;
  if (!get_run_arrays (rd, r, tl_arrays, G_N_ELEMENTS (tl_arrays), r->n_intervals, cells,
                       error) ||
      !natsim_serial_get_u32 (rd, &has_packets, error))
    return NULL;
  if (has_packets)
    {
      guint n;

      if (!get_count (rd, PACKET_BYTES, &n, error))
        return NULL;
      r->packets = g_array_sized_new (FALSE, FALSE, sizeof (NatsimPacketRecord), n);
      g_array_set_size (r->packets, n);
      for (guint i = 0; i < n; i++)
        if (!get_packet (rd, &g_array_index (r->packets, NatsimPacketRecord, i), error))
          return NULL;
    }
  if (!get_size (rd, &r->mem_nat, error) || !get_size (rd, &r->mem_events, error) ||
      !get_size (rd, &r->mem_models, error) || !get_size (rd, &r->mem_collector, error))
    return NULL;
  return g_steal_pointer (&r);
}

static void
put_double_array (GByteArray *out, const GArray *a)
{
  put_doubles (out, (const double *) a->data, a->len);
}

/* Into @into (an empty GArray of double). */
static gboolean
get_double_array (NatsimSerialReader *rd, GArray *into, GError **error)
{
  g_autofree double *v = NULL;
  guint n;

  if (!get_doubles_n (rd, G_MAXSIZE, 0, &v, &n, error))
    return FALSE;
  if (v != NULL)
    g_array_append_vals (into, v, n);
  return TRUE;
}

void
natsim_serial_put_usage_result (GByteArray *out, const NatsimUsageResult *u)
{
  gsize per_class = (gsize) MAX (u->n_classes, 1) * NATSIM_GAP_N;

  natsim_serial_put_u32 (out, USAGE_MAGIC);
  natsim_serial_put_u32 (out, NATSIM_GAP_N);
  natsim_serial_put_u32 (out, NATSIM_GAP_BINS);
  natsim_serial_put_u32 (out, NATSIM_USAGE_N_PROTO);
  natsim_serial_put_u64 (out, u->runs);
  natsim_serial_put_double (out, u->window_s);
  natsim_serial_put_u64 (out, u->n_classes);
  put_double_array (out, u->peak_hist);
  put_double_array (out, u->time_hist);
  natsim_serial_put_double (out, u->subscribers);
  natsim_serial_put_u64 (out, u->destinations->len);
  for (guint i = 0; i < u->destinations->len; i++)
    {
      const NatsimDestinationLoad *d = &g_array_index (u->destinations,
                                                       NatsimDestinationLoad, i);

      natsim_serial_put_u32 (out, d->proto);
      natsim_serial_put_u32 (out, d->addr);
      natsim_serial_put_u32 (out, d->port);
      natsim_serial_put_double (out, d->attempts);
      natsim_serial_put_double (out, d->created);
      natsim_serial_put_double (out, d->binding_seconds);
    }
  for (guint p = 0; p < NATSIM_USAGE_N_PROTO; p++)
    {
      natsim_serial_put_double (out, u->port_attempts[p]);
      natsim_serial_put_double (out, u->port_acquired[p]);
      natsim_serial_put_double (out, u->port_seconds[p]);
    }
  for (guint k = 0; k < NATSIM_GAP_N; k++)
    {
      for (guint b = 0; b < NATSIM_GAP_BINS; b++)
        natsim_serial_put_double (out, u->gap_hist[k][b]);
      natsim_serial_put_double (out, u->gap_count[k]);
      natsim_serial_put_double (out, u->gap_max[k]);
      natsim_serial_put_double (out, u->ignored_gap_count[k]);
      natsim_serial_put_double (out, u->flows[k]);
    }
  put_doubles (out, u->class_gap_max, per_class);
  put_doubles (out, u->ignored_class_gap_max, per_class);
  natsim_serial_put_double (out, u->exposed_flows);
  natsim_serial_put_double (out, u->gap_flows);
}

NatsimUsageResult *
natsim_serial_get_usage_result (NatsimSerialReader *rd, GError **error)
{
  g_autoptr (NatsimUsageResult) u = NULL;
  guint32 gap_n, gap_bins, n_proto;
  guint64 runs;
  double window;
  guint n_classes, n_dest;
  gsize per_class;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (!get_magic (rd, USAGE_MAGIC, "usage result", error) ||
      !natsim_serial_get_u32 (rd, &gap_n, error) ||
      !natsim_serial_get_u32 (rd, &gap_bins, error) ||
      !natsim_serial_get_u32 (rd, &n_proto, error))
    return NULL;
  if (gap_n != NATSIM_GAP_N || gap_bins != NATSIM_GAP_BINS || n_proto != NATSIM_USAGE_N_PROTO)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_FAILED,
                   "a usage result of another shape (%u timers, %u bins, %u protocols): the "
                   "processes run different natsim builds", gap_n, gap_bins, n_proto);
      return NULL;
    }
  if (!natsim_serial_get_u64 (rd, &runs, error) ||
      !natsim_serial_get_double (rd, &window, error) ||
      !get_count (rd, 0, &n_classes, error))
    return NULL;
  if (runs > G_MAXUINT)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_FAILED,
                   "inconsistent usage result: %" G_GUINT64_FORMAT " runs", runs);
      return NULL;
    }
  u = natsim_usage_result_new (n_classes);
  u->runs = (guint) runs;
  u->window_s = window;
  per_class = (gsize) MAX (n_classes, 1) * NATSIM_GAP_N;
  if (!get_double_array (rd, u->peak_hist, error) ||
      !get_double_array (rd, u->time_hist, error) ||
      !natsim_serial_get_double (rd, &u->subscribers, error) ||
      !get_count (rd, 3 * 4 + 3 * 8, &n_dest, error))
    return NULL;
  g_array_set_size (u->destinations, n_dest);
  for (guint i = 0; i < n_dest; i++)
    {
      NatsimDestinationLoad *d = &g_array_index (u->destinations, NatsimDestinationLoad, i);
      guint32 proto, addr, port;

      if (!natsim_serial_get_u32 (rd, &proto, error) ||
          !natsim_serial_get_u32 (rd, &addr, error) ||
          !natsim_serial_get_u32 (rd, &port, error) ||
          !natsim_serial_get_double (rd, &d->attempts, error) ||
          !natsim_serial_get_double (rd, &d->created, error) ||
          !natsim_serial_get_double (rd, &d->binding_seconds, error))
        return NULL;
      d->proto = (uint8_t) proto;
      d->addr = addr;
      d->port = (uint16_t) port;
    }
  for (guint p = 0; p < NATSIM_USAGE_N_PROTO; p++)
    if (!natsim_serial_get_double (rd, &u->port_attempts[p], error) ||
        !natsim_serial_get_double (rd, &u->port_acquired[p], error) ||
        !natsim_serial_get_double (rd, &u->port_seconds[p], error))
      return NULL;
  for (guint k = 0; k < NATSIM_GAP_N; k++)
    {
      for (guint b = 0; b < NATSIM_GAP_BINS; b++)
        if (!natsim_serial_get_double (rd, &u->gap_hist[k][b], error))
          return NULL;
      if (!natsim_serial_get_double (rd, &u->gap_count[k], error) ||
          !natsim_serial_get_double (rd, &u->gap_max[k], error) ||
          !natsim_serial_get_double (rd, &u->ignored_gap_count[k], error) ||
          !natsim_serial_get_double (rd, &u->flows[k], error))
        return NULL;
    }
  /* natsim_usage_result_new() allocated both per-class arrays. */
  g_clear_pointer (&u->class_gap_max, g_free);
  g_clear_pointer (&u->ignored_class_gap_max, g_free);
  if (!get_doubles (rd, per_class, 0, &u->class_gap_max, error) ||
      !get_doubles (rd, per_class, 0, &u->ignored_class_gap_max, error) ||
      !natsim_serial_get_double (rd, &u->exposed_flows, error) ||
      !natsim_serial_get_double (rd, &u->gap_flows, error))
    return NULL;
  return g_steal_pointer (&u);
}
