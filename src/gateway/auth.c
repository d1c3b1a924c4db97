/*
 * auth.c - gateway auth mode, shared secrets, trusted proxies and the
 * failed-attempt limit; see auth.h.
 */
#include "gateway/auth.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

static const char *const gw_auth_mode_names[] = { "none", "token", "password", "trusted-proxy" };

const char *gw_auth_mode_name(enum gw_auth_mode m)
{
	return gw_auth_mode_names[m];
}

/* A credential from the config, else from the first set environment variable. */
static int gw_auth_secret(const struct config *cfg, const char *path, const char *const *envs,
			  char **out, char *err, size_t errlen)
{
	char why[256];
	int r = config_get_secret(cfg, path, out, why, sizeof(why));

	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	for (; !*out && *envs; envs++) {
		const char *e = getenv(*envs);

		if (e && *e)
			*out = xstrdup(e);
	}
	if (*out)
		log_add_secret(*out);
	return 0;
}

int gw_auth_init(struct gw_auth *a, const struct config *cfg, char *err, size_t errlen)
{
	static const char *const token_envs[] = { "PINCER_GATEWAY_TOKEN", "OPENCLAW_GATEWAY_TOKEN",
						  NULL };
	static const char *const password_envs[] = { "PINCER_GATEWAY_PASSWORD",
						     "OPENCLAW_GATEWAY_PASSWORD", NULL };
	const char *mode, *hdr;
	json_t *proxies;

	memset(a, 0, sizeof(*a));
	if (gw_auth_secret(cfg, "gateway.auth.token", token_envs, &a->token, err, errlen) < 0 ||
	    gw_auth_secret(cfg, "gateway.auth.password", password_envs, &a->password, err, errlen) <
		    0)
		goto fail;
	mode = config_get_str(cfg, "gateway.auth.mode");
	if (!mode)
		a->mode = a->token ? GW_AUTH_TOKEN : a->password ? GW_AUTH_PASSWORD : GW_AUTH_NONE;
	else if (!strcmp(mode, "none"))
		a->mode = GW_AUTH_NONE;
	else if (!strcmp(mode, "token"))
		a->mode = GW_AUTH_TOKEN;
	else if (!strcmp(mode, "password"))
		a->mode = GW_AUTH_PASSWORD;
	else if (!strcmp(mode, "trusted-proxy"))
		a->mode = GW_AUTH_TRUSTED_PROXY;
	else {
		snprintf(err, errlen, "gateway.auth.mode: unknown mode '%s'", mode);
		goto fail;
	}
	if (a->mode == GW_AUTH_TOKEN && !a->token) {
		snprintf(err, errlen,
			 "gateway.auth.mode is token but no token is set (gateway.auth.token or "
			 "PINCER_GATEWAY_TOKEN)");
		goto fail;
	}
	if (a->mode == GW_AUTH_PASSWORD && !a->password) {
		snprintf(err, errlen,
			 "gateway.auth.mode is password but no password is set "
			 "(gateway.auth.password or PINCER_GATEWAY_PASSWORD)");
		goto fail;
	}
	proxies = config_get(cfg, "gateway.trustedProxies");
	a->trusted_proxies = json_is_array(proxies) ? json_incref(proxies) : json_array();
	if (a->mode == GW_AUTH_TRUSTED_PROXY) {
		hdr = config_get_str(cfg, "gateway.auth.trustedProxy.userHeader");
		if (!hdr || !*hdr || !json_array_size(a->trusted_proxies)) {
			snprintf(err, errlen,
				 "gateway.auth.mode is trusted-proxy but "
				 "gateway.auth.trustedProxy.userHeader or gateway.trustedProxies "
				 "is not set");
			goto fail;
		}
		a->user_header = xstrdup(hdr);
		for (char *p = a->user_header; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	a->max_attempts = (int)config_get_int(cfg, "gateway.auth.rateLimit.maxAttempts");
	a->window_ms = config_get_int(cfg, "gateway.auth.rateLimit.windowMs");
	a->lockout_ms = config_get_int(cfg, "gateway.auth.rateLimit.lockoutMs");
	a->exempt_loopback = config_get_bool(cfg, "gateway.auth.rateLimit.exemptLoopback");
	if (a->max_attempts <= 0)
		a->max_attempts = 10;
	if (a->window_ms <= 0)
		a->window_ms = 60000;
	if (a->lockout_ms < 0)
		a->lockout_ms = 300000;
	return 0;
fail:
	gw_auth_release(a);
	return -1;
}

void gw_auth_release(struct gw_auth *a)
{
	free(a->token);
	free(a->password);
	free(a->user_header);
	json_decref(a->trusted_proxies);
	free(a->peers);
	memset(a, 0, sizeof(*a));
}

static bool gw_auth_equal(const char *want, const char *got)
{
	if (!want || !got)
		return false;
	return str_ct_equal(want, strlen(want), got, strlen(got));
}

bool gw_auth_token_ok(const struct gw_auth *a, const char *got)
{
	return gw_auth_equal(a->token, got);
}

bool gw_auth_password_ok(const struct gw_auth *a, const char *got)
{
	return gw_auth_equal(a->password, got);
}

/* ==== trusted proxies ==== */

/* Parse an address into 16 bytes (IPv4 as ::ffff:a.b.c.d). Returns the family or 0. */
static int gw_addr_parse(const char *s, unsigned char out[16])
{
	struct in_addr a4;

	if (inet_pton(AF_INET, s, &a4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &a4, 4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, s, out) == 1)
		return AF_INET6;
	return 0;
}

/* Does `addr` match `entry` ("10.0.0.1", "10.0.0.0/8", "fd00::/8")? */
static bool gw_addr_match(const char *entry, const unsigned char addr[16])
{
	char host[64];
	const char *slash = strchr(entry, '/');
	unsigned char net[16];
	long long bits;
	int fam;

	if (strlen(entry) >= sizeof(host))
		return false;
	snprintf(host, sizeof(host), "%.*s", slash ? (int)(slash - entry) : (int)strlen(entry),
		 entry);
	fam = gw_addr_parse(host, net);
	if (!fam)
		return false;
	bits = 128;
	if (slash) {
		if (str_to_ll(slash + 1, &bits) < 0 || bits < 0 ||
		    bits > (fam == AF_INET ? 32 : 128))
			return false;
		if (fam == AF_INET)
			bits += 96;
	}
	for (int i = 0; i < 16 && bits > 0; i++, bits -= 8) {
		unsigned char mask = bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));

		if ((net[i] & mask) != (addr[i] & mask))
			return false;
	}
	return true;
}

bool gw_auth_is_trusted_proxy(const struct gw_auth *a, const char *addr)
{
	unsigned char ip[16];
	size_t i;
	json_t *v;

	if (!a->trusted_proxies || !gw_addr_parse(addr, ip))
		return false;
	json_array_foreach(a->trusted_proxies, i, v)
	{
		if (json_is_string(v) && gw_addr_match(json_string_value(v), ip))
			return true;
	}
	return false;
}

/* ==== failed-attempt limit ==== */

static struct gw_auth_peer *gw_auth_peer_find(struct gw_auth *a, const char *addr)
{
	for (size_t i = 0; i < a->npeers; i++)
		if (!strcmp(a->peers[i].addr, addr))
			return &a->peers[i];
	return NULL;
}

int64_t gw_auth_retry_after(struct gw_auth *a, const char *addr, bool loopback, int64_t now_ms)
{
	struct gw_auth_peer *p;

	if (loopback && a->exempt_loopback)
		return 0;
	p = gw_auth_peer_find(a, addr);
	if (!p || p->locked_until <= now_ms)
		return 0;
	return p->locked_until - now_ms;
}

void gw_auth_failed(struct gw_auth *a, const char *addr, bool loopback, int64_t now_ms)
{
	struct gw_auth_peer *p;

	if (loopback && a->exempt_loopback)
		return;
	p = gw_auth_peer_find(a, addr);
	if (!p) {
		if (!a->peers)
			a->peers = xcalloc(GW_AUTH_MAX_PEERS, sizeof(*a->peers));
		if (a->npeers < GW_AUTH_MAX_PEERS) {
			p = &a->peers[a->npeers++];
		} else {
			/* Full: the entry seen longest ago makes room. */
			p = &a->peers[0];
			for (size_t i = 1; i < a->npeers; i++)
				if (a->peers[i].last_seen < p->last_seen)
					p = &a->peers[i];
		}
		memset(p, 0, sizeof(*p));
		snprintf(p->addr, sizeof(p->addr), "%s", addr);
		p->window_start = now_ms;
	}
	p->last_seen = now_ms;
	if (now_ms - p->window_start > a->window_ms) {
		p->window_start = now_ms;
		p->fails = 0;
	}
	if (++p->fails >= a->max_attempts) {
		p->locked_until = now_ms + a->lockout_ms;
		p->fails = 0;
		p->window_start = now_ms;
		log_warn("auth", "%s locked out for %lld s after %d failed attempts", addr,
			 (long long)(a->lockout_ms / 1000), a->max_attempts);
	}
}

void gw_auth_succeeded(struct gw_auth *a, const char *addr)
{
	struct gw_auth_peer *p = gw_auth_peer_find(a, addr);

	if (p)
		*p = a->peers[--a->npeers];
}
