/*
 * html.h - HTML to readable markdown or plain text, for web_fetch.
 *
 * libxml2's HTML parser (error-tolerant, as browsers are) builds the tree;
 * the extractor keeps what a reader wants: the main content (<main>,
 * role="main", a lone <article>, else <body>) without scripts, styles,
 * navigation, footers, asides, forms and hidden parts; headings,
 * paragraphs, lists, links (made absolute), code blocks and simple tables;
 * whitespace collapsed as a browser would.
 *
 * libxml2 is not linked into pincer: the first html_init (or html_extract)
 * dlopen()s it (libxml2.so.2, or libxml2.so.16 when built against 2.14 or
 * later: the soname that goes with the headers), so processes that never
 * extract HTML never load it, nor the ICU and libstdc++ it pulls in on
 * Debian. When it cannot be loaded, a warning is logged once and
 * html_extract falls back to a tag stripper: plain text in either mode,
 * the whole page, no link targets.
 */
#ifndef PINCER_TOOLS_HTML_H
#define PINCER_TOOLS_HTML_H

#include <stdbool.h>
#include <stddef.h>

enum html_mode {
	HTML_MARKDOWN, /* # headings, [text](url), **bold**, ``` fences, | tables | */
	HTML_TEXT,     /* the same layout without markup */
};

struct html_result {
	char *title;    /* <title> (or the first <h1>), whitespace collapsed; NULL when none */
	char *text;     /* never NULL on success */
	bool truncated; /* the output reached max_out and was cut there */
};

/*
 * Convert `len` bytes of HTML. `base_url` (may be NULL) makes links
 * absolute; `encoding` (may be NULL: sniffed from <meta>, else UTF-8) names
 * the charset from Content-Type. The output is cut at `max_out` bytes.
 * Returns 0, or -1 with `err` when the input cannot be parsed at all.
 * Safe to call from any thread.
 */
int html_extract(const char *html, size_t len, const char *base_url, const char *encoding,
		 enum html_mode mode, size_t max_out, struct html_result *out, char *err,
		 size_t errlen);
void html_result_release(struct html_result *r);

/*
 * Load and initialise libxml2 (idempotent and thread-safe; html_extract
 * calls it too). The first call costs the library's loading, a few ms.
 */
void html_init(void);

/* Whether html_extract has libxml2 (loading it now if not yet tried). */
bool html_have_libxml2(void);

/*
 * The library html_init loads instead of libxml2: for tests of the
 * fallback. Effective only before the first html_init; `soname` is kept.
 */
void html_set_library(const char *soname);

/*
 * Markdown to plain text, for a text/markdown response in text mode:
 * links and images become their text, heading marks, emphasis and code
 * fences go. New string.
 */
char *html_markdown_to_text(const char *md);

#endif
