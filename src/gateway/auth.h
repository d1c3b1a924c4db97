/*
 * auth.h - how clients prove who they are to the gateway: the configured
 * mode and shared secret, trusted proxies, and the per-address limit on
 * failed attempts.
 *
 * Modes (gateway.auth.mode): none, token, password, trusted-proxy. When
 * the mode is not set it follows the credentials: a token means token, a
 * password means password, neither means none. Secrets are compared in
 * constant time and registered with the logger so no line can carry them.
 *
 * The rate limit follows gateway.auth.rateLimit (OpenClaw's defaults:
 * 10 failures in 60 s lock an address out for 5 minutes; loopback is
 * exempt). It keeps at most GW_AUTH_MAX_PEERS addresses; when full, the
 * stalest entry makes room, so a flood of addresses cannot grow memory.
 */
#ifndef PINCER_GATEWAY_AUTH_H
#define PINCER_GATEWAY_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

#define GW_AUTH_MAX_PEERS 1024

enum gw_auth_mode {
	GW_AUTH_NONE,
	GW_AUTH_TOKEN,
	GW_AUTH_PASSWORD,
	GW_AUTH_TRUSTED_PROXY,
};

struct gw_auth_peer {
	char addr[46];
	int fails;
	int64_t window_start, locked_until, last_seen;
};

struct gw_auth {
	enum gw_auth_mode mode;
	char *token;             /* owned; NULL when not configured */
	char *password;          /* owned; NULL when not configured */
	char *user_header;       /* trusted-proxy: the header naming the user (lowercase) */
	json_t *trusted_proxies; /* gateway.trustedProxies: array of addresses / CIDRs */
	/* rate limit */
	int max_attempts;
	int64_t window_ms, lockout_ms;
	bool exempt_loopback;
	struct gw_auth_peer *peers;
	size_t npeers;
};

/*
 * Read gateway.auth.* and gateway.trustedProxies. Returns 0, or -1 with a
 * one-line reason (a SecretRef that does not resolve, a mode without its
 * credential).
 */
int gw_auth_init(struct gw_auth *a, const struct config *cfg, char *err, size_t errlen);
void gw_auth_release(struct gw_auth *a);

const char *gw_auth_mode_name(enum gw_auth_mode m);

/* Does `got` equal the configured token / password? Constant time; NULLs never match. */
bool gw_auth_token_ok(const struct gw_auth *a, const char *got);
bool gw_auth_password_ok(const struct gw_auth *a, const char *got);

/* Is `addr` one of gateway.trustedProxies (an exact address or inside a CIDR)? */
bool gw_auth_is_trusted_proxy(const struct gw_auth *a, const char *addr);

/*
 * The rate limit. gw_auth_retry_after() returns 0 when `addr` may try now,
 * else the milliseconds until it may. gw_auth_failed() counts a failure
 * (starting a lockout at the limit); gw_auth_succeeded() forgets the
 * address. Loopback addresses are exempt when the config says so.
 */
int64_t gw_auth_retry_after(struct gw_auth *a, const char *addr, bool loopback, int64_t now_ms);
void gw_auth_failed(struct gw_auth *a, const char *addr, bool loopback, int64_t now_ms);
void gw_auth_succeeded(struct gw_auth *a, const char *addr);

#endif
