/*
 * wsload.c - the load client behind bench/ws.sh: a minimal WebSocket
 * client of the gateway protocol, in C so that the client's own cost stays
 * small beside the gateway's (two cores here: client and server share
 * them, and a Python client would take most of the time measured).
 *
 *	wsload latency PORT TOKEN N
 *	    N sequential clients, each: TCP connect, upgrade, connect.challenge,
 *	    connect with the token, hello-ok; then a WebSocket ping (answered
 *	    by the server's WebSocket layer, so its round trip is the cost of
 *	    the transport alone) and a clean close, waited for, before the
 *	    next. Ten warm-up clients are not counted.
 *	wsload hold PORT TOKEN N [cli|ui]
 *	    N concurrent clients, 64 handshakes in flight at a time. Prints
 *	    "hold_ready: N" once every one has its hello-ok, keeps reading
 *	    (events) until its stdin closes, then closes them all.
 *	    cli clients are kept out of presence; ui clients join it, so each
 *	    arrival is broadcast to every client already there.
 *	wsload rps PORT TOKEN CONNS SECONDS [INFLIGHT]
 *	    CONNS clients, each keeping INFLIGHT (default 1) `health` requests
 *	    outstanding, for SECONDS after a half-second warm-up.
 *	wsload turns PORT TOKEN N SESSIONS
 *	    One client (operator.write) sends N `agent` requests one after
 *	    another, round-robin over SESSIONS session keys, each timed from
 *	    the send to its final response (the `accepted` answer and the
 *	    run's events in between are read and dropped). Ten warm-up turns
 *	    are not counted. With a model that answers at once, this is the
 *	    gateway's time per turn plus the model's own round trip.
 *	wsload start BIN RUNS
 *	    `BIN gateway run --port 0` start to listening, bench/startup.sh's
 *	    method (clock read before spawning and when the "listening" line
 *	    arrives on a pipe) with a C spawner instead of Python's.
 *
 * Output: "name: value" lines, times in milliseconds. Exits non-zero
 * with a message on stderr when anything fails: a figure is never
 * printed from a partial run.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

extern char **environ;

#define MAX_INFLIGHT  64
#define HS_PARALLEL   64
#define IO_TIMEOUT_MS 10000
#define LAT_WARMUP    10
#define HIST_US_MAX   1000000 /* latency histogram: 1 us buckets up to 1 s */

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("wsload: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ==== one client connection ==== */

enum cstate {
	C_CONNECTING, /* non-blocking connect under way */
	C_UPGRADE,    /* upgrade request sent, waiting for 101 */
	C_CHALLENGE,  /* waiting for connect.challenge */
	C_HELLO,      /* connect sent, waiting for its res */
	C_READY,
	C_CLOSING, /* close frame sent, waiting for the server's close or EOF */
	C_DONE,
};

struct conn {
	int fd;
	enum cstate state;
	char *rbuf; /* bytes read and not yet parsed */
	size_t rlen, rcap;
	char *msg; /* the message being reassembled from fragments */
	size_t mlen, mcap;
	int mop;
	/* rps */
	uint64_t sent_ns[MAX_INFLIGHT]; /* FIFO of send times: answers come in order */
	unsigned head, count;
	uint64_t next_id;
};

static const char *g_token;
static int g_port;
static bool g_ui;
static const char *g_scopes = "\"operator.read\"";

static void grow(char **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	while (*cap < need)
		*cap = *cap ? *cap * 2 : 4096;
	*p = realloc(*p, *cap);
	if (!*p)
		die("out of memory");
}

static void conn_free(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->rbuf);
	free(c->msg);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Write all of it; the socket may be non-blocking. */
static void write_all(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };

			if (poll(&pf, 1, IO_TIMEOUT_MS) <= 0)
				die("write timed out");
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write: %s", strerror(errno));
		s += w;
		n -= (size_t)w;
	}
}

/* One masked client frame (RFC 6455 5.3: a client masks everything). */
static void ws_send(struct conn *c, int op, const char *data, size_t len)
{
	unsigned char hdr[14], *buf;
	const unsigned char mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	size_t h = 0;

	hdr[h++] = (unsigned char)(0x80 | op);
	if (len < 126) {
		hdr[h++] = (unsigned char)(0x80 | len);
	} else if (len < 65536) {
		hdr[h++] = 0x80 | 126;
		hdr[h++] = (unsigned char)(len >> 8);
		hdr[h++] = (unsigned char)len;
	} else {
		hdr[h++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			hdr[h++] = (unsigned char)((uint64_t)len >> (8 * i));
	}
	memcpy(hdr + h, mask, 4);
	h += 4;
	buf = malloc(h + len);
	if (!buf)
		die("out of memory");
	memcpy(buf, hdr, h);
	for (size_t i = 0; i < len; i++)
		buf[h + i] = (unsigned char)data[i] ^ mask[i & 3];
	write_all(c->fd, buf, h + len);
	free(buf);
}

static void ws_send_text(struct conn *c, const char *s)
{
	ws_send(c, 1, s, strlen(s));
}

static void send_upgrade(struct conn *c)
{
	char req[256];
	int n = snprintf(req, sizeof(req),
			 "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
			 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			 "Sec-WebSocket-Version: 13\r\n\r\n",
			 g_port);

	write_all(c->fd, req, (size_t)n);
	c->state = C_UPGRADE;
}

static void send_connect(struct conn *c)
{
	char f[512];

	snprintf(f, sizeof(f),
		 "{\"type\":\"req\",\"id\":\"c1\",\"method\":\"connect\",\"params\":"
		 "{\"minProtocol\":4,\"maxProtocol\":4,\"client\":{\"id\":\"%s\","
		 "\"version\":\"bench\",\"platform\":\"linux\",\"mode\":\"%s\"},\"caps\":[],"
		 "\"auth\":{\"token\":\"%s\"},\"role\":\"operator\",\"scopes\":[%s]}"
		 "}",
		 g_ui ? "openclaw-tui" : "cli", g_ui ? "ui" : "cli", g_token, g_scopes);
	ws_send_text(c, f);
	c->state = C_HELLO;
}

static void send_close(struct conn *c)
{
	static const char code[2] = { 0x03, (char)0xe8 }; /* 1000 */

	ws_send(c, 8, code, 2);
	c->state = C_CLOSING;
}

/* Read what the socket has. Returns bytes read, 0 at EOF, -1 when it would block. */
static ssize_t conn_read(struct conn *c)
{
	ssize_t n;

	grow(&c->rbuf, &c->rcap, c->rlen + 16384);
	do
		n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return -1;
	if (n < 0) {
		if (c->state == C_CLOSING && errno == ECONNRESET)
			return 0;
		die("read: %s", strerror(errno));
	}
	c->rlen += (size_t)n;
	return n;
}

static void consume(struct conn *c, size_t n)
{
	memmove(c->rbuf, c->rbuf + n, c->rlen - n);
	c->rlen -= n;
}

/* Parse the 101 answer off the front of rbuf. Returns 1 done, 0 need more. */
static int parse_upgrade(struct conn *c)
{
	char *end;

	if (c->rlen < 4)
		return 0;
	end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
	if (!end)
		return 0;
	if (strncmp(c->rbuf, "HTTP/1.1 101", 12))
		die("upgrade refused: %.*s", (int)(strchr(c->rbuf, '\r') - c->rbuf), c->rbuf);
	consume(c, (size_t)(end + 4 - c->rbuf));
	return 1;
}

/*
 * The next whole message from rbuf: 1 with *op/c->msg/c->mlen set, 0 when
 * more bytes are needed. Control frames come back as they are.
 */
static int next_message(struct conn *c, int *op)
{
	for (;;) {
		const unsigned char *p = (const unsigned char *)c->rbuf;
		size_t h = 2, len;
		bool fin;
		int fop;

		if (c->rlen < 2)
			return 0;
		fin = p[0] & 0x80;
		fop = p[0] & 0x0f;
		if (p[1] & 0x80)
			die("masked frame from the server");
		len = p[1] & 0x7f;
		if (len == 126) {
			if (c->rlen < 4)
				return 0;
			len = (size_t)p[2] << 8 | p[3];
			h = 4;
		} else if (len == 127) {
			if (c->rlen < 10)
				return 0;
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | p[2 + i];
			h = 10;
		}
		if (c->rlen < h + len)
			return 0;
		if (fop >= 8) {
			/* Control frames: not fragmented, may sit between fragments. */
			grow(&c->msg, &c->mcap, len + 1);
			memcpy(c->msg, p + h, len);
			c->mlen = len;
			*op = fop;
			consume(c, h + len);
			return 1;
		}
		if (fop != 0) {
			c->mop = fop;
			c->mlen = 0;
		}
		grow(&c->msg, &c->mcap, c->mlen + len + 1);
		memcpy(c->msg + c->mlen, p + h, len);
		c->mlen += len;
		consume(c, h + len);
		if (fin) {
			c->msg[c->mlen] = '\0';
			*op = c->mop;
			return 1;
		}
	}
}

static bool msg_has(const struct conn *c, const char *s)
{
	return memmem(c->msg, c->mlen, s, strlen(s)) != NULL;
}

static bool msg_is_res(const struct conn *c)
{
	return msg_has(c, "\"type\":\"res\"");
}

/* ==== blocking helpers (latency) ==== */

/* Read until `done(c)` says yes; dies after IO_TIMEOUT_MS without progress. */
static void read_blocking(struct conn *c)
{
	struct pollfd pf = { .fd = c->fd, .events = POLLIN };

	if (poll(&pf, 1, IO_TIMEOUT_MS) <= 0)
		die("timed out waiting for the gateway (state %d)", c->state);
	if (conn_read(c) == 0 && c->state != C_CLOSING)
		die("the gateway closed the connection (state %d)", c->state);
}

static int next_message_blocking(struct conn *c)
{
	int op;

	while (!next_message(c, &op))
		read_blocking(c);
	if (op == 8 && c->state != C_CLOSING)
		die("the gateway closed: %.*s", (int)(c->mlen > 2 ? c->mlen - 2 : 0), c->msg + 2);
	return op;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct_ms(uint64_t *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return (double)v[i] / 1e6;
}

static void report(const char *name, uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	printf("%s_median_ms: %.3f\n", name, pct_ms(v, n, 0.5));
	printf("%s_p99_ms: %.3f\n", name, pct_ms(v, n, 0.99));
	printf("%s_min_ms: %.3f\n", name, (double)v[0] / 1e6);
	printf("%s_max_ms: %.3f\n", name, (double)v[n - 1] / 1e6);
}

static int tcp_socket(bool nonblock)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	struct timeval tv = { .tv_sec = IO_TIMEOUT_MS / 1000 };
	int one = 1;

	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A blocking read that would hang turns into EAGAIN, then a timeout. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static struct sockaddr_in gateway_addr(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)g_port) };

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

static void cmd_latency(int n)
{
	enum { TOTAL, TCP, UPGRADE, CHALLENGE, HELLO, PING, NPHASE };
	static const char *const names[NPHASE] = {
		"connect_to_hello_ok", "tcp_connect",      "tcp_to_101",
		"101_to_challenge",    "connect_to_hello", "ws_ping_rtt",
	};
	uint64_t *v[NPHASE];
	struct sockaddr_in sa = gateway_addr();

	for (int k = 0; k < NPHASE; k++)
		if (!(v[k] = calloc((size_t)n, sizeof(uint64_t))))
			die("out of memory");
	for (int i = -LAT_WARMUP; i < n; i++) {
		struct conn c = { .fd = -1 };
		uint64_t t[NPHASE + 1];
		int op;

		t[0] = now_ns();
		c.fd = tcp_socket(false);
		if (connect(c.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die("connect to port %d: %s", g_port, strerror(errno));
		t[1] = now_ns();
		send_upgrade(&c);
		while (!parse_upgrade(&c))
			read_blocking(&c);
		t[2] = now_ns();
		c.state = C_CHALLENGE;
		op = next_message_blocking(&c);
		if (op != 1 || !msg_has(&c, "connect.challenge"))
			die("expected connect.challenge, got: %.200s", c.msg);
		t[3] = now_ns();
		send_connect(&c);
		do
			op = next_message_blocking(&c);
		while (op != 1 || !msg_is_res(&c));
		if (!msg_has(&c, "\"ok\":true") || !msg_has(&c, "hello-ok"))
			die("connect refused: %.300s", c.msg);
		t[4] = now_ns();
		c.state = C_READY;
		ws_send(&c, 9, "p", 1);
		do
			op = next_message_blocking(&c);
		while (op != 10);
		t[5] = now_ns();
		send_close(&c);
		/* Wait for the server's close and EOF, so that clients do not overlap. */
		while (conn_read(&c) != 0) {
			struct pollfd pf = { .fd = c.fd, .events = POLLIN };

			if (poll(&pf, 1, IO_TIMEOUT_MS) <= 0)
				die("timed out waiting for the close");
		}
		conn_free(&c);
		if (i < 0)
			continue;
		v[TOTAL][i] = t[4] - t[0];
		v[TCP][i] = t[1] - t[0];
		v[UPGRADE][i] = t[2] - t[1];
		v[CHALLENGE][i] = t[3] - t[2];
		v[HELLO][i] = t[4] - t[3];
		v[PING][i] = t[5] - t[4];
	}
	printf("latency_clients: %d\n", n);
	for (int k = 0; k < NPHASE; k++) {
		report(names[k], v[k], (size_t)n);
		free(v[k]);
	}
}

/* ==== agent turns ==== */

/* A blocking client that has its hello-ok. */
static void client_open(struct conn *c)
{
	struct sockaddr_in sa = gateway_addr();
	int op;

	c->fd = tcp_socket(false);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect to port %d: %s", g_port, strerror(errno));
	send_upgrade(c);
	while (!parse_upgrade(c))
		read_blocking(c);
	c->state = C_CHALLENGE;
	do
		op = next_message_blocking(c);
	while (op != 1 || !msg_has(c, "connect.challenge"));
	send_connect(c);
	do
		op = next_message_blocking(c);
	while (op != 1 || !msg_is_res(c));
	if (!msg_has(c, "\"ok\":true"))
		die("connect refused: %.300s", c->msg);
	c->state = C_READY;
}

static void cmd_turns(int n, int sessions)
{
	struct conn c = { .fd = -1 };
	uint64_t *v = calloc((size_t)n, sizeof(uint64_t));
	char f[512], id[64];

	if (!v || sessions < 1)
		die("bad arguments");
	g_scopes = "\"operator.read\",\"operator.write\"";
	client_open(&c);
	for (int i = -LAT_WARMUP; i < n; i++) {
		uint64_t t0;
		bool accepted = false;
		int op;

		snprintf(id, sizeof(id), "\"id\":\"t%d\"", i + LAT_WARMUP);
		snprintf(f, sizeof(f),
			 "{\"type\":\"req\",\"id\":\"t%d\",\"method\":\"agent\",\"params\":{"
			 "\"message\":\"hi %d\",\"sessionKey\":\"agent:main:turns%d\","
			 "\"idempotencyKey\":\"turns-%d-%llu\"}}",
			 i + LAT_WARMUP, i, (i + LAT_WARMUP) % sessions, i + LAT_WARMUP,
			 (unsigned long long)now_ns());
		t0 = now_ns();
		ws_send_text(&c, f);
		for (;;) {
			op = next_message_blocking(&c);
			if (op != 1 || !msg_is_res(&c) || !msg_has(&c, id))
				continue;
			if (!msg_has(&c, "\"ok\":true"))
				die("agent failed: %.300s", c.msg);
			if (!accepted && msg_has(&c, "\"status\":\"accepted\"")) {
				accepted = true;
				continue;
			}
			break;
		}
		if (i >= 0)
			v[i] = now_ns() - t0;
	}
	send_close(&c);
	conn_free(&c);
	printf("turns: %d\n", n);
	report("turn", v, (size_t)n);
	free(v);
}

/* ==== many clients (hold, rps) ==== */

struct pool {
	int ep;
	struct conn *conns;
	int n, started, ready, handshaking;
	/* rps */
	bool measuring;
	unsigned inflight;
	uint64_t done;
	uint32_t *hist; /* latency histogram, 1 us buckets */
};

static void pool_start_one(struct pool *p)
{
	struct conn *c = &p->conns[p->started];
	struct sockaddr_in sa = gateway_addr();
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)p->started };

	c->fd = tcp_socket(true);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
		die("connect to port %d: %s", g_port, strerror(errno));
	c->state = C_CONNECTING;
	if (epoll_ctl(p->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
	p->started++;
	p->handshaking++;
}

static void rps_send(struct pool *p, struct conn *c)
{
	char f[96];

	snprintf(f, sizeof(f), "{\"type\":\"req\",\"id\":\"h%llu\",\"method\":\"health\"}",
		 (unsigned long long)++c->next_id);
	c->sent_ns[(c->head + c->count) % MAX_INFLIGHT] = now_ns();
	c->count++;
	ws_send_text(c, f);
}

/* One whole message for a client of the pool. */
static void pool_message(struct pool *p, struct conn *c, int op)
{
	if (op == 8) {
		if (c->state != C_CLOSING)
			die("the gateway closed a client: %.*s",
			    (int)(c->mlen > 2 ? c->mlen - 2 : 0), c->msg + 2);
		return;
	}
	if (op != 1)
		return;
	switch (c->state) {
	case C_CHALLENGE:
		if (!msg_has(c, "connect.challenge"))
			die("expected connect.challenge, got: %.200s", c->msg);
		send_connect(c);
		break;
	case C_HELLO:
		if (!msg_is_res(c))
			break;
		if (!msg_has(c, "\"ok\":true"))
			die("connect refused: %.300s", c->msg);
		c->state = C_READY;
		p->ready++;
		p->handshaking--;
		if (p->inflight)
			for (unsigned i = 0; i < p->inflight; i++)
				rps_send(p, c);
		break;
	case C_READY:
		if (!msg_is_res(c) || !c->count)
			break; /* an event */
		if (!msg_has(c, "\"ok\":true"))
			die("health failed: %.300s", c->msg);
		if (p->measuring) {
			uint64_t us = (now_ns() - c->sent_ns[c->head]) / 1000;

			p->hist[us < HIST_US_MAX ? us : HIST_US_MAX - 1]++;
			p->done++;
		}
		c->head = (c->head + 1) % MAX_INFLIGHT;
		c->count--;
		rps_send(p, c);
		break;
	default:
		break;
	}
}

static void pool_event(struct pool *p, uint32_t idx, uint32_t events)
{
	struct conn *c = &p->conns[idx];
	int op;

	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = idx };

		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err)
			die("connect to port %d: %s", g_port, strerror(err));
		epoll_ctl(p->ep, EPOLL_CTL_MOD, c->fd, &ev);
		send_upgrade(c);
		return;
	}
	for (;;) {
		ssize_t n = conn_read(c);

		if (n == 0) {
			if (c->state != C_CLOSING)
				die("the gateway dropped a client (state %d)", c->state);
			epoll_ctl(p->ep, EPOLL_CTL_DEL, c->fd, NULL);
			c->state = C_DONE;
			return;
		}
		if (n < 0)
			break;
	}
	if (c->state == C_UPGRADE) {
		if (!parse_upgrade(c))
			return;
		c->state = C_CHALLENGE;
	}
	while (next_message(c, &op))
		pool_message(p, c, op);
}

/* Service the pool for up to `ms`; start handshakes while fewer than HS_PARALLEL run. */
static void pool_run(struct pool *p, int ms)
{
	struct epoll_event evs[256];
	int n;

	while (p->started < p->n && p->handshaking < HS_PARALLEL)
		pool_start_one(p);
	n = epoll_wait(p->ep, evs, 256, ms);
	if (n < 0 && errno != EINTR)
		die("epoll_wait: %s", strerror(errno));
	for (int i = 0; i < n; i++)
		pool_event(p, evs[i].data.u32, evs[i].events);
}

static void pool_init(struct pool *p, int n)
{
	struct rlimit rl;

	memset(p, 0, sizeof(*p));
	/* One fd per client and a few more. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < (rlim_t)n + 64)
			die("%d clients need %d fds, the limit is %llu (ulimit -n)", n, n + 64,
			    (unsigned long long)rl.rlim_cur);
	}
	p->ep = epoll_create1(EPOLL_CLOEXEC);
	p->n = n;
	p->conns = calloc((size_t)n, sizeof(*p->conns));
	if (p->ep < 0 || !p->conns)
		die("cannot set up %d clients", n);
	for (int i = 0; i < n; i++)
		p->conns[i].fd = -1;
}

/* Open every client and wait for every hello-ok. Returns the time it took. */
static double pool_handshake(struct pool *p)
{
	uint64_t t0 = now_ns(), last = t0;
	int ready = 0;

	while (p->ready < p->n) {
		pool_run(p, 100);
		if (p->ready != ready) {
			ready = p->ready;
			last = now_ns();
		} else if (now_ns() - last > (uint64_t)IO_TIMEOUT_MS * 1000000u) {
			die("stuck at %d of %d clients ready", p->ready, p->n);
		}
	}
	return (double)(now_ns() - t0) / 1e6;
}

/* Close every client cleanly and wait (a little) for the server's answers. */
static void pool_close(struct pool *p)
{
	uint64_t t0 = now_ns();
	int left = 0;

	p->inflight = 0;
	for (int i = 0; i < p->n; i++) {
		if (p->conns[i].fd >= 0 && p->conns[i].state != C_DONE) {
			send_close(&p->conns[i]);
			left++;
		}
	}
	while (now_ns() - t0 < 5000000000u) {
		int done = 0;

		pool_run(p, 50);
		for (int i = 0; i < p->n; i++)
			done += p->conns[i].state == C_DONE;
		if (done == left)
			break;
	}
	for (int i = 0; i < p->n; i++)
		conn_free(&p->conns[i]);
	free(p->conns);
	close(p->ep);
}

static void cmd_hold(int n)
{
	struct pool p;
	double ms;
	bool in_open = true;

	pool_init(&p, n);
	ms = pool_handshake(&p);
	printf("hold_ready: %d\n", p.ready);
	printf("hold_handshake_all_ms: %.1f\n", ms);
	printf("hold_handshakes_per_s: %.0f\n", n / (ms / 1000));
	fflush(stdout);
	/* Keep reading events until the script is done measuring (stdin closes). */
	while (in_open) {
		struct pollfd pf = { .fd = 0, .events = POLLIN };
		char b[64];

		pool_run(&p, 20);
		if (poll(&pf, 1, 0) > 0 && read(0, b, sizeof(b)) <= 0)
			in_open = false;
	}
	pool_close(&p);
}

static void cmd_rps(int conns, double secs, unsigned inflight)
{
	struct pool p;
	uint64_t t0, t1, seen = 0;
	double elapsed;
	uint32_t p50 = 0, p99 = 0;

	if (inflight < 1 || inflight > MAX_INFLIGHT)
		die("inflight must be 1..%d", MAX_INFLIGHT);
	pool_init(&p, conns);
	p.inflight = inflight;
	p.hist = calloc(HIST_US_MAX, sizeof(uint32_t));
	if (!p.hist)
		die("out of memory");
	pool_handshake(&p);
	t0 = now_ns();
	while (now_ns() - t0 < 500000000u) /* warm-up */
		pool_run(&p, 10);
	p.measuring = true;
	t0 = now_ns();
	while ((t1 = now_ns()) - t0 < (uint64_t)(secs * 1e9))
		pool_run(&p, 10);
	p.measuring = false;
	elapsed = (double)(t1 - t0) / 1e9;
	for (uint32_t us = 0; us < HIST_US_MAX; us++) {
		seen += p.hist[us];
		if (!p50 && seen * 2 >= p.done)
			p50 = us;
		if (!p99 && seen * 100 >= p.done * 99) {
			p99 = us;
			break;
		}
	}
	if (!p.done)
		die("no answers in %.1f s", secs);
	printf("rps_connections: %d\n", conns);
	printf("rps_inflight_per_connection: %u\n", inflight);
	printf("rps_requests: %llu\n", (unsigned long long)p.done);
	printf("rps_per_s: %.0f\n", (double)p.done / elapsed);
	printf("rps_latency_median_ms: %.3f\n", p50 / 1000.0);
	printf("rps_latency_p99_ms: %.3f\n", p99 / 1000.0);
	free(p.hist);
	pool_close(&p);
}

/* ==== start to listening ==== */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void cmd_start(const char *bin, int runs)
{
	char base[] = "/tmp/pincer-bench-start-XXXXXX";
	uint64_t *v = calloc((size_t)runs, sizeof(uint64_t));
	char **env, *abs = realpath(bin, NULL);
	size_t nenv = 0, k = 0;

	if (!abs)
		die("%s: %s", bin, strerror(errno));
	bin = abs; /* the gateway starts in its own directory */
	if (!v || !mkdtemp(base))
		die("cannot make a temp dir");
	for (char **e = environ; *e; e++)
		nenv++;
	env = calloc(nenv + 4, sizeof(char *));
	if (!env)
		die("out of memory");
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "PINCER_", 7) && strncmp(*e, "OPENCLAW_", 9) &&
		    strncmp(*e, "HOME=", 5))
			env[k++] = *e;
	for (int i = -3; i < runs; i++) { /* three warm-up runs: page cache, dentries */
		char dir[128], home[160], state[160], line[512];
		char *argv[] = { (char *)bin, "gateway", "run", "--port", "0", NULL };
		posix_spawn_file_actions_t fa;
		int pfd[2], status;
		size_t got = 0;
		uint64_t t0, t1;
		pid_t pid;

		snprintf(dir, sizeof(dir), "%s/run%d", base, i + 3);
		if (mkdir(dir, 0700) < 0)
			die("mkdir %s: %s", dir, strerror(errno));
		snprintf(home, sizeof(home), "HOME=%s", dir);
		snprintf(state, sizeof(state), "PINCER_STATE_DIR=%s/state", dir);
		env[k] = home;
		env[k + 1] = state;
		env[k + 2] = "NO_COLOR=1";
		env[k + 3] = NULL;
		if (pipe2(pfd, O_CLOEXEC) < 0)
			die("pipe: %s", strerror(errno));
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addchdir_np(&fa, dir);
		t0 = now_ns();
		if ((errno = posix_spawn(&pid, bin, &fa, NULL, argv, env)))
			die("cannot run %s: %s", bin, strerror(errno));
		close(pfd[1]);
		while (got < sizeof(line) - 1 && !memchr(line, '\n', got)) {
			ssize_t r = read(pfd[0], line + got, sizeof(line) - 1 - got);

			if (r <= 0)
				die("the gateway exited before listening");
			got += (size_t)r;
			line[got] = '\0';
		}
		t1 = now_ns();
		close(pfd[0]);
		posix_spawn_file_actions_destroy(&fa);
		if (!strstr(line, "listening"))
			die("unexpected first line: %s", line);
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
		if (i >= 0)
			v[i] = t1 - t0;
		usleep(100000); /* as startup.sh: one shutdown's fsync must not overlap the next start */
	}
	nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	printf("start_runs: %d\n", runs);
	report("start_to_listening", v, (size_t)runs);
	free(v);
	free(env);
	free(abs);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && !strcmp(argv[1], "start")) {
		cmd_start(argv[2], atoi(argv[3]));
		return 0;
	}
	if (argc < 5)
		goto usage;
	g_port = atoi(argv[2]);
	g_token = argv[3];
	if (!strcmp(argv[1], "latency")) {
		cmd_latency(atoi(argv[4]));
	} else if (!strcmp(argv[1], "hold")) {
		g_ui = argc > 5 && !strcmp(argv[5], "ui");
		cmd_hold(atoi(argv[4]));
	} else if (!strcmp(argv[1], "turns") && argc >= 6) {
		cmd_turns(atoi(argv[4]), atoi(argv[5]));
	} else if (!strcmp(argv[1], "rps") && argc >= 6) {
		cmd_rps(atoi(argv[4]), atof(argv[5]), argc > 6 ? (unsigned)atoi(argv[6]) : 1);
	} else {
		goto usage;
	}
	return 0;
usage:
	fputs("usage: wsload latency|hold|rps|turns PORT TOKEN N [...]; wsload start BIN RUNS\n",
	      stderr);
	return 2;
}
