/*
 * http_client.c - libcurl's multi interface on the libuv loop (see
 * http_client.h).
 *
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when
 * to wake it (CURLMOPT_TIMERFUNCTION); we watch them with uv_poll_t and one
 * uv_timer_t and hand readiness back through curl_multi_socket_action.
 * Completed transfers come out of curl_multi_info_read. Each transfer also
 * has its own idle timer, so a stalled stream is a precise error
 * (HTTP_E_STALLED) rather than curl's coarser low-speed limit.
 *
 * Callbacks run from inside curl's write function. A transfer cancelled
 * there is only marked: its write function then returns 0 (curl aborts the
 * transfer), and it is freed when curl reports it done, never under curl's
 * feet.
 */
#include "net/http_client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/mem.h"

#define HTTP_MAX_HEADERS      64
#define HTTP_MAX_HEADER_BYTES (64u * 1024)

struct http_client {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	struct http_xfer *xfers;
	size_t active;
	bool freeing;
};

struct http_xfer {
	struct http_xfer *prev, *next;
	struct http_client *hc;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	const struct http_callbacks *cb;
	void *ud;
	long status;
	bool responded;
	bool cancelled;   /* no more callbacks */
	bool stop;        /* a callback asked to stop */
	int stop_result;  /* why curl was stopped (HTTP_E_*) */
	size_t received;
	size_t max_bytes;
	long idle_ms;
	uv_timer_t idle;
	bool idle_open;
	char *hdr[HTTP_MAX_HEADERS];
	size_t nhdr, hdr_bytes;
	char errbuf[CURL_ERROR_SIZE];
};

/* A socket curl asked us to watch. */
struct http_sock {
	uv_poll_t poll;
	struct http_client *hc;
	curl_socket_t fd;
};

static pthread_once_t http_once = PTHREAD_ONCE_INIT;

static void http_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void http_check_done(struct http_client *hc);

/* ==== sockets and timers ==== */

static void http_on_poll(uv_poll_t *p, int status, int events)
{
	struct http_sock *s = p->data;
	struct http_client *hc = s->hc;
	int flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(hc->multi, s->fd, flags, &running);
	http_check_done(hc);
}

static void http_sock_closed(uv_handle_t *h)
{
	free(h->data);
}

static int http_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_client *hc = userp;
	struct http_sock *s = socketp;
	int events = 0;

	if (what == CURL_POLL_REMOVE) {
		if (s) {
			uv_poll_stop(&s->poll);
			curl_multi_assign(hc->multi, fd, NULL);
			uv_close((uv_handle_t *)&s->poll, http_sock_closed);
		}
		return 0;
	}
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		s->hc = hc;
		s->fd = fd;
		if (uv_poll_init_socket(hc->loop, &s->poll, fd) < 0) {
			free(s);
			return -1;
		}
		s->poll.data = s;
		curl_multi_assign(hc->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	uv_poll_start(&s->poll, events, http_on_poll);
	return 0;
}

static void http_on_timer(uv_timer_t *t)
{
	struct http_client *hc = t->data;
	int running;

	curl_multi_socket_action(hc->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_check_done(hc);
}

static int http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_client *hc = userp;

	if (timeout_ms < 0)
		uv_timer_stop(&hc->timer);
	else
		uv_timer_start(&hc->timer, http_on_timer, (uint64_t)timeout_ms, 0);
	return 0;
}

/* ==== transfers ==== */

static void http_idle_closed(uv_handle_t *h)
{
	free(h->data);
}

static void http_xfer_free(struct http_xfer *x)
{
	struct http_client *hc = x->hc;
	size_t i;

	if (x->prev)
		x->prev->next = x->next;
	else
		hc->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	hc->active--;
	curl_multi_remove_handle(hc->multi, x->easy);
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	free(x->body);
	for (i = 0; i < x->nhdr; i++)
		free(x->hdr[i]);
	/* the idle timer owns the struct's memory until it is closed */
	uv_close((uv_handle_t *)&x->idle, http_idle_closed);
}

static void http_respond(struct http_xfer *x)
{
	if (x->responded)
		return;
	x->responded = true;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	if (!x->cancelled && x->cb->on_response && x->cb->on_response(x->ud, x, x->status)) {
		x->stop = true;
		x->stop_result = HTTP_E_CALLBACK;
	}
}

/* Nothing arrived for idle_ms: the stream has stalled. Not inside curl here. */
static void http_on_idle(uv_timer_t *t)
{
	struct http_xfer *x = t->data;

	if (!x->cancelled && x->cb->on_done)
		x->cb->on_done(x->ud, x, HTTP_E_STALLED, "no data received in time");
	x->cancelled = true;
	http_xfer_free(x);
}

/* A cancelled transfer is removed from a timer, never inside a curl callback. */
static void http_on_cancelled(uv_timer_t *t)
{
	http_xfer_free(t->data);
}

static void http_idle_restart(struct http_xfer *x)
{
	if (x->idle_ms > 0 && !x->cancelled)
		uv_timer_start(&x->idle, http_on_idle, (uint64_t)x->idle_ms, 0);
}

static size_t http_on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http_xfer *x = userdata;
	size_t n = size * nmemb;

	if (x->stop || x->cancelled)
		return 0;
	http_idle_restart(x);
	http_respond(x);
	if (x->stop || x->cancelled)
		return 0;
	x->received += n;
	if (x->max_bytes && x->received > x->max_bytes) {
		x->stop = true;
		x->stop_result = HTTP_E_TOO_BIG;
		return 0;
	}
	if (n && x->cb->on_data && x->cb->on_data(x->ud, x, ptr, n)) {
		x->stop = true;
		x->stop_result = HTTP_E_CALLBACK;
		return 0;
	}
	return x->stop || x->cancelled ? 0 : n;
}

static size_t http_on_header(char *ptr, size_t size, size_t nitems, void *userdata)
{
	struct http_xfer *x = userdata;
	size_t n = size * nitems, i;

	http_idle_restart(x);
	/* a new status line starts a new response (redirect, 100-continue): forget the last */
	if (n >= 5 && !strncmp(ptr, "HTTP/", 5)) {
		for (i = 0; i < x->nhdr; i++)
			free(x->hdr[i]);
		x->nhdr = x->hdr_bytes = 0;
		return n;
	}
	if (x->nhdr < HTTP_MAX_HEADERS && x->hdr_bytes + n <= HTTP_MAX_HEADER_BYTES && memchr(ptr, ':', n)) {
		size_t len = n;
		while (len && (ptr[len - 1] == '\r' || ptr[len - 1] == '\n'))
			len--;
		x->hdr[x->nhdr] = xmalloc(len + 1);
		memcpy(x->hdr[x->nhdr], ptr, len);
		x->hdr[x->nhdr][len] = '\0';
		x->nhdr++;
		x->hdr_bytes += n;
	}
	return n;
}

static int http_map_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return HTTP_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return HTTP_E_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_E_TIMEOUT;
	default:
		return HTTP_E_NETWORK;
	}
}

static void http_check_done(struct http_client *hc)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(hc->multi, &left))) {
		struct http_xfer *x = NULL;
		int result;
		const char *msg;
		char buf[CURL_ERROR_SIZE + 64];

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (!x)
			continue;
		if (!x->cancelled) {
			uv_timer_stop(&x->idle);
			if (m->data.result == CURLE_OK)
				http_respond(x);
			if (x->stop && x->stop_result) {
				result = x->stop_result;
				msg = result == HTTP_E_TOO_BIG	  ? "response too large"
				      : result == HTTP_E_STALLED ? "no data received in time"
								 : "stopped by the receiver";
			} else {
				result = http_map_error(m->data.result);
				snprintf(buf, sizeof(buf), "%s",
					 x->errbuf[0] ? x->errbuf : curl_easy_strerror(m->data.result));
				msg = result == HTTP_OK ? "ok" : buf;
			}
			if (!x->cancelled && x->cb->on_done)
				x->cb->on_done(x->ud, x, result, msg);
		}
		http_xfer_free(x);
	}
}

struct http_client *http_client_new(uv_loop_t *loop)
{
	struct http_client *hc;

	pthread_once(&http_once, http_global_init);
	hc = xcalloc(1, sizeof(*hc));
	hc->loop = loop;
	hc->multi = curl_multi_init();
	if (!hc->multi) {
		free(hc);
		return NULL;
	}
	curl_multi_setopt(hc->multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
	curl_multi_setopt(hc->multi, CURLMOPT_SOCKETDATA, hc);
	curl_multi_setopt(hc->multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
	curl_multi_setopt(hc->multi, CURLMOPT_TIMERDATA, hc);
	uv_timer_init(loop, &hc->timer);
	hc->timer.data = hc;
	return hc;
}

static void http_client_closed(uv_handle_t *h)
{
	struct http_client *hc = h->data;

	curl_multi_cleanup(hc->multi);
	free(hc);
}

void http_client_free(struct http_client *hc)
{
	if (!hc)
		return;
	hc->freeing = true;
	while (hc->xfers) {
		struct http_xfer *x = hc->xfers;
		if (!x->cancelled && x->cb->on_done) {
			x->cancelled = true;
			x->cb->on_done(x->ud, x, HTTP_E_SHUTDOWN, "client shut down");
		}
		x->cancelled = true;
		http_xfer_free(x);
	}
	uv_timer_stop(&hc->timer);
	uv_close((uv_handle_t *)&hc->timer, http_client_closed);
}

struct http_xfer *http_client_start(struct http_client *hc, const struct http_request *rq,
				    const struct http_callbacks *cb, void *ud)
{
	struct http_xfer *x;
	const char *const *h;
	CURL *e;

	if (!rq->url || (strncasecmp(rq->url, "http://", 7) && strncasecmp(rq->url, "https://", 8)))
		return NULL;
	e = curl_easy_init();
	if (!e)
		return NULL;
	x = xcalloc(1, sizeof(*x));
	x->hc = hc;
	x->easy = e;
	x->cb = cb;
	x->ud = ud;
	x->max_bytes = rq->max_response_bytes;
	x->idle_ms = rq->idle_timeout_ms;
	uv_timer_init(hc->loop, &x->idle);
	x->idle.data = x;
	for (h = rq->headers; h && *h; h++)
		x->headers = curl_slist_append(x->headers, *h);
	/* curl would otherwise send "Expect: 100-continue" for large bodies and wait */
	x->headers = curl_slist_append(x->headers, "Expect:");
	curl_easy_setopt(e, CURLOPT_URL, rq->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)x);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 rq->connect_timeout_ms > 0 ? rq->connect_timeout_ms : 10000L);
	if (rq->total_timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, rq->total_timeout_ms);
	if (rq->body || (rq->method && !strcmp(rq->method, "POST"))) {
		x->body = xmalloc(rq->body_len + 1);
		if (rq->body_len)
			memcpy(x->body, rq->body, rq->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
	}
	if (rq->method && strcmp(rq->method, "GET") && strcmp(rq->method, "POST"))
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, rq->method);
	x->next = hc->xfers;
	if (hc->xfers)
		hc->xfers->prev = x;
	hc->xfers = x;
	hc->active++;
	http_idle_restart(x);
	/* curl_multi_add_handle only arms the timer: nothing calls back before we return */
	curl_multi_add_handle(hc->multi, e);
	return x;
}

void http_xfer_cancel(struct http_xfer *x)
{
	if (x->cancelled)
		return;
	x->cancelled = true;
	x->stop = true;
	uv_timer_start(&x->idle, http_on_cancelled, 0, 0);
}

const char *http_xfer_header(struct http_xfer *x, const char *name)
{
	size_t n = strlen(name), i;
	const char *v = NULL;

	for (i = 0; i < x->nhdr; i++) {
		if (!strncasecmp(x->hdr[i], name, n) && x->hdr[i][n] == ':') {
			v = x->hdr[i] + n + 1;
			while (*v == ' ' || *v == '\t')
				v++;
		}
	}
	return v;
}

long http_xfer_status(const struct http_xfer *x)
{
	return x->status;
}

size_t http_client_active(const struct http_client *hc)
{
	return hc->active;
}
