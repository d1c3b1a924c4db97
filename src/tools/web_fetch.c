/*
 * web_fetch.c - the `web_fetch` tool: fetch a URL and return its readable
 * content, as OpenClaw's (same parameters, config keys and result object).
 *
 * One call is a chain of hops: each hop is one transfer on the runtime's
 * curl-multi client with redirects not followed by curl, so every hop's
 * host goes through the hostname rules and every connection through the
 * SSRF guard (src/net/ssrf.h) at the moment curl opens the socket, on the
 * address it really connects to. The body is kept up to the size cap (the
 * rest is cut, and the result says so); HTML is turned into markdown or
 * text on the thread pool; results are cached in memory for
 * tools.web.fetch.cacheTtlMinutes.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "net/http_client.h"
#include "net/ssrf.h"
#include "tools/html.h"
#include "tools/tool.h"
#include "tools/web.h"

/* OpenClaw's defaults and bounds (src/agents/tools/web-fetch.ts). */
#define WF_DEFAULT_MAX_CHARS     20000
#define WF_DEFAULT_MAX_BYTES     750000
#define WF_MIN_MAX_BYTES         32000
#define WF_MAX_MAX_BYTES         10000000
#define WF_DEFAULT_MAX_REDIRECTS 3
#define WF_DEFAULT_TIMEOUT_S     30
#define WF_DEFAULT_CACHE_TTL_MIN 15
#define WF_ERROR_MAX_BYTES       64000
#define WF_ERROR_MAX_CHARS       4000
#define WF_FIELD_MAX_CHARS       256
#define WF_METADATA_MAX_CHARS    512
#define WF_CACHE_MAX_ENTRIES     100
#define WF_CACHE_MAX_BYTES       (16u << 20)
#define WF_USER_AGENT                                                                              \
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_2) AppleWebKit/537.36 (KHTML, like Gecko) "   \
	"Chrome/122.0.0.0 Safari/537.36"

struct wf {
	struct tool_call *call;
	struct http_client *hc;
	struct http_xfer *x;
	char *url;   /* as asked (sanitized) */
	char *cur;   /* the hop being fetched */
	char *next;  /* where a redirect points */
	char *ctype; /* normalized media type of the final response */
	char *charset;
	char *cache_key;
	int hops, max_redirects;
	enum html_mode mode;
	long max_chars;
	size_t max_bytes;
	int64_t started, deadline;
	int64_t cache_ttl_ms;
	long status;
	bool cut;        /* body reached max_bytes */
	bool aborted;    /* the run gave up */
	bool error_body; /* reading an error response's detail */
	struct buf body;
	/* policy */
	struct web_ssrf ssrf;
	char ua[512];
	/* the worker's results */
	uv_work_t work;
	struct html_result html;
	char *text;
	const char *extractor;
};

/* ==== the cache ==== */

struct wf_cache_entry {
	struct wf_cache_entry *next;
	char *key;
	json_t *payload;
	size_t bytes;
	int64_t expires;
};

static struct wf_cache_entry *wf_cache;
static size_t wf_cache_n, wf_cache_bytes;

static void cache_drop(struct wf_cache_entry **pp)
{
	struct wf_cache_entry *e = *pp;

	*pp = e->next;
	wf_cache_n--;
	wf_cache_bytes -= e->bytes;
	free(e->key);
	json_decref(e->payload);
	free(e);
}

static json_t *cache_get(const char *key)
{
	int64_t now = time_mono_ms();

	for (struct wf_cache_entry **pp = &wf_cache; *pp;) {
		if ((*pp)->expires <= now) {
			cache_drop(pp);
			continue;
		}
		if (!strcmp((*pp)->key, key))
			return json_deep_copy((*pp)->payload);
		pp = &(*pp)->next;
	}
	return NULL;
}

/* Newest first; the oldest go when the count or the bytes pass their bounds. */
static void cache_put(const char *key, const json_t *payload, int64_t ttl_ms)
{
	struct wf_cache_entry *e;
	const char *text = json_string_value(json_object_get(payload, "text"));

	if (ttl_ms <= 0)
		return;
	e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	e->payload = json_deep_copy(payload);
	e->bytes = strlen(key) + (text ? strlen(text) : 0) + 512;
	e->expires = time_mono_ms() + ttl_ms;
	if (e->bytes > WF_CACHE_MAX_BYTES / 4) {
		free(e->key);
		json_decref(e->payload);
		free(e);
		return;
	}
	e->next = wf_cache;
	wf_cache = e;
	wf_cache_n++;
	wf_cache_bytes += e->bytes;
	while (wf_cache_n > WF_CACHE_MAX_ENTRIES || wf_cache_bytes > WF_CACHE_MAX_BYTES) {
		struct wf_cache_entry **pp = &wf_cache;

		while ((*pp)->next)
			pp = &(*pp)->next;
		cache_drop(pp);
	}
}

/* ==== config ==== */

static long cfg_num(const struct config *cfg, const char *path, long dflt)
{
	json_t *v = config_get(cfg, path);

	return json_is_number(v) ? (long)json_number_value(v) : dflt;
}

/* ==== finishing ==== */

static void wf_free(struct wf *w)
{
	free(w->url);
	free(w->cur);
	free(w->next);
	free(w->ctype);
	free(w->charset);
	free(w->cache_key);
	free(w->text);
	html_result_release(&w->html);
	buf_release(&w->body);
	web_ssrf_release(&w->ssrf);
	free(w);
}

static void wf_fail(struct wf *w, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void wf_fail(struct wf *w, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (!w->aborted) {
		w->call->cancel = NULL;
		tool_call_text(w->call, true, "%s", msg);
	}
	free(msg);
	wf_free(w);
}

/* Truncate to `max` characters; sets *cut when something was dropped. */
static char *trunc_chars(const char *s, size_t max, bool *cut)
{
	size_t n = web_prefix_bytes(s, max);

	if (s[n])
		*cut = true;
	return xstrndup(s, n);
}

/*
 * Small metadata (title, warning): wrapped without the notice, bounded by
 * what is left of the metadata budget, as OpenClaw's buildWebFetchPayload.
 */
static char *wrap_meta(const char *value, long *remaining, bool *cut)
{
	size_t overhead = web_wrap_overhead("web_fetch", false);
	long inner;
	char *t, *w;

	if (!value || !*value)
		return NULL;
	inner = *remaining - (long)overhead;
	if (inner > WF_FIELD_MAX_CHARS)
		inner = WF_FIELD_MAX_CHARS;
	if (inner <= 0) {
		*cut = true;
		return NULL;
	}
	t = trunc_chars(value, (size_t)inner, cut);
	w = web_wrap(t, "web_fetch", false);
	free(t);
	*remaining -= (long)web_chars(w);
	return w;
}

/* The body wrapped with the notice, within `max` characters in all. */
static char *wrap_body(const char *text, long max, bool *cut)
{
	size_t with = web_wrap_overhead("web_fetch", true);
	size_t without = web_wrap_overhead("web_fetch", false);
	bool warn = max >= (long)with;
	size_t overhead = warn ? with : without;
	char *inner, *clean, *w;

	if (max <= (long)overhead) {
		*cut = true;
		w = web_wrap("", "web_fetch", false);
		w[web_prefix_bytes(w, max > 0 ? (size_t)max : 0)] = '\0';
		return w;
	}
	/* Sanitizing may lengthen the text: cut what goes into the wrapper after it. */
	clean = web_sanitize(text);
	inner = trunc_chars(clean, (size_t)max - overhead, cut);
	w = web_wrap(inner, "web_fetch", warn);
	free(inner);
	free(clean);
	return w;
}

static json_t *wf_payload(struct wf *w, const char *text, const char *title, const char *warning)
{
	long remaining =
		WF_METADATA_MAX_CHARS < w->max_chars / 2 ? WF_METADATA_MAX_CHARS : w->max_chars / 2;
	bool meta_cut = false, body_cut = false;
	char *wwarn = wrap_meta(warning, &remaining, &meta_cut);
	char *wtitle = wrap_meta(title, &remaining, &meta_cut);
	long body_max = w->max_chars - (wtitle ? (long)web_chars(wtitle) : 0) -
			(wwarn ? (long)web_chars(wwarn) : 0);
	char *wbody = wrap_body(text, body_max, &body_cut);
	char at[40];
	json_t *p = json_object();

	time_iso8601(time_now_ms(), at, sizeof(at));
	json_object_set_new(p, "url", json_string(w->url));
	json_object_set_new(p, "finalUrl", json_string(w->cur));
	if (w->ctype)
		json_object_set_new(p, "contentType", json_string(w->ctype));
	json_object_set_new(p, "status", json_integer(w->status));
	if (wtitle)
		json_object_set_new(p, "title", json_string(wtitle));
	json_object_set_new(p, "extractMode",
			    json_string(w->mode == HTML_TEXT ? "text" : "markdown"));
	json_object_set_new(p, "extractor", json_string(w->extractor));
	json_object_set_new(
		p, "externalContent",
		json_pack("{s:b, s:s, s:b}", "untrusted", 1, "source", "web_fetch", "wrapped", 1));
	json_object_set_new(p, "truncated", json_boolean(body_cut || meta_cut || w->cut));
	json_object_set_new(p, "length", json_integer((json_int_t)web_chars(wbody)));
	json_object_set_new(p, "rawLength", json_integer((json_int_t)web_chars(text)));
	json_object_set_new(p, "fetchedAt", json_string(at));
	json_object_set_new(p, "tookMs", json_integer(time_mono_ms() - w->started));
	json_object_set_new(p, "text", json_string(wbody));
	if (wwarn)
		json_object_set_new(p, "warning", json_string(wwarn));
	free(wwarn);
	free(wtitle);
	free(wbody);
	return p;
}

static void wf_answer(struct wf *w, json_t *payload)
{
	char *s = json_dumps(payload, JSON_INDENT(2));

	if (!w->aborted) {
		w->call->cancel = NULL;
		tool_call_done(w->call, json_pack("[{s:s, s:s}]", "type", "text", "text", s),
			       false);
	}
	free(s);
}

static void wf_succeed(struct wf *w, const char *text, const char *title)
{
	char warning[96] = "";
	json_t *p;

	if (w->cut)
		snprintf(warning, sizeof(warning), "Response body incomplete after %zu bytes.",
			 w->body.len);
	p = wf_payload(w, text, title, warning);
	cache_put(w->cache_key, p, w->cache_ttl_ms);
	wf_answer(w, p);
	json_decref(p);
	wf_free(w);
}

/* ==== content ==== */

static bool is_json_type(const char *t)
{
	size_t n = strlen(t);

	return !strcmp(t, "application/json") || (n > 5 && !strcmp(t + n - 5, "+json")) ||
	       !strcmp(t, "text/json");
}

static bool is_html_type(const char *t)
{
	return !strcmp(t, "text/html") || !strcmp(t, "application/xhtml+xml");
}

/* Text we can pass through; anything else must prove it has no NULs. */
static bool is_text_type(const char *t)
{
	static const char *const text_apps[] = {
		"application/xml",        "application/javascript",
		"application/ecmascript", "application/x-javascript",
		"application/yaml",       "application/x-yaml",
		"application/toml",       "application/x-www-form-urlencoded",
		"application/x-sh",       "application/sql",
		"application/graphql",    "application/rtf",
	};
	size_t n = strlen(t), i;

	if (!strncmp(t, "text/", 5) || is_json_type(t) || (n > 4 && !strcmp(t + n - 4, "+xml")))
		return true;
	for (i = 0; i < sizeof(text_apps) / sizeof(text_apps[0]); i++)
		if (!strcmp(t, text_apps[i]))
			return true;
	return false;
}

static bool is_binary_type(const char *t)
{
	static const char *const prefixes[] = { "image/", "audio/", "video/", "font/", "model/" };
	static const char *const apps[] = {
		"application/octet-stream",
		"application/pdf",
		"application/zip",
		"application/gzip",
		"application/x-gzip",
		"application/x-tar",
		"application/x-bzip2",
		"application/x-xz",
		"application/x-7z-compressed",
		"application/wasm",
		"application/msword",
		"application/x-rar-compressed",
		"application/vnd.ms-excel",
		"application/x-msdownload",
	};
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(t, prefixes[i], strlen(prefixes[i])))
			return true;
	for (i = 0; i < sizeof(apps) / sizeof(apps[0]); i++)
		if (!strcmp(t, apps[i]))
			return true;
	return !strncmp(t, "application/vnd.", 16) && !strstr(t, "json") && !strstr(t, "xml");
}

/* "Text/HTML; charset=UTF-8" -> type "text/html", charset "UTF-8". */
static void parse_ctype(const char *h, char **type, char **charset)
{
	const char *semi, *cs;
	size_t n, i;

	*charset = NULL;
	if (!h || !*h) {
		*type = xstrdup("application/octet-stream");
		return;
	}
	while (*h == ' ')
		h++;
	semi = strchr(h, ';');
	n = semi ? (size_t)(semi - h) : strlen(h);
	while (n && h[n - 1] == ' ')
		n--;
	*type = xstrndup(h, n);
	for (i = 0; (*type)[i]; i++)
		if ((*type)[i] >= 'A' && (*type)[i] <= 'Z')
			(*type)[i] += 32;
	if (semi && (cs = strcasestr(semi, "charset="))) {
		cs += 8;
		if (*cs == '"')
			cs++;
		n = strcspn(cs, "\"; ");
		if (n && n < 64)
			*charset = xstrndup(cs, n);
	}
}

static void wf_html_work(uv_work_t *req)
{
	struct wf *w = req->data;
	char err[128];

	if (html_extract(w->body.p, w->body.len, w->cur, w->charset, w->mode,
			 (size_t)WF_MAX_MAX_BYTES * 2, &w->html, err, sizeof(err)) < 0)
		w->text = NULL;
}

static void wf_html_done(uv_work_t *req, int status)
{
	struct wf *w = req->data;
	char *text, *title;

	if (w->aborted || status < 0) {
		wf_free(w);
		return;
	}
	if (!w->html.text || !*w->html.text) {
		wf_fail(w, "Web fetch extraction failed: basic HTML cleanup returned no content.");
		return;
	}
	text = web_utf8_clean(w->html.text, strlen(w->html.text));
	title = w->html.title ? web_utf8_clean(w->html.title, strlen(w->html.title)) : NULL;
	w->extractor = "html";
	wf_succeed(w, text, title);
	free(text);
	free(title);
}

/* The final response is in: turn it into text. */
static void wf_process(struct wf *w)
{
	char *text, *pretty = NULL;

	if (is_binary_type(w->ctype) ||
	    (!is_text_type(w->ctype) && memchr(w->body.p, '\0', w->body.len))) {
		wf_fail(w,
			"Web fetch refused: %s is binary content (%zu bytes read); web_fetch "
			"returns text only",
			w->ctype, w->body.len);
		return;
	}
	if (is_html_type(w->ctype)) {
		w->work.data = w;
		/* html_extract loads libxml2 on first use, on the worker thread, not here */
		if (uv_queue_work(w->call->env.loop, &w->work, wf_html_work, wf_html_done) < 0)
			wf_fail(w, "Web fetch failed: cannot schedule HTML extraction");
		return;
	}
	text = web_utf8_clean(w->body.p, w->body.len);
	w->extractor = "raw";
	if (!strcmp(w->ctype, "text/markdown")) {
		w->extractor = "cf-markdown";
		if (w->mode == HTML_TEXT) {
			char *t = html_markdown_to_text(text);

			free(text);
			text = t;
		}
	} else if (is_json_type(w->ctype) && !w->cut) {
		json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

		if (j) {
			pretty = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);
			json_decref(j);
		}
		if (pretty) {
			free(text);
			text = pretty;
			w->extractor = "json";
		}
	}
	wf_succeed(w, text, NULL);
	free(text);
}

/* An error response: its detail (HTML made readable) in the message, as OpenClaw's. */
static void wf_http_error(struct wf *w)
{
	char *detail = web_utf8_clean(w->body.p, w->body.len), *shown = detail, *wrapped;
	struct html_result h = { 0 };
	char err[64];
	bool cut = false;

	if (is_html_type(w->ctype) || !strncasecmp(detail, "<!doctype html", 14) ||
	    !strncasecmp(detail, "<html", 5)) {
		if (html_extract(w->body.p, w->body.len, w->cur, w->charset, HTML_TEXT, 65536, &h,
				 err, sizeof(err)) == 0) {
			shown = h.title && *h.title ? xasprintf("%s\n%s", h.title, h.text)
						    : xstrdup(h.text);
			free(detail);
			detail = shown;
		}
	}
	if (!*shown)
		shown = (char *)"(no detail)";
	wrapped = wrap_body(shown, WF_ERROR_MAX_CHARS, &cut);
	wf_fail(w, "Web fetch failed (%ld): %s", w->status, wrapped);
	free(wrapped);
	free(detail);
	html_result_release(&h);
}

/* ==== transfers ==== */

static void wf_hop(struct wf *w);

static int wf_on_response(void *ud, struct http_xfer *x, long status)
{
	struct wf *w = ud;
	const char *loc;

	w->status = status;
	free(w->ctype);
	free(w->charset);
	parse_ctype(http_xfer_header(x, "Content-Type"), &w->ctype, &w->charset);
	if (status >= 300 && status < 400 && (loc = http_xfer_header(x, "Location")) && *loc) {
		free(w->next);
		w->next = xstrdup(loc);
		return 1; /* the body of a redirect is not wanted */
	}
	w->error_body = status >= 400 || status < 200;
	return 0;
}

static int wf_on_data(void *ud, struct http_xfer *x, const char *data, size_t len)
{
	struct wf *w = ud;
	size_t cap = w->error_body ? WF_ERROR_MAX_BYTES : w->max_bytes;
	size_t room = cap > w->body.len ? cap - w->body.len : 0;

	if (len > room) {
		buf_append(&w->body, data, room);
		w->cut = true;
		return 1; /* enough: stop reading, keep what we have */
	}
	buf_append(&w->body, data, len);
	return 0;
}

static void wf_on_done(void *ud, struct http_xfer *x, int result, const char *errmsg)
{
	struct wf *w = ud;

	w->x = NULL;
	if (result == HTTP_E_CALLBACK && w->next) {
		/* A redirect: resolve it against this hop and go again. */
		CURLU *u = curl_url();
		char *abs = NULL;

		curl_url_set(u, CURLUPART_URL, w->cur, 0);
		if (curl_url_set(u, CURLUPART_URL, w->next, 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_URL, &abs, 0) != CURLUE_OK) {
			curl_url_cleanup(u);
			wf_fail(w, "Web fetch failed: bad redirect location");
			return;
		}
		curl_url_cleanup(u);
		free(w->cur);
		w->cur = xstrdup(abs);
		curl_free(abs);
		free(w->next);
		w->next = NULL;
		if (++w->hops > w->max_redirects) {
			wf_fail(w, "Web fetch failed: too many redirects (limit: %d)",
				w->max_redirects);
			return;
		}
		wf_hop(w);
		return;
	}
	if (result == HTTP_E_CALLBACK && w->cut)
		result = HTTP_OK; /* we stopped at the cap */
	switch (result) {
	case HTTP_OK:
		break;
	case HTTP_E_BLOCKED:
		wf_fail(w, "Web fetch blocked (SSRF guard): %s", errmsg);
		return;
	case HTTP_E_TIMEOUT:
	case HTTP_E_STALLED:
		if (w->body.len && !w->error_body) {
			/* What arrived before the time cap is still worth returning. */
			w->cut = true;
			break;
		}
		wf_fail(w,
			"Web fetch failed: timed out after %lld s (tools.web.fetch.timeoutSeconds)",
			(long long)((w->deadline - w->started + 999) / 1000));
		return;
	case HTTP_E_SHUTDOWN:
		wf_fail(w, "Web fetch failed: the gateway is shutting down");
		return;
	default:
		wf_fail(w, "Web fetch failed: %s", errmsg);
		return;
	}
	if (w->error_body) {
		wf_http_error(w);
		return;
	}
	wf_process(w);
}

static const struct http_callbacks wf_cb = { wf_on_response, wf_on_data, wf_on_done };

static void wf_hop(struct wf *w)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, why[300], ua_header[600];
	int64_t left = w->deadline - time_mono_ms();
	const char *headers[4];
	struct http_request rq = { 0 };
	int h;

	if (curl_url_set(u, CURLUPART_URL, w->cur, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcasecmp(scheme, "http") && strcasecmp(scheme, "https")) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		curl_free(scheme);
		curl_url_cleanup(u);
		wf_fail(w, "Invalid URL: must be http or https%s", w->hops ? " (redirect)" : "");
		return;
	}
	curl_free(scheme);
	curl_url_cleanup(u);
	h = ssrf_check_host(&w->ssrf.pol, host, why, sizeof(why));
	curl_free(host);
	if (h < 0) {
		wf_fail(w, "Web fetch blocked (SSRF guard): %s", why);
		return;
	}
	if (left <= 0) {
		wf_fail(w, "Web fetch failed: timed out (tools.web.fetch.timeoutSeconds)");
		return;
	}
	buf_reset(&w->body);
	w->cut = false;
	w->error_body = false;
	snprintf(ua_header, sizeof(ua_header), "User-Agent: %s", w->ua);
	headers[0] = "Accept: text/markdown, text/html;q=0.9, */*;q=0.1";
	headers[1] = ua_header;
	headers[2] = "Accept-Language: en-US,en;q=0.9";
	headers[3] = NULL;
	rq.url = w->cur;
	rq.headers = headers;
	rq.total_timeout_ms = (long)left;
	rq.connect_timeout_ms = left < 10000 ? (long)left : 10000;
	/* Allowlisted names skip the address checks, as in OpenClaw. */
	rq.guard = h == 1 || w->ssrf.pol.allow_private ? NULL : web_ssrf_guard;
	rq.guard_arg = &w->ssrf;
	rq.resolve = web_test_resolve();
	w->x = http_client_start(w->hc, &rq, &wf_cb, w);
	if (!w->x)
		wf_fail(w, "Invalid URL: must be http or https");
}

static void wf_cancel(struct tool_call *call)
{
	struct wf *w = call->data;

	/* Answer now; whatever is in flight is dropped. */
	w->aborted = true;
	call->cancel = NULL;
	tool_call_text(call, true, "Web fetch aborted");
	if (w->x) {
		http_xfer_cancel(w->x);
		w->x = NULL;
		wf_free(w);
	}
	/* else the HTML worker is running: its done callback frees */
}

/* Strip what models put around URLs: outer whitespace, "https:// host". */
static char *sanitize_url(const char *raw)
{
	const char *s = raw, *e;
	struct buf b;

	while (*s && (unsigned char)*s <= ' ')
		s++;
	e = s + strlen(s);
	while (e > s && (unsigned char)e[-1] <= ' ')
		e--;
	buf_init(&b, BUF_UNLIMITED);
	if ((e - s > 7 && !strncasecmp(s, "http://", 7)) ||
	    (e - s > 8 && !strncasecmp(s, "https://", 8))) {
		size_t pre = s[4] == ':' ? 7 : 8;

		buf_append(&b, s, pre);
		s += pre;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
	}
	buf_append(&b, s, (size_t)(e - s));
	return buf_detach(&b, NULL);
}

static void t_web_fetch(struct tool_call *call)
{
	const struct config *cfg = call->env.cfg;
	json_t *a = call->args, *jmc = json_object_get(a, "maxChars");
	const char *url = json_string_value(json_object_get(a, "url"));
	const char *mode = json_string_value(json_object_get(a, "extractMode"));
	const char *ua = config_get_str(cfg, "tools.web.fetch.userAgent");
	long cap, mb, timeout_s, req_chars;
	json_t *cached;
	struct wf *w;

	if (json_is_false(config_get(cfg, "tools.web.fetch.enabled"))) {
		tool_call_text(call, true, "web_fetch is disabled.");
		return;
	}
	if (!url || !*url) {
		tool_call_text(call, true, "url required");
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->call = call;
	w->url = sanitize_url(url);
	w->cur = xstrdup(w->url);
	w->mode = mode && !strcmp(mode, "text") ? HTML_TEXT : HTML_MARKDOWN;
	cap = cfg_num(cfg, "tools.web.fetch.maxCharsCap", WF_DEFAULT_MAX_CHARS);
	if (cap < 100)
		cap = 100;
	req_chars = json_is_number(jmc)
			    ? (long)json_number_value(jmc)
			    : cfg_num(cfg, "tools.web.fetch.maxChars", WF_DEFAULT_MAX_CHARS);
	w->max_chars = req_chars < 100 ? 100 : req_chars > cap ? cap : req_chars;
	mb = cfg_num(cfg, "tools.web.fetch.maxResponseBytes", WF_DEFAULT_MAX_BYTES);
	w->max_bytes = mb <= 0                 ? WF_DEFAULT_MAX_BYTES
		       : mb < WF_MIN_MAX_BYTES ? WF_MIN_MAX_BYTES
		       : mb > WF_MAX_MAX_BYTES ? WF_MAX_MAX_BYTES
					       : (size_t)mb;
	w->max_redirects =
		(int)cfg_num(cfg, "tools.web.fetch.maxRedirects", WF_DEFAULT_MAX_REDIRECTS);
	if (w->max_redirects < 0)
		w->max_redirects = 0;
	timeout_s = cfg_num(cfg, "tools.web.fetch.timeoutSeconds", WF_DEFAULT_TIMEOUT_S);
	if (timeout_s <= 0)
		timeout_s = WF_DEFAULT_TIMEOUT_S;
	w->cache_ttl_ms =
		cfg_num(cfg, "tools.web.fetch.cacheTtlMinutes", WF_DEFAULT_CACHE_TTL_MIN) * 60000;
	snprintf(w->ua, sizeof(w->ua), "%s",
		 ua && *ua && !strpbrk(ua, "\r\n") ? ua : WF_USER_AGENT);
	web_ssrf_load(cfg, &w->ssrf);
	buf_init(&w->body, BUF_UNLIMITED);
	w->started = time_mono_ms();
	w->deadline = w->started + timeout_s * 1000;

	/* The policy is part of the key: a looser one must not serve a stricter one. */
	{
		json_t *pol = config_get(cfg, "tools.web.fetch.ssrfPolicy");
		char *ps = pol ? json_dumps(pol, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

		w->cache_key = xasprintf("fetch:%s:%s:%ld:%s:%d:%s", w->url,
					 w->mode == HTML_TEXT ? "text" : "markdown", w->max_chars,
					 w->ua, w->ssrf.pol.allow_private, ps ? ps : "");
		free(ps);
	}
	if ((cached = cache_get(w->cache_key))) {
		json_object_set_new(cached, "cached", json_true());
		wf_answer(w, cached);
		json_decref(cached);
		wf_free(w);
		return;
	}
	w->hc = web_http(call);
	if (!w->hc) {
		wf_fail(w, "Web fetch failed: no HTTP client");
		return;
	}
	call->data = w;
	call->cancel = wf_cancel;
	wf_hop(w);
}

static char *wf_title(const json_t *args)
{
	const char *url = json_string_value(json_object_get(args, "url"));

	return url ? xasprintf("Fetch %s", url) : NULL;
}

const struct tool_def tool_web_fetch = {
	.name = "web_fetch",
	.group = "web",
	.description = "Fetch URL; extract readable markdown/text. Lightweight; no browser "
		       "automation.",
	.parameters = "{\"type\":\"object\",\"properties\":{"
		      "\"url\":{\"type\":\"string\",\"description\":\"HTTP(S) URL.\"},"
		      "\"extractMode\":{\"type\":\"string\",\"enum\":[\"markdown\",\"text\"],"
		      "\"description\":\"Extract as markdown/text.\",\"default\":\"markdown\"},"
		      "\"maxChars\":{\"type\":\"integer\",\"description\":\"Max chars returned; "
		      "truncates.\",\"minimum\":100}},"
		      "\"required\":[\"url\"]}",
	.invoke = t_web_fetch,
	.title = wf_title,
};
