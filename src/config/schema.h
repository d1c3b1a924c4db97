/*
 * schema.h - the declarative config schema.
 *
 * One table row per config key: its path, the JSON kinds it accepts, its
 * default, bounds, allowed values, reload kind and a one-line doc. The
 * loader validates against it, `pincer config get|set|schema` read it, and
 * later the gateway's config.schema method and `doctor` will too; the docs
 * page docs/config.md is generated from it. Keys and meanings are
 * OpenClaw's, so an OpenClaw config validates here.
 *
 * Paths are patterns: `agents.list[]` is any element of the array
 * agents.list, `models.providers.*` is any member of the map
 * models.providers. A row of kind CT_MAP says its members are checked by
 * the `<path>.*` row; CT_ARRAY says elements are checked by `<path>[]`;
 * CT_OBJECT says its members must each have a row of their own (unknown
 * keys are errors).
 */
#ifndef PINCER_CONFIG_SCHEMA_H
#define PINCER_CONFIG_SCHEMA_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/json5.h"

/* The JSON kinds a key accepts; a bitmask, since OpenClaw has unions. */
enum cfg_type {
	CT_OBJECT = 1 << 0, /* fixed members, each with its own row */
	CT_MAP = 1 << 1,    /* free-form keys, values checked by "<path>.*" */
	CT_ARRAY = 1 << 2,  /* elements checked by "<path>[]" */
	CT_STRING = 1 << 3,
	CT_INT = 1 << 4,
	CT_NUMBER = 1 << 5, /* any number; CT_INT is implied */
	CT_BOOL = 1 << 6,
	CT_NULL = 1 << 7,
	CT_SECRET = 1 << 8, /* a string or a SecretRef object */
	CT_ANY = 1 << 9,    /* anything: the subtree is not checked */
};

enum cfg_reload {
	RELOAD_HOT,     /* applied to the running gateway */
	RELOAD_RESTART, /* takes effect after a gateway restart */
	RELOAD_NONE,    /* read only at start of a command, not by the gateway */
};

struct cfg_field {
	const char *path;       /* pattern, see above */
	unsigned type;          /* enum cfg_type bits */
	const char *def;        /* default as JSON text, or NULL for none */
	double min, max;        /* numeric bounds, used when min < max */
	const char *enums;      /* allowed strings "a|b|c", or NULL */
	enum cfg_reload reload; /* how a change takes effect */
	const char *doc;        /* one line, no trailing period */
};

/* The whole table, in document order. */
const struct cfg_field *schema_fields(size_t *n);

/* The row for a pattern ("agents.list[].id"), or NULL. */
const struct cfg_field *schema_find(const char *pattern);

/*
 * The row that governs a concrete path ("agents.list[2].id",
 * "models.providers.openai.baseUrl"), or NULL for an unknown key.
 */
const struct cfg_field *schema_lookup(const char *path);

/*
 * For an unknown concrete path, the known path it most likely meant
 * ("gateway.bnd" -> "gateway.bind"), as a new string, or NULL.
 */
char *schema_suggest(const char *path);

/*
 * The default value for a concrete path, or NULL. Borrowed: the table owns
 * it for the life of the process.
 */
json_t *schema_default(const char *path);

/* "hot" | "restart" | "none". */
const char *schema_reload_name(enum cfg_reload r);
/* A short human form of a type mask: "string | object". Static buffer. */
const char *schema_type_name(unsigned type);

/*
 * Validate a whole config. Each problem is appended to `errs` as one line
 *   "<file>:<line>:<col>: <path>: <problem>"
 * (the position part is left out when `pm` has no entry for the path).
 * Returns the number of problems (0 = valid).
 */
int schema_validate(const json_t *root, const struct json5_posmap *pm, struct buf *errs);

/*
 * Check one value against the row for `path` and everything below it, as
 * `config set` does before writing. Same error format; returns problems.
 */
int schema_validate_at(const char *path, const json_t *value, struct buf *errs);

/* The schema as a JSON Schema (draft 2020-12) document. New reference. */
json_t *schema_to_json_schema(void);

/* Free the cached defaults (for leak checkers at exit). */
void schema_release(void);

#endif
