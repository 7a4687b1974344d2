/* natsim: classify's outputs: classification.json (docs/report.md), a
 * text summary, Markdown with every transcript as a table, and HTML that
 * draws each test as a sequence diagram. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "natsim/classify-report.h"
#include "natsim/error.h"
#include "natsim/report.h"
#include "seqdiag.h"

/* Lifetime tests of long timeouts run dozens of trials; the diagram shows
 * the first rows, the JSON and Markdown every step. */
#define MAX_DIAGRAM_ROWS 64

static char *
ep (uint32_t addr, uint16_t port)
{
  return g_strdup_printf ("%u.%u.%u.%u:%u", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255,
                          addr & 255, port);
}

static char *
addr_str (uint32_t addr)
{
  return g_strdup_printf ("%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255,
                          addr & 255);
}

static const char *
proto_name (uint8_t proto)
{
  return proto == NATSIM_PROTO_TCP ? "tcp" : proto == NATSIM_PROTO_ICMP ? "icmp" : "udp";
}

static char *
flags_str (uint8_t f)
{
  GString *s = g_string_new (NULL);

  if (f & NATSIM_TCP_SYN)
    g_string_append (s, "SYN,");
  if (f & NATSIM_TCP_ACK)
    g_string_append (s, "ACK,");
  if (f & NATSIM_TCP_FIN)
    g_string_append (s, "FIN,");
  if (f & NATSIM_TCP_RST)
    g_string_append (s, "RST,");
  if (s->len > 0)
    g_string_truncate (s, s->len - 1);
  return g_string_free (s, FALSE);
}

static const char *
short_reason (const NatsimProbeStep *s)
{
  switch (s->verdict)
    {
    case NATSIM_VERDICT_ALLOC_FAILED: return "dropped: no free port";
    case NATSIM_VERDICT_BINDING_LOST: return "dropped: mapping expired";
    case NATSIM_VERDICT_FILTERED: return "dropped: filtered";
    case NATSIM_VERDICT_UNSOLICITED: return "dropped: no mapping";
    case NATSIM_VERDICT_NOT_TRANSLATED: return "not looped back (no hairpinning)";
    case NATSIM_VERDICT_FORWARDED:
    default: return "dropped";
    }
}

/* What the NAT did, in words: "source 192.0.2.10:40000 -> 203.0.113.1:40000". */
static char *
nat_action (const NatsimProbeStep *s)
{
  g_autofree char *a = NULL, *b = NULL;

  if (!s->delivered)
    return g_strdup (s->reason != NULL ? s->reason : "dropped");
  if (s->outbound)
    {
      a = ep (s->seen_addr, s->seen_port);
      b = ep (s->to_addr, s->to_port);
      if (s->hairpinned)
        return g_strdup_printf ("looped back (hairpinning): source becomes %s, delivered to "
                                "%s", a, b);
      return g_strdup_printf ("source becomes %s", a);
    }
  b = ep (s->to_addr, s->to_port);
  return g_strdup_printf ("delivered to %s", b);
}

static double
rounded_ms (double t)
{
  return round (t * 1000.0) / 1000.0;
}

static const char *
cfg_nat_get (const NatsimClassifyInputs *in, const char *key)
{
  JsonObject *o, *nat;

  if (in == NULL || in->config == NULL || !JSON_NODE_HOLDS_OBJECT (in->config))
    return NULL;
  o = json_node_get_object (in->config);
  if (!json_object_has_member (o, "nat"))
    return NULL;
  nat = json_object_get_object_member (o, "nat");
  if (nat == NULL || !json_object_has_member (nat, key) ||
      json_object_get_null_member (nat, key))
    return NULL;
  return json_object_get_string_member (nat, key);
}

static void
add_lifetime (JsonBuilder *b, double v)
{
  if (v < 0 || !isfinite (v))
    json_builder_add_null_value (b);
  else if (v == floor (v))
    json_builder_add_int_value (b, (gint64) v);
  else
    json_builder_add_double_value (b, v);
}

/* ---------- JSON ---------- */

static void
add_step (JsonBuilder *b, const NatsimProbeStep *s)
{
  g_autofree char *from = ep (s->src_addr, s->src_port);
  g_autofree char *to = ep (s->dst_addr, s->dst_port);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "trial");
  json_builder_add_int_value (b, s->trial);
  json_builder_set_member_name (b, "t");
  json_builder_add_double_value (b, rounded_ms (s->t));
  json_builder_set_member_name (b, "proto");
  json_builder_add_string_value (b, proto_name (s->proto));
  if (s->proto == NATSIM_PROTO_TCP)
    {
      g_autofree char *f = flags_str (s->tcp_flags);
      json_builder_set_member_name (b, "tcp_flags");
      json_builder_add_string_value (b, f);
    }
  json_builder_set_member_name (b, "direction");
  json_builder_add_string_value (b, s->outbound ? "outbound" : "inbound");
  json_builder_set_member_name (b, "from");
  json_builder_add_string_value (b, from);
  json_builder_set_member_name (b, "to");
  json_builder_add_string_value (b, to);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, s->message);
  json_builder_set_member_name (b, "outcome");
  json_builder_add_string_value (b, s->delivered ? "delivered" : "dropped");
  json_builder_set_member_name (b, "hairpinned");
  json_builder_add_boolean_value (b, s->hairpinned);
  if (s->delivered)
    {
      g_autofree char *seen = ep (s->seen_addr, s->seen_port);
      g_autofree char *at = ep (s->to_addr, s->to_port);
      json_builder_set_member_name (b, "delivered_to");
      json_builder_add_string_value (b, at);
      json_builder_set_member_name (b, "seen_from");
      json_builder_add_string_value (b, seen);
    }
  else
    {
      json_builder_set_member_name (b, "reason");
      json_builder_add_string_value (b, s->reason != NULL ? s->reason : "dropped");
    }
  json_builder_end_object (b);
}

char *
natsim_classification_to_json (const NatsimClassification *c, const NatsimClassifyInputs *in)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "schema");
  json_builder_add_string_value (b, NATSIM_CLASSIFICATION_SCHEMA);
  json_builder_set_member_name (b, "natsim_version");
  json_builder_add_string_value (b, NATSIM_VERSION);
  json_builder_set_member_name (b, "command");
  json_builder_add_string_value (b, "classify");
  json_builder_set_member_name (b, "inputs");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "scenario");
  if (in != NULL && in->scenario != NULL)
    json_builder_add_string_value (b, in->scenario);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "config");
  if (in != NULL && in->config != NULL)
    json_builder_add_value (b, json_node_copy (in->config));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "mapping");
  json_builder_add_string_value (b, c->mapping);
  json_builder_set_member_name (b, "filtering");
  json_builder_add_string_value (b, c->filtering);
  json_builder_set_member_name (b, "hairpinning");
  json_builder_add_boolean_value (b, c->hairpinning);
  json_builder_set_member_name (b, "port_preservation");
  json_builder_add_boolean_value (b, c->port_preservation);
  json_builder_set_member_name (b, "parity");
  json_builder_add_boolean_value (b, c->parity);
  json_builder_set_member_name (b, "pooling");
  if (c->pooling != NULL)
    json_builder_add_string_value (b, c->pooling);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "binding_lifetime_s");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "udp");
  add_lifetime (b, c->lifetime_udp);
  json_builder_set_member_name (b, "tcp");
  add_lifetime (b, c->lifetime_tcp);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "refresh");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "udp");
  json_builder_add_string_value (b, natsim_refresh_found_name (c->refresh_udp));
  json_builder_set_member_name (b, "tcp");
  json_builder_add_string_value (b, natsim_refresh_found_name (c->refresh_tcp));
  json_builder_end_object (b);
  json_builder_set_member_name (b, "rfc3489_name");
  json_builder_add_string_value (b, c->rfc3489_name);
  json_builder_set_member_name (b, "tests");
  json_builder_begin_array (b);
  for (guint i = 0; i < c->tests->len; i++)
    {
      const NatsimProbeTest *t = g_ptr_array_index (c->tests, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, t->id);
      json_builder_set_member_name (b, "title");
      json_builder_add_string_value (b, t->title);
      json_builder_set_member_name (b, "reference");
      json_builder_add_string_value (b, t->reference);
      json_builder_set_member_name (b, "result");
      json_builder_add_string_value (b, t->result);
      json_builder_set_member_name (b, "reasoning");
      json_builder_add_string_value (b, t->reasoning);
      json_builder_set_member_name (b, "transcript");
      json_builder_begin_array (b);
      for (guint k = 0; k < t->steps->len; k++)
        add_step (b, g_ptr_array_index (t->steps, k));
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return natsim_json_to_string (root);
}

/* ---------- text ---------- */

static char *
lifetime_words (double v, NatsimRefreshFound r)
{
  const char *dir;

  switch (r)
    {
    case NATSIM_REFRESH_FOUND_BOTH: dir = "packets in both directions refresh it"; break;
    case NATSIM_REFRESH_FOUND_OUTBOUND: dir = "only outbound packets refresh it"; break;
    case NATSIM_REFRESH_FOUND_INBOUND: dir = "only inbound packets refresh it"; break;
    case NATSIM_REFRESH_FOUND_NEITHER: dir = "no packet refreshes it"; break;
    case NATSIM_REFRESH_FOUND_UNKNOWN:
    default: dir = "refresh not tested"; break;
    }
  if (isnan (v))
    return g_strdup ("unknown (no mapping could be reached)");
  if (v < 0)
    return g_strdup_printf ("longer than %.0f s (%s)", NATSIM_CLASSIFY_MAX_GAP_S, dir);
  return g_strdup_printf ("%.0f s (%s)", v, dir);
}

/* The summary rows: label, value. */
static GPtrArray *
summary_rows (const NatsimClassification *c)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (rows, g_strdup ("mapping"));
  g_ptr_array_add (rows, g_strdup (c->mapping));
  g_ptr_array_add (rows, g_strdup ("filtering"));
  g_ptr_array_add (rows, g_strdup (c->filtering));
  g_ptr_array_add (rows, g_strdup ("RFC 3489 name"));
  g_ptr_array_add (rows, g_strdup (c->rfc3489_name));
  g_ptr_array_add (rows, g_strdup ("hairpinning"));
  g_ptr_array_add (rows, g_strdup (c->hairpinning ? "yes" : "no"));
  g_ptr_array_add (rows, g_strdup ("port preservation"));
  g_ptr_array_add (rows, g_strdup (c->port_preservation ? "yes" : "no"));
  g_ptr_array_add (rows, g_strdup ("parity"));
  g_ptr_array_add (rows, g_strdup (c->parity ? "kept" : "not kept"));
  g_ptr_array_add (rows, g_strdup ("pooling"));
  g_ptr_array_add (rows, g_strdup (c->pooling != NULL ? c->pooling
                                                      : "not tested (one public address)"));
  g_ptr_array_add (rows, g_strdup ("UDP binding lifetime"));
  g_ptr_array_add (rows, lifetime_words (c->lifetime_udp, c->refresh_udp));
  g_ptr_array_add (rows, g_strdup ("TCP binding lifetime"));
  g_ptr_array_add (rows, lifetime_words (c->lifetime_tcp, c->refresh_tcp));
  return rows;
}

static char *
heading (const NatsimClassifyInputs *in)
{
  const char *preset = cfg_nat_get (in, "preset");

  if (in != NULL && in->scenario != NULL)
    return g_strdup_printf ("the NAT of %s, preset %s", in->scenario, preset ? preset : "?");
  return g_strdup_printf ("the %s preset", preset ? preset : "default");
}

char *
natsim_classification_to_text (const NatsimClassification *c, const NatsimClassifyInputs *in)
{
  GString *s = g_string_new (NULL);
  g_autoptr (GPtrArray) rows = summary_rows (c);
  g_autofree char *h = heading (in);

  g_string_append_printf (s, "NAT behaviour of %s: RFC 5780 tests against the simulated NAT\n",
                          h);
  for (guint i = 0; i + 1 < rows->len; i += 2)
    g_string_append_printf (s, "  %-22s %s\n", (char *) rows->pdata[i], (char *) rows->pdata[i + 1]);
  g_string_append (s, "\nHow each answer was found:\n");
  for (guint i = 0; i < c->tests->len; i++)
    {
      const NatsimProbeTest *t = g_ptr_array_index (c->tests, i);
      g_string_append_printf (s, "  %s (%s): %s. %s\n", t->title, t->reference, t->result,
                              t->reasoning);
    }
  return g_string_free (s, FALSE);
}

/* ---------- Markdown ---------- */

static void
md_cell (GString *s, const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '|')
        g_string_append (s, "\\|");
      else if (*p == '\n')
        g_string_append_c (s, ' ');
      else
        g_string_append_c (s, *p);
    }
}

char *
natsim_classification_to_markdown (const NatsimClassification *c, const NatsimClassifyInputs *in)
{
  GString *s = g_string_new (NULL);
  g_autoptr (GPtrArray) rows = summary_rows (c);
  g_autofree char *h = heading (in);

  g_string_append (s, "# NAT behaviour of ");
  md_cell (s, h);
  g_string_append (s, "\n\nRFC 5780 behaviour discovery against the simulated NAT: a client "
                   "behind the NAT (192.0.2.10, a second host 192.0.2.11) and servers with two "
                   "addresses (198.51.100.1, 198.51.100.2) and two ports (3478, 3479).\n\n"
                   "| property | found |\n|---|---|\n");
  for (guint i = 0; i + 1 < rows->len; i += 2)
    {
      g_string_append (s, "| ");
      md_cell (s, rows->pdata[i]);
      g_string_append (s, " | ");
      md_cell (s, rows->pdata[i + 1]);
      g_string_append (s, " |\n");
    }
  for (guint i = 0; i < c->tests->len; i++)
    {
      const NatsimProbeTest *t = g_ptr_array_index (c->tests, i);
      g_string_append_printf (s, "\n## %s\n\n%s: **%s**. ", t->title, t->reference, t->result);
      md_cell (s, t->reasoning);
      g_string_append (s, "\n\n| trial | t (s) | packet | from | to | NAT |\n|---|---|---|---|---|---|\n");
      for (guint k = 0; k < t->steps->len; k++)
        {
          const NatsimProbeStep *st = g_ptr_array_index (t->steps, k);
          g_autofree char *from = ep (st->src_addr, st->src_port);
          g_autofree char *to = ep (st->dst_addr, st->dst_port);
          g_autofree char *act = nat_action (st);
          char tbuf[G_ASCII_DTOSTR_BUF_SIZE];

          g_string_append_printf (s, "| %u | %s | ", st->trial,
                                  g_ascii_formatd (tbuf, sizeof tbuf, "%.3f", st->t));
          md_cell (s, st->message);
          g_string_append_printf (s, " | %s | %s | ", from, to);
          md_cell (s, act);
          g_string_append (s, " |\n");
        }
    }
  return g_string_free (s, FALSE);
}

/* ---------- HTML ---------- */

typedef struct
{
  uint32_t addr;
  char    *title, *subtitle;
} Lane;

static void
lane_clear (Lane *l)
{
  g_free (l->title);
  g_free (l->subtitle);
}

static int
lane_cmp (gconstpointer a, gconstpointer b)
{
  uint32_t x = ((const Lane *) a)->addr, y = ((const Lane *) b)->addr;
  return (x > y) - (x < y);
}

static bool
lane_has (GArray *lanes, uint32_t addr)
{
  for (guint i = 0; i < lanes->len; i++)
    if (g_array_index (lanes, Lane, i).addr == addr)
      return true;
  return false;
}

static guint
lane_of (GArray *lanes, uint32_t addr, guint fallback)
{
  for (guint i = 0; i < lanes->len; i++)
    if (g_array_index (lanes, Lane, i).addr == addr)
      return i;
  return fallback;
}

static const char *
host_title (uint32_t addr)
{
  switch (addr)
    {
    case NATSIM_CLASSIFY_CLIENT: return "client";
    case NATSIM_CLASSIFY_CLIENT2: return "host 2";
    case NATSIM_CLASSIFY_BLOCKER: return "other host";
    case NATSIM_CLASSIFY_SERVER1: return "server, primary";
    case NATSIM_CLASSIFY_SERVER2: return "server, alternate";
    default: return "server";
    }
}

/* The diagram of one test: inside hosts, the NAT, servers. */
static char *
test_svg (const NatsimProbeTest *t)
{
  g_autoptr (GArray) inside = g_array_new (FALSE, TRUE, sizeof (Lane));
  g_autoptr (GArray) outside = g_array_new (FALSE, TRUE, sizeof (Lane));
  g_autoptr (GArray) all = g_array_new (FALSE, TRUE, sizeof (Lane));
  g_autoptr (GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) publics = g_array_new (FALSE, FALSE, sizeof (uint32_t));
  guint n = MIN (t->steps->len, MAX_DIAGRAM_ROWS);
  g_autofree SeqLane *sl = NULL;
  g_autofree SeqMessage *msgs = NULL;
  guint nat;
  Lane natl = { 0 };

  g_array_set_clear_func (inside, (GDestroyNotify) lane_clear);
  g_array_set_clear_func (outside, (GDestroyNotify) lane_clear);
  for (guint k = 0; k < n; k++)
    {
      const NatsimProbeStep *s = g_ptr_array_index (t->steps, k);
      uint32_t in_a = s->outbound ? s->src_addr : s->to_addr;
      uint32_t pub = s->outbound ? s->seen_addr : s->dst_addr;
      if ((s->outbound || s->delivered) && !lane_has (inside, in_a))
        {
          Lane l = { in_a, g_strdup (host_title (in_a)), addr_str (in_a) };
          g_array_append_val (inside, l);
        }
      if (s->outbound && s->hairpinned && s->delivered && !lane_has (inside, s->to_addr))
        {
          Lane l = { s->to_addr, g_strdup (host_title (s->to_addr)), addr_str (s->to_addr) };
          g_array_append_val (inside, l);
        }
      if (!s->outbound && !lane_has (outside, s->src_addr))
        {
          Lane l = { s->src_addr, g_strdup (host_title (s->src_addr)), addr_str (s->src_addr) };
          g_array_append_val (outside, l);
        }
      if (s->outbound && !s->hairpinned && s->verdict != NATSIM_VERDICT_NOT_TRANSLATED &&
          !lane_has (outside, s->dst_addr))
        {
          Lane l = { s->dst_addr, g_strdup (host_title (s->dst_addr)), addr_str (s->dst_addr) };
          g_array_append_val (outside, l);
        }
      if (pub != 0)
        {
          bool seen = false;
          for (guint i = 0; i < publics->len; i++)
            seen = seen || g_array_index (publics, uint32_t, i) == pub;
          if (!seen && (s->delivered || !s->outbound))
            g_array_append_val (publics, pub);
        }
    }
  g_array_sort (inside, lane_cmp);
  g_array_sort (outside, lane_cmp);
  for (guint i = 0; i < inside->len; i++)
    {
      Lane *l = &g_array_index (inside, Lane, i);
      Lane c = { l->addr, l->title, l->subtitle };
      g_array_append_val (all, c);
    }
  nat = all->len;
  natl.title = (char *) "NAT";
  if (publics->len == 1)
    natl.subtitle = addr_str (g_array_index (publics, uint32_t, 0));
  else if (publics->len > 1)
    natl.subtitle = g_strdup_printf ("%u public addresses", publics->len);
  if (natl.subtitle != NULL)
    g_ptr_array_add (strings, natl.subtitle);
  g_array_append_val (all, natl);
  for (guint i = 0; i < outside->len; i++)
    {
      Lane *l = &g_array_index (outside, Lane, i);
      Lane c = { l->addr, l->title, l->subtitle };
      g_array_append_val (all, c);
    }
  sl = g_new0 (SeqLane, all->len);
  for (guint i = 0; i < all->len; i++)
    {
      sl[i].title = g_array_index (all, Lane, i).title;
      sl[i].subtitle = g_array_index (all, Lane, i).subtitle;
    }
  msgs = g_new0 (SeqMessage, MAX (n, 1));
  for (guint k = 0; k < n; k++)
    {
      const NatsimProbeStep *s = g_ptr_array_index (t->steps, k);
      SeqMessage *m = &msgs[k];
      char *time_s, *cap, *left, *right = NULL;
      g_autofree char *src = ep (s->src_addr, s->src_port);
      g_autofree char *dst = ep (s->dst_addr, s->dst_port);
      g_autofree char *fl = s->proto == NATSIM_PROTO_TCP ? flags_str (s->tcp_flags) : NULL;

      time_s = g_strdup_printf ("%.3f s", s->t);
      if (s->trial > 0)
        cap = g_strdup_printf ("trial %u: %s", s->trial, s->message);
      else
        cap = g_strdup (s->message);
      left = g_strdup_printf ("%s%s%s %s \xe2\x86\x92 %s", proto_name (s->proto), fl ? " " : "",
                              fl ? fl : "", src, dst);
      if (s->delivered)
        {
          g_autofree char *seen = ep (s->seen_addr, s->seen_port);
          g_autofree char *to = ep (s->to_addr, s->to_port);
          right = g_strdup_printf ("%s \xe2\x86\x92 %s", seen, to);
        }
      g_ptr_array_add (strings, time_s);
      g_ptr_array_add (strings, cap);
      g_ptr_array_add (strings, left);
      if (right != NULL)
        g_ptr_array_add (strings, right);
      m->time = time_s;
      m->caption = cap;
      m->left = left;
      m->right = right;
      m->from = lane_of (all, s->src_addr, nat);
      if (s->delivered)
        m->to = lane_of (all, s->to_addr, nat);
      else
        {
          m->to = nat;
          m->drop = short_reason (s);
        }
    }
  {
    char *svg = report_seq_diagram_svg (sl, all->len, nat, msgs, n);
    return svg;
  }
}

static void
html_text (GString *s, const char *text)
{
  g_autofree char *e = g_markup_escape_text (text, -1);
  g_string_append (s, e);
}

char *
natsim_classification_to_html (const NatsimClassification *c, const NatsimClassifyInputs *in)
{
  GString *s = g_string_new (NULL);
  g_autoptr (GPtrArray) rows = summary_rows (c);
  g_autofree char *h = heading (in);

  g_string_append (s, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<title>NAT behaviour of ");
  html_text (s, h);
  g_string_append (s, "</title>\n<style>\n"
                   "body{font-family:sans-serif;max-width:80em;margin:1em auto;padding:0 1em;color:#222}\n"
                   "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;"
                   "padding:.2em .5em;text-align:left;vertical-align:top}\n"
                   "th{background:#eef3fa}.diagram{overflow-x:auto}.result{font-weight:bold}\n"
                   "@media print{.diagram{overflow:visible}section{break-inside:avoid-page}}\n"
                   "</style>\n</head>\n<body>\n<h1>NAT behaviour of ");
  html_text (s, h);
  g_string_append (s, "</h1>\n<p>RFC 5780 behaviour discovery against the simulated NAT: a "
                   "client behind the NAT (192.0.2.10, a second host 192.0.2.11) and servers "
                   "with two addresses (198.51.100.1, 198.51.100.2) and two ports (3478, "
                   "3479). Each test starts from a fresh NAT.</p>\n<table>\n");
  for (guint i = 0; i + 1 < rows->len; i += 2)
    {
      g_string_append (s, "<tr><th>");
      html_text (s, rows->pdata[i]);
      g_string_append (s, "</th><td>");
      html_text (s, rows->pdata[i + 1]);
      g_string_append (s, "</td></tr>\n");
    }
  g_string_append (s, "</table>\n");
  for (guint i = 0; i < c->tests->len; i++)
    {
      const NatsimProbeTest *t = g_ptr_array_index (c->tests, i);
      g_autofree char *svg = test_svg (t);

      g_string_append (s, "<section>\n<h2>");
      html_text (s, t->title);
      g_string_append (s, "</h2>\n<p>");
      html_text (s, t->reference);
      g_string_append (s, ": <span class=\"result\">");
      html_text (s, t->result);
      g_string_append (s, "</span>. ");
      html_text (s, t->reasoning);
      g_string_append (s, "</p>\n<div class=\"diagram\">\n");
      g_string_append (s, svg);
      g_string_append (s, "</div>\n");
      if (t->steps->len > MAX_DIAGRAM_ROWS)
        g_string_append_printf (s, "<p>The diagram shows the first %u of %u packets; "
                                "classification.json and classification.md hold them all.</p>\n",
                                MAX_DIAGRAM_ROWS, t->steps->len);
      g_string_append (s, "</section>\n");
    }
  g_string_append (s, "</body>\n</html>\n");
  return g_string_free (s, FALSE);
}

/* ---------- files ---------- */

static const struct
{
  const char *name, *file;
} formats_known[] = {
  { "text", "classification.txt" },
  { "json", "classification.json" },
  { "md", "classification.md" },
  { "html", "classification.html" },
};

static gboolean
parse (const char *formats, gboolean want[G_N_ELEMENTS (formats_known)], GError **error)
{
  g_auto (GStrv) items = g_strsplit (formats != NULL ? formats : "json", ",", -1);
  gboolean any = FALSE;

  for (guint i = 0; items[i] != NULL; i++)
    {
      g_autofree char *name = g_ascii_strdown (g_strstrip (items[i]), -1);
      gboolean found = FALSE;

      if (*name == '\0')
        continue;
      for (gsize k = 0; k < G_N_ELEMENTS (formats_known); k++)
        if (strcmp (name, formats_known[k].name) == 0)
          want[k] = found = any = TRUE;
      if (!found)
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "unknown classification format '%s' (known formats: text, json, md, html)",
                       name);
          return FALSE;
        }
    }
  if (!any)
    want[1] = TRUE;
  return TRUE;
}

gboolean
natsim_classification_check_formats (const char *formats, GError **error)
{
  gboolean want[G_N_ELEMENTS (formats_known)] = { FALSE };

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  return parse (formats, want, error);
}

gboolean
natsim_classification_write_dir (const NatsimClassification *c, const NatsimClassifyInputs *in,
                                 const char *dir, const char *formats, GError **error)
{
  gboolean want[G_N_ELEMENTS (formats_known)] = { FALSE };
  char *contents[G_N_ELEMENTS (formats_known)] = { NULL };
  gboolean ok = TRUE;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!parse (formats, want, error))
    return FALSE;
  if (want[0])
    contents[0] = natsim_classification_to_text (c, in);
  if (want[1])
    contents[1] = natsim_classification_to_json (c, in);
  if (want[2])
    contents[2] = natsim_classification_to_markdown (c, in);
  if (want[3])
    contents[3] = natsim_classification_to_html (c, in);
  if (g_mkdir_with_parents (dir, 0777) != 0)
    {
      int saved = errno;
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_IO, "cannot create directory %s: %s", dir,
                   g_strerror (saved));
      ok = FALSE;
    }
  for (gsize k = 0; ok && k < G_N_ELEMENTS (formats_known); k++)
    {
      g_autofree char *path = NULL;
      if (contents[k] == NULL)
        continue;
      path = g_build_filename (dir, formats_known[k].file, NULL);
      ok = natsim_write_file_atomic (path, contents[k], -1, error);
    }
  for (gsize k = 0; k < G_N_ELEMENTS (formats_known); k++)
    g_free (contents[k]);
  return ok;
}
