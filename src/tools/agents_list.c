/*
 * agents_list.c - the `agents_list` tool: the agents this one can reach
 * with sessions_spawn / sessions_send, itself first.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/runtime.h"
#include "config/config.h"
#include "core/str.h"
#include "providers/catalog.h"
#include "tools/tool.h"

static json_t *agent_row(const struct config *cfg, const char *id, const char *name)
{
	char *model = catalog_default_ref(cfg, id);
	json_t *r = json_pack("{s:s, s:s?, s:b, s:s?}", "id", id, "name", name, "configured", 1,
			      "model", model);

	free(model);
	return r;
}

static void t_agents_list(struct tool_call *call)
{
	const struct config *cfg = call->env.cfg;
	bool a2a = config_get_bool(cfg, "tools.agentToAgent.enabled");
	json_t *list = config_get(cfg, "agents.list"), *agents = json_array(), *a;
	const char *self_name = NULL;
	size_t i;

	json_array_foreach(list, i, a)
	{
		if (str_eq(json_string_value(json_object_get(a, "id")), call->env.agent_id))
			self_name = json_string_value(json_object_get(a, "name"));
	}
	json_array_append_new(agents, agent_row(cfg, call->env.agent_id, self_name));
	json_array_foreach(list, i, a)
	{
		const char *id = json_string_value(json_object_get(a, "id"));
		if (!id || !strcmp(id, call->env.agent_id) || !a2a)
			continue;
		json_array_append_new(
			agents, agent_row(cfg, id, json_string_value(json_object_get(a, "name"))));
	}
	tool_call_json(call, false,
		       json_pack("{s:s, s:b, s:o}", "requester", call->env.agent_id, "allowAny",
				 a2a, "agents", agents));
}

const struct tool_def tool_agents_list = {
	.name = "agents_list",
	.group = "agents",
	.description = "List the agents you can reach (for sessions_spawn agentId and "
		       "sessions_send), with their default models.",
	.parameters = "{\"type\":\"object\",\"properties\":{}}",
	.invoke = t_agents_list,
};
