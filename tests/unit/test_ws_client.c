/*
 * test_ws_client.c - the WebSocket client against a small WebSocket server
 * written here, on the same libuv loop.
 *
 * The server is deliberately hand-made (uv_tcp, RFC 6455 framing) rather
 * than lws: it can misbehave on purpose (stay silent, answer 404, send
 * fragments, oversized or binary messages, drop the connection) and it
 * records what the client sent (request headers, frames, close code).
 * Each test runs its own loop and ends with every handle closed, so a
 * leak or a missing on_close shows up as a failure, not a hang: a guard
 * timer stops a test that does not finish.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <uv.h>

#include "core/buf.h"
#include "net/ws_client.h"

#define GUARD_MS 10000

/* ==== the test server ==== */

enum srv_mode {
	SRV_ECHO,   /* upgrade, then act on commands (see srv_on_text) */
	SRV_SILENT, /* accept, read, never answer */
	SRV_404,    /* answer the upgrade request with a 404 */
};

struct srv;

struct sconn {
	uv_tcp_t tcp;
	struct srv *s;
	struct buf in;
	bool upgraded;
	bool closing;
	struct buf msg; /* a fragmented message being reassembled */
};

struct srv {
	uv_tcp_t listener;
	int port;
	enum srv_mode mode;
	struct sconn *conns[8];
	int nconns;
	char request[4096]; /* the last upgrade request */
	char texts[8][64];  /* first bytes of the messages received */
	size_t text_lens[8];
	int ntexts;
	int close_code; /* from the client's close frame; 0: none seen */
	char close_reason[128];
	bool stopped;
};

static void srv_on_closed(uv_handle_t *h)
{
	struct sconn *sc = h->data;

	buf_release(&sc->in);
	buf_release(&sc->msg);
	free(sc);
}

static void srv_conn_close(struct sconn *sc)
{
	struct srv *s = sc->s;

	if (sc->closing)
		return;
	sc->closing = true;
	for (int i = 0; i < s->nconns; i++)
		if (s->conns[i] == sc)
			s->conns[i] = s->conns[--s->nconns];
	uv_close((uv_handle_t *)&sc->tcp, srv_on_closed);
}

struct srv_write {
	uv_write_t req;
	struct sconn *sc;
	bool close_after;
	char data[];
};

static void srv_on_written(uv_write_t *req, int status)
{
	struct srv_write *wr = (struct srv_write *)req;

	if (wr->close_after)
		srv_conn_close(wr->sc);
	free(wr);
}

static void srv_send_raw(struct sconn *sc, const void *data, size_t len, bool close_after)
{
	struct srv_write *wr = malloc(sizeof(*wr) + len);
	uv_buf_t b;

	wr->sc = sc;
	wr->close_after = close_after;
	memcpy(wr->data, data, len);
	b = uv_buf_init(wr->data, (unsigned)len);
	if (uv_write(&wr->req, (uv_stream_t *)&sc->tcp, &b, 1, srv_on_written) < 0) {
		free(wr);
		srv_conn_close(sc);
	}
}

/* One unmasked server frame. */
static void srv_send_frame(struct sconn *sc, int opcode, bool fin, const void *data, size_t len,
			   bool close_after)
{
	unsigned char *f = malloc(len + 10);
	size_t h = 0;

	f[h++] = (unsigned char)((fin ? 0x80 : 0) | opcode);
	if (len < 126) {
		f[h++] = (unsigned char)len;
	} else if (len < 65536) {
		f[h++] = 126;
		f[h++] = (unsigned char)(len >> 8);
		f[h++] = (unsigned char)len;
	} else {
		f[h++] = 127;
		for (int i = 7; i >= 0; i--)
			f[h++] = (unsigned char)((uint64_t)len >> (8 * i));
	}
	memcpy(f + h, data, len);
	srv_send_raw(sc, f, h + len, close_after);
	free(f);
}

static void srv_send_close(struct sconn *sc, int code, const char *reason)
{
	unsigned char p[128];
	size_t n = strlen(reason);

	p[0] = (unsigned char)(code >> 8);
	p[1] = (unsigned char)code;
	memcpy(p + 2, reason, n);
	srv_send_frame(sc, 0x8, true, p, n + 2, false);
}

static void srv_record(struct srv *s, const char *data, size_t len)
{
	if (s->ntexts < 8) {
		snprintf(s->texts[s->ntexts], sizeof(s->texts[0]), "%.*s",
			 (int)(len < 63 ? len : 63), data);
		s->text_lens[s->ntexts] = len;
		s->ntexts++;
	}
}

/*
 * Commands the echo server understands; anything else is echoed back.
 *   close:CODE:REASON  the server closes with that code
 *   frag               "hello world" in three fragments
 *   big:N              one text frame of N 'a's
 *   binary             a binary frame
 *   badutf8            a text frame that is not UTF-8
 *   drop               the TCP connection is dropped without a close frame
 */
static void srv_on_text(struct sconn *sc, const char *data, size_t len)
{
	char cmd[64];

	srv_record(sc->s, data, len);
	snprintf(cmd, sizeof(cmd), "%.*s", (int)(len < 63 ? len : 63), data);
	if (!strncmp(cmd, "close:", 6)) {
		int code = atoi(cmd + 6);
		const char *reason = strchr(cmd + 6, ':');

		srv_send_close(sc, code, reason ? reason + 1 : "");
	} else if (!strcmp(cmd, "frag")) {
		srv_send_frame(sc, 0x1, false, "hel", 3, false);
		srv_send_frame(sc, 0x0, false, "lo wo", 5, false);
		srv_send_frame(sc, 0x0, true, "rld", 3, false);
	} else if (!strncmp(cmd, "big:", 4)) {
		size_t n = strtoul(cmd + 4, NULL, 10);
		char *p = malloc(n);

		memset(p, 'a', n);
		srv_send_frame(sc, 0x1, true, p, n, false);
		free(p);
	} else if (!strcmp(cmd, "binary")) {
		srv_send_frame(sc, 0x2, true, "\x01\x02", 2, false);
	} else if (!strcmp(cmd, "badutf8")) {
		srv_send_frame(sc, 0x1, true, "\xff\xfe", 2, false);
	} else if (!strcmp(cmd, "drop")) {
		srv_conn_close(sc);
	} else {
		srv_send_frame(sc, 0x1, true, data, len, false);
	}
}

static void srv_accept_key(const char *key, char *out)
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	char buf[128];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen;

	snprintf(buf, sizeof(buf), "%s%s", key, guid);
	EVP_Digest(buf, strlen(buf), md, &mdlen, EVP_sha1(), NULL);
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
}

/* Handle the upgrade request once it is complete. Returns bytes used, or 0. */
static size_t srv_handshake(struct sconn *sc)
{
	struct srv *s = sc->s;
	char *end = strstr(sc->in.p, "\r\n\r\n"), *k;
	char key[64] = "", accept[64], resp[256];
	size_t used;

	if (!end)
		return 0;
	used = (size_t)(end + 4 - sc->in.p);
	snprintf(s->request, sizeof(s->request), "%.*s", (int)used, sc->in.p);
	if (s->mode == SRV_SILENT)
		return used;
	if (s->mode == SRV_404) {
		static const char r404[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
					   "Connection: close\r\n\r\n";

		srv_send_raw(sc, r404, sizeof(r404) - 1, true);
		return used;
	}
	k = strcasestr(s->request, "\nSec-WebSocket-Key:");
	if (k)
		sscanf(k + 19, " %63[^\r\n]", key);
	srv_accept_key(key, accept);
	snprintf(resp, sizeof(resp),
		 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		 accept);
	srv_send_raw(sc, resp, strlen(resp), false);
	sc->upgraded = true;
	return used;
}

/* Parse one masked client frame at the start of sc->in. Returns bytes used, or 0. */
static size_t srv_frame(struct sconn *sc)
{
	const unsigned char *p = (const unsigned char *)sc->in.p;
	size_t have = sc->in.len, h = 2, len;
	unsigned char mask[4], *payload;
	int opcode;
	bool fin;

	if (have < 2)
		return 0;
	fin = p[0] & 0x80;
	opcode = p[0] & 0x0f;
	len = p[1] & 0x7f;
	assert_true(p[1] & 0x80); /* clients must mask */
	if (len == 126) {
		if (have < 4)
			return 0;
		len = (size_t)p[2] << 8 | p[3];
		h = 4;
	} else if (len == 127) {
		if (have < 10)
			return 0;
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | p[2 + i];
		h = 10;
	}
	if (have < h + 4 + len)
		return 0;
	memcpy(mask, p + h, 4);
	payload = malloc(len + 1);
	for (size_t i = 0; i < len; i++)
		payload[i] = p[h + 4 + i] ^ mask[i % 4];
	payload[len] = 0;
	if (opcode == 0x8) {
		struct srv *s = sc->s;

		s->close_code = len >= 2 ? (payload[0] << 8 | payload[1]) : 1005;
		snprintf(s->close_reason, sizeof(s->close_reason), "%s",
			 len > 2 ? (char *)payload + 2 : "");
		/* Echo the close and hang up. */
		srv_send_frame(sc, 0x8, true, payload, len, true);
	} else if (opcode == 0x1 || opcode == 0x2 || opcode == 0x0) {
		buf_append(&sc->msg, payload, len);
		if (fin) {
			srv_on_text(sc, sc->msg.p, sc->msg.len);
			buf_reset(&sc->msg);
		}
	}
	free(payload);
	return h + 4 + len;
}

static void srv_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	b->base = malloc(65536);
	b->len = 65536;
}

static void srv_on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct sconn *sc = st->data;
	size_t used;

	if (n < 0) {
		free(b->base);
		srv_conn_close(sc);
		return;
	}
	buf_append(&sc->in, b->base, (size_t)n);
	free(b->base);
	for (;;) {
		if (sc->closing)
			return;
		used = sc->upgraded ? srv_frame(sc) : srv_handshake(sc);
		if (!used)
			break;
		memmove(sc->in.p, sc->in.p + used, sc->in.len - used);
		buf_truncate(&sc->in, sc->in.len - used);
	}
}

static void srv_on_conn(uv_stream_t *l, int status)
{
	struct srv *s = l->data;
	struct sconn *sc = calloc(1, sizeof(*sc));

	assert_int_equal(status, 0);
	sc->s = s;
	buf_init(&sc->in, 64u << 20);
	buf_init(&sc->msg, 64u << 20);
	uv_tcp_init(l->loop, &sc->tcp);
	sc->tcp.data = sc;
	assert_int_equal(uv_accept(l, (uv_stream_t *)&sc->tcp), 0);
	s->conns[s->nconns++] = sc;
	uv_read_start((uv_stream_t *)&sc->tcp, srv_alloc, srv_on_read);
}

static void srv_start(uv_loop_t *loop, struct srv *s, enum srv_mode mode)
{
	struct sockaddr_in a;
	struct sockaddr_storage bound;
	int len = sizeof(bound);

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	uv_tcp_init(loop, &s->listener);
	s->listener.data = s;
	uv_ip4_addr("127.0.0.1", 0, &a);
	assert_int_equal(uv_tcp_bind(&s->listener, (struct sockaddr *)&a, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&s->listener, 16, srv_on_conn), 0);
	uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &len);
	s->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
}

static void srv_stop(struct srv *s)
{
	if (s->stopped)
		return;
	s->stopped = true;
	uv_close((uv_handle_t *)&s->listener, NULL);
	while (s->nconns)
		srv_conn_close(s->conns[0]);
}

/* A port nothing listens on: bind one, note it, close it. */
static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t alen = sizeof(a);

	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &alen);
	close(fd);
	return ntohs(a.sin_port);
}

/* ==== the test harness ==== */

struct t {
	uv_loop_t loop;
	struct ws_client *c;
	struct srv srv;
	bool srv_on;
	uv_timer_t guard;
	struct ws_conn *w;
	int opened;
	int closes;
	int close_code;
	char close_reason[160];
	char texts[8][128];
	size_t text_lens[8];
	int ntexts;
	int nbinary;
	bool stopped;
	bool guard_fired;
	/* what the test does */
	void (*after_open)(struct t *t);
	void (*after_text)(struct t *t, const char *data, size_t len);
};

static void t_on_stopped(void *arg)
{
	struct t *t = arg;

	t->stopped = true;
	uv_close((uv_handle_t *)&t->guard, NULL);
	if (t->srv_on)
		srv_stop(&t->srv);
}

static void t_on_guard(uv_timer_t *h)
{
	struct t *t = h->data;

	t->guard_fired = true;
	ws_client_stop(t->c, t_on_stopped, t);
}

static void t_on_open(struct ws_conn *w, void *arg)
{
	struct t *t = arg;

	t->opened++;
	if (t->after_open)
		t->after_open(t);
}

static void t_on_text(struct ws_conn *w, const char *data, size_t len, void *arg)
{
	struct t *t = arg;

	if (t->ntexts < 8) {
		snprintf(t->texts[t->ntexts], sizeof(t->texts[0]), "%.*s",
			 (int)(len < 127 ? len : 127), data);
		t->text_lens[t->ntexts++] = len;
	}
	if (t->after_text)
		t->after_text(t, data, len);
}

static void t_on_binary(struct ws_conn *w, const void *data, size_t len, void *arg)
{
	struct t *t = arg;

	t->nbinary++;
	ws_conn_close(w, 1000, "got binary");
}

static void t_on_close(struct ws_conn *w, int code, const char *reason, void *arg)
{
	struct t *t = arg;

	t->closes++;
	t->close_code = code;
	snprintf(t->close_reason, sizeof(t->close_reason), "%s", reason);
	t->w = NULL;
	ws_client_stop(t->c, t_on_stopped, t);
}

static void t_init(struct t *t, int srv_mode)
{
	char err[256];

	memset(t, 0, sizeof(*t));
	assert_int_equal(uv_loop_init(&t->loop), 0);
	t->c = ws_client_new(&t->loop, err, sizeof(err));
	assert_non_null(t->c);
	if (srv_mode >= 0) {
		srv_start(&t->loop, &t->srv, (enum srv_mode)srv_mode);
		t->srv_on = true;
	}
	uv_timer_init(&t->loop, &t->guard);
	t->guard.data = t;
	uv_timer_start(&t->guard, t_on_guard, GUARD_MS, 0);
}

static struct ws_conn *t_open(struct t *t, struct ws_conn_opts *o)
{
	char err[256];

	o->on_open = t_on_open;
	o->on_text = t_on_text;
	o->on_close = t_on_close;
	o->arg = t;
	t->w = ws_conn_open(t->c, o, err, sizeof(err));
	if (!t->w)
		fail_msg("ws_conn_open: %s", err);
	return t->w;
}

/* Run to the end and check that everything closed and was freed. */
static void t_finish(struct t *t)
{
	uv_run(&t->loop, UV_RUN_DEFAULT);
	assert_true(t->stopped);
	assert_false(t->guard_fired);
	ws_client_free(t->c);
	assert_int_equal(uv_loop_close(&t->loop), 0);
}

static char *t_url(struct t *t, const char *path)
{
	static char url[128];

	snprintf(url, sizeof(url), "ws://127.0.0.1:%d%s", t->srv.port, path);
	return url;
}

/* ==== tests ==== */

static void send_str(struct t *t, const char *s)
{
	assert_int_equal(ws_conn_send_text(t->w, s, strlen(s)), 0);
}

static void echo_after_open(struct t *t)
{
	send_str(t, "hello");
	send_str(t, "");
	send_str(t, "world");
}

static void echo_after_text(struct t *t, const char *data, size_t len)
{
	if (t->ntexts == 3)
		ws_conn_close(t->w, 1000, "done");
}

static void test_echo_and_clean_close(void **state)
{
	struct t t;
	struct ws_conn_opts o = { 0 };
	const char *hdrs[] = { "Origin: http://127.0.0.1", "Authorization: Bearer abc", NULL };

	t_init(&t, SRV_ECHO);
	o.url = t_url(&t, "/gw?x=1");
	o.headers = hdrs;
	t.after_open = echo_after_open;
	t.after_text = echo_after_text;
	t_open(&t, &o);
	/* Nothing can be sent before the upgrade. */
	assert_int_equal(ws_conn_send_text(t.w, "x", 1), -1);
	assert_int_equal(errno, ENOTCONN);
	t_finish(&t);

	assert_int_equal(t.opened, 1);
	assert_int_equal(t.closes, 1);
	assert_int_equal(t.ntexts, 3);
	assert_string_equal(t.texts[0], "hello");
	assert_int_equal(t.text_lens[1], 0);
	assert_string_equal(t.texts[2], "world");
	assert_int_equal(t.close_code, 1000);
	assert_string_equal(t.close_reason, "done");
	/* The server saw our close frame, the path, and the extra headers. */
	assert_int_equal(t.srv.close_code, 1000);
	assert_string_equal(t.srv.close_reason, "done");
	assert_true(!strncmp(t.srv.request, "GET /gw?x=1 HTTP/1.1\r\n", 22));
	assert_non_null(strstr(t.srv.request, "\r\nOrigin: http://127.0.0.1\r\n"));
	assert_non_null(strstr(t.srv.request, "\r\nAuthorization: Bearer abc\r\n"));
	{
		char host[64];

		snprintf(host, sizeof(host), "\r\nHost: 127.0.0.1:%d\r\n", t.srv.port);
		assert_non_null(strstr(t.srv.request, host));
	}
}

static void frag_after_open(struct t *t)
{
	send_str(t, "frag");
}

static void close_after_first_text(struct t *t, const char *data, size_t len)
{
	ws_conn_close(t->w, 4001, "thanks");
}

static void test_fragments_reassembled(void **state)
{
	struct t t;
	struct ws_conn_opts o = { 0 };

	t_init(&t, SRV_ECHO);
	o.url = t_url(&t, "/");
	t.after_open = frag_after_open;
	t.after_text = close_after_first_text;
	t_open(&t, &o);
	t_finish(&t);
	assert_int_equal(t.ntexts, 1);
	assert_string_equal(t.texts[0], "hello world");
	assert_int_equal(t.close_code, 4001);
	assert_int_equal(t.srv.close_code, 4001);
	assert_string_equal(t.srv.close_reason, "thanks");
}

static void big_after_open(struct t *t)
{
	send_str(t, "big:5000");
}

static void test_oversize_message_closes_1009(void **state)
{
	struct t t;
	struct ws_conn_opts o = { 0 };

	t_init(&t, SRV_ECHO);
	o.url = t_url(&t, "/");
	o.max_message = 4096;
	t.after_open = big_after_open;
	t_open(&t, &o);
	t_finish(&t);
	assert_int_equal(t.ntexts, 0);
	assert_int_equal(t.closes, 1);
	assert_int_equal(t.close_code, 1009);
	assert_int_equal(t.srv.close_code, 1009);
	assert_non_null(strstr(t.close_reason, "too big"));
}

static void big_ok_after_open(struct t *t)
{
	send_str(t, "big:300000");
}

static void test_large_message_within_limit(void **state)
{
	struct t t;
	struct ws_conn_opts o = { 0 };

	t_init(&t, SRV_ECHO);
	o.url = t_url(&t, "/");
	t.after_open = big_ok_after_open;
	t.after_text = close_after_first_text;
	t_open(&t, &o);
	t_finish(&t);
	assert_int_equal(t.ntexts, 1);
	assert_int_equal(t.text_lens[0], 300000);
	assert_int_equal(t.close_code, 4001);
}

static void send_big_after_open(struct t *t)
{
	/* Sent in several frames; the server reassembles and echoes it back. */
	size_t n = 1u << 20;
	char *p = malloc(n);

	memset(p, 'b', n);
	assert_int_equal(ws_conn_send_text(t->w, p, n), 0);
	assert_int_equal(ws_conn_buffered(t->w), n);
	free(p);
}

static void test_send_large_message(void **state)
{
	struct t t;
	struct ws_conn_opts o = { 0 };

	t_init(&t, SRV_ECHO);
	o.url = t_url(&t, "/");
	t.after_open = send_big_after_open;
	t.after_text = close_after_first_text;
	t_open(&t, &o);
	t_finish(&t);
	assert_int_equal(t.srv.ntexts, 1);
	assert_int_equal(t.srv.text_lens[0], 1u << 20);
	assert_int_equal(t.ntexts, 1);
	assert_int_equal(t.text_lens[0], 1u << 20);
}

static void cap_after_open(struct t *t)
{
	char p[600];

	memset(p, 'c', sizeof(p));
	assert_int_equal(ws_conn_send_text(t->w, p, sizeof(p)), 0);
	/* The first is still queued (writes happen from the loop): over the cap. */
	assert_int_equal(ws_conn_send_text(t->w, p, sizeof(p)), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(ws_conn_buffered(t->w), sizeof(p));
	ws_conn_close(t->w, 1000, NULL);
	/* Closing: nothing more can be queued. */
	assert_int_equal(ws_conn_send_text(t->w, "x", 1), -1);
	assert_int_equal(errno, EPIPE);
}

static void test_send_buffer_cap(void **state)
{
	struct t t;
	struct ws_conn_opts o = { 0 };

	t_init(&t, SRV_ECHO);
	o.url = t_url(&t, "/");
	o.max_buffered = 1000;
	t.after_open = cap_after_open;
	t_open(&t, &o);
	t_finish(&t);
	/* The queued message went out before the close frame. */
	assert_int_equal(t.srv.ntexts, 1);
	assert_int_equal(t.srv.text_lens[0], 600);
	assert_int_equal(t.close_code, 1000);
	assert_int_equal(t.srv.close_code, 1000);
}

static void server_close_after_open(struct t *t)
{
	send_str(t, "close:4000:bye now");
}

static void test_server_close_code_and_reason(void **state)
{
	struct t t;
	struct ws_conn_opts o = { 0 };

	t_init(&t, SRV_ECHO);
	o.url = t_url(&t, "/");
	t.after_open = server_close_after_open;
	t_open(&t, &o);
	t_finish(&t);
	assert_int_equal(t.closes, 1);
	assert_int_equal(t.close_code, 4000);
	assert_string_equal(t.close_reason, "bye now");
	/* lws answered with the same close. */
	assert_int_equal(t.srv.close_code, 4000);
}

static void drop_after_open(struct t *t)
{
	send_str(t, "drop");
}

static void test_dropped_connection_is_1006(void **state)
{
	struct t t;
	struct ws_conn_opts o = { 0 };

	t_init(&t, SRV_ECHO);
	o.url = t_url(&t, "/");
	t.after_open = drop_after_open;
	t_open(&t, &o);
	t_finish(&t);
	assert_int_equal(t.closes, 1);
	assert_int_equal(t.close_code, 1006);
	assert_string_equal(t.close_reason, "connection lost");
}

static void binary_after_open(struct t *t)
{
	send_str(t, "binary");
}

static void test_binary_without_handler_closes_1003(void **state)
{
	struct t t;
	struct ws_conn_opts o = { 0 };

	t_init(&t, SRV_ECHO);
	o.url = t_url(&t, "/");
	t.after_open = binary_after_open;
	t_open(&t, &o);
	t_finish(&t);
	assert_int_equal(t.close_code, 1003);
	assert_int_equal(t.srv.close_code, 1003);
}

static void test_binary_with_handler(void **state)
{
	struct t t;
	struct ws_conn_opts o = { 0 };

	t_init(&t, SRV_ECHO);
	o.url = t_url(&t, "/");
	o.on_binary = t_on_binary;
	t.after_open = binary_after_open;
	t_open(&t, &o);
	t_finish(&t);
	assert_int_equal(t.nbinary, 1);
	assert_int_equal(t.close_code, 1000);
}

static void badutf8_after_open(struct t *t)
{
	send_str(t, "badutf8");
}

static void test_invalid_utf8_closes_1007(void **state)
{
	struct t t;
	struct ws_conn_opts o = { 0 };

	t_init(&t, SRV_ECHO);
	o.url = t_url(&t, "/");
	t.after_open = badutf8_after_open;
	t_open(&t, &o);
	t_finish(&t);
	assert_int_equal(t.ntexts, 0);
	assert_int_equal(t.closes, 1);
	assert_int_equal(t.srv.close_code, 1007);
}

static void test_connection_refused(void **state)
{
	struct t t;
	struct ws_conn_opts o = { 0 };
	char url[64];

	t_init(&t, -1);
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", closed_port());
	o.url = url;
	t_open(&t, &o);
	t_finish(&t);
	assert_int_equal(t.opened, 0);
	assert_int_equal(t.closes, 1);
	assert_int_equal(t.close_code, 1006);
	assert_string_equal(t.close_reason, "connection refused");
}

static void test_localhost_name_is_resolved(void **state)
{
	struct t t;
	struct ws_conn_opts o = { 0 };
	char url[64];

	t_init(&t, SRV_ECHO);
	snprintf(url, sizeof(url), "ws://localhost:%d/", t.srv.port);
	o.url = url;
	t.after_open = server_close_after_open;
	t_open(&t, &o);
	t_finish(&t);
	/* localhost may resolve to ::1 first; the server is on 127.0.0.1 only. */
	assert_int_equal(t.opened, 1);
	assert_int_equal(t.close_code, 4000);
}

static void test_unresolvable_host(void **state)
{
	struct t t;
	struct ws_conn_opts o = { 0 };

	t_init(&t, -1);
	o.url = "ws://no-such-host.invalid:1/";
	t_open(&t, &o);
	t_finish(&t);
	assert_int_equal(t.closes, 1);
	assert_int_equal(t.close_code, 1006);
	assert_non_null(strstr(t.close_reason, "cannot resolve no-such-host.invalid"));
}

static void test_upgrade_timeout(void **state)
{
	struct t t;
	struct ws_conn_opts o = { 0 };

	t_init(&t, SRV_SILENT);
	o.url = t_url(&t, "/");
	o.connect_timeout_ms = 200;
	t_open(&t, &o);
	t_finish(&t);
	assert_int_equal(t.opened, 0);
	assert_int_equal(t.closes, 1);
	assert_int_equal(t.close_code, 1006);
	assert_string_equal(t.close_reason,
			    "timed out after 200 ms waiting for the WebSocket upgrade");
}

static void test_http_404_instead_of_upgrade(void **state)
{
	struct t t;
	struct ws_conn_opts o = { 0 };

	t_init(&t, SRV_404);
	o.url = t_url(&t, "/nope");
	t_open(&t, &o);
	t_finish(&t);
	assert_int_equal(t.closes, 1);
	assert_int_equal(t.close_code, 1006);
	assert_string_equal(t.close_reason,
			    "server answered HTTP 404 instead of upgrading to WebSocket");
}

static void test_close_before_open(void **state)
{
	struct t t;
	struct ws_conn_opts o = { 0 };

	t_init(&t, SRV_SILENT);
	o.url = t_url(&t, "/");
	t_open(&t, &o);
	ws_conn_close(t.w, 1000, "never mind");
	/* on_close comes from the loop, not from inside ws_conn_close. */
	assert_int_equal(t.closes, 0);
	t_finish(&t);
	assert_int_equal(t.closes, 1);
	assert_int_equal(t.close_code, 1000);
	assert_string_equal(t.close_reason, "never mind");
}

static void stop_after_open(struct t *t)
{
	ws_client_stop(t->c, t_on_stopped, t);
}

static void test_stop_closes_open_connections(void **state)
{
	struct t t;
	struct ws_conn_opts o = { 0 };

	t_init(&t, SRV_ECHO);
	o.url = t_url(&t, "/");
	t.after_open = stop_after_open;
	t_open(&t, &o);
	t_finish(&t);
	assert_int_equal(t.closes, 1);
	assert_int_equal(t.close_code, 1001);
	assert_int_equal(t.srv.close_code, 1001);
}

static void test_bad_options_are_refused(void **state)
{
	static const char *const bad_urls[] = {
		"http://127.0.0.1/",  "wss://example.com/",    "ws://user:pw@127.0.0.1/",
		"ws://127.0.0.1:0/",  "ws://127.0.0.1:99999/", "ws:///x",
		"ws://[::1/",         "ws://ho st/",           "ws://127.0.0.1/#frag",
		"ws://127.0.0.1/a b",
	};
	const char *bad_hdr1[] = { "Host: evil", NULL };
	const char *bad_hdr2[] = { "X-A: b\r\nX-C: d", NULL };
	const char *bad_hdr3[] = { "no colon", NULL };
	const char *const *bad_hdrs[] = { bad_hdr1, bad_hdr2, bad_hdr3 };
	struct t t;
	char err[256];

	t_init(&t, -1);
	for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
		struct ws_conn_opts o = { .url = bad_urls[i], .on_close = t_on_close, .arg = &t };

		err[0] = '\0';
		assert_null(ws_conn_open(t.c, &o, err, sizeof(err)));
		assert_true(err[0]);
	}
	for (size_t i = 0; i < 3; i++) {
		struct ws_conn_opts o = { .url = "ws://127.0.0.1:1/",
					  .headers = bad_hdrs[i],
					  .on_close = t_on_close,
					  .arg = &t };

		assert_null(ws_conn_open(t.c, &o, err, sizeof(err)));
	}
	ws_client_stop(t.c, t_on_stopped, &t);
	t_finish(&t);
	assert_int_equal(t.closes, 0);
}

static void stop_after_five(struct t *t)
{
	if (t->opened == 5)
		ws_client_stop(t->c, t_on_stopped, t);
}

static void test_many_connections(void **state)
{
	/* Several at once on one client; each gets exactly one on_close. */
	struct t t;
	struct ws_conn_opts o = { 0 };
	char err[256];
	int n = 5;

	t_init(&t, SRV_ECHO);
	o.url = t_url(&t, "/");
	o.arg = &t;
	o.on_open = t_on_open;
	o.on_close = t_on_close; /* the first close stops the client, which closes the rest */
	for (int i = 0; i < n; i++)
		assert_non_null(ws_conn_open(t.c, &o, err, sizeof(err)));
	t.after_open = stop_after_five;
	t_finish(&t);
	assert_int_equal(t.opened, n);
	assert_int_equal(t.closes, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_and_clean_close),
		cmocka_unit_test(test_fragments_reassembled),
		cmocka_unit_test(test_oversize_message_closes_1009),
		cmocka_unit_test(test_large_message_within_limit),
		cmocka_unit_test(test_send_large_message),
		cmocka_unit_test(test_send_buffer_cap),
		cmocka_unit_test(test_server_close_code_and_reason),
		cmocka_unit_test(test_dropped_connection_is_1006),
		cmocka_unit_test(test_binary_without_handler_closes_1003),
		cmocka_unit_test(test_binary_with_handler),
		cmocka_unit_test(test_invalid_utf8_closes_1007),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_localhost_name_is_resolved),
		cmocka_unit_test(test_unresolvable_host),
		cmocka_unit_test(test_upgrade_timeout),
		cmocka_unit_test(test_http_404_instead_of_upgrade),
		cmocka_unit_test(test_close_before_open),
		cmocka_unit_test(test_stop_closes_open_connections),
		cmocka_unit_test(test_bad_options_are_refused),
		cmocka_unit_test(test_many_connections),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
