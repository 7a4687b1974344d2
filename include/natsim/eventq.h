/* natsim: the discrete-event queue.
 *
 * A priority queue of (time, payload) ordered by time, ties broken by
 * insertion order (FIFO), so a simulation is deterministic whatever the
 * queue's internal layout.  Cancellation is lazy: natsim_eventq_cancel()
 * marks the event and natsim_eventq_pop() skips it later, in O(1).
 *
 * Times pushed must not be earlier than the time of the last popped event
 * (the usual DES monotonicity); the queue asserts it.  The hot path
 * (push/pop/cancel) allocates nothing once the queue has grown to its
 * working size.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "natsim/time.h"

G_BEGIN_DECLS

typedef struct NatsimEventQueue NatsimEventQueue;

/* A handle for cancellation; 0 is never a valid id. */
typedef uint64_t NatsimEventId;

typedef struct
{
  NatsimTime    time;
  NatsimEventId id;   /* the id push returned */
  uint32_t      kind; /* caller-defined event type */
  uint32_t      aux;  /* caller-defined small payload */
  uint64_t      data; /* caller-defined payload (an index, a pointer) */
} NatsimEvent;

/* Creates an empty queue. */
NatsimEventQueue *natsim_eventq_new (void);

/* Creates an empty queue whose events carry two 32-bit words inline and
 * cannot be cancelled: 16 bytes per pending event instead of about 52 (no
 * slot, no id).  Only the _direct push and pop below, natsim_eventq_peek_time
 * and the size functions apply to it; the order is the same (time, then
 * FIFO).  For owners of many timers that check staleness themselves. */
NatsimEventQueue *natsim_eventq_new_direct (void);

/* Schedules (@a, @b) at @time (>= the last popped time) in a direct queue. */
void natsim_eventq_push_direct (NatsimEventQueue *q, NatsimTime time,
                                uint32_t a, uint32_t b);

/* Removes the earliest event of a direct queue; false when empty. */
bool natsim_eventq_pop_direct (NatsimEventQueue *q, NatsimTime *ret_time,
                               uint32_t *ret_a, uint32_t *ret_b);

/* Frees the queue; NULL-safe. */
void natsim_eventq_free (NatsimEventQueue *q);

/* Schedules an event at @time (>= the last popped time); returns its id. */
NatsimEventId natsim_eventq_push (NatsimEventQueue *q, NatsimTime time,
                                  uint32_t kind, uint32_t aux, uint64_t data);

/* Removes the earliest live event into @ret; false when the queue is empty. */
bool natsim_eventq_pop (NatsimEventQueue *q, NatsimEvent *ret);

/* Time of the earliest live event, or NATSIM_TIME_INFINITY when empty. */
NatsimTime natsim_eventq_peek_time (NatsimEventQueue *q);

/* Cancels a pending event; cancelling an id that already fired or was
 * cancelled is a no-op. */
void natsim_eventq_cancel (NatsimEventQueue *q, NatsimEventId id);

/* Number of live (not cancelled) pending events. */
size_t natsim_eventq_size (const NatsimEventQueue *q);

/* Bytes of memory the queue holds (its arrays included), for tests and
 * diagnostics; bounded by O(peak pending events), cancelled ones included
 * only until the next compaction. */
size_t natsim_eventq_memory_bytes (const NatsimEventQueue *q);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatsimEventQueue, natsim_eventq_free)

G_END_DECLS
