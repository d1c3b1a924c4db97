/*
 * log.c - levels, sinks, secret redaction and file rotation; see log.h.
 *
 * One mutex guards all the state below, because log_write may run on libuv
 * worker threads. The macros read log_min_level without it: a stale read
 * during reconfiguration lets one line reach log_write, which filters
 * again per sink, or drops one line; neither is worth a lock per call.
 *
 * Nothing in this file may call log_* itself: a failing sink reports once,
 * straight to stderr.
 */
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/timeutil.h"

#define LOG_MSG_MAX           (16 * 1024) /* longest message, in bytes, before the marker */
#define LOG_TRUNC_MARK        "...[truncated]"
#define LOG_MASK              "***"
#define LOG_SECRET_MIN        4
#define LOG_ARCHIVES          5
#define LOG_DEFAULT_MAX_BYTES ((size_t)100 * 1024 * 1024)

enum log_level log_min_level = LOG_INFO;

struct log_secret {
	char *s;
	size_t len;
};

static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;

/* Console sink. The defaults are what log_write uses before log_setup. */
static enum log_level con_level = LOG_INFO;
static enum log_style con_style = LOG_STYLE_AUTO;
static bool con_color = true;
static int con_tty = -1; /* isatty(2), probed on first use after each setup */
static bool con_no_color_env;

/* File sink; file_fd < 0 means none. */
static enum log_level file_level = LOG_INFO;
static char *file_path;
static int file_fd = -1;
static bool file_rotatable; /* a regular file; never rename /dev/stdout */
static size_t file_size;
static size_t file_max = LOG_DEFAULT_MAX_BYTES;
static bool file_err_reported;

/*
 * Registered secrets. The list grows without a cap: secrets come from the
 * config and the environment, never from peers, so their number is small.
 */
static struct log_secret *secrets;
static size_t nsecrets, secrets_alloc, secret_maxlen;

static const char *const level_names[] = {
	[LOG_TRACE] = "trace", [LOG_DEBUG] = "debug", [LOG_INFO] = "info",     [LOG_WARN] = "warn",
	[LOG_ERROR] = "error", [LOG_FATAL] = "fatal", [LOG_SILENT] = "silent",
};

static const char *const level_tags[] = {
	[LOG_TRACE] = "TRACE", [LOG_DEBUG] = "DEBUG", [LOG_INFO] = "INFO",
	[LOG_WARN] = "WARN",   [LOG_ERROR] = "ERROR", [LOG_FATAL] = "FATAL",
};

static const char *const level_colors[] = {
	[LOG_TRACE] = "\033[90m", [LOG_DEBUG] = "\033[34m", [LOG_INFO] = "\033[32m",
	[LOG_WARN] = "\033[33m",  [LOG_ERROR] = "\033[31m", [LOG_FATAL] = "\033[1;31m",
};

#define COLOR_DIM    "\033[2m"
#define COLOR_SUBSYS "\033[36m"
#define COLOR_RESET  "\033[0m"

const char *log_level_name(enum log_level l)
{
	if ((unsigned int)l >= ARRAY_SIZE(level_names))
		return "unknown";
	return level_names[l];
}

int log_level_parse(const char *s, enum log_level *out)
{
	if (s) {
		for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
			if (strcasecmp(s, level_names[i]) == 0) {
				*out = (enum log_level)i;
				return 0;
			}
		}
	}
	errno = EINVAL;
	return -1;
}

void log_opts_default(struct log_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->console_level = LOG_INFO;
	o->console_style = LOG_STYLE_AUTO;
	o->color = true;
	o->file_level = LOG_INFO;
	o->file = NULL;
	o->max_file_bytes = 0;
}

/* Callers hold log_mutex for everything from here to log_setup. */

static void log_update_min(void)
{
	enum log_level m = con_level;

	if (file_fd >= 0 && file_level < m)
		m = file_level;
	log_min_level = m;
}

static void log_file_error(const char *what, int err)
{
	/* Once per setup: a full disk must not turn every log line into two. */
	if (file_err_reported)
		return;
	file_err_reported = true;
	fprintf(stderr, "pincer: log file %s: %s: %s\n", file_path ? file_path : "?", what,
		strerror(err));
}

static int log_file_open(void)
{
	char *dir = fs_dirname(file_path);
	struct stat st;
	int fd, r, err;

	r = fs_mkdir_p(dir, 0700);
	free(dir);
	if (r < 0)
		return -1;
	fd = open(file_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	file_rotatable = S_ISREG(st.st_mode);
	/* Logs quote user content: tighten a file someone loosened (best effort). */
	if (file_rotatable && (st.st_mode & 077))
		(void)fchmod(fd, 0600);
	file_size = file_rotatable ? (size_t)st.st_size : 0;
	file_fd = fd;
	return 0;
}

static void log_file_close(void)
{
	if (file_fd >= 0)
		close(file_fd);
	file_fd = -1;
}

/* "pincer.log" -> "pincer.<i>.log"; "pincer" or ".log" -> "<name>.<i>". */
static char *log_archive_name(const char *path, int i)
{
	const char *base = strrchr(path, '/');
	const char *dot;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	if (!dot || dot == base)
		return xasprintf("%s.%d", path, i);
	return xasprintf("%.*s.%d%s", (int)(dot - path), path, i, dot);
}

/*
 * Shift x.4 -> x.5 (replacing, and so dropping, the oldest) ... x -> x.1,
 * then start a fresh x. A missing archive is normal; any other failure is
 * reported once and logging carries on in whatever file opens.
 */
static void log_file_rotate(void)
{
	log_file_close();
	for (int i = LOG_ARCHIVES; i >= 1; i--) {
		char *from = i == 1 ? xstrdup(file_path) : log_archive_name(file_path, i - 1);
		char *to = log_archive_name(file_path, i);

		if (rename(from, to) < 0 && errno != ENOENT)
			log_file_error("rotate", errno);
		free(from);
		free(to);
	}
	if (log_file_open() < 0) {
		log_file_error("reopen", errno);
		log_update_min();
	}
}

static int log_write_fd(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int log_setup(const struct log_opts *o)
{
	struct log_opts def;
	int err = 0, ret = 0;

	if (!o) {
		log_opts_default(&def);
		o = &def;
	}
	pthread_mutex_lock(&log_mutex);
	con_level = o->console_level;
	con_style = o->console_style;
	con_color = o->color;
	con_tty = -1; /* stderr may have been redirected since */

	log_file_close();
	free(file_path);
	file_path = NULL;
	file_level = o->file_level;
	file_max = o->max_file_bytes ? o->max_file_bytes : LOG_DEFAULT_MAX_BYTES;
	file_err_reported = false;
	if (o->file) {
		file_path = xstrdup(o->file);
		if (log_file_open() < 0) {
			err = errno;
			ret = -1;
			free(file_path);
			file_path = NULL;
		}
	}
	log_update_min();
	pthread_mutex_unlock(&log_mutex);
	if (ret < 0)
		errno = err;
	return ret;
}

void log_shutdown(void)
{
	pthread_mutex_lock(&log_mutex);
	log_file_close();
	free(file_path);
	file_path = NULL;
	log_update_min();
	pthread_mutex_unlock(&log_mutex);
}

void log_add_secret(const char *secret)
{
	size_t len;

	if (!secret)
		return;
	len = strlen(secret);
	if (len < LOG_SECRET_MIN)
		return;
	pthread_mutex_lock(&log_mutex);
	for (size_t i = 0; i < nsecrets; i++)
		if (secrets[i].len == len && memcmp(secrets[i].s, secret, len) == 0)
			goto out;
	secrets = xgrow(secrets, &secrets_alloc, nsecrets + 1, sizeof(*secrets));
	secrets[nsecrets].s = xstrndup(secret, len);
	secrets[nsecrets].len = len;
	nsecrets++;
	if (len > secret_maxlen)
		secret_maxlen = len;
out:
	pthread_mutex_unlock(&log_mutex);
}

void log_clear_secrets(void)
{
	pthread_mutex_lock(&log_mutex);
	for (size_t i = 0; i < nsecrets; i++) {
		explicit_bzero(secrets[i].s, secrets[i].len);
		free(secrets[i].s);
	}
	free(secrets);
	secrets = NULL;
	nsecrets = secrets_alloc = secret_maxlen = 0;
	pthread_mutex_unlock(&log_mutex);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	uint32_t cp, min;
	size_t need;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		need = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

/* Drop a multi-byte character that the end of s[0..n) cuts in half. */
static size_t utf8_trim(const char *s, size_t n)
{
	size_t i = n, cont = 0, need;
	unsigned char lead;

	while (i > 0 && cont < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80) {
		i--;
		cont++;
	}
	if (i == 0)
		return n;
	lead = (unsigned char)s[i - 1];
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	return need > cont + 1 ? i - 1 : n;
}

/*
 * Redact and truncate the formatted message in place. `msg` holds the
 * first `len` bytes of the message (`cut`: the rest did not fit) and has
 * room for LOG_MSG_MAX + LOG_TRUNC_MARK past that. Returns the new length.
 *
 * Every byte covered by any occurrence of any secret is masked, and each
 * masked run becomes one "***". Marking coverage, rather than replacing
 * secrets one after another, masks a secret that contains another, and two
 * overlapping ones, completely. The output never outgrows the input (a run
 * is at least LOG_SECRET_MIN > strlen(LOG_MASK) bytes), so this works in
 * place.
 *
 * Truncation happens after redaction, so a secret straddling LOG_MSG_MAX
 * cannot leave its first half behind. The caller formatted secret_maxlen
 * bytes past LOG_MSG_MAX for that; when even that was cut, the last
 * secret_maxlen - 1 bytes may begin a secret we cannot see whole, so
 * nothing from there on is emitted.
 */
static size_t log_redact(char *msg, size_t len, bool cut)
{
	unsigned char *mask = NULL;
	size_t end = len, i = 0, o = 0;
	bool truncated;

	if (cut && secret_maxlen > 1)
		end = len - (secret_maxlen - 1);
	if (nsecrets) {
		mask = xcalloc(len ? len : 1, 1);
		for (size_t k = 0; k < nsecrets; k++) {
			const char *p = msg, *hit;

			while ((hit = memmem(p, len - (size_t)(p - msg), secrets[k].s,
					     secrets[k].len))) {
				memset(mask + (hit - msg), 1, secrets[k].len);
				p = hit + 1;
			}
		}
	}
	while (i < end && o < LOG_MSG_MAX) {
		if (mask && mask[i]) {
			while (i < len && mask[i])
				i++;
			memcpy(msg + o, LOG_MASK, strlen(LOG_MASK));
			o += strlen(LOG_MASK);
		} else {
			msg[o++] = msg[i++];
		}
	}
	truncated = cut || i < len;
	free(mask);
	if (truncated) {
		if (o > LOG_MSG_MAX)
			o = LOG_MSG_MAX;
		o = utf8_trim(msg, o);
		memcpy(msg + o, LOG_TRUNC_MARK, strlen(LOG_TRUNC_MARK));
		o += strlen(LOG_TRUNC_MARK);
	}
	msg[o] = '\0';
	return o;
}

/* A JSON string: escapes per RFC 8259, invalid UTF-8 as U+FFFD so the line always parses. */
static void log_json_str(struct buf *b, const char *s, size_t n)
{
	buf_putc(b, '"');
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t k;

		if (c >= 0x80) {
			k = utf8_seq_len((const unsigned char *)s + i, n - i);
			if (k) {
				buf_append(b, s + i, k);
				i += k;
			} else {
				buf_puts(b, "\\ufffd");
				i++;
			}
			continue;
		}
		switch (c) {
		case '"':
			buf_puts(b, "\\\"");
			break;
		case '\\':
			buf_puts(b, "\\\\");
			break;
		case '\n':
			buf_puts(b, "\\n");
			break;
		case '\r':
			buf_puts(b, "\\r");
			break;
		case '\t':
			buf_puts(b, "\\t");
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				buf_printf(b, "\\u%04x", c);
			else
				buf_putc(b, (char)c);
		}
		i++;
	}
	buf_putc(b, '"');
}

static void log_json_line(struct buf *b, int64_t now, enum log_level lvl, const char *subsys,
			  const char *msg, size_t len)
{
	char ts[32];

	time_iso8601(now, ts, sizeof(ts));
	buf_printf(b, "{\"time\":\"%s\",\"level\":\"%s\",\"subsystem\":", ts, level_names[lvl]);
	log_json_str(b, subsys, strlen(subsys));
	buf_puts(b, ",\"message\":");
	log_json_str(b, msg, len);
	buf_puts(b, "}\n");
}

/*
 * Message text for a terminal: a peer-supplied string must not be able to
 * send escape sequences, so control characters other than tab and newline
 * become '?'.
 */
static void log_text(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
			c = '?';
		buf_putc(b, (char)c);
	}
}

static void log_console(struct buf *b, int64_t now, enum log_level lvl, const char *subsys,
			const char *msg, size_t len)
{
	enum log_style style = con_style;
	bool color;

	if (con_tty < 0) {
		const char *nc = getenv("NO_COLOR"); /* https://no-color.org */

		con_tty = isatty(STDERR_FILENO);
		con_no_color_env = nc && *nc;
	}
	if (style == LOG_STYLE_AUTO)
		style = con_tty ? LOG_STYLE_PRETTY : LOG_STYLE_JSON;
	color = con_color && con_tty && !con_no_color_env;

	switch (style) {
	case LOG_STYLE_PRETTY: {
		time_t t = (time_t)(now / 1000);
		struct tm tm;

		if (!localtime_r(&t, &tm))
			memset(&tm, 0, sizeof(tm));
		buf_printf(b, "%s%02d:%02d:%02d.%03d%s %s%-5s%s %s%-8s%s ", color ? COLOR_DIM : "",
			   tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(now % 1000),
			   color ? COLOR_RESET : "", color ? level_colors[lvl] : "",
			   level_tags[lvl], color ? COLOR_RESET : "", color ? COLOR_SUBSYS : "",
			   subsys, color ? COLOR_RESET : "");
		log_text(b, msg, len);
		buf_putc(b, '\n');
		break;
	}
	case LOG_STYLE_COMPACT:
		buf_printf(b, "%s %s: ", level_tags[lvl], subsys);
		log_text(b, msg, len);
		buf_putc(b, '\n');
		break;
	default:
		log_json_line(b, now, lvl, subsys, msg, len);
		break;
	}
	/* Nowhere to report a failing stderr. */
	(void)log_write_fd(STDERR_FILENO, b->p, b->len);
}

static void log_file(struct buf *b, int64_t now, enum log_level lvl, const char *subsys,
		     const char *msg, size_t len)
{
	log_json_line(b, now, lvl, subsys, msg, len);
	/* A line bigger than the limit still goes into a fresh file, whole. */
	if (file_rotatable && file_size > 0 &&
	    (file_size >= file_max || b->len > file_max - file_size))
		log_file_rotate();
	if (file_fd < 0)
		return;
	if (log_write_fd(file_fd, b->p, b->len) < 0) {
		log_file_error("write", errno);
		return;
	}
	file_size += b->len;
}

void log_write(enum log_level lvl, const char *subsys, const char *fmt, ...)
{
	int saved_errno = errno; /* callers log an error, then return -1 with errno */
	bool to_con, to_file;
	struct buf line;
	va_list ap;
	size_t cap, len;
	char *msg;
	int n;
	int64_t now;

	if ((unsigned int)lvl > LOG_FATAL)
		lvl = LOG_FATAL;
	if (!subsys)
		subsys = "pincer";
	pthread_mutex_lock(&log_mutex);
	to_con = lvl >= con_level;
	to_file = file_fd >= 0 && lvl >= file_level;
	if (!to_con && !to_file)
		goto out;

	cap = LOG_MSG_MAX + secret_maxlen;
	msg = xmalloc(cap + 1 + strlen(LOG_TRUNC_MARK));
	errno = saved_errno; /* for %m */
	va_start(ap, fmt);
	n = vsnprintf(msg, cap + 1, fmt, ap);
	va_end(ap);
	if (n < 0) {
		n = 0;
		msg[0] = '\0';
	}
	len = log_redact(msg, (size_t)n > cap ? cap : (size_t)n, (size_t)n > cap);
	now = time_now_ms();

	buf_init(&line, BUF_UNLIMITED);
	if (to_file)
		log_file(&line, now, lvl, subsys, msg, len);
	buf_reset(&line);
	if (to_con)
		log_console(&line, now, lvl, subsys, msg, len);
	buf_release(&line);
	free(msg);
out:
	pthread_mutex_unlock(&log_mutex);
	errno = saved_errno;
}
