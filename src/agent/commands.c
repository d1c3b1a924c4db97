/*
 * commands.c - slash commands typed into a chat: /new /reset /model /status
 * /compact /think /verbose /reasoning /stop /queue /help /context /approve
 * /elevated.
 *
 * They run in the session's lane like any message (so /think between two
 * messages applies to the second), and answer without the model. /stop is
 * also caught on arrival (runtime.c), since waiting for the lane would
 * defeat it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "config/config.h"
#include "core/str.h"
#include "providers/catalog.h"
#include "session/store.h"
#include "tools/approvals.h"

static const char help_text[] =
	"Commands:\n"
	"/new [model] — start a new session (optionally with another model)\n"
	"/reset — same as /new\n"
	"/model [provider/model] — show or set this session's model\n"
	"/think [off|minimal|low|medium|high] — show or set the thinking level\n"
	"/verbose on|off — tool progress in replies\n"
	"/reasoning on|off|stream — show the model's reasoning\n"
	"/queue [collect|steer|followup|interrupt] — what happens to messages sent during a run\n"
	"/compact [instructions] — summarise older history to free context\n"
	"/context — what the system prompt holds and what it costs\n"
	"/status — this session at a glance\n"
	"/approve <id> allow-once|allow-always|deny — answer an exec approval\n"
	"/elevated [on|off|ask|full] — show or set elevated mode for exec\n"
	"/stop — stop the current run\n"
	"/help — this list";

const char *cmd_slash_help(void)
{
	return help_text;
}

/* "/cmd rest" -> true with *rest at the argument (trimmed; "" when none). */
static bool match(const char *msg, const char *cmd, const char **rest)
{
	size_t n = strlen(cmd);

	while (isspace((unsigned char)*msg))
		msg++;
	if (strncasecmp(msg, cmd, n) || (msg[n] && !isspace((unsigned char)msg[n])))
		return false;
	msg += n;
	while (isspace((unsigned char)*msg))
		msg++;
	*rest = msg;
	return true;
}

static json_t *entry_of(struct agent_run *run)
{
	return session_store_get(run->lane->agent->store, run->session_key);
}

static void set_field(struct agent_run *run, const char *field, const char *value)
{
	json_t *e = entry_of(run);

	if (!e)
		return;
	if (value)
		json_object_set_new(e, field, json_string(value));
	else
		json_object_del(e, field);
	session_store_save(run->lane->agent->store);
	rt_sessions_changed(run->rt, run->session_key, "patched");
}

static bool one_of(const char *v, const char *const *ok)
{
	for (; *ok; ok++)
		if (!strcasecmp(v, *ok))
			return true;
	return false;
}

static void level_cmd(struct agent_run *run, const char *field, const char *what, const char *arg,
		      const char *const *ok, const char *dflt)
{
	const char *cur = json_string_value(json_object_get(entry_of(run), field));
	char *t;

	if (!*arg) {
		t = xasprintf("%s: %s", what, cur ? cur : dflt);
	} else if (!one_of(arg, ok)) {
		struct buf b;
		buf_init(&b, 4096);
		buf_printf(&b, "Unknown %s \"%s\". Use one of:", what, arg);
		for (; *ok; ok++)
			buf_printf(&b, " %s", *ok);
		t = buf_detach(&b, NULL);
	} else {
		char low[32];
		size_t i;
		for (i = 0; arg[i] && i < sizeof(low) - 1; i++)
			low[i] = (char)tolower((unsigned char)arg[i]);
		low[i] = 0;
		set_field(run, field, low);
		t = xasprintf("%s set to %s.", what, low);
	}
	run_reply(run, t);
	free(t);
}

static char *status_text(struct agent_run *run)
{
	json_t *e = entry_of(run);
	const struct config *cfg = rt_cfg(run->rt);
	const char *po = json_string_value(json_object_get(e, "providerOverride"));
	const char *mo = json_string_value(json_object_get(e, "modelOverride"));
	char *def = catalog_default_ref(cfg, run->agent_id);
	char *model = mo ? (po ? xasprintf("%s/%s", po, mo) : xstrdup(mo))
			 : xstrdup(def ? def : "(none configured)");
	char *t;
	const char *q = json_string_value(json_object_get(e, "queueMode"));

	if (!q)
		q = config_get_str(cfg, "messages.queue.mode");
	t = xasprintf("Agent: %s\nSession: %s (%s)\nModel: %s\nThinking: %s\nTokens: %lld in, "
		      "%lld out, context %lld\nCompactions: %lld\nQueue: %s",
		      run->agent_id, run->session_key,
		      json_string_value(json_object_get(e, "sessionId")), model,
		      json_string_value(json_object_get(e, "thinkingLevel"))
			      ? json_string_value(json_object_get(e, "thinkingLevel"))
			      : "off",
		      (long long)json_integer_value(json_object_get(e, "inputTokens")),
		      (long long)json_integer_value(json_object_get(e, "outputTokens")),
		      (long long)json_integer_value(json_object_get(e, "contextTokens")),
		      (long long)json_integer_value(json_object_get(e, "compactionCount")),
		      q ? q : "collect");
	free(model);
	free(def);
	return t;
}

static void model_cmd(struct agent_run *run, const char *arg)
{
	const struct config *cfg = rt_cfg(run->rt);
	struct prov_model m = { 0 };
	char err[256], *t;

	if (!*arg) {
		json_t *list = catalog_list(cfg), *row;
		struct buf b;
		size_t i;
		char *st = status_text(run);
		buf_init(&b, 1u << 20);
		buf_printf(&b, "%s\n\nModels:", strstr(st, "Model: ") ? strstr(st, "Model: ") : st);
		buf_truncate(&b,
			     (size_t)(strstr(b.p, "\nThinking") ? strstr(b.p, "\nThinking") - b.p
								: (long)b.len));
		buf_puts(&b, "\n\nAvailable:");
		json_array_foreach(list, i, row)
		{
			if (i >= 40)
				break;
			buf_printf(&b, "\n- %s/%s",
				   json_string_value(json_object_get(row, "provider")),
				   json_string_value(json_object_get(row, "id")));
		}
		json_decref(list);
		free(st);
		t = buf_detach(&b, NULL);
	} else if (!strcasecmp(arg, "default") || !strcasecmp(arg, "reset")) {
		set_field(run, "providerOverride", NULL);
		set_field(run, "modelOverride", NULL);
		t = xstrdup("Model reset to the default.");
	} else if (catalog_resolve(cfg, arg, &m, err, sizeof(err)) < 0) {
		t = xasprintf("Cannot use that model: %s", err);
	} else {
		set_field(run, "providerOverride", m.provider);
		set_field(run, "modelOverride", m.id);
		t = xasprintf("Model set to %s/%s.", m.provider, m.id);
		prov_model_release(&m);
	}
	run_reply(run, t);
	free(t);
}

/* ==== /approve and /elevated ==== */

static const char approve_usage[] =
	"Usage: /approve <id> <decision> (see the pending approval message for available "
	"decisions)";

/* OpenClaw's decision words. */
static const char *approve_decision(const char *w)
{
	static const char *const map[][2] = {
		{ "allow", "allow-once" },
		{ "once", "allow-once" },
		{ "allow-once", "allow-once" },
		{ "allowonce", "allow-once" },
		{ "always", "allow-always" },
		{ "allow-always", "allow-always" },
		{ "allowalways", "allow-always" },
		{ "deny", "deny" },
		{ "reject", "deny" },
		{ "block", "deny" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (!strcasecmp(w, map[i][0]))
			return map[i][1];
	return NULL;
}

/*
 * Resolve the approval named in "/approve …" and say how it went (a new
 * string). Either word order works: "/approve <id> deny" or
 * "/approve deny <id>".
 */
static char *approve_apply(const struct agent_run *run, const char *rest)
{
	char a[128] = "", b[128] = "", err[256], by[160];
	const char *decision, *id;
	int r;

	if (sscanf(rest, "%127s %127s", a, b) < 2)
		return xstrdup(approve_usage);
	if ((decision = approve_decision(a)))
		id = b;
	else if ((decision = approve_decision(b)))
		id = a;
	else
		return xstrdup(approve_usage);
	snprintf(by, sizeof(by), "%s:%s", run->channel ? run->channel : "chat", "unknown");
	r = approvals_resolve(id, decision, by, err, sizeof(err));
	if (r != APPROVALS_OK)
		return xasprintf("❌ Failed to submit approval: %s", err);
	return xasprintf("✅ Approval %s submitted for %s.", decision, id);
}

void cmd_slash_approve_early(struct agent_run *run)
{
	const char *rest;

	if (match(run->message, "/approve", &rest))
		free(approve_apply(run, rest));
}

static void elevated_cmd(struct agent_run *run, const char *arg)
{
	static const char *const levels[] = { "off", "on", "ask", "full", NULL };
	const struct config *cfg = rt_cfg(run->rt);
	const char *cur = json_string_value(json_object_get(entry_of(run), "elevatedLevel"));
	char why[512], word[32] = "", *t;

	sscanf(arg, "%31s", word);
	for (char *p = word; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (*word && !one_of(word, levels)) {
		t = xasprintf(
			"Unrecognized elevated level \"%s\". Valid levels: off, on, ask, full.",
			word);
	} else if (!elevated_allowed(cfg, run->agent_id, run->channel, NULL, why, sizeof(why))) {
		t = xstrdup(why);
	} else if (!*word) {
		if (!cur)
			cur = config_get_str(cfg, "agents.defaults.elevatedDefault");
		t = xasprintf("Current elevated level: %s.\nOptions: on, off, ask, full.\n"
			      "⚙️ Runtime is direct; sandboxing does not apply.",
			      cur ? cur : "off");
	} else {
		set_field(run, "elevatedLevel", word);
		t = xstrdup(!strcmp(word, "off") ? "⚙️ Elevated mode disabled."
			    : !strcmp(word, "full")
				    ? "⚙️ Elevated mode set to full (auto-approve)."
				    : "⚙️ Elevated mode set to ask (approvals may "
				      "still apply).");
	}
	run_reply(run, t);
	free(t);
}

bool cmd_slash_handle(struct agent_run *run)
{
	static const char *const thinking[] = { "off",  "minimal", "low", "medium",
						"high", "xhigh",   NULL };
	static const char *const onoff[] = { "on", "off", NULL };
	static const char *const reasoning[] = { "on", "off", "stream", NULL };
	static const char *const queue[] = { "collect", "steer", "followup", "interrupt", NULL };
	const char *msg = run->message, *rest;
	char err[256];

	while (isspace((unsigned char)*msg))
		msg++;
	if (*msg != '/')
		return false;
	if (match(msg, "/new", &rest) || match(msg, "/reset", &rest)) {
		bool is_new = match(msg, "/new", &rest);
		struct prov_model m = { 0 };
		if (rt_reset_lane(run->rt, run->lane, is_new ? "new" : "reset", err, sizeof(err)) <
		    0) {
			run_reply(run, err);
			return true;
		}
		if (*rest && is_new &&
		    catalog_resolve(rt_cfg(run->rt), rest, &m, err, sizeof(err)) == 0) {
			set_field(run, "providerOverride", m.provider);
			set_field(run, "modelOverride", m.id);
			prov_model_release(&m);
			rest = "";
		}
		if (*rest) {
			/* "/new tell me a joke": the rest is the first message of the new session */
			char *m2 = xstrdup(rest);
			free(run->message);
			run->message = m2;
			return false;
		}
		run_reply(run, "New session started.");
		return true;
	}
	if (match(msg, "/stop", &rest)) {
		run_reply(run, "Stopped.");
		return true;
	}
	if (match(msg, "/help", &rest) || match(msg, "/commands", &rest)) {
		run_reply(run, help_text);
		return true;
	}
	if (match(msg, "/status", &rest)) {
		char *t = status_text(run);
		run_reply(run, t);
		free(t);
		return true;
	}
	if (match(msg, "/model", &rest) || match(msg, "/models", &rest)) {
		model_cmd(run, rest);
		return true;
	}
	if (match(msg, "/think", &rest) || match(msg, "/thinking", &rest) ||
	    match(msg, "/t", &rest)) {
		level_cmd(run, "thinkingLevel", "Thinking level", rest, thinking, "off");
		return true;
	}
	if (match(msg, "/verbose", &rest) || match(msg, "/v", &rest)) {
		level_cmd(run, "verboseLevel", "Verbose", rest, onoff, "off");
		return true;
	}
	if (match(msg, "/reasoning", &rest) || match(msg, "/reason", &rest)) {
		level_cmd(run, "reasoningLevel", "Reasoning", rest, reasoning, "off");
		return true;
	}
	if (match(msg, "/queue", &rest)) {
		char mode[32] = "";
		sscanf(rest, "%31s", mode);
		level_cmd(run, "queueMode", "Queue mode", mode, queue,
			  config_get_str(rt_cfg(run->rt), "messages.queue.mode")
				  ? config_get_str(rt_cfg(run->rt), "messages.queue.mode")
				  : "collect");
		return true;
	}
	if (match(msg, "/approve", &rest)) {
		char *t = approve_apply(run, rest);
		run_reply(run, t);
		free(t);
		return true;
	}
	if (match(msg, "/elevated", &rest) || match(msg, "/elev", &rest)) {
		elevated_cmd(run, rest);
		return true;
	}
	if (match(msg, "/compact", &rest)) {
		run->compact_only = true;
		free(run->compact_instructions);
		run->compact_instructions = *rest ? xstrdup(rest) : NULL;
		return false; /* run_start selects a model, then compacts */
	}
	if (match(msg, "/context", &rest)) {
		run->context_only = true;
		return false; /* run_start builds the prompt, then reports on it */
	}
	return false;
}
