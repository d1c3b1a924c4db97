/*
 * web.h - what web_fetch and web_search share: OpenClaw's wrapping of
 * untrusted external content, UTF-8 helpers for character budgets, the
 * HTTP client of the run, and the test-only DNS pins.
 */
#ifndef PINCER_TOOLS_WEB_H
#define PINCER_TOOLS_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include "net/ssrf.h"

struct config;
struct tool_call;
struct http_client;

/*
 * OpenClaw's wrapExternalContent: the content sanitized (boundary-marker
 * look-alikes and model special tokens replaced) between
 * <<<EXTERNAL_UNTRUSTED_CONTENT id="…">>> markers with a random id, under
 * a "Source: Web Fetch" line, optionally after the security notice.
 * `source` is "web_fetch" or "web_search". New string.
 */
char *web_wrap(const char *content, const char *source, bool warning);
/* Length in characters of web_wrap("", source, warning): the wrapper's overhead. */
size_t web_wrap_overhead(const char *source, bool warning);
/* The sanitizing step alone. New string. */
char *web_sanitize(const char *s);

/* Characters (code points) in a UTF-8 string. */
size_t web_chars(const char *s);
/* Bytes in the first `max_chars` characters of `s`. */
size_t web_prefix_bytes(const char *s, size_t max_chars);
/* A copy of `len` bytes with invalid UTF-8 replaced by U+FFFD and NULs dropped. */
char *web_utf8_clean(const char *s, size_t len);

/* The HTTP client to use for `call` (the runtime's), or NULL. */
struct http_client *web_http(const struct tool_call *call);

/*
 * PINCER_TEST_RESOLVE="host:port:addr[,host:port:addr…]" as a NULL-terminated
 * list for http_request.resolve (curl's CURLOPT_RESOLVE), or NULL when unset.
 * Test-only: it lets an end-to-end test make a public-looking name resolve
 * to a private address without touching DNS. Parsed once, kept.
 */
const char *const *web_test_resolve(void);

/*
 * The fetch SSRF policy of the config: tools.web.fetch.ssrfPolicy
 * (dangerouslyAllowPrivateNetwork / allowPrivateNetwork, the benchmark and
 * ULA ranges, allowedHostnames, blockedHostnames) and pincer's
 * tools.web.fetch.allowPrivate. Used by every tool that fetches a URL
 * (web_fetch, view_image). Release with web_ssrf_release().
 */
struct web_ssrf {
	struct ssrf_policy pol;
	char **allowed, **blocked; /* owned storage of pol's host lists */
};
void web_ssrf_load(const struct config *cfg, struct web_ssrf *s);
void web_ssrf_release(struct web_ssrf *s);
/* An http_request.guard: `arg` is a struct web_ssrf (ssrf_check_sa on its policy). */
int web_ssrf_guard(void *arg, const struct sockaddr *sa, char *why, size_t whylen);

#endif
