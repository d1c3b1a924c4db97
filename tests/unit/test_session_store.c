/*
 * test_session_store.c - sessions.json (round trip with unknown fields,
 * changes made by another process, corrupt files, prune) and the reset
 * policy and triggers of reset.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <sys/stat.h>
#include <time.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/str.h"
#include "session/reset.h"
#include "session/store.h"
#include "session/transcript.h"

struct tdir {
	char path[PATH_MAX];
};

static int tdir_setup(void **state)
{
	struct tdir *t = calloc(1, sizeof(*t));

	if (!t || tu_mkdtemp(t->path, sizeof(t->path), "store") < 0)
		return -1;
	*state = t;
	return 0;
}

static int tdir_teardown(void **state)
{
	struct tdir *t = *state;
	int r = tu_rm_rf(t->path);

	free(t);
	return r;
}

static const char *D(void **state)
{
	return ((struct tdir *)*state)->path;
}

static json_t *read_json(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	json_t *v = json_load_file(p, 0, NULL);

	free(p);
	return v;
}

/* Let the file's mtime move on even on coarse-timestamp filesystems. */
static void write_other_process(const char *dir, const char *text)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	char *p;

	nanosleep(&ts, NULL);
	p = tu_write_file(dir, "sessions.json", text, 0600);
	assert_non_null(p);
	free(p);
}

/* ==== store ==== */

static void test_ensure_save_roundtrip(void **state)
{
	char *sub = xasprintf("%s/agents/main/sessions", D(state));
	struct session_store *s = session_store_open(sub);
	bool created;
	json_t *e, *disk;
	struct stat st;
	char *tp;

	assert_true(fs_is_dir(sub));
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_null(session_store_get(s, "agent:main:main"));
	e = session_store_ensure(s, "agent:main:main", 1780000000000, &created);
	assert_true(created);
	assert_int_equal(strlen(json_string_value(json_object_get(e, "sessionId"))), 36);
	assert_int_equal(json_integer_value(json_object_get(e, "updatedAt")), 1780000000000);
	assert_int_equal(json_integer_value(json_object_get(e, "sessionStartedAt")), 1780000000000);
	assert_ptr_equal(session_store_ensure(s, "agent:main:main", 1, &created), e);
	assert_false(created);
	json_object_set_new(e, "futureField", json_pack("{s:[i]}", "x", 1));
	json_object_set_new(e, "thinkingLevel", json_string("high"));
	assert_int_equal(session_store_save(s), 0);

	{
		char *p = xasprintf("%s/sessions.json", sub);

		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		free(p);
	}
	tp = session_store_transcript_path(s, e);
	assert_non_null(strstr(tp, "/agents/main/sessions/"));
	assert_true(str_ends_with(tp, ".jsonl"));
	free(tp);
	session_store_free(s);

	/* a fresh store reads it back, unknown fields intact */
	s = session_store_open(sub);
	e = session_store_get(s, "agent:main:main");
	assert_non_null(e);
	assert_int_equal(json_integer_value(json_array_get(
				 json_object_get(json_object_get(e, "futureField"), "x"), 0)),
			 1);
	assert_string_equal(
		session_store_key_for_id(s, json_string_value(json_object_get(e, "sessionId"))),
		"agent:main:main");
	assert_null(session_store_key_for_id(s, "nope"));
	assert_int_equal(json_object_size(session_store_all(s)), 1);
	assert_true(session_store_remove(s, "agent:main:main"));
	assert_false(session_store_remove(s, "agent:main:main"));
	session_store_free(s);
	disk = read_json(sub, "sessions.json");
	assert_int_equal(json_object_size(disk), 0);
	json_decref(disk);
	free(sub);
}

/* Written by OpenClaw, with fields pincer does not model: kept byte-for-value. */
static void test_foreign_fields_survive(void **state)
{
	static const char text[] =
		"{\"agent:main:main\":{\"sessionId\":\"0a\",\"updatedAt\":5,\"systemSent\":true,"
		"\"deliveryContext\":{\"channel\":\"telegram\",\"to\":\"123\"},\"skillsSnapshot\":"
		"{\"prompt\":\"x\",\"skills\":[{\"name\":\"a\"}]}},"
		"\"agent:main:telegram:direct:1\":{\"sessionId\":\"0b\",\"updatedAt\":6}}";
	struct session_store *s;
	json_t *before = json_loads(text, 0, NULL), *after;

	write_other_process(D(state), text);
	s = session_store_open(D(state));
	json_object_set_new(session_store_get(s, "agent:main:telegram:direct:1"), "label",
			    json_string("x"));
	assert_int_equal(session_store_save(s), 0);
	session_store_free(s);
	after = read_json(D(state), "sessions.json");
	json_object_set_new(json_object_get(before, "agent:main:telegram:direct:1"), "label",
			    json_string("x"));
	assert_true(json_equal(before, after));
	json_decref(before);
	json_decref(after);
}

/* Another process writes the file: we see its change and keep ours. */
static void test_merge_with_other_writer(void **state)
{
	struct session_store *s = session_store_open(D(state));
	json_t *disk;

	session_store_ensure(s, "a", 1, NULL);
	session_store_ensure(s, "b", 1, NULL);
	assert_int_equal(session_store_save(s), 0);
	/* local, unsaved: change a, drop nothing yet */
	json_object_set_new(session_store_get(s, "a"), "label", json_string("mine"));
	/* meanwhile the CLI rewrites the file: adds c, edits b */
	disk = read_json(D(state), "sessions.json");
	json_object_set_new(json_object_get(disk, "b"), "label", json_string("theirs"));
	json_object_set_new(disk, "c", json_pack("{s:s, s:i}", "sessionId", "cc", "updatedAt", 2));
	{
		char *text = json_dumps(disk, 0);

		write_other_process(D(state), text);
		free(text);
	}
	json_decref(disk);
	/* a read sees theirs; our change is still there */
	assert_non_null(session_store_get(s, "c"));
	assert_string_equal(json_string_value(json_object_get(session_store_get(s, "b"), "label")),
			    "theirs");
	assert_string_equal(json_string_value(json_object_get(session_store_get(s, "a"), "label")),
			    "mine");
	/* a local removal wins over their unchanged copy */
	json_object_del(session_store_all(s), "b");
	assert_int_equal(session_store_save(s), 0);
	disk = read_json(D(state), "sessions.json");
	assert_int_equal(json_object_size(disk), 2);
	assert_non_null(json_object_get(disk, "a"));
	assert_non_null(json_object_get(disk, "c"));
	json_decref(disk);
	session_store_free(s);
}

static void test_corrupt_kept_as_bad(void **state)
{
	struct session_store *s;
	char *bad = xasprintf("%s/sessions.json.bad", D(state));

	write_other_process(D(state), "{\"agent:main:main\": {\"sessionId\": tor");
	s = session_store_open(D(state));
	assert_int_equal(json_object_size(session_store_all(s)), 0);
	assert_true(fs_exists(bad));
	session_store_ensure(s, "agent:main:main", 1, NULL);
	assert_int_equal(session_store_save(s), 0);
	session_store_free(s);
	write_other_process(D(state), "[1,2]");
	s = session_store_open(D(state));
	assert_int_equal(json_object_size(session_store_all(s)), 0);
	session_store_free(s);
	free(bad);
}

static void test_transcript_path(void **state)
{
	struct session_store *s = session_store_open(D(state));
	json_t *e;
	char *p;

	e = json_pack("{s:s}", "sessionId", "../../etc/passwd");
	assert_null(session_store_transcript_path(s, e));
	json_decref(e);
	e = json_pack("{s:s, s:s}", "sessionId", "x", "sessionFile", "/abs/x.jsonl");
	p = session_store_transcript_path(s, e);
	assert_string_equal(p, "/abs/x.jsonl");
	free(p);
	json_decref(e);
	e = json_pack("{s:s, s:s}", "sessionId", "x", "sessionFile", "x-topic-9.jsonl");
	p = session_store_transcript_path(s, e);
	assert_true(str_ends_with(p, "/x-topic-9.jsonl"));
	free(p);
	json_decref(e);
	session_store_free(s);
}

static void test_prune(void **state)
{
	struct session_store *s = session_store_open(D(state));
	const char *keep[] = { "agent:main:main", NULL };
	int64_t day = 86400000, now = 100 * day;
	struct transcript t;
	char err[128], *tp;
	json_t *e;
	regex_t rx;
	int i, found = 0;

	/* main is ancient but kept; old1/old2 expire; n0..n4 are fresh */
	json_object_set_new(session_store_ensure(s, "agent:main:main", 0, NULL), "updatedAt",
			    json_integer(1));
	e = session_store_ensure(s, "old1", 0, NULL);
	json_object_set_new(e, "updatedAt", json_integer(now - 40 * day));
	session_store_ensure(s, "old2", now - 31 * day, NULL);
	for (i = 0; i < 5; i++) {
		char k[8];

		snprintf(k, sizeof(k), "n%d", i);
		session_store_ensure(s, k, now - (10 - i) * day, NULL);
	}
	/* old1 has a transcript: it is archived as .deleted */
	tp = session_store_transcript_path(s, session_store_get(s, "old1"));
	assert_int_equal(transcript_open(&t, tp, "x", "/", err, sizeof(err)), 0);
	transcript_append_thinking_change(&t, "low");
	transcript_close(&t);
	assert_int_equal(session_store_save(s), 0);

	assert_int_equal(session_store_prune(s, now, 30 * day, 0, keep), 2);
	assert_null(session_store_get(s, "old1"));
	assert_non_null(session_store_get(s, "agent:main:main"));
	assert_false(fs_exists(tp));
	{
		char *dir = xasprintf("%s", D(state));
		DIR *d = opendir(dir);
		struct dirent *de;

		assert_int_equal(regcomp(&rx,
					 "\\.jsonl\\.deleted\\.[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}"
					 "-[0-9]{2}-[0-9]{2}\\.[0-9]{3}Z$",
					 REG_EXTENDED | REG_NOSUB),
				 0);
		while ((de = readdir(d)))
			if (regexec(&rx, de->d_name, 0, NULL, 0) == 0)
				found++;
		closedir(d);
		regfree(&rx);
		free(dir);
	}
	assert_int_equal(found, 1);
	/* cap at 3: the two least recently updated go (main is kept) */
	assert_int_equal(session_store_prune(s, now, 0, 3, keep), 3);
	assert_int_equal(json_object_size(session_store_all(s)), 3);
	assert_null(session_store_get(s, "n0"));
	assert_null(session_store_get(s, "n2"));
	assert_non_null(session_store_get(s, "n3"));
	assert_non_null(session_store_get(s, "agent:main:main"));
	assert_int_equal(session_store_prune(s, now, 0, 0, NULL), 0);
	session_store_free(s);
	/* and it was saved */
	{
		json_t *disk = read_json(D(state), "sessions.json");

		assert_int_equal(json_object_size(disk), 3);
		json_decref(disk);
	}
	free(tp);
}

/* ==== reset policy ==== */

/* Local midnight + h hours of some day, in ms. */
static int64_t local_at(int year, int mon, int day, int h, int m)
{
	struct tm tm = { .tm_year = year - 1900,
			 .tm_mon = mon - 1,
			 .tm_mday = day,
			 .tm_hour = h,
			 .tm_min = m,
			 .tm_isdst = -1 };

	return (int64_t)mktime(&tm) * 1000;
}

static bool due(const char *cfg_text, const char *entry_text, enum session_kind kind,
		const char *channel, int64_t now, const char **why)
{
	json_t *cfg = json_loads(cfg_text, 0, NULL), *entry = json_loads(entry_text, 0, NULL);
	bool r = session_reset_due(cfg, entry, kind, channel, now, why);

	json_decref(cfg);
	json_decref(entry);
	return r;
}

static char *entry_at(int64_t started, int64_t last)
{
	return xasprintf("{\"sessionId\":\"s\",\"updatedAt\":%lld,\"sessionStartedAt\":%lld,"
			 "\"lastInteractionAt\":%lld}",
			 (long long)last, (long long)started, (long long)last);
}

static void test_reset_daily_idle(void **state)
{
	const char *why = NULL;
	int64_t now;
	char *yday, *today;

	/* local time, with a zone that is not UTC */
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	now = local_at(2026, 3, 10, 9, 0);
	yday = entry_at(local_at(2026, 3, 9, 22, 0), local_at(2026, 3, 10, 8, 55));
	today = entry_at(local_at(2026, 3, 10, 5, 0), local_at(2026, 3, 10, 5, 0));

	/* default: mode none */
	assert_false(due("{}", yday, SESSION_KIND_DIRECT, NULL, now, &why));
	assert_null(why);
	/* daily at 4 (default hour): started before today 04:00 */
	assert_true(due("{\"reset\":{\"mode\":\"daily\"}}", yday, SESSION_KIND_DIRECT, NULL, now,
			&why));
	assert_string_equal(why, "daily");
	assert_false(due("{\"reset\":{\"mode\":\"daily\"}}", today, SESSION_KIND_DIRECT, NULL, now,
			 NULL));
	/* before today's boundary, yesterday's counts: 03:00 with a 22:00 start is fresh */
	assert_false(due("{\"reset\":{\"mode\":\"daily\"}}", yday, SESSION_KIND_DIRECT, NULL,
			 local_at(2026, 3, 10, 3, 0), NULL));
	/* atHour 10: the boundary is yesterday 10:00 */
	assert_false(due("{\"reset\":{\"mode\":\"daily\",\"atHour\":10}}", yday,
			 SESSION_KIND_DIRECT, NULL, now, NULL));
	/* idle: 5 minutes since the last interaction */
	assert_false(due("{\"reset\":{\"mode\":\"idle\",\"idleMinutes\":10}}", yday,
			 SESSION_KIND_DIRECT, NULL, now, NULL));
	assert_true(due("{\"reset\":{\"mode\":\"idle\",\"idleMinutes\":3}}", yday,
			SESSION_KIND_DIRECT, NULL, now, &why));
	assert_string_equal(why, "idle");
	/* idle mode without minutes never expires */
	assert_false(
		due("{\"reset\":{\"mode\":\"idle\"}}", yday, SESSION_KIND_DIRECT, NULL, now, NULL));
	/* both: whichever expired first (the 04:00 boundary before 08:58) */
	assert_true(due("{\"reset\":{\"mode\":\"daily\",\"idleMinutes\":3}}", yday,
			SESSION_KIND_DIRECT, NULL, now, &why));
	assert_string_equal(why, "daily");
	/* today's session idles out */
	assert_true(due("{\"reset\":{\"mode\":\"daily\",\"idleMinutes\":60}}", today,
			SESSION_KIND_DIRECT, NULL, now, &why));
	assert_string_equal(why, "idle");
	/* updatedAt 0 marks a pending reset */
	assert_true(due("{}", "{\"sessionId\":\"s\",\"updatedAt\":0}", SESSION_KIND_DIRECT, NULL,
			now, &why));
	/* future timestamps are ignored: started falls back to updatedAt */
	{
		char *e = xasprintf("{\"updatedAt\":%lld,\"sessionStartedAt\":%lld}",
				    (long long)local_at(2026, 3, 10, 6, 0),
				    (long long)(now + 86400000));

		assert_false(due("{\"reset\":{\"mode\":\"daily\"}}", e, SESSION_KIND_DIRECT, NULL,
				 now, NULL));
		free(e);
	}
	{
		int64_t b = session_daily_reset_at(now, 4);

		assert_int_equal(b, local_at(2026, 3, 10, 4, 0));
		assert_int_equal(session_daily_reset_at(local_at(2026, 3, 10, 3, 59), 4),
				 local_at(2026, 3, 9, 4, 0));
	}
	free(yday);
	free(today);
	unsetenv("TZ");
	tzset();
}

static void test_reset_overrides(void **state)
{
	int64_t now = 1780000000000;
	char *e = entry_at(now - 3600000, now - 3600000); /* an hour idle */
	static const char cfg[] = "{\"reset\":{\"mode\":\"idle\",\"idleMinutes\":600},"
				  "\"resetByType\":{\"group\":{\"idleMinutes\":30},"
				  "\"thread\":{\"mode\":\"none\"}},"
				  "\"resetByChannel\":{\"discord\":{\"mode\":\"idle\","
				  "\"idleMinutes\":5}}}";
	json_t *c = json_loads(cfg, 0, NULL), *en = json_loads(e, 0, NULL);

	assert_false(due(cfg, e, SESSION_KIND_DIRECT, "telegram", now, NULL));
	assert_true(due(cfg, e, SESSION_KIND_GROUP, "telegram", now, NULL));
	assert_true(due(cfg, e, SESSION_KIND_DIRECT, "Discord", now, NULL));
	assert_false(session_reset_due_type(c, en, "thread", "telegram", now, NULL));
	/* a type block with no mode inherits the base one unless it is none */
	assert_false(due("{\"reset\":{\"mode\":\"none\",\"idleMinutes\":1},\"resetByType\":"
			 "{\"group\":{\"atHour\":3}}}",
			 e, SESSION_KIND_DIRECT, NULL, now, NULL));
	assert_string_equal(session_reset_type("agent:main:slack:channel:c1:thread:17"), "thread");
	assert_string_equal(session_reset_type("agent:main:telegram:group:-1:topic:9"), "thread");
	assert_string_equal(session_reset_type("agent:main:discord:channel:1"), "group");
	assert_string_equal(session_reset_type("agent:main:main"), "direct");
	json_decref(c);
	json_decref(en);
	free(e);
}

static void test_reset_triggers(void **state)
{
	json_t *custom = json_loads("{\"resetTriggers\":[\"!fresh\"]}", 0, NULL);
	json_t *empty = json_loads("{\"resetTriggers\":[]}", 0, NULL);
	const char *rest = NULL;

	assert_true(session_is_reset_trigger(NULL, "/new", &rest));
	assert_string_equal(rest, "");
	assert_true(session_is_reset_trigger(NULL, "  /NEW  gpt-5 please", &rest));
	assert_string_equal(rest, "gpt-5 please");
	assert_true(session_is_reset_trigger(NULL, "/reset", &rest));
	assert_true(session_is_reset_trigger(NULL, "/new@MyBot opus", &rest));
	assert_string_equal(rest, "opus");
	assert_true(session_is_reset_trigger(NULL, "/reset: now", &rest));
	assert_string_equal(rest, "now");
	assert_false(session_is_reset_trigger(NULL, "/newer", &rest));
	assert_false(session_is_reset_trigger(NULL, "say /new", &rest));
	assert_false(session_is_reset_trigger(NULL, "/new@", &rest));
	assert_false(session_is_reset_trigger(NULL, NULL, &rest));
	assert_true(session_is_reset_trigger(custom, "!fresh x", &rest));
	assert_string_equal(rest, "x");
	assert_false(session_is_reset_trigger(custom, "/new", NULL));
	assert_true(session_is_reset_trigger(empty, "/new", NULL));
	json_decref(custom);
	json_decref(empty);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tdir_setup, tdir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ensure_save_roundtrip),
		T(test_foreign_fields_survive),
		T(test_merge_with_other_writer),
		T(test_corrupt_kept_as_bad),
		T(test_transcript_path),
		T(test_prune),
		cmocka_unit_test(test_reset_daily_idle),
		cmocka_unit_test(test_reset_overrides),
		cmocka_unit_test(test_reset_triggers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
