/*
 * test_auth_status.c - auth_report and auth_provider_status, the one
 * implementation behind `pincer models status` and models.authStatus:
 * where each credential comes from, and that no key ever appears.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/jsonx.h"
#include "core/mem.h"
#include "providers/auth.h"

#define NOW 1700000000000LL

#define KEY_ENV  "sk-ant-env-SECRET-1234567890"
#define KEY_CFG  "sk-cfg-SECRET-1234567890"
#define KEY_PROF "sk-prof-SECRET-1234567890"

static char tmpdir[PATH_MAX];
static struct config cfg;
static struct auth_store *st;

static const char *const env_vars[] = {
	"ANTHROPIC_API_KEY", "OPENAI_API_KEY",        "GEMINI_API_KEY",
	"GOOGLE_API_KEY",    "OLLAMA_API_KEY",        "OPENROUTER_API_KEY",
	"DEEPSEEK_API_KEY",  "GROQ_API_KEY",          "MISTRAL_API_KEY",
	"XAI_API_KEY",       "MOONSHOT_API_KEY",      "KIMI_API_KEY",
	"MINIMAX_API_KEY",   "TOGETHER_API_KEY",      "VLLM_API_KEY",
	"LM_API_TOKEN",      "MINIMAX_CODE_PLAN_KEY", "MINIMAX_CODING_API_KEY",
	"PINCER_TEST_KEY",
};

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(env_vars); i++)
		unsetenv(env_vars[i]);
	assert_int_equal(tu_mkdtemp(tmpdir, sizeof(tmpdir), "authstatus"), 0);
	config_init(&cfg);
	st = auth_store_open(tmpdir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	auth_store_free(st);
	config_release(&cfg);
	assert_int_equal(tu_rm_rf(tmpdir), 0);
	return 0;
}

static void cfg_set(const char *text)
{
	json_error_t jerr;

	json_decref(cfg.root);
	cfg.root = json_loads(text, 0, &jerr);
	if (!cfg.root)
		fail_msg("bad test json: %s", jerr.text);
}

static void profiles_set(const char *text)
{
	free(tu_write_file(tmpdir, "auth-profiles.json", text, 0600));
}

/* The report for "main", checked to hold no key. Caller frees. */
static json_t *report(void)
{
	json_t *r = auth_report(st, &cfg, "main", NOW);
	char *text = json_dump_str(r, 0);

	assert_null(strstr(text, "SECRET"));
	free(text);
	return r;
}

static const char *sget(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static json_t *row_of(json_t *r, const char *provider)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(r, "providers"), i, v)
	{
		if (!strcmp(sget(v, "provider"), provider))
			return v;
	}
	fail_msg("no row for %s", provider);
	return NULL;
}

static json_t *cred0(json_t *r)
{
	return json_array_get(json_object_get(r, "credentials"), 0);
}

static void test_no_model(void **state)
{
	json_t *r;

	(void)state;
	cfg_set("{}");
	r = report();
	assert_true(json_is_null(json_object_get(r, "model")));
	assert_true(json_is_false(json_object_get(r, "usable")));
	assert_non_null(strstr(sget(r, "problem"), "no model"));
	assert_int_equal(json_array_size(json_object_get(r, "providers")), 0);
	json_decref(r);
}

static void test_no_key(void **state)
{
	json_t *r, *a;

	(void)state;
	cfg_set("{\"agents\":{\"defaults\":{\"model\":\"anthropic/claude-sonnet-5\"}}}");
	r = report();
	assert_string_equal(sget(r, "provider"), "anthropic");
	assert_true(json_is_false(json_object_get(r, "usable")));
	assert_int_equal(json_array_size(json_object_get(r, "credentials")), 0);
	assert_non_null(strstr(sget(r, "problem"), "ANTHROPIC_API_KEY"));
	a = row_of(r, "anthropic");
	assert_string_equal(sget(a, "status"), "missing");
	assert_null(json_object_get(a, "apiKey"));
	json_decref(r);
}

static void test_env_key(void **state)
{
	json_t *r, *a;

	(void)state;
	setenv("ANTHROPIC_API_KEY", KEY_ENV, 1);
	setenv("OPENAI_API_KEY", KEY_ENV, 1);
	cfg_set("{\"agents\":{\"defaults\":{\"model\":\"anthropic/claude-sonnet-5\"}}}");
	r = report();
	assert_true(json_is_true(json_object_get(r, "usable")));
	assert_null(json_object_get(r, "problem"));
	assert_string_equal(sget(cred0(r), "source"), "env");
	assert_string_equal(sget(cred0(r), "envVar"), "ANTHROPIC_API_KEY");
	a = row_of(r, "anthropic");
	assert_string_equal(sget(a, "status"), "static");
	assert_string_equal(sget(json_object_get(a, "apiKey"), "envVar"), "ANTHROPIC_API_KEY");
	/* A preset whose key is in the environment has a row though nothing names it. */
	assert_string_equal(sget(json_object_get(row_of(r, "openai"), "apiKey"), "source"), "env");
	json_decref(r);
}

static void test_config_key_and_secretref(void **state)
{
	json_t *r;

	(void)state;
	cfg_set("{\"agents\":{\"defaults\":{\"model\":\"openai/gpt-5\"}},"
		"\"models\":{\"providers\":{\"openai\":{\"apiKey\":\"" KEY_CFG "\"}}}}");
	r = report();
	assert_true(json_is_true(json_object_get(r, "usable")));
	assert_string_equal(sget(cred0(r), "source"), "config");
	assert_null(json_object_get(cred0(r), "envVar"));
	assert_string_equal(sget(json_object_get(row_of(r, "openai"), "apiKey"), "source"),
			    "config");
	json_decref(r);

	cfg_set("{\"agents\":{\"defaults\":{\"model\":\"openai/gpt-5\"}},"
		"\"models\":{\"providers\":{\"openai\":{\"apiKey\":"
		"{\"source\":\"env\",\"provider\":\"default\",\"id\":\"PINCER_TEST_KEY\"}}}}}");
	r = report();
	assert_true(json_is_false(json_object_get(r, "usable")));
	assert_non_null(strstr(sget(r, "problem"), "PINCER_TEST_KEY"));
	assert_string_equal(sget(json_object_get(row_of(r, "openai"), "secretRef"), "envVar"),
			    "PINCER_TEST_KEY");
	json_decref(r);

	setenv("PINCER_TEST_KEY", KEY_ENV, 1);
	r = report();
	assert_true(json_is_true(json_object_get(r, "usable")));
	assert_string_equal(sget(cred0(r), "source"), "secretRef");
	assert_string_equal(sget(cred0(r), "envVar"), "PINCER_TEST_KEY");
	json_decref(r);
}

/* A custom (keyless) provider whose configured key does not resolve is not usable. */
static void test_custom_provider_bad_ref(void **state)
{
	json_t *row;

	(void)state;
	cfg_set("{\"models\":{\"providers\":{\"mine\":{\"baseUrl\":\"http://127.0.0.1:9\","
		"\"apiKey\":{\"source\":\"env\",\"provider\":\"default\",\"id\":\"PINCER_TEST_"
		"KEY\"}}}}}");
	row = auth_provider_status(st, &cfg, "mine", NOW);
	assert_true(json_is_false(json_object_get(row, "usable")));
	assert_string_equal(sget(row, "status"), "missing");
	json_decref(row);
	cfg_set("{\"models\":{\"providers\":{\"mine\":{\"baseUrl\":\"http://127.0.0.1:9\"}}}}");
	row = auth_provider_status(st, &cfg, "mine", NOW);
	assert_true(json_is_true(json_object_get(row, "usable")));
	assert_true(json_is_true(json_object_get(row, "keyless")));
	json_decref(row);
}

static void test_keyless(void **state)
{
	json_t *r;

	(void)state;
	cfg_set("{\"agents\":{\"defaults\":{\"model\":\"ollama/llama3.3\"}}}");
	r = report();
	assert_true(json_is_true(json_object_get(r, "usable")));
	assert_string_equal(sget(cred0(r), "source"), "keyless");
	assert_true(json_is_false(json_object_get(cred0(r), "hasKey")));
	assert_true(json_is_true(json_object_get(row_of(r, "ollama"), "keyless")));
	json_decref(r);
}

static void test_profiles(void **state)
{
	json_t *r, *a, *p;
	size_t i;

	(void)state;
	cfg_set("{\"agents\":{\"defaults\":{\"model\":\"anthropic/claude-sonnet-5\"}},"
		"\"auth\":{\"profiles\":{\"anthropic:work\":{\"provider\":\"anthropic\",\"mode\":"
		"\"api_key\"}}}}");
	profiles_set(
		"{\"version\":1,\"profiles\":{"
		"\"anthropic:work\":{\"type\":\"api_key\",\"provider\":\"anthropic\",\"key\":"
		"\"" KEY_PROF "\"},"
		"\"anthropic:gone\":{\"type\":\"api_key\",\"provider\":\"anthropic\","
		"\"keyRef\":{\"source\":\"env\",\"provider\":\"default\",\"id\":\"PINCER_TEST_"
		"KEY\"}},"
		"\"anthropic:tok\":{\"type\":\"token\",\"provider\":\"anthropic\",\"token\":"
		"\"" KEY_PROF "\",\"expires\":5},"
		"\"google:o\":{\"type\":\"oauth\",\"provider\":\"google\",\"access\":\"" KEY_PROF
		"\"}},"
		"\"usageStats\":{\"anthropic:work\":{\"cooldownUntil\":1700000060000}}}");
	r = report();
	assert_true(json_is_true(json_object_get(r, "usable")));
	assert_string_equal(sget(cred0(r), "id"), "anthropic:work");
	assert_string_equal(sget(cred0(r), "source"), "profile");
	assert_int_equal(json_integer_value(json_object_get(cred0(r), "availableAt")),
			 1700000060000LL);
	a = row_of(r, "anthropic");
	assert_string_equal(sget(a, "status"), "static");
	json_array_foreach(json_object_get(a, "profiles"), i, p)
	{
		const char *id = sget(p, "profileId");

		if (!strcmp(id, "anthropic:work")) {
			assert_string_equal(sget(p, "status"), "static");
			assert_string_equal(sget(p, "source"), "config");
			assert_int_equal(json_integer_value(json_object_get(p, "cooldownUntil")),
					 1700000060000LL);
		} else if (!strcmp(id, "anthropic:gone")) {
			assert_string_equal(sget(p, "reasonCode"), "unresolved_ref");
			assert_string_equal(sget(p, "source"), "saved");
		} else {
			assert_string_equal(id, "anthropic:tok");
			assert_string_equal(sget(p, "status"), "expired");
		}
	}
	assert_int_equal(json_array_size(json_object_get(a, "profiles")), 3);
	p = json_array_get(json_object_get(row_of(r, "google"), "profiles"), 0);
	assert_string_equal(sget(p, "reasonCode"), "oauth_unsupported");
	assert_string_equal(sget(row_of(r, "google"), "status"), "missing");
	json_decref(r);

	/* Tokens with an expiry: "ok", or "expiring" within a day. */
	profiles_set(
		"{\"version\":1,\"profiles\":{"
		"\"openai:t1\":{\"type\":\"token\",\"provider\":\"openai\",\"token\":\"" KEY_PROF
		"\",\"expires\":1700000600000},"
		"\"openai:t2\":{\"type\":\"token\",\"provider\":\"openai\",\"token\":\"" KEY_PROF
		"\",\"expires\":1800000000000}}}");
	a = auth_provider_status(st, &cfg, "openai", NOW);
	json_array_foreach(json_object_get(a, "profiles"), i, p)
	{
		assert_string_equal(sget(p, "status"),
				    !strcmp(sget(p, "profileId"), "openai:t1") ? "expiring" : "ok");
	}
	assert_string_equal(sget(a, "status"), "static");
	json_decref(a);
}

static void test_unknown_provider(void **state)
{
	json_t *r;

	(void)state;
	cfg_set("{\"agents\":{\"defaults\":{\"model\":\"nosuch/m\"}}}");
	r = report();
	assert_true(json_is_false(json_object_get(r, "usable")));
	assert_non_null(strstr(sget(r, "error"), "unknown provider"));
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_model, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_key_and_secretref, setup, teardown),
		cmocka_unit_test_setup_teardown(test_custom_provider_bad_ref, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyless, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profiles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_provider, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
