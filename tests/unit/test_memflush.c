/*
 * test_memflush.c - the pre-compaction memory flush's pure parts: when it
 * is due, its prompts and date, and the session entry's memoryFlush record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "agent/memflush.h"
#include "session/store.h"

static void test_threshold(void **state)
{
	(void)state;
	/* 128k window, 20k reserve: flush from 104k of context */
	assert_int_equal(memflush_threshold(128000, 20000, 4000), 104000);
	/* the soft margin is capped at half the room, so a small window still flushes first */
	assert_int_equal(memflush_threshold(16000, 4000, 4000), 8000);
	assert_int_equal(memflush_threshold(10000, 2500, 20000), 3750);
	assert_int_equal(memflush_threshold(10000, 2500, 0), 7500);
	assert_int_equal(memflush_threshold(10000, 2500, -5), 7500);
	/* no room at all: never */
	assert_int_equal(memflush_threshold(0, 0, 4000), 0);
	assert_int_equal(memflush_threshold(1000, 2000, 4000), 0);
}

static void test_due(void **state)
{
	(void)state;
	/* tokens at or over the threshold, no flush yet */
	assert_true(memflush_due(8000, 8000, 0, 0, 0, -1));
	assert_true(memflush_due(9000, 8000, 0, 0, 0, -1));
	assert_false(memflush_due(7999, 8000, 0, 0, 0, -1));
	/* once per compaction cycle */
	assert_false(memflush_due(9000, 8000, 0, 0, 0, 0));
	assert_true(memflush_due(9000, 8000, 0, 0, 1, 0));
	assert_false(memflush_due(9000, 8000, 0, 0, 3, 3));
	/* a count never recorded as negative: an absent compactionCount is 0 */
	assert_false(memflush_due(9000, 8000, 0, 0, -1, 0));
	/* no threshold, no tokens: never by tokens */
	assert_false(memflush_due(9000, 0, 0, 0, 0, -1));
	assert_false(memflush_due(0, 8000, 0, 0, 0, -1));
	/* a transcript at the size limit forces it, once */
	assert_true(memflush_due(10, 8000, 2097152, 2097152, 0, -1));
	assert_false(memflush_due(10, 8000, 2097151, 2097152, 0, -1));
	assert_false(memflush_due(10, 8000, 5000000, 2097152, 0, 0));
	assert_false(memflush_due(10, 8000, 5000000, 0, 0, -1));
}

static void test_parse_bytes(void **state)
{
	json_t *v;
	static const struct {
		const char *in;
		long long want;
	} cases[] = {
		{ "2mb", 2097152 }, { "2MB", 2097152 }, { "64kb", 65536 },   { "1gb", 1073741824 },
		{ "512", 512 },     { "10 b", 10 },     { "1.5k", 1536 },    { "", -1 },
		{ "mb", -1 },       { "-1mb", -1 },     { "3 parsecs", -1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = json_string(cases[i].in);
		assert_int_equal(memflush_parse_bytes(v), cases[i].want);
		json_decref(v);
	}
	v = json_integer(0);
	assert_int_equal(memflush_parse_bytes(v), 0);
	json_decref(v);
	v = json_integer(-3);
	assert_int_equal(memflush_parse_bytes(v), -1);
	json_decref(v);
	assert_int_equal(memflush_parse_bytes(NULL), -1);
}

static void test_prompts(void **state)
{
	char *p = memflush_prompt("2026-03-04", "Current time: x (UTC)\nReference UTC: y UTC");
	char *s = memflush_system_prompt("2026-03-04");

	(void)state;
	assert_true(!strncmp(p, "Pre-compaction memory flush. ", 29));
	assert_non_null(strstr(p, "memory/2026-03-04.md (create memory/ if needed)"));
	assert_non_null(strstr(p, "APPEND new content only"));
	assert_non_null(strstr(p, "read-only during this flush"));
	assert_non_null(strstr(p, "reply with NO_REPLY.\nCurrent time: x (UTC)"));
	assert_null(strstr(p, "YYYY"));
	assert_true(!strncmp(s, "Pre-compaction memory flush turn. ", 34));
	assert_non_null(strstr(s, "memory/2026-03-04.md"));
	assert_non_null(strstr(s, "usually NO_REPLY is correct."));
	free(p);
	free(s);
}

static void test_time_line(void **state)
{
	char date[16], *t;

	(void)state;
	/* 2026-01-02T23:30:00Z */
	t = memflush_time_line(1767396600000LL, "UTC", date);
	assert_string_equal(date, "2026-01-02");
	assert_string_equal(t, "Current time: Friday, January 2nd, 2026 - 23:30 (UTC)\n"
			       "Reference UTC: 2026-01-02 23:30 UTC");
	free(t);
	/* the date is the user's: already the 3rd in Berlin */
	t = memflush_time_line(1767396600000LL, "Europe/Berlin", date);
	assert_string_equal(date, "2026-01-03");
	assert_string_equal(t, "Current time: Saturday, January 3rd, 2026 - 00:30 (Europe/Berlin)\n"
			       "Reference UTC: 2026-01-02 23:30 UTC");
	free(t);
	/* 11th-13th take "th" */
	t = memflush_time_line(1768089600000LL, "UTC", date);
	assert_string_equal(date, "2026-01-11");
	assert_non_null(strstr(t, "January 11th, 2026"));
	free(t);
}

static void test_entry_record(void **state)
{
	json_t *e = json_pack("{s:s, s:i}", "sessionId", "s1", "compactionCount", 2);

	(void)state;
	assert_int_equal(session_entry_flush_count(e), -1);
	assert_int_equal(session_entry_flush_failures(e), 0);
	/* failures count up, keeping the last successful cycle */
	assert_int_equal(session_entry_flush_failed(e), 1);
	assert_int_equal(session_entry_flush_failed(e), 2);
	assert_int_equal(session_entry_flush_count(e), -1);
	session_entry_flush_succeeded(e, 2);
	assert_int_equal(session_entry_flush_count(e), 2);
	assert_int_equal(session_entry_flush_failures(e), 0);
	assert_int_equal(session_entry_flush_failed(e), 1);
	assert_int_equal(session_entry_flush_count(e), 2);
	{
		char *s = json_dumps(json_object_get(e, "memoryFlush"), JSON_SORT_KEYS);
		assert_string_equal(
			s, "{\"compactionCount\": 2, \"failureCount\": 1, \"kind\": \"failed\"}");
		free(s);
	}
	json_decref(e);

	/* an entry of an older OpenClaw: the retired fields are read, then replaced */
	e = json_pack("{s:i, s:i, s:I}", "compactionCount", 4, "memoryFlushCompactionCount", 3,
		      "memoryFlushAt", (json_int_t)1700000000000LL);
	assert_int_equal(session_entry_flush_count(e), 3);
	session_entry_flush_succeeded(e, 4);
	assert_null(json_object_get(e, "memoryFlushCompactionCount"));
	assert_null(json_object_get(e, "memoryFlushAt"));
	assert_int_equal(session_entry_flush_count(e), 4);
	json_decref(e);

	e = json_pack("{s:i, s:i}", "memoryFlushCompactionCount", 1, "memoryFlushFailureCount", 2);
	assert_int_equal(session_entry_flush_count(e), 1);
	assert_int_equal(session_entry_flush_failures(e), 2);
	json_decref(e);

	/* a malformed record is ignored, as OpenClaw's normaliser drops it */
	e = json_pack("{s:{s:s, s:i}}", "memoryFlush", "kind", "succeeded", "compactionCount", -2);
	assert_int_equal(session_entry_flush_count(e), -1);
	json_decref(e);
	e = json_pack("{s:{s:s, s:i}}", "memoryFlush", "kind", "failed", "failureCount", 0);
	assert_int_equal(session_entry_flush_failures(e), 0);
	json_decref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threshold),   cmocka_unit_test(test_due),
		cmocka_unit_test(test_parse_bytes), cmocka_unit_test(test_prompts),
		cmocka_unit_test(test_time_line),   cmocka_unit_test(test_entry_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
