/* provider.c - the shared model-call driver: HTTP, framing, errors, assembly. */
#include "providers/provider.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <regex.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/jsonx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "net/http_client.h"
#include "net/sse.h"

#define PROV_MAX_EVENT    (8u << 20)   /* one SSE event / NDJSON line */
#define PROV_MAX_ERRBODY  (64u << 10)  /* body of a non-2xx answer we keep */
#define PROV_MAX_BLOCK    (64u << 20)  /* text of one content block */
#define PROV_MAX_BODY     (256u << 20) /* request body (images inline) */
#define PROV_IDLE_DEFAULT 120000L

/* ==== ops registry ==== */

/*
 * anthropic.c and gemini.c are written in parallel; weak references let
 * this file link before they exist (their address is then NULL).
 */
extern const struct prov_ops prov_anthropic __attribute__((weak));
extern const struct prov_ops prov_gemini __attribute__((weak));

const struct prov_ops *prov_ops_find(const char *api)
{
	const struct prov_ops *const table[] = {
		&prov_openai_chat, &prov_openai_responses, &prov_anthropic,
		&prov_ollama,      &prov_gemini,
	};
	if (!api)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (table[i] && table[i]->api && strcmp(table[i]->api, api) == 0)
			return table[i];
	return NULL;
}

/* ==== models and requests ==== */

void prov_model_release(struct prov_model *m)
{
	if (!m)
		return;
	free(m->provider);
	free(m->id);
	free(m->name);
	free(m->api);
	free(m->base_url);
	json_decref(m->headers);
	memset(m, 0, sizeof(*m));
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void prov_model_copy(struct prov_model *dst, const struct prov_model *src)
{
	*dst = *src;
	dst->provider = dup_or_null(src->provider);
	dst->id = dup_or_null(src->id);
	dst->name = dup_or_null(src->name);
	dst->api = dup_or_null(src->api);
	dst->base_url = dup_or_null(src->base_url);
	dst->headers = src->headers ? json_deep_copy(src->headers) : NULL;
}

void prov_http_init(struct prov_http *h)
{
	memset(h, 0, sizeof(*h));
	h->headers = xcalloc(1, sizeof(char *));
	buf_init(&h->body, PROV_MAX_BODY);
}

void prov_http_release(struct prov_http *h)
{
	free(h->url);
	for (size_t i = 0; h->headers && i < h->nheaders; i++)
		free(h->headers[i]);
	free(h->headers);
	buf_release(&h->body);
	memset(h, 0, sizeof(*h));
}

void prov_http_header(struct prov_http *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *line = xvasprintf(fmt, ap);
	va_end(ap);
	h->headers = xrealloc(h->headers, (h->nheaders + 2) * sizeof(char *));
	h->headers[h->nheaders++] = line;
	h->headers[h->nheaders] = NULL;
}

void prov_http_url(struct prov_http *h, const char *base, const char *path)
{
	free(h->url);
	h->url = NULL;
	if (!base || !*base)
		return; /* the driver reports the missing base URL */
	size_t n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	h->url = xasprintf("%.*s%s", (int)n, base, path);
}

int prov_http_json(struct prov_http *h, json_t *body, char *err, size_t errlen)
{
	char *s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(body);
	if (!s) {
		snprintf(err, errlen, "cannot serialise the request body");
		return -1;
	}
	buf_reset(&h->body);
	int rc = buf_puts(&h->body, s);
	free(s);
	if (rc < 0) {
		snprintf(err, errlen, "request body too large");
		return -1;
	}
	prov_http_header(h, "Content-Type: application/json");
	return 0;
}

void prov_http_model_headers(struct prov_http *h, const struct prov_model *m)
{
	const char *k;
	json_t *v;
	if (!json_is_object(m->headers))
		return;
	json_object_foreach(m->headers, k, v)
	{
		if (json_is_string(v))
			prov_http_header(h, "%s: %s", k, json_string_value(v));
	}
}

long prov_max_tokens(const struct prov_request *rq)
{
	if (rq->max_tokens > 0)
		return rq->max_tokens;
	if (rq->model->max_tokens > 0)
		return rq->model->max_tokens;
	return 4096;
}

bool prov_thinking_on(const struct prov_request *rq)
{
	return rq->model->reasoning && rq->thinking && *rq->thinking &&
	       strcmp(rq->thinking, "off") != 0;
}

const char *prov_msg_role(const json_t *msg)
{
	const char *r = json_string_value(json_object_get(msg, "role"));
	return r ? r : "";
}

char *prov_image_data_url(const json_t *block)
{
	const char *data = json_string_value(json_object_get(block, "data"));
	const char *mime = json_string_value(json_object_get(block, "mimeType"));
	if (!data)
		return NULL;
	return xasprintf("data:%s;base64,%s", mime ? mime : "image/png", data);
}

char *prov_content_text(const json_t *content)
{
	if (json_is_string(content))
		return xstrdup(json_string_value(content));
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	size_t i;
	json_t *blk;
	json_array_foreach(content, i, blk)
	{
		const char *t = json_string_value(json_object_get(blk, "text"));
		if (t && str_eq(json_string_value(json_object_get(blk, "type")), "text")) {
			if (b.len)
				buf_putc(&b, '\n');
			buf_puts(&b, t);
		}
	}
	return buf_detach(&b, NULL);
}

/* A request's reasoning effort for OpenAI-style APIs, NULL when thinking is off. */
const char *prov_reasoning_effort(const struct prov_request *rq)
{
	static const char *const levels[] = { "minimal", "low", "medium", "high", "xhigh" };
	if (!prov_thinking_on(rq))
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(levels); i++) {
		if (strcmp(rq->thinking, levels[i]) != 0)
			continue;
		/* Only the GPT-5 family knows "xhigh"; the rest top out at "high". */
		if (i == 4 && !(rq->model->id && str_starts_with(rq->model->id, "gpt-5")))
			return "high";
		return levels[i];
	}
	return "medium";
}

char *prov_tool_result_text(const json_t *content)
{
	if (json_is_string(content))
		return xstrdup(json_string_value(content));
	char *t = prov_content_text(content);
	bool blank = true;
	for (const char *p = t; *p; p++)
		if (!isspace((unsigned char)*p))
			blank = false;
	if (!blank)
		return t;
	free(t);
	size_t i;
	json_t *blk;
	json_array_foreach(content, i, blk)
	{
		if (str_eq(json_string_value(json_object_get(blk, "type")), "image"))
			return xstrdup("(see attached image)");
	}
	return xstrdup("(no output)");
}

#define FAILED_REPLAY_TEXT                                                                         \
	"[This turn failed before it completed. Do not redo its work without confirming with "     \
	"the user first.]"

static bool blk_is(const json_t *blk, const char *type)
{
	return str_eq(json_string_value(json_object_get(blk, "type")), type);
}

static json_t *content_array(const json_t *msg)
{
	json_t *c = json_object_get(msg, "content");
	if (json_is_array(c))
		return json_incref(c);
	if (json_is_string(c))
		return json_pack("[{s:s, s:O}]", "type", "text", "text", c);
	return json_array();
}

/* Images become a placeholder text for a model that cannot see them (once per run). */
static json_t *strip_images(json_t *content, const char *placeholder)
{
	json_t *out = json_array();
	size_t i;
	json_t *blk;
	json_array_foreach(content, i, blk)
	{
		if (!blk_is(blk, "image")) {
			json_array_append(out, blk);
			continue;
		}
		json_t *prev = json_array_get(out, json_array_size(out) - 1);
		if (prev && blk_is(prev, "text") &&
		    str_eq(json_string_value(json_object_get(prev, "text")), placeholder))
			continue;
		json_array_append_new(out,
				      json_pack("{s:s, s:s}", "type", "text", "text", placeholder));
	}
	json_decref(content);
	return out;
}

static json_t *transform_assistant(const json_t *msg, const struct prov_model *m)
{
	bool same = str_eq(json_string_value(json_object_get(msg, "provider")), m->provider) &&
		    str_eq(json_string_value(json_object_get(msg, "api")), m->api) &&
		    str_eq(json_string_value(json_object_get(msg, "model")), m->id);
	json_t *in = content_array(msg), *out = json_array();
	size_t i;
	json_t *blk;
	json_array_foreach(in, i, blk)
	{
		if (!blk_is(blk, "thinking")) {
			json_array_append(out, blk);
			continue;
		}
		const char *t = json_string_value(json_object_get(blk, "thinking"));
		bool redacted = json_is_true(json_object_get(blk, "redacted"));
		bool blank = true;
		for (const char *p = t ? t : ""; *p; p++)
			if (!isspace((unsigned char)*p))
				blank = false;
		if (same && (redacted || json_object_get(blk, "thinkingSignature") || !blank))
			json_array_append(out, blk);
		else if (!same && !redacted &&
			 !blank) /* another model's thoughts are plain text to this one */
			json_array_append_new(out,
					      json_pack("{s:s, s:s}", "type", "text", "text", t));
	}
	json_decref(in);
	json_t *copy = json_copy((json_t *)msg);
	json_object_set_new(copy, "content", out);
	return copy;
}

/* Synthesize results for tool calls the transcript never answered (pi does; APIs insist). */
static void flush_pending(json_t *result, json_t *pending, json_t *answered)
{
	size_t i;
	json_t *call;
	json_array_foreach(pending, i, call)
	{
		const char *id = json_string_value(json_object_get(call, "id"));
		if (!id || json_object_get(answered, id))
			continue;
		json_array_append_new(
			result, json_pack("{s:s, s:s, s:s?, s:[{s:s, s:s}], s:b, s:I}", "role",
					  "toolResult", "toolCallId", id, "toolName",
					  json_string_value(json_object_get(call, "name")),
					  "content", "type", "text", "text", "No result provided",
					  "isError", 1, "timestamp", (json_int_t)time_now_ms()));
	}
	json_array_clear(pending);
	json_object_clear(answered);
}

json_t *prov_transform_messages(const struct prov_request *rq)
{
	const struct prov_model *m = rq->model;
	json_t *result = json_array(), *pending = json_array(), *answered = json_object();
	size_t i;
	json_t *msg;
	json_array_foreach(rq->messages, i, msg)
	{
		const char *role = prov_msg_role(msg);
		if (strcmp(role, "assistant") == 0) {
			flush_pending(result, pending, answered);
			const char *stop = json_string_value(json_object_get(msg, "stopReason"));
			json_t *content = json_object_get(msg, "content");
			if (str_eq(stop, "error") || str_eq(stop, "aborted")) {
				bool tool = false, text = false;
				size_t j;
				json_t *blk;
				json_array_foreach(content, j, blk)
				{
					tool |= blk_is(blk, "toolCall");
					text |= blk_is(blk, "text") &&
						json_string_length(json_object_get(blk, "text")) >
							0;
				}
				if (tool || !text)
					continue;
				json_t *marker = json_copy(msg);
				json_object_set_new(marker, "content",
						    json_pack("[{s:s, s:s}]", "type", "text",
							      "text", FAILED_REPLAY_TEXT));
				json_array_append_new(result, marker);
				continue;
			}
			json_t *a = transform_assistant(msg, m);
			size_t j;
			json_t *blk;
			json_array_foreach(json_object_get(a, "content"), j, blk)
			{
				if (blk_is(blk, "toolCall"))
					json_array_append(pending, blk);
			}
			json_array_append_new(result, a);
			continue;
		}
		json_t *copy = json_copy(msg);
		if (!json_is_array(json_object_get(copy, "content")) &&
		    !json_is_string(json_object_get(copy, "content")))
			json_object_set_new(copy, "content", json_array());
		if (!m->input_image && json_is_array(json_object_get(copy, "content")))
			json_object_set_new(
				copy, "content",
				strip_images(
					json_incref(json_object_get(copy, "content")),
					strcmp(role, "user") == 0
						? "(image omitted: model does not support images)"
						: "(tool image omitted: model does not support "
						  "images)"));
		if (strcmp(role, "toolResult") == 0) {
			const char *id = json_string_value(json_object_get(copy, "toolCallId"));
			if (id)
				json_object_set_new(answered, id, json_true());
		} else {
			flush_pending(result, pending, answered);
		}
		json_array_append_new(result, copy);
	}
	flush_pending(result, pending, answered);
	json_decref(pending);
	json_decref(answered);
	return result;
}

json_t *prov_stream_json(struct prov_stream *st, const char *data, size_t len)
{
	json_error_t e;
	json_t *j = json_loadb(data, len, 0, &e);
	if (!j)
		prov_stream_fail(st, PROV_ERR_PROTOCOL, "%s sent malformed JSON in the stream: %s",
				 prov_stream_provider(st), e.text);
	return j;
}

/* ==== errors ==== */

const char *prov_err_kind_name(enum prov_err_kind k)
{
	static const char *const names[] = {
		[PROV_ERR_NONE] = "none",
		[PROV_ERR_AUTH] = "auth",
		[PROV_ERR_BILLING] = "billing",
		[PROV_ERR_RATE_LIMIT] = "rate_limit",
		[PROV_ERR_OVERLOADED] = "overloaded",
		[PROV_ERR_TIMEOUT] = "timeout",
		[PROV_ERR_CONTEXT_OVERFLOW] = "context_overflow",
		[PROV_ERR_FORMAT] = "format",
		[PROV_ERR_SERVER] = "server",
		[PROV_ERR_NETWORK] = "network",
		[PROV_ERR_PROTOCOL] = "protocol",
		[PROV_ERR_REFUSAL] = "refusal",
		[PROV_ERR_ABORTED] = "aborted",
		[PROV_ERR_UNKNOWN] = "unknown",
	};
	if ((unsigned)k < ARRAY_SIZE(names) && names[k])
		return names[k];
	return "unknown";
}

const char *prov_err_chat_kind(enum prov_err_kind k)
{
	switch (k) {
	case PROV_ERR_REFUSAL:
		return "refusal";
	case PROV_ERR_TIMEOUT:
		return "timeout";
	case PROV_ERR_RATE_LIMIT:
		return "rate_limit";
	case PROV_ERR_CONTEXT_OVERFLOW:
		return "context_length";
	default:
		return "unknown";
	}
}

bool prov_err_failover(enum prov_err_kind k)
{
	switch (k) {
	case PROV_ERR_NONE:
	case PROV_ERR_CONTEXT_OVERFLOW:
	case PROV_ERR_FORMAT:
	case PROV_ERR_ABORTED:
		return false;
	default:
		return true;
	}
}

/*
 * Wordings APIs use for "the prompt does not fit", after @openclaw/ai's
 * overflow patterns (utils/overflow.ts), reduced to case-insensitive
 * substrings.
 */
static const char *const overflow_words[] = {
	"prompt is too long",
	"prompt too long",
	"request_too_large",
	"exceed context limit",
	"input is too long for",
	"exceeds the context window",
	"maximum context length",
	"context length exceeded",
	"context_length_exceeded",
	"context window exceeds limit",
	"model_context_window_exceeded",
	"context_window_exceeded",
	"exceeds model context window",
	"exceeded model token limit",
	"model token limit",
	"token limit exceeded",
	"too many tokens",
	"too large for model with",
	"greater than the context length",
	"context size has been exceeded",
	"exceeds the available context size",
	"longer than the model's context length",
	"longer than the models context length",
	"reduce the length of the messages",
	"maximum prompt length",
	"prompt exceeds max",
	"context_overflow",
	"context overflow",
	"the configured context size",
};

/* Wordings that look like overflow but are throttling (Bedrock's "too many tokens, please wait"). */
static const char *const not_overflow_words[] = {
	"rate limit",
	"too many requests",
	"throttl",
};

static bool has_any(const char *msg, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasestr(msg, words[i]))
			return true;
	return false;
}

bool prov_err_is_overflow(const char *msg)
{
	if (!msg || has_any(msg, not_overflow_words, ARRAY_SIZE(not_overflow_words)))
		return false;
	return has_any(msg, overflow_words, ARRAY_SIZE(overflow_words));
}

enum prov_err_kind prov_err_classify(long status, const char *msg)
{
	static const char *const billing[] = { "insufficient_quota", "billing", "credit balance",
					       "payment required", "insufficient balance" };
	if (!msg)
		msg = "";
	if (status == 401 || status == 403)
		return PROV_ERR_AUTH;
	if (status == 402 || has_any(msg, billing, ARRAY_SIZE(billing)))
		return PROV_ERR_BILLING;
	if (status == 429)
		return PROV_ERR_RATE_LIMIT;
	if (status == 529 || strcasestr(msg, "overloaded"))
		return PROV_ERR_OVERLOADED;
	if (status == 408 || status == 504)
		return PROV_ERR_TIMEOUT;
	if (status == 413 || prov_err_is_overflow(msg))
		return PROV_ERR_CONTEXT_OVERFLOW;
	if (status >= 400 && status < 500)
		return PROV_ERR_FORMAT;
	if (status >= 500)
		return PROV_ERR_SERVER;
	if (strcasestr(msg, "rate limit") || strcasestr(msg, "too many requests"))
		return PROV_ERR_RATE_LIMIT;
	return PROV_ERR_UNKNOWN;
}

/* Copy `s` (n bytes) into `out`, collapsed to one line and cut at a character boundary. */
static void copy_line(char *out, size_t outlen, const char *s, size_t n)
{
	size_t o = 0;
	bool space = false;
	for (size_t i = 0; i < n && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
			space = o > 0;
			continue;
		}
		if (c < 0x20)
			continue;
		if (space && o + 2 < outlen)
			out[o++] = ' ';
		space = false;
		out[o++] = (char)c;
	}
	o = str_utf8_prefix(out, o);
	out[o] = '\0';
}

void prov_err_generic(long status, const char *body, size_t len, struct prov_error *out)
{
	json_t *j = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	const char *msg = NULL, *type = NULL, *code = NULL;
	if (j) {
		json_t *e = json_object_get(j, "error");
		if (json_is_array(j) && json_array_size(j) > 0) /* Gemini on some paths */
			e = json_object_get(json_array_get(j, 0), "error");
		if (json_is_string(e)) {
			msg = json_string_value(e);
		} else if (json_is_object(e)) {
			msg = json_string_value(json_object_get(e, "message"));
			type = json_string_value(json_object_get(e, "type"));
			code = json_string_value(json_object_get(e, "code"));
			if (!type)
				type = json_string_value(json_object_get(e, "status"));
		}
		if (!msg)
			msg = json_string_value(json_object_get(j, "message"));
		if (!msg)
			msg = json_string_value(json_object_get(j, "detail"));
	}
	if (msg) {
		copy_line(out->message, sizeof(out->message), msg, strlen(msg));
	} else if (body && len) {
		copy_line(out->message, sizeof(out->message), body, len);
	} else {
		snprintf(out->message, sizeof(out->message), "(no body)");
	}
	/* The type/code words carry the class when the prose does not. */
	char probe[sizeof(out->message) + 128];
	snprintf(probe, sizeof(probe), "%s %s %s", out->message, type ? type : "",
		 code ? code : "");
	out->kind = prov_err_classify(status, probe);
	json_decref(j);
}

static long parse_http_date_ms(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end || *end)
		return -1;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	int64_t d = (int64_t)t * 1000 - time_now_ms();
	return d < 0 ? 0 : (long)d;
}

static bool all_digits(const char *s, bool allow_dot)
{
	bool dot = false;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s == '.' && allow_dot && !dot) {
			dot = true;
			continue;
		}
		if (!isdigit((unsigned char)*s))
			return false;
	}
	return true;
}

long prov_retry_after_ms(const char *retry_after, const char *retry_after_ms)
{
	long best = -1;
	char tmp[128];
	if (retry_after_ms) {
		copy_line(tmp, sizeof(tmp), retry_after_ms, strlen(retry_after_ms));
		if (all_digits(tmp, true)) {
			double v = strtod(tmp, NULL);
			best = v > 1e12 ? (long)1e12 : (long)(v + 0.999);
		}
	}
	if (retry_after) {
		long v = -1;
		copy_line(tmp, sizeof(tmp), retry_after, strlen(retry_after));
		if (all_digits(tmp, false)) {
			long long s;
			v = str_to_ll(tmp, &s) == 0 && s < 1000000000LL ? (long)(s * 1000)
									: (long)1e12;
		} else {
			v = parse_http_date_ms(tmp);
		}
		if (v > best)
			best = v;
	}
	return best;
}

/* ==== stream assembly ==== */

enum blk_kind { BLK_TEXT, BLK_THINKING, BLK_TOOL };

struct prov_block {
	int index; /* the provider file's index */
	enum blk_kind kind;
	struct buf text; /* text, thinking, or the tool call's argument JSON */
	char *signature;
	char *id, *name;
	json_t *args; /* parsed arguments once the call is complete */
	bool ended;
	bool redacted; /* thinking the provider withheld; signature holds its opaque data */
};

struct prov_stream {
	struct prov_request rq; /* copy; messages/tools/system/api_key NULL after start */
	struct prov_model model;
	char *thinking;
	const struct prov_ops *ops;
	const struct prov_sink *sink;
	void *ud;
	void *priv;

	struct prov_block *blocks;
	size_t nblocks, ablocks;
	long usage[4]; /* input, output, cacheRead, cacheWrite */
	char *stop;
	char *response_id;
	int64_t timestamp;

	struct prov_error err; /* kind != NONE once failed */

	struct sse_parser sse;
	struct ndjson_parser nd;
	long status;
	struct buf errbody;

	struct http_xfer *xfer;
	int depth;    /* callbacks of ours on the stack */
	bool aborted; /* prov_call_abort ran while depth > 0: free on unwind */
	bool done;    /* the sink's done ran */
};

struct prov_call {
	struct prov_stream st;
};

static const char *provider_name(const struct prov_stream *st)
{
	return st->model.provider ? st->model.provider : "provider";
}

static struct prov_block *block_get(struct prov_stream *st, int index, enum blk_kind kind)
{
	for (size_t i = 0; i < st->nblocks; i++)
		if (st->blocks[i].index == index)
			return st->blocks[i].kind == kind ? &st->blocks[i] : NULL;
	st->blocks = xgrow(st->blocks, &st->ablocks, st->nblocks + 1, sizeof(*st->blocks));
	struct prov_block *b = &st->blocks[st->nblocks++];
	memset(b, 0, sizeof(*b));
	b->index = index;
	b->kind = kind;
	buf_init(&b->text, PROV_MAX_BLOCK);
	return b;
}

static struct prov_block *block_find(struct prov_stream *st, int index)
{
	for (size_t i = 0; i < st->nblocks; i++)
		if (st->blocks[i].index == index)
			return &st->blocks[i];
	return NULL;
}

static void block_append(struct prov_stream *st, struct prov_block *b, const char *s, size_t n)
{
	if (buf_append(&b->text, s, n) < 0)
		prov_stream_fail(st, PROV_ERR_PROTOCOL, "%s sent a content block over %u bytes",
				 provider_name(st), PROV_MAX_BLOCK);
}

static bool failed(const struct prov_stream *st)
{
	return st->err.kind != PROV_ERR_NONE;
}

void prov_stream_text(struct prov_stream *st, int index, const char *s, size_t n)
{
	struct prov_block *b = block_get(st, index, BLK_TEXT);
	if (!b) {
		prov_stream_fail(st, PROV_ERR_PROTOCOL, "%s: text for block %d of another type",
				 provider_name(st), index);
		return;
	}
	if (!n || failed(st))
		return;
	block_append(st, b, s, n);
	if (!failed(st) && st->sink->text)
		st->sink->text(st->ud, s, n);
}

void prov_stream_thinking(struct prov_stream *st, int index, const char *s, size_t n,
			  const char *signature)
{
	struct prov_block *b = block_get(st, index, BLK_THINKING);
	if (!b) {
		prov_stream_fail(st, PROV_ERR_PROTOCOL, "%s: thinking for block %d of another type",
				 provider_name(st), index);
		return;
	}
	if (signature) {
		free(b->signature);
		b->signature = xstrdup(signature);
	}
	if (!n || failed(st))
		return;
	block_append(st, b, s, n);
	if (!failed(st) && st->sink->thinking)
		st->sink->thinking(st->ud, s, n);
}

void prov_stream_redacted(struct prov_stream *st, int index, const char *placeholder,
			  const char *data)
{
	struct prov_block *b;

	prov_stream_thinking(st, index, placeholder, strlen(placeholder), data);
	b = failed(st) ? NULL : block_get(st, index, BLK_THINKING);
	if (b)
		b->redacted = true;
}

void prov_stream_tool_begin(struct prov_stream *st, int index, const char *id, const char *name)
{
	struct prov_block *b = block_get(st, index, BLK_TOOL);
	if (!b) {
		prov_stream_fail(st, PROV_ERR_PROTOCOL, "%s: tool call at block %d of another type",
				 provider_name(st), index);
		return;
	}
	if (id && *id) {
		free(b->id);
		b->id = xstrdup(id);
	}
	if (name && *name) {
		free(b->name);
		b->name = xstrdup(name);
	}
}

void prov_stream_tool_args(struct prov_stream *st, int index, const char *s, size_t n)
{
	struct prov_block *b = block_get(st, index, BLK_TOOL);
	if (!b) {
		prov_stream_fail(st, PROV_ERR_PROTOCOL,
				 "%s: tool arguments for block %d of another type",
				 provider_name(st), index);
		return;
	}
	if (b->ended || failed(st))
		return;
	block_append(st, b, s, n);
}

static json_t *tool_block_json(const struct prov_block *b, json_t *args)
{
	return json_pack("{s:s, s:s, s:s, s:o}", "type", "toolCall", "id", b->id ? b->id : "",
			 "name", b->name ? b->name : "", "arguments", args ? args : json_object());
}

static void tool_emit(struct prov_stream *st, struct prov_block *b)
{
	b->ended = true;
	if (st->sink->tool_call) {
		json_t *blk = tool_block_json(b, json_incref(b->args));
		st->sink->tool_call(st->ud, blk);
		json_decref(blk);
	}
}

/* Arguments text to an object; "" is {} (a call without parameters). */
static json_t *parse_args(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && isspace((unsigned char)s[i]))
		i++;
	if (i == n)
		return json_object();
	json_t *j = json_loadb(s, n, JSON_DECODE_ANY, NULL);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int prov_stream_tool_end(struct prov_stream *st, int index)
{
	struct prov_block *b = block_find(st, index);
	if (!b || b->kind != BLK_TOOL) {
		prov_stream_fail(st, PROV_ERR_PROTOCOL, "%s: end of unknown tool call %d",
				 provider_name(st), index);
		return -1;
	}
	if (b->ended)
		return 0;
	if (failed(st))
		return -1;
	json_t *args = parse_args(b->text.p, b->text.len);
	if (!args) {
		prov_stream_fail(st, PROV_ERR_PROTOCOL,
				 "%s sent invalid JSON arguments for tool %s", provider_name(st),
				 b->name ? b->name : "(unnamed)");
		return -1;
	}
	b->args = args;
	tool_emit(st, b);
	return 0;
}

void prov_stream_tool_call(struct prov_stream *st, int index, const char *id, const char *name,
			   const json_t *args)
{
	prov_stream_tool_begin(st, index, id, name);
	struct prov_block *b = block_find(st, index);
	if (!b || b->kind != BLK_TOOL || b->ended || failed(st))
		return;
	b->args = json_is_object(args) ? json_deep_copy(args) : json_object();
	char *s = json_dumps(b->args, JSON_COMPACT);
	if (s) {
		buf_reset(&b->text);
		buf_puts(&b->text, s);
		free(s);
	}
	tool_emit(st, b);
}

void prov_stream_usage(struct prov_stream *st, long input, long output, long cache_read,
		       long cache_write)
{
	long v[4] = { input, output, cache_read, cache_write };
	for (int i = 0; i < 4; i++)
		if (v[i] >= 0)
			st->usage[i] = v[i];
}

void prov_stream_stop(struct prov_stream *st, const char *reason)
{
	free(st->stop);
	st->stop = xstrdup(reason);
}

void prov_stream_response_id(struct prov_stream *st, const char *id)
{
	if (!id)
		return;
	free(st->response_id);
	st->response_id = xstrdup(id);
}

static void stream_vfail(struct prov_stream *st, enum prov_err_kind kind, long status,
			 const char *fmt, va_list ap) PRINTF_LIKE(4, 0);
static void stream_vfail(struct prov_stream *st, enum prov_err_kind kind, long status,
			 const char *fmt, va_list ap)
{
	if (failed(st))
		return; /* the first cause is the one worth reporting */
	st->err.kind = kind == PROV_ERR_NONE ? PROV_ERR_UNKNOWN : kind;
	st->err.status = status;
	vsnprintf(st->err.message, sizeof(st->err.message), fmt, ap);
	st->err.message[str_utf8_prefix(st->err.message, strlen(st->err.message))] = '\0';
}

static void stream_failf(struct prov_stream *st, enum prov_err_kind kind, long status,
			 const char *fmt, ...) PRINTF_LIKE(4, 5);
static void stream_failf(struct prov_stream *st, enum prov_err_kind kind, long status,
			 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	stream_vfail(st, kind, status, fmt, ap);
	va_end(ap);
}

void prov_stream_fail(struct prov_stream *st, enum prov_err_kind kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	stream_vfail(st, kind, 0, fmt, ap);
	va_end(ap);
}

bool prov_stream_failed(const struct prov_stream *st)
{
	return failed(st);
}

bool prov_stream_has_stop(const struct prov_stream *st)
{
	return st->stop != NULL;
}

void *prov_stream_priv(struct prov_stream *st)
{
	return st->priv;
}

const struct prov_request *prov_stream_request(struct prov_stream *st)
{
	return &st->rq;
}

const char *prov_stream_provider(const struct prov_stream *st)
{
	return provider_name(st);
}

static bool has_tool_calls(const struct prov_stream *st)
{
	for (size_t i = 0; i < st->nblocks; i++)
		if (st->blocks[i].kind == BLK_TOOL)
			return true;
	return false;
}

/* The assistant message as it stands; `stop` overrides the stream's stop reason. */
static json_t *stream_message(struct prov_stream *st, const char *stop, const char *errmsg)
{
	json_t *content = json_array();
	for (size_t i = 0; i < st->nblocks; i++) {
		struct prov_block *b = &st->blocks[i];
		json_t *blk;
		switch (b->kind) {
		case BLK_TEXT:
			blk = json_pack("{s:s, s:s%}", "type", "text", "text", b->text.p,
					b->text.len);
			break;
		case BLK_THINKING:
			blk = json_pack("{s:s, s:s%}", "type", "thinking", "thinking", b->text.p,
					b->text.len);
			if (blk && b->signature)
				json_object_set_new(blk, "thinkingSignature",
						    json_string(b->signature));
			if (blk && b->redacted)
				json_object_set_new(blk, "redacted", json_true());
			break;
		default: {
			json_t *args =
				b->args ? json_incref(b->args) : parse_args(b->text.p, b->text.len);
			blk = tool_block_json(b, args);
			break;
		}
		}
		if (!blk) /* text that is not UTF-8: keep the shape, drop the bytes */
			blk = json_pack("{s:s, s:s}", "type",
					b->kind == BLK_THINKING ? "thinking" : "text",
					b->kind == BLK_THINKING ? "thinking" : "text", "");
		json_array_append_new(content, blk);
	}
	long total = st->usage[0] + st->usage[1] + st->usage[2] + st->usage[3];
	json_t *usage =
		json_pack("{s:I, s:I, s:I, s:I, s:I, s:{s:i, s:i, s:i, s:i, s:i}}", "input",
			  (json_int_t)st->usage[0], "output", (json_int_t)st->usage[1], "cacheRead",
			  (json_int_t)st->usage[2], "cacheWrite", (json_int_t)st->usage[3],
			  "totalTokens", (json_int_t)total, "cost", "input", 0, "output", 0,
			  "cacheRead", 0, "cacheWrite", 0, "total", 0);
	json_t *m = json_pack("{s:s, s:o, s:s, s:s, s:s}", "role", "assistant", "content", content,
			      "api", st->model.api ? st->model.api : "", "provider",
			      st->model.provider ? st->model.provider : "", "model",
			      st->model.id ? st->model.id : "");
	if (st->response_id)
		json_object_set_new(m, "responseId", json_string(st->response_id));
	json_object_set_new(m, "usage", usage);
	json_object_set_new(m, "stopReason", json_string(stop));
	if (errmsg)
		json_object_set_new(m, "errorMessage", json_string(errmsg));
	json_object_set_new(m, "timestamp", json_integer(st->timestamp));
	return m;
}

static struct prov_stream *stream_new(const struct prov_request *rq, const struct prov_ops *ops,
				      const struct prov_sink *sink, void *ud)
{
	struct prov_call *c = xcalloc(1, sizeof(*c));
	struct prov_stream *st = &c->st;
	prov_model_copy(&st->model, rq->model);
	st->thinking = dup_or_null(rq->thinking);
	st->rq = *rq;
	st->rq.model = &st->model;
	st->rq.thinking = st->thinking;
	st->ops = ops;
	st->sink = sink;
	st->ud = ud;
	st->priv = ops->state_size ? xcalloc(1, ops->state_size) : NULL;
	st->timestamp = time_now_ms();
	st->err.retry_after_ms = -1;
	sse_init(&st->sse, PROV_MAX_EVENT);
	ndjson_init(&st->nd, PROV_MAX_EVENT);
	buf_init(&st->errbody, PROV_MAX_ERRBODY);
	return st;
}

/* The borrowed parts of the request are gone once prov_call_start returns. */
static void stream_unborrow(struct prov_stream *st)
{
	st->rq.messages = NULL;
	st->rq.tools = NULL;
	st->rq.system = NULL;
	st->rq.api_key = NULL;
}

static void stream_free(struct prov_stream *st)
{
	if (st->ops->release)
		st->ops->release(st);
	for (size_t i = 0; i < st->nblocks; i++) {
		struct prov_block *b = &st->blocks[i];
		buf_release(&b->text);
		free(b->signature);
		free(b->id);
		free(b->name);
		json_decref(b->args);
	}
	free(st->blocks);
	free(st->stop);
	free(st->response_id);
	free(st->priv);
	free(st->thinking);
	prov_model_release(&st->model);
	sse_release(&st->sse);
	ndjson_release(&st->nd);
	buf_release(&st->errbody);
	free((struct prov_call *)st);
}

/* ==== framing ==== */

static int on_sse_event(void *ud, const char *event, const char *data, size_t len)
{
	struct prov_stream *st = ud;
	int rc = st->ops->event(st, event ? event : "", data, len);
	return rc || failed(st) ? 1 : 0;
}

static int on_ndjson_line(void *ud, const char *line, size_t len)
{
	struct prov_stream *st = ud;
	int rc = st->ops->event(st, NULL, line, len);
	return rc || failed(st) ? 1 : 0;
}

/* A chunk of a 2xx body. Returns nonzero to stop the transfer. */
static int stream_feed(struct prov_stream *st, const char *data, size_t len)
{
	if (failed(st))
		return 1;
	int rc;
	if (st->ops->framing == PROV_FRAMING_NDJSON)
		rc = ndjson_feed(&st->nd, data, len, on_ndjson_line, st);
	else
		rc = sse_feed(&st->sse, data, len, on_sse_event, st);
	if (rc < 0 && !failed(st))
		stream_failf(st, PROV_ERR_PROTOCOL, 0, "%s sent a stream event over %u bytes",
			     provider_name(st), PROV_MAX_EVENT);
	return failed(st) || rc ? 1 : 0;
}

/* The body of a 2xx answer ended cleanly: was the response complete? */
static void stream_finish(struct prov_stream *st)
{
	if (failed(st))
		return;
	if (st->ops->framing == PROV_FRAMING_NDJSON)
		ndjson_finish(&st->nd, on_ndjson_line, st);
	else
		sse_finish(&st->sse);
	if (failed(st))
		return;
	int rc = 0;
	if (st->ops->finish)
		rc = st->ops->finish(st);
	else if (!st->stop)
		rc = -1;
	if (rc < 0 || !st->stop) {
		stream_failf(st, PROV_ERR_NETWORK, 0,
			     "%s stream ended before the response was complete", provider_name(st));
		return;
	}
	/* Calls the API never closed explicitly are complete when the response is. */
	for (size_t i = 0; i < st->nblocks && !failed(st); i++)
		if (st->blocks[i].kind == BLK_TOOL && !st->blocks[i].ended)
			prov_stream_tool_end(st, st->blocks[i].index);
}

static void http_error(struct prov_stream *st, const char *retry_after, const char *retry_after_ms)
{
	struct prov_error e = { .kind = PROV_ERR_NONE, .retry_after_ms = -1 };
	if (st->ops->error)
		st->ops->error(st->status, st->errbody.p, st->errbody.len, &e);
	if (e.kind == PROV_ERR_NONE)
		prov_err_generic(st->status, st->errbody.p, st->errbody.len, &e);
	stream_failf(st, e.kind, st->status, "%s returned %ld: %s", provider_name(st), st->status,
		     e.message[0] ? e.message : "(no body)");
	st->err.retry_after_ms = prov_retry_after_ms(retry_after, retry_after_ms);
}

static void transport_error(struct prov_stream *st, int result, const char *errmsg)
{
	const char *p = provider_name(st);
	long idle = st->rq.idle_timeout_ms > 0 ? st->rq.idle_timeout_ms : PROV_IDLE_DEFAULT;
	switch (result) {
	case HTTP_E_STALLED:
		stream_failf(st, PROV_ERR_TIMEOUT, 0, "no data from %s for %lds", p,
			     (idle + 999) / 1000);
		break;
	case HTTP_E_TIMEOUT:
		stream_failf(st, PROV_ERR_TIMEOUT, 0, "%s did not finish within %lds", p,
			     (st->rq.total_timeout_ms + 999) / 1000);
		break;
	case HTTP_E_CONNECT:
		stream_failf(st, PROV_ERR_NETWORK, 0, "cannot reach %s: %s", p, errmsg);
		break;
	case HTTP_E_TOO_BIG:
		stream_failf(st, PROV_ERR_PROTOCOL, 0, "%s response too large", p);
		break;
	case HTTP_E_SHUTDOWN:
		stream_failf(st, PROV_ERR_ABORTED, 0, "%s call cancelled: gateway shutting down",
			     p);
		break;
	default:
		stream_failf(st, PROV_ERR_NETWORK, 0, "connection to %s dropped: %s", p, errmsg);
		break;
	}
}

/*
 * The transfer is over: settle the outcome, tell the sink, free. The header
 * values are read by the caller because they live only as long as on_done.
 */
static void stream_end(struct prov_stream *st, int result, const char *errmsg,
		       const char *retry_after, const char *retry_after_ms)
{
	if (st->status && (st->status < 200 || st->status > 299))
		http_error(st, retry_after, retry_after_ms);
	else if (result == HTTP_OK)
		stream_finish(st);
	else if (!failed(st))
		transport_error(st, result, errmsg ? errmsg : "unknown error");

	json_t *msg;
	if (failed(st)) {
		msg = stream_message(st, "error", st->err.message);
		log_info("providers", "%s/%s failed (%s): %s", provider_name(st),
			 st->model.id ? st->model.id : "?", prov_err_kind_name(st->err.kind),
			 st->err.message);
	} else {
		const char *stop = st->stop;
		/* As pi does: the stop reason follows what actually arrived. */
		if (strcmp(stop, "toolUse") == 0 && !has_tool_calls(st))
			stop = "stop";
		else if (strcmp(stop, "stop") == 0 && has_tool_calls(st))
			stop = "toolUse";
		msg = stream_message(st, stop, NULL);
	}
	st->done = true;
	st->depth++;
	st->sink->done(st->ud, msg, failed(st) ? &st->err : NULL);
	st->depth--;
	stream_free(st);
}

static json_t *stream_abort(struct prov_stream *st)
{
	json_t *msg = stream_message(st, "aborted", "Request was aborted");
	if (st->depth > 0) {
		st->aborted = true; /* freed when our callback unwinds */
		return msg;
	}
	stream_free(st);
	return msg;
}

/* ==== HTTP glue ==== */

static int on_response(void *ud, struct http_xfer *x, long status)
{
	struct prov_stream *st = ud;
	st->status = status;
	return 0;
}

static int on_data(void *ud, struct http_xfer *x, const char *data, size_t len)
{
	struct prov_stream *st = ud;
	if (st->status < 200 || st->status > 299) {
		size_t room = st->errbody.max - st->errbody.len;
		buf_append(&st->errbody, data, len < room ? len : room);
		return 0;
	}
	st->depth++;
	int rc = stream_feed(st, data, len);
	st->depth--;
	if (st->aborted) {
		stream_free(st);
		return 1;
	}
	return rc;
}

static void on_done(void *ud, struct http_xfer *x, int result, const char *errmsg)
{
	struct prov_stream *st = ud;
	st->xfer = NULL;
	stream_end(st, result, errmsg, http_xfer_header(x, "retry-after"),
		   http_xfer_header(x, "retry-after-ms"));
}

static const struct http_callbacks prov_http_cb = { on_response, on_data, on_done };

struct prov_call *prov_call_start(struct http_client *hc, const struct prov_request *rq,
				  const struct prov_sink *sink, void *ud, struct prov_error *err)
{
	struct prov_error dummy;
	if (!err)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	err->retry_after_ms = -1;
	err->kind = PROV_ERR_FORMAT;

	const struct prov_model *m = rq->model;
	const struct prov_ops *ops = m ? prov_ops_find(m->api) : NULL;
	if (!ops) {
		snprintf(err->message, sizeof(err->message), "unknown model api %s for %s",
			 m && m->api ? m->api : "(none)", m && m->provider ? m->provider : "model");
		return NULL;
	}
	struct prov_http h;
	prov_http_init(&h);
	char msg[256] = "";
	if (ops->build(rq, &h, msg, sizeof(msg)) < 0 || !h.url) {
		snprintf(err->message, sizeof(err->message), "%s: %s",
			 m->provider ? m->provider : "model", msg[0] ? msg : "no base URL");
		prov_http_release(&h);
		return NULL;
	}
	struct prov_stream *st = stream_new(rq, ops, sink, ud);
	struct http_request hr = {
		.method = "POST",
		.url = h.url,
		.headers = (const char *const *)h.headers,
		.body = h.body.p,
		.body_len = h.body.len,
		.idle_timeout_ms =
			rq->idle_timeout_ms > 0 ? rq->idle_timeout_ms : PROV_IDLE_DEFAULT,
		.total_timeout_ms = rq->total_timeout_ms,
	};
	st->xfer = http_client_start(hc, &hr, &prov_http_cb, st);
	prov_http_release(&h);
	if (!st->xfer) {
		snprintf(err->message, sizeof(err->message), "%s: unusable URL %s",
			 provider_name(st), "for the request");
		stream_free(st);
		return NULL;
	}
	stream_unborrow(st);
	err->kind = PROV_ERR_NONE;
	return (struct prov_call *)st;
}

json_t *prov_call_abort(struct prov_call *c)
{
	struct prov_stream *st = &c->st;
	if (st->xfer) {
		http_xfer_cancel(st->xfer);
		st->xfer = NULL;
	}
	return stream_abort(st);
}

/* ==== test seam ==== */

struct prov_stream *prov_stream_test_new(const struct prov_request *rq, const struct prov_ops *ops,
					 const struct prov_sink *sink, void *ud)
{
	struct prov_stream *st = stream_new(rq, ops, sink, ud);
	stream_unborrow(st);
	st->status = 200;
	return st;
}

void prov_stream_test_status(struct prov_stream *st, long status)
{
	st->status = status;
}

int prov_stream_test_feed(struct prov_stream *st, const char *data, size_t len)
{
	return on_data(st, NULL, data, len);
}

void prov_stream_test_end(struct prov_stream *st, int http_result, const char *retry_after,
			  const char *retry_after_ms)
{
	stream_end(st, http_result, "test", retry_after, retry_after_ms);
}

json_t *prov_stream_test_abort(struct prov_stream *st)
{
	return stream_abort(st);
}

bool prov_model_matches(const char *id, const char *pattern)
{
	regex_t re;
	char *lower = xstrdup(id ? id : "");
	bool hit;

	for (char *p = lower; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		BUG("bad model pattern %s", pattern);
	hit = regexec(&re, lower, 0, NULL, 0) == 0;
	regfree(&re);
	free(lower);
	return hit;
}
