/*
 * identity.h - the gateway's own device identity: an Ed25519 key pair kept
 * in <state>/identity/device.json (0600, directory 0700), created on first
 * use. The file is OpenClaw's: {version: 1, deviceId, publicKeyPem,
 * privateKeyPem, createdAtMs}, so an identity moves between the two.
 *
 * deviceId is the lowercase hex SHA-256 of the raw 32-byte public key, as
 * for every device; gateway.identity.get publishes it with the key.
 */
#ifndef PINCER_GATEWAY_IDENTITY_H
#define PINCER_GATEWAY_IDENTITY_H

#include <stddef.h>

struct gw_identity {
	char device_id[65];
	char public_key[44]; /* unpadded base64url of the raw key */
};

/*
 * Load <state_dir>/identity/device.json, or create it. Returns 0, or -1
 * with a one-line reason (an unreadable or corrupt file is reported, never
 * replaced: a gateway's identity is not something to lose silently).
 */
int gw_identity_load(const char *state_dir, struct gw_identity *id, char *err, size_t errlen);

#endif
