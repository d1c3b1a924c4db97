/*
 * test_timeutil.c - clocks and ISO 8601 timestamps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "core/timeutil.h"

static void test_iso8601_epoch(void **state)
{
	char out[32];

	time_iso8601(0, out, sizeof(out));
	assert_string_equal(out, "1970-01-01T00:00:00.000Z");
}

static void test_iso8601_known(void **state)
{
	char out[32];

	/* The example in timeutil.h. */
	time_iso8601(1795253182123LL, out, sizeof(out));
	assert_string_equal(out, "2026-11-21T09:26:22.123Z");
	assert_int_equal(strlen(out), 24);
	time_iso8601(951782400000LL + 86399999LL, out, sizeof(out));
	assert_string_equal(out, "2000-02-29T23:59:59.999Z");
}

static void test_iso8601_before_epoch(void **state)
{
	char out[32];

	/* Floor division: one millisecond before the epoch is .999 of the previous second. */
	time_iso8601(-1, out, sizeof(out));
	assert_string_equal(out, "1969-12-31T23:59:59.999Z");
	time_iso8601(-1000, out, sizeof(out));
	assert_string_equal(out, "1969-12-31T23:59:59.000Z");
}

static void test_iso8601_short_buffer(void **state)
{
	char out[8];

	memset(out, 'x', sizeof(out));
	time_iso8601(0, out, 5);
	assert_string_equal(out, "1970");
	assert_int_equal(out[5], 'x');
	memset(out, 'x', sizeof(out));
	time_iso8601(0, out, 0);
	assert_int_equal(out[0], 'x');
}

static void test_now_ms(void **state)
{
	int64_t before = (int64_t)time(NULL) * 1000;
	int64_t now = time_now_ms();
	int64_t after = ((int64_t)time(NULL) + 1) * 1000;

	assert_true(now >= before);
	assert_true(now <= after);
}

static void test_monotonic(void **state)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int64_t a = time_mono_ms();
	uint64_t na = time_mono_ns();
	int64_t b;
	uint64_t nb;

	nanosleep(&ts, NULL);
	b = time_mono_ms();
	nb = time_mono_ns();
	assert_true(b - a >= 19);
	assert_true(nb - na >= 19 * 1000 * 1000ULL);
	/* Same clock in two units. */
	assert_true((int64_t)(nb / 1000000) - b <= 1);
	assert_true(b - (int64_t)(nb / 1000000) <= 1);
}

static void test_duration(void **state)
{
	static const struct {
		const char *in;
		int64_t ms;
	} ok[] = {
		{ "30m", 1800000 }, { "1h30m", 5400000 }, { "45s", 45000 },
		{ "500ms", 500 },   { "2d", 172800000 },  { "0", 0 },
		{ "15", 900000 },   { "1m1ms", 60001 },   { "1h0m5s", 3605000 },
	};
	static const char *const bad[] = {
		"", "m", "5x", "1.5h", "-1m", "5 m", "5mm", "99999999999999999999d", "1h ",
	};
	int64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(time_parse_duration(ok[i].in, 60000, &v), 0);
		assert_int_equal(v, ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(time_parse_duration(bad[i], 60000, &v), -1);
	assert_int_equal(time_parse_duration(NULL, 1, &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso8601_epoch),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_iso8601_known),
		cmocka_unit_test(test_iso8601_before_epoch),
		cmocka_unit_test(test_iso8601_short_buffer),
		cmocka_unit_test(test_now_ms),
		cmocka_unit_test(test_monotonic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
