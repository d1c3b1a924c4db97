/*
 * memory.c - memory search settings, the per-agent manager (thread-pool
 * work, fs watch, embeddings), and memory_get's file read.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "agent/workspace.h"
#include "config/config.h"
#include "config/paths.h"
#include "config/secrets.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "memory/index.h"
#include "memory/memory.h"
#include "providers/auth.h"
#include "providers/catalog.h"

/* ==== settings ==== */

/* memory.search.<sub> of the agent's entry, else of the top level. Borrowed. */
static json_t *ms_get(const struct config *cfg, json_t *agent, const char *sub)
{
	json_t *v = NULL, *root;

	if (agent && (root = json_object_get(json_object_get(agent, "memory"), "search")))
		v = jpath_get(root, sub);
	if (!v && (root = config_get(cfg, "memory.search")) && json_is_object(root))
		v = jpath_get(root, sub);
	return v;
}

static long ms_int(const struct config *cfg, json_t *agent, const char *sub, long dflt, long min,
		   long max)
{
	json_t *v = ms_get(cfg, agent, sub);
	long x;

	if (!json_is_number(v))
		return dflt;
	x = (long)json_number_value(v);
	return x < min ? min : x > max ? max : x;
}

static double ms_num(const struct config *cfg, json_t *agent, const char *sub, double dflt,
		     double min, double max)
{
	json_t *v = ms_get(cfg, agent, sub);
	double x;

	if (!json_is_number(v))
		return dflt;
	x = json_number_value(v);
	return x < min ? min : x > max ? max : x;
}

static bool ms_bool(const struct config *cfg, json_t *agent, const char *sub, bool dflt)
{
	json_t *v = ms_get(cfg, agent, sub);

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

static const char *ms_str(const struct config *cfg, json_t *agent, const char *sub)
{
	const char *s = json_string_value(ms_get(cfg, agent, sub));

	return s && *s ? s : NULL;
}

static const char *default_model(const char *provider)
{
	if (!strcmp(provider, "openai"))
		return "text-embedding-3-small";
	if (!strcmp(provider, "gemini") || !strcmp(provider, "google"))
		return "gemini-embedding-001";
	if (!strcmp(provider, "mistral"))
		return "mistral-embed";
	return NULL;
}

/* Try `provider` for embeddings: 1 configured, 0 not (with a note when `explicit_`). */
static int try_provider(struct mem_settings *s, const struct config *cfg, const struct paths *paths,
			json_t *agent, const char *provider, bool explicit_)
{
	const char *cat = !strcmp(provider, "gemini") ? "google" : provider;
	const char *model = ms_str(cfg, agent, "model"),
		   *base = ms_str(cfg, agent, "remote.baseUrl");
	json_t *key_v = ms_get(cfg, agent, "remote.apiKey"), *hv, *x;
	struct prov_model pm = { 0 };
	char err[256], *key = NULL, *ref;
	bool have_key = false;
	const char *name;
	size_t nh = 0;

	if (!model)
		model = default_model(provider);
	if (!model) {
		if (explicit_)
			s->note = xasprintf("memory.search.model is needed for provider \"%s\"",
					    provider);
		return 0;
	}
	if (!strncmp(model, "openai/", 7) && !strcmp(provider, "openai"))
		model += 7;
	if (key_v && !json_is_null(key_v)) {
		if (secret_resolve(cfg->root, key_v, &key, err, sizeof(err)) < 0) {
			s->note = xasprintf("memory.search.remote.apiKey: %s", err);
			return 0;
		}
		log_add_secret(key);
		have_key = true;
	} else {
		char *adir = agent_dir(paths, s->agent_id);
		struct auth_store *st = auth_store_open(adir);
		struct auth_candidate *c = NULL;
		size_t n = auth_candidates(st, cfg, cat, NULL, time_now_ms(), &c);

		if (n && c[0].key) {
			key = xstrdup(c[0].key);
			have_key = true;
		} else if (n || catalog_keyless(cfg, cat)) {
			have_key = true; /* a local server that needs no key */
		}
		auth_candidates_free(c, n);
		auth_store_free(st);
		free(adir);
	}
	if (!have_key) {
		if (explicit_)
			s->note =
				xasprintf("no API key for %s embeddings (set memory.search.remote."
					  "apiKey or the provider's key); keyword search only",
					  provider);
		return 0;
	}
	ref = xasprintf("%s/%s", cat, model);
	if (!base && catalog_resolve(cfg, ref, &pm, err, sizeof(err)) < 0) {
		if (explicit_)
			s->note = xasprintf("memory.search.provider: %s", err);
		free(ref);
		free(key);
		return 0;
	}
	free(ref);
	s->provider = xstrdup(provider);
	s->model = xstrdup(model);
	s->base_url = xstrdup(base ? base : pm.base_url);
	while (*s->base_url && s->base_url[strlen(s->base_url) - 1] == '/')
		s->base_url[strlen(s->base_url) - 1] = 0;
	s->api_key = key;
	s->gemini = !strcmp(cat, "google") || (pm.api && !strcmp(pm.api, "google-generative-ai"));
	hv = ms_get(cfg, agent, "remote.headers");
	s->headers = xcalloc(json_object_size(hv) + 1, sizeof(char *));
	json_object_foreach(hv, name, x)
	{
		if (json_is_string(x))
			s->headers[nh++] = xasprintf("%s: %s", name, json_string_value(x));
	}
	prov_model_release(&pm);
	return 1;
}

void mem_settings_resolve(const struct config *cfg, const struct paths *paths, const char *agent_id,
			  const char *workspace, struct mem_settings *s)
{
	json_t *agent = workspace_agent_entry(cfg, agent_id);
	const char *prov, *store, *cit;
	static const char *const autos[] = { "openai", "gemini", "mistral" };

	memset(s, 0, sizeof(*s));
	s->agent_id = xstrdup(agent_id);
	s->workspace = xstrdup(workspace);
	s->enabled = ms_bool(cfg, agent, "enabled", true);
	s->chunk_tokens = (int)ms_int(cfg, agent, "chunking.tokens", MEM_CHUNK_TOKENS, 16, 8192);
	s->chunk_overlap = (int)ms_int(cfg, agent, "chunking.overlap", MEM_CHUNK_OVERLAP, 0,
				       s->chunk_tokens / 2);
	s->max_results = (int)ms_int(cfg, agent, "query.maxResults", 6, 1, 100);
	s->min_score = ms_num(cfg, agent, "query.minScore", 0.35, 0, 1);
	s->hybrid = ms_bool(cfg, agent, "query.hybrid.enabled", true);
	s->vector_weight = ms_num(cfg, agent, "query.hybrid.vectorWeight", 0.7, 0, 1);
	s->text_weight = ms_num(cfg, agent, "query.hybrid.textWeight", 0.3, 0, 1);
	s->candidate_multiplier =
		(int)ms_int(cfg, agent, "query.hybrid.candidateMultiplier", 4, 1, 20);
	s->watch = ms_bool(cfg, agent, "sync.watch", true);
	s->watch_debounce_ms = (int)ms_int(cfg, agent, "sync.watchDebounceMs", 1500, 0, 600000);
	s->dims = (int)ms_int(cfg, agent, "outputDimensionality", 0, 0, 65536);
	cit = json_string_value(config_get(cfg, "memory.citations"));
	s->citations = xstrdup(cit && (!strcmp(cit, "on") || !strcmp(cit, "off")) ? cit : "auto");
	store = ms_str(cfg, agent, "store.path");
	if (store) {
		char *exp = fs_expand_home(store), *at = strstr(exp, "{agentId}");

		if (at) {
			*at = 0;
			s->db_path = xasprintf("%s%s%s", exp, agent_id, at + 9);
			free(exp);
		} else {
			s->db_path = exp;
		}
	} else {
		s->db_path = xasprintf("%s/memory/%s.sqlite", paths->state_dir, agent_id);
	}
	prov = ms_str(cfg, agent, "provider");
	if (prov && !strcasecmp(prov, "none"))
		return;
	if (prov && strcasecmp(prov, "auto")) {
		try_provider(s, cfg, paths, agent, prov, true);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(autos); i++)
		if (try_provider(s, cfg, paths, agent, autos[i], false))
			return;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void mem_settings_release(struct mem_settings *s)
{
	free(s->agent_id);
	free(s->workspace);
	free(s->db_path);
	free(s->citations);
	free(s->provider);
	free(s->model);
	free(s->base_url);
	if (s->api_key)
		explicit_bzero(s->api_key, strlen(s->api_key));
	free(s->api_key);
	strv_free(s->headers);
	free(s->note);
	memset(s, 0, sizeof(*s));
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void settings_copy(struct mem_settings *d, const struct mem_settings *s)
{
	size_t n = 0;

	*d = *s;
	d->agent_id = dup_or_null(s->agent_id);
	d->workspace = dup_or_null(s->workspace);
	d->db_path = dup_or_null(s->db_path);
	d->citations = dup_or_null(s->citations);
	d->provider = dup_or_null(s->provider);
	d->model = dup_or_null(s->model);
	d->base_url = dup_or_null(s->base_url);
	d->api_key = dup_or_null(s->api_key);
	d->note = dup_or_null(s->note);
	d->headers = NULL;
	if (s->headers) {
		while (s->headers[n])
			n++;
		d->headers = xcalloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			d->headers[i] = xstrdup(s->headers[i]);
	}
}

/* ==== the manager ==== */

struct mem_mgr {
	struct mem_mgr *next;
	uv_loop_t *loop;
	struct http_client *hc;
	char *db_path, *workspace, *memdir;
	struct mem_db *db; /* opened by the first work item; guarded by mu */
	uv_mutex_t mu;
	bool dirty;   /* a watched file changed since the last sync (loop thread) */
	bool syncing; /* a watcher-started sync is queued or running */
	uv_fs_event_t ev_ws, ev_mem;
	bool ev_ws_on, ev_mem_on;
	uv_timer_t debounce;
	bool timer_on;
	struct mem_settings ws; /* settings for watcher-started syncs */
	int debounce_ms;
};

static struct mem_mgr *managers;

enum { OP_SEARCH, OP_INDEX, OP_STATUS };

struct mem_op {
	struct mem_mgr *m;
	struct mem_settings s;
	int kind;
	bool force, dirty;
	char *query, *session_key;
	int max;
	double min;
	mem_op_cb cb;
	void *ud;
	uv_work_t work;
	/* phase 0: sync */
	struct mem_sync_stats stats;
	int rc;
	char err[512];
	struct mem_pending *pend;
	size_t npend, next;
	/* embeddings */
	float *pvecs, *qvec;
	int dims, qdims;
	char *embed_err;
	/* phase 1: store and search */
	struct mem_hit *hits;
	size_t nhits;
	json_t *status;
};

static void mgr_watch_start(struct mem_mgr *m);
static void op_embed_next(struct mem_op *op);

/* Open the connection on first use; call with mu held, on a worker. */
static int mgr_db(struct mem_mgr *m, char *err, size_t errlen)
{
	if (!m->db)
		m->db = mem_db_open(m->db_path, err, errlen);
	return m->db ? 0 : -1;
}

static void op_free(struct mem_op *op)
{
	mem_settings_release(&op->s);
	free(op->query);
	free(op->session_key);
	mem_pending_free(op->pend, op->npend);
	free(op->pvecs);
	free(op->qvec);
	free(op->embed_err);
	mem_hits_free(op->hits, op->nhits);
	json_decref(op->status);
	free(op);
}

static void op_finish(struct mem_op *op, json_t *result, const char *err)
{
	if (op->cb)
		op->cb(op->ud, result, err);
	else
		json_decref(result);
	op_free(op);
}

/* ---- phase 1: store vectors, search ---- */

static void w_phase1(uv_work_t *w)
{
	struct mem_op *op = w->data;
	struct mem_mgr *m = op->m;
	size_t i, cand;
	struct mem_hit *kw = NULL, *vec = NULL;
	size_t nkw = 0, nvec = 0;

	uv_mutex_lock(&m->mu);
	if (op->pvecs && op->npend) {
		mem_db_begin(m->db);
		for (i = 0; i < op->npend; i++)
			mem_db_put_embedding(m->db, op->s.model, op->pend[i].hash,
					     op->pvecs + i * (size_t)op->dims, op->dims);
		mem_db_commit(m->db);
	}
	if (op->s.provider && (op->npend || op->stats.changed || op->stats.removed))
		mem_db_prune_embeddings(m->db, op->s.model);
	if (op->kind == OP_SEARCH) {
		cand = (size_t)op->max * (size_t)op->s.candidate_multiplier;
		nkw = mem_db_search_text(m->db, op->query, cand, &kw);
		if (op->qvec && op->s.hybrid) {
			nvec = mem_db_search_vector(m->db, op->s.model, op->qvec, op->qdims, cand,
						    &vec);
			op->nhits = mem_hybrid_merge(vec, nvec, kw, nkw, op->s.vector_weight,
						     op->s.text_weight, op->min, (size_t)op->max,
						     &op->hits);
		} else {
			op->nhits =
				mem_select_keyword(kw, nkw, op->min, (size_t)op->max, &op->hits);
		}
	} else {
		op->status = mem_db_status(m->db, op->s.provider ? op->s.model : NULL);
	}
	uv_mutex_unlock(&m->mu);
}

/* OpenClaw's deriveChatTypeFromSessionKey: a key with a channel/group part is not direct. */
static bool direct_chat(const char *key)
{
	char *k, *tok, *save;
	int part = 0;
	bool direct = true;

	if (!key)
		return true;
	k = xstrdup(key);
	for (tok = strtok_r(k, ":", &save); tok; tok = strtok_r(NULL, ":", &save), part++)
		if (part >= 2 && (!strcasecmp(tok, "channel") || !strcasecmp(tok, "group")))
			direct = false;
	free(k);
	return direct;
}

static json_t *search_result(struct mem_op *op)
{
	json_t *out = json_object(), *arr = json_array();
	bool hybrid = op->qvec && op->s.hybrid;
	bool cite = !strcmp(op->s.citations, "on") ||
		    (!strcmp(op->s.citations, "auto") && direct_chat(op->session_key));
	size_t i;

	for (i = 0; i < op->nhits; i++) {
		const struct mem_hit *h = &op->hits[i];
		json_t *r = json_object();
		char *citation =
			h->start_line == h->end_line
				? xasprintf("%s#L%d", h->path, h->start_line)
				: xasprintf("%s#L%d-L%d", h->path, h->start_line, h->end_line);

		json_object_set_new(r, "path", json_string(h->path));
		json_object_set_new(r, "startLine", json_integer(h->start_line));
		json_object_set_new(r, "endLine", json_integer(h->end_line));
		json_object_set_new(r, "score", json_real(h->score));
		if (hybrid)
			json_object_set_new(r, "vectorScore", json_real(h->vector_score));
		json_object_set_new(r, "textScore", json_real(h->text_score));
		if (cite) {
			size_t l = strlen(h->snippet);

			while (l && (h->snippet[l - 1] == '\n' || h->snippet[l - 1] == ' '))
				l--;
			json_object_set_new(
				r, "snippet",
				json_sprintf("%.*s\n\nSource: %s", (int)l, h->snippet, citation));
			json_object_set_new(r, "citation", json_string(citation));
		} else {
			json_object_set_new(r, "snippet", json_string(h->snippet));
		}
		json_object_set_new(r, "source", json_string("memory"));
		json_object_set_new(r, "corpus", json_string("memory"));
		json_array_append_new(arr, r);
		free(citation);
	}
	json_object_set_new(out, "results", arr);
	json_object_set_new(out, "provider", json_string(op->s.provider ? op->s.provider : "none"));
	if (op->s.provider)
		json_object_set_new(out, "model", json_string(op->s.model));
	json_object_set_new(out, "citations", json_string(op->s.citations));
	json_object_set_new(out, "mode", json_string(hybrid ? "hybrid" : "fts-only"));
	if (op->embed_err) {
		json_object_set_new(out, "partial", json_true());
		json_object_set_new(
			out, "warning",
			json_sprintf(
				"Only memory-file keyword matches are included; semantic memory "
				"retrieval failed: %s",
				op->embed_err));
	} else if (op->s.note) {
		json_object_set_new(out, "warning", json_string(op->s.note));
	}
	return out;
}

static void stats_into(json_t *o, const struct mem_op *op)
{
	json_object_set_new(o, "scanned", json_integer((json_int_t)op->stats.files));
	json_object_set_new(o, "changed", json_integer((json_int_t)op->stats.changed));
	json_object_set_new(o, "touched", json_integer((json_int_t)op->stats.touched));
	json_object_set_new(o, "removed", json_integer((json_int_t)op->stats.removed));
	json_object_set_new(o, "skipped", json_integer((json_int_t)op->stats.skipped));
	json_object_set_new(o, "reindexed", json_boolean(op->stats.reindexed));
	json_object_set_new(o, "embeddedNow", json_integer(op->pvecs ? (json_int_t)op->npend : 0));
}

static json_t *status_result(struct mem_op *op)
{
	json_t *o = op->status ? json_incref(op->status) : json_object();

	json_object_set_new(o, "agentId", json_string(op->s.agent_id));
	json_object_set_new(o, "workspaceDir", json_string(op->s.workspace));
	json_object_set_new(o, "dbPath", json_string(op->s.db_path));
	json_object_set_new(o, "provider", json_string(op->s.provider ? op->s.provider : "none"));
	if (op->s.provider)
		json_object_set_new(o, "model", json_string(op->s.model));
	json_object_set_new(o, "mode",
			    json_string(op->s.provider && op->s.hybrid ? "hybrid" : "fts-only"));
	json_object_set_new(o, "chunking",
			    json_pack("{s:i, s:i}", "tokens", op->s.chunk_tokens, "overlap",
				      op->s.chunk_overlap));
	json_object_set_new(o, "dirty", json_boolean(op->dirty));
	if (op->s.note)
		json_object_set_new(o, "warning", json_string(op->s.note));
	if (op->embed_err)
		json_object_set_new(o, "embeddingError", json_string(op->embed_err));
	return o;
}

static void a_phase1(uv_work_t *w, int status)
{
	struct mem_op *op = w->data;
	json_t *res;

	if (op->kind == OP_SEARCH) {
		res = search_result(op);
	} else {
		res = status_result(op);
		if (op->kind == OP_INDEX)
			stats_into(res, op);
	}
	/* `pincer memory index` must fail loudly when embeddings failed. */
	if (op->kind == OP_INDEX && op->embed_err && op->cb) {
		char err[600];

		snprintf(err, sizeof(err), "%s", op->embed_err);
		json_decref(res);
		op_finish(op, NULL, err);
		return;
	}
	op_finish(op, res, NULL);
}

static void op_phase1(struct mem_op *op)
{
	op->work.data = op;
	uv_queue_work(op->m->loop, &op->work, w_phase1, a_phase1);
}

/* ---- embeddings, on the loop ---- */

static void op_embed_fail(struct mem_op *op, const char *err)
{
	free(op->embed_err);
	op->embed_err = xstrdup(err);
	free(op->pvecs);
	op->pvecs = NULL;
	free(op->qvec);
	op->qvec = NULL;
	op_phase1(op);
}

static void on_query_vec(void *ud, float *vecs, size_t n, int dims, const char *err)
{
	struct mem_op *op = ud;

	if (!vecs) {
		op_embed_fail(op, err);
		return;
	}
	if (op->pvecs && dims != op->dims) {
		free(vecs);
		op_embed_fail(op, "query and document vectors differ in size");
		return;
	}
	op->qvec = vecs;
	op->qdims = dims;
	op_phase1(op);
}

static void on_batch(void *ud, float *vecs, size_t n, int dims, const char *err)
{
	struct mem_op *op = ud;
	size_t start = op->next - n;

	if (!vecs) {
		op_embed_fail(op, err);
		return;
	}
	if (!op->pvecs) {
		op->dims = dims;
		op->pvecs = xcalloc(op->npend * (size_t)dims, sizeof(float));
	} else if (dims != op->dims) {
		free(vecs);
		op_embed_fail(op, "embedding provider returned vectors of different sizes");
		return;
	}
	memcpy(op->pvecs + start * (size_t)dims, vecs, n * (size_t)dims * sizeof(float));
	free(vecs);
	op_embed_next(op);
}

static void op_embed_next(struct mem_op *op)
{
	const char *texts[MEM_EMBED_BATCH];
	size_t n = 0;

	if (op->next < op->npend) {
		while (n < MEM_EMBED_BATCH && op->next < op->npend)
			texts[n++] = op->pend[op->next++].text;
		if (!mem_embed_start(op->m->hc, &op->s, texts, n, false, on_batch, op))
			op_embed_fail(op, "cannot start the embeddings request");
		return;
	}
	if (op->kind == OP_SEARCH && op->s.hybrid) {
		texts[0] = op->query;
		if (!mem_embed_start(op->m->hc, &op->s, texts, 1, true, on_query_vec, op))
			op_embed_fail(op, "cannot start the embeddings request");
		return;
	}
	op_phase1(op);
}

/* ---- phase 0: sync ---- */

static void w_phase0(uv_work_t *w)
{
	struct mem_op *op = w->data;
	struct mem_mgr *m = op->m;

	uv_mutex_lock(&m->mu);
	op->rc = mgr_db(m, op->err, sizeof(op->err));
	if (op->rc == 0 && op->kind == OP_STATUS) {
		int d = mem_db_dirty(m->db, op->s.workspace);

		op->dirty = d != 0;
	} else if (op->rc == 0) {
		/* The cheap check: stat every memory file against its row. */
		if (op->kind == OP_INDEX || op->force || op->dirty ||
		    mem_db_dirty(m->db, op->s.workspace))
			op->rc = mem_db_sync(m->db, op->s.workspace, op->s.chunk_tokens,
					     op->s.chunk_overlap, op->force, &op->stats, op->err,
					     sizeof(op->err));
		if (op->rc == 0 && op->s.provider && m->hc)
			op->npend = mem_db_missing_embeddings(m->db, op->s.model, (size_t)1 << 20,
							      &op->pend);
	}
	uv_mutex_unlock(&m->mu);
}

static void a_phase0(uv_work_t *w, int status)
{
	struct mem_op *op = w->data;

	if (op->rc < 0) {
		char err[sizeof(op->err)];

		memcpy(err, op->err, sizeof(err));
		op_finish(op, NULL, err);
		return;
	}
	if (op->kind == OP_STATUS || !op->s.provider || !op->m->hc) {
		op_phase1(op);
		return;
	}
	op_embed_next(op);
}

static struct mem_op *op_new(struct mem_mgr *m, const struct mem_settings *s, int kind,
			     mem_op_cb cb, void *ud)
{
	struct mem_op *op = xcalloc(1, sizeof(*op));

	op->m = m;
	settings_copy(&op->s, s);
	op->kind = kind;
	op->cb = cb;
	op->ud = ud;
	op->max = s->max_results;
	op->min = s->min_score;
	/* A change the watcher saw is synced by whichever operation runs next. */
	op->dirty = m->dirty;
	if (kind != OP_STATUS)
		m->dirty = false;
	op->work.data = op;
	uv_queue_work(m->loop, &op->work, w_phase0, a_phase0);
	return op;
}

struct mem_op *mem_search(struct mem_mgr *m, const struct mem_settings *s, const char *query,
			  int max_results, double min_score, const char *session_key, mem_op_cb cb,
			  void *ud)
{
	struct mem_op *op = op_new(m, s, OP_SEARCH, cb, ud);

	op->query = xstrdup(query);
	op->session_key = dup_or_null(session_key);
	if (max_results > 0)
		op->max = max_results > 100 ? 100 : max_results;
	if (!isnan(min_score))
		op->min = min_score;
	return op;
}

struct mem_op *mem_index(struct mem_mgr *m, const struct mem_settings *s, bool force, mem_op_cb cb,
			 void *ud)
{
	struct mem_op *op = op_new(m, s, OP_INDEX, cb, ud);

	op->force = force;
	return op;
}

struct mem_op *mem_status(struct mem_mgr *m, const struct mem_settings *s, mem_op_cb cb, void *ud)
{
	return op_new(m, s, OP_STATUS, cb, ud);
}

void mem_op_cancel(struct mem_op *op)
{
	if (op)
		op->cb = NULL;
}

/* ---- the fs watch ---- */

static void on_watch_sync(void *ud, json_t *result, const char *err)
{
	struct mem_mgr *m = ud;

	m->syncing = false;
	if (err)
		log_warn("memory", "background index of %s failed: %s", m->workspace, err);
	else
		log_debug("memory", "re-indexed %s after a change (%lld changed)", m->workspace,
			  (long long)json_integer_value(json_object_get(result, "changed")));
	json_decref(result);
}

static void on_debounce(uv_timer_t *t)
{
	struct mem_mgr *m = t->data;

	if (m->syncing) {
		/* One at a time; the next search (or change) picks up what this one missed. */
		m->dirty = true;
		return;
	}
	m->syncing = true;
	m->dirty = true;
	mem_index(m, &m->ws, false, on_watch_sync, m);
}

static bool memory_name(const char *f)
{
	return !f || !strcmp(f, "MEMORY.md") || !strcmp(f, "memory.md") || !strcmp(f, "USER.md") ||
	       !strcmp(f, "memory") || str_ends_with(f, ".md");
}

static void on_fs_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
	struct mem_mgr *m = h->data;

	if (status < 0 || !memory_name(filename))
		return;
	if (h == &m->ev_ws && filename && !strcmp(filename, "memory") && !m->ev_mem_on)
		mgr_watch_start(m); /* memory/ just appeared */
	m->dirty = true;
	uv_timer_start(&m->debounce, on_debounce, (uint64_t)m->debounce_ms, 0);
}

static void mgr_watch_start(struct mem_mgr *m)
{
	if (!m->timer_on) {
		uv_timer_init(m->loop, &m->debounce);
		m->debounce.data = m;
		m->timer_on = true;
	}
	if (!m->ev_ws_on && fs_is_dir(m->workspace)) {
		uv_fs_event_init(m->loop, &m->ev_ws);
		m->ev_ws.data = m;
		if (uv_fs_event_start(&m->ev_ws, on_fs_event, m->workspace, 0) == 0)
			m->ev_ws_on = true;
		else
			uv_close((uv_handle_t *)&m->ev_ws, NULL);
	}
	/*
	 * inotify is not recursive: memory/ itself is watched, and files in its
	 * subfolders are caught by the stat check before every search.
	 */
	if (!m->ev_mem_on && fs_is_dir(m->memdir)) {
		uv_fs_event_init(m->loop, &m->ev_mem);
		m->ev_mem.data = m;
		if (uv_fs_event_start(&m->ev_mem, on_fs_event, m->memdir, 0) == 0)
			m->ev_mem_on = true;
		else
			uv_close((uv_handle_t *)&m->ev_mem, NULL);
	}
}

struct mem_mgr *mem_mgr_get(uv_loop_t *loop, struct http_client *hc, const struct mem_settings *s,
			    bool watch)
{
	struct mem_mgr *m;

	for (m = managers; m; m = m->next)
		if (m->loop == loop && !strcmp(m->db_path, s->db_path))
			break;
	if (!m) {
		m = xcalloc(1, sizeof(*m));
		m->loop = loop;
		m->db_path = xstrdup(s->db_path);
		m->workspace = xstrdup(s->workspace);
		m->memdir = fs_join(s->workspace, "memory");
		uv_mutex_init(&m->mu);
		m->next = managers;
		managers = m;
	}
	m->hc = hc;
	/* The latest settings drive watcher-started syncs (config reloads included). */
	mem_settings_release(&m->ws);
	settings_copy(&m->ws, s);
	m->debounce_ms = s->watch_debounce_ms;
	if (watch && s->watch && strcmp(m->workspace, s->workspace) == 0)
		mgr_watch_start(m);
	return m;
}

static void mgr_free_cb(uv_handle_t *h)
{
	(void)h;
}

void mem_mgr_shutdown_all(uv_loop_t *loop)
{
	struct mem_mgr **pp = &managers, *m;

	while ((m = *pp)) {
		if (m->loop != loop) {
			pp = &m->next;
			continue;
		}
		*pp = m->next;
		if (m->ev_ws_on)
			uv_close((uv_handle_t *)&m->ev_ws, mgr_free_cb);
		if (m->ev_mem_on)
			uv_close((uv_handle_t *)&m->ev_mem, mgr_free_cb);
		if (m->timer_on)
			uv_close((uv_handle_t *)&m->debounce, mgr_free_cb);
		/* Let the closes run; work items in flight hold no handle of ours. */
		uv_run(loop, UV_RUN_NOWAIT);
		uv_mutex_lock(&m->mu);
		mem_db_close(m->db);
		uv_mutex_unlock(&m->mu);
		uv_mutex_destroy(&m->mu);
		mem_settings_release(&m->ws);
		free(m->db_path);
		free(m->workspace);
		free(m->memdir);
		free(m);
	}
}

/* ==== memory_get ==== */

/* Normalise `rel` (no "." or ".." segments, no empty ones). New string or NULL. */
static char *norm_rel(const char *ws, const char *in)
{
	char *s, *tok, *save;
	struct buf b;
	const char *p = in;
	size_t wl = strlen(ws);

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '/') {
		/* An absolute path is accepted only inside the workspace. */
		if (strncmp(p, ws, wl) || p[wl] != '/')
			return NULL;
		p += wl + 1;
	}
	s = xstrdup(p);
	buf_init(&b, PATH_MAX);
	for (tok = strtok_r(s, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			buf_release(&b);
			free(s);
			return NULL;
		}
		if (b.len)
			buf_putc(&b, '/');
		buf_puts(&b, tok);
	}
	free(s);
	while (b.len && (b.p[b.len - 1] == ' ' || b.p[b.len - 1] == '\n'))
		b.p[--b.len] = 0;
	return buf_detach(&b, NULL);
}

json_t *mem_read_file(const char *workspace, const char *rel_in, long from, long lines,
		      long max_chars, char *err, size_t errlen)
{
	char *rel = NULL, *abs = NULL, *real_ws = NULL, *real = NULL;
	struct stat st;
	struct buf content;
	json_t *out = NULL;
	const char *p, *end;
	long line_no = 1, included = 0;
	size_t chars = 0;
	bool more = false, hard = false;
	struct buf text;

	if (!rel_in || !*rel_in) {
		snprintf(err, errlen, "path required");
		return NULL;
	}
	if (from < 1)
		from = 1;
	if (lines < 1)
		lines = 120;
	if (max_chars < 1)
		max_chars = 12000;
	real_ws = realpath(workspace, NULL);
	rel = norm_rel(real_ws ? real_ws : workspace, rel_in);
	if (!rel && real_ws && rel_in[0] == '/')
		rel = norm_rel(workspace, rel_in);
	if (!rel || !mem_path_allowed(rel)) {
		snprintf(err, errlen, "path is not an allowed Markdown memory file");
		goto out;
	}
	abs = fs_join(real_ws ? real_ws : workspace, rel);
	if (lstat(abs, &st) < 0) {
		out = json_pack("{s:s, s:s, s:s}", "status", "not_found", "text", "", "path", rel);
		goto out;
	}
	/* No symlinks: not the file, and no folder on the way may lead elsewhere. */
	real = realpath(abs, NULL);
	if (S_ISLNK(st.st_mode) || !real || !real_ws || strcmp(real, abs) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "path is not an allowed Markdown memory file");
		goto out;
	}
	buf_init(&content, MEM_FILE_MAX_BYTES);
	if (fs_read_file(abs, &content) < 0) {
		snprintf(err, errlen, "cannot read %s: %s", rel,
			 errno == E2BIG ? "file too large" : strerror(errno));
		buf_release(&content);
		goto out;
	}
	/* OpenClaw's buildMemoryReadResult: whole lines, then a character budget. */
	buf_init(&text, BUF_UNLIMITED);
	p = content.p;
	end = content.p + content.len;
	if (content.len && end[-1] == '\n')
		end--; /* a trailing newline does not start another line */
	while (p <= end && content.len) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t ll = (size_t)(le - p);

		if (line_no >= from) {
			if (included == lines) {
				more = true;
				break;
			}
			if (included && chars + ll + 1 > (size_t)max_chars) {
				more = true;
				break;
			}
			if (included)
				buf_putc(&text, '\n');
			buf_append(&text, p, ll);
			chars += ll + (included ? 1 : 0);
			included++;
			if (chars > (size_t)max_chars) {
				hard = true;
				buf_truncate(&text, str_utf8_prefix(text.p, (size_t)max_chars));
				break;
			}
		}
		line_no++;
		if (!nl)
			break;
		p = nl + 1;
	}
	buf_release(&content);
	if (!str_utf8_prefix(text.p, text.len) && text.len)
		buf_truncate(&text, 0);
	else
		buf_truncate(&text, str_utf8_prefix(text.p, text.len));
	if (more || hard) {
		if (!hard)
			buf_printf(&text, "\n\n[More content available. Use from=%ld to continue.]",
				   from + included);
		else
			buf_puts(&text,
				 "\n\n[More content available. Requested excerpt exceeded "
				 "the default maxChars budget. If you need the full raw line, "
				 "use read on the source file.]");
	}
	out = json_pack("{s:s, s:s, s:s, s:I, s:I}", "status", "ok", "text", text.p, "path", rel,
			"from", (json_int_t)from, "lines", (json_int_t)included);
	if (more || hard)
		json_object_set_new(out, "truncated", json_true());
	if (more && !hard)
		json_object_set_new(out, "nextFrom", json_integer(from + included));
	buf_release(&text);
out:
	free(rel);
	free(abs);
	free(real);
	free(real_ws);
	return out;
}
