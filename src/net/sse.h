/*
 * sse.h - incremental parsers for the two streaming framings model APIs use:
 * Server-Sent Events (WHATWG HTML "event stream" interpretation: "event:",
 * "data:" joined with "\n", "id:", "retry:", ":" comments, CR/LF/CRLF line
 * ends, a leading BOM) and newline-delimited JSON (Ollama).
 *
 * Both take bytes exactly as they come off the wire, in chunks of any size
 * (a chunk may end mid-line or mid-UTF-8 character), and call back once per
 * complete event or line. Every buffer has a hard cap: an event or line
 * larger than `max` is an error, never an unbounded allocation.
 *
 *	struct sse_parser p;
 *	sse_init(&p, 1 << 20);
 *	rc = sse_feed(&p, chunk, n, on_event, me);    (per chunk)
 *	rc = sse_finish(&p);                           (at end of stream)
 *	sse_release(&p);
 */
#ifndef PINCER_NET_SSE_H
#define PINCER_NET_SSE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/*
 * One dispatched event. `event` is the event type ("" when the stream gave
 * none, which the spec calls "message"), `data` is NUL-terminated and `len`
 * long. Return 0 to go on; any other value stops sse_feed, which returns it.
 */
typedef int (*sse_event_fn)(void *ud, const char *event, const char *data, size_t len);

struct sse_parser {
	struct buf line;  /* the current, unterminated line */
	struct buf data;  /* data lines of the event being built */
	struct buf event; /* its event type */
	bool has_data;    /* a data: field was seen (an empty one counts) */
	bool bom_checked;
	bool last_cr; /* the previous chunk ended with CR: skip a leading LF */
	char last_id[256];
	long retry_ms; /* last retry: value, -1 when none */
};

/* Caps used when sse_init or ndjson_init is given 0. */
#define SSE_DEFAULT_MAX (1u << 20)

/*
 * `max_event_bytes` caps a line, an event's joined data and its type each.
 * An "id:" value of 256 bytes or more is ignored (last_id keeps the previous
 * one), as is one holding NUL; "retry:" is taken only when it is all digits.
 */
void sse_init(struct sse_parser *p, size_t max_event_bytes);
void sse_release(struct sse_parser *p);
/*
 * Returns 0, -1 (errno E2BIG) when a line or event passes the cap, or the
 * callback's nonzero. After a nonzero return the rest of the chunk is not
 * consumed: stop feeding (sse_release is still needed).
 */
int sse_feed(struct sse_parser *p, const char *data, size_t len, sse_event_fn fn, void *ud);
/*
 * The stream ended. An event not yet terminated by a blank line is
 * discarded, as the spec says; returns 1 when that happened (the stream was
 * cut mid-event), else 0.
 */
int sse_finish(struct sse_parser *p);

/*
 * NDJSON: one callback per non-empty line, without its line end (LF; a CR
 * before it is stripped too). A line longer than `max_line_bytes` is -1/E2BIG.
 */
typedef int (*ndjson_line_fn)(void *ud, const char *line, size_t len);

struct ndjson_parser {
	struct buf line;
};

void ndjson_init(struct ndjson_parser *p, size_t max_line_bytes);
void ndjson_release(struct ndjson_parser *p);
int ndjson_feed(struct ndjson_parser *p, const char *data, size_t len, ndjson_line_fn fn, void *ud);
/* End of stream: a last line without a newline is delivered. Returns as ndjson_feed. */
int ndjson_finish(struct ndjson_parser *p, ndjson_line_fn fn, void *ud);

#endif
