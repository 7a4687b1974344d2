/* natsim NAT engine: idle timers, expiry and TCP tracking.
 *
 * A private event queue (payload inline: 16 bytes per entry) holds one
 * pending timer per binding, pushed at
 * creation and re-pushed lazily when it fires on a binding that was
 * refreshed meanwhile (or earlier when a refresh shortens the expiry), so
 * a refresh costs no queue operation.
 */
#include "nat-private.h"

static void
timer_push (NatsimNat *nat, uint32_t idx)
{
  const Binding *b = binding (nat, idx);

  natsim_eventq_push_direct (nat->timers, b_timer_at (nat, b), idx, b->gen);
}

bool
nat_udp_old (const NatsimNat *nat, uint32_t idx, NatsimTime t)
{
  const Binding *b = binding_c (nat, idx);
  NatsimTime created;

  if (!b->young)
    return true;
  if (nat->young_aside)
    created = ((const YoungEntry *) nat_side_get (&nat->young, idx))->created;
  else
    created = b->at;
  return t > natsim_time_add (created, NATSIM_SEC (2));
}

/* The young binding @idx is old for good (Binding): its creation time is
 * no longer kept. */
static void
young_end (NatsimNat *nat, uint32_t idx)
{
  Binding *b = binding (nat, idx);

  if (b->young && nat->young_aside)
    nat_side_del (&nat->young, idx);
  b->young = 0;
}

/* The timer of an ALIVE or HELD binding moves to @at.  A young binding's
 * first timer only moves once it is old, without young_aside: its first
 * timer, at its creation + udp_timeout (> 2 s), comes when it is old; a
 * shorter expiry needs the stream timeout, which needs it old; and a
 * fast-forwarded train (nat-lease.c) starts more than 2 s after the
 * creation and no refresh counts before its end. */
static void
timer_arm (NatsimNat *nat, uint32_t idx, NatsimTime at)
{
  Binding *b = binding (nat, idx);

  if (b->young && (!nat->young_aside || nat_udp_old (nat, idx, nat->now)))
    young_end (nat, idx);
  b->at = at;
  timer_push (nat, idx);
}

/* Sets the expiry of a record that has no pending timer yet (its @at, from
 * nat_binding_init(), is when it was created or, DEAD and FAILED, died). */
void
nat_timer_start (NatsimNat *nat, uint32_t idx, NatsimTime expiry)
{
  Binding *b = binding (nat, idx);

  b->expiry = expiry;
  if (b->status == B_ALIVE && b->pidx == PROTO_IDX_UDP)
    {
      /* Young (Binding): created now, with no reply seen, so its first
       * timer is due at creation + udp_timeout. */
      g_assert (expiry == natsim_time_add (b->at, nat->cfg.udp_timeout));
      b->young = 1;
      if (nat->young_aside)
        {
          YoungEntry *y = nat_side_add (&nat->young, idx);
          y->created = b->at;
          b->at = expiry;
        }
    }
  else if (b->status == B_ALIVE || b->status == B_HELD)
    b->at = expiry;
  timer_push (nat, idx);
}

/* Sets a new expiry; pushes a timer only when the expiry moved earlier
 * than the pending one (lazy re-arming handles later expiries). */
void
nat_set_expiry (NatsimNat *nat, uint32_t idx, NatsimTime expiry)
{
  Binding *b = binding (nat, idx);

  b->expiry = expiry;
  if (expiry < b_timer_at (nat, b))
    timer_arm (nat, idx, expiry);
}

NatsimTime
nat_timeout_for (const NatsimNat *nat, uint32_t idx)
{
  const Binding *b = binding_c (nat, idx);

  switch (b_proto (b))
    {
    case NATSIM_PROTO_TCP:
      return b->tcp == TCP_ESTABLISHED ? nat->cfg.tcp_established_timeout
                                       : nat->cfg.tcp_transitory_timeout;
    case NATSIM_PROTO_ICMP:
      return nat->cfg.icmp_timeout;
    default:
      /* nf_conntrack_proto_udp.c: the stream timeout once a reply has been
       * seen (before this packet) and the entry is more than 2 s old. */
      if (b->replied && nat_udp_old (nat, idx, nat->now))
        return nat->cfg.udp_stream_timeout;
      return nat->cfg.udp_timeout;
    }
}

static void
tcp_track (Binding *b, const NatsimPacket *pkt)
{
  uint8_t f = pkt->tcp_flags;
  bool out = pkt->dir == NATSIM_DIR_OUT;

  if (f & (NATSIM_TCP_RST | NATSIM_TCP_FIN))
    {
      b->tcp = TCP_CLOSING;
      return;
    }
  switch (b->tcp)
    {
    case TCP_SYN_SENT:
      if (!out && (f & NATSIM_TCP_SYN) && (f & NATSIM_TCP_ACK))
        b->tcp = TCP_SYN_RECV;
      break;
    case TCP_SYN_RECV:
      if (out && !(f & NATSIM_TCP_SYN) && (f & NATSIM_TCP_ACK))
        b->tcp = TCP_ESTABLISHED;
      break;
    default:
      break;
    }
}

void
nat_refresh (NatsimNat *nat, uint32_t idx, const NatsimPacket *pkt)
{
  Binding *b = binding (nat, idx);
  bool out = pkt->dir == NATSIM_DIR_OUT;

  if (b->pidx == PROTO_IDX_TCP)
    tcp_track (b, pkt);
  else if (b->tcp == UDP_LEASED)
    {
      /* A fast-forwarded train's later exchanges overwrite whatever this
       * packet would set (nat-lease.c); from its last one on, refreshes
       * count again. */
      if (nat->now < nat_lease_last (nat, idx))
        {
          if (!out)
            b->replied = 1;
          return;
        }
      nat_lease_end (nat, idx);
    }
  /* RFC 4787 REQ-6: outbound refresh MUST, inbound MAY. */
  if (out || nat->cfg.refresh == NATSIM_REFRESH_BOTH)
    nat_set_expiry (nat, idx, natsim_time_add (nat->now, nat_timeout_for (nat, idx)));
  if (!out)
    b->replied = 1;
}

/* The binding dies: it leaves the reply table and its port, and stays as a
 * tombstone on its endpoint's list for cfg.tombstone. */
static void
binding_expire (NatsimNat *nat, uint32_t idx)
{
  Binding *b = binding (nat, idx);

  g_assert (b->status == B_ALIVE);
  nat_reply_del (nat, idx);
  nat->live--;
  if (nat_host_tracked (nat, b_addr (b), b_proto (b), b->ext_port))
    nat_host_ref (nat, b->in_addr, b_addr (b), -1);
  nat_emit (nat, NATSIM_NAT_EV_BINDING_EXPIRED, b, false, false);
  nat_port_unref (nat, b);
  b = binding (nat, idx);
  if (nat_leased (b))
    nat_lease_end (nat, idx);
  young_end (nat, idx);
  b->status = B_DEAD;
  b->at = nat->now; /* when it died */
  b->gen++;
  nat_inside_detach (nat, idx);
  nat_inside_push (nat, idx);
  b = binding (nat, idx);
  b->expiry = natsim_time_add (nat->now, nat->cfg.tombstone);
  if (nat->cfg.tombstone == 0)
    {
      nat_inside_detach (nat, idx);
      nat_binding_release (nat, idx);
      return;
    }
  timer_push (nat, idx);
}

/* A tombstone is forgotten. */
static void
tombstone_forget (NatsimNat *nat, uint32_t idx)
{
  nat_inside_detach (nat, idx);
  nat_binding_release (nat, idx);
}

static void
held_expire (NatsimNat *nat, uint32_t idx)
{
  Binding *b = binding (nat, idx);

  nat_reply_del (nat, idx);
  nat_port_unref (nat, b);
  nat_binding_release (nat, idx);
}

void
natsim_nat_advance (NatsimNat *nat, NatsimTime now)
{
  NatsimTime t;
  uint32_t a, id;

  g_return_if_fail (now >= nat->now);
  while (natsim_eventq_peek_time (nat->timers) <= now)
    {
      Binding *b;
      natsim_eventq_pop_direct (nat->timers, &t, &a, &id);
      if (a & TIMER_BLOCK_BIT)
        {
          nat->now = t;
          nat_block_timer (nat, a & ~TIMER_BLOCK_BIT, id, t);
          continue;
        }
      b = binding (nat, a);
      if (id != b->gen || b_timer_at (nat, b) != t)
        continue; /* stale (a freed record's generation has moved on) */
      nat->now = t;
      if (b->expiry > t)
        {
          /* A fast-forwarded binding re-arms where its packets would
           * have left it, so that its timers (and the order of equal
           * expiries) are those of the packets. */
          timer_arm (nat, a, nat_leased (b) ? nat_lease_rearm (nat, a, t) : b->expiry);
          continue;
        }
      switch (b->status)
        {
        case B_ALIVE: binding_expire (nat, a); break;
        case B_DEAD:
        case B_FAILED: tombstone_forget (nat, a); break;
        case B_HELD: held_expire (nat, a); break;
        default: break;
        }
    }
  nat->now = now;
}
