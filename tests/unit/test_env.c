/*
 * test_env.c - .env parsing/loading and ${VAR} substitution.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/env.h"
#include "core/buf.h"
#include "core/json5.h"
#include "core/mem.h"

/* ------------------------------------------------------------ helpers */

/* Pairs come back as "K=V\n" lines, in order. */
static int collect(const char *key, const char *value, void *arg)
{
	struct buf *b = arg;

	buf_printf(b, "%s=%s\n", key, value);
	return 0;
}

/* Parse `text`; the pairs (or "ERR:<msg>") end up in a fresh string. */
static char *parse(const char *text)
{
	struct buf b;
	char err[256];
	int rc;

	buf_init(&b, BUF_UNLIMITED);
	rc = env_parse_dotenv(text, strlen(text), collect, &b, err, sizeof(err));
	if (rc) {
		buf_reset(&b);
		buf_printf(&b, "ERR:%s", err);
	}
	return buf_detach(&b, NULL);
}

#define assert_parses(text, expect)                                                                \
	do {                                                                                       \
		char *got_ = parse(text);                                                          \
		assert_string_equal(got_, expect);                                                 \
		free(got_);                                                                        \
	} while (0)

static char tmpdir[PATH_MAX];

static int setup_tmpdir(void **state)
{
	assert_int_equal(tu_mkdtemp(tmpdir, sizeof(tmpdir), "env"), 0);
	return 0;
}

static int teardown_tmpdir(void **state)
{
	assert_int_equal(tu_rm_rf(tmpdir), 0);
	return 0;
}

static char *write_tmp(const char *name, const char *content)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	return path;
}

/* ------------------------------------------------------------- dotenv */

static void test_dotenv_basic(void **state)
{
	assert_parses("A=1\nB = two \n", "A=1\nB=two\n");
	assert_parses("", "");
	assert_parses("\n\n   \n", "");
	assert_parses("A=1", "A=1\n"); /* no final newline */
	assert_parses("EMPTY=\nSP=   \n", "EMPTY=\nSP=\n");
	assert_parses("a.b-c_d=x\n", "a.b-c_d=x\n"); /* dotenv's key set */
	assert_parses("URL=http://h/p?q=1=2\n", "URL=http://h/p?q=1=2\n");
	assert_parses("  \tIND=ented\n", "IND=ented\n");
}

static void test_dotenv_export(void **state)
{
	assert_parses("export A=1\n", "A=1\n");
	assert_parses("export \t B=2\n", "B=2\n");
	assert_parses("export=3\n", "export=3\n"); /* a variable named export */
	assert_parses("exportX=4\n", "exportX=4\n");
}

static void test_dotenv_comments(void **state)
{
	assert_parses("# a comment\nA=1\n  # indented\n", "A=1\n");
	assert_parses("A=1 # trailing\n", "A=1\n");
	assert_parses("A=1\t# trailing tab\n", "A=1\n");
	assert_parses("A=a#b\n", "A=a#b\n"); /* '#' inside a word is data */
	assert_parses("A=# only a comment\n", "A=\n");
	assert_parses("A='x' # c\nB=\"y\"#c\n", "A=x\nB=y\n");
}

static void test_dotenv_quotes(void **state)
{
	assert_parses("A='lit $X \\n # not comment'\n", "A=lit $X \\n # not comment\n");
	assert_parses("A=\"a\\nb\\tc\\\"d\\\\e\\rf\"\n", "A=a\nb\tc\"d\\e\rf\n");
	assert_parses("A=\"keep \\x as is\"\n", "A=keep \\x as is\n");
	assert_parses("A=\"# not a comment\"\n", "A=# not a comment\n");
	assert_parses("A=\"\"\nB=''\n", "A=\nB=\n");
	assert_parses("A=\"  padded  \"\n", "A=  padded  \n");
	assert_parses("A=\"x\"   \n", "A=x\n");
}

static void test_dotenv_multiline(void **state)
{
	assert_parses("A=\"line1\nline2\"\nB=3\n", "A=line1\nline2\nB=3\n");
	assert_parses("K='-----BEGIN-----\nabc\n-----END-----'\n",
		      "K=-----BEGIN-----\nabc\n-----END-----\n");
	/* Line numbers keep counting through a multi-line value. */
	assert_parses("A=\"x\ny\nz\"\nB=1\nbroken\n",
		      "ERR:line 5: expected '=' after the variable name");
}

static void test_dotenv_crlf(void **state)
{
	assert_parses("A=1\r\nB='2'\r\nC=\"3\"\r\n\r\n# c\r\n", "A=1\nB=2\nC=3\n");
}

static void test_dotenv_malformed(void **state)
{
	assert_parses("=foo\n", "ERR:line 1: expected a variable name");
	assert_parses("A=1\n\nFOO bar\n", "ERR:line 3: expected '=' after the variable name");
	assert_parses("A=1\nB\n", "ERR:line 2: expected '=' after the variable name");
	assert_parses("A=1\n$X=2\n", "ERR:line 2: expected a variable name");
	assert_parses("X=\"abc\n\n", "ERR:line 1: unterminated double-quoted value");
	assert_parses("A=1\nX='abc\n", "ERR:line 2: unterminated single-quoted value");
	assert_parses("X=\"abc\" junk\n", "ERR:line 1: unexpected text after closing quote");
	assert_parses("X=\"a\nb\" junk\n", "ERR:line 2: unexpected text after closing quote");
	assert_parses("X=\"a\\\"\n", "ERR:line 1: unterminated double-quoted value");
}

static void test_dotenv_error_hides_text(void **state)
{
	char *got = parse("OK=1\nsk-live-SECRETVALUE123\n");

	assert_string_equal(got, "ERR:line 2: expected '=' after the variable name");
	assert_null(strstr(got, "SECRET"));
	free(got);
}

static void test_dotenv_nul_byte(void **state)
{
	static const char text[] = "A=x\0y\n";
	struct buf b;
	char err[128];

	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(env_parse_dotenv(text, sizeof(text) - 1, collect, &b, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "line 1: NUL byte in value");
	buf_release(&b);
}

static int stop_at_b(const char *key, const char *value, void *arg)
{
	int *seen = arg;

	(*seen)++;
	return strcmp(key, "B") == 0 ? 42 : 0;
}

static void test_dotenv_callback_stops(void **state)
{
	const char *text = "A=1\nB=2\nC=3\n";
	char err[128];
	int seen = 0;

	assert_int_equal(env_parse_dotenv(text, strlen(text), stop_at_b, &seen, err, sizeof(err)),
			 42);
	assert_int_equal(seen, 2);
}

static void test_dotenv_len_bounds(void **state)
{
	/* Only `len` bytes are parsed, even when the buffer goes on. */
	const char *text = "A=12345\nB=6";
	struct buf b;
	char err[128];

	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(env_parse_dotenv(text, 5, collect, &b, err, sizeof(err)), 0);
	assert_string_equal(b.p, "A=123\n");
	buf_release(&b);
}

static void test_dotenv_load(void **state)
{
	char err[256];
	char *p1, *p2;

	setenv("PT_EXIST", "proc", 1);
	setenv("PT_EMPTY_EXIST", "", 1);
	unsetenv("PT_NEW");
	unsetenv("PT_DUP");
	unsetenv("PT_SECOND");
	p1 = write_tmp("one.env", "PT_NEW=fromfile\nPT_EXIST=fromfile\nPT_EMPTY_EXIST=x\n"
				  "PT_DUP=first\nexport PT_DUP=\"second\"\n");
	p2 = write_tmp("two.env", "PT_NEW=later\nPT_SECOND=two\nPT_LATIN1=caf\xe9\n");

	assert_int_equal(env_load_dotenv(p1, err, sizeof(err)), 2);
	assert_string_equal(getenv("PT_NEW"), "fromfile");
	assert_string_equal(getenv("PT_EXIST"), "proc");   /* process env wins */
	assert_string_equal(getenv("PT_EMPTY_EXIST"), ""); /* even when empty */
	assert_string_equal(getenv("PT_DUP"), "second");   /* last in a file wins */

	/* A later file never overrides an earlier one. */
	unsetenv("PT_LATIN1");
	assert_int_equal(env_load_dotenv(p2, err, sizeof(err)), 2);
	assert_string_equal(getenv("PT_NEW"), "fromfile");
	assert_string_equal(getenv("PT_SECOND"), "two");
	assert_string_equal(getenv("PT_LATIN1"), "caf\xe9"); /* bytes, not UTF-8 */
	free(p1);
	free(p2);
}

static void test_dotenv_load_missing_and_bad(void **state)
{
	char err[256];
	char *missing = xasprintf("%s/nope.env", tmpdir);
	char *bad = write_tmp("bad.env", "PT_OK_BEFORE_BAD=1\nnot a line\n");

	assert_int_equal(env_load_dotenv(missing, err, sizeof(err)), 0);
	unsetenv("PT_OK_BEFORE_BAD");
	assert_int_equal(env_load_dotenv(bad, err, sizeof(err)), -1);
	assert_string_equal(err, "line 2: expected '=' after the variable name");
	/* Nothing from a malformed file is applied. */
	assert_null(getenv("PT_OK_BEFORE_BAD"));
	assert_int_equal(env_load_dotenv(tmpdir, err, sizeof(err)), -1); /* a directory */
	assert_string_equal(err, strerror(EISDIR));
	free(missing);
	free(bad);
}

/* ------------------------------------------------------- substitution */

#define assert_subst(in, expect)                                                                   \
	do {                                                                                       \
		char *out_ = NULL, miss_[129];                                                     \
		assert_int_equal(env_substitute_str(in, &out_, miss_, sizeof(miss_)), 0);          \
		assert_string_equal(out_, expect);                                                 \
		free(out_);                                                                        \
	} while (0)

#define assert_subst_missing(in, name)                                                             \
	do {                                                                                       \
		char *out_ = (char *)1, miss_[129];                                                \
		assert_int_equal(env_substitute_str(in, &out_, miss_, sizeof(miss_)), -1);         \
		assert_null(out_);                                                                 \
		assert_string_equal(miss_, name);                                                  \
	} while (0)

static void test_subst_str(void **state)
{
	setenv("PT_A", "alpha", 1);
	setenv("PT_B", "beta", 1);
	setenv("_PT_U", "under", 1);
	setenv("PT_NEST", "${PT_A}", 1);
	setenv("PT_DOLLAR", "$${PT_A}", 1);

	assert_subst("", "");
	assert_subst("plain", "plain");
	assert_subst("${PT_A}", "alpha");
	assert_subst("x-${PT_A}-${PT_B}-y", "x-alpha-beta-y");
	assert_subst("${PT_A}${PT_A}", "alphaalpha");
	assert_subst("${_PT_U}", "under");
	/* Not recursive: inserted text is never scanned again. */
	assert_subst("${PT_NEST}", "${PT_A}");
	assert_subst("${PT_DOLLAR}", "$${PT_A}");
}

static void test_subst_escape(void **state)
{
	setenv("PT_A", "alpha", 1);
	unsetenv("PT_UNSET");
	assert_subst("$${PT_A}", "${PT_A}");
	assert_subst("$${PT_UNSET}", "${PT_UNSET}"); /* escaped: not looked up */
	assert_subst("a$${PT_A}b${PT_A}", "a${PT_A}balpha");
	assert_subst("$$${PT_A}", "$${PT_A}");
	assert_subst("$$", "$$");
	assert_subst("$${lower}", "$${lower}"); /* not a valid name: left alone */
}

static void test_subst_left_alone(void **state)
{
	assert_subst("${lower}", "${lower}");
	assert_subst("${Mixed}", "${Mixed}");
	assert_subst("${}", "${}");
	assert_subst("${1ABC}", "${1ABC}");
	assert_subst("${A-B}", "${A-B}");
	assert_subst("${A B}", "${A B}");
	assert_subst("${PT_A", "${PT_A");
	assert_subst("$PT_A", "$PT_A");
	assert_subst("$", "$");
	assert_subst("cost: $5", "cost: $5");
	assert_subst("{PT_A}", "{PT_A}");
	/* Only the first '}' closes: "${a}${PT_A}" → first ref invalid, second fine. */
	setenv("PT_A", "alpha", 1);
	assert_subst("${a}${PT_A}", "${a}alpha");
}

static void test_subst_missing_and_empty(void **state)
{
	unsetenv("PT_UNSET");
	setenv("PT_EMPTY", "", 1);
	setenv("PT_A", "alpha", 1);
	assert_subst_missing("${PT_UNSET}", "PT_UNSET");
	assert_subst_missing("${PT_EMPTY}", "PT_EMPTY");
	assert_subst_missing("${PT_A}-${PT_UNSET}", "PT_UNSET");
}

static void test_subst_missing_name_truncated(void **state)
{
	char name[300], in[320], miss[129], *out;

	memset(name, 'Q', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(in, sizeof(in), "${%s}", name);
	assert_int_equal(env_substitute_str(in, &out, miss, sizeof(miss)), -1);
	assert_int_equal(strlen(miss), 128);
}

static void test_subst_too_long(void **state)
{
	size_t big = 1024 * 1024;
	char *val = xmalloc(big + 1), *in, *out, miss[129];
	struct buf b;

	memset(val, 'v', big);
	val[big] = '\0';
	setenv("PT_BIG", val, 1);
	buf_init(&b, BUF_UNLIMITED);
	for (int i = 0; i < 20; i++)
		buf_puts(&b, "${PT_BIG}");
	in = b.p;
	assert_int_equal(env_substitute_str(in, &out, miss, sizeof(miss)), -1);
	assert_string_equal(miss, "PT_BIG");
	unsetenv("PT_BIG");
	buf_release(&b);
	free(val);
}

static json_t *load(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);

	assert_non_null(v);
	return v;
}

static void test_subst_tree(void **state)
{
	json_t *root, *expect;
	struct buf errs;

	setenv("PT_A", "alpha", 1);
	root = load("{\"a\": {\"b\": \"${PT_A}\", \"list\": [\"${PT_A}!\", 1, true, null,"
		    " {\"c\": \"$${PT_A}\"}, [\"${PT_A}\"]]},"
		    " \"${PT_A}\": \"key untouched\", \"n\": 1.5, \"low\": \"${lower}\"}");
	expect = load("{\"a\": {\"b\": \"alpha\", \"list\": [\"alpha!\", 1, true, null,"
		      " {\"c\": \"${PT_A}\"}, [\"alpha\"]]},"
		      " \"${PT_A}\": \"key untouched\", \"n\": 1.5, \"low\": \"${lower}\"}");
	buf_init(&errs, BUF_UNLIMITED);
	assert_int_equal(env_substitute(root, NULL, &errs), 0);
	assert_string_equal(errs.p, "");
	assert_true(json_equal(root, expect));
	json_decref(root);
	json_decref(expect);
	buf_release(&errs);
}

static void test_subst_tree_errors(void **state)
{
	json_t *root;
	struct buf errs;

	unsetenv("PT_UNSET");
	unsetenv("PT_UNSET2");
	setenv("PT_EMPTY", "", 1);
	setenv("PT_A", "alpha", 1);
	root = load("{\"models\": {\"providers\": {\"my.prov\": {\"apiKey\": \"${PT_UNSET}\"}}},"
		    " \"list\": [\"ok\", \"${PT_EMPTY}\"], \"good\": \"${PT_A}\","
		    " \"two\": \"${PT_UNSET2}${PT_UNSET}\"}");
	buf_init(&errs, BUF_UNLIMITED);
	assert_int_equal(env_substitute(root, NULL, &errs), -1);
	assert_string_equal(errs.p,
			    "models.providers[\"my.prov\"].apiKey: environment variable PT_UNSET "
			    "is not set\n"
			    "list[1]: environment variable PT_EMPTY is not set\n"
			    "two: environment variable PT_UNSET2 is not set\n");
	/* The rest of the tree is still substituted; failures stay as written. */
	assert_string_equal(json_string_value(json_object_get(root, "good")), "alpha");
	assert_string_equal(json_string_value(json_object_get(root, "two")),
			    "${PT_UNSET2}${PT_UNSET}");
	json_decref(root);
	buf_release(&errs);
}

static void test_subst_positions(void **state)
{
	static const char text[] = "{\n"
				   "  // comment\n"
				   "  gateway: {\n"
				   "    token: '${PT_UNSET}',\n"
				   "  },\n"
				   "  list: ['x', \"${PT_UNSET}\"],\n"
				   "}\n";
	struct json5_posmap pm = { 0 };
	struct json5_error jerr;
	struct buf errs;
	json_t *root;

	unsetenv("PT_UNSET");
	root = json5_parse(text, sizeof(text) - 1, "cfg.json5", &pm, &jerr);
	assert_non_null(root);
	buf_init(&errs, BUF_UNLIMITED);
	assert_int_equal(env_substitute(root, &pm, &errs), -1);
	assert_string_equal(errs.p, "cfg.json5:4:5: gateway.token: environment variable "
				    "PT_UNSET is not set\n"
				    "cfg.json5:6:15: list[1]: environment variable PT_UNSET "
				    "is not set\n");
	json_decref(root);
	json5_posmap_release(&pm);
	buf_release(&errs);
}

static void test_subst_positions_manual(void **state)
{
	struct json5_pos pos[] = {
		{ .path = "a", .file = NULL, .line = 3, .col = 7 },
	};
	struct json5_posmap pm = { .v = pos, .n = 1, .alloc = 1 };
	struct buf errs;
	json_t *root = load("{\"a\": \"${PT_UNSET}\", \"b\": \"${PT_UNSET}\"}");

	unsetenv("PT_UNSET");
	buf_init(&errs, BUF_UNLIMITED);
	assert_int_equal(env_substitute(root, &pm, &errs), -1);
	/* No file name: just line:col; no entry at all: no prefix. */
	assert_string_equal(errs.p, "3:7: a: environment variable PT_UNSET is not set\n"
				    "b: environment variable PT_UNSET is not set\n");
	json_decref(root);
	buf_release(&errs);
}

static void test_subst_string_with_nul(void **state)
{
	json_t *root = json_object();
	struct buf errs;

	setenv("PT_A", "alpha", 1);
	json_object_set_new(root, "s", json_stringn("${PT_A}\0${PT_A}", 15));
	buf_init(&errs, BUF_UNLIMITED);
	assert_int_equal(env_substitute(root, NULL, &errs), 0);
	assert_int_equal(json_string_length(json_object_get(root, "s")), 11);
	assert_memory_equal(json_string_value(json_object_get(root, "s")), "alpha\0alpha", 11);
	json_decref(root);
	buf_release(&errs);
}

static void test_subst_bad_utf8(void **state)
{
	json_t *root = load("{\"s\": \"${PT_LATIN1}\"}");
	struct buf errs;

	setenv("PT_LATIN1", "caf\xe9", 1);
	buf_init(&errs, BUF_UNLIMITED);
	assert_int_equal(env_substitute(root, NULL, &errs), -1);
	assert_string_equal(errs.p, "s: value is not valid UTF-8 after substitution\n");
	assert_string_equal(json_string_value(json_object_get(root, "s")), "${PT_LATIN1}");
	json_decref(root);
	buf_release(&errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dotenv_basic),
		cmocka_unit_test(test_dotenv_export),
		cmocka_unit_test(test_dotenv_comments),
		cmocka_unit_test(test_dotenv_quotes),
		cmocka_unit_test(test_dotenv_multiline),
		cmocka_unit_test(test_dotenv_crlf),
		cmocka_unit_test(test_dotenv_malformed),
		cmocka_unit_test(test_dotenv_error_hides_text),
		cmocka_unit_test(test_dotenv_nul_byte),
		cmocka_unit_test(test_dotenv_callback_stops),
		cmocka_unit_test(test_dotenv_len_bounds),
		cmocka_unit_test(test_dotenv_load),
		cmocka_unit_test(test_dotenv_load_missing_and_bad),
		cmocka_unit_test(test_subst_str),
		cmocka_unit_test(test_subst_escape),
		cmocka_unit_test(test_subst_left_alone),
		cmocka_unit_test(test_subst_missing_and_empty),
		cmocka_unit_test(test_subst_missing_name_truncated),
		cmocka_unit_test(test_subst_too_long),
		cmocka_unit_test(test_subst_tree),
		cmocka_unit_test(test_subst_tree_errors),
		cmocka_unit_test(test_subst_positions),
		cmocka_unit_test(test_subst_positions_manual),
		cmocka_unit_test(test_subst_string_with_nul),
		cmocka_unit_test(test_subst_bad_utf8),
	};

	return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
