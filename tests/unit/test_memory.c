/*
 * test_memory.c - the memory index: chunking (sizes, overlap, line ranges,
 * long lines), which files are sources, incremental re-index (untouched,
 * touched, changed, removed files), keyword and vector ranking, and the
 * hybrid merge's selection rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "memory/index.h"

/* ==== chunking ==== */

static char *lines_of(int n, int width)
{
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	for (int i = 1; i <= n; i++) {
		buf_printf(&b, "%04d ", i);
		for (int k = 5; k < width; k++)
			buf_putc(&b, 'a' + (i + k) % 26);
		buf_putc(&b, '\n');
	}
	return buf_detach(&b, NULL);
}

static void test_chunk_small(void **state)
{
	struct mem_chunk *c;
	size_t n = mem_chunk_markdown("# Title\nhello\n", 14, 400, 80, &c);

	(void)state;
	assert_int_equal(n, 1);
	assert_int_equal(c[0].start_line, 1);
	/* "a\n" splits into two lines as JS does: the empty last line belongs to the chunk. */
	assert_int_equal(c[0].end_line, 3);
	assert_string_equal(c[0].text, "# Title\nhello\n");
	assert_int_equal(strlen(c[0].hash), 64);
	mem_chunks_free(c, n);
}

static void test_chunk_sizes_and_overlap(void **state)
{
	char *text = lines_of(400, 80); /* 400 lines of 81 bytes: ~32 KB */
	struct mem_chunk *c;
	size_t n = mem_chunk_markdown(text, strlen(text), 400, 80, &c), i;

	(void)state;
	assert_true(n > 15 && n < 30);
	assert_int_equal(c[0].start_line, 1);
	for (i = 0; i < n; i++) {
		assert_true(c[i].len <= 1600);
		assert_true(c[i].start_line <= c[i].end_line);
		if (i) {
			/* ~320 bytes of overlap: 3 lines of 81 bytes reach back. */
			assert_true(c[i].start_line <= c[i - 1].end_line);
			assert_true(c[i].start_line >= c[i - 1].end_line - 4);
			/* The overlapping line text is repeated verbatim. */
			char *first = xstrdup(c[i].text);

			*strchr(first, '\n') = 0;
			assert_non_null(strstr(c[i - 1].text, first));
			free(first);
		}
	}
	assert_int_equal(c[n - 1].end_line, 401);
	mem_chunks_free(c, n);
	free(text);
}

static void test_chunk_no_overlap(void **state)
{
	char *text = lines_of(100, 60);
	struct mem_chunk *c;
	size_t n = mem_chunk_markdown(text, strlen(text), 100, 0, &c), i;

	(void)state;
	for (i = 1; i < n; i++)
		assert_int_equal(c[i].start_line, c[i - 1].end_line + 1);
	mem_chunks_free(c, n);
	free(text);
}

static void test_chunk_long_line_utf8(void **state)
{
	struct buf b;
	struct mem_chunk *c;
	size_t n, i, total = 0;

	(void)state;
	buf_init(&b, BUF_UNLIMITED);
	for (i = 0; i < 1000; i++)
		buf_puts(&b, "é€"); /* 2 + 3 bytes, so a 400-byte cut lands inside one */
	n = mem_chunk_markdown(b.p, b.len, 100, 0, &c);
	assert_true(n >= 12);
	for (i = 0; i < n; i++) {
		assert_int_equal(c[i].start_line, 1);
		assert_int_equal(c[i].end_line, 1);
		assert_true(c[i].len <= 400);
		/* Every piece starts on a character, never a continuation byte. */
		assert_true(((unsigned char)c[i].text[0] & 0xC0) != 0x80);
		total += c[i].len;
	}
	assert_int_equal(total, b.len);
	mem_chunks_free(c, n);
	buf_release(&b);
}

/* ==== the index ==== */

struct fx {
	char dir[PATH_MAX], ws[PATH_MAX + 8], db[PATH_MAX + 32];
	struct mem_db *db_;
};

static int fx_setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	char err[256], *p;

	assert_int_equal(tu_mkdtemp(f->dir, sizeof(f->dir), "memory"), 0);
	snprintf(f->ws, sizeof(f->ws), "%s/ws", f->dir);
	snprintf(f->db, sizeof(f->db), "%s/state/memory/main.sqlite", f->dir);
	p = fs_join(f->ws, "memory/projects");
	assert_int_equal(fs_mkdir_p(p, 0700), 0);
	free(p);
	f->db_ = mem_db_open(f->db, err, sizeof(err));
	assert_non_null(f->db_);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	mem_db_close(f->db_);
	tu_rm_rf(f->dir);
	free(f);
	return 0;
}

static void put(struct fx *f, const char *rel, const char *text)
{
	free(tu_write_file(f->ws, rel, text, 0600));
}

/* Push a file's mtime into the past so a rewrite within the same ms still differs. */
static void age(struct fx *f, const char *rel, int secs)
{
	char *p = fs_join(f->ws, rel);
	struct stat st;
	struct timeval tv[2];

	assert_int_equal(stat(p, &st), 0);
	tv[0].tv_sec = tv[1].tv_sec = st.st_mtime - secs;
	tv[0].tv_usec = tv[1].tv_usec = 0;
	assert_int_equal(utimes(p, tv), 0);
	free(p);
}

static void sync_ok(struct fx *f, bool force, struct mem_sync_stats *st)
{
	char err[256];

	assert_int_equal(mem_db_sync(f->db_, f->ws, 400, 80, force, st, err, sizeof(err)), 0);
}

static void test_db_mode(void **state)
{
	struct fx *f = *state;
	struct stat st;
	char *dir = fs_dirname(f->db);

	assert_int_equal(stat(f->db, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	free(dir);
}

static void test_sources(void **state)
{
	struct fx *f = *state;
	struct mem_sync_stats st;
	struct mem_hit *h;
	size_t n;
	char *p;

	put(f, "MEMORY.md", "# Memory\nThe user likes kumquats.\n");
	put(f, "memory.md", "legacy lowercase: ignored while MEMORY.md exists (zebra)\n");
	put(f, "USER.md", "name: Ada\n");
	put(f, "memory/2026-01-02.md", "daily note about kumquats\n");
	put(f, "memory/projects/pincer.md", "pincer is written in C\n");
	put(f, "memory/notes.txt", "not markdown: kumquats\n");
	put(f, "NOTES.md", "not a memory file: kumquats\n");
	p = fs_join(f->ws, "memory/link.md");
	assert_int_equal(symlink("/etc/passwd", p), 0);
	free(p);
	sync_ok(f, false, &st);
	assert_int_equal(st.files, 4);
	assert_int_equal(st.changed, 4);

	n = mem_db_search_text(f->db_, "kumquats", 10, &h);
	assert_int_equal(n, 2);
	assert_true(!strcmp(h[0].path, "MEMORY.md") || !strcmp(h[0].path, "memory/2026-01-02.md"));
	mem_hits_free(h, n);
	n = mem_db_search_text(f->db_, "zebra", 10, &h);
	assert_int_equal(n, 0);
	mem_hits_free(h, n);
	n = mem_db_search_text(f->db_, "root", 10, &h); /* /etc/passwd via the symlink */
	assert_int_equal(n, 0);
	mem_hits_free(h, n);

	/* Without MEMORY.md the lowercase file is the root memory file. */
	p = fs_join(f->ws, "MEMORY.md");
	unlink(p);
	free(p);
	sync_ok(f, false, &st);
	assert_int_equal(st.removed, 1);
	n = mem_db_search_text(f->db_, "zebra", 10, &h);
	assert_int_equal(n, 1);
	assert_string_equal(h[0].path, "memory.md");
	mem_hits_free(h, n);
}

static void test_incremental(void **state)
{
	struct fx *f = *state;
	struct mem_sync_stats st;
	struct mem_hit *h;
	char *big = lines_of(300, 70);
	size_t n;

	put(f, "MEMORY.md", "alpha facts\n");
	put(f, "memory/a.md", big);
	put(f, "memory/b.md", "bravo facts\n");
	age(f, "MEMORY.md", 100);
	age(f, "memory/a.md", 100);
	age(f, "memory/b.md", 100);
	sync_ok(f, false, &st);
	assert_int_equal(st.changed, 3);
	assert_true(st.chunks > 10);
	assert_int_equal(mem_db_dirty(f->db_, f->ws), 0);

	/* Nothing changed: nothing read. */
	sync_ok(f, false, &st);
	assert_int_equal(st.changed, 0);
	assert_int_equal(st.touched, 0);

	/* Same content, new mtime: the row's stat data moves, no re-chunking. */
	put(f, "memory/b.md", "bravo facts\n");
	assert_int_equal(mem_db_dirty(f->db_, f->ws), 1);
	sync_ok(f, false, &st);
	assert_int_equal(st.changed, 0);
	assert_int_equal(st.touched, 1);

	/* One file edited: only it is re-chunked, and the new words are found. */
	put(f, "memory/b.md", "bravo facts\ncharlie arrives\n");
	sync_ok(f, false, &st);
	assert_int_equal(st.changed, 1);
	n = mem_db_search_text(f->db_, "charlie", 10, &h);
	assert_int_equal(n, 1);
	assert_string_equal(h[0].path, "memory/b.md");
	assert_int_equal(h[0].start_line, 1);
	assert_int_equal(h[0].end_line, 3);
	mem_hits_free(h, n);

	/* A file removed: its chunks go. */
	put(f, "memory/c.md", "delta\n");
	sync_ok(f, false, &st);
	{
		char *p = fs_join(f->ws, "memory/c.md");
		unlink(p);
		free(p);
	}
	assert_int_equal(mem_db_dirty(f->db_, f->ws), 1);
	sync_ok(f, false, &st);
	assert_int_equal(st.removed, 1);
	n = mem_db_search_text(f->db_, "delta", 10, &h);
	assert_int_equal(n, 0);
	mem_hits_free(h, n);

	/* force re-reads everything. */
	sync_ok(f, true, &st);
	assert_true(st.reindexed);
	assert_int_equal(st.changed, 3);

	/* New chunking parameters rebuild the index by themselves. */
	{
		char err[256];

		assert_int_equal(mem_db_sync(f->db_, f->ws, 200, 40, false, &st, err, sizeof(err)),
				 0);
		assert_true(st.reindexed);
	}
	free(big);
}

static void test_fts_query(void **state)
{
	char *q;

	(void)state;
	q = mem_fts_query("what did we decide about \"pincer\"? (v2)", false);
	assert_string_equal(q, "\"what\" AND \"did\" AND \"we\" AND \"decide\" AND \"about\" AND "
			       "\"pincer\" AND \"v2\"");
	free(q);
	q = mem_fts_query("a-b", true);
	assert_string_equal(q, "\"a\" OR \"b\"");
	free(q);
	assert_null(mem_fts_query("?!  --", false));
	assert_true(fabs(mem_bm25_score(-3) - 0.75) < 1e-9);
	assert_true(fabs(mem_bm25_score(1) - 0.5) < 1e-9);
	assert_true(mem_path_allowed("MEMORY.md"));
	assert_true(mem_path_allowed("memory/x/y.md"));
	assert_false(mem_path_allowed("memory/x.txt"));
	assert_false(mem_path_allowed("AGENTS.md"));
	assert_false(mem_path_allowed("memory/../AGENTS.md"));
	assert_false(mem_path_allowed("/etc/passwd"));
}

static void test_keyword_ranking(void **state)
{
	struct fx *f = *state;
	struct mem_sync_stats st;
	struct mem_hit *h, *sel;
	size_t n;

	put(f, "memory/a.md", "We chose SQLite for the memory index. SQLite with FTS5 is fast.\n");
	put(f, "memory/b.md", "Lunch: soup. The weather was fine. Nothing about databases.\n");
	put(f, "memory/c.md",
	    "SQLite was mentioned once among many other words about a trip "
	    "to the mountains and the long drive and the food we ate.\n");
	sync_ok(f, false, &st);

	/* The denser match ranks first; a chunk without the word is not a hit. */
	n = mem_db_search_text(f->db_, "sqlite", 10, &h);
	assert_int_equal(n, 2);
	assert_string_equal(h[0].path, "memory/a.md");
	assert_string_equal(h[1].path, "memory/c.md");
	assert_true(h[0].score > h[1].score && h[1].score > 0 && h[0].score < 1);
	mem_hits_free(h, n);

	/* AND first, then any word when too few chunks hold all of them. */
	n = mem_db_search_text(f->db_, "sqlite soup", 10, &h);
	assert_int_equal(n, 3);
	mem_hits_free(h, n);

	/* Keyword-only selection: below min score everything relaxes to the best. */
	n = mem_db_search_text(f->db_, "sqlite", 10, &h);
	n = mem_select_keyword(h, n, 0.99, 6, &sel);
	assert_int_equal(n, 2);
	mem_hits_free(sel, n);
}

static void test_vector_and_hybrid(void **state)
{
	struct fx *f = *state;
	struct mem_sync_stats st;
	struct mem_pending *p;
	struct mem_hit *vh, *kh, *out;
	size_t np, nv, nk, n, i;
	float q[3] = { 1, 0, 0 };
	json_t *s;

	put(f, "memory/a.md", "apples\n");
	put(f, "memory/b.md", "bananas\n");
	put(f, "memory/c.md", "cherries and apples\n");
	sync_ok(f, false, &st);
	np = mem_db_missing_embeddings(f->db_, "m1", 100, &p);
	assert_int_equal(np, 3);
	assert_int_equal(mem_db_begin(f->db_), 0);
	for (i = 0; i < np; i++) {
		/* bananas points along the query; apples is orthogonal to it. */
		float v[3] = { 0, 1, 0 };

		if (strstr(p[i].text, "bananas"))
			v[0] = 1, v[1] = 0;
		else if (strstr(p[i].text, "cherries"))
			v[0] = 0.5f;
		assert_int_equal(mem_db_put_embedding(f->db_, "m1", p[i].hash, v, 3), 0);
	}
	assert_int_equal(mem_db_commit(f->db_), 0);
	mem_pending_free(p, np);
	assert_int_equal(mem_db_missing_embeddings(f->db_, "m1", 100, &p), 0);
	mem_pending_free(p, 0);

	nv = mem_db_search_vector(f->db_, "m1", q, 3, 10, &vh);
	assert_int_equal(nv, 3);
	assert_string_equal(vh[0].path, "memory/b.md");
	assert_true(fabs(vh[0].vector_score - 1) < 1e-6);
	assert_string_equal(vh[1].path, "memory/c.md");
	assert_true(fabs(vh[2].vector_score) < 1e-6);

	/* Hybrid: 0.7 * vector + 0.3 * text. "apples" is a keyword hit in a and c. */
	nk = mem_db_search_text(f->db_, "apples", 10, &kh);
	assert_int_equal(nk, 2);
	n = mem_hybrid_merge(vh, nv, kh, nk, 0.7, 0.3, 0.35, 6, &out);
	/*
	 * In a three-file corpus where two files hold "apples" BM25's IDF is
	 * clamped to ~0, so only b (0.7) reaches min score 0.35; c (0.31) does
	 * not, and OpenClaw tops up only with keyword hits that have no vector
	 * similarity at all: a.
	 */
	assert_int_equal(n, 2);
	assert_string_equal(out[0].path, "memory/b.md");
	assert_true(fabs(out[0].score - 0.7) < 1e-6);
	assert_string_equal(out[1].path, "memory/a.md");
	assert_true(out[1].vector_score == 0 && out[1].text_score > 0);
	for (i = 0; i < n; i++)
		assert_true(fabs(out[i].score -
				 (0.7 * out[i].vector_score + 0.3 * out[i].text_score)) < 1e-9);
	mem_hits_free(out, n);

	s = mem_db_status(f->db_, "m1");
	assert_int_equal(json_integer_value(json_object_get(s, "chunks")), 3);
	assert_int_equal(json_integer_value(json_object_get(s, "embedded")), 3);
	json_decref(s);

	/* An edit orphans one vector; prune drops it and keeps the rest. */
	put(f, "memory/b.md", "blueberries\n");
	age(f, "memory/b.md", 50);
	sync_ok(f, false, &st);
	mem_db_prune_embeddings(f->db_, "m1");
	np = mem_db_missing_embeddings(f->db_, "m1", 100, &p);
	assert_int_equal(np, 1);
	assert_string_equal(p[0].text, "blueberries\n");
	mem_pending_free(p, np);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunk_small),
		cmocka_unit_test(test_chunk_sizes_and_overlap),
		cmocka_unit_test(test_chunk_no_overlap),
		cmocka_unit_test(test_chunk_long_line_utf8),
		cmocka_unit_test(test_fts_query),
		cmocka_unit_test_setup_teardown(test_db_mode, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_sources, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_incremental, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_keyword_ranking, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_vector_and_hybrid, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
