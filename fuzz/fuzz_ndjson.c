/*
 * fuzz_ndjson.c - libFuzzer target for the NDJSON line splitter.
 *
 * The input is one newline-delimited stream, parsed whole, in chunks whose
 * sizes come from the input, and one byte at a time; the lines and return
 * codes must agree. Every line must be non-empty, within the cap, free of
 * LF and not end in the CR of a CRLF. Its bytes, concatenated, must be the
 * input less line ends and empty lines (checked by rebuilding).
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
	int rc, err;
};

static int on_line(void *ud, const char *line, size_t len)
{
	struct run *r = ud;

	if (!len || len > r->max || memchr(line, '\n', len))
		abort();
	buf_printf(&r->log, "%zu:", len);
	buf_append(&r->log, line, len);
	return 0;
}

static void parse(const uint8_t *in, size_t n, size_t max, size_t step, struct run *r)
{
	struct ndjson_parser p;
	size_t at = 0, k = 0;

	buf_init(&r->log, BUF_UNLIMITED);
	r->max = max;
	r->rc = 0;
	ndjson_init(&p, max);
	while (at < n && !r->rc) {
		size_t len = step ? step : (size_t)in[k++ % n] % 13;

		/* An empty chunk now and then must change nothing. */
		if (!len) {
			if (ndjson_feed(&p, (const char *)in + at, 0, on_line, r))
				abort();
			len = 1;
		}

		if (len > n - at)
			len = n - at;
		errno = 0;
		r->rc = ndjson_feed(&p, (const char *)in + at, len, on_line, r);
		r->err = errno;
		at += len;
	}
	if (!r->rc)
		r->rc = ndjson_finish(&p, on_line, r);
	ndjson_release(&p);
}

/* What the lines must be: split at LF, one trailing CR off, empty ones dropped. */
static void expected(const uint8_t *in, size_t n, struct buf *out)
{
	size_t start = 0;

	buf_init(out, BUF_UNLIMITED);
	for (size_t i = 0; i <= n; i++) {
		if (i < n && in[i] != '\n')
			continue;
		size_t len = i - start;

		if (len && in[start + len - 1] == '\r')
			len--;
		if (len) {
			buf_printf(out, "%zu:", len);
			buf_append(out, in + start, len);
		}
		start = i + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r[3];
	struct buf want;
	size_t max = size && data[0] % 4 == 0 ? 4 + data[0] % 32 : 1 << 16;

	parse(data, size, max, size ? size : 1, &r[0]);
	parse(data, size, max, 0, &r[1]);
	parse(data, size, max, 1, &r[2]);
	for (int i = 1; i < 3; i++)
		if (r[i].rc != r[0].rc || r[i].log.len != r[0].log.len ||
		    memcmp(r[i].log.p, r[0].log.p, r[0].log.len) != 0 ||
		    (r[0].rc == -1 && r[i].err != E2BIG))
			abort();
	if (r[0].rc == 0) {
		expected(data, size, &want);
		if (want.len != r[0].log.len || memcmp(want.p, r[0].log.p, want.len) != 0)
			abort();
		buf_release(&want);
	} else if (r[0].rc != -1) {
		abort();
	}
	for (int i = 0; i < 3; i++)
		buf_release(&r[i].log);
	return 0;
}
