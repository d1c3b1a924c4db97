/*
 * web_search.c - the `web_search` tool: one query to the configured search
 * provider (Brave, Tavily, SearXNG, Perplexity), answered in OpenClaw's
 * normalized shape: {kind:"results", results:[{title,url,snippet}]} or, for
 * Perplexity, {kind:"answer", content, citations}; provider prose wrapped
 * as untrusted external content.
 *
 * A provider is a row: how to build its request and how to read its
 * answer into rows. Keys come from plugins.entries.<id>.config.webSearch
 * (OpenClaw's place; strings or SecretRefs), the legacy
 * tools.web.search.<id>.apiKey, then the provider's environment variable.
 * Provider base URLs are the operator's, not the model's, so no SSRF guard
 * applies (SearXNG is usually on the LAN).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "net/http_client.h"
#include "tools/tool.h"
#include "tools/web.h"

#define WS_DEFAULT_COUNT     5
#define WS_DEFAULT_TIMEOUT_S 30
#define WS_MAX_BODY          (4u << 20)
#define WS_OUTPUT_MAX_CHARS  20000
#define WS_ERROR_MAX_CHARS   2000

struct ws;

struct ws_provider {
	const char *id;
	const char *label;
	const char *env_key; /* environment fallback for the key (or base URL) */
	const char *base;    /* default base URL; NULL: must be configured */
	bool needs_key;      /* else the "credential" is the base URL */
	/* Fill url/body/headers of the request. */
	void (*build)(struct ws *s, struct buf *url, json_t **body);
	/* Turn a 2xx answer into OpenClaw's normalized object (before wrapping). */
	json_t *(*parse)(struct ws *s, json_t *answer);
};

struct ws {
	struct tool_call *call;
	const struct ws_provider *prov;
	struct http_xfer *x;
	char *query, *country, *language, *freshness, *date_after, *date_before;
	char *key, *base;
	int count;
	long status;
	struct buf body;
	int64_t started;
	char auth[600];
};

/* ==== helpers ==== */

static void q_add(struct buf *u, const char *name, const char *value)
{
	char *e;

	if (!value || !*value)
		return;
	e = curl_easy_escape(NULL, value, 0);
	buf_printf(u, "%c%s=%s", strchr(u->p, '?') ? '&' : '?', name, e ? e : "");
	curl_free(e);
}

static const char *str_arg(const json_t *args, const char *name)
{
	const char *s = json_string_value(json_object_get(args, name));

	return s && *s ? s : NULL;
}

/* freshness day|week|month|year (or Brave's pd|pw|pm|py) as a word. */
static const char *freshness_word(const char *f)
{
	static const char *const map[][2] = { { "pd", "day" },      { "pw", "week" },
					      { "pm", "month" },    { "py", "year" },
					      { "day", "day" },     { "week", "week" },
					      { "month", "month" }, { "year", "year" } };

	for (size_t i = 0; f && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcasecmp(f, map[i][0]))
			return map[i][1];
	return NULL;
}

/* A result row in OpenClaw's raw provider shape. */
static json_t *row(const char *title, const char *url, const char *snippet, const char *date)
{
	json_t *r = json_pack("{s:s, s:s}", "title", title ? title : "", "url", url ? url : "");

	if (snippet)
		json_object_set_new(r, "snippet", json_string(snippet));
	if (date)
		json_object_set_new(r, "published", json_string(date));
	return r;
}

static json_t *results_obj(json_t *rows)
{
	return json_pack("{s:o}", "results", rows);
}

/* ==== Brave ==== */

static void brave_build(struct ws *s, struct buf *u, json_t **body)
{
	const char *f = freshness_word(s->freshness);
	char n[16], range[64];

	buf_printf(u, "%s/res/v1/web/search", s->base);
	q_add(u, "q", s->query);
	snprintf(n, sizeof(n), "%d", s->count);
	q_add(u, "count", n);
	q_add(u, "country", s->country);
	q_add(u, "search_lang", s->language);
	if (f) {
		char p[3] = { 'p', f[0], 0 };

		q_add(u, "freshness", p);
	} else if (s->date_after || s->date_before) {
		snprintf(range, sizeof(range), "%sto%s",
			 s->date_after ? s->date_after : "1970-01-01",
			 s->date_before ? s->date_before : "2100-01-01");
		q_add(u, "freshness", range);
	}
	snprintf(s->auth, sizeof(s->auth), "X-Subscription-Token: %s", s->key);
	*body = NULL;
}

static json_t *brave_parse(struct ws *s, json_t *a)
{
	json_t *rows = json_array(), *r;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(a, "web"), "results"), i, r)
		json_array_append_new(rows,
				      row(json_string_value(json_object_get(r, "title")),
					  json_string_value(json_object_get(r, "url")),
					  json_string_value(json_object_get(r, "description")),
					  json_string_value(json_object_get(r, "page_age"))));
	return results_obj(rows);
}

/* ==== Tavily ==== */

static void tavily_build(struct ws *s, struct buf *u, json_t **body)
{
	const char *f = freshness_word(s->freshness);

	buf_printf(u, "%s/search", s->base);
	*body = json_pack("{s:s, s:i, s:s}", "query", s->query, "max_results", s->count, "topic",
			  "general");
	if (f)
		json_object_set_new(*body, "time_range", json_string(f));
	if (s->date_after)
		json_object_set_new(*body, "start_date", json_string(s->date_after));
	if (s->date_before)
		json_object_set_new(*body, "end_date", json_string(s->date_before));
	snprintf(s->auth, sizeof(s->auth), "Authorization: Bearer %s", s->key);
}

static json_t *tavily_parse(struct ws *s, json_t *a)
{
	json_t *rows = json_array(), *r;
	size_t i;

	json_array_foreach(json_object_get(a, "results"), i, r) json_array_append_new(
		rows, row(json_string_value(json_object_get(r, "title")),
			  json_string_value(json_object_get(r, "url")),
			  json_string_value(json_object_get(r, "content")),
			  json_string_value(json_object_get(r, "published_date"))));
	return results_obj(rows);
}

/* ==== SearXNG ==== */

static void searxng_build(struct ws *s, struct buf *u, json_t **body)
{
	buf_printf(u, "%s/search", s->base);
	q_add(u, "q", s->query);
	q_add(u, "format", "json");
	q_add(u, "language", s->language);
	q_add(u, "time_range", freshness_word(s->freshness));
	s->auth[0] = '\0';
	*body = NULL;
}

static json_t *searxng_parse(struct ws *s, json_t *a)
{
	json_t *rows = json_array(), *r;
	size_t i;

	json_array_foreach(json_object_get(a, "results"), i, r)
	{
		if ((int)json_array_size(rows) >= s->count)
			break;
		json_array_append_new(rows,
				      row(json_string_value(json_object_get(r, "title")),
					  json_string_value(json_object_get(r, "url")),
					  json_string_value(json_object_get(r, "content")),
					  json_string_value(json_object_get(r, "publishedDate"))));
	}
	return results_obj(rows);
}

/* ==== Perplexity (Sonar: an answer with citations) ==== */

static void pplx_build(struct ws *s, struct buf *u, json_t **body)
{
	const char *f = freshness_word(s->freshness);
	json_t *filter = json_object_get(s->call->args, "domain_filter");

	buf_printf(u, "%s/chat/completions", s->base);
	*body = json_pack("{s:s, s:[{s:s, s:s}]}", "model", "sonar", "messages", "role", "user",
			  "content", s->query);
	if (f)
		json_object_set_new(*body, "search_recency_filter", json_string(f));
	if (json_is_array(filter))
		json_object_set(*body, "search_domain_filter", filter);
	snprintf(s->auth, sizeof(s->auth), "Authorization: Bearer %s", s->key);
}

static json_t *pplx_parse(struct ws *s, json_t *a)
{
	json_t *choice = json_array_get(json_object_get(a, "choices"), 0);
	const char *content =
		json_string_value(json_object_get(json_object_get(choice, "message"), "content"));
	json_t *sr = json_object_get(a, "search_results"), *cites = json_array(), *c;
	size_t i;

	if (json_array_size(sr)) {
		json_array_foreach(sr, i, c) if (json_is_string(json_object_get(c, "url")))
			json_array_append_new(cites, json_pack("{s:O, s:O}", "url",
							       json_object_get(c, "url"), "title",
							       json_object_get(c, "title")
								       ? json_object_get(c, "title")
								       : json_string("")));
	} else {
		json_array_foreach(json_object_get(a, "citations"), i, c) if (json_is_string(c))
			json_array_append_new(cites, json_pack("{s:O}", "url", c));
	}
	return json_pack("{s:s, s:o}", "content", content ? content : "", "citations", cites);
}

static const struct ws_provider providers[] = {
	{ "brave", "Brave Search", "BRAVE_API_KEY", "https://api.search.brave.com", true,
	  brave_build, brave_parse },
	{ "tavily", "Tavily", "TAVILY_API_KEY", "https://api.tavily.com", true, tavily_build,
	  tavily_parse },
	{ "perplexity", "Perplexity", "PERPLEXITY_API_KEY", "https://api.perplexity.ai", true,
	  pplx_build, pplx_parse },
	{ "searxng", "SearXNG", "SEARXNG_BASE_URL", NULL, false, searxng_build, searxng_parse },
};

/* ==== normalizing (OpenClaw's normalizeWebSearchOutput) ==== */

/* Provider prose wrapped, within what is left of the budget. */
static json_t *prose(const char *value, long *budget, bool *cut)
{
	size_t n;
	char *t, *w;
	json_t *out;

	if (!value || !*value)
		return json_string("");
	n = web_prefix_bytes(value, *budget > 0 ? (size_t)*budget : 0);
	if (value[n])
		*cut = true;
	t = web_utf8_clean(value, n);
	*budget -= (long)web_chars(t);
	w = *t ? web_wrap(t, "web_search", false) : xstrdup("");
	out = json_string(w);
	free(t);
	free(w);
	return out;
}

static bool http_url(const char *u)
{
	return u && strlen(u) <= 2048 &&
	       (!strncasecmp(u, "http://", 7) || !strncasecmp(u, "https://", 8));
}

static json_t *normalize(struct ws *s, json_t *raw)
{
	long budget = WS_OUTPUT_MAX_CHARS;
	bool cut = false;
	json_t *out, *rows = json_object_get(raw, "results");
	json_t *stamp = json_pack("{s:b, s:s, s:b, s:s}", "untrusted", 1, "source", "web_search",
				  "wrapped", 1, "provider", s->prov->id);
	int64_t took = time_mono_ms() - s->started;

	if (json_is_array(rows)) {
		json_t *list = json_array(), *r;
		size_t i;

		json_array_foreach(rows, i, r)
		{
			const char *url = json_string_value(json_object_get(r, "url"));
			const char *pub = json_string_value(json_object_get(r, "published"));
			json_t *o;

			if (i >= 10) {
				cut = true;
				break;
			}
			if (!http_url(url) || budget < (long)strlen(url))
				continue;
			budget -= (long)strlen(url);
			o = json_pack("{s:o, s:s}", "title",
				      prose(json_string_value(json_object_get(r, "title")), &budget,
					    &cut),
				      "url", url);
			if (json_is_string(json_object_get(r, "snippet")))
				json_object_set_new(
					o, "snippet",
					prose(json_string_value(json_object_get(r, "snippet")),
					      &budget, &cut));
			if (pub && strlen(pub) >= 10 && pub[4] == '-' && pub[7] == '-')
				json_object_set_new(o, "published", json_string(pub));
			json_array_append_new(list, o);
		}
		out = json_pack("{s:s, s:s, s:s, s:i, s:I, s:o, s:o}", "kind", "results",
				"provider", s->prov->id, "query", s->query, "count",
				(int)json_array_size(list), "tookMs", (json_int_t)took, "results",
				list, "externalContent", stamp);
	} else {
		json_t *cites = json_array(), *c;
		size_t i;

		out = json_pack("{s:s, s:s, s:s, s:I}", "kind", "answer", "provider", s->prov->id,
				"query", s->query, "tookMs", (json_int_t)took);
		json_object_set_new(
			out, "content",
			prose(json_string_value(json_object_get(raw, "content")), &budget, &cut));
		json_array_foreach(json_object_get(raw, "citations"), i, c)
		{
			const char *url = json_string_value(json_object_get(c, "url"));
			json_t *o;

			if (i >= 20 || !http_url(url))
				continue;
			o = json_pack("{s:s}", "url", url);
			if (json_string_length(json_object_get(c, "title")))
				json_object_set_new(
					o, "title",
					prose(json_string_value(json_object_get(c, "title")),
					      &budget, &cut));
			json_array_append_new(cites, o);
		}
		json_object_set_new(out, "citations", cites);
		json_object_set_new(out, "externalContent", stamp);
	}
	if (cut)
		json_object_set_new(out, "truncated", json_true());
	return out;
}

/* ==== the call ==== */

static void ws_free(struct ws *s)
{
	free(s->query);
	free(s->country);
	free(s->language);
	free(s->freshness);
	free(s->date_after);
	free(s->date_before);
	free(s->key);
	free(s->base);
	buf_release(&s->body);
	free(s);
}

static void ws_answer(struct ws *s, json_t *obj, bool is_error)
{
	char *text = json_dumps(obj, JSON_INDENT(2));

	s->call->cancel = NULL;
	tool_call_done(s->call, json_pack("[{s:s, s:s}]", "type", "text", "text", text), is_error);
	free(text);
	json_decref(obj);
	ws_free(s);
}

/* A provider failure as OpenClaw's {kind:"error"} object, marked as a tool error. */
static void ws_error(struct ws *s, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void ws_error(struct ws *s, const char *fmt, ...)
{
	long budget = WS_ERROR_MAX_CHARS;
	bool cut = false;
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	ws_answer(s,
		  json_pack("{s:s, s:s, s:s, s:o}", "kind", "error", "provider",
			    s->prov ? s->prov->id : "none", "error", "provider_error", "message",
			    prose(msg, &budget, &cut)),
		  true);
	free(msg);
}

static int ws_on_data(void *ud, struct http_xfer *x, const char *data, size_t len)
{
	struct ws *s = ud;

	return buf_append(&s->body, data, len) < 0;
}

static const char *status_hint(long st)
{
	switch (st) {
	case 401:
	case 403:
		return " (check the API key)";
	case 429:
		return " (rate limited; try again later)";
	default:
		return st >= 500 ? " (provider-side failure)" : "";
	}
}

static void ws_on_done(void *ud, struct http_xfer *x, int result, const char *errmsg)
{
	struct ws *s = ud;
	json_t *a, *raw;
	char *detail;

	s->x = NULL;
	s->status = http_xfer_status(x);
	if (result != HTTP_OK) {
		ws_error(s, "%s request failed: %s", s->prov->label,
			 result == HTTP_E_TIMEOUT || result == HTTP_E_STALLED ? "timed out"
									      : errmsg);
		return;
	}
	if (s->status < 200 || s->status >= 300) {
		detail = web_utf8_clean(s->body.p, s->body.len < 1000 ? s->body.len : 1000);
		ws_error(s, "%s API error (%ld)%s: %s", s->prov->label, s->status,
			 status_hint(s->status), *detail ? detail : "(no detail)");
		free(detail);
		return;
	}
	a = json_loadb(s->body.p, s->body.len, 0, NULL);
	if (!json_is_object(a)) {
		json_decref(a);
		ws_error(s, "%s returned a response that is not JSON", s->prov->label);
		return;
	}
	raw = s->prov->parse(s, a);
	json_decref(a);
	ws_answer(s, normalize(s, raw), false);
	json_decref(raw);
}

static void ws_cancel(struct tool_call *call)
{
	struct ws *s = call->data;

	if (s->x)
		http_xfer_cancel(s->x);
	s->x = NULL;
	call->cancel = NULL;
	tool_call_text(call, true, "Web search aborted");
	ws_free(s);
}

static const struct ws_provider *find_provider(const char *id)
{
	for (size_t i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
		if (!strcasecmp(providers[i].id, id))
			return &providers[i];
	return NULL;
}

/*
 * The provider's credential (API key, or SearXNG's base URL): OpenClaw's
 * plugin config, the legacy tools.web.search keys, then the environment.
 * Returns 1 found, 0 none, -1 with err.
 */
static int credential(const struct config *cfg, const struct ws_provider *p, char **out, char *err,
		      size_t errlen)
{
	char path[160];
	const char *env;
	int rc;

	snprintf(path, sizeof(path), "plugins.entries.%s.config.webSearch.%s", p->id,
		 p->needs_key ? "apiKey" : "baseUrl");
	if ((rc = config_get_secret(cfg, path, out, err, errlen)) != 0)
		return rc;
	snprintf(path, sizeof(path), "tools.web.search.%s.%s", p->id,
		 p->needs_key ? "apiKey" : "baseUrl");
	if ((rc = config_get_secret(cfg, path, out, err, errlen)) != 0)
		return rc;
	if (!strcmp(p->id, "brave") &&
	    (rc = config_get_secret(cfg, "tools.web.search.apiKey", out, err, errlen)) != 0)
		return rc;
	if ((env = getenv(p->env_key)) && *env) {
		*out = xstrdup(env);
		return 1;
	}
	return 0;
}

static void t_web_search(struct tool_call *call)
{
	const struct config *cfg = call->env.cfg;
	const json_t *a = call->args;
	const char *pid = config_get_str(cfg, "tools.web.search.provider");
	json_t *jc = json_object_get(a, "count");
	char err[256], path[160], *cred = NULL;
	const char *base;
	struct buf url;
	json_t *body = NULL;
	const char *headers[4];
	struct http_request rq = { 0 };
	struct ws *s;
	long timeout_s;
	char *payload = NULL;
	int rc = 0;

	if (json_is_false(config_get(cfg, "tools.web.search.enabled"))) {
		tool_call_text(call, true, "web_search is disabled.");
		return;
	}
	if (!str_arg(a, "query")) {
		tool_call_text(call, true, "query required");
		return;
	}
	s = xcalloc(1, sizeof(*s));
	s->call = call;
	buf_init(&s->body, WS_MAX_BODY);
	if (pid && *pid) {
		if (!(s->prov = find_provider(pid))) {
			ws_error(s,
				 "web_search provider \"%s\" is not supported (brave, tavily, "
				 "searxng, perplexity)",
				 pid);
			return;
		}
		rc = credential(cfg, s->prov, &cred, err, sizeof(err));
	} else {
		/* Auto-detect: the first provider with a credential. */
		for (size_t i = 0; i < sizeof(providers) / sizeof(providers[0]) && rc == 0; i++) {
			s->prov = &providers[i];
			rc = credential(cfg, s->prov, &cred, err, sizeof(err));
		}
		if (rc == 0)
			s->prov = &providers[0];
	}
	if (rc < 0) {
		ws_error(s, "web_search (%s): cannot resolve the credential: %s", s->prov->id, err);
		return;
	}
	if (rc == 0) {
		ws_error(s,
			 "web_search (%s) needs %s: set plugins.entries.%s.config.webSearch.%s or "
			 "%s",
			 s->prov->id, s->prov->needs_key ? "an API key" : "a base URL", s->prov->id,
			 s->prov->needs_key ? "apiKey" : "baseUrl", s->prov->env_key);
		return;
	}
	snprintf(path, sizeof(path), "plugins.entries.%s.config.webSearch.baseUrl", s->prov->id);
	if (s->prov->needs_key) {
		s->key = cred;
		base = config_get_str(cfg, path);
		s->base = xstrdup(base && *base ? base : s->prov->base);
	} else {
		s->base = cred;
	}
	while (*s->base && s->base[strlen(s->base) - 1] == '/')
		s->base[strlen(s->base) - 1] = '\0';
	if (s->key && strpbrk(s->key, "\r\n")) {
		ws_error(s, "web_search (%s): the API key contains a line break", s->prov->id);
		return;
	}

	s->query = xstrdup(str_arg(a, "query"));
	s->count = json_is_number(jc) ? (int)json_number_value(jc)
				      : (int)config_get_int(cfg, "tools.web.search.maxResults");
	if (s->count <= 0)
		s->count = WS_DEFAULT_COUNT;
	if (s->count > 10)
		s->count = 10;
	s->country = str_arg(a, "country") ? xstrdup(str_arg(a, "country")) : NULL;
	s->language = str_arg(a, "language")      ? xstrdup(str_arg(a, "language"))
		      : str_arg(a, "search_lang") ? xstrdup(str_arg(a, "search_lang"))
						  : NULL;
	s->freshness = str_arg(a, "freshness") ? xstrdup(str_arg(a, "freshness")) : NULL;
	s->date_after = str_arg(a, "date_after") ? xstrdup(str_arg(a, "date_after")) : NULL;
	s->date_before = str_arg(a, "date_before") ? xstrdup(str_arg(a, "date_before")) : NULL;
	if (s->freshness && !freshness_word(s->freshness)) {
		ws_error(s, "freshness must be one of day, week, month, year");
		return;
	}

	buf_init(&url, 16384);
	s->prov->build(s, &url, &body);
	if (body)
		payload = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	headers[0] = "Accept: application/json";
	headers[1] = payload ? "Content-Type: application/json" : s->auth;
	headers[2] = payload ? s->auth : NULL;
	headers[3] = NULL;
	if (!s->auth[0])
		headers[payload ? 2 : 1] = NULL;
	timeout_s = config_get_int(cfg, "tools.web.search.timeoutSeconds");
	rq.url = url.p;
	rq.headers = headers;
	rq.body = payload;
	rq.body_len = payload ? strlen(payload) : 0;
	rq.total_timeout_ms = (timeout_s > 0 ? timeout_s : WS_DEFAULT_TIMEOUT_S) * 1000;
	s->started = time_mono_ms();
	static const struct http_callbacks cb = { NULL, ws_on_data, ws_on_done };
	if (!web_http(call) || !(s->x = http_client_start(web_http(call), &rq, &cb, s))) {
		buf_release(&url);
		free(payload);
		ws_error(s, "web_search (%s): bad base URL", s->prov->id);
		return;
	}
	buf_release(&url);
	free(payload);
	call->data = s;
	call->cancel = ws_cancel;
}

static char *ws_title(const json_t *args)
{
	const char *q = json_string_value(json_object_get(args, "query"));

	return q ? xasprintf("Search %s", q) : NULL;
}

const struct tool_def tool_web_search = {
	.name = "web_search",
	.group = "web",
	.description = "Search current web; normalized provider results. Supports freshness and "
		       "date-range filters (freshness, date_after/date_before) and domain "
		       "filtering (domain_filter).",
	.parameters =
		"{\"type\":\"object\",\"required\":[\"query\"],\"properties\":{"
		"\"query\":{\"type\":\"string\",\"description\":\"Search query.\"},"
		"\"count\":{\"type\":\"number\",\"description\":\"Result count.\",\"minimum\":1,"
		"\"maximum\":10},"
		"\"country\":{\"type\":\"string\",\"description\":\"2-letter country code.\"},"
		"\"language\":{\"type\":\"string\",\"description\":\"ISO 639-1 language.\"},"
		"\"freshness\":{\"type\":\"string\",\"description\":\"Time filter: "
		"day/week/month/year.\"},"
		"\"date_after\":{\"type\":\"string\",\"description\":\"Published after "
		"YYYY-MM-DD.\"},"
		"\"date_before\":{\"type\":\"string\",\"description\":\"Published before "
		"YYYY-MM-DD.\"},"
		"\"search_lang\":{\"type\":\"string\",\"description\":\"Brave result language.\"},"
		"\"ui_lang\":{\"type\":\"string\",\"description\":\"Brave UI locale.\"},"
		"\"domain_filter\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
		"\"description\":\"Perplexity domain filter.\"}}}",
	.invoke = t_web_search,
	.title = ws_title,
};
