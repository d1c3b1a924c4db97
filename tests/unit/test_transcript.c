/*
 * test_transcript.c - pi's JSONL transcript: loading (torn lines, missing
 * header, migration), appending, crash simulation at every byte of the last
 * line, branches, the model context after a compaction, archives, and
 * files written by OpenClaw.
 *
 * PINCER_WRITE_FIXTURES=1 also (re)writes
 * tests/fixtures/transcripts/pincer-written.jsonl, the file the e2e
 * compatibility test hands to OpenClaw.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <libgen.h>
#include <regex.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "session/transcript.h"

struct tdir {
	char path[PATH_MAX];
};

static int tdir_setup(void **state)
{
	struct tdir *t = calloc(1, sizeof(*t));

	if (!t || tu_mkdtemp(t->path, sizeof(t->path), "transcript") < 0)
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

static char *tpath(void **state, const char *rel)
{
	return xasprintf("%s/%s", ((struct tdir *)*state)->path, rel);
}

static char *slurp(const char *path, size_t *len)
{
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	if (fs_read_file(path, &b) < 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, len);
}

static bool matches(const char *s, const char *re)
{
	regex_t rx;
	bool ok;

	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	ok = s && regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	return ok;
}

/* Every line of the file is a JSON object; returns how many. */
static size_t valid_lines(const char *path)
{
	size_t len, n = 0;
	char *data = slurp(path, &len), *line, *save = NULL;

	assert_non_null(data);
	assert_true(len == 0 || data[len - 1] == '\n');
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *v = json_loads(line, 0, NULL);

		assert_true(json_is_object(v));
		json_decref(v);
		n++;
	}
	free(data);
	return n;
}

static json_t *user_msg(const char *text)
{
	return json_pack("{s:s, s:[{s:s, s:s}], s:I}", "role", "user", "content", "type", "text",
			 "text", text, "timestamp", (json_int_t)1780000005000);
}

static json_t *assistant_msg(const char *text, const char *call_id)
{
	json_t *m = json_pack("{s:s, s:[{s:s, s:s}], s:s, s:s, s:s, s:{s:i, s:i, s:i, s:i, s:i, "
			      "s:{s:f, s:f, s:f, s:f, s:f}}, s:s, s:I}",
			      "role", "assistant", "content", "type", "text", "text", text, "api",
			      "openai-completions", "provider", "fake", "model", "fake-model",
			      "usage", "input", 10, "output", 5, "cacheRead", 0, "cacheWrite", 0,
			      "totalTokens", 15, "cost", "input", 0.0, "output", 0.0, "cacheRead",
			      0.0, "cacheWrite", 0.0, "total", 0.0, "stopReason",
			      call_id ? "toolUse" : "stop", "timestamp", (json_int_t)1780000006000);

	if (call_id)
		json_array_append_new(json_object_get(m, "content"),
				      json_pack("{s:s, s:s, s:s, s:{s:s}}", "type", "toolCall",
						"id", call_id, "name", "exec", "arguments",
						"command", "ls"));
	return m;
}

static json_t *tool_result_msg(const char *call_id)
{
	return json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}], s:b, s:I}", "role", "toolResult",
			 "toolCallId", call_id, "toolName", "exec", "content", "type", "text",
			 "text", "a.txt", "isError", 0, "timestamp", (json_int_t)1780000007000);
}

static const char *eid(json_t *e)
{
	return json_string_value(json_object_get(e, "id"));
}

static const char *first_text(json_t *msg)
{
	return json_string_value(
		json_object_get(json_array_get(json_object_get(msg, "content"), 0), "text"));
}

/* ==== appending and loading ==== */

static void test_new_file(void **state)
{
	char *path = tpath(state, "a/b/s1.jsonl"), *dir = tpath(state, "a/b"), err[128];
	struct transcript t;
	json_t *e1, *e2, *hdr;
	struct stat st;
	size_t len;
	char *data;

	assert_int_equal(transcript_open(&t, path, "s1", "/work", err, sizeof(err)), 0);
	assert_false(fs_exists(path)); /* nothing written before the first append */
	assert_string_equal(t.session_id, "s1");
	assert_null(t.leaf_id);
	e1 = transcript_append_model_change(&t, "anthropic", "claude");
	assert_non_null(e1);
	assert_true(matches(eid(e1), "^[0-9a-f]{8}$"));
	assert_true(json_is_null(json_object_get(e1, "parentId")));
	assert_true(matches(json_string_value(json_object_get(e1, "timestamp")),
			    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"));
	e2 = transcript_append_message(&t, user_msg("hi"));
	assert_string_equal(json_string_value(json_object_get(e2, "parentId")), eid(e1));
	assert_string_equal(t.leaf_id, eid(e2));
	assert_int_equal(transcript_sync(&t), 0);

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(valid_lines(path), 3);

	data = slurp(path, &len);
	hdr = json_loadb(data, (size_t)(strchr(data, '\n') - data), 0, NULL);
	assert_string_equal(json_string_value(json_object_get(hdr, "type")), "session");
	assert_int_equal(json_integer_value(json_object_get(hdr, "version")), 3);
	assert_string_equal(json_string_value(json_object_get(hdr, "id")), "s1");
	assert_string_equal(json_string_value(json_object_get(hdr, "cwd")), "/work");
	/* pi's field order on the entry line */
	assert_non_null(strstr(data, "{\"type\":\"model_change\",\"id\":\""));
	assert_non_null(strstr(data, "\"provider\":\"anthropic\",\"modelId\":\"claude\"}\n"));
	json_decref(hdr);
	free(data);
	transcript_close(&t);

	/* and it loads back as written */
	assert_int_equal(transcript_open(&t, path, "other", "/x", err, sizeof(err)), 0);
	assert_string_equal(t.session_id, "s1");
	assert_int_equal(json_array_size(t.entries), 2);
	assert_int_equal(t.bad_lines, 0);
	assert_false(t.needs_newline);
	assert_non_null(t.leaf_id);
	assert_non_null(transcript_find(&t, t.leaf_id));
	transcript_close(&t);
	free(path);
	free(dir);
}

static void write_sample(const char *path, size_t n_messages)
{
	struct transcript t;
	char err[128];
	size_t i;

	assert_int_equal(transcript_open(&t, path, "sample", "/w", err, sizeof(err)), 0);
	assert_non_null(transcript_append_thinking_change(&t, "medium"));
	for (i = 0; i < n_messages; i++)
		assert_non_null(transcript_append_message(&t, i % 2 ? assistant_msg("reply", NULL)
								    : user_msg("question")));
	transcript_close(&t);
}

/*
 * kill -9 while a line was being written leaves any prefix of it. Cut the
 * file at every byte of its last line: loading never fails, the torn line
 * is counted, and the next append leaves a file of whole lines.
 */
static void test_torn_last_line_every_offset(void **state)
{
	char *path = tpath(state, "s.jsonl"), *orig, err[128];
	size_t len, last, cut;

	write_sample(path, 4); /* header + 5 entries */
	orig = slurp(path, &len);
	for (last = len - 1; last > 0 && orig[last - 1] != '\n'; last--)
		;
	for (cut = last; cut < len; cut++) {
		struct transcript t;
		json_t *e;
		char *prev_leaf;
		size_t expect_entries;
		bool whole = cut == last || cut == len - 1;

		assert_int_equal(truncate(path, 0), 0);
		{
			int fd = open(path, O_WRONLY);

			assert_true(fd >= 0);
			assert_int_equal(write(fd, orig, cut), (ssize_t)cut);
			close(fd);
		}
		assert_int_equal(transcript_open(&t, path, "sample", "/w", err, sizeof(err)), 0);
		/* cut == len-1 loses only the '\n': the object is whole and kept */
		expect_entries = cut == len - 1 ? 5 : 4;
		assert_int_equal(json_array_size(t.entries), expect_entries);
		assert_int_equal(t.bad_lines, whole ? 0 : 1);
		assert_int_equal(t.first_bad_line, whole ? 0 : 6);
		assert_int_equal(t.needs_newline, cut != last);
		prev_leaf = xstrdup(t.leaf_id);
		e = transcript_append_message(&t, user_msg("after crash"));
		assert_non_null(e);
		assert_string_equal(json_string_value(json_object_get(e, "parentId")), prev_leaf);
		transcript_close(&t);
		free(prev_leaf);

		/* the torn line stays, terminated; everything after it is whole */
		assert_int_equal(transcript_open(&t, path, "sample", "/w", err, sizeof(err)), 0);
		assert_int_equal(t.bad_lines, whole ? 0 : 1);
		assert_false(t.needs_newline);
		assert_int_equal(json_array_size(t.entries), expect_entries + 1);
		assert_string_equal(
			first_text(json_object_get(transcript_find(&t, t.leaf_id), "message")),
			"after crash");
		transcript_close(&t);
		if (whole)
			assert_int_equal(valid_lines(path), expect_entries + 2);
	}
	free(orig);
	free(path);
}

/* A crash during the very first write: a torn header and nothing else. */
static void test_torn_header(void **state)
{
	char *path = tpath(state, "h.jsonl"), *p, err[128];
	struct transcript t;

	p = tu_write_file(((struct tdir *)*state)->path, "h.jsonl", "{\"type\":\"session\",\"vers",
			  0600);
	assert_non_null(p);
	assert_int_equal(transcript_open(&t, path, "hid", "/w", err, sizeof(err)), 0);
	assert_int_equal(t.bad_lines, 1);
	assert_string_equal(t.session_id, "hid");
	assert_non_null(transcript_append_message(&t, user_msg("x")));
	transcript_close(&t);
	/* the header is written, after the terminated torn line */
	assert_int_equal(transcript_open(&t, path, NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(t.session_id, "hid");
	assert_int_equal(json_integer_value(json_object_get(t.header, "version")), 3);
	assert_int_equal(json_array_size(t.entries), 1);
	assert_int_equal(t.bad_lines, 1);
	transcript_close(&t);
	free(p);
	free(path);
}

static void test_garbage_and_oversized_lines(void **state)
{
	struct transcript t;
	struct buf b;
	size_t i;

	buf_init(&b, BUF_UNLIMITED);
	buf_puts(&b,
		 "{\"type\":\"session\",\"version\":3,\"id\":\"g\",\"timestamp\":\"x\",\"cwd\":\"/"
		 "\"}\n"
		 "{\"type\":\"message\",\"id\":\"aaaaaaaa\",\"parentId\":null,\"timestamp\":\"t\","
		 "\"message\":{\"role\":\"user\",\"content\":\"one\"}}\n"
		 "not json at all\n"
		 "[1,2,3]\n"
		 "\n   \r\n");
	/* one line just over the cap: skipped without being parsed */
	buf_puts(&b,
		 "{\"type\":\"custom\",\"id\":\"bbbbbbbb\",\"parentId\":\"aaaaaaaa\",\"data\":\"");
	for (i = 0; i < TRANSCRIPT_MAX_LINE; i += 4096) {
		char chunk[4096];

		memset(chunk, 'x', sizeof(chunk));
		buf_append(&b, chunk, sizeof(chunk));
	}
	buf_puts(&b, "\"}\n");
	buf_puts(
		&b,
		"{\"type\":\"message\",\"id\":\"cccccccc\",\"parentId\":\"aaaaaaaa\",\"timestamp\":"
		"\"t\",\"message\":{\"role\":\"assistant\",\"content\":\"two\"}}\n");
	transcript_parse(&t, b.p, b.len);
	buf_release(&b);
	assert_int_equal(t.bad_lines, 3);
	assert_int_equal(t.first_bad_line, 3);
	assert_int_equal(json_array_size(t.entries), 2);
	assert_string_equal(t.leaf_id, "cccccccc");
	{
		/* string content is normalised to text blocks for the model */
		json_t *ctx = transcript_context(&t);

		assert_int_equal(json_array_size(ctx), 2);
		assert_string_equal(first_text(json_array_get(ctx, 1)), "two");
		json_decref(ctx);
	}
	transcript_close(&t);
}

static void test_missing_header(void **state)
{
	static const char data[] =
		"{\"type\":\"message\",\"id\":\"11111111\",\"parentId\":null,\"timestamp\":\"t\","
		"\"message\":{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"}]}}"
		"\n"
		"{\"type\":\"message\",\"id\":\"22222222\",\"parentId\":\"11111111\",\"timestamp\":"
		"\"t\",\"message\":{\"role\":\"assistant\",\"content\":[]}}\n";
	struct transcript t;

	transcript_parse(&t, data, sizeof(data) - 1);
	assert_int_equal(t.bad_lines, 0);
	assert_non_null(t.header);
	assert_string_equal(json_string_value(json_object_get(t.header, "type")), "session");
	assert_non_null(t.session_id);
	/* ids that exist are never rewritten */
	assert_string_equal(t.leaf_id, "22222222");
	assert_string_equal(eid(json_array_get(t.entries, 0)), "11111111");
	transcript_close(&t);
}

static void test_migrate_v1(void **state)
{
	char *path = tpath(state, "v1.jsonl"), *p, err[128];
	struct transcript t;
	json_t *c, *m;

	p = tu_write_file(
		((struct tdir *)*state)->path, "v1.jsonl",
		"{\"type\":\"session\",\"id\":\"old\",\"timestamp\":\"2025-01-01T00:00:00.000Z\","
		"\"cwd\":\"/\"}\n"
		"{\"type\":\"message\",\"timestamp\":\"2025-01-01T00:00:01.000Z\",\"message\":{"
		"\"role\":\"user\",\"content\":\"q1\"}}\n"
		"{\"type\":\"message\",\"timestamp\":\"2025-01-01T00:00:02.000Z\",\"message\":{"
		"\"role\":\"hookMessage\",\"content\":\"hooked\"}}\n"
		"{\"type\":\"message\",\"timestamp\":\"2025-01-01T00:00:03.000Z\",\"message\":{"
		"\"role\":\"user\",\"content\":\"q2\"}}\n"
		"{\"type\":\"compaction\",\"timestamp\":\"2025-01-01T00:00:04.000Z\",\"summary\":"
		"\"S\",\"firstKeptEntryIndex\":3,\"tokensBefore\":9}\n",
		0600);
	assert_non_null(p);
	assert_int_equal(transcript_open(&t, path, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(json_integer_value(json_object_get(t.header, "version")), 3);
	assert_true(t.migrated);
	assert_true(matches(eid(json_array_get(t.entries, 0)), "^[0-9a-f]{8}$"));
	assert_true(json_is_null(json_object_get(json_array_get(t.entries, 0), "parentId")));
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(t.entries, 1), "parentId")),
		eid(json_array_get(t.entries, 0)));
	m = json_object_get(json_array_get(t.entries, 1), "message");
	assert_string_equal(json_string_value(json_object_get(m, "role")), "custom");
	assert_string_equal(json_string_value(json_object_get(m, "customType")), "hook");
	c = json_array_get(t.entries, 3);
	/* line 3 of the file (the header is line 0) is "q2" */
	assert_string_equal(json_string_value(json_object_get(c, "firstKeptEntryId")),
			    eid(json_array_get(t.entries, 2)));
	assert_null(json_object_get(c, "firstKeptEntryIndex"));

	/* the first append rewrites the file as v3, so the ids exist on disk */
	assert_non_null(transcript_append_message(&t, user_msg("new")));
	transcript_close(&t);
	assert_int_equal(valid_lines(path), 6);
	assert_int_equal(transcript_open(&t, path, NULL, NULL, err, sizeof(err)), 0);
	assert_false(t.migrated);
	assert_int_equal(json_array_size(t.entries), 5);
	{
		json_t *br = transcript_branch(&t);

		assert_int_equal(json_array_size(br), 5);
		json_decref(br);
	}
	transcript_close(&t);
	free(p);
	free(path);
}

/* ==== tree and context ==== */

static void test_branch_fork(void **state)
{
	/* r -> a -> b, and r -> c (written last, so the current branch) */
	static const char data[] =
		"{\"type\":\"session\",\"version\":3,\"id\":\"f\",\"timestamp\":\"t\",\"cwd\":\"/"
		"\"}\n"
		"{\"type\":\"message\",\"id\":\"r0000000\",\"parentId\":null,\"timestamp\":\"t\","
		"\"message\":{\"role\":\"user\",\"content\":\"root\"}}\n"
		"{\"type\":\"message\",\"id\":\"a0000000\",\"parentId\":\"r0000000\",\"timestamp\":"
		"\"t\",\"message\":{\"role\":\"assistant\",\"content\":\"A\"}}\n"
		"{\"type\":\"message\",\"id\":\"b0000000\",\"parentId\":\"a0000000\",\"timestamp\":"
		"\"t\",\"message\":{\"role\":\"user\",\"content\":\"B\"}}\n"
		"{\"type\":\"message\",\"id\":\"c0000000\",\"parentId\":\"r0000000\",\"timestamp\":"
		"\"t\",\"message\":{\"role\":\"assistant\",\"content\":\"C\"}}\n";
	struct transcript t;
	json_t *br, *msgs;

	transcript_parse(&t, data, sizeof(data) - 1);
	assert_string_equal(t.leaf_id, "c0000000");
	br = transcript_branch(&t);
	assert_int_equal(json_array_size(br), 2);
	assert_string_equal(eid(json_array_get(br, 0)), "r0000000");
	assert_string_equal(eid(json_array_get(br, 1)), "c0000000");
	json_decref(br);
	msgs = transcript_messages(&t);
	assert_int_equal(json_array_size(msgs), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 1), "__id")),
			    "c0000000");
	json_decref(msgs);
	transcript_close(&t);

	/* an OpenClaw leaf control moves the leaf back to the other fork */
	{
		struct buf b;

		buf_init(&b, BUF_UNLIMITED);
		buf_puts(&b, data);
		buf_puts(&b, "{\"type\":\"leaf\",\"id\":\"l0000000\",\"parentId\":\"c0000000\","
			     "\"timestamp\":\"t\",\"targetId\":\"b0000000\"}\n");
		transcript_parse(&t, b.p, b.len);
		buf_release(&b);
		assert_string_equal(t.leaf_id, "b0000000");
		br = transcript_branch(&t);
		assert_int_equal(json_array_size(br), 3);
		json_decref(br);
		transcript_close(&t);
	}
}

static void test_parent_cycle(void **state)
{
	static const char data[] = "{\"type\":\"message\",\"id\":\"x\",\"parentId\":\"y\","
				   "\"message\":{\"role\":\"user\","
				   "\"content\":\"1\"}}\n"
				   "{\"type\":\"message\",\"id\":\"y\",\"parentId\":\"x\","
				   "\"message\":{\"role\":\"user\","
				   "\"content\":\"2\"}}\n";
	struct transcript t;
	json_t *br, *ctx;

	transcript_parse(&t, data, sizeof(data) - 1);
	br = transcript_branch(&t);
	assert_true(json_array_size(br) <= 3);
	ctx = transcript_context(&t);
	json_decref(ctx);
	json_decref(br);
	transcript_close(&t);
}

static const char SUMMARY_TEXT[] =
	"The conversation history before this point was compacted into the following summary:"
	"\n\n<summary>\nWe listed files.\n</summary>";

static void test_compaction_context(void **state)
{
	char *path = tpath(state, "c.jsonl"), err[128];
	struct transcript t;
	json_t *u1, *a1, *tr1, *u2, *ctx, *msgs, *c;
	char *u2id;

	assert_int_equal(transcript_open(&t, path, "c", "/", err, sizeof(err)), 0);
	u1 = transcript_append_message(&t, user_msg("list files"));
	a1 = transcript_append_message(&t, assistant_msg("running", "call_1"));
	tr1 = transcript_append_message(&t, tool_result_msg("call_1"));
	assert_non_null(u1 && a1 && tr1);
	transcript_append_message(&t, assistant_msg("a.txt is there", NULL));
	u2 = transcript_append_message(&t, user_msg("thanks"));
	u2id = xstrdup(eid(u2));
	transcript_append_message(&t, assistant_msg("welcome", NULL));
	c = transcript_append_compaction(&t, "We listed files.", u2id, 12345);
	assert_int_equal(json_integer_value(json_object_get(c, "tokensBefore")), 12345);
	transcript_append_message(&t, user_msg("next"));
	transcript_close(&t);

	assert_int_equal(transcript_open(&t, path, NULL, NULL, err, sizeof(err)), 0);
	ctx = transcript_context(&t);
	/* summary, then thanks, welcome (kept), then next */
	assert_int_equal(json_array_size(ctx), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ctx, 0), "role")),
			    "user");
	assert_string_equal(first_text(json_array_get(ctx, 0)), SUMMARY_TEXT);
	assert_true(json_is_integer(json_object_get(json_array_get(ctx, 0), "timestamp")));
	assert_true(json_integer_value(json_object_get(json_array_get(ctx, 0), "timestamp")) >
		    1700000000000LL);
	assert_string_equal(first_text(json_array_get(ctx, 1)), "thanks");
	assert_string_equal(first_text(json_array_get(ctx, 3)), "next");
	json_decref(ctx);
	/* the display view keeps everything */
	msgs = transcript_messages(&t);
	assert_int_equal(json_array_size(msgs), 7);
	json_decref(msgs);
	transcript_close(&t);
	free(u2id);
	free(path);
}

/* firstKeptEntryId on a toolResult: its call was summarised away. */
static void test_compaction_orphan_tool_result(void **state)
{
	char *path = tpath(state, "o.jsonl"), err[128], *keep;
	struct transcript t;
	json_t *ctx, *tr;
	size_t i;

	assert_int_equal(transcript_open(&t, path, "o", "/", err, sizeof(err)), 0);
	transcript_append_message(&t, user_msg("go"));
	transcript_append_message(&t, assistant_msg("", "call_9"));
	tr = transcript_append_message(&t, tool_result_msg("call_9"));
	keep = xstrdup(eid(tr));
	transcript_append_message(&t, assistant_msg("done", NULL));
	transcript_append_compaction(&t, "S", keep, 1);
	ctx = transcript_context(&t);
	assert_int_equal(json_array_size(ctx), 2);
	json_array_foreach(ctx, i, tr) assert_string_not_equal(
		json_string_value(json_object_get(tr, "role")), "toolResult");
	json_decref(ctx);

	/* an unknown firstKeptEntryId keeps nothing from before the compaction */
	transcript_append_compaction(&t, "S2", "nope", 2);
	transcript_append_message(&t, user_msg("after"));
	ctx = transcript_context(&t);
	assert_int_equal(json_array_size(ctx), 2);
	assert_non_null(strstr(first_text(json_array_get(ctx, 0)), "<summary>\nS2\n</summary>"));
	json_decref(ctx);
	transcript_close(&t);
	free(keep);
	free(path);
}

static void test_custom_entries_context(void **state)
{
	static const char data[] =
		"{\"type\":\"session\",\"version\":3,\"id\":\"k\",\"timestamp\":\"t\",\"cwd\":\"/"
		"\"}\n"
		"{\"type\":\"custom_message\",\"id\":\"a\",\"parentId\":null,\"timestamp\":"
		"\"2026-01-01T00:00:00.000Z\",\"customType\":\"x\",\"content\":\"note\","
		"\"display\":false}\n"
		"{\"type\":\"custom\",\"id\":\"b\",\"parentId\":\"a\",\"customType\":\"y\","
		"\"data\":{}}\n"
		"{\"type\":\"branch_summary\",\"id\":\"c\",\"parentId\":\"b\",\"timestamp\":"
		"\"2026-01-01T00:00:00.000Z\",\"fromId\":\"a\",\"summary\":\"B\"}\n"
		"{\"type\":\"some_future_type\",\"id\":\"d\",\"parentId\":\"c\"}\n";
	struct transcript t;
	json_t *ctx;

	transcript_parse(&t, data, sizeof(data) - 1);
	ctx = transcript_context(&t);
	assert_int_equal(json_array_size(ctx), 2);
	assert_string_equal(first_text(json_array_get(ctx, 0)), "note");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ctx, 0), "timestamp")),
			 1767225600000LL);
	assert_string_equal(first_text(json_array_get(ctx, 1)),
			    "The following is a summary of a branch that this conversation came "
			    "back from:\n\n<summary>\nB</summary>");
	json_decref(ctx);
	transcript_close(&t);
}

/* ==== archive, limits ==== */

static void test_archive(void **state)
{
	char *path = tpath(state, "z.jsonl"), *a, *b;

	write_sample(path, 1);
	a = transcript_archive(path, "reset");
	assert_non_null(a);
	assert_true(matches(a, "/z\\.jsonl\\.reset\\.[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-"
			       "[0-9]{2}\\.[0-9]{3}Z$"));
	assert_false(fs_exists(path));
	assert_true(fs_exists(a));
	assert_null(transcript_archive(path, "deleted"));
	assert_int_equal(errno, ENOENT);
	/* two in one millisecond get distinct names */
	write_sample(path, 1);
	b = transcript_archive(path, "reset");
	assert_non_null(b);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
	free(path);
}

static void test_open_errors(void **state)
{
	char *dir = tpath(state, ""), err[128];
	struct transcript t;

	assert_int_equal(transcript_open(&t, dir, "x", "/", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot read"));
	transcript_close(&t);
	free(dir);
}

/* ==== files written by OpenClaw, and for it ==== */

static char *fixture_path(const char *name)
{
	char exe[PATH_MAX], *p;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	/* build/tests/test_transcript -> tests/fixtures/transcripts/<name> */
	p = xasprintf("%s/../../tests/fixtures/transcripts/%s", dirname(exe), name);
	return p;
}

/*
 * Captured from OpenClaw 2026.9.6 (two `openclaw agent` turns against a fake
 * OpenAI server, then sessions.reset): its transcript rows, one per line as
 * it serialises them (v4 header, UUID entry ids, custom entries, string user
 * content, a "reset" entry as the leaf).
 */
static void test_openclaw_written(void **state)
{
	char *path = fixture_path("openclaw-written.jsonl"), err[128], *data, *last;
	struct transcript t;
	json_t *ctx, *msgs;
	size_t len;

	assert_non_null(path);
	assert_true(fs_exists(path));
	assert_int_equal(transcript_open(&t, path, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(t.bad_lines, 0);
	assert_false(t.migrated);
	assert_false(t.needs_newline);
	assert_int_equal(json_integer_value(json_object_get(t.header, "version")), 4);
	assert_int_equal(json_array_size(t.entries), 10);
	assert_string_equal(t.leaf_id, "688dee63"); /* the reset */
	msgs = transcript_messages(&t);
	assert_int_equal(json_array_size(msgs), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 0), "content")),
			    "hello there");
	json_decref(msgs);
	/* a reset without firstKeptEntryId keeps nothing for the model */
	ctx = transcript_context(&t);
	assert_int_equal(json_array_size(ctx), 0);
	json_decref(ctx);
	transcript_close(&t);

	/* before the reset, the conversation is all there */
	data = slurp(path, &len);
	last = data + len - 1;
	while (last > data && last[-1] != '\n')
		last--;
	transcript_parse(&t, data, (size_t)(last - data));
	ctx = transcript_context(&t);
	assert_int_equal(json_array_size(ctx), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ctx, 2), "content")),
			    "second turn");
	assert_string_equal(json_string_value(json_object_get(json_array_get(ctx, 3), "role")),
			    "assistant");
	json_decref(ctx);
	/* and pincer can continue it */
	transcript_close(&t);
	free(data);
	free(path);
}

/*
 * The conversation the e2e test gives OpenClaw: a model change, a thinking
 * level, a tool round trip, a compaction and a turn after it.
 */
static void test_pincer_written(void **state)
{
	char *path = tpath(state, "8f0c6e8e-2f57-4a43-9d3b-4c1b8e1f3a10.jsonl"), err[128], *keep;
	const char *write = getenv("PINCER_WRITE_FIXTURES");
	struct transcript t;
	json_t *e;

	assert_int_equal(transcript_open(&t, path, "8f0c6e8e-2f57-4a43-9d3b-4c1b8e1f3a10",
					 "/tmp/pincer-ws", err, sizeof(err)),
			 0);
	transcript_append_model_change(&t, "fake", "fake-model");
	transcript_append_thinking_change(&t, "low");
	transcript_append_message(&t, user_msg("list files"));
	transcript_append_message(&t, assistant_msg("", "call_1"));
	transcript_append_message(&t, tool_result_msg("call_1"));
	transcript_append_message(&t, assistant_msg("There is a.txt.", NULL));
	e = transcript_append_message(&t, user_msg("thanks"));
	keep = xstrdup(eid(e));
	transcript_append_message(&t, assistant_msg("You're welcome.", NULL));
	transcript_append_compaction(&t, "The user listed files; there is a.txt.", keep, 4242);
	transcript_append_message(&t, user_msg("what was there?"));
	transcript_append_message(&t, assistant_msg("a.txt", NULL));
	transcript_close(&t);
	assert_int_equal(valid_lines(path), 12);
	if (write && !strcmp(write, "1")) {
		char *dst = fixture_path("pincer-written.jsonl");
		size_t len;
		char *data = slurp(path, &len);

		assert_int_equal(fs_write_atomic(dst, data, len, 0644), 0);
		free(data);
		free(dst);
	}
	free(keep);
	free(path);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tdir_setup, tdir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_new_file),
		T(test_torn_last_line_every_offset),
		T(test_torn_header),
		T(test_garbage_and_oversized_lines),
		T(test_missing_header),
		T(test_migrate_v1),
		T(test_branch_fork),
		T(test_parent_cycle),
		T(test_compaction_context),
		T(test_compaction_orphan_tool_result),
		T(test_custom_entries_context),
		T(test_archive),
		T(test_open_errors),
		T(test_openclaw_written),
		T(test_pincer_written),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
