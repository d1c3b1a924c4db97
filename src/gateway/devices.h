/*
 * devices.h - the paired-device store: pending pairing requests, paired
 * devices and their per-role device tokens.
 *
 * On disk it is OpenClaw's baseline layout (src/infra/pairing-files.ts,
 * before OpenClaw moved it into SQLite), so files move both ways:
 *
 *	<state>/devices/            0700
 *	<state>/devices/pending.json  0600  { "<requestId>": PendingRequest, ... }
 *	<state>/devices/paired.json   0600  { "<deviceId>": PairedDevice, ... }
 *
 * PendingRequest: {requestId, deviceId, publicKey, displayName?, platform?,
 *   deviceFamily?, clientId?, clientMode?, role?, roles?, scopes?, remoteIp?,
 *   silent?, isRepair?, ts, refreshedAtMs?}
 * PairedDevice: {deviceId, publicKey, displayName?, platform?, deviceFamily?,
 *   clientId?, clientMode?, role?, roles?, scopes?, approvedScopes?,
 *   remoteIp?, tokens?: {"<role>": DeviceToken}, approvedVia?, createdAtMs,
 *   approvedAtMs, lastSeenAtMs?, lastSeenReason?, operatorLabel?}
 * DeviceToken: {token, role, scopes, createdAtMs, rotatedAtMs?,
 *   revokedAtMs?, lastUsedAtMs?}
 * Fields pincer does not use (nodeSurface, browserOrigin, issuer, ...) are
 * kept as they are.
 *
 * The rules are OpenClaw 2026.9.6's (src/infra/device-pairing-*.ts):
 * pending requests live 5 minutes from their last refresh; a device has at
 * most one pending request, and a new request either refreshes it (same or
 * narrower access) or replaces it with one that merges both (the replaced
 * ones are "superseded", and the gateway announces them as rejected);
 * approval merges roles and scopes into the paired record and issues one
 * token per requested role; scopes imply others (operator.admin ⊇
 * operator.write ⊇ operator.read, ...).
 *
 * Every mutation works on a copy, writes it (paired.json before
 * pending.json, so a crash in between leaves a stale request rather than a
 * lost approval) and only then adopts it: after a failure the store in
 * memory is what the files hold, and usually exactly as before. Expired
 * requests are pruned by the next mutation. Nothing reads the clock: every call that needs the time takes
 * `now_ms`. One process owns the store (the gateway); there is no
 * cross-process locking.
 *
 * Borrowed pointers (struct devices_paired, devices_get_pending) stay valid
 * until the next call that mutates the store. JSON returned through an out
 * parameter is a new reference the caller releases.
 *
 * Return codes of mutations: DEVICES_OK, or a negative enum devices_rc
 * with a message in `err` (at least 128 bytes is plenty).
 */
#ifndef PINCER_GATEWAY_DEVICES_H
#define PINCER_GATEWAY_DEVICES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define DEVICES_PENDING_TTL_MS  (5 * 60 * 1000)
#define DEVICES_TOKEN_BYTES     32         /* random bytes per device token */
#define DEVICES_MAX_FILE_BYTES  (16 << 20) /* larger files are refused, not parsed */
#define DEVICES_REQUEST_ID_SIZE 37         /* a UUID and its NUL */

enum devices_rc {
	DEVICES_OK = 0,
	DEVICES_EIO = -1,       /* could not persist; err says why; memory matches the files */
	DEVICES_NOT_FOUND = -2, /* unknown request, device or role; err is OpenClaw's message */
	DEVICES_DENIED = -3,    /* refused by policy; err is OpenClaw's message or reason */
};

struct devices;

/*
 * Open the store under <state_dir>/devices, creating the directory (0700).
 * Missing files are an empty store. A file that does not parse as a JSON
 * object is copied to "<file>.bad" and the store starts without its
 * contents; from a file with some invalid records only those are left
 * out, and the file is copied to "<file>.bad" too. Both are logged as
 * warnings ("devices"), never dropped silently; the file itself is only
 * replaced by the next change. A file that cannot be read (permissions,
 * too large), or a .bad copy that cannot be written, is an error: returns
 * NULL with a message in `err`.
 */
struct devices *devices_open(const char *state_dir, char *err, size_t errlen);
void devices_free(struct devices *d);

/* ==== reading ==== */

/* A paired device, borrowed from the store. Absent text fields are NULL. */
struct devices_paired {
	const char *device_id;
	const char *public_key; /* canonical base64url of the raw key */
	const char *display_name;
	const char *operator_label;
	const char *platform;
	const char *device_family;
	const char *client_id;
	const char *client_mode;
	const char *role; /* first approved role */
	const char *remote_ip;
	const char *approved_via; /* "owner", "silent", ... */
	const json_t *roles;      /* approved roles (array), or NULL */
	const json_t *scopes;     /* approved scope baseline (array), or NULL */
	const json_t *tokens;     /* {"<role>": DeviceToken} or NULL: never send as is */
	const json_t *record;     /* the whole PairedDevice */
	int64_t created_at_ms;
	int64_t approved_at_ms;
};

/* Fill *out for `device_id` (trimmed). 0, or -1 when not paired. */
int devices_get_paired(const struct devices *d, const char *device_id, struct devices_paired *out);
/* The pending request `request_id` if it has not expired at now_ms, else NULL. Borrowed. */
const json_t *devices_get_pending(const struct devices *d, const char *request_id, int64_t now_ms);

/*
 * Whether a connect from `device_id` holding `public_key` (canonical
 * base64url, as device_auth_verify returns it) may have `role` and
 * `scopes` without a new approval, decided as OpenClaw's gateway does
 * (connect-device-pairing.ts, connect-existing-device.ts): the key must
 * be the paired one, the role must have an approved, unrevoked token, and
 * requested scopes must be covered by the approved baseline. Client
 * metadata pinning (platform changes) is not judged here.
 */
enum devices_access {
	DEVICES_ACCESS_OK = 0,
	DEVICES_ACCESS_NOT_PAIRED,    /* "not-paired" */
	DEVICES_ACCESS_ROLE_UPGRADE,  /* "role-upgrade" */
	DEVICES_ACCESS_SCOPE_UPGRADE, /* "scope-upgrade" */
};
enum devices_access devices_check_access(const struct devices *d, const char *device_id,
					 const char *public_key, const char *role,
					 const json_t *scopes);
/* The pairing-required reason for `a` ("not-paired", ...); NULL for OK. */
const char *devices_access_reason(enum devices_access a);

/* ==== pairing ==== */

/* What a connection asks for; borrowed. NULL fields are absent. */
struct devices_request {
	const char *device_id;  /* required */
	const char *public_key; /* required: canonical base64url */
	const char *display_name;
	const char *platform;
	const char *device_family;
	const char *client_id;
	const char *client_mode;
	const char *role;
	const json_t *scopes; /* array of strings, or NULL */
	const char *remote_ip;
	bool silent; /* the gateway means to approve it itself (local connect) */
};

/*
 * Create or refresh the device's pending request. *result (new reference)
 * is OpenClaw's requestDevicePairing answer:
 *	{status:"pending", request, created, expiresAtMs, superseded?:[{requestId, deviceId}]}
 * where `request` is the public PendingRequest: the payload of the
 * device.pair.requested event, which the gateway sends when `created` is
 * true and the request is not silent. Each superseded request is announced
 * with a device.pair.resolved "rejected" event. A request for a device that
 * is already paired is a repair (isRepair: true): a role or scope upgrade.
 * DEVICES_EIO, or DEVICES_DENIED for a missing device id or key.
 */
int devices_request(struct devices *d, const struct devices_request *req, int64_t now_ms,
		    json_t **result, char *err, size_t errlen);

struct devices_approve_opts {
	/*
	 * The approving caller's scopes. Approving operator scopes needs a
	 * caller that holds them; NULL means the caller has none (OpenClaw:
	 * "caller-scopes-required").
	 */
	const json_t *caller_scopes;
	const char *approved_via; /* NULL: "owner" */
	/* Metadata of the connection being approved (auto-approval); NULL/0 keep the request's. */
	const char *display_name;
	const char *remote_ip;
	int64_t last_seen_at_ms;
	const char *last_seen_reason;
};

/*
 * Approve a pending request: the device becomes (or stays) paired with
 * the union of its approved and requested roles and scopes, and gets a
 * fresh token for every requested role (an existing token is replaced,
 * keeping its createdAtMs). *device (new reference, may be NULL) is the
 * full PairedDevice, tokens included: redact it with
 * devices_paired_public_json before sending it anywhere. The gateway then
 * sends device.pair.resolved "approved" (devices_resolved_event).
 * DEVICES_NOT_FOUND "unknown requestId" (also when expired),
 * DEVICES_DENIED with OpenClaw's message ("missing scope: operator.admin",
 * "invalid scope for requested roles: X"), or DEVICES_EIO.
 */
int devices_approve(struct devices *d, const char *request_id,
		    const struct devices_approve_opts *opts, int64_t now_ms, json_t **device,
		    char *err, size_t errlen);

/*
 * The direct-loopback path: request (silent) and approve at once as
 * "silent", on behalf of the connection itself (its requested scopes and
 * the device's already-approved ones count as the caller's), with the
 * connection's display name and address and lastSeenReason "connect".
 * *result (new reference) is {requestId, device, superseded?}: the gateway
 * sends device.pair.resolved "approved" for requestId and "rejected" for
 * each superseded one. On DEVICES_DENIED the pending request stays, and
 * *result is the devices_request answer, so the gateway can fall back to
 * announcing it and asking for approval.
 */
int devices_auto_approve(struct devices *d, const struct devices_request *req, int64_t now_ms,
			 json_t **result, char *err, size_t errlen);

/*
 * Drop a pending request. *result (new reference, may be NULL) is
 * {requestId, deviceId}. DEVICES_NOT_FOUND "unknown requestId", DEVICES_EIO.
 */
int devices_reject(struct devices *d, const char *request_id, int64_t now_ms, json_t **result,
		   char *err, size_t errlen);

/*
 * Forget a paired device, its tokens and its pending requests.
 * DEVICES_NOT_FOUND "unknown deviceId", DEVICES_EIO.
 */
int devices_remove(struct devices *d, const char *device_id, int64_t now_ms, char *err,
		   size_t errlen);

/* Non-auth metadata a connect or a rename refreshes; NULL/0 fields are left alone. */
struct devices_metadata {
	const char *display_name;
	const char *operator_label; /* device.pair.rename */
	const char *platform;
	const char *client_id;
	const char *client_mode;
	const char *remote_ip;
	int64_t last_seen_at_ms;
	const char *last_seen_reason;
};
/* Update a paired device's metadata. DEVICES_NOT_FOUND "unknown deviceId", DEVICES_EIO. */
int devices_update_metadata(struct devices *d, const char *device_id,
			    const struct devices_metadata *m, int64_t now_ms, char *err,
			    size_t errlen);

/* ==== device tokens ==== */

/* Why devices_token_verify refused; the reasons are OpenClaw's. */
enum devices_token_check {
	DEVICES_TOKEN_OK = 0,
	DEVICES_TOKEN_DEVICE_NOT_PAIRED, /* "device-not-paired" */
	DEVICES_TOKEN_ROLE_MISSING,      /* "role-missing" */
	DEVICES_TOKEN_MISSING,           /* "token-missing": no token for the role */
	DEVICES_TOKEN_REVOKED,           /* "token-revoked" */
	DEVICES_TOKEN_MISMATCH,          /* "token-mismatch" */
	DEVICES_TOKEN_ISSUER_STALE,      /* "issuer-generation-stale" */
	DEVICES_TOKEN_SCOPE_MISMATCH,    /* "scope-mismatch" */
	DEVICES_TOKEN_EIO,               /* verified, but recording its use failed */
};
const char *devices_token_check_reason(enum devices_token_check c);

/*
 * Check a device token presented for `role`, in constant time, and that
 * `scopes` (what the connection asks for; NULL: none) are within the
 * token's scopes and the token's within the device's approved baseline.
 * On success records lastUsedAtMs/lastSeenAtMs (persisted) and, when
 * scopes_out is not NULL, sets it to the token's scopes (new reference).
 * A token OpenClaw bound to a shared-auth generation is refused as stale:
 * pincer has no such generations.
 */
enum devices_token_check devices_token_verify(struct devices *d, const char *device_id,
					      const char *role, const char *token,
					      const json_t *scopes, int64_t now_ms,
					      json_t **scopes_out, char *err, size_t errlen);

/*
 * The token to hand a connection in hello-ok: the device's current token
 * for `role` if it is unrevoked and covers `scopes`, else a new one with
 * exactly `scopes` (persisted). DEVICES_NOT_FOUND "unknown-device-or-role"
 * unless the device is paired for the role; DEVICES_DENIED
 * "scope-outside-approved-baseline" unless `scopes` are within what was
 * approved. *entry (new
 * reference) is the DeviceToken; hello-ok's issuedAtMs is its rotatedAtMs,
 * else createdAtMs.
 */
int devices_token_ensure(struct devices *d, const char *device_id, const char *role,
			 const json_t *scopes, int64_t now_ms, json_t **entry, char *err,
			 size_t errlen);

/*
 * device.token.rotate: replace the role's token with a new random one
 * with `scopes` (NULL: the old token's, else the device's), which must be
 * within the approved baseline and, when `caller_scopes` is not NULL,
 * held by the caller. *entry (new reference) is the new DeviceToken.
 * DEVICES_NOT_FOUND "unknown-device-or-role"; DEVICES_DENIED with the
 * reason ("scope-outside-approved-baseline", "caller-missing-scope
 * scope=X", ...) for the log, the RPC answering "device token rotation
 * denied" either way; DEVICES_EIO.
 */
int devices_token_rotate(struct devices *d, const char *device_id, const char *role,
			 const json_t *scopes, const json_t *caller_scopes, int64_t now_ms,
			 json_t **entry, char *err, size_t errlen);

/*
 * device.token.revoke: mark the role's token revoked (revokedAtMs). The
 * token stays on record; devices_token_verify refuses it from now on and
 * devices_token_ensure issues a new one. Same codes as rotate.
 */
int devices_token_revoke(struct devices *d, const char *device_id, const char *role,
			 const json_t *caller_scopes, int64_t now_ms, json_t **entry, char *err,
			 size_t errlen);

/* ==== JSON views ==== */

/* Whether a device currently has a live connection; for list's `connected`. */
typedef bool (*devices_connected_fn)(const char *device_id, void *ctx);

/*
 * The device.pair.list answer {pending:[...], paired:[...]}: unexpired
 * public requests, newest first; paired devices by approval time, newest
 * first, each as devices_paired_public_json. `only_device_id` restricts
 * both lists to one device (a non-admin caller sees only itself); NULL
 * lists everything. `connected` may be NULL (then no `connected` field).
 */
json_t *devices_list_json(const struct devices *d, int64_t now_ms, const char *only_device_id,
			  devices_connected_fn connected, void *ctx);

/*
 * A PairedDevice as OpenClaw shows it: without approvedScopes and token
 * strings; `tokens` becomes [{role, scopes, createdAtMs, rotatedAtMs?,
 * revokedAtMs?, lastUsedAtMs?}] sorted by role, and `connected` is added
 * when it is 0 or 1 (-1: left out). New reference.
 */
json_t *devices_paired_public_json(const json_t *record, int connected);

/* The device.pair.resolved payload {requestId, deviceId, decision, ts}. New reference. */
json_t *devices_resolved_event(const char *request_id, const char *device_id, const char *decision,
			       int64_t ts);

/* ==== scope rules (src/shared/operator-scope-compat.ts, device-auth.ts) ==== */

/*
 * Whether `allowed` grants every scope in `requested` to `role`: an
 * operator scope is granted by itself or operator.admin, read/talk/
 * sessions.* by operator.write, operator.sessions.read by operator.read or
 * operator.sessions.write; another role's scopes must carry its prefix
 * ("node.") and be listed. Empty scopes are ignored; NULL is [].
 */
bool devices_role_scopes_allow(const char *role, const json_t *requested, const json_t *allowed);

/*
 * OpenClaw's normalizeDeviceAuthScopes: trimmed, non-empty, unique, with
 * operator.admin adding operator.read and operator.write and
 * operator.write adding operator.read, sorted. Non-arrays give []. New
 * reference.
 */
json_t *devices_normalize_scopes(const json_t *scopes);

#endif
