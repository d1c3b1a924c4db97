/*
 * server.c - WebSocket connections of the gateway: challenge, frame
 * handling, events with per-connection seq, tick, handshake deadline,
 * shutdown; see gateway.h.
 *
 * A connection lives in two lists: every connection in gw->conns, and the
 * ones still owing a `connect` in a FIFO (gw->hs_head) ordered by arrival.
 * Since every handshake gets the same 15 s, the FIFO is also ordered by
 * deadline, and one timer armed for its head covers all of them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config/config.h"
#include "config/paths.h"
#include "core/buf.h"
#include "core/id.h"
#include "core/jsonx.h"
#include "agent/runtime.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "gateway/devices.h"
#include "gateway/internal.h"
#include "gateway/reload.h"
#include "tools/gateway_tool.h"

/* ==== sending ==== */

/* The transport dropped a slow consumer: read and send nothing more on it. */
static void gw_conn_dropped(struct gw_conn *c)
{
	if (c->state == GWC_READY)
		c->gw->nready--;
	c->state = GWC_CLOSING;
}

int gateway_send_frame(struct gw_conn *c, json_t *frame)
{
	char *s;
	int r = -1;

	if (c->ws && c->state != GWC_CLOSING) {
		s = json_dumps(frame, JSON_COMPACT);
		if (s) {
			r = http_ws_send(c->ws, s, strlen(s));
			free(s);
		}
		if (r < 0)
			gw_conn_dropped(c);
	}
	json_decref(frame);
	return r;
}

/* May `c` see `event`? Ready, and holding the scope its family needs. */
static bool gw_event_allowed(const struct gw_conn *c, const char *event)
{
	bool known;
	const char *scope;

	if (c->state != GWC_READY)
		return false;
	scope = scopes_for_event(event, &known);
	return known && scopes_allow(c->scopes, scope);
}

/*
 * The payload is serialised once, and each connection's frame is that text
 * with its own seq around it: a broadcast costs one JSON encoding, not one
 * per client (presence and health lists grow with the clients).
 */
static bool gw_conn_has_cap(const struct gw_conn *c, const char *cap)
{
	json_t *v;
	size_t i;

	json_array_foreach(c->caps, i, v) if (json_is_string(v) &&
					      !strcmp(json_string_value(v), cap)) return true;
	return false;
}

void gateway_broadcast(struct gateway *gw, const char *event, json_t *payload, bool with_state)
{
	gateway_broadcast_cap(gw, event, payload, with_state, NULL);
}

void gateway_broadcast_cap(struct gateway *gw, const char *event, json_t *payload, bool with_state,
			   const char *cap)
{
	json_t *name = json_string(event), *sv = with_state ? gateway_state_version_json(gw) : NULL;
	char *ev = json_dumps(name, JSON_ENCODE_ANY);
	char *body = payload ? json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	char *state = sv ? json_dumps(sv, JSON_COMPACT) : NULL;
	struct gw_conn *c, *next;
	struct buf frame;

	buf_init(&frame, BUF_UNLIMITED);
	for (c = gw->conns; c; c = next) {
		next = c->next;
		if (!gw_event_allowed(c, event) || !c->ws || (cap && !gw_conn_has_cap(c, cap)))
			continue;
		buf_reset(&frame);
		buf_printf(&frame, "{\"type\":\"event\",\"event\":%s", ev);
		if (body) {
			buf_puts(&frame, ",\"payload\":");
			buf_puts(&frame, body);
		}
		buf_printf(&frame, ",\"seq\":%llu", (unsigned long long)++c->seq);
		if (state)
			buf_printf(&frame, ",\"stateVersion\":%s", state);
		buf_putc(&frame, '}');
		if (http_ws_send(c->ws, frame.p, frame.len) < 0)
			gw_conn_dropped(c);
	}
	buf_release(&frame);
	free(ev);
	free(body);
	free(state);
	json_decref(name);
	json_decref(sv);
	json_decref(payload);
}

void gw_conn_reply_error(struct gw_conn *c, const char *id, const char *code, const char *message,
			 json_t *details)
{
	gateway_send_frame(c, gw_res_error(id, code, message, details));
}

/* ==== connection lifecycle ==== */

static void gw_hs_unlink(struct gw_conn *c)
{
	struct gateway *gw = c->gw;

	if (!c->hs_prev && gw->hs_head != c)
		return; /* not queued */
	if (c->hs_prev)
		c->hs_prev->hs_next = c->hs_next;
	else
		gw->hs_head = c->hs_next;
	if (c->hs_next)
		c->hs_next->hs_prev = c->hs_prev;
	else
		gw->hs_tail = c->hs_prev;
	c->hs_prev = c->hs_next = NULL;
}

void gw_conn_close(struct gw_conn *c, int code, const char *reason)
{
	if (c->state == GWC_CLOSING)
		return;
	if (c->state == GWC_READY)
		c->gw->nready--;
	c->state = GWC_CLOSING;
	gw_hs_unlink(c);
	if (c->ws)
		http_ws_close(c->ws, code, reason);
}

void gateway_close_device(struct gateway *gw, const char *device_id, const char *role,
			  const char *reason)
{
	for (struct gw_conn *c = gw->conns; c; c = c->next)
		if (c->state == GWC_READY && !strcmp(c->device_id, device_id) &&
		    (!role || !strcmp(gw_role_name(c->role), role)))
			gw_conn_close(c, GW_CLOSE_POLICY, reason);
}

void gw_conn_mark_ready(struct gw_conn *c)
{
	gw_hs_unlink(c);
	c->state = GWC_READY;
	c->gw->nready++;
	http_ws_set_max_message(c->ws, GW_MAX_PAYLOAD);
}

static void gw_conn_free(struct gw_conn *c)
{
	free(c->origin);
	free(c->host_header);
	free(c->proxy_user);
	json_decref(c->scopes);
	json_decref(c->caps);
	json_decref(c->client);
	free(c);
}

/* ==== the WebSocket handler ==== */

static char *gw_header_dup(const struct http_request *req, const char *name)
{
	const char *v = http_request_header(req, name);

	return v ? xstrdup(v) : NULL;
}

static int gw_ws_accept(const struct http_request *req, void *arg, void **conn_arg,
			const char **msg)
{
	struct gateway *gw = arg;
	struct gw_conn *c;

	if (gw->stopping) {
		*msg = "gateway shutting down";
		return 503;
	}
	c = xcalloc(1, sizeof(*c));
	c->gw = gw;
	snprintf(c->peer, sizeof(c->peer), "%s", req->peer);
	c->origin = gw_header_dup(req, "Origin");
	c->host_header = gw_header_dup(req, "Host");
	c->forwarded = http_request_header(req, "X-Forwarded-For") ||
		       http_request_header(req, "Forwarded") ||
		       http_request_header(req, "X-Real-IP");
	/* Behind a proxy the peer is the proxy, not the client: not "direct loopback". */
	c->loopback = req->peer_loopback && !c->forwarded;
	if (gw->auth.user_header)
		c->proxy_user = gw_header_dup(req, gw->auth.user_header);
	*conn_arg = c;
	return 0;
}

static void gw_on_hs_timer(uv_timer_t *t);

/* Arm the handshake timer for the oldest connection still owing a connect. */
static void gw_hs_arm(struct gateway *gw)
{
	int64_t due;

	if (!gw->timers_open)
		return;
	if (!gw->hs_head) {
		uv_timer_stop(&gw->hs_timer);
		return;
	}
	due = gw->hs_head->opened_mono_ms + GW_HANDSHAKE_TIMEOUT_MS - time_mono_ms();
	uv_timer_start(&gw->hs_timer, gw_on_hs_timer, due > 0 ? (uint64_t)due : 0, 0);
}

static void gw_ws_open(struct http_ws *ws, void *arg)
{
	struct gw_conn *c = arg;
	struct gateway *gw = c->gw;
	json_t *ev;

	c->ws = ws;
	c->state = GWC_HANDSHAKE;
	id_uuid(c->conn_id);
	id_uuid(c->nonce);
	c->challenge_ts = time_now_ms();
	c->opened_mono_ms = time_mono_ms();
	c->next = gw->conns;
	if (gw->conns)
		gw->conns->prev = c;
	gw->conns = c;
	gw->nconns++;
	c->hs_prev = gw->hs_tail;
	if (gw->hs_tail)
		gw->hs_tail->hs_next = c;
	else
		gw->hs_head = c;
	gw->hs_tail = c;
	if (gw->hs_head == c)
		gw_hs_arm(gw);

	/* The server speaks first; the frame carries no seq (it precedes hello-ok). */
	ev = json_pack("{s:s, s:s, s:{s:s, s:I}}", "type", "event", "event", "connect.challenge",
		       "payload", "nonce", c->nonce, "ts", (json_int_t)c->challenge_ts);
	gateway_send_frame(c, ev);
	log_debug(GW_SUBSYS, "conn %.8s open from %s%s%s", c->conn_id, c->peer,
		  c->origin ? " origin " : "", c->origin ? c->origin : "");
}

static void gw_ws_message(struct http_ws *ws, void *arg, const char *data, size_t len, bool binary)
{
	struct gw_conn *c = arg;
	struct gw_frame f;
	char err[256];
	int r;

	if (c->state == GWC_CLOSING)
		return;
	if (binary) {
		if (c->state == GWC_HANDSHAKE)
			gw_conn_close(c, GW_CLOSE_POLICY, "invalid request frame: binary frame");
		else
			gw_conn_reply_error(
				c, "invalid", GW_E_INVALID_REQUEST,
				"invalid request frame: binary frames are not supported", NULL);
		return;
	}
	r = gw_frame_parse(data, len, &f, err, sizeof(err));
	if (c->state == GWC_HANDSHAKE) {
		if (r < 0 || f.type != GW_FRAME_REQ) {
			/* OpenClaw closes without a response: there is no request to answer. */
			gw_conn_close(c, GW_CLOSE_POLICY, r < 0 ? err : "invalid request frame");
		} else if (strcmp(f.method, "connect")) {
			gw_conn_reply_error(c, f.id, GW_E_INVALID_REQUEST,
					    "invalid handshake: first request must be connect",
					    NULL);
			gw_conn_close(c, GW_CLOSE_POLICY,
				      "invalid handshake: first request must be connect");
		} else {
			gw_connect_handle(c, f.id, f.params);
		}
		json_decref(f.root);
		return;
	}
	if (r < 0) {
		gw_conn_reply_error(c, f.id ? f.id : "invalid", GW_E_INVALID_REQUEST, err, NULL);
	} else if (f.type == GW_FRAME_CANCEL) {
		gw_calls_cancel(c, f.id);
	} else if (!strcmp(f.method, "connect")) {
		gw_conn_reply_error(c, f.id, GW_E_INVALID_REQUEST,
				    "connect is only valid as the first request", NULL);
	} else {
		gw_dispatch(c, f.id, f.method, f.params);
	}
	json_decref(f.root);
}

static void gw_ws_closed(struct http_ws *ws, void *arg, int code)
{
	struct gw_conn *c = arg;
	struct gateway *gw = c->gw;
	bool was_listed = c->in_presence;

	if (!c->ws) {
		/* Accepted, but the upgrade never completed: it was never listed. */
		gw_conn_free(c);
		return;
	}
	if (c->state == GWC_READY)
		gw->nready--;
	c->state = GWC_CLOSING;
	c->ws = NULL;
	gw_hs_unlink(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		gw->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	gw->nconns--;
	gw_calls_detach(c);
	log_debug(GW_SUBSYS, "conn %.8s closed (%d)", c->conn_id, code);
	gw_conn_free(c);
	if (was_listed && !gw->stopping)
		gw_presence_changed(gw);
}

static const struct http_ws_handler gw_ws_handler = {
	.accept = gw_ws_accept,
	.open = gw_ws_open,
	.message = gw_ws_message,
	.closed = gw_ws_closed,
	.max_message = GW_MAX_PREAUTH_PAYLOAD,
	.max_buffered = GW_MAX_BUFFERED,
};

const struct http_ws_handler *gateway_ws_handler(void)
{
	return &gw_ws_handler;
}

/* ==== timers ==== */

static void gw_on_hs_timer(uv_timer_t *t)
{
	struct gateway *gw = t->data;
	int64_t now = time_mono_ms();

	while (gw->hs_head && gw->hs_head->opened_mono_ms + GW_HANDSHAKE_TIMEOUT_MS <= now) {
		struct gw_conn *c = gw->hs_head;

		log_debug(GW_SUBSYS, "conn %.8s from %s: no connect within %d s; closing",
			  c->conn_id, c->peer, GW_HANDSHAKE_TIMEOUT_MS / 1000);
		gw_conn_close(c, GW_CLOSE_NORMAL, "handshake timeout");
	}
	gw_hs_arm(gw);
}

static void gw_on_tick(uv_timer_t *t)
{
	struct gateway *gw = t->data;

	if (gw->nready)
		gateway_broadcast(gw, "tick", json_pack("{s:I}", "ts", (json_int_t)time_now_ms()),
				  false);
}

static void gw_on_presence_timer(uv_timer_t *t)
{
	struct gateway *gw = t->data;

	gateway_broadcast(gw, "presence", json_pack("{s:o}", "presence", gateway_presence_json(gw)),
			  true);
}

/*
 * Every presence event carries the whole list, to every client: sent on
 * each arrival, n clients joining would cost n^3 entries. Coalescing a
 * burst into one event keeps that linear per burst.
 */
void gw_presence_changed(struct gateway *gw)
{
	gw->presence_version++;
	if (gw->timers_open && !uv_is_active((uv_handle_t *)&gw->presence_timer))
		uv_timer_start(&gw->presence_timer, gw_on_presence_timer, GW_PRESENCE_COALESCE_MS,
			       0);
}

/* ==== lifecycle ==== */

json_t *gateway_request_restart(struct gateway *gw, int64_t delay_ms, const char *reason)
{
	if (!gw->on_restart || gw->stopping)
		return NULL;
	return gw->on_restart(gw, delay_ms, reason, gw->on_restart_arg);
}

/* The agent runtime's events: tool streams only to clients that asked for them. */
static void gw_agent_emit(void *arg, const char *event, json_t *payload, unsigned flags)
{
	struct gateway *gw = arg;

	if (gw->stopping && strcmp(event, "agent") && strcmp(event, "chat")) {
		json_decref(payload);
		return;
	}
	gateway_broadcast_cap(gw, event, payload, false,
			      (flags & AGENT_EMIT_TOOL) ? "tool-events" : NULL);
}

struct gateway *gateway_new(uv_loop_t *loop, struct config *cfg, const struct paths *paths,
			    char *err, size_t errlen)
{
	struct gateway *gw = xcalloc(1, sizeof(*gw));

	if (gw_auth_init(&gw->auth, cfg, err, errlen) < 0) {
		free(gw);
		return NULL;
	}
	gw->devices = devices_open(paths->state_dir, err, errlen);
	if (!gw->devices) {
		gw_auth_release(&gw->auth);
		free(gw);
		return NULL;
	}
	gw->loop = loop;
	gw->cfg = cfg;
	gw->paths = paths;
	gw->started_ms = time_now_ms();
	gw->started_mono_ms = time_mono_ms();
	id_uuid(gw->boot_id);
	if (gethostname(gw->hostname, sizeof(gw->hostname)) < 0 || !gw->hostname[0])
		snprintf(gw->hostname, sizeof(gw->hostname), "localhost");
	gw->hostname[sizeof(gw->hostname) - 1] = '\0';
	gw->presence_version = 1;
	gw->health_version = 1;
	uv_timer_init(loop, &gw->tick_timer);
	uv_timer_init(loop, &gw->hs_timer);
	uv_timer_init(loop, &gw->presence_timer);
	gw->tick_timer.data = gw->hs_timer.data = gw->presence_timer.data = gw;
	gw->timers_open = true;
	gw_reload_init(gw);
	{
		struct agent_hooks hooks = { .emit = gw_agent_emit, .arg = gw };
		gw->agents = agent_rt_new(loop, (struct config *const *)&gw->cfg, paths, &hooks);
	}
	gw_approvals_start(gw);
	return gw;
}

void gateway_start(struct gateway *gw)
{
	uv_timer_start(&gw->tick_timer, gw_on_tick, GW_TICK_INTERVAL_MS, GW_TICK_INTERVAL_MS);
	/* Connections may have arrived before: the timer must cover them too. */
	gw_hs_arm(gw);
	gw_reload_start(gw);
	/* the agent's `gateway` tool reaches the config methods through this gateway */
	tool_gateway_bind(gw);
}

void gateway_shutdown(struct gateway *gw, const char *reason, int64_t restart_ms)
{
	json_t *payload;
	struct gw_conn *c, *next;

	if (gw->stopping)
		return;
	gw->stopping = true;
	payload = json_pack("{s:s}", "reason", reason);
	if (restart_ms > 0)
		json_object_set_new(payload, "restartExpectedMs", json_integer(restart_ms));
	/* runs end first, so their clients see them end before the shutdown */
	agent_rt_shutdown(gw->agents);
	gw_approvals_stop(gw);
	gateway_broadcast(gw, "shutdown", payload, false);
	for (c = gw->conns; c; c = next) {
		next = c->next;
		gw_conn_close(c, restart_ms > 0 ? GW_CLOSE_RESTART : GW_CLOSE_GOING,
			      restart_ms > 0 ? "gateway restarting" : "gateway stopping");
	}
	if (gw->timers_open) {
		gw->timers_open = false;
		uv_close((uv_handle_t *)&gw->tick_timer, NULL);
		uv_close((uv_handle_t *)&gw->hs_timer, NULL);
		uv_close((uv_handle_t *)&gw->presence_timer, NULL);
	}
	gw_reload_stop(gw);
}

void gateway_free(struct gateway *gw)
{
	if (!gw)
		return;
	tool_gateway_unbind(gw);
	/* Connections are freed as their sockets close; any left were never opened. */
	while (gw->conns) {
		struct gw_conn *c = gw->conns;

		gw->conns = c->next;
		gw_calls_detach(c);
		gw_conn_free(c);
	}
	agent_rt_free(gw->agents);
	json_decref(gw->health_cache);
	free(gw->log_path);
	devices_free(gw->devices);
	free(gw->identity);
	gw_auth_release(&gw->auth);
	gw_reload_release(gw);
	config_release(gw->cfg);
	free(gw->cfg);
	free(gw);
}
