/*
 * testutil.h - helpers shared by the unit tests: private temp directories
 * and files in them. Header-only, since each test is its own binary.
 */
#ifndef PINCER_TESTS_TESTUTIL_H
#define PINCER_TESTS_TESTUTIL_H

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int tu_rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

/*
 * Make a fresh private directory /tmp/pincer-test-<tag>-XXXXXX and put its
 * real path (symlinks resolved, so it compares equal to paths the code
 * resolves) in `out`. Returns 0, or -1.
 */
static inline int tu_mkdtemp(char *out, size_t outlen, const char *tag)
{
	char tmpl[PATH_MAX], real[PATH_MAX];

	snprintf(tmpl, sizeof(tmpl), "/tmp/pincer-test-%s-XXXXXX", tag);
	if (!mkdtemp(tmpl) || !realpath(tmpl, real))
		return -1;
	snprintf(out, outlen, "%s", real);
	return 0;
}

/* rm -rf without a shell. */
static inline int tu_rm_rf(const char *path)
{
	return nftw(path, tu_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write `content` to dir/name with `mode`; returns the path (free it) or NULL. */
static inline char *tu_write_file(const char *dir, const char *name, const char *content,
				  mode_t mode)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	char *path = malloc(len);
	int fd;

	if (!path)
		return NULL;
	snprintf(path, len, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content) ||
	    fchmod(fd, mode) < 0) {
		if (fd >= 0)
			close(fd);
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

#endif
