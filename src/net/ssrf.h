/*
 * ssrf.h - what an outbound fetch chosen by a model may connect to.
 *
 * The guard classifies the address a connection is about to be made to
 * (after DNS, so numeric spellings such as 0x7f000001, 2130706433 or
 * 0177.0.0.1 and names that resolve to private space are all judged by
 * what they really are). It follows OpenClaw's policy: loopback, RFC 1918,
 * link-local (with cloud metadata 169.254.169.254), CGNAT, "this network",
 * multicast, broadcast, reserved and benchmark ranges, and their IPv6
 * counterparts (::1, ::, fc00::/7, fe80::/10, fec0::/10, ff00::/8, the
 * special 2001::/23 blocks) are refused; an IPv6 address that carries an
 * IPv4 one (::ffff:a.b.c.d, ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16,
 * Teredo 2001::/32, ISATAP) is judged by the IPv4 address inside.
 *
 * Hostname rules come first, before any DNS: a configured blocklist
 * ("*.example.com" matches subdomains only), the names that are always
 * local (localhost, *.localhost, *.local, *.internal,
 * metadata.google.internal), and an allowlist of exact names that skip
 * the address checks (tools.web.fetch.ssrfPolicy.allowedHostnames).
 */
#ifndef PINCER_NET_SSRF_H
#define PINCER_NET_SSRF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum ssrf_class {
	SSRF_PUBLIC = 0,
	SSRF_UNSPECIFIED,  /* 0.0.0.0/8, :: */
	SSRF_LOOPBACK,     /* 127/8, ::1 */
	SSRF_PRIVATE,      /* 10/8, 172.16/12, 192.168/16 */
	SSRF_LINK_LOCAL,   /* 169.254/16, fe80::/10 */
	SSRF_METADATA,     /* 169.254.169.254, 100.100.100.200, fd00:ec2::254 */
	SSRF_CGNAT,        /* 100.64/10 */
	SSRF_MULTICAST,    /* 224/4, ff00::/8 */
	SSRF_BROADCAST,    /* 255.255.255.255 */
	SSRF_RESERVED,     /* 240/4, 192.0.0/24, documentation nets, 2001::/23, 100::/64, … */
	SSRF_BENCHMARK,    /* 198.18/15 (RFC 2544), 2001:2::/48 */
	SSRF_UNIQUE_LOCAL, /* fc00::/7 */
	SSRF_SITE_LOCAL,   /* fec0::/10 (deprecated, still routed privately) */
	SSRF_NAT64_LOCAL,  /* 64:ff9b:1::/48 (RFC 8215 local use) */
};

/* What an operator opted into. All false: the strict default. */
struct ssrf_policy {
	bool allow_private;   /* every class allowed (dangerouslyAllowPrivateNetwork) */
	bool allow_benchmark; /* 198.18/15 (fake-IP proxies: Clash, Surge) */
	bool allow_ula;       /* fc00::/7 (fake-IP proxies: sing-box) */
	const char *const
		*allowed_hosts; /* exact names that skip the address checks; NULL-terminated */
	const char *const *blocked_hosts; /* "host" or "*.suffix"; NULL-terminated */
};

/* A short noun phrase for a class: "loopback", "private", "cloud metadata", … */
const char *ssrf_class_name(enum ssrf_class c);

/* Classify an IPv4 address given in host byte order. */
enum ssrf_class ssrf_classify_v4(uint32_t addr);
/* Classify an IPv6 address (16 bytes, network order); embedded IPv4 is unwrapped. */
enum ssrf_class ssrf_classify_v6(const uint8_t addr[16]);
/* Classify a socket address (AF_INET or AF_INET6; other families: SSRF_RESERVED). */
enum ssrf_class ssrf_classify_sa(const struct sockaddr *sa);
/*
 * Classify an address in text: strict dotted quad or IPv6 (brackets allowed).
 * Returns -1 when `s` is not an address literal.
 */
int ssrf_classify_text(const char *s);

/* Whether `policy` lets a connection go to class `c`. */
bool ssrf_class_allowed(const struct ssrf_policy *policy, enum ssrf_class c);

/*
 * The pre-DNS hostname rules for `host` (no brackets, any case). Returns 1
 * when the host is allowlisted (address checks to be skipped), 0 when it may
 * proceed to the address check, -1 when it is refused, with the reason in `why`.
 */
int ssrf_check_host(const struct ssrf_policy *policy, const char *host, char *why, size_t whylen);

/*
 * The connect-time rule: 0 when `sa` may be connected to under `policy`,
 * else -1 with "Blocked: resolves to private/internal/special-use IP address
 * (127.0.0.1, loopback)" in `why`.
 */
int ssrf_check_sa(const struct ssrf_policy *policy, const struct sockaddr *sa, char *why,
		  size_t whylen);

#endif
