/*
 * client.c - the gateway protocol client and gateway discovery; see client.h.
 */
#include "gateway/client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "config/config.h"
#include "config/paths.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/id.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "net/ws_client.h"

#define SUBSYS "gw-client"

/* After the gateway refused our connect, how long it gets to close the connection itself. */
#define GW_REFUSED_GRACE_MS   1000
/* Bounds on the pause before retrying a connect the gateway called retryable. */
#define GW_RETRY_MIN_MS       100
#define GW_RETRY_MAX_MS       5000
/* OpenClaw's tick interval when hello-ok does not say; silence for twice this closes. */
#define GW_DEFAULT_TICK_MS    30000
/* Close code the reference client uses when the gateway goes silent. */
#define GW_CLOSE_TICK_TIMEOUT 4000

enum gw_state {
	GW_CONNECTING, /* WebSocket not open yet */
	GW_CHALLENGE,  /* open; waiting for connect.challenge */
	GW_HELLO,      /* connect sent; waiting for hello-ok */
	GW_REFUSED,    /* connect refused; waiting for the gateway to close */
	GW_RETRY,      /* connect refused as retryable: reconnecting at retry_at */
	GW_READY,
	GW_CLOSING, /* gw_client_close, or we are closing after an error */
	GW_CLOSED,  /* on_close ran */
};

struct gw_req {
	struct gw_req *next;
	char id[48];
	char *method;
	json_t *params;   /* until sent */
	int64_t deadline; /* monotonic ms */
	unsigned timeout_ms;
	json_t *failed; /* set when it could not be sent: answered from the timer */
	bool sent;
	bool expect_final; /* `agent`: an "accepted" answer comes first, then the final one */
	gw_result_fn cb;
	void *arg;
};

struct gw_client {
	uv_loop_t *loop;
	struct ws_client *ws;
	struct ws_conn *conn;
	enum gw_state state;
	char *url;
	char *token, *password;
	char *client_id, *client_mode, *display_name, *role;
	char **scopes;
	size_t nscopes;
	unsigned connect_timeout_ms;
	struct gw_client_opts cb; /* callbacks and arg */

	unsigned seq; /* request counter: ids are "<seq>:<uuid>" */
	char connect_id[48];
	json_t *hello;
	json_t *error; /* why the connection is ending, when it is not our close */
	bool user_closed;
	struct gw_req *reqs;    /* queued and pending, in order */
	int64_t t0;             /* gw_client_new, monotonic ms */
	int64_t refused_at;     /* GW_REFUSED or GW_RETRY since */
	int64_t retry_at;       /* GW_RETRY: when to connect again */
	struct ws_conn_opts wo; /* to connect (again) */
	int64_t last_rx;        /* last frame from the gateway */
	int64_t tick_ms;

	uv_timer_t timer;
	bool timer_open;
};

/* ==== errors ==== */

static json_t *gw_error_newv(const char *code, json_t *details, const char *fmt, va_list ap)
	PRINTF_LIKE(3, 0);
static json_t *gw_error_newv(const char *code, json_t *details, const char *fmt, va_list ap)
{
	char *msg = xvasprintf(fmt, ap);
	json_t *e = json_pack("{s:s, s:s}", "code", code, "message", msg);

	free(msg);
	if (details)
		json_object_set_new(e, "details", details);
	return e;
}

/* An ErrorShape made here; steals `details` (may be NULL). */
static json_t *gw_error_new(const char *code, json_t *details, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
static json_t *gw_error_new(const char *code, json_t *details, const char *fmt, ...)
{
	va_list ap;
	json_t *e;

	va_start(ap, fmt);
	e = gw_error_newv(code, details, fmt, ap);
	va_end(ap);
	return e;
}

/* Keep the first reason the connection is ending for; later ones are consequences. */
static void gw_set_error(struct gw_client *gc, json_t *e)
{
	if (gc->error)
		json_decref(e);
	else
		gc->error = e;
}

/* ==== requests ==== */

static void gw_req_free(struct gw_req *r)
{
	free(r->method);
	json_decref(r->params);
	json_decref(r->failed);
	free(r);
}

static void gw_req_unlink(struct gw_client *gc, struct gw_req *r)
{
	for (struct gw_req **pp = &gc->reqs; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			return;
		}
}

/* Answer and free one request. */
static void gw_req_answer(struct gw_client *gc, struct gw_req *r, const json_t *payload,
			  const json_t *error)
{
	gw_req_unlink(gc, r);
	if (error)
		log_debug(SUBSYS, "%s %s: %s", r->method, r->id,
			  json_string_value(json_object_get(error, "code")));
	r->cb(gc, error ? NULL : payload, error, r->arg);
	gw_req_free(r);
}

static void gw_arm_timer(struct gw_client *gc);

/* Serialise and queue one request frame. 0, or -1 with r->failed set. */
static int gw_req_send(struct gw_client *gc, struct gw_req *r)
{
	char uuid[40], *s;
	json_t *f;
	int rc;

	/* Numbered as sent, so that connect is 1 as in OpenClaw's CLI. */
	id_uuid(uuid);
	snprintf(r->id, sizeof(r->id), "%u:%s", ++gc->seq, uuid);
	f = json_pack("{s:s, s:s, s:s}", "type", "req", "id", r->id, "method", r->method);

	if (r->params) {
		json_object_set_new(f, "params", r->params);
		r->params = NULL;
	}
	s = json_dump_str(f, JSON_COMPACT);
	json_decref(f);
	rc = ws_conn_send_text(gc->conn, s, strlen(s));
	free(s);
	r->sent = true;
	if (rc < 0) {
		r->failed = gw_error_new(GW_ERR_UNAVAILABLE, NULL, "cannot send %s: %s", r->method,
					 errno == ENOBUFS ? "too much data queued for the gateway"
							  : "connection closing");
		r->deadline = 0;
		gw_arm_timer(gc);
		return -1;
	}
	log_debug(SUBSYS, "-> %s %s", r->method, r->id);
	return 0;
}

/* Answer every request still waiting with `e` (a CLOSED error when NULL). */
static void gw_fail_all(struct gw_client *gc, const json_t *e)
{
	json_t *closed = NULL;

	if (!e)
		e = closed = gw_error_new(GW_ERR_CLOSED, NULL,
					  "the connection to the gateway closed "
					  "before the answer");
	while (gc->reqs)
		gw_req_answer(gc, gc->reqs, NULL, gc->reqs->failed ? gc->reqs->failed : e);
	json_decref(closed);
}

/* ==== timer: handshake, request and tick deadlines ==== */

static void gw_close_conn(struct gw_client *gc, int code, const char *reason)
{
	if (gc->state != GW_CLOSED)
		gc->state = GW_CLOSING;
	if (gc->conn)
		ws_conn_close(gc->conn, code, reason);
}

static void gw_finish(struct gw_client *gc, int code, const char *reason);
static void gw_reconnect(struct gw_client *gc);

static void gw_on_timer(uv_timer_t *t)
{
	struct gw_client *gc = t->data;
	int64_t now = time_mono_ms();
	struct gw_req *r, *next;

	for (r = gc->reqs; r; r = next) {
		next = r->next;
		if (r->failed) {
			gw_req_answer(gc, r, NULL, r->failed);
			next = gc->reqs; /* the callback may have added or answered others */
		} else if (now >= r->deadline) {
			json_t *e = gw_error_new(GW_ERR_TIMEOUT, NULL,
						 "%s: no answer from the gateway within %u ms",
						 r->method, r->timeout_ms);

			gw_req_answer(gc, r, NULL, e);
			json_decref(e);
			next = gc->reqs;
		}
	}
	switch (gc->state) {
	case GW_CONNECTING:
	case GW_CHALLENGE:
	case GW_HELLO:
		if (now - gc->t0 >= gc->connect_timeout_ms) {
			gw_set_error(gc,
				     gw_error_new(GW_ERR_TIMEOUT, NULL,
						  "no hello from the gateway at %s within %u ms",
						  gc->url, gc->connect_timeout_ms));
			gw_close_conn(gc, WS_CLOSE_NORMAL, "connect timeout");
		}
		break;
	case GW_REFUSED:
		if (now - gc->refused_at >= GW_REFUSED_GRACE_MS)
			gw_close_conn(gc, WS_CLOSE_NORMAL, "connect refused");
		break;
	case GW_RETRY:
		if (gc->user_closed && !gc->conn) {
			gw_finish(gc, WS_CLOSE_NORMAL, "");
			return;
		}
		if (now - gc->t0 >= gc->connect_timeout_ms) {
			gw_set_error(gc,
				     gw_error_new(GW_ERR_TIMEOUT, NULL,
						  "no hello from the gateway at %s within %u ms",
						  gc->url, gc->connect_timeout_ms));
			if (gc->conn)
				gw_close_conn(gc, WS_CLOSE_NORMAL, "connect timeout");
			else
				gw_finish(gc, WS_CLOSE_NORMAL, "");
			return;
		}
		if (now >= gc->retry_at) {
			if (gc->conn)
				/* The gateway has not closed yet: close, and connect on its close. */
				ws_conn_close(gc->conn, WS_CLOSE_NORMAL, "retrying");
			else
				gw_reconnect(gc);
		}
		break;
	case GW_READY:
		if (now - gc->last_rx >= 2 * gc->tick_ms) {
			gw_set_error(gc, gw_error_new(GW_ERR_UNAVAILABLE, NULL,
						      "the gateway at %s sent nothing for %lld ms",
						      gc->url, (long long)(now - gc->last_rx)));
			gw_close_conn(gc, GW_CLOSE_TICK_TIMEOUT, "tick timeout");
		}
		break;
	default:
		break;
	}
	gw_arm_timer(gc);
}

/* Arm the timer for the earliest deadline. */
static void gw_arm_timer(struct gw_client *gc)
{
	int64_t now = time_mono_ms(), when = INT64_MAX;

	if (!gc->timer_open)
		return;
	for (struct gw_req *r = gc->reqs; r; r = r->next) {
		int64_t d = r->failed ? now : r->deadline;

		if (d < when)
			when = d;
	}
	switch (gc->state) {
	case GW_CONNECTING:
	case GW_CHALLENGE:
	case GW_HELLO:
		if (gc->t0 + gc->connect_timeout_ms < when)
			when = gc->t0 + gc->connect_timeout_ms;
		break;
	case GW_REFUSED:
		if (gc->refused_at + GW_REFUSED_GRACE_MS < when)
			when = gc->refused_at + GW_REFUSED_GRACE_MS;
		break;
	case GW_RETRY:
		if (gc->retry_at < when)
			when = gc->retry_at;
		if (gc->t0 + gc->connect_timeout_ms < when)
			when = gc->t0 + gc->connect_timeout_ms;
		break;
	case GW_READY:
		if (gc->last_rx + 2 * gc->tick_ms < when)
			when = gc->last_rx + 2 * gc->tick_ms;
		break;
	default:
		break;
	}
	if (when == INT64_MAX) {
		uv_timer_stop(&gc->timer);
		return;
	}
	uv_timer_start(&gc->timer, gw_on_timer, when > now ? (uint64_t)(when - now) : 0, 0);
}

/* ==== frames ==== */

static void gw_send_connect(struct gw_client *gc)
{
	char uuid[40], *s;
	json_t *client, *params, *scopes = json_array(), *f;

	id_uuid(uuid);
	client = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", gc->client_id, "version",
			   PINCER_VERSION, "platform", "linux", "deviceFamily", "Linux", "mode",
			   gc->client_mode, "instanceId", uuid);
	if (gc->display_name) {
		/* OpenClaw puts it right after the id. */
		json_t *c2 = json_pack("{s:s, s:s}", "id", gc->client_id, "displayName",
				       gc->display_name);

		json_object_update(c2, client);
		json_decref(client);
		client = c2;
	}
	for (size_t i = 0; i < gc->nscopes; i++)
		json_array_append_new(scopes, json_string(gc->scopes[i]));
	params = json_pack("{s:i, s:i, s:o, s:[]}", "minProtocol", GW_PROTOCOL_VERSION,
			   "maxProtocol", GW_PROTOCOL_VERSION, "client", client, "caps");
	if (gc->token || gc->password) {
		json_t *auth = json_object();

		if (gc->token)
			json_object_set_new(auth, "token", json_string(gc->token));
		if (gc->password)
			json_object_set_new(auth, "password", json_string(gc->password));
		json_object_set_new(params, "auth", auth);
	}
	json_object_set_new(params, "role", json_string(gc->role));
	json_object_set_new(params, "scopes", scopes);

	id_uuid(uuid);
	snprintf(gc->connect_id, sizeof(gc->connect_id), "%u:%s", ++gc->seq, uuid);
	f = json_pack("{s:s, s:s, s:s, s:o}", "type", "req", "id", gc->connect_id, "method",
		      "connect", "params", params);
	s = json_dump_str(f, JSON_COMPACT);
	json_decref(f);
	gc->state = GW_HELLO;
	if (ws_conn_send_text(gc->conn, s, strlen(s)) < 0) {
		gw_set_error(gc, gw_error_new(GW_ERR_UNAVAILABLE, NULL, "cannot send connect"));
		gw_close_conn(gc, WS_CLOSE_NORMAL, NULL);
	}
	free(s);
	log_debug(SUBSYS, "-> connect %s (%s, %s)", gc->connect_id, gc->client_id, gc->client_mode);
}

/* hello-ok: check it, then send what was queued. */
static void gw_on_hello(struct gw_client *gc, json_t *payload)
{
	json_t *proto = json_object_get(payload, "protocol");
	json_int_t tick;

	if (!json_is_object(payload) ||
	    !str_eq(json_string_value(json_object_get(payload, "type")), "hello-ok")) {
		gw_set_error(gc, gw_error_new(GW_ERR_PROTOCOL, NULL,
					      "the gateway answered connect without hello-ok"));
		gw_close_conn(gc, WS_CLOSE_PROTOCOL_ERROR, "expected hello-ok");
		return;
	}
	if (proto && json_integer_value(proto) != GW_PROTOCOL_VERSION) {
		gw_set_error(gc, gw_error_new(GW_ERR_PROTOCOL, NULL,
					      "the gateway speaks protocol %lld; pincer speaks %d",
					      (long long)json_integer_value(proto),
					      GW_PROTOCOL_VERSION));
		gw_close_conn(gc, WS_CLOSE_PROTOCOL_ERROR, "protocol version");
		return;
	}
	gc->hello = json_incref(payload);
	gc->state = GW_READY;
	tick = json_integer_value(
		json_object_get(json_object_get(payload, "policy"), "tickIntervalMs"));
	gc->tick_ms = tick >= 1000 ? tick : GW_DEFAULT_TICK_MS;
	log_debug(
		SUBSYS, "hello-ok from %s (server %s)", gc->url,
		json_string_value(json_object_get(json_object_get(payload, "server"), "version")));
	for (struct gw_req *r = gc->reqs; r; r = r->next)
		if (!r->sent)
			gw_req_send(gc, r);
	if (gc->cb.on_ready)
		gc->cb.on_ready(gc, gc->hello, gc->cb.arg);
}

/* A refused connect worth another try: the gateway says so, and there is time left. */
static bool gw_retryable(const struct gw_client *gc, const json_t *error)
{
	json_int_t after = json_integer_value(json_object_get(error, "retryAfterMs"));

	return json_is_true(json_object_get(error, "retryable")) && !gc->user_closed &&
	       time_mono_ms() + (after > GW_RETRY_MIN_MS ? after : GW_RETRY_MIN_MS) <
		       gc->t0 + gc->connect_timeout_ms;
}

static void gw_on_res(struct gw_client *gc, json_t *f)
{
	const char *id = json_string_value(json_object_get(f, "id"));
	bool ok = json_is_true(json_object_get(f, "ok"));
	json_t *payload = json_object_get(f, "payload");
	json_t *error = json_object_get(f, "error");
	json_t *bad = NULL;

	if (!id)
		return;
	if (!ok && !json_is_object(error))
		error = bad = gw_error_new(GW_ERR_PROTOCOL, NULL,
					   "the gateway answered with a "
					   "failure but no error");
	if (gc->state == GW_HELLO && !strcmp(id, gc->connect_id)) {
		if (ok) {
			gw_on_hello(gc, payload);
		} else if (gw_retryable(gc, error)) {
			json_int_t after =
				json_integer_value(json_object_get(error, "retryAfterMs"));

			gc->state = GW_RETRY;
			gc->refused_at = time_mono_ms();
			gc->retry_at = gc->refused_at + (after < GW_RETRY_MIN_MS   ? GW_RETRY_MIN_MS
							 : after > GW_RETRY_MAX_MS ? GW_RETRY_MAX_MS
										   : after);
			log_debug(SUBSYS, "connect refused, retrying in %lld ms: %s",
				  (long long)(gc->retry_at - gc->refused_at),
				  json_string_value(json_object_get(error, "message")));
		} else {
			/* The gateway closes next (1008 for bad credentials); let it. */
			gw_set_error(gc, json_deep_copy(error));
			gc->state = GW_REFUSED;
			gc->refused_at = time_mono_ms();
			log_debug(SUBSYS, "connect refused: %s",
				  json_string_value(json_object_get(error, "message")));
		}
		json_decref(bad);
		return;
	}
	for (struct gw_req *r = gc->reqs; r; r = r->next)
		if (r->sent && !r->failed && !strcmp(r->id, id)) {
			json_t *null = payload ? NULL : json_null();

			if (ok && r->expect_final &&
			    str_eq(json_string_value(json_object_get(payload, "status")),
				   "accepted")) {
				/* the run has begun; the deadline now counts toward its end */
				r->deadline = time_mono_ms() + r->timeout_ms;
				json_decref(bad);
				return;
			}

			gw_req_answer(gc, r, ok ? (payload ? payload : null) : NULL,
				      ok ? NULL : error);
			json_decref(null);
			json_decref(bad);
			return;
		}
	log_debug(SUBSYS, "answer to an unknown request %s", id);
	json_decref(bad);
}

static void gw_on_text(struct ws_conn *w, const char *data, size_t len, void *arg)
{
	struct gw_client *gc = arg;
	json_error_t jerr;
	json_t *f = json_loadb(data, len, 0, &jerr);
	const char *type, *event;

	gc->last_rx = time_mono_ms();
	if (!json_is_object(f)) {
		gw_set_error(gc, gw_error_new(GW_ERR_PROTOCOL, NULL,
					      "the gateway sent a frame that is not a JSON "
					      "object: %s",
					      f ? "not an object" : jerr.text));
		gw_close_conn(gc, WS_CLOSE_PROTOCOL_ERROR, "invalid frame");
		json_decref(f);
		return;
	}
	type = json_string_value(json_object_get(f, "type"));
	if (str_eq(type, "event")) {
		event = json_string_value(json_object_get(f, "event"));
		if (!event)
			goto out;
		if (gc->state == GW_CHALLENGE && !strcmp(event, "connect.challenge")) {
			gw_send_connect(gc);
		} else if (gc->state == GW_READY && gc->cb.on_event) {
			json_t *p = json_object_get(f, "payload");
			json_t *null = p ? NULL : json_null();

			gc->cb.on_event(gc, event, p ? p : null, gc->cb.arg);
			json_decref(null);
		}
	} else if (str_eq(type, "res")) {
		gw_on_res(gc, f);
	}
out:
	json_decref(f);
	gw_arm_timer(gc);
}

static void gw_on_open(struct ws_conn *w, void *arg)
{
	struct gw_client *gc = arg;

	gc->last_rx = time_mono_ms();
	if (gc->state == GW_CONNECTING)
		gc->state = GW_CHALLENGE;
}

/*
 * The connection is over for good: decide the error, answer every request,
 * and tell the owner. `code` and `reason` are the WebSocket's close.
 */
static void gw_finish(struct gw_client *gc, int code, const char *reason)
{
	enum gw_state was = gc->state;
	const json_t *e;

	if (was == GW_CLOSED)
		return;
	if (!gc->error && !gc->user_closed) {
		json_t *details = json_pack("{s:i, s:s}", "closeCode", code, "closeReason", reason);

		if (code == WS_CLOSE_ABNORMAL && was == GW_CONNECTING)
			gw_set_error(gc, gw_error_new(GW_ERR_UNAVAILABLE, details,
						      "cannot connect to %s: %s", gc->url, reason));
		else if (code == WS_CLOSE_ABNORMAL)
			gw_set_error(gc, gw_error_new(GW_ERR_UNAVAILABLE, details,
						      "lost the connection to %s: %s", gc->url,
						      reason));
		else if (was != GW_READY && was != GW_CLOSING)
			gw_set_error(gc, gw_error_new(GW_ERR_CLOSED, details,
						      "the gateway closed the connection during "
						      "the handshake (%d%s%s)",
						      code, *reason ? ": " : "", reason));
		else
			gw_set_error(gc, gw_error_new(GW_ERR_CLOSED, details,
						      "the gateway closed the connection (%d%s%s)",
						      code, *reason ? ": " : "", reason));
	}
	gc->state = GW_CLOSED;
	gc->conn = NULL;
	log_debug(SUBSYS, "closed: %d %s", code, reason);
	gw_fail_all(gc, gc->error);
	if (gc->timer_open) {
		gc->timer_open = false;
		uv_close((uv_handle_t *)&gc->timer, NULL);
	}
	e = gc->user_closed && !gc->error ? NULL : gc->error;
	ws_client_stop(gc->ws, NULL, NULL);
	if (gc->cb.on_close)
		gc->cb.on_close(gc, e, gc->cb.arg);
}

static void gw_on_ws_close(struct ws_conn *w, int code, const char *reason, void *arg)
{
	struct gw_client *gc = arg;

	gc->conn = NULL;
	if (gc->state == GW_RETRY && !gc->user_closed && !gc->error) {
		/* The gateway closed after a retryable refusal: connect again at retry_at. */
		gw_arm_timer(gc);
		return;
	}
	gw_finish(gc, code, reason);
}

/* Open a new WebSocket after a retryable refusal. */
static void gw_reconnect(struct gw_client *gc)
{
	char err[256];

	gc->state = GW_CONNECTING;
	gc->conn = ws_conn_open(gc->ws, &gc->wo, err, sizeof(err));
	if (!gc->conn) {
		gw_set_error(gc, gw_error_new(GW_ERR_UNAVAILABLE, NULL, "cannot connect to %s: %s",
					      gc->url, err));
		gw_finish(gc, WS_CLOSE_ABNORMAL, err);
		return;
	}
	log_debug(SUBSYS, "connecting again to %s", gc->url);
}

/* ==== the client ==== */

static const char *const gw_default_scopes[] = { "operator.admin", NULL };

struct gw_client *gw_client_new(uv_loop_t *loop, const struct gw_client_opts *o, char *err,
				size_t errlen)
{
	struct gw_client *gc = xcalloc(1, sizeof(*gc));
	const char *const *scopes = o->scopes ? o->scopes : gw_default_scopes;

	gc->loop = loop;
	gc->url = xstrdup(o->url ? o->url : "");
	gc->token = o->token ? xstrdup(o->token) : NULL;
	gc->password = o->password ? xstrdup(o->password) : NULL;
	gc->client_id = xstrdup(o->client_id ? o->client_id : "cli");
	gc->client_mode = xstrdup(o->client_mode ? o->client_mode : "cli");
	gc->display_name = o->display_name ? xstrdup(o->display_name) : NULL;
	gc->role = xstrdup(o->role ? o->role : "operator");
	for (; scopes[gc->nscopes]; gc->nscopes++)
		;
	gc->scopes = xcalloc(gc->nscopes + 1, sizeof(*gc->scopes));
	for (size_t i = 0; i < gc->nscopes; i++)
		gc->scopes[i] = xstrdup(scopes[i]);
	gc->connect_timeout_ms =
		o->connect_timeout_ms ? o->connect_timeout_ms : GW_DEFAULT_CONNECT_TIMEOUT_MS;
	gc->cb = *o;
	gc->cb.url = gc->cb.token = gc->cb.password = NULL;
	gc->t0 = time_mono_ms();
	gc->tick_ms = GW_DEFAULT_TICK_MS;
	if (gc->token)
		log_add_secret(gc->token);
	if (gc->password)
		log_add_secret(gc->password);

	/* Check first: a failure after the lws context exists would need the loop to clean up. */
	if (ws_url_check(gc->url, err, errlen) < 0)
		goto fail;
	gc->ws = ws_client_new(loop, err, errlen);
	if (!gc->ws)
		goto fail;
	gc->wo.url = gc->url;
	gc->wo.max_message = GW_MAX_PAYLOAD;
	gc->wo.max_buffered = GW_MAX_BUFFERED;
	gc->wo.connect_timeout_ms = gc->connect_timeout_ms;
	gc->wo.on_open = gw_on_open;
	gc->wo.on_text = gw_on_text;
	gc->wo.on_close = gw_on_ws_close;
	gc->wo.arg = gc;
	gc->conn = ws_conn_open(gc->ws, &gc->wo, err, errlen);
	if (!gc->conn)
		BUG("ws_conn_open refused a checked URL: %s", err);
	uv_timer_init(loop, &gc->timer);
	gc->timer.data = gc;
	gc->timer_open = true;
	gw_arm_timer(gc);
	return gc;

fail:
	gc->state = GW_CLOSED;
	gw_client_free(gc);
	return NULL;
}

int gw_client_request(struct gw_client *gc, const char *method, json_t *params, unsigned timeout_ms,
		      gw_result_fn cb, void *arg)
{
	struct gw_req *r, **pp;

	if (gc->state == GW_CLOSING || gc->state == GW_CLOSED || gc->state == GW_REFUSED ||
	    gc->user_closed) {
		json_decref(params);
		return -1;
	}
	r = xcalloc(1, sizeof(*r));
	r->method = xstrdup(method);
	r->params = params;
	r->timeout_ms = timeout_ms ? timeout_ms : GW_DEFAULT_REQUEST_TIMEOUT_MS;
	r->deadline = time_mono_ms() + r->timeout_ms;
	r->cb = cb;
	r->expect_final = !strcmp(method, "agent");
	r->arg = arg;
	for (pp = &gc->reqs; *pp; pp = &(*pp)->next)
		;
	*pp = r;
	if (gc->state == GW_READY)
		gw_req_send(gc, r);
	gw_arm_timer(gc);
	return 0;
}

void gw_client_close(struct gw_client *gc)
{
	if (gc->state == GW_CLOSING || gc->state == GW_CLOSED)
		return;
	gc->user_closed = true;
	if (!gc->conn) {
		/* Between two connects: nothing will call back; finish from the timer. */
		gc->retry_at = 0;
		gw_arm_timer(gc);
		return;
	}
	gw_close_conn(gc, WS_CLOSE_NORMAL, NULL);
}

const json_t *gw_client_hello(const struct gw_client *gc)
{
	return gc->hello;
}

void gw_client_free(struct gw_client *gc)
{
	if (!gc)
		return;
	if (gc->state != GW_CLOSED)
		BUG("gw_client_free before on_close");
	ws_client_free(gc->ws);
	while (gc->reqs) {
		struct gw_req *r = gc->reqs;

		gc->reqs = r->next;
		gw_req_free(r);
	}
	for (size_t i = 0; i < gc->nscopes; i++)
		free(gc->scopes[i]);
	free(gc->scopes);
	free(gc->url);
	free(gc->token);
	free(gc->password);
	free(gc->client_id);
	free(gc->client_mode);
	free(gc->display_name);
	free(gc->role);
	json_decref(gc->hello);
	json_decref(gc->error);
	free(gc);
}

/* ==== scopes ==== */

static const char *const gw_scope_read[] = { "operator.read", NULL };
static const char *const gw_scope_write[] = { "operator.write", NULL };
static const char *const gw_scope_pairing[] = { "operator.pairing", NULL };

/* The core methods' scopes, from OpenClaw's method policy (src/gateway/method-scopes.ts). */
static const struct {
	const char *method;
	const char *const *scopes;
} gw_method_scopes[] = {
	{ "agent", gw_scope_write },
	{ "agent.identity.get", gw_scope_read },
	{ "agent.wait", gw_scope_write },
	{ "agents.files.get", gw_scope_read },
	{ "agents.files.list", gw_scope_read },
	{ "agents.list", gw_scope_read },
	{ "channels.status", gw_scope_read },
	{ "chat.abort", gw_scope_write },
	{ "chat.history", gw_scope_read },
	{ "chat.send", gw_scope_write },
	{ "commands.list", gw_scope_read },
	{ "config.get", gw_scope_read },
	{ "config.schema", gw_scope_read },
	{ "config.schema.lookup", gw_scope_read },
	{ "cron.get", gw_scope_read },
	{ "cron.list", gw_scope_read },
	{ "cron.runs", gw_scope_read },
	{ "cron.status", gw_scope_read },
	{ "device.pair.approve", gw_scope_pairing },
	{ "device.pair.list", gw_scope_pairing },
	{ "device.pair.reject", gw_scope_pairing },
	{ "device.pair.remove", gw_scope_pairing },
	{ "doctor.memory.status", gw_scope_read },
	{ "gateway.identity.get", gw_scope_read },
	{ "health", gw_scope_read },
	{ "last-heartbeat", gw_scope_read },
	{ "logs.tail", gw_scope_read },
	{ "models.authStatus", gw_scope_read },
	{ "models.list", gw_scope_read },
	{ "node.describe", gw_scope_read },
	{ "node.list", gw_scope_read },
	{ "node.pair.approve", gw_scope_pairing },
	{ "node.pair.list", gw_scope_pairing },
	{ "node.rename", gw_scope_pairing },
	{ "poll", gw_scope_write },
	{ "push.test", gw_scope_write },
	{ "send", gw_scope_write },
	{ "sessions.abort", gw_scope_write },
	{ "sessions.create", gw_scope_write },
	{ "sessions.get", gw_scope_read },
	{ "sessions.list", gw_scope_read },
	{ "sessions.messages.subscribe", gw_scope_read },
	{ "sessions.messages.unsubscribe", gw_scope_read },
	{ "sessions.patch", gw_scope_write },
	{ "sessions.preview", gw_scope_read },
	{ "sessions.resolve", gw_scope_read },
	{ "sessions.send", gw_scope_write },
	{ "sessions.subscribe", gw_scope_read },
	{ "sessions.usage", gw_scope_read },
	{ "sessions.usage.logs", gw_scope_read },
	{ "sessions.usage.timeseries", gw_scope_read },
	{ "skills.detail", gw_scope_read },
	{ "skills.search", gw_scope_read },
	{ "skills.status", gw_scope_read },
	{ "status", gw_scope_read },
	{ "system-presence", gw_scope_read },
	{ "tasks.cancel", gw_scope_write },
	{ "tasks.get", gw_scope_read },
	{ "tasks.list", gw_scope_read },
	{ "tools.catalog", gw_scope_read },
	{ "tools.effective", gw_scope_read },
	{ "tools.invoke", gw_scope_write },
	{ "tts.providers", gw_scope_read },
	{ "tts.status", gw_scope_read },
	{ "usage.cost", gw_scope_read },
	{ "usage.status", gw_scope_read },
	{ "voicewake.get", gw_scope_read },
	{ "voicewake.set", gw_scope_write },
	{ "wake", gw_scope_write },
};

const char *const *gw_scopes_for_method(const char *method)
{
	for (size_t i = 0; i < ARRAY_SIZE(gw_method_scopes); i++)
		if (!strcmp(gw_method_scopes[i].method, method))
			return gw_method_scopes[i].scopes;
	return gw_default_scopes;
}

/* ==== one-shot calls ==== */

struct gw_sync {
	struct gw_client_call *calls;
	size_t n, answered;
	struct gw_client *gc;
	json_t *hello;
	json_t *error;
};

struct gw_sync_slot {
	struct gw_sync *s;
	size_t i;
};

static void gw_sync_result(struct gw_client *gc, const json_t *payload, const json_t *error,
			   void *arg)
{
	struct gw_sync_slot *slot = arg;
	struct gw_sync *s = slot->s;
	struct gw_client_call *c = &s->calls[slot->i];

	if (error)
		c->error = json_deep_copy(error);
	else
		c->payload = json_deep_copy(payload);
	if (++s->answered == s->n)
		gw_client_close(gc);
}

static void gw_sync_ready(struct gw_client *gc, const json_t *hello, void *arg)
{
	struct gw_sync *s = arg;

	s->hello = json_deep_copy(hello);
	if (!s->n)
		gw_client_close(gc);
}

static void gw_sync_close(struct gw_client *gc, const json_t *error, void *arg)
{
	struct gw_sync *s = arg;

	if (error && !s->hello)
		s->error = json_deep_copy(error);
}

int gw_client_call_sync(const struct gw_client_opts *o, struct gw_client_call *calls, size_t n,
			json_t **hello, json_t **conn_error)
{
	struct gw_client_opts co = *o;
	struct gw_sync s = { .calls = calls, .n = n };
	struct gw_sync_slot *slots = xcalloc(n ? n : 1, sizeof(*slots));
	uv_loop_t loop;
	char err[256];
	int r = 0;

	*conn_error = NULL;
	if (hello)
		*hello = NULL;
	for (size_t i = 0; i < n; i++)
		calls[i].payload = calls[i].error = NULL;
	co.on_ready = gw_sync_ready;
	co.on_event = NULL;
	co.on_close = gw_sync_close;
	co.arg = &s;
	uv_loop_init(&loop);
	s.gc = gw_client_new(&loop, &co, err, sizeof(err));
	if (!s.gc) {
		s.error = gw_error_new(GW_ERR_UNAVAILABLE, NULL, "%s", err);
	} else {
		for (size_t i = 0; i < n; i++) {
			slots[i].s = &s;
			slots[i].i = i;
			gw_client_request(s.gc, calls[i].method,
					  calls[i].params ? json_deep_copy(calls[i].params) : NULL,
					  calls[i].timeout_ms, gw_sync_result, &slots[i]);
		}
		uv_run(&loop, UV_RUN_DEFAULT);
		gw_client_free(s.gc);
	}
	if (uv_loop_close(&loop) == UV_EBUSY)
		log_debug(SUBSYS, "event loop still had handles at exit");
	free(slots);
	if (!s.hello) {
		r = -1;
		/* Closed by us before hello-ok: every call had timed out. */
		if (!s.error && n && calls[0].error)
			s.error = json_incref(calls[0].error);
		if (!s.error)
			s.error = gw_error_new(GW_ERR_CLOSED, NULL, "no hello from the gateway");
		for (size_t i = 0; i < n; i++)
			if (!calls[i].error && !calls[i].payload)
				calls[i].error = json_incref(s.error);
		*conn_error = s.error;
	} else {
		json_decref(s.error);
	}
	if (hello)
		*hello = s.hello;
	else
		json_decref(s.hello);
	return r;
}

/* ==== finding the gateway ==== */

void gw_runtime_read(const char *state_dir, struct gw_runtime *rt)
{
	char *path = fs_join(state_dir, "gateway.json");
	struct buf b;
	json_t *o;
	json_int_t pid, port;

	memset(rt, 0, sizeof(*rt));
	buf_init(&b, 64 * 1024);
	if (fs_read_file(path, &b) < 0)
		goto out;
	o = json_loadb(b.p, b.len, 0, NULL);
	pid = json_integer_value(json_object_get(o, "pid"));
	port = json_integer_value(json_object_get(o, "port"));
	if (json_is_object(o) && pid > 0 && pid <= INT32_MAX && port > 0 && port <= 65535) {
		rt->present = true;
		rt->pid = (int)pid;
		rt->port = (int)port;
		snprintf(rt->host, sizeof(rt->host), "%s",
			 json_string_value(json_object_get(o, "host"))
				 ? json_string_value(json_object_get(o, "host"))
				 : "127.0.0.1");
		snprintf(rt->version, sizeof(rt->version), "%s",
			 json_string_value(json_object_get(o, "version"))
				 ? json_string_value(json_object_get(o, "version"))
				 : "");
		rt->started_at = json_integer_value(json_object_get(o, "startedAt"));
		/* EPERM: it exists but belongs to someone else; still alive. */
		rt->alive = kill((pid_t)pid, 0) == 0 || errno == EPERM;
	}
	json_decref(o);
out:
	buf_release(&b);
	free(path);
}

/* The address a client uses to reach a gateway listening on `bind`. */
static const char *gw_connect_host(const char *bind)
{
	if (!bind || !*bind || !strcmp(bind, "0.0.0.0") || !strcmp(bind, "localhost"))
		return "127.0.0.1";
	if (!strcmp(bind, "::"))
		return "::1";
	return bind;
}

static char *gw_local_url(const char *host, int port)
{
	return strchr(host, ':') ? xasprintf("ws://[%s]:%d", host, port)
				 : xasprintf("ws://%s:%d", host, port);
}

/* Is the host of a ws:// URL a loopback address (or localhost)? */
static bool gw_url_is_loopback(const char *url)
{
	const char *p = strstr(url, "://"), *end;
	char host[80];
	struct in_addr a4;
	struct in6_addr a6;

	if (!p)
		return false;
	p += 3;
	if (*p == '[') {
		end = strchr(++p, ']');
	} else {
		end = p + strcspn(p, ":/?#");
	}
	if (!end || (size_t)(end - p) >= sizeof(host))
		return false;
	memcpy(host, p, (size_t)(end - p));
	host[end - p] = '\0';
	if (!strcasecmp(host, "localhost"))
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

/* A credential from the config; 0 when fine (set or not), -1 with `err`. */
static int gw_config_secret(const struct config *cfg, const char *path, char **out, char *err,
			    size_t errlen)
{
	char e[256];

	if (config_get_secret(cfg, path, out, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "%s: %s", path, e);
		return -1;
	}
	return 0;
}

static const char *gw_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static int gw_resolve_port(const struct config *cfg, const struct gw_target_opts *o,
			   struct gw_target *t, int *port, char *err, size_t errlen)
{
	static const char *const envs[] = { "PINCER_GATEWAY_PORT", "OPENCLAW_GATEWAY_PORT" };
	long long v;

	if (o->port >= 0) {
		if (o->port < 1 || o->port > 65535) {
			snprintf(err, errlen, "invalid port %lld (want 1-65535)", o->port);
			return -1;
		}
		*port = (int)o->port;
		t->url_source = "--port";
		return 0;
	}
	if (t->runtime.present && t->runtime.alive) {
		*port = t->runtime.port;
		t->url_source = "gateway.json";
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(envs); i++) {
		const char *e = gw_env(envs[i]);

		if (!e)
			continue;
		if (str_to_ll(e, &v) < 0 || v < 1 || v > 65535) {
			snprintf(err, errlen, "%s: invalid port '%s' (want 1-65535)", envs[i], e);
			return -1;
		}
		*port = (int)v;
		t->url_source = envs[i];
		return 0;
	}
	v = config_get_int(cfg, "gateway.port");
	if (v > 0 && v <= 65535 && config_where(cfg, "gateway.port")) {
		*port = (int)v;
		t->url_source = "gateway.port";
		return 0;
	}
	*port = GW_DEFAULT_PORT;
	t->url_source = "default port";
	return 0;
}

int gw_target_resolve(struct gw_target *t, const struct config *cfg, const struct paths *paths,
		      const struct gw_target_opts *o, char *err, size_t errlen)
{
	static const char *const token_envs[] = { "PINCER_GATEWAY_TOKEN",
						  "OPENCLAW_GATEWAY_TOKEN" };
	static const char *const password_envs[] = { "PINCER_GATEWAY_PASSWORD",
						     "OPENCLAW_GATEWAY_PASSWORD" };
	bool remote = str_eq(config_get_str(cfg, "gateway.mode"), "remote");
	const char *tok_key, *pw_key;
	int port;

	memset(t, 0, sizeof(*t));
	gw_runtime_read(paths->state_dir, &t->runtime);

	/* where */
	if (o->url && *o->url) {
		t->url = xstrdup(o->url);
		t->url_source = "--url";
	} else if (remote) {
		const char *u = config_get_str(cfg, "gateway.remote.url");

		if (!u || !*u) {
			snprintf(err, errlen,
				 "gateway.mode is \"remote\" but gateway.remote.url is not set "
				 "(set it, or pass --url)");
			return -1;
		}
		t->url = xstrdup(u);
		t->url_source = "gateway.remote.url";
	} else {
		const char *host = "127.0.0.1";

		if (gw_resolve_port(cfg, o, t, &port, err, errlen) < 0)
			return -1;
		if (t->runtime.present && t->runtime.alive && port == t->runtime.port)
			host = gw_connect_host(t->runtime.host);
		t->url = gw_local_url(host, port);
		t->local = true;
	}

	/* with what */
	if (o->token || o->password) {
		t->token = o->token ? xstrdup(o->token) : NULL;
		t->password = o->password ? xstrdup(o->password) : NULL;
		t->auth_source = o->token ? "--token" : "--password";
		goto found;
	}
	for (size_t i = 0; i < ARRAY_SIZE(token_envs); i++)
		if (gw_env(token_envs[i])) {
			t->token = xstrdup(gw_env(token_envs[i]));
			t->auth_source = token_envs[i];
			break;
		}
	for (size_t i = 0; i < ARRAY_SIZE(password_envs); i++)
		if (gw_env(password_envs[i])) {
			t->password = xstrdup(gw_env(password_envs[i]));
			if (!t->auth_source)
				t->auth_source = password_envs[i];
			break;
		}
	if (t->token || t->password)
		goto found;
	if (remote && !o->url) {
		tok_key = "gateway.remote.token";
		pw_key = "gateway.remote.password";
	} else if (!o->url || gw_url_is_loopback(t->url)) {
		tok_key = "gateway.auth.token";
		pw_key = "gateway.auth.password";
	} else {
		t->auth_source = "none";
		return 0;
	}
	if (gw_config_secret(cfg, tok_key, &t->token, err, errlen) < 0 ||
	    gw_config_secret(cfg, pw_key, &t->password, err, errlen) < 0) {
		gw_target_release(t);
		return -1;
	}
	t->auth_source = t->token ? tok_key : t->password ? pw_key : "none";
found:
	if (t->token)
		log_add_secret(t->token);
	if (t->password)
		log_add_secret(t->password);
	return 0;
}

void gw_target_release(struct gw_target *t)
{
	free(t->url);
	free(t->token);
	free(t->password);
	memset(t, 0, sizeof(*t));
}
