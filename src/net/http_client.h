/*
 * http_client.h - outbound HTTP(S) on the gateway's libuv loop: libcurl's
 * multi interface driven by curl_multi_socket_action, so a provider stream,
 * a bot API long poll and a web fetch all share the one thread and never
 * block it.
 *
 * A transfer reports, in order: on_response once (status and headers are
 * known), on_data for each chunk of the body as it arrives, then on_done
 * exactly once. After on_done returns the transfer is freed. A transfer
 * cancelled with http_xfer_cancel reports nothing more, and cancelling is
 * allowed from inside any of its own callbacks.
 *
 *	static const struct http_callbacks cb = { on_response, on_data, on_done };
 *	struct http_request rq = { .url = url, .body = json, .body_len = n,
 *				   .headers = (const char *[]){ "Content-Type: application/json", NULL },
 *				   .idle_timeout_ms = 60000 };
 *	struct http_xfer *x = http_client_start(hc, &rq, &cb, me);
 */
#ifndef PINCER_NET_HTTP_CLIENT_H
#define PINCER_NET_HTTP_CLIENT_H

#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

struct http_client;
struct http_xfer;

/*
 * on_done results. An HTTP error status (404, 429, 500, ...) is HTTP_OK:
 * the transfer worked; read the status. Redirects are not followed.
 */
enum {
	HTTP_OK = 0,
	HTTP_E_CONNECT = -1,  /* could not resolve or connect (or TLS failed) */
	HTTP_E_TIMEOUT = -2,  /* total_timeout_ms passed */
	HTTP_E_STALLED = -3,  /* no byte for idle_timeout_ms */
	HTTP_E_TOO_BIG = -4,  /* the body passed max_response_bytes */
	HTTP_E_CALLBACK = -5, /* on_response or on_data asked to stop */
	HTTP_E_NETWORK = -6,  /* the connection broke (reset, truncated body, ...) */
	HTTP_E_SHUTDOWN = -7, /* http_client_free while in flight */
	HTTP_E_BLOCKED = -8,  /* the request's guard refused every address it was to connect to */
};

struct http_request {
	const char *method;         /* NULL: GET, or POST when a body is set */
	const char *url;            /* http:// or https:// only */
	const char *const *headers; /* "Name: value" strings, NULL-terminated; may be NULL */
	const void *body;           /* copied; may be NULL */
	size_t body_len;
	long connect_timeout_ms;   /* 0: 10 s */
	long idle_timeout_ms;      /* no bytes received for this long: HTTP_E_STALLED; 0: none */
	long total_timeout_ms;     /* 0: none */
	size_t max_response_bytes; /* 0: unlimited */
	/*
	 * Asked before each connection is opened, with the address curl is
	 * about to connect to (after DNS, for every address tried): nonzero
	 * refuses that address and puts the reason in `why`. When no address
	 * is left, on_done gets HTTP_E_BLOCKED with that reason. A guarded
	 * transfer always opens a fresh connection (a pooled one was checked
	 * under another rule, if at all), never keeps it, and ignores proxy
	 * environment variables (a proxy would do the resolving). NULL: none.
	 */
	int (*guard)(void *arg, const struct sockaddr *sa, char *why, size_t whylen);
	void *guard_arg;
	/* "host:port:address" pins (CURLOPT_RESOLVE), NULL-terminated; for tests. */
	const char *const *resolve;
};

struct http_callbacks {
	/*
	 * Status and headers are complete (those of the final response: not of
	 * a 100 Continue). Runs when its header block ends, before any body.
	 * May be NULL. Nonzero return stops the transfer (HTTP_E_CALLBACK).
	 */
	int (*on_response)(void *ud, struct http_xfer *x, long status);
	/* A chunk of the (decoded) body; may be NULL. Nonzero return stops the transfer. */
	int (*on_data)(void *ud, struct http_xfer *x, const char *data, size_t len);
	/* Exactly once: HTTP_OK or an HTTP_E_*; `errmsg` is a short reason (never NULL). */
	void (*on_done)(void *ud, struct http_xfer *x, int result, const char *errmsg);
};

/* One client per loop. Returns NULL only if curl cannot be initialised. */
struct http_client *http_client_new(uv_loop_t *loop);
/*
 * Finish every transfer still in flight with HTTP_E_SHUTDOWN, then free.
 * The loop must run once more for the closed handles to be released
 * (uv_run(loop, UV_RUN_NOWAIT) or the gateway's normal shutdown drain).
 * Called from inside a transfer's callback, the work waits until libcurl
 * has returned to the loop (moments later; no on_data runs meanwhile).
 */
void http_client_free(struct http_client *hc);

/*
 * Start a transfer. Never calls back before it returns. Returns NULL (and
 * calls nothing) only when the request is unusable (no URL, bad scheme,
 * no on_done) or the client is being freed; network errors always arrive
 * through on_done. May be called from inside any callback.
 */
struct http_xfer *http_client_start(struct http_client *hc, const struct http_request *rq,
				    const struct http_callbacks *cb, void *ud);

/* Stop now; no callback of this transfer runs after this call. A no-op inside its own on_done. */
void http_xfer_cancel(struct http_xfer *x);

/* A response header (case-insensitive name, last one wins), or NULL. Valid until on_done returns. */
const char *http_xfer_header(struct http_xfer *x, const char *name);
/* HTTP status, 0 before on_response. */
long http_xfer_status(const struct http_xfer *x);

/* Transfers in flight (for tests, health and bench). */
size_t http_client_active(const struct http_client *hc);

#endif
