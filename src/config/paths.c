/*
 * paths.c - resolving the state dir and config path; see paths.h.
 */
#include "config/paths.h"

#include <stdlib.h>

#include "core/fs.h"
#include "core/mem.h"

/* ~/.pincer-NAME, as OpenClaw's ~/.openclaw-NAME. */
static char *paths_profile_dir(const char *profile)
{
	char *rel = xasprintf("~/.pincer-%s", profile);
	char *abs = fs_expand_home(rel);

	free(rel);
	return abs;
}

static const char *paths_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

void paths_resolve(struct paths *p, const char *state_dir_opt, const char *profile, bool dev)
{
	const char *env;

	if (state_dir_opt)
		p->state_dir = fs_expand_home(state_dir_opt);
	else if ((env = paths_env("PINCER_STATE_DIR")))
		p->state_dir = fs_expand_home(env);
	else if (profile)
		p->state_dir = paths_profile_dir(profile);
	else if (dev)
		p->state_dir = fs_expand_home("~/.pincer-dev");
	else
		p->state_dir = fs_expand_home("~/.pincer");

	if ((env = paths_env("PINCER_CONFIG_PATH")))
		p->config_path = fs_expand_home(env);
	else
		p->config_path = fs_join(p->state_dir, "pincer.json");
}

void paths_release(struct paths *p)
{
	free(p->state_dir);
	free(p->config_path);
	p->state_dir = p->config_path = NULL;
}

int paths_ensure_state_dir(const struct paths *p)
{
	return fs_ensure_dir(p->state_dir, 0700);
}
