/*
 * run.c - one run: the agent loop for one message.
 *
 *	preparing ─► model ─► (toolUse) tools ─► model ─► … ─► done
 *	                 │  └─ failover: next auth profile, then next model
 *	                 └─ context overflow: compact, retry once
 *
 * The run owns its provider call and tool calls; abort (chat.abort, /stop,
 * timeout, shutdown) cancels them and still leaves a valid transcript:
 * partial assistant text is kept with stopReason "aborted", and every tool
 * call already recorded gets a result.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "agent/prompt.h"
#include "agent/workspace.h"
#include "config/config.h"
#include "config/paths.h"
#include "core/id.h"
#include "core/log.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "providers/catalog.h"
#include "session/store.h"
#include "skills/skills.h"
#include "tools/policy.h"
#include "tools/tool.h"

static void run_model_call(struct agent_run *run);
static char *context_report(struct agent_run *run);
static void run_finish(struct agent_run *run);
static void run_fail(struct agent_run *run, const struct prov_error *err);
static void run_turn(struct agent_run *run);

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct agent_run *run_new(struct agent_rt *rt, const struct agent_submit *s, const char *run_id)
{
	struct agent_run *run = xcalloc(1, sizeof(*run));

	run->rt = rt;
	snprintf(run->run_id, sizeof(run->run_id), "%s", run_id);
	run->message = xstrdup(s->message ? s->message : "");
	run->attachments = s->attachments ? json_deep_copy(s->attachments) : NULL;
	run->model_override = dup_or_null(s->model);
	run->thinking = dup_or_null(s->thinking);
	run->queue_mode = dup_or_null(s->queue_mode);
	run->extra_system = dup_or_null(s->extra_system);
	run->a2a_depth = s->a2a_depth;
	run->spawned_by = dup_or_null(s->spawned_by);
	run->channel = dup_or_null(s->channel);
	run->timeout_ms = s->timeout_ms;
	run->chat = s->chat;
	run->heartbeat = s->heartbeat;
	run->silent = s->silent;
	run->accepted_ms = time_now_ms();
	run->aliases = json_array();
	run->attempts = json_array();
	run->successful_tools = json_array();
	run->steer = json_array();
	run->usage = json_pack("{s:i, s:i, s:i, s:i, s:i}", "input", 0, "output", 0, "cacheRead", 0,
			       "cacheWrite", 0, "total", 0);
	buf_init(&run->text, 64u << 20);
	if (s->done) {
		struct run_waiter *w = xcalloc(1, sizeof(*w));
		w->run_id = xstrdup(run_id);
		w->fn = s->done;
		w->arg = s->done_arg;
		run->waiters = w;
	}
	return run;
}

static void run_release(struct agent_run *run)
{
	struct run_waiter *w, *wn;

	memflush_free(run);
	for (w = run->waiters; w; w = wn) {
		wn = w->next;
		free(w->run_id);
		free(w);
	}
	json_decref(run->aliases);
	json_decref(run->attachments);
	json_decref(run->attempts);
	json_decref(run->successful_tools);
	json_decref(run->steer);
	json_decref(run->usage);
	json_decref(run->last_usage);
	json_decref(run->final_message);
	json_decref(run->chain);
	json_decref(run->tools);
	tool_policy_free(run->policy);
	tool_loop_free(&run->loop);
	free(run->loop_stop);
	json_decref(run->context);
	json_decref(run->prompt_report);
	json_decref(run->tresults);
	json_decref(run->result);
	free(run->tcalls);
	free(run->message);
	free(run->model_override);
	free(run->thinking);
	free(run->queue_mode);
	free(run->extra_system);
	free(run->spawned_by);
	free(run->channel);
	free(run->session_key);
	free(run->session_id);
	free(run->agent_id);
	free(run->model_ref);
	free(run->system);
	free(run->stop_reason);
	free(run->abort_reason);
	free(run->reply_text);
	free(run->compact_instructions);
	prov_model_release(&run->model);
	auth_candidates_free(run->cands, run->ncands);
	buf_release(&run->text);
	free(run);
}

static void run_timer_closed(uv_handle_t *h)
{
	struct agent_run *run = h->data;

	if (--run->open_timers == 0)
		run_release(run);
}

/*
 * Freed only once its timers are closed, which is always a later loop
 * turn: code still on the stack of the run's last callback may look at it.
 */
void run_free(struct agent_run *run)
{
	if (run->open_timers) {
		uv_close((uv_handle_t *)&run->timer, run_timer_closed);
		uv_close((uv_handle_t *)&run->chat_timer, run_timer_closed);
		return;
	}
	run_release(run);
}

/* ==== events and the transcript ==== */

static void run_status(struct agent_run *run, const char *phase)
{
	ev_agent(run, "run_status", json_pack("{s:s}", "phase", phase), 0);
	if (run->chat)
		ev_chat(run, "status", json_pack("{s:s}", "phase", phase));
}

/* Append to the lane's transcript; a failure is logged and the run goes on (the reply matters more). */
static void run_record(struct agent_run *run, json_t *entry)
{
	char err[256];

	/* OpenClaw keeps a memory-flush turn out of the session's transcript */
	if (run->flush) {
		json_decref(entry);
		return;
	}
	if (rt_lane_transcript(run->lane, entry, err, sizeof(err)) < 0)
		log_error(AGENT_SUBSYS, "session %s: transcript write failed: %s", run->session_key,
			  err);
}

static void run_record_message(struct agent_run *run, json_t *msg)
{
	run_record(run, json_pack("{s:s, s:O}", "type", "message", "message", msg));
}

static void chat_flush(struct agent_run *run)
{
	run->chat_pending = false;
	run->last_chat_ms = time_mono_ms();
	ev_chat(run, "delta",
		json_pack("{s:s, s:o}", "deltaText", run->text.p, "message",
			  ev_text_message(run->text.p, time_now_ms())));
}

static void chat_timer_cb(uv_timer_t *t)
{
	struct agent_run *run = t->data;

	if (run->chat_pending)
		chat_flush(run);
}

/* ==== model selection ==== */

/* The chain of refs to try: the override or session model, then the fallbacks. */
static void run_build_chain(struct agent_run *run, const json_t *entry)
{
	const struct config *cfg = rt_cfg(run->rt);
	const char *po = json_string_value(json_object_get(entry, "providerOverride"));
	const char *mo = json_string_value(json_object_get(entry, "modelOverride"));
	char *primary = catalog_default_ref(cfg, run->agent_id);
	json_t *fb = catalog_fallbacks(cfg, run->agent_id), *v;
	size_t i;

	run->chain = json_array();
	if (run->model_override)
		json_array_append_new(run->chain, json_string(run->model_override));
	else if (mo && po)
		json_array_append_new(run->chain, json_sprintf("%s/%s", po, mo));
	else if (mo)
		json_array_append_new(run->chain, json_string(mo));
	if (primary && !json_array_size(run->chain))
		json_array_append_new(run->chain, json_string(primary));
	json_array_foreach(fb, i, v)
	{
		json_array_append(run->chain, v);
	}
	/* a run that started from an override falls back to the primary last */
	if (primary && json_array_size(run->chain) &&
	    strcmp(json_string_value(json_array_get(run->chain, 0)), primary))
		json_array_append_new(run->chain, json_string(primary));
	free(primary);
	json_decref(fb);
}

/* Resolve chain[chain_i] and its auth candidates. 0, or -1 with `err` filled. */
static int run_select_model(struct agent_run *run, struct prov_error *err)
{
	const struct config *cfg = rt_cfg(run->rt);
	const char *ref = json_string_value(json_array_get(run->chain, run->chain_i));
	json_t *entry = session_store_get(run->lane->agent->store, run->session_key);
	const char *sticky = json_string_value(json_object_get(entry, "authProfileOverride"));
	char e[256];

	memset(err, 0, sizeof(*err));
	err->retry_after_ms = -1;
	prov_model_release(&run->model);
	memset(&run->model, 0, sizeof(run->model));
	auth_candidates_free(run->cands, run->ncands);
	run->cands = NULL;
	run->ncands = run->cand_i = 0;
	free(run->model_ref);
	run->model_ref = dup_or_null(ref);
	if (!ref) {
		err->kind = PROV_ERR_AUTH;
		snprintf(err->message, sizeof(err->message),
			 "no model configured: set agents.defaults.model.primary (e.g. "
			 "\"anthropic/claude-sonnet-4-5\") and a key, or run `pincer models set`");
		return -1;
	}
	if (catalog_resolve(cfg, ref, &run->model, e, sizeof(e)) < 0) {
		err->kind = PROV_ERR_FORMAT;
		snprintf(err->message, sizeof(err->message), "%s", e);
		return -1;
	}
	run->ncands = auth_candidates(run->lane->agent->auth, cfg, run->model.provider, sticky,
				      time_now_ms(), &run->cands);
	if (!run->ncands) {
		const char *env = catalog_env_key(run->model.provider);
		err->kind = PROV_ERR_AUTH;
		snprintf(err->message, sizeof(err->message),
			 "no API key for provider \"%s\": set %s, models.providers.%s.apiKey, or "
			 "add a profile to auth-profiles.json",
			 run->model.provider, env ? env : "its key", run->model.provider);
		return -1;
	}
	return 0;
}

/* ==== streaming ==== */

static void sink_text(void *ud, const char *delta, size_t n)
{
	struct agent_run *run = ud;

	if (buf_append(&run->text, delta, n) < 0)
		return;
	ev_agent(run, "assistant",
		 json_pack("{s:s, s:s%, s:s}", "text", run->text.p, "delta", delta, n, "itemId",
			   run->item_id),
		 0);
	if (!run->chat && !run->heartbeat && run->silent)
		return;
	/* as OpenClaw: a heartbeat streams nothing to chat unless showOk; its final still alerts */
	if (run->heartbeat &&
	    !config_get_bool(rt_cfg(run->rt), "channels.defaults.heartbeatVisibility.showOk"))
		return;
	/* the first delta goes out at once; later ones at most every AGENT_CHAT_THROTTLE_MS */
	if (time_mono_ms() - run->last_chat_ms >= AGENT_CHAT_THROTTLE_MS) {
		chat_flush(run);
	} else if (!run->chat_pending) {
		run->chat_pending = true;
		uv_timer_start(&run->chat_timer, chat_timer_cb,
			       AGENT_CHAT_THROTTLE_MS - (time_mono_ms() - run->last_chat_ms), 0);
	}
}

static void sink_thinking(void *ud, const char *delta, size_t n)
{
	struct agent_run *run = ud;

	ev_agent(run, "thinking", json_pack("{s:s%}", "delta", delta, n), 0);
}

static void usage_add(json_t *sum, const json_t *u)
{
	static const char *const f[][2] = {
		{ "input", "input" },         { "output", "output" },
		{ "cacheRead", "cacheRead" }, { "cacheWrite", "cacheWrite" },
		{ "total", "totalTokens" },
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		json_object_set_new(sum, f[i][0],
				    json_integer(json_integer_value(json_object_get(sum, f[i][0])) +
						 json_integer_value(json_object_get(u, f[i][1]))));
}

static void run_tools_start(struct agent_run *run, json_t *calls);

static void sink_done(void *ud, json_t *msg, const struct prov_error *err)
{
	struct agent_run *run = ud;
	const struct auth_candidate *cand = run->ncands ? &run->cands[run->cand_i] : NULL;
	json_t *u = json_object_get(msg, "usage"), *calls, *b;
	size_t i;

	run->call = NULL;
	if (run->chat_pending) {
		uv_timer_stop(&run->chat_timer);
		chat_flush(run);
	}
	json_array_append_new(run->attempts,
			      json_pack("{s:s, s:s, s:s, s:s}", "provider", run->model.provider,
					"model", run->model.id, "result", err ? "error" : "success",
					"stage", "assistant"));
	if (err) {
		json_object_set_new(
			json_array_get(run->attempts, json_array_size(run->attempts) - 1), "error",
			json_string(prov_err_kind_name(err->kind)));
		if (cand)
			auth_mark_failure(run->lane->agent->auth, cand->profile_id, err->kind,
					  err->retry_after_ms, time_now_ms());
		log_warn(AGENT_SUBSYS, "run %s: %s/%s failed (%s): %s", run->run_id,
			 run->model.provider, run->model.id, prov_err_kind_name(err->kind),
			 err->message);
		/* what was streamed before the error is kept in the transcript */
		if (json_array_size(json_object_get(msg, "content")) && run->text.len)
			run_record_message(run, msg);
		json_decref(msg);
		run_fail(run, err);
		return;
	}
	if (cand)
		auth_mark_success(run->lane->agent->auth, cand->profile_id, time_now_ms());
	run->assistant_turns++;
	run_record_message(run, msg);
	json_array_append(run->context, msg);
	if (u) {
		usage_add(run->usage, u);
		json_decref(run->last_usage);
		run->last_usage = json_deep_copy(u);
		ev_agent(run, "usage",
			 json_pack("{s:I}", "outputTokens",
				   json_integer_value(json_object_get(run->usage, "output"))),
			 0);
	}
	json_decref(run->final_message);
	run->final_message = msg;
	free(run->stop_reason);
	run->stop_reason = dup_or_null(json_string_value(json_object_get(msg, "stopReason")));
	calls = json_array();
	json_array_foreach(json_object_get(msg, "content"), i, b)
	{
		if (str_eq(json_string_value(json_object_get(b, "type")), "toolCall"))
			json_array_append(calls, b);
	}
	if (json_array_size(calls) && !run->aborted) {
		run_tools_start(run, calls);
		return;
	}
	json_decref(calls);
	run_finish(run);
}

static const struct prov_sink run_sink = {
	.text = sink_text,
	.thinking = sink_thinking,
	.done = sink_done,
};

static void run_model_call(struct agent_run *run)
{
	const struct config *cfg = rt_cfg(run->rt);
	struct prov_request rq = { 0 };
	struct prov_error err;
	const struct auth_candidate *cand = &run->cands[run->cand_i];

	run->phase = RUN_MODEL;
	buf_reset(&run->text);
	snprintf(run->item_id, sizeof(run->item_id), "%s:%d", run->run_id,
		 run->assistant_turns + 1);
	rq.model = &run->model;
	rq.api_key = cand->key;
	rq.system = run->system;
	rq.messages = run->context;
	rq.tools = json_array_size(run->tools) ? run->tools : NULL;
	rq.thinking = run->thinking;
	rq.cache = str_eq(run->model.api, "anthropic-messages");
	compact_prune_context(cfg, run->context, run->model.provider);
	ev_agent(run, "lifecycle",
		 json_pack("{s:s, s:s, s:s}", "phase", "model", "provider", run->model.provider,
			   "model", run->model.id),
		 0);
	run->call = prov_call_start(run->rt->http, &rq, &run_sink, run, &err);
	if (!run->call)
		run_fail(run, &err);
}

/*
 * A failed model call: try the next profile of this provider, then the next
 * model of the chain, for the errors failover is for (SPEC §4.8); compact
 * and retry once on context overflow.
 */
static void run_fail(struct agent_run *run, const struct prov_error *err)
{
	struct prov_error e2;

	if (run->aborted) {
		run_finish(run);
		return;
	}
	if (err->kind == PROV_ERR_CONTEXT_OVERFLOW && !run->overflow_retried) {
		run->overflow_retried = true;
		log_info(AGENT_SUBSYS, "run %s: context overflow, compacting and retrying",
			 run->run_id);
		compact_start(run, NULL);
		return;
	}
	if (prov_err_failover(err->kind)) {
		if (run->cand_i + 1 < run->ncands) {
			run->cand_i++;
			run_model_call(run);
			return;
		}
		while (run->chain_i + 1 < json_array_size(run->chain)) {
			run->chain_i++;
			if (run_select_model(run, &e2) == 0) {
				log_info(AGENT_SUBSYS, "run %s: falling back to %s", run->run_id,
					 run->model_ref);
				run_model_call(run);
				return;
			}
		}
	}
	run->failed = true;
	run->err = *err;
	if (json_array_size(run->attempts) > 1 && prov_err_failover(err->kind)) {
		char *m = xasprintf("all models failed (%zu attempts); last: %s",
				    json_array_size(run->attempts), err->message);
		/* cut at a character boundary: the message goes out as JSON */
		size_t n = str_utf8_prefix(m, strnlen(m, sizeof(run->err.message) - 1));
		memcpy(run->err.message, m, n);
		run->err.message[n] = '\0';
		free(m);
	}
	run_finish(run);
}

/* Called by compact.c when a compaction the run asked for is over. */
void run_compacted(struct agent_run *run, bool ok, const char *why)
{
	if (run->compact_only) {
		run->command_reply = true;
		free(run->reply_text);
		run->reply_text =
			ok ? xstrdup("Compacted the session history.")
			   : xasprintf("Compaction failed: %s", why ? why : "unknown error");
		run_finish(run);
		return;
	}
	if (!ok) {
		struct prov_error e = { .kind = PROV_ERR_CONTEXT_OVERFLOW, .retry_after_ms = -1 };
		snprintf(e.message, sizeof(e.message),
			 "the conversation is too long for %s and could not be compacted (%s); "
			 "start a new session with /new",
			 run->model.id ? run->model.id : "the model", why ? why : "unknown error");
		run->failed = true;
		run->err = e;
		run_finish(run);
		return;
	}
	json_decref(run->context);
	run->context = transcript_context(&run->lane->tr);
	run_model_call(run);
}

/* ==== tools ==== */

static void run_tool_answered(struct tool_call *call, json_t *content, bool is_error);

static json_t *tool_result_msg(const char *id, const char *name, json_t *content, bool is_error)
{
	if (json_is_string(content)) {
		json_t *c = json_pack("[{s:s, s:O}]", "type", "text", "text", content);
		json_decref(content);
		content = c;
	}
	return json_pack("{s:s, s:s, s:s, s:o, s:b, s:I}", "role", "toolResult", "toolCallId", id,
			 "toolName", name, "content", content ? content : json_array(), "isError",
			 is_error, "timestamp", (json_int_t)time_now_ms());
}

static void run_tools_finished(struct agent_run *run)
{
	json_t *m;
	size_t i;

	for (i = 0; i < run->ntcalls; i++) {
		struct tool_call *c = run->tcalls[i];
		json_decref(c->args);
		free(c->id);
		free(c->note);
		free(c);
	}
	free(run->tcalls);
	run->tcalls = NULL;
	run->ntcalls = run->ntdone = 0;
	json_array_foreach(run->tresults, i, m)
	{
		run_record_message(run, m);
		json_array_append(run->context, m);
	}
	json_decref(run->tresults);
	run->tresults = NULL;
	if (run->aborted) {
		run_finish(run);
		return;
	}
	if (run->loop_stop) {
		struct prov_error e = { .kind = PROV_ERR_UNKNOWN, .retry_after_ms = -1 };
		snprintf(e.message, sizeof(e.message), "%s", run->loop_stop);
		run->failed = true;
		run->err = e;
		run_finish(run);
		return;
	}
	/* steering: messages that arrived during the tools join before the next model call */
	json_array_foreach(run->steer, i, m)
	{
		run_record_message(run, m);
		json_array_append(run->context, m);
	}
	json_array_clear(run->steer);
	if (++run->tool_rounds >= AGENT_MAX_TOOL_ROUNDS) {
		struct prov_error e = { .kind = PROV_ERR_UNKNOWN, .retry_after_ms = -1 };
		snprintf(e.message, sizeof(e.message),
			 "stopped after %d rounds of tool calls without a final answer",
			 AGENT_MAX_TOOL_ROUNDS);
		run->failed = true;
		run->err = e;
		run_finish(run);
		return;
	}
	run_model_call(run);
}

static void run_tool_answered(struct tool_call *call, json_t *content, bool is_error)
{
	struct agent_run *run = call->owner;
	size_t i;
	int64_t now = time_now_ms();
	json_t *msg;

	for (i = 0; i < run->ntcalls && run->tcalls[i] != call; i++)
		;
	if (i == run->ntcalls || !json_is_null(json_array_get(run->tresults, i))) {
		json_decref(content);
		return;
	}
	if (call->def)
		tool_loop_record(&run->loop, rt_cfg(run->rt), run->agent_id, call->def->name,
				 call->args, content, is_error);
	msg = tool_result_msg(call->id, call->def ? call->def->name : "unknown", content, is_error);
	if (call->note)
		json_array_append_new(json_object_get(msg, "content"),
				      json_pack("{s:s, s:s}", "type", "text", "text", call->note));
	json_array_set_new(run->tresults, i, msg);
	ev_agent(run, "tool",
		 json_pack("{s:s, s:s, s:s, s:b, s:O}", "phase", "result", "name",
			   json_string_value(json_object_get(msg, "toolName")), "toolCallId",
			   call->id, "isError", is_error, "result",
			   json_object_get(msg, "content")),
		 AGENT_EMIT_TOOL);
	{
		char *title = call->def ? tool_title(call->def, call->args) : xstrdup(call->id);
		ev_agent(run, "item",
			 json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:I}", "itemId", "",
				   "toolCallId", call->id, "name",
				   json_string_value(json_object_get(msg, "toolName")), "kind",
				   "tool", "phase", "end", "title", title, "status",
				   is_error ? "failed" : "completed", "commandBearing", 0,
				   "endedAt", (json_int_t)now),
			 0);
		free(title);
	}
	if (!is_error && call->def)
		json_array_append_new(run->successful_tools, json_string(call->def->name));
	if (++run->ntdone == run->ntcalls)
		run_tools_finished(run);
}

static void run_tools_start(struct agent_run *run, json_t *calls)
{
	const struct config *cfg = rt_cfg(run->rt);
	size_t i, n = json_array_size(calls);
	json_t *b;

	run->phase = RUN_TOOLS;
	run->tcalls = xcalloc(n, sizeof(*run->tcalls));
	run->ntcalls = n;
	run->ntdone = 0;
	run->tresults = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(run->tresults, json_null());
	/* create every call first: a tool may answer synchronously */
	json_array_foreach(calls, i, b)
	{
		struct tool_call *c = xcalloc(1, sizeof(*c));
		const char *name = json_string_value(json_object_get(b, "name"));
		c->def = name ? tool_find(name) : NULL;
		c->id = xstrdup(json_string_value(json_object_get(b, "id"))
					? json_string_value(json_object_get(b, "id"))
					: "call_unknown");
		c->args = json_incref(json_object_get(b, "arguments"));
		if (!json_is_object(c->args)) {
			json_decref(c->args);
			c->args = json_object();
		}
		c->env.loop = run->rt->loop;
		c->env.cfg = cfg;
		c->env.agent_id = run->agent_id;
		c->env.session_key = run->session_key;
		c->env.session_id = run->session_id;
		c->env.workspace = run->lane->agent->workspace;
		c->env.rt = run->rt;
		c->env.run = run;
		c->on_done = run_tool_answered;
		c->owner = run;
		run->tcalls[i] = c;
	}
	json_array_foreach(calls, i, b)
	{
		struct tool_call *c = run->tcalls[i];
		const char *name = json_string_value(json_object_get(b, "name"));
		char *title = c->def ? tool_title(c->def, c->args) : xstrdup(name ? name : "tool");
		ev_agent(run, "item",
			 json_pack("{s:s+, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:I}", "itemId",
				   "tool:", c->id, "toolCallId", c->id, "name", name ? name : "",
				   "kind", "tool", "phase", "start", "title", title, "status",
				   "running", "commandBearing", 0, "startedAt",
				   (json_int_t)time_now_ms()),
			 0);
		ev_agent(run, "tool",
			 json_pack("{s:s, s:s, s:s, s:O}", "phase", "start", "name",
				   name ? name : "", "toolCallId", c->id, "args", c->args),
			 AGENT_EMIT_TOOL);
		free(title);
		if (!c->def) {
			tool_call_text(c, true, "Tool %s not found", name ? name : "(unnamed)");
			if (!run->tcalls)
				break; /* that answer finished the round */
			continue;
		}
		if (!tool_policy_allows(run->policy, c->def->name)) {
			char why[200];
			tool_call_text(
				c, true, "%s",
				tool_policy_why(run->policy, c->def->name, why, sizeof(why)));
			if (!run->tcalls)
				break;
			continue;
		}
		{
			char msg[400];
			enum loop_level lv =
				tool_loop_check(&run->loop, cfg, run->agent_id, c->def->name,
						c->args, msg, sizeof(msg));
			if (lv == LOOP_CRITICAL) {
				if (!run->loop_stop)
					run->loop_stop = xstrdup(msg);
				tool_call_text(c, true, "%s", msg);
				if (!run->tcalls)
					break;
				continue;
			}
			if (lv == LOOP_WARN)
				c->note = xstrdup(msg);
		}
		if (run->flush && memflush_tool(run, c)) {
			if (!run->tcalls)
				break;
			continue;
		}
		c->def->invoke(c);
		if (!run->tcalls)
			break;
	}
	json_decref(calls);
}

/* ==== start, finish, abort ==== */

static bool run_tool_allowed(const char *name, void *arg)
{
	return tool_policy_allows(arg, name);
}

/* The tools this run's model is offered: the table filtered by the tool policy. */
static json_t *run_prompt_tools(struct agent_run *run)
{
	struct tool_policy_ctx pc = { .agent_id = run->agent_id,
				      .session_key = run->session_key,
				      .provider = run->model.provider,
				      .model_id = run->model.id };

	tool_policy_free(run->policy);
	run->policy = tool_policy_resolve(rt_cfg(run->rt), &pc);
	return tool_specs(run_tool_allowed, run->policy);
}

static int run_prepare_context(struct agent_run *run, json_t *entry, char *err, size_t errlen)
{
	const struct config *cfg = rt_cfg(run->rt);
	struct agent_state *a = run->lane->agent;
	struct prompt_ctx pc = { 0 };
	json_t *specs, *brief, *s;
	size_t i;
	const char *tl = json_string_value(json_object_get(entry, "thinkingLevel"));

	if (!run->thinking && tl)
		run->thinking = xstrdup(tl);
	if (!run->thinking && config_get_str(cfg, "agents.defaults.thinkingDefault"))
		run->thinking = xstrdup(config_get_str(cfg, "agents.defaults.thinkingDefault"));
	run->tools = run_prompt_tools(run);
	specs = run->tools;
	brief = json_array();
	json_array_foreach(specs, i, s)
	{
		json_array_append_new(brief,
				      json_pack("{s:O, s:O}", "name", json_object_get(s, "name"),
						"description", json_object_get(s, "description")));
	}
	pc.cfg = cfg;
	pc.agent_id = run->agent_id;
	pc.workspace = a->workspace;
	pc.session_key = run->session_key;
	pc.main_session = str_ends_with(run->session_key, ":main");
	pc.mode = strstr(run->session_key, ":subagent:") ? PROMPT_MINIMAL : PROMPT_FULL;
	pc.tools = brief;
	pc.skills = rt_agent_skills(run->rt, a);
	pc.model_ref = run->model_ref;
	pc.thinking = run->thinking;
	pc.heartbeats = true;
	pc.channel = run->channel;
	run->system = prompt_build(&pc, &run->prompt_report);
	if (run->extra_system && *run->extra_system) {
		char *s2 = xasprintf("%s\n\n%s", run->system, run->extra_system);
		free(run->system);
		run->system = s2;
	}
	json_decref(brief);
	run->context = transcript_context(&run->lane->tr);
	(void)err;
	(void)errlen;
	return 0;
}

static json_t *run_user_message(struct agent_run *run, const char *text)
{
	json_t *content = json_pack("[{s:s, s:s}]", "type", "text", "text", text), *a;
	size_t i;

	json_array_foreach(run->attachments, i, a)
	{
		const char *mime = json_string_value(json_object_get(a, "mimeType"));
		const char *data = json_string_value(json_object_get(a, "content"));
		if (!data)
			data = json_string_value(json_object_get(a, "data"));
		if (mime && data && str_starts_with(mime, "image/"))
			json_array_append_new(content, json_pack("{s:s, s:s, s:s}", "type", "image",
								 "data", data, "mimeType", mime));
	}
	return json_pack("{s:s, s:o, s:I}", "role", "user", "content", content, "timestamp",
			 (json_int_t)time_now_ms());
}

static void run_timeout_cb(uv_timer_t *t)
{
	struct agent_run *run = t->data;

	log_warn(AGENT_SUBSYS, "run %s timed out", run->run_id);
	run_abort(run, "timeout");
}

void run_start(struct agent_run *run)
{
	struct agent_rt *rt = run->rt;
	const struct config *cfg = rt_cfg(rt);
	struct lane *l = run->lane;
	char err[512];
	json_t *entry, *user;
	bool created;
	struct prov_error pe;
	int64_t timeout = run->timeout_ms;
	char *events;

	run->phase = RUN_PREPARING;
	run->started_ms = time_now_ms();
	uv_timer_init(rt->loop, &run->timer);
	uv_timer_init(rt->loop, &run->chat_timer);
	run->timer.data = run->chat_timer.data = run;
	run->open_timers = 2;
	if (timeout <= 0)
		timeout = config_get_int(cfg, "agents.defaults.timeoutSeconds") * 1000;
	if (timeout <= 0)
		timeout = 600000;
	uv_timer_start(&run->timer, run_timeout_cb, (uint64_t)timeout, 0);

	run_status(run, "preparing_workspace");
	if (rt_agent_prepare(rt, l->agent, err, sizeof(err)) < 0)
		goto fail;
	entry = session_store_ensure(l->agent->store, run->session_key, time_now_ms(), &created);
	free(run->session_id);
	run->session_id = xstrdup(json_string_value(json_object_get(entry, "sessionId")));
	if (!l->tr_open && rt_lane_transcript(l, NULL, err, sizeof(err)) < 0)
		goto fail;
	if (cmd_slash_handle(run))
		return;
	/* the command may have reset the session */
	entry = session_store_get(l->agent->store, run->session_key);
	free(run->session_id);
	run->session_id = xstrdup(json_string_value(json_object_get(entry, "sessionId")));

	run_status(run, "preparing_context");
	run_build_chain(run, entry);
	if (run_select_model(run, &pe) == 0)
		run_prepare_context(run, entry, err, sizeof(err));
	if (run->compact_only) {
		if (!run->model.id) {
			run->failed = true;
			run->err = pe;
			run_finish(run);
			return;
		}
		compact_start(run, run->compact_instructions);
		return;
	}
	if (run->context_only) {
		char *t = context_report(run);
		run_reply(run, t);
		free(t);
		return;
	}
	/* the user's message is recorded even when no model can answer it */
	events = rt->hb ? heartbeat_take_events(rt->hb, run->session_key) : NULL;
	if (events) {
		char *t = xasprintf("%s\n\n%s", events, run->message);
		user = run_user_message(run, t);
		free(t);
		free(events);
	} else {
		user = run_user_message(run, run->message);
	}
	run_record_message(run, user);
	if (!run->context)
		run->context = json_array();
	json_array_append_new(run->context, user);
	ev_agent(
		run, "lifecycle",
		json_pack("{s:s, s:I}", "phase", "start", "startedAt", (json_int_t)run->started_ms),
		0);
	if (!run->model.id) {
		run->failed = true;
		run->err = pe;
		run_finish(run);
		return;
	}
	/* near the compaction threshold: a silent memory-flush turn first (memflush.c) */
	if (memflush_start(run)) {
		run_model_call(run);
		return;
	}
	run_turn(run);
	return;
fail:
	run->failed = true;
	memset(&run->err, 0, sizeof(run->err));
	run->err.kind = PROV_ERR_UNKNOWN;
	snprintf(run->err.message, sizeof(run->err.message), "%s", err);
	run_finish(run);
}

/* The user's turn proper: threshold compaction when due, then the model. */
static void run_turn(struct agent_run *run)
{
	long window = run->model.context_window ? run->model.context_window : 128000;

	run_status(run, "starting_model");
	/* threshold compaction before the call: contextTokens > contextWindow - reserve */
	if (compact_estimate_tokens(run->context) >
	    window - compact_reserve_tokens(rt_cfg(run->rt), window)) {
		run->overflow_retried = true;
		compact_start(run, NULL);
		return;
	}
	run_model_call(run);
}

/* The memory flush is over: the user's turn, on the model it was to use. */
static void run_after_flush(struct agent_run *run, size_t chain_i)
{
	struct prov_error pe;

	if (run->chain_i != chain_i) {
		run->chain_i = chain_i;
		if (run_select_model(run, &pe) < 0) {
			run->failed = true;
			run->err = pe;
			run_finish(run);
			return;
		}
	}
	run_turn(run);
}

void run_reply(struct agent_run *run, const char *text)
{
	run->command_reply = true;
	free(run->reply_text);
	run->reply_text = xstrdup(text);
	run_finish(run);
}

/* /context: where the prompt's characters go. */
static char *context_report(struct agent_run *run)
{
	json_t *r = run->prompt_report, *f;
	struct buf b;
	size_t i;

	buf_init(&b, 1u << 20);
	buf_printf(&b, "System prompt: %zu chars (~%zu tokens)\n",
		   run->system ? strlen(run->system) : 0,
		   run->system ? strlen(run->system) / 4 : 0);
	json_array_foreach(json_object_get(r, "injectedWorkspaceFiles"), i, f)
	{
		buf_printf(&b, "- %s: %s%lld chars%s\n",
			   json_string_value(json_object_get(f, "name")),
			   json_is_true(json_object_get(f, "missing")) ? "missing, " : "",
			   (long long)json_integer_value(json_object_get(f, "injectedChars")),
			   json_is_true(json_object_get(f, "truncated")) ? " (truncated)" : "");
	}
	buf_printf(&b, "Tools: %zu\nHistory: %zu messages (~%ld tokens)",
		   json_array_size(run->tools), json_array_size(run->context),
		   compact_estimate_tokens(run->context));
	return buf_detach(&b, NULL);
}

bool run_steer(struct agent_run *run, const char *text)
{
	/* not into a memory-flush turn: the message waits for its own turn */
	if (run->flush || (run->phase != RUN_TOOLS && run->phase != RUN_MODEL))
		return false;
	json_array_append_new(run->steer, run_user_message(run, text));
	return true;
}

/* HEARTBEAT_OK at the start or end with at most ackMaxChars besides: nothing to deliver. */
static bool heartbeat_ack(const struct config *cfg, const char *text)
{
	const char *tok = "HEARTBEAT_OK";
	size_t n = strlen(text), tl = strlen(tok);
	long max = config_get_int(cfg, "agents.defaults.heartbeat.ackMaxChars");
	const char *p = strstr(text, tok);

	if (max <= 0)
		max = 300;
	if (!p)
		return false;
	while (n && (text[n - 1] == ' ' || text[n - 1] == '\n' || text[n - 1] == '.'))
		n--;
	if (p != text && !(n >= tl && !strncmp(text + n - tl, tok, tl)))
		return false;
	return (long)(n - tl) <= max;
}

/* An alert that also carries the HEARTBEAT_OK token: the token goes, the alert stays. */
static char *heartbeat_strip(const char *text)
{
	const char *tok = "HEARTBEAT_OK";
	size_t tl = strlen(tok), n;
	char *r;

	while (*text == ' ' || *text == '\n')
		text++;
	if (!strncmp(text, tok, tl))
		text += tl;
	while (*text == ' ' || *text == '\n' || *text == '.' || *text == ':' || *text == '-')
		text++;
	r = xstrdup(text);
	n = strlen(r);
	while (n && (r[n - 1] == ' ' || r[n - 1] == '\n' || r[n - 1] == '.'))
		n--;
	if (n >= tl && !strncmp(r + n - tl, tok, tl))
		r[n - tl] = '\0';
	n = strlen(r);
	while (n && (r[n - 1] == ' ' || r[n - 1] == '\n'))
		r[--n] = '\0';
	return r;
}

static json_t *run_build_result(struct agent_run *run, const char *text, bool visible)
{
	json_t *usage = json_deep_copy(run->usage), *meta, *payloads = json_array();

	json_object_set_new(usage, "cost", json_pack("{s:i}", "total", 0));
	if (visible && text && *text)
		json_array_append_new(payloads, json_pack("{s:s, s:n}", "text", text, "mediaUrl"));
	meta = json_pack(
		"{s:I, s:{s:s?, s:s?, s:s?, s:s?, s:I, s:o, s:i}, s:b, s:s?, s:{s:s?, s:s?, s:O, "
		"s:b, s:s}}",
		"durationMs", (json_int_t)(time_now_ms() - run->started_ms), "agentMeta",
		"sessionId", run->session_id, "sessionFile", run->session_key, "provider",
		run->model.provider, "model", run->model.id, "contextTokens",
		(json_int_t)(run->model.context_window ? run->model.context_window : 128000),
		"usage", usage, "assistantTurns", run->assistant_turns, "aborted", run->aborted,
		"stopReason", run->stop_reason, "executionTrace", "winnerProvider",
		run->failed ? NULL : run->model.provider, "winnerModel",
		run->failed ? NULL : run->model.id, "attempts", run->attempts, "fallbackUsed",
		json_array_size(run->attempts) > 1, "runner", "embedded");
	if (run->last_usage) {
		json_t *lu = json_pack("{s:O, s:O, s:O, s:O, s:O, s:{s:i}}", "input",
				       json_object_get(run->last_usage, "input"), "output",
				       json_object_get(run->last_usage, "output"), "cacheRead",
				       json_object_get(run->last_usage, "cacheRead"), "cacheWrite",
				       json_object_get(run->last_usage, "cacheWrite"), "total",
				       json_object_get(run->last_usage, "totalTokens"), "cost",
				       "total", 0);
		json_object_set_new(json_object_get(meta, "agentMeta"), "lastCallUsage", lu);
	}
	if (run->prompt_report)
		json_object_set(meta, "systemPromptReport", run->prompt_report);
	json_object_set_new(meta, "finalAssistantVisibleText", json_string(text ? text : ""));
	return json_pack("{s:o, s:o}", "payloads", payloads, "meta", meta);
}

/* Give every tool call still open a result, so the transcript stays valid. */
static void run_close_tools(struct agent_run *run)
{
	size_t i;

	if (!run->tcalls)
		return;
	for (i = 0; i < run->ntcalls; i++) {
		struct tool_call *c = run->tcalls[i];
		if (!json_is_null(json_array_get(run->tresults, i)))
			continue;
		if (c->cancel)
			c->cancel(c);
		if (run->tcalls && json_is_null(json_array_get(run->tresults, i)))
			tool_call_text(c, true, "Tool call aborted: %s",
				       run->abort_reason ? run->abort_reason : "run stopped");
		if (!run->tcalls)
			return; /* the last answer finished the round */
	}
}

void run_abort(struct agent_run *run, const char *reason)
{
	if (run->phase == RUN_DONE || run->aborted)
		return;
	run->aborted = true;
	free(run->abort_reason);
	run->abort_reason = xstrdup(reason ? reason : "aborted");
	if (run->phase == RUN_QUEUED) {
		run->phase = RUN_DONE;
		free(run->stop_reason);
		run->stop_reason = xstrdup("aborted");
		run->result = json_pack("{s:s, s:s, s:s, s:s}", "runId", run->run_id, "status",
					"timeout", "summary", "aborted", "stopReason", "aborted");
		rt_run_finished(run);
		return;
	}
	if (run->compact_call) {
		json_t *partial = prov_call_abort(run->compact_call);
		json_decref(partial);
		run->compact_call = NULL;
		if (run->compaction) {
			free(run->compaction->first_kept);
			free(run->compaction);
			run->compaction = NULL;
		}
		free(run->stop_reason);
		run->stop_reason = xstrdup("aborted");
		run_finish(run);
		return;
	}
	if (run->call) {
		json_t *partial = prov_call_abort(run->call);
		json_t *content = json_object_get(partial, "content"), *b;
		json_t *kept = json_array();
		size_t i;

		run->call = NULL;
		/* an interrupted tool call cannot be answered: keep only text and thinking */
		json_array_foreach(content, i, b)
		{
			if (!str_eq(json_string_value(json_object_get(b, "type")), "toolCall"))
				json_array_append(kept, b);
		}
		json_object_set_new(partial, "content", kept);
		json_object_set_new(partial, "stopReason", json_string("aborted"));
		if (json_array_size(kept))
			run_record_message(run, partial);
		json_decref(run->final_message);
		run->final_message = partial;
		free(run->stop_reason);
		run->stop_reason = xstrdup("aborted");
		run_finish(run);
		return;
	}
	if (run->phase == RUN_TOOLS) {
		free(run->stop_reason);
		run->stop_reason = xstrdup("aborted");
		run_close_tools(run); /* the last answer calls run_finish */
		return;
	}
	/* preparing or compacting: finished by whoever holds the run next */
}

static void run_update_entry(struct agent_run *run)
{
	struct session_store *st = run->lane->agent->store;
	json_t *e = session_store_get(st, run->session_key);
	int64_t now = time_now_ms();

	if (!e)
		return;
	json_object_set_new(e, "updatedAt", json_integer(now));
	if (!run->heartbeat)
		json_object_set_new(e, "lastInteractionAt", json_integer(now));
	if (run->last_usage) {
		long in = json_integer_value(json_object_get(run->last_usage, "input")) +
			  json_integer_value(json_object_get(run->last_usage, "cacheRead")) +
			  json_integer_value(json_object_get(run->last_usage, "cacheWrite"));
		long out = json_integer_value(json_object_get(run->last_usage, "output"));
		json_object_set_new(e, "inputTokens", json_integer(in));
		json_object_set_new(e, "outputTokens", json_integer(out));
		json_object_set_new(e, "totalTokens", json_integer(in + out));
		json_object_set_new(e, "contextTokens", json_integer(in + out));
	}
	if (run->model.id) {
		json_object_set_new(e, "modelProvider", json_string(run->model.provider));
		json_object_set_new(e, "model", json_string(run->model.id));
	}
	if (run->channel && !json_object_get(e, "lastChannel"))
		json_object_set_new(e, "lastChannel", json_string(run->channel));
	rt_store_dirty(run->rt, run->lane->agent);
}

static void run_finish(struct agent_run *run)
{
	const struct config *cfg = rt_cfg(run->rt);
	int64_t now = time_now_ms();
	const char *text = run->command_reply ? run->reply_text : run->text.p;
	bool visible = true;
	const char *stop = run->stop_reason ? run->stop_reason : (run->failed ? "error" : "stop");
	char *hb_text = NULL;
	json_t *result;

	if (run->phase == RUN_DONE)
		return;
	if (run->flush) {
		size_t chain_i;
		if (memflush_finish(run, &chain_i)) {
			run_after_flush(run, chain_i);
			return;
		}
		text = "";
	}
	run->phase = RUN_DONE;
	uv_timer_stop(&run->timer);
	uv_timer_stop(&run->chat_timer);
	if (!text)
		text = "";
	if (run->heartbeat && heartbeat_ack(cfg, text))
		visible = false;
	else if (run->heartbeat)
		text = hb_text = heartbeat_strip(text);
	{
		const char *t = text;
		while (*t == ' ' || *t == '\n')
			t++;
		if (!strncmp(t, "NO_REPLY", 8) || !strncmp(t, "no_reply", 8))
			visible = false;
	}
	if (run->aborted)
		stop = "aborted";
	if (!run->command_reply && run->lane->tr_open)
		transcript_sync(&run->lane->tr);

	ev_agent(run, "lifecycle",
		 json_pack("{s:s, s:s, s:b, s:s, s:I}", "phase", "finishing", "stopReason", stop,
			   "aborted", run->aborted, "livenessState", "working", "endedAt",
			   (json_int_t)now),
		 0);
	if (run->failed) {
		ev_agent(run, "lifecycle",
			 json_pack("{s:s, s:s, s:s, s:I, s:I}", "phase", "error", "error",
				   run->err.message, "errorKind", prov_err_chat_kind(run->err.kind),
				   "startedAt", (json_int_t)run->started_ms, "endedAt",
				   (json_int_t)now),
			 0);
		ev_chat(run, "error",
			json_pack("{s:s, s:s}", "errorMessage", run->err.message, "errorKind",
				  prov_err_chat_kind(run->err.kind)));
		run->result = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "runId", run->run_id,
					"status", "error", "summary", run->err.message, "error",
					"code", "UNAVAILABLE", "message", run->err.message,
					"errorKind", prov_err_chat_kind(run->err.kind));
	} else {
		json_t *receipt = json_pack(
			"{s:s, s:s?, s:s, s:{s:s?, s:s?}, s:{s:s?, s:s?, s:s?}, s:O, s:b, s:s}",
			"runId", run->run_id, "sessionId", run->session_id, "turnId", run->run_id,
			"requested", "provider", run->model.provider, "model", run->model.id,
			"effective", "provider", run->model.provider, "model", run->model.id,
			"responseModel", run->model.id, "successfulToolNames",
			run->successful_tools, "rerouted", json_array_size(run->attempts) > 1,
			"terminalDisposition", visible ? "visible" : "silent");
		ev_agent(run, "lifecycle",
			 json_pack("{s:s, s:I, s:I, s:b, s:s, s:s, s:b, s:o, s:{s:s, s:s}}",
				   "phase", "end", "startedAt", (json_int_t)run->started_ms,
				   "endedAt", (json_int_t)now, "aborted", run->aborted,
				   "stopReason", stop, "livenessState", "working",
				   "executionSettled", 1, "terminalReceipt", receipt,
				   "terminalReply", "disposition", visible ? "visible" : "silent",
				   "text", visible ? text : ""),
			 0);
		if (run->aborted) {
			ev_chat(run, "aborted",
				json_pack("{s:s, s:o}", "stopReason", "aborted", "message",
					  ev_text_message(text, now)));
			run->result = json_pack("{s:s, s:s, s:s, s:s, s:o}", "runId", run->run_id,
						"status", "timeout", "summary", "aborted",
						"stopReason", "aborted", "result",
						run_build_result(run, text, visible));
		} else {
			json_t *extra = json_pack("{s:s}", "stopReason", stop);
			if (visible)
				json_object_set_new(extra, "message", ev_text_message(text, now));
			ev_chat(run, "final", extra);
			result = run_build_result(run, text, visible);
			run->result =
				json_pack("{s:s, s:s, s:s, s:o}", "runId", run->run_id, "status",
					  "ok", "summary", "completed", "result", result);
		}
	}
	if (!run->command_reply)
		run_update_entry(run);
	rt_sessions_changed(run->rt, run->session_key, "agent.run.finished");
	run->rt->turns_done++;
	rt_run_finished(run);
	free(hb_text);
}
