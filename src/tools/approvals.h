/*
 * approvals.h - exec approvals: may this command run, and if an operator
 * must be asked, ask and wait without blocking the loop.
 *
 * Policy comes from `tools.exec.{security,ask}` in the config and from the
 * host-local exec-approvals.json (version 1: defaults, per-agent security
 * deny|allowlist|full, ask off|on-miss|always, askFallback, allowlist of
 * path patterns); the stricter of the two wins. When the answer needs an
 * operator, `exec.approval.requested` is broadcast and the decision comes
 * from `exec.approval.resolve` or `/approve <id> …`; a timeout falls back
 * to askFallback.
 *
 * The exec tool calls exec_approval_check() before it spawns anything.
 */
#ifndef PINCER_TOOLS_APPROVALS_H
#define PINCER_TOOLS_APPROVALS_H

#include <jansson.h>
#include <stdbool.h>

struct tool_env;
struct exec_approval;

struct exec_request {
	const char *command;  /* the raw command text, as the model wrote it */
	const char *cwd;      /* where it will run */
	const char *security; /* the call's own `security` param, or NULL */
	const char *ask;      /* the call's own `ask` param, or NULL */
	bool elevated_full;   /* /elevated full: approvals are skipped */
};

/*
 * Decide on `req`. When the policy answers at once, `cb` is called before
 * this returns and the result is NULL. Otherwise an operator is asked and
 * the pending approval is returned; `cb` runs once, later, unless
 * exec_approval_cancel() is called first. `reason` says why a command was
 * refused, for the tool's error text.
 */
struct exec_approval *exec_approval_check(const struct tool_env *env,
					  const struct exec_request *req,
					  void (*cb)(void *arg, bool allowed, const char *reason),
					  void *arg);

/* Forget a pending approval (the run was aborted); its callback never runs. */
void exec_approval_cancel(struct exec_approval *a);

#endif
