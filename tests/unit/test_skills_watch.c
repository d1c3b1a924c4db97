/*
 * test_skills_watch.c - the skill folder watcher (src/skills/watch.c): a
 * new skill folder, an edited SKILL.md in it, a root that does not exist
 * yet, changes that do not matter, and freeing with a callback pending.
 * Each test runs a private libuv loop with a guard timer, so a missing
 * event fails instead of hanging.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "skills/watch.h"

#define GUARD_MS    10000
#define DEBOUNCE_MS 50

static char tmpdir[PATH_MAX];

static int setup_tmpdir(void **state)
{
	(void)state;
	assert_int_equal(tu_mkdtemp(tmpdir, sizeof(tmpdir), "skwatch"), 0);
	return 0;
}

static int teardown_tmpdir(void **state)
{
	(void)state;
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

/* Run the loop until stopped (by a probe) or `ms` pass. */
static void run_for(uv_loop_t *loop, uint64_t ms)
{
	uv_timer_t guard;

	uv_timer_init(loop, &guard);
	uv_timer_start(&guard, on_guard, ms, 0);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&guard, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

static void close_loop(uv_loop_t *loop)
{
	uv_run(loop, UV_RUN_DEFAULT); /* let closing handles finish */
	assert_int_equal(uv_loop_close(loop), 0);
}

static char *path(const char *rel)
{
	return xasprintf("%s/%s", tmpdir, rel);
}

static void write_skill(const char *rel_dir, const char *desc)
{
	char *d = path(rel_dir), *text = xasprintf("---\nname: x\ndescription: %s\n---\n", desc);

	assert_int_equal(fs_mkdir_p(d, 0700), 0);
	free(tu_write_file(d, "SKILL.md", text, 0600));
	free(text);
	free(d);
}

static json_t *roots1(const char *rel)
{
	char *p = path(rel);
	json_t *r = json_pack("[s]", p);

	free(p);
	return r;
}

static void test_new_folder_then_edit(void **state)
{
	uv_loop_t loop;
	struct probe p = { .loop = &loop, .stop_after = 1 };
	json_t *roots = roots1("root");
	char *root = path("root");
	struct skills_watch *w;

	(void)state;
	assert_int_equal(fs_mkdir_p(root, 0700), 0);
	uv_loop_init(&loop);
	w = skills_watch_new(&loop, DEBOUNCE_MS, on_change, &p);
	assert_int_equal(skills_watch_set(w, roots), 1);
	assert_true(skills_watch_same_roots(w, roots));
	assert_false(skills_watch_failed(w));

	write_skill("root/one", "first"); /* mkdir + write: one burst */
	run_for(&loop, GUARD_MS);
	assert_int_equal(p.fired, 1);

	/* The new folder was given its own watch when the burst settled. */
	write_skill("root/one", "edited");
	p.stop_after = 2;
	run_for(&loop, GUARD_MS);
	assert_int_equal(p.fired, 2);

	skills_watch_free(w);
	close_loop(&loop);
	json_decref(roots);
	free(root);
}

static void test_missing_root_is_watched_through_its_parent(void **state)
{
	uv_loop_t loop;
	struct probe p = { .loop = &loop, .stop_after = 1 };
	char *ws = path("ws"), *r1 = path("ws/skills"), *r2 = path("ws/.agents/skills");
	json_t *roots = json_pack("[s,s]", r1, r2);
	struct skills_watch *w;

	(void)state;
	assert_int_equal(fs_mkdir_p(ws, 0700), 0);
	uv_loop_init(&loop);
	w = skills_watch_new(&loop, DEBOUNCE_MS, on_change, &p);
	assert_int_equal(skills_watch_set(w, roots), 1); /* ws, for "skills" and ".agents" */

	/* Something else in the workspace is not a skills change. */
	free(tu_write_file(ws, "AGENTS.md", "hi", 0600));
	run_for(&loop, 6 * DEBOUNCE_MS);
	assert_int_equal(p.fired, 0);

	write_skill("ws/skills/new", "hello");
	run_for(&loop, GUARD_MS);
	assert_int_equal(p.fired, 1);
	write_skill("ws/skills/new", "again");
	p.stop_after = 2;
	run_for(&loop, GUARD_MS);
	assert_int_equal(p.fired, 2);
	/* The other missing root, through the same parent. */
	write_skill("ws/.agents/skills/other", "hi");
	p.stop_after = 3;
	run_for(&loop, GUARD_MS);
	assert_int_equal(p.fired, 3);

	skills_watch_free(w);
	close_loop(&loop);
	json_decref(roots);
	free(ws);
	free(r1);
	free(r2);
}

static void test_unrelated_changes_are_ignored(void **state)
{
	uv_loop_t loop;
	struct probe p = { .loop = &loop, .stop_after = 1 };
	json_t *roots = roots1("r");
	char *dir;
	struct skills_watch *w;

	(void)state;
	write_skill("r/s", "a");
	uv_loop_init(&loop);
	w = skills_watch_new(&loop, DEBOUNCE_MS, on_change, &p);
	assert_int_equal(skills_watch_set(w, roots), 2); /* the root and r/s */

	dir = path("r/s");
	free(tu_write_file(dir, "notes.txt", "x", 0600)); /* not SKILL.md */
	free(dir);
	dir = path("r");
	free(tu_write_file(dir, ".DS_Store", "x", 0600)); /* hidden, in the root */
	run_for(&loop, 6 * DEBOUNCE_MS);
	assert_int_equal(p.fired, 0);

	free(tu_write_file(dir, "README.md", "x", 0600)); /* anything else in a root counts */
	run_for(&loop, GUARD_MS);
	assert_int_equal(p.fired, 1);
	free(dir);

	skills_watch_free(w);
	close_loop(&loop);
	json_decref(roots);
}

static void test_free_with_callback_pending(void **state)
{
	uv_loop_t loop;
	struct probe p = { .loop = &loop, .stop_after = 1 };
	json_t *roots = roots1("q");
	struct skills_watch *w;

	(void)state;
	write_skill("q/s", "a");
	uv_loop_init(&loop);
	w = skills_watch_new(&loop, 10 * 1000, on_change, &p);
	skills_watch_set(w, roots);
	write_skill("q/s", "b");
	run_for(&loop, 200); /* the event arrives; the debounce is still running */
	skills_watch_free(w);
	close_loop(&loop);
	assert_int_equal(p.fired, 0);
	json_decref(roots);
}

int main(void)
{
	struct log_opts lo;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_folder_then_edit, setup_tmpdir,
						teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_missing_root_is_watched_through_its_parent,
						setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_unrelated_changes_are_ignored, setup_tmpdir,
						teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_free_with_callback_pending, setup_tmpdir,
						teardown_tmpdir),
	};

	log_opts_default(&lo);
	lo.console_level = LOG_ERROR;
	log_setup(&lo);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
