/*
 * scopes.h - operator scopes: what a connection was granted, and whether
 * that covers what a method or an event needs.
 *
 * OpenClaw's rules: operator.admin covers every operator scope, and
 * operator.write covers operator.read. Other scopes (approvals, pairing,
 * talk, ...) are only covered by themselves or by admin. Scopes a client
 * asks for that the gateway does not know are kept as they are (OpenClaw
 * grants them too); they simply match nothing.
 */
#ifndef PINCER_GATEWAY_SCOPES_H
#define PINCER_GATEWAY_SCOPES_H

#include <jansson.h>
#include <stdbool.h>

#define SCOPE_READ      "operator.read"
#define SCOPE_WRITE     "operator.write"
#define SCOPE_ADMIN     "operator.admin"
#define SCOPE_APPROVALS "operator.approvals"
#define SCOPE_PAIRING   "operator.pairing"

/* Does the granted list (array of strings) satisfy `required`? NULL requires nothing. */
bool scopes_allow(const json_t *granted, const char *required);

/* Is every scope in `wanted` covered by `granted`? (a token's scopes vs a request) */
bool scopes_cover(const json_t *granted, const json_t *wanted);

/*
 * The scope an event family needs before a connection may receive it:
 * NULL for events everyone gets (tick, presence, health, heartbeat,
 * shutdown), SCOPE_* otherwise. `*known` is false for events the gateway
 * does not know, which are withheld from everyone (fail closed).
 */
const char *scopes_for_event(const char *event, bool *known);

#endif
