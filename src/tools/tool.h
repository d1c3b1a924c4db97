/*
 * tool.h - the tools an agent can call: one file per tool, each exporting
 * one row of the tool table (name as OpenClaw names it, group, description,
 * JSON Schema of its parameters, handler).
 *
 * A handler never blocks the loop: it answers at once with tool_call_done,
 * or keeps the call and answers later (a child process, an HTTP fetch).
 * When the run is aborted, the call's `cancel` hook (if the tool set one)
 * runs; the tool must still answer exactly once, and the run engine drops
 * answers that arrive after it gave up.
 *
 *	static void t_echo(struct tool_call *call)
 *	{
 *		tool_call_text(call, false, "%s", json_string_value(json_object_get(call->args, "text")));
 *	}
 *	const struct tool_def tool_echo = {
 *		.name = "echo", .group = "test", .invoke = t_echo,
 *		.description = "Say it back.",
 *		.parameters = "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},\"required\":[\"text\"]}",
 *	};
 */
#ifndef PINCER_TOOLS_TOOL_H
#define PINCER_TOOLS_TOOL_H

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

#include "core/mem.h"

struct config;
struct tool_call;
struct agent_run;
struct agent_rt;

struct tool_def {
	const char *name;  /* what the model sees */
	const char *group; /* policy group without "group:": "fs", "runtime", "sessions", … */
	const char *description; /* one paragraph for the model */
	const char *parameters;  /* JSON Schema (an object schema), as text */
	/* Run the call; answer with tool_call_done (now or later). */
	void (*invoke)(struct tool_call *call);
	/* The short title for progress items ("Ls .", "Exec ls -la"); NULL: the name. New string. */
	char *(*title)(const json_t *args);
};

/* What a tool may know about the run it serves. */
struct tool_env {
	uv_loop_t *loop;
	const struct config *cfg;
	const char *agent_id;
	const char *session_key;
	const char *session_id;
	const char *workspace;
	struct agent_rt *rt; /* the runtime (sessions_*, system events); never NULL in the daemon */
	struct agent_run *run; /* the run being served; NULL for POST /tools/invoke */
};

struct tool_call {
	const struct tool_def *def;
	char *id;     /* the model's toolCallId */
	json_t *args; /* the arguments object (owned) */
	struct tool_env env;
	void *data; /* the tool's own */
	/* Set by a tool that can stop early; the engine calls it on abort. */
	void (*cancel)(struct tool_call *call);
	/* engine-private */
	void (*on_done)(struct tool_call *call, json_t *content, bool is_error);
	void *owner;
	char *note; /* appended to the answer (a loop-detection warning) */
	bool answered;
};

/*
 * Answer the call: `content` (stolen) is an array of content blocks
 * ({"type":"text","text":…} / {"type":"image",…}) or a string. Exactly once.
 */
void tool_call_done(struct tool_call *call, json_t *content, bool is_error);
void tool_call_text(struct tool_call *call, bool is_error, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Answer with `v` (stolen) as indented JSON text, as OpenClaw's jsonResult. */
void tool_call_json(struct tool_call *call, bool is_error, json_t *v);

/* Every built-in tool, NULL-terminated, in the order the model sees them. */
extern const struct tool_def *const tool_table[];

/* The row for `name` (case-insensitive; "bash" is exec's alias), or NULL. */
const struct tool_def *tool_find(const char *name);

/*
 * The tools offered to a model: [{"name","description","parameters"}] for
 * every table row that `allowed(name)` accepts (NULL: all). Schemas are
 * parsed once and shared. New array.
 */
json_t *tool_specs(bool (*allowed)(const char *name, void *arg), void *arg);

/* A short run-of-the-mill title: "Ls .", from the name and a key argument. New string. */
char *tool_title(const struct tool_def *def, const json_t *args);

#endif
