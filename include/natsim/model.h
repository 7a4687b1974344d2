/* natsim: traffic models (endpoint populations).
 *
 * A profile is a named traffic generator with its own key table (validated
 * by the scenario loader like any other group).  A population is one
 * instance of a profile in one replication: it schedules its events on the
 * shared event queue and, when they fire, offers packets to the NAT through
 * the simulation's send hook.  Profiles plug in by adding an entry to the
 * catalogue (src/model/profiles.c); the simulation driver knows none of
 * them by name.
 */
#pragma once

#include <glib.h>
#include <gsl/gsl_rng.h>

#include "natsim/eventq.h"
#include "natsim/nat.h"
#include "natsim/params.h"

G_BEGIN_DECLS

typedef struct NatsimPopulation NatsimPopulation;

/* What a population may use while running.  Owned by the driver. */
typedef struct
{
  NatsimEventQueue *queue;
  gsl_rng          *rng;      /* this population's own stream */
  uint16_t          cls;      /* class index: event aux and packet cls */
  uint32_t          inside_base; /* first inside address of this population */
  NatsimTime        end;      /* simulated end time */
  /* Offers @pkt to the NAT and records it; fills @ret. */
  void (*send) (void *sim, const NatsimPacket *pkt, NatsimNatResult *ret);
  /* Reports endpoint-seconds without a live binding for a registered endpoint. */
  void (*unreachable) (void *sim, uint16_t cls, NatsimTime from, NatsimTime to);
  /* The NAT, only to be asked whether a flow's binding is alive
   * (natsim_nat_flow_state()); packets go through send(). */
  NatsimNat        *nat;
  /* The driver's state, the first argument of the hooks. */
  void             *sim;
  /* Counts an incoming call lost to a dead or filtered binding (or to a
   * registrar that still knows an expired mapping) at @t.  May be NULL. */
  void (*missed_call) (void *sim, uint16_t cls, NatsimTime t);
  /* Offers @n trains of steady exchanges of this population at once
   * (natsim_nat_fast_forward()) and counts their packets; false when they
   * must be sent one by one (the NAT's state does not allow it, or the run
   * narrates, logs or observes every packet).  May be NULL. */
  bool (*fast_forward) (void *sim, uint16_t cls, const NatsimNatTrain *trains, guint n);
} NatsimPopulationContext;

typedef struct
{
  /* Schedules the first events. */
  void (*start) (NatsimPopulation *pop);
  /* Handles one of its events (ev->aux == ctx->cls). */
  void (*handle) (NatsimPopulation *pop, const NatsimEvent *ev);
  /* Called once at the end of the run (pending events are dropped). */
  void (*finish) (NatsimPopulation *pop, NatsimTime end);
  void (*free) (NatsimPopulation *pop);
  /* Optional: bytes the population's state takes (its arrays by length). */
  gsize (*memory_bytes) (const NatsimPopulation *pop);
} NatsimPopulationClass;

struct NatsimPopulation
{
  const NatsimPopulationClass *klass;
  const NatsimPopulationContext *ctx;
};

/* The events of a simulation's populations: one queue shared by all, an
 * event carrying the population's kind (below 65536), its class and a
 * 32-bit datum (an endpoint, call or flow index).  Populations schedule
 * through natsim_population_schedule() and the driver takes events with
 * natsim_population_next_event(), so the queue's representation stays in
 * one place. */
NatsimEventQueue *natsim_population_queue_new (void);

/* Schedules event @kind with @data of @ctx's population at @t (>= the
 * time of the event being handled). */
void natsim_population_schedule (const NatsimPopulationContext *ctx, NatsimTime t,
                                 uint32_t kind, uint32_t data);

/* Takes the earliest event before @end into @ret (ret->aux: the class,
 * ret->id: 0); false when none is left before @end. */
bool natsim_population_next_event (NatsimEventQueue *q, NatsimTime end, NatsimEvent *ret);

/* One long-lived flow of a profile whose binding must survive between its
 * packets (a REGISTER refresh, a keepalive), for configuration checks that
 * need no simulation (src/analysis/checks.c). */
typedef struct
{
  uint8_t     proto;     /* NATSIM_PROTO_UDP or NATSIM_PROTO_TCP */
  const char *what;      /* "SIP-TLS REGISTER refresh" (static string) */
  const char *key;       /* the population key that sets the gap, or NULL */
  NatsimTime  gap_lo;    /* shortest and longest gap between two outbound */
  NatsimTime  gap_hi;    /* packets of the flow */
  bool        replies;   /* the remote answers each of them */
  bool        keepalive; /* the gap is a keepalive the endpoint could shorten */
  bool        reachability; /* inbound requests or calls arrive over this flow */
} NatsimRefreshNeed;

#define NATSIM_REFRESH_NEEDS_MAX 8

/* What a population asks of the port pool, estimated from its keys. */
typedef struct
{
  double endpoints;         /* inside hosts */
  double long_lived;        /* long-lived flows (bindings) per host */
  double peak_calls;        /* concurrent calls at the busy hour, high quantile */
  double ports_per_call;    /* external ports a call holds */
  double peak_calls_per_host; /* the busiest host (a gateway carries many) */
  bool   media_pairs;       /* media needs even/odd (RTP/RTCP) pairs */
} NatsimPortDemand;

typedef struct
{
  const char          *name;
  const char          *description;
  const NatsimKeySpec *keys; /* every key but "profile" */
  /* Number of inside addresses the population needs (from its params). */
  guint (*n_hosts) (const NatsimParams *params);
  /* Cross-key checks beyond the key table (message without place). */
  gboolean (*validate) (const NatsimParams *params, GError **error);
  NatsimPopulation *(*create) (const NatsimParams *params,
                               const NatsimPopulationContext *ctx);
  /* Optional: the long-lived flows whose bindings must survive, at most
   * NATSIM_REFRESH_NEEDS_MAX, into @out; *@n is set to their number. */
  void (*refresh_gaps) (const NatsimParams *params, NatsimRefreshNeed *out,
                        guint *n);
  /* Optional: the port demand of the population. */
  void (*port_demand) (const NatsimParams *params, NatsimPortDemand *out);
} NatsimProfile;

/* The catalogue, NULL-terminated. */
extern const NatsimProfile *const natsim_profiles[];

const NatsimProfile *natsim_profile_lookup (const char *name);

/* Comma-separated profile names, for error messages (static string). */
const char *natsim_profile_names (void);

void natsim_population_free (NatsimPopulation *pop);

/* Bytes @pop holds (0 for a profile that does not say). */
gsize natsim_population_memory_bytes (const NatsimPopulation *pop);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimPopulation, natsim_population_free)

G_END_DECLS
