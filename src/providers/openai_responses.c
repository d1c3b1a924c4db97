/* openai_responses.c - the "openai-responses" wire format (POST /responses, SSE). */
#include <stdlib.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/mem.h"
#include "core/str.h"
#include "providers/provider.h"

/* ==== request ==== */

static json_t *input_message(const char *role, json_t *content)
{
	return json_pack("{s:s, s:s, s:o}", "type", "message", "role", role, "content", content);
}

static json_t *input_image(const json_t *blk)
{
	char *url = prov_image_data_url(blk);
	json_t *j = url ? json_pack("{s:s, s:s, s:s}", "type", "input_image", "detail", "auto",
				    "image_url", url)
			: NULL;
	free(url);
	return j;
}

static void user_items(json_t *input, const json_t *msg)
{
	json_t *content = json_object_get(msg, "content");
	json_t *parts = json_array();
	if (json_is_string(content)) {
		json_array_append_new(
			parts, json_pack("{s:s, s:O}", "type", "input_text", "text", content));
	} else {
		size_t i;
		json_t *blk;
		json_array_foreach(content, i, blk)
		{
			const char *type = json_string_value(json_object_get(blk, "type"));
			json_t *p = NULL;
			if (str_eq(type, "text"))
				p = json_pack("{s:s, s:O?}", "type", "input_text", "text",
					      json_object_get(blk, "text"));
			else if (str_eq(type, "image"))
				p = input_image(blk);
			if (p)
				json_array_append_new(parts, p);
		}
	}
	if (json_array_size(parts))
		json_array_append_new(input, input_message("user", parts));
	else
		json_decref(parts);
}

/* pi keeps "call_id|item_id" as the toolCall id; the API wants the call id alone. */
static char *call_id(const char *id)
{
	const char *bar = strchr(id, '|');
	return bar ? xstrndup(id, (size_t)(bar - id)) : xstrdup(id);
}

static void assistant_items(json_t *input, const json_t *msg)
{
	size_t i;
	json_t *blk;
	json_array_foreach(json_object_get(msg, "content"), i, blk)
	{
		const char *type = json_string_value(json_object_get(blk, "type"));
		if (str_eq(type, "thinking")) {
			/* The signature is the reasoning item itself, replayed verbatim. */
			const char *sig =
				json_string_value(json_object_get(blk, "thinkingSignature"));
			json_t *item = sig && *sig == '{' ? json_loads(sig, 0, NULL) : NULL;
			if (item &&
			    str_eq(json_string_value(json_object_get(item, "type")), "reasoning"))
				json_array_append(input, item);
			json_decref(item);
		} else if (str_eq(type, "text")) {
			json_array_append_new(input,
					      json_pack("{s:s, s:s, s:[{s:s, s:O?, s:[]}], s:s}",
							"type", "message", "role", "assistant",
							"content", "type", "output_text", "text",
							json_object_get(blk, "text"), "annotations",
							"status", "completed"));
		} else if (str_eq(type, "toolCall")) {
			const char *id = json_string_value(json_object_get(blk, "id"));
			char *cid = call_id(id ? id : "");
			json_t *args = json_object_get(blk, "arguments");
			char *a = args ? json_dump_str(args, JSON_COMPACT) : xstrdup("{}");
			json_array_append_new(input, json_pack("{s:s, s:s, s:O?, s:s}", "type",
							       "function_call", "call_id", cid,
							       "name", json_object_get(blk, "name"),
							       "arguments", a));
			free(cid);
			free(a);
		}
	}
}

static void tool_result_item(json_t *input, const json_t *msg, bool images)
{
	json_t *content = json_object_get(msg, "content");
	const char *id = json_string_value(json_object_get(msg, "toolCallId"));
	char *cid = call_id(id ? id : "");
	char *text = prov_tool_result_text(content);
	json_t *imgs = json_array();
	size_t i;
	json_t *blk;
	json_array_foreach(content, i, blk)
	{
		json_t *p;
		if (images && str_eq(json_string_value(json_object_get(blk, "type")), "image") &&
		    (p = input_image(blk)))
			json_array_append_new(imgs, p);
	}
	json_t *output;
	if (json_array_size(imgs)) {
		output = json_array();
		if (strcmp(text, "(see attached image)") != 0)
			json_array_append_new(output, json_pack("{s:s, s:s}", "type", "input_text",
								"text", text));
		json_array_extend(output, imgs);
	} else {
		output = json_string(text);
	}
	json_array_append_new(input, json_pack("{s:s, s:s, s:o}", "type", "function_call_output",
					       "call_id", cid, "output", output));
	json_decref(imgs);
	free(cid);
	free(text);
}

static bool native_openai(const struct prov_model *m)
{
	return m->base_url && strstr(m->base_url, "://api.openai.com") != NULL;
}

static int build(const struct prov_request *rq, struct prov_http *out, char *err, size_t errlen)
{
	const struct prov_model *m = rq->model;
	/* api.openai.com takes the system prompt as `instructions`; others as a first message. */
	bool instructions = native_openai(m);
	json_t *input = json_array();
	if (rq->system && *rq->system && !instructions)
		json_array_append_new(input,
				      input_message(m->reasoning ? "developer" : "system",
						    json_pack("[{s:s, s:s}]", "type", "input_text",
							      "text", rq->system)));
	json_t *conv = prov_transform_messages(rq);
	size_t i;
	json_t *msg;
	json_array_foreach(conv, i, msg)
	{
		const char *role = prov_msg_role(msg);
		if (strcmp(role, "user") == 0)
			user_items(input, msg);
		else if (strcmp(role, "assistant") == 0)
			assistant_items(input, msg);
		else if (strcmp(role, "toolResult") == 0)
			tool_result_item(input, msg, m->input_image);
	}
	json_decref(conv);

	json_t *body = json_pack("{s:s, s:o, s:b}", "model", m->id, "input", input, "stream", 1);
	if (instructions && rq->system && *rq->system)
		json_object_set_new(body, "instructions", json_string(rq->system));
	long max = prov_max_tokens(rq);
	json_object_set_new(body, "max_output_tokens", json_integer(max < 16 ? 16 : max));
	if (json_array_size(rq->tools)) {
		json_t *tools = json_array();
		json_t *t;
		json_array_foreach(rq->tools, i, t)
		{
			json_t *fn = json_pack("{s:s, s:O?}", "type", "function", "name",
					       json_object_get(t, "name"));
			if (json_object_get(t, "description"))
				json_object_set(fn, "description",
						json_object_get(t, "description"));
			json_object_set_new(
				fn, "parameters",
				json_object_get(t, "parameters")
					? json_incref(json_object_get(t, "parameters"))
					: json_pack("{s:s, s:{}}", "type", "object", "properties"));
			json_object_set_new(fn, "strict", json_false());
			json_array_append_new(tools, fn);
		}
		json_object_set_new(body, "tools", tools);
	}
	const char *effort = prov_reasoning_effort(rq);
	if (effort) {
		json_object_set_new(body, "reasoning",
				    json_pack("{s:s, s:s}", "effort", effort, "summary", "auto"));
		json_object_set_new(body, "include",
				    json_pack("[s]", "reasoning.encrypted_content"));
	}
	json_object_set_new(body, "store", json_false());

	prov_http_url(out, m->base_url, "/responses");
	if (prov_http_json(out, body, err, errlen) < 0)
		return -1;
	prov_http_header(out, "Accept: application/json");
	if (rq->api_key && *rq->api_key && m->auth_header)
		prov_http_header(out, "Authorization: Bearer %s", rq->api_key);
	prov_http_model_headers(out, m);
	return 0;
}

/* ==== stream ==== */

/* Blocks are numbered by output_index, which orders the response's items. */
static int out_index(const json_t *ev)
{
	json_t *i = json_object_get(ev, "output_index");
	return json_is_integer(i) ? (int)json_integer_value(i) : 0;
}

static void item_added(struct prov_stream *st, const json_t *ev)
{
	json_t *item = json_object_get(ev, "item");
	const char *type = json_string_value(json_object_get(item, "type"));
	int idx = out_index(ev);
	if (str_eq(type, "function_call")) {
		const char *cid = json_string_value(json_object_get(item, "call_id"));
		const char *iid = json_string_value(json_object_get(item, "id"));
		char *id = iid ? xasprintf("%s|%s", cid ? cid : "", iid) : xstrdup(cid ? cid : "");
		prov_stream_tool_begin(st, idx, id,
				       json_string_value(json_object_get(item, "name")));
		free(id);
		json_t *a = json_object_get(item, "arguments");
		if (json_string_length(a))
			prov_stream_tool_args(st, idx, json_string_value(a), json_string_length(a));
	}
}

static void item_done(struct prov_stream *st, const json_t *ev)
{
	json_t *item = json_object_get(ev, "item");
	const char *type = json_string_value(json_object_get(item, "type"));
	int idx = out_index(ev);
	if (str_eq(type, "reasoning")) {
		char *sig = json_dump_str(item, JSON_COMPACT);
		prov_stream_thinking(st, idx, "", 0, sig);
		free(sig);
	} else if (str_eq(type, "function_call")) {
		prov_stream_tool_end(st, idx);
	}
}

static void usage(struct prov_stream *st, const json_t *resp)
{
	json_t *u = json_object_get(resp, "usage");
	if (!json_is_object(u))
		return;
	long in = (long)json_integer_value(json_object_get(u, "input_tokens"));
	long out = (long)json_integer_value(json_object_get(u, "output_tokens"));
	long cached = (long)json_integer_value(
		json_object_get(json_object_get(u, "input_tokens_details"), "cached_tokens"));
	prov_stream_usage(st, in - cached < 0 ? 0 : in - cached, out, cached, 0);
}

static const char *error_message(const json_t *e, const char *fallback)
{
	const char *m = json_string_value(json_object_get(e, "message"));
	return m ? m : fallback;
}

static int event(struct prov_stream *st, const char *evname, const char *data, size_t len)
{
	json_t *ev = prov_stream_json(st, data, len);
	if (!ev)
		return -1;
	const char *type = json_string_value(json_object_get(ev, "type"));
	if (!type)
		type = evname ? evname : "";
	json_t *resp = json_object_get(ev, "response");
	json_t *delta = json_object_get(ev, "delta");
	const char *p = prov_stream_provider(st);

	if (strcmp(type, "response.created") == 0 || strcmp(type, "response.in_progress") == 0) {
		prov_stream_response_id(st, json_string_value(json_object_get(resp, "id")));
	} else if (strcmp(type, "response.output_item.added") == 0) {
		item_added(st, ev);
	} else if (strcmp(type, "response.output_text.delta") == 0 ||
		   strcmp(type, "response.refusal.delta") == 0) {
		prov_stream_text(st, out_index(ev), json_string_value(delta),
				 json_string_length(delta));
	} else if (strcmp(type, "response.reasoning_summary_text.delta") == 0 ||
		   strcmp(type, "response.reasoning_text.delta") == 0) {
		prov_stream_thinking(st, out_index(ev), json_string_value(delta),
				     json_string_length(delta), NULL);
	} else if (strcmp(type, "response.reasoning_summary_part.done") == 0) {
		/* pi separates summary parts with a blank line. */
		prov_stream_thinking(st, out_index(ev), "\n\n", 2, NULL);
	} else if (strcmp(type, "response.function_call_arguments.delta") == 0) {
		prov_stream_tool_args(st, out_index(ev), json_string_value(delta),
				      json_string_length(delta));
	} else if (strcmp(type, "response.function_call_arguments.done") == 0) {
		prov_stream_tool_end(st, out_index(ev));
	} else if (strcmp(type, "response.output_item.done") == 0) {
		item_done(st, ev);
	} else if (strcmp(type, "response.completed") == 0) {
		prov_stream_response_id(st, json_string_value(json_object_get(resp, "id")));
		usage(st, resp);
		prov_stream_stop(st, "stop"); /* the driver makes it toolUse when calls arrived */
	} else if (strcmp(type, "response.incomplete") == 0) {
		usage(st, resp);
		const char *why = json_string_value(
			json_object_get(json_object_get(resp, "incomplete_details"), "reason"));
		if (str_eq(why, "content_filter"))
			prov_stream_fail(st, PROV_ERR_REFUSAL,
					 "%s stopped the response: content_filter", p);
		else
			prov_stream_stop(st, "length");
	} else if (strcmp(type, "response.failed") == 0) {
		usage(st, resp);
		const char *m = error_message(json_object_get(resp, "error"), "response failed");
		prov_stream_fail(st, prov_err_classify(0, m), "%s: %s", p, m);
	} else if (strcmp(type, "error") == 0) {
		const char *m = error_message(ev, NULL);
		if (!m)
			m = error_message(json_object_get(ev, "error"), "error in stream");
		const char *code = json_string_value(json_object_get(ev, "code"));
		char probe[600];
		snprintf(probe, sizeof(probe), "%s %s", m, code ? code : "");
		prov_stream_fail(st, prov_err_classify(0, probe), "%s: %s", p, m);
	}
	json_decref(ev);
	return prov_stream_failed(st) ? -1 : 0;
}

const struct prov_ops prov_openai_responses = {
	.api = "openai-responses",
	.framing = PROV_FRAMING_SSE,
	.build = build,
	.event = event,
};
