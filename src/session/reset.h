/*
 * reset.h - when a session starts over: `session.reset` policies and the
 * /new, /reset triggers (SPEC §4.4), as OpenClaw evaluates them
 * (src/config/sessions/reset-policy.ts, reset.ts).
 *
 * Policy: `session.reset {mode: "none"|"daily"|"idle", atHour, idleMinutes}`
 * (default mode "none"; atHour 4, local time on the gateway host). An idle
 * limit applies whatever the mode ("daily" with idleMinutes: whichever
 * expires first). `session.resetByType.{direct,group,thread}` refines it per
 * kind of conversation (a type block without a mode inherits the base mode,
 * else "daily"); `session.resetByChannel.<channel>` replaces both.
 */
#ifndef PINCER_SESSION_RESET_H
#define PINCER_SESSION_RESET_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "session/keys.h"

/*
 * Whether the session `entry` (a sessions.json SessionEntry) has expired at
 * `now_ms` under `session_cfg` (the `session` object, may be NULL), for a
 * conversation of `kind` on `channel` (may be NULL). Thread-ness is read
 * from the entry's key shape only when `kind` is not enough: pass the key
 * through session_reset_type() when you have it. Measured as OpenClaw does:
 * the daily boundary against sessionStartedAt (else updatedAt), idle against
 * lastInteractionAt (else sessionStartedAt); timestamps in the future or
 * not numbers are ignored; an entry with updatedAt 0 is always due.
 * `*why` (may be NULL) gets "daily", "idle" or "stale" when due.
 */
bool session_reset_due(const json_t *session_cfg, const json_t *entry, enum session_kind kind,
		       const char *channel, int64_t now_ms, const char **why);

/* Same, with the reset type named: "direct", "group" or "thread". */
bool session_reset_due_type(const json_t *session_cfg, const json_t *entry, const char *type,
			    const char *channel, int64_t now_ms, const char **why);

/* OpenClaw's resolveSessionResetType for a key: "thread", "group" or "direct". */
const char *session_reset_type(const char *session_key);

/* The last daily reset boundary at or before now_ms, for `at_hour` local time. */
int64_t session_daily_reset_at(int64_t now_ms, int at_hour);

/*
 * Whether `text` is a reset command: one of `session.resetTriggers`
 * (default "/new", "/reset"), matched case-insensitively at the start of
 * the message and followed by the end, whitespace, ':' or an "@bot"
 * suffix. `*rest` (may be NULL) points at what follows, leading
 * whitespace skipped ("/new gpt-5" -> "gpt-5", "/reset" -> "").
 */
bool session_is_reset_trigger(const json_t *session_cfg, const char *text, const char **rest);

#endif
