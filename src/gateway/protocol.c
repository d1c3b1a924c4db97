/*
 * protocol.c - frames, error shapes and ConnectParams of the gateway
 * protocol; see protocol.h.
 *
 * Validation messages follow the wording of OpenClaw's own validator
 * ("at /client/id: must be equal to one of the allowed values"), because
 * clients and users of OpenClaw have learnt to read them. The schema of
 * ConnectParams is a small declarative table below rather than code.
 */
#include "gateway/protocol.h"

#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "core/str.h"

/* ==== frames ==== */

/* Is `v` a string with at least one byte? */
static bool gw_nonempty_string(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) > 0;
}

int gw_frame_parse(const char *data, size_t len, struct gw_frame *f, char *err, size_t errlen)
{
	json_error_t jerr;
	const char *type, *key;
	json_t *v, *id;

	memset(f, 0, sizeof(*f));
	f->root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!f->root) {
		snprintf(err, errlen, "invalid request frame: not valid JSON (%s)", jerr.text);
		return -1;
	}
	if (!json_is_object(f->root)) {
		snprintf(err, errlen, "invalid request frame: must be object%s", "");
		return -1;
	}
	id = json_object_get(f->root, "id");
	if (gw_nonempty_string(id))
		f->id = json_string_value(id);
	type = json_string_value(json_object_get(f->root, "type"));
	if (type && !strcmp(type, "cancel")) {
		f->type = GW_FRAME_CANCEL;
		json_object_foreach(f->root, key, v)
		{
			if (strcmp(key, "type") && strcmp(key, "id")) {
				snprintf(err, errlen,
					 "invalid request frame: at root: unexpected property '%s'",
					 key);
				return -1;
			}
		}
		if (!f->id) {
			snprintf(err, errlen, "invalid request frame: %s",
				 id ? "at /id: must be non-empty string"
				    : "must have required property 'id'");
			return -1;
		}
		return 0;
	}
	f->type = GW_FRAME_REQ;
	if (!type || strcmp(type, "req")) {
		snprintf(err, errlen, "invalid request frame: %s",
			 type ? "at /type: must be equal to constant"
			      : "must have required property 'type'");
		return -1;
	}
	if (!f->id) {
		snprintf(err, errlen, "invalid request frame: %s",
			 id ? "at /id: must be non-empty string"
			    : "must have required property 'id'");
		return -1;
	}
	v = json_object_get(f->root, "method");
	if (!gw_nonempty_string(v)) {
		snprintf(err, errlen, "invalid request frame: %s",
			 v ? "at /method: must be non-empty string"
			   : "must have required property 'method'");
		return -1;
	}
	f->method = json_string_value(v);
	json_object_foreach(f->root, key, v)
	{
		if (!strcmp(key, "type") || !strcmp(key, "id") || !strcmp(key, "method"))
			continue;
		if (!strcmp(key, "params")) {
			f->params = v;
			continue;
		}
		if (!strcmp(key, "traceparent")) {
			if (!json_is_string(v) || json_string_length(v) > 128) {
				snprintf(err, errlen,
					 "invalid request frame: at /traceparent: must be string "
					 "of at most 128 characters%s",
					 "");
				return -1;
			}
			continue;
		}
		snprintf(err, errlen, "invalid request frame: at root: unexpected property '%s'",
			 key);
		return -1;
	}
	return 0;
}

json_t *gw_error_shape(const char *code, const char *message, json_t *details)
{
	/*
	 * Messages quote what a client sent and are cut to fit their buffers;
	 * a cut can split a character, which a JSON string cannot hold (and
	 * json_pack would fail, losing the whole error).
	 */
	json_t *e = json_pack("{s:s, s:s%}", "code", code, "message", message,
			      str_utf8_prefix(message, strlen(message)));

	if (details)
		json_object_set_new(e, "details", details);
	return e;
}

json_t *gw_res_ok(const char *id, json_t *payload)
{
	json_t *r = json_pack("{s:s, s:s, s:b}", "type", "res", "id", id, "ok", 1);

	if (payload)
		json_object_set_new(r, "payload", payload);
	return r;
}

json_t *gw_res_error(const char *id, const char *code, const char *message, json_t *details)
{
	json_t *r = json_pack("{s:s, s:s, s:b}", "type", "res", "id", id, "ok", 0);

	json_object_set_new(r, "error", gw_error_shape(code, message, details));
	return r;
}

/* ==== client ids, modes, roles ==== */

static const char *const gw_client_ids[] = {
	"webchat-ui",
	"openclaw-control-ui",
	"openclaw-browser-copilot",
	"openclaw-tui",
	"webchat",
	"cli",
	"gateway-client",
	"openclaw-macos",
	"openclaw-linux",
	"openclaw-ios",
	"openclaw-watchos",
	"openclaw-android",
	"node-host",
	"openclaw-worker",
	"test",
	"fingerprint",
	"openclaw-probe",
};

static const char *const gw_client_modes[] = {
	"webchat", "cli", "ui", "backend", "node", "worker", "probe", "test",
};

/*
 * OpenClaw's SPEC describes the ids as case-insensitive, but 2026.9.6
 * rejects "CLI": the enum is matched exactly, and so it is here.
 */
static const char *gw_enum_find(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(s, list[i]))
			return list[i];
	return NULL;
}

const char *gw_client_id_canonical(const char *id)
{
	return gw_enum_find(id, gw_client_ids, ARRAY_SIZE(gw_client_ids));
}

const char *gw_client_mode_canonical(const char *mode)
{
	return gw_enum_find(mode, gw_client_modes, ARRAY_SIZE(gw_client_modes));
}

const char *gw_role_name(enum gw_role r)
{
	return r == GW_ROLE_NODE ? "node" : "operator";
}

/* ==== ConnectParams ==== */

enum fkind {
	F_INT1,    /* integer >= 1 */
	F_INT0,    /* integer >= 0 */
	F_STR,     /* any string */
	F_NESTR,   /* non-empty string */
	F_STR96,   /* 1..96 characters */
	F_STR64,   /* 1..64 characters */
	F_STRS,    /* array of non-empty strings */
	F_BOOLMAP, /* object of booleans */
	F_OBJ,     /* any object (validated by its owner, not here) */
	F_ANY,
	F_CLIENT_ID,
	F_CLIENT_MODE,
	F_NESTED, /* a closed object with its own field table */
};

struct field {
	const char *name;
	enum fkind kind;
	bool required;
	const struct field *nested; /* F_NESTED */
};

static const struct field f_client[] = {
	{ "id", F_CLIENT_ID, true },
	{ "displayName", F_NESTR },
	{ "version", F_NESTR, true },
	{ "buildId", F_STR96 },
	{ "platform", F_NESTR, true },
	{ "deviceFamily", F_NESTR },
	{ "modelIdentifier", F_NESTR },
	{ "timeZone", F_STR64 },
	{ "mode", F_CLIENT_MODE, true },
	{ "instanceId", F_NESTR },
	{ NULL },
};

static const struct field f_device[] = {
	{ "id", F_NESTR, true },        { "publicKey", F_NESTR, true },
	{ "signature", F_NESTR, true }, { "signedAt", F_INT0, true },
	{ "nonce", F_NESTR, true },     { NULL },
};

static const struct field f_auth[] = {
	{ "token", F_STR },
	{ "bootstrapToken", F_STR },
	{ "deviceToken", F_STR },
	{ "password", F_STR },
	{ "approvalRuntimeToken", F_STR },
	{ "agentRuntimeIdentityToken", F_STR },
	{ NULL },
};

static const struct field f_connect[] = {
	{ "minProtocol", F_INT1, true },
	{ "maxProtocol", F_INT1, true },
	{ "client", F_NESTED, true, f_client },
	{ "caps", F_STRS },
	{ "commands", F_STRS },
	{ "computerUse", F_ANY },
	{ "workerRuns", F_OBJ },
	{ "permissions", F_BOOLMAP },
	{ "pathEnv", F_STR },
	{ "role", F_NESTR },
	{ "scopes", F_STRS },
	{ "modelCatalog", F_OBJ },
	{ "device", F_NESTED, false, f_device },
	{ "auth", F_NESTED, false, f_auth },
	{ "locale", F_STR },
	{ "userAgent", F_STR },
	{ NULL },
};

static int gw_connect_fail(char *err, size_t errlen, const char *at, const char *what)
{
	snprintf(err, errlen, "invalid connect params: at %s: %s", *at ? at : "root", what);
	return -1;
}

static int gw_check_fields(const json_t *obj, const struct field *fields, const char *at, char *err,
			   size_t errlen);

/* One value against its field description. */
static int gw_check_value(const json_t *v, const struct field *f, const char *at, char *err,
			  size_t errlen)
{
	size_t i, n;
	const char *key;
	json_t *e;

	switch (f->kind) {
	case F_INT1:
	case F_INT0:
		if (!json_is_integer(v))
			return gw_connect_fail(err, errlen, at, "must be integer");
		if (json_integer_value(v) < (f->kind == F_INT1 ? 1 : 0))
			return gw_connect_fail(err, errlen, at,
					       f->kind == F_INT1 ? "must be >= 1" : "must be >= 0");
		return 0;
	case F_STR:
		return json_is_string(v) ? 0 : gw_connect_fail(err, errlen, at, "must be string");
	case F_NESTR:
	case F_STR96:
	case F_STR64:
		if (!json_is_string(v))
			return gw_connect_fail(err, errlen, at, "must be string");
		n = json_string_length(v);
		if (!n)
			return gw_connect_fail(err, errlen, at,
					       "must NOT have fewer than 1 characters");
		if ((f->kind == F_STR96 && n > 96) || (f->kind == F_STR64 && n > 64))
			return gw_connect_fail(err, errlen, at, "must NOT have more characters");
		return 0;
	case F_STRS:
		if (!json_is_array(v))
			return gw_connect_fail(err, errlen, at, "must be array");
		json_array_foreach(v, i, e)
		{
			if (!gw_nonempty_string(e)) {
				char sub[160];

				snprintf(sub, sizeof(sub), "%s/%zu", at, i);
				return gw_connect_fail(err, errlen, sub,
						       "must be non-empty string");
			}
		}
		return 0;
	case F_BOOLMAP:
		if (!json_is_object(v))
			return gw_connect_fail(err, errlen, at, "must be object");
		json_object_foreach((json_t *)v, key, e)
		{
			if (!json_is_boolean(e))
				return gw_connect_fail(err, errlen, at, "must have boolean values");
		}
		return 0;
	case F_OBJ:
		return json_is_object(v) ? 0 : gw_connect_fail(err, errlen, at, "must be object");
	case F_ANY:
		return 0;
	case F_CLIENT_ID:
		if (!gw_client_id_canonical(json_string_value(v)))
			return gw_connect_fail(err, errlen, at,
					       "must be equal to one of the allowed values");
		return 0;
	case F_CLIENT_MODE:
		if (!gw_client_mode_canonical(json_string_value(v)))
			return gw_connect_fail(err, errlen, at,
					       "must be equal to one of the allowed values");
		return 0;
	case F_NESTED:
		if (!json_is_object(v))
			return gw_connect_fail(err, errlen, at, "must be object");
		return gw_check_fields(v, f->nested, at, err, errlen);
	}
	return 0;
}

static int gw_check_fields(const json_t *obj, const struct field *fields, const char *at, char *err,
			   size_t errlen)
{
	const struct field *f;
	const char *key;
	json_t *v;
	char sub[128];

	for (f = fields; f->name; f++) {
		if (f->required && !json_object_get(obj, f->name)) {
			char what[96];

			snprintf(what, sizeof(what), "must have required property '%s'", f->name);
			return gw_connect_fail(err, errlen, at, what);
		}
	}
	json_object_foreach((json_t *)obj, key, v)
	{
		for (f = fields; f->name && strcmp(f->name, key); f++)
			;
		if (!f->name) {
			char what[160];

			snprintf(what, sizeof(what), "unexpected property '%.100s'", key);
			return gw_connect_fail(err, errlen, at, what);
		}
		snprintf(sub, sizeof(sub), "%s/%s", at, key);
		if (gw_check_value(v, f, sub, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static const char *gw_get_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

int gw_connect_parse(json_t *params, struct gw_connect *c, char *err, size_t errlen)
{
	json_t *client, *auth, *scopes;
	const char *role;

	memset(c, 0, sizeof(*c));
	if (!json_is_object(params))
		return gw_connect_fail(err, errlen, "", "must be object");
	if (gw_check_fields(params, f_connect, "", err, errlen) < 0)
		return -1;
	role = gw_get_str(params, "role");
	if (!role || !strcmp(role, "operator")) {
		c->role = GW_ROLE_OPERATOR;
	} else if (!strcmp(role, "node")) {
		c->role = GW_ROLE_NODE;
	} else {
		snprintf(err, errlen, "invalid role");
		return -1;
	}
	c->min_protocol = (int)json_integer_value(json_object_get(params, "minProtocol"));
	c->max_protocol = (int)json_integer_value(json_object_get(params, "maxProtocol"));
	client = json_object_get(params, "client");
	c->client_id = gw_client_id_canonical(gw_get_str(client, "id"));
	c->client_mode = gw_client_mode_canonical(gw_get_str(client, "mode"));
	c->client_version = gw_get_str(client, "version");
	c->client_platform = gw_get_str(client, "platform");
	c->client_display_name = gw_get_str(client, "displayName");
	c->client_device_family = gw_get_str(client, "deviceFamily");
	c->client_model_identifier = gw_get_str(client, "modelIdentifier");
	c->client_instance_id = gw_get_str(client, "instanceId");
	scopes = json_object_get(params, "scopes");
	c->scopes = scopes ? json_incref(scopes) : json_array();
	c->caps = json_object_get(params, "caps");
	c->commands = json_object_get(params, "commands");
	auth = json_object_get(params, "auth");
	c->auth_token = gw_get_str(auth, "token");
	c->auth_password = gw_get_str(auth, "password");
	c->auth_device_token = gw_get_str(auth, "deviceToken");
	c->auth_bootstrap_token = gw_get_str(auth, "bootstrapToken");
	c->device = json_object_get(params, "device");
	c->locale = gw_get_str(params, "locale");
	c->user_agent = gw_get_str(params, "userAgent");
	return 0;
}

void gw_connect_release(struct gw_connect *c)
{
	json_decref(c->scopes);
	c->scopes = NULL;
}

int gw_connect_negotiate(const struct gw_connect *c)
{
	int lowest = GW_MIN_CLIENT_VERSION;

	if (c->role == GW_ROLE_NODE)
		lowest = GW_MIN_NODE_VERSION;
	else if (c->client_mode && !strcmp(c->client_mode, "probe"))
		lowest = GW_MIN_PROBE_VERSION;
	if (c->min_protocol > c->max_protocol)
		return -1;
	if (c->max_protocol >= GW_PROTOCOL_VERSION && c->min_protocol <= GW_PROTOCOL_VERSION)
		return GW_PROTOCOL_VERSION;
	if (c->max_protocol >= lowest && c->max_protocol < GW_PROTOCOL_VERSION)
		return c->max_protocol;
	return -1;
}
