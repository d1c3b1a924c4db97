/*
 * watch.h - noticing that the config file, or a file it includes, changed.
 *
 * Editors save by writing a temporary file and renaming it over the old
 * one, and `pincer config set` and the config RPCs do the same; a watch on
 * the file itself would be left on an inode that no longer has a name. So
 * the watch is on each directory that holds a watched file (and, for a
 * symlink, the directory of its target too), and an event for a watched
 * name there (re)arms a debounce timer. When the timer fires, the callback
 * runs once for the whole burst of events.
 *
 *	w = config_watch_new(loop, 300, on_config_changed, gw);
 *	config_watch_set(w, cfg->files, cfg->nfiles);   after every load
 *	...
 *	config_watch_free(w);                            handles close on the loop
 */
#ifndef PINCER_CONFIG_WATCH_H
#define PINCER_CONFIG_WATCH_H

#include <stddef.h>
#include <uv.h>

struct config_watch;

typedef void (*config_watch_fn)(void *arg);

/* A watcher with nothing watched yet. */
struct config_watch *config_watch_new(uv_loop_t *loop, unsigned debounce_ms, config_watch_fn cb,
				      void *arg);

/*
 * Watch exactly these files, replacing the previous set (files may not
 * exist yet: their directory is watched). A directory that cannot be
 * watched is logged and skipped. Returns the number of directories
 * watched.
 */
size_t config_watch_set(struct config_watch *w, char *const *files, size_t n);

/* Stop watching, drop a pending callback and free everything (once its handles have closed). */
void config_watch_free(struct config_watch *w);

#endif
