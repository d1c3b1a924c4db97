/*
 * fuzz_html_plain.c - libFuzzer target for the tag stripper html_extract
 * falls back to when libxml2 cannot be loaded (src/tools/html.c).
 *
 * The same checks as fuzz_html.c; the initialiser points html.c at a
 * library that does not exist before anything loads libxml2, so every
 * input goes through the fallback. The input is not NUL-terminated: the
 * stripper must stay within its length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/html.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	html_set_library("libpincer-fuzz-no-such-library.so.0");
	if (html_have_libxml2())
		abort();
	return 0;
}

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
	/* libFuzzer's buffer ends where the input does: a read past it is an ASan report. */
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
