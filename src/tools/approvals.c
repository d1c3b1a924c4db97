/*
 * approvals.c - exec approvals at run time: the effective policy for a
 * command, pending approvals (announced, answered, timed out), and
 * elevated mode. See approvals.h; the file itself is approvals_file.c.
 *
 * One service per process, on the loop given to approvals_init(). A
 * pending approval is a record with a timer: an operator's decision or
 * the timeout settles it, its waiters (the exec tool, exec.approval.*
 * callers) are told, and the record stays known for APPROVALS_GRACE_MS
 * so that waitDecision and a repeated resolve still find it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/runtime.h"
#include "agent/workspace.h"
#include "config/config.h"
#include "config/paths.h"
#include "core/fs.h"
#include "core/id.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "session/store.h"
#include "tools/approvals.h"
#include "tools/approvals_file.h"
#include "tools/tool.h"

#define AP_SUBSYS "approvals"

struct ap_waiter {
	struct ap_waiter *next;
	void (*fn)(void *arg, json_t *result);
	void *arg;
};

struct exec_approval {
	struct exec_approval *next;
	char id[64];
	json_t *request; /* what operators are shown */
	json_t *allowed; /* allowedDecisions */
	int64_t created_ms, expires_ms;
	uv_timer_t timer;
	bool done;         /* decided or expired */
	char decision[16]; /* "" when it expired */
	char *resolved_by;
	struct ap_waiter *waiters;

	/* an exec tool's check (cb NULL for requests made over the gateway) */
	void (*cb)(void *arg, bool allowed, const char *reason);
	void *cb_arg;
	char *agent_id, *command;
	int ask_fallback;
	bool fallback_ok; /* askFallback=allowlist would let it run */
	json_t *always;   /* what allow-always persists; NULL: not offered */
	json_t *matches;  /* allowlist entries it uses (lastUsed*) */
	char *resolved_path;
};

static struct {
	uv_loop_t *loop;
	char *state_dir;
	struct approvals_hooks hooks;
	bool stopping;
	struct exec_approval *head;
	unsigned npending;
	int64_t timeout_ms; /* 0: APPROVALS_TIMEOUT_MS */
} A;

void approvals_set_timeout_ms(int64_t ms)
{
	A.timeout_ms = ms > 0 ? ms : 0;
}

/* ==== file access ==== */

char *approvals_path(void)
{
	struct paths p;
	char *r;

	if (A.state_dir)
		return apf_path(A.state_dir);
	paths_resolve(&p, NULL, NULL, false);
	r = apf_path(p.state_dir);
	paths_release(&p);
	return r;
}

/*
 * Read-modify-write the file under its lock (the CLI may write it too).
 * A malformed file is left alone: it fails closed until someone fixes it.
 */
static void ap_update(bool (*fn)(json_t *doc, void *arg), void *arg)
{
	char *path = approvals_path(), *lock = xasprintf("%s.lock", path), err[256];
	char *dir = fs_dirname(path);
	struct apf_snapshot snap;
	int fd;

	fs_mkdir_p(dir, 0700);
	free(dir);
	fd = fs_lock(lock, 2000);
	if (fd < 0) {
		log_warn(AP_SUBSYS, "cannot lock %s: %s", lock, strerror(errno));
		goto out;
	}
	apf_load(path, &snap);
	if (!snap.malformed && fn(snap.file, arg) &&
	    apf_save(path, snap.file, NULL, err, sizeof(err)) < 0)
		log_warn(AP_SUBSYS, "%s", err);
	apf_snapshot_release(&snap);
	fs_unlock(fd);
out:
	free(lock);
	free(path);
}

struct use_arg {
	const char *agent_id, *command, *resolved;
	const json_t *matches, *always;
};

static bool use_apply(json_t *doc, void *arg)
{
	struct use_arg *u = arg;
	int64_t now = time_now_ms();
	bool changed = false;

	if (u->always)
		changed = apf_add_entries(doc, u->agent_id, u->always, now);
	if (u->matches && json_array_size(u->matches))
		changed |=
			apf_record_use(doc, u->agent_id, u->matches, u->command, u->resolved, now);
	return changed;
}

static void record_use(const char *agent_id, const json_t *matches, const json_t *always,
		       const char *command, const char *resolved)
{
	struct use_arg u = { agent_id, command, resolved, matches, always };

	if ((matches && json_array_size(matches)) || always)
		ap_update(use_apply, &u);
}

/* ==== policy ==== */

/* tools.exec.mode's policy (resolveExecPolicyForMode); -1 for none. */
static int mode_policy(const json_t *exec, int *sec, int *ask)
{
	const char *m = json_string_value(json_object_get(exec, "mode"));

	if (!m)
		return -1;
	if (!strcasecmp(m, "deny"))
		*sec = APF_DENY, *ask = APF_ASK_OFF;
	else if (!strcasecmp(m, "allowlist"))
		*sec = APF_ALLOWLIST, *ask = APF_ASK_OFF;
	else if (!strcasecmp(m, "ask") || !strcasecmp(m, "auto"))
		*sec = APF_ALLOWLIST, *ask = APF_ASK_ON_MISS;
	else if (!strcasecmp(m, "full"))
		*sec = APF_FULL, *ask = APF_ASK_OFF;
	else
		return -1;
	return 0;
}

static int field_sec(const json_t *o)
{
	return apf_security_parse(json_string_value(json_object_get(o, "security")));
}

static int field_ask(const json_t *o)
{
	return apf_ask_parse(json_string_value(json_object_get(o, "ask")));
}

/* What the config asks for (resolveRequestedPolicy): the agent's tools.exec over tools.exec. */
static void requested_policy(const struct config *cfg, const char *agent_id, int *sec, int *ask)
{
	json_t *agent = cfg ? workspace_agent_entry(cfg, agent_id) : NULL;
	const json_t *scope = json_object_get(json_object_get(agent, "tools"), "exec");
	const json_t *global = cfg ? config_get(cfg, "tools.exec") : NULL;
	int s = -1, a = -1, gs = -1, ga = -1;
	bool scope_legacy = field_sec(scope) >= 0 || field_ask(scope) >= 0;

	*sec = APF_FULL;
	*ask = APF_ASK_OFF;
	if (mode_policy(scope, sec, ask) == 0)
		return;
	if (mode_policy(global, &gs, &ga) == 0) {
		if (!scope_legacy) {
			*sec = gs, *ask = ga;
			return;
		}
		s = field_sec(scope), a = field_ask(scope);
		*sec = s >= 0 ? s : gs;
		*ask = a >= 0 ? a : ga;
		return;
	}
	s = field_sec(scope) >= 0 ? field_sec(scope) : field_sec(global);
	a = field_ask(scope) >= 0 ? field_ask(scope) : field_ask(global);
	if (s >= 0)
		*sec = s;
	if (a >= 0)
		*ask = a;
}

void exec_policy_resolve(const struct config *cfg, const json_t *file, const char *agent_id,
			 const char *call_security, const char *call_ask, bool elevated_full,
			 struct exec_policy *out)
{
	int rs, ra, cs = apf_security_parse(call_security), ca = apf_ask_parse(call_ask);
	struct apf_policy fb, fp;

	requested_policy(cfg, agent_id, &rs, &ra);
	fb = (struct apf_policy){ rs, ra, APF_DENY, false };
	apf_resolve(file, agent_id, &fb, &fp);
	memset(out, 0, sizeof(*out));
	out->requested_security = rs;
	out->requested_ask = ra;
	out->security = apf_min_security(rs, fp.security);
	out->ask = apf_max_ask(ra, fp.ask);
	/*
	 * Elevated full lifts the prompt only where nothing stricter than
	 * full/off was configured anywhere (OpenClaw's bypassApprovals): it
	 * never overrules an operator's file or config.
	 */
	out->bypass = elevated_full && rs == APF_FULL && ra == APF_ASK_OFF &&
		      fp.security == APF_FULL && fp.ask == APF_ASK_OFF;
	/* the call's own params only tighten */
	if (cs >= 0)
		out->security = apf_min_security(out->security, cs);
	if (ca >= 0 && !out->bypass)
		out->ask = apf_max_ask(out->ask, ca);
	if (out->bypass)
		out->ask = APF_ASK_OFF;
	out->ask_fallback = apf_min_security(out->security, fp.ask_fallback);
}

/* ==== records ==== */

static struct exec_approval *find_exact(const char *id)
{
	for (struct exec_approval *a = A.head; a; a = a->next)
		if (!strcmp(a->id, id))
			return a;
	return NULL;
}

/* By id, else by a unique prefix (OpenClaw accepts the short ids chat shows). */
static struct exec_approval *find(const char *id, bool want_pending, int *why)
{
	struct exec_approval *hit = NULL, *a;
	size_t n = strlen(id);
	int count = 0;

	*why = APPROVALS_NOT_FOUND;
	if (!n)
		return NULL;
	if ((a = find_exact(id)) && a->done != want_pending)
		return a;
	for (a = A.head; a; a = a->next) {
		if (a->done == want_pending || strncmp(a->id, id, n))
			continue;
		hit = a;
		count++;
	}
	if (count > 1) {
		*why = APPROVALS_AMBIGUOUS;
		return NULL;
	}
	return hit;
}

static void rec_free(struct exec_approval *a)
{
	struct ap_waiter *w;

	while ((w = a->waiters)) {
		a->waiters = w->next;
		free(w);
	}
	json_decref(a->request);
	json_decref(a->allowed);
	json_decref(a->always);
	json_decref(a->matches);
	free(a->resolved_by);
	free(a->agent_id);
	free(a->command);
	free(a->resolved_path);
	free(a);
}

static void on_closed(uv_handle_t *h)
{
	rec_free(h->data);
}

static void rec_unlink_close(struct exec_approval *a)
{
	for (struct exec_approval **pp = &A.head; *pp; pp = &(*pp)->next)
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	uv_close((uv_handle_t *)&a->timer, on_closed);
}

static void on_grace(uv_timer_t *t)
{
	rec_unlink_close(t->data);
}

static json_t *wait_result(const struct exec_approval *a)
{
	return json_pack("{s:s, s:o, s:I, s:I}", "id", a->id, "decision",
			 a->decision[0] ? json_string(a->decision) : json_null(), "createdAtMs",
			 (json_int_t)a->created_ms, "expiresAtMs", (json_int_t)a->expires_ms);
}

/* What the exec tool hears for a settled check. */
static void answer_check(struct exec_approval *a)
{
	void (*cb)(void *, bool, const char *) = a->cb;
	char *reason = NULL;
	bool ok = false;

	if (!cb)
		return;
	a->cb = NULL;
	if (!strcmp(a->decision, "deny")) {
		reason = xasprintf("Exec denied (gateway id=%s, user-denied): %s", a->id,
				   a->command);
	} else if (!strcmp(a->decision, "allow-once") || !strcmp(a->decision, "allow-always")) {
		ok = true;
		record_use(a->agent_id, a->matches,
			   !strcmp(a->decision, "allow-always") ? a->always : NULL, a->command,
			   a->resolved_path);
	} else if (a->ask_fallback == APF_FULL) {
		ok = true;
	} else if (a->ask_fallback == APF_ALLOWLIST && a->fallback_ok) {
		ok = true;
		record_use(a->agent_id, a->matches, NULL, a->command, a->resolved_path);
	} else {
		reason = xasprintf("Exec denied (gateway id=%s, %s): %s", a->id,
				   a->ask_fallback == APF_ALLOWLIST
					   ? "approval-timeout: allowlist-miss"
					   : "approval-timeout",
				   a->command);
	}
	log_info(AP_SUBSYS, "approval %s: %s", a->id,
		 a->decision[0] ? a->decision : (ok ? "expired, fallback allows" : "expired"));
	cb(a->cb_arg, ok, reason);
	free(reason);
}

/* Decide (`decision` NULL: expired) and tell everyone waiting. */
static void settle(struct exec_approval *a, const char *decision, const char *by)
{
	struct ap_waiter *w;

	if (a->done)
		return;
	a->done = true;
	A.npending--;
	snprintf(a->decision, sizeof(a->decision), "%s", decision ? decision : "");
	a->resolved_by = by ? xstrdup(by) : NULL;
	uv_timer_stop(&a->timer);
	if (!A.stopping)
		uv_timer_start(&a->timer, on_grace, APPROVALS_GRACE_MS, 0);
	answer_check(a);
	while ((w = a->waiters)) {
		a->waiters = w->next;
		w->fn(w->arg, wait_result(a));
		free(w);
	}
}

static void on_expire(uv_timer_t *t)
{
	settle(t->data, NULL, NULL);
}

static struct exec_approval *rec_new(const char *id, int64_t timeout_ms)
{
	struct exec_approval *a = xcalloc(1, sizeof(*a));

	if (id)
		snprintf(a->id, sizeof(a->id), "%s", id);
	else
		id_uuid(a->id);
	a->created_ms = time_now_ms();
	a->expires_ms = a->created_ms + timeout_ms;
	uv_timer_init(A.loop, &a->timer);
	a->timer.data = a;
	uv_timer_start(&a->timer, on_expire, (uint64_t)timeout_ms, 0);
	a->next = A.head;
	A.head = a;
	A.npending++;
	return a;
}

/* Announce a new record; returns how many clients can answer it. */
static int announce(struct exec_approval *a, const char *exclude_conn)
{
	json_t *ev;

	if (!A.hooks.emit)
		return 0;
	ev = json_pack("{s:s, s:s, s:O, s:I, s:I}", "approvalKind", "exec", "id", a->id, "request",
		       a->request, "createdAtMs", (json_int_t)a->created_ms, "expiresAtMs",
		       (json_int_t)a->expires_ms);
	return A.hooks.emit(A.hooks.arg, "exec.approval.requested", ev, exclude_conn);
}

/* ==== the exec tool's check ==== */

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

struct exec_approval *exec_approval_check(const struct tool_env *env,
					  const struct exec_request *req,
					  void (*cb)(void *arg, bool allowed, const char *reason),
					  void *arg)
{
	const char *agent_id = env->agent_id ? env->agent_id : "main";
	char *path = approvals_path(), *reason = NULL;
	struct apf_snapshot snap;
	struct apf_analysis an;
	struct exec_policy pol;
	json_t *allowlist, *matches = json_array(), *always;
	struct exec_approval *a = NULL;
	bool satisfied, durable, ask;
	const char *resolved;

	if (!req->command || !*req->command) {
		cb(arg, false, "Provide a command to start.");
		free(path);
		return NULL;
	}
	apf_load(path, &snap);
	if (snap.malformed)
		log_warn(AP_SUBSYS, "%s is malformed (%s); denying host exec", path, snap.err);
	exec_policy_resolve(env->cfg, snap.file, agent_id, req->security, req->ask,
			    req->elevated_full, &pol);
	if (pol.security == APF_DENY) {
		cb(arg, false, "exec denied: host=gateway security=deny");
		goto out_snap;
	}
	apf_analyze(req->command, req->cwd, NULL, &an);
	allowlist = apf_allowlist(snap.file, agent_id);
	satisfied = apf_allowlist_satisfied(allowlist, &an, req->cwd, matches);
	durable = apf_has_durable_command(allowlist, req->command);
	resolved =
		an.nseg ? (an.seg[0].resolved_real ? an.seg[0].resolved_real : an.seg[0].resolved)
			: NULL;
	ask = pol.ask == APF_ASK_ALWAYS || (!durable && pol.ask == APF_ASK_ON_MISS &&
					    pol.security == APF_ALLOWLIST && !satisfied);
	if (!ask) {
		if (pol.security == APF_ALLOWLIST && !satisfied && !durable) {
			cb(arg, false, "exec denied: allowlist miss");
		} else {
			if (pol.security == APF_ALLOWLIST)
				record_use(agent_id, matches, NULL, req->command, resolved);
			cb(arg, true, NULL);
		}
		goto out;
	}
	always = pol.ask == APF_ASK_ALWAYS ? NULL : apf_allow_always_entries(&an, req->cwd);
	if (!A.loop || A.stopping || A.npending >= APPROVALS_MAX_PENDING) {
		/* nobody can be asked: the fallback decides now */
		bool ok = pol.ask_fallback == APF_FULL ||
			  (pol.ask_fallback == APF_ALLOWLIST && (satisfied || durable));
		if (ok && pol.ask_fallback == APF_ALLOWLIST)
			record_use(agent_id, matches, NULL, req->command, resolved);
		if (!ok)
			reason = xasprintf("Exec denied (%s): %s",
					   pol.ask_fallback == APF_ALLOWLIST
						   ? "approval-timeout: allowlist-miss"
						   : "approval-timeout",
					   req->command);
		cb(arg, ok, reason);
		json_decref(always);
		goto out;
	}
	a = rec_new(NULL, A.timeout_ms ? A.timeout_ms : APPROVALS_TIMEOUT_MS);
	a->allowed = always ? json_pack("[s,s,s]", "allow-once", "allow-always", "deny")
			    : json_pack("[s,s]", "allow-once", "deny");
	a->request = json_pack("{s:s, s:o, s:n, s:s, s:s, s:s, s:n, s:O, s:s, s:o, s:o, s:o}",
			       "command", req->command, "cwd", jstr_or_null(req->cwd), "nodeId",
			       "host", "gateway", "security", apf_security_name(pol.security),
			       "ask", apf_ask_name(pol.ask), "warningText", "allowedDecisions",
			       a->allowed, "agentId", agent_id, "resolvedPath",
			       jstr_or_null(resolved), "sessionKey", jstr_or_null(env->session_key),
			       "sessionId", jstr_or_null(env->session_id));
	if (!always && pol.ask != APF_ASK_ALWAYS)
		json_object_set_new(a->request, "unavailableDecisions",
				    json_pack("[s]", "allow-always"));
	a->cb = cb;
	a->cb_arg = arg;
	a->agent_id = xstrdup(agent_id);
	a->command = xstrdup(req->command);
	a->ask_fallback = pol.ask_fallback;
	a->fallback_ok = satisfied || durable;
	a->always = always;
	a->matches = json_incref(matches);
	a->resolved_path = resolved ? xstrdup(resolved) : NULL;
	log_info(AP_SUBSYS, "approval %s requested for agent %s", a->id, agent_id);
	if (announce(a, NULL) <= 0) {
		/* no operator client is connected: expire now, as OpenClaw's "no-approval-route" */
		settle(a, NULL, NULL);
		a = NULL;
	}
out:
	json_decref(allowlist);
	apf_analysis_release(&an);
out_snap:
	json_decref(matches);
	apf_snapshot_release(&snap);
	free(reason);
	free(path);
	return a;
}

void exec_approval_cancel(struct exec_approval *a)
{
	if (!a)
		return;
	a->cb = NULL;
	settle(a, NULL, NULL);
}

/* ==== wiring ==== */

void approvals_init(uv_loop_t *loop, const char *state_dir, const struct approvals_hooks *hooks)
{
	A.loop = loop;
	free(A.state_dir);
	A.state_dir = state_dir ? xstrdup(state_dir) : NULL;
	A.hooks = hooks ? *hooks : (struct approvals_hooks){ 0 };
	A.stopping = false;
}

void approvals_shutdown(void)
{
	struct exec_approval *a, *next;

	if (!A.loop)
		return;
	A.stopping = true;
	for (a = A.head; a; a = a->next) {
		if (!a->done && a->cb) {
			void (*cb)(void *, bool, const char *) = a->cb;
			a->cb = NULL;
			cb(a->cb_arg, false, "exec denied: the gateway is shutting down");
		}
		settle(a, NULL, NULL);
	}
	for (a = A.head; a; a = next) {
		next = a->next;
		uv_timer_stop(&a->timer);
		uv_close((uv_handle_t *)&a->timer, on_closed);
	}
	A.head = NULL;
	A.npending = 0;
	A.hooks = (struct approvals_hooks){ 0 };
	A.loop = NULL;
	free(A.state_dir);
	A.state_dir = NULL;
}

/* ==== operator side ==== */

static bool decision_valid(const char *d)
{
	return d && (!strcmp(d, "allow-once") || !strcmp(d, "allow-always") || !strcmp(d, "deny"));
}

int approvals_resolve(const char *id, const char *decision, const char *resolved_by, char *err,
		      size_t errlen)
{
	struct exec_approval *a;
	size_t i;
	json_t *d;
	bool offered = false;
	int why;

	if (!decision_valid(decision)) {
		snprintf(err, errlen, "invalid decision");
		return APPROVALS_BAD_DECISION;
	}
	a = find(id ? id : "", true, &why);
	if (!a) {
		if (why == APPROVALS_AMBIGUOUS) {
			snprintf(err, errlen, "ambiguous approval id prefix; use the full id");
			return why;
		}
		a = find(id ? id : "", false, &why);
		if (a && a->decision[0]) {
			if (!strcmp(a->decision, decision))
				return APPROVALS_OK;
			snprintf(err, errlen, "approval already resolved");
			return APPROVALS_ALREADY;
		}
		snprintf(err, errlen, "unknown or expired approval id");
		return APPROVALS_NOT_FOUND;
	}
	json_array_foreach(a->allowed, i, d) if (!strcmp(json_string_value(d), decision)) offered =
		true;
	if (!offered) {
		snprintf(err, errlen, "allow-always is unavailable for this command");
		return APPROVALS_DISALLOWED;
	}
	if (A.hooks.emit)
		A.hooks.emit(A.hooks.arg, "exec.approval.resolved",
			     json_pack("{s:s, s:s, s:o, s:I, s:O}", "id", a->id, "decision",
				       decision, "resolvedBy", jstr_or_null(resolved_by), "ts",
				       (json_int_t)time_now_ms(), "request", a->request),
			     NULL);
	settle(a, decision, resolved_by);
	return APPROVALS_OK;
}

json_t *approvals_list(void)
{
	json_t *out = json_array();

	for (struct exec_approval *a = A.head; a; a = a->next)
		if (!a->done)
			json_array_append_new(
				out, json_pack("{s:s, s:O, s:I, s:I, s:s}", "id", a->id, "request",
					       a->request, "createdAtMs", (json_int_t)a->created_ms,
					       "expiresAtMs", (json_int_t)a->expires_ms,
					       "approvalKind", "exec"));
	return out;
}

json_t *approvals_get(const char *id, char *err, size_t errlen)
{
	int why;
	struct exec_approval *a = find(id, true, &why);
	json_t *r;

	if (!a) {
		snprintf(err, errlen, "%s",
			 why == APPROVALS_AMBIGUOUS
				 ? "ambiguous approval id prefix; use the full id"
				 : "unknown or expired approval id");
		return NULL;
	}
	r = json_pack("{s:s, s:O, s:O, s:O, s:O, s:O, s:I}", "id", a->id, "commandText",
		      json_object_get(a->request, "command"), "allowedDecisions", a->allowed,
		      "host", json_object_get(a->request, "host"), "nodeId",
		      json_object_get(a->request, "nodeId"), "agentId",
		      json_object_get(a->request, "agentId"), "expiresAtMs",
		      (json_int_t)a->expires_ms);
	return r;
}

/* A string param as OpenClaw's normalizeOptionalString: trimmed, NULL when empty. */
static json_t *opt_str(const json_t *params, const char *key)
{
	const char *s = json_string_value(json_object_get(params, key));
	size_t n;

	if (!s)
		return json_null();
	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return n ? json_stringn(s, n) : json_null();
}

int approvals_request(const json_t *params, const char *requester_conn, char id[64], bool *no_route,
		      char *err, size_t errlen)
{
	const char *explicit_id = json_string_value(json_object_get(params, "id"));
	const char *command = json_string_value(json_object_get(params, "command"));
	json_t *plan = json_object_get(params, "systemRunPlan"), *v, *unavail;
	json_int_t timeout = json_integer_value(json_object_get(params, "timeoutMs"));
	const char *ask = json_string_value(json_object_get(params, "ask"));
	bool keep = json_is_false(json_object_get(params, "requireDeliveryRoute"));
	bool no_always = false;
	struct exec_approval *a;
	size_t i;

	*no_route = false;
	if (!command && plan)
		command = json_string_value(json_object_get(plan, "commandText"));
	if (!command || !*command) {
		snprintf(err, errlen, "command is required");
		return -1;
	}
	if (explicit_id && !strncmp(explicit_id, "plugin:", 7)) {
		snprintf(err, errlen, "approval ids starting with plugin: are reserved");
		return -1;
	}
	if (explicit_id && (strlen(explicit_id) >= 64 || find_exact(explicit_id))) {
		snprintf(err, errlen,
			 strlen(explicit_id) >= 64 ? "approval id too long"
						   : "approval id already pending");
		return -1;
	}
	if (!A.loop || A.stopping || A.npending >= APPROVALS_MAX_PENDING) {
		snprintf(err, errlen, "approval request unavailable");
		return -1;
	}
	if (strlen(command) > APF_MAX_COMMAND) {
		snprintf(err, errlen, "command exceeds exec approval display limit");
		return -1;
	}
	a = rec_new(explicit_id,
		    timeout > 0 ? timeout : (A.timeout_ms ? A.timeout_ms : APPROVALS_TIMEOUT_MS));
	unavail = json_object_get(params, "unavailableDecisions");
	json_array_foreach(unavail, i, v) if (str_eq(json_string_value(v), "allow-always"))
		no_always = true;
	a->allowed = (no_always || str_eq(ask, "always"))
			     ? json_pack("[s,s]", "allow-once", "deny")
			     : json_pack("[s,s,s]", "allow-once", "allow-always", "deny");
	a->request = json_pack(
		"{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:O, s:o, s:o, s:o, s:o, s:o}", "command",
		command, "cwd", opt_str(params, "cwd"), "nodeId", opt_str(params, "nodeId"), "host",
		opt_str(params, "host"), "security", opt_str(params, "security"), "ask",
		opt_str(params, "ask"), "warningText", opt_str(params, "warningText"),
		"allowedDecisions", a->allowed, "agentId", opt_str(params, "agentId"),
		"resolvedPath", opt_str(params, "resolvedPath"), "sessionKey",
		opt_str(params, "sessionKey"), "sessionId", opt_str(params, "sessionId"), "runId",
		opt_str(params, "runId"));
	if ((v = json_object_get(params, "commandArgv")) && json_is_array(v))
		json_object_set(a->request, "commandArgv", v);
	if (plan)
		json_object_set(a->request, "systemRunPlan", plan);
	if (no_always)
		json_object_set_new(a->request, "unavailableDecisions",
				    json_pack("[s]", "allow-always"));
	snprintf(id, 64, "%s", a->id);
	if (json_is_true(json_object_get(params, "suppressDelivery"))) {
		if (!keep) {
			settle(a, NULL, NULL);
			*no_route = true;
		}
		return 0;
	}
	if (announce(a, requester_conn) <= 0 && !keep) {
		settle(a, NULL, NULL);
		*no_route = true;
	}
	return 0;
}

int approvals_wait(const char *id, void (*fn)(void *arg, json_t *result), void *arg)
{
	struct exec_approval *a = id ? find_exact(id) : NULL;
	struct ap_waiter *w;

	if (!a)
		return -1;
	if (a->done) {
		fn(arg, wait_result(a));
		return 0;
	}
	w = xcalloc(1, sizeof(*w));
	w->fn = fn;
	w->arg = arg;
	w->next = a->waiters;
	a->waiters = w;
	return 0;
}

void approvals_unwait(void *arg)
{
	for (struct exec_approval *a = A.head; a; a = a->next)
		for (struct ap_waiter **pp = &a->waiters; *pp;) {
			struct ap_waiter *w = *pp;
			if (w->arg == arg) {
				*pp = w->next;
				free(w);
			} else {
				pp = &w->next;
			}
		}
}

/* ==== elevated ==== */

static bool sender_listed(const json_t *allow_from, const char *channel, const char *sender)
{
	const json_t *list = channel ? json_object_get(allow_from, channel) : NULL, *v;
	size_t i;

	json_array_foreach(list, i, v)
	{
		char num[32];
		const char *s = json_string_value(v);
		if (json_is_number(v)) {
			snprintf(num, sizeof(num), "%.0f", json_number_value(v));
			s = num;
		}
		if (!s)
			continue;
		if (!strcmp(s, "*"))
			return true;
		if (sender && !strcasecmp(s, sender))
			return true;
	}
	return false;
}

bool elevated_allowed(const struct config *cfg, const char *agent_id, const char *channel,
		      const char *sender, char *why, size_t whylen)
{
	const json_t *global = cfg ? config_get(cfg, "tools.elevated") : NULL;
	json_t *agent = cfg ? workspace_agent_entry(cfg, agent_id) : NULL;
	const json_t *acfg = json_object_get(json_object_get(agent, "tools"), "elevated");
	bool genabled = !json_is_false(json_object_get(global, "enabled"));
	bool aenabled = !json_is_false(json_object_get(acfg, "enabled"));
	struct buf b;
	bool ok = true;

	buf_init(&b, 1024);
	if (!genabled) {
		buf_puts(&b, "enabled (tools.elevated.enabled)");
		ok = false;
	}
	if (!aenabled) {
		buf_printf(&b, "%senabled (agents.entries.*.tools.elevated.enabled)",
			   ok ? "" : ", ");
		ok = false;
	}
	if (ok && !channel) {
		buf_puts(&b, "provider (ctx.Provider)");
		ok = false;
	}
	if (ok && !sender_listed(json_object_get(global, "allowFrom"), channel, sender)) {
		buf_printf(&b, "allowFrom (tools.elevated.allowFrom.%s)", channel);
		ok = false;
	}
	if (ok && json_object_get(acfg, "allowFrom") &&
	    !sender_listed(json_object_get(acfg, "allowFrom"), channel, sender)) {
		buf_printf(&b, "allowFrom (agents.entries.*.tools.elevated.allowFrom.%s)", channel);
		ok = false;
	}
	if (!ok && why)
		snprintf(why, whylen,
			 "elevated is not available right now (runtime=direct).\nFailing gates: %s",
			 b.p ? b.p : "");
	buf_release(&b);
	return ok;
}

const char *elevated_mode(const struct tool_env *env, int requested, char *err, size_t errlen)
{
	json_t *entry = NULL;
	const char *channel = NULL, *level = NULL;
	const char *dflt;
	char why[512];
	bool ok;

	if (env->rt && env->session_key) {
		struct session_store *st = agent_rt_store(env->rt, env->agent_id);
		entry = st ? session_store_get(st, env->session_key) : NULL;
		channel = json_string_value(json_object_get(entry, "lastChannel"));
		level = json_string_value(json_object_get(entry, "elevatedLevel"));
	}
	ok = elevated_allowed(env->cfg, env->agent_id, channel, NULL, why, sizeof(why));
	if (!level && env->cfg)
		level = config_get_str(env->cfg, "agents.defaults.elevatedDefault");
	if (!level)
		level = "on";
	dflt = !strcasecmp(level, "full")                                ? "full"
	       : (!strcasecmp(level, "ask") || !strcasecmp(level, "on")) ? "ask"
									 : "off";
	if (requested < 0)
		return ok ? dflt : "off";
	if (requested == 0)
		return "off";
	if (!ok) {
		snprintf(err, errlen,
			 "%s\nContext: provider=%s session=%s\nFix-it keys:\n"
			 "- tools.elevated.enabled\n- tools.elevated.allowFrom.<provider>\n"
			 "- agents.entries.*.tools.elevated.enabled\n"
			 "- agents.entries.*.tools.elevated.allowFrom.<provider>",
			 why, channel ? channel : "-", env->session_key ? env->session_key : "-");
		return NULL;
	}
	return !strcmp(dflt, "full") ? "full" : "ask";
}
