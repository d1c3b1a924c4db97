/*
 * identity.c - the gateway's Ed25519 identity file; see identity.h.
 */
#include "gateway/identity.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/fs.h"
#include "core/timeutil.h"

/* PEM text of a key (private or public) from a BIO, as a new string. */
static char *gw_identity_pem(EVP_PKEY *k, int private)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (!b)
		return NULL;
	if (private ? PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)
		    : PEM_write_bio_PUBKEY(b, k)) {
		n = BIO_get_mem_data(b, &data);
		if (n > 0)
			out = xstrndup(data, (size_t)n);
	}
	BIO_free(b);
	return out;
}

/* Fill id from a raw public key. */
static void gw_identity_fill(struct gw_identity *id, const unsigned char raw[32])
{
	crypto_sha256_hex(raw, 32, id->device_id);
	b64url_encode(raw, 32, id->public_key, sizeof(id->public_key));
}

static int gw_identity_create(const char *path, struct gw_identity *id, char *err, size_t errlen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	EVP_PKEY *k = NULL;
	unsigned char raw[32];
	size_t rawlen = sizeof(raw);
	char *priv = NULL, *pub = NULL, *text = NULL;
	json_t *o = NULL;
	int r = -1;

	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_keygen(ctx, &k) <= 0 ||
	    EVP_PKEY_get_raw_public_key(k, raw, &rawlen) <= 0 || rawlen != 32 ||
	    !(priv = gw_identity_pem(k, 1)) || !(pub = gw_identity_pem(k, 0))) {
		snprintf(err, errlen, "cannot generate the gateway's Ed25519 key");
		goto out;
	}
	gw_identity_fill(id, raw);
	o = json_pack("{s:i, s:s, s:s, s:s, s:I}", "version", 1, "deviceId", id->device_id,
		      "publicKeyPem", pub, "privateKeyPem", priv, "createdAtMs",
		      (json_int_t)time_now_ms());
	text = json_dumps(o, JSON_INDENT(2));
	if (!text || fs_write_atomic(path, text, strlen(text), 0600) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (priv)
		OPENSSL_cleanse(priv, strlen(priv));
	free(priv);
	free(pub);
	free(text);
	json_decref(o);
	EVP_PKEY_free(k);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

int gw_identity_load(const char *state_dir, struct gw_identity *id, char *err, size_t errlen)
{
	char *dir = fs_join(state_dir, "identity"), *path = fs_join(dir, "device.json");
	unsigned char raw[32];
	const char *pem;
	struct buf b;
	json_t *o = NULL;
	int r = -1;

	buf_init(&b, 1 << 16);
	if (fs_ensure_dir(dir, 0700) < 0) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	if (fs_read_file(path, &b) < 0) {
		if (errno == ENOENT)
			r = gw_identity_create(path, id, err, errlen);
		else
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	o = json_loadb(b.p, b.len, 0, NULL);
	pem = json_string_value(json_object_get(o, "publicKeyPem"));
	if (!pem || crypto_ed25519_public_from_pem(pem, raw) < 0) {
		snprintf(err, errlen,
			 "%s: not a device identity (no Ed25519 publicKeyPem); move it "
			 "away to let the gateway make a new one",
			 path);
		goto out;
	}
	gw_identity_fill(id, raw);
	r = 0;
out:
	json_decref(o);
	buf_release(&b);
	free(path);
	free(dir);
	return r;
}
