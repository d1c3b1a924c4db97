/*
 * http_client.c - libcurl's multi interface on the libuv loop; see http_client.h.
 *
 * The pattern is curl's own multi-uv example: curl tells us which sockets
 * to watch (CURLMOPT_SOCKETFUNCTION, one uv_poll_t each) and when to wake
 * it (CURLMOPT_TIMERFUNCTION, one uv_timer_t), and we hand every readiness
 * event back with curl_multi_socket_action. Finished transfers are then
 * collected with curl_multi_info_read.
 *
 * The one delicate part is re-entrancy. curl forbids adding or removing
 * easy handles from inside its callbacks, yet our callers may cancel or
 * start transfers from inside on_response/on_data. So while curl is on
 * the stack (hc->in_curl) such requests are only recorded; hc_after()
 * carries them out once curl_multi_socket_action has returned. A transfer
 * is unlinked from curl and its memory freed only from outside curl, and
 * its struct lives until its idle timer's close callback, so a pointer held
 * by a callback on the stack never dangles.
 */
#include "net/http_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"

#define HTTP_CONNECT_TIMEOUT_MS 10000L
#define HTTP_HEADER_BYTES       (32 * 1024) /* response headers kept per transfer */

struct http_sock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct http_client *hc;
	struct http_sock *next, *prev; /* hc->socks */
};

struct http_client {
	uv_loop_t *loop;
	CURLM *multi;     /* created with the first transfer */
	uv_timer_t timer; /* curl's timeout; initialised with multi */
	bool timer_init;
	int in_curl;    /* curl_multi_socket_action is on the stack */
	bool need_scan; /* deferred adds or cancels wait for hc_after */
	bool freeing;   /* http_client_free was called */
	bool freed;     /* ...and has run: only the timer's close is pending */
	size_t active;
	struct http_xfer *xfers; /* every transfer not yet released */
	struct http_sock *socks;
};

struct http_xfer {
	struct http_client *hc;
	CURL *easy;
	struct curl_slist *req_headers;
	struct curl_slist *resolve;
	char *body;
	int (*guard)(void *arg, const struct sockaddr *sa, char *why, size_t whylen);
	void *guard_arg;
	bool blocked; /* the guard refused an address */
	char block_why[256];
	struct http_callbacks cb;
	void *ud;
	uv_timer_t idle; /* owns the struct: freed in its close callback */
	long idle_ms;
	uint64_t last_rx;   /* uv_now of the last byte in or out */
	curl_off_t last_ul; /* upload progress seen by on_progress */
	uint64_t started;
	long total_ms;
	size_t max_bytes;
	size_t received;
	long status;
	long block_status;  /* status line of the header block being read */
	struct buf headers; /* "name\0value\0" pairs of the final response */
	int stop;           /* HTTP_E_* set when we told curl to stop */
	bool attached;      /* added to the multi */
	bool responded;     /* on_response has run */
	bool cancelled;     /* no callback may run any more */
	bool finishing;     /* on_done is running */
	bool released;
	char errbuf[CURL_ERROR_SIZE];
	struct http_xfer *next, *prev;
};

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_global_rc = CURLE_FAILED_INIT;

static void http_global_init(void)
{
	http_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ==== sockets and the timer: curl <-> libuv ==== */

static void hc_after(struct http_client *hc);
static void hc_free_now(struct http_client *hc);

static void hc_action(struct http_client *hc, curl_socket_t fd, int flags)
{
	int running;

	if (hc->freed)
		return;
	hc->in_curl++;
	curl_multi_socket_action(hc->multi, fd, flags, &running);
	hc->in_curl--;
	hc_after(hc);
	/* http_client_free from inside a callback waited for curl to unwind. */
	if (hc->freeing && !hc->freed && !hc->in_curl)
		hc_free_now(hc);
}

static void sock_on_closed(uv_handle_t *h)
{
	free(h->data);
}

static void sock_close(struct http_sock *s)
{
	struct http_client *hc = s->hc;

	if (s->prev)
		s->prev->next = s->next;
	else
		hc->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, sock_on_closed);
}

static void sock_on_poll(uv_poll_t *h, int status, int events)
{
	struct http_sock *s = h->data;
	int flags = 0;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	hc_action(s->hc, s->fd, flags);
}

static int hc_on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_client *hc = userp;
	struct http_sock *s = socketp;
	int events = 0;

	if (what == CURL_POLL_REMOVE) {
		if (s)
			sock_close(s); /* curl forgets the socket's pointer itself */
		return 0;
	}
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		s->fd = fd;
		s->hc = hc;
		if (uv_poll_init_socket(hc->loop, &s->poll, fd) < 0) {
			log_warn("http", "cannot watch socket %d", (int)fd);
			free(s);
			return -1;
		}
		s->poll.data = s;
		s->next = hc->socks;
		if (hc->socks)
			hc->socks->prev = s;
		hc->socks = s;
		curl_multi_assign(hc->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	uv_poll_start(&s->poll, events, sock_on_poll);
	return 0;
}

static void hc_on_timer(uv_timer_t *t)
{
	hc_action(t->data, CURL_SOCKET_TIMEOUT, 0);
}

static int hc_on_timerfunc(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_client *hc = userp;

	if (timeout_ms < 0)
		uv_timer_stop(&hc->timer);
	else
		uv_timer_start(&hc->timer, hc_on_timer, (uint64_t)timeout_ms, 0);
	return 0;
}

static int hc_ensure_multi(struct http_client *hc)
{
	if (hc->multi)
		return 0;
	hc->multi = curl_multi_init();
	if (!hc->multi)
		return -1;
	curl_multi_setopt(hc->multi, CURLMOPT_SOCKETFUNCTION, hc_on_socket);
	curl_multi_setopt(hc->multi, CURLMOPT_SOCKETDATA, hc);
	curl_multi_setopt(hc->multi, CURLMOPT_TIMERFUNCTION, hc_on_timerfunc);
	curl_multi_setopt(hc->multi, CURLMOPT_TIMERDATA, hc);
	if (!hc->timer_init) {
		uv_timer_init(hc->loop, &hc->timer);
		hc->timer.data = hc;
		hc->timer_init = true;
	}
	return 0;
}

/* ==== transfer lifetime ==== */

static void xfer_on_closed(uv_handle_t *h)
{
	free(h->data);
}

/* Unlink from curl and the client and free everything; the struct goes with its timer. */
static void xfer_release(struct http_xfer *x)
{
	struct http_client *hc = x->hc;

	if (x->released)
		return;
	x->released = true;
	if (x->prev)
		x->prev->next = x->next;
	else
		hc->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	hc->active--;
	if (x->attached)
		curl_multi_remove_handle(hc->multi, x->easy);
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->req_headers);
	curl_slist_free_all(x->resolve);
	free(x->body);
	buf_release(&x->headers);
	uv_timer_stop(&x->idle);
	uv_close((uv_handle_t *)&x->idle, xfer_on_closed);
}

/* Report the end (unless cancelled) and release. Only from outside curl. */
static void xfer_finish(struct http_xfer *x, int result, const char *msg)
{
	if (x->released)
		return;
	uv_timer_stop(&x->idle);
	if (!x->cancelled) {
		x->cancelled = true; /* nothing else of this transfer may run */
		x->finishing = true;
		x->cb.on_done(x->ud, x, result, msg);
	}
	xfer_release(x);
}

/* on_response once. Returns nonzero when the caller asked to stop (or cancelled). */
static int xfer_respond(struct http_xfer *x)
{
	long code = 0;

	if (x->responded)
		return 0;
	x->responded = true;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	x->status = code ? code : x->block_status;
	if (x->cb.on_response && x->cb.on_response(x->ud, x, x->status)) {
		x->stop = HTTP_E_CALLBACK;
		return 1;
	}
	return x->cancelled;
}

static void xfer_touch(struct http_xfer *x)
{
	x->last_rx = uv_now(x->hc->loop);
}

/* ==== curl callbacks of one transfer ==== */

static size_t xfer_on_write(char *ptr, size_t size, size_t nmemb, void *userp)
{
	struct http_xfer *x = userp;
	size_t n = size * nmemb;

	if (x->cancelled || x->hc->freeing)
		return 0;
	xfer_touch(x);
	if (xfer_respond(x))
		return 0;
	if (x->max_bytes && n > x->max_bytes - x->received) {
		x->stop = HTTP_E_TOO_BIG;
		return 0;
	}
	x->received += n;
	if (n && x->cb.on_data && x->cb.on_data(x->ud, x, ptr, n)) {
		x->stop = HTTP_E_CALLBACK;
		return 0;
	}
	return x->cancelled ? 0 : n;
}

static void xfer_add_header(struct http_xfer *x, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n);
	size_t namelen, vstart, vend;

	/* No name, or an obsolete folded continuation line: not recorded. */
	if (!colon || colon == line || line[0] == ' ' || line[0] == '\t')
		return;
	namelen = (size_t)(colon - line);
	vstart = namelen + 1;
	vend = n;
	while (vstart < vend && (line[vstart] == ' ' || line[vstart] == '\t'))
		vstart++;
	while (vend > vstart && strchr(" \t\r\n", line[vend - 1]))
		vend--;
	if (memchr(line, '\0', vend))
		return;
	/* All or nothing, so a full buffer never holds half a pair. */
	if (namelen + vend - vstart + 2 > x->headers.max - x->headers.len) {
		log_debug("http", "response headers past %d bytes, dropping one",
			  HTTP_HEADER_BYTES);
		return;
	}
	buf_append(&x->headers, line, namelen);
	buf_putc(&x->headers, '\0');
	buf_append(&x->headers, line + vstart, vend - vstart);
	buf_putc(&x->headers, '\0');
}

static size_t xfer_on_header(char *line, size_t size, size_t nmemb, void *userp)
{
	struct http_xfer *x = userp;
	size_t n = size * nmemb;

	if (x->cancelled || x->hc->freeing)
		return 0;
	xfer_touch(x);
	/* Once on_response has run, the headers it may be holding stay put
	 * (trailers are not recorded). */
	if (x->responded)
		return n;
	if (n >= 5 && !memcmp(line, "HTTP/", 5)) {
		/* A new response block (after a 1xx): forget the last one's. */
		const char *sp = memchr(line, ' ', n);

		buf_reset(&x->headers);
		x->block_status = sp ? strtol(sp + 1, NULL, 10) : 0;
	} else if (n <= 2 && (n == 0 || line[0] == '\r' || line[0] == '\n')) {
		/* End of a block: for a final response, status and headers are known. */
		if (x->block_status >= 200 && xfer_respond(x))
			return 0;
	} else {
		xfer_add_header(x, line, n);
	}
	return n;
}

/* Upload progress counts as activity, so a big request body is not a stall. */
static int xfer_on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			    curl_off_t ulnow)
{
	struct http_xfer *x = userp;

	if (ulnow != x->last_ul) {
		x->last_ul = ulnow;
		xfer_touch(x);
	}
	return x->cancelled || x->hc->freeing;
}

/*
 * Every connection's socket is made here, after DNS, with the address it is
 * for: the one place a guard sees what curl really connects to, on every
 * request of a redirect chain and whatever the name resolved to this time.
 */
static curl_socket_t xfer_on_opensocket(void *clientp, curlsocktype purpose,
					struct curl_sockaddr *a)
{
	struct http_xfer *x = clientp;

	if (x->guard && purpose == CURLSOCKTYPE_IPCXN &&
	    x->guard(x->guard_arg, &a->addr, x->block_why, sizeof(x->block_why))) {
		x->blocked = true;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static void xfer_on_idle(uv_timer_t *t)
{
	struct http_xfer *x = t->data;
	uint64_t quiet = uv_now(x->hc->loop) - x->last_rx;
	char msg[64];

	if (quiet < (uint64_t)x->idle_ms) {
		uv_timer_start(&x->idle, xfer_on_idle, (uint64_t)x->idle_ms - quiet, 0);
		return;
	}
	snprintf(msg, sizeof(msg), "stalled: no data for %ld ms", x->idle_ms);
	xfer_finish(x, HTTP_E_STALLED, msg);
}

/* ==== completion ==== */

static int map_curl_error(struct http_xfer *x, CURLcode rc, const char **msg)
{
	*msg = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
	switch (rc) {
	case CURLE_OK:
		*msg = "ok";
		return HTTP_OK;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
		return HTTP_E_CONNECT;
	case CURLE_OPERATION_TIMEDOUT: {
		curl_off_t pre = 0;

		/* curl reports the connect timeout and the total one alike; a
		 * transfer that never got as far as sending was still connecting,
		 * unless it is the total budget that ran out. */
		curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
		if (pre == 0 &&
		    !(x->total_ms && uv_now(x->hc->loop) - x->started >= (uint64_t)x->total_ms))
			return HTTP_E_CONNECT;
		return HTTP_E_TIMEOUT;
	}
	case CURLE_WRITE_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
		if (x->stop == HTTP_E_TOO_BIG) {
			*msg = "response too big";
			return HTTP_E_TOO_BIG;
		}
		if (x->stop == HTTP_E_CALLBACK || rc == CURLE_ABORTED_BY_CALLBACK) {
			*msg = "stopped by callback";
			return HTTP_E_CALLBACK;
		}
		return HTTP_E_NETWORK; /* a write error of curl's own */
	case CURLE_FILESIZE_EXCEEDED:
		return HTTP_E_TOO_BIG;
	default:
		return HTTP_E_NETWORK;
	}
}

static void xfer_completed(struct http_xfer *x, CURLcode rc)
{
	const char *msg;
	int result;

	if (x->cancelled) {
		xfer_release(x);
		return;
	}
	result = map_curl_error(x, rc, &msg);
	/* Every address refused: say why, not "could not connect". */
	if (x->blocked && result == HTTP_E_CONNECT) {
		result = HTTP_E_BLOCKED;
		msg = x->block_why;
	}
	/* A response with neither a body nor a header block curl showed us. */
	if (result == HTTP_OK && xfer_respond(x)) {
		if (x->cancelled) {
			xfer_release(x); /* cancelled from on_response */
			return;
		}
		result = HTTP_E_CALLBACK;
		msg = "stopped by callback";
	}
	xfer_finish(x, result, msg);
}

/* Outside curl again: collect finished transfers, then do what was deferred. */
static void hc_after(struct http_client *hc)
{
	CURLMsg *m;
	int left;

	if (hc->in_curl)
		return;
	/* An on_done may free the client: check before touching curl again. */
	while (!hc->freeing && (m = curl_multi_info_read(hc->multi, &left))) {
		char *priv = NULL;
		CURLcode rc = m->data.result;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		if (priv)
			xfer_completed((struct http_xfer *)(void *)priv, rc);
	}
	while (hc->need_scan && !hc->freeing) {
		struct http_xfer *x, *next;

		hc->need_scan = false;
		for (x = hc->xfers; x; x = next) {
			next = x->next;
			if (x->cancelled) {
				xfer_release(x);
			} else if (!x->attached) {
				x->attached = true;
				curl_multi_add_handle(hc->multi, x->easy);
			}
		}
	}
}

/* ==== public API ==== */

struct http_client *http_client_new(uv_loop_t *loop)
{
	struct http_client *hc;

	pthread_once(&http_once, http_global_init);
	if (http_global_rc != CURLE_OK) {
		log_error("http", "cannot initialise libcurl: %s",
			  curl_easy_strerror(http_global_rc));
		return NULL;
	}
	hc = xcalloc(1, sizeof(*hc));
	hc->loop = loop;
	return hc;
}

static void hc_on_closed(uv_handle_t *h)
{
	free(h->data);
}

static void hc_free_now(struct http_client *hc)
{
	hc->freed = true;
	while (hc->xfers)
		xfer_finish(hc->xfers, HTTP_E_SHUTDOWN, "shutdown");
	if (hc->multi)
		curl_multi_cleanup(hc->multi); /* may report sockets removed */
	hc->multi = NULL;
	while (hc->socks)
		sock_close(hc->socks);
	if (hc->timer_init) {
		uv_timer_stop(&hc->timer);
		uv_close((uv_handle_t *)&hc->timer, hc_on_closed);
	} else {
		free(hc);
	}
}

void http_client_free(struct http_client *hc)
{
	if (!hc || hc->freeing)
		return;
	hc->freeing = true;
	/* From inside a callback curl is on the stack and may not be torn
	 * down; hc_action does it as soon as curl has returned. */
	if (!hc->in_curl)
		hc_free_now(hc);
}

static bool http_scheme_ok(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL;
	bool ok = false;

	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK)
		ok = !strcasecmp(scheme, "http") || !strcasecmp(scheme, "https");
	curl_free(scheme);
	curl_url_cleanup(u);
	return ok;
}

/* Set the method and body; curl's defaults follow from POSTFIELDS. */
static void xfer_set_method(struct http_xfer *x, const struct http_request *rq)
{
	CURL *e = x->easy;
	const char *m = rq->method;

	if (rq->body || (m && (!strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH")))) {
		x->body = xmalloc(rq->body_len + 1);
		if (rq->body_len)
			memcpy(x->body, rq->body, rq->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
		if (m && strcmp(m, "POST"))
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
	} else if (m && !strcmp(m, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (m && strcmp(m, "GET")) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
	}
}

struct http_xfer *http_client_start(struct http_client *hc, const struct http_request *rq,
				    const struct http_callbacks *cb, void *ud)
{
	struct http_xfer *x;
	bool has_expect = false;
	CURL *e;

	if (!hc || hc->freeing || !rq || !rq->url || !cb || !cb->on_done ||
	    !http_scheme_ok(rq->url))
		return NULL;
	if (hc_ensure_multi(hc) < 0)
		return NULL;
	e = curl_easy_init();
	if (!e)
		return NULL;

	x = xcalloc(1, sizeof(*x));
	x->hc = hc;
	x->easy = e;
	x->cb = *cb;
	x->ud = ud;
	x->idle_ms = rq->idle_timeout_ms > 0 ? rq->idle_timeout_ms : 0;
	x->total_ms = rq->total_timeout_ms > 0 ? rq->total_timeout_ms : 0;
	x->max_bytes = rq->max_response_bytes;
	x->started = uv_now(hc->loop);
	x->last_rx = x->started;
	buf_init(&x->headers, HTTP_HEADER_BYTES);
	uv_timer_init(hc->loop, &x->idle);
	x->idle.data = x;

	curl_easy_setopt(e, CURLOPT_URL, rq->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, xfer_on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, xfer_on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, xfer_on_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 rq->connect_timeout_ms > 0 ? rq->connect_timeout_ms
						    : HTTP_CONNECT_TIMEOUT_MS);
	if (x->total_ms)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, x->total_ms);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* whatever curl can decode */
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);  /* callers decide about redirects */
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	/* A proxy's CONNECT answer is not the response the caller asked for. */
	curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
#if LIBCURL_VERSION_NUM >= 0x075700
	/* Never wait for a resolver thread when a transfer is cancelled. */
	curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L);
#endif
	if (rq->guard) {
		x->guard = rq->guard;
		x->guard_arg = rq->guard_arg;
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
		curl_easy_setopt(e, CURLOPT_PROXY, "");
	}
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, xfer_on_opensocket);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
	for (const char *const *r = rq->resolve; r && *r; r++)
		x->resolve = curl_slist_append(x->resolve, *r);
	if (x->resolve)
		curl_easy_setopt(e, CURLOPT_RESOLVE, x->resolve);
	xfer_set_method(x, rq);
	for (const char *const *h = rq->headers; h && *h; h++) {
		if (!strncasecmp(*h, "Expect:", 7))
			has_expect = true;
		x->req_headers = curl_slist_append(x->req_headers, *h);
	}
	/* curl would send "Expect: 100-continue" for big bodies and wait a
	 * second for servers that do not answer it; model APIs do not need it. */
	if (!has_expect && x->body)
		x->req_headers = curl_slist_append(x->req_headers, "Expect:");
	if (x->req_headers)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->req_headers);

	x->next = hc->xfers;
	if (hc->xfers)
		hc->xfers->prev = x;
	hc->xfers = x;
	hc->active++;
	if (x->idle_ms)
		uv_timer_start(&x->idle, xfer_on_idle, (uint64_t)x->idle_ms, 0);
	if (hc->in_curl) {
		hc->need_scan = true; /* curl forbids adding from its callbacks */
	} else {
		x->attached = true;
		curl_multi_add_handle(hc->multi, e);
	}
	return x;
}

void http_xfer_cancel(struct http_xfer *x)
{
	if (!x || x->released || x->finishing)
		return;
	x->cancelled = true;
	uv_timer_stop(&x->idle);
	if (x->hc->in_curl)
		x->hc->need_scan = true; /* released once curl has unwound */
	else
		xfer_release(x);
}

const char *http_xfer_header(struct http_xfer *x, const char *name)
{
	const char *p, *end, *found = NULL;

	if (!x || !name)
		return NULL;
	p = x->headers.p;
	end = p + x->headers.len;
	while (p < end) {
		const char *value = p + strlen(p) + 1;

		if (!strcasecmp(p, name))
			found = value;
		p = value + strlen(value) + 1;
	}
	return found;
}

long http_xfer_status(const struct http_xfer *x)
{
	return x && x->responded ? x->status : 0;
}

size_t http_client_active(const struct http_client *hc)
{
	return hc ? hc->active : 0;
}
