/*
 * compact.c - keeping a long session inside the model's context window.
 *
 * Compaction (persistent): the older part of the current branch is
 * summarised by the model into a `compaction` entry; what follows
 * firstKeptEntryId is kept verbatim. The cut never separates a tool call
 * from its result: the first kept entry is always a user message (or, when
 * there is none late enough, an assistant message). Triggered by the
 * threshold before a call, by a context-overflow error (then the call is
 * retried once), or by /compact [instructions].
 *
 * Pruning (in memory, per call): with contextPruning mode "cache-ttl"
 * (the default for Anthropic, whose prompt cache makes old tool output
 * cheap only while it is warm), tool results older than the TTL are
 * trimmed to their head and tail, and hard-cleared when very large.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "config/config.h"
#include "core/log.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "session/store.h"

#define COMPACT_KEEP_RECENT_TOKENS 20000
/* Room kept free for the reply: at least this much, but never over a quarter of the window. */
#define COMPACT_RESERVE_FLOOR      20000
#define COMPACT_RESERVE_MAX_RATIO  4
/* The text given to the summariser is capped: the summary of a summary is fine. */
#define COMPACT_MAX_INPUT_CHARS    (400u * 1024)

static const char summary_system[] =
	"You are compacting a conversation between a user and an AI assistant so it can go on "
	"within a limited context window. Write a faithful, dense summary that lets the assistant "
	"continue as if it had the whole history: the user's goals and preferences, decisions "
	"made, facts learned, files and commands touched (exact paths, names, identifiers), work "
	"done, and what is still open. Keep identifiers verbatim. Do not invent anything. Write "
	"in the conversation's language, as plain prose and short lists.";

static size_t msg_chars(const json_t *m)
{
	const json_t *c = json_object_get(m, "content"), *b;
	size_t i, n = 0;

	if (json_is_string(c))
		return json_string_length(c);
	json_array_foreach(c, i, b)
	{
		const char *t = json_string_value(json_object_get(b, "type"));
		if (str_eq(t, "text"))
			n += json_string_length(json_object_get(b, "text"));
		else if (str_eq(t, "thinking"))
			n += json_string_length(json_object_get(b, "thinking"));
		else if (str_eq(t, "toolCall"))
			n += 64 +
			     json_dumpb(json_object_get(b, "arguments"), NULL, 0, JSON_COMPACT);
		else if (str_eq(t, "image"))
			n += 4800; /* an image costs roughly 1,200 tokens */
	}
	return n;
}

long compact_estimate_tokens(const json_t *messages)
{
	size_t i, n = 0;
	json_t *m;

	json_array_foreach(messages, i, m) n += msg_chars(m);
	return (long)(n / 4);
}

long compact_reserve_tokens(const struct config *cfg, long window)
{
	long reserve = (long)config_get_int(cfg, "agents.defaults.compaction.reserveTokensFloor");

	if (reserve <= 0)
		reserve = COMPACT_RESERVE_FLOOR;
	/*
	 * OpenClaw caps the reserve at a quarter of the window
	 * (resolveEffectiveCompactionReserveTokens): without it a model with a
	 * window under 20,000 tokens would compact before every call.
	 */
	if (window > 0 && reserve > window / COMPACT_RESERVE_MAX_RATIO)
		reserve = window / COMPACT_RESERVE_MAX_RATIO;
	return reserve;
}

static void append_text(struct buf *b, const json_t *m)
{
	const char *role = json_string_value(json_object_get(m, "role"));
	const json_t *c = json_object_get(m, "content"), *blk;
	size_t i;

	if (json_is_string(c)) {
		buf_printf(b, "[%s]: %s\n\n", role, json_string_value(c));
		return;
	}
	json_array_foreach(c, i, blk)
	{
		const char *t = json_string_value(json_object_get(blk, "type"));
		if (str_eq(t, "text"))
			buf_printf(b, "[%s]: %s\n\n",
				   str_eq(role, "toolResult") ? "tool result" : role,
				   json_string_value(json_object_get(blk, "text")));
		else if (str_eq(t, "toolCall")) {
			char *args = json_dumps(json_object_get(blk, "arguments"), JSON_COMPACT);
			buf_printf(b, "[assistant called %s]: %s\n\n",
				   json_string_value(json_object_get(blk, "name")),
				   args ? args : "{}");
			free(args);
		}
	}
}

static void compact_done(void *ud, json_t *msg, const struct prov_error *err)
{
	struct agent_run *run = ud;
	struct compaction *c = run->compaction;
	const json_t *blk;
	struct buf sum;
	size_t i;
	json_t *entry;
	char e[256];

	run->compact_call = NULL;
	run->compaction = NULL;
	if (err || run->aborted) {
		json_decref(msg);
		free(c->first_kept);
		free(c);
		if (run->aborted)
			run_compacted(run, false, "aborted");
		else
			run_compacted(run, false, err->message);
		return;
	}
	buf_init(&sum, 1u << 20);
	json_array_foreach(json_object_get(msg, "content"), i, blk)
	{
		if (str_eq(json_string_value(json_object_get(blk, "type")), "text"))
			buf_puts(&sum, json_string_value(json_object_get(blk, "text")));
	}
	json_decref(msg);
	if (!sum.len) {
		buf_release(&sum);
		free(c->first_kept);
		free(c);
		run_compacted(run, false, "the model returned an empty summary");
		return;
	}
	entry = json_pack("{s:s, s:s, s:s, s:I}", "type", "compaction", "summary", sum.p,
			  "firstKeptEntryId", c->first_kept, "tokensBefore",
			  (json_int_t)c->tokens_before);
	buf_release(&sum);
	if (rt_lane_transcript(run->lane, entry, e, sizeof(e)) < 0) {
		free(c->first_kept);
		free(c);
		run_compacted(run, false, e);
		return;
	}
	transcript_sync(&run->lane->tr);
	{
		json_t *se = session_store_get(run->lane->agent->store, run->session_key);
		if (se) {
			json_object_set_new(se, "compactionCount",
					    json_integer(json_integer_value(json_object_get(
								 se, "compactionCount")) +
							 1));
			session_store_save(run->lane->agent->store);
		}
	}
	log_info(AGENT_SUBSYS, "session %s compacted (%ld tokens before, kept from %s)",
		 run->session_key, c->tokens_before, c->first_kept);
	ev_agent(run, "compaction",
		 json_pack("{s:s, s:I}", "phase", "end", "tokensBefore",
			   (json_int_t)c->tokens_before),
		 0);
	free(c->first_kept);
	free(c);
	run_compacted(run, true, NULL);
}

static const struct prov_sink compact_sink = { .done = compact_done };

void compact_start(struct agent_run *run, const char *instructions)
{
	const struct config *cfg = rt_cfg(run->rt);
	struct transcript *t = &run->lane->tr;
	json_t *branch = transcript_branch(t), *e, *msgs = json_array();
	long keep = config_get_int(cfg, "agents.defaults.compaction.keepRecentTokens");
	size_t i, n, cut = 0, start = 0;
	long acc = 0;
	struct buf in;
	struct prov_request rq = { 0 };
	struct prov_error err;
	json_t *req_msgs;
	struct compaction *c;
	const char *prev_summary = NULL;

	run->phase = RUN_COMPACTING;
	if (keep <= 0)
		keep = COMPACT_KEEP_RECENT_TOKENS;
	/* the part after the last compaction is what there is to work with */
	n = json_array_size(branch);
	for (i = n; i-- > 0;) {
		e = json_array_get(branch, i);
		if (str_eq(json_string_value(json_object_get(e, "type")), "compaction")) {
			const char *fk = json_string_value(json_object_get(e, "firstKeptEntryId"));
			size_t j;
			prev_summary = json_string_value(json_object_get(e, "summary"));
			for (j = 0; j < n; j++)
				if (str_eq(json_string_value(json_object_get(
						   json_array_get(branch, j), "id")),
					   fk))
					break;
			start = j < n ? j : i + 1;
			break;
		}
	}
	/* walk back from the end until enough recent history is kept */
	for (i = n; i-- > start;) {
		e = json_array_get(branch, i);
		if (!str_eq(json_string_value(json_object_get(e, "type")), "message"))
			continue;
		acc += (long)msg_chars(json_object_get(e, "message")) / 4;
		if (acc >= keep)
			break;
	}
	cut = i == (size_t)-1 ? start : i;
	/* move the cut to a user message, so no tool result is orphaned */
	while (cut < n) {
		e = json_array_get(branch, cut);
		if (str_eq(json_string_value(json_object_get(e, "type")), "message") &&
		    str_eq(json_string_value(
				   json_object_get(json_object_get(e, "message"), "role")),
			   "user"))
			break;
		cut++;
	}
	if (cut >= n || cut <= start) {
		/* nothing old enough: keep only from the last user message */
		for (cut = n; cut-- > start;) {
			e = json_array_get(branch, cut);
			if (str_eq(json_string_value(json_object_get(e, "type")), "message") &&
			    str_eq(json_string_value(
					   json_object_get(json_object_get(e, "message"), "role")),
				   "user"))
				break;
		}
		if (cut == (size_t)-1 || cut <= start) {
			json_decref(branch);
			json_decref(msgs);
			run_compacted(run, false, "nothing to compact yet");
			return;
		}
	}
	buf_init(&in, COMPACT_MAX_INPUT_CHARS);
	if (prev_summary)
		buf_printf(&in, "<previous-summary>\n%s\n</previous-summary>\n\n", prev_summary);
	buf_puts(&in, "<conversation>\n");
	for (i = start; i < cut; i++) {
		e = json_array_get(branch, i);
		if (str_eq(json_string_value(json_object_get(e, "type")), "message"))
			append_text(&in, json_object_get(e, "message"));
	}
	buf_puts(&in, "</conversation>\n\nSummarise the conversation above");
	if (instructions && *instructions)
		buf_printf(&in, ", paying particular attention to: %s", instructions);
	buf_puts(&in, ".");

	c = xcalloc(1, sizeof(*c));
	c->first_kept =
		xstrdup(json_string_value(json_object_get(json_array_get(branch, cut), "id")));
	{
		json_t *ctx = transcript_context(t);
		c->tokens_before = compact_estimate_tokens(ctx);
		json_decref(ctx);
	}
	run->compaction = c;
	req_msgs = json_pack("[{s:s, s:[{s:s, s:s}], s:I}]", "role", "user", "content", "type",
			     "text", "text", in.p, "timestamp", (json_int_t)time_now_ms());
	buf_release(&in);
	json_decref(branch);
	json_decref(msgs);
	rq.model = &run->model;
	rq.api_key = run->ncands ? run->cands[run->cand_i].key : NULL;
	rq.system = summary_system;
	rq.messages = req_msgs;
	ev_agent(run, "compaction", json_pack("{s:s}", "phase", "start"), 0);
	run->compact_call = prov_call_start(run->rt->http, &rq, &compact_sink, run, &err);
	json_decref(req_msgs);
	if (!run->compact_call) {
		run->compaction = NULL;
		free(c->first_kept);
		free(c);
		run_compacted(run, false, err.message);
	}
}

/* Trim the middle of a long tool result, keeping its head and tail. */
static void soft_trim(json_t *msg, size_t max)
{
	json_t *b;
	size_t i;

	json_array_foreach(json_object_get(msg, "content"), i, b)
	{
		const char *t = json_string_value(json_object_get(b, "text"));
		size_t n = t ? strlen(t) : 0, keep = max / 2;
		char *s;
		if (n <= max)
			continue;
		s = xasprintf("%.*s\n\n[… %zu characters of old tool output pruned …]\n\n%s",
			      (int)keep, t, n - 2 * keep, t + n - keep);
		json_object_set_new(b, "text", json_string(s));
		free(s);
	}
}

void compact_prune_context(const struct config *cfg, json_t *context, const char *provider)
{
	const char *mode = config_get_str(cfg, "agents.defaults.contextPruning.mode");
	const char *ttl_s = config_get_str(cfg, "agents.defaults.contextPruning.ttl");
	int64_t ttl = 5 * 60000, now = time_now_ms();
	size_t i, n = json_array_size(context), last_user = n;
	json_t *m;

	if (!mode)
		mode = str_eq(provider, "anthropic") ? "cache-ttl" : "off";
	if (strcmp(mode, "cache-ttl"))
		return;
	if (ttl_s)
		time_parse_duration(ttl_s, 60000, &ttl);
	/* the current turn (from the last user message) is never pruned */
	for (i = n; i-- > 0;)
		if (str_eq(json_string_value(json_object_get(json_array_get(context, i), "role")),
			   "user")) {
			last_user = i;
			break;
		}
	for (i = 0; i < last_user; i++) {
		m = json_array_get(context, i);
		if (!str_eq(json_string_value(json_object_get(m, "role")), "toolResult"))
			continue;
		if (now - json_integer_value(json_object_get(m, "timestamp")) < ttl)
			continue;
		if (json_object_get(m, "__pruned"))
			continue;
		soft_trim(m, 4000);
	}
}
