/*
 * approvals.c - placeholder until exec approvals land: every command is
 * allowed (OpenClaw's gateway-host default is security=full, ask=off).
 */
#include "tools/approvals.h"
#include "tools/tool.h"

struct exec_approval *exec_approval_check(const struct tool_env *env,
					  const struct exec_request *req,
					  void (*cb)(void *arg, bool allowed, const char *reason),
					  void *arg)
{
	cb(arg, true, NULL);
	return NULL;
}

void exec_approval_cancel(struct exec_approval *a)
{
}
