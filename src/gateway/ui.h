/*
 * ui.h - the Control UI over HTTP: pincer's own (ui/, compiled into the
 * binary) or the directory named by gateway.controlUi.root (OpenClaw's
 * built Control UI, or a user's own).
 *
 * Where it lives: gateway.controlUi.basePath ("" by default: the site
 * root; "/openclaw" mounts it there and redirects "/" and "/openclaw"
 * to "/openclaw/"). Every path under it that is not a file is answered
 * with index.html, so the app's own routes (/sessions, /config) survive a
 * reload. gateway.controlUi.enabled=false turns all of it off.
 *
 * The embedded UI:
 *  - index.html is rewritten per request to point at "<base>/_/<build>/",
 *    where <build> is a hash of every embedded file: everything under
 *    that prefix is served "public, max-age=31536000, immutable" (a new
 *    build has a new prefix), index.html itself "no-cache". Every answer
 *    has a strong ETag and honours If-None-Match with a 304.
 *  - text assets go out gzip-compressed (build-time copies) to clients
 *    whose Accept-Encoding allows gzip, with Vary: Accept-Encoding.
 *  - the Content-Security-Policy allows no inline script, no eval, no
 *    inline style, no framing (frame-ancestors 'none', with the server's
 *    X-Frame-Options: DENY), and connections only to this origin.
 *
 * A root directory is served as OpenClaw serves one: files by path with
 * ".." and anything resolving outside the root refused, "<name>.gz"
 * sent when it exists and gzip is accepted, "assets/" files immutable,
 * index.html with its "./assets/" links anchored at the base path, the
 * base path stamped on <html data-openclaw-control-ui-base-path>, and the
 * CSP allowing its inline scripts by their SHA-256 hashes.
 *
 * Both answer OpenClaw's bootstrap config (<base>/control-ui-config.json,
 * <base>/__openclaw/control-ui-config.json and, at the root,
 * /__openclaw__/control-ui-config.json): the assistant's name and the
 * server version, to local clients and to ones with the gateway credential.
 */
#ifndef PINCER_GATEWAY_UI_H
#define PINCER_GATEWAY_UI_H

#include <stdbool.h>

#include "net/http_server.h"

struct gateway;

/*
 * Answer `req` when it belongs to the Control UI. Returns true when `res`
 * was filled in, false when the path is not the UI's (the caller answers).
 */
bool gw_ui_serve(struct gateway *gw, const struct http_request *req, struct http_response *res);

/* The embedded UI's build id (12 hex digits), the path segment of its assets. */
const char *gw_ui_build_id(void);

/* Does the request carry the gateway token or password as a bearer credential? (http.c) */
bool gw_http_bearer_ok(const struct gateway *gw, const struct http_request *req);

#endif
