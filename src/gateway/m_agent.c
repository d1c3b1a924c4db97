/*
 * m_agent.c - the agent and session methods: agent, agent.wait, chat.send,
 * chat.history, chat.abort, chat.inject, sessions.*, and the heartbeat
 * controls (last-heartbeat, set-heartbeats, wake). Everything of substance
 * is in the agent runtime (agent/runtime.h); this file is params in,
 * answers out, in OpenClaw's shapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/runtime.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "gateway/internal.h"

/* ==== agent ==== */

static void agent_final(void *arg, const char *run_id, const json_t *result)
{
	struct gw_call *call = arg;
	const char *status = json_string_value(json_object_get(result, "status"));

	free(call->data); /* the run id agent_cancel would have needed */
	call->data = NULL;
	call->cancel = NULL;
	if (str_eq(status, "error")) {
		json_t *e = json_object_get(result, "error");
		gw_call_error(call, GW_E_UNAVAILABLE,
			      json_string_value(json_object_get(e, "message"))
				      ? json_string_value(json_object_get(e, "message"))
				      : "agent run failed",
			      json_pack("{s:s, s:O?}", "runId", run_id, "errorKind",
					json_object_get(e, "errorKind")));
		return;
	}
	gw_call_ok(call, json_deep_copy(result));
}

static void agent_cancel(struct gw_call *call)
{
	struct agent_rt *rt = call->gw->agents;
	char *run_id = call->data;

	/* a client that left does not stop the run; a `cancel` frame does */
	agent_rt_unwait(rt, run_id, call);
	if (call->conn)
		agent_rt_abort(rt, NULL, run_id, true, "cancelled");
	free(run_id);
	call->data = NULL;
	if (call->conn)
		gw_call_error(call, GW_E_UNAVAILABLE, "agent run cancelled", NULL);
	else
		gw_call_ok(call, NULL);
}

static void m_agent(struct gw_call *call)
{
	static const char *const keys[] = { "message",
					    "agentId",
					    "provider",
					    "model",
					    "to",
					    "replyTo",
					    "sessionId",
					    "sessionKey",
					    "expectedExistingSessionId",
					    "thinking",
					    "deliver",
					    "attachments",
					    "channel",
					    "replyChannel",
					    "accountId",
					    "replyAccountId",
					    "threadId",
					    "groupId",
					    "groupChannel",
					    "groupSpace",
					    "timeout",
					    "bestEffortDeliver",
					    "lane",
					    "cwd",
					    "cleanupBundleMcpOnRunEnd",
					    "modelRun",
					    "promptMode",
					    "extraSystemPrompt",
					    "bootstrapContextMode",
					    "bootstrapContextRunKind",
					    "acpTurnSource",
					    "internalRuntimeHandoffId",
					    "internalExecutionIdentityRetry",
					    "internalExecutionIdentityRecoveryAttempt",
					    "execApprovalFollowupExpectedSessionId",
					    "internalEvents",
					    "inputProvenance",
					    "suppressPromptPersistence",
					    "sessionEffects",
					    "sourceReplyDeliveryMode",
					    "disableMessageTool",
					    "swarmCollector",
					    "swarmOutputSchema",
					    "forceRestartSafeTools",
					    "forceCodeModeTools",
					    "voiceWakeTrigger",
					    "idempotencyKey",
					    "label",
					    NULL };
	struct agent_rt *rt = call->gw->agents;
	struct agent_submit s = { 0 };
	const char *provider = NULL, *model = NULL;
	json_int_t timeout = 0;
	char run_id[64], err[512], *model_ref = NULL, *key;
	bool queued, dup;

	if (gw_call_closed(call, keys) < 0)
		return;
	if (gw_call_unpack_loose(
		    call, "{s:s, s?s, s?s, s?s, s?s, s?s, s?s, s?I, s?s, s?o, s?s, s:s}", "message",
		    &s.message, "agentId", &s.agent_id, "provider", &provider, "model", &model,
		    "sessionId", &s.session_id, "sessionKey", &s.session_key, "thinking",
		    &s.thinking, "timeout", &timeout, "extraSystemPrompt", &s.extra_system,
		    "attachments", &s.attachments, "channel", &s.channel, "idempotencyKey",
		    &s.run_id) < 0)
		return;
	if (!*s.message) {
		gw_call_invalid(
			call,
			"invalid agent params: at /message: must NOT have fewer than 1 characters");
		return;
	}
	if (model && *model)
		model_ref = provider && *provider && !strchr(model, '/')
				    ? xasprintf("%s/%s", provider, model)
				    : xstrdup(model);
	s.model = model_ref;
	s.timeout_ms = timeout * 1000;
	if (!s.channel)
		s.channel = "cli";
	if (agent_rt_submit(rt, &s, run_id, &queued, &dup, err, sizeof(err)) < 0) {
		free(model_ref);
		gw_call_invalid(call, "%s", err);
		return;
	}
	free(model_ref);
	key = s.session_key ? agent_rt_canonical_key(rt, s.session_key) : NULL;
	{
		json_t *acc = json_pack("{s:s, s:s, s:I}", "runId", run_id, "status", "accepted",
					"acceptedAt", (json_int_t)time_now_ms());
		char *agent = agent_rt_agent_for_key(rt, key);
		if (key)
			json_object_set_new(acc, "sessionKey", json_string(key));
		json_object_set_new(acc, "agentId", json_string(s.agent_id ? s.agent_id : agent));
		free(agent);
		gw_call_progress(call, acc);
	}
	free(key);
	call->data = xstrdup(run_id);
	call->cancel = agent_cancel;
	if (agent_rt_wait(rt, run_id, agent_final, call) < 0) {
		free(call->data);
		call->data = NULL;
		gw_call_error(call, GW_E_UNAVAILABLE, "agent run vanished", NULL);
	}
}

/* agent.wait: the run's end, or {status:"timeout"} after timeoutMs (default 30 s). */
struct waiter {
	struct gw_call *call;
	uv_timer_t timer;
	char run_id[64];
	bool answered;
};

static void waiter_closed(uv_handle_t *h)
{
	free(h->data);
}

static void waiter_done(void *arg, const char *run_id, const json_t *result)
{
	struct waiter *w = arg;
	const char *status = json_string_value(json_object_get(result, "status"));
	json_t *out = json_pack("{s:s, s:s}", "runId", run_id, "status",
				str_eq(status, "timeout") ? "aborted"
				: status                  ? status
							  : "ok");

	if (json_object_get(result, "error"))
		json_object_set(out, "error",
				json_object_get(json_object_get(result, "error"), "message"));
	w->answered = true;
	w->call->cancel = NULL;
	gw_call_ok(w->call, out);
	uv_close((uv_handle_t *)&w->timer, waiter_closed);
}

static void waiter_timeout(uv_timer_t *t)
{
	struct waiter *w = t->data;

	agent_rt_unwait(w->call->gw->agents, w->run_id, w);
	w->call->cancel = NULL;
	gw_call_ok(w->call, json_pack("{s:s, s:s}", "runId", w->run_id, "status", "timeout"));
	uv_close((uv_handle_t *)&w->timer, waiter_closed);
}

static void waiter_cancel(struct gw_call *call)
{
	struct waiter *w = call->data;

	agent_rt_unwait(call->gw->agents, w->run_id, w);
	gw_call_ok(call, NULL);
	uv_close((uv_handle_t *)&w->timer, waiter_closed);
}

static void m_agent_wait(struct gw_call *call)
{
	const char *run_id;
	json_int_t timeout = 30000;
	struct waiter *w;

	if (gw_call_unpack(call, "{s:s, s?I}", "runId", &run_id, "timeoutMs", &timeout) < 0)
		return;
	w = xcalloc(1, sizeof(*w));
	w->call = call;
	snprintf(w->run_id, sizeof(w->run_id), "%s", run_id);
	uv_timer_init(call->gw->loop, &w->timer);
	w->timer.data = w;
	call->data = w;
	call->cancel = waiter_cancel;
	if (agent_rt_wait(call->gw->agents, run_id, waiter_done, w) < 0) {
		call->cancel = NULL;
		gw_call_ok(call, json_pack("{s:s, s:s}", "runId", run_id, "status", "unknown"));
		uv_close((uv_handle_t *)&w->timer, waiter_closed);
		return;
	}
	if (!w->answered)
		uv_timer_start(&w->timer, waiter_timeout, (uint64_t)(timeout > 0 ? timeout : 0), 0);
}

/* ==== chat ==== */

static void m_chat_send(struct gw_call *call)
{
	static const char *const keys[] = { "sessionKey",
					    "agentId",
					    "sessionId",
					    "message",
					    "mentions",
					    "workContext",
					    "intent",
					    "thinking",
					    "fastMode",
					    "fastAutoOnSeconds",
					    "queueMode",
					    "deliver",
					    "originatingChannel",
					    "originatingTo",
					    "originatingAccountId",
					    "originatingThreadId",
					    "replyToId",
					    "attachments",
					    "toolBindings",
					    "timeoutMs",
					    "systemInputProvenance",
					    "systemProvenanceReceipt",
					    "suppressCommandInterpretation",
					    "expectedLeafEntryId",
					    "expectedSessionRoutingContract",
					    "expectedPermissionMode",
					    "expectedToolOverrides",
					    "idempotencyKey",
					    NULL };
	struct agent_submit s = { 0 };
	json_int_t timeout = 0;
	char run_id[64], err[512];
	bool queued, dup;

	if (gw_call_closed(call, keys) < 0)
		return;
	if (gw_call_unpack_loose(call, "{s:s, s?s, s?s, s:s, s?s, s?s, s?o, s?I, s:s}",
				 "sessionKey", &s.session_key, "agentId", &s.agent_id, "sessionId",
				 &s.session_id, "message", &s.message, "thinking", &s.thinking,
				 "queueMode", &s.queue_mode, "attachments", &s.attachments,
				 "timeoutMs", &timeout, "idempotencyKey", &s.run_id) < 0)
		return;
	if (!*s.message && !json_array_size(s.attachments)) {
		gw_call_invalid(call, "invalid chat.send params: message or attachments required");
		return;
	}
	s.timeout_ms = timeout;
	s.chat = true;
	s.channel = "webchat";
	if (agent_rt_submit(call->gw->agents, &s, run_id, &queued, &dup, err, sizeof(err)) < 0) {
		gw_call_invalid(call, "%s", err);
		return;
	}
	gw_call_ok(call, json_pack("{s:s, s:s}", "runId", run_id, "status",
				   dup      ? "in_flight"
				   : queued ? "queued"
					    : "started"));
}

static void m_chat_history(struct gw_call *call)
{
	static const char *const keys[] = { "sessionKey",    "agentId",     "cursor",
					    "limit",         "maxBytes",    "offset",
					    "pendingBefore", "inputRunIds", NULL };
	const char *key;
	json_int_t limit = 200;
	char err[256];
	json_t *out;

	if (gw_call_closed(call, keys) < 0 ||
	    gw_call_unpack_loose(call, "{s:s, s?I}", "sessionKey", &key, "limit", &limit) < 0)
		return;
	out = agent_rt_history(call->gw->agents, key, (int)limit, err, sizeof(err));
	if (!out) {
		gw_call_invalid(call, "%s", err);
		return;
	}
	gw_call_ok(call, out);
}

static void m_chat_abort(struct gw_call *call)
{
	const char *key, *run_id = NULL, *agent = NULL;
	int preserve = 0, n;

	if (gw_call_unpack(call, "{s:s, s?s, s?s, s?b}", "sessionKey", &key, "agentId", &agent,
			   "runId", &run_id, "preserveSideRuns", &preserve) < 0)
		return;
	n = agent_rt_abort(call->gw->agents, key, run_id, !run_id, "chat.abort");
	gw_call_ok(call, json_pack("{s:b, s:b, s:i}", "ok", 1, "aborted", n > 0, "count", n));
}

static void m_chat_inject(struct gw_call *call)
{
	const char *key, *msg, *label = NULL, *agent = NULL;
	char err[256];

	if (gw_call_unpack(call, "{s:s, s?s, s:s, s?s}", "sessionKey", &key, "agentId", &agent,
			   "message", &msg, "label", &label) < 0)
		return;
	if (agent_rt_inject(call->gw->agents, key, msg, label, err, sizeof(err)) < 0) {
		gw_call_invalid(call, "%s", err);
		return;
	}
	gw_call_ok(call, json_pack("{s:b}", "ok", 1));
}

/* ==== sessions ==== */

static void m_sessions_list(struct gw_call *call)
{
	gw_call_ok(call, agent_rt_sessions_list(call->gw->agents, call->params));
}

static json_t *preview_of(struct agent_rt *rt, const char *key, json_int_t limit, json_int_t max)
{
	char err[256];
	json_t *h = agent_rt_history(rt, key, (int)limit, err, sizeof(err)), *items, *m, *b;
	size_t i, j;

	if (!h)
		return json_pack("{s:s, s:s, s:[]}", "key", key, "status", "missing", "items");
	items = json_array();
	json_array_foreach(json_object_get(h, "messages"), i, m)
	{
		const char *role = json_string_value(json_object_get(m, "role"));
		json_t *c = json_object_get(m, "content");
		struct buf t;
		if (!str_eq(role, "user") && !str_eq(role, "assistant"))
			continue;
		buf_init(&t, (size_t)max + 4);
		if (json_is_string(c))
			buf_append(&t, json_string_value(c),
				   str_utf8_prefix(json_string_value(c),
						   json_string_length(c) < (size_t)max
							   ? json_string_length(c)
							   : (size_t)max));
		json_array_foreach(c, j, b)
		{
			const char *tx = json_string_value(json_object_get(b, "text"));
			if (tx && str_eq(json_string_value(json_object_get(b, "type")), "text") &&
			    t.len < (size_t)max) {
				size_t n = strlen(tx), room = (size_t)max - t.len;
				buf_append(&t, tx, str_utf8_prefix(tx, n < room ? n : room));
			}
		}
		if (t.len)
			json_array_append_new(items,
					      json_pack("{s:s, s:s}", "role", role, "text", t.p));
		buf_release(&t);
	}
	json_decref(h);
	return json_pack("{s:s, s:s, s:o}", "key", key, "status",
			 json_array_size(items) ? "ok" : "empty", "items", items);
}

static void m_sessions_preview(struct gw_call *call)
{
	json_t *keys, *k, *out = json_array();
	json_int_t limit = 12, max = 240;
	size_t i;

	if (gw_call_unpack(call, "{s:o, s?I, s?I}", "keys", &keys, "limit", &limit, "maxChars",
			   &max) < 0)
		return;
	json_array_foreach(keys, i, k)
	{
		if (json_is_string(k))
			json_array_append_new(out, preview_of(call->gw->agents,
							      json_string_value(k), limit, max));
	}
	gw_call_ok(call, json_pack("{s:I, s:o}", "ts", (json_int_t)time_now_ms(), "previews", out));
}

static void m_sessions_get(struct gw_call *call)
{
	const char *key = NULL, *agent = NULL;
	json_int_t limit = 200;
	char err[256];
	json_t *out;

	if (gw_call_unpack_loose(call, "{s?s, s?s, s?I}", "key", &key, "agentId", &agent, "limit",
				 &limit) < 0)
		return;
	if (!key)
		key = json_string_value(json_object_get(call->params, "sessionKey"));
	if (!key) {
		gw_call_invalid(call, "invalid sessions.get params: key required");
		return;
	}
	out = agent_rt_history(call->gw->agents, key, (int)limit, err, sizeof(err));
	if (!out) {
		gw_call_invalid(call, "%s", err);
		return;
	}
	gw_call_ok(call, out);
}

static void m_sessions_patch(struct gw_call *call)
{
	const char *key = json_string_value(json_object_get(call->params, "key"));
	char err[256];
	json_t *out;

	if (!key) {
		gw_call_invalid(call, "invalid sessions.patch params: at root: must have required "
				      "property 'key'");
		return;
	}
	out = agent_rt_patch(call->gw->agents, key, call->params, err, sizeof(err));
	if (!out) {
		gw_call_invalid(call, "%s", err);
		return;
	}
	gw_call_ok(call, out);
}

static void m_sessions_reset(struct gw_call *call)
{
	const char *key, *agent = NULL, *reason = NULL, *expected = NULL;
	char err[256];
	json_t *out;

	if (gw_call_unpack(call, "{s:s, s?s, s?s, s?s}", "key", &key, "agentId", &agent, "reason",
			   &reason, "expectedSessionId", &expected) < 0)
		return;
	out = agent_rt_reset(call->gw->agents, key, reason ? reason : "reset", err, sizeof(err));
	if (!out) {
		gw_call_invalid(call, "%s", err);
		return;
	}
	gw_call_ok(call, out);
}

static void m_sessions_delete(struct gw_call *call)
{
	static const char *const keys[] = { "key",
					    "agentId",
					    "deleteTranscript",
					    "expectedSessionId",
					    "expectedLifecycleRevision",
					    "expectedSessionUpdatedAt",
					    "emitLifecycleHooks",
					    "archivedOnly",
					    NULL };
	const char *key;
	int del = 1, rc;
	char err[256];

	if (gw_call_closed(call, keys) < 0 ||
	    gw_call_unpack_loose(call, "{s:s, s?b}", "key", &key, "deleteTranscript", &del) < 0)
		return;
	rc = agent_rt_delete(call->gw->agents, key, del, err, sizeof(err));
	if (rc < 0) {
		gw_call_invalid(call, "%s", err);
		return;
	}
	gw_call_ok(call, json_pack("{s:b, s:s, s:b}", "ok", 1, "key", key, "deleted", rc > 0));
}

static void compact_answer(void *arg, const json_t *result)
{
	gw_call_ok(arg, json_deep_copy(result));
}

static void m_sessions_compact(struct gw_call *call)
{
	const char *key, *agent = NULL, *instr = NULL;
	json_int_t max = 0;
	char err[256];

	if (gw_call_unpack_loose(call, "{s:s, s?s, s?I, s?s}", "key", &key, "agentId", &agent,
				 "maxLines", &max, "instructions", &instr) < 0)
		return;
	if (agent_rt_compact(call->gw->agents, key, instr, compact_answer, call, err, sizeof(err)) <
	    0)
		gw_call_invalid(call, "%s", err);
}

/* ==== heartbeat ==== */

static void m_last_heartbeat(struct gw_call *call)
{
	gw_call_ok(call, agent_rt_last_heartbeat(call->gw->agents));
}

static void m_set_heartbeats(struct gw_call *call)
{
	int enabled;

	if (gw_call_unpack(call, "{s:b}", "enabled", &enabled) < 0)
		return;
	agent_rt_set_heartbeats(call->gw->agents, enabled);
	gw_call_ok(call, json_pack("{s:b, s:b}", "ok", 1, "enabled", enabled));
}

static void m_wake(struct gw_call *call)
{
	const char *mode, *text, *key = NULL;

	if (gw_call_unpack_loose(call, "{s:s, s:s, s?s}", "mode", &mode, "text", &text,
				 "sessionKey", &key) < 0)
		return;
	if (strcmp(mode, "now") && strcmp(mode, "next-heartbeat")) {
		gw_call_invalid(call,
				"invalid wake params: mode must be \"now\" or \"next-heartbeat\"");
		return;
	}
	agent_rt_wake(call->gw->agents, key, text, !strcmp(mode, "now"));
	gw_call_ok(call, json_pack("{s:b}", "ok", 1));
}

/* ==== tools ==== */

static void m_tools_catalog(struct gw_call *call)
{
	const char *agent = NULL;
	int plugins = 1;
	char err[256];
	json_t *r;

	if (gw_call_unpack(call, "{s?s, s?b}", "agentId", &agent, "includePlugins", &plugins) < 0)
		return;
	r = agent_rt_tools_catalog(call->gw->agents, agent, err, sizeof(err));
	if (!r)
		gw_call_invalid(call, "%s", err);
	else
		gw_call_ok(call, r);
}

static void m_tools_effective(struct gw_call *call)
{
	const char *agent = NULL, *key;
	char err[256];
	json_t *r;

	if (gw_call_unpack(call, "{s?s, s:s}", "agentId", &agent, "sessionKey", &key) < 0)
		return;
	r = agent_rt_tools_effective(call->gw->agents, agent, key, err, sizeof(err));
	if (!r)
		gw_call_invalid(call, "%s", err);
	else
		gw_call_ok(call, r);
}

/* The RPC answers ok either way; a failed invocation is {ok:false, error:{code,message}}. */
static void tools_invoke_answer(void *arg, int status, json_t *body)
{
	struct gw_call *call = arg;
	json_t *out, *err = json_object_get(body, "error");
	const char *type = json_string_value(json_object_get(err, "type"));
	const char *name = json_string_value(json_object_get(call->params, "name"));

	if (json_is_true(json_object_get(body, "ok"))) {
		out = json_pack("{s:b, s:s, s:O, s:s}", "ok", 1, "toolName", name, "output",
				json_object_get(body, "result"), "source", "core");
	} else {
		const char *code = str_eq(type, "invalid_request")     ? "validation_error"
				   : str_eq(type, "not_found")         ? "not_found"
				   : str_eq(type, "tool_call_blocked") ? "forbidden"
								       : "internal_error";
		out = json_pack("{s:b, s:s, s:{s:s, s:O}}", "ok", 0, "toolName", name, "error",
				"code", code, "message", json_object_get(err, "message"));
	}
	json_decref(body);
	gw_call_ok(call, out);
}

static void m_tools_invoke(struct gw_call *call)
{
	struct agent_tool_invoke iv = { 0 };
	json_t *args = NULL;
	const char *idem = NULL, *origin = NULL;
	int confirm = 0;

	if (gw_call_unpack(call, "{s:s, s?o, s?s, s?s, s?b, s?s, s?s}", "name", &iv.tool, "args",
			   &args, "sessionKey", &iv.session_key, "agentId", &iv.agent_id, "confirm",
			   &confirm, "idempotencyKey", &idem, "conversationReadOrigin",
			   &origin) < 0)
		return;
	iv.args = args;
	iv.done = tools_invoke_answer;
	iv.arg = call;
	agent_rt_invoke_tool(call->gw->agents, &iv);
}

const struct gw_method gw_methods_agent[] = {
	{ "agent", SCOPE_WRITE, m_agent },
	{ "agent.wait", SCOPE_WRITE, m_agent_wait },
	{ "chat.send", SCOPE_WRITE, m_chat_send },
	{ "chat.history", SCOPE_READ, m_chat_history },
	{ "chat.abort", SCOPE_WRITE, m_chat_abort },
	{ "chat.inject", SCOPE_ADMIN, m_chat_inject },
	{ "sessions.list", SCOPE_READ, m_sessions_list },
	{ "sessions.preview", SCOPE_READ, m_sessions_preview },
	{ "sessions.get", SCOPE_READ, m_sessions_get },
	{ "sessions.patch", SCOPE_ADMIN, m_sessions_patch },
	{ "sessions.reset", SCOPE_ADMIN, m_sessions_reset },
	{ "sessions.delete", SCOPE_ADMIN, m_sessions_delete },
	{ "sessions.compact", SCOPE_ADMIN, m_sessions_compact },
	{ "last-heartbeat", SCOPE_READ, m_last_heartbeat },
	{ "set-heartbeats", SCOPE_ADMIN, m_set_heartbeats },
	{ "wake", SCOPE_WRITE, m_wake },
	{ "tools.catalog", SCOPE_READ, m_tools_catalog },
	{ "tools.effective", SCOPE_READ, m_tools_effective },
	{ "tools.invoke", SCOPE_WRITE, m_tools_invoke },
	{ NULL },
};
