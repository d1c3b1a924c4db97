/*
 * test_skills.c - SKILL.md front matter, discovery precedence, gating,
 * allowlists, the prompt block and the status report. OpenClaw's own
 * skills (tests/fixtures/skills, MIT) must load unchanged.
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
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "config/config.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "skills/skills.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures/skills"
#endif

static json_t *fm_ok(const char *text)
{
	char err[256] = "";
	json_t *fm = NULL;

	if (skill_frontmatter_parse(text, strlen(text), &fm, err, sizeof(err)) != 0)
		fail_msg("unexpected error: %s", err);
	return fm;
}

static void fm_bad(const char *text, const char *want)
{
	char err[256] = "";
	json_t *fm = NULL;

	assert_int_equal(skill_frontmatter_parse(text, strlen(text), &fm, err, sizeof(err)), -1);
	assert_null(fm);
	if (!strstr(err, want))
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

static void test_fm_basic(void **state)
{
	json_t *fm = fm_ok("---\nname: foo\ndescription: \"Does: things\"\nhomepage: 'x'\n"
			   "user-invocable: false\nempty:\n---\n# Body\n");

	assert_string_equal(json_string_value(json_object_get(fm, "name")), "foo");
	assert_string_equal(json_string_value(json_object_get(fm, "description")), "Does: things");
	assert_string_equal(json_string_value(json_object_get(fm, "homepage")), "x");
	assert_string_equal(json_string_value(json_object_get(fm, "user-invocable")), "false");
	assert_null(json_object_get(fm, "empty"));
	json_decref(fm);
}

static void test_fm_bom_crlf(void **state)
{
	json_t *fm = fm_ok("\xef\xbb\xbf---\r\nname: a\r\ndescription: b c \r\n---\r\nbody\r\n");
	char *body;

	assert_string_equal(json_string_value(json_object_get(fm, "name")), "a");
	assert_string_equal(json_string_value(json_object_get(fm, "description")), "b c");
	json_decref(fm);
	body = skill_body("\xef\xbb\xbf---\r\nname: a\r\n---\r\n\r\nbody\r\n", 30);
	assert_string_equal(body, "body");
	free(body);
}

static void test_fm_metadata_forms(void **state)
{
	json_t *fm, *m, *owned;

	/* One line of JSON, as the spec asks. */
	fm = fm_ok("---\nname: a\nmetadata: "
		   "{\"openclaw\":{\"always\":true,\"os\":[\"linux\"]}}\n---\n");
	m = skill_manifest(fm, &owned);
	assert_non_null(m);
	assert_true(json_is_true(json_object_get(m, "always")));
	json_decref(owned);
	json_decref(fm);
	/* A quoted JSON5 string, and the pincer alias. */
	fm = fm_ok("---\nname: a\nmetadata: '{pincer: {emoji: \"x\", requires: {bins: "
		   "[\"sh\"]}}}'\n---\n");
	m = skill_manifest(fm, &owned);
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(m, "emoji")), "x");
	json_decref(owned);
	json_decref(fm);
	/* Multi-line flow mapping with trailing commas (OpenClaw's bundled skills). */
	fm = fm_ok(
		"---\nname: a\nmetadata:\n  {\n    \"clawdbot\":\n      {\n        \"requires\": "
		"{ \"env\": [\"K\"] },\n      },\n  }\n---\n");
	m = skill_manifest(fm, &owned);
	assert_non_null(m);
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(json_object_get(m, "requires"), "env"), 0)),
			    "K");
	json_decref(owned);
	json_decref(fm);
	/* Malformed metadata: the skill still parses, the manifest is just absent. */
	fm = fm_ok("---\nname: a\nmetadata: '{openclaw: '\n---\n");
	assert_null(skill_manifest(fm, &owned));
	json_decref(fm);
}

static void test_fm_errors(void **state)
{
	json_t *fm;

	fm_bad("---\nname: a\n", "missing closing --- delimiter");
	fm_bad("---\n- a\n- b\n---\n", "must be a YAML mapping");
	fm_bad("---\nname: [a\n---\n", "invalid frontmatter");
	fm_bad("---\nname: a\nname: b\n---\n", "duplicate key");
	fm_bad("---\na: &x [1,1,1,1,1,1,1,1,1,1]\nb: &y [*x,*x,*x,*x,*x,*x,*x,*x,*x,*x]\n"
	       "c: &z [*y,*y,*y,*y,*y,*y,*y,*y,*y,*y]\nd: &w [*z,*z,*z,*z,*z,*z,*z,*z,*z,*z]\n"
	       "e: [*w,*w,*w,*w,*w,*w,*w,*w,*w,*w]\n---\n",
	       "too deeply nested or too large");
	/* No front matter at all is not an error: an empty object. */
	fm = fm_ok("# just markdown\n");
	assert_int_equal(json_object_size(fm), 0);
	json_decref(fm);
	/* OpenClaw's recovery: a description with ": " in it is one string. */
	fm = fm_ok("---\nname: a\ndescription: Use when: the user asks\n---\n");
	assert_string_equal(json_string_value(json_object_get(fm, "description")),
			    "Use when: the user asks");
	json_decref(fm);
}

static void test_expand(void **state)
{
	char *s = skill_expand_basedir("run {baseDir}/x.sh and {baseDir}", "/a/b");

	assert_string_equal(s, "run /a/b/x.sh and /a/b");
	free(s);
}

/* ==== loading ==== */

struct env {
	char dir[PATH_MAX];
	char home[PATH_MAX + 8], ws[PATH_MAX + 8], managed[PATH_MAX + 16], bundled[PATH_MAX + 16];
	char *old_home, *old_path;
};

static void mkskill(const char *root, const char *folder, const char *text)
{
	char *d = fs_join(root, folder);

	assert_int_equal(fs_mkdir_p(d, 0700), 0);
	free(tu_write_file(d, "SKILL.md", text, 0600));
	free(d);
}

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	const char *h = getenv("HOME"), *p = getenv("PATH");

	if (!e || tu_mkdtemp(e->dir, sizeof(e->dir), "skills"))
		return -1;
	snprintf(e->home, sizeof(e->home), "%s/home", e->dir);
	snprintf(e->ws, sizeof(e->ws), "%s/ws", e->dir);
	snprintf(e->managed, sizeof(e->managed), "%s/state/skills", e->dir);
	snprintf(e->bundled, sizeof(e->bundled), "%s/bundled", e->dir);
	fs_mkdir_p(e->home, 0700);
	fs_mkdir_p(e->ws, 0700);
	fs_mkdir_p(e->bundled, 0700);
	e->old_home = h ? strdup(h) : NULL;
	e->old_path = p ? strdup(p) : NULL;
	setenv("HOME", e->home, 1);
	setenv("PINCER_BUNDLED_SKILLS_DIR", e->bundled, 1);
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;

	if (e->old_home)
		setenv("HOME", e->old_home, 1);
	if (e->old_path)
		setenv("PATH", e->old_path, 1);
	unsetenv("PINCER_BUNDLED_SKILLS_DIR");
	tu_rm_rf(e->dir);
	free(e->old_home);
	free(e->old_path);
	free(e);
	return 0;
}

static void cfg_from(struct config *cfg, const char *json)
{
	json_error_t je;

	config_init(cfg);
	cfg->root = json_loads(json, 0, &je);
	assert_non_null(cfg->root);
}

#define SK(n, d) "---\nname: " n "\ndescription: " d "\n---\nbody\n"

static void test_precedence(void **state)
{
	struct env *e = *state;
	struct skill_set set;
	const struct skill *s;
	char extra[PATH_MAX + 8], agents[PATH_MAX + 32], wsagents[PATH_MAX + 32],
		wsskills[PATH_MAX + 16], json[PATH_MAX + 128];
	struct config cfg;

	snprintf(extra, sizeof(extra), "%s/extra", e->dir);
	snprintf(agents, sizeof(agents), "%s/.agents/skills", e->home);
	snprintf(wsagents, sizeof(wsagents), "%s/.agents/skills", e->ws);
	snprintf(wsskills, sizeof(wsskills), "%s/skills", e->ws);
	mkskill(extra, "a", SK("one", "from extra"));
	mkskill(e->bundled, "b", SK("one", "from bundled"));
	mkskill(e->bundled, "two", SK("two", "bundled two"));
	mkskill(e->managed, "c", SK("one", "from managed"));
	mkskill(agents, "d", SK("three", "personal"));
	mkskill(wsagents, "e", SK("three", "project"));
	mkskill(wsskills, "f", SK("one", "from workspace"));
	mkskill(wsskills, ".hidden", SK("hidden", "no"));
	mkskill(wsskills, "noname", "---\ndescription: folder name used\n---\n");
	mkskill(wsskills, "nodesc", "---\nname: nodesc\n---\n");
	snprintf(json, sizeof(json), "{\"skills\":{\"load\":{\"extraDirs\":[\"%s\"]}}}", extra);
	cfg_from(&cfg, json);

	skills_load(&set, &cfg, e->ws, e->managed, NULL);
	assert_int_equal(set.n, 4);
	s = skills_find(&set, "one");
	assert_string_equal(s->description, "from workspace");
	assert_string_equal(s->source, "workspace");
	assert_string_equal(skills_find(&set, "three")->description, "project");
	assert_string_equal(skills_find(&set, "two")->source, "bundled");
	assert_non_null(skills_find(&set, "noname"));
	assert_null(skills_find(&set, "hidden"));
	assert_int_equal(json_array_size(set.invalid), 1);
	assert_non_null(strstr(
		json_string_value(json_object_get(json_array_get(set.invalid, 0), "message")),
		"description is required"));
	/* Sorted by name. */
	assert_string_equal(set.v[0].name, "noname");
	assert_string_equal(set.v[3].name, "two");
	skills_release(&set);
	config_release(&cfg);
}

static void test_gating(void **state)
{
	struct env *e = *state;
	char wsskills[PATH_MAX + 16], bin[PATH_MAX + 16];
	struct skill_set set;
	const struct skill *s;
	struct config cfg;

	snprintf(wsskills, sizeof(wsskills), "%s/skills", e->ws);
	snprintf(bin, sizeof(bin), "%s/bin", e->dir);
	fs_mkdir_p(bin, 0700);
	free(tu_write_file(bin, "have-it", "#!/bin/sh\n", 0700));
	free(tu_write_file(bin, "not-exec", "x", 0600));
	setenv("PATH", bin, 1);
	unsetenv("PINCER_TEST_KEY");
	mkskill(wsskills, "bins",
		"---\nname: bins\ndescription: d\nmetadata: {\"openclaw\":"
		"{\"requires\":{\"bins\":[\"have-it\",\"not-exec\"]}}}\n---\n");
	mkskill(wsskills, "any",
		"---\nname: any\ndescription: d\nmetadata: {\"openclaw\":"
		"{\"requires\":{\"anyBins\":[\"nope\",\"have-it\"]}}}\n---\n");
	mkskill(wsskills, "env",
		"---\nname: env\ndescription: d\nmetadata: {\"openclaw\":"
		"{\"primaryEnv\":\"PINCER_TEST_KEY\",\"requires\":{\"env\":"
		"[\"PINCER_TEST_KEY\"]}}}\n---\n");
	mkskill(wsskills, "envcfg",
		"---\nname: envcfg\ndescription: d\nmetadata: {\"openclaw\":"
		"{\"requires\":{\"env\":[\"OTHER_KEY_X\"]}}}\n---\n");
	mkskill(wsskills, "conf",
		"---\nname: conf\ndescription: d\nmetadata: {\"openclaw\":"
		"{\"requires\":{\"config\":[\"gateway.port\",\"browser.enabled\","
		"\"x.y\"]}}}\n---\n");
	mkskill(wsskills, "os",
		"---\nname: os\ndescription: d\nmetadata: {\"openclaw\":"
		"{\"always\":true,\"os\":[\"darwin\"],\"requires\":{\"bins\":[\"nope\"]}}}\n---\n");
	mkskill(wsskills, "always",
		"---\nname: always\ndescription: d\nmetadata: {\"openclaw\":"
		"{\"always\":true,\"requires\":{\"bins\":[\"nope\"]}}}\n---\n");
	mkskill(wsskills, "off", SK("off", "d"));
	mkskill(wsskills, "hidden",
		"---\nname: hidden\ndescription: d\n"
		"disable-model-invocation: true\n---\n");
	cfg_from(&cfg, "{\"gateway\":{\"port\":1},\"skills\":{\"entries\":{\"off\":{\"enabled\":"
		       "false},\"env\":{\"apiKey\":\"k\"},\"envcfg\":{\"env\":{\"OTHER_KEY_X\":"
		       "\"v\"}}}}}");
	skills_load(&set, &cfg, e->ws, NULL, NULL);

	s = skills_find(&set, "bins");
	assert_false(s->eligible);
	assert_int_equal(json_array_size(json_object_get(s->missing, "bins")), 1);
	assert_string_equal(
		json_string_value(json_array_get(json_object_get(s->missing, "bins"), 0)),
		"not-exec");
	assert_true(skills_find(&set, "any")->eligible);
	assert_true(skills_find(&set, "env")->eligible); /* apiKey stands in for primaryEnv */
	assert_true(skills_find(&set, "envcfg")->eligible);
	s = skills_find(&set, "conf");
	assert_false(s->eligible);
	assert_string_equal(
		json_string_value(json_array_get(json_object_get(s->missing, "config"), 0)), "x.y");
	assert_int_equal(json_array_size(json_object_get(s->missing, "config")), 1);
	s = skills_find(&set, "os");
	assert_false(s->eligible); /* always never waives os */
	assert_int_equal(json_array_size(json_object_get(s->missing, "os")), 1);
	assert_int_equal(json_array_size(json_object_get(s->missing, "bins")), 0);
	assert_true(skills_find(&set, "always")->eligible);
	s = skills_find(&set, "off");
	assert_true(s->disabled);
	assert_false(s->eligible);
	s = skills_find(&set, "hidden");
	assert_true(s->eligible);
	assert_false(skill_model_visible(s));
	skills_release(&set);
	config_release(&cfg);
}

static void test_allowlists(void **state)
{
	struct env *e = *state;
	char wsskills[PATH_MAX + 16];
	struct skill_set set;
	struct config cfg;

	snprintf(wsskills, sizeof(wsskills), "%s/skills", e->ws);
	mkskill(e->bundled, "b1", SK("b1", "d"));
	mkskill(e->bundled, "b2", SK("b2", "d"));
	mkskill(wsskills, "w1", SK("w1", "d"));
	cfg_from(&cfg, "{\"skills\":{\"allowBundled\":[\"b2\"]},\"agents\":{\"defaults\":"
		       "{\"skills\":[\"b2\",\"w1\"]},\"list\":[{\"id\":\"main\"},{\"id\":\"ops\","
		       "\"skills\":[]},{\"id\":\"kid\",\"skills\":[\"b1\"]}]}}");
	skills_load(&set, &cfg, e->ws, NULL, "main");
	assert_true(skills_find(&set, "b1")->blocked_by_allowlist);
	assert_false(skills_find(&set, "b2")->blocked_by_allowlist);
	assert_false(skills_find(&set, "w1")->blocked_by_allowlist); /* only bundled ones */
	assert_true(skill_model_visible(skills_find(&set, "w1")));
	skills_release(&set);

	skills_load(&set, &cfg, e->ws, NULL, "ops"); /* [] means none */
	for (size_t i = 0; i < set.n; i++)
		assert_false(skill_model_visible(&set.v[i]));
	skills_release(&set);

	skills_load(&set, &cfg, e->ws, NULL, "kid"); /* replaces the defaults, no merge */
	assert_true(skills_find(&set, "w1")->blocked_by_agent_filter);
	assert_false(skills_find(&set, "b1")->blocked_by_agent_filter);
	assert_false(skill_model_visible(skills_find(&set, "b1"))); /* still not allowBundled */
	skills_release(&set);
	config_release(&cfg);
}

static void test_prompt_block(void **state)
{
	struct env *e = *state;
	char wsskills[PATH_MAX + 16], want[PATH_MAX * 2];
	struct skill_set set;
	json_t *ents = NULL;
	char *p;

	snprintf(wsskills, sizeof(wsskills), "%s/skills", e->ws);
	mkskill(wsskills, "x", "---\nname: x<&>\ndescription: \"Say \\\"hi\\\" & 'bye'\"\n---\n");
	skills_load(&set, NULL, e->ws, NULL, NULL);
	p = skills_prompt_block(&set, &ents);
	snprintf(want, sizeof(want),
		 "The following skills provide specialized instructions for specific tasks.\n"
		 "Read a skill's file at its listed location when the task matches its "
		 "description.\n"
		 "When a skill file references a relative path, resolve it against the skill "
		 "directory (parent of SKILL.md / dirname of the path) and use that absolute path "
		 "in tool commands.\n\n"
		 "<available_skills>\n  <skill>\n    <name>x&lt;&amp;&gt;</name>\n"
		 "    <description>Say &quot;hi&quot; &amp; &apos;bye&apos;</description>\n"
		 "    <location>%s/x/SKILL.md</location>\n  </skill>\n</available_skills>",
		 wsskills);
	assert_string_equal(p, want);
	assert_int_equal(json_array_size(ents), 1);
	free(p);
	json_decref(ents);
	skills_release(&set);

	skills_load(&set, NULL, NULL, NULL, NULL);
	p = skills_prompt_block(&set, NULL);
	assert_string_equal(p, "");
	free(p);
	skills_release(&set);
}

static void test_prompt_cap(void **state)
{
	struct env *e = *state;
	char wsskills[PATH_MAX + 16], name[32], text[600];
	struct skill_set set;
	char *p;

	snprintf(wsskills, sizeof(wsskills), "%s/skills", e->ws);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "s%03d", i);
		snprintf(text, sizeof(text), "---\nname: %s\ndescription: %0300d\n---\n", name, 0);
		mkskill(wsskills, name, text);
	}
	skills_load(&set, NULL, e->ws, NULL, NULL);
	p = skills_prompt_block(&set, NULL);
	assert_true(strlen(p) <= SKILLS_PROMPT_MAX_CHARS);
	assert_non_null(strstr(p, "Skills truncated: included "));
	assert_non_null(strstr(p, " of 100."));
	assert_non_null(strstr(p, "</available_skills>"));
	free(p);
	skills_release(&set);
}

/* OpenClaw's own SKILL.md files: they load and gate as OpenClaw does. */
static void test_openclaw_fixtures(void **state)
{
	struct env *e = *state;
	struct skill_set set;
	const struct skill *s;
	json_t *st;

	setenv("PINCER_BUNDLED_SKILLS_DIR", FIXTURES, 1);
	setenv("PATH", "/nonexistent", 1);
	unsetenv("TRELLO_API_KEY");
	skills_load(&set, NULL, e->ws, NULL, NULL);
	assert_int_equal(json_array_size(set.invalid), 0);
	assert_int_equal(set.n, 3);
	s = skills_find(&set, "weather");
	assert_non_null(s);
	assert_true(s->eligible); /* no requires: curl is only an install hint */
	assert_string_equal(s->emoji, "☔");
	assert_string_equal(s->homepage, "https://wttr.in/:help");
	s = skills_find(&set, "1password");
	assert_false(s->eligible);
	assert_string_equal(
		json_string_value(json_array_get(json_object_get(s->missing, "bins"), 0)), "op");
	s = skills_find(&set, "trello");
	assert_false(s->eligible);
	assert_int_equal(json_array_size(json_object_get(s->missing, "env")), 2);
	assert_int_equal(json_array_size(json_object_get(s->missing, "bins")), 2);

	st = skills_status_json(&set);
	s = &set.v[0];
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(st, "skills"), 0), "source")),
			    "openclaw-bundled");
	assert_true(json_is_true(
		json_object_get(json_array_get(json_object_get(st, "skills"), 0), "bundled")));
	json_decref(st);
	skills_release(&set);
	setenv("PINCER_BUNDLED_SKILLS_DIR", e->bundled, 1);
}

static void test_oversize(void **state)
{
	struct env *e = *state;
	char wsskills[PATH_MAX + 16];
	struct skill_set set;
	char *big = xmalloc(SKILL_MAX_FILE_BYTES + 100);

	snprintf(wsskills, sizeof(wsskills), "%s/skills", e->ws);
	memset(big, 'x', SKILL_MAX_FILE_BYTES + 99);
	memcpy(big, SK("big", "d"), strlen(SK("big", "d")));
	big[SKILL_MAX_FILE_BYTES + 99] = '\0';
	mkskill(wsskills, "big", big);
	free(big);
	skills_load(&set, NULL, e->ws, NULL, NULL);
	assert_int_equal(set.n, 0);
	assert_non_null(strstr(
		json_string_value(json_object_get(json_array_get(set.invalid, 0), "message")),
		"larger than"));
	skills_release(&set);
}

static void test_roots(void **state)
{
	struct env *e = *state;
	struct config cfg;
	json_t *r;
	char want[PATH_MAX + 32];

	cfg_from(&cfg, "{\"skills\":{\"load\":{\"extraDirs\":[\" /x/extra \", \"\"]}}}");
	r = skills_roots(&cfg, e->ws, e->managed);
	/* extra, bundled, managed, ~/.agents/skills, ws/.agents/skills, ws/skills */
	assert_int_equal(json_array_size(r), 6);
	assert_string_equal(json_string_value(json_array_get(r, 0)), "/x/extra");
	assert_string_equal(json_string_value(json_array_get(r, 1)), e->bundled);
	assert_string_equal(json_string_value(json_array_get(r, 2)), e->managed);
	snprintf(want, sizeof(want), "%s/.agents/skills", e->home);
	assert_string_equal(json_string_value(json_array_get(r, 3)), want);
	snprintf(want, sizeof(want), "%s/skills", e->ws);
	assert_string_equal(json_string_value(json_array_get(r, 5)), want);
	json_decref(r);
	/* No workspace, no managed dir: just the shared places. */
	r = skills_roots(NULL, NULL, NULL);
	assert_int_equal(json_array_size(r), 2);
	json_decref(r);
	config_release(&cfg);
}

struct async_probe {
	struct skill_set *set;
	int calls;
};

static void async_done(void *arg, struct skill_set *set)
{
	struct async_probe *p = arg;

	p->calls++;
	p->set = set;
}

static void test_load_async(void **state)
{
	struct env *e = *state;
	struct async_probe p = { 0 }, never = { 0 };
	struct skills_load_req *req;
	struct config cfg;
	char wsskills[PATH_MAX + 16];
	uv_loop_t loop;

	snprintf(wsskills, sizeof(wsskills), "%s/skills", e->ws);
	mkskill(wsskills, "a", SK("alpha", "from the pool"));
	mkskill(wsskills, "b", SK("beta", "switched off"));
	cfg_from(&cfg, "{\"skills\":{\"entries\":{\"beta\":{\"enabled\":false}}}}");
	uv_loop_init(&loop);
	assert_non_null(skills_load_async(&loop, &cfg, e->ws, e->managed, "main", async_done, &p));
	/* The worker has its own copy: the caller may drop the config at once. */
	config_release(&cfg);
	req = skills_load_async(&loop, NULL, e->ws, NULL, NULL, async_done, &never);
	assert_non_null(req);
	skills_load_cancel(req);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(p.calls, 1);
	assert_int_equal(never.calls, 0);
	assert_int_equal(p.set->n, 2);
	assert_string_equal(p.set->agent_id, "main");
	assert_true(skills_find(p.set, "alpha")->eligible);
	assert_true(skills_find(p.set, "beta")->disabled);
	skills_release(p.set);
	free(p.set);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	struct log_opts lo;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fm_basic),
		cmocka_unit_test(test_fm_bom_crlf),
		cmocka_unit_test(test_fm_metadata_forms),
		cmocka_unit_test(test_fm_errors),
		cmocka_unit_test(test_expand),
		cmocka_unit_test_setup_teardown(test_precedence, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_gating, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_allowlists, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_prompt_block, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_prompt_cap, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_openclaw_fixtures, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_oversize, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_roots, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_load_async, env_setup, env_teardown),
	};
	log_opts_default(&lo);
	lo.console_level = LOG_ERROR; /* invalid skills are logged as warnings on purpose */
	log_setup(&lo);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
