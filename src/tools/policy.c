/*
 * policy.c - tool policy: profiles, groups, allow/deny layers (policy.h).
 *
 * The group and profile tables are OpenClaw 2026.9.6's core tool catalog
 * (src/agents/tool-catalog.ts), restricted to the tools a gateway like
 * this one can have, so that a config written for OpenClaw ("group:fs",
 * profile "coding") means the same thing here.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/workspace.h"
#include "config/config.h"
#include "core/mem.h"
#include "core/str.h"
#include "tools/policy.h"

enum {
	PROF_MINIMAL = 1,
	PROF_CODING = 2,
	PROF_MESSAGING = 4,
};

/* OpenClaw's core catalog: id, section (group), default profiles. */
static const struct core_tool {
	const char *id;
	const char *section;
	unsigned profiles;
} core_tools[] = {
	{ "ls", "fs", PROF_CODING },
	{ "read", "fs", PROF_CODING },
	{ "write", "fs", PROF_CODING },
	{ "edit", "fs", PROF_CODING },
	{ "apply_patch", "fs", PROF_CODING },
	{ "exec", "runtime", PROF_CODING },
	{ "process", "runtime", PROF_CODING },
	{ "code_execution", "runtime", PROF_CODING },
	{ "web_search", "web", PROF_CODING },
	{ "web_fetch", "web", PROF_CODING },
	{ "x_search", "web", PROF_CODING },
	{ "memory_search", "memory", PROF_CODING },
	{ "memory_get", "memory", PROF_CODING },
	{ "sessions_list", "sessions", PROF_CODING | PROF_MESSAGING },
	{ "sessions_history", "sessions", PROF_CODING | PROF_MESSAGING },
	{ "sessions_send", "sessions", PROF_CODING | PROF_MESSAGING },
	{ "sessions_spawn", "sessions", PROF_CODING | PROF_MESSAGING },
	{ "sessions_yield", "sessions", PROF_CODING | PROF_MESSAGING },
	{ "subagents", "sessions", PROF_CODING | PROF_MESSAGING },
	{ "session_status", "sessions", PROF_MINIMAL | PROF_CODING | PROF_MESSAGING },
	{ "browser", "ui", 0 },
	{ "canvas", "ui", 0 },
	{ "message", "messaging", PROF_MESSAGING },
	{ "automations", "automation", PROF_CODING },
	{ "gateway", "automation", PROF_MINIMAL | PROF_CODING | PROF_MESSAGING },
	{ "nodes", "nodes", 0 },
	{ "agents_list", "agents", 0 },
	{ "image", "media", PROF_CODING },
	{ "view_image", "media", PROF_CODING },
	{ "image_generate", "media", PROF_CODING },
	{ "tts", "media", 0 },
	{ "pdf", "media", 0 },
};

/* Tools a sub-agent never gets (OpenClaw's SUBAGENT_TOOL_DENY_ALWAYS). */
static const char *const subagent_deny[] = {
	"gateway", "agents_list", "session_status", "automations", "message", "sessions_send",
};

/* POST /tools/invoke refuses these unless gateway.tools.allow names them. */
static const char *const http_deny[] = {
	"exec",        "spawn",          "shell",         "fs_write",    "fs_delete", "fs_move",
	"apply_patch", "sessions_spawn", "sessions_send", "automations", "gateway",   "nodes",
};

#define NCORE (sizeof(core_tools) / sizeof(core_tools[0]))

struct layer {
	const char *source; /* config path it came from, for tool_policy_why */
	json_t *allow;      /* array of patterns, or NULL: everything */
	json_t *deny;       /* array of patterns, or NULL */
};

struct tool_policy {
	struct layer layers[8];
	size_t n;
	char *profile;
};

/* Canonical policy name: lower case, aliases resolved. Writes into `out`. */
static const char *policy_name(const char *name, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < outlen; i++)
		out[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	out[i] = '\0';
	if (!strcmp(out, "bash"))
		return "exec";
	if (!strcmp(out, "apply-patch"))
		return "apply_patch";
	if (!strcmp(out, "cron"))
		return "automations";
	return out;
}

static bool in_group(const char *group, const char *name)
{
	size_t i;

	if (!strcmp(group, "openclaw") || !strcmp(group, "pincer"))
		return true; /* every built-in tool */
	for (i = 0; i < NCORE; i++)
		if (!strcmp(core_tools[i].section, group) && !strcmp(core_tools[i].id, name))
			return true;
	return false;
}

bool tool_policy_match(const char *pattern, const char *name)
{
	char pb[96], nb[96];
	const char *p, *n;

	if (!pattern || !name)
		return false;
	p = policy_name(pattern, pb, sizeof(pb));
	n = policy_name(name, nb, sizeof(nb));
	if (!strncmp(p, "group:", 6))
		return in_group(p + 6, n);
	if (!strcmp(p, "*"))
		return true;
	if (strpbrk(p, "*?["))
		return fnmatch(p, n, 0) == 0;
	return !strcmp(p, n);
}

static bool list_matches(const json_t *list, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
	{
		if (tool_policy_match(json_string_value(v), name))
			return true;
	}
	return false;
}

/* allow (+ alsoAllow) and deny from one config object, as OpenClaw's pickSandboxToolPolicy. */
static void add_layer(struct tool_policy *p, const char *source, const json_t *obj)
{
	const json_t *allow = json_object_get(obj, "allow");
	const json_t *also = json_object_get(obj, "alsoAllow");
	const json_t *deny = json_object_get(obj, "deny");
	struct layer *l;

	if (!json_is_array(allow) && !(json_is_array(also) && json_array_size(also)) &&
	    !json_is_array(deny))
		return;
	if (p->n == sizeof(p->layers) / sizeof(p->layers[0]))
		return;
	l = &p->layers[p->n++];
	l->source = source;
	l->allow = NULL;
	if (json_is_array(allow)) {
		l->allow = json_copy((json_t *)allow);
		if (json_is_array(also))
			json_array_extend(l->allow, (json_t *)also);
	}
	/* alsoAllow alone restricts nothing: it only widens a profile (add_profile_layer) */
	l->deny = json_is_array(deny) ? json_incref((json_t *)deny) : NULL;
}

/* The allow list of a built-in profile (NULL for "full" or unknown: no restriction). */
static json_t *profile_allow(const char *profile)
{
	unsigned bit = !profile                        ? 0
		       : !strcmp(profile, "minimal")   ? PROF_MINIMAL
		       : !strcmp(profile, "coding")    ? PROF_CODING
		       : !strcmp(profile, "messaging") ? PROF_MESSAGING
						       : 0;
	json_t *a;
	size_t i;

	if (!bit)
		return NULL;
	a = json_array();
	for (i = 0; i < NCORE; i++)
		if (core_tools[i].profiles & bit)
			json_array_append_new(a, json_string(core_tools[i].id));
	return a;
}

static void add_profile_layer(struct tool_policy *p, const char *source, const char *profile,
			      const json_t *also)
{
	json_t *allow = profile_allow(profile);
	struct layer *l;

	if (!allow || p->n == sizeof(p->layers) / sizeof(p->layers[0])) {
		json_decref(allow);
		return;
	}
	if (json_is_array(also))
		json_array_extend(allow, (json_t *)also);
	l = &p->layers[p->n++];
	l->source = source;
	l->allow = allow;
	l->deny = NULL;
}

/* byProvider entry for "provider/model", else "provider" (keys compared case-insensitively). */
static const json_t *by_provider(const json_t *byp, const char *provider, const char *model)
{
	const char *k;
	json_t *v, *hit = NULL;
	char *full;

	if (!json_is_object(byp) || !provider)
		return NULL;
	full = model ? xasprintf("%s/%s", provider, model) : NULL;
	json_object_foreach((json_t *)byp, k, v)
	{
		if (full && !strcasecmp(k, full)) {
			hit = v;
			break;
		}
		if (!strcasecmp(k, provider) && !hit)
			hit = v;
	}
	free(full);
	return json_is_object(hit) ? hit : NULL;
}

struct tool_policy *tool_policy_resolve(const struct config *cfg, const struct tool_policy_ctx *ctx)
{
	struct tool_policy *p = xcalloc(1, sizeof(*p));
	const json_t *g = config_get(cfg, "tools");
	const json_t *entry = ctx->agent_id ? workspace_agent_entry(cfg, ctx->agent_id) : NULL;
	const json_t *a = json_object_get(entry, "tools");
	const json_t *gp =
		by_provider(json_object_get(g, "byProvider"), ctx->provider, ctx->model_id);
	const json_t *ap =
		by_provider(json_object_get(a, "byProvider"), ctx->provider, ctx->model_id);
	const char *profile = json_string_value(json_object_get(a, "profile"));
	const json_t *also = json_object_get(a, "alsoAllow");
	const char *pprof;

	if (!profile) {
		profile = json_string_value(json_object_get(g, "profile"));
		also = json_object_get(g, "alsoAllow");
	} else if (!json_is_array(also)) {
		also = json_object_get(g, "alsoAllow");
	}
	add_profile_layer(p,
			  a && json_object_get(a, "profile") ? "agents.list[].tools.profile"
							     : "tools.profile",
			  profile, also);
	pprof = json_string_value(json_object_get(ap, "profile"));
	if (!pprof)
		pprof = json_string_value(json_object_get(gp, "profile"));
	add_profile_layer(p, "tools.byProvider.profile", pprof,
			  json_object_get(ap ? ap : gp, "alsoAllow"));
	add_layer(p, "tools.allow/deny", g);
	add_layer(p, "tools.byProvider", gp);
	add_layer(p, "agents.list[].tools", a);
	add_layer(p, "agents.list[].tools.byProvider", ap);
	if (ctx->session_key && strstr(ctx->session_key, ":subagent:")) {
		const json_t *st = config_get(cfg, "tools.subagents.tools");
		json_t *deny = json_array();
		size_t i;

		for (i = 0; i < sizeof(subagent_deny) / sizeof(subagent_deny[0]); i++)
			json_array_append_new(deny, json_string(subagent_deny[i]));
		if (json_is_array(json_object_get(st, "deny")))
			json_array_extend(deny, json_object_get(st, "deny"));
		if (p->n < sizeof(p->layers) / sizeof(p->layers[0])) {
			struct layer *l = &p->layers[p->n++];
			l->source = "sub-agent policy (tools.subagents.tools)";
			l->allow = json_is_array(json_object_get(st, "allow"))
					   ? json_copy(json_object_get(st, "allow"))
					   : NULL;
			if (l->allow && json_is_array(json_object_get(st, "alsoAllow")))
				json_array_extend(l->allow, json_object_get(st, "alsoAllow"));
			l->deny = deny;
		} else {
			json_decref(deny);
		}
	}
	p->profile = xstrdup(pprof ? pprof : profile ? profile : "full");
	return p;
}

void tool_policy_free(struct tool_policy *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++) {
		json_decref(p->layers[i].allow);
		json_decref(p->layers[i].deny);
	}
	free(p->profile);
	free(p);
}

/* OpenClaw lets an allow of "write" cover apply_patch. */
static bool layer_allows(const struct layer *l, const char *name)
{
	if (l->deny && list_matches(l->deny, name))
		return false;
	if (!l->allow || !json_array_size(l->allow))
		return true; /* no allow list (or an empty one): everything not denied */
	if (list_matches(l->allow, name))
		return true;
	return tool_policy_match("apply_patch", name) && list_matches(l->allow, "write");
}

const char *tool_policy_why(const struct tool_policy *p, const char *name, char *buf, size_t buflen)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct layer *l = &p->layers[i];
		if (l->deny && list_matches(l->deny, name)) {
			snprintf(buf, buflen, "Tool %s is denied by %s", name, l->source);
			return buf;
		}
		if (!layer_allows(l, name)) {
			snprintf(buf, buflen, "Tool %s is not allowed by %s", name, l->source);
			return buf;
		}
	}
	return NULL;
}

bool tool_policy_allows(const struct tool_policy *p, const char *name)
{
	size_t i;

	if (!p)
		return true;
	for (i = 0; i < p->n; i++)
		if (!layer_allows(&p->layers[i], name))
			return false;
	return true;
}

const char *tool_policy_profile(const struct tool_policy *p)
{
	return p ? p->profile : "full";
}

json_t *tool_policy_default_profiles(const char *name)
{
	json_t *out = json_array();
	char nb[96];
	const char *n = policy_name(name, nb, sizeof(nb));
	size_t i;

	for (i = 0; i < NCORE; i++) {
		if (strcmp(core_tools[i].id, n))
			continue;
		if (core_tools[i].profiles & PROF_MINIMAL)
			json_array_append_new(out, json_string("minimal"));
		if (core_tools[i].profiles & PROF_CODING)
			json_array_append_new(out, json_string("coding"));
		if (core_tools[i].profiles & PROF_MESSAGING)
			json_array_append_new(out, json_string("messaging"));
	}
	return out;
}

json_t *tool_policy_profiles(void)
{
	return json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "id", "minimal", "label",
			 "Minimal", "id", "coding", "label", "Coding", "id", "messaging", "label",
			 "Messaging", "id", "full", "label", "Full");
}

bool tool_policy_http_allows(const struct config *cfg, const char *name)
{
	const json_t *allow = config_get(cfg, "gateway.tools.allow");
	const json_t *deny = config_get(cfg, "gateway.tools.deny");
	size_t i;

	if (json_is_array(deny) && list_matches(deny, name))
		return false;
	if (json_is_array(allow) && list_matches(allow, name))
		return true;
	for (i = 0; i < sizeof(http_deny) / sizeof(http_deny[0]); i++)
		if (tool_policy_match(http_deny[i], name))
			return false;
	return true;
}
