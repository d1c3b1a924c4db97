/*
 * test_str.c - small string utilities (src/core/str.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/str.h"

/* ---------------------------------------------------------- prefixes */

static void test_starts_with(void **state)
{
	assert_true(str_starts_with("gateway.port", "gateway"));
	assert_true(str_starts_with("gateway", "gateway"));
	assert_true(str_starts_with("gateway", ""));
	assert_true(str_starts_with("", ""));
	assert_false(str_starts_with("gate", "gateway"));
	assert_false(str_starts_with("", "a"));
	assert_false(str_starts_with("Gateway", "gateway"));
	assert_false(str_starts_with("xgateway", "gateway"));
}

static void test_ends_with(void **state)
{
	assert_true(str_ends_with("config.json5", ".json5"));
	assert_true(str_ends_with("abc", "abc"));
	assert_true(str_ends_with("abc", ""));
	assert_true(str_ends_with("", ""));
	assert_false(str_ends_with("bc", "abc"));
	assert_false(str_ends_with("", "a"));
	assert_false(str_ends_with("config.json", ".json5"));
	assert_false(str_ends_with("abcX", "abc"));
}

static void test_eq(void **state)
{
	assert_true(str_eq("a", "a"));
	assert_true(str_eq("", ""));
	assert_true(str_eq(NULL, NULL));
	assert_false(str_eq("a", NULL));
	assert_false(str_eq(NULL, "a"));
	assert_false(str_eq(NULL, ""));
	assert_false(str_eq("a", "b"));
	assert_false(str_eq("a", "ab"));
}

/* ---------------------------------------------------------- distance */

static void test_distance_basics(void **state)
{
	assert_int_equal(str_distance("", ""), 0);
	assert_int_equal(str_distance("abc", "abc"), 0);
	assert_int_equal(str_distance("abc", ""), 3);
	assert_int_equal(str_distance("", "abcd"), 4);
	assert_int_equal(str_distance("kitten", "sitting"), 3);
	assert_int_equal(str_distance("flaw", "lawn"), 2);
	/* one insertion, deletion, substitution */
	assert_int_equal(str_distance("port", "ports"), 1);
	assert_int_equal(str_distance("ports", "port"), 1);
	assert_int_equal(str_distance("bind", "bund"), 1);
	/* case matters */
	assert_int_equal(str_distance("Port", "port"), 1);
}

static void test_distance_transpositions(void **state)
{
	/* An adjacent swap is one edit, not two. */
	assert_int_equal(str_distance("ab", "ba"), 1);
	assert_int_equal(str_distance("gatewya", "gateway"), 1);
	assert_int_equal(str_distance("teh", "the"), 1);
	assert_int_equal(str_distance("abcd", "badc"), 2);
	/*
	 * Optimal string alignment, not full Damerau-Levenshtein: a substring
	 * is never edited twice, so "ca" -> "abc" is 3 (DL would say 2).
	 */
	assert_int_equal(str_distance("ca", "abc"), 3);
}

static void test_distance_symmetric(void **state)
{
	static const char *const words[] = { "",     "a",       "ab",      "ba",      "abc",
					     "port", "prot",    "gateway", "gatewya", "loopback",
					     "lan",  "tailnet", "kitten",  "sitting" };

	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		assert_int_equal(str_distance(words[i], words[i]), 0);
		for (size_t j = 0; j < ARRAY_SIZE(words); j++) {
			size_t d = str_distance(words[i], words[j]);
			size_t li = strlen(words[i]), lj = strlen(words[j]);

			assert_int_equal(d, str_distance(words[j], words[i]));
			/* bounded by the longer length and at least the length difference */
			assert_true(d <= (li > lj ? li : lj));
			assert_true(d >= (li > lj ? li - lj : lj - li));
		}
	}
}

static void test_distance_long(void **state)
{
	char a[301], b[301];

	memset(a, 'a', 300);
	a[300] = '\0';
	memcpy(b, a, sizeof(b));
	b[150] = 'b';
	assert_int_equal(str_distance(a, b), 1);
	assert_int_equal(str_distance(a, ""), 300);
}

/* ----------------------------------------------------------- closest */

static void test_closest_typo(void **state)
{
	static const char *const cands[] = { "port", "bind", "auth", "mode", "tls", NULL };

	assert_string_equal(str_closest("prot", cands, 0), "port");
	assert_string_equal(str_closest("bnd", cands, 0), "bind");
	assert_string_equal(str_closest("atuh", cands, 0), "auth");
	assert_string_equal(str_closest("tsl", cands, 0), "tls");
	/* with an explicit count instead of a NULL terminator */
	assert_string_equal(str_closest("mdoe", cands, 5), "mode");
}

static void test_closest_prefix_rule(void **state)
{
	static const char *const cmds[] = { "gateway", "config", "version", "doctor", NULL };

	/* A prefix typed in full counts as a near miss, however short vs the candidate. */
	assert_string_equal(str_closest("conf", cmds, 0), "config");
	assert_string_equal(str_closest("gat", cmds, 0), "gateway");
	assert_string_equal(str_closest("vers", cmds, 0), "version");
	/* ...but only from three characters on. */
	assert_null(str_closest("g", cmds, 0));
	assert_null(str_closest("do", cmds, 0)); /* "doctor" is 4 insertions away */
}

static void test_closest_limits(void **state)
{
	static const char *const cands[] = { "loopback", "lan", "tailnet", "custom", "auto", NULL };
	static const char *const longc[] = { "abcdefghijkl", NULL };

	/* Short words are allowed two edits. */
	assert_string_equal(str_closest("aut", cands, 0), "auto");
	assert_string_equal(str_closest("ln", cands, 0), "lan");
	assert_string_equal(str_closest("lopbak", cands, 0), "loopback"); /* 2 insertions */
	/* Three edits on a short word is too many. */
	assert_null(str_closest("xyzw", cands, 0));
	/*
	 * A 12-letter word may be 4 edits (a third of its length) away, not 5.
	 */
	assert_string_equal(str_closest("abcdefghWXYZ", longc, 0), "abcdefghijkl");
	assert_null(str_closest("abcdefgVWXYZ", longc, 0));
}

static void test_closest_picks_best(void **state)
{
	static const char *const cands[] = { "maxTokens", "maxToken", "minTokens", NULL };
	static const char *const tie[] = { "cat", "bat", NULL };

	assert_string_equal(str_closest("minTokns", cands, 0), "minTokens");
	assert_string_equal(str_closest("maxTokes", cands, 0), "maxTokens");
	/* ties go to the earlier candidate */
	assert_string_equal(str_closest("hat", tie, 0), "cat");
}

/*
 * An exact candidate is the closest one (distance 0), even when the word is
 * also a prefix of an earlier candidate.
 */
static void test_closest_exact_beats_prefix(void **state)
{
	static const char *const cands[] = { "maxTokens", "maxToken", NULL };
	static const char *const cmds[] = { "config", "conf", NULL };

	assert_string_equal(str_closest("maxToken", cands, 0), "maxToken");
	assert_string_equal(str_closest("conf", cmds, 0), "conf");
}

static void test_closest_no_match(void **state)
{
	static const char *const cands[] = { "gateway", "agents", "models", NULL };
	static const char *const none[] = { NULL };

	assert_null(str_closest("zzzzzzzz", cands, 0));
	assert_null(str_closest("completely-unrelated", cands, 0));
	assert_null(str_closest("gateway", none, 0));
}

/* ---------------------------------------------------------- ct_equal */

static void test_ct_equal(void **state)
{
	assert_true(str_ct_equal("secret", 6, "secret", 6));
	assert_false(str_ct_equal("secret", 6, "secreT", 6));
	assert_false(str_ct_equal("Secret", 6, "secret", 6));
	/* a prefix is not equal, whichever side is longer */
	assert_false(str_ct_equal("secret", 6, "secret!", 7));
	assert_false(str_ct_equal("secret!", 7, "secret", 6));
	assert_false(str_ct_equal("secret", 5, "secret", 6));
	/* empty */
	assert_true(str_ct_equal("", 0, "", 0));
	assert_true(str_ct_equal(NULL, 0, NULL, 0));
	assert_false(str_ct_equal("", 0, "a", 1));
	assert_false(str_ct_equal("a", 1, "", 0));
	/* binary content with NULs */
	assert_true(str_ct_equal("a\0b", 3, "a\0b", 3));
	assert_false(str_ct_equal("a\0b", 3, "a\0c", 3));
	/* a candidate of zeros against a shorter input must not match */
	assert_false(str_ct_equal("ab", 2, "ab\0\0", 4));
}

/* ----------------------------------------------------------- to_ll */

static void test_to_ll_ok(void **state)
{
	long long v = 0;
	char s[64];

	assert_int_equal(str_to_ll("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(str_to_ll("18789", &v), 0);
	assert_int_equal(v, 18789);
	assert_int_equal(str_to_ll("-42", &v), 0);
	assert_int_equal(v, -42);
	assert_int_equal(str_to_ll("007", &v), 0); /* base 10, not octal */
	assert_int_equal(v, 7);
	snprintf(s, sizeof(s), "%lld", LLONG_MAX);
	assert_int_equal(str_to_ll(s, &v), 0);
	assert_true(v == LLONG_MAX);
	snprintf(s, sizeof(s), "%lld", LLONG_MIN);
	assert_int_equal(str_to_ll(s, &v), 0);
	assert_true(v == LLONG_MIN);
}

static void test_to_ll_junk(void **state)
{
	static const char *const bad[] = { "",    "abc", "12abc", "12 ", "1.5", "0x10",
					   "1e3", "-",   "--1",   "1-",  "12\n" };
	long long v = 1234;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		v = 1234;
		assert_int_equal(str_to_ll(bad[i], &v), -1);
		/* *out is untouched on failure */
		assert_int_equal(v, 1234);
	}
}

/*
 * "Parse a whole string": leading white space is junk as much as trailing
 * white space is (which str_to_ll rejects), so `--port " 80"` must fail.
 */
static void test_to_ll_leading_space(void **state)
{
	long long v = 1234;

	assert_int_equal(str_to_ll(" 12", &v), -1);
	assert_int_equal(str_to_ll("\t12", &v), -1);
	assert_int_equal(str_to_ll("\n12", &v), -1);
	assert_int_equal(v, 1234);
}

static void test_to_ll_overflow(void **state)
{
	long long v = 1234;

	assert_int_equal(str_to_ll("9223372036854775808", &v), -1);  /* LLONG_MAX + 1 */
	assert_int_equal(str_to_ll("-9223372036854775809", &v), -1); /* LLONG_MIN - 1 */
	assert_int_equal(str_to_ll("99999999999999999999999999", &v), -1);
	assert_int_equal(v, 1234);
}

static void test_utf8_prefix(void **state)
{
	const char *e_acute = "caf\xc3\xa9";   /* é: 2 bytes */
	const char *euro = "\xe2\x82\xac";     /* €: 3 bytes */
	const char *clef = "\xf0\x9d\x84\x9e"; /* 𝄞: 4 bytes */

	assert_int_equal(str_utf8_prefix("", 0), 0);
	assert_int_equal(str_utf8_prefix("plain", 5), 5);
	assert_int_equal(str_utf8_prefix(e_acute, 5), 5);
	assert_int_equal(str_utf8_prefix(e_acute, 4), 3); /* cut inside é */
	assert_int_equal(str_utf8_prefix(euro, 3), 3);
	assert_int_equal(str_utf8_prefix(euro, 2), 0);
	assert_int_equal(str_utf8_prefix(clef, 4), 4);
	assert_int_equal(str_utf8_prefix(clef, 3), 0);
	assert_int_equal(str_utf8_prefix("a\x80!", 3), 1);            /* stray continuation */
	assert_int_equal(str_utf8_prefix("a\xc0\xaf!", 4), 1);        /* overlong '/' */
	assert_int_equal(str_utf8_prefix("a\xe0\x80\xaf!", 5), 1);    /* overlong, 3 bytes */
	assert_int_equal(str_utf8_prefix("a\xed\xa0\x80", 4), 1);     /* surrogate */
	assert_int_equal(str_utf8_prefix("a\xf4\x90\x80\x80", 5), 1); /* past U+10FFFF */
	assert_int_equal(str_utf8_prefix("a\xc3(", 3), 1);            /* bad continuation */
}

/* The prefix is exactly what jansson takes as a string. */
static void test_utf8_prefix_agrees_with_jansson(void **state)
{
	static const unsigned char pool[] = { 'a',  0x7f, 0x80, 0xbf, 0xc2, 0xc3, 0xdf, 0xe0,
					      0xed, 0xef, 0xf0, 0xf4, 0xf5, 0x9f, 0xa0 };
	char buf[8];
	json_t *j;

	srand(7);
	for (int round = 0; round < 200000; round++) {
		size_t len = (size_t)(rand() % 8), n;

		for (size_t i = 0; i < len; i++)
			buf[i] = (char)pool[rand() % sizeof(pool)];
		n = str_utf8_prefix(buf, len);
		j = json_stringn(buf, n);
		assert_non_null(j);
		json_decref(j);
		if (n < len) {
			j = json_stringn(buf, len);
			assert_null(j);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starts_with),
		cmocka_unit_test(test_ends_with),
		cmocka_unit_test(test_eq),
		cmocka_unit_test(test_distance_basics),
		cmocka_unit_test(test_distance_transpositions),
		cmocka_unit_test(test_distance_symmetric),
		cmocka_unit_test(test_distance_long),
		cmocka_unit_test(test_closest_typo),
		cmocka_unit_test(test_closest_prefix_rule),
		cmocka_unit_test(test_closest_limits),
		cmocka_unit_test(test_closest_picks_best),
		cmocka_unit_test(test_closest_exact_beats_prefix),
		cmocka_unit_test(test_closest_no_match),
		cmocka_unit_test(test_ct_equal),
		cmocka_unit_test(test_utf8_prefix),
		cmocka_unit_test(test_utf8_prefix_agrees_with_jansson),
		cmocka_unit_test(test_to_ll_ok),
		cmocka_unit_test(test_to_ll_junk),
		cmocka_unit_test(test_to_ll_leading_space),
		cmocka_unit_test(test_to_ll_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
