/*
 * test_prov_anthropic.c - the Anthropic Messages ops (src/providers/anthropic.c):
 * the request build() makes, field by field, and canned SSE streams fed
 * through the driver's test seam whole and byte by byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jsonx.h"
#include "core/mem.h"
#include "net/http_client.h"
#include "providers/provider.h"

/* ==== helpers ==== */

static struct prov_model model_sonnet(void)
{
	struct prov_model m = {
		.provider = "anthropic",
		.id = "claude-sonnet-4-5",
		.name = "claude-sonnet-4-5",
		.api = "anthropic-messages",
		.max_tokens = 64000,
		.reasoning = true,
		.input_image = true,
	};
	return m;
}

#define WT_OPS   prov_anthropic
#define WT_MODEL model_sonnet
#define WT_KEY   "sk-ant-test"
#include "prov_wiretest.h"

#define SSE(ev, data) "event: " ev "\ndata: " data "\n\n"

/* ==== build ==== */

static void test_build_basic(void **state)
{
	struct prov_model m = model_sonnet();
	json_t *msgs = parse("[{\"role\":\"user\",\"content\":\"hello\",\"timestamp\":1}]");
	struct prov_request rq = request(&m, msgs);
	struct built b;

	rq.system = "You are helpful.";
	b = build(&rq);
	assert_string_equal(b.url, "https://api.anthropic.com/v1/messages");
	assert_json(b.headers,
		    "{\"x-api-key\":\"sk-ant-test\",\"anthropic-version\":\"2023-06-01\","
		    "\"accept\":\"application/json\","
		    "\"anthropic-beta\":\"interleaved-thinking-2025-05-14\","
		    "\"content-type\":\"application/json\"}");
	assert_json(b.body, "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":64000,\"stream\":true,"
			    "\"system\":[{\"type\":\"text\",\"text\":\"You are helpful.\"}],"
			    "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],"
			    "\"thinking\":{\"type\":\"disabled\"}}");
	built_free(&b);
	json_decref(msgs);
}

static void test_build_base_url(void **state)
{
	struct prov_model m = model_sonnet();
	json_t *msgs = parse("[]");
	struct prov_request rq = request(&m, msgs);
	struct built b;

	m.base_url = "https://proxy.example/anthropic/v1/";
	b = build(&rq);
	assert_string_equal(b.url, "https://proxy.example/anthropic/v1/messages");
	built_free(&b);

	m.base_url = "http://127.0.0.1:9/";
	m.reasoning = false;
	m.headers = parse("{\"X-Custom\":\"1\",\"anthropic-version\":\"2099-01-01\"}");
	rq.api_key = NULL;
	b = build(&rq);
	assert_string_equal(b.url, "http://127.0.0.1:9/v1/messages");
	assert_string_equal(json_string_value(json_object_get(b.headers, "x-custom")), "1");
	assert_string_equal(json_string_value(json_object_get(b.headers, "anthropic-version")),
			    "2099-01-01");
	assert_null(json_object_get(b.headers, "x-api-key"));
	/* not a reasoning model: no thinking field at all */
	assert_null(json_object_get(b.body, "thinking"));
	built_free(&b);
	json_decref(m.headers);
	json_decref(msgs);
}

/* A multi-turn conversation with an image, signed thinking, two tool calls and their results. */
static const char *conversation =
	"[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"what is this?\"},"
	"  {\"type\":\"image\",\"data\":\"iVBORw0KGgo=\",\"mimeType\":\"image/png\"},"
	"  {\"type\":\"text\",\"text\":\"  \"}]},"
	" {\"role\":\"assistant\",\"api\":\"anthropic-messages\",\"provider\":\"anthropic\","
	"  \"model\":\"claude-sonnet-4-5\",\"stopReason\":\"toolUse\",\"content\":["
	"  {\"type\":\"thinking\",\"thinking\":\"look closer\",\"thinkingSignature\":\"sig==\"},"
	"  {\"type\":\"text\",\"text\":\"Checking.\"},"
	"  "
	"{\"type\":\"toolCall\",\"id\":\"toolu_1\",\"name\":\"read\",\"arguments\":{\"path\":\"a\"}"
	"},"
	"  {\"type\":\"toolCall\",\"id\":\"call:2\",\"name\":\"exec\",\"arguments\":{}}]},"
	" {\"role\":\"toolResult\",\"toolCallId\":\"toolu_1\",\"toolName\":\"read\","
	"  "
	"\"content\":[{\"type\":\"text\",\"text\":\"line1\"},{\"type\":\"text\",\"text\":\"line2\"}"
	"],"
	"  \"isError\":false},"
	" {\"role\":\"toolResult\",\"toolCallId\":\"call:2\",\"toolName\":\"exec\","
	"  \"content\":[{\"type\":\"text\",\"text\":\"denied\"}],\"isError\":true},"
	" {\"role\":\"user\",\"content\":\"thanks\"}]";

static void test_build_multi_turn(void **state)
{
	struct prov_model m = model_sonnet();
	json_t *msgs = parse(conversation);
	struct prov_request rq = request(&m, msgs);
	struct built b;

	rq.thinking = "low";
	b = build(&rq);
	assert_json(
		json_object_get(b.body, "messages"),
		"[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"what is this?\"},"
		"  "
		"{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\","
		"   \"data\":\"iVBORw0KGgo=\"}}]},"
		" {\"role\":\"assistant\",\"content\":["
		"  {\"type\":\"thinking\",\"thinking\":\"look closer\",\"signature\":\"sig==\"},"
		"  {\"type\":\"text\",\"text\":\"Checking.\"},"
		"  "
		"{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"read\",\"input\":{\"path\":"
		"\"a\"}},"
		"  {\"type\":\"tool_use\",\"id\":\"call_2\",\"name\":\"exec\",\"input\":{}}]},"
		" {\"role\":\"user\",\"content\":["
		"  "
		"{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":"
		"\"line1\\nline2\","
		"   \"is_error\":false},"
		"  {\"type\":\"tool_result\",\"tool_use_id\":\"call_2\",\"content\":\"denied\","
		"   \"is_error\":true}]},"
		" {\"role\":\"user\",\"content\":\"thanks\"}]");
	/* low: 2048 on top of the request's max, capped at the model's */
	assert_json(json_object_get(b.body, "thinking"),
		    "{\"type\":\"enabled\",\"budget_tokens\":2048,\"display\":\"summarized\"}");
	assert_int_equal(json_integer_value(json_object_get(b.body, "max_tokens")), 64000);
	built_free(&b);
	json_decref(msgs);
}

static void test_build_thinking_off_replay(void **state)
{
	struct prov_model m = model_sonnet();
	json_t *msgs = parse(
		"[{\"role\":\"user\",\"content\":\"q1\"},"
		" {\"role\":\"assistant\",\"api\":\"anthropic-messages\",\"provider\":"
		"\"anthropic\","
		"  \"model\":\"claude-sonnet-4-5\",\"stopReason\":\"stop\",\"content\":["
		"  {\"type\":\"thinking\",\"thinking\":\"hmm\",\"thinkingSignature\":\"s1\"}]},"
		" {\"role\":\"user\",\"content\":\"q2\"},"
		" {\"role\":\"assistant\",\"api\":\"anthropic-messages\",\"provider\":"
		"\"anthropic\","
		"  \"model\":\"claude-sonnet-4-5\",\"stopReason\":\"toolUse\",\"content\":["
		"  {\"type\":\"thinking\",\"thinking\":\"plan\",\"thinkingSignature\":\"s2\"},"
		"  {\"type\":\"toolCall\",\"id\":\"t1\",\"name\":\"ls\",\"arguments\":{}}]},"
		" {\"role\":\"toolResult\",\"toolCallId\":\"t1\",\"toolName\":\"ls\","
		"  \"content\":[{\"type\":\"text\",\"text\":\"\"}],\"isError\":true}]");
	struct prov_request rq = request(&m, msgs);
	struct built b;

	rq.thinking = "off";
	b = build(&rq);
	/*
	 * Thinking off: old thinking is left out (a marker keeps the turn), but
	 * the tool turn being continued keeps its signed thinking.
	 */
	assert_json(
		json_object_get(b.body, "messages"),
		"[{\"role\":\"user\",\"content\":\"q1\"},"
		" {\"role\":\"assistant\",\"content\":[{\"type\":\"text\","
		"   \"text\":\"[assistant reasoning omitted]\"}]},"
		" {\"role\":\"user\",\"content\":\"q2\"},"
		" {\"role\":\"assistant\",\"content\":["
		"  {\"type\":\"thinking\",\"thinking\":\"plan\",\"signature\":\"s2\"},"
		"  {\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"ls\",\"input\":{}}]},"
		" {\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\","
		"   \"content\":\"[tool error with no output]\",\"is_error\":true}]}]");
	assert_json(json_object_get(b.body, "thinking"), "{\"type\":\"disabled\"}");
	built_free(&b);
	json_decref(msgs);
}

static void test_build_foreign_and_redacted(void **state)
{
	struct prov_model m = model_sonnet();
	json_t *msgs = parse(
		"[{\"role\":\"user\",\"content\":\"q\"},"
		" {\"role\":\"assistant\",\"api\":\"openai-responses\",\"provider\":\"openai\","
		"  \"model\":\"gpt-5\",\"stopReason\":\"stop\",\"content\":["
		"  {\"type\":\"thinking\",\"thinking\":\"other "
		"model\",\"thinkingSignature\":\"rs_1\"},"
		"  {\"type\":\"text\",\"text\":\"a\"}]},"
		" {\"role\":\"user\",\"content\":\"q2\"},"
		" {\"role\":\"assistant\",\"api\":\"anthropic-messages\",\"provider\":"
		"\"anthropic\","
		"  \"model\":\"claude-sonnet-4-5\",\"stopReason\":\"stop\",\"content\":["
		"  {\"type\":\"thinking\",\"thinking\":\"[Reasoning redacted]\",\"redacted\":true,"
		"   \"thinkingSignature\":\"opaque\"},{\"type\":\"text\",\"text\":\"b\"}]},"
		" {\"role\":\"user\",\"content\":\"q3\"}]");
	struct prov_request rq = request(&m, msgs);
	struct built b;

	rq.thinking = "high";
	b = build(&rq);
	assert_json(json_object_get(b.body, "messages"),
		    "[{\"role\":\"user\",\"content\":\"q\"},"
		    " {\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"other "
		    "model\"},"
		    "  {\"type\":\"text\",\"text\":\"a\"}]},"
		    " {\"role\":\"user\",\"content\":\"q2\"},"
		    " {\"role\":\"assistant\",\"content\":[{\"type\":\"redacted_thinking\","
		    "   \"data\":\"opaque\"},{\"type\":\"text\",\"text\":\"b\"}]},"
		    " {\"role\":\"user\",\"content\":\"q3\"}]");
	built_free(&b);
	json_decref(msgs);
}

static void test_build_budgets(void **state)
{
	struct prov_model m = model_sonnet();
	json_t *msgs = parse("[{\"role\":\"user\",\"content\":\"x\"}]");
	struct prov_request rq = request(&m, msgs);
	struct built b;

	/* the request's cap plus the budget, within the model's */
	rq.thinking = "medium";
	rq.max_tokens = 1000;
	b = build(&rq);
	assert_int_equal(json_integer_value(json_object_get(b.body, "max_tokens")), 9192);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b.body, "thinking"),
							    "budget_tokens")),
			 8192);
	built_free(&b);

	/* a small model leaves 1024 tokens for the answer */
	m.max_tokens = 4096;
	rq.max_tokens = 0;
	rq.thinking = "xhigh";
	b = build(&rq);
	assert_int_equal(json_integer_value(json_object_get(b.body, "max_tokens")), 4096);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b.body, "thinking"),
							    "budget_tokens")),
			 3072);
	built_free(&b);

	/* too small for the 1024 minimum: thinking is turned off */
	m.max_tokens = 1500;
	b = build(&rq);
	assert_json(json_object_get(b.body, "thinking"), "{\"type\":\"disabled\"}");
	assert_int_equal(json_integer_value(json_object_get(b.body, "max_tokens")), 1500);
	built_free(&b);

	/* adaptive models: effort, no budget, no interleaved-thinking beta */
	m.id = "claude-opus-4-6";
	m.max_tokens = 32000;
	rq.thinking = "minimal";
	b = build(&rq);
	assert_json(json_object_get(b.body, "thinking"),
		    "{\"type\":\"adaptive\",\"display\":\"summarized\"}");
	assert_json(json_object_get(b.body, "output_config"), "{\"effort\":\"low\"}");
	assert_null(json_object_get(b.headers, "anthropic-beta"));
	built_free(&b);

	m.id = "claude-opus-4-7";
	rq.thinking = "xhigh";
	b = build(&rq);
	assert_json(json_object_get(b.body, "output_config"), "{\"effort\":\"xhigh\"}");
	built_free(&b);
	json_decref(msgs);
}

static void test_build_tools(void **state)
{
	struct prov_model m = model_sonnet();
	json_t *msgs = parse("[{\"role\":\"user\",\"content\":\"x\"}]");
	json_t *tools =
		parse("[{\"name\":\"write\",\"description\":\"Write a file\",\"parameters\":"
		      "  "
		      "{\"$schema\":\"x\",\"type\":\"object\",\"properties\":{\"pair\":{\"type\":"
		      "\"array\","
		      "   \"items\":[{\"type\":\"string\"},{\"type\":\"number\"}]}}}},"
		      " {\"name\":\"read\",\"description\":\"Read a file\",\"parameters\":"
		      "  {\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"}},"
		      "   \"required\":[\"path\"]}},"
		      " {\"name\":\"now\",\"parameters\":{}}]");
	struct prov_request rq = request(&m, msgs);
	struct built b;

	rq.tools = tools;
	b = build(&rq);
	assert_json(json_object_get(b.body, "tools"),
		    "[{\"name\":\"now\",\"input_schema\":{\"type\":\"object\",\"properties\":{},"
		    "   \"required\":[]},\"eager_input_streaming\":true},"
		    " {\"name\":\"read\",\"description\":\"Read a file\",\"input_schema\":"
		    "  {\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"}},"
		    "   \"required\":[\"path\"]},\"eager_input_streaming\":true},"
		    " {\"name\":\"write\",\"description\":\"Write a file\",\"input_schema\":"
		    "  {\"type\":\"object\",\"properties\":{\"pair\":{\"type\":\"array\","
		    "   \"prefixItems\":[{\"type\":\"string\"},{\"type\":\"number\"}]}},"
		    "   \"required\":[]},\"eager_input_streaming\":true}]");
	/* the caller's schema is not modified */
	assert_non_null(json_object_get(json_object_get(json_array_get(tools, 0), "parameters"),
					"$schema"));
	built_free(&b);
	json_decref(tools);
	json_decref(msgs);
}

static void test_build_cache(void **state)
{
	struct prov_model m = model_sonnet();
	json_t *msgs =
		parse("[{\"role\":\"user\",\"content\":\"first\"},"
		      " {\"role\":\"assistant\",\"api\":\"anthropic-messages\",\"provider\":"
		      "\"anthropic\","
		      "  \"model\":\"claude-sonnet-4-5\",\"stopReason\":\"stop\","
		      "  \"content\":[{\"type\":\"text\",\"text\":\"ok\"}]},"
		      " {\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"second\"},"
		      "  {\"type\":\"image\",\"data\":\"R0lG\",\"mimeType\":\"image/gif\"}]}]");
	json_t *tools =
		parse("[{\"name\":\"b\",\"parameters\":{}},{\"name\":\"a\",\"parameters\":{}}]");
	struct prov_request rq = request(&m, msgs);
	struct built b;

	rq.cache = true;
	rq.tools = tools;
	rq.system = "Stable part.  \n<!-- OPENCLAW_CACHE_BOUNDARY -->\n  Today is Monday.";
	b = build(&rq);
	assert_json(json_object_get(b.body, "system"),
		    "[{\"type\":\"text\",\"text\":\"Stable part.\","
		    "  \"cache_control\":{\"type\":\"ephemeral\"}},"
		    " {\"type\":\"text\",\"text\":\"Today is Monday.\"}]");
	/* the last tool in sorted order */
	assert_json(json_object_get(json_array_get(json_object_get(b.body, "tools"), 1),
				    "cache_control"),
		    "{\"type\":\"ephemeral\"}");
	assert_null(json_object_get(json_array_get(json_object_get(b.body, "tools"), 0),
				    "cache_control"));
	/* the newest user turn's last block, and nothing else */
	assert_json(
		json_object_get(b.body, "messages"),
		"[{\"role\":\"user\",\"content\":\"first\"},"
		" {\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"ok\"}]},"
		" {\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"second\"},"
		"  "
		"{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/gif\","
		"   \"data\":\"R0lG\"},\"cache_control\":{\"type\":\"ephemeral\"}}]}]");
	built_free(&b);

	/* without caching the boundary marker is just a line break */
	rq.cache = false;
	b = build(&rq);
	assert_json(json_object_get(b.body, "system"),
		    "[{\"type\":\"text\",\"text\":\"Stable part.  \\n  Today is Monday.\"}]");
	assert_null(json_object_get(json_array_get(json_object_get(b.body, "tools"), 1),
				    "cache_control"));
	built_free(&b);
	json_decref(tools);
	json_decref(msgs);
}

/* Trailing tool results: the user turn before them and the newest result are both marked. */
static void test_build_cache_tool_results(void **state)
{
	struct prov_model m = model_sonnet();
	json_t *msgs =
		parse("[{\"role\":\"user\",\"content\":\"run it\"},"
		      " {\"role\":\"assistant\",\"api\":\"anthropic-messages\",\"provider\":"
		      "\"anthropic\","
		      "  \"model\":\"claude-sonnet-4-5\",\"stopReason\":\"toolUse\","
		      "  "
		      "\"content\":[{\"type\":\"toolCall\",\"id\":\"t1\",\"name\":\"x\","
		      "\"arguments\":{}}]},"
		      " {\"role\":\"toolResult\",\"toolCallId\":\"t1\",\"toolName\":\"x\","
		      "  \"content\":[{\"type\":\"text\",\"text\":\"done\"}],\"isError\":false}]");
	struct prov_request rq = request(&m, msgs);
	struct built b;
	json_t *out;

	rq.cache = true;
	rq.system = "S";
	b = build(&rq);
	out = json_object_get(b.body, "messages");
	assert_json(json_array_get(out, 0),
		    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"run it\","
		    " \"cache_control\":{\"type\":\"ephemeral\"}}]}");
	assert_json(
		json_array_get(out, 2),
		"{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\","
		" \"content\":\"done\",\"is_error\":false,"
		" \"cache_control\":{\"type\":\"ephemeral\"}}]}");
	built_free(&b);
	json_decref(msgs);
}

/* A tool call the transcript never answered gets a synthetic error result. */
static void test_build_unanswered_tool_call(void **state)
{
	struct prov_model m = model_sonnet();
	json_t *msgs = parse("[{\"role\":\"user\",\"content\":\"go\"},"
			     " {\"role\":\"assistant\",\"api\":\"anthropic-messages\",\"provider\":"
			     "\"anthropic\","
			     "  \"model\":\"claude-sonnet-4-5\",\"stopReason\":\"toolUse\","
			     "  "
			     "\"content\":[{\"type\":\"toolCall\",\"id\":\"t9\",\"name\":\"x\","
			     "\"arguments\":{}}]},"
			     " {\"role\":\"user\",\"content\":\"never mind\"}]");
	struct prov_request rq = request(&m, msgs);
	struct built b = build(&rq);

	assert_json(
		json_array_get(json_object_get(b.body, "messages"), 2),
		"{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t9\","
		" \"content\":\"No result provided\",\"is_error\":true}]}");
	built_free(&b);
	json_decref(msgs);
}

/* ==== stream ==== */

static const char *stream_text = SSE(
	"message_start",
	"{\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\","
	"\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],"
	"\"usage\":{\"input_tokens\":25,\"cache_read_input_tokens\":100,"
	"\"cache_creation_input_tokens\":7,\"output_tokens\":1}}}")
	SSE("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
				   "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
		SSE("ping", "{\"type\": \"ping\"}") SSE(
			"content_block_delta",
			"{\"type\":\"content_block_delta\",\"index\":0,"
			"\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}")
			SSE("content_block_delta",
			    "{\"type\":\"content_block_delta\",\"index\":0,"
			    "\"delta\":{\"type\":\"text_delta\",\"text\":\", w\\u00f6rld\"}}")
				SSE("content_block_stop", "{\"type\":\"content_block_stop\","
							  "\"index\":0}")
					SSE("message_delta", "{\"type\":\"message_delta\","
							     "\"delta\":{\"stop_reason\":"
							     "\"end_turn\","
							     "\"stop_sequence\":null},\"usage\":{"
							     "\"output_tokens\":15}}")
						SSE("message_stop", "{\"type\":\"message_stop\"}");

static void check_text_stream(size_t step)
{
	struct seen s;

	run(&s, 200, stream_text, step);
	assert_false(s.has_err);
	assert_string_equal(s.text.p, "Hello, w\xc3\xb6rld");
	assert_json(json_object_get(s.message, "content"),
		    "[{\"type\":\"text\",\"text\":\"Hello, w\\u00f6rld\"}]");
	assert_string_equal(json_string_value(json_object_get(s.message, "stopReason")), "stop");
	assert_string_equal(json_string_value(json_object_get(s.message, "responseId")), "msg_01");
	assert_json(json_object_get(s.message, "usage"),
		    "{\"input\":25,\"output\":15,\"cacheRead\":100,\"cacheWrite\":7,"
		    "\"totalTokens\":147,\"cost\":{\"input\":0,\"output\":0,\"cacheRead\":0,"
		    "\"cacheWrite\":0,\"total\":0}}");
	seen_release(&s);
}

static void test_stream_text(void **state)
{
	check_text_stream(0);
	check_text_stream(1);
	check_text_stream(7);
}

static const char *stream_thinking = SSE(
	"message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_02\","
			 "\"usage\":{\"input_tokens\":3,\"output_tokens\":0}}}")
	SSE("content_block_start",
	    "{\"type\":\"content_block_start\",\"index\":0,"
	    "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}"
	    "}") SSE("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
					    "\"delta\":{\"type\":\"thinking_delta\","
					    "\"thinking\":\"Let me \"}}")
		SSE("content_block_delta",
		    "{\"type\":\"content_block_delta\",\"index\":0,"
		    "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"think.\"}}")
			SSE("content_block_delta",
			    "{\"type\":\"content_block_delta\",\"index\":0,"
			    "\"delta\":{\"type\":\"signature_delta\",\"signature\":\"EqQB\"}}")
				SSE("content_block_delta",
				    "{\"type\":\"content_block_delta\",\"index\":0,"
				    "\"delta\":{\"type\":\"signature_delta\",\"signature\":\"Zz=="
				    "\"}}") SSE("content_block_stop",
						"{\"type\":\"content_block_stop\",\"index\":0}")
					SSE("content_block_start",
					    "{\"type\":\"content_block_start\",\"index\":1,"
					    "\"content_block\":{\"type\":\"redacted_thinking\","
					    "\"data\":\"opaque\"}}") SSE("content_block_stop",
									 "{\"type\":\"content_"
									 "block_stop\",\"index\":"
									 "1}")
						SSE("content_block_start",
						    "{\"type\":\"content_block_start\",\"index\":2,"
						    "\"content_block\":{\"type\":\"text\",\"text\":"
						    "\"42\"}}") SSE("content_block_stop",
								    "{\"type\":\"content_block_"
								    "stop\",\"index\":2}")
							SSE("message_delta",
							    "{\"type\":\"message_delta\",\"delta\":"
							    "{\"stop_reason\":\"max_tokens\"},"
							    "\"usage\":{\"output_tokens\":9}}")
								SSE("message_stop",
								    "{\"type\":\"message_stop\"}");

static void test_stream_thinking(void **state)
{
	for (size_t step = 0; step < 2; step++) {
		struct seen s;

		run(&s, 200, stream_thinking, step);
		assert_false(s.has_err);
		assert_string_equal(s.thinking.p, "Let me think.[Reasoning redacted]");
		assert_string_equal(s.text.p, "42");
		assert_json(json_object_get(s.message, "content"),
			    "[{\"type\":\"thinking\",\"thinking\":\"Let me think.\","
			    "  \"thinkingSignature\":\"EqQBZz==\"},"
			    " {\"type\":\"thinking\",\"thinking\":\"[Reasoning redacted]\","
			    "  \"thinkingSignature\":\"opaque\",\"redacted\":true},"
			    " {\"type\":\"text\",\"text\":\"42\"}]");
		assert_string_equal(json_string_value(json_object_get(s.message, "stopReason")),
				    "length");
		seen_release(&s);
	}
}

static const char *stream_tool = SSE(
	"message_start",
	"{\"type\":\"message_start\",\"message\":{\"id\":\"msg_03\","
	"\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}") SSE("content_block_start",
								     "{\"type\":\"content_block_"
								     "start\",\"index\":0,"
								     "\"content_block\":{\"type\":"
								     "\"text\",\"text\":\"\"}}")
	SSE("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
				   "\"delta\":{\"type\":\"text_delta\",\"text\":\"Reading.\"}}")
		SSE("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}") SSE(
			"content_block_start",
			"{\"type\":\"content_block_start\",\"index\":1,"
			"\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01\","
			"\"name\":\"read\",\"input\":{}}}") SSE("content_block_delta",
								"{\"type\":\"content_block_delta\","
								"\"index\":1,"
								"\"delta\":{\"type\":\"input_json_"
								"delta\",\"partial_json\":\"\"}}")
			SSE("content_block_delta",
			    "{\"type\":\"content_block_delta\",\"index\":1,"
			    "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"pa\"}"
			    "}") SSE("content_block_delta",
				     "{\"type\":\"content_block_delta\",\"index\":1,"
				     "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":"
				     "\"th\\\": \\\"/etc/\"}}")
				SSE("content_block_delta",
				    "{\"type\":\"content_block_delta\",\"index\":1,"
				    "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":"
				    "\"hosts\\\"}\"}}") SSE("content_block_stop",
							    "{\"type\":\"content_block_stop\","
							    "\"index\":1}")
					SSE("content_block_start",
					    "{\"type\":\"content_block_start\",\"index\":2,"
					    "\"content_block\":{\"type\":\"tool_use\",\"id\":"
					    "\"toolu_02\","
					    "\"name\":\"now\",\"input\":{}}}")
						SSE("content_block_stop",
						    "{\"type\":\"content_block_stop\",\"index\":2}")
							SSE("message_delta",
							    "{\"type\":\"message_delta\",\"delta\":"
							    "{\"stop_reason\":\"tool_use\"},"
							    "\"usage\":{\"output_tokens\":40}}")
								SSE("message_stop",
								    "{\"type\":\"message_stop\"}");

static void test_stream_tool_use(void **state)
{
	for (size_t step = 0; step < 4; step += 3) {
		struct seen s;

		run(&s, 200, stream_tool, step);
		assert_false(s.has_err);
		assert_json(json_object_get(s.message, "content"),
			    "[{\"type\":\"text\",\"text\":\"Reading.\"},"
			    " {\"type\":\"toolCall\",\"id\":\"toolu_01\",\"name\":\"read\","
			    "  \"arguments\":{\"path\":\"/etc/hosts\"}},"
			    " {\"type\":\"toolCall\",\"id\":\"toolu_02\",\"name\":\"now\","
			    "  \"arguments\":{}}]");
		assert_int_equal(json_array_size(s.tools), 2);
		assert_string_equal(json_string_value(json_object_get(s.message, "stopReason")),
				    "toolUse");
		seen_release(&s);
	}
}

static void test_stream_bad_tool_json(void **state)
{
	struct seen s;

	run(&s, 200,
	    SSE("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"m\"}}") SSE(
		    "content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
					   "\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\","
					   "\"name\":\"x\",\"input\":{}}}")
		    SSE("content_block_delta",
			"{\"type\":\"content_block_delta\",\"index\":0,"
			"\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\"}}")
			    SSE("content_block_stop",
				"{\"type\":\"content_block_stop\",\"index\":0}"),
	    0);
	assert_true(s.has_err);
	assert_int_equal(s.err.kind, PROV_ERR_PROTOCOL);
	seen_release(&s);
}

/* The connection closed before message_stop: an error that keeps what arrived. */
static void test_stream_cut(void **state)
{
	const char *full = stream_text;
	const char *cut = strstr(full, "event: message_delta");
	char *partial = xstrndup(full, (size_t)(cut - full));
	struct seen s;

	run(&s, 200, partial, 1);
	assert_true(s.has_err);
	assert_int_equal(s.err.kind, PROV_ERR_NETWORK);
	assert_string_equal(json_string_value(json_object_get(s.message, "stopReason")), "error");
	assert_json(json_object_get(s.message, "content"),
		    "[{\"type\":\"text\",\"text\":\"Hello, w\\u00f6rld\"}]");
	assert_non_null(strstr(json_string_value(json_object_get(s.message, "errorMessage")),
			       "message_stop"));
	seen_release(&s);

	/* cut inside a tool call */
	cut = strstr(stream_tool,
		     "event: content_block_stop\ndata: {\"type\":\"content_block_stop\","
		     "\"index\":1}");
	partial = (free(partial), xstrndup(stream_tool, (size_t)(cut - stream_tool)));
	run(&s, 200, partial, 0);
	assert_true(s.has_err);
	assert_int_equal(s.err.kind, PROV_ERR_NETWORK);
	seen_release(&s);

	/* cut in the middle of an event line */
	partial = (free(partial), xstrndup(stream_text, 40));
	run(&s, 200, partial, 0);
	assert_true(s.has_err);
	seen_release(&s);
	free(partial);
}

static void test_stream_refusal(void **state)
{
	struct seen s;

	run(&s, 200,
	    SSE("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"m\"}}")
		    SSE("message_delta",
			"{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"refusal\","
			"\"stop_details\":{\"category\":\"cyber\",\"explanation\":\"no\"}}}")
			    SSE("message_stop", "{\"type\":\"message_stop\"}"),
	    0);
	assert_true(s.has_err);
	assert_int_equal(s.err.kind, PROV_ERR_REFUSAL);
	assert_non_null(strstr(s.err.message, "Anthropic refusal (category: cyber): no"));
	seen_release(&s);
}

static void test_stream_error_events(void **state)
{
	static const struct {
		const char *type, *message;
		enum prov_err_kind kind;
	} cases[] = {
		{ "overloaded_error", "Overloaded", PROV_ERR_OVERLOADED },
		{ "rate_limit_error", "slow down", PROV_ERR_RATE_LIMIT },
		{ "api_error", "Internal server error", PROV_ERR_SERVER },
		{ "authentication_error", "invalid x-api-key", PROV_ERR_AUTH },
		{ "permission_error", "no access", PROV_ERR_AUTH },
		{ "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum",
		  PROV_ERR_CONTEXT_OVERFLOW },
		{ "invalid_request_error", "Your credit balance is too low", PROV_ERR_BILLING },
		{ "invalid_request_error", "messages: field required", PROV_ERR_FORMAT },
		{ "request_too_large", "Request exceeds the maximum size",
		  PROV_ERR_CONTEXT_OVERFLOW },
		{ "not_found_error", "model: nope", PROV_ERR_FORMAT },
		{ "timeout_error", "timed out", PROV_ERR_TIMEOUT },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *body = xasprintf(SSE("message_start",
					   "{\"type\":\"message_start\",\"message\":{\"id\":\"m\"}"
					   "}") "event: error\ndata: "
						"{\"type\":\"error\",\"error\":{\"type\":\"%s\","
						"\"message\":\"%s\"}}\n\n",
				       cases[i].type, cases[i].message);
		struct seen s;

		run(&s, 200, body, 0);
		assert_true(s.has_err);
		if (s.err.kind != cases[i].kind)
			fail_msg("%s: kind %s", cases[i].type, prov_err_kind_name(s.err.kind));
		assert_non_null(strstr(s.err.message, cases[i].message));
		seen_release(&s);
		free(body);
	}
}

static void test_http_errors(void **state)
{
	static const struct {
		long status;
		const char *type, *message;
		enum prov_err_kind kind;
	} cases[] = {
		{ 401, "authentication_error", "invalid x-api-key", PROV_ERR_AUTH },
		{ 403, "permission_error", "forbidden", PROV_ERR_AUTH },
		{ 429, "rate_limit_error", "Number of request tokens has exceeded your rate limit",
		  PROV_ERR_RATE_LIMIT },
		{ 529, "overloaded_error", "Overloaded", PROV_ERR_OVERLOADED },
		{ 500, "api_error", "Internal server error", PROV_ERR_SERVER },
		{ 400, "invalid_request_error",
		  "prompt is too long: 300000 tokens > 200000 maximum", PROV_ERR_CONTEXT_OVERFLOW },
		{ 400, "invalid_request_error",
		  "Your credit balance is too low to access the Anthropic API.", PROV_ERR_BILLING },
		{ 400, "invalid_request_error", "max_tokens: must be positive", PROV_ERR_FORMAT },
		{ 413, "request_too_large", "Request exceeds the maximum allowed number of bytes.",
		  PROV_ERR_CONTEXT_OVERFLOW },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *body = xasprintf("{\"type\":\"error\",\"error\":{\"type\":\"%s\","
				       "\"message\":\"%s\"},\"request_id\":\"req_1\"}",
				       cases[i].type, cases[i].message);
		struct seen s;

		run(&s, cases[i].status, body, 0);
		assert_true(s.has_err);
		if (s.err.kind != cases[i].kind)
			fail_msg("%ld %s: kind %s", cases[i].status, cases[i].type,
				 prov_err_kind_name(s.err.kind));
		assert_int_equal(s.err.status, cases[i].status);
		assert_non_null(strstr(s.err.message, cases[i].message));
		seen_release(&s);
		free(body);
	}

	/* a body that is not JSON still gets a kind from the status */
	struct seen s;

	run(&s, 529, "upstream overloaded", 0);
	assert_int_equal(s.err.kind, PROV_ERR_OVERLOADED);
	seen_release(&s);
}

static void test_stream_malformed(void **state)
{
	struct seen s;

	run(&s, 200, "event: message_start\ndata: {not json\n\n", 0);
	assert_true(s.has_err);
	assert_int_equal(s.err.kind, PROV_ERR_PROTOCOL);
	seen_release(&s);

	run(&s, 200,
	    SSE("content_block_start", "{\"type\":\"content_block_start\",\"index\":99999999,"
				       "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"),
	    0);
	assert_true(s.has_err);
	assert_int_equal(s.err.kind, PROV_ERR_PROTOCOL);
	seen_release(&s);

	run(&s, 200,
	    SSE("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"m\"}}")
		    SSE("message_delta",
			"{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"weird\"}}"),
	    0);
	assert_int_equal(s.err.kind, PROV_ERR_PROTOCOL);
	seen_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_basic),
		cmocka_unit_test(test_build_base_url),
		cmocka_unit_test(test_build_multi_turn),
		cmocka_unit_test(test_build_thinking_off_replay),
		cmocka_unit_test(test_build_foreign_and_redacted),
		cmocka_unit_test(test_build_budgets),
		cmocka_unit_test(test_build_tools),
		cmocka_unit_test(test_build_cache),
		cmocka_unit_test(test_build_cache_tool_results),
		cmocka_unit_test(test_build_unanswered_tool_call),
		cmocka_unit_test(test_stream_text),
		cmocka_unit_test(test_stream_thinking),
		cmocka_unit_test(test_stream_tool_use),
		cmocka_unit_test(test_stream_bad_tool_json),
		cmocka_unit_test(test_stream_cut),
		cmocka_unit_test(test_stream_refusal),
		cmocka_unit_test(test_stream_error_events),
		cmocka_unit_test(test_http_errors),
		cmocka_unit_test(test_stream_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
