/*
 * mem.h - allocation wrappers that never return NULL.
 *
 * Out of memory is not a condition pincer tries to survive: a daemon that
 * limps on after a failed malloc loses data in worse ways than one that
 * stops. Every allocation in the tree goes through these wrappers, so call
 * sites never check for NULL (redis zmalloc, git xmalloc).
 */
#ifndef PINCER_CORE_MEM_H
#define PINCER_CORE_MEM_H

#include <stdarg.h>
#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define NORETURN          __attribute__((noreturn))
#define UNUSED            __attribute__((unused))
#else
#define PRINTF_LIKE(f, a)
#define NORETURN
#define UNUSED
#endif

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow an array to hold at least `need` elements of `size` bytes; doubles. */
void *xgrow(void *p, size_t *alloc, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);
char *xvasprintf(const char *fmt, va_list ap) PRINTF_LIKE(1, 0);

/* Print "pincer: <msg>" to stderr and exit(1). CLI top level only. */
NORETURN void die(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* An internal invariant was broken: report file:line and abort. */
NORETURN void bug_at(const char *file, int line, const char *fmt, ...) PRINTF_LIKE(3, 4);
#define BUG(...) bug_at(__FILE__, __LINE__, __VA_ARGS__)

#endif
