/*
 * loopdetect.c - repeated identical tool calls (loopdetect.h). Calls are
 * compared by a 64-bit FNV-1a hash of the tool name and its arguments
 * serialised with sorted keys, outcomes by a hash of the result content.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/workspace.h"
#include "config/config.h"
#include "core/mem.h"
#include "tools/loopdetect.h"

struct loop_cfg {
	bool enabled;
	long history, warning, critical, global;
};

static long cfg_long(const json_t *a, const json_t *g, const char *key, long def)
{
	const json_t *v = json_object_get(a, key);

	if (!json_is_integer(v))
		v = json_object_get(g, key);
	return json_is_integer(v) && json_integer_value(v) > 0 ? (long)json_integer_value(v) : def;
}

static struct loop_cfg loop_cfg(const struct config *cfg, const char *agent_id)
{
	const json_t *g = config_get(cfg, "tools.loopDetection");
	const json_t *a = json_object_get(
		json_object_get(agent_id ? workspace_agent_entry(cfg, agent_id) : NULL, "tools"),
		"loopDetection");
	const json_t *en = json_object_get(a, "enabled");
	struct loop_cfg c;

	if (!json_is_boolean(en))
		en = json_object_get(g, "enabled");
	c.enabled = json_is_true(en);
	c.history = cfg_long(a, g, "historySize", 30);
	c.warning = cfg_long(a, g, "warningThreshold", 10);
	c.critical = cfg_long(a, g, "criticalThreshold", 20);
	c.global = cfg_long(a, g, "globalCircuitBreakerThreshold", 30);
	if (c.history > 1000)
		c.history = 1000;
	return c;
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static uint64_t hash_json(const char *name, const json_t *v)
{
	char *s = v ? json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	uint64_t h = fnv(14695981039346656037ULL, name ? name : "");

	h = fnv(fnv(h, "\x1f"), s ? s : "null");
	free(s);
	return h ? h : 1;
}

/* The i-th most recent record (0 = newest). */
static struct tool_loop_rec *rec_back(struct tool_loop *tl, size_t i)
{
	return &tl->recs[(tl->head + tl->cap - 1 - i) % tl->cap];
}

enum loop_level tool_loop_check(struct tool_loop *tl, const struct config *cfg,
				const char *agent_id, const char *name, const json_t *args,
				char *msg, size_t msglen)
{
	struct loop_cfg c = loop_cfg(cfg, agent_id);
	uint64_t h;
	size_t i, same = 0, streak = 0;
	uint64_t last_outcome = 0;

	if (!c.enabled || !tl->n)
		return LOOP_OK;
	h = hash_json(name, args);
	for (i = 0; i < tl->n; i++)
		if (rec_back(tl, i)->call == h)
			same++;
	/* no progress: the newest calls are this call, answered the same way each time */
	for (i = 0; i < tl->n; i++) {
		struct tool_loop_rec *r = rec_back(tl, i);
		if (r->call != h)
			break;
		if (i == 0)
			last_outcome = r->outcome;
		else if (r->outcome != last_outcome)
			break;
		streak++;
	}
	if ((long)streak >= c.global) {
		snprintf(msg, msglen,
			 "CRITICAL: %s repeated identical no-progress outcomes %zu times. Session "
			 "execution blocked by global circuit breaker to prevent runaway loops.",
			 name, streak);
		return LOOP_CRITICAL;
	}
	if ((long)streak >= c.critical) {
		snprintf(msg, msglen,
			 "CRITICAL: Called %s with identical arguments and no progress %zu times. "
			 "Session execution blocked to prevent resource waste.",
			 name, streak);
		return LOOP_CRITICAL;
	}
	if ((long)same >= c.warning) {
		snprintf(msg, msglen,
			 "WARNING: You have called %s %zu times with identical arguments. If this "
			 "is not making progress, stop retrying and report the task as failed.",
			 name, same);
		return LOOP_WARN;
	}
	return LOOP_OK;
}

void tool_loop_record(struct tool_loop *tl, const struct config *cfg, const char *agent_id,
		      const char *name, const json_t *args, const json_t *content, int is_error)
{
	struct loop_cfg c = loop_cfg(cfg, agent_id);
	struct tool_loop_rec *r;

	if (!c.enabled)
		return;
	if (!tl->recs || tl->cap != (size_t)c.history) {
		free(tl->recs);
		tl->cap = (size_t)c.history;
		tl->recs = xcalloc(tl->cap, sizeof(*tl->recs));
		tl->n = tl->head = 0;
	}
	r = &tl->recs[tl->head];
	tl->head = (tl->head + 1) % tl->cap;
	if (tl->n < tl->cap)
		tl->n++;
	r->call = hash_json(name, args);
	r->outcome = hash_json(is_error ? "error" : "ok", content);
}

void tool_loop_free(struct tool_loop *tl)
{
	free(tl->recs);
	memset(tl, 0, sizeof(*tl));
}
