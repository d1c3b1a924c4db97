/*
 * timeutil.h - clocks and timestamps.
 */
#ifndef PINCER_CORE_TIMEUTIL_H
#define PINCER_CORE_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Wall clock, milliseconds since the epoch (what protocol `ts` fields carry). */
int64_t time_now_ms(void);
/* Monotonic clock in milliseconds, for durations and timeouts. */
int64_t time_mono_ms(void);
/* Monotonic clock in nanoseconds, for benchmarks. */
uint64_t time_mono_ns(void);
/*
 * Format `ms` since the epoch as ISO 8601 UTC with milliseconds,
 * "2026-11-21T09:26:22.123Z", into `out` (at least 25 bytes).
 */
void time_iso8601(int64_t ms, char *out, size_t outlen);

/*
 * Parse a duration as OpenClaw's config writes them: "30m", "1h30m",
 * "45s", "500ms", "2d", or a bare number of `bare_unit_ms` units. Returns 0
 * with the milliseconds in *out, or -1 (errno EINVAL) for anything else,
 * including overflow and an empty string.
 */
int time_parse_duration(const char *s, int64_t bare_unit_ms, int64_t *out);

struct tm;
/*
 * The zone to show the user's time in: `configured` (agents.defaults.
 * userTimezone) when set, else the host's ($TZ, /etc/localtime's target,
 * /etc/timezone), else "UTC". New string.
 */
char *time_user_zone(const char *configured);
/* Broken-down time of `ms` since the epoch in IANA zone `tz`. */
void time_in_zone(int64_t ms, const char *tz, struct tm *out);

#endif
