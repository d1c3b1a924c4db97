/*
 * proc.c - child processes of the exec tool: spawn in their own session,
 * capture output (head + tail), kill whole groups, and the registry of
 * background runs the process tool reads.
 *
 * We spawn with posix_spawn rather than uv_spawn because the child needs
 * what uv_spawn cannot give: a new session with a pty as its controlling
 * terminal, and a cheaper spawn than fork (see spawn_child). Everything
 * after the spawn is libuv: the output pipe or pty master is a uv_pipe,
 * exit is a uv_poll on a pidfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "core/id.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "tools/proc.h"

#define PROC_DRAIN_MS     500 /* after the group is gone: how long output may still trickle in */
#define PROC_REAP_POLL_MS 50  /* exit polling when pidfd_open is unavailable */

struct proc_priv {
	uv_loop_t *loop;
	uv_pipe_t io;          /* merged stdout+stderr pipe, or the pty master */
	uv_pipe_t in;          /* stdin pipe (not pty) */
	uv_poll_t exitw;       /* pidfd readable: the child exited */
	uv_timer_t reap_timer; /* fallback without pidfd */
	uv_timer_t timeout;
	uv_timer_t kill_timer; /* SIGKILL after the grace, then the drain deadline */
	int pidfd;
	int handles; /* open uv handles; the run is freed when 0 after release */
	bool io_open, in_open, exitw_open, reap_open;
	bool reaped, io_eof, ended, released;
	bool hidden; /* removed by `process remove` while running: freed when it ends */
	bool drain_expired;
	bool eof_after_writes;
	int stage; /* 0 none, 1 SIGTERM sent, 2 SIGKILL sent / draining */
	size_t write_queued;
};

struct proc_wreq {
	uv_write_t req;
	struct proc *p;
	size_t len;
	char data[];
};

static struct proc *g_procs;
static int g_running;
static bool g_atexit;

/* ==== output ==== */

void proc_out_init(struct proc_out *o, size_t max)
{
	memset(o, 0, sizeof(*o));
	if (max < 1024)
		max = 1024;
	/* a quarter for the head (what the command started with), the rest for the end */
	o->head_cap = max / 4;
	o->tail_cap = max - o->head_cap;
	o->head = xmalloc(o->head_cap);
	o->tail = xmalloc(o->tail_cap);
}

void proc_out_release(struct proc_out *o)
{
	free(o->head);
	free(o->tail);
	memset(o, 0, sizeof(*o));
}

void proc_out_append(struct proc_out *o, const void *data, size_t len)
{
	const char *s = data;
	size_t n;

	o->total += len;
	if (o->head_len < o->head_cap) {
		n = o->head_cap - o->head_len < len ? o->head_cap - o->head_len : len;
		memcpy(o->head + o->head_len, s, n);
		o->head_len += n;
		s += n;
		len -= n;
	}
	if (len >= o->tail_cap) {
		memcpy(o->tail, s + len - o->tail_cap, o->tail_cap);
		o->tail_len = o->tail_cap;
		o->tail_start = 0;
		return;
	}
	while (len) {
		size_t end = (o->tail_start + o->tail_len) % o->tail_cap;
		n = o->tail_cap - end < len ? o->tail_cap - end : len;
		memcpy(o->tail + end, s, n);
		s += n;
		len -= n;
		if (o->tail_len + n > o->tail_cap) {
			size_t over = o->tail_len + n - o->tail_cap;
			o->tail_start = (o->tail_start + over) % o->tail_cap;
			o->tail_len = o->tail_cap;
		} else {
			o->tail_len += n;
		}
	}
}

uint64_t proc_out_since(const struct proc_out *o, uint64_t from, struct buf *b)
{
	uint64_t tail_from = o->total - o->tail_len; /* absolute offset of the tail's first byte */
	uint64_t lost = 0;
	size_t i;

	if (from < o->head_len) {
		buf_append(b, o->head + from, o->head_len - from);
		from = o->head_len;
	}
	if (from < tail_from) {
		lost = tail_from - from;
		buf_printf(b, "\n[... %llu bytes of output elided ...]\n",
			   (unsigned long long)lost);
		from = tail_from;
	}
	i = (size_t)(from - tail_from);
	while (i < o->tail_len) {
		size_t start = (o->tail_start + i) % o->tail_cap;
		size_t n = o->tail_len - i;
		if (n > o->tail_cap - start)
			n = o->tail_cap - start;
		buf_append(b, o->tail + start, n);
		i += n;
	}
	return lost;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	size_t n, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

static void text_clean(struct buf *b, const char *data, size_t len)
{
	const unsigned char *s = (const unsigned char *)data;
	size_t i = 0, n;

	while (i < len) {
		if (s[i] == 0) {
			i++;
			continue;
		}
		if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') {
			i++;
			continue;
		}
		n = utf8_seq(s + i, len - i);
		if (!n) {
			buf_append(b, "\xef\xbf\xbd", 3);
			i++;
			continue;
		}
		buf_append(b, s + i, n);
		i += n;
	}
}

char *proc_text(const char *data, size_t len, size_t max)
{
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	if (max && len > max) {
		size_t head = max / 4, tail = max - head;
		/* whole UTF-8 sequences at both cuts: back off continuation bytes */
		while (head > 0 && ((unsigned char)data[head] & 0xc0) == 0x80)
			head--;
		while (tail > 0 && ((unsigned char)data[len - tail] & 0xc0) == 0x80)
			tail--;
		text_clean(&b, data, head);
		buf_printf(&b, "\n\n[... %zu bytes of output elided ...]\n\n", len - head - tail);
		text_clean(&b, data + len - tail, tail);
	} else {
		text_clean(&b, data, len);
	}
	return buf_detach(&b, NULL);
}

const char *proc_signame(int sig, char *buf, size_t len)
{
	const char *a = sigabbrev_np(sig);

	if (a)
		snprintf(buf, len, "SIG%s", a);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

const char *proc_exit_label(const struct proc *p, char *buf, size_t len)
{
	char s[32];

	if (p->exit_signal)
		snprintf(buf, len, "signal %s", proc_signame(p->exit_signal, s, sizeof(s)));
	else if (p->exit_code >= 0)
		snprintf(buf, len, "code %d", p->exit_code);
	else
		snprintf(buf, len, "unknown exit code");
	return buf;
}

/* ==== registry ==== */

static const char *const slug_adj[] = {
	"amber", "brisk",  "calm",   "clever", "cosy",  "crisp", "dapper", "eager",
	"fair",  "fleet",  "fresh",  "gentle", "glad",  "grand", "keen",   "kind",
	"lucid", "mellow", "merry",  "nimble", "noble", "quick", "quiet",  "rapid",
	"sharp", "snug",   "steady", "sunny",  "swift", "tidy",  "vivid",  "warm",
};
static const char *const slug_noun[] = {
	"atlas", "bay",    "brook",  "canyon", "cedar",  "cliff",   "cove",   "delta",
	"dune",  "fjord",  "glade",  "grove",  "harbor", "heath",   "isle",   "lagoon",
	"marsh", "meadow", "mesa",   "orbit",  "pine",   "prairie", "reef",   "ridge",
	"river", "shoal",  "summit", "tide",   "trail",  "valley",  "willow", "zephyr",
};

static bool id_taken(const char *id)
{
	struct proc *p;

	for (p = g_procs; p; p = p->next)
		if (!strcmp(p->id, id))
			return true;
	return false;
}

static void make_id(char *out, size_t len)
{
	unsigned char r[3];
	int tries;

	for (tries = 0; tries < 16; tries++) {
		id_random_bytes(r, sizeof(r));
		snprintf(out, len, "%s-%s", slug_adj[r[0] % 32], slug_noun[r[1] % 32]);
		if (!id_taken(out))
			return;
	}
	for (;;) {
		char hex[9];
		id_hex(hex, 4);
		snprintf(out, len, "%s-%s-%s", slug_adj[r[0] % 32], slug_noun[r[1] % 32], hex);
		if (!id_taken(out))
			return;
	}
}

static void proc_free(struct proc *p)
{
	proc_out_release(&p->out);
	free(p->agent_id);
	free(p->session_key);
	free(p->command);
	free(p->cwd);
	free(p->priv);
	free(p);
}

static void unlink_proc(struct proc *p)
{
	struct proc **pp;

	for (pp = &g_procs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			p->next = NULL;
			break;
		}
}

static void handle_closed(uv_handle_t *h)
{
	struct proc *p = h->data;

	if (--p->priv->handles == 0 && p->priv->released)
		proc_free(p);
}

static void close_handle(struct proc *p, uv_handle_t *h, bool *open)
{
	if (!*open)
		return;
	*open = false;
	uv_close(h, handle_closed);
}

/* Drop a run that has ended: unlink, close what is left, free when closed. */
static void release(struct proc *p)
{
	struct proc_priv *pv = p->priv;
	bool t = true, t2 = true;

	if (pv->released)
		return;
	unlink_proc(p);
	pv->released = true;
	close_handle(p, (uv_handle_t *)&pv->timeout, &t);
	close_handle(p, (uv_handle_t *)&pv->kill_timer, &t2);
}

/* Finished background runs past their time, or beyond the count cap, go. */
static void sweep(void)
{
	int64_t now = time_now_ms();
	struct proc *p, *next, *oldest;
	size_t finished;

	for (p = g_procs; p; p = next) {
		next = p->next;
		if (p->priv->ended && p->expires_at && p->expires_at <= now)
			release(p);
	}
	for (;;) {
		finished = 0;
		oldest = NULL;
		for (p = g_procs; p; p = p->next)
			if (p->priv->ended) {
				finished++;
				if (!oldest || p->ended_at <= oldest->ended_at)
					oldest = p;
			}
		if (finished <= PROC_MAX_FINISHED)
			break;
		release(oldest);
	}
}

struct proc *proc_find(const char *agent_id, const char *id)
{
	struct proc *p;

	sweep();
	for (p = g_procs; p; p = p->next)
		if (!p->priv->hidden && !strcmp(p->id, id) && !strcmp(p->agent_id, agent_id))
			return p;
	return NULL;
}

size_t proc_list(const char *agent_id, struct proc **out, size_t max)
{
	struct proc *p;
	size_t n = 0;

	sweep();
	/* g_procs holds the newest first */
	for (p = g_procs; p && n < max; p = p->next)
		if (!p->priv->hidden && !strcmp(p->agent_id, agent_id) && p->backgrounded)
			out[n++] = p;
	return n;
}

/* ==== killing and reaping ==== */

static bool group_alive(pid_t pgid)
{
	return kill(-pgid, 0) == 0 || errno == EPERM;
}

static void finish(struct proc *p);

static void maybe_finish(struct proc *p)
{
	struct proc_priv *pv = p->priv;

	if (!pv->ended && pv->reaped && pv->io_eof)
		finish(p);
}

static void io_close(struct proc *p)
{
	struct proc_priv *pv = p->priv;

	if (!pv->io_eof) {
		pv->io_eof = true;
		close_handle(p, (uv_handle_t *)&pv->io, &pv->io_open);
	}
}

static void kill_timer_cb(uv_timer_t *t)
{
	struct proc *p = t->data;
	struct proc_priv *pv = p->priv;

	if (pv->stage == 1) {
		if (group_alive(p->pid))
			kill(-p->pid, SIGKILL);
		pv->stage = 2;
		uv_timer_start(t, kill_timer_cb, PROC_DRAIN_MS, 0);
		return;
	}
	/*
	 * Drain deadline: the group is gone, yet the output is still open, so
	 * something that left the group (setsid, a daemon) holds it. Stop
	 * waiting for it.
	 */
	pv->drain_expired = true;
	if (pv->reaped)
		io_close(p);
	maybe_finish(p);
}

static void group_kill(struct proc *p)
{
	struct proc_priv *pv = p->priv;

	if (pv->stage)
		return;
	pv->stage = 1;
	kill(-p->pid, SIGTERM);
	uv_timer_start(&pv->kill_timer, kill_timer_cb, PROC_KILL_GRACE_MS, 0);
}

void proc_kill(struct proc *p, enum proc_reason reason)
{
	if (p->priv->ended)
		return;
	if (p->reason == PROC_RUNNING)
		p->reason = reason;
	group_kill(p);
}

static void reaped(struct proc *p, int status)
{
	struct proc_priv *pv = p->priv;

	pv->reaped = true;
	if (WIFEXITED(status)) {
		p->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		p->exit_code = -1;
		p->exit_signal = WTERMSIG(status);
	}
	close_handle(p, (uv_handle_t *)&pv->exitw, &pv->exitw_open);
	close_handle(p, (uv_handle_t *)&pv->reap_timer, &pv->reap_open);
	if (pv->pidfd >= 0) {
		/* uv_close on a poll handle leaves the fd to us */
		close(pv->pidfd);
		pv->pidfd = -1;
	}
	g_running--;
	/* what the shell left behind in its group does not outlive it */
	if (!pv->stage) {
		if (group_alive(p->pid)) {
			group_kill(p);
		} else {
			pv->stage = 2;
			uv_timer_start(&pv->kill_timer, kill_timer_cb, PROC_DRAIN_MS, 0);
		}
	} else if (pv->drain_expired) {
		io_close(p);
	}
	maybe_finish(p);
}

static void try_reap(struct proc *p)
{
	int status;
	pid_t r;

	do
		r = waitpid(p->pid, &status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == p->pid)
		reaped(p, status);
	else if (r < 0 && errno == ECHILD)
		reaped(p, 0); /* someone else reaped it; nothing more to learn */
}

static void exitw_cb(uv_poll_t *h, int status, int events)
{
	try_reap(h->data);
}

static void reap_timer_cb(uv_timer_t *t)
{
	try_reap(t->data);
}

static void timeout_cb(uv_timer_t *t)
{
	struct proc *p = t->data;

	log_info("exec", "session %s: timed out after %lld ms; killing group %d", p->id,
		 (long long)p->timeout_ms, (int)p->pid);
	proc_kill(p, PROC_TIMEOUT);
}

/* ==== output reading ==== */

static void io_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char rbuf[65536]; /* the loop thread reads right after allocating */

	b->base = rbuf;
	b->len = sizeof(rbuf);
}

static void io_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct proc *p = s->data;

	if (n > 0) {
		if (p->pty) {
			/* the last of ESC[?1h / ESC[?1l in this chunk decides */
			const char *h = memmem(b->base, (size_t)n, "\x1b[?1h", 5);
			const char *l = memmem(b->base, (size_t)n, "\x1b[?1l", 5);
			const char *q;
			while (h &&
			       (q = memmem(h + 1, (size_t)(b->base + n - h - 1), "\x1b[?1h", 5)))
				h = q;
			while (l &&
			       (q = memmem(l + 1, (size_t)(b->base + n - l - 1), "\x1b[?1l", 5)))
				l = q;
			if (h || l)
				p->app_cursor = h && (!l || h > l);
		}
		proc_out_append(&p->out, b->base, (size_t)n);
		p->last_output_at = time_now_ms();
		return;
	}
	if (n == 0)
		return;
	/* EOF, or EIO from a pty master once every slave fd is closed */
	io_close(p);
	maybe_finish(p);
}

/* ==== finishing ==== */

static void finish(struct proc *p)
{
	struct proc_priv *pv = p->priv;
	void (*hook)(struct proc *, void *) = p->on_exit;

	pv->ended = true;
	p->ended_at = time_now_ms();
	uv_timer_stop(&pv->timeout);
	uv_timer_stop(&pv->kill_timer);
	close_handle(p, (uv_handle_t *)&pv->in, &pv->in_open);
	p->stdin_open = false;
	if (p->reason == PROC_RUNNING)
		p->reason = p->exit_signal ? PROC_SIGNAL : PROC_EXIT;
	p->on_exit = NULL;
	if (hook)
		hook(p, p->arg);
	if (p->backgrounded && !pv->hidden) {
		p->expires_at = p->ended_at + p->cleanup_ms;
		sweep();
	} else {
		release(p);
	}
}

/* ==== stdin ==== */

static void in_shutdown_cb(uv_shutdown_t *req, int status)
{
	struct proc *p = req->data;

	free(req);
	close_handle(p, (uv_handle_t *)&p->priv->in, &p->priv->in_open);
}

static void close_stdin(struct proc *p)
{
	struct proc_priv *pv = p->priv;

	p->stdin_open = false;
	if (p->pty) {
		/* a terminal's end of input is ^D at the start of a line */
		static const char eot = 4;
		uv_buf_t b = uv_buf_init((char *)&eot, 1);
		if (pv->io_open)
			uv_try_write((uv_stream_t *)&pv->io, &b, 1);
		return;
	}
	if (pv->in_open) {
		uv_shutdown_t *req = xcalloc(1, sizeof(*req));
		req->data = p;
		if (uv_shutdown(req, (uv_stream_t *)&pv->in, in_shutdown_cb) < 0) {
			free(req);
			close_handle(p, (uv_handle_t *)&pv->in, &pv->in_open);
		}
	}
}

static void write_cb(uv_write_t *req, int status)
{
	struct proc_wreq *w = (struct proc_wreq *)req;
	struct proc *p = w->p;

	p->priv->write_queued -= w->len;
	free(w);
	if (p->priv->eof_after_writes && !p->priv->write_queued && !p->priv->ended) {
		p->priv->eof_after_writes = false;
		close_stdin(p);
	}
}

int proc_write(struct proc *p, const void *data, size_t len, bool eof, char *err, size_t errlen)
{
	struct proc_priv *pv = p->priv;
	uv_stream_t *s = p->pty ? (uv_stream_t *)&pv->io : (uv_stream_t *)&pv->in;
	bool open = p->pty ? pv->io_open : pv->in_open;
	struct proc_wreq *w;
	uv_buf_t b;
	int r;

	if (pv->ended || !p->stdin_open || !open) {
		snprintf(err, errlen, "Session %s stdin is not writable.", p->id);
		return -1;
	}
	if (pv->write_queued + len > PROC_WRITE_MAX) {
		snprintf(err, errlen,
			 "Session %s stdin is backed up (%zu bytes queued); try later.", p->id,
			 pv->write_queued);
		return -1;
	}
	if (len) {
		w = xmalloc(sizeof(*w) + len);
		w->p = p;
		w->len = len;
		memcpy(w->data, data, len);
		b = uv_buf_init(w->data, (unsigned)len);
		r = uv_write(&w->req, s, &b, 1, write_cb);
		if (r < 0) {
			free(w);
			snprintf(err, errlen, "cannot write to session %s: %s", p->id,
				 uv_strerror(r));
			return -1;
		}
		pv->write_queued += len;
	}
	if (eof) {
		if (pv->write_queued)
			pv->eof_after_writes = true;
		else
			close_stdin(p);
		p->stdin_open = false;
	}
	return 0;
}

/* ==== spawning ==== */

/*
 * posix_spawn (clone with CLONE_VM|CLONE_VFORK in glibc) rather than fork:
 * copying the daemon's page tables made fork cost ~2.5 ms per command
 * against ~0.8 ms. The child becomes a session leader (POSIX_SPAWN_SETSID)
 * with default signal dispositions (the daemon ignores SIGPIPE) and an
 * empty mask; for a pty, it opens the slave by name after setsid, which
 * makes the terminal its controlling tty.
 */
static int spawn_child(const struct proc_spec *spec, char *const argv[], int in_fd, int out_fd,
		       const char *pty_name, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	int r;

	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_init(&fa);
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF |
						POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setsigmask(&attr, &none);
	if (pty_name) {
		posix_spawn_file_actions_addopen(&fa, 0, pty_name, O_RDWR, 0);
		posix_spawn_file_actions_adddup2(&fa, 0, 1);
		posix_spawn_file_actions_adddup2(&fa, 0, 2);
	} else {
		posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
		posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
	}
	posix_spawn_file_actions_addchdir_np(&fa, spec->cwd);
	/* what other modules opened without O_CLOEXEC stays out of the child */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	r = posix_spawn(pid, argv[0], &fa, &attr, argv, spec->envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return r;
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

static void set_cloexec(int fd)
{
	fcntl(fd, F_SETFD, FD_CLOEXEC);
}

struct proc *proc_spawn(uv_loop_t *loop, const struct proc_spec *spec, char *err, size_t errlen)
{
	char *argv[] = { "/bin/sh", "-c", (char *)spec->command, NULL };
	int outp[2] = { -1, -1 }, inp[2] = { -1, -1 };
	int master = -1, slave = -1, devnull = -1, r;
	char pty_name[64];
	pid_t pid;
	struct proc *p;
	struct proc_priv *pv;

	if (g_running >= PROC_MAX_RUNNING) {
		snprintf(err, errlen, "too many running commands (%d); kill some with process kill",
			 g_running);
		return NULL;
	}
	if (spec->pty) {
		struct winsize ws = { .ws_row = 30, .ws_col = 120 };
		if (openpty(&master, &slave, NULL, NULL, &ws) < 0 ||
		    ptsname_r(master, pty_name, sizeof(pty_name)) != 0) {
			snprintf(err, errlen, "cannot open a pty: %s", strerror(errno));
			goto fail;
		}
		set_cloexec(master);
		set_cloexec(slave);
	} else {
		if (pipe2(outp, O_CLOEXEC) < 0)
			goto sys_err;
		if (spec->stdin_pipe) {
			if (pipe2(inp, O_CLOEXEC) < 0)
				goto sys_err;
		} else if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
			goto sys_err;
		}
	}
	r = spawn_child(spec, argv, spec->stdin_pipe ? inp[0] : devnull, outp[1],
			spec->pty ? pty_name : NULL, &pid);
	if (r) {
		snprintf(err, errlen, "cannot run /bin/sh in %s: %s", spec->cwd, strerror(r));
		goto fail;
	}
	if (slave >= 0)
		close(slave);
	if (outp[1] >= 0)
		close(outp[1]);
	if (inp[0] >= 0)
		close(inp[0]);
	if (devnull >= 0)
		close(devnull);

	p = xcalloc(1, sizeof(*p));
	pv = p->priv = xcalloc(1, sizeof(*pv));
	pv->loop = loop;
	pv->pidfd = -1;
	make_id(p->id, sizeof(p->id));
	p->agent_id = xstrdup(spec->agent_id ? spec->agent_id : "main");
	p->session_key = spec->session_key ? xstrdup(spec->session_key) : NULL;
	p->command = xstrdup(spec->command);
	p->cwd = xstrdup(spec->cwd);
	p->pid = pid;
	p->pty = spec->pty;
	p->started_at = p->last_output_at = time_now_ms();
	p->timeout_ms = spec->timeout_ms;
	p->cleanup_ms = spec->cleanup_ms > 0 ? spec->cleanup_ms : PROC_DEFAULT_CLEANUP_MS;
	p->exit_code = -1;
	p->stdin_open = spec->pty || spec->stdin_pipe;
	p->pending_max = spec->pending_max ? spec->pending_max : PROC_DEFAULT_PENDING_MAX;
	p->on_exit = spec->on_exit;
	p->arg = spec->arg;
	proc_out_init(&p->out, spec->max_output ? spec->max_output : PROC_DEFAULT_MAX_OUTPUT);

	uv_pipe_init(loop, &pv->io, 0);
	pv->io.data = p;
	pv->handles++;
	pv->io_open = true;
	r = uv_pipe_open(&pv->io, spec->pty ? master : outp[0]);
	if (r == 0)
		r = uv_read_start((uv_stream_t *)&pv->io, io_alloc, io_read);
	if (r < 0) {
		log_warn("exec", "session %s: cannot read output: %s", p->id, uv_strerror(r));
		pv->io_eof = true;
		close_handle(p, (uv_handle_t *)&pv->io, &pv->io_open);
	}
	if (inp[1] >= 0) {
		uv_pipe_init(loop, &pv->in, 0);
		pv->in.data = p;
		pv->handles++;
		pv->in_open = true;
		if (uv_pipe_open(&pv->in, inp[1]) < 0) {
			close(inp[1]);
			close_handle(p, (uv_handle_t *)&pv->in, &pv->in_open);
			p->stdin_open = false;
		}
	}
	uv_timer_init(loop, &pv->timeout);
	pv->timeout.data = p;
	uv_timer_init(loop, &pv->kill_timer);
	pv->kill_timer.data = p;
	pv->handles += 2;
	pv->pidfd = open_pidfd(pid);
	if (pv->pidfd >= 0 && uv_poll_init(loop, &pv->exitw, pv->pidfd) == 0) {
		pv->exitw.data = p;
		pv->handles++;
		pv->exitw_open = true;
		uv_poll_start(&pv->exitw, UV_READABLE, exitw_cb);
	} else {
		if (pv->pidfd >= 0)
			close(pv->pidfd);
		pv->pidfd = -1;
		uv_timer_init(loop, &pv->reap_timer);
		pv->reap_timer.data = p;
		pv->handles++;
		pv->reap_open = true;
		uv_timer_start(&pv->reap_timer, reap_timer_cb, PROC_REAP_POLL_MS,
			       PROC_REAP_POLL_MS);
	}
	if (spec->timeout_ms > 0)
		uv_timer_start(&pv->timeout, timeout_cb, (uint64_t)spec->timeout_ms, 0);
	p->next = g_procs;
	g_procs = p;
	g_running++;
	if (!g_atexit) {
		atexit(proc_kill_all);
		g_atexit = true;
	}
	log_debug("exec", "session %s: pid %d%s: %.200s", p->id, (int)pid, p->pty ? " (pty)" : "",
		  spec->command);
	return p;

sys_err:
	snprintf(err, errlen, "cannot start the command: %s", strerror(errno));
fail:
	for (r = 0; r < 2; r++) {
		if (outp[r] >= 0)
			close(outp[r]);
		if (inp[r] >= 0)
			close(inp[r]);
	}
	if (master >= 0)
		close(master);
	if (slave >= 0)
		close(slave);
	if (devnull >= 0)
		close(devnull);
	return NULL;
}

void proc_background(struct proc *p)
{
	struct proc_priv *pv = p->priv;

	p->backgrounded = true;
	/*
	 * Nobody waits on a background run: it must not hold the loop open
	 * when the daemon stops (the atexit hook kills its group then).
	 */
	uv_unref((uv_handle_t *)&pv->io);
	if (pv->in_open)
		uv_unref((uv_handle_t *)&pv->in);
	if (pv->exitw_open)
		uv_unref((uv_handle_t *)&pv->exitw);
	if (pv->reap_open)
		uv_unref((uv_handle_t *)&pv->reap_timer);
	uv_unref((uv_handle_t *)&pv->timeout);
	uv_unref((uv_handle_t *)&pv->kill_timer);
}

void proc_detach(struct proc *p)
{
	p->on_exit = NULL;
	p->arg = NULL;
}

void proc_remove(struct proc *p)
{
	if (p->priv->ended) {
		release(p);
		return;
	}
	p->priv->hidden = true; /* finish() releases it */
	proc_kill(p, PROC_CANCELLED);
}

void proc_kill_all(void)
{
	struct proc *p;

	for (p = g_procs; p; p = p->next)
		if (!p->priv->ended)
			kill(-p->pid, SIGKILL);
}
