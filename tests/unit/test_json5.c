/*
 * test_json5.c - the JSON5 reader: grammar, values, errors with their exact
 * line:col, and the position map.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/json5.h"
#include "core/mem.h"

/* Parse `len` bytes that must be valid JSON5 and compare with plain JSON. */
static void check_eqn(const char *text, size_t len, const char *json)
{
	struct json5_error err;
	json_error_t jerr;
	json_t *got, *want;

	got = json5_parse(text, len, "t", NULL, &err);
	if (!got)
		fail_msg("json5_parse(%s) failed at %d:%d: %s", text, err.line, err.col, err.text);
	want = json_loads(json, JSON_DECODE_ANY, &jerr);
	if (!want)
		fail_msg("bad expectation %s: %s", json, jerr.text);
	if (!json_equal(got, want)) {
		char *s = json_dumps(got, JSON_ENCODE_ANY);

		fail_msg("json5_parse(%s) = %s, want %s", text, s, json);
	}
	json_decref(got);
	json_decref(want);
}

static void check_eq(const char *text, const char *json)
{
	check_eqn(text, strlen(text), json);
}

/* Parse `len` bytes that must fail at line:col with exactly `msg`. */
static void check_errn(const char *text, size_t len, int line, int col, const char *msg)
{
	struct json5_error err;
	json_t *v;

	v = json5_parse(text, len, "t", NULL, &err);
	if (v) {
		char *s = json_dumps(v, JSON_ENCODE_ANY);

		fail_msg("json5_parse(%s) = %s, want error '%s'", text, s, msg);
	}
	if (err.line != line || err.col != col || strcmp(err.text, msg) != 0)
		fail_msg("json5_parse(%s): got %d:%d '%s', want %d:%d '%s'", text, err.line,
			 err.col, err.text, line, col, msg);
}

static void check_err(const char *text, int line, int col, const char *msg)
{
	check_errn(text, strlen(text), line, col, msg);
}

static json_t *parse_ok(const char *text, struct json5_posmap *pm)
{
	struct json5_error err;
	json_t *v = json5_parse(text, strlen(text), "cfg.json5", pm, &err);

	if (!v)
		fail_msg("json5_parse(%s) failed at %d:%d: %s", text, err.line, err.col, err.text);
	return v;
}

/* ---- values and grammar ---- */

static void test_literals(void **state)
{
	check_eq("true", "true");
	check_eq("false", "false");
	check_eq("null", "null");
	check_eq("  null  ", "null");
	check_eq("[true,false,null]", "[true,false,null]");
}

static void test_plain_json(void **state)
{
	const char *doc = "{\"a\": [1, -2, 3.5, 1e3, \"x\\u00e9\\n\", {\"b\": null}],"
			  " \"c\": {\"d\": true, \"e\": false}, \"f\": \"\"}";

	check_eq(doc, doc);
	check_eq("{}", "{}");
	check_eq("[]", "[]");
	check_eq("[[[]]]", "[[[]]]");
}

static void test_comments(void **state)
{
	check_eq("// lead\n{ // after brace\n a: 1, /* inline */ b: /* x */ 2 // tail\n}",
		 "{\"a\":1,\"b\":2}");
	check_eq("/* multi\n line\n comment */ [1]", "[1]");
	check_eq("[1] // no newline at the end", "[1]");
	check_eq("[1] /**/", "[1]");
	check_eq("[1 /* ** / * */]", "[1]");
	check_eq("// é ünïcode in a comment\n1", "1");
	/* a // comment ends at any line terminator */
	check_eq("[1,//c\r2,//c\xe2\x80\xa8"
		 "3]",
		 "[1,2,3]");
}

static void test_trailing_commas(void **state)
{
	check_eq("{a: 1,}", "{\"a\":1}");
	check_eq("[1, 2,]", "[1,2]");
	check_eq("[1, 2, // c\n]", "[1,2]");
	check_eq("{a: [1,], b: {c: 2,},}", "{\"a\":[1],\"b\":{\"c\":2}}");
	check_err("[1,,]", 1, 4, "expected a value or ']', got ','");
	check_err("[,]", 1, 2, "expected a value or ']', got ','");
	check_err("{,}", 1, 2, "expected an object key or '}', got ','");
	check_err("{a:1,,}", 1, 6, "expected an object key or '}', got ','");
}

static void test_unquoted_keys(void **state)
{
	check_eq("{a: 1, $b: 2, _c: 3, d4: 4, $: 5, _: 6}",
		 "{\"a\":1,\"$b\":2,\"_c\":3,\"d4\":4,\"$\":5,\"_\":6}");
	check_eq("{true: 1, null: 2, Infinity: 3, NaN: 4}",
		 "{\"true\":1,\"null\":2,\"Infinity\":3,\"NaN\":4}");
	check_eq("{café: 1, ключ: 2}", "{\"caf\\u00e9\":1,\"\\u043a\\u043b\\u044e\\u0447\":2}");
	check_eq("{\\u0061b: 1, a\\u0062c: 2}", "{\"ab\":1,\"abc\":2}");
	check_eq("{\\u00e9: 1}", "{\"\\u00e9\":1}");
	check_eq("{a\u00a0:1}", "{\"a\":1}"); /* NBSP ends an identifier */
	check_err("{1a: 1}", 1, 2, "expected an object key or '}', got '1'");
	check_err("{-a: 1}", 1, 2, "expected an object key or '}', got '-'");
	check_err("{a-b: 1}", 1, 3, "expected ':' after object key, got '-'");
	check_err("{\\u0031: 1}", 1, 2, "escape '\\u0031' is not valid in an unquoted key");
	check_err("{a\\u002d: 1}", 1, 3, "escape '\\u002D' is not valid in an unquoted key");
	check_err("{\\x61: 1}", 1, 2, "invalid escape in key: only '\\uXXXX' is allowed");
	check_err("{a\\u00: 1}", 1, 3, "invalid escape '\\u': expected four hex digits");
}

static void test_quoted_keys_and_strings(void **state)
{
	check_eq("{'a': 'b', \"c\": \"d\"}", "{\"a\":\"b\",\"c\":\"d\"}");
	check_eq("['it\"s', \"it's\", 'it\\'s', \"say \\\"hi\\\"\"]",
		 "[\"it\\\"s\", \"it's\", \"it's\", \"say \\\"hi\\\"\"]");
	check_eq("{'a.b': 1, '': 2}", "{\"a.b\":1,\"\":2}");
	check_eq("'tab\there'", "\"tab\\there\"");        /* raw TAB is allowed */
	check_eq("'\u2028\u2029'", "\"\\u2028\\u2029\""); /* raw separators too */
	check_eq("'h\xc3\xa9 \xf0\x9f\x98\x80'", "\"h\\u00e9 \\ud83d\\ude00\"");
}

static void test_escapes(void **state)
{
	check_eq("'\\' \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\v'",
		 "\"' \\\" \\\\ / \\b \\f \\n \\r \\t \\u000b\"");
	check_eq("'\\x41\\xe9\\xFF'", "\"A\\u00e9\\u00ff\"");
	check_eq("'\\u0041\\u00E9\\u20ac'", "\"A\\u00e9\\u20ac\"");
	check_eq("'\\uD83D\\uDE00'", "\"\\ud83d\\ude00\"");
	check_eq("'\\ud83d\\ude00!'", "\"\\ud83d\\ude00!\"");
}

static void test_line_continuations(void **state)
{
	check_eq("'a\\\nb'", "\"ab\"");
	check_eq("'a\\\rb'", "\"ab\"");
	check_eq("'a\\\r\nb'", "\"ab\"");
	check_eq("'a\\\xe2\x80\xa8"
		 "b'",
		 "\"ab\"");
	check_eq("'a\\\xe2\x80\xa9"
		 "b'",
		 "\"ab\"");
	check_eq("\"multi\\\n line\"", "\"multi line\"");
	/* after a continuation, positions keep counting lines */
	check_err("'a\\\nb' x", 2, 4, "expected end of input after the root value, got 'x'");
	check_err("'a\\\r\nb' x", 2, 4, "expected end of input after the root value, got 'x'");
}

static void test_numbers(void **state)
{
	check_eq("[0, -0, 1, -1, +1, 42, 1234567890]", "[0, 0, 1, -1, 1, 42, 1234567890]");
	check_eq("[0x1F, 0X1f, -0x1f, +0xA, 0x0, 0xdeadBEEF]", "[31, 31, -31, 10, 0, 3735928559]");
	check_eq("[.5, 5., -.5, +.5, -5., 0.5, 0.]", "[0.5, 5.0, -0.5, 0.5, -5.0, 0.5, 0.0]");
	check_eq("[1e3, 1E3, 1e+3, 1e-3, 2.5e2, .5e1, 5.e1, 0e0]",
		 "[1000.0, 1000.0, 1000.0, 0.001, 250.0, 5.0, 50.0, 0.0]");
	check_eq("1e-400", "0.0");
}

static void test_number_kinds(void **state)
{
	json_t *v;

	/* integers that fit json_int_t are integers; the rest become reals */
	v = parse_ok("[9223372036854775807, -9223372036854775808, 9223372036854775808,"
		     " 0x7FFFFFFFFFFFFFFF, -0x8000000000000000, 0x8000000000000000,"
		     " 0xFFFFFFFFFFFFFFFFFF, 1.0, 1e2, 5., 7]",
		     NULL);
	assert_true(json_is_integer(json_array_get(v, 0)));
	assert_true(json_integer_value(json_array_get(v, 0)) == INT64_MAX);
	assert_true(json_is_integer(json_array_get(v, 1)));
	assert_true(json_integer_value(json_array_get(v, 1)) == INT64_MIN);
	assert_true(json_is_real(json_array_get(v, 2)));
	assert_true(json_real_value(json_array_get(v, 2)) == 9223372036854775808.0);
	assert_true(json_is_integer(json_array_get(v, 3)));
	assert_true(json_integer_value(json_array_get(v, 3)) == INT64_MAX);
	assert_true(json_is_integer(json_array_get(v, 4)));
	assert_true(json_integer_value(json_array_get(v, 4)) == INT64_MIN);
	assert_true(json_is_real(json_array_get(v, 5)));
	assert_true(json_real_value(json_array_get(v, 5)) == 9223372036854775808.0);
	assert_true(json_is_real(json_array_get(v, 6)));
	assert_true(json_real_value(json_array_get(v, 6)) == 4722366482869645213696.0);
	assert_true(json_is_real(json_array_get(v, 7)));
	assert_true(json_is_real(json_array_get(v, 8)));
	assert_true(json_is_real(json_array_get(v, 9)));
	assert_true(json_is_integer(json_array_get(v, 10)));
	json_decref(v);
}

static void test_number_errors(void **state)
{
	check_err("01", 1, 1, "leading zeros are not allowed");
	check_err("[1, -00.5]", 1, 6, "leading zeros are not allowed");
	check_err("0x", 1, 1, "expected hex digits after '0x'");
	check_err("[-0x]", 1, 2, "expected hex digits after '0x'");
	check_err("0xG", 1, 1, "expected hex digits after '0x'");
	check_err("0x1G", 1, 4, "unexpected 'G' after number");
	check_err("3in", 1, 2, "unexpected 'i' after number");
	check_err("1e", 1, 3, "expected digits in exponent");
	check_err("1e+", 1, 4, "expected digits in exponent");
	check_err(".", 1, 1, "expected a digit before or after '.'");
	check_err("-.e1", 1, 2, "expected a digit before or after '.'");
	check_err("+", 1, 2, "expected a number after '+', got end of input");
	check_err("- 1", 1, 2, "expected a number after '-', got ' '");
	check_err("+-1", 1, 2, "expected a number after '+', got '-'");
	check_err("--1", 1, 2, "expected a number after '-', got '-'");
	check_err("1.5.3", 1, 4, "expected end of input after the root value, got '.'");
	check_err("0x1.5", 1, 4, "expected end of input after the root value, got '.'");
	check_err("1e999", 1, 1, "number is out of range");
	check_err("[-1e999]", 1, 2, "number is out of range");
	check_err("+1e999", 1, 1, "number is out of range");
}

static void test_nonfinite(void **state)
{
	const char *msg = "NaN/Infinity is not representable in the config";

	check_err("Infinity", 1, 1, msg);
	check_err("-Infinity", 1, 1, msg);
	check_err("+Infinity", 1, 1, msg);
	check_err("NaN", 1, 1, msg);
	check_err("{\n  a: -NaN }", 2, 6, msg);
	check_err("[1, +NaN]", 1, 5, msg);
	check_err("-Inf", 1, 2, "expected a number after '-', got 'I'");
	check_err("Infinityx", 1, 1, "expected a value, got 'Infinityx' (strings must be quoted)");
}

static void test_whitespace(void **state)
{
	check_eq("\t\n\v\f\r [1]", "[1]");
	check_eq("\xc2\xa0[\xe2\x80\xa8"
		 "1\xe2\x80\xa9]",
		 "[1]");                            /* NBSP, U+2028/9 */
	check_eq("\xef\xbb\xbf{a:1}", "{\"a\":1}"); /* BOM */
	check_eq("[1,\xe3\x80\x80"
		 "2,\xe2\x80\x83"
		 "3]",
		 "[1,2,3]"); /* Zs */
	check_eq("[1,\xe1\x9a\x80"
		 "2]",
		 "[1,2]"); /* U+1680 */
	check_err("[1,\xe2\x80\x8b"
		  "2]",
		  1, 4, "expected a value or ']', got U+200B");
}

/* As the spec and OpenClaw's reader: "\q" is "q", raw TAB/VT/0x01 are kept. */
static void test_strings_identity_escapes_and_controls(void **state)
{
	check_eq("'\\q\\ \\\xc3\xa9'", "\"q \xc3\xa9\"");
	check_eq("'C:\\Users'", "\"C:Users\"");
	check_eq("'a\x01\x1f\tb'", "\"a\\u0001\\u001f\\tb\"");
}

static void test_strings_errors(void **state)
{
	check_err("'abc", 1, 1, "unterminated string");
	check_err("{a: \"abc}", 1, 5, "unterminated string");
	check_err("'abc\\", 1, 1, "unterminated string");
	check_err("'ab\ncd'", 1, 4, "line break inside string (use \\n)");
	check_err("\n  'ab\r\ncd'", 2, 6, "line break inside string (use \\n)");
	check_errn("'a\0b'", 5, 1, 3, "NUL character inside string is not supported");
	check_errn("'a\\\0b'", 6, 1, 4, "NUL character inside string is not supported");
	check_err("'\\1'", 1, 2, "invalid escape '\\1'");
	check_err("'\\9'", 1, 2, "invalid escape '\\9'");
	check_err("'\\x4'", 1, 2, "invalid escape '\\x': expected two hex digits");
	check_err("'\\xg0'", 1, 2, "invalid escape '\\x': expected two hex digits");
	check_err("'\\u12'", 1, 2, "invalid escape '\\u': expected four hex digits");
	check_err("'\\u12x4'", 1, 2, "invalid escape '\\u': expected four hex digits");
	check_err("'\\uD800'", 1, 2,
		  "invalid escape '\\uD800': high surrogate without low surrogate");
	check_err("'\\uD800\\u0041'", 1, 2,
		  "invalid escape '\\uD800': high surrogate without low surrogate");
	check_err("'x\\uDC00'", 1, 3, "invalid escape '\\uDC00': lone low surrogate");
}

static void test_nul(void **state)
{
	check_err("'a\\0'", 1, 3, "'\\0' (NUL character) is not supported in strings");
	check_err("'a\\01'", 1, 3, "invalid escape '\\0' followed by a digit");
	check_err("'\\x00'", 1, 2, "'\\x00' (NUL character) is not supported in strings");
	check_err("'\\u0000'", 1, 2, "'\\u0000' (NUL character) is not supported in strings");
	check_err("{'a\\u0000b': 1}", 1, 4,
		  "'\\u0000' (NUL character) is not supported in strings");
	check_errn("[1]\0", 4, 1, 4, "expected end of input after the root value, got U+0000");
	check_errn("\0", 1, 1, 1, "expected a value, got U+0000");
}

static void test_utf8(void **state)
{
	check_err("'\xff'", 1, 2, "invalid UTF-8 in string");
	check_err("'a\xc3'", 1, 3, "invalid UTF-8 in string");
	check_err("'\xc0\xaf'", 1, 2, "invalid UTF-8 in string");         /* overlong */
	check_err("'\xed\xa0\x80'", 1, 2, "invalid UTF-8 in string");     /* surrogate */
	check_err("'\xf4\x90\x80\x80'", 1, 2, "invalid UTF-8 in string"); /* > U+10FFFF */
	check_err("'\xe2\x82'", 1, 2, "invalid UTF-8 in string");         /* truncated */
	check_err("// \xff\n1", 1, 4, "invalid UTF-8 in comment");
	check_err("/* \xfe */1", 1, 4, "invalid UTF-8 in comment");
	check_err("{\xff: 1}", 1, 2, "invalid UTF-8");
	check_err("{a\xff: 1}", 1, 3, "invalid UTF-8");
	check_err("[\xff]", 1, 2, "expected a value or ']', got invalid UTF-8");
	check_err("'\\\xff'", 1, 3, "invalid UTF-8 in string");
	/* the largest code point is fine */
	check_eq("'\xf4\x8f\xbf\xbf'", "\"\\udbff\\udfff\"");
}

static void test_structure_errors(void **state)
{
	check_err("{a 1}", 1, 4, "expected ':' after object key, got '1'");
	check_err("{a: 1 b: 2}", 1, 7, "expected ',' or '}' after object member, got 'b'");
	check_err("[1 2]", 1, 4, "expected ',' or ']' after array element, got '2'");
	check_err("{a: 1", 1, 6, "expected ',' or '}' after object member, got end of input");
	check_err("[1,", 1, 4, "expected a value or ']', got end of input");
	check_err("{", 1, 2, "expected an object key or '}', got end of input");
	check_err("{a:", 1, 4, "expected a value, got end of input");
	check_err("{a:}", 1, 4, "expected a value, got '}'");
	check_err("{a", 1, 3, "expected ':' after object key, got end of input");
	check_err("[1]]", 1, 4, "expected end of input after the root value, got ']'");
	check_err("{} {}", 1, 4, "expected end of input after the root value, got '{'");
	check_err("1 2", 1, 3, "expected end of input after the root value, got '2'");
	check_err("{a: b}", 1, 5, "expected a value, got 'b' (strings must be quoted)");
	check_err("[yes]", 1, 2, "expected a value, got 'yes' (strings must be quoted)");
	check_err("[True]", 1, 2, "expected a value, got 'True' (strings must be quoted)");
	check_err("[nullx]", 1, 2, "expected a value, got 'nullx' (strings must be quoted)");
	check_err("abcdefghijabcdefghijabcdefghijabcdefghij", 1, 1,
		  "expected a value, got 'abcdefghijabcdefghijabcdefghijab...' (strings must be "
		  "quoted)");
	check_err("[@]", 1, 2, "expected a value or ']', got '@'");
	check_err("{a: 1} /", 1, 8, "expected end of input after the root value, got '/'");
	check_err("[1, / 2]", 1, 5, "expected a value or ']', got '/'");
	check_err("{'a': 1, \"b\" 2}", 1, 14, "expected ':' after object key, got '2'");
	check_err("['a']'", 1, 6, "expected end of input after the root value, got \"'\"");
	check_err("{a:1}\x7f", 1, 6, "expected end of input after the root value, got U+007F");
}

static void test_empty_and_comments(void **state)
{
	check_err("", 1, 1, "empty input, expected a value");
	check_err("   \n  ", 2, 3, "empty input, expected a value");
	check_err("// only a comment", 1, 18, "empty input, expected a value");
	check_err("/* a */ /* b */\n", 2, 1, "empty input, expected a value");
	check_err("/* open", 1, 1, "unterminated comment");
	check_err("[1, /* open\n\n", 1, 5, "unterminated comment");
	check_err("[1]\n\n  /* x", 3, 3, "unterminated comment");
	check_err("[1] /*/", 1, 5, "unterminated comment");
}

static void test_positions(void **state)
{
	/* after a multi-line comment */
	check_err("/* one\n   two\n*/ {a: 1,\n  b: }", 4, 6, "expected a value, got '}'");
	/* CRLF counts as one line end, CR alone as one */
	check_err("{\r\n a: 1,\r\n b: x}", 3, 5,
		  "expected a value, got 'x' (strings must be quoted)");
	check_err("{\r a: 1,\r b: x}", 3, 5, "expected a value, got 'x' (strings must be quoted)");
	check_err("{\n\r\n\r a: x}", 4, 5, "expected a value, got 'x' (strings must be quoted)");
	/* columns count bytes: a TAB is one, é is two */
	check_err("\t\t[x]", 1, 4, "expected a value, got 'x' (strings must be quoted)");
	check_err("{'é': x}", 1, 8, "expected a value, got 'x' (strings must be quoted)");
	/* U+2028 separates tokens but does not end a line */
	check_err("[1,\xe2\x80\xa8x]", 1, 7, "expected a value, got 'x' (strings must be quoted)");
	/* a // comment ends at CR too */
	check_err("// c\r[x]", 2, 2, "expected a value, got 'x' (strings must be quoted)");
}

static void test_null_err_and_text(void **state)
{
	json_t *v;

	assert_null(json5_parse("[", 1, NULL, NULL, NULL));
	v = json5_parse("[1]", 3, NULL, NULL, NULL);
	assert_non_null(v);
	json_decref(v);
	check_errn(NULL, 0, 1, 1, "empty input, expected a value");
	/* only `len` bytes are read: what follows is not looked at */
	check_eqn("[1]xyz", 3, "[1]");
}

static char *nested(int depth, char open, char close)
{
	char *s = xmalloc((size_t)depth * 2 + 1);

	memset(s, open, (size_t)depth);
	memset(s + depth, close, (size_t)depth);
	s[depth * 2] = '\0';
	return s;
}

static void test_depth(void **state)
{
	struct json5_error err;
	char *s;
	json_t *v;

	s = nested(JSON5_MAX_DEPTH, '[', ']');
	v = json5_parse(s, strlen(s), NULL, NULL, &err);
	assert_non_null(v);
	json_decref(v);
	free(s);

	s = nested(JSON5_MAX_DEPTH + 1, '[', ']');
	check_err(s, 1, JSON5_MAX_DEPTH + 1, "nesting deeper than 128 levels");
	free(s);

	/* objects count too, and mixing does not help */
	s = xmalloc(8 * (JSON5_MAX_DEPTH + 1) + 1);
	s[0] = '\0';
	for (int i = 0; i <= JSON5_MAX_DEPTH; i++)
		strcat(s, i % 2 ? "[" : "{a:");
	v = json5_parse(s, strlen(s), NULL, NULL, &err);
	assert_null(v);
	assert_string_equal(err.text, "nesting deeper than 128 levels");
	free(s);

	/* a very deep hostile input fails fast, not with a stack overflow */
	s = nested(1000000, '[', ']');
	check_err(s, 1, JSON5_MAX_DEPTH + 1, "nesting deeper than 128 levels");
	free(s);
}

static void test_duplicate_keys(void **state)
{
	check_eq("{a: 1, b: 2, a: 3}", "{\"a\":3,\"b\":2}");
	check_eq("{a: {x: 1}, 'a': {y: 2}}", "{\"a\":{\"y\":2}}");
}

/* ---- position map ---- */

static void expect_pos(const struct json5_posmap *pm, const char *path, int line, int col)
{
	const struct json5_pos *e = json5_posmap_find(pm, path);

	if (!e)
		fail_msg("no posmap entry for '%s'", path);
	if (e->line != line || e->col != col)
		fail_msg("'%s' at %d:%d, want %d:%d", path, e->line, e->col, line, col);
	assert_string_equal(e->file, "cfg.json5");
}

static void test_posmap_paths(void **state)
{
	struct json5_posmap pm = { 0 };
	json_t *v;

	v = parse_ok("// config\n"
		     "{\n"
		     "  a: { b: 1 },\n"
		     "  list: [ { id: 'x' },\n"
		     "          { id: 'y', \"a.b\": [true, [2]] } ],\n"
		     "  'a.b': null,\n"
		     "  '': 0,\n"
		     "}\n",
		     &pm);
	expect_pos(&pm, "", 2, 1);
	expect_pos(&pm, "a", 3, 3);
	expect_pos(&pm, "a.b", 3, 8);
	expect_pos(&pm, "list", 4, 3);
	expect_pos(&pm, "list[0]", 4, 11);
	expect_pos(&pm, "list[0].id", 4, 13);
	expect_pos(&pm, "list[1]", 5, 11);
	expect_pos(&pm, "list[1].id", 5, 13);
	expect_pos(&pm, "list[1][\"a.b\"]", 5, 22);
	expect_pos(&pm, "list[1][\"a.b\"][0]", 5, 30);
	expect_pos(&pm, "list[1][\"a.b\"][1]", 5, 36);
	expect_pos(&pm, "list[1][\"a.b\"][1][0]", 5, 37);
	expect_pos(&pm, "[\"a.b\"]", 6, 3);
	expect_pos(&pm, "[\"\"]", 7, 3);
	assert_int_equal(pm.n, 14);
	/* document order, root first */
	assert_string_equal(pm.v[0].path, "");
	assert_string_equal(pm.v[1].path, "a");
	assert_string_equal(pm.v[2].path, "a.b");
	assert_null(json5_posmap_find(&pm, "a.c"));
	assert_null(json5_posmap_find(&pm, "list[2]"));
	json_decref(v);
	json5_posmap_release(&pm);
	assert_null(pm.v);
	assert_int_equal(pm.n, 0);
	assert_int_equal(pm.alloc, 0);
}

static void test_posmap_scalar_root(void **state)
{
	struct json5_posmap pm = { 0 };
	json_t *v = parse_ok("\n\n   42", &pm);

	assert_int_equal(pm.n, 1);
	expect_pos(&pm, "", 3, 4);
	json_decref(v);
	json5_posmap_release(&pm);
}

static void test_posmap_duplicates(void **state)
{
	struct json5_posmap pm = { 0 };
	json_t *v;

	v = parse_ok("{\n"
		     "  a: { x: 1 },\n"
		     "  b: 2,\n"
		     "  a: { x: 3 },\n"
		     "}",
		     &pm);
	expect_pos(&pm, "a", 4, 3);
	expect_pos(&pm, "a.x", 4, 8);
	expect_pos(&pm, "b", 3, 3);
	json_decref(v);
	json5_posmap_release(&pm);
}

static void test_posmap_crlf_and_name(void **state)
{
	struct json5_posmap pm = { 0 };
	json_t *v;

	v = parse_ok("{\r\n\tfoo: 1,\r\n\t/* c\r\n */ bar: [\r\n 1]\r\n}", &pm);
	expect_pos(&pm, "foo", 2, 2);
	expect_pos(&pm, "bar", 4, 5);
	expect_pos(&pm, "bar[0]", 5, 2);
	json_decref(v);
	json5_posmap_release(&pm);

	v = json5_parse("[1]", 3, NULL, &pm, NULL);
	assert_non_null(v);
	assert_int_equal(pm.n, 2);
	assert_null(pm.v[1].file);
	json_decref(v);
	json5_posmap_release(&pm);
}

static void test_posmap_failure_unchanged(void **state)
{
	struct json5_posmap pm = { 0 };
	struct json5_error err;
	json_t *v;

	v = parse_ok("{keep: 1}", &pm);
	json_decref(v);
	assert_int_equal(pm.n, 2);
	assert_null(json5_parse("{a: [1, 2, {b: x}]}", 19, "cfg.json5", &pm, &err));
	assert_int_equal(pm.n, 2);
	assert_null(json5_posmap_find(&pm, "a"));
	expect_pos(&pm, "keep", 1, 2);
	/* appending after existing entries works */
	v = parse_ok("{more: 2}", &pm);
	json_decref(v);
	assert_int_equal(pm.n, 4);
	expect_pos(&pm, "more", 1, 2);
	json5_posmap_release(&pm);
}

static void test_posmap_merge(void **state)
{
	struct json5_posmap src = { 0 }, dst = { 0 };
	json_t *v;

	v = parse_ok("{a: [1], b: {c: 2}}", &src);
	json_decref(v);

	json5_posmap_merge(&dst, &src, "");
	assert_int_equal(dst.n, src.n);
	assert_string_equal(dst.v[0].path, "");
	assert_string_equal(dst.v[2].path, "a[0]");

	json5_posmap_merge(&dst, &src, "inc.x");
	assert_int_equal(dst.n, 2 * src.n);
	assert_string_equal(dst.v[src.n + 0].path, "inc.x");
	assert_string_equal(dst.v[src.n + 1].path, "inc.x.a");
	assert_string_equal(dst.v[src.n + 2].path, "inc.x.a[0]");
	assert_string_equal(dst.v[src.n + 3].path, "inc.x.b");
	assert_string_equal(dst.v[src.n + 4].path, "inc.x.b.c");
	assert_int_equal(dst.v[src.n + 4].line, 1);
	assert_int_equal(dst.v[src.n + 4].col, 14);
	assert_string_equal(dst.v[src.n + 4].file, "cfg.json5");
	json5_posmap_release(&src);

	/* an index path joins without a dot */
	v = parse_ok("[1]", &src);
	json_decref(v);
	json5_posmap_merge(&dst, &src, "list");
	assert_string_equal(dst.v[dst.n - 2].path, "list");
	assert_string_equal(dst.v[dst.n - 1].path, "list[0]");
	json5_posmap_release(&src);

	/* the merged entries are found, the later ones first */
	assert_non_null(json5_posmap_find(&dst, "inc.x.b.c"));
	assert_ptr_equal(json5_posmap_find(&dst, ""), &dst.v[0]);
	json5_posmap_release(&dst);

	/* merging an empty map is a no-op */
	json5_posmap_merge(&dst, &src, "p");
	assert_int_equal(dst.n, 0);
	json5_posmap_release(&dst);
}

static void test_posmap_limit(void **state)
{
	struct json5_posmap pm = { 0 };
	struct json5_error err;
	struct buf b;
	json_t *v;

	/* a 20000-byte key over 2000 elements: 40 MB of paths from 24 kB of text */
	buf_init(&b, BUF_UNLIMITED);
	buf_puts(&b, "{");
	for (int i = 0; i < 20000; i++)
		buf_putc(&b, 'k');
	buf_puts(&b, ": [");
	for (int i = 0; i < 2000; i++)
		buf_puts(&b, "0,");
	buf_puts(&b, "]}");
	v = json5_parse(b.p, b.len, NULL, &pm, &err);
	assert_null(v);
	assert_string_equal(err.text, "key paths too long to record positions");
	assert_int_equal(pm.n, 0);
	/* without a map the same text is fine */
	v = json5_parse(b.p, b.len, NULL, NULL, &err);
	assert_non_null(v);
	json_decref(v);
	buf_release(&b);
	json5_posmap_release(&pm);
}

/* The JSON5 spec's own example, plus a typical pincer config. */
static void test_spec_example(void **state)
{
	check_eq("{\n"
		 "  // comments\n"
		 "  unquoted: 'and you can quote me on that',\n"
		 "  singleQuotes: 'I can use \"double quotes\" here',\n"
		 "  lineBreaks: \"Look, Mom! \\\n"
		 "No \\\\n's!\",\n"
		 "  hexadecimal: 0xdecaf,\n"
		 "  leadingDecimalPoint: .8675309, andTrailing: 8675309.,\n"
		 "  positiveSign: +1,\n"
		 "  trailingComma: 'in objects', andIn: ['arrays',],\n"
		 "  \"backwardsCompatible\": \"with JSON\",\n"
		 "}\n",
		 "{\"unquoted\":\"and you can quote me on that\","
		 "\"singleQuotes\":\"I can use \\\"double quotes\\\" here\","
		 "\"lineBreaks\":\"Look, Mom! No \\\\n's!\","
		 "\"hexadecimal\":912559,"
		 "\"leadingDecimalPoint\":0.8675309,\"andTrailing\":8675309.0,"
		 "\"positiveSign\":1,"
		 "\"trailingComma\":\"in objects\",\"andIn\":[\"arrays\"],"
		 "\"backwardsCompatible\":\"with JSON\"}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_plain_json),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_trailing_commas),
		cmocka_unit_test(test_unquoted_keys),
		cmocka_unit_test(test_quoted_keys_and_strings),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_line_continuations),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_number_kinds),
		cmocka_unit_test(test_number_errors),
		cmocka_unit_test(test_nonfinite),
		cmocka_unit_test(test_whitespace),
		cmocka_unit_test(test_strings_identity_escapes_and_controls),
		cmocka_unit_test(test_strings_errors),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_empty_and_comments),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_null_err_and_text),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_posmap_paths),
		cmocka_unit_test(test_posmap_scalar_root),
		cmocka_unit_test(test_posmap_duplicates),
		cmocka_unit_test(test_posmap_crlf_and_name),
		cmocka_unit_test(test_posmap_failure_unchanged),
		cmocka_unit_test(test_posmap_merge),
		cmocka_unit_test(test_posmap_limit),
		cmocka_unit_test(test_spec_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
