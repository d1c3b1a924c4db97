/*
 * env.c - .env files and ${VAR} substitution; see env.h.
 *
 * Both halves follow OpenClaw byte for byte where it matters for moving
 * configs: the substitution scanner is a transcription of OpenClaw's
 * src/config/env-substitution.ts (same escape rule, same "first '}'"
 * rule, missing and empty treated alike), and .env files keep dotenv's
 * "the process env wins" rule.
 */
#include "config/env.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "core/jsonx.h"
#include "core/mem.h"

/* .env files are a handful of lines; anything this big is not one. */
#define ENV_DOTENV_MAX      (4u * 1024 * 1024)
/* Room for a variable name in an error line (names have no length limit). */
#define ENV_NAME_REPORT_MAX 256

/* ---------------------------------------------------------------- .env */

struct dotenv_parser {
	const char *s;
	size_t len, pos;
	int line;
	char *err;
	size_t errlen;
};

static bool dotenv_is_key_char(char c)
{
	/* dotenv's key class: \w plus '.' and '-'. */
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

static bool dotenv_at_end(const struct dotenv_parser *p)
{
	return p->pos >= p->len;
}

static char dotenv_peek(const struct dotenv_parser *p)
{
	return dotenv_at_end(p) ? '\0' : p->s[p->pos];
}

/* Spaces, tabs and a stray CR (CRLF files), never the newline itself. */
static void dotenv_skip_blanks(struct dotenv_parser *p)
{
	while (!dotenv_at_end(p)) {
		char c = p->s[p->pos];

		if (c != ' ' && c != '\t' && c != '\r')
			break;
		p->pos++;
	}
}

static void dotenv_skip_to_eol(struct dotenv_parser *p)
{
	while (!dotenv_at_end(p) && p->s[p->pos] != '\n')
		p->pos++;
}

/*
 * Error messages never quote the line: a malformed line in a .env file is
 * quite often a pasted secret.
 */
static int dotenv_fail(struct dotenv_parser *p, int line, const char *what)
{
	snprintf(p->err, p->errlen, "line %d: %s", line, what);
	return -1;
}

/* "export " prefix: only when followed by blanks, so `export=1` is a key. */
static void dotenv_skip_export(struct dotenv_parser *p)
{
	static const char kw[] = "export";
	size_t n = sizeof(kw) - 1;
	char next;

	if (p->len - p->pos <= n || memcmp(p->s + p->pos, kw, n) != 0)
		return;
	next = p->s[p->pos + n];
	if (next != ' ' && next != '\t')
		return;
	p->pos += n;
	dotenv_skip_blanks(p);
}

static int dotenv_double_quoted(struct dotenv_parser *p, struct buf *val)
{
	int start_line = p->line;

	p->pos++; /* opening quote */
	for (;;) {
		char c;

		if (dotenv_at_end(p))
			return dotenv_fail(p, start_line, "unterminated double-quoted value");
		c = p->s[p->pos++];
		if (c == '"')
			return 0;
		if (c == '\n')
			p->line++;
		if (c == '\\' && !dotenv_at_end(p)) {
			char e = p->s[p->pos];

			switch (e) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case '"':
			case '\\':
				c = e;
				break;
			default:
				/* Unknown escapes stay as written, backslash included. */
				e = '\0';
				break;
			}
			if (e)
				p->pos++;
		}
		if (c == '\0')
			return dotenv_fail(p, p->line, "NUL byte in value");
		if (buf_putc(val, c) < 0)
			return dotenv_fail(p, start_line, "value too long");
	}
}

static int dotenv_single_quoted(struct dotenv_parser *p, struct buf *val)
{
	int start_line = p->line;
	const char *q;
	size_t n;

	p->pos++;
	q = memchr(p->s + p->pos, '\'', p->len - p->pos);
	if (!q)
		return dotenv_fail(p, start_line, "unterminated single-quoted value");
	n = (size_t)(q - (p->s + p->pos));
	if (memchr(p->s + p->pos, '\0', n))
		return dotenv_fail(p, start_line, "NUL byte in value");
	for (size_t i = 0; i < n; i++)
		if (p->s[p->pos + i] == '\n')
			p->line++;
	if (buf_append(val, p->s + p->pos, n) < 0)
		return dotenv_fail(p, start_line, "value too long");
	p->pos += n + 1;
	return 0;
}

/* Unquoted: up to end of line or a '#' that starts a word; trimmed. */
static int dotenv_unquoted(struct dotenv_parser *p, struct buf *val)
{
	size_t start = p->pos, end;

	while (!dotenv_at_end(p) && p->s[p->pos] != '\n') {
		char c = p->s[p->pos];

		if (c == '\0')
			return dotenv_fail(p, p->line, "NUL byte in value");
		if (c == '#' &&
		    (p->pos == start || p->s[p->pos - 1] == ' ' || p->s[p->pos - 1] == '\t'))
			break;
		p->pos++;
	}
	end = p->pos;
	while (end > start &&
	       (p->s[end - 1] == ' ' || p->s[end - 1] == '\t' || p->s[end - 1] == '\r'))
		end--;
	dotenv_skip_to_eol(p);
	if (buf_append(val, p->s + start, end - start) < 0)
		return dotenv_fail(p, p->line, "value too long");
	return 0;
}

/* After a closing quote only blanks and a comment may follow. */
static int dotenv_after_quote(struct dotenv_parser *p)
{
	dotenv_skip_blanks(p);
	if (dotenv_peek(p) == '#')
		dotenv_skip_to_eol(p);
	if (!dotenv_at_end(p) && p->s[p->pos] != '\n')
		return dotenv_fail(p, p->line, "unexpected text after closing quote");
	return 0;
}

int env_parse_dotenv(const char *text, size_t len,
		     int (*cb)(const char *key, const char *value, void *arg), void *arg, char *err,
		     size_t errlen)
{
	struct dotenv_parser p = {
		.s = text, .len = len, .pos = 0, .line = 1, .err = err, .errlen = errlen
	};
	struct buf key, val;
	int rc = 0;

	buf_init(&key, 4096);
	buf_init(&val, ENV_DOTENV_MAX);
	if (errlen)
		err[0] = '\0';

	while (!dotenv_at_end(&p)) {
		size_t kstart;
		char c;

		dotenv_skip_blanks(&p);
		c = dotenv_peek(&p);
		if (dotenv_at_end(&p))
			break;
		if (c == '\n') {
			p.pos++;
			p.line++;
			continue;
		}
		if (c == '#') {
			dotenv_skip_to_eol(&p);
			continue;
		}

		dotenv_skip_export(&p);
		kstart = p.pos;
		while (!dotenv_at_end(&p) && dotenv_is_key_char(p.s[p.pos]))
			p.pos++;
		if (p.pos == kstart) {
			rc = dotenv_fail(&p, p.line, "expected a variable name");
			goto out;
		}
		buf_reset(&key);
		if (buf_append(&key, p.s + kstart, p.pos - kstart) < 0) {
			rc = dotenv_fail(&p, p.line, "variable name too long");
			goto out;
		}
		dotenv_skip_blanks(&p);
		if (dotenv_peek(&p) != '=' || dotenv_at_end(&p)) {
			rc = dotenv_fail(&p, p.line, "expected '=' after the variable name");
			goto out;
		}
		p.pos++;
		dotenv_skip_blanks(&p);

		buf_reset(&val);
		c = dotenv_peek(&p);
		if (!dotenv_at_end(&p) && c == '"')
			rc = dotenv_double_quoted(&p, &val);
		else if (!dotenv_at_end(&p) && c == '\'')
			rc = dotenv_single_quoted(&p, &val);
		else
			rc = dotenv_unquoted(&p, &val);
		if (rc == 0 && (c == '"' || c == '\''))
			rc = dotenv_after_quote(&p);
		if (rc)
			goto out;

		rc = cb(key.p, val.p, arg);
		if (rc)
			goto out;
	}
out:
	buf_release(&key);
	buf_release(&val);
	return rc;
}

/*
 * Collect pairs so that, as with dotenv, the last one in a file wins. Values
 * are bytes, not necessarily UTF-8, hence _nocheck (keys are ASCII).
 */
static int env_collect_pair(const char *key, const char *value, void *arg)
{
	json_object_set_new(arg, key, json_string_nocheck(value));
	return 0;
}

int env_load_dotenv(const char *path, char *err, size_t errlen)
{
	struct buf text;
	json_t *pairs = json_object();
	const char *key;
	json_t *val;
	int n = 0;

	buf_init(&text, ENV_DOTENV_MAX);
	if (fs_read_file(path, &text) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			goto out; /* no file: nothing to load */
		if (errno == E2BIG)
			snprintf(err, errlen, "too large for a .env file");
		else
			snprintf(err, errlen, "%s", strerror(errno));
		n = -1;
		goto out;
	}
	if (env_parse_dotenv(text.p, text.len, env_collect_pair, pairs, err, errlen)) {
		n = -1;
		goto out;
	}
	json_object_foreach(pairs, key, val)
	{
		/* The process env wins, including a variable set to "". */
		if (getenv(key))
			continue;
		if (setenv(key, json_string_value(val), 0) == 0)
			n++;
	}
out:
	json_decref(pairs);
	buf_release(&text);
	return n;
}

/* -------------------------------------------------------- substitution */

enum subst_rc {
	SUBST_OK = 0,
	SUBST_MISSING = -1,
	SUBST_TOO_LONG = -2,
	SUBST_BAD_UTF8 = -3,
};

static bool env_name_valid(const char *s, size_t n)
{
	if (n == 0 || !((s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

/*
 * If a valid `{NAME}` starts at s[i] (s[i] == '{'), return the index of
 * its '}' and set *name and *nlen; else (size_t)-1. Like OpenClaw, only the
 * first '}' counts: `${A B}` is not a reference even if a later '}' is.
 */
static size_t env_ref_at(const char *s, size_t n, size_t i, const char **name, size_t *nlen)
{
	const char *close;

	if (i >= n || s[i] != '{')
		return (size_t)-1;
	close = memchr(s + i + 1, '}', n - i - 1);
	if (!close)
		return (size_t)-1;
	*name = s + i + 1;
	*nlen = (size_t)(close - *name);
	if (!env_name_valid(*name, *nlen))
		return (size_t)-1;
	return (size_t)(close - s);
}

static void env_copy_name(char *dst, size_t dstlen, const char *name, size_t nlen)
{
	if (!dstlen)
		return;
	if (nlen >= dstlen)
		nlen = dstlen - 1;
	memcpy(dst, name, nlen);
	dst[nlen] = '\0';
}

/*
 * One pass over `s`; the result goes to `out` (whose max bounds it). The
 * inserted values are never scanned again, so a value that itself holds
 * `${X}` stays as it is.
 */
static enum subst_rc env_subst_mem(const char *s, size_t n, struct buf *out, char *missing,
				   size_t missinglen)
{
	size_t i = 0;

	while (i < n) {
		const char *dollar = memchr(s + i, '$', n - i);
		const char *name;
		size_t nlen, end;

		if (!dollar) {
			if (buf_append(out, s + i, n - i) < 0)
				goto too_long;
			break;
		}
		if (buf_append(out, s + i, (size_t)(dollar - (s + i))) < 0)
			goto too_long;
		i = (size_t)(dollar - s);

		/* $${NAME} -> ${NAME}, literally. */
		if (i + 1 < n && s[i + 1] == '$' &&
		    (end = env_ref_at(s, n, i + 2, &name, &nlen)) != (size_t)-1) {
			if (buf_append(out, s + i + 1, end - i) < 0)
				goto too_long;
			i = end + 1;
			continue;
		}
		if ((end = env_ref_at(s, n, i + 1, &name, &nlen)) != (size_t)-1) {
			char *key = xstrndup(name, nlen);
			const char *v = getenv(key);
			int rc;

			free(key);
			if (!v || !*v) {
				env_copy_name(missing, missinglen, name, nlen);
				return SUBST_MISSING;
			}
			rc = buf_puts(out, v);
			if (rc < 0) {
				env_copy_name(missing, missinglen, name, nlen);
				return SUBST_TOO_LONG;
			}
			i = end + 1;
			continue;
		}
		if (buf_putc(out, '$') < 0)
			goto too_long;
		i++;
	}
	return SUBST_OK;

too_long:
	env_copy_name(missing, missinglen, "", 0);
	return SUBST_TOO_LONG;
}

int env_substitute_str(const char *in, char **out, char *missing, size_t missinglen)
{
	struct buf b;
	enum subst_rc rc;

	*out = NULL;
	buf_init(&b, ENV_SUBST_MAX);
	rc = env_subst_mem(in, strlen(in), &b, missing, missinglen);
	if (rc != SUBST_OK) {
		buf_release(&b);
		return -1;
	}
	*out = buf_detach(&b, NULL);
	return 0;
}

struct subst_ctx {
	const struct json5_posmap *pm;
	struct buf *errs;
	struct buf path;
	int failed;
};

static void env_report(struct subst_ctx *c, enum subst_rc rc, const char *name)
{
	const struct json5_pos *pos = c->pm ? json5_posmap_find(c->pm, c->path.p) : NULL;
	const char *path = c->path.len ? c->path.p : "<root>";

	if (pos && pos->line > 0) {
		if (pos->file)
			buf_printf(c->errs, "%s:", pos->file);
		buf_printf(c->errs, "%d:%d: ", pos->line, pos->col);
	}
	if (rc == SUBST_MISSING)
		buf_printf(c->errs, "%s: environment variable %s is not set\n", path, name);
	else if (rc == SUBST_BAD_UTF8)
		buf_printf(c->errs, "%s: value is not valid UTF-8 after substitution\n", path);
	else if (*name)
		buf_printf(c->errs, "%s: value too long after substituting %s (limit %u bytes)\n",
			   path, name, (unsigned)ENV_SUBST_MAX);
	else
		buf_printf(c->errs, "%s: value too long (limit %u bytes)\n", path,
			   (unsigned)ENV_SUBST_MAX);
}

static void env_subst_string(struct subst_ctx *c, json_t *str)
{
	const char *s = json_string_value(str);
	size_t n = json_string_length(str);
	char name[ENV_NAME_REPORT_MAX];
	struct buf out;
	enum subst_rc rc;

	if (!memchr(s, '$', n))
		return;
	buf_init(&out, ENV_SUBST_MAX);
	rc = env_subst_mem(s, n, &out, name, sizeof(name));
	/* An environment value is bytes; a JSON string must stay UTF-8. */
	if (rc == SUBST_OK && json_string_setn(str, out.p, out.len) < 0)
		rc = SUBST_BAD_UTF8;
	if (rc != SUBST_OK) {
		c->failed = 1;
		env_report(c, rc, name);
	}
	buf_release(&out);
}

/*
 * Back the path up to `len` bytes. Done by hand: buf.h documents
 * buf_truncate as dropping the last n bytes while buf.c keeps the first n,
 * and this must be right whichever of the two gets fixed.
 */
static void env_path_cut(struct buf *path, size_t len)
{
	if (path->len > len) {
		path->len = len;
		path->p[len] = '\0';
	}
}

static void env_subst_walk(struct subst_ctx *c, json_t *v)
{
	size_t mark = c->path.len;

	if (json_is_string(v)) {
		env_subst_string(c, v);
	} else if (json_is_object(v)) {
		const char *key;
		json_t *child;

		json_object_foreach(v, key, child)
		{
			jpath_push_key(&c->path, key);
			env_subst_walk(c, child);
			env_path_cut(&c->path, mark);
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *child;

		json_array_foreach(v, i, child)
		{
			jpath_push_index(&c->path, i);
			env_subst_walk(c, child);
			env_path_cut(&c->path, mark);
		}
	}
}

int env_substitute(json_t *root, const struct json5_posmap *pm, struct buf *errs)
{
	struct subst_ctx c = { .pm = pm, .errs = errs, .failed = 0 };

	buf_init(&c.path, BUF_UNLIMITED);
	if (root)
		env_subst_walk(&c, root);
	buf_release(&c.path);
	return c.failed ? -1 : 0;
}
