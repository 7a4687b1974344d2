/* natsim-oracle-classify: the RFC 5780 tests of `natsim classify`, run
 * over real sockets through a real NAT (tests/oracle/oracle-classify.sh).
 *
 *   natsim-oracle-classify server SECONDS      in the server namespace
 *   natsim-oracle-classify client [quick]      in the inside namespace
 *                                              (quick: no lifetime tests)
 *
 * The server is a small STUN-like responder on 198.51.100.1 and
 * 198.51.100.2, ports 3478 and 3479 (UDP), and 198.51.100.1:3478 (TCP).
 * A request datagram "REQ ID FROM DELAYS" asks it to send "RESP ID
 * MAPPED" to the request's source (the client's mapped address, MAPPED)
 * once per delay (milliseconds, comma-separated), from its socket FROM
 * (0-3: A1:P1, A1:P2, A2:P1, A2:P2; -1: the socket the request came to).
 * "TCP PORT GAP" asks it to write "DATA" GAP ms after it accepts a TCP
 * connection from client port PORT.  Anything else it ignores (client
 * keepalives).
 *
 * The client runs the tests in the order and with the reasoning of
 * src/analysis/nat-classify.c and prints one "KEY VALUE" line per answer:
 *   mapping, filtering, hairpinning, hairpin_source (mapped: host 1 saw
 *   host 2's mapped address, other, or -), port_preservation,
 *   parity, lifetime_udp, refresh_udp, lifetime_tcp.
 * Each test uses client ports of its own, so that no test sees another's
 * mappings (the classifier uses a fresh NAT for that).
 *
 * Every loop is bounded: the server stops after SECONDS, each wait of the
 * client has a deadline, the lifetime search stops at 64 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define A1 "198.51.100.1"
#define A2 "198.51.100.2"
#define P1 3478
#define P2 3479
#define MAX_PENDING 512
#define MAX_GAP_S 64

static void __attribute__ ((noreturn, format (printf, 1, 2)))
die (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  fputs ("natsim-oracle-classify: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  exit (1);
}

static double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static struct sockaddr_in
sa (const char *addr, int port)
{
  struct sockaddr_in s;

  memset (&s, 0, sizeof s);
  s.sin_family = AF_INET;
  s.sin_port = htons ((uint16_t) port);
  if (inet_pton (AF_INET, addr, &s.sin_addr) != 1)
    die ("bad address %s", addr);
  return s;
}

static int
bound_socket (int type, const char *addr, int port)
{
  int fd = socket (AF_INET, type, 0);
  int one = 1;
  struct sockaddr_in s = sa (addr, port);

  if (fd < 0)
    die ("socket: %s", strerror (errno));
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (fd, (struct sockaddr *) &s, sizeof s) != 0)
    die ("bind %s:%d: %s", addr, port, strerror (errno));
  return fd;
}

static char *
fmt_sa (const struct sockaddr_in *s, char *buf, size_t len)
{
  char ip[INET_ADDRSTRLEN];

  inet_ntop (AF_INET, &s->sin_addr, ip, sizeof ip);
  snprintf (buf, len, "%s:%u", ip, ntohs (s->sin_port));
  return buf;
}

/* ---------- server ---------- */

typedef struct
{
  double             at;
  int                sock;
  struct sockaddr_in to;
  char               msg[96];
  bool               used;
} Pending;

typedef struct
{
  int    port;
  int    gap_ms;
  int    fd;
  double at;
  bool   used;
} TcpWait;

static int
run_server (double seconds)
{
  static const char *addrs[4] = { A1, A1, A2, A2 };
  static const int ports[4] = { P1, P2, P1, P2 };
  static Pending pend[MAX_PENDING];
  static TcpWait waits[64];
  int udp[4], lis;
  double end = now_s () + seconds;

  for (int i = 0; i < 4; i++)
    udp[i] = bound_socket (SOCK_DGRAM, addrs[i], ports[i]);
  lis = bound_socket (SOCK_STREAM, A1, P1);
  if (listen (lis, 64) != 0)
    die ("listen: %s", strerror (errno));
  printf ("ready\n");
  fflush (stdout);
  while (now_s () < end)
    {
      struct pollfd pfd[5];
      double t = now_s (), next = end;
      int timeout_ms;

      for (int i = 0; i < MAX_PENDING; i++)
        if (pend[i].used && pend[i].at <= t)
          {
            sendto (udp[pend[i].sock], pend[i].msg, strlen (pend[i].msg), 0,
                    (struct sockaddr *) &pend[i].to, sizeof pend[i].to);
            pend[i].used = false;
          }
        else if (pend[i].used && pend[i].at < next)
          next = pend[i].at;
      for (int i = 0; i < 64; i++)
        if (waits[i].used && waits[i].fd >= 0 && waits[i].at <= t)
          {
            struct linger lg = { 1, 0 };
            if (write (waits[i].fd, "DATA\n", 5) < 0)
              { /* the client is gone: nothing to do */ }
            usleep (200000);
            setsockopt (waits[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            close (waits[i].fd);
            waits[i].used = false;
          }
        else if (waits[i].used && waits[i].fd >= 0 && waits[i].at < next)
          next = waits[i].at;
      for (int i = 0; i < 4; i++)
        pfd[i] = (struct pollfd) { udp[i], POLLIN, 0 };
      pfd[4] = (struct pollfd) { lis, POLLIN, 0 };
      timeout_ms = (int) ((next - now_s ()) * 1000.0);
      if (timeout_ms < 0)
        timeout_ms = 0;
      if (timeout_ms > 100)
        timeout_ms = 100;
      if (poll (pfd, 5, timeout_ms) < 0 && errno != EINTR)
        die ("poll: %s", strerror (errno));
      for (int i = 0; i < 4; i++)
        if (pfd[i].revents & POLLIN)
          {
            char buf[256], mapped[64];
            struct sockaddr_in from;
            socklen_t fl = sizeof from;
            ssize_t n = recvfrom (udp[i], buf, sizeof buf - 1, 0, (struct sockaddr *) &from, &fl);
            int id, src, port, gap;
            char delays[128];

            if (n <= 0)
              continue;
            buf[n] = '\0';
            fmt_sa (&from, mapped, sizeof mapped);
            if (sscanf (buf, "REQ %d %d %127s", &id, &src, delays) == 3)
              {
                char *save = NULL;
                for (char *d = strtok_r (delays, ",", &save); d != NULL;
                     d = strtok_r (NULL, ",", &save))
                  for (int k = 0; k < MAX_PENDING; k++)
                    if (!pend[k].used)
                      {
                        pend[k].used = true;
                        pend[k].at = now_s () + atoi (d) / 1000.0;
                        pend[k].sock = src >= 0 && src < 4 ? src : i;
                        pend[k].to = from;
                        snprintf (pend[k].msg, sizeof pend[k].msg, "RESP %d %s", id, mapped);
                        break;
                      }
              }
            else if (sscanf (buf, "TCP %d %d", &port, &gap) == 2)
              {
                for (int k = 0; k < 64; k++)
                  if (!waits[k].used)
                    {
                      waits[k] = (TcpWait) { port, gap, -1, 0, true };
                      break;
                    }
                sendto (udp[i], "TCPOK", 5, 0, (struct sockaddr *) &from, sizeof from);
              }
          }
      if (pfd[4].revents & POLLIN)
        {
          struct sockaddr_in from;
          socklen_t fl = sizeof from;
          int fd = accept (lis, (struct sockaddr *) &from, &fl);
          bool known = false;

          for (int k = 0; fd >= 0 && k < 64; k++)
            if (waits[k].used && waits[k].fd < 0 && waits[k].port == ntohs (from.sin_port))
              {
                waits[k].fd = fd;
                waits[k].at = now_s () + waits[k].gap_ms / 1000.0;
                known = true;
                break;
              }
          if (fd >= 0 && !known)
            close (fd);
        }
    }
  return 0;
}

/* ---------- client ---------- */

static int next_id = 1;

/* Waits up to @timeout s on @fd for "RESP @id ..."; true with the mapped
 * address and the sender when it came. */
static bool
await_resp (int fd, int id, double timeout, char *mapped, size_t len, struct sockaddr_in *ret_from)
{
  double end = now_s () + timeout;

  for (int rounds = 0; rounds < 100000; rounds++)
    {
      double left = end - now_s ();
      struct pollfd p = { fd, POLLIN, 0 };
      char buf[256], m[64];
      struct sockaddr_in from;
      socklen_t fl = sizeof from;
      ssize_t n;
      int rid;

      if (left <= 0)
        return false;
      if (poll (&p, 1, (int) (left * 1000) + 1) <= 0)
        continue;
      n = recvfrom (fd, buf, sizeof buf - 1, 0, (struct sockaddr *) &from, &fl);
      if (n <= 0)
        continue;
      buf[n] = '\0';
      if (sscanf (buf, "RESP %d %63s", &rid, m) == 2 && rid == id)
        {
          if (mapped != NULL)
            snprintf (mapped, len, "%s", m);
          if (ret_from != NULL)
            *ret_from = from;
          return true;
        }
    }
  return false;
}

static void
send_to (int fd, const char *addr, int port, const char *msg)
{
  struct sockaddr_in to = sa (addr, port);

  if (sendto (fd, msg, strlen (msg), 0, (struct sockaddr *) &to, sizeof to) < 0)
    die ("sendto %s:%d: %s", addr, port, strerror (errno));
}

/* A request to a server socket; the response(s) per @delays. */
static int
request (int fd, const char *addr, int port, int from, const char *delays)
{
  char msg[160];
  int id = next_id++;

  snprintf (msg, sizeof msg, "REQ %d %d %s", id, from, delays);
  send_to (fd, addr, port, msg);
  return id;
}

/* A binding request answered at once; the mapped address, or false. */
static bool
binding (int fd, const char *addr, int port, char *mapped, size_t len)
{
  int id = request (fd, addr, port, -1, "0");
  return await_resp (fd, id, 1.0, mapped, len, NULL);
}

static int
port_of (const char *mapped)
{
  const char *c = strrchr (mapped, ':');
  return c ? atoi (c + 1) : -1;
}

static const char *
test_mapping (void)
{
  int fd = bound_socket (SOCK_DGRAM, "192.0.2.10", 40000);
  char m1[64], m2[64], m3[64];
  const char *r;

  if (!binding (fd, A1, P1, m1, sizeof m1) || !binding (fd, A2, P1, m2, sizeof m2))
    r = "unknown";
  else if (strcmp (m1, m2) == 0)
    r = "endpoint-independent";
  else if (!binding (fd, A2, P2, m3, sizeof m3))
    r = "unknown";
  else
    r = strcmp (m2, m3) == 0 ? "address-dependent" : "address-port-dependent";
  close (fd);
  return r;
}

static const char *
test_filtering (void)
{
  int fd = bound_socket (SOCK_DGRAM, "192.0.2.10", 40100);
  char m[64];
  const char *r;
  int id;

  if (!binding (fd, A1, P1, m, sizeof m))
    r = "unknown";
  else if ((id = request (fd, A1, P1, 3, "0")), await_resp (fd, id, 1.0, NULL, 0, NULL))
    r = "endpoint-independent";
  else if ((id = request (fd, A1, P1, 1, "0")), await_resp (fd, id, 1.0, NULL, 0, NULL))
    r = "address-dependent";
  else
    r = "address-port-dependent";
  close (fd);
  return r;
}

/* Host 1 and host 2 learn their mapped addresses; host 1 sends to host
 * 2's (opening its own filter), then host 2 to host 1's. */
static void
test_hairpinning (void)
{
  int h1 = bound_socket (SOCK_DGRAM, "192.0.2.10", 40200);
  int h2 = bound_socket (SOCK_DGRAM, "192.0.2.11", 40202);
  char m1[64], m2[64], msg[64], ip1[64], ip2[64], from_s[64];
  struct sockaddr_in from;
  bool got = false;

  if (binding (h1, A1, P1, m1, sizeof m1) && binding (h2, A1, P1, m2, sizeof m2))
    {
      int id = next_id++;
      snprintf (ip1, sizeof ip1, "%s", m1);
      snprintf (ip2, sizeof ip2, "%s", m2);
      *strrchr (ip1, ':') = '\0';
      *strrchr (ip2, ':') = '\0';
      snprintf (msg, sizeof msg, "RESP %d host1", id);
      send_to (h1, ip2, port_of (m2), msg);
      usleep (100000);
      snprintf (msg, sizeof msg, "RESP %d host2", id);
      send_to (h2, ip1, port_of (m1), msg);
      got = await_resp (h1, id, 1.0, NULL, 0, &from);
    }
  printf ("hairpinning %s\n", got ? "yes" : "no");
  /* RFC 4787 REQ-9b: host 1 should see host 2's mapped address. */
  printf ("hairpin_source %s\n",
          !got ? "-" : strcmp (fmt_sa (&from, from_s, sizeof from_s), m2) == 0 ? "mapped" : "other");
  close (h1);
  close (h2);
}

static const char *
test_port_preservation (void)
{
  int a = bound_socket (SOCK_DGRAM, "192.0.2.10", 40300);
  int b = bound_socket (SOCK_DGRAM, "192.0.2.10", 40301);
  char ma[64], mb[64];
  const char *r = "unknown";

  if (binding (a, A1, P1, ma, sizeof ma) && binding (b, A1, P1, mb, sizeof mb))
    r = port_of (ma) == 40300 && port_of (mb) == 40301 ? "yes" : "no";
  close (a);
  close (b);
  return r;
}

/* Another host takes each port first toward the server. */
static const char *
test_parity (void)
{
  static const int order[8] = { 0, 2, 1, 3, 4, 6, 5, 7 };
  int kept = 0, tried = 0;

  for (int i = 0; i < 8; i++)
    {
      int p = 40404 + order[i];
      int blk = bound_socket (SOCK_DGRAM, "192.0.2.20", p);
      int fd = bound_socket (SOCK_DGRAM, "192.0.2.10", p);
      char m[64];

      binding (blk, A1, P1, m, sizeof m);
      if (binding (fd, A1, P1, m, sizeof m))
        {
          tried++;
          kept += ((port_of (m) ^ p) & 1) == 0;
        }
      close (blk);
      close (fd);
    }
  return tried == 0 ? "unknown" : kept == tried ? "yes" : "no";
}

static int udp_port_next = 41000;

/* A fresh mapping, @gap s of silence (the server does not answer), then
 * the server sends to it. */
static bool
udp_trial (int gap)
{
  int fd = bound_socket (SOCK_DGRAM, "192.0.2.10", udp_port_next++);
  char d[32];
  int id;
  bool got;

  snprintf (d, sizeof d, "%d", gap * 1000);
  id = request (fd, A1, P1, -1, d);
  got = await_resp (fd, id, gap + 1.0, NULL, 0, NULL);
  close (fd);
  return got;
}

static int tcp_port_next = 42000;

static bool
tcp_trial (int gap)
{
  int port = tcp_port_next++;
  int ctl = bound_socket (SOCK_DGRAM, "192.0.2.10", 39999);
  int fd = bound_socket (SOCK_STREAM, "192.0.2.10", port);
  struct sockaddr_in srv = sa (A1, P1);
  struct linger lg = { 1, 0 };
  char msg[64];
  bool got = false, ok = false;
  double end;

  snprintf (msg, sizeof msg, "TCP %d %d", port, gap * 1000);
  for (int attempt = 0; attempt < 3 && !ok; attempt++)
    {
      struct pollfd p = { ctl, POLLIN, 0 };
      char buf[16];
      send_to (ctl, A1, P1, msg);
      ok = poll (&p, 1, 1000) > 0 && recv (ctl, buf, sizeof buf, 0) == 5;
    }
  close (ctl);
  if (!ok)
    die ("the server does not answer TCP requests");
  if (connect (fd, (struct sockaddr *) &srv, sizeof srv) != 0)
    die ("connect: %s", strerror (errno));
  end = now_s () + gap + 1.5;
  for (int rounds = 0; rounds < 1000 && now_s () < end && !got; rounds++)
    {
      struct pollfd p = { fd, POLLIN, 0 };
      char buf[16];
      int left = (int) ((end - now_s ()) * 1000) + 1;
      if (poll (&p, 1, left) > 0)
        {
          ssize_t n = recv (fd, buf, sizeof buf, 0);
          got = n >= 4 && memcmp (buf, "DATA", 4) == 0;
          if (n <= 0)
            break;
        }
    }
  setsockopt (fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close (fd);
  return got;
}

/* The classifier's search: a 0 s gap, then 1, 2, 4, ... s until the
 * mapping is gone, then bisection to one second. */
static int
lifetime (bool (*trial) (int))
{
  int lo = 0, hi = 1;

  if (!trial (0))
    return -1;
  while (trial (hi))
    {
      lo = hi;
      if (hi >= MAX_GAP_S)
        return -1;
      hi *= 2;
    }
  while (hi - lo > 1)
    {
      int mid = (lo + hi) / 2;
      if (trial (mid))
        lo = mid;
      else
        hi = mid;
    }
  return hi;
}

/* Packets every 0.6 lifetimes in one direction only (the classifier's
 * refresh test): outbound, the server sends 1.8 lifetimes after the first
 * packet; inbound, the server's second packet (1.2 lifetimes) must arrive. */
static const char *
refresh_udp (int life)
{
  bool out_ok, in_ok;
  int fd, id;
  char d[64];
  int step = life * 600; /* ms */

  if (life <= 0)
    return "unknown";
  fd = bound_socket (SOCK_DGRAM, "192.0.2.10", udp_port_next++);
  snprintf (d, sizeof d, "%d", 3 * step);
  id = request (fd, A1, P1, -1, d);
  for (int k = 1; k <= 2; k++)
    {
      usleep ((useconds_t) step * 1000);
      send_to (fd, A1, P1, "KA");
    }
  out_ok = await_resp (fd, id, step / 1000.0 + 1.0, NULL, 0, NULL);
  close (fd);

  fd = bound_socket (SOCK_DGRAM, "192.0.2.10", udp_port_next++);
  snprintf (d, sizeof d, "%d,%d", step, 2 * step);
  id = request (fd, A1, P1, -1, d);
  /* Both responses carry the same id: the second comes 1.2 lifetimes
   * after the request, only if the first refreshed the mapping. */
  {
    double end = now_s () + 2 * step / 1000.0 + 1.0;
    int seen = 0;
    for (int rounds = 0; rounds < 100 && now_s () < end; rounds++)
      if (await_resp (fd, id, end - now_s (), NULL, 0, NULL))
        seen++;
    in_ok = seen == 2;
  }
  close (fd);
  return out_ok ? (in_ok ? "both" : "outbound") : (in_ok ? "inbound" : "neither");
}

static int
run_client (bool quick)
{
  int lu, lt;

  printf ("mapping %s\n", test_mapping ());
  fflush (stdout);
  printf ("filtering %s\n", test_filtering ());
  fflush (stdout);
  test_hairpinning ();
  printf ("port_preservation %s\n", test_port_preservation ());
  printf ("parity %s\n", test_parity ());
  fflush (stdout);
  if (quick)
    return 0;
  lu = lifetime (udp_trial);
  printf ("lifetime_udp %d\n", lu);
  fflush (stdout);
  printf ("refresh_udp %s\n", refresh_udp (lu));
  fflush (stdout);
  lt = lifetime (tcp_trial);
  printf ("lifetime_tcp %d\n", lt);
  return 0;
}

int
main (int argc, char **argv)
{
  setvbuf (stdout, NULL, _IOLBF, 0);
  if (argc == 3 && strcmp (argv[1], "server") == 0)
    {
      double s = atof (argv[2]);
      if (!(s > 0 && s <= 900))
        die ("server: SECONDS must be 1 to 900");
      return run_server (s);
    }
  if (argc == 2 && strcmp (argv[1], "client") == 0)
    return run_client (false);
  if (argc == 3 && strcmp (argv[1], "client") == 0 && strcmp (argv[2], "quick") == 0)
    return run_client (true);
  fprintf (stderr, "usage: natsim-oracle-classify server SECONDS | client [quick]\n");
  return 2;
}
