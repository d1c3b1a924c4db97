/*
 * message.c - the `message` tool: send a message to a conversation.
 *
 * Channels (Telegram, Discord, …) plug in here as they land. Until then the
 * one channel is WebChat: a message goes to a session (by default the
 * agent's main session) as an assistant message, recorded in its
 * transcript and shown at once to every client watching it. Sending to the
 * session the agent is answering in does not touch its transcript (the
 * run's own reply is recorded there); the clients still see the message.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/runtime.h"
#include "core/id.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "session/store.h"
#include "tools/tool.h"

static void t_message(struct tool_call *call)
{
	const json_t *a = call->args;
	const char *action = json_string_value(json_object_get(a, "action"));
	const char *channel = json_string_value(json_object_get(a, "channel"));
	const char *text = json_string_value(json_object_get(a, "message"));
	const char *target = json_string_value(json_object_get(a, "target"));
	char err[256], *key;

	if (!action)
		action = "send";
	if (!text)
		text = json_string_value(json_object_get(a, "text"));
	if (!target)
		target = json_string_value(json_object_get(a, "to"));
	if (channel && strcmp(channel, "webchat")) {
		tool_call_text(call, true,
			       "message: channel \"%s\" is not connected; the channels available "
			       "are: webchat",
			       channel);
		return;
	}
	if (strcmp(action, "send")) {
		tool_call_text(
			call, true,
			"message: action \"%s\" is not supported on webchat (supported: send)",
			action);
		return;
	}
	if (!text || !*text) {
		tool_call_text(call, true, "message: `message` (the text to send) is required");
		return;
	}
	key = agent_rt_canonical_key(call->env.rt, target && *target ? target : "main");
	if (!key) {
		tool_call_text(call, true, "message: invalid target \"%s\"", target);
		return;
	}
	{
		/* a first message may open the session (OpenClaw creates it on delivery too) */
		char *agent = agent_rt_agent_for_key(call->env.rt, key);
		struct session_store *st = agent_rt_store(call->env.rt, agent);
		bool created = false;
		free(agent);
		if (st && session_store_ensure(st, key, time_now_ms(), &created) && created)
			session_store_save(st);
	}
	if (!strcmp(key, call->env.session_key)) {
		agent_rt_show(call->env.rt, key, text);
	} else if (agent_rt_inject(call->env.rt, key, text, NULL, err, sizeof(err)) < 0) {
		tool_call_text(call, true, "message: %s", err);
		free(key);
		return;
	}
	tool_call_json(call, false,
		       json_pack("{s:b, s:s, s:s, s:s}", "ok", 1, "action", "send", "channel",
				 "webchat", "to", key));
	free(key);
}

const struct tool_def tool_message = {
	.name = "message",
	.group = "messaging",
	.description = "Send a message to a conversation. target is a session key (default: "
		       "your main session); channel defaults to webchat, the one connected now.",
	.parameters = "{\"type\":\"object\",\"properties\":{"
		      "\"action\":{\"type\":\"string\",\"enum\":[\"send\",\"react\",\"edit\","
		      "\"delete\"],\"default\":\"send\"},"
		      "\"channel\":{\"type\":\"string\"},"
		      "\"target\":{\"type\":\"string\",\"description\":\"Where to send: a session "
		      "key, or a channel's chat id\"},"
		      "\"message\":{\"type\":\"string\"},"
		      "\"replyTo\":{\"type\":\"string\"},"
		      "\"threadId\":{\"type\":\"string\"},"
		      "\"accountId\":{\"type\":\"string\"}},\"required\":[\"action\"]}",
	.invoke = t_message,
};
