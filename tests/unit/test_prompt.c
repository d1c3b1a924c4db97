/*
 * test_prompt.c - system prompt sections and order, workspace file
 * injection (caps, truncation markers, missing markers, MEMORY.md only in
 * the main session, minimal mode), the report, and the file cache.
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
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/prompt.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"
#include "skills/skills.h"

struct env {
	char dir[PATH_MAX];
};

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	if (!e || tu_mkdtemp(e->dir, sizeof(e->dir), "prompt"))
		return -1;
	prompt_cache_clear();
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;

	tu_rm_rf(e->dir);
	free(e);
	prompt_cache_clear();
	return 0;
}

static json_t *tools_json(void)
{
	return json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "name", "read", "description",
			 "Read files", "name", "exec", "description", "Run shell commands\nmore",
			 "name", "memory_search", "description", "Search memory");
}

static void base_ctx(struct prompt_ctx *c, const char *ws)
{
	memset(c, 0, sizeof(*c));
	c->workspace = ws;
	c->mode = PROMPT_FULL;
	c->main_session = true;
	c->timezone = "UTC";
	c->now_ms = 1795251713159LL; /* 2026-11-21T... UTC */
	c->model_ref = "fake/fake-model";
	c->session_key = "agent:main:main";
}

/* Every heading in `want` appears as a line, in this order. */
static void assert_order(const char *p, const char *const *want)
{
	const char *at = p, *hit;
	char needle[128];

	for (; *want; want++) {
		snprintf(needle, sizeof(needle), "\n%s\n", *want);
		hit = strstr(at, needle);
		if (!hit)
			fail_msg("heading \"%s\" missing or out of order", *want);
		at = hit + 1;
	}
}

static void test_sections_full(void **state)
{
	struct env *e = *state;
	static const char *const order[] = {
		"## Tooling",
		"## Tool Call Style",
		"## Execution Bias",
		"## Safety",
		"## Pincer Control",
		"## Skills",
		"## Memory Recall",
		"## Workspace",
		"## Documentation",
		"## Bootstrap Pending",
		"## Workspace Files (injected)",
		"# Project Context",
		"## Temporal Context",
		"## Assistant Output Directives",
		"## Silent Replies",
		"## Heartbeats",
		"## Runtime",
		NULL,
	};
	char skdir[PATH_MAX + 32];
	struct skill_set set;
	struct prompt_ctx c;
	json_t *tools = tools_json();
	char *p, *d;

	free(tu_write_file(e->dir, "AGENTS.md", "# agents\n", 0600));
	free(tu_write_file(e->dir, "BOOTSTRAP.md", "hello\n", 0600));
	snprintf(skdir, sizeof(skdir), "%s/skills/s1", e->dir);
	fs_mkdir_p(skdir, 0700);
	free(tu_write_file(skdir, "SKILL.md", "---\nname: s1\ndescription: d\n---\n", 0600));
	setenv("PINCER_BUNDLED_SKILLS_DIR", "/nonexistent", 1);
	skills_load(&set, NULL, e->dir, NULL, NULL);
	base_ctx(&c, e->dir);
	c.tools = tools;
	c.skills = &set;
	c.heartbeats = true;
	c.host = "box";
	p = prompt_build(&c, NULL);
	assert_true(str_starts_with(p, "You are a personal assistant running inside pincer.\n"));
	assert_order(p, order);
	/* No blank lines between sections (the skills block has its one, as OpenClaw's). */
	assert_null(strstr(p, "\n\n#"));
	assert_non_null(strstr(p, "\n- read: Read files\n"));
	assert_non_null(strstr(p, "\n- exec: Run shell commands\n"));
	assert_non_null(strstr(p, "<available_skills>"));
	d = xasprintf("\nWorking directory: %s\n", e->dir);
	assert_non_null(strstr(p, d));
	free(d);
	assert_non_null(strstr(p, "\nCurrent date: 2026-11-21\nTime zone: UTC\n"));
	assert_non_null(strstr(p, prompt_default_heartbeat));
	assert_non_null(strstr(p, "\nRuntime: agent=main | session=agent:main:main | host=box | "
				  "model=fake/fake-model"));
	assert_null(strstr(p, "## Sandbox"));
	free(p);
	skills_release(&set);
	json_decref(tools);
	unsetenv("PINCER_BUNDLED_SKILLS_DIR");
}

static void test_sections_minimal_none(void **state)
{
	struct env *e = *state;
	struct prompt_ctx c;
	char *p;

	free(tu_write_file(e->dir, "AGENTS.md", "A\n", 0600));
	free(tu_write_file(e->dir, "TOOLS.md", "T\n", 0600));
	free(tu_write_file(e->dir, "SOUL.md", "S\n", 0600));
	free(tu_write_file(e->dir, "MEMORY.md", "M\n", 0600));
	free(tu_write_file(e->dir, "BOOTSTRAP.md", "B\n", 0600));
	base_ctx(&c, e->dir);
	c.mode = PROMPT_MINIMAL;
	c.heartbeats = true;
	c.sandboxed = true;
	p = prompt_build(&c, NULL);
	assert_non_null(strstr(p, "/AGENTS.md\nA"));
	assert_non_null(strstr(p, "/TOOLS.md\nT"));
	assert_null(strstr(p, "SOUL.md\n"));
	assert_null(strstr(p, "/MEMORY.md"));
	assert_null(strstr(p, "## Bootstrap Pending"));
	assert_null(strstr(p, "## Skills"));
	assert_null(strstr(p, "## Heartbeats"));
	assert_null(strstr(p, "## Silent Replies"));
	assert_null(strstr(p, "## Documentation"));
	assert_non_null(strstr(p, "\n## Sandbox\n"));
	assert_non_null(strstr(p, "\n## Runtime\n"));
	free(p);

	c.mode = PROMPT_NONE;
	p = prompt_build(&c, NULL);
	assert_string_equal(p, "You are a personal assistant running inside pincer.\n"
			       "Current model: fake/fake-model. If asked which model you are, "
			       "give this one.");
	free(p);
}

static void test_files_order_and_markers(void **state)
{
	struct env *e = *state;
	struct prompt_ctx c;
	json_t *rep = NULL, *files;
	char *p, *a, *s, *u, *m, *want;

	free(tu_write_file(e->dir, "USER.md", "user\n\n\n", 0600));
	free(tu_write_file(e->dir, "AGENTS.md", "agents", 0600));
	free(tu_write_file(e->dir, "memory.md", "lower memory", 0600));
	base_ctx(&c, e->dir);
	p = prompt_build(&c, &rep);
	a = strstr(p, "/AGENTS.md\nagents\n");
	want = xasprintf("[MISSING] Expected at: %s/SOUL.md", e->dir);
	s = strstr(p, want);
	free(want);
	u = strstr(p, "/USER.md\nuser\n");
	m = strstr(p, "/memory.md\nlower memory");
	assert_non_null(a);
	assert_non_null(s);
	assert_non_null(u);
	assert_non_null(m);
	assert_true(a < s && s < u && u < m);
	assert_null(strstr(p, "TOOLS.md\n")); /* optional: left out when absent */
	assert_null(strstr(p, "/BOOTSTRAP.md"));
	assert_non_null(strstr(p, "\nUSER.md: "));
	assert_non_null(strstr(p, "\nMEMORY.md: "));
	assert_null(strstr(p, "\nSOUL.md: ")); /* only for a loaded SOUL.md */

	files = json_object_get(rep, "injectedWorkspaceFiles");
	assert_int_equal(json_array_size(files), 5); /* AGENTS SOUL IDENTITY USER memory */
	assert_string_equal(json_string_value(json_object_get(json_array_get(files, 1), "name")),
			    "SOUL.md");
	assert_true(json_is_true(json_object_get(json_array_get(files, 1), "missing")));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(files, 3), "rawChars")),
			 4);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(rep, "systemPrompt"), "chars")),
		(json_int_t)prompt_u16len(p, strlen(p)));
	assert_int_equal(strlen(json_string_value(
				 json_object_get(json_object_get(rep, "systemPrompt"), "hash"))),
			 64);
	assert_int_equal(json_integer_value(json_object_get(rep, "bootstrapMaxChars")), 20000);
	free(p);
	json_decref(rep);

	/* Not the main session: no memory file at all. */
	c.main_session = false;
	p = prompt_build(&c, NULL);
	assert_null(strstr(p, "memory.md"));
	free(p);
}

static char *openclaw_body(void)
{
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	for (int i = 0; i < 400; i++)
		buf_printf(&b, "%sline %d é😀", i ? "\n" : "", i);
	buf_puts(&b, "\n\n");
	return buf_detach(&b, NULL);
}

/* Byte-for-byte what OpenClaw 2026.9.6 produces (fixture made with its own code). */
static void test_truncation_matches_openclaw(void **state)
{
	json_error_t je;
	json_t *fx = json_load_file("tests/fixtures/prompt/truncation-openclaw.json", 0, &je);
	const char *key;
	json_t *want;
	char *body = openclaw_body();

	assert_non_null(fx);
	json_object_foreach(json_object_get(fx, "cases"), key, want)
	{
		bool tr;
		size_t raw;
		char *got = prompt_trim_file(body, "SOUL.md", (size_t)atoi(key), &tr, &raw);

		assert_true(tr);
		assert_int_equal(raw, 5089);
		if (strcmp(got, json_string_value(want)))
			fail_msg("max %s:\n got: %s\nwant: %s", key, got, json_string_value(want));
		assert_true(prompt_u16len(got, strlen(got)) <= (size_t)atoi(key));
		free(got);
	}
	free(body);
	json_decref(fx);
}

static void test_caps_in_prompt(void **state)
{
	struct env *e = *state;
	struct prompt_ctx c;
	struct config cfg;
	json_t *rep = NULL, *files;
	char *big = xmalloc(30001), *p;
	json_error_t je;

	memset(big, 'a', 30000);
	big[30000] = '\0';
	big[29999] = 'Z';
	free(tu_write_file(e->dir, "AGENTS.md", big, 0600));
	free(tu_write_file(e->dir, "SOUL.md", big, 0600));
	free(tu_write_file(e->dir, "IDENTITY.md", big, 0600));
	free(tu_write_file(e->dir, "USER.md", big, 0600));
	config_init(&cfg);
	cfg.root = json_loads("{\"agents\":{\"defaults\":{\"bootstrapMaxChars\":5000,"
			      "\"bootstrapTotalMaxChars\":12000}}}",
			      0, &je);
	base_ctx(&c, e->dir);
	c.cfg = &cfg;
	p = prompt_build(&c, &rep);
	assert_non_null(strstr(p, "[...truncated, read AGENTS.md for full content...]"));
	assert_non_null(strstr(p, "…(truncated AGENTS.md: kept "));
	assert_non_null(strstr(p, "aZ\n## /")); /* the tail survives */
	files = json_object_get(rep, "injectedWorkspaceFiles");
	assert_in_range(
		json_integer_value(json_object_get(json_array_get(files, 0), "injectedChars")),
		4990, 5000);
	assert_true(json_is_true(json_object_get(json_array_get(files, 0), "truncated")));
	/* USER.md is held to 4000; the total budget stops at 12000 overall. */
	{
		json_int_t total = 0;
		size_t i;
		json_t *f;

		json_array_foreach(files, i, f) total +=
			json_integer_value(json_object_get(f, "injectedChars"));
		assert_true(total <= 12000);
	}
	assert_int_equal(json_integer_value(json_object_get(rep, "bootstrapTotalMaxChars")), 12000);
	free(p);
	json_decref(rep);
	config_release(&cfg);
	free(big);
}

static void test_cache_refresh(void **state)
{
	struct env *e = *state;
	struct prompt_ctx c;
	char *p;

	free(tu_write_file(e->dir, "AGENTS.md", "first version\n", 0600));
	base_ctx(&c, e->dir);
	p = prompt_build(&c, NULL);
	assert_non_null(strstr(p, "first version"));
	free(p);
	/* Same size, so only the mtime tells: a different content must still show. */
	free(tu_write_file(e->dir, "AGENTS.md", "other version\n", 0600));
	{
		char *path = fs_join(e->dir, "AGENTS.md");
		struct timespec ts[2] = { { 0, UTIME_OMIT }, { 12345, 0 } };

		utimensat(AT_FDCWD, path, ts, 0);
		free(path);
	}
	p = prompt_build(&c, NULL);
	assert_non_null(strstr(p, "other version"));
	assert_null(strstr(p, "first version"));
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sections_full, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_sections_minimal_none, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(test_files_order_and_markers, env_setup,
						env_teardown),
		cmocka_unit_test(test_truncation_matches_openclaw),
		cmocka_unit_test_setup_teardown(test_caps_in_prompt, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_cache_refresh, env_setup, env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
