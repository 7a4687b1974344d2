/* natsim: SIP over TCP, read as a byte stream per direction.
 *
 * On a stream transport a SIP message may span segments and a segment may
 * hold several messages, or CRLF keepalives between them (RFC 5626 3.5.1);
 * messages are framed by their Content-Length (RFC 3261 18.3).  A
 * NatsimSipStreams follows each direction of the TCP connections that
 * carry SIP (port 5060 on either side, or a segment that begins with a SIP
 * start line) by sequence number, buffers what is not yet a whole message
 * and hands every complete message to a callback.  A gap (a segment lost
 * by the capture, or one that arrives before an earlier one) or a message
 * larger than the buffer skips to the next message start; segments that
 * repeat data already seen (retransmissions) add only what is new.
 *
 * Memory is bounded: a fixed pool of streams, each with a fixed buffer,
 * allocated up front; when all are in use the least recently used stream
 * is given up.  natsim_sip_streams_feed() allocates nothing.
 *
 * SIP over WebSocket (RFC 7118) is read too: a direction that begins with
 * an HTTP upgrade to the "sip" subprotocol (the client's GET or the
 * server's 101) carries one SIP message per WebSocket message after it;
 * client frames are unmasked.  Ping and pong frames count as keepalives.
 * Frames have no sync marker: a gap ends such a stream.
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "natsim/trace.h"

G_BEGIN_DECLS

typedef struct NatsimSipStreams NatsimSipStreams;

typedef struct
{
  guint64 messages;    /* complete messages handed out */
  guint64 keepalives;  /* CRLF keepalives (a ping "\r\n\r\n" or pong "\r\n") */
  guint64 gaps;        /* gaps in a stream, each skipped to the next message */
  guint64 overflows;   /* messages larger than a stream's buffer, skipped */
  guint64 evicted;     /* streams given up to make room for new ones */
  guint64 skipped;     /* bytes skipped looking for a message start */
} NatsimSipStreamStats;

/* @slots streams (0: 256) of @buffer bytes each (0: 16 KiB). */
NatsimSipStreams *natsim_sip_streams_new (guint slots, size_t buffer);
void natsim_sip_streams_free (NatsimSipStreams *s);

/* Called for each complete message; @tp is the segment that completed it
 * (its addresses and ports are the message's direction). */
typedef void (*NatsimSipMessageFunc) (const NatsimTracePacket *tp, const uint8_t *msg,
                                      size_t len, void *user_data);

/* Feeds one TCP segment (packets of other protocols are ignored). */
void natsim_sip_streams_feed (NatsimSipStreams *s, const NatsimTracePacket *tp,
                              NatsimSipMessageFunc func, void *user_data);

const NatsimSipStreamStats *natsim_sip_streams_stats (const NatsimSipStreams *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimSipStreams, natsim_sip_streams_free)

G_END_DECLS
