/*
 * test_approvals.c - exec approvals: the policy arithmetic (stricter of
 * config and file, call params only tighten, elevated full), allowlist
 * glob patterns (~, **, bare names), command segmentation, the file
 * (validation, fail closed, 0600), and the check flow on a real loop:
 * ask, resolve allow-once / allow-always (persisted, then no ask), deny,
 * lastUsed updates, askFallback with nobody to ask and on timeout.
 *
 * Every test runs in its own state directory.
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
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "config/config.h"
#include "core/fs.h"
#include "tools/approvals.h"
#include "tools/approvals_file.h"
#include "tools/tool.h"

struct fx {
	char dir[PATH_MAX];
	char bin[PATH_MAX + 8]; /* dir/bin with executables */
	char *path;             /* exec-approvals.json */
	uv_loop_t loop;
	struct config cfg;
	int emitted, requested, resolved, recipients;
	char last_id[64];
	/* the check's answer */
	int answers;
	bool allowed;
	char reason[512];
};

static struct fx *F;

static int emit(void *arg, const char *event, json_t *payload, const char *exclude)
{
	struct fx *f = arg;

	(void)exclude;
	f->emitted++;
	if (!strcmp(event, "exec.approval.requested")) {
		f->requested++;
		snprintf(f->last_id, sizeof(f->last_id), "%s",
			 json_string_value(json_object_get(payload, "id")));
		assert_string_equal(json_string_value(json_object_get(payload, "approvalKind")),
				    "exec");
		assert_non_null(json_object_get(json_object_get(payload, "request"), "command"));
	} else if (!strcmp(event, "exec.approval.resolved")) {
		f->resolved++;
	}
	json_decref(payload);
	return f->recipients;
}

static void answer(void *arg, bool allowed, const char *reason)
{
	struct fx *f = arg;

	f->answers++;
	f->allowed = allowed;
	snprintf(f->reason, sizeof(f->reason), "%s", reason ? reason : "");
}

static void cfg_set(struct fx *f, const char *text)
{
	json_error_t je;

	config_release(&f->cfg);
	config_init(&f->cfg);
	f->cfg.root = json_loads(text, 0, &je);
	if (!f->cfg.root)
		fail_msg("bad test json: %s", je.text);
}

static void write_file(struct fx *f, const char *json)
{
	char *p = tu_write_file(f->dir, APF_FILE_NAME, json, 0600);

	assert_non_null(p);
	free(p);
}

static void mkexe(struct fx *f, const char *name)
{
	char *p = tu_write_file(f->bin, name, "#!/bin/sh\n", 0755);

	assert_non_null(p);
	free(p);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct approvals_hooks h;

	if (!f || tu_mkdtemp(f->dir, sizeof(f->dir), "approvals") < 0)
		return -1;
	snprintf(f->bin, sizeof(f->bin), "%s/bin", f->dir);
	mkdir(f->bin, 0755);
	f->path = apf_path(f->dir);
	uv_loop_init(&f->loop);
	config_init(&f->cfg);
	f->cfg.root = json_object();
	f->recipients = 1;
	h.emit = emit;
	h.arg = f;
	approvals_init(&f->loop, f->dir, &h);
	approvals_set_timeout_ms(0);
	F = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	approvals_shutdown();
	uv_run(&f->loop, UV_RUN_DEFAULT);
	uv_loop_close(&f->loop);
	config_release(&f->cfg);
	tu_rm_rf(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static struct exec_approval *check(struct fx *f, const char *cmd, const char *sec, const char *ask)
{
	struct tool_env env = { .loop = &f->loop,
				.cfg = &f->cfg,
				.agent_id = "main",
				.session_key = "agent:main:main" };
	struct exec_request req = { .command = cmd, .cwd = f->dir, .security = sec, .ask = ask };
	char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	struct exec_approval *a;

	f->answers = 0;
	f->reason[0] = '\0';
	setenv("PATH", f->bin, 1);
	a = exec_approval_check(&env, &req, answer, f);
	if (old) {
		setenv("PATH", old, 1);
		free(old);
	}
	return a;
}

static json_t *load_file(struct fx *f)
{
	struct apf_snapshot s;
	json_t *doc;

	assert_int_equal(apf_load(f->path, &s), 0);
	assert_false(s.malformed);
	doc = json_incref(s.file);
	apf_snapshot_release(&s);
	return doc;
}

/* ==== pure parts ==== */

static void test_glob(void **state)
{
	char t[PATH_MAX];
	const char *home = getenv("HOME");

	(void)state;
	assert_true(apf_glob_match("/usr/bin/rg", "/usr/bin/rg"));
	assert_true(apf_glob_match("/usr/bin/*", "/usr/bin/rg"));
	assert_false(apf_glob_match("/usr/*", "/usr/bin/rg"));
	assert_true(apf_glob_match("/usr/**", "/usr/bin/rg"));
	assert_true(apf_glob_match("/usr/**/rg", "/usr/local/share/bin/rg"));
	assert_true(apf_glob_match("/usr/bin/r?", "/usr/bin/rg"));
	assert_false(apf_glob_match("/usr/bin/r?", "/usr/bin/r/"));
	assert_false(apf_glob_match("/usr/bin/rg", "/usr/bin/rgx"));
	assert_true(apf_glob_match("  /usr/bin/rg  ", "/usr/bin/rg"));
	assert_false(apf_glob_match("", "/usr/bin/rg"));
	/* the target's dot segments are normalized for a wildcard pattern */
	assert_true(apf_glob_match("/usr/bin/*", "/usr/lib/../bin/rg"));
	if (home) {
		snprintf(t, sizeof(t), "%s/Projects/a/b/bin/rg", home);
		assert_true(apf_glob_match("~/Projects/**/bin/rg", t));
		assert_false(apf_glob_match("~/Projects/*/bin/rg", t));
	}
}

static void test_analyze(void **state)
{
	struct fx *f = *state;
	struct apf_analysis a;

	mkexe(f, "ls");
	mkexe(f, "wc");
	apf_analyze("ls -la 'a b' \"c d\" e\\ f && ls | wc -l; true", f->dir, f->bin, &a);
	assert_true(a.ok);
	assert_int_equal(a.nseg, 4);
	assert_int_equal(a.seg[0].argc, 5);
	assert_string_equal(a.seg[0].argv[2], "a b");
	assert_string_equal(a.seg[0].argv[3], "c d");
	assert_string_equal(a.seg[0].argv[4], "e f");
	assert_non_null(a.seg[0].resolved);
	assert_true(strstr(a.seg[0].resolved, "/bin/ls") != NULL);
	assert_string_equal(a.seg[2].argv[0], "wc");
	assert_true(a.seg[3].builtin);
	apf_analysis_release(&a);

	static const char *const bad[] = { "echo $HOME", "ls `id`", "ls $(id)",  "ls > out",
					   "ls < in",    "(ls)",    "ls &",      "FOO=1 ls",
					   "ls *.c",     "ls\nid",  "ls 'open",  "ls && ",
					   "ls \"$x\"",  "ls ~/x",  "ls \\\n-l", "ls |& wc",
					   "{ ls; }",    "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		apf_analyze(bad[i], f->dir, f->bin, &a);
		if (a.ok)
			fail_msg("analysis should fail: %s", bad[i]);
		apf_analysis_release(&a);
	}
	/* single quotes keep $ literal */
	apf_analyze("ls '$HOME'", f->dir, f->bin, &a);
	assert_true(a.ok);
	assert_string_equal(a.seg[0].argv[1], "$HOME");
	apf_analysis_release(&a);
}

static void test_match(void **state)
{
	struct fx *f = *state;
	struct apf_analysis a;
	json_t *list, *m = json_array();
	char pat[2 * PATH_MAX];

	mkexe(f, "rg");
	mkexe(f, "ls");
	snprintf(pat, sizeof(pat), "%s/**", f->dir);
	list = json_pack("[{s:s}, {s:s}]", "pattern", "ls", "pattern", pat);
	apf_analyze("rg foo && ls", f->dir, f->bin, &a);
	assert_true(apf_allowlist_satisfied(list, &a, f->dir, m));
	assert_int_equal(json_array_size(m), 2);
	apf_analysis_release(&a);
	/* a bare name never matches an executable named by path */
	json_decref(list);
	list = json_pack("[{s:s}]", "pattern", "rg");
	snprintf(pat, sizeof(pat), "%s/rg x", f->bin);
	apf_analyze(pat, f->dir, f->bin, &a);
	assert_false(apf_allowlist_satisfied(list, &a, f->dir, NULL));
	apf_analysis_release(&a);
	apf_analyze("rg x", f->dir, f->bin, &a);
	assert_true(apf_allowlist_satisfied(list, &a, f->dir, NULL));
	apf_analysis_release(&a);
	/* an unknown executable only passes a bare "*" */
	apf_analyze("nosuchtool", f->dir, f->bin, &a);
	assert_false(apf_allowlist_satisfied(list, &a, f->dir, NULL));
	json_decref(list);
	list = json_pack("[{s:s}]", "pattern", "*");
	assert_true(apf_allowlist_satisfied(list, &a, f->dir, NULL));
	apf_analysis_release(&a);
	/* allow-always entries bind this argv in this directory, nothing else */
	json_decref(list);
	apf_analyze("rg foo", f->dir, f->bin, &a);
	list = apf_allow_always_entries(&a, f->dir);
	assert_non_null(list);
	assert_int_equal(json_array_size(list), 1);
	assert_true(apf_allowlist_satisfied(list, &a, f->dir, NULL));
	assert_false(apf_allowlist_satisfied(list, &a, "/tmp", NULL));
	apf_analysis_release(&a);
	apf_analyze("rg bar", f->dir, f->bin, &a);
	assert_false(apf_allowlist_satisfied(list, &a, f->dir, NULL));
	apf_analysis_release(&a);
	/* interpreters get no allow-always */
	mkexe(f, "python3");
	apf_analyze("python3 -c 1", f->dir, f->bin, &a);
	assert_null(apf_allow_always_entries(&a, f->dir));
	apf_analysis_release(&a);
	json_decref(list);
	json_decref(m);
}

static void test_file(void **state)
{
	struct fx *f = *state;
	struct apf_snapshot s;
	struct stat st;
	char err[256], hash[APF_HASH_LEN];
	json_t *doc;

	/* missing: an empty policy and the "missing:" hash */
	assert_int_equal(apf_load(f->path, &s), 0);
	assert_false(s.exists);
	assert_true(!strncmp(s.hash, "missing:", 8));
	apf_snapshot_release(&s);
	/* strings become entries with ids; legacy "default" folds into main */
	write_file(f, "{\"version\":1,\"agents\":{\"default\":{\"security\":\"allowlist\","
		      "\"allowlist\":[\"/bin/ls\"]},\"main\":{\"ask\":\"always\","
		      "\"allowlist\":[{\"pattern\":\"/bin/cat\",\"commandText\":\"x\"}]}}}");
	assert_int_equal(apf_load(f->path, &s), 0);
	assert_false(s.malformed);
	doc = json_object_get(json_object_get(s.file, "agents"), "main");
	assert_string_equal(json_string_value(json_object_get(doc, "security")), "allowlist");
	assert_string_equal(json_string_value(json_object_get(doc, "ask")), "always");
	assert_int_equal(json_array_size(json_object_get(doc, "allowlist")), 2);
	assert_non_null(
		json_object_get(json_array_get(json_object_get(doc, "allowlist"), 0), "id"));
	assert_null(json_object_get(json_array_get(json_object_get(doc, "allowlist"), 0),
				    "commandText"));
	assert_null(json_object_get(json_object_get(s.file, "agents"), "default"));
	assert_int_equal(apf_save(f->path, s.file, hash, err, sizeof(err)), 0);
	apf_snapshot_release(&s);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(apf_load(f->path, &s), 0);
	assert_string_equal(s.hash, hash);
	apf_snapshot_release(&s);
	/* malformed: fails closed */
	write_file(f, "{\"version\":1,\"defaults\":{\"security\":\"yolo\"}}");
	assert_int_equal(apf_load(f->path, &s), 0);
	assert_true(s.malformed);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(s.file, "defaults"), "security")),
		"deny");
	apf_snapshot_release(&s);
	write_file(f, "not json");
	assert_int_equal(apf_load(f->path, &s), 0);
	assert_true(s.malformed);
	apf_snapshot_release(&s);
	/* the protocol's closed schema refuses unknown keys */
	doc = json_pack("{s:i, s:{s:s}}", "version", 1, "defaults", "colour", "red");
	assert_int_equal(apf_validate(doc, false, err, sizeof(err)), 0);
	assert_int_equal(apf_validate(doc, true, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "colour"));
	json_decref(doc);
}

static void test_policy(void **state)
{
	struct fx *f = *state;
	struct exec_policy p;
	json_t *file;

	/* nothing anywhere: OpenClaw's gateway default, full/off, askFallback deny */
	file = json_pack("{s:i}", "version", 1);
	exec_policy_resolve(&f->cfg, file, "main", NULL, NULL, false, &p);
	assert_int_equal(p.security, APF_FULL);
	assert_int_equal(p.ask, APF_ASK_OFF);
	assert_int_equal(p.ask_fallback, APF_DENY);
	/* config allowlist, file full: allowlist (stricter wins) */
	cfg_set(f, "{\"tools\":{\"exec\":{\"security\":\"allowlist\",\"ask\":\"on-miss\"}}}");
	json_decref(file);
	file = json_pack("{s:i, s:{s:s, s:s, s:s}}", "version", 1, "defaults", "security", "full",
			 "ask", "off", "askFallback", "full");
	exec_policy_resolve(&f->cfg, file, "main", NULL, NULL, false, &p);
	assert_int_equal(p.security, APF_ALLOWLIST);
	assert_int_equal(p.ask, APF_ASK_ON_MISS);
	/* askFallback never exceeds the effective security */
	assert_int_equal(p.ask_fallback, APF_ALLOWLIST);
	/* file stricter than config: the file wins; the agent's own entry over defaults */
	cfg_set(f, "{}");
	json_decref(file);
	file = json_pack("{s:i, s:{s:s}, s:{s:{s:s, s:s}, s:{s:s}}}", "version", 1, "defaults",
			 "security", "allowlist", "agents", "main", "security", "deny", "ask",
			 "always", "*", "security", "full");
	exec_policy_resolve(&f->cfg, file, "main", NULL, NULL, false, &p);
	assert_int_equal(p.security, APF_DENY);
	assert_int_equal(p.ask, APF_ASK_ALWAYS);
	exec_policy_resolve(&f->cfg, file, "other", NULL, NULL, false, &p);
	assert_int_equal(p.security, APF_FULL); /* the wildcard agent */
	/* the call's params tighten, never loosen */
	json_decref(file);
	file = json_pack("{s:i}", "version", 1);
	cfg_set(f, "{\"tools\":{\"exec\":{\"security\":\"allowlist\"}}}");
	exec_policy_resolve(&f->cfg, file, "main", "full", "off", false, &p);
	assert_int_equal(p.security, APF_ALLOWLIST);
	exec_policy_resolve(&f->cfg, file, "main", "deny", "always", false, &p);
	assert_int_equal(p.security, APF_DENY);
	assert_int_equal(p.ask, APF_ASK_ALWAYS);
	/* per agent config over tools.exec, and tools.exec.mode */
	cfg_set(f, "{\"tools\":{\"exec\":{\"mode\":\"ask\"}},\"agents\":{\"list\":[{\"id\":\"ops\","
		   "\"tools\":{\"exec\":{\"security\":\"full\"}}}]}}");
	exec_policy_resolve(&f->cfg, file, "main", NULL, NULL, false, &p);
	assert_int_equal(p.security, APF_ALLOWLIST);
	assert_int_equal(p.ask, APF_ASK_ON_MISS);
	exec_policy_resolve(&f->cfg, file, "ops", NULL, NULL, false, &p);
	assert_int_equal(p.security, APF_FULL);
	assert_int_equal(p.ask, APF_ASK_ON_MISS); /* inherited from the mode */
	/* elevated full lifts the call's own ask only where everything is full/off */
	cfg_set(f, "{}");
	exec_policy_resolve(&f->cfg, file, "main", NULL, "always", true, &p);
	assert_true(p.bypass);
	assert_int_equal(p.ask, APF_ASK_OFF);
	cfg_set(f, "{\"tools\":{\"exec\":{\"ask\":\"always\"}}}");
	exec_policy_resolve(&f->cfg, file, "main", NULL, NULL, true, &p);
	assert_false(p.bypass);
	assert_int_equal(p.ask, APF_ASK_ALWAYS);
	json_decref(file);
}

/* ==== the check flow ==== */

static void test_check_immediate(void **state)
{
	struct fx *f = *state;
	json_t *doc, *e;
	char pat[2 * PATH_MAX];

	mkexe(f, "rg");
	/* default: full/off, everything runs */
	assert_null(check(f, "rg x", NULL, NULL));
	assert_int_equal(f->answers, 1);
	assert_true(f->allowed);
	/* security deny */
	cfg_set(f, "{\"tools\":{\"exec\":{\"security\":\"deny\"}}}");
	assert_null(check(f, "rg x", NULL, NULL));
	assert_false(f->allowed);
	assert_string_equal(f->reason, "exec denied: host=gateway security=deny");
	/* allowlist, ask off: a miss is refused, a hit runs and is recorded */
	cfg_set(f, "{\"tools\":{\"exec\":{\"security\":\"allowlist\"}}}");
	assert_null(check(f, "rg x", NULL, NULL));
	assert_false(f->allowed);
	assert_string_equal(f->reason, "exec denied: allowlist miss");
	snprintf(pat, sizeof(pat),
		 "{\"version\":1,\"agents\":{\"main\":{\"allowlist\":[{"
		 "\"pattern\":\"%s/*\"}]}}}",
		 f->bin);
	write_file(f, pat);
	assert_null(check(f, "rg x", NULL, NULL));
	assert_true(f->allowed);
	doc = load_file(f);
	e = json_array_get(json_object_get(json_object_get(json_object_get(doc, "agents"), "main"),
					   "allowlist"),
			   0);
	assert_true(json_integer_value(json_object_get(e, "lastUsedAt")) > 0);
	assert_string_equal(json_string_value(json_object_get(e, "lastUsedCommand")), "rg x");
	assert_non_null(strstr(json_string_value(json_object_get(e, "lastResolvedPath")), "/rg"));
	json_decref(doc);
	/* shell syntax is never an allowlist hit */
	assert_null(check(f, "rg x > out", NULL, NULL));
	assert_false(f->allowed);
	assert_int_equal(f->requested, 0);
}

static void test_check_ask_resolve(void **state)
{
	struct fx *f = *state;
	struct exec_approval *a;
	char err[256];
	json_t *doc, *l, *list;

	mkexe(f, "rg");
	cfg_set(f, "{\"tools\":{\"exec\":{\"security\":\"allowlist\",\"ask\":\"on-miss\"}}}");
	/* allow-once: runs, nothing persisted */
	a = check(f, "rg once", NULL, NULL);
	assert_non_null(a);
	assert_int_equal(f->answers, 0);
	assert_int_equal(f->requested, 1);
	list = approvals_list();
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	assert_int_equal(approvals_resolve(f->last_id, "allow-once", "test", err, sizeof(err)),
			 APPROVALS_OK);
	assert_int_equal(f->answers, 1);
	assert_true(f->allowed);
	assert_int_equal(f->resolved, 1);
	/* the same decision again is fine, another is not */
	assert_int_equal(approvals_resolve(f->last_id, "allow-once", "t", err, sizeof(err)),
			 APPROVALS_OK);
	assert_int_equal(approvals_resolve(f->last_id, "deny", "t", err, sizeof(err)),
			 APPROVALS_ALREADY);
	assert_false(fs_exists(f->path));
	/* deny */
	a = check(f, "rg nope", NULL, NULL);
	assert_non_null(a);
	assert_int_equal(approvals_resolve(f->last_id, "deny", "t", err, sizeof(err)),
			 APPROVALS_OK);
	assert_false(f->allowed);
	assert_non_null(strstr(f->reason, "user-denied"));
	assert_non_null(strstr(f->reason, "rg nope"));
	/* allow-always: persisted, and the same command then runs without asking */
	a = check(f, "rg always", NULL, NULL);
	assert_non_null(a);
	assert_int_equal(approvals_resolve(f->last_id, "bogus", "t", err, sizeof(err)),
			 APPROVALS_BAD_DECISION);
	assert_int_equal(approvals_resolve("nosuch", "deny", "t", err, sizeof(err)),
			 APPROVALS_NOT_FOUND);
	/* a unique prefix works */
	char prefix[9];
	memcpy(prefix, f->last_id, 8);
	prefix[8] = '\0';
	assert_int_equal(approvals_resolve(prefix, "allow-always", "t", err, sizeof(err)),
			 APPROVALS_OK);
	assert_true(f->allowed);
	doc = load_file(f);
	l = json_object_get(json_object_get(json_object_get(doc, "agents"), "main"), "allowlist");
	assert_int_equal(json_array_size(l), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(l, 0), "source")),
			    "allow-always");
	assert_true(!strncmp(json_string_value(json_object_get(json_array_get(l, 0), "argPattern")),
			     "sha256:cwd-argv:v1:", 19));
	json_decref(doc);
	f->requested = 0;
	assert_null(check(f, "rg always", NULL, NULL));
	assert_true(f->allowed);
	assert_int_equal(f->requested, 0);
	/* other args still ask */
	a = check(f, "rg other", NULL, NULL);
	assert_non_null(a);
	exec_approval_cancel(a);
	assert_int_equal(f->answers, 0);
	/* ask=always offers no allow-always */
	a = check(f, "rg always", NULL, "always");
	assert_non_null(a);
	assert_int_equal(approvals_resolve(f->last_id, "allow-always", "t", err, sizeof(err)),
			 APPROVALS_DISALLOWED);
	exec_approval_cancel(a);
}

static void test_fallback(void **state)
{
	struct fx *f = *state;
	struct exec_approval *a;
	char file[2 * PATH_MAX];

	mkexe(f, "rg");
	cfg_set(f, "{\"tools\":{\"exec\":{\"security\":\"full\",\"ask\":\"always\"}}}");
	/* nobody to ask: askFallback now (default deny) */
	f->recipients = 0;
	assert_null(check(f, "rg x", NULL, NULL));
	assert_int_equal(f->answers, 1);
	assert_false(f->allowed);
	assert_non_null(strstr(f->reason, "approval-timeout"));
	/* askFallback full */
	write_file(f, "{\"version\":1,\"defaults\":{\"askFallback\":\"full\"}}");
	assert_null(check(f, "rg x", NULL, NULL));
	assert_true(f->allowed);
	/* askFallback allowlist: runs what the allowlist covers */
	snprintf(file, sizeof(file),
		 "{\"version\":1,\"defaults\":{\"askFallback\":\"allowlist\"},\"agents\":{\"*\":{"
		 "\"allowlist\":[{\"pattern\":\"%s/rg\"}]}}}",
		 f->bin);
	write_file(f, file);
	assert_null(check(f, "rg x", NULL, NULL));
	assert_true(f->allowed);
	assert_null(check(f, "rg x | rg y > z", NULL, NULL));
	assert_false(f->allowed);
	assert_non_null(strstr(f->reason, "allowlist-miss"));
	/* a timeout falls back the same way */
	f->recipients = 1;
	write_file(f, "{\"version\":1,\"defaults\":{\"askFallback\":\"full\"}}");
	approvals_set_timeout_ms(20);
	a = check(f, "rg late", NULL, NULL);
	assert_non_null(a);
	assert_int_equal(f->answers, 0);
	uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(f->answers, 1);
	assert_true(f->allowed);
}

static void wait_cb(void *arg, json_t *result)
{
	json_t **out = arg;

	*out = result;
}

static void test_request_wait(void **state)
{
	struct fx *f = *state;
	json_t *params, *res = NULL;
	char id[64], err[256];
	bool no_route;

	params = json_pack("{s:s, s:s, s:s, s:b}", "id", "abc-1", "command", "make deploy", "host",
			   "gateway", "requireDeliveryRoute", 0);
	f->recipients = 0;
	assert_int_equal(approvals_request(params, NULL, id, &no_route, err, sizeof(err)), 0);
	assert_false(no_route); /* kept pending: requireDeliveryRoute false */
	assert_string_equal(id, "abc-1");
	assert_int_equal(approvals_request(params, NULL, id, &no_route, err, sizeof(err)), -1);
	assert_string_equal(err, "approval id already pending");
	assert_int_equal(approvals_wait("abc-1", wait_cb, &res), 0);
	assert_null(res);
	assert_int_equal(approvals_resolve("abc-1", "allow-always", "op", err, sizeof(err)),
			 APPROVALS_OK);
	assert_non_null(res);
	assert_string_equal(json_string_value(json_object_get(res, "decision")), "allow-always");
	json_decref(res);
	res = NULL;
	/* decided: a later wait answers at once */
	assert_int_equal(approvals_wait("abc-1", wait_cb, &res), 0);
	assert_non_null(res);
	json_decref(res);
	assert_int_equal(approvals_wait("nope", wait_cb, &res), -1);
	/* no route: expired at once */
	json_object_del(params, "requireDeliveryRoute");
	json_object_set_new(params, "id", json_string("abc-2"));
	assert_int_equal(approvals_request(params, NULL, id, &no_route, err, sizeof(err)), 0);
	assert_true(no_route);
	res = NULL;
	assert_int_equal(approvals_wait("abc-2", wait_cb, &res), 0);
	assert_true(json_is_null(json_object_get(res, "decision")));
	json_decref(res);
	json_decref(params);
}

static void test_elevated(void **state)
{
	struct fx *f = *state;
	char why[512];

	cfg_set(f, "{}");
	assert_false(elevated_allowed(&f->cfg, "main", "telegram", "42", why, sizeof(why)));
	assert_non_null(strstr(why, "tools.elevated.allowFrom.telegram"));
	cfg_set(f, "{\"tools\":{\"elevated\":{\"allowFrom\":{\"telegram\":[\"42\", 7]}}}}");
	assert_true(elevated_allowed(&f->cfg, "main", "telegram", "42", why, sizeof(why)));
	assert_true(elevated_allowed(&f->cfg, "main", "telegram", "7", why, sizeof(why)));
	assert_false(elevated_allowed(&f->cfg, "main", "telegram", "43", why, sizeof(why)));
	assert_false(elevated_allowed(&f->cfg, "main", "discord", "42", why, sizeof(why)));
	/* the agent can only restrict */
	cfg_set(f, "{\"tools\":{\"elevated\":{\"allowFrom\":{\"webchat\":[\"*\"]}}},"
		   "\"agents\":{\"list\":[{\"id\":\"kid\",\"tools\":{\"elevated\":{\"enabled\":"
		   "false}}},"
		   "{\"id\":\"ops\",\"tools\":{\"elevated\":{\"allowFrom\":{\"webchat\":[\"9\"]}}}}"
		   "]}}");
	assert_true(elevated_allowed(&f->cfg, "main", "webchat", NULL, why, sizeof(why)));
	assert_false(elevated_allowed(&f->cfg, "kid", "webchat", NULL, why, sizeof(why)));
	assert_non_null(strstr(why, "enabled"));
	assert_false(elevated_allowed(&f->cfg, "ops", "webchat", "1", why, sizeof(why)));
	assert_true(elevated_allowed(&f->cfg, "ops", "webchat", "9", why, sizeof(why)));
	cfg_set(f, "{\"tools\":{\"elevated\":{\"enabled\":false,\"allowFrom\":{\"webchat\":[\"*\"]}"
		   "}}}");
	assert_false(elevated_allowed(&f->cfg, "main", "webchat", NULL, why, sizeof(why)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_glob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_analyze, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_immediate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_ask_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elevated, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
