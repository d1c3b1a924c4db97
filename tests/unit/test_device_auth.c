/*
 * test_device_auth.c - connect device-signature verification, against
 * vectors made by OpenClaw 2026.9.6's own payload builder and verifier
 * (tests/unit/vectors/device_auth_vectors.mjs), plus every failure code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "gateway/device_auth.h"

/* ==== vectors (output of tests/unit/vectors/device_auth_vectors.mjs) ==== */

/* The private seed is SHA-256 of this string. */
#define VEC_SEED_SHA256_OF "pincer device-auth test vector"
#define VEC_PUBLIC_KEY     "i3Q782azoo0Egkh2HN94MY_DhUWVTDJ1bVTPT4_CvKw"
#define VEC_PUBLIC_KEY_PEM                                                                         \
	"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAi3Q782azoo0Egkh2HN94MY/DhUWVTDJ1bVTPT4/"      \
	"CvKw=\n-----END PUBLIC KEY-----\n"
#define VEC_DEVICE_ID "0e426e0aee99f23a1afc50451aaa2b718e3f136ca635679f22456a225ac9ee99"
#define VEC_V3_TOKEN_PAYLOAD                                                                       \
	"v3|0e426e0aee99f23a1afc50451aaa2b718e3f136ca635679f22456a225ac9ee99|cli|cli|operator|"    \
	"operator.admin,operator.read|1767225600000|shared-gateway-token|3f6c1a52-6a2b-4d8e-9c1f-" \
	"2b7d4e5a6c70|darwin|macbookpro"
#define VEC_V3_TOKEN_SIGNATURE                                                                     \
	"WElqN9zicFnhTEhp8MqUzaV1q7HpxLLuIwi4ZeDTlX4U7Z4F9JvD1Ob4EFp9RZmtvSUTm6sRUPhIDRN41wnxBA"
#define VEC_V3_NO_TOKEN_PAYLOAD                                                                    \
	"v3|0e426e0aee99f23a1afc50451aaa2b718e3f136ca635679f22456a225ac9ee99|openclaw-android|"    \
	"node|node||1767225600123||n-0001|android 15|"
#define VEC_V3_NO_TOKEN_SIGNATURE                                                                  \
	"_sIXNjfFcgvC9advvX5mZgnLRasP0SdmYghuO0lDFl7kgNPnpGsh1LotStPsjpvnpPsR8uvE2svQcVsU_k4jDQ"
#define VEC_V2_DEVICE_TOKEN_PAYLOAD                                                                \
	"v2|0e426e0aee99f23a1afc50451aaa2b718e3f136ca635679f22456a225ac9ee99|openclaw-control-ui|" \
	"webchat|operator|operator.read,operator.write|1767225600999|dev-token-abc|n-0002"
#define VEC_V2_DEVICE_TOKEN_SIGNATURE                                                              \
	"S65Nf43JxKn9qcw7djWKXohY2tfIwNo9zxhPLRdY62KL3PmdWNrstJLHmGIMXSkiZHDwgjqU_AB0Q14y_KPJCw"

/* The same claims as the generator's, as a gateway would hand them over. */
struct fixture {
	json_t *scopes_admin_read, *scopes_empty, *scopes_read_write;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->scopes_admin_read = json_pack("[ss]", "operator.admin", "operator.read");
	f->scopes_empty = json_array();
	f->scopes_read_write = json_pack("[ss]", "operator.read", "operator.write");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	json_decref(f->scopes_admin_read);
	json_decref(f->scopes_empty);
	json_decref(f->scopes_read_write);
	free(f);
	return 0;
}

static struct device_auth_claim claim_v3_token(void **state)
{
	struct fixture *f = *state;

	return (struct device_auth_claim){
		.id = VEC_DEVICE_ID,
		.public_key = VEC_PUBLIC_KEY,
		.signature = VEC_V3_TOKEN_SIGNATURE,
		.nonce = "3f6c1a52-6a2b-4d8e-9c1f-2b7d4e5a6c70",
		.signed_at = 1767225600000,
		.client_id = "cli",
		.client_mode = "cli",
		.role = "operator",
		.scopes = f->scopes_admin_read,
		.platform = " Darwin\xc2\xa0",
		.device_family = "\xe3\x80\x80MacBookPro\t",
		.auth_token = "shared-gateway-token",
	};
}
#define V3_TOKEN_NONCE "3f6c1a52-6a2b-4d8e-9c1f-2b7d4e5a6c70"
#define V3_TOKEN_NOW   (1767225600000 + 1500)

static struct device_auth_claim claim_v3_no_token(void **state)
{
	struct fixture *f = *state;

	return (struct device_auth_claim){
		.id = VEC_DEVICE_ID,
		.public_key = VEC_PUBLIC_KEY,
		.signature = VEC_V3_NO_TOKEN_SIGNATURE,
		.nonce = "n-0001",
		.signed_at = 1767225600123,
		.client_id = "openclaw-android",
		.client_mode = "node",
		.role = "node",
		.scopes = f->scopes_empty,
		.platform = "Android 15",
	};
}

static struct device_auth_claim claim_v2_device_token(void **state)
{
	struct fixture *f = *state;

	return (struct device_auth_claim){
		.id = VEC_DEVICE_ID,
		.public_key = VEC_PUBLIC_KEY,
		.signature = VEC_V2_DEVICE_TOKEN_SIGNATURE,
		.nonce = "n-0002",
		.signed_at = 1767225600999,
		.client_id = "openclaw-control-ui",
		.client_mode = "webchat",
		.role = "operator",
		.scopes = f->scopes_read_write,
		.platform = "MacIntel",
		.auth_device_token = "dev-token-abc",
	};
}

static enum device_auth_err verify(const struct device_auth_claim *c, const char *nonce,
				   int64_t now)
{
	struct device_auth_result r;

	return device_auth_verify(c, nonce, now, &r);
}

/* Sign `c` as version `v` with the vector's private key; returns the signature (free it). */
static char *sign_claim(int v, const struct device_auth_claim *c)
{
	unsigned char seed[32], sig[64];
	char *out = malloc(B64URL_ENCODED_LEN(64) + 1);
	struct buf msg;

	assert_non_null(out);
	crypto_sha256(VEC_SEED_SHA256_OF, strlen(VEC_SEED_SHA256_OF), seed);
	buf_init(&msg, 1 << 20);
	assert_int_equal(device_auth_payload(v, c, &msg), 0);
	assert_int_equal(crypto_ed25519_sign(seed, msg.p, msg.len, sig), 0);
	buf_release(&msg);
	b64url_encode(sig, sizeof(sig), out, B64URL_ENCODED_LEN(64) + 1);
	return out;
}

/* ==== the OpenClaw vectors ==== */

static void test_payloads_match_openclaw(void **state)
{
	struct device_auth_claim c;
	struct buf b;

	buf_init(&b, 4096);
	c = claim_v3_token(state);
	assert_int_equal(device_auth_payload(3, &c, &b), 0);
	assert_string_equal(b.p, VEC_V3_TOKEN_PAYLOAD);
	buf_reset(&b);
	c = claim_v3_no_token(state);
	assert_int_equal(device_auth_payload(3, &c, &b), 0);
	assert_string_equal(b.p, VEC_V3_NO_TOKEN_PAYLOAD);
	buf_reset(&b);
	c = claim_v2_device_token(state);
	assert_int_equal(device_auth_payload(2, &c, &b), 0);
	assert_string_equal(b.p, VEC_V2_DEVICE_TOKEN_PAYLOAD);
	buf_reset(&b);
	assert_int_equal(device_auth_payload(4, &c, &b), -1);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_vector_key_matches_seed(void **state)
{
	unsigned char seed[32], pub[32];
	char enc[44], id[65];

	(void)state;
	crypto_sha256(VEC_SEED_SHA256_OF, strlen(VEC_SEED_SHA256_OF), seed);
	assert_int_equal(crypto_ed25519_public_from_seed(seed, pub), 0);
	b64url_encode(pub, 32, enc, sizeof(enc));
	assert_string_equal(enc, VEC_PUBLIC_KEY);
	crypto_sha256_hex(pub, 32, id);
	assert_string_equal(id, VEC_DEVICE_ID);
}

static void test_verify_v3_token(void **state)
{
	struct device_auth_claim c = claim_v3_token(state);
	struct device_auth_result r;

	assert_int_equal(device_auth_verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW, &r), DEVICE_AUTH_OK);
	assert_string_equal(r.device_id, VEC_DEVICE_ID);
	assert_string_equal(r.public_key, VEC_PUBLIC_KEY);
	assert_int_equal(r.payload_version, 3);
}

static void test_verify_v3_no_token(void **state)
{
	struct device_auth_claim c = claim_v3_no_token(state);
	struct device_auth_result r;

	assert_int_equal(device_auth_verify(&c, "n-0001", 1767225600123, &r), DEVICE_AUTH_OK);
	assert_int_equal(r.payload_version, 3);
	/* Absent scopes sign as the empty list, like an empty array. */
	c.scopes = NULL;
	assert_int_equal(verify(&c, "n-0001", 1767225600123), DEVICE_AUTH_OK);
}

static void test_verify_v2(void **state)
{
	struct device_auth_claim c = claim_v2_device_token(state);
	struct device_auth_result r;

	assert_int_equal(device_auth_verify(&c, "n-0002", 1767225600999 - 119000, &r),
			 DEVICE_AUTH_OK);
	assert_int_equal(r.payload_version, 2);
	/* v2 does not cover platform, so any platform passes. */
	c.platform = "Linux";
	c.device_family = "desktop";
	assert_int_equal(verify(&c, "n-0002", 1767225600999), DEVICE_AUTH_OK);
}

/* Every key form OpenClaw normalises verifies, and reports the canonical key. */
static void test_verify_key_forms(void **state)
{
	static const char *const forms[] = {
		VEC_PUBLIC_KEY_PEM,
		"i3Q782azoo0Egkh2HN94MY/DhUWVTDJ1bVTPT4/CvKw=", /* standard base64, padded */
		"i3Q782azoo0Egkh2HN94MY/DhUWVTDJ1bVTPT4/CvKw",  /* standard, unpadded */
	};
	struct device_auth_claim c = claim_v3_token(state);
	struct device_auth_result r;

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		c.public_key = forms[i];
		assert_int_equal(device_auth_verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW, &r),
				 DEVICE_AUTH_OK);
		assert_string_equal(r.public_key, VEC_PUBLIC_KEY);
		assert_string_equal(r.device_id, VEC_DEVICE_ID);
	}
	/* The signature may come in standard base64 too. */
	c = claim_v3_no_token(state);
	{
		char std[100];

		strcpy(std, VEC_V3_NO_TOKEN_SIGNATURE);
		for (char *p = std; *p; p++)
			*p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
		strcat(std, "==");
		c.signature = std;
		assert_int_equal(verify(&c, "n-0001", 1767225600123), DEVICE_AUTH_OK);
	}
}

/* ==== what the signature covers ==== */

static void test_metadata_normalisation_covered(void **state)
{
	struct device_auth_claim c = claim_v3_token(state);

	/* Case and surrounding whitespace do not matter... */
	c.platform = "DARWIN";
	c.device_family = "macbookpro\xe2\x80\xa8";
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_OK);
	/* ...the rest does. */
	c.platform = "darwin2";
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_SIGNATURE_INVALID);
	c = claim_v3_token(state);
	c.device_family = NULL;
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_SIGNATURE_INVALID);
}

static void test_normalize_metadata(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ " \xc2\xa0MacOS\xe2\x80\x83 ", "macos" },
		{ "\xef\xbb\xbfX\xe2\x80\x8b", "x\xe2\x80\x8b" }, /* BOM trims, ZWSP does not */
		{ "\xc2\x85x", "\xc2\x85x" },                     /* NEL is not JS whitespace */
		{ "\xe1\xa0\x8ex", "\xe1\xa0\x8ex" },             /* nor is U+180E any more */
		{ "\xc4\xb0STANBUL", "\xc4\xb0stanbul" },         /* only A-Z are lowercased */
		{ "\xe3\x80\x80\xe1\x9a\x80\xe2\x81\x9f\xe2\x80\xaf", "" },
		{ "\t\n\v\f\r a b \r\n", "a b" },
		{ "", "" },
	};
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = device_auth_normalize_metadata(cases[i].in);
		assert_string_equal(s, cases[i].out);
		free(s);
	}
	s = device_auth_normalize_metadata(NULL);
	assert_string_equal(s, "");
	free(s);
}

static void test_token_precedence(void **state)
{
	struct device_auth_claim c = claim_v2_device_token(state);
	struct buf b;

	/* auth.token wins even when empty: OpenClaw uses ?? and "" is not nullish. */
	c.auth_token = "";
	assert_int_equal(verify(&c, "n-0002", 1767225600999), DEVICE_AUTH_SIGNATURE_INVALID);
	c.auth_token = NULL;
	c.auth_bootstrap_token = "bootstrap";
	assert_int_equal(verify(&c, "n-0002", 1767225600999), DEVICE_AUTH_OK);
	c.auth_device_token = NULL;
	buf_init(&b, 4096);
	assert_int_equal(device_auth_payload(2, &c, &b), 0);
	assert_non_null(strstr(b.p, "|1767225600999|bootstrap|n-0002"));
	buf_release(&b);
	assert_int_equal(verify(&c, "n-0002", 1767225600999), DEVICE_AUTH_SIGNATURE_INVALID);
}

static void test_fields_are_covered(void **state)
{
	json_t *other = json_pack("[s]", "operator.admin");
	struct device_auth_claim c;

	c = claim_v3_token(state);
	c.role = "node";
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_SIGNATURE_INVALID);
	c = claim_v3_token(state);
	c.scopes = other;
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_SIGNATURE_INVALID);
	c = claim_v3_token(state);
	c.client_id = "CLI";
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_SIGNATURE_INVALID);
	c = claim_v3_token(state);
	c.client_mode = "ui";
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_SIGNATURE_INVALID);
	c = claim_v3_token(state);
	c.signed_at += 1;
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_SIGNATURE_INVALID);
	c = claim_v3_token(state);
	c.auth_token = "another-token";
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_SIGNATURE_INVALID);
	json_decref(other);
}

/* A NULL role is the default role, "operator". */
static void test_default_role(void **state)
{
	struct device_auth_claim c = claim_v2_device_token(state);
	char *sig;

	c.role = NULL;
	sig = sign_claim(3, &c);
	c.signature = sig;
	assert_int_equal(verify(&c, "n-0002", 1767225600999), DEVICE_AUTH_OK);
	c.role = "operator";
	assert_int_equal(verify(&c, "n-0002", 1767225600999), DEVICE_AUTH_OK);
	free(sig);
}

/* ==== every failure code ==== */

static void test_id_mismatch(void **state)
{
	struct device_auth_claim c = claim_v3_token(state);
	char upper[65];

	c.id = "0e426e0aee99f23a1afc50451aaa2b718e3f136ca635679f22456a225ac9ee98";
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_ID_MISMATCH);
	/* The id is compared as text: uppercase hex is a different id. */
	strcpy(upper, VEC_DEVICE_ID);
	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	c.id = upper;
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_ID_MISMATCH);
	c.id = NULL;
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_ID_MISMATCH);
}

/* A key OpenClaw cannot decode fails the id check, before anything else. */
static void test_bad_key_is_id_mismatch(void **state)
{
	static const char *const keys[] = {
		"",
		"not base64!",
		"i3Q782azoo0Egkh2HN94MY_DhUWVTDJ1bVTPT4_CvK w",
		"-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n",
		"BEGIN",
	};
	struct device_auth_claim c = claim_v3_token(state);

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		c.public_key = keys[i];
		c.signed_at = 0; /* would be EXPIRED: the id check comes first */
		assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_ID_MISMATCH);
	}
	c.public_key = NULL;
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_ID_MISMATCH);
}

/*
 * A key of the wrong length still gets an id (its hash); with that id the
 * claim gets as far as the signature, as in OpenClaw.
 */
static void test_short_key_is_signature_invalid(void **state)
{
	const unsigned char raw[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	struct device_auth_claim c = claim_v3_token(state);
	char key[32], id[65];

	b64url_encode(raw, sizeof(raw), key, sizeof(key));
	crypto_sha256_hex(raw, sizeof(raw), id);
	c.public_key = key;
	c.id = id;
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_SIGNATURE_INVALID);
}

static void test_expired(void **state)
{
	struct device_auth_claim c = claim_v3_token(state);
	int64_t at = c.signed_at;

	/* The window is inclusive: exactly two minutes either way passes. */
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, at + DEVICE_AUTH_SKEW_MS), DEVICE_AUTH_OK);
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, at - DEVICE_AUTH_SKEW_MS), DEVICE_AUTH_OK);
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, at + DEVICE_AUTH_SKEW_MS + 1),
			 DEVICE_AUTH_SIGNATURE_EXPIRED);
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, at - DEVICE_AUTH_SKEW_MS - 1),
			 DEVICE_AUTH_SIGNATURE_EXPIRED);
	/* Extreme values neither overflow nor pass. */
	c.signed_at = INT64_MIN;
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, INT64_MAX), DEVICE_AUTH_SIGNATURE_EXPIRED);
	c.signed_at = INT64_MAX;
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, INT64_MIN), DEVICE_AUTH_SIGNATURE_EXPIRED);
	c.signed_at = 0;
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_SIGNATURE_EXPIRED);
	/* Staleness is checked before the nonce. */
	c.nonce = NULL;
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_SIGNATURE_EXPIRED);
}

static void test_nonce_required(void **state)
{
	struct device_auth_claim c = claim_v3_token(state);

	c.nonce = NULL;
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_NONCE_REQUIRED);
	c.nonce = "";
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_NONCE_REQUIRED);
	c.nonce = " \t\xc2\xa0\n";
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_NONCE_REQUIRED);
}

static void test_nonce_mismatch(void **state)
{
	struct device_auth_claim c = claim_v3_token(state);

	assert_int_equal(verify(&c, "another-nonce", V3_TOKEN_NOW), DEVICE_AUTH_NONCE_MISMATCH);
	assert_int_equal(verify(&c, NULL, V3_TOKEN_NOW), DEVICE_AUTH_NONCE_MISMATCH);
	assert_int_equal(verify(&c, V3_TOKEN_NONCE "x", V3_TOKEN_NOW), DEVICE_AUTH_NONCE_MISMATCH);
	/* The nonce is checked before the signature. */
	c.signature = "AAAA";
	assert_int_equal(verify(&c, "another-nonce", V3_TOKEN_NOW), DEVICE_AUTH_NONCE_MISMATCH);
}

/* The provided nonce is trimmed, and the trimmed one is what was signed. */
static void test_nonce_trimmed(void **state)
{
	struct device_auth_claim c = claim_v3_no_token(state);

	c.nonce = "\xe3\x80\x80n-0001\n";
	assert_int_equal(verify(&c, "n-0001", 1767225600123), DEVICE_AUTH_OK);
	/* The challenge itself is not trimmed. */
	assert_int_equal(verify(&c, " n-0001", 1767225600123), DEVICE_AUTH_NONCE_MISMATCH);
}

static void test_signature_invalid(void **state)
{
	static const char *const sigs[] = {
		"",
		"AAAA",
		"not base64 at all",
		/* one character changed */
		"XElqN9zicFnhTEhp8MqUzaV1q7HpxLLuIwi4ZeDTlX4U7Z4F9JvD1Ob4EFp9RZmtvSUTm6sRUPhIDRN41w"
		"nxBA",
		/* truncated */
		"WElqN9zicFnhTEhp8MqUzaV1q7HpxLLuIwi4ZeDTlX4U7Z4F9JvD1Ob4EFp9RZmtvSUTm6sRUPhIDRN41w"
		"nx",
		/* the v3_no_token signature: valid, for another payload */
		VEC_V3_NO_TOKEN_SIGNATURE,
	};
	struct device_auth_claim c = claim_v3_token(state);

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		c.signature = sigs[i];
		assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW),
				 DEVICE_AUTH_SIGNATURE_INVALID);
	}
	c.signature = NULL;
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_SIGNATURE_INVALID);
}

static void test_signature_too_long(void **state)
{
	struct device_auth_claim c = claim_v3_token(state);
	char *sig = malloc(DEVICE_AUTH_MAX_B64 + 8);

	assert_non_null(sig);
	/* The real signature followed by more text than OpenClaw decodes. */
	memset(sig, 'A', DEVICE_AUTH_MAX_B64 + 4);
	memcpy(sig, VEC_V3_TOKEN_SIGNATURE, strlen(VEC_V3_TOKEN_SIGNATURE));
	sig[DEVICE_AUTH_MAX_B64 + 4] = '\0';
	c.signature = sig;
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_SIGNATURE_INVALID);
	free(sig);
}

/* Scopes that are not plain strings cannot be signed for. */
static void test_bad_scopes(void **state)
{
	json_t *num = json_pack("[si]", "operator.read", 1);
	json_t *nul = json_array();
	struct device_auth_claim c = claim_v3_token(state);
	struct buf b;

	json_array_append_new(nul, json_stringn("operator.read\0x", 15));
	buf_init(&b, 4096);
	c.scopes = num;
	assert_int_equal(device_auth_payload(3, &c, &b), -1);
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_SIGNATURE_INVALID);
	c.scopes = nul;
	assert_int_equal(device_auth_payload(3, &c, &b), -1);
	assert_int_equal(b.len, 0);
	assert_int_equal(verify(&c, V3_TOKEN_NONCE, V3_TOKEN_NOW), DEVICE_AUTH_SIGNATURE_INVALID);
	buf_release(&b);
	json_decref(num);
	json_decref(nul);
}

static void test_payload_cap(void **state)
{
	struct device_auth_claim c = claim_v3_token(state);
	struct buf b;

	buf_init(&b, 20);
	buf_puts(&b, "keep");
	assert_int_equal(device_auth_payload(3, &c, &b), -1);
	assert_string_equal(b.p, "keep");
	buf_release(&b);
}

static void test_error_tables(void **state)
{
	static const struct {
		enum device_auth_err e;
		const char *code, *reason, *message;
	} want[] = {
		{ DEVICE_AUTH_ID_MISMATCH, "DEVICE_AUTH_DEVICE_ID_MISMATCH", "device-id-mismatch",
		  "device identity mismatch" },
		{ DEVICE_AUTH_SIGNATURE_EXPIRED, "DEVICE_AUTH_SIGNATURE_EXPIRED",
		  "device-signature-stale", "device signature expired" },
		{ DEVICE_AUTH_NONCE_REQUIRED, "DEVICE_AUTH_NONCE_REQUIRED", "device-nonce-missing",
		  "device nonce required" },
		{ DEVICE_AUTH_NONCE_MISMATCH, "DEVICE_AUTH_NONCE_MISMATCH", "device-nonce-mismatch",
		  "device nonce mismatch" },
		{ DEVICE_AUTH_SIGNATURE_INVALID, "DEVICE_AUTH_SIGNATURE_INVALID",
		  "device-signature", "device signature invalid" },
		{ DEVICE_AUTH_PUBLIC_KEY_INVALID, "DEVICE_AUTH_PUBLIC_KEY_INVALID",
		  "device-public-key", "device public key invalid" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_string_equal(device_auth_err_code(want[i].e), want[i].code);
		assert_string_equal(device_auth_err_reason(want[i].e), want[i].reason);
		assert_string_equal(device_auth_err_message(want[i].e), want[i].message);
	}
	assert_null(device_auth_err_code(DEVICE_AUTH_OK));
	assert_null(device_auth_err_reason(DEVICE_AUTH_OK));
	assert_string_equal(device_auth_err_code((enum device_auth_err)99), "DEVICE_AUTH_INVALID");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payloads_match_openclaw),
		cmocka_unit_test(test_vector_key_matches_seed),
		cmocka_unit_test(test_verify_v3_token),
		cmocka_unit_test(test_verify_v3_no_token),
		cmocka_unit_test(test_verify_v2),
		cmocka_unit_test(test_verify_key_forms),
		cmocka_unit_test(test_metadata_normalisation_covered),
		cmocka_unit_test(test_normalize_metadata),
		cmocka_unit_test(test_token_precedence),
		cmocka_unit_test(test_fields_are_covered),
		cmocka_unit_test(test_default_role),
		cmocka_unit_test(test_id_mismatch),
		cmocka_unit_test(test_bad_key_is_id_mismatch),
		cmocka_unit_test(test_short_key_is_signature_invalid),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_nonce_required),
		cmocka_unit_test(test_nonce_mismatch),
		cmocka_unit_test(test_nonce_trimmed),
		cmocka_unit_test(test_signature_invalid),
		cmocka_unit_test(test_signature_too_long),
		cmocka_unit_test(test_bad_scopes),
		cmocka_unit_test(test_payload_cap),
		cmocka_unit_test(test_error_tables),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
