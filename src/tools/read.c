/*
 * read.c - the `read` tool: a page of a text file, or an image file as an
 * image block, as OpenClaw's read tool answers.
 *
 * Text comes back as it is in the file (no line numbers, the way OpenClaw
 * and pi show it), BOM dropped and CRLF read as LF, from line `offset`
 * (1-based) for `limit` lines, capped at 2000 lines and a byte budget
 * derived from the model's context window (32-128 KB; 50 KB for a 128k
 * model). A capped page ends with the exact continuation to ask for
 * ("[Read output capped at 50KB for this call. Use offset=N to
 * continue.]"); a single line longer than the budget continues with
 * `cursor`, a character position inside it. The file is streamed in
 * chunks on the threadpool, so a huge file costs one scan, never its size
 * in memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent/internal.h"
#include "core/mem.h"
#include "tools/fsguard.h"
#include "tools/tool.h"

#define READ_MAX_LINES   2000
#define READ_MIN_BYTES   32768
#define READ_MAX_BYTES   131072
#define READ_CHUNK       (64 * 1024)
/* Image files larger than this are described, not attached (providers cap near 5 MB). */
#define READ_IMAGE_MAX   (5 * 1024 * 1024)
/* How much of a file's head decides "binary". */
#define READ_SNIFF_BYTES 8192

struct read_job {
	struct fsjob j;
	char *path;
	bool confine;
	bool has_offset;
	size_t offset; /* 1-based */
	size_t limit;  /* 0: none */
	size_t cursor; /* code points into the start line */
	bool optional;
	bool vision;      /* the model accepts images */
	size_t max_bytes; /* page budget */
};

/* ==== sniffing ==== */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * The image type of a file's first bytes, by magic number, as OpenClaw's
 * detectSupportedImageMimeType: JPEG (not JPEG-LS), PNG with an IHDR (not
 * animated), GIF, WebP. NULL for anything else. BMP, which OpenClaw
 * converts to PNG first, is not attached here.
 */
static const char *read_image_mime(const unsigned char *b, size_t n)
{
	if (n >= 4 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
		return b[3] == 0xF7 ? NULL : "image/jpeg";
	if (n >= 16 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8)) {
		size_t off = 8;

		if (be32(b + 8) != 13 || memcmp(b + 12, "IHDR", 4))
			return NULL;
		/* An acTL chunk before the first IDAT makes it an APNG. */
		while (off + 8 <= n) {
			uint32_t clen = be32(b + off);

			if (!memcmp(b + off + 4, "acTL", 4))
				return NULL;
			if (!memcmp(b + off + 4, "IDAT", 4) || clen > n || off + 12 + clen > n)
				break;
			off += 12 + clen;
		}
		return "image/png";
	}
	if (n >= 6 && !memcmp(b, "GIF8", 4))
		return "image/gif";
	if (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4))
		return "image/webp";
	return NULL;
}

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0 when invalid or cut short. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		len = 2, cp = p[0] & 0x1F;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		len = 3, cp = p[0] & 0x0F;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return len;
}

/*
 * Text or not, from the head of a file: no NUL byte, and valid UTF-8 up
 * to a sequence the sniff window may have cut.
 */
static bool read_is_text(const unsigned char *b, size_t n, bool whole)
{
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(b + i, n - i);

		if (!b[i])
			return false;
		if (!k) {
			/* A multi-byte sequence cut by the end of the window is fine. */
			if (!whole && n - i < 4 && b[i] >= 0xC2)
				return true;
			return false;
		}
		i += k;
	}
	return true;
}

/* Copy text into `out`, invalid UTF-8 replaced by U+FFFD, so the answer is always JSON-safe. */
static void utf8_sanitize(struct buf *out, const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;

	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(u + i, n - i);

		if (k) {
			buf_append(out, p + i, k);
			i += k;
		} else {
			buf_puts(out, "\xEF\xBF\xBD");
			i++;
		}
	}
}

/* ==== the page ==== */

/* A streaming scan of the text: counts lines, collects the selected ones. */
struct scan {
	size_t start, req;  /* first line (0-based), lines wanted (SIZE_MAX: all) */
	size_t skip;        /* code points of the start line still to skip (cursor) */
	size_t line;        /* current line */
	bool line_open;     /* bytes seen on the current line */
	bool pending_cr;    /* a '\r' in the selection waiting to see if '\n' follows */
	bool has_text;      /* a selected line has a character */
	bool in_skip;       /* inside a character the cursor skips */
	size_t first_chars; /* code points in the start line */
	struct buf sel;     /* selected text, '\n'-terminated lines, capped */
	bool sel_over;      /* more was selected than `sel` holds */
};

static bool scan_in_sel(const struct scan *s)
{
	return s->line >= s->start && s->line - s->start < s->req;
}

static void scan_emit(struct scan *s, char c)
{
	bool lead = ((unsigned char)c & 0xC0) != 0x80;

	if (s->line == s->start && c != '\n' && lead)
		s->first_chars++;
	if (c != '\n')
		s->has_text = true;
	if (s->line == s->start) {
		/* Skipping `cursor` characters: every byte of each of them. */
		if (!lead && s->in_skip)
			return;
		s->in_skip = false;
		if (c != '\n' && s->skip) {
			s->skip--;
			s->in_skip = true;
			return;
		}
	}
	if (buf_putc(&s->sel, c) < 0)
		s->sel_over = true;
}

static void scan_feed(struct scan *s, const char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (!scan_in_sel(s)) {
			/* Outside the selection only newlines matter: jump between them. */
			const char *nl = memchr(p + i, '\n', n - i);

			if (!nl) {
				s->line_open = true;
				return;
			}
			i = (size_t)(nl - p) + 1;
			s->line++;
			s->line_open = false;
			continue;
		}
		char c = p[i++];

		if (s->pending_cr) {
			s->pending_cr = false;
			if (c != '\n')
				scan_emit(s, '\r');
		}
		if (c == '\r') {
			s->pending_cr = true;
			s->line_open = true;
			continue;
		}
		scan_emit(s, c);
		if (c == '\n') {
			s->line++;
			s->line_open = false;
		} else {
			s->line_open = true;
		}
	}
}

static void scan_end(struct scan *s)
{
	if (s->pending_cr) {
		s->pending_cr = false;
		scan_emit(s, '\r');
	}
}

/* OpenClaw's formatSize with ".0KB" shortened, as its capped-read notice prints it. */
static void fmt_size(char *out, size_t n, size_t bytes)
{
	if (bytes < 1024)
		snprintf(out, n, "%zuB", bytes);
	else if (bytes < 1048576)
		snprintf(out, n, "%.1fKB", (double)bytes / 1024);
	else
		snprintf(out, n, "%.1fMB", (double)bytes / 1048576);
	if (bytes >= 1024 && bytes < 1048576) {
		size_t l = strlen(out);

		if (l > 4 && !strcmp(out + l - 4, ".0KB"))
			memmove(out + l - 4, "KB", 3);
	}
}

static void notice(struct buf *b, size_t max_bytes, size_t offset, long long cursor, size_t limit)
{
	char sz[32];

	fmt_size(sz, sizeof(sz), max_bytes);
	buf_printf(b, "\n\n[Read output capped at %s for this call. Use offset=%zu", sz, offset);
	if (cursor >= 0)
		buf_printf(b, ", cursor=%lld", cursor);
	if (limit)
		buf_printf(b, ", limit=%zu", limit);
	buf_puts(b, " to continue.]");
}

/* Bytes of the longest prefix of p[0..n) that ends on a character boundary and fits `max`. */
static size_t utf8_prefix(const char *p, size_t n, size_t max)
{
	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)p[max] & 0xC0) == 0x80)
		max--;
	return max;
}

static size_t utf8_chars(const char *p, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)p[i] & 0xC0) != 0x80;
	return c;
}

static void read_text(struct read_job *r, int fd, const char *display)
{
	struct fsjob *j = &r->j;
	struct scan s = { 0 };
	char *chunk = xmalloc(READ_CHUNK);
	size_t total_lines, sel_lines, start_disp, end_line, bytes_total = 0;
	bool first = true;
	struct buf out;
	ssize_t got;

	s.start = r->has_offset ? r->offset - 1 : 0;
	s.req = r->limit ? r->limit : SIZE_MAX;
	s.skip = r->cursor;
	buf_init(&s.sel, r->max_bytes + 8);
	buf_init(&out, r->max_bytes * 4 + 4096);
	while ((got = read(fd, chunk, READ_CHUNK)) > 0) {
		const char *p = chunk;
		size_t n = (size_t)got;

		if (atomic_load(&j->cancelled))
			goto out;
		bytes_total += n;
		if (first && n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) {
			p += 3;
			n -= 3;
		}
		first = false;
		scan_feed(&s, p, n);
	}
	if (got < 0) {
		fsjob_fail(j, "cannot read %s: %s", display, strerror(errno));
		goto out;
	}
	scan_end(&s);
	total_lines = s.line + (s.line_open ? 1 : 0);
	start_disp = s.start + 1;
	if (total_lines == 0) {
		if (bytes_total == 0)
			fsjob_text(j, "File is empty (0 bytes).");
		else
			fsjob_text(j, "File contains no readable text (%zu bytes).", bytes_total);
		goto out;
	}
	if (s.start >= total_lines) {
		fsjob_text(j,
			   "Offset %zu is beyond end of file (%zu lines total). Retry with offset "
			   "<= %zu.",
			   r->offset, total_lines, total_lines);
		goto out;
	}
	if (r->cursor > 0 && r->cursor >= s.first_chars) {
		if (s.start + 1 < total_lines)
			fsjob_text(
				j,
				"Cursor %zu is at or beyond the end of line %zu (%zu characters). "
				"Use offset=%zu to continue.",
				r->cursor, start_disp, s.first_chars, start_disp + 1);
		else
			fsjob_text(
				j,
				"Cursor %zu is at or beyond the end of line %zu (%zu characters).",
				r->cursor, start_disp, s.first_chars);
		goto out;
	}
	sel_lines = total_lines - s.start < s.req ? total_lines - s.start : s.req;
	end_line = s.start + sel_lines; /* 1-based number of the last selected line */
	/*
	 * The selected text: lines joined by '\n', and the file's final newline
	 * only when the selection runs to the end of the file.
	 */
	if (!s.sel_over && end_line < total_lines && s.sel.len && s.sel.p[s.sel.len - 1] == '\n')
		buf_truncate(&s.sel, s.sel.len - 1);

	{
		size_t remaining = total_lines - end_line, len = s.sel.len;
		struct buf tail;
		bool complete;

		buf_init(&tail, 512);
		if (r->limit && remaining > 0)
			buf_printf(&tail,
				   "\n\n[%zu more line%s in file. Use offset=%zu to continue.]",
				   remaining, remaining == 1 ? "" : "s", end_line + 1);
		complete =
			!s.sel_over && sel_lines < READ_MAX_LINES && len + tail.len <= r->max_bytes;
		if (complete) {
			utf8_sanitize(&out, s.sel.p, len);
			buf_append(&out, tail.p, tail.len);
		} else {
			/*
			 * Cut on a line boundary inside the budget, leaving room for
			 * the notice; a first line alone over budget continues by cursor.
			 */
			struct buf est;
			size_t reserve, budget, k = 0, lines = 0, first_len;
			const char *nl;

			buf_init(&est, 512);
			nl = memchr(s.sel.p, '\n', s.sel.len);
			first_len = nl ? (size_t)(nl - s.sel.p) : s.sel.len;
			notice(&est, r->max_bytes, start_disp,
			       (long long)(r->cursor + utf8_chars(s.sel.p, first_len)), r->limit);
			reserve = est.len;
			buf_reset(&est);
			notice(&est, r->max_bytes, total_lines + 1, -1, r->limit);
			if (est.len > reserve)
				reserve = est.len;
			buf_release(&est);
			budget = r->max_bytes > reserve ? r->max_bytes - reserve : 0;
			/* Whole lines, at most READ_MAX_LINES of them, within budget. */
			while (lines < READ_MAX_LINES && lines < sel_lines) {
				const char *e = memchr(s.sel.p + k, '\n', s.sel.len - k);
				size_t line_end = e ? (size_t)(e - s.sel.p) : s.sel.len;
				size_t need =
					line_end; /* bytes through this line, no trailing '\n' */

				if (need > budget || (!e && s.sel_over))
					break;
				lines++;
				k = line_end;
				if (!e)
					break;
				k++;
			}
			if (lines == sel_lines) {
				/* Every selected line fit after all: a complete page. */
				size_t shown = k;

				if (shown && s.sel.p[shown - 1] == '\n' && end_line < total_lines)
					shown--;
				utf8_sanitize(&out, s.sel.p, shown);
				buf_append(&out, tail.p, tail.len);
			} else if (lines == 0) {
				size_t cut = utf8_prefix(s.sel.p, first_len, budget);

				utf8_sanitize(&out, s.sel.p, cut);
				notice(&out, r->max_bytes, start_disp,
				       (long long)(r->cursor + utf8_chars(s.sel.p, cut)), r->limit);
			} else {
				size_t next = start_disp + lines, shown = k;

				if (shown && s.sel.p[shown - 1] == '\n')
					shown--;
				utf8_sanitize(&out, s.sel.p, shown);
				notice(&out, r->max_bytes, next, -1,
				       r->limit ? (end_line + 1 > next ? end_line + 1 - next : 1)
						: 0);
			}
		}
		if (!s.has_text && complete) {
			buf_reset(&out);
			buf_printf(&out, "%s contains %zu blank line%s.",
				   s.start == 0 && end_line == total_lines ? "File"
									   : "Selected range",
				   sel_lines, sel_lines == 1 ? "" : "s");
			buf_append(&out, tail.p, tail.len);
		}
		buf_release(&tail);
	}
	fsjob_text(j, "%s", out.p);
out:
	free(chunk);
	buf_release(&s.sel);
	buf_release(&out);
}

static void read_image(struct read_job *r, int fd, const char *mime, off_t size,
		       const char *display)
{
	struct fsjob *j = &r->j;
	unsigned char *data;
	size_t got = 0;

	if (!r->vision) {
		fsjob_text(
			j,
			"Read image file [%s]\n[Current model does not support images. The image "
			"will be omitted from this request.]",
			mime);
		return;
	}
	if (size > READ_IMAGE_MAX) {
		fsjob_text(j,
			   "Read image file [%s]\nImage is %lld bytes, over the %d-byte limit for "
			   "images sent to the model; it was not attached.",
			   mime, (long long)size, READ_IMAGE_MAX);
		return;
	}
	data = xmalloc((size_t)size + 1);
	while (got < (size_t)size) {
		ssize_t k = pread(fd, data + got, (size_t)size - got, (off_t)got);

		if (k < 0) {
			fsjob_fail(j, "cannot read %s: %s", display, strerror(errno));
			free(data);
			return;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	r->j.image_b64 = xmalloc(4 * ((got + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)r->j.image_b64, data, (int)got);
	r->j.image_mime = xstrdup(mime);
	free(data);
	fsjob_text(j, "Read image file [%s]", mime);
}

static void read_work(struct fsjob *j)
{
	struct read_job *r = (struct read_job *)j;
	char err[512], *abs = NULL;
	unsigned char head[READ_SNIFF_BYTES];
	struct stat st;
	const char *mime;
	ssize_t n;
	int fd = -1;

	if (fsguard_resolve(j->workspace, r->path, r->confine, 0, &abs, err, sizeof(err)) < 0) {
		fsjob_fail(j, "%s", err);
		return;
	}
	if (stat(abs, &st) < 0) {
		if ((errno == ENOENT || errno == ENOTDIR) && r->optional)
			fsjob_text(j, "Optional file not found: %s.", r->path);
		else if (errno == ENOENT || errno == ENOTDIR)
			fsjob_fail(j, "File not found: %s.", abs);
		else
			fsjob_fail(j, "cannot read %s: %s", r->path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		fsjob_fail(j,
			   "Read requires a file path, but %s is a directory. List the directory, "
			   "then read a specific file.",
			   r->path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		fsjob_fail(j, "Read only supports regular files; no read was attempted: %s",
			   r->path);
		goto out;
	}
	/* The path holds no symlinks now; O_NOFOLLOW keeps a swapped-in one from counting. */
	fd = open(abs, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fsjob_fail(j, "cannot read %s: %s", r->path,
			   fd < 0 ? strerror(errno) : "not a regular file");
		goto out;
	}
	n = pread(fd, head, sizeof(head), 0);
	if (n < 0) {
		fsjob_fail(j, "cannot read %s: %s", r->path, strerror(errno));
		goto out;
	}
	mime = read_image_mime(head, (size_t)n);
	if (mime) {
		read_image(r, fd, mime, st.st_size, r->path);
		goto out;
	}
	{
		size_t skip = n >= 3 && !memcmp(head, "\xEF\xBB\xBF", 3) ? 3 : 0;

		if (!read_is_text(head + skip, (size_t)n - skip, (size_t)n < sizeof(head))) {
			fsjob_fail(j,
				   "Cannot read %s: it is a binary file (%lld bytes), not text or "
				   "an image (png, jpeg, gif, webp). Use exec with a tool such as "
				   "file, xxd or strings to inspect it.",
				   r->path, (long long)st.st_size);
			goto out;
		}
	}
	read_text(r, fd, r->path);
out:
	if (fd >= 0)
		close(fd);
	free(abs);
}

static void read_release(struct fsjob *j)
{
	free(((struct read_job *)j)->path);
}

/* A non-negative integer argument; -1 when present but not one, -2 when absent. */
static long long int_arg(const json_t *v)
{
	double d;

	if (!v || json_is_null(v))
		return -2;
	if (json_is_integer(v))
		return json_integer_value(v) < 0 ? -1 : json_integer_value(v);
	if (!json_is_real(v))
		return -1;
	d = json_real_value(v);
	if (!isfinite(d) || d < 0 || d != floor(d) || d > 1e15)
		return -1;
	return (long long)d;
}

static void t_read(struct tool_call *call)
{
	const char *path = fsguard_arg_str(call, "path", "file_path");
	long long offset = int_arg(json_object_get(call->args, "offset"));
	long long cursor = int_arg(json_object_get(call->args, "cursor"));
	json_t *lim = json_object_get(call->args, "limit");
	struct agent_run *run = call->env.run;
	long ctx = run && run->model.context_window > 0 ? run->model.context_window : 128000;
	struct read_job *r;
	double max;

	if (!path || !*path) {
		tool_call_text(call, true, "Missing required parameter: path");
		return;
	}
	if (offset == -1 || offset == 0) {
		tool_call_text(call, true, "Offset must be an integer at least 1");
		return;
	}
	if (cursor == -1) {
		tool_call_text(call, true, "Cursor must be an integer at least 0");
		return;
	}
	r = (struct read_job *)fsjob_new(call, sizeof(*r), read_work);
	r->j.release = read_release;
	r->path = xstrdup(path);
	r->confine = fsguard_workspace_only(call->env.cfg, call->env.agent_id);
	r->has_offset = offset > 0;
	r->offset = offset > 0 ? (size_t)offset : 1;
	r->cursor = cursor > 0 ? (size_t)cursor : 0;
	if (json_is_number(lim)) {
		double l = json_number_value(lim);

		/* A limit that is no positive number falls back to the line cap. */
		r->limit =
			isfinite(l) && l >= 1 ? (l > 1e9 ? 1000000000 : (size_t)l) : READ_MAX_LINES;
	}
	r->optional = json_is_true(json_object_get(call->args, "optional"));
	r->vision = run ? run->model.input_image : true;
	/* 10% of the context window at ~4 characters a token, within 32-128 KB (OpenClaw's rule). */
	max = (double)ctx * 4 * 0.1;
	r->max_bytes = max < READ_MIN_BYTES   ? READ_MIN_BYTES
		       : max > READ_MAX_BYTES ? READ_MAX_BYTES
					      : (size_t)max;
	fsjob_start(&r->j);
}

static char *read_title(const json_t *args)
{
	const char *p = json_string_value(json_object_get(args, "path"));

	return p ? xasprintf("Read %s", p) : NULL;
}

const struct tool_def tool_read = {
	.name = "read",
	.group = "fs",
	.description = "Read text/image file (jpg/png/gif/webp/bmp); images attach to model "
		       "context. Text caps 2000 lines or 50KB. Continue with offset/limit, or "
		       "cursor within a long line.",
	.parameters =
		"{\"type\":\"object\",\"required\":[\"path\"],\"properties\":{"
		"\"path\":{\"type\":\"string\",\"description\":\"File path; "
		"relative/absolute.\"},"
		"\"offset\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"Start line; "
		"1-based.\"},"
		"\"limit\":{\"type\":\"number\",\"description\":\"Max lines.\"},"
		"\"cursor\":{\"type\":\"integer\",\"minimum\":0,\"description\":\"Character "
		"position within the start line; 0-based.\"},"
		"\"optional\":{\"type\":\"boolean\",\"const\":true,\"description\":\"Missing "
		"paths return structured not_found instead of failing.\"}}}",
	.invoke = t_read,
	.title = read_title,
};
