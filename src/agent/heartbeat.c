/*
 * heartbeat.c - the agent's periodic check-in (SPEC §4.9).
 *
 * Every `agents.defaults.heartbeat.every` (30m; "0m" disables) the main
 * session gets a turn with the heartbeat prompt, inside activeHours. A
 * reply that is just HEARTBEAT_OK is dropped (run.c). System events queued
 * by `wake` (and later cron, hooks, exec completions) are prepended to the
 * next turn of their session. As OpenClaw does, a heartbeat is skipped when
 * HEARTBEAT.md exists but holds nothing but headings and blank lines, and
 * when no model is configured (there is nothing to ask).
 *
 * Where the reply goes is `heartbeat.target`: "owner" (the default: the
 * first concrete `commands.ownerAllowFrom` entry, as a DM), "last" (the
 * last external conversation), a channel id, or "none" (internal only: the
 * run is recorded and shown to clients watching the session). A scheduled
 * poll with no route is skipped with reason "no-route", as OpenClaw does,
 * so an assistant nobody can hear from does not spend tokens every 30
 * minutes; a wake carrying events still runs. Only WebChat exists so far,
 * and it is not a delivery route: until channel adapters land every target
 * but "none" has no route.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/internal.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "providers/catalog.h"

#define HB_DEFAULT_PROMPT                                                                          \
	"Read HEARTBEAT.md if it exists (workspace context). Follow it strictly. Do not infer or " \
	"repeat old tasks from prior chats. If nothing needs attention, reply HEARTBEAT_OK."
/* System events kept per session, oldest dropped beyond this. */
#define HB_MAX_EVENTS 20

struct hb_event {
	struct hb_event *next;
	char *key;
	char *text;
};

struct heartbeat {
	struct agent_rt *rt;
	uv_timer_t timer;
	bool enabled;
	int64_t every_ms;
	json_t *last; /* last-heartbeat */
	struct hb_event *events;
	bool running;
};

static void hb_closed(uv_handle_t *h)
{
	free(h->data);
}

static bool hb_in_active_hours(const struct config *cfg)
{
	const char *start = config_get_str(cfg, "agents.defaults.heartbeat.activeHours.start");
	const char *end = config_get_str(cfg, "agents.defaults.heartbeat.activeHours.end");
	int sh, sm, eh, em, now;
	time_t t = time(NULL);
	struct tm tm;

	if (!start || !end || sscanf(start, "%d:%d", &sh, &sm) != 2 ||
	    sscanf(end, "%d:%d", &eh, &em) != 2)
		return true;
	localtime_r(&t, &tm);
	now = tm.tm_hour * 60 + tm.tm_min;
	sh = sh * 60 + sm;
	eh = eh * 60 + em;
	return sh <= eh ? (now >= sh && now < eh) : (now >= sh || now < eh);
}

/*
 * A line with nothing to act on, as OpenClaw's isHeartbeatContentEffectivelyEmpty:
 * blank, an ATX heading, an empty list stub ("- ", "* [ ]"), a fence marker.
 */
static bool hb_line_empty(const char *s, size_t n)
{
	size_t i = 0;

	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (!n)
		return true;
	if (*s == '#') {
		while (i < n && s[i] == '#')
			i++;
		return i == n || isspace((unsigned char)s[i]);
	}
	if (*s == '-' || *s == '*' || *s == '+') {
		i = 1;
		while (i < n && isspace((unsigned char)s[i]))
			i++;
		if (i < n && s[i] == '[') {
			i++;
			if (i < n && (s[i] == ' ' || s[i] == 'x' || s[i] == 'X'))
				i++;
			if (i >= n || s[i] != ']')
				return false;
			i++;
			while (i < n && isspace((unsigned char)s[i]))
				i++;
		}
		return i == n;
	}
	if (n >= 3 && !strncmp(s, "```", 3)) {
		for (i = 3; i < n; i++)
			if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
				return false;
		return true;
	}
	return false;
}

/* HEARTBEAT.md with nothing but empty lines (HTML comments removed) has nothing to do. */
static bool hb_file_empty(const char *workspace)
{
	char *path = fs_join(workspace, "HEARTBEAT.md");
	struct buf b, line;
	bool empty = false, in_comment = false;
	const char *p, *end;

	buf_init(&b, 1u << 20);
	buf_init(&line, BUF_UNLIMITED);
	if (fs_read_file(path, &b) == 0) {
		empty = true;
		for (p = b.p, end = b.p + b.len; p < end && empty;) {
			const char *eol = memchr(p, '\n', (size_t)(end - p));
			const char *le = eol ? eol : end, *q = p;

			buf_reset(&line);
			/* drop <!-- ... --> (which may span lines), keep the rest of the line */
			while (q < le) {
				if (in_comment) {
					const char *c = memmem(q, (size_t)(le - q), "-->", 3);
					if (!c) {
						q = le;
						break;
					}
					q = c + 3;
					in_comment = false;
				} else {
					const char *c = memmem(q, (size_t)(le - q), "<!--", 4);
					buf_append(&line, q,
						   c ? (size_t)(c - q) : (size_t)(le - q));
					if (!c)
						break;
					q = c + 4;
					in_comment = true;
				}
			}
			if (!hb_line_empty(line.p ? line.p : "", line.len))
				empty = false;
			p = eol ? eol + 1 : end;
		}
	}
	buf_release(&line);
	buf_release(&b);
	free(path);
	return empty;
}

/* NULL when the heartbeat's reply has somewhere to go, else why not (logged once per poll). */
static const char *hb_no_route(const struct config *cfg, char *why, size_t whylen)
{
	const char *target = config_get_str(cfg, "agents.defaults.heartbeat.target");
	json_t *owners = config_get(cfg, "commands.ownerAllowFrom"), *v;
	const char *owner = NULL;
	size_t i;

	if (!target || !*target)
		target = "owner";
	if (!strcmp(target, "none"))
		return NULL;
	if (!strcmp(target, "owner")) {
		json_array_foreach(owners, i, v)
		{
			const char *o = json_string_value(v);
			if (o && *o && strcmp(o, "*")) {
				owner = o;
				break;
			}
		}
		if (!owner)
			snprintf(why, whylen, "target \"owner\": no commands.ownerAllowFrom entry");
		else
			snprintf(why, whylen, "target \"owner\" (%s): no channel adapter for it",
				 owner);
	} else if (!strcmp(target, "last")) {
		snprintf(why, whylen, "target \"last\": no external conversation yet");
	} else {
		snprintf(why, whylen, "target \"%s\": no such channel", target);
	}
	return "no-route";
}

static void hb_done(void *arg, const char *run_id, const json_t *result)
{
	struct heartbeat *hb = arg;

	hb->running = false;
	json_object_set_new(
		hb->last, "status",
		json_string(json_string_value(json_object_get(result, "status"))
				    ? json_string_value(json_object_get(result, "status"))
				    : "unknown"));
	json_object_set_new(hb->last, "runId", json_string(run_id));
}

static void hb_fire(struct heartbeat *hb, const char *reason)
{
	struct agent_rt *rt = hb->rt;
	const struct config *cfg = rt_cfg(rt);
	struct agent_submit s = { 0 };
	char run_id[64], err[256];
	char *agent = agent_rt_agent_for_key(rt, NULL), *ref = catalog_default_ref(cfg, agent);
	struct agent_state *a = rt_agent(rt, agent);
	const char *skip = NULL;
	char why[160] = "";

	json_decref(hb->last);
	hb->last = json_pack("{s:I, s:s}", "ts", (json_int_t)time_now_ms(), "reason", reason);
	if (hb->running)
		skip = "busy";
	else if (!ref)
		skip = "no-model";
	else if (!hb_in_active_hours(cfg))
		skip = "quiet-hours";
	else if (a && !hb->events && hb_file_empty(a->workspace))
		skip = "empty-heartbeat-file";
	else if (!hb->events && strcmp(reason, "wake"))
		skip = hb_no_route(cfg, why, sizeof(why));
	if (skip) {
		json_object_set_new(hb->last, "status", json_string("skipped"));
		json_object_set_new(hb->last, "skipReason", json_string(skip));
		if (*why) {
			json_object_set_new(hb->last, "detail", json_string(why));
			log_debug(AGENT_SUBSYS, "heartbeat skipped: %s", why);
		}
		goto out;
	}
	s.agent_id = agent;
	s.message = config_get_str(cfg, "agents.defaults.heartbeat.prompt");
	if (!s.message)
		s.message = HB_DEFAULT_PROMPT;
	s.heartbeat = true;
	s.channel = "heartbeat";
	s.done = hb_done;
	s.done_arg = hb;
	if (agent_rt_submit(rt, &s, run_id, NULL, NULL, err, sizeof(err)) == 0) {
		hb->running = true;
		json_object_set_new(hb->last, "status", json_string("started"));
		json_object_set_new(hb->last, "runId", json_string(run_id));
	} else {
		json_object_set_new(hb->last, "status", json_string("failed"));
		json_object_set_new(hb->last, "error", json_string(err));
	}
out:
	free(agent);
	free(ref);
}

static void hb_timer_cb(uv_timer_t *t)
{
	hb_fire(t->data, "interval");
}

void heartbeat_config_changed(struct heartbeat *hb)
{
	const char *every = config_get_str(rt_cfg(hb->rt), "agents.defaults.heartbeat.every");
	int64_t ms = 30 * 60000;

	if (every && time_parse_duration(every, 60000, &ms) < 0)
		ms = 30 * 60000;
	hb->every_ms = ms;
	uv_timer_stop(&hb->timer);
	if (hb->enabled && ms > 0)
		uv_timer_start(&hb->timer, hb_timer_cb, (uint64_t)ms, (uint64_t)ms);
}

struct heartbeat *heartbeat_new(struct agent_rt *rt)
{
	struct heartbeat *hb = xcalloc(1, sizeof(*hb));

	hb->rt = rt;
	hb->enabled = true;
	hb->last = json_null();
	uv_timer_init(rt->loop, &hb->timer);
	hb->timer.data = hb;
	/* a heartbeat alone must not keep the loop (and a CLI --local run) alive */
	uv_unref((uv_handle_t *)&hb->timer);
	heartbeat_config_changed(hb);
	return hb;
}

void heartbeat_free(struct heartbeat *hb)
{
	struct hb_event *e;

	if (!hb)
		return;
	while ((e = hb->events)) {
		hb->events = e->next;
		free(e->key);
		free(e->text);
		free(e);
	}
	json_decref(hb->last);
	uv_close((uv_handle_t *)&hb->timer, hb_closed);
}

char *heartbeat_take_events(struct heartbeat *hb, const char *key)
{
	struct hb_event **pp = &hb->events, *e;
	struct buf b;

	buf_init(&b, 1u << 20);
	while ((e = *pp)) {
		if (!strcmp(e->key, key)) {
			buf_printf(&b, "%sSystem: %s", b.len ? "\n" : "", e->text);
			*pp = e->next;
			free(e->key);
			free(e->text);
			free(e);
			continue;
		}
		pp = &e->next;
	}
	if (!b.len) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

json_t *agent_rt_last_heartbeat(struct agent_rt *rt)
{
	return rt->hb ? json_incref(rt->hb->last) : json_null();
}

void agent_rt_set_heartbeats(struct agent_rt *rt, bool enabled)
{
	if (!rt->hb)
		return;
	rt->hb->enabled = enabled;
	heartbeat_config_changed(rt->hb);
}

int agent_rt_wake(struct agent_rt *rt, const char *session_key, const char *text, bool now)
{
	struct heartbeat *hb = rt->hb;
	struct hb_event *e, **pp;
	char *key;
	size_t n = 0;

	if (!hb)
		return -1;
	key = session_key ? agent_rt_canonical_key(rt, session_key) : NULL;
	if (!key) {
		char *agent = agent_rt_agent_for_key(rt, NULL);
		key = xasprintf("agent:%s:main", agent);
		free(agent);
	}
	e = xcalloc(1, sizeof(*e));
	e->key = key;
	e->text = xstrdup(text);
	for (pp = &hb->events; *pp; pp = &(*pp)->next)
		n++;
	*pp = e;
	if (n >= HB_MAX_EVENTS) {
		struct hb_event *old = hb->events;
		hb->events = old->next;
		free(old->key);
		free(old->text);
		free(old);
	}
	if (now)
		hb_fire(hb, "wake");
	return 0;
}
