/*
 * test_apply_patch.c - the apply_patch format (src/tools/patch.c): parsing,
 * its errors, and applying update hunks in memory.
 *
 * (test_patch.c is config.patch's; this module's tests live here.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/patch.h"

static char err[4096];

static int parse(const char *text, struct patch *p)
{
	err[0] = '\0';
	return patch_parse(text, strlen(text), p, err, sizeof(err));
}

/* Apply the one update hunk of `patch_text` to `src`; NULL (err set) on failure. */
static char *apply(const char *src, const char *patch_text)
{
	struct patch p;
	size_t n;
	char *out;

	assert_int_equal(parse(patch_text, &p), 0);
	assert_int_equal(p.n_hunks, 1);
	assert_int_equal(p.hunks[0].kind, PATCH_UPDATE);
	out = patch_apply_update(src, strlen(src), &p.hunks[0], "f.txt", &n, err, sizeof(err));
	if (out)
		assert_int_equal(strlen(out), n);
	patch_free(&p);
	return out;
}

static void expect_apply(const char *src, const char *patch_text, const char *want)
{
	char *out = apply(src, patch_text);

	if (!out)
		fail_msg("apply failed: %s", err);
	assert_string_equal(out, want);
	free(out);
}

static void test_parse_all_kinds(void **state)
{
	struct patch p;

	(void)state;
	assert_int_equal(parse("*** Begin Patch\n"
			       "*** Add File: new.txt\n"
			       "+hello\n"
			       "+world\n"
			       "*** Delete File: old.txt\n"
			       "*** Update File: a.txt\n"
			       "*** Move to: b.txt\n"
			       "@@ def f():\n"
			       "-    return 1\n"
			       "+    return 2\n"
			       "*** End Patch\n",
			       &p),
			 0);
	assert_int_equal(p.n_hunks, 3);
	assert_int_equal(p.hunks[0].kind, PATCH_ADD);
	assert_string_equal(p.hunks[0].path, "new.txt");
	assert_string_equal(p.hunks[0].contents, "hello\nworld\n");
	assert_int_equal(p.hunks[1].kind, PATCH_DELETE);
	assert_string_equal(p.hunks[1].path, "old.txt");
	assert_int_equal(p.hunks[2].kind, PATCH_UPDATE);
	assert_string_equal(p.hunks[2].path, "a.txt");
	assert_string_equal(p.hunks[2].move_path, "b.txt");
	assert_int_equal(p.hunks[2].n_chunks, 1);
	assert_string_equal(p.hunks[2].chunks[0].context, "def f():");
	assert_int_equal(p.hunks[2].chunks[0].n_old, 1);
	assert_int_equal(p.hunks[2].chunks[0].n_new, 1);
	patch_free(&p);

	/* CRLF patch text, a heredoc wrapper, surrounding blank space. */
	assert_int_equal(parse("\n  <<'EOF'\r\n*** Begin Patch\r\n*** Delete File: x\r\n"
			       "*** End Patch\r\nEOF\n\n",
			       &p),
			 0);
	assert_int_equal(p.n_hunks, 1);
	assert_string_equal(p.hunks[0].path, "x");
	patch_free(&p);

	/* An empty envelope parses (the tool then says nothing was modified). */
	assert_int_equal(parse("*** Begin Patch\n*** End Patch", &p), 0);
	assert_int_equal(p.n_hunks, 0);
	patch_free(&p);
}

static void test_parse_errors(void **state)
{
	struct patch p;

	(void)state;
	assert_int_equal(parse("", &p), -1);
	assert_string_equal(err, "Invalid patch: input is empty.");
	assert_int_equal(parse("*** Update File: a\n@@\n-x\n+y\n*** End Patch", &p), -1);
	assert_string_equal(err, "The first line of the patch must be '*** Begin Patch'");
	assert_int_equal(parse("*** Begin Patch\n*** Delete File: a\n", &p), -1);
	assert_string_equal(err, "The last line of the patch must be '*** End Patch'");
	assert_int_equal(parse("*** Begin Patch\n*** Frobnicate: a\n*** End Patch", &p), -1);
	assert_non_null(strstr(err, "Invalid patch hunk at line 2: '*** Frobnicate: a' is not a "
				    "valid hunk header"));
	assert_int_equal(parse("*** Begin Patch\n*** Update File: a\n*** End Patch", &p), -1);
	assert_non_null(strstr(err, "Update file hunk for path 'a' is empty"));
	assert_int_equal(parse("*** Begin Patch\n*** Update File: a\n@@\n-x\n+y\nbogus\n"
			       "*** End Patch",
			       &p),
			 -1);
	assert_non_null(strstr(err, "line 6: Expected update hunk to start with a @@ context "
				    "marker, got: 'bogus'"));
	assert_int_equal(parse("*** Begin Patch\n*** Update File: a\n@@\nbogus\n*** End Patch", &p),
			 -1);
	assert_non_null(strstr(err, "Unexpected line found in update hunk: 'bogus'"));
	assert_int_equal(parse("*** Begin Patch\n*** Update File: a\n@@\n*** End of File\n"
			       "*** End Patch",
			       &p),
			 -1);
	assert_non_null(strstr(err, "Update hunk does not contain any lines"));
	assert_int_equal(p.n_hunks, 0);
}

static void test_apply_basic(void **state)
{
	(void)state;
	expect_apply("a\nb\nc\n",
		     "*** Begin Patch\n*** Update File: f\n@@\n a\n-b\n+B\n c\n"
		     "*** End Patch",
		     "a\nB\nc\n");
	/* No @@ on the first chunk, two chunks, the second after a context line. */
	expect_apply("one\ntwo\nthree\nfour\nfive\n",
		     "*** Begin Patch\n*** Update File: f\n-one\n+ONE\n@@ three\n-four\n+FOUR\n"
		     "*** End Patch",
		     "ONE\ntwo\nthree\nFOUR\nfive\n");
	/* Pure insertion after a context line, and at the end of the file. */
	expect_apply("x\ny\n",
		     "*** Begin Patch\n*** Update File: f\n@@ x\n+inserted\n"
		     "*** End Patch",
		     "x\ninserted\ny\n");
	expect_apply("x\ny\n", "*** Begin Patch\n*** Update File: f\n@@\n+tail\n*** End Patch",
		     "x\ny\ntail\n");
	/* End of File anchors the old lines at the end. */
	expect_apply("k\nz\nk\n",
		     "*** Begin Patch\n*** Update File: f\n@@\n-k\n+K\n"
		     "*** End of File\n*** End Patch",
		     "k\nz\nK\n");
	/* Deleting every line. */
	expect_apply("a\nb\n", "*** Begin Patch\n*** Update File: f\n@@\n-a\n-b\n*** End Patch",
		     "");
}

static void test_apply_tolerant(void **state)
{
	(void)state;
	/* Trailing whitespace in the file: context keeps the file's text. */
	expect_apply("int x;   \nint y;\n",
		     "*** Begin Patch\n*** Update File: f\n@@\n int x;\n"
		     "-int y;\n+int z;\n*** End Patch",
		     "int x;   \nint z;\n");
	/* Indentation differs: the trimmed matcher. */
	expect_apply("\tif (a)\n\t\tb();\n",
		     "*** Begin Patch\n*** Update File: f\n@@\n"
		     "-  if (a)\n+  if (c)\n   b();\n*** End Patch",
		     "  if (c)\n\t\tb();\n");
	/* Typographic quotes and dashes in the file, ASCII in the patch. */
	expect_apply("say \xE2\x80\x9Chi\xE2\x80\x9D \xE2\x80\x94 ok\nend\n",
		     "*** Begin Patch\n*** Update File: f\n@@\n-say \"hi\" - ok\n+say bye\n"
		     "*** End Patch",
		     "say bye\nend\n");
	/* A trailing blank context line that is really the patch's last newline. */
	expect_apply("a\nb", "*** Begin Patch\n*** Update File: f\n@@\n-b\n+c\n\n*** End Patch",
		     "a\nc");
}

static void test_apply_endings(void **state)
{
	(void)state;
	/* CRLF kept, including on replaced and added lines. */
	expect_apply("a\r\nb\r\nc\r\n",
		     "*** Begin Patch\n*** Update File: f\n@@\n a\n-b\n+B\n+B2\n c\n*** End Patch",
		     "a\r\nB\r\nB2\r\nc\r\n");
	/* A BOM and a missing final newline survive. */
	expect_apply("\xEF\xBB\xBFx\ny",
		     "*** Begin Patch\n*** Update File: f\n@@\n-y\n+Y\n"
		     "*** End Patch",
		     "\xEF\xBB\xBFx\nY");
	expect_apply("x\ny", "*** Begin Patch\n*** Update File: f\n@@\n+z\n*** End Patch",
		     "x\ny\nz");
	/* Into an empty file. */
	expect_apply("", "*** Begin Patch\n*** Update File: f\n@@\n+first\n*** End Patch",
		     "first\n");
}

static void test_apply_errors(void **state)
{
	(void)state;
	assert_null(apply("a\nb\n", "*** Begin Patch\n*** Update File: f\n@@\n-nope\n+x\n"
				    "*** End Patch"));
	assert_string_equal(err, "Failed to find expected lines in f.txt:\nnope");
	assert_null(apply("a\nx\na\nx\n", "*** Begin Patch\n*** Update File: f\n@@\n-x\n+y\n"
					  "*** End Patch"));
	assert_non_null(strstr(err, "Found 2 occurrences of these lines in f.txt"));
	assert_null(apply("a\n", "*** Begin Patch\n*** Update File: f\n@@ missing\n-a\n+b\n"
				 "*** End Patch"));
	assert_string_equal(err, "Failed to find context 'missing' in f.txt");
	assert_null(apply("c\nc\n", "*** Begin Patch\n*** Update File: f\n@@ c\n+b\n"
				    "*** End Patch"));
	assert_non_null(strstr(err, "Found 2 occurrences of context 'c'"));
	/* A second chunk is searched only after the first. */
	assert_null(apply("a\nb\n", "*** Begin Patch\n*** Update File: f\n@@\n-b\n+B\n@@\n-a\n"
				    "+A\n*** End Patch"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_all_kinds), cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_apply_basic),     cmocka_unit_test(test_apply_tolerant),
		cmocka_unit_test(test_apply_endings),   cmocka_unit_test(test_apply_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
