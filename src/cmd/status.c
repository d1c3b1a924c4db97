/*
 * status.c - `pincer status`: an overview in the spirit of `openclaw
 * status`: can the gateway be reached, what it runs, its agents, sessions
 * and channels, and where the config and state live.
 *
 * One connection carries both calls, `health` and `status`; the hello-ok
 * snapshot gives the version, uptime and auth mode.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/str.h"
#include "core/timeutil.h"

const char cmd_status_usage[] =
	"usage: pincer status [--json] [--url URL] [--token TOKEN] [--timeout MS]\n"
	"\n"
	"An overview: whether the gateway can be reached and how it authenticated\n"
	"us, its version and uptime, agents, sessions and channels (from the\n"
	"`health` and `status` methods), and the config file and state directory.\n"
	"--json prints the raw payloads instead. Exits 0 when the gateway was\n"
	"reached, 1 otherwise.\n"
	"\n" CMD_GW_CONN_HELP;

#define ROW "%-10s "

static const char *status_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void status_print_gateway(const struct gw_target *t, const json_t *hello,
				 const json_t *conn_error, long long ms)
{
	const json_t *snap = json_object_get(hello, "snapshot");
	const char *auth;
	char up[48];

	printf(ROW "%s (%s%s)", "Gateway", t->url, t->local ? "local, " : "", t->url_source);
	if (!hello) {
		printf(" · unreachable: %s\n", status_str(conn_error, "message"));
		return;
	}
	auth = status_str(snap, "authMode");
	if (!auth)
		auth = status_str(json_object_get(hello, "auth"), "method");
	printf(" · reachable in %lld ms · auth %s\n", ms, auth ? auth : "none");
	printf(ROW "%s", "Version",
	       status_str(json_object_get(hello, "server"), "version")
		       ? status_str(json_object_get(hello, "server"), "version")
		       : "?");
	if (json_is_integer(json_object_get(snap, "uptimeMs"))) {
		cmd_gw_format_duration(up, sizeof(up),
				       json_integer_value(json_object_get(snap, "uptimeMs")));
		printf(" · up %s", up);
	}
	printf(" · protocol %lld\n",
	       (long long)json_integer_value(json_object_get(hello, "protocol")));
}

static void status_print_health(const json_t *health)
{
	const json_t *agents = json_object_get(health, "agents"), *a;
	const json_t *order = json_object_get(health, "channelOrder");
	const json_t *labels = json_object_get(health, "channelLabels");
	const char *def = status_str(health, "defaultAgentId");
	struct buf b;
	size_t i;

	buf_init(&b, 64 * 1024);
	printf(ROW "%zu", "Agents", json_array_size(agents));
	if (def)
		printf(" (default %s)", def);
	if (json_is_object(json_object_get(health, "sessions")))
		printf(" · sessions %lld", (long long)json_integer_value(json_object_get(
						   json_object_get(health, "sessions"), "count")));
	putchar('\n');

	json_array_foreach(order, i, a)
	{
		const char *id = json_string_value(a);
		const char *label = status_str(labels, id ? id : "");

		if (id)
			buf_printf(&b, "%s%s", b.len ? ", " : "", label ? label : id);
	}
	printf(ROW "%s\n", "Channels", b.len ? b.p : "none configured");

	buf_reset(&b);
	json_array_foreach(agents, i, a)
	{
		const json_t *hb = json_object_get(a, "heartbeat");
		const char *every = status_str(hb, "every");

		if (json_is_true(json_object_get(hb, "enabled")) && every)
			buf_printf(&b, "%s%s (%s)", b.len ? ", " : "", every,
				   status_str(a, "agentId"));
	}
	if (b.len)
		printf(ROW "%s\n", "Heartbeat", b.p);
	buf_release(&b);
}

/* A few figures of the `status` payload that the health snapshot does not carry. */
static void status_print_status(const json_t *st)
{
	const json_t *tasks = json_object_get(st, "tasks");

	if (json_is_object(tasks))
		printf(ROW "%lld total · %lld active · %lld failed\n", "Tasks",
		       (long long)json_integer_value(json_object_get(tasks, "total")),
		       (long long)json_integer_value(json_object_get(tasks, "active")),
		       (long long)json_integer_value(json_object_get(tasks, "failures")));
}

static void status_print_error(const char *what, const json_t *e)
{
	printf(ROW "%s failed: %s: %s\n", "", what, status_str(e, "code"),
	       status_str(e, "message"));
}

int cmd_status(int argc, char **argv, struct ctx *ctx)
{
	struct cmd_gw_conn c = { .port = LLONG_MIN, .timeout = LLONG_MIN };
	bool json = false;
	const struct opt opts[] = {
		{ OPT_FLAG, "json", 0, &json, NULL, "print the raw payloads as JSON" },
		CMD_GW_CONN_OPTS(c),
		{ OPT_END },
	};
	static const char *const read_scope[] = { "operator.read", NULL };
	struct gw_client_opts o;
	struct gw_target t;
	struct gw_client_call calls[2] = { { .method = "health" }, { .method = "status" } };
	json_t *hello = NULL, *conn_error = NULL, *health;
	const struct paths *paths;
	int64_t t0, ms;
	int n = cli_parse(ctx, argc, argv, opts), r;

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[0]);
	if ((r = cmd_gw_target(ctx, &c, &t)))
		return r;
	paths = cli_paths(ctx);
	cmd_gw_client_opts(&t, &c, &o);
	o.scopes = read_scope;
	calls[0].timeout_ms = calls[1].timeout_ms = cmd_gw_timeout(&c);
	calls[1].params = json_object();
	t0 = time_mono_ms();
	gw_client_call_sync(&o, calls, 2, &hello, &conn_error);
	ms = time_mono_ms() - t0;
	json_decref(calls[1].params);
	/* The hello-ok snapshot carries a health snapshot too: use it if the call failed. */
	health = calls[0].payload ? calls[0].payload
				  : json_object_get(json_object_get(hello, "snapshot"), "health");

	if (json) {
		json_t *o2 = json_pack(
			"{s:{s:s, s:s, s:b, s:b, s:I}, s:s, s:s, s:b}", "gateway", "url", t.url,
			"source", t.url_source, "local", t.local, "reachable", hello != NULL, "ms",
			(json_int_t)ms, "configPath", paths->config_path, "stateDir",
			paths->state_dir, "configExists", fs_exists(paths->config_path));

		if (conn_error)
			json_object_set(json_object_get(o2, "gateway"), "error", conn_error);
		json_object_set_new(o2, "hello", hello ? json_incref(hello) : json_null());
		json_object_set_new(o2, "health",
				    calls[0].payload ? json_incref(calls[0].payload) : json_null());
		json_object_set_new(o2, "status",
				    calls[1].payload ? json_incref(calls[1].payload) : json_null());
		if (hello && (calls[0].error || calls[1].error)) {
			json_t *errs = json_object();

			if (calls[0].error)
				json_object_set(errs, "health", calls[0].error);
			if (calls[1].error)
				json_object_set(errs, "status", calls[1].error);
			json_object_set_new(o2, "errors", errs);
		}
		cmd_gw_print_json(o2, false);
		json_decref(o2);
	} else {
		printf("pincer status\n\n");
		status_print_gateway(&t, hello, conn_error, (long long)ms);
		if (hello) {
			if (health)
				status_print_health(health);
			if (calls[0].error)
				status_print_error("health", calls[0].error);
			if (calls[1].payload)
				status_print_status(calls[1].payload);
			else if (calls[1].error)
				status_print_error("status", calls[1].error);
		}
		printf(ROW "%s%s\n", "Config", paths->config_path,
		       fs_exists(paths->config_path) ? "" : " (not found; defaults apply)");
		printf(ROW "%s\n", "State dir", paths->state_dir);
		if (!hello)
			cmd_gw_print_hint(&t, conn_error);
	}
	r = hello ? 0 : 1;
	json_decref(hello);
	json_decref(conn_error);
	for (int i = 0; i < 2; i++) {
		json_decref(calls[i].payload);
		json_decref(calls[i].error);
	}
	gw_target_release(&t);
	return r;
}
