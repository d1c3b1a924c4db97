/*
 * sessions_spawn.c - the `sessions_spawn` tool: a sub-agent run in its own
 * session (agent:<id>:subagent:<uuid>) working on a task in the
 * background. The tool answers at once; when the sub-agent finishes, its
 * result is announced to the requesting session as a new turn there, so
 * the requester can act on it and tell the user.
 *
 * Sub-agents get the sub-agent tool policy (no gateway, message,
 * sessions_send, …) and cannot spawn further sub-agents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/runtime.h"
#include "config/config.h"
#include "core/id.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "session/keys.h"
#include "tools/sessions_common.h"
#include "tools/tool.h"

/* What the announcement needs once the child is done. */
struct spawn {
	struct agent_rt *rt;
	char *requester; /* the requesting session's key */
	char *child;     /* the child's session key */
	char *label;
	bool cleanup; /* delete the child session afterwards */
};

static void spawn_done(void *arg, const char *run_id, const json_t *result)
{
	struct spawn *sp = arg;
	const char *status = json_string_value(json_object_get(result, "status"));
	const json_t *p = json_object_get(json_object_get(result, "result"), "payloads");
	const char *text = json_string_value(json_object_get(json_array_get(p, 0), "text"));
	struct agent_submit s = { 0 };
	char rid[64], err[256], *msg;
	bool queued, dup;

	msg = xasprintf("[Sub-agent %s %s]\n\n%s", sp->label ? sp->label : sp->child,
			str_eq(status, "ok") ? "finished" : "failed",
			str_eq(status, "ok")
				? (text && *text ? text : "(no reply)")
				: (json_string_value(json_object_get(result, "summary"))
					   ? json_string_value(json_object_get(result, "summary"))
					   : "unknown error"));
	s.session_key = sp->requester;
	s.message = msg;
	s.channel = "subagent";
	s.queue_mode = "followup";
	s.extra_system = "A sub-agent you started has finished; its result is in the user "
			 "message. Use it to continue, and tell the user what matters.";
	if (agent_rt_submit(sp->rt, &s, rid, &queued, &dup, err, sizeof(err)) < 0)
		log_warn("tools", "sessions_spawn: could not announce %s to %s: %s", run_id,
			 sp->requester, err);
	if (sp->cleanup && agent_rt_delete(sp->rt, sp->child, true, err, sizeof(err)) < 0)
		log_warn("tools", "sessions_spawn: cleanup of %s: %s", sp->child, err);
	free(msg);
	free(sp->requester);
	free(sp->child);
	free(sp->label);
	free(sp);
}

static void t_sessions_spawn(struct tool_call *call)
{
	const json_t *a = call->args;
	const char *task = json_string_value(json_object_get(a, "task"));
	const char *label = json_string_value(json_object_get(a, "label"));
	const char *agent = json_string_value(json_object_get(a, "agentId"));
	const char *cleanup = json_string_value(json_object_get(a, "cleanup"));
	json_t *rts = json_object_get(a, "runTimeoutSeconds");
	struct agent_submit s = { 0 };
	struct spawn *sp;
	char uuid[40], rid[64], err[300], *id, *key, *sys;
	bool queued, dup;

	if (!task || !*task) {
		tool_call_text(call, true, "task is required");
		return;
	}
	if (strstr(call->env.session_key, ":subagent:")) {
		tool_call_text(call, true, "sessions_spawn: a sub-agent cannot start sub-agents");
		return;
	}
	id = session_agent_id_normalize(agent ? agent : call->env.agent_id);
	if (!id) {
		tool_call_text(call, true, "invalid agentId \"%s\"", agent);
		return;
	}
	id_uuid(uuid);
	key = xasprintf("agent:%s:subagent:%s", id, uuid);
	free(id);
	if (sessions_reachable(call, key, err, sizeof(err)) < 0) {
		tool_call_text(call, true, "%s", err);
		free(key);
		return;
	}
	sp = xcalloc(1, sizeof(*sp));
	sp->rt = call->env.rt;
	sp->requester = xstrdup(call->env.session_key);
	sp->child = key;
	sp->label = label ? xstrdup(label) : NULL;
	sp->cleanup = str_eq(cleanup, "delete");
	sys = xasprintf("You are a sub-agent started by session %s to do one task. Work on it "
			"with your tools, then answer with the result only; it is handed back to "
			"the requester.",
			call->env.session_key);
	s.session_key = key;
	s.message = task;
	s.model = json_string_value(json_object_get(a, "model"));
	s.thinking = json_string_value(json_object_get(a, "thinking"));
	s.timeout_ms = json_is_number(rts) ? (int64_t)(json_number_value(rts) * 1000) : 0;
	s.extra_system = sys;
	s.channel = "subagent";
	s.spawned_by = call->env.session_key;
	s.done = spawn_done;
	s.done_arg = sp;
	if (agent_rt_submit(call->env.rt, &s, rid, &queued, &dup, err, sizeof(err)) < 0) {
		free(sys);
		tool_call_text(call, true, "sessions_spawn: %s", err);
		free(sp->requester);
		free(sp->child);
		free(sp->label);
		free(sp);
		return;
	}
	free(sys);
	if (label) {
		json_t *patch = json_pack("{s:s}", "label", label);
		json_decref(agent_rt_patch(call->env.rt, key, patch, err, sizeof(err)));
		json_decref(patch);
	}
	tool_call_json(call, false,
		       json_pack("{s:s, s:s, s:s, s:s?}", "status", "accepted", "childSessionKey",
				 key, "runId", rid, "label", label));
}

const struct tool_def tool_sessions_spawn = {
	.name = "sessions_spawn",
	.group = "sessions",
	.description =
		"Start a sub-agent on a task in the background, in its own session. Returns at "
		"once; the sub-agent's result is announced back to this session when it finishes.",
	.parameters = "{\"type\":\"object\",\"properties\":{"
		      "\"task\":{\"type\":\"string\",\"minLength\":1},"
		      "\"label\":{\"type\":\"string\"},"
		      "\"agentId\":{\"type\":\"string\"},"
		      "\"model\":{\"type\":\"string\"},"
		      "\"thinking\":{\"type\":\"string\"},"
		      "\"runTimeoutSeconds\":{\"type\":\"number\",\"minimum\":0},"
		      "\"cleanup\":{\"type\":\"string\",\"enum\":[\"delete\",\"keep\"]}},"
		      "\"required\":[\"task\"]}",
	.invoke = t_sessions_spawn,
};
