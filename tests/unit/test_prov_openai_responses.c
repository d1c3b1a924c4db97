/*
 * test_prov_openai_responses.c - the openai-responses wire format
 * (src/providers/openai_responses.c): request items and SSE events.
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

static const char *conversation =
	"[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"see\"},"
	"{\"type\":\"image\",\"data\":\"iVBOR\",\"mimeType\":\"image/png\"}]},"
	"{\"role\":\"assistant\",\"content\":["
	"{\"type\":\"thinking\",\"thinking\":\"hm\",\"thinkingSignature\":"
	"\"{\\\"type\\\":\\\"reasoning\\\",\\\"id\\\":\\\"rs_1\\\",\\\"summary\\\":[],"
	"\\\"encrypted_content\\\":\\\"enc\\\"}\"},"
	"{\"type\":\"text\",\"text\":\"Checking.\"},"
	"{\"type\":\"toolCall\",\"id\":\"call_1|fc_1\",\"name\":\"read\",\"arguments\":{\"path\":"
	"\"a\"}}],"
	"\"stopReason\":\"toolUse\",\"provider\":\"prov\",\"api\":\"openai-responses\",\"model\":"
	"\"m1\"},"
	"{\"role\":\"toolResult\",\"toolCallId\":\"call_1|fc_1\",\"toolName\":\"read\","
	"\"content\":[{\"type\":\"text\",\"text\":\"body\"},"
	"{\"type\":\"image\",\"data\":\"R0lG\",\"mimeType\":\"image/gif\"}],\"isError\":false},"
	"{\"role\":\"user\",\"content\":\"ok\"}]";

static json_t *build_body(struct prov_request *rq, struct prov_http *h)
{
	char err[256];
	prov_http_init(h);
	assert_int_equal(prov_openai_responses.build(rq, h, err, sizeof(err)), 0);
	json_t *b = json_loads(h->body.p, 0, NULL);
	assert_non_null(b);
	return b;
}

static void test_build(void **state)
{
	struct prov_model m = pt_model("openai-responses");
	m.input_image = true;
	m.reasoning = true;
	json_t *msgs = pt_json(conversation);
	json_t *tools = pt_json("[{\"name\":\"read\",\"description\":\"Read\",\"parameters\":"
				"{\"type\":\"object\",\"properties\":{}}}]");
	struct prov_request rq = { .model = &m,
				   .api_key = "k",
				   .system = "Sys",
				   .messages = msgs,
				   .tools = tools,
				   .thinking = "low",
				   .max_tokens = 2000 };
	struct prov_http h;
	json_t *b = build_body(&rq, &h);
	assert_string_equal(h.url, "http://fake/v1/responses");
	assert_string_equal(pt_str(b, "model"), "m1");
	assert_true(json_is_true(json_object_get(b, "stream")));
	assert_false(json_is_true(json_object_get(b, "store")));
	assert_int_equal(pt_int(b, "max_output_tokens"), 2000);
	assert_string_equal(pt_str(b, "reasoning.effort"), "low");
	assert_string_equal(pt_str(b, "reasoning.summary"), "auto");
	assert_string_equal(pt_str(b, "include[0]"), "reasoning.encrypted_content");
	assert_string_equal(pt_str(b, "tools[0].type"), "function");
	assert_string_equal(pt_str(b, "tools[0].name"), "read");
	assert_string_equal(pt_str(b, "tools[0].description"), "Read");
	assert_false(json_is_true(jpath_get(b, "tools[0].strict")));
	assert_null(json_object_get(b, "instructions")); /* not api.openai.com: a message */

	json_t *in = json_object_get(b, "input");
	assert_int_equal(json_array_size(in), 7);
	assert_string_equal(pt_str(in, "[0].type"), "message");
	assert_string_equal(pt_str(in, "[0].role"), "developer");
	assert_string_equal(pt_str(in, "[0].content[0].type"), "input_text");
	assert_string_equal(pt_str(in, "[0].content[0].text"), "Sys");
	assert_string_equal(pt_str(in, "[1].role"), "user");
	assert_string_equal(pt_str(in, "[1].content[1].type"), "input_image");
	assert_string_equal(pt_str(in, "[1].content[1].detail"), "auto");
	assert_string_equal(pt_str(in, "[1].content[1].image_url"), "data:image/png;base64,iVBOR");
	/* The reasoning item replayed verbatim from the signature. */
	assert_string_equal(pt_str(in, "[2].type"), "reasoning");
	assert_string_equal(pt_str(in, "[2].encrypted_content"), "enc");
	assert_string_equal(pt_str(in, "[3].role"), "assistant");
	assert_string_equal(pt_str(in, "[3].content[0].type"), "output_text");
	assert_string_equal(pt_str(in, "[3].content[0].text"), "Checking.");
	assert_string_equal(pt_str(in, "[4].type"), "function_call");
	assert_string_equal(pt_str(in, "[4].call_id"), "call_1");
	assert_string_equal(pt_str(in, "[4].name"), "read");
	assert_string_equal(pt_str(in, "[4].arguments"), "{\"path\":\"a\"}");
	assert_string_equal(pt_str(in, "[5].type"), "function_call_output");
	assert_string_equal(pt_str(in, "[5].call_id"), "call_1");
	assert_string_equal(pt_str(in, "[5].output[0].text"), "body");
	assert_string_equal(pt_str(in, "[5].output[1].type"), "input_image");
	assert_string_equal(pt_str(in, "[6].content[0].text"), "ok");
	json_decref(b);
	prov_http_release(&h);

	/* api.openai.com: the system prompt is `instructions`; without image input a string. */
	m.base_url = (char *)"https://api.openai.com/v1";
	m.input_image = false;
	rq.thinking = NULL;
	b = build_body(&rq, &h);
	assert_string_equal(pt_str(b, "instructions"), "Sys");
	assert_string_equal(pt_str(b, "input[0].role"), "user");
	assert_null(json_object_get(b, "reasoning"));
	in = json_object_get(b, "input");
	/* pi replaces an image a model cannot see with a placeholder line. */
	assert_string_equal(pt_str(in, "[4].output"),
			    "body\n(tool image omitted: model does not support images)");
	json_decref(b);
	prov_http_release(&h);
	json_decref(msgs);
	json_decref(tools);
}

static struct prov_model sm;
static struct prov_request srq;

static int setup(void **state)
{
	sm = pt_model("openai-responses");
	srq = (struct prov_request){ .model = &sm };
	return 0;
}

#define EV(name, json) "event: " name "\ndata: " json "\n\n"

static void test_stream(void **state)
{
	struct rec r;
	pt_run(&srq, &prov_openai_responses,
	       EV("response.created", "{\"type\":\"response.created\",\"response\":{\"id\":"
				      "\"resp_9\"}}") EV("response.output_item.added",
							 "{\"type\":\"response.output_item."
							 "added\","
							 "\"output_index\":0,\"item\":{"
							 "\"type\":\"reasoning\",\"id\":\"rs_"
							 "1\"}}") EV("response.reasoning_"
								     "summary_text.delta",
								     "{\"type\":\"response."
								     "reasoning_summary_"
								     "text.delta\",\"output_"
								     "index\":0,\"delta\":"
								     "\"Plan\"}")
		       EV("response.output_item.done",
			  "{\"type\":\"response.output_item.done\","
			  "\"output_index\":0,\"item\":{\"type\":\"reasoning\",\"id\":\"rs_1\","
			  "\"summary\":[],"
			  "\"encrypted_content\":\"E\"}}") EV("response.output_item.added",
							      "{\"type\":\"response.output_item."
							      "added\","
							      "\"output_index\":1,\"item\":{"
							      "\"type\":\"message\",\"id\":\"msg_"
							      "1\"}}") EV("response.output_text."
									  "delta",
									  "{\"type\":\"response."
									  "output_text.delta\","
									  "\"output_index\":1,"
									  "\"delta\":\"Hi \"}")
			       EV("response.output_text.delta",
				  "{\"type\":\"response.output_text.delta\","
				  "\"output_index\":1,\"delta\":\"there\"}")
				       EV("response.output_item.added",
					  "{\"type\":\"response.output_item.added\","
					  "\"output_index\":2,\"item\":{\"type\":\"function_call\","
					  "\"id\":\"fc_a\","
					  "\"call_id\":\"call_a\",\"name\":\"read\",\"arguments\":"
					  "\"\"}}") EV("response.output_item.added",
						       "{\"type\":\"response.output_item.added\","
						       "\"output_index\":3,\"item\":{\"type\":"
						       "\"function_call\",\"id\":\"fc_b\","
						       "\"call_id\":\"call_b\",\"name\":\"ls\","
						       "\"arguments\":\"\"}}") EV("response."
										  "function_call_"
										  "arguments.delta",
										  "{\"type\":"
										  "\"response."
										  "function_call_"
										  "arguments."
										  "delta\","
										  "\"output_"
										  "index\":2,"
										  "\"delta\":\"{"
										  "\\\"pa\"}")
					       EV("response.function_call_arguments.delta",
						  "{\"type\":\"response.function_call_"
						  "arguments.delta\",\"output_index\":3,\"delta\":"
						  "\"{}\"}") EV("response.function_call_arguments."
								"delta",
								"{\"type\":\"response.function_"
								"call_"
								"arguments.delta\",\"output_"
								"index\":2,\"delta\":\"th\\\":"
								"\\\"x\\\"}\"}")
						       EV("response.function_call_arguments.done",
							  "{\"type\":\"response.function_call_"
							  "arguments.done\",\"output_index\":2,"
							  "\"arguments\":\"{\\\"path\\\":\\\"x\\\"}"
							  "\"}") EV("response.output_item.done",
								    "{\"type\":\"response.output_"
								    "item.done\","
								    "\"output_index\":3,\"item\":{"
								    "\"type\":\"function_call\","
								    "\"id\":\"fc_b\"}}")
							       EV("response.completed",
								  "{\"type\":\"response."
								  "completed\",\"response\":{"
								  "\"id\":"
								  "\"resp_9\",\"status\":"
								  "\"completed\",\"usage\":{"
								  "\"input_tokens\":50,"
								  "\"output_tokens\":9,\"input_"
								  "tokens_details\":{\"cached_"
								  "tokens\":20}}}}"),
	       HTTP_OK, &r);
	assert_false(r.failed);
	json_t *c = json_object_get(r.msg, "content");
	assert_int_equal(json_array_size(c), 4);
	assert_string_equal(pt_str(c, "[0].thinking"), "Plan");
	json_t *sig = pt_json(pt_str(c, "[0].thinkingSignature"));
	assert_string_equal(pt_str(sig, "encrypted_content"), "E");
	json_decref(sig);
	assert_string_equal(pt_str(c, "[1].text"), "Hi there");
	assert_string_equal(pt_str(c, "[2].id"), "call_a|fc_a");
	assert_string_equal(pt_str(c, "[2].arguments.path"), "x");
	assert_string_equal(pt_str(c, "[3].id"), "call_b|fc_b");
	assert_int_equal(json_object_size(jpath_get(c, "[3].arguments")), 0);
	assert_string_equal(pt_str(r.msg, "stopReason"), "toolUse");
	assert_string_equal(pt_str(r.msg, "responseId"), "resp_9");
	assert_int_equal(pt_int(r.msg, "usage.input"), 30);
	assert_int_equal(pt_int(r.msg, "usage.cacheRead"), 20);
	assert_int_equal(pt_int(r.msg, "usage.output"), 9);
	assert_int_equal(pt_int(r.msg, "usage.totalTokens"), 59);
	assert_int_equal(json_array_size(r.tools), 2);
	rec_release(&r);
}

static void test_stream_ends(void **state)
{
	struct rec r;
	pt_run(&srq, &prov_openai_responses,
	       EV("response.output_text.delta",
		  "{\"type\":\"response.output_text.delta\",\"output_index\":0,\"delta\":\"a\"}")
		       EV("response.incomplete",
			  "{\"type\":\"response.incomplete\",\"response\":{\"incomplete_details\":"
			  "{\"reason\":\"max_output_tokens\"}}}"),
	       HTTP_OK, &r);
	assert_string_equal(pt_str(r.msg, "stopReason"), "length");
	rec_release(&r);

	pt_run(&srq, &prov_openai_responses,
	       EV("response.failed", "{\"type\":\"response.failed\",\"response\":{\"error\":{"
				     "\"code\":\"server_error\",\"message\":\"The server had an "
				     "error\"}}}"),
	       HTTP_E_CALLBACK, &r);
	assert_true(r.failed);
	assert_string_equal(pt_str(r.msg, "errorMessage"), "prov: The server had an error");
	rec_release(&r);

	pt_run(&srq, &prov_openai_responses,
	       EV("error", "{\"type\":\"error\",\"code\":\"context_length_exceeded\",\"message\":"
			   "\"Your input exceeds the context window of this model.\"}"),
	       HTTP_E_CALLBACK, &r);
	assert_int_equal(r.err.kind, PROV_ERR_CONTEXT_OVERFLOW);
	rec_release(&r);

	/* Cut before response.completed. */
	pt_run(&srq, &prov_openai_responses,
	       EV("response.output_text.delta",
		  "{\"type\":\"response.output_text.delta\",\"output_index\":0,\"delta\":\"a\"}"),
	       HTTP_OK, &r);
	assert_int_equal(r.err.kind, PROV_ERR_NETWORK);
	assert_string_equal(pt_str(r.msg, "content[0].text"), "a");
	rec_release(&r);

	pt_run(&srq, &prov_openai_responses, EV("response.created", "{nope"), HTTP_E_CALLBACK, &r);
	assert_int_equal(r.err.kind, PROV_ERR_PROTOCOL);
	rec_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build),
		cmocka_unit_test_setup(test_stream, setup),
		cmocka_unit_test_setup(test_stream_ends, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
