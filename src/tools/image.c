/*
 * image.c - the `view_image` tool (OpenClaw's image understanding tool,
 * formerly `image`): load local, data: or fetched images and let a
 * vision-capable model look at them.
 *
 * Two routes, as OpenClaw 2026.9.6 takes them:
 *  - native: the session's own model accepts images (and no `model` was
 *    asked for), so the images go back as image blocks of the tool result
 *    and the model sees them in its next call;
 *  - one-shot: otherwise one model call with a single user message (the
 *    prompt and the images) goes to `model`, else agents.defaults.imageModel
 *    {primary, fallbacks}, and the tool answers with that model's text.
 *
 * Everything happens on the loop without blocking it: files are read on
 * the thread pool, names resolved with uv_getaddrinfo, fetches and the
 * model call go through the shared curl-multi client. Each image is loaded
 * in turn (in the order given); a failure of any one fails the call with a
 * message naming it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/internal.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "net/http_client.h"
#include "providers/auth.h"
#include "providers/catalog.h"
#include "providers/provider.h"
#include "tools/tool.h"
#include "tools/web.h"

#define IMG_SUBSYS           "tools"
#define IMG_DEFAULT_PROMPT   "Describe the image."
#define IMG_DEFAULT_MAX      20 /* maxImages default */
#define IMG_HARD_MAX_IMAGES  64
#define IMG_DEFAULT_MAX_MB   20.0 /* agents.defaults.mediaMaxMb's default */
#define IMG_HARD_MAX_BYTES   (64u * 1024 * 1024)
#define IMG_MAX_REDIRECTS    3
#define IMG_FETCH_TIMEOUT_MS 60000
#define IMG_FETCH_IDLE_MS    30000
#define IMG_MODEL_TIMEOUT_MS 60000 /* OpenClaw's DEFAULT_TIMEOUT_SECONDS.image */
#define IMG_MODEL_MAX_TOKENS 4096
#define IMG_MAX_URL          8192

enum img_phase { IMG_IDLE, IMG_READING, IMG_FETCHING, IMG_CALLING };

struct img_job {
	struct tool_call *call; /* NULL once answered: the engine may free it then */
	uv_loop_t *loop;
	struct agent_rt *rt;
	struct auth_store *auth;
	char *workspace;
	bool workspace_only;
	struct web_ssrf ssrf; /* the fetch SSRF policy, copied at the start */
	size_t max_bytes;
	char *prompt;
	json_t *refs;   /* the image references, in order */
	size_t next;    /* refs loaded so far */
	json_t *images; /* loaded image blocks {type:"image", data, mimeType} */
	bool native;
	json_t *chain; /* model refs for the one-shot route */
	size_t chain_i;
	json_t *failures; /* "provider/model: why" per failed attempt */
	long model_timeout_ms;

	enum img_phase phase;
	bool cancelled;
	/* a file read on the thread pool */
	uv_work_t work;
	char *w_path;          /* in: what to read */
	char w_err[512];       /* out */
	unsigned char *w_data; /* out */
	size_t w_len;          /* out */
	/* a fetch */
	char *url;
	char host[256];
	bool host_allowlisted; /* tools.web.fetch.ssrfPolicy.allowedHostnames names it */
	int redirects;
	struct http_xfer *xfer;
	struct buf body;
	bool body_init;
	/* the model call */
	struct prov_model model;
	bool model_set;
	struct auth_candidate *cands;
	size_t ncands, cand_i;
	struct prov_call *pc;
	json_t *req_msgs;
};

static void img_next(struct img_job *j);
static void img_call_next(struct img_job *j);

/* ==== lifetime ==== */

static void img_free(struct img_job *j)
{
	if (j->xfer)
		http_xfer_cancel(j->xfer);
	if (j->pc)
		json_decref(prov_call_abort(j->pc));
	if (j->body_init)
		buf_release(&j->body);
	if (j->model_set)
		prov_model_release(&j->model);
	auth_candidates_free(j->cands, j->ncands);
	json_decref(j->req_msgs);
	json_decref(j->refs);
	json_decref(j->images);
	json_decref(j->chain);
	json_decref(j->failures);
	free(j->w_path);
	free(j->w_data);
	free(j->url);
	free(j->workspace);
	free(j->prompt);
	web_ssrf_release(&j->ssrf);
	free(j);
}

/* Answer once; `content` stolen. The job lives on only while a uv request is pending. */
static void img_answer(struct img_job *j, json_t *content, bool is_error)
{
	struct tool_call *call = j->call;

	j->call = NULL;
	if (call)
		tool_call_done(call, content, is_error);
	else
		json_decref(content);
}

static void img_fail(struct img_job *j, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void img_fail(struct img_job *j, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	img_answer(j, json_pack("[{s:s, s:s}]", "type", "text", "text", s), true);
	free(s);
	j->phase = IMG_IDLE;
	img_free(j);
}

static void img_cancel(struct tool_call *call)
{
	struct img_job *j = call->data;

	if (!j || !j->call)
		return;
	img_answer(j, json_pack("[{s:s, s:s}]", "type", "text", "text", "view_image aborted"),
		   true);
	j->cancelled = true;
	/* A thread-pool read cannot be taken back: its callback frees the job. */
	if (j->phase == IMG_READING) {
		uv_cancel((uv_req_t *)&j->work);
		return;
	}
	img_free(j);
}

/* ==== what the bytes are ==== */

/* The image type by magic bytes (never by name or Content-Type), or NULL. */
static const char *img_sniff(const unsigned char *p, size_t n)
{
	if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
		return "image/png";
	if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return "image/jpeg";
	if (n >= 6 && (!memcmp(p, "GIF87a", 6) || !memcmp(p, "GIF89a", 6)))
		return "image/gif";
	if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4))
		return "image/webp";
	return NULL;
}

/* Add the loaded bytes as an image block, or fail the call. Takes `data`. */
static int img_add(struct img_job *j, const char *ref, unsigned char *data, size_t len)
{
	const char *mime = img_sniff(data, len);
	char *b64;

	if (!len) {
		free(data);
		img_fail(j, "image is empty: %s", ref);
		return -1;
	}
	if (len > j->max_bytes) {
		free(data);
		img_fail(j, "image too large: %s is %zu bytes (limit %zu; maxBytesMb raises it)",
			 ref, len, j->max_bytes);
		return -1;
	}
	if (!mime) {
		free(data);
		img_fail(j, "not an image: %s (supported: png, jpeg, gif, webp)", ref);
		return -1;
	}
	b64 = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, data, (int)len);
	free(data);
	json_array_append_new(j->images, json_pack("{s:s, s:s, s:s}", "type", "image", "data", b64,
						   "mimeType", mime));
	free(b64);
	return 0;
}

/* ==== data: URLs ==== */

static void img_load_data_url(struct img_job *j, const char *ref)
{
	const char *comma = strchr(ref, ','), *p;
	unsigned char *out;
	size_t n = 0, cap;
	char *clean;

	if (!comma || (size_t)(comma - ref) < 12 || strncasecmp(comma - 7, ";base64", 7)) {
		img_fail(j, "invalid data URL (expected base64 data: URL)");
		return;
	}
	if (strncasecmp(ref, "data:image/", 11)) {
		img_fail(j, "unsupported data URL type: %.*s", (int)(comma - ref - 12), ref + 5);
		return;
	}
	/* Line breaks are allowed in the text (OpenClaw accepts them); the decoder does not. */
	clean = xmalloc(strlen(comma + 1) + 1);
	for (p = comma + 1; *p; p++)
		if (*p != '\r' && *p != '\n')
			clean[n++] = *p;
	clean[n] = '\0';
	if (n / 4 * 3 > j->max_bytes + 2) {
		free(clean);
		img_fail(j, "invalid data URL: payload exceeds size limit (%zu bytes)",
			 j->max_bytes);
		return;
	}
	cap = B64URL_DECODED_MAX(n) + 1;
	out = xmalloc(cap);
	if (b64url_decode(clean, out, cap, &n) < 0) {
		free(clean);
		free(out);
		img_fail(j, "invalid data URL (expected base64 data: URL)");
		return;
	}
	free(clean);
	if (img_add(j, "data: URL", out, n) < 0)
		return;
	j->next++;
	img_next(j);
}

/* ==== local files ==== */

/* Is `path` (resolved) inside `root` (resolved)? */
static bool img_inside(const char *path, const char *root)
{
	size_t n = strlen(root);

	while (n > 1 && root[n - 1] == '/')
		n--;
	return !strncmp(path, root, n) && (path[n] == '/' || path[n] == '\0');
}

/* Runs on the thread pool: resolve, confine, stat, read. */
static void img_read_work(uv_work_t *w)
{
	struct img_job *j = w->data;
	char real[PATH_MAX], wsreal[PATH_MAX];
	struct stat st;
	unsigned char *data;
	size_t got = 0;
	ssize_t r;
	int fd;

	if (!realpath(j->w_path, real)) {
		snprintf(j->w_err, sizeof(j->w_err), "image not found: %s (%s)", j->w_path,
			 strerror(errno));
		return;
	}
	if (j->workspace_only) {
		if (!j->workspace || !realpath(j->workspace, wsreal) || !img_inside(real, wsreal)) {
			snprintf(j->w_err, sizeof(j->w_err),
				 "path outside the workspace: %s (tools.fs.workspaceOnly is on)",
				 j->w_path);
			return;
		}
	}
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(j->w_err, sizeof(j->w_err), "cannot read %s: %s", j->w_path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(j->w_err, sizeof(j->w_err), "not a regular file: %s", j->w_path);
		close(fd);
		return;
	}
	if ((size_t)st.st_size > j->max_bytes) {
		snprintf(j->w_err, sizeof(j->w_err),
			 "image too large: %s is %lld bytes (limit %zu; maxBytesMb raises it)",
			 j->w_path, (long long)st.st_size, j->max_bytes);
		close(fd);
		return;
	}
	/* Read at most one byte more than allowed: the file may grow under us. */
	data = xmalloc(j->max_bytes + 1);
	while (got <= j->max_bytes && (r = read(fd, data + got, j->max_bytes + 1 - got)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			snprintf(j->w_err, sizeof(j->w_err), "cannot read %s: %s", j->w_path,
				 strerror(errno));
			free(data);
			close(fd);
			return;
		}
		got += (size_t)r;
	}
	close(fd);
	j->w_data = data;
	j->w_len = got;
}

static void img_read_done(uv_work_t *w, int status)
{
	struct img_job *j = w->data;
	unsigned char *data = j->w_data;
	char *ref;

	j->w_data = NULL;
	j->phase = IMG_IDLE;
	if (j->cancelled || status == UV_ECANCELED) {
		free(data);
		img_free(j);
		return;
	}
	if (j->w_err[0]) {
		free(data);
		img_fail(j, "%s", j->w_err);
		return;
	}
	ref = xstrdup(j->w_path);
	if (img_add(j, ref, data, j->w_len) < 0) {
		free(ref);
		return;
	}
	free(ref);
	j->next++;
	img_next(j);
}

/* "%41" -> "A" in place (file:// URLs). */
static void img_percent_decode(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
			char h[3] = { s[1], s[2], 0 };
			*o++ = (char)strtol(h, NULL, 16);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static void img_load_file(struct img_job *j, const char *ref)
{
	const char *home = getenv("HOME");
	char *path;
	int r;

	if (!strncasecmp(ref, "file://", 7)) {
		const char *p = ref + 7;
		if (!strncasecmp(p, "localhost/", 10))
			p += 9;
		if (*p != '/') {
			img_fail(j, "unsupported file URL: %s (expected file:///absolute/path)",
				 ref);
			return;
		}
		path = xstrdup(p);
		img_percent_decode(path);
	} else if (ref[0] == '~' && (ref[1] == '/' || !ref[1]) && home) {
		path = xasprintf("%s%s", home, ref + 1);
	} else if (ref[0] == '/') {
		path = xstrdup(ref);
	} else {
		path = xasprintf("%s/%s", j->workspace ? j->workspace : ".", ref);
	}
	free(j->w_path);
	j->w_path = path;
	j->w_err[0] = '\0';
	j->work.data = j;
	j->phase = IMG_READING;
	r = uv_queue_work(j->loop, &j->work, img_read_work, img_read_done);
	if (r < 0)
		img_fail(j, "cannot read %s: %s", ref, uv_strerror(r));
}

/* ==== remote images ==== */

/* Host of an http(s) URL into `host` (brackets of an IPv6 literal removed). 0 or -1. */
static int img_url_host(const char *url, char *host, size_t hostlen)
{
	const char *p = strstr(url, "://"), *end, *at;
	size_t n;

	if (!p)
		return -1;
	p += 3;
	end = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(end - p));
	if (at)
		p = at + 1;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (!rb)
			return -1;
		p++;
		n = (size_t)(rb - p);
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		n = (size_t)((colon ? colon : end) - p);
	}
	if (!n || n >= hostlen)
		return -1;
	memcpy(host, p, n);
	host[n] = '\0';
	return 0;
}

static void img_fetch_start(struct img_job *j);

/*
 * Check the host of j->url by name (the shared SSRF guard, src/net/ssrf.h),
 * then fetch it; the guard checks every address curl connects to again, on
 * every redirect hop, so a name that changes its answer is caught too.
 */
static void img_resolve(struct img_job *j)
{
	char why[256];
	int h;

	if (img_url_host(j->url, j->host, sizeof(j->host)) < 0) {
		img_fail(j, "fetch failed: bad URL %s", j->url);
		return;
	}
	h = ssrf_check_host(&j->ssrf.pol, j->host, why, sizeof(why));
	if (h < 0) {
		img_fail(j, "fetch refused (SSRF guard, private or internal address): %s", why);
		return;
	}
	j->host_allowlisted = h == 1;
	img_fetch_start(j);
}

static int img_on_data(void *ud, struct http_xfer *x, const char *data, size_t len)
{
	struct img_job *j = ud;

	(void)x;
	if (http_xfer_status(x) != 200)
		return 0; /* the body of an error or redirect is not wanted */
	return buf_append(&j->body, data, len) < 0;
}

static void img_on_done(void *ud, struct http_xfer *x, int result, const char *errmsg)
{
	struct img_job *j = ud;
	long status = http_xfer_status(x);
	const char *loc = status >= 300 && status < 400 ? http_xfer_header(x, "location") : NULL;
	unsigned char *data;
	size_t len;

	j->xfer = NULL;
	j->phase = IMG_IDLE;
	if (result == HTTP_E_TOO_BIG || result == HTTP_E_CALLBACK) {
		img_fail(j, "image too large: %s is over %zu bytes (maxBytesMb raises the limit)",
			 j->url, j->max_bytes);
		return;
	}
	if (result == HTTP_E_BLOCKED) {
		img_fail(j, "fetch refused (SSRF guard, private or internal address): %s: %s",
			 j->url, errmsg);
		return;
	}
	if (result != HTTP_OK) {
		img_fail(j, "fetch failed: %s: %s", j->url, errmsg);
		return;
	}
	if (loc) {
		char *next = NULL;
		if (++j->redirects > IMG_MAX_REDIRECTS) {
			img_fail(j, "fetch failed: %s: too many redirects", j->url);
			return;
		}
		if (!strncasecmp(loc, "http://", 7) || !strncasecmp(loc, "https://", 8)) {
			next = xstrdup(loc);
		} else if (loc[0] == '/' && loc[1] != '/') {
			const char *p = strstr(j->url, "://") + 3;
			next = xasprintf("%.*s%s", (int)(p + strcspn(p, "/?#") - j->url), j->url,
					 loc);
		}
		if (!next || strlen(next) > IMG_MAX_URL) {
			free(next);
			img_fail(j, "fetch failed: %s: unusable redirect", j->url);
			return;
		}
		free(j->url);
		j->url = next;
		img_resolve(j); /* every hop is checked again */
		return;
	}
	if (status != 200) {
		img_fail(j, "fetch failed: %s: HTTP %ld", j->url, status);
		return;
	}
	len = j->body.len;
	data = xmalloc(len ? len : 1);
	memcpy(data, j->body.p, len);
	buf_release(&j->body);
	j->body_init = false;
	{
		char *ref = xstrdup(j->url);
		int r = img_add(j, ref, data, len);
		free(ref);
		if (r < 0)
			return;
	}
	j->next++;
	img_next(j);
}

static const struct http_callbacks img_http_cb = {
	.on_data = img_on_data,
	.on_done = img_on_done,
};

static void img_fetch_start(struct img_job *j)
{
	static const char *const headers[] = { "Accept: image/*", NULL };
	struct http_request rq = {
		.url = j->url,
		.headers = headers,
		.idle_timeout_ms = IMG_FETCH_IDLE_MS,
		.total_timeout_ms = IMG_FETCH_TIMEOUT_MS,
		/* room for a redirect's or error's body too; the image itself is capped in on_data */
		.max_response_bytes = j->max_bytes + 1,
		/* allowlisted names skip the address checks, as in web_fetch */
		.guard = j->host_allowlisted || j->ssrf.pol.allow_private ? NULL : web_ssrf_guard,
		.guard_arg = &j->ssrf,
		.resolve = web_test_resolve(),
	};

	if (j->body_init)
		buf_release(&j->body);
	buf_init(&j->body, j->max_bytes);
	j->body_init = true;
	j->phase = IMG_FETCHING;
	j->xfer = http_client_start(j->rt->http, &rq, &img_http_cb, j);
	if (!j->xfer) {
		j->phase = IMG_IDLE;
		img_fail(j, "fetch failed: %s: cannot start the request", j->url);
	}
}

/* ==== the model ==== */

static json_t *img_native_result(struct img_job *j)
{
	size_t n = json_array_size(j->images);
	char *text = xasprintf("Loaded %zu image%s into private model context for inspection; not "
			       "displayed, attached, or sent to the user.",
			       n, n == 1 ? "" : "s");
	json_t *content = json_pack("[{s:s, s:s}]", "type", "text", "text", text);

	free(text);
	json_array_extend(content, j->images);
	return content;
}

static void img_call_done(void *ud, json_t *msg, const struct prov_error *err)
{
	struct img_job *j = ud;
	const json_t *b;
	struct buf text;
	size_t i;

	j->pc = NULL;
	j->phase = IMG_IDLE;
	if (err) {
		const struct auth_candidate *c = &j->cands[j->cand_i];
		auth_mark_failure(j->auth, c->profile_id, err->kind, err->retry_after_ms,
				  time_now_ms());
		json_array_append_new(j->failures, json_sprintf("%s/%s: %s", j->model.provider,
								j->model.id, err->message));
		json_decref(msg);
		if (prov_err_failover(err->kind) && j->cand_i + 1 < j->ncands) {
			j->cand_i++;
		} else {
			j->chain_i++;
			j->ncands = 0;
		}
		img_call_next(j);
		return;
	}
	auth_mark_success(j->auth, j->cands[j->cand_i].profile_id, time_now_ms());
	buf_init(&text, 4u << 20);
	json_array_foreach(json_object_get(msg, "content"), i, b)
	{
		if (str_eq(json_string_value(json_object_get(b, "type")), "text"))
			buf_puts(&text, json_string_value(json_object_get(b, "text")));
	}
	json_decref(msg);
	if (!text.len) {
		json_array_append_new(j->failures, json_sprintf("%s/%s: the model returned no text",
								j->model.provider, j->model.id));
		buf_release(&text);
		j->chain_i++;
		j->ncands = 0;
		img_call_next(j);
		return;
	}
	img_answer(j, json_pack("[{s:s, s:s}]", "type", "text", "text", text.p), false);
	buf_release(&text);
	img_free(j);
}

static const struct prov_sink img_sink = { .done = img_call_done };

/* A summary of what was tried, for the error message. New string. */
static char *img_failures(const struct img_job *j)
{
	struct buf b;
	const json_t *v;
	size_t i;
	char *s;

	buf_init(&b, 16 * 1024);
	json_array_foreach(j->failures, i, v)
		buf_printf(&b, "%s%s", i ? "; " : "", json_string_value(v));
	s = xstrdup(b.len ? b.p : "no usable image model");
	buf_release(&b);
	return s;
}

/* Try the current (model, credential), moving down the chain past unusable models. */
static void img_call_next(struct img_job *j)
{
	const struct config *cfg = rt_cfg(j->rt);
	struct prov_request rq = { 0 };
	struct prov_error err;
	char e[256];

	while (!j->ncands) {
		const char *ref = json_string_value(json_array_get(j->chain, j->chain_i));

		if (!ref) {
			char *why = img_failures(j);
			img_fail(j, "Image model failed: %s", why);
			free(why);
			return;
		}
		if (j->model_set)
			prov_model_release(&j->model);
		memset(&j->model, 0, sizeof(j->model));
		j->model_set = false;
		auth_candidates_free(j->cands, j->ncands);
		j->cands = NULL;
		j->cand_i = 0;
		if (catalog_resolve(cfg, ref, &j->model, e, sizeof(e)) < 0) {
			json_array_append_new(j->failures, json_sprintf("%s: %s", ref, e));
			j->chain_i++;
			continue;
		}
		j->model_set = true;
		if (!j->model.input_image) {
			json_array_append_new(
				j->failures,
				json_sprintf("%s: the model does not accept images (its catalog "
					     "entry's input lacks \"image\")",
					     ref));
			j->chain_i++;
			continue;
		}
		j->ncands = auth_candidates(j->auth, cfg, j->model.provider, NULL, time_now_ms(),
					    &j->cands);
		if (!j->ncands) {
			json_array_append_new(j->failures,
					      json_sprintf("%s: no API key for provider \"%s\"",
							   ref, j->model.provider));
			j->chain_i++;
		}
	}
	if (!j->req_msgs) {
		json_t *content = json_array();
		json_array_append_new(content,
				      json_pack("{s:s, s:s}", "type", "text", "text", j->prompt));
		json_array_extend(content, j->images);
		j->req_msgs = json_pack("[{s:s, s:o, s:I}]", "role", "user", "content", content,
					"timestamp", (json_int_t)time_now_ms());
	}
	rq.model = &j->model;
	rq.api_key = j->cands[j->cand_i].key;
	rq.messages = j->req_msgs;
	rq.max_tokens = j->model.max_tokens > 0 && j->model.max_tokens < IMG_MODEL_MAX_TOKENS
				? j->model.max_tokens
				: IMG_MODEL_MAX_TOKENS;
	rq.total_timeout_ms = j->model_timeout_ms;
	log_debug(IMG_SUBSYS, "view_image: %zu image(s) to %s/%s", json_array_size(j->images),
		  j->model.provider, j->model.id);
	j->phase = IMG_CALLING;
	j->pc = prov_call_start(j->rt->http, &rq, &img_sink, j, &err);
	if (!j->pc) {
		j->phase = IMG_IDLE;
		json_array_append_new(j->failures, json_sprintf("%s/%s: %s", j->model.provider,
								j->model.id, err.message));
		j->chain_i++;
		j->ncands = 0;
		img_call_next(j);
	}
}

/* ==== driving ==== */

/* Load refs[next], or, when all are loaded, answer (native) or call the model. */
static void img_next(struct img_job *j)
{
	const char *ref;

	if (j->next < json_array_size(j->refs)) {
		ref = json_string_value(json_array_get(j->refs, j->next));
		if (!strncasecmp(ref, "data:", 5)) {
			img_load_data_url(j, ref);
		} else if (!strncasecmp(ref, "http://", 7) || !strncasecmp(ref, "https://", 8)) {
			if (strlen(ref) > IMG_MAX_URL) {
				img_fail(j, "fetch failed: URL too long");
				return;
			}
			free(j->url);
			j->url = xstrdup(ref);
			j->redirects = 0;
			img_resolve(j);
		} else if (strstr(ref, "://") && strncasecmp(ref, "file://", 7)) {
			img_fail(j,
				 "Unsupported image reference: %s. Use a file path, a file:// URL, "
				 "a data: URL, or an http(s) URL.",
				 ref);
		} else {
			img_load_file(j, ref);
		}
		return;
	}
	if (j->native) {
		img_answer(j, img_native_result(j), false);
		img_free(j);
		return;
	}
	img_call_next(j);
}

/* agents.defaults.imageModel as a chain: a string, or {primary, fallbacks}. New array. */
static json_t *img_configured_chain(const struct config *cfg)
{
	json_t *im = config_get(cfg, "agents.defaults.imageModel"), *out = json_array(), *v;
	size_t i;

	if (json_is_string(im) && json_string_length(im)) {
		json_array_append(out, im);
	} else if (json_is_object(im)) {
		v = json_object_get(im, "primary");
		if (json_is_string(v) && json_string_length(v))
			json_array_append(out, v);
		json_array_foreach(json_object_get(im, "fallbacks"), i,
				   v) if (json_is_string(v) && json_string_length(v))
			json_array_append(out, v);
	}
	return out;
}

/* Does the model the session talks to accept images? */
static bool img_session_vision(const struct tool_call *call)
{
	struct prov_model m = { 0 };
	char *ref, e[256];
	bool yes = false;

	if (call->env.run)
		return call->env.run->model.input_image;
	ref = catalog_default_ref(call->env.cfg, call->env.agent_id);
	if (ref && catalog_resolve(call->env.cfg, ref, &m, e, sizeof(e)) == 0) {
		yes = m.input_image;
		prov_model_release(&m);
	}
	free(ref);
	return yes;
}

static void img_add_ref(json_t *refs, const json_t *v)
{
	const char *s = json_string_value(v);
	size_t i;
	json_t *e;

	if (!s)
		return;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '@')
		s++; /* "@path", as chat clients write file mentions */
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return;
	json_array_foreach(refs, i, e) if (!strcmp(json_string_value(e), s)) return;
	{
		char *t = xstrdup(s);
		size_t n = strlen(t);
		while (n && isspace((unsigned char)t[n - 1]))
			t[--n] = '\0';
		json_array_append_new(refs, json_string(t));
		free(t);
	}
}

static void t_view_image(struct tool_call *call)
{
	const struct config *cfg = call->env.cfg;
	const json_t *a = call->args, *v;
	struct img_job *j;
	json_t *refs = json_array();
	const char *prompt = json_string_value(json_object_get(a, "prompt"));
	const char *model = json_string_value(json_object_get(a, "model"));
	double mb = IMG_DEFAULT_MAX_MB;
	json_int_t max_images = IMG_DEFAULT_MAX;
	struct agent_state *ag;
	size_t i;

	/* OpenClaw's path/paths, and the older image/images names */
	img_add_ref(refs, json_object_get(a, "path"));
	img_add_ref(refs, json_object_get(a, "image"));
	json_array_foreach(json_object_get(a, "paths"), i, v) img_add_ref(refs, v);
	json_array_foreach(json_object_get(a, "images"), i, v) img_add_ref(refs, v);
	if (!json_array_size(refs)) {
		json_decref(refs);
		tool_call_text(call, true, "path required");
		return;
	}
	if ((v = json_object_get(a, "maxImages"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 1) {
			json_decref(refs);
			tool_call_text(call, true, "maxImages must be a positive integer");
			return;
		}
		max_images = json_integer_value(v);
	}
	if (max_images > IMG_HARD_MAX_IMAGES)
		max_images = IMG_HARD_MAX_IMAGES;
	if ((json_int_t)json_array_size(refs) > max_images) {
		tool_call_text(call, true,
			       "Too many images: %zu provided, maximum is %lld. Please reduce the "
			       "number of images.",
			       json_array_size(refs), (long long)max_images);
		json_decref(refs);
		return;
	}
	if ((v = json_object_get(a, "maxBytesMb"))) {
		if (!json_is_number(v) || json_number_value(v) <= 0) {
			json_decref(refs);
			tool_call_text(call, true, "maxBytesMb must be greater than 0");
			return;
		}
		mb = json_number_value(v);
	} else if (config_get_num(cfg, "agents.defaults.mediaMaxMb") > 0) {
		mb = config_get_num(cfg, "agents.defaults.mediaMaxMb");
	}
	ag = call->env.run ? call->env.run->lane->agent
			   : rt_agent(call->env.rt, call->env.agent_id);
	if (!ag) {
		json_decref(refs);
		tool_call_text(call, true, "unknown agent \"%s\"", call->env.agent_id);
		return;
	}

	j = xcalloc(1, sizeof(*j));
	j->call = call;
	j->loop = call->env.loop;
	j->rt = call->env.rt;
	j->auth = ag->auth;
	j->workspace = call->env.workspace ? xstrdup(call->env.workspace) : NULL;
	j->workspace_only = config_get_bool(cfg, "tools.fs.workspaceOnly");
	web_ssrf_load(cfg, &j->ssrf); /* copied now: a reload may replace the config */
	j->max_bytes = mb * 1024 * 1024 >= IMG_HARD_MAX_BYTES ? IMG_HARD_MAX_BYTES
							      : (size_t)(mb * 1024 * 1024);
	if (!j->max_bytes)
		j->max_bytes = 1;
	j->prompt = xstrdup(prompt && *prompt ? prompt : IMG_DEFAULT_PROMPT);
	j->refs = refs;
	j->images = json_array();
	j->failures = json_array();
	j->model_timeout_ms = config_get_int(cfg, "agents.defaults.imageModel.timeoutMs");
	if (j->model_timeout_ms <= 0)
		j->model_timeout_ms = IMG_MODEL_TIMEOUT_MS;
	if (model && *model) {
		j->chain = json_pack("[s]", model);
	} else if (img_session_vision(call)) {
		j->native = true;
	} else {
		j->chain = img_configured_chain(cfg);
		if (!json_array_size(j->chain)) {
			img_fail(j,
				 "No image model is configured. Set agents.defaults.imageModel or "
				 "configure an image-capable provider.");
			return;
		}
	}
	call->data = j;
	call->cancel = img_cancel;
	img_next(j);
}

static char *img_title(const json_t *args)
{
	const char *p = json_string_value(json_object_get(args, "path"));
	size_t n = json_array_size(json_object_get(args, "paths"));

	if (p && !strncasecmp(p, "data:", 5))
		return xstrdup("View image");
	if (p)
		return xasprintf("View image %.80s", p);
	if (n)
		return xasprintf("View %zu images", n);
	return NULL;
}

const struct tool_def tool_view_image = {
	.name = "view_image",
	.group = "media",
	.description =
		"Inspect image(s) in private model context with available vision: path accepts "
		"one local image path or permitted URL; paths accepts up to maxImages entries (20 "
		"by default). Does not display, attach, or send files to the user.",
	.parameters = "{\"type\":\"object\",\"properties\":{"
		      "\"prompt\":{\"type\":\"string\"},"
		      "\"path\":{\"type\":\"string\",\"description\":\"One local image path or "
		      "permitted URL.\"},"
		      "\"paths\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
		      "\"description\":\"Local image paths or permitted URLs; maxImages default "
		      "20.\"},"
		      "\"model\":{\"type\":\"string\"},"
		      "\"maxBytesMb\":{\"type\":\"number\",\"exclusiveMinimum\":0},"
		      "\"maxImages\":{\"type\":\"integer\",\"minimum\":1}}}",
	.invoke = t_view_image,
	.title = img_title,
};
