/*
 * store.h - an agent's session index: `agents/<id>/sessions/sessions.json`,
 * a map sessionKey -> SessionEntry (SPEC §4.5), as OpenClaw writes it.
 *
 * Entries are kept as JSON objects so that fields pincer does not know
 * (written by OpenClaw or a newer pincer) survive a round trip. Known
 * fields: sessionId, sessionFile, updatedAt, sessionStartedAt,
 * lastInteractionAt, chatType, provider/channel, subject, displayName,
 * label, origin, lastChannel, lastTo, lastAccountId, thinkingLevel,
 * verboseLevel, reasoningLevel, elevatedLevel, sendPolicy, queueMode,
 * providerOverride, modelOverride, authProfileOverride,
 * authProfileOverrideSource, inputTokens, outputTokens, totalTokens,
 * contextTokens, compactionCount, memoryFlush, spawnedBy, spawnDepth.
 *
 * The store lives in memory for the daemon's lifetime and is saved with
 * fs_write_atomic (0600) under a `sessions.json.lock` flock, after
 * re-reading the file if another process changed it (the CLI with --local
 * may). A corrupt file is kept as `sessions.json.bad` and a new one begun.
 */
#ifndef PINCER_SESSION_STORE_H
#define PINCER_SESSION_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

struct session_store;

/* Open the store in `sessions_dir` (created 0700). Reads lazily. Never NULL. */
struct session_store *session_store_open(const char *sessions_dir);
void session_store_free(struct session_store *s);
const char *session_store_dir(const struct session_store *s);

/* The entry for `key` or NULL. Borrowed; valid until the next store call that writes. */
json_t *session_store_get(struct session_store *s, const char *key);
/*
 * The entry for `key`, created when missing with a new sessionId (UUID),
 * sessionStartedAt/updatedAt = now. *created tells which. Borrowed.
 */
json_t *session_store_ensure(struct session_store *s, const char *key, int64_t now_ms,
			     bool *created);
/* Find the key whose entry has this sessionId; NULL when none. Borrowed. */
const char *session_store_key_for_id(struct session_store *s, const char *session_id);
/* Save to disk now. 0 or -1/errno (logged). */
int session_store_save(struct session_store *s);
/* Remove `key`. Returns true when it was there. Saves. */
bool session_store_remove(struct session_store *s, const char *key);
/* Every entry: the map itself, borrowed (do not modify through it). */
json_t *session_store_all(struct session_store *s);

/*
 * `<dir>/<sessionId>.jsonl`, or the entry's sessionFile when set (relative:
 * to <dir>). New string; NULL when the entry has no sessionId that can name
 * a file there (missing, or with '/', a leading '.', control characters).
 */
char *session_store_transcript_path(struct session_store *s, const json_t *entry);

/*
 * Maintenance (`session.maintenance`): drop entries not updated for
 * `prune_after_ms` (0: never) and, beyond `max_entries` (0: no cap), the
 * least recently updated ones; their transcripts are archived as
 * `.deleted.<ts>`. Keys in `keep` (NULL-terminated, may be NULL) are never
 * dropped. Returns the number removed. Saves when anything changed.
 */
size_t session_store_prune(struct session_store *s, int64_t now_ms, int64_t prune_after_ms,
			   size_t max_entries, const char *const *keep);

/*
 * The pre-compaction memory flush's bookkeeping in an entry, in OpenClaw
 * 2026.9.6's shape: `memoryFlush: {kind:"succeeded", compactionCount}` or
 * `{kind:"failed", compactionCount?, failureCount}`. compactionCount is the
 * entry's compactionCount when the flush ran: a flush is done for the
 * current compaction cycle while the two are equal. Entries written by an
 * older OpenClaw carry the retired memoryFlushCompactionCount and
 * memoryFlushFailureCount instead; they are read the way OpenClaw reads
 * them, and dropped (with the other retired memoryFlush* keys) on write.
 */
/* compactionCount of the last flush, or -1 when none is recorded. */
long long session_entry_flush_count(const json_t *e);
/* Consecutive failed flushes in the current cycle (0 after a success). */
long long session_entry_flush_failures(const json_t *e);
/* Record a successful flush at `compaction_count`. */
void session_entry_flush_succeeded(json_t *e, long long compaction_count);
/* Record a failed flush; returns the new consecutive failure count. */
long long session_entry_flush_failed(json_t *e);

#endif
