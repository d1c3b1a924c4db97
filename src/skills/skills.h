/*
 * skills.h - loading SKILL.md folders, gating them, and describing them to
 * the model and to clients.
 *
 * A skill is a folder holding SKILL.md: YAML front matter (name,
 * description, optional homepage, user-invocable, disable-model-invocation,
 * metadata) and markdown instructions the model reads when the skill fits.
 * The format is OpenClaw's (AgentSkills-compatible), so its skills load
 * here unchanged.
 *
 * Sources, lowest precedence first; a later skill with the same name
 * replaces an earlier one:
 *   1. skills.load.extraDirs                                 "extra"
 *   2. bundled: $PINCER_BUNDLED_SKILLS_DIR, else <exe dir>/skills, else
 *      <exe dir>/../share/pincer/skills                      "bundled"
 *   3. <state>/skills (managed, shared by all agents)        "managed"
 *   4. ~/.agents/skills                                      "agents"
 *   5. <workspace>/.agents/skills                            "agents"
 *   6. <workspace>/skills                                    "workspace"
 * A root holds one skill per subfolder (or is itself a skill folder when
 * it has a SKILL.md). Folders starting with '.' and node_modules are
 * skipped.
 *
 * Gating, evaluated when loading, as OpenClaw's shouldIncludeSkill:
 * skills.entries.<key>.enabled=false disables; skills.allowBundled (a
 * non-empty list) blocks bundled skills not named in it; metadata.os must
 * include this platform; unless metadata.always, every requires.bins on
 * PATH, at least one requires.anyBins, every requires.env set (in the
 * environment, in skills.entries.<key>.env, or as skills.entries.<key>.apiKey
 * when it is the primaryEnv) and every requires.config path truthy. The
 * per-agent allowlist (agents.list[].skills, else agents.defaults.skills;
 * [] means none) does not make a skill ineligible; it hides it from that
 * agent (blocked_by_agent_filter).
 */
#ifndef PINCER_SKILLS_SKILLS_H
#define PINCER_SKILLS_SKILLS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct config;

/* A SKILL.md larger than this is reported invalid, as OpenClaw's default. */
#define SKILL_MAX_FILE_BYTES     256000
/* At most this many skills in the prompt, and this many characters of it. */
#define SKILLS_PROMPT_MAX_SKILLS 150
#define SKILLS_PROMPT_MAX_CHARS  18000
/* Skill folders read per root; the rest are ignored with a warning. */
#define SKILLS_MAX_PER_ROOT      512
/* Skill roots at most (extraDirs beyond this are ignored). */
#define SKILLS_MAX_ROOTS         64

struct skill {
	char *name;         /* front matter name, else the folder name */
	char *description;  /* trimmed */
	char *location;     /* absolute path of SKILL.md */
	char *base_dir;     /* absolute path of the skill folder */
	const char *source; /* "extra", "bundled", "managed", "agents", "workspace" (static) */
	const char
		*source_label; /* OpenClaw's: "openclaw-bundled", "agents-skills-personal", ... */
	char *skill_key;       /* metadata.skillKey, else name: the skills.entries key */
	char *homepage;        /* NULL when none */
	char *emoji;           /* NULL when none */
	char *primary_env;     /* metadata.primaryEnv, or NULL */
	bool user_invocable;   /* front matter user-invocable (default true) */
	bool disable_model_invocation; /* front matter (default false): kept out of the prompt */
	bool always;                   /* metadata.always: requirements other than os waived */
	bool disabled;                 /* skills.entries.<key>.enabled == false */
	bool blocked_by_allowlist;     /* bundled and not in skills.allowBundled */
	bool blocked_by_agent_filter;  /* not in this agent's skills allowlist */
	bool eligible;                 /* !disabled && !blocked_by_allowlist && requirements met */
	json_t *requirements;          /* {bins,anyBins,env,config,os}: what metadata asks for */
	json_t *missing;               /* {bins,anyBins,env,config,os}: what is not there */
	json_t *config_checks;         /* [{path, satisfied}] */
	json_t *install;               /* [{id?, kind, label, bins}] for this OS */
	json_t *frontmatter;           /* parsed front matter (skill_frontmatter_parse) */
};

struct skill_set {
	struct skill *v; /* sorted by name */
	size_t n, alloc;
	json_t *invalid;      /* [{path, message}] skills that failed to load */
	char *workspace;      /* as given to skills_load */
	char *managed_dir;    /* as given */
	char *agent_id;       /* as given; may be NULL */
	json_t *agent_filter; /* the agent's allowlist (array), or NULL for none */
};

/*
 * Load every skill visible to `agent_id` (NULL: no per-agent allowlist)
 * with `workspace` (may be NULL: no workspace sources) and `managed_dir`
 * (<state>/skills; may be NULL). `cfg` may be NULL (defaults). Skills that
 * fail to parse are listed in out->invalid and logged, never fatal.
 * Reads the disk: call it off the event loop or when a snapshot is stale.
 * Returns 0 (it cannot fail; an unreadable root is just empty). Release
 * with skills_release.
 */
int skills_load(struct skill_set *out, const struct config *cfg, const char *workspace,
		const char *managed_dir, const char *agent_id);
void skills_release(struct skill_set *set);

/*
 * The folders skills_load scans for these arguments, lowest precedence
 * first, as absolute path strings (they need not exist): what a watcher
 * watches. New array.
 */
json_t *skills_roots(const struct config *cfg, const char *workspace, const char *managed_dir);

/*
 * skills_load on the libuv thread pool, so that a scan (readdir, SKILL.md
 * reads, a stat per requires.bins entry and PATH directory) never holds up
 * the event loop. The config tree is deep-copied here, on the loop thread:
 * the worker never reads the live config, which a reload may replace.
 * `done` runs on the loop thread and owns the set it is given (release it
 * with skills_release and free it). Returns a handle for
 * skills_load_cancel, or NULL when the work could not be queued (`done` is
 * then never called).
 */
struct skills_load_req;
typedef void (*skills_load_fn)(void *arg, struct skill_set *set);
struct skills_load_req *skills_load_async(uv_loop_t *loop, const struct config *cfg,
					  const char *workspace, const char *managed_dir,
					  const char *agent_id, skills_load_fn done, void *arg);
/* `done` will not be called; the result is dropped when the worker finishes. */
void skills_load_cancel(struct skills_load_req *req);

/* The skill named `name` (exact, else case-insensitive), or NULL. */
const struct skill *skills_find(const struct skill_set *set, const char *name);

/* Whether the skill goes into the model's <available_skills>. */
bool skill_model_visible(const struct skill *s);

/*
 * The skills block for the system prompt: an introduction and the
 * <available_skills> XML of every model-visible skill, sorted by name,
 * names/descriptions/locations XML-escaped, in OpenClaw's exact shape:
 *
 *   <available_skills>
 *     <skill>
 *       <name>…</name>
 *       <description>…</description>
 *       <location>/abs/SKILL.md</location>
 *     </skill>
 *   </available_skills>
 *
 * Past SKILLS_PROMPT_MAX_SKILLS or SKILLS_PROMPT_MAX_CHARS, as many skills
 * as fit are kept and a warning line says how many were left out. Returns
 * a new string, "" when no skill is visible. When `entries` is not NULL it
 * receives [{name, blockChars}] for the prompt report (new reference).
 */
char *skills_prompt_block(const struct skill_set *set, json_t **entries);

/*
 * The skills.status report, as OpenClaw's RPC: {workspaceDir,
 * managedSkillsDir, agentId?, agentSkillFilter?, skills: [{name,
 * description, source, bundled, filePath, baseDir, skillKey, primaryEnv?,
 * emoji?, homepage?, always, disabled, blockedByAllowlist,
 * blockedByAgentFilter, eligible, platformIncompatible, modelVisible,
 * userInvocable, commandVisible, requirements, missing, configChecks,
 * install}]}. New reference.
 */
json_t *skills_status_json(const struct skill_set *set);

/*
 * Parse the front matter of a SKILL.md text: an optional UTF-8 BOM, CRLF or
 * CR line ends, then "---" on the first line, YAML up to a line "---".
 * Top-level keys become members of *out: scalars as trimmed strings (YAML
 * nulls are dropped), mappings and sequences as JSON (plain scalars inside
 * them typed as YAML's core schema types them). So `metadata` may be one
 * line of JSON or a multi-line YAML flow or block mapping, as in
 * OpenClaw's bundled skills. A `description:` whose plain value holds ": "
 * (invalid YAML) is read as one string, as OpenClaw recovers it.
 *
 * No front matter at all gives an empty object. Returns 0 with a new
 * object in *out, or -1 with `err` ("missing closing --- delimiter",
 * "frontmatter must be a YAML mapping", the YAML error and its line,
 * "too deeply nested or too large", "duplicate key ...", each
 * prefixed "invalid frontmatter: ").
 * Input is untrusted: aliases cannot blow up the output (a node budget)
 * and nesting is capped.
 */
int skill_frontmatter_parse(const char *text, size_t len, json_t **out, char *err, size_t errlen);

/* The body after the front matter, trimmed (new string). */
char *skill_body(const char *text, size_t len);

/* `text` with every "{baseDir}" replaced by `base_dir`. New string. */
char *skill_expand_basedir(const char *text, const char *base_dir);

/*
 * The metadata object of a parsed front matter: `metadata` (a JSON5 string
 * or an object) and in it `openclaw`, else the alias `pincer`, else the
 * legacy `clawdbot`. Borrowed from `fm` or, for a string, a new object
 * kept in *owned (decref it). NULL when absent or malformed.
 */
json_t *skill_manifest(json_t *fm, json_t **owned);

#endif
