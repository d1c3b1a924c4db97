/*
 * jsonx.c - JSON paths and small jansson helpers; see jsonx.h.
 */
#include "core/jsonx.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A key that can be written bare after a dot. */
static bool jpath_key_is_plain(const char *key)
{
	const unsigned char *p = (const unsigned char *)key;

	if (!*p || isdigit(*p))
		return false;
	for (; *p; p++)
		if (!isalnum(*p) && *p != '_' && *p != '-' && *p != '$')
			return false;
	return true;
}

void jpath_push_key(struct buf *path, const char *key)
{
	json_t *js;
	char *quoted;

	if (jpath_key_is_plain(key)) {
		if (path->len)
			buf_putc(path, '.');
		buf_puts(path, key);
		return;
	}
	/* json_dumps quotes and escapes the key exactly as JSON would. */
	js = json_string(key);
	quoted = js ? json_dumps(js, JSON_ENCODE_ANY) : NULL;
	json_decref(js);
	buf_putc(path, '[');
	buf_puts(path, quoted ? quoted : "\"\"");
	buf_putc(path, ']');
	free(quoted);
}

void jpath_push_index(struct buf *path, size_t i)
{
	buf_printf(path, "[%zu]", i);
}

void jpath_free(struct jpath_step *steps, int n)
{
	for (int i = 0; i < n; i++)
		free(steps[i].key);
	free(steps);
}

static bool jpath_utf8_ok(const char *key)
{
	json_t *probe = json_string(key); /* NULL for invalid UTF-8 */

	json_decref(probe);
	return probe != NULL;
}

int jpath_parse(const char *path, struct jpath_step **out, char *err, size_t errlen)
{
	struct jpath_step *steps = NULL;
	size_t nsteps = 0, alloc = 0;
	const char *p = path;

	*out = NULL;
	if (!*p) {
		snprintf(err, errlen, "empty path");
		return -1;
	}
	while (*p) {
		struct jpath_step st = { 0 };

		if (*p == '[') {
			p++;
			if (*p == '"') {
				/* A quoted key: let jansson decode the JSON string. */
				const char *q = p + 1;
				json_t *s;

				while (*q && *q != '"')
					q += (*q == '\\' && q[1]) ? 2 : 1;
				if (*q != '"' || q[1] != ']')
					goto bad;
				s = json_loadb(p, (size_t)(q - p + 1), JSON_DECODE_ANY, NULL);
				if (!json_is_string(s)) {
					json_decref(s);
					goto bad;
				}
				st.key = xstrdup(json_string_value(s));
				json_decref(s);
				p = q + 2;
			} else {
				char *end;
				unsigned long long v;

				if (!isdigit((unsigned char)*p))
					goto bad;
				errno = 0;
				v = strtoull(p, &end, 10);
				if (errno || *end != ']')
					goto bad;
				st.index = (size_t)v;
				p = end + 1;
			}
		} else {
			const char *q = p;

			if (*p == '.') {
				if (p == path)
					goto bad;
				q = ++p;
			}
			while (*q && *q != '.' && *q != '[')
				q++;
			if (q == p)
				goto bad;
			st.key = xstrndup(p, (size_t)(q - p));
			p = q;
		}
		steps = xgrow(steps, &alloc, nsteps + 1, sizeof(*steps));
		steps[nsteps++] = st;
		if (st.key && !jpath_utf8_ok(st.key)) {
			/* jansson refuses such keys; say so here rather than fail later. */
			snprintf(err, errlen, "malformed path: key is not valid UTF-8");
			jpath_free(steps, (int)nsteps);
			return -1;
		}
		if (*p && *p != '.' && *p != '[')
			goto bad;
	}
	*out = steps;
	return (int)nsteps;
bad:
	snprintf(err, errlen, "malformed path '%s' near '%s'", path, p);
	jpath_free(steps, (int)nsteps);
	return -1;
}

json_t *jpath_get(json_t *root, const char *path)
{
	struct jpath_step *steps;
	char err[256];
	int n = jpath_parse(path, &steps, err, sizeof(err));
	json_t *v = root;

	if (n < 0)
		return NULL;
	for (int i = 0; i < n && v; i++) {
		if (steps[i].key)
			v = json_is_object(v) ? json_object_get(v, steps[i].key) : NULL;
		else
			v = json_is_array(v) ? json_array_get(v, steps[i].index) : NULL;
	}
	jpath_free(steps, n);
	return v;
}

/* Walk to the parent of the last step, creating objects when `create`. */
static json_t *jpath_parent(json_t *root, struct jpath_step *steps, int n, bool create, char *err,
			    size_t errlen)
{
	json_t *v = root;

	for (int i = 0; i < n - 1; i++) {
		json_t *next;

		if (steps[i].key) {
			if (!json_is_object(v))
				goto notcontainer;
			next = json_object_get(v, steps[i].key);
			if (!next && create) {
				/* An index next means the missing container is an array. */
				next = steps[i + 1].key ? json_object() : json_array();
				if (json_object_set_new(v, steps[i].key, next) < 0)
					next = NULL;
			}
		} else {
			if (!json_is_array(v))
				goto notcontainer;
			next = json_array_get(v, steps[i].index);
			if (!next && create && steps[i].index == json_array_size(v)) {
				next = steps[i + 1].key ? json_object() : json_array();
				json_array_append_new(v, next);
			}
		}
		if (!next) {
			snprintf(err, errlen, "no such element at step %d", i + 1);
			return NULL;
		}
		v = next;
	}
	return v;
notcontainer:
	snprintf(err, errlen, "cannot descend into a %s", json_kind(v));
	return NULL;
}

static int jpath_set_in(json_t *root, const char *path, json_t *value, char *err, size_t errlen);

int jpath_set(json_t *root, const char *path, json_t *value, char *err, size_t errlen)
{
	/*
	 * Work on a copy so that a failure half way (an index past the end
	 * after intermediate objects were created) leaves `root` untouched.
	 */
	json_t *copy = json_deep_copy(root);
	int r = jpath_set_in(copy, path, value, err, errlen);

	if (r == 0) {
		if (json_is_object(root))
			json_object_update(root, copy);
		else {
			json_array_clear(root);
			json_array_extend(root, copy);
		}
	}
	json_decref(copy);
	return r;
}

static int jpath_set_in(json_t *root, const char *path, json_t *value, char *err, size_t errlen)
{
	struct jpath_step *steps;
	int n = jpath_parse(path, &steps, err, errlen);
	json_t *parent;
	int r = -1;

	if (n < 0) {
		json_decref(value);
		return -1;
	}
	parent = jpath_parent(root, steps, n, true, err, errlen);
	if (!parent)
		goto out;
	if (steps[n - 1].key) {
		if (!json_is_object(parent)) {
			snprintf(err, errlen, "cannot set a key inside a %s", json_kind(parent));
			goto out;
		}
		if (json_object_set(parent, steps[n - 1].key, value) < 0) {
			snprintf(err, errlen, "cannot set key '%s'", steps[n - 1].key);
			goto out;
		}
		r = 0;
	} else {
		size_t i = steps[n - 1].index;

		if (!json_is_array(parent)) {
			snprintf(err, errlen, "cannot index into a %s", json_kind(parent));
			goto out;
		}
		if (i < json_array_size(parent)) {
			json_array_set(parent, i, value);
		} else if (i == json_array_size(parent)) {
			json_array_append(parent, value);
		} else {
			snprintf(err, errlen, "index %zu is past the end (size %zu)", i,
				 json_array_size(parent));
			goto out;
		}
		r = 0;
	}
out:
	json_decref(value);
	jpath_free(steps, n);
	return r;
}

int jpath_unset(json_t *root, const char *path, char *err, size_t errlen)
{
	struct jpath_step *steps;
	int n = jpath_parse(path, &steps, err, errlen);
	json_t *parent;
	int r = 0;

	if (n < 0)
		return -1;
	parent = jpath_parent(root, steps, n, false, err, errlen);
	if (parent && steps[n - 1].key && json_is_object(parent))
		r = json_object_del(parent, steps[n - 1].key) == 0;
	else if (parent && !steps[n - 1].key && json_is_array(parent))
		r = json_array_remove(parent, steps[n - 1].index) == 0;
	jpath_free(steps, n);
	return r;
}

const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "value";
}

char *json_dump_str(const json_t *v, size_t flags)
{
	char *s = json_dumps(v, flags | JSON_ENCODE_ANY);

	if (!s)
		die("out of memory serializing json");
	return s;
}

void json_merge_deep(json_t *dst, json_t *src)
{
	const char *key;
	json_t *sv;

	json_object_foreach(src, key, sv)
	{
		json_t *dv = json_object_get(dst, key);

		if (json_is_object(dv) && json_is_object(sv))
			json_merge_deep(dv, sv);
		else
			json_object_set(dst, key, sv);
	}
}

size_t json_dump_size_max(const json_t *v)
{
	const char *key;
	json_t *x;
	size_t i, n = 2;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, key, x) n +=
			2 + 6 * strlen(key) + 2 + json_dump_size_max(x);
		return n;
	case JSON_ARRAY:
		json_array_foreach(v, i, x) n += 1 + json_dump_size_max(x);
		return n;
	case JSON_STRING:
		return 2 + 6 * json_string_length(v);
	case JSON_INTEGER:
		return 21;
	case JSON_REAL:
		return 32;
	default:
		return 5;
	}
}
