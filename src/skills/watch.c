/*
 * watch.c - watches on the skill roots and skill folders, with a debounce;
 * see watch.h.
 */
#include "skills/watch.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "skills/skills.h"

#define SW_SUBSYS        "skills"
/* How far up a missing root's parents are searched for one that exists. */
#define SW_MAX_ANCESTORS 16

/* One watched directory and which names in it matter. */
struct sw_dir {
	uv_fs_event_t h;
	struct skills_watch *w;
	char *path;
	bool any;     /* any entry name not starting with '.' counts */
	json_t *want; /* else only these entry names (array of strings) */
	struct sw_dir *next;
};

struct skills_watch {
	uv_loop_t *loop;
	uv_timer_t timer;
	unsigned debounce_ms;
	skills_watch_fn cb;
	void *arg;
	json_t *roots; /* as last given */
	struct sw_dir *dirs;
	size_t ndirs;
	bool failed;
	unsigned open_handles; /* the timer and every directory; freed when it drops to 0 */
	bool closing;
};

static void sw_release_ref(struct skills_watch *w)
{
	if (--w->open_handles == 0) {
		json_decref(w->roots);
		free(w);
	}
}

static void sw_dir_closed(uv_handle_t *h)
{
	struct sw_dir *d = h->data;
	struct skills_watch *w = d->w;

	free(d->path);
	json_decref(d->want);
	free(d);
	sw_release_ref(w);
}

static void sw_timer_closed(uv_handle_t *h)
{
	sw_release_ref(h->data);
}

static void sw_close_dirs(struct skills_watch *w)
{
	struct sw_dir *d = w->dirs, *next;

	for (; d; d = next) {
		next = d->next;
		uv_close((uv_handle_t *)&d->h, sw_dir_closed);
	}
	w->dirs = NULL;
	w->ndirs = 0;
}

static void sw_arm(struct skills_watch *w);

static void sw_on_timer(uv_timer_t *t)
{
	struct skills_watch *w = t->data;

	if (w->closing)
		return;
	/* A new skill folder needs its own watch before anyone reloads. */
	sw_arm(w);
	w->cb(w->arg);
}

static void sw_on_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
	struct sw_dir *d = h->data;
	struct skills_watch *w = d->w;
	bool hit;

	(void)events;
	if (w->closing)
		return;
	if (status < 0) {
		log_warn(SW_SUBSYS, "watching %s: %s", d->path, uv_strerror(status));
		hit = true; /* we may have missed something: rescan */
	} else if (!filename) {
		hit = true; /* the kernel did not say which: assume ours */
	} else if (d->any) {
		hit = filename[0] != '.';
	} else {
		const json_t *x;
		size_t i;

		hit = false;
		json_array_foreach(d->want, i, x) hit |= !strcmp(filename, json_string_value(x));
	}
	if (!hit)
		return;
	log_trace(SW_SUBSYS, "%s/%s changed", d->path, filename ? filename : "?");
	uv_timer_start(&w->timer, sw_on_timer, w->debounce_ms, 0);
}

/*
 * Add `path` to the set being built in `list`, once, for the entry name
 * `want` (NULL: any name). A workspace watched for both "skills" and
 * ".agents" still ignores its other files, which the agent writes often.
 */
static void sw_add(struct skills_watch *w, struct sw_dir **list, size_t *n, const char *path,
		   const char *want)
{
	struct sw_dir *d;

	for (d = *list; d; d = d->next)
		if (!strcmp(d->path, path))
			break;
	if (!d) {
		d = xcalloc(1, sizeof(*d));
		d->w = w;
		d->path = xstrdup(path);
		d->want = json_array();
		d->next = *list;
		*list = d;
		(*n)++;
	}
	if (!want)
		d->any = true;
	else
		json_array_append_new(d->want, json_string(want));
}

/* A root that exists: it, and (unless it is a skill itself) each skill folder in it. */
static void sw_add_root(struct skills_watch *w, struct sw_dir **list, size_t *n, const char *root)
{
	char *self = fs_join(root, "SKILL.md");
	bool is_skill = fs_exists(self);
	struct dirent *de;
	size_t count = 0;
	DIR *dir;

	free(self);
	sw_add(w, list, n, root, NULL);
	if (is_skill || !(dir = opendir(root)))
		return;
	while ((de = readdir(dir)) && count < SKILLS_MAX_PER_ROOT) {
		char *sub;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "node_modules"))
			continue;
		sub = fs_join(root, de->d_name);
		if (fs_is_dir(sub)) {
			sw_add(w, list, n, sub, "SKILL.md");
			count++;
		}
		free(sub);
	}
	closedir(dir);
}

/* A root that does not exist: its nearest existing parent, for the name leading to it. */
static void sw_add_missing(struct skills_watch *w, struct sw_dir **list, size_t *n,
			   const char *root)
{
	char *cur = xstrdup(root);
	size_t len = strlen(cur);

	while (len > 1 && cur[len - 1] == '/') /* "a/skills/" names "skills" */
		cur[--len] = '\0';
	for (int i = 0; i < SW_MAX_ANCESTORS; i++) {
		char *parent = fs_dirname(cur);
		const char *slash = strrchr(cur, '/');

		if (!strcmp(parent, cur) || !slash || !slash[1]) {
			free(parent);
			break;
		}
		if (fs_is_dir(parent)) {
			sw_add(w, list, n, parent, slash + 1);
			free(parent);
			break;
		}
		free(cur);
		cur = parent;
	}
	free(cur);
}

static void sw_arm(struct skills_watch *w)
{
	struct sw_dir *list = NULL, *d, *next;
	const json_t *x;
	size_t i, n = 0;

	sw_close_dirs(w);
	w->failed = false;
	json_array_foreach(w->roots, i, x)
	{
		const char *root = json_string_value(x);

		if (!root || root[0] != '/')
			continue;
		if (fs_is_dir(root))
			sw_add_root(w, &list, &n, root);
		else
			sw_add_missing(w, &list, &n, root);
	}
	for (d = list; d; d = next) {
		int r;

		next = d->next;
		if (w->ndirs >= SKILLS_WATCH_MAX_DIRS) {
			if (!w->failed)
				log_warn(SW_SUBSYS,
					 "more than %d skill folders to watch; polling for changes "
					 "instead",
					 SKILLS_WATCH_MAX_DIRS);
			w->failed = true;
			free(d->path);
			json_decref(d->want);
			free(d);
			continue;
		}
		uv_fs_event_init(w->loop, &d->h);
		d->h.data = d;
		w->open_handles++;
		r = uv_fs_event_start(&d->h, sw_on_event, d->path, 0);
		if (r < 0) {
			log_warn(SW_SUBSYS, "cannot watch %s for skill changes: %s", d->path,
				 uv_strerror(r));
			w->failed = true;
			uv_close((uv_handle_t *)&d->h, sw_dir_closed);
			continue;
		}
		d->next = w->dirs;
		w->dirs = d;
		w->ndirs++;
	}
}

struct skills_watch *skills_watch_new(uv_loop_t *loop, unsigned debounce_ms, skills_watch_fn cb,
				      void *arg)
{
	struct skills_watch *w = xcalloc(1, sizeof(*w));

	w->loop = loop;
	w->debounce_ms = debounce_ms;
	w->cb = cb;
	w->arg = arg;
	w->roots = json_array();
	uv_timer_init(loop, &w->timer);
	w->timer.data = w;
	w->open_handles = 1;
	return w;
}

size_t skills_watch_set(struct skills_watch *w, const json_t *roots)
{
	json_decref(w->roots);
	w->roots = json_deep_copy(roots);
	if (!w->roots)
		w->roots = json_array();
	sw_arm(w);
	return w->ndirs;
}

bool skills_watch_same_roots(const struct skills_watch *w, const json_t *roots)
{
	return json_equal(w->roots, roots);
}

bool skills_watch_failed(const struct skills_watch *w)
{
	return w->failed;
}

void skills_watch_free(struct skills_watch *w)
{
	if (!w)
		return;
	w->closing = true;
	sw_close_dirs(w);
	uv_close((uv_handle_t *)&w->timer, sw_timer_closed);
}
