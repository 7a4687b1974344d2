/* natsim fuzz targets: shared declarations.
 *
 * Every target defines LLVMFuzzerTestOneInput(); it is linked either with
 * libFuzzer (-Dfuzzing=true, clang) or with fuzz-main.c, which replays the
 * corpus directories given on the command line (the 'fuzz' test suite). */
#pragma once

#include <glib.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Hostile input must never trip a g_return_if_fail(): make criticals
 * fatal (as G_DEBUG=fatal-criticals does in the test suite) and keep the
 * library quiet otherwise. */
static void
fuzz_on_trap (int sig)
{
  (void) sig;
  abort (); /* libFuzzer saves the input on SIGABRT, not on SIGTRAP */
}

static inline void
fuzz_setup (void)
{
  static gboolean done;

  if (done)
    return;
  done = TRUE;
  /* A fatal GLib message (g_error(), a critical) may end in a breakpoint
   * trap rather than abort(). */
  signal (SIGTRAP, fuzz_on_trap);
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_FATAL_MASK);
}

/* Aborts with a message: an invariant of the API was broken. */
#define fuzz_assert(cond)                                                     \
  do                                                                          \
    {                                                                         \
      if (!(cond))                                                            \
        {                                                                     \
          fprintf (stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__,   \
                   __LINE__, #cond);                                          \
          abort ();                                                           \
        }                                                                     \
    }                                                                         \
  while (0)
