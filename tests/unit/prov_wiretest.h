/*
 * prov_wiretest.h - what the unit tests of one provider's wire format share
 * (test_prov_anthropic.c, test_prov_gemini.c): JSON comparison, the request
 * build() makes as parsed JSON, a recording sink, and run() that feeds a
 * canned stream through the driver's test seam whole or `step` bytes at a
 * time. The including file defines, before including this:
 *
 *	#define WT_OPS   prov_anthropic              the ops under test
 *	#define WT_MODEL model_sonnet                a function returning its model
 *	#define WT_KEY   "sk-ant-test"               the API key requests carry
 */
#ifndef PINCER_TESTS_PROV_WIRETEST_H
#define PINCER_TESTS_PROV_WIRETEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jsonx.h"
#include "core/mem.h"
#include "net/http_client.h"
#include "providers/provider.h"

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	if (!v)
		fail_msg("bad test JSON '%s': %s", text, e.text);
	return v;
}

static void assert_json(const json_t *v, const char *expect)
{
	json_t *want = parse(expect);
	bool same = json_equal((json_t *)v, want);

	json_decref(want);
	if (!same) {
		char *got = v ? json_dump_str(v, JSON_COMPACT | JSON_SORT_KEYS) : xstrdup("(null)");

		print_error("got  %s\nwant %s\n", got, expect);
		free(got);
		fail();
	}
}

struct built {
	char *url;
	json_t *headers; /* {lowercased name: value} */
	json_t *body;
};

static void built_free(struct built *b)
{
	free(b->url);
	json_decref(b->headers);
	json_decref(b->body);
}

static struct built build(const struct prov_request *rq)
{
	struct prov_http h;
	struct built b = { 0 };
	char err[256] = "";

	prov_http_init(&h);
	assert_int_equal(WT_OPS.build(rq, &h, err, sizeof(err)), 0);
	b.url = xstrdup(h.url);
	b.headers = json_object();
	for (size_t i = 0; i < h.nheaders; i++) {
		char *name = xstrdup(h.headers[i]), *colon = strchr(name, ':');

		assert_non_null(colon);
		*colon = '\0';
		for (char *p = name; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		/* a header twice would be a bug: the second one must not exist */
		assert_null(json_object_get(b.headers, name));
		json_object_set_new(b.headers, name, json_string(colon + 2));
		free(name);
	}
	b.body = parse(h.body.p);
	prov_http_release(&h);
	return b;
}

static struct prov_request request(const struct prov_model *m, json_t *messages)
{
	struct prov_request rq = {
		.model = m,
		.api_key = WT_KEY,
		.messages = messages,
	};
	return rq;
}

/* What the sink saw. */
struct seen {
	struct buf text, thinking;
	json_t *tools;
	json_t *message;
	struct prov_error err;
	bool has_err;
	int done;
};

static void on_text(void *ud, const char *d, size_t n)
{
	buf_append(&((struct seen *)ud)->text, d, n);
}

static void on_thinking(void *ud, const char *d, size_t n)
{
	buf_append(&((struct seen *)ud)->thinking, d, n);
}

static void on_tool(void *ud, const json_t *blk)
{
	json_array_append(((struct seen *)ud)->tools, (json_t *)blk);
}

static void on_done(void *ud, json_t *message, const struct prov_error *err)
{
	struct seen *s = ud;

	s->done++;
	s->message = message;
	if (err) {
		s->err = *err;
		s->has_err = true;
	}
}

static const struct prov_sink sink = { on_text, on_thinking, on_tool, on_done };

static void seen_init(struct seen *s)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->text, BUF_UNLIMITED);
	buf_init(&s->thinking, BUF_UNLIMITED);
	s->tools = json_array();
}

static void seen_release(struct seen *s)
{
	buf_release(&s->text);
	buf_release(&s->thinking);
	json_decref(s->tools);
	json_decref(s->message);
}

/* Feed `body` whole (step 0) or `step` bytes at a time, then end the transfer. */
static void run(struct seen *s, long status, const char *body, size_t step)
{
	struct prov_model m = WT_MODEL();
	struct prov_request rq = request(&m, NULL);
	struct prov_stream *st;
	size_t len = strlen(body), off = 0;

	seen_init(s);
	st = prov_stream_test_new(&rq, &WT_OPS, &sink, s);
	if (status != 200)
		prov_stream_test_status(st, status);
	if (!step)
		step = len ? len : 1;
	while (off < len) {
		size_t n = len - off < step ? len - off : step;

		if (prov_stream_test_feed(st, body + off, n))
			break;
		off += n;
	}
	prov_stream_test_end(st, HTTP_OK, NULL, NULL);
	assert_int_equal(s->done, 1);
	assert_non_null(s->message);
}

#endif
