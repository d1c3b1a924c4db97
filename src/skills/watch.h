/*
 * watch.h - noticing that a skill was added, removed or edited.
 *
 * inotify (libuv's uv_fs_event on Linux) is not recursive, so the watch is
 * put on each skills root and on each skill folder in it: a new folder
 * shows up as an event in its root, an edited SKILL.md as an event in its
 * folder. A root that does not exist yet (no <workspace>/skills on a fresh
 * workspace) is watched through its nearest existing parent, for the name
 * that leads to it. Every event that matters (re)arms a debounce timer;
 * when it fires, the watches are re-armed (new folders get theirs) and the
 * callback runs once for the whole burst.
 *
 *	w = skills_watch_new(loop, SKILLS_WATCH_DEBOUNCE_MS, on_skills_changed, a);
 *	skills_watch_set(w, roots);      the array skills_roots() gives
 *	...
 *	skills_watch_free(w);            handles close on the loop
 *
 * Arming reads the roots' directory listings on the loop: a few readdirs,
 * done once per change, never per turn.
 */
#ifndef PINCER_SKILLS_WATCH_H
#define PINCER_SKILLS_WATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

/* OpenClaw's fixed debounce (its skills.load.watchDebounceMs was retired in 2026.9). */
#define SKILLS_WATCH_DEBOUNCE_MS 250
/* Directories watched at most; past this the watch reports itself failed. */
#define SKILLS_WATCH_MAX_DIRS    2048

struct skills_watch;

typedef void (*skills_watch_fn)(void *arg);

/* A watcher with nothing watched yet. */
struct skills_watch *skills_watch_new(uv_loop_t *loop, unsigned debounce_ms, skills_watch_fn cb,
				      void *arg);

/*
 * Watch these roots (an array of absolute directory paths), replacing the
 * previous set. Returns the number of directories watched. When one could
 * not be watched (inotify limits, permissions) the watcher is marked
 * failed: callers should then fall back to polling.
 */
size_t skills_watch_set(struct skills_watch *w, const json_t *roots);

/* Whether the roots last given to skills_watch_set equal `roots`. */
bool skills_watch_same_roots(const struct skills_watch *w, const json_t *roots);

/* Whether the last skills_watch_set (or a re-arm) could not watch everything. */
bool skills_watch_failed(const struct skills_watch *w);

/* Stop watching, drop a pending callback and free everything (once its handles have closed). */
void skills_watch_free(struct skills_watch *w);

#endif
