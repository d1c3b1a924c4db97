/*
 * fuzz_gateway_dispatch.c - libFuzzer target for the whole WebSocket
 * control plane: handshake, frame handling and method dispatch.
 *
 * One in-process gateway (empty config, so auth mode none; a private
 * state dir with a log file that logs.tail can read) lives for the whole
 * run. Each input is a conversation: it is split at '\n' into messages,
 * which go to the gateway's ws handler over detached WebSockets
 * (http_ws_detached_open, the test seam of net/http_server.h), exactly as
 * messages from loopback clients would. Most seeds open with a `connect`,
 * so what follows the handshake is fuzzed too. A message starting with
 * a control byte steers instead of being sent:
 *
 *	\x01 N   switch to connection N % 4 (opened on first use)
 *	\x02 N   the current connection's peer goes away (close code 1000 + N)
 *	\xff ... the rest of the message, as a binary message
 *
 * At the end of an input every connection goes away. Answers are parsed
 * and checked, then dropped: every frame sent is a JSON object of type
 * res or event, a res carries its id and either a payload or an error with
 * code and message, and every close reason is valid UTF-8. After the last
 * close the gateway must hold no connection.
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

static uv_loop_t fuzz_loop;
static struct config *fuzz_cfg; /* owned by the gateway once created */
static struct paths fuzz_paths;
static struct gateway *fuzz_gw;
static char fuzz_dir[] = "/tmp/pincer-fuzz-gw-XXXXXX";

static void fuzz_cleanup(void)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", fuzz_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: cannot remove %s\n", fuzz_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const envs[] = {
		"PINCER_GATEWAY_TOKEN",      "OPENCLAW_GATEWAY_TOKEN", "PINCER_GATEWAY_PASSWORD",
		"OPENCLAW_GATEWAY_PASSWORD", "PINCER_CONFIG_PATH",
	};
	struct log_opts lo;
	struct buf errs;
	char err[256], *log_file;

	for (size_t i = 0; i < ARRAY_SIZE(envs); i++)
		unsetenv(envs[i]);
	if (!mkdtemp(fuzz_dir))
		abort();
	atexit(fuzz_cleanup);
	fuzz_paths.state_dir = xstrdup(fuzz_dir);
	fuzz_paths.config_path = xasprintf("%s/pincer.json", fuzz_dir);

	/* Every line goes to the file (the formatting is fuzzed too), none to the console. */
	log_opts_default(&lo);
	lo.console_level = LOG_SILENT;
	lo.file_level = LOG_TRACE;
	log_file = xasprintf("%s/logs/pincer.log", fuzz_dir);
	lo.file = log_file;
	lo.max_file_bytes = 1u << 20;
	if (log_setup(&lo) < 0)
		abort();

	fuzz_cfg = xmalloc(sizeof(*fuzz_cfg));
	config_init(fuzz_cfg);
	buf_init(&errs, 1 << 20);
	if (config_load(fuzz_cfg, fuzz_paths.config_path, &errs) < 0)
		abort();
	buf_release(&errs);
	uv_loop_init(&fuzz_loop);
	fuzz_gw = gateway_new(&fuzz_loop, fuzz_cfg, &fuzz_paths, err, sizeof(err));
	if (!fuzz_gw || fuzz_gw->auth.mode != GW_AUTH_NONE)
		abort();
	fuzz_gw->log_path = log_file; /* owned by the gateway from here */
	snprintf(fuzz_gw->host, sizeof(fuzz_gw->host), "127.0.0.1");
	snprintf(fuzz_gw->bind_mode, sizeof(fuzz_gw->bind_mode), "loopback");
	fuzz_gw->port = 18789;
	/* The loop never runs: the tick and handshake timers never fire. */
	gateway_start(fuzz_gw);
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

static const struct http_ws_detached fuzz_peer = {
	.peer = "127.0.0.1",
	.loopback = true,
	.send = fuzz_on_send,
	.close = fuzz_on_close,
};

static struct http_ws *fuzz_open(void)
{
	struct http_ws *ws = http_ws_detached_open(gateway_ws_handler(), fuzz_gw, &fuzz_peer, NULL);

	if (!ws)
		abort(); /* a running gateway accepts every upgrade */
	return ws;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_ws *conns[FUZZ_CONNS] = { 0 };
	const char *p = (const char *)data, *end = p + size;
	size_t cur = 0;

	if (size > 1 << 20)
		return 0;
	conns[0] = fuzz_open();
	while (p <= end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (len >= 1 && p[0] == '\x01') {
			cur = len >= 2 ? (unsigned char)p[1] % FUZZ_CONNS : 0;
			if (!conns[cur])
				conns[cur] = fuzz_open();
		} else if (len >= 1 && p[0] == '\x02') {
			if (conns[cur]) {
				http_ws_detached_free(conns[cur],
						      1000 + (len >= 2 ? (unsigned char)p[1] : 0));
				conns[cur] = NULL;
			}
		} else if (conns[cur]) {
			if (len >= 1 && p[0] == '\xff')
				http_ws_detached_message(conns[cur], p + 1, len - 1, true);
			else
				http_ws_detached_message(conns[cur], p, len, false);
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	for (size_t i = 0; i < FUZZ_CONNS; i++)
		if (conns[i])
			http_ws_detached_free(conns[i], 1006);
	if (fuzz_gw->conns || fuzz_gw->nconns || fuzz_gw->nready || fuzz_gw->hs_head ||
	    fuzz_gw->hs_tail)
		abort();
	return 0;
}
