/*
 * http.c - the plain HTTP routes beside the WebSocket on the gateway port:
 * OpenClaw's probes (/health, /healthz, /ready, /readyz, /startupz),
 * OpenClaw's POST /tools/invoke, and every other GET to the Control UI
 * (ui.c), or to a small status page at / when gateway.controlUi.enabled
 * is false.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "agent/runtime.h"
#include "config/paths.h"
#include "core/buf.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "gateway/gateway.h"
#include "gateway/ui.h"

/* Liveness, as OpenClaw's /health and /healthz, plus version and uptime. */
static void http_health(const struct http_request *req, struct http_response *res, void *arg)
{
	struct gateway *gw = arg;

	http_response_json(res, 200,
			   json_pack("{s:b, s:s, s:s, s:I}", "ok", 1, "status", "live", "version",
				     PINCER_VERSION, "uptimeMs",
				     (json_int_t)gateway_uptime_ms(gw)));
	http_response_header(res, "Cache-Control", "no-store");
}

/* Does the request carry the gateway token or password as a bearer credential? */
bool gw_http_bearer_ok(const struct gateway *gw, const struct http_request *req)
{
	const char *h = http_request_header(req, "Authorization");
	const char *cred;

	if (!h || strncasecmp(h, "Bearer ", 7))
		return false;
	cred = h + 7;
	return gw_auth_token_ok(&gw->auth, cred) || gw_auth_password_ok(&gw->auth, cred);
}

/*
 * Readiness, as OpenClaw's /ready and /readyz: details only for local
 * clients or ones holding the gateway credential, {ready} for the rest.
 */
static void http_ready(const struct http_request *req, struct http_response *res, void *arg)
{
	struct gateway *gw = arg;
	bool ready = !gw->stopping;
	json_t *o;

	if (req->peer_loopback || gw_http_bearer_ok(gw, req)) {
		o = json_pack("{s:b, s:[], s:I}", "ready", ready, "failing", "uptimeMs",
			      (json_int_t)gateway_uptime_ms(gw));
		if (!ready)
			json_array_append_new(json_object_get(o, "failing"),
					      json_string("gateway-draining"));
	} else {
		o = json_pack("{s:b}", "ready", ready);
	}
	http_response_json(res, ready ? 200 : 503, o);
	http_response_header(res, "Cache-Control", "no-store");
}

/* "3 s", "2 min 5 s", "4 h 12 min", "3 d 2 h". */
static void http_format_uptime(char *out, size_t outlen, int64_t ms)
{
	int64_t s = ms / 1000, m = s / 60, h = m / 60, d = h / 24;

	if (d)
		snprintf(out, outlen, "%lld d %lld h", (long long)d, (long long)(h % 24));
	else if (h)
		snprintf(out, outlen, "%lld h %lld min", (long long)h, (long long)(m % 60));
	else if (m)
		snprintf(out, outlen, "%lld min %lld s", (long long)m, (long long)(s % 60));
	else
		snprintf(out, outlen, "%lld s", (long long)s);
}

/* A plain status page, for when the Control UI is turned off. */
static void http_index(const struct http_request *req, struct http_response *res,
		       struct gateway *gw)
{
	struct buf *b = &res->body;
	char uptime[48];

	http_format_uptime(uptime, sizeof(uptime), gateway_uptime_ms(gw));
	res->content_type = "text/html; charset=utf-8";
	http_response_header(res, "Cache-Control", "no-store");
	buf_puts(b, "<!doctype html>\n"
		    "<html lang=\"en\">\n"
		    "<head>\n"
		    "<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<title>pincer</title>\n"
		    "</head>\n"
		    "<body>\n"
		    "<h1>pincer</h1>\n"
		    "<p>The pincer gateway is running.</p>\n"
		    "<table>\n");
	buf_printf(b, "<tr><th align=\"left\">version</th><td>%s</td></tr>\n", PINCER_VERSION);
	buf_printf(b, "<tr><th align=\"left\">uptime</th><td>%s</td></tr>\n", uptime);
	buf_puts(b, "<tr><th align=\"left\">state directory</th><td>");
	/* The path names the user's home: only local clients get to see it. */
	if (req->peer_loopback)
		buf_put_escaped(b, gw->paths->state_dir);
	else
		buf_puts(b, "(shown to local clients only)");
	buf_puts(b, "</td></tr>\n"
		    "</table>\n"
		    "<p>The WebSocket control plane listens on this same address (OpenClaw's\n"
		    "protocol v4); the Control UI is turned off (gateway.controlUi.enabled).\n"
		    "Health probes: <a href=\"/health\">/health</a>,\n"
		    "<a href=\"/readyz\">/readyz</a>.</p>\n"
		    "</body>\n"
		    "</html>\n");
}

/*
 * OpenClaw's CLI asks /startupz before it opens a WebSocket (`openclaw
 * status`): started once the port serves, which is the only state here.
 */
static void http_startup(const struct http_request *req, struct http_response *res, void *arg)
{
	struct gateway *gw = arg;

	http_response_json(res, 200,
			   json_pack("{s:b, s:s, s:s, s:I}", "ok", 1, "status", "started",
				     "version", PINCER_VERSION, "uptimeMs",
				     (json_int_t)gateway_uptime_ms(gw)));
	http_response_header(res, "Cache-Control", "no-store");
}

/* POST /tools/invoke bodies are capped at 2 MB, as OpenClaw's. */
#define HTTP_TOOLS_INVOKE_MAX (2u * 1024 * 1024)

static void tools_invoke_done(void *arg, int status, json_t *body)
{
	struct http_deferred *d = arg;
	struct http_response *res = http_deferred_response(d);

	if (res) {
		http_response_json(res, status, body);
		http_response_header(res, "Cache-Control", "no-store");
	} else {
		json_decref(body); /* the client went away */
	}
	http_deferred_send(d);
}

/*
 * POST /tools/invoke {tool|name, action?, args?, sessionKey?, agentId?}:
 * one tool call with the gateway credential, under the session's tool
 * policy and the HTTP deny list (exec, apply_patch, gateway, …).
 */
static void http_tools_invoke(const struct http_request *req, struct http_response *res, void *arg)
{
	struct gateway *gw = arg;
	struct agent_tool_invoke iv = { 0 };
	json_error_t jerr;
	json_t *body;
	int64_t now = time_now_ms();
	int64_t wait;

	wait = gw_auth_retry_after(&gw->auth, req->peer, req->peer_loopback, now);
	if (wait > 0) {
		char secs[32];
		snprintf(secs, sizeof(secs), "%lld", (long long)((wait + 999) / 1000));
		http_response_header(res, "Retry-After", secs);
		http_response_json(res, 429,
				   json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "type",
					     "rate_limited", "message",
					     "too many failed attempts"));
		return;
	}
	if (gw->auth.mode != GW_AUTH_NONE && !gw_http_bearer_ok(gw, req)) {
		gw_auth_failed(&gw->auth, req->peer, req->peer_loopback, now);
		http_response_header(res, "WWW-Authenticate", "Bearer");
		http_response_json(res, 401,
				   json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "type",
					     "unauthorized", "message", "Unauthorized"));
		return;
	}
	body = req->body ? json_loadb(req->body, req->body_len, 0, &jerr) : json_object();
	if (!json_is_object(body)) {
		http_response_json(res, 400,
				   json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "type",
					     "invalid_request", "message",
					     "body must be a JSON object"));
		json_decref(body);
		return;
	}
	iv.tool = json_string_value(json_object_get(body, "tool"));
	if (!iv.tool)
		iv.tool = json_string_value(json_object_get(body, "name"));
	iv.action = json_string_value(json_object_get(body, "action"));
	iv.args = json_object_get(body, "args");
	iv.session_key = json_string_value(json_object_get(body, "sessionKey"));
	iv.agent_id = json_string_value(json_object_get(body, "agentId"));
	iv.http = true;
	iv.done = tools_invoke_done;
	iv.arg = http_response_defer(req);
	/* the runtime copies what it keeps; `body` may go once this returns */
	agent_rt_invoke_tool(gw->agents, &iv);
	json_decref(body);
}

/* Everything else: the Control UI, the status page, or a 404. */
static void http_other(const struct http_request *req, struct http_response *res, void *arg)
{
	struct gateway *gw = arg;

	if (gw_ui_serve(gw, req, res))
		return;
	if (!strcmp(req->path, "/"))
		http_index(req, res, gw);
	else
		http_response_error(res, 404, "not found");
}

const struct http_route gateway_http_routes[] = {
	{ "GET", "/health", http_health, 0 },
	{ "GET", "/healthz", http_health, 0 },
	{ "GET", "/ready", http_ready, 0 },
	{ "GET", "/readyz", http_ready, 0 },
	{ "GET", "/startupz", http_startup, 0 },
	{ "POST", "/tools/invoke", http_tools_invoke, HTTP_TOOLS_INVOKE_MAX },
	{ "GET", "/*", http_other, 0 },
	{ .path = NULL },
};
