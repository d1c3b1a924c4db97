/*
 * sessions_history.c - the `sessions_history` tool: another session's
 * recent messages, display-normalised, tool traffic left out unless
 * asked for, and capped in size so one call cannot flood the context.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/runtime.h"
#include "core/str.h"
#include "session/store.h"
#include "tools/sessions_common.h"
#include "tools/tool.h"

/* The most a result may hold; older messages are dropped first. */
#define HISTORY_MAX_BYTES (80 * 1024)
/* limit is capped at this, so a result never holds more messages */
#define HISTORY_MAX_MSGS  200

static bool is_tool_traffic(const json_t *m)
{
	const char *role = json_string_value(json_object_get(m, "role"));
	return str_eq(role, "toolResult") || str_eq(role, "tool");
}

/* Drop toolCall blocks from an assistant message; true when nothing visible is left. */
static bool strip_tool_calls(json_t *m)
{
	json_t *content = json_object_get(m, "content"), *b;
	size_t i;

	if (!json_is_array(content))
		return false;
	for (i = json_array_size(content); i-- > 0;) {
		b = json_array_get(content, i);
		if (str_eq(json_string_value(json_object_get(b, "type")), "toolCall"))
			json_array_remove(content, i);
	}
	return json_array_size(content) == 0;
}

static void t_sessions_history(struct tool_call *call)
{
	json_int_t limit = json_integer_value(json_object_get(call->args, "limit"));
	bool tools = json_is_true(json_object_get(call->args, "includeTools"));
	char err[256], *key, *dump;
	json_t *h, *msgs, *m, *out;
	bool truncated = false;
	size_t i, bytes, sizes[HISTORY_MAX_MSGS];

	if (!(key = sessions_target(call, err, sizeof(err))) ||
	    sessions_reachable(call, key, err, sizeof(err)) < 0) {
		free(key);
		tool_call_text(call, true, "%s", err);
		return;
	}
	{
		char *agent = agent_rt_agent_for_key(call->env.rt, key);
		struct session_store *st = agent_rt_store(call->env.rt, agent);
		bool known = st && session_store_get(st, key);
		free(agent);
		if (!known) {
			tool_call_text(call, true, "no session %s (sessions_list shows the keys)",
				       key);
			free(key);
			return;
		}
	}
	if (limit <= 0 || limit > HISTORY_MAX_MSGS)
		limit = 20;
	h = agent_rt_history(call->env.rt, key, (int)limit, err, sizeof(err));
	if (!h) {
		tool_call_text(call, true, "%s", err);
		free(key);
		return;
	}
	msgs = json_array();
	json_array_foreach(json_object_get(h, "messages"), i, m)
	{
		json_t *c = json_deep_copy(m);
		if (!tools && (is_tool_traffic(c) || strip_tool_calls(c))) {
			json_decref(c);
			continue;
		}
		json_array_append_new(msgs, c);
	}
	while (json_array_size(msgs) > HISTORY_MAX_MSGS) {
		json_array_remove(msgs, 0);
		truncated = true;
	}
	/* each message measured once; the oldest go first until the rest fit */
	bytes = 2;
	json_array_foreach(msgs, i, m)
	{
		dump = json_dumps(m, JSON_COMPACT);
		sizes[i] = dump ? strlen(dump) + 1 : 0;
		bytes += dump ? strlen(dump) + 1 : 0;
		free(dump);
	}
	for (i = 0; bytes > HISTORY_MAX_BYTES && json_array_size(msgs) > 1; i++) {
		bytes -= sizes[i];
		json_array_remove(msgs, 0);
		truncated = true;
	}
	out = json_pack("{s:s, s:o, s:b, s:I}", "sessionKey", key, "messages", msgs, "truncated",
			truncated, "bytes", (json_int_t)bytes);
	json_decref(h);
	free(key);
	tool_call_json(call, false, out);
}

const struct tool_def tool_sessions_history = {
	.name = "sessions_history",
	.group = "sessions",
	.description = "Read the recent messages of a session. Tool calls and "
		       "results are left out unless includeTools is true.",
	.parameters = "{\"type\":\"object\",\"properties\":{"
		      "\"sessionKey\":{\"type\":\"string\",\"minLength\":1},"
		      "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":200},"
		      "\"includeTools\":{\"type\":\"boolean\"}},\"required\":[\"sessionKey\"]}",
	.invoke = t_sessions_history,
};
