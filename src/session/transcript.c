/*
 * transcript.c - a session's JSONL transcript (pi SessionManager, v3); see transcript.h.
 */
#include "session/transcript.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/id.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "core/timeutil.h"

#define TRANSCRIPT_VERSION 3

/*
 * The wording pi's convertToLlm gives a compaction / branch summary when it
 * turns them into user messages (OpenClaw packages/agent-core harness).
 */
#define COMPACTION_PREFIX                                                                          \
	"The conversation history before this point was compacted into the following "             \
	"summary:\n\n<summary>\n"
#define COMPACTION_SUFFIX "\n</summary>"
#define BRANCH_PREFIX                                                                              \
	"The following is a summary of a branch that this conversation came back from:\n\n"        \
	"<summary>\n"
#define BRANCH_SUFFIX "</summary>"

/* ==== small helpers ==== */

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool entry_is(const json_t *e, const char *type)
{
	return str_eq(jstr(e, "type"), type);
}

static json_t *new_header(const char *session_id, const char *cwd)
{
	char ts[32], uuid[40];

	time_iso8601(time_now_ms(), ts, sizeof(ts));
	if (!session_id || !*session_id) {
		id_uuid(uuid);
		session_id = uuid;
	}
	/* Field order as pi writes it. */
	return json_pack("{s:s, s:i, s:s, s:s, s:s}", "type", "session", "version",
			 TRANSCRIPT_VERSION, "id", session_id, "timestamp", ts, "cwd",
			 cwd ? cwd : "");
}

/* An 8-hex-char id not yet used in this file (pi's generateId). */
static void new_entry_id(const struct transcript *t, char out[9])
{
	do
		id_hex(out, 4);
	while (json_object_get(t->by_id, out));
}

static void reset_struct(struct transcript *t)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->entries = json_array();
	t->by_id = json_object();
}

/* ==== loading ==== */

/*
 * Give v1 entries ids and a parent chain, and turn v1/v2 "hookMessage"
 * messages into custom ones, as pi's migrateToCurrentVersion does. Unlike
 * pi, an entry that already has an id keeps it: a file whose header was
 * lost in a crash must not have its ids rewritten.
 */
static void migrate(struct transcript *t, long version, bool header_in_file)
{
	json_t *e, *prev = NULL;
	size_t i;

	json_array_foreach(t->entries, i, e)
	{
		if (version < 2 && !jstr(e, "id")) {
			char id[9];

			new_entry_id(t, id);
			json_object_set_new(e, "id", json_string(id));
			json_object_set(e, "parentId",
					prev ? json_object_get(prev, "id") : json_null());
			json_object_set(t->by_id, id, e);
		}
		if (version < 2 && entry_is(e, "compaction") &&
		    json_is_integer(json_object_get(e, "firstKeptEntryIndex"))) {
			/* the index counts file lines, the header being line 0 */
			json_int_t idx =
				json_integer_value(json_object_get(e, "firstKeptEntryIndex"));
			json_int_t k = idx - (header_in_file ? 1 : 0);
			json_t *kept = k >= 0 ? json_array_get(t->entries, (size_t)k) : NULL;

			if (kept && jstr(kept, "id"))
				json_object_set(e, "firstKeptEntryId", json_object_get(kept, "id"));
			json_object_del(e, "firstKeptEntryIndex");
		}
		if (entry_is(e, "message")) {
			json_t *m = json_object_get(e, "message");

			if (str_eq(jstr(m, "role"), "hookMessage")) {
				json_object_set_new(m, "role", json_string("custom"));
				if (!jstr(m, "customType") || !*jstr(m, "customType"))
					json_object_set_new(m, "customType", json_string("hook"));
			}
		}
		if (jstr(e, "id"))
			prev = e;
	}
	json_object_set_new(t->header, "version", json_integer(TRANSCRIPT_VERSION));
	t->migrated = true;
}

/*
 * The leaf: the last entry, except that OpenClaw's "leaf" control records
 * ({type:"leaf", targetId}) move it to their target (null: before the first
 * entry) until a later entry is appended.
 */
static void find_leaf(struct transcript *t)
{
	const char *leaf = NULL;
	json_t *e;
	size_t i;

	json_array_foreach(t->entries, i, e)
	{
		if (entry_is(e, "leaf")) {
			const char *target = jstr(e, "targetId");

			leaf = target && json_object_get(t->by_id, target) ? target : NULL;
			continue;
		}
		if (jstr(e, "id") && json_object_get(t->by_id, jstr(e, "id")) == e)
			leaf = jstr(e, "id");
	}
	free(t->leaf_id);
	t->leaf_id = leaf ? xstrdup(leaf) : NULL;
}

static void note_bad(struct transcript *t, size_t lineno)
{
	if (t->bad_lines++ == 0)
		t->first_bad_line = lineno;
}

void transcript_parse(struct transcript *t, const char *data, size_t len)
{
	bool header_in_file = false, any_entry = false;
	size_t pos = 0, lineno = 0;
	long version;

	reset_struct(t);
	t->bytes = len;
	while (pos < len) {
		const char *line = data + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		json_error_t jerr;
		json_t *v;
		size_t k;

		pos += n + (nl ? 1 : 0);
		lineno++;
		for (k = 0; k < n && strchr(" \t\r", line[k]); k++)
			;
		if (k == n)
			continue; /* blank lines are not damage (pi trims them too) */
		if (n > TRANSCRIPT_MAX_LINE) {
			note_bad(t, lineno);
			continue;
		}
		/* JSON.parse accepts \u0000 in strings, so must we. */
		v = json_loadb(line, n, JSON_ALLOW_NUL, &jerr);
		if (!json_is_object(v)) {
			json_decref(v);
			note_bad(t, lineno);
			continue;
		}
		if (!t->header && !any_entry && entry_is(v, "session") && jstr(v, "id")) {
			t->header = v;
			header_in_file = true;
			continue;
		}
		any_entry = true;
		/*
		 * Index every entry with a string id except session lines and
		 * leaf controls; anything else (unknown types included) is kept
		 * and passed through, as OpenClaw keeps "opaque" entries.
		 */
		if (jstr(v, "id") && !entry_is(v, "session") && !entry_is(v, "leaf") &&
		    !json_object_get(t->by_id, jstr(v, "id")))
			json_object_set(t->by_id, jstr(v, "id"), v);
		json_array_append_new(t->entries, v);
	}
	t->needs_newline = len > 0 && data[len - 1] != '\n';
	/*
	 * The file has a header line if one parsed; a file with neither header
	 * nor entries (empty, or only a torn first line) gets one on the first
	 * append, so OpenClaw never sees it as a headerless v1 file.
	 */
	t->header_on_disk = header_in_file || any_entry;
	version = header_in_file ? (long)json_integer_value(json_object_get(t->header, "version"))
				 : 1;
	if (!t->header)
		t->header = new_header(NULL, NULL);
	t->session_id = xstrdup(jstr(t->header, "id"));
	if (version < TRANSCRIPT_VERSION && any_entry)
		migrate(t, version, header_in_file);
	else if (version < TRANSCRIPT_VERSION)
		json_object_set_new(t->header, "version", json_integer(TRANSCRIPT_VERSION));
	find_leaf(t);
}

int transcript_open(struct transcript *t, const char *path, const char *session_id, const char *cwd,
		    char *err, size_t errlen)
{
	struct buf b;

	buf_init(&b, TRANSCRIPT_MAX_BYTES);
	if (fs_read_file(path, &b) < 0) {
		int e = errno;

		buf_release(&b);
		if (e != ENOENT) {
			snprintf(err, errlen, "cannot read %s: %s", path,
				 e == E2BIG ? "transcript too large" : strerror(e));
			memset(t, 0, sizeof(*t));
			t->fd = -1;
			errno = e;
			return -1;
		}
		reset_struct(t);
		t->header = new_header(session_id, cwd);
		t->session_id = xstrdup(jstr(t->header, "id"));
		t->path = xstrdup(path);
		return 0;
	}
	transcript_parse(t, b.p, b.len);
	buf_release(&b);
	t->path = xstrdup(path);
	if (t->bad_lines)
		log_warn("session", "%s: skipped %zu bad line(s), first at line %zu", path,
			 t->bad_lines, t->first_bad_line);
	/* A file that had no header gets the caller's identity for it. */
	if (!t->header_on_disk && session_id && *session_id) {
		json_object_set_new(t->header, "id", json_string(session_id));
		if (cwd)
			json_object_set_new(t->header, "cwd", json_string(cwd));
		free(t->session_id);
		t->session_id = xstrdup(session_id);
	}
	return 0;
}

void transcript_close(struct transcript *t)
{
	if (t->fd >= 0)
		close(t->fd);
	free(t->path);
	free(t->session_id);
	free(t->leaf_id);
	json_decref(t->header);
	json_decref(t->entries);
	json_decref(t->by_id);
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}

/* ==== appending ==== */

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int dump_line(struct buf *b, const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	int r;

	if (!s) {
		errno = ENOMEM;
		return -1;
	}
	r = buf_puts(b, s);
	free(s);
	return r < 0 ? -1 : buf_putc(b, '\n');
}

/*
 * A migrated (v1/v2) file is rewritten whole as v3 before anything is
 * appended, as pi does: appended entries point at ids that exist only in
 * the migrated form. Bad lines do not survive the rewrite.
 */
static int rewrite_migrated(struct transcript *t)
{
	struct buf b;
	json_t *e;
	size_t i;
	int r = -1;

	buf_init(&b, BUF_UNLIMITED);
	if (dump_line(&b, t->header) < 0)
		goto out;
	json_array_foreach(t->entries, i, e) if (dump_line(&b, e) < 0) goto out;
	if (fs_write_atomic(t->path, b.p, b.len, 0600) < 0)
		goto out;
	t->migrated = false;
	t->needs_newline = false;
	t->header_on_disk = true;
	r = 0;
out:
	buf_release(&b);
	return r;
}

static int open_for_append(struct transcript *t)
{
	char *dir;

	if (t->fd >= 0)
		return 0;
	if (!t->path) {
		errno = EINVAL;
		return -1;
	}
	dir = fs_dirname(t->path);
	if (fs_mkdir_p(dir, 0700) < 0) {
		free(dir);
		return -1;
	}
	free(dir);
	if (t->migrated && rewrite_migrated(t) < 0)
		return -1;
	t->fd = open(t->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (t->fd < 0)
		return -1;
	/*
	 * The file may have been removed or emptied behind our back since it
	 * was loaded; then it needs its header again and no newline.
	 */
	{
		struct stat st;

		if (fstat(t->fd, &st) == 0 && st.st_size == 0) {
			t->header_on_disk = false;
			t->needs_newline = false;
		}
	}
	return 0;
}

json_t *transcript_append(struct transcript *t, json_t *entry)
{
	const char *key;
	json_t *full = NULL, *v;
	struct buf b;
	char id[9], ts[32];
	int e;

	if (!json_is_object(entry) || !jstr(entry, "type")) {
		json_decref(entry);
		errno = EINVAL;
		return NULL;
	}
	if (open_for_append(t) < 0) {
		e = errno;
		json_decref(entry);
		errno = e;
		return NULL;
	}
	new_entry_id(t, id);
	time_iso8601(time_now_ms(), ts, sizeof(ts));
	/* pi's field order: type, id, parentId, timestamp, then the entry's own. */
	full = json_pack("{s:O, s:s, s:o, s:s}", "type", json_object_get(entry, "type"), "id", id,
			 "parentId", t->leaf_id ? json_string(t->leaf_id) : json_null(),
			 "timestamp", ts);
	json_object_foreach(entry, key, v)
	{
		if (strcmp(key, "type") && strcmp(key, "id") && strcmp(key, "parentId") &&
		    strcmp(key, "timestamp"))
			json_object_set(full, key, v);
	}
	json_decref(entry);

	/* One write() per line: a torn-line terminator and the header go with it. */
	buf_init(&b, BUF_UNLIMITED);
	if (t->needs_newline)
		buf_putc(&b, '\n');
	if ((!t->header_on_disk && dump_line(&b, t->header) < 0) || dump_line(&b, full) < 0 ||
	    write_all(t->fd, b.p, b.len) < 0) {
		e = errno;
		/* a short write may have left a partial line: terminate it next time */
		t->needs_newline = true;
		buf_release(&b);
		json_decref(full);
		errno = e;
		return NULL;
	}
	t->bytes += b.len;
	buf_release(&b);
	t->needs_newline = false;
	t->header_on_disk = true;
	json_array_append_new(t->entries, full);
	json_object_set(t->by_id, id, full);
	free(t->leaf_id);
	t->leaf_id = xstrdup(id);
	return full;
}

json_t *transcript_append_message(struct transcript *t, json_t *msg)
{
	if (!json_is_object(msg)) {
		json_decref(msg);
		errno = EINVAL;
		return NULL;
	}
	return transcript_append(t, json_pack("{s:s, s:o}", "type", "message", "message", msg));
}

json_t *transcript_append_model_change(struct transcript *t, const char *provider,
				       const char *model_id)
{
	return transcript_append(t, json_pack("{s:s, s:s, s:s}", "type", "model_change", "provider",
					      provider ? provider : "", "modelId",
					      model_id ? model_id : ""));
}

json_t *transcript_append_thinking_change(struct transcript *t, const char *level)
{
	return transcript_append(t, json_pack("{s:s, s:s}", "type", "thinking_level_change",
					      "thinkingLevel", level ? level : "off"));
}

json_t *transcript_append_compaction(struct transcript *t, const char *summary,
				     const char *first_kept_id, long tokens_before)
{
	return transcript_append(t, json_pack("{s:s, s:s, s:s, s:I}", "type", "compaction",
					      "summary", summary ? summary : "", "firstKeptEntryId",
					      first_kept_id ? first_kept_id : "", "tokensBefore",
					      (json_int_t)tokens_before));
}

int transcript_sync(struct transcript *t)
{
	if (t->fd < 0)
		return 0;
	return fdatasync(t->fd);
}

/* ==== views ==== */

json_t *transcript_find(const struct transcript *t, const char *id)
{
	return id ? json_object_get(t->by_id, id) : NULL;
}

json_t *transcript_branch(const struct transcript *t)
{
	json_t *path = json_array(), *seen = json_object(), *e = transcript_find(t, t->leaf_id);
	size_t i, j;

	/* parentId chains come from the file: stop at the first repeat (a cycle) */
	while (e && !json_object_get(seen, json_string_value(json_object_get(e, "id")))) {
		json_object_set_new(seen, json_string_value(json_object_get(e, "id")), json_true());
		json_array_append(path, e);
		e = transcript_find(t, jstr(e, "parentId"));
	}
	json_decref(seen);
	for (i = 0, j = json_array_size(path); j > 1 && i < j - 1; i++, j--) {
		json_t *a = json_incref(json_array_get(path, i));
		json_t *b = json_incref(json_array_get(path, j - 1));

		json_array_set_new(path, i, b);
		json_array_set_new(path, j - 1, a);
	}
	return path;
}

static json_t *user_text(const char *text, json_t *timestamp)
{
	json_t *m = json_pack("{s:s, s:[{s:s, s:s}]}", "role", "user", "content", "type", "text",
			      "text", text);

	json_object_set_new(m, "timestamp", timestamp ? json_incref(timestamp) : json_integer(0));
	return m;
}

/* An entry's ISO timestamp in ms (the summary messages carry numbers). */
static json_t *entry_ts(const json_t *e)
{
	const char *s = jstr(e, "timestamp");
	struct tm tm = { 0 };
	int ms = 0;
	char *end;

	if (!s)
		return json_integer(0);
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return json_integer(0);
	if (*end == '.')
		ms = (int)strtol(end + 1, NULL, 10) % 1000;
	return json_integer((json_int_t)timegm(&tm) * 1000 + ms);
}

static json_t *summary_message(const char *prefix, const char *summary, const char *suffix,
			       const json_t *e)
{
	char *text = xasprintf("%s%s%s", prefix, summary, suffix);
	json_t *ts = entry_ts(e), *m = user_text(text, ts);

	json_decref(ts);
	free(text);
	return m;
}

/* Text blocks from a string or an array, as pi normalises content. */
static json_t *as_blocks(json_t *content)
{
	if (json_is_string(content))
		return json_pack("[{s:s, s:O}]", "type", "text", "text", content);
	if (json_is_array(content))
		return json_incref(content);
	return json_array();
}

static json_t *bash_text_message(json_t *m)
{
	const char *cmd = jstr(m, "command"), *out = jstr(m, "output");
	json_t *code = json_object_get(m, "exitCode"), *r;
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	buf_printf(&b, "Ran `%s`\n", cmd ? cmd : "");
	if (out && *out)
		buf_printf(&b, "```\n%s\n```", out);
	else
		buf_puts(&b, "(no output)");
	if (json_is_true(json_object_get(m, "cancelled")))
		buf_puts(&b, "\n\n(command cancelled)");
	else if (json_is_integer(code) && json_integer_value(code) != 0)
		buf_printf(&b, "\n\nCommand exited with code %lld",
			   (long long)json_integer_value(code));
	if (json_is_true(json_object_get(m, "truncated")) && jstr(m, "fullOutputPath"))
		buf_printf(&b, "\n\n[Output truncated. Full output: %s]",
			   jstr(m, "fullOutputPath"));
	r = user_text(b.p, json_object_get(m, "timestamp"));
	buf_release(&b);
	return r;
}

/*
 * What one branch entry contributes to the model's context (pi's
 * projectSessionEntryMessage + convertToLlm), or NULL. New reference.
 */
static json_t *context_message(json_t *e)
{
	if (entry_is(e, "message")) {
		json_t *m = json_object_get(e, "message"), *c;
		const char *role = jstr(m, "role");

		if (!json_is_object(m) || json_is_true(json_object_get(m, "excludeFromContext")))
			return NULL;
		if (str_eq(role, "user"))
			return json_incref(m);
		if (str_eq(role, "assistant") || str_eq(role, "toolResult")) {
			c = json_object_get(m, "content");
			if (json_is_array(c))
				return json_incref(m);
			/* pi's normalizeLoadedFileEntry: string content -> text blocks */
			m = json_copy(m);
			json_object_set_new(m, "content", as_blocks(c));
			return m;
		}
		if (str_eq(role, "custom")) {
			json_t *u = user_text("", json_object_get(m, "timestamp"));

			json_object_set_new(u, "content", as_blocks(json_object_get(m, "content")));
			return u;
		}
		if (str_eq(role, "bashExecution"))
			return bash_text_message(m);
		if (str_eq(role, "compactionSummary") && jstr(m, "summary"))
			return summary_message(COMPACTION_PREFIX, jstr(m, "summary"),
					       COMPACTION_SUFFIX, e);
		if (str_eq(role, "branchSummary") && jstr(m, "summary"))
			return summary_message(BRANCH_PREFIX, jstr(m, "summary"), BRANCH_SUFFIX, e);
		return NULL;
	}
	if (entry_is(e, "custom_message")) {
		json_t *u, *ts;

		if (json_is_true(json_object_get(e, "excludeFromContext")))
			return NULL;
		ts = entry_ts(e);
		u = user_text("", ts);
		json_decref(ts);
		json_object_set_new(u, "content", as_blocks(json_object_get(e, "content")));
		return u;
	}
	if (entry_is(e, "branch_summary") && jstr(e, "summary") && *jstr(e, "summary"))
		return summary_message(BRANCH_PREFIX, jstr(e, "summary"), BRANCH_SUFFIX, e);
	return NULL;
}

/* Add the ids of an assistant message's tool calls to `ids`. */
static void note_tool_calls(json_t *ids, const json_t *m)
{
	json_t *blk;
	size_t i;

	json_array_foreach(json_object_get(m, "content"), i, blk)
	{
		if (str_eq(jstr(blk, "type"), "toolCall") && jstr(blk, "id"))
			json_object_set_new(ids, jstr(blk, "id"), json_true());
	}
}

json_t *transcript_context(const struct transcript *t)
{
	json_t *path = transcript_branch(t), *out = json_array(), *calls = json_object();
	json_t *boundary = NULL, *e;
	size_t n = json_array_size(path), bi = 0, first_kept = 0, i;
	bool reset = false;

	/* The last compaction (or OpenClaw "reset") on the branch cuts history. */
	for (i = n; i-- > 0;) {
		e = json_array_get(path, i);
		if (entry_is(e, "compaction") || entry_is(e, "reset")) {
			boundary = e;
			bi = i;
			break;
		}
	}
	if (boundary) {
		const char *keep = jstr(boundary, "firstKeptEntryId");

		reset = entry_is(boundary, "reset");
		first_kept = bi;
		for (i = 0; keep && i < bi; i++)
			if (str_eq(jstr(json_array_get(path, i), "id"), keep)) {
				first_kept = i;
				break;
			}
		/* pi puts the summary first, before the kept messages */
		if (!reset)
			json_array_append_new(out,
					      summary_message(COMPACTION_PREFIX,
							      jstr(boundary, "summary")
								      ? jstr(boundary, "summary")
								      : "",
							      COMPACTION_SUFFIX, boundary));
	}
	json_array_foreach(path, i, e)
	{
		json_t *m;
		const char *role;

		if (boundary && (i == bi || i < first_kept))
			continue;
		/* a reset keeps only plain conversation from before it */
		if (reset && i < bi && !entry_is(e, "message"))
			continue;
		m = context_message(e);
		if (!m)
			continue;
		role = jstr(m, "role");
		if (reset && i < bi && !str_eq(role, "user") && !str_eq(role, "assistant") &&
		    !str_eq(role, "toolResult")) {
			json_decref(m);
			continue;
		}
		/*
		 * A toolResult whose call is not in the context (the cut fell
		 * between them, or the file is damaged) is dropped: providers
		 * reject an orphaned result, above all as the first message.
		 */
		if (str_eq(role, "toolResult") &&
		    !json_object_get(calls, jstr(m, "toolCallId") ? jstr(m, "toolCallId") : "")) {
			json_decref(m);
			continue;
		}
		if (str_eq(role, "assistant"))
			note_tool_calls(calls, m);
		json_array_append_new(out, m);
	}
	json_decref(calls);
	json_decref(path);
	return out;
}

json_t *transcript_messages(const struct transcript *t)
{
	json_t *path = transcript_branch(t), *out = json_array(), *e;
	size_t i;

	json_array_foreach(path, i, e)
	{
		json_t *m = json_object_get(e, "message");

		if (!entry_is(e, "message") || !json_is_object(m))
			continue;
		m = json_copy(m);
		json_object_set(m, "__id", json_object_get(e, "id"));
		json_array_append_new(out, m);
	}
	json_decref(path);
	return out;
}

/* ==== archive ==== */

char *transcript_archive(const char *path, const char *reason)
{
	char ts[32], hex[33], *dst, *p;

	time_iso8601(time_now_ms(), ts, sizeof(ts));
	for (p = ts; *p; p++)
		if (*p == ':')
			*p = '-';
	dst = xasprintf("%s.%s.%s", path, reason, ts);
	/*
	 * Two archives in one millisecond: OpenClaw's archive name pattern
	 * allows a ".<32 hex>" tail for exactly this.
	 */
	if (access(dst, F_OK) == 0) {
		free(dst);
		id_hex(hex, 16);
		dst = xasprintf("%s.%s.%s.%s", path, reason, ts, hex);
	}
	if (rename(path, dst) < 0) {
		int e = errno;

		free(dst);
		errno = e;
		return NULL;
	}
	return dst;
}
