/*
 * test_fsguard.c - path resolution and workspace confinement of the file
 * tools (src/tools/fsguard.c), against real symlinks in a temp directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/mem.h"
#include "tools/fsguard.h"

struct t {
	char root[PATH_MAX]; /* temp dir: ws/ and out/ inside */
	char ws[PATH_MAX + 8], out[PATH_MAX + 8];
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	char p[PATH_MAX + 32];

	if (!t || tu_mkdtemp(t->root, sizeof(t->root), "fsguard") < 0)
		return -1;
	snprintf(t->ws, sizeof(t->ws), "%s/ws", t->root);
	snprintf(t->out, sizeof(t->out), "%s/out", t->root);
	if (mkdir(t->ws, 0700) < 0 || mkdir(t->out, 0700) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/sub", t->ws);
	mkdir(p, 0700);
	free(tu_write_file(t->ws, "in.txt", "x", 0600));
	free(tu_write_file(t->out, "secret", "s", 0600));
	snprintf(p, sizeof(p), "%s/link-out", t->ws);
	if (symlink(t->out, p) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/file-out", t->ws);
	if (symlink("../out/secret", p) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/dangling", t->ws);
	if (symlink("../out/not-yet", p) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/sub/up", t->ws);
	if (symlink("..", p) < 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	int r = tu_rm_rf(t->root);

	free(t);
	return r;
}

static char err[1024];

/* Resolve confined; the result (static) or NULL with err set. */
static const char *res(struct t *t, const char *in, bool confine, int flags)
{
	static char keep[2048];
	char *out;

	if (fsguard_resolve(t->ws, in, confine, flags, &out, err, sizeof(err)) < 0)
		return NULL;
	snprintf(keep, sizeof(keep), "%s", out);
	free(out);
	return keep;
}

static void expect(struct t *t, const char *in, bool confine, const char *rel_to_root)
{
	char want[PATH_MAX * 2];
	const char *got = res(t, in, confine, 0);

	snprintf(want, sizeof(want), "%s/%s", t->root, rel_to_root);
	if (!got)
		fail_msg("%s: %s", in, err);
	assert_string_equal(got, want);
}

static void expect_escape(struct t *t, const char *in, const char *kind)
{
	const char *got = res(t, in, true, 0);

	if (got)
		fail_msg("%s resolved to %s", in, got);
	if (!strstr(err, kind))
		fail_msg("%s: %s", in, err);
}

static void test_normalize(void **state)
{
	const char *cases[][2] = {
		{ "/", "/" },      { "/a/b/../c", "/a/c" }, { "//a///b/./", "/a/b" },
		{ "/../..", "/" }, { "/a/..", "/" },        { "/a/b/c/../../d", "/a/d" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *n = fsguard_normalize(cases[i][0]);

		assert_string_equal(n, cases[i][1]);
		free(n);
	}
}

static void test_inside(void **state)
{
	struct t *t = *state;
	char abs[PATH_MAX * 2];

	expect(t, "in.txt", true, "ws/in.txt");
	expect(t, "./sub/../in.txt", true, "ws/in.txt");
	expect(t, "@in.txt", true, "ws/in.txt");
	expect(t, "new/dir/file", true, "ws/new/dir/file");
	expect(t, "sub/up/in.txt", true, "ws/in.txt"); /* a link that stays inside */
	snprintf(abs, sizeof(abs), "%s/in.txt", t->ws);
	expect(t, abs, true, "ws/in.txt");
}

static void test_escapes(void **state)
{
	struct t *t = *state;
	char abs[PATH_MAX * 2];

	expect_escape(t, "../out/secret", "Path escapes sandbox root");
	expect_escape(t, "sub/../../out", "Path escapes sandbox root");
	snprintf(abs, sizeof(abs), "%s/secret", t->out);
	expect_escape(t, abs, "Path escapes sandbox root");
	expect_escape(t, "/etc/passwd", "Path escapes sandbox root");
	expect_escape(t, "link-out/secret", "Symlink escapes sandbox root");
	expect_escape(t, "link-out/new/deeper.txt", "Symlink escapes sandbox root");
	expect_escape(t, "file-out", "Symlink escapes sandbox root");
	expect_escape(t, "dangling", "Symlink escapes sandbox root");
	/*
	 * ".." is taken lexically before any link is followed (as OpenClaw's
	 * path.resolve does), and the tools then open the path returned, so
	 * "sub/up/.." is "sub", never the parent of the link's target.
	 */
	expect(t, "sub/up/../out/secret", true, "ws/sub/out/secret");
	assert_null(res(t, "", true, 0));
	/* Not confined: the same paths resolve, through their links. */
	expect(t, "link-out/secret", false, "out/secret");
	expect(t, "dangling", false, "out/not-yet");
	expect(t, "../out/secret", false, "out/secret");
}

static void test_nofollow_last(void **state)
{
	struct t *t = *state;
	char want[PATH_MAX * 2];
	const char *got = res(t, "file-out", true, FSGUARD_NOFOLLOW_LAST);

	/* Deleting the link itself stays inside. */
	snprintf(want, sizeof(want), "%s/file-out", t->ws);
	assert_non_null(got);
	assert_string_equal(got, want);
}

static void test_home(void **state)
{
	struct t *t = *state;
	char *old = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;

	setenv("HOME", t->ws, 1);
	expect(t, "~/in.txt", true, "ws/in.txt");
	expect(t, "~", true, "ws");
	setenv("HOME", t->out, 1);
	expect_escape(t, "~/secret", "Path escapes sandbox root");
	if (old)
		setenv("HOME", old, 1);
	free(old);
}

static void test_display(void **state)
{
	struct t *t = *state;
	char abs[PATH_MAX * 2], *d;

	snprintf(abs, sizeof(abs), "%s/sub/a.txt", t->ws);
	d = fsguard_display(t->ws, abs);
	assert_string_equal(d, "sub/a.txt");
	free(d);
	d = fsguard_display(t->ws, "/etc/passwd");
	assert_string_equal(d, "/etc/passwd");
	free(d);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_normalize),     T(test_inside), T(test_escapes),
		T(test_nofollow_last), T(test_home),   T(test_display),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
