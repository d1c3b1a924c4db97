/*
 * fsguard.h - what the file tools (read, write, edit, apply_patch) share:
 * turning a path the model wrote into one to open, confined to the
 * workspace when the policy says so, and running the file work off the
 * loop.
 *
 * Paths resolve as OpenClaw's file tools resolve them: "~" and "~/x" are
 * the home directory, a leading "@" (a file reference) is dropped, a
 * relative path is relative to the workspace. Every symlink on the way is
 * followed by hand, so the answer names the file that will really be
 * touched, even when its last components do not exist yet. Confined
 * (tools.fs.workspaceOnly; apply_patch's own switch) the answer must lie
 * inside the workspace's real path, judged both before symlinks
 * ("Path escapes sandbox root") and after ("Symlink escapes sandbox
 * root"), the wording OpenClaw's tools use.
 *
 *	struct fsjob *j = fsjob_new(call, sizeof(*j), work);  // on the loop
 *	j->... = inputs copied from call->args;
 *	fsjob_start(j);                       // work(j) runs on the threadpool
 *	// in work(): fsguard_resolve(...), read, write, fsjob_fail/fsjob_text
 */
#ifndef PINCER_TOOLS_FSGUARD_H
#define PINCER_TOOLS_FSGUARD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "core/buf.h"

struct config;
struct tool_call;

/* Resolve flags. */
enum {
	/* Leave a symlink in the last component alone (deleting the link). */
	FSGUARD_NOFOLLOW_LAST = 1 << 0,
};

/*
 * Resolve `in` against `workspace` (absolute). With `confine`, fail when
 * the result is outside the workspace. On success *out is the absolute,
 * normalized, symlink-free path (new string) and 0 is returned; on failure
 * -1 with a message in err that names `in` as the model wrote it.
 * Touches the disk (lstat, readlink, realpath): call it off the loop.
 */
int fsguard_resolve(const char *workspace, const char *in, bool confine, int flags, char **out,
		    char *err, size_t errlen);

/* Collapse "//", "." and ".." of an absolute path, purely lexically; new string. */
char *fsguard_normalize(const char *abs);

/*
 * How a resolved path is shown back to the model: relative to the
 * workspace when inside it, else absolute. New string.
 */
char *fsguard_display(const char *workspace, const char *abs);

/*
 * Whether file tools are confined for this agent: agents.list[<id>].tools.
 * fs.workspaceOnly, else tools.fs.workspaceOnly, default false. On the loop.
 */
bool fsguard_workspace_only(const struct config *cfg, const char *agent_id);

/* ==== jobs: a tool call's file work on the libuv threadpool ==== */

struct fsjob {
	struct tool_call *call;
	uv_work_t req;
	void (*work)(struct fsjob *j);    /* runs on a worker thread */
	void (*release)(struct fsjob *j); /* frees the tool's own fields; may be NULL */
	atomic_bool cancelled;            /* the run was aborted */
	char *workspace;                  /* copied from the call */
	/* The answer, built by work(): text, and optionally one image block. */
	struct buf text;
	bool is_error;
	char *image_b64;  /* base64 data of an image block, or NULL */
	char *image_mime; /* its mimeType */
};

/*
 * A job of `size` bytes (a struct that starts with struct fsjob) for
 * `call`, zeroed; the caller fills its inputs then calls fsjob_start.
 */
struct fsjob *fsjob_new(struct tool_call *call, size_t size, void (*work)(struct fsjob *j));

/*
 * Queue the job. The call is answered exactly once when work() is done
 * (or with "Operation aborted" when the run was aborted first), and the
 * job is freed.
 */
void fsjob_start(struct fsjob *j);

/* Set the answer's text (replacing any) and mark it an error. Return -1. */
int fsjob_fail(struct fsjob *j, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Set the answer's text (replacing any), not an error. */
void fsjob_text(struct fsjob *j, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* The string argument `key` (or its alias, may be NULL) of the call, or NULL. */
const char *fsguard_arg_str(const struct tool_call *call, const char *key, const char *alias);

#endif
