/*
 * gemini.c - the Gemini API's streamGenerateContent (api
 * "google-generative-ai"): request building, the SSE chunks and error
 * bodies.
 *
 * The request is the REST form of what @openclaw/ai hands @google/genai:
 * systemInstruction as a user content, tool results as functionResponse
 * parts (a run of them in one user turn), tools as functionDeclarations
 * with parametersJsonSchema (full JSON Schema, so nothing is stripped),
 * sorted by name, and thinkingConfig by model family.
 */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/mem.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "providers/provider.h"

#define GEM_DEFAULT_BASE   "https://generativelanguage.googleapis.com/v1beta"
#define GEM_SKIP_SIGNATURE "skip_thought_signature_validator"
#define GEM_MAX_TOOL_IDS   4096 /* tool call ids remembered for de-duplication */

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

static bool same_model(const json_t *msg, const struct prov_model *m)
{
	return str_eq(js(msg, "provider"), m->provider) && str_eq(js(msg, "api"), m->api) &&
	       str_eq(js(msg, "model"), m->id);
}

static bool gem3_pro(const char *id)
{
	return prov_model_matches(id, "gemini-(3(\\.[0-9]+)?-pro|pro-latest)");
}

static bool gem3_flash(const char *id)
{
	return prov_model_matches(id, "gemini-(3(\\.[0-9]+)?-flash|flash(-lite)?-latest)");
}

static bool gemma4(const char *id)
{
	return prov_model_matches(id, "gemma-?4");
}

/*
 * The number captured by group 2 of `pattern` in the lowercased id, or -1
 * when the pattern does not match.
 */
static long id_number(const char *id, const char *pattern)
{
	regex_t re;
	regmatch_t mt[3];
	char *lower = xstrdup(id ? id : "");
	long n = -1;

	for (char *p = lower; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (regcomp(&re, pattern, REG_EXTENDED) != 0)
		BUG("bad model pattern %s", pattern);
	if (regexec(&re, lower, 3, mt, 0) == 0 && mt[2].rm_so >= 0)
		n = strtol(lower + mt[2].rm_so, NULL, 10);
	regfree(&re);
	free(lower);
	return n;
}

/* Gemini 3.7+ Flash dropped the MINIMAL thinking level. */
static bool flash_minimal(const char *id)
{
	long minor = id_number(id, "(^|/)gemini-3\\.([0-9]+)-flash(-|$)");

	return minor < 0 || minor < 7;
}

/* Models behind the Gemini API that insist on ids in function calls and responses. */
static bool needs_call_id(const char *id)
{
	return str_starts_with(id, "claude-") || str_starts_with(id, "gpt-oss-");
}

/* Gemini 3+ takes images inside a functionResponse; older ones want a user turn. */
static bool multimodal_response(const char *id)
{
	long major = id_number(id, "(^|/)gemini-live-([0-9]+)");

	if (major < 0)
		major = id_number(id, "(^|/)gemini-([0-9]+)");

	return major < 0 || major >= 3;
}

/* A thought signature is replayed only when it is well-formed base64. */
static const char *valid_signature(const char *s)
{
	size_t n, i;

	if (!s || !(n = strlen(s)) || n % 4)
		return NULL;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (isalnum((unsigned char)c) || c == '+' || c == '/')
			continue;
		if (c == '=' && i >= n - 2 && (i == n - 1 || s[n - 1] == '='))
			continue;
		return NULL;
	}
	return s;
}

static char *gem_tool_id(const char *id, const char *model)
{
	char *out;
	size_t n;

	if (!needs_call_id(model))
		return xstrdup(id);
	n = strlen(id) > 64 ? 64 : strlen(id);
	out = xstrndup(id, n);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)out[i]) && out[i] != '_' && out[i] != '-')
			out[i] = '_';
	return out;
}

/* ==== request ==== */

static json_t *gem_inline(const json_t *b)
{
	return json_pack("{s:{s:s,s:s}}", "inlineData", "mimeType",
			 js(b, "mimeType") ? js(b, "mimeType") : "image/png", "data",
			 js(b, "data") ? js(b, "data") : "");
}

static bool has_image_data(const json_t *b)
{
	return str_eq(js(b, "type"), "image") && js(b, "data") && *js(b, "data");
}

/* Images already became placeholders for a model without image input (prov_transform_messages). */
static json_t *gem_user(const json_t *msg)
{
	const json_t *content = json_object_get(msg, "content"), *b;
	json_t *parts = json_array();
	size_t i;

	if (json_is_string(content)) {
		const char *t = json_string_value(content);

		json_array_append_new(parts, json_pack("{s:s}", "text", *t ? t : " "));
		return json_pack("{s:s,s:o}", "role", "user", "parts", parts);
	}
	json_array_foreach(content, i, b)
	{
		const char *type = js(b, "type");

		if (str_eq(type, "text")) {
			const char *t = js(b, "text");

			json_array_append_new(parts, json_pack("{s:s}", "text", t && *t ? t : " "));
		} else if (str_eq(type, "image")) {
			json_array_append_new(parts, gem_inline(b));
		}
	}
	if (json_array_size(parts) == 0)
		json_array_append_new(parts, json_pack("{s:s}", "text", " "));
	return json_pack("{s:s,s:o}", "role", "user", "parts", parts);
}

/*
 * Replay state across assistant turns: ids of our own tool calls (their
 * responses carry the id back) and whether a Gemini 3 call needs a
 * signature it has none of.
 */
struct gem_conv {
	const struct prov_model *m;
	bool need_call_signature;
	json_t *own_ids; /* {id: true} */
};

static json_t *gem_assistant(struct gem_conv *c, const json_t *msg)
{
	bool same = same_model(msg, c->m);
	bool saw_call = false;
	json_t *parts = json_array(), *b;
	size_t i;

	json_array_foreach(json_object_get(msg, "content"), i, b)
	{
		const char *type = js(b, "type");

		if (str_eq(type, "text")) {
			const char *sig = same ? valid_signature(js(b, "textSignature")) : NULL;
			const char *t = js(b, "text");

			if (blank(t) && !sig)
				continue;
			json_array_append_new(parts, json_pack("{s:s,s:s*}", "text", t ? t : "",
							       "thoughtSignature", sig));
		} else if (str_eq(type, "thinking")) {
			const char *sig = same ? valid_signature(js(b, "thinkingSignature")) : NULL;
			const char *t = js(b, "thinking");

			if (blank(t) && !sig)
				continue;
			if (same)
				json_array_append_new(parts, json_pack("{s:b,s:s,s:s*}", "thought",
								       1, "text", t ? t : "",
								       "thoughtSignature", sig));
			else
				json_array_append_new(parts,
						      json_pack("{s:s}", "text", t ? t : ""));
		} else if (str_eq(type, "toolCall")) {
			json_t *args = json_object_get(b, "arguments");
			char *id = gem_tool_id(js(b, "id") ? js(b, "id") : "", c->m->id);
			const char *sig = same ? valid_signature(js(b, "thoughtSignature")) : NULL;
			json_t *call;

			if (same && !str_eq(c->m->provider, "google-gemini-cli"))
				json_object_set_new(c->own_ids, id, json_true());
			/* Gemini 3 rejects an unsigned first call; this marker is its documented way out */
			if (!sig && c->need_call_signature && !saw_call)
				sig = GEM_SKIP_SIGNATURE;
			saw_call = true;
			call = json_pack("{s:s,s:o}", "name", js(b, "name") ? js(b, "name") : "",
					 "args",
					 json_is_object(args) ? json_incref(args) : json_object());
			if (json_object_get(c->own_ids, id) || needs_call_id(c->m->id))
				json_object_set_new(call, "id", json_string(id));
			json_array_append_new(parts, json_pack("{s:o,s:s*}", "functionCall", call,
							       "thoughtSignature", sig));
			free(id);
		}
	}
	if (json_array_size(parts) == 0) {
		json_decref(parts);
		return NULL;
	}
	return json_pack("{s:s,s:o}", "role", "model", "parts", parts);
}

static json_t *gem_function_response(struct gem_conv *c, const json_t *msg, json_t *image_turns)
{
	const json_t *content = json_object_get(msg, "content"), *b;
	bool err = json_is_true(json_object_get(msg, "isError"));
	char *id = gem_tool_id(js(msg, "toolCallId") ? js(msg, "toolCallId") : "", c->m->id);
	json_t *images = json_array(), *fr;
	char *text;
	size_t i;

	if (json_is_string(content)) {
		text = xstrdup(json_string_value(content));
	} else {
		struct buf tb;

		buf_init(&tb, BUF_UNLIMITED);
		json_array_foreach(content, i, b)
		{
			const char *t = NULL;

			if (str_eq(js(b, "type"), "text"))
				t = js(b, "text");
			else if (has_image_data(b))
				json_array_append_new(images, gem_inline(b));
			if (!t)
				continue;
			if (tb.len)
				buf_putc(&tb, '\n');
			buf_puts(&tb, t);
		}
		text = buf_detach(&tb, NULL);
	}
	fr = json_pack("{s:s,s:{s:s}}", "name", js(msg, "toolName") ? js(msg, "toolName") : "",
		       "response", err ? "error" : "output", text);
	free(text);
	if (json_array_size(images) > 0 && multimodal_response(c->m->id))
		json_object_set(fr, "parts", images);
	else if (json_array_size(images) > 0) {
		json_t *turn = json_pack("{s:s,s:[{s:s}]}", "role", "user", "parts", "text",
					 "Tool result image:");

		json_array_extend(json_object_get(turn, "parts"), images);
		json_array_append_new(image_turns, turn);
	}
	json_decref(images);
	if (json_object_get(c->own_ids, id) || needs_call_id(c->m->id))
		json_object_set_new(fr, "id", json_string(id));
	free(id);
	return json_pack("{s:o}", "functionResponse", fr);
}

static json_t *gem_contents(const json_t *msgs, const struct prov_model *m)
{
	struct gem_conv c = {
		.m = m,
		.need_call_signature = !str_eq(m->provider, "google-gemini-cli") &&
				       (gem3_pro(m->id) || gem3_flash(m->id)),
		.own_ids = json_object(),
	};
	json_t *out = json_array(), *run = NULL, *image_turns = json_array(), *x;
	const json_t *msg;
	size_t i;

	json_array_foreach(msgs, i, msg)
	{
		const char *role = js(msg, "role");

		if (!str_eq(role, "toolResult")) {
			/* a run of tool results ends: images older models could not take follow */
			json_array_extend(out, image_turns);
			json_array_clear(image_turns);
			run = NULL;
		}
		if (str_eq(role, "user")) {
			json_array_append_new(out, gem_user(msg));
		} else if (str_eq(role, "assistant")) {
			if ((x = gem_assistant(&c, msg)))
				json_array_append_new(out, x);
		} else if (str_eq(role, "toolResult")) {
			x = gem_function_response(&c, msg, image_turns);
			if (!run) {
				json_array_append_new(
					out, json_pack("{s:s,s:[]}", "role", "user", "parts"));
				run = json_object_get(json_array_get(out, json_array_size(out) - 1),
						      "parts");
			}
			json_array_append_new(run, x);
		}
	}
	json_array_extend(out, image_turns);
	json_decref(image_turns);
	json_decref(c.own_ids);
	if (json_array_size(out) == 0)
		json_array_append_new(
			out, json_pack("{s:s,s:[{s:s}]}", "role", "user", "parts", "text", " "));
	return out;
}

static int gem_tool_cmp(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const char *xn = js(x, "name") ? js(x, "name") : "",
		   *yn = js(y, "name") ? js(y, "name") : "";
	const char *xd = js(x, "description") ? js(x, "description") : "";
	const char *yd = js(y, "description") ? js(y, "description") : "";
	int c = strcmp(xn, yn);

	return c ? c : strcmp(xd, yd);
}

/* Sorted by name, as pi does, so the prompt prefix stays stable for caching. */
static json_t *gem_tools(const json_t *tools)
{
	size_t i, n = json_array_size(tools);
	const json_t **v = xcalloc(n + 1, sizeof(*v));
	json_t *decls = json_array();

	for (i = 0; i < n; i++)
		v[i] = json_array_get(tools, i);
	qsort(v, n, sizeof(*v), gem_tool_cmp);
	for (i = 0; i < n; i++) {
		json_t *params = json_object_get(v[i], "parameters");
		json_t *d = json_pack("{s:s}", "name", js(v[i], "name") ? js(v[i], "name") : "");

		if (js(v[i], "description"))
			json_object_set_new(d, "description", json_string(js(v[i], "description")));
		if (params)
			json_object_set(d, "parametersJsonSchema", params);
		json_array_append_new(decls, d);
	}
	free(v);
	return json_pack("[{s:o}]", "functionDeclarations", decls);
}

/* pi's thinking budgets for the 2.5 family; -1 lets the model decide. */
static long gem_budget(const char *id, const char *level)
{
	static const struct {
		const char *family;
		long b[4]; /* minimal, low, medium, high */
	} table[] = {
		{ "2.5-pro", { 128, 2048, 8192, 32768 } },
		{ "2.5-flash-lite", { 512, 2048, 8192, 24576 } },
		{ "2.5-flash", { 128, 2048, 8192, 24576 } },
	};
	int li = !strcmp(level, "minimal")  ? 0
		 : !strcmp(level, "low")    ? 1
		 : !strcmp(level, "medium") ? 2
					    : 3;

	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (strstr(id, table[i].family))
			return table[i].b[li];
	return -1;
}

static const char *gem_level(const char *id, const char *level)
{
	bool minimal = !strcmp(level, "minimal"), low = !strcmp(level, "low");
	bool medium = !strcmp(level, "medium");

	if (gem3_pro(id))
		return minimal || low ? "LOW" : "HIGH";
	if (gemma4(id))
		return minimal || low ? "MINIMAL" : "HIGH";
	if (minimal)
		return gem3_flash(id) && !flash_minimal(id) ? "LOW" : "MINIMAL";
	if (low)
		return "LOW";
	if (medium)
		return "MEDIUM";
	return "HIGH";
}

/* thinkingConfig, or NULL to leave the model's default. */
static json_t *gem_thinking(const struct prov_request *rq)
{
	const char *id = rq->model->id;
	const char *level = rq->thinking;

	if (!rq->model->reasoning)
		return NULL;
	if (!level || !*level || !strcmp(level, "off")) {
		if (gem3_pro(id))
			return json_pack("{s:s}", "thinkingLevel", "LOW");
		if (gem3_flash(id))
			return json_pack("{s:s}", "thinkingLevel",
					 flash_minimal(id) ? "MINIMAL" : "LOW");
		if (gemma4(id) || prov_model_matches(id, "gemini-2\\.5-pro"))
			return NULL;
		return json_pack("{s:i}", "thinkingBudget", 0);
	}
	if (!strcmp(level, "xhigh") || !strcmp(level, "max"))
		level = "high";
	if (gem3_pro(id) || gem3_flash(id) || gemma4(id))
		return json_pack("{s:b,s:s}", "includeThoughts", 1, "thinkingLevel",
				 gem_level(id, level));
	return json_pack("{s:b,s:I}", "includeThoughts", 1, "thinkingBudget",
			 (json_int_t)gem_budget(id, level));
}

static bool has_header(const json_t *headers, const char *name)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)headers, k, v)
	{
		if (!strcasecmp(k, name))
			return true;
	}
	return false;
}

/* OpenClaw's prompt markers mean nothing to Gemini (it has no cache breakpoints). */
static char *strip_markers(const char *s)
{
	static const char *const marks[][2] = {
		{ "\n<!-- OPENCLAW_CACHE_BOUNDARY -->\n", "\n" },
		{ "<!-- OPENCLAW_CACHE_BOUNDARY -->", "" },
		{ "\n<!-- OPENCLAW-RELOCATABLE-BOUNDARY -->\n", "\n" },
		{ "\n<!-- /OPENCLAW-RELOCATABLE-BOUNDARY -->", "" },
		{ "<!-- OPENCLAW-RELOCATABLE-BOUNDARY -->", "" },
		{ "<!-- /OPENCLAW-RELOCATABLE-BOUNDARY -->", "" },
	};
	char *cur = xstrdup(s);

	for (size_t i = 0; i < ARRAY_SIZE(marks); i++) {
		struct buf b;
		const char *p, *at = cur;
		size_t fl = strlen(marks[i][0]);

		buf_init(&b, BUF_UNLIMITED);
		while ((p = strstr(at, marks[i][0]))) {
			buf_append(&b, at, (size_t)(p - at));
			buf_puts(&b, marks[i][1]);
			at = p + fl;
		}
		buf_puts(&b, at);
		free(cur);
		cur = buf_detach(&b, NULL);
	}
	return cur;
}

static int gem_build(const struct prov_request *rq, struct prov_http *out, char *err, size_t errlen)
{
	const struct prov_model *m = rq->model;
	const char *base = m->base_url && *m->base_url ? m->base_url : GEM_DEFAULT_BASE;
	const char *model = m->id ? m->id : "";
	json_t *body, *prepared, *gen, *thinking;
	long max_tokens = rq->max_tokens > 0 ? rq->max_tokens : m->max_tokens;
	char *path;

	if (str_starts_with(model, "models/"))
		model += strlen("models/");
	path = xasprintf("/models/%s:streamGenerateContent?alt=sse", model);
	prov_http_url(out, base, path);
	free(path);
	if (rq->api_key && *rq->api_key && !has_header(m->headers, "x-goog-api-key"))
		prov_http_header(out, "x-goog-api-key: %s", rq->api_key);
	prov_http_model_headers(out, m);

	body = json_object();
	prepared = prov_transform_messages(rq);
	json_object_set_new(body, "contents", gem_contents(prepared, m));
	json_decref(prepared);
	if (rq->system && *rq->system) {
		char *sys = strip_markers(rq->system);

		json_object_set_new(
			body, "systemInstruction",
			json_pack("{s:s,s:[{s:s}]}", "role", "user", "parts", "text", sys));
		free(sys);
	}
	if (json_array_size(rq->tools) > 0)
		json_object_set_new(body, "tools", gem_tools(rq->tools));
	gen = json_object();
	if (max_tokens > 0)
		json_object_set_new(gen, "maxOutputTokens", json_integer(max_tokens));
	if ((thinking = gem_thinking(rq)))
		json_object_set_new(gen, "thinkingConfig", thinking);
	if (json_object_size(gen) > 0)
		json_object_set_new(body, "generationConfig", gen);
	else
		json_decref(gen);
	return prov_http_json(out, body, err, errlen);
}

/* ==== errors ==== */

/* google.rpc.Code names, which say more than the HTTP status. */
static enum prov_err_kind gem_kind(const char *status, const char *msg, long http)
{
	if (msg && strcasestr(msg, "API key not valid"))
		return PROV_ERR_AUTH;
	if (prov_err_is_overflow(msg) ||
	    (msg && strcasestr(msg, "exceeds the maximum number of tokens")))
		return PROV_ERR_CONTEXT_OVERFLOW;
	if (str_eq(status, "RESOURCE_EXHAUSTED"))
		return PROV_ERR_RATE_LIMIT;
	if (str_eq(status, "UNAUTHENTICATED") || str_eq(status, "PERMISSION_DENIED"))
		return PROV_ERR_AUTH;
	if (str_eq(status, "INVALID_ARGUMENT") || str_eq(status, "FAILED_PRECONDITION") ||
	    str_eq(status, "NOT_FOUND") || str_eq(status, "OUT_OF_RANGE"))
		return PROV_ERR_FORMAT;
	if (str_eq(status, "UNAVAILABLE"))
		return PROV_ERR_OVERLOADED;
	if (str_eq(status, "DEADLINE_EXCEEDED"))
		return PROV_ERR_TIMEOUT;
	if (str_eq(status, "INTERNAL") || str_eq(status, "UNKNOWN"))
		return PROV_ERR_SERVER;
	if (str_eq(status, "CANCELLED"))
		return PROV_ERR_NETWORK;
	return http ? prov_err_classify(http, msg) : PROV_ERR_SERVER;
}

/* {"error":{…}}, also wrapped in an array as streaming endpoints answer. */
static json_t *gem_error_obj(json_t *root)
{
	if (json_is_array(root))
		root = json_array_get(root, 0);
	return json_object_get(root, "error");
}

static void gem_error(long status, const char *body, size_t len, struct prov_error *out)
{
	json_t *root = json_loadb(body ? body : "", len, JSON_DECODE_ANY, NULL);
	json_t *e = gem_error_obj(root);
	const char *msg = js(e, "message");

	prov_err_generic(status, body, len, out);
	if (msg)
		snprintf(out->message, sizeof(out->message), "%s", msg);
	if (e)
		out->kind = gem_kind(js(e, "status"), msg, status);
	json_decref(root);
}

/* ==== stream ==== */

enum gem_cur { GEM_NONE, GEM_TEXT, GEM_THINKING };

struct gem_state {
	int next; /* next block index */
	int cur;  /* the open text/thinking block's index */
	unsigned char cur_kind;
	bool saw_finish;
	bool tool_calls;
	unsigned long counter; /* generated tool call ids */
	json_t *ids;           /* tool call ids seen */
	long usage[5];         /* prompt, cached, toolUsePrompt, candidates, thoughts */
};

static int gem_finish_reason(struct prov_stream *st, const json_t *cand)
{
	struct gem_state *s = prov_stream_priv(st);
	const char *r = js(cand, "finishReason"), *fm = js(cand, "finishMessage");
	static const char *const refusals[] = {
		"SAFETY", "RECITATION",   "PROHIBITED_CONTENT",       "BLOCKLIST",
		"SPII",   "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION"
	};
	static const char *const errors[] = { "OTHER",
					      "LANGUAGE",
					      "MALFORMED_FUNCTION_CALL",
					      "TOO_MANY_TOOL_CALLS",
					      "UNEXPECTED_TOOL_CALL",
					      "NO_IMAGE",
					      "IMAGE_OTHER" };
	size_t i;

	if (!r || !*r || !strcmp(r, "FINISH_REASON_UNSPECIFIED"))
		return 0;
	s->saw_finish = true;
	if (!strcmp(r, "STOP")) {
		prov_stream_stop(st, s->tool_calls ? "toolUse" : "stop");
		return 0;
	}
	if (!strcmp(r, "MAX_TOKENS")) {
		prov_stream_stop(st, "length");
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(refusals); i++)
		if (!strcmp(r, refusals[i])) {
			prov_stream_fail(st, PROV_ERR_REFUSAL, "Google generation stopped (%s)%s%s",
					 r, fm ? ": " : "", fm ? fm : "");
			return -1;
		}
	for (i = 0; i < ARRAY_SIZE(errors); i++)
		if (!strcmp(r, errors[i])) {
			prov_stream_fail(st, PROV_ERR_UNKNOWN, "Google generation stopped (%s)%s%s",
					 r, fm ? ": " : "", fm ? fm : "");
			return -1;
		}
	prov_stream_fail(st, PROV_ERR_PROTOCOL, "Google stream: unhandled finish reason %s", r);
	return -1;
}

static void gem_usage(struct prov_stream *st, const json_t *um)
{
	static const char *const fields[] = { "promptTokenCount", "cachedContentTokenCount",
					      "toolUsePromptTokenCount", "candidatesTokenCount",
					      "thoughtsTokenCount" };
	struct gem_state *s = prov_stream_priv(st);
	long input;

	if (!json_is_object(um))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		json_t *v = json_object_get(um, fields[i]);

		if (json_is_integer(v) && json_integer_value(v) >= 0)
			s->usage[i] = (long)json_integer_value(v);
	}
	/* Gemini counts cached tokens inside the prompt; pi reports them apart */
	input = s->usage[0] > s->usage[1] ? s->usage[0] - s->usage[1] : 0;
	prov_stream_usage(st, input + s->usage[2], s->usage[3] + s->usage[4], s->usage[1], 0);
}

static void gem_part_text(struct prov_stream *st, const json_t *part)
{
	struct gem_state *s = prov_stream_priv(st);
	const json_t *tv = json_object_get(part, "text");
	bool thought = json_is_true(json_object_get(part, "thought"));
	const char *sig = js(part, "thoughtSignature");
	unsigned char kind = thought ? GEM_THINKING : GEM_TEXT;

	if (sig && !*sig)
		sig = NULL;
	if (!json_is_string(tv)) {
		/* a signature-only part signs the thinking before it */
		if (sig && s->cur_kind == GEM_THINKING)
			prov_stream_thinking(st, s->cur, "", 0, sig);
		return;
	}
	if (s->cur_kind != kind) {
		s->cur = s->next++;
		s->cur_kind = kind;
	}
	if (kind == GEM_THINKING)
		prov_stream_thinking(st, s->cur, json_string_value(tv), json_string_length(tv),
				     sig);
	else
		prov_stream_text(st, s->cur, json_string_value(tv), json_string_length(tv));
}

static void gem_part_call(struct prov_stream *st, const json_t *fc)
{
	struct gem_state *s = prov_stream_priv(st);
	const char *name = js(fc, "name") ? js(fc, "name") : "";
	const char *given = js(fc, "id");
	char *id;

	s->cur_kind = GEM_NONE;
	if (!s->ids)
		s->ids = json_object();
	/* Gemini rarely names its calls; pi makes "<name>_<ms>_<n>" ids */
	if (given && *given && !json_object_get(s->ids, given))
		id = xstrdup(given);
	else
		id = xasprintf("%s_%lld_%lu", name, (long long)time_now_ms(), ++s->counter);
	if (json_object_size(s->ids) < GEM_MAX_TOOL_IDS)
		json_object_set_new(s->ids, id, json_true());
	prov_stream_tool_call(st, s->next++, id, name, json_object_get(fc, "args"));
	s->tool_calls = true;
	free(id);
}

static int gem_event(struct prov_stream *st, const char *event, const char *data, size_t len)
{
	json_error_t jerr;
	json_t *chunk, *cand, *e, *part;
	const json_t *fb;
	size_t i;
	int rc = 0;

	if (len == 0)
		return 0;
	chunk = json_loadb(data, len, 0, &jerr);
	if (!json_is_object(chunk) && !json_is_array(chunk)) {
		json_decref(chunk);
		prov_stream_fail(st, PROV_ERR_PROTOCOL, "Google stream: malformed chunk: %s",
				 jerr.text);
		return -1;
	}
	if ((e = gem_error_obj(chunk))) {
		const char *msg = js(e, "message");
		json_t *code = json_object_get(e, "code");

		prov_stream_fail(
			st,
			gem_kind(js(e, "status"), msg,
				 json_is_integer(code) ? (long)json_integer_value(code) : 0),
			"Google stream error%s%s%s: %s", js(e, "status") ? " (" : "",
			js(e, "status") ? js(e, "status") : "", js(e, "status") ? ")" : "",
			msg ? msg : "unknown error");
		json_decref(chunk);
		return -1;
	}
	if (!json_is_object(chunk)) {
		json_decref(chunk);
		prov_stream_fail(st, PROV_ERR_PROTOCOL, "Google stream: chunk is not an object");
		return -1;
	}
	if (js(chunk, "responseId"))
		prov_stream_response_id(st, js(chunk, "responseId"));
	gem_usage(st, json_object_get(chunk, "usageMetadata"));
	cand = json_array_get(json_object_get(chunk, "candidates"), 0);
	fb = json_object_get(chunk, "promptFeedback");
	if (!cand && json_is_object(fb)) {
		const char *reason = js(fb, "blockReason"), *bm = js(fb, "blockReasonMessage");

		prov_stream_fail(st, PROV_ERR_REFUSAL, "Google prompt blocked (%s)%s%s",
				 reason ? reason : "PROMPT_BLOCKED", bm ? ": " : "", bm ? bm : "");
		json_decref(chunk);
		return -1;
	}
	json_array_foreach(json_object_get(json_object_get(cand, "content"), "parts"), i, part)
	{
		json_t *fc = json_object_get(part, "functionCall");

		if (json_object_get(part, "text") || js(part, "thoughtSignature"))
			if (!json_is_object(fc))
				gem_part_text(st, part);
		if (json_is_object(fc))
			gem_part_call(st, fc);
		if (prov_stream_failed(st)) {
			rc = -1;
			break;
		}
	}
	if (!rc)
		rc = gem_finish_reason(st, cand);
	json_decref(chunk);
	return rc;
}

static int gem_finish(struct prov_stream *st)
{
	struct gem_state *s = prov_stream_priv(st);

	if (!s->saw_finish) {
		prov_stream_fail(st, PROV_ERR_NETWORK,
				 "Google stream ended before a terminal finish reason");
		return -1;
	}
	return 0;
}

static void gem_release(struct prov_stream *st)
{
	struct gem_state *s = prov_stream_priv(st);

	json_decref(s->ids);
	s->ids = NULL;
}

const struct prov_ops prov_gemini = {
	.api = "google-generative-ai",
	.framing = PROV_FRAMING_SSE,
	.state_size = sizeof(struct gem_state),
	.build = gem_build,
	.event = gem_event,
	.finish = gem_finish,
	.error = gem_error,
	.release = gem_release,
};
