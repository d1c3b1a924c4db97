/*
 * skills.c - SKILL.md discovery, front matter, gating, the prompt block and
 * the status report; see skills.h.
 */
#include "skills/skills.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "agent/workspace.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/json5.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

/* Front matter nesting and output size caps: YAML aliases can multiply nodes. */
#define FM_MAX_DEPTH 64
#define FM_MAX_NODES 20000

/* ==== front matter ==== */

/* Copy with the BOM dropped and CRLF/CR turned into LF. */
static char *fm_normalize(const char *text, size_t len, size_t *outlen)
{
	char *r = xmalloc(len + 1);
	size_t i = 0, o = 0;

	if (len >= 3 && (unsigned char)text[0] == 0xef && (unsigned char)text[1] == 0xbb &&
	    (unsigned char)text[2] == 0xbf)
		i = 3;
	for (; i < len; i++) {
		if (text[i] == '\r') {
			r[o++] = '\n';
			if (i + 1 < len && text[i + 1] == '\n')
				i++;
		} else {
			r[o++] = text[i];
		}
	}
	r[o] = '\0';
	*outlen = o;
	return r;
}

/* Length of a delimiter line "---[ \t]*" at p (0 if not one), not counting its LF. */
static size_t fm_delim(const char *p, const char *end)
{
	const char *q = p + 3;

	if (end - p < 3 || memcmp(p, "---", 3) != 0)
		return 0;
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	if (q < end && *q != '\n')
		return 0;
	return (size_t)(q - p);
}

/*
 * Find the block between the delimiters in normalized text. Returns 1 with
 * [*bs, *be) the block and *body the rest, 0 when there is no front matter,
 * -1 when it is not closed.
 */
static int fm_split(const char *s, size_t len, size_t *bs, size_t *be, size_t *body)
{
	const char *end = s + len, *p;
	size_t d = fm_delim(s, end);

	if (!d || s + d >= end) /* "---" alone, with no newline, opens nothing */
		return d && s + d == end ? -1 : 0;
	*bs = d + 1;
	p = s + *bs;
	for (;;) {
		size_t cd = fm_delim(p, end);

		if (cd) {
			*be = (size_t)(p - s);
			*body = (size_t)(p - s) + cd + (p + cd < end ? 1 : 0);
			return 1;
		}
		p = memchr(p, '\n', (size_t)(end - p));
		if (!p)
			return -1;
		p++;
	}
}

struct fm_conv {
	yaml_document_t *doc;
	int nodes;
};

static bool fm_plain_null(const char *v, size_t n)
{
	return n == 0 || (n == 1 && v[0] == '~') ||
	       (n == 4 &&
		(!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) || !memcmp(v, "NULL", 4)));
}

/* A plain scalar typed as YAML 1.2's core schema does. */
static json_t *fm_plain_scalar(const char *v, size_t n)
{
	char *tmp, *endp;
	long long ll;
	double d;
	json_t *r = NULL;

	if (fm_plain_null(v, n))
		return json_null();
	if ((n == 4 && (!memcmp(v, "true", 4) || !memcmp(v, "True", 4) || !memcmp(v, "TRUE", 4))))
		return json_true();
	if ((n == 5 &&
	     (!memcmp(v, "false", 5) || !memcmp(v, "False", 5) || !memcmp(v, "FALSE", 5))))
		return json_false();
	tmp = xstrndup(v, n);
	if (n && (isdigit((unsigned char)tmp[0]) ||
		  ((tmp[0] == '-' || tmp[0] == '+' || tmp[0] == '.') && n > 1))) {
		errno = 0;
		ll = strtoll(tmp, &endp, 10);
		if (!*endp && !errno) {
			r = json_integer(ll);
		} else {
			d = strtod(tmp, &endp);
			if (!*endp && d == d && d - d == 0 && !strpbrk(tmp, "xXpP"))
				r = json_real(d);
		}
	}
	if (!r)
		r = json_stringn_nocheck(v, n);
	free(tmp);
	return r;
}

static json_t *fm_node(struct fm_conv *c, yaml_node_t *node, int depth, char *err, size_t errlen)
{
	json_t *r, *k, *v;
	yaml_node_item_t *it;
	yaml_node_pair_t *pr;

	if (!node || depth > FM_MAX_DEPTH || ++c->nodes > FM_MAX_NODES) {
		snprintf(err, errlen, "invalid frontmatter: too deeply nested or too large");
		return NULL;
	}
	switch (node->type) {
	case YAML_SCALAR_NODE:
		if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			return fm_plain_scalar((const char *)node->data.scalar.value,
					       node->data.scalar.length);
		return json_stringn_nocheck((const char *)node->data.scalar.value,
					    node->data.scalar.length);
	case YAML_SEQUENCE_NODE:
		r = json_array();
		for (it = node->data.sequence.items.start; it < node->data.sequence.items.top;
		     it++) {
			v = fm_node(c, yaml_document_get_node(c->doc, *it), depth + 1, err, errlen);
			if (!v) {
				json_decref(r);
				return NULL;
			}
			json_array_append_new(r, v);
		}
		return r;
	case YAML_MAPPING_NODE:
		r = json_object();
		for (pr = node->data.mapping.pairs.start; pr < node->data.mapping.pairs.top; pr++) {
			k = fm_node(c, yaml_document_get_node(c->doc, pr->key), depth + 1, err,
				    errlen);
			if (!k) {
				json_decref(r);
				return NULL;
			}
			v = fm_node(c, yaml_document_get_node(c->doc, pr->value), depth + 1, err,
				    errlen);
			if (!v) {
				json_decref(k);
				json_decref(r);
				return NULL;
			}
			/* JavaScript object keys are strings: true -> "true", 1 -> "1". */
			if (json_is_string(k)) {
				json_object_set_new_nocheck(r, json_string_value(k), v);
			} else {
				char *ks = json_is_null(k) ? xstrdup("null")
							   : json_dumps(k, JSON_ENCODE_ANY);
				json_object_set_new_nocheck(r, ks ? ks : "", v);
				free(ks);
			}
			json_decref(k);
		}
		return r;
	default:
		snprintf(err, errlen, "invalid frontmatter: empty YAML node");
		return NULL;
	}
}

/* A scalar's text trimmed, or NULL for a YAML null (the key is then dropped). */
static json_t *fm_top_value(yaml_node_t *node, json_t *conv)
{
	const char *s;
	size_t n;

	if (node->type != YAML_SCALAR_NODE)
		return json_incref(conv);
	s = (const char *)node->data.scalar.value;
	n = node->data.scalar.length;
	if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && fm_plain_null(s, n))
		return NULL;
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return json_stringn_nocheck(s, n);
}

/*
 * Parse one YAML block. Returns 0 with *out, -1 with err; on a YAML syntax
 * error *errline is its 0-based line, else -1.
 */
static int fm_yaml(const char *block, size_t len, json_t **out, long *errline, char *err,
		   size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *k;
	yaml_node_pair_t *pr;
	struct fm_conv c = { &doc, 0 };
	json_t *obj, *v, *tv;
	int rc = -1;

	*errline = -1;
	if (!yaml_parser_initialize(&parser))
		BUG("yaml_parser_initialize failed");
	yaml_parser_set_input_string(&parser, (const unsigned char *)block, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	if (!yaml_parser_load(&parser, &doc)) {
		*errline = (long)parser.problem_mark.line;
		snprintf(err, errlen, "invalid frontmatter: %s%s%s at line %ld",
			 parser.problem ? parser.problem : "YAML error", parser.context ? " " : "",
			 parser.context ? parser.context : "", (long)parser.problem_mark.line + 2);
		yaml_parser_delete(&parser);
		return -1;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) { /* only comments */
		*out = json_object();
		rc = 0;
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		snprintf(err, errlen, "invalid frontmatter: frontmatter must be a YAML mapping");
		goto out;
	}
	obj = json_object();
	for (pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
		char *key;
		size_t kn;

		k = yaml_document_get_node(&doc, pr->key);
		if (!k || k->type != YAML_SCALAR_NODE) {
			snprintf(err, errlen, "invalid frontmatter: keys must be plain strings");
			json_decref(obj);
			goto out;
		}
		key = (char *)k->data.scalar.value;
		kn = k->data.scalar.length;
		while (kn && isspace((unsigned char)*key))
			key++, kn--;
		while (kn && isspace((unsigned char)key[kn - 1]))
			kn--;
		if (!kn || memchr(key, '\0', kn))
			continue;
		key = xstrndup(key, kn);
		if (json_object_get(obj, key)) {
			snprintf(err, errlen, "invalid frontmatter: duplicate key \"%.60s\"", key);
			free(key);
			json_decref(obj);
			goto out;
		}
		v = fm_node(&c, yaml_document_get_node(&doc, pr->value), 1, err, errlen);
		if (!v) {
			free(key);
			json_decref(obj);
			goto out;
		}
		tv = fm_top_value(yaml_document_get_node(&doc, pr->value), v);
		json_decref(v);
		if (tv)
			json_object_set_new(obj, key, tv);
		free(key);
	}
	*out = obj;
	rc = 0;
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

/*
 * OpenClaw's recovery for free text that is not valid YAML
 * ("description: Use when: x"): the offending top-level description (or
 * read_when/summary holding ": ") line is rewritten as a quoted string.
 * Returns a new block, or NULL when the error is not of that kind.
 */
static char *fm_recover(const char *block, size_t len, long line, size_t *newlen)
{
	static const char *const keys[] = { "description", "read_when", "summary" };
	const char *ls = block, *le, *end = block + len, *val;
	struct buf b;
	size_t kl = 0, i, vn;
	json_t *js;
	char *q;

	for (long l = 0; l < line && ls; l++) {
		ls = memchr(ls, '\n', (size_t)(end - ls));
		if (ls)
			ls++;
	}
	if (!ls || ls >= end)
		return NULL;
	le = memchr(ls, '\n', (size_t)(end - ls));
	if (!le)
		le = end;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		kl = strlen(keys[i]);
		if ((size_t)(le - ls) > kl && !memcmp(ls, keys[i], kl) && ls[kl] == ':')
			break;
	}
	if (i == ARRAY_SIZE(keys))
		return NULL;
	val = ls + kl + 1;
	while (val < le && isspace((unsigned char)*val))
		val++;
	vn = (size_t)(le - val);
	while (vn && isspace((unsigned char)val[vn - 1]))
		vn--;
	if (!vn || (i > 0 && !memmem(val, vn, ": ", 2)) || val[0] == '|' || val[0] == '>')
		return NULL;
	if (vn >= 2 && (val[0] == '"' || val[0] == '\'') && val[vn - 1] == val[0])
		val++, vn -= 2;
	js = json_stringn_nocheck(val, vn);
	q = json_dumps(js, JSON_ENCODE_ANY);
	json_decref(js);
	if (!q)
		return NULL;
	buf_init(&b, BUF_UNLIMITED);
	buf_append(&b, block, (size_t)(ls - block));
	buf_printf(&b, "%s: %s", keys[i], q);
	buf_append(&b, le, (size_t)(end - le));
	free(q);
	return buf_detach(&b, newlen);
}

int skill_frontmatter_parse(const char *text, size_t len, json_t **out, char *err, size_t errlen)
{
	size_t nlen, bs = 0, be = 0, body = 0, blen;
	char *norm = fm_normalize(text, len, &nlen), *block, *next;
	long line;
	int r, tries;

	*out = NULL;
	r = fm_split(norm, nlen, &bs, &be, &body);
	if (r == 0) {
		*out = json_object();
		free(norm);
		return 0;
	}
	if (r < 0) {
		snprintf(err, errlen, "invalid frontmatter: missing closing --- delimiter");
		free(norm);
		return -1;
	}
	blen = be - bs;
	block = xstrndup(norm + bs, blen);
	free(norm);
	r = fm_yaml(block, blen, out, &line, err, errlen);
	for (tries = 0; r < 0 && line >= 0 && tries < 3; tries++) {
		next = fm_recover(block, blen, line, &blen);
		if (!next)
			break;
		free(block);
		block = next;
		r = fm_yaml(block, blen, out, &line, err, errlen);
	}
	free(block);
	if (r == 0 && errlen)
		err[0] = '\0'; /* a recovered parse leaves no stale message behind */
	return r;
}

char *skill_body(const char *text, size_t len)
{
	size_t nlen, bs, be, body = 0, e;
	char *norm = fm_normalize(text, len, &nlen), *r;

	if (fm_split(norm, nlen, &bs, &be, &body) != 1)
		body = 0;
	while (body < nlen && isspace((unsigned char)norm[body]))
		body++;
	e = nlen;
	while (e > body && isspace((unsigned char)norm[e - 1]))
		e--;
	r = xstrndup(norm + body, e - body);
	free(norm);
	return r;
}

char *skill_expand_basedir(const char *text, const char *base_dir)
{
	static const char tok[] = "{baseDir}";
	struct buf b;
	const char *p = text, *q;

	buf_init(&b, BUF_UNLIMITED);
	while ((q = strstr(p, tok))) {
		buf_append(&b, p, (size_t)(q - p));
		buf_puts(&b, base_dir);
		p = q + sizeof(tok) - 1;
	}
	buf_puts(&b, p);
	return buf_detach(&b, NULL);
}

json_t *skill_manifest(json_t *fm, json_t **owned)
{
	static const char *const keys[] = { "openclaw", "pincer", "clawdbot" };
	json_t *md = json_object_get(fm, "metadata"), *m;
	struct json5_error e;
	size_t i;

	*owned = NULL;
	if (json_is_string(md)) {
		*owned = json5_parse(json_string_value(md), json_string_length(md), NULL, NULL, &e);
		md = *owned;
	}
	if (!json_is_object(md))
		return NULL;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		m = json_object_get(md, keys[i]);
		if (json_is_object(m))
			return m;
	}
	return NULL;
}

/* ==== helpers ==== */

/* A string list as OpenClaw normalizes one: an array of strings or "a, b". */
static json_t *sk_list(json_t *v)
{
	json_t *r = json_array(), *x;
	size_t i;

	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
		{
			const char *s = json_string_value(x);
			size_t n;

			if (!s)
				continue;
			while (isspace((unsigned char)*s))
				s++;
			n = strlen(s);
			while (n && isspace((unsigned char)s[n - 1]))
				n--;
			if (n)
				json_array_append_new(r, json_stringn_nocheck(s, n));
		}
	} else if (json_is_string(v)) {
		char *dup = xstrdup(json_string_value(v)), *save = NULL, *t;

		for (t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			size_t n;

			while (isspace((unsigned char)*t))
				t++;
			n = strlen(t);
			while (n && isspace((unsigned char)t[n - 1]))
				n--;
			if (n)
				json_array_append_new(r, json_stringn_nocheck(t, n));
		}
		free(dup);
	}
	return r;
}

static const char *sk_trimmed(json_t *v)
{
	const char *s = json_string_value(v);

	while (s && isspace((unsigned char)*s))
		s++;
	return s && *s ? s : NULL;
}

static char *sk_strdup_trim(const char *s)
{
	size_t n;

	if (!s)
		return NULL;
	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return n ? xstrndup(s, n) : NULL;
}

/* OpenClaw's parseBooleanValue: true/false/yes/no/on/off/1/0. */
static bool sk_bool(json_t *v, bool dflt)
{
	static const char *const yes[] = { "true", "yes", "on", "1", "y" };
	static const char *const no[] = { "false", "no", "off", "0", "n" };
	const char *s = sk_trimmed(v);
	size_t i;

	if (json_is_boolean(v))
		return json_is_true(v);
	if (!s)
		return dflt;
	for (i = 0; i < ARRAY_SIZE(yes); i++)
		if (!strcasecmp(s, yes[i]))
			return true;
	for (i = 0; i < ARRAY_SIZE(no); i++)
		if (!strcasecmp(s, no[i]))
			return false;
	return dflt;
}

struct bin_cache {
	json_t *seen; /* name -> bool */
};

static bool sk_has_bin(struct bin_cache *bc, const char *bin)
{
	json_t *hit = json_object_get(bc->seen, bin);
	const char *path = getenv("PATH");
	char *dup, *save = NULL, *dir, *p;
	bool found = false;
	struct stat st;

	if (hit)
		return json_is_true(hit);
	if (strchr(bin, '/')) {
		found = access(bin, X_OK) == 0 && stat(bin, &st) == 0 && S_ISREG(st.st_mode);
	} else if (path) {
		dup = xstrdup(path);
		for (dir = strtok_r(dup, ":", &save); dir && !found;
		     dir = strtok_r(NULL, ":", &save)) {
			p = fs_join(dir, bin);
			found = access(p, X_OK) == 0 && stat(p, &st) == 0 && S_ISREG(st.st_mode);
			free(p);
		}
		free(dup);
	}
	json_object_set_new(bc->seen, bin, json_boolean(found));
	return found;
}

static bool sk_truthy(const json_t *v)
{
	if (!v || json_is_null(v))
		return false;
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_number(v))
		return json_number_value(v) != 0;
	if (json_is_string(v))
		return sk_trimmed((json_t *)v) != NULL;
	return true;
}

/* A config path for requires.config: dot-separated keys, blank parts skipped. */
static bool sk_config_truthy(const struct config *cfg, const char *path)
{
	json_t *cur = cfg ? cfg->root : NULL;
	char *dup = xstrdup(path), *save = NULL, *part;
	bool r;

	for (part = strtok_r(dup, ".", &save); part && cur; part = strtok_r(NULL, ".", &save)) {
		if (!strcmp(part, "__proto__") || !strcmp(part, "constructor") ||
		    !strcmp(part, "prototype")) {
			cur = NULL;
			break;
		}
		cur = json_is_object(cur) ? json_object_get(cur, part) : NULL;
	}
	free(dup);
	if (!cur && (!strcmp(path, "browser.enabled") || !strcmp(path, "browser.evaluateEnabled")))
		return true;
	r = sk_truthy(cur);
	return r;
}

static const char *sk_platform(void)
{
#if defined(__APPLE__)
	return "darwin";
#elif defined(_WIN32)
	return "win32";
#elif defined(__FreeBSD__)
	return "freebsd";
#else
	return "linux";
#endif
}

static json_t *sk_entry_config(const struct config *cfg, const char *key)
{
	json_t *skills = cfg && cfg->root ? json_object_get(cfg->root, "skills") : NULL;
	json_t *e = json_object_get(json_object_get(skills, "entries"), key);

	return json_is_object(e) ? e : NULL;
}

static bool sk_env_ok(const char *name, json_t *entry, const char *primary_env)
{
	const char *v = getenv(name);
	json_t *api;

	while (v && isspace((unsigned char)*v))
		v++;
	if (v && *v)
		return true;
	if (sk_trimmed(json_object_get(json_object_get(entry, "env"), name)))
		return true;
	if (primary_env && !strcmp(primary_env, name)) {
		api = json_object_get(entry, "apiKey");
		/* A string, or a SecretRef object: configured either way. */
		if (sk_trimmed(api) || (json_is_object(api) && json_object_size(api) > 0))
			return true;
	}
	return false;
}

static bool sk_list_has(json_t *list, const char *s)
{
	json_t *x;
	size_t i;

	json_array_foreach(list, i, x) if (str_eq(json_string_value(x), s)) return true;
	return false;
}

/* ==== evaluating one skill ==== */

static json_t *sk_install(json_t *manifest, const char *platform)
{
	json_t *r = json_array(), *spec, *os, *bins;
	const char *kind, *label, *what;
	size_t i;

	json_array_foreach(json_object_get(manifest, "install"), i, spec)
	{
		json_t *o;

		if (!json_is_object(spec))
			continue;
		kind = json_string_value(json_object_get(spec, "kind"));
		if (!kind)
			kind = json_string_value(json_object_get(spec, "type"));
		if (!kind || (strcmp(kind, "brew") && strcmp(kind, "node") && strcmp(kind, "go") &&
			      strcmp(kind, "uv") && strcmp(kind, "download")))
			continue;
		os = sk_list(json_object_get(spec, "os"));
		if (json_array_size(os) && !sk_list_has(os, platform)) {
			json_decref(os);
			continue;
		}
		json_decref(os);
		what = json_string_value(json_object_get(spec, !strcmp(kind, "brew") ? "formula"
							       : !strcmp(kind, "go") ? "module"
							       : !strcmp(kind, "download")
								       ? "url"
								       : "package"));
		label = json_string_value(json_object_get(spec, "label"));
		bins = sk_list(json_object_get(spec, "bins"));
		o = json_object();
		if (json_is_string(json_object_get(spec, "id")))
			json_object_set(o, "id", json_object_get(spec, "id"));
		else
			json_object_set_new(o, "id", json_sprintf("%s-%zu", kind, i));
		json_object_set_new(o, "kind", json_string(kind));
		if (label)
			json_object_set_new(o, "label", json_string(label));
		else if (what)
			json_object_set_new(o, "label",
					    json_sprintf("Install %s (%s)", what, kind));
		else
			json_object_set_new(o, "label", json_string("Run installer"));
		json_object_set_new(o, "bins", bins);
		json_array_append_new(r, o);
	}
	return r;
}

static void sk_evaluate(struct skill *s, json_t *manifest, const struct config *cfg,
			json_t *allow_bundled, struct bin_cache *bc)
{
	const char *platform = sk_platform();
	json_t *req = json_object_get(manifest, "requires"), *entry, *x;
	json_t *bins, *any, *env, *conf, *os;
	json_t *mb = json_array(), *ma = json_array(), *me = json_array(), *mc = json_array(),
	       *mo = json_array();
	bool any_ok = false;
	size_t i;

	bins = sk_list(json_object_get(req, "bins"));
	any = sk_list(json_object_get(req, "anyBins"));
	env = sk_list(json_object_get(req, "env"));
	conf = sk_list(json_object_get(req, "config"));
	os = sk_list(json_object_get(manifest, "os"));
	entry = sk_entry_config(cfg, s->skill_key);

	s->disabled = json_is_false(json_object_get(entry, "enabled"));
	s->blocked_by_allowlist = !strcmp(s->source, "bundled") && json_array_size(allow_bundled) &&
				  !sk_list_has(allow_bundled, s->skill_key) &&
				  !sk_list_has(allow_bundled, s->name);

	json_array_foreach(bins, i, x) if (!sk_has_bin(bc, json_string_value(x)))
		json_array_append(mb, x);
	json_array_foreach(any, i, x) if (sk_has_bin(bc, json_string_value(x))) any_ok = true;
	if (json_array_size(any) && !any_ok)
		json_array_extend(ma, any);
	json_array_foreach(env, i, x) if (!sk_env_ok(json_string_value(x), entry, s->primary_env))
		json_array_append(me, x);
	s->config_checks = json_array();
	json_array_foreach(conf, i, x)
	{
		bool ok = sk_config_truthy(cfg, json_string_value(x));

		json_array_append_new(s->config_checks,
				      json_pack("{s:O,s:b}", "path", x, "satisfied", ok));
		if (!ok)
			json_array_append(mc, x);
	}
	if (json_array_size(os)) {
		bool ok = false;

		json_array_foreach(os, i, x)
		{
			const char *o = json_string_value(x);

			if (!strcasecmp(o, platform) ||
			    (!strcasecmp(o, "macos") && !strcmp(platform, "darwin")))
				ok = true;
		}
		if (!ok)
			json_array_extend(mo, os);
	}
	if (s->always) {
		json_array_clear(mb);
		json_array_clear(ma);
		json_array_clear(me);
		json_array_clear(mc);
	}
	s->requirements = json_pack("{s:o,s:o,s:o,s:o,s:o}", "bins", bins, "anyBins", any, "env",
				    env, "config", conf, "os", os);
	s->missing = json_pack("{s:o,s:o,s:o,s:o,s:o}", "bins", mb, "anyBins", ma, "env", me,
			       "config", mc, "os", mo);
	s->eligible = !s->disabled && !s->blocked_by_allowlist && json_array_size(mo) == 0 &&
		      (s->always || (json_array_size(mb) == 0 && json_array_size(ma) == 0 &&
				     json_array_size(me) == 0 && json_array_size(mc) == 0));
	s->install = sk_install(manifest, platform);
}

static void skill_free(struct skill *s)
{
	free(s->name);
	free(s->description);
	free(s->location);
	free(s->base_dir);
	free(s->skill_key);
	free(s->homepage);
	free(s->emoji);
	free(s->primary_env);
	json_decref(s->requirements);
	json_decref(s->missing);
	json_decref(s->config_checks);
	json_decref(s->install);
	json_decref(s->frontmatter);
	memset(s, 0, sizeof(*s));
}

/* ==== discovery ==== */

struct root {
	char *dir;
	const char *source, *label;
};

static void sk_invalid(struct skill_set *set, const char *path, const char *msg)
{
	log_warn("skills", "skipping %s: %s", path, msg);
	json_array_append_new(set->invalid, json_pack("{s:s,s:s}", "path", path, "message", msg));
}

/* Add or replace (same name: the later source wins). Takes ownership of *s. */
static void sk_put(struct skill_set *set, struct skill *s)
{
	for (size_t i = 0; i < set->n; i++) {
		if (!strcmp(set->v[i].name, s->name)) {
			if (strcmp(set->v[i].location, s->location))
				log_debug("skills", "skill %s: %s:%s overrides %s:%s", s->name,
					  s->source, s->location, set->v[i].source,
					  set->v[i].location);
			skill_free(&set->v[i]);
			set->v[i] = *s;
			return;
		}
	}
	set->v = xgrow(set->v, &set->alloc, set->n + 1, sizeof(*set->v));
	set->v[set->n++] = *s;
}

static void sk_load_one(struct skill_set *set, const char *skill_dir, const struct root *rt)
{
	char *file = fs_join(skill_dir, "SKILL.md"), *real = NULL, *realdir = NULL;
	char err[256];
	struct skill s = { 0 };
	struct buf b;
	json_t *fm = NULL, *man, *owned = NULL;
	const char *base;

	if (!fs_exists(file))
		goto out;
	buf_init(&b, SKILL_MAX_FILE_BYTES);
	if (fs_read_file(file, &b) < 0) {
		if (errno == E2BIG)
			snprintf(err, sizeof(err), "SKILL.md is larger than %d bytes",
				 SKILL_MAX_FILE_BYTES);
		else
			snprintf(err, sizeof(err), "cannot read SKILL.md: %s", strerror(errno));
		sk_invalid(set, file, err);
		buf_release(&b);
		goto out;
	}
	if (skill_frontmatter_parse(b.p, b.len, &fm, err, sizeof(err)) < 0) {
		sk_invalid(set, file, err);
		buf_release(&b);
		goto out;
	}
	buf_release(&b);
	real = realpath(file, NULL);
	realdir = realpath(skill_dir, NULL);
	base = strrchr(skill_dir, '/');
	base = base ? base + 1 : skill_dir;
	s.name = sk_strdup_trim(json_string_value(json_object_get(fm, "name")));
	if (!s.name)
		s.name = sk_strdup_trim(base);
	s.description = sk_strdup_trim(json_string_value(json_object_get(fm, "description")));
	if (!s.name || !s.description) {
		sk_invalid(set, file, !s.name ? "name is required" : "description is required");
		skill_free(&s);
		json_decref(fm);
		goto out;
	}
	/* Descriptions are one line in the catalog; YAML block scalars may hold several. */
	for (char *p = s.description; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	s.location = xstrdup(real ? real : file);
	s.base_dir = xstrdup(realdir ? realdir : skill_dir);
	s.source = rt->source;
	s.source_label = rt->label;
	s.frontmatter = fm;
	s.user_invocable = sk_bool(json_object_get(fm, "user-invocable"), true);
	s.disable_model_invocation =
		sk_bool(json_object_get(fm, "disable-model-invocation"), false);
	man = skill_manifest(fm, &owned);
	s.skill_key = sk_strdup_trim(json_string_value(json_object_get(man, "skillKey")));
	if (!s.skill_key)
		s.skill_key = xstrdup(s.name);
	s.always = json_is_true(json_object_get(man, "always"));
	s.emoji = sk_strdup_trim(json_string_value(json_object_get(man, "emoji")));
	if (!s.emoji)
		s.emoji = sk_strdup_trim(json_string_value(json_object_get(fm, "emoji")));
	s.homepage = sk_strdup_trim(json_string_value(json_object_get(man, "homepage")));
	if (!s.homepage)
		s.homepage = sk_strdup_trim(json_string_value(json_object_get(fm, "homepage")));
	s.primary_env = sk_strdup_trim(json_string_value(json_object_get(man, "primaryEnv")));
	/* Gating needs the config and PATH; skills_load finishes it (sk_evaluate). */
	s.requirements = man ? json_incref(man) : json_object();
	json_decref(owned);
	sk_put(set, &s);
out:
	free(real);
	free(realdir);
	free(file);
}

static int sk_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sk_load_root(struct skill_set *set, const struct root *rt)
{
	char *self = fs_join(rt->dir, "SKILL.md"), **names = NULL, *sub;
	size_t n = 0, alloc = 0;
	struct dirent *de;
	DIR *d;

	if (fs_exists(self)) {
		free(self);
		sk_load_one(set, rt->dir, rt);
		return;
	}
	free(self);
	d = opendir(rt->dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "node_modules"))
			continue;
		if (n == SKILLS_MAX_PER_ROOT) {
			log_warn("skills", "%s: more than %d skill folders, ignoring the rest",
				 rt->dir, SKILLS_MAX_PER_ROOT);
			break;
		}
		names = xgrow(names, &alloc, n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	/* readdir order is the filesystem's: sort so equal names resolve the same way every time. */
	if (n)
		qsort(names, n, sizeof(*names), sk_cmp_str);
	for (size_t i = 0; i < n; i++) {
		sub = fs_join(rt->dir, names[i]);
		if (fs_is_dir(sub))
			sk_load_one(set, sub, rt);
		free(sub);
		free(names[i]);
	}
	free(names);
}

/* Directory of the running executable, or NULL. */
static char *sk_exe_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return fs_dirname(buf);
}

static char *sk_bundled_dir(void)
{
	const char *env = getenv("PINCER_BUNDLED_SKILLS_DIR");
	char *exe, *c;

	if (env && *env)
		return fs_expand_home(env);
	exe = sk_exe_dir();
	if (!exe)
		return NULL;
	c = fs_join(exe, "skills");
	if (!fs_is_dir(c)) {
		free(c);
		c = fs_join(exe, "../share/pincer/skills");
		if (!fs_is_dir(c)) {
			free(c);
			c = NULL;
		}
	}
	free(exe);
	return c;
}

static int sk_cmp_skill(const void *a, const void *b)
{
	const struct skill *x = a, *y = b;
	int r = strcasecmp(x->name, y->name);

	return r ? r : strcmp(x->name, y->name);
}

/* The roots skills_load scans, lowest precedence first; returns how many (at most `max`). */
static size_t sk_roots(struct root *roots, size_t max, const struct config *cfg,
		       const char *workspace, const char *managed_dir)
{
	json_t *sk = cfg && cfg->root ? json_object_get(cfg->root, "skills") : NULL, *x;
	char *home = fs_expand_home("~"), *dir;
	size_t n = 0, i;

	json_array_foreach(json_object_get(json_object_get(sk, "load"), "extraDirs"), i, x)
	{
		char *t = sk_strdup_trim(json_string_value(x)); /* " ~/x " as OpenClaw trims */

		if (t && n < max - 5)
			roots[n++] = (struct root){ fs_expand_home(t), "extra", "openclaw-extra" };
		free(t);
	}
	if ((dir = sk_bundled_dir()))
		roots[n++] = (struct root){ dir, "bundled", "openclaw-bundled" };
	if (managed_dir)
		roots[n++] = (struct root){ xstrdup(managed_dir), "managed", "openclaw-managed" };
	if (home[0] == '/')
		roots[n++] = (struct root){ fs_join(home, ".agents/skills"), "agents",
					    "agents-skills-personal" };
	if (workspace) {
		roots[n++] = (struct root){ fs_join(workspace, ".agents/skills"), "agents",
					    "agents-skills-project" };
		roots[n++] = (struct root){ fs_join(workspace, "skills"), "workspace",
					    "openclaw-workspace" };
	}
	free(home);
	return n;
}

json_t *skills_roots(const struct config *cfg, const char *workspace, const char *managed_dir)
{
	struct root roots[SKILLS_MAX_ROOTS];
	size_t n = sk_roots(roots, ARRAY_SIZE(roots), cfg, workspace, managed_dir);
	json_t *r = json_array();

	for (size_t i = 0; i < n; i++) {
		json_array_append_new(r, json_string(roots[i].dir));
		free(roots[i].dir);
	}
	return r;
}

int skills_load(struct skill_set *out, const struct config *cfg, const char *workspace,
		const char *managed_dir, const char *agent_id)
{
	struct root roots[SKILLS_MAX_ROOTS];
	size_t nroots, i;
	struct bin_cache bc = { json_object() };
	json_t *sk = cfg && cfg->root ? json_object_get(cfg->root, "skills") : NULL;
	json_t *x, *allow_bundled, *agent, *filter = NULL, *man;

	memset(out, 0, sizeof(*out));
	out->invalid = json_array();
	out->workspace = workspace ? xstrdup(workspace) : NULL;
	out->managed_dir = managed_dir ? xstrdup(managed_dir) : NULL;
	out->agent_id = agent_id ? xstrdup(agent_id) : NULL;

	nroots = sk_roots(roots, ARRAY_SIZE(roots), cfg, workspace, managed_dir);
	for (i = 0; i < nroots; i++) {
		sk_load_root(out, &roots[i]);
		free(roots[i].dir);
	}

	allow_bundled = sk_list(json_object_get(sk, "allowBundled"));
	if (agent_id) {
		agent = workspace_agent_entry(cfg, agent_id);
		x = json_object_get(agent, "skills");
		if (!json_is_array(x) && cfg)
			x = config_get(cfg, "agents.defaults.skills");
		if (json_is_array(x))
			filter = sk_list(x);
	}
	out->agent_filter = filter;
	for (i = 0; i < out->n; i++) {
		struct skill *s = &out->v[i];

		man = s->requirements; /* the manifest, parked there by sk_load_one */
		s->requirements = NULL;
		sk_evaluate(s, man, cfg, allow_bundled, &bc);
		json_decref(man);
		s->blocked_by_agent_filter = filter && !sk_list_has(filter, s->name);
	}
	json_decref(allow_bundled);
	json_decref(bc.seen);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), sk_cmp_skill);
	return 0;
}

void skills_release(struct skill_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		skill_free(&set->v[i]);
	free(set->v);
	json_decref(set->invalid);
	json_decref(set->agent_filter);
	free(set->workspace);
	free(set->managed_dir);
	free(set->agent_id);
	memset(set, 0, sizeof(*set));
}

const struct skill *skills_find(const struct skill_set *set, const char *name)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (!strcmp(set->v[i].name, name))
			return &set->v[i];
	for (i = 0; i < set->n; i++)
		if (!strcasecmp(set->v[i].name, name))
			return &set->v[i];
	return NULL;
}

bool skill_model_visible(const struct skill *s)
{
	return s->eligible && !s->blocked_by_agent_filter && !s->disable_model_invocation;
}

/* ==== prompt ==== */

/* UTF-16 code units of a UTF-8 string: the unit OpenClaw's limits count in. */
static size_t sk_u16len(const char *s, size_t n)
{
	size_t r = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c & 0xc0) != 0x80)
			r += c >= 0xf0 ? 2 : 1;
	}
	return r;
}

char *skills_prompt_block(const struct skill_set *set, json_t **entries)
{
	struct buf b, blk;
	size_t total = 0, kept = 0, i;
	json_t *ents = json_array();

	for (i = 0; i < set->n; i++)
		if (skill_model_visible(&set->v[i]))
			total++;
	buf_init(&b, BUF_UNLIMITED);
	buf_init(&blk, BUF_UNLIMITED);
	if (total == 0)
		goto out;
	buf_puts(&b, "The following skills provide specialized instructions for specific tasks.\n"
		     "Read a skill's file at its listed location when the task matches its "
		     "description.\n"
		     "When a skill file references a relative path, resolve it against the skill "
		     "directory (parent of SKILL.md / dirname of the path) and use that absolute "
		     "path in tool commands.\n\n<available_skills>");
	for (i = 0; i < set->n && kept < SKILLS_PROMPT_MAX_SKILLS; i++) {
		const struct skill *s = &set->v[i];

		if (!skill_model_visible(s))
			continue;
		buf_reset(&blk);
		buf_puts(&blk, "\n  <skill>\n    <name>");
		buf_put_escaped(&blk, s->name);
		buf_puts(&blk, "</name>\n    <description>");
		buf_put_escaped(&blk, s->description);
		buf_puts(&blk, "</description>\n    <location>");
		buf_put_escaped(&blk, s->location);
		buf_puts(&blk, "</location>\n  </skill>");
		/* Room for the closing tag and a truncation note (~120 chars). */
		if (sk_u16len(b.p, b.len) + sk_u16len(blk.p, blk.len) + 140 >
		    SKILLS_PROMPT_MAX_CHARS)
			break;
		buf_append(&b, blk.p, blk.len);
		json_array_append_new(ents,
				      json_pack("{s:s,s:I}", "name", s->name, "blockChars",
						(json_int_t)sk_u16len(blk.p + 1, blk.len - 1)));
		kept++;
	}
	buf_puts(&b, "\n</available_skills>");
	if (kept < total) {
		char note[200];

		snprintf(note, sizeof(note),
			 "⚠️ Skills truncated: included %zu of %zu. Run `pincer skills check` "
			 "to "
			 "audit.\n",
			 kept, total);
		buf_truncate(&blk, 0);
		buf_puts(&blk, note);
		buf_append(&blk, b.p, b.len);
		buf_release(&b);
		b = blk;
		buf_init(&blk, BUF_UNLIMITED);
	}
out:
	buf_release(&blk);
	if (entries)
		*entries = ents;
	else
		json_decref(ents);
	return buf_detach(&b, NULL);
}

/* ==== status ==== */

json_t *skills_status_json(const struct skill_set *set)
{
	json_t *r = json_object(), *arr = json_array();

	json_object_set_new(r, "workspaceDir",
			    set->workspace ? json_string(set->workspace) : json_null());
	json_object_set_new(r, "managedSkillsDir",
			    set->managed_dir ? json_string(set->managed_dir) : json_null());
	if (set->agent_id)
		json_object_set_new(r, "agentId", json_string(set->agent_id));
	if (set->agent_filter)
		json_object_set(r, "agentSkillFilter", set->agent_filter);
	for (size_t i = 0; i < set->n; i++) {
		const struct skill *s = &set->v[i];
		bool avail = s->eligible && !s->blocked_by_agent_filter;
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(s->name));
		json_object_set_new(o, "description", json_string(s->description));
		json_object_set_new(o, "source", json_string(s->source_label));
		json_object_set_new(o, "bundled", json_boolean(!strcmp(s->source, "bundled")));
		json_object_set_new(o, "filePath", json_string(s->location));
		json_object_set_new(o, "baseDir", json_string(s->base_dir));
		json_object_set_new(o, "skillKey", json_string(s->skill_key));
		if (s->primary_env)
			json_object_set_new(o, "primaryEnv", json_string(s->primary_env));
		if (s->emoji)
			json_object_set_new(o, "emoji", json_string(s->emoji));
		if (s->homepage)
			json_object_set_new(o, "homepage", json_string(s->homepage));
		json_object_set_new(o, "always", json_boolean(s->always));
		json_object_set_new(o, "disabled", json_boolean(s->disabled));
		json_object_set_new(o, "blockedByAllowlist", json_boolean(s->blocked_by_allowlist));
		json_object_set_new(o, "blockedByAgentFilter",
				    json_boolean(s->blocked_by_agent_filter));
		json_object_set_new(o, "eligible", json_boolean(s->eligible));
		json_object_set_new(
			o, "platformIncompatible",
			json_boolean(json_array_size(json_object_get(s->missing, "os")) > 0));
		json_object_set_new(o, "modelVisible", json_boolean(skill_model_visible(s)));
		json_object_set_new(o, "userInvocable", json_boolean(s->user_invocable));
		json_object_set_new(o, "commandVisible", json_boolean(avail && s->user_invocable));
		json_object_set(o, "requirements", s->requirements);
		json_object_set(o, "missing", s->missing);
		json_object_set(o, "configChecks", s->config_checks);
		json_object_set(o, "install", s->install);
		json_array_append_new(arr, o);
	}
	json_object_set_new(r, "skills", arr);
	return r;
}

/* ==== loading off the loop ==== */

struct skills_load_req {
	uv_work_t work;
	struct config cfg; /* a private deep copy: only the worker reads it */
	char *workspace, *managed_dir, *agent_id;
	struct skill_set *set;
	skills_load_fn done;
	void *arg;
	bool cancelled;
};

static void sk_async_work(uv_work_t *w)
{
	struct skills_load_req *r = w->data;

	r->set = xcalloc(1, sizeof(*r->set));
	skills_load(r->set, &r->cfg, r->workspace, r->managed_dir, r->agent_id);
}

static void sk_async_done(uv_work_t *w, int status)
{
	struct skills_load_req *r = w->data;

	if (status == 0 && !r->cancelled) {
		r->done(r->arg, r->set);
	} else if (r->set) {
		skills_release(r->set);
		free(r->set);
	}
	config_release(&r->cfg);
	free(r->workspace);
	free(r->managed_dir);
	free(r->agent_id);
	free(r);
}

struct skills_load_req *skills_load_async(uv_loop_t *loop, const struct config *cfg,
					  const char *workspace, const char *managed_dir,
					  const char *agent_id, skills_load_fn done, void *arg)
{
	struct skills_load_req *r = xcalloc(1, sizeof(*r));

	config_init(&r->cfg);
	if (cfg && cfg->root)
		r->cfg.root = json_deep_copy(cfg->root);
	/*
	 * config_get builds the schema's lookup index, and parses a default,
	 * on first use: read every key skills_load reads here, on the loop
	 * thread, so that the worker only ever finds them built.
	 */
	(void)config_get(&r->cfg, "agents.defaults.skills");
	(void)config_get(&r->cfg, "agents.list");
	(void)config_get(&r->cfg, "agents.entries");
	r->workspace = workspace ? xstrdup(workspace) : NULL;
	r->managed_dir = managed_dir ? xstrdup(managed_dir) : NULL;
	r->agent_id = agent_id ? xstrdup(agent_id) : NULL;
	r->done = done;
	r->arg = arg;
	r->work.data = r;
	if (uv_queue_work(loop, &r->work, sk_async_work, sk_async_done) < 0) {
		config_release(&r->cfg);
		free(r->workspace);
		free(r->managed_dir);
		free(r->agent_id);
		free(r);
		return NULL;
	}
	return r;
}

void skills_load_cancel(struct skills_load_req *req)
{
	if (req)
		req->cancelled = true;
}
