/* natsim classify: RFC 5780 behaviour discovery recovers what the NAT is
 * configured to do, and each preset classifies as docs/nat-model.md says. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "natsim/classify-report.h"
#include "natsim/nat-classify.h"
#include "natsim/params.h"

#define IP_PUB 0xCB007101u /* 203.0.113.1 */

static const char *const words[] = {
  "endpoint-independent", "address-dependent", "address-port-dependent"
};

/* A config: the preset's values, then KEY, VALUE pairs (NULL-terminated). */
static NatsimNatConfig
config (const char *preset, ...)
{
  g_autoptr (NatsimParams) p = natsim_params_new (natsim_nat_keys);
  g_autoptr (GError) error = NULL;
  const NatsimNatPreset *pr = natsim_nat_preset_lookup (preset);
  NatsimNatConfig cfg = { 0 };
  va_list ap;

  assert_non_null (pr);
  assert_true (natsim_params_set (p, "preset", preset, "test", &error));
  for (guint i = 0; pr->values[i] != NULL; i += 2)
    assert_true (natsim_params_set (p, pr->values[i], pr->values[i + 1], "test", &error));
  va_start (ap, preset);
  for (const char *k = va_arg (ap, const char *); k != NULL; k = va_arg (ap, const char *))
    {
      const char *v = va_arg (ap, const char *);
      if (!natsim_params_set (p, k, v, "test", &error))
        fail_msg ("%s=%s: %s", k, v, error->message);
    }
  va_end (ap);
  if (!natsim_nat_config_from_params (p, &cfg, &error))
    fail_msg ("%s", error->message);
  return cfg;
}

static NatsimClassification *
classify (NatsimNatConfig *cfg)
{
  NatsimClassification *c = natsim_classify (cfg, 1);

  natsim_nat_config_clear (cfg);
  assert_non_null (c);
  return c;
}

static const NatsimProbeTest *
find_test (const NatsimClassification *c, const char *id)
{
  for (guint i = 0; i < c->tests->len; i++)
    {
      const NatsimProbeTest *t = g_ptr_array_index (c->tests, i);
      if (strcmp (t->id, id) == 0)
        return t;
    }
  fail_msg ("no test %s", id);
  return NULL;
}

/* Every mapping x filtering combination, over three NATs that choose ports
 * differently: a port belongs to one inside endpoint and is allocated
 * sequentially (rfc), at random (cisco-asa), or overlapping per
 * destination with Linux's random search (linux, allocation random: with
 * port preservation every mapping would keep the client's port and look
 * endpoint-independent, which is what such a NAT really shows). */
static void
test_mapping_filtering_combinations (void **state)
{
  static const char *const bases[][2] = {
    { "rfc", "sequential" }, { "cisco-asa", "random" }, { "linux", "random" },
  };

  for (gsize b = 0; b < G_N_ELEMENTS (bases); b++)
    for (int m = 0; m < 3; m++)
      for (int f = 0; f < 3; f++)
        {
          NatsimNatConfig cfg = config (bases[b][0], "allocation", bases[b][1], "mapping", words[m],
                                        "filtering", words[f], NULL);
          g_autoptr (NatsimClassification) c = classify (&cfg);

          if (strcmp (c->mapping, words[m]) != 0 || strcmp (c->filtering, words[f]) != 0)
            fail_msg ("%s/%s: configured %s + %s, classified %s + %s", bases[b][0], bases[b][1],
                      words[m], words[f], c->mapping, c->filtering);
        }
}

static void
test_rfc3489_names (void **state)
{
  static const struct { int m, f; const char *name; } cases[] = {
    { 0, 0, "full cone" }, { 0, 1, "restricted cone" }, { 0, 2, "port-restricted cone" },
    { 1, 0, "symmetric" }, { 1, 2, "symmetric" }, { 2, 0, "symmetric" }, { 2, 2, "symmetric" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      NatsimNatConfig cfg = config ("rfc", "mapping", words[cases[i].m], "filtering",
                                    words[cases[i].f], NULL);
      g_autoptr (NatsimClassification) c = classify (&cfg);

      assert_string_equal (c->rfc3489_name, cases[i].name);
      assert_string_equal (natsim_rfc3489_name (words[cases[i].m], words[cases[i].f]),
                           cases[i].name);
    }
  assert_string_equal (natsim_rfc3489_name ("unknown", words[0]), "unknown");
  assert_string_equal (natsim_rfc3489_name (words[0], "unknown"), "unknown");
}

static void
test_hairpinning (void **state)
{
  static const struct { const char *preset, *value; bool expect; } cases[] = {
    { "linux", "false", false }, { "linux", "true", true },
    { "rfc", "true", true }, { "rfc", "false", false },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      NatsimNatConfig cfg = config (cases[i].preset, "hairpinning", cases[i].value, NULL);
      g_autoptr (NatsimClassification) c = classify (&cfg);
      const NatsimProbeTest *t = find_test (c, "hairpinning");
      const NatsimProbeStep *last = g_ptr_array_index (t->steps, t->steps->len - 1);

      assert_int_equal (c->hairpinning, cases[i].expect);
      /* The last packet is host 2's to host 1's mapped address: delivered
       * (from host 2's external endpoint) exactly when the NAT hairpins;
       * host 1 opened its filter toward host 2 first. */
      assert_true (last->outbound);
      assert_int_equal (last->delivered, cases[i].expect);
      assert_int_equal (last->hairpinned, cases[i].expect);
      if (cases[i].expect)
        {
          assert_int_equal (last->to_addr, NATSIM_CLASSIFY_CLIENT);
          assert_int_equal (last->seen_addr, IP_PUB);
        }
      else
        assert_int_equal (last->verdict, NATSIM_VERDICT_NOT_TRANSLATED);
    }
}

/* Configured UDP lifetimes are found to within one second, whole or not;
 * so is TCP's. */
static void
test_lifetimes (void **state)
{
  static const char *const udp[] = { "7s", "30s", "45s", "90500ms", "1h" };
  static const double udp_s[] = { 7, 30, 45, 90.5, 3600 };

  for (gsize i = 0; i < G_N_ELEMENTS (udp); i++)
    {
      NatsimNatConfig cfg = config ("linux", "udp_timeout", udp[i], NULL);
      g_autoptr (NatsimClassification) c = classify (&cfg);

      if (!(c->lifetime_udp >= udp_s[i] && c->lifetime_udp < udp_s[i] + 1.0))
        fail_msg ("udp_timeout %s: found %g s", udp[i], c->lifetime_udp);
    }
  {
    NatsimNatConfig cfg = config ("rfc", "tcp_established_timeout", "7441s", NULL);
    g_autoptr (NatsimClassification) c = classify (&cfg);
    assert_true (c->lifetime_tcp >= 7441 && c->lifetime_tcp < 7442);
    assert_true (c->lifetime_udp >= 300 && c->lifetime_udp < 301);
  }
}

static void
test_refresh (void **state)
{
  NatsimNatConfig a = config ("linux", NULL);
  NatsimNatConfig b = config ("linux", "refresh", "outbound", NULL);
  g_autoptr (NatsimClassification) ca = classify (&a);
  g_autoptr (NatsimClassification) cb = classify (&b);

  assert_int_equal (ca->refresh_udp, NATSIM_REFRESH_FOUND_BOTH);
  assert_int_equal (ca->refresh_tcp, NATSIM_REFRESH_FOUND_BOTH);
  assert_int_equal (cb->refresh_udp, NATSIM_REFRESH_FOUND_OUTBOUND);
  assert_int_equal (cb->refresh_tcp, NATSIM_REFRESH_FOUND_OUTBOUND);
  assert_string_equal (natsim_refresh_found_name (cb->refresh_udp), "outbound");
  {
    /* An inbound refresh that gives a shorter timeout (Linux's stream
     * timeout under a long UDP timeout) is still a refresh. */
    NatsimNatConfig c = config ("linux", "udp_timeout", "1h", NULL);
    g_autoptr (NatsimClassification) cc = classify (&c);
    assert_int_equal (cc->refresh_udp, NATSIM_REFRESH_FOUND_BOTH);
  }
}

static void
test_ports_and_pooling (void **state)
{
  NatsimNatConfig a = config ("linux", NULL);
  NatsimNatConfig b = config ("cisco-asa", "addresses", "203.0.113.1-203.0.113.4", NULL);
  NatsimNatConfig d = config ("rfc", "addresses", "203.0.113.1-203.0.113.4", NULL);
  NatsimNatConfig e = config ("linux", "addresses", "203.0.113.1-203.0.113.4", NULL);
  NatsimNatConfig f = config ("linux", "port_range", "2000-2099", "parity", "true", NULL);
  g_autoptr (NatsimClassification) ca = classify (&a);
  g_autoptr (NatsimClassification) cb = classify (&b);
  g_autoptr (NatsimClassification) cd = classify (&d);
  g_autoptr (NatsimClassification) ce = classify (&e);
  g_autoptr (NatsimClassification) cf = classify (&f);

  assert_true (ca->port_preservation);
  assert_false (ca->parity);
  assert_null (ca->pooling); /* one address: nothing to pool */
  assert_false (cb->port_preservation);
  assert_string_equal (cb->pooling, "paired");
  assert_true (cd->parity);
  assert_string_equal (cd->pooling, "paired");
  assert_string_equal (ce->pooling, "arbitrary");
  /* A port range without 40000: the client's port moves inside it. */
  assert_true (cf->port_preservation);
  assert_true (cf->parity);
}

/* The transcripts are what a class follows: the mapping test of an EIM NAT
 * shows two requests seeing one mapped address; the filtering test of an
 * EIF NAT a response from the alternate address and port delivered. */
static void
test_transcripts (void **state)
{
  NatsimNatConfig cfg = config ("rfc", "filtering", "endpoint-independent", NULL);
  g_autoptr (NatsimClassification) c = classify (&cfg);
  const NatsimProbeTest *m = find_test (c, "mapping");
  const NatsimProbeTest *f = find_test (c, "filtering");
  const NatsimProbeStep *s0, *s2, *last;

  assert_int_equal (m->steps->len, 4); /* two requests, two responses */
  s0 = g_ptr_array_index (m->steps, 0);
  s2 = g_ptr_array_index (m->steps, 2);
  assert_true (s0->outbound && s0->delivered);
  assert_int_equal (s0->dst_addr, NATSIM_CLASSIFY_SERVER1);
  assert_int_equal (s2->dst_addr, NATSIM_CLASSIFY_SERVER2);
  assert_int_equal (s0->seen_port, s2->seen_port);
  assert_non_null (strstr (s0->message, "binding request"));
  last = g_ptr_array_index (f->steps, f->steps->len - 1);
  assert_false (last->outbound);
  assert_true (last->delivered);
  assert_int_equal (last->src_addr, NATSIM_CLASSIFY_SERVER2);
  assert_int_equal (last->src_port, NATSIM_CLASSIFY_PORT2);
  for (guint i = 0; i < c->tests->len; i++)
    {
      const NatsimProbeTest *t = g_ptr_array_index (c->tests, i);
      assert_non_null (t->result);
      assert_non_null (t->reasoning);
      if (strcmp (t->id, "pooling") != 0)
        assert_true (t->steps->len > 0);
    }
}

/* The same config and seed give the same classification.json. */
static void
test_json_deterministic (void **state)
{
  NatsimNatConfig a = config ("pf", NULL);
  NatsimNatConfig b = config ("pf", NULL);
  g_autoptr (NatsimClassification) ca = classify (&a);
  g_autoptr (NatsimClassification) cb = classify (&b);
  NatsimClassifyInputs in = { 0 };
  g_autofree char *ja = natsim_classification_to_json (ca, &in);
  g_autofree char *jb = natsim_classification_to_json (cb, &in);
  g_autofree char *html = natsim_classification_to_html (ca, &in);
  guint svgs = 0;

  assert_string_equal (ja, jb);
  assert_non_null (strstr (ja, "\"rfc3489_name\": \"symmetric\""));
  for (const char *p = html; (p = strstr (p, "<svg")) != NULL; p++)
    svgs++;
  assert_int_equal (svgs, ca->tests->len);
}

/* ---------- the preset table of docs/nat-model.md ---------- */

static char *
cell (char **cells, guint i)
{
  return g_strstrip (cells[i]);
}

static void
test_presets_match_docs (void **state)
{
  g_autofree char *path = g_build_filename (g_getenv ("NATSIM_SOURCE_ROOT"), "docs",
                                            "nat-model.md", NULL);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  bool in_table = false;
  guint rows = 0;

  assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) cells = NULL;
      NatsimNatConfig cfg;
      g_autoptr (NatsimClassification) c = NULL;
      g_autofree char *life_udp = NULL, *life_tcp = NULL, *refresh = NULL;

      if (g_str_has_prefix (lines[i], "## Classification of the presets"))
        in_table = true;
      else if (g_str_has_prefix (lines[i], "## "))
        in_table = false;
      if (!in_table || !g_str_has_prefix (lines[i], "| ") || g_str_has_prefix (lines[i], "| preset"))
        continue;
      cells = g_strsplit (lines[i], "|", -1);
      assert_int_equal (g_strv_length (cells), 14);
      cfg = config (cell (cells, 1), "addresses", "203.0.113.1-203.0.113.4", NULL);
      c = classify (&cfg);
      life_udp = g_strdup_printf ("%.0f", c->lifetime_udp);
      life_tcp = g_strdup_printf ("%.0f", c->lifetime_tcp);
      refresh = g_strdup_printf ("%s, %s", natsim_refresh_found_name (c->refresh_udp),
                                 natsim_refresh_found_name (c->refresh_tcp));
#define CHECK(i, v)                                                                  \
      if (strcmp (cell (cells, i), (v)) != 0)                                        \
        fail_msg ("docs/nat-model.md, preset %s, column %d: '%s', classify says '%s'", \
                  cells[1], i, cells[i], (v))
      CHECK (2, c->mapping);
      CHECK (3, c->filtering);
      CHECK (4, c->rfc3489_name);
      CHECK (5, c->hairpinning ? "yes" : "no");
      CHECK (6, c->port_preservation ? "yes" : "no");
      CHECK (7, c->parity ? "yes" : "no");
      CHECK (8, c->pooling);
      CHECK (9, life_udp);
      CHECK (10, life_tcp);
      CHECK (11, refresh);
#undef CHECK
      rows++;
    }
  /* Every preset has its row. */
  {
    guint n = 0;
    for (const NatsimNatPreset *p = natsim_nat_presets; p->name != NULL; p++)
      n++;
    assert_int_equal (rows, n);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_mapping_filtering_combinations),
    cmocka_unit_test (test_rfc3489_names),
    cmocka_unit_test (test_hairpinning),
    cmocka_unit_test (test_lifetimes),
    cmocka_unit_test (test_refresh),
    cmocka_unit_test (test_ports_and_pooling),
    cmocka_unit_test (test_transcripts),
    cmocka_unit_test (test_json_deterministic),
    cmocka_unit_test (test_presets_match_docs),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
