/*
 * crypto.h - small wrappers over libcrypto: SHA-256, base64url, Ed25519,
 * random tokens.
 *
 * Everything here is a thin, allocation-free layer so callers never touch
 * an EVP context. Nothing logs; nothing keeps state between calls.
 */
#ifndef PINCER_CORE_CRYPTO_H
#define PINCER_CORE_CRYPTO_H

#include <stddef.h>

#define CRYPTO_SHA256_LEN      32
#define CRYPTO_ED25519_KEY_LEN 32 /* raw public key, and private seed */
#define CRYPTO_ED25519_SIG_LEN 64

/* Characters of unpadded base64url for n bytes (no NUL). */
#define B64URL_ENCODED_LEN(n) (((n)*4 + 2) / 3)
/* Most bytes a base64 text of n characters (padding included) can decode to. */
#define B64URL_DECODED_MAX(n) (((n)*3) / 4 + 1)

void crypto_sha256(const void *data, size_t len, unsigned char out[CRYPTO_SHA256_LEN]);
/* SHA-256 as 64 lowercase hex digits and a NUL. */
void crypto_sha256_hex(const void *data, size_t len, char out[2 * CRYPTO_SHA256_LEN + 1]);

/*
 * Encode `len` bytes as base64url without padding (RFC 4648 §5) into `out`,
 * NUL-terminated. `outlen` must be at least B64URL_ENCODED_LEN(len) + 1;
 * a smaller buffer is a programming error (BUG). Returns the characters
 * written, not counting the NUL.
 */
size_t b64url_encode(const void *in, size_t len, char *out, size_t outlen);

/*
 * Decode NUL-terminated base64 text. Both alphabets are accepted, even
 * mixed ('-' or '+', '_' or '/'), because clients differ: browsers often
 * turn btoa() output into base64url by hand, and OpenClaw's own decoder
 * maps one alphabet onto the other before decoding. Padding is optional,
 * but when present it must be exactly what the length calls for. Unused
 * low bits of the last character are ignored, as Node's decoder does.
 * Anything else (whitespace, other characters, a lone trailing character,
 * '=' in the middle) is rejected, as is output longer than `outmax`.
 * Returns 0 with the length in *outlen, or -1.
 */
int b64url_decode(const char *in, unsigned char *out, size_t outmax, size_t *outlen);

/* 0 when `sig` is a valid Ed25519 signature of msg by `pub`, else -1. */
int crypto_ed25519_verify(const unsigned char pub[CRYPTO_ED25519_KEY_LEN], const void *msg,
			  size_t msglen, const unsigned char sig[CRYPTO_ED25519_SIG_LEN]);
/* Sign msg with the private key given as its 32-byte seed (RFC 8032). 0 or -1. */
int crypto_ed25519_sign(const unsigned char seed[CRYPTO_ED25519_KEY_LEN], const void *msg,
			size_t msglen, unsigned char sig[CRYPTO_ED25519_SIG_LEN]);
/* The public key of a 32-byte private seed. 0 or -1. */
int crypto_ed25519_public_from_seed(const unsigned char seed[CRYPTO_ED25519_KEY_LEN],
				    unsigned char pub[CRYPTO_ED25519_KEY_LEN]);
/*
 * The raw key inside the first PEM "PUBLIC KEY" (SubjectPublicKeyInfo)
 * block of `pem`, the form older clients send instead of raw base64url.
 * Fails (-1) unless that block holds an Ed25519 public key.
 */
int crypto_ed25519_public_from_pem(const char *pem, unsigned char pub[CRYPTO_ED25519_KEY_LEN]);

/*
 * `nbytes` random bytes from the kernel CSPRNG (aborts if it has none),
 * base64url-encoded into `out`, which must hold B64URL_ENCODED_LEN(nbytes)
 * + 1 bytes. Used for device tokens and request ids.
 */
void crypto_random_b64url(char *out, size_t nbytes);

#endif
