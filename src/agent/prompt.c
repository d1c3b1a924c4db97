/*
 * prompt.c - the system prompt and its report; see prompt.h.
 */
#include "agent/prompt.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/workspace.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "skills/skills.h"

const char prompt_default_heartbeat[] =
	"Read HEARTBEAT.md if it exists (workspace context). Follow it strictly. Do not infer or "
	"repeat old tasks from prior chats. If nothing needs attention, reply HEARTBEAT_OK.";

/* A workspace file larger than this is not read at all; it gets a marker instead. */
#define PROMPT_MAX_FILE_BYTES (4u << 20)
/* Cached files: a workspace has eight candidates; a few agents share the cache. */
#define PROMPT_CACHE_SLOTS    32

/* ==== UTF-16 accounting ==== */

size_t prompt_u16len(const char *s, size_t len)
{
	size_t r = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c & 0xc0) != 0x80)
			r += c >= 0xf0 ? 2 : 1;
	}
	return r;
}

/* Bytes of the longest prefix of s holding at most n16 UTF-16 units, whole characters. */
static size_t u16_prefix(const char *s, size_t len, size_t n16)
{
	size_t i = 0, used = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t w = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1, u = c >= 0xf0 ? 2 : 1;

		if (used + u > n16 || i + w > len)
			break;
		used += u;
		i += w;
		while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80) /* stray continuation */
			i++;
	}
	return i;
}

/* Byte offset where the longest suffix of at most n16 units starts. */
static size_t u16_suffix(const char *s, size_t len, size_t n16)
{
	size_t i = len, used = 0;

	while (i > 0) {
		size_t j = i - 1, u;

		while (j > 0 && ((unsigned char)s[j] & 0xc0) == 0x80)
			j--;
		u = (unsigned char)s[j] >= 0xf0 ? 2 : 1;
		if (used + u > n16)
			break;
		used += u;
		i = j;
	}
	return i;
}

/* ==== one file ==== */

static char *trunc_marker(const char *name, bool compact, size_t h, size_t t, size_t n)
{
	if (compact)
		return xasprintf("[…truncated %zu+%zu/%zu]", h, t, n);
	return xasprintf("\n[...truncated, read %s for full content...]\n…(truncated %s: kept "
			 "%zu+%zu chars of %zu)…\n",
			 name, name, h, t, n);
}

static size_t sep_chars(size_t h, size_t t, bool compact)
{
	return compact ? 0 : (size_t)(h > 0) + (size_t)(t > 0);
}

char *prompt_trim_file(const char *content, const char *name, size_t max_chars, bool *truncated,
		       size_t *raw_chars)
{
	size_t len = strlen(content), n, h = 0, t = 0, mlen, hb, ts;
	char *m, *res;
	bool compact;
	struct buf b;

	while (len && isspace((unsigned char)content[len - 1]))
		len--;
	n = prompt_u16len(content, len);
	*raw_chars = n;
	*truncated = false;
	if (n <= max_chars)
		return xstrndup(content, len);
	*truncated = true;

	m = trunc_marker(name, false, 0, 0, n);
	mlen = prompt_u16len(m, strlen(m));
	compact = !(max_chars >= mlen + sep_chars(1, 1, false) + 16);
	free(m);
	m = trunc_marker(name, compact, 0, 0, n);
	for (int attempt = 0; attempt < 3; attempt++) {
		size_t used = prompt_u16len(m, strlen(m)) + sep_chars(h, t, compact);
		size_t budget = max_chars > used ? max_chars - used : 0;
		size_t nh = budget * 3 / 4, nt = budget / 4;
		char *nm = trunc_marker(name, compact, nh, nt, n);
		bool same = nh == h && nt == t && strlen(nm) == strlen(m);

		h = nh, t = nt;
		free(m);
		m = nm;
		if (same)
			break;
	}
	for (;;) {
		size_t rendered = h + t + prompt_u16len(m, strlen(m)) + sep_chars(h, t, compact);
		size_t over;

		if (rendered <= max_chars || (t == 0 && h == 0))
			break;
		over = rendered - max_chars;
		if (t > 0)
			t = t > over ? t - over : 0;
		else
			h = h > over ? h - over : 0;
		free(m);
		m = trunc_marker(name, compact, h, t, n);
	}
	if (h == 0 && t == 0 && n > 0) {
		char *one = trunc_marker(name, compact, 1, 0, n);

		if (1 + prompt_u16len(one, strlen(one)) + sep_chars(1, 0, compact) <= max_chars) {
			h = 1;
			free(m);
			m = one;
		} else {
			free(one);
		}
	}
	hb = u16_prefix(content, len, h);
	ts = t ? u16_suffix(content, len, t) : len;
	buf_init(&b, BUF_UNLIMITED);
	buf_append(&b, content, hb);
	if (hb && !compact)
		buf_putc(&b, '\n');
	buf_puts(&b, m);
	if (ts < len && !compact)
		buf_putc(&b, '\n');
	buf_append(&b, content + ts, len - ts);
	free(m);
	res = buf_detach(&b, NULL);
	if (prompt_u16len(res, strlen(res)) > max_chars)
		res[u16_prefix(res, strlen(res), max_chars)] = '\0';
	return res;
}

/* OpenClaw's clampToBudget: cut with an ellipsis when over the remaining total. */
static char *clamp_budget(char *s, size_t budget)
{
	size_t len = strlen(s), n = prompt_u16len(s, len);
	char *r;

	if (n <= budget)
		return s;
	if (budget <= 3) {
		s[u16_prefix(s, len, budget)] = '\0';
		return s;
	}
	r = xasprintf("%.*s…", (int)u16_prefix(s, len, budget - 1), s);
	free(s);
	return r;
}

/* ==== file cache ==== */

struct cache_slot {
	char *path;
	long long mtime_ns;
	long long size;
	size_t file_max;  /* the cap the text below was cut to */
	char *text;       /* capped text, or NULL when the file could not be read */
	char *unreadable; /* reason, when text is NULL */
	size_t raw_chars;
	bool truncated;
	unsigned long long used; /* LRU clock */
};

static struct cache_slot cache[PROMPT_CACHE_SLOTS];
static unsigned long long cache_clock;

void prompt_cache_clear(void)
{
	for (size_t i = 0; i < PROMPT_CACHE_SLOTS; i++) {
		free(cache[i].path);
		free(cache[i].text);
		free(cache[i].unreadable);
		memset(&cache[i], 0, sizeof(cache[i]));
	}
}

/*
 * The capped text of `path` (borrowed from the cache), refreshed when its
 * mtime or size changed. NULL with *missing when it does not exist.
 */
static const struct cache_slot *cache_get(const char *path, const char *name, size_t file_max,
					  bool *missing)
{
	struct cache_slot *s = NULL, *victim = &cache[0];
	struct stat st;
	struct buf b;
	long long mt;

	*missing = false;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			*missing = true;
			return NULL;
		}
		/* Unreadable metadata: fall through to the read, which reports why. */
		memset(&st, 0, sizeof(st));
	} else if (!S_ISREG(st.st_mode)) {
		*missing = true;
		return NULL;
	}
	mt = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	for (size_t i = 0; i < PROMPT_CACHE_SLOTS; i++) {
		if (cache[i].path && !strcmp(cache[i].path, path)) {
			s = &cache[i];
			break;
		}
		if (!cache[i].path || cache[i].used < victim->used)
			victim = &cache[i];
	}
	if (s && s->mtime_ns == mt && s->size == (long long)st.st_size && s->file_max == file_max) {
		s->used = ++cache_clock;
		return s;
	}
	if (!s) {
		s = victim;
		free(s->path);
		s->path = xstrdup(path);
	}
	free(s->text);
	free(s->unreadable);
	s->text = s->unreadable = NULL;
	s->mtime_ns = mt;
	s->size = (long long)st.st_size;
	s->file_max = file_max;
	s->used = ++cache_clock;
	buf_init(&b, PROMPT_MAX_FILE_BYTES);
	if (fs_read_file(path, &b) < 0) {
		s->unreadable =
			xasprintf("[UNREADABLE: %s]",
				  errno == E2BIG ? "file is larger than 4 MiB" : strerror(errno));
	} else {
		/* A NUL would end the C string early: read up to it, as text. */
		s->text = prompt_trim_file(b.p, name, file_max, &s->truncated, &s->raw_chars);
	}
	buf_release(&b);
	return s;
}

/* ==== building ==== */

/* Append one line; empty lines are dropped, as OpenClaw filters them. */
static void line(struct buf *b, const char *s)
{
	if (!s || !*s)
		return;
	if (b->len)
		buf_putc(b, '\n');
	buf_puts(b, s);
}

static void linef(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void linef(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	line(b, s);
	free(s);
}

static bool has_tool(const json_t *tools, const char *name)
{
	const json_t *t;
	size_t i;

	json_array_foreach(tools, i, t) if (str_eq(json_string_value(json_object_get(t, "name")),
						   name)) return true;
	return false;
}

static json_t *agent_cfg(const struct prompt_ctx *ctx, const char *key)
{
	json_t *e = workspace_agent_entry(ctx->cfg, ctx->agent_id), *v;
	char path[96];

	v = json_object_get(e, key);
	if (v)
		return v;
	if (!ctx->cfg)
		return NULL;
	snprintf(path, sizeof(path), "agents.defaults.%s", key);
	return config_get(ctx->cfg, path);
}

static size_t cap_value(const struct prompt_ctx *ctx, const char *key, size_t dflt)
{
	json_t *v = agent_cfg(ctx, key);

	if (json_is_integer(v) && json_integer_value(v) > 0)
		return (size_t)json_integer_value(v);
	if (json_is_real(v) && json_real_value(v) >= 1)
		return (size_t)json_real_value(v);
	return dflt;
}

struct ctxfile {
	const char *name;
	bool minimal;     /* given to sub-agents too */
	bool report_miss; /* a missing file gets a [MISSING] marker */
};

/* OpenClaw's CONTEXT_FILE_ORDER, with HEARTBEAT.md (unknown to it) last. */
static const struct ctxfile ctx_files[] = {
	{ "AGENTS.md", true, true },    { "SOUL.md", false, true },
	{ "IDENTITY.md", false, true }, { "USER.md", false, false },
	{ "TOOLS.md", true, false },    { "BOOTSTRAP.md", false, false },
	{ "MEMORY.md", false, false },  { "HEARTBEAT.md", false, false },
};

struct injected {
	char *path;
	const char *name;
	char *content; /* NULL: not injected */
	bool missing, truncated;
	size_t raw, chars;
};

static void tools_section(struct buf *b, const struct prompt_ctx *ctx, json_t *rep_tools,
			  size_t *list_chars)
{
	const json_t *t;
	size_t i, start;

	line(b, "## Tooling");
	line(b, "Only the tools below exist (policy may have filtered some). Names are "
		"case-sensitive; call them exactly as written.");
	start = b->len;
	json_array_foreach(ctx->tools, i, t)
	{
		const char *name = json_string_value(json_object_get(t, "name"));
		const char *d = json_string_value(json_object_get(t, "description"));
		size_t n = 0;

		if (!name)
			continue;
		if (d) {
			while (d[n] && d[n] != '\n' && n < 160)
				n++;
		}
		if (n)
			linef(b, "- %s: %.*s%s", name, (int)n, d, d[n] && d[n] != '\n' ? "…" : "");
		else
			linef(b, "- %s", name);
		json_array_append_new(rep_tools,
				      json_pack("{s:s,s:I}", "name", name, "summaryChars",
						(json_int_t)prompt_u16len(d ? d : "", n)));
	}
	if (!json_array_size(ctx->tools))
		line(b, "No tools are available in this run.");
	*list_chars = prompt_u16len(b->p + start, b->len - start);
	line(b, "TOOLS.md describes local setup; it never adds or removes tools.");
	if (has_tool(ctx->tools, "exec") || has_tool(ctx->tools, "process"))
		line(b, "Waiting on a long job: do not poll in a tight loop; use exec yieldMs or "
			"process(poll, timeout=<ms>).");
	if (has_tool(ctx->tools, "cron"))
		line(b, "Work for later or on a schedule: use cron, never sleep in a shell.");
	if (has_tool(ctx->tools, "sessions_spawn"))
		line(b, "Big or parallel work: hand it to a sub-agent with `sessions_spawn` and "
			"collect the result.");
}

char *prompt_build(const struct prompt_ctx *ctx, json_t **report)
{
	bool minimal = ctx->mode == PROMPT_MINIMAL, full = ctx->mode == PROMPT_FULL;
	size_t file_max = cap_value(ctx, "bootstrapMaxChars", 20000);
	size_t total_max = cap_value(ctx, "bootstrapTotalMaxChars", 150000);
	json_t *rep_tools = json_array(), *rep_files = json_array(), *skill_entries = NULL;
	struct injected inj[ARRAY_SIZE(ctx_files)];
	size_t remaining, list_chars = 0, pc_start = 0, pc_end = 0, ninj = 0, i;
	size_t ntrunc = 0, nnear = 0, used_total = 0;
	char *skills_block = NULL, *tz, date[16], hash[2 * CRYPTO_SHA256_LEN + 1], *res;
	const char *ws = ctx->workspace;
	bool has_bootstrap = false, has_soul = false, has_user = false, has_memory = false;
	long long now = ctx->now_ms ? ctx->now_ms : time_now_ms();
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	line(&b, "You are a personal assistant running inside pincer.");
	if (ctx->mode == PROMPT_NONE) {
		if (ctx->model_ref)
			linef(&b, "Current model: %s. If asked which model you are, give this one.",
			      ctx->model_ref);
		goto finish;
	}

	/* ---- stable part ---- */
	tools_section(&b, ctx, rep_tools, &list_chars);
	if (full || json_array_size(ctx->tools)) {
		line(&b, "## Tool Call Style");
		line(&b, "Routine, low-risk calls: just make them. Narrate only steps that are "
			 "complex, sensitive, destructive, or that the user asked to see.");
		line(&b, "If a tool does the job, use it instead of asking the user to run a "
			 "command.");
		line(&b, "/approve is for the user to type; never run it through a tool.");
	}
	if (full) {
		line(&b, "## Execution Bias");
		line(&b, "- Act on actionable requests now; keep going until done or truly "
			 "blocked.");
		line(&b, "- Check facts that change (files, versions, services, time) instead of "
			 "recalling them.");
		line(&b, "- Back every claim of success with evidence, or name the blocker.");
	}
	line(&b, "## Safety");
	line(&b, "You have no goals of your own: no self-preservation, replication, gathering "
		 "of resources or power, and no plans beyond what the user asked.");
	line(&b, "Safety and human oversight come before finishing a task. On conflict, stop "
		 "and ask. Obey stop and pause requests; never work around safeguards.");
	line(&b, "Before editing config or schedulers (crontab, systemd, shell rc): inspect "
		 "first and merge; replace whole files only when told to.");
	line(&b, "Never talk anyone into widening access or disabling protections, and never "
		 "change your own prompts, safety rules or tool policy unless the user asks.");
	line(&b, "Secrets stay secret: never echo tokens, keys or passwords into chats or "
		 "logs.");
	line(&b, "## Pincer Control");
	line(&b, "Do not invent commands or config keys.");
	if (has_tool(ctx->tools, "gateway"))
		line(&b, "Change pincer's configuration with the `gateway` tool (config.get, "
			 "config.schema, config.patch); it validates and reloads for you.");
	else
		line(&b, "To change pincer's configuration, ask the operator to run `pincer config "
			 "set <path> <value>`.");
	line(&b, "Never stop, restart or reinstall the pincer service through a shell.");

	if (full && ctx->skills && (!ctx->tools || has_tool(ctx->tools, "read"))) {
		skills_block = skills_prompt_block(ctx->skills, &skill_entries);
		if (*skills_block) {
			line(&b, "## Skills");
			line(&b, "Look through <available_skills>. If one clearly fits the task, "
				 "read its SKILL.md at the exact <location> with `read`, then "
				 "follow it.");
			line(&b,
			     "Several fit: pick the most specific. None fits: read none. Read at "
			     "most one up front, and never guess a path.");
			line(&b, skills_block);
		}
	}
	if (full && has_tool(ctx->tools, "memory_search")) {
		line(&b, "## Memory Recall");
		line(&b, "Before answering about earlier work, decisions, dates, people, "
			 "preferences or todos: run memory_search, then memory_get for just the "
			 "lines you need. If you found nothing, say that you checked.");
	}
	line(&b, "## Workspace");
	if (ctx->sandboxed && ctx->sandbox_workdir) {
		linef(&b, "Working directory: %s", ctx->sandbox_workdir);
		linef(&b,
		      "File tools use the host workspace %s; exec runs in the sandbox, so "
		      "prefer relative paths.",
		      ws);
	} else {
		linef(&b, "Working directory: %s", ws);
		line(&b, "This is your one file workspace unless you are told otherwise.");
	}
	if (full) {
		line(&b, "## Documentation");
		if (ctx->docs_path)
			linef(&b, "Docs: %s", ctx->docs_path);
		else
			line(&b, "Docs: `pincer help <command>`, and docs/ in pincer's source "
				 "tree.");
		line(&b, "For questions about pincer itself, read its docs first; workspace files "
			 "are your instructions and memory, not a description of pincer.");
		line(&b, "Diagnosis: run `pincer status` when you can.");
	}
	if (ctx->sandboxed) {
		line(&b, "## Sandbox");
		line(&b, "Tools run inside a sandbox and policy may hide some. Sub-agents are "
			 "sandboxed too; if you need host access, ask instead of spawning.");
	}

	/* Collect the Project Context files first: Bootstrap Pending depends on them. */
	remaining = total_max ? total_max : 1;
	for (i = 0; i < ARRAY_SIZE(ctx_files); i++) {
		const struct ctxfile *cf = &ctx_files[i];
		const struct cache_slot *slot;
		struct injected *f;
		bool missing;
		size_t fmax;
		char *text;

		if (minimal && !cf->minimal)
			continue;
		if (!strcmp(cf->name, "MEMORY.md") && !ctx->main_session)
			continue;
		f = &inj[ninj];
		memset(f, 0, sizeof(*f));
		f->name = cf->name;
		f->path = fs_join(ws, cf->name);
		fmax = !strcmp(cf->name, "USER.md") && file_max > PROMPT_USER_MD_MAX_CHARS
			       ? PROMPT_USER_MD_MAX_CHARS
			       : file_max;
		if (fmax > remaining)
			fmax = remaining ? remaining : 1;
		slot = cache_get(f->path, cf->name, fmax, &missing);
		if (missing && !strcmp(cf->name, "MEMORY.md")) {
			free(f->path);
			f->path = fs_join(ws, "memory.md");
			slot = cache_get(f->path, "memory.md", fmax, &missing);
		}
		if (missing) {
			if (!cf->report_miss || remaining == 0) {
				free(f->path);
				continue;
			}
			f->missing = true;
			text = clamp_budget(xasprintf("[MISSING] Expected at: %s", f->path),
					    remaining);
		} else {
			if (remaining < PROMPT_MIN_FILE_BUDGET) {
				free(f->path);
				break;
			}
			text = xstrdup(slot->text ? slot->text : slot->unreadable);
			f->raw = slot->text ? slot->raw_chars : 0;
			f->truncated = slot->truncated;
			text = clamp_budget(text, remaining);
			if (slot->text && prompt_u16len(text, strlen(text)) <
						  prompt_u16len(slot->text, strlen(slot->text)))
				f->truncated = true;
		}
		f->chars = prompt_u16len(text, strlen(text));
		if (!f->chars) {
			free(text);
			free(f->path);
			continue;
		}
		f->content = text;
		remaining = remaining > f->chars ? remaining - f->chars : 0;
		used_total += f->chars;
		if (f->truncated)
			ntrunc++;
		else if (!f->missing && f->raw * 10 >= fmax * 9)
			nnear++;
		if (!f->missing) {
			has_bootstrap |= !strcmp(f->name, "BOOTSTRAP.md");
			has_soul |= !strcmp(f->name, "SOUL.md");
			has_user |= !strcmp(f->name, "USER.md");
			has_memory |= !strcmp(f->name, "MEMORY.md");
		}
		ninj++;
	}

	if (full && has_bootstrap) {
		line(&b, "## Bootstrap Pending");
		line(&b, "BOOTSTRAP.md is below: follow it before anything else.");
		line(&b,
		     "If you can finish it in this run, do. If not, say briefly what blocks it, "
		     "do the safe steps you can, and name the simplest next step.");
		line(&b, "Do not claim it is done early, and make your first reply follow it "
			 "rather than a generic greeting.");
	}
	line(&b, "## Workspace Files (injected)");
	line(&b, "These files are edited by the user and by you; pincer loads them below as "
		 "Project Context.");
	if (ninj) {
		pc_start = b.len;
		line(&b, "# Project Context");
		line(&b, "Loaded project context:");
		if (has_soul)
			line(&b, "SOUL.md: your persona and tone. Follow it unless higher-priority "
				 "instructions say otherwise.");
		if (has_memory)
			line(&b, "MEMORY.md: lasting facts and decisions; use them when relevant.");
		if (has_user)
			line(&b, "USER.md: who the user is and what they prefer; follow it unless "
				 "higher-priority instructions say otherwise.");
		for (i = 0; i < ninj; i++) {
			linef(&b, "## %s", inj[i].path);
			line(&b, inj[i].content);
		}
		pc_end = b.len;
	}

	/* ---- per-turn part ---- */
	tz = time_user_zone(ctx->timezone ? ctx->timezone
			    : ctx->cfg    ? config_get_str(ctx->cfg, "agents.defaults.userTimezone")
					  : NULL);
	{
		struct tm tm;

		time_in_zone(now, tz, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	}
	line(&b, "## Temporal Context");
	linef(&b, "Current date: %s", date);
	linef(&b, "Time zone: %s", tz);
	if (has_tool(ctx->tools, "session_status"))
		line(&b, "For the exact time, call `session_status`.");
	free(tz);
	if (full) {
		line(&b, "## Assistant Output Directives");
		line(&b, "- To attach a file, put `MEDIA:<path-or-url>` on its own line, one per "
			 "item.");
		line(&b, "- To reply to the message you are answering, start with "
			 "`[[reply_to_current]]`; to a specific one, `[[reply_to:<id>]]`.");
		line(&b, "- Directives go at the start of a line, in plain text, outside code "
			 "blocks; pincer strips them before delivery.");
		line(&b, "## Silent Replies");
		line(&b, "When there is nothing to say, reply with exactly NO_REPLY and nothing "
			 "else; never add it to a real reply.");
		if (ctx->heartbeats) {
			line(&b, "## Heartbeats");
			linef(&b, "Heartbeat prompt: %s",
			      ctx->heartbeat_prompt ? ctx->heartbeat_prompt
						    : prompt_default_heartbeat);
			line(&b,
			     "When a heartbeat arrives and nothing needs attention, reply exactly "
			     "HEARTBEAT_OK. If something does, reply with the alert only, "
			     "without HEARTBEAT_OK.");
		}
	}
	line(&b, "## Runtime");
	if (ctx->model_ref)
		linef(&b, "Current model: %s. If asked which model you are, give this one.",
		      ctx->model_ref);
	linef(&b, "Reasoning: %s (hidden unless on or stream; /reasoning toggles it).",
	      ctx->thinking ? ctx->thinking : "off");
	{
		struct buf rl;
		char *agent = ctx->agent_id ? xstrdup(ctx->agent_id) : xstrdup("main");

		buf_init(&rl, BUF_UNLIMITED);
		buf_printf(&rl, "Runtime: agent=%s", agent);
		if (ctx->session_key)
			buf_printf(&rl, " | session=%s", ctx->session_key);
		if (ctx->host)
			buf_printf(&rl, " | host=%s", ctx->host);
		if (ctx->os)
			buf_printf(&rl, " | os=%s", ctx->os);
		if (ctx->model_ref)
			buf_printf(&rl, " | model=%s", ctx->model_ref);
		if (ctx->channel)
			buf_printf(&rl, " | channel=%s", ctx->channel);
		line(&b, rl.p);
		buf_release(&rl);
		free(agent);
	}

finish:
	if (report) {
		size_t chars = prompt_u16len(b.p, b.len);
		size_t pcc =
			pc_end > pc_start ? prompt_u16len(b.p + pc_start, pc_end - pc_start) : 0;
		json_t *r = json_object(), *sp;

		crypto_sha256_hex(b.p, b.len, hash);
		json_object_set_new(r, "source", json_string("run"));
		json_object_set_new(r, "generatedAt", json_integer(now));
		if (ctx->session_key)
			json_object_set_new(r, "sessionKey", json_string(ctx->session_key));
		json_object_set_new(r, "workspaceDir", json_string(ws));
		json_object_set_new(r, "bootstrapMaxChars", json_integer((json_int_t)file_max));
		json_object_set_new(r, "bootstrapTotalMaxChars",
				    json_integer((json_int_t)total_max));
		json_object_set_new(r, "bootstrapTruncation",
				    json_pack("{s:I,s:I,s:b}", "truncatedFiles", (json_int_t)ntrunc,
					      "nearLimitFiles", (json_int_t)nnear, "totalNearLimit",
					      used_total * 10 >= total_max * 9));
		json_object_set_new(r, "sandbox",
				    json_pack("{s:s,s:b}", "mode", ctx->sandboxed ? "all" : "off",
					      "sandboxed", ctx->sandboxed));
		sp = json_pack("{s:I,s:s,s:I,s:I}", "chars", (json_int_t)chars, "hash", hash,
			       "projectContextChars", (json_int_t)pcc, "nonProjectContextChars",
			       (json_int_t)(chars - pcc));
		json_object_set_new(r, "systemPrompt", sp);
		for (i = 0; i < ninj; i++)
			json_array_append_new(
				rep_files,
				json_pack("{s:s,s:s,s:b,s:I,s:I,s:b}", "name", inj[i].name, "path",
					  inj[i].path, "missing", inj[i].missing, "rawChars",
					  (json_int_t)inj[i].raw, "injectedChars",
					  (json_int_t)(inj[i].missing ? 0 : inj[i].chars),
					  "truncated", inj[i].truncated));
		json_object_set_new(r, "injectedWorkspaceFiles", rep_files);
		rep_files = NULL;
		json_object_set_new(
			r, "skills",
			json_pack("{s:I,s:o}", "promptChars",
				  (json_int_t)(skills_block ? prompt_u16len(skills_block,
									    strlen(skills_block))
							    : 0),
				  "entries", skill_entries ? skill_entries : json_array()));
		skill_entries = NULL;
		json_object_set_new(r, "tools",
				    json_pack("{s:I,s:o}", "listChars", (json_int_t)list_chars,
					      "entries", rep_tools));
		rep_tools = NULL;
		*report = r;
	}
	for (i = 0; i < ninj; i++) {
		free(inj[i].path);
		free(inj[i].content);
	}
	json_decref(rep_tools);
	json_decref(rep_files);
	json_decref(skill_entries);
	free(skills_block);
	res = buf_detach(&b, NULL);
	return res;
}
