/*
 * session_status.c - the `session_status` tool: a status card of the
 * session the agent is in (model, tokens, time), as OpenClaw's.
 */
#include <stdlib.h>

#include "agent/internal.h"
#include "core/timeutil.h"
#include "session/store.h"
#include "tools/tool.h"

static void t_session_status(struct tool_call *call)
{
	struct agent_run *run = call->env.run;
	json_t *e = run ? session_store_get(run->lane->agent->store, call->env.session_key) : NULL;
	char now[40];

	time_iso8601(time_now_ms(), now, sizeof(now));
	tool_call_text(call, false,
		       "Session: %s\nSession id: %s\nAgent: %s\nModel: %s/%s\nThinking: %s\n"
		       "Context tokens: %lld\nCompactions: %lld\nTime: %s",
		       call->env.session_key, call->env.session_id ? call->env.session_id : "-",
		       call->env.agent_id, run && run->model.provider ? run->model.provider : "-",
		       run && run->model.id ? run->model.id : "-",
		       run && run->thinking ? run->thinking : "off",
		       (long long)json_integer_value(json_object_get(e, "contextTokens")),
		       (long long)json_integer_value(json_object_get(e, "compactionCount")), now);
}

const struct tool_def tool_session_status = {
	.name = "session_status",
	.group = "sessions",
	.description = "Show the current session's status: model, thinking level, context usage "
		       "and the current time.",
	.parameters = "{\"type\":\"object\",\"properties\":{\"sessionKey\":{\"type\":\"string\","
		      "\"description\":\"Session to inspect (default: this one)\"}}}",
	.invoke = t_session_status,
};
