/*
 * test_http_server.c - the detached WebSocket test seam: a ws handler
 * driven in-process sees accept, open, messages and closed in the order
 * and under the rules of a real socket. (Serving over sockets is covered
 * end to end in tests/e2e.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "net/http_server.h"

/* What the toy handler and the fake peer saw. */
struct rec {
	int refuse; /* accept's answer */
	int opened, messages, closed, closed_code;
	bool last_binary;
	char last[64]; /* last message the handler got */
	char sent[64]; /* last message the peer got */
	int nsent;
	int close_code; /* the handler's close, as the peer saw it */
	char close_reason[128];
	int nclose;
};

static int toy_accept(const struct http_request *req, void *arg, void **conn_arg, const char **msg)
{
	struct rec *r = arg;

	assert_string_equal(req->peer, "::1");
	assert_true(req->peer_loopback);
	assert_null(http_request_header(req, "Origin"));
	if (r->refuse) {
		*msg = "no";
		return r->refuse;
	}
	*conn_arg = r;
	return 0;
}

static void toy_open(struct http_ws *ws, void *arg)
{
	struct rec *r = arg;

	r->opened++;
	assert_int_equal(http_ws_send(ws, "hello", 5), 0);
}

static void toy_message(struct http_ws *ws, void *arg, const char *data, size_t len, bool binary)
{
	struct rec *r = arg;

	r->messages++;
	r->last_binary = binary;
	assert_int_equal(data[len], '\0');
	snprintf(r->last, sizeof(r->last), "%s", data);
	if (!strcmp(data, "bye"))
		http_ws_close(ws, 1000, "bye");
	else if (!strcmp(data, "grow"))
		http_ws_set_max_message(ws, 100);
	else
		http_ws_send(ws, data, len);
}

static void toy_closed(struct http_ws *ws, void *arg, int code)
{
	struct rec *r = arg;

	r->closed++;
	r->closed_code = code;
}

static const struct http_ws_handler toy = {
	.accept = toy_accept,
	.open = toy_open,
	.message = toy_message,
	.closed = toy_closed,
	.max_message = 8,
};

static void peer_send(void *arg, const char *data, size_t len)
{
	struct rec *r = arg;

	r->nsent++;
	snprintf(r->sent, sizeof(r->sent), "%.*s", (int)len, data);
}

static void peer_close(void *arg, int code, const char *reason)
{
	struct rec *r = arg;

	r->nclose++;
	r->close_code = code;
	snprintf(r->close_reason, sizeof(r->close_reason), "%s", reason);
}

static struct http_ws *open_toy(struct rec *r, int *status)
{
	struct http_ws_detached o = {
		.peer = "::1", .loopback = true, .send = peer_send, .close = peer_close, .arg = r
	};

	return http_ws_detached_open(&toy, r, &o, status);
}

static void test_refused(void **state)
{
	struct rec r = { .refuse = 403 };
	int status = 0;

	assert_null(open_toy(&r, &status));
	assert_int_equal(status, 403);
	assert_int_equal(r.opened, 0);
	assert_int_equal(r.closed, 0);
}

static void test_messages_and_answers(void **state)
{
	struct rec r = { 0 };
	struct http_ws *ws = open_toy(&r, NULL);

	assert_non_null(ws);
	assert_int_equal(r.opened, 1);
	assert_string_equal(r.sent, "hello");
	http_ws_detached_message(ws, "ping", 4, false);
	assert_string_equal(r.last, "ping");
	assert_string_equal(r.sent, "ping");
	assert_false(r.last_binary);
	http_ws_detached_message(ws, "bin", 3, true);
	assert_true(r.last_binary);
	assert_int_equal(http_ws_buffered(ws), 0);
	assert_string_equal(http_ws_peer(ws), "::1");
	assert_true(http_ws_loopback(ws));
	http_ws_detached_free(ws, 1001);
	assert_int_equal(r.closed, 1);
	assert_int_equal(r.closed_code, 1001);
	assert_int_equal(r.nclose, 0);
}

static void test_cap_closes_with_1009(void **state)
{
	struct rec r = { 0 };
	struct http_ws *ws = open_toy(&r, NULL);

	http_ws_detached_message(ws, "123456789", 9, false);
	assert_int_equal(r.messages, 0);
	assert_int_equal(r.nclose, 1);
	assert_int_equal(r.close_code, 1009);
	/* Closing: nothing more is delivered, nothing more can be sent. */
	http_ws_detached_message(ws, "ping", 4, false);
	assert_int_equal(r.messages, 0);
	assert_int_equal(http_ws_send(ws, "x", 1), -1);
	http_ws_detached_free(ws, 1009);
	assert_int_equal(r.closed, 1);
}

static void test_raised_cap(void **state)
{
	struct rec r = { 0 };
	struct http_ws *ws = open_toy(&r, NULL);

	http_ws_detached_message(ws, "grow", 4, false);
	http_ws_detached_message(ws, "123456789", 9, false);
	assert_string_equal(r.last, "123456789");
	assert_int_equal(r.nclose, 0);
	http_ws_detached_free(ws, 1000);
}

static void test_close_once_and_truncated(void **state)
{
	struct rec r = { 0 };
	struct http_ws *ws = open_toy(&r, NULL);
	char reason[301];

	http_ws_detached_message(ws, "bye", 3, false);
	assert_int_equal(r.nclose, 1);
	assert_int_equal(r.close_code, 1000);
	assert_string_equal(r.close_reason, "bye");
	memset(reason, 'x', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	http_ws_close(ws, 1008, reason); /* idempotent: ignored */
	assert_int_equal(r.nclose, 1);
	http_ws_detached_free(ws, 1000);
	assert_int_equal(r.closed, 1);

	memset(&r, 0, sizeof(r));
	ws = open_toy(&r, NULL);
	http_ws_close(ws, 1008, reason);
	assert_int_equal(strlen(r.close_reason), 123);
	http_ws_detached_free(ws, 1006);

	/* 'é' is two bytes: the 62nd would end at byte 124, so the cut falls before it. */
	memset(&r, 0, sizeof(r));
	ws = open_toy(&r, NULL);
	reason[0] = '\0';
	for (int i = 0; i < 100; i++)
		strcat(reason, "\xc3\xa9");
	http_ws_close(ws, 1008, reason);
	assert_int_equal(strlen(r.close_reason), 122);
	http_ws_detached_free(ws, 1006);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_messages_and_answers),
		cmocka_unit_test(test_cap_closes_with_1009),
		cmocka_unit_test(test_raised_cap),
		cmocka_unit_test(test_close_once_and_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
