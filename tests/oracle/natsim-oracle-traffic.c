/* natsim-oracle-traffic: the open-loop traffic of the kernel oracle suite.
 *
 *   natsim-oracle-traffic client|server PLAN START LOG
 *
 * Both sides read the same PLAN and act at fixed offsets (seconds) from
 * START (CLOCK_REALTIME, nanoseconds since 1970; network namespaces share
 * the clock), so the pattern is the same whether the path between them is a
 * NAT or plain routing.  Nothing a side does depends on what it received,
 * except where the server sends: to the address it last heard the flow from
 * (as a registrar using rport does), or nowhere if it never heard it.
 *
 * PLAN lines ('#' starts a comment):
 *   flow ID udp|tcp INSIDE-ADDR INSIDE-PORT SERVER-ADDR SERVER-PORT
 *   out T ID                 the inside host sends one message on the flow
 *   in T ID                  the server sends one from the flow's server port
 *   probe T ID ADDR PORT     the server sends one from another ADDR:PORT
 *   end T                    both sides stop
 *
 * A message is the text "ID SEQ\n", SEQ being the index of its event in the
 * plan.  LOG gets one line per event and per message received:
 *   sent SEQ ID | unsent SEQ ID | senderr SEQ ID ERRNO
 *   recv SEQ ID FROM-ADDR FROM-PORT TO-ADDR TO-PORT
 *
 * Every loop is bounded: at most MAX_FLOWS flows, MAX_EVENTS events, an end
 * at most MAX_END seconds after START, and a fixed number of receive rounds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

#define MAX_FLOWS   256
#define MAX_EVENTS  4096
#define MAX_SOCKETS 512
#define MAX_END     120.0
#define MAX_ROUNDS  1000000 /* poll rounds; far above what a plan needs */

typedef enum { EV_OUT, EV_IN, EV_PROBE, EV_END } EventType;

typedef struct
{
  int                id;
  bool               tcp;
  struct sockaddr_in inside, server;
  struct sockaddr_in last_src; /* server: where the flow was last heard from */
  bool               heard;
  int                fd;       /* client: its socket; server (tcp): the accepted one */
  bool               connected;
} Flow;

typedef struct
{
  double             t;
  EventType          type;
  int                flow;     /* index into flows */
  struct sockaddr_in from;     /* probe source */
} Event;

typedef struct
{
  int                fd;
  bool               tcp, listening;
  struct sockaddr_in local;
  char               buf[512]; /* tcp: partial line */
  size_t             len;
} Sock;

static Flow  flows[MAX_FLOWS];
static int   n_flows;
static Event events[MAX_EVENTS];
static int   n_events;
static Sock  socks[MAX_SOCKETS];
static int   n_socks;
static FILE *log_file;
static struct timespec start;

static void __attribute__ ((noreturn, format (printf, 1, 2)))
die (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  fputs ("natsim-oracle-traffic: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  exit (1);
}

static bool
parse_endpoint (const char *addr, const char *port, struct sockaddr_in *ret)
{
  char *end;
  long p = strtol (port, &end, 10);

  memset (ret, 0, sizeof *ret);
  ret->sin_family = AF_INET;
  if (*end != '\0' || p < 1 || p > 65535 || inet_pton (AF_INET, addr, &ret->sin_addr) != 1)
    return false;
  ret->sin_port = htons ((uint16_t) p);
  return true;
}

static int
flow_index (int id)
{
  for (int i = 0; i < n_flows; i++)
    if (flows[i].id == id)
      return i;
  return -1;
}

static double
parse_time (const char *s, int line)
{
  char *end;
  double t = strtod (s, &end);

  if (*end != '\0' || !(t >= 0.0 && t <= MAX_END))
    die ("plan line %d: time '%s' not in 0..%g s", line, s, MAX_END);
  return t;
}

static void
read_plan (const char *path)
{
  FILE *f = fopen (path, "r");
  char line[512];
  int lineno = 0;
  bool have_end = false;

  if (f == NULL)
    die ("%s: %s", path, strerror (errno));
  while (fgets (line, sizeof line, f) != NULL && lineno < 100000)
    {
      char *tok[8];
      int n = 0;
      char *save = NULL;
      char *hash = strchr (line, '#');

      lineno++;
      if (hash != NULL)
        *hash = '\0';
      for (char *t = strtok_r (line, " \t\r\n", &save); t != NULL && n < 8;
           t = strtok_r (NULL, " \t\r\n", &save))
        tok[n++] = t;
      if (n == 0)
        continue;
      if (strcmp (tok[0], "flow") == 0 && n == 7)
        {
          Flow *fl;

          if (n_flows >= MAX_FLOWS)
            die ("plan line %d: more than %d flows", lineno, MAX_FLOWS);
          fl = &flows[n_flows];
          fl->id = atoi (tok[1]);
          if (fl->id < 0 || flow_index (fl->id) >= 0)
            die ("plan line %d: bad or repeated flow id", lineno);
          if (strcmp (tok[2], "udp") == 0)
            fl->tcp = false;
          else if (strcmp (tok[2], "tcp") == 0)
            fl->tcp = true;
          else
            die ("plan line %d: protocol must be udp or tcp", lineno);
          if (!parse_endpoint (tok[3], tok[4], &fl->inside)
              || !parse_endpoint (tok[5], tok[6], &fl->server))
            die ("plan line %d: bad address or port", lineno);
          fl->fd = -1;
          n_flows++;
        }
      else if ((strcmp (tok[0], "out") == 0 && n == 3)
               || (strcmp (tok[0], "in") == 0 && n == 3)
               || (strcmp (tok[0], "probe") == 0 && n == 5)
               || (strcmp (tok[0], "end") == 0 && n == 2))
        {
          Event *ev;

          if (n_events >= MAX_EVENTS)
            die ("plan line %d: more than %d events", lineno, MAX_EVENTS);
          ev = &events[n_events];
          memset (ev, 0, sizeof *ev);
          ev->t = parse_time (tok[1], lineno);
          ev->flow = -1;
          if (tok[0][0] == 'e')
            {
              ev->type = EV_END;
              have_end = true;
            }
          else
            {
              ev->type = tok[0][0] == 'o' ? EV_OUT : tok[0][0] == 'i' ? EV_IN : EV_PROBE;
              ev->flow = flow_index (atoi (tok[2]));
              if (ev->flow < 0)
                die ("plan line %d: unknown flow %s", lineno, tok[2]);
              if (ev->type == EV_PROBE
                  && (flows[ev->flow].tcp || !parse_endpoint (tok[3], tok[4], &ev->from)))
                die ("plan line %d: bad probe (udp flows only)", lineno);
            }
          n_events++;
        }
      else
        die ("plan line %d: not understood", lineno);
    }
  fclose (f);
  if (!have_end)
    die ("%s: no 'end' line", path);
  for (int i = 1; i < n_events; i++)
    if (events[i].t < events[i - 1].t)
      die ("%s: events must be in time order", path);
}

static double
now_offset (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_REALTIME, &ts);
  return (double) (ts.tv_sec - start.tv_sec) + (double) (ts.tv_nsec - start.tv_nsec) / 1e9;
}

static void
log_line (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
static void
log_line (const char *fmt, ...)
{
  va_list ap;

  fprintf (log_file, "%.6f ", now_offset ());
  va_start (ap, fmt);
  vfprintf (log_file, fmt, ap);
  va_end (ap);
  fputc ('\n', log_file);
  fflush (log_file);
}

static const char *
ep_str (const struct sockaddr_in *sa, char *buf, size_t len)
{
  char a[INET_ADDRSTRLEN];

  inet_ntop (AF_INET, &sa->sin_addr, a, sizeof a);
  snprintf (buf, len, "%s %u", a, ntohs (sa->sin_port));
  return buf;
}

static bool
same_ep (const struct sockaddr_in *a, const struct sockaddr_in *b)
{
  return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

static int
new_socket (bool tcp, const struct sockaddr_in *local)
{
  int one = 1;
  int fd = socket (AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
  char buf[64];

  if (fd < 0)
    die ("socket: %s", strerror (errno));
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (fd, (const struct sockaddr *) local, sizeof *local) < 0)
    die ("bind %s: %s", ep_str (local, buf, sizeof buf), strerror (errno));
  return fd;
}

/* The UDP socket (or TCP listener) bound to @local, made on first use. */
static Sock *
get_sock (bool tcp, bool listening, const struct sockaddr_in *local)
{
  Sock *s;

  for (int i = 0; i < n_socks; i++)
    if (socks[i].tcp == tcp && socks[i].listening == listening && same_ep (&socks[i].local, local))
      return &socks[i];
  if (n_socks >= MAX_SOCKETS)
    die ("more than %d sockets", MAX_SOCKETS);
  s = &socks[n_socks++];
  memset (s, 0, sizeof *s);
  s->tcp = tcp;
  s->listening = listening;
  s->local = *local;
  s->fd = new_socket (tcp, local);
  if (listening && listen (s->fd, 64) < 0)
    die ("listen: %s", strerror (errno));
  return s;
}

static void
make_message (char *buf, size_t len, int ev)
{
  snprintf (buf, len, "%d %d\n", flows[events[ev].flow].id, ev);
}

/* Handles one received message; @to is where it arrived. */
static void
received (const char *msg, const struct sockaddr_in *from, const struct sockaddr_in *to,
          bool server)
{
  int id, seq;
  char f[64], t[64];

  if (sscanf (msg, "%d %d", &id, &seq) != 2 || seq < 0 || seq >= n_events)
    {
      log_line ("junk %s %s", ep_str (from, f, sizeof f), ep_str (to, t, sizeof t));
      return;
    }
  log_line ("recv %d %d %s %s", seq, id, ep_str (from, f, sizeof f), ep_str (to, t, sizeof t));
  if (server)
    {
      int fi = flow_index (id);

      if (fi >= 0 && !flows[fi].tcp)
        {
          flows[fi].last_src = *from;
          flows[fi].heard = true;
        }
    }
}

static void
tcp_input (Sock *s, bool server)
{
  char tmp[512];
  ssize_t n = recv (s->fd, tmp, sizeof tmp, MSG_DONTWAIT);
  struct sockaddr_in peer;
  socklen_t plen = sizeof peer;

  if (n <= 0)
    {
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
      log_line ("closed %d", n < 0 ? errno : 0);
      for (int i = 0; i < n_flows; i++)
        if (flows[i].fd == s->fd)
          flows[i].fd = -1;
      close (s->fd);
      s->fd = -1;
      return;
    }
  getpeername (s->fd, (struct sockaddr *) &peer, &plen);
  for (ssize_t i = 0; i < n; i++)
    {
      if (s->len < sizeof s->buf - 1)
        s->buf[s->len++] = tmp[i];
      if (tmp[i] == '\n')
        {
          s->buf[s->len] = '\0';
          received (s->buf, &peer, &s->local, server);
          if (server)
            {
              int id, seq, fi;

              /* the connection is the flow's, for the server's sends */
              if (sscanf (s->buf, "%d %d", &id, &seq) == 2 && (fi = flow_index (id)) >= 0
                  && flows[fi].tcp && flows[fi].fd != s->fd)
                {
                  flows[fi].fd = s->fd;
                  flows[fi].heard = true;
                }
            }
          s->len = 0;
        }
    }
}

static void
accept_conn (Sock *l)
{
  struct sockaddr_in peer;
  socklen_t plen = sizeof peer;
  int fd = accept4 (l->fd, (struct sockaddr *) &peer, &plen, SOCK_CLOEXEC);
  Sock *s;

  if (fd < 0)
    return;
  if (n_socks >= MAX_SOCKETS)
    die ("more than %d sockets", MAX_SOCKETS);
  s = &socks[n_socks++];
  memset (s, 0, sizeof *s);
  s->fd = fd;
  s->tcp = true;
  s->local = l->local;
}

static void
do_event (int ev, bool server)
{
  Event *e = &events[ev];
  Flow *fl = &flows[e->flow];
  char msg[64];
  ssize_t n;

  make_message (msg, sizeof msg, ev);
  if (!server && e->type == EV_OUT)
    {
      if (fl->tcp)
        {
          if (!fl->connected)
            {
              struct timeval tv = { 1, 0 };
              Sock *s;

              setsockopt (fl->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
              if (connect (fl->fd, (const struct sockaddr *) &fl->server, sizeof fl->server) < 0)
                {
                  log_line ("senderr %d %d %d", ev, fl->id, errno);
                  return;
                }
              fl->connected = true;
              if (n_socks >= MAX_SOCKETS)
                die ("more than %d sockets", MAX_SOCKETS);
              s = &socks[n_socks++];
              memset (s, 0, sizeof *s);
              s->fd = fl->fd;
              s->tcp = true;
              s->local = fl->inside;
            }
          n = send (fl->fd, msg, strlen (msg), MSG_NOSIGNAL | MSG_DONTWAIT);
        }
      else
        n = sendto (fl->fd, msg, strlen (msg), MSG_DONTWAIT,
                    (const struct sockaddr *) &fl->server, sizeof fl->server);
    }
  else if (server && (e->type == EV_IN || e->type == EV_PROBE))
    {
      if (!fl->heard)
        {
          log_line ("unsent %d %d", ev, fl->id);
          return;
        }
      if (fl->tcp)
        n = send (fl->fd, msg, strlen (msg), MSG_NOSIGNAL | MSG_DONTWAIT);
      else
        {
          Sock *s = get_sock (false, false, e->type == EV_PROBE ? &e->from : &fl->server);

          n = sendto (s->fd, msg, strlen (msg), MSG_DONTWAIT,
                      (const struct sockaddr *) &fl->last_src, sizeof fl->last_src);
        }
    }
  else
    return;
  if (n < 0)
    log_line ("senderr %d %d %d", ev, fl->id, errno);
  else
    log_line ("sent %d %d", ev, fl->id);
}

static void
setup (bool server)
{
  for (int i = 0; i < n_flows; i++)
    {
      Flow *fl = &flows[i];

      if (server)
        get_sock (fl->tcp, fl->tcp, &fl->server);
      else if (fl->tcp)
        fl->fd = new_socket (true, &fl->inside);
      else
        fl->fd = get_sock (false, false, &fl->inside)->fd;
    }
  if (server)
    for (int i = 0; i < n_events; i++)
      if (events[i].type == EV_PROBE)
        get_sock (false, false, &events[i].from);
}

static void
udp_input (Sock *s, bool server)
{
  char buf[512];
  struct sockaddr_in from;
  socklen_t flen = sizeof from;
  ssize_t n = recvfrom (s->fd, buf, sizeof buf - 1, MSG_DONTWAIT,
                        (struct sockaddr *) &from, &flen);

  if (n < 0)
    return;
  buf[n] = '\0';
  received (buf, &from, &s->local, server);
}

static void
run (bool server)
{
  int next = 0;

  for (long round = 0; round < MAX_ROUNDS; round++)
    {
      struct pollfd pfd[MAX_SOCKETS];
      double wait;
      int n = 0, timeout_ms;

      while (next < n_events && events[next].t <= now_offset ())
        {
          if (events[next].type == EV_END)
            return;
          do_event (next, server);
          next++;
        }
      if (next >= n_events)
        return;
      wait = events[next].t - now_offset ();
      timeout_ms = wait <= 0 ? 0 : (int) (wait * 1000.0) + 1;
      if (timeout_ms > 200)
        timeout_ms = 200;
      for (int i = 0; i < n_socks; i++)
        {
          pfd[i].fd = socks[i].fd;
          pfd[i].events = POLLIN;
          pfd[i].revents = 0;
          n++;
        }
      /* sleep precisely to the event when it is close */
      if (wait > 0 && wait < 0.002)
        {
          struct timespec ts = { 0, (long) (wait * 1e9) };
          nanosleep (&ts, NULL);
          continue;
        }
      if (poll (pfd, (nfds_t) n, timeout_ms) <= 0)
        continue;
      for (int i = 0; i < n; i++)
        {
          Sock *s = &socks[i];

          if (pfd[i].revents == 0 || s->fd < 0)
            continue;
          if (s->tcp && s->listening)
            accept_conn (s);
          else if (s->tcp)
            tcp_input (s, server);
          else
            udp_input (s, server);
        }
    }
  die ("too many receive rounds");
}

int
main (int argc, char **argv)
{
  bool server;
  char *end;
  unsigned long long st;

  if (argc != 5 || (strcmp (argv[1], "client") != 0 && strcmp (argv[1], "server") != 0))
    {
      fprintf (stderr, "usage: natsim-oracle-traffic client|server PLAN START-NS LOG\n");
      return 2;
    }
  server = strcmp (argv[1], "server") == 0;
  st = strtoull (argv[3], &end, 10);
  if (*end != '\0' || st == 0)
    die ("START-NS must be nanoseconds since 1970");
  start.tv_sec = (time_t) (st / 1000000000ULL);
  start.tv_nsec = (long) (st % 1000000000ULL);
  read_plan (argv[2]);
  log_file = fopen (argv[4], "w");
  if (log_file == NULL)
    die ("%s: %s", argv[4], strerror (errno));
  setup (server);
  if (now_offset () > 0)
    die ("START is already past: setup took too long");
  run (server);
  for (int i = 0; i < n_socks; i++)
    if (socks[i].fd >= 0)
      close (socks[i].fd);
  fclose (log_file);
  return 0;
}
