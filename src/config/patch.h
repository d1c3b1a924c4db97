/*
 * patch.h - changing a config tree as OpenClaw's config.patch does, and
 * describing what a change touches.
 *
 * The patch is an RFC 7396 JSON merge patch (objects merge, null deletes,
 * anything else replaces), with OpenClaw's one refinement: an array whose
 * entries are all objects with a non-empty string "id" (agents.list,
 * bindings, ...) merges by id instead of being replaced. A patch entry
 * with a known id is merged into that entry, a new id is appended, and an
 * entry without an id is appended too. Listing the array's path in
 * `replace` opts out, and the patch's array then replaces the old one.
 *
 * Paths here are JSON paths (core/jsonx.h: `agents.list[0].id`), except
 * that an array's entries are all written `[]`, as in OpenClaw's
 * replacePaths: `agents.list[].tools.allow`.
 */
#ifndef PINCER_CONFIG_PATCH_H
#define PINCER_CONFIG_PATCH_H

#include <jansson.h>
#include <stdbool.h>

#include "config/schema.h"

/*
 * OpenClaw's replacePaths, normalized ("agents.list[0].tools" and
 * "agents.list[].tools" are the same path; a trailing "[]" names the array
 * itself), as a set: an object whose keys are the paths. New reference.
 * `paths` may be NULL; entries that are not strings are skipped.
 */
json_t *config_patch_replace_set(const json_t *paths);

/*
 * `base` with `patch` applied; a new value. Neither argument is changed.
 * A patch that is not an object replaces the base. `replace` is a set from
 * config_patch_replace_set(), or NULL.
 */
json_t *config_merge_patch(const json_t *base, const json_t *patch, const json_t *replace);

/*
 * The array paths from which applying `patch` to `base` (giving `merged`)
 * drops entries that were there before: an array deleted or replaced by a
 * non-array, an id-keyed array losing an id, a plain array losing one of
 * its values. Paths in `replace` are left out, since the client said the
 * loss is intended. Each path is appended to `out` (an array of strings).
 */
void config_patch_destructive(const json_t *base, const json_t *patch, const json_t *merged,
			      const json_t *replace, json_t *out);

/*
 * The paths whose values differ between `a` and `b` (either may be NULL),
 * appended to `out` (an array of JSON path strings), keys of `a` first,
 * then keys only `b` has. Objects on both sides are compared key by key;
 * anything else (arrays included) is one path when not equal. With
 * `leaves`, an object that exists on one side only is descended into as
 * well, so adding {reload: {mode: "off"}} under gateway reports
 * gateway.reload.mode rather than gateway.reload. Equal trees add nothing.
 */
void config_diff_paths(const json_t *a, const json_t *b, bool leaves, json_t *out);

/*
 * How a change at the concrete `path` takes effect: its schema row's
 * reload kind; a path the schema does not spell out (inside a free-form
 * value) takes the kind of its nearest known ancestor; RELOAD_NONE when
 * nothing is known.
 */
enum cfg_reload config_path_reload(const char *path);

#endif
