/*
 * sse.c - incremental Server-Sent Events and NDJSON parsers; see sse.h.
 *
 * The SSE side follows the WHATWG HTML "interpreting an event stream"
 * algorithm step by step. Bytes are passed through undecoded: the callers
 * parse JSON out of `data`, which rejects invalid UTF-8 itself, so there is
 * no need to pay for a replacement-character pass here.
 */
#include "net/sse.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Buffers larger than this are given back after an event, not kept for the next. */
#define SSE_KEEP_BYTES (64 * 1024)

/* ==== Server-Sent Events ==== */

void sse_init(struct sse_parser *p, size_t max_event_bytes)
{
	size_t max = max_event_bytes ? max_event_bytes : SSE_DEFAULT_MAX;

	buf_init(&p->line, max);
	buf_init(&p->data, max);
	buf_init(&p->event, max);
	p->has_data = false;
	p->bom_checked = false;
	p->last_cr = false;
	p->last_id[0] = '\0';
	p->retry_ms = -1;
}

void sse_release(struct sse_parser *p)
{
	buf_release(&p->line);
	buf_release(&p->data);
	buf_release(&p->event);
	p->has_data = false;
	p->last_cr = false;
}

static void sse_trim(struct buf *b)
{
	if (b->cap > SSE_KEEP_BYTES)
		buf_release(b);
	else
		buf_reset(b);
}

/* A blank line: dispatch the event being built, if it has data. */
static int sse_dispatch(struct sse_parser *p, sse_event_fn fn, void *ud)
{
	int rc = 0;

	if (p->has_data)
		rc = fn(ud, p->event.p, p->data.p, p->data.len);
	sse_trim(&p->data);
	sse_trim(&p->event);
	p->has_data = false;
	return rc;
}

static bool sse_name_is(const char *name, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(name, want, n) == 0;
}

static int sse_too_big(void)
{
	errno = E2BIG;
	return -1;
}

/* One complete line, without its line end. */
static int sse_line(struct sse_parser *p, const char *s, size_t n, sse_event_fn fn, void *ud)
{
	const char *colon, *value;
	size_t namelen, vlen;

	if (n == 0)
		return sse_dispatch(p, fn, ud);
	if (s[0] == ':')
		return 0; /* comment, e.g. a keep-alive ": ping" */
	colon = memchr(s, ':', n);
	namelen = colon ? (size_t)(colon - s) : n;
	value = colon ? colon + 1 : s + n;
	vlen = n - (size_t)(value - s);
	if (vlen && *value == ' ') {
		value++;
		vlen--;
	}

	if (sse_name_is(s, namelen, "data")) {
		/* Joining with "\n" before each later line equals the spec's
		 * append-LF-then-strip-the-last-one, without the strip. */
		if (p->has_data && vlen >= p->data.max - p->data.len)
			return sse_too_big();
		if (p->has_data)
			buf_putc(&p->data, '\n');
		if (buf_append(&p->data, value, vlen) < 0)
			return -1;
		p->has_data = true;
	} else if (sse_name_is(s, namelen, "event")) {
		buf_reset(&p->event);
		if (buf_append(&p->event, value, vlen) < 0)
			return -1;
	} else if (sse_name_is(s, namelen, "id")) {
		/* The spec ignores an id holding NUL; one too long for the
		 * fixed buffer is ignored too rather than stored cut short. */
		if (!memchr(value, '\0', vlen) && vlen < sizeof(p->last_id)) {
			memcpy(p->last_id, value, vlen);
			p->last_id[vlen] = '\0';
		}
	} else if (sse_name_is(s, namelen, "retry")) {
		long ms = 0;
		size_t i;

		for (i = 0; i < vlen && value[i] >= '0' && value[i] <= '9'; i++)
			ms = ms > (LONG_MAX - 9) / 10 ? LONG_MAX : ms * 10 + (value[i] - '0');
		if (vlen && i == vlen)
			p->retry_ms = ms;
	}
	/* Any other field name is ignored. */
	return 0;
}

/* Index of the first CR or LF in s[0..n), or n. */
static size_t sse_eol(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '\n' || s[i] == '\r')
			break;
	return i;
}

int sse_feed(struct sse_parser *p, const char *data, size_t len, sse_event_fn fn, void *ud)
{
	static const char bom[] = "\xEF\xBB\xBF";
	size_t i = 0;

	/* The BOM may itself arrive split; its matched prefix waits in
	 * p->line, where it is the start of the first line on a mismatch. */
	while (!p->bom_checked && i < len) {
		if (data[i] != bom[p->line.len]) {
			p->bom_checked = true;
			break;
		}
		if (buf_putc(&p->line, data[i++]) < 0)
			return -1;
		if (p->line.len == 3) {
			buf_reset(&p->line);
			p->bom_checked = true;
		}
	}
	if (p->last_cr && i < len) {
		p->last_cr = false;
		if (data[i] == '\n')
			i++;
	}

	while (i < len) {
		const char *s = data + i;
		size_t k = sse_eol(s, len - i);
		int rc;

		if (k == len - i) {
			if (buf_append(&p->line, s, k) < 0)
				return -1;
			break;
		}
		i += k + 1;
		if (s[k] == '\r') {
			if (i == len)
				p->last_cr = true;
			else if (data[i] == '\n')
				i++;
		}
		if (p->line.len) {
			if (buf_append(&p->line, s, k) < 0)
				return -1;
			rc = sse_line(p, p->line.p, p->line.len, fn, ud);
			sse_trim(&p->line);
		} else {
			/* The whole line is in this chunk: parse it in place. */
			if (k > p->line.max)
				return sse_too_big();
			rc = sse_line(p, s, k, fn, ud);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int sse_finish(struct sse_parser *p)
{
	bool cut = p->has_data || p->event.len || (p->line.len && p->line.p[0] != ':');

	sse_trim(&p->line);
	sse_trim(&p->data);
	sse_trim(&p->event);
	p->has_data = false;
	p->last_cr = false;
	p->bom_checked = false; /* a reconnection's stream may start with a BOM again */
	return cut ? 1 : 0;
}

/* ==== NDJSON ==== */

void ndjson_init(struct ndjson_parser *p, size_t max_line_bytes)
{
	buf_init(&p->line, max_line_bytes ? max_line_bytes : SSE_DEFAULT_MAX);
}

void ndjson_release(struct ndjson_parser *p)
{
	buf_release(&p->line);
}

static int ndjson_line(const char *s, size_t n, ndjson_line_fn fn, void *ud)
{
	if (n && s[n - 1] == '\r')
		n--;
	return n ? fn(ud, s, n) : 0;
}

int ndjson_feed(struct ndjson_parser *p, const char *data, size_t len, ndjson_line_fn fn, void *ud)
{
	size_t i = 0;

	while (i < len) {
		const char *s = data + i;
		const char *nl = memchr(s, '\n', len - i);
		size_t k = nl ? (size_t)(nl - s) : len - i;
		int rc;

		if (!nl) {
			if (buf_append(&p->line, s, k) < 0)
				return -1;
			break;
		}
		i += k + 1;
		if (p->line.len) {
			if (buf_append(&p->line, s, k) < 0)
				return -1;
			rc = ndjson_line(p->line.p, p->line.len, fn, ud);
			if (p->line.cap > SSE_KEEP_BYTES)
				buf_release(&p->line);
			else
				buf_reset(&p->line);
		} else {
			if (k > p->line.max) {
				errno = E2BIG;
				return -1;
			}
			rc = ndjson_line(s, k, fn, ud);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int ndjson_finish(struct ndjson_parser *p, ndjson_line_fn fn, void *ud)
{
	int rc = ndjson_line(p->line.p, p->line.len, fn, ud);

	buf_release(&p->line);
	return rc;
}
