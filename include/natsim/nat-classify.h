/* natsim: NAT behaviour discovery (RFC 5780) against the simulated NAT.
 *
 * natsim_classify() runs the tests RFC 5780 runs against a real NAT, here
 * against a NatsimNat built from a config: a client behind the NAT
 * (192.0.2.10, a second inside host 192.0.2.11) and servers with two
 * addresses (198.51.100.1, 198.51.100.2) and two ports (3478, 3479).
 * Every test starts from a fresh NAT, so no test sees another's bindings,
 * and records its probe transcript (what was sent, from where, what the NAT
 * did with it, what came back) so that a reader can follow the reasoning.
 * docs/classroom.md explains the tests; docs/report.md documents
 * classification.json.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "natsim/nat.h"

G_BEGIN_DECLS

/* The hosts of the test bench (host byte order). */
#define NATSIM_CLASSIFY_CLIENT   0xC000020Au /* 192.0.2.10 */
#define NATSIM_CLASSIFY_CLIENT2  0xC000020Bu /* 192.0.2.11 */
#define NATSIM_CLASSIFY_BLOCKER  0xC0000214u /* 192.0.2.20 */
#define NATSIM_CLASSIFY_SERVER1  0xC6336401u /* 198.51.100.1 */
#define NATSIM_CLASSIFY_SERVER2  0xC6336402u /* 198.51.100.2 */
#define NATSIM_CLASSIFY_PORT1    3478
#define NATSIM_CLASSIFY_PORT2    3479

/* One packet of a transcript. */
typedef struct
{
  guint      trial;       /* 0, or the trial number of a lifetime test */
  double     t;           /* seconds since the start of the test (or trial) */
  uint8_t    proto;       /* NatsimProto */
  uint8_t    tcp_flags;
  bool       outbound;    /* sent by an inside host */
  uint32_t   src_addr, dst_addr; /* as sent: the destination as addressed */
  uint16_t   src_port, dst_port;
  bool       delivered;
  bool       hairpinned;  /* an inside host's packet looped back by the NAT */
  uint32_t   seen_addr;   /* delivered: the source as the receiver saw it */
  uint16_t   seen_port;
  uint32_t   to_addr;     /* delivered: the host that received it */
  uint16_t   to_port;
  NatsimVerdict verdict;
  char      *message;     /* what the packet says, e.g. "binding request" */
  char      *reason;      /* dropped: why, in words; else NULL */
} NatsimProbeStep;

typedef struct
{
  char      *id;          /* "mapping", "filtering", "hairpinning", ... */
  char      *title;
  char      *reference;   /* "RFC 5780 section 4.3" */
  char      *result;      /* the answer in words */
  char      *reasoning;   /* how the transcript leads to it */
  GPtrArray *steps;       /* NatsimProbeStep* */
} NatsimProbeTest;

/* What a direction-of-refresh test found. */
typedef enum
{
  NATSIM_REFRESH_FOUND_UNKNOWN,  /* no lifetime to test with */
  NATSIM_REFRESH_FOUND_BOTH,
  NATSIM_REFRESH_FOUND_OUTBOUND,
  NATSIM_REFRESH_FOUND_INBOUND,
  NATSIM_REFRESH_FOUND_NEITHER,
} NatsimRefreshFound;

typedef struct
{
  const char        *mapping;       /* nat.mapping's words, or "unknown" */
  const char        *filtering;     /* nat.filtering's words, or "unknown" */
  bool               hairpinning;
  bool               port_preservation;
  bool               parity;
  const char        *pooling;       /* "paired", "arbitrary", NULL: one address */
  double             lifetime_udp;  /* seconds; -1: longer than the longest gap tried;
                                     * NAN: unknown (no mapping could be reached) */
  double             lifetime_tcp;
  NatsimRefreshFound refresh_udp, refresh_tcp;
  const char        *rfc3489_name;  /* "full cone", ..., "symmetric", "unknown" */
  GPtrArray         *tests;         /* NatsimProbeTest*, in the order run */
} NatsimClassification;

/* The longest idle gap the lifetime tests try (seconds): 2^22, more than
 * the 30 days a timeout key accepts. */
#define NATSIM_CLASSIFY_MAX_GAP_S 4194304.0

/* Runs every test against NATs built from @cfg.  @seed drives the NAT's
 * random port choices (the result is the same for the same seed). */
NatsimClassification *natsim_classify (const NatsimNatConfig *cfg, guint64 seed);
void natsim_classification_free (NatsimClassification *c);

/* "both", "outbound", "inbound", "neither", "unknown". */
const char *natsim_refresh_found_name (NatsimRefreshFound r);

/* The RFC 3489 name of a mapping and filtering (nat.mapping and
 * nat.filtering words): EIM with EIF "full cone", EIM with ADF
 * "restricted cone", EIM with APDF "port-restricted cone", any other
 * known mapping "symmetric"; "unknown" otherwise. */
const char *natsim_rfc3489_name (const char *mapping, const char *filtering);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimClassification, natsim_classification_free)

G_END_DECLS
