/*
 * device_auth.h - verification of the `device` block of a connect request.
 *
 * A client proves it holds a device key by signing a payload that binds
 * the connection's parameters to the server's challenge nonce. The rules
 * are OpenClaw's (src/gateway/server/ws-connection/connect-device-proof.ts,
 * packages/gateway-client/src/device-auth.ts, src/infra/ed25519-signature.ts)
 * as shipped in 2026.9.6:
 *
 *  - device.id must equal the lowercase hex SHA-256 of the raw public key;
 *    device.publicKey is base64url (or base64) of the raw 32-byte Ed25519
 *    key, or a PEM "PUBLIC KEY" block (any text containing "BEGIN").
 *  - |now - device.signedAt| must not exceed 2 minutes.
 *  - device.nonce, trimmed, must be non-empty and equal the challenge nonce.
 *  - device.signature is base64url of an Ed25519 signature over the v3
 *    payload, or else over the older v2 one:
 *
 *      v3|deviceId|client.id|client.mode|role|scopes.join(",")|signedAt|token|nonce|platform|family
 *      v2|deviceId|client.id|client.mode|role|scopes.join(",")|signedAt|token|nonce
 *
 *    where token is the first of auth.token, auth.deviceToken,
 *    auth.bootstrapToken that is present (an empty string counts), or "";
 *    nonce is the trimmed nonce; platform and family are the client's,
 *    trimmed (JavaScript's whitespace set) with only A-Z lowercased.
 *
 * The checks run in that order and the first failure is reported, as
 * OpenClaw does. OpenClaw answers a failure with INVALID_REQUEST, message
 * device_auth_err_message(), details {code, reason} from
 * device_auth_err_code()/device_auth_err_reason(), then closes with 1008.
 *
 * Pure functions: no I/O, no clock (the caller passes now_ms), no logging.
 */
#ifndef PINCER_GATEWAY_DEVICE_AUTH_H
#define PINCER_GATEWAY_DEVICE_AUTH_H

#include <jansson.h>
#include <stdint.h>

#include "core/buf.h"

/* How far signedAt may be from the server's clock, either way. */
#define DEVICE_AUTH_SKEW_MS 120000

/* Longest public key or signature text OpenClaw will decode. */
#define DEVICE_AUTH_MAX_B64 4096

enum device_auth_err {
	DEVICE_AUTH_OK = 0,
	DEVICE_AUTH_ID_MISMATCH,       /* key undecodable, or id is not its hash */
	DEVICE_AUTH_SIGNATURE_EXPIRED, /* signedAt outside the skew window */
	DEVICE_AUTH_NONCE_REQUIRED,    /* nonce empty after trimming */
	DEVICE_AUTH_NONCE_MISMATCH,    /* not the challenge nonce */
	DEVICE_AUTH_SIGNATURE_INVALID, /* verifies as neither v3 nor v2 */
	/*
	 * OpenClaw checks the key a second time after the signature and has a
	 * code for it, but the first check (ID_MISMATCH) already catches every
	 * key that would fail: kept for the code table, never returned.
	 */
	DEVICE_AUTH_PUBLIC_KEY_INVALID,
};

/*
 * What a connect request claims, borrowed from the parsed params. The
 * caller has already validated the params' shape (strings are strings,
 * without embedded NULs); NULL stands for an absent field.
 */
struct device_auth_claim {
	/* params.device */
	const char *id;
	const char *public_key;
	const char *signature;
	const char *nonce;
	int64_t signed_at; /* 0 when absent: that fails the skew check */

	/* the rest of the connect params that the signature covers */
	const char *client_id;   /* params.client.id, as sent */
	const char *client_mode; /* params.client.mode, as sent */
	const char *role;        /* resolved role; NULL means "operator" */
	const json_t *scopes;    /* params.scopes, an array of strings; NULL or not an array: [] */
	const char *platform;    /* params.client.platform */
	const char *device_family; /* params.client.deviceFamily */
	const char *auth_token;    /* params.auth.token */
	const char *auth_device_token;
	const char *auth_bootstrap_token;
};

struct device_auth_result {
	char device_id[65];  /* the verified id (lowercase hex) */
	char public_key[44]; /* canonical unpadded base64url of the raw key, as pairing stores it */
	int payload_version; /* 3 or 2 */
};

/*
 * Verify `c` against the challenge nonce this connection was sent, at
 * `now_ms` (wall clock, ms). On DEVICE_AUTH_OK, fills *out.
 */
enum device_auth_err device_auth_verify(const struct device_auth_claim *c,
					const char *challenge_nonce, int64_t now_ms,
					struct device_auth_result *out);

/* details.code, e.g. "DEVICE_AUTH_SIGNATURE_INVALID"; NULL for DEVICE_AUTH_OK. */
const char *device_auth_err_code(enum device_auth_err e);
/* details.reason, e.g. "device-signature"; NULL for DEVICE_AUTH_OK. */
const char *device_auth_err_reason(enum device_auth_err e);
/* The error message and close reason, e.g. "device signature invalid". */
const char *device_auth_err_message(enum device_auth_err e);

/*
 * The string the signature covers, for `version` 3 or 2, appended to `out`
 * (the nonce is trimmed as the server does; c->signature and c->public_key
 * are not used). For clients that sign, and for tests. Returns 0, or -1
 * when `out` would pass its maximum, a scope is not a string, or the
 * version is unknown.
 */
int device_auth_payload(int version, const struct device_auth_claim *c, struct buf *out);

/*
 * OpenClaw's normalizeDeviceMetadataForAuth: trim JavaScript whitespace,
 * lowercase A-Z only (so "İ" or "Ä" keep their case). NULL gives "". New
 * string.
 */
char *device_auth_normalize_metadata(const char *s);

/*
 * JavaScript's String.prototype.trim on UTF-8 text, without copying: the
 * kept span is [*start, *start + *len). The pairing store trims ids, roles
 * and scopes with it too, so the same text compares equal everywhere.
 */
void device_auth_js_trim(const char *s, const char **start, size_t *len);

#endif
