/*
 * approvals_file.h - exec-approvals.json and the policy arithmetic around
 * it: load/normalize/validate/save the file, resolve an agent's policy,
 * split a command into simple segments, resolve executables on PATH, and
 * match allowlist patterns. No loop, no globals: approvals.c drives it.
 *
 * The file (OpenClaw 2026.9.6's persisted shape, version 1):
 *
 *	{"version":1, "socket":{"path","token"},
 *	 "defaults":{"security","ask","askFallback","autoAllowSkills"},
 *	 "agents":{"<id>|*":{"security","ask","askFallback","autoAllowSkills",
 *	   "allowlist":[{"id","pattern","argPattern?","source?","lastUsedAt",
 *	                 "lastUsedCommand","lastResolvedPath"}]}}}
 *
 * A malformed file fails closed (security=deny), as OpenClaw's does.
 */
#ifndef PINCER_TOOLS_APPROVALS_FILE_H
#define PINCER_TOOLS_APPROVALS_FILE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APF_FILE_NAME   "exec-approvals.json"
#define APF_SOCKET_NAME "exec-approvals.sock"
#define APF_MAX_BYTES   (4u << 20) /* a larger file is refused (fails closed) */
#define APF_HASH_LEN    80         /* "missing:" + 64 hex + NUL fits */

/* Orders matter: lower is stricter for security, higher is stricter for ask. */
enum apf_security { APF_DENY = 0, APF_ALLOWLIST = 1, APF_FULL = 2 };
enum apf_ask { APF_ASK_OFF = 0, APF_ASK_ON_MISS = 1, APF_ASK_ALWAYS = 2 };

struct apf_policy {
	enum apf_security security;
	enum apf_ask ask;
	enum apf_security ask_fallback;
	bool auto_allow_skills;
};

/* Names <-> values; parsing returns -1 for anything else (case-insensitive). */
const char *apf_security_name(enum apf_security s);
const char *apf_ask_name(enum apf_ask a);
int apf_security_parse(const char *s);
int apf_ask_parse(const char *s);
static inline enum apf_security apf_min_security(enum apf_security a, enum apf_security b)
{
	return a <= b ? a : b;
}
static inline enum apf_ask apf_max_ask(enum apf_ask a, enum apf_ask b)
{
	return a >= b ? a : b;
}

/* ==== the file ==== */

/* <state_dir>/exec-approvals.json; new string. */
char *apf_path(const char *state_dir);

/*
 * What a file holds. `file` is the normalized document (new reference);
 * `raw` the bytes read (NULL when missing); `hash` sha256 hex of raw, or
 * "missing:<sha256 of nothing>". A document that fails validation is
 * replaced by the fail-closed one (deny/off/deny) and `malformed` set.
 */
struct apf_snapshot {
	json_t *file;
	char *raw;
	bool exists, malformed;
	char hash[APF_HASH_LEN];
	char err[160]; /* why it was malformed / unreadable */
};

/* Read `path` into `snap`. -1 only for I/O errors other than ENOENT (snap fails closed then). */
int apf_load(const char *path, struct apf_snapshot *snap);
void apf_snapshot_release(struct apf_snapshot *snap);

/*
 * Validate a document against OpenClaw's persisted schema (loose: unknown
 * keys are kept). `closed` also refuses keys the gateway protocol's
 * closed ExecApprovalsFile schema does not list (exec.approvals.set).
 * Returns 0, or -1 with a location ("agents entry #1.allowlist[0]: ...").
 */
int apf_validate(const json_t *doc, bool closed, char *err, size_t errlen);

/*
 * Normalize in place as OpenClaw does: version 1, string allowlist entries
 * become {pattern}, every entry gets an id, commandText is dropped, unknown
 * security/ask values are removed, the legacy "default" agent merges into
 * "main", an empty socket object is dropped.
 */
void apf_normalize(json_t *doc);

/* The serialized form (JSON, 2-space indent, trailing newline). New string. */
char *apf_serialize(const json_t *doc);

/* Write `doc` atomically with mode 0600; fills `hash` when non-NULL. 0 or -1 with err. */
int apf_save(const char *path, const json_t *doc, char *hash, char *err, size_t errlen);

/* The sha256 hash of serialized bytes (or of a missing file when raw is NULL). */
void apf_hash(const char *raw, size_t len, char out[APF_HASH_LEN]);

/* ==== policy ==== */

/*
 * The file's policy for `agent_id` (NULL: "default"): agents.<id>, then
 * agents."*", then defaults, then `fallback` (the requested policy, so a
 * silent file changes nothing). As resolveExecApprovalsFromFile.
 */
void apf_resolve(const json_t *doc, const char *agent_id, const struct apf_policy *fallback,
		 struct apf_policy *out);

/* The file's defaults resolved against OpenClaw's (full/off/deny/false). New object. */
json_t *apf_resolved_defaults(const json_t *doc);

/* agents."*".allowlist followed by agents.<id>.allowlist; entries borrowed. New array. */
json_t *apf_allowlist(const json_t *doc, const char *agent_id);

/* ==== commands ==== */

/* One simple command of a command line: `a && b | c` has three. */
struct apf_segment {
	char **argv; /* NULL-terminated, quotes removed */
	size_t argc;
	char *resolved;      /* the executable found on PATH (or the given path); NULL: none */
	char *resolved_real; /* realpath of that; NULL when it failed */
	bool builtin;        /* a harmless shell builtin (: cd false pwd test true) */
};

struct apf_analysis {
	bool ok; /* false: the line uses shell syntax we cannot vouch for ($, `, >, (, &, ...) */
	struct apf_segment *seg;
	size_t nseg;
	char why[96]; /* when !ok */
};

#define APF_MAX_COMMAND  (64u << 10)
#define APF_MAX_SEGMENTS 64
#define APF_MAX_ARGS     1024

/*
 * Split `command` into segments at unquoted ; && || | and resolve each
 * first word against `path_env` (colon-separated, NULL: $PATH) and `cwd`.
 * Anything that makes the shell expand or redirect (variables, command
 * substitution, globs, redirections, subshells, background &, env
 * assignments, line continuations) makes the analysis fail: such a line
 * never satisfies an allowlist, as in OpenClaw.
 */
void apf_analyze(const char *command, const char *cwd, const char *path_env,
		 struct apf_analysis *out);
void apf_analysis_release(struct apf_analysis *a);

/* Find `name` as an executable: a path (relative to cwd) or a PATH search. New string or NULL. */
char *apf_which(const char *name, const char *cwd, const char *path_env);

/* Glob match, OpenClaw's: leading ~ expands, * within a path part, ** across, ? one char. */
bool apf_glob_match(const char *pattern, const char *target);

/* "sha256:cwd-argv:v1:<hex>": what allow-always binds an entry to (this argv, this cwd). */
char *apf_cwd_argv_pattern(char *const *argv, size_t argc, const char *cwd);

/* "=command:<16 hex>": the exact-command durable approval pattern. */
char *apf_command_pattern(const char *command);

/* The allowlist entry that lets `seg` run, or NULL (borrowed from `allowlist`). */
json_t *apf_match(const json_t *allowlist, const struct apf_segment *seg, const char *cwd);

/*
 * Is every segment covered (by an entry or as a builtin)? Fills `matches`
 * (when non-NULL, an array) with the entries used. False when !a->ok.
 */
bool apf_allowlist_satisfied(const json_t *allowlist, const struct apf_analysis *a, const char *cwd,
			     json_t *matches);

/* An exact-command durable approval (=command:…, source allow-always) covers `command`. */
bool apf_has_durable_command(const json_t *allowlist, const char *command);

/*
 * The entries allow-always would persist: one {pattern: real path,
 * argPattern: cwd-argv hash, source: "allow-always"} per segment. NULL
 * when the command cannot be pinned down (analysis failed, an executable
 * did not resolve, an interpreter or wrapper that would run anything):
 * then allow-always is not offered. New array.
 */
json_t *apf_allow_always_entries(const struct apf_analysis *a, const char *cwd);

/*
 * Add allow-always entries to agents.<agent_id>.allowlist (existing same
 * pattern+argPattern entries are refreshed). Returns true when changed.
 */
bool apf_add_entries(json_t *doc, const char *agent_id, const json_t *entries, int64_t now_ms);

/*
 * Record that `matches` (entries of `agent_id` or "*") were used: set
 * lastUsedAt, lastUsedCommand, lastResolvedPath. Returns true when changed.
 */
bool apf_record_use(json_t *doc, const char *agent_id, const json_t *matches, const char *command,
		    const char *resolved_path, int64_t now_ms);

#endif
