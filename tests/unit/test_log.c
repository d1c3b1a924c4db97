/*
 * test_log.c - levels, sinks, JSON lines, redaction, rotation.
 *
 * The logger is process-global: every test starts from log_setup(NULL)
 * with no secrets, in its own mkdtemp directory, and shuts down after.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"

#define MSG_MAX    (16 * 1024)
#define TRUNC_MARK "...[truncated]"

struct tdir {
	char path[64];
	int saved_stderr;
};

static int tdir_setup(void **state)
{
	struct tdir *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	strcpy(t->path, "/tmp/pincer-test-log-XXXXXX");
	if (!mkdtemp(t->path)) {
		free(t);
		return -1;
	}
	t->saved_stderr = -1;
	*state = t;
	log_clear_secrets();
	return log_setup(NULL);
}

static int tdir_teardown(void **state)
{
	struct tdir *t = *state;
	int r;

	log_shutdown();
	log_clear_secrets();
	if (t->saved_stderr >= 0) {
		dup2(t->saved_stderr, STDERR_FILENO);
		close(t->saved_stderr);
	}
	r = tu_rm_rf(t->path);
	free(t);
	return r;
}

static const char *tpath(void **state, const char *rel)
{
	static char slots[4][256];
	static int next;
	char *p = slots[next++ % 4];

	snprintf(p, sizeof(slots[0]), "%s/%s", ((struct tdir *)*state)->path, rel);
	return p;
}

/* Send stderr to <tmp>/stderr until capture_end. */
static void capture_start(void **state)
{
	struct tdir *t = *state;
	int fd = open(tpath(state, "stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	fflush(stderr);
	t->saved_stderr = dup(STDERR_FILENO);
	assert_true(t->saved_stderr >= 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

static char *slurp(const char *path)
{
	struct buf b;

	buf_init(&b, 64 << 20);
	if (fs_read_file(path, &b) < 0)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	return buf_detach(&b, NULL);
}

static char *capture_end(void **state)
{
	struct tdir *t = *state;

	fflush(stderr);
	dup2(t->saved_stderr, STDERR_FILENO);
	close(t->saved_stderr);
	t->saved_stderr = -1;
	return slurp(tpath(state, "stderr"));
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Parse line `idx` (0-based) of a JSON-lines text; fails the test if it is not an object. */
static json_t *json_line(const char *text, int idx)
{
	const char *p = text, *nl;
	json_error_t err;
	json_t *j;

	for (int i = 0; i < idx; i++) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	nl = strchr(p, '\n');
	assert_non_null(nl);
	j = json_loadb(p, (size_t)(nl - p), 0, &err);
	if (!j)
		fail_msg("bad JSON line %d: %s in '%.*s'", idx, err.text, (int)(nl - p), p);
	assert_true(json_is_object(j));
	return j;
}

static const char *jstr(json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);

	assert_non_null(v);
	assert_true(json_is_string(v));
	return json_string_value(v);
}

/* Set up with the console silenced and a file at `level`. */
static void file_only(void **state, const char *name, enum log_level level, size_t max)
{
	struct log_opts o;

	log_opts_default(&o);
	o.console_level = LOG_SILENT;
	o.file_level = level;
	o.file = tpath(state, name);
	o.max_file_bytes = max;
	assert_int_equal(log_setup(&o), 0);
}

/* The message of the only line in the log file. */
static char *single_message(void **state, const char *name)
{
	char *text = slurp(tpath(state, name));
	json_t *j;
	char *msg;

	assert_int_equal(count_lines(text), 1);
	j = json_line(text, 0);
	msg = strdup(jstr(j, "message"));
	json_decref(j);
	free(text);
	return msg;
}

/* ---- before setup ---- */

static void test_before_setup(void **state)
{
	struct tdir *t = calloc(1, sizeof(*t));
	void *st = t;
	char *out;
	json_t *j;
	int evaluated = 0;

	/* Runs first: nothing has configured the logger yet. */
	assert_non_null(t);
	strcpy(t->path, "/tmp/pincer-test-log-XXXXXX");
	assert_non_null(mkdtemp(t->path));
	assert_int_equal(log_min_level, LOG_INFO);
	capture_start(&st);
	log_info("boot", "early %d", 42);
	log_debug("boot", "hidden %d", ++evaluated);
	out = capture_end(&st);
	assert_int_equal(evaluated, 0);
	/* Auto style on a non-TTY stderr is JSON. */
	assert_int_equal(count_lines(out), 1);
	j = json_line(out, 0);
	assert_string_equal(jstr(j, "message"), "early 42");
	assert_string_equal(jstr(j, "subsystem"), "boot");
	json_decref(j);
	free(out);
	tdir_teardown(&st);
}

/* ---- levels ---- */

static void test_level_names(void **state)
{
	enum log_level l;

	assert_string_equal(log_level_name(LOG_TRACE), "trace");
	assert_string_equal(log_level_name(LOG_INFO), "info");
	assert_string_equal(log_level_name(LOG_WARN), "warn");
	assert_string_equal(log_level_name(LOG_FATAL), "fatal");
	assert_string_equal(log_level_name(LOG_SILENT), "silent");
	for (int i = LOG_TRACE; i <= LOG_SILENT; i++) {
		assert_int_equal(log_level_parse(log_level_name((enum log_level)i), &l), 0);
		assert_int_equal(l, i);
	}
	assert_int_equal(log_level_parse("DEBUG", &l), 0);
	assert_int_equal(l, LOG_DEBUG);
	l = LOG_INFO;
	assert_int_equal(log_level_parse("verbose", &l), -1);
	assert_int_equal(log_level_parse("", &l), -1);
	assert_int_equal(log_level_parse(NULL, &l), -1);
	assert_int_equal(l, LOG_INFO);
}

static void test_min_level(void **state)
{
	struct log_opts o;

	log_opts_default(&o);
	assert_int_equal(o.console_level, LOG_INFO);
	assert_int_equal(o.console_style, LOG_STYLE_AUTO);
	assert_null(o.file);
	assert_int_equal(log_min_level, LOG_INFO);

	o.console_level = LOG_WARN;
	o.file_level = LOG_DEBUG;
	o.file = tpath(state, "a.log");
	assert_int_equal(log_setup(&o), 0);
	assert_int_equal(log_min_level, LOG_DEBUG);

	o.console_level = LOG_TRACE;
	o.file_level = LOG_ERROR;
	assert_int_equal(log_setup(&o), 0);
	assert_int_equal(log_min_level, LOG_TRACE);

	/* Without a file, only the console counts. */
	o.console_level = LOG_ERROR;
	o.file_level = LOG_TRACE;
	o.file = NULL;
	assert_int_equal(log_setup(&o), 0);
	assert_int_equal(log_min_level, LOG_ERROR);

	o.console_level = LOG_SILENT;
	o.file = tpath(state, "a.log");
	o.file_level = LOG_WARN;
	assert_int_equal(log_setup(&o), 0);
	assert_int_equal(log_min_level, LOG_WARN);
	log_shutdown();
	assert_int_equal(log_min_level, LOG_SILENT);
}

static void test_setup_file_error(void **state)
{
	struct log_opts o;
	int fd = open(tpath(state, "notadir"), O_WRONLY | O_CREAT, 0600);

	assert_true(fd >= 0);
	close(fd);
	log_opts_default(&o);
	o.console_level = LOG_ERROR;
	o.file_level = LOG_TRACE;
	o.file = tpath(state, "notadir/x.log");
	errno = 0;
	assert_int_equal(log_setup(&o), -1);
	assert_int_equal(errno, ENOTDIR);
	/* The console is configured regardless; the dead file does not count. */
	assert_int_equal(log_min_level, LOG_ERROR);
}

static void test_filtering(void **state)
{
	char *text;
	json_t *j;

	file_only(state, "f.log", LOG_WARN, 0);
	log_write(LOG_TRACE, "t", "trace");
	log_write(LOG_DEBUG, "t", "debug");
	log_write(LOG_INFO, "t", "info");
	log_write(LOG_WARN, "t", "warn");
	log_write(LOG_ERROR, "t", "error");
	log_write(LOG_FATAL, "t", "fatal");
	log_info("t", "info macro");
	log_warn("t", "warn macro");
	text = slurp(tpath(state, "f.log"));
	assert_int_equal(count_lines(text), 4);
	j = json_line(text, 0);
	assert_string_equal(jstr(j, "level"), "warn");
	assert_string_equal(jstr(j, "message"), "warn");
	json_decref(j);
	j = json_line(text, 2);
	assert_string_equal(jstr(j, "level"), "fatal");
	json_decref(j);
	j = json_line(text, 3);
	assert_string_equal(jstr(j, "message"), "warn macro");
	json_decref(j);
	free(text);
}

static int side_effects;

static int bump(void)
{
	return ++side_effects;
}

static void test_macro_skips_args(void **state)
{
	struct log_opts o;
	char *out;

	capture_start(state);
	log_opts_default(&o);
	o.console_style = LOG_STYLE_COMPACT;
	assert_int_equal(log_setup(&o), 0);
	side_effects = 0;
	log_debug("m", "%d", bump());
	log_trace("m", "%d", bump());
	assert_int_equal(side_effects, 0);
	log_info("m", "%d", bump());
	log_error("m", "%d", bump());
	assert_int_equal(side_effects, 2);
	out = capture_end(state);
	assert_string_equal(out, "INFO m: 1\nERROR m: 2\n");
	free(out);
}

static void test_errno_preserved(void **state)
{
	char *msg;

	file_only(state, "f.log", LOG_INFO, 0);
	errno = ENOENT;
	log_info("e", "open failed: %m");
	assert_int_equal(errno, ENOENT);
	msg = single_message(state, "f.log");
	assert_string_equal(msg, "open failed: No such file or directory");
	free(msg);
	errno = EACCES;
	log_debug("e", "filtered");
	assert_int_equal(errno, EACCES);
}

/* ---- line format ---- */

static void test_json_shape(void **state)
{
	static const char tricky[] =
		"quote \" backslash \\ newline \n tab \t cr \r bell \a "
		"esc \033[31m nul-free utf8 h\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\xa6\x80";
	const char *t;
	char *text;
	json_t *j;
	const char *key;
	json_t *v;
	int nkeys = 0;

	file_only(state, "f.log", LOG_TRACE, 0);
	log_info("gateway", "%s", tricky);
	log_write(LOG_ERROR, "sub \"sys\"", "invalid utf8 \xff\xfe and overlong \xc0\xaf end");
	text = slurp(tpath(state, "f.log"));
	assert_int_equal(count_lines(text), 2);

	j = json_line(text, 0);
	json_object_foreach(j, key, v)
	{
		assert_true(json_is_string(v));
		nkeys++;
	}
	assert_int_equal(nkeys, 4);
	assert_string_equal(jstr(j, "level"), "info");
	assert_string_equal(jstr(j, "subsystem"), "gateway");
	assert_string_equal(jstr(j, "message"), tricky);
	t = jstr(j, "time");
	/* 2026-11-21T09:26:22.123Z */
	assert_int_equal(strlen(t), 24);
	assert_int_equal(t[4], '-');
	assert_int_equal(t[10], 'T');
	assert_int_equal(t[19], '.');
	assert_int_equal(t[23], 'Z');
	json_decref(j);

	/* Invalid UTF-8 becomes U+FFFD, so the line still parses. */
	j = json_line(text, 1);
	assert_string_equal(jstr(j, "subsystem"), "sub \"sys\"");
	assert_string_equal(jstr(j, "message"),
			    "invalid utf8 \xef\xbf\xbd\xef\xbf\xbd and overlong "
			    "\xef\xbf\xbd\xef\xbf\xbd end");
	json_decref(j);
	/* Escape sequences never reach the file raw. */
	assert_null(strchr(text, '\033'));
	free(text);
}

static void test_console_styles(void **state)
{
	struct log_opts o;
	char *out, *line2;
	json_t *j;

	capture_start(state);
	log_opts_default(&o);
	o.console_level = LOG_DEBUG;

	o.console_style = LOG_STYLE_COMPACT;
	assert_int_equal(log_setup(&o), 0);
	log_warn("gw", "hello %s", "there");

	o.console_style = LOG_STYLE_PRETTY;
	o.color = true; /* not a TTY: no color anyway */
	assert_int_equal(log_setup(&o), 0);
	log_debug("gateway", "pretty \033[2J line");

	o.console_style = LOG_STYLE_JSON;
	assert_int_equal(log_setup(&o), 0);
	log_error("x", "as json");

	o.console_style = LOG_STYLE_AUTO; /* not a TTY: JSON */
	assert_int_equal(log_setup(&o), 0);
	log_info("y", "auto");
	out = capture_end(state);

	assert_int_equal(count_lines(out), 4);
	assert_true(strncmp(out, "WARN gw: hello there\n", 21) == 0);
	line2 = out + 21;
	/* "12:00:01.123 DEBUG gateway  pretty ?[2J line" */
	assert_int_equal(line2[2], ':');
	assert_int_equal(line2[5], ':');
	assert_int_equal(line2[8], '.');
	assert_true(strncmp(line2 + 12, " DEBUG gateway  pretty ?[2J line\n", 33) == 0);
	assert_null(strchr(out, '\033'));
	j = json_line(out, 2);
	assert_string_equal(jstr(j, "message"), "as json");
	assert_string_equal(jstr(j, "level"), "error");
	json_decref(j);
	j = json_line(out, 3);
	assert_string_equal(jstr(j, "message"), "auto");
	json_decref(j);
	free(out);
}

static void test_truncation(void **state)
{
	size_t n = 40000;
	char *big = malloc(n + 1);
	char *msg;
	size_t mlen, mk = strlen(TRUNC_MARK);

	assert_non_null(big);
	memset(big, 'x', n);
	big[n] = '\0';
	file_only(state, "f.log", LOG_INFO, 0);
	log_info("t", "%s", big);
	msg = single_message(state, "f.log");
	mlen = strlen(msg);
	assert_int_equal(mlen, MSG_MAX + mk);
	assert_string_equal(msg + mlen - mk, TRUNC_MARK);
	free(msg);

	/* Exactly the limit is not truncated. */
	big[MSG_MAX] = '\0';
	assert_int_equal(log_setup(NULL), 0);
	unlink(tpath(state, "f.log"));
	file_only(state, "f.log", LOG_INFO, 0);
	log_info("t", "%s", big);
	msg = single_message(state, "f.log");
	assert_int_equal(strlen(msg), MSG_MAX);
	free(msg);
	free(big);
}

static void test_truncation_utf8(void **state)
{
	/* 'a' then two-byte characters: the cut at 16 KiB falls inside one. */
	size_t n = 1 + 2 * 10000;
	char *big = malloc(n + 1);
	char *msg;

	assert_non_null(big);
	big[0] = 'a';
	for (size_t i = 1; i < n; i += 2) {
		big[i] = '\xc3';
		big[i + 1] = '\xa9';
	}
	big[n] = '\0';
	file_only(state, "f.log", LOG_INFO, 0);
	log_info("t", "%s", big);
	msg = single_message(state, "f.log");
	/* Cut at a character boundary: no replacement character. */
	assert_null(strstr(msg, "\xef\xbf\xbd"));
	assert_int_equal(strlen(msg), MSG_MAX - 1 + strlen(TRUNC_MARK));
	free(msg);
	free(big);
}

/* ---- redaction ---- */

static void test_redact_basic(void **state)
{
	static const char secret[] = "sk-live-0123456789abcdef";
	char *text;

	file_only(state, "f.log", LOG_INFO, 0);
	log_add_secret(secret);
	log_info("r", "key=%s", secret);
	log_info("r", "inside a word: xx%syy and again %s.", secret, secret);
	log_info("r", "Bearer %s", secret);
	text = slurp(tpath(state, "f.log"));
	assert_null(strstr(text, secret));
	assert_null(strstr(text, "0123456789"));
	assert_non_null(strstr(text, "\"key=***\""));
	assert_non_null(strstr(text, "\"inside a word: xx***yy and again ***.\""));
	assert_non_null(strstr(text, "\"Bearer ***\""));
	free(text);
}

static void test_redact_split_args(void **state)
{
	char *msg;

	file_only(state, "f.log", LOG_INFO, 0);
	log_add_secret("hunter2hunter2");
	/* The secret only exists after formatting. */
	log_info("r", "%s%s%c%s%d!", "pre hunter", "2hun", 't', "er", 2);
	msg = single_message(state, "f.log");
	assert_string_equal(msg, "pre ***!");
	free(msg);
}

static void test_redact_overlapping(void **state)
{
	char *text;
	json_t *j;

	file_only(state, "f.log", LOG_INFO, 0);
	/* One secret contains another; registered shortest first on purpose. */
	log_add_secret("BCDE");
	log_add_secret("ABCDEFGH");
	/* Two secrets overlap without containing each other. */
	log_add_secret("1234567");
	log_add_secret("4567890");
	log_info("r", "[ABCDEFGH] [xBCDEx] [1234567890] [4567890123] [12345678901234567]");
	text = slurp(tpath(state, "f.log"));
	j = json_line(text, 0);
	assert_string_equal(jstr(j, "message"), "[***] [x***x] [***] [***123] [***]");
	json_decref(j);
	assert_null(strstr(text, "ABCD"));
	assert_null(strstr(text, "BCDE"));
	assert_null(strstr(text, "4567"));
	assert_null(strstr(text, "EFGH"));
	free(text);
}

static void test_redact_rules(void **state)
{
	char *text;

	file_only(state, "f.log", LOG_INFO, 0);
	log_add_secret("abc"); /* too short: would mask ordinary words */
	log_add_secret("");
	log_add_secret(NULL);
	log_add_secret("abcd");
	log_add_secret("abcd"); /* duplicate */
	{
		/* The secret is copied: the caller's buffer may change afterwards. */
		char tmp[] = "zyxwvut";

		log_add_secret(tmp);
		memset(tmp, 'q', sizeof(tmp) - 1);
	}
	log_info("r", "abc abcd zyxwvut qqqqqqq");
	log_clear_secrets();
	log_info("r", "abcd zyxwvut");
	text = slurp(tpath(state, "f.log"));
	assert_non_null(strstr(text, "\"abc *** *** qqqqqqq\""));
	/* Forgotten after log_clear_secrets. */
	assert_non_null(strstr(text, "\"abcd zyxwvut\""));
	free(text);
}

static void test_redact_console_too(void **state)
{
	struct log_opts o;
	char *out;

	capture_start(state);
	log_opts_default(&o);
	o.console_style = LOG_STYLE_COMPACT;
	o.file = tpath(state, "f.log");
	assert_int_equal(log_setup(&o), 0);
	log_add_secret("s3cr3t-token");
	log_info("r", "token s3cr3t-token");
	out = capture_end(state);
	assert_string_equal(out, "INFO r: token ***\n");
	free(out);
}

static void test_redact_at_truncation_boundary(void **state)
{
	static const char secret[] = "SECRETSECRET-XYZW"; /* 17 bytes */
	size_t slen = strlen(secret);
	char *big = malloc(64 * 1024);
	char *text;

	assert_non_null(big);
	file_only(state, "f.log", LOG_INFO, 0);
	log_add_secret(secret);

	/* A secret straddling the 16 KiB cut must not leave its first half. */
	for (size_t off = MSG_MAX - slen; off <= MSG_MAX + 1; off++) {
		memset(big, 'a', off);
		strcpy(big + off, secret);
		memset(big + off + slen, 'b', 1000);
		big[off + slen + 1000] = '\0';
		log_info("r", "%s", big);
	}

	/*
	 * Masking earlier copies shrinks the text, pulling later bytes below
	 * the cut: a secret that the formatting buffer itself cut in half
	 * must not surface either.
	 */
	{
		size_t o = 0, cap = MSG_MAX + slen;

		for (int i = 0; i < 300; i++) {
			memcpy(big + o, secret, slen);
			o += slen;
		}
		for (size_t start = cap - slen + 1; start < cap; start++) {
			memset(big + o, 'c', start - o);
			memcpy(big + start, secret, slen);
			big[start + slen] = '\0';
			log_info("r", "%s", big);
		}
	}
	text = slurp(tpath(state, "f.log"));
	assert_null(strstr(text, "SECR"));
	assert_null(strstr(text, "XYZW"));
	assert_null(strstr(text, "RETS"));
	assert_null(strstr(text, "T-XY"));
	free(text);
	free(big);
}

/* ---- file sink ---- */

static void test_file_modes(void **state)
{
	struct stat st;
	mode_t old = umask(0);

	file_only(state, "logs/deeper/pincer.log", LOG_INFO, 0);
	umask(old);
	log_info("f", "hello");
	assert_int_equal(stat(tpath(state, "logs/deeper/pincer.log"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(tpath(state, "logs/deeper"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(tpath(state, "logs"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
}

static void test_file_appends(void **state)
{
	char *text;

	file_only(state, "f.log", LOG_INFO, 0);
	log_info("f", "one");
	log_shutdown();
	log_info("f", "console only"); /* console is silenced, file closed */
	file_only(state, "f.log", LOG_INFO, 0);
	log_info("f", "two");
	text = slurp(tpath(state, "f.log"));
	assert_int_equal(count_lines(text), 2);
	assert_non_null(strstr(text, "\"one\""));
	assert_non_null(strstr(text, "\"two\""));
	free(text);
}

static int count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Number in the message "line N" of line `idx` of `path`. */
static int line_number(const char *path, int idx)
{
	char *text = slurp(path);
	json_t *j = json_line(text, idx);
	int n = -1;

	assert_int_equal(sscanf(jstr(j, "message"), "line %d", &n), 1);
	json_decref(j);
	free(text);
	return n;
}

static void test_rotation(void **state)
{
	const size_t max = 300;
	char name[64];
	struct stat st;
	char *text;
	int prev;

	file_only(state, "logs/pincer.log", LOG_INFO, max);
	for (int i = 0; i < 200; i++)
		log_info("rot", "line %d", i);

	/* Active file plus exactly five archives. */
	assert_int_equal(count_dir(tpath(state, "logs")), 6);
	assert_false(fs_exists(tpath(state, "logs/pincer.6.log")));

	/* The newest line is last in the active file. */
	text = slurp(tpath(state, "logs/pincer.log"));
	assert_true(strlen(text) <= max);
	assert_int_equal(line_number(tpath(state, "logs/pincer.log"), count_lines(text) - 1), 199);
	prev = line_number(tpath(state, "logs/pincer.log"), 0);
	free(text);

	for (int i = 1; i <= 5; i++) {
		snprintf(name, sizeof(name), "logs/pincer.%d.log", i);
		assert_int_equal(stat(tpath(state, name), &st), 0);
		assert_true((size_t)st.st_size <= max);
		assert_true(st.st_size > 0);
		assert_int_equal(st.st_mode & 07777, 0600);
		/* Higher numbers are older, and no line is lost between them. */
		text = slurp(tpath(state, name));
		assert_int_equal(line_number(tpath(state, name), count_lines(text) - 1), prev - 1);
		prev = line_number(tpath(state, name), 0);
		free(text);
	}
}

static void test_rotation_no_extension(void **state)
{
	file_only(state, "plain", LOG_INFO, 150);
	for (int i = 0; i < 100; i++)
		log_info("rot", "line %d", i);
	assert_true(fs_exists(tpath(state, "plain")));
	assert_true(fs_exists(tpath(state, "plain.1")));
	assert_true(fs_exists(tpath(state, "plain.5")));
	assert_false(fs_exists(tpath(state, "plain.6")));
	assert_int_equal(count_dir(tpath(state, "")), 6);
}

static void test_rotation_oversized_line(void **state)
{
	char big[600];
	char *text;

	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	file_only(state, "f.log", LOG_INFO, 200);
	log_info("rot", "small");
	log_info("rot", "%s", big); /* bigger than the limit: alone in a fresh file */
	log_info("rot", "after");
	text = slurp(tpath(state, "f.1.log"));
	assert_int_equal(count_lines(text), 1);
	assert_non_null(strstr(text, big));
	free(text);
	text = slurp(tpath(state, "f.2.log"));
	assert_non_null(strstr(text, "small"));
	free(text);
	text = slurp(tpath(state, "f.log"));
	assert_non_null(strstr(text, "after"));
	free(text);
}

static void test_write_failure_reported_once(void **state)
{
	struct log_opts o;
	char *out;

	capture_start(state);
	log_opts_default(&o);
	o.console_level = LOG_SILENT;
	o.file = "/dev/full"; /* every write fails with ENOSPC */
	o.max_file_bytes = 10;
	assert_int_equal(log_setup(&o), 0);
	for (int i = 0; i < 5; i++)
		log_info("f", "line %d", i);
	out = capture_end(state);
	assert_int_equal(count_lines(out), 1);
	assert_non_null(strstr(out, "/dev/full"));
	free(out);
	/* A device is never rotated. */
	assert_false(fs_exists("/dev/full.1"));
	log_shutdown();
}

struct writer {
	int id;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	for (int i = 0; i < 300; i++)
		log_info("thr", "writer %d line %d with secret TOPSECRET-%d", w->id, i, w->id);
	return NULL;
}

static void test_threads(void **state)
{
	enum { N = 4 };
	pthread_t th[N];
	struct writer w[N];
	char *text;

	file_only(state, "f.log", LOG_INFO, 0);
	log_add_secret("TOPSECRET");
	for (int i = 0; i < N; i++) {
		w[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	text = slurp(tpath(state, "f.log"));
	assert_int_equal(count_lines(text), N * 300);
	for (int i = 0; i < N * 300; i += 97) {
		json_t *j = json_line(text, i);

		assert_non_null(strstr(jstr(j, "message"), "secret ***-"));
		json_decref(j);
	}
	assert_null(strstr(text, "TOPSECRET"));
	free(text);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tdir_setup, tdir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_before_setup),
		T(test_level_names),
		T(test_min_level),
		T(test_setup_file_error),
		T(test_filtering),
		T(test_macro_skips_args),
		T(test_errno_preserved),
		T(test_json_shape),
		T(test_console_styles),
		T(test_truncation),
		T(test_truncation_utf8),
		T(test_redact_basic),
		T(test_redact_split_args),
		T(test_redact_overlapping),
		T(test_redact_rules),
		T(test_redact_console_too),
		T(test_redact_at_truncation_boundary),
		T(test_file_modes),
		T(test_file_appends),
		T(test_rotation),
		T(test_rotation_no_extension),
		T(test_rotation_oversized_line),
		T(test_write_failure_reported_once),
		T(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
