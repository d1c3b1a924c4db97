/*
 * fuzz_gateway_frame.c - libFuzzer target for the gateway's frame and
 * ConnectParams parsers (gateway/protocol.h).
 *
 * The input is one WebSocket text message from a client. It goes through
 * gw_frame_parse(), and a frame that parses as a `connect` request goes on
 * through gw_connect_parse() and gw_connect_negotiate(), as the handshake
 * takes it. Besides crashes, leaks and sanitizer reports, it checks what
 * the callers rely on:
 *  - a failure leaves a message, and the error frame that answers it
 *    carries it (messages quote client input and may be cut mid-character);
 *  - a parsed frame has a non-empty id, and a req a non-empty method;
 *  - parsed ConnectParams carry the required client id and mode, a scopes
 *    array, and a negotiated version inside the client's own range.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/protocol.h"
#include "gateway/scopes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A failure is answered with its message: the error frame must carry it
 * (messages quote client input, cut to fit a buffer, maybe mid-character).
 */
static void fuzz_check_message(const char *id, const char *err)
{
	json_t *r, *msg;

	if (!err[0])
		abort();
	r = gw_res_error(id ? id : "invalid", GW_E_INVALID_REQUEST, err, NULL);
	msg = json_object_get(json_object_get(r, "error"), "message");
	if (!json_is_string(msg) || !json_string_length(msg) ||
	    strncmp(json_string_value(msg), err, json_string_length(msg)))
		abort();
	json_decref(r);
}

static void fuzz_connect(const char *id, json_t *params)
{
	struct gw_connect c;
	char err[256];
	int proto;

	err[0] = '\0';
	if (gw_connect_parse(params, &c, err, sizeof(err)) < 0) {
		fuzz_check_message(id, err);
		gw_connect_release(&c);
		return;
	}
	if (!c.client_id || !c.client_mode || !c.client_version || !c.client_platform ||
	    !json_is_array(c.scopes))
		abort();
	proto = gw_connect_negotiate(&c);
	if (proto >= 0) {
		if (proto > GW_PROTOCOL_VERSION || proto < GW_MIN_NODE_VERSION ||
		    proto < c.min_protocol || proto > c.max_protocol)
			abort();
	}
	/* What the handshake does with the granted scopes. */
	(void)scopes_allow(c.scopes, SCOPE_READ);
	(void)scopes_allow(c.scopes, SCOPE_ADMIN);
	(void)gw_role_name(c.role);
	gw_connect_release(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_frame f;
	char err[256];

	/* The server caps messages before the handshake at GW_MAX_PREAUTH_PAYLOAD. */
	if (size > GW_MAX_PREAUTH_PAYLOAD)
		return 0;
	err[0] = '\0';
	if (gw_frame_parse((const char *)data, size, &f, err, sizeof(err)) < 0) {
		fuzz_check_message(f.id, err);
		if (f.id && !f.id[0])
			abort();
		json_decref(f.root);
		return 0;
	}
	if (!json_is_object(f.root) || !f.id || !f.id[0])
		abort();
	if (f.type == GW_FRAME_REQ) {
		if (!f.method || !f.method[0])
			abort();
		if (!strcmp(f.method, "connect"))
			fuzz_connect(f.id, f.params);
	}
	json_decref(f.root);
	return 0;
}
