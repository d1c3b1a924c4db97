/*
 * lws_glue.h - what the two libwebsockets users (http_server.c serving,
 * ws_client.c connecting) share about Debian's lws 4.1: one log bridge for
 * the process, and a close frame written by hand.
 *
 * Only files under src/net/ include this (and libwebsockets.h).
 */
#ifndef PINCER_NET_LWS_GLUE_H
#define PINCER_NET_LWS_GLUE_H

#include <libwebsockets.h>

/*
 * Route lws's own log lines into ours (subsystem "lws"): errors and warnings,
 * or everything when $PINCER_LWS_DEBUG is set. lws's log level is process
 * wide, so this is done once, whoever asks first.
 */
void lws_glue_log_init(void);

/*
 * Write a close frame {code, reason} on `wsi` from its writeable callback
 * (reason cut to the 123 bytes a close frame holds, at a character
 * boundary). This is done by hand rather than with lws_close_reason() and a
 * -1 return, the documented way, because Debian's lws is a _DEBUG build: on
 * a libuv loop, a close asked for from a writeable callback is closed a
 * second time at once ("close_and_handled uv repeat test"), which drops the
 * TCP connection before the close frame goes out. The caller then waits for
 * the peer's close (LWS_CALLBACK_WS_PEER_INITIATED_CLOSE, where returning
 * -1 ends it) or a PENDING_TIMEOUT_CLOSE_ACK, which this sets to
 * `ack_timeout_s`. Returns 0, or -1 when the write failed.
 */
int lws_glue_send_close(struct lws *wsi, int code, const char *reason, int ack_timeout_s);

#endif
