/*
 * memory_get.c - the `memory_get` tool: an exact excerpt of one memory file
 * (MEMORY.md, USER.md, memory/ (any depth)), OpenClaw's readMemoryFile.
 */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "memory/memory.h"
#include "tools/tool.h"

static void mg_answer_json(struct tool_call *call, json_t *payload)
{
	char *s = json_dumps(payload, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	tool_call_done(call, json_pack("[{s:s, s:s}]", "type", "text", "text", s ? s : "{}"),
		       false);
	free(s);
}

static bool mg_int(const json_t *args, const char *name, long *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(args, name);

	*out = 0;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		snprintf(err, errlen, "memory_get: %s must be an integer >= 1", name);
		return false;
	}
	*out = json_integer_value(v) > 100000000 ? 100000000 : (long)json_integer_value(v);
	return true;
}

static void t_memory_get(struct tool_call *call)
{
	const char *path = json_string_value(json_object_get(call->args, "path"));
	long from, lines, max_chars;
	char err[256];
	json_t *r;

	if (!path || !*path) {
		tool_call_text(call, true, "memory_get: path is required");
		return;
	}
	if (!mg_int(call->args, "from", &from, err, sizeof(err)) ||
	    !mg_int(call->args, "lines", &lines, err, sizeof(err))) {
		tool_call_text(call, true, "%s", err);
		return;
	}
	if (!call->env.workspace) {
		tool_call_text(call, true, "memory_get: no agent workspace");
		return;
	}
	max_chars = (long)config_get_int(call->env.cfg,
					 "agents.defaults.contextLimits.memoryGetMaxChars");
	/* One bounded file read (≤ 8 MB, usually a few KB): cheaper than a thread hop. */
	r = mem_read_file(call->env.workspace, path, from, lines, max_chars, err, sizeof(err));
	if (!r) {
		/* OpenClaw answers a refused path with status "error" and its code. */
		r = json_pack("{s:s, s:s, s:s, s:s, s:s}", "path", path, "text", "", "status",
			      "error", "code",
			      strstr(err, "not an allowed") ? "MEMORY_PATH_NOT_ALLOWED"
							    : "MEMORY_READ_FAILED",
			      "error", err);
		if (!r) /* `path` was not valid UTF-8 */
			r = json_pack("{s:s, s:s, s:s, s:s}", "text", "", "status", "error", "code",
				      "MEMORY_PATH_NOT_ALLOWED", "error", err);
	}
	mg_answer_json(call, r);
	json_decref(r);
}

static char *mg_title(const json_t *args)
{
	const char *p = json_string_value(json_object_get(args, "path"));

	return p ? xasprintf("Memory get %.80s", p) : NULL;
}

const struct tool_def tool_memory_get = {
	.name = "memory_get",
	.group = "memory",
	.description =
		"Safe exact excerpt read from MEMORY.md, USER.md, Markdown files recursively "
		"under memory/. Defaults to a bounded excerpt (120 lines) when lines are omitted "
		"and includes truncation/continuation info (nextFrom) when more content exists. "
		"status=ok means the requested excerpt was read; status=not_found means the file "
		"does not exist; status=error means the read was refused or failed.",
	.parameters = "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},"
		      "\"from\":{\"type\":\"integer\",\"minimum\":1},"
		      "\"lines\":{\"type\":\"integer\",\"minimum\":1}},"
		      "\"required\":[\"path\"],\"additionalProperties\":false}",
	.invoke = t_memory_get,
	.title = mg_title,
};
