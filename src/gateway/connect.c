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
#include "gateway/device_auth.h"
#include "gateway/devices.h"
#include "gateway/internal.h"

/* Answer `id` with an error, then close with 1008 and the message as reason. */
static void gw_connect_fail(struct gw_conn *c, const char *id, const char *code,
			    const char *message, json_t *details)
{
	log_info(GW_SUBSYS, "conn %.8s from %s: connect refused: %s", c->conn_id, c->peer, message);
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
	return !strcmp(p->client_id, "openclaw-control-ui") ||
	       !strcmp(p->client_id, "webchat-ui") || !strcmp(p->client_id, "webchat") ||
	       !strcmp(p->client_mode, "webchat") || !strcmp(p->client_mode, "ui");
}

/* OpenClaw's wording for an auth failure, with the hint that fits the client. */
static void gw_auth_message(const struct gw_conn *c, const struct gw_connect *p, const char *reason,
			    char *out, size_t outlen)
{
	bool cli = gw_client_is_cli(p), ui = gw_client_is_ui(p);
	const char *token_hint =
		cli  ? (c->loopback ? "use this gateway's gateway.auth.token or pair the device"
				    : "set gateway.remote.token to match gateway.auth.token")
		: ui ? "open the dashboard URL and paste the token in Control UI settings"
		     : "provide gateway auth token";
	const char *password_hint =
		cli  ? (c->loopback ? "use this gateway's gateway.auth.password"
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
	bool retry_device = !strcmp(o->reason, "token_mismatch") && p->device && p->auth_token &&
			    !p->auth_device_token;

	gw_auth_message(c, p, o->reason, msg, sizeof(msg));
	details = json_pack(
		"{s:s, s:s, s:b, s:s}", "code", gw_auth_detail_code(o->reason), "authReason",
		o->reason, "canRetryWithDeviceToken", retry_device, "recommendedNextStep",
		retry_device ? "retry_with_device_token" : gw_auth_next_step(o->reason));
	log_info(GW_SUBSYS, "conn %.8s from %s: unauthorized (%s, auth=%s, client=%s)", c->conn_id,
		 c->peer, o->reason, gw_auth_provided(p), p->client_id);
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
static void gw_auth_shared(struct gw_conn *c, const struct gw_connect *p, struct gw_auth_outcome *o)
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

/* ==== device identity and pairing ==== */

/* Verify the signed device block. Returns 0, or -1 after answering and closing. */
static int gw_device_verify(struct gw_conn *c, const char *id, const struct gw_connect *p,
			    json_t *params, struct device_auth_result *out)
{
	json_t *dev = p->device, *client = json_object_get(params, "client");
	struct device_auth_claim claim = {
		.id = json_string_value(json_object_get(dev, "id")),
		.public_key = json_string_value(json_object_get(dev, "publicKey")),
		.signature = json_string_value(json_object_get(dev, "signature")),
		.nonce = json_string_value(json_object_get(dev, "nonce")),
		.signed_at = json_integer_value(json_object_get(dev, "signedAt")),
		.client_id = json_string_value(json_object_get(client, "id")),
		.client_mode = json_string_value(json_object_get(client, "mode")),
		.role = gw_role_name(p->role),
		.scopes = json_object_get(params, "scopes"),
		.platform = p->client_platform,
		.device_family = p->client_device_family,
		.auth_token = p->auth_token,
		.auth_device_token = p->auth_device_token,
		.auth_bootstrap_token = p->auth_bootstrap_token,
	};
	enum device_auth_err e = device_auth_verify(&claim, c->nonce, time_now_ms(), out);

	if (e == DEVICE_AUTH_OK)
		return 0;
	gw_connect_fail(c, id, GW_E_INVALID_REQUEST, device_auth_err_message(e),
			json_pack("{s:s, s:s}", "code", device_auth_err_code(e), "reason",
				  device_auth_err_reason(e)));
	return -1;
}

/* Tell clients about a resolution ("approved", "rejected") of a pairing request. */
static void gw_pair_resolved(struct gateway *gw, const char *request_id, const char *device_id,
			     const char *decision)
{
	gateway_broadcast(gw, "device.pair.resolved",
			  devices_resolved_event(request_id, device_id, decision, time_now_ms()),
			  false);
}

/* Requests a new request replaced: announced as rejected, as OpenClaw does. */
static void gw_pair_superseded(struct gateway *gw, const json_t *result)
{
	size_t i;
	json_t *s;

	json_array_foreach(json_object_get(result, "superseded"), i, s)
	{
		gw_pair_resolved(gw, json_string_value(json_object_get(s, "requestId")),
				 json_string_value(json_object_get(s, "deviceId")), "rejected");
	}
}

static const char *const gw_pair_hints[][3] = {
	/* reason, requirement, remediation hint (OpenClaw's connect-error-details) */
	{ "not-paired", "device is not approved yet",
	  "Approve this device from the pending pairing requests." },
	{ "role-upgrade", "device is asking for a higher role than currently approved",
	  "Review the requested role upgrade, then approve the pending request." },
	{ "scope-upgrade", "device is asking for more scopes than currently approved",
	  "Review the requested scopes, then approve the pending upgrade." },
};

/* NOT_PAIRED "pairing required: ..." with OpenClaw's details, then a 1008 close. */
static void gw_pairing_required(struct gw_conn *c, const char *id, const struct gw_connect *p,
				const char *reason, const char *request_id, const char *device_id)
{
	const char *requirement = "device approval is required";
	const char *hint = "Approve the pending device request before retrying.";
	char msg[160], close_reason[256];
	json_t *details;

	for (size_t i = 0; i < ARRAY_SIZE(gw_pair_hints); i++)
		if (!strcmp(reason, gw_pair_hints[i][0])) {
			requirement = gw_pair_hints[i][1];
			hint = gw_pair_hints[i][2];
		}
	snprintf(msg, sizeof(msg), "pairing required: %s", requirement);
	details = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "code", "PAIRING_REQUIRED", "reason",
			    reason, "remediationHint", hint, "deviceId", device_id, "requestedRole",
			    gw_role_name(p->role), "requestedScopes", p->scopes);
	if (request_id)
		json_object_set_new(details, "requestId", json_string(request_id));
	if (request_id)
		snprintf(close_reason, sizeof(close_reason), "%s (requestId: %s)", msg, request_id);
	else
		snprintf(close_reason, sizeof(close_reason), "%s", msg);
	log_info(GW_SUBSYS, "conn %.8s from %s: device %.12s needs pairing (%s)", c->conn_id,
		 c->peer, device_id, reason);
	gw_conn_reply_error(c, id, GW_E_NOT_PAIRED, msg, details);
	gw_conn_close(c, GW_CLOSE_POLICY, close_reason);
}

/*
 * A verified device that is not yet allowed what it asks for: approve it
 * at once on a direct loopback connection (OpenClaw's silent local
 * pairing), else file a pending request, announce it and refuse. Returns
 * 0 when the device may proceed, -1 after answering and closing.
 */
static int gw_device_pair(struct gw_conn *c, const char *id, const struct gw_connect *p,
			  const struct device_auth_result *dev, enum devices_access access)
{
	struct gateway *gw = c->gw;
	struct devices_request req = {
		.device_id = dev->device_id,
		.public_key = dev->public_key,
		.display_name = p->client_display_name,
		.platform = p->client_platform,
		.device_family = p->client_device_family,
		.client_id = p->client_id,
		.client_mode = p->client_mode,
		.role = gw_role_name(p->role),
		.scopes = p->scopes,
		.remote_ip = c->peer,
		.silent = c->loopback,
	};
	json_t *result = NULL, *request;
	char err[256];
	int rc;

	if (c->loopback) {
		rc = devices_auto_approve(gw->devices, &req, time_now_ms(), &result, err,
					  sizeof(err));
		if (rc == DEVICES_OK) {
			log_info(GW_SUBSYS, "device %.12s paired silently (local connection)",
				 dev->device_id);
			gw_pair_superseded(gw, result);
			gw_pair_resolved(gw,
					 json_string_value(json_object_get(result, "requestId")),
					 dev->device_id, "approved");
			json_decref(result);
			return 0;
		}
		if (rc != DEVICES_DENIED || !result)
			goto fail;
		/* Denied (it asks for more than it may grant itself): fall back to a request. */
		req.silent = false;
		json_decref(result);
		result = NULL;
	}
	rc = devices_request(gw->devices, &req, time_now_ms(), &result, err, sizeof(err));
	if (rc != DEVICES_OK)
		goto fail;
	gw_pair_superseded(gw, result);
	request = json_object_get(result, "request");
	if (json_is_true(json_object_get(result, "created")))
		gateway_broadcast(gw, "device.pair.requested", json_incref(request), false);
	gw_pairing_required(c, id, p, devices_access_reason(access),
			    json_string_value(json_object_get(request, "requestId")),
			    dev->device_id);
	json_decref(result);
	return -1;
fail:
	json_decref(result);
	log_error(GW_SUBSYS, "device pairing store: %s", err);
	gw_connect_fail(c, id, GW_E_UNAVAILABLE,
			"device pairing is unavailable (see the gateway log)", NULL);
	return -1;
}

static bool gw_client_is_control_ui(const struct gw_connect *p)
{
	return !strcmp(p->client_id, "openclaw-control-ui") || !strcmp(p->client_id, "webchat-ui");
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
	struct device_auth_result dev;
	json_t *auth, *hello, *token = NULL;
	enum devices_access access = DEVICES_ACCESS_OK;
	char err[256];
	int proto;

	if (gw_connect_parse(params, &p, err, sizeof(err)) < 0) {
		gw_connect_fail(c, id, GW_E_INVALID_REQUEST, err, NULL);
		return;
	}
	proto = gw_connect_negotiate(&p);
	if (proto < 0) {
		gw_connect_fail(c, id, GW_E_INVALID_REQUEST, "protocol mismatch",
				json_pack("{s:s, s:i, s:i, s:i, s:i}", "code", "PROTOCOL_MISMATCH",
					  "clientMinProtocol", p.min_protocol, "clientMaxProtocol",
					  p.max_protocol, "expectedProtocol", GW_PROTOCOL_VERSION,
					  "minimumProbeProtocol", GW_MIN_PROBE_VERSION));
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
	/* A signed device block is checked first, whatever else the client sends. */
	if (p.device && gw_device_verify(c, id, &p, params, &dev) < 0)
		goto out;
	if (!p.device && gw_client_is_control_ui(&p) &&
	    !config_get_bool(gw->cfg, "gateway.controlUi.allowInsecureAuth") &&
	    !config_get_bool(gw->cfg, "gateway.controlUi.dangerouslyDisableDeviceAuth")) {
		gw_connect_fail(
			c, id, GW_E_INVALID_REQUEST,
			"control ui requires device identity (use HTTPS or localhost secure "
			"context)",
			json_pack("{s:s}", "code", "CONTROL_UI_DEVICE_IDENTITY_REQUIRED"));
		goto out;
	}
	if ((!p.device && p.role == GW_ROLE_NODE) ||
	    (!p.device && gw->auth.mode != GW_AUTH_NONE && gw->auth.mode != GW_AUTH_TRUSTED_PROXY &&
	     !p.auth_token && !p.auth_password)) {
		/* Nothing to check and no device to pair: OpenClaw asks for a device identity. */
		gw_connect_fail(c, id, GW_E_NOT_PAIRED, "device identity required",
				json_pack("{s:s}", "code", "DEVICE_IDENTITY_REQUIRED"));
		goto out;
	}

	if (p.device && p.auth_device_token && !p.auth_token && !p.auth_password) {
		/* A paired device coming back with the token it was given. */
		enum devices_token_check tc = devices_token_verify(
			gw->devices, dev.device_id, gw_role_name(p.role), p.auth_device_token,
			p.scopes, time_now_ms(), NULL, err, sizeof(err));

		memset(&o, 0, sizeof(o));
		o.ok = tc == DEVICES_TOKEN_OK;
		o.method = "device-token";
		o.reason = tc == DEVICES_TOKEN_SCOPE_MISMATCH ? "scope_mismatch"
							      : "device_token_mismatch";
	} else {
		gw_auth_shared(c, &p, &o);
	}
	if (!o.ok) {
		gw_auth_failed(&gw->auth, c->peer, c->loopback, time_now_ms());
		gw_reject_unauthorized(c, id, &p, &o);
		goto out;
	}
	gw_auth_succeeded(&gw->auth, c->peer);

	if (p.device) {
		access = devices_check_access(gw->devices, dev.device_id, dev.public_key,
					      gw_role_name(p.role), p.scopes);
		if (access != DEVICES_ACCESS_OK && gw_device_pair(c, id, &p, &dev, access) < 0)
			goto out;
		if (devices_token_ensure(gw->devices, dev.device_id, gw_role_name(p.role), p.scopes,
					 time_now_ms(), &token, err, sizeof(err)) < 0) {
			log_error(GW_SUBSYS, "device %.12s: cannot issue a device token: %s",
				  dev.device_id, err);
			gw_connect_fail(c, id, GW_E_UNAVAILABLE,
					"device pairing is unavailable (see the gateway log)",
					NULL);
			goto out;
		}
		snprintf(c->device_id, sizeof(c->device_id), "%s", dev.device_id);
	}

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
	if (token) {
		json_t *at = json_object_get(token, "rotatedAtMs");

		json_object_set(auth, "deviceToken", json_object_get(token, "token"));
		json_object_set(auth, "issuedAtMs",
				at ? at : json_object_get(token, "createdAtMs"));
	}
	hello = gw_hello_ok(c, auth);
	gateway_send_frame(c, gw_res_ok(id, hello));
	log_info(GW_SUBSYS, "conn %.8s from %s: %s %s (%s) connected as %s, auth %s%s%.12s",
		 c->conn_id, c->peer, p.client_id, p.client_version, p.client_mode,
		 gw_role_name(p.role), o.method, c->device_id[0] ? ", device " : "", c->device_id);
	if (c->in_presence)
		gw_presence_changed(gw);
out:
	json_decref(token);
	gw_connect_release(&p);
}
