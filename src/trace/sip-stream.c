/* natsim trace: SIP over TCP streams (natsim/sip-stream.h).
 *
 * Streams are found by a linear scan comparing a 32-bit hash of the
 * direction's addresses and ports first: O(slots) per TCP segment, a few
 * hundred integer comparisons with the default pool, paid by TCP only.
 */
#include <string.h>

#include "natsim/nat.h"
#include "natsim/sip-stream.h"
#include "natsim/sip.h"

#define STREAM_DEFAULT_SLOTS  256
#define STREAM_DEFAULT_BUFFER (16 * 1024)

typedef struct
{
  bool       used;
  bool       resync;   /* skip to the next message start */
  uint16_t   sport, dport;
  uint32_t   hash;
  uint32_t   next_seq; /* sequence number of the next byte expected */
  uint8_t    src[16], dst[16];
  NatsimTime last;
  size_t     len;      /* bytes buffered */
  uint8_t   *buf;
} Stream;

struct NatsimSipStreams
{
  Stream              *streams;
  guint                n;
  size_t               size;
  uint8_t             *arena;
  NatsimSipStreamStats stats;
};

NatsimSipStreams *
natsim_sip_streams_new (guint slots, size_t buffer)
{
  NatsimSipStreams *s = g_new0 (NatsimSipStreams, 1);

  s->n = slots > 0 ? slots : STREAM_DEFAULT_SLOTS;
  s->size = buffer >= 64 ? buffer : STREAM_DEFAULT_BUFFER;
  s->streams = g_new0 (Stream, s->n);
  s->arena = g_malloc ((gsize) s->n * s->size);
  for (guint i = 0; i < s->n; i++)
    s->streams[i].buf = s->arena + (gsize) i * s->size;
  return s;
}

void
natsim_sip_streams_free (NatsimSipStreams *s)
{
  if (s == NULL)
    return;
  g_free (s->arena);
  g_free (s->streams);
  g_free (s);
}

const NatsimSipStreamStats *
natsim_sip_streams_stats (const NatsimSipStreams *s)
{
  g_return_val_if_fail (s != NULL, NULL);
  return &s->stats;
}

static uint32_t
direction_hash (const NatsimTracePacket *tp)
{
  uint32_t h = 2166136261u;

  for (guint i = 0; i < 16; i++)
    h = (h ^ tp->src[i]) * 16777619u;
  for (guint i = 0; i < 16; i++)
    h = (h ^ tp->dst[i]) * 16777619u;
  h = (h ^ tp->src_port) * 16777619u;
  return (h ^ tp->dst_port) * 16777619u;
}

/* Where the next message starts at or after @from: a SIP start line at the
 * beginning of a line.  Returns @len if none. */
static size_t
find_start (const uint8_t *buf, size_t from, size_t len)
{
  for (size_t i = from; i < len; i++)
    if ((i == 0 || buf[i - 1] == '\n') && natsim_sip_is_start (buf + i, len - i))
      return i;
  return len;
}

/* Hands out every complete message in @st's buffer; keeps the rest. */
static void
stream_drain (NatsimSipStreams *s, Stream *st, const NatsimTracePacket *tp,
              NatsimSipMessageFunc func, void *user_data)
{
  size_t pos = 0;

  for (;;)
    {
      size_t mlen = 0, crlf = pos;

      /* RFC 5626 3.5.1: a CRLF CRLF ping, a CRLF pong, between messages. */
      while (pos < st->len && (st->buf[pos] == '\r' || st->buf[pos] == '\n'))
        pos++;
      if (pos > crlf)
        s->stats.keepalives += (pos - crlf + 3) / 4 > 0 ? (pos - crlf + 3) / 4 : 1;
      if (pos >= st->len)
        break;
      if (st->resync)
        {
          size_t start = find_start (st->buf, pos, st->len);

          if (start == st->len)
            {
              /* Keep a partial last line: a start line may be cut. */
              size_t keep = st->len;

              while (keep > pos && st->buf[keep - 1] != '\n' && st->len - keep < 64)
                keep--;
              if (keep > pos && st->buf[keep - 1] != '\n')
                keep = st->len; /* a long line: not a start line */
              s->stats.skipped += keep - pos;
              pos = keep;
              break;
            }
          s->stats.skipped += start - pos;
          pos = start;
          st->resync = false;
        }
      switch (natsim_sip_frame (st->buf + pos, st->len - pos, &mlen))
        {
        case NATSIM_SIP_FRAME_COMPLETE:
          s->stats.messages++;
          func (tp, st->buf + pos, mlen, user_data);
          pos += mlen;
          continue;
        case NATSIM_SIP_FRAME_PARTIAL:
          break;
        case NATSIM_SIP_FRAME_INVALID:
        default:
          /* Not a message here: look for the next start past this byte. */
          st->resync = true;
          s->stats.skipped++;
          pos++;
          continue;
        }
      break;
    }
  if (pos > 0)
    {
      memmove (st->buf, st->buf + pos, st->len - pos);
      st->len -= pos;
    }
  if (st->len == s->size)
    {
      /* Full and still no whole message: larger than the buffer. */
      s->stats.overflows++;
      st->len = 0;
      st->resync = true;
    }
}

static Stream *
stream_lookup (NatsimSipStreams *s, const NatsimTracePacket *tp, uint32_t hash,
               Stream **ret_free, Stream **ret_oldest)
{
  *ret_free = NULL;
  *ret_oldest = NULL;
  for (guint i = 0; i < s->n; i++)
    {
      Stream *st = &s->streams[i];

      if (!st->used)
        {
          if (*ret_free == NULL)
            *ret_free = st;
          continue;
        }
      if (st->hash == hash && st->sport == tp->src_port && st->dport == tp->dst_port
          && memcmp (st->src, tp->src, 16) == 0 && memcmp (st->dst, tp->dst, 16) == 0)
        return st;
      if (*ret_oldest == NULL || st->last < (*ret_oldest)->last)
        *ret_oldest = st;
    }
  return NULL;
}

void
natsim_sip_streams_feed (NatsimSipStreams *s, const NatsimTracePacket *tp,
                         NatsimSipMessageFunc func, void *user_data)
{
  uint32_t       hash, seq;
  Stream        *st, *free_st, *oldest;
  const uint8_t *data = tp->payload;
  size_t         n = tp->payload_len;
  bool           syn, end;

  g_return_if_fail (s != NULL && tp != NULL && func != NULL);
  if (tp->proto != NATSIM_PROTO_TCP || !tp->has_ports || tp->fragment)
    return;
  syn = (tp->tcp_flags & NATSIM_TCP_SYN) != 0;
  end = (tp->tcp_flags & (NATSIM_TCP_FIN | NATSIM_TCP_RST)) != 0;
  hash = direction_hash (tp);
  st = stream_lookup (s, tp, hash, &free_st, &oldest);
  if (st == NULL)
    {
      bool sip_port = tp->src_port == 5060 || tp->dst_port == 5060;

      if (end || (!syn && n == 0))
        return;
      if (!sip_port && !(n > 0 && natsim_sip_is_start (data, n)))
        return;
      if (free_st == NULL)
        {
          s->stats.evicted++;
          free_st = oldest;
        }
      st = free_st;
      st->used = true;
      st->hash = hash;
      st->sport = tp->src_port;
      st->dport = tp->dst_port;
      memcpy (st->src, tp->src, 16);
      memcpy (st->dst, tp->dst, 16);
      st->len = 0;
      /* Joined mid-stream: the first bytes may be the tail of a message. */
      st->resync = !syn;
      st->next_seq = tp->tcp_seq;
    }
  st->last = tp->time;
  seq = tp->tcp_seq;
  if (syn)
    {
      /* The SYN takes one sequence number; data starts after it. */
      st->len = 0;
      st->resync = false;
      seq++;
      st->next_seq = seq;
    }
  if (n > 0)
    {
      int32_t diff = (int32_t) (seq - st->next_seq);

      if (diff > 0)
        {
          /* Bytes missing before this segment (lost by the capture, or
           * still to come out of order): the buffered part of a message
           * cannot be completed. */
          s->stats.gaps++;
          st->len = 0;
          st->resync = true;
        }
      else if (diff < 0)
        {
          /* Repeats bytes already taken: keep only what is new. */
          size_t old = (size_t) -(int64_t) diff;

          if (old >= n)
            n = 0;
          else
            {
              data += old;
              n -= old;
              seq += (uint32_t) old;
            }
        }
      if (n > 0)
        {
          size_t room = s->size - st->len;

          if (n > room)
            {
              s->stats.overflows++;
              st->len = 0;
              st->resync = true;
              /* The start of a message, if any, is in the latest bytes. */
              if (n > s->size)
                {
                  s->stats.skipped += n - s->size;
                  data += n - s->size;
                  n = s->size;
                }
            }
          memcpy (st->buf + st->len, data, n);
          st->len += n;
          st->next_seq = seq + (uint32_t) n;
          stream_drain (s, st, tp, func, user_data);
        }
    }
  if (end)
    st->used = false;
}
