/*
 * protocol.h - OpenClaw's gateway WebSocket protocol (v4): frames, errors,
 * connect params. Pure functions over jansson values, no I/O, so that the
 * parsing of everything a client sends can be unit-tested and fuzzed alone.
 *
 * Frames are one JSON object per text message:
 *
 *	{"type":"req",   "id", "method", "params"?, "traceparent"?}
 *	{"type":"res",   "id", "ok", "payload"?, "error"?}
 *	{"type":"event", "event", "payload"?, "seq"?, "stateVersion"?}
 *	{"type":"cancel","id"}
 *
 * All four are closed objects. Error shape: {code, message, details?,
 * retryable?, retryAfterMs?}; `code` is one of the GW_E_* strings, and
 * connect failures carry details.code (AUTH_TOKEN_MISMATCH, ...).
 */
#ifndef PINCER_GATEWAY_PROTOCOL_H
#define PINCER_GATEWAY_PROTOCOL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_PROTOCOL_VERSION   4
#define GW_MIN_CLIENT_VERSION 4
#define GW_MIN_NODE_VERSION   3 /* nodes and probes may speak one version back */
#define GW_MIN_PROBE_VERSION  3

#define GW_MAX_PREAUTH_PAYLOAD  (64u << 10) /* before hello-ok */
#define GW_MAX_PAYLOAD          26214400u   /* after: 25 MiB */
#define GW_MAX_BUFFERED         52428800u   /* outgoing queue per connection */
#define GW_TICK_INTERVAL_MS     15000
#define GW_HANDSHAKE_TIMEOUT_MS 15000

/* Error codes (ErrorShape.code). */
#define GW_E_INVALID_REQUEST "INVALID_REQUEST"
#define GW_E_FORBIDDEN       "FORBIDDEN"
#define GW_E_NOT_PAIRED      "NOT_PAIRED"
#define GW_E_NOT_LINKED      "NOT_LINKED"
#define GW_E_UNAVAILABLE     "UNAVAILABLE"
#define GW_E_AGENT_TIMEOUT   "AGENT_TIMEOUT"

/* WebSocket close codes the gateway uses. */
#define GW_CLOSE_NORMAL  1000
#define GW_CLOSE_GOING   1001
#define GW_CLOSE_POLICY  1008 /* handshake or auth failure, bad frame before connect */
#define GW_CLOSE_RESTART 1012 /* shutdown with a restart expected */

enum gw_frame_type {
	GW_FRAME_REQ,
	GW_FRAME_CANCEL,
};

/*
 * A parsed client frame. Pointers borrow from `root`, which the caller
 * owns and releases with json_decref.
 */
struct gw_frame {
	enum gw_frame_type type;
	json_t *root;
	const char *id;     /* NULL only when the frame was rejected before the id was read */
	const char *method; /* req only */
	json_t *params;     /* req only; NULL when absent */
};

/*
 * Parse one text message from a client. Returns 0, or -1 with `err` set to
 * OpenClaw's wording ("invalid request frame: must have required property
 * 'id'"); on -1, f->root may still hold the parsed JSON (release it) and
 * f->id the request id, when the frame had a usable one.
 */
int gw_frame_parse(const char *data, size_t len, struct gw_frame *f, char *err, size_t errlen);

/* {"type":"res","id":id,"ok":true,"payload":payload}; steals payload (may be NULL). */
json_t *gw_res_ok(const char *id, json_t *payload);
/*
 * {"type":"res","id":id,"ok":false,"error":{code,message,details?}}.
 * Steals details (may be NULL).
 */
json_t *gw_res_error(const char *id, const char *code, const char *message, json_t *details);
/* An ErrorShape alone; steals details. */
json_t *gw_error_shape(const char *code, const char *message, json_t *details);

/* ==== connect ==== */

enum gw_role {
	GW_ROLE_OPERATOR,
	GW_ROLE_NODE,
};

/* The validated ConnectParams. Strings borrow from the params object. */
struct gw_connect {
	int min_protocol, max_protocol;
	const char *client_id; /* canonical (lowercase) spelling from the enum */
	const char *client_mode;
	const char *client_version, *client_platform, *client_display_name;
	const char *client_device_family, *client_model_identifier, *client_instance_id;
	enum gw_role role;
	json_t *scopes;   /* array of strings; never NULL (an empty array when absent) */
	json_t *caps;     /* array of strings or NULL */
	json_t *commands; /* array of strings or NULL */
	const char *auth_token, *auth_password, *auth_device_token, *auth_bootstrap_token;
	json_t *device; /* the device object, or NULL */
	const char *locale, *user_agent;
};

/*
 * Validate `params` of a connect request against the closed ConnectParams
 * schema. Returns 0, or -1 with `err` in OpenClaw's words ("invalid connect
 * params: at /client/id: must be equal to one of the allowed values",
 * "invalid role"). `c->scopes` is a new reference on success: release it with
 * gw_connect_release().
 */
int gw_connect_parse(json_t *params, struct gw_connect *c, char *err, size_t errlen);
void gw_connect_release(struct gw_connect *c);

/*
 * The protocol version to speak with this client, or -1 when its
 * [min, max] range does not include one the server accepts for its kind
 * (clients need 4; nodes and probes may use 3).
 */
int gw_connect_negotiate(const struct gw_connect *c);

/* The role's name: "operator", "node". */
const char *gw_role_name(enum gw_role r);

/* Is `id` one of OpenClaw's client ids / modes (case-insensitive)? Returns the canonical form. */
const char *gw_client_id_canonical(const char *id);
const char *gw_client_mode_canonical(const char *mode);

#endif
