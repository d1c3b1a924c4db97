/*
 * devices.c - `pincer devices list|approve|reject|remove`: device pairing
 * through the running gateway (device.pair.* methods), as OpenClaw's
 * `openclaw devices` does it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/timeutil.h"

const char cmd_devices_usage[] =
	"usage: pincer devices list [--json]\n"
	"   or: pincer devices approve <requestId> | --latest\n"
	"   or: pincer devices reject <requestId>\n"
	"   or: pincer devices remove <deviceId>\n"
	"\n"
	"Devices (browsers running the Control UI, apps, node hosts) prove who they\n"
	"are with a key pair, and must be paired before the gateway lets them in.\n"
	"Devices on the gateway's own machine are paired at once; others wait for\n"
	"`pincer devices approve`. Requests expire after five minutes.\n"
	"\n" CMD_GW_CONN_HELP;

/* Scopes the CLI asks for: approving operator scopes needs the caller to hold them. */
static const char *const devices_scopes[] = { "operator.admin", NULL };

/* One device.pair.* call through the running gateway; prints errors. Returns the exit code. */
static int devices_call(struct ctx *ctx, const struct cmd_gw_conn *c, const char *method,
			json_t *params, json_t **payload)
{
	struct gw_target t;
	int r = cmd_gw_call1(ctx, c, &t, method, params, devices_scopes, payload);

	gw_target_release(&t);
	return r;
}

static void devices_scopes_str(const json_t *scopes, char *out, size_t outlen)
{
	size_t i, used = 0;
	json_t *s;

	out[0] = '\0';
	json_array_foreach(scopes, i, s)
	{
		if (used < outlen)
			used += (size_t)snprintf(out + used, outlen - used, "%s%s", i ? "," : "",
						 json_string_value(s) ? json_string_value(s) : "?");
	}
	if (!out[0])
		snprintf(out, outlen, "-");
}

static const char *devices_str(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : dflt;
}

static void devices_print(const json_t *list)
{
	const json_t *pending = json_object_get(list, "pending");
	const json_t *paired = json_object_get(list, "paired");
	int64_t now = time_now_ms();
	char scopes[256], age[48];
	size_t i;
	json_t *d;

	printf("Pending (%zu)\n", json_array_size(pending));
	json_array_foreach(pending, i, d)
	{
		devices_scopes_str(json_object_get(d, "scopes"), scopes, sizeof(scopes));
		cmd_gw_format_duration(age, sizeof(age),
				       now - json_integer_value(json_object_get(d, "ts")));
		printf("  %s  %.12s  %s  %s  role %s  scopes %s  from %s  %s ago\n",
		       devices_str(d, "requestId", "?"), devices_str(d, "deviceId", "?"),
		       devices_str(d, "displayName", devices_str(d, "clientId", "-")),
		       devices_str(d, "platform", "-"), devices_str(d, "role", "operator"), scopes,
		       devices_str(d, "remoteIp", "-"), age);
	}
	printf("Paired (%zu)\n", json_array_size(paired));
	json_array_foreach(paired, i, d)
	{
		devices_scopes_str(json_object_get(d, "scopes"), scopes, sizeof(scopes));
		printf("  %.12s  %s  %s  role %s  scopes %s  via %s%s\n",
		       devices_str(d, "deviceId", "?"),
		       devices_str(d, "operatorLabel",
				   devices_str(d, "displayName", devices_str(d, "clientId", "-"))),
		       devices_str(d, "platform", "-"), devices_str(d, "role", "operator"), scopes,
		       devices_str(d, "approvedVia", "-"),
		       json_is_true(json_object_get(d, "connected")) ? "  (connected)" : "");
	}
}

static int devices_list(int argc, char **argv, struct ctx *ctx)
{
	struct cmd_gw_conn c = { .port = LLONG_MIN, .timeout = LLONG_MIN };
	bool json = false;
	const struct opt opts[] = {
		{ OPT_FLAG, "json", 0, &json, NULL, "print the lists as JSON" },
		CMD_GW_CONN_OPTS(c),
		{ OPT_END },
	};
	json_t *list = NULL;
	int n = cli_parse(ctx, argc, argv, opts), r;

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[0]);
	if ((r = devices_call(ctx, &c, "device.pair.list", json_object(), &list)))
		return r;
	if (json)
		cmd_gw_print_json(list, false);
	else
		devices_print(list);
	json_decref(list);
	return 0;
}

/* approve / reject / remove: one id argument, one method. */
static int devices_act(int argc, char **argv, struct ctx *ctx, const char *method, const char *key,
		       bool latest_ok)
{
	struct cmd_gw_conn c = { .port = LLONG_MIN, .timeout = LLONG_MIN };
	bool latest = false, json = false;
	const struct opt opts[] = {
		{ OPT_FLAG, "latest", 0, &latest, NULL, "the newest pending request" },
		{ OPT_FLAG, "json", 0, &json, NULL, "print the gateway's answer as JSON" },
		CMD_GW_CONN_OPTS(c),
		{ OPT_END },
	};
	json_t *out = NULL, *list = NULL;
	char id[128];
	int n = cli_parse(ctx, argc, argv, opts), r;

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (latest && !latest_ok)
		return cli_usage_error(ctx, "--latest only goes with approve");
	if (n > 1 || (n == 1) == latest)
		return cli_usage_error(
			ctx, latest ? "give either an id or --latest" : "expected one %s", key);
	if (latest) {
		if ((r = devices_call(ctx, &c, "device.pair.list", json_object(), &list)))
			return r;
		if (!json_array_size(json_object_get(list, "pending"))) {
			json_decref(list);
			return cli_error("no pending pairing requests");
		}
		snprintf(id, sizeof(id), "%s",
			 devices_str(json_array_get(json_object_get(list, "pending"), 0),
				     "requestId", ""));
		json_decref(list);
	} else {
		snprintf(id, sizeof(id), "%s", argv[0]);
	}
	if ((r = devices_call(ctx, &c, method, json_pack("{s:s}", key, id), &out)))
		return r;
	if (json)
		cmd_gw_print_json(out, false);
	else if (!strcmp(method, "device.pair.approve"))
		printf("approved %s (device %.12s)\n", id,
		       devices_str(json_object_get(out, "device"), "deviceId", "?"));
	else if (!strcmp(method, "device.pair.reject"))
		printf("rejected %s\n", id);
	else
		printf("removed device %.12s\n", id);
	json_decref(out);
	return 0;
}

static int devices_approve(int argc, char **argv, struct ctx *ctx)
{
	return devices_act(argc, argv, ctx, "device.pair.approve", "requestId", true);
}

static int devices_reject(int argc, char **argv, struct ctx *ctx)
{
	return devices_act(argc, argv, ctx, "device.pair.reject", "requestId", false);
}

static int devices_remove(int argc, char **argv, struct ctx *ctx)
{
	return devices_act(argc, argv, ctx, "device.pair.remove", "deviceId", false);
}

const struct cmd cmd_devices_sub[] = {
	{ "list", devices_list, "list pending requests and paired devices",
	  "usage: pincer devices list [--json] [connection options]\n", NULL },
	{ "approve", devices_approve, "approve a pending pairing request",
	  "usage: pincer devices approve <requestId> | --latest [--json] [connection options]\n",
	  NULL },
	{ "reject", devices_reject, "reject a pending pairing request",
	  "usage: pincer devices reject <requestId> [--json] [connection options]\n", NULL },
	{ "remove", devices_remove, "forget a paired device (its connections are closed)",
	  "usage: pincer devices remove <deviceId> [--json] [connection options]\n", NULL },
	{ .name = NULL },
};
