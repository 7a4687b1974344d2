/* natsim: random number streams.
 *
 * THE DERIVATION (part of the reproducibility contract: changing it changes
 * every figure natsim produces, so tests pin it with a golden value).
 *
 * Let, all arithmetic modulo 2^64:
 *
 *   mix(z)        = z ^= z >> 30;  z *= 0xbf58476d1ce4e5b9;
 *                   z ^= z >> 27;  z *= 0x94d049bb133111eb;
 *                   z ^ (z >> 31)
 *   splitmix64(x) = mix(x + 0x9e3779b97f4a7c15)
 *                   (the output of Vigna's SplitMix64 for state x)
 *   fnv1a64(s)    = h = 0xcbf29ce484222325; for each byte b of s (UTF-8,
 *                   without the terminating NUL): h = (h ^ b) * 0x100000001b3
 *                   (a NULL name hashes as "")
 *
 * then
 *
 *   a = splitmix64(seed)
 *   b = splitmix64(a ^ replication)        (replication zero-extended)
 *   natsim_rng_stream_seed(seed, replication, name) = splitmix64(b ^ fnv1a64(name))
 *
 * splitmix64 is a bijection of 64-bit words, so for a fixed seed two
 * replications always give different b, and for fixed (seed, replication)
 * two names with different FNV-1a hashes always give different stream seeds.
 * A stream seed depends only on its own (seed, replication, name): adding or
 * removing another stream changes nothing else.
 *
 * THE GENERATOR
 *
 * natsim_rng_new() returns gsl_rng_mt19937 seeded with
 *
 *   gsl_rng_set(r, (uint32_t) (s ^ (s >> 32)))    where s is the stream seed.
 *
 * GSL's mt19937 keeps only 32 bits of its seed (so do ranlxd, taus2 and
 * gfsr4; the generators whose output does depend on higher bits are the
 * small-state or linear congruential ones we do not want).  Folding the two
 * halves keeps all 64 bits of the derivation in play.  The cost is the
 * birthday bound: among k streams the chance that two share a seed is about
 * k^2 / 2^33, e.g. 1e-4 for 1000 replications of one stream.  GSL also maps
 * seed 0 to its default seed 4357, a 2^-32 coincidence.  We accept both
 * rather than reach into mt19937's private state.
 */
#include "natsim/rng.h"

#define RNG_GOLDEN_GAMMA UINT64_C (0x9e3779b97f4a7c15)

static uint64_t
rng_mix64 (uint64_t z)
{
  z = (z ^ (z >> 30)) * UINT64_C (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static uint64_t
rng_splitmix64 (uint64_t x)
{
  return rng_mix64 (x + RNG_GOLDEN_GAMMA);
}

static uint64_t
rng_fnv1a64 (const char *s)
{
  uint64_t h = UINT64_C (0xcbf29ce484222325);

  if (s == NULL)
    return h;
  for (const unsigned char *p = (const unsigned char *) s; *p != '\0'; p++)
    {
      h ^= *p;
      h *= UINT64_C (0x100000001b3);
    }
  return h;
}

uint64_t
natsim_rng_stream_seed (uint64_t seed, uint32_t replication, const char *name)
{
  uint64_t a = rng_splitmix64 (seed);
  uint64_t b = rng_splitmix64 (a ^ (uint64_t) replication);

  return rng_splitmix64 (b ^ rng_fnv1a64 (name));
}

gsl_rng *
natsim_rng_new (uint64_t seed, uint32_t replication, const char *name)
{
  uint64_t s = natsim_rng_stream_seed (seed, replication, name);
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);

  /* gsl_rng_alloc only fails on out of memory, after calling the GSL error
   * handler; GLib aborts on out of memory as well. */
  g_assert (r != NULL);
  gsl_rng_set (r, (unsigned long) (uint32_t) (s ^ (s >> 32)));
  return r;
}
