/*
 * test_ssrf.c - the SSRF guard's address and hostname rules (src/net/ssrf.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "net/ssrf.h"

#define CLS(text, want)                                                                            \
	do {                                                                                       \
		int got_ = ssrf_classify_text(text);                                               \
		if (got_ != (int)(want))                                                           \
			fail_msg("%s: got %s, want %s", text,                                      \
				 got_ < 0 ? "not an address" : ssrf_class_name(got_),              \
				 ssrf_class_name(want));                                           \
	} while (0)

static void test_v4_ranges(void **state)
{
	CLS("127.0.0.1", SSRF_LOOPBACK);
	CLS("127.255.255.254", SSRF_LOOPBACK);
	CLS("10.0.0.1", SSRF_PRIVATE);
	CLS("172.16.0.1", SSRF_PRIVATE);
	CLS("172.31.255.255", SSRF_PRIVATE);
	CLS("172.32.0.1", SSRF_PUBLIC);
	CLS("172.15.255.255", SSRF_PUBLIC);
	CLS("192.168.1.1", SSRF_PRIVATE);
	CLS("169.254.169.254", SSRF_METADATA);
	CLS("169.254.1.1", SSRF_LINK_LOCAL);
	CLS("100.64.0.1", SSRF_CGNAT);
	CLS("100.127.255.255", SSRF_CGNAT);
	CLS("100.128.0.1", SSRF_PUBLIC);
	CLS("100.100.100.200", SSRF_METADATA);
	CLS("0.0.0.0", SSRF_UNSPECIFIED);
	CLS("0.1.2.3", SSRF_UNSPECIFIED);
	CLS("224.0.0.1", SSRF_MULTICAST);
	CLS("239.255.255.250", SSRF_MULTICAST);
	CLS("255.255.255.255", SSRF_BROADCAST);
	CLS("240.0.0.1", SSRF_RESERVED);
	CLS("192.0.2.10", SSRF_RESERVED);
	CLS("198.51.100.1", SSRF_RESERVED);
	CLS("203.0.113.9", SSRF_RESERVED);
	CLS("198.18.0.1", SSRF_BENCHMARK);
	CLS("198.19.255.255", SSRF_BENCHMARK);
	CLS("198.20.0.1", SSRF_PUBLIC);
	CLS("8.8.8.8", SSRF_PUBLIC);
	CLS("1.1.1.1", SSRF_PUBLIC);
	CLS("93.184.216.34", SSRF_PUBLIC);
}

static void test_v6_ranges(void **state)
{
	CLS("::1", SSRF_LOOPBACK);
	CLS("[::1]", SSRF_LOOPBACK);
	CLS("::", SSRF_UNSPECIFIED);
	CLS("fc00::1", SSRF_UNIQUE_LOCAL);
	CLS("fd12:3456::1", SSRF_UNIQUE_LOCAL);
	CLS("fd00:ec2::254", SSRF_METADATA);
	CLS("fe80::1", SSRF_LINK_LOCAL);
	CLS("febf::1", SSRF_LINK_LOCAL);
	CLS("fec0::1", SSRF_SITE_LOCAL);
	CLS("ff02::1", SSRF_MULTICAST);
	CLS("2001:db8::1", SSRF_RESERVED);
	CLS("2001:2::1", SSRF_BENCHMARK);
	CLS("2001:10::1", SSRF_RESERVED);
	CLS("100::1", SSRF_RESERVED);
	CLS("64:ff9b:1::a00:1", SSRF_NAT64_LOCAL);
	CLS("2606:4700:4700::1111", SSRF_PUBLIC);
	CLS("2a00:1450:4001:81c::200e", SSRF_PUBLIC);
}

/* An IPv6 address carrying an IPv4 one is what the IPv4 one is. */
static void test_v6_embedded_v4(void **state)
{
	CLS("::ffff:127.0.0.1", SSRF_LOOPBACK);
	CLS("::ffff:7f00:1", SSRF_LOOPBACK);
	CLS("::ffff:169.254.169.254", SSRF_METADATA);
	CLS("::ffff:10.1.2.3", SSRF_PRIVATE);
	CLS("::ffff:8.8.8.8", SSRF_PUBLIC);
	CLS("::ffff:0:192.168.0.1", SSRF_PRIVATE); /* RFC 6145 */
	CLS("::127.0.0.1", SSRF_LOOPBACK);         /* IPv4-compatible */
	CLS("64:ff9b::127.0.0.1", SSRF_LOOPBACK);  /* NAT64 */
	CLS("64:ff9b::a9fe:a9fe", SSRF_METADATA);
	CLS("64:ff9b::808:808", SSRF_PUBLIC);
	CLS("2002:7f00:1::", SSRF_LOOPBACK); /* 6to4 */
	CLS("2002:c0a8:101::1", SSRF_PRIVATE);
	CLS("2002:808:808::1", SSRF_PUBLIC);
	/* Teredo: the client's address inverted in the last 32 bits. */
	CLS("2001:0:4136:e378:8000:63bf:80ff:fffe", SSRF_LOOPBACK); /* ~7f000001 */
	CLS("2001:0:4136:e378:8000:63bf:f7f7:f7f7", SSRF_PUBLIC);   /* 8.8.8.8 */
	CLS("fe80::5efe:10.0.0.1", SSRF_LINK_LOCAL);                /* outer wins */
	CLS("2607:f8b0::5efe:10.0.0.1", SSRF_PRIVATE);              /* ISATAP */
}

static void test_not_literals(void **state)
{
	assert_int_equal(ssrf_classify_text("example.com"), -1);
	assert_int_equal(ssrf_classify_text(""), -1);
	assert_int_equal(ssrf_classify_text("[example]"), -1);
	/* The strict text parser does not take legacy spellings: those are
	 * judged after the resolver has turned them into an address. */
	assert_int_equal(ssrf_classify_text("0x7f000001"), -1);
}

/* Numeric spellings the resolver accepts all land on loopback. */
static void test_resolver_forms(void **state)
{
	static const char *const forms[] = { "0x7f000001", "2130706433", "0177.0.0.1",
					     "127.1",      "0x7f.1",     "127.0.0.1" };
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_flags = AI_NUMERICHOST };
		struct addrinfo *res = NULL;

		if (getaddrinfo(forms[i], "80", &hints, &res) != 0)
			fail_msg("%s: resolver refused it", forms[i]);
		assert_int_equal(ssrf_classify_sa(res->ai_addr), SSRF_LOOPBACK);
		freeaddrinfo(res);
	}
}

static void test_check_sa(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct ssrf_policy open = { .allow_private = true };
	struct ssrf_policy fakeip = { .allow_benchmark = true, .allow_ula = true };
	char why[160];

	inet_pton(AF_INET, "169.254.169.254", &sin.sin_addr);
	assert_int_equal(ssrf_check_sa(NULL, (struct sockaddr *)&sin, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "169.254.169.254"));
	assert_non_null(strstr(why, "cloud metadata"));
	assert_int_equal(ssrf_check_sa(&open, (struct sockaddr *)&sin, why, sizeof(why)), 0);
	assert_int_equal(ssrf_check_sa(&fakeip, (struct sockaddr *)&sin, why, sizeof(why)), -1);

	inet_pton(AF_INET, "198.18.3.4", &sin.sin_addr);
	assert_int_equal(ssrf_check_sa(NULL, (struct sockaddr *)&sin, why, sizeof(why)), -1);
	assert_int_equal(ssrf_check_sa(&fakeip, (struct sockaddr *)&sin, why, sizeof(why)), 0);

	inet_pton(AF_INET6, "fd01::1", &sin6.sin6_addr);
	assert_int_equal(ssrf_check_sa(NULL, (struct sockaddr *)&sin6, why, sizeof(why)), -1);
	assert_int_equal(ssrf_check_sa(&fakeip, (struct sockaddr *)&sin6, why, sizeof(why)), 0);

	inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6.sin6_addr);
	assert_int_equal(ssrf_check_sa(&fakeip, (struct sockaddr *)&sin6, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "loopback"));

	inet_pton(AF_INET, "8.8.4.4", &sin.sin_addr);
	assert_int_equal(ssrf_check_sa(NULL, (struct sockaddr *)&sin, why, sizeof(why)), 0);

	/* Unknown families are never connected to. */
	struct sockaddr un = { .sa_family = AF_UNIX };
	assert_int_equal(ssrf_check_sa(NULL, &un, why, sizeof(why)), -1);
}

static void test_check_host(void **state)
{
	static const char *const allowed[] = { "intranet.example", "127.0.0.1", NULL };
	static const char *const blocked[] = { "*.evil.example", "exact.example", "*", NULL };
	struct ssrf_policy p = { .allowed_hosts = allowed, .blocked_hosts = blocked };
	char why[200];

	assert_int_equal(ssrf_check_host(NULL, "example.com", why, sizeof(why)), 0);
	assert_int_equal(ssrf_check_host(NULL, "localhost", why, sizeof(why)), -1);
	assert_int_equal(ssrf_check_host(NULL, "LOCALHOST.", why, sizeof(why)), -1);
	assert_int_equal(ssrf_check_host(NULL, "a.localhost", why, sizeof(why)), -1);
	assert_int_equal(ssrf_check_host(NULL, "printer.local", why, sizeof(why)), -1);
	assert_int_equal(ssrf_check_host(NULL, "metadata.google.internal", why, sizeof(why)), -1);
	assert_int_equal(ssrf_check_host(NULL, "127.0.0.1", why, sizeof(why)), -1);
	assert_int_equal(ssrf_check_host(NULL, "[::1]", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "private/internal"));
	assert_int_equal(ssrf_check_host(NULL, "", why, sizeof(why)), -1);

	/* The allowlist skips the address checks; the blocklist beats everything. */
	assert_int_equal(ssrf_check_host(&p, "127.0.0.1", why, sizeof(why)), 1);
	assert_int_equal(ssrf_check_host(&p, "INTRANET.example", why, sizeof(why)), 1);
	assert_int_equal(ssrf_check_host(&p, "127.0.0.2", why, sizeof(why)), -1);
	assert_int_equal(ssrf_check_host(&p, "a.evil.example", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "configured blocklist"));
	assert_int_equal(ssrf_check_host(&p, "evil.example", why, sizeof(why)), 0);
	assert_int_equal(ssrf_check_host(&p, "exact.example", why, sizeof(why)), -1);
	assert_int_equal(ssrf_check_host(&p, "other.example", why, sizeof(why)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_ranges),      cmocka_unit_test(test_v6_ranges),
		cmocka_unit_test(test_v6_embedded_v4), cmocka_unit_test(test_not_literals),
		cmocka_unit_test(test_resolver_forms), cmocka_unit_test(test_check_sa),
		cmocka_unit_test(test_check_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
