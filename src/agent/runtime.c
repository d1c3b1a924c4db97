/*
 * runtime.c - agents, lanes and the queue in front of them.
 *
 * A lane is one session's line: at most one active run, the messages that
 * arrived meanwhile, and the session's transcript kept open between runs
 * (released after AGENT_LANE_IDLE_MS of quiet). Runs that find the global
 * cap (agents.defaults.maxConcurrent) full wait in one FIFO.
 *
 * Messages arriving during a run follow messages.queue (SPEC §4.6):
 * collect (default) merges them into one follow-up turn, followup runs each
 * after the other, steer hands the text to the active run for its next
 * tool boundary (else followup), interrupt aborts the active run.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "agent/workspace.h"
#include "config/config.h"
#include "config/paths.h"
#include "core/fs.h"
#include "core/id.h"
#include "core/log.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "net/http_client.h"
#include "session/keys.h"
#include "session/reset.h"
#include "memory/memory.h"
#include "session/store.h"

static void lane_pump(struct lane *l);

/* ==== agents ==== */

static const json_t *rt_agent_cfg(struct agent_rt *rt, const char *id)
{
	json_t *list = config_get(rt_cfg(rt), "agents.list"), *a;
	size_t i;

	json_array_foreach(list, i, a)
	{
		if (str_eq(json_string_value(json_object_get(a, "id")), id))
			return a;
	}
	return NULL;
}

const char *rt_default_agent(struct agent_rt *rt)
{
	json_t *list = config_get(rt_cfg(rt), "agents.list"), *a;
	size_t i;

	json_array_foreach(list, i, a)
	{
		if (json_is_true(json_object_get(a, "default")))
			return json_string_value(json_object_get(a, "id"));
	}
	a = json_array_get(list, 0);
	return a && json_string_value(json_object_get(a, "id"))
		       ? json_string_value(json_object_get(a, "id"))
		       : "main";
}

struct agent_state *rt_agent(struct agent_rt *rt, const char *agent_id)
{
	struct agent_state *a;

	for (a = rt->agents; a; a = a->next)
		if (!strcmp(a->id, agent_id))
			return a;
	if (strcmp(agent_id, rt_default_agent(rt)) && !rt_agent_cfg(rt, agent_id))
		return NULL;
	a = xcalloc(1, sizeof(*a));
	a->id = xstrdup(agent_id);
	a->workspace = workspace_dir(rt_cfg(rt), rt->paths, agent_id);
	a->agent_dir = agent_dir(rt->paths, agent_id);
	a->sessions_dir = agent_sessions_dir(rt->paths, agent_id);
	a->store = session_store_open(a->sessions_dir);
	a->auth = auth_store_open(a->agent_dir);
	a->next = rt->agents;
	rt->agents = a;
	return a;
}

int rt_agent_prepare(struct agent_rt *rt, struct agent_state *a, char *err, size_t errlen)
{
	bool created = false;

	if (a->workspace_ready)
		return 0;
	if (workspace_ensure(a->workspace,
			     config_get_bool(rt_cfg(rt), "agents.defaults.skipBootstrap"), &created,
			     err, errlen) < 0)
		return -1;
	if (created)
		log_info(AGENT_SUBSYS, "agent %s: new workspace %s", a->id, a->workspace);
	fs_mkdir_p(a->agent_dir, 0700);
	a->workspace_ready = true;
	return 0;
}

static void agent_state_free(struct agent_state *a)
{
	session_store_free(a->store);
	auth_store_free(a->auth);
	rt_agent_skills_release(a);
	free(a->id);
	free(a->workspace);
	free(a->agent_dir);
	free(a->sessions_dir);
	free(a);
}

/* ==== events ==== */

void rt_emit(struct agent_rt *rt, const char *event, json_t *payload, unsigned flags)
{
	if (rt->hooks.emit)
		rt->hooks.emit(rt->hooks.arg, event, payload, flags);
	else
		json_decref(payload);
}

void rt_sessions_changed(struct agent_rt *rt, const char *key, const char *reason)
{
	rt_emit(rt, "sessions.changed",
		json_pack("{s:s?, s:s, s:I}", "sessionKey", key, "reason", reason, "ts",
			  (json_int_t)time_now_ms()),
		0);
}

/* ==== lanes ==== */

static void lane_debounce_closed(uv_handle_t *h)
{
	struct lane *l = h->data;

	free(l->key);
	free(l);
}

static void lane_free(struct lane *l)
{
	if (l->tr_open)
		transcript_close(&l->tr);
	uv_close((uv_handle_t *)&l->debounce, lane_debounce_closed);
}

struct lane *rt_lane(struct agent_rt *rt, const char *key, struct agent_state *a)
{
	struct lane *l;

	for (l = rt->lanes; l; l = l->next)
		if (!strcmp(l->key, key))
			return l;
	l = xcalloc(1, sizeof(*l));
	l->rt = rt;
	l->key = xstrdup(key);
	l->agent = a;
	uv_timer_init(rt->loop, &l->debounce);
	l->debounce.data = l;
	l->next = rt->lanes;
	rt->lanes = l;
	rt->nlanes++;
	return l;
}

/*
 * Open the lane's transcript for the entry's current session id (reopening
 * when a reset changed it), then append `entry` (stolen; NULL: just open).
 */
int rt_lane_transcript(struct lane *l, json_t *entry, char *err, size_t errlen)
{
	json_t *e = session_store_get(l->agent->store, l->key);
	const char *sid = json_string_value(json_object_get(e, "sessionId"));
	char *path;
	int rc;

	if (!sid) {
		snprintf(err, errlen, "session %s has no session id", l->key);
		json_decref(entry);
		return -1;
	}
	if (l->tr_open && strcmp(l->tr.session_id, sid)) {
		transcript_close(&l->tr);
		l->tr_open = false;
	}
	if (!l->tr_open) {
		path = session_store_transcript_path(l->agent->store, e);
		rc = transcript_open(&l->tr, path, sid, l->agent->workspace, err, errlen);
		free(path);
		if (rc < 0) {
			json_decref(entry);
			return -1;
		}
		if (l->tr.bad_lines)
			log_warn(AGENT_SUBSYS,
				 "session %s: transcript %s has %zu unreadable line(s) (first at "
				 "line %zu), skipped",
				 l->key, l->tr.path, l->tr.bad_lines, l->tr.first_bad_line);
		l->tr_open = true;
	}
	if (entry && !transcript_append(&l->tr, entry)) {
		snprintf(err, errlen, "append to %s: %s", l->tr.path, strerror(errno));
		return -1;
	}
	return 0;
}

int rt_reset_lane(struct agent_rt *rt, struct lane *l, const char *reason, char *err, size_t errlen)
{
	struct session_store *st = l->agent->store;
	json_t *e = session_store_get(st, l->key), *keep;
	char *path, *arch, sid[37];
	static const char *const carry[] = { "thinkingLevel",    "verboseLevel",  "reasoningLevel",
					     "providerOverride", "modelOverride", "label",
					     "queueMode",        "elevatedLevel", "displayName",
					     "lastChannel",      "chatType",      NULL };
	size_t i;

	if (l->tr_open) {
		transcript_close(&l->tr);
		l->tr_open = false;
	}
	keep = json_object();
	if (e) {
		path = session_store_transcript_path(st, e);
		arch = transcript_archive(path, "reset");
		if (arch)
			log_info(AGENT_SUBSYS, "session %s %s: transcript archived as %s", l->key,
				 reason, arch);
		free(arch);
		free(path);
		for (i = 0; carry[i]; i++)
			if (json_object_get(e, carry[i]))
				json_object_set(keep, carry[i], json_object_get(e, carry[i]));
	}
	id_uuid(sid);
	e = session_store_ensure(st, l->key, time_now_ms(), NULL);
	json_object_clear(e);
	json_object_update(e, keep);
	json_decref(keep);
	json_object_set_new(e, "sessionId", json_string(sid));
	json_object_set_new(e, "sessionStartedAt", json_integer(time_now_ms()));
	json_object_set_new(e, "updatedAt", json_integer(time_now_ms()));
	if (session_store_save(st) < 0) {
		snprintf(err, errlen, "cannot save the session store: %s", strerror(errno));
		return -1;
	}
	rt_sessions_changed(rt, l->key, reason);
	return 0;
}

static void lane_start_run(struct lane *l, struct agent_run *run)
{
	struct agent_rt *rt = l->rt;
	long cap = config_get_int(rt_cfg(rt), "agents.defaults.maxConcurrent");

	if (cap <= 0)
		cap = 4;
	l->active = run;
	if (rt->running >= cap) {
		run->in_global_queue = true;
		if (rt->wait_tail)
			rt->wait_tail->wait_next = run;
		else
			rt->wait_head = run;
		rt->wait_tail = run;
		return;
	}
	rt->running++;
	run->counted = true;
	run_start(run);
}

/* Merge queued runs into the first one (collect mode). */
static void lane_collect(struct lane *l)
{
	struct queued_msg *q = l->q_head, *n;
	struct agent_run *first = q->run;
	struct buf b;
	int i = 1;

	if (!q->next)
		return;
	buf_init(&b, 16u << 20);
	buf_puts(&b, "[Queued messages while agent was busy]\n");
	for (; q; q = n, i++) {
		struct agent_run *r = q->run;
		struct run_waiter *w;
		n = q->next;
		buf_printf(&b, "\n---\nQueued #%d\n%s\n", i, r->message);
		if (r == first) {
			if (q != l->q_head)
				free(q);
			continue;
		}
		json_array_append_new(first->aliases, json_string(r->run_id));
		while ((w = r->waiters)) {
			r->waiters = w->next;
			w->next = first->waiters;
			first->waiters = w;
		}
		/* keep images of every merged message */
		if (r->attachments) {
			if (!first->attachments)
				first->attachments = json_array();
			json_array_extend(first->attachments, r->attachments);
		}
		{
			struct agent_run **pp;
			for (pp = &l->rt->runs; *pp; pp = &(*pp)->next)
				if (*pp == r) {
					*pp = r->next;
					break;
				}
		}
		run_free(r);
		free(q);
	}
	free(first->message);
	first->message = buf_detach(&b, NULL);
	l->q_head->next = NULL;
	l->q_tail = l->q_head;
	l->q_len = 1;
}

static const char *lane_queue_mode(struct lane *l, const struct agent_run *run)
{
	json_t *e = session_store_get(l->agent->store, l->key);
	const char *m = run && run->queue_mode ? run->queue_mode : NULL;

	if (!m)
		m = json_string_value(json_object_get(e, "queueMode"));
	if (!m)
		m = config_get_str(rt_cfg(l->rt), "messages.queue.mode");
	return m ? m : "collect";
}

static void lane_debounce_cb(uv_timer_t *t)
{
	struct lane *l = t->data;
	struct queued_msg *q;

	if (l->active || !l->q_head)
		return;
	if (!strcmp(lane_queue_mode(l, l->q_head->run), "collect"))
		lane_collect(l);
	q = l->q_head;
	l->q_head = q->next;
	if (!l->q_head)
		l->q_tail = NULL;
	l->q_len--;
	lane_start_run(l, q->run);
	free(q);
}

static void lane_pump(struct lane *l)
{
	long debounce;

	if (l->active || !l->q_head || l->rt->stopping)
		return;
	debounce = config_get_int(rt_cfg(l->rt), "messages.queue.debounceMs");
	if (debounce < 0)
		debounce = 0;
	/* a follow-up waits for the debounce, so a burst becomes one turn */
	uv_timer_start(&l->debounce, lane_debounce_cb, (uint64_t)debounce, 0);
}

static void done_free(struct done_run *d)
{
	free(d->result);
	free(d);
}

/* A finished run's result (new reference). */
static json_t *done_result(const struct done_run *d)
{
	json_t *r = json_loads(d->result, 0, NULL);

	return r ? r : json_object();
}

static void rt_remember(struct agent_rt *rt, const char *run_id, json_t *result)
{
	struct done_run *d = xcalloc(1, sizeof(*d)), **pp;
	json_t *meta, *report;
	size_t n = 0;

	snprintf(d->run_id, sizeof(d->run_id), "%s", run_id);
	/*
	 * Kept for agent.wait and retried idempotency keys, without the prompt
	 * report: at tens of kB a run, AGENT_DONE_KEEP of them would be most of
	 * the gateway's memory.
	 */
	meta = json_object_get(json_object_get(result, "result"), "meta");
	report = json_incref(json_object_get(meta, "systemPromptReport"));
	if (report) /* taken out for the dump and put back: cheaper than a deep copy */
		json_object_del(meta, "systemPromptReport");
	d->result = json_dumps(result, JSON_COMPACT);
	if (report)
		json_object_set_new(meta, "systemPromptReport", report);
	if (!d->result)
		d->result = xstrdup("{}");
	d->at_ms = time_mono_ms();
	d->next = rt->done;
	rt->done = d;
	rt->ndone++;
	/* bounded: drop the oldest beyond AGENT_DONE_KEEP, a batch at a time (one walk per 64) */
	if (rt->ndone <= AGENT_DONE_KEEP + 64)
		return;
	for (pp = &rt->done; *pp; pp = &(*pp)->next) {
		if (++n > AGENT_DONE_KEEP) {
			struct done_run *x = *pp;
			*pp = NULL;
			while (x) {
				struct done_run *nx = x->next;
				done_free(x);
				rt->ndone--;
				x = nx;
			}
			break;
		}
	}
}

void rt_trim_transcripts(struct agent_rt *rt, const struct lane *keep)
{
	size_t total = 0;
	struct lane *l, *lru;

	for (l = rt->lanes; l; l = l->next)
		if (l->tr_open)
			total += l->tr.bytes;
	while (total > AGENT_TR_CACHE_BYTES) {
		lru = NULL;
		for (l = rt->lanes; l; l = l->next)
			if (l->tr_open && l != keep && !l->active &&
			    (!lru || l->idle_since_ms < lru->idle_since_ms))
				lru = l;
		if (!lru)
			break;
		total -= lru->tr.bytes;
		transcript_close(&lru->tr);
		lru->tr_open = false;
	}
}

void rt_run_finished(struct agent_run *run)
{
	struct agent_rt *rt = run->rt;
	struct lane *l = run->lane;
	struct agent_run **pp;
	struct run_waiter *w;
	json_t *alias;
	size_t i;

	for (pp = &rt->runs; *pp; pp = &(*pp)->next)
		if (*pp == run) {
			*pp = run->next;
			break;
		}
	if (run->in_global_queue) {
		struct agent_run **wp;
		for (wp = &rt->wait_head; *wp; wp = &(*wp)->wait_next)
			if (*wp == run) {
				*wp = run->wait_next;
				break;
			}
		rt->wait_tail = NULL;
		for (struct agent_run *r = rt->wait_head; r; r = r->wait_next)
			rt->wait_tail = r;
	}
	if (run->counted) {
		rt->running--;
		run->counted = false;
	}
	rt_remember(rt, run->run_id, run->result);
	json_array_foreach(run->aliases, i, alias)
	{
		json_t *r = json_deep_copy(run->result);
		json_object_set(r, "runId", alias);
		rt_remember(rt, json_string_value(alias), r);
		json_decref(r);
	}
	while ((w = run->waiters)) {
		run->waiters = w->next;
		w->fn(w->arg, w->run_id, run->result);
		free(w->run_id);
		free(w);
	}
	if (l && l->active == run) {
		l->active = NULL;
		l->idle_since_ms = time_mono_ms();
		lane_pump(l);
	}
	run_free(run);
	rt_trim_transcripts(rt, l);
	/*
	 * A turn's garbage (request bodies, parsed transcripts) is freed in the
	 * middle of the heap, where glibc keeps it; hand it back once the
	 * gateway is idle, at most once a second, so RSS follows what is live.
	 */
	if (!rt->runs && time_mono_ms() - rt->trimmed_ms >= 1000) {
		rt->trimmed_ms = time_mono_ms();
		malloc_trim(0);
	}
	/* a slot is free: the oldest waiting run goes */
	while (rt->wait_head && !rt->stopping) {
		long cap = config_get_int(rt_cfg(rt), "agents.defaults.maxConcurrent");
		struct agent_run *next = rt->wait_head;
		if (cap <= 0)
			cap = 4;
		if (rt->running >= cap)
			break;
		rt->wait_head = next->wait_next;
		if (!rt->wait_head)
			rt->wait_tail = NULL;
		next->in_global_queue = false;
		rt->running++;
		next->counted = true;
		run_start(next);
	}
}

/* ==== deferred store saves ==== */

static void rt_flush_stores(struct agent_rt *rt)
{
	struct agent_state *a;

	for (a = rt->agents; a; a = a->next)
		if (a->dirty) {
			a->dirty = false;
			session_store_save(a->store);
		}
}

static void rt_flush_cb(uv_timer_t *t)
{
	rt_flush_stores(t->data);
}

void rt_store_dirty(struct agent_rt *rt, struct agent_state *a)
{
	a->dirty = true;
	if (rt->flush_open && !uv_is_active((uv_handle_t *)&rt->flush))
		uv_timer_start(&rt->flush, rt_flush_cb, AGENT_STORE_FLUSH_MS, 0);
	else if (!rt->flush_open)
		rt_flush_stores(rt);
}

/* ==== idle sweep ==== */

/*
 * session.maintenance: "warn" (the default) reports what is over the
 * limits; "enforce" prunes entries older than pruneAfter and beyond
 * maxEntries (their transcripts archived as .deleted.<ts>). Sessions with
 * a lane in use are never touched.
 */
static void rt_maintain(struct agent_rt *rt)
{
	const struct config *cfg = rt_cfg(rt);
	const char *mode = config_get_str(cfg, "session.maintenance.mode");
	json_t *after = config_get(cfg, "session.maintenance.pruneAfter");
	long long max = config_get_int(cfg, "session.maintenance.maxEntries");
	int64_t after_ms = 30LL * 86400000;
	struct agent_state *a;

	if (json_is_number(after))
		after_ms = (int64_t)(json_number_value(after) *
				     86400000.0); /* a bare number is days */
	else if (json_is_string(after) &&
		 time_parse_duration(json_string_value(after), 86400000, &after_ms) < 0)
		after_ms = 30LL * 86400000;
	for (a = rt->agents; a; a = a->next) {
		size_t n = json_object_size(session_store_all(a->store)), nkeep = 0, removed;
		const char **keep = xcalloc(rt->nlanes + 1, sizeof(*keep));
		struct lane *l;

		if (!str_eq(mode, "enforce")) {
			if (max > 0 && (long long)n > max)
				log_warn(AGENT_SUBSYS,
					 "agent %s has %zu sessions, over "
					 "session.maintenance.maxEntries "
					 "(%lld); set session.maintenance.mode to \"enforce\" to "
					 "prune",
					 a->id, n, max);
			free(keep);
			continue;
		}
		for (l = rt->lanes; l; l = l->next)
			if (l->agent == a)
				keep[nkeep++] = l->key;
		removed = session_store_prune(a->store, time_now_ms(), after_ms,
					      max > 0 ? (size_t)max : 0, keep);
		if (removed)
			log_info(AGENT_SUBSYS, "agent %s: pruned %zu old session(s)", a->id,
				 removed);
		free(keep);
	}
}

static void rt_sweep_cb(uv_timer_t *t)
{
	struct agent_rt *rt = t->data;
	struct lane **pp = &rt->lanes, *l;
	struct done_run **dp = &rt->done, *d;
	int64_t now = time_mono_ms();

	rt_maintain(rt);
	while ((l = *pp)) {
		if (!l->active && !l->q_head && now - l->idle_since_ms > AGENT_LANE_IDLE_MS) {
			*pp = l->next;
			rt->nlanes--;
			lane_free(l);
			continue;
		}
		pp = &l->next;
	}
	while ((d = *dp)) {
		if (now - d->at_ms > AGENT_DONE_TTL_MS) {
			*dp = d->next;
			done_free(d);
			rt->ndone--;
			continue;
		}
		dp = &d->next;
	}
}

/* ==== public API ==== */

struct agent_rt *agent_rt_new(uv_loop_t *loop, struct config *const *cfgp,
			      const struct paths *paths, const struct agent_hooks *hooks)
{
	struct agent_rt *rt = xcalloc(1, sizeof(*rt));

	rt->loop = loop;
	rt->cfgp = cfgp;
	rt->paths = paths;
	if (hooks)
		rt->hooks = *hooks;
	rt->http = http_client_new(loop);
	uv_timer_init(loop, &rt->sweep);
	rt->sweep.data = rt;
	rt->sweep_open = true;
	{
		/* PINCER_SWEEP_MS: a shorter sweep (lanes, finished runs, maintenance) for tests */
		const char *e = getenv("PINCER_SWEEP_MS");
		long long ms = e ? atoll(e) : 0;
		if (ms <= 0)
			ms = 60000;
		uv_timer_start(&rt->sweep, rt_sweep_cb, (uint64_t)ms, (uint64_t)ms);
	}
	uv_unref((uv_handle_t *)&rt->sweep);
	uv_timer_init(loop, &rt->flush);
	rt->flush.data = rt;
	rt->flush_open = true;
	rt->hb = heartbeat_new(rt);
	return rt;
}

void agent_rt_shutdown(struct agent_rt *rt)
{
	struct agent_run *r;
	struct lane *l;

	if (rt->stopping)
		return;
	rt->stopping = true;
	if (rt->hb) {
		heartbeat_free(rt->hb);
		rt->hb = NULL;
	}
	/* drop queued messages, then abort what runs */
	for (l = rt->lanes; l; l = l->next) {
		struct queued_msg *q;
		uv_timer_stop(&l->debounce);
		while ((q = l->q_head)) {
			l->q_head = q->next;
			run_abort(q->run, "shutdown");
			free(q);
		}
		l->q_tail = NULL;
		l->q_len = 0;
	}
	while ((r = rt->wait_head)) {
		rt->wait_head = r->wait_next;
		r->in_global_queue = false;
		r->phase = RUN_QUEUED;
		run_abort(r, "shutdown");
	}
	rt->wait_tail = NULL;
	while ((r = rt->runs)) {
		run_abort(r, "shutdown");
		if (rt->runs == r) /* could not finish synchronously: detach */
			rt->runs = r->next;
	}
	if (rt->sweep_open) {
		uv_close((uv_handle_t *)&rt->sweep, NULL);
		rt->sweep_open = false;
	}
	if (rt->flush_open) {
		uv_close((uv_handle_t *)&rt->flush, NULL);
		rt->flush_open = false;
	}
	rt_flush_stores(rt);
	for (struct agent_state *a = rt->agents; a; a = a->next)
		rt_agent_skills_stop(a);
	/* every handle is closed here, so the loop can drain before agent_rt_free */
	while ((l = rt->lanes)) {
		rt->lanes = l->next;
		lane_free(l);
	}
	rt->nlanes = 0;
	/* memory indexes embed through rt->http: close them first */
	mem_mgr_shutdown_all(rt->loop);
	http_client_free(rt->http);
	rt->http = NULL;
}

void agent_rt_free(struct agent_rt *rt)
{
	struct agent_state *a;
	struct done_run *d;

	if (!rt)
		return;
	agent_rt_shutdown(rt);
	while ((a = rt->agents)) {
		rt->agents = a->next;
		agent_state_free(a);
	}
	while ((d = rt->done)) {
		rt->done = d->next;
		done_free(d);
	}
	free(rt);
}

void agent_rt_config_changed(struct agent_rt *rt)
{
	if (rt->hb)
		heartbeat_config_changed(rt->hb);
	for (struct agent_state *a = rt->agents; a; a = a->next)
		rt_agent_skills_stale(a);
}

char *agent_rt_agent_for_key(struct agent_rt *rt, const char *session_key)
{
	struct session_key_parts p;

	if (session_key && session_key_parse(session_key, &p) == 0 && p.agent_id)
		return xstrdup(p.agent_id);
	return xstrdup(rt_default_agent(rt));
}

char *agent_rt_canonical_key(struct agent_rt *rt, const char *key)
{
	return session_key_canonical(key, rt_default_agent(rt));
}

struct session_store *agent_rt_store(struct agent_rt *rt, const char *agent_id)
{
	struct agent_state *a = rt_agent(rt, agent_id ? agent_id : rt_default_agent(rt));
	return a ? a->store : NULL;
}

static struct agent_run *rt_find_run(struct agent_rt *rt, const char *run_id)
{
	struct agent_run *r;
	struct lane *l;
	struct queued_msg *q;

	for (r = rt->runs; r; r = r->next)
		if (!strcmp(r->run_id, run_id))
			return r;
	for (l = rt->lanes; l; l = l->next)
		for (q = l->q_head; q; q = q->next)
			if (!strcmp(q->run->run_id, run_id))
				return q->run;
	return NULL;
}

static struct done_run *rt_find_done(struct agent_rt *rt, const char *run_id)
{
	struct done_run *d;

	for (d = rt->done; d; d = d->next)
		if (!strcmp(d->run_id, run_id))
			return d;
	return NULL;
}

static bool is_command(const char *msg, const char *cmd)
{
	size_t n = strlen(cmd);

	while (*msg == ' ' || *msg == '\n')
		msg++;
	return !strncasecmp(msg, cmd, n) && (!msg[n] || msg[n] == ' ' || msg[n] == '\n');
}

int agent_rt_submit(struct agent_rt *rt, const struct agent_submit *s, char run_id[64],
		    bool *queued, bool *duplicate, char *err, size_t errlen)
{
	char *agent_id = NULL, *key = NULL;
	struct agent_state *a;
	struct lane *l;
	struct agent_run *run;
	struct session_key_parts kp;
	json_t *entry;
	bool created = false;
	const char *mode;

	if (queued)
		*queued = false;
	if (duplicate)
		*duplicate = false;
	if (rt->stopping) {
		snprintf(err, errlen, "the gateway is shutting down");
		return -1;
	}
	if (s->run_id && *s->run_id)
		snprintf(run_id, 64, "%s", s->run_id);
	else
		id_uuid(run_id);
	if (rt_find_run(rt, run_id) || rt_find_done(rt, run_id)) {
		if (duplicate)
			*duplicate = true;
		if (s->done && !rt_find_run(rt, run_id)) {
			json_t *r = done_result(rt_find_done(rt, run_id));

			s->done(s->done_arg, run_id, r);
			json_decref(r);
		} else if (s->done)
			agent_rt_wait(rt, run_id, s->done, s->done_arg);
		return 0;
	}
	/* which agent and session */
	if (s->session_key && *s->session_key) {
		key = agent_rt_canonical_key(rt, s->session_key);
		if (!key || session_key_parse(key, &kp) < 0) {
			snprintf(err, errlen, "invalid session key \"%s\"", s->session_key);
			free(key);
			return -1;
		}
		agent_id =
			xstrdup(kp.agent_id ? kp.agent_id
					    : (s->agent_id ? s->agent_id : rt_default_agent(rt)));
	} else {
		agent_id = xstrdup(s->agent_id ? s->agent_id : rt_default_agent(rt));
	}
	a = rt_agent(rt, agent_id);
	if (!a) {
		snprintf(err, errlen, "unknown agent \"%s\"", agent_id);
		goto fail;
	}
	if (!key && s->session_id && *s->session_id) {
		const char *k = session_store_key_for_id(a->store, s->session_id);
		key = k ? xstrdup(k) : xasprintf("agent:%s:explicit:%s", agent_id, s->session_id);
	}
	if (!key)
		key = session_key_main(agent_id);
	entry = session_store_ensure(a->store, key, time_now_ms(), &created);
	if (created) {
		if (s->session_id && *s->session_id)
			json_object_set_new(entry, "sessionId", json_string(s->session_id));
		if (s->channel)
			json_object_set_new(entry, "lastChannel", json_string(s->channel));
		session_store_save(a->store);
		rt_sessions_changed(rt, key, "created");
	} else if (!s->heartbeat) {
		/* daily/idle reset (session.reset), judged before the new message counts */
		const char *why = NULL;
		struct session_key_parts p2;
		enum session_kind kind =
			session_key_parse(key, &p2) == 0 ? p2.kind : SESSION_KIND_OTHER;
		if (session_reset_due(config_get(rt_cfg(rt), "session"), entry, kind, s->channel,
				      time_now_ms(), &why)) {
			l = rt_lane(rt, key, a);
			if (!l->active)
				rt_reset_lane(rt, l, why ? why : "expired", err, errlen);
		}
	}
	l = rt_lane(rt, key, a);
	run = run_new(rt, s, run_id);
	run->lane = l;
	run->agent_id = agent_id;
	run->session_key = key;
	run->next = rt->runs;
	rt->runs = run;
	agent_id = key = NULL;

	/* /stop is never queued: it stops what runs now */
	if (is_command(run->message, "/stop") && l->active) {
		agent_rt_abort(rt, run->session_key, NULL, true, "stop");
	}
	/*
	 * /approve settles at once: the run waiting for the approval holds the
	 * lane. Its reply still comes in turn, as a follow-up of its own.
	 */
	if (is_command(run->message, "/approve") && l->active) {
		cmd_slash_approve_early(run);
		free(run->queue_mode);
		run->queue_mode = xstrdup("followup");
	}
	if (!l->active && !l->q_head) {
		lane_start_run(l, run);
		return 0;
	}
	mode = lane_queue_mode(l, run);
	if (queued)
		*queued = true;
	if (l->active &&
	    (!strcmp(mode, "steer") || !strcmp(mode, "queue") || !strncmp(mode, "steer", 5)) &&
	    run_steer(l->active, run->message)) {
		struct run_waiter *w;
		/* the active run answers for this message too */
		json_array_append_new(l->active->aliases, json_string(run->run_id));
		while ((w = run->waiters)) {
			run->waiters = w->next;
			w->next = l->active->waiters;
			l->active->waiters = w;
		}
		for (struct agent_run **pp = &rt->runs; *pp; pp = &(*pp)->next)
			if (*pp == run) {
				*pp = run->next;
				break;
			}
		run_free(run);
		return 0;
	}
	if (l->active && !strcmp(mode, "interrupt"))
		run_abort(l->active, "interrupted");
	/* cap and drop policy */
	{
		long cap = config_get_int(rt_cfg(rt), "messages.queue.cap");
		const char *drop = config_get_str(rt_cfg(rt), "messages.queue.drop");
		struct queued_msg *q;
		if (cap <= 0)
			cap = 20;
		if ((long)l->q_len >= cap) {
			if (drop && !strcmp(drop, "new")) {
				run->phase = RUN_QUEUED;
				run_abort(run, "queue full");
				return 0;
			}
			q = l->q_head; /* old / summarize: the oldest goes */
			l->q_head = q->next;
			if (!l->q_head)
				l->q_tail = NULL;
			l->q_len--;
			log_warn(AGENT_SUBSYS, "session %s: queue full, dropped the oldest message",
				 l->key);
			run_abort(q->run, "dropped: queue full");
			free(q);
		}
		q = xcalloc(1, sizeof(*q));
		q->run = run;
		run->phase = RUN_QUEUED;
		if (l->q_tail)
			l->q_tail->next = q;
		else
			l->q_head = q;
		l->q_tail = q;
		l->q_len++;
	}
	lane_pump(l);
	return 0;
fail:
	free(agent_id);
	free(key);
	return -1;
}

json_t *agent_rt_result(struct agent_rt *rt, const char *run_id, bool *known)
{
	struct done_run *d = rt_find_done(rt, run_id);

	if (known)
		*known = d || rt_find_run(rt, run_id);
	return d ? done_result(d) : NULL;
}

int agent_rt_wait(struct agent_rt *rt, const char *run_id,
		  void (*fn)(void *arg, const char *run_id, const json_t *result), void *arg)
{
	struct done_run *d = rt_find_done(rt, run_id);
	struct agent_run *r;
	struct run_waiter *w;

	if (d) {
		json_t *res = done_result(d);

		fn(arg, run_id, res);
		json_decref(res);
		return 0;
	}
	r = rt_find_run(rt, run_id);
	if (!r) {
		/* maybe merged into another run */
		for (r = rt->runs; r; r = r->next) {
			json_t *v;
			size_t i;
			json_array_foreach(r->aliases, i,
					   v) if (str_eq(json_string_value(v), run_id)) goto found;
		}
		return -1;
	}
found:
	w = xcalloc(1, sizeof(*w));
	w->run_id = xstrdup(run_id);
	w->fn = fn;
	w->arg = arg;
	w->next = r->waiters;
	r->waiters = w;
	return 0;
}

void agent_rt_unwait(struct agent_rt *rt, const char *run_id, void *arg)
{
	struct agent_run *r;
	struct run_waiter **pp, *w;

	for (r = rt->runs; r; r = r->next) {
		for (pp = &r->waiters; (w = *pp);) {
			if (w->arg == arg && (!run_id || !strcmp(w->run_id, run_id))) {
				*pp = w->next;
				free(w->run_id);
				free(w);
				continue;
			}
			pp = &w->next;
		}
	}
}

int agent_rt_abort(struct agent_rt *rt, const char *session_key, const char *run_id,
		   bool clear_queue, const char *reason)
{
	char *key = session_key ? agent_rt_canonical_key(rt, session_key) : NULL;
	struct lane *l;
	int n = 0;

	for (l = rt->lanes; l; l = l->next) {
		if (key && strcmp(l->key, key))
			continue;
		if (clear_queue || run_id) {
			struct queued_msg **qp = &l->q_head, *q;
			while ((q = *qp)) {
				if (!run_id || !strcmp(q->run->run_id, run_id)) {
					*qp = q->next;
					l->q_len--;
					run_abort(q->run, reason);
					free(q);
					n++;
					continue;
				}
				qp = &q->next;
			}
			l->q_tail = NULL;
			for (q = l->q_head; q; q = q->next)
				l->q_tail = q;
		}
		if (l->active && (!run_id || !strcmp(l->active->run_id, run_id))) {
			run_abort(l->active, reason);
			n++;
		}
	}
	free(key);
	return n;
}

json_t *agent_rt_stats(struct agent_rt *rt)
{
	size_t queued = 0;
	struct lane *l;
	struct agent_run *r;

	for (l = rt->lanes; l; l = l->next)
		queued += l->q_len;
	for (r = rt->wait_head; r; r = r->wait_next)
		queued++;
	return json_pack("{s:i, s:I, s:I, s:I, s:I}", "active", rt->running, "queued",
			 (json_int_t)queued, "lanes", (json_int_t)rt->nlanes, "turns",
			 (json_int_t)rt->turns_done, "httpActive",
			 (json_int_t)(rt->http ? http_client_active(rt->http) : 0));
}
