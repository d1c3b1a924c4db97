/*
 * memory.c - `pincer memory status|index|search`: the agent's memory index
 * from the command line, worked locally (no gateway needed) on a private
 * loop, the same code the memory_search tool runs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/workspace.h"
#include "cmd/cmd.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "memory/memory.h"
#include "net/http_client.h"

const char cmd_memory_usage[] =
	"usage: pincer memory <command> [--agent ID] [--json]\n"
	"\n"
	"The memory index of an agent: MEMORY.md, USER.md and memory/**/*.md of its\n"
	"workspace, cut into chunks and kept in <state>/memory/<agentId>.sqlite with\n"
	"full-text (BM25) search and, when an embedding provider has a key,\n"
	"vectors for hybrid search. Works from the config and the workspace; no\n"
	"gateway is needed (a running gateway keeps the index fresh by itself).\n";

struct mm_opts {
	bool json, force;
	const char *agent, *min_score;
	long long max_results, repeat;
};

struct mm_run {
	bool done;
	json_t *result;
	char *err;
};

static void mm_done(void *ud, json_t *result, const char *err)
{
	struct mm_run *r = ud;

	r->done = true;
	r->result = result;
	r->err = err ? xstrdup(err) : NULL;
}

static void mm_print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s)
		puts(s);
	free(s);
}

enum { MM_STATUS, MM_INDEX, MM_SEARCH };

static int mm_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * --repeat N: run the same search N more times on the warm index and print
 * the latency of one search (sync check, query embedding, SQL, merge) to
 * stderr, for bench/memory.py.
 */
static void mm_repeat(uv_loop_t *loop, struct mem_mgr *m, const struct mem_settings *s,
		      const char *query, const struct mm_opts *o)
{
	size_t n = (size_t)(o->repeat > 100000 ? 100000 : o->repeat), i;
	double *ms = xcalloc(n, sizeof(*ms));

	for (i = 0; i < n; i++) {
		struct mm_run r = { 0 };
		uint64_t t0 = time_mono_ns();

		mem_search(m, s, query, (int)o->max_results,
			   o->min_score ? strtod(o->min_score, NULL) : NAN, NULL, mm_done, &r);
		while (!r.done && uv_run(loop, UV_RUN_ONCE))
			;
		ms[i] = (double)(time_mono_ns() - t0) / 1e6;
		json_decref(r.result);
		free(r.err);
	}
	qsort(ms, n, sizeof(*ms), mm_cmp_double);
	fprintf(stderr, "search_runs: %zu\nsearch_p50_ms: %.3f\nsearch_p99_ms: %.3f\n", n,
		ms[n / 2], ms[(size_t)((double)(n - 1) * 0.99)]);
	free(ms);
}

static int mm_run(struct ctx *ctx, const struct mm_opts *o, int what, const char *query)
{
	const struct paths *paths = cli_paths(ctx);
	struct config cfg;
	struct buf errs;
	struct log_opts lo;
	struct mem_settings s;
	struct http_client *hc;
	struct mem_mgr *m;
	struct mm_run r = { 0 };
	uv_loop_t loop;
	char *agent, *ws;
	int rc = 0;

	log_opts_default(&lo);
	lo.console_level = LOG_ERROR;
	log_setup(&lo);
	buf_init(&errs, 1 << 20);
	config_init(&cfg);
	if (config_open(&cfg, paths, &errs) < 0) {
		fprintf(stderr, "pincer: invalid config %s:\n%s", paths->config_path, errs.p);
		buf_release(&errs);
		config_release(&cfg);
		return 1;
	}
	buf_release(&errs);
	agent = o->agent ? xstrdup(o->agent) : workspace_default_agent_id(&cfg);
	if (o->agent && !workspace_agent_entry(&cfg, agent) &&
	    json_array_size(config_get(&cfg, "agents.list")) > 0) {
		fprintf(stderr, "pincer memory: unknown agent '%s'\n", agent);
		free(agent);
		config_release(&cfg);
		return EXIT_USAGE;
	}
	ws = workspace_dir(&cfg, paths, agent);
	mem_settings_resolve(&cfg, paths, agent, ws, &s);
	if (!s.enabled && what != MM_STATUS) {
		fprintf(stderr, "pincer memory: memory search is disabled for agent '%s'\n", agent);
		rc = 1;
		goto out;
	}
	uv_loop_init(&loop);
	hc = http_client_new(&loop);
	m = mem_mgr_get(&loop, hc, &s, false);
	if (what == MM_STATUS)
		mem_status(m, &s, mm_done, &r);
	else if (what == MM_INDEX)
		mem_index(m, &s, o->force, mm_done, &r);
	else
		mem_search(m, &s, query, (int)o->max_results,
			   o->min_score ? strtod(o->min_score, NULL) : NAN, NULL, mm_done, &r);
	while (!r.done && uv_run(&loop, UV_RUN_ONCE))
		;
	if (what == MM_SEARCH && o->repeat > 1 && r.result)
		mm_repeat(&loop, m, &s, query, o);
	mem_mgr_shutdown_all(&loop);
	http_client_free(hc);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	if (!r.result) {
		fprintf(stderr, "pincer memory: %s\n", r.err ? r.err : "failed");
		rc = 1;
		goto out;
	}
	if (o->json) {
		mm_print_json(r.result);
	} else if (what == MM_SEARCH) {
		const json_t *arr = json_object_get(r.result, "results"), *h;
		size_t i;

		if (json_string_value(json_object_get(r.result, "warning")))
			fprintf(stderr, "warning: %s\n",
				json_string_value(json_object_get(r.result, "warning")));
		if (!json_array_size(arr))
			printf("No matches.\n");
		json_array_foreach(arr, i, h)
		{
			const char *snip = json_string_value(json_object_get(h, "snippet"));
			int shown = 0;

			printf("%.3f  %s:%lld-%lld\n",
			       json_number_value(json_object_get(h, "score")),
			       json_string_value(json_object_get(h, "path")),
			       (long long)json_integer_value(json_object_get(h, "startLine")),
			       (long long)json_integer_value(json_object_get(h, "endLine")));
			/* The first few non-empty lines of the snippet, indented. */
			while (snip && *snip && shown < 4) {
				const char *nl = strchr(snip, '\n');
				int len = nl ? (int)(nl - snip) : (int)strlen(snip);

				if (len > 0 && strncmp(snip, "Source: ", 8)) {
					printf("    %.*s\n", len > 100 ? 100 : len, snip);
					shown++;
				}
				snip = nl ? nl + 1 : snip + len;
			}
		}
	} else {
		const json_t *R = r.result;

		printf("Agent:     %s\n", json_string_value(json_object_get(R, "agentId")));
		printf("Workspace: %s\n", json_string_value(json_object_get(R, "workspaceDir")));
		printf("Index:     %s\n", json_string_value(json_object_get(R, "dbPath")));
		printf("Files:     %lld\n",
		       (long long)json_integer_value(json_object_get(R, "files")));
		printf("Chunks:    %lld\n",
		       (long long)json_integer_value(json_object_get(R, "chunks")));
		if (json_string_value(json_object_get(R, "model")))
			printf("Embedding: %s/%s (%lld chunks embedded)\n",
			       json_string_value(json_object_get(R, "provider")),
			       json_string_value(json_object_get(R, "model")),
			       (long long)json_integer_value(json_object_get(R, "embedded")));
		else
			printf("Embedding: none (keyword search only)\n");
		printf("Mode:      %s\n", json_string_value(json_object_get(R, "mode")));
		if (what == MM_STATUS)
			printf("Dirty:     %s\n", json_is_true(json_object_get(R, "dirty"))
							  ? "yes (files changed)"
							  : "no");
		else
			printf("Indexed:   %lld changed, %lld removed, %lld embedded now\n",
			       (long long)json_integer_value(json_object_get(R, "changed")),
			       (long long)json_integer_value(json_object_get(R, "removed")),
			       (long long)json_integer_value(json_object_get(R, "embeddedNow")));
		if (json_string_value(json_object_get(R, "warning")))
			printf("Warning:   %s\n", json_string_value(json_object_get(R, "warning")));
	}
out:
	json_decref(r.result);
	free(r.err);
	mem_settings_release(&s);
	free(agent);
	free(ws);
	config_release(&cfg);
	return rc;
}

static int mm_parse(struct ctx *ctx, int argc, char **argv, struct mm_opts *o, int what)
{
	const struct opt common[] = {
		{ OPT_FLAG, "json", 0, &o->json, NULL, "print JSON" },
		{ OPT_STR, "agent", 0, &o->agent, "ID", "the agent (default: the default agent)" },
		{ OPT_FLAG, "force", 0, &o->force, NULL, "rebuild the whole index (index only)" },
		{ OPT_INT, "max-results", 0, &o->max_results, "N",
		  "at most N results (search; default memory.search.query.maxResults, 6)" },
		{ OPT_STR, "min-score", 0, &o->min_score, "X",
		  "drop results scoring below X (search; default 0.35)" },
		{ OPT_INT, "repeat", 0, &o->repeat, "N",
		  "run the search N more times and print its latency to stderr (benchmarks)" },
		{ OPT_END },
	};

	memset(o, 0, sizeof(*o));
	(void)what;
	return cli_parse(ctx, argc, argv, common);
}

static int cmd_memory_status(int argc, char **argv, struct ctx *ctx)
{
	struct mm_opts o;
	int n = mm_parse(ctx, argc, argv, &o, MM_STATUS);

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[0]);
	return mm_run(ctx, &o, MM_STATUS, NULL);
}

static int cmd_memory_index(int argc, char **argv, struct ctx *ctx)
{
	struct mm_opts o;
	int n = mm_parse(ctx, argc, argv, &o, MM_INDEX);

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[0]);
	return mm_run(ctx, &o, MM_INDEX, NULL);
}

static int cmd_memory_search(int argc, char **argv, struct ctx *ctx)
{
	struct mm_opts o;
	struct buf q;
	int n = mm_parse(ctx, argc, argv, &o, MM_SEARCH), rc;

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n < 1)
		return cli_usage_error(ctx, "expected a query");
	if (o.min_score) {
		char *end;
		double v = strtod(o.min_score, &end);

		if (*end || !(v >= 0 && v <= 1))
			return cli_usage_error(ctx, "--min-score: expected a number from 0 to 1");
	}
	/* The words of the query may come unquoted. */
	buf_init(&q, 64 * 1024);
	for (int i = 0; i < n; i++)
		buf_printf(&q, "%s%s", i ? " " : "", argv[i]);
	rc = mm_run(ctx, &o, MM_SEARCH, q.p);
	buf_release(&q);
	return rc;
}

int cmd_memory(int argc, char **argv, struct ctx *ctx)
{
	return cmd_memory_status(argc, argv, ctx);
}

const struct cmd cmd_memory_sub[] = {
	{ "status", cmd_memory_status, "show the index: files, chunks, embeddings",
	  "usage: pincer memory status [--json] [--agent ID]\n"
	  "\n"
	  "Where the index is, how many files and chunks it holds, which embedding\n"
	  "provider and model it uses, and whether files changed since the last sync.\n",
	  NULL },
	{ "index", cmd_memory_index, "bring the index up to date (or rebuild it)",
	  "usage: pincer memory index [--force] [--json] [--agent ID]\n"
	  "\n"
	  "Re-chunk the memory files that changed since the last sync (all of them\n"
	  "with --force) and embed every chunk that has no vector yet. Exits 1 when\n"
	  "the embedding provider fails.\n",
	  NULL },
	{ "search", cmd_memory_search, "search the memory files",
	  "usage: pincer memory search QUERY [--max-results N] [--min-score X] [--json] "
	  "[--agent ID]\n"
	  "\n"
	  "What the memory_search tool would answer: the best matching chunks with\n"
	  "path, line range and score (--json: the tool's JSON).\n",
	  NULL },
	{ NULL },
};
