/*
 * test_gw_auth.c - gateway auth modes, trusted proxies and the failed-attempt limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/log.h"
#include "gateway/auth.h"
#include "testutil.h"

/* Load `text` as a config and init auth from it. Returns gw_auth_init's result. */
static int auth_from(const char *text, struct gw_auth *a, char *err, size_t errlen)
{
	char dir[PATH_MAX], *path;
	struct config cfg;
	struct buf errs;
	int r;

	assert_int_equal(tu_mkdtemp(dir, sizeof(dir), "gwauth"), 0);
	path = tu_write_file(dir, "pincer.json", text, 0600);
	assert_non_null(path);
	config_init(&cfg);
	buf_init(&errs, 1 << 16);
	assert_int_equal(config_load(&cfg, path, &errs), 0);
	r = gw_auth_init(a, &cfg, err, errlen);
	buf_release(&errs);
	config_release(&cfg);
	free(path);
	tu_rm_rf(dir);
	return r;
}

static void test_modes(void **state)
{
	struct gw_auth a;
	char err[256];

	unsetenv("PINCER_GATEWAY_TOKEN");
	unsetenv("OPENCLAW_GATEWAY_TOKEN");
	unsetenv("PINCER_GATEWAY_PASSWORD");
	unsetenv("OPENCLAW_GATEWAY_PASSWORD");
	assert_int_equal(auth_from("{}", &a, err, sizeof(err)), 0);
	assert_int_equal(a.mode, GW_AUTH_NONE);
	gw_auth_release(&a);

	assert_int_equal(auth_from("{gateway:{auth:{token:'t1'}}}", &a, err, sizeof(err)), 0);
	assert_int_equal(a.mode, GW_AUTH_TOKEN);
	assert_true(gw_auth_token_ok(&a, "t1"));
	assert_false(gw_auth_token_ok(&a, "t"));
	assert_false(gw_auth_token_ok(&a, "t12"));
	assert_false(gw_auth_token_ok(&a, NULL));
	assert_false(gw_auth_password_ok(&a, "t1"));
	assert_int_equal(a.max_attempts, 10);
	assert_int_equal(a.window_ms, 60000);
	assert_int_equal(a.lockout_ms, 300000);
	assert_true(a.exempt_loopback);
	gw_auth_release(&a);

	assert_int_equal(auth_from("{gateway:{auth:{mode:'password'}}}", &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no password is set"));

	setenv("OPENCLAW_GATEWAY_TOKEN", "from-env", 1);
	assert_int_equal(auth_from("{gateway:{auth:{mode:'token'}}}", &a, err, sizeof(err)), 0);
	assert_true(gw_auth_token_ok(&a, "from-env"));
	gw_auth_release(&a);
	unsetenv("OPENCLAW_GATEWAY_TOKEN");

	assert_int_equal(auth_from("{gateway:{auth:{mode:'trusted-proxy'}}}", &a, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "trusted-proxy"));
}

static void test_trusted_proxies(void **state)
{
	struct gw_auth a;
	char err[256];

	assert_int_equal(auth_from("{gateway:{trustedProxies:['10.0.0.0/8','192.168.1.7',"
				   "'fd00::/8','bogus','1.2.3.4/99'], auth:{mode:'trusted-proxy',"
				   "trustedProxy:{userHeader:'X-Forwarded-User'}}}}",
				   &a, err, sizeof(err)),
			 0);
	assert_string_equal(a.user_header, "x-forwarded-user");
	assert_true(gw_auth_is_trusted_proxy(&a, "10.1.2.3"));
	assert_true(gw_auth_is_trusted_proxy(&a, "::ffff:10.9.9.9"));
	assert_true(gw_auth_is_trusted_proxy(&a, "192.168.1.7"));
	assert_false(gw_auth_is_trusted_proxy(&a, "192.168.1.8"));
	assert_true(gw_auth_is_trusted_proxy(&a, "fd12::1"));
	assert_false(gw_auth_is_trusted_proxy(&a, "fe80::1"));
	assert_false(gw_auth_is_trusted_proxy(&a, "1.2.3.4"));
	assert_false(gw_auth_is_trusted_proxy(&a, "not an ip"));
	gw_auth_release(&a);
}

static void test_rate_limit(void **state)
{
	struct gw_auth a = {
		.max_attempts = 3, .window_ms = 1000, .lockout_ms = 5000, .exempt_loopback = true
	};
	int64_t t = 1000000;

	/* Failures spread wider than the window never lock. */
	for (int i = 0; i < 10; i++) {
		gw_auth_failed(&a, "1.1.1.1", false, t + i * 1500);
		assert_int_equal(gw_auth_retry_after(&a, "1.1.1.1", false, t + i * 1500), 0);
	}
	t += 100000;
	gw_auth_failed(&a, "2.2.2.2", false, t);
	gw_auth_failed(&a, "2.2.2.2", false, t + 10);
	assert_int_equal(gw_auth_retry_after(&a, "2.2.2.2", false, t + 10), 0);
	gw_auth_failed(&a, "2.2.2.2", false, t + 20);
	assert_int_equal(gw_auth_retry_after(&a, "2.2.2.2", false, t + 20), 5000);
	assert_int_equal(gw_auth_retry_after(&a, "2.2.2.2", false, t + 4020), 1000);
	assert_int_equal(gw_auth_retry_after(&a, "2.2.2.2", false, t + 5020), 0);
	/* Others are not affected; loopback is exempt. */
	assert_int_equal(gw_auth_retry_after(&a, "3.3.3.3", false, t + 20), 0);
	for (int i = 0; i < 10; i++)
		gw_auth_failed(&a, "127.0.0.1", true, t);
	assert_int_equal(gw_auth_retry_after(&a, "127.0.0.1", true, t), 0);
	/* A success forgets the address. */
	gw_auth_succeeded(&a, "1.1.1.1");
	/* A flood of addresses stays within the table. */
	for (int i = 0; i < 3 * GW_AUTH_MAX_PEERS; i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		gw_auth_failed(&a, addr, false, t + i);
	}
	assert_true(a.npeers <= GW_AUTH_MAX_PEERS);
	free(a.peers);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_trusted_proxies),
		cmocka_unit_test(test_rate_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
