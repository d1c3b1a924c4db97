/*
 * m_models.c - models.authStatus: which credentials the agents' model
 * providers have and where each comes from, never the credentials.
 *
 * The answer is OpenClaw's shape {ts, providers:[…]} (providers rows as
 * auth_provider_status describes them) plus pincer's `agentId` and
 * `defaultModel`: the agent's model, whether it is usable and, when not,
 * what is missing. The Control UI's first-run Setup reads `defaultModel`;
 * OpenClaw's own Control UI reads `providers`. Built by auth_report, the
 * same function `pincer models status` prints, so the two cannot disagree.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/workspace.h"
#include "config/config.h"
#include "core/mem.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "gateway/internal.h"
#include "providers/auth.h"
#include "session/keys.h"

/* models.authStatus {agentId?, refresh?} */
static void m_models_auth_status(struct gw_call *call)
{
	static const char *const keys[] = { "agentId", "refresh", NULL };
	struct gateway *gw = call->gw;
	const char *agent = NULL;
	int refresh = 0;
	char *aid, *adir;
	struct auth_store *st;
	json_t *report, *out;
	int64_t now = time_now_ms();

	if (gw_call_closed(call, keys) < 0 ||
	    gw_call_unpack_loose(call, "{s?s, s?b}", "agentId", &agent, "refresh", &refresh) < 0)
		return;
	/* refresh: nothing is cached here; every call reads the store and the config afresh. */
	(void)refresh;
	aid = agent && *agent ? session_agent_id_normalize(agent)
			      : xstrdup(gateway_default_agent(gw));
	if (!gateway_agent_known(gw, aid)) {
		char *msg = xasprintf("unknown agent id \"%s\"", agent);

		gw_call_error(
			call, GW_E_INVALID_REQUEST, msg,
			json_pack("{s:s, s:s}", "code", "UNKNOWN_AGENT_ID", "agentId", agent));
		free(msg);
		free(aid);
		return;
	}
	adir = agent_dir(gw->paths, aid);
	st = auth_store_open(adir);
	report = auth_report(st, gw->cfg, aid, now);
	out = json_pack("{s:I, s:s, s:O}", "ts", (json_int_t)now, "agentId", aid, "providers",
			json_object_get(report, "providers"));
	json_object_del(report, "providers");
	json_object_set_new(out, "defaultModel", report);
	auth_store_free(st);
	free(adir);
	free(aid);
	gw_call_ok(call, out);
}

const struct gw_method gw_methods_models[] = {
	{ "models.authStatus", SCOPE_READ, m_models_auth_status },
	{ NULL },
};
