/* natsim: narration of the NAT's decisions (--events), for teaching and
 * debugging.
 *
 * One line per packet offered to the NAT and per binding that expires, in
 * time order:
 *
 *   TIME CLASS PROTO INSIDE ARROW (PUBLIC) ARROW REMOTE  VERDICT: RULE; expires at T
 *
 * The inside endpoint is always on the left and the remote on the right,
 * with the public (translated) endpoint between them in parentheses ("(-)"
 * when there is none).  The arrows follow the packet: "->" outbound, "<-"
 * inbound, "--" no packet (a timer).  RULE names what decided: mapping
 * reuse, port overlapping, the port search, the port block, quarantine,
 * filtering, an expired or never created binding.  The public endpoint is
 * named even for a filtered packet (the mapping it hit).  Times are seconds
 * of simulated time (replay: since the first record).
 *
 * Narration is for small runs: it prints a line per packet and remembers
 * the last public endpoint of every inside endpoint. */
#pragma once

#include <glib.h>
#include <stdio.h>

#include "natsim/nat.h"

G_BEGIN_DECLS

typedef struct NatsimNarrator NatsimNarrator;

/* A narrator writing to @out about @nat (configured with @cfg, copied
 * without its address list) whose packet classes are named @class_names
 * (@n_classes of them, borrowed). */
NatsimNarrator *natsim_narrator_new (FILE *out, const NatsimNat *nat,
                                     const NatsimNatConfig *cfg,
                                     const char *const *class_names,
                                     guint n_classes);
void natsim_narrator_free (NatsimNarrator *n);

/* Writes the legend ("# ..." lines) of the narration. */
void natsim_narrator_legend (NatsimNarrator *n);

/* Every NAT lifecycle event (from the NAT's observer). */
void natsim_narrator_nat_event (NatsimNarrator *n, const NatsimNatEvent *ev);

/* Every packet offered, after natsim_nat_process() gave @res. */
void natsim_narrator_packet (NatsimNarrator *n, const NatsimPacket *pkt,
                             const NatsimNatResult *res);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimNarrator, natsim_narrator_free)

G_END_DECLS
