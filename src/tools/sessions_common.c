/*
 * sessions_common.c - session targets and agent-to-agent reach for the
 * sessions_* tools (sessions_common.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/runtime.h"
#include "config/config.h"
#include "core/mem.h"
#include "core/str.h"
#include "session/keys.h"
#include "tools/policy.h"
#include "tools/sessions_common.h"
#include "tools/tool.h"

/* The key of the newest session whose label is `label`, or NULL. New string. */
static char *key_for_label(struct agent_rt *rt, const char *label)
{
	json_t *params = json_pack("{s:s}", "search", label);
	json_t *res = agent_rt_sessions_list(rt, params), *row;
	char *key = NULL;
	size_t i;

	json_array_foreach(json_object_get(res, "sessions"), i, row)
	{
		if (str_eq(json_string_value(json_object_get(row, "label")), label)) {
			key = xstrdup(json_string_value(json_object_get(row, "key")));
			break;
		}
	}
	json_decref(params);
	json_decref(res);
	return key;
}

char *sessions_target(struct tool_call *call, char *err, size_t errlen)
{
	const json_t *a = call->args;
	const char *key = json_string_value(json_object_get(a, "sessionKey"));
	const char *label = json_string_value(json_object_get(a, "label"));
	const char *agent = json_string_value(json_object_get(a, "agentId"));
	char *k;

	if (key && *key) {
		k = agent_rt_canonical_key(call->env.rt, key);
		if (!k)
			snprintf(err, errlen, "invalid sessionKey \"%s\"", key);
		return k;
	}
	if (label && *label) {
		k = key_for_label(call->env.rt, label);
		if (!k)
			snprintf(err, errlen, "no session has the label \"%s\"", label);
		return k;
	}
	if (agent && *agent) {
		char *id = session_agent_id_normalize(agent);
		if (!id) {
			snprintf(err, errlen, "invalid agentId \"%s\"", agent);
			return NULL;
		}
		k = session_key_main(id);
		free(id);
		return k;
	}
	snprintf(err, errlen, "sessionKey, label or agentId is required");
	return NULL;
}

int sessions_reachable(struct tool_call *call, const char *key, char *err, size_t errlen)
{
	char *agent = agent_rt_agent_for_key(call->env.rt, key);
	const json_t *allow = config_get(call->env.cfg, "tools.agentToAgent.allow");
	int rc = 0;

	if (strcmp(agent, call->env.agent_id)) {
		bool listed = !json_is_array(allow) || !json_array_size(allow);
		size_t i;
		json_t *v;

		json_array_foreach(allow, i, v)
		{
			if (tool_policy_match(json_string_value(v), agent) ||
			    str_eq(json_string_value(v), "*"))
				listed = true;
		}
		if (!config_get_bool(call->env.cfg, "tools.agentToAgent.enabled")) {
			snprintf(err, errlen,
				 "session %s belongs to agent %s; agent-to-agent access is off "
				 "(tools.agentToAgent.enabled)",
				 key, agent);
			rc = -1;
		} else if (!listed) {
			snprintf(err, errlen, "agent %s is not in tools.agentToAgent.allow", agent);
			rc = -1;
		}
	}
	free(agent);
	return rc;
}
