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

/* The longest basePath accepted; OpenClaw's are short prefixes like "/openclaw". */
#define UI_MAX_BASE_PATH 128
/* A file under a root directory larger than this is not served (OpenClaw's assets are < 10 MiB). */
#define UI_MAX_ROOT_FILE (32u << 20)

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

/* ==== request helpers ==== */

/*
 * Does Accept-Encoding allow gzip? "gzip" or "*" listed without q=0.
 * Absent means no: a client that says nothing gets the plain bytes.
 */
static bool ui_accepts_gzip(const struct http_request *req)
{
	const char *h = http_request_header(req, "Accept-Encoding"), *p;

	if (!h)
		return false;
	for (p = h; *p;) {
		size_t n;
		const char *q, *end;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		n = strcspn(p, ",; \t");
		end = p + strcspn(p, ",");
		if ((n == 4 && !strncasecmp(p, "gzip", 4)) || (n == 1 && *p == '*')) {
			/* q=0 (or 0.0, 0.00...) refuses it. */
			q = strstr(p, "q=");
			if (!q || q > end)
				return true;
			q += 2;
			if (*q != '0')
				return true;
			for (q++; *q == '.' || *q == '0'; q++)
				;
			if (q < end && *q >= '1' && *q <= '9')
				return true;
			return false;
		}
		p = *end ? end + 1 : end;
	}
	return false;
}

/*
 * Is this a browser navigating (Accept names text/html)? Only those get
 * index.html for a path that is no file: an API client asking for a
 * missing path deserves its 404 (OpenClaw's rule too).
 */
static bool ui_wants_html(const struct http_request *req)
{
	const char *h = http_request_header(req, "Accept");

	return h && strcasestr(h, "text/html");
}

/* Does If-None-Match name `etag` (a quoted strong tag), weakly compared, or "*"? */
static bool ui_etag_matches(const struct http_request *req, const char *etag)
{
	const char *h = http_request_header(req, "If-None-Match"), *p;
	size_t elen = strlen(etag);

	if (!h)
		return false;
	for (p = h; *p;) {
		size_t n;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (!strncmp(p, "W/", 2))
			p += 2;
		n = strcspn(p, ", \t");
		if ((n == 1 && *p == '*') || (n == elen && !strncmp(p, etag, n)))
			return true;
		p += n;
	}
	return false;
}

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
	if (!ui_etag_matches(req, etag))
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

/* ==== base path ==== */

/*
 * gateway.controlUi.basePath as OpenClaw normalises it: "" for the root,
 * else "/a/b" (leading slash added, trailing ones dropped). Returns -1
 * for one that is too long or holds characters a URL path would have to
 * escape (it is written into HTML and headers).
 */
static int ui_base_path(const struct gateway *gw, char out[UI_MAX_BASE_PATH + 2])
{
	const char *s = config_get_str(gw->cfg, "gateway.controlUi.basePath");
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
	if (n > UI_MAX_BASE_PATH)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && !strchr("-._~/", s[i]))
			return -1;
	snprintf(out, UI_MAX_BASE_PATH + 2, "/%.*s", (int)n, s);
	return 0;
}

/* ==== bootstrap config ==== */

static bool ui_is_bootstrap(const char *rel, const char *base)
{
	return !strcmp(rel, "/control-ui-config.json") ||
	       !strcmp(rel, "/__openclaw/control-ui-config.json") ||
	       (!*base && !strcmp(rel, "/__openclaw__/control-ui-config.json"));
}

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

/* Send embedded file `name`, gzip'd when the client takes it. */
static void ui_embedded_file(const struct http_request *req, struct http_response *res,
			     const struct embed_file *f, size_t idx, bool immutable)
{
	const struct embed_file *body = f;
	bool text = ui_is_text(f->name);
	char etag[32];

	snprintf(etag, sizeof(etag), "%s", ui_etags[idx]);
	if (text && ui_accepts_gzip(req)) {
		char *gzname = xasprintf("%s.gz", f->name);
		size_t gzidx;

		for (gzidx = 0; embed_ui[gzidx].name; gzidx++)
			if (!strcmp(embed_ui[gzidx].name, gzname))
				break;
		if (embed_ui[gzidx].name) {
			body = &embed_ui[gzidx];
			/* Another representation, another tag (RFC 9110 8.8.3). */
			snprintf(etag, sizeof(etag), "%.*s-gz\"", (int)strlen(ui_etags[idx]) - 1,
				 ui_etags[idx]);
		}
		free(gzname);
	}
	res->content_type = ui_type(f->name);
	if (ui_cache_headers(req, res, etag, immutable ? UI_CACHE_IMMUTABLE : UI_CACHE_REVALIDATE,
			     text))
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

/* `rel` is the path below the base, starting with '/'. */
static void ui_embedded(struct gateway *gw, const struct http_request *req,
			struct http_response *res, const char *base, const char *rel)
{
	const struct embed_file *f;
	const char *name = rel + 1;
	bool immutable = false;
	size_t idx;

	ui_embedded_init();
	/* "/_/<build>/js/app.js": the current build's assets are immutable. */
	if (!strncmp(rel, "/_/", 3)) {
		const char *id = rel + 3, *slash = strchr(id, '/');

		if (!slash) {
			http_response_error(res, 404, "not found");
			return;
		}
		immutable = (size_t)(slash - id) == strlen(ui_build) &&
			    !strncmp(id, ui_build, (size_t)(slash - id));
		name = slash + 1;
		f = ui_embedded_find(name, &idx);
		if (!f || !strcmp(name, "index.html")) {
			http_response_error(res, 404, "not found");
			return;
		}
		/* An old build's page asking for its assets gets today's, revalidated. */
		ui_embedded_file(req, res, f, idx, immutable);
		return;
	}
	if (strcmp(rel, "/") && strcmp(rel, "/index.html")) {
		f = ui_embedded_find(name, &idx);
		if (f) {
			ui_embedded_file(req, res, f, idx, false);
			return;
		}
		/* A missing asset is a 404; a page is one of the app's own routes. */
		if (ui_type_index(rel) >= 0 || !ui_wants_html(req)) {
			http_response_error(res, 404, "not found");
			return;
		}
	}
	ui_embedded_index(req, res, base);
	(void)gw;
}

/* ==== a root directory ==== */

/* Is `rel` (below the root, no leading '/') a plain relative path? No "..", ".", "//" or '\\'. */
static bool ui_safe_rel(const char *rel)
{
	const char *p = rel;

	if (!*rel || *rel == '/' || strchr(rel, '\\'))
		return false;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

struct ui_file {
	struct buf data;
	long long size;
	long long mtime_ns;
};

/*
 * Read `rel` under the root whose real path is `root_real`. Returns 0, or
 * -1 when it does not exist, is not a regular file, resolves outside the
 * root (a symlink pointing out) or is too large.
 */
static int ui_root_read(const char *root_real, const char *rel, struct ui_file *out)
{
	char *joined = xasprintf("%s/%s", root_real, rel), real[PATH_MAX];
	size_t rlen = strlen(root_real);
	struct stat st;
	int fd = -1, r = -1;

	buf_init(&out->data, UI_MAX_ROOT_FILE);
	if (!realpath(joined, real))
		goto out;
	if (strncmp(real, root_real, rlen) || (real[rlen] != '/' && strcmp(root_real, "/")))
		goto out;
	/* O_NONBLOCK: a FIFO planted in the root must not stall the loop. */
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (unsigned long long)st.st_size > UI_MAX_ROOT_FILE)
		goto out;
	out->size = st.st_size;
	out->mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	for (;;) {
		char chunk[65536];
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (buf_append(&out->data, chunk, (size_t)n) < 0)
			goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (r < 0)
		buf_release(&out->data);
	free(joined);
	return r;
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

/* OpenClaw's index.html rewrite: assets anchored at the base, the base stamped on <html>. */
static void ui_root_index(const struct http_request *req, struct http_response *res,
			  const char *base, const struct ui_file *f)
{
	const char *p = f->data.p ? f->data.p : "";
	struct buf out, csp;
	char hex[2 * CRYPTO_SHA256_LEN + 1], etag[32];
	bool stamped = false;

	buf_init(&out, UI_MAX_ROOT_FILE * 2);
	buf_init(&csp, 64 * 1024);
	while (*p) {
		if (!strncmp(p, "src=\"./assets/", 14) || !strncmp(p, "href=\"./assets/", 15)) {
			size_t attr = p[0] == 's' ? 5 : 6; /* `src="` or `href="` */

			buf_append(&out, p, attr);
			buf_put_escaped(&out, base);
			buf_puts(&out, "/assets/");
			p += attr + 9;
		} else if (!stamped && !strncasecmp(p, "<html", 5) && strchr(" \t\n>", p[5])) {
			buf_puts(&out, "<html data-openclaw-control-ui-base-path=\"");
			buf_put_escaped(&out, base);
			buf_puts(&out, "\"");
			p += 5;
			stamped = true;
		} else {
			buf_putc(&out, *p++);
		}
	}
	ui_root_csp(&csp, out.p ? out.p : "");
	crypto_sha256_hex(out.p ? out.p : "", out.len, hex);
	snprintf(etag, sizeof(etag), "\"%.20s\"", hex);
	res->content_type = "text/html; charset=utf-8";
	http_response_header(res, "Content-Security-Policy", csp.p ? csp.p : "");
	if (!ui_cache_headers(req, res, etag, UI_CACHE_REVALIDATE, false))
		buf_append(&res->body, out.p, out.len);
	buf_release(&out);
	buf_release(&csp);
}

static void ui_root(struct gateway *gw, const struct http_request *req, struct http_response *res,
		    const char *base, const char *rel, const char *root)
{
	char *expanded = fs_expand_home(root), root_real[PATH_MAX], etag[64];
	const char *name = rel + 1, *assets = strstr(rel, "/assets/");
	struct ui_file f, gz;
	bool immutable, gzipped = false;

	if (!realpath(expanded, root_real)) {
		log_warn(UI_SUBSYS, "gateway.controlUi.root %s: %s", expanded, strerror(errno));
		http_response_error(res, 503,
				    "Control UI assets not found at gateway.controlUi.root");
		free(expanded);
		return;
	}
	free(expanded);
	/* Deep links keep their assets: "/chat/assets/x.js" is "assets/x.js" (OpenClaw does). */
	if (assets)
		name = assets + 1;
	if (!strcmp(rel, "/") || !strcmp(rel, "/index.html"))
		name = "index.html";
	if (!ui_safe_rel(name)) {
		http_response_error(res, 404, "not found");
		return;
	}
	/* Precompressed copies are representations, not files of their own. */
	if (str_ends_with(name, ".gz") || str_ends_with(name, ".br") ||
	    ui_root_read(root_real, name, &f) < 0) {
		if ((ui_type_index(name) >= 0 && !str_ends_with(name, ".html")) ||
		    !ui_wants_html(req)) {
			http_response_error(res, 404, "not found");
			return;
		}
		/* The app's own routes get index.html (SPA fallback). */
		name = "index.html";
		if (ui_root_read(root_real, name, &f) < 0) {
			http_response_error(res, 503,
					    "Control UI index.html not found in "
					    "gateway.controlUi.root");
			return;
		}
	}
	if (!strcmp(name, "index.html") || str_ends_with(name, "/index.html")) {
		ui_root_index(req, res, base, &f);
		buf_release(&f.data);
		return;
	}
	immutable = str_starts_with(name, "assets/");
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)f.size,
		 (unsigned long long)f.mtime_ns);
	if (ui_is_text(name) && ui_accepts_gzip(req)) {
		char *gzname = xasprintf("%s.gz", name);

		if (ui_root_read(root_real, gzname, &gz) == 0) {
			buf_release(&f.data);
			f.data = gz.data;
			gzipped = true;
			snprintf(etag, sizeof(etag), "\"%llx-%llx-gz\"", (unsigned long long)f.size,
				 (unsigned long long)f.mtime_ns);
		}
		free(gzname);
	}
	res->content_type = ui_type(name);
	if (!ui_cache_headers(req, res, etag, immutable ? UI_CACHE_IMMUTABLE : UI_CACHE_REVALIDATE,
			      ui_is_text(name))) {
		if (gzipped)
			http_response_header(res, "Content-Encoding", "gzip");
		buf_append(&res->body, f.data.p ? f.data.p : "", f.data.len);
	}
	buf_release(&f.data);
	(void)gw;
}

/* ==== entry ==== */

bool gw_ui_serve(struct gateway *gw, const struct http_request *req, struct http_response *res)
{
	char base[UI_MAX_BASE_PATH + 2];
	const char *rel, *root;
	size_t blen;

	if (!config_get_bool(gw->cfg, "gateway.controlUi.enabled"))
		return false;
	if (ui_base_path(gw, base) < 0) {
		http_response_error(res, 500, "gateway.controlUi.basePath is not a valid URL path");
		return true;
	}
	blen = strlen(base);
	if (blen) {
		/* "/" and "/base" lead to "/base/", where relative links work. */
		if (!strcmp(req->path, "/") || !strcmp(req->path, base)) {
			char *loc = xasprintf("%s/", base);

			res->status = 302;
			http_response_header(res, "Location", loc);
			http_response_header(res, "Cache-Control", "no-store");
			free(loc);
			return true;
		}
		if (strncmp(req->path, base, blen) || req->path[blen] != '/')
			return false;
	}
	rel = req->path + blen;
	/* The gateway's own HTTP APIs are never the UI's, at the root or below the base. */
	if (!strncmp(rel, "/v1/", 4) || !strcmp(rel, "/v1") || !strncmp(rel, "/api/", 5) ||
	    !strcmp(rel, "/api"))
		return false;
	if (ui_is_bootstrap(rel, base)) {
		ui_bootstrap(gw, req, res, base);
		return true;
	}
	root = config_get_str(gw->cfg, "gateway.controlUi.root");
	if (root && *root)
		ui_root(gw, req, res, base, rel, root);
	else
		ui_embedded(gw, req, res, base, rel);
	return true;
}
