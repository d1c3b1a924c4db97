/*
 * paths.h - where pincer keeps its state.
 *
 * State dir, in order: --state-dir, $PINCER_STATE_DIR, --profile NAME
 * (~/.pincer-NAME), --dev (~/.pincer-dev), ~/.pincer. Config file:
 * $PINCER_CONFIG_PATH, else <state dir>/pincer.json.
 */
#ifndef PINCER_CONFIG_PATHS_H
#define PINCER_CONFIG_PATHS_H

#include <stdbool.h>

struct paths {
	char *state_dir;   /* absolute or as given; owned */
	char *config_path; /* owned */
};

/* Fill `p` from the global options (any may be NULL/false) and the environment. */
void paths_resolve(struct paths *p, const char *state_dir_opt, const char *profile, bool dev);
void paths_release(struct paths *p);

/* Create the state dir 0700 if missing (parents 0700 too). 0 or -1/errno. */
int paths_ensure_state_dir(const struct paths *p);

#endif
