/*
 * memflush.c - the pre-compaction memory flush turn; see memflush.h.
 *
 * The flush is a phase of the user's run rather than a run of its own: the
 * lane is already held by that run, and the flush must come before its
 * model call. memflush_start swaps the run's conversation state (system
 * prompt, context, tools, usage, attempts) for the flush's, marks the run
 * quiet (no events, no transcript writes: OpenClaw runs the flush on a
 * detached copy of the session under its own run id, which no client
 * shows), and run.c drives the ordinary model/tool loop. When that loop
 * ends, run_finish hands over to memflush_finish, which records the
 * outcome in the session entry and swaps the user's state back.
 */
#include "agent/memflush.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/internal.h"
#include "config/config.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "core/jsonx.h"
#include "core/timeutil.h"
#include "session/store.h"
#include "tools/fsguard.h"
#include "tools/policy.h"
#include "tools/tool.h"

#define MF_KEY "agents.defaults.compaction.memoryFlush"

/* The user's run state, put aside while the flush turn runs. */
struct memflush {
	char *rel; /* memory/YYYY-MM-DD.md */
	char *system;
	json_t *context, *tools, *usage, *last_usage, *attempts, *successful_tools;
	bool overflow_retried, silent;
	int assistant_turns, tool_rounds;
	size_t chain_i;
	long long compactions; /* the entry's compactionCount when the flush began */
};

/* ==== the pure parts ==== */

long memflush_threshold(long window, long reserve, long soft)
{
	long room = window - (reserve > 0 ? reserve : 0);

	if (window <= 0 || room <= 0)
		return 0;
	if (soft < 0)
		soft = 0;
	if (soft > room / 2)
		soft = room / 2;
	return room - soft;
}

bool memflush_due(long tokens, long threshold, long long transcript_bytes, long long force_bytes,
		  long long compactions, long long flushed_at)
{
	bool near = tokens > 0 && threshold > 0 && tokens >= threshold;
	bool big = force_bytes > 0 && transcript_bytes >= force_bytes;

	if (compactions < 0)
		compactions = 0;
	return (near || big) && flushed_at != compactions;
}

long long memflush_parse_bytes(const json_t *v)
{
	static const struct {
		const char *suffix;
		long long mul;
	} units[] = {
		{ "kb", 1024LL },
		{ "k", 1024LL },
		{ "mb", 1024LL * 1024 },
		{ "m", 1024LL * 1024 },
		{ "gb", 1024LL * 1024 * 1024 },
		{ "g", 1024LL * 1024 * 1024 },
		{ "b", 1 },
		{ "", 1 },
	};
	const char *s;
	char *end;
	double n;
	size_t i;

	if (json_is_integer(v))
		return json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
	if (json_is_real(v))
		return json_real_value(v) >= 0 && json_real_value(v) < 9e15
			       ? (long long)json_real_value(v)
			       : -1;
	if (!(s = json_string_value(v)))
		return -1;
	while (*s == ' ')
		s++;
	errno = 0;
	n = strtod(s, &end);
	if (end == s || errno || n < 0 || n > 9e15)
		return -1;
	while (*end == ' ')
		end++;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcasecmp(end, units[i].suffix)) {
			double r = n * (double)units[i].mul;
			return r < 9e15 ? (long long)r : -1;
		}
	}
	return -1;
}

/*
 * OpenClaw's wording, so a model tuned on its flush behaves the same here.
 * The target hint, the read-only hint and the append-only hint must all be
 * present: they are what keeps a flush from clobbering the workspace.
 */
char *memflush_prompt(const char *date, const char *time_line)
{
	return xasprintf(
		"Pre-compaction memory flush. Store durable memories only in memory/%s.md "
		"(create memory/ if needed). Treat workspace bootstrap/reference files such as "
		"MEMORY.md, DREAMS.md, SOUL.md, and AGENTS.md as read-only during this flush; "
		"never "
		"overwrite, replace, or edit them. If memory/%s.md already exists, APPEND new "
		"content only and do not overwrite existing entries. Do NOT create timestamped "
		"variant files (e.g., %s-HHMM.md); always use the canonical %s.md filename. If "
		"nothing to store, reply with " MEMFLUSH_SILENT_TOKEN ".\n%s",
		date, date, date, date, time_line);
}

char *memflush_system_prompt(const char *date)
{
	return xasprintf(
		"Pre-compaction memory flush turn. The session is near auto-compaction; capture "
		"durable memories to disk. Store durable memories only in memory/%s.md (create "
		"memory/ if needed). Treat workspace bootstrap/reference files such as MEMORY.md, "
		"DREAMS.md, SOUL.md, and AGENTS.md as read-only during this flush; never "
		"overwrite, "
		"replace, or edit them. If memory/%s.md already exists, APPEND new content only "
		"and "
		"do not overwrite existing entries. You may reply, but "
		"usually " MEMFLUSH_SILENT_TOKEN " is correct.",
		date, date);
}

static const char *ordinal(int d)
{
	if (d % 100 >= 11 && d % 100 <= 13)
		return "th";
	return d % 10 == 1 ? "st" : d % 10 == 2 ? "nd" : d % 10 == 3 ? "rd" : "th";
}

char *memflush_time_line(int64_t ms, const char *tz, char date[16])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm, utc;
	char wd[16], mon[16], hm[8], ref[24];

	time_in_zone(ms, tz, &tm);
	gmtime_r(&t, &utc);
	strftime(date, 16, "%Y-%m-%d", &tm);
	strftime(wd, sizeof(wd), "%A", &tm);
	strftime(mon, sizeof(mon), "%B", &tm);
	strftime(hm, sizeof(hm), "%H:%M", &tm);
	strftime(ref, sizeof(ref), "%Y-%m-%d %H:%M", &utc);
	return xasprintf("Current time: %s, %s %d%s, %d - %s (%s)\nReference UTC: %s UTC", wd, mon,
			 tm.tm_mday, ordinal(tm.tm_mday), tm.tm_year + 1900, hm, tz, ref);
}

/* ==== deciding ==== */

/* A sandbox whose workspace is not mounted read-write: nothing could be stored. */
static bool workspace_read_only(const struct agent_run *run, const struct config *cfg)
{
	const char *mode = config_get_str(cfg, "agents.defaults.sandbox.mode");
	const char *access = config_get_str(cfg, "agents.defaults.sandbox.workspaceAccess");
	bool sandboxed = str_eq(mode, "all") ||
			 (str_eq(mode, "non-main") && !str_ends_with(run->session_key, ":main"));

	return sandboxed && !str_eq(access, "rw");
}

/*
 * The size of what the model sees of the session, as OpenClaw measures it
 * for forceFlushTranscriptBytes: the context after the last compaction,
 * not the transcript file, which keeps everything compacted away and
 * would force a flush in every cycle once it grew past the limit.
 */
static long long context_bytes(const struct agent_run *run)
{
	return (long long)json_dumpb(run->context, NULL, 0, JSON_COMPACT);
}

/* mkdir -p memory/ and create the file, so the flush has a target to append to. */
static int ensure_target(const char *workspace, const char *rel, char *err, size_t errlen)
{
	char *abs = fs_join(workspace, rel), *dir = fs_dirname(abs);
	int fd, rc = -1;

	if (fs_mkdir_p(dir, 0755) < 0) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	fd = open(abs, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", abs, strerror(errno));
		goto out;
	}
	close(fd);
	rc = 0;
out:
	free(dir);
	free(abs);
	return rc;
}

static bool flush_tool_allowed(const char *name, void *arg)
{
	return (!strcmp(name, "read") || !strcmp(name, "write")) && tool_policy_allows(arg, name);
}

/* read and write only; write's description says where it may append. */
static json_t *flush_tools(struct agent_run *run, const char *rel)
{
	json_t *specs = tool_specs(flush_tool_allowed, run->policy), *s;
	size_t i;

	json_array_foreach(specs, i, s)
	{
		if (str_eq(json_string_value(json_object_get(s, "name")), "write")) {
			/* the spec objects are shared with every run: change a copy */
			json_t *c = json_deep_copy(s);
			char *d = xasprintf(
				"%s During memory flush, this tool may only append to %s.",
				json_string_value(json_object_get(s, "description")), rel);
			json_object_set_new(c, "description", json_string(d));
			free(d);
			json_array_set_new(specs, i, c);
		}
	}
	return specs;
}

static void flush_record_failure(struct agent_run *run, json_t *entry, const char *why)
{
	long long n = session_entry_flush_failed(entry);

	log_warn(AGENT_SUBSYS, "session %s: memory flush failed (attempt %lld/%d): %s",
		 run->session_key, n, MEMFLUSH_MAX_FAILURES, why);
	if (n >= MEMFLUSH_MAX_FAILURES) {
		log_warn(AGENT_SUBSYS,
			 "session %s: memory flush skipped for this compaction cycle after %lld "
			 "failures",
			 run->session_key, n);
		session_entry_flush_succeeded(
			entry, json_integer_value(json_object_get(entry, "compactionCount")));
	}
	session_store_save(run->lane->agent->store);
}

bool memflush_start(struct agent_run *run)
{
	const struct config *cfg = rt_cfg(run->rt);
	json_t *entry = session_store_get(run->lane->agent->store, run->session_key);
	json_t *ctx, *soft_v, *m;
	long window, reserve, soft, threshold, tokens;
	long long compactions, force, bytes = 0;
	struct memflush *f;
	char *tz, *time_line, *prompt, *sys, date[16], err[256];
	size_t i, n;

	if (!entry || !config_get_bool(cfg, MF_KEY ".enabled"))
		return false;
	/*
	 * Nothing said before this message, nothing to remember: OpenClaw, too,
	 * has no token count to act on for a session without history.
	 */
	n = json_array_size(run->context);
	if (n <= 1)
		return false;
	/* OpenClaw's skips: heartbeats, incognito sessions, a workspace that cannot be written */
	if (run->heartbeat || json_is_true(json_object_get(entry, "incognito")) ||
	    workspace_read_only(run, cfg))
		return false;
	if (!tool_policy_allows(run->policy, "write")) {
		log_debug(AGENT_SUBSYS,
			  "session %s: no memory flush, the write tool is not allowed",
			  run->session_key);
		return false;
	}
	window = run->model.context_window ? run->model.context_window : 128000;
	reserve = compact_reserve_tokens(cfg, window);
	soft_v = config_get(cfg, MF_KEY ".softThresholdTokens");
	soft = json_is_integer(soft_v) ? (long)json_integer_value(soft_v) : MEMFLUSH_SOFT_TOKENS;
	threshold = memflush_threshold(window, reserve, soft);
	tokens = compact_estimate_tokens(run->context);
	force = memflush_parse_bytes(config_get(cfg, MF_KEY ".forceFlushTranscriptBytes"));
	if (force < 0)
		force = MEMFLUSH_FORCE_BYTES;
	/* the exact size is a full dump: only when even the cheap bound reaches the limit */
	if (force > 0 && tokens < threshold && json_dump_size_max(run->context) >= (size_t)force)
		bytes = context_bytes(run);
	compactions = json_integer_value(json_object_get(entry, "compactionCount"));
	if (!memflush_due(tokens, threshold, bytes, force, compactions,
			  session_entry_flush_count(entry)))
		return false;

	tz = time_user_zone(config_get_str(cfg, "agents.defaults.userTimezone"));
	time_line = memflush_time_line(time_now_ms(), tz, date);
	free(tz);
	f = xcalloc(1, sizeof(*f));
	f->rel = xasprintf("memory/%s.md", date);
	if (ensure_target(run->lane->agent->workspace, f->rel, err, sizeof(err)) < 0) {
		flush_record_failure(run, entry, err);
		free(time_line);
		free(f->rel);
		free(f);
		return false;
	}
	log_info(AGENT_SUBSYS,
		 "session %s: memory flush (~%ld tokens, threshold %ld, compaction %lld) into %s",
		 run->session_key, tokens, threshold, compactions, f->rel);
	/* the status is the run's own; everything after it belongs to the flush */
	ev_agent(run, "run_status", json_pack("{s:s}", "phase", "memory_flushing"), 0);
	if (run->chat)
		ev_chat(run, "status", json_pack("{s:s}", "phase", "memory_flushing"));

	f->compactions = compactions;
	f->chain_i = run->chain_i;
	f->system = run->system;
	sys = memflush_system_prompt(date);
	run->system = xasprintf("%s\n\n%s", f->system ? f->system : "", sys);
	free(sys);
	/* the session as it stood before the user's new message, then the flush prompt */
	f->context = run->context;
	ctx = json_array();
	n = json_array_size(f->context);
	json_array_foreach(f->context, i, m)
	{
		if (i + 1 == n && str_eq(json_string_value(json_object_get(m, "role")), "user"))
			break;
		json_array_append(ctx, m);
	}
	prompt = memflush_prompt(date, time_line);
	json_array_append_new(ctx, json_pack("{s:s, s:[{s:s, s:s}], s:I}", "role", "user",
					     "content", "type", "text", "text", prompt, "timestamp",
					     (json_int_t)time_now_ms()));
	free(prompt);
	free(time_line);
	run->context = ctx;
	f->tools = run->tools;
	run->tools = flush_tools(run, f->rel);
	f->usage = run->usage;
	run->usage = json_pack("{s:i, s:i, s:i, s:i, s:i}", "input", 0, "output", 0, "cacheRead", 0,
			       "cacheWrite", 0, "total", 0);
	f->last_usage = run->last_usage;
	run->last_usage = NULL;
	f->attempts = run->attempts;
	run->attempts = json_array();
	f->successful_tools = run->successful_tools;
	run->successful_tools = json_array();
	f->assistant_turns = run->assistant_turns;
	f->tool_rounds = run->tool_rounds;
	/* an overflow during the flush ends the flush; compaction is the user's turn's */
	f->overflow_retried = run->overflow_retried;
	run->overflow_retried = true;
	f->silent = run->silent;
	run->silent = true;
	run->flush = f;
	return true;
}

/* ==== ending ==== */

static void flush_restore(struct agent_run *run)
{
	struct memflush *f = run->flush;

	free(run->system);
	run->system = f->system;
	json_decref(run->context);
	run->context = f->context;
	json_decref(run->tools);
	run->tools = f->tools;
	json_decref(run->usage);
	run->usage = f->usage;
	json_decref(run->last_usage);
	run->last_usage = f->last_usage;
	json_decref(run->attempts);
	run->attempts = f->attempts;
	json_decref(run->successful_tools);
	run->successful_tools = f->successful_tools;
	json_decref(run->final_message);
	run->final_message = NULL;
	free(run->loop_stop);
	run->loop_stop = NULL;
	run->assistant_turns = f->assistant_turns;
	run->tool_rounds = f->tool_rounds;
	run->overflow_retried = f->overflow_retried;
	run->silent = f->silent;
	buf_reset(&run->text);
	free(f->rel);
	free(f);
	run->flush = NULL;
}

bool memflush_finish(struct agent_run *run, size_t *chain_i)
{
	json_t *entry = session_store_get(run->lane->agent->store, run->session_key);
	const char *t = run->text.p ? run->text.p : "";

	*chain_i = run->flush->chain_i;
	if (run->aborted) {
		flush_restore(run);
		return false;
	}
	if (run->failed) {
		flush_record_failure(run, entry, run->err.message);
		run->failed = false;
		memset(&run->err, 0, sizeof(run->err));
	} else {
		while (*t == ' ' || *t == '\n')
			t++;
		log_info(AGENT_SUBSYS, "session %s: memory flush done (%s)", run->session_key,
			 !*t || str_starts_with(t, MEMFLUSH_SILENT_TOKEN) ? "silent"
									  : "reply dropped");
		session_entry_flush_succeeded(entry, run->flush->compactions);
		session_store_save(run->lane->agent->store);
	}
	free(run->stop_reason);
	run->stop_reason = NULL;
	flush_restore(run);
	return true;
}

void memflush_free(struct agent_run *run)
{
	if (run->flush)
		flush_restore(run);
}

/* ==== the append-only write ==== */

struct mf_job {
	struct fsjob j;
	char *path; /* as the model wrote it */
	char *rel;  /* the one file it may append to */
	char *content;
	size_t len;
};

static void mf_job_release(struct fsjob *j)
{
	struct mf_job *w = (struct mf_job *)j;

	free(w->path);
	free(w->rel);
	free(w->content);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static void mf_append_work(struct fsjob *j)
{
	struct mf_job *w = (struct mf_job *)j;
	char err[512], *abs = NULL, *want = NULL, *dir = NULL, last = '\n';
	struct stat st;
	int fd = -1;

	if (w->path[0] == '@' ||
	    fsguard_resolve(j->workspace, w->path, true, 0, &abs, err, sizeof(err)) < 0 ||
	    fsguard_resolve(j->workspace, w->rel, true, 0, &want, err, sizeof(err)) < 0 ||
	    strcmp(abs, want)) {
		fsjob_fail(j, "Memory flush writes are restricted to %s; use that path only.",
			   w->rel);
		goto out;
	}
	dir = fs_dirname(want);
	if (fs_mkdir_p(dir, 0755) < 0) {
		fsjob_fail(j, "Cannot create directory for %s: %s", w->rel, strerror(errno));
		goto out;
	}
	fd = open(want, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fsjob_fail(j, "Cannot write %s: %s", w->rel, strerror(errno));
		goto out;
	}
	if (st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
		last = '\n';
	/* entries stay on lines of their own */
	if ((last != '\n' && w->len && w->content[0] != '\n' && write_all(fd, "\n", 1) < 0) ||
	    write_all(fd, w->content, w->len) < 0 || fsync(fd) < 0) {
		fsjob_fail(j, "Cannot write %s: %s", w->rel, strerror(errno));
		goto out;
	}
	fsjob_text(j, "Appended content to %s.", w->rel);
out:
	if (fd >= 0)
		close(fd);
	free(dir);
	free(want);
	free(abs);
}

bool memflush_tool(struct agent_run *run, struct tool_call *c)
{
	const char *name = c->def->name, *path, *content;
	struct mf_job *w;

	if (!strcmp(name, "read"))
		return false;
	if (strcmp(name, "write")) {
		tool_call_text(c, true,
			       "Tool %s is not available here: memory-triggered compaction runs "
			       "expose only read and append-only write",
			       name);
		return true;
	}
	path = fsguard_arg_str(c, "path", "file_path");
	content = json_string_value(json_object_get(c->args, "content"));
	if (!path || !*path || !content) {
		tool_call_text(c, true, "Missing required parameter: %s",
			       !path || !*path ? "path" : "content");
		return true;
	}
	w = (struct mf_job *)fsjob_new(c, sizeof(*w), mf_append_work);
	w->j.release = mf_job_release;
	w->path = xstrdup(path);
	w->rel = xstrdup(run->flush->rel);
	w->len = json_string_length(json_object_get(c->args, "content"));
	w->content = xmalloc(w->len + 1);
	memcpy(w->content, content, w->len + 1);
	fsjob_start(&w->j);
	return true;
}
