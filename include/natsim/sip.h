/* natsim: what clear-text SIP says about registration.
 *
 * Decoding of SIP messages as `natsim analyze` reads them from captures:
 * the registration facts of one message (natsim_sip_peek()), and the
 * framing of messages in a stream transport (natsim_sip_frame(), RFC 3261
 * section 18.3), used by the per-direction TCP streams of
 * natsim/sip-stream.h.  Plain C on the packet path: no allocation, reads
 * only the bytes given (no terminator needed).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

/* What a clear-text SIP message says about registration. */
typedef enum
{
  NATSIM_SIP_NONE,               /* not SIP, or none of the below */
  NATSIM_SIP_REGISTER,           /* a REGISTER request */
  NATSIM_SIP_REGISTER_OK,        /* a 2xx response whose CSeq method is REGISTER */
  NATSIM_SIP_REGISTER_CHALLENGE, /* a 401 or 407 response whose CSeq method is REGISTER */
} NatsimSipKind;

typedef struct
{
  NatsimSipKind kind;
  gint64        expires;  /* Expires header, or the expires parameter of the
                           * first Contact (outside its <...>); -1 if none */
  gint64        cseq;     /* CSeq number, -1 if none */
  uint32_t      call_id;  /* FNV-1a hash of the Call-ID value, 0 if none */
  int           status;   /* response status code; 0 for a request */
} NatsimSipInfo;

/* Peeks at one message.  Header names are case-insensitive, with the
 * compact forms "m" (Contact) and "i" (Call-ID); a value out of range is
 * "none".  Returns ret->kind != NONE. */
bool natsim_sip_peek (const uint8_t *payload, size_t len, NatsimSipInfo *ret);

/* True if @p starts with a SIP start line: "SIP/2.0 " and a status code,
 * or a method token followed by a sip:, sips: or tel: URI. */
bool natsim_sip_is_start (const uint8_t *p, size_t len);

typedef enum
{
  NATSIM_SIP_FRAME_COMPLETE, /* *ret_len bytes are one message */
  NATSIM_SIP_FRAME_PARTIAL,  /* the message goes on past @len */
  NATSIM_SIP_FRAME_INVALID,  /* not a message start, or a bad Content-Length */
} NatsimSipFrame;

/* Frames the message at the start of @p on a stream transport: headers up
 * to the blank line, then Content-Length bytes of body (RFC 3261 18.3: the
 * header is mandatory on streams; absent, the body is empty). */
NatsimSipFrame natsim_sip_frame (const uint8_t *p, size_t len, size_t *ret_len);

G_END_DECLS
