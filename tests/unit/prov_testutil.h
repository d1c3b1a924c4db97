/*
 * prov_testutil.h - what the provider tests share: a sink that records
 * everything, a model, and running canned wire bytes through the driver's
 * test seam both whole and one byte at a time (the two must agree).
 */
#ifndef PINCER_TESTS_PROV_TESTUTIL_H
#define PINCER_TESTS_PROV_TESTUTIL_H

#include <string.h>

#include "core/buf.h"
#include "core/jsonx.h"
#include "net/http_client.h"
#include "providers/provider.h"

struct rec {
	struct buf text, thinking;
	json_t *tools; /* toolCall blocks as the sink saw them */
	json_t *msg;   /* the done message */
	struct prov_error err;
	bool failed;
	int done_calls;
};

static void rec_text(void *ud, const char *s, size_t n)
{
	buf_append(&((struct rec *)ud)->text, s, n);
}

static void rec_thinking(void *ud, const char *s, size_t n)
{
	buf_append(&((struct rec *)ud)->thinking, s, n);
}

static void rec_tool(void *ud, const json_t *blk)
{
	json_array_append_new(((struct rec *)ud)->tools, json_deep_copy(blk));
}

static void rec_done(void *ud, json_t *msg, const struct prov_error *err)
{
	struct rec *r = ud;
	json_decref(r->msg);
	r->msg = msg;
	r->done_calls++;
	r->failed = err != NULL;
	if (err)
		r->err = *err;
}

static const struct prov_sink rec_sink = { rec_text, rec_thinking, rec_tool, rec_done };

static inline void rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->text, BUF_UNLIMITED);
	buf_init(&r->thinking, BUF_UNLIMITED);
	r->tools = json_array();
}

static inline void rec_release(struct rec *r)
{
	buf_release(&r->text);
	buf_release(&r->thinking);
	json_decref(r->tools);
	json_decref(r->msg);
	memset(r, 0, sizeof(*r));
}

/* A model of `api` named "prov"/"m1" at http://fake/v1. */
static inline struct prov_model pt_model(const char *api)
{
	struct prov_model m = {
		.provider = (char *)"prov",
		.id = (char *)"m1",
		.name = (char *)"m1",
		.api = (char *)api,
		.base_url = (char *)"http://fake/v1",
		.auth_header = true,
	};
	return m;
}

/* Feed `wire` in `chunk`-byte pieces (0: whole), then end with `result`. */
static inline void pt_feed(const struct prov_request *rq, const struct prov_ops *ops, long status,
			   const char *wire, size_t chunk, int result, struct rec *r)
{
	struct prov_stream *st = prov_stream_test_new(rq, ops, &rec_sink, r);
	size_t len = strlen(wire);
	if (status != 200)
		prov_stream_test_status(st, status);
	if (!chunk)
		chunk = len ? len : 1;
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		if (prov_stream_test_feed(st, wire + off, n))
			break; /* the transfer would stop here */
	}
	prov_stream_test_end(st, result, NULL, NULL);
}

/*
 * Run `wire` whole into `r`, and byte-at-a-time into a second recorder
 * that must end with the same message (timestamps aside) and deltas.
 */
static inline void pt_run(const struct prov_request *rq, const struct prov_ops *ops,
			  const char *wire, int result, struct rec *r)
{
	struct rec b;
	rec_init(r);
	rec_init(&b);
	pt_feed(rq, ops, 200, wire, 0, result, r);
	pt_feed(rq, ops, 200, wire, 1, result, &b);
	assert_int_equal(r->done_calls, 1);
	assert_int_equal(b.done_calls, 1);
	json_object_del(r->msg, "timestamp");
	json_object_del(b.msg, "timestamp");
	if (!json_equal(r->msg, b.msg)) {
		char *x = json_dumps(r->msg, 0), *y = json_dumps(b.msg, 0);
		fprintf(stderr, "whole:  %s\nbytes:  %s\n", x, y);
		free(x);
		free(y);
		fail();
	}
	assert_string_equal(r->text.p, b.text.p);
	assert_string_equal(r->thinking.p, b.thinking.p);
	assert_true(json_equal(r->tools, b.tools));
	assert_int_equal(r->failed, b.failed);
	rec_release(&b);
}

static inline const char *pt_str(const json_t *j, const char *path)
{
	return json_string_value(jpath_get((json_t *)j, path));
}

static inline long long pt_int(const json_t *j, const char *path)
{
	return json_integer_value(jpath_get((json_t *)j, path));
}

/* Load a JSON literal for a test (aborts on a typo in the test itself). */
static inline json_t *pt_json(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);
	if (!j) {
		fprintf(stderr, "bad test JSON: %s at %d\n", e.text, e.column);
		abort();
	}
	return j;
}

#endif
