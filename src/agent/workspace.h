/*
 * workspace.h - where an agent's workspace and per-agent state live, and
 * seeding a new workspace with the bootstrap files.
 *
 * The workspace is a folder of plain markdown the agent reads every turn
 * (AGENTS.md, SOUL.md, TOOLS.md, IDENTITY.md, USER.md, HEARTBEAT.md,
 * MEMORY.md, memory/, skills/). It is the agent's default working
 * directory, not a sandbox. Per-agent state (auth profiles, sessions) lives
 * outside it, under <state>/agents/<id>/, as in OpenClaw.
 */
#ifndef PINCER_AGENT_WORKSPACE_H
#define PINCER_AGENT_WORKSPACE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct config;
struct paths;

/* The agent id used when the config names none, as OpenClaw's. */
#define WORKSPACE_DEFAULT_AGENT_ID "main"

/*
 * The files seeded into a new workspace, in the order they are written.
 * BOOTSTRAP.md is only written into a brand-new workspace.
 */
extern const char *const workspace_bootstrap_files[];

/*
 * The default agent's id: the agents.list[] entry with `default: true`,
 * else the first entry, else "main". Lowercased. New string.
 */
char *workspace_default_agent_id(const struct config *cfg);

/*
 * The config object of agent `agent_id` (agents.list[] entry whose id
 * matches case-insensitively, else agents.entries.<id>), or NULL. Borrowed.
 */
json_t *workspace_agent_entry(const struct config *cfg, const char *agent_id);

/*
 * The workspace directory of `agent_id` (NULL: the default agent), with a
 * leading ~ expanded, as OpenClaw resolves it:
 *   agents.list[].workspace of that agent, if set;
 *   else for the default agent agents.defaults.workspace, else
 *        <state>/workspace;
 *   else for other agents <agents.defaults.workspace>/<id> when that is
 *        set, else <state>/workspace-<id>.
 * New string; never NULL.
 */
char *workspace_dir(const struct config *cfg, const struct paths *paths, const char *agent_id);

/*
 * Make sure `dir` exists (created 0700 with its parents) and, unless
 * `skip_bootstrap`, holds the bootstrap files: every template from
 * workspace_bootstrap_files that is missing is written (0600), and when the
 * workspace is brand new (none of AGENTS.md, SOUL.md, IDENTITY.md, USER.md
 * or memory/ exist) also BOOTSTRAP.md and the memory/ folder. Existing files
 * are never overwritten, not even when another process creates one at the
 * same moment (each file is linked into place, which fails if the name
 * exists). So a BOOTSTRAP.md the agent deleted after its first run does
 * not come back.
 *
 * *created (may be NULL) says whether the workspace was brand new. Returns
 * 0, or -1 with errno and a one-line reason in `err`.
 */
int workspace_ensure(const char *dir, bool skip_bootstrap, bool *created, char *err, size_t errlen);

/* <state>/agents/<id>/agent (auth-profiles.json, models.json). New string. */
char *agent_dir(const struct paths *paths, const char *agent_id);
/* <state>/agents/<id>/sessions (sessions.json, <sessionId>.jsonl). New string. */
char *agent_sessions_dir(const struct paths *paths, const char *agent_id);

#endif
