/*
 * connect.c - the handshake: validate ConnectParams, negotiate the
 * protocol, check the browser origin, authenticate, then answer hello-ok.
 *
 * Every failure is answered the way OpenClaw answers it, because its
 * clients decide what to do next from these fields: an error response
 * (INVALID_REQUEST or NOT_PAIRED, details.code, recovery hints) and then a
 * 1008 close whose reason repeats the message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "core/log.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "gateway/internal.h"

/* Answer `id` with an error, then close with 1008 and the message as reason. */
static void gw_connect_fail(struct gw_conn *c, const char *id, const char *code,
			    const char *message, json_t *details)
{
	log_info(GW_SUBSYS, "conn %.8s from %s: connect refused: %s", c->conn_id, c->peer,
		 message);
	gw_conn_reply_error(c, id, code, message, details);
	gw_conn_close(c, GW_CLOSE_POLICY, message);
}

/* ==== origin ==== */

/* The host part of an origin ("http://[::1]:18789" -> "::1"), into `out`. */
static void gw_origin_host(const char *origin, char *out, size_t outlen)
{
	const char *p = strstr(origin, "://");
	size_t n;

	p = p ? p + 3 : origin;
	if (*p == '[') {
		p++;
		n = strcspn(p, "]");
	} else {
		n = strcspn(p, ":/");
	}
	snprintf(out, outlen, "%.*s", (int)n, p);
}

static bool gw_host_is_loopback(const char *host)
{
	return !strcasecmp(host, "localhost") || !strncmp(host, "127.", 4) ||
	       !strcmp(host, "::1") || str_ends_with(host, ".localhost");
}

/*
 * May a browser page from `c->origin` drive this gateway? Listed in
 * gateway.controlUi.allowedOrigins ("*" allows any), or a loopback page
 * talking to the gateway over loopback. Matching the Host header is a
 * break-glass option only: a DNS-rebinding page has a matching Host.
 */
static bool gw_origin_allowed(const struct gw_conn *c)
{
	const struct config *cfg = c->gw->cfg;
	json_t *list = config_get(cfg, "gateway.controlUi.allowedOrigins");
	char host[256];
	size_t i;
	json_t *v;

	if (!c->origin)
		return true;
	json_array_foreach(list, i, v)
	{
		const char *o = json_string_value(v);

		if (o && (!strcmp(o, "*") || !strcasecmp(o, c->origin)))
			return true;
	}
	gw_origin_host(c->origin, host, sizeof(host));
	if (c->loopback && gw_host_is_loopback(host))
		return true;
	if (config_get_bool(cfg, "gateway.controlUi.dangerouslyAllowHostHeaderOriginFallback") &&
	    c->host_header) {
		char hh[256];

		gw_origin_host(c->host_header, hh, sizeof(hh));
		return !strcasecmp(hh, host);
	}
	return false;
}

/* ==== shared-secret auth ==== */

struct gw_auth_outcome {
	bool ok;
	const char *method; /* hello-ok auth.method */
	const char *reason; /* OpenClaw's failure reason, e.g. "token_mismatch" */
	int64_t retry_after_ms;
};

static const char *gw_auth_provided(const struct gw_connect *p)
{
	if (p->auth_token)
		return "token";
	if (p->auth_password)
		return "password";
	if (p->auth_device_token)
		return "device-token";
	if (p->auth_bootstrap_token)
		return "bootstrap-token";
	return "none";
}

static bool gw_client_is_cli(const struct gw_connect *p)
{
	return !strcmp(p->client_id, "cli") || !strcmp(p->client_mode, "cli");
}

static bool gw_client_is_ui(const struct gw_connect *p)
{
	return !strcmp(p->client_id, "openclaw-control-ui") || !strcmp(p->client_id, "webchat-ui") ||
	       !strcmp(p->client_id, "webchat") || !strcmp(p->client_mode, "webchat") ||
	       !strcmp(p->client_mode, "ui");
}

/* OpenClaw's wording for an auth failure, with the hint that fits the client. */
static void gw_auth_message(const struct gw_conn *c, const struct gw_connect *p,
			    const char *reason, char *out, size_t outlen)
{
	bool cli = gw_client_is_cli(p), ui = gw_client_is_ui(p);
	const char *token_hint =
		cli ? (c->loopback ? "use this gateway's gateway.auth.token or pair the device"
				   : "set gateway.remote.token to match gateway.auth.token")
		: ui ? "open the dashboard URL and paste the token in Control UI settings"
		     : "provide gateway auth token";
	const char *password_hint =
		cli ? (c->loopback ? "use this gateway's gateway.auth.password"
				   : "set gateway.remote.password to match gateway.auth.password")
		: ui ? "enter the password in Control UI settings"
		     : "provide gateway auth password";

	if (!strcmp(reason, "token_missing"))
		snprintf(out, outlen, "unauthorized: gateway token missing (%s)", token_hint);
	else if (!strcmp(reason, "token_mismatch"))
		snprintf(out, outlen, "unauthorized: gateway token mismatch (%s)", token_hint);
	else if (!strcmp(reason, "password_missing"))
		snprintf(out, outlen, "unauthorized: gateway password missing (%s)", password_hint);
	else if (!strcmp(reason, "password_mismatch"))
		snprintf(out, outlen, "unauthorized: gateway password mismatch (%s)",
			 password_hint);
	else if (!strcmp(reason, "rate_limited"))
		snprintf(out, outlen,
			 "unauthorized: too many failed authentication attempts (retry later)");
	else if (!strcmp(reason, "device_token_mismatch"))
		snprintf(out, outlen,
			 "unauthorized: device token mismatch (rotate/reissue device token)");
	else if (!strcmp(reason, "scope_mismatch"))
		snprintf(out, outlen,
			 "unauthorized: device token scope mismatch (re-pair or approve scope "
			 "upgrade)");
	else if (!strncmp(reason, "trusted_proxy_", 14))
		snprintf(out, outlen,
			 "unauthorized: trusted proxy identity required (connect through a proxy "
			 "listed in gateway.trustedProxies that sets the user header)");
	else
		snprintf(out, outlen, "unauthorized");
}

static const char *gw_auth_detail_code(const char *reason)
{
	static const struct {
		const char *reason, *code;
	} map[] = {
		{ "token_missing", "AUTH_TOKEN_MISSING" },
		{ "token_mismatch", "AUTH_TOKEN_MISMATCH" },
		{ "password_missing", "AUTH_PASSWORD_MISSING" },
		{ "password_mismatch", "AUTH_PASSWORD_MISMATCH" },
		{ "rate_limited", "AUTH_RATE_LIMITED" },
		{ "device_token_mismatch", "AUTH_DEVICE_TOKEN_MISMATCH" },
		{ "scope_mismatch", "AUTH_SCOPE_MISMATCH" },
		{ "trusted_proxy_missing_header", "AUTH_IDENTITY_HEADER_REQUIRED" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (!strcmp(reason, map[i].reason))
			return map[i].code;
	return "AUTH_UNAUTHORIZED";
}

static const char *gw_auth_next_step(const char *reason)
{
	if (!strcmp(reason, "token_missing") || !strcmp(reason, "password_missing"))
		return "update_auth_configuration";
	if (!strcmp(reason, "token_mismatch") || !strcmp(reason, "password_mismatch") ||
	    !strcmp(reason, "device_token_mismatch"))
		return "update_auth_credentials";
	if (!strcmp(reason, "rate_limited"))
		return "wait_then_retry";
	return "review_auth_configuration";
}

static void gw_reject_unauthorized(struct gw_conn *c, const char *id, const struct gw_connect *p,
				   const struct gw_auth_outcome *o)
{
	char msg[256];
	json_t *details, *res, *err;
	bool retry_device = !strcmp(o->reason, "token_mismatch") && p->device &&
			    p->auth_token && !p->auth_device_token;

	gw_auth_message(c, p, o->reason, msg, sizeof(msg));
	details = json_pack("{s:s, s:s, s:b, s:s}", "code", gw_auth_detail_code(o->reason),
			    "authReason", o->reason, "canRetryWithDeviceToken", retry_device,
			    "recommendedNextStep",
			    retry_device ? "retry_with_device_token" : gw_auth_next_step(o->reason));
	log_info(GW_SUBSYS, "conn %.8s from %s: unauthorized (%s, auth=%s, client=%s)",
		 c->conn_id, c->peer, o->reason, gw_auth_provided(p), p->client_id);
	res = gw_res_error(id, GW_E_INVALID_REQUEST, msg, details);
	if (o->retry_after_ms > 0) {
		err = json_object_get(res, "error");
		json_object_set_new(err, "retryable", json_true());
		json_object_set_new(err, "retryAfterMs", json_integer(o->retry_after_ms));
	}
	gateway_send_frame(c, res);
	gw_conn_close(c, GW_CLOSE_POLICY, msg);
}

/*
 * Check the shared secret (or the mode's equivalent). Device tokens and
 * pairing are the device layer's business and are not decided here.
 */
static void gw_auth_shared(struct gw_conn *c, const struct gw_connect *p,
			   struct gw_auth_outcome *o)
{
	struct gw_auth *a = &c->gw->auth;
	bool good;

	memset(o, 0, sizeof(*o));
	switch (a->mode) {
	case GW_AUTH_NONE:
		o->ok = true;
		o->method = "none";
		return;
	case GW_AUTH_TRUSTED_PROXY:
		if (!gw_auth_is_trusted_proxy(a, c->peer)) {
			o->reason = "trusted_proxy_untrusted_source";
			return;
		}
		if (!c->proxy_user || !*c->proxy_user) {
			o->reason = "trusted_proxy_missing_header";
			return;
		}
		o->ok = true;
		o->method = "trusted-proxy";
		return;
	case GW_AUTH_TOKEN:
	case GW_AUTH_PASSWORD:
		break;
	}
	if (a->mode == GW_AUTH_TOKEN) {
		/* OpenClaw also takes the token when a client sends it as password. */
		const char *got = p->auth_token ? p->auth_token : p->auth_password;

		if (!got) {
			o->reason = "token_missing";
			return;
		}
		good = gw_auth_token_ok(a, got);
		o->reason = good ? NULL : "token_mismatch";
		o->method = "token";
	} else {
		if (!p->auth_password) {
			o->reason = "password_missing";
			return;
		}
		good = gw_auth_password_ok(a, p->auth_password);
		o->reason = good ? NULL : "password_mismatch";
		o->method = "password";
	}
	o->ok = good;
}

/* ==== connect ==== */

static json_t *gw_granted_scopes(const struct gw_connect *p)
{
	/* A probe only learns whether the gateway is there (OpenClaw grants it nothing). */
	if (!strcmp(p->client_mode, "probe"))
		return json_array();
	return json_deep_copy(p->scopes);
}

void gw_connect_handle(struct gw_conn *c, const char *id, json_t *params)
{
	struct gateway *gw = c->gw;
	struct gw_connect p;
	struct gw_auth_outcome o;
	char err[256];
	json_t *auth, *hello;
	int proto;

	if (gw_connect_parse(params, &p, err, sizeof(err)) < 0) {
		gw_connect_fail(c, id, GW_E_INVALID_REQUEST, err, NULL);
		return;
	}
	proto = gw_connect_negotiate(&p);
	if (proto < 0) {
		gw_connect_fail(c, id, GW_E_INVALID_REQUEST, "protocol mismatch",
				json_pack("{s:s, s:i, s:i, s:i, s:i}", "code", "PROTOCOL_MISMATCH",
					  "clientMinProtocol", p.min_protocol,
					  "clientMaxProtocol", p.max_protocol, "expectedProtocol",
					  GW_PROTOCOL_VERSION, "minimumProbeProtocol",
					  GW_MIN_PROBE_VERSION));
		goto out;
	}
	if (!gw_origin_allowed(c)) {
		gw_connect_fail(c, id, GW_E_INVALID_REQUEST,
				"origin not allowed (open the Control UI from the gateway host or "
				"allow it in gateway.controlUi.allowedOrigins)",
				json_pack("{s:s, s:s}", "code", "CONTROL_UI_ORIGIN_NOT_ALLOWED",
					  "reason", "origin not allowed"));
		goto out;
	}

	memset(&o, 0, sizeof(o));
	o.retry_after_ms = gw_auth_retry_after(&gw->auth, c->peer, c->loopback, time_now_ms());
	if (o.retry_after_ms > 0) {
		o.reason = "rate_limited";
		gw_reject_unauthorized(c, id, &p, &o);
		goto out;
	}
	/*
	 * Without any credential, and no device to pair, there is nothing to
	 * check: OpenClaw asks for a device identity, so does pincer.
	 */
	if (gw->auth.mode != GW_AUTH_NONE && gw->auth.mode != GW_AUTH_TRUSTED_PROXY &&
	    !p.auth_token && !p.auth_password && !p.device) {
		gw_connect_fail(c, id, GW_E_NOT_PAIRED, "device identity required",
				json_pack("{s:s}", "code", "DEVICE_IDENTITY_REQUIRED"));
		goto out;
	}
	if (p.role == GW_ROLE_NODE && !p.device) {
		gw_connect_fail(c, id, GW_E_NOT_PAIRED, "device identity required",
				json_pack("{s:s}", "code", "DEVICE_IDENTITY_REQUIRED"));
		goto out;
	}
	gw_auth_shared(c, &p, &o);
	if (!o.ok) {
		gw_auth_failed(&gw->auth, c->peer, c->loopback, time_now_ms());
		gw_reject_unauthorized(c, id, &p, &o);
		goto out;
	}
	gw_auth_succeeded(&gw->auth, c->peer);

	c->protocol = proto;
	c->role = p.role;
	c->scopes = gw_granted_scopes(&p);
	c->caps = p.caps ? json_deep_copy(p.caps) : json_array();
	c->client = json_deep_copy(json_object_get(params, "client"));
	snprintf(c->auth_method, sizeof(c->auth_method), "%s", o.method);
	gw_conn_mark_ready(c);
	/* Probes and one-shot CLI calls come and go; presence lists the clients that stay. */
	c->in_presence = strcmp(p.client_mode, "probe") && strcmp(p.client_mode, "cli");

	auth = json_pack("{s:s, s:s, s:O}", "method", o.method, "role", gw_role_name(p.role),
			 "scopes", c->scopes);
	hello = gw_hello_ok(c, auth);
	gateway_send_frame(c, gw_res_ok(id, hello));
	log_info(GW_SUBSYS, "conn %.8s from %s: %s %s (%s) connected as %s, auth %s", c->conn_id,
		 c->peer, p.client_id, p.client_version, p.client_mode, gw_role_name(p.role),
		 o.method);
	if (c->in_presence)
		gw_presence_changed(gw);
out:
	gw_connect_release(&p);
}
