/*
 * test_catalog.c - presets, models.providers merge, aliases, default refs
 * and config keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/mem.h"
#include "providers/catalog.h"

/* prov_model_release lives in provider.c; this test links without it. */
static void model_free(struct prov_model *m)
{
	free(m->provider);
	free(m->id);
	free(m->name);
	free(m->api);
	free(m->base_url);
	json_decref(m->headers);
	memset(m, 0, sizeof(*m));
}

static void cfg_from(struct config *cfg, const char *text)
{
	json_error_t jerr;

	config_init(cfg);
	cfg->root = json_loads(text, 0, &jerr);
	if (!cfg->root)
		fail_msg("bad test json: %s", jerr.text);
}

static void clear_env(void)
{
	static const char *const vars[] = {
		"ANTHROPIC_API_KEY", "OPENAI_API_KEY",        "GEMINI_API_KEY",
		"GOOGLE_API_KEY",    "OLLAMA_API_KEY",        "OPENROUTER_API_KEY",
		"DEEPSEEK_API_KEY",  "GROQ_API_KEY",          "MISTRAL_API_KEY",
		"XAI_API_KEY",       "MOONSHOT_API_KEY",      "KIMI_API_KEY",
		"MINIMAX_API_KEY",   "TOGETHER_API_KEY",      "VLLM_API_KEY",
		"LM_API_TOKEN",      "MINIMAX_CODE_PLAN_KEY", "MINIMAX_CODING_API_KEY",
		"PINCER_TEST_HDR",
	};
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
		unsetenv(vars[i]);
}

static int setup(void **state)
{
	clear_env();
	return 0;
}

static void test_presets(void **state)
{
	struct config cfg;
	struct prov_model m;
	char err[256];

	cfg_from(&cfg, "{}");
	assert_int_equal(catalog_resolve(&cfg, "anthropic/claude-sonnet-4-5", &m, err, sizeof(err)),
			 0);
	assert_string_equal(m.provider, "anthropic");
	assert_string_equal(m.id, "claude-sonnet-4-5");
	assert_string_equal(m.api, "anthropic-messages");
	assert_string_equal(m.base_url, "https://api.anthropic.com");
	assert_int_equal(m.context_window, 200000);
	assert_int_equal(m.max_tokens, 64000);
	assert_true(m.reasoning);
	assert_true(m.input_image);
	assert_false(m.auth_header);
	model_free(&m);

	assert_int_equal(catalog_resolve(&cfg, "openai/gpt-4.1", &m, err, sizeof(err)), 0);
	assert_string_equal(m.api, "openai-responses");
	assert_string_equal(m.base_url, "https://api.openai.com/v1");
	assert_false(m.reasoning);
	assert_true(m.auth_header);
	model_free(&m);

	assert_int_equal(catalog_resolve(&cfg, "google/gemini-2.5-flash", &m, err, sizeof(err)), 0);
	assert_string_equal(m.api, "google-generative-ai");
	assert_string_equal(m.base_url, "https://generativelanguage.googleapis.com/v1beta");
	assert_int_equal(m.context_window, 1048576);
	model_free(&m);

	/* Unlisted model on a known provider: provider api, generic defaults. */
	assert_int_equal(catalog_resolve(&cfg, "ollama/llama3.2:3b", &m, err, sizeof(err)), 0);
	assert_string_equal(m.api, "ollama");
	assert_string_equal(m.base_url, "http://127.0.0.1:11434");
	assert_string_equal(m.name, "llama3.2:3b");
	assert_int_equal(m.context_window, 128000);
	assert_int_equal(m.max_tokens, 4096);
	model_free(&m);

	/* OpenRouter ids contain '/'. */
	assert_int_equal(
		catalog_resolve(&cfg, "openrouter/anthropic/claude-sonnet-4", &m, err, sizeof(err)),
		0);
	assert_string_equal(m.provider, "openrouter");
	assert_string_equal(m.id, "anthropic/claude-sonnet-4");
	assert_string_equal(m.base_url, "https://openrouter.ai/api/v1");
	assert_string_equal(m.api, "openai-completions");
	model_free(&m);

	assert_int_equal(catalog_resolve(&cfg, "minimax/MiniMax-M3", &m, err, sizeof(err)), 0);
	assert_string_equal(m.api, "anthropic-messages");
	assert_true(m.auth_header);
	model_free(&m);

	/* Provider ids are case-insensitive and aliases fold. */
	assert_int_equal(catalog_resolve(&cfg, "MoonshotAI/kimi-k2.6", &m, err, sizeof(err)), 0);
	assert_string_equal(m.provider, "moonshot");
	assert_string_equal(m.base_url, "https://api.moonshot.ai/v1");
	model_free(&m);

	assert_int_equal(catalog_resolve(&cfg, "nope/x", &m, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown provider \"nope\" in model \"nope/x\"");
	assert_int_equal(catalog_resolve(&cfg, "fast", &m, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown model alias \"fast\"");
	assert_int_equal(catalog_resolve(&cfg, "openai/", &m, err, sizeof(err)), -1);
	config_release(&cfg);
}

static void test_config_merge(void **state)
{
	struct config cfg;
	struct prov_model m;
	char err[256];

	setenv("PINCER_TEST_HDR", "hdr-secret-value", 1);
	cfg_from(
		&cfg,
		"{\"models\":{\"providers\":{"
		" \"fake\":{\"baseUrl\":\"http://127.0.0.1:9999/v1/\",\"apiKey\":\"k\","
		"  "
		"\"headers\":{\"X-Team\":\"a\",\"X-Secret\":{\"source\":\"env\",\"id\":\"PINCER_"
		"TEST_HDR\"}},"
		"  \"timeoutSeconds\":30,"
		"  \"models\":[{\"id\":\"m1\",\"name\":\"Model One\",\"contextWindow\":32000,"
		"   \"maxTokens\":1000,\"reasoning\":true,\"input\":[\"text\",\"image\"],"
		"   \"headers\":{\"X-Team\":\"b\"}},"
		"   "
		"{\"id\":\"m2\",\"api\":\"anthropic-messages\",\"baseUrl\":\"http://"
		"127.0.0.1:9998\"}]},"
		" \"openai\":{\"baseUrl\":\"http://proxy.local/v1\",\"api\":\"openai-completions\","
		"  \"models\":[{\"id\":\"gpt-4.1\",\"contextWindow\":64000}]}}},"
		" \"agents\":{\"defaults\":{\"models\":{\"fake/m1\":{\"alias\":\"fast\"}}}}}");

	assert_int_equal(catalog_resolve(&cfg, "fake/m1", &m, err, sizeof(err)), 0);
	assert_string_equal(m.api, "openai-completions");
	assert_string_equal(m.base_url, "http://127.0.0.1:9999/v1");
	assert_string_equal(m.name, "Model One");
	assert_int_equal(m.context_window, 32000);
	assert_int_equal(m.max_tokens, 1000);
	assert_true(m.reasoning);
	assert_true(m.input_image);
	assert_true(m.auth_header);
	assert_int_equal(m.timeout_ms, 30000);
	assert_string_equal(json_string_value(json_object_get(m.headers, "X-Team")), "b");
	assert_string_equal(json_string_value(json_object_get(m.headers, "X-Secret")),
			    "hdr-secret-value");
	model_free(&m);

	/* Per-model api and baseUrl; anthropic keeps its own key header. */
	assert_int_equal(catalog_resolve(&cfg, "fake/m2", &m, err, sizeof(err)), 0);
	assert_string_equal(m.api, "anthropic-messages");
	assert_string_equal(m.base_url, "http://127.0.0.1:9998");
	assert_false(m.auth_header);
	model_free(&m);

	/* Alias and bare id. */
	assert_int_equal(catalog_resolve(&cfg, "fast", &m, err, sizeof(err)), 0);
	assert_string_equal(m.provider, "fake");
	assert_string_equal(m.id, "m1");
	model_free(&m);
	assert_int_equal(catalog_resolve(&cfg, "m2", &m, err, sizeof(err)), 0);
	assert_string_equal(m.provider, "fake");
	model_free(&m);
	assert_int_equal(catalog_resolve(&cfg, "claude-opus-4-1", &m, err, sizeof(err)), 0);
	assert_string_equal(m.provider, "anthropic");
	model_free(&m);

	/* Overriding a preset: fields from config win, the rest stays. */
	assert_int_equal(catalog_resolve(&cfg, "openai/gpt-4.1", &m, err, sizeof(err)), 0);
	assert_string_equal(m.base_url, "http://proxy.local/v1");
	assert_string_equal(m.api, "openai-completions");
	assert_int_equal(m.context_window, 64000);
	assert_int_equal(m.max_tokens, 32768);
	assert_string_equal(m.name, "GPT-4.1");
	model_free(&m);
	config_release(&cfg);

	/* A header SecretRef that cannot resolve is an error naming the header. */
	unsetenv("PINCER_TEST_HDR");
	cfg_from(&cfg,
		 "{\"models\":{\"providers\":{\"fake\":{\"baseUrl\":\"http://x\","
		 "\"headers\":{\"X-Secret\":{\"source\":\"env\",\"id\":\"PINCER_TEST_HDR\"}}}}}}");
	assert_int_equal(catalog_resolve(&cfg, "fake/a", &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "X-Secret"));
	config_release(&cfg);

	/* Custom provider without baseUrl. */
	cfg_from(&cfg, "{\"models\":{\"providers\":{\"bare\":{\"apiKey\":\"k\"}}}}");
	assert_int_equal(catalog_resolve(&cfg, "bare/a", &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "baseUrl"));
	config_release(&cfg);

	/* models.mode replace drops the presets. */
	cfg_from(&cfg, "{\"models\":{\"mode\":\"replace\",\"providers\":{}}}");
	assert_int_equal(catalog_resolve(&cfg, "anthropic/claude-opus-5", &m, err, sizeof(err)),
			 -1);
	config_release(&cfg);
}

static void test_defaults(void **state)
{
	struct config cfg;
	char *ref;
	json_t *fb;

	cfg_from(&cfg, "{}");
	assert_null(catalog_default_ref(&cfg, "main"));
	setenv("OPENAI_API_KEY", "sk-test", 1);
	ref = catalog_default_ref(&cfg, "main");
	assert_string_equal(ref, "openai/gpt-6-astra");
	free(ref);
	setenv("ANTHROPIC_API_KEY", "sk-ant", 1);
	ref = catalog_default_ref(&cfg, "main");
	assert_string_equal(ref, "anthropic/claude-opus-5");
	free(ref);
	fb = catalog_fallbacks(&cfg, "main");
	assert_int_equal(json_array_size(fb), 0);
	json_decref(fb);
	config_release(&cfg);

	cfg_from(&cfg,
		 "{\"agents\":{\"defaults\":{\"model\":{\"primary\":\"openai/gpt-5\","
		 "\"fallbacks\":[\"anthropic/claude-opus-5\",\"google/gemini-2.5-pro\"]}},"
		 "\"list\":[{\"id\":\"main\"},{\"id\":\"ops\",\"model\":\"ollama/qwen3\"},"
		 "{\"id\":\"dev\",\"model\":{\"primary\":\"xai/grok-4.7\",\"fallbacks\":[]}}]}}");
	ref = catalog_default_ref(&cfg, "main");
	assert_string_equal(ref, "openai/gpt-5");
	free(ref);
	ref = catalog_default_ref(&cfg, "ops");
	assert_string_equal(ref, "ollama/qwen3");
	free(ref);
	ref = catalog_default_ref(&cfg, "dev");
	assert_string_equal(ref, "xai/grok-4.7");
	free(ref);
	fb = catalog_fallbacks(&cfg, "ops");
	assert_int_equal(json_array_size(fb), 2);
	assert_string_equal(json_string_value(json_array_get(fb, 1)), "google/gemini-2.5-pro");
	json_decref(fb);
	fb = catalog_fallbacks(&cfg, "dev");
	assert_int_equal(json_array_size(fb), 0);
	json_decref(fb);

	cfg.root = (json_decref(cfg.root), json_loads("{\"agents\":{\"defaults\":{\"model\":"
						      "\"anthropic/claude-haiku-4-5\"}}}",
						      0, NULL));
	ref = catalog_default_ref(&cfg, NULL);
	assert_string_equal(ref, "anthropic/claude-haiku-4-5");
	free(ref);
	config_release(&cfg);
	clear_env();
}

static void test_keys(void **state)
{
	struct config cfg;
	char *key = NULL, err[256];

	cfg_from(&cfg, "{\"models\":{\"providers\":{\"openai\":{\"apiKey\":{\"source\":\"env\","
		       "\"id\":\"PINCER_TEST_HDR\"}},\"fake\":{\"baseUrl\":\"http://x\"}}}}");
	assert_string_equal(catalog_env_key("anthropic"), "ANTHROPIC_API_KEY");
	assert_null(catalog_env_key("fake"));
	assert_string_equal(catalog_env_key("google"), "GOOGLE_API_KEY");
	setenv("GEMINI_API_KEY", "g1", 1);
	assert_string_equal(catalog_env_key("google"), "GEMINI_API_KEY");

	setenv("GOOGLE_API_KEY", "g2", 1);
	assert_int_equal(catalog_config_key(&cfg, "google", &key, err, sizeof(err)), 1);
	assert_string_equal(key, "g1");
	free(key);
	unsetenv("GEMINI_API_KEY");
	assert_int_equal(catalog_config_key(&cfg, "google", &key, err, sizeof(err)), 1);
	assert_string_equal(key, "g2");
	free(key);

	/* Config wins over env; an unresolvable SecretRef is an error. */
	setenv("OPENAI_API_KEY", "from-env", 1);
	assert_int_equal(catalog_config_key(&cfg, "openai", &key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "models.providers.openai.apiKey"));
	setenv("PINCER_TEST_HDR", "  from-ref  ", 1);
	assert_int_equal(catalog_config_key(&cfg, "openai", &key, err, sizeof(err)), 1);
	assert_non_null(strstr(key, "from-ref"));
	free(key);

	assert_int_equal(catalog_config_key(&cfg, "anthropic", &key, err, sizeof(err)), 0);
	assert_null(key);
	assert_int_equal(catalog_config_key(&cfg, "fake", &key, err, sizeof(err)), 0);

	assert_true(catalog_keyless(&cfg, "ollama"));
	assert_true(catalog_keyless(&cfg, "fake"));
	assert_false(catalog_keyless(&cfg, "anthropic"));
	assert_false(catalog_keyless(&cfg, "nope"));
	config_release(&cfg);
	clear_env();
}

static void test_list(void **state)
{
	struct config cfg;
	json_t *rows, *row;
	size_t i;
	bool saw_alias = false, saw_custom = false, saw_preset = false;

	cfg_from(&cfg,
		 "{\"models\":{\"providers\":{\"fake\":{\"baseUrl\":\"http://x\","
		 "\"models\":[{\"id\":\"m1\"}]},\"anthropic\":{\"models\":[{\"id\":"
		 "\"claude-opus-5\",\"contextWindow\":5000}]}}},"
		 "\"agents\":{\"defaults\":{\"models\":{\"fake/m1\":{\"alias\":\"fast\"}}}}}");
	rows = catalog_list(&cfg);
	json_array_foreach(rows, i, row)
	{
		const char *id = json_string_value(json_object_get(row, "id"));
		const char *prov = json_string_value(json_object_get(row, "provider"));

		assert_non_null(json_object_get(row, "name"));
		assert_non_null(json_object_get(row, "api"));
		assert_true(json_is_array(json_object_get(row, "input")));
		if (!strcmp(prov, "fake") && !strcmp(id, "m1")) {
			saw_custom = true;
			saw_alias =
				!strcmp(json_string_value(json_object_get(row, "alias")), "fast");
		}
		if (!strcmp(prov, "anthropic") && !strcmp(id, "claude-opus-5")) {
			assert_false(saw_preset); /* listed once */
			saw_preset = true;
			assert_int_equal(json_integer_value(json_object_get(row, "contextWindow")),
					 5000);
		}
	}
	assert_true(saw_custom);
	assert_true(saw_alias);
	assert_true(saw_preset);
	json_decref(rows);
	config_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_presets, setup),
		cmocka_unit_test_setup(test_config_merge, setup),
		cmocka_unit_test_setup(test_defaults, setup),
		cmocka_unit_test_setup(test_keys, setup),
		cmocka_unit_test_setup(test_list, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
