/*
 * registry.c - the tool table and what every tool shares: lookup, the specs
 * offered to the model (schemas parsed once), answers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/mem.h"
#include "tools/tool.h"

extern const struct tool_def tool_session_status;
extern const struct tool_def tool_read;
extern const struct tool_def tool_write;
extern const struct tool_def tool_edit;
extern const struct tool_def tool_apply_patch;
extern const struct tool_def tool_exec;
extern const struct tool_def tool_process;
extern const struct tool_def tool_web_search;
extern const struct tool_def tool_web_fetch;
extern const struct tool_def tool_memory_search;
extern const struct tool_def tool_memory_get;
extern const struct tool_def tool_sessions_list;
extern const struct tool_def tool_sessions_history;
extern const struct tool_def tool_sessions_send;
extern const struct tool_def tool_sessions_spawn;
extern const struct tool_def tool_agents_list;
extern const struct tool_def tool_message;
extern const struct tool_def tool_view_image;
extern const struct tool_def tool_gateway;

/*
 * In the order the model sees them, as OpenClaw's catalog sections (fs, runtime, web,
 * memory, sessions, messaging, media, automation), but session_status first: the fake
 * model's default TOOLCALL behaviour calls the first tool.
 */
/* clang-format off */
const struct tool_def *const tool_table[] = {
	&tool_session_status,
	&tool_read,
	&tool_write,
	&tool_edit,
	&tool_apply_patch,
	&tool_exec,
	&tool_process,
	&tool_web_search,
	&tool_web_fetch,
	&tool_memory_search,
	&tool_memory_get,
	&tool_sessions_list,
	&tool_sessions_history,
	&tool_sessions_send,
	&tool_sessions_spawn,
	&tool_agents_list,
	&tool_message,
	&tool_view_image,
	&tool_gateway,
	NULL,
};
/* clang-format on */

const struct tool_def *tool_find(const char *name)
{
	size_t i;

	if (!strcasecmp(name, "bash"))
		name = "exec";
	else if (!strcasecmp(name, "image"))
		name = "view_image"; /* its name before OpenClaw 2026.x (doctor migrates it) */
	for (i = 0; tool_table[i]; i++)
		if (!strcasecmp(tool_table[i]->name, name))
			return tool_table[i];
	return NULL;
}

/* Parsed schemas, one per table row, kept for the process's life. */
static json_t *tool_schema(size_t i)
{
	static json_t *cache[64];
	json_error_t e;

	if (i >= sizeof(cache) / sizeof(cache[0]))
		return json_object();
	if (!cache[i]) {
		cache[i] = json_loads(tool_table[i]->parameters
					      ? tool_table[i]->parameters
					      : "{\"type\":\"object\",\"properties\":{}}",
				      0, &e);
		if (!cache[i])
			bug_at(__FILE__, __LINE__, "tool %s: bad schema: %s", tool_table[i]->name,
			       e.text);
	}
	return json_incref(cache[i]);
}

json_t *tool_specs(bool (*allowed)(const char *name, void *arg), void *arg)
{
	json_t *out = json_array();
	size_t i;

	for (i = 0; tool_table[i]; i++) {
		if (allowed && !allowed(tool_table[i]->name, arg))
			continue;
		json_array_append_new(out, json_pack("{s:s, s:s, s:o}", "name", tool_table[i]->name,
						     "description", tool_table[i]->description,
						     "parameters", tool_schema(i)));
	}
	return out;
}

char *tool_title(const struct tool_def *def, const json_t *args)
{
	char *t;

	if (def->title && (t = def->title(args)))
		return t;
	t = xasprintf("%c%s",
		      def->name[0] >= 'a' && def->name[0] <= 'z' ? def->name[0] - 32 : def->name[0],
		      def->name + 1);
	return t;
}

void tool_call_done(struct tool_call *call, json_t *content, bool is_error)
{
	if (call->answered) {
		log_warn("tools", "tool %s answered twice; second answer dropped",
			 call->def ? call->def->name : "?");
		json_decref(content);
		return;
	}
	call->answered = true;
	call->on_done(call, content, is_error);
}

void tool_call_text(struct tool_call *call, bool is_error, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	tool_call_done(call, json_pack("[{s:s, s:s}]", "type", "text", "text", s), is_error);
	free(s);
}

void tool_call_json(struct tool_call *call, bool is_error, json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);

	json_decref(v);
	tool_call_done(call, json_pack("[{s:s, s:s}]", "type", "text", "text", s ? s : "null"),
		       is_error);
	free(s);
}
