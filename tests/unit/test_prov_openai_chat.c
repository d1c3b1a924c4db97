/*
 * test_prov_openai_chat.c - the openai-completions wire format
 * (src/providers/openai_chat.c): the request body field by field, and
 * canned SSE streams through the driver whole and byte by byte.
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

#include "core/jsonx.h"
#include "core/mem.h"
#include "core/str.h"
#include "prov_testutil.h"

static const char *conversation =
	"[{\"role\":\"user\",\"content\":\"hi\",\"timestamp\":1},"
	"{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"Hello.\"}],"
	"\"stopReason\":\"stop\",\"provider\":\"prov\",\"api\":\"openai-completions\",\"model\":"
	"\"m1\"},"
	"{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"what is this?\"},"
	"{\"type\":\"image\",\"data\":\"iVBOR\",\"mimeType\":\"image/png\"}]},"
	"{\"role\":\"assistant\",\"content\":["
	"{\"type\":\"thinking\",\"thinking\":\"need to "
	"look\",\"thinkingSignature\":\"reasoning_content\"},"
	"{\"type\":\"text\",\"text\":\"Let me check.\"},"
	"{\"type\":\"toolCall\",\"id\":\"call_1\",\"name\":\"read\",\"arguments\":{\"path\":\"a."
	"txt\"}},"
	"{\"type\":\"toolCall\",\"id\":\"call_2\",\"name\":\"ls\",\"arguments\":{}}],"
	"\"stopReason\":\"toolUse\",\"provider\":\"prov\",\"api\":\"openai-completions\",\"model\":"
	"\"m1\"},"
	"{\"role\":\"toolResult\",\"toolCallId\":\"call_1\",\"toolName\":\"read\","
	"\"content\":[{\"type\":\"text\",\"text\":\"contents\"}],\"isError\":false},"
	"{\"role\":\"toolResult\",\"toolCallId\":\"call_2\",\"toolName\":\"ls\","
	"\"content\":[{\"type\":\"image\",\"data\":\"R0lG\",\"mimeType\":\"image/gif\"}],"
	"\"isError\":false},"
	"{\"role\":\"user\",\"content\":\"thanks\"}]";

static const char *tools = "[{\"name\":\"read\",\"description\":\"Read files\","
			   "\"parameters\":{\"type\":\"object\",\"properties\":{\"path\":{\"type\":"
			   "\"string\"}},\"required\":[\"path\"]}}]";

static json_t *build_body(struct prov_request *rq, struct prov_http *h)
{
	char err[256];
	prov_http_init(h);
	assert_int_equal(prov_openai_chat.build(rq, h, err, sizeof(err)), 0);
	json_t *b = json_loads(h->body.p, 0, NULL);
	assert_non_null(b);
	return b;
}

static bool has_header(const struct prov_http *h, const char *line)
{
	for (size_t i = 0; i < h->nheaders; i++)
		if (strcmp(h->headers[i], line) == 0)
			return true;
	return false;
}

static void test_build_conversation(void **state)
{
	struct prov_model m = pt_model("openai-completions");
	m.input_image = true;
	m.max_tokens = 8192;
	m.headers = json_pack("{s:s}", "X-Extra", "yes");
	json_t *msgs = pt_json(conversation), *t = pt_json(tools);
	struct prov_request rq = { .model = &m,
				   .api_key = "sk-test",
				   .system = "Be brief.",
				   .messages = msgs,
				   .tools = t };
	struct prov_http h;
	json_t *b = build_body(&rq, &h);

	assert_string_equal(h.url, "http://fake/v1/chat/completions");
	assert_true(has_header(&h, "Authorization: Bearer sk-test"));
	assert_true(has_header(&h, "Content-Type: application/json"));
	assert_true(has_header(&h, "X-Extra: yes"));

	/* Top-level keys in OpenClaw's order. */
	const char *keys[] = { "model",
			       "messages",
			       "stream",
			       "stream_options",
			       "tools",
			       "tool_choice",
			       "max_completion_tokens" };
	size_t i = 0;
	const char *k;
	json_t *v;
	json_object_foreach(b, k, v)
	{
		assert_true(i < ARRAY_SIZE(keys));
		assert_string_equal(k, keys[i++]);
	}
	assert_int_equal(i, ARRAY_SIZE(keys));
	assert_string_equal(pt_str(b, "model"), "m1");
	assert_true(json_is_true(json_object_get(b, "stream")));
	assert_true(json_is_true(jpath_get(b, "stream_options.include_usage")));
	assert_string_equal(pt_str(b, "tool_choice"), "auto");
	assert_int_equal(pt_int(b, "max_completion_tokens"), 8192);
	assert_string_equal(pt_str(b, "tools[0].type"), "function");
	assert_string_equal(pt_str(b, "tools[0].function.name"), "read");
	assert_string_equal(pt_str(b, "tools[0].function.description"), "Read files");
	assert_string_equal(pt_str(b, "tools[0].function.parameters.required[0]"), "path");

	json_t *ms = json_object_get(b, "messages");
	assert_int_equal(json_array_size(ms), 9);
	assert_string_equal(pt_str(ms, "[0].role"), "system");
	assert_string_equal(pt_str(ms, "[0].content"), "Be brief.");
	assert_string_equal(pt_str(ms, "[1].role"), "user");
	assert_string_equal(pt_str(ms, "[1].content"), "hi");
	assert_string_equal(pt_str(ms, "[2].role"), "assistant");
	assert_string_equal(pt_str(ms, "[2].content"), "Hello.");
	assert_null(jpath_get(ms, "[2].tool_calls"));
	assert_string_equal(pt_str(ms, "[3].content[0].type"), "text");
	assert_string_equal(pt_str(ms, "[3].content[0].text"), "what is this?");
	assert_string_equal(pt_str(ms, "[3].content[1].type"), "image_url");
	assert_string_equal(pt_str(ms, "[3].content[1].image_url.url"),
			    "data:image/png;base64,iVBOR");
	/* The assistant turn with thinking (replayed in the field it came in) and two calls. */
	assert_string_equal(pt_str(ms, "[4].content"), "Let me check.");
	assert_string_equal(pt_str(ms, "[4].reasoning_content"), "need to look");
	assert_string_equal(pt_str(ms, "[4].tool_calls[0].id"), "call_1");
	assert_string_equal(pt_str(ms, "[4].tool_calls[0].type"), "function");
	assert_string_equal(pt_str(ms, "[4].tool_calls[0].function.name"), "read");
	assert_string_equal(pt_str(ms, "[4].tool_calls[0].function.arguments"),
			    "{\"path\":\"a.txt\"}");
	assert_string_equal(pt_str(ms, "[4].tool_calls[1].function.arguments"), "{}");
	/* Tool results as role tool; the image one says so and its image follows as user. */
	assert_string_equal(pt_str(ms, "[5].role"), "tool");
	assert_string_equal(pt_str(ms, "[5].tool_call_id"), "call_1");
	assert_string_equal(pt_str(ms, "[5].content"), "contents");
	assert_string_equal(pt_str(ms, "[6].tool_call_id"), "call_2");
	assert_string_equal(pt_str(ms, "[6].content"), "(see attached image)");
	assert_string_equal(pt_str(ms, "[7].role"), "user");
	assert_string_equal(pt_str(ms, "[7].content[0].text"),
			    "Image(s) from tool result #2 (ls):");
	assert_string_equal(pt_str(ms, "[7].content[1].image_url.url"),
			    "data:image/gif;base64,R0lG");
	assert_string_equal(pt_str(ms, "[8].content"), "thanks");
	assert_null(jpath_get(b, "reasoning_effort"));

	json_decref(b);
	prov_http_release(&h);
	json_decref(msgs);
	json_decref(t);
	json_decref(m.headers);
}

static void test_build_reasoning_and_minimal(void **state)
{
	struct prov_model m = pt_model("openai-completions");
	m.reasoning = true;
	m.base_url = (char *)"https://api.openai.com/v1/";
	json_t *msgs = pt_json("[{\"role\":\"user\",\"content\":\"hi\"}]");
	struct prov_request rq = {
		.model = &m, .system = "S", .messages = msgs, .thinking = "high"
	};
	struct prov_http h;
	json_t *b = build_body(&rq, &h);
	assert_string_equal(h.url, "https://api.openai.com/v1/chat/completions");
	assert_string_equal(pt_str(b, "reasoning_effort"), "high");
	/* OpenAI's reasoning models take the system prompt as "developer". */
	assert_string_equal(pt_str(b, "messages[0].role"), "developer");
	assert_null(json_object_get(b, "tools"));
	assert_null(json_object_get(b, "tool_choice"));
	assert_int_equal(pt_int(b, "max_completion_tokens"), 4096);
	/* No key, no Authorization. */
	for (size_t i = 0; i < h.nheaders; i++)
		assert_false(str_starts_with(h.headers[i], "Authorization"));
	json_decref(b);
	prov_http_release(&h);

	rq.thinking = "off";
	b = build_body(&rq, &h);
	assert_null(json_object_get(b, "reasoning_effort"));
	json_decref(b);
	prov_http_release(&h);
	json_decref(msgs);
}

/* ==== streams ==== */

static struct prov_model sm;
static struct prov_request srq;

static int setup(void **state)
{
	sm = pt_model("openai-completions");
	srq = (struct prov_request){ .model = &sm };
	return 0;
}

#define CHUNK(json) "data: " json "\n\n"

static void test_stream_text(void **state)
{
	struct rec r;
	pt_run(&srq, &prov_openai_chat,
	       CHUNK("{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":"
		     "\"assistant\",\"content\":\"\"}}]}") CHUNK("{\"id\":\"chatcmpl-1\","
								 "\"choices\":[{\"index\":0,"
								 "\"delta\":{\"content\":"
								 "\"Hel\"}}]}")
		       CHUNK("{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{"
			     "\"content\":\"lo \\u00e9\"},\"finish_reason\":null}]}")
			       CHUNK("{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{}"
				     ","
				     "\"finish_reason\":\"stop\"}]}")
				       CHUNK("{\"id\":\"chatcmpl-1\",\"choices\":[],\"usage\":{"
					     "\"prompt_tokens\":100,\"completion_tokens\":7,"
					     "\"prompt_tokens_details\":{\"cached_tokens\":60}}}")
					       CHUNK("[DONE]"),
	       HTTP_OK, &r);
	assert_false(r.failed);
	assert_string_equal(r.text.p, "Hello \xc3\xa9");
	assert_string_equal(pt_str(r.msg, "content[0].text"), "Hello \xc3\xa9");
	assert_int_equal(json_array_size(json_object_get(r.msg, "content")), 1);
	assert_string_equal(pt_str(r.msg, "stopReason"), "stop");
	assert_string_equal(pt_str(r.msg, "responseId"), "chatcmpl-1");
	assert_string_equal(pt_str(r.msg, "api"), "openai-completions");
	assert_int_equal(pt_int(r.msg, "usage.input"), 40);
	assert_int_equal(pt_int(r.msg, "usage.cacheRead"), 60);
	assert_int_equal(pt_int(r.msg, "usage.output"), 7);
	assert_int_equal(pt_int(r.msg, "usage.totalTokens"), 107);
	rec_release(&r);
}

static void test_stream_thinking_and_tools(void **state)
{
	struct rec r;
	pt_run(&srq, &prov_openai_chat,
	       CHUNK("{\"id\":\"c\",\"choices\":[{\"delta\":{\"reasoning_content\":\"Think\"}}]"
		     "}") CHUNK("{\"id\":\"c\",\"choices\":[{\"delta\":{\"reasoning_content\":"
				"\"ing.\"}}]}") CHUNK("{\"id\":\"c\",\"choices\":[{\"delta\":{"
						      "\"content\":\"On it.\"}}]}")
		       CHUNK("{\"id\":\"c\",\"choices\":[{\"delta\":{\"tool_calls\":[{"
			     "\"index\":0,\"id\":\"call_a\",\"type\":\"function\","
			     "\"function\":{\"name\":\"read\",\"arguments\":\"\"}}]}}]}")
			       CHUNK("{\"id\":\"c\",\"choices\":[{\"delta\":{\"tool_calls\":[{"
				     "\"index\":1,\"id\":\"call_b\",\"type\":\"function\","
				     "\"function\":{\"name\":\"exec\",\"arguments\":"
				     "\"{\\\"comm\"}}]}}]}")
				       CHUNK("{\"id\":\"c\",\"choices\":[{\"delta\":{\"tool_"
					     "calls\":[{\"index\":0,\"function\":{"
					     "\"arguments\":\"{\\\"path\\\":\"}}]}}]}")
					       CHUNK("{\"id\":\"c\",\"choices\":[{\"delta\":{"
						     "\"tool_calls\":[{\"index\":1,"
						     "\"function\":{\"arguments\":"
						     "\"and\\\":\\\"ls\\\"}\"}},{"
						     "\"index\":0,\"function\":{"
						     "\"arguments\":\"\\\"a\\\"}\"}}]}}"
						     "]}") CHUNK("{\"id\":\"c\",\"choices\":[{"
								 "\"delta\":{},\"finish_"
								 "reason\":\"tool_calls\"}]}")
						       CHUNK("[DONE]"),
	       HTTP_OK, &r);
	assert_false(r.failed);
	json_t *c = json_object_get(r.msg, "content");
	assert_int_equal(json_array_size(c), 4);
	assert_string_equal(pt_str(c, "[0].type"), "thinking");
	assert_string_equal(pt_str(c, "[0].thinking"), "Thinking.");
	assert_string_equal(pt_str(c, "[0].thinkingSignature"), "reasoning_content");
	assert_string_equal(pt_str(c, "[1].text"), "On it.");
	assert_string_equal(pt_str(c, "[2].id"), "call_a");
	assert_string_equal(pt_str(c, "[2].name"), "read");
	assert_string_equal(pt_str(c, "[2].arguments.path"), "a");
	assert_string_equal(pt_str(c, "[3].id"), "call_b");
	assert_string_equal(pt_str(c, "[3].arguments.command"), "ls");
	assert_string_equal(pt_str(r.msg, "stopReason"), "toolUse");
	assert_string_equal(r.thinking.p, "Thinking.");
	assert_int_equal(json_array_size(r.tools), 2);
	rec_release(&r);
}

static void test_stream_errors(void **state)
{
	struct rec r;
	/* Cut after some text: no finish_reason, no [DONE]. */
	pt_run(&srq, &prov_openai_chat,
	       CHUNK("{\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"Hal\"}}]}") "data: "
										       "{\"id",
	       HTTP_OK, &r);
	assert_true(r.failed);
	assert_int_equal(r.err.kind, PROV_ERR_NETWORK);
	assert_string_equal(pt_str(r.msg, "stopReason"), "error");
	assert_string_equal(pt_str(r.msg, "content[0].text"), "Hal");
	assert_string_equal(pt_str(r.msg, "errorMessage"),
			    "prov stream ended before the response was complete");
	rec_release(&r);

	/* [DONE] without a finish_reason is a plain stop, as pi takes it. */
	pt_run(&srq, &prov_openai_chat,
	       CHUNK("{\"choices\":[{\"delta\":{\"content\":\"x\"}}]}") CHUNK("[DONE]"), HTTP_OK,
	       &r);
	assert_false(r.failed);
	assert_string_equal(pt_str(r.msg, "stopReason"), "stop");
	rec_release(&r);

	pt_run(&srq, &prov_openai_chat,
	       CHUNK("{\"choices\":[{\"delta\":{},\"finish_reason\":\"content_filter\"}]}"),
	       HTTP_E_CALLBACK, &r);
	assert_int_equal(r.err.kind, PROV_ERR_REFUSAL);
	assert_string_equal(pt_str(r.msg, "errorMessage"),
			    "Provider finish_reason: content_filter");
	rec_release(&r);

	pt_run(&srq, &prov_openai_chat,
	       CHUNK("{\"choices\":[{\"delta\":{},\"finish_reason\":\"length\"}]}") CHUNK("[DONE]"),
	       HTTP_OK, &r);
	assert_string_equal(pt_str(r.msg, "stopReason"), "length");
	rec_release(&r);

	pt_run(&srq, &prov_openai_chat, CHUNK("{\"choices\":[{\"delta\":{\"content\":tru}}]}"),
	       HTTP_E_CALLBACK, &r);
	assert_int_equal(r.err.kind, PROV_ERR_PROTOCOL);
	rec_release(&r);

	/* An error object mid-stream (OpenRouter and friends). */
	pt_run(&srq, &prov_openai_chat,
	       CHUNK("{\"error\":{\"message\":\"Rate limit exceeded\",\"code\":429}}"),
	       HTTP_E_CALLBACK, &r);
	assert_int_equal(r.err.kind, PROV_ERR_RATE_LIMIT);
	assert_string_equal(r.err.message, "prov: Rate limit exceeded");
	rec_release(&r);

	/* Non-2xx: the driver's generic parse. */
	rec_init(&r);
	pt_feed(&srq, &prov_openai_chat, 400,
		"{\"error\":{\"message\":\"This model's maximum context length is 128000 tokens.\","
		"\"type\":\"invalid_request_error\",\"code\":\"context_length_exceeded\"}}",
		0, HTTP_OK, &r);
	assert_int_equal(r.err.kind, PROV_ERR_CONTEXT_OVERFLOW);
	assert_string_equal(r.err.message,
			    "prov returned 400: This model's maximum context length is 128000 "
			    "tokens.");
	rec_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_conversation),
		cmocka_unit_test(test_build_reasoning_and_minimal),
		cmocka_unit_test_setup(test_stream_text, setup),
		cmocka_unit_test_setup(test_stream_thinking_and_tools, setup),
		cmocka_unit_test_setup(test_stream_errors, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
