/* natsim: simulated time.
 *
 * One time type everywhere (systemd style): NatsimTime is an unsigned 64-bit
 * count of nanoseconds of *simulated* time since the start of a run.  The
 * engine never reads the wall clock.  2^64 ns is about 584 years, so
 * overflow is not a practical concern, but the helpers saturate anyway.
 */
#pragma once

#include <stdint.h>

typedef uint64_t NatsimTime;

#define NATSIM_TIME_INFINITY  UINT64_MAX
#define NATSIM_NSEC_PER_USEC  UINT64_C (1000)
#define NATSIM_NSEC_PER_MSEC  UINT64_C (1000000)
#define NATSIM_NSEC_PER_SEC   UINT64_C (1000000000)

#define NATSIM_MSEC(ms) ((NatsimTime) (ms) * NATSIM_NSEC_PER_MSEC)
#define NATSIM_SEC(s)   ((NatsimTime) (s) * NATSIM_NSEC_PER_SEC)

/* Seconds (double) from a NatsimTime. */
static inline double
natsim_time_to_sec (NatsimTime t)
{
  return (double) t / (double) NATSIM_NSEC_PER_SEC;
}

/* NatsimTime from seconds; negative and NaN give 0, huge values saturate. */
static inline NatsimTime
natsim_time_from_sec (double s)
{
  if (!(s > 0.0))
    return 0;
  if (s >= 1.8e10)
    return NATSIM_TIME_INFINITY;
  return (NatsimTime) (s * (double) NATSIM_NSEC_PER_SEC + 0.5);
}

/* a + b, saturating at NATSIM_TIME_INFINITY. */
static inline NatsimTime
natsim_time_add (NatsimTime a, NatsimTime b)
{
  return (a > NATSIM_TIME_INFINITY - b) ? NATSIM_TIME_INFINITY : a + b;
}

/* qsort-style comparison of two NatsimTime values. */
static inline int
natsim_time_compare (const void *a, const void *b)
{
  NatsimTime x = *(const NatsimTime *) a, y = *(const NatsimTime *) b;
  return (x > y) - (x < y);
}
