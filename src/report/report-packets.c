/* natsim: report.html's packet sequence diagram for small runs: every
 * packet of the first run (at most NATSIM_PACKET_LOG_MAX) between the
 * inside hosts, the NAT and the remotes, each with its translation or the
 * reason it was dropped.  A classroom sees in one picture what --events
 * narrates. */
#include "natsim/report.h"
#include "seqdiag.h"

/* Hosts beyond these many on one side share a last lane ("other hosts"). */
#define MAX_SIDE_LANES 6

typedef struct
{
  GArray *addrs; /* uint32_t, sorted */
  bool    more;  /* some hosts share the last lane */
} Side;

static int
cmp_u32 (gconstpointer a, gconstpointer b)
{
  uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
  return (x > y) - (x < y);
}

static void
side_add (GArray *all, uint32_t addr)
{
  for (guint i = 0; i < all->len; i++)
    if (g_array_index (all, uint32_t, i) == addr)
      return;
  g_array_append_val (all, addr);
}

static guint
side_lane (const GArray *addrs, uint32_t addr)
{
  for (guint i = 0; i < addrs->len && i < MAX_SIDE_LANES; i++)
    if (g_array_index (addrs, uint32_t, i) == addr)
      return i;
  return MIN (addrs->len, MAX_SIDE_LANES) - 1;
}

static char *
ip (uint32_t a)
{
  return g_strdup_printf ("%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static char *
ep (uint32_t a, uint16_t p)
{
  return g_strdup_printf ("%u.%u.%u.%u:%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, p);
}

static const char *
proto_name (uint8_t p)
{
  return p == NATSIM_PROTO_TCP ? "tcp" : p == NATSIM_PROTO_ICMP ? "icmp" : "udp";
}

static const char *
drop_words (uint8_t verdict)
{
  switch (verdict)
    {
    case NATSIM_VERDICT_ALLOC_FAILED: return "dropped: no free port (allocation failure)";
    case NATSIM_VERDICT_BINDING_LOST: return "dropped: mapping expired (binding loss)";
    case NATSIM_VERDICT_FILTERED: return "dropped: filtered";
    case NATSIM_VERDICT_UNSOLICITED: return "dropped: no mapping (unsolicited)";
    case NATSIM_VERDICT_NOT_TRANSLATED: return "dropped: for the NAT box itself (no hairpinning)";
    default: return NULL;
    }
}

static const char *
class_name (const NatsimReport *r, guint cls)
{
  if (r->summary->classes != NULL && cls < r->summary->classes->len)
    return g_array_index (r->summary->classes, NatsimClassSummary, cls).name;
  return NULL;
}

void
report_html_packets (GString *out, const NatsimReport *r)
{
  const GArray *pk = r->summary != NULL ? r->summary->packets : NULL;
  g_autoptr (GArray) ins = NULL;
  g_autoptr (GArray) rems = NULL;
  g_autoptr (GPtrArray) strings = NULL;
  g_autofree SeqLane *lanes = NULL;
  g_autofree SeqMessage *msgs = NULL;
  g_autofree char *svg = NULL;
  guint n_in, n_rem, nat, n_lanes;

  if (pk == NULL || pk->len == 0)
    return;
  ins = g_array_new (FALSE, FALSE, sizeof (uint32_t));
  rems = g_array_new (FALSE, FALSE, sizeof (uint32_t));
  strings = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < pk->len; i++)
    {
      const NatsimPacketRecord *p = &g_array_index (pk, NatsimPacketRecord, i);
      bool out_dir = p->dir == NATSIM_DIR_OUT;

      side_add (ins, out_dir ? p->src_addr : p->dst_addr);
      if (p->hairpinned && p->verdict == NATSIM_VERDICT_FORWARDED)
        side_add (ins, p->in_addr);
      else if (!p->hairpinned && p->verdict != NATSIM_VERDICT_NOT_TRANSLATED)
        side_add (rems, out_dir ? p->dst_addr : p->src_addr);
    }
  g_array_sort (ins, cmp_u32);
  g_array_sort (rems, cmp_u32);
  n_in = MIN (ins->len, MAX_SIDE_LANES);
  n_rem = MIN (rems->len, MAX_SIDE_LANES);
  nat = n_in;
  n_lanes = n_in + 1 + n_rem;
  lanes = g_new0 (SeqLane, n_lanes);
  for (guint i = 0; i < n_in; i++)
    {
      char *sub = ip (g_array_index (ins, uint32_t, i));
      g_ptr_array_add (strings, sub);
      lanes[i].title = i + 1 == n_in && ins->len > n_in ? "other inside hosts" : "inside host";
      lanes[i].subtitle = i + 1 == n_in && ins->len > n_in ? NULL : sub;
    }
  lanes[nat].title = "NAT";
  for (guint i = 0; i < n_rem; i++)
    {
      char *sub = ip (g_array_index (rems, uint32_t, i));
      g_ptr_array_add (strings, sub);
      lanes[nat + 1 + i].title = i + 1 == n_rem && rems->len > n_rem ? "other remotes" : "remote";
      lanes[nat + 1 + i].subtitle = i + 1 == n_rem && rems->len > n_rem ? NULL : sub;
    }

  msgs = g_new0 (SeqMessage, pk->len);
  for (guint i = 0; i < pk->len; i++)
    {
      const NatsimPacketRecord *p = &g_array_index (pk, NatsimPacketRecord, i);
      SeqMessage *m = &msgs[i];
      bool out_dir = p->dir == NATSIM_DIR_OUT;
      bool ok = p->verdict == NATSIM_VERDICT_FORWARDED;
      const char *cname = class_name (r, p->cls);
      g_autofree char *src = ep (p->src_addr, p->src_port);
      g_autofree char *dst = ep (p->dst_addr, p->dst_port);
      g_autofree char *ext = ok ? ep (p->ext_addr, p->ext_port) : NULL;
      char *t = g_strdup_printf ("%.3f s", natsim_time_to_sec (p->time));
      char *cap = g_strdup_printf ("%s%s%s%s%s", cname ? cname : "", cname ? ": " : "",
                                   proto_name (p->proto),
                                   p->proto == NATSIM_PROTO_TCP && (p->tcp_flags & NATSIM_TCP_SYN)
                                     ? " SYN" : "",
                                   p->hairpinned ? " (hairpin)" : "");
      char *left, *right = NULL;

      g_ptr_array_add (strings, t);
      g_ptr_array_add (strings, cap);
      m->time = t;
      m->caption = cap;
      if (out_dir)
        {
          m->from = side_lane (ins, p->src_addr);
          left = g_strdup_printf ("%s \xe2\x86\x92 %s", src, dst);
          if (ok && p->hairpinned)
            {
              g_autofree char *to = ep (p->in_addr, p->in_port);
              m->to = side_lane (ins, p->in_addr);
              right = g_strdup_printf ("%s \xe2\x86\x92 %s", ext, to);
            }
          else if (ok)
            {
              m->to = nat + 1 + side_lane (rems, p->dst_addr);
              right = g_strdup_printf ("%s \xe2\x86\x92 %s", ext, dst);
            }
        }
      else
        {
          m->from = nat + 1 + side_lane (rems, p->src_addr);
          /* Inbound packets are offered in inside addressing: on the wire
           * they were addressed to the public endpoint (known when one
           * took them). */
          left = ok ? g_strdup_printf ("%s \xe2\x86\x92 %s", src, ext)
                    : g_strdup_printf ("%s \xe2\x86\x92 (for %s)", src, dst);
          if (ok)
            {
              m->to = side_lane (ins, p->dst_addr);
              right = g_strdup_printf ("%s \xe2\x86\x92 %s", src, dst);
            }
        }
      g_ptr_array_add (strings, left);
      m->left = left;
      if (right != NULL)
        g_ptr_array_add (strings, right);
      m->right = right;
      if (!ok)
        {
          m->to = nat;
          m->drop = drop_words (p->verdict);
        }
    }
  svg = report_seq_diagram_svg (lanes, n_lanes, nat, msgs, pk->len);
  g_string_append_printf (out, "\n<section id=\"packets\">\n<h2>Every packet</h2>\n<p>The "
                          "%u packets of %s, in time order: each from its sender to the NAT as "
                          "sent, then from the NAT as translated, or stopped at the NAT with "
                          "the reason it was dropped. (Runs with more than %u packets are not "
                          "drawn.)</p>\n<div class=\"table-wrap\">\n",
                          pk->len, r->summary->replications > 1 ? "the first replication" : "the run",
                          NATSIM_PACKET_LOG_MAX);
  g_string_append (out, svg);
  g_string_append (out, "</div>\n</section>\n");
}
