/*
 * test_crypto.c - SHA-256, base64url (RFC 4648 vectors), Ed25519 (RFC 8032
 * vectors), random tokens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/crypto.h"

/* Hex text to bytes; the tests only feed it well-formed input. */
static size_t unhex(const char *hex, unsigned char *out)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (unsigned char)v;
	}
	return n;
}

/* ==== SHA-256 ==== */

static void test_sha256(void **state)
{
	unsigned char d[CRYPTO_SHA256_LEN], want[CRYPTO_SHA256_LEN];
	char hex[65];

	(void)state;
	crypto_sha256("abc", 3, d);
	unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want);
	assert_memory_equal(d, want, sizeof(d));

	crypto_sha256_hex("abc", 3, hex);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	crypto_sha256_hex("", 0, hex);
	assert_string_equal(hex,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	crypto_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	assert_string_equal(hex,
			    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* ==== base64url ==== */

/* RFC 4648 §10, without the padding base64url leaves off. */
static const struct {
	const char *raw, *enc, *padded;
} b64_vectors[] = {
	{ "", "", "" },
	{ "f", "Zg", "Zg==" },
	{ "fo", "Zm8", "Zm8=" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

static void test_b64url_encode_vectors(void **state)
{
	char out[32];

	(void)state;
	for (size_t i = 0; i < sizeof(b64_vectors) / sizeof(b64_vectors[0]); i++) {
		size_t len = strlen(b64_vectors[i].raw);

		assert_int_equal(b64url_encode(b64_vectors[i].raw, len, out, sizeof(out)),
				 strlen(b64_vectors[i].enc));
		assert_string_equal(out, b64_vectors[i].enc);
		assert_int_equal(B64URL_ENCODED_LEN(len), strlen(b64_vectors[i].enc));
	}
}

static void test_b64url_decode_vectors(void **state)
{
	unsigned char out[32];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(b64_vectors) / sizeof(b64_vectors[0]); i++) {
		size_t len = strlen(b64_vectors[i].raw);

		assert_int_equal(b64url_decode(b64_vectors[i].enc, out, sizeof(out), &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(out, b64_vectors[i].raw, len);
		assert_int_equal(b64url_decode(b64_vectors[i].padded, out, sizeof(out), &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(out, b64_vectors[i].raw, len);
	}
}

static void test_b64url_alphabets(void **state)
{
	const unsigned char raw[] = { 0xfb, 0xff, 0xbf, 0xfe };
	unsigned char out[8];
	char enc[16];
	size_t n;

	(void)state;
	/* The URL-safe alphabet on output... */
	b64url_encode(raw, sizeof(raw), enc, sizeof(enc));
	assert_string_equal(enc, "-_-__g");
	/* ...and either one, even mixed, on input. */
	for (const char *const *s = (const char *const[]){ "-_-__g", "+/+//g==", "-/+_/g", NULL };
	     *s; s++) {
		assert_int_equal(b64url_decode(*s, out, sizeof(out), &n), 0);
		assert_int_equal(n, sizeof(raw));
		assert_memory_equal(out, raw, sizeof(raw));
	}
}

static void test_b64url_decode_rejects(void **state)
{
	static const char *const bad[] = {
		"Zm9v YmFy",                      /* whitespace */
		"Zm9v\nYmFy", "Zm9v*mFy",         /* not in either alphabet */
		"Zm9vY",                          /* a lone trailing character */
		"Zg=",                            /* short padding */
		"Zg===",                          /* too much padding */
		"Zm9v=",                          /* padding where none is due */
		"Zg==Zg==",                       /* '=' in the middle */
		"=Zm9v",      "Zm9vYmFy\xc3\xa9", /* non-ASCII */
	};
	unsigned char out[32];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(b64url_decode(bad[i], out, sizeof(out), &n), -1);
}

static void test_b64url_decode_outmax(void **state)
{
	unsigned char out[6];
	size_t n;

	(void)state;
	assert_int_equal(b64url_decode("Zm9vYmFy", out, 6, &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(b64url_decode("Zm9vYmFy", out, 5, &n), -1);
	assert_int_equal(b64url_decode("", out, 0, &n), 0);
	assert_int_equal(n, 0);
}

/* Node (and so OpenClaw) ignores the unused low bits of the last character. */
static void test_b64url_decode_trailing_bits(void **state)
{
	unsigned char out[4];
	size_t n;

	(void)state;
	assert_int_equal(b64url_decode("Zh", out, sizeof(out), &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 'f');
}

static void test_b64url_round_trip(void **state)
{
	unsigned char raw[300], back[300];
	char enc[B64URL_ENCODED_LEN(300) + 1];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(raw); len++) {
		size_t e = b64url_encode(raw, len, enc, sizeof(enc));

		assert_int_equal(e, B64URL_ENCODED_LEN(len));
		assert_true(B64URL_DECODED_MAX(e) >= len);
		assert_int_equal(b64url_decode(enc, back, sizeof(back), &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(back, raw, len);
	}
}

/* ==== Ed25519 (RFC 8032 §7.1, tests 1-3) ==== */

static const struct {
	const char *seed, *pub, *msg, *sig;
} ed_vectors[] = {
	{ "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
	  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
	  "1c"
	  "f9b46bd25bf5f0595bbe24655141438e7a100b" },
	{ "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
	  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
	  "d0"
	  "f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
	{ "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
	  "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
	  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760"
	  "98"
	  "4dc6594a7c15e9716ed28dc027beceea1ec40a" },
};

static void test_ed25519_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ed_vectors) / sizeof(ed_vectors[0]); i++) {
		unsigned char seed[32], pub[32], msg[8], sig[64], got[64], derived[32];
		size_t mlen;

		unhex(ed_vectors[i].seed, seed);
		unhex(ed_vectors[i].pub, pub);
		mlen = unhex(ed_vectors[i].msg, msg);
		unhex(ed_vectors[i].sig, sig);

		assert_int_equal(crypto_ed25519_public_from_seed(seed, derived), 0);
		assert_memory_equal(derived, pub, 32);
		assert_int_equal(crypto_ed25519_sign(seed, msg, mlen, got), 0);
		assert_memory_equal(got, sig, 64);
		assert_int_equal(crypto_ed25519_verify(pub, msg, mlen, sig), 0);

		/* One flipped bit anywhere breaks it. */
		sig[10] ^= 1;
		assert_int_equal(crypto_ed25519_verify(pub, msg, mlen, sig), -1);
		sig[10] ^= 1;
		msg[0] ^= 0x80;
		assert_int_equal(crypto_ed25519_verify(pub, msg, mlen + (mlen == 0), sig), -1);
		msg[0] ^= 0x80;
		pub[31] ^= 1;
		assert_int_equal(crypto_ed25519_verify(pub, msg, mlen, sig), -1);
	}
}

static void test_ed25519_other_key(void **state)
{
	unsigned char pub2[32], sig1[64];

	(void)state;
	unhex(ed_vectors[1].pub, pub2);
	unhex(ed_vectors[0].sig, sig1);
	assert_int_equal(crypto_ed25519_verify(pub2, "", 0, sig1), -1);
}

static void test_ed25519_pem(void **state)
{
	/* RFC 8032 test 1's public key as SubjectPublicKeyInfo (RFC 8410). */
	static const char pem[] = "-----BEGIN PUBLIC KEY-----\n"
				  "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
				  "-----END PUBLIC KEY-----\n";
	/* An X25519 key has the same shape but is not a signing key. */
	static const char x25519[] =
		"-----BEGIN PUBLIC KEY-----\n"
		"MCowBQYDK2VuAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
		"-----END PUBLIC KEY-----\n";
	unsigned char pub[32], want[32];

	(void)state;
	unhex(ed_vectors[0].pub, want);
	assert_int_equal(crypto_ed25519_public_from_pem(pem, pub), 0);
	assert_memory_equal(pub, want, 32);
	assert_int_equal(crypto_ed25519_public_from_pem(x25519, pub), -1);
	assert_int_equal(crypto_ed25519_public_from_pem("-----BEGIN PUBLIC KEY-----\n", pub), -1);
	assert_int_equal(crypto_ed25519_public_from_pem("", pub), -1);
}

/* ==== random tokens ==== */

static void test_random_b64url(void **state)
{
	char a[B64URL_ENCODED_LEN(100) + 1], b[B64URL_ENCODED_LEN(100) + 1];
	unsigned char raw[100];
	size_t n;

	(void)state;
	crypto_random_b64url(a, 32);
	assert_int_equal(strlen(a), 43);
	assert_int_equal(b64url_decode(a, raw, sizeof(raw), &n), 0);
	assert_int_equal(n, 32);
	crypto_random_b64url(b, 32);
	assert_string_not_equal(a, b);

	/* Lengths that span chunks stay one seamless encoding. */
	crypto_random_b64url(a, 100);
	assert_int_equal(strlen(a), B64URL_ENCODED_LEN(100));
	assert_int_equal(b64url_decode(a, raw, sizeof(raw), &n), 0);
	assert_int_equal(n, 100);
	for (const char *p = a; *p; p++)
		assert_non_null(strchr(
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
	crypto_random_b64url(a, 0);
	assert_string_equal(a, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_b64url_encode_vectors),
		cmocka_unit_test(test_b64url_decode_vectors),
		cmocka_unit_test(test_b64url_alphabets),
		cmocka_unit_test(test_b64url_decode_rejects),
		cmocka_unit_test(test_b64url_decode_outmax),
		cmocka_unit_test(test_b64url_decode_trailing_bits),
		cmocka_unit_test(test_b64url_round_trip),
		cmocka_unit_test(test_ed25519_vectors),
		cmocka_unit_test(test_ed25519_other_key),
		cmocka_unit_test(test_ed25519_pem),
		cmocka_unit_test(test_random_b64url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
