/*
 * test_buf.c - bounded growable buffers (src/core/buf.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* The buffer's invariant: p is a valid string exactly len bytes long (for text). */
static void assert_text(const struct buf *b, const char *expect)
{
	assert_non_null(b->p);
	assert_int_equal(b->len, strlen(expect));
	assert_memory_equal(b->p, expect, b->len);
	assert_int_equal(b->p[b->len], '\0');
	assert_true(b->len <= b->max);
	if (b->cap)
		assert_true(b->len < b->cap);
}

static void test_init_is_empty(void **state)
{
	struct buf b;

	buf_init(&b, 100);
	assert_non_null(b.p);
	assert_string_equal(b.p, "");
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.max, 100);
	/* Releasing a buffer that never allocated is fine, and repeatable. */
	buf_release(&b);
	buf_release(&b);
	assert_string_equal(b.p, "");
	assert_int_equal(b.max, 100);
}

static void test_append_grows(void **state)
{
	struct buf b;
	char expect[5001];

	buf_init(&b, BUF_UNLIMITED);
	for (int i = 0; i < 5000; i++) {
		char c = (char)('a' + i % 26);

		assert_int_equal(buf_append(&b, &c, 1), 0);
		expect[i] = c;
		expect[i + 1] = '\0';
		assert_int_equal(b.len, (size_t)i + 1);
		assert_int_equal(b.p[b.len], '\0');
	}
	assert_text(&b, expect);
	assert_true(b.cap > 5000);
	buf_release(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_string_equal(b.p, "");
}

static void test_append_large_chunk(void **state)
{
	struct buf b;
	size_t n = 1 << 20;
	char *big = malloc(n);

	assert_non_null(big);
	memset(big, 'x', n);
	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(buf_puts(&b, "head:"), 0);
	assert_int_equal(buf_append(&b, big, n), 0);
	assert_int_equal(b.len, n + 5);
	assert_memory_equal(b.p, "head:", 5);
	assert_memory_equal(b.p + 5, big, n);
	assert_int_equal(b.p[b.len], '\0');
	free(big);
	buf_release(&b);
}

static void test_binary_data(void **state)
{
	struct buf b;
	const char data[] = { 'a', '\0', 'b', '\0' };

	buf_init(&b, 64);
	assert_int_equal(buf_append(&b, data, sizeof(data)), 0);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.p, data, 4);
	assert_int_equal(b.p[4], '\0');
	buf_release(&b);
}

static void test_zero_length_appends(void **state)
{
	struct buf b;

	buf_init(&b, 16);
	assert_int_equal(buf_append(&b, "abc", 0), 0);
	assert_text(&b, "");
	assert_int_equal(buf_append(&b, NULL, 0), 0);
	assert_int_equal(buf_puts(&b, ""), 0);
	assert_int_equal(buf_printf(&b, "%s", ""), 0);
	assert_text(&b, "");
	assert_int_equal(buf_puts(&b, "hi"), 0);
	assert_int_equal(buf_append(&b, "zzz", 0), 0);
	assert_text(&b, "hi");
	buf_release(&b);

	/* A zero-byte append always fits, even at the maximum or with max 0. */
	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, "x", 0), 0);
	assert_int_equal(buf_puts(&b, ""), 0);
	assert_text(&b, "");
	errno = 0;
	assert_int_equal(buf_putc(&b, 'x'), -1);
	assert_int_equal(errno, E2BIG);
	assert_text(&b, "");
	buf_release(&b);
}

static void test_max_exact_fit(void **state)
{
	struct buf b;

	buf_init(&b, 10);
	assert_int_equal(buf_puts(&b, "0123456789"), 0);
	assert_text(&b, "0123456789");
	assert_int_equal(buf_append(&b, "", 0), 0);
	buf_release(&b);

	buf_init(&b, 10);
	assert_int_equal(buf_puts(&b, "01234"), 0);
	assert_int_equal(buf_printf(&b, "%05d", 42), 0);
	assert_text(&b, "0123400042");
	buf_release(&b);
}

/* Every appender fails with E2BIG past the max and leaves the buffer alone. */
static void test_max_failure_leaves_buffer_unchanged(void **state)
{
	struct buf b;
	char *p;
	size_t cap;

	buf_init(&b, 10);
	assert_int_equal(buf_puts(&b, "01234567"), 0);
	p = b.p;
	cap = b.cap;

	errno = 0;
	assert_int_equal(buf_append(&b, "abc", 3), -1);
	assert_int_equal(errno, E2BIG);
	assert_text(&b, "01234567");

	errno = 0;
	assert_int_equal(buf_puts(&b, "abc"), -1);
	assert_int_equal(errno, E2BIG);
	assert_text(&b, "01234567");

	errno = 0;
	assert_int_equal(buf_printf(&b, "%d", 123), -1);
	assert_int_equal(errno, E2BIG);
	assert_text(&b, "01234567");

	/* The allocation was not touched either. */
	assert_ptr_equal(b.p, p);
	assert_int_equal(b.cap, cap);

	/* What still fits still goes in. */
	assert_int_equal(buf_putc(&b, 'a'), 0);
	assert_int_equal(buf_putc(&b, 'b'), 0);
	errno = 0;
	assert_int_equal(buf_putc(&b, 'c'), -1);
	assert_int_equal(errno, E2BIG);
	assert_text(&b, "01234567ab");
	buf_release(&b);
}

static void test_max_failure_on_empty_buffer(void **state)
{
	struct buf b;

	buf_init(&b, 4);
	errno = 0;
	assert_int_equal(buf_puts(&b, "hello"), -1);
	assert_int_equal(errno, E2BIG);
	assert_text(&b, "");
	assert_int_equal(b.cap, 0); /* nothing allocated for a refused append */
	errno = 0;
	assert_int_equal(buf_printf(&b, "%s", "hello"), -1);
	assert_int_equal(errno, E2BIG);
	assert_text(&b, "");
	/* A huge length is refused without overflow. */
	errno = 0;
	assert_int_equal(buf_append(&b, "x", (size_t)-1), -1);
	assert_int_equal(errno, E2BIG);
	assert_text(&b, "");
	buf_release(&b);
}

static void test_printf(void **state)
{
	struct buf b;
	char expect[4096];
	size_t n = 0;

	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(buf_printf(&b, "%s=%d", "port", 18789), 0);
	assert_text(&b, "port=18789");
	assert_int_equal(buf_printf(&b, " %c%zu%%", 'x', (size_t)7), 0);
	assert_text(&b, "port=18789 x7%");
	buf_reset(&b);

	/* Growth inside printf, many times over. */
	for (int i = 0; i < 300; i++) {
		assert_int_equal(buf_printf(&b, "[%03d]", i), 0);
		n += (size_t)snprintf(expect + n, sizeof(expect) - n, "[%03d]", i);
	}
	assert_text(&b, expect);

	/* One long formatted chunk. */
	buf_reset(&b);
	assert_int_equal(buf_printf(&b, "%-1000s|", "a"), 0);
	assert_int_equal(b.len, 1001);
	assert_int_equal(b.p[0], 'a');
	assert_int_equal(b.p[999], ' ');
	assert_int_equal(b.p[1000], '|');
	assert_int_equal(b.p[1001], '\0');
	buf_release(&b);
}

static int vprintf_helper(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);

static int vprintf_helper(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

static void test_vprintf(void **state)
{
	struct buf b;

	buf_init(&b, 8);
	assert_int_equal(vprintf_helper(&b, "%s-%d", "ab", 12), 0);
	assert_text(&b, "ab-12");
	errno = 0;
	assert_int_equal(vprintf_helper(&b, "%s", "long"), -1);
	assert_int_equal(errno, E2BIG);
	assert_text(&b, "ab-12");
	buf_release(&b);
}

static void test_putc_puts(void **state)
{
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(buf_putc(&b, 'a'), 0);
	assert_int_equal(buf_puts(&b, "bc"), 0);
	assert_int_equal(buf_putc(&b, 'd'), 0);
	assert_text(&b, "abcd");
	buf_release(&b);
}

static void test_detach(void **state)
{
	struct buf b;
	size_t len = 99;
	char *s;

	buf_init(&b, 50);
	assert_int_equal(buf_puts(&b, "hello"), 0);
	s = buf_detach(&b, &len);
	assert_string_equal(s, "hello");
	assert_int_equal(len, 5);
	/* The buffer is empty, keeps its max, and is reusable. */
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.max, 50);
	assert_string_equal(b.p, "");
	assert_int_equal(buf_puts(&b, "again"), 0);
	assert_text(&b, "again");
	assert_true(b.p != s);
	free(s);

	/* len may be NULL. */
	s = buf_detach(&b, NULL);
	assert_string_equal(s, "again");
	free(s);

	/* Detaching a buffer that never allocated still gives a free()able "". */
	len = 99;
	s = buf_detach(&b, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	buf_release(&b);
}

static void test_detach_binary(void **state)
{
	struct buf b;
	size_t len = 0;
	char *s;

	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(buf_append(&b, "a\0b", 3), 0);
	s = buf_detach(&b, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(s, "a\0b", 4);
	free(s);
}

/*
 * buf_truncate(b, len) keeps the first `len` bytes: that is what its
 * parameter name and every caller in the tree (schema.c, config.c, json5.c,
 * fs.c) rely on.
 */
static void test_truncate(void **state)
{
	struct buf b;
	char *p;

	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(buf_puts(&b, "gateway.auth.token"), 0);
	p = b.p;
	buf_truncate(&b, 12);
	assert_text(&b, "gateway.auth");
	assert_ptr_equal(b.p, p);
	/* Longer than or equal to the contents: no-op. */
	buf_truncate(&b, 12);
	assert_text(&b, "gateway.auth");
	buf_truncate(&b, 1000);
	assert_text(&b, "gateway.auth");
	buf_truncate(&b, 0);
	assert_text(&b, "");
	/* Appending after a truncate continues from the cut. */
	assert_int_equal(buf_puts(&b, "x"), 0);
	assert_text(&b, "x");
	buf_release(&b);

	/* On a buffer that never allocated, nothing happens. */
	buf_init(&b, 10);
	buf_truncate(&b, 0);
	buf_truncate(&b, 5);
	assert_text(&b, "");
	assert_int_equal(b.cap, 0);
	buf_release(&b);
}

static void test_truncate_frees_room_under_max(void **state)
{
	struct buf b;

	buf_init(&b, 6);
	assert_int_equal(buf_puts(&b, "abcdef"), 0);
	assert_int_equal(buf_putc(&b, 'g'), -1);
	buf_truncate(&b, 3);
	assert_int_equal(buf_puts(&b, "xyz"), 0);
	assert_text(&b, "abcxyz");
	buf_release(&b);
}

static void test_reset(void **state)
{
	struct buf b;
	char *p;
	size_t cap;

	/* On a fresh buffer. */
	buf_init(&b, 32);
	buf_reset(&b);
	assert_text(&b, "");

	assert_int_equal(buf_puts(&b, "some text"), 0);
	p = b.p;
	cap = b.cap;
	buf_reset(&b);
	assert_text(&b, "");
	/* The allocation is kept. */
	assert_ptr_equal(b.p, p);
	assert_int_equal(b.cap, cap);
	assert_int_equal(b.max, 32);
	assert_int_equal(buf_puts(&b, "more"), 0);
	assert_text(&b, "more");
	assert_ptr_equal(b.p, p);
	buf_release(&b);
}

static void test_release_then_reuse(void **state)
{
	struct buf b;

	buf_init(&b, 20);
	assert_int_equal(buf_puts(&b, "first"), 0);
	buf_release(&b);
	assert_text(&b, "");
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.max, 20);
	assert_int_equal(buf_puts(&b, "second"), 0);
	assert_text(&b, "second");
	errno = 0;
	assert_int_equal(buf_puts(&b, "-too-long-for-twenty"), -1);
	assert_int_equal(errno, E2BIG);
	assert_text(&b, "second");
	buf_release(&b);
}

/* Two buffers that never allocated must not share writable state. */
static void test_independent_empty_buffers(void **state)
{
	struct buf a, b;

	buf_init(&a, 10);
	buf_init(&b, 10);
	assert_int_equal(buf_puts(&a, "A"), 0);
	assert_text(&a, "A");
	assert_text(&b, "");
	buf_release(&a);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_is_empty),
		cmocka_unit_test(test_append_grows),
		cmocka_unit_test(test_append_large_chunk),
		cmocka_unit_test(test_binary_data),
		cmocka_unit_test(test_zero_length_appends),
		cmocka_unit_test(test_max_exact_fit),
		cmocka_unit_test(test_max_failure_leaves_buffer_unchanged),
		cmocka_unit_test(test_max_failure_on_empty_buffer),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_vprintf),
		cmocka_unit_test(test_putc_puts),
		cmocka_unit_test(test_detach),
		cmocka_unit_test(test_detach_binary),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_truncate_frees_room_under_max),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_release_then_reuse),
		cmocka_unit_test(test_independent_empty_buffers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
