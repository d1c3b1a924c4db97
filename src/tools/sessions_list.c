/*
 * sessions_list.c - the `sessions_list` tool: the sessions the agent can
 * see, newest first, optionally with their last messages.
 */
#include <string.h>

#include "agent/runtime.h"
#include "session/keys.h"
#include "tools/tool.h"

/* Does a session row's kind pass the `kinds` filter? */
static bool kind_wanted(const json_t *kinds, const char *key)
{
	struct session_key_parts p;
	const char *kind;
	size_t i;
	json_t *k;

	if (!json_is_array(kinds) || !json_array_size(kinds))
		return true;
	kind = session_key_parse(key, &p) == 0 ? session_kind_name(p.kind) : "other";
	json_array_foreach(kinds, i, k)
	{
		const char *want = json_string_value(k);
		if (want && (!strcmp(want, kind) ||
			     (!strcmp(want, "subagent") && strstr(key, ":subagent:"))))
			return true;
	}
	return false;
}

static void copy_field(json_t *dst, const char *dkey, const json_t *src, const char *skey)
{
	json_t *v = json_object_get(src, skey);

	if (v && !json_is_null(v))
		json_object_set(dst, dkey, v);
}

static void t_sessions_list(struct tool_call *call)
{
	json_t *a = call->args, *params = json_object(), *res, *rows, *out, *row;
	json_int_t limit = json_integer_value(json_object_get(a, "limit"));
	json_int_t msgs = json_integer_value(json_object_get(a, "messageLimit"));
	size_t i;

	if (limit <= 0 || limit > 200)
		limit = 50;
	if (msgs > 20)
		msgs = 20;
	copy_field(params, "activeMinutes", a, "activeMinutes");
	copy_field(params, "agentId", a, "agentId");
	copy_field(params, "search", a, json_object_get(a, "search") ? "search" : "label");
	res = agent_rt_sessions_list(call->env.rt, params);
	json_decref(params);
	rows = json_array();
	json_array_foreach(json_object_get(res, "sessions"), i, row)
	{
		const char *key = json_string_value(json_object_get(row, "key"));
		json_t *r;
		if (!key || !kind_wanted(json_object_get(a, "kinds"), key))
			continue;
		if ((json_int_t)json_array_size(rows) >= limit)
			break;
		r = json_pack("{s:s}", "key", key);
		copy_field(r, "kind", row, "kind");
		copy_field(r, "label", row, "label");
		copy_field(r, "sessionId", row, "sessionId");
		copy_field(r, "updatedAt", row, "updatedAt");
		copy_field(r, "model", row, "model");
		copy_field(r, "totalTokens", row, "totalTokens");
		copy_field(r, "status", row, "status");
		if (key && !strcmp(key, call->env.session_key))
			json_object_set_new(r, "current", json_true());
		if (msgs > 0) {
			char err[200];
			json_t *h =
				agent_rt_history(call->env.rt, key, (int)msgs, err, sizeof(err));
			json_object_set(r, "messages",
					h ? json_object_get(h, "messages") : json_array());
			json_decref(h);
		}
		json_array_append_new(rows, r);
	}
	out = json_pack("{s:I, s:o, s:b, s:I}", "count", (json_int_t)json_array_size(rows),
			"sessions", rows, "hasMore",
			json_array_size(json_object_get(res, "sessions")) > json_array_size(rows),
			"limitApplied", limit);
	json_decref(res);
	tool_call_json(call, false, out);
}

const struct tool_def tool_sessions_list = {
	.name = "sessions_list",
	.group = "sessions",
	.description =
		"List sessions (conversations) with their keys, kinds, labels and last activity, "
		"newest first. Use a key with sessions_history or sessions_send.",
	.parameters =
		"{\"type\":\"object\",\"properties\":{"
		"\"kinds\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"enum\":[\"main\","
		"\"group\",\"channel\",\"cron\",\"hook\",\"node\",\"subagent\",\"other\"]}},"
		"\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":200},"
		"\"activeMinutes\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"Only "
		"sessions active in the last N minutes\"},"
		"\"messageLimit\":{\"type\":\"integer\",\"minimum\":0,\"description\":\"Include "
		"the last N messages of each session (max 20)\"},"
		"\"label\":{\"type\":\"string\",\"minLength\":1},"
		"\"agentId\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64},"
		"\"search\":{\"type\":\"string\",\"minLength\":1}}}",
	.invoke = t_sessions_list,
};
