/*
 * internal.h - what the gateway's own files share and nothing else sees:
 * server.c (connections, frames, events), connect.c (the handshake),
 * snapshot.c (presence, health, hello-ok) and methods.c (dispatch).
 */
#ifndef PINCER_GATEWAY_INTERNAL_H
#define PINCER_GATEWAY_INTERNAL_H

#include "gateway/gateway.h"
#include "gateway/methods.h"

#define GW_SUBSYS "gateway"

/* server.c */

/* Close a connection with `code` and `reason` after its queued frames. */
void gw_conn_close(struct gw_conn *c, int code, const char *reason);
/* The handshake succeeded: leave the handshake queue, raise the frame cap. */
void gw_conn_mark_ready(struct gw_conn *c);
/* Answer a request that never became a gw_call (handshake, bad frames). */
void gw_conn_reply_error(struct gw_conn *c, const char *id, const char *code, const char *message,
			 json_t *details);
/*
 * A client joined or left presence: bump the version and tell everyone,
 * within GW_PRESENCE_COALESCE_MS (a burst of arrivals is one event).
 */
#define GW_PRESENCE_COALESCE_MS 100
void gw_presence_changed(struct gateway *gw);

/* connect.c: handle the first request, which must be `connect`. */
void gw_connect_handle(struct gw_conn *c, const char *id, json_t *params);

/* snapshot.c */
json_t *gw_hello_ok(struct gw_conn *c, json_t *auth);
json_t *gw_presence_entry_self(struct gateway *gw);

/* methods.c: run a parsed request from a ready connection. */
void gw_dispatch(struct gw_conn *c, const char *id, const char *method, json_t *params);
/* The connection is going: detach its calls, cancelling the ones that can be. */
void gw_calls_detach(struct gw_conn *c);
/* A `cancel` frame for `id`. */
void gw_calls_cancel(struct gw_conn *c, const char *id);

/* m_approvals.c: give the approvals service its broadcast hook; stop it at shutdown. */
void gw_approvals_start(struct gateway *gw);
void gw_approvals_stop(struct gateway *gw);

#endif
