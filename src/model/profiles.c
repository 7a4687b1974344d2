/* natsim: the catalogue of traffic profiles. */
#include "endpoint.h"

const NatsimProfile *const natsim_profiles[] = {
  &natsim_profile_generic,
  &natsim_profile_cisco_mpp,
  &natsim_profile_room_device,
  &natsim_profile_webex_desktop,
  &natsim_profile_webex_mobile,
  &natsim_profile_local_gateway,
  &natsim_profile_sip_udp,
  NULL
};

const NatsimProfile *
natsim_profile_lookup (const char *name)
{
  for (guint i = 0; natsim_profiles[i] != NULL; i++)
    if (g_strcmp0 (natsim_profiles[i]->name, name) == 0)
      return natsim_profiles[i];
  return NULL;
}

const char *
natsim_profile_names (void)
{
  static char *names;

  if (g_once_init_enter (&names))
    {
      GString *s = g_string_new (NULL);
      for (guint i = 0; natsim_profiles[i] != NULL; i++)
        g_string_append_printf (s, "%s%s", i ? ", " : "", natsim_profiles[i]->name);
      g_once_init_leave (&names, g_string_free (s, FALSE));
    }
  return names;
}

void
natsim_population_free (NatsimPopulation *pop)
{
  if (pop != NULL)
    pop->klass->free (pop);
}

gsize
natsim_population_memory_bytes (const NatsimPopulation *pop)
{
  g_return_val_if_fail (pop != NULL, 0);
  return pop->klass->memory_bytes != NULL ? pop->klass->memory_bytes (pop) : 0;
}

/* The populations' events need no cancellation, so the queue is a direct
 * one: 16 bytes per pending event, the payload inline (no slot to miss in
 * the cache when the event comes up), the same order (time, then FIFO).
 * The first word is the datum, the second the kind above the class. */
NatsimEventQueue *
natsim_population_queue_new (void)
{
  return natsim_eventq_new_direct ();
}

void
natsim_population_schedule (const NatsimPopulationContext *ctx, NatsimTime t, uint32_t kind,
                            uint32_t data)
{
  g_assert (kind <= G_MAXUINT16);
  natsim_eventq_push_direct (ctx->queue, t, data, kind << 16 | ctx->cls);
}

bool
natsim_population_next_event (NatsimEventQueue *q, NatsimTime end, NatsimEvent *ret)
{
  uint32_t data, word;

  if (natsim_eventq_peek_time (q) >= end || !natsim_eventq_pop_direct (q, &ret->time, &data, &word))
    return false;
  ret->id = 0;
  ret->kind = word >> 16;
  ret->aux = word & 0xffff;
  ret->data = data;
  return true;
}
