/*
 * patch.c - merge patches over config trees, and what a change touches;
 * see patch.h. The rules follow OpenClaw's src/config/merge-patch.ts and
 * the destructive-array guard of its config.patch handler.
 */
#include "config/patch.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jsonx.h"
#include "core/mem.h"

/* Paths are bounded by the config's own nesting (JSON5_MAX_DEPTH keys). */
#define PATCH_PATH_MAX (64u * 1024)

/* ==== replace paths ==== */

json_t *config_patch_replace_set(const json_t *paths)
{
	json_t *set = json_object(), *v;
	size_t i;

	json_array_foreach(paths, i, v)
	{
		const char *s = json_string_value(v);
		struct buf out;
		size_t len;

		if (!s)
			continue;
		while (isspace((unsigned char)*s))
			s++;
		len = strlen(s);
		while (len && isspace((unsigned char)s[len - 1]))
			len--;
		/* "a.list[]" names the array itself. */
		if (len >= 2 && s[len - 2] == '[' && s[len - 1] == ']')
			len -= 2;
		buf_init(&out, PATCH_PATH_MAX);
		for (size_t k = 0; k < len; k++) {
			/* "[0]." inside the path is any entry: "[].". */
			if (s[k] == '[' && k + 1 < len && isdigit((unsigned char)s[k + 1])) {
				size_t e = k + 1;

				while (e < len && isdigit((unsigned char)s[e]))
					e++;
				if (e + 1 < len && s[e] == ']' && s[e + 1] == '.') {
					buf_puts(&out, "[]");
					k = e;
					continue;
				}
			}
			buf_putc(&out, s[k]);
		}
		if (out.len)
			json_object_set_new(set, out.p, json_true());
		buf_release(&out);
	}
	return set;
}

static bool patch_replaces(const json_t *replace, const struct buf *path)
{
	return replace && json_object_get(replace, path->p);
}

/* ==== merge ==== */

static bool patch_is_id_entry(const json_t *v)
{
	const char *id = json_string_value(json_object_get(v, "id"));

	return json_is_object(v) && id && *id;
}

static bool patch_is_id_array(const json_t *a)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) if (!patch_is_id_entry(v)) return false;
	return true;
}

static json_t *patch_apply(json_t *base, const json_t *patch, struct buf *path,
			   const json_t *replace);

/*
 * Merge the patch array into `base` (owned, changed in place) by id.
 * Returns false, leaving base alone, when base is not id-keyed: then the
 * patch's array simply replaces it.
 */
static bool patch_merge_by_id(json_t *base, const json_t *patch, struct buf *path,
			      const json_t *replace)
{
	json_t *index, *entry;
	size_t i, mark = path->len;

	if (!patch_is_id_array(base))
		return false;
	index = json_object();
	json_array_foreach(base, i, entry)
	{
		json_object_set_new(index, json_string_value(json_object_get(entry, "id")),
				    json_integer((json_int_t)i));
	}
	buf_puts(path, "[]");
	json_array_foreach(patch, i, entry)
	{
		const char *id = patch_is_id_entry(entry)
					 ? json_string_value(json_object_get(entry, "id"))
					 : NULL;
		json_t *at = id ? json_object_get(index, id) : NULL;

		if (!at) {
			if (id)
				json_object_set_new(
					index, id, json_integer((json_int_t)json_array_size(base)));
			json_array_append_new(base, json_deep_copy(entry));
			continue;
		}
		{
			size_t k = (size_t)json_integer_value(at);
			json_t *cur = json_incref(json_array_get(base, k));

			json_array_set_new(base, k, patch_apply(cur, entry, path, replace));
		}
	}
	buf_truncate(path, mark);
	json_decref(index);
	return true;
}

/* Apply `patch` to `base` (owned; may be NULL; changed in place). Returns the result, owned. */
static json_t *patch_apply(json_t *base, const json_t *patch, struct buf *path,
			   const json_t *replace)
{
	const char *key;
	json_t *value;

	if (!json_is_object(patch)) {
		json_decref(base);
		return json_deep_copy(patch);
	}
	if (!json_is_object(base)) {
		json_decref(base);
		base = json_object();
	}
	json_object_foreach((json_t *)patch, key, value)
	{
		size_t mark = path->len;
		json_t *cur = json_object_get(base, key);

		jpath_push_key(path, key);
		if (json_is_null(value)) {
			json_object_del(base, key);
		} else if (json_is_array(cur) && json_is_array(value) &&
			   !patch_replaces(replace, path) &&
			   patch_merge_by_id(cur, value, path, replace)) {
			/* merged in place */
		} else if (json_is_object(value)) {
			json_object_set_new(base, key,
					    patch_apply(json_incref(cur), value, path, replace));
		} else {
			json_object_set_new(base, key, json_deep_copy(value));
		}
		buf_truncate(path, mark);
	}
	return base;
}

json_t *config_merge_patch(const json_t *base, const json_t *patch, const json_t *replace)
{
	struct buf path;
	json_t *out;

	buf_init(&path, PATCH_PATH_MAX);
	out = patch_apply(base ? json_deep_copy(base) : NULL, patch, &path, replace);
	buf_release(&path);
	return out;
}

/* ==== destructive arrays ==== */

static void patch_push(json_t *out, const struct buf *path)
{
	json_array_append_new(out, json_string(path->p));
}

/* Every array path inside `base`, which the patch is about to drop whole. */
static void patch_base_arrays(const json_t *base, struct buf *path, json_t *out)
{
	const char *key;
	json_t *v;

	if (json_is_array(base)) {
		patch_push(out, path);
		return;
	}
	json_object_foreach((json_t *)base, key, v)
	{
		size_t mark = path->len;

		jpath_push_key(path, key);
		patch_base_arrays(v, path, out);
		buf_truncate(path, mark);
	}
}

/* Does `merged` still hold every id of `base`? */
static bool patch_keeps_ids(const json_t *base, const json_t *merged)
{
	size_t i, k;
	json_t *b, *m;

	json_array_foreach(base, i, b)
	{
		const char *id = json_string_value(json_object_get(b, "id"));
		bool found = false;

		json_array_foreach(merged, k, m)
		{
			if (patch_is_id_entry(m) &&
			    !strcmp(json_string_value(json_object_get(m, "id")), id)) {
				found = true;
				break;
			}
		}
		if (!found)
			return false;
	}
	return true;
}

/* Is every entry of `base` in `merged` (as a multiset, by value)? */
static bool patch_keeps_entries(const json_t *base, const json_t *merged)
{
	size_t n = json_array_size(merged), i, k;
	bool *used = xcalloc(n ? n : 1, sizeof(*used)), ok = true;
	json_t *b;

	json_array_foreach(base, i, b)
	{
		for (k = 0; k < n; k++)
			if (!used[k] && json_equal(b, json_array_get(merged, k)))
				break;
		if (k == n) {
			ok = false;
			break;
		}
		used[k] = true;
	}
	free(used);
	return ok;
}

static json_t *patch_find_id(const json_t *arr, const char *id)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		if (patch_is_id_entry(v) &&
		    !strcmp(json_string_value(json_object_get(v, "id")), id))
			return v;
	}
	return NULL;
}

static void patch_destructive(const json_t *base, const json_t *patch, const json_t *merged,
			      struct buf *path, json_t *out)
{
	const char *key;
	json_t *pv;

	if (!json_is_object(patch) || !json_is_object(base))
		return;
	json_object_foreach((json_t *)patch, key, pv)
	{
		size_t mark = path->len;
		json_t *bv = json_object_get(base, key);
		json_t *mv = json_is_object(merged) ? json_object_get(merged, key) : NULL;

		jpath_push_key(path, key);
		if (json_is_array(bv)) {
			if (!json_is_array(pv)) {
				patch_push(out, path);
			} else if (json_is_array(mv)) {
				if (patch_is_id_array(bv)) {
					if (!patch_keeps_ids(bv, mv)) {
						patch_push(out, path);
					} else {
						/* The entries this patch merges into: look inside them. */
						size_t i, emark = path->len;
						json_t *pe;

						buf_puts(path, "[]");
						json_array_foreach(pv, i, pe)
						{
							const char *id;

							if (!patch_is_id_entry(pe))
								continue;
							id = json_string_value(
								json_object_get(pe, "id"));
							patch_destructive(patch_find_id(bv, id), pe,
									  patch_find_id(mv, id),
									  path, out);
						}
						buf_truncate(path, emark);
					}
				} else if (!patch_keeps_entries(bv, mv)) {
					patch_push(out, path);
				}
			}
		} else if (json_is_object(bv) && !json_is_object(pv)) {
			patch_base_arrays(bv, path, out);
		} else if (json_is_object(pv)) {
			patch_destructive(bv, pv, mv, path, out);
		}
		buf_truncate(path, mark);
	}
}

void config_patch_destructive(const json_t *base, const json_t *patch, const json_t *merged,
			      const json_t *replace, json_t *out)
{
	json_t *all = json_array(), *v;
	struct buf path;
	size_t i;

	buf_init(&path, PATCH_PATH_MAX);
	patch_destructive(base, patch, merged, &path, all);
	buf_release(&path);
	json_array_foreach(all, i, v)
	{
		if (!replace || !json_object_get(replace, json_string_value(v)))
			json_array_append(out, v);
	}
	json_decref(all);
}

/* ==== diff ==== */

static void patch_diff(const json_t *a, const json_t *b, bool leaves, struct buf *path, json_t *out)
{
	bool ao = json_is_object(a), bo = json_is_object(b);
	size_t before = json_array_size(out);
	const char *key;
	json_t *v;

	if (!(ao && bo) && !(leaves && ((ao && !b) || (bo && !a)))) {
		if (!(a && b && json_equal(a, b)) && (a || b))
			patch_push(out, path);
		return;
	}
	json_object_foreach((json_t *)a, key, v)
	{
		size_t mark = path->len;

		jpath_push_key(path, key);
		patch_diff(v, json_object_get(b, key), leaves, path, out);
		buf_truncate(path, mark);
	}
	json_object_foreach((json_t *)b, key, v)
	{
		size_t mark = path->len;

		if (json_object_get(a, key))
			continue;
		jpath_push_key(path, key);
		patch_diff(NULL, v, leaves, path, out);
		buf_truncate(path, mark);
	}
	/* An empty object appearing or going away is still a change. */
	if (json_array_size(out) == before && (!a || !b))
		patch_push(out, path);
}

void config_diff_paths(const json_t *a, const json_t *b, bool leaves, json_t *out)
{
	struct buf path;

	buf_init(&path, PATCH_PATH_MAX);
	patch_diff(a, b, leaves, &path, out);
	buf_release(&path);
}

/* ==== reload kinds ==== */

enum cfg_reload config_path_reload(const char *path)
{
	struct jpath_step *steps;
	char err[256];
	int n = jpath_parse(path, &steps, err, sizeof(err));
	enum cfg_reload kind = RELOAD_NONE;

	if (n < 0)
		return RELOAD_NONE;
	/* The nearest ancestor the schema knows (the path itself first). */
	for (int len = n; len > 0; len--) {
		const struct cfg_field *row;
		struct buf prefix;

		buf_init(&prefix, PATCH_PATH_MAX);
		for (int i = 0; i < len; i++) {
			if (steps[i].key)
				jpath_push_key(&prefix, steps[i].key);
			else
				jpath_push_index(&prefix, steps[i].index);
		}
		row = schema_lookup(prefix.p);
		buf_release(&prefix);
		if (row) {
			kind = row->reload;
			break;
		}
	}
	jpath_free(steps, n);
	return kind;
}
