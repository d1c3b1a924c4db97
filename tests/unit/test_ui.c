/*
 * test_ui.c - the Control UI's request decisions (src/gateway/ui.c) without
 * a server: header parsing (Accept-Encoding, Accept, If-None-Match), base
 * paths, path safety, gw_ui_resolve's plans for the embedded UI and a root
 * directory, and gw_ui_root_answer against real files in a temp dir
 * (symlinks out, FIFOs, gzip copies, 304s, the SPA fallback).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/str.h"
#include "gateway/ui.h"

#define BUILD "0123456789ab"

/* ==== headers ==== */

static void test_accepts_gzip(void **state)
{
	assert_false(gw_ui_accepts_gzip(NULL));
	assert_false(gw_ui_accepts_gzip(""));
	assert_false(gw_ui_accepts_gzip("br, deflate"));
	assert_false(gw_ui_accepts_gzip("identity"));
	assert_false(gw_ui_accepts_gzip("gzipx"));
	assert_true(gw_ui_accepts_gzip("gzip"));
	assert_true(gw_ui_accepts_gzip("GZip"));
	assert_true(gw_ui_accepts_gzip("gzip, deflate, br"));
	assert_true(gw_ui_accepts_gzip("br;q=1.0, gzip;q=0.8, *;q=0.1"));
	assert_true(gw_ui_accepts_gzip(" , ,gzip"));
	assert_true(gw_ui_accepts_gzip("x-gzip"));
	assert_true(gw_ui_accepts_gzip("gzip;q=0.001"));
	assert_true(gw_ui_accepts_gzip("gzip;q=1"));
	assert_true(gw_ui_accepts_gzip("gzip ; q=0.5"));
	/* q=0 in every spelling refuses it */
	assert_false(gw_ui_accepts_gzip("gzip;q=0"));
	assert_false(gw_ui_accepts_gzip("gzip; q=0.000"));
	assert_false(gw_ui_accepts_gzip("gzip;Q=0"));
	assert_false(gw_ui_accepts_gzip("gzip;q=0."));
	assert_false(gw_ui_accepts_gzip("gzip;level=1;q=0"));
	/* a q of another element does not leak into this one */
	assert_true(gw_ui_accepts_gzip("gzip, br;q=0"));
	assert_false(gw_ui_accepts_gzip("br, gzip;q=0"));
	/* malformed weights are no */
	assert_false(gw_ui_accepts_gzip("gzip;q=1.5"));
	assert_false(gw_ui_accepts_gzip("gzip;q=abc"));
	assert_false(gw_ui_accepts_gzip("gzip;q=2"));
	assert_false(gw_ui_accepts_gzip("gzip;q=0.5x"));
	/* "*" speaks only for encodings not named */
	assert_true(gw_ui_accepts_gzip("*"));
	assert_false(gw_ui_accepts_gzip("*;q=0"));
	assert_true(gw_ui_accepts_gzip("*;q=0, gzip"));
	assert_false(gw_ui_accepts_gzip("gzip;q=0, *"));
	/* named twice: the higher weight */
	assert_true(gw_ui_accepts_gzip("gzip;q=0, gzip;q=0.5"));
}

static void test_wants_html(void **state)
{
	assert_false(gw_ui_wants_html(NULL));
	assert_false(gw_ui_wants_html(""));
	assert_false(gw_ui_wants_html("*/*"));
	assert_false(gw_ui_wants_html("application/json"));
	assert_false(gw_ui_wants_html("text/htmlx"));
	assert_false(gw_ui_wants_html("text/plain;format=text/html"));
	assert_false(gw_ui_wants_html("text/html;q=0"));
	assert_true(gw_ui_wants_html("text/html"));
	assert_true(gw_ui_wants_html("TEXT/HTML"));
	assert_true(gw_ui_wants_html(
		"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"));
	assert_true(gw_ui_wants_html("application/xhtml+xml"));
	assert_true(gw_ui_wants_html("application/json, text/html;q=0.1"));
}

static void test_etag_matches(void **state)
{
	assert_false(gw_ui_etag_matches(NULL, "\"a\""));
	assert_false(gw_ui_etag_matches("", "\"a\""));
	assert_true(gw_ui_etag_matches("\"a\"", "\"a\""));
	assert_true(gw_ui_etag_matches("W/\"a\"", "\"a\""));
	assert_true(gw_ui_etag_matches("\"b\", W/\"a\"", "\"a\""));
	assert_true(gw_ui_etag_matches("\"b\",\"a\"", "\"a\""));
	assert_true(gw_ui_etag_matches("*", "\"a\""));
	assert_true(gw_ui_etag_matches(" * ", "\"a\""));
	assert_false(gw_ui_etag_matches("\"a\"", "\"a-gz\""));
	assert_false(gw_ui_etag_matches("\"a-gz\"", "\"a\""));
	assert_false(gw_ui_etag_matches("a", "\"a\""));
	assert_false(gw_ui_etag_matches("\"A\"", "\"a\""));
	/* "*" is the whole field or nothing; quoted "*" is a tag of its own */
	assert_false(gw_ui_etag_matches("\"b\", *", "\"a\""));
	assert_false(gw_ui_etag_matches("\"*\"", "\"a\""));
	/* a comma inside a quoted tag belongs to the tag */
	assert_true(gw_ui_etag_matches("\"x,y\", \"a\"", "\"a\""));
	assert_true(gw_ui_etag_matches("\"x,y\"", "\"x,y\""));
	assert_false(gw_ui_etag_matches("\"x,\"a\"", "\"a\""));
	/* unterminated, stray bytes: no match, no overrun */
	assert_false(gw_ui_etag_matches("\"a", "\"a\""));
	assert_false(gw_ui_etag_matches("W/", "\"a\""));
	assert_false(gw_ui_etag_matches(",,,W/,", "\"a\""));
	assert_false(gw_ui_etag_matches("\"", "\"a\""));
	/* ends on whitespace or a bare W/ (the fuzzer's find: a read past the NUL) */
	assert_true(gw_ui_etag_matches("\"a\" ", "\"a\""));
	assert_false(gw_ui_etag_matches("\"b\" ", "\"a\""));
	assert_false(gw_ui_etag_matches("\"b\", W/", "\"a\""));
}

/* ==== paths ==== */

static void test_base_path(void **state)
{
	char out[GW_UI_MAX_BASE_PATH + 2], big[GW_UI_MAX_BASE_PATH + 8];

	assert_int_equal(gw_ui_base_path(NULL, out), 0);
	assert_string_equal(out, "");
	assert_int_equal(gw_ui_base_path("", out), 0);
	assert_string_equal(out, "");
	assert_int_equal(gw_ui_base_path(" / ", out), 0);
	assert_string_equal(out, "");
	assert_int_equal(gw_ui_base_path("pincer", out), 0);
	assert_string_equal(out, "/pincer");
	assert_int_equal(gw_ui_base_path("/pincer/", out), 0);
	assert_string_equal(out, "/pincer");
	assert_int_equal(gw_ui_base_path(" //a/b-c.d_e~// ", out), 0);
	assert_string_equal(out, "/a/b-c.d_e~");
	assert_int_equal(gw_ui_base_path("/a..b/...", out), 0);
	assert_string_equal(out, "/a..b/...");
	/* what a URL would escape, or a normalised path could never match */
	assert_int_equal(gw_ui_base_path("/a b", out), -1);
	assert_string_equal(out, "");
	assert_int_equal(gw_ui_base_path("/a\"b", out), -1);
	assert_int_equal(gw_ui_base_path("/a<b", out), -1);
	assert_int_equal(gw_ui_base_path("/a%2fb", out), -1);
	assert_int_equal(gw_ui_base_path("/a//b", out), -1);
	assert_int_equal(gw_ui_base_path("/a/./b", out), -1);
	assert_int_equal(gw_ui_base_path("/a/../b", out), -1);
	assert_int_equal(gw_ui_base_path("/..", out), -1);
	assert_int_equal(gw_ui_base_path("/.", out), -1);
	assert_int_equal(gw_ui_base_path("/a/.hidden", out), 0);
	assert_string_equal(out, "/a/.hidden");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(gw_ui_base_path(big, out), -1);
	big[GW_UI_MAX_BASE_PATH] = '\0';
	assert_int_equal(gw_ui_base_path(big, out), 0);
	assert_int_equal(strlen(out), GW_UI_MAX_BASE_PATH + 1);
}

static void test_safe_rel(void **state)
{
	char big[GW_UI_MAX_PATH + 2];

	assert_true(gw_ui_safe_rel("a"));
	assert_true(gw_ui_safe_rel("assets/app.js"));
	assert_true(gw_ui_safe_rel("a/"));
	assert_true(gw_ui_safe_rel("..a/b..c/..."));
	assert_true(gw_ui_safe_rel("%2e%2e/x")); /* literal: never decoded twice */
	assert_true(gw_ui_safe_rel("x y?z#w"));
	assert_false(gw_ui_safe_rel(""));
	assert_false(gw_ui_safe_rel("/etc/passwd"));
	assert_false(gw_ui_safe_rel("a//b"));
	assert_false(gw_ui_safe_rel("."));
	assert_false(gw_ui_safe_rel(".."));
	assert_false(gw_ui_safe_rel("../x"));
	assert_false(gw_ui_safe_rel("a/../../x"));
	assert_false(gw_ui_safe_rel("a/./b"));
	assert_false(gw_ui_safe_rel("a/.."));
	assert_false(gw_ui_safe_rel("a\\..\\b"));
	assert_false(gw_ui_safe_rel("a\nb"));
	assert_false(gw_ui_safe_rel("a\x7f"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(gw_ui_safe_rel(big));
	big[GW_UI_MAX_PATH] = '\0';
	assert_true(gw_ui_safe_rel(big));
}

/* ==== plans ==== */

static struct gw_ui_plan plan_of(const char *path, const char *base, bool root, bool html,
				 const char *ae)
{
	struct gw_ui_request r = {
		.path = path,
		.accept = html ? "text/html,*/*" : NULL,
		.accept_encoding = ae,
		.base = base,
		.root = root,
		.build = BUILD,
	};
	struct gw_ui_plan p;

	gw_ui_resolve(&r, &p);
	return p;
}

static void test_resolve_embedded(void **state)
{
	struct gw_ui_plan p;

	p = plan_of("/", "", false, false, NULL);
	assert_int_equal(p.action, GW_UI_INDEX);
	assert_string_equal(p.name, "index.html");
	assert_int_equal(plan_of("/index.html", "", false, false, NULL).action, GW_UI_INDEX);

	p = plan_of("/_/" BUILD "/js/app.js", "", false, false, "gzip");
	assert_int_equal(p.action, GW_UI_FILE);
	assert_string_equal(p.name, "js/app.js");
	assert_true(p.immutable && p.gzip && !p.fallback);
	p = plan_of("/_/000000000000/app.css", "", false, false, NULL);
	assert_int_equal(p.action, GW_UI_FILE);
	assert_false(p.immutable || p.gzip);
	p = plan_of("/_/" BUILD "/logo.png", "", false, false, "gzip");
	assert_false(p.gzip); /* not a text type */
	assert_true(plan_of("/_/" BUILD "/app.css", "", false, false, "gzip;q=0").action ==
		    GW_UI_FILE);
	assert_false(plan_of("/_/" BUILD "/app.css", "", false, false, "gzip;q=0").gzip);
	assert_int_equal(plan_of("/_/" BUILD, "", false, true, NULL).action, GW_UI_NOT_FOUND);
	assert_int_equal(plan_of("/_/" BUILD "/index.html", "", false, true, NULL).action,
			 GW_UI_NOT_FOUND);
	assert_int_equal(plan_of("/_/" BUILD "/app.css.gz", "", false, true, NULL).action,
			 GW_UI_NOT_FOUND);
	assert_int_equal(plan_of("/_/" BUILD "/js/", "", false, true, NULL).action,
			 GW_UI_NOT_FOUND);

	/* the app's routes: index for a browser, 404 for an API client */
	p = plan_of("/sessions", "", false, true, NULL);
	assert_int_equal(p.action, GW_UI_FILE);
	assert_true(p.fallback);
	assert_false(plan_of("/sessions", "", false, false, NULL).fallback);
	assert_true(plan_of("/sessions/", "", false, true, NULL).fallback);
	assert_false(plan_of("/nope.js", "", false, true, NULL).fallback);
	/* precompressed copies are never URLs */
	assert_int_equal(plan_of("/app.css.gz", "", false, false, NULL).action, GW_UI_NOT_FOUND);
	assert_int_equal(plan_of("/app.css.gz", "", false, true, NULL).action, GW_UI_INDEX);

	/* whatever the server let through that is not a plain path: 404, no fallback */
	assert_int_equal(plan_of("/a//b", "", false, true, NULL).action, GW_UI_NOT_FOUND);
	assert_int_equal(plan_of("/a/../b", "", false, true, NULL).action, GW_UI_NOT_FOUND);
	assert_int_equal(plan_of("/a\\b", "", false, true, NULL).action, GW_UI_NOT_FOUND);
	assert_int_equal(plan_of("/a\rb", "", false, true, NULL).action, GW_UI_NOT_FOUND);
	assert_int_equal(plan_of("//", "", false, true, NULL).action, GW_UI_NOT_FOUND);
	assert_int_equal(plan_of("relative", "", false, true, NULL).action, GW_UI_PASS);
	assert_int_equal(plan_of("", "", false, true, NULL).action, GW_UI_PASS);
}

static void test_resolve_base_and_apis(void **state)
{
	struct gw_ui_plan p;

	p = plan_of("/", "/oc", false, true, NULL);
	assert_int_equal(p.action, GW_UI_REDIRECT);
	assert_string_equal(p.location, "/oc/");
	p = plan_of("/oc", "/oc", true, true, NULL);
	assert_int_equal(p.action, GW_UI_REDIRECT);
	assert_string_equal(p.location, "/oc/");
	assert_int_equal(plan_of("/ocx", "/oc", false, true, NULL).action, GW_UI_PASS);
	assert_int_equal(plan_of("/elsewhere", "/oc", false, true, NULL).action, GW_UI_PASS);
	assert_int_equal(plan_of("/oc/", "/oc", false, true, NULL).action, GW_UI_INDEX);
	assert_int_equal(plan_of("/oc/config", "/oc", false, true, NULL).action, GW_UI_FILE);

	assert_int_equal(plan_of("/v1/chat/completions", "", false, true, NULL).action, GW_UI_PASS);
	assert_int_equal(plan_of("/v1", "", false, true, NULL).action, GW_UI_PASS);
	assert_int_equal(plan_of("/api/x", "", true, true, NULL).action, GW_UI_PASS);
	assert_int_equal(plan_of("/oc/v1/models", "/oc", false, true, NULL).action, GW_UI_PASS);
	assert_int_equal(plan_of("/v1x", "", false, true, NULL).action, GW_UI_FILE);

	assert_int_equal(plan_of("/control-ui-config.json", "", false, false, NULL).action,
			 GW_UI_BOOTSTRAP);
	assert_int_equal(
		plan_of("/__openclaw__/control-ui-config.json", "", true, false, NULL).action,
		GW_UI_BOOTSTRAP);
	assert_int_equal(
		plan_of("/oc/__openclaw/control-ui-config.json", "/oc", true, false, NULL).action,
		GW_UI_BOOTSTRAP);
	/* the legacy root path only at the root */
	assert_int_equal(
		plan_of("/oc/__openclaw__/control-ui-config.json", "/oc", true, false, NULL).action,
		GW_UI_FILE);
}

static void test_resolve_root(void **state)
{
	struct gw_ui_plan p;

	p = plan_of("/oc/", "/oc", true, false, NULL);
	assert_int_equal(p.action, GW_UI_INDEX);
	assert_string_equal(p.name, "index.html");
	p = plan_of("/oc/assets/app-1234.js", "/oc", true, false, "gzip");
	assert_int_equal(p.action, GW_UI_FILE);
	assert_string_equal(p.name, "assets/app-1234.js");
	assert_true(p.immutable && p.gzip && !p.fallback);
	/* deep links keep their assets */
	p = plan_of("/oc/chat/deep/assets/x.css", "/oc", true, true, NULL);
	assert_string_equal(p.name, "assets/x.css");
	assert_true(p.immutable);
	assert_false(p.fallback);
	/* "dir/" is its index.html; a missing one falls back for browsers */
	p = plan_of("/docs/", "", true, true, NULL);
	assert_int_equal(p.action, GW_UI_INDEX);
	assert_string_equal(p.name, "docs/index.html");
	assert_true(p.fallback);
	p = plan_of("/chat", "", true, true, NULL);
	assert_int_equal(p.action, GW_UI_FILE);
	assert_true(p.fallback && !p.immutable);
	assert_false(plan_of("/chat", "", true, false, NULL).fallback);
	assert_false(plan_of("/missing.png", "", true, true, NULL).fallback);
	assert_true(plan_of("/page.html", "", true, true, NULL).fallback);
	p = plan_of("/favicon.svg", "", true, false, "gzip");
	assert_true(p.gzip && !p.immutable);
	assert_false(plan_of("/logo.png", "", true, false, "gzip").gzip);
	/* precompressed copies */
	assert_int_equal(plan_of("/assets/app.js.gz", "", true, false, NULL).action,
			 GW_UI_NOT_FOUND);
	assert_int_equal(plan_of("/assets/app.js.br", "", true, true, NULL).action, GW_UI_INDEX);
	/* climbing out, however spelled, is a 404 without fallback */
	assert_int_equal(plan_of("/../secret", "", true, true, NULL).action, GW_UI_NOT_FOUND);
	assert_int_equal(plan_of("/assets/../../x", "", true, true, NULL).action, GW_UI_NOT_FOUND);
	assert_int_equal(plan_of("/x/assets/..", "", true, true, NULL).action, GW_UI_NOT_FOUND);
	assert_int_equal(plan_of("//etc/passwd", "", true, true, NULL).action, GW_UI_NOT_FOUND);
	assert_int_equal(plan_of("/a\\..\\b", "", true, true, NULL).action, GW_UI_NOT_FOUND);
	/* "%2e%2e" reached us decoded once already: it is a literal name */
	p = plan_of("/%2e%2e/x", "", true, true, NULL);
	assert_int_equal(p.action, GW_UI_FILE);
	assert_string_equal(p.name, "%2e%2e/x");
}

static void test_resolve_long_paths(void **state)
{
	size_t n = GW_UI_MAX_PATH + 100;
	char *path = xmalloc(n + 2);
	struct gw_ui_plan p;

	path[0] = '/';
	memset(path + 1, 'a', n);
	path[n + 1] = '\0';
	assert_int_equal(plan_of(path, "", false, true, NULL).action, GW_UI_NOT_FOUND);
	assert_int_equal(plan_of(path, "", true, true, NULL).action, GW_UI_NOT_FOUND);
	/* right at the limit, with "/" -> "index.html" appended, still fits */
	path[GW_UI_MAX_PATH] = '/';
	path[GW_UI_MAX_PATH + 1] = '\0';
	p = plan_of(path, "", true, true, NULL);
	assert_int_equal(p.action, GW_UI_NOT_FOUND); /* "...a/index.html" is over the limit */
	path[GW_UI_MAX_PATH - 11] = '/';
	path[GW_UI_MAX_PATH - 10] = '\0';
	p = plan_of(path, "", true, true, NULL);
	assert_int_equal(p.action, GW_UI_INDEX);
	assert_true(str_ends_with(p.name, "/index.html"));
	free(path);
}

/* ==== a root directory on disk ==== */

struct rootdir {
	char dir[PATH_MAX];      /* holds root/ and secret.txt */
	char root[PATH_MAX + 8]; /* dir/root */
};

static void put(const char *dir, const char *name, const char *text)
{
	char *p = tu_write_file(dir, name, text, 0600);

	assert_non_null(p);
	free(p);
}

static int root_setup(void **state)
{
	struct rootdir *r = xcalloc(1, sizeof(*r));
	char *p;

	assert_int_equal(tu_mkdtemp(r->dir, sizeof(r->dir), "ui"), 0);
	snprintf(r->root, sizeof(r->root), "%s/root", r->dir);
	p = xasprintf("%s/assets", r->root);
	assert_int_equal(mkdir(r->root, 0700), 0);
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	p = xasprintf("%s/sub", r->root);
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	put(r->dir, "secret.txt", "top secret");
	put(r->root, "index.html",
	    "<!doctype html><html lang=\"en\"><head><script>window.x = 1;</script>"
	    "<script type=\"module\" src=\"./assets/app.js\"></script>"
	    "<link rel=\"stylesheet\" href=\"./assets/app.css\"></head><body>root "
	    "ui</body></html>");
	put(r->root, "assets/app.js", "console.log('hi')\n");
	put(r->root, "assets/app.js.gz", "GZIPPED");
	put(r->root, "assets/app.css", "body{}");
	put(r->root, "notes.txt", "plain");
	p = xasprintf("%s/secret.txt", r->dir);
	{
		char *link = xasprintf("%s/leak.txt", r->root),
		     *in = xasprintf("%s/in.txt", r->root);

		assert_int_equal(symlink(p, link), 0);
		assert_int_equal(symlink("notes.txt", in), 0);
		free(link);
		free(in);
	}
	free(p);
	*state = r;
	return 0;
}

static int root_teardown(void **state)
{
	struct rootdir *r = *state;

	tu_rm_rf(r->dir);
	free(r);
	return 0;
}

static void answer(struct rootdir *r, const char *path, bool html, const char *ae, const char *inm,
		   struct gw_ui_answer *a)
{
	struct gw_ui_plan p = plan_of(path, "/oc", true, html, ae);

	gw_ui_root_answer(r->root, "/oc", &p, inm, a);
}

static void test_root_index_rewrite_and_304(void **state)
{
	struct rootdir *r = *state;
	struct gw_ui_answer a;
	char etag[48];

	answer(r, "/oc/", true, "gzip", NULL, &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.content_type, "text/html; charset=utf-8");
	assert_string_equal(a.cache_control, "no-cache");
	assert_false(a.gzipped || a.vary);
	assert_non_null(strstr(a.body.p, "<html data-openclaw-control-ui-base-path=\"/oc\" lang"));
	assert_non_null(strstr(a.body.p, "src=\"/oc/assets/app.js\""));
	assert_non_null(strstr(a.body.p, "href=\"/oc/assets/app.css\""));
	/* the inline script, by its hash: sha256("window.x = 1;") in base64 */
	assert_non_null(
		strstr(a.csp.p,
		       "script-src 'self' 'sha256-U1BU0BfAhaBREBgsEDDctSYokOF3U7hQUIj6mrtukfw='"));
	assert_non_null(strstr(a.csp.p, "frame-ancestors 'none'"));
	assert_null(strstr(a.csp.p, "unsafe-eval"));
	snprintf(etag, sizeof(etag), "%s", a.etag);
	gw_ui_answer_release(&a);

	answer(r, "/oc/", true, NULL, etag, &a);
	assert_int_equal(a.status, 304);
	assert_int_equal(a.body.len, 0);
	assert_string_equal(a.etag, etag);
	gw_ui_answer_release(&a);

	/* an app route is the same page */
	answer(r, "/oc/chat/session", true, NULL, NULL, &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.etag, etag);
	gw_ui_answer_release(&a);
	/* ... but not for an API client */
	answer(r, "/oc/chat/session", false, NULL, NULL, &a);
	assert_int_equal(a.status, 404);
	gw_ui_answer_release(&a);
	/* a missing sub/index.html falls back too */
	answer(r, "/oc/sub/", true, NULL, NULL, &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.etag, etag);
	gw_ui_answer_release(&a);
}

static void test_root_assets_gzip_and_304(void **state)
{
	struct rootdir *r = *state;
	struct gw_ui_answer a;
	char etag[48];

	answer(r, "/oc/assets/app.js", false, NULL, NULL, &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body.p, "console.log('hi')\n");
	assert_string_equal(a.content_type, "text/javascript; charset=utf-8");
	assert_string_equal(a.cache_control, "public, max-age=31536000, immutable");
	assert_true(a.vary);
	assert_false(a.gzipped);
	snprintf(etag, sizeof(etag), "%s", a.etag);
	gw_ui_answer_release(&a);

	answer(r, "/oc/deep/link/assets/app.js", false, "gzip, br", NULL, &a);
	assert_int_equal(a.status, 200);
	assert_true(a.gzipped);
	assert_string_equal(a.body.p, "GZIPPED");
	assert_true(str_ends_with(a.etag, "-gz\""));
	assert_string_not_equal(a.etag, etag);
	gw_ui_answer_release(&a);

	answer(r, "/oc/assets/app.js", false, "gzip;q=0", etag, &a);
	assert_int_equal(a.status, 304);
	assert_int_equal(a.body.len, 0);
	gw_ui_answer_release(&a);
	/* the plain tag does not validate the gzip representation */
	answer(r, "/oc/assets/app.js", false, "gzip", etag, &a);
	assert_int_equal(a.status, 200);
	gw_ui_answer_release(&a);

	/* no .gz copy: the plain bytes, with Vary */
	answer(r, "/oc/assets/app.css", false, "gzip", NULL, &a);
	assert_int_equal(a.status, 200);
	assert_false(a.gzipped);
	assert_true(a.vary);
	assert_string_equal(a.body.p, "body{}");
	gw_ui_answer_release(&a);

	answer(r, "/oc/notes.txt", false, NULL, NULL, &a);
	assert_string_equal(a.cache_control, "no-cache");
	gw_ui_answer_release(&a);
	/* a symlink that stays inside is a file like any other */
	answer(r, "/oc/in.txt", false, NULL, NULL, &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body.p, "plain");
	gw_ui_answer_release(&a);
}

static void test_root_refusals(void **state)
{
	struct rootdir *r = *state;
	static const char *const bad[] = {
		"/oc/leak.txt",
		"/oc/../secret.txt",
		"/oc/assets/../../secret.txt",
		"/oc/assets/app.js.gz",
		"/oc/assets/missing.js",
		"/oc/assets",
		"/oc//secret.txt",
		"/oc/fifo",
		"/oc/big.js",
		"/oc/assets/",
		"/oc/a\\..\\..\\secret.txt",
	};
	struct gw_ui_answer a;
	char *p = xasprintf("%s/fifo", r->root);
	int fd;

	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
	/* a sparse file over the cap */
	p = xasprintf("%s/big.js", r->root);
	fd = open(p, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)GW_UI_MAX_ROOT_FILE + 1), 0);
	close(fd);
	free(p);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		answer(r, bad[i], false, "gzip", NULL, &a);
		if (a.status != 404)
			fail_msg("%s: %d", bad[i], a.status);
		assert_null(strstr(a.body.p, "top secret"));
		gw_ui_answer_release(&a);
	}
	/* even for a browser, the symlink out is never the file (the page instead) */
	answer(r, "/oc/leak.txt", true, NULL, NULL, &a);
	assert_null(strstr(a.body.p, "top secret"));
	gw_ui_answer_release(&a);
}

static void test_root_missing(void **state)
{
	struct rootdir *r = *state;
	struct gw_ui_answer a;
	struct gw_ui_plan p = plan_of("/", "", true, true, NULL);
	char *gone = xasprintf("%s/nope", r->dir), *idx = xasprintf("%s/index.html", r->root);

	gw_ui_root_answer(gone, "", &p, NULL, &a);
	assert_int_equal(a.status, 503);
	assert_int_equal(a.root_errno, ENOENT);
	gw_ui_answer_release(&a);
	assert_int_equal(unlink(idx), 0);
	gw_ui_root_answer(r->root, "", &p, NULL, &a);
	assert_int_equal(a.status, 503);
	assert_int_equal(a.root_errno, 0);
	gw_ui_answer_release(&a);
	p = plan_of("/chat", "", true, true, NULL);
	gw_ui_root_answer(r->root, "", &p, NULL, &a);
	assert_int_equal(a.status, 503);
	gw_ui_answer_release(&a);
	free(gone);
	free(idx);
}

static void test_root_rewrite_edges(void **state)
{
	struct buf out, csp;
	static const char page[] = "<HTML>\0<html><script src=\"./assets/a.js\"></script>"
				   "<script>one</script><script\n>two</script><script>";

	buf_init(&out, 1 << 20);
	buf_init(&csp, 1 << 20);
	gw_ui_root_rewrite("/b", page, sizeof(page) - 1, &out, &csp);
	/* stamped once, NULs kept, links anchored */
	assert_int_equal(memcmp(out.p, "<html data-openclaw-control-ui-base-path=\"/b\">", 46), 0);
	assert_int_equal(out.len, sizeof(page) - 1 + 40 + 1);
	assert_non_null(memmem(out.p, out.len, "src=\"/b/assets/a.js\"", 20));
	/* the CSP sees the page up to its first NUL: no inline hashes from after it */
	assert_null(strstr(csp.p, "'sha256-"));
	buf_reset(&out);
	buf_reset(&csp);
	gw_ui_root_rewrite("", "<script>one</script><script\n>two</script><script>x", 50, &out,
			   &csp);
	assert_non_null(strstr(csp.p, "script-src 'self' 'sha256-"));
	assert_non_null(strstr(strstr(csp.p, "'sha256-") + 1, "'sha256-"));
	buf_reset(&out);
	buf_reset(&csp);
	gw_ui_root_rewrite("", "", 0, &out, &csp);
	assert_int_equal(out.len, 0);
	assert_non_null(strstr(csp.p, "default-src 'self'"));
	buf_release(&out);
	buf_release(&csp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_gzip),
		cmocka_unit_test(test_wants_html),
		cmocka_unit_test(test_etag_matches),
		cmocka_unit_test(test_base_path),
		cmocka_unit_test(test_safe_rel),
		cmocka_unit_test(test_resolve_embedded),
		cmocka_unit_test(test_resolve_base_and_apis),
		cmocka_unit_test(test_resolve_root),
		cmocka_unit_test(test_resolve_long_paths),
		cmocka_unit_test_setup_teardown(test_root_index_rewrite_and_304, root_setup,
						root_teardown),
		cmocka_unit_test_setup_teardown(test_root_assets_gzip_and_304, root_setup,
						root_teardown),
		cmocka_unit_test_setup_teardown(test_root_refusals, root_setup, root_teardown),
		cmocka_unit_test_setup_teardown(test_root_missing, root_setup, root_teardown),
		cmocka_unit_test(test_root_rewrite_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
