/*
 * prompt.h - the agent's system prompt.
 *
 * pincer owns the system prompt, as OpenClaw does (not the provider
 * library's default). Sections and their order follow OpenClaw 2026.9.6's
 * buildAgentSystemPrompt; the prose is pincer's. Like OpenClaw's, the
 * prompt has no blank lines between sections, and everything that changes
 * from turn to turn (date, runtime line) comes after the workspace files,
 * so providers can cache the long stable prefix:
 *
 *   identity line
 *   ## Tooling                    tool list and how to use it
 *   ## Tool Call Style            (full mode, or when tools are listed)
 *   ## Execution Bias             (full mode)
 *   ## Safety
 *   ## Pincer Control             how pincer itself is changed
 *   ## Skills                     the <available_skills> block, when any
 *   ## Memory Recall              (full mode, with memory_search)
 *   ## Workspace                  working directory
 *   ## Documentation              (full mode)
 *   ## Sandbox                    (when sandboxed)
 *   ## Bootstrap Pending          (full mode, while BOOTSTRAP.md exists)
 *   ## Workspace Files (injected)
 *   # Project Context             the bootstrap files, "## <path>" each
 *   ## Temporal Context           date and time zone only
 *   ## Assistant Output Directives  (full mode)
 *   ## Silent Replies             (full mode)
 *   ## Heartbeats                 (full mode, when heartbeats run)
 *   ## Runtime                    model identity, reasoning, runtime line
 *
 * Project Context files, in OpenClaw's order: AGENTS.md, SOUL.md,
 * IDENTITY.md, USER.md, TOOLS.md, BOOTSTRAP.md, MEMORY.md, HEARTBEAT.md.
 * A missing AGENTS/SOUL/IDENTITY.md becomes "[MISSING] Expected at:
 * <path>"; USER, TOOLS, BOOTSTRAP, MEMORY and HEARTBEAT are simply left out
 * when absent. MEMORY.md (else memory.md) only in the main session.
 * Minimal mode (sub-agents) gets only AGENTS.md and TOOLS.md. Each file is
 * trimmed at the end and cut to bootstrapMaxChars (USER.md to at most
 * 4000) keeping 75% head and 25% tail around a marker
 * "[...truncated, read NAME for full content...]" /
 * "…(truncated NAME: kept H+T chars of N)…", and all files together to
 * bootstrapTotalMaxChars, as OpenClaw's buildBootstrapContextFiles.
 * Characters are counted in UTF-16 code units, as OpenClaw counts them,
 * and cuts never split a character.
 */
#ifndef PINCER_AGENT_PROMPT_H
#define PINCER_AGENT_PROMPT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct config;
struct skill_set;

enum prompt_mode {
	PROMPT_FULL,    /* the main agent */
	PROMPT_MINIMAL, /* sub-agents: no skills/memory/docs/reply sections, two files */
	PROMPT_NONE,    /* the identity line (and model identity) only */
};

/* OpenClaw's per-file budget for USER.md, whatever bootstrapMaxChars says. */
#define PROMPT_USER_MD_MAX_CHARS 4000
/* Below this remaining total budget, no further file is injected. */
#define PROMPT_MIN_FILE_BUDGET   64

struct prompt_ctx {
	const struct config *cfg; /* may be NULL: defaults */
	const char *agent_id;     /* NULL: "main" */
	const char *workspace;    /* absolute workspace dir; required */
	const char *session_key;  /* for the runtime line; may be NULL */
	bool main_session;        /* the private main session: MEMORY.md is loaded */
	enum prompt_mode mode;
	const json_t *tools;            /* [{name, description}] the model can call; NULL: none */
	const struct skill_set *skills; /* NULL: no skills section */
	const char *model_ref;          /* "provider/model"; may be NULL */
	const char *thinking;           /* reasoning level ("off", "low", ...); NULL: "off" */
	const char *timezone;           /* NULL: agents.defaults.userTimezone, else the host's */
	bool heartbeats;                /* heartbeats run for this agent */
	const char *heartbeat_prompt;   /* NULL: the default heartbeat prompt */
	bool sandboxed;                 /* tools run in a sandbox */
	const char *sandbox_workdir;    /* the workspace as the sandbox sees it; may be NULL */
	const char *channel;            /* "telegram", "webchat", ...; may be NULL */
	const char *host;               /* host name; may be NULL */
	const char *os;                 /* "linux 6.1 (x64)"; may be NULL */
	const char *docs_path;          /* local docs dir; NULL: the docs site */
	long long now_ms;               /* 0: now (tests pin the date with it) */
};

/* OpenClaw's default heartbeat prompt (what a heartbeat turn sends). */
extern const char prompt_default_heartbeat[];

/*
 * Build the system prompt (new string) for `ctx`. When `report` is not
 * NULL it receives a new systemPromptReport-like object:
 *   {source:"run", generatedAt, sessionKey?, workspaceDir,
 *    bootstrapMaxChars, bootstrapTotalMaxChars,
 *    bootstrapTruncation {truncatedFiles, nearLimitFiles, totalNearLimit},
 *    sandbox {mode, sandboxed},
 *    systemPrompt {chars, hash (sha256 hex of the UTF-8), projectContextChars,
 *                  nonProjectContextChars},
 *    injectedWorkspaceFiles [{name, path, missing, rawChars, injectedChars,
 *                             truncated}],
 *    skills {promptChars, entries [{name, blockChars}]},
 *    tools {listChars, entries [{name, summaryChars}]}}
 * The caller adds sessionId, provider and model.
 *
 * Workspace files are read through a small cache keyed by path, mtime and
 * size, holding only the already-capped text, so a turn whose files did not
 * change does not read them again. A non-default time zone is applied by
 * switching TZ for a moment: call this from the loop thread only.
 */
char *prompt_build(const struct prompt_ctx *ctx, json_t **report);

/* Drop the file cache (tests; memory pressure). */
void prompt_cache_clear(void);

/*
 * OpenClaw's cut of one file to `max_chars` UTF-16 units (exposed for
 * tests): trailing white space trimmed; if longer, head and tail around
 * the truncation marker. Returns a new string; *truncated says whether it
 * was cut, *raw_chars the trimmed length.
 */
char *prompt_trim_file(const char *content, const char *name, size_t max_chars, bool *truncated,
		       size_t *raw_chars);

/* UTF-16 code units in a UTF-8 string (4-byte sequences count 2). */
size_t prompt_u16len(const char *s, size_t len);

#endif
