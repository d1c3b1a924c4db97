/*
 * provider.h - model providers: one ops table per wire format, one file each
 * (openai_chat.c, openai_responses.c, anthropic.c, ollama.c, gemini.c), and
 * one shared driver (provider.c) that does everything they have in common:
 * HTTP on the loop, SSE/NDJSON framing, stall and total timeouts, error
 * classification, and assembling the assistant message.
 *
 * Conversation data is pi's message model (the transcript format), as
 * jansson values:
 *   user:       {"role":"user","content":[{"type":"text","text":…}|{"type":"image","data":b64,"mimeType":…}],"timestamp":ms}
 *               (content may also be a plain string)
 *   assistant:  {"role":"assistant","content":[{"type":"thinking","thinking":…,"thinkingSignature"?:…}
 *                |{"type":"text","text":…}|{"type":"toolCall","id":…,"name":…,"arguments":{…}}],
 *                "api":…,"provider":…,"model":…,"responseId"?:…,
 *                "usage":{"input","output","cacheRead","cacheWrite","totalTokens","cost":{"input","output","cacheRead","cacheWrite","total"}},
 *                "stopReason":"stop"|"length"|"toolUse"|"error"|"aborted","errorMessage"?:…,"timestamp":ms}
 *   toolResult: {"role":"toolResult","toolCallId":…,"toolName":…,"content":[text|image blocks],"isError":bool,"timestamp":ms}
 * A provider file translates these to its API's request and its API's
 * stream back into calls on struct prov_stream (below); it never touches
 * HTTP or buffers itself.
 */
#ifndef PINCER_PROVIDERS_PROVIDER_H
#define PINCER_PROVIDERS_PROVIDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

struct http_client;
struct config;

/* A model, resolved from config and presets: where to send and how to speak. */
struct prov_model {
	char *provider; /* "anthropic", "openai", "fake", … */
	char *id;       /* the model id the API knows */
	char *name;     /* display name; may equal id */
	char *api; /* "openai-completions" | "openai-responses" | "anthropic-messages" | "ollama" | "google-generative-ai" */
	char *base_url;  /* no trailing slash, e.g. "https://api.openai.com/v1" */
	json_t *headers; /* extra request headers {name: value}, values resolved; NULL for none */
	long context_window; /* tokens; 0 unknown (treated as 128000) */
	long max_tokens;     /* output cap sent upstream; 0 unknown (4096) */
	bool reasoning;      /* accepts thinking / reasoning effort */
	bool input_image;    /* accepts image blocks */
	bool auth_header;    /* send the key as Authorization: Bearer (default true) */
	long timeout_ms;     /* models.providers.*.timeoutSeconds; 0 default */
};

void prov_model_release(struct prov_model *m);
void prov_model_copy(struct prov_model *dst, const struct prov_model *src);

/* What one model call needs. Everything borrowed for the duration of prov_call_start. */
struct prov_request {
	const struct prov_model *model;
	const char *api_key;    /* NULL when the provider needs none (ollama, local) */
	const char *system;     /* system prompt; may be NULL */
	const json_t *messages; /* array of pi messages */
	const json_t *tools;    /* array of {"name","description","parameters"} or NULL */
	const char *thinking;   /* "off"|"minimal"|"low"|"medium"|"high"|"xhigh"; NULL = off */
	bool cache;      /* prompt-cache hints where the API has them (Anthropic cache_control) */
	long max_tokens; /* 0: the model's */
	long idle_timeout_ms;  /* stall: no byte for this long is an error; 0: 120 s */
	long total_timeout_ms; /* 0: none (the run has its own timeout) */
};

/* The request a provider file builds; the driver sends it. */
struct prov_http {
	char *url;      /* owned */
	char **headers; /* owned, "Name: value", NULL-terminated (add with prov_http_header) */
	size_t nheaders;
	struct buf body; /* the JSON body */
};

void prov_http_header(struct prov_http *h, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* The driver inits and releases the prov_http it hands to ops->build. */
void prov_http_init(struct prov_http *h);
void prov_http_release(struct prov_http *h);

/* Helpers the provider files share (so none copies another). */
/* url = base without trailing slashes + path ("/chat/completions"). */
void prov_http_url(struct prov_http *h, const char *base, const char *path);
/* Serialise `body` (stolen) compactly, in insertion order, and add Content-Type. 0 or -1. */
int prov_http_json(struct prov_http *h, json_t *body, char *err, size_t errlen);
/* The model's extra headers (models.providers.*.headers). */
void prov_http_model_headers(struct prov_http *h, const struct prov_model *m);
/* rq->max_tokens, else the model's, else 4096. */
long prov_max_tokens(const struct prov_request *rq);
/* Thinking asked for (not NULL/"off") and the model reasons. */
bool prov_thinking_on(const struct prov_request *rq);
/* A message's role, "" when missing. */
const char *prov_msg_role(const json_t *msg);
/* "data:<mimeType>;base64,<data>" for an image block (malloc'd), NULL without data. */
char *prov_image_data_url(const json_t *block);
/* OpenAI-style reasoning effort for rq->thinking ("xhigh" only for gpt-5*), NULL when off. */
const char *prov_reasoning_effort(const struct prov_request *rq);
/*
 * pi's transformMessages: the conversation as the target model should see
 * it. Failed/aborted assistant turns are dropped (or, when they said
 * something, replaced by a marker), another model's thinking becomes text,
 * unanswered tool calls get a "No result provided" error result, images
 * become placeholders for a model without image input. New array.
 */
json_t *prov_transform_messages(const struct prov_request *rq);
/* A tool result's text (text blocks joined), or "(see attached image)" / "(no output)"; malloc'd. */
char *prov_tool_result_text(const json_t *content);
/* The text of a content value (string, or text blocks joined with "\n"); malloc'd. */
char *prov_content_text(const json_t *content);

/* Why a call failed; drives failover (SPEC §4.8) and chat errorKind. */
enum prov_err_kind {
	PROV_ERR_NONE = 0,
	PROV_ERR_AUTH,             /* 401/403, invalid key */
	PROV_ERR_BILLING,          /* 402, insufficient quota/credit */
	PROV_ERR_RATE_LIMIT,       /* 429 */
	PROV_ERR_OVERLOADED,       /* 529, 503 "overloaded" */
	PROV_ERR_TIMEOUT,          /* stalled, or the total timeout passed, or 408/504 */
	PROV_ERR_CONTEXT_OVERFLOW, /* prompt too long for the model */
	PROV_ERR_FORMAT,           /* 400 other than context overflow: our request was refused */
	PROV_ERR_SERVER,           /* 5xx */
	PROV_ERR_NETWORK,          /* could not connect, connection dropped mid-stream */
	PROV_ERR_PROTOCOL,         /* malformed stream: bad SSE/JSON, missing events */
	PROV_ERR_REFUSAL,          /* the model refused (content filter) */
	PROV_ERR_ABORTED,          /* prov_call_abort */
	PROV_ERR_UNKNOWN,
};

struct prov_error {
	enum prov_err_kind kind;
	long status;         /* HTTP status, 0 when none */
	long retry_after_ms; /* from Retry-After (seconds or HTTP date) / retry-after-ms; -1 none */
	char message[512];   /* human, names the provider; never contains a key */
};

/* "auth", "rate_limit", …: for logs and the failover summary. */
const char *prov_err_kind_name(enum prov_err_kind k);
/* The chat event errorKind: "refusal"|"timeout"|"rate_limit"|"context_length"|"unknown". */
const char *prov_err_chat_kind(enum prov_err_kind k);
/* Errors after which failover tries the next profile/model (not overflow, format or abort). */
bool prov_err_failover(enum prov_err_kind k);
/* The message uses one of the "prompt does not fit" wordings APIs use (OpenClaw's list). */
bool prov_err_is_overflow(const char *msg);
/*
 * Classify by HTTP status (0 for an in-stream error) and the API's message:
 * 401/403 auth, 402 or quota wording billing, 429 rate limit, 529 or
 * "overloaded" overloaded, 408/504 timeout, 413 or overflow wording context
 * overflow, other 4xx format, 5xx server.
 */
enum prov_err_kind prov_err_classify(long status, const char *msg);
/*
 * The generic non-2xx parse: out->message = the API's own message (from
 * {"error":{"message"}} / {"error":"…"} / {"message"} / the raw body, one
 * line), out->kind from prov_err_classify. ops->error may call it and adjust.
 */
void prov_err_generic(long status, const char *body, size_t len, struct prov_error *out);

/*
 * The stream state a provider file feeds. It owns the assistant message
 * being built and tells the sink about each piece as it arrives.
 */
struct prov_stream;

/* Append assistant text to content block `index` (created on first use). */
void prov_stream_text(struct prov_stream *st, int index, const char *s, size_t n);
/* Append thinking text to block `index`; `signature` may be NULL (set/replaced when given). */
void prov_stream_thinking(struct prov_stream *st, int index, const char *s, size_t n,
			  const char *signature);
/*
 * Block `index` is thinking the provider redacted: stored as pi does, with
 * placeholder text, `redacted: true` and the opaque data as its signature,
 * so the next request can replay it (Anthropic's redacted_thinking).
 */
void prov_stream_redacted(struct prov_stream *st, int index, const char *placeholder,
			  const char *data);
/* A tool call begins at block `index`. */
void prov_stream_tool_begin(struct prov_stream *st, int index, const char *id, const char *name);
/* More of its arguments' JSON text (concatenated, parsed at tool_end). */
void prov_stream_tool_args(struct prov_stream *st, int index, const char *s, size_t n);
/* The tool call at `index` is complete; its arguments are parsed (invalid JSON is a protocol error). */
int prov_stream_tool_end(struct prov_stream *st, int index);
/* A complete tool call at once (Gemini, Ollama): `args` borrowed. */
void prov_stream_tool_call(struct prov_stream *st, int index, const char *id, const char *name,
			   const json_t *args);
/* Usage as reported; fields < 0 are left unchanged. Later calls overwrite. */
void prov_stream_usage(struct prov_stream *st, long input, long output, long cache_read,
		       long cache_write);
/* The stop reason in pi's words: "stop", "length", "toolUse", "error". */
void prov_stream_stop(struct prov_stream *st, const char *reason);
void prov_stream_response_id(struct prov_stream *st, const char *id);
/* The API reported an error inside the stream (an `error` event). */
void prov_stream_fail(struct prov_stream *st, enum prov_err_kind kind, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
/* Parse one event's JSON; on failure a PROTOCOL error is recorded and NULL returned. */
json_t *prov_stream_json(struct prov_stream *st, const char *data, size_t len);
/* A failure was recorded (prov_stream_fail, or by the driver). */
bool prov_stream_failed(const struct prov_stream *st);
/* prov_stream_stop was called. */
bool prov_stream_has_stop(const struct prov_stream *st);
/* The provider name for messages ("openai", …). */
const char *prov_stream_provider(const struct prov_stream *st);
/* The provider file's own per-call state (see prov_ops.state_size). */
void *prov_stream_priv(struct prov_stream *st);
/*
 * The request being answered (for the model id, api, thinking …). Its
 * borrowed parts (messages, tools, system, api_key) are NULL once
 * prov_call_start has returned.
 */
const struct prov_request *prov_stream_request(struct prov_stream *st);

enum prov_framing {
	PROV_FRAMING_SSE,
	PROV_FRAMING_NDJSON,
};

/* One wire format. Designated initializers; NULL slots get the driver's default. */
struct prov_ops {
	const char *api; /* the models.providers.*.api value it serves */
	enum prov_framing framing;
	size_t state_size; /* bytes of zeroed private state per call (prov_stream_priv) */
	/* Build URL, headers and body. 0, or -1 with a message in err. */
	int (*build)(const struct prov_request *rq, struct prov_http *out, char *err,
		     size_t errlen);
	/*
	 * One SSE event (`event` "" when unnamed) or one NDJSON line (`event`
	 * NULL). Returns 0, or -1 after prov_stream_fail. Also the place to
	 * notice the stream's natural end (e.g. message_stop, [DONE], done:true).
	 */
	int (*event)(struct prov_stream *st, const char *event, const char *data, size_t len);
	/*
	 * The body ended. Returns 0 when the stream was complete, -1 (after
	 * prov_stream_fail) when it was cut short. NULL: complete when a stop
	 * reason was seen.
	 */
	int (*finish)(struct prov_stream *st);
	/*
	 * A non-2xx answer: fill `out->kind` and `out->message` from the status
	 * and body (the API's own error JSON). NULL: the driver's generic parse
	 * ({"error":{"message","type"}} / {"error":"…"} / status classes).
	 * The driver makes the final message "<provider> returned <status>: <message>".
	 */
	void (*error)(long status, const char *body, size_t len, struct prov_error *out);
	/* Release private state that holds allocations. */
	void (*release)(struct prov_stream *st);
};

extern const struct prov_ops prov_openai_chat;      /* openai-completions */
extern const struct prov_ops prov_openai_responses; /* openai-responses */
extern const struct prov_ops prov_anthropic;        /* anthropic-messages */
extern const struct prov_ops prov_ollama;           /* ollama */
extern const struct prov_ops prov_gemini;           /* google-generative-ai */

/* Does the lowercased model id match the POSIX extended regular expression `pattern`? */
bool prov_model_matches(const char *id, const char *pattern);

/* The ops for an api name, or NULL. */
const struct prov_ops *prov_ops_find(const char *api);

/* Where a running call reports. */
struct prov_sink {
	void (*text)(void *ud, const char *delta, size_t n);     /* assistant text delta */
	void (*thinking)(void *ud, const char *delta, size_t n); /* thinking delta; may be NULL */
	void (*tool_call)(void *ud,
			  const json_t *block); /* a complete toolCall block; may be NULL */
	/*
	 * Exactly once, unless the call was aborted. `message` (stolen) is the
	 * assistant message with usage and stopReason (on error "error" with
	 * errorMessage, holding whatever content arrived). `err` is NULL on
	 * success.
	 */
	void (*done)(void *ud, json_t *message, const struct prov_error *err);
};

struct prov_call;

/*
 * Start a model call. Returns the call, or NULL with `err` filled when the
 * request cannot even be built (unknown api, no base URL); then no sink
 * callback runs. Sink callbacks never run before this returns.
 */
struct prov_call *prov_call_start(struct http_client *hc, const struct prov_request *rq,
				  const struct prov_sink *sink, void *ud, struct prov_error *err);
/*
 * Stop the call now. Returns the partial assistant message (new reference,
 * stopReason "aborted"); no sink callback runs afterwards.
 */
json_t *prov_call_abort(struct prov_call *c);

/*
 * Resolve Retry-After ("120", or an HTTP date) / "retry-after-ms" into ms;
 * -1 when absent or unparsable.
 */
long prov_retry_after_ms(const char *retry_after, const char *retry_after_ms);

/*
 * Test seam: the exact framing + ops->event + finish + sink path of a call,
 * without HTTP. _new answers 200 (change with _status before feeding);
 * _feed is one body chunk (returns nonzero when the transfer would stop);
 * _end is on_done with an HTTP_OK/HTTP_E_* result and the Retry-After
 * headers, runs sink->done and frees; _abort is prov_call_abort.
 */
struct prov_stream *prov_stream_test_new(const struct prov_request *rq, const struct prov_ops *ops,
					 const struct prov_sink *sink, void *ud);
void prov_stream_test_status(struct prov_stream *st, long status);
int prov_stream_test_feed(struct prov_stream *st, const char *data, size_t len);
void prov_stream_test_end(struct prov_stream *st, int http_result, const char *retry_after,
			  const char *retry_after_ms);
json_t *prov_stream_test_abort(struct prov_stream *st);

#endif
