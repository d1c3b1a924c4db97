/*
 * embed.c - embedding requests for memory search over the loop's HTTP
 * client: OpenAI-compatible /embeddings and Gemini embedContent.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "memory/memory.h"
#include "net/http_client.h"

/* A batch of 64 vectors of 3072 dims is ~4 MB of JSON; refuse far more. */
#define EMBED_MAX_RESPONSE (64u << 20)

struct mem_embed_req {
	struct http_xfer *x;
	struct buf body;
	size_t n;
	bool gemini, query;
	mem_embed_cb cb;
	void *ud;
};

static int e_data(void *ud, struct http_xfer *x, const char *data, size_t len)
{
	struct mem_embed_req *r = ud;

	return buf_append(&r->body, data, len) < 0 ? -1 : 0;
}

/* The provider's error message, or a generic one. */
static void e_error_text(const json_t *j, long status, char *out, size_t outlen)
{
	const json_t *e = json_object_get(j, "error");
	const char *msg = json_string_value(json_object_get(e, "message"));

	if (!msg)
		msg = json_string_value(e);
	snprintf(out, outlen, "embeddings request failed: HTTP %ld%s%s", status, msg ? ": " : "",
		 msg ? msg : "");
}

/* Copy a JSON array of numbers into v (dims of them), normalised. 0 or -1. */
static int e_vector(const json_t *arr, float *v, int dims)
{
	double norm = 0;
	size_t i;
	json_t *x;

	if (!json_is_array(arr) || (int)json_array_size(arr) != dims)
		return -1;
	json_array_foreach(arr, i, x)
	{
		double d = json_number_value(x);

		if (!json_is_number(x) || !isfinite(d))
			d = 0;
		v[i] = (float)d;
		norm += d * d;
	}
	norm = sqrt(norm);
	if (norm > 0)
		for (i = 0; i < (size_t)dims; i++)
			v[i] = (float)(v[i] / norm);
	return 0;
}

/* The i-th vector's JSON array in a response. */
static const json_t *e_item(const struct mem_embed_req *r, const json_t *j, size_t i)
{
	if (r->gemini) {
		if (r->query)
			return json_object_get(json_object_get(j, "embedding"), "values");
		return json_object_get(json_array_get(json_object_get(j, "embeddings"), i),
				       "values");
	}
	/* OpenAI: data[] carries its own index; honour it rather than the order. */
	{
		const json_t *data = json_object_get(j, "data"), *d;
		size_t k;

		json_array_foreach(data, k, d)
		{
			if ((size_t)json_integer_value(json_object_get(d, "index")) == i)
				return json_object_get(d, "embedding");
		}
	}
	return NULL;
}

static void e_done(void *ud, struct http_xfer *x, int result, const char *errmsg)
{
	struct mem_embed_req *r = ud;
	long status = http_xfer_status(x);
	char err[512] = "";
	float *vecs = NULL;
	int dims = 0;
	json_t *j = NULL;
	json_error_t je;
	size_t i;

	if (result != HTTP_OK) {
		snprintf(err, sizeof(err), "embeddings request failed: %s", errmsg);
		goto out;
	}
	j = json_loadb(r->body.p, r->body.len, 0, &je);
	if (status != 200) {
		e_error_text(j, status, err, sizeof(err));
		goto out;
	}
	if (!j) {
		snprintf(err, sizeof(err), "embeddings response is not JSON: %s", je.text);
		goto out;
	}
	dims = (int)json_array_size(e_item(r, j, 0));
	if (dims <= 0 || dims > 65536) {
		snprintf(err, sizeof(err), "embeddings response has no vector");
		goto out;
	}
	vecs = xcalloc(r->n * (size_t)dims, sizeof(float));
	for (i = 0; i < r->n; i++)
		if (e_vector(e_item(r, j, i), vecs + i * (size_t)dims, dims) < 0) {
			snprintf(err, sizeof(err),
				 "embeddings response: vector %zu missing or of another size", i);
			free(vecs);
			vecs = NULL;
			goto out;
		}
out:
	json_decref(j);
	if (!vecs)
		log_warn("memory", "%s", err);
	r->cb(r->ud, vecs, vecs ? r->n : 0, vecs ? dims : 0, vecs ? NULL : err);
	buf_release(&r->body);
	free(r);
}

static const struct http_callbacks e_cb = { NULL, e_data, e_done };

static json_t *gemini_part(const char *text)
{
	return json_pack("{s:[{s:s}]}", "parts", "text", text);
}

struct mem_embed_req *mem_embed_start(struct http_client *hc, const struct mem_settings *s,
				      const char *const *texts, size_t n, bool query,
				      mem_embed_cb cb, void *ud)
{
	struct mem_embed_req *r;
	json_t *body;
	char *url, *json, *auth = NULL;
	const char *hdrs[40];
	size_t nh = 0, i;
	struct http_request rq = { 0 };

	if (!hc || !s->provider || !n)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	r->n = n;
	r->gemini = s->gemini;
	r->query = query && s->gemini && n == 1;
	r->cb = cb;
	r->ud = ud;
	buf_init(&r->body, EMBED_MAX_RESPONSE);
	if (s->gemini) {
		const char *m = strncmp(s->model, "models/", 7) ? s->model : s->model + 7;

		if (r->query) {
			body = json_pack("{s:o, s:s}", "content", gemini_part(texts[0]), "taskType",
					 "RETRIEVAL_QUERY");
			if (s->dims > 0)
				json_object_set_new(body, "outputDimensionality",
						    json_integer(s->dims));
			url = xasprintf("%s/models/%s:embedContent", s->base_url, m);
		} else {
			json_t *reqs = json_array();

			for (i = 0; i < n; i++) {
				json_t *one =
					json_pack("{s:s++, s:o, s:s}", "model", "models/", m,
						  "content", gemini_part(texts[i]), "taskType",
						  query ? "RETRIEVAL_QUERY" : "RETRIEVAL_DOCUMENT");

				if (s->dims > 0)
					json_object_set_new(one, "outputDimensionality",
							    json_integer(s->dims));
				json_array_append_new(reqs, one);
			}
			body = json_pack("{s:o}", "requests", reqs);
			url = xasprintf("%s/models/%s:batchEmbedContents", s->base_url, m);
		}
		if (s->api_key)
			auth = xasprintf("x-goog-api-key: %s", s->api_key);
	} else {
		json_t *input = json_array();

		for (i = 0; i < n; i++)
			json_array_append_new(input, json_string(texts[i]));
		body = json_pack("{s:s, s:o}", "model", s->model, "input", input);
		if (s->dims > 0)
			json_object_set_new(body, "dimensions", json_integer(s->dims));
		url = xasprintf("%s/embeddings", s->base_url);
		if (s->api_key)
			auth = xasprintf("Authorization: Bearer %s", s->api_key);
	}
	json = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	hdrs[nh++] = "Content-Type: application/json";
	if (auth)
		hdrs[nh++] = auth;
	for (i = 0; s->headers && s->headers[i] && nh < ARRAY_SIZE(hdrs) - 1; i++)
		hdrs[nh++] = s->headers[i];
	hdrs[nh] = NULL;
	rq.url = url;
	rq.headers = hdrs;
	rq.body = json;
	rq.body_len = strlen(json);
	rq.idle_timeout_ms = 60000;
	rq.total_timeout_ms = 120000;
	rq.max_response_bytes = EMBED_MAX_RESPONSE;
	r->x = http_client_start(hc, &rq, &e_cb, r);
	free(url);
	free(json);
	free(auth);
	if (!r->x) {
		buf_release(&r->body);
		free(r);
		return NULL;
	}
	return r;
}

void mem_embed_cancel(struct mem_embed_req *r)
{
	if (!r)
		return;
	http_xfer_cancel(r->x);
	buf_release(&r->body);
	free(r);
}
