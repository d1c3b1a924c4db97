/* ollama.c - the "ollama" wire format (POST /api/chat, NDJSON). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/jsonx.h"
#include "core/mem.h"
#include "core/str.h"
#include "providers/provider.h"

#define OLLAMA_DEFAULT_BASE "http://127.0.0.1:11434"

/* ==== request ==== */

/* Ollama takes one string per message: text blocks run together, as OpenClaw joins them. */
static char *joined(const json_t *content, const char *type, const char *field)
{
	if (json_is_string(content))
		return xstrdup(strcmp(type, "text") == 0 ? json_string_value(content) : "");
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	size_t i;
	json_t *blk;
	json_array_foreach(content, i, blk)
	{
		const char *t = json_string_value(json_object_get(blk, field));
		if (t && str_eq(json_string_value(json_object_get(blk, "type")), type) &&
		    !json_is_true(json_object_get(blk, "redacted")))
			buf_puts(&b, t);
	}
	return buf_detach(&b, NULL);
}

static json_t *images(const json_t *content)
{
	json_t *a = json_array();
	size_t i;
	json_t *blk;
	json_array_foreach(content, i, blk)
	{
		json_t *d = json_object_get(blk, "data");
		if (str_eq(json_string_value(json_object_get(blk, "type")), "image") &&
		    json_is_string(d))
			json_array_append(a, d);
	}
	return a;
}

static void with_images(json_t *m, const json_t *content)
{
	json_t *img = images(content);
	if (json_array_size(img))
		json_object_set(m, "images", img);
	json_decref(img);
}

static json_t *assistant_message(const json_t *msg)
{
	json_t *content = json_object_get(msg, "content");
	char *text = joined(content, "text", "text");
	char *thinking = joined(content, "thinking", "thinking");
	json_t *m = json_pack("{s:s, s:s}", "role", "assistant", "content", text);
	if (*thinking)
		json_object_set_new(m, "thinking", json_string(thinking));
	json_t *calls = json_array();
	size_t i;
	json_t *blk;
	json_array_foreach(content, i, blk)
	{
		if (!str_eq(json_string_value(json_object_get(blk, "type")), "toolCall"))
			continue;
		json_t *args = json_object_get(blk, "arguments");
		json_t *call = json_pack("{s:{s:O?, s:o}}", "function", "name",
					 json_object_get(blk, "name"), "arguments",
					 json_is_object(args) ? json_incref(args) : json_object());
		json_t *id = json_object_get(blk, "id");
		if (json_string_length(id))
			json_object_set(call, "id", id);
		json_array_append_new(calls, call);
	}
	if (json_array_size(calls))
		json_object_set(m, "tool_calls", calls);
	json_decref(calls);
	free(text);
	free(thinking);
	return m;
}

static json_t *tool_message(const json_t *msg)
{
	json_t *content = json_object_get(msg, "content");
	char *text = prov_tool_result_text(content);
	json_t *m = json_pack("{s:s, s:s}", "role", "tool", "content", text);
	free(text);
	with_images(m, content);
	json_t *id = json_object_get(msg, "toolCallId");
	if (json_string_length(id))
		json_object_set(m, "tool_call_id", id);
	json_t *name = json_object_get(msg, "toolName");
	if (json_string_length(name))
		json_object_set(m, "tool_name", name);
	return m;
}

static int tool_name_cmp(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "name"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "name"));
	return strcmp(x ? x : "", y ? y : "");
}

/* Tools sorted by name, as OpenClaw sends them (a stable prompt for Ollama's cache). */
static json_t *tools(const json_t *in)
{
	size_t n = json_array_size(in);
	json_t **v = xcalloc(n ? n : 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(in, i);
	qsort(v, n, sizeof(*v), tool_name_cmp);
	json_t *out = json_array();
	for (size_t i = 0; i < n; i++) {
		const char *name = json_string_value(json_object_get(v[i], "name"));
		if (!name || !*name)
			continue;
		const char *desc = json_string_value(json_object_get(v[i], "description"));
		json_t *params = json_object_get(v[i], "parameters");
		json_array_append_new(out, json_pack("{s:s, s:{s:s, s:s, s:o}}", "type", "function",
						     "function", "name", name, "description",
						     desc ? desc : "", "parameters",
						     params ? json_incref(params)
							    : json_pack("{s:s, s:{}}", "type",
									"object", "properties")));
	}
	free(v);
	return out;
}

static int build(const struct prov_request *rq, struct prov_http *out, char *err, size_t errlen)
{
	const struct prov_model *m = rq->model;
	json_t *msgs = json_array();
	if (rq->system && *rq->system)
		json_array_append_new(
			msgs, json_pack("{s:s, s:s}", "role", "system", "content", rq->system));
	json_t *conv = prov_transform_messages(rq);
	size_t i;
	json_t *msg;
	json_array_foreach(conv, i, msg)
	{
		const char *role = prov_msg_role(msg);
		json_t *content = json_object_get(msg, "content");
		if (strcmp(role, "user") == 0) {
			char *text = joined(content, "text", "text");
			json_t *u = json_pack("{s:s, s:s}", "role", "user", "content", text);
			free(text);
			with_images(u, content);
			json_array_append_new(msgs, u);
		} else if (strcmp(role, "assistant") == 0) {
			json_array_append_new(msgs, assistant_message(msg));
		} else if (strcmp(role, "toolResult") == 0) {
			json_array_append_new(msgs, tool_message(msg));
		}
	}
	json_decref(conv);

	json_t *body = json_pack("{s:s, s:o, s:b}", "model", m->id, "messages", msgs, "stream", 1);
	if (json_array_size(rq->tools))
		json_object_set_new(body, "tools", tools(rq->tools));
	json_t *options = json_object();
	if (m->context_window > 0)
		json_object_set_new(options, "num_ctx", json_integer(m->context_window));
	json_object_set_new(options, "num_predict", json_integer(prov_max_tokens(rq)));
	json_object_set_new(body, "options", options);
	if (prov_thinking_on(rq))
		json_object_set_new(body, "think", json_true());

	/* The OpenAI-compatible base (".../v1") is a common configuration; the native API is beside it. */
	const char *base = m->base_url && *m->base_url ? m->base_url : OLLAMA_DEFAULT_BASE;
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	char *root = xstrndup(base, n);
	if (n >= 3 && strcasecmp(root + n - 3, "/v1") == 0)
		root[n - 3] = '\0';
	prov_http_url(out, root, "/api/chat");
	free(root);
	if (prov_http_json(out, body, err, errlen) < 0)
		return -1;
	if (rq->api_key && *rq->api_key && m->auth_header)
		prov_http_header(out, "Authorization: Bearer %s", rq->api_key);
	prov_http_model_headers(out, m);
	return 0;
}

/* ==== stream ==== */

/* Blocks: thinking first, then text, then the tool calls (OpenClaw's order). */
enum { IDX_THINKING = 0, IDX_TEXT = 1, IDX_TOOLS = 2 };

struct ollama_state {
	int ntools;
	bool done;
};

static void done_line(struct prov_stream *st, struct ollama_state *os, const json_t *j)
{
	json_t *pe = json_object_get(j, "prompt_eval_count");
	json_t *ev = json_object_get(j, "eval_count");
	json_t *pc = json_object_get(j, "prompt_eval_cached_count");
	long prompt = (long)json_integer_value(pe), cached = (long)json_integer_value(pc);
	if (cached > prompt)
		cached = prompt;
	prov_stream_usage(st, json_is_integer(pe) ? prompt - cached : -1,
			  json_is_integer(ev) ? (long)json_integer_value(ev) : -1,
			  json_is_integer(pc) ? cached : -1, -1);
	const char *why = json_string_value(json_object_get(j, "done_reason"));
	if (str_eq(why, "length"))
		prov_stream_stop(st, "length");
	else
		prov_stream_stop(st, os->ntools ? "toolUse" : "stop");
	os->done = true;
}

static int event(struct prov_stream *st, const char *ev, const char *data, size_t len)
{
	struct ollama_state *os = prov_stream_priv(st);
	json_t *j = prov_stream_json(st, data, len);
	if (!j)
		return -1;
	json_t *e = json_object_get(j, "error");
	if (json_is_string(e)) {
		long status = (long)json_integer_value(json_object_get(j, "status"));
		prov_stream_fail(st, prov_err_classify(status, json_string_value(e)), "%s: %s",
				 prov_stream_provider(st), json_string_value(e));
		json_decref(j);
		return -1;
	}
	json_t *msg = json_object_get(j, "message");
	if (!json_is_object(msg) || !json_is_boolean(json_object_get(j, "done"))) {
		prov_stream_fail(st, PROV_ERR_PROTOCOL, "%s sent a line that is not a chat chunk",
				 prov_stream_provider(st));
		json_decref(j);
		return -1;
	}
	json_t *th = json_object_get(msg, "thinking");
	if (!json_is_string(th))
		th = json_object_get(msg, "reasoning");
	if (json_string_length(th) && st && prov_stream_request(st)->model->reasoning)
		prov_stream_thinking(st, IDX_THINKING, json_string_value(th),
				     json_string_length(th), NULL);
	json_t *c = json_object_get(msg, "content");
	if (json_string_length(c))
		prov_stream_text(st, IDX_TEXT, json_string_value(c), json_string_length(c));
	size_t i;
	json_t *tc;
	json_array_foreach(json_object_get(msg, "tool_calls"), i, tc)
	{
		json_t *fn = json_object_get(tc, "function");
		const char *name = json_string_value(json_object_get(fn, "name"));
		const char *id = json_string_value(json_object_get(tc, "id"));
		char *gen = NULL;
		if (!id || !*id) /* older Ollama gives no ids; the transcript needs one */
			id = gen = xasprintf("ollama_call_%d", os->ntools + 1);
		json_t *args = json_object_get(fn, "arguments");
		json_t *parsed = NULL;
		if (json_is_string(args)) /* some models' templates yield a JSON string */
			args = parsed = json_loads(json_string_value(args), 0, NULL);
		prov_stream_tool_call(st, IDX_TOOLS + os->ntools++, id, name ? name : "", args);
		json_decref(parsed);
		free(gen);
	}
	if (json_is_true(json_object_get(j, "done")))
		done_line(st, os, j);
	json_decref(j);
	return prov_stream_failed(st) ? -1 : 0;
}

static int finish(struct prov_stream *st)
{
	struct ollama_state *os = prov_stream_priv(st);
	return os->done ? 0 : -1;
}

const struct prov_ops prov_ollama = {
	.api = "ollama",
	.framing = PROV_FRAMING_NDJSON,
	.state_size = sizeof(struct ollama_state),
	.build = build,
	.event = event,
	.finish = finish,
};
