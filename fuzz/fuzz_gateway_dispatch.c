/*
 * fuzz_gateway_dispatch.c - libFuzzer target for the whole WebSocket
 * control plane: handshake, frame handling and method dispatch.
 *
 * Two in-process gateways live for the whole run, each with a private
 * state dir whose log file logs.tail reads: gateway 0 has an empty config
 * (auth mode none), gateway 1 token auth with a small failed-attempt
 * limit. Each input is a conversation: it is split at '\n' into messages,
 * which go to a gateway's ws handler over detached WebSockets
 * (http_ws_detached_open, the test seam of net/http_server.h), exactly as
 * a socket's messages would. Connections start on gateway 0 from
 * 127.0.0.1; most seeds open with a `connect`, so what follows the
 * handshake is fuzzed too. A message starting with a control byte steers
 * instead of being sent:
 *
 *	\x01 N   switch to connection N % 4 (opened on first use)
 *	\x02 N   the current connection's peer goes away (close code 1000 + N)
 *	\x03 G P the current connection goes away; a new one opens to gateway
 *	         G % 2 from peer P % 5 (loopback v4/v6, or one of three others)
 *	\x04     time passes: the gateways broadcast presence (what their
 *	         coalescing timer does 100 ms after a change) and a tick
 *	\xff ... the rest of the message, as a binary message
 *
 * At the end of an input every connection goes away. Answers are parsed
 * and checked, then dropped: every frame sent is a JSON object of type
 * res or event, a res carries its id and either a payload or an error with
 * code and message, and every close reason is valid UTF-8. After the last
 * close no gateway may hold a connection.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/paths.h"
#include "core/log.h"
#include "gateway/gateway.h"
#include "net/http_server.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CONNS 4
#define FUZZ_GWS   2

#define FUZZ_TOKEN "fuzz-token"

/* Configs of the gateways: auth none, and token auth that locks out quickly. */
static const char *const fuzz_configs[FUZZ_GWS] = {
	"{}\n",
	"{gateway: {auth: {token: \"" FUZZ_TOKEN "\", rateLimit: {maxAttempts: 3, windowMs: 60000, "
	"lockoutMs: 2000}}}}\n",
};

static const struct {
	const char *addr;
	bool loopback;
} fuzz_peers[] = {
	{ "127.0.0.1", true },    { "::1", true },          { "10.1.2.3", false },
	{ "192.168.0.7", false }, { "2001:db8::1", false },
};

static uv_loop_t fuzz_loop;
static struct paths fuzz_paths[FUZZ_GWS];
static struct gateway *fuzz_gw[FUZZ_GWS];
static char fuzz_dir[] = "/tmp/pincer-fuzz-gw-XXXXXX";

static void fuzz_cleanup(void)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", fuzz_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: cannot remove %s\n", fuzz_dir);
}

/* Gateway `i` in <fuzz_dir>/gw<i>, reading the log file at `log_file`. */
static void fuzz_gateway_make(int i, const char *log_file)
{
	struct config *cfg = xmalloc(sizeof(*cfg)); /* owned by the gateway once created */
	struct buf errs;
	char err[256];
	FILE *f;

	fuzz_paths[i].state_dir = xasprintf("%s/gw%d", fuzz_dir, i);
	fuzz_paths[i].config_path = xasprintf("%s/pincer.json", fuzz_paths[i].state_dir);
	if (paths_ensure_state_dir(&fuzz_paths[i]) < 0 ||
	    !(f = fopen(fuzz_paths[i].config_path, "w")))
		abort();
	fputs(fuzz_configs[i], f);
	fclose(f);
	config_init(cfg);
	buf_init(&errs, 1 << 20);
	if (config_load(cfg, fuzz_paths[i].config_path, &errs) < 0) {
		fprintf(stderr, "fuzz: %s", errs.p);
		abort();
	}
	buf_release(&errs);
	fuzz_gw[i] = gateway_new(&fuzz_loop, cfg, &fuzz_paths[i], err, sizeof(err));
	if (!fuzz_gw[i] || fuzz_gw[i]->auth.mode != (i ? GW_AUTH_TOKEN : GW_AUTH_NONE))
		abort();
	fuzz_gw[i]->log_path = xstrdup(log_file);
	snprintf(fuzz_gw[i]->host, sizeof(fuzz_gw[i]->host), "127.0.0.1");
	snprintf(fuzz_gw[i]->bind_mode, sizeof(fuzz_gw[i]->bind_mode), "loopback");
	fuzz_gw[i]->port = 18789;
	/* The loop never runs: the tick and handshake timers never fire. */
	gateway_start(fuzz_gw[i]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const envs[] = {
		"PINCER_GATEWAY_TOKEN",      "OPENCLAW_GATEWAY_TOKEN", "PINCER_GATEWAY_PASSWORD",
		"OPENCLAW_GATEWAY_PASSWORD", "PINCER_CONFIG_PATH",
	};
	struct log_opts lo;
	char *log_file;

	for (size_t i = 0; i < ARRAY_SIZE(envs); i++)
		unsetenv(envs[i]);
	if (!mkdtemp(fuzz_dir))
		abort();
	atexit(fuzz_cleanup);

	/* Every line goes to the file (the formatting is fuzzed too), none to the console. */
	log_opts_default(&lo);
	lo.console_level = LOG_SILENT;
	lo.file_level = LOG_TRACE;
	log_file = xasprintf("%s/logs/pincer.log", fuzz_dir);
	lo.file = log_file;
	/* Small, so that logs.tail (up to 250 kB a call by default) stays cheap. */
	lo.max_file_bytes = 32u << 10;
	if (log_setup(&lo) < 0)
		abort();

	uv_loop_init(&fuzz_loop);
	for (int i = 0; i < FUZZ_GWS; i++)
		fuzz_gateway_make(i, log_file);
	free(log_file);
	return 0;
}

/* ==== what the gateway sends ==== */

static void fuzz_on_send(void *arg, const char *data, size_t len)
{
	json_t *f = json_loadb(data, len, 0, NULL), *err;
	const char *type;

	if (!json_is_object(f))
		abort();
	type = json_string_value(json_object_get(f, "type"));
	if (!type)
		abort();
	if (!strcmp(type, "res")) {
		if (!json_is_string(json_object_get(f, "id")) ||
		    !json_is_boolean(json_object_get(f, "ok")))
			abort();
		if (json_is_false(json_object_get(f, "ok"))) {
			err = json_object_get(f, "error");
			if (!json_is_string(json_object_get(err, "code")) ||
			    !json_is_string(json_object_get(err, "message")))
				abort();
		}
	} else if (strcmp(type, "event") || !json_is_string(json_object_get(f, "event"))) {
		abort();
	}
	json_decref(f);
}

static void fuzz_on_close(void *arg, int code, const char *reason)
{
	json_t *s = json_string(reason);

	/* RFC 6455: the reason is UTF-8; a client drops a connection whose reason is not. */
	if (!s || code < 1000 || code > 4999 || strlen(reason) > 123)
		abort();
	json_decref(s);
}

/* ==== one conversation ==== */

static struct http_ws *fuzz_open(size_t gw, size_t peer)
{
	struct http_ws_detached o = {
		.peer = fuzz_peers[peer].addr,
		.loopback = fuzz_peers[peer].loopback,
		.send = fuzz_on_send,
		.close = fuzz_on_close,
	};
	struct http_ws *ws = http_ws_detached_open(gateway_ws_handler(), fuzz_gw[gw], &o, NULL);

	if (!ws)
		abort(); /* a running gateway accepts every upgrade */
	return ws;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_ws *conns[FUZZ_CONNS] = { 0 };
	const unsigned char *p = data, *end = data + size;
	size_t cur = 0, gw = 0, peer = 0;

	if (size > 1 << 20)
		return 0;
	conns[0] = fuzz_open(gw, peer);
	while (p <= end) {
		const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (len >= 1 && p[0] == 0x01) {
			cur = len >= 2 ? p[1] % FUZZ_CONNS : 0;
			if (!conns[cur])
				conns[cur] = fuzz_open(gw, peer);
		} else if (len >= 1 && p[0] == 0x02) {
			if (conns[cur]) {
				http_ws_detached_free(conns[cur], 1000 + (len >= 2 ? p[1] : 0));
				conns[cur] = NULL;
			}
		} else if (len >= 1 && p[0] == 0x03) {
			gw = len >= 2 ? p[1] % FUZZ_GWS : 0;
			peer = len >= 3 ? p[2] % ARRAY_SIZE(fuzz_peers) : 0;
			if (conns[cur])
				http_ws_detached_free(conns[cur], 1000);
			conns[cur] = fuzz_open(gw, peer);
		} else if (len >= 1 && p[0] == 0x04) {
			/* The loop never runs here, so its timers' broadcasts are made by hand. */
			for (size_t i = 0; i < FUZZ_GWS; i++) {
				gateway_broadcast(fuzz_gw[i], "presence",
						  json_pack("{s:o}", "presence",
							    gateway_presence_json(fuzz_gw[i])),
						  true);
				gateway_broadcast(fuzz_gw[i], "tick", json_pack("{s:i}", "ts", 1),
						  false);
			}
		} else if (conns[cur]) {
			if (len >= 1 && p[0] == 0xff)
				http_ws_detached_message(conns[cur], (const char *)p + 1, len - 1,
							 true);
			else
				http_ws_detached_message(conns[cur], (const char *)p, len, false);
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	for (size_t i = 0; i < FUZZ_CONNS; i++)
		if (conns[i])
			http_ws_detached_free(conns[i], 1006);
	for (size_t i = 0; i < FUZZ_GWS; i++) {
		struct gateway *g = fuzz_gw[i];

		if (g->conns || g->nconns || g->nready || g->hs_head || g->hs_tail)
			abort();
	}
	return 0;
}
