/*
 * apply_patch.c - the `apply_patch` tool: OpenAI's "*** Begin Patch"
 * format over several files at once (add, update with @@ hunks, move,
 * delete); the format itself is patch.c.
 *
 * All or nothing: every hunk is applied in order to an in-memory view of
 * the files it touches (so a patch may add a file and then update it, or
 * delete one and add it again), and only when all of them succeeded are
 * the new files staged as temp files beside their targets, fsynced, and
 * renamed into place, deleted files removed last. A hunk that fails - its
 * context not found, a file to add already there, a path outside the
 * workspace - leaves every file as it was, and the error names the file.
 *
 * Paths are confined to the workspace unless both
 * tools.exec.applyPatch.workspaceOnly is false and tools.fs.workspaceOnly
 * is not true (OpenClaw's rule). tools.exec.applyPatch.enabled=false and
 * tools.exec.applyPatch.allowModels (a list of model ids) refuse the call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/internal.h"
#include "config/config.h"
#include "core/fs.h"
#include "core/id.h"
#include "core/mem.h"
#include "tools/fsguard.h"
#include "tools/patch.h"
#include "tools/tool.h"

/* A file the patch reads before changing it is loaded whole; this is the ceiling. */
#define AP_MAX_FILE (16 * 1024 * 1024)

/* One path the patch touches: what is on disk, and what the patch makes of it. */
struct ap_file {
	char *abs, *display;
	bool orig_exists, loaded;
	bool is_dir;
	struct buf orig;
	mode_t orig_mode;
	bool exists; /* after the hunks so far */
	char *cur;   /* its contents then (owned), when exists and changed */
	size_t cur_len;
	mode_t mode;
	char *tmp; /* staged temp file during commit */
};

struct ap_job {
	struct fsjob j;
	char *input;
	size_t input_len;
	bool confine;
	struct ap_file *files;
	size_t n_files, alloc;
};

static struct ap_file *ap_lookup(struct ap_job *a, const char *abs)
{
	struct ap_file *f;
	struct stat st;

	for (size_t i = 0; i < a->n_files; i++)
		if (!strcmp(a->files[i].abs, abs))
			return &a->files[i];
	a->files = xgrow(a->files, &a->alloc, a->n_files + 1, sizeof(*a->files));
	f = &a->files[a->n_files++];
	memset(f, 0, sizeof(*f));
	f->abs = xstrdup(abs);
	f->display = fsguard_display(a->j.workspace, abs);
	buf_init(&f->orig, AP_MAX_FILE);
	f->mode = 0644;
	if (lstat(abs, &st) == 0) {
		f->is_dir = S_ISDIR(st.st_mode);
		f->orig_exists = !f->is_dir;
		f->orig_mode = f->mode = st.st_mode & 07777;
	}
	f->exists = f->orig_exists;
	return f;
}

/* The file's current contents (loading them from disk first); NULL with the answer set. */
static const char *ap_contents(struct ap_job *a, struct ap_file *f, size_t *len)
{
	if (f->cur) {
		*len = f->cur_len;
		return f->cur;
	}
	if (!f->loaded) {
		if (fs_read_file(f->abs, &f->orig) < 0) {
			fsjob_fail(&a->j, "Failed to read file to update %s: %s", f->display,
				   errno == E2BIG ? "file is larger than 16 MB" : strerror(errno));
			return NULL;
		}
		f->loaded = true;
	}
	*len = f->orig.len;
	return f->orig.p;
}

static void ap_set(struct ap_file *f, const char *data, size_t len)
{
	free(f->cur);
	f->cur = xmalloc(len + 1);
	memcpy(f->cur, data, len);
	f->cur[len] = '\0';
	f->cur_len = len;
	f->exists = true;
}

/* Summary lines in OpenClaw's order (added, modified, deleted), each path once. */
struct ap_summary {
	struct buf added, modified, deleted, noop;
};

static void summary_add(struct buf *b, const char *tag, const char *path)
{
	char *line = xasprintf("%s %s\n", tag, path);

	if (!strstr(b->p, line))
		buf_puts(b, line);
	free(line);
}

static bool ap_is_text(const struct buf *b)
{
	/* OpenClaw refuses to patch what does not decode as UTF-8. */
	json_t *s = json_stringn(b->p, b->len);
	bool ok = s != NULL;

	json_decref(s);
	return ok;
}

/* Stage every changed file next to its target; -1 (answer set) when any fails. */
static int ap_stage(struct ap_job *a)
{
	for (size_t i = 0; i < a->n_files; i++) {
		struct ap_file *f = &a->files[i];
		char *dir, rnd[17];
		int fd;

		if (!f->exists || !f->cur)
			continue;
		if (f->orig_exists && f->loaded && f->orig.len == f->cur_len &&
		    !memcmp(f->orig.p, f->cur, f->cur_len) && f->mode == f->orig_mode)
			continue;
		dir = fs_dirname(f->abs);
		if (fs_mkdir_p(dir, 0755) < 0) {
			fsjob_fail(&a->j, "Cannot create directory for %s: %s; no file was changed",
				   f->display, strerror(errno));
			free(dir);
			return -1;
		}
		free(dir);
		id_hex(rnd, 8);
		f->tmp = xasprintf("%s.pincer-patch.%s", f->abs, rnd);
		fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			fsjob_fail(&a->j, "Cannot write %s: %s; no file was changed", f->display,
				   strerror(errno));
			free(f->tmp);
			f->tmp = NULL;
			return -1;
		}
		{
			size_t off = 0;
			int bad = 0;

			while (off < f->cur_len && !bad) {
				ssize_t k = write(fd, f->cur + off, f->cur_len - off);

				if (k < 0 && errno == EINTR)
					continue;
				if (k <= 0)
					bad = 1;
				else
					off += (size_t)k;
			}
			if (bad || fchmod(fd, f->mode) < 0 || fsync(fd) < 0) {
				fsjob_fail(&a->j, "Cannot write %s: %s; no file was changed",
					   f->display, strerror(errno));
				close(fd);
				return -1;
			}
		}
		if (close(fd) < 0) {
			fsjob_fail(&a->j, "Cannot write %s: %s; no file was changed", f->display,
				   strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void ap_unstage(struct ap_job *a)
{
	for (size_t i = 0; i < a->n_files; i++)
		if (a->files[i].tmp) {
			unlink(a->files[i].tmp);
			free(a->files[i].tmp);
			a->files[i].tmp = NULL;
		}
}

/* Rename staged files into place, then remove deleted ones; -1 (answer set) on an I/O error. */
static int ap_commit(struct ap_job *a)
{
	for (size_t i = 0; i < a->n_files; i++) {
		struct ap_file *f = &a->files[i];

		if (!f->tmp)
			continue;
		if (rename(f->tmp, f->abs) < 0)
			return fsjob_fail(&a->j, "Cannot replace %s: %s", f->display,
					  strerror(errno));
		free(f->tmp);
		f->tmp = NULL;
	}
	for (size_t i = 0; i < a->n_files; i++) {
		struct ap_file *f = &a->files[i];

		if (f->orig_exists && !f->exists && unlink(f->abs) < 0 && errno != ENOENT)
			return fsjob_fail(&a->j, "Cannot delete %s: %s", f->display,
					  strerror(errno));
	}
	for (size_t i = 0; i < a->n_files; i++) {
		char *dir = fs_dirname(a->files[i].abs);
		int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		/* The renames must survive a crash too. */
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
		free(dir);
	}
	return 0;
}

static int ap_resolve(struct ap_job *a, const char *path, int flags, struct ap_file **out)
{
	char err[512], *abs;

	if (fsguard_resolve(a->j.workspace, path, a->confine, flags, &abs, err, sizeof(err)) < 0)
		return fsjob_fail(&a->j, "%s", err);
	*out = ap_lookup(a, abs);
	free(abs);
	return 0;
}

static void ap_work(struct fsjob *j)
{
	struct ap_job *a = (struct ap_job *)j;
	struct patch p;
	struct ap_summary s;
	char err[8192];

	buf_init(&s.added, BUF_UNLIMITED);
	buf_init(&s.modified, BUF_UNLIMITED);
	buf_init(&s.deleted, BUF_UNLIMITED);
	buf_init(&s.noop, BUF_UNLIMITED);
	if (patch_parse(a->input, a->input_len, &p, err, sizeof(err)) < 0) {
		fsjob_fail(j, "%s", err);
		goto out_summary;
	}
	if (!p.n_hunks) {
		fsjob_fail(j, "No files were modified.");
		goto out;
	}
	for (size_t i = 0; i < p.n_hunks; i++) {
		struct patch_hunk *h = &p.hunks[i];
		struct ap_file *f, *m = NULL;
		const char *src;
		size_t len, outlen;
		char *res;

		if (atomic_load(&j->cancelled))
			goto out;
		if (ap_resolve(a, h->path, h->kind == PATCH_DELETE ? FSGUARD_NOFOLLOW_LAST : 0,
			       &f) < 0)
			goto out;
		if (f->is_dir) {
			fsjob_fail(j, "Cannot %s %s: it is a directory",
				   h->kind == PATCH_ADD      ? "create"
				   : h->kind == PATCH_DELETE ? "delete"
							     : "update",
				   f->display);
			goto out;
		}
		switch (h->kind) {
		case PATCH_ADD:
			if (f->exists) {
				fsjob_fail(
					j,
					"Cannot create %s: the file already exists. Use \"*** "
					"Update "
					"File: %s\" to change it, or delete it earlier in the same "
					"patch.",
					f->display, f->display);
				goto out;
			}
			ap_set(f, h->contents, h->contents_len);
			f->mode = 0644;
			summary_add(&s.added, "A", f->display);
			break;
		case PATCH_DELETE:
			if (!f->exists) {
				fsjob_fail(j, "Cannot delete %s: No such file or directory",
					   f->display);
				goto out;
			}
			f->exists = false;
			summary_add(&s.deleted, "D", f->display);
			break;
		case PATCH_UPDATE:
			if (!f->exists) {
				fsjob_fail(
					j,
					"Failed to read file to update %s: ENOENT: no such file or "
					"directory",
					f->display);
				goto out;
			}
			if (!(src = ap_contents(a, f, &len)))
				goto out;
			if (!f->cur && !ap_is_text(&f->orig)) {
				fsjob_fail(
					j,
					"File %s is not valid UTF-8 and cannot be edited safely.",
					f->display);
				goto out;
			}
			res = patch_apply_update(src, len, h, f->display, &outlen, err,
						 sizeof(err));
			if (!res) {
				fsjob_fail(j, "%s", err);
				goto out;
			}
			if (h->move_path) {
				if (ap_resolve(a, h->move_path, 0, &m) < 0) {
					free(res);
					goto out;
				}
				if (m != f && (m->exists || m->is_dir)) {
					fsjob_fail(j,
						   "Cannot create %s: the file already exists. "
						   "Delete it "
						   "earlier in the same patch to replace it.",
						   m->display);
					free(res);
					goto out;
				}
			}
			if (m && m != f) {
				mode_t mode = f->mode;

				ap_set(m, res, outlen);
				m->mode = mode;
				f->exists = false;
				free(f->cur);
				f->cur = NULL;
				summary_add(&s.modified, "M", m->display);
			} else if (outlen == len && !memcmp(res, src, len)) {
				summary_add(&s.noop, "", f->display);
			} else {
				ap_set(f, res, outlen);
				summary_add(&s.modified, "M", f->display);
			}
			free(res);
			break;
		}
	}
	/* Everything applied in memory: now make it so on disk. */
	if (ap_stage(a) < 0) {
		ap_unstage(a);
		goto out;
	}
	if (ap_commit(a) < 0) {
		ap_unstage(a);
		goto out;
	}
	if (!s.added.len && !s.modified.len && !s.deleted.len && s.noop.len) {
		/* "  a\n  b\n" (tag "") to "a, b". */
		struct buf names;
		char *save, *tok;

		buf_init(&names, BUF_UNLIMITED);
		for (tok = strtok_r(s.noop.p, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save))
			buf_printf(&names, "%s%s", names.len ? ", " : "", tok + 1);
		fsjob_text(j, "No changes made to %s.", names.p);
		buf_release(&names);
	} else {
		if (s.deleted.len)
			buf_truncate(&s.deleted, s.deleted.len - 1);
		else if (s.modified.len)
			buf_truncate(&s.modified, s.modified.len - 1);
		else if (s.added.len)
			buf_truncate(&s.added, s.added.len - 1);
		fsjob_text(j, "Success. Updated the following files:\n%s%s%s", s.added.p,
			   s.modified.p, s.deleted.p);
	}
out:
	patch_free(&p);
out_summary:
	buf_release(&s.added);
	buf_release(&s.modified);
	buf_release(&s.deleted);
	buf_release(&s.noop);
}

static void ap_release(struct fsjob *j)
{
	struct ap_job *a = (struct ap_job *)j;

	for (size_t i = 0; i < a->n_files; i++) {
		struct ap_file *f = &a->files[i];

		free(f->abs);
		free(f->display);
		buf_release(&f->orig);
		free(f->cur);
		free(f->tmp);
	}
	free(a->files);
	free(a->input);
}

/* tools.exec.applyPatch.allowModels: empty allows all; else "id" or "provider/id". */
static bool ap_model_allowed(const struct tool_call *call)
{
	json_t *allow = config_get(call->env.cfg, "tools.exec.applyPatch.allowModels"), *v;
	const struct agent_run *run = call->env.run;
	size_t i;

	if (!json_array_size(allow) || !run)
		return true;
	json_array_foreach(allow, i, v)
	{
		const char *m = json_string_value(v);
		char *full;
		bool ok;

		if (!m || !run->model.id)
			continue;
		full = xasprintf("%s/%s", run->model.provider ? run->model.provider : "",
				 run->model.id);
		ok = !strcasecmp(m, run->model.id) || !strcasecmp(m, full);
		free(full);
		if (ok)
			return true;
	}
	return false;
}

static void t_apply_patch(struct tool_call *call)
{
	json_t *input = json_object_get(call->args, "input");
	const char *s = json_string_value(input);
	struct ap_job *a;
	size_t i;

	if (json_is_false(config_get(call->env.cfg, "tools.exec.applyPatch.enabled"))) {
		tool_call_text(call, true,
			       "apply_patch is disabled (tools.exec.applyPatch.enabled is false)");
		return;
	}
	if (!ap_model_allowed(call)) {
		tool_call_text(call, true,
			       "apply_patch is not allowed for this model "
			       "(tools.exec.applyPatch.allowModels)");
		return;
	}
	for (i = 0; s && s[i] && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r'); i++)
		;
	if (!s || !s[i]) {
		tool_call_text(call, true, "Provide a patch input.");
		return;
	}
	a = (struct ap_job *)fsjob_new(call, sizeof(*a), ap_work);
	a->j.release = ap_release;
	a->input_len = json_string_length(input);
	a->input = xmalloc(a->input_len + 1);
	memcpy(a->input, s, a->input_len + 1);
	/* Contained unless both switches are off (OpenClaw: either one imposes it). */
	a->confine =
		fsguard_workspace_only(call->env.cfg, call->env.agent_id) ||
		!json_is_false(config_get(call->env.cfg, "tools.exec.applyPatch.workspaceOnly"));
	fsjob_start(&a->j);
}

const struct tool_def tool_apply_patch = {
	.name = "apply_patch",
	.group = "fs",
	.description = "Patch one/many files. Input requires *** Begin Patch and *** End Patch.",
	.parameters = "{\"type\":\"object\",\"required\":[\"input\"],\"properties\":{\"input\":{"
		      "\"type\":\"string\",\"description\":\"Patch content using the *** Begin "
		      "Patch/End Patch format.\"}}}",
	.invoke = t_apply_patch,
};
