/* natsim: packet sequence diagrams as inline SVG.
 *
 * Lanes are vertical lines (inside hosts, the NAT, remotes); each packet
 * is one row: a caption, an arrow from its sender to the NAT labelled with
 * the packet as sent, and an arrow from the NAT to its receiver labelled
 * with the packet as translated, or a cross at the NAT with the reason it
 * was dropped.  Plain SVG 1.1 with system fonts, no script: it renders the
 * same in a browser, in print and in a PDF.
 */
#include "seqdiag.h"

#define LANE_W   250.0
#define LEFT     90.0
#define TOP      58.0
#define ROW_H    48.0

static double
lane_x (guint i)
{
  return LEFT + LANE_W / 2 + LANE_W * i;
}

static void
text (GString *s, double x, double y, const char *anchor, const char *cls, const char *str)
{
  g_autofree char *esc = g_markup_escape_text (str, -1);

  g_string_append_printf (s, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" class=\"%s\">%s</text>\n",
                          x, y, anchor, cls, esc);
}

static void
arrow (GString *s, double x1, double x2, double y, const char *cls)
{
  double dir = x2 >= x1 ? 1.0 : -1.0;

  g_string_append_printf (s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"%s\"/>\n",
                          x1, y, x2, y, cls);
  g_string_append_printf (s, "<path d=\"M%.1f %.1f l%.1f -4 l0 8 z\" class=\"%s-head\"/>\n",
                          x2, y, -8.0 * dir, cls);
}

char *
report_seq_diagram_svg (const SeqLane *lanes, guint n_lanes, guint nat_lane,
                        const SeqMessage *msgs, guint n_msgs)
{
  GString *s = g_string_new (NULL);
  double width = LEFT + LANE_W * n_lanes + 10;
  double height = TOP + ROW_H * n_msgs + 20;

  g_return_val_if_fail (n_lanes > 0 && nat_lane < n_lanes, g_string_free (s, FALSE));
  g_string_append_printf (s,
    "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"seq\" width=\"%.0f\" height=\"%.0f\" "
    "viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n"
    "<style>text{font-family:sans-serif;font-size:11px;fill:#222}"
    ".lane{font-weight:bold;font-size:12px}.sub{fill:#555}.cap{font-style:italic}"
    ".tm{fill:#555}.drop{fill:#b00020}.life{stroke:#999;stroke-dasharray:4 3}"
    ".nat{stroke:#2a5d9f;stroke-width:3}.pkt{stroke:#222;stroke-width:1.3}"
    ".pkt-head{fill:#222}.xl{stroke:#2a5d9f;stroke-width:1.3}.xl-head{fill:#2a5d9f}"
    ".x{stroke:#b00020;stroke-width:2.5}.box{fill:#eef3fa;stroke:#2a5d9f}</style>\n",
    width, height, width, height);
  for (guint i = 0; i < n_lanes; i++)
    {
      double x = lane_x (i);
      g_string_append_printf (s, "<rect x=\"%.1f\" y=\"6\" width=\"%.1f\" height=\"34\" rx=\"4\" class=\"box\"/>\n",
                              x - LANE_W / 2 + 10, LANE_W - 20);
      text (s, x, 20, "middle", "lane", lanes[i].title);
      if (lanes[i].subtitle != NULL)
        text (s, x, 34, "middle", "sub", lanes[i].subtitle);
      g_string_append_printf (s, "<line x1=\"%.1f\" y1=\"40\" x2=\"%.1f\" y2=\"%.1f\" class=\"%s\"/>\n",
                              x, x, height - 6, i == nat_lane ? "nat" : "life");
    }
  for (guint m = 0; m < n_msgs; m++)
    {
      const SeqMessage *msg = &msgs[m];
      double y = TOP + ROW_H * m;
      double xf = lane_x (MIN (msg->from, n_lanes - 1));
      double xn = lane_x (nat_lane);
      double xt = lane_x (MIN (msg->to, n_lanes - 1));
      double ya = y + 26;

      if (msg->time != NULL)
        text (s, 4, ya + 4, "start", "tm", msg->time);
      if (msg->caption != NULL)
        text (s, (xf + (msg->drop ? xn : xt)) / 2, y + 8, "middle", "cap", msg->caption);
      if (msg->from != nat_lane)
        {
          arrow (s, xf, xn, ya, "pkt");
          if (msg->left != NULL)
            text (s, (xf + xn) / 2, ya - 4, "middle", "pl", msg->left);
        }
      if (msg->drop != NULL)
        {
          g_string_append_printf (s, "<path d=\"M%.1f %.1f l10 10 m0 -10 l-10 10\" class=\"x\"/>\n",
                                  xn - 5, ya - 5);
          text (s, xn + (xf <= xn ? 12 : -12), ya + 14, xf <= xn ? "start" : "end", "drop", msg->drop);
          continue;
        }
      if (msg->to != nat_lane)
        {
          /* A packet that goes back to the side it came from (a hairpin)
           * is drawn a little lower, so that both arrows show. */
          double yb = msg->from != nat_lane && (xf < xn) == (xt < xn) ? ya + 8 : ya;
          arrow (s, xn, xt, yb, "xl");
          if (msg->right != NULL)
            text (s, (xn + xt) / 2, yb + 13, "middle", "pl", msg->right);
        }
    }
  g_string_append (s, "</svg>\n");
  return g_string_free (s, FALSE);
}
