/*
 * test_patch.c - merge patches, the destructive-array guard, diffs and
 * reload kinds (src/config/patch.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/patch.h"
#include "config/schema.h"
#include "core/jsonx.h"
#include "core/mem.h"

/* Parse strict JSON for a test; fails the test on bad input. */
static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	if (!v)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return v;
}

static void assert_json(const json_t *got, const char *want)
{
	json_t *w = J(want);

	if (!json_equal(got, w)) {
		char *g = json_dump_str(got, JSON_COMPACT | JSON_ENCODE_ANY);

		print_error("got  %s\nwant %s\n", g, want);
		free(g);
		json_decref(w);
		fail();
	}
	json_decref(w);
}

/* merge(base, patch, replacePaths) must give `want`, leaving its inputs alone. */
static void check_merge(const char *base, const char *patch, const char *replace, const char *want)
{
	json_t *b = J(base), *p = J(patch), *rp = replace ? J(replace) : NULL;
	json_t *set = config_patch_replace_set(rp);
	json_t *b0 = json_deep_copy(b), *p0 = json_deep_copy(p);
	json_t *m = config_merge_patch(b, p, set);

	assert_json(m, want);
	assert_true(json_equal(b, b0));
	assert_true(json_equal(p, p0));
	json_decref(m);
	json_decref(b);
	json_decref(p);
	json_decref(b0);
	json_decref(p0);
	json_decref(rp);
	json_decref(set);
}

/* The RFC 7396 examples (appendix A) that apply to config trees. */
static void test_rfc7396(void **state)
{
	check_merge("{\"a\":\"b\"}", "{\"a\":\"c\"}", NULL, "{\"a\":\"c\"}");
	check_merge("{\"a\":\"b\"}", "{\"b\":\"c\"}", NULL, "{\"a\":\"b\",\"b\":\"c\"}");
	check_merge("{\"a\":\"b\"}", "{\"a\":null}", NULL, "{}");
	check_merge("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", NULL, "{\"b\":\"c\"}");
	check_merge("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", NULL, "{\"a\":\"c\"}");
	check_merge("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", NULL, "{\"a\":[\"b\"]}");
	check_merge("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", NULL,
		    "{\"a\":{\"b\":\"d\"}}");
	check_merge("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", NULL, "{\"a\":[1]}");
	check_merge("[\"a\",\"b\"]", "[\"c\",\"d\"]", NULL, "[\"c\",\"d\"]");
	check_merge("{\"a\":\"b\"}", "[\"c\"]", NULL, "[\"c\"]");
	check_merge("{\"a\":\"foo\"}", "null", NULL, "null");
	check_merge("{\"e\":null}", "{\"a\":1}", NULL, "{\"e\":null,\"a\":1}");
	check_merge("[1,2]", "{\"a\":\"b\",\"c\":null}", NULL, "{\"a\":\"b\"}");
	check_merge("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", NULL, "{\"a\":{\"bb\":{}}}");
	/* deleting what is not there is fine */
	check_merge("{\"a\":1}", "{\"z\":null}", NULL, "{\"a\":1}");
}

/* Plain arrays replace; arrays of {id} objects merge by id. */
static void test_arrays(void **state)
{
	check_merge("{\"x\":[1,2,3]}", "{\"x\":[4]}", NULL, "{\"x\":[4]}");
	check_merge("{\"l\":[{\"id\":\"a\",\"n\":1},{\"id\":\"b\",\"n\":2}]}",
		    "{\"l\":[{\"id\":\"b\",\"n\":3,\"m\":true},{\"id\":\"c\"}]}", NULL,
		    "{\"l\":[{\"id\":\"a\",\"n\":1},{\"id\":\"b\",\"n\":3,\"m\":true},"
		    "{\"id\":\"c\"}]}");
	/* a null inside an id entry deletes that entry's key */
	check_merge("{\"l\":[{\"id\":\"a\",\"n\":1,\"k\":2}]}",
		    "{\"l\":[{\"id\":\"a\",\"k\":null}]}", NULL,
		    "{\"l\":[{\"id\":\"a\",\"n\":1}]}");
	/* entries without an id are appended */
	check_merge("{\"l\":[{\"id\":\"a\"}]}", "{\"l\":[{\"n\":1}]}", NULL,
		    "{\"l\":[{\"id\":\"a\"},{\"n\":1}]}");
	/* a base that is not id-keyed is replaced */
	check_merge("{\"l\":[{\"id\":\"a\"},{\"n\":1}]}", "{\"l\":[{\"id\":\"b\"}]}", NULL,
		    "{\"l\":[{\"id\":\"b\"}]}");
	/* replacePaths opts out, in any of its spellings */
	check_merge("{\"l\":[{\"id\":\"a\"},{\"id\":\"b\"}]}", "{\"l\":[{\"id\":\"b\"}]}",
		    "[\"l\"]", "{\"l\":[{\"id\":\"b\"}]}");
	check_merge("{\"l\":[{\"id\":\"a\"},{\"id\":\"b\"}]}", "{\"l\":[{\"id\":\"b\"}]}",
		    "[\" l[] \"]", "{\"l\":[{\"id\":\"b\"}]}");
	/* nested arrays inside id entries: path "l[].t" */
	check_merge("{\"l\":[{\"id\":\"a\",\"t\":[{\"id\":\"x\"},{\"id\":\"y\"}]}]}",
		    "{\"l\":[{\"id\":\"a\",\"t\":[{\"id\":\"z\"}]}]}", "[\"l[3].t\"]",
		    "{\"l\":[{\"id\":\"a\",\"t\":[{\"id\":\"z\"}]}]}");
	check_merge("{\"l\":[{\"id\":\"a\",\"t\":[{\"id\":\"x\"}]}]}",
		    "{\"l\":[{\"id\":\"a\",\"t\":[{\"id\":\"z\"}]}]}", NULL,
		    "{\"l\":[{\"id\":\"a\",\"t\":[{\"id\":\"x\"},{\"id\":\"z\"}]}]}");
}

static void test_replace_set(void **state)
{
	json_t *in = J("[\"a.list[0].tools\", \"b[]\", \" c \", \"\", 5, \"d[x].e\", \"e[12]\"]");
	json_t *set = config_patch_replace_set(in);

	assert_json(set, "{\"a.list[].tools\":true, \"b\":true, \"c\":true, \"d[x].e\":true,"
			 " \"e[12]\":true}");
	json_decref(set);
	json_decref(in);
	set = config_patch_replace_set(NULL);
	assert_json(set, "{}");
	json_decref(set);
}

static void check_destructive(const char *base, const char *patch, const char *replace,
			      const char *want)
{
	json_t *b = J(base), *p = J(patch), *rp = replace ? J(replace) : NULL;
	json_t *set = config_patch_replace_set(rp);
	json_t *m = config_merge_patch(b, p, set), *out = json_array();

	config_patch_destructive(b, p, m, set, out);
	assert_json(out, want);
	json_decref(out);
	json_decref(m);
	json_decref(b);
	json_decref(p);
	json_decref(rp);
	json_decref(set);
}

static void test_destructive(void **state)
{
	/* growing or editing is fine */
	check_destructive("{\"x\":[1,2]}", "{\"x\":[2,1,3]}", NULL, "[]");
	check_destructive("{\"l\":[{\"id\":\"a\"}]}", "{\"l\":[{\"id\":\"b\"}]}", NULL, "[]");
	check_destructive("{\"a\":{\"b\":1}}", "{\"a\":{\"b\":2}}", NULL, "[]");
	/* losing entries is not, unless the path is in replacePaths */
	check_destructive("{\"x\":[1,2]}", "{\"x\":[1]}", NULL, "[\"x\"]");
	check_destructive("{\"x\":[1,2]}", "{\"x\":[1]}", "[\"x\"]", "[]");
	check_destructive("{\"x\":[1,2]}", "{\"x\":null}", NULL, "[\"x\"]");
	check_destructive("{\"x\":[1,2]}", "{\"x\":\"s\"}", NULL, "[\"x\"]");
	check_destructive("{\"l\":[{\"id\":\"a\"},{\"id\":\"b\"}]}", "{\"l\":[{\"id\":\"b\"}]}",
			  "[\"l\"]", "[]");
	/* deleting an object drops the arrays inside it */
	check_destructive("{\"a\":{\"b\":[1],\"c\":{\"d\":[2]},\"e\":3}}", "{\"a\":null}", NULL,
			  "[\"a.b\", \"a.c.d\"]");
	/* inside an id entry */
	check_destructive("{\"l\":[{\"id\":\"a\",\"t\":[1,2]}]}",
			  "{\"l\":[{\"id\":\"a\",\"t\":[1]}]}", NULL, "[\"l[].t\"]");
	check_destructive("{\"l\":[{\"id\":\"a\",\"t\":[1,2]}]}",
			  "{\"l\":[{\"id\":\"a\",\"t\":[1]}]}", "[\"l[0].t\"]", "[]");
	/* keys the base does not have cannot lose anything */
	check_destructive("{}", "{\"x\":[1], \"y\":{\"z\":null}}", NULL, "[]");
}

static void check_diff(const char *a, const char *b, bool leaves, const char *want)
{
	json_t *ja = a ? J(a) : NULL, *jb = b ? J(b) : NULL, *out = json_array();

	config_diff_paths(ja, jb, leaves, out);
	assert_json(out, want);
	json_decref(out);
	json_decref(ja);
	json_decref(jb);
}

static void test_diff(void **state)
{
	check_diff("{\"a\":1}", "{\"a\":1}", false, "[]");
	check_diff("{\"a\":1,\"b\":{\"c\":1,\"d\":[1]}}",
		   "{\"a\":2,\"b\":{\"c\":1,\"d\":[2]},\"e\":{}}", false, "[\"a\",\"b.d\",\"e\"]");
	check_diff("{\"g\":{\"p\":1}}", "{\"g\":{\"p\":1,\"r\":{\"m\":\"off\",\"x\":{}}}}", false,
		   "[\"g.r\"]");
	check_diff("{\"g\":{\"p\":1}}", "{\"g\":{\"p\":1,\"r\":{\"m\":\"off\",\"x\":{}}}}", true,
		   "[\"g.r.m\",\"g.r.x\"]");
	check_diff("{\"g\":{\"r\":{\"m\":1}}}", "{}", true, "[\"g.r.m\"]");
	check_diff("{\"a\":{\"b\":1}}", "{\"a\":\"s\"}", true, "[\"a\"]");
	check_diff("{\"a.b\":1}", "{}", false, "[\"[\\\"a.b\\\"]\"]");
	check_diff(NULL, "{\"a\":1}", true, "[\"a\"]");
}

static void test_path_reload(void **state)
{
	assert_int_equal(config_path_reload("gateway.port"), RELOAD_RESTART);
	assert_int_equal(config_path_reload("gateway.reload.mode"), RELOAD_HOT);
	assert_int_equal(config_path_reload("agents.list[3].id"), RELOAD_HOT);
	assert_int_equal(config_path_reload("meta.lastTouchedVersion"), RELOAD_NONE);
	assert_int_equal(config_path_reload("gateway.tls.whatever.deep"), RELOAD_RESTART);
	assert_int_equal(config_path_reload("nosuchsection.x"), RELOAD_NONE);
	assert_int_equal(config_path_reload("bad[path"), RELOAD_NONE);
}

static int teardown_group(void **state)
{
	schema_release();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7396),     cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_replace_set), cmocka_unit_test(test_destructive),
		cmocka_unit_test(test_diff),        cmocka_unit_test(test_path_reload),
	};

	return cmocka_run_group_tests(tests, NULL, teardown_group);
}
