/*
 * transcript.h - a session's transcript: pi's SessionManager JSONL, version 3.
 *
 * One JSON object per line. The first line is the header
 *	{"type":"session","version":3,"id":"<sessionId>","timestamp":"<ISO>","cwd":"/path"}
 * and every later line is an entry with "id" (8 hex chars, unique in the
 * file), "parentId" (the previous entry's id, null for the first) and an ISO
 * "timestamp":
 *	message                {"message":{pi message}}
 *	model_change           {"provider","modelId"}
 *	thinking_level_change  {"thinkingLevel"}
 *	compaction             {"summary","firstKeptEntryId","tokensBefore","details"?}
 *	custom / custom_message / branch_summary / label / session_info  (kept, passed through)
 * The entries form a tree through parentId; the current branch is the path
 * from the last entry (the leaf) back to the root.
 *
 * Loading never fails on content: a line that is not valid JSON (a torn
 * last line after a crash, or garbage) is skipped and counted in
 * `bad_lines`, with the first bad line number kept for the report. A
 * missing header is synthesised. Older versions (1, 2: no ids) are given
 * ids in memory, as pi migrates them.
 *
 * Appends go to the end of the file with O_APPEND, one write() per line.
 * Before the first append after load, a torn last line (no trailing
 * newline) is terminated, so a new line never glues onto garbage.
 * transcript_sync fsyncs: the run engine calls it at turn boundaries.
 */
#ifndef PINCER_SESSION_TRANSCRIPT_H
#define PINCER_SESSION_TRANSCRIPT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* A transcript larger than this is refused on load (the session should be reset). */
#define TRANSCRIPT_MAX_BYTES (256u << 20)
/* One line larger than this is skipped as bad. */
#define TRANSCRIPT_MAX_LINE  (32u << 20)

struct transcript {
	char *path;
	char *session_id;
	json_t *header;        /* the session line */
	json_t *entries;       /* every entry after the header, in file order */
	char *leaf_id;         /* id of the last entry, NULL when none */
	size_t bad_lines;      /* lines skipped on load */
	size_t first_bad_line; /* 1-based line number of the first, 0 when none */
	int fd;                /* append fd, -1 until the first append */
	bool needs_newline;    /* the file ends without '\n' (torn) */
	size_t bytes; /* bytes of JSONL behind `entries` (loaded + appended): its memory cost */
	/* private to transcript.c */
	json_t *by_id;       /* id -> entry (borrowed from entries), the tree's index */
	bool header_on_disk; /* the file holds a header line (else the first append writes it) */
	bool migrated;       /* loaded from v1/v2: the first append rewrites the file as v3 */
};

/*
 * Load `path` (which may not exist: then an empty transcript with a new
 * header for `session_id` and `cwd` is set up; nothing is written until the
 * first append). Returns 0, or -1 with `err` for I/O errors and files over
 * TRANSCRIPT_MAX_BYTES.
 */
int transcript_open(struct transcript *t, const char *path, const char *session_id, const char *cwd,
		    char *err, size_t errlen);
/* Parse from memory (the fuzz target and the loader share this). Never fails. */
void transcript_parse(struct transcript *t, const char *data, size_t len);
void transcript_close(struct transcript *t);

/*
 * Append an entry: `entry` (stolen) is an object with "type" and its own
 * fields; id, parentId and timestamp are filled in (parentId = current
 * leaf). Creates the file 0600 (with the header line first) on the first
 * append. Returns the new entry (borrowed) or NULL with errno.
 */
json_t *transcript_append(struct transcript *t, json_t *entry);
/* Shorthands. `msg` stolen. */
json_t *transcript_append_message(struct transcript *t, json_t *msg);
json_t *transcript_append_model_change(struct transcript *t, const char *provider,
				       const char *model_id);
json_t *transcript_append_thinking_change(struct transcript *t, const char *level);
json_t *transcript_append_compaction(struct transcript *t, const char *summary,
				     const char *first_kept_id, long tokens_before);
/* fsync the file. 0 or -1/errno. */
int transcript_sync(struct transcript *t);

/* The entry with `id`, or NULL. Borrowed. */
json_t *transcript_find(const struct transcript *t, const char *id);
/* The current branch, root first (entries borrowed from t). New array. */
json_t *transcript_branch(const struct transcript *t);

/*
 * The conversation to send to the model, from the current branch: the last
 * compaction's summary as a user message ("The conversation history before
 * this point was compacted into the following summary:\n\n<summary>\n…"),
 * then the messages from firstKeptEntryId on; without compaction every
 * message. Only `message` entries (and custom_message ones, as user text)
 * count. New array of new references.
 */
json_t *transcript_context(const struct transcript *t);

/*
 * Display messages for chat.history / sessions.preview: the branch's
 * messages (all of them, compaction not applied), each with "__id" set to
 * its entry id. New array.
 */
json_t *transcript_messages(const struct transcript *t);

/*
 * Archive the file as `<path>.<reason>.<ISO-ts with ':' as '-'>` (reason
 * "reset" or "deleted"), OpenClaw's naming. Returns the new path (new
 * string) or NULL with errno; ENOENT when there is no file.
 */
char *transcript_archive(const char *path, const char *reason);

#endif
