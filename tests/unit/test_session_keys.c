/*
 * test_session_keys.c - session keys as OpenClaw builds them: dmScope,
 * identityLinks, groups/channels with threads and topics, parsing and
 * canonicalisation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "session/keys.h"

static void check_key(const char *agent, const char *cfg_text, struct session_peer p,
		      const char *want)
{
	json_t *cfg = cfg_text ? json_loads(cfg_text, 0, NULL) : NULL;
	char *k = session_key_for_peer(agent, cfg, &p);

	assert_string_equal(k, want);
	free(k);
	json_decref(cfg);
}

static void test_agent_id(void **state)
{
	char *a;

	a = session_agent_id_normalize("Main");
	assert_string_equal(a, "main");
	free(a);
	a = session_agent_id_normalize("  My Agent!! ");
	assert_string_equal(a, "my-agent");
	free(a);
	a = session_agent_id_normalize("--x--");
	assert_string_equal(a, "x");
	free(a);
	assert_null(session_agent_id_normalize("!!!"));
	assert_null(session_agent_id_normalize(""));
	assert_null(session_agent_id_normalize(NULL));
	a = session_key_main("Ops");
	assert_string_equal(a, "agent:ops:main");
	free(a);
	a = session_key_main("???");
	assert_string_equal(a, "agent:main:main");
	free(a);
}

static void test_dm_scopes(void **state)
{
	struct session_peer p = { .channel = "WhatsApp", .peer_id = "+15555550123" };
	struct session_peer acct = { .channel = "telegram",
				     .account_id = "Work Bot",
				     .peer_id = "ABC" };

	check_key("main", NULL, p, "agent:main:main");
	check_key("main", "{\"dmScope\":\"main\"}", p, "agent:main:main");
	check_key("main", "{\"dmScope\":\"per-peer\"}", p, "agent:main:direct:+15555550123");
	check_key("main", "{\"dmScope\":\"per-channel-peer\"}", p,
		  "agent:main:whatsapp:direct:+15555550123");
	check_key("main", "{\"dmScope\":\"per-account-channel-peer\"}", p,
		  "agent:main:whatsapp:default:direct:+15555550123");
	check_key("main", "{\"dmScope\":\"per-account-channel-peer\"}", acct,
		  "agent:main:telegram:work-bot:direct:abc");
	/* no peer: the main session */
	p.peer_id = "";
	check_key("main", "{\"dmScope\":\"per-peer\"}", p, "agent:main:main");
}

static void test_identity_links(void **state)
{
	static const char cfg[] =
		"{\"dmScope\":\"per-channel-peer\",\"identityLinks\":{"
		"\"Alice\":[\"telegram:123\",\"Discord:987\"],\"bob\":[\"555\"]}}";
	struct session_peer tg = { .channel = "telegram", .peer_id = "123" };
	struct session_peer dc = { .channel = "discord", .peer_id = "987" };
	struct session_peer bare = { .channel = "signal", .peer_id = "555" };
	struct session_peer other = { .channel = "telegram", .peer_id = "987" };

	check_key("main", cfg, tg, "agent:main:telegram:direct:alice");
	check_key("main", cfg, dc, "agent:main:discord:direct:alice");
	check_key("main", cfg, bare, "agent:main:signal:direct:bob");
	check_key("main", cfg, other, "agent:main:telegram:direct:987");
	/* links apply only when DMs are split */
	check_key("main", "{\"identityLinks\":{\"alice\":[\"telegram:123\"]}}", tg,
		  "agent:main:main");
}

static void test_groups_threads(void **state)
{
	struct session_peer g = { .channel = "Telegram",
				  .chat_type = "group",
				  .group_id = "-100123" };
	struct session_peer topic = g;
	struct session_peer slack = { .channel = "slack",
				      .chat_type = "channel",
				      .group_id = "C0ABC",
				      .thread_id = "1700000000.000100" };
	struct session_peer sig = { .channel = "signal",
				    .chat_type = "group",
				    .group_id = "AbC+dEf=" };
	struct session_peer mx = { .channel = "matrix",
				   .chat_type = "channel",
				   .group_id = "!RoomId:Example.org" };
	struct session_peer room = { .channel = "irc", .chat_type = "room", .group_id = "" };

	check_key("main", NULL, g, "agent:main:telegram:group:-100123");
	topic.thread_id = "99";
	topic.thread_is_topic = true;
	check_key("main", NULL, topic, "agent:main:telegram:group:-100123:topic:99");
	check_key("main", NULL, slack, "agent:main:slack:channel:c0abc:thread:1700000000.000100");
	check_key("main", NULL, sig, "agent:main:signal:group:AbC+dEf=");
	check_key("main", NULL, mx, "agent:main:matrix:channel:!RoomId:Example.org");
	check_key("main", NULL, room, "agent:main:irc:room:unknown");
	check_key("main", "{\"groupScope\":\"main\"}", g, "agent:main:main");
}

static void test_parse(void **state)
{
	struct session_key_parts k;

	assert_int_equal(session_key_parse("agent:Main:main", &k), 0);
	assert_string_equal(k.agent_id, "main");
	assert_string_equal(k.rest, "main");
	assert_int_equal(k.kind, SESSION_KIND_MAIN);
	assert_null(k.channel);

	assert_int_equal(session_key_parse("agent:main:whatsapp:direct:+1555", &k), 0);
	assert_int_equal(k.kind, SESSION_KIND_DIRECT);
	assert_string_equal(k.channel, "whatsapp");
	assert_int_equal(session_key_parse("agent:main:telegram:work:direct:abc", &k), 0);
	assert_int_equal(k.kind, SESSION_KIND_DIRECT);
	assert_string_equal(k.channel, "telegram");
	assert_int_equal(session_key_parse("agent:main:direct:abc", &k), 0);
	assert_int_equal(k.kind, SESSION_KIND_DIRECT);
	assert_null(k.channel);
	assert_int_equal(session_key_parse("agent:main:discord:channel:1:thread:2", &k), 0);
	assert_int_equal(k.kind, SESSION_KIND_GROUP);
	assert_string_equal(k.channel, "discord");
	assert_int_equal(session_key_parse("agent:ops:subagent:5f0e", &k), 0);
	assert_int_equal(k.kind, SESSION_KIND_SUBAGENT);
	assert_int_equal(session_key_parse("agent:ops:explicit:s1", &k), 0);
	assert_int_equal(k.kind, SESSION_KIND_OTHER);
	assert_int_equal(session_key_parse("cron:job-1", &k), 0);
	assert_int_equal(k.kind, SESSION_KIND_CRON);
	assert_null(k.agent_id);
	assert_int_equal(session_key_parse("hook:abc", &k), 0);
	assert_int_equal(k.kind, SESSION_KIND_HOOK);
	assert_int_equal(session_key_parse("global", &k), 0);
	assert_int_equal(k.kind, SESSION_KIND_OTHER);
	assert_string_equal(session_kind_name(SESSION_KIND_GROUP), "group");
	assert_string_equal(session_kind_name(SESSION_KIND_OTHER), "other");

	/* refused */
	assert_int_equal(session_key_parse("", &k), -1);
	assert_int_equal(session_key_parse(NULL, &k), -1);
	assert_int_equal(session_key_parse("agent:", &k), -1);
	assert_int_equal(session_key_parse("agent:main", &k), -1);
	assert_int_equal(session_key_parse("agent:main:", &k), -1);
	assert_int_equal(session_key_parse("agent::main", &k), -1);
	assert_int_equal(session_key_parse("agent:a b:main", &k), -1);
	assert_int_equal(session_key_parse("agent:main:x\ny", &k), -1);
	assert_int_equal(session_key_parse("cron:", &k), -1);
	assert_int_equal(session_key_parse("whatever", &k), -1);
	{
		char big[600];

		memset(big, 'a', sizeof(big) - 1);
		memcpy(big, "agent:main:", 11);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(session_key_parse(big, &k), -1);
	}
}

static void check_canon(const char *in, const char *want)
{
	char *k = session_key_canonical(in, "Main");

	if (want) {
		assert_non_null(k);
		assert_string_equal(k, want);
	} else {
		assert_null(k);
	}
	free(k);
}

static void test_canonical(void **state)
{
	check_canon("main", "agent:main:main");
	check_canon(" MAIN ", "agent:main:main");
	check_canon("", "agent:main:main");
	check_canon("agent:Main:main", "agent:main:main");
	check_canon("agent:ops:Telegram:Direct:ABC", "agent:ops:telegram:direct:abc");
	check_canon("agent:ops:signal:group:AbC=", "agent:ops:signal:group:AbC=");
	check_canon("telegram:direct:ABC", "agent:main:telegram:direct:abc");
	check_canon("global", "global");
	check_canon("cron:Job1", "cron:Job1");
	check_canon("agent:bad id:main", NULL);
	check_canon("agent:main", NULL);
	check_canon(NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agent_id),       cmocka_unit_test(test_dm_scopes),
		cmocka_unit_test(test_identity_links), cmocka_unit_test(test_groups_threads),
		cmocka_unit_test(test_parse),          cmocka_unit_test(test_canonical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
