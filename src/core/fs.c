/*
 * fs.c - file helpers: bounded reads, crash-safe writes, directories, locks;
 * see fs.h.
 */
#include "core/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/timeutil.h"

#define FS_READ_CHUNK   (16 * 1024)
#define FS_LOCK_POLL_MS 10
#define FS_TMP_ATTEMPTS 16

int fs_read_file(const char *path, struct buf *out)
{
	size_t orig = out->len;
	char chunk[FS_READ_CHUNK];
	struct stat st;
	int fd, err = 0, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		err = errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		err = EISDIR;
		goto out;
	}
	/* Refuse a file known to be too big before reading any of it. */
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > out->max - out->len) {
		err = E2BIG;
		goto out;
	}
	/*
	 * Read to EOF rather than trusting st_size: the file may grow while
	 * we read, and /proc files report 0. buf_append enforces the cap.
	 */
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			goto out;
		}
		if (n == 0)
			break;
		if (buf_append(out, chunk, (size_t)n) < 0) {
			err = E2BIG;
			goto out;
		}
	}
	ret = 0;
out:
	if (ret < 0)
		buf_truncate(out, orig);
	close(fd);
	if (ret < 0)
		errno = err;
	return ret;
}

/* Uniqueness, not secrecy: O_EXCL catches a collision, so a weak fallback is fine. */
static unsigned int fs_tmp_rand(void)
{
	static unsigned int counter;
	unsigned int r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned int)time_mono_ns() ^
		    (__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) * 2654435761u);
	return r;
}

static int fs_write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			/* Cannot happen for a regular file; do not spin if it does. */
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Make a rename in `path`'s directory durable. A directory we may not open
 * (EACCES) or a filesystem that cannot fsync one (EINVAL) leaves nothing
 * more to do, so neither is an error.
 */
static int fs_sync_dir(const char *path)
{
	char *dir = fs_dirname(path);
	int fd, err = 0, ret = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != EACCES) {
			err = errno;
			ret = -1;
		}
		goto out;
	}
	if (fsync(fd) < 0 && errno != EINVAL) {
		err = errno;
		ret = -1;
	}
	close(fd);
out:
	free(dir);
	if (ret < 0)
		errno = err;
	return ret;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char *tmp = NULL;
	bool created = false, renamed = false;
	int fd = -1, err, ret = -1;

	for (int tries = 0; tries < FS_TMP_ATTEMPTS; tries++) {
		free(tmp);
		tmp = xasprintf("%s.tmp.%ld.%08x", path, (long)getpid(), fs_tmp_rand());
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		goto out;
	created = true;
	/*
	 * The caller names the exact mode (0600 for anything holding a
	 * secret); do not let the umask decide it.
	 */
	if (fchmod(fd, mode) < 0)
		goto out;
	if (fs_write_all(fd, data, len) < 0)
		goto out;
	/* The data must be on disk before the rename makes it visible. */
	if (fsync(fd) < 0)
		goto out;
	err = close(fd);
	fd = -1;
	if (err < 0)
		goto out;
	if (rename(tmp, path) < 0)
		goto out;
	renamed = true;
	/*
	 * The new content is in place; a failure here means it may not
	 * survive a crash, which the caller should still hear about.
	 */
	if (fs_sync_dir(path) < 0)
		goto out;
	ret = 0;
out:
	err = errno;
	if (fd >= 0)
		close(fd);
	if (created && !renamed)
		unlink(tmp);
	free(tmp);
	errno = err;
	return ret;
}

/* Create one directory; an existing directory is success. */
static int fs_mkdir_one(const char *dir, mode_t mode)
{
	struct stat st;
	int err;

	if (mkdir(dir, mode) == 0)
		return 0;
	err = errno;
	/*
	 * EEXIST, but also EACCES or EROFS for an existing ancestor such as
	 * /home: all fine as long as a directory is there.
	 */
	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		errno = ENOTDIR;
		return -1;
	}
	errno = err;
	return -1;
}

int fs_mkdir_p(const char *path, mode_t mode)
{
	char *p;
	size_t len;
	int err = 0, ret = -1;

	if (!*path) {
		errno = ENOENT;
		return -1;
	}
	p = xstrdup(path);
	len = strlen(p);
	/* Each prefix ending before a '/', then the whole path; "//" and a trailing '/' add nothing. */
	for (size_t i = 1; i <= len; i++) {
		char c = p[i];

		if ((c != '/' && c != '\0') || p[i - 1] == '/')
			continue;
		p[i] = '\0';
		if (fs_mkdir_one(p, mode) < 0) {
			err = errno;
			goto out;
		}
		p[i] = c;
	}
	ret = 0;
out:
	free(p);
	if (ret < 0)
		errno = err;
	return ret;
}

int fs_ensure_dir(const char *path, mode_t mode)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		char *parent;
		int r;

		if (errno != ENOENT)
			return -1;
		parent = fs_dirname(path);
		r = fs_mkdir_p(parent, 0700);
		free(parent);
		if (r < 0)
			return -1;
		if (mkdir(path, mode) < 0 && errno != EEXIST)
			return -1;
		if (stat(path, &st) < 0)
			return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	/*
	 * mkdir's mode went through the umask, and an existing directory may
	 * have been loosened by hand: both end at exactly `mode`.
	 */
	if ((st.st_mode & 07777) != (mode & 07777) && chmod(path, mode & 07777) < 0)
		return -1;
	return 0;
}

bool fs_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

bool fs_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *fs_dirname(const char *path)
{
	size_t n = strlen(path);

	/* Trailing slashes do not name a component: "a/b/" lives in "a". */
	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 0 && path[n - 1] != '/')
		n--;
	if (n == 0)
		return xstrdup(".");
	while (n > 1 && path[n - 1] == '/')
		n--;
	return xstrndup(path, n);
}

char *fs_resolve_relative(const char *base_file, const char *rel)
{
	char *dir, *res;

	if (rel[0] == '/')
		return xstrdup(rel);
	dir = fs_dirname(base_file);
	/* Keep "x" rather than "./x" for a base file in the current directory. */
	if (strcmp(dir, ".") == 0)
		res = xstrdup(rel);
	else
		res = fs_join(dir, rel);
	free(dir);
	return res;
}

char *fs_join(const char *a, const char *b)
{
	size_t alen = strlen(a), blen;
	bool sep;
	char *res;

	if (!alen)
		return xstrdup(b);
	while (alen > 1 && a[alen - 1] == '/')
		alen--;
	while (*b == '/')
		b++;
	blen = strlen(b);
	if (!blen)
		return xstrndup(a, alen);
	sep = a[alen - 1] != '/'; /* only "/" itself still ends in one */
	res = xmalloc(alen + sep + blen + 1);
	memcpy(res, a, alen);
	if (sep)
		res[alen] = '/';
	memcpy(res + alen + sep, b, blen + 1);
	return res;
}

/* $HOME, or the password database when it is unset (daemons, sudo -H); NULL if neither. */
static char *fs_home(void)
{
	const char *home = getenv("HOME");
	struct passwd pw, *res = NULL;
	size_t len = 16384;
	char *tmp, *dir = NULL;

	if (home && *home)
		return xstrdup(home);
	tmp = xmalloc(len);
	if (getpwuid_r(getuid(), &pw, tmp, len, &res) == 0 && res && res->pw_dir && *res->pw_dir)
		dir = xstrdup(res->pw_dir);
	free(tmp);
	return dir;
}

char *fs_expand_home(const char *path)
{
	char *home, *res;

	/* "~user" is not ours to expand; the shell already had its chance. */
	if (path[0] != '~' || (path[1] != '\0' && path[1] != '/'))
		return xstrdup(path);
	home = fs_home();
	if (!home)
		return xstrdup(path);
	res = fs_join(home, path + 1);
	free(home);
	return res;
}

/*
 * A negative timeout waits for as long as it takes. The lock file is never
 * unlinked: removing it would let two processes lock two different inodes
 * under the same name.
 */
int fs_lock(const char *path, int timeout_ms)
{
	int64_t deadline = time_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int fd, err;

	/* flock needs no write access, so a read-only lock file still works. */
	fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	for (;;) {
		struct timespec ts;
		int64_t left;

		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			break;
		left = deadline - time_mono_ms();
		if (timeout_ms >= 0 && left <= 0)
			break;
		/* Polling, not a blocking flock, so the timeout needs no signals. */
		if (timeout_ms < 0 || left > FS_LOCK_POLL_MS)
			left = FS_LOCK_POLL_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000;
		nanosleep(&ts, NULL);
	}
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

void fs_unlock(int fd)
{
	int err = errno;

	if (fd < 0)
		return;
	flock(fd, LOCK_UN);
	close(fd);
	errno = err;
}
