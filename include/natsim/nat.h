/* natsim: the NAT/PAT gateway model.
 *
 * The only module that knows NAT behaviour.  Both packet sources (the
 * simulation models and trace replay) feed packets, in time order and in
 * *inside addressing* (an inbound packet is addressed to the inside host, as
 * seen on the LAN), to natsim_nat_process().  The engine keeps one
 * translation entry ("binding", like a conntrack entry) per 5-tuple, decides
 * external ports by the mapping / port-reuse / allocation rules, filters
 * inbound packets, runs the idle timers and reports every lifecycle event to
 * an observer.
 *
 * The per-packet path allocates nothing in steady state (tables grow by
 * doubling) and never uses GError.
 */
#pragma once

#include <glib.h>
#include <gsl/gsl_rng.h>
#include <stdbool.h>
#include <stdint.h>

#include "natsim/params.h"
#include "natsim/time.h"

G_BEGIN_DECLS

typedef enum
{
  NATSIM_PROTO_ICMP = 1,
  NATSIM_PROTO_TCP  = 6,
  NATSIM_PROTO_UDP  = 17,
} NatsimProto;

typedef enum
{
  NATSIM_DIR_OUT = 0, /* inside -> outside */
  NATSIM_DIR_IN  = 1, /* outside -> inside (inside addressing) */
} NatsimDirection;

/* TCP flags as on the wire. */
enum
{
  NATSIM_TCP_FIN = 0x01,
  NATSIM_TCP_SYN = 0x02,
  NATSIM_TCP_RST = 0x04,
  NATSIM_TCP_ACK = 0x10,
};

/* What a packet is for, as the traffic model knows it (metrics split
 * rebindings and binding losses by it; the NAT ignores it).  A capture's
 * packets and generic flows are NATSIM_FLOW_OTHER. */
typedef enum
{
  NATSIM_FLOW_OTHER = 0,    /* not classified */
  NATSIM_FLOW_SIGNALLING,   /* registration and call signalling (REGISTER, INVITE, OPTIONS, NOTIFY, push messages) */
  NATSIM_FLOW_MEDIA,        /* RTP, RTCP, the STUN checks of a call */
  NATSIM_FLOW_KEEPALIVE,    /* keepalives of a signalling, websocket or push connection */
  NATSIM_FLOW_HOUSEKEEPING, /* NTP, configuration and firmware checks */
  NATSIM_FLOW_N
} NatsimFlowKind;

/* One packet as offered to the NAT.  For NATSIM_DIR_OUT, src is the inside
 * endpoint and dst the remote; for NATSIM_DIR_IN, src is the remote and dst
 * the inside endpoint.  For ICMP echo, the ports hold the query id (RFC 5508). */
typedef struct
{
  NatsimTime time;
  uint32_t   src_addr, dst_addr; /* IPv4, host byte order */
  uint16_t   src_port, dst_port;
  uint16_t   length;             /* IP total length, bytes */
  uint16_t   cls;                /* traffic class / population index */
  uint8_t    proto;              /* NatsimProto */
  uint8_t    dir;                /* NatsimDirection */
  uint8_t    tcp_flags;
  uint8_t    dscp;
  uint32_t   endpoint;           /* endpoint id within the class (metrics) */
  uint8_t    kind;               /* NatsimFlowKind (metrics) */
  /* Where the NAT found this flow's binding last time (a result's hint,
   * or natsim_nat_flow_state_hint()), 0: unknown.  Only a hint: it spares
   * the flow's lookup while it holds and is checked, never trusted. */
  uint32_t   hint;
} NatsimPacket;

typedef enum
{
  NATSIM_VERDICT_FORWARDED,      /* outbound translated / inbound delivered */
  NATSIM_VERDICT_ALLOC_FAILED,   /* outbound needed a mapping, none free */
  NATSIM_VERDICT_BINDING_LOST,   /* inbound, its mapping had existed but is gone */
  NATSIM_VERDICT_FILTERED,       /* inbound refused by the filtering rule */
  NATSIM_VERDICT_UNSOLICITED,    /* inbound, no mapping ever */
  NATSIM_VERDICT_NOT_TRANSLATED, /* to a public address of the NAT itself with
                                  * hairpinning off, or no NAT rule applies */
} NatsimVerdict;

typedef struct
{
  NatsimVerdict verdict;
  uint32_t      ext_addr;    /* the translated (public) endpoint */
  uint16_t      ext_port;
  bool          new_binding; /* this packet created the binding */
  bool          rebinding;   /* ... of a flow whose earlier binding expired */
  /* An outbound packet to a public endpoint of this NAT that the NAT looped
   * back to the inside (hairpinning, RFC 4787 REQ-9); the verdict is then
   * the inbound leg's.  For it and for natsim_nat_process_public(): the
   * inside endpoint the packet was delivered (or offered) to. */
  bool          hairpinned;
  uint32_t      in_addr;
  uint16_t      in_port;
  uint32_t      hint;        /* for the flow's next packet (NatsimPacket), 0: none */
} NatsimNatResult;

typedef enum
{
  NATSIM_MAPPING_EIM,  /* endpoint-independent (RFC 4787 REQ-1) */
  NATSIM_MAPPING_ADM,  /* address-dependent */
  NATSIM_MAPPING_APDM, /* address-and-port-dependent ("symmetric") */
} NatsimMapping;

typedef enum
{
  NATSIM_FILTER_EIF,
  NATSIM_FILTER_ADF,
  NATSIM_FILTER_APDF,
} NatsimFiltering;

typedef enum
{
  NATSIM_REUSE_PER_DESTINATION, /* free when the 5-tuple is unused (RFC 7857 port overlapping, Linux) */
  NATSIM_REUSE_EXCLUSIVE,       /* one inside endpoint per external port (RFC 4787 REQ-3) */
} NatsimPortReuse;

typedef enum
{
  NATSIM_ALLOC_PRESERVE,   /* keep the inside source port when free */
  NATSIM_ALLOC_SEQUENTIAL, /* next free port after the last allocated */
  NATSIM_ALLOC_RANDOM,     /* random free port */
} NatsimAllocation;

typedef enum
{
  NATSIM_SEARCH_FULL,  /* scan the whole range for a free port */
  NATSIM_SEARCH_LINUX, /* nf_nat_l4proto_unique_tuple: random offset, <= 248 probes */
} NatsimPortSearch;

typedef enum
{
  NATSIM_POOLING_PAIRED,    /* one external address per inside address (RFC 4787 REQ-2) */
  NATSIM_POOLING_ARBITRARY, /* any address with a free port */
} NatsimPooling;

/* How the public address of a new binding (or a subscriber's first port
 * block) is chosen; docs/nat-model.md "Address selection". */
typedef enum
{
  NATSIM_SELECT_HASH,         /* Linux: hash of inside (and remote) address, no fall-back */
  NATSIM_SELECT_FIRST_FIT,    /* lowest address that can serve the flow (Cisco IOS, ASA) */
  NATSIM_SELECT_ROUND_ROBIN,  /* addresses in turn, fall-back to the next (ASA round-robin) */
  NATSIM_SELECT_LEAST_LOADED, /* most free ports (with blocks: most free blocks) */
} NatsimAddressSelection;

/* Why an allocation failed (report.json totals, docs/report.md). */
typedef enum
{
  NATSIM_FAIL_NO_FREE_PORT,           /* the address had no port free toward the remote */
  NATSIM_FAIL_NO_FREE_BLOCK,          /* the subscriber needed a block, none was free */
  NATSIM_FAIL_SUBSCRIBER_BLOCK_LIMIT, /* its blocks are full and it holds blocks_per_subscriber */
  NATSIM_FAIL_SUBSCRIBER_PORT_LIMIT,  /* deterministic NAT: its fixed port range is full */
  NATSIM_FAIL_N
} NatsimAllocFailure;

typedef enum
{
  NATSIM_REFRESH_BOTH,
  NATSIM_REFRESH_OUTBOUND, /* RFC 4787 REQ-6: outbound MUST, inbound MAY */
} NatsimRefresh;

/* A static port forward ([forward NAME]): packets to the public endpoint
 * reach the inside endpoint, whoever sends them, and the inside endpoint's
 * own outbound packets leave from the public endpoint. */
typedef struct
{
  uint8_t  proto;              /* NatsimProto: UDP or TCP */
  uint32_t ext_addr;           /* one of the NAT's addresses */
  uint16_t ext_port;           /* inside the port range */
  uint32_t in_addr;
  uint16_t in_port;
} NatsimNatForward;

/* The maximum number of public addresses modelled (memory is per port). */
#define NATSIM_NAT_MAX_ADDRESSES 1024

typedef struct
{
  uint32_t        *addresses; /* host order, owned */
  guint            n_addresses;
  uint16_t         port_lo, port_hi;
  NatsimMapping    mapping;
  NatsimFiltering  filtering;
  NatsimPortReuse  port_reuse;
  NatsimAllocation allocation;
  NatsimPortSearch port_search;
  NatsimPooling    pooling;
  bool             parity;
  bool             unsolicited_hold; /* Linux: inbound to an expired mapping holds its port */
  NatsimTime       udp_timeout;
  NatsimTime       udp_stream_timeout;
  NatsimTime       tcp_established_timeout;
  NatsimTime       tcp_transitory_timeout;
  NatsimTime       icmp_timeout;
  NatsimRefresh    refresh;
  NatsimTime       quarantine;
  uint32_t         ports_per_subscriber; /* 0: unlimited, else block size */
  uint32_t         blocks_per_subscriber;
  bool             sip_alg;              /* only warned about (RFC 4787 REQ-10) */
  NatsimTime       tombstone;            /* how long an expired binding is remembered */
  NatsimAddressSelection address_selection;
  NatsimTime       block_timeout;        /* active block lifetime, 0 = never (Juniper active-block-timeout) */
  bool             deterministic;        /* RFC 7422: port range computed from the inside address */
  uint32_t        *inside_addresses;     /* deterministic: the subscribers, in order (owned) */
  guint            n_inside;
  bool             hairpinning;          /* RFC 4787 REQ-9, RFC 5382 REQ-8 */
  NatsimNatForward *forwards;            /* static port forwards, owned */
  guint            n_forwards;
} NatsimNatConfig;

/* Deterministic NAT arithmetic (RFC 7422): subscribers per public address
 * and ports per subscriber.  Subscriber i (index in inside_addresses) gets
 * address i / per_address and ports port_lo + (i % per_address) * ports
 * .. + ports - 1. */
typedef struct
{
  guint64 subscribers;      /* inside addresses */
  guint64 range;            /* ports per public address */
  guint64 ports;            /* ports per subscriber */
  guint64 per_address;      /* subscribers per public address: floor(range / ports) */
  guint64 capacity;         /* per_address x public addresses */
  guint64 addresses_needed; /* ceil(subscribers / per_address) */
} NatsimDeterministicPlan;

/* Fills @ret from @cfg (deterministic or not); FALSE when the subscribers
 * do not fit (then ret->addresses_needed says how many would). */
gboolean natsim_nat_deterministic_plan (const NatsimNatConfig *cfg,
                                        NatsimDeterministicPlan *ret);

/* The [nat] keys, with the defaults of the "linux" preset. */
extern const NatsimKeySpec natsim_nat_keys[];

typedef struct
{
  const char        *name;
  const char        *description;
  const char *const *values; /* key, value pairs, NULL-terminated */
} NatsimNatPreset;

/* Presets from docs/reference.md section 3, NULL-name terminated. */
extern const NatsimNatPreset natsim_nat_presets[];

const NatsimNatPreset *natsim_nat_preset_lookup (const char *name);

/* Builds a config from validated [nat] params (cross-key checks here). */
gboolean natsim_nat_config_from_params (const NatsimParams *p,
                                        NatsimNatConfig *ret, GError **error);
void natsim_nat_config_clear (NatsimNatConfig *cfg);

/* Lifecycle events, for metrics and for narrating (--events). */
typedef enum
{
  NATSIM_NAT_EV_BINDING_CREATED,
  NATSIM_NAT_EV_BINDING_EXPIRED,
  NATSIM_NAT_EV_ALLOC_FAILED,
  NATSIM_NAT_EV_BINDING_LOST,
  NATSIM_NAT_EV_FILTERED,
  NATSIM_NAT_EV_UNSOLICITED,
  NATSIM_NAT_EV_PORT_ACQUIRED, /* an external port went from unused to used */
  NATSIM_NAT_EV_PORT_RELEASED, /* ... and back */
  NATSIM_NAT_EV_ADDRESS_FALLBACK, /* a binding or block went to another address than
                                   * the first choice, which could not serve it */
  NATSIM_NAT_EV_BLOCK_ACQUIRED,   /* a subscriber took a port block (ext_port: its first port) */
  NATSIM_NAT_EV_BLOCK_RELEASED,   /* ... and returned it */
} NatsimNatEventType;

typedef struct
{
  NatsimNatEventType type;
  NatsimTime         time;
  uint8_t            proto;
  uint16_t           cls;
  uint32_t           in_addr, rem_addr, ext_addr;
  uint16_t           in_port, rem_port, ext_port;
  uint32_t           addr_index; /* index of ext_addr in the pool */
  bool               rebinding;  /* BINDING_CREATED of a flow seen before */
  bool               inbound;    /* BINDING_CREATED by an inbound packet (EIF/ADF) */
  uint8_t            cause;      /* ALLOC_FAILED: NatsimAllocFailure */
  uint32_t           from_index; /* ADDRESS_FALLBACK: the first-choice address index */
  uint32_t           from_addr;  /* ... and that address */
} NatsimNatEvent;

typedef void (*NatsimNatObserver) (const NatsimNatEvent *ev, void *user_data);

typedef struct NatsimNat NatsimNat;

/* A NAT with @cfg (copied).  @rng (borrowed, may be NULL when allocation is
 * not random and port_search is not linux) drives random port choice. */
NatsimNat *natsim_nat_new (const NatsimNatConfig *cfg, gsl_rng *rng);
void natsim_nat_free (NatsimNat *nat);

void natsim_nat_set_observer (NatsimNat *nat, NatsimNatObserver func,
                              void *user_data);

/* Runs the idle timers up to @now: every binding whose expiry <= @now dies
 * (a binding is dead at its expiry instant, as nf_ct_is_expired). */
void natsim_nat_advance (NatsimNat *nat, NatsimTime now);

/* Offers one packet (time must not decrease).  Advances timers to its time,
 * then translates or drops it.  @ret may be NULL. */
NatsimVerdict natsim_nat_process (NatsimNat *nat, const NatsimPacket *pkt,
                                  NatsimNatResult *ret);

/* Hints, for a packet source that can look ahead (trace replay): @pkt will
 * be offered to natsim_nat_process() soon.  natsim_nat_prefetch() starts
 * loading the index slot where its flow is looked up (its inside
 * endpoint's); natsim_nat_prefetch_binding(), called later (once that slot
 * has had time to arrive), starts loading the record it names, the first
 * of the endpoint's bindings (most often the flow's own).  Neither changes anything, so a hint for
 * a packet that never comes, or comes after the tables changed, only costs
 * its time. */
void natsim_nat_prefetch (const NatsimNat *nat, const NatsimPacket *pkt);
void natsim_nat_prefetch_binding (const NatsimNat *nat, const NatsimPacket *pkt);

/* A steady UDP exchange: from @next on, every @gap until @last (a whole
 * number of gaps after @next), the inside endpoint sends one packet to the
 * remote and the remote answers it at the same instant (RTP media ticks).
 * Inside addressing, as natsim_nat_process(). */
typedef struct
{
  uint32_t   in_addr, rem_addr;
  uint16_t   in_port, rem_port;
  NatsimTime next, gap, last;
} NatsimNatTrain;

/* Fast-forward: applies now the effect on the NAT of every packet of the
 * @n trains, when their bindings are in the state that makes that effect
 * known in closed form, and changes nothing otherwise (returns false; the
 * caller then sends the packets one by one).  Each train's flow must have
 * a live UDP binding that has seen a reply, is past Linux's 2 s stream
 * rule at @next and lives until @next, with a stream timeout longer than
 * @gap: then every packet is forwarded and the only lasting effect is the
 * expiry the last exchange sets (@last + the stream timeout).  No result
 * differs from sending the packets: the binding's timers come up when the
 * packets would have made them, and a refresh from elsewhere before @last
 * is overwritten by the train's later packets, and is ignored
 * (docs/performance.md, "Simulation speed").  During the train,
 * natsim_nat_flow_state() gives the expiry of its last exchange, not of
 * the one before now.  The caller counts the packets itself, and must
 * bring the NAT's clock to the train's last exchange (or later) before
 * it reads the NAT's state at the end of a run, as the packets would. */
bool natsim_nat_fast_forward (NatsimNat *nat, const NatsimNatTrain *trains, guint n);

/* Offers one inbound packet addressed to a public endpoint of the NAT
 * (outside addressing: @pkt->dir is NATSIM_DIR_IN, dst is the public
 * address and port, as the remote sends it).  The NAT finds the inside
 * endpoint: the binding of that exact 5-tuple, else the inside endpoint
 * that holds the public endpoint (its filtering rule decides), else a
 * static forward.  On delivery @ret->in_addr/in_port name the inside
 * endpoint and @ret->ext_* the public endpoint.  What natsim_nat_process()
 * does for inside-addressed packets, otherwise. */
NatsimVerdict natsim_nat_process_public (NatsimNat *nat, const NatsimPacket *pkt,
                                         NatsimNatResult *ret);

/* True if @addr is one of the NAT's public addresses. */
bool natsim_nat_is_public (const NatsimNat *nat, uint32_t addr);

/* Gauges. */
guint64 natsim_nat_live_bindings (const NatsimNat *nat);
guint64 natsim_nat_ports_in_use (const NatsimNat *nat, guint addr_index);
guint64 natsim_nat_ports_in_use_total (const NatsimNat *nat);
/* Port blocks (ports_per_subscriber > 0, not deterministic): blocks per
 * address, blocks in use on one address, subscribers holding a block. */
guint64 natsim_nat_blocks_per_address (const NatsimNat *nat);
guint64 natsim_nat_blocks_in_use (const NatsimNat *nat, guint addr_index);
guint64 natsim_nat_block_holders (const NatsimNat *nat);

/* The port arithmetic of @cfg for `natsim check`: ports per address and
 * pool, with port blocks blocks per address and per subscriber, with
 * deterministic NAT subscribers per address and ports per subscriber
 * (RFC 7422).  Lines of text, each ending in a newline. */
char *natsim_nat_config_describe (const NatsimNatConfig *cfg);

/* The name of a failure cause as in report.json ("no_free_port" ...). */
const char *natsim_alloc_failure_name (NatsimAllocFailure cause);

/* True if the inside endpoint has a live binding toward the remote. */
bool natsim_nat_binding_alive (const NatsimNat *nat, uint8_t proto,
                               uint32_t in_addr, uint16_t in_port,
                               uint32_t rem_addr, uint16_t rem_port);

/* What the NAT knows of one flow (proto, inside endpoint, remote). */
typedef struct
{
  bool       known;     /* a binding exists or is remembered */
  bool       alive;
  NatsimTime expiry;    /* alive: when it dies unless refreshed */
  NatsimTime died;      /* dead: when it died (0 if it never had a binding) */
  uint32_t   ext_addr;  /* alive, or the last one when dead (0 if none) */
  uint16_t   ext_port;
} NatsimFlowState;

/* The same, for a caller that asks about one flow again and again (a
 * model's signalling flow): @hint (0 at first) keeps where the NAT found
 * the flow's live binding last time, which spares the flow's lookup
 * while it still holds.  Only a hint: a binding no longer alive or no
 * longer that flow's is looked up as without it. */
bool natsim_nat_flow_state_hint (const NatsimNat *nat, uint8_t proto,
                                 uint32_t in_addr, uint16_t in_port,
                                 uint32_t rem_addr, uint16_t rem_port,
                                 uint32_t *hint, NatsimFlowState *ret);

/* Fills @ret for the flow at the NAT's current time; false if unknown. */
bool natsim_nat_flow_state (const NatsimNat *nat, uint8_t proto,
                            uint32_t in_addr, uint16_t in_port,
                            uint32_t rem_addr, uint16_t rem_port,
                            NatsimFlowState *ret);

/* Where the engine's memory goes, in bytes allocated (capacity: table
 * slots, array and chunk capacity, not only what is in use).  The main
 * categories are exact; the small GArrays of subscribers and hosts are
 * counted at GLib's power-of-two growth.  docs/performance.md "Memory". */
typedef struct
{
  guint64 live_bindings; /* ALIVE bindings */
  guint64 records;       /* binding records in use: ALIVE, tombstones, held entries */
  gsize   bindings;      /* binding records (48 bytes each, in chunks of 4096) */
  gsize   flow_index;    /* the flow table: (proto, inside, remote) -> binding, for
                          * inside endpoints with more than 8 flows (fewer are
                          * found on the endpoint's list) */
  gsize   inside_index;  /* the inside-endpoint index: endpoint -> its list of bindings */
  gsize   reply_index;   /* the replies table: bindings of external ports shared by
                          * more than 16 remotes (fewer are a list from the port) */
  gsize   timers;        /* the private timer queue (16 bytes per pending timer) */
  gsize   ports;         /* per-port state: 10 bytes per port of each address and
                          * protocol in use (8 more with a quarantine) */
  gsize   blocks;        /* port blocks: per-block arrays, subscribers and their index */
  gsize   hosts;         /* paired pooling without hash: hosts and their index */
  gsize   fixed;         /* the engine itself: config copies, address states, forwards */
  gsize   total;         /* the sum of the above */
} NatsimNatMemory;

void natsim_nat_memory (const NatsimNat *nat, NatsimNatMemory *ret);

/* Checks the engine's own bookkeeping (each inside endpoint's list of
 * bindings, the flow table and the predecessors of crowded endpoints'
 * records), for tests: false, with a warning naming what is wrong, if it
 * does not hold.  Walks every record: not for the packet path. */
bool natsim_nat_check (const NatsimNat *nat);

/* The NAT's current time (the last advance or packet). */
NatsimTime natsim_nat_now (const NatsimNat *nat);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimNat, natsim_nat_free)

G_END_DECLS
