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
 * CSP allowing its inline scripts by their SHA-256 hashes. Its files are
 * read on libuv's thread pool (the answer goes out through the HTTP
 * server's deferred response), never on the event loop.
 *
 * Both answer OpenClaw's bootstrap config (<base>/control-ui-config.json,
 * <base>/__openclaw/control-ui-config.json and, at the root,
 * /__openclaw__/control-ui-config.json): the assistant's name and the
 * server version, to local clients and to ones with the gateway credential.
 */
#ifndef PINCER_GATEWAY_UI_H
#define PINCER_GATEWAY_UI_H

#include <stdbool.h>

#include "core/buf.h"
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

/* ==== the decisions, without a server (unit tests and fuzz/fuzz_ui_path.c) ==== */

/* The longest basePath accepted; OpenClaw's are short prefixes like "/openclaw". */
#define GW_UI_MAX_BASE_PATH 128
/* The longest path below the base that can name a file; longer ones are a 404. */
#define GW_UI_MAX_PATH      1024
/* A file under a root directory larger than this is not served (OpenClaw's assets are < 10 MiB). */
#define GW_UI_MAX_ROOT_FILE (32u << 20)

/*
 * gateway.controlUi.basePath as OpenClaw normalises it, into `out`: "" for
 * the site root (NULL or blank), else "/a/b" (one leading slash, no
 * trailing one). Returns -1 (out "") for one longer than
 * GW_UI_MAX_BASE_PATH or holding a byte a URL path would have to escape:
 * it is written into HTML and headers.
 */
int gw_ui_base_path(const char *configured, char out[GW_UI_MAX_BASE_PATH + 2]);

/*
 * Accept-Encoding: does it allow gzip? Yes when "gzip" (or "x-gzip") is
 * listed with a q above 0, or, when gzip is not named at all, "*" is.
 * Absent (NULL) means no: a client that says nothing gets the plain bytes.
 */
bool gw_ui_accepts_gzip(const char *accept_encoding);

/*
 * Accept: is this a browser navigating? Yes when text/html or
 * application/xhtml+xml is listed with a q above 0. Only those get
 * index.html for a path that is no file: an API client asking for a
 * missing path deserves its 404 (NULL and "*" / "*" are no).
 */
bool gw_ui_wants_html(const char *accept);

/*
 * If-None-Match: does it name `etag` (a quoted tag, "\"abc\""), compared
 * weakly (a W/ prefix is ignored), or is it "*"? Tags in the list may be
 * separated by commas and spaces; a comma inside a quoted tag is part of it.
 */
bool gw_ui_etag_matches(const char *if_none_match, const char *etag);

/*
 * Is `rel` (below the root or the embedded UI, no leading '/') a plain
 * relative path? Not empty, at most GW_UI_MAX_PATH bytes, no "." or ".."
 * segment, no empty one ("a//b", but a trailing '/' is allowed), no
 * backslash and no control byte.
 */
bool gw_ui_safe_rel(const char *rel);

/* What the UI does with a request (gw_ui_resolve). */
enum gw_ui_action {
	GW_UI_PASS,      /* not the UI's path: the caller answers it */
	GW_UI_REDIRECT,  /* 302 to plan.location */
	GW_UI_NOT_FOUND, /* 404 */
	GW_UI_BOOTSTRAP, /* OpenClaw's control-ui-config.json */
	GW_UI_INDEX,     /* plan.name is an index.html: served rewritten */
	GW_UI_FILE,      /* plan.name; when it does not exist, see plan.fallback */
};

struct gw_ui_plan {
	enum gw_ui_action action;
	char name[GW_UI_MAX_PATH + 16];         /* INDEX, FILE: relative, no leading '/' */
	char location[GW_UI_MAX_BASE_PATH + 3]; /* REDIRECT */
	bool immutable;                         /* FILE: cached for a year (a hashed asset name) */
	bool fallback; /* FILE: when missing, index.html (SPA route), else 404 */
	bool gzip;     /* FILE: a text type and the client takes gzip */
};

/* A request as gw_ui_resolve reads it; everything is borrowed. */
struct gw_ui_request {
	/*
	 * The path as the HTTP server hands it: percent-decoded once and
	 * normalised (no query, "." and ".." resolved, "//" collapsed). It is
	 * never decoded again ("%2e" here is three literal bytes), and any
	 * leftover "..", "//", backslash or control byte is refused, not fixed.
	 */
	const char *path;
	const char *accept; /* header values, NULL when absent */
	const char *accept_encoding;
	const char *base;  /* gw_ui_base_path()'s result */
	bool root;         /* serving gateway.controlUi.root (else the embedded UI) */
	const char *build; /* the embedded UI's build id (gw_ui_build_id()) */
};

/*
 * Decide what a request gets, from its path and headers alone; the caller
 * then looks the file up (embedded table, or the root directory off the
 * loop). Pure: no I/O, no gateway.
 */
void gw_ui_resolve(const struct gw_ui_request *r, struct gw_ui_plan *out);

/*
 * OpenClaw's rewrite of its index.html (`len` bytes, may hold NULs):
 * "./assets/" links anchored at `base`, `base` stamped on <html
 * data-openclaw-control-ui-base-path>. Appends the page to `out` and its
 * Content-Security-Policy, with the inline scripts allowed by SHA-256
 * hash, to `csp`.
 */
void gw_ui_root_rewrite(const char *base, const char *html, size_t len, struct buf *out,
			struct buf *csp);

/* A root directory's answer to a plan (gw_ui_root_answer). */
struct gw_ui_answer {
	int status;                /* 200, 304, 404 or 503 */
	const char *error;         /* 404, 503: the message (static) */
	int root_errno;            /* 503 because the root itself cannot be resolved: why */
	const char *content_type;  /* static */
	const char *cache_control; /* static; NULL on errors */
	bool vary;                 /* Vary: Accept-Encoding */
	bool gzipped;              /* Content-Encoding: gzip */
	char etag[48];
	struct buf body;
	struct buf csp; /* an index.html's Content-Security-Policy; empty otherwise */
};

/*
 * Answer `plan` (GW_UI_INDEX or GW_UI_FILE) from the directory `root` (its
 * "~" already expanded): files that resolve (realpath) outside the root
 * are refused, the file is opened O_NOFOLLOW and checked to be the one
 * resolved, "<name>.gz" is sent when plan->gzip and it exists, a 304 when
 * `if_none_match` names the ETag (the file is not read then). Blocking:
 * the gateway runs it on libuv's thread pool. Release with
 * gw_ui_answer_release().
 */
void gw_ui_root_answer(const char *root, const char *base, const struct gw_ui_plan *plan,
		       const char *if_none_match, struct gw_ui_answer *out);
void gw_ui_answer_release(struct gw_ui_answer *a);

#endif
