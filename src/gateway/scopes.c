/*
 * scopes.c - scope checks for methods and events; see scopes.h.
 */
#include "gateway/scopes.h"

#include <string.h>

#include "core/mem.h"

static bool scopes_has(const json_t *granted, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(granted, i, v)
	{
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

bool scopes_allow(const json_t *granted, const char *required)
{
	if (!required)
		return true;
	if (!granted)
		return false;
	if (scopes_has(granted, required) || scopes_has(granted, SCOPE_ADMIN))
		return true;
	return !strcmp(required, SCOPE_READ) && scopes_has(granted, SCOPE_WRITE);
}

bool scopes_cover(const json_t *granted, const json_t *wanted)
{
	size_t i;
	json_t *v;

	json_array_foreach(wanted, i, v)
	{
		if (!json_is_string(v) || !scopes_allow(granted, json_string_value(v)))
			return false;
	}
	return true;
}

/*
 * Event families and who may see them, after OpenClaw's server-broadcast.
 * A name ending in '.' matches every event it prefixes.
 */
static const struct {
	const char *event;
	const char *scope;
} scopes_events[] = {
	{ "tick", NULL },
	{ "presence", NULL },
	{ "health", NULL },
	{ "heartbeat", NULL },
	{ "shutdown", NULL },
	{ "connect.challenge", NULL },
	{ "agent", SCOPE_READ },
	{ "chat", SCOPE_READ },
	{ "session.", SCOPE_READ },
	{ "sessions.changed", SCOPE_READ },
	{ "skills.changed", SCOPE_READ },
	{ "config.changed", SCOPE_READ },
	{ "cron", SCOPE_READ },
	{ "device.pair.", SCOPE_PAIRING },
	{ "node.pair.", SCOPE_PAIRING },
	{ "exec.approval.", SCOPE_APPROVALS },
};

const char *scopes_for_event(const char *event, bool *known)
{
	for (size_t i = 0; i < ARRAY_SIZE(scopes_events); i++) {
		const char *e = scopes_events[i].event;
		size_t n = strlen(e);

		if (e[n - 1] == '.' ? !strncmp(event, e, n) : !strcmp(event, e)) {
			*known = true;
			return scopes_events[i].scope;
		}
	}
	*known = false;
	return NULL;
}
