/*
 * test_watch.c - the config file watcher (src/config/watch.c): renames
 * over the file, bursts, other files in the same directory, symlinks, and
 * closing with a callback pending. Each test runs a private libuv loop
 * with a guard timer, so a missing event fails instead of hanging.
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
#include <uv.h>

#include "config/watch.h"
#include "core/mem.h"

#define GUARD_MS 10000

static char tmpdir[PATH_MAX];

static int setup_tmpdir(void **state)
{
	assert_int_equal(tu_mkdtemp(tmpdir, sizeof(tmpdir), "watch"), 0);
	return 0;
}

static int teardown_tmpdir(void **state)
{
	assert_int_equal(tu_rm_rf(tmpdir), 0);
	return 0;
}

struct probe {
	uv_loop_t *loop;
	int fired;
	int stop_after; /* stop the loop once this many callbacks came */
};

static void on_change(void *arg)
{
	struct probe *p = arg;

	if (++p->fired >= p->stop_after)
		uv_stop(p->loop);
}

static void on_guard(uv_timer_t *t)
{
	uv_stop(t->loop);
}

/* Run the loop until stopped (by a probe) or the guard expires. */
static void run_until_stopped(uv_loop_t *loop)
{
	uv_timer_t guard;

	uv_timer_init(loop, &guard);
	uv_timer_start(&guard, on_guard, GUARD_MS, 0);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&guard, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

static void close_loop(uv_loop_t *loop)
{
	uv_run(loop, UV_RUN_DEFAULT); /* let closing handles finish */
	assert_int_equal(uv_loop_close(loop), 0);
}

/* Replace dir/name the way editors do: write a temp file, rename it over. */
static void replace_file(const char *dir, const char *name, const char *content)
{
	char *tmp = tu_write_file(dir, ".tmp-save", content, 0600);
	char *dst = xasprintf("%s/%s", dir, name);

	assert_non_null(tmp);
	assert_int_equal(rename(tmp, dst), 0);
	free(tmp);
	free(dst);
}

static void test_rename_over_fires_once_per_burst(void **state)
{
	uv_loop_t loop;
	struct probe p = { .loop = &loop, .stop_after = 1 };
	char *file = tu_write_file(tmpdir, "pincer.json", "{}", 0600);
	struct config_watch *w;

	uv_loop_init(&loop);
	w = config_watch_new(&loop, 50, on_change, &p);
	assert_int_equal(config_watch_set(w, &file, 1), 1);
	for (int i = 0; i < 5; i++)
		replace_file(tmpdir, "pincer.json", "{ gateway: {} }");
	run_until_stopped(&loop);
	assert_int_equal(p.fired, 1);

	/* and again after a second edit: the watch survived the renames */
	replace_file(tmpdir, "pincer.json", "{}");
	p.stop_after = 2;
	run_until_stopped(&loop);
	assert_int_equal(p.fired, 2);
	config_watch_free(w);
	close_loop(&loop);
	free(file);
}

/*
 * Another file in the same directory is not a config change. Two watchers
 * share the directory: `other` (quick) watches only a.json, `mine` (slow)
 * watches b.json; b.json is edited. When `mine` fires, `other` would
 * already have fired had it taken the event.
 */
static void test_other_files_ignored(void **state)
{
	uv_loop_t loop;
	struct probe mine = { .loop = &loop, .stop_after = 1 };
	struct probe other = { .loop = &loop, .stop_after = 100 };
	char *a = xasprintf("%s/a.json", tmpdir), *b = xasprintf("%s/b.json", tmpdir);
	struct config_watch *wa, *wb;

	uv_loop_init(&loop);
	wa = config_watch_new(&loop, 1, on_change, &other);
	wb = config_watch_new(&loop, 200, on_change, &mine);
	config_watch_set(wa, &a, 1);
	config_watch_set(wb, &b, 1);
	replace_file(tmpdir, "b.json", "{}");
	run_until_stopped(&loop);
	assert_int_equal(mine.fired, 1);
	assert_int_equal(other.fired, 0);
	config_watch_free(wa);
	config_watch_free(wb);
	close_loop(&loop);
	free(a);
	free(b);
}

/* A config that is a symlink into another directory: editing the target counts. */
static void test_symlink_target(void **state)
{
	uv_loop_t loop;
	struct probe p = { .loop = &loop, .stop_after = 1 };
	char *real_dir = xasprintf("%s/dotfiles", tmpdir);
	char *link = xasprintf("%s/pincer.json", tmpdir);
	char *target;
	struct config_watch *w;

	assert_int_equal(mkdir(real_dir, 0700), 0);
	target = tu_write_file(real_dir, "pincer.json", "{}", 0600);
	assert_int_equal(symlink(target, link), 0);
	uv_loop_init(&loop);
	w = config_watch_new(&loop, 10, on_change, &p);
	assert_int_equal(config_watch_set(w, &link, 1), 2);
	replace_file(real_dir, "pincer.json", "{ logging: {} }");
	run_until_stopped(&loop);
	assert_int_equal(p.fired, 1);
	config_watch_free(w);
	close_loop(&loop);
	free(real_dir);
	free(link);
	free(target);
}

/* Replacing the set, a directory that does not exist, and freeing with a timer pending. */
static void test_set_and_free_pending(void **state)
{
	uv_loop_t loop;
	struct probe p = { .loop = &loop, .stop_after = 1 };
	char *files[] = { xasprintf("%s/one.json", tmpdir), xasprintf("%s/inc/two.json", tmpdir),
			  xasprintf("%s/nodir/x.json", tmpdir) };
	char *inc = xasprintf("%s/inc", tmpdir);
	struct config_watch *w;

	assert_int_equal(mkdir(inc, 0700), 0);
	uv_loop_init(&loop);
	w = config_watch_new(&loop, 10, on_change, &p);
	/* tmpdir and inc; nodir cannot be watched and is skipped */
	assert_int_equal(config_watch_set(w, files, 3), 2);
	/* an include edit counts */
	replace_file(inc, "two.json", "{}");
	run_until_stopped(&loop);
	assert_int_equal(p.fired, 1);
	/* the set shrinks to one file: its directory only */
	assert_int_equal(config_watch_set(w, files, 1), 1);
	/* an edit arms the timer; freeing right away must drop it */
	replace_file(tmpdir, "one.json", "{}");
	uv_run(&loop, UV_RUN_NOWAIT);
	config_watch_free(w);
	close_loop(&loop);
	assert_int_equal(p.fired, 1);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		free(files[i]);
	free(inc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_tmpdir, teardown_tmpdir)
		T(test_rename_over_fires_once_per_burst),
		T(test_other_files_ignored),
		T(test_symlink_target),
		T(test_set_and_free_pending),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
