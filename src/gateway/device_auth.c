/*
 * device_auth.c - verification of a connect request's device signature; see
 * device_auth.h for the rules and where they come from.
 */
#include "gateway/device_auth.h"

#include <stdbool.h>
#include <string.h>

#include "core/crypto.h"
#include "core/mem.h"

/* A payload is a few hundred bytes; this only stops absurd params. */
#define DEVICE_AUTH_PAYLOAD_MAX (1024 * 1024)

/* ==== error tables ==== */

static const struct {
	const char *code, *reason, *message;
} device_auth_errs[] = {
	[DEVICE_AUTH_ID_MISMATCH] = { "DEVICE_AUTH_DEVICE_ID_MISMATCH", "device-id-mismatch",
				      "device identity mismatch" },
	[DEVICE_AUTH_SIGNATURE_EXPIRED] = { "DEVICE_AUTH_SIGNATURE_EXPIRED",
					    "device-signature-stale", "device signature expired" },
	[DEVICE_AUTH_NONCE_REQUIRED] = { "DEVICE_AUTH_NONCE_REQUIRED", "device-nonce-missing",
					 "device nonce required" },
	[DEVICE_AUTH_NONCE_MISMATCH] = { "DEVICE_AUTH_NONCE_MISMATCH", "device-nonce-mismatch",
					 "device nonce mismatch" },
	[DEVICE_AUTH_SIGNATURE_INVALID] = { "DEVICE_AUTH_SIGNATURE_INVALID", "device-signature",
					    "device signature invalid" },
	[DEVICE_AUTH_PUBLIC_KEY_INVALID] = { "DEVICE_AUTH_PUBLIC_KEY_INVALID", "device-public-key",
					     "device public key invalid" },
};

static bool device_auth_err_known(enum device_auth_err e)
{
	return e > DEVICE_AUTH_OK && (size_t)e < ARRAY_SIZE(device_auth_errs);
}

const char *device_auth_err_code(enum device_auth_err e)
{
	/* OpenClaw's fallback for a reason it does not map. */
	if (e == DEVICE_AUTH_OK)
		return NULL;
	return device_auth_err_known(e) ? device_auth_errs[e].code : "DEVICE_AUTH_INVALID";
}

const char *device_auth_err_reason(enum device_auth_err e)
{
	if (e == DEVICE_AUTH_OK)
		return NULL;
	return device_auth_err_known(e) ? device_auth_errs[e].reason : "device-auth-invalid";
}

const char *device_auth_err_message(enum device_auth_err e)
{
	if (e == DEVICE_AUTH_OK)
		return "ok";
	return device_auth_err_known(e) ? device_auth_errs[e].message : "device auth invalid";
}

/* ==== text normalisation ==== */

/*
 * Length in bytes of the JavaScript whitespace character (what
 * String.prototype.trim strips) that `p` starts with, or 0. The set is
 * WhiteSpace plus LineTerminator: TAB..CR, SP, NBSP, U+1680, U+2000-U+200A,
 * U+2028, U+2029, U+202F, U+205F, U+3000 and the BOM.
 */
static size_t device_auth_space_len(const unsigned char *p, size_t n)
{
	if (n >= 1 && ((p[0] >= 0x09 && p[0] <= 0x0d) || p[0] == ' '))
		return 1;
	if (n >= 2 && p[0] == 0xc2 && p[1] == 0xa0)
		return 2;
	if (n < 3)
		return 0;
	if (p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80)
		return 3;
	if (p[0] == 0xe2 && p[1] == 0x80 &&
	    ((p[2] >= 0x80 && p[2] <= 0x8a) || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf))
		return 3;
	if (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f)
		return 3;
	if (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80)
		return 3;
	if (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		return 3;
	return 0;
}

void device_auth_js_trim(const char *s, const char **start, size_t *len)
{
	const unsigned char *b = (const unsigned char *)s;
	size_t n = strlen(s), k;

	while ((k = device_auth_space_len(b, n)) > 0) {
		b += k;
		n -= k;
	}
	/*
	 * From the end: UTF-8 lead bytes never look like continuation bytes,
	 * so a whitespace sequence that ends here is found by its length.
	 */
	for (;;) {
		size_t cut = 0;

		for (k = 1; k <= 3 && k <= n; k++)
			if (device_auth_space_len(b + n - k, k) == k) {
				cut = k;
				break;
			}
		if (!cut)
			break;
		n -= cut;
	}
	*start = (const char *)b;
	*len = n;
}

static int device_auth_put_metadata(struct buf *out, const char *s)
{
	const char *p;
	size_t n;

	if (!s)
		return 0;
	device_auth_js_trim(s, &p, &n);
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		/* ASCII only, exactly like OpenClaw's replace(/[A-Z]/g, ...). */
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (buf_putc(out, c) < 0)
			return -1;
	}
	return 0;
}

char *device_auth_normalize_metadata(const char *s)
{
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	device_auth_put_metadata(&b, s);
	return buf_detach(&b, NULL);
}

/* ==== payload ==== */

/* auth.token ?? auth.deviceToken ?? auth.bootstrapToken ?? "" */
static const char *device_auth_signature_token(const struct device_auth_claim *c)
{
	if (c->auth_token)
		return c->auth_token;
	if (c->auth_device_token)
		return c->auth_device_token;
	if (c->auth_bootstrap_token)
		return c->auth_bootstrap_token;
	return "";
}

static int device_auth_put_scopes(struct buf *out, const json_t *scopes)
{
	size_t i;
	const json_t *v;

	if (!json_is_array(scopes))
		return 0;
	json_array_foreach(scopes, i, v)
	{
		const char *s = json_string_value(v);

		/* A string with a NUL in it could sign one thing and mean another. */
		if (!s || strlen(s) != json_string_length(v))
			return -1;
		if ((i && buf_putc(out, ',') < 0) || buf_puts(out, s) < 0)
			return -1;
	}
	return 0;
}

int device_auth_payload(int version, const struct device_auth_claim *c, struct buf *out)
{
	const char *nonce = "";
	size_t nonce_len = 0, mark = out->len;

	if (version != 2 && version != 3)
		return -1;
	if (c->nonce)
		device_auth_js_trim(c->nonce, &nonce, &nonce_len);
	if (buf_printf(out, "v%d|%s|%s|%s|%s|", version, c->id ? c->id : "",
		       c->client_id ? c->client_id : "", c->client_mode ? c->client_mode : "",
		       c->role ? c->role : "operator") < 0 ||
	    device_auth_put_scopes(out, c->scopes) < 0 ||
	    buf_printf(out, "|%lld|%s|%.*s", (long long)c->signed_at,
		       device_auth_signature_token(c), (int)nonce_len, nonce) < 0)
		goto fail;
	if (version == 3 &&
	    (buf_putc(out, '|') < 0 || device_auth_put_metadata(out, c->platform) < 0 ||
	     buf_putc(out, '|') < 0 || device_auth_put_metadata(out, c->device_family) < 0))
		goto fail;
	return 0;
fail:
	buf_truncate(out, mark);
	return -1;
}

/* ==== keys ==== */

/*
 * The key bytes as OpenClaw's normalizeEd25519PublicKeyBase64Url sees
 * them: the raw key out of a PEM block when the text says "BEGIN", else
 * whatever the base64 decodes to, of any non-zero length (the length is
 * only checked when the signature is verified). 0 or -1.
 */
static int device_auth_key_bytes(const char *pk, unsigned char *raw, size_t rawmax, size_t *rawlen)
{
	if (!pk)
		return -1;
	if (strstr(pk, "BEGIN")) {
		if (rawmax < CRYPTO_ED25519_KEY_LEN || crypto_ed25519_public_from_pem(pk, raw) < 0)
			return -1;
		*rawlen = CRYPTO_ED25519_KEY_LEN;
		return 0;
	}
	if (strlen(pk) > DEVICE_AUTH_MAX_B64 || b64url_decode(pk, raw, rawmax, rawlen) < 0)
		return -1;
	return *rawlen > 0 ? 0 : -1;
}

static bool device_auth_signature_ok(const unsigned char *key, size_t keylen,
				     const unsigned char *sig, size_t siglen, const struct buf *msg)
{
	if (keylen != CRYPTO_ED25519_KEY_LEN || siglen != CRYPTO_ED25519_SIG_LEN)
		return false;
	return crypto_ed25519_verify(key, msg->p, msg->len, sig) == 0;
}

/* The payload version the signature verifies for (3 first, then 2), or 0. */
static int device_auth_payload_version(const struct device_auth_claim *c, const unsigned char *key,
				       size_t keylen)
{
	unsigned char sig[B64URL_DECODED_MAX(DEVICE_AUTH_MAX_B64)];
	size_t siglen;
	struct buf msg;
	int version = 0;

	if (!c->signature || strlen(c->signature) > DEVICE_AUTH_MAX_B64 ||
	    b64url_decode(c->signature, sig, sizeof(sig), &siglen) < 0)
		return 0;
	buf_init(&msg, DEVICE_AUTH_PAYLOAD_MAX);
	for (int v = 3; v >= 2 && !version; v--) {
		buf_reset(&msg);
		if (device_auth_payload(v, c, &msg) == 0 &&
		    device_auth_signature_ok(key, keylen, sig, siglen, &msg))
			version = v;
	}
	buf_release(&msg);
	return version;
}

/* ==== verify ==== */

static bool device_auth_within_skew(int64_t now_ms, int64_t signed_at)
{
	/*
	 * |now - signedAt| in unsigned arithmetic: the true distance always
	 * fits, so a hostile signedAt near INT64_MIN cannot overflow it.
	 */
	uint64_t d = signed_at > now_ms ? (uint64_t)signed_at - (uint64_t)now_ms
					: (uint64_t)now_ms - (uint64_t)signed_at;

	return d <= DEVICE_AUTH_SKEW_MS;
}

enum device_auth_err device_auth_verify(const struct device_auth_claim *c,
					const char *challenge_nonce, int64_t now_ms,
					struct device_auth_result *out)
{
	unsigned char key[B64URL_DECODED_MAX(DEVICE_AUTH_MAX_B64)];
	char id[2 * CRYPTO_SHA256_LEN + 1];
	const char *nonce = "";
	size_t keylen, nonce_len = 0;
	int version;

	if (device_auth_key_bytes(c->public_key, key, sizeof(key), &keylen) < 0)
		return DEVICE_AUTH_ID_MISMATCH;
	crypto_sha256_hex(key, keylen, id);
	if (!c->id || strcmp(id, c->id) != 0)
		return DEVICE_AUTH_ID_MISMATCH;

	if (!device_auth_within_skew(now_ms, c->signed_at))
		return DEVICE_AUTH_SIGNATURE_EXPIRED;

	if (c->nonce)
		device_auth_js_trim(c->nonce, &nonce, &nonce_len);
	if (nonce_len == 0)
		return DEVICE_AUTH_NONCE_REQUIRED;
	if (!challenge_nonce || strlen(challenge_nonce) != nonce_len ||
	    memcmp(challenge_nonce, nonce, nonce_len) != 0)
		return DEVICE_AUTH_NONCE_MISMATCH;

	version = device_auth_payload_version(c, key, keylen);
	if (!version)
		return DEVICE_AUTH_SIGNATURE_INVALID;

	/* The signature check above guarantees a 32-byte key by now. */
	if (keylen != CRYPTO_ED25519_KEY_LEN)
		return DEVICE_AUTH_PUBLIC_KEY_INVALID;
	memcpy(out->device_id, id, sizeof(id));
	b64url_encode(key, keylen, out->public_key, sizeof(out->public_key));
	out->payload_version = version;
	return DEVICE_AUTH_OK;
}
