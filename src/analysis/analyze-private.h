/* natsim analysis: internals of `natsim analyze` shared by its files
 * (analyze.c: flows and the driver; analyze-sample.c: reservoirs;
 * analyze-sip.c: registrations; analyze-tables.c: the seed's tables). */
#pragma once

#include <gsl/gsl_rng.h>

#include "natsim/analyze.h"
#include "natsim/reasm.h"
#include "natsim/sip-stream.h"

/* A flow this old is "long-lived"; its gaps of at least REFRESH_MIN_GAP
 * are keepalives or refreshes rather than the bursts of an exchange. */
#define LONG_LIVED           (60 * NATSIM_NSEC_PER_SEC)
#define REFRESH_MIN_GAP      NATSIM_NSEC_PER_SEC
/* REGISTERs of one endpoint closer than this belong to one attempt
 * (retransmissions, the answer to a 401/407 challenge). */
#define REGISTER_SAME_ATTEMPT (5 * NATSIM_NSEC_PER_SEC)

typedef struct
{
  GArray *v;    /* double */
  guint64 seen;
} Reservoir;

typedef struct
{
  uint8_t  a[16], b[16];  /* a <= b as (address, port) */
  uint16_t pa, pb;
  uint8_t  proto;
  uint8_t  pad[3];        /* zeroed: the key is hashed and compared as bytes */
} FlowKey;

typedef struct
{
  FlowKey    key;
  GList      link;        /* in the idle queue; data = this flow */
  NatsimTime first, last;
  guint64    packets, bytes;
  uint16_t   cls;
  uint16_t   local_port;
  uint8_t    local;       /* 0: side a is the local end, 1: side b */
  uint8_t    webex;       /* 0, 1 calling, 2 app-config */
} Flow;

typedef struct
{
  uint8_t  addr[16];
  uint16_t port;
  uint8_t  proto;
  uint8_t  pad;
} SipKey;

typedef struct
{
  SipKey     key;
  NatsimTime attempt;     /* start of the last registration attempt */
  uint32_t   call_id;     /* of its last REGISTER */
  gint64     challenged;  /* CSeq of that REGISTER if a 401/407 answered it, else -1 */
} SipEndpoint;

enum { R_DURATION, R_GAP, R_REFRESH, R_N };

typedef struct
{
  NatsimClassAnalysis fig;
  Reservoir           r[R_N];
} ClassState;

struct NatsimAnalysis
{
  const NatsimCidrSet *inside;
  NatsimTime           flow_timeout;
  guint                max_samples;
  bool                 outer;
  gsl_rng             *rng;
  GHashTable          *flows;     /* FlowKey* -> Flow* (owned) */
  GQueue               idle;      /* Flow links, least recently seen first */
  GHashTable          *sip_eps;   /* SipKey* -> SipEndpoint* (owned) */
  guint                n_classes;
  ClassState          *classes;
  NatsimSipAnalysis    sip;
  Reservoir            sip_interval, sip_req, sip_ok;
  NatsimTraceStats     stats;
  NatsimReasm         *reasm;     /* fragments, bounded pool */
  NatsimSipStreams    *streams;   /* SIP over TCP, bounded pool */
  bool                 any_fragment;
  guint64              flows_total, packets_total, bytes_total, no_ports;
  guint64              peak_live_flows;
  NatsimTime           first_time, last_time;
  bool                 any, finished;
};

/* Reservoir sampling (analyze-sample.c): all values up to the cap, then
 * Vitter's algorithm R with the analysis's fixed-seed generator. */
void analyze_reservoir_add (NatsimAnalysis *a, Reservoir *r, double x);
/* Sorts the kept sample and computes its quantiles; ret->n counts every
 * value seen. */
void analyze_reservoir_quantiles (Reservoir *r, NatsimQuantiles *ret);
void analyze_reservoir_clear (Reservoir *r);

/* One SIP message sent by @tp's source (analyze-sip.c). */
void analyze_sip_observe (NatsimAnalysis *a, const NatsimTracePacket *tp, const uint8_t *msg,
                          size_t len);
/* The same as a NatsimSipMessageFunc, @user_data the analysis. */
void analyze_sip_message (const NatsimTracePacket *tp, const uint8_t *msg, size_t len,
                          void *user_data);
