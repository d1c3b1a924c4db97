/*
 * client.h - a client of the gateway WebSocket protocol (v4), as
 * OpenClaw's own CLI speaks it; and how a CLI command finds the gateway.
 *
 * A connection goes: WebSocket open -> the server's connect.challenge
 * event -> our `connect` request (protocol 4, client {id "cli", mode
 * "cli", ...}, role "operator", scopes, auth {token}|{password}) -> the
 * hello-ok response. Requests ({type:"req", id:"<n>:<uuid>", method,
 * params}) may be made at any time after gw_client_new; they are queued
 * until hello-ok and then sent in order, and each gets exactly one answer
 * through its callback: the `res` frame's payload, or an error. Events
 * after hello-ok go to on_event.
 *
 * Errors are JSON objects in the protocol's ErrorShape, {code, message,
 * details?}: the gateway's own when it answered with one (INVALID_REQUEST,
 * FORBIDDEN, ...; details.code says more, e.g. AUTH_TOKEN_MISMATCH), or
 * one made here with a code below when the gateway could not answer.
 *
 * Tokens and passwords are sent in the connect request only: never in the
 * URL, never in a log line.
 */
#ifndef PINCER_GATEWAY_CLIENT_H
#define PINCER_GATEWAY_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

#include "gateway/protocol.h"

#define GW_DEFAULT_PORT 18789

#define GW_DEFAULT_REQUEST_TIMEOUT_MS 30000
#define GW_DEFAULT_CONNECT_TIMEOUT_MS 15000 /* WebSocket open to hello-ok */
/*
 * The largest frame accepted from the gateway and the cap on what is queued
 * for it are the protocol's GW_MAX_PAYLOAD and GW_MAX_BUFFERED (OpenClaw's
 * policy.maxPayload and policy.maxBufferedBytes).
 */

/* Codes of errors made here (the gateway's own codes pass through unchanged). */
#define GW_ERR_UNAVAILABLE GW_E_UNAVAILABLE /* could not connect, or lost the connection */
#define GW_ERR_TIMEOUT     "TIMEOUT"        /* no answer in time */
#define GW_ERR_CLOSED      "CLOSED"         /* the connection closed before the answer */
#define GW_ERR_PROTOCOL    "PROTOCOL"       /* the gateway sent something unexpected */

struct gw_client;

/*
 * A request's answer: exactly one of `payload` (the res payload; JSON null
 * when it had none) and `error` (ErrorShape) is non-NULL. Both are
 * borrowed for the duration of the call.
 */
typedef void (*gw_result_fn)(struct gw_client *gc, const json_t *payload, const json_t *error,
			     void *arg);

struct gw_client_opts {
	const char *url;      /* ws://host:port[/path] */
	const char *token;    /* shared gateway token, or NULL */
	const char *password; /* gateway password, or NULL */
	/* Who we say we are; NULL for each means OpenClaw's CLI values. */
	const char *client_id;    /* "cli" */
	const char *client_mode;  /* "cli" */
	const char *display_name; /* none */
	const char *role;         /* "operator" */
	/* Requested scopes, NULL-terminated; NULL: {"operator.admin"}. */
	const char *const *scopes;
	unsigned connect_timeout_ms; /* 0: GW_DEFAULT_CONNECT_TIMEOUT_MS */

	/* hello-ok arrived (borrowed payload; also gw_client_hello()). May be NULL. */
	void (*on_ready)(struct gw_client *gc, const json_t *hello, void *arg);
	/* An event frame after hello-ok (borrowed payload, may be JSON null). May be NULL. */
	void (*on_event)(struct gw_client *gc, const char *event, const json_t *payload, void *arg);
	/*
	 * The connection is over; called exactly once, after every request
	 * got its answer. `error` is NULL after gw_client_close, else why the
	 * connection ended (the connect error the gateway gave, or one made
	 * here). The client may be freed once the loop has run out of its
	 * handles (see gw_client_free). May be NULL.
	 */
	void (*on_close)(struct gw_client *gc, const json_t *error, void *arg);
	void *arg;
};

/*
 * Start connecting on `loop`. Returns the client, or NULL with a reason in
 * `err` (bad URL, libwebsockets unavailable). No callback runs inside.
 */
struct gw_client *gw_client_new(uv_loop_t *loop, const struct gw_client_opts *o, char *err,
				size_t errlen);

/*
 * Send `method` with `params` (stolen; NULL: no params member) once
 * connected; `cb` gets the answer, or a TIMEOUT error after `timeout_ms`
 * (0: GW_DEFAULT_REQUEST_TIMEOUT_MS) counted from now. Returns 0, or -1
 * (and `cb` is not called) when the client is closing or closed.
 */
int gw_client_request(struct gw_client *gc, const char *method, json_t *params, unsigned timeout_ms,
		      gw_result_fn cb, void *arg);

/*
 * Close with code 1000. Requests still waiting are answered with a CLOSED
 * error; on_close follows (from the loop) with a NULL error. Harmless to
 * call again.
 */
void gw_client_close(struct gw_client *gc);

/* The hello-ok payload once connected, else NULL. Borrowed. */
const json_t *gw_client_hello(const struct gw_client *gc);

/*
 * Free the client. Precondition: on_close ran and the loop has since run
 * until the client's handles are closed (for a CLI: after uv_run
 * returned). Never from inside a callback. NULL is ignored.
 */
void gw_client_free(struct gw_client *gc);

/*
 * Least-privilege scopes for calling `method`, as OpenClaw's CLI asks for
 * them: "operator.read" for known read-only methods, "operator.write" for
 * known ones that act, else "operator.admin". A static NULL-terminated list.
 */
const char *const *gw_scopes_for_method(const char *method);

/* ==== one-shot calls (for CLI commands) ==== */

struct gw_client_call {
	const char *method;
	json_t *params;      /* borrowed; NULL: no params member */
	unsigned timeout_ms; /* 0: default */
	json_t *payload;     /* out: new reference on success */
	json_t *error;       /* out: new reference (ErrorShape) on failure */
};

/*
 * Connect with `o` on a private loop, send every call (pipelined, in
 * order), wait for all answers, close, and clean up: the whole life of a
 * CLI command's connection. The callbacks in `o` are ignored. Returns 0
 * when the gateway said hello-ok (each call may still have failed), or -1
 * when it did not, with the reason in *conn_error (a new ErrorShape, also
 * given to every call). *hello gets the hello-ok payload (new reference)
 * when not NULL and connected.
 */
int gw_client_call_sync(const struct gw_client_opts *o, struct gw_client_call *calls, size_t n,
			json_t **hello, json_t **conn_error);

/* ==== finding the gateway ==== */

/* What the running local gateway wrote to <state dir>/gateway.json. */
struct gw_runtime {
	bool present; /* the file exists and parsed */
	bool alive;   /* its pid is a live process */
	int pid;
	int port;
	char host[64]; /* the address it listens on */
	char version[32];
	long long started_at; /* ms since the epoch; 0: unknown */
};

/* Read <state_dir>/gateway.json. Never fails: `present` says whether it was usable. */
void gw_runtime_read(const char *state_dir, struct gw_runtime *rt);

struct config;
struct paths;

/* What the command line said (each NULL / -1 when not given). */
struct gw_target_opts {
	const char *url;
	const char *token;
	const char *password;
	long long port; /* -1: not given */
};

struct gw_target {
	char *url;
	const char *url_source;  /* "--url", "gateway.remote.url", "gateway.json", "--port", ... */
	bool local;              /* the local gateway (not --url or remote mode) */
	char *token, *password;  /* resolved credentials, or NULL; registered as log secrets */
	const char *auth_source; /* "--token", "PINCER_GATEWAY_TOKEN", "gateway.auth.token", ... */
	struct gw_runtime runtime; /* the local gateway's runtime file */
};

/*
 * Decide where to connect and with which credentials.
 *
 * URL, first that applies:
 *  1. --url;
 *  2. gateway.mode "remote": gateway.remote.url (an error if unset);
 *  3. the local gateway on 127.0.0.1 (or the address it binds, when that is
 *     not a wildcard), port: --port, else the port in <state>/gateway.json
 *     when its pid is alive, else $PINCER_GATEWAY_PORT,
 *     $OPENCLAW_GATEWAY_PORT, gateway.port, 18789.
 * Credentials, first that gives one (a token and a password found at the
 * same step are both sent):
 *  1. --token / --password;
 *  2. $PINCER_GATEWAY_TOKEN, $OPENCLAW_GATEWAY_TOKEN, $PINCER_GATEWAY_PASSWORD,
 *     $OPENCLAW_GATEWAY_PASSWORD;
 *  3. remote mode: gateway.remote.token / gateway.remote.password; local:
 *     gateway.auth.token / gateway.auth.password (SecretRefs resolved).
 *     With --url, the local gateway's own credentials are only sent when
 *     the URL's host is a loopback address: they are not handed to a host
 *     elsewhere just because it was named on the command line.
 * Returns 0, or -1 with a one-line reason in `err`.
 */
int gw_target_resolve(struct gw_target *t, const struct config *cfg, const struct paths *paths,
		      const struct gw_target_opts *o, char *err, size_t errlen);
void gw_target_release(struct gw_target *t);

#endif
