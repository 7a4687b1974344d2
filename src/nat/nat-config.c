/* natsim: the [nat] keys, the behaviour presets, and config building.
 *
 * Preset values come from docs/reference.md section 3 (Linux netfilter as
 * measured on a real kernel, vendor defaults) and section 2 (the BCP 127
 * requirements for the "rfc" preset).  Where a vendor's behaviour is not
 * documented there, the preset says so in its description.
 */
#include "natsim/error.h"
#include "natsim/nat.h"

static const char *const mapping_choices[] = {
  "endpoint-independent", "address-dependent", "address-port-dependent", NULL
};
static const char *const filtering_choices[] = {
  "endpoint-independent", "address-dependent", "address-port-dependent", NULL
};
static const char *const reuse_choices[] = { "per-destination", "exclusive", NULL };
static const char *const allocation_choices[] = { "preserve", "sequential", "random", NULL };
static const char *const search_choices[] = { "full", "linux", NULL };
static const char *const pooling_choices[] = { "paired", "arbitrary", NULL };
static const char *const refresh_choices[] = { "both", "outbound", NULL };
static const char *const selection_choices[] = {
  "hash", "first-fit", "round-robin", "least-loaded", NULL
};
static const char *const preset_choices[] = {
  "linux", "rfc", "cisco-ios", "cisco-asa", "pf", "juniper-pba", NULL
};

#define DAY (86400.0)

/* Defaults are those of the linux preset, so a scenario without a preset
 * behaves like the NAT most users run. */
const NatsimKeySpec natsim_nat_keys[] = {
  { "preset", NATSIM_KEY_ENUM, "linux",
    "behaviour preset; the keys below override it", 0, 0, preset_choices },
  { "addresses", NATSIM_KEY_ADDRESSES, "203.0.113.1",
    "public addresses: list, range a-b or CIDR", 1, NATSIM_NAT_MAX_ADDRESSES, NULL },
  { "port_range", NATSIM_KEY_PORT_RANGE, "1024-65535",
    "external ports the NAT allocates", 0, 0, NULL },
  { "mapping", NATSIM_KEY_ENUM, "endpoint-independent",
    "when a new binding reuses the inside endpoint's external port (RFC 4787 REQ-1)",
    0, 0, mapping_choices },
  { "filtering", NATSIM_KEY_ENUM, "address-port-dependent",
    "which inbound packets a live mapping accepts (RFC 4787 REQ-8)", 0, 0, filtering_choices },
  { "port_reuse", NATSIM_KEY_ENUM, "per-destination",
    "per-destination: a port is free when the 5-tuple is unused (RFC 7857 port "
    "overlapping); exclusive: one inside endpoint per port (RFC 4787 REQ-3)",
    0, 0, reuse_choices },
  { "allocation", NATSIM_KEY_ENUM, "preserve",
    "preserve the inside source port, or sequential / random choice", 0, 0, allocation_choices },
  { "port_search", NATSIM_KEY_ENUM, "linux",
    "full: search the whole range; linux: random offset, at most 248 probes", 0, 0, search_choices },
  { "pooling", NATSIM_KEY_ENUM, "arbitrary",
    "paired: one public address per inside address (RFC 4787 REQ-2); "
    "arbitrary: chosen per inside and remote address", 0, 0, pooling_choices },
  { "parity", NATSIM_KEY_BOOL, "false",
    "keep the parity of the inside port (RFC 4787 REQ-4; RTP even, RTCP odd)", 0, 0, NULL },
  { "unsolicited_hold", NATSIM_KEY_BOOL, "true",
    "an inbound datagram to an expired mapping holds its port toward that remote (Linux)",
    0, 0, NULL },
  { "udp_timeout", NATSIM_KEY_DURATION, "30s",
    "UDP idle timeout (RFC 4787 REQ-5: at least 2 min)", 0.001, 30 * DAY, NULL },
  { "udp_stream_timeout", NATSIM_KEY_DURATION, "120s",
    "UDP timeout once a reply was seen and the binding is over 2 s old", 0.001, 30 * DAY, NULL },
  { "tcp_established_timeout", NATSIM_KEY_DURATION, "432000s",
    "TCP established idle timeout (RFC 5382 REQ-5: at least 7440 s)", 0.001, 30 * DAY, NULL },
  { "tcp_transitory_timeout", NATSIM_KEY_DURATION, "120s",
    "TCP timeout before establishment and after FIN/RST (RFC 5382: at least 240 s)",
    0.001, 30 * DAY, NULL },
  { "icmp_timeout", NATSIM_KEY_DURATION, "30s",
    "ICMP echo query timeout (RFC 5508: at least 60 s)", 0.001, 30 * DAY, NULL },
  { "refresh", NATSIM_KEY_ENUM, "both",
    "which packets refresh a binding (RFC 4787 REQ-6: outbound must, inbound may)",
    0, 0, refresh_choices },
  { "quarantine", NATSIM_KEY_DURATION, "0s",
    "delay before a freed port goes to another inside endpoint (RFC 6888 REQ-8: 120 s)",
    0, 30 * DAY, NULL },
  { "ports_per_subscriber", NATSIM_KEY_UINT, "0",
    "port block size per inside address; 0 = unlimited (RFC 6888 REQ-4, RFC 7422)",
    0, 65535, NULL },
  { "blocks_per_subscriber", NATSIM_KEY_UINT, "1",
    "port blocks one inside address may hold", 1, 1024, NULL },
  { "sip_alg", NATSIM_KEY_BOOL, "false",
    "SIP ALG enabled (only warned about: RFC 4787 REQ-10, the Webex guidance says disable it)",
    0, 0, NULL },
  { "tombstone", NATSIM_KEY_DURATION, "1h",
    "how long an expired binding is remembered to classify binding losses and rebindings",
    0, 30 * DAY, NULL },
  { "hairpinning", NATSIM_KEY_BOOL, "false",
    "an inside host reaches another through its public address and port (RFC 4787 REQ-9, "
    "RFC 5382 REQ-8); Linux needs explicit rules for it", 0, 0, NULL },
  { "address_selection", NATSIM_KEY_ENUM, "hash",
    "which public address a new binding (or first port block) takes: hash (Linux, no "
    "fall-back), first-fit (Cisco IOS/ASA), round-robin (ASA option), least-loaded "
    "(most free ports or blocks)", 0, 0, selection_choices },
  { "block_timeout", NATSIM_KEY_DURATION, "0s",
    "after a port block has been a subscriber's active block this long, new ports come "
    "from a new block; 0 = never (Juniper active-block-timeout, Fortinet pba-timeout)",
    0, 30 * DAY, NULL },
  { "deterministic", NATSIM_KEY_BOOL, "false",
    "deterministic NAT (RFC 7422, Fortinet fixed-port-range): each of inside_addresses "
    "owns a port range computed from its position; ports_per_subscriber sets its size "
    "(0: the range shared evenly)", 0, 0, NULL },
  { "inside_addresses", NATSIM_KEY_ADDRESSES, "10.0.0.1-10.0.255.255",
    "the subscribers of deterministic NAT, in ascending order (simulated inside hosts are "
    "numbered from 10.0.0.1)", 1, 16777216, NULL },
  { NULL, 0, NULL, NULL, 0, 0, NULL }
};

static const char *const preset_linux[] = {
  "mapping", "endpoint-independent",
  "filtering", "address-port-dependent",
  "port_reuse", "per-destination",
  "allocation", "preserve",
  "port_search", "linux",
  "pooling", "arbitrary",
  "parity", "false",
  "unsolicited_hold", "true",
  "udp_timeout", "30s",
  "udp_stream_timeout", "120s",
  "tcp_established_timeout", "432000s",
  "tcp_transitory_timeout", "120s",
  "icmp_timeout", "30s",
  "refresh", "both",
  "quarantine", "0s",
  "ports_per_subscriber", "0",
  "blocks_per_subscriber", "1",
  "hairpinning", "false",
  "address_selection", "hash",
  "block_timeout", "0s",
  "deterministic", "false",
  NULL
};

/* BCP 127 as written: EIM (RFC 4787 REQ-1), address-dependent filtering
 * (REQ-8), no port overloading (REQ-3), parity (REQ-4), UDP 5 min (REQ-5c),
 * TCP 7440 s / 240 s (RFC 5382 REQ-5), ICMP 60 s (RFC 5508), outbound
 * refresh (REQ-6), 120 s quarantine (RFC 6888 REQ-8), paired pooling. */
static const char *const preset_rfc[] = {
  "mapping", "endpoint-independent",
  "filtering", "address-dependent",
  "port_reuse", "exclusive",
  "allocation", "preserve",
  "port_search", "full",
  "pooling", "paired",
  "parity", "true",
  "unsolicited_hold", "false",
  "udp_timeout", "300s",
  "udp_stream_timeout", "300s",
  "tcp_established_timeout", "7440s",
  "tcp_transitory_timeout", "240s",
  "icmp_timeout", "60s",
  "refresh", "outbound",
  "quarantine", "120s",
  "ports_per_subscriber", "0",
  "blocks_per_subscriber", "1",
  "hairpinning", "true",
  "address_selection", "hash",
  "block_timeout", "0s",
  "deterministic", "false",
  NULL
};

/* Cisco IOS NAT overload: UDP 300 s, TCP 86400 s, finrst 60 s, ICMP 60 s. */
static const char *const preset_cisco_ios[] = {
  "mapping", "endpoint-independent",
  "filtering", "address-port-dependent",
  "port_reuse", "exclusive",
  "allocation", "preserve",
  "port_search", "full",
  "pooling", "paired",
  "parity", "true",
  "unsolicited_hold", "false",
  "udp_timeout", "300s",
  "udp_stream_timeout", "300s",
  "tcp_established_timeout", "86400s",
  "tcp_transitory_timeout", "60s",
  "icmp_timeout", "60s",
  "refresh", "both",
  "quarantine", "0s",
  "ports_per_subscriber", "0",
  "blocks_per_subscriber", "1",
  "hairpinning", "false",
  "address_selection", "first-fit",
  "block_timeout", "0s",
  "deterministic", "false",
  NULL
};

/* Cisco ASA / FTD: UDP 120 s, conn 3600 s; PAT xlates are freed when the
 * connection closes, which the binding lifetime models. */
static const char *const preset_cisco_asa[] = {
  "mapping", "endpoint-independent",
  "filtering", "address-port-dependent",
  "port_reuse", "exclusive",
  "allocation", "random",
  "port_search", "full",
  "pooling", "paired",
  "parity", "false",
  "unsolicited_hold", "false",
  "udp_timeout", "120s",
  "udp_stream_timeout", "120s",
  "tcp_established_timeout", "3600s",
  "tcp_transitory_timeout", "30s",
  "icmp_timeout", "2s",
  "refresh", "both",
  "quarantine", "0s",
  "ports_per_subscriber", "0",
  "blocks_per_subscriber", "1",
  "hairpinning", "false",
  "address_selection", "first-fit",
  "block_timeout", "0s",
  "deterministic", "false",
  NULL
};

/* pf / pfSense: udp.first 60 s, udp.single 30 s, udp.multiple 60 s, TCP
 * established 86400 s, NAT source ports 50001-65535 chosen at random. */
static const char *const preset_pf[] = {
  "port_range", "50001-65535",
  "mapping", "address-port-dependent",
  "filtering", "address-port-dependent",
  "port_reuse", "per-destination",
  "allocation", "random",
  "port_search", "full",
  "pooling", "paired",
  "parity", "false",
  "unsolicited_hold", "false",
  "udp_timeout", "60s",
  "udp_stream_timeout", "60s",
  "tcp_established_timeout", "86400s",
  "tcp_transitory_timeout", "30s",
  "icmp_timeout", "20s",
  "refresh", "both",
  "quarantine", "0s",
  "ports_per_subscriber", "0",
  "blocks_per_subscriber", "1",
  "hairpinning", "false",
  "address_selection", "hash",
  "block_timeout", "0s",
  "deterministic", "false",
  NULL
};

/* Juniper MX port block allocation: blocks of 128 ports, at most 8 per
 * subscriber, no parity, paired pooling. */
static const char *const preset_juniper_pba[] = {
  "mapping", "endpoint-independent",
  "filtering", "address-port-dependent",
  "port_reuse", "exclusive",
  "allocation", "sequential",
  "port_search", "full",
  "pooling", "paired",
  "parity", "false",
  "unsolicited_hold", "false",
  "udp_timeout", "60s",
  "udp_stream_timeout", "60s",
  "tcp_established_timeout", "1800s",
  "tcp_transitory_timeout", "240s",
  "icmp_timeout", "60s",
  "refresh", "both",
  "quarantine", "0s",
  "ports_per_subscriber", "128",
  "blocks_per_subscriber", "8",
  "hairpinning", "true",
  "address_selection", "least-loaded",
  "block_timeout", "0s",
  "deterministic", "false",
  NULL
};

const NatsimNatPreset natsim_nat_presets[] = {
  { "linux",
    "Linux netfilter masquerade/SNAT (nf_nat_core.c): port preservation, reuse of the "
    "source's mapping, then at most 248 random probes; port overlapping per destination; "
    "UDP 30 s / stream 120 s, TCP established 432000 s; both directions refresh; an "
    "inbound datagram to an expired mapping holds its port. The address of a binding is "
    "chosen by a hash of inside and remote address, not the kernel's jhash, so compare "
    "counts, not which address or port",
    preset_linux },
  { "rfc", "BCP 127 as written (RFC 4787, 5382, 5508, 6888): EIM, address-dependent "
    "filtering, no port overloading, parity, UDP 300 s, TCP 7440 s, 120 s quarantine",
    preset_rfc },
  { "cisco-ios", "Cisco IOS NAT overload defaults: UDP 300 s, TCP 86400 s, finrst 60 s, ICMP 60 s; "
    "first-fit: the next pool address only when the first has no free port",
    preset_cisco_ios },
  { "cisco-asa", "Cisco ASA / FTD PAT defaults: UDP 120 s, conn 3600 s, random ports; first-fit "
    "across a PAT pool (address_selection = round-robin for the round-robin option)",
    preset_cisco_asa },
  { "pf", "pf / pfSense: ports 50001-65535 at random, symmetric mapping, UDP 60 s, TCP 86400 s",
    preset_pf },
  { "juniper-pba", "Juniper MX port block allocation: 128-port blocks, at most 8 per "
    "subscriber, no parity; Junos default inactivity timeouts UDP 60 s, TCP 1800 s; a "
    "subscriber's block on the address with the most free blocks",
    preset_juniper_pba },
  { NULL, NULL, NULL }
};

const NatsimNatPreset *
natsim_nat_preset_lookup (const char *name)
{
  for (const NatsimNatPreset *p = natsim_nat_presets; p->name != NULL; p++)
    if (g_strcmp0 (p->name, name) == 0)
      return p;
  return NULL;
}

gboolean
natsim_nat_config_from_params (const NatsimParams *p, NatsimNatConfig *ret,
                               GError **error)
{
  NatsimNatConfig cfg = { 0 };
  g_autoptr (GArray) addrs = natsim_params_get_addresses (p, "addresses");
  guint64 range;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (addrs->len == 0)
    {
      natsim_set_key_error (error, "addresses", "at least one public address is needed");
      return FALSE;
    }
  natsim_params_get_port_range (p, "port_range", &cfg.port_lo, &cfg.port_hi);
  cfg.mapping = natsim_params_get_enum (p, "mapping");
  cfg.filtering = natsim_params_get_enum (p, "filtering");
  cfg.port_reuse = natsim_params_get_enum (p, "port_reuse");
  cfg.allocation = natsim_params_get_enum (p, "allocation");
  cfg.port_search = natsim_params_get_enum (p, "port_search");
  cfg.pooling = natsim_params_get_enum (p, "pooling");
  cfg.parity = natsim_params_get_bool (p, "parity");
  cfg.unsolicited_hold = natsim_params_get_bool (p, "unsolicited_hold");
  cfg.udp_timeout = natsim_params_get_duration (p, "udp_timeout");
  cfg.udp_stream_timeout = natsim_params_get_duration (p, "udp_stream_timeout");
  cfg.tcp_established_timeout = natsim_params_get_duration (p, "tcp_established_timeout");
  cfg.tcp_transitory_timeout = natsim_params_get_duration (p, "tcp_transitory_timeout");
  cfg.icmp_timeout = natsim_params_get_duration (p, "icmp_timeout");
  cfg.refresh = natsim_params_get_enum (p, "refresh");
  cfg.quarantine = natsim_params_get_duration (p, "quarantine");
  cfg.ports_per_subscriber = (uint32_t) natsim_params_get_uint (p, "ports_per_subscriber");
  cfg.blocks_per_subscriber = (uint32_t) natsim_params_get_uint (p, "blocks_per_subscriber");
  cfg.sip_alg = natsim_params_get_bool (p, "sip_alg");
  cfg.tombstone = natsim_params_get_duration (p, "tombstone");
  cfg.hairpinning = natsim_params_get_bool (p, "hairpinning");
  cfg.address_selection = natsim_params_get_enum (p, "address_selection");
  cfg.block_timeout = natsim_params_get_duration (p, "block_timeout");
  cfg.deterministic = natsim_params_get_bool (p, "deterministic");

  range = (guint64) cfg.port_hi - cfg.port_lo + 1;
  if (cfg.ports_per_subscriber > range)
    {
      natsim_set_key_error (error, "ports_per_subscriber",
                            "a block of %u ports does not fit in "
                            "port_range %u-%u (%" G_GUINT64_FORMAT " ports)",
                   cfg.ports_per_subscriber, cfg.port_lo, cfg.port_hi, range);
      return FALSE;
    }
  if (cfg.parity && range < 2)
    {
      natsim_set_key_error (error, "parity",
                            "port_range %u-%u has a single port, parity cannot be kept",
                   cfg.port_lo, cfg.port_hi);
      return FALSE;
    }
  cfg.n_addresses = addrs->len;
  if (cfg.deterministic)
    {
      g_autoptr (GArray) inside = natsim_params_get_addresses (p, "inside_addresses");
      NatsimDeterministicPlan plan;

      cfg.n_inside = inside->len;
      cfg.inside_addresses = (uint32_t *) g_array_steal (inside, NULL);
      if (!natsim_nat_deterministic_plan (&cfg, &plan))
        {
          if (plan.ports == 0)
            natsim_set_key_error (error, "deterministic",
                         "%" G_GUINT64_FORMAT " inside_addresses on %u "
                         "public addresses leave less than one port each (port_range "
                         "%u-%u has %" G_GUINT64_FORMAT " ports per address)",
                         plan.subscribers, cfg.n_addresses, cfg.port_lo, cfg.port_hi,
                         plan.range);
          else
            natsim_set_key_error (error, "deterministic",
                         "%" G_GUINT64_FORMAT " inside_addresses need %"
                         G_GUINT64_FORMAT " public addresses at %" G_GUINT64_FORMAT
                         " ports each (%" G_GUINT64_FORMAT " subscribers per address), "
                         "addresses has %u",
                         plan.subscribers, plan.addresses_needed, plan.ports,
                         plan.per_address, cfg.n_addresses);
          g_free (cfg.inside_addresses);
          return FALSE;
        }
    }
  cfg.addresses = (uint32_t *) g_array_steal (addrs, NULL);
  *ret = cfg;
  return TRUE;
}

gboolean
natsim_nat_deterministic_plan (const NatsimNatConfig *cfg, NatsimDeterministicPlan *ret)
{
  NatsimDeterministicPlan d = { 0 };
  guint64 n_addr = MAX (cfg->n_addresses, 1u);

  d.subscribers = cfg->n_inside;
  d.range = (guint64) cfg->port_hi - cfg->port_lo + 1;
  if (cfg->ports_per_subscriber > 0)
    d.ports = cfg->ports_per_subscriber;
  else
    {
      /* The range shared evenly by the subscribers of one address. */
      guint64 per = (d.subscribers + n_addr - 1) / n_addr;
      d.ports = per > 0 ? d.range / per : d.range;
    }
  d.per_address = d.ports > 0 ? d.range / d.ports : d.range;
  d.capacity = d.per_address * cfg->n_addresses;
  d.addresses_needed = d.per_address > 0 ? (d.subscribers + d.per_address - 1) / d.per_address : 0;
  *ret = d;
  return d.ports > 0 && d.ports <= d.range && d.subscribers <= d.capacity;
}

const char *
natsim_alloc_failure_name (NatsimAllocFailure cause)
{
  static const char *const names[NATSIM_FAIL_N] = {
    [NATSIM_FAIL_NO_FREE_PORT] = "no_free_port",
    [NATSIM_FAIL_NO_FREE_BLOCK] = "no_free_block",
    [NATSIM_FAIL_SUBSCRIBER_BLOCK_LIMIT] = "subscriber_block_limit",
    [NATSIM_FAIL_SUBSCRIBER_PORT_LIMIT] = "subscriber_port_limit",
  };

  return (guint) cause < NATSIM_FAIL_N ? names[cause] : "unknown";
}

void
natsim_nat_config_clear (NatsimNatConfig *cfg)
{
  if (cfg == NULL)
    return;
  g_clear_pointer (&cfg->addresses, g_free);
  cfg->n_addresses = 0;
  g_clear_pointer (&cfg->forwards, g_free);
  cfg->n_forwards = 0;
  g_clear_pointer (&cfg->inside_addresses, g_free);
  cfg->n_inside = 0;
}

static const char *
selection_text (NatsimAddressSelection sel)
{
  switch (sel)
    {
    case NATSIM_SELECT_FIRST_FIT: return "first-fit: the lowest address that can serve a flow";
    case NATSIM_SELECT_ROUND_ROBIN: return "round-robin: new hosts in turn, fall-back to the next";
    case NATSIM_SELECT_LEAST_LOADED: return "least-loaded: the address with the most free ports or blocks";
    default: return "hash: one address per host (and remote), no fall-back";
    }
}

char *
natsim_nat_config_describe (const NatsimNatConfig *cfg)
{
  GString *out = g_string_new (NULL);
  guint64 range = (guint64) cfg->port_hi - cfg->port_lo + 1;
  guint n = cfg->n_addresses;

  g_string_append_printf (out, "ports per address        %" G_GUINT64_FORMAT
                               " (port_range %u-%u)\n", range, cfg->port_lo, cfg->port_hi);
  g_string_append_printf (out, "ports in the pool        %" G_GUINT64_FORMAT " = %"
                               G_GUINT64_FORMAT " x %u address%s\n",
                          range * n, range, n, n == 1 ? "" : "es");
  if (cfg->deterministic)
    {
      NatsimDeterministicPlan d;
      gboolean fits = natsim_nat_deterministic_plan (cfg, &d);

      g_string_append (out, "deterministic NAT (RFC 7422): no allocation state, nothing to log\n");
      g_string_append_printf (out, "subscribers              %" G_GUINT64_FORMAT
                                   " (inside_addresses)\n", d.subscribers);
      if (cfg->ports_per_subscriber > 0)
        g_string_append_printf (out, "ports per subscriber     %" G_GUINT64_FORMAT
                                     " (ports_per_subscriber)\n", d.ports);
      else
        g_string_append_printf (out, "ports per subscriber     %" G_GUINT64_FORMAT " = floor(%"
                                     G_GUINT64_FORMAT " / ceil(%" G_GUINT64_FORMAT " / %u))\n",
                                d.ports, d.range, d.subscribers, n);
      g_string_append_printf (out, "subscribers per address  %" G_GUINT64_FORMAT " = floor(%"
                                   G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT ")\n",
                              d.per_address, d.range, d.ports);
      g_string_append_printf (out, "capacity                 %" G_GUINT64_FORMAT " = %"
                                   G_GUINT64_FORMAT " x %u address%s%s\n",
                              d.capacity, d.per_address, n, n == 1 ? "" : "es",
                              fits ? "" : " (too few)");
      g_string_append_printf (out, "addresses needed         %" G_GUINT64_FORMAT " = ceil(%"
                                   G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT ")\n",
                              d.addresses_needed, d.subscribers, d.per_address);
      g_string_append_printf (out, "subscriber i             address i / %" G_GUINT64_FORMAT
                                   ", ports %u + (i mod %" G_GUINT64_FORMAT ") x %"
                                   G_GUINT64_FORMAT " .. + %" G_GUINT64_FORMAT "\n",
                              d.per_address, cfg->port_lo, d.per_address, d.ports,
                              d.ports > 0 ? d.ports - 1 : 0);
      return g_string_free (out, FALSE);
    }
  g_string_append_printf (out, "address selection        %s\n",
                          selection_text (cfg->address_selection));
  if (cfg->ports_per_subscriber > 0)
    {
      guint64 blocks = range / cfg->ports_per_subscriber;
      guint per_sub = MAX (cfg->blocks_per_subscriber, 1u);

      g_string_append_printf (out, "blocks per address       %" G_GUINT64_FORMAT " = floor(%"
                                   G_GUINT64_FORMAT " / %u)\n",
                              blocks, range, cfg->ports_per_subscriber);
      g_string_append_printf (out, "blocks in the pool       %" G_GUINT64_FORMAT " = %"
                                   G_GUINT64_FORMAT " x %u: at most that many subscribers "
                                   "hold a block at once\n", blocks * n, blocks, n);
      g_string_append_printf (out, "ports per subscriber     at most %" G_GUINT64_FORMAT
                                   " = %u block%s x %u\n",
                              (guint64) per_sub * cfg->ports_per_subscriber, per_sub,
                              per_sub == 1 ? "" : "s", cfg->ports_per_subscriber);
      if (cfg->block_timeout > 0)
        g_string_append_printf (out, "active block timeout     %g s: then new ports come from "
                                     "a new block\n", natsim_time_to_sec (cfg->block_timeout));
    }
  return g_string_free (out, FALSE);
}
