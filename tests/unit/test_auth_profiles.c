/*
 * test_auth_profiles.c - auth-profiles.json: ordering, cooldowns, billing
 * backoff, env fallback, persistence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utime.h>

#include "config/config.h"
#include "core/mem.h"
#include "providers/auth.h"

#define MIN  (60LL * 1000)
#define HOUR (60 * MIN)
#define T0   1700000000000LL

static char tmpdir[PATH_MAX];
static struct config cfg;

static int setup(void **state)
{
	assert_int_equal(tu_mkdtemp(tmpdir, sizeof(tmpdir), "authprof"), 0);
	config_init(&cfg);
	cfg.root = json_object();
	unsetenv("ANTHROPIC_API_KEY");
	unsetenv("OLLAMA_API_KEY");
	unsetenv("PINCER_TEST_KEY");
	return 0;
}

static int teardown(void **state)
{
	config_release(&cfg);
	assert_int_equal(tu_rm_rf(tmpdir), 0);
	return 0;
}

static char *file_path(void)
{
	return xasprintf("%s/auth-profiles.json", tmpdir);
}

static void write_store(const char *text)
{
	char *path = file_path();
	FILE *f = fopen(path, "w");
	struct stat st;
	struct utimbuf ut;

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	/* Make the change visible to an mtime check even within one clock tick. */
	assert_int_equal(stat(path, &st), 0);
	ut.actime = st.st_atime;
	ut.modtime = st.st_mtime + 1;
	utime(path, &ut);
	free(path);
}

static json_t *read_store(void)
{
	char *path = file_path();
	json_t *v = json_load_file(path, 0, NULL);

	free(path);
	assert_non_null(v);
	return v;
}

static json_t *stats_of(json_t *doc, const char *id)
{
	return json_object_get(json_object_get(doc, "usageStats"), id);
}

static long long stat_field(const char *id, const char *field)
{
	json_t *doc = read_store();
	long long v = json_integer_value(json_object_get(stats_of(doc, id), field));

	json_decref(doc);
	return v;
}

static const char *THREE =
	"{\"version\":1,\"profiles\":{"
	"\"anthropic:a\":{\"type\":\"api_key\",\"provider\":\"anthropic\",\"key\":\"sk-a\"},"
	"\"anthropic:b\":{\"type\":\"api_key\",\"provider\":\"anthropic\",\"key\":\"sk-b\"},"
	"\"anthropic:c\":{\"type\":\"api_key\",\"provider\":\"anthropic\",\"key\":\"sk-c\"},"
	"\"openai:x\":{\"type\":\"api_key\",\"provider\":\"openai\",\"key\":\"sk-x\"}},"
	"\"usageStats\":{\"anthropic:a\":{\"lastUsed\":300},\"anthropic:b\":{\"lastUsed\":100},"
	"\"anthropic:c\":{\"lastUsed\":200}}}";

static void expect_ids(struct auth_candidate *c, size_t n, const char *const *ids, size_t nids)
{
	assert_int_equal(n, nids);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(c[i].profile_id, ids[i]);
}

static void test_order_lastused(void **state)
{
	struct auth_store *s;
	struct auth_candidate *c;
	size_t n;

	write_store(THREE);
	s = auth_store_open(tmpdir);
	n = auth_candidates(s, &cfg, "anthropic", NULL, T0, &c);
	expect_ids(c, n, (const char *[]){ "anthropic:b", "anthropic:c", "anthropic:a" }, 3);
	assert_string_equal(c[0].key, "sk-b");
	assert_int_equal(c[0].available_at, 0);
	auth_candidates_free(c, n);

	/* Sticky leads while healthy. */
	n = auth_candidates(s, &cfg, "anthropic", "anthropic:a", T0, &c);
	expect_ids(c, n, (const char *[]){ "anthropic:a", "anthropic:b", "anthropic:c" }, 3);
	auth_candidates_free(c, n);

	/* Cooldown goes last, and a sticky profile in cooldown does not lead. */
	auth_mark_failure(s, "anthropic:b", PROV_ERR_AUTH, -1, T0);
	n = auth_candidates(s, &cfg, "anthropic", "anthropic:b", T0 + 1000, &c);
	expect_ids(c, n, (const char *[]){ "anthropic:c", "anthropic:a", "anthropic:b" }, 3);
	assert_int_equal(c[2].available_at, T0 + 30000);
	auth_candidates_free(c, n);

	/* Success moves lastUsed forward: b becomes the newest. */
	auth_mark_success(s, "anthropic:c", T0 + 2000);
	n = auth_candidates(s, &cfg, "anthropic", NULL, T0 + 40000, &c);
	expect_ids(c, n, (const char *[]){ "anthropic:b", "anthropic:a", "anthropic:c" }, 3);
	auth_candidates_free(c, n);
	auth_store_free(s);
}

static void test_order_explicit(void **state)
{
	struct auth_store *s;
	struct auth_candidate *c;
	size_t n;

	write_store(THREE);
	json_decref(cfg.root);
	cfg.root =
		json_loads("{\"auth\":{\"order\":{\"anthropic\":[\"anthropic:c\",\"anthropic:a\","
			   "\"anthropic:gone\"]}}}",
			   0, NULL);
	s = auth_store_open(tmpdir);
	n = auth_candidates(s, &cfg, "anthropic", NULL, T0, &c);
	expect_ids(c, n, (const char *[]){ "anthropic:c", "anthropic:a" }, 2);
	auth_candidates_free(c, n);

	/* The file's own order wins over config. */
	write_store("{\"version\":1,\"profiles\":{"
		    "\"anthropic:a\":{\"type\":\"api_key\",\"provider\":\"anthropic\",\"key\":\"sk-"
		    "a\"},"
		    "\"anthropic:b\":{\"type\":\"api_key\",\"provider\":\"anthropic\",\"key\":\"sk-"
		    "b\"}},"
		    "\"order\":{\"anthropic\":[\"anthropic:b\",\"anthropic:a\"]}}");
	n = auth_candidates(s, &cfg, "anthropic", NULL, T0, &c);
	expect_ids(c, n, (const char *[]){ "anthropic:b", "anthropic:a" }, 2);
	auth_candidates_free(c, n);

	/* In explicit order too, cooldowns go last. */
	auth_mark_failure(s, "anthropic:b", PROV_ERR_RATE_LIMIT, -1, T0);
	n = auth_candidates(s, &cfg, "anthropic", NULL, T0, &c);
	expect_ids(c, n, (const char *[]){ "anthropic:a", "anthropic:b" }, 2);
	auth_candidates_free(c, n);
	auth_store_free(s);
}

static void test_cooldown_schedule(void **state)
{
	struct auth_store *s;
	int64_t now = T0;

	assert_int_equal(auth_cooldown_ms(1), 30000);
	assert_int_equal(auth_cooldown_ms(2), 60000);
	assert_int_equal(auth_cooldown_ms(3), 5 * MIN);
	assert_int_equal(auth_cooldown_ms(9), 5 * MIN);

	write_store(THREE);
	s = auth_store_open(tmpdir);
	/* Consecutive failures inside the window keep the window but count up. */
	auth_mark_failure(s, "anthropic:a", PROV_ERR_AUTH, -1, now);
	assert_int_equal(stat_field("anthropic:a", "cooldownUntil"), now + 30000);
	assert_int_equal(stat_field("anthropic:a", "errorCount"), 1);
	auth_mark_failure(s, "anthropic:a", PROV_ERR_TIMEOUT, -1, now + 1000);
	assert_int_equal(stat_field("anthropic:a", "cooldownUntil"), now + 30000);
	assert_int_equal(stat_field("anthropic:a", "errorCount"), 2);

	/* Once the window has passed the count starts over. */
	now += 31000;
	auth_mark_failure(s, "anthropic:a", PROV_ERR_AUTH, -1, now);
	assert_int_equal(stat_field("anthropic:a", "errorCount"), 1);
	assert_int_equal(stat_field("anthropic:a", "cooldownUntil"), now + 30000);

	/* Errors that are not the key's fault leave the profile alone. */
	auth_mark_failure(s, "anthropic:b", PROV_ERR_OVERLOADED, -1, now);
	auth_mark_failure(s, "anthropic:b", PROV_ERR_CONTEXT_OVERFLOW, -1, now);
	auth_mark_failure(s, "anthropic:b", PROV_ERR_FORMAT, -1, now);
	auth_mark_failure(s, "anthropic:b", PROV_ERR_SERVER, -1, now);
	assert_int_equal(stat_field("anthropic:b", "errorCount"), 0);
	assert_int_equal(stat_field("anthropic:b", "cooldownUntil"), 0);

	/* Rate limits back off 30 s, 60 s, 120 s … by their own count. */
	now = T0 + HOUR;
	for (int i = 0; i < 3; i++) {
		auth_mark_failure(s, "anthropic:c", PROV_ERR_RATE_LIMIT, -1, now);
		assert_int_equal(stat_field("anthropic:c", "cooldownUntil"), now + (30000LL << i));
		now += (30000LL << i) + 1;
	}
	auth_store_free(s);
}

static void test_retry_after(void **state)
{
	struct auth_store *s;

	write_store(THREE);
	s = auth_store_open(tmpdir);
	auth_mark_failure(s, "anthropic:a", PROV_ERR_RATE_LIMIT, 10 * MIN, T0);
	assert_int_equal(stat_field("anthropic:a", "cooldownUntil"), T0 + 10 * MIN);
	/* A shorter Retry-After does not shorten the cooldown. */
	auth_mark_failure(s, "anthropic:b", PROV_ERR_RATE_LIMIT, 1000, T0);
	assert_int_equal(stat_field("anthropic:b", "cooldownUntil"), T0 + 30000);
	auth_store_free(s);
}

static void test_billing(void **state)
{
	struct auth_store *s;
	struct auth_candidate *c;
	size_t n;
	int64_t now = T0;
	int64_t expect = 10 * MIN;
	json_t *doc;

	write_store(THREE);
	s = auth_store_open(tmpdir);
	for (int i = 0; i < 10; i++) {
		auth_mark_failure(s, "anthropic:a", PROV_ERR_BILLING, -1, now);
		assert_int_equal(stat_field("anthropic:a", "disabledUntil"), now + expect);
		now += expect; /* just expired: the next failure counts on */
		expect = expect * 2 > 24 * HOUR ? 24 * HOUR : expect * 2;
	}
	assert_int_equal(expect, 24 * HOUR);
	doc = read_store();
	assert_string_equal(
		json_string_value(json_object_get(stats_of(doc, "anthropic:a"), "disabledReason")),
		"billing");
	json_decref(doc);

	n = auth_candidates(s, &cfg, "anthropic", NULL, now - 1, &c);
	assert_string_equal(c[n - 1].profile_id, "anthropic:a");
	assert_true(c[n - 1].available_at > 0);
	auth_candidates_free(c, n);

	/* Success clears it all. */
	auth_mark_success(s, "anthropic:a", now);
	doc = read_store();
	assert_null(json_object_get(stats_of(doc, "anthropic:a"), "disabledUntil"));
	assert_null(json_object_get(stats_of(doc, "anthropic:a"), "failureCounts"));
	assert_int_equal(
		json_integer_value(json_object_get(stats_of(doc, "anthropic:a"), "errorCount")), 0);
	assert_int_equal(
		json_integer_value(json_object_get(stats_of(doc, "anthropic:a"), "lastUsed")), now);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(doc, "lastGood"), "anthropic")),
		"anthropic:a");
	json_decref(doc);
	auth_store_free(s);
}

static void test_success_and_window_reset(void **state)
{
	struct auth_store *s;

	write_store(THREE);
	s = auth_store_open(tmpdir);
	auth_mark_failure(s, "anthropic:a", PROV_ERR_AUTH, -1, T0);
	auth_mark_failure(s, "anthropic:a", PROV_ERR_AUTH, -1, T0 + 1);
	assert_int_equal(stat_field("anthropic:a", "errorCount"), 2);
	auth_mark_success(s, "anthropic:a", T0 + 2);
	assert_int_equal(stat_field("anthropic:a", "errorCount"), 0);
	assert_int_equal(stat_field("anthropic:a", "cooldownUntil"), 0);

	/* 24 h after the last failure the counter restarts even with a window open. */
	write_store("{\"version\":1,\"profiles\":{\"anthropic:a\":{\"type\":\"api_key\","
		    "\"provider\":\"anthropic\",\"key\":\"sk-a\"}},\"usageStats\":{\"anthropic:a\":"
		    "{\"errorCount\":7,\"lastFailureAt\":1000,\"disabledUntil\":99999999999999,"
		    "\"disabledReason\":\"billing\",\"failureCounts\":{\"billing\":7}}}}");
	auth_mark_failure(s, "anthropic:a", PROV_ERR_AUTH, -1, T0);
	assert_int_equal(stat_field("anthropic:a", "errorCount"), 1);
	auth_store_free(s);
}

static void test_env_fallback(void **state)
{
	struct auth_store *s;
	struct auth_candidate *c;
	size_t n;

	s = auth_store_open(tmpdir); /* no file at all */
	n = auth_candidates(s, &cfg, "anthropic", NULL, T0, &c);
	assert_int_equal(n, 0);
	assert_null(c);

	setenv("ANTHROPIC_API_KEY", "sk-env", 1);
	n = auth_candidates(s, &cfg, "anthropic", NULL, T0, &c);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].profile_id, "anthropic:env");
	assert_string_equal(c[0].key, "sk-env");
	auth_candidates_free(c, n);

	/* Auth failures of the env key are remembered as OpenClaw does. */
	auth_mark_failure(s, "anthropic:env", PROV_ERR_AUTH, -1, T0);
	auth_mark_failure(s, "anthropic:env", PROV_ERR_TIMEOUT, -1, T0);
	assert_int_equal(stat_field("inline-api-key:anthropic", "errorCount"), 1);
	n = auth_candidates(s, &cfg, "anthropic", NULL, T0 + 1, &c);
	assert_int_equal(c[0].available_at, T0 + 30000);
	auth_candidates_free(c, n);
	unsetenv("ANTHROPIC_API_KEY");

	/* A provider with profiles for another provider only still falls back. */
	write_store(THREE);
	n = auth_candidates(s, &cfg, "google", NULL, T0, &c);
	assert_int_equal(n, 0);

	/* Keyless: one candidate without a key. */
	n = auth_candidates(s, &cfg, "ollama", NULL, T0, &c);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].profile_id, "ollama:env");
	assert_null(c[0].key);
	auth_candidates_free(c, n);
	auth_store_free(s);
}

static void test_secret_refs_and_types(void **state)
{
	struct auth_store *s;
	struct auth_candidate *c;
	size_t n;

	write_store(
		"{\"version\":1,\"profiles\":{"
		"\"openai:ref\":{\"type\":\"api_key\",\"provider\":\"openai\","
		"\"key\":{\"source\":\"env\",\"id\":\"PINCER_TEST_KEY\"}},"
		"\"openai:keyref\":{\"type\":\"api_key\",\"provider\":\"openai\","
		"\"keyRef\":{\"source\":\"env\",\"id\":\"PINCER_TEST_KEY\"}},"
		"\"openai:tok\":{\"type\":\"token\",\"provider\":\"openai\",\"token\":\"t-1\"},"
		"\"openai:old\":{\"type\":\"token\",\"provider\":\"openai\",\"token\":\"t-2\","
		"\"expires\":1000},"
		"\"openai:oauth\":{\"type\":\"oauth\",\"provider\":\"openai\",\"access\":\"a\","
		"\"refresh\":\"r\",\"expires\":99999999999999},"
		"\"openai:empty\":{\"type\":\"api_key\",\"provider\":\"openai\",\"key\":\"  \"}}}");
	s = auth_store_open(tmpdir);
	/* Unresolvable refs are skipped; tokens sort before keys; expired and OAuth are not used. */
	n = auth_candidates(s, &cfg, "openai", NULL, T0, &c);
	expect_ids(c, n, (const char *[]){ "openai:tok" }, 1);
	auth_candidates_free(c, n);

	setenv("PINCER_TEST_KEY", "sk-from-env-ref", 1);
	n = auth_candidates(s, &cfg, "openai", NULL, T0, &c);
	expect_ids(c, n, (const char *[]){ "openai:tok", "openai:ref", "openai:keyref" }, 3);
	assert_string_equal(c[1].key, "sk-from-env-ref");
	assert_string_equal(c[2].key, "sk-from-env-ref");
	auth_candidates_free(c, n);
	auth_store_free(s);
}

static void test_preserve_and_corrupt(void **state)
{
	struct auth_store *s;
	struct auth_candidate *c;
	size_t n;
	json_t *doc, *st;
	char *path = file_path();
	struct stat sb;

	write_store(
		"{\"version\":1,\"future\":{\"x\":1},\"profiles\":{"
		"\"anthropic:a\":{\"type\":\"api_key\",\"provider\":\"anthropic\",\"key\":\"sk-a\","
		"\"email\":\"me@example.com\",\"metadata\":{\"k\":\"v\"}},"
		"\"openai:o\":{\"type\":\"oauth\",\"provider\":\"openai\",\"access\":\"A\","
		"\"refresh\":\"R\",\"expires\":5}},"
		"\"usageStats\":{\"anthropic:a\":{\"lastProbeAt\":5,\"lastUsed\":1}}}");
	s = auth_store_open(tmpdir);
	auth_mark_failure(s, "anthropic:a", PROV_ERR_AUTH, -1, T0);
	doc = read_store();
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "future"), "x")),
			 1);
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(json_object_get(doc, "profiles"), "anthropic:a"), "email")),
		"me@example.com");
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(json_object_get(doc, "profiles"), "openai:o"), "refresh")),
		"R");
	st = stats_of(doc, "anthropic:a");
	assert_int_equal(json_integer_value(json_object_get(st, "lastProbeAt")), 5);
	assert_int_equal(json_integer_value(json_object_get(st, "errorCount")), 1);
	json_decref(doc);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	/* auth_status lists every profile with its windows. */
	doc = auth_status(s);
	assert_int_equal(json_array_size(json_object_get(doc, "profiles")), 2);
	json_decref(doc);

	/* Corrupt: treated as empty, never overwritten. */
	write_store("{\"version\":1,\"profiles\":{ oops");
	n = auth_candidates(s, &cfg, "anthropic", NULL, T0, &c);
	assert_int_equal(n, 0);
	auth_mark_failure(s, "anthropic:a", PROV_ERR_AUTH, -1, T0);
	auth_mark_success(s, "anthropic:a", T0);
	{
		FILE *f = fopen(path, "r");
		char buf[128] = { 0 };

		assert_non_null(f);
		assert_true(fread(buf, 1, sizeof(buf) - 1, f) > 0);
		fclose(f);
		assert_string_equal(buf, "{\"version\":1,\"profiles\":{ oops");
	}
	/* Repaired on disk: picked up again by mtime. */
	write_store(THREE);
	n = auth_candidates(s, &cfg, "anthropic", NULL, T0, &c);
	assert_int_equal(n, 3);
	auth_candidates_free(c, n);
	auth_store_free(s);
	free(path);
}

static void test_openrouter_bypass(void **state)
{
	struct auth_store *s;
	struct auth_candidate *c;
	size_t n;

	write_store("{\"version\":1,\"profiles\":{\"openrouter:a\":{\"type\":\"api_key\","
		    "\"provider\":\"openrouter\",\"key\":\"or-a\"}}}");
	s = auth_store_open(tmpdir);
	auth_mark_failure(s, "openrouter:a", PROV_ERR_RATE_LIMIT, 60000, T0);
	n = auth_candidates(s, &cfg, "openrouter", NULL, T0, &c);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].available_at, 0);
	auth_candidates_free(c, n);
	auth_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_lastused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_explicit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cooldown_schedule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_billing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_success_and_window_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_refs_and_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preserve_and_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_openrouter_bypass, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
