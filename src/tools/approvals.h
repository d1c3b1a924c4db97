/*
 * approvals.h - exec approvals: may this command run, and if an operator
 * must be asked, ask and wait without blocking the loop.
 *
 * Policy comes from `tools.exec.{security,ask}` in the config and from the
 * host-local exec-approvals.json (version 1: defaults, per-agent security
 * deny|allowlist|full, ask off|on-miss|always, askFallback, allowlist of
 * path patterns); the stricter of the two wins. When the answer needs an
 * operator, `exec.approval.requested` is broadcast and the decision comes
 * from `exec.approval.resolve` or `/approve <id> …`; a timeout falls back
 * to askFallback.
 *
 * The exec tool calls exec_approval_check() before it spawns anything.
 */
#ifndef PINCER_TOOLS_APPROVALS_H
#define PINCER_TOOLS_APPROVALS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct tool_env;
struct exec_approval;

struct exec_request {
	const char *command;  /* the raw command text, as the model wrote it */
	const char *cwd;      /* where it will run */
	const char *security; /* the call's own `security` param, or NULL */
	const char *ask;      /* the call's own `ask` param, or NULL */
	bool elevated_full;   /* /elevated full: approvals are skipped */
};

/*
 * Decide on `req`. When the policy answers at once, `cb` is called before
 * this returns and the result is NULL. Otherwise an operator is asked and
 * the pending approval is returned; `cb` runs once, later, unless
 * exec_approval_cancel() is called first. `reason` says why a command was
 * refused, for the tool's error text.
 */
struct exec_approval *exec_approval_check(const struct tool_env *env,
					  const struct exec_request *req,
					  void (*cb)(void *arg, bool allowed, const char *reason),
					  void *arg);

/* Forget a pending approval (the run was aborted); its callback never runs. */
void exec_approval_cancel(struct exec_approval *a);

/* ==== policy (what exec_approval_check applies; exposed for tests and `approvals get`) ==== */

struct config;
struct apf_policy;

struct exec_policy {
	int requested_security, requested_ask; /* from tools.exec / agent tools.exec (apf enums) */
	int security, ask, ask_fallback;       /* effective, after the file and the call */
	bool bypass;                           /* elevated full lifted the approval prompt */
};

/*
 * The effective policy for `agent_id`: the stricter of the config
 * (agents.list[].tools.exec, else tools.exec; `mode` or security/ask;
 * default full/off) and `file` (a normalized exec-approvals.json), then
 * tightened by the call's own `security`/`ask` (never loosened). With
 * `elevated_full`, ask is lifted when config and file both say full/off.
 */
void exec_policy_resolve(const struct config *cfg, const json_t *file, const char *agent_id,
			 const char *call_security, const char *call_ask, bool elevated_full,
			 struct exec_policy *out);

/* ==== wiring (the daemon) ==== */

struct approvals_hooks {
	/*
	 * Send an exec.approval.* event to the operator clients allowed to see
	 * it (payload stolen). Returns how many connected clients, other than
	 * `exclude_conn` (NULL: none), can answer it: 0 means nobody can, and
	 * the request falls back to askFallback at once, as OpenClaw's does
	 * when there is no approval route.
	 */
	int (*emit)(void *arg, const char *event, json_t *payload, const char *exclude_conn);
	void *arg;
};

/*
 * Start the approvals service on `loop`, keeping exec-approvals.json in
 * `state_dir`. Without it (the CLI's --local mode) nobody can be asked:
 * asks fall back to askFallback at once, and the file is looked up in the
 * default state dir.
 */
void approvals_init(uv_loop_t *loop, const char *state_dir, const struct approvals_hooks *hooks);
/* Refuse what is pending (callbacks see a denial), close timers. Run the loop afterwards. */
void approvals_shutdown(void);

/* Where exec-approvals.json is (the initialized state dir's, else the default's). New string. */
char *approvals_path(void);

/* Default time an operator has to answer (OpenClaw's DEFAULT_EXEC_APPROVAL_TIMEOUT_MS). */
#define APPROVALS_TIMEOUT_MS (30 * 60 * 1000)
/* Use `ms` instead of APPROVALS_TIMEOUT_MS for new approvals (0: the default); tests and embedders. */
void approvals_set_timeout_ms(int64_t ms);
/* How long a decided approval is still known (waitDecision, repeated resolve). */
#define APPROVALS_GRACE_MS    (5 * 60 * 1000)
/* Pending approvals at once; more are refused (the request falls back). */
#define APPROVALS_MAX_PENDING 256

/* ==== operator side (exec.approval.* methods, /approve) ==== */

/* Results of approvals_resolve. */
enum {
	APPROVALS_OK = 0,
	APPROVALS_NOT_FOUND = -1,  /* unknown or expired id */
	APPROVALS_AMBIGUOUS = -2,  /* a prefix that names more than one */
	APPROVALS_ALREADY = -3,    /* already resolved with another decision */
	APPROVALS_DISALLOWED = -4, /* a decision this request does not offer */
	APPROVALS_BAD_DECISION = -5,
};

/*
 * Answer a pending approval (`id` or a unique prefix of one) with
 * allow-once | allow-always | deny; broadcasts exec.approval.resolved.
 * Resolving again with the same decision is OK. `err` holds OpenClaw's
 * message for the other results.
 */
int approvals_resolve(const char *id, const char *decision, const char *resolved_by, char *err,
		      size_t errlen);

/* [{id, request, createdAtMs, expiresAtMs, approvalKind}] of what is pending. New array. */
json_t *approvals_list(void);
/* exec.approval.get's answer for a pending id (or prefix), or NULL with err. New object. */
json_t *approvals_get(const char *id, char *err, size_t errlen);

/*
 * exec.approval.request from a client: `params` as OpenClaw's schema
 * (validated by the caller). Creates and announces the approval; `*id`
 * gets its id. `*no_route` is set when nobody could be asked and
 * requireDeliveryRoute was not false: it is then already expired.
 * Returns 0, or -1 with err (duplicate id, too many pending).
 */
int approvals_request(const json_t *params, const char *requester_conn, char id[64], bool *no_route,
		      char *err, size_t errlen);

/*
 * Call `fn(arg, result)` once `id` is decided or expires, with
 * {id, decision (null when expired), createdAtMs, expiresAtMs}; at once
 * when it already is. Returns 0, or -1 when `id` is unknown.
 */
int approvals_wait(const char *id, void (*fn)(void *arg, json_t *result), void *arg);
/* Forget every wait registered with `arg` (the client went away). */
void approvals_unwait(void *arg);

/* ==== elevated mode ==== */

/*
 * May `agent_id`, talking through `channel` as `sender` (either may be
 * NULL), use elevated mode? tools.elevated.enabled (default true) and
 * allowFrom.<channel> (sender ids, "*" for all), and the agent's own
 * tools.elevated, which can only restrict. Returns true, or false with
 * the failing gates in `why` (OpenClaw's text).
 */
bool elevated_allowed(const struct config *cfg, const char *agent_id, const char *channel,
		      const char *sender, char *why, size_t whylen);

/*
 * The elevated mode an exec call runs with: "off", "ask" or "full". The
 * session's elevatedLevel (else agents.defaults.elevatedDefault, else
 * "on") applies when elevated is allowed; `requested` is the call's own
 * `elevated` param (-1 absent, 0 false, 1 true). A call asking for
 * elevated where it is not allowed gets NULL and OpenClaw's error in err.
 */
const char *elevated_mode(const struct tool_env *env, int requested, char *err, size_t errlen);

#endif
