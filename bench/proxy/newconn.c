/*
 * newconn: a closed-loop load of new TLS connections, for the "new handshakes
 * per second" rows of `npm run bench:proxy` (compiled into the bench's temp
 * directory at bench time; see tls.mjs).
 *
 * Each of C slots, forever until the time is up: opens a TCP connection,
 * completes a FULL TLS handshake, sends one GET with "Connection: close",
 * reads the response to its end (Content-Length), closes the connection and
 * starts over. No session is ever resumed: every connection gets a fresh SSL
 * object from a context whose client session cache is off and which asks for
 * no session tickets; no session is ever set on an SSL. The count of
 * connections the server reports as resumed (SSL_session_reused) is printed
 * anyway, so the bench can refuse a run where it is not 0. (wrk and h2load,
 * by contrast, resume: wrk keeps the session on its reused SSL objects, h2load
 * reconnects with its client's session.)
 *
 * Only connections that complete inside the measured window count; the rate
 * is completed connections / window. The latency of a connection is from
 * connect() to the last byte of the response (TCP + TLS handshake + request).
 *
 *   newconn -p PORT [-a 127.0.0.1] [-c 32] [-d 5] [-H host] [-s sni|-] [-P /path] [-l alpn|-]
 *
 * Prints one JSON object on stdout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum state { CONNECTING, HANDSHAKE, WRITING, READING };

struct conn {
  int fd;
  SSL *ssl;
  enum state state;
  uint64_t started_ns;
  size_t written;
  size_t have;
  long header_end; /* -1 until the blank line after the headers arrived */
  long content_length;
  int status;
  char buf[65536];
};

static struct sockaddr_in target;
static SSL_CTX *ctx;
static int epfd;
static const char *sni;
static char request[2048];
static size_t request_len;
static uint64_t deadline_ns;

static uint64_t completed, status_2xx, non_2xx, resumed, handshakes;
static uint64_t err_connect, err_handshake, err_write, err_read;
#define MAX_US 2000000
static uint32_t *histogram; /* microseconds, 0..MAX_US; the last slot holds everything longer */
static uint64_t max_us;
static char protocol[32] = "", cipher[64] = "", group[32] = "", alpn[32] = "";

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void watch(struct conn *c, uint32_t events, int op) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(epfd, op, c->fd, &ev) != 0) {
    perror("epoll_ctl");
    exit(2);
  }
}

static void drop(struct conn *c) {
  if (c->ssl != NULL) {
    SSL_free(c->ssl);
    c->ssl = NULL;
  }
  if (c->fd >= 0) {
    close(c->fd); /* also removes it from the epoll set */
    c->fd = -1;
  }
}

static void step(struct conn *c);

/* A new connection in this slot, unless the time is up. */
static void start(struct conn *c) {
  drop(c);
  if (now_ns() >= deadline_ns) return;
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    perror("socket");
    exit(2);
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->started_ns = now_ns();
  c->written = 0;
  c->have = 0;
  c->header_end = -1;
  c->content_length = -1;
  c->status = 0;
  c->state = CONNECTING;
  int rv = connect(c->fd, (struct sockaddr *)&target, sizeof target);
  if (rv != 0 && errno != EINPROGRESS) {
    err_connect++;
    drop(c);
    return; /* the slot is retried on the next pass */
  }
  watch(c, EPOLLOUT, EPOLL_CTL_ADD);
}

/* Waits for what OpenSSL asked for; returns 0 when it should wait, -1 on a failure. */
static int want(struct conn *c, int rv) {
  switch (SSL_get_error(c->ssl, rv)) {
    case SSL_ERROR_WANT_READ:
      watch(c, EPOLLIN, EPOLL_CTL_MOD);
      return 0;
    case SSL_ERROR_WANT_WRITE:
      watch(c, EPOLLOUT, EPOLL_CTL_MOD);
      return 0;
    default:
      ERR_clear_error();
      return -1;
  }
}

static void record(struct conn *c) {
  uint64_t end = now_ns();
  if (end > deadline_ns) return; /* finished after the window: not counted */
  uint64_t us = (end - c->started_ns) / 1000;
  if (us > max_us) max_us = us;
  histogram[us < MAX_US ? us : MAX_US]++;
  completed++;
  if (c->status >= 200 && c->status < 300)
    status_2xx++;
  else
    non_2xx++;
}

/* The headers are in: status and Content-Length. */
static void parse_head(struct conn *c) {
  c->buf[c->have < sizeof c->buf ? c->have : sizeof c->buf - 1] = '\0';
  char *end = strstr(c->buf, "\r\n\r\n");
  if (end == NULL) return;
  c->header_end = end + 4 - c->buf;
  if (strncmp(c->buf, "HTTP/1.", 7) == 0 && c->have > 12) c->status = atoi(c->buf + 9);
  for (char *line = strstr(c->buf, "\r\n"); line != NULL && line < end; line = strstr(line + 2, "\r\n")) {
    if (strncasecmp(line + 2, "content-length:", 15) == 0) c->content_length = strtol(line + 17, NULL, 10);
  }
}

static void step(struct conn *c) {
  for (;;) {
    switch (c->state) {
      case CONNECTING: {
        int error = 0;
        socklen_t len = sizeof error;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
          err_connect++;
          start(c);
          return;
        }
        c->ssl = SSL_new(ctx);
        if (c->ssl == NULL) {
          fprintf(stderr, "newconn: SSL_new failed\n");
          exit(2);
        }
        if (sni != NULL) SSL_set_tlsext_host_name(c->ssl, sni);
        SSL_set_fd(c->ssl, c->fd);
        SSL_set_connect_state(c->ssl);
        c->state = HANDSHAKE;
        continue;
      }
      case HANDSHAKE: {
        ERR_clear_error();
        int rv = SSL_do_handshake(c->ssl);
        if (rv != 1) {
          if (want(c, rv) == 0) return;
          err_handshake++;
          start(c);
          return;
        }
        handshakes++;
        if (SSL_session_reused(c->ssl)) resumed++;
        if (protocol[0] == '\0') {
          snprintf(protocol, sizeof protocol, "%s", SSL_get_version(c->ssl));
          snprintf(cipher, sizeof cipher, "%s", SSL_get_cipher_name(c->ssl));
          int nid = SSL_get_negotiated_group(c->ssl);
          const char *name = nid == 0 ? NULL : OBJ_nid2sn(nid & ~TLSEXT_nid_unknown);
          snprintf(group, sizeof group, "%s", name == NULL ? "" : name);
          const unsigned char *proto = NULL;
          unsigned int proto_len = 0;
          SSL_get0_alpn_selected(c->ssl, &proto, &proto_len);
          snprintf(alpn, sizeof alpn, "%.*s", (int)proto_len, proto == NULL ? "" : (const char *)proto);
        }
        c->state = WRITING;
        continue;
      }
      case WRITING: {
        ERR_clear_error();
        int rv = SSL_write(c->ssl, request + c->written, (int)(request_len - c->written));
        if (rv <= 0) {
          if (want(c, rv) == 0) return;
          err_write++;
          start(c);
          return;
        }
        c->written += (size_t)rv;
        if (c->written < request_len) continue;
        c->state = READING;
        continue;
      }
      case READING: {
        ERR_clear_error();
        if (c->have >= sizeof c->buf - 1) {
          /* Only the head is kept; the body is counted, not stored. */
          if (c->header_end < 0) {
            err_read++;
            start(c);
            return;
          }
          c->content_length -= (long)(c->have - (size_t)c->header_end);
          c->have = (size_t)c->header_end;
        }
        int rv = SSL_read(c->ssl, c->buf + c->have, (int)(sizeof c->buf - 1 - c->have));
        if (rv <= 0) {
          int error = SSL_get_error(c->ssl, rv);
          if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
            want(c, rv);
            return;
          }
          ERR_clear_error();
          /* The server closed: a complete response only if it had no Content-Length. */
          if (c->header_end >= 0 && c->content_length < 0) {
            record(c);
          } else {
            err_read++;
          }
          start(c);
          return;
        }
        c->have += (size_t)rv;
        if (c->header_end < 0) parse_head(c);
        if (c->header_end >= 0 && c->content_length >= 0 &&
            (long)c->have - c->header_end >= c->content_length) {
          record(c);
          start(c);
          return;
        }
        continue;
      }
    }
  }
}

static double percentile(double p) {
  if (completed == 0) return 0;
  uint64_t rank = (uint64_t)(p * (double)completed + 0.999999);
  if (rank < 1) rank = 1;
  uint64_t seen = 0;
  for (uint32_t us = 0; us <= MAX_US; us++) {
    seen += histogram[us];
    if (seen >= rank) return us / 1000.0;
  }
  return MAX_US / 1000.0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: newconn -p PORT [-a ADDR] [-c CONNS] [-d SECONDS] [-H HOST] [-s SNI|-] [-P PATH] [-l ALPN|-]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *addr = "127.0.0.1", *host = "localhost", *path = "/", *alpn_wanted = "http/1.1";
  int port = 0, conns = 32;
  double seconds = 5;
  const char *sni_arg = NULL;
  int opt;
  while ((opt = getopt(argc, argv, "a:p:c:d:H:s:P:l:")) != -1) {
    switch (opt) {
      case 'a': addr = optarg; break;
      case 'p': port = atoi(optarg); break;
      case 'c': conns = atoi(optarg); break;
      case 'd': seconds = atof(optarg); break;
      case 'H': host = optarg; break;
      case 's': sni_arg = optarg; break;
      case 'P': path = optarg; break;
      case 'l': alpn_wanted = optarg; break;
      default: usage();
    }
  }
  if (port <= 0 || conns <= 0 || seconds <= 0) usage();
  sni = sni_arg == NULL ? host : strcmp(sni_arg, "-") == 0 ? NULL : sni_arg;
  signal(SIGPIPE, SIG_IGN);

  memset(&target, 0, sizeof target);
  target.sin_family = AF_INET;
  target.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, addr, &target.sin_addr) != 1) usage();
  request_len = (size_t)snprintf(request, sizeof request,
                                 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: newconn\r\nAccept: */*\r\n"
                                 "Connection: close\r\n\r\n",
                                 path, host);

  ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == NULL) return 2;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  if (strcmp(alpn_wanted, "-") != 0) {
    unsigned char wire[64];
    size_t len = strlen(alpn_wanted);
    if (len == 0 || len > 62) usage();
    wire[0] = (unsigned char)len;
    memcpy(wire + 1, alpn_wanted, len);
    SSL_CTX_set_alpn_protos(ctx, wire, (unsigned int)len + 1);
  }

  histogram = calloc(MAX_US + 1, sizeof *histogram);
  struct conn *slots = calloc((size_t)conns, sizeof *slots);
  if (histogram == NULL || slots == NULL) return 2;
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return 2;

  uint64_t t0 = now_ns();
  deadline_ns = t0 + (uint64_t)(seconds * 1e9);
  for (int i = 0; i < conns; i++) {
    slots[i].fd = -1;
    start(&slots[i]);
  }
  struct epoll_event events[256];
  for (;;) {
    uint64_t now = now_ns();
    if (now >= deadline_ns) break;
    int timeout = (int)((deadline_ns - now) / 1000000) + 1;
    int n = epoll_wait(epfd, events, 256, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("epoll_wait");
      return 2;
    }
    for (int i = 0; i < n; i++) step(events[i].data.ptr);
    /* Slots whose connect() failed outright get another try. */
    for (int i = 0; i < conns; i++)
      if (slots[i].fd < 0) start(&slots[i]);
  }
  double elapsed = (double)(deadline_ns - t0) / 1e9;
  printf(
      "{\"completed\":%llu,\"seconds\":%.6f,\"connectionsPerSecond\":%.2f,\"handshakes\":%llu,\"resumed\":%llu,"
      "\"status2xx\":%llu,\"non2xx\":%llu,"
      "\"errors\":{\"connect\":%llu,\"handshake\":%llu,\"write\":%llu,\"read\":%llu},"
      "\"latencyMs\":{\"p50\":%.3f,\"p75\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
      "\"protocol\":\"%s\",\"cipher\":\"%s\",\"group\":\"%s\",\"alpn\":\"%s\",\"openssl\":\"%s\"}\n",
      (unsigned long long)completed, elapsed, (double)completed / elapsed, (unsigned long long)handshakes,
      (unsigned long long)resumed, (unsigned long long)status_2xx, (unsigned long long)non_2xx,
      (unsigned long long)err_connect, (unsigned long long)err_handshake, (unsigned long long)err_write,
      (unsigned long long)err_read, percentile(0.50), percentile(0.75), percentile(0.90), percentile(0.99),
      max_us / 1000.0, protocol, cipher, group, alpn, OpenSSL_version(OPENSSL_VERSION));
  return 0;
}
