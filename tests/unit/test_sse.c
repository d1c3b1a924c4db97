/*
 * test_sse.c - the SSE and NDJSON stream parsers (src/net/sse.c).
 *
 * Every input is parsed whole, one byte at a time, and split at every
 * possible point into two and three chunks; all of them must give the same
 * events, since a network hands over chunks with arbitrary boundaries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "net/sse.h"

/* ==== helpers ==== */

/* What one parse produced: events as "type|data;" and the return codes. */
struct result {
	struct buf log;
	int rc;     /* first nonzero sse_feed / ndjson_feed return, else 0 */
	int err;    /* errno after rc == -1 */
	int finish; /* sse_finish / ndjson_finish */
	char last_id[256];
	long retry_ms;
	int stop_after; /* the callback returns 9 on this event (1-based); 0: never */
	int count;
};

static int on_event(void *ud, const char *event, const char *data, size_t len)
{
	struct result *r = ud;

	/* The promises of the header: NUL-terminated data, no line ends in the type. */
	assert_int_equal(data[len], '\0');
	assert_null(strpbrk(event, "\r\n"));
	assert_null(memchr(data, '\r', len));
	buf_printf(&r->log, "%s|", event);
	buf_append(&r->log, data, len);
	buf_putc(&r->log, ';');
	return ++r->count == r->stop_after ? 9 : 0;
}

static int on_line(void *ud, const char *line, size_t len)
{
	struct result *r = ud;

	assert_true(len > 0);
	assert_null(memchr(line, '\n', len));
	buf_append(&r->log, line, len);
	buf_putc(&r->log, ';');
	return ++r->count == r->stop_after ? 9 : 0;
}

/* Parse `in` fed in pieces cut at the offsets in `cuts` (ascending, ncuts of them). */
static void parse_cut(int ndjson, const char *in, size_t n, size_t max, const size_t *cuts,
		      int ncuts, struct result *r)
{
	struct sse_parser sp;
	struct ndjson_parser np;
	size_t at = 0;

	buf_init(&r->log, BUF_UNLIMITED);
	r->rc = 0;
	r->err = 0;
	r->count = 0;
	if (ndjson)
		ndjson_init(&np, max);
	else
		sse_init(&sp, max);
	for (int i = 0; i <= ncuts && !r->rc; i++) {
		size_t end = i < ncuts ? cuts[i] : n;

		errno = 0;
		r->rc = ndjson ? ndjson_feed(&np, in + at, end - at, on_line, r)
			       : sse_feed(&sp, in + at, end - at, on_event, r);
		r->err = errno;
		at = end;
	}
	if (ndjson) {
		r->finish = r->rc ? 0 : ndjson_finish(&np, on_line, r);
		ndjson_release(&np);
	} else {
		r->finish = r->rc ? 0 : sse_finish(&sp);
		memcpy(r->last_id, sp.last_id, sizeof(r->last_id));
		r->retry_ms = sp.retry_ms;
		sse_release(&sp);
	}
}

static void assert_same(const struct result *a, const struct result *b)
{
	assert_string_equal(a->log.p, b->log.p);
	assert_int_equal(a->rc, b->rc);
	if (a->rc == -1)
		assert_int_equal(b->err, E2BIG);
	assert_int_equal(a->finish, b->finish);
	assert_string_equal(a->last_id, b->last_id);
	assert_int_equal(a->retry_ms, b->retry_ms);
}

/*
 * Parse whole, byte by byte, at every 2-way split and (for short inputs)
 * every 3-way split; all must agree. Leaves the whole-buffer result in *out
 * (release out->log).
 */
static void parse_all(int ndjson, const char *in, size_t n, size_t max, struct result *out)
{
	struct result r = { 0 };
	size_t *cuts = malloc((n + 2) * sizeof(*cuts));

	parse_cut(ndjson, in, n, max, NULL, 0, out);

	for (size_t i = 0; i < n; i++)
		cuts[i] = i + 1;
	r.stop_after = out->stop_after;
	parse_cut(ndjson, in, n, max, cuts, n ? (int)n - 1 : 0, &r);
	assert_same(out, &r);
	buf_release(&r.log);

	for (size_t i = 0; i <= n; i++) {
		cuts[0] = i;
		parse_cut(ndjson, in, n, max, cuts, 1, &r);
		assert_same(out, &r);
		buf_release(&r.log);
	}
	if (n <= 80) {
		for (size_t i = 0; i <= n; i++)
			for (size_t j = i; j <= n; j++) {
				cuts[0] = i;
				cuts[1] = j;
				parse_cut(ndjson, in, n, max, cuts, 2, &r);
				assert_same(out, &r);
				buf_release(&r.log);
			}
	}
	free(cuts);
}

/* Events of `in` (parsed every way) must be `expect`; returns sse_finish's result. */
static int sse_expect_n(const char *in, size_t n, size_t max, const char *expect)
{
	struct result r = { 0 };
	int finish;

	parse_all(0, in, n, max, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.log.p, expect);
	finish = r.finish;
	buf_release(&r.log);
	return finish;
}

static int sse_expect(const char *in, const char *expect)
{
	return sse_expect_n(in, strlen(in), 1 << 20, expect);
}

/* ==== SSE ==== */

static void test_sse_basic(void **state)
{
	assert_int_equal(sse_expect("data: hello\n\n", "|hello;"), 0);
	assert_int_equal(sse_expect("event: add\ndata: 1\n\n", "add|1;"), 0);
	assert_int_equal(sse_expect("data: a\n\ndata: b\n\n", "|a;|b;"), 0);
	/* Nothing but blank lines: no events. */
	assert_int_equal(sse_expect("\n\n\r\n\r\r", ""), 0);
	assert_int_equal(sse_expect("", ""), 0);
}

static void test_sse_data_lines_joined(void **state)
{
	sse_expect("data: a\ndata: b\ndata: c\n\n", "|a\nb\nc;");
	/* Empty data lines count, and give empty lines in the result. */
	sse_expect("data:\n\n", "|;");
	sse_expect("data\n\n", "|;");
	sse_expect("data\ndata\n\n", "|\n;");
	sse_expect("data: a\ndata:\n\n", "|a\n;");
	sse_expect("data:\ndata: b\n\n", "|\nb;");
	/* JSON spread over lines, as some servers send it. */
	sse_expect("data: {\ndata: \"k\": 1\ndata: }\n\n", "|{\n\"k\": 1\n};");
}

static void test_sse_one_space_removed(void **state)
{
	sse_expect("data:x\n\n", "|x;");
	sse_expect("data: x\n\n", "|x;");
	sse_expect("data:  x\n\n", "| x;");
	sse_expect("data: x \n\n", "|x ;");
	sse_expect("data:\tx\n\n", "|\tx;");
	sse_expect("event:  t\ndata: x\n\n", " t|x;");
	/* Only the first colon separates. */
	sse_expect("data: a: b\n\n", "|a: b;");
	sse_expect("data::\n\n", "|:;");
}

static void test_sse_line_ends(void **state)
{
	sse_expect("data: a\r\rdata: b\r\n\r\ndata: c\n\n", "|a;|b;|c;");
	sse_expect("data: a\rdata: b\r\r", "|a\nb;");
	sse_expect("data: a\r\ndata: b\r\n\r\n", "|a\nb;");
	/* LF CR is two line ends, not one. */
	sse_expect("data: a\n\rdata: b\n\n", "|a;|b;");
	/* CR LF LF: the CR LF is one line end, the LF a blank line. */
	sse_expect("data: a\r\n\ndata: b\n\n", "|a;|b;");
}

/* A CR ending one chunk and the LF starting the next are one line end. */
static void test_sse_cr_at_chunk_end(void **state)
{
	struct sse_parser p;
	struct result r = { 0 };

	buf_init(&r.log, BUF_UNLIMITED);
	sse_init(&p, 1024);
	assert_int_equal(sse_feed(&p, "data: a\r", 8, on_event, &r), 0);
	assert_true(p.last_cr);
	assert_int_equal(sse_feed(&p, "", 0, on_event, &r), 0);
	assert_true(p.last_cr); /* an empty chunk changes nothing */
	assert_int_equal(sse_feed(&p, "\n", 1, on_event, &r), 0);
	assert_string_equal(r.log.p, ""); /* the LF was not a blank line */
	assert_int_equal(sse_feed(&p, "data: b\r", 8, on_event, &r), 0);
	assert_int_equal(sse_feed(&p, "\n\r", 2, on_event, &r), 0);
	assert_string_equal(r.log.p, "|a\nb;");
	/* A CR ending a chunk followed by a CR: a blank line. */
	assert_int_equal(sse_feed(&p, "data: c\r", 8, on_event, &r), 0);
	assert_int_equal(sse_feed(&p, "\r", 1, on_event, &r), 0);
	assert_string_equal(r.log.p, "|a\nb;|c;");
	assert_int_equal(sse_finish(&p), 0);
	sse_release(&p);
	buf_release(&r.log);
}

static void test_sse_bom(void **state)
{
	sse_expect("\xEF\xBB\xBF"
		   "data: x\n\n",
		   "|x;");
	sse_expect("\xEF\xBB\xBF\n"
		   "data: x\n\n",
		   "|x;");
	/* Only one BOM, only at the start. */
	sse_expect("\xEF\xBB\xBF\xEF\xBB\xBF"
		   "data: x\n\n",
		   "");
	sse_expect("data: x\n\n\xEF\xBB\xBF"
		   "data: y\n\n",
		   "|x;");
	/* A BOM prefix that is not a BOM is part of the first line. */
	sse_expect("\xEF\xBB"
		   "data: x\n\n",
		   "");
	sse_expect("\xEF\xBB\n"
		   "data: x\n\n",
		   "|x;");
	sse_expect_n("\xEF\xBB\xBF", 3, 1 << 20, "");
}

static void test_sse_event_type(void **state)
{
	/* The type is reset after a dispatch... */
	sse_expect("event: a\ndata: 1\n\ndata: 2\n\n", "a|1;|2;");
	/* ...and after a blank line that dispatched nothing. */
	sse_expect("event: a\n\ndata: 2\n\n", "|2;");
	/* The last one wins; an empty one gives the default. */
	sse_expect("event: a\nevent: b\ndata: 1\n\n", "b|1;");
	sse_expect("event: a\nevent\ndata: 1\n\n", "|1;");
	/* Order of fields within an event does not matter. */
	sse_expect("data: 1\nevent: late\n\n", "late|1;");
}

static void test_sse_no_data_no_event(void **state)
{
	sse_expect("event: ping\n\n", "");
	sse_expect("id: 3\n\n", "");
	sse_expect("retry: 10\n\n", "");
	sse_expect("event: ping\n\ndata: x\n\n", "|x;");
}

static void test_sse_comments_and_unknown(void **state)
{
	sse_expect(": ping\n\n", "");
	sse_expect(":\n\n", "");
	sse_expect(": hi\ndata: x\n: mid\ndata: y\n\n", "|x\ny;");
	sse_expect("foo: bar\ndata: x\n\n", "|x;");
	/* Field names are case-sensitive and exact. */
	sse_expect("Data: x\n\n", "");
	sse_expect("data : x\n\n", "");
	sse_expect("datax: x\n\n", "");
	sse_expect(" data: x\n\n", "");
}

static void test_sse_id_retry(void **state)
{
	struct result r = { 0 };
	char longid[400];
	static const char nul_id[] = "id: 1\ndata: a\n\nid: x\0y\ndata: b\n\n";

	parse_all(0, "id: 42\ndata: x\n\n", 16, 1024, &r);
	assert_string_equal(r.last_id, "42");
	assert_int_equal(r.retry_ms, -1);
	buf_release(&r.log);

	/* An id with NUL is ignored; an empty one clears. */
	parse_all(0, nul_id, sizeof(nul_id) - 1, 1024, &r);
	assert_string_equal(r.log.p, "|a;|b;");
	assert_string_equal(r.last_id, "1");
	buf_release(&r.log);
	parse_all(0, "id: 1\nid\n", 9, 1024, &r);
	assert_string_equal(r.last_id, "");
	buf_release(&r.log);

	/* Too long for the buffer: ignored, not cut short. */
	memset(longid, 'i', sizeof(longid));
	memcpy(longid, "id: 7\nid: ", 10);
	longid[300] = '\n';
	parse_all(0, longid, 301, 1024, &r);
	assert_string_equal(r.last_id, "7");
	buf_release(&r.log);

	parse_all(0, "retry: 1500\n", 12, 1024, &r);
	assert_int_equal(r.retry_ms, 1500);
	buf_release(&r.log);
	parse_all(0, "retry: 100\nretry: 15x\nretry: -1\nretry:\nretry: 1 \n", 49, 1024, &r);
	assert_int_equal(r.retry_ms, 100);
	buf_release(&r.log);
	parse_all(0, "retry:0\n", 8, 1024, &r);
	assert_int_equal(r.retry_ms, 0);
	buf_release(&r.log);
	/* Absurdly large: clamped, not wrapped. */
	parse_all(0, "retry: 99999999999999999999999999\n", 34, 1024, &r);
	assert_true(r.retry_ms > 0);
	buf_release(&r.log);
}

static void test_sse_nul_in_data(void **state)
{
	static const char in[] = "data: a\0b\n\n";
	struct result r = { 0 };

	parse_all(0, in, sizeof(in) - 1, 1024, &r);
	assert_int_equal(r.log.len, 5);
	assert_memory_equal(r.log.p, "|a\0b;", 5);
	buf_release(&r.log);
}

static void test_sse_caps(void **state)
{
	struct result r = { 0 };
	/* Exactly at the cap (16): fine. */
	sse_expect_n("data: 0123456789\n\n", 18, 16, "|0123456789;");
	sse_expect_n("data:0123456789abcdef\n\n", 23, 21, "|0123456789abcdef;");

	/* A line past the cap. */
	parse_all(0, "data: 0123456789abcdef\n\n", 24, 16, &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err, E2BIG);
	assert_string_equal(r.log.p, "");
	buf_release(&r.log);

	/* A line past the cap that never ends. */
	parse_all(0, "data: 0123456789abcdefghij", 26, 16, &r);
	assert_int_equal(r.rc, -1);
	buf_release(&r.log);

	/* Joined data past the cap (8 + 1 + 8 > 16), after a good event. */
	parse_all(0, "data: ok\n\ndata: 01234567\ndata: 01234567\n\n", 41, 16, &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err, E2BIG);
	assert_string_equal(r.log.p, "|ok;");
	buf_release(&r.log);
	/* 8 + 1 + 7 = 16: fits. */
	sse_expect_n("data: 01234567\ndata: 0123456\n\n", 30, 16, "|01234567\n0123456;");

	/* Many small lines never grow the line buffer past the cap. */
	{
		struct buf big;

		buf_init(&big, BUF_UNLIMITED);
		for (int i = 0; i < 1000; i++)
			buf_puts(&big, "data: x\n");
		buf_puts(&big, "\n");
		parse_cut(0, big.p, big.len, 100, NULL, 0, &r);
		assert_int_equal(r.rc, -1);
		buf_release(&r.log);
		buf_release(&big);
	}
}

static void test_sse_callback_stops(void **state)
{
	struct result r = { .stop_after = 2 };

	parse_all(0, "data: 1\n\ndata: 2\n\ndata: 3\n\n", 27, 1024, &r);
	assert_int_equal(r.rc, 9);
	assert_string_equal(r.log.p, "|1;|2;");
	buf_release(&r.log);
}

static void test_sse_finish_reports_cut(void **state)
{
	/* A complete stream. */
	assert_int_equal(sse_expect("data: x\n\n", "|x;"), 0);
	assert_int_equal(sse_expect(": ping\n\n", ""), 0);
	/* Data seen, no blank line: the event is discarded and reported. */
	assert_int_equal(sse_expect("data: x\n", ""), 1);
	assert_int_equal(sse_expect("data: x\r", ""), 1);
	assert_int_equal(sse_expect("data: a\n\ndata: b", "|a;"), 1);
	assert_int_equal(sse_expect("event: done\n", ""), 1);
	/* A half-received comment loses nothing. */
	assert_int_equal(sse_expect("data: a\n\n: keep-al", "|a;"), 0);
}

static void test_sse_reuse_after_finish(void **state)
{
	struct sse_parser p;
	struct result r = { 0 };

	buf_init(&r.log, BUF_UNLIMITED);
	sse_init(&p, 0);
	assert_int_equal(sse_feed(&p, "data: cut", 9, on_event, &r), 0);
	assert_int_equal(sse_finish(&p), 1);
	assert_int_equal(sse_feed(&p,
				  "\xEF\xBB\xBF"
				  "data: new\n\n",
				  14, on_event, &r),
			 0);
	assert_string_equal(r.log.p, "|new;");
	assert_int_equal(sse_finish(&p), 0);
	sse_release(&p);
	buf_release(&r.log);
}

static void test_sse_openai_stream(void **state)
{
	static const char in[] =
		"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":"
		"[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
		"data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
		"\"Hi\"}}]}\n\n"
		": OPENROUTER PROCESSING\n\n"
		"data: [DONE]\n\n";
	struct result r = { 0 };

	parse_all(0, in, sizeof(in) - 1, 4096, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.count, 3);
	assert_non_null(strstr(r.log.p, "|{\"id\":\"chatcmpl-1\",\"object\""));
	assert_non_null(strstr(r.log.p, ";|[DONE];"));
	buf_release(&r.log);
}

static void test_sse_anthropic_stream(void **state)
{
	static const char in[] =
		"event: message_start\r\n"
		"data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"role\":"
		"\"assistant\",\"content\":[]}}\r\n\r\n"
		"event: ping\r\ndata: {\"type\": \"ping\"}\r\n\r\n"
		"event: content_block_delta\r\n"
		"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
		"\"text_delta\",\"text\":\"Hello\"}}\r\n\r\n"
		"event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n";
	struct result r = { 0 };

	parse_all(0, in, sizeof(in) - 1, 4096, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.count, 4);
	assert_ptr_equal(strstr(r.log.p, "message_start|{\"type\":\"message_start\""), r.log.p);
	assert_non_null(strstr(r.log.p, ";ping|{\"type\": \"ping\"};"));
	assert_non_null(strstr(r.log.p, ";message_stop|{\"type\":\"message_stop\"};"));
	assert_int_equal(r.finish, 0);
	buf_release(&r.log);
}

/* ==== NDJSON ==== */

static void ndjson_expect(const char *in, size_t max, const char *expect)
{
	struct result r = { 0 };

	parse_all(1, in, strlen(in), max, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.log.p, expect);
	buf_release(&r.log);
}

static void test_ndjson_lines(void **state)
{
	ndjson_expect("{\"a\":1}\n{\"b\":2}\n", 1024, "{\"a\":1};{\"b\":2};");
	ndjson_expect("a\r\nb\r\n", 1024, "a;b;");
	ndjson_expect("\n\n\r\na\n\n", 1024, "a;");
	ndjson_expect("", 1024, "");
	/* Only one CR is stripped, and only at the end; CR alone ends nothing. */
	ndjson_expect("a\r\r\nb\rc\n", 1024, "a\r;b\rc;");
	/* The last line needs no newline (ndjson_finish delivers it). */
	ndjson_expect("a\nlast", 1024, "a;last;");
	ndjson_expect("a\nlast\r", 1024, "a;last;");
}

static void test_ndjson_caps(void **state)
{
	struct result r = { 0 };

	ndjson_expect("0123456789\n", 10, "0123456789;");
	/* The CR counts while the line is buffered, but never passes the cap. */
	ndjson_expect("012345678\r\n", 10, "012345678;");
	parse_all(1, "ok\n0123456789a\n", 15, 10, &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err, E2BIG);
	assert_string_equal(r.log.p, "ok;");
	buf_release(&r.log);
	parse_all(1, "0123456789abc", 13, 10, &r);
	assert_int_equal(r.rc, -1);
	buf_release(&r.log);
}

static void test_ndjson_callback_stops(void **state)
{
	struct result r = { .stop_after = 1 };

	parse_all(1, "a\nb\n", 4, 1024, &r);
	assert_int_equal(r.rc, 9);
	assert_string_equal(r.log.p, "a;");
	buf_release(&r.log);
}

static void test_ndjson_ollama_stream(void **state)
{
	static const char in[] =
		"{\"model\":\"llama3.2\",\"created_at\":\"2026-01-01T00:00:00Z\",\"message\":"
		"{\"role\":\"assistant\",\"content\":\"Hel\"},\"done\":false}\n"
		"{\"model\":\"llama3.2\",\"created_at\":\"2026-01-01T00:00:01Z\",\"message\":"
		"{\"role\":\"assistant\",\"content\":\"lo\"},\"done\":false}\n"
		"{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},"
		"\"done\":true,\"done_reason\":\"stop\",\"eval_count\":2}\n";
	struct result r = { 0 };

	parse_all(1, in, sizeof(in) - 1, 4096, &r);
	assert_int_equal(r.count, 3);
	assert_non_null(strstr(r.log.p, "\"done\":true"));
	buf_release(&r.log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sse_basic),
		cmocka_unit_test(test_sse_data_lines_joined),
		cmocka_unit_test(test_sse_one_space_removed),
		cmocka_unit_test(test_sse_line_ends),
		cmocka_unit_test(test_sse_cr_at_chunk_end),
		cmocka_unit_test(test_sse_bom),
		cmocka_unit_test(test_sse_event_type),
		cmocka_unit_test(test_sse_no_data_no_event),
		cmocka_unit_test(test_sse_comments_and_unknown),
		cmocka_unit_test(test_sse_id_retry),
		cmocka_unit_test(test_sse_nul_in_data),
		cmocka_unit_test(test_sse_caps),
		cmocka_unit_test(test_sse_callback_stops),
		cmocka_unit_test(test_sse_finish_reports_cut),
		cmocka_unit_test(test_sse_reuse_after_finish),
		cmocka_unit_test(test_sse_openai_stream),
		cmocka_unit_test(test_sse_anthropic_stream),
		cmocka_unit_test(test_ndjson_lines),
		cmocka_unit_test(test_ndjson_caps),
		cmocka_unit_test(test_ndjson_callback_stops),
		cmocka_unit_test(test_ndjson_ollama_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
