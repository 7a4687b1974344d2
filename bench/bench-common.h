/* natsim: what the benchmark programs share. */
#ifndef NATSIM_BENCH_COMMON_H
#define NATSIM_BENCH_COMMON_H

#include <stdint.h>

#include "natsim/nat.h"

/* Marsaglia's xorshift64 (13, 7, 17): a fixed, fast sequence for
 * benchmark traffic, the same on every machine. */
G_GNUC_UNUSED static inline uint64_t
xorshift (uint64_t *s)
{
  uint64_t x = *s;

  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

/* The NAT rules the engine benchmarks share: the whole port range,
 * endpoint-independent mapping (RFC 4787 section 4.1) with address and
 * port-dependent filtering (section 5), ports kept per destination, port preservation,
 * the RFC 5382 / RFC 5508 TCP and ICMP timers, refreshed both ways.  The
 * caller sets the search, the pooling, the UDP timers and the tombstone. */
G_GNUC_UNUSED static inline NatsimNatConfig
bench_nat_config (uint32_t *addrs, guint n_addrs)
{
  NatsimNatConfig cfg = { 0 };

  cfg.addresses = addrs;
  cfg.n_addresses = n_addrs;
  cfg.port_lo = 1024;
  cfg.port_hi = 65535;
  cfg.mapping = NATSIM_MAPPING_EIM;
  cfg.filtering = NATSIM_FILTER_APDF;
  cfg.port_reuse = NATSIM_REUSE_PER_DESTINATION;
  cfg.allocation = NATSIM_ALLOC_PRESERVE;
  cfg.tcp_established_timeout = NATSIM_SEC (7440);
  cfg.tcp_transitory_timeout = NATSIM_SEC (240);
  cfg.icmp_timeout = NATSIM_SEC (60);
  cfg.refresh = NATSIM_REFRESH_BOTH;
  return cfg;
}

#endif
