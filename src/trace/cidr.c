/* natsim trace: inside / outside address classification.
 *
 * A NatsimCidrSet is a short list of prefixes over one 128-bit address
 * space, IPv4 living in the v4-mapped block ::ffff:0:0/96 (RFC 4291 section
 * 2.5.5.2), so one comparison routine serves both families.  Lookups scan
 * the list: O(prefixes) per packet, which for the handful of --inside
 * prefixes a user gives is cheaper than any tree.
 *
 * IPv4 lookups, the ones replay makes twice per packet, do not scan: the
 * set also keeps what it holds of the v4-mapped block as a sorted array of
 * disjoint address ranges (every prefix, IPv4 or IPv6, clipped to
 * ::ffff:0:0/96, overlapping and adjacent ranges merged), searched by
 * bisection.  The default set is 4 ranges; a list of thousands of /32s
 * costs a dozen compares, with no cache to miss on a capture of many
 * addresses.
 */
#include <arpa/inet.h>
#include <string.h>

#include "natsim/error.h"
#include "natsim/trace.h"

typedef struct
{
  uint8_t addr[16]; /* host bits zero */
  guint   plen;     /* 0..128 over the 128-bit space */
  bool    v4;       /* given as IPv4 (for printing) */
} CidrEntry;

/* An inclusive range of IPv4 addresses (host byte order). */
typedef struct
{
  uint32_t lo, hi;
} V4Range;

struct NatsimCidrSet
{
  GArray *entries; /* CidrEntry */
  GArray *v4;      /* V4Range: sorted, disjoint, not adjacent */
};

void
natsim_ipv4_to_mapped (uint32_t addr4, uint8_t ret[16])
{
  memset (ret, 0, 10);
  ret[10] = 0xff;
  ret[11] = 0xff;
  ret[12] = (uint8_t) (addr4 >> 24);
  ret[13] = (uint8_t) (addr4 >> 16);
  ret[14] = (uint8_t) (addr4 >> 8);
  ret[15] = (uint8_t) addr4;
}

NatsimCidrSet *
natsim_cidr_set_new (void)
{
  NatsimCidrSet *set = g_new0 (NatsimCidrSet, 1);

  set->entries = g_array_new (FALSE, TRUE, sizeof (CidrEntry));
  set->v4 = g_array_new (FALSE, FALSE, sizeof (V4Range));
  return set;
}

NatsimCidrSet *
natsim_cidr_set_new_default (void)
{
  NatsimCidrSet *set = natsim_cidr_set_new ();
  gboolean       ok;

  ok = natsim_cidr_set_add_string (set,
                                   "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,"
                                   "100.64.0.0/10,fc00::/7",
                                   NULL);
  g_assert (ok);
  return set;
}

void
natsim_cidr_set_free (NatsimCidrSet *set)
{
  if (set == NULL)
    return;
  g_array_unref (set->entries);
  g_array_unref (set->v4);
  g_free (set);
}

static bool
prefix_match (const uint8_t *a, const uint8_t *b, guint plen)
{
  guint whole = plen / 8, rest = plen % 8;

  if (memcmp (a, b, whole) != 0)
    return false;
  if (rest == 0)
    return true;
  return ((a[whole] ^ b[whole]) & (uint8_t) (0xff << (8 - rest))) == 0;
}

static int
v4_range_compare (gconstpointer a, gconstpointer b)
{
  const V4Range *x = a, *y = b;

  return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Rebuilds set->v4 from the entries. */
static void
v4_rebuild (NatsimCidrSet *set)
{
  uint8_t mapped[16];
  guint   n = 0;

  natsim_ipv4_to_mapped (0, mapped);
  g_array_set_size (set->v4, 0);
  for (guint i = 0; i < set->entries->len; i++)
    {
      const CidrEntry *e = &g_array_index (set->entries, CidrEntry, i);
      V4Range r;

      if (e->plen <= 96)
        {
          /* Covers all of ::ffff:0:0/96, or none of it. */
          if (!prefix_match (mapped, e->addr, e->plen))
            continue;
          r.lo = 0;
          r.hi = UINT32_MAX;
        }
      else
        {
          guint bits = e->plen - 96; /* 1..32 */

          if (!prefix_match (e->addr, mapped, 96))
            continue;
          r.lo = ((uint32_t) e->addr[12] << 24) | ((uint32_t) e->addr[13] << 16)
                 | ((uint32_t) e->addr[14] << 8) | e->addr[15];
          r.hi = r.lo | (bits == 32 ? 0 : UINT32_MAX >> bits);
        }
      g_array_append_val (set->v4, r);
    }
  g_array_sort (set->v4, v4_range_compare);
  /* Merge in place: ranges that overlap or touch become one. */
  for (guint i = 0; i < set->v4->len; i++)
    {
      V4Range *cur = &g_array_index (set->v4, V4Range, i);
      V4Range *last = n > 0 ? &g_array_index (set->v4, V4Range, n - 1) : NULL;

      if (last != NULL && (uint64_t) cur->lo <= (uint64_t) last->hi + 1)
        last->hi = MAX (last->hi, cur->hi);
      else
        g_array_index (set->v4, V4Range, n++) = *cur;
    }
  g_array_set_size (set->v4, n);
}

static gboolean
bad_prefix (const char *s, GError **error)
{
  g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
               "'%s': expected an IPv4 or IPv6 prefix such as 10.0.0.0/8 or fd00::/8",
               s);
  return FALSE;
}

/* Parses one "ADDR[/LEN]" into @ret. */
static gboolean
parse_cidr (const char *s, CidrEntry *ret, GError **error)
{
  g_autofree char *addr = NULL;
  const char      *slash = strchr (s, '/');
  guint64          len;
  guint            max;
  CidrEntry        e = { { 0 }, 0, false };
  uint8_t          masked[16];

  addr = slash ? g_strndup (s, (gsize) (slash - s)) : g_strdup (s);
  if (strchr (addr, ':') != NULL)
    {
      if (inet_pton (AF_INET6, addr, e.addr) != 1)
        return bad_prefix (s, error);
      max = 128;
    }
  else
    {
      uint8_t a4[4];

      if (inet_pton (AF_INET, addr, a4) != 1)
        return bad_prefix (s, error);
      memset (e.addr, 0, 10);
      e.addr[10] = 0xff;
      e.addr[11] = 0xff;
      memcpy (e.addr + 12, a4, 4);
      e.v4 = true;
      max = 32;
    }
  len = max;
  if (slash != NULL)
    {
      /* Decimal digits only: no sign, no spaces, no hex. */
      if (slash[1] == '\0' || strspn (slash + 1, "0123456789") != strlen (slash + 1)
          || !g_ascii_string_to_unsigned (slash + 1, 10, 0, max, &len, NULL))
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "'%s': prefix length must be 0 to %u", s, max);
          return FALSE;
        }
    }
  e.plen = (guint) len + (e.v4 ? 96 : 0);

  /* Strict: host bits set usually means a typo in the address or length. */
  memset (masked, 0, sizeof masked);
  for (guint i = 0; i < 16; i++)
    {
      guint bits = e.plen > i * 8 ? MIN (e.plen - i * 8, 8u) : 0;
      masked[i] = bits ? (uint8_t) (e.addr[i] & (0xff << (8 - bits))) : 0;
    }
  if (memcmp (masked, e.addr, 16) != 0)
    {
      char buf[INET6_ADDRSTRLEN];

      if (e.v4)
        inet_ntop (AF_INET, masked + 12, buf, sizeof buf);
      else
        inet_ntop (AF_INET6, masked, buf, sizeof buf);
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "'%s': host bits set beyond the prefix (did you mean %s/%u?)",
                   s, buf, (guint) len);
      return FALSE;
    }
  *ret = e;
  return TRUE;
}

gboolean
natsim_cidr_set_add_string (NatsimCidrSet *set, const char *s, GError **error)
{
  g_auto (GStrv) parts = NULL;
  g_autoptr (GArray) parsed = NULL;

  g_return_val_if_fail (set != NULL, FALSE);
  g_return_val_if_fail (s != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (s[strspn (s, " \t")] == '\0')
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "empty prefix list: expected e.g. 10.0.0.0/8 or fd00::/8");
      return FALSE;
    }
  parts = g_strsplit (s, ",", -1);
  parsed = g_array_new (FALSE, TRUE, sizeof (CidrEntry));
  for (guint i = 0; parts[i] != NULL; i++)
    {
      CidrEntry e;

      g_strstrip (parts[i]);
      if (parts[i][0] == '\0')
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "'%s': empty prefix in the list", s);
          return FALSE;
        }
      if (!parse_cidr (parts[i], &e, error))
        return FALSE;
      g_array_append_val (parsed, e);
    }
  g_array_append_vals (set->entries, parsed->data, parsed->len);
  v4_rebuild (set);
  return TRUE;
}

bool
natsim_cidr_set_contains (const NatsimCidrSet *set, const uint8_t addr[16])
{
  g_return_val_if_fail (set != NULL, false);

  for (guint i = 0; i < set->entries->len; i++)
    {
      const CidrEntry *e = &g_array_index (set->entries, CidrEntry, i);

      if (prefix_match (addr, e->addr, e->plen))
        return true;
    }
  return false;
}

bool
natsim_cidr_set_contains_ipv4 (const NatsimCidrSet *set, uint32_t addr)
{
  const V4Range *r;
  guint lo = 0, hi;

  g_return_val_if_fail (set != NULL, false);

  /* The last range starting at or below @addr, if any, is the only one
   * that can hold it. */
  r = (const V4Range *) (void *) set->v4->data;
  hi = set->v4->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (r[mid].lo <= addr)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo > 0 && addr <= r[lo - 1].hi;
}

guint
natsim_cidr_set_size (const NatsimCidrSet *set)
{
  g_return_val_if_fail (set != NULL, 0);
  return set->entries->len;
}

char *
natsim_cidr_set_to_string (const NatsimCidrSet *set)
{
  GString *out;

  g_return_val_if_fail (set != NULL, NULL);
  out = g_string_new (NULL);
  for (guint i = 0; i < set->entries->len; i++)
    {
      const CidrEntry *e = &g_array_index (set->entries, CidrEntry, i);
      char             buf[INET6_ADDRSTRLEN];

      if (e->v4)
        inet_ntop (AF_INET, e->addr + 12, buf, sizeof buf);
      else
        inet_ntop (AF_INET6, e->addr, buf, sizeof buf);
      g_string_append_printf (out, "%s%s/%u", i ? "," : "", buf,
                              e->v4 ? e->plen - 96 : e->plen);
    }
  return g_string_free (out, FALSE);
}
