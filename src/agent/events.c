/*
 * events.c - the shapes of `agent` and `chat` events, as OpenClaw 2026.9.6
 * sends them (frames/agent-*, chatsend-*, toolcall-*).
 *
 * Every agent event carries the run's own seq (one counter per run, shared
 * by the chat events that mirror it) and a wall-clock ts. Events a client
 * should not see (tool streams without the tool-events cap) still take a
 * seq, which is why OpenClaw's clients see gaps; pincer keeps that.
 */
#include <string.h>

#include "agent/internal.h"
#include "core/timeutil.h"

json_t *ev_text_message(const char *text, int64_t ts)
{
	return json_pack("{s:s, s:[{s:s, s:s}], s:I}", "role", "assistant", "content", "type",
			 "text", "text", text ? text : "", "timestamp", (json_int_t)ts);
}

void ev_agent(struct agent_run *run, const char *stream, json_t *data, unsigned flags)
{
	int64_t now = time_now_ms();
	json_t *p;

	/* a memory-flush turn is not the run's to show (memflush.c) */
	if (run->flush) {
		json_decref(data);
		return;
	}
	p = json_pack("{s:s, s:s, s:s, s:s}", "runId", run->run_id, "sessionKey", run->session_key,
		      "agentId", run->agent_id, "stream", stream);

	/* lifecycle events also name the session id, as OpenClaw's do */
	if (run->session_id && !strcmp(stream, "lifecycle"))
		json_object_set_new(p, "sessionId", json_string(run->session_id));
	json_object_set_new(p, "data", data ? data : json_object());
	json_object_set_new(p, "seq", json_integer(++run->seq));
	json_object_set_new(p, "ts", json_integer(now));
	if (run->chat || run->heartbeat)
		json_object_set_new(p, "isHeartbeat", json_boolean(run->heartbeat));
	rt_emit(run->rt, "agent", p, flags);
}

/*
 * A chat event mirrors the latest agent event: same run seq (no new one).
 * `extra` (stolen) holds the state's own fields.
 */
void ev_chat(struct agent_run *run, const char *state, json_t *extra)
{
	json_t *p;

	if (run->silent) {
		json_decref(extra);
		return;
	}
	p = json_pack("{s:s, s:s, s:s, s:I, s:s}", "runId", run->run_id, "sessionKey",
		      run->session_key, "agentId", run->agent_id, "seq", (json_int_t)run->seq,
		      "state", state);
	if (extra)
		json_object_update(p, extra);
	json_decref(extra);
	rt_emit(run->rt, "chat", p, 0);
}
