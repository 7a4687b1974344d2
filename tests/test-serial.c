/* natsim: run results as bytes and back (natsim/serial.h), as --mpi sends
 * them between processes: a real replication's result (port blocks, per
 * address timelines, the packet log) and a real usage result survive the
 * round trip field by field and bit for bit; awkward doubles (-0, NaN
 * payloads, infinities) too; every truncation and a foreign record fail
 * cleanly.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "natsim/error.h"
#include "natsim/serial.h"
#include "natsim/simulate.h"

/* Two addresses with port blocks, three classes, a few hundred packets:
 * every array of NatsimRunResult is there, and the packet log is kept. */
static const char scenario[] =
  "[simulation]\n"
  "duration = 1m\n"
  "seed = 7\n"
  "replications = 1\n"
  "timeline_interval = 10s\n"
  "[nat]\n"
  "preset = rfc\n"
  "addresses = 203.0.113.1-203.0.113.2\n"
  "port_range = 1024-1087\n"
  "ports_per_subscriber = 16\n"
  "blocks_per_subscriber = 2\n"
  "[population heavy]\n"
  "profile = generic\n"
  "flows = 40\n"
  "flow_spacing = 50ms\n"
  "destinations = 198.51.100.10:5000\n"
  "[population light]\n"
  "profile = generic\n"
  "count = 6\n"
  "flows = 24\n"
  "flow_spacing = 50ms\n"
  "start = 5s\n"
  "destinations = 198.51.100.20:5000\n";

static NatsimScenario *
load (void)
{
  g_autoptr (GError) error = NULL;
  NatsimScenario *s = natsim_scenario_load_data (scenario, (gsize) -1, "serial.ini", &error);

  g_assert_no_error (error);
  assert_true (natsim_scenario_validate (s, &error));
  return s;
}

/* Bit patterns, not values: NaN == NaN must hold and -0 != 0. */
static void
assert_doubles (const double *a, const double *b, gsize n)
{
  assert_true ((a == NULL) == (b == NULL));
  if (a != NULL && n > 0)
    assert_memory_equal (a, b, n * sizeof (double));
}

static void
assert_stats (const NatsimStats *a, const NatsimStats *b)
{
  assert_memory_equal (a->v, b->v, sizeof a->v);
}

static void
assert_packet (const NatsimPacketRecord *a, const NatsimPacketRecord *b)
{
  assert_int_equal (a->time, b->time);
  assert_int_equal (a->src_addr, b->src_addr);
  assert_int_equal (a->dst_addr, b->dst_addr);
  assert_int_equal (a->src_port, b->src_port);
  assert_int_equal (a->dst_port, b->dst_port);
  assert_int_equal (a->ext_addr, b->ext_addr);
  assert_int_equal (a->ext_port, b->ext_port);
  assert_int_equal (a->cls, b->cls);
  assert_int_equal (a->in_addr, b->in_addr);
  assert_int_equal (a->in_port, b->in_port);
  assert_int_equal (a->proto, b->proto);
  assert_int_equal (a->dir, b->dir);
  assert_int_equal (a->verdict, b->verdict);
  assert_int_equal (a->tcp_flags, b->tcp_flags);
  assert_int_equal (a->hairpinned, b->hairpinned);
}

/* Every field of NatsimRunResult. */
static void
assert_run_results_equal (const NatsimRunResult *a, const NatsimRunResult *b)
{
  gsize cells = (gsize) a->n_addresses * a->n_intervals;

  assert_stats (&a->totals, &b->totals);
  assert_int_equal (a->n_classes, b->n_classes);
  for (guint c = 0; c < a->n_classes; c++)
    assert_stats (&a->per_class[c], &b->per_class[c]);
  assert_int_equal (a->n_addresses, b->n_addresses);
  assert_doubles (a->addr_peak_ports, b->addr_peak_ports, a->n_addresses);
  assert_doubles (a->addr_failures, b->addr_failures, a->n_addresses);
  assert_doubles (a->addr_peak_blocks, b->addr_peak_blocks, a->n_addresses);
  assert_doubles (a->addr_fallbacks, b->addr_fallbacks, a->n_addresses);
  assert_memory_equal (&a->blocks_per_address, &b->blocks_per_address, sizeof (double));
  assert_memory_equal (&a->interval_s, &b->interval_s, sizeof (double));
  assert_int_equal (a->n_intervals, b->n_intervals);
  assert_doubles (a->tl_bindings, b->tl_bindings, a->n_intervals);
  assert_doubles (a->tl_ports, b->tl_ports, a->n_intervals);
  assert_doubles (a->tl_failures, b->tl_failures, a->n_intervals);
  assert_doubles (a->tl_addr_ports, b->tl_addr_ports, cells);
  assert_doubles (a->tl_blocks, b->tl_blocks, a->n_intervals);
  assert_doubles (a->tl_block_subscribers, b->tl_block_subscribers, a->n_intervals);
  assert_doubles (a->tl_addr_blocks, b->tl_addr_blocks, cells);
  assert_true ((a->packets == NULL) == (b->packets == NULL));
  if (a->packets != NULL)
    {
      assert_int_equal (a->packets->len, b->packets->len);
      for (guint i = 0; i < a->packets->len; i++)
        assert_packet (&g_array_index (a->packets, NatsimPacketRecord, i),
                       &g_array_index (b->packets, NatsimPacketRecord, i));
    }
  assert_int_equal (a->mem_nat, b->mem_nat);
  assert_int_equal (a->mem_events, b->mem_events);
  assert_int_equal (a->mem_models, b->mem_models);
  assert_int_equal (a->mem_collector, b->mem_collector);
}

static NatsimRunResult *
round_trip (const NatsimRunResult *r, GByteArray **ret_bytes)
{
  g_autoptr (GError) error = NULL;
  GByteArray *out = g_byte_array_new ();
  NatsimSerialReader rd;
  NatsimRunResult *back;

  natsim_serial_put_run_result (out, r);
  natsim_serial_reader_init (&rd, out->data, out->len);
  back = natsim_serial_get_run_result (&rd, &error);
  g_assert_no_error (error);
  assert_non_null (back);
  assert_int_equal (rd.left, 0);
  *ret_bytes = out;
  return back;
}

static void
test_run_result_round_trip (void **state)
{
  g_autoptr (NatsimScenario) s = load ();
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimRunResult) r = natsim_simulate_replication (s, 0, NULL, &error);
  g_autoptr (NatsimRunResult) back = NULL;
  g_autoptr (GByteArray) bytes = NULL;
  g_autoptr (GByteArray) again = g_byte_array_new ();

  g_assert_no_error (error);
  /* The fixture exercises what it claims to. */
  assert_true (r->n_classes == 2 && r->n_addresses == 2 && r->n_intervals == 6);
  assert_true (r->blocks_per_address > 0);
  assert_non_null (r->tl_addr_ports);
  assert_non_null (r->tl_blocks);
  assert_non_null (r->tl_addr_blocks);
  assert_non_null (r->packets);
  assert_true (r->packets->len > 10);
  assert_true (r->totals.v[NATSIM_STAT_PACKETS_OUT] > 0);
  assert_true (r->mem_nat > 0 && r->mem_events > 0 && r->mem_models > 0 &&
               r->mem_collector > 0);

  back = round_trip (r, &bytes);
  assert_run_results_equal (r, back);
  /* Writing what was read gives the same bytes. */
  natsim_serial_put_run_result (again, back);
  assert_int_equal (again->len, bytes->len);
  assert_memory_equal (again->data, bytes->data, bytes->len);
}

/* Values a decimal text would change: signed zero, NaN payloads,
 * infinities, subnormals; and absent arrays stay absent. */
static void
test_run_result_awkward_values (void **state)
{
  NatsimRunResult r = { 0 };
  NatsimStats per_class[1] = { 0 };
  double peak[3] = { -0.0, 0.1 + 0.2, 4.9406564584124654e-324 };
  double nan_payload;
  guint64 bits = UINT64_C (0x7ff8000000000123);
  g_autoptr (NatsimRunResult) back = NULL;
  g_autoptr (GByteArray) bytes = NULL;

  memcpy (&nan_payload, &bits, sizeof bits);
  r.totals.v[NATSIM_STAT_BLOCKING_PROBABILITY] = nan_payload;
  r.totals.v[NATSIM_STAT_FLOWS] = INFINITY;
  r.totals.v[NATSIM_STAT_PACKETS_IN] = -INFINITY;
  r.totals.v[NATSIM_STAT_PACKETS_OUT] = -0.0;
  r.n_classes = 1;
  per_class[0].v[NATSIM_STAT_REBINDINGS] = 1.0 / 3.0;
  r.per_class = per_class;
  r.n_addresses = 3;
  r.addr_peak_ports = peak;
  r.interval_s = 0.1;
  /* Byte counts beyond 32 bits. */
  r.mem_nat = (gsize) G_MAXUINT32 + 7;
  r.mem_events = 1;
  r.mem_models = G_MAXSIZE;
  r.mem_collector = 12345;
  back = round_trip (&r, &bytes);
  assert_run_results_equal (&r, back);
  assert_null (back->addr_failures);
  assert_null (back->tl_bindings);
  assert_null (back->packets);
  assert_true (signbit (back->addr_peak_ports[0]));
  memcpy (&bits, &back->totals.v[NATSIM_STAT_BLOCKING_PROBABILITY], sizeof bits);
  assert_int_equal (bits, UINT64_C (0x7ff8000000000123));
}

/* Every cut of a real result fails with an error, never reads past the
 * end; so does a record of another kind. */
static void
test_run_result_truncated (void **state)
{
  g_autoptr (NatsimScenario) s = load ();
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimRunResult) r = natsim_simulate_replication (s, 0, NULL, &error);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  NatsimSerialReader rd;

  g_assert_no_error (error);
  natsim_serial_put_run_result (out, r);
  for (guint cut = 0; cut < out->len; cut++)
    {
      /* A copy of exactly @cut bytes, so that a read past it is caught
       * by the sanitizers too. */
      g_autofree guint8 *part = g_memdup2 (out->data, MAX (cut, 1));
      NatsimRunResult *back;

      natsim_serial_reader_init (&rd, part, cut);
      back = natsim_serial_get_run_result (&rd, &error);
      assert_null (back);
      assert_non_null (error);
      g_clear_error (&error);
    }
  /* A usage record where a run result belongs. */
  {
    g_autoptr (NatsimUsageResult) u = natsim_usage_result_new (1);
    g_autoptr (GByteArray) other = g_byte_array_new ();

    natsim_serial_put_usage_result (other, u);
    natsim_serial_reader_init (&rd, other->data, other->len);
    assert_null (natsim_serial_get_run_result (&rd, &error));
    assert_non_null (strstr (error->message, "not a run result"));
  }
}

/* A usage tracker fed by a real replication (as the planner's hooks do). */
static void *
usage_begin (const NatsimScenario *s, guint replication, void *user_data)
{
  return natsim_usage_new (s->populations->len,
                           natsim_params_get_duration (s->simulation, "warmup"),
                           natsim_params_get_duration (s->simulation, "duration"),
                           natsim_params_get_duration (s->nat, "tombstone"), true, 0);
}

static void
usage_packet (const NatsimPacket *pkt, const NatsimNatResult *res, void *state)
{
  natsim_usage_on_packet (state, pkt, res);
}

static void
usage_end (void *state, guint replication, void *user_data)
{
  NatsimUsageResult **ret = user_data;

  *ret = natsim_usage_finish (state);
  natsim_usage_free (state);
}

static void
assert_usage_equal (const NatsimUsageResult *a, const NatsimUsageResult *b)
{
  gsize per_class = (gsize) MAX (a->n_classes, 1) * NATSIM_GAP_N;

  assert_int_equal (a->runs, b->runs);
  assert_memory_equal (&a->window_s, &b->window_s, sizeof (double));
  assert_int_equal (a->n_classes, b->n_classes);
  assert_int_equal (a->peak_hist->len, b->peak_hist->len);
  assert_doubles ((double *) a->peak_hist->data, (double *) b->peak_hist->data,
                  a->peak_hist->len);
  assert_int_equal (a->time_hist->len, b->time_hist->len);
  assert_doubles ((double *) a->time_hist->data, (double *) b->time_hist->data,
                  a->time_hist->len);
  assert_memory_equal (&a->subscribers, &b->subscribers, sizeof (double));
  assert_int_equal (a->destinations->len, b->destinations->len);
  for (guint i = 0; i < a->destinations->len; i++)
    {
      const NatsimDestinationLoad *x = &g_array_index (a->destinations, NatsimDestinationLoad, i);
      const NatsimDestinationLoad *y = &g_array_index (b->destinations, NatsimDestinationLoad, i);

      assert_int_equal (x->proto, y->proto);
      assert_int_equal (x->addr, y->addr);
      assert_int_equal (x->port, y->port);
      assert_memory_equal (&x->attempts, &y->attempts, sizeof (double));
      assert_memory_equal (&x->created, &y->created, sizeof (double));
      assert_memory_equal (&x->binding_seconds, &y->binding_seconds, sizeof (double));
    }
  assert_memory_equal (a->port_attempts, b->port_attempts, sizeof a->port_attempts);
  assert_memory_equal (a->port_acquired, b->port_acquired, sizeof a->port_acquired);
  assert_memory_equal (a->port_seconds, b->port_seconds, sizeof a->port_seconds);
  assert_memory_equal (a->gap_hist, b->gap_hist, sizeof a->gap_hist);
  assert_memory_equal (a->gap_count, b->gap_count, sizeof a->gap_count);
  assert_memory_equal (a->gap_max, b->gap_max, sizeof a->gap_max);
  assert_doubles (a->class_gap_max, b->class_gap_max, per_class);
  assert_memory_equal (a->ignored_gap_count, b->ignored_gap_count, sizeof a->ignored_gap_count);
  assert_doubles (a->ignored_class_gap_max, b->ignored_class_gap_max, per_class);
  assert_memory_equal (&a->exposed_flows, &b->exposed_flows, sizeof (double));
  assert_memory_equal (&a->gap_flows, &b->gap_flows, sizeof (double));
  assert_memory_equal (a->flows, b->flows, sizeof a->flows);
}

static void
test_usage_result_round_trip (void **state)
{
  static const NatsimSimHooks hooks = { usage_begin, natsim_usage_on_nat_event, usage_packet,
                                        usage_end, NULL, NULL };
  g_autoptr (NatsimScenario) s = load ();
  g_autoptr (GError) error = NULL;
  g_autoptr (NatsimUsageResult) u = NULL;
  g_autoptr (NatsimUsageResult) back = NULL;
  g_autoptr (NatsimRunResult) r = NULL;
  g_autoptr (GByteArray) out = g_byte_array_new ();
  NatsimSerialReader rd;

  r = natsim_simulate_replication_observed (s, 0, NULL, &hooks, &u, &error);
  g_assert_no_error (error);
  assert_non_null (u);
  /* The fixture fills what it claims to. */
  assert_true (u->destinations->len >= 2);
  assert_true (u->peak_hist->len > 1);
  assert_true (u->subscribers > 0);
  assert_true (u->port_seconds[NATSIM_USAGE_UDP] > 0);

  natsim_serial_put_usage_result (out, u);
  natsim_serial_reader_init (&rd, out->data, out->len);
  back = natsim_serial_get_usage_result (&rd, &error);
  g_assert_no_error (error);
  assert_int_equal (rd.left, 0);
  assert_usage_equal (u, back);

  /* Merged into a sum, the copy gives what the original gives. */
  {
    g_autoptr (NatsimUsageResult) m1 = natsim_usage_result_new (u->n_classes);
    g_autoptr (NatsimUsageResult) m2 = natsim_usage_result_new (u->n_classes);

    natsim_usage_result_merge (m1, u);
    natsim_usage_result_merge (m2, back);
    assert_usage_equal (m1, m2);
  }
  /* Cut anywhere: an error. */
  for (guint cut = 0; cut < out->len; cut += 97)
    {
      NatsimUsageResult *t;

      natsim_serial_reader_init (&rd, out->data, cut);
      t = natsim_serial_get_usage_result (&rd, &error);
      assert_null (t);
      assert_non_null (error);
      g_clear_error (&error);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_run_result_round_trip),
    cmocka_unit_test (test_run_result_awkward_values),
    cmocka_unit_test (test_run_result_truncated),
    cmocka_unit_test (test_usage_result_round_trip),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
