/*
 * ui.c - serving the Control UI: the embedded one, or a root directory;
 * see ui.h for the rules.
 */
#include "gateway/ui.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/embed.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "gateway/gateway.h"

#define UI_SUBSYS "control-ui"

#define UI_CACHE_IMMUTABLE  "public, max-age=31536000, immutable"
#define UI_CACHE_REVALIDATE "no-cache"

/*
 * pincer's own UI: no inline script or style, no eval, nothing from other
 * origins, never framed. connect-src 'self' covers the WebSocket to this
 * same host and port (CSP3 maps 'self' to ws/wss of the page's origin).
 */
#define UI_CSP                                                                                     \
	"default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; "         \
	"form-action 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "    \
	"font-src 'self'; connect-src 'self'; worker-src 'none'; manifest-src 'self'"

/* ==== content types ==== */

static const struct {
	const char *ext, *type;
	bool text; /* worth gzip: the build makes .gz copies of these */
} ui_types[] = {
	{ ".html", "text/html; charset=utf-8", true },
	{ ".js", "text/javascript; charset=utf-8", true },
	{ ".mjs", "text/javascript; charset=utf-8", true },
	{ ".css", "text/css; charset=utf-8", true },
	{ ".json", "application/json; charset=utf-8", true },
	{ ".map", "application/json; charset=utf-8", true },
	{ ".webmanifest", "application/manifest+json; charset=utf-8", true },
	{ ".svg", "image/svg+xml", true },
	{ ".txt", "text/plain; charset=utf-8", true },
	{ ".md", "text/markdown; charset=utf-8", true },
	{ ".png", "image/png", false },
	{ ".jpg", "image/jpeg", false },
	{ ".jpeg", "image/jpeg", false },
	{ ".gif", "image/gif", false },
	{ ".webp", "image/webp", false },
	{ ".ico", "image/x-icon", false },
	{ ".woff2", "font/woff2", false },
	{ ".woff", "font/woff", false },
	{ ".ttf", "font/ttf", false },
	{ ".wasm", "application/wasm", false },
};

/* The extension of the last path segment (".js"), or NULL. */
static const char *ui_ext(const char *path)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');

	return dot && (!slash || dot > slash) ? dot : NULL;
}

/* Index into ui_types for `path`, or -1 (served as application/octet-stream). */
static int ui_type_index(const char *path)
{
	const char *ext = ui_ext(path);

	for (size_t i = 0; ext && i < ARRAY_SIZE(ui_types); i++)
		if (!strcasecmp(ext, ui_types[i].ext))
			return (int)i;
	return -1;
}

static const char *ui_type(const char *path)
{
	int i = ui_type_index(path);

	return i < 0 ? "application/octet-stream" : ui_types[i].type;
}

static bool ui_is_text(const char *path)
{
	int i = ui_type_index(path);

	return i >= 0 && ui_types[i].text;
}

/* ==== request headers ==== */

/* Skip optional whitespace. */
static const char *ui_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * The weight of one list element's parameters (`p` just past the value,
 * `end` at the element's end): 1000 * its q, 1000 when there is none, 0
 * for a malformed one (a client that cannot spell its q gets nothing it
 * did not ask for plainly). RFC 9110 12.4.2: q is case-insensitive, at
 * most three decimals, at most 1.
 */
static int ui_qvalue(const char *p, const char *end)
{
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p)), *v;
		int q = 0, digits = 0;

		if (!semi)
			return 1000;
		p = ui_ows(semi + 1);
		if (end - p < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
			continue;
		v = p + 2;
		if (v >= end || (*v != '0' && *v != '1'))
			return 0;
		q = (*v++ - '0') * 1000;
		if (v < end && *v == '.') {
			for (v++; v < end && *v >= '0' && *v <= '9' && digits < 3; v++, digits++)
				q += (*v - '0') * (digits == 0 ? 100 : digits == 1 ? 10 : 1);
		}
		v = ui_ows(v);
		if ((v < end && *v != ';') || q > 1000)
			return 0;
		return q;
	}
	return 1000;
}

/*
 * Walk a comma-separated header list: for each element, call `fn` with
 * its value (without parameters, whitespace trimmed) and its weight.
 */
static void ui_list_each(const char *h, void (*fn)(const char *v, size_t n, int q, void *arg),
			 void *arg)
{
	const char *p = h;

	while (p && *p) {
		const char *end = p + strcspn(p, ","), *v = ui_ows(p);
		size_t n = strcspn(v, ";, \t");

		if (v + n > end)
			n = (size_t)(end - v);
		if (n)
			fn(v, n, ui_qvalue(v + n, end), arg);
		p = *end ? end + 1 : end;
	}
}

struct ui_gzip_scan {
	int gzip, star; /* weights; -1: not listed */
};

static void ui_gzip_one(const char *v, size_t n, int q, void *arg)
{
	struct ui_gzip_scan *s = arg;

	/* The highest weight wins when one is listed twice (as OpenClaw has it). */
	if ((n == 4 && !strncasecmp(v, "gzip", 4)) || (n == 6 && !strncasecmp(v, "x-gzip", 6)))
		s->gzip = q > s->gzip ? q : s->gzip;
	else if (n == 1 && *v == '*')
		s->star = q > s->star ? q : s->star;
}

bool gw_ui_accepts_gzip(const char *accept_encoding)
{
	struct ui_gzip_scan s = { -1, -1 };

	ui_list_each(accept_encoding, ui_gzip_one, &s);
	/* Named explicitly, gzip's own weight decides; "*" only speaks for the unnamed. */
	return s.gzip >= 0 ? s.gzip > 0 : s.star > 0;
}

static void ui_html_one(const char *v, size_t n, int q, void *arg)
{
	if (q > 0 && ((n == 9 && !strncasecmp(v, "text/html", 9)) ||
		      (n == 21 && !strncasecmp(v, "application/xhtml+xml", 21))))
		*(bool *)arg = true;
}

bool gw_ui_wants_html(const char *accept)
{
	bool yes = false;

	ui_list_each(accept, ui_html_one, &yes);
	return yes;
}

bool gw_ui_etag_matches(const char *if_none_match, const char *etag)
{
	const char *p = if_none_match;
	size_t elen = strlen(etag);

	if (!p)
		return false;
	/* "*" is the whole field or nothing (RFC 9110 13.1.2). */
	p = ui_ows(p);
	if (*p == '*' && !*ui_ows(p + 1))
		return true;
	while (*p) {
		const char *tag;
		size_t n;

		p = ui_ows(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (!strncmp(p, "W/", 2))
			p += 2;
		tag = p;
		if (*p == '"') {
			/* A quoted tag may hold commas: it ends at its closing quote. */
			const char *close = strchr(p + 1, '"');

			n = close ? (size_t)(close - p) + 1 : strlen(p);
		} else {
			n = strcspn(p, ", \t");
		}
		if (n == elen && !memcmp(tag, etag, n))
			return true;
		/* n is 0 only at the end or at a stray separator: step over it, never past the NUL. */
		p += n ? n : *p ? 1 : 0;
	}
	return false;
}

/* ==== the cache headers ==== */

/*
 * The caching headers of a response, and a 304 instead of the body when
 * the client already has this representation. Returns true when it
 * answered 304 (the caller adds nothing more).
 */
static bool ui_cache_headers(const struct http_request *req, struct http_response *res,
			     const char *etag, const char *cache_control, bool varies)
{
	http_response_header(res, "Cache-Control", cache_control);
	http_response_header(res, "ETag", etag);
	if (varies)
		http_response_header(res, "Vary", "Accept-Encoding");
	if (!gw_ui_etag_matches(http_request_header(req, "If-None-Match"), etag))
		return false;
	res->status = 304;
	res->content_type = NULL;
	buf_reset(&res->body);
	return true;
}

/* The gateway credential as a bearer token? (as http.c asks it of /ready) */
static bool ui_authorized(const struct gateway *gw, const struct http_request *req)
{
	return gw->auth.mode == GW_AUTH_NONE || req->peer_loopback || gw_http_bearer_ok(gw, req);
}

/* Standard base64 with padding (CSP hash sources use it, not base64url). */
static void ui_base64(const unsigned char *in, size_t len, char *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = tab[v >> 6 & 63];
		out[o++] = tab[v & 63];
	}
	if (i < len) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0);

		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < len ? tab[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

/* ==== base path and routing ==== */

int gw_ui_base_path(const char *s, char out[GW_UI_MAX_BASE_PATH + 2])
{
	size_t n;

	out[0] = '\0';
	if (!s)
		return 0;
	while (*s == ' ')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == '/' || s[n - 1] == ' '))
		n--;
	while (n && *s == '/') {
		s++;
		n--;
	}
	if (!n)
		return 0;
	if (n > GW_UI_MAX_BASE_PATH)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && !strchr("-._~/", s[i]))
			return -1;
		/* "a//b", "a/./b" or "a/../b" would never match a normalised request path. */
		if (s[i] == '/' && s[i + 1] == '/')
			return -1;
		if (s[i] == '.' && (i == 0 || s[i - 1] == '/') &&
		    (i + 1 == n || s[i + 1] == '/' ||
		     (s[i + 1] == '.' && (i + 2 == n || s[i + 2] == '/'))))
			return -1;
	}
	snprintf(out, GW_UI_MAX_BASE_PATH + 2, "/%.*s", (int)n, s);
	return 0;
}

bool gw_ui_safe_rel(const char *rel)
{
	const char *p = rel;

	if (!*rel || *rel == '/' || strlen(rel) > GW_UI_MAX_PATH)
		return false;
	for (p = rel; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return false;
	for (p = rel; *p;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

static bool ui_is_bootstrap(const char *rel, const char *base)
{
	return !strcmp(rel, "/control-ui-config.json") ||
	       !strcmp(rel, "/__openclaw/control-ui-config.json") ||
	       (!*base && !strcmp(rel, "/__openclaw__/control-ui-config.json"));
}

/* Precompressed copies are representations, never URLs of their own. */
static bool ui_is_precompressed(const char *name)
{
	return str_ends_with(name, ".gz") || str_ends_with(name, ".br");
}

static void ui_plan_file(struct gw_ui_plan *out, const char *name, bool fallback, bool gzip_ok)
{
	out->action = GW_UI_FILE;
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->fallback = fallback;
	out->gzip = gzip_ok && ui_is_text(name);
}

/* The embedded UI: "/", "/index.html", "/_/<build>/<asset>", "/<asset>", else an app route. */
static void ui_resolve_embedded(const struct gw_ui_request *r, const char *rel, bool html,
				bool gzip_ok, struct gw_ui_plan *out)
{
	if (!strcmp(rel, "/") || !strcmp(rel, "/index.html")) {
		out->action = GW_UI_INDEX;
		snprintf(out->name, sizeof(out->name), "index.html");
		return;
	}
	/* "/_/<build>/js/app.js": the current build's assets are immutable. */
	if (!strncmp(rel, "/_/", 3)) {
		const char *id = rel + 3, *slash = strchr(id, '/'), *name;

		if (!slash)
			return; /* 404 */
		name = slash + 1;
		/* An old build's page asking for its assets gets today's, revalidated. */
		if (!gw_ui_safe_rel(name) || !strcmp(name, "index.html") ||
		    ui_is_precompressed(name) || str_ends_with(name, "/"))
			return;
		ui_plan_file(out, name, false, gzip_ok);
		out->immutable = r->build && (size_t)(slash - id) == strlen(r->build) &&
				 !strncmp(id, r->build, (size_t)(slash - id));
		return;
	}
	/* A missing asset is a 404; a page is one of the app's own routes. */
	if (!gw_ui_safe_rel(rel + 1))
		return; /* 404: never a fallback for what tried to climb out */
	if (ui_is_precompressed(rel)) {
		if (html && ui_type_index(rel) < 0) {
			out->action = GW_UI_INDEX;
			snprintf(out->name, sizeof(out->name), "index.html");
		}
		return;
	}
	ui_plan_file(out, rel + 1, html && ui_type_index(rel) < 0, gzip_ok);
}

/*
 * A root directory, as OpenClaw serves one: deep links keep their assets
 * ("/chat/assets/x.js" is "assets/x.js"), "dir/" is "dir/index.html", and
 * a missing page (no static asset type) is index.html for a browser.
 */
static void ui_resolve_root(const char *rel, bool html, bool gzip_ok, struct gw_ui_plan *out)
{
	const char *assets = strstr(rel, "/assets/"), *name = rel + 1;
	char buf[GW_UI_MAX_PATH + 16];
	int i;

	if (assets)
		name = assets + 1;
	if (!*name || str_ends_with(name, "/")) {
		if (strlen(name) > GW_UI_MAX_PATH)
			return;
		snprintf(buf, sizeof(buf), "%sindex.html", name);
		name = buf;
	}
	if (!gw_ui_safe_rel(name))
		return; /* 404: never a fallback for what tried to leave the root */
	i = ui_type_index(name);
	/* The app's own routes get index.html (SPA fallback); assets their 404. */
	ui_plan_file(out, name, html && (i < 0 || !strcmp(ui_types[i].ext, ".html")), gzip_ok);
	if (!strcmp(name, "index.html") || str_ends_with(name, "/index.html")) {
		out->action = GW_UI_INDEX;
		out->gzip = false;
		return;
	}
	if (ui_is_precompressed(name)) {
		out->action = out->fallback ? GW_UI_INDEX : GW_UI_NOT_FOUND;
		snprintf(out->name, sizeof(out->name), "index.html");
		return;
	}
	out->immutable = str_starts_with(name, "assets/");
}

void gw_ui_resolve(const struct gw_ui_request *r, struct gw_ui_plan *out)
{
	const char *base = r->base ? r->base : "", *path = r->path ? r->path : "", *rel;
	size_t blen = strlen(base);
	bool html, gzip_ok;

	memset(out, 0, sizeof(*out));
	out->action = GW_UI_PASS;
	if (*path != '/')
		return;
	if (blen) {
		/* "/" and "/base" lead to "/base/", where relative links work. */
		if (!strcmp(path, "/") || !strcmp(path, base)) {
			out->action = GW_UI_REDIRECT;
			snprintf(out->location, sizeof(out->location), "%s/", base);
			return;
		}
		if (strncmp(path, base, blen) || path[blen] != '/')
			return;
	}
	rel = path + blen;
	/* The gateway's own HTTP APIs are never the UI's, at the root or below the base. */
	if (!strncmp(rel, "/v1/", 4) || !strcmp(rel, "/v1") || !strncmp(rel, "/api/", 5) ||
	    !strcmp(rel, "/api"))
		return;
	if (ui_is_bootstrap(rel, base)) {
		out->action = GW_UI_BOOTSTRAP;
		return;
	}
	out->action = GW_UI_NOT_FOUND;
	html = gw_ui_wants_html(r->accept);
	gzip_ok = gw_ui_accepts_gzip(r->accept_encoding);
	if (r->root)
		ui_resolve_root(rel, html, gzip_ok, out);
	else
		ui_resolve_embedded(r, rel, html, gzip_ok, out);
}

/* ==== bootstrap config ==== */

/* The default agent's display name (agents.list[].identity.name / name), else "Assistant". */
static const char *ui_assistant_name(const struct gateway *gw)
{
	json_t *list = config_get(gw->cfg, "agents.list"), *a;
	const char *def = gateway_default_agent(gw);
	size_t i;

	json_array_foreach(list, i, a)
	{
		const char *id = json_string_value(json_object_get(a, "id"));
		const char *name =
			json_string_value(json_object_get(json_object_get(a, "identity"), "name"));

		if (!str_eq(id, def))
			continue;
		if (!name || !*name)
			name = json_string_value(json_object_get(a, "name"));
		if (name && *name)
			return name;
	}
	return "Assistant";
}

static void ui_bootstrap(struct gateway *gw, const struct http_request *req,
			 struct http_response *res, const char *base)
{
	if (!ui_authorized(gw, req)) {
		http_response_error(res, 401, "unauthorized");
		return;
	}
	http_response_json(
		res, 200,
		json_pack("{s:s, s:s, s:n, s:n, s:n, s:n, s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b, "
			  "s:b, s:[]}",
			  "basePath", base, "assistantName", ui_assistant_name(gw),
			  "assistantAvatar", "assistantAvatarSource", "assistantAvatarStatus",
			  "assistantAvatarReason", "assistantAgentId", gateway_default_agent(gw),
			  "serverVersion", PINCER_VERSION, "embedSandbox", "scripts",
			  "allowExternalEmbedUrls", 0, "automaticallyFetchFavicons", 0,
			  "communityInvite", 0, "terminalEnabled", 0, "cliAgentsEnabled", 0,
			  "pluginAssetsRequireAuth", gw->auth.mode != GW_AUTH_NONE,
			  "pluginFrameGrants"));
	http_response_header(res, "Cache-Control", UI_CACHE_REVALIDATE);
}

/* ==== the embedded UI ==== */

/* Per embedded file, its ETag; and the build id over all of them. Computed once. */
static char (*ui_etags)[24];
static char ui_build[13];

static void ui_embedded_init(void)
{
	unsigned char digest[CRYPTO_SHA256_LEN];
	char hex[2 * CRYPTO_SHA256_LEN + 1];
	struct buf all;
	size_t n = 0;

	if (ui_etags)
		return;
	while (embed_ui[n].name)
		n++;
	ui_etags = xcalloc(n + 1, sizeof(*ui_etags));
	/* The build id hashes the per-file hashes: names and contents both count. */
	buf_init(&all, (n + 1) * 512);
	for (size_t i = 0; i < n; i++) {
		crypto_sha256_hex(embed_ui[i].data, embed_ui[i].len, hex);
		snprintf(ui_etags[i], sizeof(ui_etags[i]), "\"%.20s\"", hex);
		buf_printf(&all, "%s %s\n", embed_ui[i].name, hex);
	}
	crypto_sha256(all.p ? all.p : "", all.len, digest);
	for (size_t i = 0; i < 6; i++)
		snprintf(ui_build + 2 * i, 3, "%02x", digest[i]);
	buf_release(&all);
}

const char *gw_ui_build_id(void)
{
	ui_embedded_init();
	return ui_build;
}

/* The embedded file `name`, .gz copies included; its index in *idx. */
static const struct embed_file *ui_embedded_find_any(const char *name, size_t *idx)
{
	for (size_t i = 0; embed_ui[i].name; i++)
		if (!strcmp(embed_ui[i].name, name)) {
			*idx = i;
			return &embed_ui[i];
		}
	return NULL;
}

/* The embedded file `name` (never a ".gz" copy itself), its index in *idx. */
static const struct embed_file *ui_embedded_find(const char *name, size_t *idx)
{
	if (!*name || str_ends_with(name, ".gz"))
		return NULL;
	for (size_t i = 0; embed_ui[i].name; i++)
		if (!strcmp(embed_ui[i].name, name)) {
			*idx = i;
			return &embed_ui[i];
		}
	return NULL;
}

/* Send embedded file `f`, gzip'd when the plan says the client takes it. */
static void ui_embedded_file(const struct http_request *req, struct http_response *res,
			     const struct gw_ui_plan *plan, const struct embed_file *f, size_t idx)
{
	const struct embed_file *body = f;
	char etag[32];

	snprintf(etag, sizeof(etag), "%s", ui_etags[idx]);
	if (plan->gzip) {
		char *gzname = xasprintf("%s.gz", f->name);
		size_t gzidx;

		if (ui_embedded_find_any(gzname, &gzidx)) {
			body = &embed_ui[gzidx];
			/* Another representation, another tag (RFC 9110 8.8.3). */
			snprintf(etag, sizeof(etag), "%.*s-gz\"", (int)strlen(ui_etags[idx]) - 1,
				 ui_etags[idx]);
		}
		free(gzname);
	}
	res->content_type = ui_type(f->name);
	if (ui_cache_headers(req, res, etag,
			     plan->immutable ? UI_CACHE_IMMUTABLE : UI_CACHE_REVALIDATE,
			     ui_is_text(f->name)))
		return;
	if (body != f)
		http_response_header(res, "Content-Encoding", "gzip");
	buf_append(&res->body, body->data, body->len);
}

/*
 * index.html with "{{base}}" and "{{assets}}" filled in: the base path and
 * the immutable asset prefix. Never cached without revalidation.
 */
static void ui_embedded_index(const struct http_request *req, struct http_response *res,
			      const char *base)
{
	size_t idx;
	const struct embed_file *f = ui_embedded_find("index.html", &idx);
	const char *p;
	char hex[2 * CRYPTO_SHA256_LEN + 1], etag[32];
	struct buf out;

	if (!f) {
		http_response_error(res, 500, "this build has no Control UI");
		return;
	}
	buf_init(&out, HTTP_MAX_RESPONSE_BODY);
	for (p = (const char *)f->data; *p;) {
		const char *t = strstr(p, "{{");

		if (!t) {
			buf_puts(&out, p);
			break;
		}
		buf_append(&out, p, (size_t)(t - p));
		if (!strncmp(t, "{{base}}", 8)) {
			buf_put_escaped(&out, base);
			p = t + 8;
		} else if (!strncmp(t, "{{assets}}", 10)) {
			buf_put_escaped(&out, base);
			buf_printf(&out, "/_/%s", ui_build);
			p = t + 10;
		} else {
			buf_puts(&out, "{{");
			p = t + 2;
		}
	}
	crypto_sha256_hex(out.p, out.len, hex);
	snprintf(etag, sizeof(etag), "\"%.20s\"", hex);
	res->content_type = "text/html; charset=utf-8";
	http_response_header(res, "Content-Security-Policy", UI_CSP);
	if (!ui_cache_headers(req, res, etag, UI_CACHE_REVALIDATE, false))
		buf_append(&res->body, out.p, out.len);
	buf_release(&out);
}

static void ui_embedded(const struct http_request *req, struct http_response *res, const char *base,
			const struct gw_ui_plan *plan)
{
	const struct embed_file *f;
	size_t idx;

	if (plan->action == GW_UI_FILE) {
		f = ui_embedded_find(plan->name, &idx);
		if (f) {
			ui_embedded_file(req, res, plan, f, idx);
			return;
		}
		if (!plan->fallback) {
			http_response_error(res, 404, "not found");
			return;
		}
	}
	ui_embedded_index(req, res, base);
}

/* ==== a root directory ==== */

/*
 * Open `rel` under the root whose real path is `root_real`: its real path
 * must lie inside the root (a symlink pointing out is refused), the open
 * must not follow a symlink swapped in since (O_NOFOLLOW), and, where
 * /proc tells, the file opened must be the one resolved (no directory on
 * the way was swapped either). Returns the fd with *st filled in, or -1
 * when it does not exist, is not a regular file, is outside or too large.
 */
static int ui_root_open(const char *root_real, const char *rel, struct stat *st)
{
	char *joined = xasprintf("%s/%s", root_real, rel), real[PATH_MAX], proc[64],
	     opened[PATH_MAX];
	size_t rlen = strlen(root_real);
	ssize_t n;
	int fd = -1;

	if (!realpath(joined, real))
		goto fail;
	if (strncmp(real, root_real, rlen) || (real[rlen] != '/' && strcmp(root_real, "/")))
		goto fail;
	/* O_NONBLOCK: a FIFO planted in the root must not stall the worker either. */
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, st) < 0 || !S_ISREG(st->st_mode) ||
	    (unsigned long long)st->st_size > GW_UI_MAX_ROOT_FILE)
		goto fail;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, opened, sizeof(opened) - 1);
	if (n >= 0) {
		opened[n] = '\0';
		if (strcmp(opened, real))
			goto fail;
	}
	free(joined);
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	free(joined);
	return -1;
}

/*
 * Read the `size` bytes fstat measured of `fd` into `out` (one allocation),
 * and close it. A file that grows meanwhile is cut at that size, which the
 * ETag names; one that shrinks is what it is. Returns 0 or -1.
 */
static int ui_root_slurp(int fd, size_t size, struct buf *out)
{
	char *p = xmalloc(size + 1);
	size_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, p + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(p);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	p[got] = '\0';
	/* struct buf's fields are its API: hand it the block rather than copy it again. */
	out->p = p;
	out->len = got;
	out->cap = size + 1;
	out->max = GW_UI_MAX_ROOT_FILE;
	return 0;
}

/* The CSP OpenClaw sends with its Control UI, its inline scripts allowed by hash. */
static void ui_root_csp(struct buf *csp, const char *html)
{
	const char *p = html;

	buf_puts(csp, "default-src 'self'; base-uri 'none'; object-src 'none'; "
		      "frame-ancestors 'none'; frame-src 'self'; script-src 'self'");
	while ((p = strcasestr(p, "<script"))) {
		const char *tag_end = strchr(p, '>'), *body, *close;
		bool has_src = false;

		if (!tag_end)
			break;
		/* A src attribute: " src=" within the open tag (OpenClaw's rule). */
		for (const char *a = p + 7; a < tag_end; a++)
			if ((*a == ' ' || *a == '\t' || *a == '\n') &&
			    !strncasecmp(a + 1, "src", 3) && strchr("= \t\n>", a[4]))
				has_src = true;
		body = tag_end + 1;
		close = strcasestr(body, "</script>");
		if (!close)
			break;
		if (!has_src && close > body) {
			unsigned char d[CRYPTO_SHA256_LEN];
			char b64[64];

			crypto_sha256(body, (size_t)(close - body), d);
			ui_base64(d, sizeof(d), b64);
			buf_printf(csp, " 'sha256-%s'", b64);
		}
		p = close + 9;
	}
	buf_puts(csp, "; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
		      "media-src 'self' data: blob:; font-src 'self'; worker-src 'self'; "
		      "connect-src 'self' ws: wss: data:");
}

void gw_ui_root_rewrite(const char *base, const char *html, size_t len, struct buf *out,
			struct buf *csp)
{
	const char *p = html, *end = html + len;
	bool stamped = false;

	while (p < end) {
		size_t left = (size_t)(end - p);

		if ((left >= 14 && !memcmp(p, "src=\"./assets/", 14)) ||
		    (left >= 15 && !memcmp(p, "href=\"./assets/", 15))) {
			size_t attr = p[0] == 's' ? 5 : 6; /* `src="` or `href="` */

			buf_append(out, p, attr);
			buf_put_escaped(out, base);
			buf_puts(out, "/assets/");
			p += attr + 9;
		} else if (!stamped && left >= 6 && !strncasecmp(p, "<html", 5) &&
			   strchr(" \t\n>", p[5]) && p[5]) {
			buf_puts(out, "<html data-openclaw-control-ui-base-path=\"");
			buf_put_escaped(out, base);
			buf_puts(out, "\"");
			p += 5;
			stamped = true;
		} else {
			buf_putc(out, *p++);
		}
	}
	/* The hashes are over what the browser will see, so over the rewritten page. */
	ui_root_csp(csp, out->p);
}

void gw_ui_answer_release(struct gw_ui_answer *a)
{
	buf_release(&a->body);
	buf_release(&a->csp);
}

static void ui_answer_error(struct gw_ui_answer *a, int status, const char *msg)
{
	buf_release(&a->body);
	a->status = status;
	a->error = msg;
	a->content_type = NULL;
	a->cache_control = NULL;
	a->vary = a->gzipped = false;
	a->etag[0] = '\0';
}

/* The ETag of a root file: its size and mtime, as OpenClaw's rules need no read for a 304. */
static void ui_root_etag(char *out, size_t len, const struct stat *st, bool gz)
{
	snprintf(out, len, "\"%llx-%llx%s\"", (unsigned long long)st->st_size,
		 (unsigned long long)st->st_mtim.tv_sec * 1000000000ULL +
			 (unsigned long long)st->st_mtim.tv_nsec,
		 gz ? "-gz" : "");
}

static void ui_root_answer_index(const char *base, int fd, const struct stat *st,
				 const char *if_none_match, struct gw_ui_answer *a)
{
	struct buf raw;
	char hex[2 * CRYPTO_SHA256_LEN + 1];

	if (ui_root_slurp(fd, (size_t)st->st_size, &raw) < 0) {
		ui_answer_error(a, 404, "not found");
		return;
	}
	buf_init(&a->body, GW_UI_MAX_ROOT_FILE * 2);
	gw_ui_root_rewrite(base, raw.p, raw.len, &a->body, &a->csp);
	buf_release(&raw);
	crypto_sha256_hex(a->body.p, a->body.len, hex);
	snprintf(a->etag, sizeof(a->etag), "\"%.20s\"", hex);
	a->content_type = "text/html; charset=utf-8";
	a->cache_control = UI_CACHE_REVALIDATE;
	if (gw_ui_etag_matches(if_none_match, a->etag)) {
		a->status = 304;
		buf_release(&a->body);
	}
}

void gw_ui_root_answer(const char *root, const char *base, const struct gw_ui_plan *plan,
		       const char *if_none_match, struct gw_ui_answer *a)
{
	char root_real[PATH_MAX];
	const char *name = plan->name;
	bool index = plan->action == GW_UI_INDEX;
	struct stat st, gst;
	int fd, gfd = -1;

	memset(a, 0, sizeof(*a));
	buf_init(&a->body, GW_UI_MAX_ROOT_FILE);
	buf_init(&a->csp, 64 * 1024);
	a->status = 200;
	if (plan->action != GW_UI_INDEX && plan->action != GW_UI_FILE) {
		ui_answer_error(a, 404, "not found");
		return;
	}
	if (!realpath(root, root_real)) {
		a->root_errno = errno;
		ui_answer_error(a, 503, "Control UI assets not found at gateway.controlUi.root");
		return;
	}
	fd = ui_root_open(root_real, name, &st);
	if (fd < 0 && !strcmp(name, "index.html")) {
		ui_answer_error(a, 503,
				"Control UI index.html not found in gateway.controlUi.root");
		return;
	}
	if (fd < 0) {
		if (!plan->fallback) {
			ui_answer_error(a, 404, "not found");
			return;
		}
		/* The app's own routes get index.html (SPA fallback). */
		index = true;
		fd = ui_root_open(root_real, "index.html", &st);
		if (fd < 0) {
			ui_answer_error(
				a, 503,
				"Control UI index.html not found in gateway.controlUi.root");
			return;
		}
	}
	if (index) {
		ui_root_answer_index(base, fd, &st, if_none_match, a);
		return;
	}
	a->content_type = ui_type(name);
	a->cache_control = plan->immutable ? UI_CACHE_IMMUTABLE : UI_CACHE_REVALIDATE;
	a->vary = ui_is_text(name);
	ui_root_etag(a->etag, sizeof(a->etag), &st, false);
	if (plan->gzip) {
		char *gzname = xasprintf("%s.gz", name);

		gfd = ui_root_open(root_real, gzname, &gst);
		free(gzname);
		if (gfd >= 0) {
			/* The tag still names the plain file: the copy is its representation. */
			close(fd);
			fd = gfd;
			st = gst;
			a->gzipped = true;
			a->etag[strlen(a->etag) - 1] = '\0';
			snprintf(a->etag + strlen(a->etag), sizeof(a->etag) - strlen(a->etag),
				 "-gz\"");
		}
	}
	if (gw_ui_etag_matches(if_none_match, a->etag)) {
		close(fd);
		a->status = 304;
		return;
	}
	if (ui_root_slurp(fd, (size_t)st.st_size, &a->body) < 0)
		ui_answer_error(a, 404, "not found");
}

/*
 * The loop's side: the plan is made and the headers read while the request
 * lives; the file work runs on libuv's thread pool, and the answer goes
 * out through the HTTP server's deferred response.
 */
struct ui_root_job {
	uv_work_t work;
	struct http_deferred *d;
	char *root, *base, *if_none_match;
	struct gw_ui_plan plan;
	struct gw_ui_answer answer;
};

static void ui_root_work(uv_work_t *w)
{
	struct ui_root_job *j = w->data;

	gw_ui_root_answer(j->root, j->base, &j->plan, j->if_none_match, &j->answer);
}

/* Fill `res` from an answer; its body moves into the response. */
static void ui_root_respond(struct http_response *res, struct gw_ui_answer *a, const char *root)
{
	if (a->error) {
		if (a->root_errno)
			log_warn(UI_SUBSYS, "gateway.controlUi.root %s: %s", root,
				 strerror(a->root_errno));
		http_response_error(res, a->status, a->error);
		return;
	}
	res->status = a->status;
	res->content_type = a->status == 304 ? NULL : a->content_type;
	if (a->csp.len)
		http_response_header(res, "Content-Security-Policy", a->csp.p);
	http_response_header(res, "Cache-Control", a->cache_control);
	http_response_header(res, "ETag", a->etag);
	if (a->vary)
		http_response_header(res, "Vary", "Accept-Encoding");
	if (a->status == 304)
		return;
	if (a->gzipped)
		http_response_header(res, "Content-Encoding", "gzip");
	/* No copy of a file of up to 32 MiB: the buffer changes hands. */
	buf_release(&res->body);
	res->body = a->body;
	res->body.max = HTTP_MAX_RESPONSE_BODY;
	buf_init(&a->body, GW_UI_MAX_ROOT_FILE);
}

static void ui_root_done(uv_work_t *w, int status)
{
	struct ui_root_job *j = w->data;
	struct http_response *res = http_deferred_response(j->d);

	if (res && status < 0)
		http_response_error(res, 503, "cannot read the Control UI root");
	else if (res)
		ui_root_respond(res, &j->answer, j->root);
	http_deferred_send(j->d);
	gw_ui_answer_release(&j->answer);
	free(j->root);
	free(j->base);
	free(j->if_none_match);
	free(j);
}

static void ui_root(struct gateway *gw, const struct http_request *req, struct http_response *res,
		    const char *base, const struct gw_ui_plan *plan, const char *root)
{
	struct ui_root_job *j;
	const char *inm = http_request_header(req, "If-None-Match");

	if (plan->action == GW_UI_NOT_FOUND) {
		http_response_error(res, 404, "not found");
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->root = fs_expand_home(root);
	j->base = xstrdup(base);
	j->if_none_match = inm ? xstrdup(inm) : NULL;
	j->plan = *plan;
	j->work.data = j;
	/* Everything the worker needs is copied: `req` dies when this returns. */
	j->d = http_response_defer(req);
	if (uv_queue_work(gw->loop, &j->work, ui_root_work, ui_root_done) < 0) {
		/* Cannot happen with a live loop; answer at once rather than hang. */
		http_response_error(http_deferred_response(j->d), 503,
				    "cannot read the Control UI root");
		http_deferred_send(j->d);
		free(j->root);
		free(j->base);
		free(j->if_none_match);
		free(j);
	}
}

/* ==== entry ==== */

bool gw_ui_serve(struct gateway *gw, const struct http_request *req, struct http_response *res)
{
	char base[GW_UI_MAX_BASE_PATH + 2];
	const char *root;
	struct gw_ui_request r = { 0 };
	struct gw_ui_plan plan;

	if (!config_get_bool(gw->cfg, "gateway.controlUi.enabled"))
		return false;
	if (gw_ui_base_path(config_get_str(gw->cfg, "gateway.controlUi.basePath"), base) < 0) {
		http_response_error(res, 500, "gateway.controlUi.basePath is not a valid URL path");
		return true;
	}
	root = config_get_str(gw->cfg, "gateway.controlUi.root");
	r.path = req->path;
	r.accept = http_request_header(req, "Accept");
	r.accept_encoding = http_request_header(req, "Accept-Encoding");
	r.base = base;
	r.root = root && *root;
	r.build = gw_ui_build_id();
	gw_ui_resolve(&r, &plan);
	switch (plan.action) {
	case GW_UI_PASS:
		return false;
	case GW_UI_REDIRECT:
		res->status = 302;
		http_response_header(res, "Location", plan.location);
		http_response_header(res, "Cache-Control", "no-store");
		return true;
	case GW_UI_BOOTSTRAP:
		ui_bootstrap(gw, req, res, base);
		return true;
	case GW_UI_NOT_FOUND:
		http_response_error(res, 404, "not found");
		return true;
	case GW_UI_INDEX:
	case GW_UI_FILE:
		break;
	}
	if (r.root)
		ui_root(gw, req, res, base, &plan, root);
	else
		ui_embedded(req, res, base, &plan);
	return true;
}
