/* Test harness shared by the NAT engine unit tests (test-nat.c and
 * test-nat-kernel-facts.c): endpoints, an engine with an event recorder,
 * and packet helpers.  Everything is static and marked unused so that an
 * includer that needs only part of it builds warning-free. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib.h>
#include <gsl/gsl_rng.h>
#include <stdbool.h>
#include <string.h>

#include "natsim/nat.h"

#define IP4(a, b, c, d)                                                     \
  (((uint32_t) (a) << 24) | ((uint32_t) (b) << 16) | ((uint32_t) (c) << 8) \
   | (uint32_t) (d))

/* All scenarios start well after 0 so that "time 0" is never special. */
#define T0 NATSIM_SEC (100)

/* Addresses of the generic NAT tests. */
#define PUB1  IP4 (203, 0, 113, 1)
#define IN(n) IP4 (10, 0, 0, (n))
#define REM_A IP4 (198, 51, 100, 1)
#define REM_B IP4 (192, 0, 2, 1)

typedef struct
{
  uint32_t addr;
  uint16_t port;
} Ep;

G_GNUC_UNUSED static Ep
ep (uint32_t addr, uint16_t port)
{
  Ep e = { addr, port };
  return e;
}

typedef struct
{
  NatsimNatConfig cfg; /* owns the addresses until harness_free() */
  gsl_rng        *rng; /* NULL when the engine runs without one */
  NatsimNat      *nat;
  GArray         *events;     /* NatsimNatEvent */
  uint16_t        pkt_length; /* length of every packet send_pkt() builds */
} Harness;

G_GNUC_UNUSED static void
record_event (const NatsimNatEvent *ev, void *user_data)
{
  GArray *events = user_data;

  g_array_append_vals (events, ev, 1);
}

/* Takes over @cfg (its addresses are freed by harness_free() through
 * natsim_nat_config_clear(), after the engine is gone).  With @with_rng an
 * mt19937 rng seeded with @seed is handed to the engine, otherwise NULL.
 * Every packet send_pkt() builds is @pkt_length bytes long. */
G_GNUC_UNUSED static Harness *
harness_new_full (NatsimNatConfig *cfg, bool with_rng, unsigned long seed,
                  uint16_t pkt_length)
{
  Harness *h = g_new0 (Harness, 1);

  h->cfg = *cfg;
  cfg->addresses = NULL;
  cfg->n_addresses = 0;
  if (with_rng)
    {
      h->rng = gsl_rng_alloc (gsl_rng_mt19937);
      gsl_rng_set (h->rng, seed);
    }
  h->nat = natsim_nat_new (&h->cfg, h->rng);
  assert_non_null (h->nat);
  h->events = g_array_new (FALSE, FALSE, sizeof (NatsimNatEvent));
  h->pkt_length = pkt_length;
  natsim_nat_set_observer (h->nat, record_event, h->events);
  return h;
}

G_GNUC_UNUSED static void
harness_free (Harness *h)
{
  natsim_nat_free (h->nat);
  natsim_nat_config_clear (&h->cfg);
  if (h->rng != NULL)
    gsl_rng_free (h->rng);
  g_array_free (h->events, TRUE);
  g_free (h);
}

G_GNUC_UNUSED static NatsimVerdict
send_pkt (Harness *h, NatsimTime t, uint8_t proto, NatsimDirection dir,
          Ep src, Ep dst, uint8_t flags, NatsimNatResult *ret)
{
  NatsimPacket    pkt;
  NatsimNatResult res;
  NatsimVerdict   v;

  memset (&pkt, 0, sizeof pkt);
  memset (&res, 0, sizeof res);
  pkt.time = t;
  pkt.src_addr = src.addr;
  pkt.src_port = src.port;
  pkt.dst_addr = dst.addr;
  pkt.dst_port = dst.port;
  pkt.length = h->pkt_length;
  pkt.proto = proto;
  pkt.dir = (uint8_t) dir;
  pkt.tcp_flags = flags;
  v = natsim_nat_process (h->nat, &pkt, &res);
  assert_int_equal (v, res.verdict);
  if (ret != NULL)
    *ret = res;
  return v;
}

G_GNUC_UNUSED static NatsimVerdict
udp_out (Harness *h, NatsimTime t, Ep in, Ep rem, NatsimNatResult *ret)
{
  return send_pkt (h, t, NATSIM_PROTO_UDP, NATSIM_DIR_OUT, in, rem, 0, ret);
}

G_GNUC_UNUSED static NatsimVerdict
udp_in (Harness *h, NatsimTime t, Ep rem, Ep in, NatsimNatResult *ret)
{
  return send_pkt (h, t, NATSIM_PROTO_UDP, NATSIM_DIR_IN, rem, in, 0, ret);
}

G_GNUC_UNUSED static NatsimVerdict
tcp_out (Harness *h, NatsimTime t, Ep in, Ep rem, uint8_t flags)
{
  return send_pkt (h, t, NATSIM_PROTO_TCP, NATSIM_DIR_OUT, in, rem, flags,
                   NULL);
}

G_GNUC_UNUSED static NatsimVerdict
tcp_in (Harness *h, NatsimTime t, Ep rem, Ep in, uint8_t flags)
{
  return send_pkt (h, t, NATSIM_PROTO_TCP, NATSIM_DIR_IN, rem, in, flags,
                   NULL);
}

G_GNUC_UNUSED static guint
count_events (const Harness *h, NatsimNatEventType type)
{
  guint n = 0;

  for (guint i = 0; i < h->events->len; i++)
    if (g_array_index (h->events, NatsimNatEvent, i).type == type)
      n++;
  return n;
}

/* A neutral generic NAT (tests/test-nat.c, tests/test-nat-review.c); every field is set, tests change what they
 * exercise.  One public address, ports 5000-5009. */
G_GNUC_UNUSED static NatsimNatConfig
base_config (void)
{
  NatsimNatConfig cfg;

  memset (&cfg, 0, sizeof cfg);
  cfg.addresses = g_new (uint32_t, 1);
  cfg.addresses[0] = IP4 (203, 0, 113, 1);
  cfg.n_addresses = 1;
  cfg.port_lo = 5000;
  cfg.port_hi = 5009;
  cfg.mapping = NATSIM_MAPPING_EIM;
  cfg.filtering = NATSIM_FILTER_APDF;
  cfg.port_reuse = NATSIM_REUSE_PER_DESTINATION;
  cfg.allocation = NATSIM_ALLOC_SEQUENTIAL;
  cfg.port_search = NATSIM_SEARCH_FULL;
  cfg.pooling = NATSIM_POOLING_PAIRED;
  cfg.parity = false;
  cfg.unsolicited_hold = false;
  cfg.udp_timeout = NATSIM_SEC (30);
  cfg.udp_stream_timeout = NATSIM_SEC (120);
  cfg.tcp_established_timeout = NATSIM_SEC (7440);
  cfg.tcp_transitory_timeout = NATSIM_SEC (240);
  cfg.icmp_timeout = NATSIM_SEC (60);
  cfg.refresh = NATSIM_REFRESH_BOTH;
  cfg.quarantine = 0;
  cfg.ports_per_subscriber = 0;
  cfg.blocks_per_subscriber = 0;
  cfg.sip_alg = false;
  cfg.tombstone = NATSIM_SEC (600);
  return cfg;
}
