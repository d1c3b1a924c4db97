/*
 * store.c - an agent's sessions.json (sessionKey -> SessionEntry); see store.h.
 *
 * Another process (the CLI with --local, or OpenClaw itself pointed at the
 * same directory) may write the file. The store therefore keeps, besides
 * the live map, a snapshot of the file as last read or written; when the
 * file has changed on disk, it is re-read and our own changes (entries that
 * differ from the snapshot, and entries removed from it) are replayed on
 * top: a three-way merge per key, in which a local change wins.
 */
#include "session/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/id.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "session/transcript.h"

/* sessions.json of 10,000 sessions is a few MB; refuse absurd files. */
#define STORE_MAX_BYTES (64u << 20)
#define STORE_LOCK_MS   5000

struct session_store {
	char *dir;
	char *path;      /* <dir>/sessions.json */
	char *lock_path; /* <dir>/sessions.json.lock */
	json_t *map;     /* live entries */
	json_t *snap;    /* the file as last read or written (deep copy) */
	bool loaded;
	bool have_stat; /* st_* below describe the file we last read/wrote */
	dev_t st_dev;
	ino_t st_ino;
	off_t st_size;
	struct timespec st_mtim;
};

struct session_store *session_store_open(const char *sessions_dir)
{
	struct session_store *s = xcalloc(1, sizeof(*s));

	s->dir = xstrdup(sessions_dir);
	s->path = fs_join(sessions_dir, "sessions.json");
	s->lock_path = fs_join(sessions_dir, "sessions.json.lock");
	s->map = json_object();
	s->snap = json_object();
	if (fs_mkdir_p(sessions_dir, 0700) < 0)
		log_warn("session", "cannot create %s: %s", sessions_dir, strerror(errno));
	return s;
}

void session_store_free(struct session_store *s)
{
	if (!s)
		return;
	json_decref(s->map);
	json_decref(s->snap);
	free(s->dir);
	free(s->path);
	free(s->lock_path);
	free(s);
}

const char *session_store_dir(const struct session_store *s)
{
	return s->dir;
}

/* ==== disk ==== */

static void remember_stat(struct session_store *s)
{
	struct stat st;

	s->have_stat = stat(s->path, &st) == 0;
	if (s->have_stat) {
		s->st_dev = st.st_dev;
		s->st_ino = st.st_ino;
		s->st_size = st.st_size;
		s->st_mtim = st.st_mtim;
	}
}

/* Has the file changed (or appeared, or gone) since we last read or wrote it? */
static bool disk_changed(const struct session_store *s)
{
	struct stat st;
	bool exists = stat(s->path, &st) == 0;

	if (!s->loaded)
		return true;
	if (exists != s->have_stat)
		return true;
	if (!exists)
		return false;
	return st.st_dev != s->st_dev || st.st_ino != s->st_ino || st.st_size != s->st_size ||
	       st.st_mtim.tv_sec != s->st_mtim.tv_sec || st.st_mtim.tv_nsec != s->st_mtim.tv_nsec;
}

/*
 * Read sessions.json into a new object. A missing file is an empty store;
 * an unreadable-as-JSON one is set aside as sessions.json.bad (the user's
 * data is never silently destroyed) and an empty store begun.
 */
static json_t *read_disk(struct session_store *s)
{
	json_error_t jerr;
	struct buf b;
	json_t *v;

	buf_init(&b, STORE_MAX_BYTES);
	if (fs_read_file(s->path, &b) < 0) {
		int e = errno;

		buf_release(&b);
		if (e != ENOENT)
			log_error("session", "cannot read %s: %s", s->path, strerror(e));
		return json_object();
	}
	v = json_loadb(b.p, b.len, JSON_ALLOW_NUL, &jerr);
	buf_release(&b);
	if (!json_is_object(v)) {
		char *bad = xasprintf("%s.bad", s->path);

		log_error("session", "%s is corrupt (%s); kept as %s, starting empty", s->path,
			  v ? "not an object" : jerr.text, bad);
		if (rename(s->path, bad) < 0)
			log_error("session", "cannot rename %s: %s", s->path, strerror(errno));
		free(bad);
		json_decref(v);
		return json_object();
	}
	return v;
}

/* Re-read the file when it changed on disk, keeping our unsaved changes. */
static void sync_from_disk(struct session_store *s)
{
	json_t *disk, *merged, *v, *ours;
	const char *key;

	if (!disk_changed(s))
		return;
	disk = read_disk(s);
	remember_stat(s);
	merged = json_deep_copy(disk);
	/* local edits and additions win */
	json_object_foreach(s->map, key, ours)
	{
		json_t *base = json_object_get(s->snap, key),
		       *theirs = json_object_get(merged, key);

		if (!base || !json_equal(base, ours))
			json_object_set(merged, key, ours);
		else if (theirs && json_equal(theirs, ours))
			json_object_set(merged, key, ours); /* keep our pointer stable */
	}
	/* local removals win too */
	json_object_foreach(s->snap, key, v)
	{
		if (!json_object_get(s->map, key))
			json_object_del(merged, key);
	}
	json_decref(s->map);
	json_decref(s->snap);
	s->map = merged;
	s->snap = disk;
	s->loaded = true;
}

int session_store_save(struct session_store *s)
{
	char *text;
	int lock, r = -1, e = 0;

	lock = fs_lock(s->lock_path, STORE_LOCK_MS);
	if (lock < 0) {
		e = errno;
		log_error("session", "cannot lock %s: %s", s->lock_path, strerror(e));
		errno = e;
		return -1;
	}
	sync_from_disk(s);
	/* OpenClaw writes JSON.stringify(store, null, 2) */
	text = json_dumps(s->map, JSON_INDENT(2));
	if (!text) {
		e = ENOMEM;
		goto out;
	}
	if (fs_write_atomic(s->path, text, strlen(text), 0600) < 0) {
		e = errno;
		log_error("session", "cannot write %s: %s", s->path, strerror(e));
		free(text);
		goto out;
	}
	free(text);
	remember_stat(s);
	json_decref(s->snap);
	s->snap = json_deep_copy(s->map);
	r = 0;
out:
	fs_unlock(lock);
	errno = e;
	return r;
}

/* ==== entries ==== */

json_t *session_store_get(struct session_store *s, const char *key)
{
	sync_from_disk(s);
	return key ? json_object_get(s->map, key) : NULL;
}

json_t *session_store_ensure(struct session_store *s, const char *key, int64_t now_ms,
			     bool *created)
{
	json_t *e = session_store_get(s, key);
	char uuid[40];

	if (created)
		*created = false;
	if (e && json_is_object(e) && json_string_value(json_object_get(e, "sessionId")))
		return e;
	id_uuid(uuid);
	if (json_is_object(e)) {
		/* a row without a session id (hand-edited) gets one, keeping the rest */
		json_object_set_new(e, "sessionId", json_string(uuid));
	} else {
		e = json_pack("{s:s, s:I, s:I}", "sessionId", uuid, "updatedAt", (json_int_t)now_ms,
			      "sessionStartedAt", (json_int_t)now_ms);
		json_object_set_new(s->map, key, e);
	}
	if (created)
		*created = true;
	return e;
}

const char *session_store_key_for_id(struct session_store *s, const char *session_id)
{
	const char *key;
	json_t *e;

	if (!session_id)
		return NULL;
	sync_from_disk(s);
	json_object_foreach(s->map, key, e)
	{
		if (str_eq(json_string_value(json_object_get(e, "sessionId")), session_id))
			return key;
	}
	return NULL;
}

bool session_store_remove(struct session_store *s, const char *key)
{
	sync_from_disk(s);
	if (!key || json_object_del(s->map, key) < 0)
		return false;
	session_store_save(s);
	return true;
}

json_t *session_store_all(struct session_store *s)
{
	sync_from_disk(s);
	return s->map;
}

/*
 * A session id names a file in the sessions directory: it must not be able
 * to name any other (OpenClaw's ids are UUIDs; be strict about anything else).
 */
static bool safe_file_id(const char *id)
{
	size_t i;

	if (!id || !*id || id[0] == '.' || strlen(id) > 200)
		return false;
	for (i = 0; id[i]; i++)
		if (id[i] == '/' || id[i] == '\\' || (unsigned char)id[i] < 0x20)
			return false;
	return true;
}

char *session_store_transcript_path(struct session_store *s, const json_t *entry)
{
	const char *file = json_string_value(json_object_get(entry, "sessionFile"));
	const char *id = json_string_value(json_object_get(entry, "sessionId"));
	char *name, *p;

	if (file && *file)
		return file[0] == '/' ? xstrdup(file) : fs_join(s->dir, file);
	if (!safe_file_id(id))
		return NULL;
	name = xasprintf("%s.jsonl", id);
	p = fs_join(s->dir, name);
	free(name);
	return p;
}

/* ==== maintenance ==== */

static bool kept(const char *key, const char *const *keep)
{
	for (; keep && *keep; keep++)
		if (!strcmp(*keep, key))
			return true;
	return false;
}

static int64_t updated_at(const json_t *e)
{
	json_t *v = json_object_get(e, "updatedAt");

	return json_is_number(v) ? (int64_t)json_number_value(v) : 0;
}

static void drop(struct session_store *s, const char *key)
{
	json_t *e = json_incref(json_object_get(s->map, key));
	char *path = session_store_transcript_path(s, e), *arch;

	json_object_del(s->map, key);
	if (path) {
		arch = transcript_archive(path, "deleted");
		if (!arch && errno != ENOENT)
			log_warn("session", "cannot archive %s: %s", path, strerror(errno));
		free(arch);
		free(path);
	}
	json_decref(e);
}

struct prune_cand {
	char *key;
	int64_t updated;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct prune_cand *x = a, *y = b;

	if (x->updated != y->updated)
		return x->updated < y->updated ? -1 : 1;
	return strcmp(x->key, y->key);
}

size_t session_store_prune(struct session_store *s, int64_t now_ms, int64_t prune_after_ms,
			   size_t max_entries, const char *const *keep)
{
	const char *key;
	json_t *e, *tmp;
	size_t removed = 0;

	sync_from_disk(s);
	if (prune_after_ms > 0) {
		json_object_foreach_safe(s->map, tmp, key, e)
		{
			if (!kept(key, keep) && now_ms - updated_at(e) > prune_after_ms) {
				drop(s, key);
				removed++;
			}
		}
	}
	/* over the cap: drop the least recently updated */
	if (max_entries > 0 && json_object_size(s->map) > max_entries) {
		struct prune_cand *c = xcalloc(json_object_size(s->map), sizeof(*c));
		size_t n = 0, i, over = json_object_size(s->map) - max_entries;

		json_object_foreach(s->map, key, e)
		{
			if (kept(key, keep))
				continue;
			c[n].key = xstrdup(key);
			c[n++].updated = updated_at(e);
		}
		qsort(c, n, sizeof(*c), cand_cmp);
		for (i = 0; i < n; i++) {
			if (i < over) {
				drop(s, c[i].key);
				removed++;
			}
			free(c[i].key);
		}
		free(c);
	}
	if (removed)
		session_store_save(s);
	return removed;
}

/* ==== memory flush bookkeeping ==== */

static const char *const retired_flush_keys[] = {
	"memoryFlushAt",           "memoryFlushCompactionCount", "memoryFlushContextHash",
	"memoryFlushFailureCount", "memoryFlushLastFailedAt",    "memoryFlushLastFailureError",
};

/* A non-negative count (OpenClaw's normalizeCount), or -1. */
static long long flush_num(const json_t *v)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		return json_integer_value(v);
	if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) < 9e15)
		return (long long)json_real_value(v);
	return -1;
}

/*
 * The entry's memoryFlush record, normalised as OpenClaw does: the object
 * when well formed, else one built from the retired fields. New or NULL.
 */
static json_t *flush_record(const json_t *e)
{
	const json_t *m = json_object_get(e, "memoryFlush");
	const char *kind = json_string_value(json_object_get(m, "kind"));
	long long cc = flush_num(json_object_get(m, "compactionCount"));
	long long fc = flush_num(json_object_get(m, "failureCount"));

	if (str_eq(kind, "succeeded") && cc >= 0)
		return json_pack("{s:s, s:I}", "kind", "succeeded", "compactionCount",
				 (json_int_t)cc);
	if (str_eq(kind, "failed") && fc > 0) {
		json_t *r =
			json_pack("{s:s, s:I}", "kind", "failed", "failureCount", (json_int_t)fc);
		if (cc >= 0)
			json_object_set_new(r, "compactionCount", json_integer(cc));
		return r;
	}
	cc = flush_num(json_object_get(e, "memoryFlushCompactionCount"));
	fc = flush_num(json_object_get(e, "memoryFlushFailureCount"));
	if (fc > 0) {
		json_t *r =
			json_pack("{s:s, s:I}", "kind", "failed", "failureCount", (json_int_t)fc);
		if (cc >= 0)
			json_object_set_new(r, "compactionCount", json_integer(cc));
		return r;
	}
	if (cc >= 0)
		return json_pack("{s:s, s:I}", "kind", "succeeded", "compactionCount",
				 (json_int_t)cc);
	return NULL;
}

long long session_entry_flush_count(const json_t *e)
{
	json_t *r = flush_record(e);
	long long cc = r ? flush_num(json_object_get(r, "compactionCount")) : -1;

	json_decref(r);
	return cc;
}

long long session_entry_flush_failures(const json_t *e)
{
	json_t *r = flush_record(e);
	long long fc = -1;

	if (r && str_eq(json_string_value(json_object_get(r, "kind")), "failed"))
		fc = flush_num(json_object_get(r, "failureCount"));
	json_decref(r);
	return fc > 0 ? fc : 0;
}

static void flush_store(json_t *e, json_t *rec)
{
	size_t i;

	for (i = 0; i < sizeof(retired_flush_keys) / sizeof(retired_flush_keys[0]); i++)
		json_object_del(e, retired_flush_keys[i]);
	json_object_set_new(e, "memoryFlush", rec);
}

void session_entry_flush_succeeded(json_t *e, long long compaction_count)
{
	if (!e)
		return;
	flush_store(e, json_pack("{s:s, s:I}", "kind", "succeeded", "compactionCount",
				 (json_int_t)(compaction_count < 0 ? 0 : compaction_count)));
}

long long session_entry_flush_failed(json_t *e)
{
	json_t *old, *rec;
	long long cc, fc;

	if (!e)
		return 0;
	old = flush_record(e);
	cc = old ? flush_num(json_object_get(old, "compactionCount")) : -1;
	fc = session_entry_flush_failures(e) + 1;
	json_decref(old);
	rec = json_pack("{s:s, s:I}", "kind", "failed", "failureCount", (json_int_t)fc);
	if (cc >= 0)
		json_object_set_new(rec, "compactionCount", json_integer(cc));
	flush_store(e, rec);
	return fc;
}
