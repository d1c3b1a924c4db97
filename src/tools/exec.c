/*
 * exec.c - the `exec` tool (alias `bash`): run a shell command in the
 * agent's workspace, in the foreground until it ends or until yieldMs has
 * passed, then in the background as a session the `process` tool drives.
 *
 * Order of work: check the params and the environment overrides, ask the
 * exec approvals (which may wait for an operator), spawn (proc.c), then
 * answer with the output when the command ends, or with the session id
 * when it is backgrounded. A backgrounded command that ends is announced
 * to its session as a system event (tools.exec.notifyOnExit).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/runtime.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "tools/approvals.h"
#include "tools/proc.h"
#include "tools/tool.h"

extern char **environ;

#define EXEC_DEFAULT_TIMEOUT_S 1800
#define EXEC_DEFAULT_YIELD_MS  10000
#define EXEC_YIELD_MIN_MS      10
#define EXEC_YIELD_MAX_MS      120000
#define EXEC_MAX_TIMEOUT_S     (30LL * 24 * 3600)
#define EXEC_MAX_ENV           256
#define EXEC_NOTIFY_TAIL       400
#define EXEC_NOTIFY_SNIPPET    180

static const char EXEC_FOLLOW_UP[] =
	"Use process (list/poll/log/write/send-keys/submit/paste/kill/clear/remove) for follow-up.";
static const char EXEC_TIMEOUT_GUIDANCE[] =
	"The command was terminated, but external side effects may already have completed. "
	"Verify the resulting state before retrying. Do not automatically rerun non-idempotent "
	"commands. Use a higher timeout only when the command is known to be safe to retry.";

/* One exec call, then (when backgrounded) the owner of its completion notice. */
struct exec_job {
	struct tool_call *call; /* NULL once answered */
	struct proc *p;
	struct exec_approval *approval;
	uv_timer_t yield;
	bool yield_init;
	struct agent_rt *rt;
	char *session_key;
	bool notify, notify_empty;
	/* what to spawn once approved */
	char *command, *cwd;
	char **envp;
	bool pty, background;
	int64_t timeout_ms, yield_ms, cleanup_ms;
	char *agent_id;
};

/* ==== environment ==== */

/* OpenClaw's host-env policy (src/infra/host-env-security-policy.json). */
static const char *const env_blocked[] = {
	"NODE_OPTIONS",
	"NODE_PATH",
	"NODE_REDIRECT_WARNINGS",
	"NODE_REPL_EXTERNAL_MODULE",
	"NODE_REPL_HISTORY",
	"NODE_V8_COVERAGE",
	"PYTHONHOME",
	"PYTHONPATH",
	"PERL5LIB",
	"PERL5OPT",
	"RUBYLIB",
	"RUBYOPT",
	"BASHOPTS",
	"BASH_ENV",
	"ENV",
	"KSH_ENV",
	"BROWSER",
	"GIT_ALLOW_PROTOCOL",
	"GIT_EDITOR",
	"GIT_EXTERNAL_DIFF",
	"GIT_DIR",
	"GIT_WORK_TREE",
	"GIT_COMMON_DIR",
	"GIT_EXEC_PATH",
	"ELIXIR_ERL_OPTIONS",
	"R_ENVIRON",
	"R_PROFILE",
	"R_ENVIRON_USER",
	"R_PROFILE_USER",
	"TCLLIBPATH",
	"HOSTALIASES",
	NULL,
};
/* May be inherited from the daemon, but not set by a call. */
static const char *const env_override_blocked[] = {
	"PATH",
	"HOME",
	"GRADLE_USER_HOME",
	"ZDOTDIR",
	"GIT_INDEX_FILE",
	"GIT_OBJECT_DIRECTORY",
	"GIT_ALTERNATE_OBJECT_DIRECTORIES",
	"GIT_NAMESPACE",
	"GIT_SSH_COMMAND",
	"GIT_SSH",
	"GIT_PROXY_COMMAND",
	"GIT_ASKPASS",
	"GIT_SSL_NO_VERIFY",
	"GIT_SSL_CAINFO",
	"GIT_SSL_CAPATH",
	"XDG_DATA_HOME",
	"XDG_RUNTIME_DIR",
	"XDG_STATE_HOME",
	NULL,
};
static const char *const env_blocked_prefix[] = { "DYLD_", "LD_", "BASH_FUNC_", NULL };
static const char *const env_override_blocked_prefix[] = {
	"GIT_CONFIG_", "NPM_CONFIG_", "CARGO_REGISTRIES_", "TF_VAR_", NULL,
};

static bool env_in(const char *key, size_t klen, const char *const *list, bool prefix)
{
	size_t i, n;

	for (i = 0; list[i]; i++) {
		n = strlen(list[i]);
		if (prefix ? klen >= n && !strncasecmp(key, list[i], n)
			   : klen == n && !strncasecmp(key, list[i], n))
			return true;
	}
	return false;
}

static bool env_key_portable(const char *k)
{
	const char *s;

	if (!*k || !(isalpha((unsigned char)*k) || *k == '_'))
		return false;
	for (s = k; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

static bool env_inherited_blocked(const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);

	return env_in(kv, klen, env_blocked, false) || env_in(kv, klen, env_blocked_prefix, true);
}

/*
 * The child's environment: the daemon's (minus what OpenClaw strips), the
 * call's overrides, PINCER_SHELL / OPENCLAW_SHELL. NULL with `err` when an
 * override is refused.
 */
static char **exec_env(const json_t *overrides, char *err, size_t errlen)
{
	struct buf bad, badkeys;
	const char *k;
	json_t *v;
	char **envp;
	size_t n = 0, i, cap;
	bool path = false;
	int nblocked = 0, ninvalid = 0;

	if (overrides && !json_is_object(overrides)) {
		snprintf(err, errlen, "env must be an object of strings");
		return NULL;
	}
	if (json_object_size(overrides) > EXEC_MAX_ENV) {
		snprintf(err, errlen, "env has too many entries (%zu, at most %d)",
			 json_object_size(overrides), EXEC_MAX_ENV);
		return NULL;
	}
	buf_init(&bad, 4096);
	buf_init(&badkeys, 4096);
	json_object_foreach((json_t *)overrides, k, v)
	{
		size_t klen = strlen(k);
		if (!json_is_string(v)) {
			snprintf(err, errlen, "env.%.100s must be a string", k);
			goto refuse_quiet;
		}
		if (!env_key_portable(k)) {
			buf_printf(&badkeys, "%s%s", ninvalid++ ? ", " : "", k);
			continue;
		}
		if (!strcasecmp(k, "PATH"))
			path = true;
		if (env_in(k, klen, env_blocked, false) ||
		    env_in(k, klen, env_override_blocked, false) ||
		    env_in(k, klen, env_blocked_prefix, true) ||
		    env_in(k, klen, env_override_blocked_prefix, true))
			buf_printf(&bad, "%s%s", nblocked++ ? ", " : "", k);
	}
	if (nblocked || ninvalid) {
		/* OpenClaw's wording, so prompts that learned it still match */
		if (path && nblocked == 1 && !ninvalid)
			snprintf(err, errlen,
				 "Security Violation: Custom 'PATH' variable is forbidden during "
				 "host "
				 "execution.");
		else if (nblocked == 1 && !ninvalid)
			snprintf(
				err, errlen,
				"Security Violation: Environment variable '%s' is forbidden during "
				"host execution.",
				bad.p);
		else
			snprintf(err, errlen, "Security Violation: %s%s%s%s%s.",
				 nblocked ? "blocked override keys: " : "", nblocked ? bad.p : "",
				 nblocked && ninvalid ? "; " : "",
				 ninvalid ? "invalid non-portable override keys: " : "",
				 ninvalid ? badkeys.p : "");
		goto refuse_quiet;
	}
	buf_release(&bad);
	buf_release(&badkeys);

	for (cap = 0; environ && environ[cap]; cap++)
		;
	cap += json_object_size(overrides) + 3;
	envp = xcalloc(cap, sizeof(*envp));
	for (i = 0; environ && environ[i]; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t klen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		char key[256];
		if (env_inherited_blocked(environ[i]) || klen >= sizeof(key))
			continue;
		memcpy(key, environ[i], klen);
		key[klen] = 0;
		if (json_object_get(overrides, key) || !strcmp(key, "PINCER_SHELL") ||
		    !strcmp(key, "OPENCLAW_SHELL"))
			continue;
		envp[n++] = xstrdup(environ[i]);
	}
	json_object_foreach((json_t *)overrides, k, v) envp[n++] =
		xasprintf("%s=%s", k, json_string_value(v));
	envp[n++] = xstrdup("PINCER_SHELL=exec");
	envp[n++] = xstrdup("OPENCLAW_SHELL=exec");
	envp[n] = NULL;
	return envp;

refuse_quiet:
	buf_release(&bad);
	buf_release(&badkeys);
	return NULL;
}

static void env_free(char **envp)
{
	size_t i;

	for (i = 0; envp && envp[i]; i++)
		free(envp[i]);
	free(envp);
}

/* ==== the job ==== */

static void job_closed(uv_handle_t *h)
{
	free(h->data);
}

static void job_free(struct exec_job *job)
{
	if (job->approval)
		exec_approval_cancel(job->approval);
	if (job->p)
		proc_detach(job->p);
	free(job->command);
	free(job->cwd);
	free(job->session_key);
	free(job->agent_id);
	env_free(job->envp);
	if (job->yield_init) {
		job->yield.data = job;
		uv_close((uv_handle_t *)&job->yield, job_closed);
	} else {
		free(job);
	}
}

/* Answer the call (once); the job lives on when a process still reports to it. */
static void job_answer(struct exec_job *job, bool is_error, const char *text)
{
	struct tool_call *call = job->call;

	if (!call)
		return;
	job->call = NULL;
	call->cancel = NULL;
	call->data = NULL;
	tool_call_text(call, is_error, "%s", text);
}

static char *trim_dup(const char *s)
{
	size_t len = strlen(s);

	while (*s && isspace((unsigned char)*s))
		s++, len--;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return xasprintf("%.*s", (int)len, s);
}

/* The retained output as model text (capped, trimmed). New string. */
static char *job_output(const struct proc *p)
{
	struct buf b;
	char *t, *r;

	buf_init(&b, BUF_UNLIMITED);
	proc_out_since(&p->out, 0, &b);
	t = proc_text(b.p, b.len, p->pending_max);
	buf_release(&b);
	r = trim_dup(t);
	free(t);
	return r;
}

static bool job_failed(const struct proc *p)
{
	return p->reason != PROC_EXIT || p->exit_code == 126 || p->exit_code == 127;
}

/* OpenClaw's foreground result text. */
static char *job_result_text(const struct proc *p, bool *is_error)
{
	char *out = job_output(p), *text, sig[32];
	const char *reason = NULL;
	char rbuf[768];

	*is_error = job_failed(p);
	if (!*is_error) {
		if (p->exit_code != 0)
			text = xasprintf("%s\n\n(Command exited with code %d)",
					 *out ? out : "(no output)", p->exit_code);
		else
			text = xstrdup(*out ? out : "(no output)");
		free(out);
		return text;
	}
	switch (p->reason) {
	case PROC_TIMEOUT:
		snprintf(
			rbuf, sizeof(rbuf),
			"Command timed out after %lld seconds.\n\n%s\n\nIf it should keep running, "
			"start it with exec background=true or yieldMs so it runs as a pollable "
			"process session. Do not rely on shell backgrounding with a trailing &.",
			(long long)(p->timeout_ms / 1000), EXEC_TIMEOUT_GUIDANCE);
		reason = rbuf;
		break;
	case PROC_SIGNAL:
	case PROC_CANCELLED:
	case PROC_ABORTED:
	case PROC_SHUTDOWN:
		if (p->exit_signal) {
			snprintf(rbuf, sizeof(rbuf), "Command aborted by signal %s",
				 proc_signame(p->exit_signal, sig, sizeof(sig)));
			reason = rbuf;
		} else {
			reason = "Command aborted before exit code was captured";
		}
		break;
	default:
		reason = p->exit_code == 127 ? "Command not found"
					     : "Command not executable (permission denied)";
		break;
	}
	text = *out ? xasprintf("%s\n\n%s", out, reason) : xstrdup(reason);
	free(out);
	return text;
}

/* "a  b\n c" -> "a b c", at most `max` bytes (whole UTF-8 sequences) with an ellipsis. */
static char *compact(const char *s, size_t max)
{
	struct buf b;
	bool space = false;
	char *r;

	buf_init(&b, BUF_UNLIMITED);
	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			space = b.len > 0;
			continue;
		}
		if (space)
			buf_putc(&b, ' ');
		space = false;
		buf_putc(&b, *s);
	}
	r = buf_detach(&b, NULL);
	if (r && strlen(r) > max) {
		size_t n = max - 1;
		while (n && ((unsigned char)r[n] & 0xc0) == 0x80)
			n--;
		strcpy(r + n, "\xe2\x80\xa6");
	}
	return r ? r : xstrdup("");
}

/* A backgrounded command ended: tell its session (OpenClaw's maybeNotifyOnExit). */
static void job_notify(struct exec_job *job, struct proc *p)
{
	char label[64], idp[9], *out, *tailtxt, *snippet, *text;
	struct buf b;
	bool failed = job_failed(p);

	if (!job->notify || !job->rt || !job->session_key || p->terminal_seen ||
	    p->reason == PROC_CANCELLED)
		return;
	buf_init(&b, BUF_UNLIMITED);
	proc_out_since(&p->out,
		       p->out.total > EXEC_NOTIFY_TAIL ? p->out.total - EXEC_NOTIFY_TAIL : 0, &b);
	tailtxt = proc_text(b.p, b.len, 0);
	buf_release(&b);
	snippet = compact(tailtxt, EXEC_NOTIFY_SNIPPET);
	free(tailtxt);
	if (!failed && p->exit_code == 0 && !*snippet && !job->notify_empty) {
		free(snippet);
		return;
	}
	snprintf(idp, sizeof(idp), "%.8s", p->id);
	proc_exit_label(p, label, sizeof(label));
	out = *snippet ? xasprintf(" :: %s", snippet) : xstrdup("");
	text = xasprintf("Exec %s (%s, %s)%s%s%s", failed ? "failed" : "completed", idp, label, out,
			 p->reason == PROC_TIMEOUT ? "\n\n" : "",
			 p->reason == PROC_TIMEOUT ? EXEC_TIMEOUT_GUIDANCE : "");
	agent_rt_wake(job->rt, job->session_key, text, false);
	free(out);
	free(text);
	free(snippet);
}

static void job_exited(struct proc *p, void *arg)
{
	struct exec_job *job = arg;

	job->p = NULL;
	if (job->yield_init)
		uv_timer_stop(&job->yield);
	if (job->call) {
		bool is_error;
		char *text = job_result_text(p, &is_error);
		job_answer(job, is_error, text);
		free(text);
	} else if (p->backgrounded) {
		job_notify(job, p);
	}
	job_free(job);
}

static void job_yield(uv_timer_t *t)
{
	struct exec_job *job = t->data;
	char *text;

	if (!job->p || !job->call)
		return;
	proc_background(job->p);
	text = xasprintf("Command still running (session %s, pid %d). %s", job->p->id,
			 (int)job->p->pid, EXEC_FOLLOW_UP);
	job_answer(job, false, text);
	free(text);
}

/* OpenClaw's env knobs for the output caps, clamped as it clamps them. */
static size_t env_cap(const char *name, const char *legacy, size_t dflt)
{
	const char *v = getenv(name);
	long long n;

	if ((!v || !*v) && legacy)
		v = getenv(legacy);
	if (!v || str_to_ll(v, &n) < 0)
		return dflt;
	return (size_t)(n < 1000 ? 1000 : n > 200000 ? 200000 : n);
}

static void job_spawn(struct exec_job *job)
{
	struct proc_spec spec = {
		.command = job->command,
		.cwd = job->cwd,
		.envp = job->envp,
		.pty = job->pty,
		.stdin_pipe = job->background || job->pty,
		.timeout_ms = job->timeout_ms,
		.max_output = env_cap("OPENCLAW_BASH_MAX_OUTPUT_CHARS", "PI_BASH_MAX_OUTPUT_CHARS",
				      PROC_DEFAULT_MAX_OUTPUT),
		.pending_max = env_cap("OPENCLAW_BASH_PENDING_MAX_OUTPUT_CHARS", NULL,
				       PROC_DEFAULT_PENDING_MAX),
		.cleanup_ms = job->cleanup_ms,
		.agent_id = job->agent_id,
		.session_key = job->session_key,
		.on_exit = job_exited,
		.arg = job,
	};
	char err[512], *text;

	job->p = proc_spawn(job->call->env.loop, &spec, err, sizeof(err));
	env_free(job->envp);
	job->envp = NULL;
	if (!job->p) {
		job_answer(job, true, err);
		job_free(job);
		return;
	}
	if (job->background) {
		proc_background(job->p);
		text = xasprintf("Command still running (session %s, pid %d). %s", job->p->id,
				 (int)job->p->pid, EXEC_FOLLOW_UP);
		job_answer(job, false, text);
		free(text);
		return;
	}
	uv_timer_init(job->call->env.loop, &job->yield);
	job->yield.data = job;
	job->yield_init = true;
	uv_timer_start(&job->yield, job_yield, (uint64_t)job->yield_ms, 0);
}

static void job_approved(void *arg, bool allowed, const char *reason)
{
	struct exec_job *job = arg;
	char *text;

	job->approval = NULL;
	if (!allowed) {
		text = xasprintf("exec denied: %s", reason && *reason ? reason : "not approved");
		job_answer(job, true, text);
		free(text);
		job_free(job);
		return;
	}
	job_spawn(job);
}

/* The run was aborted: stop waiting for an operator, or kill the group. */
static void exec_cancel(struct tool_call *call)
{
	struct exec_job *job = call->data;

	if (!job)
		return;
	if (job->p) {
		log_info("exec", "session %s: run aborted; killing group %d", job->p->id,
			 (int)job->p->pid);
		proc_kill(job->p, PROC_ABORTED);
	}
	job_answer(job, true,
		   "Command aborted: the run was stopped and the command's process "
		   "group was killed.");
	job_free(job); /* detaches the process, which is freed once it is gone */
}

/* ==== params ==== */

static int64_t cfg_int(const struct config *cfg, const char *path, int64_t dflt)
{
	json_t *v = cfg ? config_get(cfg, path) : NULL;

	return json_is_number(v) ? (int64_t)json_number_value(v) : dflt;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void t_exec(struct tool_call *call)
{
	const struct config *cfg = call->env.cfg;
	json_t *a = call->args, *v;
	const char *command = json_string_value(json_object_get(a, "command"));
	const char *workdir = json_string_value(json_object_get(a, "workdir"));
	const char *host = json_string_value(json_object_get(a, "host"));
	const char *elev = NULL; /* "off", "ask" or "full" */
	struct exec_request req = { 0 };
	struct exec_approval *pending;
	struct exec_job *job;
	char err[1024], *cwd;
	char **envp;
	int64_t timeout_s, yield_dflt;

	if (!command || !*command) {
		tool_call_text(call, true, "command is required (a non-empty string)");
		return;
	}
	if (host && *host && strcmp(host, "auto") && strcmp(host, "gateway")) {
		tool_call_text(call, true,
			       "exec host not allowed (requested %s; configured host is gateway; "
			       "this gateway runs commands on its own host only).",
			       host);
		return;
	}
	{
		/* elevated: tools.elevated gates, the agent's limits and the session's /elevated level */
		json_t *ev = json_object_get(a, "elevated");
		char eerr[600];
		elev = elevated_mode(&call->env, json_is_boolean(ev) ? json_is_true(ev) : -1, eerr,
				     sizeof(eerr));
		if (!elev) {
			tool_call_text(call, true, "%s", eerr);
			return;
		}
	}
	/* workdir: empty means the workspace; relative is relative to it */
	if (workdir && *workdir) {
		const char *s = workdir;
		while (*s && isspace((unsigned char)*s))
			s++;
		if (!*s) {
			tool_call_text(call, true, "workdir must not be blank");
			return;
		}
		if (workdir[0] == '~')
			cwd = fs_expand_home(workdir);
		else if (workdir[0] == '/' || !call->env.workspace)
			cwd = xstrdup(workdir);
		else
			cwd = fs_join(call->env.workspace, workdir);
	} else {
		cwd = xstrdup(call->env.workspace ? call->env.workspace : "/");
	}
	if (!fs_is_dir(cwd)) {
		tool_call_text(call, true, "workdir %s is unavailable: not an existing directory",
			       cwd);
		free(cwd);
		return;
	}
	envp = exec_env(json_object_get(a, "env"), err, sizeof(err));
	if (!envp) {
		tool_call_text(call, true, "%s", err);
		free(cwd);
		return;
	}

	job = xcalloc(1, sizeof(*job));
	job->call = call;
	job->rt = call->env.rt;
	job->session_key = call->env.session_key ? xstrdup(call->env.session_key) : NULL;
	job->agent_id = xstrdup(call->env.agent_id ? call->env.agent_id : "main");
	job->command = xstrdup(command);
	job->cwd = cwd;
	job->envp = envp;
	job->pty = json_is_true(json_object_get(a, "pty"));
	job->background = json_is_true(json_object_get(a, "background"));
	/* timeoutSeconds is OpenClaw's name; `timeout` is accepted too. 0 disables. */
	v = json_object_get(a, "timeoutSeconds");
	if (!json_is_number(v))
		v = json_object_get(a, "timeout");
	timeout_s = cfg_int(cfg, "tools.exec.timeoutSec", EXEC_DEFAULT_TIMEOUT_S);
	if (timeout_s <= 0)
		timeout_s = EXEC_DEFAULT_TIMEOUT_S;
	if (json_is_number(v))
		timeout_s = (int64_t)json_number_value(v);
	job->timeout_ms = timeout_s > 0 ? clamp64(timeout_s, 1, EXEC_MAX_TIMEOUT_S) * 1000 : 0;
	if (json_is_number(v) && json_number_value(v) > 0 && json_number_value(v) < 1)
		job->timeout_ms = (int64_t)(json_number_value(v) * 1000) + 1;
	yield_dflt = clamp64(cfg_int(cfg, "tools.exec.backgroundMs", EXEC_DEFAULT_YIELD_MS),
			     EXEC_YIELD_MIN_MS, EXEC_YIELD_MAX_MS);
	v = json_object_get(a, "yieldMs");
	job->yield_ms = json_is_number(v) ? clamp64((int64_t)json_number_value(v),
						    EXEC_YIELD_MIN_MS, EXEC_YIELD_MAX_MS)
					  : yield_dflt;
	job->cleanup_ms = clamp64(cfg_int(cfg, "tools.exec.cleanupMs", PROC_DEFAULT_CLEANUP_MS),
				  60000, 10800000);
	v = cfg ? config_get(cfg, "tools.exec.notifyOnExit") : NULL;
	job->notify = !json_is_false(v);
	job->notify_empty = cfg && config_get_bool(cfg, "tools.exec.notifyOnExitEmptySuccess");

	call->data = job;
	call->cancel = exec_cancel;
	req.command = job->command;
	req.cwd = job->cwd;
	req.security = json_string_value(json_object_get(a, "security"));
	req.ask = json_string_value(json_object_get(a, "ask"));
	req.elevated_full = str_eq(elev, "full");
	/* the callback may run before this returns (and free the job) */
	pending = exec_approval_check(&call->env, &req, job_approved, job);
	if (pending)
		job->approval = pending;
}

static char *exec_title(const json_t *args)
{
	const char *t = json_string_value(json_object_get(args, "title"));
	const char *c = json_string_value(json_object_get(args, "command"));
	size_t n;

	if (t && *t)
		return xasprintf("%.120s", t);
	if (!c)
		return NULL;
	n = strcspn(c, "\n");
	return xasprintf("Exec %.*s%s", (int)(n > 80 ? 80 : n), c, n > 80 ? "…" : "");
}

const struct tool_def tool_exec = {
	.name = "exec",
	.group = "runtime",
	.description =
		"Run shell now; background continuation supported. Completed calls return command "
		"output directly. Use process only when exec reports running with a sessionId; "
		"output text alone is not a process handle. Long run: automatic completion wake "
		"when enabled and output/failure occurs; otherwise process confirms completion. No "
		"sleep loops for reminders/follow-ups; use automations. TTY CLI/UI/coding agent: "
		"pty=true. Quote arguments containing shell metacharacters, including URL query "
		"strings with `?` or `&`.",
	.parameters =
		"{\"type\":\"object\",\"required\":[\"command\"],\"properties\":{"
		"\"title\":{\"type\":\"string\",\"maxLength\":120,\"description\":\"Every call: "
		"short "
		"purpose; never claim success. No secrets.\"},"
		"\"command\":{\"type\":\"string\",\"description\":\"Shell command.\"},"
		"\"workdir\":{\"type\":\"string\",\"description\":\"Omit/empty string: default; "
		"whitespace-only invalid.\"},"
		"\"env\":{\"type\":\"object\",\"patternProperties\":{\"^.*$\":{\"type\":\"string\"}"
		"},"
		"\"description\":\"Literal overrides; no expansion. Omit to inherit.\"},"
		"\"yieldMs\":{\"type\":\"number\",\"description\":\"Milliseconds before "
		"backgrounding; "
		"default 10000.\"},"
		"\"background\":{\"type\":\"boolean\",\"description\":\"Background now; "
		"timeoutSeconds "
		"applies.\"},"
		"\"timeoutSeconds\":{\"type\":\"number\",\"description\":\"Process lifetime in "
		"seconds; 0 disables.\"},"
		"\"pty\":{\"type\":\"boolean\",\"description\":\"PTY for TTY-required CLIs/coding "
		"agents.\"},"
		"\"elevated\":{\"type\":\"boolean\",\"description\":\"Host elevation if "
		"allowed.\"},"
		"\"host\":{\"enum\":[\"auto\",\"sandbox\",\"gateway\",\"node\"],\"type\":"
		"\"string\","
		"\"description\":\"Omit/auto: inherit configured host.\"},"
		"\"ask\":{\"type\":\"string\",\"description\":\"Requests stricter approvals under "
		"tools.exec.mode and host policy; channel-origin calls cannot override host "
		"ask=off.\"},"
		"\"node\":{\"type\":\"string\",\"description\":\"Node id/name for host=node.\"}}}",
	.invoke = t_exec,
	.title = exec_title,
};
