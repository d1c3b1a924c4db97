/*
 * test_id.c - random bytes, UUIDs and hex identifiers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/id.h"

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void assert_uuid_shape(const char *u)
{
	assert_int_equal(strlen(u), 36);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(u[i], '-');
		else
			assert_true(is_lower_hex(u[i]));
	}
	assert_int_equal(u[14], '4');           /* version */
	assert_non_null(strchr("89ab", u[19])); /* RFC 4122 variant */
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_uuid(void **state)
{
	enum { N = 2000 };
	char(*u)[37] = calloc(N, sizeof(*u));

	assert_non_null(u);
	for (int i = 0; i < N; i++) {
		id_uuid(u[i]);
		assert_uuid_shape(u[i]);
	}
	qsort(u, N, sizeof(*u), cmp_str);
	for (int i = 1; i < N; i++)
		assert_string_not_equal(u[i - 1], u[i]);
	free(u);
}

static void test_uuid_variant_bits_vary(void **state)
{
	/* The variant nibble takes all four values 8,9,a,b over enough draws. */
	int seen[4] = { 0 };
	char u[37];

	for (int i = 0; i < 400; i++) {
		id_uuid(u);
		seen[strchr("89ab", u[19]) - "89ab"] = 1;
	}
	assert_int_equal(seen[0] + seen[1] + seen[2] + seen[3], 4);
}

static void test_hex(void **state)
{
	char out[512];
	const size_t sizes[] = { 0, 1, 16, 32, 63, 64, 65, 200 };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];

		memset(out, 'Z', sizeof(out));
		id_hex(out, n);
		assert_int_equal(strlen(out), 2 * n);
		for (size_t i = 0; i < 2 * n; i++)
			assert_true(is_lower_hex(out[i]));
		assert_int_equal(out[2 * n + 1], 'Z'); /* nothing written past the NUL */
	}
}

static void test_hex_unique(void **state)
{
	char a[65], b[65];

	id_hex(a, 32);
	id_hex(b, 32);
	assert_string_not_equal(a, b);
}

static void test_random_bytes_large(void **state)
{
	/* Past getrandom's 256-byte atomic limit, so the short-read loop runs. */
	size_t n = 1 << 20;
	unsigned char *p = calloc(1, n);
	size_t counts[256] = { 0 };

	assert_non_null(p);
	id_random_bytes(p, n);
	for (size_t i = 0; i < n; i++)
		counts[p[i]]++;
	/* Expected 4096 per value; a uniform source never strays this far. */
	for (int v = 0; v < 256; v++) {
		assert_true(counts[v] > 3400);
		assert_true(counts[v] < 4800);
	}
	id_random_bytes(p, 0);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_uuid_variant_bits_vary),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_hex_unique),
		cmocka_unit_test(test_random_bytes_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
