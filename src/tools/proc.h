/*
 * proc.h - the child processes behind the exec and process tools: spawn a
 * shell command in its own session (process group), capture its output
 * with a hard cap, kill the whole group on timeout or request, and keep
 * backgrounded runs in an in-memory registry the `process` tool reads.
 *
 * A child runs `/bin/sh -c <command>` after setsid(), so it and everything
 * it starts share one process group whose id is the child's pid; killing
 * sends SIGTERM to the group, then SIGKILL after PROC_KILL_GRACE_MS. When
 * the shell itself exits, whatever it left behind in the group is killed
 * the same way (as OpenClaw's supervisor does): a command's trailing `&`
 * does not outlive it. Only exec's background mode keeps a run alive past
 * the tool call.
 *
 * Output (stdout and stderr merged in order, or the pty) is kept as a head
 * and a tail of at most `max_output` bytes together; what falls between
 * is counted and elided with a marker.
 *
 * Lifecycle: proc_spawn() registers the run; the owner's on_exit hook runs
 * once when the child has exited and its output is drained. A run that was
 * backgrounded (proc_background) stays in the registry after it ends, for
 * tools.exec.cleanupMs, or until `process clear/remove`; any other run is
 * freed right after on_exit. Everything runs on the loop thread.
 */
#ifndef PINCER_TOOLS_PROC_H
#define PINCER_TOOLS_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "core/buf.h"

#define PROC_KILL_GRACE_MS       1000
#define PROC_MAX_RUNNING         64         /* concurrent children, all agents */
#define PROC_MAX_FINISHED        50         /* retained finished background runs (OpenClaw's) */
#define PROC_DEFAULT_MAX_OUTPUT  200000     /* retained bytes per run (OpenClaw's 200k chars) */
#define PROC_DEFAULT_PENDING_MAX 30000      /* bytes one poll/result hands the model */
#define PROC_WRITE_MAX           (1u << 20) /* queued stdin bytes per run */
#define PROC_DEFAULT_CLEANUP_MS  1800000    /* OpenClaw's job TTL: 30 min */

/* Why a run ended. */
enum proc_reason {
	PROC_RUNNING = 0,
	PROC_EXIT,      /* exited on its own (any code) */
	PROC_SIGNAL,    /* killed by a signal nobody here sent */
	PROC_TIMEOUT,   /* its timeout passed; we killed the group */
	PROC_CANCELLED, /* `process kill/remove` */
	PROC_ABORTED,   /* the run that started it was aborted */
	PROC_SHUTDOWN,  /* the daemon is going away */
};

/* Head + tail capture. `total` counts every byte ever appended. */
struct proc_out {
	char *head;
	size_t head_len, head_cap;
	char *tail; /* ring */
	size_t tail_len, tail_cap, tail_start;
	uint64_t total;
};

struct proc;

struct proc_spec {
	const char *command;
	const char *cwd;    /* absolute */
	char *const *envp;  /* full environment (copied) */
	bool pty;           /* a pseudo-terminal as stdin/stdout/stderr and controlling tty */
	bool stdin_pipe;    /* writable stdin (process write); else /dev/null */
	int64_t timeout_ms; /* 0: none */
	size_t max_output;  /* 0: PROC_DEFAULT_MAX_OUTPUT */
	size_t pending_max; /* bytes one result/poll hands the model; 0: PROC_DEFAULT_PENDING_MAX */
	int64_t cleanup_ms; /* finished background runs kept this long; 0: the default */
	const char *agent_id;
	const char *session_key; /* where completion is announced; may be NULL */
	/* The child has exited and its output is drained. Once. */
	void (*on_exit)(struct proc *p, void *arg);
	void *arg;
};

struct proc {
	char id[48]; /* the sessionId the model sees ("warm-river") */
	char *agent_id, *session_key, *command, *cwd;
	pid_t pid; /* also the process group id */
	bool pty;
	int64_t started_at, ended_at; /* wall clock ms */
	int64_t last_output_at;
	int64_t timeout_ms;
	int64_t cleanup_ms;
	enum proc_reason reason; /* PROC_RUNNING while alive */
	int exit_code;           /* -1 when killed by a signal */
	int exit_signal;         /* 0 unless killed by a signal */
	bool backgrounded;       /* reachable through `process` */
	bool notify_on_exit;     /* announce the end to session_key */
	bool terminal_seen;      /* a poll saw the end: no announcement needed */
	bool stdin_open;
	bool app_cursor; /* the program asked for application cursor keys (DECCKM, ESC[?1h) */
	struct proc_out out;
	uint64_t poll_pos;  /* output offset the last poll delivered up to */
	size_t pending_max; /* bytes one poll delivers */
	int64_t expires_at; /* finished background runs: dropped after this */
	void (*on_exit)(struct proc *p, void *arg);
	void *arg;
	struct proc_priv *priv; /* handles, owned by proc.c */
	struct proc *next;
};

/*
 * Start `spec`. Returns the run (registered, running) or NULL with `err`
 * (too many children, no pty, fork failure, cannot chdir/exec).
 */
struct proc *proc_spawn(uv_loop_t *loop, const struct proc_spec *spec, char *err, size_t errlen);

/*
 * Keep the run reachable through `process` past its exec call. Its handles
 * stop holding the loop open: a stopping daemon does not wait for it, and
 * proc_kill_all (atexit) kills its group.
 */
void proc_background(struct proc *p);

/*
 * Kill the whole group (SIGTERM, SIGKILL after the grace) and record
 * `reason`. No-op once the run ended. on_exit still follows.
 */
void proc_kill(struct proc *p, enum proc_reason reason);

/* Forget the owner hook (the exec call went away); the run goes on. */
void proc_detach(struct proc *p);

/* Queue bytes for the child's stdin; `eof` closes it after. 0, or -1 with err. */
int proc_write(struct proc *p, const void *data, size_t len, bool eof, char *err, size_t errlen);

/* A run of `agent_id` by id (running or finished), or NULL. */
struct proc *proc_find(const char *agent_id, const char *id);
/* Every registered run of `agent_id`, newest first, into `out` (up to `max`). Count. */
size_t proc_list(const char *agent_id, struct proc **out, size_t max);
/* Drop a run from the registry (finished: freed now; running: hidden, killed, freed when it ends). */
void proc_remove(struct proc *p);

/* Kill every group at once with SIGKILL (daemon exit). Registered with atexit. */
void proc_kill_all(void);

/* ==== output ==== */

void proc_out_init(struct proc_out *o, size_t max);
void proc_out_release(struct proc_out *o);
void proc_out_append(struct proc_out *o, const void *data, size_t len);
/*
 * The retained bytes from absolute offset `from` on into `b`, with a
 * marker where bytes were elided. Returns the number of bytes that were
 * not retained (0: complete).
 */
uint64_t proc_out_since(const struct proc_out *o, uint64_t from, struct buf *b);

/*
 * Model-safe text of `data`: valid UTF-8 (bad bytes become U+FFFD), CRLF
 * as LF, NUL dropped; longer than `max` bytes keeps head and tail with an
 * elision marker. New string.
 */
char *proc_text(const char *data, size_t len, size_t max);

/* "code 3", "signal SIGKILL" (OpenClaw's exit label). Static buffer per call site. */
const char *proc_exit_label(const struct proc *p, char *buf, size_t len);
/* "SIGTERM" for 15. */
const char *proc_signame(int sig, char *buf, size_t len);

#endif
