/*
 * policy.h - which tools an agent may use, as OpenClaw decides it.
 *
 * A policy is a stack of layers, each an allow list and a deny list of
 * tool names, `group:<id>` names and `*` globs (case-insensitive; "bash"
 * is exec). A tool is allowed when every layer lets it through: deny
 * always wins, and an empty allow list lets everything through. The
 * layers, in OpenClaw's order:
 *
 *	1. tools.profile (or agents.list[].tools.profile), plus alsoAllow
 *	2. tools.byProvider["provider/model" | "provider"].profile
 *	3. tools.allow / tools.alsoAllow / tools.deny
 *	4. tools.byProvider[…].allow / deny
 *	5. agents.list[].tools.allow / alsoAllow / deny
 *	6. agents.list[].tools.byProvider[…]
 *	7. sub-agent sessions: tools.subagents.tools.* plus the tools a
 *	   sub-agent never gets (gateway, message, sessions_send, …)
 *
 * Only allowed tools are offered to the model, and a call to any other
 * tool is refused with tool_policy_why()'s reason.
 */
#ifndef PINCER_TOOLS_POLICY_H
#define PINCER_TOOLS_POLICY_H

#include <jansson.h>
#include <stdbool.h>

struct config;
struct tool_policy;

struct tool_policy_ctx {
	const char *agent_id;    /* whose agents.list[].tools apply */
	const char *session_key; /* sub-agent sessions get the sub-agent layer */
	const char *provider;    /* the model's provider, for byProvider; may be NULL */
	const char *model_id;    /* the model's id, for byProvider "provider/model" */
};

struct tool_policy *tool_policy_resolve(const struct config *cfg,
					const struct tool_policy_ctx *ctx);
void tool_policy_free(struct tool_policy *p);

/* May `name` be used? */
bool tool_policy_allows(const struct tool_policy *p, const char *name);
/* Why `name` is not allowed ("Tool x is denied by tools.allow/deny"), in `buf`; NULL when it is. */
const char *tool_policy_why(const struct tool_policy *p, const char *name, char *buf,
			    size_t buflen);
/* The effective profile's name ("full" when none is set). */
const char *tool_policy_profile(const struct tool_policy *p);

/* The profiles ("minimal", "coding", "messaging") whose default set holds `name`. New array. */
json_t *tool_policy_default_profiles(const char *name);

/* OpenClaw's built-in profile names, in display order, with labels: [{id,label}]. New. */
json_t *tool_policy_profiles(void);

/*
 * May `name` be invoked over HTTP (POST /tools/invoke)? OpenClaw's default
 * deny list (exec, apply_patch, sessions_spawn, gateway, …) adjusted by
 * gateway.tools.{allow,deny}.
 */
bool tool_policy_http_allows(const struct config *cfg, const char *name);

/* Does `pattern` (a name, "group:x" or a * glob) match tool `name`? (Exposed for tests.) */
bool tool_policy_match(const char *pattern, const char *name);

#endif
