/*
 * memflush.h - the pre-compaction memory flush, as OpenClaw 2026.9.6 runs
 * it (agents.defaults.compaction.memoryFlush).
 *
 * When a session's context nears auto-compaction, the run first gives the
 * model one silent turn of its own: the flush prompt as the user message,
 * the flush system prompt appended to the system prompt, and only the
 * `read` tool and an append-only `write` restricted to
 * memory/YYYY-MM-DD.md (the date in the user's time zone). The model
 * stores what should outlive the summary, then usually answers NO_REPLY.
 * Nothing of that turn reaches a client or the transcript (OpenClaw runs
 * it on a detached copy of the session); then the user's own turn runs,
 * and compaction follows when due.
 *
 * One flush per compaction cycle: the session entry's
 * memoryFlush.compactionCount records the entry's compactionCount at the
 * flush (session/store.h). A failed flush is retried on the next turn, at
 * most MEMFLUSH_MAX_FAILURES times in a cycle.
 *
 * The run-side hooks (memflush_start/finish/tool) are declared in
 * internal.h; this header holds the pure parts, for tests.
 */
#ifndef PINCER_AGENT_MEMFLUSH_H
#define PINCER_AGENT_MEMFLUSH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define MEMFLUSH_SOFT_TOKENS  4000
#define MEMFLUSH_FORCE_BYTES  (2LL * 1024 * 1024)
#define MEMFLUSH_MAX_FAILURES 3
#define MEMFLUSH_SILENT_TOKEN "NO_REPLY"

/*
 * The token count at which a flush is due: window - reserve - soft, where
 * soft is capped at half of (window - reserve) so a small window still
 * flushes before it compacts. 0 when there is no room for one.
 */
long memflush_threshold(long window, long reserve, long soft);

/*
 * Whether a flush is due: `tokens` reached a positive `threshold` (or the
 * transcript reached `force_bytes`, when both are positive) and no flush
 * was recorded for this compaction cycle (`flushed_at` != `compactions`;
 * -1 for none).
 */
bool memflush_due(long tokens, long threshold, long long transcript_bytes, long long force_bytes,
		  long long compactions, long long flushed_at);

/* A byte size: a non-negative integer, or a string "512", "64kb", "2mb", "1gb". -1 when invalid. */
long long memflush_parse_bytes(const json_t *v);

/* The flush prompt for `date` (YYYY-MM-DD), ending with `time_line`. New string. */
char *memflush_prompt(const char *date, const char *time_line);
/* The flush system prompt for `date`. New string. */
char *memflush_system_prompt(const char *date);

/*
 * "Current time: Friday, January 2nd, 2026 - 14:05 (Europe/Berlin)\n
 * Reference UTC: 2026-01-02 13:05 UTC" for `ms` in zone `tz`, and the date
 * stamp YYYY-MM-DD there. Switches TZ for a moment: loop thread only.
 */
char *memflush_time_line(int64_t ms, const char *tz, char date[16]);

#endif
