/*
 * ws_client.h - outbound WebSocket connections: libwebsockets on the
 * process's libuv loop, behind a small callback API.
 *
 * This is the only module that sees libwebsockets on the client side (as
 * http_server.c is on the serving side). The gateway protocol client, and
 * later the Discord, Slack and Chromium DevTools clients, use it without
 * ever seeing an lws type or callback.
 *
 *	static void on_text(struct ws_conn *w, const char *data, size_t len, void *arg) { ... }
 *	static void on_close(struct ws_conn *w, int code, const char *reason, void *arg)
 *	{
 *		... w is gone after this returns ...
 *		ws_client_stop(client, NULL, NULL);
 *	}
 *
 *	struct ws_client *client = ws_client_new(loop, err, sizeof(err));
 *	struct ws_conn_opts o = { .url = "ws://127.0.0.1:18789/", .on_open = on_open,
 *				  .on_text = on_text, .on_close = on_close, .arg = me };
 *	struct ws_conn *w = ws_conn_open(client, &o, err, sizeof(err));
 *	... uv_run(loop) returns once the client is stopped and its handles closed ...
 *	ws_client_free(client);
 *
 * Guarantees every connection gets:
 *  - on_close is called exactly once for every connection ws_conn_open
 *    returned, whatever happens: a failed name lookup, a refused or
 *    timed-out connect, a refused upgrade, a close from either side, a
 *    lost connection, ws_client_stop. Its reason says what happened in
 *    words ("connection refused", "server answered HTTP 404 instead of
 *    upgrading to WebSocket").
 *  - No callback ever runs inside ws_conn_open, ws_conn_send_text or
 *    ws_conn_close; they only run from the loop.
 *  - Incoming fragmented messages are reassembled and delivered whole; a
 *    message over max_message closes the connection with 1009, text that
 *    is not UTF-8 with 1007, a binary message when on_binary is NULL with
 *    1003.
 *  - Outgoing messages are queued and written as the socket allows, in
 *    order, large ones as a series of fragments; the queue has a hard cap.
 *  - Pings are answered by lws; no pings are sent.
 *
 * Host names are resolved with uv_getaddrinfo (on libuv's thread pool),
 * not by lws, whose Debian build resolves synchronously and would block the
 * loop; each address is tried in turn.
 *
 * Only ws:// is supported for now. wss:// will get its own lws context,
 * created on the first wss connection, because lws's TLS set-up loads the
 * CA bundle (~20 ms, ~2 MB) and plain ws must not pay for it.
 *
 * Everything here runs on the loop's thread; nothing is thread-safe.
 */
#ifndef PINCER_NET_WS_CLIENT_H
#define PINCER_NET_WS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

/* Defaults for the zero values in struct ws_conn_opts. */
#define WS_DEFAULT_MAX_MESSAGE     (16u << 20)
#define WS_DEFAULT_MAX_BUFFERED    (16u << 20)
#define WS_DEFAULT_CONNECT_TIMEOUT 15000 /* ms, from ws_conn_open to on_open */
/* Limits on ws_conn_opts.headers: count and total bytes. */
#define WS_MAX_EXTRA_HEADERS       16
#define WS_MAX_EXTRA_HEADER_BYTES  2048
/* A close reason is at most this many bytes on the wire (RFC 6455 5.5: 125 - 2). */
#define WS_MAX_CLOSE_REASON        123

/*
 * Close codes on_close may report besides the peer's own. 1006 is never
 * sent on the wire: it means the connection ended without a close frame,
 * or never opened.
 */
#define WS_CLOSE_NORMAL         1000
#define WS_CLOSE_GOING_AWAY     1001
#define WS_CLOSE_PROTOCOL_ERROR 1002
#define WS_CLOSE_UNSUPPORTED    1003
#define WS_CLOSE_NO_STATUS      1005
#define WS_CLOSE_ABNORMAL       1006
#define WS_CLOSE_INVALID_DATA   1007
#define WS_CLOSE_POLICY         1008
#define WS_CLOSE_TOO_BIG        1009

struct ws_client;
struct ws_conn;

struct ws_conn_opts {
	/*
	 * ws://host[:port][/path][?query]. host may be a name, an IPv4 address
	 * or a bracketed IPv6 address; the port defaults to 80. Credentials in
	 * the URL (user:pass@) are refused: pass them in a header. wss:// is
	 * recognised but refused for now (see the top of this file).
	 */
	const char *url;
	/*
	 * Extra request headers, "Name: value" each, NULL-terminated (or NULL
	 * for none): Origin, Authorization, User-Agent... Copied. A header
	 * with a CR or LF, or more than the limits above, is refused.
	 */
	const char *const *headers;
	const char *subprotocol;     /* Sec-WebSocket-Protocol to ask for, or NULL */
	size_t max_message;          /* largest incoming message; 0: default */
	size_t max_buffered;         /* cap on queued outgoing bytes; 0: default */
	unsigned connect_timeout_ms; /* name lookup + TCP + upgrade; 0: default */

	/* The upgrade succeeded; sending is possible from now on. May be NULL. */
	void (*on_open)(struct ws_conn *w, void *arg);
	/* One whole text message (UTF-8, not NUL-terminated). Borrowed until return. */
	void (*on_text)(struct ws_conn *w, const char *data, size_t len, void *arg);
	/* One whole binary message; NULL: binary messages close the connection (1003). */
	void (*on_binary)(struct ws_conn *w, const void *data, size_t len, void *arg);
	/*
	 * The connection is over; `w` is freed when this returns. `code` is
	 * the peer's close code when it closed first (1005 when its close
	 * frame had none), the code given to ws_conn_close, the code this
	 * module closed with (1007, 1009, 1003), 1001 after ws_client_stop,
	 * or 1006 when there was no close handshake (connect failures
	 * included). `reason` is never NULL; it may be "".
	 */
	void (*on_close)(struct ws_conn *w, int code, const char *reason, void *arg);
	void *arg;
};

/*
 * A client context on `loop`, for any number of connections. Creating it
 * costs no network activity and no TLS set-up. Returns NULL with a reason
 * in `err` when libwebsockets cannot run on libuv (the evlib-uv plugin is
 * missing).
 */
struct ws_client *ws_client_new(uv_loop_t *loop, char *err, size_t errlen);

/*
 * Close every connection (each gets on_close with 1001 "client stopping"),
 * then shut lws down and call `done(arg)` (may be NULL) from the loop. New
 * connections are refused from the moment this is called. lws closes its
 * libuv handles asynchronously: the loop must run until they are closed
 * before ws_client_free (for a CLI: until uv_run returns). Calling it
 * again is harmless. Safe inside any callback of this module.
 */
void ws_client_stop(struct ws_client *c, void (*done)(void *arg), void *arg);

/*
 * Free a stopped client. Precondition: ws_client_stop was called, its
 * `done` ran, and the loop has since run out of the client's handles.
 * NULL is ignored.
 */
void ws_client_free(struct ws_client *c);

/*
 * Start connecting. Returns the connection, which stays valid until its
 * on_close returns; or NULL with a one-line reason in `err` when the
 * options are unusable (bad URL, wss://, bad header) or the client is
 * stopping. No callback runs before this returns.
 */
struct ws_conn *ws_conn_open(struct ws_client *c, const struct ws_conn_opts *o, char *err,
			     size_t errlen);

/* Check `url` as ws_conn_open would. Returns 0, or -1 with a one-line reason in `err`. */
int ws_url_check(const char *url, char *err, size_t errlen);

/*
 * Queue a text message (the bytes must be UTF-8; they are copied). Returns
 * 0, or -1 with errno: ENOTCONN before on_open, EPIPE once closing, or
 * ENOBUFS when the queue would pass max_buffered (nothing is queued; the
 * connection stays open and the caller decides).
 */
int ws_conn_send_text(struct ws_conn *w, const char *data, size_t len);
/* The same for a binary message. */
int ws_conn_send_binary(struct ws_conn *w, const void *data, size_t len);

/* Bytes queued and not yet handed to the socket. */
size_t ws_conn_buffered(const struct ws_conn *w);

/*
 * Close: once the queued messages are written, send a close frame with
 * `code` (1000, or 3000-4999) and `reason` (cut to WS_MAX_CLOSE_REASON
 * bytes; may be NULL) and wait for the peer's. Before the connection is
 * open, the attempt is abandoned instead. on_close follows (from the loop)
 * with this code and reason. Calling it again, or after the peer started
 * closing, changes nothing.
 */
void ws_conn_close(struct ws_conn *w, int code, const char *reason);

/* "ws://host:port/path" of the connection, for messages. */
const char *ws_conn_url(const struct ws_conn *w);

#endif
