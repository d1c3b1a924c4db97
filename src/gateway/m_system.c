/*
 * m_system.c - methods about the gateway itself: health, status,
 * system-presence, logs.tail, models.list, agents.list.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/paths.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "gateway/identity.h"
#include "gateway/internal.h"
#include "providers/catalog.h"

/* logs.tail defaults and caps (OpenClaw's schema bounds). */
#define LOGS_DEFAULT_LIMIT     500
#define LOGS_MAX_LIMIT         5000
#define LOGS_DEFAULT_MAX_BYTES 250000
#define LOGS_MAX_BYTES         1000000

/* health {probe?}: the cached HealthSnapshot, or a fresh one when probing. */
static void m_health(struct gw_call *call)
{
	int probe = 0;

	if (json_is_object(call->params) && gw_call_unpack(call, "{s?b}", "probe", &probe) < 0)
		return;
	gw_call_ok(call, gateway_health_json(call->gw, probe));
}

/* Resident set size from /proc, in bytes (0 when unavailable). */
static long long m_rss_bytes(void)
{
	long long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lld %lld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * sysconf(_SC_PAGESIZE);
}

static void m_status(struct gw_call *call)
{
	struct gateway *gw = call->gw;
	json_t *health = gateway_health_json(gw, false);
	json_t *agents = json_object_get(health, "agents"), *a;
	json_t *hb_agents = json_array(), *by_agent = json_array();
	json_int_t count = 0;
	size_t i;

	json_array_foreach(agents, i, a)
	{
		json_t *hb = json_object_get(a, "heartbeat");
		json_t *sessions = json_object_get(a, "sessions");

		json_array_append_new(hb_agents, json_pack("{s:O, s:O, s:O, s:O}", "agentId",
							   json_object_get(a, "agentId"), "enabled",
							   json_object_get(hb, "enabled"), "every",
							   json_object_get(hb, "every"), "everyMs",
							   json_object_get(hb, "everyMs")));
		json_array_append_new(by_agent,
				      json_pack("{s:O, s:O, s:O, s:O}", "agentId",
						json_object_get(a, "agentId"), "path",
						json_object_get(sessions, "path"), "count",
						json_object_get(sessions, "count"), "recent",
						json_object_get(sessions, "recent")));
		count += json_integer_value(json_object_get(sessions, "count"));
	}
	gw_call_ok(call,
		   json_pack("{s:s, s:{s:O, s:o}, s:[], s:[], s:{s:[], s:I, s:{s:n, s:n}, s:[], "
			     "s:o}, s:{s:I}, s:i, s:I, s:{s:i, s:i}, s:s}",
			     "runtimeVersion", PINCER_VERSION, "heartbeat", "defaultAgentId",
			     json_object_get(health, "defaultAgentId"), "agents", hb_agents,
			     "channelSummary", "queuedSystemEvents", "sessions", "paths", "count",
			     count, "defaults", "model", "contextTokens", "recent", "byAgent",
			     by_agent, "processMemory", "rssBytes", (json_int_t)m_rss_bytes(),
			     "pid", (int)getpid(), "uptimeMs", (json_int_t)gateway_uptime_ms(gw),
			     "connections", "total", (int)gw->nconns, "ready", (int)gw->nready,
			     "authMode", gw_auth_mode_name(gw->auth.mode)));
	json_decref(health);
}

static void m_system_presence(struct gw_call *call)
{
	gw_call_ok(call, gateway_presence_json(call->gw));
}

/* ==== logs.tail ==== */

/*
 * Read [from, size) of the log, at most max_bytes from its end. Lines cut
 * at the start of the window are dropped whole, so every line returned is
 * a complete JSON line.
 */
static void m_logs_tail(struct gw_call *call)
{
	struct gateway *gw = call->gw;
	json_int_t cursor = -1, limit = LOGS_DEFAULT_LIMIT, max_bytes = LOGS_DEFAULT_MAX_BYTES;
	const char *path = gw->log_path;
	json_t *lines, *out;
	struct stat st;
	bool reset = false, truncated = false;
	off_t from, size;
	char *data = NULL, *p, *end;
	ssize_t n;
	int fd;

	if (gw_call_unpack(call, "{s?I, s?I, s?I}", "cursor", &cursor, "limit", &limit, "maxBytes",
			   &max_bytes) < 0)
		return;
	if ((cursor != -1 && cursor < 0) || limit < 1 || limit > LOGS_MAX_LIMIT || max_bytes < 1 ||
	    max_bytes > LOGS_MAX_BYTES) {
		gw_call_invalid(call,
				"invalid logs.tail params: cursor >= 0, limit 1..%d, "
				"maxBytes 1..%d",
				LOGS_MAX_LIMIT, LOGS_MAX_BYTES);
		return;
	}
	if (!path) {
		gw_call_error(call, GW_E_UNAVAILABLE, "the gateway has no log file", NULL);
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		gw_call_ok(call, json_pack("{s:s, s:i, s:i, s:[]}", "file", path, "cursor", 0,
					   "size", 0, "lines"));
		return;
	}
	size = st.st_size;
	from = cursor < 0 ? 0 : (off_t)cursor;
	if (from > size) {
		/* The file was rotated under the client: start over. */
		reset = true;
		from = 0;
	}
	if (size - from > (off_t)max_bytes) {
		from = size - (off_t)max_bytes;
		truncated = true;
	}
	data = xmalloc((size_t)(size - from) + 1);
	n = pread(fd, data, (size_t)(size - from), from);
	close(fd);
	if (n < 0)
		n = 0;
	data[n] = '\0';
	p = data;
	end = data + n;
	if (truncated) {
		char *nl = memchr(p, '\n', (size_t)(end - p));

		p = nl ? nl + 1 : end;
	}
	/* A line still being written (no newline yet) waits for the next call. */
	while (end > p && end[-1] != '\n')
		end--;
	lines = json_array();
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));

		json_array_append_new(lines, json_stringn(p, (size_t)(nl - p)));
		p = nl + 1;
	}
	while ((json_int_t)json_array_size(lines) > limit) {
		json_array_remove(lines, 0);
		truncated = true;
	}
	out = json_pack("{s:s, s:I, s:I, s:o}", "file", path, "cursor",
			(json_int_t)(from + (end - data)), "size", (json_int_t)size, "lines",
			lines);
	if (truncated)
		json_object_set_new(out, "truncated", json_true());
	if (reset)
		json_object_set_new(out, "reset", json_true());
	free(data);
	gw_call_ok(call, out);
}

/* ==== models and agents ==== */

/* Every model of models.providers.<id>.models[], as ModelChoice rows. */
static void m_models_list(struct gw_call *call)
{
	json_t *providers = config_get(call->gw->cfg, "models.providers"), *prov, *m;
	json_t *models = json_array();
	const char *pid;
	size_t i;

	json_object_foreach(providers, pid, prov)
	{
		json_array_foreach(json_object_get(prov, "models"), i, m)
		{
			const char *id = json_string_value(json_object_get(m, "id"));
			const char *name = json_string_value(json_object_get(m, "name"));
			json_t *row, *v;

			if (!id)
				continue;
			row = json_pack("{s:s, s:s, s:s}", "id", id, "name", name ? name : id,
					"provider", pid);
			if (json_is_integer(v = json_object_get(m, "contextWindow")))
				json_object_set(row, "contextWindow", v);
			if (json_is_boolean(v = json_object_get(m, "reasoning")))
				json_object_set(row, "reasoning", v);
			if (json_is_array(v = json_object_get(m, "input")))
				json_object_set(row, "input", v);
			json_array_append_new(models, row);
		}
	}
	gw_call_ok(call, json_pack("{s:o}", "models", models));
}

static void m_agents_list(struct gw_call *call)
{
	struct gateway *gw = call->gw;
	json_t *list = config_get(gw->cfg, "agents.list"), *a, *agents;
	const char *main_key = config_get_str(gw->cfg, "session.mainKey");
	const char *scope = config_get_str(gw->cfg, "session.scope");
	size_t i;

	if (gw_call_unpack(call, "{}") < 0)
		return;
	agents = json_array();
	json_array_foreach(list, i, a)
	{
		json_t *row, *v;

		if (!json_is_string(json_object_get(a, "id")))
			continue;
		row = json_pack("{s:O}", "id", json_object_get(a, "id"));
		if (json_is_string(v = json_object_get(a, "name")) && json_string_length(v))
			json_object_set(row, "name", v);
		if (json_is_string(v = json_object_get(a, "workspace")) && json_string_length(v))
			json_object_set(row, "workspace", v);
		if (json_is_object(v = json_object_get(a, "identity")))
			json_object_set(row, "identity", v);
		json_array_append_new(agents, row);
	}
	if (!json_array_size(agents))
		json_array_append_new(agents, json_pack("{s:s}", "id", gateway_default_agent(gw)));
	/*
	 * Each agent's resolved model, {primary, fallbacks?}, as OpenClaw's
	 * listAgentsForGateway has it: its Control UI offers model setup
	 * instead of the composer when an agent has no primary.
	 */
	json_array_foreach(agents, i, a)
	{
		const char *id = json_string_value(json_object_get(a, "id"));
		char *ref = catalog_default_ref(gw->cfg, id);
		json_t *fb = catalog_fallbacks(gw->cfg, id), *model = json_object();

		if (ref)
			json_object_set_new(model, "primary", json_string(ref));
		if (json_array_size(fb))
			json_object_set(model, "fallbacks", fb);
		json_decref(fb);
		json_object_set_new(a, "model", model);
		free(ref);
	}
	gw_call_ok(call,
		   json_pack("{s:s, s:s, s:s, s:o}", "defaultId", gateway_default_agent(gw),
			     "mainKey", main_key && *main_key ? main_key : "main", "scope",
			     str_eq(scope, "global") ? "global" : "per-sender", "agents", agents));
}

/* The gateway's own device identity, created on first use (start-up stays fast). */
static void m_identity_get(struct gw_call *call)
{
	struct gateway *gw = call->gw;
	char err[512];

	if (!gw->identity) {
		struct gw_identity *id = xcalloc(1, sizeof(*id));

		if (gw_identity_load(gw->paths->state_dir, id, err, sizeof(err)) < 0) {
			free(id);
			log_error(GW_SUBSYS, "gateway identity: %s", err);
			gw_call_error(call, GW_E_UNAVAILABLE, err, NULL);
			return;
		}
		gw->identity = id;
	}
	gw_call_ok(call, json_pack("{s:s, s:s}", "deviceId", gw->identity->device_id, "publicKey",
				   gw->identity->public_key));
}

const struct gw_method gw_methods_system[] = {
	{ "health", NULL, m_health },
	{ "status", SCOPE_READ, m_status },
	{ "system-presence", SCOPE_READ, m_system_presence },
	{ "logs.tail", SCOPE_READ, m_logs_tail },
	{ "models.list", SCOPE_READ, m_models_list },
	{ "agents.list", SCOPE_READ, m_agents_list },
	{ "gateway.identity.get", SCOPE_READ, m_identity_get },
	{ NULL },
};
