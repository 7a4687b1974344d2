/* natsim: numbers for people (natsim/numfmt.h).
 *
 * Every digit string comes from g_ascii_formatd() with an "%.Nf" format,
 * so no locale's decimal comma or grouping leaks in and no exponent can
 * appear; separators are inserted here. */
#include "natsim/numfmt.h"

#include <math.h>
#include <string.h>

/* Inserts a ',' every three digits into the integer part of the plain
 * decimal @digits ("-12345.6" -> "-12,345.6"), into @buf. */
static const char *
group_thousands (char *buf, const char *digits)
{
  const char *p = digits;
  const char *dot = strchr (digits, '.');
  gsize int_len;
  GString *out = g_string_sized_new (NATSIM_NUM_BUF);

  if (*p == '-')
    g_string_append_c (out, *p++);
  int_len = (gsize) ((dot != NULL ? dot : digits + strlen (digits)) - p);
  for (gsize i = 0; i < int_len; i++)
    {
      if (i > 0 && (int_len - i) % 3 == 0)
        g_string_append_c (out, ',');
      g_string_append_c (out, p[i]);
    }
  if (dot != NULL)
    g_string_append (out, dot);
  g_strlcpy (buf, out->str, NATSIM_NUM_BUF);
  g_string_free (out, TRUE);
  return buf;
}

/* Drops trailing zeros of a fraction, and the '.' when nothing is left. */
static void
trim_fraction (char *s)
{
  char *end;

  if (strchr (s, '.') == NULL)
    return;
  end = s + strlen (s) - 1;
  while (*end == '0')
    *end-- = '\0';
  if (*end == '.')
    *end = '\0';
}

/* @v (finite) rounded to 3 significant digits as a plain decimal. */
static void
three_digits (char *buf, double v)
{
  char fmt[16];
  int exp10;
  int decimals;

  if (v == 0.0)
    {
      g_strlcpy (buf, "0", NATSIM_NUM_BUF);
      return;
    }
  exp10 = (int) floor (log10 (fabs (v)));
  decimals = 2 - exp10;
  if (decimals > 0)
    {
      g_snprintf (fmt, sizeof fmt, "%%.%df", decimals);
      g_ascii_formatd (buf, NATSIM_NUM_BUF, fmt, v);
      /* Rounding may carry into a new digit (9.996 -> "10.00"): the
       * trailing zeros go anyway. */
      trim_fraction (buf);
    }
  else
    {
      double unit = pow (10.0, -decimals);

      g_ascii_formatd (buf, NATSIM_NUM_BUF, "%.0f", round (v / unit) * unit);
    }
  if (strcmp (buf, "-0") == 0)
    g_strlcpy (buf, "0", NATSIM_NUM_BUF);
}

const char *
natsim_fmt_num (char *buf, double v)
{
  static const char *const suffix[] = { " M", " G", " T", " P" };
  char digits[NATSIM_NUM_BUF];
  double scale = 1e6;
  gsize i = 0;

  if (!isfinite (v))
    {
      g_strlcpy (buf, "n/a", NATSIM_NUM_BUF);
      return buf;
    }
  v += 0.0; /* no "-0" */
  if (v != 0.0 && fabs (v) < 0.001)
    {
      g_strlcpy (buf, v > 0 ? "< 0.001" : "> -0.001", NATSIM_NUM_BUF);
      return buf;
    }
  /* No count of ours comes near this; say so rather than print a
   * 300-digit number. */
  if (fabs (v) >= 999.5e15)
    {
      g_strlcpy (buf, v > 0 ? "> 999 P" : "< -999 P", NATSIM_NUM_BUF);
      return buf;
    }
  /* Decide on a suffix after rounding: 999,950 reads "1 M". */
  three_digits (digits, v);
  if (fabs (g_ascii_strtod (digits, NULL)) < 1e6)
    return group_thousands (buf, digits);
  for (;;)
    {
      three_digits (digits, v / scale);
      if (fabs (g_ascii_strtod (digits, NULL)) < 1000.0 || i + 1 == G_N_ELEMENTS (suffix))
        break;
      scale *= 1000.0;
      i++;
    }
  g_strlcpy (buf, digits, NATSIM_NUM_BUF);
  g_strlcat (buf, suffix[i], NATSIM_NUM_BUF);
  return buf;
}

const char *
natsim_fmt_int (char *buf, double v)
{
  char digits[NATSIM_NUM_BUF];

  if (!isfinite (v))
    {
      g_strlcpy (buf, "n/a", NATSIM_NUM_BUF);
      return buf;
    }
  if (fabs (v) >= 1e15)
    return natsim_fmt_num (buf, v);
  g_ascii_formatd (digits, sizeof digits, "%.0f", round (v) + 0.0);
  if (strcmp (digits, "-0") == 0)
    g_strlcpy (digits, "0", sizeof digits);
  return group_thousands (buf, digits);
}

const char *
natsim_fmt_percent (char *buf, double fraction)
{
  double pc = 100.0 * fraction + 0.0;

  if (!isfinite (pc))
    {
      g_strlcpy (buf, "n/a", NATSIM_NUM_BUF);
      return buf;
    }
  /* Three significant digits would round 99.96 % up to "100": say that
   * it is not quite all. */
  if (pc > 99.9 && pc < 100.0)
    {
      g_strlcpy (buf, "> 99.9", NATSIM_NUM_BUF);
      return buf;
    }
  return natsim_fmt_num (buf, pc);
}

const char *
natsim_fmt_noun (char *buf, double v, gboolean exact, const char *one, const char *many)
{
  char num[NATSIM_NUM_BUF];

  if (exact)
    natsim_fmt_int (num, v);
  else
    natsim_fmt_num (num, v);
  /* Singular only for what reads as exactly one ("1 address", not
   * "1.0 addresses" nor "1 addresses"). */
  g_snprintf (buf, NATSIM_NUM_BUF, "%s %s", num, strcmp (num, "1") == 0 ? one : many);
  return buf;
}

char *
natsim_fmt_text_plain (const char *text)
{
  GString *out;
  const char *p;

  if (text == NULL)
    return NULL;
  out = g_string_sized_new (strlen (text));
  p = text;
  while (*p != '\0')
    {
      /* A number starts at a digit not preceded by a letter, digit, '.',
       * '_' or '-' inside a word (identifiers such as "rfc4787.req5"). */
      gboolean starts = g_ascii_isdigit (*p)
                        && (p == text || !(g_ascii_isalnum (p[-1]) || p[-1] == '.'
                                           || p[-1] == '_'));
      if (starts)
        {
          const char *q = p;
          char *end = NULL;
          double v;

          while (g_ascii_isdigit (*q))
            q++;
          if (*q == '.' && g_ascii_isdigit (q[1]))
            for (q++; g_ascii_isdigit (*q); q++)
              ;
          if ((*q == 'e' || *q == 'E')
              && (g_ascii_isdigit (q[1])
                  || ((q[1] == '+' || q[1] == '-') && g_ascii_isdigit (q[2]))))
            {
              v = g_ascii_strtod (p, &end);
              /* Only a whole token: "2e5x" is a word, not a number. */
              if (end != NULL && end > q && !g_ascii_isalpha (*end))
                {
                  char buf[NATSIM_NUM_BUF];
                  gboolean neg = p > text && p[-1] == '-';

                  if (neg)
                    g_string_truncate (out, out->len - 1);
                  g_string_append (out, natsim_fmt_num (buf, neg ? -v : v));
                  p = end;
                  continue;
                }
            }
          g_string_append_len (out, p, q - p);
          p = q;
          continue;
        }
      g_string_append_c (out, *p++);
    }
  return g_string_free (out, FALSE);
}
