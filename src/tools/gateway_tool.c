/*
 * gateway_tool.c - the `gateway` tool (placeholder until the in-process
 * gateway call lands in the next commit).
 */
#include "tools/tool.h"

static void t_gateway(struct tool_call *call)
{
	tool_call_text(call, true, "gateway: not available yet");
}

const struct tool_def tool_gateway = {
	.name = "gateway",
	.group = "automation",
	.description = "Read gateway config/schema.",
	.parameters = "{\"type\":\"object\",\"properties\":{}}",
	.invoke = t_gateway,
};
