/*
 * anthropic.c - the Anthropic Messages API (api "anthropic-messages"):
 * request building, the SSE event stream and error bodies.
 *
 * The request follows what @openclaw/ai sends for a direct API key: system
 * as text blocks, tool results folded into user messages, thinking replayed
 * with its signature, tools sorted by name, and prompt-cache breakpoints on
 * the system prompt, the last tool and the newest user turn.
 */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/mem.h"
#include "core/str.h"
#include "providers/provider.h"

#define ANT_DEFAULT_BASE      "https://api.anthropic.com"
#define ANT_VERSION           "2023-06-01"
#define ANT_MIN_BUDGET        1024
#define ANT_CACHE_LIMIT       4         /* cache_control markers the API accepts */
#define ANT_MAX_BLOCKS        4096      /* content block indexes a stream may use */
#define ANT_MAX_SIGNATURE     (1 << 20) /* one thinking signature */
#define ANT_CACHE_BOUNDARY    "\n<!-- OPENCLAW_CACHE_BOUNDARY -->\n"
#define ANT_RELOC_OPEN        "<!-- OPENCLAW-RELOCATABLE-BOUNDARY -->"
#define ANT_RELOC_CLOSE       "<!-- /OPENCLAW-RELOCATABLE-BOUNDARY -->"
#define ANT_OMITTED_REASONING "[assistant reasoning omitted]"
#define ANT_REDACTED_TEXT     "[Reasoning redacted]"

/* ==== small helpers ==== */

static const char *js(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool blank(const char *s)
{
	if (!s)
		return true;
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

/* Anthropic tool_use ids accept only ASCII word characters and dashes, 64 at most. */
static char *ant_tool_id(const char *id)
{
	size_t n = strlen(id), i;
	char *out;

	if (n > 64)
		n = 64;
	out = xstrndup(id, n);
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)out[i]) && out[i] != '_' && out[i] != '-')
			out[i] = '_';
	return out;
}

/* Replace every `from` in `s` by `to`; returns a fresh string. */
static char *replace_all(const char *s, const char *from, const char *to)
{
	struct buf b;
	size_t fl = strlen(from);
	const char *p;

	buf_init(&b, BUF_UNLIMITED);
	while ((p = strstr(s, from))) {
		buf_append(&b, s, (size_t)(p - s));
		buf_puts(&b, to);
		s = p + fl;
	}
	buf_puts(&b, s);
	return buf_detach(&b, NULL);
}

/* Claude models that take {type:"adaptive"} thinking with an effort, not a budget. */
static bool ant_adaptive(const char *id)
{
	return prov_model_matches(id,
				  "(^|-)claude-(opus-5|fable-5|mythos-(5|preview)|opus-4-(6|7|8)|"
				  "sonnet-(5|4-6))($|[^a-z0-9])");
}

/* ... and those that refuse to run without it. */
static bool ant_adaptive_required(const char *id)
{
	return prov_model_matches(id,
				  "(^|-)claude-(opus-5-5|fable-5|mythos-(5|preview))($|[^a-z0-9])");
}

static bool ant_xhigh(const char *id)
{
	return prov_model_matches(
		id, "(^|-)claude-(opus-5|fable-5|mythos-5|opus-4-(7|8)|sonnet-5)($|[^a-z0-9])");
}

static bool level_off(const char *level)
{
	return !level || !*level || strcmp(level, "off") == 0;
}

/* ==== request ==== */

static const char *const ant_media_types[] = { "image/jpeg", "image/png", "image/gif",
					       "image/webp" };

static json_t *ant_image(const json_t *b)
{
	const char *mime = js(b, "mimeType");
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ant_media_types); i++)
		if (str_eq(mime, ant_media_types[i]))
			return json_pack("{s:s,s:{s:s,s:s,s:s}}", "type", "image", "source", "type",
					 "base64", "media_type", mime, "data",
					 js(b, "data") ? js(b, "data") : "");
	/* OpenClaw converts other formats first; we cannot, so say what was dropped. */
	return json_pack("{s:s,s:s++}", "type", "text", "text", "(image omitted: unsupported type ",
			 mime ? mime : "unknown", ")");
}

/* Images already became placeholders for a model without image input (prov_transform_messages). */
static json_t *ant_user(const json_t *msg)
{
	const json_t *content = json_object_get(msg, "content"), *b;
	json_t *blocks;
	size_t i;

	if (json_is_string(content)) {
		if (blank(json_string_value(content)))
			return NULL;
		return json_pack("{s:s,s:O}", "role", "user", "content", content);
	}
	blocks = json_array();
	json_array_foreach(content, i, b)
	{
		const char *type = js(b, "type");

		if (str_eq(type, "text") && !blank(js(b, "text")))
			json_array_append_new(blocks, json_pack("{s:s,s:s}", "type", "text", "text",
								js(b, "text")));
		else if (str_eq(type, "image"))
			json_array_append_new(blocks, ant_image(b));
	}
	if (json_array_size(blocks) == 0) {
		json_decref(blocks);
		return NULL;
	}
	return json_pack("{s:s,s:o}", "role", "user", "content", blocks);
}

/* A tool result's content: a string, or blocks when it carries images. */
static json_t *ant_tool_result_content(const json_t *content, bool is_error)
{
	const json_t *b;
	json_t *blocks;
	struct buf text;
	bool images = false, has_text = false;
	size_t i;

	if (json_is_string(content))
		return json_incref((json_t *)content);
	json_array_foreach(content, i, b)
	{
		if (str_eq(js(b, "type"), "image") && js(b, "data") && *js(b, "data"))
			images = true;
	}
	if (!images) {
		buf_init(&text, BUF_UNLIMITED);
		json_array_foreach(content, i, b)
		{
			const char *t = js(b, "text");

			if (!str_eq(js(b, "type"), "text") || !t)
				continue;
			if (text.len)
				buf_putc(&text, '\n');
			buf_puts(&text, t);
		}
		if (!text.len && is_error)
			buf_puts(&text, "[tool error with no output]");
		json_t *s = json_stringn(text.p, text.len);
		buf_release(&text);
		return s;
	}
	blocks = json_array();
	json_array_foreach(content, i, b)
	{
		if (str_eq(js(b, "type"), "text") && js(b, "text") && *js(b, "text")) {
			json_array_append_new(blocks, json_pack("{s:s,s:s}", "type", "text", "text",
								js(b, "text")));
			has_text = true;
		} else if (str_eq(js(b, "type"), "image") && js(b, "data") && *js(b, "data")) {
			json_array_append_new(blocks, ant_image(b));
		}
	}
	if (!has_text)
		json_array_insert_new(
			blocks, 0,
			json_pack("{s:s,s:s}", "type", "text", "text", "(see attached image)"));
	return blocks;
}

/*
 * The assistant turn whose tool calls the trailing tool results answer: its
 * thinking must be replayed even when thinking is off now, because the API
 * requires the signed thinking of a tool-use turn it is continuing.
 */
static long ant_active_tool_turn(const json_t *msgs)
{
	long i = (long)json_array_size(msgs) - 1;
	json_t *ids = json_object(), *b;
	const json_t *a;
	size_t j, found = 0;
	long at = -1;

	for (; i >= 0; i--) {
		const json_t *m = json_array_get(msgs, (size_t)i);

		if (!str_eq(js(m, "role"), "toolResult"))
			break;
		if (js(m, "toolCallId"))
			json_object_set_new(ids, js(m, "toolCallId"), json_false());
	}
	if (json_object_size(ids) == 0 || i < 0)
		goto out;
	a = json_array_get(msgs, (size_t)i);
	if (!str_eq(js(a, "role"), "assistant"))
		goto out;
	json_array_foreach(json_object_get(a, "content"), j, b)
	{
		json_t *seen = js(b, "id") ? json_object_get(ids, js(b, "id")) : NULL;

		if (str_eq(js(b, "type"), "toolCall") && json_is_false(seen)) {
			json_object_set_new(ids, js(b, "id"), json_true());
			found++;
		}
	}
	if (found == json_object_size(ids))
		at = i;
out:
	json_decref(ids);
	return at;
}

static json_t *ant_assistant(const json_t *msg, bool replay_thinking, bool active)
{
	json_t *blocks = json_array(), *b;
	bool omitted = false;
	size_t i;

	json_array_foreach(json_object_get(msg, "content"), i, b)
	{
		const char *type = js(b, "type");

		if (str_eq(type, "text")) {
			if (!blank(js(b, "text")))
				json_array_append_new(blocks, json_pack("{s:s,s:s}", "type", "text",
									"text", js(b, "text")));
		} else if (str_eq(type, "thinking")) {
			const char *sig = js(b, "thinkingSignature");
			const char *thinking = js(b, "thinking") ? js(b, "thinking") : "";

			if (!replay_thinking && !active) {
				omitted = true;
				continue;
			}
			if (json_is_true(json_object_get(b, "redacted"))) {
				if (sig)
					json_array_append_new(blocks, json_pack("{s:s,s:s}", "type",
										"redacted_thinking",
										"data", sig));
				continue;
			}
			if (blank(sig)) {
				/* unsigned thinking cannot be replayed as thinking */
				if (!blank(thinking))
					json_array_append_new(blocks,
							      json_pack("{s:s,s:s}", "type", "text",
									"text", thinking));
				continue;
			}
			json_array_append_new(blocks,
					      json_pack("{s:s,s:s,s:s}", "type", "thinking",
							"thinking", thinking, "signature", sig));
		} else if (str_eq(type, "toolCall")) {
			json_t *args = json_object_get(b, "arguments");
			char *id = ant_tool_id(js(b, "id") ? js(b, "id") : "");

			json_array_append_new(blocks,
					      json_pack("{s:s,s:s%,s:s,s:o}", "type", "tool_use",
							"id", id, strlen(id), "name",
							js(b, "name") ? js(b, "name") : "", "input",
							json_is_object(args) ? json_incref(args)
									     : json_object()));
			free(id);
		}
	}
	if (json_array_size(blocks) == 0 && omitted)
		json_array_append_new(blocks, json_pack("{s:s,s:s}", "type", "text", "text",
							ANT_OMITTED_REASONING));
	if (json_array_size(blocks) == 0) {
		json_decref(blocks);
		return NULL;
	}
	return json_pack("{s:s,s:o}", "role", "assistant", "content", blocks);
}

static json_t *ant_messages(const json_t *msgs, bool replay_thinking)
{
	json_t *out = json_array(), *m;
	long active = replay_thinking ? -1 : ant_active_tool_turn(msgs);
	size_t i, n = json_array_size(msgs);

	for (i = 0; i < n; i++) {
		const json_t *msg = json_array_get(msgs, i);
		const char *role = js(msg, "role");

		if (str_eq(role, "user")) {
			if ((m = ant_user(msg)))
				json_array_append_new(out, m);
		} else if (str_eq(role, "assistant")) {
			if ((m = ant_assistant(msg, replay_thinking, (long)i == active)))
				json_array_append_new(out, m);
		} else if (str_eq(role, "toolResult")) {
			/* consecutive results travel in one user message */
			json_t *results = json_array();

			for (; i < n; i++) {
				const json_t *r = json_array_get(msgs, i);
				bool err = json_is_true(json_object_get(r, "isError"));
				char *id;

				if (!str_eq(js(r, "role"), "toolResult"))
					break;
				/* the same mapping as the tool_use ids, so the pairs still match */
				id = ant_tool_id(js(r, "toolCallId") ? js(r, "toolCallId") : "");
				json_array_append_new(
					results,
					json_pack("{s:s,s:s%,s:o,s:b}", "type", "tool_result",
						  "tool_use_id", id, strlen(id), "content",
						  ant_tool_result_content(
							  json_object_get(r, "content"), err),
						  "is_error", err));
				free(id);
			}
			i--;
			json_array_append_new(
				out, json_pack("{s:s,s:o}", "role", "user", "content", results));
		}
	}
	return out;
}

/* Tuple schemas (items: [...]) become prefixItems, which the API accepts. */
static bool ant_schema_normalize(json_t *schema)
{
	static const char *const value_kw[] = { "additionalProperties",
						"contains",
						"contentSchema",
						"else",
						"if",
						"items",
						"not",
						"propertyNames",
						"then",
						"unevaluatedItems",
						"unevaluatedProperties" };
	static const char *const array_kw[] = { "allOf", "anyOf", "oneOf", "prefixItems" };
	static const char *const map_kw[] = {
		"$defs",     "definitions", "dependencies", "dependentSchemas", "patternProperties",
		"properties"
	};
	bool changed = false;
	json_t *v, *e, *items;
	const char *k;
	size_t i, j;

	if (!json_is_object(schema))
		return false;
	for (i = 0; i < ARRAY_SIZE(value_kw); i++)
		if ((v = json_object_get(schema, value_kw[i])) && !json_is_array(v))
			changed = ant_schema_normalize(v) || changed;
	for (i = 0; i < ARRAY_SIZE(array_kw); i++)
		json_array_foreach(json_object_get(schema, array_kw[i]), j, e) changed =
			ant_schema_normalize(e) || changed;
	for (i = 0; i < ARRAY_SIZE(map_kw); i++)
		if (json_is_object(v = json_object_get(schema, map_kw[i])))
			json_object_foreach(v, k, e) changed = ant_schema_normalize(e) || changed;
	items = json_object_get(schema, "items");
	if (json_is_array(items)) {
		json_t *extra = json_object_get(schema, "additionalItems");

		json_array_foreach(items, j, e) ant_schema_normalize(e);
		json_object_set(schema, "prefixItems", items);
		if (json_is_boolean(extra) || json_is_object(extra)) {
			ant_schema_normalize(extra);
			json_object_set(schema, "items", extra);
		} else {
			json_object_del(schema, "items");
		}
		json_object_del(schema, "additionalItems");
		changed = true;
	}
	if (changed)
		json_object_del(schema, "$schema");
	return changed;
}

static int ant_tool_cmp(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const char *xd = js(x, "description") ? js(x, "description") : "";
	const char *yd = js(y, "description") ? js(y, "description") : "";
	int c = strcmp(js(x, "name"), js(y, "name"));

	return c ? c : strcmp(xd, yd);
}

/* Tools sorted by name, so the cached prefix is the same whatever order they came in. */
static json_t *ant_tools(const json_t *tools)
{
	size_t i, n = 0;
	json_t **v, *out = json_array();
	const json_t *t;

	v = xcalloc(json_array_size(tools) + 1, sizeof(*v));
	json_array_foreach(tools, i, t)
	{
		json_t *params = json_object_get(t, "parameters");
		json_t *schema = json_is_object(params) ? json_deep_copy(params) : json_object();
		json_t *props, *req, *tool;

		if (!js(t, "name") || !*js(t, "name")) {
			json_decref(schema);
			continue;
		}
		ant_schema_normalize(schema);
		props = json_object_get(schema, "properties");
		req = json_object_get(schema, "required");
		json_object_set_new(schema, "type", json_string("object"));
		if (!json_is_object(props))
			json_object_set_new(schema, "properties", json_object());
		if (!json_is_array(req))
			json_object_set_new(schema, "required", json_array());
		tool = json_pack("{s:s}", "name", js(t, "name"));
		if (js(t, "description") && *js(t, "description"))
			json_object_set_new(tool, "description", json_string(js(t, "description")));
		json_object_set_new(tool, "input_schema", schema);
		json_object_set_new(tool, "eager_input_streaming", json_true());
		v[n++] = tool;
	}
	qsort(v, n, sizeof(*v), ant_tool_cmp);
	for (i = 0; i < n; i++)
		json_array_append_new(out, v[i]);
	free(v);
	return out;
}

static json_t *ant_cache_control(void)
{
	return json_pack("{s:s}", "type", "ephemeral");
}

/*
 * The system prompt as text blocks. With caching, the part before
 * OpenClaw's cache boundary marker is the cached prefix and the part after
 * it (per-turn runtime facts) follows uncached; without, the markers go.
 */
static json_t *ant_system(const char *system, bool cache)
{
	json_t *blocks = json_array();
	char *text, *tmp;
	const char *at;

	if (!system || !*system) {
		json_decref(blocks);
		return NULL;
	}
	text = replace_all(system, "\n" ANT_RELOC_OPEN "\n", "\n");
	tmp = replace_all(text, "\n" ANT_RELOC_CLOSE, "");
	free(text);
	text = replace_all(tmp, ANT_RELOC_OPEN, "");
	free(tmp);
	tmp = replace_all(text, ANT_RELOC_CLOSE, "");
	free(text);
	text = tmp;
	if (!cache) {
		tmp = replace_all(text, ANT_CACHE_BOUNDARY, "\n");
		free(text);
		text = replace_all(tmp, "<!-- OPENCLAW_CACHE_BOUNDARY -->", "");
		free(tmp);
		json_array_append_new(blocks, json_pack("{s:s,s:s}", "type", "text", "text", text));
	} else if ((at = strstr(text, ANT_CACHE_BOUNDARY))) {
		size_t n = (size_t)(at - text);
		const char *dynamic = at + strlen(ANT_CACHE_BOUNDARY);

		while (n && isspace((unsigned char)text[n - 1]))
			n--;
		while (*dynamic && isspace((unsigned char)*dynamic))
			dynamic++;
		if (n)
			json_array_append_new(blocks, json_pack("{s:s,s:s%,s:o}", "type", "text",
								"text", text, n, "cache_control",
								ant_cache_control()));
		if (*dynamic)
			json_array_append_new(
				blocks, json_pack("{s:s,s:s}", "type", "text", "text", dynamic));
		if (json_array_size(blocks) == 0)
			json_array_append_new(blocks,
					      json_pack("{s:s,s:s}", "type", "text", "text", ""));
	} else {
		json_array_append_new(blocks,
				      json_pack("{s:s,s:s,s:o}", "type", "text", "text", text,
						"cache_control", ant_cache_control()));
	}
	free(text);
	return blocks;
}

static size_t count_markers(const json_t *blocks)
{
	size_t i, n = 0;
	const json_t *b;

	json_array_foreach(blocks, i, b) if (json_object_get(b, "cache_control")) n++;
	return n;
}

/*
 * The newest user turn gets the moving cache breakpoint, on its last text or
 * image block; when tool results come after that turn, the newest tool
 * result is marked too (as @openclaw/ai does, within the 4-marker budget).
 */
static void ant_cache_messages(json_t *messages, long limit)
{
	json_t *fallback = NULL;
	long i;

	if (limit <= 0)
		return;
	for (i = (long)json_array_size(messages) - 1; i >= 0; i--) {
		json_t *msg = json_array_get(messages, (size_t)i);
		json_t *content = json_object_get(msg, "content");
		long j;

		if (!str_eq(js(msg, "role"), "user"))
			continue;
		if (json_is_string(content)) {
			if (fallback && limit == 1) {
				json_object_set_new(fallback, "cache_control", ant_cache_control());
				return;
			}
			json_object_set_new(msg, "content",
					    json_pack("[{s:s,s:O,s:o}]", "type", "text", "text",
						      content, "cache_control",
						      ant_cache_control()));
			if (fallback && limit > 1)
				json_object_set_new(fallback, "cache_control", ant_cache_control());
			return;
		}
		for (j = (long)json_array_size(content) - 1; j >= 0; j--) {
			json_t *b = json_array_get(content, (size_t)j);
			const char *type = js(b, "type");

			if (str_eq(type, "text") || str_eq(type, "image")) {
				if (fallback && limit == 1) {
					json_object_set_new(fallback, "cache_control",
							    ant_cache_control());
					return;
				}
				json_object_set_new(b, "cache_control", ant_cache_control());
				if (fallback && limit > 1)
					json_object_set_new(fallback, "cache_control",
							    ant_cache_control());
				return;
			}
			if (str_eq(type, "tool_result") && !fallback)
				fallback = b;
		}
	}
	if (fallback)
		json_object_set_new(fallback, "cache_control", ant_cache_control());
}

/* "minimal" … "xhigh" → the adaptive-thinking effort word. */
static const char *ant_effort(const char *id, const char *level)
{
	if (!level || !strcmp(level, "off") || !strcmp(level, "minimal") || !strcmp(level, "low"))
		return "low";
	if (!strcmp(level, "medium"))
		return "medium";
	if (!strcmp(level, "xhigh"))
		return ant_xhigh(id) ? "xhigh" : "high";
	return "high";
}

/* pi's default thinking budgets (adjustMaxTokensForThinking); xhigh clamps to high. */
static long ant_budget(const char *level)
{
	if (!strcmp(level, "minimal"))
		return 1024;
	if (!strcmp(level, "low"))
		return 2048;
	if (!strcmp(level, "medium"))
		return 8192;
	return 16384;
}

/*
 * max_tokens and the thinking object. Budget thinking grows max_tokens by
 * the budget (up to the model's cap) and is dropped when what remains
 * cannot hold the 1024-token minimum with room for an answer.
 */
static void ant_thinking(const struct prov_request *rq, json_t *body, bool *replay)
{
	const struct prov_model *m = rq->model;
	long model_max = m->max_tokens > 0 ? m->max_tokens : 4096;
	long base = rq->max_tokens > 0 ? rq->max_tokens : model_max;
	bool adaptive = ant_adaptive(m->id), required = ant_adaptive_required(m->id);
	const char *level = rq->thinking;

	if (base > model_max)
		base = model_max;
	if (base < 1)
		base = 1;
	*replay = required;
	if (!m->reasoning && !adaptive && !required) {
		json_object_set_new(body, "max_tokens", json_integer(base));
		return;
	}
	if (level_off(level) && !required) {
		json_object_set_new(body, "max_tokens", json_integer(base));
		json_object_set_new(body, "thinking", json_pack("{s:s}", "type", "disabled"));
		return;
	}
	*replay = true;
	if (adaptive || required) {
		json_object_set_new(body, "max_tokens", json_integer(base));
		json_object_set_new(
			body, "thinking",
			json_pack("{s:s,s:s}", "type", "adaptive", "display", "summarized"));
		json_object_set_new(body, "output_config",
				    json_pack("{s:s}", "effort", ant_effort(m->id, level)));
		return;
	}
	{
		long budget = ant_budget(level);
		long max = base + budget < model_max ? base + budget : model_max;

		if (max <= budget)
			budget = max - 1024 > 0 ? max - 1024 : 0;
		if (budget < ANT_MIN_BUDGET || budget >= max) {
			*replay = false;
			json_object_set_new(body, "max_tokens", json_integer(base));
			json_object_set_new(body, "thinking",
					    json_pack("{s:s}", "type", "disabled"));
			return;
		}
		json_object_set_new(body, "max_tokens", json_integer(max));
		json_object_set_new(body, "thinking",
				    json_pack("{s:s,s:I,s:s}", "type", "enabled", "budget_tokens",
					      (json_int_t)budget, "display", "summarized"));
	}
}

static bool has_header(const json_t *headers, const char *name)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)headers, k, v) if (!strcasecmp(k, name)) return true;
	return false;
}

static int ant_build(const struct prov_request *rq, struct prov_http *out, char *err, size_t errlen)
{
	const struct prov_model *m = rq->model;
	const char *base = m->base_url && *m->base_url ? m->base_url : ANT_DEFAULT_BASE;
	size_t blen = strlen(base);
	json_t *body, *msgs, *prepared, *system, *tools = NULL, *thinking_holder;
	bool replay = false;

	while (blen && base[blen - 1] == '/')
		blen--;
	if (blen >= 3 && !strncmp(base + blen - 3, "/v1", 3))
		out->url = xasprintf("%.*s/messages", (int)blen, base);
	else
		out->url = xasprintf("%.*s/v1/messages", (int)blen, base);

	if (rq->api_key && *rq->api_key && !has_header(m->headers, "x-api-key"))
		prov_http_header(out, "x-api-key: %s", rq->api_key);
	if (!has_header(m->headers, "anthropic-version"))
		prov_http_header(out, "anthropic-version: %s", ANT_VERSION);
	prov_http_header(out, "accept: application/json");
	/* interleaved thinking is built into the adaptive-thinking models */
	if (!ant_adaptive(m->id) && !has_header(m->headers, "anthropic-beta"))
		prov_http_header(out, "anthropic-beta: interleaved-thinking-2025-05-14");
	prov_http_model_headers(out, m);

	thinking_holder = json_object();
	ant_thinking(rq, thinking_holder, &replay);
	prepared = prov_transform_messages(rq);
	msgs = ant_messages(prepared, replay);
	json_decref(prepared);
	system = ant_system(rq->system, rq->cache);
	if (json_array_size(rq->tools) > 0)
		tools = ant_tools(rq->tools);

	body = json_object();
	json_object_set_new(body, "model", json_string(m->id));
	json_object_set_new(body, "messages", msgs);
	json_object_set(body, "max_tokens", json_object_get(thinking_holder, "max_tokens"));
	json_object_set_new(body, "stream", json_true());
	if (system)
		json_object_set_new(body, "system", system);
	if (tools && json_array_size(tools) > 0)
		json_object_set(body, "tools", tools);
	if (json_object_get(thinking_holder, "thinking"))
		json_object_set(body, "thinking", json_object_get(thinking_holder, "thinking"));
	if (json_object_get(thinking_holder, "output_config"))
		json_object_set(body, "output_config",
				json_object_get(thinking_holder, "output_config"));
	json_decref(thinking_holder);

	if (rq->cache) {
		json_t *t = json_object_get(body, "tools");

		if (json_array_size(t) > 0)
			json_object_set_new(json_array_get(t, json_array_size(t) - 1),
					    "cache_control", ant_cache_control());
		ant_cache_messages(msgs, ANT_CACHE_LIMIT - (long)count_markers(system) -
						 (long)count_markers(t));
	}
	json_decref(tools);

	return prov_http_json(out, body, err, errlen);
}

/* ==== errors ==== */

static enum prov_err_kind ant_kind(const char *type, const char *msg, long status)
{
	if (prov_err_is_overflow(msg) || str_eq(type, "request_too_large"))
		return PROV_ERR_CONTEXT_OVERFLOW;
	if ((msg && strcasestr(msg, "credit balance")) || str_eq(type, "billing_error"))
		return PROV_ERR_BILLING;
	if (str_eq(type, "authentication_error") || str_eq(type, "permission_error"))
		return PROV_ERR_AUTH;
	if (str_eq(type, "rate_limit_error"))
		return PROV_ERR_RATE_LIMIT;
	if (str_eq(type, "overloaded_error"))
		return PROV_ERR_OVERLOADED;
	if (str_eq(type, "timeout_error"))
		return PROV_ERR_TIMEOUT;
	if (str_eq(type, "invalid_request_error") || str_eq(type, "not_found_error"))
		return PROV_ERR_FORMAT;
	if (str_eq(type, "api_error"))
		return PROV_ERR_SERVER;
	return status ? prov_err_classify(status, msg) : PROV_ERR_UNKNOWN;
}

/*
 * {"type":"error","error":{"type":…,"message":…}}: the type says more than
 * the status (a 400 may be an overflow, a 529 is Anthropic's "overloaded").
 */
static void ant_error(long status, const char *body, size_t len, struct prov_error *out)
{
	json_t *root = json_loadb(body ? body : "", len, JSON_DECODE_ANY, NULL);
	json_t *e = json_object_get(root, "error");
	const char *type = js(e, "type");

	prov_err_generic(status, body, len, out);
	if (status == 529)
		out->kind = PROV_ERR_OVERLOADED;
	else if (type)
		out->kind = ant_kind(type, js(e, "message"), status);
	json_decref(root);
}

/* ==== stream ==== */

enum ant_block_type { ANT_NONE, ANT_TEXT, ANT_THINKING, ANT_REDACTED, ANT_TOOL };

struct ant_block {
	unsigned char type;
	bool open;
	bool args;  /* input_json_delta seen */
	char *seed; /* content_block_start's input, used when no delta came */
};

struct ant_state {
	struct ant_block *blocks;
	size_t nblocks, alloc;
	struct buf sig; /* signature_delta text of block sig_index */
	long sig_index;
	bool sig_init;
	bool saw_start, saw_stop, saw_reason;
};

static struct ant_block *ant_block(struct prov_stream *st, const json_t *ev, long *index)
{
	struct ant_state *s = prov_stream_priv(st);
	json_t *ix = json_object_get(ev, "index");
	json_int_t i;

	if (!json_is_integer(ix))
		return NULL;
	i = json_integer_value(ix);
	if (i < 0 || i >= ANT_MAX_BLOCKS)
		return NULL;
	if ((size_t)i >= s->nblocks) {
		s->blocks = xgrow(s->blocks, &s->alloc, (size_t)i + 1, sizeof(*s->blocks));
		memset(s->blocks + s->nblocks, 0,
		       ((size_t)i + 1 - s->nblocks) * sizeof(*s->blocks));
		s->nblocks = (size_t)i + 1;
	}
	*index = (long)i;
	return &s->blocks[i];
}

static int ant_fail_event(struct prov_stream *st, const json_t *ev)
{
	const json_t *e = json_object_get(ev, "error");
	const char *type = js(e, "type"), *msg = js(e, "message");

	prov_stream_fail(st, ant_kind(type, msg, 0), "Anthropic stream error%s%s%s: %s",
			 type ? " (" : "", type ? type : "", type ? ")" : "",
			 msg ? msg : "Anthropic Messages stream failed");
	return -1;
}

static int ant_block_start(struct prov_stream *st, const json_t *ev)
{
	const json_t *cb = json_object_get(ev, "content_block");
	const char *type = js(cb, "type");
	struct ant_block *b;
	long ix;

	if (!(b = ant_block(st, ev, &ix))) {
		prov_stream_fail(st, PROV_ERR_PROTOCOL,
				 "Anthropic stream: bad content block index");
		return -1;
	}
	free(b->seed);
	memset(b, 0, sizeof(*b));
	b->open = true;
	if (str_eq(type, "text")) {
		const char *t = js(cb, "text") ? js(cb, "text") : "";

		b->type = ANT_TEXT;
		prov_stream_text(st, (int)ix, t, strlen(t));
	} else if (str_eq(type, "thinking")) {
		const char *t = js(cb, "thinking") ? js(cb, "thinking") : "";
		const char *sig = js(cb, "signature");

		b->type = ANT_THINKING;
		prov_stream_thinking(st, (int)ix, t, strlen(t), sig && *sig ? sig : NULL);
	} else if (str_eq(type, "redacted_thinking")) {
		b->type = ANT_REDACTED;
		prov_stream_redacted(st, (int)ix, ANT_REDACTED_TEXT,
				     js(cb, "data") ? js(cb, "data") : "");
	} else if (str_eq(type, "tool_use")) {
		json_t *input = json_object_get(cb, "input");

		b->type = ANT_TOOL;
		if (json_is_object(input) && json_object_size(input) > 0)
			b->seed = json_dump_str(input, JSON_COMPACT);
		prov_stream_tool_begin(st, (int)ix, js(cb, "id") ? js(cb, "id") : "",
				       js(cb, "name") ? js(cb, "name") : "");
	} else {
		/* server tool blocks and the like: nothing the transcript keeps */
		b->open = false;
	}
	return 0;
}

static void ant_sig_flush(struct prov_stream *st)
{
	struct ant_state *s = prov_stream_priv(st);

	if (!s->sig_init || s->sig_index < 0)
		return;
	prov_stream_thinking(st, (int)s->sig_index, "", 0, s->sig.p);
	buf_reset(&s->sig);
	s->sig_index = -1;
}

static int ant_block_delta(struct prov_stream *st, const json_t *ev)
{
	struct ant_state *s = prov_stream_priv(st);
	const json_t *d = json_object_get(ev, "delta");
	const char *type = js(d, "type");
	struct ant_block *b;
	long ix;

	if (!(b = ant_block(st, ev, &ix)) || !b->open)
		return 0;
	if (b->type == ANT_TEXT && str_eq(type, "text_delta") && js(d, "text")) {
		const json_t *t = json_object_get(d, "text");

		prov_stream_text(st, (int)ix, json_string_value(t), json_string_length(t));
	} else if (b->type == ANT_THINKING && str_eq(type, "thinking_delta") && js(d, "thinking")) {
		const json_t *t = json_object_get(d, "thinking");

		prov_stream_thinking(st, (int)ix, json_string_value(t), json_string_length(t),
				     NULL);
	} else if (b->type == ANT_THINKING && str_eq(type, "signature_delta") &&
		   js(d, "signature")) {
		/* signatures may come in pieces; the whole one is set at block stop */
		if (!s->sig_init) {
			buf_init(&s->sig, ANT_MAX_SIGNATURE);
			s->sig_init = true;
			s->sig_index = -1;
		}
		if (s->sig_index != ix) {
			ant_sig_flush(st);
			s->sig_index = ix;
		}
		if (buf_puts(&s->sig, js(d, "signature")) < 0) {
			prov_stream_fail(st, PROV_ERR_PROTOCOL,
					 "Anthropic stream: thinking signature too large");
			return -1;
		}
	} else if (b->type == ANT_TOOL && str_eq(type, "input_json_delta") &&
		   js(d, "partial_json")) {
		const json_t *t = json_object_get(d, "partial_json");

		if (json_string_length(t) > 0)
			b->args = true;
		prov_stream_tool_args(st, (int)ix, json_string_value(t), json_string_length(t));
	}
	return 0;
}

static int ant_block_stop(struct prov_stream *st, const json_t *ev)
{
	struct ant_state *s = prov_stream_priv(st);
	struct ant_block *b;
	long ix;

	if (!(b = ant_block(st, ev, &ix)) || !b->open)
		return 0;
	b->open = false;
	if (b->type == ANT_THINKING && s->sig_init && s->sig_index == ix)
		ant_sig_flush(st);
	if (b->type == ANT_TOOL) {
		if (!b->args) {
			const char *seed = b->seed ? b->seed : "{}";

			prov_stream_tool_args(st, (int)ix, seed, strlen(seed));
		}
		free(b->seed);
		b->seed = NULL;
		if (prov_stream_tool_end(st, (int)ix) < 0)
			return -1;
	}
	return 0;
}

static int ant_usage(struct prov_stream *st, const json_t *u, bool start)
{
	json_t *in = json_object_get(u, "input_tokens"), *out = json_object_get(u, "output_tokens");
	json_t *cr = json_object_get(u, "cache_read_input_tokens");
	json_t *cw = json_object_get(u, "cache_creation_input_tokens");

	if (!json_is_object(u))
		return 0;
#define TOK(v, dflt)                                                                               \
	(json_is_integer(v) && json_integer_value(v) >= 0 ? (long)json_integer_value(v) : (dflt))
	/* message_start's missing cache fields mean zero; message_delta's mean "unchanged" */
	prov_stream_usage(st, TOK(in, -1), TOK(out, -1), TOK(cr, start ? 0 : -1),
			  TOK(cw, start ? 0 : -1));
#undef TOK
	return 0;
}

static int ant_message_delta(struct prov_stream *st, const json_t *ev)
{
	struct ant_state *s = prov_stream_priv(st);
	const json_t *d = json_object_get(ev, "delta");
	const char *reason = js(d, "stop_reason");

	ant_usage(st, json_object_get(ev, "usage"), false);
	if (!reason || !*reason)
		return 0;
	s->saw_reason = true;
	if (!strcmp(reason, "end_turn") || !strcmp(reason, "stop_sequence") ||
	    !strcmp(reason, "pause_turn") || !strcmp(reason, "compaction")) {
		prov_stream_stop(st, "stop");
	} else if (!strcmp(reason, "max_tokens") ||
		   !strcmp(reason, "model_context_window_exceeded")) {
		prov_stream_stop(st, "length");
	} else if (!strcmp(reason, "tool_use")) {
		prov_stream_stop(st, "toolUse");
	} else if (!strcmp(reason, "refusal") || !strcmp(reason, "sensitive")) {
		const json_t *det = json_object_get(d, "stop_details");
		const char *cat = js(det, "category"), *expl = js(det, "explanation");

		prov_stream_fail(st, PROV_ERR_REFUSAL, "Anthropic refusal%s%s%s%s%s",
				 cat ? " (category: " : "", cat ? cat : "", cat ? ")" : "",
				 expl ? ": " : ".", expl ? expl : "");
		return -1;
	} else {
		prov_stream_fail(st, PROV_ERR_PROTOCOL,
				 "Anthropic stream: unhandled stop reason %s", reason);
		return -1;
	}
	return 0;
}

static int ant_event(struct prov_stream *st, const char *event, const char *data, size_t len)
{
	struct ant_state *s = prov_stream_priv(st);
	json_error_t jerr;
	json_t *ev;
	const char *type;
	int rc = 0;

	if (event && !strcmp(event, "ping"))
		return 0;
	ev = json_loadb(data, len, 0, &jerr);
	if (!json_is_object(ev)) {
		json_decref(ev);
		if (event && !strcmp(event, "error")) {
			prov_stream_fail(st, PROV_ERR_SERVER, "Anthropic stream error: %.*s",
					 (int)str_utf8_prefix(data, len > 300 ? 300 : len), data);
			return -1;
		}
		prov_stream_fail(st, PROV_ERR_PROTOCOL, "Anthropic stream: malformed event: %s",
				 jerr.text);
		return -1;
	}
	type = js(ev, "type");
	if (!type)
		type = event ? event : "";
	if (!strcmp(type, "error") || (event && !strcmp(event, "error"))) {
		rc = ant_fail_event(st, ev);
	} else if (!strcmp(type, "message_start")) {
		const json_t *msg = json_object_get(ev, "message");

		s->saw_start = true;
		if (js(msg, "id"))
			prov_stream_response_id(st, js(msg, "id"));
		ant_usage(st, json_object_get(msg, "usage"), true);
	} else if (!strcmp(type, "content_block_start")) {
		rc = ant_block_start(st, ev);
	} else if (!strcmp(type, "content_block_delta")) {
		rc = ant_block_delta(st, ev);
	} else if (!strcmp(type, "content_block_stop")) {
		rc = ant_block_stop(st, ev);
	} else if (!strcmp(type, "message_delta")) {
		rc = ant_message_delta(st, ev);
	} else if (!strcmp(type, "message_stop")) {
		s->saw_stop = true;
		if (!s->saw_reason) {
			s->saw_reason = true;
			prov_stream_stop(st, "stop");
		}
	}
	json_decref(ev);
	return rc;
}

static int ant_finish(struct prov_stream *st)
{
	struct ant_state *s = prov_stream_priv(st);
	size_t i;

	for (i = 0; i < s->nblocks; i++) {
		if (s->blocks[i].open && s->blocks[i].type == ANT_TOOL) {
			prov_stream_fail(st, PROV_ERR_NETWORK,
					 "Anthropic stream ended inside a tool call");
			return -1;
		}
	}
	if (!s->saw_stop) {
		prov_stream_fail(st, PROV_ERR_NETWORK,
				 "Anthropic stream ended before message_stop");
		return -1;
	}
	return 0;
}

static void ant_release(struct prov_stream *st)
{
	struct ant_state *s = prov_stream_priv(st);
	size_t i;

	for (i = 0; i < s->nblocks; i++)
		free(s->blocks[i].seed);
	free(s->blocks);
	s->blocks = NULL;
	s->nblocks = s->alloc = 0;
	if (s->sig_init)
		buf_release(&s->sig);
	s->sig_init = false;
}

const struct prov_ops prov_anthropic = {
	.api = "anthropic-messages",
	.framing = PROV_FRAMING_SSE,
	.state_size = sizeof(struct ant_state),
	.build = ant_build,
	.event = ant_event,
	.finish = ant_finish,
	.error = ant_error,
	.release = ant_release,
};
