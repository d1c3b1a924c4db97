/*
 * m_controlui.c - the methods OpenClaw's own Control UI calls when it starts
 * and opens a chat (chat.startup, sessions.subscribe,
 * sessions.messages.subscribe/unsubscribe, agent.identity.get), so that its
 * build, served through gateway.controlUi.root, can talk to pincer. Each one
 * answers in OpenClaw's shape with what pincer really has; nothing here is a
 * placeholder for state pincer does not keep.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/runtime.h"
#include "config/config.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "gateway/internal.h"
#include "providers/catalog.h"
#include "session/keys.h"

/* The sessions.list row of `key`, or NULL when the session was never used. */
static json_t *session_info(struct agent_rt *rt, const char *key)
{
	json_t *q = json_pack("{s:s}", "search", key);
	json_t *list = agent_rt_sessions_list(rt, q), *row, *out = NULL;
	size_t i;

	json_array_foreach(json_object_get(list, "sessions"), i, row)
	{
		if (str_eq(json_string_value(json_object_get(row, "key")), key)) {
			out = json_incref(row);
			break;
		}
	}
	json_decref(list);
	json_decref(q);
	return out;
}

/* {model, modelProvider} of the agent's default model (OpenClaw's getSessionDefaults). */
static json_t *session_defaults(struct gateway *gw, const char *agent_id)
{
	char *ref = catalog_default_ref(gw->cfg, agent_id);
	json_t *d = json_object();
	const char *slash = ref ? strchr(ref, '/') : NULL;

	if (slash) {
		json_object_set_new(d, "modelProvider", json_stringn(ref, (size_t)(slash - ref)));
		json_object_set_new(d, "model", json_string(slash + 1));
	}
	free(ref);
	return d;
}

/*
 * chat.startup: chat.history plus what the UI needs to draw the composer
 * (sessionInfo, defaults). OpenClaw also accepts {shortId, slugHint} to find
 * a session by its short id; pincer has no short ids, so without a
 * sessionKey the agent's main session is opened.
 */
static void m_chat_startup(struct gw_call *call)
{
	/* chat.history's params, or {shortId, slugHint, agentId, limit, maxBytes} */
	static const char *const keys[] = { "sessionKey",    "agentId",     "cursor",
					    "limit",         "maxBytes",    "offset",
					    "pendingBefore", "inputRunIds", "messageId",
					    "sessionId",     "maxChars",    "shortId",
					    "slugHint",      NULL };
	struct agent_rt *rt = call->gw->agents;
	const char *key = NULL, *agent = NULL;
	json_int_t limit = 200;
	char err[256], *canon, *main_key = NULL, *agent_id;
	json_t *out, *info;

	if (gw_call_closed(call, keys) < 0 ||
	    gw_call_unpack_loose(call, "{s?s, s?s, s?I}", "sessionKey", &key, "agentId", &agent,
				 "limit", &limit) < 0)
		return;
	if (!key) {
		char *aid = agent ? session_agent_id_normalize(agent)
				  : xstrdup(gateway_default_agent(call->gw));

		if (!gateway_agent_known(call->gw, aid)) {
			gw_call_invalid(call, "unknown agent id \"%s\"", agent);
			free(aid);
			return;
		}
		main_key = xasprintf("agent:%s:main", aid);
		free(aid);
		key = main_key;
	}
	out = agent_rt_history(rt, key, (int)limit, err, sizeof(err));
	free(main_key);
	if (!out) {
		gw_call_invalid(call, "%s", err);
		return;
	}
	canon = xstrdup(json_string_value(json_object_get(out, "sessionKey")));
	agent_id = agent_rt_agent_for_key(rt, canon);
	info = session_info(rt, canon);
	if (info)
		json_object_set_new(out, "sessionInfo", info);
	json_object_set_new(out, "defaults", session_defaults(call->gw, agent_id));
	free(agent_id);
	free(canon);
	gw_call_ok(call, out);
}

/*
 * sessions.subscribe: pincer sends sessions.changed to every reader, so a
 * subscription is always in place; with list params it also answers the
 * list, as OpenClaw does.
 */
static void m_sessions_subscribe(struct gw_call *call)
{
	if (!json_object_size(call->params)) {
		gw_call_ok(call, json_pack("{s:b}", "subscribed", 1));
		return;
	}
	gw_call_ok(call, json_pack("{s:b, s:o}", "subscribed", 1, "list",
				   agent_rt_sessions_list(call->gw->agents, call->params)));
}

/*
 * sessions.messages.subscribe {key, agentId?, includeApprovals?}: chat and
 * agent events of every session already reach every reader; the answer
 * names the canonical key. OpenClaw answers includeApprovals with an
 * `approvalReplay` of the session's pending prompts; pincer does not build
 * that yet (its UI reads exec.approval.list instead), so the flag is
 * accepted and the answer has no replay, which OpenClaw's UI tolerates.
 */
static void messages_subscription(struct gw_call *call, bool subscribe)
{
	const char *key, *agent = NULL;
	int approvals = 0;
	char *canon;
	json_t *out;

	if ((subscribe ? gw_call_unpack(call, "{s:s, s?s, s?b}", "key", &key, "agentId", &agent,
					"includeApprovals", &approvals)
		       : gw_call_unpack(call, "{s:s, s?s}", "key", &key, "agentId", &agent)) < 0)
		return;
	canon = agent_rt_canonical_key(call->gw->agents, key);
	if (!canon) {
		gw_call_invalid(call, "invalid session key \"%s\"", key);
		return;
	}
	out = json_pack("{s:b, s:s}", "subscribed", subscribe, "key", canon);
	free(canon);
	gw_call_ok(call, out);
}

static void m_sessions_messages_subscribe(struct gw_call *call)
{
	messages_subscription(call, true);
}

static void m_sessions_messages_unsubscribe(struct gw_call *call)
{
	messages_subscription(call, false);
}

/* sessions.describe {key, agentId?}: {session: the sessions.list row, or null}. */
static void m_sessions_describe(struct gw_call *call)
{
	const char *key, *agent = NULL;
	char *canon;
	json_t *row;

	if (gw_call_unpack_loose(call, "{s:s, s?s}", "key", &key, "agentId", &agent) < 0)
		return;
	canon = agent_rt_canonical_key(call->gw->agents, key);
	if (!canon) {
		gw_call_invalid(call, "invalid session key \"%s\"", key);
		return;
	}
	row = session_info(call->gw->agents, canon);
	free(canon);
	gw_call_ok(call, json_pack("{s:o}", "session", row ? row : json_null()));
}

/*
 * agent.identity.get {agentId?, sessionKey?}: {agentId, name, emoji?,
 * avatar?} from agents.list[].identity (name falls back to the entry's
 * name, then "Assistant", as the bootstrap config does).
 */
static void m_agent_identity_get(struct gw_call *call)
{
	struct gateway *gw = call->gw;
	const char *agent = NULL, *key = NULL, *name = NULL;
	json_t *list = config_get(gw->cfg, "agents.list"), *a, *entry = NULL, *ident, *out;
	char *id;
	size_t i;

	if (gw_call_unpack(call, "{s?s, s?s}", "agentId", &agent, "sessionKey", &key) < 0)
		return;
	id = key && *key       ? agent_rt_agent_for_key(gw->agents, key)
	     : agent && *agent ? session_agent_id_normalize(agent)
			       : xstrdup(gateway_default_agent(gw));
	if (!gateway_agent_known(gw, id)) {
		gw_call_invalid(call, "unknown agent id \"%s\"", agent ? agent : key);
		free(id);
		return;
	}
	json_array_foreach(list, i, a)
	{
		if (str_eq(json_string_value(json_object_get(a, "id")), id))
			entry = a;
	}
	ident = json_object_get(entry, "identity");
	name = json_string_value(json_object_get(ident, "name"));
	if (!name || !*name)
		name = json_string_value(json_object_get(entry, "name"));
	out = json_pack("{s:s, s:s}", "agentId", id, "name", name && *name ? name : "Assistant");
	if (json_is_string(json_object_get(ident, "emoji")))
		json_object_set(out, "emoji", json_object_get(ident, "emoji"));
	if (json_is_string(json_object_get(ident, "avatar")))
		json_object_set(out, "avatar", json_object_get(ident, "avatar"));
	free(id);
	gw_call_ok(call, out);
}

const struct gw_method gw_methods_controlui[] = {
	{ "chat.startup", SCOPE_READ, m_chat_startup },
	{ "sessions.subscribe", SCOPE_READ, m_sessions_subscribe },
	{ "sessions.messages.subscribe", SCOPE_READ, m_sessions_messages_subscribe },
	{ "sessions.messages.unsubscribe", SCOPE_READ, m_sessions_messages_unsubscribe },
	{ "sessions.describe", SCOPE_READ, m_sessions_describe },
	{ "agent.identity.get", SCOPE_READ, m_agent_identity_get },
	{ NULL },
};
