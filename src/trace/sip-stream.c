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

/* What a direction carries: SIP messages, or SIP over WebSocket (RFC
 * 7118) after the HTTP upgrade. */
typedef enum
{
  MODE_SIP,
  MODE_WS_HANDSHAKE, /* an HTTP upgrade request or 101 response, then frames */
  MODE_WS,
} StreamMode;

typedef struct
{
  bool       used;
  bool       resync;   /* skip to the next message start */
  uint8_t    mode;     /* StreamMode */
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
  guint                n_used;  /* streams in use: none, no scan */
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

static void
stream_release (NatsimSipStreams *s, Stream *st)
{
  st->used = false;
  s->n_used--;
}

static bool
has_ci (const uint8_t *p, size_t len, const char *needle)
{
  size_t n = strlen (needle);

  for (size_t i = 0; i + n <= len; i++)
    if (g_ascii_strncasecmp ((const char *) p + i, needle, n) == 0)
      return true;
  return false;
}

/* The start of a WebSocket upgrade for SIP (RFC 7118 section 4: the
 * subprotocol "sip"): the client's GET or the server's 101. */
static bool
ws_upgrade_start (const uint8_t *p, size_t len)
{
  return ((len > 4 && memcmp (p, "GET ", 4) == 0)
          || (len > 12 && memcmp (p, "HTTP/1.1 101", 12) == 0))
         && has_ci (p, len, "websocket") && has_ci (p, len, "sec-websocket-protocol: sip");
}

/* SIP over WebSocket: each SIP message is one WebSocket message (RFC 7118
 * section 5); frames (RFC 6455 section 5.2) from the client are masked and
 * are unmasked in the buffer.  Frames carry no sync marker, so a gap or a
 * frame larger than the buffer ends the stream. */
static size_t
ws_drain (NatsimSipStreams *s, Stream *st, const NatsimTracePacket *tp,
          NatsimSipMessageFunc func, void *user_data)
{
  size_t pos = 0;

  if (st->mode == MODE_WS_HANDSHAKE)
    {
      for (size_t i = 0; i + 4 <= st->len; i++)
        if (memcmp (st->buf + i, "\r\n\r\n", 4) == 0)
          {
            pos = i + 4;
            st->mode = MODE_WS;
            break;
          }
      if (st->mode != MODE_WS)
        return 0;
    }
  while (st->len - pos >= 2)
    {
      uint8_t *f = st->buf + pos;
      uint8_t  opcode = f[0] & 0x0f, len7 = f[1] & 0x7f;
      bool     fin = (f[0] & 0x80) != 0, masked = (f[1] & 0x80) != 0;
      size_t   hdr = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (masked ? 4 : 0);
      uint64_t plen = len7;

      if (st->len - pos < hdr)
        break;
      if (len7 == 126)
        plen = ((uint64_t) f[2] << 8) | f[3];
      else if (len7 == 127)
        {
          plen = 0;
          for (guint i = 0; i < 8; i++)
            plen = (plen << 8) | f[2 + i];
        }
      if (plen > s->size - hdr)
        {
          s->stats.overflows++;
          stream_release (s, st);
          return st->len;
        }
      if (st->len - pos < hdr + plen)
        break;
      if (masked)
        for (size_t i = 0; i < plen; i++)
          f[hdr + i] ^= f[hdr - 4 + (i & 3)];
      if (fin && (opcode == 1 || opcode == 2) && natsim_sip_is_start (f + hdr, (size_t) plen))
        {
          s->stats.messages++;
          func (tp, f + hdr, (size_t) plen, user_data);
        }
      else if (opcode == 9 || opcode == 10)
        s->stats.keepalives++; /* ping, pong */
      else if (opcode != 8)
        s->stats.skipped += plen; /* continuation frames, other data */
      pos += hdr + (size_t) plen;
    }
  return pos;
}

/* Hands out every complete message in @st's buffer; keeps the rest. */
static void
stream_drain (NatsimSipStreams *s, Stream *st, const NatsimTracePacket *tp,
              NatsimSipMessageFunc func, void *user_data)
{
  size_t pos = 0;

  if (st->mode != MODE_SIP)
    {
      pos = ws_drain (s, st, tp, func, user_data);
      if (!st->used)
        return;
      memmove (st->buf, st->buf + pos, st->len - pos);
      st->len -= pos;
      if (st->len == s->size)
        {
          s->stats.overflows++;
          stream_release (s, st);
        }
      return;
    }

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
  bool           syn, end, creatable;

  g_return_if_fail (s != NULL && tp != NULL && func != NULL);
  if (tp->proto != NATSIM_PROTO_TCP || !tp->has_ports || tp->fragment)
    return;
  syn = (tp->tcp_flags & NATSIM_TCP_SYN) != 0;
  end = (tp->tcp_flags & (NATSIM_TCP_FIN | NATSIM_TCP_RST)) != 0;
  /* Whether this segment may start following a direction: most TCP of a
   * capture is not SIP, and with no stream in use it costs nothing. */
  creatable = !end && (syn || n > 0)
              && (tp->src_port == 5060 || tp->dst_port == 5060
                  || (n > 0 && (natsim_sip_is_start (data, n) || ws_upgrade_start (data, n))));
  if (s->n_used == 0 && !creatable)
    return;
  hash = direction_hash (tp);
  st = stream_lookup (s, tp, hash, &free_st, &oldest);
  if (st == NULL)
    {
      if (!creatable)
        return;
      if (free_st == NULL && oldest == NULL)
        return; /* no slot at all: cannot happen with n > 0 */
      if (free_st == NULL)
        {
          s->stats.evicted++;
          free_st = oldest;
          free_st->used = false;
          s->n_used--;
        }
      st = free_st;
      st->used = true;
      s->n_used++;
      st->hash = hash;
      st->sport = tp->src_port;
      st->dport = tp->dst_port;
      memcpy (st->src, tp->src, 16);
      memcpy (st->dst, tp->dst, 16);
      st->len = 0;
      /* Joined mid-stream: the first bytes may be the tail of a message. */
      st->resync = !syn;
      st->mode = MODE_SIP;
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
          if (st->mode == MODE_WS)
            {
              stream_release (s, st);
              return;
            }
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
          if (st->len == 0 && st->mode == MODE_SIP && ws_upgrade_start (data, n))
            st->mode = MODE_WS_HANDSHAKE;
          memcpy (st->buf + st->len, data, n);
          st->len += n;
          st->next_seq = seq + (uint32_t) n;
          stream_drain (s, st, tp, func, user_data);
        }
    }
  if (end && st->used)
    stream_release (s, st);
}
