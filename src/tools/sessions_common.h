/*
 * sessions_common.h - what the sessions_* tools share: naming the target
 * session (sessionKey, label or agentId) and whether the calling agent may
 * reach it (its own agent's sessions always; another agent's only with
 * tools.agentToAgent.enabled and, when set, that agent in
 * tools.agentToAgent.allow).
 */
#ifndef PINCER_TOOLS_SESSIONS_COMMON_H
#define PINCER_TOOLS_SESSIONS_COMMON_H

#include <stddef.h>

struct tool_call;

/*
 * The canonical key the call's `sessionKey`, `label` or `agentId` names
 * (in that order). New string, or NULL with `err`.
 */
char *sessions_target(struct tool_call *call, char *err, size_t errlen);

/* May the caller reach `key`? 0, or -1 with `err`. */
int sessions_reachable(struct tool_call *call, const char *key, char *err, size_t errlen);

#endif
