/*
 * gateway.h - the gateway's control plane: WebSocket connections speaking
 * OpenClaw's protocol v4, their handshake and auth, method dispatch, and
 * the events broadcast to them (tick, presence, health, shutdown, ...).
 *
 * One struct gateway per daemon. src/cmd/gateway.c resolves the command
 * line, creates it, hands gateway_ws_handler() and gateway_http_routes to
 * the HTTP server (with the gateway as their argument), and runs the loop:
 *
 *	gw = gateway_new(loop, cfg, paths, err, sizeof(err));
 *	o.routes = gateway_http_routes; o.ws = gateway_ws_handler(); o.arg = gw;
 *	gw->http = http_server_new(loop, &o, ...);
 *	gateway_start(gw);
 *	... on SIGTERM: gateway_shutdown(gw, "SIGTERM", 0); http_server_stop(...) ...
 *	gateway_free(gw);   once uv_run has returned
 *
 * Method handlers (gateway/methods.h) see struct gateway and struct
 * gw_conn; everything else is private to the gateway's own files.
 */
#ifndef PINCER_GATEWAY_GATEWAY_H
#define PINCER_GATEWAY_GATEWAY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "gateway/auth.h"
#include "gateway/protocol.h"
#include "net/http_server.h"

/* Delay before a restart a config change asked for (OpenClaw's restartDelayMs default). */
#define GW_RESTART_DELAY_MS    2000
/* Restarts are at least this far apart (OpenClaw's cooldown). */
#define GW_RESTART_COOLDOWN_MS 30000

struct config;
struct paths;
struct gw_call;
struct devices;
struct gw_identity;
struct gw_reload;
struct agent_rt;

enum gw_conn_state {
	GWC_HANDSHAKE, /* challenge sent, waiting for connect */
	GWC_READY,     /* hello-ok sent */
	GWC_CLOSING,   /* a close is under way; nothing more is read or sent */
};

/* One WebSocket client. */
struct gw_conn {
	struct gw_conn *prev, *next;       /* gateway->conns */
	struct gw_conn *hs_prev, *hs_next; /* gateway's handshake queue, oldest first */
	struct gateway *gw;
	struct http_ws *ws; /* NULL once the socket is gone */
	enum gw_conn_state state;
	char conn_id[37];
	char nonce[37];
	int64_t challenge_ts;   /* wall clock ms, sent in connect.challenge */
	int64_t opened_mono_ms; /* for the handshake deadline */
	char peer[46];
	bool loopback;     /* a direct loopback peer: no proxy headers were present */
	char *origin;      /* Origin header of a browser client, else NULL */
	char *host_header; /* Host header */
	char *proxy_user;  /* trusted-proxy: the user header's value */
	bool forwarded;    /* X-Forwarded-For / Forwarded / X-Real-IP were present */

	/* after hello-ok */
	int protocol;
	enum gw_role role;
	json_t *scopes; /* granted scopes: array of strings */
	json_t *caps;   /* client caps: array of strings */
	json_t *client; /* the client object from connect params */
	char auth_method[16];
	char device_id[65];
	uint64_t seq; /* last event seq sent */
	bool in_presence;

	struct gw_call *calls; /* requests in progress (for cancel and cleanup) */
};

struct gateway {
	uv_loop_t *loop;
	struct config *cfg;        /* owned; replaced whole on reload (reload.h) */
	const struct paths *paths; /* borrowed */
	struct http_server *http;  /* set by the caller once created */
	struct gw_auth auth;
	struct devices *devices;      /* paired devices and pending requests (<state>/devices) */
	struct gw_identity *identity; /* our own key pair; loaded on first use */
	char host[64];
	int port;
	char bind_mode[16];
	char boot_id[37];
	char hostname[64];
	int64_t started_ms, started_mono_ms;
	char *log_path; /* the log file logs.tail reads; owned, NULL for none */
	bool stopping;

	struct gw_conn *conns;
	unsigned nconns, nready;
	struct gw_conn *hs_head, *hs_tail;
	uv_timer_t tick_timer, hs_timer, presence_timer;
	bool timers_open;

	int64_t presence_version, health_version;
	json_t *health_cache; /* last health snapshot; refreshed on demand */
	int64_t health_cache_mono_ms;

	struct gw_reload *reload; /* live reload and config RPC state (reload.h) */
	struct agent_rt *agents;  /* the agent runtime (agent/runtime.h) */
	/*
	 * Set by the daemon: called once a new config is in effect, to redo what
	 * it derives from the config outside the gateway (the log sinks).
	 */
	void (*on_reload)(struct gateway *gw, void *arg);
	void *on_reload_arg;
	/*
	 * Set by the daemon: restart the gateway (a graceful drain, then the
	 * same binary again) in `delay_ms`. Returns OpenClaw's restart result
	 * object {ok, pid, reason, mode, delayMs, coalesced, cooldownMsApplied}.
	 */
	json_t *(*on_restart)(struct gateway *gw, int64_t delay_ms, const char *reason, void *arg);
	void *on_restart_arg;
};

/*
 * Create the control plane: auth from the config (may fail: a SecretRef that
 * does not resolve, a mode without its credential). Timers are created on
 * `loop` but not started until gateway_start(). On success the gateway owns
 * `cfg` (heap-allocated and loaded), since a reload replaces it; on failure
 * (NULL, with `err`) the caller still does.
 */
struct gateway *gateway_new(uv_loop_t *loop, struct config *cfg, const struct paths *paths,
			    char *err, size_t errlen);

/* Start the timers and the config file watch; call once the HTTP server listens. */
void gateway_start(struct gateway *gw);

/*
 * Announce `shutdown {reason, restartExpectedMs?}` (restart_ms > 0 adds it)
 * to every connected client, close every connection after its queued
 * frames (1012 when a restart is expected, else 1001) and close the
 * timers. The HTTP server's stop then drains what is left.
 */
void gateway_shutdown(struct gateway *gw, const char *reason, int64_t restart_ms);

/*
 * A config change needs a restart (reload kind "restart"): ask the daemon
 * for one in `delay_ms`. Requests coalesce into one restart. Returns the
 * restart result for config.patch/apply answers, or NULL when this process
 * cannot restart itself (then the change waits for a manual restart).
 */
json_t *gateway_request_restart(struct gateway *gw, int64_t delay_ms, const char *reason);

/* Free everything; after the loop has run out of handles. */
void gateway_free(struct gateway *gw);

/* The WebSocket handler to give the HTTP server (its arg must be the gateway). */
const struct http_ws_handler *gateway_ws_handler(void);

/* HTTP routes served beside the WebSocket: probes, status page. */
extern const struct http_route gateway_http_routes[];

/* ==== events ==== */

/*
 * Send `event` to every ready connection allowed to see it (scopes.h),
 * each with its own next seq. Steals `payload`. `with_state` adds the
 * current stateVersion.
 */
void gateway_broadcast(struct gateway *gw, const char *event, json_t *payload, bool with_state);
/* gateway_broadcast to the connections whose connect caps include `cap` only (NULL: all). */
void gateway_broadcast_cap(struct gateway *gw, const char *event, json_t *payload, bool with_state,
			   const char *cap);

/* Send a frame as it is (res frames). Steals `frame`. Returns 0 or -1. */
int gateway_send_frame(struct gw_conn *c, json_t *frame);

/*
 * Close every connection of `device_id` (all roles when `role` is NULL)
 * after its queued frames: the device was removed or its token changed.
 */
void gateway_close_device(struct gateway *gw, const char *device_id, const char *role,
			  const char *reason);

/* ==== snapshots shared by hello-ok and methods ==== */

json_t *gateway_presence_json(struct gateway *gw);
/* The HealthSnapshot (cached for a second; `fresh` forces a new one). New reference. */
json_t *gateway_health_json(struct gateway *gw, bool fresh);
json_t *gateway_state_version_json(const struct gateway *gw);
int64_t gateway_uptime_ms(const struct gateway *gw);
/* The default agent id ("main" unless agents.list says otherwise). */
const char *gateway_default_agent(const struct gateway *gw);
/* Whether `id` (normalised, exact) names an agent: an agents.list entry, or the default agent. */
bool gateway_agent_known(const struct gateway *gw, const char *id);

#endif
