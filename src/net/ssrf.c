/*
 * ssrf.c - address and hostname classification for outbound fetches; see ssrf.h.
 *
 * Ranges are tables of prefixes, so the policy reads as a list and a
 * missing range is one line to add. IPv6 forms that merely carry an IPv4
 * address are unwrapped first: an attacker who cannot reach 127.0.0.1
 * directly must not reach it as ::ffff:127.0.0.1 or 64:ff9b::7f00:1.
 */
#include "net/ssrf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct v4_range {
	uint32_t net;
	int bits;
	enum ssrf_class cls;
};

#define V4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

/* Most specific first: the first match wins. */
static const struct v4_range v4_ranges[] = {
	{ V4(169, 254, 169, 254), 32, SSRF_METADATA },
	{ V4(100, 100, 100, 200), 32, SSRF_METADATA }, /* Alibaba Cloud */
	{ V4(255, 255, 255, 255), 32, SSRF_BROADCAST },
	{ V4(0, 0, 0, 0), 8, SSRF_UNSPECIFIED },
	{ V4(10, 0, 0, 0), 8, SSRF_PRIVATE },
	{ V4(100, 64, 0, 0), 10, SSRF_CGNAT },
	{ V4(127, 0, 0, 0), 8, SSRF_LOOPBACK },
	{ V4(169, 254, 0, 0), 16, SSRF_LINK_LOCAL },
	{ V4(172, 16, 0, 0), 12, SSRF_PRIVATE },
	{ V4(192, 0, 0, 0), 24, SSRF_RESERVED },   /* IETF protocol assignments */
	{ V4(192, 0, 2, 0), 24, SSRF_RESERVED },   /* TEST-NET-1 */
	{ V4(192, 88, 99, 0), 24, SSRF_RESERVED }, /* 6to4 relay anycast */
	{ V4(192, 168, 0, 0), 16, SSRF_PRIVATE },
	{ V4(198, 18, 0, 0), 15, SSRF_BENCHMARK },
	{ V4(198, 51, 100, 0), 24, SSRF_RESERVED }, /* TEST-NET-2 */
	{ V4(203, 0, 113, 0), 24, SSRF_RESERVED },  /* TEST-NET-3 */
	{ V4(224, 0, 0, 0), 4, SSRF_MULTICAST },
	{ V4(240, 0, 0, 0), 4, SSRF_RESERVED },
};

static const char *const class_names[] = {
	[SSRF_PUBLIC] = "public",           [SSRF_UNSPECIFIED] = "unspecified",
	[SSRF_LOOPBACK] = "loopback",       [SSRF_PRIVATE] = "private",
	[SSRF_LINK_LOCAL] = "link-local",   [SSRF_METADATA] = "cloud metadata",
	[SSRF_CGNAT] = "carrier-grade NAT", [SSRF_MULTICAST] = "multicast",
	[SSRF_BROADCAST] = "broadcast",     [SSRF_RESERVED] = "reserved",
	[SSRF_BENCHMARK] = "benchmark",     [SSRF_UNIQUE_LOCAL] = "unique local",
	[SSRF_SITE_LOCAL] = "site-local",   [SSRF_NAT64_LOCAL] = "local-use NAT64",
};

/* Names that are local whatever DNS says (OpenClaw's list). */
static const char *const local_names[] = { "localhost", "localhost.localdomain",
					   "metadata.google.internal" };
static const char *const local_suffixes[] = { ".localhost", ".local", ".internal" };

const char *ssrf_class_name(enum ssrf_class c)
{
	if ((size_t)c < sizeof(class_names) / sizeof(class_names[0]) && class_names[c])
		return class_names[c];
	return "special-use";
}

enum ssrf_class ssrf_classify_v4(uint32_t addr)
{
	size_t i;

	for (i = 0; i < sizeof(v4_ranges) / sizeof(v4_ranges[0]); i++) {
		uint32_t mask = v4_ranges[i].bits ? 0xffffffffu << (32 - v4_ranges[i].bits) : 0;

		if ((addr & mask) == v4_ranges[i].net)
			return v4_ranges[i].cls;
	}
	return SSRF_PUBLIC;
}

static uint32_t v4_at(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static bool zeros(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/*
 * The IPv4 address an IPv6 one carries, if any: mapped ::ffff:a.b.c.d,
 * translated ::ffff:0:a.b.c.d (RFC 6145), compatible ::a.b.c.d, NAT64
 * 64:ff9b::/96, 6to4 2002:AABB:CCDD::/48, Teredo 2001:0::/32 (client
 * address inverted in the last 32 bits), ISATAP ::0:5efe:a.b.c.d /
 * ::200:5efe:a.b.c.d interface ids.
 */
static bool v6_embedded_v4(const uint8_t a[16], uint32_t *out)
{
	static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };

	if (zeros(a, 10) && a[10] == 0xff && a[11] == 0xff) {
		*out = v4_at(a + 12);
		return true;
	}
	if (zeros(a, 8) && a[8] == 0xff && a[9] == 0xff && a[10] == 0 && a[11] == 0) {
		*out = v4_at(a + 12);
		return true;
	}
	if (zeros(a, 12)) { /* :: and ::1 were classified before this */
		*out = v4_at(a + 12);
		return true;
	}
	if (!memcmp(a, nat64, 12)) {
		*out = v4_at(a + 12);
		return true;
	}
	if (a[0] == 0x20 && a[1] == 0x02) {
		*out = v4_at(a + 2);
		return true;
	}
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0) {
		*out = ~v4_at(a + 12);
		return true;
	}
	if ((a[8] & 0xfc) == 0 && a[9] == 0 && a[10] == 0x5e && a[11] == 0xfe) {
		*out = v4_at(a + 12);
		return true;
	}
	return false;
}

enum ssrf_class ssrf_classify_v6(const uint8_t a[16])
{
	static const uint8_t ec2_metadata[16] = {
		0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54
	};
	uint32_t v4;

	if (zeros(a, 16))
		return SSRF_UNSPECIFIED;
	if (zeros(a, 15) && a[15] == 1)
		return SSRF_LOOPBACK;
	if (!memcmp(a, ec2_metadata, 16))
		return SSRF_METADATA;
	if (a[0] == 0xff)
		return SSRF_MULTICAST;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return SSRF_LINK_LOCAL;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return SSRF_SITE_LOCAL;
	if ((a[0] & 0xfe) == 0xfc)
		return SSRF_UNIQUE_LOCAL;
	if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b && a[4] == 0 && a[5] == 1)
		return SSRF_NAT64_LOCAL;
	if (a[0] == 0x01 && zeros(a + 1, 7)) /* 100::/64, discard only */
		return SSRF_RESERVED;
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) /* documentation */
		return SSRF_RESERVED;
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 2 && a[4] == 0 && a[5] == 0)
		return SSRF_BENCHMARK;
	/* 2001::/23 is IETF special-purpose space; only Teredo (2001::/32) is
	 * ever a real peer, and that is judged by its embedded address. */
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] < 0x02 && !(a[2] == 0 && a[3] == 0))
		return SSRF_RESERVED;
	if (v6_embedded_v4(a, &v4))
		return ssrf_classify_v4(v4);
	return SSRF_PUBLIC;
}

enum ssrf_class ssrf_classify_sa(const struct sockaddr *sa)
{
	if (!sa)
		return SSRF_RESERVED;
	if (sa->sa_family == AF_INET)
		return ssrf_classify_v4(
			ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr));
	if (sa->sa_family == AF_INET6)
		return ssrf_classify_v6(
			((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr);
	return SSRF_RESERVED;
}

int ssrf_classify_text(const char *s)
{
	char tmp[INET6_ADDRSTRLEN + 2];
	struct in_addr a4;
	struct in6_addr a6;
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		if (n - 2 >= sizeof(tmp))
			return -1;
		memcpy(tmp, s + 1, n - 2);
		tmp[n - 2] = '\0';
		s = tmp;
	}
	if (inet_pton(AF_INET, s, &a4) == 1)
		return ssrf_classify_v4(ntohl(a4.s_addr));
	if (inet_pton(AF_INET6, s, &a6) == 1)
		return ssrf_classify_v6(a6.s6_addr);
	return -1;
}

bool ssrf_class_allowed(const struct ssrf_policy *policy, enum ssrf_class c)
{
	if (c == SSRF_PUBLIC)
		return true;
	if (!policy)
		return false;
	if (policy->allow_private)
		return true;
	if (c == SSRF_BENCHMARK && policy->allow_benchmark)
		return true;
	if (c == SSRF_UNIQUE_LOCAL && policy->allow_ula)
		return true;
	return false;
}

/* "host" matches itself; "*.example.com" matches subdomains only. */
static bool host_matches(const char *host, const char *pattern)
{
	size_t hl = strlen(host), sl;

	if (pattern[0] == '*' && pattern[1] == '.') {
		sl = strlen(pattern + 2);
		if (!sl || hl <= sl + 1)
			return false;
		return host[hl - sl - 1] == '.' && !strcasecmp(host + hl - sl, pattern + 2);
	}
	return !strcasecmp(host, pattern);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcasecmp(s + n - m, suffix);
}

int ssrf_check_host(const struct ssrf_policy *policy, const char *host, char *why, size_t whylen)
{
	char h[256];
	size_t n, i;
	int cls;

	/* A trailing dot names the same host; compare without it. */
	n = strlen(host);
	if (!n || n >= sizeof(h)) {
		snprintf(why, whylen, "Invalid hostname");
		return -1;
	}
	memcpy(h, host, n + 1);
	if (n > 1 && h[n - 1] == '.')
		h[n - 1] = '\0';
	for (const char *const *p = policy ? policy->blocked_hosts : NULL; p && *p; p++) {
		if ((*p)[0] && strcmp(*p, "*") && strcmp(*p, "*.") && host_matches(h, *p)) {
			snprintf(why, whylen,
				 "Domain policy: Blocked hostname (configured blocklist): %s", h);
			return -1;
		}
	}
	for (const char *const *p = policy ? policy->allowed_hosts : NULL; p && *p; p++)
		if (!strcasecmp(h, *p))
			return 1;
	if (policy && policy->allow_private)
		return 0;
	for (i = 0; i < sizeof(local_names) / sizeof(local_names[0]); i++)
		if (!strcasecmp(h, local_names[i]))
			goto blocked;
	for (i = 0; i < sizeof(local_suffixes) / sizeof(local_suffixes[0]); i++)
		if (has_suffix(h, local_suffixes[i]))
			goto blocked;
	cls = ssrf_classify_text(h);
	if (cls > 0 && !ssrf_class_allowed(policy, (enum ssrf_class)cls))
		goto blocked;
	return 0;
blocked:
	snprintf(why, whylen, "Blocked hostname or private/internal/special-use IP address: %s", h);
	return -1;
}

int ssrf_check_sa(const struct ssrf_policy *policy, const struct sockaddr *sa, char *why,
		  size_t whylen)
{
	enum ssrf_class c = ssrf_classify_sa(sa);
	char addr[INET6_ADDRSTRLEN] = "?";

	if (ssrf_class_allowed(policy, c))
		return 0;
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, addr,
			  sizeof(addr));
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  addr, sizeof(addr));
	snprintf(why, whylen,
		 "Blocked: resolves to private/internal/special-use IP address (%s, %s)", addr,
		 ssrf_class_name(c));
	return -1;
}
