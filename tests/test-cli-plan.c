/* natsim plan and natsim sweep end to end (integration suite).
 *
 * Runs the natsim executable ($NATSIM) from the source root on the shipped
 * plan-*.ini / sweep-*.ini scenarios, whose answers are known analytically
 * (see the comments in those files), and on broken grids. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define CLI_HARNESS_TMPDIR "natsim-plan-XXXXXX"
#include "cli-harness.h"

/* 100 inside hosts of generic UDP traffic toward 20 servers. */
#define SUBS_100                                                            \
  "[population subs]\nprofile = generic\ncount = 100\n"                     \
  "flows_per_second = 2\npackets_per_flow = 2\n"                             \
  "packet_interval = 1s\ndestination_count = 20\n"                           \
  "destination_choice = random\nreply = every\n"

/* Removes @dir and the files in it (one level). */
static void
remove_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

/* The recommendation @id of DIR/report.json. */
static JsonObject *
recommendation (JsonParser *p, const char *id)
{
  JsonObject *root = json_node_get_object (json_parser_get_root (p));
  JsonArray *recs = json_object_get_array_member (root, "recommendations");

  for (guint i = 0; i < json_array_get_length (recs); i++)
    {
      JsonObject *r = json_array_get_object_element (recs, i);
      if (strcmp (json_object_get_string_member (r, "id"), id) == 0)
        return r;
    }
  fail_msg ("no recommendation %s", id);
  return NULL;
}

/* Blocking of `natsim simulate SCENARIO` with the GROUP.KEY=VALUE
 * settings of the plan report in @p's "verification", with nat.addresses
 * cut to its first @drop fewer addresses when @drop > 0, then the
 * arguments @extra (NULL-terminated, may be NULL). */
static double
simulate_applied (const char *scenario, JsonParser *p, guint drop, const char *const *extra)
{
  JsonObject *root = json_node_get_object (json_parser_get_root (p));
  JsonArray *settings = json_object_get_array_member (
    json_object_get_object_member (root, "verification"), "settings");
  g_autofree char *dir = tmpdir ();
  g_autoptr (GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (JsonParser) rp = NULL;
  double blocking;
  Run r;

  g_ptr_array_add (args, g_strdup ("simulate"));
  g_ptr_array_add (args, g_strdup (scenario));
  for (guint i = 0; i < json_array_get_length (settings); i++)
    {
      const char *a = json_array_get_string_element (settings, i);

      g_ptr_array_add (args, g_strdup ("--set"));
      if (drop > 0 && g_str_has_prefix (a, "nat.addresses="))
        {
          g_auto (GStrv) addrs = g_strsplit (a + strlen ("nat.addresses="), ",", -1);
          guint n = g_strv_length (addrs);
          g_autofree char *joined = NULL;

          assert_true (n > drop);
          g_free (addrs[n - drop]);
          addrs[n - drop] = NULL;
          joined = g_strjoinv (",", addrs);
          g_ptr_array_add (args, g_strconcat ("nat.addresses=", joined, NULL));
        }
      else
        g_ptr_array_add (args, g_strdup (a));
    }
  /* After the plan's settings, so that an override of one of them wins. */
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (args, g_strdup (extra[i]));
  g_ptr_array_add (args, g_strdup ("--out"));
  g_ptr_array_add (args, g_strdup (dir));
  g_ptr_array_add (args, g_strdup ("--format"));
  g_ptr_array_add (args, g_strdup ("json"));
  g_ptr_array_add (args, g_strdup ("--quiet"));
  g_ptr_array_add (args, NULL);
  r = natsim_argv ((const char *const *) args->pdata);
  if (r.status != 0)
    fail_msg ("simulate: exit %d: %s", r.status, r.err);
  run_clear (&r);
  load_report (dir, &rp);
  blocking = json_object_get_double_member (
    json_object_get_object_member (json_node_get_object (json_parser_get_root (rp)), "totals"),
    "blocking_probability");
  remove_dir (dir);
  return blocking;
}

/* Erlang B: B(50, 80/2) = 1.9 %, B(50, 80/3) = 0.0017 %: three addresses,
 * decided by Erlang B and confirmed by simulation, when the 30 s UDP
 * timeout may stay under the RFC minimum (--allow-below-rfc). */
static void
test_plan_erlang (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autoptr (JsonParser) p = NULL;
  JsonObject *rec, *root, *v;
  Run r = natsim ("plan", "scenarios/plan-erlang.ini", "--out", dir, "--jobs", "2",
                  "--format", "json", "--allow-below-rfc", NULL);

  report_of_run (&r, dir, &p);
  root = json_node_get_object (json_parser_get_root (p));
  assert_string_equal (json_object_get_string_member (root, "command"), "plan");
  rec = recommendation (p, "pool.addresses");
  assert_int_equal (json_object_get_int_member (rec, "value"), 3);
  assert_string_equal (json_object_get_string_member (rec, "basis"), "erlang-b");
  assert_string_equal (json_object_get_string_member (rec, "unit"), "addresses");
  assert_non_null (strstr (json_object_get_string_member (rec, "reason"), "Erlang B"));
  rec = recommendation (p, "keepalive.interval");
  assert_int_equal (json_object_get_int_member (rec, "value"), 24);
  /* Nothing needs a longer UDP timeout: today's 30 s stays. */
  rec = recommendation (p, "timeout.udp");
  assert_int_equal (json_object_get_int_member (rec, "value"), 30);
  /* The verification is the simulation of 3 addresses. */
  v = json_object_get_object_member (root, "verification");
  assert_non_null (v);
  assert_true (json_object_get_boolean_member (v, "blocking_ok"));
  assert_true (json_object_get_double_member (v, "blocking_probability") < 0.001);
  assert_int_equal (json_array_get_length (json_object_get_array_member (v, "settings")), 1);
  assert_non_null (strstr (json_array_get_string_element (
                             json_object_get_array_member (v, "settings"), 0),
                           "nat.addresses=203.0.113.1,203.0.113.2,203.0.113.3"));
  /* Applied to the scenario by natsim simulate (hash selection, growth
   * applied by hand): it meets the target; one address fewer does not. */
  {
    const char *const grown[] = { "--set", "population.flows.count=1200", "--set",
                                  "population.flows.flows_per_second=2.66664", NULL };

    assert_true (simulate_applied ("scenarios/plan-erlang.ini", p, 0, grown) < 0.001);
    assert_true (simulate_applied ("scenarios/plan-erlang.ini", p, 1, grown) >= 0.001);
  }
  remove_dir (dir);
}

/* Without --allow-below-rfc the UDP timeout rises to RFC 4787's 120 s and
 * the pool is sized for it, not for today's 30 s: 2.667/s x 120 s = 320
 * erlang, B(50, 320/11) = 0.02 %, B(50, 320/10) = 0.11 %: eleven
 * addresses.  The raise is priced by two simulations: about 2.667 x 90 =
 * 240 more ports in use. */
static void
test_plan_erlang_rfc (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autoptr (JsonParser) p = NULL;
  JsonObject *rec, *root, *v;
  const char *reason;
  Run r = natsim ("plan", "scenarios/plan-erlang.ini", "--out", dir, "--jobs", "2",
                  "--format", "json", NULL);

  report_of_run (&r, dir, &p);
  root = json_node_get_object (json_parser_get_root (p));
  rec = recommendation (p, "timeout.udp");
  assert_int_equal (json_object_get_int_member (rec, "value"), 120);
  reason = json_object_get_string_member (rec, "reason");
  assert_non_null (strstr (reason, "two simulations"));
  {
    /* "mean ports in use A instead of B (+D)": D near 240. */
    const char *plus = strstr (reason, "(+");
    assert_non_null (plus);
    assert_true (g_ascii_strtod (plus + 2, NULL) > 200 && g_ascii_strtod (plus + 2, NULL) < 280);
  }
  rec = recommendation (p, "pool.addresses");
  assert_int_equal (json_object_get_int_member (rec, "value"), 11);
  v = json_object_get_object_member (root, "verification");
  assert_true (json_object_get_boolean_member (v, "blocking_ok"));
  assert_true (json_object_get_boolean_member (v, "losses_ok"));
  remove_dir (dir);
}

/* Every subscriber holds 130 ports at the peak: a block of 192. */
static void
test_plan_ports (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autoptr (JsonParser) p = NULL;
  JsonObject *rec;
  Run r = natsim ("plan", "scenarios/plan-ports.ini", "--out", dir, "--format", "json", NULL);

  report_of_run (&r, dir, &p);
  rec = recommendation (p, "pool.ports_per_subscriber");
  assert_int_equal (json_object_get_int_member (rec, "value"), 192);
  assert_string_equal (json_object_get_string_member (rec, "basis"), "simulation");
  assert_non_null (strstr (json_object_get_string_member (rec, "reason"), "336 subscribers fit"));
  rec = recommendation (p, "pool.addresses");
  assert_int_equal (json_object_get_int_member (rec, "value"), 1);
  remove_dir (dir);
}

/* Writes @ini to DIR/NAME and returns the path. */
static char *
write_ini (const char *dir, const char *name, const char *ini)
{
  char *path = g_build_filename (dir, name, NULL);

  assert_true (g_file_set_contents (path, ini, -1, NULL));
  return path;
}

/* One inside host sending to one remote through Linux's hash: every flow
 * takes the same address whatever the pool, so pool.addresses has no
 * value (null in report.json) and the reason says why and what helps; the
 * search bound is never presented as an answer. */
static void
test_plan_one_host (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *out = g_build_filename (dir, "out", NULL);
  g_autofree char *ini = write_ini (dir, "one.ini",
                                    "[simulation]\nduration = 20m\nwarmup = 2m\nseed = 1\n"
                                    "replications = 2\n\n[nat]\npreset = linux\n"
                                    "addresses = 203.0.113.1\nport_range = 1024-1073\n"
                                    "udp_timeout = 120s\n\n[population flows]\n"
                                    "profile = generic\ncount = 1\nflows_per_second = 1\n"
                                    "packets_per_flow = 1\ndestinations = 198.51.100.10:5000\n");
  g_autoptr (JsonParser) p = NULL;
  JsonObject *rec, *root;
  const char *reason;
  Run r = natsim ("plan", ini, "--growth", "0", "--out", out, "--format", "json,text", NULL);

  report_of_run (&r, out, &p);
  root = json_node_get_object (json_parser_get_root (p));
  rec = recommendation (p, "pool.addresses");
  assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (rec, "value")));
  reason = json_object_get_string_member (rec, "reason");
  assert_non_null (strstr (reason, "1 inside host to 1 remote address"));
  assert_non_null (strstr (reason, "first-fit"));
  /* The verification ran the scenario as it is and says it fails. */
  assert_false (json_object_get_boolean_member (
    json_object_get_object_member (root, "verification"), "blocking_ok"));
  remove_dir (out);
  g_unlink (ini);
  g_rmdir (dir);
}

/* Address selection that falls back to another address (first-fit,
 * least-loaded): k addresses of N ports toward one remote are one loss
 * system of k x N ports, so plan-erlang's 80 erlang need B(150, 80) =
 * 1e-12 (3 addresses) against B(100, 80) = 0.405 % (2): three addresses,
 * and the simulation of two shows the Erlang B figure of one pool of 100
 * ports, not hash's 1.9 %.  Applied by natsim simulate, the plan meets
 * the target and one address fewer does not. */
static void
check_fallback_selection (const char *selection)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *set = g_strconcat ("nat.address_selection=", selection, NULL);
  g_autoptr (JsonParser) p = NULL;
  JsonObject *rec;
  const char *const grown[] = { "--set", "population.flows.count=1200", "--set",
                                "population.flows.flows_per_second=2.66664", "--set", set,
                                NULL };
  double fewer;
  Run r = natsim ("plan", "scenarios/plan-erlang.ini", "--allow-below-rfc", "--set", set,
                  "--out", dir, "--format", "json", "--jobs", "2", NULL);

  report_of_run (&r, dir, &p);
  rec = recommendation (p, "pool.addresses");
  assert_int_equal (json_object_get_int_member (rec, "value"), 3);
  assert_non_null (strstr (json_object_get_string_member (rec, "reason"), "one loss system"));
  assert_true (simulate_applied ("scenarios/plan-erlang.ini", p, 0, grown) < 0.001);
  fewer = simulate_applied ("scenarios/plan-erlang.ini", p, 1, grown);
  assert_true (fewer >= 0.001);
  /* One pool of 100 ports: B(100, 80) = 0.405 %, far from hash's 1.9 %. */
  assert_true (fewer > 0.002 && fewer < 0.008);
  remove_dir (dir);
}

static void
test_plan_first_fit (void **state)
{
  check_fallback_selection ("first-fit");
}

static void
test_plan_least_loaded (void **state)
{
  check_fallback_selection ("least-loaded");
}

/* A port-block NAT (juniper-pba on 1024 ports): the addresses come from
 * the blocks the subscribers hold (16 blocks of 64 ports per address),
 * the block size from their demand; applied by natsim simulate, the plan
 * meets the target and one address fewer does not. */
static void
test_plan_port_blocks (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *out = g_build_filename (dir, "out", NULL);
  g_autofree char *ini = write_ini (dir, "pba.ini",
                                    "[simulation]\nduration = 10m\nwarmup = 2m\nseed = 1\n"
                                    "replications = 3\n\n[nat]\npreset = juniper-pba\n"
                                    "addresses = 203.0.113.1\nport_range = 1024-2047\n\n"
                                    SUBS_100);
  g_autoptr (JsonParser) p = NULL;
  JsonObject *rec, *root, *v;
  gint64 k;
  Run r = natsim ("plan", ini, "--growth", "0", "--out", out, "--format", "json", NULL);

  report_of_run (&r, out, &p);
  root = json_node_get_object (json_parser_get_root (p));
  rec = recommendation (p, "pool.addresses");
  k = json_object_get_int_member (rec, "value");
  assert_true (k > 1 && k < 20);
  assert_non_null (strstr (json_object_get_string_member (rec, "reason"), "16 blocks per address"));
  rec = recommendation (p, "pool.ports_per_subscriber");
  assert_int_equal (json_object_get_int_member (rec, "value"), 64);
  v = json_object_get_object_member (root, "verification");
  assert_true (json_object_get_boolean_member (v, "blocking_ok"));
  assert_true (simulate_applied (ini, p, 0, NULL) < 0.001);
  assert_true (simulate_applied (ini, p, 1, NULL) >= 0.001);
  remove_dir (out);
  g_unlink (ini);
  g_rmdir (dir);
}

/* Whether DIR/report.json has a recommendation @id. */
static gboolean
has_recommendation (JsonParser *p, const char *id)
{
  JsonObject *root = json_node_get_object (json_parser_get_root (p));
  JsonArray *recs = json_object_get_array_member (root, "recommendations");

  for (guint i = 0; i < json_array_get_length (recs); i++)
    if (strcmp (json_object_get_string_member (json_array_get_object_element (recs, i), "id"),
                id) == 0)
      return TRUE;
  return FALSE;
}

/* Ten heavy subscribers (20 flows/s each, UDP 60 s: a peak of about 290
 * ports each) behind a port-block NAT with 3072 ports per address.
 * pool.block_size x pool.blocks_per_subscriber must hold that peak;
 * applied by natsim simulate (with the plan's other settings) they meet
 * the target, and one block fewer per subscriber does not. */
#define HEAVY_PBA                                                                   \
  "[simulation]\nduration = 5m\nwarmup = 1m\nseed = 1\nreplications = 2\n\n"        \
  "[nat]\npreset = juniper-pba\naddresses = 203.0.113.1\nport_range = 1024-4095\n\n" \
  "[population subs]\nprofile = generic\ncount = 10\nflows_per_second = 20\n"       \
  "packets_per_flow = 2\npacket_interval = 1s\ndestination_count = 20\n"            \
  "destination_choice = random\nreply = every\n"

/* The value of "nat.KEY=VALUE" in the verification settings of @p. */
static guint64
setting_uint (JsonParser *p, const char *key)
{
  JsonObject *root = json_node_get_object (json_parser_get_root (p));
  JsonArray *settings = json_object_get_array_member (
    json_object_get_object_member (root, "verification"), "settings");
  g_autofree char *prefix = g_strconcat (key, "=", NULL);

  for (guint i = 0; i < json_array_get_length (settings); i++)
    {
      const char *a = json_array_get_string_element (settings, i);

      if (g_str_has_prefix (a, prefix))
        return g_ascii_strtoull (a + strlen (prefix), NULL, 10);
    }
  fail_msg ("no setting %s", key);
  return 0;
}

static void
test_plan_block_limits (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *out = g_build_filename (dir, "out", NULL);
  g_autofree char *ini = write_ini (dir, "heavy.ini", HEAVY_PBA);
  g_autoptr (JsonParser) p = NULL;
  JsonObject *rec, *root, *v;
  gint64 block, blocks;
  g_autofree char *fewer = NULL;
  const char *reason;
  Run r = natsim ("plan", ini, "--growth", "0", "--out", out, "--format", "json", NULL);

  report_of_run (&r, out, &p);
  root = json_node_get_object (json_parser_get_root (p));
  v = json_object_get_object_member (root, "verification");
  assert_true (json_object_get_boolean_member (v, "blocking_ok"));

  rec = recommendation (p, "pool.block_size");
  block = json_object_get_int_member (rec, "value");
  assert_string_equal (json_object_get_string_member (rec, "unit"), "ports");
  assert_int_equal (block % 64, 0);
  reason = json_object_get_string_member (rec, "reason");
  /* The trade-off table, and why not the next smaller block. */
  assert_non_null (strstr (reason, "64 ports x 5 blocks"));
  assert_non_null (strstr (reason, "The largest block among those needing the fewest"));
  assert_true (block == 64 ? strstr (reason, "No smaller block") != NULL
                           : strstr (reason, "A block of") != NULL);
  rec = recommendation (p, "pool.blocks_per_subscriber");
  blocks = json_object_get_int_member (rec, "value");
  assert_string_equal (json_object_get_string_member (rec, "unit"), "blocks");
  /* The peak is about 290 ports: more than one block of up to 256. */
  assert_true (blocks * block >= 256 && blocks * block < 1024);
  assert_true (blocks >= 2);
  assert_non_null (strstr (json_object_get_string_member (rec, "reason"),
                           "not below the target"));
  /* Both are applied in the verification, which meets the target. */
  assert_int_equal (setting_uint (p, "nat.ports_per_subscriber"), block);
  assert_int_equal (setting_uint (p, "nat.blocks_per_subscriber"), blocks);
  assert_true (simulate_applied (ini, p, 0, NULL) < 0.001);
  /* One block fewer per subscriber refuses flows above the target. */
  fewer = g_strdup_printf ("nat.blocks_per_subscriber=%" G_GINT64_FORMAT, blocks - 1);
  {
    const char *const extra[] = { "--set", fewer, NULL };

    assert_true (simulate_applied (ini, p, 0, extra) >= 0.001);
  }
  /* The contract order: pool.* before the timeouts, block size before
   * blocks per subscriber. */
  {
    JsonArray *recs = json_object_get_array_member (root, "recommendations");
    gint ib = -1, in = -1, ip = -1;

    for (guint i = 0; i < json_array_get_length (recs); i++)
      {
        const char *id = json_object_get_string_member (
          json_array_get_object_element (recs, i), "id");

        if (strcmp (id, "pool.block_size") == 0)
          ib = (gint) i;
        else if (strcmp (id, "pool.blocks_per_subscriber") == 0)
          in = (gint) i;
        else if (strcmp (id, "pool.ports_per_subscriber") == 0)
          ip = (gint) i;
      }
    assert_true (ip < ib && ib < in);
  }
  remove_dir (out);
  g_unlink (ini);
  g_rmdir (dir);
}

/* Degenerate cases: a NAT without port blocks gets no block size; a port
 * range smaller than one --granularity block gets none, with the reason;
 * a bad --granularity is refused. */
static void
test_plan_block_limits_degenerate (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *out = g_build_filename (dir, "out", NULL);
  g_autofree char *ini = write_ini (dir, "tiny.ini",
                                    "[simulation]\nduration = 3m\nwarmup = 1m\nseed = 1\n"
                                    "replications = 2\n\n[nat]\npreset = juniper-pba\n"
                                    "addresses = 203.0.113.1\nport_range = 1024-1055\n"
                                    "ports_per_subscriber = 16\n\n" SUBS_100);
  g_autoptr (JsonParser) p = NULL;
  g_autoptr (JsonParser) q = NULL;
  JsonObject *rec;
  Run r = natsim ("plan", ini, "--growth", "0", "--out", out, "--format", "json", NULL);

  report_of_run (&r, out, &p);
  rec = recommendation (p, "pool.block_size");
  assert_true (json_node_is_null (json_object_get_member (rec, "value")));
  assert_non_null (strstr (json_object_get_string_member (rec, "reason"), "No block size fits"));
  rec = recommendation (p, "pool.blocks_per_subscriber");
  assert_true (json_node_is_null (json_object_get_member (rec, "value")));
  remove_dir (out);

  r = natsim ("plan", "scenarios/plan-erlang.ini", "--out", out, "--format", "json", NULL);
  report_of_run (&r, out, &q);
  assert_true (has_recommendation (q, "pool.ports_per_subscriber"));
  assert_false (has_recommendation (q, "pool.block_size"));
  assert_false (has_recommendation (q, "pool.blocks_per_subscriber"));
  remove_dir (out);

  r = natsim ("plan", ini, "--granularity", "0", "--out", out, NULL);
  assert_int_equal (r.status, 2);
  run_clear (&r);
  g_unlink (ini);
  g_rmdir (dir);
}

/* With port blocks, plan measures the demand on a wider pool than the
 * scenario's: the per-address figures are named by the addresses that
 * pool really had (not the scenario's, which are fewer). */
static void
test_plan_measured_addresses (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *out = g_build_filename (dir, "out", NULL);
  g_autofree char *ini = write_ini (dir, "blocks.ini",
                                    "[simulation]\nduration = 5m\nwarmup = 1m\nseed = 1\n"
                                    "replications = 2\n\n[nat]\npreset = linux\n"
                                    "udp_timeout = 120s\nudp_stream_timeout = 120s\n"
                                    "ports_per_subscriber = 64\n"
                                    "addresses = 203.0.113.1\n"
                                    "port_range = 1024-2047\n\n"
                                    SUBS_100);
  g_autoptr (JsonParser) p = NULL;
  JsonObject *root;
  JsonArray *per_address;
  Run r = natsim ("plan", ini, "--growth", "0", "--out", out, "--format", "json,text", NULL);

  report_of_run (&r, out, &p);
  root = json_node_get_object (json_parser_get_root (p));
  per_address = json_object_get_array_member (root, "per_address");
  /* 100 hosts x 64 ports over 1,024 ports per address: 7 addresses. */
  assert_int_equal (json_array_get_length (per_address), 7);
  for (guint i = 0; i < json_array_get_length (per_address); i++)
    {
      JsonObject *a = json_array_get_object_element (per_address, i);
      g_autofree char *want = g_strdup_printf ("203.0.113.%u", i + 1);

      assert_string_equal (json_object_get_string_member (a, "address"), want);
    }
  remove_dir (out);
  g_unlink (ini);
  g_rmdir (dir);
}

/* Deterministic NAT (RFC 7422) on 1024 ports: the plan's range of 64
 * ports per subscriber gives floor(1024 / 64) = 16 subscribers per
 * address, so 100 inside addresses need ceil(100 / 16) = 7 addresses;
 * applied by natsim simulate they meet the target, and with one fewer the
 * NAT refuses the configuration (the ranges do not fit), as the reason
 * says. */
static void
test_plan_deterministic (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *out = g_build_filename (dir, "out", NULL);
  g_autofree char *sim = g_build_filename (dir, "sim", NULL);
  g_autofree char *ini = write_ini (dir, "det.ini",
                                    "[simulation]\nduration = 10m\nwarmup = 2m\nseed = 1\n"
                                    "replications = 3\n\n[nat]\npreset = linux\n"
                                    "udp_timeout = 120s\nudp_stream_timeout = 120s\n"
                                    "deterministic = true\n"
                                    "inside_addresses = 10.0.0.1-10.0.0.100\n"
                                    "addresses = 203.0.113.1-203.0.113.8\n"
                                    "port_range = 1024-2047\n\n"
                                    SUBS_100);
  g_autoptr (JsonParser) p = NULL;
  JsonObject *rec, *root, *v;
  JsonArray *settings;
  g_autofree char *fewer = NULL;
  Run r = natsim ("plan", ini, "--growth", "0", "--out", out, "--format", "json", NULL);

  report_of_run (&r, out, &p);
  root = json_node_get_object (json_parser_get_root (p));
  rec = recommendation (p, "pool.ports_per_subscriber");
  assert_int_equal (json_object_get_int_member (rec, "value"), 64);
  rec = recommendation (p, "pool.addresses");
  assert_int_equal (json_object_get_int_member (rec, "value"), 7);
  assert_non_null (strstr (json_object_get_string_member (rec, "reason"),
                           "need ceil(100 / 16) = 7 addresses; 6 hold only 96 subscribers"));
  v = json_object_get_object_member (root, "verification");
  assert_true (json_object_get_boolean_member (v, "blocking_ok"));
  assert_true (simulate_applied (ini, p, 0, NULL) < 0.001);

  /* One address fewer: natsim refuses it with the arithmetic. */
  settings = json_object_get_array_member (v, "settings");
  for (guint i = 0; i < json_array_get_length (settings); i++)
    {
      const char *a = json_array_get_string_element (settings, i);

      if (g_str_has_prefix (a, "nat.addresses="))
        {
          fewer = g_strdup (a);
          *strrchr (fewer, ',') = '\0';
        }
    }
  assert_non_null (fewer);
  r = natsim ("simulate", ini, "--set", fewer, "--set", "nat.ports_per_subscriber=64",
              "--out", sim, "--quiet", NULL);
  assert_int_equal (r.status, 2);
  assert_non_null (strstr (r.err, "100 inside_addresses need 7 public addresses"));
  run_clear (&r);
  remove_dir (sim);
  remove_dir (out);
  g_unlink (ini);
  g_rmdir (dir);
}

static void
test_plan_bad_input (void **state)
{
  Run r = natsim ("plan", "scenarios/plan-erlang.ini", "--target-blocking", "abc", NULL);

  assert_int_equal (r.status, 2);
  run_clear (&r);
  r = natsim ("plan", "scenarios/plan-erlang.ini", "--target-blocking", "150%", NULL);
  assert_int_equal (r.status, 2);
  run_clear (&r);
  r = natsim ("plan", NULL);
  assert_int_equal (r.status, 2);
  run_clear (&r);
}

static char *
read_text (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return read_file (path);
}

static void
test_sweep_jobs (void **state)
{
  g_autofree char *d1 = tmpdir ();
  g_autofree char *d2 = tmpdir ();
  g_autofree char *c1 = NULL, *c2 = NULL, *j1 = NULL, *j2 = NULL;
  g_auto (GStrv) lines = NULL;
  Run r = natsim ("sweep", "scenarios/sweep-timeout.ini", "--vary", "nat.udp_timeout=30s..90s:30s",
                  "--vary", "population.flows.flows_per_second=1,2", "--out", d1, "--jobs", "1",
                  "--no-html", NULL);

  if (r.status != 0)
    fail_msg ("exit %d: %s", r.status, r.err);
  run_clear (&r);
  r = natsim ("sweep", "scenarios/sweep-timeout.ini", "--vary", "nat.udp_timeout=30s..90s:30s",
              "--vary", "population.flows.flows_per_second=1,2", "--out", d2, "--jobs", "2",
              "--no-html", NULL);
  if (r.status != 0)
    fail_msg ("exit %d: %s", r.status, r.err);
  run_clear (&r);
  c1 = read_text (d1, "sweep.csv");
  c2 = read_text (d2, "sweep.csv");
  assert_string_equal (c1, c2);
  j1 = read_text (d1, "sweep.json");
  j2 = read_text (d2, "sweep.json");
  assert_string_equal (j1, j2);
  lines = g_strsplit (c1, "\n", -1);
  /* Header, six points, and the empty string after the last newline. */
  assert_int_equal (g_strv_length (lines), 8);
  assert_true (g_str_has_prefix (lines[0], "nat.udp_timeout,population.flows.flows_per_second,flows,flows_ci95,"));
  assert_true (g_str_has_prefix (lines[1], "30s,1,"));
  assert_true (g_str_has_prefix (lines[6], "90s,2,"));
  assert_non_null (strstr (j1, "\"schema\" : \"natsim.sweep/1\""));
  remove_dir (d1);
  remove_dir (d2);
}

/* A bad key or value anywhere in the grid: exit 2 before anything runs
 * or is written. */
static void
test_sweep_invalid (void **state)
{
  const char *bad[] = {
    "nat.udp_timout=30s,60s",
    "nat.udp_timeout=30s,sixty",
    "nat.udp_timeout=0s..60s:30s",
    "nat.udp_timeout=60s..30s:10s",
    "simulation.warmup=1m,1h",
    "population.nobody.count=1,2",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *dir = tmpdir ();
      g_autofree char *out = g_build_filename (dir, "out", NULL);
      Run r = natsim ("sweep", "scenarios/sweep-timeout.ini", "--vary", "nat.udp_timeout=30s,60s",
                      "--vary", bad[i], "--out", out, NULL);

      if (r.status != 2)
        fail_msg ("%s: exit %d: %s", bad[i], r.status, r.err);
      assert_non_null (strstr (r.err, "natsim: "));
      assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
      run_clear (&r);
      g_rmdir (dir);
    }
  {
    Run r = natsim ("sweep", "scenarios/sweep-timeout.ini", NULL);
    assert_int_equal (r.status, 2);
    run_clear (&r);
  }
}

/* A plan from a capture: traces/synth-sip-udp.pcap holds SIP phones that
 * re-REGISTER every 90 s (packet_interval in traces/synth-sip-udp.ini), so
 * the recommended UDP timeout must exceed 90 s; the pool comes from the
 * replay (one address, basis erlang-b or trace). */
static void
test_plan_trace (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autoptr (JsonParser) p = NULL;
  JsonObject *rec, *root, *inputs;
  Run r = natsim ("plan", "--trace", "traces/synth-sip-udp.pcap", "--set",
                  "nat.udp_timeout=30s", "--out", dir, "--quiet", NULL);

  report_of_run (&r, dir, &p);
  root = json_node_get_object (json_parser_get_root (p));
  assert_string_equal (json_object_get_string_member (root, "command"), "plan");
  inputs = json_object_get_object_member (root, "inputs");
  assert_int_equal (json_array_get_length (json_object_get_array_member (inputs, "traces")), 1);
  rec = recommendation (p, "timeout.udp");
  assert_true (json_object_get_double_member (rec, "value") > 90.0);
  assert_string_equal (json_object_get_string_member (rec, "basis"), "trace");
  assert_non_null (strstr (json_object_get_string_member (rec, "reason"), "sip"));
  rec = recommendation (p, "pool.addresses");
  assert_int_equal (json_object_get_int_member (rec, "value"), 1);
  assert_true (strcmp (json_object_get_string_member (rec, "basis"), "erlang-b") == 0 ||
               strcmp (json_object_get_string_member (rec, "basis"), "trace") == 0);
  rec = recommendation (p, "pool.ports_per_subscriber");
  assert_int_equal (json_object_get_int_member (rec, "value") % 64, 0);
  rec = recommendation (p, "keepalive.interval");
  assert_int_equal (json_object_get_int_member (rec, "value"), 24);
  /* The default formats, as simulate writes them. */
  {
    const char *files[] = { "report.txt", "report.json", "report.md", "report.html" };

    for (guint i = 0; i < G_N_ELEMENTS (files); i++)
      {
        g_autofree char *f = g_build_filename (dir, files[i], NULL);
        assert_true (g_file_test (f, G_FILE_TEST_EXISTS));
      }
  }
  remove_dir (dir);

  /* A scenario and --trace together, a bad format, a non-nat --set: 2. */
  {
    const char *const bad[][8] = {
      { "plan", "scenarios/plan-erlang.ini", "--trace", "traces/synth-sip-udp.pcap", NULL },
      { "plan", "--trace", "traces/synth-sip-udp.pcap", "--format", "docx", NULL },
      { "plan", "--trace", "traces/synth-sip-udp.pcap", "--set", "simulation.seed=2", NULL },
      { "plan", "--trace", "traces/no-such-file.pcap", NULL },
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        Run b = natsim (bad[i][0], bad[i][1], bad[i][2], bad[i][3], bad[i][4], bad[i][5],
                        NULL);
        if (b.status != 2)
          fail_msg ("case %u: exit %d: %s", i, b.status, b.err);
        run_clear (&b);
      }
  }
}

/* Gaps of flows that never receive unsolicited inbound packets (NTP polls
 * from a fixed port every 15-17 min) do not drive the UDP timeouts: on the
 * default scenario with the intercoms re-registering every 100-120 s, the
 * stream timeout follows the registrations and keepalives of the flows
 * that take incoming calls, and the reason says which flows were left
 * out. */
static void
test_plan_reachability_gaps (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autoptr (JsonParser) p = NULL;
  JsonObject *rec;
  const char *reason;
  Run r = natsim ("plan", "scenarios/default.ini", "--set", "population.intercoms.register_interval=100s..120s",
                  "--replications", "2", "--growth", "0", "--out", dir, "--format", "json",
                  "--quiet", NULL);

  report_of_run (&r, dir, &p);
  rec = recommendation (p, "timeout.udp_stream");
  /* The adapters' 24-29 s CRLF keepalives, not the phones' 17 min NTP. */
  assert_true (json_object_get_double_member (rec, "value") < 300.0);
  reason = json_object_get_string_member (rec, "reason");
  assert_non_null (strstr (reason, "Left out"));
  assert_non_null (strstr (reason, "after their last outbound packet"));
  remove_dir (dir);
}

/* The shipped default: its intercoms re-register hourly without
 * keepalives.  The plan does not raise the UDP timeouts to an hour for
 * every flow: they stay at RFC 4787's 120 s and the intercoms get an
 * endpoint.refresh_interval, priced against the NAT-side alternative; the
 * TCP timeout is never under RFC 5382's 7440 s; every saving or cost is
 * measured; the verification (with the remedy applied) loses nothing. */
static void
test_plan_default_remedy (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autoptr (JsonParser) p = NULL;
  JsonObject *rec, *root, *v;
  const char *reason;
  Run r = natsim ("plan", "scenarios/default.ini", "--replications", "2", "--growth", "0",
                  "--out", dir, "--format", "json", "--quiet", NULL);

  report_of_run (&r, dir, &p);
  root = json_node_get_object (json_parser_get_root (p));
  rec = recommendation (p, "timeout.udp");
  assert_int_equal (json_object_get_int_member (rec, "value"), 120);
  assert_non_null (strstr (json_object_get_string_member (rec, "reason"), "two simulations"));
  rec = recommendation (p, "timeout.tcp_established");
  assert_int_equal (json_object_get_int_member (rec, "value"), 7440);
  rec = recommendation (p, "endpoint.refresh_interval");
  assert_int_equal (json_object_get_int_member (rec, "value"), 96);
  reason = json_object_get_string_member (rec, "reason");
  assert_non_null (strstr (reason, "intercoms"));
  assert_non_null (strstr (reason, "register_interval"));
  assert_non_null (strstr (reason, "NAT-side alternative"));
  v = json_object_get_object_member (root, "verification");
  assert_true (json_object_get_boolean_member (v, "losses_ok"));
  assert_true (json_object_get_boolean_member (v, "blocking_ok"));
  assert_true (json_object_get_double_member (v, "binding_losses") == 0.0);
  remove_dir (dir);
}

/* sweep --format: sweep.csv always, the others as asked; a bad format
 * fails before running. */
static void
test_sweep_formats (void **state)
{
  g_autofree char *dir = tmpdir ();
  g_autofree char *out = g_build_filename (dir, "s", NULL);
  const char *present[] = { "sweep.csv", "sweep.json", "sweep.md", "sweep.txt" };
  Run r = natsim ("sweep", "scenarios/sweep-timeout.ini", "--vary", "nat.udp_timeout=30s,60s",
                  "--set", "simulation.replications=1", "--format", "text,json,md", "--out",
                  out, "--quiet", NULL);

  if (r.status != 0)
    fail_msg ("exit %d: %s", r.status, r.err);
  run_clear (&r);
  for (guint i = 0; i < G_N_ELEMENTS (present); i++)
    {
      g_autofree char *f = g_build_filename (out, present[i], NULL);
      assert_true (g_file_test (f, G_FILE_TEST_EXISTS));
    }
  {
    g_autofree char *f = g_build_filename (out, "sweep.html", NULL);
    assert_false (g_file_test (f, G_FILE_TEST_EXISTS));
  }
  remove_dir (out);
  r = natsim ("sweep", "scenarios/sweep-timeout.ini", "--vary", "nat.udp_timeout=30s,60s",
              "--format", "json,bogus", "--out", out, NULL);
  assert_int_equal (r.status, 2);
  assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  run_clear (&r);
  g_rmdir (dir);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_plan_erlang),
    cmocka_unit_test (test_plan_erlang_rfc),
    cmocka_unit_test (test_plan_one_host),
    cmocka_unit_test (test_plan_port_blocks),
    cmocka_unit_test (test_plan_deterministic),
    cmocka_unit_test (test_plan_measured_addresses),
    cmocka_unit_test (test_plan_block_limits),
    cmocka_unit_test (test_plan_block_limits_degenerate),
    cmocka_unit_test (test_plan_first_fit),
    cmocka_unit_test (test_plan_least_loaded),
    cmocka_unit_test (test_plan_default_remedy),
    cmocka_unit_test (test_plan_ports),
    cmocka_unit_test (test_plan_bad_input),
    cmocka_unit_test (test_sweep_jobs),
    cmocka_unit_test (test_sweep_invalid),
    cmocka_unit_test (test_plan_trace),
    cmocka_unit_test (test_plan_reachability_gaps),
    cmocka_unit_test (test_sweep_formats),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
