/*
 * test_jsonx.c - JSON paths and jansson helpers (src/core/jsonx.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jsonx.h"
#include "core/mem.h"

/* ------------------------------------------------------------ helpers */

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	if (!v)
		fail_msg("bad test JSON '%s': %s", text, e.text);
	return v;
}

/* Compare `v` with the JSON text `expect` by value. */
static void assert_json(const json_t *v, const char *expect)
{
	json_t *want = parse(expect);

	bool same = json_equal((json_t *)v, want);

	json_decref(want);
	if (!same) {
		char *got = v ? json_dump_str(v, JSON_COMPACT | JSON_SORT_KEYS) : xstrdup("(null)");

		print_error("got %s, want %s\n", got, expect);
		free(got);
		fail();
	}
}

/* Serialize `v` (sorted, compact) into a static buffer and drop the reference. */
static const char *dump_and_free(json_t *v)
{
	static char out[4096];
	char *s = json_dump_str(v, JSON_COMPACT | JSON_SORT_KEYS);

	snprintf(out, sizeof(out), "%s", s);
	free(s);
	json_decref(v);
	return out;
}

/*
 * Parse `path` and render its steps as "key|key|[3]|..." so expectations
 * are one string.
 */
static char *steps_str(const char *path)
{
	struct jpath_step *steps = (struct jpath_step *)0x1;
	char err[256] = "";
	int n = jpath_parse(path, &steps, err, sizeof(err));
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	if (n < 0) {
		assert_null(steps);
		assert_true(err[0] != '\0');
		buf_printf(&b, "ERR");
		return buf_detach(&b, NULL);
	}
	for (int i = 0; i < n; i++) {
		if (i)
			buf_putc(&b, '|');
		if (steps[i].key)
			buf_puts(&b, steps[i].key);
		else
			buf_printf(&b, "[%zu]", steps[i].index);
	}
	jpath_free(steps, n);
	return buf_detach(&b, NULL);
}

#define assert_steps(path, expect)                                                                 \
	do {                                                                                       \
		char *got_ = steps_str(path);                                                      \
		assert_string_equal(got_, expect);                                                 \
		free(got_);                                                                        \
	} while (0)

/* ---------------------------------------------------------- jpath_parse */

static void test_parse_plain(void **state)
{
	assert_steps("gateway", "gateway");
	assert_steps("gateway.port", "gateway|port");
	assert_steps("a.b.c.d", "a|b|c|d");
	assert_steps("$schema", "$schema");
	assert_steps("snake_case.kebab-case.x1", "snake_case|kebab-case|x1");
}

static void test_parse_indices(void **state)
{
	assert_steps("agents.list[0]", "agents|list|[0]");
	assert_steps("agents.list[12].id", "agents|list|[12]|id");
	assert_steps("m[0][1][2]", "m|[0]|[1]|[2]");
	assert_steps("[3]", "[3]");
	assert_steps("[0].a", "[0]|a");
	assert_steps("a[007]", "a|[7]");
}

static void test_parse_quoted_keys(void **state)
{
	assert_steps("models.providers[\"my.provider\"].apiKey",
		     "models|providers|my.provider|apiKey");
	assert_steps("[\"a.b\"]", "a.b");
	assert_steps("x[\"\"]", "x|");
	assert_steps("x[\"with space\"]", "x|with space");
	assert_steps("x[\"[0]\"]", "x|[0]");
	/* JSON escapes are decoded */
	assert_steps("x[\"q\\\"uote\"]", "x|q\"uote");
	assert_steps("x[\"back\\\\slash\"]", "x|back\\slash");
	assert_steps("x[\"\\u00e9t\\u00e9\"]", "x|\xc3\xa9t\xc3\xa9");
	assert_steps("x[\"a\\\"]\"].y", "x|a\"]|y");
	/* a quoted key followed by an index */
	assert_steps("m[\"k.k\"][2]", "m|k.k|[2]");
}

static void test_parse_malformed(void **state)
{
	static const char *const bad[] = {
		"",                              /* empty */
		".",                             /* lone dot */
		".a",                            /* leading dot */
		"a.",                            /* trailing dot */
		"a..b",                          /* empty step */
		"a[",                            /* unterminated index */
		"a[x]",                          /* non-numeric index */
		"a[-1]",                         /* negative index */
		"a[1",                           /* missing ] */
		"a[]",                           /* empty index */
		"a[1]b",                         /* junk after an index */
		"a.[0]",                         /* dot before an index */
		"a[\"b]",                        /* unterminated quoted key */
		"a[\"b\"",                       /* quoted key without ] */
		"a[\"b\"]c",                     /* junk after a quoted key */
		"a[\"\\x\"]",                    /* bad JSON escape */
		"a[99999999999999999999999999]", /* index overflow */
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *got = steps_str(bad[i]);
		bool ok = !strcmp(got, "ERR");

		if (!ok)
			print_error("path '%s' parsed as '%s', expected an error\n", bad[i], got);
		free(got);
		assert_true(ok);
	}
}

static void test_parse_error_message(void **state)
{
	struct jpath_step *steps = NULL;
	char err[256];

	assert_int_equal(jpath_parse("", &steps, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty"));
	assert_null(steps);
	assert_int_equal(jpath_parse("a..b", &steps, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "a..b"));
	assert_null(steps);
	/* A short err buffer is truncated, never overrun. */
	memset(err, 'X', sizeof(err));
	assert_int_equal(jpath_parse("a[x]", &steps, err, 8), -1);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(err[8], 'X');
}

/* ------------------------------------------------- push_key / push_index */

static void test_push_builds_paths(void **state)
{
	struct buf p;

	buf_init(&p, BUF_UNLIMITED);
	jpath_push_key(&p, "models");
	assert_string_equal(p.p, "models");
	jpath_push_key(&p, "providers");
	jpath_push_key(&p, "my.provider");
	assert_string_equal(p.p, "models.providers[\"my.provider\"]");
	jpath_push_key(&p, "apiKey");
	assert_string_equal(p.p, "models.providers[\"my.provider\"].apiKey");
	buf_reset(&p);

	jpath_push_key(&p, "agents");
	jpath_push_key(&p, "list");
	jpath_push_index(&p, 3);
	jpath_push_key(&p, "id");
	assert_string_equal(p.p, "agents.list[3].id");
	buf_reset(&p);

	/* non-plain keys: digits first, empty, spaces, brackets, quotes */
	jpath_push_key(&p, "0abc");
	assert_string_equal(p.p, "[\"0abc\"]");
	buf_reset(&p);
	jpath_push_key(&p, "");
	assert_string_equal(p.p, "[\"\"]");
	buf_reset(&p);
	jpath_push_index(&p, 0);
	assert_string_equal(p.p, "[0]");
	buf_release(&p);
}

/* Every key survives push_key -> jpath_parse unchanged. */
static void test_push_roundtrip(void **state)
{
	static const char *const keys[] = {
		"plain",
		"with.dot",
		"with space",
		"",
		"0lead",
		"q\"uote",
		"back\\slash",
		"br[0]",
		"]",
		"\"",
		"tab\there",
		"nl\nline",
		"\xc3\xa9t\xc3\xa9",
		"$schema",
		"a-b_c",
		"[\"x\"]",
		"..",
		"*",
	};

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		struct buf p;
		struct jpath_step *steps;
		char err[256];
		int n;

		buf_init(&p, BUF_UNLIMITED);
		jpath_push_key(&p, "root");
		jpath_push_key(&p, keys[i]);
		jpath_push_index(&p, 7);
		jpath_push_key(&p, keys[i]);
		n = jpath_parse(p.p, &steps, err, sizeof(err));
		if (n != 4)
			fail_msg("key '%s' -> path '%s' -> %d steps (%s)", keys[i], p.p, n,
				 n < 0 ? err : "");
		assert_string_equal(steps[0].key, "root");
		assert_string_equal(steps[1].key, keys[i]);
		assert_null(steps[2].key);
		assert_int_equal(steps[2].index, 7);
		assert_string_equal(steps[3].key, keys[i]);
		jpath_free(steps, n);
		buf_release(&p);
	}
}

/* --------------------------------------------------------------- get */

static void test_get(void **state)
{
	json_t *root = parse("{\"gateway\":{\"port\":1,\"auth\":{\"token\":\"t\"}},"
			     "\"agents\":{\"list\":[{\"id\":\"a\"},{\"id\":\"b\"}]},"
			     "\"m\":{\"a.b\":{\"c\":true},\"\":0},\"arr\":[[1,2],[3]]}");

	assert_json(jpath_get(root, "gateway.port"), "1");
	assert_json(jpath_get(root, "gateway.auth.token"), "\"t\"");
	assert_json(jpath_get(root, "agents.list[1].id"), "\"b\"");
	assert_json(jpath_get(root, "agents.list[0]"), "{\"id\":\"a\"}");
	assert_json(jpath_get(root, "m[\"a.b\"].c"), "true");
	assert_json(jpath_get(root, "m[\"\"]"), "0");
	assert_json(jpath_get(root, "arr[0][1]"), "2");
	assert_json(jpath_get(root, "arr[1][0]"), "3");
	/* absent */
	assert_null(jpath_get(root, "gateway.nope"));
	assert_null(jpath_get(root, "nope.deeper"));
	assert_null(jpath_get(root, "agents.list[2]"));
	assert_null(jpath_get(root, "agents.list[2].id"));
	/* wrong container kind on the way */
	assert_null(jpath_get(root, "gateway.port.x"));
	assert_null(jpath_get(root, "gateway[0]"));
	assert_null(jpath_get(root, "agents.list.id"));
	assert_null(jpath_get(root, "gateway.auth.token[0]"));
	/* malformed paths are simply absent */
	assert_null(jpath_get(root, ""));
	assert_null(jpath_get(root, "gateway..port"));
	assert_null(jpath_get(root, "a["));
	json_decref(root);

	/* an array root */
	root = parse("[10,{\"k\":20}]");
	assert_json(jpath_get(root, "[1].k"), "20");
	assert_null(jpath_get(root, "k"));
	json_decref(root);
}

/* --------------------------------------------------------------- set */

static void test_set_existing_and_new(void **state)
{
	json_t *root = parse("{\"gateway\":{\"port\":1}}");
	char err[256];

	assert_int_equal(jpath_set(root, "gateway.port", json_integer(2), err, sizeof(err)), 0);
	assert_int_equal(jpath_set(root, "gateway.bind", json_string("lan"), err, sizeof(err)), 0);
	assert_json(root, "{\"gateway\":{\"port\":2,\"bind\":\"lan\"}}");
	/* replace a whole subtree */
	assert_int_equal(jpath_set(root, "gateway", parse("{\"x\":[1]}"), err, sizeof(err)), 0);
	assert_json(root, "{\"gateway\":{\"x\":[1]}}");
	json_decref(root);
}

static void test_set_creates_intermediates(void **state)
{
	json_t *root = json_object();
	char err[256];

	assert_int_equal(jpath_set(root, "a.b.c", json_true(), err, sizeof(err)), 0);
	assert_json(root, "{\"a\":{\"b\":{\"c\":true}}}");
	/* an index after a missing key makes that container an array */
	assert_int_equal(
		jpath_set(root, "agents.list[0].id", json_string("main"), err, sizeof(err)), 0);
	assert_json(jpath_get(root, "agents"), "{\"list\":[{\"id\":\"main\"}]}");
	/* append at index == size, creating the element's object */
	assert_int_equal(jpath_set(root, "agents.list[1].id", json_string("b"), err, sizeof(err)),
			 0);
	assert_json(jpath_get(root, "agents.list"), "[{\"id\":\"main\"},{\"id\":\"b\"}]");
	/* nested arrays */
	assert_int_equal(jpath_set(root, "grid[0][0]", json_integer(5), err, sizeof(err)), 0);
	assert_json(jpath_get(root, "grid"), "[[5]]");
	/* quoted keys */
	assert_int_equal(jpath_set(root, "models.providers[\"a.b\"].baseUrl",
				   json_string("http://x"), err, sizeof(err)),
			 0);
	assert_json(jpath_get(root, "models"),
		    "{\"providers\":{\"a.b\":{\"baseUrl\":\"http://x\"}}}");
	json_decref(root);
}

static void test_set_array_elements(void **state)
{
	json_t *root = parse("{\"l\":[1,2,3]}");
	char err[256];

	/* replace */
	assert_int_equal(jpath_set(root, "l[1]", json_integer(20), err, sizeof(err)), 0);
	/* append at index == size */
	assert_int_equal(jpath_set(root, "l[3]", json_integer(4), err, sizeof(err)), 0);
	assert_json(root, "{\"l\":[1,20,3,4]}");
	/* past the end */
	err[0] = '\0';
	assert_int_equal(jpath_set(root, "l[9]", json_integer(9), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "past the end"));
	assert_json(root, "{\"l\":[1,20,3,4]}");
	/* past the end one level up */
	assert_int_equal(jpath_set(root, "l[7].x", json_integer(9), err, sizeof(err)), -1);
	assert_json(root, "{\"l\":[1,20,3,4]}");
	json_decref(root);
}

static void test_set_type_errors(void **state)
{
	json_t *root = parse("{\"s\":\"str\",\"l\":[1],\"o\":{}}");
	char err[256];

	/* descending through a scalar */
	err[0] = '\0';
	assert_int_equal(jpath_set(root, "s.x.y", json_integer(1), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "string"));
	/* a key inside an array */
	err[0] = '\0';
	assert_int_equal(jpath_set(root, "l.x", json_integer(1), err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	/* an index inside an object or a scalar */
	err[0] = '\0';
	assert_int_equal(jpath_set(root, "o[0]", json_integer(1), err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	err[0] = '\0';
	assert_int_equal(jpath_set(root, "s[0]", json_integer(1), err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	/* malformed path (the value is still consumed: ASan would report a leak) */
	err[0] = '\0';
	assert_int_equal(jpath_set(root, "a..b", json_string("leak?"), err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	assert_int_equal(jpath_set(root, "", json_string("leak?"), err, sizeof(err)), -1);
	/* nothing changed */
	assert_json(root, "{\"s\":\"str\",\"l\":[1],\"o\":{}}");
	json_decref(root);
}

/*
 * A failed set leaves the document as it was: no half-built intermediate
 * containers (`config set` would otherwise write `agents: {list: []}`
 * after refusing the value).
 */
static void test_set_failure_leaves_no_intermediates(void **state)
{
	json_t *root = json_object();
	char err[256];

	assert_int_equal(jpath_set(root, "agents.list[5].id", json_string("x"), err, sizeof(err)),
			 -1);
	assert_int_equal(jpath_set(root, "a.b[3]", json_integer(1), err, sizeof(err)), -1);
	assert_string_equal(dump_and_free(root), "{}");
}

/* jpath_set steals `value` whatever happens; the caller's reference stays valid. */
static void test_set_reference_counting(void **state)
{
	json_t *root = json_object();
	json_t *v = json_string("shared");
	char err[256];

	json_incref(v); /* keep our own */
	assert_int_equal(jpath_set(root, "a", v, err, sizeof(err)), 0);
	assert_int_equal(v->refcount, 2);
	json_incref(v);
	assert_int_equal(jpath_set(root, "a[0]", v, err, sizeof(err)), -1);
	assert_int_equal(v->refcount, 2);
	json_decref(root);
	assert_int_equal(v->refcount, 1);
	assert_string_equal(json_string_value(v), "shared");
	json_decref(v);
}

/* ------------------------------------------------------------- unset */

static void test_unset(void **state)
{
	json_t *root = parse("{\"a\":{\"b\":1,\"c\":2},\"l\":[1,2,3],\"s\":\"x\"}");
	char err[256];

	assert_int_equal(jpath_unset(root, "a.b", err, sizeof(err)), 1);
	assert_json(root, "{\"a\":{\"c\":2},\"l\":[1,2,3],\"s\":\"x\"}");
	assert_int_equal(jpath_unset(root, "l[1]", err, sizeof(err)), 1);
	assert_json(jpath_get(root, "l"), "[1,3]");
	/* absent: 0 */
	assert_int_equal(jpath_unset(root, "a.b", err, sizeof(err)), 0);
	assert_int_equal(jpath_unset(root, "a.zz", err, sizeof(err)), 0);
	assert_int_equal(jpath_unset(root, "nope.deeper.still", err, sizeof(err)), 0);
	assert_int_equal(jpath_unset(root, "l[2]", err, sizeof(err)), 0);
	assert_int_equal(jpath_unset(root, "l[99]", err, sizeof(err)), 0);
	assert_int_equal(jpath_unset(root, "s.x", err, sizeof(err)), 0);
	assert_int_equal(jpath_unset(root, "a[0]", err, sizeof(err)), 0);
	assert_int_equal(jpath_unset(root, "l.x", err, sizeof(err)), 0);
	/* malformed: -1 with a message */
	err[0] = '\0';
	assert_int_equal(jpath_unset(root, "a..b", err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	assert_int_equal(jpath_unset(root, "", err, sizeof(err)), -1);
	assert_json(root, "{\"a\":{\"c\":2},\"l\":[1,3],\"s\":\"x\"}");
	/* a whole subtree */
	assert_int_equal(jpath_unset(root, "a", err, sizeof(err)), 1);
	assert_json(root, "{\"l\":[1,3],\"s\":\"x\"}");
	json_decref(root);
}

/* -------------------------------------------------------------- merge */

static void test_merge_deep(void **state)
{
	json_t *dst = parse("{\"a\":{\"x\":1,\"y\":{\"p\":1}},\"b\":[1,2],\"c\":\"keep\","
			    "\"d\":{\"o\":1}}");
	json_t *src = parse("{\"a\":{\"y\":{\"q\":2},\"z\":3},\"b\":[9],\"d\":\"scalar\","
			    "\"e\":{\"new\":true}}");

	json_merge_deep(dst, src);
	assert_json(dst, "{\"a\":{\"x\":1,\"y\":{\"p\":1,\"q\":2},\"z\":3},\"b\":[9],"
			 "\"c\":\"keep\",\"d\":\"scalar\",\"e\":{\"new\":true}}");
	/* src is not modified */
	assert_json(src, "{\"a\":{\"y\":{\"q\":2},\"z\":3},\"b\":[9],\"d\":\"scalar\","
			 "\"e\":{\"new\":true}}");
	json_decref(src);

	/* a scalar replaced by an object */
	src = parse("{\"c\":{\"now\":\"object\"}}");
	json_merge_deep(dst, src);
	assert_json(jpath_get(dst, "c"), "{\"now\":\"object\"}");
	json_decref(src);

	/* merging {} changes nothing; null replaces */
	src = parse("{}");
	json_merge_deep(dst, src);
	json_decref(src);
	src = parse("{\"b\":null}");
	json_merge_deep(dst, src);
	assert_json(jpath_get(dst, "b"), "null");
	json_decref(src);
	json_decref(dst);
}

/* --------------------------------------------------------------- kind */

static void test_kind(void **state)
{
	static const struct {
		const char *json, *kind;
	} cases[] = {
		{ "{}", "object" },  { "[]", "array" },     { "\"s\"", "string" },
		{ "1", "integer" },  { "-5", "integer" },   { "1.5", "number" },
		{ "1e3", "number" }, { "true", "boolean" }, { "false", "boolean" },
		{ "null", "null" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *v = parse(cases[i].json);

		assert_string_equal(json_kind(v), cases[i].kind);
		json_decref(v);
	}
}

static void test_dump_str(void **state)
{
	json_t *v = parse("{\"b\":1,\"a\":[true,null]}");
	char *s = json_dump_str(v, JSON_COMPACT | JSON_SORT_KEYS);

	assert_string_equal(s, "{\"a\":[true,null],\"b\":1}");
	free(s);
	json_decref(v);
	/* scalars too (JSON_ENCODE_ANY is implied) */
	v = json_string("x");
	s = json_dump_str(v, 0);
	assert_string_equal(s, "\"x\"");
	free(s);
	json_decref(v);
}

/* Found by fuzz_config: jansson refuses non-UTF-8 keys, so paths must too. */
static void test_path_rejects_invalid_utf8(void **state)
{
	struct jpath_step *steps;
	char err[256];
	json_t *doc = json_object();

	assert_int_equal(jpath_parse("a.b\xf2"
				     "c.d",
				     &steps, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "UTF-8"));
	assert_int_equal(jpath_set(doc,
				   "models.p\xf2"
				   "oviders[\"a\"].x",
				   json_integer(1), err, sizeof(err)),
			 -1);
	assert_int_equal(json_object_size(doc), 0);
	json_decref(doc);
}

/* The bound is never below the real compact dump, escapes and all. */
static void test_dump_size_max(void **state)
{
	static const char *const docs[] = {
		"{}",
		"[]",
		"\"\"",
		"[1,-9223372036854775807,1.5e300,true,false,null]",
		"{\"a\\\"b\":\"\\u0001\\u001f\\n\\t\\\"\\\\\",\"\u00e9\":[{\"x\":[[]]}]}",
		"[\"\\u0000\\u0000\\u0000\",{\"k\":\"\\u2028\"}]",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		json_error_t e;
		json_t *v = json_loads(docs[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);

		assert_non_null(v);
		assert_true(json_dump_size_max(v) >=
			    json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY));
		json_decref(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_rejects_invalid_utf8),
		cmocka_unit_test(test_parse_plain),
		cmocka_unit_test(test_parse_indices),
		cmocka_unit_test(test_parse_quoted_keys),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_error_message),
		cmocka_unit_test(test_push_builds_paths),
		cmocka_unit_test(test_push_roundtrip),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_set_existing_and_new),
		cmocka_unit_test(test_set_creates_intermediates),
		cmocka_unit_test(test_set_array_elements),
		cmocka_unit_test(test_set_type_errors),
		cmocka_unit_test(test_set_failure_leaves_no_intermediates),
		cmocka_unit_test(test_set_reference_counting),
		cmocka_unit_test(test_unset),
		cmocka_unit_test(test_merge_deep),
		cmocka_unit_test(test_kind),
		cmocka_unit_test(test_dump_str),
		cmocka_unit_test(test_dump_size_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
