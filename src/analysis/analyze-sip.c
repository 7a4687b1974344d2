/* natsim analysis: what `natsim analyze` learns from SIP registrations.
 *
 * Per registering endpoint (address, port, transport): the start of its
 * last registration attempt, and which REGISTER a 401/407 challenged, so
 * that retransmissions and the answer to a challenge belong to the attempt
 * they complete; the gaps between attempts are the refresh intervals.
 */
#include <string.h>

#include "analyze-private.h"

static SipEndpoint *
sip_endpoint (NatsimAnalysis *a, const uint8_t addr[16], uint16_t port, uint8_t proto)
{
  SipKey key;

  memset (&key, 0, sizeof key);
  memcpy (key.addr, addr, 16);
  key.port = port;
  key.proto = proto;
  return g_hash_table_lookup (a->sip_eps, &key);
}

/* One SIP message (a UDP payload, or a message framed from a TCP stream)
 * sent by @tp's source. */
void
analyze_sip_observe (NatsimAnalysis *a, const NatsimTracePacket *tp, const uint8_t *msg, size_t len)
{
  NatsimSipInfo info;
  SipEndpoint *ep;

  if (!natsim_sip_peek (msg, len, &info))
    return;
  if (info.kind == NATSIM_SIP_REGISTER_OK)
    {
      a->sip.register_oks++;
      if (info.expires >= 0)
        analyze_reservoir_add (a, &a->sip_ok, (double) info.expires);
      return;
    }
  if (info.kind == NATSIM_SIP_REGISTER_CHALLENGE)
    {
      /* The registrar asks for credentials; the endpoint it answers is the
       * destination.  Remember which REGISTER was challenged. */
      ep = sip_endpoint (a, tp->dst, tp->dst_port, tp->proto);
      if (ep != NULL && info.call_id != 0 && info.call_id == ep->call_id)
        ep->challenged = info.cseq;
      return;
    }
  a->sip.registers++;
  if (info.expires == 0)
    a->sip.unregisters++;
  else if (info.expires > 0)
    analyze_reservoir_add (a, &a->sip_req, (double) info.expires);
  ep = sip_endpoint (a, tp->src, tp->src_port, tp->proto);
  if (ep == NULL)
    {
      ep = g_new0 (SipEndpoint, 1);
      memcpy (ep->key.addr, tp->src, 16);
      ep->key.port = tp->src_port;
      ep->key.proto = tp->proto;
      ep->attempt = tp->time;
      ep->call_id = info.call_id;
      ep->challenged = -1;
      g_hash_table_insert (a->sip_eps, &ep->key, ep);
      return;
    }
  /* RFC 3261 22.2: the REGISTER that answers a 401/407 carries the same
   * Call-ID and the next CSeq; however late it comes, it completes the
   * challenged attempt rather than starting a refresh. */
  if (ep->challenged >= 0 && info.call_id != 0 && info.call_id == ep->call_id
      && info.cseq == ep->challenged + 1)
    {
      ep->challenged = -1;
      return;
    }
  ep->call_id = info.call_id;
  ep->challenged = -1;
  if (tp->time - ep->attempt >= REGISTER_SAME_ATTEMPT)
    {
      analyze_reservoir_add (a, &a->sip_interval, natsim_time_to_sec (tp->time - ep->attempt));
      ep->attempt = tp->time;
    }
}

void
analyze_sip_message (const NatsimTracePacket *tp, const uint8_t *msg, size_t len, void *user_data)
{
  analyze_sip_observe (user_data, tp, msg, len);
}

