/*
 * tools.c - tools outside a model turn: one tool called directly
 * (tools.invoke, POST /tools/invoke), and the tool lists the Control UI
 * shows (tools.catalog, tools.effective).
 */
#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "config/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "providers/catalog.h"
#include "session/keys.h"
#include "session/store.h"
#include "tools/policy.h"
#include "tools/tool.h"

/* A direct invocation in flight. */
struct invoke {
	struct tool_call call;
	void (*done)(void *arg, int status, json_t *body);
	void *arg;
	char *agent_id, *session_key;
};

static json_t *invoke_error(const char *type, const char *message)
{
	return json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "type", type, "message", message);
}

static void invoke_answered(struct tool_call *call, json_t *content, bool is_error)
{
	struct invoke *iv = (struct invoke *)call;
	json_t *body;

	if (json_is_string(content)) {
		json_t *c = json_pack("[{s:s, s:O}]", "type", "text", "text", content);
		json_decref(content);
		content = c;
	}
	if (!content)
		content = json_array();
	if (is_error) {
		struct buf b;
		size_t i;
		json_t *blk;

		buf_init(&b, 64 * 1024);
		json_array_foreach(content, i, blk)
		{
			const char *t = json_string_value(json_object_get(blk, "text"));
			if (t)
				buf_printf(&b, "%s%s", b.len ? "\n" : "", t);
		}
		body = invoke_error("tool_error", b.len ? b.p : "tool execution failed");
		buf_release(&b);
		json_decref(content);
		iv->done(iv->arg, 400, body);
	} else {
		body = json_pack("{s:b, s:{s:o, s:b}}", "ok", 1, "result", "content", content,
				 "isError", 0);
		iv->done(iv->arg, 200, body);
	}
	json_decref(iv->call.args);
	free(iv->call.id);
	free(iv->agent_id);
	free(iv->session_key);
	free(iv);
}

/* provider and model id a session would use now: its last run's, else the default ref. */
static void session_model(struct agent_rt *rt, struct agent_state *a, const char *key,
			  char **provider, char **model)
{
	json_t *e = session_store_get(a->store, key);
	const char *p = json_string_value(json_object_get(e, "modelProvider"));
	const char *m = json_string_value(json_object_get(e, "model"));
	char *ref, *slash;

	if (p && m) {
		*provider = xstrdup(p);
		*model = xstrdup(m);
		return;
	}
	ref = catalog_default_ref(rt_cfg(rt), a->id);
	slash = ref ? strchr(ref, '/') : NULL;
	if (slash) {
		*slash = '\0';
		*provider = xstrdup(ref);
		*model = xstrdup(slash + 1);
	} else {
		*provider = NULL;
		*model = ref ? xstrdup(ref) : NULL;
	}
	free(ref);
}

static struct tool_policy *session_policy(struct agent_rt *rt, struct agent_state *a,
					  const char *key)
{
	struct tool_policy_ctx pc = { .agent_id = a->id, .session_key = key };
	char *provider = NULL, *model = NULL;
	struct tool_policy *p;

	session_model(rt, a, key, &provider, &model);
	pc.provider = provider;
	pc.model_id = model;
	p = tool_policy_resolve(rt_cfg(rt), &pc);
	free(provider);
	free(model);
	return p;
}

/* The agent and canonical key a request names; -1 with err. */
static int resolve_target(struct agent_rt *rt, const char *agent_id, const char *session_key,
			  struct agent_state **a, char **key, char *err, size_t errlen)
{
	char *aid;

	*key = session_key ? agent_rt_canonical_key(rt, session_key) : NULL;
	if (session_key && !*key) {
		snprintf(err, errlen, "invalid session key \"%s\"", session_key);
		return -1;
	}
	aid = *key ? agent_rt_agent_for_key(rt, *key)
		   : xstrdup(agent_id ? agent_id : rt_default_agent(rt));
	if (agent_id && *key && strcmp(agent_id, aid)) {
		snprintf(err, errlen, "agent id \"%s\" does not match session agent \"%s\"",
			 agent_id, aid);
		free(aid);
		free(*key);
		*key = NULL;
		return -1;
	}
	*a = rt_agent(rt, aid);
	if (!*a) {
		snprintf(err, errlen, "unknown agent \"%s\"", aid);
		free(aid);
		free(*key);
		*key = NULL;
		return -1;
	}
	if (!*key)
		*key = session_key_main((*a)->id);
	free(aid);
	return 0;
}

void agent_rt_invoke_tool(struct agent_rt *rt, const struct agent_tool_invoke *rq)
{
	const struct tool_def *def = rq->tool && *rq->tool ? tool_find(rq->tool) : NULL;
	struct agent_state *a;
	struct tool_policy *pol;
	struct invoke *iv;
	char err[256], *key = NULL, *msg;
	json_t *args;

	if (!rq->tool || !*rq->tool) {
		rq->done(rq->arg, 400,
			 invoke_error("invalid_request", "tools.invoke requires name"));
		return;
	}
	if (rq->args && !json_is_object(rq->args) && !json_is_null(rq->args)) {
		rq->done(rq->arg, 400, invoke_error("invalid_request", "args must be an object"));
		return;
	}
	if (resolve_target(rt, rq->agent_id, rq->session_key, &a, &key, err, sizeof(err)) < 0) {
		rq->done(rq->arg, 400, invoke_error("invalid_request", err));
		return;
	}
	pol = session_policy(rt, a, key);
	if (!def || !tool_policy_allows(pol, def->name) ||
	    (rq->http && !tool_policy_http_allows(rt_cfg(rt), def->name))) {
		msg = xasprintf("Tool not available: %s", rq->tool);
		rq->done(rq->arg, 404, invoke_error("not_found", msg));
		free(msg);
		tool_policy_free(pol);
		free(key);
		return;
	}
	tool_policy_free(pol);
	if (rt_agent_prepare(rt, a, err, sizeof(err)) < 0) {
		rq->done(rq->arg, 500, invoke_error("tool_error", err));
		free(key);
		return;
	}
	args = json_is_object(rq->args) ? json_deep_copy(rq->args) : json_object();
	if (rq->action && !json_object_get(args, "action"))
		json_object_set_new(args, "action", json_string(rq->action));
	iv = xcalloc(1, sizeof(*iv));
	iv->done = rq->done;
	iv->arg = rq->arg;
	iv->agent_id = xstrdup(a->id);
	iv->session_key = key;
	iv->call.def = def;
	iv->call.id = xasprintf("http-%lld", (long long)time_now_ms());
	iv->call.args = args;
	iv->call.env.loop = rt->loop;
	iv->call.env.cfg = rt_cfg(rt);
	iv->call.env.agent_id = iv->agent_id;
	iv->call.env.session_key = iv->session_key;
	iv->call.env.session_id =
		json_string_value(json_object_get(session_store_get(a->store, key), "sessionId"));
	iv->call.env.workspace = a->workspace;
	iv->call.env.rt = rt;
	iv->call.on_done = invoke_answered;
	log_info(AGENT_SUBSYS, "tool %s invoked directly (%s)", def->name,
		 rq->http ? "http" : "rpc");
	def->invoke(&iv->call);
}

/* {id, label, description, source, defaultProfiles} of every table row in `group`. */
static json_t *catalog_group_tools(const char *group)
{
	json_t *tools = json_array();
	size_t i;

	for (i = 0; tool_table[i]; i++) {
		if (strcmp(tool_table[i]->group ? tool_table[i]->group : "other", group))
			continue;
		json_array_append_new(tools,
				      json_pack("{s:s, s:s, s:s, s:s, s:o}", "id",
						tool_table[i]->name, "label", tool_table[i]->name,
						"description", tool_table[i]->description, "source",
						"core", "defaultProfiles",
						tool_policy_default_profiles(tool_table[i]->name)));
	}
	return tools;
}

json_t *agent_rt_tools_catalog(struct agent_rt *rt, const char *agent_id, char *err, size_t errlen)
{
	/* OpenClaw's section order and labels */
	static const char *const sections[][2] = {
		{ "fs", "Files" },
		{ "runtime", "Runtime" },
		{ "web", "Web" },
		{ "memory", "Memory" },
		{ "sessions", "Sessions" },
		{ "ui", "UI" },
		{ "messaging", "Messaging" },
		{ "automation", "Automation" },
		{ "nodes", "Nodes" },
		{ "agents", "Agents" },
		{ "media", "Media" },
	};
	struct agent_state *a = rt_agent(rt, agent_id ? agent_id : rt_default_agent(rt));
	json_t *groups = json_array();
	size_t i;

	if (!a) {
		snprintf(err, errlen, "unknown agent \"%s\"", agent_id);
		json_decref(groups);
		return NULL;
	}
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		json_t *tools = catalog_group_tools(sections[i][0]);
		if (!json_array_size(tools)) {
			json_decref(tools);
			continue;
		}
		json_array_append_new(groups, json_pack("{s:s, s:s, s:s, s:o}", "id",
							sections[i][0], "label", sections[i][1],
							"source", "core", "tools", tools));
	}
	return json_pack("{s:s, s:o, s:o}", "agentId", a->id, "profiles", tool_policy_profiles(),
			 "groups", groups);
}

json_t *agent_rt_tools_effective(struct agent_rt *rt, const char *agent_id, const char *session_key,
				 char *err, size_t errlen)
{
	struct agent_state *a;
	struct tool_policy *pol;
	char *key = NULL;
	json_t *tools = json_array(), *out;
	size_t i;

	if (resolve_target(rt, agent_id, session_key, &a, &key, err, errlen) < 0) {
		json_decref(tools);
		return NULL;
	}
	pol = session_policy(rt, a, key);
	for (i = 0; tool_table[i]; i++) {
		if (!tool_policy_allows(pol, tool_table[i]->name))
			continue;
		json_array_append_new(
			tools,
			json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", tool_table[i]->name, "label",
				  tool_table[i]->name, "description", tool_table[i]->description,
				  "rawDescription", tool_table[i]->description, "source", "core"));
	}
	out = json_pack("{s:s, s:s, s:[{s:s, s:s, s:s, s:o}]}", "agentId", a->id, "profile",
			tool_policy_profile(pol), "groups", "id", "core", "label", "Built-in tools",
			"source", "core", "tools", tools);
	tool_policy_free(pol);
	free(key);
	return out;
}
