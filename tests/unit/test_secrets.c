/*
 * test_secrets.c - SecretRef shape checks and env/file/exec resolution.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/secrets.h"
#include "core/mem.h"

/* ------------------------------------------------------------ helpers */

static char tmpdir[PATH_MAX];

static int setup_tmpdir(void **state)
{
	assert_int_equal(tu_mkdtemp(tmpdir, sizeof(tmpdir), "secrets"), 0);
	return 0;
}

static int teardown_tmpdir(void **state)
{
	assert_int_equal(tu_rm_rf(tmpdir), 0);
	return 0;
}

static char *write_file(const char *name, const char *content, mode_t mode)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static json_t *load(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);

	if (!v)
		fail_msg("bad test JSON: %s: %s", jerr.text, text);
	return v;
}

static json_t *loadf(const char *fmt, ...) PRINTF_LIKE(1, 2);

static json_t *loadf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	json_t *v;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	v = load(s);
	free(s);
	return v;
}

static int ref_check(const char *json)
{
	char err[512];
	json_t *v = load(json);
	int rc = secret_ref_check(v, err, sizeof(err));

	json_decref(v);
	return rc;
}

static int provider_check(const char *json)
{
	char err[512];
	json_t *v = load(json);
	int rc = secret_provider_check(v, err, sizeof(err));

	json_decref(v);
	return rc;
}

/*
 * Resolve `ref` against `cfg`; returns the value or "ERR:<message>" (new
 * string) and checks that a failure never returns a value.
 */
static char *resolve(const json_t *cfg, const char *ref)
{
	json_t *v = load(ref);
	char err[1024], *out = (char *)1, *ret;

	if (secret_resolve(cfg, v, &out, err, sizeof(err)) == 0) {
		assert_non_null(out);
		ret = out;
	} else {
		assert_null(out);
		ret = xasprintf("ERR:%s", err);
	}
	json_decref(v);
	return ret;
}

#define assert_resolves(cfg, ref, expect)                                                          \
	do {                                                                                       \
		char *got_ = resolve(cfg, ref);                                                    \
		assert_string_equal(got_, expect);                                                 \
		free(got_);                                                                        \
	} while (0)

/* The error must contain `part` and, when given, must not contain `secret`. */
static void resolve_fails_at(const json_t *cfg, const char *ref, const char *part,
			     const char *secret, const char *file, int line)
{
	char *got = resolve(cfg, ref);

	if (strncmp(got, "ERR:", 4) || !strstr(got, part)) {
		print_error("%s:%d: expected an error with \"%s\", got \"%s\"\n", file, line, part,
			    got);
		free(got);
		_fail(file, line);
	}
	if (secret && strstr(got, secret)) {
		print_error("%s:%d: error leaks the secret: %s\n", file, line, got);
		free(got);
		_fail(file, line);
	}
	free(got);
}

#define assert_resolve_fails(cfg, ref, part, secret)                                               \
	resolve_fails_at(cfg, ref, part, secret, __FILE__, __LINE__)

/* ----------------------------------------------------------- is_ref */

static void test_is_ref(void **state)
{
	json_t *a = load("{\"source\":\"env\",\"id\":\"X\"}"), *b = load("{\"id\":\"X\"}");
	json_t *c = load("\"plain\"");

	assert_true(secret_is_ref(a));
	assert_false(secret_is_ref(b));
	assert_false(secret_is_ref(c));
	assert_false(secret_is_ref(NULL));
	json_decref(a);
	json_decref(b);
	json_decref(c);
}

/* ------------------------------------------------------- ref checks */

static void test_ref_check_shape(void **state)
{
	char err[512];
	json_t *v;

	assert_int_equal(ref_check("{\"source\":\"env\",\"provider\":\"default\",\"id\":\"A\"}"),
			 0);
	assert_int_equal(ref_check("{\"source\":\"env\",\"id\":\"A\"}"), 0); /* provider optional */
	assert_int_equal(ref_check("\"str\""), -1);
	assert_int_equal(ref_check("[]"), -1);
	assert_int_equal(ref_check("{\"source\":\"vault\",\"id\":\"A\"}"), -1);
	assert_int_equal(ref_check("{\"source\":1,\"id\":\"A\"}"), -1);
	assert_int_equal(ref_check("{\"source\":\"env\"}"), -1);
	assert_int_equal(ref_check("{\"source\":\"env\",\"id\":5}"), -1);
	assert_int_equal(ref_check("{\"source\":\"env\",\"provider\":5,\"id\":\"A\"}"), -1);

	v = load("{\"source\":\"env\",\"id\":\"A\",\"extra\":1}");
	assert_int_equal(secret_ref_check(v, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown key \"extra\""));
	json_decref(v);
}

static void test_ref_check_provider_pattern(void **state)
{
	static const char *good[] = {
		"a", "default", "a-b_c9", "vault2",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	};
	static const char *bad[] = {
		"",
		"Default",
		"9a",
		"_a",
		"-a",
		"a.b",
		"a b",
		"aé",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	};

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		json_t *v =
			json_pack("{s:s,s:s,s:s}", "source", "env", "provider", good[i], "id", "A");
		char err[512];

		assert_int_equal(secret_ref_check(v, err, sizeof(err)), 0);
		json_decref(v);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		json_t *v =
			json_pack("{s:s,s:s,s:s}", "source", "env", "provider", bad[i], "id", "A");
		char err[512];

		assert_int_equal(secret_ref_check(v, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "provider must match"));
		json_decref(v);
	}
}

static void check_ids(const char *source, const char *const *good, size_t ngood,
		      const char *const *bad, size_t nbad)
{
	char err[512];

	for (size_t i = 0; i < ngood; i++) {
		json_t *v = json_pack("{s:s,s:s}", "source", source, "id", good[i]);

		if (secret_ref_check(v, err, sizeof(err)))
			fail_msg("%s id \"%s\" rejected: %s", source, good[i], err);
		json_decref(v);
	}
	for (size_t i = 0; i < nbad; i++) {
		json_t *v = json_pack("{s:s,s:s}", "source", source, "id", bad[i]);

		if (!secret_ref_check(v, err, sizeof(err)))
			fail_msg("%s id \"%s\" accepted", source, bad[i]);
		json_decref(v);
	}
}

static void test_ref_check_env_ids(void **state)
{
	char max[129], over[130];
	const char *good[] = { "A", "OPENAI_API_KEY", "A1_", max };
	const char *bad[] = { "", "a", "openai", "_A", "1A", "A-B", "A.B", "A B", over };

	memset(max, 'A', 128);
	max[128] = '\0';
	memset(over, 'A', 129);
	over[129] = '\0';
	check_ids("env", good, ARRAY_SIZE(good), bad, ARRAY_SIZE(bad));
}

static void test_ref_check_file_ids(void **state)
{
	const char *good[] = { "value", "/",     "/providers/openai/apiKey", "/a~0b/c~1d", "/a b/ü",
			       "//",    "/arr/0" };
	const char *bad[] = { "", "providers/openai", "Value", "/a~2", "/a~", "~0/a", " /a" };

	check_ids("file", good, ARRAY_SIZE(good), bad, ARRAY_SIZE(bad));
}

static void test_ref_check_exec_ids(void **state)
{
	char max[257], over[258];
	const char *good[] = { "a",         "vault/openai/api-key",
			       "A:b.c_d-e", "secret#json_key",
			       "a..b",      "a/.b",
			       "a/b../c",   "9",
			       "a//b",      max };
	const char *bad[] = { "",     ".a",  "/a",  "-a",   "a/./b", "a/../b", "a/.",
			      "a/..", "a b", "a$b", "a\\b", "a~b",   over };

	memset(max, 'x', 256);
	max[256] = '\0';
	memset(over, 'x', 257);
	over[257] = '\0';
	check_ids("exec", good, ARRAY_SIZE(good), bad, ARRAY_SIZE(bad));
}

static void test_ref_check_nul_in_id(void **state)
{
	json_t *v = json_object();
	char err[512];

	json_object_set_new(v, "source", json_string("env"));
	json_object_set_new(v, "id", json_stringn("A\0B", 3));
	assert_int_equal(secret_ref_check(v, err, sizeof(err)), -1);
	json_decref(v);
}

/* -------------------------------------------------- provider checks */

static void test_provider_check_env(void **state)
{
	assert_int_equal(provider_check("{\"source\":\"env\"}"), 0);
	assert_int_equal(provider_check("{\"source\":\"env\",\"allowlist\":[\"A\",\"B_1\"]}"), 0);
	assert_int_equal(provider_check("{\"source\":\"env\",\"allowlist\":[]}"), 0);
	assert_int_equal(provider_check("{\"source\":\"env\",\"allowlist\":[\"lower\"]}"), -1);
	assert_int_equal(provider_check("{\"source\":\"env\",\"allowlist\":\"A\"}"), -1);
	assert_int_equal(provider_check("{\"source\":\"env\",\"path\":\"/x\"}"), -1);
	assert_int_equal(provider_check("{\"allowlist\":[]}"), -1);
	assert_int_equal(provider_check("{\"source\":\"store\"}"), -1);
	assert_int_equal(provider_check("[]"), -1);
}

static void test_provider_check_file(void **state)
{
	char err[512];
	json_t *v;

	assert_int_equal(provider_check("{\"source\":\"file\",\"path\":\"~/.s.json\"}"), 0);
	assert_int_equal(provider_check("{\"source\":\"file\",\"path\":\"/s\",\"mode\":\"json\","
					"\"timeoutMs\":120000,\"maxBytes\":20971520,"
					"\"allowInsecurePath\":true}"),
			 0);
	assert_int_equal(provider_check("{\"source\":\"file\",\"path\":\"/s\","
					"\"mode\":\"singleValue\",\"timeoutMs\":5000.0}"),
			 0);
	assert_int_equal(provider_check("{\"source\":\"file\"}"), -1);
	assert_int_equal(provider_check("{\"source\":\"file\",\"path\":\"\"}"), -1);
	assert_int_equal(provider_check("{\"source\":\"file\",\"path\":\"/s\",\"mode\":\"yaml\"}"),
			 -1);
	assert_int_equal(provider_check("{\"source\":\"file\",\"path\":\"/s\",\"timeoutMs\":0}"),
			 -1);
	assert_int_equal(provider_check("{\"source\":\"file\",\"path\":\"/s\",\"timeoutMs\":1.5}"),
			 -1);
	assert_int_equal(
		provider_check("{\"source\":\"file\",\"path\":\"/s\",\"timeoutMs\":120001}"), -1);
	assert_int_equal(
		provider_check("{\"source\":\"file\",\"path\":\"/s\",\"maxBytes\":20971521}"), -1);
	assert_int_equal(
		provider_check("{\"source\":\"file\",\"path\":\"/s\",\"allowInsecurePath\":1}"),
		-1);

	v = load("{\"source\":\"file\",\"path\":\"/s\",\"command\":\"/x\"}");
	assert_int_equal(secret_provider_check(v, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"command\""));
	json_decref(v);
}

static void test_provider_check_exec(void **state)
{
	assert_int_equal(provider_check("{\"source\":\"exec\",\"command\":\"/usr/bin/x\"}"), 0);
	assert_int_equal(
		provider_check("{\"source\":\"exec\",\"command\":\"/usr/bin/x\","
			       "\"args\":[\"--p\",\"prod\"],\"timeoutMs\":100,"
			       "\"noOutputTimeoutMs\":50,\"maxOutputBytes\":1024,"
			       "\"jsonOnly\":false,\"env\":{\"A\":\"b\"},"
			       "\"passEnv\":[\"PATH\",\"HOME\"],\"trustedDirs\":[\"/opt\"],"
			       "\"allowInsecurePath\":false,\"allowSymlinkCommand\":true}"),
		0);
	assert_int_equal(provider_check("{\"source\":\"exec\"}"), -1);
	assert_int_equal(provider_check("{\"source\":\"exec\",\"command\":\"vault\"}"), -1);
	assert_int_equal(provider_check("{\"source\":\"exec\",\"command\":\"./vault\"}"), -1);
	assert_int_equal(provider_check("{\"source\":\"exec\",\"command\":\"~/bin/vault\"}"), -1);
	assert_int_equal(provider_check("{\"source\":\"exec\",\"command\":\"/bin/a;b\"}"), -1);
	assert_int_equal(provider_check("{\"source\":\"exec\",\"command\":\"/bin/a b'c\"}"), -1);
	assert_int_equal(provider_check("{\"source\":\"exec\",\"command\":\"/bin/$x\"}"), -1);
	assert_int_equal(provider_check("{\"source\":\"exec\",\"command\":\"/x\",\"args\":\"a\"}"),
			 -1);
	assert_int_equal(provider_check("{\"source\":\"exec\",\"command\":\"/x\",\"args\":[1]}"),
			 -1);
	assert_int_equal(
		provider_check("{\"source\":\"exec\",\"command\":\"/x\",\"passEnv\":[\"path\"]}"),
		-1);
	assert_int_equal(
		provider_check(
			"{\"source\":\"exec\",\"command\":\"/x\",\"trustedDirs\":[\"opt\"]}"),
		-1);
	assert_int_equal(provider_check("{\"source\":\"exec\",\"command\":\"/x\",\"env\":[]}"), -1);
	assert_int_equal(
		provider_check("{\"source\":\"exec\",\"command\":\"/x\",\"env\":{\"A\":1}}"), -1);
	assert_int_equal(
		provider_check("{\"source\":\"exec\",\"command\":\"/x\",\"jsonOnly\":\"no\"}"), -1);
	assert_int_equal(
		provider_check("{\"source\":\"exec\",\"command\":\"/x\",\"mode\":\"json\"}"), -1);
	assert_int_equal(
		provider_check("{\"source\":\"exec\",\"command\":\"/x\",\"maxOutputBytes\":0}"),
		-1);
	/* Plugin-managed providers have their own (checked) shape. */
	assert_int_equal(provider_check("{\"source\":\"exec\",\"pluginIntegration\":"
					"{\"pluginId\":\"p\",\"integrationId\":\"i\"}}"),
			 0);
	assert_int_equal(provider_check("{\"source\":\"exec\",\"pluginIntegration\":"
					"{\"pluginId\":\"p\"}}"),
			 -1);
	assert_int_equal(provider_check("{\"source\":\"exec\",\"pluginIntegration\":"
					"{\"pluginId\":\"p\",\"integrationId\":\"i\",\"x\":1}}"),
			 -1);
}

/* ------------------------------------------------------- resolution */

static void test_resolve_plain_and_bad(void **state)
{
	json_t *cfg = load("{}");

	assert_resolves(cfg, "\"sk-plain\"", "sk-plain");
	assert_resolves(NULL, "\"sk-plain\"", "sk-plain");
	assert_resolve_fails(cfg, "42", "expected a string or a SecretRef", NULL);
	assert_resolve_fails(cfg, "{\"source\":\"env\",\"id\":\"lower\"}", "invalid SecretRef",
			     NULL);
	json_decref(cfg);
}

static void test_resolve_env(void **state)
{
	json_t *cfg = load("{}");

	setenv("PT_SECRET", "sk-env-123", 1);
	setenv("PT_EMPTY", "", 1);
	unsetenv("PT_UNSET");
	assert_resolves(cfg, "{\"source\":\"env\",\"provider\":\"default\",\"id\":\"PT_SECRET\"}",
			"sk-env-123");
	assert_resolves(cfg, "{\"source\":\"env\",\"id\":\"PT_SECRET\"}", "sk-env-123");
	assert_resolves(NULL, "{\"source\":\"env\",\"id\":\"PT_SECRET\"}", "sk-env-123");
	assert_resolve_fails(cfg, "{\"source\":\"env\",\"id\":\"PT_UNSET\"}",
			     "secret env:default:PT_UNSET: environment variable \"PT_UNSET\" is "
			     "missing or empty",
			     NULL);
	assert_resolve_fails(cfg, "{\"source\":\"env\",\"id\":\"PT_EMPTY\"}", "missing or empty",
			     NULL);
	/* Only the default alias has a built-in provider. */
	assert_resolve_fails(cfg,
			     "{\"source\":\"env\",\"provider\":\"other\",\"id\":\"PT_SECRET\"}",
			     "secret env:other:PT_SECRET: secret provider \"other\" is not "
			     "configured",
			     "sk-env");
	json_decref(cfg);
}

static void test_resolve_env_providers(void **state)
{
	json_t *cfg = load("{\"secrets\":{\"providers\":{"
			   "\"default\":{\"source\":\"env\",\"allowlist\":[\"PT_SECRET\"]},"
			   "\"open\":{\"source\":\"env\"},"
			   "\"none\":{\"source\":\"env\",\"allowlist\":[]},"
			   "\"files\":{\"source\":\"file\",\"path\":\"/nonexistent\"}},"
			   "\"defaults\":{\"env\":\"open\"}}}");

	setenv("PT_SECRET", "sk-env-123", 1);
	setenv("PT_OTHER", "sk-other", 1);
	/* Omitted provider: secrets.defaults.env. */
	assert_resolves(cfg, "{\"source\":\"env\",\"id\":\"PT_OTHER\"}", "sk-other");
	assert_resolves(cfg, "{\"source\":\"env\",\"provider\":\"default\",\"id\":\"PT_SECRET\"}",
			"sk-env-123");
	assert_resolve_fails(cfg,
			     "{\"source\":\"env\",\"provider\":\"default\",\"id\":\"PT_OTHER\"}",
			     "not allowlisted in secrets.providers.default.allowlist", "sk-other");
	assert_resolve_fails(cfg, "{\"source\":\"env\",\"provider\":\"none\",\"id\":\"PT_SECRET\"}",
			     "not allowlisted", "sk-env");
	assert_resolve_fails(cfg,
			     "{\"source\":\"env\",\"provider\":\"files\",\"id\":\"PT_SECRET\"}",
			     "has source \"file\" but the ref requests \"env\"", "sk-env");
	json_decref(cfg);
}

static void test_resolve_env_bad_provider_entry(void **state)
{
	json_t *cfg = load("{\"secrets\":{\"providers\":{"
			   "\"broken\":{\"source\":\"env\",\"allowlist\":\"PT_SECRET\"}}}}");

	setenv("PT_SECRET", "sk-env-123", 1);
	assert_resolve_fails(cfg,
			     "{\"source\":\"env\",\"provider\":\"broken\",\"id\":\"PT_SECRET\"}",
			     "secrets.providers.broken: \"allowlist\" must be an array", "sk-env");
	json_decref(cfg);
}

static json_t *file_cfg(const char *path, const char *extra)
{
	return loadf("{\"secrets\":{\"providers\":{\"fm\":{\"source\":\"file\",\"path\":\"%s\"%s}},"
		     "\"defaults\":{\"file\":\"fm\"}}}",
		     path, extra);
}

static void test_resolve_file_json(void **state)
{
	char *path = write_file("secrets.json",
				"{\"providers\":{\"openai\":{\"apiKey\":\"sk-file-1\"}},"
				"\"a/b\":{\"c~d\":\"v-escaped\"},\"arr\":[\"x\",\"y\"],"
				"\"num\":5,\"empty\":\"\",\"\":{\"\":\"v-empty-keys\"}}",
				0600);
	json_t *cfg = file_cfg(path, "");

	assert_resolves(cfg,
			"{\"source\":\"file\",\"provider\":\"fm\","
			"\"id\":\"/providers/openai/apiKey\"}",
			"sk-file-1");
	/* Omitted provider: secrets.defaults.file. */
	assert_resolves(cfg, "{\"source\":\"file\",\"id\":\"/providers/openai/apiKey\"}",
			"sk-file-1");
	assert_resolves(cfg, "{\"source\":\"file\",\"id\":\"/a~1b/c~0d\"}", "v-escaped");
	assert_resolves(cfg, "{\"source\":\"file\",\"id\":\"/arr/1\"}", "y");
	assert_resolves(cfg, "{\"source\":\"file\",\"id\":\"//\"}", "v-empty-keys");
	assert_resolve_fails(cfg, "{\"source\":\"file\",\"id\":\"/arr/2\"}",
			     "JSON pointer segment \"2\" is out of bounds", "sk-file");
	assert_resolve_fails(cfg, "{\"source\":\"file\",\"id\":\"/arr/x\"}", "out of bounds", NULL);
	assert_resolve_fails(cfg, "{\"source\":\"file\",\"id\":\"/providers/nope/apiKey\"}",
			     "secret file:fm:/providers/nope/apiKey: JSON pointer segment "
			     "\"nope\" does not exist",
			     "sk-file");
	assert_resolve_fails(cfg, "{\"source\":\"file\",\"id\":\"/num/x\"}", "does not exist",
			     NULL);
	assert_resolve_fails(cfg, "{\"source\":\"file\",\"id\":\"/num\"}",
			     "resolved to a non-string or empty value", NULL);
	assert_resolve_fails(cfg, "{\"source\":\"file\",\"id\":\"/providers\"}",
			     "non-string or empty", "sk-file");
	assert_resolve_fails(cfg, "{\"source\":\"file\",\"id\":\"/empty\"}", "non-string or empty",
			     NULL);
	assert_resolve_fails(cfg, "{\"source\":\"file\",\"id\":\"value\"}",
			     "must be absolute JSON pointers", NULL);
	/* file/exec refs need a registered provider, even for "default". */
	assert_resolve_fails(cfg, "{\"source\":\"file\",\"provider\":\"default\",\"id\":\"/a\"}",
			     "provider \"default\" is not configured", NULL);
	json_decref(cfg);
	free(path);
}

static void test_resolve_file_single_value(void **state)
{
	char *path = write_file("token.txt", "\xEF\xBB\xBFsk-single\r\n", 0600);
	char *path2 = write_file("token2.txt", "line1\nline2\n\n", 0400);
	char *empty = write_file("empty.txt", "\n", 0600);
	json_t *cfg = file_cfg(path, ",\"mode\":\"singleValue\"");
	json_t *cfg2 = file_cfg(path2, ",\"mode\":\"singleValue\"");
	json_t *cfg3 = file_cfg(empty, ",\"mode\":\"singleValue\"");

	assert_resolves(cfg, "{\"source\":\"file\",\"id\":\"value\"}", "sk-single");
	/* Only one trailing newline goes. */
	assert_resolves(cfg2, "{\"source\":\"file\",\"id\":\"value\"}", "line1\nline2\n");
	assert_resolve_fails(cfg, "{\"source\":\"file\",\"id\":\"/value\"}",
			     "singleValue file provider \"fm\" expects ref id \"value\"",
			     "sk-single");
	assert_resolve_fails(cfg3, "{\"source\":\"file\",\"id\":\"value\"}", "non-string or empty",
			     NULL);
	json_decref(cfg);
	json_decref(cfg2);
	json_decref(cfg3);
	free(path);
	free(path2);
	free(empty);
}

static void test_resolve_file_permissions(void **state)
{
	char *path = write_file("open.json", "{\"k\":\"sk-open\"}", 0644);
	char *gw = write_file("gw.json", "{\"k\":\"sk-open\"}", 0620);
	char *slink = xasprintf("%s/link.json", tmpdir);
	char *hard = xasprintf("%s/hard.json", tmpdir);
	char *priv = write_file("priv.json", "{\"k\":\"sk-priv\"}", 0600);
	char *dir = xasprintf("%s", tmpdir);
	json_t *cfg = file_cfg(path, ""), *cfg_ok = file_cfg(path, ",\"allowInsecurePath\":true");
	json_t *cfg_gw = file_cfg(gw, ""), *cfg_link, *cfg_hard, *cfg_dir, *cfg_missing;
	char *msg;

	msg = xasprintf("permissions are too open (mode 0644): %s", path);
	assert_resolve_fails(cfg, "{\"source\":\"file\",\"id\":\"/k\"}", msg, "sk-open");
	free(msg);
	assert_resolve_fails(cfg_gw, "{\"source\":\"file\",\"id\":\"/k\"}", "mode 0620", "sk-open");
	assert_resolves(cfg_ok, "{\"source\":\"file\",\"id\":\"/k\"}", "sk-open");

	unlink(slink);
	assert_int_equal(symlink(priv, slink), 0);
	cfg_link = file_cfg(slink, "");
	assert_resolve_fails(cfg_link, "{\"source\":\"file\",\"id\":\"/k\"}",
			     "must not be a symlink", "sk-priv");

	unlink(hard);
	assert_int_equal(link(priv, hard), 0);
	cfg_hard = file_cfg(hard, "");
	assert_resolve_fails(cfg_hard, "{\"source\":\"file\",\"id\":\"/k\"}",
			     "must not be hardlinked", "sk-priv");
	unlink(hard);

	cfg_dir = file_cfg(dir, "");
	assert_resolve_fails(cfg_dir, "{\"source\":\"file\",\"id\":\"/k\"}",
			     "must be a regular file", NULL);
	cfg_missing = file_cfg("/nonexistent/pincer/secrets.json", "");
	assert_resolve_fails(cfg_missing, "{\"source\":\"file\",\"id\":\"/k\"}",
			     "is not readable: /nonexistent/pincer/secrets.json", NULL);

	json_decref(cfg);
	json_decref(cfg_ok);
	json_decref(cfg_gw);
	json_decref(cfg_link);
	json_decref(cfg_hard);
	json_decref(cfg_dir);
	json_decref(cfg_missing);
	free(path);
	free(gw);
	free(slink);
	free(hard);
	free(priv);
	free(dir);
}

static void test_resolve_file_size_and_garbage(void **state)
{
	char *big = write_file("big.json", "{\"k\":\"sk-big-0123456789\"}", 0600);
	char *garbage = write_file("garbage.json", "sk-GARBAGE-not-json {", 0600);
	char *arr = write_file("arr.json", "[\"sk-array\"]", 0600);
	json_t *cfg_big = file_cfg(big, ",\"maxBytes\":10");
	json_t *cfg_garbage = file_cfg(garbage, "");
	json_t *cfg_arr = file_cfg(arr, "");

	assert_resolve_fails(cfg_big, "{\"source\":\"file\",\"id\":\"/k\"}",
			     "larger than maxBytes (10)", "sk-big");
	assert_resolve_fails(cfg_garbage, "{\"source\":\"file\",\"id\":\"/k\"}",
			     "payload is not valid JSON", "sk-GARBAGE");
	assert_resolve_fails(cfg_arr, "{\"source\":\"file\",\"id\":\"/0\"}",
			     "payload is not a JSON object", "sk-array");
	json_decref(cfg_big);
	json_decref(cfg_garbage);
	json_decref(cfg_arr);
	free(big);
	free(garbage);
	free(arr);
}

/* --------------------------------------------------------------- exec */

static json_t *exec_cfg(const char *command, const char *extra)
{
	return loadf("{\"secrets\":{\"providers\":{\"vault\":{\"source\":\"exec\","
		     "\"command\":\"%s\"%s}}}}",
		     command, extra);
}

#define EXEC_REF "{\"source\":\"exec\",\"provider\":\"vault\",\"id\":\"openai/api-key\"}"

static char *script(const char *name, const char *body)
{
	char *text = xasprintf("#!/bin/sh\n%s", body);
	char *path = write_file(name, text, 0700);

	free(text);
	return path;
}

/* No child of ours may be left behind, running or as a zombie. */
static void assert_no_children(void)
{
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_exec_good(void **state)
{
	/* Checks the exact request, then answers with the value. */
	char *good = script("good.sh",
			    "req=$(cat)\n"
			    "want='{\"protocolVersion\":1,\"provider\":\"vault\","
			    "\"ids\":[\"openai/api-key\"]}'\n"
			    "[ \"$req\" = \"$want\" ] || { echo \"bad: $req\" >&2; exit 9; }\n"
			    "echo 'noise on stderr' >&2\n"
			    "printf '{\"protocolVersion\":1,\"values\":"
			    "{\"openai/api-key\":\"sk-exec-1\"}}\\n'\n");
	json_t *cfg = exec_cfg(good, "");

	assert_resolves(cfg, EXEC_REF, "sk-exec-1");
	assert_no_children();
	json_decref(cfg);
	free(good);
}

static void test_exec_env_args_cwd(void **state)
{
	char *s = script("envargs.sh",
			 "cat >/dev/null\n"
			 "printf '{\"protocolVersion\":1,\"values\":{\"openai/api-key\":"
			 "\"%s|%s|%s|%s|%s|%s\"}}' \"$PT_PASS\" \"$PT_FIXED\" \"${HOME:-nohome}\" "
			 "\"${PT_NOTPASSED:-unset}\" \"$1-$2\" \"$(pwd)\"\n");
	json_t *cfg = exec_cfg(s, ",\"passEnv\":[\"PT_PASS\",\"PT_ABSENT\"],"
				  "\"env\":{\"PT_FIXED\":\"fixed\"},\"args\":[\"one\",\"two\"]");
	char *expect;

	setenv("PT_PASS", "passed", 1);
	setenv("PT_NOTPASSED", "leaked", 1);
	unsetenv("PT_ABSENT");
	expect = xasprintf("passed|fixed|nohome|unset|one-two|%s", tmpdir);
	assert_resolves(cfg, EXEC_REF, expect);
	free(expect);
	json_decref(cfg);
	free(s);

	/* `env` overrides a passEnv variable of the same name. */
	s = script("envover.sh", "printf '{\"protocolVersion\":1,\"values\":"
				 "{\"openai/api-key\":\"%s\"}}' \"$PT_PASS\"\n");
	cfg = exec_cfg(s, ",\"passEnv\":[\"PT_PASS\"],\"env\":{\"PT_PASS\":\"from-env\"}");
	assert_resolves(cfg, EXEC_REF, "from-env");
	assert_no_children();
	json_decref(cfg);
	free(s);
}

static void test_exec_timeout(void **state)
{
	/* The script records its pid (= its process group) and leaves a grandchild. */
	char *pidfile = xasprintf("%s/slow.pid", tmpdir);
	char *body = xasprintf("echo $$ > '%s'\nsleep 10\necho '{}'\n", pidfile);
	char *s = script("slow.sh", body);
	json_t *cfg = exec_cfg(s, ",\"timeoutMs\":300");
	long long t0 = now_ms();
	FILE *f;
	int pgid = 0;

	assert_resolve_fails(cfg, EXEC_REF,
			     "secret exec:vault:openai/api-key: exec provider \"vault\" timed out "
			     "after 300ms",
			     NULL);
	assert_true(now_ms() - t0 < 3000);
	assert_no_children();

	/* The whole group went, the sleeping grandchild included. */
	f = fopen(pidfile, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &pgid), 1);
	fclose(f);
	assert_true(pgid > 1);
	for (int i = 0; i < 200 && kill(-pgid, 0) == 0; i++)
		usleep(10 * 1000);
	assert_int_equal(kill(-pgid, 0), -1);
	assert_int_equal(errno, ESRCH);

	json_decref(cfg);
	free(s);
	free(body);
	free(pidfile);
}

static void test_exec_no_output_timeout(void **state)
{
	char *s = script("idle.sh", "echo '{' \nsleep 10\n");
	json_t *cfg = exec_cfg(s, ",\"timeoutMs\":5000,\"noOutputTimeoutMs\":200");
	long long t0 = now_ms();

	assert_resolve_fails(cfg, EXEC_REF, "produced no output for 200ms", NULL);
	assert_true(now_ms() - t0 < 3000);
	assert_no_children();
	json_decref(cfg);
	free(s);
}

static void test_exec_closes_stdout_but_lingers(void **state)
{
	/* Output done and closed, but the process does not exit: still bounded. */
	char *s = script("linger.sh", "printf '{\"protocolVersion\":1,\"values\":"
				      "{\"openai/api-key\":\"v\"}}'\nexec >&- 2>&-\nsleep 10\n");
	json_t *cfg = exec_cfg(s, ",\"timeoutMs\":400");

	assert_resolve_fails(cfg, EXEC_REF, "timed out after 400ms", NULL);
	assert_no_children();
	json_decref(cfg);
	free(s);
}

static void test_exec_garbage(void **state)
{
	char *s = script("garbage.sh", "echo 'sk-PLAIN-value not json'\n");
	json_t *cfg = exec_cfg(s, "");
	json_t *cfg_plain = exec_cfg(s, ",\"jsonOnly\":false");

	assert_resolve_fails(cfg, EXEC_REF, "exec provider \"vault\" returned invalid JSON",
			     "sk-PLAIN");
	/* jsonOnly false + one id: plain stdout (trimmed) is the value. */
	assert_resolves(cfg_plain, EXEC_REF, "sk-PLAIN-value not json");
	assert_no_children();
	json_decref(cfg);
	json_decref(cfg_plain);
	free(s);
}

static void test_exec_json_string_plain(void **state)
{
	char *s = script("jstr.sh", "echo '\"sk-quoted\"'\n");
	json_t *cfg = exec_cfg(s, "");
	json_t *cfg_plain = exec_cfg(s, ",\"jsonOnly\":false");

	assert_resolve_fails(cfg, EXEC_REF, "response must be an object", "sk-quoted");
	assert_resolves(cfg_plain, EXEC_REF, "sk-quoted");
	json_decref(cfg);
	json_decref(cfg_plain);
	free(s);
}

static void test_exec_empty_output(void **state)
{
	char *s = script("empty.sh", "echo '   '\n");
	json_t *cfg = exec_cfg(s, ",\"jsonOnly\":false");

	assert_resolve_fails(cfg, EXEC_REF, "returned empty stdout", NULL);
	json_decref(cfg);
	free(s);
}

static void test_exec_nonzero_exit(void **state)
{
	char *s = script("fail.sh", "printf '{\"protocolVersion\":1,\"values\":"
				    "{\"openai/api-key\":\"sk-x\"}}'\nexit 4\n");
	char *k = script("killed.sh", "kill -TERM $$\n");
	json_t *cfg = exec_cfg(s, ""), *cfg_k = exec_cfg(k, "");

	assert_resolve_fails(cfg, EXEC_REF, "exec provider \"vault\" exited with code 4", "sk-x");
	assert_resolve_fails(cfg_k, EXEC_REF, "killed by signal 15", NULL);
	assert_no_children();
	json_decref(cfg);
	json_decref(cfg_k);
	free(s);
	free(k);
}

static void test_exec_reported_error(void **state)
{
	char *s = script("err.sh", "printf '{\"protocolVersion\":1,\"values\":{},\"errors\":"
				   "{\"openai/api-key\":{\"message\":\"sk-LEAKED in message\","
				   "\"code\":\"NOT_FOUND\"}}}'\n");
	char *s2 = script("err2.sh", "printf '{\"protocolVersion\":1,\"values\":"
				     "{\"openai/api-key\":\"sk-v\"},\"errors\":"
				     "{\"openai/api-key\":{\"message\":\"sk-LEAKED\"}}}'\n");
	json_t *cfg = exec_cfg(s, ""), *cfg2 = exec_cfg(s2, "");

	assert_resolve_fails(cfg, EXEC_REF,
			     "exec provider \"vault\" failed for id \"openai/api-key\" (NOT_FOUND)",
			     "sk-LEAKED");
	/* An error for the id wins over a value; free-form text is never shown. */
	assert_resolve_fails(cfg2, EXEC_REF, "failed for id \"openai/api-key\"", "sk-LEAKED");
	json_decref(cfg);
	json_decref(cfg2);
	free(s);
	free(s2);
}

static void test_exec_protocol_errors(void **state)
{
	static const struct {
		const char *out, *err;
	} cases[] = {
		{ "{\"protocolVersion\":2,\"values\":{\"openai/api-key\":\"sk-p\"}}",
		  "protocolVersion must be 1" },
		{ "{\"values\":{\"openai/api-key\":\"sk-p\"}}", "protocolVersion must be 1" },
		{ "{\"protocolVersion\":1}", "response missing \"values\"" },
		{ "{\"protocolVersion\":1,\"values\":{\"other\":\"sk-p\"}}",
		  "response missing id \"openai/api-key\"" },
		{ "{\"protocolVersion\":1,\"values\":{\"openai/api-key\":5}}",
		  "non-string or empty" },
		{ "{\"protocolVersion\":1,\"values\":{\"openai/api-key\":\"\"}}",
		  "non-string or empty" },
		{ "[1,2]", "response must be an object" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *body = xasprintf("cat <<'EOF'\n%s\nEOF\n", cases[i].out);
		char *s = script("proto.sh", body);
		json_t *cfg = exec_cfg(s, "");
		char *got = resolve(cfg, EXEC_REF);
		const char *want = cases[i].err;

		if (strncmp(got, "ERR:", 4) || !strstr(got, want))
			fail_msg("case %zu: expected \"%s\", got \"%s\"", i, want, got);
		if (strstr(got, "sk-p"))
			fail_msg("case %zu leaks: %s", i, got);
		free(got);
		json_decref(cfg);
		free(s);
		free(body);
	}
	assert_no_children();
}

static void test_exec_output_cap(void **state)
{
	char *s = script("big.sh",
			 "i=0\nwhile [ $i -lt 2000 ]; do echo "
			 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done\n");
	char *e = script("bigerr.sh", "i=0\nwhile [ $i -lt 2000 ]; do echo "
				      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx >&2; i=$((i+1)); done\n"
				      "echo '{}'\n");
	json_t *cfg = exec_cfg(s, ",\"maxOutputBytes\":1000");
	json_t *cfg_e = exec_cfg(e, ",\"maxOutputBytes\":1000");

	assert_resolve_fails(cfg, EXEC_REF, "output exceeded maxOutputBytes (1000)", NULL);
	/* stderr counts against the cap too. */
	assert_resolve_fails(cfg_e, EXEC_REF, "output exceeded maxOutputBytes (1000)", NULL);
	assert_no_children();
	json_decref(cfg);
	json_decref(cfg_e);
	free(s);
	free(e);
}

static void test_exec_ignores_stdin(void **state)
{
	/* A resolver that never reads its request must not hurt us (SIGPIPE). */
	char *s = script("nostdin.sh", "exec 0<&-\nprintf '{\"protocolVersion\":1,\"values\":"
				       "{\"openai/api-key\":\"sk-ok\"}}'\n");
	json_t *cfg = exec_cfg(s, "");

	for (int i = 0; i < 5; i++)
		assert_resolves(cfg, EXEC_REF, "sk-ok");
	assert_no_children();
	json_decref(cfg);
	free(s);
}

static void test_exec_command_checks(void **state)
{
	char *good = script("ok.sh", "printf '{\"protocolVersion\":1,\"values\":"
				     "{\"openai/api-key\":\"sk-ok\"}}'\n");
	char *gw = script("gw.sh", "exit 0\n");
	char *noexec = write_file("noexec.sh", "#!/bin/sh\nexit 0\n", 0600);
	char *slink = xasprintf("%s/link.sh", tmpdir);
	json_t *cfg;
	char *msg;

	assert_int_equal(chmod(gw, 0775), 0);
	cfg = exec_cfg(gw, "");
	msg = xasprintf("command permissions are too open (mode 0775, writable by group or "
			"others): %s",
			gw);
	assert_resolve_fails(cfg, EXEC_REF, msg, NULL);
	free(msg);
	json_decref(cfg);
	/* Readable and executable by others is fine; writable is not. */
	assert_int_equal(chmod(good, 0755), 0);
	cfg = exec_cfg(good, "");
	assert_resolves(cfg, EXEC_REF, "sk-ok");
	json_decref(cfg);

	cfg = exec_cfg(gw, ",\"allowInsecurePath\":true");
	assert_resolve_fails(cfg, EXEC_REF, "returned empty stdout", NULL);
	json_decref(cfg);

	unlink(slink);
	assert_int_equal(symlink(good, slink), 0);
	cfg = exec_cfg(slink, "");
	assert_resolve_fails(cfg, EXEC_REF, "command must not be a symlink", NULL);
	json_decref(cfg);
	cfg = exec_cfg(slink, ",\"allowSymlinkCommand\":true");
	assert_resolves(cfg, EXEC_REF, "sk-ok");
	json_decref(cfg);

	cfg = loadf("{\"secrets\":{\"providers\":{\"vault\":{\"source\":\"exec\","
		    "\"command\":\"%s\",\"trustedDirs\":[\"/usr/lib\",\"/opt\"]}}}}",
		    good);
	assert_resolve_fails(cfg, EXEC_REF, "is outside trustedDirs", NULL);
	json_decref(cfg);
	cfg = loadf("{\"secrets\":{\"providers\":{\"vault\":{\"source\":\"exec\","
		    "\"command\":\"%s\",\"trustedDirs\":[\"/usr/lib\",\"%s/\"]}}}}",
		    good, tmpdir);
	assert_resolves(cfg, EXEC_REF, "sk-ok");
	json_decref(cfg);

	cfg = exec_cfg(noexec, "");
	assert_resolve_fails(cfg, EXEC_REF, "could not run", NULL);
	json_decref(cfg);

	cfg = exec_cfg("/nonexistent/pincer-resolver", "");
	assert_resolve_fails(cfg, EXEC_REF, "command is not readable: /nonexistent/pincer-resolver",
			     NULL);
	json_decref(cfg);

	cfg = exec_cfg(tmpdir, "");
	assert_resolve_fails(cfg, EXEC_REF, "command must be a regular file", NULL);
	json_decref(cfg);

	cfg = load("{\"secrets\":{\"providers\":{\"vault\":{\"source\":\"exec\","
		   "\"command\":\"bin/vault\"}}}}");
	assert_resolve_fails(cfg, EXEC_REF, "\"command\" must be an absolute path", NULL);
	json_decref(cfg);

	cfg = load("{\"secrets\":{\"providers\":{\"vault\":{\"source\":\"exec\","
		   "\"pluginIntegration\":{\"pluginId\":\"p\",\"integrationId\":\"i\"}}}}}");
	assert_resolve_fails(cfg, EXEC_REF, "pluginIntegration", NULL);
	json_decref(cfg);

	assert_no_children();
	free(good);
	free(gw);
	free(noexec);
	free(slink);
}

static void test_exec_default_provider(void **state)
{
	char *s = script("def.sh", "printf '{\"protocolVersion\":1,\"values\":"
				   "{\"k\":\"sk-default\"}}'\n");
	json_t *cfg = loadf("{\"secrets\":{\"providers\":{\"vault\":{\"source\":\"exec\","
			    "\"command\":\"%s\"}},\"defaults\":{\"exec\":\"vault\"}}}",
			    s);

	assert_resolves(cfg, "{\"source\":\"exec\",\"id\":\"k\"}", "sk-default");
	assert_resolve_fails(cfg, "{\"source\":\"exec\",\"provider\":\"default\",\"id\":\"k\"}",
			     "provider \"default\" is not configured", NULL);
	json_decref(cfg);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_ref),
		cmocka_unit_test(test_ref_check_shape),
		cmocka_unit_test(test_ref_check_provider_pattern),
		cmocka_unit_test(test_ref_check_env_ids),
		cmocka_unit_test(test_ref_check_file_ids),
		cmocka_unit_test(test_ref_check_exec_ids),
		cmocka_unit_test(test_ref_check_nul_in_id),
		cmocka_unit_test(test_provider_check_env),
		cmocka_unit_test(test_provider_check_file),
		cmocka_unit_test(test_provider_check_exec),
		cmocka_unit_test(test_resolve_plain_and_bad),
		cmocka_unit_test(test_resolve_env),
		cmocka_unit_test(test_resolve_env_providers),
		cmocka_unit_test(test_resolve_env_bad_provider_entry),
		cmocka_unit_test(test_resolve_file_json),
		cmocka_unit_test(test_resolve_file_single_value),
		cmocka_unit_test(test_resolve_file_permissions),
		cmocka_unit_test(test_resolve_file_size_and_garbage),
		cmocka_unit_test(test_exec_good),
		cmocka_unit_test(test_exec_env_args_cwd),
		cmocka_unit_test(test_exec_timeout),
		cmocka_unit_test(test_exec_no_output_timeout),
		cmocka_unit_test(test_exec_closes_stdout_but_lingers),
		cmocka_unit_test(test_exec_garbage),
		cmocka_unit_test(test_exec_json_string_plain),
		cmocka_unit_test(test_exec_empty_output),
		cmocka_unit_test(test_exec_nonzero_exit),
		cmocka_unit_test(test_exec_reported_error),
		cmocka_unit_test(test_exec_protocol_errors),
		cmocka_unit_test(test_exec_output_cap),
		cmocka_unit_test(test_exec_ignores_stdin),
		cmocka_unit_test(test_exec_command_checks),
		cmocka_unit_test(test_exec_default_provider),
	};

	return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
