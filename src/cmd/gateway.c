/*
 * gateway.c - `pincer gateway [run]`: the daemon, in the foreground.
 *
 * This first cut loads and checks the config, sets up logging, binds the
 * one gateway port and serves the HTTP probes and a status page on it. The
 * WebSocket control plane comes next and will share the port (and this
 * file's start-up and shutdown sequence).
 *
 * Start-up order matters for the 10 ms budget and for clear failures:
 * everything that can refuse to start (config, auth, bind mode, port) is
 * decided before the loop and lws exist; the runtime file that clients use
 * to find the gateway is written only once the port is listening.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "config/schema.h"
#include "core/fs.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "net/http_server.h"

#define SUBSYS "gateway"

#define GATEWAY_DEFAULT_PORT  18789
/* How long a stop waits for responses in progress before closing their connections. */
#define GATEWAY_STOP_GRACE_MS 5000

const char cmd_gateway_usage[] =
	"usage: pincer gateway run [--port PORT] [--bind loopback|lan|custom] [--verbose]\n"
	"   or: pincer gateway [options]\n"
	"\n"
	"Run the gateway in the foreground until SIGINT or SIGTERM. One port serves\n"
	"HTTP: the health probes (/health, /healthz, /ready, /readyz) and a status\n"
	"page at /. The WebSocket control plane and the Control UI are not part of\n"
	"this build yet.\n"
	"\n"
	"The port is --port, else $PINCER_GATEWAY_PORT (or $OPENCLAW_GATEWAY_PORT),\n"
	"else gateway.port from the config, else 18789; 0 picks a free port. The\n"
	"address comes from --bind, else gateway.bind: loopback is 127.0.0.1, lan is\n"
	"0.0.0.0, custom is gateway.customBindHost. Binding beyond loopback needs\n"
	"gateway.auth.token or gateway.auth.password.\n"
	"\n"
	"Once listening, the gateway writes <state dir>/gateway.json (pid, port,\n"
	"host, version, startedAt) and removes it when it stops.\n";

const struct cmd cmd_gateway_sub[] = {
	{ "run", cmd_gateway, "run the gateway in the foreground", cmd_gateway_usage, NULL },
	{ "call", cmd_gateway_call, "call a gateway RPC method and print the result",
	  cmd_gateway_call_usage, NULL },
	{ "status", cmd_gateway_status, "is the gateway running, and can it be reached",
	  cmd_gateway_status_usage, NULL },
	{ .name = NULL },
};

struct gateway {
	uv_loop_t loop;
	uv_signal_t sigint, sigterm;
	struct http_server *http;
	const char *state_dir;
	char *runtime_path;
	char host[64];
	int port;
	int64_t started_ms;   /* wall clock, for the runtime file */
	int64_t started_mono; /* for uptime */
	char *token, *password;
	bool stopping;
};

/* ==== HTTP routes ==== */

static int64_t gateway_uptime_ms(const struct gateway *gw)
{
	return time_mono_ms() - gw->started_mono;
}

/* Liveness, as OpenClaw's /health and /healthz, plus version and uptime. */
static void gateway_http_health(const struct http_request *req, struct http_response *res,
				void *arg)
{
	struct gateway *gw = arg;

	http_response_json(res, 200,
			   json_pack("{s:b, s:s, s:s, s:I}", "ok", 1, "status", "live", "version",
				     PINCER_VERSION, "uptimeMs",
				     (json_int_t)gateway_uptime_ms(gw)));
	http_response_header(res, "Cache-Control", "no-store");
}

/* Does the request carry the gateway token or password as a bearer credential? */
static bool gateway_http_authorized(const struct gateway *gw, const struct http_request *req)
{
	const char *h = http_request_header(req, "Authorization");
	const char *cred;

	if (!h || strncasecmp(h, "Bearer ", 7))
		return false;
	cred = h + 7;
	return (gw->token && str_ct_equal(cred, strlen(cred), gw->token, strlen(gw->token))) ||
	       (gw->password &&
		str_ct_equal(cred, strlen(cred), gw->password, strlen(gw->password)));
}

/*
 * Readiness, as OpenClaw's /ready and /readyz: details only for local
 * clients or ones holding the gateway credential, {ready} for the rest.
 */
static void gateway_http_ready(const struct http_request *req, struct http_response *res, void *arg)
{
	struct gateway *gw = arg;
	bool ready = !gw->stopping;
	json_t *o;

	if (req->peer_loopback || gateway_http_authorized(gw, req)) {
		o = json_pack("{s:b, s:[], s:I}", "ready", ready, "failing", "uptimeMs",
			      (json_int_t)gateway_uptime_ms(gw));
		if (!ready)
			json_array_append_new(json_object_get(o, "failing"),
					      json_string("gateway-draining"));
	} else {
		o = json_pack("{s:b}", "ready", ready);
	}
	http_response_json(res, ready ? 200 : 503, o);
	http_response_header(res, "Cache-Control", "no-store");
}

static void gateway_html_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			buf_puts(b, "&amp;");
			break;
		case '<':
			buf_puts(b, "&lt;");
			break;
		case '>':
			buf_puts(b, "&gt;");
			break;
		case '"':
			buf_puts(b, "&quot;");
			break;
		case '\'':
			buf_puts(b, "&#39;");
			break;
		default:
			buf_putc(b, *s);
		}
	}
}

/* "3 s", "2 min 5 s", "4 h 12 min", "3 d 2 h". */
static void gateway_format_uptime(char *out, size_t outlen, int64_t ms)
{
	int64_t s = ms / 1000, m = s / 60, h = m / 60, d = h / 24;

	if (d)
		snprintf(out, outlen, "%lld d %lld h", (long long)d, (long long)(h % 24));
	else if (h)
		snprintf(out, outlen, "%lld h %lld min", (long long)h, (long long)(m % 60));
	else if (m)
		snprintf(out, outlen, "%lld min %lld s", (long long)m, (long long)(s % 60));
	else
		snprintf(out, outlen, "%lld s", (long long)s);
}

/* A plain status page; the Control UI will replace it. */
static void gateway_http_index(const struct http_request *req, struct http_response *res, void *arg)
{
	struct gateway *gw = arg;
	struct buf *b = &res->body;
	char uptime[48];

	gateway_format_uptime(uptime, sizeof(uptime), gateway_uptime_ms(gw));
	res->content_type = "text/html; charset=utf-8";
	http_response_header(res, "Cache-Control", "no-store");
	buf_puts(b, "<!doctype html>\n"
		    "<html lang=\"en\">\n"
		    "<head>\n"
		    "<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<title>pincer</title>\n"
		    "</head>\n"
		    "<body>\n"
		    "<h1>pincer</h1>\n"
		    "<p>The pincer gateway is running.</p>\n"
		    "<table>\n");
	buf_printf(b, "<tr><th align=\"left\">version</th><td>%s</td></tr>\n", PINCER_VERSION);
	buf_printf(b, "<tr><th align=\"left\">uptime</th><td>%s</td></tr>\n", uptime);
	buf_puts(b, "<tr><th align=\"left\">state directory</th><td>");
	/* The path names the user's home: only local clients get to see it. */
	if (req->peer_loopback)
		gateway_html_escape(b, gw->state_dir);
	else
		buf_puts(b, "(shown to local clients only)");
	buf_puts(b, "</td></tr>\n"
		    "</table>\n"
		    "<p>The Control UI and the WebSocket control plane are not part of this\n"
		    "build yet. Health probes: <a href=\"/health\">/health</a>,\n"
		    "<a href=\"/readyz\">/readyz</a>.</p>\n"
		    "</body>\n"
		    "</html>\n");
}

static const struct http_route gateway_routes[] = {
	{ "GET", "/", gateway_http_index, 0 },         { "GET", "/health", gateway_http_health, 0 },
	{ "GET", "/healthz", gateway_http_health, 0 }, { "GET", "/ready", gateway_http_ready, 0 },
	{ "GET", "/readyz", gateway_http_ready, 0 },   { .path = NULL },
};

/* ==== start-up decisions ==== */

/* Configure both log sinks from the config; --verbose lowers the console to debug. */
static void gateway_setup_logging(const struct config *cfg, const struct paths *paths, bool verbose,
				  bool color)
{
	struct log_opts o;
	const char *s;
	char *file;
	long long max;

	log_opts_default(&o);
	if ((s = config_get_str(cfg, "logging.consoleLevel")))
		log_level_parse(s, &o.console_level);
	if ((s = config_get_str(cfg, "logging.level")))
		log_level_parse(s, &o.file_level);
	if (verbose && o.console_level > LOG_DEBUG)
		o.console_level = LOG_DEBUG;
	s = config_get_str(cfg, "logging.consoleStyle");
	if (str_eq(s, "pretty"))
		o.console_style = LOG_STYLE_PRETTY;
	else if (str_eq(s, "compact"))
		o.console_style = LOG_STYLE_COMPACT;
	else if (str_eq(s, "json"))
		o.console_style = LOG_STYLE_JSON;
	o.color = color;
	max = config_get_int(cfg, "logging.maxFileBytes");
	if (max > 0)
		o.max_file_bytes = (size_t)max;
	s = config_get_str(cfg, "logging.file");
	if (s && *s)
		file = fs_expand_home(s);
	else
		file = xasprintf("%s/logs/pincer.log", paths->state_dir);
	o.file = file;
	if (log_setup(&o) < 0)
		log_warn(SUBSYS, "cannot open log file %s: %s; logging to the console only", file,
			 strerror(errno));
	free(file);
}

static bool gateway_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!strcmp(host, "localhost"))
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

/*
 * The listen address for a bind mode (--bind, else gateway.bind). Returns 0,
 * or the exit code after printing why not.
 */
static int gateway_resolve_bind(struct ctx *ctx, const struct config *cfg, const char *opt,
				char *host, size_t hostlen)
{
	const char *mode = opt ? opt : config_get_str(cfg, "gateway.bind");
	const char *custom;

	if (!mode || !strcmp(mode, "loopback")) {
		snprintf(host, hostlen, "127.0.0.1");
	} else if (!strcmp(mode, "lan")) {
		snprintf(host, hostlen, "0.0.0.0");
	} else if (!strcmp(mode, "custom")) {
		custom = config_get_str(cfg, "gateway.customBindHost");
		if (!custom || !*custom)
			return cli_error("bind mode 'custom' needs gateway.customBindHost in the "
					 "config");
		snprintf(host, hostlen, "%s", custom);
	} else if (!strcmp(mode, "tailnet") || !strcmp(mode, "auto")) {
		return cli_error("bind mode '%s' is not supported yet (use loopback, lan or "
				 "custom)",
				 mode);
	} else {
		return cli_usage_error(ctx, "unknown bind mode '%s' (use loopback, lan or custom)",
				       mode);
	}
	return 0;
}

/*
 * The port: --port, then the environment, then gateway.port, then the
 * default (OpenClaw's order). Returns 0, or the exit code after a message.
 */
static int gateway_resolve_port(struct ctx *ctx, const struct config *cfg, long long opt,
				bool opt_set, int *port)
{
	static const char *const envs[] = { "PINCER_GATEWAY_PORT", "OPENCLAW_GATEWAY_PORT" };
	long long v;

	if (opt_set) {
		if (opt < 0 || opt > 65535)
			return cli_usage_error(ctx, "invalid port %lld (want 0-65535)", opt);
		*port = (int)opt;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(envs); i++) {
		const char *e = getenv(envs[i]);

		if (!e || !*e)
			continue;
		if (str_to_ll(e, &v) < 0 || v < 0 || v > 65535)
			return cli_error("%s: invalid port '%s' (want 0-65535)", envs[i], e);
		*port = (int)v;
		return 0;
	}
	v = config_get_int(cfg, "gateway.port");
	*port = v > 0 && v <= 65535 ? (int)v : GATEWAY_DEFAULT_PORT;
	return 0;
}

/* Resolve a credential; 0 when fine (set or not), else the exit code after a message. */
static int gateway_load_secret(const struct config *cfg, const char *path, char **out)
{
	char err[256];

	if (config_get_secret(cfg, path, out, err, sizeof(err)) < 0)
		return cli_error("%s: %s", path, err);
	if (*out)
		log_add_secret(*out);
	return 0;
}

/* ==== runtime file ==== */

static int gateway_write_runtime(const struct gateway *gw)
{
	json_t *o = json_pack("{s:i, s:i, s:s, s:s, s:I}", "pid", (int)getpid(), "port", gw->port,
			      "host", gw->host, "version", PINCER_VERSION, "startedAt",
			      (json_int_t)gw->started_ms);
	char *s = json_dump_str(o, JSON_COMPACT);
	size_t len = strlen(s);
	int r;

	s = xrealloc(s, len + 2);
	s[len++] = '\n';
	s[len] = '\0';
	r = fs_write_atomic(gw->runtime_path, s, len, 0600);
	free(s);
	json_decref(o);
	return r;
}

/* Remove the runtime file, unless another gateway has since replaced it with its own. */
static void gateway_remove_runtime(const struct gateway *gw)
{
	struct buf b;
	json_t *o;

	buf_init(&b, 64 * 1024);
	if (fs_read_file(gw->runtime_path, &b) == 0) {
		o = json_loadb(b.p, b.len, 0, NULL);
		if (o && json_integer_value(json_object_get(o, "pid")) == getpid() &&
		    unlink(gw->runtime_path) < 0 && errno != ENOENT)
			log_warn(SUBSYS, "cannot remove %s: %s", gw->runtime_path, strerror(errno));
		json_decref(o);
	}
	buf_release(&b);
}

/* ==== running ==== */

static void gateway_on_http_stopped(void *arg)
{
	struct gateway *gw = arg;

	/* With these closed, uv_run returns once lws has closed its own handles. */
	uv_close((uv_handle_t *)&gw->sigint, NULL);
	uv_close((uv_handle_t *)&gw->sigterm, NULL);
}

static void gateway_stop(struct gateway *gw)
{
	if (gw->stopping)
		return;
	gw->stopping = true;
	http_server_stop(gw->http, GATEWAY_STOP_GRACE_MS, gateway_on_http_stopped, gw);
}

static void gateway_on_signal(uv_signal_t *h, int signum)
{
	struct gateway *gw = h->data;
	const char *name = signum == SIGINT ? "SIGINT" : "SIGTERM";

	if (gw->stopping) {
		log_info(SUBSYS, "received %s; already stopping", name);
		return;
	}
	log_info(SUBSYS, "received %s; stopping", name);
	gateway_stop(gw);
}

static const char *gateway_url_host(const struct gateway *gw, char *out, size_t outlen)
{
	if (strchr(gw->host, ':'))
		snprintf(out, outlen, "[%s]", gw->host);
	else
		snprintf(out, outlen, "%s", gw->host);
	return out;
}

int cmd_gateway(int argc, char **argv, struct ctx *ctx)
{
	long long port_opt = LLONG_MIN;
	const char *bind_opt = NULL;
	bool verbose = false, port_set;
	const struct opt opts[] = {
		{ OPT_INT, "port", 0, &port_opt, "PORT",
		  "port for HTTP (0: any free port; default 18789)" },
		{ OPT_STR, "bind", 0, &bind_opt, "MODE", "loopback (default), lan or custom" },
		{ OPT_FLAG, "verbose", 0, &verbose, NULL, "log debug lines to the console" },
		{ .kind = OPT_END },
	};
	struct gateway gw = { 0 };
	struct config cfg;
	const struct paths *paths;
	struct http_server_opts ho = { 0 };
	struct buf errs;
	char err[256], urlhost[72];
	int n, r = 1;

	gw.started_mono = time_mono_ms();
	gw.started_ms = time_now_ms();
	n = cli_parse(ctx, argc, argv, opts);
	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[0]);
	/* cli_parse leaves an OPT_INT untouched when the option is absent. */
	port_set = port_opt != LLONG_MIN;

	paths = cli_paths(ctx);
	gw.state_dir = paths->state_dir;
	if (paths_ensure_state_dir(paths) < 0)
		return cli_error("cannot create state directory %s: %s", paths->state_dir,
				 strerror(errno));

	config_init(&cfg);
	buf_init(&errs, 1 << 20);
	if (config_open(&cfg, paths, &errs) < 0) {
		fputs("pincer: invalid config; the gateway will not start:\n", stderr);
		fputs(errs.p, stderr);
		if (errs.len && errs.p[errs.len - 1] != '\n')
			fputc('\n', stderr);
		buf_release(&errs);
		goto out_cfg;
	}
	buf_release(&errs);

	/* Secrets first, so that no log line (not even the first) can carry them. */
	if ((r = gateway_load_secret(&cfg, "gateway.auth.token", &gw.token)) ||
	    (r = gateway_load_secret(&cfg, "gateway.auth.password", &gw.password)))
		goto out_cfg;
	if ((r = gateway_resolve_bind(ctx, &cfg, bind_opt, gw.host, sizeof(gw.host))) ||
	    (r = gateway_resolve_port(ctx, &cfg, port_opt, port_set, &gw.port)))
		goto out_cfg;
	if (!gateway_host_is_loopback(gw.host) && !gw.token && !gw.password) {
		r = cli_error("refusing to listen on %s without auth: set gateway.auth.token or "
			      "gateway.auth.password (or bind to loopback)",
			      gw.host);
		goto out_cfg;
	}
	r = 1;
	gateway_setup_logging(&cfg, paths, verbose, ctx->color);
	log_debug(SUBSYS, "config %s (%s)", paths->config_path,
		  cfg.exists ? "loaded" : "not found; using defaults");

	/* A client that goes away mid-write must cost an EPIPE, not the process. */
	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&gw.loop);
	ho.host = gw.host;
	ho.port = gw.port;
	ho.routes = gateway_routes;
	ho.arg = &gw;
	gw.http = http_server_new(&gw.loop, &ho, err, sizeof(err));
	if (!gw.http) {
		if (errno == EADDRINUSE)
			cli_error("port %d is already in use (another gateway running? try --port)",
				  gw.port);
		else
			cli_error("%s", err);
		goto out_loop;
	}
	gw.port = http_server_port(gw.http);
	gateway_url_host(&gw, urlhost, sizeof(urlhost));

	uv_signal_init(&gw.loop, &gw.sigint);
	uv_signal_init(&gw.loop, &gw.sigterm);
	gw.sigint.data = gw.sigterm.data = &gw;
	uv_signal_start(&gw.sigint, gateway_on_signal, SIGINT);
	uv_signal_start(&gw.sigterm, gateway_on_signal, SIGTERM);

	log_info(SUBSYS, "listening on http://%s:%d (pincer %s)", urlhost, gw.port, PINCER_VERSION);
	printf("pincer gateway listening on http://%s:%d/\n", urlhost, gw.port);
	fflush(stdout);

	gw.runtime_path = fs_join(paths->state_dir, "gateway.json");
	if (gateway_write_runtime(&gw) < 0) {
		log_error(SUBSYS, "cannot write %s: %s; stopping", gw.runtime_path,
			  strerror(errno));
		gateway_stop(&gw);
	} else {
		r = 0;
	}

	uv_run(&gw.loop, UV_RUN_DEFAULT);
	http_server_free(gw.http);
	if (r == 0)
		gateway_remove_runtime(&gw);
	log_info(SUBSYS, "stopped");

out_loop:
	if (uv_loop_close(&gw.loop) == UV_EBUSY)
		log_debug(SUBSYS, "event loop still had handles at exit");
out_cfg:
	free(gw.runtime_path);
	free(gw.token);
	free(gw.password);
	config_release(&cfg);
	schema_release();
	log_shutdown();
	return r;
}
