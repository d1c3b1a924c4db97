/*
 * config.c - loading the config file; see config.h.
 *
 * The pipeline: read and parse the JSON5 file (recording where every key
 * is), expand `$include`s depth-first (each included file's positions are
 * re-rooted at the key that included it), substitute ${VAR}s, check
 * SecretRef providers, and validate the result against the schema. Every
 * problem found is reported, not just the first, each with file:line:col.
 */
#include "config/config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "config/env.h"
#include "config/paths.h"
#include "config/schema.h"
#include "config/secrets.h"
#include "core/fs.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/mem.h"

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

void config_release(struct config *cfg)
{
	json_decref(cfg->root);
	free(cfg->path);
	free(cfg->text);
	json5_posmap_release(&cfg->pos);
	for (size_t i = 0; i < cfg->nfiles; i++)
		free(cfg->files[i]);
	free(cfg->files);
	config_init(cfg);
}

/* Keep a file name alive as long as cfg (posmap entries point at it). */
static const char *config_keep_name(struct config *cfg, const char *name)
{
	cfg->files = xgrow(cfg->files, &cfg->afiles, cfg->nfiles + 1, sizeof(*cfg->files));
	cfg->files[cfg->nfiles] = xstrdup(name);
	return cfg->files[cfg->nfiles++];
}

void config_sha256_hex(const void *data, size_t len, char out[CONFIG_HASH_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32)
		BUG("SHA-256 failed");
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * Fold one file into cfg->hash: hash = H(hash, name, H(content)). Chaining
 * keeps the state to one hex string while still covering every file, in
 * order, with its name.
 */
static void config_hash_file(struct config *cfg, const char *name, const char *text, size_t len)
{
	char content[CONFIG_HASH_HEX + 1];
	char *chain;

	config_sha256_hex(text, len, content);
	chain = xasprintf("%s\n%s\n%s", cfg->hash, name, content);
	config_sha256_hex(chain, strlen(chain), cfg->hash);
	free(chain);
}

/*
 * Read and parse one file. `pm` receives its positions (paths relative to
 * the file's own root). Returns a new reference or NULL with `errs`;
 * *missing is set (and NULL returned, with no error) when the file does
 * not exist and `missing` is non-NULL. With a `cfg`, the file joins its
 * hash, and the first file read (the main one) is kept as cfg->text.
 */
static json_t *config_parse_file(struct config *cfg, const char *path, struct json5_posmap *pm,
				 struct buf *errs, bool *missing)
{
	struct buf text;
	struct json5_error jerr;
	const char *name = cfg ? config_keep_name(cfg, path) : path;
	json_t *v = NULL;

	buf_init(&text, CONFIG_MAX_FILE_BYTES);
	if (fs_read_file(path, &text) < 0) {
		if (errno == ENOENT && missing)
			*missing = true;
		else if (errno == E2BIG)
			buf_printf(errs, "%s: file is larger than %u bytes\n", path,
				   CONFIG_MAX_FILE_BYTES);
		else
			buf_printf(errs, "%s: cannot read: %s\n", path, strerror(errno));
		goto out;
	}
	if (cfg) {
		config_hash_file(cfg, path, text.p, text.len);
		if (cfg->nfiles == 1) {
			cfg->text = xmalloc(text.len + 1);
			memcpy(cfg->text, text.p, text.len);
			cfg->text[text.len] = '\0';
			cfg->text_len = text.len;
		}
	}
	v = json5_parse(text.p, text.len, name, pm, &jerr);
	if (!v)
		buf_printf(errs, "%s:%d:%d: %s\n", path, jerr.line, jerr.col, jerr.text);
out:
	buf_release(&text);
	return v;
}

/* ==== $include ==== */

struct config_incl {
	struct config *cfg;
	struct buf *errs;
	char *stack[CONFIG_MAX_INCLUDE_DEPTH + 1]; /* realpaths of the files being expanded */
	int depth;
	int nerr;
};

static int config_expand_value(struct config_incl *ic, json_t **slot, const char *file,
			       struct json5_posmap *pm_out, const struct json5_posmap *pm_own,
			       struct buf *path);

static void config_incl_error(struct config_incl *ic, const struct json5_posmap *pm,
			      const char *path, const char *fmt, ...) PRINTF_LIKE(4, 5);

static void config_incl_error(struct config_incl *ic, const struct json5_posmap *pm,
			      const char *path, const char *fmt, ...)
{
	const struct json5_pos *pos = json5_posmap_find(pm, path);
	va_list ap;

	if (pos)
		buf_printf(ic->errs, "%s:%d:%d: ", pos->file ? pos->file : "?", pos->line,
			   pos->col);
	buf_printf(ic->errs, "%s: ", *path ? path : "<root>");
	va_start(ap, fmt);
	buf_vprintf(ic->errs, fmt, ap);
	va_end(ap);
	buf_putc(ic->errs, '\n');
	ic->nerr++;
}

/*
 * Load one included file, expand its own includes, and return its value.
 * Its positions (re-rooted at `at`) are appended to `pm_out`.
 */
static json_t *config_include_one(struct config_incl *ic, const char *from_file, const char *rel,
				  const struct json5_posmap *pm_from, const char *key_path,
				  const char *at_path, struct json5_posmap *pm_out)
{
	/* "./x" and "x" name the same file; report it without the "./". */
	const char *clean = rel[0] == '.' && rel[1] == '/' ? rel + 2 : rel;
	char *full = fs_resolve_relative(from_file, clean);
	char real[PATH_MAX];
	struct json5_posmap own = { 0 }, sub = { 0 };
	json_t *v = NULL;
	struct buf root;

	if (!realpath(full, real)) {
		config_incl_error(ic, pm_from, key_path, "cannot include \"%s\": %s", rel,
				  strerror(errno));
		goto out;
	}
	for (int i = 0; i < ic->depth; i++) {
		if (!strcmp(ic->stack[i], real)) {
			config_incl_error(ic, pm_from, key_path,
					  "include cycle: \"%s\" is already being included", real);
			goto out;
		}
	}
	if (ic->depth >= CONFIG_MAX_INCLUDE_DEPTH) {
		config_incl_error(ic, pm_from, key_path, "includes nested deeper than %d",
				  CONFIG_MAX_INCLUDE_DEPTH);
		goto out;
	}
	v = config_parse_file(ic->cfg, full, &own, ic->errs, NULL);
	if (!v) {
		ic->nerr++;
		goto out;
	}
	ic->stack[ic->depth++] = xstrdup(real);
	buf_init(&root, 64 * 1024);
	config_expand_value(ic, &v, full, &sub, &own, &root);
	buf_release(&root);
	free(ic->stack[--ic->depth]);
	/* The included file's nested includes first, then its own keys: later entries win. */
	json5_posmap_merge(pm_out, &sub, at_path);
	json5_posmap_merge(pm_out, &own, at_path);
out:
	json5_posmap_release(&own);
	json5_posmap_release(&sub);
	free(full);
	return v;
}

/*
 * Expand every `$include` inside *slot (a value from `file`, whose own
 * positions are in `pm_own`), in place. Positions of included content are
 * appended to `pm_out`, rooted at the file's root. *slot is an owned
 * reference; it is replaced (old one released) when it was a bare
 * {"$include": ...} of a non-object, such as a list kept in its own file.
 */
static int config_expand_value(struct config_incl *ic, json_t **slot, const char *file,
			       struct json5_posmap *pm_out, const struct json5_posmap *pm_own,
			       struct buf *path)
{
	json_t *node = *slot, *inc;
	size_t mark = path->len;

	if (json_is_array(node)) {
		size_t i;
		json_t *el;

		json_array_foreach(node, i, el)
		{
			json_t *cur = json_incref(el);

			jpath_push_index(path, i);
			config_expand_value(ic, &cur, file, pm_out, pm_own, path);
			json_array_set(node, i, cur);
			json_decref(cur);
			buf_truncate(path, mark);
		}
		return 0;
	}
	if (!json_is_object(node))
		return 0;

	/* Children first, so an included object is merged with expanded siblings. */
	{
		const char *key;
		json_t *child;
		void *tmp;

		json_object_foreach_safe(node, tmp, key, child)
		{
			json_t *cur;

			if (!strcmp(key, "$include"))
				continue;
			cur = json_incref(child);
			jpath_push_key(path, key);
			config_expand_value(ic, &cur, file, pm_out, pm_own, path);
			json_object_set(node, key, cur);
			json_decref(cur);
			buf_truncate(path, mark);
		}
	}

	inc = json_object_get(node, "$include");
	if (!inc)
		return 0;
	json_incref(inc);
	json_object_del(node, "$include");
	{
		char incpath[4096];
		json_t *merged = NULL;
		size_t n = json_is_array(inc) ? json_array_size(inc) : 1;
		bool only = json_object_size(node) == 0;

		snprintf(incpath, sizeof(incpath), "%s%s$include", path->p, path->len ? "." : "");
		if (!json_is_string(inc) && !json_is_array(inc)) {
			config_incl_error(ic, pm_own, incpath,
					  "$include must be a path or a list of paths, got %s",
					  json_kind(inc));
			goto done;
		}
		for (size_t i = 0; i < n; i++) {
			json_t *item = json_is_array(inc) ? json_array_get(inc, i) : inc;
			json_t *v;

			if (!json_is_string(item)) {
				config_incl_error(ic, pm_own, incpath,
						  "$include entries must be strings, got %s",
						  json_kind(item));
				continue;
			}
			v = config_include_one(ic, file, json_string_value(item), pm_own, incpath,
					       path->p, pm_out);
			if (!v)
				continue;
			if (json_is_object(v) && (!merged || json_is_object(merged))) {
				if (!merged)
					merged = json_object();
				json_merge_deep(merged, v);
			} else if (only && n == 1) {
				merged = json_incref(v);
			} else {
				config_incl_error(ic, pm_own, incpath,
						  "\"%s\" holds %s, but only objects can be merged "
						  "with other keys",
						  json_string_value(item), json_kind(v));
			}
			json_decref(v);
		}
		if (merged && json_is_object(merged)) {
			/* The including object's own keys override what it included. */
			json_merge_deep(merged, node);
			json_object_clear(node);
			json_object_update(node, merged);
		} else if (merged) {
			json_decref(*slot);
			*slot = json_incref(merged);
		}
		json_decref(merged);
	}
done:
	json_decref(inc);
	return 0;
}

/* ==== load ==== */

/* Cross-field checks the per-key schema cannot express. */
static void config_check_providers(const json_t *root, const struct json5_posmap *pm,
				   struct buf *errs, int *nerr)
{
	json_t *providers = jpath_get((json_t *)root, "secrets.providers");
	const char *alias;
	json_t *p;

	json_object_foreach(providers, alias, p)
	{
		char err[256];
		struct buf path;
		const struct json5_pos *pos;

		if (!json_is_object(p) || secret_provider_check(p, err, sizeof(err)) == 0)
			continue;
		buf_init(&path, 4096);
		buf_puts(&path, "secrets.providers");
		jpath_push_key(&path, alias);
		pos = json5_posmap_find(pm, path.p);
		if (pos)
			buf_printf(errs, "%s:%d:%d: ", pos->file ? pos->file : "?", pos->line,
				   pos->col);
		buf_printf(errs, "%s: %s\n", path.p, err);
		buf_release(&path);
		(*nerr)++;
	}
}

/* `env.vars` become process environment, as .env files do: never overriding. */
static void config_export_vars(const json_t *root)
{
	json_t *vars = jpath_get((json_t *)root, "env.vars");
	const char *k;
	json_t *v;

	json_object_foreach(vars, k, v) if (json_is_string(v) && *k && !strchr(k, '='))
		setenv(k, json_string_value(v), 0);
}

int config_load(struct config *cfg, const char *path, struct buf *errs)
{
	struct config_incl ic = { .cfg = cfg, .errs = errs };
	struct json5_posmap own = { 0 }, sub = { 0 };
	bool missing = false;
	char real[PATH_MAX];
	struct buf root;
	json_t *v;
	int nerr = 0;

	cfg->path = xstrdup(path);
	v = config_parse_file(cfg, path, &own, errs, &missing);
	if (!v && missing) {
		cfg->exists = false;
		cfg->root = json_object();
		config_sha256_hex("missing", 7, cfg->hash);
		return 0;
	}
	if (!v) {
		json5_posmap_release(&own);
		return -1;
	}
	cfg->exists = true;
	if (!json_is_object(v)) {
		buf_printf(errs, "%s:1:1: the config must be an object, got %s\n", path,
			   json_kind(v));
		goto fail;
	}
	ic.stack[ic.depth++] = xstrdup(realpath(path, real) ? real : path);
	buf_init(&root, 64 * 1024);
	config_expand_value(&ic, &v, path, &sub, &own, &root);
	buf_release(&root);
	free(ic.stack[--ic.depth]);
	json5_posmap_merge(&cfg->pos, &sub, "");
	json5_posmap_merge(&cfg->pos, &own, "");
	nerr += ic.nerr;
	if (!json_is_object(v)) {
		/* A bare {"$include": ...} at the root brought in something else. */
		buf_printf(errs, "%s:1:1: the config must be an object, got %s\n", path,
			   json_kind(v));
		goto fail;
	}

	config_export_vars(v);
	if (env_substitute(v, &cfg->pos, errs) < 0)
		nerr++;
	nerr += schema_validate(v, &cfg->pos, errs);
	config_check_providers(v, &cfg->pos, errs, &nerr);
	if (nerr)
		goto fail;
	json5_posmap_release(&own);
	json5_posmap_release(&sub);
	cfg->root = v;
	return 0;
fail:
	json5_posmap_release(&own);
	json5_posmap_release(&sub);
	json_decref(v);
	return -1;
}

int config_open(struct config *cfg, const struct paths *paths, struct buf *errs)
{
	char err[256];
	char *state_env = fs_join(paths->state_dir, ".env");
	const char *files[] = { ".env", state_env };
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		if (env_load_dotenv(files[i], err, sizeof(err)) < 0) {
			buf_printf(errs, "%s: %s\n", files[i], err);
			r = -1;
		}
	}
	free(state_env);
	if (r < 0)
		return -1;
	return config_load(cfg, paths->config_path, errs);
}

/*
 * Set the candidate's env.vars that the environment lacks, as loading it
 * would, and remember them so that the check leaves no trace.
 */
static char **config_borrow_vars(const json_t *root, size_t *n)
{
	json_t *vars = jpath_get((json_t *)root, "env.vars"), *v;
	char **set = xcalloc(json_object_size(vars) + 1, sizeof(*set));
	const char *k;

	*n = 0;
	json_object_foreach(vars, k, v)
	{
		if (!json_is_string(v) || !*k || strchr(k, '=') || getenv(k))
			continue;
		setenv(k, json_string_value(v), 0);
		set[(*n)++] = xstrdup(k);
	}
	return set;
}

static void config_return_vars(char **set, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsetenv(set[i]);
		free(set[i]);
	}
	free(set);
}

int config_check_candidate(const char *path, const json_t *raw, const struct json5_posmap *pm,
			   bool substitute, struct buf *errs)
{
	struct config tmp;
	struct config_incl ic = { .cfg = &tmp, .errs = errs };
	struct json5_posmap sub = { 0 }, all = { 0 }, none = { 0 };
	json_t *v = json_deep_copy(raw);
	char real[PATH_MAX];
	struct buf root;
	int nerr;

	if (!pm)
		pm = &none;
	config_init(&tmp);
	ic.stack[ic.depth++] = xstrdup(realpath(path, real) ? real : path);
	buf_init(&root, 64 * 1024);
	config_expand_value(&ic, &v, path, &sub, pm, &root);
	buf_release(&root);
	free(ic.stack[--ic.depth]);
	/* Included files' positions first, then the tree's own: later entries win. */
	json5_posmap_merge(&all, &sub, "");
	json5_posmap_merge(&all, pm, "");
	nerr = ic.nerr;
	if (substitute && json_is_object(v)) {
		size_t nvars;
		char **vars = config_borrow_vars(v, &nvars);

		if (env_substitute(v, &all, errs) < 0)
			nerr++;
		config_return_vars(vars, nvars);
	}
	nerr += schema_validate(v, &all, errs);
	config_check_providers(v, &all, errs, &nerr);
	json5_posmap_release(&sub);
	json5_posmap_release(&all);
	json_decref(v);
	config_release(&tmp);
	return nerr;
}

int config_check_tree(const char *path, const json_t *raw, struct buf *errs)
{
	return config_check_candidate(path, raw, NULL, false, errs);
}

json_t *config_read_raw(const char *path, struct buf *errs)
{
	bool missing = false;
	json_t *v = config_parse_file(NULL, path, NULL, errs, &missing);

	if (!v && missing)
		return json_object();
	if (v && !json_is_object(v)) {
		buf_printf(errs, "%s:1:1: the config must be an object, got %s\n", path,
			   json_kind(v));
		json_decref(v);
		return NULL;
	}
	return v;
}

int config_write_file(const struct paths *paths, const json_t *tree, char *err, size_t errlen)
{
	const char *path = paths->config_path;
	char *dir = fs_dirname(path), *text = NULL, *out = NULL;
	int r = -1, saved;

	/* The state dir is private (0700); a config elsewhere gets its dir made 0700 too. */
	if (!strcmp(dir, paths->state_dir) ? paths_ensure_state_dir(paths) < 0
					   : fs_mkdir_p(dir, 0700) < 0) {
		saved = errno;
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(saved));
		errno = saved;
		goto out;
	}
	text = json_dump_str(tree, JSON_INDENT(2));
	out = xasprintf("%s\n", text);
	if (fs_write_atomic(path, out, strlen(out), 0600) < 0) {
		saved = errno;
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(saved));
		errno = saved;
		goto out;
	}
	r = 0;
out:
	free(out);
	free(text);
	free(dir);
	return r;
}

/* ==== getters ==== */

json_t *config_get(const struct config *cfg, const char *path)
{
	json_t *v = cfg->root ? jpath_get(cfg->root, path) : NULL;

	return v ? v : schema_default(path);
}

const char *config_get_str(const struct config *cfg, const char *path)
{
	return json_string_value(config_get(cfg, path));
}

long long config_get_int(const struct config *cfg, const char *path)
{
	json_t *v = config_get(cfg, path);

	return json_is_integer(v) ? (long long)json_integer_value(v)
				  : (long long)json_number_value(v);
}

double config_get_num(const struct config *cfg, const char *path)
{
	return json_number_value(config_get(cfg, path));
}

bool config_get_bool(const struct config *cfg, const char *path)
{
	return json_is_true(config_get(cfg, path));
}

int config_get_secret(const struct config *cfg, const char *path, char **out, char *err,
		      size_t errlen)
{
	json_t *v = config_get(cfg, path);

	*out = NULL;
	if (!v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v)))
		return 0;
	if (secret_resolve(cfg->root, v, out, err, errlen) < 0)
		return -1;
	/* From here on the value can never reach a log line. */
	log_add_secret(*out);
	return 1;
}

const char *config_where(const struct config *cfg, const char *path)
{
	static char out[PATH_MAX + 32];
	const struct json5_pos *pos = json5_posmap_find(&cfg->pos, path);

	if (!pos)
		return NULL;
	snprintf(out, sizeof(out), "%s:%d:%d", pos->file ? pos->file : "?", pos->line, pos->col);
	return out;
}
