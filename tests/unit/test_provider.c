/*
 * test_provider.c - the shared provider driver (src/providers/provider.c):
 * error classes, Retry-After, the generic error parse, stream assembly,
 * cut and malformed streams, abort, and the transcript transform.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/jsonx.h"
#include "core/mem.h"
#include "prov_testutil.h"

/* ==== a tiny wire format that drives every prov_stream_* call ==== */

/* SSE events named after the call, data JSON {"i":index,"s":text,...}. */
static int fake_event(struct prov_stream *st, const char *ev, const char *data, size_t len)
{
	json_t *j = prov_stream_json(st, data, len);
	if (!j)
		return -1;
	int i = (int)json_integer_value(json_object_get(j, "i"));
	const char *s = json_string_value(json_object_get(j, "s"));
	size_t n = s ? strlen(s) : 0;
	int rc = 0;
	if (strcmp(ev, "text") == 0)
		prov_stream_text(st, i, s, n);
	else if (strcmp(ev, "think") == 0)
		prov_stream_thinking(st, i, s, n, json_string_value(json_object_get(j, "sig")));
	else if (strcmp(ev, "tool") == 0)
		prov_stream_tool_begin(st, i, json_string_value(json_object_get(j, "id")),
				       json_string_value(json_object_get(j, "name")));
	else if (strcmp(ev, "args") == 0)
		prov_stream_tool_args(st, i, s, n);
	else if (strcmp(ev, "tool_end") == 0)
		rc = prov_stream_tool_end(st, i);
	else if (strcmp(ev, "usage") == 0)
		prov_stream_usage(st, 10, 5, 3, 2);
	else if (strcmp(ev, "stop") == 0)
		prov_stream_stop(st, s);
	else if (strcmp(ev, "id") == 0)
		prov_stream_response_id(st, s);
	else if (strcmp(ev, "error") == 0)
		prov_stream_fail(st, PROV_ERR_OVERLOADED, "fake: %s", s);
	json_decref(j);
	return rc;
}

static const struct prov_ops fake_ops = {
	.api = "fake",
	.framing = PROV_FRAMING_SSE,
	.event = fake_event,
};

static struct prov_model fake_model;
static struct prov_request fake_rq;

static int setup(void **state)
{
	fake_model = pt_model("fake");
	fake_model.provider = (char *)"fake";
	fake_rq = (struct prov_request){ .model = &fake_model };
	return 0;
}

/* ==== errors ==== */

static void test_classify(void **state)
{
	assert_int_equal(prov_err_classify(401, "bad key"), PROV_ERR_AUTH);
	assert_int_equal(prov_err_classify(403, ""), PROV_ERR_AUTH);
	assert_int_equal(prov_err_classify(402, ""), PROV_ERR_BILLING);
	assert_int_equal(
		prov_err_classify(429, "You exceeded your current quota insufficient_quota"),
		PROV_ERR_BILLING);
	assert_int_equal(prov_err_classify(429, "Rate limit reached"), PROV_ERR_RATE_LIMIT);
	assert_int_equal(prov_err_classify(529, ""), PROV_ERR_OVERLOADED);
	assert_int_equal(prov_err_classify(503, "Overloaded"), PROV_ERR_OVERLOADED);
	assert_int_equal(prov_err_classify(503, "upstream down"), PROV_ERR_SERVER);
	assert_int_equal(prov_err_classify(500, ""), PROV_ERR_SERVER);
	assert_int_equal(prov_err_classify(408, ""), PROV_ERR_TIMEOUT);
	assert_int_equal(prov_err_classify(504, ""), PROV_ERR_TIMEOUT);
	assert_int_equal(
		prov_err_classify(400, "prompt is too long: 210000 tokens > 200000 maximum"),
		PROV_ERR_CONTEXT_OVERFLOW);
	assert_int_equal(
		prov_err_classify(400, "This model's maximum context length is 128000 tokens"),
		PROV_ERR_CONTEXT_OVERFLOW);
	assert_int_equal(prov_err_classify(400, "context_length_exceeded"),
			 PROV_ERR_CONTEXT_OVERFLOW);
	assert_int_equal(prov_err_classify(413, ""), PROV_ERR_CONTEXT_OVERFLOW);
	assert_int_equal(prov_err_classify(400, "Invalid value for 'tools'"), PROV_ERR_FORMAT);
	assert_int_equal(prov_err_classify(404, "model not found"), PROV_ERR_FORMAT);
	/* Bedrock's throttling wording is not an overflow. */
	assert_false(prov_err_is_overflow("ThrottlingException: Too many tokens, rate limit"));
	assert_true(prov_err_is_overflow("Too many tokens in request"));

	assert_string_equal(prov_err_kind_name(PROV_ERR_RATE_LIMIT), "rate_limit");
	assert_string_equal(prov_err_chat_kind(PROV_ERR_CONTEXT_OVERFLOW), "context_length");
	assert_string_equal(prov_err_chat_kind(PROV_ERR_AUTH), "unknown");
	assert_true(prov_err_failover(PROV_ERR_RATE_LIMIT));
	assert_true(prov_err_failover(PROV_ERR_AUTH));
	assert_false(prov_err_failover(PROV_ERR_CONTEXT_OVERFLOW));
	assert_false(prov_err_failover(PROV_ERR_FORMAT));
	assert_false(prov_err_failover(PROV_ERR_ABORTED));
}

static void test_generic_error_body(void **state)
{
	struct prov_error e;
	const char *b = "{\"error\":{\"message\":\"Incorrect API "
			"key\",\"type\":\"invalid_request_error\"}}";
	prov_err_generic(401, b, strlen(b), &e);
	assert_int_equal(e.kind, PROV_ERR_AUTH);
	assert_string_equal(e.message, "Incorrect API key");

	b = "{\"error\":\"model is overloaded\"}";
	prov_err_generic(500, b, strlen(b), &e);
	assert_int_equal(e.kind, PROV_ERR_OVERLOADED);
	assert_string_equal(e.message, "model is overloaded");

	/* The class can come from the type word alone. */
	b = "{\"error\":{\"message\":\"bad\",\"type\":\"x\",\"code\":\"context_length_exceeded\"}}";
	prov_err_generic(400, b, strlen(b), &e);
	assert_int_equal(e.kind, PROV_ERR_CONTEXT_OVERFLOW);

	b = "<html>\n  Bad   gateway\n</html>";
	prov_err_generic(502, b, strlen(b), &e);
	assert_int_equal(e.kind, PROV_ERR_SERVER);
	assert_string_equal(e.message, "<html> Bad gateway </html>");

	prov_err_generic(503, "", 0, &e);
	assert_string_equal(e.message, "(no body)");
}

static void test_retry_after(void **state)
{
	assert_int_equal(prov_retry_after_ms(NULL, NULL), -1);
	assert_int_equal(prov_retry_after_ms("120", NULL), 120000);
	assert_int_equal(prov_retry_after_ms(" 7 ", NULL), 7000);
	assert_int_equal(prov_retry_after_ms(NULL, "1500"), 1500);
	assert_int_equal(prov_retry_after_ms(NULL, "1.2"), 2);
	assert_int_equal(prov_retry_after_ms("2", "500"), 2000); /* the later of the two */
	assert_int_equal(prov_retry_after_ms("soon", NULL), -1);
	assert_int_equal(prov_retry_after_ms("-3", "x"), -1);
	assert_int_equal(prov_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", NULL), 0); /* past */

	char date[64];
	time_t t = time(NULL) + 3600;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	long ms = prov_retry_after_ms(date, NULL);
	assert_true(ms > 3590000 && ms <= 3600000);
}

static void test_http_error_through_driver(void **state)
{
	struct rec r;
	rec_init(&r);
	struct prov_stream *st = prov_stream_test_new(&fake_rq, &fake_ops, &rec_sink, &r);
	prov_stream_test_status(st, 429);
	const char *b =
		"{\"error\":{\"message\":\"Rate limit reached for m1\",\"type\":\"requests\"}}";
	assert_int_equal(prov_stream_test_feed(st, b, strlen(b)), 0);
	prov_stream_test_end(st, HTTP_OK, "30", NULL);
	assert_int_equal(r.done_calls, 1);
	assert_true(r.failed);
	assert_int_equal(r.err.kind, PROV_ERR_RATE_LIMIT);
	assert_int_equal(r.err.status, 429);
	assert_int_equal(r.err.retry_after_ms, 30000);
	assert_string_equal(r.err.message, "fake returned 429: Rate limit reached for m1");
	assert_string_equal(pt_str(r.msg, "stopReason"), "error");
	assert_string_equal(pt_str(r.msg, "errorMessage"), r.err.message);
	assert_int_equal(json_array_size(json_object_get(r.msg, "content")), 0);
	rec_release(&r);
}

/* ==== assembly ==== */

static const char *full_stream =
	"event: id\ndata: {\"s\":\"resp_1\"}\n\n"
	"event: think\ndata: {\"i\":0,\"s\":\"Let me \"}\n\n"
	"event: think\ndata: {\"i\":0,\"s\":\"see.\",\"sig\":\"sig1\"}\n\n"
	"event: text\ndata: {\"i\":1,\"s\":\"Hello, \"}\n\n"
	"event: tool\ndata: {\"i\":3,\"id\":\"c2\",\"name\":\"write\"}\n\n"
	"event: tool\ndata: {\"i\":2,\"id\":\"c1\",\"name\":\"read\"}\n\n"
	"event: args\ndata: {\"i\":2,\"s\":\"{\\\"path\\\":\"}\n\n"
	"event: args\ndata: {\"i\":3,\"s\":\"{\\\"path\\\":\\\"b\\\"}\"}\n\n"
	"event: text\ndata: {\"i\":1,\"s\":\"world\"}\n\n"
	"event: args\ndata: {\"i\":2,\"s\":\"\\\"a\\\"}\"}\n\n"
	"event: tool_end\ndata: {\"i\":2}\n\n"
	"event: usage\ndata: {}\n\n"
	"event: stop\ndata: {\"s\":\"stop\"}\n\n";

static void test_assembly(void **state)
{
	struct rec r;
	pt_run(&fake_rq, &fake_ops, full_stream, HTTP_OK, &r);
	assert_false(r.failed);
	json_t *m = r.msg;
	assert_string_equal(pt_str(m, "role"), "assistant");
	assert_string_equal(pt_str(m, "api"), "fake");
	assert_string_equal(pt_str(m, "provider"), "fake");
	assert_string_equal(pt_str(m, "model"), "m1");
	assert_string_equal(pt_str(m, "responseId"), "resp_1");
	/* Tool calls arrived, so "stop" becomes "toolUse" as pi does. */
	assert_string_equal(pt_str(m, "stopReason"), "toolUse");
	assert_null(json_object_get(m, "errorMessage"));
	/* Blocks in order of first arrival: thinking, text, c2 (index 3), c1 (index 2). */
	assert_int_equal(json_array_size(json_object_get(m, "content")), 4);
	assert_string_equal(pt_str(m, "content[0].type"), "thinking");
	assert_string_equal(pt_str(m, "content[0].thinking"), "Let me see.");
	assert_string_equal(pt_str(m, "content[0].thinkingSignature"), "sig1");
	assert_string_equal(pt_str(m, "content[1].text"), "Hello, world");
	assert_string_equal(pt_str(m, "content[2].type"), "toolCall");
	assert_string_equal(pt_str(m, "content[2].id"), "c2");
	assert_string_equal(pt_str(m, "content[2].name"), "write");
	assert_string_equal(pt_str(m, "content[2].arguments.path"), "b");
	assert_string_equal(pt_str(m, "content[3].id"), "c1");
	assert_string_equal(pt_str(m, "content[3].arguments.path"), "a");
	/* Usage, with totalTokens the sum and a zero cost object. */
	assert_int_equal(pt_int(m, "usage.input"), 10);
	assert_int_equal(pt_int(m, "usage.output"), 5);
	assert_int_equal(pt_int(m, "usage.cacheRead"), 3);
	assert_int_equal(pt_int(m, "usage.cacheWrite"), 2);
	assert_int_equal(pt_int(m, "usage.totalTokens"), 20);
	assert_int_equal(json_object_size(jpath_get(m, "usage.cost")), 5);
	assert_int_equal(pt_int(m, "usage.cost.total"), 0);
	/* Deltas reached the sink; tool calls when complete (c1 explicitly, c2 at the end). */
	assert_string_equal(r.text.p, "Hello, world");
	assert_string_equal(r.thinking.p, "Let me see.");
	assert_int_equal(json_array_size(r.tools), 2);
	assert_string_equal(pt_str(r.tools, "[0].id"), "c1");
	assert_string_equal(pt_str(r.tools, "[1].id"), "c2");
	rec_release(&r);

	/* A timestamp in ms, taken at the start. */
	rec_init(&r);
	int64_t before = (int64_t)time(NULL) * 1000 - 1000;
	pt_feed(&fake_rq, &fake_ops, 200, "event: stop\ndata: {\"s\":\"toolUse\"}\n\n", 0, HTTP_OK,
		&r);
	assert_true(pt_int(r.msg, "timestamp") >= before);
	/* toolUse without any tool call is a plain stop. */
	assert_string_equal(pt_str(r.msg, "stopReason"), "stop");
	assert_int_equal(pt_int(r.msg, "usage.totalTokens"), 0);
	rec_release(&r);
}

static void test_truncated(void **state)
{
	struct rec r;
	/* Clean end of body, but no stop: the response was not complete. */
	pt_run(&fake_rq, &fake_ops, "event: text\ndata: {\"i\":0,\"s\":\"Hel\"}\n\n", HTTP_OK, &r);
	assert_true(r.failed);
	assert_int_equal(r.err.kind, PROV_ERR_NETWORK);
	assert_string_equal(r.err.message, "fake stream ended before the response was complete");
	assert_string_equal(pt_str(r.msg, "stopReason"), "error");
	assert_string_equal(pt_str(r.msg, "content[0].text"), "Hel"); /* what arrived is kept */
	rec_release(&r);

	/* The connection broke mid-stream. */
	pt_run(&fake_rq, &fake_ops, "event: text\ndata: {\"i\":0,\"s\":\"Hel\"}\n\nevent: te",
	       HTTP_E_NETWORK, &r);
	assert_int_equal(r.err.kind, PROV_ERR_NETWORK);
	assert_string_equal(r.err.message, "connection to fake dropped: test");
	rec_release(&r);

	/* Stalled. */
	pt_run(&fake_rq, &fake_ops, "", HTTP_E_STALLED, &r);
	assert_int_equal(r.err.kind, PROV_ERR_TIMEOUT);
	assert_string_equal(r.err.message, "no data from fake for 120s");
	assert_string_equal(prov_err_chat_kind(r.err.kind), "timeout");
	rec_release(&r);

	pt_run(&fake_rq, &fake_ops, "", HTTP_E_CONNECT, &r);
	assert_int_equal(r.err.kind, PROV_ERR_NETWORK);
	assert_string_equal(r.err.message, "cannot reach fake: test");
	rec_release(&r);

	/* A tool call whose arguments never closed at the end is a protocol error. */
	pt_run(&fake_rq, &fake_ops,
	       "event: tool\ndata: {\"i\":0,\"id\":\"c\",\"name\":\"x\"}\n\n"
	       "event: args\ndata: {\"i\":0,\"s\":\"{\\\"a\\\":\"}\n\n"
	       "event: stop\ndata: {\"s\":\"toolUse\"}\n\n",
	       HTTP_OK, &r);
	assert_int_equal(r.err.kind, PROV_ERR_PROTOCOL);
	assert_string_equal(r.err.message, "fake sent invalid JSON arguments for tool x");
	assert_int_equal(json_array_size(r.tools), 0);
	rec_release(&r);
}

static void test_malformed_and_stream_error(void **state)
{
	struct rec r;
	pt_run(&fake_rq, &fake_ops,
	       "event: text\ndata: {\"i\":0,\"s\":\"ok\"}\n\n"
	       "event: text\ndata: {\"i\":0,\"s\":\n\n"
	       "event: text\ndata: {\"i\":0,\"s\":\"never\"}\n\n",
	       HTTP_E_CALLBACK, &r);
	assert_true(r.failed);
	assert_int_equal(r.err.kind, PROV_ERR_PROTOCOL);
	assert_true(strstr(r.err.message, "fake sent malformed JSON in the stream") != NULL);
	assert_string_equal(r.text.p, "ok");
	assert_string_equal(pt_str(r.msg, "content[0].text"), "ok");
	rec_release(&r);

	pt_run(&fake_rq, &fake_ops,
	       "event: error\ndata: {\"s\":\"Overloaded\"}\n\n"
	       "event: stop\ndata: {\"s\":\"stop\"}\n\n",
	       HTTP_E_CALLBACK, &r);
	assert_int_equal(r.err.kind, PROV_ERR_OVERLOADED);
	assert_string_equal(pt_str(r.msg, "errorMessage"), "fake: Overloaded");
	rec_release(&r);

	/* A block index reused for another kind is refused. */
	pt_run(&fake_rq, &fake_ops,
	       "event: text\ndata: {\"i\":0,\"s\":\"a\"}\n\n"
	       "event: think\ndata: {\"i\":0,\"s\":\"b\"}\n\n",
	       HTTP_E_CALLBACK, &r);
	assert_int_equal(r.err.kind, PROV_ERR_PROTOCOL);
	rec_release(&r);
}

static void test_abort_returns_partial(void **state)
{
	struct rec r;
	rec_init(&r);
	struct prov_stream *st = prov_stream_test_new(&fake_rq, &fake_ops, &rec_sink, &r);
	const char *w =
		"event: text\ndata: {\"i\":0,\"s\":\"partial\"}\n\nevent: usage\ndata: {}\n\n";
	prov_stream_test_feed(st, w, strlen(w));
	json_t *m = prov_stream_test_abort(st);
	assert_int_equal(r.done_calls, 0);
	assert_string_equal(pt_str(m, "stopReason"), "aborted");
	assert_string_equal(pt_str(m, "content[0].text"), "partial");
	assert_int_equal(pt_int(m, "usage.totalTokens"), 20);
	json_decref(m);
	rec_release(&r);
}

/* Aborting from inside a sink callback (the user pressed stop on a delta). */
static struct prov_stream *reentrant_st;
static json_t *reentrant_msg;

static void abort_on_text(void *ud, const char *s, size_t n)
{
	if (!reentrant_msg)
		reentrant_msg = prov_stream_test_abort(reentrant_st);
}

static void test_abort_from_callback(void **state)
{
	struct rec r;
	rec_init(&r);
	struct prov_sink sink = rec_sink;
	sink.text = abort_on_text;
	reentrant_msg = NULL;
	reentrant_st = prov_stream_test_new(&fake_rq, &fake_ops, &sink, &r);
	const char *w = "event: text\ndata: {\"i\":0,\"s\":\"one\"}\n\n"
			"event: text\ndata: {\"i\":0,\"s\":\"two\"}\n\n";
	/* The stream is freed when the feed unwinds; nothing else runs. */
	assert_int_not_equal(prov_stream_test_feed(reentrant_st, w, strlen(w)), 0);
	assert_non_null(reentrant_msg);
	assert_string_equal(pt_str(reentrant_msg, "stopReason"), "aborted");
	assert_int_equal(r.done_calls, 0);
	json_decref(reentrant_msg);
	rec_release(&r);
}

/* ==== registry and helpers ==== */

static void test_ops_find(void **state)
{
	assert_ptr_equal(prov_ops_find("openai-completions"), &prov_openai_chat);
	assert_ptr_equal(prov_ops_find("openai-responses"), &prov_openai_responses);
	assert_ptr_equal(prov_ops_find("ollama"), &prov_ollama);
	assert_null(prov_ops_find("nope"));
	assert_null(prov_ops_find(NULL));
	assert_string_equal(prov_ops_find("openai-completions")->api, "openai-completions");
}

static void test_call_start_errors(void **state)
{
	struct prov_model m = pt_model("carrier-pigeon");
	struct prov_request rq = { .model = &m };
	struct prov_error e;
	assert_null(prov_call_start(NULL, &rq, &rec_sink, NULL, &e));
	assert_int_equal(e.kind, PROV_ERR_FORMAT);
	assert_string_equal(e.message, "unknown model api carrier-pigeon for prov");

	m = pt_model("openai-completions");
	m.base_url = NULL;
	json_t *msgs = json_array();
	rq = (struct prov_request){ .model = &m, .messages = msgs };
	assert_null(prov_call_start(NULL, &rq, &rec_sink, NULL, &e));
	assert_string_equal(e.message, "prov: no base URL");
	json_decref(msgs);
}

static void test_model_copy(void **state)
{
	struct prov_model src = pt_model("ollama");
	src.headers = json_pack("{s:s}", "X-A", "1");
	src.context_window = 8192;
	struct prov_model dst;
	prov_model_copy(&dst, &src);
	json_decref(src.headers);
	assert_string_equal(dst.api, "ollama");
	assert_ptr_not_equal(dst.api, src.api);
	assert_int_equal(dst.context_window, 8192);
	assert_string_equal(pt_str(dst.headers, "X-A"), "1");
	prov_model_release(&dst);
	assert_null(dst.id);

	struct prov_http h;
	prov_http_init(&h);
	prov_http_url(&h, "http://x/v1//", "/chat");
	assert_string_equal(h.url, "http://x/v1/chat");
	prov_http_header(&h, "A: %d", 1);
	prov_http_header(&h, "B: 2");
	assert_int_equal(h.nheaders, 2);
	assert_string_equal(h.headers[0], "A: 1");
	assert_null(h.headers[2]);
	prov_http_release(&h);
}

static void test_transform_messages(void **state)
{
	json_t *msgs = pt_json(
		"[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"look\"},"
		"{\"type\":\"image\",\"data\":\"AAAA\",\"mimeType\":\"image/png\"},"
		"{\"type\":\"image\",\"data\":\"BBBB\",\"mimeType\":\"image/png\"}]},"
		/* failed with text: replaced by a marker */
		"{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"half\"}],"
		"\"stopReason\":\"error\",\"provider\":\"prov\",\"api\":\"fake\",\"model\":\"m1\"},"
		/* aborted with a tool call: dropped */
		"{\"role\":\"assistant\",\"content\":[{\"type\":\"toolCall\",\"id\":\"x\",\"name\":"
		"\"n\","
		"\"arguments\":{}}],\"stopReason\":\"aborted\"},"
		/* another model's thinking becomes text; c1 answered, c2 not */
		"{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"hmm\"},"
		"{\"type\":\"toolCall\",\"id\":\"c1\",\"name\":\"read\",\"arguments\":{}},"
		"{\"type\":\"toolCall\",\"id\":\"c2\",\"name\":\"exec\",\"arguments\":{}}],"
		"\"stopReason\":\"toolUse\",\"provider\":\"other\",\"api\":\"x\",\"model\":\"y\"},"
		"{\"role\":\"toolResult\",\"toolCallId\":\"c1\",\"toolName\":\"read\","
		"\"content\":[{\"type\":\"text\",\"text\":\"data\"}],\"isError\":false},"
		"{\"role\":\"user\",\"content\":\"next\"}]");
	struct prov_model m = pt_model("fake");
	struct prov_request rq = { .model = &m, .messages = msgs };
	json_t *t = prov_transform_messages(&rq);
	assert_int_equal(json_array_size(t), 6);
	/* Images became one placeholder for a model without image input. */
	assert_int_equal(json_array_size(jpath_get(t, "[0].content")), 2);
	assert_string_equal(pt_str(t, "[0].content[1].text"),
			    "(image omitted: model does not support images)");
	assert_string_equal(pt_str(t, "[1].content[0].text"),
			    "[This turn failed before it completed. Do not redo its work without "
			    "confirming with the user first.]");
	assert_string_equal(pt_str(t, "[2].content[0].type"), "text");
	assert_string_equal(pt_str(t, "[2].content[0].text"), "hmm");
	assert_string_equal(pt_str(t, "[3].toolCallId"), "c1");
	assert_string_equal(pt_str(t, "[4].role"), "toolResult");
	assert_string_equal(pt_str(t, "[4].toolCallId"), "c2");
	assert_string_equal(pt_str(t, "[4].toolName"), "exec");
	assert_string_equal(pt_str(t, "[4].content[0].text"), "No result provided");
	assert_true(json_is_true(jpath_get(t, "[4].isError")));
	assert_string_equal(pt_str(t, "[5].content"), "next");
	json_decref(t);

	/* With image input the images stay. */
	m.input_image = true;
	t = prov_transform_messages(&rq);
	assert_int_equal(json_array_size(jpath_get(t, "[0].content")), 3);
	json_decref(t);
	json_decref(msgs);

	json_t *empty = json_array();
	char *s = prov_tool_result_text(empty);
	assert_string_equal(s, "(no output)");
	free(s);
	json_decref(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_classify, setup),
		cmocka_unit_test_setup(test_generic_error_body, setup),
		cmocka_unit_test_setup(test_retry_after, setup),
		cmocka_unit_test_setup(test_http_error_through_driver, setup),
		cmocka_unit_test_setup(test_assembly, setup),
		cmocka_unit_test_setup(test_truncated, setup),
		cmocka_unit_test_setup(test_malformed_and_stream_error, setup),
		cmocka_unit_test_setup(test_abort_returns_partial, setup),
		cmocka_unit_test_setup(test_abort_from_callback, setup),
		cmocka_unit_test_setup(test_ops_find, setup),
		cmocka_unit_test_setup(test_call_start_errors, setup),
		cmocka_unit_test_setup(test_model_copy, setup),
		cmocka_unit_test_setup(test_transform_messages, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
