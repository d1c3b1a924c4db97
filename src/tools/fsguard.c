/*
 * fsguard.c - path resolution and workspace confinement for the file
 * tools, and the threadpool jobs they run their file work in.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "core/jsonx.h"
#include "core/mem.h"
#include "tools/fsguard.h"
#include "tools/tool.h"

/* Longest path we resolve, and how many symlinks we follow (Linux's MAXSYMLINKS). */
#define FSGUARD_PATH_MAX  4096
#define FSGUARD_MAX_LINKS 40

/* ==== lexical helpers ==== */

char *fsguard_normalize(const char *abs)
{
	size_t n = strlen(abs);
	char *out = xmalloc(n + 2);
	size_t o = 0;
	const char *p = abs;

	out[o++] = '/';
	while (*p) {
		const char *s;
		size_t len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		s = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - s);
		if (len == 1 && s[0] == '.')
			continue;
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			/* Pop the last component; ".." of "/" is "/". */
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--;
			continue;
		}
		if (o > 1)
			out[o++] = '/';
		memcpy(out + o, s, len);
		o += len;
	}
	out[o] = '\0';
	return out;
}

/* Whether `path` is `root` or below it (both normalized, absolute). */
static bool fsguard_within(const char *root, const char *path)
{
	size_t n = strlen(root);

	if (n == 1 && root[0] == '/')
		return true;
	return !strncmp(root, path, n) && (path[n] == '\0' || path[n] == '/');
}

/* The workspace's real path (symlinks resolved), or its normalized text when it does not exist. */
static char *fsguard_workspace_real(const char *workspace)
{
	char *r = realpath(workspace, NULL);
	char *out;

	if (!r)
		return fsguard_normalize(workspace);
	out = xstrdup(r);
	free(r);
	return out;
}

char *fsguard_display(const char *workspace, const char *abs)
{
	char *lex = fsguard_normalize(workspace), *real = fsguard_workspace_real(workspace);
	const char *roots[2] = { real, lex };
	char *out = NULL;

	for (int i = 0; i < 2 && !out; i++) {
		size_t n = strlen(roots[i]);

		if (!strcmp(abs, roots[i]))
			out = xstrdup(".");
		else if (fsguard_within(roots[i], abs))
			out = xstrdup(abs + n + (n > 1));
	}
	free(lex);
	free(real);
	return out ? out : xstrdup(abs);
}

/* Home-relative, file-reference and workspace-relative forms to an absolute path; new string. */
static char *fsguard_absolute(const char *workspace, const char *in)
{
	const char *home = getenv("HOME");
	char *joined, *norm;

	/* "@path" is a file reference in OpenClaw's prompt syntax, not part of the name. */
	if (in[0] == '@' && in[1])
		in++;
	if (home && *home && (!strcmp(in, "~") || !strncmp(in, "~/", 2)))
		joined = xasprintf("%s/%s", home, in + 1);
	else if (in[0] == '/')
		joined = xstrdup(in);
	else
		joined = xasprintf("%s/%s", workspace, in);
	norm = fsguard_normalize(joined);
	free(joined);
	return norm;
}

/* ==== symlink walk ==== */

/*
 * Follow every symlink of `path` (absolute) by hand: lstat each component
 * of a symlink-free prefix; a link's target is spliced in front of what is
 * left, and ".." always pops the resolved prefix (which is what the kernel
 * does, since the prefix holds no links). Components that do not exist end
 * the disk walk; the rest is appended as written. New string, or NULL with
 * errno ELOOP / ENAMETOOLONG.
 */
static char *fsguard_walk(const char *path, bool nofollow_last)
{
	struct buf cur, rest;
	size_t pos = 0;
	int links = 0;
	bool missing = false;
	char *out = NULL;

	buf_init(&cur, FSGUARD_PATH_MAX);
	buf_init(&rest, FSGUARD_PATH_MAX * 2);
	if (buf_puts(&rest, path) < 0) {
		errno = ENAMETOOLONG;
		goto out;
	}
	for (;;) {
		const char *s;
		size_t len, save;
		struct stat st;
		bool last;

		while (rest.p[pos] == '/')
			pos++;
		if (!rest.p[pos])
			break;
		s = rest.p + pos;
		len = strcspn(s, "/");
		pos += len;
		last = rest.p[pos + strspn(rest.p + pos, "/")] == '\0';
		if (len == 1 && s[0] == '.')
			continue;
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			while (cur.len > 0 && cur.p[cur.len - 1] != '/')
				cur.len--;
			if (cur.len > 0)
				cur.len--;
			cur.p[cur.len] = '\0';
			continue;
		}
		save = cur.len;
		if (buf_putc(&cur, '/') < 0 || buf_append(&cur, s, len) < 0) {
			errno = ENAMETOOLONG;
			goto out;
		}
		if (missing || (last && nofollow_last))
			continue;
		if (lstat(cur.p, &st) < 0) {
			/* Nothing below a missing (or unreadable) component exists to follow. */
			missing = true;
			continue;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[FSGUARD_PATH_MAX];
			ssize_t tn = readlink(cur.p, target, sizeof(target) - 1);
			struct buf next;

			if (tn < 0) {
				missing = true;
				continue;
			}
			target[tn] = '\0';
			if (++links > FSGUARD_MAX_LINKS) {
				errno = ELOOP;
				goto out;
			}
			cur.len = save;
			cur.p[cur.len] = '\0';
			buf_init(&next, FSGUARD_PATH_MAX * 2);
			if (target[0] == '/') {
				/* An absolute target restarts from the root. */
				cur.len = 0;
				cur.p[0] = '\0';
			}
			if (buf_puts(&next, target) < 0 || buf_putc(&next, '/') < 0 ||
			    buf_puts(&next, rest.p + pos) < 0) {
				buf_release(&next);
				errno = ENAMETOOLONG;
				goto out;
			}
			buf_release(&rest);
			rest = next;
			pos = 0;
		}
	}
	out = cur.len ? buf_detach(&cur, NULL) : xstrdup("/");
out:
	buf_release(&cur);
	buf_release(&rest);
	return out;
}

int fsguard_resolve(const char *workspace, const char *in, bool confine, int flags, char **out,
		    char *err, size_t errlen)
{
	char *abs = NULL, *ws_lex = NULL, *ws_real = NULL, *res = NULL;
	int ret = -1;

	*out = NULL;
	if (!in || !*in) {
		snprintf(err, errlen, "path must be a non-empty string");
		return -1;
	}
	if (strlen(in) >= FSGUARD_PATH_MAX) {
		snprintf(err, errlen, "path is too long (%zu bytes)", strlen(in));
		return -1;
	}
	abs = fsguard_absolute(workspace, in);
	ws_lex = fsguard_normalize(workspace);
	ws_real = fsguard_workspace_real(workspace);
	/*
	 * The lexical check first, on the path as written: "../x" is refused
	 * whether or not it exists. Either spelling of the workspace counts
	 * (the model may have been shown its real path).
	 */
	if (confine && !fsguard_within(ws_lex, abs) && !fsguard_within(ws_real, abs)) {
		snprintf(err, errlen, "Path escapes sandbox root (%s): %s", ws_lex, in);
		goto out;
	}
	res = fsguard_walk(abs, flags & FSGUARD_NOFOLLOW_LAST);
	if (!res) {
		snprintf(err, errlen, "cannot resolve %s: %s", in, strerror(errno));
		goto out;
	}
	if (confine && !fsguard_within(ws_real, res)) {
		snprintf(err, errlen, "Symlink escapes sandbox root (%s): %s", ws_lex, in);
		goto out;
	}
	*out = res;
	res = NULL;
	ret = 0;
out:
	free(abs);
	free(ws_lex);
	free(ws_real);
	free(res);
	return ret;
}

/* ==== policy ==== */

bool fsguard_workspace_only(const struct config *cfg, const char *agent_id)
{
	json_t *list = config_get(cfg, "agents.list"), *a, *v;
	size_t i;

	json_array_foreach(list, i, a)
	{
		const char *id = json_string_value(json_object_get(a, "id"));

		if (!id || !agent_id || strcmp(id, agent_id))
			continue;
		v = jpath_get(a, "tools.fs.workspaceOnly");
		if (json_is_boolean(v))
			return json_is_true(v);
	}
	return json_is_true(config_get(cfg, "tools.fs.workspaceOnly"));
}

const char *fsguard_arg_str(const struct tool_call *call, const char *key, const char *alias)
{
	const char *s = json_string_value(json_object_get(call->args, key));

	if (!s && alias)
		s = json_string_value(json_object_get(call->args, alias));
	return s;
}

/* ==== jobs ==== */

struct fsjob *fsjob_new(struct tool_call *call, size_t size, void (*work)(struct fsjob *j))
{
	struct fsjob *j = xcalloc(1, size < sizeof(*j) ? sizeof(*j) : size);

	j->call = call;
	j->work = work;
	atomic_init(&j->cancelled, false);
	j->workspace = xstrdup(call->env.workspace ? call->env.workspace : ".");
	/* Answers are bounded by the tools themselves; this is the backstop. */
	buf_init(&j->text, 8 * 1024 * 1024);
	j->req.data = j;
	return j;
}

static void fsjob_vset(struct fsjob *j, const char *fmt, va_list ap) PRINTF_LIKE(2, 0);
static void fsjob_vset(struct fsjob *j, const char *fmt, va_list ap)
{
	buf_reset(&j->text);
	if (buf_vprintf(&j->text, fmt, ap) < 0)
		buf_puts(&j->text, "tool answer too large");
}

int fsjob_fail(struct fsjob *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fsjob_vset(j, fmt, ap);
	va_end(ap);
	j->is_error = true;
	return -1;
}

void fsjob_text(struct fsjob *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fsjob_vset(j, fmt, ap);
	va_end(ap);
	j->is_error = false;
}

static void fsjob_work(uv_work_t *req)
{
	struct fsjob *j = req->data;

	/* No work function: the answer was decided on the loop already. */
	if (!atomic_load(&j->cancelled) && j->work)
		j->work(j);
}

static void fsjob_after(uv_work_t *req, int status)
{
	struct fsjob *j = req->data;
	struct tool_call *call = j->call;
	json_t *content;

	call->cancel = NULL;
	call->data = NULL;
	if (status == UV_ECANCELED || atomic_load(&j->cancelled)) {
		tool_call_text(call, true, "Operation aborted");
	} else {
		json_t *t =
			json_pack("{s:s, s:s%}", "type", "text", "text", j->text.p, j->text.len);

		content = json_array();
		/* Every answer is checked UTF-8 by its tool; never send none at all. */
		if (!t)
			t = json_pack("{s:s, s:s}", "type", "text", "text",
				      "tool answer was not valid UTF-8");
		json_array_append_new(content, t);
		if (j->image_b64)
			json_array_append_new(content,
					      json_pack("{s:s, s:s, s:s}", "type", "image", "data",
							j->image_b64, "mimeType", j->image_mime));
		tool_call_done(call, content, j->is_error);
	}
	if (j->release)
		j->release(j);
	buf_release(&j->text);
	free(j->image_b64);
	free(j->image_mime);
	free(j->workspace);
	free(j);
}

static void fsjob_cancel(struct tool_call *call)
{
	struct fsjob *j = call->data;

	if (!j)
		return;
	atomic_store(&j->cancelled, true);
	/* Not started yet: drop it from the queue; after() still answers. */
	uv_cancel((uv_req_t *)&j->req);
}

void fsjob_start(struct fsjob *j)
{
	struct tool_call *call = j->call;

	call->data = j;
	call->cancel = fsjob_cancel;
	if (uv_queue_work(call->env.loop, &j->req, fsjob_work, fsjob_after) < 0)
		fsjob_after(&j->req, UV_ECANCELED);
}
