/* natsim: tests of the charts and of report.html in a browser.
 *
 * One binary, three modes (meson runs each as its own test):
 *   test-html charts           charts drawn by gnuplot: SVG shape, series,
 *                              escaping, id prefixes, determinism; exit 77
 *                              when gnuplot is not installed;
 *   test-html charts-fallback  gnuplot absent, failing, hanging or writing
 *                              garbage: the report is still written and
 *                              says why the charts were skipped;
 *   test-html chromium         `natsim simulate` writes report.html, headless
 *                              Chromium loads it (--dump-dom) and takes a
 *                              screenshot; exit 77 when /usr/bin/chromium is
 *                              absent.  Set NATSIM_SCREENSHOT_DIR to keep the
 *                              PNGs and look at them;
 *   test-html pdf              `--format pdf` prints report.html on A4; with
 *                              pdftotext every population and every column
 *                              heading is on paper; exit 77 without Chromium
 *                              or poppler-utils;
 *   test-html numbers          the default scenario and a sweep in text,
 *                              Markdown and HTML: no exponent anywhere,
 *                              half-widths of at most 3 significant digits. */
#include "report-fixture.h"

#include <glib/gstdio.h>
#include <locale.h>
#include <math.h>

#include "natsim/charts.h"

#define SKIP_STATUS 77
#define CHROMIUM "/usr/bin/chromium"
#define BROWSER_TIMEOUT "60"

static guint
count (const char *haystack, const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL;
       p = strstr (p + 1, needle))
    n++;
  return n;
}

/* The SVG is ready to inline: no prolog, one element, prefixed ids. */
static void
check_svg (const char *svg, const char *prefix)
{
  g_autofree char *canvas = g_strdup_printf ("id=\"%s-gnuplot_canvas\"",
                                             prefix);

  assert_non_null (svg);
  assert_true (g_str_has_prefix (svg, "<svg "));
  assert_true (g_str_has_suffix (svg, "</svg>\n"));
  assert_null (strstr (svg, "<?xml"));
  assert_int_equal (count (svg, "<svg"), 1);
  assert_int_equal (count (svg, "</svg>"), 1);
  assert_non_null (strstr (svg, canvas));
  assert_null (strstr (svg, "id=\"gnuplot_canvas\""));
  assert_null (strstr (svg, "href='#gpPt"));
  assert_null (strstr (svg, "<script"));
}

static const double xs[] = { 0.0, 1.0, 2.0, 3.0, 4.0 };
static const double ya[] = { 0.0, 4.0, 9.0, 10.0, 6.0 };
static const double yb[] = { 0.0, 2.5, 3.0, NAN, 1.0 };

static char *
line_chart (GError **error)
{
  const NatsimChartSeries series[] = {
    { "203.0.113.1", ya },
    { "odd <&> 'name' {x}_y^2", yb },
  };
  NatsimLineChart c = { 0 };

  c.title = "Ports & <limits>";
  c.x_label = "time since start (min)";
  c.y_label = "ports in use";
  c.x = xs;
  c.n_x = G_N_ELEMENTS (xs);
  c.series = series;
  c.n_series = G_N_ELEMENTS (series);
  c.limit_label = "pool limit (12 ports)";
  c.limit = 12.0;
  c.y_from_zero = TRUE;
  return natsim_chart_line_svg (&c, "t1", error);
}

static void
test_line_chart (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *svg = line_chart (&error);
  g_autofree char *again = NULL;

  g_assert_no_error (error);
  check_svg (svg, "t1");
  /* The series, the limit and the labels, escaped by gnuplot. */
  assert_non_null (strstr (svg, ">203.0.113.1</text>"));
  assert_non_null (strstr (svg, ">odd &lt;&amp;> 'name' {x}_y^2</text>"));
  assert_non_null (strstr (svg, ">pool limit (12 ports)</text>"));
  assert_non_null (strstr (svg, ">time since start (min)</text>"));
  assert_non_null (strstr (svg, "<title>Ports &amp; &lt;limits&gt;</title>"));
  assert_non_null (strstr (svg, "aria-label=\"Ports &amp; &lt;limits&gt;\""));
  /* Three plotted elements: two series and the limit line. */
  assert_non_null (strstr (svg, "id=\"t1-gnuplot_plot_3\""));

  /* Deterministic: the same input gives the same bytes. */
  again = line_chart (&error);
  g_assert_no_error (error);
  assert_string_equal (svg, again);
}

/* gnuplot's numbers do not follow the caller's LC_NUMERIC. */
static void
test_chart_locale (void **state)
{
  g_autofree char *saved = g_strdup (setlocale (LC_NUMERIC, NULL));
  g_autoptr (GError) error = NULL;
  g_autofree char *svg_c = NULL;
  g_autofree char *svg_l = NULL;

  setlocale (LC_NUMERIC, "C");
  svg_c = line_chart (&error);
  g_assert_no_error (error);
  if (setlocale (LC_NUMERIC, "de_DE.UTF-8") == NULL
      && setlocale (LC_NUMERIC, "de_DE.utf8") == NULL)
    {
      setlocale (LC_NUMERIC, saved);
      skip ();
      return;
    }
  svg_l = line_chart (&error);
  setlocale (LC_NUMERIC, saved);
  g_assert_no_error (error);
  assert_string_equal (svg_l, svg_c);
}

static void
test_bars_and_heatmap (void **state)
{
  const char *const cats[] = { "phones", "apps & <co>", "gateways" };
  const double losses[] = { 12.0, 0.0, 3.5 };
  const double rebinds[] = { 40.0, 1.0, 0.0 };
  const NatsimChartSeries series[] = {
    { "binding losses", losses },
    { "rebindings", rebinds },
  };
  const double hx[] = { 1.0, 2.0, 4.0 };
  const double hy[] = { 30.0, 60.0 };
  const double hz[] = { 0.5, 0.25, 0.125, 0.05, 0.01, 0.001 };
  NatsimBarChart b = { 0 };
  NatsimHeatMap h = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *bars = NULL;
  g_autofree char *heat = NULL;

  b.title = "Binding losses per class";
  b.y_label = "packets";
  b.categories = cats;
  b.n_categories = G_N_ELEMENTS (cats);
  b.series = series;
  b.n_series = G_N_ELEMENTS (series);
  bars = natsim_chart_bars_svg (&b, "b", &error);
  g_assert_no_error (error);
  check_svg (bars, "b");
  assert_non_null (strstr (bars, ">apps &amp; &lt;co></text>"));
  assert_non_null (strstr (bars, ">rebindings</text>"));
  assert_non_null (strstr (bars, ">3.5</text>")); /* value above its bar */

  h.title = "Blocking";
  h.x_label = "addresses";
  h.y_label = "udp_timeout (s)";
  h.z_label = "blocking probability";
  h.x = hx;
  h.n_x = G_N_ELEMENTS (hx);
  h.y = hy;
  h.n_y = G_N_ELEMENTS (hy);
  h.z = hz;
  h.show_values = TRUE;
  heat = natsim_chart_heatmap_svg (&h, "h", &error);
  g_assert_no_error (error);
  check_svg (heat, "h");
  assert_non_null (strstr (heat, ">udp_timeout (s)</text>"));
  assert_non_null (strstr (heat, ">0.125</text>"));
  /* Discrete cells drawn as shapes, not an image a viewer could smooth
   * between grid points. */
  assert_null (strstr (heat, "<image"));
  assert_non_null (strstr (heat, ">blocking probability</text>")); /* the colour scale */
  g_free (heat);

  /* A constant metric: one colour, no invented scale around it. */
  {
    const double zero[] = { 0, 0, 0, 0, 0, 0 };

    h.z = zero;
    heat = natsim_chart_heatmap_svg (&h, "h", &error);
    g_assert_no_error (error);
    assert_non_null (strstr (heat, "Blocking (the same at every point)"));
    assert_null (strstr (heat, ">blocking probability</text>"));
    assert_null (strstr (heat, ">-1</text>"));
    h.z = hz;
  }

  /* Bad arguments are refused without running gnuplot. */
  b.n_categories = 0;
  assert_null (natsim_chart_bars_svg (&b, "b", &error));
  g_assert_error (error, NATSIM_CHART_ERROR, NATSIM_CHART_ERROR_INVALID);
  g_clear_error (&error);
  b.n_categories = 1;
  assert_null (natsim_chart_bars_svg (&b, "bad id", &error));
  g_assert_error (error, NATSIM_CHART_ERROR, NATSIM_CHART_ERROR_INVALID);
}

/* A line chart is scaled to its data: 414 ports against a pool of
 * 64,512 gets an axis up to about 450, the pool as a share on a second
 * axis, no limit line far above; tic labels by natsim's formatter; the
 * warm-up shaded and labelled. */
static void
test_line_chart_scaled (void **state)
{
  static const double x[] = { 0.0, 10.0, 20.0, 30.0 };
  static const double y[] = { 0.0, 1200.0, 1414.0, 1390.0 };
  const NatsimChartSeries series[] = { { "203.0.113.1", y } };
  NatsimLineChart c = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *svg = NULL;
  g_autoptr (GRegex) exp = g_regex_new (">[^<]*[0-9][eE][-+]?[0-9][^<]*</text>", 0, 0, NULL);

  c.title = "Ports";
  c.x_label = "time since start (min)";
  c.y_label = "ports in use";
  c.x = x;
  c.n_x = G_N_ELEMENTS (x);
  c.series = series;
  c.n_series = 1;
  c.limit_label = "pool limit (64,512 ports)";
  c.limit = 64512.0;
  c.y_from_zero = TRUE;
  c.y2_share_of = 64512.0;
  c.y2_label = "share of the 64,512 pool";
  c.shade_label = "warm-up";
  c.shade_to = 5.0;
  c.x_time = TRUE;
  svg = natsim_chart_line_svg (&c, "s1", &error);
  g_assert_no_error (error);
  check_svg (svg, "s1");
  assert_null (strstr (svg, ">pool limit (64,512 ports)</text>"));
  assert_null (strstr (svg, ">60,000</text>"));
  assert_non_null (strstr (svg, ">1,500</text>"));
  assert_non_null (strstr (svg, ">share of the 64,512 pool</text>"));
  assert_non_null (strstr (svg, ">2 %</text>"));
  assert_non_null (strstr (svg, ">warm-up</text>"));
  /* Minutes at clock steps: 0, 5, 10, 15, ... */
  assert_non_null (strstr (svg, ">15</text>"));
  assert_false (g_regex_match (exp, svg, 0, NULL));
  g_free (svg);

  /* Near the pool the limit line is drawn and the axis reaches it. */
  c.limit = 1500.0;
  c.y2_share_of = 1500.0;
  c.limit_label = "pool limit (1,500 ports)";
  svg = natsim_chart_line_svg (&c, "s2", &error);
  g_assert_no_error (error);
  assert_non_null (strstr (svg, ">pool limit (1,500 ports)</text>"));
  assert_non_null (strstr (svg, ">100 %</text>"));
  g_free (svg);

  /* A figure that never moves says so in its title. */
  {
    static const double flat[] = { 0.0, 0.0, 0.0, 0.0 };
    const NatsimChartSeries zero[] = { { "blocking", flat } };
    NatsimLineChart f = { 0 };

    f.title = "blocking probability";
    f.x = x;
    f.n_x = G_N_ELEMENTS (x);
    f.series = zero;
    f.n_series = 1;
    f.y_from_zero = TRUE;
    svg = natsim_chart_line_svg (&f, "s3", &error);
    g_assert_no_error (error);
    assert_non_null (strstr (svg, ">blocking probability (the same at every point)</text>"));
  }
}

static void
test_report_charts (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autofree char *json = natsim_report_to_json (r);
  g_autofree char *html = natsim_report_to_html (r, TRUE);
  g_autofree char *again = natsim_report_to_html (r, TRUE);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("natsim-html-XXXXXX", &error);
  g_autofree char *json_path = NULL;
  g_autofree char *got = NULL;

  g_assert_no_error (error);
  /* Ports per address, bindings, failures over time, losses per class. */
  assert_int_equal (count (html, "<svg "), 4);
  assert_non_null (strstr (html, "<figure id=\"chart-ports\">"));
  assert_non_null (strstr (html, "<figure id=\"chart-bindings\">"));
  assert_non_null (strstr (html, "<figure id=\"chart-failures\">"));
  assert_non_null (strstr (html, "<figure id=\"chart-losses\">"));
  assert_non_null (strstr (html, ">203.0.113.2</text>"));
  assert_non_null (strstr (html, ">pool limit (10 ports)</text>"));
  assert_null (strstr (html, "Charts were skipped"));
  /* The page is deterministic, charts included. */
  assert_string_equal (html, again);

  /* report.json holds nothing of the charts. */
  assert_true (natsim_report_write_dir (r, dir, "json,html", &error));
  g_assert_no_error (error);
  json_path = g_build_filename (dir, "report.json", NULL);
  assert_true (g_file_get_contents (json_path, &got, NULL, NULL));
  assert_string_equal (got, json);
  assert_null (strstr (got, "svg"));
  {
    g_autofree char *p = g_build_filename (dir, "report.html", NULL);

    g_unlink (p);
  }
  g_unlink (json_path);
  g_rmdir (dir);
}

/* ---- without a working gnuplot ---- */

static char *
write_script (const char *dir, const char *name, const char *body)
{
  char *path = g_build_filename (dir, name, NULL);

  assert_true (g_file_set_contents (path, body, -1, NULL));
  assert_int_equal (g_chmod (path, 0755), 0);
  return path;
}

static void
test_fallback (void **state)
{
  g_autoptr (NatsimReport) r = make_report ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("natsim-nognuplot-XXXXXX", &error);
  g_autofree char *missing = g_build_filename (dir, "no-such-gnuplot", NULL);
  g_autofree char *failing = NULL;
  g_autofree char *hanging = NULL;
  g_autofree char *garbage = NULL;
  g_autofree char *html = NULL;
  g_autofree char *svg = NULL;
  gint64 start;

  g_assert_no_error (error);
  failing = write_script (dir, "failing",
                          "#!/bin/sh\ncat >/dev/null\n"
                          "echo 'line 3: unknown terminal type' >&2\n"
                          "exit 1\n");
  hanging = write_script (dir, "hanging", "#!/bin/sh\nexec sleep 60\n");
  garbage = write_script (dir, "garbage",
                          "#!/bin/sh\ncat >/dev/null\necho hello\n");

  /* Disabled. */
  g_setenv ("NATSIM_NO_CHARTS", "1", TRUE);
  assert_false (natsim_charts_available (&error));
  g_assert_error (error, NATSIM_CHART_ERROR, NATSIM_CHART_ERROR_DISABLED);
  g_clear_error (&error);
  g_unsetenv ("NATSIM_NO_CHARTS");

  /* Not installed: the report is complete and says so. */
  g_setenv ("NATSIM_GNUPLOT", missing, TRUE);
  assert_false (natsim_charts_available (&error));
  g_assert_error (error, NATSIM_CHART_ERROR, NATSIM_CHART_ERROR_NO_GNUPLOT);
  assert_string_equal (error->message, "gnuplot is not installed");
  g_clear_error (&error);
  html = natsim_report_to_html (r, TRUE);
  assert_non_null (strstr (html, "Charts were skipped: gnuplot is not "
                                 "installed."));
  assert_null (strstr (html, "<svg"));
  assert_non_null (strstr (html, "id=\"per-address\""));
  g_free (html);

  /* Failing: the reason, from gnuplot's message. */
  g_setenv ("NATSIM_GNUPLOT", failing, TRUE);
  svg = line_chart (&error);
  assert_null (svg);
  g_assert_error (error, NATSIM_CHART_ERROR, NATSIM_CHART_ERROR_FAILED);
  assert_string_equal (error->message,
                       "gnuplot failed: line 3: unknown terminal type");
  g_clear_error (&error);
  html = natsim_report_to_html (r, TRUE);
  assert_non_null (strstr (html, "Charts were skipped: gnuplot failed: "
                                 "line 3: unknown terminal type."));
  g_free (html);

  /* Writing something that is not SVG. */
  g_setenv ("NATSIM_GNUPLOT", garbage, TRUE);
  svg = line_chart (&error);
  assert_null (svg);
  g_assert_error (error, NATSIM_CHART_ERROR, NATSIM_CHART_ERROR_FAILED);
  assert_string_equal (error->message, "gnuplot wrote no SVG document");
  g_clear_error (&error);

  /* Hanging: stopped at the time limit, once for the whole report. */
  g_setenv ("NATSIM_GNUPLOT", hanging, TRUE);
  g_setenv ("NATSIM_CHART_TIMEOUT", "1", TRUE);
  start = g_get_monotonic_time ();
  html = natsim_report_to_html (r, TRUE);
  assert_true (g_get_monotonic_time () - start < 10 * G_USEC_PER_SEC);
  assert_non_null (strstr (html, "Charts were skipped: gnuplot did not "
                                 "finish within 1 s and was stopped."));

  g_unsetenv ("NATSIM_CHART_TIMEOUT");
  g_unsetenv ("NATSIM_GNUPLOT");
  g_unlink (failing);
  g_unlink (hanging);
  g_unlink (garbage);
  g_rmdir (dir);
}

/* ---- in a browser ---- */

/* Runs headless Chromium on @url with @action (--dump-dom or
 * --screenshot=FILE), bounded by timeout(1); returns its stdout. */
static char *
chromium (const char *url, const char *action, char **ret_err)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *profile = g_dir_make_tmp ("natsim-chromium-XXXXXX",
                                             &error);
  g_autofree char *user_dir = NULL;
  char *out = NULL;
  int status = -1;

  g_assert_no_error (error);
  user_dir = g_strdup_printf ("--user-data-dir=%s", profile);
  {
    const char *argv[] = {
      "timeout", "-k", "5", BROWSER_TIMEOUT, CHROMIUM, "--headless",
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--hide-scrollbars", "--window-size=1280,1600",
      user_dir, action, url, NULL,
    };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
                  NULL, &out, ret_err, &status, &error);
  }
  g_assert_no_error (error);
  remove_tree (profile);
  if (!g_spawn_check_exit_status (status, &error))
    fail_msg ("chromium %s: %s\n%s", action, error->message,
              ret_err != NULL && *ret_err != NULL ? *ret_err : "");
  return out;
}

static void
render_in_browser (const char *scenario, const char *name)
{
  const char *natsim = g_getenv ("NATSIM");
  const char *root = g_getenv ("NATSIM_SOURCE_ROOT");
  const char *keep = g_getenv ("NATSIM_SCREENSHOT_DIR");
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("natsim-browser-XXXXXX", &error);
  g_autofree char *page = NULL;
  g_autofree char *url = NULL;
  g_autofree char *dom = NULL;
  g_autofree char *err = NULL;
  g_autofree char *shot = NULL;
  g_autofree char *shot_arg = NULL;
  g_autofree char *png = NULL;
  g_autofree char *html = NULL;
  gsize png_len = 0;
  gboolean charts = natsim_charts_available (NULL);
  int status = -1;

  g_assert_no_error (error);
  if (natsim == NULL || root == NULL)
    fail_msg ("NATSIM and NATSIM_SOURCE_ROOT are not set (run through "
              "meson test)");
  {
    g_autofree char *ini = g_build_filename (root, "scenarios", scenario,
                                             NULL);
    const char *argv[] = { natsim, "simulate", ini, "--quiet", "--out", dir,
                           "--format", "json,html", NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                  NULL, NULL, &status, &error);
    g_assert_no_error (error);
    assert_true (g_spawn_check_exit_status (status, NULL));
  }
  page = g_build_filename (dir, "report.html", NULL);
  assert_true (g_file_get_contents (page, &html, NULL, NULL));
  url = g_filename_to_uri (page, NULL, &error);
  g_assert_no_error (error);

  /* The page loads and its DOM holds the sections and the charts. */
  dom = chromium (url, "--dump-dom", &err);
  assert_non_null (dom);
  assert_non_null (strstr (dom, "<h2>Findings</h2>"));
  assert_non_null (strstr (dom, "<h2>Recommendations</h2>"));
  assert_non_null (strstr (dom, "<h2>Evidence</h2>"));
  assert_non_null (strstr (dom, "id=\"per-class\""));
  assert_non_null (strstr (dom, "id=\"per-address\""));
  assert_non_null (strstr (dom, "</html>"));
  if (charts)
    {
      assert_true (count (dom, "<svg ") >= 3);
      assert_int_equal (count (dom, "<svg "), count (html, "<svg "));
      assert_non_null (strstr (dom, "id=\"chart-ports\""));
      assert_non_null (strstr (dom, "pool limit"));
    }
  else
    assert_non_null (strstr (dom, "Charts were skipped"));
  /* No script error, no failed load (the page has no script and loads
   * nothing: anything here is a bug). */
  assert_null (strstr (err, "Uncaught"));
  assert_null (strstr (err, "net::ERR_"));

  /* A screenshot. */
  shot = keep != NULL ? g_build_filename (keep, name, NULL)
                      : g_build_filename (dir, name, NULL);
  shot_arg = g_strdup_printf ("--screenshot=%s", shot);
  g_free (chromium (url, shot_arg, NULL));
  assert_true (g_file_get_contents (shot, &png, &png_len, NULL));
  assert_true (png_len > 1000);
  assert_memory_equal (png, "\x89PNG\r\n\x1a\n", 8);
  if (keep != NULL)
    print_message ("screenshot: %s\n", shot);

  remove_tree (dir);
}

static void
test_browser_classroom (void **state)
{
  render_in_browser ("classroom-exhaustion.ini", "classroom-exhaustion.png");
}

static void
test_browser_erlang (void **state)
{
  render_in_browser ("erlang-b.ini", "erlang-b.png");
}

/* ---- on paper and in numbers ---- */

/* Runs natsim with @args (NULL-terminated, after the program); asserts
 * success. */
static void
run_natsim (const char *const *args)
{
  const char *natsim = g_getenv ("NATSIM");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  int status = -1;

  if (natsim == NULL)
    fail_msg ("NATSIM is not set (run through meson test)");
  g_ptr_array_add (argv, (gpointer) natsim);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_exit_status (status, NULL))
    fail_msg ("natsim %s failed: %s", args[0], err);
}

static char *
read_file (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    fail_msg ("%s was not written", path);
  return text;
}

/* The text a person sees in @html: tags dropped (SVG <text> kept: chart
 * labels are text too), the stylesheet dropped, entities decoded, white
 * space collapsed. */
static char *
visible_text (const char *html)
{
  g_autoptr (GRegex) style = g_regex_new ("<style>.*?</style>", G_REGEX_DOTALL, 0, NULL);
  g_autoptr (GRegex) tags = g_regex_new ("<[^>]*>", 0, 0, NULL);
  g_autoptr (GRegex) space = g_regex_new ("\\s+", 0, 0, NULL);
  g_autofree char *a = g_regex_replace_literal (style, html, -1, 0, "", 0, NULL);
  g_autofree char *b = g_regex_replace_literal (tags, a, -1, 0, " ", 0, NULL);
  g_autofree char *c = g_regex_replace_literal (space, b, -1, 0, " ", 0, NULL);
  GString *out = g_string_new (NULL);

  for (const char *p = c; *p != '\0'; p++)
    {
      static const struct
      {
        const char *entity, *ch;
      } entities[] = { { "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" },
                       { "&quot;", "\"" }, { "&#39;", "'" }, { "&apos;", "'" } };
      gboolean done = FALSE;

      for (gsize k = 0; k < G_N_ELEMENTS (entities) && !done; k++)
        if (g_str_has_prefix (p, entities[k].entity))
          {
            g_string_append (out, entities[k].ch);
            p += strlen (entities[k].entity) - 1;
            done = TRUE;
          }
      if (!done)
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

/* No number in exponent notation, and no "± 16.707843102739446": a
 * half-width keeps at most 3 significant digits. */
static void
check_numbers (const char *what, const char *text)
{
  g_autoptr (GRegex) exp = g_regex_new ("(^|[^A-Za-z0-9_.])[0-9]+(\\.[0-9]+)?[eE][-+]?[0-9]+\\b",
                                        0, 0, NULL);
  g_autoptr (GRegex) ci = g_regex_new ("±\\s*([0-9][0-9,.]*)", 0, 0, NULL);
  g_autoptr (GMatchInfo) m = NULL;

  if (g_regex_match (exp, text, 0, &m))
    {
      g_autofree char *hit = g_match_info_fetch (m, 0);

      fail_msg ("%s: a number in exponent notation: '%s'", what, hit);
    }
  g_clear_pointer (&m, g_match_info_free);
  g_regex_match (ci, text, 0, &m);
  for (; g_match_info_matches (m); g_match_info_next (m, NULL))
    {
      g_autofree char *num = g_match_info_fetch (m, 1);
      guint digits = 0, trailing = 0;
      gboolean started = FALSE, fraction = FALSE;

      for (const char *p = num; *p != '\0'; p++)
        {
          if (*p == '.')
            fraction = TRUE;
          if (!g_ascii_isdigit (*p))
            continue;
          if (*p != '0')
            started = TRUE;
          if (started)
            {
              digits++;
              trailing = *p == '0' && !fraction ? trailing + 1 : 0;
            }
        }
      /* Integers' trailing zeros (24,900) are rounding, not digits. */
      if (digits - trailing > 3)
        fail_msg ("%s: a half-width with more than 3 significant digits: '± %s'", what, num);
    }
}

/* The default scenario and a sweep, in every format for people: no
 * exponent anywhere, half-widths of at most 3 significant digits,
 * thousands separated, "1 address" in the singular. */
static void
test_numbers (void **state)
{
  const char *root = g_getenv ("NATSIM_SOURCE_ROOT");
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("natsim-numbers-XXXXXX", &error);
  g_autofree char *sim = NULL;
  g_autofree char *sw = NULL;
  g_autofree char *one = NULL;
  g_autofree char *def = NULL;
  g_autofree char *sweep_ini = NULL;

  g_assert_no_error (error);
  sim = g_build_filename (dir, "sim", NULL);
  sw = g_build_filename (dir, "sweep", NULL);
  one = g_build_filename (dir, "one", NULL);
  def = g_build_filename (root, "scenarios", "default.ini", NULL);
  sweep_ini = g_build_filename (root, "scenarios", "sweep-timeout.ini", NULL);
  {
    const char *args[] = { "simulate", def, "--out", sim, "--format", "text,md,html", NULL };

    run_natsim (args);
  }
  {
    const char *args[] = { "sweep", sweep_ini, "--vary", "nat.udp_timeout=20s,40s,90s",
                           "--vary", "simulation.replications=3,4", "--out", sw, "--format",
                           "text,md,html", "--quiet", NULL };

    run_natsim (args);
  }
  {
    /* One public address: the sentences use the singular. */
    const char *args[] = { "simulate", sweep_ini, "--out", one, "--format", "text,md,html",
                           "--set", "nat.port_range=1024-1123", "--quiet", NULL };

    run_natsim (args);
  }
  {
    static const char *const files[][2] = {
      { "sim", "report.txt" }, { "sim", "report.md" }, { "sim", "report.html" },
      { "sweep", "sweep.txt" }, { "sweep", "sweep.md" }, { "sweep", "sweep.html" },
      { "one", "report.txt" }, { "one", "report.md" }, { "one", "report.html" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
      {
        g_autofree char *sub = g_build_filename (dir, files[i][0], NULL);
        g_autofree char *raw = read_file (sub, files[i][1]);
        g_autofree char *text = g_str_has_suffix (files[i][1], ".html") ? visible_text (raw)
                                                                       : g_strdup (raw);
        g_autofree char *what = g_strdup_printf ("%s/%s", files[i][0], files[i][1]);

        check_numbers (what, text);
        assert_null (strstr (text, "1 addresses"));
        if (strcmp (files[i][0], "sim") == 0)
          /* Thousands separated: the pool of 64,512 ports. */
          assert_non_null (strstr (text, "64,512"));
      }
  }
  remove_tree (dir);
}

/* pdftotext's text of @pdf, white space collapsed. */
static char *
pdf_text (const char *pdf)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GRegex) space = g_regex_new ("\\s+", 0, 0, NULL);
  g_autofree char *out = NULL;
  int status = -1;
  const char *argv[] = { "pdftotext", "-enc", "UTF-8", pdf, "-", NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, &out, NULL, &status, &error);
  g_assert_no_error (error);
  assert_true (g_spawn_check_exit_status (status, NULL));
  return g_regex_replace_literal (space, out, -1, 0, " ", 0, NULL);
}

/* `natsim simulate --format html,pdf` prints report.html on A4; on paper
 * every population and every column heading of every table is there
 * (the populations table used to lose its last columns at the page's
 * right edge). */
static void
test_pdf (void **state)
{
  const char *root = g_getenv ("NATSIM_SOURCE_ROOT");
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("natsim-pdf-XXXXXX", &error);
  g_autofree char *def = g_build_filename (root, "scenarios", "default.ini", NULL);
  g_autofree char *pdf = g_build_filename (dir, "report.pdf", NULL);
  g_autofree char *html = NULL;
  g_autofree char *paper = NULL;
  g_autofree char *info = NULL;
  g_autoptr (GRegex) th = g_regex_new ("<th[^>]*>(.*?)</th>", 0, 0, NULL);
  g_autoptr (GMatchInfo) m = NULL;
  static const char *const populations[] = { "phones", "rooms", "desktops", "mobiles",
                                             "gateway", "atas", "intercoms" };
  const char *pops, *sim_end;
  guint headings = 0;

  g_assert_no_error (error);
  {
    const char *args[] = { "simulate", def, "--out", dir, "--format", "html,pdf", "--quiet",
                           NULL };

    run_natsim (args);
  }
  html = read_file (dir, "report.html");
  paper = pdf_text (pdf);

  /* A4. */
  {
    const char *argv[] = { "pdfinfo", pdf, NULL };
    int status = -1;

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                  NULL, NULL, &info, NULL, &status, &error);
    g_assert_no_error (error);
    assert_non_null (strstr (info, "(A4)"));
  }
  /* Every population in the populations tables on paper. */
  pops = strstr (paper, "POPULATIONS");
  assert_non_null (pops);
  sim_end = strstr (pops, "SIMULATION");
  assert_non_null (sim_end);
  for (gsize i = 0; i < G_N_ELEMENTS (populations); i++)
    {
      g_autofree char *section = g_strndup (pops, (gsize) (sim_end - pops));

      if (strstr (section, populations[i]) == NULL)
        fail_msg ("population %s is not on paper", populations[i]);
    }
  /* Every word of every column heading. */
  g_regex_match (th, html, 0, &m);
  for (; g_match_info_matches (m); g_match_info_next (m, NULL))
    {
      g_autofree char *cell = g_match_info_fetch (m, 1);
      g_autofree char *text = visible_text (cell);
      g_auto (GStrv) words = g_strsplit (g_strstrip (text), " ", -1);

      for (guint w = 0; words[w] != NULL; w++)
        if (*words[w] != '\0' && strstr (paper, words[w]) == NULL)
          fail_msg ("column heading '%s' is not on paper", text);
      headings++;
    }
  assert_true (headings > 20);
  /* The last column of the widest tables, and the last row. */
  assert_non_null (strstr (paper, "peak bindings"));
  assert_non_null (strstr (paper, "all classes"));
  remove_tree (dir);
}

int
main (int argc, char **argv)
{
  const struct CMUnitTest chart_tests[] = {
    cmocka_unit_test (test_line_chart),
    cmocka_unit_test (test_chart_locale),
    cmocka_unit_test (test_bars_and_heatmap),
    cmocka_unit_test (test_line_chart_scaled),
    cmocka_unit_test (test_report_charts),
  };
  const struct CMUnitTest fallback_tests[] = {
    cmocka_unit_test (test_fallback),
  };
  const struct CMUnitTest browser_tests[] = {
    cmocka_unit_test (test_browser_classroom),
    cmocka_unit_test (test_browser_erlang),
  };
  const struct CMUnitTest pdf_tests[] = {
    cmocka_unit_test (test_pdf),
  };
  const struct CMUnitTest number_tests[] = {
    cmocka_unit_test (test_numbers),
  };
  const char *mode = argc > 1 ? argv[1] : "";

  setlocale (LC_ALL, "");
  g_unsetenv ("NATSIM_NO_CHARTS");
  if (strcmp (mode, "charts") == 0)
    {
      if (!natsim_charts_available (NULL))
        {
          printf ("gnuplot is not installed; skipped\n");
          return SKIP_STATUS;
        }
      return cmocka_run_group_tests (chart_tests, NULL, NULL);
    }
  if (strcmp (mode, "charts-fallback") == 0)
    return cmocka_run_group_tests (fallback_tests, NULL, NULL);
  if (strcmp (mode, "chromium") == 0)
    {
      if (!g_file_test (CHROMIUM, G_FILE_TEST_IS_EXECUTABLE))
        {
          printf (CHROMIUM " is not installed; skipped\n");
          return SKIP_STATUS;
        }
      return cmocka_run_group_tests (browser_tests, NULL, NULL);
    }
  if (strcmp (mode, "pdf") == 0)
    {
      g_autofree char *pdftotext = g_find_program_in_path ("pdftotext");
      g_autofree char *pdfinfo = g_find_program_in_path ("pdfinfo");
      g_autofree char *why = natsim_report_pdf_unavailable ();

      if (why != NULL || pdftotext == NULL || pdfinfo == NULL)
        {
          printf ("%s; skipped\n", why != NULL ? why : "pdftotext (poppler-utils) is not installed");
          return SKIP_STATUS;
        }
      return cmocka_run_group_tests (pdf_tests, NULL, NULL);
    }
  if (strcmp (mode, "numbers") == 0)
    {
      /* Charts too when gnuplot is there: their labels are text. */
      return cmocka_run_group_tests (number_tests, NULL, NULL);
    }
  fprintf (stderr, "usage: test-html charts|charts-fallback|chromium|pdf|numbers\n");
  return 2;
}
