/*
 * m_skills.c - skills.status: every skill an agent could see, whether it is
 * eligible, and what it is missing, in OpenClaw's report shape (the same
 * JSON `pincer skills list|info|check --json` build on).
 */
#include <stdlib.h>
#include <string.h>

#include "agent/runtime.h"
#include "agent/workspace.h"
#include "config/config.h"
#include "config/paths.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "gateway/internal.h"
#include "session/keys.h"
#include "session/store.h"
#include "skills/skills.h"

static void m_skills_loaded(void *arg, struct skill_set *set)
{
	struct gw_call *call = arg;

	gw_call_ok(call, skills_status_json(set));
	skills_release(set);
	free(set);
}

/*
 * skills.status {agentId?, sessionKey?}. The scan runs on the thread pool;
 * a client that leaves meanwhile just gets no answer (gw_call_ok drops it).
 */
static void m_skills_status(struct gw_call *call)
{
	struct gateway *gw = call->gw;
	const char *raw = NULL, *key = NULL;
	char *agent, *ws, *managed;

	if (gw_call_unpack(call, "{s?s, s?s}", "agentId", &raw, "sessionKey", &key) < 0)
		return;
	if ((raw && !*raw) || (key && !*key)) {
		gw_call_invalid(call,
				"invalid skills.status params: at /%s: must NOT have fewer "
				"than 1 characters",
				raw && !*raw ? "agentId" : "sessionKey");
		return;
	}
	agent = raw ? session_agent_id_normalize(raw) : xstrdup(gateway_default_agent(gw));
	if (!agent || !gateway_agent_known(gw, agent)) {
		gw_call_invalid(call, "unknown agent id \"%s\"", raw);
		free(agent);
		return;
	}
	if (key && gw->agents) {
		char *canon = agent_rt_canonical_key(gw->agents, key);
		struct session_store *st = agent_rt_store(gw->agents, agent);
		bool found = canon && st && session_store_get(st, canon);

		free(canon);
		if (!found) {
			gw_call_invalid(call, "Session not found.");
			free(agent);
			return;
		}
	}
	ws = workspace_dir(gw->cfg, gw->paths, agent);
	managed = fs_join(gw->paths->state_dir, "skills");
	if (!skills_load_async(gw->loop, gw->cfg, ws, managed, agent, m_skills_loaded, call))
		gw_call_error(call, GW_E_UNAVAILABLE, "cannot scan skills now", NULL);
	free(ws);
	free(managed);
	free(agent);
}

const struct gw_method gw_methods_skills[] = {
	{ "skills.status", SCOPE_READ, m_skills_status },
	{ NULL },
};
