/*
 * runtime.h - the agent runtime: messages in, runs out.
 *
 * One struct agent_rt per daemon. It owns, per agent, the session store,
 * the auth profiles and the skills snapshot; per session a lane (one run
 * at a time, plus the messages that arrived meanwhile); and the runs
 * themselves, under a global cap (agents.defaults.maxConcurrent).
 *
 * A run is a state machine (run.c): queued -> preparing -> model ->
 * tools -> model … -> done | error | aborted. Everything it reports goes
 * through one function that first appends to the transcript what must be
 * recorded and then hands the event to the `emit` hook (the gateway's
 * broadcast), so no client ever sees what the transcript does not hold.
 *
 * Callers (gateway methods, the CLI's --local mode, heartbeats) submit a
 * struct agent_submit and get the run id at once; completion arrives via
 * the submit's `done` callback and via agent_rt_wait.
 */
#ifndef PINCER_AGENT_RUNTIME_H
#define PINCER_AGENT_RUNTIME_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct config;
struct paths;
struct agent_rt;
struct agent_run;

/* How an event is to be fanned out. */
enum agent_emit_flags {
	AGENT_EMIT_TOOL = 1, /* only to clients with the `tool-events` cap */
};

struct agent_hooks {
	/* Broadcast `event` ("agent", "chat", "sessions.changed", …); payload stolen. */
	void (*emit)(void *arg, const char *event, json_t *payload, unsigned flags);
	void *arg;
};

/*
 * Create the runtime. `cfgp` points at the daemon's current config pointer
 * (a reload replaces the config, and the runtime always reads the current
 * one). Nothing is read from disk until the first run.
 */
struct agent_rt *agent_rt_new(uv_loop_t *loop, struct config *const *cfgp,
			      const struct paths *paths, const struct agent_hooks *hooks);
/* Abort every run (transcripts left valid), then free. Runs the loop briefly. */
void agent_rt_free(struct agent_rt *rt);
/* Stop heartbeats and abort runs: the daemon is shutting down. */
void agent_rt_shutdown(struct agent_rt *rt);
/* The config changed: re-read what derives from it (heartbeat schedule, caps). */
void agent_rt_config_changed(struct agent_rt *rt);

/* What to run. Strings are copied. */
struct agent_submit {
	const char *agent_id;      /* NULL: from the session key, else the default agent */
	const char *session_key;   /* NULL: from session_id, else agent:<id>:main */
	const char *session_id;    /* an explicit session id (OpenClaw's `agent --session-id`) */
	const char *message;       /* the user's text */
	const json_t *attachments; /* [{type:"image", mimeType, content|data (base64)}] or NULL */
	const char *run_id;        /* NULL: a new UUID (the idempotency key when given) */
	const char *model;         /* one-run model override ("provider/model"), or NULL */
	const char *thinking;      /* one-run thinking level, or NULL */
	const char *queue_mode;    /* overrides messages.queue.mode for this message */
	const char *extra_system;  /* appended to the system prompt */
	const char *channel;       /* origin channel ("webchat", "cli", …) */
	int64_t timeout_ms;        /* 0: agents.defaults.timeoutSeconds */
	bool chat;                 /* started by chat.send: also emit chat `status` events */
	bool heartbeat;            /* a heartbeat turn (HEARTBEAT_OK suppression, isHeartbeat) */
	bool silent;               /* internal turn (memory flush): no chat events */
	int a2a_depth;             /* sessions_send hops that led here (ping-pong cap) */
	const char *spawned_by;    /* sessions_spawn: the requester's session key */
	/* Called once when the run (or the run it was merged into) ends; result is borrowed. */
	void (*done)(void *arg, const char *run_id, const json_t *result);
	void *done_arg;
};

/*
 * Submit a message. Returns 0 with the run id (and, when it was queued
 * behind an active run, *queued = true), or -1 with `err` (unknown agent,
 * bad session key). A duplicate run id (idempotency key) of a run still
 * known returns 0 and `*duplicate` = true without starting anything.
 */
int agent_rt_submit(struct agent_rt *rt, const struct agent_submit *s, char run_id[64],
		    bool *queued, bool *duplicate, char *err, size_t errlen);

/*
 * The `agent` RPC's final result for a finished run (new reference), or NULL
 * when the run is still going or unknown. *known tells which.
 */
json_t *agent_rt_result(struct agent_rt *rt, const char *run_id, bool *known);

/* Call `fn` once when `run_id` ends (at once when it already has). 0, or -1 when unknown. */
int agent_rt_wait(struct agent_rt *rt, const char *run_id,
		  void (*fn)(void *arg, const char *run_id, const json_t *result), void *arg);
/* Forget a waiter registered with agent_rt_wait (the client went away). */
void agent_rt_unwait(struct agent_rt *rt, const char *run_id, void *arg);

/*
 * Abort the active run of `session_key` (and, with `run_id`, only that
 * run); queued messages of the session are dropped too when `clear_queue`.
 * Returns the number of runs aborted.
 */
int agent_rt_abort(struct agent_rt *rt, const char *session_key, const char *run_id,
		   bool clear_queue, const char *reason);

/* The agent id a session key belongs to (default agent when the key names none). New string. */
char *agent_rt_agent_for_key(struct agent_rt *rt, const char *session_key);
/* Canonical session key for what a client sent (e.g. "main"). New string or NULL. */
char *agent_rt_canonical_key(struct agent_rt *rt, const char *key);

/* The session store of `agent_id` (opened on first use). */
struct session_store *agent_rt_store(struct agent_rt *rt, const char *agent_id);

/* sessions.list rows of every agent. New array. */
json_t *agent_rt_sessions_list(struct agent_rt *rt, const json_t *params);
/* chat.history for a key: {sessionKey, sessionId, messages[], thinkingLevel?}. New, or NULL with err. */
json_t *agent_rt_history(struct agent_rt *rt, const char *session_key, int limit, char *err,
			 size_t errlen);
/* Append an assistant-visible note to a transcript (chat.inject). 0 or -1 with err. */
int agent_rt_inject(struct agent_rt *rt, const char *session_key, const char *text,
		    const char *label, char *err, size_t errlen);
/* Show `text` as an assistant message to clients watching `session_key`, without recording it. */
void agent_rt_show(struct agent_rt *rt, const char *session_key, const char *text);
/*
 * Reset a session (new sessionId; the old transcript archived as
 * .reset.<ts>). Returns the new entry (new reference) or NULL with err.
 */
json_t *agent_rt_reset(struct agent_rt *rt, const char *session_key, const char *reason, char *err,
		       size_t errlen);
/* Delete a session (transcript archived as .deleted.<ts>). 1 deleted, 0 not found, -1 err. */
int agent_rt_delete(struct agent_rt *rt, const char *session_key, bool delete_transcript, char *err,
		    size_t errlen);
/* Apply a sessions.patch (thinkingLevel, model, label, …). New entry or NULL with err. */
json_t *agent_rt_patch(struct agent_rt *rt, const char *session_key, const json_t *patch, char *err,
		       size_t errlen);
/* Compact a session now (`instructions` may be NULL); `done` when finished. 0 or -1 with err. */
int agent_rt_compact(struct agent_rt *rt, const char *session_key, const char *instructions,
		     void (*done)(void *arg, const json_t *result), void *arg, char *err,
		     size_t errlen);

/* Heartbeats: last-heartbeat / set-heartbeats / wake. */
json_t *agent_rt_last_heartbeat(struct agent_rt *rt);
void agent_rt_set_heartbeats(struct agent_rt *rt, bool enabled);
/* Queue `text` as a system event for the main session; `now` runs a heartbeat at once. */
int agent_rt_wake(struct agent_rt *rt, const char *session_key, const char *text, bool now);

/*
 * Call one tool outside a model turn: the `tools.invoke` method and
 * POST /tools/invoke. The tool policy of the session's agent applies, and
 * over HTTP also the gateway's HTTP deny list. `done` gets an HTTP-style
 * status and the body ({ok:true, result:{content, isError}} or {ok:false,
 * error:{type, message}}, stolen), once, possibly before this returns.
 */
struct agent_tool_invoke {
	const char *tool;
	const json_t *args;      /* object, or NULL */
	const char *action;      /* merged into args as "action" when args has none */
	const char *session_key; /* NULL: the agent's main session */
	const char *agent_id;    /* NULL: from the session key */
	bool http;
	void (*done)(void *arg, int status, json_t *body);
	void *arg;
};
void agent_rt_invoke_tool(struct agent_rt *rt, const struct agent_tool_invoke *iv);

/* The tools.catalog / tools.effective results. New, or NULL with err. */
json_t *agent_rt_tools_catalog(struct agent_rt *rt, const char *agent_id, char *err, size_t errlen);
json_t *agent_rt_tools_effective(struct agent_rt *rt, const char *agent_id, const char *session_key,
				 char *err, size_t errlen);

/* Counters for health/status and bench: runs active/queued, turns done. */
json_t *agent_rt_stats(struct agent_rt *rt);

#endif
