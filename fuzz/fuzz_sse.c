/*
 * fuzz_sse.c - libFuzzer target for the Server-Sent Events parser.
 *
 * The input is one event stream. It is parsed three ways: whole, in
 * chunks whose sizes come from the input's own bytes, and one byte at a
 * time; the events, the return codes, sse_finish's verdict, the last id and
 * the retry value must all agree, since the network may cut a stream
 * anywhere. Each event is checked for the parser's promises (data
 * NUL-terminated and within the cap, no CR in the data, no line end in the
 * type). The cap itself comes from the first byte, so that small caps and
 * their E2BIG paths are reached too.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "net/sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	struct buf log;
	size_t max;
	int rc, err, finish;
	char last_id[256];
	long retry_ms;
};

static int on_event(void *ud, const char *event, const char *data, size_t len)
{
	struct run *r = ud;
	size_t elen = strlen(event);

	if (data[len] != '\0' || len > r->max || elen > r->max || memchr(data, '\r', len) ||
	    strpbrk(event, "\r\n"))
		abort();
	/* Lengths first, so that no two different event lists log the same. */
	buf_printf(&r->log, "%zu:%zu:", elen, len);
	buf_append(&r->log, event, elen);
	buf_append(&r->log, data, len);
	return 0;
}

/* step == 0: chunk sizes from the input itself; otherwise fixed steps. */
static void parse(const uint8_t *in, size_t n, size_t max, size_t step, struct run *r)
{
	struct sse_parser p;
	size_t at = 0, k = 0;

	buf_init(&r->log, BUF_UNLIMITED);
	r->max = max;
	r->rc = 0;
	r->finish = 0;
	sse_init(&p, max);
	while (at < n && !r->rc) {
		size_t len = step ? step : (size_t)in[k++ % n] % 17;

		/* An empty chunk now and then must change nothing. */
		if (!len) {
			if (sse_feed(&p, (const char *)in + at, 0, on_event, r))
				abort();
			len = 1;
		}

		if (len > n - at)
			len = n - at;
		errno = 0;
		r->rc = sse_feed(&p, (const char *)in + at, len, on_event, r);
		r->err = errno;
		at += len;
	}
	if (!r->rc)
		r->finish = sse_finish(&p);
	memcpy(r->last_id, p.last_id, sizeof(r->last_id));
	r->retry_ms = p.retry_ms;
	if (strlen(p.last_id) >= sizeof(p.last_id))
		abort();
	sse_release(&p);
}

static void same(const struct run *a, const struct run *b)
{
	if (a->log.len != b->log.len || memcmp(a->log.p, b->log.p, a->log.len) != 0 ||
	    a->rc != b->rc || a->finish != b->finish || strcmp(a->last_id, b->last_id) != 0 ||
	    a->retry_ms != b->retry_ms)
		abort();
	if (a->rc == -1 && (a->err != E2BIG || b->err != E2BIG))
		abort();
	if (a->rc != 0 && a->rc != -1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run whole, chunked, bytes;
	size_t max = size && data[0] % 4 == 0 ? 8 + data[0] % 64 : 1 << 16;

	parse(data, size, max, size ? size : 1, &whole);
	parse(data, size, max, 0, &chunked);
	parse(data, size, max, 1, &bytes);
	same(&whole, &chunked);
	same(&whole, &bytes);
	buf_release(&whole.log);
	buf_release(&chunked.log);
	buf_release(&bytes.log);
	return 0;
}
