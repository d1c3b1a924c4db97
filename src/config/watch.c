/*
 * watch.c - directory watches with a debounce over the config's files;
 * see watch.h.
 */
#include "config/watch.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"

#define WATCH_SUBSYS "config"

/* One watched directory and the names in it that matter. */
struct watch_dir {
	uv_fs_event_t h;
	struct config_watch *w;
	char *path;
	char **names;
	size_t nnames, anames;
	struct watch_dir *next;
};

struct config_watch {
	uv_loop_t *loop;
	uv_timer_t timer;
	unsigned debounce_ms;
	config_watch_fn cb;
	void *arg;
	struct watch_dir *dirs;
	unsigned open_handles; /* the timer and every directory; freed when it drops to 0 */
	bool closing;
};

static void watch_release_ref(struct config_watch *w)
{
	if (--w->open_handles == 0)
		free(w);
}

static void watch_dir_closed(uv_handle_t *h)
{
	struct watch_dir *d = h->data;
	struct config_watch *w = d->w;

	for (size_t i = 0; i < d->nnames; i++)
		free(d->names[i]);
	free(d->names);
	free(d->path);
	free(d);
	watch_release_ref(w);
}

static void watch_timer_closed(uv_handle_t *h)
{
	watch_release_ref(h->data);
}

static void watch_on_timer(uv_timer_t *t)
{
	struct config_watch *w = t->data;

	if (!w->closing)
		w->cb(w->arg);
}

static void watch_on_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
	struct watch_dir *d = h->data;
	struct config_watch *w = d->w;
	bool hit = !filename; /* the kernel did not say which: assume ours */

	if (w->closing)
		return;
	if (status < 0) {
		log_warn(WATCH_SUBSYS, "watching %s: %s", d->path, uv_strerror(status));
		return;
	}
	for (size_t i = 0; !hit && i < d->nnames; i++)
		hit = !strcmp(filename, d->names[i]);
	if (!hit)
		return;
	log_trace(WATCH_SUBSYS, "%s/%s changed", d->path, filename ? filename : "?");
	uv_timer_start(&w->timer, watch_on_timer, w->debounce_ms, 0);
}

struct config_watch *config_watch_new(uv_loop_t *loop, unsigned debounce_ms, config_watch_fn cb,
				      void *arg)
{
	struct config_watch *w = xcalloc(1, sizeof(*w));

	w->loop = loop;
	w->debounce_ms = debounce_ms;
	w->cb = cb;
	w->arg = arg;
	uv_timer_init(loop, &w->timer);
	w->timer.data = w;
	w->open_handles = 1;
	return w;
}

static void watch_close_dirs(struct config_watch *w)
{
	struct watch_dir *d = w->dirs, *next;

	for (; d; d = next) {
		next = d->next;
		uv_close((uv_handle_t *)&d->h, watch_dir_closed);
	}
	w->dirs = NULL;
}

/* Add dir/name to the set being built in `list`. */
static void watch_add(struct config_watch *w, struct watch_dir **list, const char *file)
{
	char *dir = fs_dirname(file);
	const char *slash = strrchr(file, '/');
	const char *name = slash ? slash + 1 : file;
	struct watch_dir *d;

	for (d = *list; d; d = d->next)
		if (!strcmp(d->path, dir))
			break;
	if (!d) {
		d = xcalloc(1, sizeof(*d));
		d->w = w;
		d->path = dir;
		d->next = *list;
		*list = d;
	} else {
		free(dir);
	}
	for (size_t i = 0; i < d->nnames; i++)
		if (!strcmp(d->names[i], name))
			return;
	d->names = xgrow(d->names, &d->anames, d->nnames + 1, sizeof(*d->names));
	d->names[d->nnames++] = xstrdup(name);
}

size_t config_watch_set(struct config_watch *w, char *const *files, size_t n)
{
	struct watch_dir *list = NULL, *d, *next;
	size_t count = 0;

	watch_close_dirs(w);
	for (size_t i = 0; i < n; i++) {
		char real[PATH_MAX];

		watch_add(w, &list, files[i]);
		/* Through a symlink, the target's directory is where edits happen. */
		if (realpath(files[i], real) && strcmp(real, files[i]))
			watch_add(w, &list, real);
	}
	for (d = list; d; d = next) {
		int r;

		next = d->next;
		uv_fs_event_init(w->loop, &d->h);
		d->h.data = d;
		w->open_handles++;
		r = uv_fs_event_start(&d->h, watch_on_event, d->path, 0);
		if (r < 0) {
			log_warn(WATCH_SUBSYS, "cannot watch %s for config changes: %s", d->path,
				 uv_strerror(r));
			uv_close((uv_handle_t *)&d->h, watch_dir_closed);
			continue;
		}
		d->next = w->dirs;
		w->dirs = d;
		count++;
	}
	return count;
}

void config_watch_free(struct config_watch *w)
{
	if (!w)
		return;
	w->closing = true;
	watch_close_dirs(w);
	uv_close((uv_handle_t *)&w->timer, watch_timer_closed);
}
