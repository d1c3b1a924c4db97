/*
 * test_redact.c - masking credentials in config trees and text, and
 * restoring them from the stored config (src/config/redact.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/redact.h"
#include "config/schema.h"
#include "core/json5.h"
#include "core/jsonx.h"
#include "core/mem.h"

#define R CONFIG_REDACTED

static json_t *J5(const char *text)
{
	struct json5_error e;
	json_t *v = json5_parse(text, strlen(text), NULL, NULL, &e);

	if (!v)
		fail_msg("bad test JSON5 %s: %d:%d %s", text, e.line, e.col, e.text);
	return v;
}

static void assert_json(const json_t *got, const json_t *want)
{
	if (!json_equal(got, want)) {
		char *g = json_dump_str(got, JSON_COMPACT | JSON_ENCODE_ANY);
		char *w = json_dump_str(want, JSON_COMPACT | JSON_ENCODE_ANY);

		print_error("got  %s\nwant %s\n", g, w);
		free(g);
		free(w);
		fail();
	}
}

static void test_sensitive_paths(void **state)
{
	/* the schema's credential keys */
	assert_true(config_path_sensitive("gateway.auth.token"));
	assert_true(config_path_sensitive("gateway.auth.password"));
	assert_true(config_path_sensitive("models.providers.openai.apiKey"));
	assert_true(config_path_sensitive("models.providers.x.headers.Authorization"));
	/* names that give themselves away, where the schema is free-form */
	assert_true(config_path_sensitive("channels.telegram.botToken"));
	assert_true(config_path_sensitive("channels.slack.signingSecret"));
	assert_true(config_path_sensitive("channels.x.accounts.a.api_key"));
	assert_true(config_path_sensitive("env.vars.OPENAI_API_KEY"));
	assert_true(config_path_sensitive("plugins.entries.x.config.privateKey"));
	assert_true(config_path_sensitive("a.keys.apiKeys[2]"));
	/* and names that only look like it */
	assert_false(config_path_sensitive("models.providers.x.models[0].maxTokens"));
	assert_false(config_path_sensitive("agents.defaults.contextTokens"));
	assert_false(config_path_sensitive("gateway.auth.mode"));
	assert_false(config_path_sensitive("gateway.port"));
	assert_false(config_path_sensitive("models.providers.x.baseUrl"));
	assert_false(config_path_sensitive("bad[path"));
}

static void test_redact_tree(void **state)
{
	json_t *in = J5(
		"{gateway: {auth: {mode: 'token', token: 'abc'}, port: 1},"
		" models: {providers: {p: {apiKey: {source: 'env', provider: 'default', id: 'KEY'},"
		"   baseUrl: 'http://x', models: [{id: 'm', maxTokens: 5}]}}},"
		" channels: {telegram: {botToken: '${TG_TOKEN}', accounts: {a: {botToken: ' '}}}},"
		" env: {vars: {MY_SECRET: 'hunter2', PLAIN: 'x'}}}");
	json_t *want = J5(
		"{gateway: {auth: {mode: 'token', token: '" R "'}, port: 1},"
		" models: {providers: {p: {apiKey: {source: 'env', provider: 'default',"
		"   id: '" R "'}, baseUrl: 'http://x', models: [{id: 'm', maxTokens: 5}]}}},"
		" channels: {telegram: {botToken: '${TG_TOKEN}', accounts: {a: {botToken: ' '}}}},"
		" env: {vars: {MY_SECRET: '" R "', PLAIN: 'x'}}}");
	json_t *values = json_array(), *out = config_redact(in, values);
	json_t *want_values = J5("['abc', 'KEY', 'hunter2']");

	assert_json(out, want);
	assert_json(values, want_values);
	json_decref(out);
	json_decref(values);
	json_decref(want_values);
	json_decref(want);
	/* without a values list */
	out = config_redact(in, NULL);
	assert_non_null(out);
	json_decref(out);
	json_decref(in);
}

static void test_redact_text(void **state)
{
	json_t *values = J5("['ab', 'abc', 'x']");
	char *s = config_redact_text("{token: 'abc', k: 'ab', z: 'xyz'}", values);

	assert_string_equal(s, "{token: '" R "', k: '" R "', z: '" R "yz'}");
	free(s);
	json_decref(values);
	values = json_array();
	s = config_redact_text("as it was", values);
	assert_string_equal(s, "as it was");
	free(s);
	json_decref(values);
}

/* Round trip: what config_redact hands out, config_restore_redacted turns back. */
static void test_restore_round_trip(void **state)
{
	json_t *orig = J5("{gateway: {auth: {token: 'abc'}},"
			  " models: {providers: {p: {apiKey: {source: 'env', provider: 'default', "
			  "id: 'K'}}}},"
			  " agents: {list: [{id: 'a', tts: {providers: {x: {apiKey: 'k1'}}}},"
			  "                 {id: 'b', tts: {providers: {x: {apiKey: 'k2'}}}}]}}");
	json_t *red = config_redact(orig, NULL), *back;
	char err[256];

	back = config_restore_redacted(red, orig, err, sizeof(err));
	assert_non_null(back);
	assert_json(back, orig);
	json_decref(back);

	/* entries that moved keep their own secrets (matched by id) */
	{
		json_t *list = jpath_get(red, "agents.list");
		json_t *first = json_incref(json_array_get(list, 0));
		json_t *want =
			J5("{gateway: {auth: {token: 'abc'}},"
			   " models: {providers: {p: {apiKey: {source: 'env', provider: 'default', "
			   "id: 'K'}}}},"
			   " agents: {list: [{id: 'b', tts: {providers: {x: {apiKey: 'k2'}}}},"
			   "                 {id: 'a', tts: {providers: {x: {apiKey: 'k1'}}}}]}}");

		json_array_remove(list, 0);
		json_array_append_new(list, first);
		back = config_restore_redacted(red, orig, err, sizeof(err));
		assert_non_null(back);
		assert_json(back, want);
		json_decref(back);
		json_decref(want);
	}
	json_decref(red);
	json_decref(orig);
}

static void test_restore_refuses(void **state)
{
	json_t *orig = J5("{gateway: {auth: {token: 'abc'}},"
			  " models: {providers: {p: {apiKey: {source: 'env', provider: 'default', "
			  "id: 'K'}}}}}");
	json_t *in;
	char err[256];

	/* a sentinel where no credential belongs */
	in = J5("{gateway: {auth: {mode: '" R "'}}}");
	assert_null(config_restore_redacted(in, orig, err, sizeof(err)));
	assert_non_null(strstr(err, "gateway.auth.mode"));
	json_decref(in);
	/* a sentinel with nothing stored behind it */
	in = J5("{gateway: {auth: {password: '" R "'}}}");
	assert_null(config_restore_redacted(in, orig, err, sizeof(err)));
	assert_non_null(strstr(err, "gateway.auth.password"));
	json_decref(in);
	/* a SecretRef whose provider changed while its id stayed hidden */
	in = J5("{models: {providers: {p: {apiKey: {source: 'env', provider: 'other', id: '" R
		"'}}}}}");
	assert_null(config_restore_redacted(in, orig, err, sizeof(err)));
	assert_non_null(strstr(err, "changed source/provider"));
	json_decref(in);
	/* but a new real value is simply taken */
	in = J5("{gateway: {auth: {token: 'new'}}}");
	{
		json_t *back = config_restore_redacted(in, orig, err, sizeof(err));

		assert_non_null(back);
		assert_json(back, in);
		json_decref(back);
	}
	json_decref(in);
	json_decref(orig);
}

static int teardown_group(void **state)
{
	schema_release();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sensitive_paths), cmocka_unit_test(test_redact_tree),
		cmocka_unit_test(test_redact_text),     cmocka_unit_test(test_restore_round_trip),
		cmocka_unit_test(test_restore_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, teardown_group);
}
