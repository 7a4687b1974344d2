/* natsim: the one stylesheet of report.html, sweep.html and analysis.html,
 * and the head every page starts with.
 *
 * On screen: a column of at most ~62 rem, tables that scroll sideways
 * when wide.  On paper (A4): no backgrounds needed to read it, tables as
 * wide as the page with their cells wrapping (nothing is cut off at the
 * right edge), rows and charts kept whole, headings kept with what
 * follows.  The colours keep a 4.5:1 contrast on white. */
#include "report-private.h"

const char report_stylesheet[] =
  ":root{--ink:#1f2328;--muted:#57606a;--line:#d0d7de;--alt:#f6f8fa;"
  "--bad:#b42318;--note:#9a6700;--ok:#1a7f37}\n"
  "*{box-sizing:border-box}\n"
  "body{margin:0;color:var(--ink);background:#fff;"
  "font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,"
  "\"Noto Sans\",\"DejaVu Sans\",sans-serif}\n"
  "main{max-width:62rem;margin:0 auto;padding:2rem 1.5rem 3rem}\n"
  "h1{font-size:1.6rem;line-height:1.25;margin:0 0 .3rem;overflow-wrap:anywhere}\n"
  "h2{font-size:1.3rem;margin:2.4rem 0 .8rem;padding-bottom:.3rem;"
  "border-bottom:2px solid var(--line)}\n"
  "h3{font-size:1.12rem;margin:2rem 0 .6rem}\n"
  "h4{font-size:.95rem;margin:1.2rem 0 .4rem;color:var(--muted);"
  "text-transform:uppercase;letter-spacing:.04em}\n"
  ".meta{color:var(--muted);margin:0}\n"
  "p.headline{margin:.4rem 0 1rem;padding:.65rem 1rem;border:2px solid var(--line);"
  "border-radius:6px}\n"
  "ul.findings{list-style:none;padding:0;margin:0}\n"
  "ul.findings li{margin:.7rem 0;padding:.65rem 1rem;background:var(--alt);"
  "border-left:6px solid var(--ok);border-radius:0 6px 6px 0}\n"
  "ul.findings li.bad{border-left-color:var(--bad)}\n"
  "ul.findings li.note{border-left-color:var(--note)}\n"
  ".tag{display:block;font-size:.74rem;line-height:1.3;"
  "font-weight:700;text-transform:uppercase;letter-spacing:.05em;"
  "color:var(--ok)}\n"
  "li.bad .tag{color:var(--bad)}\nli.note .tag{color:var(--note)}\n"
  ".basis,.note-text,figcaption{color:var(--muted);font-size:.93rem}\n"
  ".skipped{padding:.5rem .9rem;border:1px dashed var(--line);"
  "color:var(--muted)}\n"
  ".table-wrap{overflow-x:auto;margin:.4rem 0 .6rem}\n"
  "table{border-collapse:collapse;font-size:.88rem}\n"
  "th,td{padding:.32rem .7rem;border-bottom:1px solid var(--line);"
  "text-align:left;vertical-align:top}\n"
  "th{background:var(--alt);font-weight:600;vertical-align:bottom}\n"
  "td:first-child{white-space:nowrap}\n"
  "th.num,td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
  "td.num{white-space:nowrap}\n"
  "tr.total td{font-weight:600;border-top:2px solid var(--ink)}\n"
  "code{font-family:ui-monospace,\"DejaVu Sans Mono\",Menlo,monospace;"
  "font-size:.88em}\n"
  "dl.kv{columns:2 20rem;column-gap:2.5rem;margin:.3rem 0 .8rem;"
  "font-size:.9rem}\n"
  "dl.kv div{display:flex;gap:.8rem;justify-content:space-between;"
  "padding:.18rem 0;border-bottom:1px solid var(--line);"
  "break-inside:avoid}\n"
  "dl.kv dt,dl.kv dd{margin:0}\ndl.kv dd{text-align:right;"
  "overflow-wrap:anywhere}\n"
  "figure{margin:1rem 0 1.6rem;break-inside:avoid}\n"
  "figure svg{display:block;width:100%;height:auto}\n"
  "figcaption{margin-top:.3rem}\n"
  "footer{margin-top:3rem;color:var(--muted);font-size:.85rem}\n"
  "@page{size:A4;margin:14mm 12mm}\n"
  "@media print{html{font-size:10pt}body{font-size:9.5pt}main{max-width:none;padding:0}"
  "h2,h3,h4{break-after:avoid}figure,li,tr,dl.kv div{break-inside:avoid}"
  "thead{display:table-header-group}"
  ".table-wrap{overflow:visible}"
  "table{max-width:100%;font-size:8pt}"
  "th,td,td:first-child{white-space:normal;overflow-wrap:break-word;"
  "padding:.2rem .35rem}td.num,tr.total td{white-space:nowrap}"
  "ul.findings li{background:none}"
  "figure svg{max-height:100mm}}\n";

void
report_html_begin (GString *out, const char *title)
{
  g_autofree char *valid = g_utf8_make_valid (title != NULL ? title : "natsim", -1);
  g_autofree char *escaped = g_markup_escape_text (valid, -1);

  g_string_append (out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                        "<meta charset=\"utf-8\">\n"
                        "<meta name=\"viewport\" content=\"width=device-width, "
                        "initial-scale=1\">\n"
                        "<meta name=\"generator\" content=\"natsim "
                        NATSIM_VERSION "\">\n<title>");
  g_string_append (out, escaped);
  g_string_append (out, "</title>\n<style>\n");
  g_string_append (out, report_stylesheet);
  g_string_append (out, "</style>\n</head>\n<body>\n<main>\n<header>\n<h1>");
  g_string_append (out, escaped);
  g_string_append (out, "</h1>\n");
}
