/*
 * workspace.c - workspace and per-agent directories, and seeding a new
 * workspace from the embedded templates; see workspace.h.
 */
#include "agent/workspace.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/paths.h"
#include "core/embed.h"
#include "core/fs.h"
#include "core/id.h"
#include "core/mem.h"

const char *const workspace_bootstrap_files[] = {
	"AGENTS.md", "SOUL.md", "TOOLS.md", "IDENTITY.md", "USER.md", "HEARTBEAT.md", NULL,
};

/* An agent id as OpenClaw compares them: trimmed, lowercase. */
static char *ws_norm_id(const char *id)
{
	const char *s = id ? id : WORKSPACE_DEFAULT_AGENT_ID;
	size_t n;
	char *r;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return xstrdup(WORKSPACE_DEFAULT_AGENT_ID);
	r = xstrndup(s, n);
	for (char *p = r; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return r;
}

char *workspace_default_agent_id(const struct config *cfg)
{
	json_t *list = cfg ? config_get(cfg, "agents.list") : NULL;
	json_t *a, *chosen = NULL;
	size_t i;

	json_array_foreach(list, i, a)
	{
		if (!json_is_object(a))
			continue;
		if (!chosen)
			chosen = a;
		if (json_is_true(json_object_get(a, "default"))) {
			chosen = a;
			break;
		}
	}
	return ws_norm_id(chosen ? json_string_value(json_object_get(chosen, "id")) : NULL);
}

json_t *workspace_agent_entry(const struct config *cfg, const char *agent_id)
{
	json_t *list, *entries, *a;
	char *want, *id;
	const char *key;
	size_t i;

	if (!cfg)
		return NULL;
	want = ws_norm_id(agent_id);
	list = config_get(cfg, "agents.list");
	json_array_foreach(list, i, a)
	{
		if (!json_is_object(a) || !json_is_string(json_object_get(a, "id")))
			continue;
		id = ws_norm_id(json_string_value(json_object_get(a, "id")));
		if (strcmp(id, want) == 0) {
			free(id);
			free(want);
			return a;
		}
		free(id);
	}
	entries = config_get(cfg, "agents.entries");
	json_object_foreach(entries, key, a)
	{
		if (json_is_object(a) && strcasecmp(key, want) == 0) {
			free(want);
			return a;
		}
	}
	free(want);
	return NULL;
}

/* A configured path string, trimmed; NULL when unset or blank. */
static const char *ws_str(json_t *v)
{
	const char *s = json_string_value(v);

	while (s && isspace((unsigned char)*s))
		s++;
	return s && *s ? s : NULL;
}

char *workspace_dir(const struct config *cfg, const struct paths *paths, const char *agent_id)
{
	char *id = ws_norm_id(agent_id), *dflt = workspace_default_agent_id(cfg);
	json_t *entry = workspace_agent_entry(cfg, id);
	const char *own = entry ? ws_str(json_object_get(entry, "workspace")) : NULL;
	const char *fallback = cfg ? ws_str(config_get(cfg, "agents.defaults.workspace")) : NULL;
	char *res, *base, *name;

	if (own) {
		res = fs_expand_home(own);
	} else if (strcmp(id, dflt) == 0) {
		res = fallback ? fs_expand_home(fallback) : fs_join(paths->state_dir, "workspace");
	} else if (fallback) {
		base = fs_expand_home(fallback);
		res = fs_join(base, id);
		free(base);
	} else {
		name = xasprintf("workspace-%s", id);
		res = fs_join(paths->state_dir, name);
		free(name);
	}
	free(id);
	free(dflt);
	return res;
}

static char *ws_agent_sub(const struct paths *paths, const char *agent_id, const char *leaf)
{
	char *id = ws_norm_id(agent_id);
	char *r = xasprintf("%s/agents/%s/%s", paths->state_dir, id, leaf);

	free(id);
	return r;
}

char *agent_dir(const struct paths *paths, const char *agent_id)
{
	return ws_agent_sub(paths, agent_id, "agent");
}

char *agent_sessions_dir(const struct paths *paths, const char *agent_id)
{
	return ws_agent_sub(paths, agent_id, "sessions");
}

/* ==== seeding ==== */

/*
 * Write `data` to dir/name only if that name does not exist: into a temp
 * file first (fsynced), then link() it into place, which fails with EEXIST
 * rather than replacing a file someone else wrote meanwhile. Returns 1 when
 * written, 0 when the file already existed, -1 on error.
 */
static int ws_create_exclusive(const char *dir, const char *name, const void *data, size_t len)
{
	char *path = fs_join(dir, name), *tmp = NULL;
	char rnd[16];
	int fd = -1, rc = -1, saved;
	size_t off = 0;
	ssize_t n;

	if (fs_exists(path)) {
		rc = 0;
		goto out;
	}
	id_hex(rnd, (sizeof(rnd) - 1) / 2);
	tmp = xasprintf("%s/.%s.%s.tmp", dir, name, rnd);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	while (off < len) {
		n = write(fd, (const char *)data + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto out;
	if (link(tmp, path) < 0) {
		if (errno == EEXIST)
			rc = 0;
		goto out;
	}
	rc = 1;
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(path);
	errno = saved;
	return rc;
}

static bool ws_has(const char *dir, const char *name)
{
	char *p = fs_join(dir, name);
	bool r = fs_exists(p);

	free(p);
	return r;
}

int workspace_ensure(const char *dir, bool skip_bootstrap, bool *created, char *err, size_t errlen)
{
	static const char *const probe[] = { "AGENTS.md", "SOUL.md", "IDENTITY.md", "USER.md",
					     "memory" };
	const struct embed_file *f;
	bool brand_new = true;
	char *mem;
	size_t i;

	if (created)
		*created = false;
	if (fs_mkdir_p(dir, 0700) < 0) {
		snprintf(err, errlen, "cannot create workspace %s: %s", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(probe); i++)
		if (ws_has(dir, probe[i]))
			brand_new = false;
	if (created)
		*created = brand_new;
	if (skip_bootstrap)
		return 0;

	for (i = 0; workspace_bootstrap_files[i]; i++) {
		f = embed_find(embed_templates, workspace_bootstrap_files[i]);
		if (!f)
			BUG("template %s is not embedded", workspace_bootstrap_files[i]);
		if (ws_create_exclusive(dir, f->name, f->data, f->len) < 0) {
			snprintf(err, errlen, "cannot write %s/%s: %s", dir, f->name,
				 strerror(errno));
			return -1;
		}
	}
	if (!brand_new)
		return 0;
	f = embed_find(embed_templates, "BOOTSTRAP.md");
	if (!f)
		BUG("template BOOTSTRAP.md is not embedded");
	if (ws_create_exclusive(dir, f->name, f->data, f->len) < 0) {
		snprintf(err, errlen, "cannot write %s/%s: %s", dir, f->name, strerror(errno));
		return -1;
	}
	mem = fs_join(dir, "memory");
	if (fs_mkdir_p(mem, 0700) < 0) {
		snprintf(err, errlen, "cannot create %s: %s", mem, strerror(errno));
		free(mem);
		return -1;
	}
	free(mem);
	return 0;
}
