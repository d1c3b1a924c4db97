/*
 * memory.h - memory search for an agent: its settings from the config, the
 * embedding client, and a per-agent manager that keeps the index (index.h)
 * in step with the workspace and answers searches, all without blocking
 * the loop.
 *
 * Config (OpenClaw 2026.9.6: `memory.search`, per agent
 * `agents.entries.<id>.memory.search`, the agent's value winning):
 *   enabled (true), provider ("openai"; unset or "auto": the first of
 *   openai, gemini, mistral with a key, else keyword-only; "none":
 *   keyword-only), model (openai text-embedding-3-small, gemini
 *   gemini-embedding-001, mistral mistral-embed), remote {baseUrl, apiKey,
 *   headers}, outputDimensionality, query {maxResults 6, minScore 0.35}.
 * Fixed in OpenClaw, read here as pincer extensions of the same block:
 *   chunking {tokens 400, overlap 80}, query.hybrid {enabled true,
 *   vectorWeight 0.7, textWeight 0.3, candidateMultiplier 4},
 *   sync {watch true, watchDebounceMs 1500}, store.path
 *   (<state>/memory/<agentId>.sqlite; "{agentId}" is substituted).
 * `memory.citations` auto|on|off adds "Source: path#Lx-Ly" to snippets.
 *
 * Threads: SQLite work runs on libuv's thread pool (uv_queue_work). Each
 * manager has one connection and a mutex held for the whole of a work
 * item, so a sync and a search of the same agent never interleave inside
 * a transaction, while different agents proceed in parallel. One
 * connection per manager (rather than per thread) keeps the prepared
 * schema and WAL state in one place and makes "one writer" obvious; the
 * mutex costs nothing measurable next to the SQL it guards.
 */
#ifndef PINCER_MEMORY_MEMORY_H
#define PINCER_MEMORY_MEMORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct config;
struct paths;
struct http_client;

struct mem_settings {
	bool enabled;
	char *agent_id, *workspace, *db_path;
	int chunk_tokens, chunk_overlap;
	int max_results;
	double min_score;
	bool hybrid;
	double vector_weight, text_weight;
	int candidate_multiplier;
	bool watch;
	int watch_debounce_ms;
	char *citations; /* auto|on|off */
	/* Embeddings; provider NULL means keyword-only ("fts-only"). */
	char *provider; /* "openai", "gemini", "mistral", or a models.providers id */
	char *model;
	char *base_url;
	char *api_key;  /* NULL for a keyless local server */
	char **headers; /* extra "Name: value", NULL-terminated; may be NULL */
	bool gemini;    /* Gemini's embedContent wire, else OpenAI's /embeddings */
	int dims;       /* outputDimensionality, 0: the model's */
	char *note; /* why there are no embeddings (when provider is NULL and one was asked for) */
};

/*
 * Resolve the settings of `agent_id` (its workspace given). Keys come from
 * memory.search.remote.apiKey, else the agent's auth profiles and the
 * provider's env var. Never fails: a missing or broken credential leaves
 * keyword-only search with `note` saying why. Release with
 * mem_settings_release.
 */
void mem_settings_resolve(const struct config *cfg, const struct paths *paths, const char *agent_id,
			  const char *workspace, struct mem_settings *s);
void mem_settings_release(struct mem_settings *s);

/* ==== embeddings (embed.c) ==== */

struct mem_embed_req;

/* `vecs` is n * dims floats, L2-normalised, owned by the callee; NULL with `err` on failure. */
typedef void (*mem_embed_cb)(void *ud, float *vecs, size_t n, int dims, const char *err);

/*
 * Embed `texts` (n ≥ 1) with the settings' provider: OpenAI-compatible
 * POST {baseUrl}/embeddings, or Gemini {baseUrl}/models/{model}:embedContent
 * (query) / :batchEmbedContents (documents). `cb` runs exactly once, never
 * before this returns, unless cancelled. Texts are copied.
 */
struct mem_embed_req *mem_embed_start(struct http_client *hc, const struct mem_settings *s,
				      const char *const *texts, size_t n, bool query,
				      mem_embed_cb cb, void *ud);
void mem_embed_cancel(struct mem_embed_req *r);

/* Texts per embeddings request. */
#define MEM_EMBED_BATCH 64

/* ==== the manager and its operations ==== */

struct mem_mgr;
struct mem_op;

/*
 * The manager of `s->db_path` on `loop` (created on first use; one per
 * agent and loop). `hc` is used for embeddings (may be NULL: keyword-only).
 * When `watch` (and s->watch), the workspace and memory/ are watched and
 * a change marks the index dirty and re-syncs it after the debounce.
 */
struct mem_mgr *mem_mgr_get(uv_loop_t *loop, struct http_client *hc, const struct mem_settings *s,
			    bool watch);
/* Close every manager of `loop` (watchers, connections). Work in flight finishes first. */
void mem_mgr_shutdown_all(uv_loop_t *loop);

/*
 * Done callback of an operation: `result` (owned by the callee; NULL with
 * `err` on failure) is the tool's JSON for a search, the stats for index,
 * the status object for status.
 */
typedef void (*mem_op_cb)(void *ud, json_t *result, const char *err);

/*
 * Search: sync when dirty, embed what has no vector yet and the query,
 * then keyword (+ vector) search, merged. `max_results` ≤ 0 and a NaN
 * `min_score` take the settings'. `session_key` picks citations under
 * "auto" (direct chats only). Result: OpenClaw's memory_search payload
 * {results:[{path,startLine,endLine,score,vectorScore,textScore,snippet,
 * source,corpus,citation?}],provider,model,citations,mode,…}.
 */
struct mem_op *mem_search(struct mem_mgr *m, const struct mem_settings *s, const char *query,
			  int max_results, double min_score, const char *session_key, mem_op_cb cb,
			  void *ud);
/* Sync (force: rebuild) and embed everything. Result: {files,changed,…,embedded}. */
struct mem_op *mem_index(struct mem_mgr *m, const struct mem_settings *s, bool force, mem_op_cb cb,
			 void *ud);
/* Status of the index (no sync). */
struct mem_op *mem_status(struct mem_mgr *m, const struct mem_settings *s, mem_op_cb cb, void *ud);
/* The caller no longer wants the answer: `cb` will not run. Work in flight completes. */
void mem_op_cancel(struct mem_op *op);

/* ==== memory_get ==== */

/*
 * OpenClaw's readMemoryFile: `rel` must be MEMORY.md, memory.md, USER.md or
 * a *.md under memory/ inside `workspace` (".." and symlinks leaving it are
 * refused); from (1-based, ≤0: 1), lines (≤0: 120), max_chars (≤0: 12000).
 * Returns {status:"ok",text,path,from,lines,truncated?,nextFrom?} or
 * {status:"not_found",text:"",path}; NULL with `err` for a refused path.
 * Synchronous but bounded (one file of at most MEM_FILE_MAX_BYTES).
 */
json_t *mem_read_file(const char *workspace, const char *rel, long from, long lines, long max_chars,
		      char *err, size_t errlen);

#endif
