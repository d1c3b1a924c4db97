/*
 * http_client_stub.c - TEMPORARY weak stand-ins for net/http_client.c and
 * net/sse.c so the prov branch links and its tests run before the http
 * branch lands. Every definition is weak: the real ones override them.
 * The lead deletes this file when merging the http branch.
 */
#include <errno.h>
#include <string.h>

#include "net/http_client.h"
#include "net/sse.h"

#define WEAK __attribute__((weak))

WEAK struct http_client *http_client_new(uv_loop_t *loop)
{
	return NULL;
}

WEAK void http_client_free(struct http_client *hc)
{
}

WEAK struct http_xfer *http_client_start(struct http_client *hc, const struct http_request *rq,
					 const struct http_callbacks *cb, void *ud)
{
	return NULL;
}

WEAK void http_xfer_cancel(struct http_xfer *x)
{
}

WEAK const char *http_xfer_header(struct http_xfer *x, const char *name)
{
	return NULL;
}

WEAK long http_xfer_status(const struct http_xfer *x)
{
	return 0;
}

WEAK size_t http_client_active(const struct http_client *hc)
{
	return 0;
}

/* A plain SSE parser (WHATWG event-stream rules), enough for the provider tests. */

WEAK void sse_init(struct sse_parser *p, size_t max_event_bytes)
{
	memset(p, 0, sizeof(*p));
	buf_init(&p->line, max_event_bytes);
	buf_init(&p->data, max_event_bytes);
	buf_init(&p->event, 1024);
	p->retry_ms = -1;
}

WEAK void sse_release(struct sse_parser *p)
{
	buf_release(&p->line);
	buf_release(&p->data);
	buf_release(&p->event);
}

static int stub_sse_line(struct sse_parser *p, sse_event_fn fn, void *ud)
{
	char *l = p->line.p;
	size_t n = p->line.len;
	int rc = 0;
	if (!p->bom_checked) {
		p->bom_checked = true;
		if (n >= 3 && memcmp(l, "\xEF\xBB\xBF", 3) == 0) {
			l += 3;
			n -= 3;
		}
	}
	if (n == 0) {
		if (p->has_data) {
			if (p->data.len && p->data.p[p->data.len - 1] == '\n')
				buf_truncate(&p->data, p->data.len - 1);
			rc = fn(ud, p->event.p, p->data.p, p->data.len);
		}
		buf_reset(&p->data);
		buf_reset(&p->event);
		p->has_data = false;
		goto out;
	}
	if (l[0] == ':')
		goto out;
	char *colon = memchr(l, ':', n);
	size_t fl = colon ? (size_t)(colon - l) : n;
	const char *v = colon ? colon + 1 : l + n;
	size_t vl = colon ? n - fl - 1 : 0;
	if (vl && *v == ' ') {
		v++;
		vl--;
	}
	if (fl == 4 && memcmp(l, "data", 4) == 0) {
		if (buf_append(&p->data, v, vl) < 0 || buf_putc(&p->data, '\n') < 0) {
			errno = E2BIG;
			rc = -1;
		}
		p->has_data = true;
	} else if (fl == 5 && memcmp(l, "event", 5) == 0) {
		buf_reset(&p->event);
		buf_append(&p->event, v, vl);
	}
out:
	buf_reset(&p->line);
	return rc;
}

WEAK int sse_feed(struct sse_parser *p, const char *data, size_t len, sse_event_fn fn, void *ud)
{
	for (size_t i = 0; i < len; i++) {
		char c = data[i];
		if (p->last_cr) {
			p->last_cr = false;
			if (c == '\n')
				continue;
		}
		if (c == '\r' || c == '\n') {
			p->last_cr = c == '\r';
			int rc = stub_sse_line(p, fn, ud);
			if (rc)
				return rc;
			continue;
		}
		if (buf_putc(&p->line, c) < 0) {
			errno = E2BIG;
			return -1;
		}
	}
	return 0;
}

WEAK int sse_finish(struct sse_parser *p)
{
	int cut = p->has_data || p->line.len;
	buf_reset(&p->line);
	buf_reset(&p->data);
	buf_reset(&p->event);
	p->has_data = false;
	return cut ? 1 : 0;
}

WEAK void ndjson_init(struct ndjson_parser *p, size_t max_line_bytes)
{
	buf_init(&p->line, max_line_bytes);
}

WEAK void ndjson_release(struct ndjson_parser *p)
{
	buf_release(&p->line);
}

static int stub_nd_line(struct ndjson_parser *p, ndjson_line_fn fn, void *ud)
{
	size_t n = p->line.len;
	if (n && p->line.p[n - 1] == '\r')
		n--;
	int rc = n ? fn(ud, p->line.p, n) : 0;
	buf_reset(&p->line);
	return rc;
}

WEAK int ndjson_feed(struct ndjson_parser *p, const char *data, size_t len, ndjson_line_fn fn,
		     void *ud)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			int rc = stub_nd_line(p, fn, ud);
			if (rc)
				return rc;
		} else if (buf_putc(&p->line, data[i]) < 0) {
			errno = E2BIG;
			return -1;
		}
	}
	return 0;
}

WEAK int ndjson_finish(struct ndjson_parser *p, ndjson_line_fn fn, void *ud)
{
	return stub_nd_line(p, fn, ud);
}
