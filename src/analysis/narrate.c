/* natsim: narration of the NAT's decisions (natsim/narrate.h).
 *
 * The NAT engine reports lifecycle events while it processes a packet
 * (port acquired, binding created, allocation failed, ...); the narrator
 * keeps what they say about the current packet and writes one line once
 * the verdict is known, so that the line can carry the expiry time the
 * NAT set.  Which rule decided is told from the events and the
 * configuration: a new binding whose public port was already in use
 * reused the inside endpoint's mapping (same public endpoint) or overlaps
 * another flow's port (RFC 7857 port overlapping); one that took a port
 * from nothing came from the port search.  Narration is off the hot path
 * (only with --events), so it may keep a hash table of the last public
 * endpoint of each inside endpoint. */
#include <inttypes.h>

#include "natsim/narrate.h"
#include "natsim/parse.h"

struct NatsimNarrator
{
  FILE              *out;
  const NatsimNat   *nat;
  NatsimNatConfig    cfg; /* scalars only: addresses is NULL */
  const char *const *class_names;
  guint              n_classes;
  GHashTable        *mappings; /* (proto, in_addr, in_port) -> (ext_addr, ext_port) */
  /* What the events said about the packet being processed. */
  bool               acquired; /* the packet's binding took a port no one used */
  bool               failed;
  uint32_t           failed_addr;
  uint8_t            failed_cause; /* NatsimAllocFailure */
  bool               fell_back;    /* the binding went to another address ... */
  uint32_t           fell_from;    /* ... than this first choice */
  bool               block_taken;  /* the packet made its subscriber take a block */
  uint16_t           block_first;  /* ... starting at this port */
  bool               had_mapping; /* the inside endpoint's mapping before the packet */
  uint64_t           old_mapping;
};

static guint64
endpoint_key (uint8_t proto, uint32_t addr, uint16_t port)
{
  return ((guint64) proto << 48) | ((guint64) addr << 16) | port;
}

static guint64
public_value (uint32_t addr, uint16_t port)
{
  return ((guint64) addr << 16) | port;
}

NatsimNarrator *
natsim_narrator_new (FILE *out, const NatsimNat *nat, const NatsimNatConfig *cfg,
                     const char *const *class_names, guint n_classes)
{
  NatsimNarrator *n = g_new0 (NatsimNarrator, 1);

  g_return_val_if_fail (out != NULL && nat != NULL && cfg != NULL, NULL);
  n->out = out;
  n->nat = nat;
  n->cfg = *cfg;
  n->cfg.addresses = NULL;
  n->class_names = class_names;
  n->n_classes = n_classes;
  n->mappings = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  return n;
}

void
natsim_narrator_free (NatsimNarrator *n)
{
  if (n == NULL)
    return;
  g_hash_table_unref (n->mappings);
  g_free (n);
}

void
natsim_narrator_legend (NatsimNarrator *n)
{
  fprintf (n->out,
           "# time(s) class proto inside ARROW (public) ARROW remote  verdict: rule\n"
           "# the inside endpoint is always left, the remote right; arrows follow the\n"
           "# packet: -> outbound, <- inbound, -- no packet (a timer)\n");
}

static const char *
proto_name (uint8_t proto)
{
  switch (proto)
    {
    case NATSIM_PROTO_TCP: return "tcp";
    case NATSIM_PROTO_ICMP: return "icmp";
    default: return "udp";
    }
}

static void
fmt_ep (char *buf, size_t size, uint32_t addr, uint16_t port)
{
  char a[16];

  if (addr == 0)
    {
      g_strlcpy (buf, "-", size);
      return;
    }
  natsim_format_ipv4 (addr, a, sizeof a);
  if (port == 0)
    g_snprintf (buf, size, "%s:-", a);
  else
    g_snprintf (buf, size, "%s:%u", a, port);
}

static void
fmt_time (char *buf, size_t size, NatsimTime t)
{
  g_snprintf (buf, size, "%" PRIu64 ".%06" PRIu64, t / NATSIM_NSEC_PER_SEC,
              (t % NATSIM_NSEC_PER_SEC) / 1000);
}

static const char *
class_name (const NatsimNarrator *n, uint16_t cls)
{
  return n->class_names != NULL && cls < n->n_classes ? n->class_names[cls] : "-";
}

/* The line's head: time, class, protocol and the three endpoints. */
static void
head (NatsimNarrator *n, NatsimTime t, uint16_t cls, uint8_t proto, uint32_t in_addr,
      uint16_t in_port, uint32_t ext_addr, uint16_t ext_port, uint32_t rem_addr,
      uint16_t rem_port, const char *arrow)
{
  char ts[32], in[32], ext[32], rem[32];

  fmt_time (ts, sizeof ts, t);
  fmt_ep (in, sizeof in, in_addr, in_port);
  fmt_ep (ext, sizeof ext, ext_addr, ext_port);
  fmt_ep (rem, sizeof rem, rem_addr, rem_port);
  fprintf (n->out, "%s %s %s %s %s (%s) %s %s  ", ts, class_name (n, cls), proto_name (proto),
           in, arrow, ext, arrow, rem);
}

static const char *
mapping_name (NatsimMapping m)
{
  switch (m)
    {
    case NATSIM_MAPPING_EIM: return "endpoint-independent";
    case NATSIM_MAPPING_ADM: return "address-dependent";
    default: return "address-port-dependent";
    }
}

static const char *
filtering_name (NatsimFiltering f)
{
  switch (f)
    {
    case NATSIM_FILTER_EIF: return "endpoint-independent";
    case NATSIM_FILTER_ADF: return "address-dependent";
    default: return "address-port-dependent";
    }
}

static const char *
allocation_name (NatsimAllocation a)
{
  switch (a)
    {
    case NATSIM_ALLOC_PRESERVE: return "preserve";
    case NATSIM_ALLOC_SEQUENTIAL: return "sequential";
    default: return "random";
    }
}

static void
print_expiry (NatsimNarrator *n, const NatsimPacket *pkt)
{
  NatsimFlowState st;
  bool out = pkt->dir == NATSIM_DIR_OUT;
  char t[32];

  if (natsim_nat_flow_state (n->nat, pkt->proto, out ? pkt->src_addr : pkt->dst_addr,
                             out ? pkt->src_port : pkt->dst_port,
                             out ? pkt->dst_addr : pkt->src_addr,
                             out ? pkt->dst_port : pkt->src_port, &st) &&
      st.alive)
    {
      fmt_time (t, sizeof t, st.expiry);
      fprintf (n->out, "; expires at %s", t);
    }
}

/* The idle timers that apply to @proto. */
static void
print_timeouts (NatsimNarrator *n, uint8_t proto)
{
  char a[32], b[32];

  switch (proto)
    {
    case NATSIM_PROTO_TCP:
      natsim_format_duration (n->cfg.tcp_established_timeout, a, sizeof a);
      natsim_format_duration (n->cfg.tcp_transitory_timeout, b, sizeof b);
      fprintf (n->out, "tcp_established_timeout %s; tcp_transitory_timeout %s while opening "
                       "or closing", a, b);
      break;
    case NATSIM_PROTO_ICMP:
      natsim_format_duration (n->cfg.icmp_timeout, a, sizeof a);
      fprintf (n->out, "icmp_timeout %s", a);
      break;
    default:
      natsim_format_duration (n->cfg.udp_timeout, a, sizeof a);
      natsim_format_duration (n->cfg.udp_stream_timeout, b, sizeof b);
      fprintf (n->out, "udp_timeout %s; udp_stream_timeout %s once answered", a, b);
      break;
    }
}

void
natsim_narrator_nat_event (NatsimNarrator *n, const NatsimNatEvent *ev)
{
  switch (ev->type)
    {
    case NATSIM_NAT_EV_PORT_ACQUIRED:
      n->acquired = true;
      break;
    case NATSIM_NAT_EV_ALLOC_FAILED:
      n->failed = true;
      n->failed_addr = ev->ext_addr;
      n->failed_cause = ev->cause;
      break;
    case NATSIM_NAT_EV_ADDRESS_FALLBACK:
      n->fell_back = true;
      n->fell_from = ev->from_addr;
      break;
    case NATSIM_NAT_EV_BLOCK_ACQUIRED:
      n->block_taken = true;
      n->block_first = ev->ext_port;
      break;
    case NATSIM_NAT_EV_BLOCK_RELEASED:
      /* Blocks go back when their last binding expires: a timer. */
      head (n, ev->time, ev->cls, ev->proto, ev->in_addr, ev->in_port, ev->ext_addr,
            ev->ext_port, ev->rem_addr, ev->rem_port, "--");
      fprintf (n->out, "port block returned: the subscriber's block starting at %u is unused\n",
               ev->ext_port);
      break;
    case NATSIM_NAT_EV_BINDING_CREATED:
      {
        guint64 key = endpoint_key (ev->proto, ev->in_addr, ev->in_port);
        guint64 *old = g_hash_table_lookup (n->mappings, &key);
        guint64 *k = g_new (guint64, 1), *v = g_new (guint64, 1);

        n->had_mapping = old != NULL;
        n->old_mapping = old != NULL ? *old : 0;
        *k = key;
        *v = public_value (ev->ext_addr, ev->ext_port);
        g_hash_table_insert (n->mappings, k, v);
      }
      break;
    case NATSIM_NAT_EV_BINDING_EXPIRED:
      head (n, ev->time, ev->cls, ev->proto, ev->in_addr, ev->in_port, ev->ext_addr,
            ev->ext_port, ev->rem_addr, ev->rem_port, "--");
      fprintf (n->out, "binding expired: idle past its timeout (");
      print_timeouts (n, ev->proto);
      fputc (')', n->out);
      if (n->cfg.quarantine > 0)
        {
          char q[32];

          natsim_format_duration (n->cfg.quarantine, q, sizeof q);
          fprintf (n->out, " (a port it frees waits %s in quarantine, RFC 6888 REQ-8)", q);
        }
      fputc ('\n', n->out);
      break;
    default:
      break;
    }
}

/* Why an outbound packet found no port, by the cause the NAT gave. */
static void
print_failure (NatsimNarrator *n)
{
  char a[16] = "the pool";

  if (n->failed_addr != 0)
    natsim_format_ipv4 (n->failed_addr, a, sizeof a);
  fprintf (n->out, "(%s): ", natsim_alloc_failure_name ((NatsimAllocFailure) n->failed_cause));
  switch ((NatsimAllocFailure) n->failed_cause)
    {
    case NATSIM_FAIL_SUBSCRIBER_PORT_LIMIT:
      fprintf (n->out, "the subscriber's fixed port range is full (deterministic NAT)");
      break;
    case NATSIM_FAIL_NO_FREE_BLOCK:
      fprintf (n->out, "the subscriber needed a new port block of %u and none was free on %s",
               n->cfg.ports_per_subscriber, a);
      break;
    case NATSIM_FAIL_SUBSCRIBER_BLOCK_LIMIT:
      fprintf (n->out, "the subscriber's port block%s of %u ports %s full and it holds "
                       "blocks_per_subscriber = %u",
               n->cfg.blocks_per_subscriber == 1 ? "" : "s", n->cfg.ports_per_subscriber,
               n->cfg.blocks_per_subscriber == 1 ? "is" : "are", n->cfg.blocks_per_subscriber);
      break;
    case NATSIM_FAIL_NO_FREE_PORT:
    default:
      fprintf (n->out, "port search found no free port on %s in %u-%u for this destination "
                       "(port_reuse = %s)",
               a, n->cfg.port_lo, n->cfg.port_hi,
               n->cfg.port_reuse == NATSIM_REUSE_EXCLUSIVE ? "exclusive" : "per-destination");
      break;
    }
  if (n->cfg.quarantine > 0)
    {
      char q[32];

      natsim_format_duration (n->cfg.quarantine, q, sizeof q);
      fprintf (n->out, "; freed ports wait %s in quarantine (RFC 6888 REQ-8)", q);
    }
  fprintf (n->out, " (RFC 6888 REQ-5: no eviction)");
}

/* Which rule gave an outbound packet its new binding. */
static void
print_new_binding (NatsimNarrator *n, const NatsimPacket *pkt, const NatsimNatResult *res)
{
  guint64 now = public_value (res->ext_addr, res->ext_port);
  char old[32], from[16];

  if (n->fell_back)
    {
      natsim_format_ipv4 (n->fell_from, from, sizeof from);
      fprintf (n->out, "address fall-back: %s could not serve it; ", from);
    }
  if (res->rebinding)
    fprintf (n->out, "rebinding (the flow's binding had expired), ");
  else
    fprintf (n->out, "new binding, ");
  if (!n->acquired && n->had_mapping && n->old_mapping == now)
    fprintf (n->out, "mapping reused: mapping = %s keeps the inside endpoint's public "
                     "endpoint%s",
             mapping_name (n->cfg.mapping),
             n->cfg.mapping == NATSIM_MAPPING_EIM ? " (RFC 4787 REQ-1)" : "");
  else if (!n->acquired)
    fprintf (n->out, "port overlapping: the public port already serves flows to other "
                     "destinations (port_reuse = per-destination, RFC 7857)");
  else
    {
      if (pkt->src_port == res->ext_port && n->cfg.allocation == NATSIM_ALLOC_PRESERVE)
        fprintf (n->out, "port search kept the inside port (allocation = preserve)");
      else if (n->cfg.allocation == NATSIM_ALLOC_PRESERVE &&
               (pkt->src_port < n->cfg.port_lo || pkt->src_port > n->cfg.port_hi))
        fprintf (n->out, "port search took a free port (allocation = preserve, but the inside "
                         "port %u lies outside port_range %u-%u)",
                 pkt->src_port, n->cfg.port_lo, n->cfg.port_hi);
      else if (n->cfg.allocation == NATSIM_ALLOC_PRESERVE)
        fprintf (n->out, "port search took a free port (allocation = preserve, but the inside "
                         "port %u was taken)", pkt->src_port);
      else
        fprintf (n->out, "port search took a free port (allocation = %s)",
                 allocation_name (n->cfg.allocation));
      if (n->block_taken)
        fprintf (n->out, " in a new port block of %u taken for the subscriber (ports %u-%u)",
                 n->cfg.ports_per_subscriber, n->block_first,
                 n->block_first + n->cfg.ports_per_subscriber - 1);
      else if (n->cfg.ports_per_subscriber > 0)
        fprintf (n->out, " in the subscriber's port block of %u", n->cfg.ports_per_subscriber);
      if (n->cfg.port_search == NATSIM_SEARCH_LINUX)
        fprintf (n->out, ", searching as Linux does (random start, at most 248 tries)");
      if (n->had_mapping && n->old_mapping != now)
        {
          fmt_ep (old, sizeof old, (uint32_t) (n->old_mapping >> 16),
                  (uint16_t) (n->old_mapping & 0xffff));
          fprintf (n->out, "; the inside endpoint's public endpoint was %s (mapping = %s)", old,
                   mapping_name (n->cfg.mapping));
        }
    }
}

/* Inbound packets that were dropped: what the NAT knew of their flow. */
static void
print_inbound_drop (NatsimNarrator *n, const NatsimPacket *pkt, NatsimVerdict v)
{
  NatsimFlowState st;
  char t[32];

  switch (v)
    {
    case NATSIM_VERDICT_FILTERED:
      fprintf (n->out, "dropped, filtered: the inside endpoint's mapping is alive but "
                       "filtering = %s admits only remotes it has sent to (RFC 4787 REQ-8)",
               filtering_name (n->cfg.filtering));
      break;
    case NATSIM_VERDICT_BINDING_LOST:
      if (natsim_nat_flow_state (n->nat, pkt->proto, pkt->dst_addr, pkt->dst_port,
                                 pkt->src_addr, pkt->src_port, &st) &&
          st.died > 0)
        {
          fmt_time (t, sizeof t, st.died);
          fprintf (n->out, "dropped, binding lost: the flow's binding expired at %s", t);
        }
      else
        fprintf (n->out, "dropped, binding lost: the flow's binding is gone (expired, or "
                         "never created for want of a port)");
      break;
    default:
      fprintf (n->out, "dropped, unsolicited: the inside endpoint has no live binding, and "
                       "none it had would have admitted this remote");
      break;
    }
}

/* The events of one packet are told once. */
static void
forget_packet (NatsimNarrator *n)
{
  n->acquired = false;
  n->failed = false;
  n->fell_back = false;
  n->block_taken = false;
  n->had_mapping = false;
}

void
natsim_narrator_packet (NatsimNarrator *n, const NatsimPacket *pkt, const NatsimNatResult *res)
{
  bool out = pkt->dir == NATSIM_DIR_OUT;
  uint32_t ext_addr = res->ext_addr;
  uint16_t ext_port = res->ext_port;

  if (res->verdict == NATSIM_VERDICT_NOT_TRANSLATED)
    {
      head (n, pkt->time, pkt->cls, pkt->proto, out ? pkt->src_addr : pkt->dst_addr,
            out ? pkt->src_port : pkt->dst_port, 0, 0, out ? pkt->dst_addr : pkt->src_addr,
            out ? pkt->dst_port : pkt->src_port, out ? "->" : "<-");
      fprintf (n->out, "not translated: addressed to a public address of the NAT itself "
                       "with hairpinning off, or no NAT rule applies\n");
      forget_packet (n);
      return;
    }
  if (ext_addr == 0)
    {
      /* Name the public endpoint the packet met even when it was dropped:
       * the inside endpoint's mapping (filtered), or the address whose
       * ports ran out (allocation failure). */
      guint64 key = endpoint_key (pkt->proto, out ? pkt->src_addr : pkt->dst_addr,
                                  out ? pkt->src_port : pkt->dst_port);
      guint64 *m = g_hash_table_lookup (n->mappings, &key);
      NatsimFlowState st;

      if (out && n->failed)
        ext_addr = n->failed_addr;
      else if (!out && res->verdict == NATSIM_VERDICT_BINDING_LOST &&
               natsim_nat_flow_state (n->nat, pkt->proto, pkt->dst_addr, pkt->dst_port,
                                      pkt->src_addr, pkt->src_port, &st) &&
               st.ext_addr != 0)
        {
          ext_addr = st.ext_addr;
          ext_port = st.ext_port;
        }
      else if (!out && res->verdict == NATSIM_VERDICT_FILTERED && m != NULL)
        {
          ext_addr = (uint32_t) (*m >> 16);
          ext_port = (uint16_t) (*m & 0xffff);
        }
    }
  if (out)
    head (n, pkt->time, pkt->cls, pkt->proto, pkt->src_addr, pkt->src_port, ext_addr, ext_port,
          pkt->dst_addr, pkt->dst_port, "->");
  else
    head (n, pkt->time, pkt->cls, pkt->proto, pkt->dst_addr, pkt->dst_port, ext_addr, ext_port,
          pkt->src_addr, pkt->src_port, "<-");

  switch (res->verdict)
    {
    case NATSIM_VERDICT_FORWARDED:
      fprintf (n->out, out ? "forwarded, " : "delivered, ");
      if (res->new_binding && out)
        print_new_binding (n, pkt, res);
      else if (res->new_binding)
        fprintf (n->out, "new binding on the inside endpoint's mapping: filtering = %s "
                         "admits this remote (RFC 4787 REQ-8)",
                 filtering_name (n->cfg.filtering));
      else if (out || n->cfg.refresh == NATSIM_REFRESH_BOTH)
        fprintf (n->out, "binding refreshed");
      else
        fprintf (n->out, "binding kept (refresh = outbound: inbound packets do not refresh, "
                         "RFC 4787 REQ-6)");
      print_expiry (n, pkt);
      break;
    case NATSIM_VERDICT_ALLOC_FAILED:
      fprintf (n->out, "dropped, allocation failed ");
      print_failure (n);
      break;
    default:
      print_inbound_drop (n, pkt, res->verdict);
      break;
    }
  fputc ('\n', n->out);
  forget_packet (n);
}
