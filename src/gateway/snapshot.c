/*
 * snapshot.c - the state a client sees on connect and asks for later:
 * presence, the health snapshot, state versions and hello-ok itself.
 * Shapes follow OpenClaw's snapshot.ts (see the captured hello-ok frames).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "config/config.h"
#include "config/paths.h"
#include "core/fs.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "agent/workspace.h"
#include "gateway/internal.h"

/* A health snapshot younger than this is served from the cache. */
#define GW_HEALTH_CACHE_MS 1000

/* Sessions listed under "recent" in a health snapshot. */
#define GW_HEALTH_RECENT 5

/* OpenClaw's default heartbeat prompt, reported until the agent runtime owns it. */
#define GW_HEARTBEAT_PROMPT                                                                        \
	"Read HEARTBEAT.md if it exists (workspace context). Follow it strictly. Do not infer "    \
	"or repeat old tasks from prior chats. If nothing needs attention, reply HEARTBEAT_OK."

int64_t gateway_uptime_ms(const struct gateway *gw)
{
	return time_mono_ms() - gw->started_mono_ms;
}

json_t *gateway_state_version_json(const struct gateway *gw)
{
	return json_pack("{s:I, s:I}", "presence", (json_int_t)gw->presence_version, "health",
			 (json_int_t)gw->health_version);
}

const char *gateway_default_agent(const struct gateway *gw)
{
	json_t *list = config_get(gw->cfg, "agents.list"), *a;
	const char *first = NULL;
	size_t i;

	json_array_foreach(list, i, a)
	{
		const char *id = json_string_value(json_object_get(a, "id"));

		if (!id)
			continue;
		if (json_is_true(json_object_get(a, "default")))
			return id;
		if (!first)
			first = id;
	}
	return first ? first : "main";
}

bool gateway_agent_known(const struct gateway *gw, const char *id)
{
	/* exact: an id that passes here may become a directory name */
	return id && (!strcmp(id, gateway_default_agent(gw)) ||
		      workspace_agent_entry(gw->cfg, id) != NULL);
}

/* ==== presence ==== */

json_t *gw_presence_entry_self(struct gateway *gw)
{
	struct utsname u;
	char platform[160], text[512];

	if (uname(&u) == 0)
		snprintf(platform, sizeof(platform), "linux %s", u.release);
	else
		snprintf(platform, sizeof(platform), "linux");
	snprintf(text, sizeof(text), "Gateway: %s (%s) · app %s · mode gateway · reason self",
		 gw->hostname, gw->host, PINCER_VERSION);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "host", gw->hostname,
			 "ip", gw->host, "version", PINCER_VERSION, "platform", platform,
			 "deviceFamily", "Linux", "mode", "gateway", "reason", "self", "instanceId",
			 gw->boot_id, "text", text, "ts", (json_int_t)gw->started_ms);
}

static void gw_copy_str(json_t *dst, const char *dkey, const json_t *src, const char *skey)
{
	json_t *v = json_object_get(src, skey);

	if (json_is_string(v) && json_string_length(v))
		json_object_set(dst, dkey, v);
}

static json_t *gw_presence_entry_conn(const struct gw_conn *c)
{
	json_t *e = json_object(), *client = c->client;
	const char *mode = json_string_value(json_object_get(client, "mode"));
	const char *name = json_string_value(json_object_get(client, "displayName"));
	char text[512];

	gw_copy_str(e, "host", client, "displayName");
	gw_copy_str(e, "clientId", client, "id");
	json_object_set_new(e, "ip", json_string(c->peer));
	gw_copy_str(e, "version", client, "version");
	gw_copy_str(e, "platform", client, "platform");
	gw_copy_str(e, "deviceFamily", client, "deviceFamily");
	gw_copy_str(e, "modelIdentifier", client, "modelIdentifier");
	gw_copy_str(e, "mode", client, "mode");
	json_object_set_new(e, "reason", json_string("connect"));
	gw_copy_str(e, "instanceId", client, "instanceId");
	if (c->device_id[0])
		json_object_set_new(e, "deviceId", json_string(c->device_id));
	json_object_set_new(e, "roles", json_pack("[s]", gw_role_name(c->role)));
	json_object_set(e, "scopes", c->scopes);
	snprintf(text, sizeof(text), "%s: %s (%s) · mode %s",
		 c->role == GW_ROLE_NODE ? "Node" : "Client",
		 name ? name : json_string_value(json_object_get(client, "id")), c->peer,
		 mode ? mode : "?");
	json_object_set_new(e, "text", json_string(text));
	json_object_set_new(e, "ts", json_integer(time_now_ms()));
	return e;
}

json_t *gateway_presence_json(struct gateway *gw)
{
	json_t *list = json_array();

	json_array_append_new(list, gw_presence_entry_self(gw));
	for (struct gw_conn *c = gw->conns; c; c = c->next)
		if (c->state == GWC_READY && c->in_presence)
			json_array_append_new(list, gw_presence_entry_conn(c));
	return list;
}

/* ==== health ==== */

/* {path, count, recent[]} for one agent's session store (absent store: none yet). */
static json_t *gw_health_sessions(struct gateway *gw, const char *agent, int64_t now)
{
	char *path = xasprintf("%s/agents/%s/sessions/sessions.json", gw->paths->state_dir, agent);
	json_t *out = json_pack("{s:s, s:i, s:[]}", "path", path, "count", 0, "recent");
	json_t *store, *entry, *recent = json_object_get(out, "recent");
	const char *key;
	struct buf b;

	buf_init(&b, 64u << 20);
	if (fs_read_file(path, &b) == 0 && (store = json_loadb(b.p, b.len, 0, NULL))) {
		json_object_set_new(out, "count",
				    json_integer((json_int_t)json_object_size(store)));
		json_object_foreach(store, key, entry)
		{
			int64_t at = json_integer_value(json_object_get(entry, "updatedAt"));
			size_t n = json_array_size(recent), pos = n;

			/* Keep the newest GW_HEALTH_RECENT, newest first (insertion into a tiny list). */
			while (pos > 0 &&
			       json_integer_value(json_object_get(json_array_get(recent, pos - 1),
								  "updatedAt")) < at)
				pos--;
			if (pos >= GW_HEALTH_RECENT)
				continue;
			json_array_insert_new(recent, pos,
					      json_pack("{s:s, s:I, s:I}", "key", key, "updatedAt",
							(json_int_t)at, "age",
							(json_int_t)(now - at)));
			if (json_array_size(recent) > GW_HEALTH_RECENT)
				json_array_remove(recent, GW_HEALTH_RECENT);
		}
		json_decref(store);
	}
	buf_release(&b);
	free(path);
	return out;
}

static json_t *gw_health_heartbeat(struct gateway *gw, int64_t *every_ms)
{
	const char *every = config_get_str(gw->cfg, "agents.defaults.heartbeat.every");
	const char *prompt = config_get_str(gw->cfg, "agents.defaults.heartbeat.prompt");
	const char *target = config_get_str(gw->cfg, "agents.defaults.heartbeat.target");
	long long ack = config_get_int(gw->cfg, "agents.defaults.heartbeat.ackMaxChars");
	json_t *hb;

	if (!every)
		every = "30m";
	if (time_parse_duration(every, 60000, every_ms) < 0)
		*every_ms = -1;
	hb = json_pack("{s:b, s:s, s:s, s:s, s:I}", "enabled", *every_ms > 0, "every", every,
		       "prompt", prompt ? prompt : GW_HEARTBEAT_PROMPT, "target",
		       target ? target : "last", "ackMaxChars", (json_int_t)(ack > 0 ? ack : 300));
	json_object_set_new(hb, "everyMs", *every_ms >= 0 ? json_integer(*every_ms) : json_null());
	return hb;
}

static json_t *gw_health_build(struct gateway *gw)
{
	int64_t now = time_now_ms(), t0 = time_mono_ms(), every_ms;
	const char *def = gateway_default_agent(gw);
	json_t *agents = json_array(), *list = config_get(gw->cfg, "agents.list"), *a, *h;
	json_t *hb = gw_health_heartbeat(gw, &every_ms);
	json_t *main_sessions = NULL;
	size_t i;

	json_array_foreach(list, i, a)
	{
		const char *id = json_string_value(json_object_get(a, "id"));
		json_t *row;

		if (!id)
			continue;
		row = json_pack("{s:s, s:b, s:O, s:o}", "agentId", id, "isDefault",
				!strcmp(id, def), "heartbeat", hb, "sessions",
				gw_health_sessions(gw, id, now));
		if (json_is_string(json_object_get(a, "name")))
			json_object_set(row, "name", json_object_get(a, "name"));
		json_array_append_new(agents, row);
	}
	if (!json_array_size(agents))
		json_array_append_new(agents, json_pack("{s:s, s:b, s:O, s:o}", "agentId", def,
							"isDefault", 1, "heartbeat", hb, "sessions",
							gw_health_sessions(gw, def, now)));
	json_array_foreach(agents, i, a)
	{
		if (json_is_true(json_object_get(a, "isDefault")))
			main_sessions = json_object_get(a, "sessions");
	}
	h = json_pack("{s:b, s:I, s:I, s:{}, s:[], s:{}, s:I, s:s, s:o, s:O, s:{s:s}}", "ok", 1,
		      "ts", (json_int_t)now, "durationMs", (json_int_t)(time_mono_ms() - t0),
		      "channels", "channelOrder", "channelLabels", "heartbeatSeconds",
		      (json_int_t)(every_ms > 0 ? every_ms / 1000 : 0), "defaultAgentId", def,
		      "agents", agents, "sessions", main_sessions ? main_sessions : json_null(),
		      "configReload", "hotReloadStatus",
		      str_eq(config_get_str(gw->cfg, "gateway.reload.mode"), "off") ? "disabled"
										    : "active");
	json_decref(hb);
	return h;
}

json_t *gateway_health_json(struct gateway *gw, bool fresh)
{
	int64_t now = time_mono_ms();

	if (fresh || !gw->health_cache || now - gw->health_cache_mono_ms > GW_HEALTH_CACHE_MS) {
		json_decref(gw->health_cache);
		gw->health_cache = gw_health_build(gw);
		gw->health_cache_mono_ms = now;
	}
	return json_incref(gw->health_cache);
}

/* ==== hello-ok ==== */

json_t *gw_hello_ok(struct gw_conn *c, json_t *auth)
{
	struct gateway *gw = c->gw;
	const char *def = gateway_default_agent(gw);
	const char *main_key = config_get_str(gw->cfg, "session.mainKey");
	const char *scope = config_get_str(gw->cfg, "session.scope");
	char main_session[256];

	if (!main_key || !*main_key)
		main_key = "main";
	snprintf(main_session, sizeof(main_session), "agent:%s:%s", def, main_key);
	return json_pack(
		"{s:s, s:i, s:{s:s, s:s, s:s}, s:{s:o, s:o}, "
		"s:{s:o, s:o, s:o, s:I, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}}, "
		"s:o, s:{s:i, s:i, s:i}}",
		"type", "hello-ok", "protocol", c->protocol, "server", "version", PINCER_VERSION,
		"bootId", gw->boot_id, "connId", c->conn_id, "features", "methods",
		gw_method_names(), "events", gw_event_names(), "snapshot", "presence",
		gateway_presence_json(gw), "health", gateway_health_json(gw, false), "stateVersion",
		gateway_state_version_json(gw), "uptimeMs", (json_int_t)gateway_uptime_ms(gw),
		"configPath", gw->paths->config_path, "stateDir", gw->paths->state_dir, "authMode",
		gw_auth_mode_name(gw->auth.mode), "sessionDefaults", "defaultAgentId", def,
		"mainKey", main_key, "mainSessionKey", main_session, "scope",
		scope ? scope : "per-sender", "auth", auth, "policy", "maxPayload",
		(int)GW_MAX_PAYLOAD, "maxBufferedBytes", (int)GW_MAX_BUFFERED, "tickIntervalMs",
		GW_TICK_INTERVAL_MS);
}
