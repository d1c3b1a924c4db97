/*
 * m_config.c - the config methods: config.get, config.schema,
 * config.schema.lookup, config.set, config.patch and config.apply, in
 * the shapes OpenClaw 2026.9.6 answers with.
 *
 * Reads go to the file on disk every time (the running config may lag
 * behind it: an invalid edit, or gateway.reload.mode off). Writes follow
 * one path: check the base hash against the file, build the new tree from
 * the file as written (includes and ${VAR}s stay as they are), put back
 * credentials the client saw masked, validate it as the gateway would
 * load it, write it atomically (0600), load it and apply it through
 * gw_config_apply() - which tells every client `config.changed` - and
 * answer with the credentials masked again.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "config/patch.h"
#include "config/paths.h"
#include "config/redact.h"
#include "config/schema.h"
#include "core/buf.h"
#include "core/json5.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "gateway/internal.h"
#include "gateway/reload.h"

#define CFG_SUBSYS "config"

/* Problems spelled out in an error message; the rest are counted (OpenClaw's 3). */
#define CFG_ISSUES_IN_MESSAGE   3
/* config.schema.lookup: path length and depth (OpenClaw's bounds). */
#define CFG_LOOKUP_MAX_PATH     1024
#define CFG_LOOKUP_MAX_SEGMENTS 32
/* How deep a looked-up schema keeps nested objects (OpenClaw's form depth). */
#define CFG_LOOKUP_FORM_DEPTH   4

/* ==== the file on disk ==== */

/* One fresh read of the config file. */
struct m_file {
	struct config cfg; /* loaded as the gateway would; cfg.root NULL when invalid */
	struct buf errs;   /* the problems, one per line */
	json_t *parsed;    /* the main file as written: {} when missing, NULL when unparsable */
	bool valid;
};

static void m_file_read(struct gateway *gw, struct m_file *f)
{
	struct json5_error jerr;

	config_init(&f->cfg);
	buf_init(&f->errs, 1 << 20);
	f->valid = config_load(&f->cfg, gw->cfg->path, &f->errs) == 0;
	if (!f->cfg.exists)
		f->parsed = json_object();
	else if (f->cfg.text)
		f->parsed = json5_parse(f->cfg.text, f->cfg.text_len, NULL, NULL, &jerr);
	else
		f->parsed = NULL;
	if (f->parsed && !json_is_object(f->parsed)) {
		json_decref(f->parsed);
		f->parsed = NULL;
	}
}

static void m_file_release(struct m_file *f)
{
	config_release(&f->cfg);
	buf_release(&f->errs);
	json_decref(f->parsed);
}

/* ==== issues ==== */

/* Length of "L:C: " at `s` (digits, colon, digits, colon, space), or 0. */
static size_t m_pos_prefix(const char *s, long *line, long *col)
{
	char *end;

	if (*s < '0' || *s > '9')
		return 0;
	*line = strtol(s, &end, 10);
	if (*end != ':' || end[1] < '0' || end[1] > '9')
		return 0;
	*col = strtol(end + 1, &end, 10);
	if (end[0] != ':' || end[1] != ' ')
		return 0;
	return (size_t)(end + 2 - s);
}

/*
 * One problem line as an issue object: {path, message, file?, line?,
 * column?}. Lines look like "[file:]L:C: key.path: what" or "key.path:
 * what"; a key path may hold quoted keys (`models.providers["a: b"]`).
 */
static json_t *m_issue(const char *s, size_t len)
{
	char *line = xstrndup(s, len), *rest = line, *p;
	long ln = 0, col = 0;
	json_t *o = json_object();
	size_t n = 0;

	for (p = line; *p; p++) {
		if ((p == line || p[-1] == ':') && (n = m_pos_prefix(p, &ln, &col))) {
			if (p > line + 1)
				json_object_set_new(o, "file",
						    json_stringn(line, (size_t)(p - 1 - line)));
			json_object_set_new(o, "line", json_integer(ln));
			json_object_set_new(o, "column", json_integer(col));
			rest = p + n;
			break;
		}
	}
	/* The key path ends at the first ": " outside a quoted key. */
	for (p = rest; *p; p++) {
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (!*p)
				break;
		} else if (p[0] == ':' && p[1] == ' ') {
			break;
		}
	}
	if (*p == ':') {
		json_t *path = json_stringn(rest, (size_t)(p - rest));

		json_object_set_new(o, "path",
				    !strcmp(json_string_value(path), "<root>") ? json_string("")
									       : json_incref(path));
		json_decref(path);
		json_object_set_new(o, "message", json_string(p + 2));
	} else {
		json_object_set_new(o, "path", json_string(""));
		json_object_set_new(o, "message", json_string(rest));
	}
	free(line);
	return o;
}

static json_t *m_issues(const char *errs)
{
	json_t *a = json_array();

	while (*errs) {
		size_t len = strcspn(errs, "\n");

		if (len)
			json_array_append_new(a, m_issue(errs, len));
		errs += len + (errs[len] == '\n');
	}
	return a;
}

/*
 * INVALID_REQUEST "invalid config: <first problems>; ... (+N more issues)"
 * with details.issues, the way OpenClaw summarizes validation failures.
 */
static void m_fail_invalid(struct gw_call *call, const char *errs, const char *suffix)
{
	json_t *issues = m_issues(errs);
	size_t i, n = json_array_size(issues);
	struct buf msg;
	const char *p = errs;

	buf_init(&msg, 64 * 1024);
	buf_puts(&msg, "invalid config: ");
	for (i = 0; i < n && i < CFG_ISSUES_IN_MESSAGE; i++) {
		size_t len = strcspn(p, "\n");

		buf_printf(&msg, "%s%.*s", i ? "; " : "", (int)len, p);
		p += len + (p[len] == '\n');
	}
	if (n > CFG_ISSUES_IN_MESSAGE)
		buf_printf(&msg, " (+%zu more issue%s)", n - CFG_ISSUES_IN_MESSAGE,
			   n - CFG_ISSUES_IN_MESSAGE == 1 ? "" : "s");
	if (suffix)
		buf_puts(&msg, suffix);
	gw_call_error(call, GW_E_INVALID_REQUEST, msg.p, json_pack("{s:o}", "issues", issues));
	buf_release(&msg);
}

/* ==== config.get ==== */

/* The revision of a tree's content (config.get's configRevisionHash and appliedConfigHash). */
static json_t *m_tree_revision(struct gateway *gw, const json_t *root)
{
	char hash[CONFIG_HASH_HEX + 1], rev[GW_REVISION_LEN];
	char *s;

	if (!root)
		return json_null();
	s = json_dump_str(root, JSON_COMPACT | JSON_SORT_KEYS);
	config_sha256_hex(s, strlen(s), hash);
	free(s);
	gw_config_revision(gw, hash, rev);
	return json_string(rev);
}

/*
 * The file's text with its credentials masked, or NULL when masking the
 * text would change more than the credentials (a short secret that also
 * occurs elsewhere): then only the parsed forms are shown, as OpenClaw does.
 */
static char *m_redacted_text(const struct m_file *f, const json_t *values)
{
	char *text = config_redact_text(f->cfg.text, values), err[256];
	struct json5_error jerr;
	json_t *back = json5_parse(text, strlen(text), NULL, NULL, &jerr), *restored = NULL;
	bool ok = false;

	if (back)
		restored = config_restore_redacted(back, f->parsed, err, sizeof(err));
	ok = restored && json_equal(restored, f->parsed);
	json_decref(back);
	json_decref(restored);
	if (!ok) {
		free(text);
		return NULL;
	}
	return text;
}

static json_t *m_snapshot(struct gateway *gw, struct m_file *f)
{
	char rev[GW_REVISION_LEN];
	json_t *o, *included = json_array(), *values = json_array();

	for (size_t i = 1; f->cfg.exists && i < f->cfg.nfiles; i++)
		json_array_append_new(included, json_string(f->cfg.files[i]));
	gw_config_revision(gw, f->cfg.hash, rev);
	o = json_pack("{s:s, s:o, s:b}", "path", gw->cfg->path, "includedPaths", included, "exists",
		      f->cfg.exists);
	if (f->valid && f->parsed) {
		json_t *parsed = config_redact(f->parsed, values);
		json_t *eff = config_redact(f->cfg.root, values);
		char *text = f->cfg.text ? m_redacted_text(f, values) : NULL;

		json_object_set_new(o, "raw", text ? json_string(text) : json_null());
		json_object_set_new(o, "parsed", parsed);
		json_object_set(o, "sourceConfig", eff);
		json_object_set(o, "resolved", eff);
		json_object_set_new(o, "valid", json_true());
		json_object_set(o, "runtimeConfig", eff);
		json_object_set_new(o, "config", eff);
		free(text);
	} else {
		json_object_set_new(o, "raw", json_null());
		json_object_set_new(o, "parsed", json_null());
		json_object_set_new(o, "sourceConfig", json_object());
		json_object_set_new(o, "resolved", json_object());
		json_object_set_new(o, "valid", json_false());
		json_object_set_new(o, "runtimeConfig", json_object());
		json_object_set_new(o, "config", json_object());
	}
	json_object_set_new(o, "hash", json_string(rev));
	json_object_set_new(o, "issues", m_issues(f->errs.p));
	json_object_set_new(o, "warnings", json_array());
	json_object_set_new(o, "legacyIssues", json_array());
	json_object_set_new(o, "configRevisionHash",
			    m_tree_revision(gw, f->valid ? f->cfg.root : NULL));
	json_object_set_new(o, "appliedConfigHash", m_tree_revision(gw, gw->cfg->root));
	json_decref(values);
	return o;
}

static void m_config_get(struct gw_call *call)
{
	struct m_file f;

	if (gw_call_unpack(call, "{}") < 0)
		return;
	m_file_read(call->gw, &f);
	gw_call_ok(call, m_snapshot(call->gw, &f));
	m_file_release(&f);
}

/* ==== config.schema ==== */

/* The JSON Schema document, built once per gateway (the table never changes). */
static json_t *m_schema_doc(struct gateway *gw)
{
	if (!gw->reload->schema)
		gw->reload->schema = schema_to_json_schema();
	return gw->reload->schema;
}

/* OpenClaw's uiHints: per key pattern, a label and whether it is a credential. */
static json_t *m_ui_hint(const struct cfg_field *row)
{
	json_t *h = json_pack("{s:s}", "label", row->doc);

	if (row->type & CT_SECRET)
		json_object_set_new(h, "sensitive", json_true());
	return h;
}

static void m_config_schema(struct gw_call *call)
{
	const struct cfg_field *rows;
	json_t *hints = json_object();
	char when[32];
	size_t n;

	if (gw_call_unpack(call, "{}") < 0) {
		json_decref(hints);
		return;
	}
	rows = schema_fields(&n);
	for (size_t i = 0; i < n; i++)
		json_object_set_new(hints, rows[i].path, m_ui_hint(&rows[i]));
	time_iso8601(time_now_ms(), when, sizeof(when));
	gw_call_ok(call,
		   json_pack("{s:O, s:o, s:s, s:s}", "schema", m_schema_doc(call->gw), "uiHints",
			     hints, "version", PINCER_VERSION, "generatedAt", when));
}

/* ==== config.schema.lookup ==== */

static bool m_lookup_path_ok(const char *p)
{
	size_t n = strlen(p);

	if (n < 1 || n > CFG_LOOKUP_MAX_PATH)
		return false;
	for (; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("_./[]-*", *p)))
			return false;
	return true;
}

/* "a[0].b[*]" -> "a.0.b.*": OpenClaw's normalizeLookupPath. New string. */
static char *m_lookup_normalize(const char *in)
{
	struct buf b;
	char *out;
	size_t start, end;

	buf_init(&b, BUF_UNLIMITED);
	for (const char *p = in; *p; p++) {
		if (*p == '[') {
			const char *q = p + 1;

			while (*q >= '0' && *q <= '9')
				q++;
			if (*q == ']' && q == p + 1) { /* "[]" */
				buf_puts(&b, ".*");
				p = q;
				continue;
			}
			if (*q == ']') { /* "[12]" */
				buf_putc(&b, '.');
				buf_append(&b, p + 1, (size_t)(q - p - 1));
				p = q;
				continue;
			}
			if (q[0] == '*' && q[1] == ']' && q == p + 1) { /* "[*]" */
				buf_puts(&b, ".*");
				p = q + 1;
				continue;
			}
		}
		/* collapse runs of dots */
		if (*p == '.' && b.len && b.p[b.len - 1] == '.')
			continue;
		buf_putc(&b, *p);
	}
	start = 0;
	end = b.len;
	while (start < end && b.p[start] == '.')
		start++;
	while (end > start && b.p[end - 1] == '.')
		end--;
	out = xstrndup(b.p + start, end - start);
	buf_release(&b);
	return out;
}

static bool m_is_index(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* One step down the JSON Schema; `pattern` follows in the table's spelling. */
static json_t *m_lookup_child(json_t *node, const char *seg, struct buf *pattern)
{
	json_t *props = json_object_get(node, "properties"), *c;

	if ((c = json_object_get(props, seg))) {
		buf_printf(pattern, "%s%s", pattern->len ? "." : "", seg);
		return c;
	}
	if ((!strcmp(seg, "*") || m_is_index(seg)) &&
	    json_is_object(c = json_object_get(node, "items"))) {
		buf_puts(pattern, "[]");
		return c;
	}
	if (json_is_object(c = json_object_get(node, "additionalProperties"))) {
		buf_puts(pattern, ".*");
		return c;
	}
	return NULL;
}

static bool m_schema_has_children(const json_t *node)
{
	return json_object_size(json_object_get(node, "properties")) ||
	       json_is_object(json_object_get(node, "additionalProperties")) ||
	       json_is_object(json_object_get(node, "items"));
}

/* OpenClaw's stripSchemaForLookup: the node's own facts, nested forms a few levels deep. */
static json_t *m_lookup_strip(const json_t *node, int depth)
{
	static const char *const scalar_keys[] = {
		"title",     "description", "format",   "pattern",  "minimum", "maximum",
		"minLength", "maxLength",   "minItems", "maxItems", "default", "deprecated",
	};
	json_t *out = json_object(), *v, *ap = json_object_get(node, "additionalProperties");
	const char *k;

	for (size_t i = 0; i < ARRAY_SIZE(scalar_keys); i++)
		if ((v = json_object_get(node, scalar_keys[i])))
			json_object_set(out, scalar_keys[i], v);
	if ((v = json_object_get(node, "type")))
		json_object_set(out, "type", v);
	if ((v = json_object_get(node, "enum")))
		json_object_set(out, "enum", v);
	if (json_is_boolean(ap))
		json_object_set(out, "additionalProperties", ap);
	if (json_object_size(v = json_object_get(node, "properties")) &&
	    ((depth > 0 && depth <= CFG_LOOKUP_FORM_DEPTH) || json_is_object(ap))) {
		json_t *props = json_object(), *c;

		json_object_foreach(v, k, c)
			json_object_set_new(props, k, m_lookup_strip(c, depth + 1));
		json_object_set_new(out, "properties", props);
	}
	if (json_is_object(ap))
		json_object_set_new(out, "additionalProperties", m_lookup_strip(ap, depth + 1));
	if (json_is_object(v = json_object_get(node, "items")))
		json_object_set_new(out, "items", m_lookup_strip(v, depth + 1));
	if (depth <= CFG_LOOKUP_FORM_DEPTH && json_is_array(v = json_object_get(node, "anyOf"))) {
		json_t *any = json_array(), *c;
		size_t i;

		json_array_foreach(v, i, c)
		{
			/* The SecretRef alternative, spelled out rather than referenced. */
			if (json_object_get(c, "$ref"))
				json_array_append_new(
					any, json_pack("{s:s, s:b, s:{s:{s:s, s:[s,s,s]}, s:{s:s}, "
						       "s:{s:s}}}",
						       "type", "object", "additionalProperties", 0,
						       "properties", "source", "type", "string",
						       "enum", "env", "file", "exec", "provider",
						       "type", "string", "id", "type", "string"));
			else
				json_array_append_new(any, m_lookup_strip(c, depth + 1));
		}
		json_object_set_new(out, "anyOf", any);
	}
	return out;
}

/* A lookup row for `pattern` (the table's spelling): reloadKind, hint and hintPath. */
static void m_lookup_meta(json_t *o, const char *pattern)
{
	const struct cfg_field *row = schema_find(pattern);

	if (!row)
		return;
	json_object_set_new(o, "reloadKind", json_string(schema_reload_name(row->reload)));
	json_object_set_new(o, "hint", m_ui_hint(row));
	json_object_set_new(o, "hintPath", json_string(row->path));
}

static json_t *m_lookup_children(const json_t *node, const char *path, const char *pattern)
{
	json_t *children = json_array(), *props = json_object_get(node, "properties"), *c;
	const char *k;
	json_t *wild = json_object_get(node, "additionalProperties");
	const char *wstep = ".*";

	json_object_foreach(props, k, c)
	{
		char *cpath = xasprintf("%s%s%s", path, *path ? "." : "", k);
		char *cpat = xasprintf("%s%s%s", pattern, *pattern ? "." : "", k);
		json_t *row = json_pack("{s:s, s:s}", "key", k, "path", cpath);

		if (json_object_get(c, "type"))
			json_object_set(row, "type", json_object_get(c, "type"));
		json_object_set_new(row, "required", json_false());
		json_object_set_new(row, "hasChildren", json_boolean(m_schema_has_children(c)));
		m_lookup_meta(row, cpat);
		json_array_append_new(children, row);
		free(cpath);
		free(cpat);
	}
	if (!json_is_object(wild)) {
		wild = json_object_get(node, "items");
		wstep = "[]";
	}
	if (json_is_object(wild)) {
		char *cpath = xasprintf("%s%s*", path, *path ? "." : "");
		char *cpat = xasprintf("%s%s", pattern, wstep);
		json_t *row = json_pack("{s:s, s:s}", "key", "*", "path", cpath);

		if (json_object_get(wild, "type"))
			json_object_set(row, "type", json_object_get(wild, "type"));
		json_object_set_new(row, "required", json_false());
		json_object_set_new(row, "hasChildren", json_boolean(m_schema_has_children(wild)));
		m_lookup_meta(row, cpat);
		json_array_append_new(children, row);
		free(cpath);
		free(cpat);
	}
	return children;
}

static void m_config_schema_lookup(struct gw_call *call)
{
	const char *path;
	char *norm = NULL;
	json_t *node, *out;
	struct buf pattern;
	bool root;
	int nseg = 0;

	if (gw_call_unpack(call, "{s:s}", "path", &path) < 0)
		return;
	if (!m_lookup_path_ok(path)) {
		gw_call_invalid(call,
				"invalid config.schema.lookup params: path must be 1-%d "
				"characters of A-Z a-z 0-9 _ . / [ ] - *",
				CFG_LOOKUP_MAX_PATH);
		return;
	}
	root = !strcmp(path, ".");
	norm = m_lookup_normalize(path);
	node = m_schema_doc(call->gw);
	buf_init(&pattern, BUF_UNLIMITED);
	if (!*norm && !root)
		node = NULL;
	for (char *seg = norm, *dot; node && *seg; seg = dot ? dot + 1 : seg + strlen(seg)) {
		dot = strchr(seg, '.');
		if (dot)
			*dot = '\0';
		if (++nseg > CFG_LOOKUP_MAX_SEGMENTS || !*seg) {
			node = NULL;
			break;
		}
		node = m_lookup_child(node, seg, &pattern);
		if (!dot)
			break;
	}
	free(norm);
	if (!node) {
		buf_release(&pattern);
		gw_call_invalid(call, "config schema path not found");
		return;
	}
	norm = m_lookup_normalize(path);
	out = json_pack("{s:s, s:o}", "path", root ? "." : norm, "schema", m_lookup_strip(node, 0));
	m_lookup_meta(out, pattern.p);
	json_object_set_new(out, "children", m_lookup_children(node, root ? "" : norm, pattern.p));
	free(norm);
	buf_release(&pattern);
	gw_call_ok(call, out);
}

/* ==== writes ==== */

/* One config write's request, as parsed from its params. */
struct m_write {
	const char *method; /* "config.set" ... */
	const char *raw;
	const char *base_hash; /* NULL when not given */
	json_t *replace_paths; /* config.patch: borrowed from params */
	const char *note, *session_key;
	json_t *delivery_context;
	json_int_t restart_delay_ms;
};

/*
 * OpenClaw's control-plane write limit: so many calls per method per client
 * (device, else address) per window. Returns 0, or -1 having answered.
 */
static int m_rate_limit(struct gw_call *call)
{
	struct gw_reload *r = call->gw->reload;
	struct gw_conn *c = call->conn;
	int64_t now = time_mono_ms(), retry;
	struct gw_write_bucket *b = NULL, *oldest = NULL;
	char key[sizeof(b->key)];

	if (!c)
		return 0; /* gone already: the answer is dropped anyway */
	snprintf(key, sizeof(key), "%s|%s|%s", call->method->name,
		 c->device_id[0] ? c->device_id : "unknown-device",
		 c->peer[0] ? c->peer : "unknown-ip");
	for (size_t i = 0; i < r->nbuckets; i++) {
		struct gw_write_bucket *e = &r->buckets[i];

		if (!strcmp(e->key, key)) {
			b = e;
			break;
		}
		if (!oldest || e->window_start_ms < oldest->window_start_ms)
			oldest = e;
	}
	if (!b) {
		if (r->nbuckets < GW_CONFIG_WRITE_BUCKETS) {
			if (!r->buckets)
				r->buckets = xcalloc(GW_CONFIG_WRITE_BUCKETS, sizeof(*r->buckets));
			b = &r->buckets[r->nbuckets++];
		} else {
			b = oldest;
		}
		snprintf(b->key, sizeof(b->key), "%s", key);
		b->count = 0;
		b->window_start_ms = now;
	}
	if (now - b->window_start_ms >= GW_CONFIG_WRITE_WINDOW_MS) {
		b->count = 0;
		b->window_start_ms = now;
	}
	if (b->count < GW_CONFIG_WRITES_PER_WINDOW) {
		b->count++;
		return 0;
	}
	retry = b->window_start_ms + GW_CONFIG_WRITE_WINDOW_MS - now;
	if (retry < 0)
		retry = 0;
	log_warn(CFG_SUBSYS, "config write rate-limited method=%s conn=%.8s retryAfterMs=%lld",
		 call->method->name, c->conn_id, (long long)retry);
	{
		char msg[160];

		snprintf(msg, sizeof(msg), "rate limit exceeded for %s; retry after %llds",
			 call->method->name, (long long)((retry + 999) / 1000));
		gw_call_fail(call, json_pack("{s:s, s:s, s:b, s:I, s:{s:s, s:s}}", "code",
					     GW_E_UNAVAILABLE, "message", msg, "retryable", 1,
					     "retryAfterMs", (json_int_t)retry, "details", "method",
					     call->method->name, "limit", "30 per 60s"));
	}
	return -1;
}

/* Parse and check params shared by the writes. Returns 0, or -1 having answered. */
static int m_write_params(struct gw_call *call, struct m_write *w, bool patch, bool restart)
{
	json_t *thread = NULL;
	int r;

	memset(w, 0, sizeof(*w));
	w->method = call->method->name;
	w->restart_delay_ms = 2000;
	if (!restart)
		r = gw_call_unpack(call, "{s:s, s?s}", "raw", &w->raw, "baseHash", &w->base_hash);
	else if (!patch)
		r = gw_call_unpack(call, "{s:s, s?s, s?s, s?o, s?s, s?I, s?o}", "raw", &w->raw,
				   "baseHash", &w->base_hash, "sessionKey", &w->session_key,
				   "deliveryContext", &w->delivery_context, "note", &w->note,
				   "restartDelayMs", &w->restart_delay_ms, "threadId", &thread);
	else
		r = gw_call_unpack(call, "{s:s, s?s, s?s, s?o, s?s, s?I, s?o, s?o}", "raw", &w->raw,
				   "baseHash", &w->base_hash, "sessionKey", &w->session_key,
				   "deliveryContext", &w->delivery_context, "note", &w->note,
				   "restartDelayMs", &w->restart_delay_ms, "threadId", &thread,
				   "replacePaths", &w->replace_paths);
	if (r < 0)
		return -1;
	if (!*w->raw) {
		gw_call_invalid(call, "invalid %s params: raw must be a non-empty string",
				w->method);
		return -1;
	}
	if (w->base_hash && !*w->base_hash) {
		gw_call_invalid(call, "invalid %s params: baseHash must be a non-empty string",
				w->method);
		return -1;
	}
	if (w->restart_delay_ms < 0) {
		gw_call_invalid(call, "invalid %s params: restartDelayMs must be >= 0", w->method);
		return -1;
	}
	if (w->delivery_context && !json_is_object(w->delivery_context)) {
		gw_call_invalid(call, "invalid %s params: deliveryContext must be an object",
				w->method);
		return -1;
	}
	if (w->replace_paths) {
		size_t i;
		json_t *v;

		if (!json_is_array(w->replace_paths) || json_array_size(w->replace_paths) > 256) {
			gw_call_invalid(call,
					"invalid %s params: replacePaths must be an array of "
					"at most 256 strings",
					w->method);
			return -1;
		}
		json_array_foreach(w->replace_paths, i, v)
		{
			if (!json_is_string(v) || !json_string_length(v)) {
				gw_call_invalid(call,
						"invalid %s params: replacePaths entries must "
						"be non-empty strings",
						w->method);
				return -1;
			}
		}
	}
	return 0;
}

/*
 * Writes against an existing file must name the revision they started
 * from (OpenClaw's optimistic concurrency). Returns 0, or -1 having answered.
 */
static int m_check_base(struct gw_call *call, const struct m_write *w, const struct m_file *f)
{
	char rev[GW_REVISION_LEN];

	if (!f->cfg.exists)
		return 0;
	if (!f->cfg.hash[0]) {
		gw_call_invalid(call, "config base hash unavailable; re-run config.get and retry");
		return -1;
	}
	if (!w->base_hash) {
		gw_call_invalid(call, "config base hash required; re-run config.get and retry");
		return -1;
	}
	gw_config_revision(call->gw, f->cfg.hash, rev);
	if (!str_eq(w->base_hash, rev)) {
		gw_call_invalid(call,
				"config changed since last load; re-run config.get and retry");
		return -1;
	}
	return 0;
}

/* Parse the client's JSON5; an object, with its positions in `pm`. NULL having answered. */
static json_t *m_parse_raw(struct gw_call *call, const struct m_write *w, struct json5_posmap *pm)
{
	struct json5_error jerr;
	json_t *v = json5_parse(w->raw, strlen(w->raw), NULL, pm, &jerr);

	if (!v) {
		gw_call_invalid(call, "JSON5 parse failed at %d:%d: %s", jerr.line, jerr.col,
				jerr.text);
		return NULL;
	}
	if (!json_is_object(v)) {
		gw_call_invalid(call, "%s raw must be an object", w->method);
		json_decref(v);
		return NULL;
	}
	return v;
}

/* The agents a full replacement would drop: config.set refuses those (OpenClaw does). */
static int m_check_roster(struct gw_call *call, const json_t *cur, const json_t *next)
{
	json_t *old = jpath_get((json_t *)cur, "agents.list"), *a, *b;
	json_t *now = jpath_get((json_t *)next, "agents.list");
	struct buf gone;
	size_t i, k;
	int r = 0;

	buf_init(&gone, 64 * 1024);
	json_array_foreach(old, i, a)
	{
		const char *id = json_string_value(json_object_get(a, "id"));
		bool kept = false;

		if (!id)
			continue;
		json_array_foreach(now, k, b)
		{
			const char *nid = json_string_value(json_object_get(b, "id"));

			if (nid && !strcasecmp(nid, id))
				kept = true;
		}
		if (!kept)
			buf_printf(&gone, "%s%s", gone.len ? ", " : "", id);
	}
	if (gone.len) {
		gw_call_invalid(call,
				"config.set would remove existing agent entries: %s. Use "
				"config.apply (or config.patch with replacePaths) for intentional "
				"deletion.",
				gone.p);
		r = -1;
	}
	buf_release(&gone);
	return r;
}

/*
 * A change to restart-kind keys: have the daemon restart the gateway after
 * restartDelayMs (coalesced with any restart already pending) and say so
 * in the answer, as OpenClaw's `restart` member does.
 */
static void m_set_restart(json_t *out, struct gateway *gw, const struct m_write *w)
{
	json_t *r = gateway_request_restart(gw, w->restart_delay_ms, w->method);

	if (r)
		json_object_set_new(out, "restart", r);
}

/*
 * OpenClaw's restart sentinel (the note a restarted gateway delivers to the
 * session that asked for it): reported, not persisted, since pincer has no
 * session delivery yet.
 */
static json_t *m_sentinel(const struct m_write *w, const char *root, bool restart)
{
	json_t *p = json_pack("{s:s, s:s, s:I}", "kind",
			      !strcmp(w->method, "config.patch") ? "config-patch" : "config-apply",
			      "status", "ok", "ts", (json_int_t)time_now_ms());

	if (w->session_key)
		json_object_set_new(p, "sessionKey", json_string(w->session_key));
	if (w->delivery_context)
		json_object_set(p, "deliveryContext", w->delivery_context);
	json_object_set_new(p, "message", w->note ? json_string(w->note) : json_null());
	json_object_set_new(p, "stats",
			    json_pack("{s:s, s:s, s:b}", "mode", w->method, "root", root,
				      "requiresRestart", restart));
	return json_pack("{s:b, s:o}", "persisted", 0, "payload", p);
}

static void m_log_write(struct gw_call *call, const json_t *paths)
{
	struct buf b;
	size_t i;
	json_t *v;

	buf_init(&b, 64 * 1024);
	json_array_foreach(paths, i, v) buf_printf(&b, "%s%s", i ? "," : "", json_string_value(v));
	log_info(CFG_SUBSYS, "%s write conn=%.8s device=%s ip=%s changedPaths=%s",
		 call->method->name, call->conn ? call->conn->conn_id : "-",
		 call->conn && call->conn->device_id[0] ? call->conn->device_id : "unknown-device",
		 call->conn ? call->conn->peer : "-", b.len ? b.p : "(none)");
	buf_release(&b);
}

/* Check `tree` as the gateway would load it. Returns 0, or -1 having answered. */
static int m_validate(struct gw_call *call, const json_t *tree, const struct json5_posmap *pm)
{
	struct buf errs;
	int r = 0;

	buf_init(&errs, 1 << 20);
	if (config_check_candidate(call->gw->cfg->path, tree, pm, true, &errs)) {
		m_fail_invalid(call, errs.p, NULL);
		r = -1;
	}
	buf_release(&errs);
	return r;
}

/*
 * Write, load and apply a validated `tree`. On success returns the new
 * revision in `rev` and the restart-kind paths it changed (appended to
 * `restart`); -1 having answered otherwise.
 */
static int m_commit(struct gw_call *call, const struct m_write *w, const json_t *tree,
		    const json_t *changed, char rev[GW_REVISION_LEN], json_t *restart)
{
	struct gateway *gw = call->gw;
	struct config *next;
	struct buf errs;
	char err[512];
	int r = -1;

	m_log_write(call, changed);
	buf_init(&errs, 1 << 20);
	if (config_write_file(gw->paths, tree, err, sizeof(err)) < 0) {
		log_error(CFG_SUBSYS, "%s: %s", w->method, err);
		gw_call_error(call, GW_E_UNAVAILABLE, err, NULL);
		goto out;
	}
	next = xmalloc(sizeof(*next));
	config_init(next);
	if (config_load(next, gw->cfg->path, &errs) < 0) {
		/* Checked before writing, so only a race with another writer gets here. */
		log_warn(CFG_SUBSYS, "%s: written but not applied: %s", w->method, errs.p);
		config_release(next);
		free(next);
		gw_call_error(call, GW_E_UNAVAILABLE,
			      "config persisted but was not applied to the running gateway (the "
			      "file changed again or no longer loads); run config.get, then "
			      "config.apply to reapply",
			      json_pack("{s:o}", "issues", m_issues(errs.p)));
		goto out;
	}
	gw_config_revision(gw, next->hash, rev);
	gw_config_apply(gw, next, w->method, restart);
	r = 0;
out:
	buf_release(&errs);
	return r;
}

/* {ok, path, hash, config} and what set/patch/apply add to it. */
static json_t *m_write_result(struct gateway *gw, const char *rev, const json_t *tree)
{
	return json_pack("{s:b, s:s, s:s, s:o}", "ok", 1, "path", gw->cfg->path, "hash", rev,
			 "config", config_redact(tree, NULL));
}

/* config.set {raw, baseHash?} and config.apply {raw, baseHash?, note?, restartDelayMs?, ...}. */
static void m_config_replace(struct gw_call *call, bool apply)
{
	struct gateway *gw = call->gw;
	struct m_write w;
	struct m_file f;
	struct json5_posmap pm = { 0 };
	json_t *in = NULL, *tree = NULL, *restart = json_array(), *changed = json_array(), *out;
	json_t *none = json_object();
	char err[512], rev[GW_REVISION_LEN];

	if (apply && m_rate_limit(call) < 0)
		goto done;
	if (m_write_params(call, &w, false, apply) < 0)
		goto done;
	m_file_read(gw, &f);
	if (m_check_base(call, &w, &f) < 0 || !(in = m_parse_raw(call, &w, &pm)))
		goto out;
	/* Masked credentials stand for what the file holds. */
	tree = config_restore_redacted(in, f.parsed ? f.parsed : none, err, sizeof(err));
	if (!tree) {
		gw_call_invalid(call, "%s", err);
		goto out;
	}
	if (m_validate(call, tree, &pm) < 0)
		goto out;
	if (!apply && f.parsed && m_check_roster(call, f.parsed, tree) < 0)
		goto out;
	config_diff_paths(f.parsed, tree, false, changed);
	if (m_commit(call, &w, tree, changed, rev, restart) < 0)
		goto out;
	out = m_write_result(gw, rev, tree);
	if (apply) {
		bool need = json_array_size(restart) > 0;

		json_object_set_new(out, "restartRequired", json_boolean(need));
		if (need)
			json_object_set(out, "restartPaths", restart);
		json_object_set_new(out, "sentinel", m_sentinel(&w, gw->cfg->path, need));
		if (need)
			m_set_restart(out, gw, &w);
	}
	gw_call_ok(call, out);
out:
	m_file_release(&f);
done:
	json5_posmap_release(&pm);
	json_decref(in);
	json_decref(tree);
	json_decref(restart);
	json_decref(changed);
	json_decref(none);
}

static void m_config_set(struct gw_call *call)
{
	m_config_replace(call, false);
}

static void m_config_apply(struct gw_call *call)
{
	m_config_replace(call, true);
}

/*
 * Where a problem in the merged tree was written in the patch: the
 * patch's positions for the paths that hold the very same value in both
 * (a merge by id can move an entry to another index, and then its
 * position is left out rather than pointing at the wrong text).
 */
static void m_patch_positions(const struct json5_posmap *ppm, json_t *patch, json_t *tree,
			      struct json5_posmap *out)
{
	for (size_t i = 0; i < ppm->n; i++) {
		const struct json5_pos *p = &ppm->v[i];
		json_t *a, *b;

		if (!*p->path || !(a = jpath_get(patch, p->path)) ||
		    !(b = jpath_get(tree, p->path)) || !json_equal(a, b))
			continue;
		out->v = xgrow(out->v, &out->alloc, out->n + 1, sizeof(*out->v));
		out->v[out->n] = *p;
		out->v[out->n++].path = xstrdup(p->path);
	}
}

/* config.patch {raw (a merge patch), baseHash?, replacePaths?, note?, restartDelayMs?, ...}. */
static void m_config_patch(struct gw_call *call)
{
	struct gateway *gw = call->gw;
	struct m_write w;
	struct m_file f;
	json_t *patch = NULL, *replace = NULL, *merged = NULL, *tree = NULL;
	json_t *changed = json_array(), *lost = json_array(), *restart = json_array(), *out;
	struct json5_posmap patch_pm = { 0 }, pm = { 0 };
	char err[512], rev[GW_REVISION_LEN];

	if (m_rate_limit(call) < 0 || m_write_params(call, &w, true, true) < 0)
		goto done;
	m_file_read(gw, &f);
	if (m_check_base(call, &w, &f) < 0)
		goto out;
	if (!f.valid || !f.parsed) {
		m_fail_invalid(call, f.errs.p, "; fix it (pincer config validate) before patching");
		goto out;
	}
	if (!(patch = m_parse_raw(call, &w, &patch_pm)))
		goto out;
	replace = config_patch_replace_set(w.replace_paths);
	merged = config_merge_patch(f.parsed, patch, replace);
	tree = config_restore_redacted(merged, f.parsed, err, sizeof(err));
	if (!tree) {
		gw_call_invalid(call, "%s", err);
		goto out;
	}
	config_patch_destructive(f.parsed, patch, tree, replace, lost);
	if (json_array_size(lost)) {
		struct buf list;
		size_t i;
		json_t *v;

		buf_init(&list, 64 * 1024);
		json_array_foreach(lost, i, v)
			buf_printf(&list, "%s%s", i ? ", " : "", json_string_value(v));
		gw_call_invalid(call,
				"config.patch would remove entries from array path(s): %s. Pass "
				"replacePaths with the exact path(s) when this is intentional, or "
				"use config.apply for full-config replacement.",
				list.p);
		buf_release(&list);
		goto out;
	}
	config_diff_paths(f.parsed, tree, false, changed);
	if (!json_array_size(changed)) {
		log_info(CFG_SUBSYS, "config.patch noop conn=%.8s (no changed paths)",
			 call->conn ? call->conn->conn_id : "-");
		gw_call_ok(call, json_pack("{s:b, s:b, s:[], s:s, s:o}", "ok", 1, "noop", 1,
					   "changedPaths", "path", gw->cfg->path, "config",
					   config_redact(tree, NULL)));
		goto out;
	}
	m_patch_positions(&patch_pm, patch, tree, &pm);
	if (m_validate(call, tree, &pm) < 0 || m_commit(call, &w, tree, changed, rev, restart) < 0)
		goto out;
	out = m_write_result(gw, rev, tree);
	json_object_set(out, "changedPaths", changed);
	json_object_set_new(out, "restartRequired", json_boolean(json_array_size(restart) > 0));
	if (json_array_size(restart))
		json_object_set(out, "restartPaths", restart);
	json_object_set_new(out, "sentinel",
			    m_sentinel(&w, gw->cfg->path, json_array_size(restart) > 0));
	if (json_array_size(restart))
		m_set_restart(out, gw, &w);
	gw_call_ok(call, out);
out:
	m_file_release(&f);
done:
	json_decref(patch);
	json_decref(replace);
	json_decref(merged);
	json_decref(tree);
	json_decref(changed);
	json_decref(lost);
	json_decref(restart);
	json5_posmap_release(&patch_pm);
	json5_posmap_release(&pm);
}

const struct gw_method gw_methods_config[] = {
	{ "config.get", SCOPE_READ, m_config_get },
	{ "config.schema", SCOPE_READ, m_config_schema },
	{ "config.schema.lookup", SCOPE_READ, m_config_schema_lookup },
	{ "config.set", SCOPE_ADMIN, m_config_set },
	{ "config.patch", SCOPE_ADMIN, m_config_patch },
	{ "config.apply", SCOPE_ADMIN, m_config_apply },
	{ NULL },
};
