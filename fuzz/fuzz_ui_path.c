/*
 * fuzz_ui_path.c - libFuzzer target for the Control UI's request decisions
 * (src/gateway/ui.c): gw_ui_base_path, gw_ui_resolve with its header
 * parsers, gw_ui_etag_matches and the root index.html rewrite.
 *
 * The input is split at '\n' into: flags, path, Accept, Accept-Encoding,
 * If-None-Match, basePath as configured, and the rest (an index.html for
 * the rewrite). Flag bit 0 serves a root directory, bit 1 drops the
 * headers. A path is given as the HTTP server would hand it, but nothing
 * is assumed of it: any bytes at all.
 *
 * Checked: the base path is "" or a normalised "/a/b" that normalises to
 * itself; every plan that names a file names a plain relative path (no
 * "." or ".." segment, no "//", no backslash or control byte, within the
 * length cap), an index plan names an index.html, a redirect goes to the
 * base with a slash, and a request outside the base is never the UI's;
 * the rewrite keeps every byte and adds only the base where it belongs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"
#include "gateway/ui.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FIELDS 6

static void fuzz_check_plan(const struct gw_ui_plan *p, const char *base, const char *path)
{
	size_t blen = strlen(base);

	switch (p->action) {
	case GW_UI_PASS:
	case GW_UI_NOT_FOUND:
	case GW_UI_BOOTSTRAP:
		break;
	case GW_UI_REDIRECT:
		if (!blen || strncmp(p->location, base, blen) || strcmp(p->location + blen, "/"))
			abort();
		break;
	case GW_UI_INDEX:
		if (strcmp(p->name, "index.html") && !str_ends_with(p->name, "/index.html"))
			abort();
		/* fall through */
	case GW_UI_FILE:
		if (!gw_ui_safe_rel(p->name) || strlen(p->name) > GW_UI_MAX_PATH)
			abort();
		if (str_ends_with(p->name, ".gz") || str_ends_with(p->name, ".br"))
			abort();
		/* Only hashed assets are immutable: the embedded build's, a root's assets/. */
		if (p->immutable && !str_starts_with(p->name, "assets/") &&
		    strncmp(path, "/_/", 3) && !strstr(path, "/_/"))
			abort();
		break;
	default:
		abort();
	}
	/* Below the base, or nothing of the UI's (the redirects excepted). */
	if (p->action != GW_UI_PASS && p->action != GW_UI_REDIRECT && blen &&
	    (strncmp(path, base, blen) || path[blen] != '/'))
		abort();
}

static void fuzz_check_base(const char *configured, char *base)
{
	char again[GW_UI_MAX_BASE_PATH + 2];

	if (gw_ui_base_path(configured, base) < 0) {
		if (*base)
			abort();
		return;
	}
	if (!*base)
		return;
	if (base[0] != '/' || strstr(base, "//") || str_ends_with(base, "/") ||
	    strlen(base) > GW_UI_MAX_BASE_PATH + 1)
		abort();
	if (gw_ui_base_path(base, again) < 0 || strcmp(again, base))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *f[FUZZ_FIELDS] = { 0 }, *p, base[GW_UI_MAX_BASE_PATH + 2];
	size_t restlen = 0;
	struct gw_ui_request r = { 0 };
	struct gw_ui_plan plan;
	struct buf out, csp;
	unsigned flags;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	p = copy;
	for (int i = 0; i < FUZZ_FIELDS && p; i++) {
		char *nl = i < FUZZ_FIELDS - 1 ? strchr(p, '\n') : NULL;

		f[i] = p;
		if (nl)
			*nl = '\0';
		p = nl ? nl + 1 : NULL;
	}
	if (p)
		restlen = size - (size_t)(p - copy);
	flags = f[0] && *f[0] ? (unsigned char)*f[0] : 0;

	fuzz_check_base(f[5], base);
	r.path = f[1] ? f[1] : "/";
	if (!(flags & 2)) {
		r.accept = f[2];
		r.accept_encoding = f[3];
	}
	r.base = base;
	r.root = flags & 1;
	r.build = "0123456789ab";
	gw_ui_resolve(&r, &plan);
	fuzz_check_plan(&plan, base, r.path);
	(void)gw_ui_etag_matches(f[4], "\"0123456789abcdef0123\"");
	(void)gw_ui_etag_matches(f[4], f[3] ? f[3] : "");

	if (p) {
		size_t links = 0;

		/* Each rewritten link loses "." and gains the base; <html> gains an attribute. */
		for (const char *q = p;
		     (q = memmem(q, restlen - (size_t)(q - p), "=\"./assets/", 11)); q++)
			links++;
		buf_init(&out, 1u << 24);
		buf_init(&csp, 1u << 24);
		gw_ui_root_rewrite(base, p, restlen, &out, &csp);
		if (out.len + links < restlen || strncmp(csp.p, "default-src 'self'", 18) ||
		    !str_ends_with(csp.p, "connect-src 'self' ws: wss: data:"))
			abort();
		if (out.len > restlen + links * strlen(base) + 40 + strlen(base))
			abort();
		buf_release(&out);
		buf_release(&csp);
	}
	free(copy);
	return 0;
}
