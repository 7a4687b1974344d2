/* natsim trace: bounds-checked reads over a captured buffer.
 *
 * Every header field of a captured packet is read through these helpers
 * (the libpcap/tcpdump discipline: check each length against what remains).
 * A read that would run past the end fails, returns false and leaves both
 * the cursor and the output untouched.  Multi-byte reads are big-endian
 * (network order) unless the name says otherwise.  Plain C, no GLib.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct
{
  const uint8_t *p;   /* first byte of the buffer */
  size_t         len; /* bytes in the buffer */
  size_t         off; /* read position, 0 <= off <= len */
} NatsimCursor;

static inline NatsimCursor
cursor_make (const uint8_t *p, size_t len)
{
  NatsimCursor c = { p, len, 0 };
  return c;
}

static inline size_t
cursor_remaining (const NatsimCursor *c)
{
  return c->len - c->off;
}

static inline const uint8_t *
cursor_here (const NatsimCursor *c)
{
  return c->p + c->off;
}

static inline bool
cursor_has (const NatsimCursor *c, size_t n)
{
  return n <= c->len - c->off;
}

static inline bool
cursor_skip (NatsimCursor *c, size_t n)
{
  if (!cursor_has (c, n))
    return false;
  c->off += n;
  return true;
}

static inline bool
cursor_read_u8 (NatsimCursor *c, uint8_t *ret)
{
  if (!cursor_has (c, 1))
    return false;
  *ret = c->p[c->off];
  c->off += 1;
  return true;
}

static inline bool
cursor_read_u16 (NatsimCursor *c, uint16_t *ret)
{
  const uint8_t *b;

  if (!cursor_has (c, 2))
    return false;
  b = c->p + c->off;
  *ret = (uint16_t) (((unsigned) b[0] << 8) | b[1]);
  c->off += 2;
  return true;
}

/* In the byte order of this machine: NFLOG TLV headers are in the capturing
 * host's order, which libpcap converts to ours when the file's byte order
 * differs from ours. */
static inline bool
cursor_read_u16_host (NatsimCursor *c, uint16_t *ret)
{
  if (!cursor_has (c, 2))
    return false;
  memcpy (ret, c->p + c->off, 2);
  c->off += 2;
  return true;
}

static inline bool
cursor_read_u32 (NatsimCursor *c, uint32_t *ret)
{
  const uint8_t *b;

  if (!cursor_has (c, 4))
    return false;
  b = c->p + c->off;
  *ret = ((uint32_t) b[0] << 24) | ((uint32_t) b[1] << 16)
         | ((uint32_t) b[2] << 8) | (uint32_t) b[3];
  c->off += 4;
  return true;
}

static inline bool
cursor_read_bytes (NatsimCursor *c, void *ret, size_t n)
{
  if (!cursor_has (c, n))
    return false;
  memcpy (ret, c->p + c->off, n);
  c->off += n;
  return true;
}

/* Peeks without moving: the byte at @off_from_here. */
static inline bool
cursor_peek_u8 (const NatsimCursor *c, size_t off_from_here, uint8_t *ret)
{
  if (off_from_here >= c->len - c->off)
    return false;
  *ret = c->p[c->off + off_from_here];
  return true;
}

/* A sub-cursor over the next @n bytes (clamped to what remains), for a
 * header whose declared length bounds what follows. */
static inline NatsimCursor
cursor_sub (const NatsimCursor *c, size_t n)
{
  size_t rem = c->len - c->off;
  NatsimCursor s = { c->p + c->off, n < rem ? n : rem, 0 };
  return s;
}
