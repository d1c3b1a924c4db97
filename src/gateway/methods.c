/*
 * methods.c - the method registry and request dispatch; see methods.h.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "gateway/internal.h"

/* Every family's table; features.methods lists them in this order. */
static const struct gw_method *const gw_families[] = {
	gw_methods_system,    gw_methods_config,    gw_methods_devices, gw_methods_agent,
	gw_methods_approvals, gw_methods_controlui, gw_methods_skills,  gw_methods_models,
};

/*
 * Events this gateway emits. Kept next to the method families so that
 * adding an emitter and advertising it happen in the same place.
 */
static const char *const gw_events[] = {
	"connect.challenge",
	"tick",
	"presence",
	"health",
	"shutdown",
	"config.changed",
	"device.pair.requested",
	"device.pair.resolved",
	"agent",
	"chat",
	"sessions.changed",
	"skills.changed",
	"exec.approval.requested",
	"exec.approval.resolved",
};

const struct gw_method *gw_method_find(const char *name)
{
	for (size_t f = 0; f < ARRAY_SIZE(gw_families); f++)
		for (const struct gw_method *m = gw_families[f]; m->name; m++)
			if (!strcmp(m->name, name))
				return m;
	return NULL;
}

json_t *gw_method_names(void)
{
	json_t *a = json_array();

	for (size_t f = 0; f < ARRAY_SIZE(gw_families); f++)
		for (const struct gw_method *m = gw_families[f]; m->name; m++)
			json_array_append_new(a, json_string(m->name));
	return a;
}

json_t *gw_event_names(void)
{
	json_t *a = json_array();

	for (size_t i = 0; i < ARRAY_SIZE(gw_events); i++)
		json_array_append_new(a, json_string(gw_events[i]));
	return a;
}

/* ==== calls ==== */

static void gw_call_unlink(struct gw_call *call)
{
	struct gw_conn *c = call->conn;

	if (!c)
		return;
	if (call->prev)
		call->prev->next = call->next;
	else
		c->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	call->prev = call->next = NULL;
}

static void gw_call_free(struct gw_call *call)
{
	free(call->id);
	json_decref(call->params);
	free(call);
}

void gw_call_ok(struct gw_call *call, json_t *payload)
{
	if (call->local_done)
		call->local_done(call->local_arg, payload ? payload : json_object(), NULL);
	else if (call->conn)
		gateway_send_frame(call->conn, gw_res_ok(call->id, payload));
	else
		json_decref(payload);
	gw_call_unlink(call);
	gw_call_free(call);
}

void gw_call_error(struct gw_call *call, const char *code, const char *message, json_t *details)
{
	if (call->local_done) {
		json_t *e = json_pack("{s:s, s:s}", "code", code, "message", message);

		if (details)
			json_object_set_new(e, "details", details);
		call->local_done(call->local_arg, NULL, e);
	} else if (call->conn)
		gateway_send_frame(call->conn, gw_res_error(call->id, code, message, details));
	else
		json_decref(details);
	gw_call_unlink(call);
	gw_call_free(call);
}

void gw_call_fail(struct gw_call *call, json_t *error)
{
	if (call->local_done)
		call->local_done(call->local_arg, NULL, error);
	else if (call->conn)
		gateway_send_frame(call->conn, json_pack("{s:s, s:s, s:b, s:o}", "type", "res",
							 "id", call->id, "ok", 0, "error", error));
	else
		json_decref(error);
	gw_call_unlink(call);
	gw_call_free(call);
}

void gw_call_progress(struct gw_call *call, json_t *payload)
{
	if (call->conn)
		gateway_send_frame(call->conn, gw_res_ok(call->id, payload));
	else
		json_decref(payload);
}

int gw_call_closed(struct gw_call *call, const char *const *keys)
{
	const char *k;
	json_t *v;
	size_t i;

	if (!json_is_object(call->params)) {
		gw_call_invalid(call, "invalid %s params: at root: must be object",
				call->method->name);
		return -1;
	}
	json_object_foreach(call->params, k, v)
	{
		for (i = 0; keys[i] && strcmp(keys[i], k); i++)
			;
		if (!keys[i]) {
			gw_call_invalid(call,
					"invalid %s params: at root: unexpected property '%s'",
					call->method->name, k);
			return -1;
		}
	}
	return 0;
}

void gw_call_invalid(struct gw_call *call, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gw_call_error(call, GW_E_INVALID_REQUEST, msg, NULL);
}

/* What a value of unpack format char `t` must be, in OpenClaw's words; NULL: any. */
static const char *gw_unpack_kind(char t, const json_t *v, bool *ok)
{
	switch (t) {
	case 's':
		*ok = json_is_string(v);
		return "string";
	case 'i':
	case 'I':
		*ok = json_is_integer(v);
		return "integer";
	case 'b':
		*ok = json_is_boolean(v);
		return "boolean";
	case 'f':
	case 'F':
		*ok = json_is_number(v);
		return "number";
	case 'n':
		*ok = json_is_null(v);
		return "null";
	default:
		*ok = true;
		return NULL;
	}
}

/*
 * jansson says what was wrong ("Expected string, got integer") but not
 * where. Walk a flat "{s:x, s?y}" format alongside its arguments to name
 * the field, as OpenClaw's validator does: "at /message: must be string",
 * "at root: must have required property 'message'". Returns 0 when no
 * top-level field explains the failure (the caller keeps jansson's text).
 */
static int gw_unpack_culprit(const json_t *obj, const char *fmt, va_list ap, char *out,
			     size_t outlen)
{
	const char *f = fmt;

	if (!json_is_object(obj) || *f != '{')
		return 0;
	for (f++; *f && *f != '}';) {
		const char *key;
		const json_t *v;
		bool optional = false, ok;
		const char *kind;
		char t;

		while (*f == ' ' || *f == ',' || *f == '\t')
			f++;
		if (*f != 's')
			return 0;
		key = va_arg(ap, const char *);
		f++;
		if (*f == '?') {
			optional = true;
			f++;
		}
		if (*f == ':')
			f++;
		t = *f++;
		if (t == '{' || t == '[' || t == '%' || *f == '%')
			return 0; /* nested or sized: not walked */
		(void)va_arg(ap, void *);
		v = json_object_get(obj, key);
		if (!v) {
			if (optional)
				continue;
			snprintf(out, outlen, "at root: must have required property '%s'", key);
			return 1;
		}
		kind = gw_unpack_kind(t, v, &ok);
		if (!ok && kind) {
			snprintf(out, outlen, "at /%s: must be %s", key, kind);
			return 1;
		}
	}
	return 0;
}

static int gw_call_vunpack(struct gw_call *call, size_t flags, const char *fmt, va_list ap)
{
	json_error_t err;
	char where[256];
	va_list ap2;
	int r;

	va_copy(ap2, ap);
	r = json_vunpack_ex(call->params, &err, flags, fmt, ap);
	if (r < 0) {
		if (gw_unpack_culprit(call->params, fmt, ap2, where, sizeof(where)))
			gw_call_invalid(call, "invalid %s params: %s", call->method->name, where);
		else
			gw_call_invalid(call, "invalid %s params: %s", call->method->name,
					err.text);
	}
	va_end(ap2);
	return r < 0 ? -1 : 0;
}

int gw_call_unpack(struct gw_call *call, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = gw_call_vunpack(call, JSON_STRICT, fmt, ap);
	va_end(ap);
	return r;
}

int gw_call_unpack_loose(struct gw_call *call, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = gw_call_vunpack(call, 0, fmt, ap);
	va_end(ap);
	return r;
}

void gw_dispatch(struct gw_conn *c, const char *id, const char *method, json_t *params)
{
	const struct gw_method *m = gw_method_find(method);
	struct gw_call *call;
	char msg[160];

	if (!m) {
		snprintf(msg, sizeof(msg), "unknown method: %.120s", method);
		gw_conn_reply_error(c, id, GW_E_INVALID_REQUEST, msg, NULL);
		return;
	}
	if (!scopes_allow(c->scopes, m->scope)) {
		snprintf(msg, sizeof(msg), "missing scope: %s", m->scope);
		gw_conn_reply_error(c, id, GW_E_FORBIDDEN, msg,
				    json_pack("{s:s, s:s, s:[s]}", "code", "MISSING_SCOPE",
					      "missingScope", m->scope, "requiredScopes",
					      m->scope));
		return;
	}
	call = xcalloc(1, sizeof(*call));
	call->gw = c->gw;
	call->conn = c;
	call->method = m;
	call->id = xstrdup(id);
	call->params = params ? json_incref(params) : json_object();
	call->next = c->calls;
	if (c->calls)
		c->calls->prev = call;
	c->calls = call;
	log_trace(GW_SUBSYS, "conn %.8s: %s", c->conn_id, method);
	m->fn(call);
}

void gw_call_local(struct gateway *gw, const char *method, json_t *params,
		   void (*done)(void *arg, json_t *payload, json_t *error), void *arg)
{
	const struct gw_method *m = gw_method_find(method);
	struct gw_call *call;

	if (!m) {
		json_decref(params);
		done(arg, NULL,
		     json_pack("{s:s, s:s+}", "code", GW_E_INVALID_REQUEST, "message",
			       "unknown method: ", method));
		return;
	}
	call = xcalloc(1, sizeof(*call));
	call->gw = gw;
	call->method = m;
	call->id = xstrdup("local");
	call->params = params ? params : json_object();
	call->local_done = done;
	call->local_arg = arg;
	log_trace(GW_SUBSYS, "in-process call: %s", method);
	m->fn(call);
}

void gw_calls_detach(struct gw_conn *c)
{
	struct gw_call *list = c->calls, *call, *next;

	/* Detach every call first: a cancel handler may finish (and free) its own. */
	c->calls = NULL;
	for (call = list; call; call = call->next)
		call->conn = NULL;
	for (call = list; call; call = next) {
		next = call->next;
		call->prev = call->next = NULL;
		if (call->cancel) {
			void (*cancel)(struct gw_call *) = call->cancel;

			call->cancel = NULL;
			cancel(call);
		}
	}
}

void gw_calls_cancel(struct gw_conn *c, const char *id)
{
	for (struct gw_call *call = c->calls; call; call = call->next) {
		if (strcmp(call->id, id))
			continue;
		if (call->cancel) {
			void (*cancel)(struct gw_call *) = call->cancel;

			call->cancel = NULL;
			cancel(call);
		}
		return;
	}
}
