/*
 * http_server.c - routes and responses over libwebsockets on a foreign
 * libuv loop; see http_server.h.
 *
 * Shape:
 *  - We own the listening socket (a uv_poll_t on a plain non-blocking fd).
 *    Each accepted socket is adopted into an lws vhost that does not
 *    listen itself (CONTEXT_PORT_NO_LISTEN_SERVER), together with a
 *    struct http_conn that lws carries as the wsi's opaque user data.
 *  - One lws protocol receives every HTTP callback. A request is
 *    dispatched once its headers (and body, if any) are in; the handler
 *    fills a struct http_response synchronously; the headers are written at
 *    once and the body in chunks from LWS_CALLBACK_HTTP_WRITEABLE.
 *  - The connection record dies with the wsi (LWS_CALLBACK_WSI_DESTROY),
 *    which is also how a stop learns that the last connection has gone.
 *  - A WebSocket upgrade is offered to the ws handler at
 *    LWS_CALLBACK_HTTP_CONFIRM_UPGRADE, while the request headers are still
 *    readable. An accepted connection keeps its struct http_conn, which
 *    then doubles as the struct http_ws handle: incoming fragments are
 *    reassembled into one bounded buffer, outgoing messages wait in a
 *    queue that is written one fragment per writeable callback.
 *
 * Shutting lws down on a foreign libuv loop (lws 4.1) takes three steps:
 * lws_context_destroy() starts closing every wsi and lws's own uv handles,
 * the loop must then run until those closes have completed, and a second
 * lws_context_destroy() frees the context. http_server_stop() does the
 * first, the caller's uv_run() the second, http_server_free() the third.
 * Freeing earlier would leave libuv close callbacks pointing into freed
 * memory.
 */
#include "net/http_server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "core/jsonx.h"
#include "core/log.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "net/lws_glue.h"

#define SUBSYS "http"

/* Body bytes handed to lws per writeable callback. */
#define HTTP_CHUNK           (16u << 10)
/* Room for the status line and all response headers. */
#define HTTP_HEADER_ROOM     (HTTP_MAX_EXTRA_HEADER_BYTES + 2048)
/* Bytes lws may keep for one request's headers (cookies can be long). */
#define HTTP_MAX_HEADER_DATA (16u << 10)
/* Connections accepted per readable event, so one busy listener cannot starve the loop. */
#define HTTP_ACCEPT_BATCH    64
/* A response makes no progress for this long: the client is gone or stalling. */
#define HTTP_WRITE_TIMEOUT_S 30
/* Pause after accept() fails for lack of fds or memory, instead of spinning. */
#define HTTP_ACCEPT_PAUSE_MS 100

#define HTML_CSP "default-src 'self'; frame-ancestors 'none'"

/* Defaults for WebSocket limits the handler does not set. */
#define WS_DEFAULT_MAX_MESSAGE  (64u << 10)
#define WS_DEFAULT_MAX_BUFFERED (50u << 20)
/* Bytes of one outgoing message written per writeable callback (one fragment). */
#define WS_CHUNK                (64u << 10)
/* A closing connection that does not take its last messages in this time is dropped. */
#define WS_CLOSE_TIMEOUT_S      5

enum server_state {
	SERVER_RUNNING,
	SERVER_DRAINING,   /* listener closed, waiting for connections to finish */
	SERVER_DESTROYING, /* lws told to shut down; waiting for http_server_free */
};

enum conn_state {
	CONN_IDLE,     /* between requests (or before the first) */
	CONN_BODY,     /* reading a request body */
	CONN_WRITING,  /* response headers sent, body going out */
	CONN_DEFERRED, /* the handler answers later (http_response_defer) */
};

struct http_deferred {
	struct http_conn *c; /* NULL once the connection is gone */
};

struct http_conn {
	struct http_conn *prev, *next;
	struct http_server *s;
	struct lws *wsi;
	bool linked; /* on s->conns */
	bool gone;   /* lws destroyed the wsi while we were still adopting it */
	enum conn_state state;
	char peer[INET6_ADDRSTRLEN];
	bool loopback;

	/* the request in progress */
	const struct http_route *route;
	const char *method;
	char *path;
	char *query;
	struct buf body;
	bool has_body;
	bool head;
	uint64_t t0;
	char **scratch; /* strings handed to the handler by the getters */
	size_t nscratch, ascratch;

	/* the response going out */
	struct http_response res;
	size_t sent;

	/* WebSocket, once upgraded (the struct is then also the struct http_ws) */
	bool ws;         /* open: the handler has seen open() and not closed() */
	bool ws_pending; /* accepted by the handler, upgrade not completed yet */
	void *ws_arg;    /* the handler's per-connection pointer */
	struct buf rx;   /* the message being reassembled */
	bool rx_binary;  /* its first frame was binary */
	bool rx_skip;    /* it is over the cap: drop the rest of it */
	struct ws_msg *out_head, *out_tail;
	size_t out_bytes; /* queued and not yet written */
	bool closing;     /* a close is pending (or the connection is being dropped) */
	bool close_sent;  /* our close frame is out; waiting for the peer's */
	int close_code;
	char close_reason[124];
	int peer_close_code;
	bool detached; /* a test seam handle: no wsi, no server (struct ws_detached) */
	struct http_deferred *deferred; /* the handle of a deferred answer */
	bool defer_ready;               /* ... which is filled in: send it when writeable */
};

/* One queued outgoing message; LWS_PRE bytes of room precede the data. */
struct ws_msg {
	struct ws_msg *next;
	size_t len, off; /* off: bytes already written */
	unsigned char buf[];
};

struct http_server {
	uv_loop_t *loop;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	enum server_state state;

	int listen_fd;
	uv_poll_t listen_poll;
	bool listen_open; /* listen_poll initialised and not yet closed */
	uv_timer_t pause_timer;
	uv_timer_t stop_timer;
	bool timers_open;
	int port;

	const struct http_route *routes;
	void *arg;
	size_t max_body;
	const struct http_ws_handler *ws;
	size_t ws_max_message, ws_max_buffered;

	struct http_conn *conns;
	unsigned nconns;

	void (*done)(void *arg);
	void *done_arg;

	struct lws_protocols protocols[2];
	unsigned char *wbuf; /* LWS_PRE + max(HTTP_CHUNK, HTTP_HEADER_ROOM): one write at a time */
};

/*
 * Sent on every response, including the ones lws writes on its own: lws adds
 * a vhost's `headers` list right after the status line.
 */
static const struct lws_protocol_vhost_options http_security_headers[] = {
	{ &http_security_headers[1], NULL, "x-content-type-options:", "nosniff" },
	{ &http_security_headers[2], NULL, "x-frame-options:", "DENY" },
	{ &http_security_headers[3], NULL, "referrer-policy:", "no-referrer" },
	{ NULL, NULL, "permissions-policy:", "camera=(), geolocation=()" },
};

static void http_response_init(struct http_response *res)
{
	res->status = 200;
	res->content_type = NULL;
	buf_init(&res->body, HTTP_MAX_RESPONSE_BODY);
	res->nheaders = 0;
	res->header_bytes = 0;
}

static void http_response_release(struct http_response *res)
{
	for (size_t i = 0; i < res->nheaders; i++) {
		free(res->headers[i][0]);
		free(res->headers[i][1]);
	}
	res->nheaders = 0;
	res->header_bytes = 0;
	buf_release(&res->body);
}

static bool http_token_char(unsigned char c)
{
	return isalnum(c) || strchr("!#$%&'*+-.^_`|~", c);
}

int http_response_header(struct http_response *res, const char *name, const char *value)
{
	size_t nlen = strlen(name), vlen = strlen(value);
	char *lname;

	if (!nlen || res->nheaders >= HTTP_MAX_EXTRA_HEADERS ||
	    res->header_bytes + nlen + vlen + 4 > HTTP_MAX_EXTRA_HEADER_BYTES)
		return -1;
	for (const char *p = name; *p; p++)
		if (!http_token_char((unsigned char)*p))
			return -1;
	/* A CR or LF in a value would let it start a header of its own. */
	for (const char *p = value; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return -1;
	/* lws writes names as given; lowercase with the colon is what it expects (and h2 needs). */
	lname = xmalloc(nlen + 2);
	for (size_t i = 0; i < nlen; i++)
		lname[i] = (char)tolower((unsigned char)name[i]);
	lname[nlen] = ':';
	lname[nlen + 1] = '\0';
	res->headers[res->nheaders][0] = lname;
	res->headers[res->nheaders][1] = xstrdup(value);
	res->nheaders++;
	res->header_bytes += nlen + vlen + 4;
	return 0;
}

void http_response_json(struct http_response *res, int status, json_t *v)
{
	char *s = json_dump_str(v, JSON_COMPACT);

	res->status = status;
	res->content_type = "application/json; charset=utf-8";
	buf_reset(&res->body);
	if (buf_puts(&res->body, s) < 0)
		BUG("JSON response over %u bytes", HTTP_MAX_RESPONSE_BODY);
	free(s);
	json_decref(v);
}

void http_response_error(struct http_response *res, int status, const char *message)
{
	http_response_json(res, status, json_pack("{s:{s:s}}", "error", "message", message));
}

/* ==== requests ==== */

/* Keep `p` (malloc'd) until the handler returns; return it. */
static char *http_conn_keep(struct http_conn *c, char *p)
{
	c->scratch = xgrow(c->scratch, &c->ascratch, c->nscratch + 1, sizeof(*c->scratch));
	c->scratch[c->nscratch++] = p;
	return p;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
	struct http_conn *c = req->conn;
	char lname[96];
	size_t nlen = strlen(name);
	int len, tok = -1;
	char *v;

	if (!nlen || nlen + 2 > sizeof(lname) || !c->wsi)
		return NULL;
	for (size_t i = 0; i < nlen; i++)
		lname[i] = (char)tolower((unsigned char)name[i]);
	lname[nlen] = ':';
	lname[nlen + 1] = '\0';

	/* lws parses ~80 well-known headers into tokens; everything else is "custom". */
	for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
		const char *ts = (const char *)lws_token_to_string((enum lws_token_indexes)t);

		if (ts && !strcmp(ts, lname)) {
			tok = t;
			break;
		}
	}
	if (tok >= 0) {
		len = lws_hdr_total_length(c->wsi, (enum lws_token_indexes)tok);
		if (len <= 0)
			return NULL;
		v = xmalloc((size_t)len + 1);
		if (lws_hdr_copy(c->wsi, v, len + 1, (enum lws_token_indexes)tok) < 0) {
			free(v);
			return NULL;
		}
		return http_conn_keep(c, v);
	}
	len = lws_hdr_custom_length(c->wsi, lname, (int)nlen + 1);
	if (len <= 0)
		return NULL;
	v = xmalloc((size_t)len + 1);
	if (lws_hdr_custom_copy(c->wsi, v, len + 1, lname, (int)nlen + 1) < 0) {
		free(v);
		return NULL;
	}
	return http_conn_keep(c, v);
}

const char *http_request_arg(const struct http_request *req, const char *name)
{
	struct http_conn *c = req->conn;
	size_t nlen = strlen(name);

	if (!c->wsi)
		return NULL;
	/* lws keeps each argument url-decoded, as one "name=value" fragment. */
	for (int i = 0;; i++) {
		int len = lws_hdr_fragment_length(c->wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
		char *frag;

		if (len <= 0)
			return NULL;
		if ((size_t)len < nlen)
			continue;
		frag = xmalloc((size_t)len + 1);
		if (lws_hdr_copy_fragment(c->wsi, frag, len + 1, WSI_TOKEN_HTTP_URI_ARGS, i) < 0) {
			free(frag);
			return NULL;
		}
		if (!strncmp(frag, name, nlen) && (frag[nlen] == '=' || frag[nlen] == '\0')) {
			memmove(frag, frag + nlen + (frag[nlen] == '='),
				strlen(frag + nlen + (frag[nlen] == '=')) + 1);
			return http_conn_keep(c, frag);
		}
		free(frag);
	}
}

/* All query fragments joined with '&', as a new string. */
static char *http_query_join(struct lws *wsi)
{
	struct buf b;

	buf_init(&b, HTTP_MAX_HEADER_DATA);
	for (int i = 0;; i++) {
		int len = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
		char *frag;
		int r;

		if (len <= 0)
			break;
		frag = xmalloc((size_t)len + 1);
		r = lws_hdr_copy_fragment(wsi, frag, len + 1, WSI_TOKEN_HTTP_URI_ARGS, i);
		if (r >= 0 && ((b.len && buf_putc(&b, '&') < 0) || buf_puts(&b, frag) < 0))
			r = -1;
		free(frag);
		if (r < 0)
			break;
	}
	return buf_detach(&b, NULL);
}

static const char *http_method_name(int m)
{
	switch (m) {
	case LWSHUMETH_GET:
		return "GET";
	case LWSHUMETH_POST:
		return "POST";
	case LWSHUMETH_OPTIONS:
		return "OPTIONS";
	case LWSHUMETH_PUT:
		return "PUT";
	case LWSHUMETH_PATCH:
		return "PATCH";
	case LWSHUMETH_DELETE:
		return "DELETE";
	case LWSHUMETH_HEAD:
		return "HEAD";
	default:
		return NULL;
	}
}

/* ==== connections ==== */

static void http_conn_reset(struct http_conn *c)
{
	if (c->deferred) {
		c->deferred->c = NULL; /* the handler's answer will find nobody */
		c->deferred = NULL;
	}
	c->defer_ready = false;
	for (size_t i = 0; i < c->nscratch; i++)
		free(c->scratch[i]);
	c->nscratch = 0;
	free(c->path);
	free(c->query);
	c->path = c->query = NULL;
	buf_release(&c->body);
	c->has_body = false;
	c->head = false;
	c->route = NULL;
	c->method = NULL;
	http_response_release(&c->res);
	c->sent = 0;
	c->state = CONN_IDLE;
}

static void ws_out_clear(struct http_conn *c)
{
	while (c->out_head) {
		struct ws_msg *m = c->out_head;

		c->out_head = m->next;
		free(m);
	}
	c->out_tail = NULL;
	c->out_bytes = 0;
}

static void http_conn_free(struct http_conn *c)
{
	http_conn_reset(c);
	ws_out_clear(c);
	buf_release(&c->rx);
	free(c->scratch);
	free(c);
}

static void http_conn_link(struct http_server *s, struct http_conn *c)
{
	c->next = s->conns;
	c->prev = NULL;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	c->linked = true;
	s->nconns++;
}

static void http_conn_unlink(struct http_server *s, struct http_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->linked = false;
	s->nconns--;
}

/* ==== writing responses ==== */

/* The transaction is over: reset for the next request. Returns -1 to close the connection. */
static int http_conn_finish(struct http_conn *c)
{
	struct http_server *s = c->s;

	log_debug(SUBSYS, "%s %s %d %zu bytes %.2f ms (%s)", c->method ? c->method : "?",
		  c->path ? c->path : "?", c->res.status, c->res.body.len,
		  (double)(time_mono_ns() - c->t0) / 1e6, c->peer);
	http_conn_reset(c);
	/* While stopping, each connection closes after its response. */
	if (s->state != SERVER_RUNNING)
		return -1;
	return lws_http_transaction_completed(c->wsi) ? -1 : 0;
}

/* Did the handler set a policy of its own (which then replaces the default)? */
static bool http_response_has_csp(const struct http_response *res)
{
	for (size_t i = 0; i < res->nheaders; i++)
		if (!strcmp(res->headers[i][0], "content-security-policy:"))
			return true;
	return false;
}

/* Write the status line and headers of c->res. Returns 0 or -1 (close). */
static int http_conn_write_headers(struct http_conn *c, size_t content_len)
{
	struct http_server *s = c->s;
	struct http_response *res = &c->res;
	unsigned char *start = s->wbuf + LWS_PRE, *p = start, *end = start + HTTP_HEADER_ROOM - 1;
	const char *ctype = res->content_type;

	if (!ctype && content_len)
		ctype = "application/octet-stream";
	if (lws_add_http_common_headers(c->wsi, (unsigned)res->status, ctype,
					(lws_filepos_t)content_len, &p, end))
		return -1;
	if (ctype && !strncasecmp(ctype, "text/html", 9) && !http_response_has_csp(res) &&
	    lws_add_http_header_by_name(c->wsi, (const unsigned char *)"content-security-policy:",
					(const unsigned char *)HTML_CSP, (int)strlen(HTML_CSP), &p,
					end))
		return -1;
	for (size_t i = 0; i < res->nheaders; i++)
		if (lws_add_http_header_by_name(c->wsi, (unsigned char *)res->headers[i][0],
						(unsigned char *)res->headers[i][1],
						(int)strlen(res->headers[i][1]), &p, end))
			return -1;
	if (s->state != SERVER_RUNNING &&
	    lws_add_http_header_by_name(c->wsi, (const unsigned char *)"connection:",
					(const unsigned char *)"close", 5, &p, end))
		return -1;
	if (lws_finalize_write_http_header(c->wsi, start, &p, end))
		return -1;
	return 0;
}

/*
 * Send the response the handler (or the server) left in c->res: headers
 * now, body from the writeable callback. Returns 0 or -1 (close).
 */
static int http_conn_respond(struct http_conn *c)
{
	size_t len = c->res.body.len;

	if (c->state == CONN_DEFERRED) {
		if (!c->defer_ready)
			return 0;  /* the handler answers later */
		free(c->deferred); /* answered: the handle is spent */
		c->deferred = NULL;
	}
	c->state = CONN_IDLE;
	c->defer_ready = false;

	if (c->res.status < 100 || c->res.status > 599) {
		log_error(SUBSYS, "handler for %s %s set status %d; answering 500", c->method,
			  c->path, c->res.status);
		http_response_error(&c->res, 500, "internal error");
	}
	if (http_conn_write_headers(c, len) < 0)
		return -1;
	if (c->head || !len)
		return http_conn_finish(c);
	c->state = CONN_WRITING;
	lws_callback_on_writable(c->wsi);
	return 0;
}

/* One chunk of the body; the last one completes the transaction. Returns 0 or -1. */
static int http_conn_write_body(struct http_conn *c)
{
	unsigned char *p = c->s->wbuf + LWS_PRE;
	size_t n = c->res.body.len - c->sent;
	bool last = n <= HTTP_CHUNK;

	if (!last)
		n = HTTP_CHUNK;
	/* lws may use the LWS_PRE bytes before the data, so it goes through wbuf. */
	memcpy(p, c->res.body.p + c->sent, n);
	if (lws_write(c->wsi, p, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
		return -1;
	c->sent += n;
	if (!last) {
		/* A client that stops reading must not hold the connection forever. */
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_HTTP_CONTENT, HTTP_WRITE_TIMEOUT_S);
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	return http_conn_finish(c);
}

/*
 * Respond synchronously, headers and body in one go. Only for the upgrade
 * hook, where lws completes the transaction itself as soon as we return;
 * lws keeps whatever the socket does not take at once and sends it later.
 */
static int http_conn_respond_now(struct http_conn *c)
{
	unsigned char *p = c->s->wbuf + LWS_PRE;
	size_t len = c->res.body.len;
	int r = 0;

	if (http_conn_write_headers(c, len) < 0) {
		r = -1;
		goto out;
	}
	for (size_t off = 0; !c->head && off < len;) {
		size_t n = len - off > HTTP_CHUNK ? HTTP_CHUNK : len - off;

		memcpy(p, c->res.body.p + off, n);
		off += n;
		if (lws_write(c->wsi, p, n, off == len ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) <
		    (int)n) {
			r = -1;
			goto out;
		}
	}
out:
	log_debug(SUBSYS, "%s %s %d (upgrade refused) (%s)", c->method, c->path, c->res.status,
		  c->peer);
	http_conn_reset(c);
	return r;
}

/* ==== routing ==== */

static bool http_method_matches(const struct http_route *r, const char *method)
{
	return !strcmp(r->method, method) || (!strcmp(method, "HEAD") && !strcmp(r->method, "GET"));
}

/* The route for method + path; *path_known says whether the path exists at all. */
static const struct http_route *http_route_find(const struct http_server *s, const char *method,
						const char *path, bool *path_known)
{
	*path_known = false;
	for (const struct http_route *r = s->routes; r && r->path; r++) {
		if (strcmp(r->path, path))
			continue;
		*path_known = true;
		if (http_method_matches(r, method))
			return r;
	}
	/*
	 * Then the prefix routes (ending in slash-star), in table order. They do not
	 * make a path "known": another method on such a path stays a 404.
	 */
	for (const struct http_route *r = s->routes; r && r->path; r++) {
		size_t n = strlen(r->path);

		if (n < 2 || strcmp(r->path + n - 2, "/*") || strncmp(r->path, path, n - 1))
			continue;
		if (http_method_matches(r, method))
			return r;
	}
	return NULL;
}

/* 405 with "Allow: GET, HEAD, POST" for the methods `path` does have. */
static void http_method_not_allowed(const struct http_server *s, struct http_conn *c)
{
	char allow[128] = "";
	size_t used = 0;

	for (const struct http_route *r = s->routes; r && r->path; r++) {
		if (strcmp(r->path, c->path))
			continue;
		used += (size_t)snprintf(allow + used, sizeof(allow) - used, "%s%s%s",
					 used ? ", " : "", r->method,
					 strcmp(r->method, "GET") ? "" : ", HEAD");
		if (used >= sizeof(allow))
			break;
	}
	http_response_error(&c->res, 405, "method not allowed");
	http_response_header(&c->res, "Allow", allow);
}

static void http_conn_dispatch(struct http_conn *c)
{
	struct http_server *s = c->s;
	struct http_request req = {
		.method = c->method,
		.path = c->path,
		.query = c->query,
		.body = c->has_body ? c->body.p : NULL,
		.body_len = c->has_body ? c->body.len : 0,
		.peer = c->peer,
		.peer_loopback = c->loopback,
		.conn = c,
	};

	c->route->handler(&req, &c->res, s->arg);
}

struct http_deferred *http_response_defer(const struct http_request *req)
{
	struct http_conn *c = req->conn;
	struct http_deferred *d = xcalloc(1, sizeof(*d));

	if (c->deferred) /* a handler deferring twice: keep one handle */
		c->deferred->c = NULL;
	d->c = c;
	c->deferred = d;
	c->state = CONN_DEFERRED;
	c->defer_ready = false;
	if (c->wsi)
		lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
	return d;
}

struct http_response *http_deferred_response(struct http_deferred *d)
{
	return d && d->c ? &d->c->res : NULL;
}

void http_deferred_send(struct http_deferred *d)
{
	struct http_conn *c = d ? d->c : NULL;

	if (!c) {
		free(d);
		return;
	}
	/* written from the writeable callback, where lws lets us write; it frees d */
	c->defer_ready = true;
	lws_callback_on_writable(c->wsi);
}

/*
 * A client that sent "Expect: 100-continue" waits for this before sending
 * the body (curl does, for large bodies); lws 4.1 does not answer it itself.
 * The interim response is raw bytes on HTTP/1.1, so it cannot disturb the
 * real response that follows.
 */
static void http_conn_continue(struct http_conn *c)
{
	static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
	unsigned char *p = c->s->wbuf + LWS_PRE;
	char expect[32];

	if (lws_hdr_total_length(c->wsi, WSI_TOKEN_HTTP_EXPECT) <= 0 ||
	    lws_hdr_copy(c->wsi, expect, sizeof(expect), WSI_TOKEN_HTTP_EXPECT) < 0 ||
	    strcasecmp(expect, "100-continue"))
		return;
	memcpy(p, line, sizeof(line) - 1);
	lws_write(c->wsi, p, sizeof(line) - 1, LWS_WRITE_HTTP_HEADERS);
}

/*
 * Headers are in (LWS_CALLBACK_HTTP). Decide what to do: answer an error
 * now, wait for a body, or run the handler. Fills c->res unless it returns
 * 1 (waiting for the body).
 */
static int http_conn_begin(struct http_conn *c, const char *uri, size_t urilen)
{
	struct http_server *s = c->s;
	char *uri_ptr, clen[32];
	int uri_len, m;
	unsigned long long body_len = 0;
	size_t cap;
	bool path_known;

	http_conn_reset(c);
	c->t0 = time_mono_ns();
	http_response_init(&c->res);
	m = lws_http_get_uri_and_method(c->wsi, &uri_ptr, &uri_len);
	c->method = http_method_name(m);
	c->path = xstrndup(uri, urilen);
	c->query = http_query_join(c->wsi);
	if (!c->method) {
		c->method = "?";
		http_response_error(&c->res, 405, "method not allowed");
		return 0;
	}
	c->head = !strcmp(c->method, "HEAD");
	if (lws_hdr_total_length(c->wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
	    lws_hdr_copy(c->wsi, clen, sizeof(clen), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
		body_len = strtoull(clen, NULL, 10);

	c->route = http_route_find(s, c->method, c->path, &path_known);
	if (!c->route) {
		if (path_known)
			http_method_not_allowed(s, c);
		else
			http_response_error(&c->res, 404, "not found");
		return 0;
	}
	cap = c->route->max_body ? c->route->max_body : s->max_body;
	if (body_len > cap) {
		char msg[96];

		/* lws reads and drops the body after we answer, so the client sees the 413. */
		snprintf(msg, sizeof(msg), "request body too large (limit %zu bytes)", cap);
		http_response_error(&c->res, 413, msg);
		return 0;
	}
	if (body_len) {
		buf_init(&c->body, cap);
		c->has_body = true;
		c->state = CONN_BODY;
		http_conn_continue(c);
		return 1;
	}
	http_conn_dispatch(c);
	return 0;
}

/* ==== WebSocket ==== */

static int ws_detached_send(struct http_conn *c, const char *data, size_t len);
static void ws_detached_close(struct http_conn *c, int code, const char *reason);

/*
 * Keep the reason as the close frame will carry it: at most 123 bytes, cut
 * at a character boundary, since RFC 6455 wants UTF-8 there and clients
 * fail a connection whose close reason is not.
 */
static void ws_set_close_reason(struct http_conn *c, const char *reason)
{
	size_t n = reason ? strlen(reason) : 0;

	if (n > sizeof(c->close_reason) - 1)
		n = sizeof(c->close_reason) - 1;
	n = str_utf8_prefix(reason ? reason : "", n);
	memcpy(c->close_reason, reason ? reason : "", n);
	c->close_reason[n] = '\0';
}

int http_ws_send(struct http_ws *ws, const char *data, size_t len)
{
	struct http_conn *c = (struct http_conn *)ws;
	struct ws_msg *m;

	if (c->detached)
		return ws_detached_send(c, data, len);
	if (!c->ws || c->closing || !c->wsi)
		return -1;
	if (c->out_bytes + len > c->s->ws_max_buffered) {
		/*
		 * A slow consumer: its queue would pass the cap. Drop it now
		 * rather than let memory grow; a close frame would only wait
		 * behind the same backlog.
		 */
		log_warn(SUBSYS, "dropping slow websocket client %s (%zu bytes queued)", c->peer,
			 c->out_bytes);
		ws_out_clear(c);
		c->closing = true;
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		lws_cancel_service(c->s->ctx);
		return -1;
	}
	m = xmalloc(sizeof(*m) + LWS_PRE + len);
	m->next = NULL;
	m->len = len;
	m->off = 0;
	memcpy(m->buf + LWS_PRE, data, len);
	if (c->out_tail)
		c->out_tail->next = m;
	else
		c->out_head = m;
	c->out_tail = m;
	c->out_bytes += len;
	lws_callback_on_writable(c->wsi);
	return 0;
}

void http_ws_close(struct http_ws *ws, int code, const char *reason)
{
	struct http_conn *c = (struct http_conn *)ws;

	if (c->detached) {
		ws_detached_close(c, code, reason);
		return;
	}
	if (!c->wsi || c->closing)
		return;
	c->closing = true;
	c->close_code = code;
	ws_set_close_reason(c, reason);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, WS_CLOSE_TIMEOUT_S);
	lws_callback_on_writable(c->wsi);
	/* The timeout is an lws timer armed outside its service: wake it (see http_on_listen). */
	lws_cancel_service(c->s->ctx);
}

void http_ws_set_max_message(struct http_ws *ws, size_t max)
{
	struct http_conn *c = (struct http_conn *)ws;

	c->rx.max = max;
}

size_t http_ws_buffered(const struct http_ws *ws)
{
	return ((const struct http_conn *)ws)->out_bytes;
}

const char *http_ws_peer(const struct http_ws *ws)
{
	return ((const struct http_conn *)ws)->peer;
}

bool http_ws_loopback(const struct http_ws *ws)
{
	return ((const struct http_conn *)ws)->loopback;
}

/*
 * Offer an upgrade to the handler. Returns 0 to let lws complete it, 1 when
 * refused (a response has been written), -1 to drop the connection.
 */
static int ws_confirm_upgrade(struct http_conn *c)
{
	struct http_server *s = c->s;
	struct http_request req = { 0 };
	const char *msg = NULL;
	void *arg = NULL;
	char *uri;
	int ulen, status;

	http_conn_reset(c);
	c->t0 = time_mono_ns();
	http_response_init(&c->res);
	c->method = "GET";
	if (lws_http_get_uri_and_method(c->wsi, &uri, &ulen) < 0)
		return -1;
	c->path = xstrndup(uri, (size_t)ulen);
	c->query = http_query_join(c->wsi);
	if (!s->ws || s->state != SERVER_RUNNING) {
		http_response_error(&c->res, s->ws ? 503 : 404,
				    s->ws ? "server shutting down" : "not found");
		return http_conn_respond_now(c) < 0 ? -1 : 1;
	}
	req.method = c->method;
	req.path = c->path;
	req.query = c->query;
	req.peer = c->peer;
	req.peer_loopback = c->loopback;
	req.conn = c;
	status = s->ws->accept(&req, s->arg, &arg, &msg);
	if (status) {
		http_response_error(&c->res, status, msg ? msg : "upgrade refused");
		return http_conn_respond_now(c) < 0 ? -1 : 1;
	}
	http_conn_reset(c);
	c->ws_arg = arg;
	c->ws_pending = true;
	buf_init(&c->rx, s->ws_max_message);
	return 0;
}

/* The whole message is in c->rx: hand it to the handler. */
static void ws_deliver(struct http_conn *c, const struct http_ws_handler *h)
{
	/* buf keeps a NUL after the data (buf_append guarantees room for it). */
	h->message((struct http_ws *)c, c->ws_arg, c->rx.p ? c->rx.p : "", c->rx.len, c->rx_binary);
	/* A big message's buffer is not kept for the connection's lifetime. */
	if (c->rx.cap > WS_CHUNK)
		buf_release(&c->rx);
	else
		buf_reset(&c->rx);
}

/* A fragment arrived. Returns 0 or -1 (drop the connection). */
static int ws_receive(struct http_conn *c, const void *in, size_t len)
{
	struct http_server *s = c->s;

	if (lws_is_first_fragment(c->wsi)) {
		buf_reset(&c->rx);
		c->rx_binary = lws_frame_is_binary(c->wsi);
		c->rx_skip = false;
	}
	if (!c->ws || c->closing || c->rx_skip)
		return 0;
	if (buf_append(&c->rx, in, len) < 0) {
		log_info(SUBSYS, "websocket message from %s over %zu bytes; closing", c->peer,
			 c->rx.max);
		c->rx_skip = true;
		buf_reset(&c->rx);
		http_ws_close((struct http_ws *)c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "");
		return 0;
	}
	if (!lws_is_final_fragment(c->wsi) || lws_remaining_packet_payload(c->wsi))
		return 0;
	ws_deliver(c, s->ws);
	return 0;
}

/* Our close frame, written by hand (see lws_glue_send_close for why). */
static int ws_send_close(struct http_conn *c)
{
	c->close_sent = true;
	return lws_glue_send_close(c->wsi, c->close_code, c->close_reason, WS_CLOSE_TIMEOUT_S);
}

/* The socket can take more. Returns 0, or -1 to drop the connection. */
static int ws_writeable(struct http_conn *c)
{
	struct ws_msg *m = c->out_head;

	if (m) {
		size_t n = m->len - m->off;
		bool last = n <= WS_CHUNK;
		int flags;

		if (!last)
			n = WS_CHUNK;
		flags = lws_write_ws_flags(LWS_WRITE_TEXT, m->off == 0, last);
		/*
		 * lws writes the frame header into the LWS_PRE bytes before the
		 * pointer: the reserved room for the first fragment, bytes
		 * already sent for later ones.
		 */
		if (lws_write(c->wsi, m->buf + LWS_PRE + m->off, n,
			      (enum lws_write_protocol)flags) < (int)n)
			return -1;
		m->off += n;
		c->out_bytes -= n;
		if (m->off == m->len) {
			c->out_head = m->next;
			if (!c->out_head)
				c->out_tail = NULL;
			free(m);
		}
		if (c->out_head || c->closing)
			lws_callback_on_writable(c->wsi);
		return 0;
	}
	if (c->closing && !c->close_sent)
		return ws_send_close(c);
	return 0;
}

/* Tell the handler the connection is gone, once. */
static void ws_closed(struct http_conn *c)
{
	if (!c->ws && !c->ws_pending)
		return;
	c->ws = false;
	c->ws_pending = false;
	c->closing = true;
	ws_out_clear(c);
	c->s->ws->closed((struct http_ws *)c, c->ws_arg,
			 c->peer_close_code ? c->peer_close_code : 1006);
}

/* ==== test seam: a WebSocket without a socket ==== */

/* A detached handle: the connection record, and what stands in for lws and the server. */
struct ws_detached {
	struct http_conn c; /* first: the struct http_ws handle points here */
	const struct http_ws_handler *h;
	struct http_ws_detached o;
};

static int ws_detached_send(struct http_conn *c, const char *data, size_t len)
{
	struct ws_detached *d = (struct ws_detached *)c;

	if (!c->ws || c->closing)
		return -1;
	if (d->o.send)
		d->o.send(d->o.arg, data, len);
	return 0;
}

static void ws_detached_close(struct http_conn *c, int code, const char *reason)
{
	struct ws_detached *d = (struct ws_detached *)c;

	if (!c->ws || c->closing)
		return;
	c->closing = true;
	c->close_code = code;
	ws_set_close_reason(c, reason);
	if (d->o.close)
		d->o.close(d->o.arg, code, c->close_reason);
}

struct http_ws *http_ws_detached_open(const struct http_ws_handler *h, void *handler_arg,
				      const struct http_ws_detached *o, int *status)
{
	struct ws_detached *d = xcalloc(1, sizeof(*d));
	struct http_conn *c = &d->c;
	struct http_request req = { 0 };
	const char *msg = NULL;
	void *arg = NULL;
	int st;

	d->h = h;
	d->o = *o;
	c->detached = true;
	snprintf(c->peer, sizeof(c->peer), "%s", o->peer ? o->peer : "127.0.0.1");
	c->loopback = o->loopback;
	req.method = "GET";
	req.path = "/";
	req.query = "";
	req.peer = c->peer;
	req.peer_loopback = c->loopback;
	req.conn = c; /* no wsi: the header and argument getters find nothing */
	st = h->accept(&req, handler_arg, &arg, &msg);
	http_conn_reset(c);
	if (st) {
		if (status)
			*status = st;
		free(d);
		return NULL;
	}
	c->ws_arg = arg;
	buf_init(&c->rx, h->max_message ? h->max_message : WS_DEFAULT_MAX_MESSAGE);
	c->ws = true;
	h->open((struct http_ws *)c, arg);
	return (struct http_ws *)c;
}

void http_ws_detached_message(struct http_ws *ws, const char *data, size_t len, bool binary)
{
	struct ws_detached *d = (struct ws_detached *)ws;
	struct http_conn *c = &d->c;

	/* The rules of ws_receive, for a message that arrived in one fragment. */
	if (!c->ws || c->closing)
		return;
	buf_reset(&c->rx);
	c->rx_binary = binary;
	if (buf_append(&c->rx, data, len) < 0) {
		buf_reset(&c->rx);
		http_ws_close(ws, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "");
		return;
	}
	ws_deliver(c, d->h);
}

void http_ws_detached_free(struct http_ws *ws, int code)
{
	struct ws_detached *d = (struct ws_detached *)ws;
	struct http_conn *c = &d->c;

	if (c->ws) {
		c->ws = false;
		c->closing = true;
		d->h->closed(ws, c->ws_arg, code);
	}
	buf_release(&c->rx);
	free(d);
}

/* ==== the lws protocol ==== */

static void http_on_stop_timer(uv_timer_t *t);

static int http_lws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			     void *in, size_t len)
{
	struct http_conn *c = lws_get_opaque_user_data(wsi);
	struct http_server *s;

	/* Only connections we adopted carry a record; lws's own wsi (event pipe) do not. */
	if (!c)
		return 0;
	s = c->s;
	c->wsi = wsi;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		/* A new request cancels the close that a stop may have scheduled for idle conns. */
		if (s->state != SERVER_RUNNING)
			lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
		if (http_conn_begin(c, in ? in : "/", in ? len : 1))
			return 0;
		return http_conn_respond(c);

	case LWS_CALLBACK_HTTP_BODY:
		if (c->state != CONN_BODY)
			return 0;
		/* Content-Length was checked against the cap; this only stops a lying peer. */
		if (buf_append(&c->body, in, len) < 0)
			return -1;
		return 0;

	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (c->state != CONN_BODY)
			return 0;
		c->state = CONN_IDLE;
		http_conn_dispatch(c);
		return http_conn_respond(c);

	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (c->state == CONN_DEFERRED && c->defer_ready)
			return http_conn_respond(c);
		if (c->state != CONN_WRITING)
			return 0;
		return http_conn_write_body(c);

	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		/* An h2c upgrade is optional for the client: answer it as HTTP/1.1. */
		if (in && !strcasecmp(in, "h2c")) {
			char *uri;
			int ulen;

			if (lws_http_get_uri_and_method(wsi, &uri, &ulen) < 0)
				return -1;
			if (http_conn_begin(c, uri, (size_t)ulen) == 1) {
				/* A body with an upgrade request: too odd to bother with. */
				http_conn_reset(c);
				return -1;
			}
			return http_conn_respond_now(c) < 0 ? -1 : 1;
		}
		return ws_confirm_upgrade(c);

	case LWS_CALLBACK_ESTABLISHED:
		c->ws = true;
		c->ws_pending = false;
		log_trace(SUBSYS, "websocket open from %s", c->peer);
		s->ws->open((struct http_ws *)c, c->ws_arg);
		return 0;

	case LWS_CALLBACK_RECEIVE:
		return ws_receive(c, in, len);

	case LWS_CALLBACK_SERVER_WRITEABLE:
		return ws_writeable(c);

	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (len >= 2)
			c->peer_close_code = ((const unsigned char *)in)[0] << 8 |
					     ((const unsigned char *)in)[1];
		/* The answer to our own close: the handshake is complete. */
		return c->close_sent ? -1 : 0;

	case LWS_CALLBACK_CLOSED:
		ws_closed(c);
		return 0;

	case LWS_CALLBACK_WSI_DESTROY:
		ws_closed(c);
		lws_set_opaque_user_data(wsi, NULL);
		c->wsi = NULL;
		if (!c->linked) {
			/* Still inside lws_adopt_*: the acceptor frees the record. */
			c->gone = true;
			return 0;
		}
		http_conn_unlink(s, c);
		http_conn_free(c);
		if (s->state == SERVER_DRAINING && !s->conns)
			uv_timer_start(&s->stop_timer, http_on_stop_timer, 0, 0);
		return 0;

	default:
		return 0;
	}
}

/* ==== listening ==== */

static void http_on_listen(uv_poll_t *h, int status, int events);

static void http_on_pause_timer(uv_timer_t *t)
{
	struct http_server *s = t->data;

	if (s->state == SERVER_RUNNING && s->listen_open)
		uv_poll_start(&s->listen_poll, UV_READABLE, http_on_listen);
}

static bool http_addr_loopback(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

static void http_addr_string(const struct sockaddr_storage *sa, char *out, size_t outlen)
{
	const void *a = sa->ss_family == AF_INET6
				? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
				: (const void *)&((const struct sockaddr_in *)sa)->sin_addr;

	if (!inet_ntop(sa->ss_family, a, out, (socklen_t)outlen))
		snprintf(out, outlen, "?");
}

/* Hand one accepted socket to lws. */
static void http_adopt(struct http_server *s, int fd, const struct sockaddr_storage *sa)
{
	struct http_conn *c = xcalloc(1, sizeof(*c));
	lws_adopt_desc_t ad = { 0 };
	struct lws *wsi;
	int one = 1;

	/* Headers and body go out as separate writes; Nagle would hold the second one back. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->s = s;
	c->state = CONN_IDLE;
	buf_init(&c->body, 0);
	http_response_init(&c->res);
	http_addr_string(sa, c->peer, sizeof(c->peer));
	c->loopback = http_addr_loopback(sa);

	ad.vh = s->vh;
	ad.type = LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP;
	ad.fd.sockfd = fd;
	ad.opaque = c;
	wsi = lws_adopt_descriptor_vhost_via_info(&ad); /* closes fd on failure */
	if (!wsi || c->gone) {
		if (!wsi)
			log_warn(SUBSYS, "cannot take connection from %s", c->peer);
		http_conn_free(c);
		return;
	}
	c->wsi = wsi;
	http_conn_link(s, c);
	log_trace(SUBSYS, "connection from %s (%u open)", c->peer, s->nconns);
}

static void http_on_listen(uv_poll_t *h, int status, int events)
{
	struct http_server *s = h->data;
	int accepted = 0;

	if (status < 0) {
		log_error(SUBSYS, "listener: %s", uv_strerror(status));
		return;
	}
	for (int i = 0; i < HTTP_ACCEPT_BATCH && s->state == SERVER_RUNNING; i++) {
		struct sockaddr_storage sa;
		socklen_t salen = sizeof(sa);
		int fd = accept4(s->listen_fd, (struct sockaddr *)&sa, &salen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* Out of fds or memory: the listener stays readable, so back off. */
			log_warn(SUBSYS, "accept: %s; pausing for %d ms", strerror(errno),
				 HTTP_ACCEPT_PAUSE_MS);
			uv_poll_stop(&s->listen_poll);
			uv_timer_start(&s->pause_timer, http_on_pause_timer, HTTP_ACCEPT_PAUSE_MS,
				       0);
			break;
		}
		http_adopt(s, fd, &sa);
		accepted++;
	}
	/*
	 * lws (4.1) arms its libuv timer only while servicing; wake it so the
	 * new connections' timeouts are scheduled now, not at its next tick.
	 */
	if (accepted)
		lws_cancel_service(s->ctx);
}

static void http_on_listen_closed(uv_handle_t *h)
{
	struct http_server *s = h->data;

	close(s->listen_fd);
	s->listen_fd = -1;
}

static void http_close_listener(struct http_server *s)
{
	if (!s->listen_open)
		return;
	s->listen_open = false;
	uv_poll_stop(&s->listen_poll);
	uv_close((uv_handle_t *)&s->listen_poll, http_on_listen_closed);
}

/* Parse host + port into `sa`. Returns 0, or -1 with errno EINVAL. */
static int http_parse_addr(const char *host, int port, struct sockaddr_storage *sa,
			   socklen_t *salen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)sa;

	memset(sa, 0, sizeof(*sa));
	if (!host || !*host || !strcmp(host, "localhost"))
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*salen = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*salen = sizeof(*sin6);
		return 0;
	}
	errno = EINVAL;
	return -1;
}

/* socket + bind + listen. Returns the fd, or -1 with errno and `err`. */
static int http_listen(const char *host, int port, int *bound_port, char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	int fd, one = 1, e;

	if (port < 0 || port > 65535) {
		snprintf(err, errlen, "invalid port %d", port);
		errno = EINVAL;
		return -1;
	}
	if (http_parse_addr(host, port, &sa, &salen) < 0) {
		snprintf(err, errlen,
			 "invalid listen address '%s' (want a numeric IPv4 or IPv6 address)", host);
		return -1;
	}
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* Restarting must not wait out TIME_WAIT; a live listener still gets EADDRINUSE. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, salen) < 0 || listen(fd, SOMAXCONN) < 0)
		goto fail;
	salen = sizeof(sa);
	if (getsockname(fd, (struct sockaddr *)&sa, &salen) < 0)
		goto fail;
	*bound_port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
						     : ((struct sockaddr_in *)&sa)->sin_port);
	return fd;
fail:
	e = errno;
	snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, strerror(e));
	if (fd >= 0)
		close(fd);
	errno = e;
	return -1;
}

/* ==== lifecycle ==== */

static void http_on_stop_timer(uv_timer_t *t)
{
	struct http_server *s = t->data;

	if (s->state != SERVER_DRAINING)
		return;
	if (s->nconns)
		log_info(SUBSYS, "closing %u connection%s still open after the grace period",
			 s->nconns, s->nconns == 1 ? "" : "s");
	s->state = SERVER_DESTROYING;
	/*
	 * First of the three steps (see the top of this file): lws starts
	 * closing every wsi and its own handles; we are not inside lws here.
	 */
	lws_context_destroy(s->ctx);
	if (s->timers_open) {
		s->timers_open = false;
		uv_close((uv_handle_t *)&s->pause_timer, NULL);
		uv_close((uv_handle_t *)&s->stop_timer, NULL);
	}
	if (s->done)
		s->done(s->done_arg);
}

struct http_server *http_server_new(uv_loop_t *loop, const struct http_server_opts *o, char *err,
				    size_t errlen)
{
	struct lws_context_creation_info info;
	struct http_server *s;
	void *foreign_loops[1] = { loop };
	int fd, port, e;

	fd = http_listen(o->host, o->port, &port, err, errlen);
	if (fd < 0)
		return NULL;

	s = xcalloc(1, sizeof(*s));
	s->loop = loop;
	s->listen_fd = fd;
	s->port = port;
	s->routes = o->routes;
	s->arg = o->arg;
	s->max_body = o->max_body ? o->max_body : HTTP_DEFAULT_MAX_BODY;
	s->ws = o->ws;
	s->ws_max_message =
		o->ws && o->ws->max_message ? o->ws->max_message : WS_DEFAULT_MAX_MESSAGE;
	s->ws_max_buffered =
		o->ws && o->ws->max_buffered ? o->ws->max_buffered : WS_DEFAULT_MAX_BUFFERED;
	s->wbuf =
		xmalloc(LWS_PRE + (HTTP_CHUNK > HTTP_HEADER_ROOM ? HTTP_CHUNK : HTTP_HEADER_ROOM));

	s->protocols[0].name = "http";
	s->protocols[0].callback = http_lws_callback;
	/* Per-request state lives in struct http_conn, not in lws's per-session data. */
	s->protocols[0].per_session_data_size = 0;
	s->protocols[0].tx_packet_size = HTTP_CHUNK;
	/*
	 * protocols[1] stays zeroed: the terminator. A WebSocket upgrade
	 * without a subprotocol lands on protocols[0], this same callback.
	 */

	lws_glue_log_init();
	memset(&info, 0, sizeof(info));
	/* lws closes a text message that is not UTF-8 with 1007, as RFC 6455 asks. */
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8;
	info.foreign_loops = foreign_loops;
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = s->protocols;
	info.headers = http_security_headers;
	info.server_string = "pincer";
	info.max_http_header_data = HTTP_MAX_HEADER_DATA;
	info.timeout_secs = 10;
	info.keepalive_timeout = 30;
	info.pcontext = &s->ctx;
	/*
	 * No LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT: no TLS at all here, so no
	 * CA bundle is loaded at start-up (client TLS is created lazily later).
	 */
	s->ctx = lws_create_context(&info);
	if (!s->ctx) {
		e = errno ? errno : ENOMEM;
		snprintf(err, errlen,
			 "cannot start libwebsockets on libuv (is libwebsockets-evlib-uv "
			 "installed?)");
		goto fail;
	}
	s->vh = lws_get_vhost_by_name(s->ctx, "default");
	if (!s->vh) {
		e = ENOENT;
		snprintf(err, errlen, "libwebsockets created no vhost");
		goto fail;
	}

	uv_poll_init(loop, &s->listen_poll, fd);
	s->listen_poll.data = s;
	s->listen_open = true;
	uv_timer_init(loop, &s->pause_timer);
	uv_timer_init(loop, &s->stop_timer);
	s->pause_timer.data = s->stop_timer.data = s;
	s->timers_open = true;
	uv_poll_start(&s->listen_poll, UV_READABLE, http_on_listen);
	return s;

fail:
	/*
	 * A context that failed half-way may have uv handles closing on the
	 * loop; it is not freed here (that would race those closes). This only
	 * happens when the lws installation is broken, and the caller exits.
	 */
	close(fd);
	free(s->wbuf);
	free(s);
	errno = e;
	return NULL;
}

int http_server_port(const struct http_server *s)
{
	return s->port;
}

unsigned http_server_connections(const struct http_server *s)
{
	return s->nconns;
}

void http_server_stop(struct http_server *s, unsigned grace_ms, void (*done)(void *arg), void *arg)
{
	if (s->state != SERVER_RUNNING)
		return;
	s->state = SERVER_DRAINING;
	s->done = done;
	s->done_arg = arg;
	http_close_listener(s);
	uv_timer_stop(&s->pause_timer);
	/* Idle keep-alive connections would otherwise hold the stop for the whole grace. */
	for (struct http_conn *c = s->conns; c; c = c->next) {
		if (c->ws)
			http_ws_close((struct http_ws *)c, LWS_CLOSE_STATUS_GOINGAWAY,
				      "server shutting down");
		else if (c->state == CONN_IDLE && c->wsi)
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
	/* The kills are lws timers; wake lws so it services them now (see http_on_listen). */
	lws_cancel_service(s->ctx);
	log_debug(SUBSYS, "stopping: listener closed, %u connection%s open", s->nconns,
		  s->nconns == 1 ? "" : "s");
	uv_timer_start(&s->stop_timer, http_on_stop_timer, s->nconns ? grace_ms : 0, 0);
}

void http_server_free(struct http_server *s)
{
	if (!s)
		return;
	if (s->state != SERVER_DESTROYING)
		BUG("http_server_free before the stop completed");
	/* Third step: every lws handle has closed by now, so the context can go. */
	if (s->ctx)
		lws_context_destroy(s->ctx);
	if (s->ctx)
		log_warn(SUBSYS, "libwebsockets context not fully destroyed; leaking it");
	/* Connections lws never reported destroyed (there should be none). */
	while (s->conns) {
		struct http_conn *c = s->conns;

		http_conn_unlink(s, c);
		http_conn_free(c);
	}
	free(s->wbuf);
	free(s);
}
