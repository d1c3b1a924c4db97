/*
 * test_workspace.c - workspace and agent directory resolution, and seeding
 * a workspace from the embedded templates without ever overwriting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/workspace.h"
#include "config/config.h"
#include "config/paths.h"
#include "core/embed.h"
#include "core/fs.h"
#include "core/mem.h"

static void cfg_from(struct config *cfg, const char *json)
{
	json_error_t e;

	config_init(cfg);
	cfg->root = json_loads(json, 0, &e);
	assert_non_null(cfg->root);
}

static char *slurp(const char *dir, const char *name)
{
	char *p = fs_join(dir, name);
	struct buf b;

	buf_init(&b, 1 << 20);
	if (fs_read_file(p, &b) < 0) {
		free(p);
		buf_release(&b);
		return NULL;
	}
	free(p);
	return buf_detach(&b, NULL);
}

static void test_dirs_default(void **state)
{
	struct paths p = { .state_dir = "/s", .config_path = "/s/pincer.json" };
	struct config cfg;
	char *d;

	cfg_from(&cfg, "{}");
	d = workspace_dir(&cfg, &p, NULL);
	assert_string_equal(d, "/s/workspace");
	free(d);
	d = workspace_dir(&cfg, &p, "main");
	assert_string_equal(d, "/s/workspace");
	free(d);
	d = workspace_dir(&cfg, &p, "Work");
	assert_string_equal(d, "/s/workspace-work");
	free(d);
	d = agent_dir(&p, "main");
	assert_string_equal(d, "/s/agents/main/agent");
	free(d);
	d = agent_sessions_dir(&p, "ops");
	assert_string_equal(d, "/s/agents/ops/sessions");
	free(d);
	config_release(&cfg);
}

static void test_dirs_configured(void **state)
{
	struct paths p = { .state_dir = "/s", .config_path = "/s/pincer.json" };
	struct config cfg;
	char *d, *home = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;

	setenv("HOME", "/home/u", 1);
	cfg_from(&cfg, "{\"agents\":{\"defaults\":{\"workspace\":\"~/ws\"},"
		       "\"list\":[{\"id\":\"ops\",\"workspace\":\"/srv/ops\"},"
		       "{\"id\":\"home\",\"default\":true},{\"id\":\"kid\"}]}}");
	d = workspace_default_agent_id(&cfg);
	assert_string_equal(d, "home");
	free(d);
	d = workspace_dir(&cfg, &p, "ops");
	assert_string_equal(d, "/srv/ops");
	free(d);
	d = workspace_dir(&cfg, &p, NULL); /* NULL is "main", not the default agent */
	assert_string_equal(d, "/home/u/ws/main");
	free(d);
	d = workspace_dir(&cfg, &p, "home");
	assert_string_equal(d, "/home/u/ws");
	free(d);
	d = workspace_dir(&cfg, &p, "kid");
	assert_string_equal(d, "/home/u/ws/kid");
	free(d);
	config_release(&cfg);
	if (home) {
		setenv("HOME", home, 1);
		free(home);
	}
}

static void test_seed_new(void **state)
{
	char dir[PATH_MAX], ws[PATH_MAX + 8], err[256];
	const struct embed_file *f;
	bool created = false;
	struct stat st;
	char *s;

	assert_int_equal(tu_mkdtemp(dir, sizeof(dir), "ws"), 0);
	snprintf(ws, sizeof(ws), "%s/a/ws", dir);
	assert_int_equal(workspace_ensure(ws, false, &created, err, sizeof(err)), 0);
	assert_true(created);
	assert_int_equal(stat(ws, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	for (size_t i = 0; workspace_bootstrap_files[i]; i++) {
		f = embed_find(embed_templates, workspace_bootstrap_files[i]);
		assert_non_null(f);
		s = slurp(ws, f->name);
		assert_non_null(s);
		assert_memory_equal(s, f->data, f->len);
		free(s);
	}
	s = slurp(ws, "BOOTSTRAP.md");
	assert_non_null(s);
	free(s);
	snprintf(ws + strlen(ws), 16, "/memory");
	assert_true(fs_is_dir(ws));
	tu_rm_rf(dir);
}

static void test_seed_never_overwrites(void **state)
{
	char dir[PATH_MAX], err[256];
	bool created = true;
	char *s, *p;

	assert_int_equal(tu_mkdtemp(dir, sizeof(dir), "ws"), 0);
	free(tu_write_file(dir, "SOUL.md", "my soul\n", 0644));
	assert_int_equal(workspace_ensure(dir, false, &created, err, sizeof(err)), 0);
	assert_false(created);
	s = slurp(dir, "SOUL.md");
	assert_string_equal(s, "my soul\n");
	free(s);
	/* Not brand new: no BOOTSTRAP.md, no memory/, but the other files are there. */
	p = fs_join(dir, "BOOTSTRAP.md");
	assert_false(fs_exists(p));
	free(p);
	s = slurp(dir, "AGENTS.md");
	assert_non_null(s);
	free(s);

	/* Edits survive a second run; a deleted BOOTSTRAP.md stays deleted. */
	free(tu_write_file(dir, "AGENTS.md", "mine\n", 0600));
	assert_int_equal(workspace_ensure(dir, false, &created, err, sizeof(err)), 0);
	s = slurp(dir, "AGENTS.md");
	assert_string_equal(s, "mine\n");
	free(s);
	p = fs_join(dir, "BOOTSTRAP.md");
	assert_false(fs_exists(p));
	free(p);
	tu_rm_rf(dir);
}

static void test_seed_skip(void **state)
{
	char dir[PATH_MAX], ws[PATH_MAX + 8], err[256];
	bool created = false;
	char *p;

	assert_int_equal(tu_mkdtemp(dir, sizeof(dir), "ws"), 0);
	snprintf(ws, sizeof(ws), "%s/ws", dir);
	assert_int_equal(workspace_ensure(ws, true, &created, err, sizeof(err)), 0);
	assert_true(created);
	assert_true(fs_is_dir(ws));
	p = fs_join(ws, "AGENTS.md");
	assert_false(fs_exists(p));
	free(p);
	tu_rm_rf(dir);
}

static void test_seed_error(void **state)
{
	char err[256] = "";

	assert_int_equal(workspace_ensure("/proc/definitely/not", false, NULL, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "cannot create workspace"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dirs_default), cmocka_unit_test(test_dirs_configured),
		cmocka_unit_test(test_seed_new),     cmocka_unit_test(test_seed_never_overwrites),
		cmocka_unit_test(test_seed_skip),    cmocka_unit_test(test_seed_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
