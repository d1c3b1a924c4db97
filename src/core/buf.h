/*
 * buf.h - a growable byte buffer with a hard maximum.
 *
 * Every buffer that outside input can grow has a ceiling, so a hostile peer
 * or a runaway file can never make the process allocate without bound (curl
 * dynbuf, h2o iovec). The contents are always NUL-terminated, so b->p can
 * be handed to libc as a string when it holds text.
 *
 *	struct buf b;
 *	buf_init(&b, 64 * 1024);
 *	if (buf_append(&b, data, n) < 0)
 *		... too big: the buffer is unchanged ...
 *	use(b.p, b.len);
 *	buf_release(&b);
 */
#ifndef PINCER_CORE_BUF_H
#define PINCER_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/mem.h"

#define BUF_UNLIMITED ((size_t)-1)

struct buf {
	char *p;    /* contents, NUL-terminated; never NULL after buf_init */
	size_t len; /* bytes used, not counting the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* hard ceiling on len */
};

/* Empty buffer that may grow to `max` bytes. Allocates nothing yet. */
void buf_init(struct buf *b, size_t max);
/* Free the contents; the buffer is empty and reusable afterwards. */
void buf_release(struct buf *b);
/* Forget the contents but keep the allocation. */
void buf_reset(struct buf *b);
/* Hand the contents to the caller (free with free()); buffer becomes empty. */
char *buf_detach(struct buf *b, size_t *len);

/*
 * Appenders return 0, or -1 with errno E2BIG when the result would pass
 * b->max; in that case the buffer is left exactly as it was.
 */
int buf_append(struct buf *b, const void *data, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
/* `s` escaped for HTML text and attribute values, and for XML (& < > " '). */
int buf_put_escaped(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) PRINTF_LIKE(2, 0);

/* Keep only the first `len` bytes (no-op when the buffer is shorter). */
void buf_truncate(struct buf *b, size_t len);

#endif
