/*
 * gateway_client.c - `pincer gateway call` and `pincer gateway status`,
 * and what every command that talks to a running gateway shares: the
 * connection options, finding the gateway, printing its errors.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "net/ws_client.h"

/* ==== shared ==== */

unsigned cmd_gw_timeout(const struct cmd_gw_conn *c)
{
	return c->timeout == LLONG_MIN ? CMD_GW_DEFAULT_TIMEOUT_MS : (unsigned)c->timeout;
}

int cmd_gw_target(struct ctx *ctx, const struct cmd_gw_conn *c, struct gw_target *t)
{
	struct gw_target_opts o = { c->url, c->token, c->password,
				    c->port == LLONG_MIN ? -1 : c->port };
	struct log_opts lo;
	struct config cfg;
	struct buf errs;
	char err[256];
	int r = 0;

	memset(t, 0, sizeof(*t));
	if (c->timeout != LLONG_MIN && (c->timeout < 1 || c->timeout > 24LL * 3600 * 1000))
		return cli_usage_error(ctx, "invalid timeout %lld (want 1 to 86400000 ms)",
				       c->timeout);
	if (c->port != LLONG_MIN && (c->port < 1 || c->port > 65535))
		return cli_usage_error(ctx, "invalid port %lld (want 1-65535)", c->port);
	if (c->url && ws_url_check(c->url, err, sizeof(err)) < 0)
		return cli_usage_error(ctx, "--url: %s", err);
	/* The command reports failures itself; lws's and our own log lines would repeat them. */
	log_opts_default(&lo);
	lo.console_level = LOG_ERROR;
	lo.console_style = LOG_STYLE_COMPACT;
	lo.color = false;
	log_setup(&lo);
	/* A gateway that goes away mid-write must cost an EPIPE, not the process. */
	signal(SIGPIPE, SIG_IGN);

	config_init(&cfg);
	buf_init(&errs, 1 << 20);
	if (config_open(&cfg, cli_paths(ctx), &errs) < 0) {
		fprintf(stderr, "pincer: invalid config %s:\n", cli_paths(ctx)->config_path);
		fputs(errs.p, stderr);
		if (errs.len && errs.p[errs.len - 1] != '\n')
			fputc('\n', stderr);
		r = 1;
		goto out;
	}
	if (gw_target_resolve(t, &cfg, cli_paths(ctx), &o, err, sizeof(err)) < 0)
		r = cli_error("%s", err);
out:
	buf_release(&errs);
	config_release(&cfg);
	return r;
}

void cmd_gw_client_opts(const struct gw_target *t, const struct cmd_gw_conn *c,
			struct gw_client_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->url = t->url;
	o->token = t->token;
	o->password = t->password;
	o->connect_timeout_ms = cmd_gw_timeout(c);
}

static const char *cmd_gw_detail_code(const json_t *error)
{
	return json_string_value(json_object_get(json_object_get(error, "details"), "code"));
}

void cmd_gw_print_error(const struct gw_target *t, const json_t *error)
{
	const char *code = json_string_value(json_object_get(error, "code"));
	const char *msg = json_string_value(json_object_get(error, "message"));

	fprintf(stderr, "error: %s: %s\n", code ? code : "ERROR", msg ? msg : "(no message)");
	cmd_gw_print_hint(t, error);
}

void cmd_gw_print_hint(const struct gw_target *t, const json_t *error)
{
	const char *code = json_string_value(json_object_get(error, "code"));
	const char *dcode = cmd_gw_detail_code(error);
	json_int_t close_code =
		json_integer_value(json_object_get(json_object_get(error, "details"), "closeCode"));

	if (!dcode)
		dcode = "";
	if (str_starts_with(dcode, "AUTH_PASSWORD")) {
		fprintf(stderr,
			"hint: the gateway refused the password%s%s%s; check "
			"gateway.auth.password or PINCER_GATEWAY_PASSWORD\n",
			t->password ? " (from " : "", t->password ? t->auth_source : "",
			t->password ? ")" : "");
	} else if (!t->token && !t->password &&
		   (str_eq(code, "NOT_PAIRED") || str_starts_with(dcode, "AUTH_") ||
		    str_starts_with(dcode, "DEVICE_") || close_code == 1008)) {
		fprintf(stderr, "hint: the gateway wants credentials; set gateway.auth.token or "
				"PINCER_GATEWAY_TOKEN, or pass --token\n");
	} else if (str_starts_with(dcode, "AUTH_") || close_code == 1008) {
		fprintf(stderr, "hint: the gateway refused the %s (from %s); check %s or %s\n",
			t->token ? "token" : "password", t->auth_source,
			t->token ? "gateway.auth.token" : "gateway.auth.password",
			t->token ? "PINCER_GATEWAY_TOKEN" : "PINCER_GATEWAY_PASSWORD");
	} else if (str_eq(code, GW_ERR_UNAVAILABLE) && t->local && !t->runtime.alive) {
		fprintf(stderr, "hint: no gateway is running here; start one with 'pincer gateway "
				"run'\n");
	}
}

void cmd_gw_print_json(const json_t *v, bool compact)
{
	char *s = json_dump_str(v, compact ? JSON_COMPACT : JSON_INDENT(2));

	puts(s);
	free(s);
}

void cmd_gw_format_duration(char *out, size_t outlen, long long ms)
{
	long long s = ms / 1000, m = s / 60, h = m / 60, d = h / 24;

	if (d)
		snprintf(out, outlen, "%lld d %lld h", d, h % 24);
	else if (h)
		snprintf(out, outlen, "%lld h %lld min", h, m % 60);
	else if (m)
		snprintf(out, outlen, "%lld min %lld s", m, s % 60);
	else
		snprintf(out, outlen, "%lld s", s);
}

/* ==== gateway call ==== */

const char cmd_gateway_call_usage[] =
	"usage: pincer gateway call <method> [--params JSON] [--json] [--timeout MS]\n"
	"                           [--url URL] [--token TOKEN | --password PASSWORD]\n"
	"\n"
	"Call one gateway RPC method and print its result: indented JSON, or one\n"
	"compact line with --json. --params is a JSON object (default {}). On an\n"
	"error, prints \"error: <code>: <message>\" on stderr and exits 1.\n"
	"\n" CMD_GW_CONN_HELP;

int cmd_gw_call1(struct ctx *ctx, const struct cmd_gw_conn *c, struct gw_target *t,
		 const char *method, json_t *params, const char *const *scopes, json_t **payload)
{
	struct gw_client_opts o;
	struct gw_client_call call = { .method = method, .params = params };
	json_t *conn_error = NULL;
	int r;

	memset(t, 0, sizeof(*t));
	*payload = NULL;
	if ((r = cmd_gw_target(ctx, c, t))) {
		json_decref(params);
		return r;
	}
	cmd_gw_client_opts(t, c, &o);
	o.scopes = scopes ? scopes : gw_scopes_for_method(method);
	call.timeout_ms = cmd_gw_timeout(c);
	gw_client_call_sync(&o, &call, 1, NULL, &conn_error);
	if (call.error) {
		cmd_gw_print_error(t, call.error);
		r = 1;
	} else {
		*payload = call.payload;
		call.payload = NULL;
	}
	json_decref(call.payload);
	json_decref(call.error);
	json_decref(conn_error);
	json_decref(params);
	return r;
}

int cmd_gateway_call(int argc, char **argv, struct ctx *ctx)
{
	struct cmd_gw_conn c = { .port = LLONG_MIN, .timeout = LLONG_MIN };
	const char *params_s = NULL;
	bool json = false;
	const struct opt opts[] = {
		{ OPT_STR, "params", 0, &params_s, "JSON", "the method's params, a JSON object" },
		{ OPT_FLAG, "json", 0, &json, NULL, "print the result as compact JSON" },
		CMD_GW_CONN_OPTS(c),
		{ OPT_END },
	};
	struct gw_target t;
	json_t *params, *payload;
	json_error_t jerr;
	int n = cli_parse(ctx, argc, argv, opts), r;

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n == 0)
		return cli_usage_error(ctx, "which method? (e.g. 'pincer gateway call health')");
	if (n > 1)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[1]);
	params = json_loads(params_s ? params_s : "{}", 0, &jerr);
	if (!params)
		return cli_usage_error(ctx, "--params is not valid JSON: %s (line %d, column %d)",
				       jerr.text, jerr.line, jerr.column);
	if (!json_is_object(params)) {
		json_decref(params);
		return cli_usage_error(ctx, "--params must be a JSON object");
	}
	r = cmd_gw_call1(ctx, &c, &t, argv[0], params, NULL, &payload);
	if (!r)
		cmd_gw_print_json(payload, json);
	json_decref(payload);
	gw_target_release(&t);
	return r;
}

/* ==== gateway status ==== */

const char cmd_gateway_status_usage[] =
	"usage: pincer gateway status [--json] [--url URL] [--token TOKEN]\n"
	"\n"
	"Is a gateway running here (<state dir>/gateway.json names a live process),\n"
	"where it listens, and can it be reached: a `health` call over the gateway\n"
	"protocol, reported as reachable, auth failed or unreachable with the\n"
	"reason. Exits 0 when the gateway answered, 1 otherwise.\n"
	"\n" CMD_GW_CONN_HELP;

/* "reachable", "auth-failed" or "unreachable", from the connection's outcome. */
static const char *cmd_gw_probe_status(bool connected, const json_t *error)
{
	const char *dcode = cmd_gw_detail_code(error);
	json_int_t close_code =
		json_integer_value(json_object_get(json_object_get(error, "details"), "closeCode"));

	if (connected)
		return "reachable";
	if ((dcode && str_starts_with(dcode, "AUTH_")) || close_code == 1008)
		return "auth-failed";
	return "unreachable";
}

int cmd_gateway_status(int argc, char **argv, struct ctx *ctx)
{
	struct cmd_gw_conn c = { .port = LLONG_MIN, .timeout = LLONG_MIN };
	bool json = false;
	const struct opt opts[] = {
		{ OPT_FLAG, "json", 0, &json, NULL, "print the report as JSON" },
		CMD_GW_CONN_OPTS(c),
		{ OPT_END },
	};
	struct gw_client_opts o;
	struct gw_target t;
	struct gw_client_call call = { .method = "health" };
	json_t *hello = NULL, *conn_error = NULL, *rt = json_null(), *report;
	const struct gw_runtime *run;
	const char *probe;
	int64_t t0, ms;
	int n = cli_parse(ctx, argc, argv, opts), r;

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[0]);
	if ((r = cmd_gw_target(ctx, &c, &t)))
		return r;
	run = &t.runtime;
	cmd_gw_client_opts(&t, &c, &o);
	o.scopes = gw_scopes_for_method("health");
	call.timeout_ms = cmd_gw_timeout(&c);
	t0 = time_mono_ms();
	gw_client_call_sync(&o, &call, 1, &hello, &conn_error);
	ms = time_mono_ms() - t0;
	probe = cmd_gw_probe_status(hello != NULL, conn_error);

	if (run->present)
		rt = json_pack("{s:i, s:b, s:s, s:i, s:s, s:I}", "pid", run->pid, "alive",
			       run->alive, "host", run->host, "port", run->port, "version",
			       run->version, "startedAt", (json_int_t)run->started_at);
	report = json_pack("{s:s, s:o, s:{s:s, s:s, s:b, s:s}, s:{s:s, s:b, s:I}}", "stateDir",
			   cli_paths(ctx)->state_dir, "runtime", rt, "target", "url", t.url,
			   "source", t.url_source, "local", t.local, "auth", t.auth_source, "probe",
			   "status", probe, "ok", hello != NULL, "ms", (json_int_t)ms);
	{
		json_t *p = json_object_get(report, "probe");

		if (hello)
			json_object_set(p, "server", json_object_get(hello, "server"));
		if (call.payload)
			json_object_set(p, "health", call.payload);
		if (call.error || conn_error)
			json_object_set(p, "error", conn_error ? conn_error : call.error);
	}

	if (json) {
		cmd_gw_print_json(report, false);
	} else {
		char up[48];

		if (!run->present)
			printf("Gateway: not running here (no %s/gateway.json)\n",
			       cli_paths(ctx)->state_dir);
		else if (!run->alive)
			printf("Gateway: not running (stale gateway.json: pid %d is gone)\n",
			       run->pid);
		else {
			cmd_gw_format_duration(up, sizeof(up),
					       run->started_at ? time_now_ms() - run->started_at
							       : 0);
			printf("Gateway: running (pid %d, pincer %s, up %s)\n", run->pid,
			       run->version[0] ? run->version : "?", up);
			printf("Listening: %s:%d\n", run->host, run->port);
		}
		printf("Probe target: %s (%s)\n", t.url, t.url_source);
		printf("Auth: %s\n", t.token ? "token" : t.password ? "password" : "none");
		if (hello) {
			const json_t *server = json_object_get(hello, "server");

			printf("Probe: reachable (%lld ms, gateway %s, protocol %lld)\n",
			       (long long)ms,
			       json_string_value(json_object_get(server, "version"))
				       ? json_string_value(json_object_get(server, "version"))
				       : "?",
			       (long long)json_integer_value(json_object_get(hello, "protocol")));
			if (call.error)
				printf("Health: %s: %s\n",
				       json_string_value(json_object_get(call.error, "code")),
				       json_string_value(json_object_get(call.error, "message")));
			else
				printf("Health: %s\n",
				       json_is_true(json_object_get(call.payload, "ok"))
					       ? "ok"
					       : "not ok");
		} else {
			const json_t *e = conn_error ? conn_error : call.error;

			printf("Probe: %s: %s\n",
			       str_eq(probe, "auth-failed") ? "auth failed" : "unreachable",
			       json_string_value(json_object_get(e, "message")));
			cmd_gw_print_hint(&t, e);
		}
	}
	r = hello ? 0 : 1;
	json_decref(report);
	json_decref(hello);
	json_decref(conn_error);
	json_decref(call.payload);
	json_decref(call.error);
	gw_target_release(&t);
	return r;
}
