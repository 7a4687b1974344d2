/* natsim: the structural pre-scan of scenario files.
 *
 * GKeyFile does not say on which line a key is, silently keeps the last of
 * duplicate keys and groups, and knows no inline comments.  This scan reads
 * the text once, line by line, to give every later message its line
 * number, to refuse duplicates, and to strip inline comments; it then hands
 * GKeyFile a cleaned text with the same line numbering.
 *
 * Comment rules (README.md, "Scenario files"): a line whose first
 * non-blank character is '#' or ';' is a comment; within a value or after a
 * group header, a '#' that starts the value or follows a space or tab
 * starts a comment that runs to the end of the line.  So values cannot
 * contain " #"; no natsim value needs it.
 */
#include <string.h>

#include "natsim/error.h"
#include "scenario-private.h"

#define QUOTE_MAX_CHARS 60

static void
scan_key_free (ScanKey *k)
{
  if (k == NULL)
    return;
  g_free (k->key);
  g_free (k->value);
  g_free (k);
}

static void
scan_group_free (ScanGroup *g)
{
  if (g == NULL)
    return;
  g_free (g->name);
  g_ptr_array_unref (g->keys);
  g_free (g);
}

void
scenario_scan_free (ScanResult *r)
{
  if (r == NULL)
    return;
  g_ptr_array_unref (r->groups);
  g_free (r->clean);
  g_free (r);
}

/* A line for quoting in a message, shortened to QUOTE_MAX_CHARS. */
static char *
quote_line (const char *p, gsize len)
{
  g_autofree char *s = g_strndup (p, len);

  if (g_utf8_strlen (s, -1) > QUOTE_MAX_CHARS)
    {
      g_autofree char *cut = g_utf8_substring (s, 0, QUOTE_MAX_CHARS);

      return g_strconcat (cut, "...", NULL);
    }
  return g_steal_pointer (&s);
}

/* UTF-8 without control characters (tabs allowed). */
static gboolean
line_is_text (const char *p, gsize len)
{
  if (!g_utf8_validate (p, (gssize) len, NULL))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      unsigned char c = (unsigned char) p[i];

      if ((c < 0x20 && c != '\t') || c == 0x7f)
        return FALSE;
    }
  return TRUE;
}

static gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t';
}

static gboolean
is_name_char (char c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '-';
}

/* The length of @p (of @len bytes) before an inline comment: a '#' at the
 * start or after a blank.  Trailing blanks are not counted. */
static gsize
value_length (const char *p, gsize len)
{
  gsize n = len;

  for (gsize i = 0; i < len; i++)
    if (p[i] == '#' && (i == 0 || is_blank (p[i - 1])))
      {
        n = i;
        break;
      }
  while (n > 0 && is_blank (p[n - 1]))
    n--;
  return n;
}

/* "[ population   phones ]" -> "population phones"; NULL if malformed. */
static char *
group_name_normalise (const char *p, gsize len)
{
  GString *out = g_string_new (NULL);
  gsize i = 0;

  for (gsize j = 0; j < len; j++)
    if (!is_name_char (p[j]) && !is_blank (p[j]))
      {
        g_string_free (out, TRUE);
        return NULL;
      }
  while (i < len)
    {
      gsize start;

      while (i < len && is_blank (p[i]))
        i++;
      start = i;
      while (i < len && !is_blank (p[i]))
        i++;
      if (i > start)
        {
          if (out->len > 0)
            g_string_append_c (out, ' ');
          g_string_append_len (out, p + start, (gssize) (i - start));
        }
    }
  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

static ScanGroup *
find_group (GPtrArray *groups, const char *name)
{
  for (guint i = 0; i < groups->len; i++)
    {
      ScanGroup *g = groups->pdata[i];

      if (strcmp (g->name, name) == 0)
        return g;
    }
  return NULL;
}

static ScanKey *
find_key (ScanGroup *g, const char *key)
{
  for (guint i = 0; i < g->keys->len; i++)
    {
      ScanKey *k = g->keys->pdata[i];

      if (strcmp (k->key, key) == 0)
        return k;
    }
  return NULL;
}

/* One "[group]" line (starting at '['). */
static gboolean
scan_group_line (ScanResult *r, ScanGroup **current, const char *p, gsize len,
                 const char *name, guint lineno, GError **error)
{
  const char *close = memchr (p, ']', len);
  g_autofree char *gname = NULL;
  ScanGroup *prev, *g;
  gsize rest;

  if (close == NULL
      || (gname = group_name_normalise (p + 1, (gsize) (close - p - 1))) == NULL)
    {
      g_autofree char *q = quote_line (p, len);

      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "%s:%u: expected a group header such as [nat] or "
                   "[population NAME] (letters, digits, '-' and '_'), got '%s'",
                   name, lineno, q);
      scenario_set_place (error, name, lineno, NULL, NULL);
      return FALSE;
    }
  /* Only blanks or a comment may follow the ']'. */
  rest = len - (gsize) (close + 1 - p);
  if (value_length (close + 1, rest) != 0)
    {
      g_autofree char *q = quote_line (p, len);

      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "%s:%u: expected only a comment after the group header, "
                   "got '%s'", name, lineno, q);
      scenario_set_place (error, name, lineno, gname, NULL);
      return FALSE;
    }

  prev = find_group (r->groups, gname);
  if (prev != NULL)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "%s:%u: [%s]: duplicate group, first at line %u", name,
                   lineno, gname, prev->line);
      scenario_set_place (error, name, lineno, gname, NULL);
      return FALSE;
    }
  g = g_new0 (ScanGroup, 1);
  g->name = g_steal_pointer (&gname);
  g->line = lineno;
  g->keys = g_ptr_array_new_with_free_func ((GDestroyNotify) scan_key_free);
  g_ptr_array_add (r->groups, g);
  *current = g;
  return TRUE;
}

/* One "key = value" line. */
static gboolean
scan_key_line (ScanGroup *current, const char *p, gsize len, const char *name,
               guint lineno, GError **error)
{
  const char *eq = memchr (p, '=', len);
  const char *v;
  g_autofree char *key = NULL;
  gsize klen, vlen;
  ScanKey *prev, *k;

  if (eq == NULL)
    {
      g_autofree char *q = quote_line (p, len);

      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "%s:%u: expected [group], key = value or a # comment, "
                   "got '%s'", name, lineno, q);
      scenario_set_place (error, name, lineno, current != NULL ? current->name : NULL, NULL);
      return FALSE;
    }
  klen = (gsize) (eq - p);
  while (klen > 0 && is_blank (p[klen - 1]))
    klen--;
  key = g_strndup (p, klen);
  if (klen == 0)
    {
      g_autofree char *q = quote_line (p, len);

      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "%s:%u: expected key = value, got '%s'", name, lineno, q);
      scenario_set_place (error, name, lineno, current != NULL ? current->name : NULL, NULL);
      return FALSE;
    }
  if (current == NULL)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "%s:%u: %s: expected a [group] header before the first key",
                   name, lineno, key);
      scenario_set_place (error, name, lineno, NULL, key);
      return FALSE;
    }
  for (gsize i = 0; i < klen; i++)
    if (!is_name_char (key[i]))
      {
        g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                     "%s:%u: [%s] %s: expected a key name made of letters, "
                     "digits, '_' and '-'", name, lineno, current->name, key);
        scenario_set_place (error, name, lineno, current->name, key);
        return FALSE;
      }
  prev = find_key (current, key);
  if (prev != NULL)
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "%s:%u: [%s] %s: duplicate key, first at line %u", name,
                   lineno, current->name, key, prev->line);
      scenario_set_place (error, name, lineno, current->name, key);
      return FALSE;
    }

  v = eq + 1;
  while (v < p + len && is_blank (*v))
    v++;
  vlen = value_length (v, (gsize) (p + len - v));

  k = g_new0 (ScanKey, 1);
  k->key = g_steal_pointer (&key);
  k->value = g_strndup (v, vlen);
  k->line = lineno;
  g_ptr_array_add (current->keys, k);
  return TRUE;
}

ScanResult *
scenario_scan (const char *data, gsize length, const char *name,
               GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  g_autoptr (ScanResult) r = g_new0 (ScanResult, 1);
  g_autoptr (GString) clean = g_string_new (NULL);
  ScanGroup *current = NULL;
  const char *p = data, *end = data + length;
  guint lineno = 0;

  r->groups = g_ptr_array_new_with_free_func ((GDestroyNotify) scan_group_free);

  /* A UTF-8 byte order mark is not part of the first line. */
  if (length >= 3 && memcmp (p, "\xef\xbb\xbf", 3) == 0)
    p += 3;

  while (p < end)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));
      const char *line_end = nl ? nl : end;
      const char *q = p;
      gsize len;

      lineno++;
      if (line_end > p && line_end[-1] == '\r')
        line_end--;
      if (!line_is_text (p, (gsize) (line_end - p)))
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "%s:%u: not a scenario file: expected UTF-8 text made of "
                       "[group] headers and key = value lines", name, lineno);
          scenario_set_place (error, name, lineno, NULL, NULL);
          return NULL;
        }
      while (q < line_end && is_blank (*q))
        q++;
      len = (gsize) (line_end - q);

      if (len == 0 || *q == '#' || *q == ';')
        {
          /* A blank line or a comment: an empty line for GKeyFile. */
        }
      else if (*q == '[')
        {
          if (!scan_group_line (r, &current, q, len, name, lineno, error))
            return NULL;
          g_string_append_printf (clean, "[%s]", current->name);
        }
      else
        {
          ScanKey *k;

          if (!scan_key_line (current, q, len, name, lineno, error))
            return NULL;
          k = g_ptr_array_index (current->keys, current->keys->len - 1);
          g_string_append_printf (clean, "%s=%s", k->key, k->value);
        }
      g_string_append_c (clean, '\n');
      p = nl ? nl + 1 : end;
    }

  r->clean_len = clean->len;
  r->clean = g_string_free (g_steal_pointer (&clean), FALSE);
  return g_steal_pointer (&r);
}
