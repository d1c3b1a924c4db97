/*
 * test_prov_ollama.c - the ollama wire format (src/providers/ollama.c):
 * the /api/chat body and NDJSON streams.
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
#include "prov_testutil.h"

static json_t *build_body(struct prov_request *rq, struct prov_http *h)
{
	char err[256];
	prov_http_init(h);
	assert_int_equal(prov_ollama.build(rq, h, err, sizeof(err)), 0);
	json_t *b = json_loads(h->body.p, 0, NULL);
	assert_non_null(b);
	return b;
}

static void test_build(void **state)
{
	struct prov_model m = pt_model("ollama");
	m.base_url = (char *)"http://gpu:11434/v1/";
	m.input_image = true;
	m.reasoning = true;
	m.context_window = 32768;
	json_t *msgs = pt_json(
		"[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
		"{\"type\":\"text\",\"text\":\"b\"},{\"type\":\"image\",\"data\":\"iVBOR\","
		"\"mimeType\":\"image/png\"}]},"
		"{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"t\"},"
		"{\"type\":\"text\",\"text\":\"x\"},{\"type\":\"toolCall\",\"id\":\"c1\",\"name\":"
		"\"read\",\"arguments\":{\"path\":\"p\"}}],\"stopReason\":\"toolUse\","
		"\"provider\":\"prov\",\"api\":\"ollama\",\"model\":\"m1\"},"
		"{\"role\":\"toolResult\",\"toolCallId\":\"c1\",\"toolName\":\"read\","
		"\"content\":[{\"type\":\"text\",\"text\":\"out\"}],\"isError\":false}]");
	json_t *tools = pt_json("[{\"name\":\"write\",\"parameters\":{\"type\":\"object\"}},"
				"{\"name\":\"read\",\"description\":\"R\"}]");
	struct prov_request rq = {
		.model = &m, .system = "S", .messages = msgs, .tools = tools, .thinking = "medium"
	};
	struct prov_http h;
	json_t *b = build_body(&rq, &h);
	/* A trailing /v1 (the OpenAI-compatible base) is stripped for the native API. */
	assert_string_equal(h.url, "http://gpu:11434/api/chat");
	assert_string_equal(pt_str(b, "model"), "m1");
	assert_true(json_is_true(json_object_get(b, "stream")));
	assert_true(json_is_true(json_object_get(b, "think")));
	assert_int_equal(pt_int(b, "options.num_ctx"), 32768);
	json_t *ms = json_object_get(b, "messages");
	assert_int_equal(json_array_size(ms), 4);
	assert_string_equal(pt_str(ms, "[0].role"), "system");
	assert_string_equal(pt_str(ms, "[0].content"), "S");
	assert_string_equal(pt_str(ms, "[1].content"), "ab");
	assert_string_equal(pt_str(ms, "[1].images[0]"), "iVBOR");
	assert_string_equal(pt_str(ms, "[2].content"), "x");
	assert_string_equal(pt_str(ms, "[2].thinking"), "t");
	assert_string_equal(pt_str(ms, "[2].tool_calls[0].function.name"), "read");
	assert_string_equal(pt_str(ms, "[2].tool_calls[0].function.arguments.path"), "p");
	assert_string_equal(pt_str(ms, "[3].role"), "tool");
	assert_string_equal(pt_str(ms, "[3].content"), "out");
	assert_string_equal(pt_str(ms, "[3].tool_name"), "read");
	/* Tools sorted by name, with an empty description where none was given. */
	assert_string_equal(pt_str(b, "tools[0].function.name"), "read");
	assert_string_equal(pt_str(b, "tools[0].function.description"), "R");
	assert_string_equal(pt_str(b, "tools[1].function.name"), "write");
	assert_string_equal(pt_str(b, "tools[1].function.description"), "");
	json_decref(b);
	prov_http_release(&h);

	/* No base URL: the local default. */
	m.base_url = NULL;
	rq.thinking = NULL;
	b = build_body(&rq, &h);
	assert_string_equal(h.url, "http://127.0.0.1:11434/api/chat");
	assert_null(json_object_get(b, "think"));
	json_decref(b);
	prov_http_release(&h);
	json_decref(msgs);
	json_decref(tools);
}

static struct prov_model sm;
static struct prov_request srq;

static int setup(void **state)
{
	sm = pt_model("ollama");
	sm.reasoning = true;
	srq = (struct prov_request){ .model = &sm };
	return 0;
}

static void test_stream(void **state)
{
	struct rec r;
	pt_run(&srq, &prov_ollama,
	       "{\"model\":\"m1\",\"message\":{\"role\":\"assistant\",\"content\":\"\","
	       "\"thinking\":\"Hmm\"},\"done\":false}\n"
	       "{\"model\":\"m1\",\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},"
	       "\"done\":false}\r\n"
	       "{\"model\":\"m1\",\"message\":{\"role\":\"assistant\",\"content\":\"lo\"},"
	       "\"done\":false}\n"
	       "{\"model\":\"m1\",\"message\":{\"role\":\"assistant\",\"content\":\"\","
	       "\"tool_calls\":[{\"function\":{\"name\":\"read\",\"arguments\":{\"path\":\"a\"}}},"
	       "{\"function\":{\"name\":\"ls\",\"arguments\":{}}}]},\"done\":false}\n"
	       "{\"model\":\"m1\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},"
	       "\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":26,"
	       "\"eval_count\":298}",
	       HTTP_OK, &r);
	assert_false(r.failed);
	json_t *c = json_object_get(r.msg, "content");
	assert_int_equal(json_array_size(c), 4);
	assert_string_equal(pt_str(c, "[0].thinking"), "Hmm");
	assert_string_equal(pt_str(c, "[1].text"), "Hello");
	assert_string_equal(pt_str(c, "[2].name"), "read");
	assert_string_equal(pt_str(c, "[2].id"), "ollama_call_1");
	assert_string_equal(pt_str(c, "[2].arguments.path"), "a");
	assert_string_equal(pt_str(c, "[3].id"), "ollama_call_2");
	assert_string_equal(pt_str(r.msg, "stopReason"), "toolUse");
	assert_int_equal(pt_int(r.msg, "usage.input"), 26);
	assert_int_equal(pt_int(r.msg, "usage.output"), 298);
	assert_int_equal(pt_int(r.msg, "usage.totalTokens"), 324);
	assert_int_equal(json_array_size(r.tools), 2);
	rec_release(&r);

	pt_run(&srq, &prov_ollama,
	       "{\"message\":{\"role\":\"assistant\",\"content\":\"x\"},\"done\":false}\n"
	       "{\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,"
	       "\"done_reason\":\"length\"}\n",
	       HTTP_OK, &r);
	assert_string_equal(pt_str(r.msg, "stopReason"), "length");
	rec_release(&r);
}

static void test_stream_errors(void **state)
{
	struct rec r;
	/* Cut: no done line. */
	pt_run(&srq, &prov_ollama,
	       "{\"message\":{\"role\":\"assistant\",\"content\":\"par\"},\"done\":false}\n{\"mess",
	       HTTP_OK, &r);
	assert_true(r.failed);
	assert_int_equal(r.err.kind, PROV_ERR_PROTOCOL); /* the half line is not JSON */
	assert_string_equal(pt_str(r.msg, "content[0].text"), "par");
	rec_release(&r);

	pt_run(&srq, &prov_ollama,
	       "{\"message\":{\"role\":\"assistant\",\"content\":\"par\"},\"done\":false}\n",
	       HTTP_E_NETWORK, &r);
	assert_int_equal(r.err.kind, PROV_ERR_NETWORK);
	rec_release(&r);

	pt_run(&srq, &prov_ollama,
	       "{\"message\":{\"role\":\"assistant\",\"content\":\"par\"},\"done\":false}\n",
	       HTTP_OK, &r);
	assert_int_equal(r.err.kind, PROV_ERR_NETWORK);
	assert_string_equal(r.err.message, "prov stream ended before the response was complete");
	rec_release(&r);

	pt_run(&srq, &prov_ollama, "{\"error\":\"model 'm1' not found\",\"status\":404}\n",
	       HTTP_E_CALLBACK, &r);
	assert_int_equal(r.err.kind, PROV_ERR_FORMAT);
	assert_string_equal(r.err.message, "prov: model 'm1' not found");
	rec_release(&r);

	pt_run(&srq, &prov_ollama, "[1,2]\n", HTTP_E_CALLBACK, &r);
	assert_int_equal(r.err.kind, PROV_ERR_PROTOCOL);
	rec_release(&r);

	rec_init(&r);
	pt_feed(&srq, &prov_ollama, 500, "{\"error\":\"llama runner process has terminated\"}", 0,
		HTTP_OK, &r);
	assert_int_equal(r.err.kind, PROV_ERR_SERVER);
	assert_string_equal(r.err.message,
			    "prov returned 500: llama runner process has terminated");
	rec_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build),
		cmocka_unit_test_setup(test_stream, setup),
		cmocka_unit_test_setup(test_stream_errors, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
