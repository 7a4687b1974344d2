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

NatsimEventQueue *
natsim_population_queue_new (void)
{
  return natsim_eventq_new ();
}

void
natsim_population_schedule (const NatsimPopulationContext *ctx, NatsimTime t, uint32_t kind,
                            uint32_t data)
{
  natsim_eventq_push (ctx->queue, t, kind, ctx->cls, data);
}

bool
natsim_population_next_event (NatsimEventQueue *q, NatsimTime end, NatsimEvent *ret)
{
  return natsim_eventq_peek_time (q) < end && natsim_eventq_pop (q, ret);
}
