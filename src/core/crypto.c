/*
 * crypto.c - SHA-256, base64url, Ed25519 and random tokens; see crypto.h.
 */
#include "core/crypto.h"

#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/id.h"
#include "core/mem.h"

/* ==== SHA-256 ==== */

void crypto_sha256(const void *data, size_t len, unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int n = 0;

	/* Only fails on allocation failure inside libcrypto: treat like OOM. */
	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != CRYPTO_SHA256_LEN)
		BUG("EVP_Digest(sha256) failed");
}

void crypto_sha256_hex(const void *data, size_t len, char out[2 * CRYPTO_SHA256_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[CRYPTO_SHA256_LEN];

	crypto_sha256(data, len, d);
	for (size_t i = 0; i < sizeof(d); i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 0x0f];
	}
	out[2 * sizeof(d)] = '\0';
}

/* ==== base64url ==== */

static const char b64url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t b64url_encode(const void *in, size_t len, char *out, size_t outlen)
{
	const unsigned char *p = in;
	size_t need = B64URL_ENCODED_LEN(len), o = 0, i = 0;

	if (outlen < need + 1)
		BUG("b64url_encode: %zu bytes need %zu, got %zu", len, need + 1, outlen);
	for (; i + 3 <= len; i += 3) {
		unsigned long v =
			(unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 | p[i + 2];

		out[o++] = b64url_alphabet[(v >> 18) & 63];
		out[o++] = b64url_alphabet[(v >> 12) & 63];
		out[o++] = b64url_alphabet[(v >> 6) & 63];
		out[o++] = b64url_alphabet[v & 63];
	}
	if (len - i == 1) {
		out[o++] = b64url_alphabet[p[i] >> 2];
		out[o++] = b64url_alphabet[(p[i] & 3) << 4];
	} else if (len - i == 2) {
		unsigned long v = (unsigned long)p[i] << 8 | p[i + 1];

		out[o++] = b64url_alphabet[(v >> 10) & 63];
		out[o++] = b64url_alphabet[(v >> 4) & 63];
		out[o++] = b64url_alphabet[(v << 2) & 63];
	}
	out[o] = '\0';
	return o;
}

/* The 6-bit value of a character of either alphabet, or -1. */
static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-' || c == '+')
		return 62;
	if (c == '_' || c == '/')
		return 63;
	return -1;
}

int b64url_decode(const char *in, unsigned char *out, size_t outmax, size_t *outlen)
{
	size_t n = strlen(in), pad = 0, o = 0;
	unsigned long acc = 0;
	int bits = 0;

	while (n > 0 && in[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	/* A lone character carries 6 bits, not a byte: no encoder makes that. */
	if (n % 4 == 1)
		return -1;
	if (pad && (n + pad) % 4 != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_value((unsigned char)in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outmax)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1UL << bits) - 1;
		}
	}
	*outlen = o;
	return 0;
}

/* ==== Ed25519 ==== */

int crypto_ed25519_verify(const unsigned char pub[CRYPTO_ED25519_KEY_LEN], const void *msg,
			  size_t msglen, const unsigned char sig[CRYPTO_ED25519_SIG_LEN])
{
	EVP_PKEY *key =
		EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, CRYPTO_ED25519_KEY_LEN);
	EVP_MD_CTX *ctx = NULL;
	int ok = 0;

	if (!key)
		goto out;
	ctx = EVP_MD_CTX_new();
	/* Ed25519 hashes internally: no digest is named, and it is one-shot. */
	if (!ctx || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) != 1)
		goto out;
	ok = EVP_DigestVerify(ctx, sig, CRYPTO_ED25519_SIG_LEN, msg, msglen) == 1;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	/*
	 * A bad signature is ordinary input, not an error of ours: leave no
	 * trace in the thread's error queue for the TLS code to trip over.
	 */
	if (!ok)
		ERR_clear_error();
	return ok ? 0 : -1;
}

int crypto_ed25519_sign(const unsigned char seed[CRYPTO_ED25519_KEY_LEN], const void *msg,
			size_t msglen, unsigned char sig[CRYPTO_ED25519_SIG_LEN])
{
	EVP_PKEY *key =
		EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, CRYPTO_ED25519_KEY_LEN);
	EVP_MD_CTX *ctx = NULL;
	size_t siglen = CRYPTO_ED25519_SIG_LEN;
	int ok = 0;

	if (!key)
		goto out;
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1)
		goto out;
	ok = EVP_DigestSign(ctx, sig, &siglen, msg, msglen) == 1 &&
	     siglen == CRYPTO_ED25519_SIG_LEN;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok ? 0 : -1;
}

static int crypto_raw_public(EVP_PKEY *key, unsigned char pub[CRYPTO_ED25519_KEY_LEN])
{
	size_t len = CRYPTO_ED25519_KEY_LEN;

	if (!key || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519)
		return -1;
	if (EVP_PKEY_get_raw_public_key(key, pub, &len) != 1 || len != CRYPTO_ED25519_KEY_LEN)
		return -1;
	return 0;
}

int crypto_ed25519_public_from_seed(const unsigned char seed[CRYPTO_ED25519_KEY_LEN],
				    unsigned char pub[CRYPTO_ED25519_KEY_LEN])
{
	EVP_PKEY *key =
		EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, CRYPTO_ED25519_KEY_LEN);
	int r = crypto_raw_public(key, pub);

	EVP_PKEY_free(key);
	return r;
}

int crypto_ed25519_public_from_pem(const char *pem, unsigned char pub[CRYPTO_ED25519_KEY_LEN])
{
	size_t len = strlen(pem);
	BIO *bio;
	EVP_PKEY *key;
	int r;

	/* A PEM public key is a few hundred bytes; refuse to parse a novel. */
	if (len > 4096)
		return -1;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return -1;
	key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	r = crypto_raw_public(key, pub);
	EVP_PKEY_free(key);
	BIO_free(bio);
	if (r < 0)
		ERR_clear_error();
	return r;
}

/* ==== random tokens ==== */

void crypto_random_b64url(char *out, size_t nbytes)
{
	unsigned char chunk[48]; /* a multiple of 3: chunks encode without padding seams */

	while (nbytes) {
		size_t n = nbytes < sizeof(chunk) ? nbytes : sizeof(chunk);

		id_random_bytes(chunk, n);
		out += b64url_encode(chunk, n, out, B64URL_ENCODED_LEN(n) + 1);
		nbytes -= n;
	}
	*out = '\0';
	/* The text is usually a bearer token: do not leave its bytes behind. */
	explicit_bzero(chunk, sizeof(chunk));
}
