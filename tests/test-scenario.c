/* Tests of src/scenario: loading from memory and from files, the table of
 * broken scenarios in tests/data/bad-scenarios/ with the message each must
 * give (file, line, group, key, what was expected), --set overrides and
 * preset re-resolution, the JSON echo of the configuration and deep
 * copies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "natsim/error.h"
#include "natsim/report.h"
#include "natsim/scenario.h"

static void
assert_contains (const char *haystack, const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    fail_msg ("'%s' lacks '%s'", haystack, needle);
}

static void
assert_invalid (GError *error, const char *needle)
{
  assert_non_null (error);
  if (!g_error_matches (error, NATSIM_ERROR, NATSIM_ERROR_INVALID_INPUT))
    fail_msg ("unexpected error kind: %s", error->message);
  /* One line. */
  assert_null (strchr (error->message, '\n'));
  assert_contains (error->message, needle);
}

static char *
data_path (const char *dir, const char *file)
{
  const char *data = g_getenv ("NATSIM_DATA");

  assert_non_null (data);
  return g_build_filename (data, dir, file, NULL);
}

static NatsimScenario *
load_string (const char *text)
{
  g_autoptr (GError) error = NULL;
  NatsimScenario *s = natsim_scenario_load_data (text, strlen (text),
                                                 "test.ini", &error);

  if (s == NULL)
    fail_msg ("scenario refused: %s", error->message);
  return s;
}

static void
load_string_fails (const char *text, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = natsim_scenario_load_data (text, strlen (text),
                                                            "test.ini", &error);

  if (s != NULL)
    fail_msg ("scenario accepted, expected '%s'", needle);
  assert_invalid (error, needle);
}

static const char *const design_example =
  "[simulation]\n"
  "duration = 1h\n"
  "warmup = 5m\n"
  "seed = 1\n"
  "replications = 10\n"
  "\n"
  "[nat]\n"
  "preset = linux            # linux | rfc | cisco-ios ; keys below override\n"
  "addresses = 203.0.113.1-203.0.113.4     # list, range or CIDR\n"
  "port_range = 1024-65535\n"
  "mapping = endpoint-independent          # | address-dependent\n"
  "filtering = address-port-dependent\n"
  "port_reuse = per-destination\n"
  "allocation = preserve                   # | sequential | random\n"
  "pooling = paired                        # | arbitrary\n"
  "parity = true\n"
  "udp_timeout = 30s\n"
  "udp_stream_timeout = 120s               # after a reply\n"
  "tcp_established_timeout = 7440s\n"
  "tcp_transitory_timeout = 240s\n"
  "refresh = both                          # | outbound\n"
  "quarantine = 0s                         # RFC 6888 REQ-8\n"
  "ports_per_subscriber = 0                # 0 = unlimited\n"
  "sip_alg = false\n"
  "\n"
  "[population flows]\n"
  "profile = generic                       # textbook traffic\n"
  "flows_per_second = 50\n"
  "packets_per_flow = 1\n"
  "packet_interval = 1s\n"
  "protocol = udp\n"
  "destinations = 203.0.113.100:5000       # or a count\n"
  "\n"
  "[population probes]\n"
  "profile = generic\n"
  "count = 3\n"
  "inbound_probes = 4s, 7s, 1m\n";

/* ---------------------------------------------------------------------- */
/* Good scenarios */

static void
test_load_minimal (void **state)
{
  g_autoptr (NatsimScenario) s = load_string ("[population flows]\n"
                                              "profile = generic\n");
  const NatsimPopulationSpec *p;

  assert_string_equal (s->path, "test.ini");
  /* Defaults everywhere; [nat] from the linux preset. */
  assert_string_equal (natsim_params_get (s->simulation, "duration"), "1h");
  assert_string_equal (natsim_params_origin (s->simulation, "duration"),
                       "default");
  assert_string_equal (natsim_params_get (s->nat, "preset"), "linux");
  assert_string_equal (natsim_params_origin (s->nat, "preset"), "default");
  assert_string_equal (natsim_params_get (s->nat, "udp_timeout"), "30s");
  assert_string_equal (natsim_params_origin (s->nat, "udp_timeout"),
                       "preset linux");
  assert_string_equal (natsim_params_origin (s->nat, "sip_alg"), "default");
  assert_int_equal (s->populations->len, 1);
  p = s->populations->pdata[0];
  assert_string_equal (p->name, "flows");
  assert_string_equal (p->profile->name, "generic");
  assert_string_equal (p->origin, "test.ini:1");
  assert_ptr_equal (natsim_scenario_find_population (s, "flows"), p);
  assert_null (natsim_scenario_find_population (s, "flow"));
}

static void
test_load_design_example (void **state)
{
  g_autoptr (NatsimScenario) s = load_string (design_example);
  const NatsimPopulationSpec *p;
  g_autoptr (GArray) probes = NULL;

  assert_string_equal (natsim_params_get (s->simulation, "warmup"), "5m");
  assert_string_equal (natsim_params_origin (s->simulation, "warmup"),
                       "test.ini:3");
  assert_int_equal (natsim_params_get_uint (s->simulation, "replications"), 10);
  /* Inline comments are gone from the values. */
  assert_string_equal (natsim_params_get (s->nat, "preset"), "linux");
  assert_string_equal (natsim_params_get (s->nat, "addresses"),
                       "203.0.113.1-203.0.113.4");
  assert_string_equal (natsim_params_origin (s->nat, "addresses"),
                       "test.ini:9");
  assert_string_equal (natsim_params_get (s->nat, "pooling"), "paired");
  assert_string_equal (natsim_params_get (s->nat, "tcp_established_timeout"),
                       "7440s");
  assert_int_equal (s->populations->len, 2);
  p = s->populations->pdata[0];
  assert_string_equal (p->name, "flows");
  assert_string_equal (natsim_params_get (p->params, "destinations"),
                       "203.0.113.100:5000");
  assert_string_equal (natsim_params_origin (p->params, "flows_per_second"),
                       "test.ini:28");
  p = s->populations->pdata[1];
  assert_string_equal (p->name, "probes");
  assert_string_equal (p->origin, "test.ini:34");
  probes = natsim_params_get_duration_list (p->params, "inbound_probes");
  assert_int_equal (probes->len, 3);
}

static void
test_load_text_forms (void **state)
{
  g_autoptr (GError) error = NULL;
  NatsimScenario *s;
  const char *nul_terminated = "[population a]\nprofile = generic\n";

  /* CRLF line ends, a byte order mark, blanks around everything, a
   * header with spaces and a trailing comment, no final newline. */
  s = load_string ("\xef\xbb\xbf[ simulation ]  # run\r\n"
                   "  duration=2m  \r\n"
                   "\t; comment\r\n"
                   "[population   a-b_c]\r\n"
                   "profile\t=\tgeneric\r\n"
                   "count = 5");
  assert_string_equal (natsim_params_get (s->simulation, "duration"), "2m");
  assert_string_equal (natsim_params_origin (s->simulation, "duration"),
                       "test.ini:2");
  assert_string_equal (((NatsimPopulationSpec *) s->populations->pdata[0])->name,
                       "a-b_c");
  natsim_scenario_free (s);

  /* (gsize) -1: NUL-terminated. */
  s = natsim_scenario_load_data (nul_terminated, (gsize) -1, "x.ini", &error);
  assert_non_null (s);
  natsim_scenario_free (s);
  natsim_scenario_free (NULL);
}

static void
test_load_errors_inline (void **state)
{
  load_string_fails ("[population a]\nprofile = generic\n"
                     "[simulation]\nduration = 10m\nwarmup = 1h\n",
                     "test.ini:5: [simulation] warmup: expected a duration "
                     "shorter than duration (10m), got '1h'");
  load_string_fails ("[population a]\nprofile = generic\ncolor = red\n",
                     "test.ini:3: [population a] color: unknown key; expected "
                     "one of count, flows,");
  load_string_fails ("[Simulation]\n", "test.ini:1: [Simulation]: unknown "
                     "group; did you mean [simulation]?");
  load_string_fails ("[population]\nprofile = generic\n",
                     "test.ini:1: [population]: expected [population NAME]");
  load_string_fails ("[stats]\n", "test.ini:1: [stats]: unknown group; "
                     "expected [simulation], [nat] or [population NAME]");
  load_string_fails ("[nat] x\n", "test.ini:1: expected only a comment after "
                     "the group header, got '[nat] x'");
  load_string_fails ("[nat]\nudp timeout = 5s\n",
                     "test.ini:2: [nat] udp timeout: expected a key name");
  load_string_fails ("[nat]\n= 5s\n", "test.ini:2: expected key = value, "
                     "got '= 5s'");
  load_string_fails ("[nat]\nudp_timeout = 5s\x01\n",
                     "test.ini:2: not a scenario file");
  load_string_fails ("[population a]\nprofile = generic\n"
                     "destinations = 1.2.3.4:5, 1.2.3.4:5\n",
                     "test.ini:3: [population a] destinations: expected "
                     "distinct endpoints, got 1.2.3.4:5 more than once");
}

/* ---------------------------------------------------------------------- */
/* The table of broken files */

typedef struct
{
  const char *file;
  const char *needle;  /* NULL: the file must load */
  const char *needle2; /* also expected, or NULL */
} BadCase;

static const BadCase bad_cases[] = {
  { "unknown-group.ini",
    "unknown-group.ini:4: [natt]: unknown group; did you mean [nat]?", NULL },
  { "unknown-group-population.ini",
    "unknown-group-population.ini:2: [populaton phones]: unknown group; did "
    "you mean [population phones]?", NULL },
  { "unknown-key.ini",
    "unknown-key.ini:7: [population flows] flows_per_secnd: unknown key; did "
    "you mean flows_per_second?", NULL },
  { "bad-duration.ini",
    "bad-duration.ini:3: [nat] udp_timeout: expected a duration such as "
    "250ms, 30s, 2m or 1h30m, got '30 sec'", NULL },
  { "port-range.ini",
    "port-range.ini:2: [nat] port_range: expected a port range such as "
    "1024-65535 or a single port, with 1 <= LOW <= HIGH <= 65535, got "
    "'0-70000'", NULL },
  { "zero-addresses.ini",
    "zero-addresses.ini:2: [nat] addresses: expected at least one address", 
    "got ''" },
  { "huge-address-pool.ini",
    "huge-address-pool.ini:2: [nat] addresses: expected at most 1024 "
    "addresses, got 4294967296 in '0.0.0.0/0'", NULL },
  { "negative-duration.ini",
    "negative-duration.ini:3: [simulation] warmup: expected a non-negative "
    "duration such as 250ms, 30s, 2m or 1h30m, got '-5m'", NULL },
  { "replications-zero.ini",
    "replications-zero.ini:2: [simulation] replications: expected a whole "
    "number between 1 and 10000, got '0'", NULL },
  { "absurd-count.ini",
    "absurd-count.ini:6: [population big] count: expected a whole number "
    "between 1 and ", "got '99999999999'" },
  { "warmup-ge-duration.ini",
    "warmup-ge-duration.ini:3: [simulation] warmup: expected a duration "
    "shorter than duration (10m), got '10m'", NULL },
  { "missing-profile.ini",
    "missing-profile.ini:4: [population phones] profile: required key "
    "missing; expected one of generic", NULL },
  { "unknown-profile.ini",
    "unknown-profile.ini:2: [population phones] profile: expected one of ",
    "got 'generik'; did you mean generic?" },
  { "duplicate-key.ini",
    "duplicate-key.ini:4: [nat] udp_timeout: duplicate key, first at line 3",
    NULL },
  { "duplicate-group.ini",
    "duplicate-group.ini:7: [nat]: duplicate group, first at line 1", NULL },
  { "duplicate-population.ini",
    "duplicate-population.ini:4: [population flows]: duplicate group, first "
    "at line 1", NULL },
  { "binary.ini",
    "binary.ini:1: not a scenario file: expected UTF-8 text", NULL },
  { "empty.ini",
    "empty.ini: empty scenario: expected [simulation], [nat] and at least "
    "one [population NAME] group", NULL },
  { "comments-only.ini", "comments-only.ini: empty scenario", NULL },
  { "unknown-preset.ini",
    "unknown-preset.ini:2: [nat] preset: expected one of linux, rfc, "
    "cisco-ios, cisco-asa, pf or juniper-pba, got 'openbsd'", NULL },
  { "no-population.ini",
    "no-population.ini: expected at least one [population NAME] group", NULL },
  { "not-keyfile.ini",
    "not-keyfile.ini:2: expected [group], key = value or a # comment, got "
    "'hello world'", NULL },
  { "key-before-group.ini",
    "key-before-group.ini:1: duration: expected a [group] header before the "
    "first key", NULL },
  { "bad-group-header.ini",
    "bad-group-header.ini:3: expected a group header such as [nat] or "
    "[population NAME]", "got '[nat'" },
  { "population-two-names.ini",
    "population-two-names.ini:1: [population desk phones]: expected "
    "[population NAME] with one NAME", NULL },
  { "timeline-too-fine.ini",
    "timeline-too-fine.ini:3: [simulation] timeline_interval: expected at "
    "most 1000000 timeline points over duration 30d, got 2592000000 with "
    "'1ms'", NULL },
  { "nat-block-too-large.ini",
    "nat-block-too-large.ini:3: [nat] ports_per_subscriber: a block of 2000 "
    "ports does not fit", NULL },
  { "profile-cross-check.ini",
    "profile-cross-check.ini:4: [population flows] flows_per_second: must be "
    "above 0", NULL },
  { "too-many-hosts.ini",
    "too-many-hosts.ini:69: [population p16] count: the populations need "
    "17000000 inside addresses up to this one, more than the 16777214 of "
    "10.0.0.0/8", NULL },
  { "hash-in-value.ini",
    "hash-in-value.ini:2: [simulation] warmup: expected a duration such as "
    "250ms, 30s, 2m or 1h30m, got '1m#5s'", NULL },
  { "ok-inline-comments.ini", NULL, NULL },
};

static void
test_bad_scenarios (void **state)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      const BadCase *c = &bad_cases[i];
      g_autofree char *path = data_path ("bad-scenarios", c->file);
      g_autoptr (GError) error = NULL;
      g_autoptr (NatsimScenario) s = natsim_scenario_load (path, &error);

      if (c->needle == NULL)
        {
          if (s == NULL)
            fail_msg ("%s refused: %s", c->file, error->message);
          continue;
        }
      if (s != NULL)
        fail_msg ("%s accepted", c->file);
      /* Every message starts with the path as given. */
      if (!g_str_has_prefix (error->message, path))
        fail_msg ("%s: '%s' does not start with the path", c->file,
                  error->message);
      assert_invalid (error, c->needle);
      if (c->needle2 != NULL)
        assert_contains (error->message, c->needle2);
    }
}

static void
test_load_file_inline_comments (void **state)
{
  g_autofree char *path = data_path ("bad-scenarios", "ok-inline-comments.ini");
  g_autofree char *origin = g_strconcat (path, ":5", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = natsim_scenario_load (path, &error);
  const NatsimPopulationSpec *p;

  assert_non_null (s);
  assert_string_equal (s->path, path);
  assert_string_equal (natsim_params_get (s->simulation, "duration"), "20m");
  assert_string_equal (natsim_params_origin (s->simulation, "duration"), origin);
  assert_string_equal (natsim_params_get (s->simulation, "seed"), "7");
  assert_string_equal (natsim_params_get (s->nat, "preset"), "rfc");
  assert_string_equal (natsim_params_get (s->nat, "addresses"),
                       "203.0.113.1-203.0.113.4");
  assert_string_equal (natsim_params_get (s->nat, "udp_timeout"), "45s");
  assert_string_equal (natsim_params_get (s->nat, "quarantine"), "120s");
  assert_string_equal (natsim_params_origin (s->nat, "quarantine"),
                       "preset rfc");
  p = s->populations->pdata[0];
  assert_string_equal (p->profile->name, "generic");
  assert_string_equal (natsim_params_get (p->params, "count"), "20");
  assert_string_equal (natsim_params_get (p->params, "destinations"),
                       "203.0.113.100:5000, 198.51.100.7:53");
}

static void
test_load_file_errors (void **state)
{
  g_autofree char *missing = data_path ("bad-scenarios", "no-such-file.ini");
  g_autofree char *dir = data_path ("bad-scenarios", "");
  g_autoptr (GError) error = NULL;
  NatsimScenario *s;

  s = natsim_scenario_load (missing, &error);
  assert_null (s);
  assert_invalid (error, "no-such-file.ini: cannot open the scenario: ");
  g_clear_error (&error);

  s = natsim_scenario_load (dir, &error);
  assert_null (s);
  assert_invalid (error, "expected a scenario file, got a directory");
}

/* ---------------------------------------------------------------------- */
/* --set */

static void
set_ok (NatsimScenario *s, const char *assignment)
{
  g_autoptr (GError) error = NULL;

  if (!natsim_scenario_set (s, assignment, &error))
    fail_msg ("--set %s refused: %s", assignment, error->message);
}

static void
set_fails (NatsimScenario *s, const char *assignment, const char *needle)
{
  g_autoptr (GError) error = NULL;

  if (natsim_scenario_set (s, assignment, &error))
    fail_msg ("--set %s accepted", assignment);
  assert_invalid (error, needle);
}

static void
test_set (void **state)
{
  g_autoptr (NatsimScenario) s = load_string (design_example);
  g_autoptr (GError) error = NULL;
  NatsimPopulationSpec *flows = natsim_scenario_find_population (s, "flows");

  set_ok (s, "nat.udp_timeout=10s");
  assert_string_equal (natsim_params_get (s->nat, "udp_timeout"), "10s");
  assert_string_equal (natsim_params_origin (s->nat, "udp_timeout"), "--set");
  set_ok (s, "simulation.seed=3");
  assert_int_equal (natsim_params_get_uint (s->simulation, "seed"), 3);
  set_ok (s, " population.flows.count = 5000 ");
  assert_string_equal (natsim_params_get (flows->params, "count"), "5000");
  assert_string_equal (natsim_params_origin (flows->params, "count"), "--set");
  assert_true (natsim_scenario_validate (s, NULL));

  set_fails (s, "nat.udp_timeout=abc",
             "--set nat.udp_timeout=abc: expected a duration such as 250ms, "
             "30s, 2m or 1h30m, got 'abc'");
  assert_string_equal (natsim_params_get (s->nat, "udp_timeout"), "10s");
  set_fails (s, "nat.udp_timout=30s",
             "--set nat.udp_timout=30s: unknown key; did you mean udp_timeout?");
  set_fails (s, "simulation.sed=3",
             "--set simulation.sed=3: unknown key; did you mean seed?");
  set_fails (s, "simulation.replications=0",
             "--set simulation.replications=0: expected a whole number "
             "between 1 and 10000, got '0'");
  set_fails (s, "population.flow.count=1",
             "--set population.flow.count=1: no population 'flow'; expected "
             "one of flows, probes (did you mean flows?)");
  set_fails (s, "population.phones.count=1",
             "no population 'phones'; expected one of flows, probes");
  set_fails (s, "population.flows.profile=generic",
             "the profile of a population cannot be overridden");
  set_fails (s, "population.flows.cont=5",
             "--set population.flows.cont=5: unknown key; did you mean count?");
  set_fails (s, "population.flows=5", "expected GROUP.KEY=VALUE");
  set_fails (s, "natt.udp_timeout=30s",
             "--set natt.udp_timeout=30s: unknown group 'natt'; did you mean nat?");
  set_fails (s, "foo.bar=1", "unknown group 'foo'; expected simulation, nat "
                             "or population.NAME");
  set_fails (s, "udp_timeout=30s", "--set udp_timeout=30s: expected "
                                   "GROUP.KEY=VALUE");
  set_fails (s, "nat.udp_timeout", "expected GROUP.KEY=VALUE");
  set_fails (s, "nat.=5", "expected GROUP.KEY=VALUE");
  set_fails (s, "nat.udp_timeout=30s\nx", "without control characters");
  set_fails (s, "nat.preset=bogus",
             "--set nat.preset=bogus: expected one of linux, rfc, cisco-ios, "
             "cisco-asa, pf or juniper-pba, got 'bogus'");
  assert_string_equal (natsim_params_get (s->nat, "preset"), "linux");

  /* Cross-key checks wait for validate(), which names the override. */
  set_ok (s, "simulation.warmup=2h");
  assert_false (natsim_scenario_validate (s, &error));
  assert_invalid (error, "--set simulation.warmup=2h: expected a duration "
                         "shorter than duration (1h), got '2h'");
  g_clear_error (&error);
  set_ok (s, "nat.ports_per_subscriber=65000");
  set_ok (s, "simulation.warmup=0s");
  set_ok (s, "nat.port_range=1024-2047");
  assert_false (natsim_scenario_validate (s, &error));
  assert_invalid (error, "--set nat.ports_per_subscriber=65000: a block of "
                         "65000 ports does not fit");
}

/* A cross-key check reports its key as data; the loader places the error
 * at that key's line (or its --set) and records file, line, group and key
 * in the error, the message unchanged in form. */
static void
test_error_place_as_data (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) copy = NULL;
  g_autoptr (NatsimScenario) s = NULL;
  g_autoptr (NatsimScenario) t = NULL;
  const char *text = "[nat]\n"
                     "port_range = 1024-2047\n"
                     "ports_per_subscriber = 4000\n"
                     "[population flows]\n"
                     "profile = generic\n";
  const char *media = "[population phones]\n"
                      "profile = cisco-mpp\n"
                      "count = 2\n"
                      "media_ports = 19561-19561\n";

  natsim_set_key_error (&error, "port_range", "detail %d", 7);
  assert_invalid (error, "port_range: detail 7");
  assert_string_equal (natsim_error_get_key (error), "port_range");
  assert_string_equal (natsim_error_get_detail (error), "detail 7");
  assert_null (natsim_error_get_file (error));
  assert_int_equal (natsim_error_get_line (error), 0);
  copy = g_error_copy (error);
  assert_string_equal (natsim_error_get_detail (copy), "detail 7");
  g_clear_error (&error);

  /* The NAT's cross-key check, placed at the key's line. */
  s = natsim_scenario_load_data (text, strlen (text), "test.ini", &error);
  assert_null (s);
  assert_invalid (error, "test.ini:3: [nat] ports_per_subscriber: a block of 4000 ports "
                         "does not fit in port_range 1024-2047 (1024 ports)");
  assert_string_equal (natsim_error_get_file (error), "test.ini");
  assert_int_equal (natsim_error_get_line (error), 3);
  assert_string_equal (natsim_error_get_group (error), "nat");
  assert_string_equal (natsim_error_get_key (error), "ports_per_subscriber");
  g_clear_error (&error);

  /* A profile's cross-key check. */
  t = natsim_scenario_load_data (media, strlen (media), "test.ini", &error);
  assert_null (t);
  assert_invalid (error, "test.ini:4: [population phones] media_ports: 19561-19561 holds "
                         "no even/odd (RTP/RTCP) port pair");
  assert_int_equal (natsim_error_get_line (error), 4);
  assert_string_equal (natsim_error_get_group (error), "population phones");
  assert_string_equal (natsim_error_get_key (error), "media_ports");
  g_clear_error (&error);

  /* Structural errors of the pre-scan and unknown groups. */
  t = natsim_scenario_load_data ("[nat]\nudp_timeout = 5s\nudp_timeout = 6s\n", (gsize) -1,
                                 "test.ini", &error);
  assert_null (t);
  assert_invalid (error, "test.ini:3: [nat] udp_timeout: duplicate key, first at line 2");
  assert_int_equal (natsim_error_get_line (error), 3);
  assert_string_equal (natsim_error_get_group (error), "nat");
  assert_string_equal (natsim_error_get_key (error), "udp_timeout");
  g_clear_error (&error);
  t = natsim_scenario_load_data ("[nat]\n\n[stats]\n", (gsize) -1, "test.ini", &error);
  assert_null (t);
  assert_int_equal (natsim_error_get_line (error), 3);
  assert_string_equal (natsim_error_get_group (error), "stats");
  assert_null (natsim_error_get_key (error));
  g_clear_error (&error);

  /* A value from --set has no file line. */
  t = load_string ("[population flows]\nprofile = generic\n");
  assert_true (natsim_scenario_set (t, "nat.port_range=1024-1024", &error));
  assert_true (natsim_scenario_set (t, "nat.parity=true", &error));
  assert_false (natsim_scenario_validate (t, &error));
  assert_invalid (error, "--set nat.parity=true: port_range 1024-1024 has a single port");
  assert_null (natsim_error_get_file (error));
  assert_int_equal (natsim_error_get_line (error), 0);
  assert_string_equal (natsim_error_get_key (error), "parity");
}

/* Defaults < preset < file keys < --set, and a --set nat.preset swaps the
 * preset underneath the file's keys and earlier overrides. */
static void
test_set_preset_order (void **state)
{
  g_autoptr (NatsimScenario) s = load_string ("[nat]\n"
                                              "preset = linux\n"
                                              "udp_timeout = 45s\n"
                                              "[population a]\n"
                                              "profile = generic\n");

  assert_string_equal (natsim_params_get (s->nat, "quarantine"), "0s");
  assert_string_equal (natsim_params_get (s->nat, "port_reuse"),
                       "per-destination");

  set_ok (s, "nat.preset=rfc");
  assert_string_equal (natsim_params_get (s->nat, "preset"), "rfc");
  assert_string_equal (natsim_params_origin (s->nat, "preset"), "--set");
  /* The file's key stays; the rest comes from the new preset. */
  assert_string_equal (natsim_params_get (s->nat, "udp_timeout"), "45s");
  assert_string_equal (natsim_params_origin (s->nat, "udp_timeout"),
                       "test.ini:3");
  assert_string_equal (natsim_params_get (s->nat, "quarantine"), "120s");
  assert_string_equal (natsim_params_origin (s->nat, "quarantine"),
                       "preset rfc");
  assert_string_equal (natsim_params_get (s->nat, "port_reuse"), "exclusive");

  /* An override survives a later preset change. */
  set_ok (s, "nat.tcp_established_timeout=1h");
  set_ok (s, "nat.preset=cisco-asa");
  assert_string_equal (natsim_params_get (s->nat, "allocation"), "random");
  assert_string_equal (natsim_params_get (s->nat, "tcp_established_timeout"),
                       "1h");
  assert_string_equal (natsim_params_get (s->nat, "udp_timeout"), "45s");
  assert_string_equal (natsim_params_get (s->nat, "quarantine"), "0s");
  assert_true (natsim_scenario_validate (s, NULL));

  /* Without a [nat] group at all. */
  {
    g_autoptr (NatsimScenario) t = load_string ("[population a]\n"
                                                "profile = generic\n");

    set_ok (t, "nat.preset=pf");
    assert_string_equal (natsim_params_get (t->nat, "port_range"),
                         "50001-65535");
    assert_string_equal (natsim_params_origin (t->nat, "port_range"),
                         "preset pf");
    set_ok (t, "nat.port_range=2000-3000");
    set_ok (t, "nat.preset=linux");
    assert_string_equal (natsim_params_get (t->nat, "port_range"),
                         "2000-3000");
  }
}

static void
test_load_with_overrides (void **state)
{
  g_autofree char *path = data_path ("bad-scenarios", "warmup-ge-duration.ini");
  static const char *const fix[] = { "simulation.duration=1h", NULL };
  static const char *const bad[] = { "simulation.duration=1h",
                                     "nat.udp_timeout=0s", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimScenario) s = NULL;
  NatsimScenario *t;

  /* The file alone fails; an override repairs it before validation. */
  s = natsim_scenario_load_with_overrides (path, fix, &error);
  if (s == NULL)
    fail_msg ("refused: %s", error->message);
  assert_string_equal (natsim_params_get (s->simulation, "duration"), "1h");

  t = natsim_scenario_load_with_overrides (path, bad, &error);
  assert_null (t);
  assert_invalid (error, "--set nat.udp_timeout=0s: expected a duration such "
                         "as 250ms, 30s, 2m or 1h30m between 1ms and 30d, got "
                         "'0s'");
}

/* ---------------------------------------------------------------------- */
/* JSON and copies */

/* Positions of "key": in @json must increase in table order. */
static void
assert_key_order (const char *json, const char *from, const NatsimKeySpec *keys)
{
  const char *pos = strstr (json, from);

  assert_non_null (pos);
  for (const NatsimKeySpec *k = keys; k->name != NULL; k++)
    {
      g_autofree char *quoted = g_strdup_printf ("\"%s\"", k->name);
      const char *next = strstr (pos, quoted);

      if (next == NULL)
        fail_msg ("%s: %s missing or out of order in %s", from, k->name, json);
      pos = next;
    }
}

static void
test_config_to_json (void **state)
{
  g_autoptr (NatsimScenario) s = load_string (design_example);
  g_autoptr (JsonNode) node = natsim_scenario_config_to_json (s);
  g_autoptr (JsonNode) again = NULL;
  g_autofree char *json = json_to_string (node, FALSE);
  g_autofree char *json2 = NULL;
  JsonObject *root, *nat, *sim, *pop;
  JsonArray *pops;
  GList *members;

  root = json_node_get_object (node);
  members = json_object_get_members (root);
  assert_int_equal (g_list_length (members), 3);
  assert_string_equal (members->data, "nat");
  assert_string_equal (members->next->data, "populations");
  assert_string_equal (members->next->next->data, "simulation");
  g_list_free (members);

  nat = json_object_get_object_member (root, "nat");
  assert_string_equal (json_object_get_string_member (nat, "preset"), "linux");
  assert_string_equal (json_object_get_string_member (nat, "addresses"),
                       "203.0.113.1-203.0.113.4");
  assert_string_equal (json_object_get_string_member (nat, "parity"), "true");
  sim = json_object_get_object_member (root, "simulation");
  assert_string_equal (json_object_get_string_member (sim, "warmup"), "5m");
  assert_string_equal (json_object_get_string_member (sim, "replications"),
                       "10");
  pops = json_object_get_array_member (root, "populations");
  assert_int_equal (json_array_get_length (pops), 2);
  pop = json_array_get_object_element (pops, 1);
  assert_string_equal (json_object_get_string_member (pop, "name"), "probes");
  assert_string_equal (json_object_get_string_member (pop, "profile"),
                       "generic");
  assert_string_equal (json_object_get_string_member (pop, "inbound_probes"),
                       "4s, 7s, 1m");

  /* Keys in table order, name and profile first. */
  assert_key_order (json, "\"nat\"", natsim_nat_keys);
  assert_key_order (json, "\"simulation\"", natsim_simulation_keys);
  assert_key_order (json, "\"probes\"", natsim_profile_lookup ("generic")->keys);
  assert_contains (json, "{\"name\":\"flows\",\"profile\":\"generic\",");

  /* Deterministic. */
  again = natsim_scenario_config_to_json (s);
  json2 = json_to_string (again, FALSE);
  assert_string_equal (json, json2);
}

static void
test_copy (void **state)
{
  g_autoptr (NatsimScenario) s = load_string (design_example);
  g_autoptr (NatsimScenario) c = natsim_scenario_copy (s);
  g_autoptr (JsonNode) a = natsim_scenario_config_to_json (s);
  g_autoptr (JsonNode) b = natsim_scenario_config_to_json (c);
  g_autofree char *ja = json_to_string (a, FALSE);
  g_autofree char *jb = json_to_string (b, FALSE);
  NatsimPopulationSpec *p;

  assert_string_equal (ja, jb);
  assert_string_equal (c->path, s->path);
  assert_ptr_not_equal (c->nat, s->nat);
  assert_int_equal (c->populations->len, s->populations->len);

  /* Changing the copy leaves the original alone, and the copy keeps its
   * own [nat] history for preset re-resolution. */
  set_ok (c, "nat.udp_timeout=99s");
  set_ok (c, "population.flows.count=77");
  set_ok (c, "simulation.seed=99");
  set_ok (c, "nat.preset=rfc");
  assert_string_equal (natsim_params_get (c->nat, "udp_timeout"), "99s");
  assert_string_equal (natsim_params_get (c->nat, "pooling"), "paired");
  assert_string_equal (natsim_params_get (s->nat, "udp_timeout"), "30s");
  assert_string_equal (natsim_params_get (s->nat, "preset"), "linux");
  assert_string_equal (natsim_params_get (s->simulation, "seed"), "1");
  p = natsim_scenario_find_population (s, "flows");
  assert_string_equal (natsim_params_get (p->params, "count"), "1");

  /* The copy outlives the original. */
  g_clear_pointer (&s, natsim_scenario_free);
  p = natsim_scenario_find_population (c, "flows");
  assert_string_equal (natsim_params_get (p->params, "count"), "77");
  assert_string_equal (p->origin, "test.ini:26");
  assert_true (natsim_scenario_validate (c, NULL));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_load_minimal),
    cmocka_unit_test (test_load_design_example),
    cmocka_unit_test (test_load_text_forms),
    cmocka_unit_test (test_load_errors_inline),
    cmocka_unit_test (test_bad_scenarios),
    cmocka_unit_test (test_load_file_inline_comments),
    cmocka_unit_test (test_load_file_errors),
    cmocka_unit_test (test_set),
    cmocka_unit_test (test_set_preset_order),
    cmocka_unit_test (test_error_place_as_data),
    cmocka_unit_test (test_load_with_overrides),
    cmocka_unit_test (test_config_to_json),
    cmocka_unit_test (test_copy),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
