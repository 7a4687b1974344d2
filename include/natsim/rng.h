/* natsim: random number streams.
 *
 * Every consumer of randomness gets its own GSL generator, seeded from
 * (scenario seed, replication index, stream name) through a documented
 * hash (see src/core/rng.c), so that:
 *  - replications are independent and can run in any order, on any thread
 *    or machine (the unit of work for --jobs and, later, MPI);
 *  - adding a population does not change the draws of the others, because a
 *    population's stream depends only on its own name.
 */
#pragma once

#include <glib.h>
#include <gsl/gsl_rng.h>
#include <stdint.h>

G_BEGIN_DECLS

/* The 64-bit seed of stream @name in replication @replication. */
uint64_t natsim_rng_stream_seed (uint64_t seed, uint32_t replication,
                                 const char *name);

/* A new generator for that stream; free with gsl_rng_free(). */
gsl_rng *natsim_rng_new (uint64_t seed, uint32_t replication,
                         const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (gsl_rng, gsl_rng_free)

G_END_DECLS
