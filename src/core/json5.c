/*
 * json5.c - a strict JSON5 reader yielding jansson values; see json5.h.
 *
 * A hand-written recursive-descent parser over the raw bytes. It never
 * backtracks, so it is linear in the input; nesting is bounded by
 * JSON5_MAX_DEPTH, so is the recursion.
 *
 * Line numbers are not tracked while scanning: every scanner would have to
 * know about CR, LF and CRLF. Instead parser_locate() turns a byte offset
 * into line:col on demand, resuming from the last offset it was asked
 * about. Positions are requested in document order (value starts, then at
 * most one error), so the total cost stays linear.
 */
#include "core/json5.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jsonx.h"
#include "core/mem.h"

/*
 * Path bytes the position map may hold: a fixed allowance plus a multiple
 * of the input size. Every value stores its full path, so a long key over a
 * big array would otherwise cost (key length x elements) bytes, quadratic
 * in the input. Real configs stay far below this.
 */
#define JSON5_PM_BASE_BYTES (1u << 20)
#define JSON5_PM_PER_BYTE   64

struct parser {
	const unsigned char *s;
	size_t len;
	size_t pos;

	const char *name;
	struct json5_posmap *pm;
	struct buf path; /* JSON path of the value being parsed (only with pm) */
	size_t pm_bytes, pm_limit;

	struct buf str; /* decoded string or key, reused */
	int depth;

	/* parser_locate() state: line number and line start at lc_pos */
	size_t lc_pos, lc_start;
	int lc_line;

	struct json5_error *err;
	bool failed;
};

/* ---- characters ---- */

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_ident_start_ascii(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '$' || c == '_';
}

/*
 * Decode one UTF-8 sequence from at most `n` bytes. Returns its length, or
 * 0 if it is not well-formed (overlong, surrogate, past U+10FFFF,
 * truncated): the same rules jansson applies to its strings.
 */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t v, min;
	size_t len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] < 0xc2)
		return 0;
	if (s[0] < 0xe0) {
		len = 2;
		v = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] < 0xf0) {
		len = 3;
		v = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] < 0xf5) {
		len = 4;
		v = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

static size_t utf8_encode(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Non-ASCII JSON5 white space: NBSP, the line/paragraph separators, BOM, Zs. */
static bool is_space_cp(uint32_t cp)
{
	return cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}

/*
 * May code point `cp` appear in an unquoted key (at its start if `first`)?
 * ASCII as ECMAScript says; any non-ASCII character but white space is
 * taken as a letter, a superset that spares us Unicode category tables.
 */
static bool is_ident_cp(long cp, bool first)
{
	if (cp >= 0x80)
		return !is_space_cp((uint32_t)cp);
	return is_ident_start_ascii((int)cp) || (!first && is_digit((int)cp));
}

/* ---- positions and errors ---- */

/* Line and column (both 1-based, the column in bytes) of byte offset `at`. */
static void parser_locate(struct parser *p, size_t at, int *line, int *col)
{
	size_t i;

	if (at > p->len)
		at = p->len;
	if (at < p->lc_pos) {
		p->lc_pos = 0;
		p->lc_start = 0;
		p->lc_line = 1;
	}
	for (i = p->lc_pos; i < at; i++) {
		if (p->s[i] == '\r') {
			p->lc_line++;
			p->lc_start = i + 1;
		} else if (p->s[i] == '\n') {
			/* the LF of a CRLF ends no second line */
			if (i == 0 || p->s[i - 1] != '\r')
				p->lc_line++;
			p->lc_start = i + 1;
		}
	}
	p->lc_pos = at;
	*line = p->lc_line;
	*col = (int)(at - p->lc_start) + 1;
}

static PRINTF_LIKE(3, 4) void parser_fail(struct parser *p, size_t at, const char *fmt, ...)
{
	va_list ap;

	/* the innermost error is the precise one; callers only propagate it */
	if (p->failed)
		return;
	p->failed = true;
	parser_locate(p, at, &p->err->line, &p->err->col);
	va_start(ap, fmt);
	vsnprintf(p->err->text, sizeof(p->err->text), fmt, ap);
	va_end(ap);
}

/* Describe the character at `at` for an error message: 'x', U+00E9, ... */
static void parser_describe(const struct parser *p, size_t at, char *out, size_t outlen)
{
	uint32_t cp;
	int c;

	if (at >= p->len) {
		snprintf(out, outlen, "end of input");
		return;
	}
	c = p->s[at];
	if (c == '\'')
		snprintf(out, outlen, "\"'\"");
	else if (c >= 0x20 && c < 0x7f)
		snprintf(out, outlen, "'%c'", c);
	else if (utf8_decode(p->s + at, p->len - at, &cp))
		snprintf(out, outlen, "U+%04X", (unsigned)cp);
	else
		snprintf(out, outlen, "invalid UTF-8");
}

/* "expected <what>, got <the character at pos>" */
static void parser_expected(struct parser *p, const char *what)
{
	char got[32];

	parser_describe(p, p->pos, got, sizeof(got));
	parser_fail(p, p->pos, "expected %s, got %s", what, got);
}

/* Append a position map entry for the current path at offset `at`. */
static int parser_record(struct parser *p, size_t at)
{
	struct json5_posmap *pm = p->pm;
	struct json5_pos *e;

	if (!pm)
		return 0;
	p->pm_bytes += p->path.len + 1;
	if (p->pm_bytes > p->pm_limit) {
		parser_fail(p, at, "key paths too long to record positions");
		return -1;
	}
	pm->v = xgrow(pm->v, &pm->alloc, pm->n + 1, sizeof(*pm->v));
	e = &pm->v[pm->n++];
	e->path = xstrndup(p->path.p, p->path.len);
	e->file = p->name;
	parser_locate(p, at, &e->line, &e->col);
	return 0;
}

/* jansson reports allocation failure as NULL; pincer does not survive OOM. */
static json_t *json5_must(json_t *v)
{
	if (!v)
		BUG("jansson out of memory");
	return v;
}

/* Append to the decoded-string buffer, which is sized to never overflow. */
static void parser_emit(struct parser *p, const void *data, size_t n)
{
	if (buf_append(&p->str, data, n) < 0)
		BUG("json5 string buffer overflow");
}

/* ---- white space and comments ---- */

static int skip_line_comment(struct parser *p)
{
	uint32_t cp;
	size_t n;

	p->pos += 2;
	while (p->pos < p->len) {
		unsigned char c = p->s[p->pos];

		if (c == '\n' || c == '\r')
			return 0;
		if (c < 0x80) {
			p->pos++;
			continue;
		}
		n = utf8_decode(p->s + p->pos, p->len - p->pos, &cp);
		if (!n) {
			parser_fail(p, p->pos, "invalid UTF-8 in comment");
			return -1;
		}
		if (cp == 0x2028 || cp == 0x2029)
			return 0;
		p->pos += n;
	}
	return 0;
}

static int skip_block_comment(struct parser *p)
{
	size_t start = p->pos;
	uint32_t cp;
	size_t n;

	p->pos += 2;
	for (;;) {
		unsigned char c;

		if (p->pos >= p->len) {
			parser_fail(p, start, "unterminated comment");
			return -1;
		}
		c = p->s[p->pos];
		if (c == '*' && p->pos + 1 < p->len && p->s[p->pos + 1] == '/') {
			p->pos += 2;
			return 0;
		}
		if (c < 0x80) {
			p->pos++;
			continue;
		}
		n = utf8_decode(p->s + p->pos, p->len - p->pos, &cp);
		if (!n) {
			parser_fail(p, p->pos, "invalid UTF-8 in comment");
			return -1;
		}
		p->pos += n;
	}
}

/* Skip white space and comments. A '/' that starts no comment is left alone. */
static int skip_ws(struct parser *p)
{
	uint32_t cp;
	size_t n;

	while (p->pos < p->len) {
		unsigned char c = p->s[p->pos];

		switch (c) {
		case '\t':
		case '\n':
		case '\v':
		case '\f':
		case '\r':
		case ' ':
			p->pos++;
			continue;
		case '/':
			if (p->pos + 1 < p->len && p->s[p->pos + 1] == '/') {
				if (skip_line_comment(p) < 0)
					return -1;
				continue;
			}
			if (p->pos + 1 < p->len && p->s[p->pos + 1] == '*') {
				if (skip_block_comment(p) < 0)
					return -1;
				continue;
			}
			return 0;
		default:
			if (c < 0x80)
				return 0;
			n = utf8_decode(p->s + p->pos, p->len - p->pos, &cp);
			if (!n || !is_space_cp(cp))
				return 0;
			p->pos += n;
		}
	}
	return 0;
}

/* ---- strings ---- */

/* Read exactly `n` hex digits at `at`; -1 if they are not there. */
static long read_hex(const struct parser *p, size_t at, int n)
{
	long v = 0;
	int i, d;

	if (p->len - at < (size_t)n)
		return -1;
	for (i = 0; i < n; i++) {
		d = hex_value(p->s[at + i]);
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/*
 * Decode a \uXXXX escape (with its low surrogate partner, if any) whose
 * backslash is at p->pos. Advances past it and returns the code point, or
 * -1 after reporting an error.
 */
static long parse_u_escape(struct parser *p)
{
	size_t at = p->pos;
	long cp, lo;

	cp = read_hex(p, at + 2, 4);
	if (cp < 0) {
		parser_fail(p, at, "invalid escape '\\u': expected four hex digits");
		return -1;
	}
	p->pos += 6;
	if (cp >= 0xdc00 && cp <= 0xdfff) {
		parser_fail(p, at, "invalid escape '\\u%04lX': lone low surrogate", cp);
		return -1;
	}
	if (cp < 0xd800 || cp > 0xdbff)
		return cp;
	lo = -1;
	if (p->len - p->pos >= 6 && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u')
		lo = read_hex(p, p->pos + 2, 4);
	if (lo < 0xdc00 || lo > 0xdfff) {
		parser_fail(p, at,
			    "invalid escape '\\u%04lX': high surrogate without low surrogate", cp);
		return -1;
	}
	p->pos += 6;
	return 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
}

/* Handle the escape whose backslash is at p->pos inside a string. */
static int parse_escape(struct parser *p)
{
	size_t at = p->pos;
	char out[4];
	uint32_t cp;
	long v;
	size_t n;
	int c;

	c = p->s[at + 1]; /* parse_string made sure it is there */
	switch (c) {
	case '\'':
	case '"':
	case '\\':
	case '/':
		out[0] = (char)c;
		break;
	case 'b':
		out[0] = '\b';
		break;
	case 'f':
		out[0] = '\f';
		break;
	case 'n':
		out[0] = '\n';
		break;
	case 'r':
		out[0] = '\r';
		break;
	case 't':
		out[0] = '\t';
		break;
	case 'v':
		out[0] = '\v';
		break;
	case '0':
		if (at + 2 < p->len && is_digit(p->s[at + 2]))
			parser_fail(p, at, "invalid escape '\\0' followed by a digit");
		else
			parser_fail(p, at, "'\\0' (NUL character) is not supported in strings");
		return -1;
	case 'x':
		v = read_hex(p, at + 2, 2);
		if (v < 0) {
			parser_fail(p, at, "invalid escape '\\x': expected two hex digits");
			return -1;
		}
		if (v == 0) {
			parser_fail(p, at, "'\\x00' (NUL character) is not supported in strings");
			return -1;
		}
		p->pos += 4;
		parser_emit(p, out, utf8_encode((uint32_t)v, out));
		return 0;
	case 'u':
		v = parse_u_escape(p);
		if (v < 0)
			return -1;
		if (v == 0) {
			parser_fail(p, at, "'\\u0000' (NUL character) is not supported in strings");
			return -1;
		}
		parser_emit(p, out, utf8_encode((uint32_t)v, out));
		return 0;
	case '\r':
		/* line continuation: the escaped line break vanishes */
		p->pos += 2;
		if (p->pos < p->len && p->s[p->pos] == '\n')
			p->pos++;
		return 0;
	case '\n':
		p->pos += 2;
		return 0;
	default:
		n = utf8_decode(p->s + at + 1, p->len - at - 1, &cp);
		if (n && (cp == 0x2028 || cp == 0x2029)) {
			p->pos += 1 + n;
			return 0;
		}
		/*
		 * JSON5 (like ECMAScript) reads any other escaped character as
		 * itself, so "\\q" is "q". OpenClaw's reader does the same, and a
		 * config it accepts must load here. Digits 1-9 are the exception:
		 * the grammar reserves them.
		 */
		if (c >= '1' && c <= '9') {
			parser_fail(p, at, "invalid escape '\\%c'", c);
			return -1;
		}
		if (!n) {
			parser_fail(p, at + 1, "invalid UTF-8 in string");
			return -1;
		}
		if (cp == 0) {
			parser_fail(p, at + 1, "NUL character inside string is not supported");
			return -1;
		}
		parser_emit(p, p->s + at + 1, n);
		p->pos += 1 + n;
		return 0;
	}
	p->pos += 2;
	parser_emit(p, out, 1);
	return 0;
}

/* Decode the quoted string at p->pos into p->str. */
static int parse_string(struct parser *p)
{
	size_t start = p->pos, run;
	unsigned char quote = p->s[p->pos];
	uint32_t cp;
	size_t n;

	buf_reset(&p->str);
	p->pos++;
	for (;;) {
		unsigned char c;

		/* copy a run of plain characters in one go */
		run = p->pos;
		while (p->pos < p->len) {
			c = p->s[p->pos];
			if (c == quote || c == '\\' || c == '\n' || c == '\r' || c == 0 ||
			    c >= 0x80)
				break;
			p->pos++;
		}
		parser_emit(p, p->s + run, p->pos - run);
		if (p->pos >= p->len) {
			parser_fail(p, start, "unterminated string");
			return -1;
		}
		c = p->s[p->pos];
		if (c == quote) {
			p->pos++;
			return 0;
		}
		if (c == '\\') {
			if (p->pos + 1 >= p->len) {
				parser_fail(p, start, "unterminated string");
				return -1;
			}
			if (parse_escape(p) < 0)
				return -1;
		} else if (c == '\n' || c == '\r') {
			parser_fail(p, p->pos, "line break inside string (use \\n)");
			return -1;
		} else if (c == 0) {
			parser_fail(p, p->pos, "NUL character inside string is not supported");
			return -1;
		} else {
			n = utf8_decode(p->s + p->pos, p->len - p->pos, &cp);
			if (!n) {
				parser_fail(p, p->pos, "invalid UTF-8 in string");
				return -1;
			}
			parser_emit(p, p->s + p->pos, n);
			p->pos += n;
		}
	}
}

/* ---- keys ---- */

/*
 * Decode an unquoted key (ECMAScript IdentifierName, see is_ident_cp) at
 * p->pos into p->str. Returns 0, or -1 (error reported) if no identifier
 * starts here.
 */
static int parse_ident(struct parser *p)
{
	bool first = true;
	char out[4];
	uint32_t cp;
	size_t n, at;
	long v;

	buf_reset(&p->str);
	while (p->pos < p->len) {
		unsigned char c = p->s[p->pos];

		at = p->pos;
		if (c < 0x80 && is_ident_cp(c, first)) {
			parser_emit(p, &c, 1);
			p->pos++;
		} else if (c == '\\') {
			if (at + 1 >= p->len || p->s[at + 1] != 'u') {
				parser_fail(p, at,
					    "invalid escape in key: only '\\uXXXX' is allowed");
				return -1;
			}
			v = parse_u_escape(p);
			if (v < 0)
				return -1;
			if (!is_ident_cp(v, first)) {
				parser_fail(p, at,
					    "escape '\\u%04lX' is not valid in an unquoted key", v);
				return -1;
			}
			parser_emit(p, out, utf8_encode((uint32_t)v, out));
		} else if (c >= 0x80) {
			n = utf8_decode(p->s + at, p->len - at, &cp);
			if (!n) {
				parser_fail(p, at, "invalid UTF-8");
				return -1;
			}
			if (!is_ident_cp(cp, first))
				break;
			parser_emit(p, p->s + at, n);
			p->pos += n;
		} else {
			break;
		}
		first = false;
	}
	if (first) {
		parser_expected(p, "an object key or '}'");
		return -1;
	}
	return 0;
}

static int parse_key(struct parser *p)
{
	unsigned char c = p->s[p->pos];

	if (c == '"' || c == '\'')
		return parse_string(p);
	return parse_ident(p);
}

/* ---- numbers and literals ---- */

static const char json5_nonfinite[] = "NaN/Infinity is not representable in the config";

/* Length of the run of ASCII identifier characters at `at`. */
static size_t word_len(const struct parser *p, size_t at)
{
	size_t i = at;

	while (i < p->len && (is_ident_start_ascii(p->s[i]) || is_digit(p->s[i])))
		i++;
	return i - at;
}

static bool word_is(const struct parser *p, size_t at, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(p->s + at, word, n) == 0;
}

/*
 * strtod() honours LC_NUMERIC; if the process ever sets a locale with a
 * decimal comma, translate '.' before converting (as jansson does).
 */
static double json5_strtod(char *text, char **end)
{
	const char *dp = localeconv()->decimal_point;
	char *dot;

	if (dp[0] != '.' && dp[0] && !dp[1]) {
		dot = strchr(text, '.');
		if (dot)
			*dot = dp[0];
	}
	return strtod(text, end);
}

/* Convert the number text s[start, p->pos) that the scanner vetted. */
static json_t *number_convert(struct parser *p, size_t start, bool real, bool hex)
{
	json_t *v = NULL;
	char small[64], *text, *end, *digits;
	size_t n, from = start;
	unsigned long long mag;
	long long ll;
	double d;

	/* only a '-' matters to the conversions below */
	if (p->s[from] == '+')
		from++;
	n = p->pos - from;
	text = n < sizeof(small) ? small : xmalloc(n + 1);
	memcpy(text, p->s + from, n);
	text[n] = '\0';

	if (hex) {
		/* strtoull would accept a sign of its own; give it digits only */
		digits = strchr(text, 'x');
		if (!digits)
			digits = strchr(text, 'X');
		errno = 0;
		mag = strtoull(digits + 1, &end, 16);
		if (errno != ERANGE && mag <= LLONG_MAX) {
			v = json_integer(text[0] == '-' ? -(long long)mag : (long long)mag);
			goto out;
		}
		if (errno != ERANGE && text[0] == '-' && mag == (unsigned long long)LLONG_MAX + 1) {
			v = json_integer(LLONG_MIN);
			goto out;
		}
		/* too big for an integer: strtod reads hex, correctly rounded */
	} else if (!real) {
		errno = 0;
		ll = strtoll(text, &end, 10);
		if (errno != ERANGE && *end == '\0') {
			v = json_integer(ll);
			goto out;
		}
	}
	errno = 0;
	d = json5_strtod(text, &end);
	if (*end != '\0') {
		parser_fail(p, start, "invalid number");
		goto out;
	}
	if (!isfinite(d)) {
		parser_fail(p, start, "number is out of range");
		goto out;
	}
	v = json_real(d);
out:
	if (text != small)
		free(text);
	return v;
}

static json_t *parse_number(struct parser *p)
{
	size_t start = p->pos, digits, n;
	bool real = false, hex = false;
	char got[32];
	int sign = 0;

	if (p->s[p->pos] == '+' || p->s[p->pos] == '-')
		sign = p->s[p->pos++];
	if (p->pos < p->len && (p->s[p->pos] == 'I' || p->s[p->pos] == 'N')) {
		n = word_len(p, p->pos);
		if (word_is(p, p->pos, n, "Infinity") || word_is(p, p->pos, n, "NaN")) {
			parser_fail(p, start, "%s", json5_nonfinite);
			return NULL;
		}
	}
	if (p->pos >= p->len || !(is_digit(p->s[p->pos]) || p->s[p->pos] == '.')) {
		parser_describe(p, p->pos, got, sizeof(got));
		parser_fail(p, p->pos, "expected a number after '%c', got %s", sign, got);
		return NULL;
	}

	if (p->s[p->pos] == '0' && p->pos + 1 < p->len &&
	    (p->s[p->pos + 1] == 'x' || p->s[p->pos + 1] == 'X')) {
		hex = true;
		p->pos += 2;
		digits = p->pos;
		while (p->pos < p->len && hex_value(p->s[p->pos]) >= 0)
			p->pos++;
		if (p->pos == digits) {
			parser_fail(p, start, "expected hex digits after '0x'");
			return NULL;
		}
	} else {
		digits = p->pos;
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
		if (p->pos - digits > 1 && p->s[digits] == '0') {
			parser_fail(p, digits, "leading zeros are not allowed");
			return NULL;
		}
		if (p->pos < p->len && p->s[p->pos] == '.') {
			real = true;
			p->pos++;
			n = p->pos;
			while (p->pos < p->len && is_digit(p->s[p->pos]))
				p->pos++;
			if (n == p->pos && n - 1 == digits) {
				parser_fail(p, n - 1, "expected a digit before or after '.'");
				return NULL;
			}
		}
		if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
			real = true;
			p->pos++;
			if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
				p->pos++;
			n = p->pos;
			while (p->pos < p->len && is_digit(p->s[p->pos]))
				p->pos++;
			if (n == p->pos) {
				parser_fail(p, p->pos, "expected digits in exponent");
				return NULL;
			}
		}
	}
	/* ECMAScript: no identifier character may touch a numeric literal ("3in") */
	if (p->pos < p->len && (is_ident_start_ascii(p->s[p->pos]) || is_digit(p->s[p->pos]) ||
				p->s[p->pos] == '\\')) {
		parser_describe(p, p->pos, got, sizeof(got));
		parser_fail(p, p->pos, "unexpected %s after number", got);
		return NULL;
	}
	return number_convert(p, start, real, hex);
}

/* true, false, null, Infinity, NaN, or an error about a bare word. */
static json_t *parse_word(struct parser *p)
{
	size_t n = word_len(p, p->pos);

	if (word_is(p, p->pos, n, "true")) {
		p->pos += n;
		return json_true();
	}
	if (word_is(p, p->pos, n, "false")) {
		p->pos += n;
		return json_false();
	}
	if (word_is(p, p->pos, n, "null")) {
		p->pos += n;
		return json_null();
	}
	if (word_is(p, p->pos, n, "Infinity") || word_is(p, p->pos, n, "NaN")) {
		parser_fail(p, p->pos, "%s", json5_nonfinite);
		return NULL;
	}
	if (n > 32)
		parser_fail(p, p->pos, "expected a value, got '%.32s...' (strings must be quoted)",
			    (const char *)p->s + p->pos);
	else
		parser_fail(p, p->pos, "expected a value, got '%.*s' (strings must be quoted)",
			    (int)n, (const char *)p->s + p->pos);
	return NULL;
}

/* ---- containers ---- */

static json_t *parse_value(struct parser *p, const char *what);

static int parser_enter(struct parser *p)
{
	if (++p->depth > JSON5_MAX_DEPTH) {
		parser_fail(p, p->pos, "nesting deeper than %d levels", JSON5_MAX_DEPTH);
		return -1;
	}
	p->pos++;
	return 0;
}

/*
 * After a member or element: a ',' (returns 0, consumed), the closing
 * bracket `close` (returns 1, consumed), or an error naming `expected`.
 */
static int parse_separator(struct parser *p, char close, const char *expected)
{
	if (skip_ws(p) < 0)
		return -1;
	if (p->pos < p->len && (p->s[p->pos] == ',' || p->s[p->pos] == close)) {
		return p->s[p->pos++] == close;
	}
	parser_expected(p, expected);
	return -1;
}

static json_t *parse_object(struct parser *p)
{
	json_t *obj = NULL, *v;
	size_t key_pos, key_len, path_len = p->path.len;
	char *key = NULL;
	int sep;

	if (parser_enter(p) < 0)
		return NULL;
	obj = json5_must(json_object());
	for (;;) {
		if (skip_ws(p) < 0)
			goto fail;
		if (p->pos < p->len && p->s[p->pos] == '}') {
			p->pos++;
			break;
		}
		if (p->pos >= p->len) {
			parser_expected(p, "an object key or '}'");
			goto fail;
		}
		key_pos = p->pos;
		if (parse_key(p) < 0)
			goto fail;
		key_len = p->str.len;
		key = xstrndup(p->str.p, key_len);
		if (skip_ws(p) < 0)
			goto fail;
		if (p->pos >= p->len || p->s[p->pos] != ':') {
			parser_expected(p, "':' after object key");
			goto fail;
		}
		p->pos++;
		if (skip_ws(p) < 0)
			goto fail;
		if (p->pm) {
			jpath_push_key(&p->path, key);
			if (parser_record(p, key_pos) < 0)
				goto fail;
		}
		v = parse_value(p, "a value");
		buf_truncate(&p->path, path_len);
		if (!v)
			goto fail;
		/* a later duplicate replaces the earlier value: last one wins */
		if (json_object_setn_new_nocheck(obj, key, key_len, v) < 0)
			BUG("jansson out of memory");
		free(key);
		key = NULL;
		sep = parse_separator(p, '}', "',' or '}' after object member");
		if (sep < 0)
			goto fail;
		if (sep == 1)
			break;
	}
	p->depth--;
	return obj;
fail:
	buf_truncate(&p->path, path_len);
	free(key);
	json_decref(obj);
	return NULL;
}

static json_t *parse_array(struct parser *p)
{
	json_t *arr, *v;
	size_t path_len = p->path.len, i = 0;
	int sep;

	if (parser_enter(p) < 0)
		return NULL;
	arr = json5_must(json_array());
	for (;;) {
		if (skip_ws(p) < 0)
			goto fail;
		if (p->pos < p->len && p->s[p->pos] == ']') {
			p->pos++;
			break;
		}
		if (p->pm) {
			jpath_push_index(&p->path, i);
			if (parser_record(p, p->pos) < 0)
				goto fail;
		}
		v = parse_value(p, "a value or ']'");
		buf_truncate(&p->path, path_len);
		if (!v)
			goto fail;
		if (json_array_append_new(arr, v) < 0)
			BUG("jansson out of memory");
		i++;
		sep = parse_separator(p, ']', "',' or ']' after array element");
		if (sep < 0)
			goto fail;
		if (sep == 1)
			break;
	}
	p->depth--;
	return arr;
fail:
	buf_truncate(&p->path, path_len);
	json_decref(arr);
	return NULL;
}

/*
 * Parse the value at p->pos (white space already skipped). `what` says
 * what was expected when no value starts here.
 */
static json_t *parse_value(struct parser *p, const char *what)
{
	unsigned char c;

	if (p->pos >= p->len) {
		parser_expected(p, what);
		return NULL;
	}
	c = p->s[p->pos];
	switch (c) {
	case '{':
		return parse_object(p);
	case '[':
		return parse_array(p);
	case '"':
	case '\'':
		if (parse_string(p) < 0)
			return NULL;
		return json5_must(json_stringn_nocheck(p->str.p, p->str.len));
	case '+':
	case '-':
	case '.':
		return parse_number(p);
	default:
		break;
	}
	if (is_digit(c))
		return parse_number(p);
	if (is_ident_start_ascii(c))
		return parse_word(p);
	parser_expected(p, what);
	return NULL;
}

/* ---- entry points ---- */

json_t *json5_parse(const char *text, size_t len, const char *name, struct json5_posmap *pm,
		    struct json5_error *err)
{
	struct json5_error dummy;
	struct parser p = { 0 };
	size_t pm_n0 = pm ? pm->n : 0, i;
	json_t *root = NULL;

	if (!err)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	if (len > INT_MAX) {
		/* line and column are ints */
		snprintf(err->text, sizeof(err->text), "input too large");
		return NULL;
	}
	p.s = (const unsigned char *)(text ? text : "");
	p.len = text ? len : 0;
	p.name = name;
	p.pm = pm;
	p.pm_limit = JSON5_PM_BASE_BYTES + JSON5_PM_PER_BYTE * p.len;
	p.lc_line = 1;
	p.err = err;
	buf_init(&p.path, BUF_UNLIMITED);
	/* decoding never makes a string longer than its source text */
	buf_init(&p.str, p.len);

	if (skip_ws(&p) < 0)
		goto out;
	if (p.pos >= p.len) {
		parser_fail(&p, p.pos, "empty input, expected a value");
		goto out;
	}
	if (parser_record(&p, p.pos) < 0)
		goto out;
	root = parse_value(&p, "a value");
	if (!root)
		goto out;
	if (skip_ws(&p) < 0 || p.pos < p.len) {
		parser_expected(&p, "end of input after the root value");
		json_decref(root);
		root = NULL;
	}
out:
	if (!root && pm) {
		/* leave the map as it was on failure */
		for (i = pm_n0; i < pm->n; i++)
			free(pm->v[i].path);
		pm->n = pm_n0;
	}
	buf_release(&p.path);
	buf_release(&p.str);
	return root;
}

const struct json5_pos *json5_posmap_find(const struct json5_posmap *pm, const char *path)
{
	size_t i;

	/* from the end, so the entry of a later duplicate key wins */
	for (i = pm->n; i > 0; i--)
		if (strcmp(pm->v[i - 1].path, path) == 0)
			return &pm->v[i - 1];
	return NULL;
}

void json5_posmap_merge(struct json5_posmap *dst, const struct json5_posmap *src,
			const char *prefix)
{
	const struct json5_pos *e;
	struct json5_pos *d;
	size_t i;

	dst->v = xgrow(dst->v, &dst->alloc, dst->n + src->n, sizeof(*dst->v));
	for (i = 0; i < src->n; i++) {
		e = &src->v[i];
		d = &dst->v[dst->n++];
		*d = *e;
		if (!prefix[0])
			d->path = xstrdup(e->path);
		else if (!e->path[0])
			d->path = xstrdup(prefix);
		else if (e->path[0] == '[')
			d->path = xasprintf("%s%s", prefix, e->path);
		else
			d->path = xasprintf("%s.%s", prefix, e->path);
	}
}

void json5_posmap_release(struct json5_posmap *pm)
{
	size_t i;

	for (i = 0; i < pm->n; i++)
		free(pm->v[i].path);
	free(pm->v);
	pm->v = NULL;
	pm->n = 0;
	pm->alloc = 0;
}
