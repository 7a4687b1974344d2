/* natsim trace: IP reassembly with a fixed pool (natsim/reasm.h).
 *
 * Each slot holds one datagram: its key, a 64 KiB buffer and a bitmap of
 * the 8-byte blocks received (8 KiB / 8 = 1 KiB), plus a bitmap of where
 * pieces started, to tell an exact duplicate from an overlap.  Lookups scan
 * the slots: O(slots) per fragment, with 64 slots a few hundred
 * comparisons, paid by fragments only.
 */
#include <string.h>

#include "natsim/reasm.h"

#define REASM_DEFAULT_SLOTS 64
#define REASM_MAX           65536u          /* bytes of a datagram's data */
#define REASM_BLOCKS        (REASM_MAX / 8) /* 8-byte blocks */

typedef struct
{
  bool       used;
  uint8_t    version, proto;
  uint32_t   id;
  uint8_t    src[16], dst[16];
  NatsimTime first;        /* arrival of the first piece */
  uint32_t   total;        /* data length once the last piece is in, else 0 */
  uint32_t   received;     /* data bytes received */
  uint32_t   l4_skip;      /* bytes of IPv6 extension headers before the
                            * transport header, from the first piece */
  guint      pieces;
  guint64    bytes;        /* sum of the pieces' IP lengths */
  uint8_t    blocks[REASM_BLOCKS / 8];
  uint8_t    starts[REASM_BLOCKS / 8];
  uint8_t   *data;         /* REASM_MAX bytes */
} Slot;

struct NatsimReasm
{
  Slot            *slots;
  guint            n;
  uint8_t         *arena;
  NatsimReasmStats stats;
};

NatsimReasm *
natsim_reasm_new (guint slots)
{
  NatsimReasm *r = g_new0 (NatsimReasm, 1);

  r->n = slots > 0 ? slots : REASM_DEFAULT_SLOTS;
  r->slots = g_new0 (Slot, r->n);
  /* Not zeroed: only what a piece wrote is read. */
  r->arena = g_malloc ((gsize) r->n * REASM_MAX);
  for (guint i = 0; i < r->n; i++)
    r->slots[i].data = r->arena + (gsize) i * REASM_MAX;
  return r;
}

void
natsim_reasm_free (NatsimReasm *r)
{
  if (r == NULL)
    return;
  g_free (r->arena);
  g_free (r->slots);
  g_free (r);
}

const NatsimReasmStats *
natsim_reasm_stats (const NatsimReasm *r)
{
  g_return_val_if_fail (r != NULL, NULL);
  return &r->stats;
}

static void
slot_drop (NatsimReasm *r, Slot *s)
{
  r->stats.lost += s->pieces;
  s->used = false;
}

static bool
bit_get (const uint8_t *bits, uint32_t i)
{
  return (bits[i >> 3] >> (i & 7)) & 1;
}

static void
bit_set (uint8_t *bits, uint32_t i)
{
  bits[i >> 3] |= (uint8_t) (1u << (i & 7));
}

void
natsim_reasm_flush (NatsimReasm *r)
{
  g_return_if_fail (r != NULL);
  for (guint i = 0; i < r->n; i++)
    if (r->slots[i].used)
      {
        r->stats.timed_out++;
        slot_drop (r, &r->slots[i]);
      }
}

/* The transport header of the reassembled datagram in @s. */
static void
datagram_fill (const Slot *s, NatsimReasmDatagram *ret)
{
  const uint8_t *t = s->data + s->l4_skip;
  size_t         len = s->total > s->l4_skip ? s->total - s->l4_skip : 0;

  memset (ret, 0, sizeof *ret);
  ret->fragments = s->pieces;
  ret->bytes = s->bytes;
  if (s->proto == 17 && len >= 8)
    {
      size_t ulen = ((size_t) t[4] << 8) | t[5];

      ret->has_ports = true;
      ret->src_port = (uint16_t) ((t[0] << 8) | t[1]);
      ret->dst_port = (uint16_t) ((t[2] << 8) | t[3]);
      ret->payload = t + 8;
      /* The UDP length describes the whole datagram now. */
      ret->payload_len = ulen >= 8 && ulen <= len ? ulen - 8 : len - 8;
    }
  else if (s->proto == 6 && len >= 20)
    {
      size_t doff = (size_t) (t[12] >> 4) * 4;

      ret->has_ports = true;
      ret->src_port = (uint16_t) ((t[0] << 8) | t[1]);
      ret->dst_port = (uint16_t) ((t[2] << 8) | t[3]);
      ret->tcp_flags = t[13];
      if (doff >= 20 && doff <= len)
        {
          ret->payload = t + doff;
          ret->payload_len = len - doff;
        }
    }
}

NatsimReasmResult
natsim_reasm_add (NatsimReasm *r, const NatsimTracePacket *tp, NatsimReasmDatagram *ret)
{
  Slot          *s = NULL, *free_slot = NULL, *oldest = NULL;
  const uint8_t *piece;
  uint32_t       off, len, end, first_block, last_block;
  bool           all_set = true, any_set = false;

  g_return_val_if_fail (r != NULL && tp != NULL && ret != NULL, NATSIM_REASM_DROPPED);
  g_return_val_if_fail (tp->fragment, NATSIM_REASM_DROPPED);

  /* Expire, and find the datagram, a free slot and the oldest. */
  for (guint i = 0; i < r->n; i++)
    {
      Slot *c = &r->slots[i];

      if (c->used)
        {
          NatsimTime limit = c->version == 4 ? NATSIM_REASM_TIMEOUT_V4 : NATSIM_REASM_TIMEOUT_V6;

          if (tp->time >= c->first && tp->time - c->first > limit)
            {
              r->stats.timed_out++;
              slot_drop (r, c);
            }
        }
      if (!c->used)
        {
          if (free_slot == NULL)
            free_slot = c;
          continue;
        }
      if (c->id == tp->frag_id && c->proto == tp->proto && c->version == tp->ip_version
          && memcmp (c->src, tp->src, 16) == 0 && memcmp (c->dst, tp->dst, 16) == 0)
        s = c;
      else if (oldest == NULL || c->first < oldest->first)
        oldest = c;
    }

  off = tp->frag_offset;
  piece = tp->ip + tp->frag_data;
  len = tp->ip_length > tp->frag_data ? tp->ip_length - tp->frag_data : 0;
  end = off + len;
  /* A piece cut by the snaplen, reaching past 64 KiB, or not a multiple of
   * 8 bytes while more follow: the datagram cannot be rebuilt. */
  if (tp->ip_caplen < tp->ip_length || tp->frag_data > tp->ip_caplen || end > REASM_MAX
      || (tp->frag_more && (len % 8 != 0 || len == 0)))
    {
      r->stats.invalid++;
      r->stats.lost++;
      if (s != NULL)
        slot_drop (r, s);
      return NATSIM_REASM_DROPPED;
    }

  if (s == NULL)
    {
      if (free_slot == NULL)
        {
          r->stats.evicted++;
          slot_drop (r, oldest);
          free_slot = oldest;
        }
      s = free_slot;
      s->used = true;
      s->version = tp->ip_version;
      s->proto = tp->proto;
      s->id = tp->frag_id;
      memcpy (s->src, tp->src, 16);
      memcpy (s->dst, tp->dst, 16);
      s->first = tp->time;
      s->total = 0;
      s->received = 0;
      s->l4_skip = 0;
      s->pieces = 0;
      s->bytes = 0;
      memset (s->blocks, 0, sizeof s->blocks);
      memset (s->starts, 0, sizeof s->starts);
    }

  first_block = off / 8;
  last_block = len > 0 ? (end - 1) / 8 : first_block;
  for (uint32_t b = first_block; len > 0 && b <= last_block; b++)
    {
      bool set = bit_get (s->blocks, b);

      all_set = all_set && set;
      any_set = any_set || set;
    }
  if (len > 0 && all_set && bit_get (s->starts, first_block)
      && (!tp->frag_more ? s->total == end : true))
    {
      /* The same piece again (a retransmission or a capture taken on two
       * interfaces): ignored, as Linux does. */
      r->stats.duplicates++;
      r->stats.lost++;
      return NATSIM_REASM_PENDING;
    }
  if (any_set || (!tp->frag_more && s->total != 0 && s->total != end)
      || (s->total != 0 && end > s->total))
    {
      r->stats.overlapping++;
      r->stats.lost++;
      slot_drop (r, s);
      return NATSIM_REASM_DROPPED;
    }

  memcpy (s->data + off, piece, len);
  for (uint32_t b = first_block; len > 0 && b <= last_block; b++)
    bit_set (s->blocks, b);
  bit_set (s->starts, first_block);
  s->received += len;
  s->pieces++;
  s->bytes += tp->ip_length;
  if (!tp->frag_more)
    s->total = end;
  if (off == 0 && tp->l4_offset > tp->frag_data)
    s->l4_skip = tp->l4_offset - tp->frag_data;
  if (s->total == 0 || s->received != s->total)
    return NATSIM_REASM_PENDING;

  datagram_fill (s, ret);
  r->stats.datagrams++;
  r->stats.fragments += s->pieces;
  /* The slot is free again, but its data stays until it is reused: @ret
   * points into it until the next call. */
  s->used = false;
  return NATSIM_REASM_COMPLETE;
}
