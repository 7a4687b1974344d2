/* natsim trace: clear-text SIP, one message at a time.
 *
 * Only the few headers registration studies need are read (Expires,
 * Contact, CSeq, Call-ID, Content-Length), line by line within the bytes
 * given; nothing is copied or allocated.
 */
#include <string.h>

#include "natsim/sip.h"

static bool
has_prefix_ci (const uint8_t *p, size_t len, const char *prefix)
{
  size_t n = strlen (prefix);

  return len >= n && g_ascii_strncasecmp ((const char *) p, prefix, n) == 0;
}

/* Parses decimal digits at @p (after blanks); -1 if none or more than 10. */
static gint64
parse_number (const uint8_t *p, size_t len, size_t *ret_used)
{
  size_t i = 0, start;
  gint64 v = 0;

  while (i < len && (p[i] == ' ' || p[i] == '\t'))
    i++;
  start = i;
  while (i < len && g_ascii_isdigit (p[i]) && i - start < 10)
    v = v * 10 + (p[i++] - '0');
  if (ret_used != NULL)
    *ret_used = i;
  if (i == start || (i < len && g_ascii_isdigit (p[i])) || v > G_MAXUINT32)
    return -1;
  return v;
}

static bool
name_is (const uint8_t *name, size_t len, const char *want)
{
  return len == strlen (want) && g_ascii_strncasecmp ((const char *) name, want, len) == 0;
}

/* The expires parameter of the first contact in a Contact value: a ';'
 * outside the <...> of the address and outside a quoted display name
 * starts a header parameter; one inside <...> belongs to the URI
 * (RFC 3261 20.10: "<sip:a@b;expires=5>" has no expires parameter).  A
 * ',' outside both ends the first contact. */
static gint64
contact_expires (const uint8_t *v, size_t n)
{
  bool angle = false, quote = false;

  for (size_t i = 0; i < n; i++)
    {
      uint8_t c = v[i];

      if (quote)
        {
          if (c == '\\' && i + 1 < n)
            i++;
          else if (c == '"')
            quote = false;
          continue;
        }
      if (c == '"')
        quote = true;
      else if (c == '<')
        angle = true;
      else if (c == '>')
        angle = false;
      else if (!angle && c == ',')
        break;
      else if (!angle && c == ';')
        {
          size_t j = i + 1;

          while (j < n && (v[j] == ' ' || v[j] == '\t'))
            j++;
          if (has_prefix_ci (v + j, n - j, "expires"))
            {
              size_t k = j + 7;

              while (k < n && (v[k] == ' ' || v[k] == '\t'))
                k++;
              if (k < n && v[k] == '=')
                return parse_number (v + k + 1, n - k - 1, NULL);
            }
        }
    }
  return -1;
}

/* FNV-1a of the Call-ID value without surrounding blanks; never 0. */
static uint32_t
call_id_hash (const uint8_t *v, size_t n)
{
  uint32_t h = 2166136261u;

  while (n > 0 && (v[0] == ' ' || v[0] == '\t'))
    v++, n--;
  while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
    n--;
  if (n == 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    h = (h ^ v[i]) * 16777619u;
  return h != 0 ? h : 1;
}

bool
natsim_sip_is_start (const uint8_t *p, size_t len)
{
  size_t i = 0;

  if (p == NULL)
    return false;
  if (len >= 12 && memcmp (p, "SIP/2.0 ", 8) == 0)
    return g_ascii_isdigit (p[8]) && g_ascii_isdigit (p[9]) && g_ascii_isdigit (p[10]);
  /* A method is an upper-case token (RFC 3261 25.1: extension methods are
   * tokens too, but every method in use is upper case). */
  while (i < len && i < 32 && g_ascii_isupper (p[i]))
    i++;
  if (i == 0 || i >= len || p[i] != ' ')
    return false;
  i++;
  return has_prefix_ci (p + i, len - i, "sip:") || has_prefix_ci (p + i, len - i, "sips:")
         || has_prefix_ci (p + i, len - i, "tel:");
}

bool
natsim_sip_peek (const uint8_t *p, size_t len, NatsimSipInfo *ret)
{
  bool request, cseq_register = false, have_contact = false;
  gint64 header_expires = -1, contact_exp = -1;
  int status = 0;
  size_t pos = 0;

  g_return_val_if_fail (ret != NULL, false);
  ret->kind = NATSIM_SIP_NONE;
  ret->expires = -1;
  ret->cseq = -1;
  ret->call_id = 0;
  ret->status = 0;
  if (p == NULL)
    return false;

  if (len >= 9 && memcmp (p, "REGISTER ", 9) == 0)
    request = true;
  else if (len >= 12 && memcmp (p, "SIP/2.0 ", 8) == 0)
    {
      request = false;
      if (!g_ascii_isdigit (p[8]) || !g_ascii_isdigit (p[9]) || !g_ascii_isdigit (p[10])
          || p[11] != ' ')
        return false;
      status = (p[8] - '0') * 100 + (p[9] - '0') * 10 + (p[10] - '0');
      if ((status < 200 || status > 299) && status != 401 && status != 407)
        return false;
    }
  else
    return false;

  /* Header lines, up to the blank line or the end of the captured bytes. */
  while (pos < len && p[pos] != '\n')
    pos++;
  while (++pos < len)
    {
      const uint8_t *line = p + pos;
      size_t n = 0, colon, name_end;

      while (pos + n < len && line[n] != '\n')
        n++;
      pos += n;
      if (n > 0 && line[n - 1] == '\r')
        n--;
      if (n == 0)
        break; /* end of headers */
      if (line[0] == ' ' || line[0] == '\t')
        continue; /* a folded continuation */
      for (colon = 0; colon < n && line[colon] != ':'; colon++)
        ;
      if (colon == n)
        continue;
      for (name_end = colon; name_end > 0 && (line[name_end - 1] == ' ' || line[name_end - 1] == '\t');)
        name_end--;
      colon++;
      if (name_is (line, name_end, "expires"))
        header_expires = parse_number (line + colon, n - colon, NULL);
      else if ((name_is (line, name_end, "contact") || name_is (line, name_end, "m")) && !have_contact)
        {
          have_contact = true;
          contact_exp = contact_expires (line + colon, n - colon);
        }
      else if (name_is (line, name_end, "call-id") || name_is (line, name_end, "i"))
        ret->call_id = call_id_hash (line + colon, n - colon);
      else if (name_is (line, name_end, "cseq"))
        {
          size_t used = 0;
          gint64 num = parse_number (line + colon, n - colon, &used);
          size_t i = colon + used;

          ret->cseq = num;
          while (i < n && (line[i] == ' ' || line[i] == '\t'))
            i++;
          cseq_register = n - i >= 8 && memcmp (line + i, "REGISTER", 8) == 0 &&
                          (n - i == 8 || line[i + 8] == ' ' || line[i + 8] == '\t');
        }
    }
  /* RFC 3261 10.2.1.1: a Contact's expires parameter overrides Expires. */
  ret->expires = contact_exp >= 0 ? contact_exp : header_expires;
  ret->status = status;
  if (request)
    ret->kind = NATSIM_SIP_REGISTER;
  else if (cseq_register)
    ret->kind = status == 401 || status == 407 ? NATSIM_SIP_REGISTER_CHALLENGE
                                               : NATSIM_SIP_REGISTER_OK;
  return ret->kind != NATSIM_SIP_NONE;
}

NatsimSipFrame
natsim_sip_frame (const uint8_t *p, size_t len, size_t *ret_len)
{
  size_t pos = 0;
  gint64 body = 0;

  g_return_val_if_fail (ret_len != NULL, NATSIM_SIP_FRAME_INVALID);
  if (len < 12)
    return p != NULL && len > 0 && (p[0] == 'S' || g_ascii_isupper (p[0]))
             ? NATSIM_SIP_FRAME_PARTIAL
             : NATSIM_SIP_FRAME_INVALID;
  if (!natsim_sip_is_start (p, len))
    return NATSIM_SIP_FRAME_INVALID;
  /* Lines up to the blank one; Content-Length ("l" compact) on the way. */
  for (;;)
    {
      const uint8_t *line = p + pos;
      size_t n = 0, colon, name_end;

      while (pos + n < len && line[n] != '\n')
        n++;
      if (pos + n == len)
        return NATSIM_SIP_FRAME_PARTIAL;
      pos += n + 1;
      if (n > 0 && line[n - 1] == '\r')
        n--;
      if (n == 0)
        break;
      for (colon = 0; colon < n && line[colon] != ':'; colon++)
        ;
      if (colon == n || line[0] == ' ' || line[0] == '\t')
        continue;
      for (name_end = colon; name_end > 0 && (line[name_end - 1] == ' ' || line[name_end - 1] == '\t');)
        name_end--;
      if (name_is (line, name_end, "content-length") || name_is (line, name_end, "l"))
        {
          body = parse_number (line + colon + 1, n - colon - 1, NULL);
          if (body < 0)
            return NATSIM_SIP_FRAME_INVALID;
        }
    }
  if ((guint64) body > len - pos)
    return NATSIM_SIP_FRAME_PARTIAL;
  *ret_len = pos + (size_t) body;
  return NATSIM_SIP_FRAME_COMPLETE;
}
