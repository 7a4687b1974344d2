/* natsim-oracle-ports: the external endpoint natsim's NAT engine gives each
 * new outbound binding of a capture, for the oracle's port checks (the
 * report holds counts, not ports).
 *
 *   natsim-oracle-ports CAPTURE INSIDE-CIDR [nat.KEY=VALUE]...
 *
 * Builds the [nat] configuration as `natsim replay` does without a scenario
 * (key defaults, the preset named by nat.preset, then the assignments in
 * order), offers every IPv4 packet with ports that crosses the inside
 * boundary to the engine in capture order, and prints one line per binding
 * created by an outbound packet:
 *   INSIDE-ADDR INSIDE-PORT EXT-ADDR EXT-PORT REMOTE-ADDR REMOTE-PORT
 * Exit 0, or 2 on bad input (with a message on stderr). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "natsim/nat.h"
#include "natsim/params.h"
#include "natsim/rng.h"
#include "natsim/trace.h"

static const char *
addr_str (uint32_t a, char *buf)
{
  uint32_t n = htonl (a);

  return inet_ntop (AF_INET, &n, buf, INET_ADDRSTRLEN);
}

static NatsimParams *
nat_params (int n, char **sets, GError **error)
{
  g_autoptr (NatsimParams) p = natsim_params_new (natsim_nat_keys);
  const char *preset_name = "linux";
  const NatsimNatPreset *preset;

  for (int i = 0; i < n; i++)
    if (g_str_has_prefix (sets[i], "nat.preset="))
      preset_name = sets[i] + strlen ("nat.preset=");
  preset = natsim_nat_preset_lookup (preset_name);
  if (preset == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "unknown preset %s",
                   preset_name);
      return NULL;
    }
  for (guint i = 0; preset->values[i] != NULL && preset->values[i + 1] != NULL; i += 2)
    if (!natsim_params_set (p, preset->values[i], preset->values[i + 1], "preset", error))
      return NULL;
  for (int i = 0; i < n; i++)
    {
      const char *eq = strchr (sets[i], '=');
      g_autofree char *key = NULL;

      if (!g_str_has_prefix (sets[i], "nat.") || eq == NULL)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "%s: expected nat.KEY=VALUE", sets[i]);
          return NULL;
        }
      key = g_strndup (sets[i] + 4, (gsize) (eq - sets[i] - 4));
      if (!natsim_params_set (p, key, eq + 1, "argument", error))
        return NULL;
    }
  return g_steal_pointer (&p);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimParams) p = NULL;
  g_autoptr (NatsimCidrSet) inside = NULL;
  g_autoptr (NatsimTraceReader) reader = NULL;
  g_autoptr (NatsimNat) nat = NULL;
  g_autoptr (gsl_rng) rng = NULL;
  NatsimNatConfig cfg;
  NatsimTracePacket tp;
  NatsimTraceResult res;
  const char *path;

  if (argc < 3)
    {
      fprintf (stderr, "usage: natsim-oracle-ports CAPTURE INSIDE-CIDR [nat.KEY=VALUE]...\n");
      return 2;
    }
  path = argv[1];
  inside = natsim_cidr_set_new ();
  p = nat_params (argc - 3, argv + 3, &error);
  if (p == NULL || !natsim_cidr_set_add_string (inside, argv[2], &error)
      || !natsim_nat_config_from_params (p, &cfg, &error))
    {
      fprintf (stderr, "natsim-oracle-ports: %s\n",
               error != NULL ? error->message : "invalid arguments");
      return 2;
    }
  reader = natsim_trace_reader_open (&path, 1, &error);
  if (reader == NULL)
    {
      natsim_nat_config_clear (&cfg);
      fprintf (stderr, "natsim-oracle-ports: %s\n", error->message);
      return 2;
    }
  rng = natsim_rng_new (1, 0, "nat");
  nat = natsim_nat_new (&cfg, rng);
  natsim_nat_config_clear (&cfg);
  while ((res = natsim_trace_reader_next (reader, &tp)) == NATSIM_TRACE_PACKET)
    {
      NatsimPacket pkt;
      NatsimNatResult nr;
      bool src_in, dst_in;
      char a[INET_ADDRSTRLEN], e[INET_ADDRSTRLEN], r[INET_ADDRSTRLEN];

      if (tp.ip_version != 4)
        continue;
      src_in = natsim_cidr_set_contains_ipv4 (inside, tp.src4);
      dst_in = natsim_cidr_set_contains_ipv4 (inside, tp.dst4);
      if (src_in == dst_in || !natsim_trace_packet_to_nat (&tp, src_in, &pkt))
        continue;
      natsim_nat_process (nat, &pkt, &nr);
      if (src_in && nr.new_binding && nr.verdict == NATSIM_VERDICT_FORWARDED)
        printf ("%s %u %s %u %s %u\n", addr_str (pkt.src_addr, a), pkt.src_port,
                addr_str (nr.ext_addr, e), nr.ext_port, addr_str (pkt.dst_addr, r),
                pkt.dst_port);
    }
  if (res == NATSIM_TRACE_ERROR)
    {
      fprintf (stderr, "natsim-oracle-ports: %s\n", natsim_trace_reader_error (reader)->message);
      return 2;
    }
  return 0;
}
