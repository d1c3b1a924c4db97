/*
 * test_http_client.c - the libcurl-on-libuv HTTP client (src/net/http_client.c)
 * against a small HTTP/1.1 server written here, on the same loop.
 *
 * The server is hand-made on uv_tcp so it can misbehave on purpose: stall
 * after the headers, drop the connection mid-body, dribble chunks forever.
 * Its behaviour is picked by the request path (see srv_route). Each test
 * runs its own loop and ends by closing everything and checking that
 * uv_loop_close succeeds, so a handle the client forgot to close fails the
 * test; ASan (make asan) catches what it forgot to free. A guard timer
 * stops a test that does not finish.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "core/buf.h"
#include "net/http_client.h"

#define GUARD_MS 10000

/* ==== the test server ==== */

struct srv;

struct sconn {
	uv_tcp_t tcp;
	uv_timer_t timer; /* paces streamed responses */
	struct srv *s;
	struct buf in;
	int open_handles; /* freed when both handles have closed */
	bool closing;
	bool busy; /* a streamed response is going on: read no more requests */
	int step;
	int steps;
};

struct srv {
	uv_tcp_t listener;
	int port;
	struct sconn *conns[128];
	int nconns;
	int requests;
	char method[16];
	char path[128];
	char headers[4096]; /* of the last request */
	struct buf body;    /* of the last request */
	bool stopped;
};

static void srv_on_closed(uv_handle_t *h)
{
	struct sconn *sc = h->data;

	if (--sc->open_handles == 0) {
		buf_release(&sc->in);
		free(sc);
	}
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
	uv_close((uv_handle_t *)&sc->timer, srv_on_closed);
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

static void srv_send(struct sconn *sc, const void *data, size_t len, bool close_after)
{
	struct srv_write *wr;
	uv_buf_t b;

	if (sc->closing)
		return;
	wr = malloc(sizeof(*wr) + len);
	wr->sc = sc;
	wr->close_after = close_after;
	memcpy(wr->data, data, len);
	b = uv_buf_init(wr->data, (unsigned)len);
	if (uv_write(&wr->req, (uv_stream_t *)&sc->tcp, &b, 1, srv_on_written) < 0) {
		free(wr);
		srv_conn_close(sc);
	}
}

static PRINTF_LIKE(3, 4) void srv_sendf(struct sconn *sc, bool close_after, const char *fmt, ...)
{
	char out[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, sizeof(out), fmt, ap);
	va_end(ap);
	srv_send(sc, out, (size_t)n, close_after);
}

static void srv_chunk(struct sconn *sc, const char *data)
{
	srv_sendf(sc, false, "%zx\r\n%s\r\n", strlen(data), data);
}

static void srv_process(struct sconn *sc);

/* The timer of a streamed response: one SSE event per tick. */
static void srv_on_tick(uv_timer_t *t)
{
	struct sconn *sc = t->data;
	char ev[64];

	sc->step++;
	snprintf(ev, sizeof(ev), "data: %d\n\n", sc->step);
	srv_chunk(sc, ev);
	if (sc->steps && sc->step >= sc->steps) {
		uv_timer_stop(&sc->timer);
		srv_send(sc, "0\r\n\r\n", 5, false);
		sc->busy = false;
		srv_process(sc); /* a pipelined or next request */
	}
}

static const char chunked_200[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
				  "Transfer-Encoding: chunked\r\n\r\n";

/*
 * The routes.
 *   /json        200, a small JSON body (the query string is echoed in it)
 *   /stream      200 chunked, "data: N" every 20 ms, 4 times, then the end
 *   /drip        the same, forever
 *   /429         429 with Retry-After: 7 (and a repeated header)
 *   /stall       200 chunked headers, then nothing
 *   /cut         200 chunked headers, one chunk, then the connection drops
 *   /big         200 with 100,000 bytes
 *   /echo        the method and the request body
 *   /redirect    302 to /json
 *   /continue    100 Continue (with a header of its own), then 200
 *   /gzip        a gzip-encoded body
 *   /empty       204
 *   /hang        nothing at all
 */
static void srv_route(struct sconn *sc, const char *method, const char *target, const char *body,
		      size_t body_len)
{
	static const char gz[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcb\x48\xcd\xc9\xc9"
				 "\xd7\x51\x48\xaf\xca\x2c\x50\x28\xcf\x2f\xca\x49\xe1\xca\x20"
				 "\x42\x04\x00\x44\x14\xe9\x91\x36\x00\x00\x00";
	char path[128];
	const char *q = strchr(target, '?');
	const char *query = q ? q + 1 : "";

	snprintf(path, sizeof(path), "%.*s", (int)(q ? q - target : (long)strlen(target)), target);
	if (!strcmp(path, "/json")) {
		char b[256];
		int n = snprintf(b, sizeof(b), "{\"ok\":true,\"q\":\"%s\"}", query);

		srv_sendf(sc, false,
			  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			  "X-Request-Id: req-1\r\nContent-Length: %d\r\n\r\n%s",
			  n, b);
	} else if (!strcmp(path, "/stream") || !strcmp(path, "/drip")) {
		srv_send(sc, chunked_200, sizeof(chunked_200) - 1, false);
		sc->busy = true;
		sc->step = 0;
		sc->steps = !strcmp(path, "/stream") ? 4 : 0;
		uv_timer_start(&sc->timer, srv_on_tick, 20, 20);
	} else if (!strcmp(path, "/429")) {
		srv_sendf(sc, false,
			  "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nX-Dup: a\r\n"
			  "x-dup: b\r\nContent-Type: application/json\r\nContent-Length: 19\r\n\r\n"
			  "{\"error\":\"limited\"}");
	} else if (!strcmp(path, "/stall")) {
		srv_send(sc, chunked_200, sizeof(chunked_200) - 1, false);
		sc->busy = true;
	} else if (!strcmp(path, "/cut")) {
		srv_send(sc, chunked_200, sizeof(chunked_200) - 1, false);
		srv_chunk(sc, "data: partial\n\n");
		srv_send(sc, "5\r\nda", 6, true);
		sc->busy = true;
	} else if (!strcmp(path, "/big")) {
		char *b = malloc(100000);

		memset(b, 'x', 100000);
		srv_sendf(sc, false, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
		srv_send(sc, b, 100000, false);
		free(b);
	} else if (!strcmp(path, "/echo")) {
		srv_sendf(sc, false, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s %.*s",
			  strlen(method) + 1 + body_len, method, (int)body_len, body);
	} else if (!strcmp(path, "/redirect")) {
		srv_sendf(sc, false,
			  "HTTP/1.1 302 Found\r\nLocation: /json\r\n"
			  "Content-Length: 0\r\n\r\n");
	} else if (!strcmp(path, "/continue")) {
		srv_sendf(sc, false,
			  "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
			  "HTTP/1.1 200 OK\r\nX-Final: 1\r\nContent-Length: 2\r\n\r\nok");
	} else if (!strcmp(path, "/gzip")) {
		srv_sendf(sc, false,
			  "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
			  "Content-Length: %zu\r\n\r\n",
			  sizeof(gz) - 1);
		srv_send(sc, gz, sizeof(gz) - 1, false);
	} else if (!strcmp(path, "/empty")) {
		srv_sendf(sc, false, "HTTP/1.1 204 No Content\r\n\r\n");
	} else if (!strcmp(path, "/hang")) {
		sc->busy = true;
	} else {
		srv_sendf(sc, false, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	}
}

/* Handle every complete request in sc->in (keep-alive, pipelining). */
static void srv_process(struct sconn *sc)
{
	struct srv *s = sc->s;

	while (!sc->closing && !sc->busy) {
		char *end = strstr(sc->in.p, "\r\n\r\n"), *cl, target[128] = "", method[16] = "";
		size_t hlen, blen = 0;

		if (!end)
			return;
		hlen = (size_t)(end + 4 - sc->in.p);
		cl = strcasestr(sc->in.p, "\nContent-Length:");
		if (cl && cl < end)
			blen = strtoul(cl + 16, NULL, 10);
		if (sc->in.len < hlen + blen)
			return;
		sscanf(sc->in.p, "%15s %127s", method, target);
		s->requests++;
		snprintf(s->method, sizeof(s->method), "%s", method);
		snprintf(s->path, sizeof(s->path), "%s", target);
		snprintf(s->headers, sizeof(s->headers), "%.*s", (int)hlen, sc->in.p);
		buf_reset(&s->body);
		buf_append(&s->body, sc->in.p + hlen, blen);
		srv_route(sc, method, target, sc->in.p + hlen, blen);
		memmove(sc->in.p, sc->in.p + hlen + blen, sc->in.len - hlen - blen + 1);
		sc->in.len -= hlen + blen;
	}
}

static void srv_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	b->base = malloc(65536);
	b->len = 65536;
}

static void srv_on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct sconn *sc = st->data;

	if (n < 0) {
		free(b->base);
		srv_conn_close(sc);
		return;
	}
	buf_append(&sc->in, b->base, (size_t)n);
	free(b->base);
	srv_process(sc);
}

static void srv_on_conn(uv_stream_t *l, int status)
{
	struct srv *s = l->data;
	struct sconn *sc = calloc(1, sizeof(*sc));

	assert_int_equal(status, 0);
	assert_true(s->nconns < (int)(sizeof(s->conns) / sizeof(s->conns[0])));
	sc->s = s;
	buf_init(&sc->in, 1u << 20);
	uv_tcp_init(l->loop, &sc->tcp);
	uv_timer_init(l->loop, &sc->timer);
	sc->tcp.data = sc;
	sc->timer.data = sc;
	sc->open_handles = 2;
	assert_int_equal(uv_accept(l, (uv_stream_t *)&sc->tcp), 0);
	s->conns[s->nconns++] = sc;
	uv_read_start((uv_stream_t *)&sc->tcp, srv_alloc, srv_on_read);
}

static void srv_start(uv_loop_t *loop, struct srv *s)
{
	struct sockaddr_in a;
	struct sockaddr_storage bound;
	int len = sizeof(bound);

	memset(s, 0, sizeof(*s));
	buf_init(&s->body, 1u << 20);
	uv_tcp_init(loop, &s->listener);
	s->listener.data = s;
	uv_ip4_addr("127.0.0.1", 0, &a);
	assert_int_equal(uv_tcp_bind(&s->listener, (struct sockaddr *)&a, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&s->listener, 128, srv_on_conn), 0);
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
	buf_release(&s->body);
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
	uv_timer_t guard;
	bool timed_out;
	struct srv srv;
	struct http_client *hc;
	char url[256];
};

/* What one transfer reported. */
struct rec {
	struct t *t;
	struct http_xfer *x;
	int responses;
	long status;
	int datas;
	struct buf body;
	int done;
	int result;
	char errmsg[256];
	char hdr[64]; /* the header named by want_hdr, at on_response */
	const char *want_hdr;
	int cancel_at_data;    /* cancel from inside the Nth on_data */
	int stop_at_data;      /* return nonzero from the Nth on_data */
	bool stop_at_response; /* return nonzero from on_response */
	bool cancel_at_response;
	bool free_at_data;              /* http_client_free from inside on_data */
	bool free_at_done;              /* ...and from inside on_done */
	struct http_xfer *cancel_other; /* cancelled from inside the first on_data */
	struct rec *chain;              /* started from inside this one's on_done */
	const char *chain_url;
	bool order_ok; /* response before data before done, as promised */
};

static void guard_fired(uv_timer_t *tm)
{
	struct t *t = tm->data;

	t->timed_out = true;
	uv_stop(&t->loop);
}

static void t_setup(struct t *t)
{
	memset(t, 0, sizeof(*t));
	assert_int_equal(uv_loop_init(&t->loop), 0);
	uv_timer_init(&t->loop, &t->guard);
	t->guard.data = t;
	uv_timer_start(&t->guard, guard_fired, GUARD_MS, 0);
	uv_unref((uv_handle_t *)&t->guard);
	srv_start(&t->loop, &t->srv);
	t->hc = http_client_new(&t->loop);
	assert_non_null(t->hc);
}

static void t_teardown(struct t *t)
{
	http_client_free(t->hc);
	t->hc = NULL;
	srv_stop(&t->srv);
	uv_close((uv_handle_t *)&t->guard, NULL);
	uv_run(&t->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&t->loop), 0);
}

static const char *t_url(struct t *t, const char *path)
{
	snprintf(t->url, sizeof(t->url), "http://127.0.0.1:%d%s", t->srv.port, path);
	return t->url;
}

static void run_until(struct t *t, const int *flag, int want)
{
	while (*flag < want && !t->timed_out)
		uv_run(&t->loop, UV_RUN_ONCE);
	assert_false(t->timed_out);
}

static void on_wait(uv_timer_t *tm)
{
	*(int *)tm->data = 1;
}

/* Let the loop run for `ms` (to see that nothing more happens). */
static void run_for(struct t *t, uint64_t ms)
{
	uv_timer_t tm;
	int fired = 0;

	uv_timer_init(&t->loop, &tm);
	tm.data = &fired;
	uv_timer_start(&tm, on_wait, ms, 0);
	run_until(t, &fired, 1);
	uv_close((uv_handle_t *)&tm, NULL);
	uv_run(&t->loop, UV_RUN_NOWAIT);
}

static int rec_on_response(void *ud, struct http_xfer *x, long status)
{
	struct rec *r = ud;

	assert_ptr_equal(x, r->x);
	r->order_ok = r->order_ok && r->responses == 0 && r->datas == 0 && !r->done;
	r->responses++;
	r->status = status;
	assert_int_equal(http_xfer_status(x), status);
	if (r->want_hdr) {
		const char *v = http_xfer_header(x, r->want_hdr);

		snprintf(r->hdr, sizeof(r->hdr), "%s", v ? v : "(null)");
	}
	if (r->cancel_at_response) {
		http_xfer_cancel(x);
		return 0;
	}
	return r->stop_at_response;
}

static int rec_on_data(void *ud, struct http_xfer *x, const char *data, size_t len)
{
	struct rec *r = ud;

	assert_ptr_equal(x, r->x);
	r->order_ok = r->order_ok && r->responses == 1 && !r->done;
	assert_true(len > 0);
	r->datas++;
	buf_append(&r->body, data, len);
	if (r->cancel_other && r->datas == 1)
		http_xfer_cancel(r->cancel_other);
	if (r->free_at_data) {
		http_client_free(r->t->hc);
		r->t->hc = NULL;
		return 0;
	}
	if (r->datas == r->cancel_at_data) {
		http_xfer_cancel(x);
		return 0;
	}
	return r->datas == r->stop_at_data;
}

static const struct http_callbacks rec_cb;

static struct http_xfer *rec_start(struct t *t, struct rec *r, const struct http_request *rq);

static void rec_on_done(void *ud, struct http_xfer *x, int result, const char *errmsg)
{
	struct rec *r = ud;

	assert_ptr_equal(x, r->x);
	assert_non_null(errmsg);
	r->order_ok = r->order_ok && !r->done;
	r->done++;
	r->result = result;
	snprintf(r->errmsg, sizeof(r->errmsg), "%s", errmsg);
	/* Headers stay readable until on_done returns. */
	if (r->want_hdr && r->responses) {
		const char *v = http_xfer_header(x, r->want_hdr);

		assert_string_equal(v ? v : "(null)", r->hdr);
	}
	if (r->free_at_done) {
		http_client_free(r->t->hc);
		r->t->hc = NULL;
	}
	if (r->chain && r->t->hc) {
		struct http_request rq = { .url = r->chain_url };

		assert_non_null(rec_start(r->t, r->chain, &rq));
	}
}

static const struct http_callbacks rec_cb = { rec_on_response, rec_on_data, rec_on_done };

static void rec_init(struct rec *r, struct t *t)
{
	memset(r, 0, sizeof(*r));
	r->t = t;
	r->order_ok = true;
	r->result = 99;
	buf_init(&r->body, 4u << 20);
}

static struct http_xfer *rec_start(struct t *t, struct rec *r, const struct http_request *rq)
{
	r->x = http_client_start(t->hc, rq, &rec_cb, r);
	return r->x;
}

static struct http_xfer *rec_get(struct t *t, struct rec *r, const char *path)
{
	struct http_request rq = { .url = t_url(t, path) };

	rec_init(r, t);
	return rec_start(t, r, &rq);
}

/* ==== tests ==== */

static void test_json_200(void **state)
{
	struct t t;
	struct rec r;
	const char *hdrs[] = { "Authorization: Bearer sk-test", "X-Custom: yes", NULL };
	struct http_request rq;

	t_setup(&t);
	rec_init(&r, &t);
	r.want_hdr = "content-type";
	rq = (struct http_request){ .url = t_url(&t, "/json?a=1"), .headers = hdrs };
	assert_non_null(rec_start(&t, &r, &rq));
	/* Never calls back before it returns. */
	assert_int_equal(r.responses + r.datas + r.done, 0);
	assert_int_equal(http_client_active(t.hc), 1);
	run_until(&t, &r.done, 1);
	assert_int_equal(r.result, HTTP_OK);
	assert_string_equal(r.errmsg, "ok");
	assert_int_equal(r.status, 200);
	assert_int_equal(r.responses, 1);
	assert_true(r.order_ok);
	assert_string_equal(r.body.p, "{\"ok\":true,\"q\":\"a=1\"}");
	assert_string_equal(r.hdr, "application/json");
	assert_int_equal(http_client_active(t.hc), 0);
	/* What the server saw. */
	assert_string_equal(t.srv.method, "GET");
	assert_string_equal(t.srv.path, "/json?a=1");
	assert_non_null(strstr(t.srv.headers, "\r\nAuthorization: Bearer sk-test\r\n"));
	assert_non_null(strstr(t.srv.headers, "\r\nX-Custom: yes\r\n"));
	assert_non_null(strcasestr(t.srv.headers, "\r\nAccept-Encoding: "));
	assert_non_null(strstr(t.srv.headers, " HTTP/1.1\r\n"));
	buf_release(&r.body);
	t_teardown(&t);
}

static void test_post_body_and_methods(void **state)
{
	static const char *methods[] = { NULL, "PUT", "PATCH", "DELETE", "GET" };
	struct t t;
	struct rec r;

	t_setup(&t);
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		char body[64];
		char want[80];
		struct http_request rq;

		snprintf(body, sizeof(body), "{\"n\":%zu}", i);
		rec_init(&r, &t);
		rq = (struct http_request){ .url = t_url(&t, "/echo"),
					    .method = methods[i],
					    .body = body,
					    .body_len = strlen(body) };
		assert_non_null(rec_start(&t, &r, &rq));
		body[0] = 'X'; /* the body was copied */
		run_until(&t, &r.done, 1);
		assert_int_equal(r.result, HTTP_OK);
		body[0] = '{';
		snprintf(want, sizeof(want), "%s %s", methods[i] ? methods[i] : "POST", body);
		assert_string_equal(r.body.p, want);
		/* No "Expect: 100-continue" round trip. */
		assert_null(strcasestr(t.srv.headers, "Expect:"));
		buf_release(&r.body);
	}
	/* A bare POST with no body. */
	{
		struct http_request rq = { .url = t_url(&t, "/echo"), .method = "POST" };

		rec_init(&r, &t);
		rec_start(&t, &r, &rq);
		run_until(&t, &r.done, 1);
		assert_string_equal(r.body.p, "POST ");
		buf_release(&r.body);
	}
	t_teardown(&t);
}

static void test_streaming(void **state)
{
	struct t t;
	struct rec r;

	t_setup(&t);
	rec_get(&t, &r, "/stream");
	run_until(&t, &r.done, 1);
	assert_int_equal(r.result, HTTP_OK);
	assert_int_equal(r.status, 200);
	/* Chunks came as they were sent, not all at the end. */
	assert_true(r.datas >= 2);
	assert_true(r.order_ok);
	assert_string_equal(r.body.p, "data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n");
	buf_release(&r.body);
	t_teardown(&t);
}

static void test_429_retry_after(void **state)
{
	struct t t;
	struct rec r;

	t_setup(&t);
	rec_get(&t, &r, "/429");
	r.want_hdr = "retry-after";
	run_until(&t, &r.done, 1);
	/* An HTTP error status is a completed transfer; the caller reads the status. */
	assert_int_equal(r.result, HTTP_OK);
	assert_int_equal(r.status, 429);
	assert_string_equal(r.hdr, "7");
	assert_string_equal(r.body.p, "{\"error\":\"limited\"}");
	buf_release(&r.body);

	/* Last one wins, names compare case-insensitively, absent is NULL. */
	rec_get(&t, &r, "/429");
	r.want_hdr = "X-DUP";
	run_until(&t, &r.done, 1);
	assert_string_equal(r.hdr, "b");
	buf_release(&r.body);
	rec_get(&t, &r, "/429");
	r.want_hdr = "X-Absent";
	run_until(&t, &r.done, 1);
	assert_string_equal(r.hdr, "(null)");
	buf_release(&r.body);
	t_teardown(&t);
}

static void test_connect_refused(void **state)
{
	struct t t;
	struct rec r;
	char url[64];
	struct http_request rq = { .url = url };

	t_setup(&t);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", closed_port());
	rec_init(&r, &t);
	assert_non_null(rec_start(&t, &r, &rq));
	run_until(&t, &r.done, 1);
	assert_int_equal(r.result, HTTP_E_CONNECT);
	assert_int_equal(r.responses, 0);
	assert_int_equal(r.datas, 0);
	assert_true(strlen(r.errmsg) > 0);
	buf_release(&r.body);
	t_teardown(&t);
}

static void test_stalled(void **state)
{
	struct t t;
	struct rec r;
	struct http_request rq;
	uint64_t t0;

	t_setup(&t);
	rec_init(&r, &t);
	rq = (struct http_request){ .url = t_url(&t, "/stall"), .idle_timeout_ms = 200 };
	rec_start(&t, &r, &rq);
	t0 = uv_now(&t.loop);
	run_until(&t, &r.done, 1);
	assert_int_equal(r.result, HTTP_E_STALLED);
	assert_non_null(strstr(r.errmsg, "stalled"));
	/* The headers had arrived. */
	assert_int_equal(r.responses, 1);
	assert_int_equal(r.status, 200);
	assert_true(uv_now(&t.loop) - t0 >= 190);
	assert_int_equal(http_client_active(t.hc), 0);
	buf_release(&r.body);

	/* A stream that keeps talking is not stalled, however long it lasts. */
	rec_init(&r, &t);
	rq = (struct http_request){ .url = t_url(&t, "/stream"), .idle_timeout_ms = 150 };
	rec_start(&t, &r, &rq);
	run_until(&t, &r.done, 1);
	assert_int_equal(r.result, HTTP_OK);
	buf_release(&r.body);

	/* Nothing at all, not even headers: stalled too. */
	rec_init(&r, &t);
	rq = (struct http_request){ .url = t_url(&t, "/hang"), .idle_timeout_ms = 100 };
	rec_start(&t, &r, &rq);
	run_until(&t, &r.done, 1);
	assert_int_equal(r.result, HTTP_E_STALLED);
	assert_int_equal(r.responses, 0);
	buf_release(&r.body);
	t_teardown(&t);
}

static void test_total_timeout(void **state)
{
	struct t t;
	struct rec r;
	struct http_request rq;

	t_setup(&t);
	rec_init(&r, &t);
	rq = (struct http_request){ .url = t_url(&t, "/drip"),
				    .idle_timeout_ms = 1000,
				    .total_timeout_ms = 150 };
	rec_start(&t, &r, &rq);
	run_until(&t, &r.done, 1);
	assert_int_equal(r.result, HTTP_E_TIMEOUT);
	assert_true(r.datas >= 1);
	buf_release(&r.body);

	/* Before any response byte, the total budget is still a timeout. */
	rec_init(&r, &t);
	rq = (struct http_request){ .url = t_url(&t, "/hang"), .total_timeout_ms = 100 };
	rec_start(&t, &r, &rq);
	run_until(&t, &r.done, 1);
	assert_int_equal(r.result, HTTP_E_TIMEOUT);
	buf_release(&r.body);
	t_teardown(&t);
}

static void test_cut_mid_body(void **state)
{
	struct t t;
	struct rec r;

	t_setup(&t);
	rec_get(&t, &r, "/cut");
	run_until(&t, &r.done, 1);
	assert_int_equal(r.result, HTTP_E_NETWORK);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.p, "data: partial"));
	buf_release(&r.body);
	t_teardown(&t);
}

static void test_too_big(void **state)
{
	struct t t;
	struct rec r;
	struct http_request rq;

	t_setup(&t);
	rec_init(&r, &t);
	rq = (struct http_request){ .url = t_url(&t, "/big"), .max_response_bytes = 10000 };
	rec_start(&t, &r, &rq);
	run_until(&t, &r.done, 1);
	assert_int_equal(r.result, HTTP_E_TOO_BIG);
	assert_true(r.body.len <= 10000);
	buf_release(&r.body);

	/* Exactly the limit is fine. */
	rec_init(&r, &t);
	rq = (struct http_request){ .url = t_url(&t, "/big"), .max_response_bytes = 100000 };
	rec_start(&t, &r, &rq);
	run_until(&t, &r.done, 1);
	assert_int_equal(r.result, HTTP_OK);
	assert_int_equal(r.body.len, 100000);
	buf_release(&r.body);
	t_teardown(&t);
}

static void test_callback_stops(void **state)
{
	struct t t;
	struct rec r;

	t_setup(&t);
	rec_get(&t, &r, "/drip");
	r.stop_at_data = 2;
	run_until(&t, &r.done, 1);
	assert_int_equal(r.result, HTTP_E_CALLBACK);
	assert_int_equal(r.datas, 2);
	buf_release(&r.body);

	rec_get(&t, &r, "/json");
	r.stop_at_response = true;
	run_until(&t, &r.done, 1);
	assert_int_equal(r.result, HTTP_E_CALLBACK);
	assert_int_equal(r.datas, 0);
	buf_release(&r.body);

	/* A 204 has no body: on_response still runs, and can still stop. */
	rec_get(&t, &r, "/empty");
	run_until(&t, &r.done, 1);
	assert_int_equal(r.result, HTTP_OK);
	assert_int_equal(r.responses, 1);
	assert_int_equal(r.status, 204);
	buf_release(&r.body);
	t_teardown(&t);
}

static void test_cancel_inside_on_data(void **state)
{
	struct t t;
	struct rec r;

	t_setup(&t);
	rec_get(&t, &r, "/drip");
	r.cancel_at_data = 1;
	run_until(&t, &r.datas, 1);
	assert_int_equal(http_client_active(t.hc), 0);
	run_for(&t, 100); /* the server goes on dripping */
	assert_int_equal(r.datas, 1);
	assert_int_equal(r.done, 0);
	buf_release(&r.body);

	/* And from inside on_response. */
	rec_get(&t, &r, "/json");
	r.cancel_at_response = true;
	run_until(&t, &r.responses, 1);
	run_for(&t, 50);
	assert_int_equal(r.datas + r.done, 0);
	assert_int_equal(http_client_active(t.hc), 0);
	buf_release(&r.body);
	t_teardown(&t);
}

static void test_cancel_outside_callbacks(void **state)
{
	struct t t;
	struct rec a, b, c;

	t_setup(&t);
	/* Cancelled before anything happened. */
	rec_get(&t, &a, "/json");
	http_xfer_cancel(a.x);
	assert_int_equal(http_client_active(t.hc), 0);

	/* One transfer cancels another from inside its on_data. */
	rec_get(&t, &b, "/drip");
	rec_get(&t, &c, "/drip");
	b.cancel_other = c.x;
	run_until(&t, &b.datas, 3);
	http_xfer_cancel(b.x);
	run_for(&t, 60);
	assert_int_equal(a.responses + a.datas + a.done, 0);
	assert_int_equal(b.done + c.done, 0);
	assert_true(c.datas <= 1);
	assert_int_equal(http_client_active(t.hc), 0);
	buf_release(&a.body);
	buf_release(&b.body);
	buf_release(&c.body);
	t_teardown(&t);
}

static void test_free_in_flight(void **state)
{
	struct t t;
	struct rec r, q;

	t_setup(&t);
	rec_get(&t, &r, "/stall");
	rec_get(&t, &q, "/hang");
	run_until(&t, &r.responses, 1);
	http_client_free(t.hc);
	t.hc = NULL;
	/* Both finish at once, before http_client_free returns. */
	assert_int_equal(r.done, 1);
	assert_int_equal(r.result, HTTP_E_SHUTDOWN);
	assert_int_equal(q.done, 1);
	assert_int_equal(q.result, HTTP_E_SHUTDOWN);
	assert_true(r.order_ok && q.order_ok);
	t_teardown(&t);
	buf_release(&r.body);
	buf_release(&q.body);
}

static void test_free_inside_callback(void **state)
{
	struct t t;
	struct rec r, other;

	t_setup(&t);
	rec_get(&t, &other, "/stall");
	rec_get(&t, &r, "/drip");
	r.free_at_data = true;
	run_until(&t, &r.done, 1);
	assert_int_equal(r.result, HTTP_E_SHUTDOWN);
	assert_int_equal(r.datas, 1);
	assert_int_equal(other.done, 1);
	assert_int_equal(other.result, HTTP_E_SHUTDOWN);
	t_teardown(&t);
	buf_release(&r.body);
	buf_release(&other.body);

	/* From inside on_done, with another transfer still going. */
	t_setup(&t);
	rec_get(&t, &other, "/stall");
	rec_get(&t, &r, "/json");
	r.free_at_done = true;
	run_until(&t, &r.done, 1);
	assert_int_equal(r.result, HTTP_OK);
	assert_int_equal(other.done, 1);
	assert_int_equal(other.result, HTTP_E_SHUTDOWN);
	assert_null(t.hc);
	t_teardown(&t);
	buf_release(&r.body);
	buf_release(&other.body);
}

static void test_start_from_on_done(void **state)
{
	struct t t;
	struct rec first, second;

	t_setup(&t);
	rec_init(&second, &t);
	rec_get(&t, &first, "/json");
	first.chain = &second;
	first.chain_url = t_url(&t, "/json?chained=1");
	run_until(&t, &second.done, 1);
	assert_int_equal(first.result, HTTP_OK);
	assert_int_equal(second.result, HTTP_OK);
	assert_string_equal(second.body.p, "{\"ok\":true,\"q\":\"chained=1\"}");
	buf_release(&first.body);
	buf_release(&second.body);
	t_teardown(&t);
}

/* on_data starting a transfer: curl is on the stack, so it is added later. */
static struct rec *start_inside_target;

static int start_inside_on_data(void *ud, struct http_xfer *x, const char *d, size_t n)
{
	struct rec *r = ud;

	if (r->datas++ == 0) {
		struct http_request rq = { .url = t_url(r->t, "/json?inner=1") };

		assert_non_null(rec_start(r->t, start_inside_target, &rq));
	}
	return 0;
}

static void test_start_inside_on_data(void **state)
{
	static const struct http_callbacks cb = { NULL, start_inside_on_data, rec_on_done };
	struct t t;
	struct rec outer, inner;
	struct http_request rq;

	t_setup(&t);
	rec_init(&outer, &t);
	rec_init(&inner, &t);
	start_inside_target = &inner;
	rq = (struct http_request){ .url = t_url(&t, "/stream") };
	outer.x = http_client_start(t.hc, &rq, &cb, &outer);
	run_until(&t, &inner.done, 1);
	run_until(&t, &outer.done, 1);
	assert_int_equal(inner.result, HTTP_OK);
	assert_string_equal(inner.body.p, "{\"ok\":true,\"q\":\"inner=1\"}");
	assert_int_equal(outer.result, HTTP_OK);
	buf_release(&outer.body);
	buf_release(&inner.body);
	t_teardown(&t);
}

static void test_no_redirects_and_interim(void **state)
{
	struct t t;
	struct rec r;

	t_setup(&t);
	rec_get(&t, &r, "/redirect");
	r.want_hdr = "Location";
	run_until(&t, &r.done, 1);
	assert_int_equal(r.result, HTTP_OK);
	assert_int_equal(r.status, 302);
	assert_string_equal(r.hdr, "/json");
	assert_int_equal(t.srv.requests, 1);
	buf_release(&r.body);

	/* Only the final response's headers remain after a 100 Continue. */
	rec_get(&t, &r, "/continue");
	r.want_hdr = "X-Interim";
	run_until(&t, &r.done, 1);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.hdr, "(null)");
	assert_null(http_xfer_header(NULL, "x"));
	assert_string_equal(r.body.p, "ok");
	buf_release(&r.body);
	t_teardown(&t);
}

static void test_gzip_decoded(void **state)
{
	struct t t;
	struct rec r;

	t_setup(&t);
	rec_get(&t, &r, "/gzip");
	run_until(&t, &r.done, 1);
	assert_int_equal(r.result, HTTP_OK);
	assert_string_equal(r.body.p, "hello, gzip world\nhello, gzip world\nhello, gzip world\n");
	buf_release(&r.body);
	t_teardown(&t);
}

static void test_bad_requests(void **state)
{
	struct t t;
	struct rec r;
	static const char *bad[] = {
		"ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://a/", "not a url", "",
		"127.0.0.1:80/x"
	};

	t_setup(&t);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct http_request rq = { .url = bad[i] };

		rec_init(&r, &t);
		assert_null(rec_start(&t, &r, &rq));
	}
	{
		struct http_request rq = { .url = NULL };

		assert_null(http_client_start(t.hc, &rq, &rec_cb, &r));
	}
	assert_int_equal(http_client_active(t.hc), 0);
	run_for(&t, 20);
	assert_int_equal(r.done, 0);
	t_teardown(&t);
}

#define NCONC 50

static void test_concurrent(void **state)
{
	struct t t;
	struct rec *r = calloc(NCONC, sizeof(*r));
	int all = 0;

	t_setup(&t);
	for (int i = 0; i < NCONC; i++) {
		char path[32];

		snprintf(path, sizeof(path), i % 5 ? "/json?i=%d" : "/stream?i=%d", i);
		assert_non_null(rec_get(&t, &r[i], path));
	}
	assert_int_equal(http_client_active(t.hc), NCONC);
	while (all < NCONC && !t.timed_out) {
		uv_run(&t.loop, UV_RUN_ONCE);
		all = 0;
		for (int i = 0; i < NCONC; i++)
			all += r[i].done;
	}
	assert_false(t.timed_out);
	for (int i = 0; i < NCONC; i++) {
		char want[64];

		assert_int_equal(r[i].result, HTTP_OK);
		assert_int_equal(r[i].done, 1);
		assert_true(r[i].order_ok);
		if (i % 5)
			snprintf(want, sizeof(want), "{\"ok\":true,\"q\":\"i=%d\"}", i);
		else
			snprintf(want, sizeof(want),
				 "data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n");
		assert_string_equal(r[i].body.p, want);
		buf_release(&r[i].body);
	}
	assert_int_equal(http_client_active(t.hc), 0);
	free(r);
	t_teardown(&t);
}

static void test_idle_client(void **state)
{
	uv_loop_t loop;
	struct http_client *hc;

	/* A client that never made a request holds no handles. */
	assert_int_equal(uv_loop_init(&loop), 0);
	hc = http_client_new(&loop);
	assert_non_null(hc);
	assert_int_equal(http_client_active(hc), 0);
	http_client_free(hc);
	http_client_free(NULL);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_200),
		cmocka_unit_test(test_post_body_and_methods),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_429_retry_after),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_stalled),
		cmocka_unit_test(test_total_timeout),
		cmocka_unit_test(test_cut_mid_body),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_cancel_inside_on_data),
		cmocka_unit_test(test_cancel_outside_callbacks),
		cmocka_unit_test(test_free_in_flight),
		cmocka_unit_test(test_free_inside_callback),
		cmocka_unit_test(test_start_from_on_done),
		cmocka_unit_test(test_start_inside_on_data),
		cmocka_unit_test(test_no_redirects_and_interim),
		cmocka_unit_test(test_gzip_decoded),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_idle_client),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
