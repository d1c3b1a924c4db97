/*
 * test_policy.c - tool policy: profiles, groups, globs, aliases, the layer
 * order (deny wins everywhere), byProvider, per-agent and sub-agent layers,
 * the HTTP deny list, and loop detection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "config/config.h"
#include "tools/loopdetect.h"
#include "tools/policy.h"

static void cfg_from(struct config *cfg, const char *text)
{
	json_error_t jerr;

	config_init(cfg);
	cfg->root = json_loads(text, 0, &jerr);
	if (!cfg->root)
		fail_msg("bad test json: %s", jerr.text);
}

static struct tool_policy *resolve(struct config *cfg, const char *agent, const char *key,
				   const char *provider, const char *model)
{
	struct tool_policy_ctx c = { agent, key, provider, model };
	return tool_policy_resolve(cfg, &c);
}

static void test_match(void **state)
{
	assert_true(tool_policy_match("exec", "EXEC"));
	assert_true(tool_policy_match("bash", "exec"));
	assert_true(tool_policy_match("group:fs", "apply_patch"));
	assert_false(tool_policy_match("group:fs", "exec"));
	assert_true(tool_policy_match("sessions_*", "sessions_send"));
	assert_false(tool_policy_match("sessions_*", "session_status"));
	assert_true(tool_policy_match("*", "anything"));
	assert_true(tool_policy_match("group:openclaw", "read"));
	assert_true(tool_policy_match("cron", "automations"));
}

static void test_profiles(void **state)
{
	char why[200];
	struct config cfg;
	struct tool_policy *p;

	cfg_from(&cfg, "{}");
	p = resolve(&cfg, "main", "agent:main:main", NULL, NULL);
	assert_string_equal(tool_policy_profile(p), "full");
	assert_true(tool_policy_allows(p, "exec"));
	tool_policy_free(p);
	config_release(&cfg);

	cfg_from(&cfg, "{\"tools\":{\"profile\":\"minimal\"}}");
	p = resolve(&cfg, "main", "agent:main:main", NULL, NULL);
	assert_true(tool_policy_allows(p, "session_status"));
	assert_false(tool_policy_allows(p, "read"));
	assert_non_null(strstr(tool_policy_why(p, "read", why, sizeof(why)), "tools.profile"));
	tool_policy_free(p);
	config_release(&cfg);

	cfg_from(&cfg, "{\"tools\":{\"profile\":\"coding\",\"alsoAllow\":[\"message\"]}}");
	p = resolve(&cfg, "main", "agent:main:main", NULL, NULL);
	assert_true(tool_policy_allows(p, "read"));
	assert_true(tool_policy_allows(p, "exec"));
	assert_true(tool_policy_allows(p, "message"));
	assert_false(tool_policy_allows(p, "agents_list"));
	tool_policy_free(p);
	config_release(&cfg);

	cfg_from(&cfg, "{\"tools\":{\"profile\":\"messaging\"}}");
	p = resolve(&cfg, "main", "agent:main:main", NULL, NULL);
	assert_true(tool_policy_allows(p, "message"));
	assert_true(tool_policy_allows(p, "sessions_send"));
	assert_false(tool_policy_allows(p, "exec"));
	tool_policy_free(p);
	config_release(&cfg);
}

static void test_layers(void **state)
{
	char why[200];
	struct config cfg;
	struct tool_policy *p;

	/* deny wins over allow, also through a group */
	cfg_from(&cfg, "{\"tools\":{\"allow\":[\"group:fs\",\"exec\"],\"deny\":[\"write\"]}}");
	p = resolve(&cfg, "main", "agent:main:main", NULL, NULL);
	assert_true(tool_policy_allows(p, "read"));
	assert_true(tool_policy_allows(p, "exec"));
	assert_false(tool_policy_allows(p, "write"));
	assert_false(tool_policy_allows(p, "web_fetch"));
	assert_non_null(strstr(tool_policy_why(p, "write", why, sizeof(why)), "denied"));
	tool_policy_free(p);
	config_release(&cfg);

	/* allow of write covers apply_patch (as OpenClaw) */
	cfg_from(&cfg, "{\"tools\":{\"allow\":[\"write\"]}}");
	p = resolve(&cfg, "main", "agent:main:main", NULL, NULL);
	assert_true(tool_policy_allows(p, "apply_patch"));
	tool_policy_free(p);
	config_release(&cfg);

	/* byProvider: provider/model beats provider; agent layers restrict further */
	cfg_from(&cfg, "{\"tools\":{\"byProvider\":{\"openai\":{\"deny\":[\"exec\"]},"
		       "\"openai/gpt-x\":{\"profile\":\"minimal\"}}},"
		       "\"agents\":{\"list\":[{\"id\":\"ops\",\"tools\":{\"deny\":[\"read\"]}}]}}");
	p = resolve(&cfg, "main", "agent:main:main", "openai", "gpt-y");
	assert_false(tool_policy_allows(p, "exec"));
	assert_true(tool_policy_allows(p, "read"));
	tool_policy_free(p);
	p = resolve(&cfg, "main", "agent:main:main", "openai", "gpt-x");
	assert_true(tool_policy_allows(p, "exec") == false);
	assert_true(tool_policy_allows(p, "session_status"));
	assert_string_equal(tool_policy_profile(p), "minimal");
	tool_policy_free(p);
	p = resolve(&cfg, "ops", "agent:ops:main", "anthropic", "claude");
	assert_false(tool_policy_allows(p, "read"));
	assert_true(tool_policy_allows(p, "exec"));
	tool_policy_free(p);
	config_release(&cfg);

	/* sub-agents never get gateway/message/sessions_send */
	cfg_from(&cfg, "{\"tools\":{\"subagents\":{\"tools\":{\"deny\":[\"exec\"]}}}}");
	p = resolve(&cfg, "main", "agent:main:subagent:1234", NULL, NULL);
	assert_false(tool_policy_allows(p, "message"));
	assert_false(tool_policy_allows(p, "sessions_send"));
	assert_false(tool_policy_allows(p, "exec"));
	assert_true(tool_policy_allows(p, "read"));
	tool_policy_free(p);
	config_release(&cfg);
}

static void test_http(void **state)
{
	struct config cfg;

	cfg_from(&cfg, "{}");
	assert_false(tool_policy_http_allows(&cfg, "exec"));
	assert_false(tool_policy_http_allows(&cfg, "sessions_spawn"));
	assert_false(tool_policy_http_allows(&cfg, "gateway"));
	assert_true(tool_policy_http_allows(&cfg, "session_status"));
	config_release(&cfg);
	cfg_from(&cfg, "{\"gateway\":{\"tools\":{\"allow\":[\"exec\"],\"deny\":[\"read\"]}}}");
	assert_true(tool_policy_http_allows(&cfg, "exec"));
	assert_false(tool_policy_http_allows(&cfg, "read"));
	config_release(&cfg);
}

static void test_loop(void **state)
{
	struct config cfg;
	struct tool_loop tl = { 0 };
	json_t *args = json_pack("{s:s}", "path", "a"), *res = json_pack("[{s:s}]", "t", "x");
	char msg[300];
	int i;

	cfg_from(&cfg, "{}");
	for (i = 0; i < 50; i++) {
		assert_int_equal(tool_loop_check(&tl, &cfg, "main", "read", args, msg, sizeof(msg)),
				 LOOP_OK);
		tool_loop_record(&tl, &cfg, "main", "read", args, res, 0);
	}
	config_release(&cfg);
	tool_loop_free(&tl);

	cfg_from(&cfg, "{\"tools\":{\"loopDetection\":{\"enabled\":true,\"warningThreshold\":3,"
		       "\"criticalThreshold\":5}}}");
	for (i = 0; i < 3; i++) {
		assert_int_equal(tool_loop_check(&tl, &cfg, "main", "read", args, msg, sizeof(msg)),
				 LOOP_OK);
		tool_loop_record(&tl, &cfg, "main", "read", args, res, 0);
	}
	assert_int_equal(tool_loop_check(&tl, &cfg, "main", "read", args, msg, sizeof(msg)),
			 LOOP_WARN);
	assert_non_null(strstr(msg, "WARNING"));
	tool_loop_record(&tl, &cfg, "main", "read", args, res, 0);
	tool_loop_record(&tl, &cfg, "main", "read", args, res, 0);
	assert_int_equal(tool_loop_check(&tl, &cfg, "main", "read", args, msg, sizeof(msg)),
			 LOOP_CRITICAL);
	assert_non_null(strstr(msg, "CRITICAL"));
	/* other arguments are another call */
	json_object_set_new(args, "path", json_string("b"));
	assert_int_equal(tool_loop_check(&tl, &cfg, "main", "read", args, msg, sizeof(msg)),
			 LOOP_OK);
	json_decref(args);
	json_decref(res);
	tool_loop_free(&tl);
	config_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),  cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_layers), cmocka_unit_test(test_http),
		cmocka_unit_test(test_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
