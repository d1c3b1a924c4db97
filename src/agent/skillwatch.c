/*
 * skillwatch.c - each agent's skills snapshot, kept fresh by watching the
 * skill folders rather than by rescanning them on turns.
 *
 * With skills.load.watch (default true) the snapshot is loaded on the
 * agent's first turn and then only when something changed: a skill folder
 * or SKILL.md (the watch, debounced), or the config (a reload). A change
 * starts a reload on the thread pool at once, so by the next turn the new
 * snapshot is usually in place; a turn that comes first loads it itself,
 * so it never sees a skill list older than the change. Binaries installed
 * later are not a file event in a skill folder: a snapshot older than
 * AGENT_SKILLS_MAXAGE_MS is refreshed on the pool, with the turn using
 * the current one meanwhile.
 *
 * With the watch off (or when inotify could not watch everything), the
 * snapshot is reloaded on a turn when older than AGENT_SKILLS_TTL_MS, as
 * before.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "config/config.h"
#include "config/paths.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "skills/skills.h"
#include "skills/watch.h"

struct agent_skills_watch {
	struct agent_rt *rt;
	struct agent_state *a;
	struct skills_watch *w;      /* NULL while skills.load.watch is false */
	bool stale;                  /* changed since the snapshot was loaded */
	uint64_t gen;                /* bumped by every change */
	struct skills_load_req *req; /* a reload on the thread pool, or NULL */
	uint64_t req_gen;            /* gen when it started */
};

static bool skw_enabled(const struct config *cfg)
{
	json_t *v = json_object_get(
		json_object_get(json_object_get(cfg ? cfg->root : NULL, "skills"), "load"),
		"watch");

	return !json_is_false(v);
}

static char *skw_managed(struct agent_rt *rt)
{
	return fs_join(rt->paths->state_dir, "skills");
}

static void skw_install(struct agent_state *a, struct skill_set *set)
{
	skills_release(&a->skills);
	a->skills = *set;
	a->skills_at = time_mono_ms();
}

static void skw_loaded(void *arg, struct skill_set *set)
{
	struct agent_skills_watch *s = arg;

	s->req = NULL;
	/* Dropped when another change came while it ran: a newer load is due. */
	if (s->req_gen == s->gen) {
		skw_install(s->a, set);
		s->stale = false;
		log_debug(AGENT_SUBSYS, "agent %s: skills reloaded (%zu)", s->a->id,
			  s->a->skills.n);
	} else {
		skills_release(set);
	}
	free(set);
}

static void skw_reload_async(struct agent_skills_watch *s)
{
	char *managed = skw_managed(s->rt);

	skills_load_cancel(s->req);
	s->req_gen = s->gen;
	s->req = skills_load_async(s->rt->loop, rt_cfg(s->rt), s->a->workspace, managed, s->a->id,
				   skw_loaded, s);
	free(managed);
}

/* The snapshot is out of date: reload it on the pool and tell clients showing skills. */
static void skw_mark_stale(struct agent_skills_watch *s, const char *reason)
{
	s->gen++;
	s->stale = true;
	skw_reload_async(s);
	/* as OpenClaw: clients showing skills (the Control UI) read skills.status again */
	rt_emit(s->rt, "skills.changed",
		json_pack("{s:s, s:s}", "reason", reason, "agentId", s->a->id), 0);
}

static void skw_changed(void *arg)
{
	struct agent_skills_watch *s = arg;

	log_debug(AGENT_SUBSYS, "agent %s: skill folders changed", s->a->id);
	skw_mark_stale(s, "watch");
}

/* Watch what the snapshot was loaded from (or stop watching, when the config says so). */
static void skw_arm(struct agent_skills_watch *s, const struct config *cfg)
{
	char *managed;
	json_t *roots;

	if (!skw_enabled(cfg) || s->rt->stopping) {
		skills_watch_free(s->w);
		s->w = NULL;
		return;
	}
	managed = skw_managed(s->rt);
	roots = skills_roots(cfg, s->a->workspace, managed);
	free(managed);
	if (!s->w)
		s->w = skills_watch_new(s->rt->loop, SKILLS_WATCH_DEBOUNCE_MS, skw_changed, s);
	if (!skills_watch_same_roots(s->w, roots) || skills_watch_failed(s->w))
		skills_watch_set(s->w, roots);
	json_decref(roots);
}

const struct skill_set *rt_agent_skills(struct agent_rt *rt, struct agent_state *a)
{
	const struct config *cfg = rt_cfg(rt);
	struct agent_skills_watch *s = a->skills_watch;
	int64_t age = time_mono_ms() - a->skills_at;
	bool watching;

	if (!s) {
		s = a->skills_watch = xcalloc(1, sizeof(*s));
		s->rt = rt;
		s->a = a;
	}
	watching = s->w && !skills_watch_failed(s->w);
	if (!a->skills_at || s->stale || (!watching && age > AGENT_SKILLS_TTL_MS)) {
		struct skill_set set;
		char *managed = skw_managed(rt);

		skills_load(&set, cfg, a->workspace, managed, a->id);
		free(managed);
		skw_install(a, &set);
		s->stale = false;
		skills_load_cancel(s->req); /* this load is as fresh as the pending one */
		s->req = NULL;
		skw_arm(s, cfg);
	} else if (age > AGENT_SKILLS_MAXAGE_MS && !s->req && !rt->stopping) {
		skw_reload_async(s); /* this turn keeps the current snapshot */
	}
	return &a->skills;
}

void rt_agent_skills_stale(struct agent_state *a)
{
	struct agent_skills_watch *s = a->skills_watch;

	if (!s || !a->skills_at || s->rt->stopping)
		return;
	skw_mark_stale(s, "config");
}

void rt_agent_skills_stop(struct agent_state *a)
{
	struct agent_skills_watch *s = a->skills_watch;

	if (s) {
		skills_load_cancel(s->req);
		s->req = NULL;
		skills_watch_free(s->w);
		s->w = NULL;
	}
}

void rt_agent_skills_release(struct agent_state *a)
{
	struct agent_skills_watch *s = a->skills_watch;

	if (s) {
		skills_load_cancel(s->req);
		skills_watch_free(s->w);
		free(s);
		a->skills_watch = NULL;
	}
	skills_release(&a->skills);
}
