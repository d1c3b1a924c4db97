/*
 * env.h - environment for the config: .env files and ${VAR} substitution.
 *
 * OpenClaw's rules, kept exactly so that configs move between the two:
 *  - .env files are read from the current directory, then the state dir;
 *    a variable already in the process environment is never overridden
 *    (the process env wins, then the first file that sets it).
 *  - `${VAR}` inside any string value of the config is replaced by the
 *    variable's value. Only names matching [A-Z_][A-Z0-9_]* are
 *    substituted; anything else (`${lower}`, `${}`) is left as written.
 *    A missing or empty variable is a load error naming the variable and
 *    the config key. `$${VAR}` is an escape for the literal text `${VAR}`.
 */
#ifndef PINCER_CONFIG_ENV_H
#define PINCER_CONFIG_ENV_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/json5.h"

/*
 * Parse .env text: `KEY=VALUE` lines, optional `export ` prefix, blank
 * lines and `#` comments, values unquoted (trailing ` #comment` dropped,
 * whitespace trimmed), 'single-quoted' (literal) or "double-quoted" (\n,
 * \t, \", \\ escapes; may span lines). Calls `cb` for each pair in order;
 * a non-zero return from `cb` stops parsing and is returned. A malformed
 * line gives -1 with "line N: <what>" in `err`.
 */
int env_parse_dotenv(const char *text, size_t len,
		     int (*cb)(const char *key, const char *value, void *arg), void *arg, char *err,
		     size_t errlen);

/*
 * Load a .env file into the process environment without overriding
 * existing variables. A missing file is not an error (returns 0).
 * Returns the number of variables set, or -1 with `err` filled (without
 * the path, which the caller prefixes: "line 3: ..." or strerror text).
 * A malformed file sets nothing. Within one file the last assignment of a
 * name wins, as with dotenv.
 */
int env_load_dotenv(const char *path, char *err, size_t errlen);

/*
 * Substitute ${VAR} in every string of `root` in place (object keys are not
 * touched). Each failure appends one line to `errs`:
 *   "<file>:<line>:<col>: <key path>: environment variable FOO is not set"
 * using `pm` for positions when it has the key's entry. Returns 0 when all
 * substitutions succeeded, -1 otherwise (the tree may be partly done).
 */
int env_substitute(json_t *root, const struct json5_posmap *pm, struct buf *errs);

/*
 * A substituted string may not grow past this many bytes: a small config
 * repeating "${BIG}" must not be able to make the loader allocate gigabytes.
 * Going past it is a failure like a missing variable.
 */
#define ENV_SUBST_MAX (16u * 1024 * 1024)

/*
 * Substitute in one string; new string in *out. Returns 0, or -1 with the
 * offending variable name copied to `missing` (at least 129 bytes); when the
 * result would pass ENV_SUBST_MAX, `missing` names the variable whose value
 * did not fit ("" if the literal text alone did not).
 */
int env_substitute_str(const char *in, char **out, char *missing, size_t missinglen);

#endif
