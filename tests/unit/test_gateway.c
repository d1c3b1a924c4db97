/*
 * test_gateway.c - the WebSocket control plane in-process: a gateway with
 * an empty config (auth none) and clients on detached WebSockets (the test
 * seam of net/http_server.h), for cases that are easier to pin down here
 * than end to end, and for regressions the fuzzers found. Leaks show up
 * under `make asan`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/paths.h"
#include "core/log.h"
#include "core/str.h"
#include "gateway/gateway.h"
#include "net/http_server.h"

struct fixture {
	char dir[PATH_MAX];
	uv_loop_t loop;
	struct config *cfg; /* the gateway owns it once created */
	struct paths paths;
	struct gateway *gw;
};

/* One client: every frame the gateway sent it, and its close. */
struct client {
	struct http_ws *ws;
	json_t *frames; /* array */
	int close_code;
	char close_reason[128];
};

static int fx_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct log_opts lo;
	struct buf errs;
	char err[256];

	if (!fx || tu_mkdtemp(fx->dir, sizeof(fx->dir), "gateway") < 0)
		return -1;
	unsetenv("PINCER_GATEWAY_TOKEN");
	unsetenv("OPENCLAW_GATEWAY_TOKEN");
	unsetenv("PINCER_GATEWAY_PASSWORD");
	unsetenv("OPENCLAW_GATEWAY_PASSWORD");
	log_opts_default(&lo);
	lo.console_level = LOG_WARN;
	log_setup(&lo);
	fx->paths.state_dir = xstrdup(fx->dir);
	fx->paths.config_path = xasprintf("%s/pincer.json", fx->dir);
	fx->cfg = xmalloc(sizeof(*fx->cfg));
	config_init(fx->cfg);
	buf_init(&errs, 1 << 16);
	if (config_load(fx->cfg, fx->paths.config_path, &errs) < 0)
		return -1;
	buf_release(&errs);
	uv_loop_init(&fx->loop);
	fx->gw = gateway_new(&fx->loop, fx->cfg, &fx->paths, err, sizeof(err));
	if (!fx->gw)
		return -1;
	snprintf(fx->gw->host, sizeof(fx->gw->host), "127.0.0.1");
	gateway_start(fx->gw);
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fixture *fx = *state;

	gateway_shutdown(fx->gw, "test", 0);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	gateway_free(fx->gw);
	uv_loop_close(&fx->loop);
	paths_release(&fx->paths);
	log_shutdown();
	tu_rm_rf(fx->dir);
	free(fx);
	return 0;
}

static void on_send(void *arg, const char *data, size_t len)
{
	struct client *cl = arg;
	json_t *f = json_loadb(data, len, 0, NULL);

	assert_non_null(f);
	json_array_append_new(cl->frames, f);
}

static void on_close(void *arg, int code, const char *reason)
{
	struct client *cl = arg;

	cl->close_code = code;
	snprintf(cl->close_reason, sizeof(cl->close_reason), "%s", reason);
}

static void client_open(struct fixture *fx, struct client *cl)
{
	struct http_ws_detached o = {
		.peer = "127.0.0.1", .loopback = true, .send = on_send, .close = on_close, .arg = cl
	};

	memset(cl, 0, sizeof(*cl));
	cl->frames = json_array();
	cl->ws = http_ws_detached_open(gateway_ws_handler(), fx->gw, &o, NULL);
	assert_non_null(cl->ws);
}

static void client_free(struct client *cl)
{
	if (cl->ws)
		http_ws_detached_free(cl->ws, 1000);
	json_decref(cl->frames);
}

static void client_send(struct client *cl, const char *text)
{
	http_ws_detached_message(cl->ws, text, strlen(text), false);
}

/* The last frame the client got (borrowed). */
static json_t *client_last(struct client *cl)
{
	size_t n = json_array_size(cl->frames);

	assert_true(n > 0);
	return json_array_get(cl->frames, n - 1);
}

static void client_connect(struct client *cl)
{
	client_send(cl, "{\"type\":\"req\",\"id\":\"c1\",\"method\":\"connect\",\"params\":"
			"{\"minProtocol\":4,\"maxProtocol\":4,\"client\":{\"id\":\"cli\","
			"\"version\":\"1\",\"platform\":\"linux\",\"mode\":\"cli\"},"
			"\"scopes\":[\"operator.admin\"]}}");
	assert_true(json_is_true(json_object_get(client_last(cl), "ok")));
}

static void test_handshake_and_health(void **state)
{
	struct fixture *fx = *state;
	struct client cl;
	json_t *f;

	client_open(fx, &cl);
	f = json_array_get(cl.frames, 0);
	assert_string_equal(json_string_value(json_object_get(f, "event")), "connect.challenge");
	client_connect(&cl);
	f = client_last(&cl);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(f, "payload"), "type")),
		"hello-ok");
	assert_int_equal(fx->gw->nready, 1);
	client_send(&cl, "{\"type\":\"req\",\"id\":\"h\",\"method\":\"health\"}");
	f = client_last(&cl);
	assert_string_equal(json_string_value(json_object_get(f, "id")), "h");
	assert_true(json_is_true(json_object_get(f, "ok")));
	client_free(&cl);
	assert_int_equal(fx->gw->nconns, 0);
	assert_int_equal(fx->gw->nready, 0);
}

/* Found by fuzz_gateway_dispatch: the reply to bad params leaked the agents array. */
static void test_agents_list_bad_params(void **state)
{
	struct fixture *fx = *state;
	struct client cl;
	json_t *f;

	client_open(fx, &cl);
	client_connect(&cl);
	client_send(&cl, "{\"type\":\"req\",\"id\":\"a\",\"method\":\"agents.list\","
			 "\"params\":{\"x\":1}}");
	f = client_last(&cl);
	assert_true(json_is_false(json_object_get(f, "ok")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(f, "error"), "code")),
			    "INVALID_REQUEST");
	client_free(&cl);
}

/*
 * Found by fuzz_gateway_dispatch: "unknown method: %.120s" cut a character
 * in two, json_pack refused the message, and the error went out without
 * its `error` object. Same for a close reason cut at 123 bytes.
 */
static void test_messages_cut_at_characters(void **state)
{
	struct fixture *fx = *state;
	struct client cl;
	char frame[1024], name[400] = "";
	json_t *err;

	for (int i = 0; i < 130; i++)
		strcat(name, "\xc3\xa9");
	client_open(fx, &cl);
	client_connect(&cl);
	snprintf(frame, sizeof(frame), "{\"type\":\"req\",\"id\":\"m\",\"method\":\"x%s\"}", name);
	client_send(&cl, frame);
	err = json_object_get(client_last(&cl), "error");
	assert_string_equal(json_string_value(json_object_get(err, "code")), "INVALID_REQUEST");
	assert_true(str_starts_with(json_string_value(json_object_get(err, "message")),
				    "unknown method: x\xc3\xa9"));
	client_free(&cl);

	/* A connect with an unknown key: refused, closed with a reason that is whole UTF-8. */
	client_open(fx, &cl);
	snprintf(frame, sizeof(frame),
		 "{\"type\":\"req\",\"id\":\"c1\",\"method\":\"connect\",\"params\":"
		 "{\"minProtocol\":4,\"maxProtocol\":4,\"client\":{\"id\":\"cli\","
		 "\"version\":\"1\",\"platform\":\"linux\",\"mode\":\"cli\"},\"%s\":1}}",
		 name);
	client_send(&cl, frame);
	err = json_object_get(client_last(&cl), "error");
	assert_non_null(json_string_value(json_object_get(err, "message")));
	assert_int_equal(cl.close_code, 1008);
	assert_true(strlen(cl.close_reason) > 100);
	assert_int_equal(str_utf8_prefix(cl.close_reason, strlen(cl.close_reason)),
			 strlen(cl.close_reason));
	client_free(&cl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handshake_and_health, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_agents_list_bad_params, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_messages_cut_at_characters, fx_setup,
						fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
