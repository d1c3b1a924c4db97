/*
 * m_approvals.c - exec approvals over the gateway: exec.approvals.get|set
 * (the policy file, operator.admin) and exec.approval.request|waitDecision|
 * resolve|get|list (pending approvals, operator.approvals), plus the hook
 * that lets the approvals service broadcast exec.approval.* events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/paths.h"
#include "core/crypto.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "gateway/internal.h"
#include "tools/approvals.h"
#include "tools/approvals_file.h"

/* ==== the broadcast hook ==== */

static int gw_ap_emit(void *arg, const char *event, json_t *payload, const char *exclude_conn)
{
	struct gateway *gw = arg;
	int n = 0;

	for (const struct gw_conn *c = gw->conns; c; c = c->next)
		if (c->state == GWC_READY && scopes_allow(c->scopes, SCOPE_APPROVALS) &&
		    (!exclude_conn || strcmp(c->conn_id, exclude_conn)))
			n++;
	gateway_broadcast(gw, event, payload, false);
	return n;
}

void gw_approvals_start(struct gateway *gw)
{
	struct approvals_hooks h = { .emit = gw_ap_emit, .arg = gw };

	approvals_init(gw->loop, gw->paths->state_dir, &h);
}

void gw_approvals_stop(struct gateway *gw)
{
	(void)gw;
	approvals_shutdown();
}

/* ==== exec.approvals.get|set ==== */

/* OpenClaw's payload: the snapshot without raw, the socket token withheld, resolvedDefaults. */
static json_t *m_snapshot_payload(const char *path, const struct apf_snapshot *s)
{
	json_t *file = json_deep_copy(s->file), *sock = json_object_get(file, "socket");

	if (json_is_object(sock)) {
		json_object_del(sock, "token");
		if (!json_object_size(sock))
			json_object_del(file, "socket");
	}
	return json_pack("{s:s, s:b, s:s, s:o, s:o}", "path", path, "exists", s->exists, "hash",
			 s->hash, "file", file, "resolvedDefaults", apf_resolved_defaults(s->file));
}

static void m_approvals_get(struct gw_call *call)
{
	char *path;
	struct apf_snapshot s;

	if (gw_call_unpack(call, "{}") < 0)
		return;
	path = approvals_path();
	if (apf_load(path, &s) < 0) {
		gw_call_error(call, GW_E_UNAVAILABLE, s.err, NULL);
	} else {
		gw_call_ok(call, m_snapshot_payload(path, &s));
	}
	apf_snapshot_release(&s);
	free(path);
}

static void m_approvals_set(struct gw_call *call)
{
	static const char *const keys[] = { "file", "baseHash", NULL };
	json_t *file = json_object_get(call->params, "file"), *next, *sock;
	const char *base = json_string_value(json_object_get(call->params, "baseHash"));
	char *path = NULL, *lock = NULL, err[256];
	struct apf_snapshot s = { 0 }, out = { 0 };
	int fd = -1;

	if (gw_call_closed(call, keys) < 0)
		return;
	if (!json_is_object(file)) {
		gw_call_invalid(call, "invalid exec.approvals.set params: at root: must have "
				      "required property 'file'");
		return;
	}
	if (json_object_get(call->params, "baseHash") && (!base || !*base)) {
		gw_call_invalid(call, "invalid exec.approvals.set params: at /baseHash: must NOT "
				      "have fewer than 1 characters");
		return;
	}
	if (apf_validate(file, true, err, sizeof(err)) < 0) {
		gw_call_invalid(call, "invalid exec.approvals.set params: at /file: %s", err);
		return;
	}
	path = approvals_path();
	lock = xasprintf("%s.lock", path);
	{
		char *dir = fs_dirname(path);
		fs_mkdir_p(dir, 0700);
		free(dir);
	}
	fd = fs_lock(lock, 2000);
	if (fd < 0) {
		gw_call_error(call, GW_E_UNAVAILABLE, "exec approvals are locked; retry", NULL);
		goto out;
	}
	apf_load(path, &s);
	/* OpenClaw's base hash rule: required once the file exists, and it must match */
	if (s.exists && !base) {
		gw_call_invalid(call, "exec approvals base hash required; re-run "
				      "exec.approvals.get and retry");
		goto out;
	}
	if (base && strcmp(base, s.hash)) {
		gw_call_invalid(call, "exec approvals changed since last load; re-run "
				      "exec.approvals.get and retry");
		goto out;
	}
	next = json_deep_copy(file);
	apf_normalize(next);
	/* the socket keeps its path and token unless the new file names them */
	sock = json_object_get(next, "socket");
	if (!json_is_object(sock)) {
		sock = json_object();
		json_object_set_new(next, "socket", sock);
	}
	if (!json_string_value(json_object_get(sock, "path"))) {
		const char *cur = json_string_value(
			json_object_get(json_object_get(s.file, "socket"), "path"));
		char *def = fs_join(call->gw->paths->state_dir, APF_SOCKET_NAME);
		json_object_set_new(sock, "path", json_string(cur ? cur : def));
		free(def);
	}
	if (!json_string_value(json_object_get(sock, "token"))) {
		const char *cur = json_string_value(
			json_object_get(json_object_get(s.file, "socket"), "token"));
		char tok[64];
		if (!cur) {
			crypto_random_b64url(tok, 24);
			cur = tok;
		}
		json_object_set_new(sock, "token", json_string(cur));
	}
	if (apf_save(path, next, NULL, err, sizeof(err)) < 0) {
		json_decref(next);
		gw_call_error(call, GW_E_UNAVAILABLE, err, NULL);
		goto out;
	}
	json_decref(next);
	log_info("approvals", "exec approvals replaced by %s",
		 call->conn ? call->conn->conn_id : "?");
	apf_load(path, &out);
	gw_call_ok(call, m_snapshot_payload(path, &out));
out:
	if (fd >= 0)
		fs_unlock(fd);
	apf_snapshot_release(&s);
	apf_snapshot_release(&out);
	free(lock);
	free(path);
}

/* ==== exec.approval.* ==== */

static const char *m_resolved_by(const struct gw_call *call)
{
	const json_t *cl = call->conn ? call->conn->client : NULL;
	const char *s = json_string_value(json_object_get(cl, "displayName"));

	return s ? s : json_string_value(json_object_get(cl, "id"));
}

static void m_not_found(struct gw_call *call, const char *msg)
{
	gw_call_error(call, GW_E_INVALID_REQUEST, msg,
		      json_pack("{s:s, s:s}", "reason", "APPROVAL_NOT_FOUND", "remediation",
				"Re-request the action; pending approvals are cleared after expiry "
				"or restart."));
}

/* A call waiting for a decision (request without twoPhase, waitDecision). */
static void m_wait_done(void *arg, json_t *result)
{
	struct gw_call *call = arg;

	call->cancel = NULL;
	gw_call_ok(call, result);
}

static void m_wait_cancel(struct gw_call *call)
{
	approvals_unwait(call);
	call->cancel = NULL;
	gw_call_error(call, GW_E_UNAVAILABLE, "approval wait cancelled", NULL);
}

static void m_request(struct gw_call *call)
{
	static const char *const keys[] = { "id",
					    "command",
					    "commandArgv",
					    "systemRunPlan",
					    "env",
					    "cwd",
					    "nodeId",
					    "host",
					    "security",
					    "ask",
					    "warningText",
					    "scope",
					    "unavailableDecisions",
					    "commandSpans",
					    "agentId",
					    "resolvedPath",
					    "sessionKey",
					    "sessionId",
					    "runId",
					    "toolCallId",
					    "turnSourceChannel",
					    "turnSourceTo",
					    "turnSourceAccountId",
					    "turnSourceThreadId",
					    "approvalReviewerDeviceIds",
					    "requireDeliveryRoute",
					    "suppressDelivery",
					    "deliverToApprovalClientsOnly",
					    "timeoutMs",
					    "twoPhase",
					    NULL };
	json_t *p = call->params, *t = json_object_get(p, "timeoutMs");
	const char *host = json_string_value(json_object_get(p, "host"));
	char id[64], err[256];
	bool no_route;

	if (gw_call_closed(call, keys) < 0)
		return;
	if (t && (!json_is_integer(t) || json_integer_value(t) < 1)) {
		gw_call_invalid(call, "invalid exec.approval.request params: at /timeoutMs: must "
				      "be integer >= 1");
		return;
	}
	if (json_object_get(p, "command") && !json_is_string(json_object_get(p, "command"))) {
		gw_call_invalid(call, "invalid exec.approval.request params: at /command: must "
				      "be string");
		return;
	}
	if (host && !strcmp(host, "node")) {
		if (!json_string_value(json_object_get(p, "nodeId"))) {
			gw_call_invalid(call, "nodeId is required for host=node");
			return;
		}
		if (!json_is_object(json_object_get(p, "systemRunPlan"))) {
			gw_call_invalid(call, "systemRunPlan is required for host=node");
			return;
		}
	}
	if (approvals_request(p, call->conn ? call->conn->conn_id : NULL, id, &no_route, err,
			      sizeof(err)) < 0) {
		gw_call_invalid(call, "%s", err);
		return;
	}
	if (!no_route && json_is_true(json_object_get(p, "twoPhase"))) {
		json_t *r = approvals_get(id, err, sizeof(err));
		json_t *list = approvals_list(), *row;
		size_t i;
		json_int_t created = 0;
		json_array_foreach(
			list, i,
			row) if (!strcmp(json_string_value(json_object_get(row, "id")), id))
			created = json_integer_value(json_object_get(row, "createdAtMs"));
		gw_call_ok(call,
			   json_pack("{s:s, s:s, s:s, s:I, s:O}", "status", "accepted", "id", id,
				     "deliveryRoute", "approval-client", "createdAtMs", created,
				     "expiresAtMs", json_object_get(r, "expiresAtMs")));
		json_decref(list);
		json_decref(r);
		return;
	}
	call->cancel = m_wait_cancel;
	approvals_wait(id, m_wait_done, call);
}

static void m_wait_decision(struct gw_call *call)
{
	const char *id = json_string_value(json_object_get(call->params, "id"));

	if (!id || !*id) {
		gw_call_invalid(call, "id is required");
		return;
	}
	call->cancel = m_wait_cancel;
	if (approvals_wait(id, m_wait_done, call) < 0) {
		call->cancel = NULL;
		gw_call_invalid(call, "approval expired or not found");
	}
}

static void m_resolve(struct gw_call *call)
{
	static const char *const keys[] = { "id", "decision", "reviewer", "grantExpiresInDays",
					    NULL };
	const char *id, *decision;
	char err[256];
	int r;

	if (gw_call_closed(call, keys) < 0 ||
	    gw_call_unpack_loose(call, "{s:s, s:s}", "id", &id, "decision", &decision) < 0)
		return;
	if (!*id) {
		gw_call_invalid(call, "invalid exec.approval.resolve params: at /id: must NOT have "
				      "fewer than 1 characters");
		return;
	}
	r = approvals_resolve(id, decision, m_resolved_by(call), err, sizeof(err));
	switch (r) {
	case APPROVALS_OK:
		gw_call_ok(call, json_pack("{s:b}", "ok", 1));
		break;
	case APPROVALS_NOT_FOUND:
		m_not_found(call, err);
		break;
	case APPROVALS_ALREADY:
		gw_call_error(call, GW_E_INVALID_REQUEST, err,
			      json_pack("{s:s}", "reason", "APPROVAL_ALREADY_RESOLVED"));
		break;
	case APPROVALS_DISALLOWED:
		gw_call_error(call, GW_E_INVALID_REQUEST, err,
			      json_pack("{s:s}", "reason", "APPROVAL_ALLOW_ALWAYS_UNAVAILABLE"));
		break;
	default:
		gw_call_invalid(call, "%s", err);
	}
}

static void m_get(struct gw_call *call)
{
	const char *id;
	char err[256];
	json_t *r;

	if (gw_call_unpack(call, "{s:s}", "id", &id) < 0)
		return;
	r = approvals_get(id, err, sizeof(err));
	if (!r)
		m_not_found(call, err);
	else
		gw_call_ok(call, r);
}

static void m_list(struct gw_call *call)
{
	gw_call_ok(call, approvals_list());
}

const struct gw_method gw_methods_approvals[] = {
	{ "exec.approvals.get", SCOPE_ADMIN, m_approvals_get },
	{ "exec.approvals.set", SCOPE_ADMIN, m_approvals_set },
	{ "exec.approval.get", SCOPE_APPROVALS, m_get },
	{ "exec.approval.list", SCOPE_APPROVALS, m_list },
	{ "exec.approval.request", SCOPE_APPROVALS, m_request },
	{ "exec.approval.waitDecision", SCOPE_APPROVALS, m_wait_decision },
	{ "exec.approval.resolve", SCOPE_APPROVALS, m_resolve },
	{ NULL },
};
