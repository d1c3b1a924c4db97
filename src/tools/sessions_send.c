/*
 * sessions_send.c - the `sessions_send` tool: a message from this session
 * to another one, as a turn of that session's agent, and (unless
 * timeoutSeconds is 0) that agent's reply back as the tool's result.
 *
 * Sessions talking to sessions can loop: every hop carries a depth, and a
 * message past session.agentToAgent.maxPingPongTurns (OpenClaw's default
 * 5) is refused. A session cannot message itself: its own run is the one
 * waiting for the answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "config/config.h"
#include "core/mem.h"
#include "core/str.h"
#include "tools/sessions_common.h"
#include "tools/tool.h"

#define SEND_DEFAULT_TIMEOUT_S 30
#define SEND_MAX_PING_PONG     5

/* One pending send; freed when the target run has ended and the timer is closed. */
struct send_wait {
	struct tool_call *call; /* NULL once answered (timeout, abort) */
	char *key;
	char run_id[64];
	uv_timer_t timer;
	bool timer_on;
};

static void send_free(uv_handle_t *h)
{
	struct send_wait *w = h->data;

	free(w->key);
	free(w);
}

/* The first visible text of a finished run's result, or "". */
static const char *reply_text(const json_t *result)
{
	const json_t *p = json_object_get(json_object_get(result, "result"), "payloads");
	const char *t = json_string_value(json_object_get(json_array_get(p, 0), "text"));
	return t ? t : "";
}

static void send_done(void *arg, const char *run_id, const json_t *result)
{
	struct send_wait *w = arg;
	const char *status = json_string_value(json_object_get(result, "status"));

	if (w->call) {
		struct tool_call *call = w->call;
		w->call = NULL;
		call->cancel = NULL;
		if (str_eq(status, "ok"))
			tool_call_json(call, false,
				       json_pack("{s:s, s:s, s:s, s:s}", "runId", run_id, "status",
						 "ok", "sessionKey", w->key, "reply",
						 reply_text(result)));
		else
			tool_call_json(call, true,
				       json_pack("{s:s, s:s?, s:s, s:O?}", "runId", run_id,
						 "status", status ? status : "error", "sessionKey",
						 w->key, "error",
						 json_object_get(result, "summary")));
	}
	if (w->timer_on)
		uv_close((uv_handle_t *)&w->timer, send_free);
	else
		send_free((uv_handle_t *)&w->timer);
}

static void send_timeout(uv_timer_t *t)
{
	struct send_wait *w = t->data;

	if (w->call) {
		struct tool_call *call = w->call;
		w->call = NULL;
		call->cancel = NULL;
		/* the target goes on; its reply lands in its own session */
		tool_call_json(call, false,
			       json_pack("{s:s, s:s, s:s}", "runId", w->run_id, "status", "timeout",
					 "sessionKey", w->key));
	}
}

static void send_cancel(struct tool_call *call)
{
	struct send_wait *w = call->data;

	w->call = NULL;
	tool_call_text(call, true, "sessions_send aborted; the target session's run goes on");
}

static void t_sessions_send(struct tool_call *call)
{
	const char *message = json_string_value(json_object_get(call->args, "message"));
	json_t *to = json_object_get(call->args, "timeoutSeconds");
	long timeout = json_is_number(to) ? (long)json_number_value(to) : SEND_DEFAULT_TIMEOUT_S;
	long cap = config_get_int(call->env.cfg, "session.agentToAgent.maxPingPongTurns");
	int depth = call->env.run ? call->env.run->a2a_depth : 0;
	struct agent_submit s = { 0 };
	struct send_wait *w;
	char err[300], *key, *sys;
	bool queued, dup;

	if (!message || !*message) {
		tool_call_text(call, true, "message is required");
		return;
	}
	if (!(key = sessions_target(call, err, sizeof(err))) ||
	    sessions_reachable(call, key, err, sizeof(err)) < 0) {
		free(key);
		tool_call_text(call, true, "%s", err);
		return;
	}
	if (!strcmp(key, call->env.session_key)) {
		tool_call_text(call, true, "sessions_send: %s is this session; answer directly",
			       key);
		free(key);
		return;
	}
	if (cap <= 0 || cap > SEND_MAX_PING_PONG)
		cap = SEND_MAX_PING_PONG;
	if (depth >= cap) {
		tool_call_text(call, true,
			       "sessions_send refused: %d agent-to-agent hops already "
			       "(session.agentToAgent.maxPingPongTurns = %ld)",
			       depth, cap);
		free(key);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->key = key;
	sys = xasprintf("This message comes from session %s (agent %s) through sessions_send. "
			"Your reply is returned to it.",
			call->env.session_key, call->env.agent_id);
	s.session_key = key;
	s.message = message;
	s.extra_system = sys;
	s.channel = "sessions_send";
	s.queue_mode = "followup";
	s.a2a_depth = depth + 1;
	if (timeout > 0) {
		s.done = send_done;
		s.done_arg = w;
		w->call = call; /* the run may end inside agent_rt_submit */
		call->data = w;
		call->cancel = send_cancel;
	}
	if (agent_rt_submit(call->env.rt, &s, w->run_id, &queued, &dup, err, sizeof(err)) < 0) {
		call->cancel = NULL;
		free(sys);
		free(w->key);
		free(w);
		tool_call_text(call, true, "sessions_send: %s", err);
		return;
	}
	free(sys);
	if (timeout <= 0) {
		tool_call_json(call, false,
			       json_pack("{s:s, s:s, s:s}", "runId", w->run_id, "status",
					 "accepted", "sessionKey", w->key));
		free(w->key);
		free(w);
		return;
	}
	/* when send_done already ran (a run that ended at once), it answered and freed w */
	if (!call->answered) {
		uv_timer_init(call->env.loop, &w->timer);
		w->timer.data = w;
		w->timer_on = true;
		uv_timer_start(&w->timer, send_timeout, (uint64_t)timeout * 1000, 0);
	}
}

const struct tool_def tool_sessions_send = {
	.name = "sessions_send",
	.group = "sessions",
	.description =
		"Send a message to another session (by sessionKey, label, or an agentId's main "
		"session). Its agent handles it as a turn; you get its reply back unless "
		"timeoutSeconds is 0 (fire and forget).",
	.parameters = "{\"type\":\"object\",\"properties\":{"
		      "\"sessionKey\":{\"type\":\"string\",\"minLength\":1},"
		      "\"label\":{\"type\":\"string\",\"minLength\":1},"
		      "\"agentId\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64},"
		      "\"message\":{\"type\":\"string\",\"minLength\":1},"
		      "\"timeoutSeconds\":{\"type\":\"number\",\"minimum\":0}},"
		      "\"required\":[\"message\"]}",
	.invoke = t_sessions_send,
};
