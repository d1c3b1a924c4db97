/*
 * sessions.c - what the sessions.* and chat.history methods read and change:
 * the per-agent stores and transcripts, through the lanes so that a session
 * with a run in progress is never changed under it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "core/id.h"
#include "config/config.h"
#include "core/log.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "providers/catalog.h"
#include "session/keys.h"
#include "session/store.h"

/* The agent state and canonical key for what a client sent. */
static struct agent_state *resolve(struct agent_rt *rt, const char *key_in, char **key, char *err,
				   size_t errlen)
{
	char *agent;
	struct agent_state *a;

	*key = agent_rt_canonical_key(rt, key_in);
	if (!*key) {
		snprintf(err, errlen, "invalid session key \"%s\"", key_in);
		return NULL;
	}
	agent = agent_rt_agent_for_key(rt, *key);
	a = rt_agent(rt, agent);
	if (!a)
		snprintf(err, errlen, "unknown agent \"%s\"", agent);
	free(agent);
	if (!a) {
		free(*key);
		*key = NULL;
	}
	return a;
}

static json_t *session_row(struct agent_rt *rt, const char *agent_id, const char *key,
			   const json_t *e)
{
	struct session_key_parts p;
	json_t *row = json_deep_copy(e);
	enum session_kind kind = session_key_parse(key, &p) == 0 ? p.kind : SESSION_KIND_OTHER;
	struct lane *l;

	json_object_set_new(row, "key", json_string(key));
	json_object_set_new(row, "agentId", json_string(agent_id));
	json_object_set_new(row, "kind", json_string(session_kind_name(kind)));
	if (p.channel && !json_object_get(row, "channel"))
		json_object_set_new(row, "channel", json_string(p.channel));
	if (!json_object_get(row, "updatedAt"))
		json_object_set_new(row, "updatedAt", json_null());
	for (l = rt->lanes; l; l = l->next)
		if (!strcmp(l->key, key) && l->active) {
			json_object_set_new(row, "status", json_string("running"));
			json_object_set_new(row, "activeRunId", json_string(l->active->run_id));
		}
	return row;
}

static int cmp_updated(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "updatedAt"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "updatedAt"));

	return x < y ? 1 : x > y ? -1 : 0;
}

json_t *agent_rt_sessions_list(struct agent_rt *rt, const json_t *params)
{
	json_t *rows = json_array(), *list = config_get(rt_cfg(rt), "agents.list"), *a, *out, *e;
	const char *only = json_string_value(json_object_get(params, "agentId"));
	const char *search = json_string_value(json_object_get(params, "search"));
	json_int_t limit = json_integer_value(json_object_get(params, "limit"));
	json_int_t active = json_integer_value(json_object_get(params, "activeMinutes"));
	json_t **v;
	size_t i, n;
	const char *key;
	char *def = agent_rt_agent_for_key(rt, NULL);
	char *ref;
	json_t *ids = json_array();

	json_array_append_new(ids, json_string(def));
	json_array_foreach(list, i, a)
	{
		const char *id = json_string_value(json_object_get(a, "id"));
		if (id && strcmp(id, def))
			json_array_append_new(ids, json_string(id));
	}
	json_array_foreach(ids, i, a)
	{
		const char *id = json_string_value(a);
		struct agent_state *st;
		if (only && strcmp(only, id))
			continue;
		st = rt_agent(rt, id);
		if (!st)
			continue;
		json_object_foreach(session_store_all(st->store), key, e)
		{
			if (search && !strstr(key, search) &&
			    !(json_string_value(json_object_get(e, "label")) &&
			      strstr(json_string_value(json_object_get(e, "label")), search)))
				continue;
			if (active > 0 &&
			    time_now_ms() - json_integer_value(json_object_get(e, "updatedAt")) >
				    active * 60000)
				continue;
			json_array_append_new(rows, session_row(rt, id, key, e));
		}
	}
	n = json_array_size(rows);
	v = xcalloc(n ? n : 1, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(rows, i));
	qsort(v, n, sizeof(*v), cmp_updated);
	json_array_clear(rows);
	for (i = 0; i < n; i++) {
		if (limit > 0 && (json_int_t)i >= limit)
			json_decref(v[i]);
		else
			json_array_append_new(rows, v[i]);
	}
	free(v);
	ref = catalog_default_ref(rt_cfg(rt), def);
	out = json_pack("{s:I, s:I, s:o, s:{s:s?}}", "ts", (json_int_t)time_now_ms(), "count",
			(json_int_t)json_array_size(rows), "sessions", rows, "defaults", "model",
			ref);
	free(ref);
	free(def);
	json_decref(ids);
	return out;
}

/* The lane's transcript, opened for reading when no run has it open yet. */
static struct lane *open_lane(struct agent_rt *rt, struct agent_state *a, const char *key,
			      char *err, size_t errlen)
{
	struct lane *l;

	if (!session_store_get(a->store, key)) {
		snprintf(err, errlen, "unknown session \"%s\"", key);
		return NULL;
	}
	l = rt_lane(rt, key, a);
	if (rt_lane_transcript(l, NULL, err, errlen) < 0)
		return NULL;
	if (!l->active)
		l->idle_since_ms = time_mono_ms();
	rt_trim_transcripts(rt, l);
	return l;
}

/* Display form: thinking and tool calls stay (the UI folds them), ids dropped. */
json_t *agent_rt_history(struct agent_rt *rt, const char *session_key, int limit, char *err,
			 size_t errlen)
{
	char *key;
	struct agent_state *a = resolve(rt, session_key, &key, err, errlen);
	struct lane *l;
	json_t *msgs, *out, *e;
	size_t n;

	if (!a)
		return NULL;
	if (!session_store_get(a->store, key)) {
		/* a session never used has an empty history, not an error */
		out = json_pack("{s:s, s:[]}", "sessionKey", key, "messages");
		free(key);
		return out;
	}
	l = open_lane(rt, a, key, err, errlen);
	if (!l) {
		free(key);
		return NULL;
	}
	msgs = transcript_messages(&l->tr);
	n = json_array_size(msgs);
	if (limit > 0 && n > (size_t)limit) {
		json_t *tail = json_array();
		size_t i;
		for (i = n - (size_t)limit; i < n; i++)
			json_array_append(tail, json_array_get(msgs, i));
		json_decref(msgs);
		msgs = tail;
	}
	e = session_store_get(a->store, key);
	out = json_pack("{s:s, s:O, s:o, s:O?}", "sessionKey", key, "sessionId",
			json_object_get(e, "sessionId"), "messages", msgs, "thinkingLevel",
			json_object_get(e, "thinkingLevel"));
	free(key);
	return out;
}

/* A `chat` final event for a message that is not a run's (`msg` stolen); runId "<kind>-<uuid>". */
static void emit_chat_final(struct agent_rt *rt, const char *key, const char *agent,
			    const char *kind, json_t *msg)
{
	char run_id[64], uuid[40];

	id_uuid(uuid);
	snprintf(run_id, sizeof(run_id), "%s-%s", kind, uuid);
	rt_emit(rt, "chat",
		json_pack("{s:s, s:s, s:s, s:i, s:s, s:o}", "runId", run_id, "sessionKey", key,
			  "agentId", agent, "seq", 0, "state", "final", "message", msg),
		0);
}

int agent_rt_inject(struct agent_rt *rt, const char *session_key, const char *text,
		    const char *label, char *err, size_t errlen)
{
	char *key;
	struct agent_state *a = resolve(rt, session_key, &key, err, errlen);
	struct lane *l;
	json_t *msg;
	int rc = -1;

	if (!a)
		return -1;
	l = open_lane(rt, a, key, err, errlen);
	if (!l)
		goto out;
	{
		char *t = label ? xasprintf("[%s]\n\n%s", label, text) : xstrdup(text);
		msg = ev_text_message(t, time_now_ms());
		free(t);
	}
	json_object_set_new(msg, "api", json_string("openclaw-inject"));
	json_object_set_new(msg, "provider", json_string("openclaw"));
	json_object_set_new(msg, "model", json_string("gateway-injected"));
	json_object_set_new(msg, "stopReason", json_string("stop"));
	json_object_set_new(msg, "usage",
			    json_pack("{s:i, s:i, s:i, s:i, s:i}", "input", 0, "output", 0,
				      "cacheRead", 0, "cacheWrite", 0, "totalTokens", 0));
	rc = rt_lane_transcript(l, json_pack("{s:s, s:O}", "type", "message", "message", msg), err,
				errlen);
	if (rc == 0) {
		transcript_sync(&l->tr);
		/* as OpenClaw: clients showing the session see the note at once */
		emit_chat_final(rt, key, a->id, "inject", json_incref(msg));
		rt_sessions_changed(rt, key, "chat.inject");
	}
	json_decref(msg);
out:
	free(key);
	return rc;
}

void agent_rt_show(struct agent_rt *rt, const char *session_key, const char *text)
{
	char *agent = agent_rt_agent_for_key(rt, session_key);

	emit_chat_final(rt, session_key, agent, "message", ev_text_message(text, time_now_ms()));
	free(agent);
}

json_t *agent_rt_reset(struct agent_rt *rt, const char *session_key, const char *reason, char *err,
		       size_t errlen)
{
	char *key;
	struct agent_state *a = resolve(rt, session_key, &key, err, errlen);
	struct lane *l;
	json_t *out = NULL;

	if (!a)
		return NULL;
	l = rt_lane(rt, key, a);
	if (l->active)
		agent_rt_abort(rt, key, NULL, true, "reset");
	if (rt_reset_lane(rt, l, reason ? reason : "reset", err, errlen) == 0)
		out = json_pack("{s:b, s:s, s:O}", "ok", 1, "key", key, "entry",
				session_store_get(a->store, key));
	free(key);
	return out;
}

int agent_rt_delete(struct agent_rt *rt, const char *session_key, bool delete_transcript, char *err,
		    size_t errlen)
{
	char *key, *path, *arch;
	struct agent_state *a = resolve(rt, session_key, &key, err, errlen);
	struct lane *l;
	json_t *e;

	if (!a)
		return -1;
	e = session_store_get(a->store, key);
	if (!e) {
		free(key);
		return 0;
	}
	agent_rt_abort(rt, key, NULL, true, "deleted");
	for (l = rt->lanes; l; l = l->next)
		if (!strcmp(l->key, key) && l->tr_open) {
			transcript_close(&l->tr);
			l->tr_open = false;
		}
	path = session_store_transcript_path(a->store, e);
	if (delete_transcript) {
		arch = transcript_archive(path, "deleted");
		free(arch);
	}
	free(path);
	session_store_remove(a->store, key);
	rt_sessions_changed(rt, key, "deleted");
	free(key);
	return 1;
}

static bool valid_level(const char *v, const char *const *ok)
{
	for (; *ok; ok++)
		if (!strcmp(v, *ok))
			return true;
	return false;
}

json_t *agent_rt_patch(struct agent_rt *rt, const char *session_key, const json_t *patch, char *err,
		       size_t errlen)
{
	static const char *const thinking[] = { "off",  "minimal", "low",      "medium",
						"high", "xhigh",   "adaptive", NULL };
	static const char *const onoff[] = { "on", "off", "full", "stream", "ask", NULL };
	static const char *const queue[] = { "collect",       "steer", "followup",
					     "interrupt",     "queue", "steer-backlog",
					     "steer+backlog", NULL };
	char *key;
	struct agent_state *a = resolve(rt, session_key, &key, err, errlen);
	json_t *e, *v, *out;
	const char *k;
	bool created;

	if (!a)
		return NULL;
	e = session_store_ensure(a->store, key, time_now_ms(), &created);
	json_object_foreach((json_t *)patch, k, v)
	{
		if (!strcmp(k, "key") || !strcmp(k, "agentId") || !strcmp(k, "expectedSessionId"))
			continue;
		if (!strcmp(k, "label") || !strcmp(k, "displayName") || !strcmp(k, "subject")) {
			if (!json_is_string(v) && !json_is_null(v))
				goto bad;
		} else if (!strcmp(k, "thinkingLevel")) {
			if (!json_is_null(v) &&
			    (!json_is_string(v) || !valid_level(json_string_value(v), thinking)))
				goto bad;
		} else if (!strcmp(k, "verboseLevel") || !strcmp(k, "reasoningLevel") ||
			   !strcmp(k, "elevatedLevel")) {
			if (!json_is_null(v) &&
			    (!json_is_string(v) || !valid_level(json_string_value(v), onoff)))
				goto bad;
		} else if (!strcmp(k, "queueMode")) {
			if (!json_is_null(v) &&
			    (!json_is_string(v) || !valid_level(json_string_value(v), queue)))
				goto bad;
		} else if (!strcmp(k, "model")) {
			/* "provider/model" sets both overrides; null clears them */
			if (json_is_null(v)) {
				json_object_del(e, "providerOverride");
				json_object_del(e, "modelOverride");
				continue;
			}
			if (!json_is_string(v))
				goto bad;
			{
				struct prov_model m = { 0 };
				if (catalog_resolve(rt_cfg(rt), json_string_value(v), &m, err,
						    errlen) < 0) {
					free(key);
					return NULL;
				}
				json_object_set_new(e, "providerOverride", json_string(m.provider));
				json_object_set_new(e, "modelOverride", json_string(m.id));
				prov_model_release(&m);
			}
			continue;
		} else if (!strcmp(k, "sendPolicy") || !strcmp(k, "providerOverride") ||
			   !strcmp(k, "modelOverride") || !strcmp(k, "authProfileOverride")) {
			if (!json_is_string(v) && !json_is_null(v))
				goto bad;
		} else {
			snprintf(err, errlen, "invalid sessions.patch params: unknown field \"%s\"",
				 k);
			free(key);
			return NULL;
		}
		if (json_is_null(v))
			json_object_del(e, k);
		else
			json_object_set(e, k, v);
	}
	json_object_set_new(e, "updatedAt", json_integer(time_now_ms()));
	session_store_save(a->store);
	rt_sessions_changed(rt, key, "patched");
	out = json_pack("{s:b, s:s, s:O}", "ok", 1, "key", key, "entry", e);
	free(key);
	return out;
bad:
	snprintf(err, errlen, "invalid sessions.patch params: bad value for \"%s\"", k);
	free(key);
	return NULL;
}

struct compact_req {
	void (*done)(void *arg, const json_t *result);
	void *arg;
};

static void compact_run_done(void *arg, const char *run_id, const json_t *result)
{
	struct compact_req *c = arg;
	const char *status = json_string_value(json_object_get(result, "status"));
	json_t *r = json_pack("{s:b, s:s, s:O?}", "ok", str_eq(status, "ok"), "runId", run_id,
			      "summary", json_object_get(result, "summary"));

	c->done(c->arg, r);
	json_decref(r);
	free(c);
}

int agent_rt_compact(struct agent_rt *rt, const char *session_key, const char *instructions,
		     void (*done)(void *arg, const json_t *result), void *arg, char *err,
		     size_t errlen)
{
	struct agent_submit s = { 0 };
	struct compact_req *c = xcalloc(1, sizeof(*c));
	char run_id[64];
	char *msg = instructions ? xasprintf("/compact %s", instructions) : xstrdup("/compact");
	int rc;

	c->done = done;
	c->arg = arg;
	s.session_key = session_key;
	s.message = msg;
	s.silent = true;
	s.done = compact_run_done;
	s.done_arg = c;
	rc = agent_rt_submit(rt, &s, run_id, NULL, NULL, err, errlen);
	if (rc < 0)
		free(c);
	free(msg);
	return rc;
}
