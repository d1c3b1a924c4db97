/*
 * index.c - the memory index: chunking, the SQLite schema, incremental
 * sync of the memory files, keyword (FTS5 BM25) and vector search, and
 * OpenClaw's hybrid merge.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "memory/index.h"

/* Bump when the schema or chunk layout changes: the index is rebuilt. */
#define MEM_SCHEMA_VERSION "1"

struct mem_db {
	sqlite3 *db;
};

/* ==== chunking ==== */

struct seg {
	const char *p;
	size_t len;
	int line;
};

struct chunker {
	struct seg *cur;
	size_t n, cap;
	size_t chars; /* bytes in cur, each line counting one more for its newline */
	struct mem_chunk *out;
	size_t nout, capout;
};

static void ck_flush(struct chunker *c)
{
	struct buf b;
	struct mem_chunk *m;
	size_t i;

	if (!c->n)
		return;
	buf_init(&b, BUF_UNLIMITED);
	for (i = 0; i < c->n; i++) {
		if (i)
			buf_putc(&b, '\n');
		buf_append(&b, c->cur[i].p, c->cur[i].len);
	}
	if (c->nout == c->capout) {
		c->capout = c->capout ? c->capout * 2 : 16;
		c->out = xrealloc(c->out, c->capout * sizeof(*c->out));
	}
	m = &c->out[c->nout++];
	m->start_line = c->cur[0].line;
	m->end_line = c->cur[c->n - 1].line;
	m->len = b.len;
	m->text = buf_detach(&b, NULL);
	crypto_sha256_hex(m->text, m->len, m->hash);
}

/* Keep the trailing lines that fit in `window` bytes as the next chunk's start. */
static void ck_carry(struct chunker *c, size_t window)
{
	size_t acc = 0, keep = 0, i;
	struct seg tail = { 0 };
	bool have_tail = false;

	if (!window || !c->n) {
		c->n = 0;
		c->chars = 0;
		return;
	}
	for (i = c->n; i-- > 0;) {
		size_t size = c->cur[i].len + 1, remaining = window - acc;

		if (size > remaining) {
			if (keep == 0 && remaining > 1) {
				/* Not even the last line fits: keep its tail, at a character boundary. */
				size_t want = remaining - 1, off = c->cur[i].len - want;

				while (off < c->cur[i].len &&
				       ((unsigned char)c->cur[i].p[off] & 0xC0) == 0x80)
					off++;
				if (off < c->cur[i].len) {
					tail = (struct seg){ c->cur[i].p + off, c->cur[i].len - off,
							     c->cur[i].line };
					have_tail = true;
					acc += tail.len + 1;
				}
			}
			break;
		}
		acc += size;
		keep++;
		if (acc >= window)
			break;
	}
	if (have_tail) {
		c->cur[0] = tail;
		c->n = 1;
	} else {
		memmove(c->cur, c->cur + (c->n - keep), keep * sizeof(*c->cur));
		c->n = keep;
	}
	c->chars = acc;
}

static void ck_append(struct chunker *c, const char *p, size_t len, int line, size_t max,
		      size_t overlap)
{
	size_t size = len + 1;

	if (c->chars + size > max && c->n) {
		ck_flush(c);
		ck_carry(c, overlap < (max > size ? max - size : 0)
				    ? overlap
				    : (max > size ? max - size : 0));
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->cur = xrealloc(c->cur, c->cap * sizeof(*c->cur));
	}
	c->cur[c->n++] = (struct seg){ p, len, line };
	c->chars += size;
}

size_t mem_chunk_markdown(const char *text, size_t len, int tokens, int overlap,
			  struct mem_chunk **out)
{
	struct chunker c = { 0 };
	size_t max = tokens * 4 > 32 ? (size_t)tokens * 4 : 32;
	size_t ov = overlap > 0 ? (size_t)overlap * 4 : 0;
	const char *p = text, *end = text + len;
	int line = 1;

	/* As JS's split("\n"): "a\n" is two lines, the second empty. */
	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t ll = (size_t)(le - p);

		if (!ll) {
			ck_append(&c, p, 0, line, max, ov);
		} else {
			while (ll) {
				size_t take = ll > max ? max : ll;

				/* Never split a UTF-8 sequence (unless it is all continuation bytes). */
				if (take < ll) {
					size_t t = take;

					while (t > 0 && ((unsigned char)p[t] & 0xC0) == 0x80)
						t--;
					if (t > 0)
						take = t;
				}
				ck_append(&c, p, take, line, max, ov);
				p += take;
				ll -= take;
			}
		}
		if (!nl)
			break;
		p = nl + 1;
		line++;
	}
	ck_flush(&c);
	free(c.cur);
	*out = c.out;
	return c.nout;
}

void mem_chunks_free(struct mem_chunk *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].text);
	free(c);
}

/* ==== the database ==== */

static void db_err(struct mem_db *db, const char *what, char *err, size_t errlen)
{
	if (err)
		snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db->db));
}

static int db_exec(struct mem_db *db, const char *sql, char *err, size_t errlen)
{
	char *e = NULL;

	if (sqlite3_exec(db->db, sql, NULL, NULL, &e) != SQLITE_OK) {
		if (err)
			snprintf(err, errlen, "memory index: %s", e ? e : "error");
		sqlite3_free(e);
		return -1;
	}
	return 0;
}

static sqlite3_stmt *db_prep(struct mem_db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	return st;
}

static char *db_meta_get(struct mem_db *db, const char *key)
{
	sqlite3_stmt *st = db_prep(db, "SELECT value FROM meta WHERE key = ?");
	char *v = NULL;

	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

static void db_meta_set(struct mem_db *db, const char *key, const char *value)
{
	sqlite3_stmt *st = db_prep(db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)");

	if (!st)
		return;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE IF NOT EXISTS files(path TEXT PRIMARY KEY, source TEXT NOT NULL DEFAULT "
	"'memory', mtime INTEGER NOT NULL, size INTEGER NOT NULL, hash TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS chunks(id INTEGER PRIMARY KEY, path TEXT NOT NULL, source TEXT "
	"NOT NULL DEFAULT 'memory', start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, hash "
	"TEXT NOT NULL, text TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path);"
	"CREATE INDEX IF NOT EXISTS chunks_hash ON chunks(hash);"
	"CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(text, content='chunks', "
	"content_rowid='id', tokenize='unicode61');"
	"CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN "
	"INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text); END;"
	"CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN "
	"INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES('delete', old.id, old.text); END;"
	"CREATE TABLE IF NOT EXISTS embeddings(model TEXT NOT NULL, hash TEXT NOT NULL, dims "
	"INTEGER NOT NULL, vec BLOB NOT NULL, PRIMARY KEY(model, hash)) WITHOUT ROWID;";

struct mem_db *mem_db_open(const char *path, char *err, size_t errlen)
{
	struct mem_db *db;
	char *dir = fs_dirname(path), *ver;
	int fd;

	if (fs_mkdir_p(dir, 0700) < 0) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	free(dir);
	/* Create the file ourselves so it is 0600 whatever the umask (it holds notes). */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	close(fd);
	db = xcalloc(1, sizeof(*db));
	if (sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", path,
			 db->db ? sqlite3_errmsg(db->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(db->db, 5000);
	/* WAL: a CLI `memory search` may read while the gateway writes. */
	if (db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", err, errlen) < 0 ||
	    db_exec(db, schema_sql, err, errlen) < 0)
		goto fail;
	ver = db_meta_get(db, "schemaVersion");
	if (!ver)
		db_meta_set(db, "schemaVersion", MEM_SCHEMA_VERSION);
	free(ver);
	return db;
fail:
	if (err && strstr(err, "fts5"))
		snprintf(err, errlen, "SQLite has no FTS5 (memory search needs it)");
	mem_db_close(db);
	return NULL;
}

void mem_db_close(struct mem_db *db)
{
	if (!db)
		return;
	sqlite3_close(db->db);
	free(db);
}

int mem_db_begin(struct mem_db *db)
{
	return db_exec(db, "BEGIN IMMEDIATE", NULL, 0);
}

int mem_db_commit(struct mem_db *db)
{
	return db_exec(db, "COMMIT", NULL, 0);
}

/* ==== memory files ==== */

struct mfile {
	char *rel; /* relative to the workspace */
	char *abs;
	int64_t mtime; /* ms */
	int64_t size;
};

struct mfiles {
	struct mfile *v;
	size_t n, cap;
};

static void mf_add(struct mfiles *l, const char *rel, const char *abs, const struct stat *st)
{
	if (l->n >= MEM_MAX_FILES)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] =
		(struct mfile){ xstrdup(rel), xstrdup(abs),
				(int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000,
				(int64_t)st->st_size };
}

static void mf_free(struct mfiles *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].rel);
		free(l->v[i].abs);
	}
	free(l->v);
}

/* A regular file (not a symlink) ending in .md. */
static bool mf_regular_md(const char *abs, const char *name, struct stat *st)
{
	return str_ends_with(name, ".md") && lstat(abs, st) == 0 && S_ISREG(st->st_mode);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void mf_walk(struct mfiles *l, const char *abs_dir, const char *rel_dir, int depth)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0, i;

	if (depth > 32 || !(d = opendir(abs_dir)))
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' &&
		    (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		if (!strcmp(e->d_name, ".openclaw-repair"))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	/* Sorted, so the index and its status read the same on every run. */
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		char *abs = fs_join(abs_dir, names[i]);
		char *rel = xasprintf("%s/%s", rel_dir, names[i]);
		struct stat st;

		if (lstat(abs, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				mf_walk(l, abs, rel, depth + 1);
			else if (S_ISREG(st.st_mode) && str_ends_with(names[i], ".md"))
				mf_add(l, rel, abs, &st);
		}
		free(abs);
		free(rel);
		free(names[i]);
	}
	free(names);
}

/* Every memory file of the workspace, in a stable order. */
static void mf_list(struct mfiles *l, const char *ws)
{
	struct stat st;
	char *abs, *mem;

	abs = fs_join(ws, "MEMORY.md");
	if (mf_regular_md(abs, "MEMORY.md", &st)) {
		mf_add(l, "MEMORY.md", abs, &st);
	} else {
		/* The legacy lowercase name, read only when MEMORY.md is absent (as the bootstrap does). */
		free(abs);
		abs = fs_join(ws, "memory.md");
		if (mf_regular_md(abs, "memory.md", &st))
			mf_add(l, "memory.md", abs, &st);
	}
	free(abs);
	abs = fs_join(ws, "USER.md");
	if (mf_regular_md(abs, "USER.md", &st))
		mf_add(l, "USER.md", abs, &st);
	free(abs);
	mem = fs_join(ws, "memory");
	if (lstat(mem, &st) == 0 && S_ISDIR(st.st_mode))
		mf_walk(l, mem, "memory", 0);
	free(mem);
}

bool mem_path_allowed(const char *rel)
{
	if (!rel || !*rel || rel[0] == '/')
		return false;
	if (!strcmp(rel, "MEMORY.md") || !strcmp(rel, "memory.md") || !strcmp(rel, "USER.md"))
		return true;
	return str_starts_with(rel, "memory/") && str_ends_with(rel, ".md") && rel[7] &&
	       !strstr(rel, "/../") && !strstr(rel, "/./") && !strstr(rel, "//");
}

/* Replace invalid UTF-8 with '?' in place, so every snippet is a valid JSON string. */
static void utf8_fix(char *s, size_t len)
{
	size_t off = 0;

	while (off < len) {
		size_t ok = str_utf8_prefix(s + off, len - off);

		off += ok;
		if (off < len)
			s[off++] = '?';
	}
}

/* ==== sync ==== */

struct row {
	int64_t mtime, size;
	char hash[65];
	bool seen;
	char *path;
};

static int row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->path, ((const struct row *)b)->path);
}

/* Every files row, sorted by path. */
static size_t load_rows(struct mem_db *db, struct row **out)
{
	sqlite3_stmt *st = db_prep(db, "SELECT path, mtime, size, hash FROM files");
	struct row *v = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	if (!st)
		return 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n].path = xstrdup((const char *)sqlite3_column_text(st, 0));
		v[n].mtime = sqlite3_column_int64(st, 1);
		v[n].size = sqlite3_column_int64(st, 2);
		snprintf(v[n].hash, sizeof(v[n].hash), "%s",
			 sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3)
						    : "");
		v[n].seen = false;
		n++;
	}
	sqlite3_finalize(st);
	qsort(v, n, sizeof(*v), row_cmp);
	*out = v;
	return n;
}

static void rows_free(struct row *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

static struct row *row_find(struct row *v, size_t n, const char *path)
{
	struct row key = { .path = (char *)path };

	return n ? bsearch(&key, v, n, sizeof(*v), row_cmp) : NULL;
}

int mem_db_dirty(struct mem_db *db, const char *workspace)
{
	struct mfiles l = { 0 };
	struct row *rows;
	size_t nrows = load_rows(db, &rows), i;
	int dirty = 0;

	mf_list(&l, workspace);
	if (l.n != nrows)
		dirty = 1;
	for (i = 0; !dirty && i < l.n; i++) {
		struct row *r = row_find(rows, nrows, l.v[i].rel);

		if (!r || r->mtime != l.v[i].mtime || r->size != l.v[i].size)
			dirty = 1;
	}
	mf_free(&l);
	rows_free(rows, nrows);
	return dirty;
}

static int delete_path(struct mem_db *db, const char *path, bool file_row)
{
	sqlite3_stmt *st = db_prep(db, file_row ? "DELETE FROM files WHERE path = ?"
						: "DELETE FROM chunks WHERE path = ?");
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

int mem_db_sync(struct mem_db *db, const char *workspace, int tokens, int overlap, bool force,
		struct mem_sync_stats *stats, char *err, size_t errlen)
{
	struct mfiles l = { 0 };
	struct row *rows = NULL;
	size_t nrows = 0, i;
	sqlite3_stmt *ins_chunk = NULL, *up_file = NULL, *cnt = NULL;
	char params[64], *old;
	struct buf content;
	int rc = -1;

	memset(stats, 0, sizeof(*stats));
	if (db_exec(db, "BEGIN IMMEDIATE", err, errlen) < 0)
		return -1;
	/* Different chunking makes every stored chunk wrong: start over. */
	snprintf(params, sizeof(params), "%s:%d:%d", MEM_SCHEMA_VERSION, tokens, overlap);
	old = db_meta_get(db, "chunking");
	if (!old || strcmp(old, params)) {
		force = true;
		db_meta_set(db, "chunking", params);
	}
	free(old);
	if (force) {
		if (db_exec(db, "DELETE FROM chunks; DELETE FROM files;", err, errlen) < 0)
			goto out;
		stats->reindexed = true;
	}
	ins_chunk =
		db_prep(db, "INSERT INTO chunks(path, source, start_line, end_line, hash, text) "
			    "VALUES(?, 'memory', ?, ?, ?, ?)");
	up_file = db_prep(db, "INSERT OR REPLACE INTO files(path, source, mtime, size, hash) "
			      "VALUES(?, 'memory', ?, ?, ?)");
	if (!ins_chunk || !up_file) {
		db_err(db, "memory index", err, errlen);
		goto out;
	}
	nrows = load_rows(db, &rows);
	mf_list(&l, workspace);
	stats->files = l.n;
	buf_init(&content, MEM_FILE_MAX_BYTES);
	for (i = 0; i < l.n; i++) {
		const struct mfile *f = &l.v[i];
		struct row *r = row_find(rows, nrows, f->rel);
		struct mem_chunk *ch;
		char hash[65];
		size_t nch, k;

		if (r)
			r->seen = true;
		if (r && r->mtime == f->mtime && r->size == f->size)
			continue;
		buf_reset(&content);
		if (fs_read_file(f->abs, &content) < 0) {
			/* Too big or unreadable: keep whatever was indexed before, say so. */
			stats->skipped++;
			continue;
		}
		crypto_sha256_hex(content.p, content.len, hash);
		sqlite3_reset(up_file);
		sqlite3_bind_text(up_file, 1, f->rel, -1, SQLITE_STATIC);
		sqlite3_bind_int64(up_file, 2, f->mtime);
		sqlite3_bind_int64(up_file, 3, f->size);
		sqlite3_bind_text(up_file, 4, hash, -1, SQLITE_STATIC);
		if (r && !strcmp(r->hash, hash)) {
			/* Touched, not changed: only the stat data moves. */
			if (sqlite3_step(up_file) != SQLITE_DONE) {
				db_err(db, "memory index", err, errlen);
				goto out_content;
			}
			stats->touched++;
			continue;
		}
		if (r && delete_path(db, f->rel, false) < 0) {
			db_err(db, "memory index", err, errlen);
			goto out_content;
		}
		utf8_fix(content.p, content.len);
		nch = mem_chunk_markdown(content.p, content.len, tokens, overlap, &ch);
		for (k = 0; k < nch; k++) {
			sqlite3_reset(ins_chunk);
			sqlite3_bind_text(ins_chunk, 1, f->rel, -1, SQLITE_STATIC);
			sqlite3_bind_int(ins_chunk, 2, ch[k].start_line);
			sqlite3_bind_int(ins_chunk, 3, ch[k].end_line);
			sqlite3_bind_text(ins_chunk, 4, ch[k].hash, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_chunk, 5, ch[k].text, (int)ch[k].len, SQLITE_STATIC);
			if (sqlite3_step(ins_chunk) != SQLITE_DONE) {
				db_err(db, "memory index", err, errlen);
				mem_chunks_free(ch, nch);
				goto out_content;
			}
		}
		mem_chunks_free(ch, nch);
		if (sqlite3_step(up_file) != SQLITE_DONE) {
			db_err(db, "memory index", err, errlen);
			goto out_content;
		}
		stats->changed++;
	}
	for (i = 0; i < nrows; i++) {
		if (rows[i].seen)
			continue;
		if (delete_path(db, rows[i].path, false) < 0 ||
		    delete_path(db, rows[i].path, true) < 0) {
			db_err(db, "memory index", err, errlen);
			goto out_content;
		}
		stats->removed++;
	}
	if ((cnt = db_prep(db, "SELECT count(*) FROM chunks")) && sqlite3_step(cnt) == SQLITE_ROW)
		stats->chunks = (size_t)sqlite3_column_int64(cnt, 0);
	rc = 0;
out_content:
	buf_release(&content);
out:
	sqlite3_finalize(cnt);
	sqlite3_finalize(ins_chunk);
	sqlite3_finalize(up_file);
	rows_free(rows, nrows);
	mf_free(&l);
	if (db_exec(db, rc == 0 ? "COMMIT" : "ROLLBACK", rc == 0 ? err : NULL, errlen) < 0)
		rc = -1;
	return rc;
}

/* ==== embeddings ==== */

size_t mem_db_missing_embeddings(struct mem_db *db, const char *model, size_t max,
				 struct mem_pending **out)
{
	sqlite3_stmt *st = db_prep(
		db, "SELECT c.hash, min(c.text) FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM "
		    "embeddings e WHERE e.model = ? AND e.hash = c.hash) GROUP BY c.hash LIMIT ?");
	struct mem_pending *v = NULL;
	size_t n = 0;

	*out = NULL;
	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	v = xcalloc(max ? max : 1, sizeof(*v));
	while (n < max && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(v[n].hash, sizeof(v[n].hash), "%s", sqlite3_column_text(st, 0));
		v[n].text = xstrdup((const char *)sqlite3_column_text(st, 1));
		n++;
	}
	sqlite3_finalize(st);
	*out = v;
	return n;
}

void mem_pending_free(struct mem_pending *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].text);
	free(p);
}

int mem_db_put_embedding(struct mem_db *db, const char *model, const char *hash, const float *vec,
			 int dims)
{
	sqlite3_stmt *st = db_prep(
		db, "INSERT OR REPLACE INTO embeddings(model, hash, dims, vec) VALUES(?, ?, ?, ?)");
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, dims);
	sqlite3_bind_blob(st, 4, vec, dims * (int)sizeof(float), SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

void mem_db_prune_embeddings(struct mem_db *db, const char *keep_model)
{
	sqlite3_stmt *st = db_prep(db, "DELETE FROM embeddings WHERE model != ? OR hash NOT IN "
				       "(SELECT hash FROM chunks)");

	if (!st)
		return;
	sqlite3_bind_text(st, 1, keep_model ? keep_model : "", -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

/* ==== search ==== */

void mem_hits_free(struct mem_hit *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].path);
		free(h[i].snippet);
	}
	free(h);
}

static bool term_byte(unsigned char c)
{
	/* Letters and digits of any script (every non-ASCII byte), and '_'. */
	return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '_';
}

char *mem_fts_query(const char *query, bool or_join)
{
	struct buf b;
	const unsigned char *p = (const unsigned char *)query;
	size_t terms = 0;

	buf_init(&b, 64 * 1024);
	while (*p) {
		const unsigned char *s;

		while (*p && !term_byte(*p))
			p++;
		if (!*p)
			break;
		s = p;
		while (*p && term_byte(*p))
			p++;
		if (terms++ && buf_puts(&b, or_join ? " OR " : " AND ") < 0)
			break;
		buf_putc(&b, '"');
		buf_append(&b, s, (size_t)(p - s));
		buf_putc(&b, '"');
	}
	if (!terms) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

double mem_bm25_score(double rank)
{
	if (!isfinite(rank))
		return 1.0 / 1000;
	if (rank < 0)
		return -rank / (1 - rank);
	return 1 / (1 + rank);
}

static char *snippet_of(const char *text)
{
	size_t len = strlen(text);

	if (len > MEM_SNIPPET_MAX)
		len = str_utf8_prefix(text, MEM_SNIPPET_MAX);
	return strndup(text, len) ?: xstrdup("");
}

static void hit_push(struct mem_hit **v, size_t *n, size_t *cap, struct mem_hit h)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[(*n)++] = h;
}

static size_t fts_run(struct mem_db *db, const char *match, size_t limit, struct mem_hit **v,
		      size_t *n, size_t *cap)
{
	sqlite3_stmt *st = db_prep(
		db, "SELECT c.id, c.path, c.start_line, c.end_line, c.text, bm25(chunks_fts) "
		    "FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
		    "WHERE chunks_fts MATCH ? ORDER BY bm25(chunks_fts) LIMIT ?");
	size_t added = 0, i;
	int rc;

	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		double s = mem_bm25_score(sqlite3_column_double(st, 5));
		bool dup = false;

		for (i = 0; i < *n; i++)
			if ((*v)[i].id == id) {
				dup = true;
				break;
			}
		if (dup)
			continue;
		hit_push(v, n, cap,
			 (struct mem_hit){
				 .id = id,
				 .path = xstrdup((const char *)sqlite3_column_text(st, 1)),
				 .start_line = sqlite3_column_int(st, 2),
				 .end_line = sqlite3_column_int(st, 3),
				 .snippet = snippet_of((const char *)sqlite3_column_text(st, 4)),
				 .score = s,
				 .text_score = s });
		added++;
	}
	if (rc != SQLITE_DONE)
		log_warn("memory", "keyword search failed: %s", sqlite3_errmsg(db->db));
	sqlite3_finalize(st);
	return added;
}

static int hit_cmp(const void *a, const void *b)
{
	const struct mem_hit *x = a, *y = b;
	int c;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	if ((c = strcmp(x->path, y->path)))
		return c;
	return x->start_line - y->start_line;
}

size_t mem_db_search_text(struct mem_db *db, const char *query, size_t limit, struct mem_hit **out)
{
	struct mem_hit *v = NULL;
	size_t n = 0, cap = 0;
	char *q = mem_fts_query(query, false);

	*out = NULL;
	if (!q || !limit) {
		free(q);
		return 0;
	}
	fts_run(db, q, limit, &v, &n, &cap);
	free(q);
	q = NULL;
	/* Too few chunks hold every word: widen to any word (OpenClaw's keyword fallback). */
	if (n < limit && (q = mem_fts_query(query, true)) && strstr(q, " OR ")) {
		fts_run(db, q, limit, &v, &n, &cap);
		qsort(v, n, sizeof(*v), hit_cmp);
		for (size_t i = limit; i < n; i++) {
			free(v[i].path);
			free(v[i].snippet);
		}
		if (n > limit)
			n = limit;
	}
	free(q);
	*out = v;
	return n;
}

struct vcand {
	int64_t id;
	double score;
};

size_t mem_db_search_vector(struct mem_db *db, const char *model, const float *qvec, int dims,
			    size_t limit, struct mem_hit **out)
{
	sqlite3_stmt *st, *get;
	struct vcand *top;
	size_t ntop = 0, i, n = 0, cap = 0;
	struct mem_hit *v = NULL;
	double qn = 0;
	int d;

	*out = NULL;
	if (!limit || dims <= 0)
		return 0;
	for (d = 0; d < dims; d++)
		qn += (double)qvec[d] * qvec[d];
	qn = sqrt(qn);
	if (qn == 0)
		return 0;
	st = db_prep(db, "SELECT c.id, e.vec FROM chunks c JOIN embeddings e ON e.model = ? AND "
			 "e.hash = c.hash AND e.dims = ?");
	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, dims);
	top = xcalloc(limit + 1, sizeof(*top));
	while (sqlite3_step(st) == SQLITE_ROW) {
		const float *e = sqlite3_column_blob(st, 1);
		double dot = 0, en = 0, s;

		if (!e || sqlite3_column_bytes(st, 1) != dims * (int)sizeof(float))
			continue;
		for (d = 0; d < dims; d++) {
			dot += (double)qvec[d] * e[d];
			en += (double)e[d] * e[d];
		}
		if (en == 0)
			continue;
		s = dot / (qn * sqrt(en));
		if (ntop == limit && s <= top[limit - 1].score)
			continue;
		/* Insertion into a short sorted array: limit is a few dozen. */
		i = ntop < limit ? ntop++ : limit - 1;
		while (i > 0 && top[i - 1].score < s) {
			top[i] = top[i - 1];
			i--;
		}
		top[i] = (struct vcand){ sqlite3_column_int64(st, 0), s };
	}
	sqlite3_finalize(st);
	get = db_prep(db, "SELECT path, start_line, end_line, text FROM chunks WHERE id = ?");
	for (i = 0; get && i < ntop; i++) {
		sqlite3_reset(get);
		sqlite3_bind_int64(get, 1, top[i].id);
		if (sqlite3_step(get) != SQLITE_ROW)
			continue;
		hit_push(&v, &n, &cap,
			 (struct mem_hit){
				 .id = top[i].id,
				 .path = xstrdup((const char *)sqlite3_column_text(get, 0)),
				 .start_line = sqlite3_column_int(get, 1),
				 .end_line = sqlite3_column_int(get, 2),
				 .snippet = snippet_of((const char *)sqlite3_column_text(get, 3)),
				 .score = top[i].score,
				 .vector_score = top[i].score });
	}
	sqlite3_finalize(get);
	free(top);
	*out = v;
	return n;
}

size_t mem_hybrid_merge(struct mem_hit *vec, size_t nvec, struct mem_hit *kw, size_t nkw, double vw,
			double tw, double min_score, size_t max, struct mem_hit **out)
{
	struct mem_hit *all = xcalloc(nvec + nkw + 1, sizeof(*all)), *sel;
	bool *keyword = xcalloc(nvec + nkw + 1, sizeof(*keyword));
	size_t n = 0, i, j, nsel = 0;

	for (i = 0; i < nvec; i++) {
		all[n] = vec[i];
		all[n].text_score = 0;
		n++;
	}
	for (i = 0; i < nkw; i++) {
		for (j = 0; j < nvec; j++)
			if (all[j].id == kw[i].id)
				break;
		if (j < nvec) {
			all[j].text_score = kw[i].text_score;
			keyword[j] = true;
			/* OpenClaw keeps the keyword snippet when it has one. */
			free(all[j].snippet);
			all[j].snippet = kw[i].snippet;
			free(kw[i].path);
			continue;
		}
		all[n] = kw[i];
		all[n].vector_score = 0;
		keyword[n] = true;
		n++;
	}
	free(vec);
	free(kw);
	for (i = 0; i < n; i++)
		all[i].score = vw * all[i].vector_score + tw * all[i].text_score;
	/* Sort keeping the keyword flags with their hits. */
	for (i = 1; i < n; i++) {
		struct mem_hit h = all[i];
		bool k = keyword[i];

		for (j = i; j > 0 && hit_cmp(&all[j - 1], &h) > 0; j--) {
			all[j] = all[j - 1];
			keyword[j] = keyword[j - 1];
		}
		all[j] = h;
		keyword[j] = k;
	}
	sel = xcalloc(max + 1, sizeof(*sel));
	bool *taken = xcalloc(n + 1, sizeof(*taken));
	for (i = 0; i < n && nsel < max; i++)
		if (all[i].score >= min_score) {
			sel[nsel++] = all[i];
			taken[i] = true;
		}
	if (nsel < max && nkw) {
		bool strict_empty = nsel == 0;

		for (i = 0; i < n && nsel < max; i++) {
			if (taken[i] || !keyword[i])
				continue;
			if (strict_empty ? all[i].score >= 0 : all[i].vector_score == 0) {
				sel[nsel++] = all[i];
				taken[i] = true;
			}
		}
	}
	for (i = 0; i < n; i++)
		if (!taken[i]) {
			free(all[i].path);
			free(all[i].snippet);
		}
	free(taken);
	free(keyword);
	free(all);
	*out = sel;
	return nsel;
}

size_t mem_select_keyword(struct mem_hit *kw, size_t nkw, double min_score, size_t max,
			  struct mem_hit **out)
{
	struct mem_hit *sel = xcalloc(max + 1, sizeof(*sel));
	bool *taken = xcalloc(nkw + 1, sizeof(*taken));
	size_t nsel = 0, i;

	qsort(kw, nkw, sizeof(*kw), hit_cmp);
	for (i = 0; i < nkw && nsel < max; i++)
		if (kw[i].score >= min_score) {
			sel[nsel++] = kw[i];
			taken[i] = true;
		}
	if (!nsel)
		for (i = 0; i < nkw && nsel < max; i++) {
			sel[nsel++] = kw[i];
			taken[i] = true;
		}
	for (i = 0; i < nkw; i++)
		if (!taken[i]) {
			free(kw[i].path);
			free(kw[i].snippet);
		}
	free(taken);
	free(kw);
	*out = sel;
	return nsel;
}

/* ==== status ==== */

static int64_t db_count(struct mem_db *db, const char *sql, const char *arg)
{
	sqlite3_stmt *st = db_prep(db, sql);
	int64_t v = 0;

	if (!st)
		return 0;
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

json_t *mem_db_status(struct mem_db *db, const char *model)
{
	json_t *o = json_object(), *models = json_array();
	sqlite3_stmt *st;

	json_object_set_new(o, "files",
			    json_integer(db_count(db, "SELECT count(*) FROM files", NULL)));
	json_object_set_new(o, "chunks",
			    json_integer(db_count(db, "SELECT count(*) FROM chunks", NULL)));
	json_object_set_new(
		o, "embedded",
		json_integer(model ? db_count(db,
					      "SELECT count(*) FROM chunks c JOIN embeddings e ON "
					      "e.model = ? AND e.hash = c.hash",
					      model)
				   : 0));
	json_object_set_new(
		o, "dbBytes",
		json_integer(db_count(db,
				      "SELECT page_count * page_size FROM pragma_page_count(), "
				      "pragma_page_size()",
				      NULL)));
	if ((st = db_prep(db, "SELECT DISTINCT model FROM embeddings ORDER BY model"))) {
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(
				models, json_string((const char *)sqlite3_column_text(st, 0)));
		sqlite3_finalize(st);
	}
	json_object_set_new(o, "models", models);
	return o;
}
