/*
 * memory_search.c - the `memory_search` tool: OpenClaw's recall step over
 * the agent's memory files (src/memory/memory.h does the work, off the loop).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "memory/memory.h"
#include "tools/tool.h"

/* The payload as OpenClaw's jsonResult sends it: JSON, indented by two. */
static void ms_answer_json(struct tool_call *call, json_t *payload)
{
	char *s = json_dumps(payload, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	tool_call_done(call, json_pack("[{s:s, s:s}]", "type", "text", "text", s ? s : "{}"),
		       false);
	free(s);
}

static void ms_done(void *ud, json_t *result, const char *err)
{
	struct tool_call *call = ud;

	call->data = NULL;
	call->cancel = NULL;
	if (!result) {
		/* OpenClaw's buildMemorySearchUnavailableResult, as a normal (non-error) result. */
		json_t *p = json_pack(
			"{s:[], s:b, s:b, s:s, s:s, s:s}", "results", "disabled", 1, "unavailable",
			1, "error", err ? err : "memory search unavailable", "warning",
			"Memory search is unavailable due to an index error.", "action",
			"Run `pincer memory status`, then retry memory_search.");

		ms_answer_json(call, p);
		json_decref(p);
		return;
	}
	ms_answer_json(call, result);
	json_decref(result);
}

static void ms_cancel(struct tool_call *call)
{
	mem_op_cancel(call->data);
	call->data = NULL;
	call->cancel = NULL;
	tool_call_text(call, true, "memory_search aborted");
}

static void t_memory_search(struct tool_call *call)
{
	const json_t *q = json_object_get(call->args, "query");
	const json_t *mr = json_object_get(call->args, "maxResults");
	const json_t *ms = json_object_get(call->args, "minScore");
	struct agent_rt *rt = call->env.rt;
	struct mem_settings s;
	struct mem_mgr *m;
	int max = 0;
	double min = NAN;

	if (!json_is_string(q) || !*json_string_value(q)) {
		tool_call_text(call, true, "memory_search: query is required");
		return;
	}
	if (mr) {
		if (!json_is_integer(mr) || json_integer_value(mr) < 1) {
			tool_call_text(call, true,
				       "memory_search: maxResults must be an integer >= 1");
			return;
		}
		max = json_integer_value(mr) > 100 ? 100 : (int)json_integer_value(mr);
	}
	if (ms) {
		if (!json_is_number(ms)) {
			tool_call_text(call, true, "memory_search: minScore must be a number");
			return;
		}
		min = json_number_value(ms);
	}
	if (!rt || !call->env.workspace) {
		tool_call_text(call, true, "memory_search: no agent workspace");
		return;
	}
	mem_settings_resolve(call->env.cfg, rt->paths, call->env.agent_id, call->env.workspace, &s);
	if (!s.enabled) {
		mem_settings_release(&s);
		tool_call_text(call, true,
			       "Memory is disabled for this agent. Enable memory search for this "
			       "agent, then retry.");
		return;
	}
	m = mem_mgr_get(call->env.loop, rt->http, &s, true);
	call->cancel = ms_cancel;
	call->data = mem_search(m, &s, json_string_value(q), max, min, call->env.session_key,
				ms_done, call);
	mem_settings_release(&s);
}

static char *ms_title(const json_t *args)
{
	const char *q = json_string_value(json_object_get(args, "query"));

	return q ? xasprintf("Memory search %.60s", q) : NULL;
}

const struct tool_def tool_memory_search = {
	.name = "memory_search",
	.group = "memory",
	.description =
		"Mandatory recall step: semantically search MEMORY.md, USER.md, Markdown files "
		"recursively under memory/ before answering questions about prior work, "
		"decisions, dates, people, preferences, or todos. Returns the best matching "
		"snippets with path and line range; use memory_get to read more of a hit. If "
		"response has disabled=true or a warning, tell the user and include the "
		"warning/action guidance.",
	.parameters = "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\"},"
		      "\"maxResults\":{\"type\":\"integer\",\"minimum\":1},"
		      "\"minScore\":{\"type\":\"number\"}},"
		      "\"required\":[\"query\"],\"additionalProperties\":false}",
	.invoke = t_memory_search,
	.title = ms_title,
};
