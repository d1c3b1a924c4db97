/*
 * methods.h - the gateway's RPC methods: one table row per method, grouped
 * into one file per family (m_system.c, m_config.c, ...).
 *
 * A row names the method, the scope a connection needs to call it (NULL:
 * any connected client), and its handler. `hello-ok.features.methods` is
 * generated from the same rows, so nothing is ever advertised that is not
 * served.
 *
 * A handler gets a struct gw_call and answers it exactly once, with
 * gw_call_ok() or gw_call_error(), either before returning or later (an
 * asynchronous method keeps the pointer). When the client goes away first,
 * call->conn becomes NULL and the answer is dropped; a method that can stop
 * early sets call->cancel, which is also what a `cancel` frame invokes.
 *
 *	static void m_ping(struct gw_call *call)
 *	{
 *		gw_call_ok(call, json_pack("{s:b}", "pong", 1));
 *	}
 *	const struct gw_method gw_methods_demo[] = {
 *		{ "ping", SCOPE_READ, m_ping },
 *		{ NULL },
 *	};
 */
#ifndef PINCER_GATEWAY_METHODS_H
#define PINCER_GATEWAY_METHODS_H

#include <jansson.h>

#include "core/mem.h"
#include "gateway/gateway.h"
#include "gateway/scopes.h"

struct gw_call;

typedef void (*gw_method_fn)(struct gw_call *call);

struct gw_method {
	const char *name;
	const char *scope; /* SCOPE_*; NULL: any connected client */
	gw_method_fn fn;
};

struct gw_call {
	struct gateway *gw;
	struct gw_conn *conn; /* NULL once the client has gone */
	const struct gw_method *method;
	char *id;
	json_t *params; /* the request's params; an empty object when absent. Owned. */
	/*
	 * Set by a method that can stop early: called (once) when the client
	 * sends `cancel` for this id or goes away. It must still answer (or,
	 * when call->conn is NULL, at least finish) the call.
	 */
	void (*cancel)(struct gw_call *call);
	void *data;                  /* the method's own */
	struct gw_call *prev, *next; /* conn->calls */
	/* gw_call_local: where the answer goes instead of a connection */
	void (*local_done)(void *arg, json_t *payload, json_t *error);
	void *local_arg;
};

/* Answer with a payload (stolen; NULL for none) and free the call. */
void gw_call_ok(struct gw_call *call, json_t *payload);
/* Answer with an error (details stolen, may be NULL) and free the call. */
void gw_call_error(struct gw_call *call, const char *code, const char *message, json_t *details);
/* Answer with an error shape the method built itself (stolen): retryable, retryAfterMs. */
void gw_call_fail(struct gw_call *call, json_t *error);
/* Send an ok response now but keep the call open for its final answer (the `agent` method's "accepted"). */
void gw_call_progress(struct gw_call *call, json_t *payload);
/*
 * Refuse params with a property outside `keys` (NULL-terminated), as
 * OpenClaw's closed schemas do. Returns -1 after answering INVALID_REQUEST.
 */
int gw_call_closed(struct gw_call *call, const char *const *keys);

/* INVALID_REQUEST with a formatted message. */
void gw_call_invalid(struct gw_call *call, const char *fmt, ...) PRINTF_LIKE(2, 3);

/*
 * json_unpack_ex over call->params; on a mismatch answers INVALID_REQUEST
 * ("invalid <method> params: <what>") and returns -1, after which the
 * handler must simply return.
 */
int gw_call_unpack(struct gw_call *call, const char *fmt, ...);

/* gw_call_unpack without JSON_STRICT: other keys are allowed (checked by gw_call_closed). */
int gw_call_unpack_loose(struct gw_call *call, const char *fmt, ...);

/*
 * Call a method in-process, as the gateway itself: no connection, no scope
 * check, no per-client rate limit. The agent's `gateway` tool uses it, so
 * that its config reads and writes take exactly the RPC's code path (as
 * OpenClaw's callInProcessGatewayTool does). `params` is stolen (NULL: {}).
 * `done` runs exactly once, possibly before this returns, with either the
 * payload or the error object {code, message, details?} (stolen; the other
 * is NULL). Progress answers (gw_call_progress) are not reported.
 */
void gw_call_local(struct gateway *gw, const char *method, json_t *params,
		   void (*done)(void *arg, json_t *payload, json_t *error), void *arg);

/* The row for `name`, or NULL. */
const struct gw_method *gw_method_find(const char *name);
/* Every method name, in table order: features.methods. New reference. */
json_t *gw_method_names(void);
/* Every event the gateway emits: features.events. New reference. */
json_t *gw_event_names(void);

/* The families, each {NULL}-terminated, listed in methods.c. */
extern const struct gw_method gw_methods_system[];
extern const struct gw_method gw_methods_config[];
extern const struct gw_method gw_methods_devices[];
extern const struct gw_method gw_methods_agent[];
extern const struct gw_method gw_methods_approvals[];
extern const struct gw_method gw_methods_controlui[];
extern const struct gw_method gw_methods_skills[];
extern const struct gw_method gw_methods_models[];

#endif
