/*
 * write.c - the `write` tool: create or replace a file with the given
 * content, parent directories created, as OpenClaw's write tool does.
 *
 * The file is replaced atomically (temp file, fsync, rename), so a reader
 * never sees half of it; an existing file keeps its mode. Writing the
 * content a file already has is reported and changes nothing.
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

/* Files up to this size are compared with the new content before writing. */
#define WRITE_PRECHECK_MAX (1024 * 1024)

struct write_job {
	struct fsjob j;
	char *path;
	char *content;
	size_t len;
	bool confine;
};

static void write_work(struct fsjob *j)
{
	struct write_job *w = (struct write_job *)j;
	char err[512], *abs = NULL, *dir = NULL;
	mode_t mode = 0644;
	struct stat st;

	if (fsguard_resolve(j->workspace, w->path, w->confine, 0, &abs, err, sizeof(err)) < 0) {
		fsjob_fail(j, "%s", err);
		return;
	}
	if (stat(abs, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			fsjob_fail(j, "Cannot write %s: it is a directory", w->path);
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			fsjob_fail(j, "Cannot write %s: not a regular file", w->path);
			goto out;
		}
		mode = st.st_mode & 07777;
		if ((size_t)st.st_size == w->len && st.st_size <= WRITE_PRECHECK_MAX) {
			struct buf old;

			buf_init(&old, WRITE_PRECHECK_MAX);
			if (fs_read_file(abs, &old) == 0 && old.len == w->len &&
			    !memcmp(old.p, w->content, w->len)) {
				buf_release(&old);
				fsjob_text(j,
					   "No changes made to %s. The file already has identical "
					   "content.",
					   w->path);
				goto out;
			}
			buf_release(&old);
		}
	}
	dir = fs_dirname(abs);
	if (fs_mkdir_p(dir, 0755) < 0) {
		fsjob_fail(j, "Cannot create directory for %s: %s", w->path, strerror(errno));
		goto out;
	}
	if (fs_write_atomic(abs, w->content, w->len, mode) < 0) {
		fsjob_fail(j, "Cannot write %s: %s", w->path, strerror(errno));
		goto out;
	}
	fsjob_text(j, "Successfully wrote %zu bytes to %s", w->len, w->path);
out:
	free(dir);
	free(abs);
}

static void write_release(struct fsjob *j)
{
	struct write_job *w = (struct write_job *)j;

	free(w->path);
	free(w->content);
}

static void t_write(struct tool_call *call)
{
	const char *path = fsguard_arg_str(call, "path", "file_path");
	json_t *content = json_object_get(call->args, "content");
	struct write_job *w;

	if (!path || !*path) {
		tool_call_text(call, true, "Missing required parameter: path");
		return;
	}
	if (!json_is_string(content)) {
		tool_call_text(call, true, "Missing required parameter: content");
		return;
	}
	w = (struct write_job *)fsjob_new(call, sizeof(*w), write_work);
	w->j.release = write_release;
	w->path = xstrdup(path);
	w->len = json_string_length(content);
	w->content = xmalloc(w->len + 1);
	memcpy(w->content, json_string_value(content), w->len + 1);
	w->confine = fsguard_workspace_only(call->env.cfg, call->env.agent_id);
	fsjob_start(&w->j);
}

static char *write_title(const json_t *args)
{
	const char *p = json_string_value(json_object_get(args, "path"));

	return p ? xasprintf("Write %s", p) : NULL;
}

const struct tool_def tool_write = {
	.name = "write",
	.group = "fs",
	.description = "Write/overwrite file; creates parent directories.",
	.parameters = "{\"type\":\"object\",\"required\":[\"path\",\"content\"],\"properties\":{"
		      "\"path\":{\"type\":\"string\",\"description\":\"File path; "
		      "relative/absolute.\"},"
		      "\"content\":{\"type\":\"string\",\"description\":\"File content.\"}}}",
	.invoke = t_write,
	.title = write_title,
};
