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
#include <ifaddrs.h>
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
#include "gateway/gateway.h"
#include "tools/proc.h"
#include "net/http_server.h"

#define SUBSYS "gateway"

#define GATEWAY_DEFAULT_PORT  18789
/* How long a stop waits for responses in progress before closing their connections. */
#define GATEWAY_STOP_GRACE_MS 5000

const char cmd_gateway_usage[] =
	"usage: pincer gateway run [--port PORT] [--bind MODE] [--force] [--verbose]\n"
	"   or: pincer gateway [options]\n"
	"\n"
	"Run the gateway in the foreground until SIGINT or SIGTERM. One port serves\n"
	"the WebSocket control plane (OpenClaw's gateway protocol v4, so OpenClaw's\n"
	"own clients work against it) and HTTP: the health probes (/health,\n"
	"/healthz, /ready, /readyz, /startupz) and a status page at /. On SIGTERM\n"
	"or SIGINT, connected clients get a `shutdown` event before the close.\n"
	"\n"
	"The port is --port, else $PINCER_GATEWAY_PORT (or $OPENCLAW_GATEWAY_PORT),\n"
	"else gateway.port from the config, else 18789; 0 picks a free port. The\n"
	"address comes from --bind, else gateway.bind: loopback is 127.0.0.1, lan is\n"
	"0.0.0.0, tailnet is this machine's Tailscale address, auto is 0.0.0.0 in a\n"
	"container and else the tailnet address or loopback, custom is\n"
	"gateway.customBindHost. Binding beyond loopback needs gateway.auth.token or\n"
	"gateway.auth.password.\n"
	"\n"
	"Once listening, the gateway writes <state dir>/gateway.json (pid, port,\n"
	"host, version, startedAt) and removes it when it stops. --force first stops\n"
	"the pincer gateway that file names, if it still runs, so its port is free.\n";

const struct cmd cmd_gateway_sub[] = {
	{ "run", cmd_gateway, "run the gateway in the foreground", cmd_gateway_usage, NULL },
	{ "call", cmd_gateway_call, "call a gateway RPC method and print the result",
	  cmd_gateway_call_usage, NULL },
	{ "status", cmd_gateway_status, "is the gateway running, and can it be reached",
	  cmd_gateway_status_usage, NULL },
	{ .name = NULL },
};

/* The daemon around the control plane: what this command owns. */
struct daemon {
	uv_loop_t loop;
	uv_signal_t sigint, sigterm;
	struct http_server *http;
	struct gateway *gw;
	char *runtime_path;
	char host[64];
	int port;
	int64_t started_ms; /* wall clock, for the runtime file */
	bool stopping;
	bool verbose, color; /* for setting the log sinks up again on reload */

	/* restart on a config change (see gateway_on_restart) */
	uv_timer_t restart_timer;
	bool restart_timer_open;
	bool restarting;          /* exec ourselves again once stopped */
	int64_t restart_due_mono; /* when the pending restart fires */
	bool port_was_zero;       /* --port 0: keep the port we got across the restart */
};

/* Set in the environment of a restarted gateway: when (monotonic ms) it restarted. */
#define GATEWAY_RESTARTED_ENV       "PINCER_RESTARTED_AT_MONO"
/* What clients are told to expect in `shutdown` before a restart. */
#define GATEWAY_RESTART_EXPECTED_MS 1000

/* ==== start-up decisions ==== */

/*
 * Configure both log sinks from the config; --verbose lowers the console to
 * debug. Returns the log file's path (owned by the caller), which the
 * logs.tail method reads.
 */
static char *gateway_setup_logging(const struct config *cfg, const struct paths *paths,
				   bool verbose, bool color)
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
	return file;
}

/* A reloaded config may change log levels, style or file: set the sinks up again. */
static void gateway_on_reload(struct gateway *gw, void *arg)
{
	struct daemon *d = arg;

	free(gw->log_path);
	gw->log_path = gateway_setup_logging(gw->cfg, gw->paths, d->verbose, d->color);
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

/* Running inside a container (Docker, Podman, Kubernetes, LXC)? OpenClaw's "auto" asks this. */
static bool gateway_in_container(void)
{
	struct buf b;
	bool yes;

	if (fs_exists("/.dockerenv") || fs_exists("/run/.containerenv") || getenv("container"))
		return true;
	buf_init(&b, 1 << 16);
	yes = fs_read_file("/proc/1/cgroup", &b) == 0 &&
	      (strstr(b.p, "docker") || strstr(b.p, "kubepods") || strstr(b.p, "containerd") ||
	       strstr(b.p, "lxc"));
	buf_release(&b);
	return yes;
}

/*
 * This machine's Tailscale IPv4 address (100.64.0.0/10, the range tailscaled
 * assigns), preferring an interface named tailscale*. Returns 0 or -1.
 */
static int gateway_tailnet_addr(char *out, size_t outlen)
{
	struct ifaddrs *ifs, *i;
	int found = -1;

	if (getifaddrs(&ifs) < 0)
		return -1;
	for (i = ifs; i; i = i->ifa_next) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;
		uint32_t a;

		if (!sin || sin->sin_family != AF_INET)
			continue;
		a = ntohl(sin->sin_addr.s_addr);
		if ((a & 0xffc00000u) != 0x64400000u)
			continue;
		if (found < 0 || !strncmp(i->ifa_name, "tailscale", 9)) {
			inet_ntop(AF_INET, &sin->sin_addr, out, (socklen_t)outlen);
			found = 0;
		}
	}
	freeifaddrs(ifs);
	return found;
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
	} else if (!strcmp(mode, "tailnet")) {
		if (gateway_tailnet_addr(host, hostlen) < 0)
			return cli_error("bind mode 'tailnet' needs a Tailscale address "
					 "(100.64.0.0/10) on this machine, and there is none (is "
					 "tailscaled up?)");
	} else if (!strcmp(mode, "auto")) {
		/*
		 * OpenClaw's auto: every interface inside a container (where
		 * loopback is unreachable from outside), else the tailnet
		 * address when there is one, else loopback.
		 */
		if (gateway_in_container())
			snprintf(host, hostlen, "0.0.0.0");
		else if (gateway_tailnet_addr(host, hostlen) < 0)
			snprintf(host, hostlen, "127.0.0.1");
	} else {
		return cli_usage_error(
			ctx,
			"unknown bind mode '%s' (use loopback, lan, tailnet, auto or "
			"custom)",
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

/* ==== runtime file ==== */

static int gateway_write_runtime(const struct daemon *d)
{
	json_t *o = json_pack("{s:i, s:i, s:s, s:s, s:I}", "pid", (int)getpid(), "port", d->port,
			      "host", d->host, "version", PINCER_VERSION, "startedAt",
			      (json_int_t)d->started_ms);
	char *s = json_dump_str(o, JSON_COMPACT);
	size_t len = strlen(s);
	int r;

	s = xrealloc(s, len + 2);
	s[len++] = '\n';
	s[len] = '\0';
	r = fs_write_atomic(d->runtime_path, s, len, 0600);
	free(s);
	json_decref(o);
	return r;
}

/* Remove the runtime file, unless another gateway has since replaced it with its own. */
static void gateway_remove_runtime(const struct daemon *d)
{
	struct buf b;
	json_t *o;

	buf_init(&b, 64 * 1024);
	if (fs_read_file(d->runtime_path, &b) == 0) {
		o = json_loadb(b.p, b.len, 0, NULL);
		if (o && json_integer_value(json_object_get(o, "pid")) == getpid() &&
		    unlink(d->runtime_path) < 0 && errno != ENOENT)
			log_warn(SUBSYS, "cannot remove %s: %s", d->runtime_path, strerror(errno));
		json_decref(o);
	}
	buf_release(&b);
}

/* Is `pid` alive? A zombie (exited, not yet reaped by its parent) is not. */
static bool gateway_pid_alive(pid_t pid)
{
	char path[64], state = 0;
	FILE *f;

	if (kill(pid, 0) < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	/* "pid (comm) S ...": the state follows the last ')'. */
	if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
		state = 0;
	fclose(f);
	return state && state != 'Z' && state != 'X';
}

/* Is `pid` a running pincer (not us)? Judged by its command line, not just the pid. */
static bool gateway_pid_is_pincer(pid_t pid)
{
	char path[64];
	struct buf b;
	bool yes = false;

	if (pid <= 0 || pid == getpid() || !gateway_pid_alive(pid))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	buf_init(&b, 1 << 16);
	if (fs_read_file(path, &b) == 0 && b.len) {
		const char *argv0 = strrchr(b.p, '/') ? strrchr(b.p, '/') + 1 : b.p;

		/* cmdline is NUL-separated: argv0 ends at the first NUL. */
		yes = !strcmp(argv0, "pincer") || strstr(argv0, "pincer") != NULL;
	}
	buf_release(&b);
	return yes;
}

/*
 * --force: stop the gateway our runtime file names (a stale or forgotten
 * one), SIGTERM first and SIGKILL after 10 s. Returns 0, or -1 with a message.
 */
static int gateway_force_stop(const struct paths *paths)
{
	char *path = fs_join(paths->state_dir, "gateway.json");
	struct buf b;
	json_t *o = NULL;
	pid_t pid = 0;
	int r = 0;

	buf_init(&b, 64 * 1024);
	if (fs_read_file(path, &b) == 0 && (o = json_loadb(b.p, b.len, 0, NULL)))
		pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
	json_decref(o);
	buf_release(&b);
	if (gateway_pid_is_pincer(pid)) {
		fprintf(stderr, "pincer: stopping the running gateway (pid %d)\n", (int)pid);
		kill(pid, SIGTERM);
		for (int i = 0; i < 200 && gateway_pid_alive(pid); i++)
			usleep(50 * 1000);
		if (gateway_pid_alive(pid)) {
			kill(pid, SIGKILL);
			for (int i = 0; i < 40 && gateway_pid_alive(pid); i++)
				usleep(50 * 1000);
		}
		if (gateway_pid_alive(pid))
			r = cli_error("cannot stop the gateway (pid %d)", (int)pid);
	}
	free(path);
	return r;
}

/* ==== running ==== */

static void gateway_on_http_stopped(void *arg)
{
	/*
	 * Nothing to close here: the signal handles were unreferenced when the
	 * stop began, so uv_run returns once lws has closed its own handles.
	 */
}

static void gateway_stop(struct daemon *d, const char *reason);

/* ==== restart ==== */

static void gateway_on_restart_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;

	log_info(SUBSYS, "restarting to apply the config change");
	d->restarting = true;
	gateway_stop(d, "config change");
}

/*
 * The gateway asks for a restart. One pending restart serves every request
 * (the earliest due time wins), and a restarted gateway waits out
 * GW_RESTART_COOLDOWN_MS before the next, so a burst of edits costs one
 * restart, as in OpenClaw.
 */
static json_t *gateway_on_restart(struct gateway *gw, int64_t delay_ms, const char *reason,
				  void *arg)
{
	struct daemon *d = arg;
	int64_t now = time_mono_ms(), cooldown = 0, due;
	const char *since = getenv(GATEWAY_RESTARTED_ENV);
	long long at;
	bool coalesced = false;

	if (since && str_to_ll(since, &at) == 0 && at + GW_RESTART_COOLDOWN_MS > now)
		cooldown = at + GW_RESTART_COOLDOWN_MS - now;
	due = now + (delay_ms > 0 ? delay_ms : 0) + cooldown;
	if (uv_is_active((uv_handle_t *)&d->restart_timer)) {
		coalesced = true;
		if (due >= d->restart_due_mono)
			due = d->restart_due_mono;
	}
	d->restart_due_mono = due;
	uv_timer_start(&d->restart_timer, gateway_on_restart_timer, (uint64_t)(due - now), 0);
	log_info(SUBSYS, "restart %s in %lld ms (%s)", coalesced ? "coalesced; due" : "scheduled",
		 (long long)(due - now), reason);
	return json_pack("{s:b, s:i, s:s, s:s, s:s, s:I, s:b, s:I}", "ok", 1, "pid", (int)getpid(),
			 "signal", "SIGUSR2", "reason", reason, "mode", "exec", "delayMs",
			 (json_int_t)(due - now), "coalesced", coalesced, "cooldownMsApplied",
			 (json_int_t)cooldown);
}

/*
 * Run ourselves again: the same binary and arguments, with --port pinned
 * to the port we had when it was 0, so clients find the gateway where it
 * was. Only returns on failure.
 */
static void gateway_reexec(const struct daemon *d)
{
	struct buf cmdline, portarg;
	char **args, mono[32];
	size_t n = 0, i;
	sigset_t none;

	buf_init(&cmdline, 1 << 20);
	buf_init(&portarg, 32);
	if (fs_read_file("/proc/self/cmdline", &cmdline) < 0 || !cmdline.len) {
		log_error(SUBSYS, "cannot restart: /proc/self/cmdline: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < cmdline.len; i++)
		n += cmdline.p[i] == '\0';
	args = xcalloc(n + 3, sizeof(*args));
	n = 0;
	for (i = 0; i < cmdline.len; i += strlen(cmdline.p + i) + 1) {
		const char *a = cmdline.p + i;

		/* Drop "--port X" / "--port=X" when we re-add it below. */
		if (d->port_was_zero && !strcmp(a, "--port")) {
			i += strlen(a) + 1;
			continue;
		}
		if (d->port_was_zero && !strncmp(a, "--port=", 7))
			continue;
		args[n++] = (char *)a;
	}
	if (d->port_was_zero) {
		buf_printf(&portarg, "--port=%d", d->port);
		args[n++] = portarg.p;
	}
	args[n] = NULL;
	snprintf(mono, sizeof(mono), "%lld", (long long)time_mono_ms());
	setenv(GATEWAY_RESTARTED_ENV, mono, 1);
	/* The stop blocked SIGTERM/SIGINT; the new image must get them. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	fflush(NULL);
	execv("/proc/self/exe", args);
	log_error(SUBSYS, "cannot restart: exec: %s", strerror(errno));
	free(args);
out:
	buf_release(&portarg);
	buf_release(&cmdline);
}

/*
 * Tell clients first (a `shutdown` event, then a close after their queued
 * frames), then let the HTTP server drain what is left.
 */
static void gateway_stop(struct daemon *d, const char *reason)
{
	if (d->stopping)
		return;
	d->stopping = true;
	/*
	 * Keep catching signals while draining (a second SIGTERM must not kill
	 * the process mid-drain), but stop them from holding the loop open.
	 */
	uv_unref((uv_handle_t *)&d->sigint);
	uv_unref((uv_handle_t *)&d->sigterm);
	if (d->restart_timer_open) {
		d->restart_timer_open = false;
		uv_close((uv_handle_t *)&d->restart_timer, NULL);
	}
	gateway_shutdown(d->gw, reason, d->restarting ? GATEWAY_RESTART_EXPECTED_MS : 0);
	http_server_stop(d->http, GATEWAY_STOP_GRACE_MS, gateway_on_http_stopped, d);
}

static void gateway_on_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;
	const char *name = signum == SIGINT ? "SIGINT" : "SIGTERM";

	if (d->stopping) {
		log_info(SUBSYS, "received %s; already stopping", name);
		return;
	}
	log_info(SUBSYS, "received %s; stopping", name);
	gateway_stop(d, name);
}

static const char *gateway_url_host(const struct daemon *d, char *out, size_t outlen)
{
	if (strchr(d->host, ':'))
		snprintf(out, outlen, "[%s]", d->host);
	else
		snprintf(out, outlen, "%s", d->host);
	return out;
}

int cmd_gateway(int argc, char **argv, struct ctx *ctx)
{
	long long port_opt = LLONG_MIN;
	const char *bind_opt = NULL;
	bool verbose = false, force = false, port_set;
	const struct opt opts[] = {
		{ OPT_INT, "port", 0, &port_opt, "PORT",
		  "port for HTTP and WebSocket (0: any free port; default 18789)" },
		{ OPT_STR, "bind", 0, &bind_opt, "MODE",
		  "loopback (default), lan, tailnet, auto or custom" },
		{ OPT_FLAG, "force", 0, &force, NULL,
		  "stop a pincer gateway still running for this state dir first" },
		{ OPT_FLAG, "verbose", 0, &verbose, NULL, "log debug lines to the console" },
		{ .kind = OPT_END },
	};
	struct daemon d = { 0 };
	struct config *cfg; /* ours until gateway_new takes it (a reload replaces it) */
	const struct paths *paths;
	struct http_server_opts ho = { 0 };
	struct buf errs;
	char err[256], urlhost[72];
	sigset_t stopsigs;
	int n, r = 1;

	d.started_ms = time_now_ms();
	n = cli_parse(ctx, argc, argv, opts);
	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[0]);
	/* cli_parse leaves an OPT_INT untouched when the option is absent. */
	port_set = port_opt != LLONG_MIN;

	paths = cli_paths(ctx);
	if (paths_ensure_state_dir(paths) < 0)
		return cli_error("cannot create state directory %s: %s", paths->state_dir,
				 strerror(errno));

	cfg = xmalloc(sizeof(*cfg));
	config_init(cfg);
	buf_init(&errs, 1 << 20);
	if (config_open(cfg, paths, &errs) < 0) {
		fputs("pincer: invalid config; the gateway will not start:\n", stderr);
		fputs(errs.p, stderr);
		if (errs.len && errs.p[errs.len - 1] != '\n')
			fputc('\n', stderr);
		buf_release(&errs);
		goto out_cfg;
	}
	buf_release(&errs);

	if ((r = gateway_resolve_bind(ctx, cfg, bind_opt, d.host, sizeof(d.host))) ||
	    (r = gateway_resolve_port(ctx, cfg, port_opt, port_set, &d.port)))
		goto out_cfg;
	if (force && (r = gateway_force_stop(paths)))
		goto out_cfg;
	r = 1;
	uv_loop_init(&d.loop);
	/* Auth first, so that no log line (not even the first) can carry a secret. */
	d.gw = gateway_new(&d.loop, cfg, paths, err, sizeof(err));
	if (!d.gw) {
		cli_error("%s", err);
		goto out_loop;
	}
	if (!gateway_host_is_loopback(d.host) && d.gw->auth.mode == GW_AUTH_NONE) {
		cli_error("refusing to listen on %s without auth: set gateway.auth.token or "
			  "gateway.auth.password (or bind to loopback)",
			  d.host);
		goto out_loop;
	}
	d.verbose = verbose;
	d.color = ctx->color;
	d.gw->log_path = gateway_setup_logging(cfg, paths, verbose, ctx->color);
	d.gw->on_reload = gateway_on_reload;
	d.gw->on_reload_arg = &d;
	d.gw->on_restart = gateway_on_restart;
	d.gw->on_restart_arg = &d;
	uv_timer_init(&d.loop, &d.restart_timer);
	d.restart_timer.data = &d;
	d.restart_timer_open = true;
	d.port_was_zero = port_set && port_opt == 0;
	snprintf(d.gw->host, sizeof(d.gw->host), "%s", d.host);
	snprintf(d.gw->bind_mode, sizeof(d.gw->bind_mode), "%s",
		 bind_opt ? bind_opt
			  : (config_get_str(cfg, "gateway.bind")
				     ? config_get_str(cfg, "gateway.bind")
				     : "loopback"));
	log_debug(SUBSYS, "config %s (%s)", paths->config_path,
		  cfg->exists ? "loaded" : "not found; using defaults");
	/* From here on a reload may free it: gw->cfg is the config in effect. */
	cfg = NULL;

	/* A client that goes away mid-write must cost an EPIPE, not the process. */
	signal(SIGPIPE, SIG_IGN);
	ho.host = d.host;
	ho.port = d.port;
	ho.routes = gateway_http_routes;
	ho.ws = gateway_ws_handler();
	ho.arg = d.gw;
	d.http = http_server_new(&d.loop, &ho, err, sizeof(err));
	if (!d.http) {
		if (errno == EADDRINUSE)
			cli_error(
				"port %d is already in use (another gateway running? stop it, use "
				"--force, or pick another --port)",
				d.port);
		else
			cli_error("%s", err);
		goto out_loop;
	}
	d.port = http_server_port(d.http);
	d.gw->http = d.http;
	d.gw->port = d.port;
	gateway_url_host(&d, urlhost, sizeof(urlhost));

	uv_signal_init(&d.loop, &d.sigint);
	uv_signal_init(&d.loop, &d.sigterm);
	d.sigint.data = d.sigterm.data = &d;
	uv_signal_start(&d.sigint, gateway_on_signal, SIGINT);
	uv_signal_start(&d.sigterm, gateway_on_signal, SIGTERM);
	gateway_start(d.gw);

	log_info(SUBSYS, "listening on http://%s:%d (pincer %s, auth %s)", urlhost, d.port,
		 PINCER_VERSION, gw_auth_mode_name(d.gw->auth.mode));
	printf("pincer gateway listening on http://%s:%d/\n", urlhost, d.port);
	fflush(stdout);

	d.runtime_path = fs_join(paths->state_dir, "gateway.json");
	if (gateway_write_runtime(&d) < 0) {
		log_error(SUBSYS, "cannot write %s: %s; stopping", d.runtime_path, strerror(errno));
		gateway_stop(&d, "startup failed");
	} else {
		r = 0;
	}

	uv_run(&d.loop, UV_RUN_DEFAULT);
	/*
	 * Stopping already: a late signal must not cut the clean exit short.
	 * Closing the handles gives the signals their default action back, so
	 * block them first; they stay pending until the process is gone.
	 */
	sigemptyset(&stopsigs);
	sigaddset(&stopsigs, SIGTERM);
	sigaddset(&stopsigs, SIGINT);
	sigprocmask(SIG_BLOCK, &stopsigs, NULL);
	uv_close((uv_handle_t *)&d.sigint, NULL);
	uv_close((uv_handle_t *)&d.sigterm, NULL);
	uv_run(&d.loop, UV_RUN_DEFAULT);
	http_server_free(d.http);
	if (r == 0)
		gateway_remove_runtime(&d);
	log_info(SUBSYS, "stopped");

out_loop:
	if (d.gw && !d.http) {
		/* Never started: close the timers it made, then let them finish closing. */
		gateway_shutdown(d.gw, "startup failed", 0);
		if (d.restart_timer_open)
			uv_close((uv_handle_t *)&d.restart_timer, NULL);
		uv_run(&d.loop, UV_RUN_DEFAULT);
	}
	if (d.gw)
		cfg = NULL; /* the gateway's, freed with it */
	gateway_free(d.gw);
	if (uv_loop_close(&d.loop) == UV_EBUSY)
		log_debug(SUBSYS, "event loop still had handles at exit");
out_cfg:
	free(d.runtime_path);
	if (cfg) {
		config_release(cfg);
		free(cfg);
	}
	schema_release();
	if (d.restarting && r == 0) {
		/* exec skips atexit: background commands must not outlive this process image */
		proc_kill_all();
		gateway_reexec(&d);
		r = 1; /* only reached when the exec failed */
	}
	log_shutdown();
	return r;
}
