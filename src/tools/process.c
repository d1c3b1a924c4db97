/* process.c - placeholder */
#include "tools/tool.h"
static void t_process(struct tool_call *call)
{
	tool_call_text(call, true, "not yet");
}
const struct tool_def tool_process = {
	.name = "process", .group = "runtime", .description = "x", .invoke = t_process,
};
