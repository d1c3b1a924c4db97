/*
 * ws_client.c - outbound WebSocket connections over libwebsockets on a
 * foreign libuv loop; see ws_client.h.
 *
 * Shape:
 *  - One lws context per struct ws_client (no listener, no TLS), one lws
 *    protocol whose callback sees every client wsi; a wsi's opaque user
 *    data is a struct ws_attempt, which names the connection it belongs to.
 *  - A connection resolves its host with uv_getaddrinfo (numeric hosts
 *    skip that), then asks lws to connect to each address in turn. lws
 *    is only ever called from the loop (a zero-delay "kick" timer, DNS and
 *    timer callbacks) or from inside its own callbacks, never from inside
 *    the public calls, so no user callback can run inside them.
 *  - lws reports a failed TCP connect only as "Unable to connect", or not
 *    at all when connect() fails at once. When a connection dies before
 *    its TCP connect completed, one plain uv_tcp_connect to the same
 *    address ("the probe") finds out why: refused, unreachable, timed out.
 *    It costs nothing on the successful path.
 *  - A connection's record lives until its on_close has run and every
 *    libuv callback it is owed (timer close, DNS, probe) has come back.
 *
 * Why struct ws_attempt: lws_client_connect_via_info() can fail and return
 * NULL while the wsi it created is still being closed asynchronously (its
 * libuv handle must close first); WSI_DESTROY then arrives later, or, on a
 * few out-of-memory paths, never. The attempt record is what lws points
 * at: WSI_DESTROY frees it, a connection that gave up on it detaches it
 * (attempt->w = NULL), and ws_client_free frees any that lws never
 * reported destroyed. So no lws callback can reach a freed connection.
 *
 * Shutting lws down on a foreign loop takes the same three steps as in
 * http_server.c: lws_context_destroy() starts closing lws's handles, the
 * loop runs until they are closed, and a second lws_context_destroy() in
 * ws_client_free() frees the context.
 */
#include "net/ws_client.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <libwebsockets.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "net/lws_glue.h"

#define SUBSYS "ws-client"

/* Bytes of one outgoing message handed to lws per writeable callback (one frame). */
#define WS_CHUNK               (64u << 10)
/* lws's receive buffer per connection: incoming data arrives in pieces this big. */
#define WS_RX_BUFFER           (16u << 10)
/* Addresses of one host name tried in turn. */
#define WS_MAX_ADDRS           8
/* After ws_client_stop, how long open connections get for their close handshakes. */
#define WS_STOP_GRACE_MS       3000
/* lws's own connect and handshake timeouts; ours (connect_timeout_ms) fire first. */
#define WS_LWS_TIMEOUT_S       3600
/* How long a close we sent waits for the peer's answer. */
#define WS_CLOSE_ACK_TIMEOUT_S 5
/* A received rx buffer larger than this is freed after its message, not kept. */
#define WS_RX_KEEP             (64u << 10)

#define WS_PROTOCOL_NAME "pincer-ws-client"

enum conn_state {
	CONN_RESOLVING,  /* waiting for uv_getaddrinfo, or for the kick that starts lws */
	CONN_CONNECTING, /* an lws attempt is under way (TCP, then the upgrade) */
	CONN_PROBING,    /* the TCP connect failed; the probe is finding out why */
	CONN_OPEN,       /* upgraded; messages flow */
	CONN_CLOSING,    /* a close handshake is under way (either side started it) */
	CONN_DONE,       /* on_close has run; waiting for libuv callbacks before the free */
};

struct ws_msg {
	struct ws_msg *next;
	size_t len, off; /* off: bytes already handed to lws */
	bool binary;
	char data[];
};

struct ws_attempt {
	struct ws_attempt *prev, *next; /* on c->attempts */
	struct ws_conn *w;              /* NULL once the connection gave up on this wsi */
};

struct ws_conn {
	struct ws_conn *prev, *next; /* on c->conns */
	struct ws_client *c;
	enum conn_state state;

	/* what to connect to */
	char *url;      /* normalised, for messages */
	char *host;     /* name or address, IPv6 without brackets */
	char *host_hdr; /* Host header value */
	char *path;     /* path and query, starting with '/' */
	char *subprotocol;
	int port;
	bool tls;   /* wss:// */
	char *hdrs; /* extra headers, "Name: value\r\n" each */
	size_t hdrs_len;
	struct sockaddr_storage addrs[WS_MAX_ADDRS];
	int naddrs, addr; /* addr: the one being tried */

	size_t max_message, max_buffered;
	unsigned connect_timeout_ms;
	struct ws_conn_opts cb; /* callbacks and arg (the pointer fields are not used) */

	/* the lws attempt in progress */
	struct ws_attempt *attempt;
	struct lws *wsi;      /* valid while attempt is set */
	bool in_connect;      /* inside lws_client_connect_via_info */
	bool tcp_connected;   /* this attempt got past TCP connect */
	char cce[96];         /* lws's CONNECTION_ERROR text */
	unsigned http_status; /* the server's answer to the upgrade, when it was not 101 */

	/* libuv: each counts in `refs` while its callback is owed */
	uv_timer_t deadline;
	uv_getaddrinfo_t dns;
	uv_tcp_t probe;
	uv_connect_t probe_req;
	int refs;
	bool need_start;  /* the kick should start an lws attempt */
	bool need_finish; /* the kick should deliver on_close */

	/* closing */
	int close_code; /* what on_close will report */
	char close_reason[WS_MAX_CLOSE_REASON + 1];
	bool close_set;    /* close_code/close_reason are decided */
	bool close_queued; /* ws_conn_close on an open connection: close after the queue */
	int q_close_code;  /* what the queued close sends */
	char q_close_reason[WS_MAX_CLOSE_REASON + 1];
	bool dns_pending; /* uv_getaddrinfo in flight */

	/* data */
	struct ws_msg *q_head, *q_tail;
	size_t buffered;
	struct buf rx;
	bool rx_active, rx_binary;
};

struct ws_client {
	uv_loop_t *loop;
	struct lws_context *ctx;
	struct lws_protocols protocols[2];
	struct ws_conn *conns;
	struct ws_attempt *attempts;
	uv_timer_t kick, stop_timer;
	bool timers_open;
	bool stopping;
	bool destroyed; /* first lws_context_destroy done */
	void (*done)(void *arg);
	void *done_arg;
	unsigned char *wbuf; /* LWS_PRE + WS_CHUNK: one write at a time */
};

/* ==== URLs and headers ==== */

static bool ws_host_char(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_';
}

/*
 * Split a ws:// or wss:// URL into the connection's fields. Returns 0, or
 * -1 with a message in `err`.
 */
static int ws_url_parse(struct ws_conn *w, const char *url, char *err, size_t errlen)
{
	const char *p = url, *host, *host_end, *q;
	bool v6 = false, tls;
	long port, dflt;
	char *path;

	if (!strncasecmp(p, "ws://", 5)) {
		tls = false;
		p += 5;
	} else if (!strncasecmp(p, "wss://", 6)) {
		tls = true;
		p += 6;
	} else {
		snprintf(err, errlen, "unsupported URL '%s' (want ws://host[:port][/path])", url);
		return -1;
	}
	w->tls = tls;
	dflt = tls ? 443 : 80;
	q = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(q - p))) {
		snprintf(err, errlen,
			 "credentials in a URL are not supported (pass them separately)");
		return -1;
	}
	if (*p == '[') {
		host = p + 1;
		host_end = memchr(host, ']', (size_t)(q - host));
		if (!host_end) {
			snprintf(err, errlen, "invalid URL '%s': unterminated '['", url);
			return -1;
		}
		p = host_end + 1;
		v6 = true;
	} else {
		host = p;
		while (p < q && *p != ':')
			p++;
		host_end = p;
		for (const char *s = host; s < host_end; s++)
			if (!ws_host_char((unsigned char)*s)) {
				snprintf(err, errlen, "invalid host in URL '%s'", url);
				return -1;
			}
	}
	if (host_end == host) {
		snprintf(err, errlen, "invalid URL '%s': no host", url);
		return -1;
	}
	w->host = xstrndup(host, (size_t)(host_end - host));
	if (v6) {
		struct in6_addr a6;

		if (inet_pton(AF_INET6, w->host, &a6) != 1) {
			snprintf(err, errlen, "invalid IPv6 address in URL '%s'", url);
			return -1;
		}
	}
	port = dflt;
	if (p < q && *p == ':') {
		char digits[8];
		long long v;
		size_t n = (size_t)(q - p - 1);

		if (!n || n >= sizeof(digits)) {
			snprintf(err, errlen, "invalid port in URL '%s'", url);
			return -1;
		}
		memcpy(digits, p + 1, n);
		digits[n] = '\0';
		if (str_to_ll(digits, &v) < 0 || v < 1 || v > 65535) {
			snprintf(err, errlen, "invalid port in URL '%s'", url);
			return -1;
		}
		port = (long)v;
	} else if (p != q) {
		snprintf(err, errlen, "invalid URL '%s'", url);
		return -1;
	}
	w->port = (int)port;
	if (strchr(q, '#')) {
		snprintf(err, errlen, "invalid URL '%s': a WebSocket URL has no #fragment", url);
		return -1;
	}
	for (const char *s = q; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f) {
			snprintf(err, errlen,
				 "invalid URL '%s': spaces or control characters in the path", url);
			return -1;
		}
	path = *q == '/' ? xstrdup(q) : xasprintf("/%s", q);
	w->path = path;
	if (port == dflt)
		w->host_hdr = v6 ? xasprintf("[%s]", w->host) : xstrdup(w->host);
	else
		w->host_hdr = v6 ? xasprintf("[%s]:%ld", w->host, port)
				 : xasprintf("%s:%ld", w->host, port);
	w->url = xasprintf(v6 ? "%s://[%s]:%ld%s" : "%s://%s:%ld%s", tls ? "wss" : "ws", w->host,
			   port, w->path);
	return 0;
}

/*
 * wss:// is parsed but refused until TLS is added. The plan: a second lws
 * context in struct ws_client, created on the first wss connection with
 * LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT (that is when the CA bundle gets
 * loaded), chosen in ws_conn_start by w->tls, with LCCSCF_USE_SSL in the
 * connect info; lws takes SNI and the name to verify from the Host header
 * (w->host_hdr), so connecting to the resolved address stays as it is.
 */
static int ws_url_usable(const struct ws_conn *w, const char *url, char *err, size_t errlen)
{
	if (w->tls) {
		snprintf(err, errlen, "wss:// URLs are not supported yet: %s", url);
		return -1;
	}
	return 0;
}

static bool ws_token_char(unsigned char c)
{
	return isalnum(c) || strchr("!#$%&'*+-.^_`|~", c);
}

/* Headers lws writes itself; a caller's copy would make the request invalid. */
static bool ws_header_reserved(const char *name, size_t len)
{
	static const char *const names[] = {
		"host",
		"upgrade",
		"connection",
		"sec-websocket-key",
		"sec-websocket-version",
		"sec-websocket-protocol",
		"sec-websocket-extensions",
		"content-length",
		"transfer-encoding",
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == len && !strncasecmp(names[i], name, len))
			return true;
	return false;
}

/* Check the extra headers and build the block lws appends. 0, or -1 with `err`. */
static int ws_headers_build(struct ws_conn *w, const char *const *headers, char *err, size_t errlen)
{
	struct buf b;
	size_t n = 0;

	buf_init(&b, WS_MAX_EXTRA_HEADER_BYTES);
	for (; headers && *headers; headers++, n++) {
		const char *h = *headers, *colon = strchr(h, ':'), *v;
		size_t nlen;

		if (n >= WS_MAX_EXTRA_HEADERS) {
			snprintf(err, errlen, "too many extra headers (limit %d)",
				 WS_MAX_EXTRA_HEADERS);
			goto fail;
		}
		nlen = colon ? (size_t)(colon - h) : 0;
		for (size_t i = 0; i < nlen; i++)
			if (!ws_token_char((unsigned char)h[i]))
				nlen = 0;
		if (!nlen) {
			snprintf(err, errlen, "invalid header '%.40s' (want \"Name: value\")", h);
			goto fail;
		}
		if (ws_header_reserved(h, nlen)) {
			snprintf(err, errlen, "header '%.*s' is set by the WebSocket client itself",
				 (int)nlen, h);
			goto fail;
		}
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		for (const char *s = v; *s; s++)
			if ((unsigned char)*s < 0x20 && *s != '\t') {
				snprintf(err, errlen, "header '%.*s' has a control character",
					 (int)nlen, h);
				goto fail;
			}
		if (buf_printf(&b, "%.*s: %s\r\n", (int)nlen, h, v) < 0) {
			snprintf(err, errlen, "extra headers too long (limit %d bytes)",
				 WS_MAX_EXTRA_HEADER_BYTES);
			goto fail;
		}
	}
	w->hdrs = buf_detach(&b, &w->hdrs_len);
	return 0;
fail:
	buf_release(&b);
	return -1;
}

/* ==== connection records ==== */

static void ws_client_kick(struct ws_client *c);
static void ws_conn_start_dns(struct ws_conn *w);

static void ws_conn_free(struct ws_conn *w)
{
	struct ws_client *c = w->c;
	struct ws_msg *m;

	if (w->prev)
		w->prev->next = w->next;
	else
		c->conns = w->next;
	if (w->next)
		w->next->prev = w->prev;
	while ((m = w->q_head)) {
		w->q_head = m->next;
		free(m);
	}
	buf_release(&w->rx);
	free(w->url);
	free(w->host);
	free(w->host_hdr);
	free(w->path);
	free(w->subprotocol);
	free(w->hdrs);
	free(w);
	/* A stop waits for the last connection to go. */
	if (c->stopping && !c->conns)
		ws_client_kick(c);
}

/* Free the record once on_close has run and nothing is owed any more. */
static void ws_conn_unref(struct ws_conn *w)
{
	if (w->refs < 0)
		BUG("ws_conn refs %d", w->refs);
	if (w->state == CONN_DONE && !w->refs && !w->attempt)
		ws_conn_free(w);
}

static void ws_on_handle_closed(uv_handle_t *h)
{
	struct ws_conn *w = h->data;

	w->refs--;
	ws_conn_unref(w);
}

/* Decide what on_close will report, unless something already did. */
static void ws_conn_set_close(struct ws_conn *w, int code, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void ws_conn_set_close(struct ws_conn *w, int code, const char *fmt, ...)
{
	va_list ap;

	if (w->close_set)
		return;
	w->close_set = true;
	w->close_code = code;
	va_start(ap, fmt);
	vsnprintf(w->close_reason, sizeof(w->close_reason), fmt, ap);
	va_end(ap);
}

/*
 * The connection is over: deliver on_close (exactly once) and let the
 * record go. Precondition: no lws attempt is alive and we are on the loop,
 * not inside a public call.
 */
static void ws_conn_finish(struct ws_conn *w)
{
	struct ws_msg *m;

	if (w->state == CONN_DONE)
		return;
	if (w->attempt)
		BUG("ws_conn_finish with a live wsi");
	ws_conn_set_close(w, WS_CLOSE_ABNORMAL, "connection closed");
	w->state = CONN_DONE;
	w->need_start = w->need_finish = false;
	uv_timer_stop(&w->deadline);
	uv_close((uv_handle_t *)&w->deadline, ws_on_handle_closed);
	while ((m = w->q_head)) {
		w->q_head = m->next;
		free(m);
	}
	w->q_tail = NULL;
	w->buffered = 0;
	buf_release(&w->rx);
	log_debug(SUBSYS, "%s closed: %d %s", w->url, w->close_code, w->close_reason);
	if (w->cb.on_close)
		w->cb.on_close(w, w->close_code, w->close_reason, w->cb.arg);
	ws_conn_unref(w);
}

/* Finish from the next kick, i.e. not inside whatever is running now. */
static void ws_conn_finish_later(struct ws_conn *w)
{
	w->need_finish = true;
	ws_client_kick(w->c);
}

/* Make lws drop the attempt's wsi; WSI_DESTROY follows from the loop. */
static void ws_conn_kill_wsi(struct ws_conn *w)
{
	if (!w->attempt)
		return;
	lws_set_timeout(w->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	/* lws arms its timers only while servicing: wake it (see http_server.c). */
	lws_cancel_service(w->c->ctx);
}

/*
 * Give up on the connection with `code` and `reason` before it is open or
 * while it is: the common path of ws_conn_close, timeouts and stop.
 */
static void ws_conn_abort(struct ws_conn *w, int code, const char *reason)
{
	switch (w->state) {
	case CONN_RESOLVING:
		ws_conn_set_close(w, code, "%s", reason);
		/* The DNS callback (UV_ECANCELED or not) finds the record done. */
		if (w->dns_pending && uv_cancel((uv_req_t *)&w->dns) < 0)
			log_debug(SUBSYS, "%s: name lookup already running", w->url);
		ws_conn_finish_later(w);
		break;
	case CONN_CONNECTING:
		ws_conn_set_close(w, code, "%s", reason);
		if (w->attempt) {
			ws_conn_kill_wsi(w);
		} else {
			/* between two addresses: nothing is running */
			w->need_start = false;
			ws_conn_finish_later(w);
		}
		break;
	case CONN_PROBING:
		ws_conn_set_close(w, code, "%s", reason);
		if (!uv_is_closing((uv_handle_t *)&w->probe))
			uv_close((uv_handle_t *)&w->probe, ws_on_handle_closed);
		ws_conn_finish_later(w);
		break;
	case CONN_OPEN:
		if (w->close_queued)
			break;
		w->close_queued = true;
		w->q_close_code = code;
		snprintf(w->q_close_reason, sizeof(w->q_close_reason), "%s", reason);
		lws_callback_on_writable(w->wsi);
		break;
	case CONN_CLOSING:
	case CONN_DONE:
		break;
	}
}

/* ==== connecting ==== */

static void ws_addr_string(const struct sockaddr_storage *sa, char *out, size_t outlen)
{
	const void *a = sa->ss_family == AF_INET6
				? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
				: (const void *)&((const struct sockaddr_in *)sa)->sin_addr;

	if (!inet_ntop(sa->ss_family, a, out, (socklen_t)outlen))
		snprintf(out, outlen, "?");
}

static void ws_on_probe(uv_connect_t *req, int status)
{
	struct ws_conn *w = req->data;

	if (w->state != CONN_PROBING || uv_is_closing((uv_handle_t *)&w->probe))
		return; /* aborted: the record is closing the probe */
	if (status == 0)
		/* It connects now: lws met something we cannot see. */
		ws_conn_set_close(w, WS_CLOSE_ABNORMAL, "connection failed (%s)",
				  w->cce[0] ? w->cce : "no reason given");
	else
		ws_conn_set_close(w, WS_CLOSE_ABNORMAL, "%s", uv_strerror(status));
	uv_close((uv_handle_t *)&w->probe, ws_on_handle_closed);
	ws_conn_finish(w);
}

/* The TCP connect to the last address failed: learn why from a plain connect. */
static void ws_conn_probe(struct ws_conn *w)
{
	int r;

	w->state = CONN_PROBING;
	uv_tcp_init(w->c->loop, &w->probe);
	w->probe.data = w;
	w->refs++;
	w->probe_req.data = w;
	r = uv_tcp_connect(&w->probe_req, &w->probe, (const struct sockaddr *)&w->addrs[w->addr],
			   ws_on_probe);
	if (r < 0) {
		ws_conn_set_close(w, WS_CLOSE_ABNORMAL, "%s", uv_strerror(r));
		uv_close((uv_handle_t *)&w->probe, ws_on_handle_closed);
		ws_conn_finish(w);
	}
}

/* Turn what lws told us about a failed upgrade into words. */
static void ws_conn_upgrade_failed(struct ws_conn *w)
{
	if (w->http_status && w->http_status != 101)
		ws_conn_set_close(w, WS_CLOSE_ABNORMAL,
				  "server answered HTTP %u instead of upgrading to WebSocket",
				  w->http_status);
	else if (!strncmp(w->cce, "HS: ", 4))
		ws_conn_set_close(w, WS_CLOSE_ABNORMAL, "WebSocket upgrade failed: %s", w->cce + 4);
	else if (!w->cce[0] || !strcmp(w->cce, "Peer hung up") ||
		 !strcmp(w->cce, "Closed before conn") || !strcmp(w->cce, "read failed"))
		ws_conn_set_close(w, WS_CLOSE_ABNORMAL,
				  "connection closed during the WebSocket upgrade");
	else
		ws_conn_set_close(w, WS_CLOSE_ABNORMAL, "WebSocket upgrade failed (%s)", w->cce);
}

/*
 * The attempt's wsi is gone (or never came to be). Try the next address,
 * probe, or finish, depending on how far it got.
 */
static void ws_conn_attempt_over(struct ws_conn *w)
{
	switch (w->state) {
	case CONN_CONNECTING:
		if (w->close_set) {
			/* aborted: timeout, ws_conn_close, stop */
			ws_conn_finish(w);
		} else if (!w->tcp_connected) {
			if (w->addr + 1 < w->naddrs) {
				w->addr++;
				w->need_start = true;
				ws_client_kick(w->c);
			} else {
				ws_conn_probe(w);
			}
		} else {
			ws_conn_upgrade_failed(w);
			ws_conn_finish(w);
		}
		break;
	case CONN_OPEN:
	case CONN_CLOSING:
		ws_conn_set_close(w, WS_CLOSE_ABNORMAL, "connection lost");
		ws_conn_finish(w);
		break;
	default:
		BUG("ws attempt over in state %d", (int)w->state);
	}
}

/* Start an lws attempt on w->addrs[w->addr]. Runs from the kick. */
static void ws_conn_start(struct ws_conn *w)
{
	struct ws_client *c = w->c;
	struct lws_client_connect_info i;
	struct ws_attempt *a = xcalloc(1, sizeof(*a));
	char addr[INET6_ADDRSTRLEN];
	struct lws *wsi;

	ws_addr_string(&w->addrs[w->addr], addr, sizeof(addr));
	log_debug(SUBSYS, "%s: connecting to %s port %d", w->url, addr, w->port);
	a->w = w;
	a->next = c->attempts;
	if (c->attempts)
		c->attempts->prev = a;
	c->attempts = a;
	w->attempt = a;
	w->wsi = NULL;
	w->tcp_connected = false;
	w->cce[0] = '\0';
	w->http_status = 0;
	w->state = CONN_CONNECTING;

	memset(&i, 0, sizeof(i));
	i.context = c->ctx;
	i.address = addr;
	i.port = w->port;
	i.path = w->path;
	i.host = w->host_hdr;
	i.protocol = w->subprotocol;
	i.local_protocol_name = WS_PROTOCOL_NAME;
	i.opaque_user_data = a;
	w->in_connect = true;
	wsi = lws_client_connect_via_info(&i);
	w->in_connect = false;
	if (wsi) {
		if (w->attempt)
			w->wsi = wsi;
		else
			/* destroyed already, inside the call */
			ws_conn_attempt_over(w);
		return;
	}
	/* Failed at once. A wsi lws is still closing reports WSI_DESTROY later: detach. */
	if (w->attempt) {
		w->attempt->w = NULL;
		w->attempt = NULL;
	}
	w->wsi = NULL;
	ws_conn_attempt_over(w);
}

static void ws_on_dns(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct ws_conn *w = req->data;

	w->refs--;
	w->dns_pending = false;
	if (w->state != CONN_RESOLVING || w->need_finish) {
		/* aborted meanwhile */
		uv_freeaddrinfo(res);
		ws_conn_unref(w);
		return;
	}
	if (status < 0) {
		ws_conn_set_close(w, WS_CLOSE_ABNORMAL, "cannot resolve %s: %s", w->host,
				  uv_strerror(status));
		uv_freeaddrinfo(res);
		ws_conn_finish(w);
		return;
	}
	w->naddrs = 0;
	for (struct addrinfo *ai = res; ai && w->naddrs < WS_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		memcpy(&w->addrs[w->naddrs], ai->ai_addr, ai->ai_addrlen);
		w->naddrs++;
	}
	uv_freeaddrinfo(res);
	if (!w->naddrs) {
		ws_conn_set_close(w, WS_CLOSE_ABNORMAL,
				  "cannot resolve %s: no IPv4 or IPv6 address", w->host);
		ws_conn_finish(w);
		return;
	}
	w->addr = 0;
	ws_conn_start(w);
}

/* Numeric hosts need no lookup; names go to libuv's thread pool. */
static void ws_conn_start_dns(struct ws_conn *w)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&w->addrs[0];
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&w->addrs[0];
	struct addrinfo hints;
	char port[8];
	int r;

	memset(&w->addrs[0], 0, sizeof(w->addrs[0]));
	if (inet_pton(AF_INET, w->host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)w->port);
	} else if (inet_pton(AF_INET6, w->host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)w->port);
	} else {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_ADDRCONFIG;
		snprintf(port, sizeof(port), "%d", w->port);
		w->dns.data = w;
		r = uv_getaddrinfo(w->c->loop, &w->dns, ws_on_dns, w->host, port, &hints);
		if (r == 0) {
			w->refs++;
			w->dns_pending = true;
			return;
		}
		ws_conn_set_close(w, WS_CLOSE_ABNORMAL, "cannot resolve %s: %s", w->host,
				  uv_strerror(r));
		ws_conn_finish_later(w);
		return;
	}
	w->naddrs = 1;
	w->addr = 0;
	w->need_start = true;
	ws_client_kick(w->c);
}

static void ws_on_deadline(uv_timer_t *t)
{
	struct ws_conn *w = t->data;
	char msg[160];

	if (w->state == CONN_CONNECTING && w->tcp_connected)
		snprintf(msg, sizeof(msg),
			 "timed out after %u ms waiting for the WebSocket upgrade",
			 w->connect_timeout_ms);
	else
		snprintf(msg, sizeof(msg), "timed out after %u ms connecting",
			 w->connect_timeout_ms);
	ws_conn_abort(w, WS_CLOSE_ABNORMAL, msg);
}

/* ==== the lws protocol ==== */

/*
 * Send our close frame and wait for the peer's (see lws_glue_send_close for
 * why by hand). Closing from a receive callback is not affected by the lws
 * quirk; ws_conn_receive uses lws_close_reason.
 */
static int ws_conn_send_close(struct ws_conn *w)
{
	w->close_queued = false;
	w->state = CONN_CLOSING;
	ws_conn_set_close(w, w->q_close_code, "%s", w->q_close_reason);
	/* The peer's close ends it (see LWS_CALLBACK_WS_PEER_INITIATED_CLOSE), or the timeout. */
	return lws_glue_send_close(w->wsi, w->q_close_code, w->q_close_reason,
				   WS_CLOSE_ACK_TIMEOUT_S);
}

/* One chunk of the head of the queue, or the close frame once it is empty. */
static int ws_conn_writeable(struct ws_conn *w)
{
	struct ws_msg *m = w->q_head;
	unsigned char *p = w->c->wbuf + LWS_PRE;
	size_t n;
	bool start, end;
	int flags;

	if (!m) {
		if (w->close_queued)
			return ws_conn_send_close(w);
		return 0;
	}
	n = m->len - m->off;
	if (n > WS_CHUNK)
		n = WS_CHUNK;
	start = m->off == 0;
	end = m->off + n == m->len;
	flags = lws_write_ws_flags(m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT, start, end);
	/* lws writes the frame header into the LWS_PRE bytes and masks in place. */
	memcpy(p, m->data + m->off, n);
	if (lws_write(w->wsi, p, n, (enum lws_write_protocol)flags) < (int)n) {
		ws_conn_set_close(w, WS_CLOSE_ABNORMAL, "write failed");
		return -1;
	}
	m->off += n;
	w->buffered -= n;
	if (end) {
		w->q_head = m->next;
		if (!w->q_head)
			w->q_tail = NULL;
		free(m);
	}
	if (w->q_head || w->close_queued)
		lws_callback_on_writable(w->wsi);
	return 0;
}

/* A piece of an incoming message. Returns 0, or -1 to close (reason set). */
static int ws_conn_receive(struct ws_conn *w, struct lws *wsi, const void *in, size_t len)
{
	if (w->state != CONN_OPEN || w->close_queued)
		return 0; /* closing: the rest is of no interest (as in a browser) */
	if (!w->rx_active) {
		w->rx_active = true;
		w->rx_binary = lws_frame_is_binary(wsi);
		buf_reset(&w->rx);
		if (w->rx_binary && !w->cb.on_binary) {
			static const char why[] = "binary messages are not supported";

			ws_conn_set_close(w, WS_CLOSE_UNSUPPORTED, "%s", why);
			w->state = CONN_CLOSING;
			lws_close_reason(wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
					 (unsigned char *)why, sizeof(why) - 1);
			return -1;
		}
	}
	if (buf_append(&w->rx, in, len) < 0) {
		char why[64];

		snprintf(why, sizeof(why), "message too big (limit %zu bytes)", w->max_message);
		ws_conn_set_close(w, WS_CLOSE_TOO_BIG, "%s", why);
		w->state = CONN_CLOSING;
		lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)why,
				 strlen(why));
		return -1;
	}
	if (!lws_is_final_fragment(wsi))
		return 0;
	w->rx_active = false;
	if (w->rx_binary)
		w->cb.on_binary(w, w->rx.p, w->rx.len, w->cb.arg);
	else if (w->cb.on_text)
		w->cb.on_text(w, w->rx.p, w->rx.len, w->cb.arg);
	/* The callback may have closed; the record lives on until WSI_DESTROY either way. */
	if (w->rx.cap > WS_RX_KEEP)
		buf_release(&w->rx);
	else
		buf_reset(&w->rx);
	return 0;
}

static int ws_lws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			   size_t len)
{
	struct ws_attempt *a = lws_get_opaque_user_data(wsi);
	struct ws_client *c;
	struct ws_conn *w;

	/* lws's own wsi (event pipe, vhost) carry no attempt. */
	if (!a)
		return 0;
	w = a->w;
	if (reason == LWS_CALLBACK_WSI_DESTROY) {
		lws_set_opaque_user_data(wsi, NULL);
		c = lws_context_user(lws_get_context(wsi));
		if (a->prev)
			a->prev->next = a->next;
		else
			c->attempts = a->next;
		if (a->next)
			a->next->prev = a->prev;
		free(a);
		if (!w)
			return 0; /* its connection moved on */
		w->attempt = NULL;
		w->wsi = NULL;
		if (!w->in_connect)
			ws_conn_attempt_over(w);
		return 0;
	}
	if (!w)
		return reason == LWS_CALLBACK_CLIENT_WRITEABLE ? -1 : 0;
	w->wsi = wsi;

	switch (reason) {
	case LWS_CALLBACK_WSI_CREATE:
		/* lws calls this for a client once its TCP connect has completed. */
		w->tcp_connected = true;
		return 0;

	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
		char **p = in;

		w->tcp_connected = true;
		if (w->hdrs_len > len)
			return -1;
		memcpy(*p, w->hdrs, w->hdrs_len);
		*p += w->hdrs_len;
		return 0;
	}

	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		snprintf(w->cce, sizeof(w->cce), "%.*s", in ? (int)strnlen(in, len) : 0,
			 in ? (const char *)in : "");
		w->http_status = lws_http_client_http_response(wsi);
		log_debug(SUBSYS, "%s: connection error: %s (HTTP %u)", w->url,
			  w->cce[0] ? w->cce : "?", w->http_status);
		return 0;

	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (w->state != CONN_CONNECTING)
			return -1;
		w->state = CONN_OPEN;
		uv_timer_stop(&w->deadline);
		log_debug(SUBSYS, "%s: open", w->url);
		if (w->cb.on_open)
			w->cb.on_open(w, w->cb.arg);
		return 0;

	case LWS_CALLBACK_CLIENT_RECEIVE:
		return ws_conn_receive(w, wsi, in, len);

	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (w->state != CONN_OPEN)
			return 0;
		return ws_conn_writeable(w);

	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
		const unsigned char *p = in;

		/* The answer to a close we sent (ws_conn_send_close): done, no echo. */
		if (w->state == CONN_CLOSING)
			return -1;

		if (len >= 2)
			ws_conn_set_close(w, (p[0] << 8) | p[1], "%.*s",
					  (int)(len - 2 > WS_MAX_CLOSE_REASON ? WS_MAX_CLOSE_REASON
									      : len - 2),
					  (const char *)p + 2);
		else
			ws_conn_set_close(w, WS_CLOSE_NO_STATUS, "%s", "");
		w->state = CONN_CLOSING;
		/* lws answers with the same close frame and then drops the connection. */
		return 0;
	}

	default:
		return 0;
	}
}

/* ==== the client ==== */

static void ws_client_destroy_ctx(struct ws_client *c);

static void ws_on_kick(uv_timer_t *t)
{
	struct ws_client *c = t->data;
	struct ws_conn *w, *next;

	for (w = c->conns; w; w = next) {
		next = w->next;
		if (w->need_finish) {
			w->need_finish = false;
			ws_conn_finish(w);
		} else if (w->need_start && w->state != CONN_DONE) {
			w->need_start = false;
			if (c->stopping) {
				ws_conn_set_close(w, WS_CLOSE_GOING_AWAY, "client stopping");
				ws_conn_finish(w);
			} else {
				ws_conn_start(w);
			}
		}
	}
	/* Connections finished above may have been freed, which re-kicks: check again. */
	if (c->stopping && !c->conns && !c->destroyed)
		ws_client_destroy_ctx(c);
}

static void ws_client_kick(struct ws_client *c)
{
	if (c->timers_open)
		uv_timer_start(&c->kick, ws_on_kick, 0, 0);
}

static void ws_on_stop_timer(uv_timer_t *t)
{
	struct ws_client *c = t->data;

	if (c->conns)
		log_debug(SUBSYS, "closing connections still open after the stop grace period");
	ws_client_destroy_ctx(c);
}

/* First step of the lws shutdown; then the caller's done(). */
static void ws_client_destroy_ctx(struct ws_client *c)
{
	if (c->destroyed)
		return;
	c->destroyed = true;
	/* lws closes any wsi left (their WSI_DESTROY finish the connections) and its handles. */
	lws_context_destroy(c->ctx);
	if (c->timers_open) {
		c->timers_open = false;
		uv_close((uv_handle_t *)&c->kick, NULL);
		uv_close((uv_handle_t *)&c->stop_timer, NULL);
	}
	if (c->done)
		c->done(c->done_arg);
}

struct ws_client *ws_client_new(uv_loop_t *loop, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	struct ws_client *c = xcalloc(1, sizeof(*c));
	void *foreign_loops[1] = { loop };

	c->loop = loop;
	c->protocols[0].name = WS_PROTOCOL_NAME;
	c->protocols[0].callback = ws_lws_callback;
	c->protocols[0].per_session_data_size = 0;
	c->protocols[0].rx_buffer_size = WS_RX_BUFFER;
	c->protocols[0].tx_packet_size = WS_CHUNK;
	/* protocols[1] stays zeroed: the terminator. */

	lws_glue_log_init();
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8;
	info.foreign_loops = foreign_loops;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = c->protocols;
	info.timeout_secs = WS_LWS_TIMEOUT_S;
	info.connect_timeout_secs = WS_LWS_TIMEOUT_S;
	info.user = c;
	info.pcontext = &c->ctx;
	/*
	 * No LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT: plain ws needs no TLS, and
	 * the CA bundle load it implies is paid only by a future wss context.
	 */
	c->ctx = lws_create_context(&info);
	if (!c->ctx) {
		snprintf(err, errlen,
			 "cannot start libwebsockets on libuv (is libwebsockets-evlib-uv "
			 "installed?)");
		/* As in http_server.c: a half-made context is not freed (its handles may be closing). */
		free(c);
		return NULL;
	}
	c->wbuf = xmalloc(LWS_PRE + WS_CHUNK);
	uv_timer_init(loop, &c->kick);
	uv_timer_init(loop, &c->stop_timer);
	c->kick.data = c->stop_timer.data = c;
	c->timers_open = true;
	return c;
}

void ws_client_stop(struct ws_client *c, void (*done)(void *arg), void *arg)
{
	if (c->stopping)
		return;
	c->stopping = true;
	c->done = done;
	c->done_arg = arg;
	for (struct ws_conn *w = c->conns; w; w = w->next)
		if (w->state != CONN_DONE)
			ws_conn_abort(w, WS_CLOSE_GOING_AWAY, "client stopping");
	uv_timer_start(&c->stop_timer, ws_on_stop_timer, WS_STOP_GRACE_MS, 0);
	ws_client_kick(c);
}

void ws_client_free(struct ws_client *c)
{
	if (!c)
		return;
	if (!c->destroyed)
		BUG("ws_client_free before ws_client_stop completed");
	/* Third step: lws's handles have closed by now, so the context can go. */
	if (c->ctx)
		lws_context_destroy(c->ctx);
	if (c->ctx)
		log_warn(SUBSYS, "libwebsockets context not fully destroyed; leaking it");
	/* Attempts lws never reported destroyed (failed connects on out-of-memory paths). */
	while (c->attempts) {
		struct ws_attempt *a = c->attempts;

		c->attempts = a->next;
		free(a);
	}
	if (c->conns)
		log_warn(SUBSYS, "connections left at ws_client_free; leaking them");
	free(c->wbuf);
	free(c);
}

/* ==== connections ==== */

struct ws_conn *ws_conn_open(struct ws_client *c, const struct ws_conn_opts *o, char *err,
			     size_t errlen)
{
	struct ws_conn *w;

	if (c->stopping) {
		snprintf(err, errlen, "WebSocket client is stopping");
		return NULL;
	}
	if (!o->url) {
		snprintf(err, errlen, "no URL");
		return NULL;
	}
	w = xcalloc(1, sizeof(*w));
	w->c = c;
	w->state = CONN_RESOLVING;
	if (ws_url_parse(w, o->url, err, errlen) < 0 || ws_url_usable(w, o->url, err, errlen) < 0 ||
	    ws_headers_build(w, o->headers, err, errlen) < 0) {
		free(w->url);
		free(w->host);
		free(w->host_hdr);
		free(w->path);
		free(w->hdrs);
		free(w);
		return NULL;
	}
	if (o->subprotocol)
		w->subprotocol = xstrdup(o->subprotocol);
	w->max_message = o->max_message ? o->max_message : WS_DEFAULT_MAX_MESSAGE;
	w->max_buffered = o->max_buffered ? o->max_buffered : WS_DEFAULT_MAX_BUFFERED;
	w->connect_timeout_ms =
		o->connect_timeout_ms ? o->connect_timeout_ms : WS_DEFAULT_CONNECT_TIMEOUT;
	w->cb.on_open = o->on_open;
	w->cb.on_text = o->on_text;
	w->cb.on_binary = o->on_binary;
	w->cb.on_close = o->on_close;
	w->cb.arg = o->arg;
	buf_init(&w->rx, w->max_message);

	w->next = c->conns;
	if (c->conns)
		c->conns->prev = w;
	c->conns = w;

	uv_timer_init(c->loop, &w->deadline);
	w->deadline.data = w;
	w->refs++;
	uv_timer_start(&w->deadline, ws_on_deadline, w->connect_timeout_ms, 0);
	ws_conn_start_dns(w);
	return w;
}

int ws_url_check(const char *url, char *err, size_t errlen)
{
	struct ws_conn w = { 0 };
	int r = ws_url_parse(&w, url, err, errlen);

	if (r == 0)
		r = ws_url_usable(&w, url, err, errlen);

	free(w.url);
	free(w.host);
	free(w.host_hdr);
	free(w.path);
	return r;
}

static int ws_conn_send(struct ws_conn *w, const void *data, size_t len, bool binary)
{
	struct ws_msg *m;

	if (w->state == CONN_RESOLVING || w->state == CONN_CONNECTING || w->state == CONN_PROBING) {
		errno = ENOTCONN;
		return -1;
	}
	if (w->state != CONN_OPEN || w->close_queued) {
		errno = EPIPE;
		return -1;
	}
	if (len > w->max_buffered - w->buffered) {
		errno = ENOBUFS;
		return -1;
	}
	m = xmalloc(sizeof(*m) + len);
	m->next = NULL;
	m->len = len;
	m->off = 0;
	m->binary = binary;
	memcpy(m->data, data, len);
	if (w->q_tail)
		w->q_tail->next = m;
	else
		w->q_head = m;
	w->q_tail = m;
	w->buffered += len;
	lws_callback_on_writable(w->wsi);
	return 0;
}

int ws_conn_send_text(struct ws_conn *w, const char *data, size_t len)
{
	return ws_conn_send(w, data, len, false);
}

int ws_conn_send_binary(struct ws_conn *w, const void *data, size_t len)
{
	return ws_conn_send(w, data, len, true);
}

size_t ws_conn_buffered(const struct ws_conn *w)
{
	return w->buffered;
}

/* Codes an endpoint may send (RFC 6455 7.4): 1000-1003, 1007-1011, 3000-4999. */
static bool ws_close_code_sendable(int code)
{
	return (code >= 1000 && code <= 1011 && (code < 1004 || code > 1006)) ||
	       (code >= 3000 && code <= 4999);
}

void ws_conn_close(struct ws_conn *w, int code, const char *reason)
{
	char r[WS_MAX_CLOSE_REASON + 1];
	size_t n = reason ? strlen(reason) : 0;

	if (w->close_queued || w->state == CONN_CLOSING || w->state == CONN_DONE)
		return;
	if (!ws_close_code_sendable(code))
		code = WS_CLOSE_NORMAL;
	/* Cut to what fits in a close frame, on a UTF-8 character boundary. */
	if (n > WS_MAX_CLOSE_REASON) {
		n = WS_MAX_CLOSE_REASON;
		while (n > 0 && ((unsigned char)reason[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(r, reason ? reason : "", n);
	r[n] = '\0';
	ws_conn_abort(w, code, r);
}

const char *ws_conn_url(const struct ws_conn *w)
{
	return w->url;
}
