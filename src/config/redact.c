/*
 * redact.c - masking credentials in config trees and restoring them; see
 * redact.h. Follows OpenClaw's redact-snapshot.ts and sensitive-paths.ts.
 */
#include "config/redact.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/schema.h"
#include "core/buf.h"
#include "core/jsonx.h"
#include "core/mem.h"

#define REDACT_PATH_MAX (64u * 1024)

/* ==== what is a credential ==== */

/* Paths ending like this hold counts, not secrets ("maxTokens"). */
static const char *const redact_not_secret_suffixes[] = {
	"maxtokens",   "maxoutputtokens", "maxinputtokens", "maxcompletiontokens", "contexttokens",
	"totaltokens", "tokencount",      "tokenlimit",     "tokenbudget",         "passwordfile",
};

static bool redact_has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

/* "api key", "apikey", "api_key", "api-key": `a` then at most one character then `b`. */
static bool redact_has_pair(const char *s, const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	for (const char *p = strstr(s, a); p; p = strstr(p + 1, a)) {
		const char *q = p + na;

		if (!strncmp(q, b, nb) || (*q && !strncmp(q + 1, b, nb)))
			return true;
	}
	return false;
}

/*
 * OpenClaw's name heuristics over the plain path ("a.b[].c"): /token$/,
 * /password/, /secret/, /api.?key/, /encrypt.?key/, /private.?key/,
 * /serviceaccount(ref)?$/, case-insensitive, minus the count-like suffixes.
 */
static bool redact_name_sensitive(const char *plain)
{
	size_t len = strlen(plain);
	char *low = xmalloc(len + 1);
	bool yes = false;

	for (size_t i = 0; i <= len; i++)
		low[i] = (char)tolower((unsigned char)plain[i]);
	/* An array's entries share the array's name. */
	if (len >= 2 && !strcmp(low + len - 2, "[]"))
		low[len -= 2] = '\0';
	if (strstr(low, "localservice.env.")) {
		yes = true;
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(redact_not_secret_suffixes); i++)
		if (redact_has_suffix(low, len, redact_not_secret_suffixes[i]))
			goto out;
	yes = redact_has_suffix(low, len, "token") || strstr(low, "password") ||
	      strstr(low, "secret") || redact_has_pair(low, "api", "key") ||
	      redact_has_pair(low, "encrypt", "key") || redact_has_pair(low, "private", "key") ||
	      redact_has_suffix(low, len, "serviceaccount") ||
	      redact_has_suffix(low, len, "serviceaccountref");
out:
	free(low);
	return yes;
}

/* The schema marks it, or its name gives it away. */
static bool redact_sensitive(const char *jpath, const char *plain)
{
	const struct cfg_field *row = schema_lookup(jpath);

	return (row && (row->type & CT_SECRET)) || redact_name_sensitive(plain);
}

bool config_path_sensitive(const char *path)
{
	struct jpath_step *steps;
	char err[256];
	int n = jpath_parse(path, &steps, err, sizeof(err));
	struct buf plain;
	bool yes;

	if (n < 0)
		return false;
	buf_init(&plain, REDACT_PATH_MAX);
	for (int i = 0; i < n; i++) {
		if (!steps[i].key)
			buf_puts(&plain, "[]");
		else
			buf_printf(&plain, "%s%s", plain.len ? "." : "", steps[i].key);
	}
	yes = redact_sensitive(path, plain.p);
	buf_release(&plain);
	jpath_free(steps, n);
	return yes;
}

/* ==== walking with both path spellings ==== */

struct redact_path {
	struct buf jp;    /* JSON path, for the schema: agents.list[0].id */
	struct buf plain; /* OpenClaw's spelling, for the heuristics: agents.list[].id */
};

static void redact_path_init(struct redact_path *p)
{
	buf_init(&p->jp, REDACT_PATH_MAX);
	buf_init(&p->plain, REDACT_PATH_MAX);
}

static void redact_path_release(struct redact_path *p)
{
	buf_release(&p->jp);
	buf_release(&p->plain);
}

static void redact_push_key(struct redact_path *p, const char *key, size_t *m1, size_t *m2)
{
	*m1 = p->jp.len;
	*m2 = p->plain.len;
	jpath_push_key(&p->jp, key);
	buf_printf(&p->plain, "%s%s", p->plain.len ? "." : "", key);
}

static void redact_push_index(struct redact_path *p, size_t i, size_t *m1, size_t *m2)
{
	*m1 = p->jp.len;
	*m2 = p->plain.len;
	jpath_push_index(&p->jp, i);
	buf_puts(&p->plain, "[]");
}

static void redact_pop(struct redact_path *p, size_t m1, size_t m2)
{
	buf_truncate(&p->jp, m1);
	buf_truncate(&p->plain, m2);
}

static bool redact_is_sensitive(const struct redact_path *p)
{
	return p->jp.len && redact_sensitive(p->jp.p, p->plain.p);
}

/* A real value, not blank and not a whole ${VAR} placeholder. */
static bool redact_concrete(const char *s)
{
	size_t len;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (!len)
		return false;
	return !(len >= 3 && s[0] == '$' && s[1] == '{' && s[len - 1] == '}' &&
		 !memchr(s + 2, '}', len - 3));
}

static bool redact_is_ref(const json_t *v)
{
	return json_is_object(v) && json_is_string(json_object_get(v, "source")) &&
	       json_is_string(json_object_get(v, "id"));
}

static void redact_collect(const json_t *v, json_t *values)
{
	const char *k;
	json_t *c;
	size_t i;

	if (!values)
		return;
	if (json_is_string(v)) {
		if (redact_concrete(json_string_value(v)))
			json_array_append(values, (json_t *)v);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, c) redact_collect(c, values);
	} else if (redact_is_ref(v)) {
		redact_collect(json_object_get(v, "id"), values);
	} else if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, c) redact_collect(c, values);
	}
}

/* ==== redact ==== */

static json_t *redact_value(const json_t *v, struct redact_path *p, json_t *values)
{
	size_t m1, m2;
	const char *k;
	json_t *c, *out;
	size_t i;

	if (redact_is_sensitive(p)) {
		if (json_is_string(v)) {
			if (!redact_concrete(json_string_value(v)))
				return json_incref((json_t *)v);
			redact_collect(v, values);
			return json_string(CONFIG_REDACTED);
		}
		if (redact_is_ref(v)) {
			out = json_deep_copy(v);
			if (redact_concrete(json_string_value(json_object_get(v, "id")))) {
				redact_collect(json_object_get(v, "id"), values);
				json_object_set_new(out, "id", json_string(CONFIG_REDACTED));
			}
			return out;
		}
		if (json_is_object(v)) {
			const struct cfg_field *row = schema_lookup(p->jp.p);

			/* A credential-shaped key holding some other object: hide it whole. */
			if (row && (row->type & CT_SECRET) && !(row->type & (CT_OBJECT | CT_MAP))) {
				redact_collect(v, values);
				return json_string(CONFIG_REDACTED);
			}
		}
	}
	if (json_is_object(v)) {
		out = json_object();
		json_object_foreach((json_t *)v, k, c)
		{
			redact_push_key(p, k, &m1, &m2);
			json_object_set_new(out, k, redact_value(c, p, values));
			redact_pop(p, m1, m2);
		}
		return out;
	}
	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, i, c)
		{
			redact_push_index(p, i, &m1, &m2);
			json_array_append_new(out, redact_value(c, p, values));
			redact_pop(p, m1, m2);
		}
		return out;
	}
	return json_incref((json_t *)v);
}

json_t *config_redact(const json_t *v, json_t *values)
{
	struct redact_path p;
	json_t *out;

	if (!v)
		return NULL;
	redact_path_init(&p);
	out = redact_value(v, &p, values);
	redact_path_release(&p);
	return out;
}

static int redact_by_length(const void *a, const void *b)
{
	size_t la = strlen(*(const char *const *)a), lb = strlen(*(const char *const *)b);

	return la < lb ? 1 : la > lb ? -1 : 0;
}

char *config_redact_text(const char *text, const json_t *values)
{
	size_t n = json_array_size(values), i;
	const char **s = xcalloc(n ? n : 1, sizeof(*s));
	char *cur = xstrdup(text);

	for (i = 0; i < n; i++)
		s[i] = json_string_value(json_array_get(values, i));
	qsort(s, n, sizeof(*s), redact_by_length);
	for (i = 0; i < n; i++) {
		struct buf out;
		size_t len = s[i] ? strlen(s[i]) : 0;
		const char *p = cur, *hit;

		if (!len)
			continue;
		buf_init(&out, BUF_UNLIMITED);
		while ((hit = strstr(p, s[i]))) {
			buf_append(&out, p, (size_t)(hit - p));
			buf_puts(&out, CONFIG_REDACTED);
			p = hit + len;
		}
		buf_puts(&out, p);
		free(cur);
		cur = xstrdup(out.p);
		buf_release(&out);
	}
	free(s);
	return cur;
}

/* ==== restore ==== */

struct redact_restore {
	char *err;
	size_t errlen;
	bool failed;
};

static void redact_fail(struct redact_restore *r, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void redact_fail(struct redact_restore *r, const char *fmt, ...)
{
	va_list ap;

	if (r->failed)
		return;
	r->failed = true;
	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
}

static const char *redact_id(const json_t *v)
{
	const char *id = json_string_value(json_object_get(v, "id"));

	if (!json_is_object(v) || !id || !*id || !strcmp(id, CONFIG_REDACTED) || strstr(id, "${"))
		return NULL;
	return id;
}

/* How many entries of `a` carry `id`, and where the first one is. */
static size_t redact_count_id(const json_t *a, const char *id, size_t *at)
{
	size_t i, n = 0;
	json_t *v;

	json_array_foreach(a, i, v)
	{
		const char *vid = redact_id(v);

		if (vid && !strcmp(vid, id) && !n++)
			*at = i;
	}
	return n;
}

static json_t *redact_restore_value(struct redact_restore *r, const json_t *in, const json_t *orig,
				    struct redact_path *p);

static json_t *redact_restore_array(struct redact_restore *r, const json_t *in, const json_t *orig,
				    struct redact_path *p)
{
	json_t *out = json_array(), *v;
	size_t i, m1, m2;

	json_array_foreach(in, i, v)
	{
		const json_t *match = json_array_get(orig, i);
		const char *id = redact_id(v);
		size_t at;

		/* An entry with a unique id is the original entry with that id, wherever it moved. */
		if (id && json_is_array(orig) && redact_count_id(in, id, &at) == 1) {
			if (redact_count_id(orig, id, &at) == 1)
				match = json_array_get(orig, at);
			else
				match = NULL;
		}
		redact_push_index(p, i, &m1, &m2);
		json_array_append_new(out, redact_restore_value(r, v, match, p));
		redact_pop(p, m1, m2);
	}
	return out;
}

static json_t *redact_restore_value(struct redact_restore *r, const json_t *in, const json_t *orig,
				    struct redact_path *p)
{
	bool sensitive = redact_is_sensitive(p);
	const char *where = p->jp.len ? p->jp.p : "<root>";
	json_t *out, *c;
	const char *k;
	size_t m1, m2;

	if (json_is_string(in) && !strcmp(json_string_value(in), CONFIG_REDACTED)) {
		if (!sensitive) {
			redact_fail(
				r,
				"reserved redaction sentinel \"%s\" is not valid config data (%s)",
				CONFIG_REDACTED, where);
			return json_null();
		}
		if (!orig) {
			redact_fail(r, "sentinel value \"%s\" in key %s is not valid as real data",
				    CONFIG_REDACTED, where);
			return json_null();
		}
		return json_deep_copy(orig);
	}
	if (sensitive && redact_is_ref(in) &&
	    !strcmp(json_string_value(json_object_get(in, "id")), CONFIG_REDACTED)) {
		if (!redact_is_ref(orig) || !json_is_string(json_object_get(orig, "provider"))) {
			redact_fail(r,
				    "SecretRef at %s contains a redacted id placeholder with no "
				    "matching original value",
				    where);
			return json_null();
		}
		if (!json_equal(json_object_get(in, "source"), json_object_get(orig, "source")) ||
		    !json_equal(json_object_get(in, "provider"),
				json_object_get(orig, "provider"))) {
			redact_fail(r,
				    "SecretRef at %s changed source/provider while id is redacted; "
				    "provide an explicit id when changing source/provider",
				    where);
			return json_null();
		}
		out = json_deep_copy(in);
		json_object_set(out, "id", json_object_get(orig, "id"));
		return out;
	}
	if (json_is_array(in))
		return redact_restore_array(r, in, orig, p);
	if (!json_is_object(in))
		return json_deep_copy(in);
	out = json_object();
	json_object_foreach((json_t *)in, k, c)
	{
		redact_push_key(p, k, &m1, &m2);
		json_object_set_new(
			out, k,
			redact_restore_value(
				r, c, json_is_object(orig) ? json_object_get(orig, k) : NULL, p));
		redact_pop(p, m1, m2);
	}
	return out;
}

json_t *config_restore_redacted(const json_t *incoming, const json_t *original, char *err,
				size_t errlen)
{
	struct redact_restore r = { .err = err, .errlen = errlen };
	struct redact_path p;
	json_t *out;

	redact_path_init(&p);
	out = redact_restore_value(&r, incoming, original, &p);
	redact_path_release(&p);
	if (r.failed) {
		json_decref(out);
		return NULL;
	}
	return out;
}
