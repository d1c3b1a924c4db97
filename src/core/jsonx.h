/*
 * jsonx.h - small helpers on top of jansson: JSON paths, typed getters,
 * and dumping into bounded buffers.
 *
 * A JSON path names one value inside a document the way OpenClaw's CLI
 * does: dot-separated keys and [N] array indices, e.g. `agents.list[0].id`.
 * A key that is not a plain identifier (letters, digits, '_', '-', '$',
 * not starting with a digit) is written in brackets as a JSON string:
 * `models.providers["my.provider"].apiKey`.
 */
#ifndef PINCER_CORE_JSONX_H
#define PINCER_CORE_JSONX_H

#include <jansson.h>
#include <stdbool.h>

#include "core/buf.h"

/* Append ".key" (or "key" at the start, or `["k.e.y"]`) to a path. */
void jpath_push_key(struct buf *path, const char *key);
/* Append "[i]". */
void jpath_push_index(struct buf *path, size_t i);

/*
 * One step of a parsed path: a key, or an index when key is NULL.
 */
struct jpath_step {
	char *key;
	size_t index;
};

/*
 * Split `path` into steps. Returns the count, or -1 with a message in
 * `err` (at least 128 bytes) for a malformed path. Free with jpath_free.
 */
int jpath_parse(const char *path, struct jpath_step **steps, char *err, size_t errlen);
void jpath_free(struct jpath_step *steps, int n);

/* Borrowed reference to the value at `path`, or NULL when absent. */
json_t *jpath_get(json_t *root, const char *path);

/*
 * Set the value at `path`, creating intermediate objects as needed; steals
 * `value`. An index may address an existing element or append (index ==
 * size). Returns 0, or -1 with a message in `err`.
 */
int jpath_set(json_t *root, const char *path, json_t *value, char *err, size_t errlen);
/* Remove the value at `path`. Returns 1 if removed, 0 if absent, -1 bad path. */
int jpath_unset(json_t *root, const char *path, char *err, size_t errlen);

/* "object", "array", "string", "integer", "number", "boolean", "null". */
const char *json_kind(const json_t *v);

/* Serialize into a fresh malloc'd string (aborts on OOM, unlike json_dumps). */
char *json_dump_str(const json_t *v, size_t flags);
/*
 * A bound on the size of `v` dumped compact (no ensure-ascii): every string
 * byte counted as a six-byte escape. A walk with no formatting, so a caller
 * can skip an exact json_dumpb when even the bound is below its limit.
 */
size_t json_dump_size_max(const json_t *v);

/* Deep-merge `src` into `dst` (objects recursively; everything else replaces). */
void json_merge_deep(json_t *dst, json_t *src);

#endif
