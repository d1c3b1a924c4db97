/*
 * internal.h - what the runtime's own files share: runtime.c (agents,
 * lanes, queueing, the public API), run.c (one run's state machine),
 * events.c (agent/chat event shapes), commands.c (slash commands),
 * compact.c (compaction), memflush.c (the pre-compaction memory flush)
 * and heartbeat.c.
 */
#ifndef PINCER_AGENT_INTERNAL_H
#define PINCER_AGENT_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "agent/runtime.h"
#include "core/buf.h"
#include "providers/auth.h"
#include "providers/provider.h"
#include "session/transcript.h"
#include "skills/skills.h"
#include "tools/loopdetect.h"

#define AGENT_SUBSYS "agent"

/* Finished runs kept for agent.wait and idempotent retries. */
#define AGENT_DONE_KEEP        512
#define AGENT_DONE_TTL_MS      (10 * 60 * 1000)
/* chat delta events are coalesced to at most one per this interval, as OpenClaw does. */
#define AGENT_CHAT_THROTTLE_MS 150
/* Tool-call rounds in one run before it is stopped. */
#define AGENT_MAX_TOOL_ROUNDS  64
/* An idle lane (and its open transcript) is released after this long. */
#define AGENT_LANE_IDLE_MS     (5 * 60 * 1000)
#define AGENT_STORE_FLUSH_MS   1000
/*
 * Transcripts idle lanes keep parsed, in JSONL bytes (jansson's trees cost
 * about eight times that, ~2 MB). Beyond it the least recently used are closed
 * and parsed again on their next turn: memory stays flat however many
 * sessions are busy, at the price of a re-read (~1 ms per 100 kB).
 */
#define AGENT_TR_CACHE_BYTES   (256u << 10)
/* With skills.load.watch off, skills are rescanned on a turn at most this often. */
#define AGENT_SKILLS_TTL_MS    5000
/* With it on, a snapshot this old is refreshed off the loop (binaries installed since). */
#define AGENT_SKILLS_MAXAGE_MS (5 * 60 * 1000)

struct memflush;
struct session_store;
struct tool_call;

struct agent_state {
	struct agent_state *next;
	char *id;
	char *workspace;
	char *agent_dir;
	char *sessions_dir;
	struct session_store *store;
	struct auth_store *auth;
	bool workspace_ready;
	bool dirty;              /* the session store has changes not yet saved (rt_store_dirty) */
	struct skill_set skills; /* the skills snapshot: rt_agent_skills (skillwatch.c) */
	int64_t skills_at;       /* monotonic ms of that load; 0: never */
	struct agent_skills_watch *skills_watch; /* what keeps it fresh; NULL until first use */
};

/* A message waiting for its session's lane. */
struct queued_msg {
	struct queued_msg *next;
	struct agent_run *run; /* a run not yet started */
};

struct lane {
	struct lane *next;
	struct agent_rt *rt;
	char *key;
	struct agent_state *agent;
	struct agent_run *active;
	struct queued_msg *q_head, *q_tail;
	size_t q_len;
	uv_timer_t debounce;
	bool debounce_open;
	struct transcript tr;
	bool tr_open;
	int64_t idle_since_ms;
	bool closing;
};

struct run_waiter {
	struct run_waiter *next;
	char *run_id; /* the id the waiter knows the run by (an alias after a merge) */
	void (*fn)(void *arg, const char *run_id, const json_t *result);
	void *arg;
};

enum run_phase {
	RUN_QUEUED,
	RUN_PREPARING,
	RUN_MODEL,
	RUN_TOOLS,
	RUN_COMPACTING,
	RUN_DONE,
};

struct agent_run {
	struct agent_run *next;      /* rt->runs */
	struct agent_run *wait_next; /* rt's global wait queue */
	struct agent_rt *rt;
	struct lane *lane;
	char run_id[64];
	json_t *aliases; /* run ids of messages merged into this run (collect) */
	char *agent_id;
	char *session_key;
	char *session_id;
	/* the submission */
	char *message;
	json_t *attachments;
	char *model_override;
	char *thinking;
	char *queue_mode;
	char *extra_system;
	char *channel;
	int64_t timeout_ms;
	bool chat, heartbeat, silent;
	int a2a_depth;    /* sessions_send hops that led to this run */
	char *spawned_by; /* sessions_spawn requester, or NULL */
	struct run_waiter *waiters;
	/* progress */
	enum run_phase phase;
	int64_t seq;
	int64_t accepted_ms, started_ms;
	bool in_global_queue;
	bool counted; /* holds one of the global slots */
	/* model selection and failover */
	json_t *chain; /* model refs to try, in order */
	size_t chain_i;
	struct prov_model model;
	char *model_ref;
	struct auth_candidate *cands;
	size_t ncands, cand_i;
	json_t *attempts; /* executionTrace.attempts */
	bool overflow_retried;
	/* the conversation */
	char *system;
	json_t *tools;
	json_t *context;
	json_t *prompt_report;
	struct prov_call *call;
	struct buf text; /* visible text of the assistant message being streamed */
	int assistant_turns;
	int tool_rounds;
	char item_id[80];
	int64_t last_chat_ms;
	bool chat_pending;
	uv_timer_t timer;      /* run timeout */
	uv_timer_t chat_timer; /* delta throttle */
	int open_timers;
	/* tools in flight */
	struct tool_call **tcalls;
	size_t ntcalls, ntdone;
	json_t *tresults; /* toolResult messages by index (null until answered) */
	json_t *steer;    /* user messages to inject at the next tool boundary */
	json_t *successful_tools;
	struct tool_policy *policy; /* what this run's model may call */
	struct tool_loop loop;      /* recent calls, for tools.loopDetection */
	char *loop_stop;            /* set: a critical loop; the run ends after this round */
	/* outcome */
	json_t *usage; /* summed over the run */
	json_t *last_usage;
	json_t *final_message; /* last assistant message */
	char *stop_reason;
	bool aborted;
	char *abort_reason;
	bool failed;
	struct prov_error err;
	json_t *result;     /* the final `agent` response payload */
	bool command_reply; /* answered by a slash command, no model */
	char *reply_text;
	/* compaction (compact.c) */
	struct prov_call *compact_call;
	struct compaction *compaction;
	char *compact_instructions;
	bool compact_only;
	bool context_only; /* /context: report on the prompt instead of calling the model */
	void (*compact_done)(void *arg, const json_t *result);
	void *compact_arg;
	/* set while the pre-compaction memory flush turn runs: events and transcript are off */
	struct memflush *flush;
};

/* A compaction in progress (compact.c). */
struct compaction {
	char *first_kept;
	long tokens_before;
};

struct done_run {
	struct done_run *next;
	char run_id[64];
	char *result; /* compact JSON: a tree would cost ~6x as much, and it is rarely read */
	int64_t at_ms;
};

struct agent_rt {
	uv_loop_t *loop;
	struct config *const *cfgp;
	const struct paths *paths;
	struct agent_hooks hooks;
	struct http_client *http;
	struct agent_state *agents;
	struct lane *lanes;
	size_t nlanes;
	struct agent_run *runs;
	struct agent_run *wait_head, *wait_tail;
	int running;
	struct done_run *done;
	size_t ndone;
	int64_t trimmed_ms; /* last malloc_trim */
	uv_timer_t sweep;
	bool sweep_open;
	uv_timer_t flush; /* saves dirty session stores, AGENT_STORE_FLUSH_MS after a change */
	bool flush_open;
	bool stopping;
	uint64_t turns_done;
	/* heartbeat (heartbeat.c) */
	struct heartbeat *hb;
};

static inline const struct config *rt_cfg(const struct agent_rt *rt)
{
	return *rt->cfgp;
}

/* skillwatch.c */
/*
 * The agent's skills snapshot for a turn: loaded on first use and again
 * after a change the watch saw (skills.load.watch), else after
 * AGENT_SKILLS_TTL_MS. Borrowed; valid until the loop runs again.
 */
const struct skill_set *rt_agent_skills(struct agent_rt *rt, struct agent_state *a);
/* The config changed: gating may have too. Reload the snapshot. */
void rt_agent_skills_stale(struct agent_state *a);
/* Close the watch's handles (shutdown: the loop must drain); the snapshot stays. */
void rt_agent_skills_stop(struct agent_state *a);
/* Stop watching and release the snapshot (agent_state_free). */
void rt_agent_skills_release(struct agent_state *a);

/* runtime.c */
/* The default agent's id (agents.list[].default, else the first, else "main"). */
const char *rt_default_agent(struct agent_rt *rt);
struct agent_state *rt_agent(struct agent_rt *rt, const char *agent_id);
int rt_agent_prepare(struct agent_rt *rt, struct agent_state *a, char *err, size_t errlen);
struct lane *rt_lane(struct agent_rt *rt, const char *key, struct agent_state *a);
/* Close the least recently used idle transcripts beyond AGENT_TR_CACHE_BYTES, sparing `keep`. */
void rt_trim_transcripts(struct agent_rt *rt, const struct lane *keep);
int rt_lane_transcript(struct lane *l, json_t *entry, char *err, size_t errlen);
void rt_run_finished(struct agent_run *run);
/*
 * A store's entries changed in a way that may wait (counters, updatedAt):
 * saved within AGENT_STORE_FLUSH_MS, and at shutdown. Transcripts, not
 * sessions.json, are the record of a turn, so a crash loses at most a
 * second of counters, and a busy gateway writes the store once, not per turn.
 */
void rt_store_dirty(struct agent_rt *rt, struct agent_state *a);
void rt_emit(struct agent_rt *rt, const char *event, json_t *payload, unsigned flags);
void rt_sessions_changed(struct agent_rt *rt, const char *key, const char *reason);
int rt_reset_lane(struct agent_rt *rt, struct lane *l, const char *reason, char *err,
		  size_t errlen);

/* run.c */
struct agent_run *run_new(struct agent_rt *rt, const struct agent_submit *s, const char *run_id);
void run_start(struct agent_run *run);
void run_abort(struct agent_run *run, const char *reason);
void run_free(struct agent_run *run);
/* Add a user message to a run in progress (steer); false when it cannot take it now. */
bool run_steer(struct agent_run *run, const char *text);
/* Answer a command without the model, and end the run. */
void run_reply(struct agent_run *run, const char *text);

/* events.c */
void ev_agent(struct agent_run *run, const char *stream, json_t *data, unsigned flags);
void ev_chat(struct agent_run *run, const char *state, json_t *extra);
json_t *ev_text_message(const char *text, int64_t ts);

/* commands.c: handle a slash command; true when it was one (the run then ends). */
bool cmd_slash_handle(struct agent_run *run);
/* The text of /help. */
const char *cmd_slash_help(void);
/* "/approve …" arriving while its session's lane is busy: resolve now (the reply comes in turn). */
void cmd_slash_approve_early(struct agent_run *run);

/* compact.c */
/* Summarise older history of the run's lane transcript; calls run_compacted(run, ok). */
void compact_start(struct agent_run *run, const char *instructions);
void run_compacted(struct agent_run *run, bool ok, const char *why);
/*
 * Tokens kept free below the context window: the configured reserve (else
 * 20,000), at most a quarter of `window`. Auto-compaction runs when the
 * context exceeds window - reserve.
 */
long compact_reserve_tokens(const struct config *cfg, long window);
/* Token estimate of a message array (chars / 4, as pi does). */
long compact_estimate_tokens(const json_t *messages);
/* In-memory pruning of old tool results (contextPruning). */
void compact_prune_context(const struct config *cfg, json_t *context, const char *provider);

/*
 * memflush.c (see memflush.h). memflush_start, called with the context
 * ready and the user's message its last entry: when a flush is due, swap in
 * the flush turn's state and return true (the caller then calls the
 * model). memflush_finish, from run_finish while run->flush is set: record
 * the outcome, restore the user's state, and return true when the user's
 * turn should now run (false: the run was aborted and finishes as such);
 * *chain_i is the model chain index the user's turn had. memflush_tool:
 * a tool call during the flush; true when it took the call (the append-only
 * write, or a refusal). memflush_free: drop flush state (run teardown).
 */
bool memflush_start(struct agent_run *run);
bool memflush_finish(struct agent_run *run, size_t *chain_i);
bool memflush_tool(struct agent_run *run, struct tool_call *c);
void memflush_free(struct agent_run *run);

/* heartbeat.c */
struct heartbeat;
struct heartbeat *heartbeat_new(struct agent_rt *rt);
void heartbeat_free(struct heartbeat *hb);
void heartbeat_config_changed(struct heartbeat *hb);
/* System events waiting for the next turn of `key`: taken (new string or NULL). */
char *heartbeat_take_events(struct heartbeat *hb, const char *key);

#endif
