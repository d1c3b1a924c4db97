/*
 * test_prov_gemini.c - the Gemini streamGenerateContent ops
 * (src/providers/gemini.c): the request build() makes, field by field, and
 * canned SSE chunks fed through the driver's test seam whole and byte by byte.
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

static struct prov_model model_flash(void)
{
	struct prov_model m = {
		.provider = "google",
		.id = "gemini-2.5-flash",
		.name = "gemini-2.5-flash",
		.api = "google-generative-ai",
		.max_tokens = 65536,
		.reasoning = true,
		.input_image = true,
	};
	return m;
}

#define WT_OPS   prov_gemini
#define WT_MODEL model_flash
#define WT_KEY   "AIza-test"
#include "prov_wiretest.h"

#define DATA(json) "data: " json "\r\n\r\n"

/* ==== build ==== */

static void test_build_basic(void **state)
{
	struct prov_model m = model_flash();
	json_t *msgs = parse("[{\"role\":\"user\",\"content\":\"hello\",\"timestamp\":1}]");
	struct prov_request rq = request(&m, msgs);
	struct built b;

	rq.system = "Be brief.\n<!-- OPENCLAW_CACHE_BOUNDARY -->\nToday is Monday.";
	b = build(&rq);
	assert_string_equal(b.url, "https://generativelanguage.googleapis.com/v1beta/models/"
				   "gemini-2.5-flash:streamGenerateContent?alt=sse");
	assert_json(b.headers,
		    "{\"x-goog-api-key\":\"AIza-test\",\"content-type\":\"application/json\"}");
	/* thinking off on a 2.5 Flash: a zero budget, since it thinks by default */
	assert_json(b.body, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hello\"}]}],"
			    "\"systemInstruction\":{\"role\":\"user\",\"parts\":[{\"text\":"
			    "\"Be brief.\\nToday is Monday.\"}]},"
			    "\"generationConfig\":{\"maxOutputTokens\":65536,"
			    "\"thinkingConfig\":{\"thinkingBudget\":0}}}");
	built_free(&b);
	json_decref(msgs);
}

static void test_build_url(void **state)
{
	struct prov_model m = model_flash();
	json_t *msgs = parse("[]");
	struct prov_request rq = request(&m, msgs);
	struct built b;

	m.base_url = "http://127.0.0.1:9/v1beta/";
	m.id = "models/gemini-2.0-flash";
	m.reasoning = false;
	m.max_tokens = 0;
	m.headers = parse("{\"x-goog-api-key\":\"from-config\"}");
	b = build(&rq);
	assert_string_equal(b.url, "http://127.0.0.1:9/v1beta/models/gemini-2.0-flash:"
				   "streamGenerateContent?alt=sse");
	assert_string_equal(json_string_value(json_object_get(b.headers, "x-goog-api-key")),
			    "from-config");
	/* no turns at all still sends one (Gemini rejects empty contents) */
	assert_json(b.body, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\" \"}]}]}");
	built_free(&b);
	json_decref(m.headers);
	json_decref(msgs);
}

static const char *conversation =
	"[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"what is this?\"},"
	"  {\"type\":\"image\",\"data\":\"iVBORw0KGgo=\",\"mimeType\":\"image/png\"}]},"
	" {\"role\":\"assistant\",\"api\":\"google-generative-ai\",\"provider\":\"google\","
	"  \"model\":\"gemini-2.5-flash\",\"stopReason\":\"toolUse\",\"content\":["
	"  {\"type\":\"thinking\",\"thinking\":\"look\",\"thinkingSignature\":\"c2ln\"},"
	"  {\"type\":\"text\",\"text\":\"Checking.\"},"
	"  "
	"{\"type\":\"toolCall\",\"id\":\"read_1\",\"name\":\"read\",\"arguments\":{\"path\":\"a\"}}"
	","
	"  {\"type\":\"toolCall\",\"id\":\"exec_2\",\"name\":\"exec\",\"arguments\":{}}]},"
	" {\"role\":\"toolResult\",\"toolCallId\":\"read_1\",\"toolName\":\"read\","
	"  "
	"\"content\":[{\"type\":\"text\",\"text\":\"line1\"},{\"type\":\"text\",\"text\":\"line2\"}"
	"],"
	"  \"isError\":false},"
	" {\"role\":\"toolResult\",\"toolCallId\":\"exec_2\",\"toolName\":\"exec\","
	"  \"content\":[{\"type\":\"text\",\"text\":\"denied\"}],\"isError\":true},"
	" {\"role\":\"user\",\"content\":\"thanks\"}]";

static void test_build_multi_turn(void **state)
{
	struct prov_model m = model_flash();
	json_t *msgs = parse(conversation);
	struct prov_request rq = request(&m, msgs);
	struct built b;

	rq.thinking = "medium";
	b = build(&rq);
	assert_json(
		json_object_get(b.body, "contents"),
		"[{\"role\":\"user\",\"parts\":[{\"text\":\"what is this?\"},"
		"  {\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"iVBORw0KGgo=\"}}]},"
		" {\"role\":\"model\",\"parts\":["
		"  {\"thought\":true,\"text\":\"look\",\"thoughtSignature\":\"c2ln\"},"
		"  {\"text\":\"Checking.\"},"
		"  "
		"{\"functionCall\":{\"name\":\"read\",\"args\":{\"path\":\"a\"},\"id\":\"read_1\"}}"
		","
		"  {\"functionCall\":{\"name\":\"exec\",\"args\":{},\"id\":\"exec_2\"}}]},"
		" {\"role\":\"user\",\"parts\":["
		"  "
		"{\"functionResponse\":{\"name\":\"read\",\"response\":{\"output\":"
		"\"line1\\nline2\"},"
		"   \"id\":\"read_1\"}},"
		"  {\"functionResponse\":{\"name\":\"exec\",\"response\":{\"error\":\"denied\"},"
		"   \"id\":\"exec_2\"}}]},"
		" {\"role\":\"user\",\"parts\":[{\"text\":\"thanks\"}]}]");
	assert_json(json_object_get(json_object_get(b.body, "generationConfig"), "thinkingConfig"),
		    "{\"includeThoughts\":true,\"thinkingBudget\":8192}");
	built_free(&b);
	json_decref(msgs);
}

/* Another model's turn on Gemini 3: no ids, plain thinking, the signature escape marker. */
static void test_build_foreign_turn_gemini3(void **state)
{
	struct prov_model m = model_flash();
	json_t *msgs = parse(
		"[{\"role\":\"user\",\"content\":\"go\"},"
		" {\"role\":\"assistant\",\"api\":\"anthropic-messages\",\"provider\":"
		"\"anthropic\","
		"  \"model\":\"claude-sonnet-4-5\",\"stopReason\":\"toolUse\",\"content\":["
		"  {\"type\":\"thinking\",\"thinking\":\"hm\",\"thinkingSignature\":\"Eq==\"},"
		"  {\"type\":\"toolCall\",\"id\":\"toolu_1\",\"name\":\"shot\",\"arguments\":{}},"
		"  {\"type\":\"toolCall\",\"id\":\"toolu_2\",\"name\":\"shot\",\"arguments\":{}}]},"
		" {\"role\":\"toolResult\",\"toolCallId\":\"toolu_1\",\"toolName\":\"shot\","
		"  "
		"\"content\":[{\"type\":\"image\",\"data\":\"AAAA\",\"mimeType\":\"image/jpeg\"}],"
		"  \"isError\":false},"
		" {\"role\":\"toolResult\",\"toolCallId\":\"toolu_2\",\"toolName\":\"shot\","
		"  \"content\":[{\"type\":\"text\",\"text\":\"ok\"}],\"isError\":false}]");
	struct prov_request rq = request(&m, msgs);
	struct built b;

	m.id = "gemini-3-pro-preview";
	b = build(&rq);
	assert_json(
		json_object_get(b.body, "contents"),
		"[{\"role\":\"user\",\"parts\":[{\"text\":\"go\"}]},"
		" {\"role\":\"model\",\"parts\":[{\"text\":\"hm\"},"
		"  {\"functionCall\":{\"name\":\"shot\",\"args\":{}},"
		"   \"thoughtSignature\":\"skip_thought_signature_validator\"},"
		"  {\"functionCall\":{\"name\":\"shot\",\"args\":{}}}]},"
		" {\"role\":\"user\",\"parts\":["
		"  {\"functionResponse\":{\"name\":\"shot\",\"response\":{\"output\":\"\"},"
		"   \"parts\":[{\"inlineData\":{\"mimeType\":\"image/jpeg\",\"data\":\"AAAA\"}}]}},"
		"  {\"functionResponse\":{\"name\":\"shot\",\"response\":{\"output\":\"ok\"}}}]}]");
	/* thinking off on Gemini 3 Pro is its lowest level, it cannot stop thinking */
	assert_json(json_object_get(json_object_get(b.body, "generationConfig"), "thinkingConfig"),
		    "{\"thinkingLevel\":\"LOW\"}");
	built_free(&b);

	/* Gemini 2.5 cannot take images in a functionResponse: they follow in a user turn */
	m.id = "gemini-2.5-pro";
	b = build(&rq);
	assert_json(json_array_get(json_object_get(b.body, "contents"), 3),
		    "{\"role\":\"user\",\"parts\":[{\"text\":\"Tool result image:\"},"
		    " {\"inlineData\":{\"mimeType\":\"image/jpeg\",\"data\":\"AAAA\"}}]}");
	assert_int_equal(json_array_size(json_object_get(b.body, "contents")), 4);
	assert_null(json_object_get(json_object_get(b.body, "generationConfig"), "thinkingConfig"));
	built_free(&b);
	json_decref(msgs);
}

static void test_build_thinking(void **state)
{
	static const struct {
		const char *id, *level, *want; /* want NULL: no thinkingConfig */
	} cases[] = {
		{ "gemini-2.5-flash", "minimal",
		  "{\"includeThoughts\":true,\"thinkingBudget\":128}" },
		{ "gemini-2.5-flash-lite", "minimal",
		  "{\"includeThoughts\":true,\"thinkingBudget\":512}" },
		{ "gemini-2.5-pro", "high", "{\"includeThoughts\":true,\"thinkingBudget\":32768}" },
		{ "gemini-2.5-flash", "xhigh",
		  "{\"includeThoughts\":true,\"thinkingBudget\":24576}" },
		{ "gemini-2.5-pro", "off", NULL },
		{ "gemini-3-pro-preview", "medium",
		  "{\"includeThoughts\":true,\"thinkingLevel\":\"HIGH\"}" },
		{ "gemini-3-flash-preview", "medium",
		  "{\"includeThoughts\":true,\"thinkingLevel\":\"MEDIUM\"}" },
		{ "gemini-3-flash-preview", "off", "{\"thinkingLevel\":\"MINIMAL\"}" },
		{ "gemini-3.7-flash", "off", "{\"thinkingLevel\":\"LOW\"}" },
		{ "gemini-3.7-flash", "minimal",
		  "{\"includeThoughts\":true,\"thinkingLevel\":\"LOW\"}" },
		{ "gemma-4-27b", "low",
		  "{\"includeThoughts\":true,\"thinkingLevel\":\"MINIMAL\"}" },
		{ "gemini-exp-thinker", "low", "{\"includeThoughts\":true,\"thinkingBudget\":-1}" },
	};
	json_t *msgs = parse("[{\"role\":\"user\",\"content\":\"x\"}]");

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct prov_model m = model_flash();
		struct prov_request rq = request(&m, msgs);
		struct built b;
		json_t *tc;

		m.id = (char *)cases[i].id;
		rq.thinking = cases[i].level;
		b = build(&rq);
		tc = json_object_get(json_object_get(b.body, "generationConfig"), "thinkingConfig");
		if (cases[i].want)
			assert_json(tc, cases[i].want);
		else
			assert_null(tc);
		built_free(&b);
	}

	/* a model that does not reason gets no thinkingConfig whatever is asked */
	struct prov_model m = model_flash();
	struct prov_request rq = request(&m, msgs);
	struct built b;

	m.reasoning = false;
	rq.thinking = "high";
	b = build(&rq);
	assert_null(json_object_get(json_object_get(b.body, "generationConfig"), "thinkingConfig"));
	built_free(&b);
	json_decref(msgs);
}

static void test_build_tools(void **state)
{
	struct prov_model m = model_flash();
	json_t *msgs = parse("[{\"role\":\"user\",\"content\":\"x\"}]");
	json_t *tools = parse("[{\"name\":\"write\",\"description\":\"Write\",\"parameters\":{"
			      "\"type\":\"object\","
			      "  \"properties\":{\"p\":{\"type\":\"string\",\"format\":\"uri\"}},"
			      "  \"additionalProperties\":false,\"$schema\":\"x\"}},"
			      " {\"name\":\"read\",\"description\":\"Read\",\"parameters\":{"
			      "\"type\":\"object\"}}]");
	struct prov_request rq = request(&m, msgs);
	struct built b;

	rq.tools = tools;
	b = build(&rq);
	/* parametersJsonSchema takes full JSON Schema: passed through as given */
	assert_json(json_object_get(b.body, "tools"),
		    "[{\"functionDeclarations\":["
		    "  {\"name\":\"read\",\"description\":\"Read\","
		    "   \"parametersJsonSchema\":{\"type\":\"object\"}},"
		    "  {\"name\":\"write\",\"description\":\"Write\",\"parametersJsonSchema\":"
		    "   "
		    "{\"type\":\"object\",\"properties\":{\"p\":{\"type\":\"string\",\"format\":"
		    "\"uri\"}},"
		    "    \"additionalProperties\":false,\"$schema\":\"x\"}}]}]");
	built_free(&b);
	json_decref(tools);
	json_decref(msgs);
}

/* ==== stream ==== */

static const char *stream_text = DATA("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hel\"}"
				      "],\"role\":\"model\"},"
				      "\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":100,"
				      "\"cachedContentTokenCount\":40,\"totalTokenCount\":100},"
				      "\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"resp-"
				      "1\"}") DATA("{\"candidates\":[{\"content\":{\"parts\":[{"
						   "\"text\":\"lo \\u00e9\"}],\"role\":\"model\"},"
						   "\"index\":0}],\"responseId\":\"resp-1\"}")
	DATA("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"!\"}],\"role\":\"model\"},"
	     "\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":100,"
	     "\"cachedContentTokenCount\":40,\"candidatesTokenCount\":10,\"thoughtsTokenCount\":5,"
	     "\"totalTokenCount\":115},\"responseId\":\"resp-1\"}");

static void test_stream_text(void **state)
{
	for (size_t step = 0; step < 2; step++) {
		struct seen s;

		run(&s, 200, stream_text, step);
		assert_false(s.has_err);
		assert_string_equal(s.text.p, "Hello \xc3\xa9!");
		assert_json(json_object_get(s.message, "content"),
			    "[{\"type\":\"text\",\"text\":\"Hello \\u00e9!\"}]");
		assert_string_equal(json_string_value(json_object_get(s.message, "stopReason")),
				    "stop");
		assert_string_equal(json_string_value(json_object_get(s.message, "responseId")),
				    "resp-1");
		/* cached tokens come out of the prompt count; thoughts count as output */
		assert_json(
			json_object_get(s.message, "usage"),
			"{\"input\":60,\"output\":15,\"cacheRead\":40,\"cacheWrite\":0,"
			"\"totalTokens\":115,\"cost\":{\"input\":0,\"output\":0,\"cacheRead\":0,"
			"\"cacheWrite\":0,\"total\":0}}");
		seen_release(&s);
	}
}

static const char *stream_thinking = DATA(
	"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Pondering\",\"thought\":true}],"
	"\"role\":\"model\"}}]}")
	DATA("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" more.\",\"thought\":true,"
	     "\"thoughtSignature\":\"c2ln\"},{\"text\":\"Answer\"}],\"role\":\"model\"}}]}")
		DATA("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" "
		     "two\"}],\"role\":\"model\"},"
		     "\"finishReason\":\"MAX_TOKENS\"}]}");

static void test_stream_thinking(void **state)
{
	for (size_t step = 0; step < 2; step++) {
		struct seen s;

		run(&s, 200, stream_thinking, step);
		assert_false(s.has_err);
		assert_string_equal(s.thinking.p, "Pondering more.");
		assert_json(json_object_get(s.message, "content"),
			    "[{\"type\":\"thinking\",\"thinking\":\"Pondering more.\","
			    "  \"thinkingSignature\":\"c2ln\"},"
			    " {\"type\":\"text\",\"text\":\"Answer two\"}]");
		assert_string_equal(json_string_value(json_object_get(s.message, "stopReason")),
				    "length");
		seen_release(&s);
	}
}

static const char *stream_calls =
	DATA("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Let me look.\"},"
	     "{\"functionCall\":{\"name\":\"read\",\"args\":{\"path\":\"/etc/hosts\"}}}],"
	     "\"role\":\"model\"}}]}")
		DATA("{\"candidates\":[{\"content\":{\"parts\":["
		     "{\"functionCall\":{\"name\":\"ls\",\"args\":{},\"id\":\"given-1\"}},"
		     "{\"functionCall\":{\"name\":\"ls\",\"id\":\"given-1\"}}],"
		     "\"role\":\"model\"},\"finishReason\":\"STOP\"}]}");

static void test_stream_function_calls(void **state)
{
	for (size_t step = 0; step < 2; step++) {
		struct seen s;
		json_t *content, *c;

		run(&s, 200, stream_calls, step);
		assert_false(s.has_err);
		content = json_object_get(s.message, "content");
		assert_int_equal(json_array_size(content), 4);
		assert_json(json_array_get(content, 0),
			    "{\"type\":\"text\",\"text\":\"Let me look.\"}");
		c = json_array_get(content, 1);
		assert_string_equal(json_string_value(json_object_get(c, "name")), "read");
		assert_json(json_object_get(c, "arguments"), "{\"path\":\"/etc/hosts\"}");
		/* no id from the API: pi's "<name>_<ms>_<n>" */
		assert_true(strncmp(json_string_value(json_object_get(c, "id")), "read_", 5) == 0);
		assert_string_equal(
			json_string_value(json_object_get(json_array_get(content, 2), "id")),
			"given-1");
		/* a repeated id is replaced, so results can be told apart */
		c = json_array_get(content, 3);
		assert_true(strncmp(json_string_value(json_object_get(c, "id")), "ls_", 3) == 0);
		assert_json(json_object_get(c, "arguments"), "{}");
		assert_int_equal(json_array_size(s.tools), 3);
		assert_string_equal(json_string_value(json_object_get(s.message, "stopReason")),
				    "toolUse");
		seen_release(&s);
	}
}

static void test_stream_finish_reasons(void **state)
{
	static const struct {
		const char *reason;
		enum prov_err_kind kind;
	} cases[] = {
		{ "SAFETY", PROV_ERR_REFUSAL },
		{ "RECITATION", PROV_ERR_REFUSAL },
		{ "PROHIBITED_CONTENT", PROV_ERR_REFUSAL },
		{ "BLOCKLIST", PROV_ERR_REFUSAL },
		{ "MALFORMED_FUNCTION_CALL", PROV_ERR_UNKNOWN },
		{ "OTHER", PROV_ERR_UNKNOWN },
		{ "SOMETHING_NEW", PROV_ERR_PROTOCOL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *body = xasprintf(
			DATA("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"par\"}]"
			     "}}]}") "data: {\"candidates\":[{\"finishReason\":\"%s\","
				     "\"finishMessage\":\"why\"}]}\n\n",
			cases[i].reason);
		struct seen s;

		run(&s, 200, body, 0);
		assert_true(s.has_err);
		if (s.err.kind != cases[i].kind)
			fail_msg("%s: kind %s", cases[i].reason, prov_err_kind_name(s.err.kind));
		assert_non_null(strstr(s.err.message, cases[i].reason));
		/* what arrived before stays in the message */
		assert_json(json_object_get(s.message, "content"),
			    "[{\"type\":\"text\",\"text\":\"par\"}]");
		seen_release(&s);
		free(body);
	}
}

static void test_stream_prompt_blocked(void **state)
{
	struct seen s;

	run(&s, 200,
	    DATA("{\"promptFeedback\":{\"blockReason\":\"SAFETY\",\"blockReasonMessage\":\"nope\"},"
		 "\"usageMetadata\":{\"promptTokenCount\":8}}"),
	    0);
	assert_true(s.has_err);
	assert_int_equal(s.err.kind, PROV_ERR_REFUSAL);
	assert_non_null(strstr(s.err.message, "Google prompt blocked (SAFETY): nope"));
	seen_release(&s);
}

static void test_stream_cut(void **state)
{
	const char *end = strstr(stream_text, "data: {\"candidates\":[{\"content\":{\"parts\":"
					      "[{\"text\":\"!\"}]");
	char *partial = xstrndup(stream_text, (size_t)(end - stream_text));
	struct seen s;

	run(&s, 200, partial, 1);
	assert_true(s.has_err);
	assert_int_equal(s.err.kind, PROV_ERR_NETWORK);
	assert_json(json_object_get(s.message, "content"),
		    "[{\"type\":\"text\",\"text\":\"Hello \\u00e9\"}]");
	seen_release(&s);
	free(partial);

	run(&s, 200, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"te", 0);
	assert_true(s.has_err);
	seen_release(&s);

	run(&s, 200, "data: [not json\n\n", 0);
	assert_int_equal(s.err.kind, PROV_ERR_PROTOCOL);
	seen_release(&s);
}

static void test_stream_error_chunk(void **state)
{
	struct seen s;

	run(&s, 200,
	    DATA("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}")
		    DATA("{\"error\":{\"code\":503,\"message\":\"The model is overloaded.\","
			 "\"status\":\"UNAVAILABLE\"}}"),
	    0);
	assert_true(s.has_err);
	assert_int_equal(s.err.kind, PROV_ERR_OVERLOADED);
	assert_non_null(strstr(s.err.message, "The model is overloaded."));
	seen_release(&s);
}

static void test_http_errors(void **state)
{
	static const struct {
		long status;
		const char *rpc, *message;
		enum prov_err_kind kind;
	} cases[] = {
		{ 429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).",
		  PROV_ERR_RATE_LIMIT },
		{ 401, "UNAUTHENTICATED", "Request had invalid authentication credentials.",
		  PROV_ERR_AUTH },
		{ 403, "PERMISSION_DENIED", "The caller does not have permission", PROV_ERR_AUTH },
		{ 400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
		  PROV_ERR_AUTH },
		{ 400, "INVALID_ARGUMENT",
		  "The input token count (1200000) exceeds the maximum number of tokens allowed "
		  "(1048576).",
		  PROV_ERR_CONTEXT_OVERFLOW },
		{ 400, "INVALID_ARGUMENT", "Invalid JSON payload received.", PROV_ERR_FORMAT },
		{ 404, "NOT_FOUND", "models/nope is not found", PROV_ERR_FORMAT },
		{ 503, "UNAVAILABLE", "The model is overloaded. Please try again later.",
		  PROV_ERR_OVERLOADED },
		{ 500, "INTERNAL", "An internal error has occurred.", PROV_ERR_SERVER },
		{ 504, "DEADLINE_EXCEEDED", "Deadline expired", PROV_ERR_TIMEOUT },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		/* plain, and wrapped in an array as the streaming endpoint answers */
		for (int wrap = 0; wrap < 2; wrap++) {
			char *body = xasprintf("%s{\"error\":{\"code\":%ld,\"message\":\"%s\","
					       "\"status\":\"%s\"}}%s",
					       wrap ? "[" : "", cases[i].status, cases[i].message,
					       cases[i].rpc, wrap ? "]" : "");
			struct seen s;

			run(&s, cases[i].status, body, 0);
			assert_true(s.has_err);
			if (s.err.kind != cases[i].kind)
				fail_msg("%ld %s: kind %s", cases[i].status, cases[i].rpc,
					 prov_err_kind_name(s.err.kind));
			assert_non_null(strstr(s.err.message, cases[i].message));
			seen_release(&s);
			free(body);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_basic),
		cmocka_unit_test(test_build_url),
		cmocka_unit_test(test_build_multi_turn),
		cmocka_unit_test(test_build_foreign_turn_gemini3),
		cmocka_unit_test(test_build_thinking),
		cmocka_unit_test(test_build_tools),
		cmocka_unit_test(test_stream_text),
		cmocka_unit_test(test_stream_thinking),
		cmocka_unit_test(test_stream_function_calls),
		cmocka_unit_test(test_stream_finish_reasons),
		cmocka_unit_test(test_stream_prompt_blocked),
		cmocka_unit_test(test_stream_cut),
		cmocka_unit_test(test_stream_error_chunk),
		cmocka_unit_test(test_http_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
