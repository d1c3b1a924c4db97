/*
 * patch.c - the apply_patch format: parser and in-memory applier.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "tools/patch.h"

#define BEGIN_MARKER  "*** Begin Patch"
#define END_MARKER    "*** End Patch"
#define ADD_MARKER    "*** Add File: "
#define DELETE_MARKER "*** Delete File: "
#define UPDATE_MARKER "*** Update File: "
#define MOVE_MARKER   "*** Move to: "
#define EOF_MARKER    "*** End of File"

/* A line of text: not NUL-terminated in the middle of a file. */
struct span {
	const char *p;
	size_t n;
};

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static struct span span_trim(struct span s, bool left)
{
	while (left && s.n && is_ws(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && is_ws(s.p[s.n - 1]))
		s.n--;
	return s;
}

static bool span_eq(struct span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && !memcmp(s.p, lit, n);
}

static bool span_starts(struct span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n >= n && !memcmp(s.p, lit, n);
}

static char *span_dup(struct span s)
{
	return xstrndup(s.p, s.n);
}

/* ==== parser ==== */

struct lines {
	struct span *v;
	size_t n, alloc;
};

static void lines_push(struct lines *l, const char *p, size_t n)
{
	l->v = xgrow(l->v, &l->alloc, l->n + 1, sizeof(*l->v));
	l->v[l->n].p = p;
	l->v[l->n].n = n;
	l->n++;
}

static int perr(char *err, size_t errlen, const char *fmt, ...) PRINTF_LIKE(3, 4);
static int perr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* "*** Begin Patch" first and "*** End Patch" last (each trimmed), or why not. */
static const char *patch_boundaries(const struct span *v, size_t n)
{
	if (n && span_eq(span_trim(v[0], true), BEGIN_MARKER) &&
	    span_eq(span_trim(v[n - 1], true), END_MARKER) && n >= 2)
		return NULL;
	if (!n || !span_eq(span_trim(v[0], true), BEGIN_MARKER))
		return "The first line of the patch must be '*** Begin Patch'";
	return "The last line of the patch must be '*** End Patch'";
}

static void chunk_push(struct patch_chunk *c, size_t *old_alloc, size_t *new_alloc, char kind,
		       struct span s)
{
	if (kind != '+') {
		c->old_lines = xgrow(c->old_lines, old_alloc, c->n_old + 1, sizeof(char *));
		c->old_lines[c->n_old] = span_dup(s);
	}
	if (kind != '-') {
		c->new_lines = xgrow(c->new_lines, new_alloc, c->n_new + 1, sizeof(char *));
		c->ctx_of = xrealloc(c->ctx_of, *new_alloc * sizeof(long));
		c->new_lines[c->n_new] = span_dup(s);
		c->ctx_of[c->n_new] = kind == ' ' ? (long)c->n_old : -1;
		c->n_new++;
	}
	if (kind != '+')
		c->n_old++;
}

static void chunk_free(struct patch_chunk *c)
{
	for (size_t i = 0; i < c->n_old; i++)
		free(c->old_lines[i]);
	for (size_t i = 0; i < c->n_new; i++)
		free(c->new_lines[i]);
	free(c->old_lines);
	free(c->new_lines);
	free(c->ctx_of);
	free(c->context);
}

/*
 * One "@@" chunk of an update starting at v[0] (patch line `line`).
 * Returns the lines consumed, or -1.
 */
static long parse_chunk(const struct span *v, size_t n, int line, bool allow_missing_context,
			struct patch_chunk *c, char *err, size_t errlen)
{
	size_t start = 0, parsed = 0, old_alloc = 0, new_alloc = 0;

	memset(c, 0, sizeof(*c));
	if (span_eq(v[0], "@@")) {
		start = 1;
	} else if (span_starts(v[0], "@@ ")) {
		c->context = xstrndup(v[0].p + 3, v[0].n - 3);
		start = 1;
	} else if (!allow_missing_context) {
		return perr(
			err, errlen,
			"Invalid patch hunk at line %d: Expected update hunk to start with a @@ "
			"context marker, got: '%.*s'",
			line, (int)v[0].n, v[0].p);
	}
	if (start >= n)
		return perr(err, errlen,
			    "Invalid patch hunk at line %d: Update hunk does not contain any lines",
			    line + 1);
	for (size_t i = start; i < n; i++) {
		struct span s = v[i];

		if (span_eq(s, EOF_MARKER)) {
			if (!parsed)
				return perr(err, errlen,
					    "Invalid patch hunk at line %d: Update hunk does not "
					    "contain any lines",
					    line + 1);
			c->eof = true;
			parsed++;
			break;
		}
		if (!s.n) {
			chunk_push(c, &old_alloc, &new_alloc, ' ', s);
		} else if (s.p[0] == ' ' || s.p[0] == '+' || s.p[0] == '-') {
			chunk_push(c, &old_alloc, &new_alloc, s.p[0],
				   (struct span){ s.p + 1, s.n - 1 });
		} else {
			if (!parsed)
				return perr(
					err, errlen,
					"Invalid patch hunk at line %d: Unexpected line found in "
					"update hunk: '%.*s'. Every line should start with ' ' "
					"(context line), '+' (added line), or '-' (removed line)",
					line + 1, (int)s.n, s.p);
			break;
		}
		parsed++;
	}
	return (long)(parsed + start);
}

/* One hunk at v[0]; returns the lines consumed, or -1. */
static long parse_hunk(const struct span *v, size_t n, int line, struct patch_hunk *h, char *err,
		       size_t errlen)
{
	struct span first = span_trim(v[0], true);
	size_t used = 1, chunk_alloc = 0;

	memset(h, 0, sizeof(*h));
	h->line = line;
	if (span_starts(first, ADD_MARKER)) {
		struct buf b;

		h->kind = PATCH_ADD;
		h->path = xstrndup(first.p + strlen(ADD_MARKER), first.n - strlen(ADD_MARKER));
		buf_init(&b, PATCH_MAX_INPUT);
		for (; used < n && v[used].n && v[used].p[0] == '+'; used++) {
			/* Cannot overflow: the lines come from an input of at most the same cap. */
			buf_append(&b, v[used].p + 1, v[used].n - 1);
			buf_putc(&b, '\n');
		}
		h->contents = buf_detach(&b, &h->contents_len);
		return (long)used;
	}
	if (span_starts(first, DELETE_MARKER)) {
		h->kind = PATCH_DELETE;
		h->path =
			xstrndup(first.p + strlen(DELETE_MARKER), first.n - strlen(DELETE_MARKER));
		return 1;
	}
	if (span_starts(first, UPDATE_MARKER)) {
		h->kind = PATCH_UPDATE;
		h->path =
			xstrndup(first.p + strlen(UPDATE_MARKER), first.n - strlen(UPDATE_MARKER));
		if (used < n) {
			struct span m = span_trim(v[used], true);

			if (span_starts(m, MOVE_MARKER)) {
				h->move_path = xstrndup(m.p + strlen(MOVE_MARKER),
							m.n - strlen(MOVE_MARKER));
				used++;
			}
		}
		while (used < n) {
			long k;

			if (!span_trim(v[used], true).n) {
				used++;
				continue;
			}
			if (span_starts(v[used], "***"))
				break;
			h->chunks =
				xgrow(h->chunks, &chunk_alloc, h->n_chunks + 1, sizeof(*h->chunks));
			k = parse_chunk(v + used, n - used, line + (int)used, h->n_chunks == 0,
					&h->chunks[h->n_chunks], err, errlen);
			if (k < 0) {
				chunk_free(&h->chunks[h->n_chunks]);
				return -1;
			}
			h->n_chunks++;
			used += (size_t)k;
		}
		if (!h->n_chunks)
			return perr(
				err, errlen,
				"Invalid patch hunk at line %d: Update file hunk for path '%s' is "
				"empty",
				line, h->path);
		return (long)used;
	}
	return perr(err, errlen,
		    "Invalid patch hunk at line %d: '%.*s' is not a valid hunk header. Valid hunk "
		    "headers: '*** Add File: {path}', '*** Delete File: {path}', '*** Update "
		    "File: {path}'",
		    line, (int)v[0].n, v[0].p);
}

static void hunk_free(struct patch_hunk *h)
{
	for (size_t i = 0; i < h->n_chunks; i++)
		chunk_free(&h->chunks[i]);
	free(h->chunks);
	free(h->path);
	free(h->move_path);
	free(h->contents);
}

void patch_free(struct patch *p)
{
	for (size_t i = 0; i < p->n_hunks; i++)
		hunk_free(&p->hunks[i]);
	free(p->hunks);
	p->hunks = NULL;
	p->n_hunks = 0;
}

int patch_parse(const char *text, size_t len, struct patch *out, char *err, size_t errlen)
{
	struct span all = span_trim((struct span){ text, len }, true);
	struct lines l = { 0 };
	const struct span *v;
	const char *why;
	size_t n, i, hunk_alloc = 0;
	int line = 2, ret = -1;

	memset(out, 0, sizeof(*out));
	if (len > PATCH_MAX_INPUT)
		return perr(err, errlen, "Invalid patch: input is too large (%zu bytes, limit %u)",
			    len, PATCH_MAX_INPUT);
	if (!all.n)
		return perr(err, errlen, "Invalid patch: input is empty.");
	/* Lines split on "\n" or "\r\n", as the reference splits on /\r?\n/. */
	for (const char *p = all.p, *end = all.p + all.n;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t k = nl ? (size_t)(nl - p) : (size_t)(end - p);

		lines_push(&l, p, k && p[k - 1] == '\r' ? k - 1 : k);
		if (!nl)
			break;
		p = nl + 1;
	}
	v = l.v;
	n = l.n;
	why = patch_boundaries(v, n);
	if (why) {
		/* A model that wrote a shell heredoc around the patch: look inside it. */
		struct span f = v[0], last = v[n - 1];

		if (n >= 4 &&
		    (span_eq(f, "<<EOF") || span_eq(f, "<<'EOF'") || span_eq(f, "<<\"EOF\"")) &&
		    last.n >= 3 && !memcmp(last.p + last.n - 3, "EOF", 3)) {
			v++;
			n -= 2;
			why = patch_boundaries(v, n);
		}
		if (why) {
			perr(err, errlen, "%s", why);
			goto out;
		}
	}
	for (i = 1; i + 1 < n;) {
		long k;

		if (out->n_hunks >= PATCH_MAX_HUNKS) {
			perr(err, errlen, "Invalid patch: more than %d file operations",
			     PATCH_MAX_HUNKS);
			goto out;
		}
		out->hunks = xgrow(out->hunks, &hunk_alloc, out->n_hunks + 1, sizeof(*out->hunks));
		k = parse_hunk(v + i, n - 1 - i, line, &out->hunks[out->n_hunks], err, errlen);
		if (k < 0) {
			hunk_free(&out->hunks[out->n_hunks]);
			goto out;
		}
		out->n_hunks++;
		i += (size_t)k;
		line += (int)k;
	}
	ret = 0;
out:
	free(l.v);
	if (ret < 0)
		patch_free(out);
	return ret;
}

/* ==== applier ==== */

/* A file line: its text and the ending that followed it ("", "\n", "\r\n" or "\r"). */
struct fline {
	struct span text;
	const char *end;
};

struct flines {
	struct fline *v;
	size_t n, alloc;
};

static void flines_push(struct flines *l, struct span text, const char *end)
{
	l->v = xgrow(l->v, &l->alloc, l->n + 1, sizeof(*l->v));
	l->v[l->n].text = text;
	l->v[l->n].end = end;
	l->n++;
}

/* Typographic dashes, quotes and spaces folded to ASCII, as OpenClaw's last matcher does. */
static char *fold_punct(struct span s, size_t *outn)
{
	char *o = xmalloc(s.n + 1);
	size_t k = 0;
	const unsigned char *p = (const unsigned char *)s.p;

	for (size_t i = 0; i < s.n;) {
		unsigned cp = 0, w = 1;

		if (p[i] == 0xC2 && i + 1 < s.n) {
			cp = ((p[i] & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu);
			w = 2;
		} else if (p[i] >= 0xE0 && p[i] < 0xF0 && i + 2 < s.n) {
			cp = ((p[i] & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) |
			     (p[i + 2] & 0x3Fu);
			w = 3;
		}
		if ((cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212)
			o[k++] = '-';
		else if (cp >= 0x2018 && cp <= 0x201B)
			o[k++] = '\'';
		else if (cp >= 0x201C && cp <= 0x201F)
			o[k++] = '"';
		else if (cp == 0xA0 || (cp >= 0x2002 && cp <= 0x200A) || cp == 0x202F ||
			 cp == 0x205F || cp == 0x3000)
			o[k++] = ' ';
		else {
			memcpy(o + k, p + i, w);
			k += w;
		}
		i += w;
	}
	o[k] = '\0';
	*outn = k;
	return o;
}

/* The four matchers, loosest last. Normalized text goes to `tmp` when it had to be built. */
enum { NORM_EXACT, NORM_TRIM_END, NORM_TRIM, NORM_PUNCT, NORM_COUNT };

static struct span normalize(struct span s, int how, char **tmp)
{
	size_t n;

	*tmp = NULL;
	switch (how) {
	case NORM_TRIM_END:
		return span_trim(s, false);
	case NORM_TRIM:
		return span_trim(s, true);
	case NORM_PUNCT:
		*tmp = fold_punct(span_trim(s, true), &n);
		return span_trim((struct span){ *tmp, n }, true);
	default:
		return s;
	}
}

/* Per-matcher normalized copies of the file's lines, built when first needed. */
struct normcache {
	struct span *lines[NORM_COUNT];
	char **tmps[NORM_COUNT];
	size_t n;
};

static const struct span *normcache_get(struct normcache *c, const struct flines *f, int how)
{
	if (!c->lines[how]) {
		c->lines[how] = xcalloc(f->n + 1, sizeof(struct span));
		c->tmps[how] = xcalloc(f->n + 1, sizeof(char *));
		for (size_t i = 0; i < f->n; i++)
			c->lines[how][i] = normalize(f->v[i].text, how, &c->tmps[how][i]);
	}
	return c->lines[how];
}

static void normcache_free(struct normcache *c)
{
	for (int h = 0; h < NORM_COUNT; h++) {
		if (c->tmps[h])
			for (size_t i = 0; i < c->n; i++)
				free(c->tmps[h][i]);
		free(c->tmps[h]);
		free(c->lines[h]);
	}
}

enum seek_result { SEEK_FOUND, SEEK_AMBIGUOUS, SEEK_MISSING };

/*
 * Find `pat` (n_pat lines) in the file from line `start`; with `eof` only
 * where it ends the file. The first matcher that matches anywhere decides;
 * more than one match there is ambiguous.
 */
static enum seek_result seek(const struct flines *f, struct normcache *nc, char *const *pat,
			     size_t n_pat, size_t start, bool eof, size_t *index, size_t *count)
{
	size_t max_start, from;

	if (!n_pat) {
		*index = start;
		return SEEK_FOUND;
	}
	if (n_pat > f->n)
		return SEEK_MISSING;
	max_start = f->n - n_pat;
	from = eof && max_start > start ? max_start : start;
	if (from > max_start)
		return SEEK_MISSING;
	for (int how = 0; how < NORM_COUNT; how++) {
		const struct span *lines = normcache_get(nc, f, how);
		struct span *p = xcalloc(n_pat, sizeof(*p));
		char **tmps = xcalloc(n_pat, sizeof(char *));
		size_t hits = 0, first = 0;

		for (size_t k = 0; k < n_pat; k++)
			p[k] = normalize((struct span){ pat[k], strlen(pat[k]) }, how, &tmps[k]);
		for (size_t i = from; i <= max_start; i++) {
			size_t k;

			for (k = 0; k < n_pat; k++)
				if (lines[i + k].n != p[k].n ||
				    memcmp(lines[i + k].p, p[k].p, p[k].n))
					break;
			if (k == n_pat && !hits++)
				first = i;
		}
		for (size_t k = 0; k < n_pat; k++)
			free(tmps[k]);
		free(tmps);
		free(p);
		if (hits) {
			*index = first;
			*count = hits;
			return hits == 1 ? SEEK_FOUND : SEEK_AMBIGUOUS;
		}
	}
	return SEEK_MISSING;
}

/* A line of the result: text (borrowed from the file or the patch) and its ending. */
struct oline {
	struct span text;
	const char *end;
};

struct olines {
	struct oline *v;
	size_t n, alloc;
};

static void olines_push(struct olines *o, struct span text, const char *end)
{
	o->v = xgrow(o->v, &o->alloc, o->n + 1, sizeof(*o->v));
	o->v[o->n].text = text;
	o->v[o->n].end = end;
	o->n++;
}

/*
 * New lines replacing `old_count` file lines at `start`: they take the
 * endings of the lines they replace where they line up, else one nearby.
 */
static void changed_lines(const struct flines *f, size_t start, size_t old_count, char *const *nl,
			  size_t n_new, const char *preferred, struct olines *o)
{
	const char *nearby = NULL;

	for (size_t i = 0; i < old_count && !nearby; i++)
		if (*f->v[start + i].end)
			nearby = f->v[start + i].end;
	if (!nearby && start < f->n && *f->v[start].end)
		nearby = f->v[start].end;
	if (!nearby && start > 0 && start - 1 < f->n && *f->v[start - 1].end)
		nearby = f->v[start - 1].end;
	if (!nearby)
		nearby = preferred;
	for (size_t i = 0; i < n_new; i++) {
		const char *end = nearby;

		if (old_count == n_new)
			end = f->v[start + i].end;
		else if (i == n_new - 1 && old_count > 0)
			end = f->v[start + old_count - 1].end;
		else if (old_count > 0 && i < old_count - 1)
			end = f->v[start + i].end;
		olines_push(o, (struct span){ nl[i], strlen(nl[i]) }, end);
	}
}

struct repl {
	size_t start, old_count;
	size_t order; /* chunk order: ties keep it, as the reference's stable sort does */
	struct olines lines;
};

static int repl_cmp(const void *a, const void *b)
{
	const struct repl *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void join_lines(struct buf *b, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(b, '\n');
		buf_puts(b, v[i]);
	}
}

char *patch_apply_update(const char *src, size_t len, const struct patch_hunk *h,
			 const char *display, size_t *outlen, char *err, size_t errlen)
{
	struct flines f = { 0 };
	struct normcache nc = { 0 };
	struct repl *r = xcalloc(h->n_chunks ? h->n_chunks : 1, sizeof(*r));
	size_t n_r = 0, line_index = 0;
	const char *preferred = "\n", *bom = "";
	bool missing_final = false;
	struct buf out, msg;
	char *ret = NULL;

	buf_init(&out, PATCH_MAX_OUTPUT);
	buf_init(&msg, 4096);
	if (len >= 3 && !memcmp(src, "\xEF\xBB\xBF", 3)) {
		bom = "\xEF\xBB\xBF";
		src += 3;
		len -= 3;
	}
	for (size_t i = 0; i < len;) {
		size_t j = i;
		const char *end = "";

		while (j < len && src[j] != '\n' && src[j] != '\r')
			j++;
		if (j < len && src[j] == '\r' && j + 1 < len && src[j + 1] == '\n')
			end = "\r\n";
		else if (j < len)
			end = src[j] == '\r' ? "\r" : "\n";
		flines_push(&f, (struct span){ src + i, j - i }, end);
		i = j + strlen(end);
	}
	nc.n = f.n;
	for (size_t i = 0; i < f.n; i++)
		if (*f.v[i].end) {
			preferred = f.v[i].end;
			break;
		}
	missing_final = f.n && !*f.v[f.n - 1].end;

	for (size_t ci = 0; ci < h->n_chunks; ci++) {
		const struct patch_chunk *c = &h->chunks[ci];
		size_t idx = 0, count = 0, n_pat = c->n_old, n_new = c->n_new;
		enum seek_result sr;
		struct repl *rp;
		size_t old_start = 0, new_start = 0;

		if (c->context) {
			char *ctx[1] = { c->context };

			sr = seek(&f, &nc, ctx, 1, line_index, false, &idx, &count);
			if (sr == SEEK_AMBIGUOUS) {
				snprintf(err, errlen,
					 "Found %zu occurrences of context '%s' in %s. The context "
					 "must "
					 "be unique; use a more specific @@ context line.",
					 count, c->context, display);
				goto out;
			}
			if (sr == SEEK_MISSING) {
				snprintf(err, errlen, "Failed to find context '%s' in %s",
					 c->context, display);
				goto out;
			}
			line_index = idx + 1;
		}
		rp = &r[n_r];
		rp->order = n_r++;
		if (!c->n_old) {
			/* Pure insertion: after the context line, else at the end. */
			size_t at = c->context && !c->eof ? line_index : f.n;

			rp->start = at;
			changed_lines(&f, at, 0, c->new_lines, c->n_new, preferred, &rp->lines);
			if (missing_final && at == f.n && rp->lines.n)
				rp->lines.v[rp->lines.n - 1].end = "";
			line_index = at;
			continue;
		}
		sr = seek(&f, &nc, c->old_lines, n_pat, line_index, c->eof, &idx, &count);
		if (sr == SEEK_MISSING && !*c->old_lines[n_pat - 1]) {
			/* A trailing blank context line is often the patch's own last newline. */
			n_pat--;
			if (n_new && !*c->new_lines[n_new - 1])
				n_new--;
			sr = seek(&f, &nc, c->old_lines, n_pat, line_index, c->eof, &idx, &count);
		}
		if (sr != SEEK_FOUND) {
			buf_reset(&msg);
			join_lines(&msg, c->old_lines, c->n_old);
			if (sr == SEEK_AMBIGUOUS)
				snprintf(err, errlen,
					 "Found %zu occurrences of these lines in %s. The lines "
					 "must be "
					 "unique; include more surrounding lines in the hunk:\n%s",
					 count, display, msg.p);
			else
				snprintf(err, errlen, "Failed to find expected lines in %s:\n%s",
					 display, msg.p);
			goto out;
		}
		rp->start = idx;
		rp->old_count = n_pat;
		/* Unchanged (context) lines keep the file's own text and ending. */
		for (size_t k = 0; k < c->n_new; k++) {
			long oc = c->ctx_of[k];

			if (oc < 0 || (size_t)oc >= n_pat || k >= n_new)
				continue;
			changed_lines(&f, idx + old_start, (size_t)oc - old_start,
				      c->new_lines ? c->new_lines + new_start : NULL, k - new_start,
				      preferred, &rp->lines);
			olines_push(&rp->lines, f.v[idx + (size_t)oc].text,
				    f.v[idx + (size_t)oc].end);
			old_start = (size_t)oc + 1;
			new_start = k + 1;
		}
		changed_lines(&f, idx + old_start, n_pat - old_start,
			      c->new_lines ? c->new_lines + new_start : NULL, n_new - new_start,
			      preferred, &rp->lines);
		line_index = idx + n_pat;
	}
	qsort(r, n_r, sizeof(*r), repl_cmp);

	/* Splice: file lines between replacements, replacements in order. */
	{
		struct olines all = { 0 };
		size_t pos = 0;

		for (size_t i = 0; i < n_r; i++) {
			size_t s = r[i].start < pos ? pos : r[i].start;

			for (; pos < s && pos < f.n; pos++)
				olines_push(&all, f.v[pos].text, f.v[pos].end);
			for (size_t k = 0; k < r[i].lines.n; k++)
				olines_push(&all, r[i].lines.v[k].text, r[i].lines.v[k].end);
			if (r[i].start + r[i].old_count > pos)
				pos = r[i].start + r[i].old_count;
		}
		for (; pos < f.n; pos++)
			olines_push(&all, f.v[pos].text, f.v[pos].end);
		buf_puts(&out, bom);
		for (size_t i = 0; i < all.n; i++) {
			const char *end = all.v[i].end;

			/* Every line but the last ends in a newline. */
			if (i + 1 < all.n && !*end)
				end = preferred;
			if (buf_append(&out, all.v[i].text.p, all.v[i].text.n) < 0 ||
			    buf_puts(&out, end) < 0) {
				snprintf(err, errlen, "patched %s would be larger than %u bytes",
					 display, PATCH_MAX_OUTPUT);
				free(all.v);
				goto out;
			}
		}
		free(all.v);
	}
	ret = buf_detach(&out, outlen);
out:
	for (size_t i = 0; i < n_r; i++)
		free(r[i].lines.v);
	free(r);
	free(f.v);
	normcache_free(&nc);
	buf_release(&out);
	buf_release(&msg);
	return ret;
}
