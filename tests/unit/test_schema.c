/*
 * test_schema.c - the config schema engine (src/config/schema.c) and the
 * generated table it runs on (src/config/schema_table.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/schema.h"
#include "core/buf.h"
#include "core/json5.h"
#include "core/jsonx.h"
#include "core/mem.h"

/* ------------------------------------------------------------ helpers */

static json_t *parse_json(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	if (!v)
		fail_msg("bad test JSON '%s': %s", text, e.text);
	return v;
}

/*
 * Validate JSON5 `text`; returns the error lines as a new string and the
 * count in *count. With `name` the validator gets a position map whose
 * entries carry that file name; with name == NULL it gets none.
 */
static char *validate5(const char *text, const char *name, bool with_pm, int *count)
{
	struct json5_posmap pm = { 0 };
	struct json5_error e;
	json_t *root = json5_parse(text, strlen(text), name, with_pm ? &pm : NULL, &e);
	struct buf errs;
	int n;

	if (!root)
		fail_msg("bad test JSON5 '%s': %d:%d: %s", text, e.line, e.col, e.text);
	buf_init(&errs, BUF_UNLIMITED);
	n = schema_validate(root, with_pm ? &pm : NULL, &errs);
	json_decref(root);
	json5_posmap_release(&pm);
	if (count)
		*count = n;
	return buf_detach(&errs, NULL);
}

/* Number of '\n'-terminated lines in s. */
static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Validate without positions; the whole output must equal `expect`. */
#define assert_validates_to(text, expect)                                                          \
	do {                                                                                       \
		int n_;                                                                            \
		char *got_ = validate5(text, NULL, false, &n_);                                    \
		const char *want_ = (expect);                                                      \
		bool same_ = !strcmp(got_, want_);                                                 \
		int lines_ = count_lines(got_);                                                    \
		if (!same_)                                                                        \
			print_error("%s\n--- got:\n%s--- want:\n%s", text, got_, want_);           \
		free(got_);                                                                        \
		assert_true(same_);                                                                \
		assert_int_equal(n_, lines_);                                                      \
	} while (0)

#define assert_valid(text) assert_validates_to(text, "")

/* The output must contain `needle`, and the count must match the line count. */
#define assert_validation_has(text, needle)                                                        \
	do {                                                                                       \
		int n_;                                                                            \
		char *got_ = validate5(text, NULL, false, &n_);                                    \
		bool has_ = strstr(got_, needle) != NULL;                                          \
		int lines_ = count_lines(got_);                                                    \
		if (!has_)                                                                         \
			print_error("%s\n--- got:\n%s--- missing: %s\n", text, got_, needle);      \
		free(got_);                                                                        \
		assert_true(has_);                                                                 \
		assert_true(n_ > 0);                                                               \
		assert_int_equal(n_, lines_);                                                      \
	} while (0)

/* schema_validate_at on a JSON value; returns the error text (static). */
static const char *validate_at(const char *path, const char *json, int *count)
{
	static char out[4096];
	json_t *v = parse_json(json);
	struct buf errs;

	buf_init(&errs, BUF_UNLIMITED);
	*count = schema_validate_at(path, v, &errs);
	snprintf(out, sizeof(out), "%s", errs.p);
	buf_release(&errs);
	json_decref(v);
	return out;
}

/*
 * Turn a row pattern into a concrete path that it governs: "[]" -> "[0]",
 * ".*" -> ".zzkey". New string.
 */
static char *concretize(const char *pattern)
{
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	for (const char *p = pattern; *p; p++) {
		if (p[0] == '[' && p[1] == ']') {
			buf_puts(&b, "[0]");
			p++;
		} else if (p[0] == '*') {
			buf_puts(&b, "zzkey");
		} else {
			buf_putc(&b, *p);
		}
	}
	return buf_detach(&b, NULL);
}

/* The pattern of a row's parent ("" for a top-level row). New string. */
static char *parent_pattern(const char *p)
{
	size_t n = strlen(p);
	const char *dot = strrchr(p, '.');

	if (n >= 2 && !strcmp(p + n - 2, "[]"))
		return xstrndup(p, n - 2);
	return dot ? xstrndup(p, (size_t)(dot - p)) : xstrdup("");
}

/* Whether `row` lies somewhere below a CT_ANY row (whose subtree is unchecked). */
static bool under_any(const struct cfg_field *row)
{
	char *p = parent_pattern(row->path);
	bool r = false;

	while (*p) {
		const struct cfg_field *up = schema_find(p);
		char *next;

		if (up && (up->type & CT_ANY)) {
			r = true;
			break;
		}
		next = parent_pattern(p);
		free(p);
		p = next;
	}
	free(p);
	return r;
}

/* ---------------------------------------------------------- lookup */

static void test_find(void **state)
{
	const struct cfg_field *row = schema_find("agents.list[].id");

	assert_non_null(row);
	assert_string_equal(row->path, "agents.list[].id");
	assert_null(schema_find("agents.list[0].id"));
	assert_null(schema_find("gateway.nope"));
	assert_null(schema_find(""));
	assert_non_null(schema_find("gateway"));
}

static void test_lookup_concrete_paths(void **state)
{
	static const struct {
		const char *path, *row;
	} cases[] = {
		{ "gateway", "gateway" },
		{ "gateway.port", "gateway.port" },
		{ "gateway.auth.token", "gateway.auth.token" },
		{ "agents.list", "agents.list" },
		{ "agents.list[0]", "agents.list[]" },
		{ "agents.list[3].id", "agents.list[].id" },
		{ "agents.entries.main", "agents.entries.*" },
		{ "agents.entries.main.model", "agents.entries.*.model" },
		{ "agents.entries[\"with.dot\"].model", "agents.entries.*.model" },
		{ "models.providers.openai", "models.providers.*" },
		{ "models.providers[\"a.b\"].baseUrl", "models.providers.*.baseUrl" },
		{ "models.providers.x.headers.Authorization", "models.providers.*.headers.*" },
		{ "env.vars.FOO", "env.vars.*" },
		{ "gateway.auth.identityScopes.alice[2]", "gateway.auth.identityScopes.*[]" },
		/* an object that is also a map: named members first, then ".*" */
		{ "gateway.tls.enabled", "gateway.tls.enabled" },
		{ "gateway.tls.somethingElse", "gateway.tls.*" },
		{ "wizard", "wizard" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct cfg_field *row = schema_lookup(cases[i].path);

		if (!row)
			fail_msg("schema_lookup(%s) is NULL", cases[i].path);
		assert_string_equal(row->path, cases[i].row);
		assert_ptr_equal(row, schema_find(cases[i].row));
	}
}

static void test_lookup_unknown(void **state)
{
	static const char *const unknown[] = {
		"nope",
		"gateway.nope",
		"gateway.port.x",    /* below a scalar */
		"gateway[0]",        /* index into an object */
		"agents.list.id",    /* key on an array */
		"agents.entries[0]", /* index into a map */
		"gateway.port[0]",   /* index into a scalar */
		"models.providers.x.nope",
		"",              /* malformed */
		"gateway..port", /* malformed */
		"[0]",           /* the root is an object */
		"$schema",       /* allowed at the root, but not a config key */
	};

	for (size_t i = 0; i < ARRAY_SIZE(unknown); i++) {
		const struct cfg_field *row = schema_lookup(unknown[i]);

		if (row)
			fail_msg("schema_lookup(%s) = %s, want NULL", unknown[i], row->path);
	}
}

/* --------------------------------------------------------- defaults */

static void test_defaults(void **state)
{
	json_t *v = schema_default("gateway.port");

	assert_true(json_is_integer(v));
	assert_int_equal(json_integer_value(v), 18789);
	/* borrowed and cached: the same object every time */
	assert_ptr_equal(schema_default("gateway.port"), v);

	v = schema_default("gateway.bind");
	assert_true(json_is_string(v));
	assert_string_equal(json_string_value(v), "loopback");

	v = schema_default("gateway.auth.rateLimit.exemptLoopback");
	assert_true(json_is_true(v));
	v = schema_default("logging.level");
	assert_string_equal(json_string_value(v), "info");

	assert_null(schema_default("gateway"));       /* a row without a default */
	assert_null(schema_default("gateway.nope"));  /* no row */
	assert_null(schema_default("gateway..port")); /* malformed */

	/* released and re-created on demand */
	schema_release();
	schema_release();
	v = schema_default("gateway.port");
	assert_int_equal(json_integer_value(v), 18789);
}

static void test_names(void **state)
{
	assert_string_equal(schema_reload_name(RELOAD_HOT), "hot");
	assert_string_equal(schema_reload_name(RELOAD_RESTART), "restart");
	assert_string_equal(schema_reload_name(RELOAD_NONE), "none");

	assert_string_equal(schema_type_name(CT_STRING), "string");
	assert_string_equal(schema_type_name(CT_INT), "integer");
	assert_string_equal(schema_type_name(CT_INT | CT_NUMBER), "number");
	assert_string_equal(schema_type_name(CT_OBJECT | CT_MAP), "object");
	assert_string_equal(schema_type_name(CT_MAP), "object");
	assert_string_equal(schema_type_name(CT_OBJECT | CT_STRING), "object or string");
	assert_string_equal(schema_type_name(CT_STRING | CT_NULL), "string or null");
}

/*
 * A credential row is CT_SECRET | CT_STRING; the type named in its error
 * messages must not repeat "string" ("expected string or string or
 * SecretRef" is what `config set gateway.auth.token 5` would print).
 */
static void test_type_name_secret(void **state)
{
	assert_string_equal(schema_type_name(CT_SECRET), "string or SecretRef");
	assert_string_equal(schema_type_name(CT_SECRET | CT_STRING), "string or SecretRef");
}

/* ------------------------------------------------------- validation */

static void test_validate_ok(void **state)
{
	assert_valid("{}");
	assert_valid("{gateway: {port: 8080, bind: 'lan', auth: {mode: 'token', token: 'abc'}}}");
	assert_valid("{$schema: 'https://example.com/schema.json', gateway: {port: 1}}");
	assert_valid("{gateway: {port: 65535}}");
	/* CT_NUMBER takes integers and reals */
	assert_valid("{gateway: {auth: {rateLimit: {maxAttempts: 3, windowMs: 1.5}}}}");
	/* maps and arrays of objects */
	assert_valid("{models: {providers: {openai: {baseUrl: 'https://x', apiKey: 'k'},"
		     " 'a.b': {baseUrl: 'y'}}},"
		     " agents: {list: [{id: 'main'}, {id: 'other', name: 'Other'}],"
		     " entries: {main: {model: 'gpt'}, other: {model: {primary: 'p'}}}}}");
	assert_valid("{env: {vars: {FOO: 'bar'}}}");
	/* a section accepted as is: anything below it goes */
	assert_valid("{wizard: {anything: [1, {deep: true}], at: 'all'}, tools: 5}");
	/* an object-and-map: named members are checked, other keys go to ".*" (any) */
	assert_valid("{gateway: {tls: {enabled: true, custom: {x: 1}}}}");
}

static void test_validate_unknown_keys(void **state)
{
	assert_validates_to("{gatway: {}}", "gatway: unknown key; did you mean \"gateway\"?\n");
	assert_validates_to("{gateway: {bnd: 'lan'}}",
			    "gateway.bnd: unknown key; did you mean \"bind\"?\n");
	assert_validates_to("{gateway: {zzzzzzzzzz: 1}}", "gateway.zzzzzzzzzz: unknown key\n");
	assert_validates_to("{completelyUnknownSection: 1}",
			    "completelyUnknownSection: unknown key\n");
	assert_validates_to("{models: {providers: {'a.b': {baseUlr: 'x'}}}}",
			    "models.providers[\"a.b\"].baseUlr: unknown key; "
			    "did you mean \"baseUrl\"?\n");
	/* $schema is allowed at the root only */
	assert_validates_to("{gateway: {$schema: 'x'}}", "gateway.$schema: unknown key\n");
	assert_validates_to("{$schema: 5}", "$schema: expected string, got integer\n");
	/* tls.enabled is a named member, so its type is still checked */
	assert_validates_to("{gateway: {tls: {enabled: 'yes'}}}",
			    "gateway.tls.enabled: expected boolean, got string\n");
}

static void test_validate_types(void **state)
{
	assert_validates_to("{gateway: {port: 'x'}}",
			    "gateway.port: expected integer, got string\n");
	assert_validates_to("{gateway: {port: 80.5}}",
			    "gateway.port: expected integer, got number\n");
	assert_validates_to("{gateway: {port: true}}",
			    "gateway.port: expected integer, got boolean\n");
	assert_validates_to("{gateway: {port: null}}",
			    "gateway.port: expected integer, got null\n");
	assert_validates_to("{gateway: []}", "gateway: expected object, got array\n");
	assert_validates_to("{gateway: {bind: 5}}", "gateway.bind: expected string, got integer\n");
	assert_validates_to("{agents: {list: {}}}", "agents.list: expected array, got object\n");
	/* a SecretRef object is only for credential rows */
	assert_validates_to("{gateway: {bind: {source: 'env', id: 'X'}}}",
			    "gateway.bind: expected string, got object\n");
	/* the root */
	assert_validates_to("[1]", "<root>: the config must be an object, got array\n");
	assert_validates_to("5", "<root>: the config must be an object, got integer\n");
}

static void test_validate_enum(void **state)
{
	assert_validates_to("{gateway: {bind: 'loopbak'}}",
			    "gateway.bind: invalid value \"loopbak\"; did you mean \"loopback\"? "
			    "(one of: auto|lan|loopback|custom|tailnet)\n");
	assert_validates_to("{gateway: {bind: 'zzzzzzzz'}}",
			    "gateway.bind: invalid value \"zzzzzzzz\"; expected one of: "
			    "auto|lan|loopback|custom|tailnet\n");
	/* case matters */
	assert_validation_has("{gateway: {bind: 'LAN'}}", "gateway.bind: invalid value \"LAN\"");
	/* each enum value is accepted */
	assert_valid("{gateway: {bind: 'auto'}}");
	assert_valid("{gateway: {bind: 'tailnet'}}");
	/* a value that is only a prefix or an extension of one is not */
	assert_validation_has("{gateway: {bind: 'loop'}}", "did you mean \"loopback\"?");
	assert_validation_has("{gateway: {bind: 'lann'}}", "did you mean \"lan\"?");
}

static void test_validate_range(void **state)
{
	assert_validates_to("{gateway: {port: 70000}}",
			    "gateway.port: 70000 is out of range (1 to 65535)\n");
	assert_validates_to("{gateway: {port: 0}}",
			    "gateway.port: 0 is out of range (1 to 65535)\n");
	assert_validates_to("{gateway: {port: -1}}",
			    "gateway.port: -1 is out of range (1 to 65535)\n");
	assert_valid("{gateway: {port: 1}}");
	assert_valid("{gateway: {port: 65535}}");
	/* a row without bounds takes any number */
	assert_valid("{gateway: {auth: {rateLimit: {maxAttempts: -5}}}}");
}

static void test_validate_secret_refs(void **state)
{
	assert_valid("{gateway: {auth: {token: 'plain'}}}");
	assert_valid("{gateway: {auth: {token: {source: 'env', id: 'PINCER_TOKEN'}}}}");
	assert_valid("{gateway: {auth: {token: {source: 'env', provider: 'default', "
		     "id: 'PINCER_TOKEN'}}}}");
	assert_valid("{gateway: {auth: {token: {source: 'file', provider: 'vault', "
		     "id: '/gateway/token'}}}}");
	assert_valid("{gateway: {auth: {token: {source: 'exec', provider: 'vault', "
		     "id: 'gateway/token'}}}}");
	assert_valid(
		"{models: {providers: {openai: {apiKey: {source: 'env', id: 'OPENAI_KEY'}}}}}");

	assert_validation_has("{gateway: {auth: {token: {source: 'nope', id: 'X'}}}}",
			      "gateway.auth.token: invalid SecretRef: ");
	assert_validation_has("{gateway: {auth: {token: {source: 'env', id: 'lower'}}}}",
			      "gateway.auth.token: invalid SecretRef: ");
	assert_validation_has("{gateway: {auth: {token: {source: 'env'}}}}",
			      "gateway.auth.token: invalid SecretRef: ");
	assert_validation_has("{gateway: {auth: {token: {source: 'env', id: 'X', extra: 1}}}}",
			      "gateway.auth.token: invalid SecretRef: ");
	assert_validation_has("{gateway: {auth: {token: {id: 'X'}}}}",
			      "gateway.auth.token: invalid SecretRef: ");
	assert_validation_has("{gateway: {auth: {token: {source: 'file', provider: 'v', "
			      "id: 'relative'}}}}",
			      "gateway.auth.token: invalid SecretRef: ");
	/* neither a string nor an object */
	assert_validation_has("{gateway: {auth: {token: 5}}}", "gateway.auth.token: expected ");
	assert_validation_has("{gateway: {auth: {token: [1]}}}", "got array");
}

static void test_validate_arrays_of_objects(void **state)
{
	assert_validates_to("{agents: {list: [{id: 'a'}, {id: 5}, {bogus: 1}, 'str']}}",
			    "agents.list[1].id: expected string, got integer\n"
			    "agents.list[2].bogus: unknown key\n"
			    "agents.list[3]: expected object, got string\n");
	assert_validates_to("{logging: {redactPatterns: ['a', 2, 'c']}}",
			    "logging.redactPatterns[1]: expected string, got integer\n");
	assert_validates_to(
		"{gateway: {auth: {identityScopes: {alice: ['operator.read', 'operator.raed']}}}}",
		"gateway.auth.identityScopes.alice[1]: invalid value \"operator.raed\"; did you "
		"mean \"operator.read\"? (one of: operator.admin|operator.read|operator.write|"
		"operator.sessions.read|operator.sessions.write|operator.approvals|"
		"operator.questions|operator.pairing|operator.talk|operator.talk.secrets)\n");
	assert_valid("{agents: {list: []}}");
}

static void test_validate_counts_every_problem(void **state)
{
	int n;
	char *errs = validate5("{gateway: {port: 'x', bnd: 1, bind: 'loopbak', auth: {mode: 5}},"
			       " gatway: 1, $schema: 5}",
			       NULL, false, &n);

	assert_int_equal(n, 6);
	assert_int_equal(count_lines(errs), 6);
	free(errs);
}

/* Errors appended to a buffer that already holds text keep that text. */
static void test_validate_appends(void **state)
{
	json_t *root = parse_json("{\"gateway\":{\"port\":\"x\"}}");
	struct buf errs;

	buf_init(&errs, BUF_UNLIMITED);
	buf_puts(&errs, "before\n");
	assert_int_equal(schema_validate(root, NULL, &errs), 1);
	assert_string_equal(errs.p, "before\ngateway.port: expected integer, got string\n");
	buf_release(&errs);
	json_decref(root);
}

static void test_validate_positions(void **state)
{
	const char *text = "{\n"
			   "  // a comment\n"
			   "  gateway: {\n"
			   "    port: 'x',\n"
			   "    bnd: 'lan',\n"
			   "  },\n"
			   "  agents: { list: [ { id: 5 } ] },\n"
			   "  models: { providers: { 'a.b': { baseUrl: 1 } } },\n"
			   "}\n";
	int n;
	char *errs = validate5(text, "/etc/pincer/pincer.json5", true, &n);

	assert_string_equal(errs,
			    "/etc/pincer/pincer.json5:4:5: gateway.port: expected integer, "
			    "got string\n"
			    "/etc/pincer/pincer.json5:5:5: gateway.bnd: unknown key; did you mean "
			    "\"bind\"?\n"
			    "/etc/pincer/pincer.json5:7:23: agents.list[0].id: expected string, "
			    "got integer\n"
			    "/etc/pincer/pincer.json5:8:35: models.providers[\"a.b\"].baseUrl: "
			    "expected string, got integer\n");
	assert_int_equal(n, 4);
	free(errs);

	/* a map without a file name gives "line:col: " */
	errs = validate5("{\n gateway: {port: 'x'}}", NULL, true, &n);
	assert_string_equal(errs, "2:12: gateway.port: expected integer, got string\n");
	free(errs);

	/* the root */
	errs = validate5("\n\n  [1]", "c.json5", true, &n);
	assert_string_equal(errs, "c.json5:3:3: <root>: the config must be an object, got array\n");
	free(errs);
}

/* A path the map has no entry for is reported without a position. */
static void test_validate_position_missing(void **state)
{
	struct json5_posmap pm = { 0 };
	json_t *other = json5_parse("{a: 1}", 6, "x.json5", &pm, NULL);
	json_t *root = parse_json("{\"gateway\":{\"port\":\"x\"}}");
	struct buf errs;

	assert_non_null(other);
	buf_init(&errs, BUF_UNLIMITED);
	assert_int_equal(schema_validate(root, &pm, &errs), 1);
	assert_string_equal(errs.p, "gateway.port: expected integer, got string\n");
	buf_release(&errs);
	json_decref(root);
	json_decref(other);
	json5_posmap_release(&pm);
}

/* -------------------------------------------------- validate_at */

static void test_validate_at(void **state)
{
	int n;

	assert_string_equal(validate_at("gateway.port", "8080", &n), "");
	assert_int_equal(n, 0);
	assert_string_equal(validate_at("gateway.port", "\"x\"", &n),
			    "gateway.port: expected integer, got string\n");
	assert_int_equal(n, 1);
	assert_string_equal(validate_at("gateway.port", "0", &n),
			    "gateway.port: 0 is out of range (1 to 65535)\n");
	assert_int_equal(n, 1);
	assert_string_equal(validate_at("gateway.bind", "\"lna\"", &n),
			    "gateway.bind: invalid value \"lna\"; did you mean \"lan\"? "
			    "(one of: auto|lan|loopback|custom|tailnet)\n");
	/* a subtree: everything below is checked, with full paths */
	assert_string_equal(validate_at("gateway", "{\"port\":\"x\",\"bnd\":1}", &n),
			    "gateway.port: expected integer, got string\n"
			    "gateway.bnd: unknown key; did you mean \"bind\"?\n");
	assert_int_equal(n, 2);
	/* concrete indices and map keys */
	assert_string_equal(validate_at("agents.list[2]", "{\"id\":\"a\"}", &n), "");
	assert_string_equal(validate_at("agents.list[2].id", "5", &n),
			    "agents.list[2].id: expected string, got integer\n");
	assert_string_equal(validate_at("models.providers[\"a.b\"].baseUrl", "1", &n),
			    "models.providers[\"a.b\"].baseUrl: expected string, got integer\n");
	assert_string_equal(
		validate_at("gateway.auth.token", "{\"source\":\"env\",\"id\":\"PINCER_T\"}", &n),
		"");
	/* unknown keys */
	assert_string_equal(validate_at("gateway.nope", "1", &n), "gateway.nope: unknown key\n");
	assert_int_equal(n, 1);
	assert_string_equal(validate_at("nope.deeper", "1", &n), "nope: unknown key\n");
	assert_string_equal(validate_at("gateway.port.x", "1", &n),
			    "gateway.port.x: unknown key\n");
	/* anything under a section accepted as is */
	assert_string_equal(validate_at("wizard", "{\"x\":[1]}", &n), "");
	/* $schema at the root */
	assert_string_equal(validate_at("$schema", "\"https://x\"", &n), "");
	assert_int_equal(n, 0);
	assert_string_equal(validate_at("gateway.$schema", "\"x\"", &n),
			    "gateway.$schema: unknown key\n");
	/* a malformed path is one problem */
	assert_non_null(strstr(validate_at("gateway..port", "1", &n), "malformed path"));
	assert_int_equal(n, 1);
	assert_non_null(strstr(validate_at("", "1", &n), "empty path"));
	assert_int_equal(n, 1);
}

/*
 * validate_at must agree with validate: a $schema that schema_validate
 * rejects ("$schema: expected string") must not pass validate_at.
 */
static void test_validate_at_schema_key_type(void **state)
{
	int n;
	const char *errs = validate_at("$schema", "5", &n);

	assert_int_equal(n, 1);
	assert_string_equal(errs, "$schema: expected string, got integer\n");
}

/* Run fn in a child, so a crash is a test failure rather than the end of the run. */
static bool survives_in_child(void (*fn)(void))
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka's handlers would resume the test run inside the child */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		signal(SIGILL, SIG_DFL);
		signal(SIGFPE, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void validate_at_index_root(void)
{
	struct buf errs;
	json_t *v = json_integer(1);
	int n;

	buf_init(&errs, BUF_UNLIMITED);
	n = schema_validate_at("[0]", v, &errs);
	/* one problem: the root has no elements */
	if (n != 1 || !strstr(errs.p, "[0]"))
		_exit(2);
	buf_release(&errs);
	json_decref(v);
	schema_release();
}

/* A path that starts with an index is an unknown key, not a crash. */
static void test_validate_at_index_first(void **state)
{
	assert_true(survives_in_child(validate_at_index_root));
}

/* ------------------------------------------------------------ suggest */

static void test_suggest(void **state)
{
	static const struct {
		const char *path, *want;
	} cases[] = {
		{ "gateway.bnd", "gateway.bind" },
		{ "gateway.prot", "gateway.port" },
		{ "gatway", "gateway" },
		{ "agents.list[0].nme", "agents.list[0].name" },
		{ "models.providers.openai.baseUlr", "models.providers.openai.baseUrl" },
		{ "models.providers[\"a.b\"].baseUlr", "models.providers[\"a.b\"].baseUrl" },
		{ "gateway.auth.tokn", "gateway.auth.token" },
	};
	static const char *const none[] = {
		"zzzzzzzzzzzz",   "gateway.zzzzzzzzzz",
		"gateway.port", /* known: nothing to suggest */
		"gateway..bnd",   "",
		"agents.list.id",
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got = schema_suggest(cases[i].path);
		bool ok = got && !strcmp(got, cases[i].want);

		if (!ok)
			print_error("schema_suggest(%s) = %s, want %s\n", cases[i].path,
				    got ? got : "NULL", cases[i].want);
		free(got);
		assert_true(ok);
	}
	for (size_t i = 0; i < ARRAY_SIZE(none); i++) {
		char *got = schema_suggest(none[i]);

		if (got)
			print_error("schema_suggest(%s) = %s, want NULL\n", none[i], got);
		assert_null(got);
	}
}

/* ------------------------------------------------------- JSON Schema */

/* Walk a row pattern through the exported JSON Schema to the node it became. */
static json_t *json_schema_node(json_t *doc, const char *pattern)
{
	struct buf seg;
	json_t *node = doc;
	const char *p = pattern;

	buf_init(&seg, BUF_UNLIMITED);
	while (*p && node) {
		if (p[0] == '[' && p[1] == ']') {
			node = json_object_get(node, "items");
			p += 2;
			continue;
		}
		if (*p == '.')
			p++;
		buf_reset(&seg);
		while (*p && *p != '.' && *p != '[')
			buf_putc(&seg, *p++);
		if (!strcmp(seg.p, "*"))
			node = json_object_get(node, "additionalProperties");
		else
			node = json_object_get(json_object_get(node, "properties"), seg.p);
	}
	buf_release(&seg);
	return json_is_object(node) ? node : NULL;
}

static void test_json_schema(void **state)
{
	json_t *doc = schema_to_json_schema();
	size_t n;
	const struct cfg_field *rows = schema_fields(&n);
	json_t *port, *token, *any;
	char *text;

	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "$schema")),
			    "https://json-schema.org/draft/2020-12/schema");
	assert_string_equal(json_string_value(json_object_get(doc, "type")), "object");
	assert_true(json_is_false(json_object_get(doc, "additionalProperties")));
	assert_non_null(jpath_get(doc, "properties.$schema"));
	assert_non_null(jpath_get(doc, "$defs.SecretRef"));

	port = jpath_get(doc, "properties.gateway.properties.port");
	assert_non_null(port);
	assert_int_equal(json_integer_value(json_object_get(port, "default")), 18789);
	assert_string_equal(json_string_value(json_object_get(port, "type")), "integer");
	assert_true(json_number_value(json_object_get(port, "minimum")) == 1.0);
	assert_true(json_number_value(json_object_get(port, "maximum")) == 65535.0);
	assert_string_equal(json_string_value(json_object_get(port, "x-reload")), "restart");
	assert_true(json_is_string(json_object_get(port, "description")));

	assert_string_equal(
		json_string_value(jpath_get(doc, "properties.gateway.properties.bind.default")),
		"loopback");
	assert_int_equal(json_array_size(jpath_get(doc, "properties.gateway.properties.bind.enum")),
			 5);

	/* credentials: a string or a $ref to SecretRef */
	token = jpath_get(doc, "properties.gateway.properties.auth.properties.token.anyOf");
	assert_true(json_is_array(token));
	text = json_dump_str(token, JSON_COMPACT);
	assert_non_null(strstr(text, "\"$ref\":\"#/$defs/SecretRef\""));
	free(text);

	/* arrays and maps */
	assert_non_null(jpath_get(doc, "properties.agents.properties.list.items.properties.id"));
	assert_non_null(jpath_get(doc, "properties.models.properties.providers."
				       "additionalProperties.properties.baseUrl"));
	/* a section accepted as is has no type constraint */
	any = jpath_get(doc, "properties.wizard");
	assert_non_null(any);
	assert_null(json_object_get(any, "type"));

	/* every row is reachable, and is the node for that row */
	for (size_t i = 0; i < n; i++) {
		json_t *node = json_schema_node(doc, rows[i].path);

		if (!node)
			fail_msg("row %s is not reachable in the JSON Schema", rows[i].path);
		assert_string_equal(json_string_value(json_object_get(node, "description")),
				    rows[i].doc);
		if (rows[i].def) {
			json_t *def = parse_json(rows[i].def);

			assert_true(json_equal(def, json_object_get(node, "default")));
			json_decref(def);
		}
	}

	/* and it serializes */
	text = json_dump_str(doc, JSON_COMPACT);
	assert_true(strlen(text) > 1000);
	free(text);
	json_decref(doc);
}

/* ------------------------------------------------- table self-check */

static void test_table_parents(void **state)
{
	size_t n;
	const struct cfg_field *rows = schema_fields(&n);

	assert_true(n > 100);
	for (size_t i = 0; i < n; i++) {
		char *parent = parent_pattern(rows[i].path);
		const struct cfg_field *prow;

		assert_true(rows[i].path[0] != '\0');
		assert_null(strchr(rows[i].path, '"')); /* patterns never need quoting */
		assert_non_null(rows[i].doc);
		assert_true(rows[i].doc[0] != '\0');
		if (!*parent) {
			free(parent);
			continue;
		}
		prow = schema_find(parent);
		if (!prow)
			fail_msg("row %s has no parent row %s", rows[i].path, parent);
		if (prow >= &rows[i])
			fail_msg("row %s comes before its parent %s", rows[i].path, parent);
		free(parent);
	}
}

static void test_table_unique(void **state)
{
	size_t n;
	const struct cfg_field *rows = schema_fields(&n);

	for (size_t i = 0; i < n; i++)
		if (schema_find(rows[i].path) != &rows[i])
			fail_msg("row %s appears twice", rows[i].path);
}

/*
 * Each container row has the rows its kind promises: CT_ARRAY a "[]" row,
 * CT_MAP a ".*" row (also when combined with CT_OBJECT: named members plus
 * a catch-all), CT_OBJECT at least one named member. And each child row
 * sits under a parent of the matching kind: "[]" under CT_ARRAY, ".*"
 * under CT_MAP, a name under CT_OBJECT. The only exception are a few
 * "[]" rows the generator emits below CT_ANY rows; they are never reached
 * (the subtree of CT_ANY is not checked) and harmless.
 */
static void test_table_container_children(void **state)
{
	size_t n;
	const struct cfg_field *rows = schema_fields(&n);
	struct buf p;

	buf_init(&p, BUF_UNLIMITED);
	for (size_t i = 0; i < n; i++) {
		const struct cfg_field *r = &rows[i];
		char *parent = parent_pattern(r->path);
		const struct cfg_field *prow = *parent ? schema_find(parent) : NULL;
		size_t len = strlen(r->path);

		if (r->type & CT_ARRAY) {
			buf_reset(&p);
			buf_printf(&p, "%s[]", r->path);
			if (!schema_find(p.p))
				fail_msg("array row %s has no %s row", r->path, p.p);
		}
		if (r->type & CT_MAP) {
			buf_reset(&p);
			buf_printf(&p, "%s.*", r->path);
			if (!schema_find(p.p))
				fail_msg("map row %s has no %s row", r->path, p.p);
		}
		if (r->type & CT_OBJECT) {
			bool member = false;

			for (size_t j = i + 1; j < n && !member; j++) {
				char *pp = parent_pattern(rows[j].path);
				const char *tail = rows[j].path + strlen(r->path);

				member = !strcmp(pp, r->path) && strcmp(tail, ".*") &&
					 strcmp(tail, "[]");
				free(pp);
			}
			if (!member)
				fail_msg("object row %s has no members", r->path);
		}
		/* a row cannot be both "anything" and something specific */
		if (r->type & CT_ANY)
			assert_int_equal(r->type, CT_ANY);
		if (prow) {
			if (len > 2 && !strcmp(r->path + len - 2, "[]")) {
				if (!(prow->type & CT_ARRAY) && !(prow->type & CT_ANY))
					fail_msg("%s is below %s, which is not an array", r->path,
						 prow->path);
			} else if (len > 2 && !strcmp(r->path + len - 2, ".*")) {
				if (!(prow->type & CT_MAP))
					fail_msg("%s is below %s, which is not a map", r->path,
						 prow->path);
			} else if (!(prow->type & CT_OBJECT)) {
				fail_msg("%s is below %s, which is not an object", r->path,
					 prow->path);
			}
		}
		/* enums only on string rows, bounds only on numeric rows */
		if (r->enums)
			assert_true(r->type & CT_STRING);
		if (r->min < r->max)
			assert_true(r->type & (CT_INT | CT_NUMBER));
		free(parent);
	}
	buf_release(&p);
}

/* Every row that is not below a CT_ANY row governs the concrete paths it names. */
static void test_table_rows_reachable(void **state)
{
	size_t n;
	const struct cfg_field *rows = schema_fields(&n);

	for (size_t i = 0; i < n; i++) {
		char *path;
		const struct cfg_field *got;

		if (under_any(&rows[i]))
			continue;
		path = concretize(rows[i].path);
		got = schema_lookup(path);
		if (got != &rows[i])
			fail_msg("schema_lookup(%s) = %s, want %s", path, got ? got->path : "NULL",
				 rows[i].path);
		free(path);
	}
}

/* Every default is JSON, and valid for its own row. */
static void test_table_defaults_valid(void **state)
{
	size_t n, ndef = 0;
	const struct cfg_field *rows = schema_fields(&n);

	for (size_t i = 0; i < n; i++) {
		json_error_t e;
		json_t *def, *cached;
		char *path;
		struct buf errs;

		if (!rows[i].def)
			continue;
		ndef++;
		def = json_loads(rows[i].def, JSON_DECODE_ANY, &e);
		if (!def)
			fail_msg("default of %s is not JSON: %s", rows[i].path, e.text);
		path = concretize(rows[i].path);
		cached = schema_default(path);
		if (!json_equal(def, cached))
			fail_msg("schema_default(%s) differs from the row's default", path);
		buf_init(&errs, BUF_UNLIMITED);
		if (schema_validate_at(path, def, &errs))
			fail_msg("default of %s fails its own row: %s", rows[i].path, errs.p);
		buf_release(&errs);
		free(path);
		json_decref(def);
	}
	assert_true(ndef > 5);
}

/* An object made of every default, at its place, is a valid config. */
static void test_table_defaults_together(void **state)
{
	size_t n;
	const struct cfg_field *rows = schema_fields(&n);
	json_t *root = json_object();
	struct buf errs;
	char err[256];

	for (size_t i = 0; i < n; i++) {
		char *path;

		if (!rows[i].def || strchr(rows[i].path, '*') || strstr(rows[i].path, "[]"))
			continue;
		path = concretize(rows[i].path);
		if (jpath_set(root, path, json_incref(schema_default(path)), err, sizeof(err)) < 0)
			fail_msg("cannot place default of %s: %s", path, err);
		free(path);
	}
	buf_init(&errs, BUF_UNLIMITED);
	if (schema_validate(root, NULL, &errs))
		fail_msg("defaults together are invalid:\n%s", errs.p);
	buf_release(&errs);
	json_decref(root);
}

static int teardown_release(void **state)
{
	schema_release();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_lookup_concrete_paths),
		cmocka_unit_test(test_lookup_unknown),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_type_name_secret),
		cmocka_unit_test(test_validate_ok),
		cmocka_unit_test(test_validate_unknown_keys),
		cmocka_unit_test(test_validate_types),
		cmocka_unit_test(test_validate_enum),
		cmocka_unit_test(test_validate_range),
		cmocka_unit_test(test_validate_secret_refs),
		cmocka_unit_test(test_validate_arrays_of_objects),
		cmocka_unit_test(test_validate_counts_every_problem),
		cmocka_unit_test(test_validate_appends),
		cmocka_unit_test(test_validate_positions),
		cmocka_unit_test(test_validate_position_missing),
		cmocka_unit_test(test_validate_at),
		cmocka_unit_test(test_validate_at_schema_key_type),
		cmocka_unit_test(test_validate_at_index_first),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_json_schema),
		cmocka_unit_test(test_table_parents),
		cmocka_unit_test(test_table_unique),
		cmocka_unit_test(test_table_container_children),
		cmocka_unit_test(test_table_rows_reachable),
		cmocka_unit_test(test_table_defaults_valid),
		cmocka_unit_test(test_table_defaults_together),
	};

	return cmocka_run_group_tests(tests, NULL, teardown_release);
}
