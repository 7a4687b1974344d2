/* natsim command line: progress with an estimated time to finish.
 *
 * Progress goes to standard error only when it is a terminal and -q was
 * not given, so that logs and pipes stay clean; it never touches a report
 * (reports are written from results, progress only reads a fraction).
 * Lines are redrawn in place at most four times a second. */
#include <stdio.h>
#include <unistd.h>

#include "cli-private.h"

/* Redraw at most this often (microseconds). */
#define PROGRESS_PERIOD_US (G_USEC_PER_SEC / 4)

void
cli_progress_init (CliProgress *p, gboolean quiet)
{
  p->enabled = !quiet && isatty (STDERR_FILENO);
  p->start_us = g_get_monotonic_time ();
  p->last_us = 0;
  p->drawn = FALSE;
  p->total = 0;
}

void
cli_progress_format_eta (double seconds, char *buf, gsize size)
{
  guint64 s = seconds > 0 ? (guint64) (seconds + 0.5) : 0;

  if (s >= 3600)
    g_snprintf (buf, size, "%" G_GUINT64_FORMAT "h%02" G_GUINT64_FORMAT "m", s / 3600,
                (s / 60) % 60);
  else if (s >= 60)
    g_snprintf (buf, size, "%" G_GUINT64_FORMAT "m%02" G_GUINT64_FORMAT "s", s / 60, s % 60);
  else
    g_snprintf (buf, size, "%" G_GUINT64_FORMAT "s", s);
}

void
cli_progress_update (CliProgress *p, double fraction, const char *what)
{
  gint64 now;
  double elapsed;
  char eta[32];

  if (!p->enabled)
    return;
  now = g_get_monotonic_time ();
  if (p->drawn && now - p->last_us < PROGRESS_PERIOD_US && fraction < 1.0)
    return;
  p->last_us = now;
  p->drawn = TRUE;
  fraction = CLAMP (fraction, 0.0, 1.0);
  elapsed = (double) (now - p->start_us) / G_USEC_PER_SEC;
  /* The rate so far predicts the rest; nothing is said until 1 % is done,
   * when the estimate starts to mean something. */
  if (fraction >= 0.01 && fraction < 1.0)
    {
      cli_progress_format_eta (elapsed * (1.0 - fraction) / fraction, eta, sizeof eta);
      /* Rounded down: 100 % only when done. */
      fprintf (stderr, "\r\033[Knatsim: %s %3d%%, about %s left", what, (int) (100.0 * fraction),
               eta);
    }
  else
    fprintf (stderr, "\r\033[Knatsim: %s %3d%%", what, (int) (100.0 * fraction));
  fflush (stderr);
}

void
cli_progress_done (CliProgress *p)
{
  if (!p->enabled || !p->drawn)
    return;
  fprintf (stderr, "\r\033[K");
  fflush (stderr);
  p->drawn = FALSE;
}
