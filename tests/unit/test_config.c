/*
 * test_config.c - loading the config file (src/config/config.c): JSON5,
 * $include, ${VAR}, env.vars, validation, getters and positions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/paths.h"
#include "config/schema.h"
#include "core/buf.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/mem.h"

/* ------------------------------------------------------------ helpers */

static char tmpdir[PATH_MAX];

static int setup_tmpdir(void **state)
{
	assert_int_equal(tu_mkdtemp(tmpdir, sizeof(tmpdir), "config"), 0);
	return 0;
}

static int teardown_tmpdir(void **state)
{
	assert_int_equal(tu_rm_rf(tmpdir), 0);
	return 0;
}

/* Absolute path of `name` in the test's directory. New string. */
static char *tpath(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

/* Write `content` to `name` (creating parent dirs); returns its absolute path. */
static char *write_tmp(const char *name, const char *content)
{
	char *path = tpath(name);
	char *slash = strrchr(path, '/');
	FILE *f;

	*slash = '\0';
	if (strcmp(path, tmpdir)) {
		char *cmd = xasprintf("mkdir -p '%s'", path);

		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
	*slash = '/';
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* A loaded config plus its error text, freed together. */
struct loaded {
	struct config cfg;
	struct buf errs;
	char *path;
	int rc;
};

static void load(struct loaded *l, const char *name)
{
	config_init(&l->cfg);
	buf_init(&l->errs, BUF_UNLIMITED);
	l->path = tpath(name);
	l->rc = config_load(&l->cfg, l->path, &l->errs);
}

static void unload(struct loaded *l)
{
	config_release(&l->cfg);
	buf_release(&l->errs);
	free(l->path);
}

/* Load `name`, which must succeed. */
static void load_ok(struct loaded *l, const char *name)
{
	load(l, name);
	if (l->rc != 0 || l->errs.len) {
		print_error("config_load(%s) = %d:\n%s", name, l->rc, l->errs.p);
		unload(l);
		fail();
	}
	assert_non_null(l->cfg.root);
}

/* Load `name`, which must fail; the error text is in l->errs. */
static void load_fail(struct loaded *l, const char *name)
{
	load(l, name);
	if (l->rc != -1) {
		print_error("config_load(%s) = %d, expected failure\n", name, l->rc);
		unload(l);
		fail();
	}
	assert_null(l->cfg.root);
	assert_true(l->errs.len > 0);
	assert_int_equal(l->errs.p[l->errs.len - 1], '\n');
}

/* The error text must contain each of the NULL-terminated needles; frees l on failure. */
static void assert_errs_have(struct loaded *l, ...)
{
	va_list ap;
	const char *needle;
	bool ok = true;

	va_start(ap, l);
	while ((needle = va_arg(ap, const char *)) != NULL) {
		if (!strstr(l->errs.p, needle)) {
			print_error("errors lack \"%s\":\n%s", needle, l->errs.p);
			ok = false;
		}
	}
	va_end(ap);
	if (!ok) {
		unload(l);
		fail();
	}
}

/* The error text must start with "<tmpdir>/<name>:<line>:<col>: "; frees l on failure. */
static void assert_errs_start(struct loaded *l, const char *name, int line, int col)
{
	char *want = xasprintf("%s/%s:%d:%d: ", tmpdir, name, line, col);
	bool ok = !strncmp(l->errs.p, want, strlen(want));

	if (!ok)
		print_error("errors do not start with \"%s\":\n%s", want, l->errs.p);
	free(want);
	if (!ok) {
		unload(l);
		fail();
	}
}

/* Compare the value at `path` with JSON text `expect`. */
static void assert_value(struct loaded *l, const char *path, const char *expect)
{
	json_t *want = json_loads(expect, JSON_DECODE_ANY, NULL);
	json_t *got = jpath_get(l->cfg.root, path);
	bool same;

	assert_non_null(want);
	same = got && json_equal(got, want);
	json_decref(want);
	if (!same) {
		char *s = got ? json_dump_str(got, JSON_COMPACT) : xstrdup("(absent)");

		print_error("%s = %s, want %s\n", path, s, expect);
		free(s);
		unload(l);
		fail();
	}
}

/* ------------------------------------------------------- basic loads */

static void test_missing_file_gives_defaults(void **state)
{
	struct loaded l;

	load_ok(&l, "does-not-exist.json5");
	assert_false(l.cfg.exists);
	assert_true(json_is_object(l.cfg.root));
	assert_int_equal(json_object_size(l.cfg.root), 0);
	assert_string_equal(l.cfg.path, l.path);
	assert_int_equal(config_get_int(&l.cfg, "gateway.port"), 18789);
	assert_string_equal(config_get_str(&l.cfg, "gateway.bind"), "loopback");
	assert_null(config_where(&l.cfg, "gateway.port"));
	unload(&l);
}

static void test_load_simple(void **state)
{
	struct loaded l;

	free(write_tmp("simple.json5", "// pincer config\n"
				       "{\n"
				       "  gateway: { port: 8080, bind: 'lan', },\n"
				       "  logging: { level: 'debug' },\n"
				       "}\n"));
	load_ok(&l, "simple.json5");
	assert_true(l.cfg.exists);
	assert_value(&l, "gateway.port", "8080");
	assert_value(&l, "gateway.bind", "\"lan\"");
	assert_int_equal(config_get_int(&l.cfg, "gateway.port"), 8080);
	assert_string_equal(config_get_str(&l.cfg, "logging.level"), "debug");
	unload(&l);
}

static void test_syntax_error_position(void **state)
{
	struct loaded l;

	free(write_tmp("syntax.json5", "{\n gateway: {port: 1,,},\n}\n"));
	load_fail(&l, "syntax.json5");
	assert_errs_start(&l, "syntax.json5", 2, 20);
	assert_int_equal(l.errs.p[l.errs.len - 1], '\n');
	unload(&l);

	/* an unterminated file */
	free(write_tmp("unterminated.json5", "{\n  gateway: {\n"));
	load_fail(&l, "unterminated.json5");
	assert_errs_start(&l, "unterminated.json5", 3, 1);
	unload(&l);
}

static void test_root_not_object(void **state)
{
	struct loaded l;

	free(write_tmp("array.json5", "[1, 2]\n"));
	load_fail(&l, "array.json5");
	assert_errs_start(&l, "array.json5", 1, 1);
	assert_errs_have(&l, "must be an object", "array", NULL);
	unload(&l);
}

static void test_too_large(void **state)
{
	struct loaded l;
	char *path = tpath("huge.json5");
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputc('{', f);
	for (size_t i = 0; i < CONFIG_MAX_FILE_BYTES; i++)
		fputc(' ', f);
	fputc('}', f);
	assert_int_equal(fclose(f), 0);
	free(path);
	load_fail(&l, "huge.json5");
	assert_errs_have(&l, "huge.json5", "larger than", NULL);
	unload(&l);
}

static void test_schema_errors_reported_with_positions(void **state)
{
	struct loaded l;

	free(write_tmp("invalid.json5", "{\n"
					"  gateway: {\n"
					"    port: 'eighty',\n"
					"    bnd: 'lan',\n"
					"  },\n"
					"}\n"));
	load_fail(&l, "invalid.json5");
	assert_errs_start(&l, "invalid.json5", 3, 5);
	assert_errs_have(&l, "gateway.port: expected integer, got string\n",
			 ":4:5: gateway.bnd: unknown key; did you mean \"bind\"?\n", NULL);
	unload(&l);
}

/* --------------------------------------------------------- $include */

static void test_include_file(void **state)
{
	struct loaded l;

	free(write_tmp("base.json5", "{ gateway: { port: 1111, bind: 'lan' }, logging: { level: "
				     "'warn' } }\n"));
	free(write_tmp("main.json5", "{\n"
				     "  $include: 'base.json5',\n"
				     "  gateway: { port: 2222 },\n"
				     "}\n"));
	load_ok(&l, "main.json5");
	/* sibling keys override included ones, deeply */
	assert_value(&l, "gateway.port", "2222");
	assert_value(&l, "gateway.bind", "\"lan\"");
	assert_value(&l, "logging.level", "\"warn\"");
	/* $include itself is gone */
	assert_null(jpath_get(l.cfg.root, "$include"));
	unload(&l);
}

static void test_include_list_later_wins(void **state)
{
	struct loaded l;

	free(write_tmp("one.json5", "{ gateway: { port: 1, bind: 'lan' }, logging: { level: 'warn' "
				    "} }"));
	free(write_tmp("two.json5", "{ gateway: { port: 2 }, logging: { file: '/tmp/x.log' } }"));
	free(write_tmp("list.json5", "{ $include: ['one.json5', './two.json5'] }"));
	load_ok(&l, "list.json5");
	assert_value(&l, "gateway.port", "2");
	assert_value(&l, "gateway.bind", "\"lan\"");
	assert_value(&l, "logging.level", "\"warn\"");
	assert_value(&l, "logging.file", "\"/tmp/x.log\"");
	unload(&l);
}

static void test_include_nested_key(void **state)
{
	struct loaded l;

	free(write_tmp("gw.json5", "{ port: 3333 }"));
	free(write_tmp("agent.json5", "{ id: 'from-file', name: 'Agent' }"));
	free(write_tmp("nested.json5",
		       "{\n"
		       "  gateway: { $include: 'gw.json5', bind: 'lan' },\n"
		       "  agents: { list: [ { $include: 'agent.json5', name: 'Own' } ] },\n"
		       "}\n"));
	load_ok(&l, "nested.json5");
	assert_value(&l, "gateway", "{\"port\":3333,\"bind\":\"lan\"}");
	assert_value(&l, "agents.list", "[{\"id\":\"from-file\",\"name\":\"Own\"}]");
	unload(&l);
}

/* A bare {$include} may stand for a value of any kind. */
static void test_include_bare_array(void **state)
{
	struct loaded l;

	free(write_tmp("agents-list.json5", "[ { id: 'a' }, { id: 'b' } ]"));
	free(write_tmp("bare.json5", "{ agents: { list: { $include: 'agents-list.json5' } } }"));
	load_ok(&l, "bare.json5");
	assert_value(&l, "agents.list", "[{\"id\":\"a\"},{\"id\":\"b\"}]");
	unload(&l);
}

/*
 * ...including when the included file is itself only a bare $include: the
 * value it stands for must come through, not the emptied wrapper object.
 */
static void test_include_bare_array_through_wrapper(void **state)
{
	struct loaded l;

	free(write_tmp("real-list.json5", "[ { id: 'a' } ]"));
	free(write_tmp("wrapper.json5", "{ $include: 'real-list.json5' }"));
	free(write_tmp("wrapped.json5", "{ agents: { list: { $include: 'wrapper.json5' } } }"));
	load(&l, "wrapped.json5");
	if (l.rc != 0) {
		print_error("%s", l.errs.p);
		unload(&l);
		fail();
	}
	assert_value(&l, "agents.list", "[{\"id\":\"a\"}]");
	unload(&l);
}

/*
 * The main file being a bare $include of a non-object is an error (the
 * config must be an object), not a silently empty config.
 */
static void test_include_root_non_object(void **state)
{
	struct loaded l;

	free(write_tmp("just-array.json5", "[ 1, 2 ]"));
	free(write_tmp("root-array.json5", "{ $include: 'just-array.json5' }"));
	load(&l, "root-array.json5");
	if (l.rc == 0) {
		char *s = json_dump_str(l.cfg.root, JSON_COMPACT);

		print_error("loaded as %s\n", s);
		free(s);
		unload(&l);
		fail();
	}
	assert_errs_have(&l, "array", NULL);
	unload(&l);
}

static void test_include_non_object_with_siblings(void **state)
{
	struct loaded l;

	free(write_tmp("arr.json5", "[1]"));
	free(write_tmp("mixed.json5", "{\n  $include: 'arr.json5',\n  gateway: {},\n}"));
	load_fail(&l, "mixed.json5");
	assert_errs_start(&l, "mixed.json5", 2, 3);
	assert_errs_have(&l, "$include", "arr.json5", "array", NULL);
	unload(&l);
}

static void test_include_nested_files(void **state)
{
	struct loaded l;

	free(write_tmp("n3.json5", "{ gateway: { port: 3 }, logging: { level: 'error' } }"));
	free(write_tmp("n2.json5", "{ $include: 'n3.json5', gateway: { port: 2, bind: 'lan' } }"));
	free(write_tmp("n1.json5", "{ $include: 'n2.json5', gateway: { port: 1 } }"));
	load_ok(&l, "n1.json5");
	/* each including file overrides what it includes */
	assert_value(&l, "gateway.port", "1");
	assert_value(&l, "gateway.bind", "\"lan\"");
	assert_value(&l, "logging.level", "\"error\"");
	unload(&l);
}

/* An include is resolved against the directory of the file that names it. */
static void test_include_relative_to_including_file(void **state)
{
	struct loaded l;

	free(write_tmp("sibling.json5", "{ gateway: { port: 1 } }")); /* decoy */
	free(write_tmp("conf.d/sibling.json5", "{ gateway: { port: 4444 } }"));
	free(write_tmp("conf.d/gateway.json5", "{ $include: 'sibling.json5', gateway: { bind: "
					       "'lan' } }"));
	free(write_tmp("rel.json5", "{ $include: 'conf.d/gateway.json5' }"));
	load_ok(&l, "rel.json5");
	assert_value(&l, "gateway.port", "4444");
	assert_value(&l, "gateway.bind", "\"lan\"");
	unload(&l);

	/* an absolute include works from anywhere */
	{
		char *abs = tpath("conf.d/sibling.json5");
		char *text = xasprintf("{ $include: '%s' }", abs);

		free(write_tmp("conf.d/deeper/abs.json5", text));
		free(text);
		free(abs);
	}
	load_ok(&l, "conf.d/deeper/abs.json5");
	assert_value(&l, "gateway.port", "4444");
	unload(&l);
}

/* A relative main path: includes resolve against its directory, not the cwd's. */
static void test_include_with_relative_main_path(void **state)
{
	struct config cfg;
	struct buf errs;
	char cwd[PATH_MAX];
	int rc;

	free(write_tmp("rp/inc.json5", "{ gateway: { port: 5555 } }"));
	free(write_tmp("rp/main.json5", "{ $include: 'inc.json5' }"));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpdir), 0);
	config_init(&cfg);
	buf_init(&errs, BUF_UNLIMITED);
	rc = config_load(&cfg, "rp/main.json5", &errs);
	assert_int_equal(chdir(cwd), 0);
	if (rc)
		print_error("%s", errs.p);
	assert_int_equal(rc, 0);
	assert_int_equal(config_get_int(&cfg, "gateway.port"), 5555);
	config_release(&cfg);
	buf_release(&errs);
}

static void test_include_cycle(void **state)
{
	struct loaded l;

	free(write_tmp("cyc-a.json5", "{\n  $include: 'cyc-b.json5',\n}\n"));
	free(write_tmp("cyc-b.json5", "{\n  gateway: {},\n  $include: './cyc-a.json5',\n}\n"));
	load_fail(&l, "cyc-a.json5");
	/* reported where the loop closes: cyc-b's $include of cyc-a */
	assert_errs_start(&l, "cyc-b.json5", 3, 3);
	assert_errs_have(&l, "$include", "cycle", "cyc-a.json5", NULL);
	unload(&l);
}

static void test_include_self(void **state)
{
	struct loaded l;

	free(write_tmp("selfinc.json5",
		       "{\n  gateway: { port: 1 },\n  $include: 'selfinc.json5',\n}\n"));
	load_fail(&l, "selfinc.json5");
	assert_errs_start(&l, "selfinc.json5", 3, 3);
	assert_errs_have(&l, "$include", "cycle", "selfinc.json5", NULL);
	unload(&l);
}

/* The same file included twice side by side is not a cycle. */
static void test_include_twice_is_not_a_cycle(void **state)
{
	struct loaded l;

	free(write_tmp("common.json5", "{ port: 7777 }"));
	free(write_tmp("twice.json5", "{ $include: ['common-gw.json5', 'common-gw.json5'] }"));
	free(write_tmp("common-gw.json5", "{ gateway: { $include: 'common.json5' } }"));
	load_ok(&l, "twice.json5");
	assert_value(&l, "gateway.port", "7777");
	unload(&l);
}

static void test_include_too_deep(void **state)
{
	struct loaded l;
	char name[32], text[96];

	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "deep%d.json5", i);
		if (i < 19)
			snprintf(text, sizeof(text), "{ $include: 'deep%d.json5' }", i + 1);
		else
			snprintf(text, sizeof(text), "{ gateway: { port: 9 } }");
		free(write_tmp(name, text));
	}
	load_fail(&l, "deep0.json5");
	assert_errs_have(&l, "$include", "deeper", NULL);
	unload(&l);

	/* a few levels are fine */
	load_ok(&l, "deep16.json5");
	assert_value(&l, "gateway.port", "9");
	unload(&l);
}

static void test_include_missing_file(void **state)
{
	struct loaded l;

	free(write_tmp("needs-missing.json5", "{\n"
					      "  gateway: { port: 2 },\n"
					      "  $include: 'nope.json5',\n"
					      "}\n"));
	load_fail(&l, "needs-missing.json5");
	/* at the $include key of the including file */
	assert_errs_start(&l, "needs-missing.json5", 3, 3);
	assert_errs_have(&l, "$include", "nope.json5", strerror(ENOENT), NULL);
	unload(&l);

	/* the same, one level down and inside a list */
	free(write_tmp("mid.json5", "{\n\n  $include: ['ok.json5', 'gone.json5'],\n}\n"));
	free(write_tmp("ok.json5", "{}"));
	free(write_tmp("top.json5", "{ $include: 'mid.json5' }"));
	load_fail(&l, "top.json5");
	assert_errs_start(&l, "mid.json5", 3, 3);
	assert_errs_have(&l, "gone.json5", NULL);
	unload(&l);
}

static void test_include_bad_kinds(void **state)
{
	struct loaded l;

	free(write_tmp("badkind.json5", "{\n  gateway: { $include: 5 },\n}\n"));
	load_fail(&l, "badkind.json5");
	assert_errs_start(&l, "badkind.json5", 2, 14);
	assert_errs_have(&l, "gateway.$include", "integer", NULL);
	unload(&l);

	free(write_tmp("badentry.json5", "{\n  $include: [true],\n}\n"));
	load_fail(&l, "badentry.json5");
	assert_errs_start(&l, "badentry.json5", 2, 3);
	assert_errs_have(&l, "$include", "boolean", NULL);
	unload(&l);
}

/* Problems inside an included file are reported at that file's own lines. */
static void test_include_error_positions_name_included_file(void **state)
{
	struct loaded l;

	free(write_tmp("inc/gw.json5", "{\n"
				       "  // the gateway\n"
				       "  gateway: {\n"
				       "    port: 'x',\n"
				       "  },\n"
				       "}\n"));
	free(write_tmp("incpos.json5", "{\n  $include: 'inc/gw.json5',\n}\n"));
	load_fail(&l, "incpos.json5");
	assert_errs_start(&l, "inc/gw.json5", 4, 5);
	assert_errs_have(&l, "gateway.port: expected integer, got string", NULL);
	unload(&l);

	/* a syntax error in an included file */
	free(write_tmp("inc/broken.json5",
		       "{\n  gateway: {\n    port: 1\n    bind: 'lan',\n  }\n}\n"));
	free(write_tmp("incsyntax.json5", "{ $include: 'inc/broken.json5' }"));
	load_fail(&l, "incsyntax.json5");
	assert_errs_start(&l, "inc/broken.json5", 4, 5);
	unload(&l);

	/* included under a key: the path is the full config path */
	free(write_tmp("inc/port.json5", "{\n\n  port: true,\n}\n"));
	free(write_tmp("incunder.json5", "{ gateway: { $include: 'inc/port.json5' } }"));
	load_fail(&l, "incunder.json5");
	assert_errs_start(&l, "inc/port.json5", 3, 3);
	assert_errs_have(&l, "gateway.port: expected integer, got boolean", NULL);
	unload(&l);
}

static void test_where(void **state)
{
	struct loaded l;
	char *want;

	free(write_tmp("where/inc.json5", "{\n  logging: {\n    level: 'warn',\n  },\n}\n"));
	free(write_tmp("where/main.json5", "{\n"
					   "  $include: 'inc.json5',\n"
					   "  gateway: {\n"
					   "      port: 1234,\n"
					   "  },\n"
					   "}\n"));
	load_ok(&l, "where/main.json5");
	want = xasprintf("%s/where/main.json5:4:7", tmpdir);
	assert_string_equal(config_where(&l.cfg, "gateway.port"), want);
	free(want);
	want = xasprintf("%s/where/inc.json5:3:5", tmpdir);
	assert_string_equal(config_where(&l.cfg, "logging.level"), want);
	free(want);
	assert_null(config_where(&l.cfg, "gateway.bind"));
	assert_null(config_where(&l.cfg, "nope"));
	unload(&l);
}

/* ------------------------------------------------------ ${VAR}, env */

static void test_env_substitution(void **state)
{
	struct loaded l;

	setenv("PINCER_UT_CFG_BIND", "lan", 1);
	setenv("PINCER_UT_CFG_DIR", "/var/log/pincer", 1);
	free(write_tmp("subst.json5",
		       "{\n"
		       "  gateway: { bind: '${PINCER_UT_CFG_BIND}' },\n"
		       "  logging: { file: '${PINCER_UT_CFG_DIR}/gw-${PINCER_UT_CFG_BIND}.log'"
		       " },\n"
		       "  agents: { list: [ { id: 'x', name: 'literal $${PINCER_UT_CFG_BIND}' } "
		       "] },\n"
		       "}\n"));
	load_ok(&l, "subst.json5");
	assert_value(&l, "gateway.bind", "\"lan\"");
	assert_value(&l, "logging.file", "\"/var/log/pincer/gw-lan.log\"");
	assert_value(&l, "agents.list[0].name", "\"literal ${PINCER_UT_CFG_BIND}\"");
	unload(&l);

	/* substituted values are validated like written ones */
	setenv("PINCER_UT_CFG_BIND", "everywhere", 1);
	load_fail(&l, "subst.json5");
	assert_errs_start(&l, "subst.json5", 2, 14);
	assert_errs_have(&l, "gateway.bind: invalid value \"everywhere\"", NULL);
	unload(&l);
	unsetenv("PINCER_UT_CFG_BIND");
	unsetenv("PINCER_UT_CFG_DIR");
}

static void test_env_missing_var(void **state)
{
	struct loaded l;

	unsetenv("PINCER_UT_CFG_MISSING");
	free(write_tmp("missingvar.json5", "{\n"
					   "  logging: {\n"
					   "    file: '/x/${PINCER_UT_CFG_MISSING}',\n"
					   "  },\n"
					   "}\n"));
	load_fail(&l, "missingvar.json5");
	assert_errs_start(&l, "missingvar.json5", 3, 5);
	assert_errs_have(&l, "logging.file", "PINCER_UT_CFG_MISSING", NULL);
	unload(&l);

	/* inside an included file: that file's name and line */
	free(write_tmp("inc/var.json5",
		       "{\n  logging: { file: '${PINCER_UT_CFG_MISSING}' },\n}\n"));
	free(write_tmp("missingvar2.json5", "{ $include: 'inc/var.json5' }"));
	load_fail(&l, "missingvar2.json5");
	assert_errs_start(&l, "inc/var.json5", 2, 14);
	assert_errs_have(&l, "PINCER_UT_CFG_MISSING", NULL);
	unload(&l);
}

static void test_env_vars_exported(void **state)
{
	struct loaded l;

	unsetenv("PINCER_UT_CFG_NEW");
	setenv("PINCER_UT_CFG_EXISTING", "from-process", 1);
	free(write_tmp("envvars.json5",
		       "{\n"
		       "  env: { vars: {\n"
		       "    PINCER_UT_CFG_NEW: 'from-config',\n"
		       "    PINCER_UT_CFG_EXISTING: 'from-config',\n"
		       "  } },\n"
		       "  logging: { file: '/l/${PINCER_UT_CFG_NEW}/${PINCER_UT_CFG_EXISTING}' "
		       "},\n"
		       "}\n"));
	load_ok(&l, "envvars.json5");
	assert_non_null(getenv("PINCER_UT_CFG_NEW"));
	assert_string_equal(getenv("PINCER_UT_CFG_NEW"), "from-config");
	/* never overriding the process environment */
	assert_string_equal(getenv("PINCER_UT_CFG_EXISTING"), "from-process");
	/* and usable by ${VAR} in the same config */
	assert_value(&l, "logging.file", "\"/l/from-config/from-process\"");
	unload(&l);
	unsetenv("PINCER_UT_CFG_NEW");
	unsetenv("PINCER_UT_CFG_EXISTING");
}

/* -------------------------------------------------------- getters */

static void test_getters_fall_back_to_defaults(void **state)
{
	struct loaded l;

	free(write_tmp("getters.json5",
		       "{\n"
		       "  gateway: { port: 9000, auth: { rateLimit: { exemptLoopback: false,"
		       " windowMs: 1.5 } } },\n"
		       "  wizard: { s: 'str', n: 5, r: 2.5 },\n"
		       "}\n"));
	load_ok(&l, "getters.json5");
	/* configured */
	assert_int_equal(config_get_int(&l.cfg, "gateway.port"), 9000);
	assert_false(config_get_bool(&l.cfg, "gateway.auth.rateLimit.exemptLoopback"));
	assert_true(config_get_num(&l.cfg, "gateway.auth.rateLimit.windowMs") == 1.5);
	assert_string_equal(config_get_str(&l.cfg, "wizard.s"), "str");
	assert_int_equal(config_get_int(&l.cfg, "wizard.n"), 5);
	assert_int_equal(config_get_int(&l.cfg, "wizard.r"), 2); /* a real, truncated */
	assert_true(config_get_num(&l.cfg, "wizard.n") == 5.0);
	/* defaults */
	assert_string_equal(config_get_str(&l.cfg, "gateway.bind"), "loopback");
	assert_string_equal(config_get_str(&l.cfg, "gateway.mode"), "local");
	assert_true(config_get_num(&l.cfg, "gateway.auth.rateLimit.lockoutMs") == 300000.0);
	assert_int_equal(config_get_int(&l.cfg, "gateway.auth.rateLimit.maxAttempts"), 10);
	assert_ptr_equal(config_get(&l.cfg, "gateway.bind"), schema_default("gateway.bind"));
	/* neither configured nor defaulted */
	assert_null(config_get(&l.cfg, "gateway.remote.url"));
	assert_null(config_get_str(&l.cfg, "gateway.remote.url"));
	assert_int_equal(config_get_int(&l.cfg, "gateway.remote.remotePort"), 0);
	assert_false(config_get_bool(&l.cfg, "gateway.tls.enabled"));
	assert_null(config_get(&l.cfg, "no.such.key"));
	assert_null(config_get(&l.cfg, "bad..path"));
	/* of another type: zero values */
	assert_null(config_get_str(&l.cfg, "gateway.port"));
	assert_int_equal(config_get_int(&l.cfg, "wizard.s"), 0);
	assert_false(config_get_bool(&l.cfg, "wizard.s"));
	assert_true(config_get_num(&l.cfg, "wizard.s") == 0.0);
	/* objects */
	assert_true(json_is_object(config_get(&l.cfg, "gateway")));
	unload(&l);

	/* a config that failed to load still answers with defaults */
	free(write_tmp("broken.json5", "{"));
	load_fail(&l, "broken.json5");
	assert_int_equal(config_get_int(&l.cfg, "gateway.port"), 18789);
	assert_true(config_get_bool(&l.cfg, "gateway.auth.rateLimit.exemptLoopback"));
	unload(&l);
}

static void test_get_secret(void **state)
{
	struct loaded l;
	char *out = (char *)0x1, err[256];

	setenv("PINCER_UT_CFG_TOKEN", "env-token-value-123", 1);
	free(write_tmp("secret.json5",
		       "{\n"
		       "  gateway: {\n"
		       "    auth: { token: 'plain-token-value-456' },\n"
		       "    remote: { token: { source: 'env', provider: 'default', id: "
		       "'PINCER_UT_CFG_TOKEN' },\n"
		       "              password: { source: 'env', id: 'PINCER_UT_CFG_UNSET' } },\n"
		       "  },\n"
		       "  models: { providers: { p: { apiKey: '' } } },\n"
		       "}\n"));
	unsetenv("PINCER_UT_CFG_UNSET");
	load_ok(&l, "secret.json5");

	/* a plain string */
	assert_int_equal(config_get_secret(&l.cfg, "gateway.auth.token", &out, err, sizeof(err)),
			 1);
	assert_string_equal(out, "plain-token-value-456");
	free(out);
	/* an env SecretRef */
	out = (char *)0x1;
	assert_int_equal(config_get_secret(&l.cfg, "gateway.remote.token", &out, err, sizeof(err)),
			 1);
	assert_string_equal(out, "env-token-value-123");
	free(out);
	/* unset, empty: 0 and no string */
	out = (char *)0x1;
	assert_int_equal(config_get_secret(&l.cfg, "gateway.auth.password", &out, err, sizeof(err)),
			 0);
	assert_null(out);
	out = (char *)0x1;
	assert_int_equal(
		config_get_secret(&l.cfg, "models.providers.p.apiKey", &out, err, sizeof(err)), 0);
	assert_null(out);
	/* a SecretRef to a missing variable: -1 naming it */
	out = (char *)0x1;
	err[0] = '\0';
	assert_int_equal(
		config_get_secret(&l.cfg, "gateway.remote.password", &out, err, sizeof(err)), -1);
	assert_null(out);
	assert_non_null(strstr(err, "PINCER_UT_CFG_UNSET"));
	unload(&l);
	unsetenv("PINCER_UT_CFG_TOKEN");
}

/* ------------------------------------------------------- read_raw */

static void test_read_raw(void **state)
{
	struct buf errs;
	json_t *raw;
	char *path;

	unsetenv("PINCER_UT_CFG_RAW");
	free(write_tmp("raw-inc.json5", "{ gateway: { port: 1 } }"));
	path = write_tmp("raw.json5", "{\n"
				      "  $include: 'raw-inc.json5',\n"
				      "  logging: { file: '${PINCER_UT_CFG_RAW}' },\n"
				      "  gateway: { bnd: 'not validated' },\n"
				      "}\n");
	buf_init(&errs, BUF_UNLIMITED);
	raw = config_read_raw(path, &errs);
	assert_non_null(raw);
	assert_string_equal(errs.p, "");
	assert_string_equal(json_string_value(json_object_get(raw, "$include")), "raw-inc.json5");
	assert_string_equal(json_string_value(jpath_get(raw, "logging.file")),
			    "${PINCER_UT_CFG_RAW}");
	assert_string_equal(json_string_value(jpath_get(raw, "gateway.bnd")), "not validated");
	assert_null(jpath_get(raw, "gateway.port"));
	json_decref(raw);
	free(path);

	/* missing: an empty object */
	path = tpath("raw-missing.json5");
	raw = config_read_raw(path, &errs);
	assert_true(json_is_object(raw));
	assert_int_equal(json_object_size(raw), 0);
	assert_string_equal(errs.p, "");
	json_decref(raw);
	free(path);

	/* syntax error: NULL with file:line:col */
	path = write_tmp("raw-bad.json5", "{\n  a: ,\n}");
	raw = config_read_raw(path, &errs);
	assert_null(raw);
	{
		char *want = xasprintf("%s:2:", path);

		assert_true(!strncmp(errs.p, want, strlen(want)));
		free(want);
	}
	buf_reset(&errs);
	free(path);

	/* not an object */
	path = write_tmp("raw-arr.json5", "[]");
	raw = config_read_raw(path, &errs);
	assert_null(raw);
	assert_non_null(strstr(errs.p, "must be an object"));
	free(path);
	buf_release(&errs);
}

/* The hash covers the main file and every include, and is set even when the load fails. */
static void test_hash_and_text(void **state)
{
	struct loaded l;
	char h1[CONFIG_HASH_HEX + 1], h2[CONFIG_HASH_HEX + 1], h3[CONFIG_HASH_HEX + 1];
	char hmissing[CONFIG_HASH_HEX + 1];

	load_ok(&l, "absent.json5");
	assert_int_equal(strlen(l.cfg.hash), CONFIG_HASH_HEX);
	assert_null(l.cfg.text);
	memcpy(hmissing, l.cfg.hash, sizeof(hmissing));
	unload(&l);

	free(write_tmp("inc.json5", "{ port: 1 }"));
	free(write_tmp("main.json5", "// hi\n{ gateway: { $include: './inc.json5' } }\n"));
	load_ok(&l, "main.json5");
	assert_string_equal(l.cfg.text, "// hi\n{ gateway: { $include: './inc.json5' } }\n");
	assert_int_equal(l.cfg.text_len, strlen(l.cfg.text));
	memcpy(h1, l.cfg.hash, sizeof(h1));
	assert_string_not_equal(h1, hmissing);
	unload(&l);

	/* same content: same hash */
	load_ok(&l, "main.json5");
	assert_string_equal(l.cfg.hash, h1);
	unload(&l);

	/* an include changes: the hash changes, the main text does not */
	free(write_tmp("inc.json5", "{ port: 2 }"));
	load_ok(&l, "main.json5");
	memcpy(h2, l.cfg.hash, sizeof(h2));
	assert_string_not_equal(h2, h1);
	unload(&l);

	/* an invalid file still has its hash and text */
	free(write_tmp("main.json5", "{ gateway: { bnd: 1 } }"));
	load_fail(&l, "main.json5");
	memcpy(h3, l.cfg.hash, sizeof(h3));
	assert_int_equal(strlen(h3), CONFIG_HASH_HEX);
	assert_string_not_equal(h3, h2);
	assert_string_equal(l.cfg.text, "{ gateway: { bnd: 1 } }");
	unload(&l);
}

static void test_write_file(void **state)
{
	struct paths p = { .state_dir = tpath("state"), .config_path = tpath("state/pincer.json") };
	json_t *tree = json_pack("{s:{s:i}}", "gateway", "port", 1234);
	struct loaded l;
	struct stat st;
	char err[256];

	assert_int_equal(config_write_file(&p, tree, err, sizeof(err)), 0);
	assert_int_equal(stat(p.config_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(p.state_dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	load_ok(&l, "state/pincer.json");
	assert_true(json_equal(l.cfg.root, tree));
	assert_int_equal(l.cfg.text[l.cfg.text_len - 1], '\n');
	unload(&l);

	/* a directory that cannot be made */
	free(p.config_path);
	p.config_path = tpath("absent.json5/sub/pincer.json");
	free(write_tmp("absent.json5", "{}"));
	assert_int_equal(config_write_file(&p, tree, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot create"));
	json_decref(tree);
	free(p.state_dir);
	free(p.config_path);
}

/* A candidate tree: positions from its own text, ${VAR}s checked, env.vars counted but not kept. */
static void test_check_candidate(void **state)
{
	const char *text =
		"{\n  gateway: { bnd: 1 },\n  logging: { file: '${PINCER_UT_CAND}' },\n}";
	struct json5_posmap pm = { 0 };
	struct json5_error jerr;
	json_t *tree = json5_parse(text, strlen(text), NULL, &pm, &jerr);
	char *path = tpath("pincer.json");
	struct buf errs;

	assert_non_null(tree);
	unsetenv("PINCER_UT_CAND");
	buf_init(&errs, BUF_UNLIMITED);
	assert_int_equal(config_check_candidate(path, tree, &pm, true, &errs), 2);
	if (!strstr(errs.p, "2:14: gateway.bnd: unknown key"))
		fail_msg("%s", errs.p);
	assert_non_null(strstr(errs.p, "PINCER_UT_CAND"));
	/* without substitution only the schema speaks, and without pm no positions */
	buf_reset(&errs);
	assert_int_equal(config_check_candidate(path, tree, NULL, false, &errs), 1);
	assert_true(!strncmp(errs.p, "gateway.bnd: unknown key", 24));
	json_decref(tree);
	json5_posmap_release(&pm);

	/* the tree's own env.vars count, and are not left behind */
	tree = json_pack("{s:{s:s}, s:{s:{s:s}}}", "logging", "file", "${PINCER_UT_CAND}", "env",
			 "vars", "PINCER_UT_CAND", "/tmp/x.log");
	buf_reset(&errs);
	assert_int_equal(config_check_candidate(path, tree, NULL, true, &errs), 0);
	assert_null(getenv("PINCER_UT_CAND"));
	json_decref(tree);
	buf_release(&errs);
	free(path);
}

static int teardown_group(void **state)
{
	schema_release();
	log_clear_secrets();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_tmpdir, teardown_tmpdir)
		T(test_missing_file_gives_defaults),
		T(test_load_simple),
		T(test_syntax_error_position),
		T(test_root_not_object),
		T(test_too_large),
		T(test_schema_errors_reported_with_positions),
		T(test_include_file),
		T(test_include_list_later_wins),
		T(test_include_nested_key),
		T(test_include_bare_array),
		T(test_include_bare_array_through_wrapper),
		T(test_include_root_non_object),
		T(test_include_non_object_with_siblings),
		T(test_include_nested_files),
		T(test_include_relative_to_including_file),
		T(test_include_with_relative_main_path),
		T(test_include_cycle),
		T(test_include_self),
		T(test_include_twice_is_not_a_cycle),
		T(test_include_too_deep),
		T(test_include_missing_file),
		T(test_include_bad_kinds),
		T(test_include_error_positions_name_included_file),
		T(test_where),
		T(test_env_substitution),
		T(test_env_missing_var),
		T(test_env_vars_exported),
		T(test_getters_fall_back_to_defaults),
		T(test_get_secret),
		T(test_read_raw),
		T(test_hash_and_text),
		T(test_write_file),
		T(test_check_candidate),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, teardown_group);
}
