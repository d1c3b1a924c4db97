/*
 * fs.h - file helpers: bounded reads, crash-safe writes, directories, locks.
 *
 * Every state file pincer writes goes through fs_write_atomic: write a temp
 * file in the same directory, fsync it, rename it over the target, fsync the
 * directory. A kill -9 at any moment leaves either the old file or the new
 * one, never a torn one.
 *
 * All functions return 0 on success or -1 with errno set, and never print.
 */
#ifndef PINCER_CORE_FS_H
#define PINCER_CORE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/buf.h"

/*
 * Read the whole file into `out` (appending). Fails with E2BIG if the file
 * is larger than out->max allows, EISDIR for a directory.
 */
int fs_read_file(const char *path, struct buf *out);

/* Atomically replace `path` with `data`, creating it with `mode`. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/*
 * mkdir -p with `mode` for every directory it creates. Existing
 * directories are left alone (their mode is not changed).
 */
int fs_mkdir_p(const char *path, mode_t mode);

/* Ensure `path` is a directory with exactly `mode`, creating it (and parents, 0700). */
int fs_ensure_dir(const char *path, mode_t mode);

bool fs_exists(const char *path);
bool fs_is_dir(const char *path);

/* Directory part of `path` ("." when none), as a new string. */
char *fs_dirname(const char *path);
/* `rel` joined to `base`'s directory unless `rel` is absolute; new string. */
char *fs_resolve_relative(const char *base_file, const char *rel);
/* Join two path parts with one '/'; new string. */
char *fs_join(const char *a, const char *b);
/* Expand a leading "~/" (or "~") to $HOME; new string. */
char *fs_expand_home(const char *path);

/*
 * An advisory exclusive lock on `path` (created 0600 if missing), taken with
 * flock. fs_lock waits up to `timeout_ms` (0: try once) and fails with
 * EWOULDBLOCK when another process holds it. Returns the fd (>= 0) to pass
 * to fs_unlock, or -1.
 */
int fs_lock(const char *path, int timeout_ms);
void fs_unlock(int fd);

#endif
