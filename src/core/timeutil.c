/*
 * timeutil.c - clocks and timestamps; see timeutil.h.
 */
#include "core/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"

int64_t time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t time_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void time_iso8601(int64_t ms, char *out, size_t outlen)
{
	/* Floor division, so instants before 1970 still get a 0..999 fraction. */
	int64_t secs = ms / 1000, frac = ms % 1000;
	time_t t;
	struct tm tm;

	if (!outlen)
		return;
	if (frac < 0) {
		frac += 1000;
		secs--;
	}
	t = (time_t)secs;
	if (!gmtime_r(&t, &tm)) {
		/* Only for years no clock will ever report; keep the shape. */
		snprintf(out, outlen, "%s", "0000-00-00T00:00:00.000Z");
		return;
	}
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
}

int time_parse_duration(const char *s, int64_t bare_unit_ms, int64_t *out)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};
	int64_t total = 0;
	const char *p = s;

	if (!s || !*s)
		goto bad;
	while (*p) {
		int64_t n = 0, mul = 0;
		size_t i;

		if (*p < '0' || *p > '9')
			goto bad;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (n > (INT64_MAX - 9) / 10)
				goto bad;
			n = n * 10 + (*p - '0');
		}
		if (!*p && p == s + strspn(s, "0123456789")) {
			mul = bare_unit_ms; /* the whole string is a number */
		} else {
			for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
				size_t ul = strlen(units[i].unit);

				/* "ms" must win over "m" followed by garbage. */
				if (!strncmp(p, units[i].unit, ul) &&
				    (p[ul] == '\0' || (p[ul] >= '0' && p[ul] <= '9'))) {
					mul = units[i].ms;
					p += ul;
					break;
				}
			}
			if (!mul)
				goto bad;
		}
		if (n && mul > INT64_MAX / n)
			goto bad;
		if (total > INT64_MAX - n * mul)
			goto bad;
		total += n * mul;
	}
	*out = total;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* The host's zone: $TZ, /etc/localtime's target, /etc/timezone, else UTC. New string. */
static char *host_zone(void)
{
	const char *tz = getenv("TZ");
	char link[PATH_MAX], *p;
	ssize_t n;
	struct buf b;

	if (tz && *tz)
		return xstrdup(tz[0] == ':' ? tz + 1 : tz);
	n = readlink("/etc/localtime", link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		if ((p = strstr(link, "zoneinfo/")))
			return xstrdup(p + 9);
	}
	buf_init(&b, 256);
	if (fs_read_file("/etc/timezone", &b) == 0) {
		while (b.len && isspace((unsigned char)b.p[b.len - 1]))
			b.p[--b.len] = '\0';
		if (b.len)
			return buf_detach(&b, NULL);
	}
	buf_release(&b);
	return xstrdup("UTC");
}

/* The host's zone as first seen: what localtime_r converts to while $TZ is untouched. */
static char *host_zone_cached;

char *time_user_zone(const char *configured)
{
	if (configured && *configured)
		return xstrdup(configured);
	if (!host_zone_cached)
		host_zone_cached = host_zone();
	return xstrdup(host_zone_cached);
}

void time_in_zone(int64_t ms, const char *tz, struct tm *out)
{
	time_t t = (time_t)(ms / 1000);
	char *old;

	if (!strcmp(tz, "UTC") || !strcmp(tz, "Etc/UTC")) {
		gmtime_r(&t, out);
		return;
	}
	/* the host's own zone (the usual case) needs no switch, and no zoneinfo read per call */
	if (host_zone_cached && !strcmp(tz, host_zone_cached)) {
		localtime_r(&t, out);
		return;
	}
	/* libc converts only in $TZ's zone: switch it for the call (the loop thread's) */
	old = getenv("TZ") ? xstrdup(getenv("TZ")) : NULL;
	setenv("TZ", tz, 1);
	tzset();
	localtime_r(&t, out);
	if (old)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old);
}
