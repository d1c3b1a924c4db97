/* openai_chat.c - the "openai-completions" wire format (POST /chat/completions, SSE). */
#include <stdlib.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/mem.h"
#include "core/str.h"
#include "providers/provider.h"

#define MAX_TOOL_CALLS 1024

/* ==== request ==== */

static json_t *user_content(const json_t *content)
{
	if (json_is_string(content))
		return json_incref((json_t *)content);
	json_t *parts = json_array();
	size_t i;
	json_t *blk;
	json_array_foreach(content, i, blk)
	{
		const char *type = json_string_value(json_object_get(blk, "type"));
		if (str_eq(type, "text")) {
			json_array_append_new(parts,
					      json_pack("{s:s, s:O?}", "type", "text", "text",
							json_object_get(blk, "text")));
		} else if (str_eq(type, "image")) {
			char *url = prov_image_data_url(blk);
			if (url)
				json_array_append_new(parts, json_pack("{s:s, s:{s:s}}", "type",
								       "image_url", "image_url",
								       "url", url));
			free(url);
		}
	}
	return parts;
}

static json_t *assistant_message(const json_t *msg)
{
	struct buf text, thinking;
	buf_init(&text, BUF_UNLIMITED);
	buf_init(&thinking, BUF_UNLIMITED);
	const char *sigfield = NULL;
	json_t *calls = json_array();
	size_t i;
	json_t *blk;
	json_array_foreach(json_object_get(msg, "content"), i, blk)
	{
		const char *type = json_string_value(json_object_get(blk, "type"));
		const char *t;
		if (str_eq(type, "text") && (t = json_string_value(json_object_get(blk, "text")))) {
			if (strspn(t, " \t\r\n") == strlen(t))
				continue;
			if (text.len)
				buf_putc(&text, '\n');
			buf_puts(&text, t);
		} else if (str_eq(type, "thinking") &&
			   (t = json_string_value(json_object_get(blk, "thinking")))) {
			if (strspn(t, " \t\r\n") == strlen(t))
				continue;
			/* The signature names the field the server streamed it in (reasoning_content, …). */
			if (!sigfield && !thinking.len)
				sigfield = json_string_value(
					json_object_get(blk, "thinkingSignature"));
			if (thinking.len)
				buf_putc(&thinking, '\n');
			buf_puts(&thinking, t);
		} else if (str_eq(type, "toolCall")) {
			json_t *args = json_object_get(blk, "arguments");
			char *a = args ? json_dump_str(args, JSON_COMPACT) : xstrdup("{}");
			json_array_append_new(calls, json_pack("{s:O?, s:s, s:{s:O?, s:s}}", "id",
							       json_object_get(blk, "id"), "type",
							       "function", "function", "name",
							       json_object_get(blk, "name"),
							       "arguments", a));
			free(a);
		}
	}
	json_t *m = NULL;
	if (text.len || json_array_size(calls)) {
		m = json_pack("{s:s}", "role", "assistant");
		json_object_set_new(m, "content", text.len ? json_string(text.p) : json_null());
		if (sigfield && *sigfield && thinking.len)
			json_object_set_new(m, sigfield, json_string(thinking.p));
		if (json_array_size(calls))
			json_object_set(m, "tool_calls", calls);
	}
	json_decref(calls);
	buf_release(&text);
	buf_release(&thinking);
	return m;
}

/*
 * Consecutive tool results become role "tool" messages; their images, which
 * a tool message cannot carry, follow in one user message (as pi sends them).
 */
static size_t tool_results(json_t *out, const json_t *msgs, size_t i, bool images)
{
	json_t *img = json_array();
	size_t j = i;
	for (; j < json_array_size(msgs); j++) {
		const json_t *tr = json_array_get(msgs, j);
		if (strcmp(prov_msg_role(tr), "toolResult") != 0)
			break;
		json_t *content = json_object_get(tr, "content");
		char *text = prov_tool_result_text(content);
		json_array_append_new(out,
				      json_pack("{s:s, s:s, s:O?}", "role", "tool", "content", text,
						"tool_call_id", json_object_get(tr, "toolCallId")));
		free(text);
		bool first = true;
		size_t k;
		json_t *blk;
		json_array_foreach(content, k, blk)
		{
			char *url;
			if (!images ||
			    !str_eq(json_string_value(json_object_get(blk, "type")), "image") ||
			    !(url = prov_image_data_url(blk)))
				continue;
			if (first) {
				const char *name =
					json_string_value(json_object_get(tr, "toolName"));
				char *label =
					name && *name
						? xasprintf("Image(s) from tool result #%zu (%s):",
							    j - i + 1, name)
						: xasprintf("Image(s) from tool result #%zu:",
							    j - i + 1);
				json_array_append_new(img, json_pack("{s:s, s:s}", "type", "text",
								     "text", label));
				free(label);
				first = false;
			}
			json_array_append_new(img, json_pack("{s:s, s:{s:s}}", "type", "image_url",
							     "image_url", "url", url));
			free(url);
		}
	}
	if (json_array_size(img))
		json_array_append_new(out, json_pack("{s:s, s:O}", "role", "user", "content", img));
	json_decref(img);
	return j;
}

static bool native_openai(const struct prov_model *m)
{
	return m->base_url && strstr(m->base_url, "://api.openai.com") != NULL;
}

static int build(const struct prov_request *rq, struct prov_http *out, char *err, size_t errlen)
{
	const struct prov_model *m = rq->model;
	json_t *msgs = json_array();
	if (rq->system && *rq->system)
		json_array_append_new(
			msgs, json_pack("{s:s, s:s}", "role",
					m->reasoning && native_openai(m) ? "developer" : "system",
					"content", rq->system));
	json_t *conv = prov_transform_messages(rq);
	for (size_t i = 0; i < json_array_size(conv);) {
		const json_t *msg = json_array_get(conv, i);
		const char *role = prov_msg_role(msg);
		if (strcmp(role, "toolResult") == 0) {
			i = tool_results(msgs, conv, i, m->input_image);
			continue;
		}
		if (strcmp(role, "user") == 0) {
			json_t *c = user_content(json_object_get(msg, "content"));
			if (json_is_array(c) && json_array_size(c) == 0)
				json_decref(c);
			else
				json_array_append_new(msgs, json_pack("{s:s, s:o}", "role", "user",
								      "content", c));
		} else if (strcmp(role, "assistant") == 0) {
			json_t *a = assistant_message(msg);
			if (a)
				json_array_append_new(msgs, a);
		}
		i++;
	}
	json_decref(conv);

	json_t *body = json_pack("{s:s, s:o, s:b, s:{s:b}}", "model", m->id, "messages", msgs,
				 "stream", 1, "stream_options", "include_usage", 1);
	if (json_array_size(rq->tools)) {
		json_t *tools = json_array();
		size_t i;
		json_t *t;
		json_array_foreach(rq->tools, i, t)
		{
			json_t *fn = json_pack("{s:O}", "name", json_object_get(t, "name"));
			if (json_object_get(t, "description"))
				json_object_set(fn, "description",
						json_object_get(t, "description"));
			json_object_set_new(
				fn, "parameters",
				json_object_get(t, "parameters")
					? json_incref(json_object_get(t, "parameters"))
					: json_pack("{s:s, s:{}}", "type", "object", "properties"));
			json_array_append_new(
				tools, json_pack("{s:s, s:o}", "type", "function", "function", fn));
		}
		json_object_set_new(body, "tools", tools);
		json_object_set_new(body, "tool_choice", json_string("auto"));
	}
	json_object_set_new(body, "max_completion_tokens", json_integer(prov_max_tokens(rq)));
	const char *effort = prov_reasoning_effort(rq);
	if (effort)
		json_object_set_new(body, "reasoning_effort", json_string(effort));

	prov_http_url(out, m->base_url, "/chat/completions");
	if (prov_http_json(out, body, err, errlen) < 0)
		return -1;
	prov_http_header(out, "Accept: application/json");
	if (rq->api_key && *rq->api_key && m->auth_header)
		prov_http_header(out, "Authorization: Bearer %s", rq->api_key);
	prov_http_model_headers(out, m);
	return 0;
}

/* ==== stream ==== */

struct tool_slot {
	int stream_index; /* tool_calls[].index */
	int block;        /* our content block */
	char *id;
};

struct chat_state {
	int next_block;
	int cur_block; /* the block text/thinking deltas extend, -1 none */
	enum { CUR_NONE, CUR_TEXT, CUR_THINKING, CUR_TOOL } cur;
	struct tool_slot *tools;
	size_t ntools, atools;
	bool done; /* [DONE] */
};

static int block_for(struct chat_state *cs, int kind)
{
	if ((int)cs->cur != kind) {
		cs->cur = kind;
		cs->cur_block = cs->next_block++;
	}
	return cs->cur_block;
}

static struct tool_slot *tool_slot(struct prov_stream *st, struct chat_state *cs, const json_t *tc)
{
	json_t *ji = json_object_get(tc, "index");
	const char *id = json_string_value(json_object_get(tc, "id"));
	for (size_t i = 0; i < cs->ntools; i++) {
		struct tool_slot *s = &cs->tools[i];
		if (json_is_integer(ji) ? s->stream_index == json_integer_value(ji)
					: (id && s->id && strcmp(s->id, id) == 0))
			return s;
	}
	if (!json_is_integer(ji) && !id && cs->ntools) /* a bare continuation */
		return &cs->tools[cs->ntools - 1];
	if (cs->ntools >= MAX_TOOL_CALLS) {
		prov_stream_fail(st, PROV_ERR_PROTOCOL, "%s sent over %d tool calls",
				 prov_stream_provider(st), MAX_TOOL_CALLS);
		return NULL;
	}
	cs->tools = xgrow(cs->tools, &cs->atools, cs->ntools + 1, sizeof(*cs->tools));
	struct tool_slot *s = &cs->tools[cs->ntools++];
	s->stream_index = json_is_integer(ji) ? (int)json_integer_value(ji) : (int)cs->ntools - 1;
	s->block = cs->next_block++;
	s->id = id ? xstrdup(id) : NULL;
	cs->cur = CUR_TOOL;
	cs->cur_block = s->block;
	return s;
}

static void usage(struct prov_stream *st, const json_t *u)
{
	json_t *d = json_object_get(u, "prompt_tokens_details");
	long prompt = (long)json_integer_value(json_object_get(u, "prompt_tokens"));
	long out = (long)json_integer_value(json_object_get(u, "completion_tokens"));
	json_t *cr = json_object_get(d, "cached_tokens");
	if (!cr)
		cr = json_object_get(u, "prompt_cache_hit_tokens");
	json_t *cw = json_object_get(d, "cache_write_tokens");
	if (!cw)
		cw = json_object_get(d, "cache_creation_input_tokens");
	long read = (long)json_integer_value(cr), write = (long)json_integer_value(cw);
	long input = prompt - read - write;
	prov_stream_usage(st, input < 0 ? 0 : input, out, read, write);
}

static void finish_reason(struct prov_stream *st, const char *r)
{
	if (strcmp(r, "stop") == 0 || strcmp(r, "end") == 0)
		prov_stream_stop(st, "stop");
	else if (strcmp(r, "length") == 0)
		prov_stream_stop(st, "length");
	else if (strcmp(r, "tool_calls") == 0 || strcmp(r, "function_call") == 0 ||
		 strcmp(r, "tool_call") == 0)
		prov_stream_stop(st, "toolUse");
	else if (strcmp(r, "content_filter") == 0)
		prov_stream_fail(st, PROV_ERR_REFUSAL, "Provider finish_reason: content_filter");
	else if (strcmp(r, "network_error") == 0)
		prov_stream_fail(st, PROV_ERR_NETWORK, "Provider finish_reason: network_error");
	else
		prov_stream_fail(st, PROV_ERR_UNKNOWN, "Provider finish_reason: %s", r);
}

static void delta(struct prov_stream *st, struct chat_state *cs, const json_t *d)
{
	static const char *const reasoning[] = { "reasoning_content", "reasoning" };
	for (size_t i = 0; i < ARRAY_SIZE(reasoning); i++) {
		json_t *r = json_object_get(d, reasoning[i]);
		if (json_is_string(r) && json_string_length(r))
			prov_stream_thinking(st, block_for(cs, CUR_THINKING), json_string_value(r),
					     json_string_length(r), reasoning[i]);
	}
	json_t *c = json_object_get(d, "content");
	if (json_is_string(c) && json_string_length(c))
		prov_stream_text(st, block_for(cs, CUR_TEXT), json_string_value(c),
				 json_string_length(c));
	size_t i;
	json_t *tc;
	json_array_foreach(json_object_get(d, "tool_calls"), i, tc)
	{
		struct tool_slot *s = tool_slot(st, cs, tc);
		if (!s)
			return;
		json_t *fn = json_object_get(tc, "function");
		const char *id = json_string_value(json_object_get(tc, "id"));
		if (id && !s->id)
			s->id = xstrdup(id);
		prov_stream_tool_begin(st, s->block, id,
				       json_string_value(json_object_get(fn, "name")));
		json_t *args = json_object_get(fn, "arguments");
		if (json_is_string(args))
			prov_stream_tool_args(st, s->block, json_string_value(args),
					      json_string_length(args));
		else if (json_is_object(args)) /* some servers send the object itself */
			prov_stream_tool_call(st, s->block, id, NULL, args);
	}
}

static int event(struct prov_stream *st, const char *ev, const char *data, size_t len)
{
	struct chat_state *cs = prov_stream_priv(st);
	if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
		cs->done = true;
		return 0;
	}
	json_t *j = prov_stream_json(st, data, len);
	if (!j)
		return -1;
	json_t *e = json_object_get(j, "error");
	if (e) {
		const char *msg = json_string_value(json_object_get(e, "message"));
		if (!msg)
			msg = json_string_value(e);
		prov_stream_fail(st, prov_err_classify(0, msg), "%s: %s", prov_stream_provider(st),
				 msg ? msg : "error in stream");
		json_decref(j);
		return -1;
	}
	prov_stream_response_id(st, json_string_value(json_object_get(j, "id")));
	if (json_is_object(json_object_get(j, "usage")))
		usage(st, json_object_get(j, "usage"));
	json_t *choice = json_array_get(json_object_get(j, "choices"), 0);
	if (choice) {
		if (!json_object_get(j, "usage") &&
		    json_is_object(json_object_get(choice, "usage")))
			usage(st, json_object_get(choice, "usage"));
		json_t *d = json_object_get(choice, "delta");
		if (!d)
			d = json_object_get(choice, "message");
		if (json_is_object(d))
			delta(st, cs, d);
		const char *fr = json_string_value(json_object_get(choice, "finish_reason"));
		if (fr && !prov_stream_failed(st))
			finish_reason(st, fr);
	}
	json_decref(j);
	return prov_stream_failed(st) ? -1 : 0;
}

/* pi takes a stream that ends after [DONE] without a finish_reason as a plain stop. */
static int finish(struct prov_stream *st)
{
	struct chat_state *cs = prov_stream_priv(st);
	if (!prov_stream_has_stop(st) && cs->done)
		prov_stream_stop(st, "stop");
	return prov_stream_has_stop(st) ? 0 : -1;
}

static void release(struct prov_stream *st)
{
	struct chat_state *cs = prov_stream_priv(st);
	for (size_t i = 0; i < cs->ntools; i++)
		free(cs->tools[i].id);
	free(cs->tools);
}

const struct prov_ops prov_openai_chat = {
	.api = "openai-completions",
	.framing = PROV_FRAMING_SSE,
	.state_size = sizeof(struct chat_state),
	.build = build,
	.event = event,
	.finish = finish,
	.release = release,
};
