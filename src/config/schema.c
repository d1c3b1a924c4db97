/*
 * schema.c - the config schema engine: lookup, defaults, validation and
 * JSON Schema export over the table in schema_table.c.
 */
#include "config/schema.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/secrets.h"
#include "core/jsonx.h"
#include "core/mem.h"
#include "core/str.h"

/* The rows themselves live in schema_table.c, so this file stays about logic. */
extern const struct cfg_field schema_table[];
extern const size_t schema_table_len;

/* Parsed defaults, one slot per row, filled on first use. */
static json_t **schema_defaults;

const struct cfg_field *schema_fields(size_t *n)
{
	*n = schema_table_len;
	return schema_table;
}

/*
 * The rows sorted by path, built on first use: config_get walks the schema
 * for every key it reads, and the gateway reads keys on every handshake, so
 * a linear scan of ~1,500 rows showed up as the top cost under load.
 */
static const struct cfg_field **schema_index;

static int schema_index_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct cfg_field *const *)a)->path,
		      (*(const struct cfg_field *const *)b)->path);
}

static int schema_index_find(const void *key, const void *elem)
{
	return strcmp(key, (*(const struct cfg_field *const *)elem)->path);
}

const struct cfg_field *schema_find(const char *pattern)
{
	const struct cfg_field *const *hit;

	if (!schema_index) {
		schema_index = xmalloc(schema_table_len * sizeof(*schema_index));
		for (size_t i = 0; i < schema_table_len; i++)
			schema_index[i] = &schema_table[i];
		qsort(schema_index, schema_table_len, sizeof(*schema_index), schema_index_cmp);
	}
	hit = bsearch(pattern, schema_index, schema_table_len, sizeof(*schema_index),
		      schema_index_find);
	return hit ? *hit : NULL;
}

const char *schema_reload_name(enum cfg_reload r)
{
	switch (r) {
	case RELOAD_HOT:
		return "hot";
	case RELOAD_RESTART:
		return "restart";
	case RELOAD_NONE:
		return "none";
	}
	return "none";
}

const char *schema_type_name(unsigned type)
{
	static char out[128];
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ CT_OBJECT, "object" },
		{ CT_MAP, "object" },
		{ CT_ARRAY, "array" },
		{ CT_STRING, "string" },
		{ CT_INT, "integer" },
		{ CT_NUMBER, "number" },
		{ CT_BOOL, "boolean" },
		{ CT_NULL, "null" },
		{ CT_SECRET, "string or SecretRef" },
		{ CT_ANY, "any" },
	};

	out[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(type & names[i].bit))
			continue;
		/* object and map both read "object"; say it once. */
		if (names[i].bit == CT_MAP && (type & CT_OBJECT))
			continue;
		if (names[i].bit == CT_INT && (type & CT_NUMBER))
			continue;
		/* "string or SecretRef" already says string. */
		if (names[i].bit == CT_STRING && (type & CT_SECRET))
			continue;
		if (out[0])
			strncat(out, " or ", sizeof(out) - strlen(out) - 1);
		strncat(out, names[i].name, sizeof(out) - strlen(out) - 1);
	}
	return out;
}

/* Row for `pattern` + one more step; steps are ".key", ".*" or "[]". */
static const struct cfg_field *schema_child(struct buf *pattern, const struct cfg_field *parent,
					    const char *key, bool index)
{
	size_t mark = pattern->len;
	const struct cfg_field *row = NULL;

	if (index) {
		if (parent && (parent->type & CT_ARRAY)) {
			buf_puts(pattern, "[]");
			row = schema_find(pattern->p);
		}
		return row ? row : (buf_truncate(pattern, mark), NULL);
	}
	if (!parent || (parent->type & CT_OBJECT)) {
		if (pattern->len)
			buf_putc(pattern, '.');
		buf_puts(pattern, key);
		row = schema_find(pattern->p);
		if (row)
			return row;
		buf_truncate(pattern, mark);
	}
	if (parent && (parent->type & CT_MAP)) {
		buf_puts(pattern, ".*");
		row = schema_find(pattern->p);
		if (row)
			return row;
		buf_truncate(pattern, mark);
	}
	return NULL;
}

const struct cfg_field *schema_lookup(const char *path)
{
	struct jpath_step *steps;
	char err[256];
	int n = jpath_parse(path, &steps, err, sizeof(err));
	const struct cfg_field *row = NULL;
	struct buf pattern;

	if (n < 0)
		return NULL;
	buf_init(&pattern, 4096);
	for (int i = 0; i < n; i++) {
		row = schema_child(&pattern, row, steps[i].key, steps[i].key == NULL);
		if (!row)
			break;
	}
	buf_release(&pattern);
	jpath_free(steps, n);
	return row;
}

static size_t schema_member_names(const char *pattern, const char **names, size_t max);

char *schema_suggest(const char *path)
{
	struct jpath_step *steps;
	char err[256];
	int n = jpath_parse(path, &steps, err, sizeof(err));
	const struct cfg_field *row = NULL;
	struct buf pattern, good;
	char *out = NULL;

	if (n < 0)
		return NULL;
	buf_init(&pattern, 4096);
	buf_init(&good, 4096);
	for (int i = 0; i < n; i++) {
		const struct cfg_field *next =
			schema_child(&pattern, row, steps[i].key, steps[i].key == NULL);

		if (!next) {
			const char *names[256];
			size_t k =
				steps[i].key && (!row || (row->type & CT_OBJECT))
					? schema_member_names(pattern.p, names, ARRAY_SIZE(names))
					: 0;
			const char *best = k ? str_closest(steps[i].key, names, k) : NULL;

			if (best) {
				size_t mark;

				/* Carry on with the rest of the path if it fits the fix. */
				jpath_push_key(&good, best);
				mark = good.len;
				for (int j = i + 1; j < n; j++) {
					if (steps[j].key)
						jpath_push_key(&good, steps[j].key);
					else
						jpath_push_index(&good, steps[j].index);
				}
				if (!schema_lookup(good.p))
					buf_truncate(&good, mark);
				out = xstrdup(good.p);
			}
			break;
		}
		if (steps[i].key)
			jpath_push_key(&good, steps[i].key);
		else
			jpath_push_index(&good, steps[i].index);
		row = next;
	}
	buf_release(&pattern);
	buf_release(&good);
	jpath_free(steps, n);
	return out;
}

json_t *schema_default(const char *path)
{
	const struct cfg_field *row = schema_lookup(path);
	size_t i;

	if (!row || !row->def)
		return NULL;
	if (!schema_defaults)
		schema_defaults = xcalloc(schema_table_len, sizeof(*schema_defaults));
	i = (size_t)(row - schema_table);
	if (!schema_defaults[i]) {
		json_error_t e;

		schema_defaults[i] = json_loads(row->def, JSON_DECODE_ANY, &e);
		if (!schema_defaults[i])
			BUG("schema default for %s is not JSON: %s", row->path, e.text);
	}
	return schema_defaults[i];
}

void schema_release(void)
{
	free(schema_index);
	schema_index = NULL;
	if (!schema_defaults)
		return;
	for (size_t i = 0; i < schema_table_len; i++)
		json_decref(schema_defaults[i]);
	free(schema_defaults);
	schema_defaults = NULL;
}

/* ==== validation ==== */

struct schema_walk {
	const struct json5_posmap *pm;
	struct buf *errs;
	int count;
};

static void schema_error(struct schema_walk *w, const char *path, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

static void schema_error(struct schema_walk *w, const char *path, const char *fmt, ...)
{
	const struct json5_pos *pos = w->pm ? json5_posmap_find(w->pm, path) : NULL;
	va_list ap;

	if (pos && pos->file)
		buf_printf(w->errs, "%s:%d:%d: ", pos->file, pos->line, pos->col);
	else if (pos)
		buf_printf(w->errs, "%d:%d: ", pos->line, pos->col);
	buf_printf(w->errs, "%s: ", *path ? path : "<root>");
	va_start(ap, fmt);
	buf_vprintf(w->errs, fmt, ap);
	va_end(ap);
	buf_putc(w->errs, '\n');
	w->count++;
}

/* The keys a CT_OBJECT row declares, for "did you mean". */
static size_t schema_member_names(const char *pattern, const char **names, size_t max)
{
	size_t plen = strlen(pattern), n = 0;

	for (size_t i = 0; i < schema_table_len && n < max; i++) {
		const char *p = schema_table[i].path;
		const char *rest;

		if (plen) {
			if (strncmp(p, pattern, plen) || p[plen] != '.')
				continue;
			rest = p + plen + 1;
		} else {
			rest = p;
		}
		if (!strpbrk(rest, ".[") && strcmp(rest, "*"))
			names[n++] = rest;
	}
	return n;
}

static bool schema_kind_ok(const struct cfg_field *row, const json_t *v)
{
	unsigned t = row->type;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return t & (CT_OBJECT | CT_MAP | CT_SECRET);
	case JSON_ARRAY:
		return t & CT_ARRAY;
	case JSON_STRING:
		return t & (CT_STRING | CT_SECRET);
	case JSON_INTEGER:
		return t & (CT_INT | CT_NUMBER);
	case JSON_REAL:
		return t & CT_NUMBER;
	case JSON_TRUE:
	case JSON_FALSE:
		return t & CT_BOOL;
	case JSON_NULL:
		return t & CT_NULL;
	}
	return false;
}

static bool schema_enum_has(const char *enums, const char *s)
{
	size_t n = strlen(s);

	for (const char *p = enums; *p;) {
		size_t len = strcspn(p, "|");

		if (len == n && !strncmp(p, s, n))
			return true;
		p += len + (p[len] == '|');
	}
	return false;
}

static void schema_check_enum(struct schema_walk *w, const char *path, const struct cfg_field *row,
			      const char *s)
{
	const char *names[64];
	size_t n = 0;
	char copy[512];
	const char *best;

	if (schema_enum_has(row->enums, s))
		return;
	snprintf(copy, sizeof(copy), "%s", row->enums);
	for (char *tok = strtok(copy, "|"); tok && n < ARRAY_SIZE(names); tok = strtok(NULL, "|"))
		names[n++] = tok;
	best = str_closest(s, names, n);
	if (best)
		schema_error(w, path, "invalid value \"%s\"; did you mean \"%s\"? (one of: %s)", s,
			     best, row->enums);
	else
		schema_error(w, path, "invalid value \"%s\"; expected one of: %s", s, row->enums);
}

static void schema_walk_value(struct schema_walk *w, const json_t *v, struct buf *path,
			      struct buf *pattern, const struct cfg_field *row);

static void schema_walk_object(struct schema_walk *w, const json_t *v, struct buf *path,
			       struct buf *pattern, const struct cfg_field *row)
{
	const char *key;
	json_t *child;

	json_object_foreach((json_t *)v, key, child)
	{
		size_t pmark = path->len, qmark = pattern->len;
		const struct cfg_field *crow;

		jpath_push_key(path, key);
		if (!row && !strcmp(key, "$schema")) {
			/* The one key allowed at the root that is not config (editor support). */
			if (!json_is_string(child))
				schema_error(w, path->p, "expected string, got %s",
					     json_kind(child));
			goto next;
		}
		crow = schema_child(pattern, row, key, false);
		if (!crow) {
			const char *names[256];
			size_t n = schema_member_names(pattern->p, names, ARRAY_SIZE(names));
			const char *best = str_closest(key, names, n);

			if (best)
				schema_error(w, path->p, "unknown key; did you mean \"%s\"?", best);
			else
				schema_error(w, path->p, "unknown key");
			goto next;
		}
		schema_walk_value(w, child, path, pattern, crow);
	next:
		buf_truncate(path, pmark);
		buf_truncate(pattern, qmark);
	}
}

static void schema_walk_value(struct schema_walk *w, const json_t *v, struct buf *path,
			      struct buf *pattern, const struct cfg_field *row)
{
	if (!row) {
		/* The root: an object of top-level sections. */
		if (!json_is_object(v)) {
			schema_error(w, "", "the config must be an object, got %s", json_kind(v));
			return;
		}
		schema_walk_object(w, v, path, pattern, NULL);
		return;
	}
	if (row->type & CT_ANY)
		return;
	if (!schema_kind_ok(row, v)) {
		schema_error(w, path->p, "expected %s, got %s", schema_type_name(row->type),
			     json_kind(v));
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if ((row->type & CT_SECRET) && !(row->type & (CT_OBJECT | CT_MAP))) {
			char err[256];

			if (secret_ref_check(v, err, sizeof(err)) < 0)
				schema_error(w, path->p, "invalid SecretRef: %s", err);
			return;
		}
		schema_walk_object(w, v, path, pattern, row);
		return;
	case JSON_ARRAY: {
		size_t i, mark = pattern->len;
		const struct cfg_field *erow;
		json_t *el;

		buf_puts(pattern, "[]");
		erow = schema_find(pattern->p);
		if (!erow)
			BUG("schema row %s is an array without a %s[] row", row->path, row->path);
		json_array_foreach(v, i, el)
		{
			size_t pmark = path->len;

			jpath_push_index(path, i);
			schema_walk_value(w, el, path, pattern, erow);
			buf_truncate(path, pmark);
		}
		buf_truncate(pattern, mark);
		return;
	}
	case JSON_STRING:
		if (row->enums)
			schema_check_enum(w, path->p, row, json_string_value(v));
		return;
	case JSON_INTEGER:
	case JSON_REAL: {
		double d = json_number_value(v);

		if (row->min < row->max && (d < row->min || d > row->max))
			schema_error(w, path->p, "%g is out of range (%g to %g)", d, row->min,
				     row->max);
		return;
	}
	default:
		return;
	}
}

int schema_validate(const json_t *root, const struct json5_posmap *pm, struct buf *errs)
{
	struct schema_walk w = { pm, errs, 0 };
	struct buf path, pattern;

	buf_init(&path, 64 * 1024);
	buf_init(&pattern, 64 * 1024);
	schema_walk_value(&w, root, &path, &pattern, NULL);
	buf_release(&path);
	buf_release(&pattern);
	return w.count;
}

int schema_validate_at(const char *path, const json_t *value, struct buf *errs)
{
	struct schema_walk w = { NULL, errs, 0 };
	struct jpath_step *steps;
	char err[256];
	int n = jpath_parse(path, &steps, err, sizeof(err));
	const struct cfg_field *row = NULL;
	struct buf cpath, pattern;

	if (n < 0) {
		buf_printf(errs, "%s\n", err);
		return 1;
	}
	buf_init(&cpath, 64 * 1024);
	buf_init(&pattern, 64 * 1024);
	for (int i = 0; i < n; i++) {
		if (steps[i].key)
			jpath_push_key(&cpath, steps[i].key);
		else
			jpath_push_index(&cpath, steps[i].index);
		row = schema_child(&pattern, row, steps[i].key, steps[i].key == NULL);
		if (!row) {
			if (n == 1 && steps[0].key && !strcmp(steps[0].key, "$schema")) {
				if (!json_is_string(value))
					schema_error(&w, cpath.p, "expected string, got %s",
						     json_kind(value));
				goto out;
			}
			schema_error(&w, cpath.p, "unknown key");
			goto out;
		}
	}
	if (row)
		schema_walk_value(&w, value, &cpath, &pattern, row);
out:
	buf_release(&cpath);
	buf_release(&pattern);
	jpath_free(steps, n);
	return w.count;
}

/* ==== JSON Schema export ==== */

static json_t *schema_type_json(unsigned t)
{
	json_t *types = json_array();

	if (t & (CT_OBJECT | CT_MAP))
		json_array_append_new(types, json_string("object"));
	if (t & CT_ARRAY)
		json_array_append_new(types, json_string("array"));
	if (t & CT_STRING)
		json_array_append_new(types, json_string("string"));
	if (t & CT_NUMBER)
		json_array_append_new(types, json_string("number"));
	else if (t & CT_INT)
		json_array_append_new(types, json_string("integer"));
	if (t & CT_BOOL)
		json_array_append_new(types, json_string("boolean"));
	if (t & CT_NULL)
		json_array_append_new(types, json_string("null"));
	if (json_array_size(types) == 1) {
		json_t *one = json_incref(json_array_get(types, 0));

		json_decref(types);
		return one;
	}
	return types;
}

static json_t *schema_row_json(const struct cfg_field *row)
{
	json_t *node = json_object();

	if (row->type & CT_SECRET) {
		json_t *any =
			json_pack("[{s:s}, {s:s}]", "type", "string", "$ref", "#/$defs/SecretRef");

		if (row->type & ~CT_SECRET) {
			json_array_append_new(any,
					      json_pack("{s:o}", "type",
							schema_type_json(row->type & ~CT_SECRET)));
		}
		json_object_set_new(node, "anyOf", any);
	} else if (!(row->type & CT_ANY)) {
		json_object_set_new(node, "type", schema_type_json(row->type));
	}
	if (row->type & CT_OBJECT) {
		json_object_set_new(node, "properties", json_object());
		json_object_set_new(node, "additionalProperties", json_false());
	}
	if (row->enums) {
		json_t *e = json_array();
		char copy[512];

		snprintf(copy, sizeof(copy), "%s", row->enums);
		for (char *tok = strtok(copy, "|"); tok; tok = strtok(NULL, "|"))
			json_array_append_new(e, json_string(tok));
		json_object_set_new(node, "enum", e);
	}
	if (row->min < row->max) {
		json_object_set_new(node, "minimum", json_real(row->min));
		json_object_set_new(node, "maximum", json_real(row->max));
	}
	if (row->def)
		json_object_set_new(node, "default", json_loads(row->def, JSON_DECODE_ANY, NULL));
	json_object_set_new(node, "description", json_string(row->doc));
	json_object_set_new(node, "x-reload", json_string(schema_reload_name(row->reload)));
	return node;
}

json_t *schema_to_json_schema(void)
{
	json_t *doc = json_pack("{s:s, s:s, s:s, s:{s:{s:s}}, s:b}", "$schema",
				"https://json-schema.org/draft/2020-12/schema", "title",
				"pincer configuration", "type", "object", "properties", "$schema",
				"type", "string", "additionalProperties", 0);
	json_t *nodes = json_object(); /* pattern -> node (borrowed) */

	json_object_set(nodes, "", doc);
	json_object_set_new(
		doc, "$defs",
		json_pack("{s:{s:s, s:[s,s], s:{s:{s:s, s:[s,s,s]}, s:{s:s}, s:{s:s}}, s:b}}",
			  "SecretRef", "type", "object", "required", "source", "id", "properties",
			  "source", "type", "string", "enum", "env", "file", "exec", "provider",
			  "type", "string", "id", "type", "string", "additionalProperties", 0));
	for (size_t i = 0; i < schema_table_len; i++) {
		const struct cfg_field *row = &schema_table[i];
		const char *p = row->path;
		const char *last = strrchr(p, '.');
		const char *br = strrchr(p, '[');
		char *parent;
		json_t *pnode, *node = schema_row_json(row);

		if (br && (!last || br > last) && !strcmp(br, "[]")) {
			parent = xstrndup(p, (size_t)(br - p));
			pnode = json_object_get(nodes, parent);
			if (pnode)
				json_object_set(pnode, "items", node);
		} else {
			const char *key = last ? last + 1 : p;

			parent = last ? xstrndup(p, (size_t)(last - p)) : xstrdup("");
			pnode = json_object_get(nodes, parent);
			if (pnode && !strcmp(key, "*"))
				json_object_set(pnode, "additionalProperties", node);
			else if (pnode)
				json_object_set(json_object_get(pnode, "properties"), key, node);
		}
		if (!pnode)
			BUG("schema row %s comes before its parent", p);
		json_object_set(nodes, p, node);
		json_decref(node);
		free(parent);
	}
	json_decref(nodes);
	return doc;
}
