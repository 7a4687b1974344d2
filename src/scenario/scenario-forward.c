/* natsim: [forward NAME] groups, static port forwards of the NAT
 * (docs/nat-model.md "Static port forwards"), and the NAT config of a
 * scenario with them. */
#include <string.h>

#include "natsim/error.h"
#include "natsim/scenario.h"
#include "scenario-forward.h"

static const char *const protocol_choices[] = { "udp", "tcp", NULL };

const NatsimKeySpec natsim_forward_keys[] = {
  { "protocol", NATSIM_KEY_ENUM, NULL, "udp or tcp", 0, 0, protocol_choices },
  { "public", NATSIM_KEY_ENDPOINTS, NULL,
    "public address:port (one of [nat] addresses, a port inside port_range)", 1, 1, NULL },
  { "inside", NATSIM_KEY_ENDPOINTS, NULL, "inside address:port it forwards to", 1, 1, NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

void
scenario_forward_free (NatsimForwardSpec *f)
{
  if (f == NULL)
    return;
  g_free (f->name);
  natsim_params_free (f->params);
  g_free (f->origin);
  g_free (f);
}

NatsimForwardSpec *
scenario_forward_copy (const NatsimForwardSpec *f)
{
  NatsimForwardSpec *c = g_new0 (NatsimForwardSpec, 1);

  c->name = g_strdup (f->name);
  c->params = natsim_params_copy (f->params);
  c->origin = g_strdup (f->origin);
  return c;
}

gboolean
scenario_load_forward (NatsimScenario *s, GKeyFile *kf, const ScanGroup *g, GError **error)
{
  const char *fname = g->name + strlen (SCENARIO_FORWARD_PREFIX);
  NatsimForwardSpec *f;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!scenario_name_valid (fname))
    {
      g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                   "%s:%u: [%s]: expected [forward NAME] with one NAME made of letters, "
                   "digits, '-' and '_'", s->path, g->line, g->name);
      scenario_set_place (error, s->path, g->line, g->name, NULL);
      return FALSE;
    }
  f = g_new0 (NatsimForwardSpec, 1);
  f->name = g_strdup (fname);
  f->params = natsim_params_new (natsim_forward_keys);
  f->origin = g_strdup_printf ("%s:%u", s->path, g->line);
  g_ptr_array_add (s->forwards, f);
  for (guint i = 0; i < g->keys->len; i++)
    {
      const ScanKey *k = g->keys->pdata[i];
      g_autofree char *value = g_key_file_get_value (kf, g->name, k->key, NULL);
      g_autofree char *origin = g_strdup_printf ("%s:%u", s->path, k->line);

      if (value == NULL)
        value = g_strdup (k->value);
      if (!natsim_params_set (f->params, k->key, value, origin, error))
        {
          g_prefix_error (error, "%s: [%s] %s: ", origin, g->name, k->key);
          scenario_set_place (error, s->path, k->line, g->name, k->key);
          return FALSE;
        }
    }
  return TRUE;
}

/* The place of @key of forward @f for messages: "FILE:LINE: [forward NAME] KEY: ". */
static void
prefix_place (GError **error, const NatsimForwardSpec *f, const char *key)
{
  const char *origin = key ? natsim_params_origin (f->params, key) : NULL;

  g_prefix_error (error, "%s: [%s%s]%s%s: ", origin ? origin : f->origin, SCENARIO_FORWARD_PREFIX,
                  f->name, key ? " " : "", key ? key : "");
}

/* Fills @ret from @f (validated keys). */
static void
forward_of (const NatsimForwardSpec *f, NatsimNatForward *ret)
{
  g_autoptr (GArray) pub = natsim_params_get_endpoints (f->params, "public");
  g_autoptr (GArray) in = natsim_params_get_endpoints (f->params, "inside");

  ret->proto = natsim_params_get_enum (f->params, "protocol") == 1 ? NATSIM_PROTO_TCP
                                                                     : NATSIM_PROTO_UDP;
  ret->ext_addr = g_array_index (pub, NatsimEndpoint, 0).addr;
  ret->ext_port = g_array_index (pub, NatsimEndpoint, 0).port;
  ret->in_addr = g_array_index (in, NatsimEndpoint, 0).addr;
  ret->in_port = g_array_index (in, NatsimEndpoint, 0).port;
}

gboolean
scenario_validate_forwards (const NatsimScenario *s, const NatsimNatConfig *cfg, GError **error)
{
  g_autofree NatsimNatForward *fw = g_new0 (NatsimNatForward, MAX (s->forwards->len, 1));

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  for (guint i = 0; i < s->forwards->len; i++)
    {
      const NatsimForwardSpec *f = s->forwards->pdata[i];
      const char *missing = natsim_params_missing (f->params);
      bool ours = false;

      if (missing != NULL)
        {
          g_autofree char *what = natsim_key_describe (natsim_key_lookup (natsim_forward_keys,
                                                                          missing));
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "required key missing; expected %s", what);
          prefix_place (error, f, missing);
          return FALSE;
        }
      forward_of (f, &fw[i]);
      for (guint a = 0; a < cfg->n_addresses; a++)
        ours = ours || cfg->addresses[a] == fw[i].ext_addr;
      if (!ours)
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "expected an address of [nat] addresses, got %u.%u.%u.%u",
                       fw[i].ext_addr >> 24, (fw[i].ext_addr >> 16) & 255,
                       (fw[i].ext_addr >> 8) & 255, fw[i].ext_addr & 255);
          prefix_place (error, f, "public");
          return FALSE;
        }
      if (fw[i].ext_port < cfg->port_lo || fw[i].ext_port > cfg->port_hi)
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "expected a port inside [nat] port_range %u-%u, got %u", cfg->port_lo,
                       cfg->port_hi, fw[i].ext_port);
          prefix_place (error, f, "public");
          return FALSE;
        }
      /* The inside end must be a host behind the NAT: not the unspecified
       * address, not a multicast or broadcast address, and not one of the
       * NAT's own public addresses (that would loop the forward back to
       * the outside). */
      ours = false;
      for (guint a = 0; a < cfg->n_addresses; a++)
        ours = ours || cfg->addresses[a] == fw[i].in_addr;
      if (fw[i].in_addr == 0 || fw[i].in_addr >= 0xe0000000u || ours)
        {
          g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                       "expected the address of an inside host, got %u.%u.%u.%u (%s)",
                       fw[i].in_addr >> 24, (fw[i].in_addr >> 16) & 255,
                       (fw[i].in_addr >> 8) & 255, fw[i].in_addr & 255,
                       ours ? "a public address of this NAT"
                       : fw[i].in_addr == 0 ? "the unspecified address"
                                            : "a multicast, reserved or broadcast address");
          prefix_place (error, f, "inside");
          return FALSE;
        }
      for (guint j = 0; j < i; j++)
        {
          const NatsimForwardSpec *o = s->forwards->pdata[j];
          const char *key = NULL;
          if (fw[j].proto != fw[i].proto)
            continue;
          if (fw[j].ext_addr == fw[i].ext_addr && fw[j].ext_port == fw[i].ext_port)
            key = "public";
          else if (fw[j].in_addr == fw[i].in_addr && fw[j].in_port == fw[i].in_port)
            key = "inside";
          if (key != NULL)
            {
              g_set_error (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT,
                           "[%s%s] forwards the same %s endpoint", SCENARIO_FORWARD_PREFIX,
                           o->name, key);
              prefix_place (error, f, key);
              return FALSE;
            }
        }
    }
  return TRUE;
}

gboolean
natsim_scenario_nat_config (const NatsimScenario *s, NatsimNatConfig *ret, GError **error)
{
  NatsimNatConfig cfg = { 0 };

  g_return_val_if_fail (s != NULL && ret != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!natsim_nat_config_from_params (s->nat, &cfg, error))
    return FALSE;
  if (!scenario_validate_forwards (s, &cfg, error))
    {
      natsim_nat_config_clear (&cfg);
      return FALSE;
    }
  if (s->forwards->len > 0)
    {
      cfg.forwards = g_new0 (NatsimNatForward, s->forwards->len);
      cfg.n_forwards = s->forwards->len;
      for (guint i = 0; i < s->forwards->len; i++)
        forward_of (s->forwards->pdata[i], &cfg.forwards[i]);
    }
  *ret = cfg;
  return TRUE;
}
