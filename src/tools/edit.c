/*
 * edit.c - the `edit` tool: exact text replacements in one file, as
 * OpenClaw's (pi's) edit tool makes them.
 *
 * Arguments: `path` and `edits`, a list of {oldText, newText}; the older
 * single-edit form (top-level oldText/newText) and Claude-style aliases
 * (old_string/new_string, old_str/new_str, file_path) are accepted too, as
 * OpenClaw's argument preparation accepts them. Every oldText is matched
 * against the original file: exactly, else ignoring trailing whitespace
 * and folding typographic quotes, dashes and spaces. Each must match once
 * (else the count is reported), edits must not overlap, and all of them
 * apply or none does. A miss is explained: the closest lines of the file
 * with what differs (indentation, escaping, a column), and the file's head.
 * The file keeps its BOM, CRLF line endings and mode.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fs.h"
#include "core/mem.h"
#include "tools/fsguard.h"
#include "tools/tool.h"

/* The edit tool loads the whole file; larger ones are for apply_patch or exec. */
#define EDIT_MAX_FILE   (16 * 1024 * 1024)
#define EDIT_MAX_EDITS  200
#define EDIT_HINT_CHARS 800

struct edit_pair {
	char *old_text, *new_text;
	size_t old_len, new_len;
};

struct edit_job {
	struct fsjob j;
	char *path;
	bool confine;
	struct edit_pair *edits;
	size_t n_edits;
};

/* A match: where in the (LF, BOM-less) content, and what replaces it. */
struct edit_match {
	size_t index, at, len;
	const struct edit_pair *e;
};

/* ==== fuzzy view ==== */

/*
 * The content with trailing whitespace of every line removed and
 * typographic punctuation folded to ASCII; for each byte of it, the span
 * of the original it came from, so a match maps back onto the original.
 */
struct fuzzy {
	struct buf text;
	size_t *from, *to; /* per normalized byte: original start, original end */
	size_t alloc;
};

static int fold_char(const unsigned char *p, size_t n, size_t *w)
{
	unsigned cp = 0;

	*w = 1;
	if (p[0] == 0xC2 && n >= 2) {
		cp = ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
		*w = 2;
	} else if (p[0] >= 0xE0 && p[0] < 0xF0 && n >= 3) {
		cp = ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
		*w = 3;
	} else {
		return -1;
	}
	if (cp >= 0x2018 && cp <= 0x201B)
		return '\'';
	if (cp >= 0x201C && cp <= 0x201F)
		return '"';
	if ((cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212)
		return '-';
	if (cp == 0xA0 || (cp >= 0x2002 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F ||
	    cp == 0x3000)
		return ' ';
	return -1;
}

static void fuzzy_put(struct fuzzy *f, char c, size_t from, size_t to)
{
	buf_putc(&f->text, c);
	if (f->text.len > f->alloc) {
		f->alloc = f->text.len * 2 + 64;
		f->from = xrealloc(f->from, f->alloc * sizeof(size_t));
		f->to = xrealloc(f->to, f->alloc * sizeof(size_t));
	}
	f->from[f->text.len - 1] = from;
	f->to[f->text.len - 1] = to;
}

/* Normalize `s` into f (f->from/to may be NULL-tracked: pass track=false for the needle). */
static void fuzzy_build(struct fuzzy *f, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t line_start_out;

	buf_init(&f->text, BUF_UNLIMITED);
	f->from = f->to = NULL;
	f->alloc = 0;
	line_start_out = 0;
	for (size_t i = 0; i <= n;) {
		if (i == n || s[i] == '\n') {
			/* End of a line: drop its trailing whitespace. */
			while (f->text.len > line_start_out &&
			       (f->text.p[f->text.len - 1] == ' ' ||
				f->text.p[f->text.len - 1] == '\t' ||
				f->text.p[f->text.len - 1] == '\r' ||
				f->text.p[f->text.len - 1] == '\v' ||
				f->text.p[f->text.len - 1] == '\f'))
				f->text.len--;
			f->text.p[f->text.len] = '\0';
			if (i == n)
				break;
			fuzzy_put(f, '\n', i, i + 1);
			line_start_out = f->text.len;
			i++;
			continue;
		}
		size_t w;
		int c = fold_char(u + i, n - i, &w);

		if (c >= 0) {
			fuzzy_put(f, (char)c, i, i + w);
			i += w;
		} else {
			fuzzy_put(f, s[i], i, i + 1);
			i++;
		}
	}
}

static void fuzzy_free(struct fuzzy *f)
{
	buf_release(&f->text);
	free(f->from);
	free(f->to);
}

/* Non-overlapping occurrences of needle in hay, and the first one's offset. */
static size_t count_occurrences(const char *hay, size_t hn, const char *needle, size_t nn,
				size_t *first)
{
	size_t count = 0, i = 0;

	if (!nn)
		return 0;
	while (i + nn <= hn) {
		const char *p = memmem(hay + i, hn - i, needle, nn);

		if (!p)
			break;
		if (!count)
			*first = (size_t)(p - hay);
		count++;
		i = (size_t)(p - hay) + nn;
	}
	return count;
}

/* ==== not-found hint ==== */

static size_t lev(const char *a, size_t an, const char *b, size_t bn)
{
	size_t *row = xmalloc((bn + 1) * sizeof(size_t)), res;

	for (size_t j = 0; j <= bn; j++)
		row[j] = j;
	for (size_t i = 1; i <= an; i++) {
		size_t prev = row[0], tmp;

		row[0] = i;
		for (size_t j = 1; j <= bn; j++) {
			size_t best = prev + (a[i - 1] != b[j - 1]);

			tmp = row[j];
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			prev = tmp;
			row[j] = best;
		}
	}
	res = row[bn];
	free(row);
	return res;
}

static void trim(const char **p, size_t *n)
{
	while (*n && (**p == ' ' || **p == '\t' || **p == '\r')) {
		(*p)++;
		(*n)--;
	}
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' || (*p)[*n - 1] == '\r'))
		(*n)--;
}

static void indentation(char *out, size_t outlen, const char *s, size_t n)
{
	size_t spaces = 0, tabs = 0;

	for (size_t i = 0; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
		s[i] == ' ' ? spaces++ : tabs++;
	if (!spaces && !tabs)
		snprintf(out, outlen, "none");
	else if (!tabs)
		snprintf(out, outlen, "%zu spaces", spaces);
	else
		snprintf(out, outlen, "%zu spaces and %zu tabs", spaces, tabs);
}

static char *json_quote(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	json_decref(j);
	return q ? q : xstrdup("\"\"");
}

struct cand {
	size_t line;
	const char *p;
	size_t n;
	double score;
};

/* OpenClaw's "Closest matching lines" block: up to three lines like the longest expected one. */
static void candidate_hint(struct buf *b, const char *content, size_t clen, const char *old,
			   size_t olen)
{
	const char *exp = "", *p;
	size_t exp_n = 0, exp_tn = 0, scanned = 0, line = 0, nc = 0;
	struct cand c[3];
	char *ed, *fd;

	/* The longest (trimmed) line among the first 32 of oldText. */
	for (p = old; p < old + olen && line < 32 && scanned < 4096; line++) {
		const char *e = memchr(p, '\n', (size_t)(old + olen - p));
		size_t n = e ? (size_t)(e - p) : (size_t)(old + olen - p), tn = n > 120 ? 120 : n;
		const char *tp = p;

		trim(&tp, &tn);
		if (tn > exp_tn) {
			exp = p;
			exp_n = n > 120 ? 120 : n;
			exp_tn = tn;
		}
		scanned += n + 1;
		p = e ? e + 1 : old + olen;
	}
	{
		const char *tp = exp;
		size_t tn = exp_n;

		trim(&tp, &tn);
		if (!tn)
			return;
	}
	scanned = 0;
	line = 0;
	for (p = content; p < content + clen && line < 1000 && scanned < 131072; line++) {
		const char *e = memchr(p, '\n', (size_t)(content + clen - p));
		size_t n = e ? (size_t)(e - p) : (size_t)(content + clen - p);
		size_t ln = n > 120 ? 120 : n, en = exp_n, mx, mn;
		const char *lp = p, *ep = exp;
		double score;

		scanned += n + 1;
		trim(&lp, &ln);
		trim(&ep, &en);
		mx = en > ln ? en : ln;
		mn = en > ln ? ln : en;
		if (mx && (double)mn / (double)mx >= 0.45) {
			score = 1.0 - (double)lev(ep, en, lp, ln) / (double)mx;
			if (score >= 0.45) {
				struct cand x = { line + 1, p, n > 120 ? 120 : n, score };
				size_t k = nc < 3 ? nc++ : 3;

				/* Insertion into the top three, best first, earlier line on ties. */
				while (k > 0 && c[k - 1].score < x.score) {
					if (k < 3)
						c[k] = c[k - 1];
					k--;
				}
				if (k < 3)
					c[k] = x;
			}
		}
		p = e ? e + 1 : content + clen;
	}
	if (!nc)
		return;
	buf_puts(b, "\nClosest matching lines:");
	ed = json_quote(exp, exp_n);
	for (size_t i = 0; i < nc; i++) {
		size_t ei = 0, el = strlen(ed), fl, mark, width, bs_e = 0, bs_f = 0, d;
		char ie[64], iff[64];

		fd = json_quote(c[i].p, c[i].n);
		fl = strlen(fd);
		while (ei < el && ei < fl && ed[ei] == fd[ei])
			ei++;
		mark = ei;
		width = (el > fl ? el : fl) - mark;
		width = width < 1 ? 1 : width > 12 ? 12 : width;
		buf_printf(b,
			   "\n  near line %zu (%d%% match):\n    expected: %s\n    found:    %s\n"
			   "              ",
			   c[i].line, (int)(c[i].score * 100 + 0.5), ed, fd);
		for (size_t k = 0; k < mark; k++)
			buf_putc(b, ' ');
		for (size_t k = 0; k < width; k++)
			buf_putc(b, '^');
		indentation(ie, sizeof(ie), exp, exp_n);
		indentation(iff, sizeof(iff), c[i].p, c[i].n);
		for (size_t k = 0; k < exp_n; k++)
			bs_e += exp[k] == '\\';
		for (size_t k = 0; k < c[i].n; k++)
			bs_f += c[i].p[k] == '\\';
		for (d = 0; d < exp_n && d < c[i].n && exp[d] == c[i].p[d]; d++)
			;
		if (strspn(exp, " \t") != strspn(c[i].p, " \t") ||
		    memcmp(exp, c[i].p, strspn(exp, " \t")))
			buf_printf(b, "\n    hint: indentation differs (expected %s, found %s)", ie,
				   iff);
		else if (bs_e != bs_f)
			buf_printf(b,
				   "\n    hint: escaping differs (expected %zu backslashes, found "
				   "%zu)",
				   bs_e, bs_f);
		else if (d == exp_n && d == c[i].n)
			buf_puts(b, "\n    hint: this line matches; surrounding lines differ");
		else
			buf_printf(b, "\n    hint: first difference at column %zu", d + 1);
		free(fd);
	}
	free(ed);
}

/* ==== the edit ==== */

static void crlf_to_lf(char *s, size_t *n)
{
	size_t o = 0;

	for (size_t i = 0; i < *n; i++)
		if (!(s[i] == '\r' && i + 1 < *n && s[i + 1] == '\n'))
			s[o++] = s[i];
	s[o] = '\0';
	*n = o;
}

static bool valid_utf8(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t len;

		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] >= 0xC2 && p[i] <= 0xDF)
			len = 2;
		else if (p[i] >= 0xE0 && p[i] <= 0xEF)
			len = 3;
		else if (p[i] >= 0xF0 && p[i] <= 0xF4)
			len = 4;
		else
			return false;
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++)
			if ((p[i + k] & 0xC0) != 0x80)
				return false;
		if ((p[i] == 0xE0 && p[i + 1] < 0xA0) || (p[i] == 0xED && p[i + 1] >= 0xA0) ||
		    (p[i] == 0xF0 && p[i + 1] < 0x90) || (p[i] == 0xF4 && p[i + 1] >= 0x90))
			return false;
		i += len;
	}
	return true;
}

static int match_cmp(const void *a, const void *b)
{
	const struct edit_match *x = a, *y = b;

	return x->at < y->at ? -1 : x->at > y->at;
}

/* Find edit `e` (number i of n) in content; 0, or -1 with the answer set. */
static int edit_find(struct edit_job *w, const char *content, size_t clen, struct fuzzy *fz,
		     bool *fz_built, const struct edit_pair *e, size_t i, struct edit_match *m,
		     const char *raw, size_t raw_len)
{
	struct fsjob *j = &w->j;
	size_t first = 0, count, n = w->n_edits;

	if (!e->old_len) {
		if (n == 1)
			return fsjob_fail(j, "oldText must not be empty in %s.", w->path);
		return fsjob_fail(j, "edits[%zu].oldText must not be empty in %s.", i, w->path);
	}
	count = count_occurrences(content, clen, e->old_text, e->old_len, &first);
	if (count == 1) {
		m->at = first;
		m->len = e->old_len;
	} else if (count == 0) {
		struct fuzzy needle;

		if (!*fz_built) {
			fuzzy_build(fz, content, clen);
			*fz_built = true;
		}
		fuzzy_build(&needle, e->old_text, e->old_len);
		count = count_occurrences(fz->text.p, fz->text.len, needle.text.p, needle.text.len,
					  &first);
		if (count == 1) {
			m->at = fz->from[first];
			m->len = fz->to[first + needle.text.len - 1] - m->at;
		}
		if (!needle.text.len) {
			fuzzy_free(&needle);
			return fsjob_fail(j, "oldText of edits[%zu] in %s is only whitespace", i,
					  w->path);
		}
		fuzzy_free(&needle);
	}
	if (count > 1) {
		if (n == 1)
			return fsjob_fail(
				j,
				"Found %zu occurrences of the text in %s. The text must be "
				"unique. Please provide more context to make it unique.",
				count, w->path);
		return fsjob_fail(j,
				  "Found %zu occurrences of edits[%zu] in %s. Each oldText must be "
				  "unique. Please provide more context to make it unique.",
				  count, i, w->path);
	}
	if (count == 0) {
		struct buf b;
		size_t show = raw_len;

		buf_init(&b, 64 * 1024);
		if (n == 1)
			buf_printf(&b, "Could not find the exact text in %s.", w->path);
		else
			buf_printf(&b, "Could not find edits[%zu] in %s.", i, w->path);
		buf_puts(&b, " The old text must match exactly including all whitespace and "
			     "newlines.");
		candidate_hint(&b, content, clen, e->old_text, e->old_len);
		if (show > EDIT_HINT_CHARS) {
			show = EDIT_HINT_CHARS;
			while (show > 0 && ((unsigned char)raw[show] & 0xC0) == 0x80)
				show--;
		}
		buf_puts(&b, "\nCurrent file contents:\n");
		buf_append(&b, raw, show);
		if (show < raw_len)
			buf_puts(&b, "\n... (truncated)");
		fsjob_fail(j, "%s", b.p);
		buf_release(&b);
		return -1;
	}
	m->e = e;
	m->index = i;
	return 0;
}

static void edit_work(struct fsjob *j)
{
	struct edit_job *w = (struct edit_job *)j;
	char err[512], *abs = NULL, *content;
	struct buf raw, out;
	struct fuzzy fz = { 0 };
	bool fz_built = false, crlf = false, bom = false;
	struct edit_match *m = xcalloc(w->n_edits, sizeof(*m));
	size_t clen, n_real = 0, pos = 0;
	struct stat st;

	buf_init(&raw, EDIT_MAX_FILE);
	buf_init(&out, (size_t)EDIT_MAX_FILE * 3);
	if (fsguard_resolve(j->workspace, w->path, w->confine, 0, &abs, err, sizeof(err)) < 0) {
		fsjob_fail(j, "%s", err);
		goto out;
	}
	if (stat(abs, &st) < 0) {
		fsjob_fail(j, "Could not edit file: %s. Error code: %s.", w->path,
			   errno == ENOENT ? "ENOENT" : strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		fsjob_fail(j, "Could not edit file: %s. It is not a regular file.", w->path);
		goto out;
	}
	if (st.st_size > EDIT_MAX_FILE || fs_read_file(abs, &raw) < 0) {
		if (st.st_size > EDIT_MAX_FILE || errno == E2BIG)
			fsjob_fail(
				j,
				"Cannot edit %s: the file is %lld bytes, over the %d-byte limit "
				"of the edit tool. Use apply_patch or exec for files this large.",
				w->path, (long long)st.st_size, EDIT_MAX_FILE);
		else
			fsjob_fail(j, "Could not edit file: %s. %s.", w->path, strerror(errno));
		goto out;
	}
	if (!valid_utf8((const unsigned char *)raw.p, raw.len)) {
		fsjob_fail(j, "File %s is not valid UTF-8 and cannot be edited safely.", abs);
		goto out;
	}
	content = xmalloc(raw.len + 1);
	memcpy(content, raw.p, raw.len + 1);
	clen = raw.len;
	if (clen >= 3 && !memcmp(content, "\xEF\xBB\xBF", 3)) {
		bom = true;
		memmove(content, content + 3, clen - 2);
		clen -= 3;
	}
	{
		const char *nl = memchr(content, '\n', clen);

		/* The file's line ending is its first line's. */
		crlf = nl && nl > content && nl[-1] == '\r';
	}
	crlf_to_lf(content, &clen);

	for (size_t i = 0; i < w->n_edits; i++) {
		struct edit_pair *e = &w->edits[i];

		crlf_to_lf(e->old_text, &e->old_len);
		crlf_to_lf(e->new_text, &e->new_len);
	}
	for (size_t i = 0; i < w->n_edits; i++) {
		struct edit_match mm;

		if (edit_find(w, content, clen, &fz, &fz_built, &w->edits[i], i, &mm, raw.p,
			      raw.len) < 0)
			goto out_content;
		/* An edit that changes nothing is checked, then left out. */
		if (w->edits[i].old_len == w->edits[i].new_len &&
		    !memcmp(w->edits[i].old_text, w->edits[i].new_text, w->edits[i].old_len))
			continue;
		m[n_real++] = mm;
	}
	if (!n_real) {
		fsjob_text(j,
			   "No changes made to %s. The replacement text is identical to the "
			   "original.",
			   w->path);
		goto out_content;
	}
	qsort(m, n_real, sizeof(*m), match_cmp);
	for (size_t i = 1; i < n_real; i++)
		if (m[i - 1].at + m[i - 1].len > m[i].at) {
			fsjob_fail(j,
				   "edits[%zu] and edits[%zu] overlap in %s. Merge them into one "
				   "edit or target disjoint regions.",
				   m[i - 1].index, m[i].index, w->path);
			goto out_content;
		}
	if (bom)
		buf_puts(&out, "\xEF\xBB\xBF");
	for (size_t i = 0; i <= n_real; i++) {
		size_t end = i < n_real ? m[i].at : clen;
		const char *seg[2] = { content + pos, i < n_real ? m[i].e->new_text : NULL };
		size_t segn[2] = { end - pos, i < n_real ? m[i].e->new_len : 0 };

		for (int s = 0; s < 2; s++)
			for (size_t k = 0; k < segn[s]; k++) {
				if (crlf && seg[s][k] == '\n')
					buf_putc(&out, '\r');
				if (buf_putc(&out, seg[s][k]) < 0) {
					fsjob_fail(j, "Cannot edit %s: the result is too large",
						   w->path);
					goto out_content;
				}
			}
		if (i < n_real)
			pos = m[i].at + m[i].len;
	}
	if (out.len == raw.len && !memcmp(out.p, raw.p, raw.len)) {
		fsjob_text(j, "No changes made to %s. The replacement produced identical content.",
			   w->path);
		goto out_content;
	}
	if (fs_write_atomic(abs, out.p, out.len, st.st_mode & 07777) < 0) {
		fsjob_fail(j, "Cannot write %s: %s", w->path, strerror(errno));
		goto out_content;
	}
	fsjob_text(j, "Successfully replaced %zu block(s) in %s.", n_real, w->path);
out_content:
	free(content);
out:
	if (fz_built)
		fuzzy_free(&fz);
	free(m);
	free(abs);
	buf_release(&raw);
	buf_release(&out);
}

static void edit_release(struct fsjob *j)
{
	struct edit_job *w = (struct edit_job *)j;

	for (size_t i = 0; i < w->n_edits; i++) {
		free(w->edits[i].old_text);
		free(w->edits[i].new_text);
	}
	free(w->edits);
	free(w->path);
}

/* The first string among `keys` in obj. */
static json_t *first_str(const json_t *obj, const char *const *keys)
{
	for (; *keys; keys++) {
		json_t *v = json_object_get(obj, *keys);

		if (json_is_string(v))
			return v;
	}
	return NULL;
}

static const char *const old_keys[] = { "oldText", "old_string", "old_str", NULL };
static const char *const new_keys[] = { "newText", "new_string", "new_str", NULL };

static void pair_set(struct edit_pair *p, const json_t *o, const json_t *n)
{
	p->old_len = json_string_length(o);
	p->old_text = xmalloc(p->old_len + 1);
	memcpy(p->old_text, json_string_value(o), p->old_len + 1);
	p->new_len = json_string_length(n);
	p->new_text = xmalloc(p->new_len + 1);
	memcpy(p->new_text, json_string_value(n), p->new_len + 1);
}

static void t_edit(struct tool_call *call)
{
	const char *path = fsguard_arg_str(call, "path", "file_path");
	json_t *edits = json_object_get(call->args, "edits"), *parsed = NULL, *e;
	json_t *top_old = first_str(call->args, old_keys),
	       *top_new = first_str(call->args, new_keys);
	struct edit_job *w;
	size_t i, n = 0;

	if (!path || !*path) {
		tool_call_text(call, true, "Missing required parameter: path");
		return;
	}
	/* Some models send the edits array as a JSON string. */
	if (json_is_string(edits)) {
		parsed = json_loads(json_string_value(edits), JSON_DECODE_ANY, NULL);
		edits = parsed;
	}
	if (edits && !json_is_array(edits)) {
		json_decref(parsed);
		tool_call_text(call, true, "Edit tool input is invalid. edits must be an array.");
		return;
	}
	w = (struct edit_job *)fsjob_new(call, sizeof(*w), edit_work);
	w->j.release = edit_release;
	w->path = xstrdup(path);
	w->confine = fsguard_workspace_only(call->env.cfg, call->env.agent_id);
	w->edits = xcalloc(json_array_size(edits) + 1, sizeof(*w->edits));
	json_array_foreach(edits, i, e)
	{
		json_t *o = first_str(e, old_keys), *nw = first_str(e, new_keys);

		if (!o || !nw) {
			json_decref(parsed);
			w->n_edits = n;
			fsjob_fail(
				&w->j,
				"Edit tool input is invalid. edits[%zu] needs string oldText and "
				"newText.",
				i);
			/* Answer through the job so its fields are freed in one place. */
			w->j.work = NULL;
			break;
		}
		pair_set(&w->edits[n++], o, nw);
	}
	w->n_edits = n;
	json_decref(parsed);
	if (w->j.is_error) {
		fsjob_start(&w->j);
		return;
	}
	if (top_old && top_new) {
		bool dup = false;

		for (i = 0; i < n && !dup; i++)
			dup = !strcmp(w->edits[i].old_text, json_string_value(top_old)) &&
			      !strcmp(w->edits[i].new_text, json_string_value(top_new));
		if (!dup)
			pair_set(&w->edits[w->n_edits++], top_old, top_new);
	}
	if (!w->n_edits || w->n_edits > EDIT_MAX_EDITS) {
		fsjob_fail(&w->j,
			   w->n_edits ? "Edit tool input is invalid. At most %d edits per call."
				      : "Edit tool input is invalid. edits must contain at "
					"least one replacement.",
			   EDIT_MAX_EDITS);
		w->j.work = NULL;
	}
	fsjob_start(&w->j);
}

static char *edit_title(const json_t *args)
{
	const char *p = json_string_value(json_object_get(args, "path"));

	return p ? xasprintf("Edit %s", p) : NULL;
}

const struct tool_def tool_edit = {
	.name = "edit",
	.group = "fs",
	.description = "Exact single-file replacements. oldText unique/non-overlapping against "
		       "original. Merge nearby changes; omit large unchanged spans.",
	.parameters =
		"{\"type\":\"object\",\"required\":[\"path\",\"edits\"],\"properties\":{"
		"\"path\":{\"type\":\"string\",\"description\":\"File path; relative/absolute.\"},"
		"\"edits\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":"
		"[\"oldText\",\"newText\"],\"properties\":{\"oldText\":{\"type\":\"string\","
		"\"description\":\"Exact original text; unique and non-overlapping in this "
		"call.\"},\"newText\":{\"type\":\"string\",\"description\":\"Replacement "
		"text.\"}}},\"description\":\"Targeted replacements against original file; no "
		"overlap/nesting. Merge nearby changes.\"}}}",
	.invoke = t_edit,
	.title = edit_title,
};
