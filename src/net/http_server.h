/*
 * http_server.h - the gateway's HTTP server: libwebsockets on the process's
 * libuv loop, behind a table of routes.
 *
 * This is the only module that sees libwebsockets on the serving side. The
 * rest of the tree declares routes and writes handlers against the small
 * request/response structs below; no lws type or callback leaks out.
 *
 *	static void health(const struct http_request *req, struct http_response *res, void *arg)
 *	{
 *		http_response_json(res, 200, json_pack("{s:b}", "ok", 1));
 *	}
 *	static const struct http_route routes[] = {
 *		{ "GET", "/health", health, 0 },
 *		{ NULL },
 *	};
 *	struct http_server_opts o = { .host = "127.0.0.1", .port = 0, .routes = routes };
 *	struct http_server *s = http_server_new(loop, &o, err, sizeof(err));
 *	... uv_run(loop) ...
 *	http_server_stop(s, 5000, on_stopped, arg);   // on_stopped closes the caller's handles
 *	... uv_run(loop) returns once every handle is closed ...
 *	http_server_free(s);
 *
 * Behaviour every route gets for free:
 *  - an unknown path is 404 {"error":{"message":"not found"}}; a known path
 *    with another method is 405 with an Allow header; a request body larger
 *    than the route's cap is 413 (decided from Content-Length, before any of
 *    the body is stored); GET routes also answer HEAD.
 *  - every response carries X-Content-Type-Options: nosniff,
 *    X-Frame-Options: DENY, Referrer-Policy: no-referrer and
 *    Permissions-Policy; text/html responses also get
 *    Content-Security-Policy: default-src 'self'; frame-ancestors 'none',
 *    unless the handler set a Content-Security-Policy of its own.
 *  - WebSocket upgrades go to the server's http_ws_handler (below), which
 *    may refuse them; without one they get a 404. An h2c upgrade is
 *    answered as plain HTTP/1.1.
 *
 * The server owns its listening socket (not lws): it binds before lws is
 * even created, so "port in use" is a clean EADDRINUSE, and a stop can close
 * the listener at once while in-flight responses finish. Accepted sockets
 * are handed to lws, which parses HTTP and writes responses.
 *
 * Everything here runs on the loop's thread; nothing is thread-safe.
 */
#ifndef PINCER_NET_HTTP_SERVER_H
#define PINCER_NET_HTTP_SERVER_H

#include <stdbool.h>
#include <jansson.h>
#include <stddef.h>
#include <uv.h>

#include "core/buf.h"
#include "core/mem.h"

/* Default cap on a request body when neither the route nor the server sets one. */
#define HTTP_DEFAULT_MAX_BODY       (1u << 20)
/* Hard ceiling on a response body built by a handler. */
#define HTTP_MAX_RESPONSE_BODY      (64u << 20)
/* Extra headers a handler may add, and their total size. */
#define HTTP_MAX_EXTRA_HEADERS      16
#define HTTP_MAX_EXTRA_HEADER_BYTES 2048

struct http_conn;

/*
 * One request, as a handler sees it. Everything it points to is owned by
 * the server and valid only until the handler returns.
 */
struct http_request {
	const char *method; /* "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" */
	const char *path;   /* url-decoded and normalised by lws; starts with '/' */
	/*
	 * The query arguments, each url-decoded, joined with '&' ("" when none).
	 * Decoding makes this ambiguous when a value holds '&' or '=': use it
	 * for logs, and http_request_arg() to read a value.
	 */
	const char *query;
	const char *body; /* NUL-terminated; NULL when the request had no body */
	size_t body_len;
	const char *peer;       /* the client's address, "127.0.0.1" or "::1" */
	bool peer_loopback;     /* connected over loopback (no proxy headers are consulted) */
	struct http_conn *conn; /* private to the server */
};

/*
 * A request header's value (a repeated header's values joined with ','), or
 * NULL when absent or empty. The name is case-insensitive. The string is valid
 * until the handler returns.
 */
const char *http_request_header(const struct http_request *req, const char *name);

/* The url-decoded value of query argument `name`, or NULL. Valid until the handler returns. */
const char *http_request_arg(const struct http_request *req, const char *name);

/*
 * What a handler fills in. The server initialises it to 200, no content
 * type, no extra headers and an empty body (capped at HTTP_MAX_RESPONSE_BODY).
 */
struct http_response {
	int status;
	const char *content_type; /* static string, or NULL for none */
	struct buf body;
	/* private: extra headers added with http_response_header() */
	size_t nheaders;
	char *headers[HTTP_MAX_EXTRA_HEADERS][2];
	size_t header_bytes;
};

/*
 * Add a header to the response ("Cache-Control", "no-store"). Returns 0, or
 * -1 (and adds nothing) when the name is not a token, the value holds a
 * control character, or the limits above would be passed.
 */
int http_response_header(struct http_response *res, const char *name, const char *value);

/*
 * Status, "application/json; charset=utf-8" and `v` serialised compactly as
 * the body. Steals the reference to `v` (so json_pack() can be passed in).
 */
void http_response_json(struct http_response *res, int status, json_t *v);
/* Status and {"error":{"message":<message>}}. */
void http_response_error(struct http_response *res, int status, const char *message);

typedef void (*http_handler_fn)(const struct http_request *req, struct http_response *res,
				void *arg);

/*
 * Answer later. A handler that cannot answer before it returns (a tool that
 * runs a child process, an upstream fetch) calls this, copies what it needs
 * from `req` (which dies when the handler returns), and later fills
 * http_deferred_response() and calls http_deferred_send() exactly once.
 * When the client has gone meanwhile, http_deferred_response() is NULL and
 * http_deferred_send() only frees the handle.
 */
struct http_deferred;
struct http_deferred *http_response_defer(const struct http_request *req);
struct http_response *http_deferred_response(struct http_deferred *d);
void http_deferred_send(struct http_deferred *d);

struct http_route {
	const char *method; /* "GET" also answers "HEAD" (the body is dropped) */
	/*
	 * Matched exactly against the request path; a path ending in a slash
	 * and a star ("/" "*", "/ui/" "*") is a prefix route, tried in table
	 * order once no exact route matched, and matches every path that
	 * starts with what comes before the star.
	 */
	const char *path;
	http_handler_fn handler;
	size_t max_body; /* request body cap for this route; 0: the server's */
};

/* ==== WebSocket ==== */

/*
 * An upgraded connection, as the ws handler sees it. The handle is valid
 * from open() until closed() returns; never use it after that.
 */
struct http_ws;

/*
 * What a server does with WebSocket upgrades. Text and binary messages are
 * reassembled from their fragments before delivery; a message over the
 * connection's cap closes it with 1009. Outgoing messages are queued and
 * written in fragments as the socket drains; a connection whose queue would
 * pass max_buffered is a slow consumer and is dropped at once (its memory
 * must not grow without bound).
 */
struct http_ws_handler {
	/*
	 * An upgrade request arrived (headers readable with
	 * http_request_header). Return 0 and set *conn_arg to accept it, or an
	 * HTTP status (403, 404, 429, 503) and optionally *msg (static) to
	 * refuse it with a JSON error body.
	 */
	int (*accept)(const struct http_request *req, void *arg, void **conn_arg, const char **msg);
	/* The upgrade completed. */
	void (*open)(struct http_ws *ws, void *conn_arg);
	/* One whole message; `data` is NUL-terminated and valid until this returns. */
	void (*message)(struct http_ws *ws, void *conn_arg, const char *data, size_t len,
			bool binary);
	/*
	 * The connection is gone (closed by either side, dropped, or the server
	 * stopped). `code` is the peer's close code, or 1006 when none was
	 * received. Called exactly once per accepted connection, also when
	 * the upgrade failed after accept() (then open() was never called).
	 */
	void (*closed)(struct http_ws *ws, void *conn_arg, int code);
	size_t max_message;  /* initial incoming message cap; 0: 64 KiB */
	size_t max_buffered; /* outgoing queue cap per connection; 0: 50 MiB */
};

/*
 * Queue one text message (copied). Returns 0, or -1 when the connection is
 * closing or this message would pass max_buffered (the connection is then
 * dropped as a slow consumer).
 */
int http_ws_send(struct http_ws *ws, const char *data, size_t len);

/*
 * Close with `code` and `reason` (cut to the protocol's 123 bytes at a
 * UTF-8 character boundary)
 * once the messages already queued have gone out. A client that does not
 * take them within a few seconds is dropped. Idempotent.
 */
void http_ws_close(struct http_ws *ws, int code, const char *reason);

/* Change the cap on incoming messages (raised once a client has authenticated). */
void http_ws_set_max_message(struct http_ws *ws, size_t max);

/* Bytes queued and not yet written. */
size_t http_ws_buffered(const struct http_ws *ws);

/* The client's address, and whether it came over loopback. */
const char *http_ws_peer(const struct http_ws *ws);
bool http_ws_loopback(const struct http_ws *ws);

/* ==== test seam: a WebSocket without a socket ==== */

/*
 * For unit tests and fuzzers only, never for serving: drive a ws handler
 * in-process through the same accept/open/message/closed calls (and the
 * same message cap and closing rules) as the server, with no socket, lws
 * or loop behind the handle.
 *
 * The upgrade request is GET / from `peer`, without headers
 * (http_request_header returns NULL). What the handler sends reaches
 * `send` at once, so nothing is ever queued and no client is ever slow;
 * its http_ws_close reaches `close` once, after which messages are
 * dropped as the server drops them. Text is not checked for UTF-8 (lws
 * does that on a socket), so a handler here sees a superset of what a
 * real client can deliver.
 */
struct http_ws_detached {
	const char *peer; /* "127.0.0.1" when NULL */
	bool loopback;
	void (*send)(void *arg, const char *data, size_t len);  /* NULL: discard */
	void (*close)(void *arg, int code, const char *reason); /* NULL: ignore */
	void *arg;
};

/*
 * Offer the upgrade to `h->accept` (with `handler_arg` as the server's arg),
 * then call `h->open`. Returns the handle, or NULL when accept refused it
 * (its HTTP status in *status, when `status` is not NULL).
 */
struct http_ws *http_ws_detached_open(const struct http_ws_handler *h, void *handler_arg,
				      const struct http_ws_detached *o, int *status);

/* One whole incoming message, as if it had arrived on a socket. */
void http_ws_detached_message(struct http_ws *ws, const char *data, size_t len, bool binary);

/* The peer is gone with close `code`: call `h->closed` (once), then free the handle. */
void http_ws_detached_free(struct http_ws *ws, int code);

struct http_server_opts {
	/*
	 * Numeric IPv4 or IPv6 address to listen on ("127.0.0.1", "0.0.0.0",
	 * "::1"); "localhost" means 127.0.0.1.
	 */
	const char *host;
	int port;                         /* 0: let the kernel pick (see http_server_port) */
	const struct http_route *routes;  /* {NULL}-terminated; borrowed for the server's life */
	void *arg;                        /* passed to every handler */
	size_t max_body;                  /* default request body cap; 0: HTTP_DEFAULT_MAX_BODY */
	const struct http_ws_handler *ws; /* NULL: WebSocket upgrades get a 404 */
};

/*
 * Bind, listen and start serving on `loop`. Returns the server, or NULL
 * with a one-line reason in `err` and errno set (EADDRINUSE when the port is
 * taken, EADDRNOTAVAIL / EINVAL for a bad host, EACCES for a privileged
 * port). Nothing is left on the loop after a failure.
 */
struct http_server *http_server_new(uv_loop_t *loop, const struct http_server_opts *o, char *err,
				    size_t errlen);

/* The port actually bound (the kernel's choice when opts.port was 0). */
int http_server_port(const struct http_server *s);

/* Connections currently open (accepted and not yet closed). */
unsigned http_server_connections(const struct http_server *s);

/*
 * Stop gracefully: close the listener now (new connections are refused),
 * close idle keep-alive connections and WebSockets (1001, after their
 * queued messages), and let requests in progress finish
 * (their connections close after the response). After `grace_ms`, or as
 * soon as no connection is left, lws is told to shut down and `done(arg)`
 * is called on the loop; it should close the caller's own handles. lws
 * then closes its libuv handles asynchronously, so the loop must be run
 * until it has no active handles before http_server_free(). Calling stop
 * twice is harmless (the second call is ignored).
 */
void http_server_stop(struct http_server *s, unsigned grace_ms, void (*done)(void *arg), void *arg);

/*
 * Free a stopped server: finish destroying the lws context and release
 * everything. Precondition: http_server_stop() was called, its `done` ran,
 * and the loop has since run out of handles (uv_run returned).
 */
void http_server_free(struct http_server *s);

#endif
