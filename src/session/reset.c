/*
 * reset.c - session reset policies and reset triggers; see reset.h.
 */
#include "session/reset.h"

#include <ctype.h>
#include <math.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/str.h"

#define DEFAULT_AT_HOUR 4

static const char *const default_triggers[] = { "/new", "/reset" };

int64_t session_daily_reset_at(int64_t now_ms, int at_hour)
{
	time_t now = (time_t)(now_ms / 1000), t;
	struct tm tm;

	localtime_r(&now, &tm);
	tm.tm_hour = at_hour;
	tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if ((int64_t)t * 1000 > now_ms) {
		/* JS setHours(hour - 24): the same hour on the day before */
		localtime_r(&now, &tm);
		tm.tm_mday -= 1;
		tm.tm_hour = at_hour;
		tm.tm_min = tm.tm_sec = 0;
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	return (int64_t)t * 1000;
}

const char *session_reset_type(const char *key)
{
	const char *p;
	char low[512];
	size_t i;

	if (!key)
		return "direct";
	for (i = 0; key[i] && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)key[i]);
	low[i] = '\0';
	/* a thread id after the last ":thread:" marks a thread (or a forum topic) */
	p = strstr(low, ":thread:");
	if ((p && p[8]) || ((p = strstr(low, ":topic:")) && p[7]))
		return "thread";
	if (strstr(low, ":group:") || strstr(low, ":channel:"))
		return "group";
	return "direct";
}

/* OpenClaw's normalizeResetAtHour. */
static int at_hour_of(const json_t *v)
{
	double h;

	if (!json_is_number(v))
		return DEFAULT_AT_HOUR;
	h = floor(json_number_value(v));
	if (!isfinite(h))
		return DEFAULT_AT_HOUR;
	return h < 0 ? 0 : h > 23 ? 23 : (int)h;
}

/* A usable timestamp: a finite non-negative number, not in the future. */
static bool ts_of(const json_t *v, int64_t now, int64_t *out)
{
	double d;

	if (!json_is_number(v))
		return false;
	d = json_number_value(v);
	if (!isfinite(d) || d < 0 || d > (double)now)
		return false;
	*out = (int64_t)d;
	return true;
}

bool session_reset_due_type(const json_t *cfg, const json_t *entry, const char *type,
			    const char *channel, int64_t now_ms, const char **why)
{
	const json_t *base = json_object_get(cfg, "reset"), *typed = NULL, *chan = NULL;
	const char *mode, *base_mode;
	const json_t *idle_v, *upd = json_object_get(entry, "updatedAt");
	int64_t updated = 0, started, last, daily_at = 0, idle_at = 0;
	bool have_idle = false, stale_daily, stale_idle;
	int at_hour;

	if (why)
		*why = NULL;
	if (!json_is_object(base))
		base = NULL;
	/* resetByChannel.<channel> replaces both the base and the per-type policy */
	if (channel && *channel && json_is_object(json_object_get(cfg, "resetByChannel"))) {
		char low[64];
		size_t i;

		for (i = 0; channel[i] && i < sizeof(low) - 1; i++)
			low[i] = (char)tolower((unsigned char)channel[i]);
		low[i] = '\0';
		chan = json_object_get(json_object_get(cfg, "resetByChannel"), low);
		if (!json_is_object(chan))
			chan = NULL;
	}
	if (chan) {
		base = chan;
	} else if (type) {
		typed = json_object_get(json_object_get(cfg, "resetByType"), type);
		if (!json_is_object(typed))
			typed = NULL;
	}
	/* resolveSessionResetPolicy */
	base_mode = json_string_value(json_object_get(base, "mode"));
	mode = json_string_value(json_object_get(typed, "mode"));
	if (!mode && typed && !str_eq(base_mode, "none"))
		mode = base_mode;
	if (!mode && typed)
		mode = "daily";
	if (!mode)
		mode = base_mode ? base_mode : base ? "daily" : "none";
	at_hour = at_hour_of(typed && json_object_get(typed, "atHour")
				     ? json_object_get(typed, "atHour")
				     : json_object_get(base, "atHour"));
	idle_v = typed && json_object_get(typed, "idleMinutes")
			 ? json_object_get(typed, "idleMinutes")
			 : json_object_get(base, "idleMinutes");

	/* evaluateSessionFreshness */
	if (json_is_number(upd) && json_number_value(upd) == 0) {
		if (why)
			*why = "stale";
		return true;
	}
	if (!strcmp(mode, "none"))
		return false;
	ts_of(upd, now_ms, &updated);
	if (!ts_of(json_object_get(entry, "sessionStartedAt"), now_ms, &started))
		started = updated;
	if (!ts_of(json_object_get(entry, "lastInteractionAt"), now_ms, &last))
		last = started;
	if (json_is_number(idle_v) && isfinite(json_number_value(idle_v)) &&
	    floor(json_number_value(idle_v)) > 0) {
		idle_at = last + (int64_t)floor(json_number_value(idle_v)) * 60000;
		have_idle = true;
	}
	if (!strcmp(mode, "daily"))
		daily_at = session_daily_reset_at(now_ms, at_hour);
	stale_daily = !strcmp(mode, "daily") && started < daily_at;
	stale_idle = have_idle && now_ms > idle_at;
	if (why) {
		if (stale_daily && stale_idle)
			*why = daily_at <= idle_at ? "daily" : "idle";
		else if (stale_daily)
			*why = "daily";
		else if (stale_idle)
			*why = "idle";
	}
	return stale_daily || stale_idle;
}

bool session_reset_due(const json_t *cfg, const json_t *entry, enum session_kind kind,
		       const char *channel, int64_t now_ms, const char **why)
{
	return session_reset_due_type(cfg, entry, kind == SESSION_KIND_GROUP ? "group" : "direct",
				      channel, now_ms, why);
}

/* `text` (leading space skipped) starts with `trigger`, as a whole command word. */
static bool match_trigger(const char *text, const char *trigger, const char **rest)
{
	size_t n = strlen(trigger);
	const char *p;

	while (n > 0 && isspace((unsigned char)trigger[n - 1]))
		n--;
	while (n > 0 && isspace((unsigned char)*trigger))
		trigger++, n--;
	if (n == 0 || strncasecmp(text, trigger, n))
		return false;
	p = text + n;
	/* "/new@MyBot": a bot-name suffix, as Telegram sends commands in groups */
	if (*p == '@') {
		const char *s = ++p;

		while (*p && *p != ':' && !isspace((unsigned char)*p))
			p++;
		if (p == s)
			return false;
	}
	if (*p == ':')
		p++;
	else if (*p && !isspace((unsigned char)*p))
		return false;
	while (isspace((unsigned char)*p))
		p++;
	if (rest)
		*rest = p;
	return true;
}

bool session_is_reset_trigger(const json_t *cfg, const char *text, const char **rest)
{
	const json_t *list = json_object_get(cfg, "resetTriggers"), *v;
	size_t i;

	if (!text)
		return false;
	while (isspace((unsigned char)*text))
		text++;
	/* an empty resetTriggers list means the defaults, as in OpenClaw */
	if (json_is_array(list) && json_array_size(list) > 0) {
		json_array_foreach(list, i, v)
		{
			if (json_is_string(v) && match_trigger(text, json_string_value(v), rest))
				return true;
		}
		return false;
	}
	for (i = 0; i < sizeof(default_triggers) / sizeof(default_triggers[0]); i++)
		if (match_trigger(text, default_triggers[i], rest))
			return true;
	return false;
}
