/*
 * test_fs.c - bounded reads, atomic writes, directories, path helpers, locks.
 *
 * Every test runs in its own mkdtemp directory, removed afterwards.
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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/timeutil.h"

struct tdir {
	char path[64];
};

static int tdir_setup(void **state)
{
	struct tdir *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	strcpy(t->path, "/tmp/pincer-test-fs-XXXXXX");
	if (!mkdtemp(t->path)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int tdir_teardown(void **state)
{
	struct tdir *t = *state;
	int r = tu_rm_rf(t->path);

	free(t);
	return r;
}

/* A path inside the test directory; static storage, four slots in rotation. */
static const char *tpath(void **state, const char *rel)
{
	static char slots[4][256];
	static int next;
	char *p = slots[next++ % 4];

	snprintf(p, sizeof(slots[0]), "%s/%s", ((struct tdir *)*state)->path, rel);
	return p;
}

static void write_file(const char *path, const char *s, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static int count_entries(const char *dir)
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

/* ---- fs_read_file ---- */

static void test_read_file(void **state)
{
	const char *p = tpath(state, "f");
	struct buf b;

	write_file(p, "hello world", 0600);
	buf_init(&b, 1024);
	buf_puts(&b, ">");
	assert_int_equal(fs_read_file(p, &b), 0);
	assert_string_equal(b.p, ">hello world"); /* appends */
	assert_int_equal(b.len, 12);
	buf_release(&b);
}

static void test_read_file_cap(void **state)
{
	const char *p = tpath(state, "f");
	struct buf b;

	write_file(p, "0123456789", 0600);
	buf_init(&b, 9);
	errno = 0;
	assert_int_equal(fs_read_file(p, &b), -1);
	assert_int_equal(errno, E2BIG);
	assert_int_equal(b.len, 0);
	buf_release(&b);

	/* The cap counts what is already in the buffer; unchanged on failure. */
	buf_init(&b, 12);
	buf_puts(&b, "abc");
	assert_int_equal(fs_read_file(p, &b), -1);
	assert_int_equal(errno, E2BIG);
	assert_string_equal(b.p, "abc");
	buf_release(&b);

	/* Exactly at the cap is fine. */
	buf_init(&b, 10);
	assert_int_equal(fs_read_file(p, &b), 0);
	assert_string_equal(b.p, "0123456789");
	buf_release(&b);
}

static void test_read_file_large(void **state)
{
	const char *p = tpath(state, "big");
	size_t n = 300 * 1000;
	char *data = malloc(n);
	struct buf b;

	assert_non_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)('a' + i % 26);
	assert_int_equal(fs_write_atomic(p, data, n, 0600), 0);
	buf_init(&b, n);
	assert_int_equal(fs_read_file(p, &b), 0);
	assert_int_equal(b.len, n);
	assert_memory_equal(b.p, data, n);
	buf_release(&b);
	free(data);
}

static void test_read_file_errors(void **state)
{
	struct buf b;

	buf_init(&b, 1024);
	assert_int_equal(fs_read_file(tpath(state, "missing"), &b), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(fs_read_file(tpath(state, ""), &b), -1);
	assert_int_equal(errno, EISDIR);
	write_file(tpath(state, "empty"), "", 0600);
	assert_int_equal(fs_read_file(tpath(state, "empty"), &b), 0);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.p, "");
	buf_release(&b);
}

/* ---- fs_write_atomic ---- */

static void test_write_atomic_create(void **state)
{
	const char *p = tpath(state, "state.json");
	struct buf b;

	assert_int_equal(fs_write_atomic(p, "{\"a\":1}", 7, 0600), 0);
	assert_int_equal(mode_of(p), 0600);
	buf_init(&b, 1024);
	assert_int_equal(fs_read_file(p, &b), 0);
	assert_string_equal(b.p, "{\"a\":1}");
	buf_release(&b);
	assert_int_equal(count_entries(tpath(state, "")), 1);
}

static void test_write_atomic_replace(void **state)
{
	const char *p = tpath(state, "state.json");
	mode_t old = umask(077);
	struct buf b;

	write_file(p, "old content that is longer", 0644);
	/* The mode is exactly what was asked for, whatever the umask. */
	assert_int_equal(fs_write_atomic(p, "new", 3, 0640), 0);
	umask(old);
	assert_int_equal(mode_of(p), 0640);
	buf_init(&b, 1024);
	assert_int_equal(fs_read_file(p, &b), 0);
	assert_string_equal(b.p, "new");
	buf_release(&b);

	assert_int_equal(fs_write_atomic(p, "", 0, 0600), 0);
	assert_int_equal(mode_of(p), 0600);
	buf_init(&b, 1024);
	assert_int_equal(fs_read_file(p, &b), 0);
	assert_int_equal(b.len, 0);
	buf_release(&b);
	/* No temp files left behind. */
	assert_int_equal(count_entries(tpath(state, "")), 1);
}

static void test_write_atomic_many(void **state)
{
	const char *p = tpath(state, "counter");
	char s[32];
	struct buf b;

	for (int i = 0; i < 50; i++) {
		int n = snprintf(s, sizeof(s), "%d", i);

		assert_int_equal(fs_write_atomic(p, s, (size_t)n, 0600), 0);
	}
	buf_init(&b, 64);
	assert_int_equal(fs_read_file(p, &b), 0);
	assert_string_equal(b.p, "49");
	buf_release(&b);
	assert_int_equal(count_entries(tpath(state, "")), 1);
}

static void test_write_atomic_failure_cleans_up(void **state)
{
	/* rename onto a directory fails after the temp file was written. */
	assert_int_equal(mkdir(tpath(state, "d"), 0700), 0);
	assert_int_equal(fs_write_atomic(tpath(state, "d"), "x", 1, 0600), -1);
	assert_int_equal(errno, EISDIR);
	assert_int_equal(count_entries(tpath(state, "")), 1);

	/* Missing directory: nothing created anywhere. */
	assert_int_equal(fs_write_atomic(tpath(state, "nope/f"), "x", 1, 0600), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(count_entries(tpath(state, "")), 1);
}

/* ---- directories ---- */

static void test_mkdir_p(void **state)
{
	mode_t old = umask(022);

	assert_int_equal(fs_mkdir_p(tpath(state, "a/b/c"), 0700), 0);
	assert_true(fs_is_dir(tpath(state, "a/b/c")));
	assert_int_equal(mode_of(tpath(state, "a")), 0700);
	assert_int_equal(mode_of(tpath(state, "a/b")), 0700);
	/* Existing: fine, and its mode is left alone. */
	assert_int_equal(chmod(tpath(state, "a/b"), 0755), 0);
	assert_int_equal(fs_mkdir_p(tpath(state, "a/b"), 0700), 0);
	assert_int_equal(mode_of(tpath(state, "a/b")), 0755);
	/* Repeated and trailing slashes. */
	assert_int_equal(fs_mkdir_p(tpath(state, "x//y/z/"), 0700), 0);
	assert_true(fs_is_dir(tpath(state, "x/y/z")));
	/* Absolute path with existing ancestors. */
	assert_int_equal(fs_mkdir_p("/tmp", 0700), 0);
	assert_int_equal(fs_mkdir_p("/", 0700), 0);
	umask(old);
}

static void test_mkdir_p_errors(void **state)
{
	write_file(tpath(state, "file"), "x", 0600);
	assert_int_equal(fs_mkdir_p(tpath(state, "file/sub"), 0700), -1);
	assert_int_equal(errno, ENOTDIR);
	assert_int_equal(fs_mkdir_p(tpath(state, "file"), 0700), -1);
	assert_int_equal(errno, ENOTDIR);
	assert_int_equal(fs_mkdir_p("", 0700), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_ensure_dir(void **state)
{
	mode_t old = umask(077);

	/* Created with exactly the mode, parents 0700. */
	assert_int_equal(fs_ensure_dir(tpath(state, "p/q/state"), 0750), 0);
	umask(old);
	assert_int_equal(mode_of(tpath(state, "p/q/state")), 0750);
	assert_int_equal(mode_of(tpath(state, "p")), 0700);
	assert_int_equal(mode_of(tpath(state, "p/q")), 0700);
	/* An existing directory is fixed up. */
	assert_int_equal(chmod(tpath(state, "p/q/state"), 0777), 0);
	assert_int_equal(fs_ensure_dir(tpath(state, "p/q/state"), 0700), 0);
	assert_int_equal(mode_of(tpath(state, "p/q/state")), 0700);
	/* Idempotent. */
	assert_int_equal(fs_ensure_dir(tpath(state, "p/q/state"), 0700), 0);
	/* Not a directory. */
	write_file(tpath(state, "f"), "x", 0600);
	assert_int_equal(fs_ensure_dir(tpath(state, "f"), 0700), -1);
	assert_int_equal(errno, ENOTDIR);
	assert_int_equal(mode_of(tpath(state, "f")), 0600);
}

static void test_exists_is_dir(void **state)
{
	write_file(tpath(state, "f"), "x", 0600);
	assert_true(fs_exists(tpath(state, "f")));
	assert_false(fs_is_dir(tpath(state, "f")));
	assert_true(fs_exists(tpath(state, "")));
	assert_true(fs_is_dir(tpath(state, "")));
	assert_false(fs_exists(tpath(state, "nope")));
	assert_false(fs_is_dir(tpath(state, "nope")));
	assert_false(fs_exists(tpath(state, "f/sub")));
}

/* ---- path helpers ---- */

static void check_str(char *got, const char *want)
{
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_dirname(void **state)
{
	static const char *const cases[][2] = {
		{ "a/b", "a" },  { "/a/b/c", "/a/b" }, { "/a", "/" },
		{ "a", "." },    { "", "." },          { "/", "/" },
		{ "a/b/", "a" }, { "a//b", "a" },      { "//a", "/" },
		{ "./x", "." },  { "../x", ".." },     { "~/.pincer/pincer.json", "~/.pincer" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_str(fs_dirname(cases[i][0]), cases[i][1]);
}

static void test_join(void **state)
{
	check_str(fs_join("a", "b"), "a/b");
	check_str(fs_join("a/", "b"), "a/b");
	check_str(fs_join("a//", "/b"), "a/b");
	check_str(fs_join("/", "b"), "/b");
	check_str(fs_join("/", "/b"), "/b");
	check_str(fs_join("", "b"), "b");
	check_str(fs_join("a", ""), "a");
	check_str(fs_join("/a/b", "c/d/"), "/a/b/c/d/");
}

static void test_resolve_relative(void **state)
{
	check_str(fs_resolve_relative("/etc/pincer/pincer.json", "extra.json5"),
		  "/etc/pincer/extra.json5");
	check_str(fs_resolve_relative("/etc/pincer/pincer.json", "/abs/x"), "/abs/x");
	check_str(fs_resolve_relative("pincer.json", "x.json"), "x.json");
	check_str(fs_resolve_relative("conf/pincer.json", "../x.json"), "conf/../x.json");
	check_str(fs_resolve_relative("/pincer.json", "x"), "/x");
}

static void test_expand_home(void **state)
{
	char *saved = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	char *got;

	setenv("HOME", "/home/u", 1);
	check_str(fs_expand_home("~/.pincer"), "/home/u/.pincer");
	check_str(fs_expand_home("~"), "/home/u");
	check_str(fs_expand_home("~/"), "/home/u");
	check_str(fs_expand_home("~user/x"), "~user/x");
	check_str(fs_expand_home("/abs/~/x"), "/abs/~/x");
	check_str(fs_expand_home("rel"), "rel");
	check_str(fs_expand_home(""), "");
	setenv("HOME", "/home/u/", 1);
	check_str(fs_expand_home("~/x"), "/home/u/x");

	/* Without $HOME, the password database still knows. */
	unsetenv("HOME");
	got = fs_expand_home("~/x");
	assert_non_null(got);
	assert_true(got[0] == '/' || strcmp(got, "~/x") == 0);
	free(got);

	if (saved) {
		setenv("HOME", saved, 1);
		free(saved);
	}
}

/* ---- locks ---- */

static void test_lock_contention(void **state)
{
	const char *p = tpath(state, "gateway.lock");
	int64_t t0;
	int a, b;

	a = fs_lock(p, 0);
	assert_true(a >= 0);
	assert_int_equal(mode_of(p), 0600);
	/* flock locks belong to the open file description: a second open contends. */
	errno = 0;
	assert_int_equal(fs_lock(p, 0), -1);
	assert_int_equal(errno, EWOULDBLOCK);

	t0 = time_mono_ms();
	assert_int_equal(fs_lock(p, 60), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	assert_true(time_mono_ms() - t0 >= 55);
	assert_true(time_mono_ms() - t0 < 2000);

	fs_unlock(a);
	b = fs_lock(p, 0);
	assert_true(b >= 0);
	fs_unlock(b);
	fs_unlock(-1); /* harmless */
	/* The lock file stays: unlinking it would let two holders coexist. */
	assert_true(fs_exists(p));
}

struct unlocker {
	int fd;
	int delay_ms;
};

static void *unlock_later(void *arg)
{
	struct unlocker *u = arg;
	struct timespec ts = { 0, (long)u->delay_ms * 1000000 };

	nanosleep(&ts, NULL);
	fs_unlock(u->fd);
	return NULL;
}

static void test_lock_waits(void **state)
{
	const char *p = tpath(state, "lock");
	struct unlocker u = { .delay_ms = 50 };
	pthread_t th;
	int64_t t0;
	int fd;

	u.fd = fs_lock(p, 0);
	assert_true(u.fd >= 0);
	assert_int_equal(pthread_create(&th, NULL, unlock_later, &u), 0);
	t0 = time_mono_ms();
	fd = fs_lock(p, 5000);
	assert_true(fd >= 0);
	assert_true(time_mono_ms() - t0 < 4000);
	pthread_join(th, NULL);
	fs_unlock(fd);
}

static void test_lock_errors(void **state)
{
	assert_int_equal(fs_lock(tpath(state, "missing/dir.lock"), 0), -1);
	assert_int_equal(errno, ENOENT);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tdir_setup, tdir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_read_file),
		T(test_read_file_cap),
		T(test_read_file_large),
		T(test_read_file_errors),
		T(test_write_atomic_create),
		T(test_write_atomic_replace),
		T(test_write_atomic_many),
		T(test_write_atomic_failure_cleans_up),
		T(test_mkdir_p),
		T(test_mkdir_p_errors),
		T(test_ensure_dir),
		T(test_exists_is_dir),
		T(test_dirname),
		T(test_join),
		T(test_resolve_relative),
		T(test_expand_home),
		T(test_lock_contention),
		T(test_lock_waits),
		T(test_lock_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
