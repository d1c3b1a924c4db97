/*
 * json5.h - a strict JSON5 reader that yields jansson values.
 *
 * The config format of OpenClaw (and so of pincer) is JSON5; Debian has no
 * C library for it, so this is ours. It accepts the JSON5 grammar
 * (https://spec.json5.org): comments, trailing commas, unquoted (ECMAScript
 * identifier) and single-quoted keys, single-quoted strings, line
 * continuations, hex numbers, leading/trailing decimal points, explicit '+',
 * Infinity and NaN. Everything else is an error naming line and column and
 * what was expected there.
 *
 * Deliberate departures from the spec, all of them rejections with a clear
 * message, never a different value:
 *  - NaN and Infinity are read but reported as "NaN/Infinity is not
 *    representable in the config": jansson reals must be finite, and a config
 *    value that is not a finite number is a mistake anyway. So is a finite
 *    literal too big for a double ("number is out of range").
 *  - Escapes are the spec's: \' \" \\ \b \f \n \r \t \v \0 \xHH \uXXXX,
 *    line continuations, and identity escapes ("\q" is "q", as in OpenClaw's
 *    own reader, so every config it accepts loads here); \1-\9 are errors.
 *  - Raw control characters other than line breaks are allowed in strings,
 *    as the spec says.
 *  - A NUL character (raw, \0, \x00, \u0000) is rejected: jansson keys are
 *    C strings.
 *  - Unquoted keys: ASCII follows ECMAScript's IdentifierName exactly
 *    (including \uXXXX escapes); every non-ASCII character other than white
 *    space counts as a letter, a slight superset that saves Unicode tables.
 *
 * Positions: lines end at LF, CR or CRLF (U+2028/U+2029 separate tokens but
 * do not count as line ends, as in most editors); columns count bytes.
 *
 * Because jansson values carry no source position, the reader can also fill
 * a position map: for every value it parses, the JSON path of that value
 * (see jsonx.h, e.g. `agents.list[0].id`) and where its text starts. The
 * config validator uses it to point at the exact line of a bad key.
 */
#ifndef PINCER_CORE_JSON5_H
#define PINCER_CORE_JSON5_H

#include <jansson.h>
#include <stddef.h>

/* Nesting deeper than this is rejected, so hostile input cannot blow the stack. */
#define JSON5_MAX_DEPTH 128

struct json5_error {
	int line;       /* 1-based; 0 when not tied to a place */
	int col;        /* 1-based, counted in bytes */
	char text[200]; /* e.g. "expected ',' or '}' after object member" */
};

struct json5_pos {
	char *path;       /* owned; "" for the root value */
	const char *file; /* not owned: the `name` given to json5_parse */
	int line, col;    /* where the value's (or, for keys, the key's) text starts */
};

struct json5_posmap {
	struct json5_pos *v;
	size_t n, alloc;
};

/*
 * Parse `len` bytes of JSON5 text. `name` (may be NULL) is only stored in
 * position map entries, so it must outlive the map. `pm` may be NULL when
 * positions are not wanted; otherwise entries are appended to it.
 *
 * Returns a new reference, or NULL with `err` filled (`err` may be NULL).
 * On failure `pm` is left exactly as it was. Duplicate keys: the last one
 * wins, as in JSON5's reference implementation. Strings are UTF-8
 * validated; \u escapes and surrogate pairs are decoded; a NUL character
 * inside a string is rejected (jansson keys are C strings). Inputs over
 * INT_MAX bytes are refused ("input too large", line 0).
 *
 * Position map: one entry per value in document order, the root first with
 * path ""; an object member's entry is the position of its key. A duplicate
 * key adds entries again, and json5_posmap_find returns the later ones, so
 * every path that exists in the returned value finds the text it came
 * from. The map holds at most 1 MiB + 64 bytes per input byte of paths
 * (pathological inputs, like a huge key over a huge array, would be
 * quadratic); past that the parse fails.
 */
json_t *json5_parse(const char *text, size_t len, const char *name, struct json5_posmap *pm,
		    struct json5_error *err);

/* The entry for exactly `path` (the last one, if several), or NULL. Linear. */
const struct json5_pos *json5_posmap_find(const struct json5_posmap *pm, const char *path);
/*
 * Append every entry of `src` to `dst` with `prefix` prepended to its path:
 * "" + "a" = "a", "p" + "" = "p", "p" + "[0]" = "p[0]", "p" + "a" = "p.a".
 */
void json5_posmap_merge(struct json5_posmap *dst, const struct json5_posmap *src,
			const char *prefix);
void json5_posmap_release(struct json5_posmap *pm);

#endif
