/* natsim: statistics over replications, and closed forms (Erlang B). */
#pragma once

#include <glib.h>

#include "natsim/metrics.h"

G_BEGIN_DECLS

/* Erlang B blocking probability for @servers servers and offered load
 * @erlangs, by the standard recursion B(0)=1, B(n)=A B(n-1)/(n + A B(n-1)).
 * Numerically stable for thousands of servers. */
double natsim_erlang_b (guint servers, double erlangs);

/* The fewest servers for which natsim_erlang_b() <= @target. */
guint natsim_erlang_b_servers (double erlangs, double target);

/* Mean of @n values. */
double natsim_mean (const double *x, gsize n);

/* Half-width of the 95 % confidence interval of the mean (Student t with
 * n-1 degrees of freedom, GSL); 0 when n < 2. */
double natsim_ci95_halfwidth (const double *x, gsize n);

typedef struct
{
  char       *name;
  NatsimStats mean;
  NatsimStats ci95;
} NatsimClassSummary;

typedef struct
{
  char  *address;
  double peak_ports;
  double allocation_failures;
  /* Ports in use on this address at the end of each timeline bucket
   * (double, means over runs); NULL when the runs did not record the
   * per-address timeline (NatsimRunResult.tl_addr_ports). */
  GArray *tl_ports;
  /* Port blocks (0 / NULL without them): blocks on the address, peak
   * blocks in use, blocks in use per bucket; and bindings or blocks that
   * fell back onto it (another address was the first choice). */
  double  blocks;
  double  peak_blocks;
  GArray *tl_blocks;
  double  address_fallbacks;
} NatsimAddressSummary;

/* Means and CI half-widths of @n runs (same shapes).  blocking_probability
 * is averaged per run (each run's failures / flows, 0 when no flows). */
typedef struct
{
  guint        replications;
  NatsimStats  totals;
  NatsimStats  ci95;
  GArray      *classes;   /* NatsimClassSummary, names from @class_names */
  GArray      *addresses; /* NatsimAddressSummary */
  double       interval_s;
  GArray      *tl_bindings, *tl_ports, *tl_failures; /* double, means */
  /* Port blocks: blocks per address (0: none), and per bucket the blocks
   * in use and the subscribers holding one (NULL without blocks). */
  double       blocks_per_address;
  GArray      *tl_blocks, *tl_block_subscribers;
  /* The packets of the first run when it kept them (NatsimPacketRecord,
   * see NatsimRunResult), else NULL. */
  GArray      *packets;
} NatsimSummary;

NatsimSummary *natsim_summarize (NatsimRunResult *const *runs, guint n,
                                 const char *const *class_names,
                                 const uint32_t *addresses, guint n_addresses);
void natsim_summary_free (NatsimSummary *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimSummary, natsim_summary_free)

G_END_DECLS
