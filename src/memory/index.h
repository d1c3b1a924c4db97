/*
 * index.h - the memory index of one agent: its memory markdown files cut
 * into overlapping chunks, kept in SQLite with an FTS5 table (BM25) and,
 * when an embedding provider is configured, one float32 vector per chunk.
 *
 * Everything here is synchronous and touches only the database and the
 * workspace files: callers run it on a worker thread (memory.h does), never
 * on the loop. One struct mem_db is one connection; it must not be used by
 * two threads at once (memory.h serialises with a mutex).
 *
 * Sources, as OpenClaw 2026.9.6 lists them (listMemoryFiles): MEMORY.md
 * (else the legacy lowercase memory.md), USER.md, and every *.md under
 * memory/ (recursively; symlinks are skipped, never followed). Paths are
 * stored relative to the workspace, with '/'.
 *
 * Layout of <state>/memory/<agentId>.sqlite (0600, directory 0700):
 *
 *	meta(key, value)                     chunking parameters, schema version
 *	files(path, source, mtime, size, hash)  one row per indexed file
 *	chunks(id, path, source, start_line, end_line, hash, text)
 *	chunks_fts                           FTS5 over chunks.text (external content)
 *	embeddings(model, hash, dims, vec)   float32 BLOBs keyed by chunk text hash,
 *	                                     so an edit re-embeds only changed chunks
 */
#ifndef PINCER_MEMORY_INDEX_H
#define PINCER_MEMORY_INDEX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* OpenClaw's defaults (src/agents/memory-search.ts). */
#define MEM_CHUNK_TOKENS   400
#define MEM_CHUNK_OVERLAP  80
/* Snippets returned by a search are cut to this many bytes (OpenClaw: 700 chars). */
#define MEM_SNIPPET_MAX    700
/* A memory file larger than this is skipped (and reported): notes, not data sets. */
#define MEM_FILE_MAX_BYTES (8u << 20)
/* At most this many files are indexed per agent. */
#define MEM_MAX_FILES      50000

struct mem_db;

/* ==== chunking ==== */

struct mem_chunk {
	int start_line, end_line; /* 1-based, inclusive */
	char *text;               /* owned, NUL-terminated */
	size_t len;
	char hash[65]; /* sha256 hex of text */
};

/*
 * Cut markdown into chunks of about `tokens` tokens (4 bytes a token) that
 * overlap by about `overlap` tokens, on line boundaries; a line longer than
 * a chunk is split (at UTF-8 boundaries). OpenClaw's chunkMarkdown. Returns
 * the count, with *out a new array (mem_chunks_free).
 */
size_t mem_chunk_markdown(const char *text, size_t len, int tokens, int overlap,
			  struct mem_chunk **out);
void mem_chunks_free(struct mem_chunk *c, size_t n);

/* ==== the database ==== */

/*
 * Open (creating, 0600, its directory 0700) the index at `path`. NULL with
 * `err` when it cannot be opened or SQLite lacks FTS5.
 */
struct mem_db *mem_db_open(const char *path, char *err, size_t errlen);
void mem_db_close(struct mem_db *db);

struct mem_sync_stats {
	size_t files;   /* memory files found */
	size_t changed; /* files (re)chunked */
	size_t touched; /* files whose mtime/size changed but content did not */
	size_t removed; /* files gone since the last sync */
	size_t skipped; /* files too big or unreadable */
	size_t chunks;  /* chunks in the index after the sync */
	bool reindexed; /* everything was re-chunked (force, or chunking changed) */
};

/*
 * Bring the index in line with the memory files of `workspace`: files whose
 * mtime and size match their row are not read; others are hashed and
 * re-chunked only when their content changed; rows of vanished files are
 * dropped. `force` re-reads everything. One transaction. 0, or -1 with err.
 */
int mem_db_sync(struct mem_db *db, const char *workspace, int tokens, int overlap, bool force,
		struct mem_sync_stats *st, char *err, size_t errlen);

/*
 * Whether any memory file differs (by mtime and size) from its row, or a
 * file appeared or vanished: the cheap check before a search. 1 dirty,
 * 0 clean, -1 on a database error.
 */
int mem_db_dirty(struct mem_db *db, const char *workspace);

/* A chunk whose text has no vector yet for a model. */
struct mem_pending {
	char hash[65];
	char *text; /* owned */
};

/*
 * Up to `max` distinct chunk texts without an embedding for `model`.
 * Returns the count, *out a new array (mem_pending_free).
 */
size_t mem_db_missing_embeddings(struct mem_db *db, const char *model, size_t max,
				 struct mem_pending **out);
void mem_pending_free(struct mem_pending *p, size_t n);
/* Store the vector of the chunk text with `hash`. 0 or -1. */
int mem_db_put_embedding(struct mem_db *db, const char *model, const char *hash, const float *vec,
			 int dims);
/* Group many puts in one transaction (begin, then commit). 0 or -1. */
int mem_db_begin(struct mem_db *db);
int mem_db_commit(struct mem_db *db);
/* Drop vectors no chunk uses any more, and every vector of other models. */
void mem_db_prune_embeddings(struct mem_db *db, const char *keep_model);

/* ==== search ==== */

struct mem_hit {
	int64_t id; /* chunk row */
	char *path; /* owned */
	int start_line, end_line;
	char *snippet; /* owned; at most MEM_SNIPPET_MAX bytes */
	double score, vector_score, text_score;
};

void mem_hits_free(struct mem_hit *h, size_t n);

/*
 * The FTS5 query OpenClaw builds (buildFtsQuery): every run of letters,
 * digits and '_' as a quoted term, joined with AND (`or`: OR). NULL when
 * the query has no such term. New string.
 */
char *mem_fts_query(const char *query, bool or_join);

/* BM25 rank (negative is better) to a 0..1 score, as OpenClaw's bm25RankToScore. */
double mem_bm25_score(double rank);

/*
 * Keyword search: chunks matching every term (then, when fewer than
 * `limit`, any term), best BM25 first, text_score = score = mem_bm25_score.
 * Returns the count, *out a new array.
 */
size_t mem_db_search_text(struct mem_db *db, const char *query, size_t limit, struct mem_hit **out);

/*
 * Vector search: the `limit` chunks whose `model` vectors are closest to
 * `qvec` by cosine similarity (brute force; vectors are few and small),
 * vector_score = score = cosine. Returns the count, *out a new array.
 */
size_t mem_db_search_vector(struct mem_db *db, const char *model, const float *qvec, int dims,
			    size_t limit, struct mem_hit **out);

/*
 * OpenClaw's hybrid merge (mergeHybridResults + selectHybridSearchResults,
 * without MMR and temporal decay): hits joined by chunk, score =
 * vw * vector_score + tw * text_score; those at or above `min_score`, best
 * first, up to `max`; when none reach it, keyword hits with any score; when
 * too few do, topped up with keyword-only hits below it. Takes ownership of
 * both arrays. Returns the count, *out a new array.
 */
size_t mem_hybrid_merge(struct mem_hit *vec, size_t nvec, struct mem_hit *kw, size_t nkw, double vw,
			double tw, double min_score, size_t max, struct mem_hit **out);

/*
 * Keyword-only selection (selectScoredResults): hits at or above
 * `min_score`, up to `max`; when none reach it, the best `max` of all.
 * Takes ownership of `kw`. Returns the count, *out a new array.
 */
size_t mem_select_keyword(struct mem_hit *kw, size_t nkw, double min_score, size_t max,
			  struct mem_hit **out);

/* ==== status ==== */

/*
 * {"files","chunks","embedded" (chunks with a vector of `model`, or 0),
 *  "dbBytes","models":[…]}. New.
 */
json_t *mem_db_status(struct mem_db *db, const char *model);

/* ==== memory file paths ==== */

/*
 * Whether `rel` (relative to the workspace, '/' separated, no "..") names a
 * memory file memory_get may read: MEMORY.md, memory.md, USER.md, or a
 * *.md under memory/.
 */
bool mem_path_allowed(const char *rel);

#endif
