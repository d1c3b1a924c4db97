/*
 * fuzz_html.c - libFuzzer target for the HTML extractor behind web_fetch.
 *
 * The first byte picks the mode and a small output cap (so the truncation
 * path runs), the rest is the document. Every result must be a NUL-terminated
 * string within the cap, never ending in half a UTF-8 sequence the cap made,
 * and the title within its own bound; markdown_to_text runs over the output.
 *
 * fuzz_html_plain.c builds this file with FUZZ_HTML_PLAIN: html.c is then
 * pointed at a library that does not exist before anything loads libxml2,
 * so every input goes through the fallback tag stripper instead. The input
 * is not NUL-terminated: the extractor must stay within its length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef FUZZ_HTML_PLAIN
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	html_set_library("libpincer-fuzz-no-such-library.so.0");
	if (html_have_libxml2())
		abort();
	return 0;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct html_result r;
	enum html_mode mode;
	size_t cap;
	char err[128], *t;

	if (size < 1)
		return 0;
	mode = (data[0] & 1) ? HTML_TEXT : HTML_MARKDOWN;
	cap = (data[0] & 2) ? (size_t)(data[0] >> 2) + 1 : 1u << 20;
	if (html_extract((const char *)data + 1, size - 1, "https://fuzz.test/a/b?c", NULL, mode,
			 cap, &r, err, sizeof(err)) < 0)
		return 0;
	if (!r.text || strlen(r.text) > cap)
		abort();
	if (r.title && strlen(r.title) > 512)
		abort();
	t = html_markdown_to_text(r.text);
	if (!t || strlen(t) > strlen(r.text))
		abort();
	free(t);
	html_result_release(&r);
	return 0;
}
