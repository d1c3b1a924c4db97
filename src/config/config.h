/*
 * config.h - loading the config file and reading values from it.
 *
 * config_load reads the JSON5 file, expands `$include`s, exports
 * `env.vars` (never overriding the process environment), substitutes
 * ${VAR}s and validates the result against the schema. A missing file is
 * not an error: every key then has its schema default, which is a safe
 * configuration (loopback bind, token auth, pairing on).
 *
 * Readers use the typed getters with a concrete path; they return the
 * configured value, else the schema default:
 *
 *	int port = (int)config_get_int(cfg, "gateway.port");
 */
#ifndef PINCER_CONFIG_CONFIG_H
#define PINCER_CONFIG_CONFIG_H

#include <jansson.h>
#include <stdbool.h>

#include "core/buf.h"
#include "core/json5.h"

/* $include nesting deeper than this is an error (it is almost surely a loop). */
#define CONFIG_MAX_INCLUDE_DEPTH 10
/* A config file larger than this is refused. */
#define CONFIG_MAX_FILE_BYTES    (4u << 20)

/* Length of a content hash in hex, without the NUL. */
#define CONFIG_HASH_HEX 64

struct config {
	json_t *root;            /* effective config; {} when the file is missing */
	char *path;              /* the main config file */
	bool exists;             /* whether that file was found */
	struct json5_posmap pos; /* key path -> file:line:col, across includes */
	char **files;            /* every file read, owned (pos entries point here) */
	size_t nfiles, afiles;
	char *text; /* the main file's text as read; NULL when missing or unreadable */
	size_t text_len;
	/*
	 * SHA-256 (hex) over every file read, main file first, then includes in
	 * the order they were read; of "missing" when there is no file. Set even
	 * when the load fails, so it identifies exactly what is on disk.
	 */
	char hash[CONFIG_HASH_HEX + 1];
};

/* hex(SHA-256(data)), the form of struct config's `hash`. */
void config_sha256_hex(const void *data, size_t len, char out[CONFIG_HASH_HEX + 1]);

void config_init(struct config *cfg);
void config_release(struct config *cfg);

/*
 * Load `path` into `cfg` (which must be freshly initialized). Returns 0, or
 * -1 with one line per problem appended to `errs`, each naming file, line,
 * column and key where they are known. On failure cfg->root is NULL.
 */
int config_load(struct config *cfg, const char *path, struct buf *errs);

/*
 * What every command does to get its config: load the .env files (./.env,
 * then <state dir>/.env; the process environment wins over both), then
 * config_load the config path. Same contract as config_load.
 */
struct paths;
int config_open(struct config *cfg, const struct paths *paths, struct buf *errs);

/*
 * Read the file as written, without includes, substitution or validation:
 * what `config set` edits. Returns a new reference, or NULL with `errs`.
 * A missing file gives an empty object.
 */
json_t *config_read_raw(const char *path, struct buf *errs);

/*
 * Check a config tree as `config set` is about to write it to `path`:
 * $includes expanded (relative to `path`) and the schema applied, but
 * ${VAR}s left alone, since the gateway's environment may differ from
 * this shell's. Returns the number of problems, each a line in `errs`.
 */
int config_check_tree(const char *path, const json_t *raw, struct buf *errs);

/*
 * config_check_tree, and more: problems inside `raw` get the positions in
 * `pm` (the tree's own position map, say from parsing text a client sent;
 * NULL for none), and with `substitute` the ${VAR}s are checked against
 * this process's environment plus the tree's own env.vars, as a gateway
 * loading the file would check them. Nothing is exported.
 */
int config_check_candidate(const char *path, const json_t *raw, const struct json5_posmap *pm,
			   bool substitute, struct buf *errs);

/*
 * Write `tree` as the config file paths->config_path: pretty-printed JSON,
 * replaced atomically with mode 0600, its directory created 0700 first.
 * It does not validate: callers run config_check_tree first. Returns 0, or
 * -1 with errno and a one-line reason in `err`.
 */
int config_write_file(const struct paths *paths, const json_t *tree, char *err, size_t errlen);

/* The value at `path`, else its schema default, else NULL. Borrowed. */
json_t *config_get(const struct config *cfg, const char *path);
/* Typed forms; they return `dflt`-like zero values when absent or of another type. */
const char *config_get_str(const struct config *cfg, const char *path);
long long config_get_int(const struct config *cfg, const char *path);
double config_get_num(const struct config *cfg, const char *path);
bool config_get_bool(const struct config *cfg, const char *path);

/*
 * Resolve the credential at `path` (a string or a SecretRef). Returns 1 with
 * a new string in *out, 0 when the key is unset, -1 with `err` on failure.
 */
int config_get_secret(const struct config *cfg, const char *path, char **out, char *err,
		      size_t errlen);

/* "file:line:col" for a key path, or NULL when unknown. Static buffer. */
const char *config_where(const struct config *cfg, const char *path);

#endif
