/*
 * test_html.c - the HTML extractor behind web_fetch (src/tools/html.c):
 * libxml2 loaded on first use, and the tag stripper used without it.
 *
 * The fallback tests run in forked children that point html_set_library
 * at a library that does not exist (a process tries the load only once),
 * and they run first, while the parent has not loaded libxml2 yet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/mem.h"
#include "tools/html.h"

static const char page[] =
	"<!doctype html><html><head><title> The  &amp; Title </title>"
	"<style>p { color: red }</style><script>var x = '<p>no</p>';</script></head>"
	"<body><nav><a href=\"/home\">Home</a></nav>"
	"<main><h1>Heading</h1><p>Some <b>bold</b> text and a <a href=\"/rel\">link</a>.</p>"
	"<ul><li>one</li><li>two</li></ul>"
	"<!-- a comment <p>hidden</p> --><p>caf&#233; &lt;x&gt; &#x1F600;</p></main>"
	"<footer>Footer</footer></body></html>";

static char *extract(const char *html, enum html_mode mode, size_t max, char **title,
		     bool *truncated)
{
	struct html_result r;
	char err[128], *t;

	assert_int_equal(html_extract(html, strlen(html), "https://example.test/dir/page", NULL,
				      mode, max, &r, err, sizeof(err)),
			 0);
	assert_non_null(r.text);
	t = r.text;
	if (title)
		*title = r.title ? xstrdup(r.title) : NULL;
	if (truncated)
		*truncated = r.truncated;
	r.text = NULL;
	html_result_release(&r);
	return t;
}

/* ------------------------------------------------------------ libxml2 */

static bool libxml2_mapped(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		found |= strstr(line, "/libxml2.so") != NULL;
	fclose(f);
	return found;
}

static void test_not_loaded_until_used(void **state)
{
	assert_false(libxml2_mapped());
	assert_true(html_have_libxml2());
	assert_true(libxml2_mapped());
}

static void test_markdown(void **state)
{
	char *title, *t = extract(page, HTML_MARKDOWN, 0, &title, NULL);

	assert_string_equal(title, "The & Title");
	assert_non_null(strstr(t, "# Heading"));
	assert_non_null(strstr(t, "Some **bold** text and a [link](https://example.test/rel)."));
	assert_non_null(strstr(t, "- one\n- two"));
	assert_non_null(strstr(t, "caf\xc3\xa9 <x> \xf0\x9f\x98\x80"));
	assert_null(strstr(t, "Home"));
	assert_null(strstr(t, "Footer"));
	assert_null(strstr(t, "hidden"));
	assert_null(strstr(t, "color"));
	free(title);
	free(t);
}

static void test_text_and_cap(void **state)
{
	bool cut;
	char *t = extract(page, HTML_TEXT, 0, NULL, &cut);

	assert_false(cut);
	assert_non_null(strstr(t, "Some bold text and a link."));
	assert_null(strstr(t, "https://"));
	free(t);
	t = extract(page, HTML_TEXT, 10, NULL, &cut);
	assert_true(cut);
	assert_true(strlen(t) <= 10);
	free(t);
}

/* ----------------------------------------------------------- fallback */

/* Run `fn` in a child without libxml2; it fails the test by exiting non-zero. */
static void in_child_without_libxml2(void (*fn)(void))
{
	int st;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		html_set_library("libpincer-test-no-such-library.so.0");
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);                 \
			_exit(1);                                                                  \
		}                                                                                  \
	} while (0)

static void child_fallback_page(void)
{
	struct html_result r;
	char err[128];

	CHECK(!html_have_libxml2());
	CHECK(html_extract(page, strlen(page), NULL, NULL, HTML_MARKDOWN, 0, &r, err,
			   sizeof(err)) == 0);
	CHECK(r.title && !strcmp(r.title, "The & Title"));
	CHECK(strstr(r.text, "Heading\n\nSome bold text and a link."));
	CHECK(strstr(r.text, "one\ntwo"));
	CHECK(strstr(r.text, "caf\xc3\xa9 <x> \xf0\x9f\x98\x80"));
	CHECK(!strstr(r.text, "Home") && !strstr(r.text, "Footer"));
	CHECK(!strstr(r.text, "hidden") && !strstr(r.text, "color") && !strstr(r.text, "var"));
	CHECK(!r.truncated);
	html_result_release(&r);
}

static void child_fallback_edges(void)
{
	/* Unclosed dropped elements, a lone '<', bad references, a tag cut by the end. */
	static const char *const in[] = {
		"<nav>a<nav>b</nav> c <script>x",
		"<nav>a<nav>b</nav></nav>c<aside>d</aside>",
		"1 < 2 &bogus; &#xZZ; &#0; &amp",
		"<p>text<a href='>'>quoted</a",
		"",
	};
	static const char *const want[] = {
		"ab c", "c", "1 < 2 &bogus; &#xZZ; \xef\xbf\xbd &amp", "textquoted", "",
	};
	struct html_result r;
	char err[128];

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		/* Not NUL-terminated where the length ends: the scan must not look past it. */
		size_t n = strlen(in[i]);
		char *copy = xmalloc(n + 1);

		memcpy(copy, in[i], n);
		copy[n] = 'X';
		CHECK(html_extract(copy, n, NULL, NULL, HTML_TEXT, 0, &r, err, sizeof(err)) == 0);
		if (strcmp(r.text, want[i]))
			fprintf(stderr, "case %zu: [%s] != [%s]\n", i, r.text, want[i]);
		CHECK(!strcmp(r.text, want[i]));
		html_result_release(&r);
		free(copy);
	}
	/* The cap holds and never leaves half a character. */
	CHECK(html_extract("<p>\xc3\xa9\xc3\xa9\xc3\xa9</p>", 12, NULL, NULL, HTML_TEXT, 5, &r, err,
			   sizeof(err)) == 0);
	CHECK(r.truncated && !strcmp(r.text, "\xc3\xa9\xc3\xa9"));
	html_result_release(&r);
}

static void test_fallback_page(void **state)
{
	in_child_without_libxml2(child_fallback_page);
}

static void test_fallback_edges(void **state)
{
	in_child_without_libxml2(child_fallback_edges);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* before anything loads libxml2: the children inherit what the parent has */
		cmocka_unit_test(test_fallback_page),         cmocka_unit_test(test_fallback_edges),
		cmocka_unit_test(test_not_loaded_until_used), cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_text_and_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
