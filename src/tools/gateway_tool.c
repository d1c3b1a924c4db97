/*
 * gateway_tool.c - the `gateway` tool: the agent reads and changes the
 * gateway's config through the very config RPCs an operator client uses
 * (called in-process with gw_call_local), for the owner only.
 *
 * Actions, as OpenClaw names them: config.get (redacted snapshot, or the
 * subtree at `path`), config.schema.lookup (`path`), config.patch (a merge
 * patch in `raw`, against `baseHash`), config.apply (a whole config in
 * `raw`). update.run and restart are refused: pincer does not update or
 * restart itself on a model's say-so.
 *
 * A model must never widen what it may run: any write that would change
 * tools.exec.* or tools.elevated.* (globally or for an agent) other than by
 * tightening (exec security/askFallback towards deny, ask towards always,
 * elevated.enabled to false) is refused before it reaches the RPC.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "config/patch.h"
#include "core/buf.h"
#include "core/json5.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "gateway/methods.h"
#include "tools/gateway_tool.h"
#include "tools/tool.h"

#define GT_SUBSYS       "tools"
/* OpenClaw's MAX_GATEWAY_CONFIG_GET_TEXT_CHARS */
#define GT_MAX_GET_TEXT 12000
/* What a write's raw text may weigh (the RPC frame cap is larger; a model has no need). */
#define GT_MAX_RAW      (1u << 20)

static struct gateway *gt_gw;

void tool_gateway_bind(struct gateway *gw)
{
	gt_gw = gw;
}

void tool_gateway_unbind(struct gateway *gw)
{
	if (gt_gw == gw)
		gt_gw = NULL;
}

struct gt_job {
	struct tool_call *call; /* NULL once answered */
	char *action;
	char *path;
	char *raw;
	char *base_hash;
	char *note;
	char *session_key;
	json_t *replace_paths;
	json_t *restart_delay;
	bool pending; /* an in-process call has not answered yet */
};

static void gt_free(struct gt_job *j)
{
	free(j->action);
	free(j->path);
	free(j->raw);
	free(j->base_hash);
	free(j->note);
	free(j->session_key);
	json_decref(j->replace_paths);
	json_decref(j->restart_delay);
	free(j);
}

/* Answer with `payload` (stolen) as pretty JSON text, OpenClaw's jsonResult. */
static void gt_json(struct gt_job *j, json_t *payload, bool is_error)
{
	char *s = json_dumps(payload, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	struct tool_call *call = j->call;

	json_decref(payload);
	j->call = NULL;
	if (call)
		tool_call_text(call, is_error, "%s", s ? s : "{}");
	free(s);
}

static void gt_error(struct gt_job *j, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void gt_error(struct gt_job *j, const char *fmt, ...)
{
	struct tool_call *call = j->call;
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	j->call = NULL;
	if (call)
		tool_call_text(call, true, "%s", s);
	free(s);
}

static void gt_cancel(struct tool_call *call)
{
	struct gt_job *j = call->data;

	if (j && j->call)
		gt_error(j, "gateway: aborted");
}

/* ==== who may call ==== */

/*
 * Is the sender of this run the owner? Operator clients, WebChat and the
 * CLI act for the owner. A run started by a channel sender that is not in
 * commands.ownerAllowFrom is not; channels do not exist yet, and the run
 * does not carry a sender, so for now every run is the owner's.
 * HOOK(owner): when struct agent_run learns its sender (and whether it is
 * an owner), answer from it here.
 */
static bool gt_sender_is_owner(const struct tool_call *call)
{
	(void)call;
	return true;
}

/* ==== the exec policy guard ==== */

/* Looseness ranks, strictest first; an unknown value counts as the loosest. */
static const char *const gt_security_rank[] = { "deny", "allowlist", "full", NULL };
static const char *const gt_ask_rank[] = { "always", "on-miss", "off", NULL };

/* `v`, else what it inherits (`inherit`, may be NULL), else the default. */
static int gt_rank(const json_t *v, const json_t *inherit, const char *const *ranks,
		   const char *dflt)
{
	const char *s = v ? json_string_value(v) : inherit ? json_string_value(inherit) : dflt;
	int i;

	if (!s)
		return 99;
	for (i = 0; ranks[i]; i++)
		if (!strcmp(ranks[i], s))
			return i;
	return 99;
}

/*
 * Compare one exec (or elevated) policy object before and after a write;
 * append what loosens it (or is not a recognised tightening) to `why`.
 * An agent's policy inherits what it leaves out from the global one
 * (`bbase`, `abase`: the global policy before and after; NULL for the
 * global policy itself, which falls back to the built-in defaults).
 */
static void gt_check_policy(const json_t *before, const json_t *after, const json_t *bbase,
			    const json_t *abase, const char *where, bool exec, struct buf *why)
{
	json_t *changed = json_array(), *v;
	size_t i;

	config_diff_paths(before, after, true, changed);
	json_array_foreach(changed, i, v)
	{
		const char *p = json_string_value(v);
		json_t *b = *p ? jpath_get((json_t *)before, p) : NULL;
		json_t *a = *p ? jpath_get((json_t *)after, p) : NULL;
		bool ok = false;

		if (exec && (!strcmp(p, "security") || !strcmp(p, "askFallback")))
			/* pincer's gateway-host default is OpenClaw's: security full */
			ok = gt_rank(a, json_object_get(abase, p), gt_security_rank, "full") <=
			     gt_rank(b, json_object_get(bbase, p), gt_security_rank, "full");
		else if (exec && !strcmp(p, "ask"))
			ok = gt_rank(a, json_object_get(abase, p), gt_ask_rank, "off") <=
			     gt_rank(b, json_object_get(bbase, p), gt_ask_rank, "off");
		else if (!exec && !strcmp(p, "enabled"))
			ok = json_is_false(a);
		if (!ok)
			buf_printf(why, "%s%s%s%s", why->len ? ", " : "", where, *p ? "." : "", p);
	}
	json_decref(changed);
}

/* Both policies of one `tools` object; `bbase`/`abase` the global `tools` (NULL for it). */
static void gt_check_tools(const json_t *before, const json_t *after, const json_t *bbase,
			   const json_t *abase, const char *where, struct buf *why)
{
	char *w;

	w = xasprintf("%s.exec", where);
	gt_check_policy(json_object_get(before, "exec"), json_object_get(after, "exec"),
			json_object_get(bbase, "exec"), json_object_get(abase, "exec"), w, true,
			why);
	free(w);
	w = xasprintf("%s.elevated", where);
	gt_check_policy(json_object_get(before, "elevated"), json_object_get(after, "elevated"),
			json_object_get(bbase, "elevated"), json_object_get(abase, "elevated"), w,
			false, why);
	free(w);
}

/* agents.list entries by id (index when they have none). */
static json_t *gt_agent_by_key(const json_t *list, const char *key)
{
	const json_t *e;
	size_t i;

	json_array_foreach(list, i, e)
	{
		const char *id = json_string_value(json_object_get(e, "id"));
		char idx[32];

		snprintf(idx, sizeof(idx), "#%zu", i);
		if (str_eq(id ? id : idx, key))
			return (json_t *)e;
	}
	return NULL;
}

static void gt_agent_keys(const json_t *list, json_t *keys)
{
	const json_t *e;
	size_t i;

	json_array_foreach(list, i, e)
	{
		const char *id = json_string_value(json_object_get(e, "id"));
		char idx[32];

		snprintf(idx, sizeof(idx), "#%zu", i);
		json_object_set_new(keys, id ? id : idx, json_true());
	}
}

/*
 * What in the change from `before` to `after` (whole config trees) loosens
 * exec policy, as a list of paths in `why` (empty: nothing).
 */
static void gt_exec_guard(const json_t *before, const json_t *after, struct buf *why)
{
	const json_t *bl = jpath_get((json_t *)before, "agents.list");
	const json_t *al = jpath_get((json_t *)after, "agents.list");
	const json_t *be = jpath_get((json_t *)before, "agents.entries");
	const json_t *ae = jpath_get((json_t *)after, "agents.entries");
	const json_t *bt = json_object_get(before, "tools"), *at = json_object_get(after, "tools");
	json_t *keys = json_object(), *v;
	const char *k;

	gt_check_tools(bt, at, NULL, NULL, "tools", why);
	gt_agent_keys(bl, keys);
	gt_agent_keys(al, keys);
	json_object_foreach(keys, k, v)
	{
		char *w = xasprintf("agents.list[%s].tools", k);

		gt_check_tools(json_object_get(gt_agent_by_key(bl, k), "tools"),
			       json_object_get(gt_agent_by_key(al, k), "tools"), bt, at, w, why);
		free(w);
	}
	json_object_clear(keys);
	json_object_foreach((json_t *)be, k, v) json_object_set_new(keys, k, json_true());
	json_object_foreach((json_t *)ae, k, v) json_object_set_new(keys, k, json_true());
	json_object_foreach(keys, k, v)
	{
		char *w = xasprintf("agents.entries.%s.tools", k);

		gt_check_tools(json_object_get(json_object_get(be, k), "tools"),
			       json_object_get(json_object_get(ae, k), "tools"), bt, at, w, why);
		free(w);
	}
	json_decref(keys);
}

/* ==== actions ==== */

/* An RPC error as the tool's error text. Takes `error`. */
static void gt_rpc_error(struct gt_job *j, json_t *error)
{
	const char *msg = json_string_value(json_object_get(error, "message"));
	json_t *issues = json_object_get(json_object_get(error, "details"), "issues");

	if (json_array_size(issues)) {
		json_t *p = json_pack("{s:b, s:s, s:s, s:O}", "ok", 0, "action", j->action, "error",
				      msg ? msg : "failed", "issues", issues);
		json_decref(error);
		gt_json(j, p, true);
		return;
	}
	gt_error(j, "%s failed: %s", j->action, msg ? msg : "unknown error");
	json_decref(error);
}

/* "a.b[0].c" -> the value, or NULL: OpenClaw's resolveGatewayConfigGetPath. */
static json_t *gt_select(json_t *cfg, const char *path)
{
	char *p = xstrdup(path), *seg, *save = NULL;
	json_t *cur = cfg;
	struct buf norm;

	buf_init(&norm, BUF_UNLIMITED);
	for (const char *s = p; *s; s++) {
		if (*s == '[')
			buf_putc(&norm, '.');
		else if (*s != ']')
			buf_putc(&norm, *s);
	}
	free(p);
	for (seg = strtok_r(norm.p, ".", &save); seg && cur; seg = strtok_r(NULL, ".", &save)) {
		if (json_is_array(cur)) {
			char *end;
			long i = strtol(seg, &end, 10);

			cur = *end || i < 0 ? NULL : json_array_get(cur, (size_t)i);
		} else if (json_is_object(cur)) {
			cur = json_object_get(cur, seg);
		} else {
			cur = NULL;
		}
	}
	buf_release(&norm);
	return cur;
}

static void gt_get_done(void *arg, json_t *payload, json_t *error)
{
	struct gt_job *j = arg;
	json_t *result, *out;
	char *text;

	j->pending = false;
	if (error) {
		gt_rpc_error(j, error);
		goto out;
	}
	if (j->path && *j->path) {
		json_t *v = gt_select(json_object_get(payload, "config"), j->path);

		if (!v) {
			json_decref(payload);
			gt_error(j, "config path not found: %s", j->path);
			goto out;
		}
		result = json_pack("{s:O, s:s, s:O}", "hash", json_object_get(payload, "hash"),
				   "path", j->path, "config", v);
		json_decref(payload);
	} else {
		result = payload;
	}
	out = json_pack("{s:b, s:o}", "ok", 1, "result", result);
	text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text || strlen(text) > GT_MAX_GET_TEXT) {
		json_decref(out);
		gt_error(j, "config.get response is too large; use path to request a narrower "
			    "config subtree");
	} else {
		gt_json(j, out, false);
	}
	free(text);
out:
	gt_free(j);
}

static void gt_lookup_done(void *arg, json_t *payload, json_t *error)
{
	struct gt_job *j = arg;

	j->pending = false;
	if (error) {
		const char *msg = json_string_value(json_object_get(error, "message"));

		if (msg && strstr(msg, "config schema path not found")) {
			json_decref(error);
			gt_json(j,
				json_pack("{s:b, s:s, s:s, s:s}", "ok", 0, "code",
					  "schema_path_not_found", "path", j->path, "message",
					  "config schema path not found"),
				false);
		} else {
			gt_rpc_error(j, error);
		}
	} else {
		gt_json(j, json_pack("{s:b, s:o}", "ok", 1, "result", payload), false);
	}
	gt_free(j);
}

static void gt_write_done(void *arg, json_t *payload, json_t *error)
{
	struct gt_job *j = arg;

	j->pending = false;
	if (error)
		gt_rpc_error(j, error);
	else
		gt_json(j, json_pack("{s:b, s:o}", "ok", 1, "result", payload), false);
	gt_free(j);
}

/*
 * A write, step one: the current file (through config.get, so what is
 * compared is what the RPC will patch), then the guard, then the write.
 */
static void gt_write_snapshot(void *arg, json_t *payload, json_t *error)
{
	struct gt_job *j = arg;
	bool patch = !strcmp(j->action, "config.patch");
	json_t *before, *in, *after = NULL, *params;
	struct json5_error jerr;
	struct buf why;

	j->pending = false;
	if (error) {
		gt_rpc_error(j, error);
		gt_free(j);
		return;
	}
	before = json_object_get(payload, "parsed");
	in = json5_parse(j->raw, strlen(j->raw), NULL, NULL, &jerr);
	if (!in || !json_is_object(in)) {
		if (in)
			gt_error(j, "%s: raw must be a JSON5 object", j->action);
		else
			gt_error(j, "%s: JSON5 parse failed at %d:%d: %s", j->action, jerr.line,
				 jerr.col, jerr.text);
		json_decref(in);
		json_decref(payload);
		gt_free(j);
		return;
	}
	if (patch) {
		json_t *replace = config_patch_replace_set(j->replace_paths);

		after = config_merge_patch(before ? before : json_null(), in, replace);
		json_decref(replace);
	} else {
		after = json_incref(in);
	}
	buf_init(&why, 64 * 1024);
	gt_exec_guard(json_is_object(before) ? before : NULL, after, &why);
	if (why.len) {
		log_warn(GT_SUBSYS, "gateway tool: %s refused: it would loosen %s", j->action,
			 why.p);
		gt_json(j,
			json_pack("{s:b, s:s, s:s, s:s+}", "ok", 0, "code", "exec_policy_protected",
				  "action", j->action, "message",
				  "refused: the agent may not loosen exec policy (tools.exec.*, "
				  "tools.elevated.*); it may only tighten it. The owner can change "
				  "it with `pincer config set` or the Control UI. Would change: ",
				  why.p),
			true);
		buf_release(&why);
		json_decref(in);
		json_decref(after);
		json_decref(payload);
		gt_free(j);
		return;
	}
	buf_release(&why);
	json_decref(in);
	json_decref(after);
	params = json_pack("{s:s, s:s}", "raw", j->raw, "baseHash",
			   j->base_hash ? j->base_hash
					: json_string_value(json_object_get(payload, "hash")));
	json_decref(payload);
	if (j->note)
		json_object_set_new(params, "note", json_string(j->note));
	if (j->session_key)
		json_object_set_new(params, "sessionKey", json_string(j->session_key));
	if (j->restart_delay)
		json_object_set(params, "restartDelayMs", j->restart_delay);
	if (patch && j->replace_paths)
		json_object_set(params, "replacePaths", j->replace_paths);
	if (!json_string_value(json_object_get(params, "baseHash")))
		json_object_del(params, "baseHash");
	log_info(GT_SUBSYS, "gateway tool: %s for session %s", j->action,
		 j->session_key ? j->session_key : "-");
	j->pending = true;
	gw_call_local(gt_gw, j->action, params, gt_write_done, j);
}

static const char *gt_str(const json_t *args, const char *key)
{
	const char *s = json_string_value(json_object_get(args, key));

	return s && *s ? s : NULL;
}

static void t_gateway(struct tool_call *call)
{
	const json_t *a = call->args;
	const char *action = gt_str(a, "action");
	struct gt_job *j;

	if (!action) {
		tool_call_text(call, true, "action required");
		return;
	}
	if (!strcmp(action, "update.run") || !strcmp(action, "restart")) {
		tool_call_text(call, true,
			       "%s is not available: pincer does not update or restart itself "
			       "from an agent tool. The operator runs the update (or `pincer "
			       "gateway restart`) outside the gateway; config changes that need a "
			       "restart schedule one themselves.",
			       action);
		return;
	}
	if (strcmp(action, "config.get") && strcmp(action, "config.schema.lookup") &&
	    strcmp(action, "config.patch") && strcmp(action, "config.apply")) {
		tool_call_text(call, true, "Unknown action: %s", action);
		return;
	}
	if (!gt_sender_is_owner(call)) {
		tool_call_text(call, true,
			       "{\n  \"ok\": false,\n  \"code\": \"owner_required\",\n  "
			       "\"message\": \"Only the owner may use the gateway tool. Add the "
			       "sender to commands.ownerAllowFrom to allow it.\"\n}");
		return;
	}
	if (!gt_gw) {
		tool_call_text(call, true,
			       "gateway: %s requires a running gateway (unavailable in local "
			       "embedded mode)",
			       action);
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->call = call;
	j->action = xstrdup(action);
	j->path = gt_str(a, "path") ? xstrdup(gt_str(a, "path")) : NULL;
	j->session_key = call->env.session_key ? xstrdup(call->env.session_key) : NULL;
	call->data = j;
	call->cancel = gt_cancel;
	if (!strcmp(action, "config.get")) {
		j->pending = true;
		gw_call_local(gt_gw, "config.get", NULL, gt_get_done, j);
		return;
	}
	if (!strcmp(action, "config.schema.lookup")) {
		if (!j->path) {
			gt_error(j, "path required");
			gt_free(j);
			return;
		}
		j->pending = true;
		gw_call_local(gt_gw, "config.schema.lookup", json_pack("{s:s}", "path", j->path),
			      gt_lookup_done, j);
		return;
	}
	/* config.patch / config.apply */
	if (!gt_str(a, "raw")) {
		gt_error(j, "raw required");
		gt_free(j);
		return;
	}
	if (strlen(gt_str(a, "raw")) > GT_MAX_RAW) {
		gt_error(j, "raw is too large (limit %u bytes)", GT_MAX_RAW);
		gt_free(j);
		return;
	}
	j->raw = xstrdup(gt_str(a, "raw"));
	j->base_hash = gt_str(a, "baseHash") ? xstrdup(gt_str(a, "baseHash")) : NULL;
	j->note = gt_str(a, "note") ? xstrdup(gt_str(a, "note")) : NULL;
	if (json_is_array(json_object_get(a, "replacePaths")))
		j->replace_paths = json_incref(json_object_get(a, "replacePaths"));
	if (json_is_integer(json_object_get(a, "restartDelayMs")))
		j->restart_delay = json_incref(json_object_get(a, "restartDelayMs"));
	j->pending = true;
	gw_call_local(gt_gw, "config.get", NULL, gt_write_snapshot, j);
}

static char *gt_title(const json_t *args)
{
	const char *action = json_string_value(json_object_get(args, "action"));
	const char *path = json_string_value(json_object_get(args, "path"));

	if (!action)
		return NULL;
	return path ? xasprintf("Gateway %s %.80s", action, path) : xasprintf("Gateway %s", action);
}

const struct tool_def tool_gateway = {
	.name = "gateway",
	.group = "automation",
	.description =
		"Read gateway config/schema (config.get, config.schema.lookup) and change it "
		"(config.patch: merge patch in raw; config.apply: whole config in raw; pass "
		"baseHash "
		"from config.get). Owner only. Exec policy (tools.exec.*, tools.elevated.*) can "
		"only "
		"be tightened. update.run and restart are operator-only. Never via shell.",
	.parameters =
		"{\"type\":\"object\",\"required\":[\"action\"],\"properties\":{"
		"\"action\":{\"type\":\"string\",\"enum\":[\"config.get\",\"config.schema.lookup\","
		"\"config.patch\",\"config.apply\",\"update.run\"]},"
		"\"gatewayUrl\":{\"type\":\"string\"},"
		"\"gatewayToken\":{\"type\":\"string\"},"
		"\"timeoutMs\":{\"type\":\"integer\",\"minimum\":1},"
		"\"note\":{\"type\":\"string\",\"description\":\"Short human note for the "
		"post-update restart notice.\"},"
		"\"path\":{\"type\":\"string\",\"description\":\"Required for "
		"config.schema.lookup; optional for config.get.\"},"
		"\"raw\":{\"type\":\"string\",\"description\":\"config.patch: JSON5 merge patch "
		"(null deletes); config.apply: the whole config as JSON5.\"},"
		"\"baseHash\":{\"type\":\"string\",\"description\":\"The hash from config.get; "
		"writes are refused when the config changed since.\"},"
		"\"replacePaths\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
		"\"description\":\"config.patch: array paths to replace instead of merge by "
		"id.\"},"
		"\"restartDelayMs\":{\"type\":\"integer\",\"minimum\":0}}}",
	.invoke = t_gateway,
	.title = gt_title,
};
