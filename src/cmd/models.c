/*
 * models.c - `pincer models list|status|set`: what models are known, which
 * one the default agent uses and whether it has a credential, and setting
 * it. All local: read from the config, presets and auth profiles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/workspace.h"
#include "cmd/cmd.h"
#include "config/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "providers/auth.h"
#include "providers/catalog.h"

const char cmd_models_usage[] =
	"usage: pincer models <list|status|set> ...\n"
	"\n"
	"Models are named provider/model (anthropic/claude-sonnet-4-5, openai/gpt-5,\n"
	"ollama/llama3.3, openrouter/…). Presets cover the common providers; others\n"
	"come from models.providers in the config.";

static int models_load(struct ctx *ctx, struct config *cfg)
{
	struct buf errs;
	struct log_opts lo;

	log_opts_default(&lo);
	lo.console_level = LOG_ERROR;
	log_setup(&lo);
	config_init(cfg);
	buf_init(&errs, 1 << 20);
	if (config_open(cfg, cli_paths(ctx), &errs) < 0) {
		fprintf(stderr, "pincer: invalid config %s:\n%s", cli_paths(ctx)->config_path,
			errs.p);
		buf_release(&errs);
		config_release(cfg);
		return 1;
	}
	buf_release(&errs);
	return 0;
}

static int models_list(int argc, char **argv, struct ctx *ctx)
{
	bool json = false;
	const struct opt opts[] = {
		{ OPT_FLAG, "json", 0, &json, NULL, "print JSON" },
		{ OPT_END },
	};
	int r = cli_parse(ctx, argc, argv, opts);
	struct config cfg;
	json_t *list, *row;
	size_t i;

	if (r < 0)
		return CLI_PARSE_EXIT(r);
	if (models_load(ctx, &cfg))
		return 1;
	list = catalog_list(&cfg);
	if (json) {
		cmd_gw_print_json(list, false);
	} else {
		printf("%-48s %-10s %s\n", "MODEL", "CONTEXT", "NAME");
		json_array_foreach(list, i, row)
		{
			char ref[256];
			snprintf(ref, sizeof(ref), "%s/%s",
				 json_string_value(json_object_get(row, "provider")),
				 json_string_value(json_object_get(row, "id")));
			printf("%-48s %-10lld %s\n", ref,
			       (long long)json_integer_value(json_object_get(row, "contextWindow")),
			       json_string_value(json_object_get(row, "name"))
				       ? json_string_value(json_object_get(row, "name"))
				       : "");
		}
	}
	json_decref(list);
	config_release(&cfg);
	return 0;
}

static int models_status(int argc, char **argv, struct ctx *ctx)
{
	bool json = false;
	const char *agent = NULL;
	const struct opt opts[] = {
		{ OPT_FLAG, "json", 0, &json, NULL, "print JSON" },
		{ OPT_STR, "agent", 0, &agent, "ID", "the agent (default: the default agent)" },
		{ OPT_END },
	};
	int r = cli_parse(ctx, argc, argv, opts), rc;
	struct config cfg;
	char *aid, *adir;
	struct auth_store *st;
	json_t *out, *v, *creds;
	size_t i;

	if (r < 0)
		return CLI_PARSE_EXIT(r);
	if (models_load(ctx, &cfg))
		return 1;
	aid = agent ? xstrdup(agent) : workspace_default_agent_id(&cfg);
	adir = agent_dir(cli_paths(ctx), aid);
	st = auth_store_open(adir);
	out = auth_report(st, &cfg, aid, time_now_ms());
	json_object_set_new(out, "auth", auth_status(st));
	if (json) {
		cmd_gw_print_json(out, false);
	} else {
		const char *ref = json_string_value(json_object_get(out, "model"));
		json_t *fb = json_object_get(out, "fallbacks");

		printf("Agent: %s\nModel: %s\n", aid,
		       ref ? ref : "(none: set one with `pincer models set provider/model`)");
		if (json_array_size(fb)) {
			printf("Fallbacks:");
			json_array_foreach(fb, i, v) printf(" %s", json_string_value(v));
			printf("\n");
		}
		creds = json_object_get(out, "credentials");
		if (json_object_get(out, "error"))
			printf("Problem: %s\n", json_string_value(json_object_get(out, "error")));
		else if (ref && !json_array_size(creds))
			printf("Credentials: none — %s\n",
			       json_string_value(json_object_get(out, "problem")));
		else if (ref) {
			printf("Credentials:");
			json_array_foreach(creds, i, v)
			{
				const char *src = json_string_value(json_object_get(v, "source"));
				const char *env = json_string_value(json_object_get(v, "envVar"));

				printf(" %s", json_string_value(json_object_get(v, "id")));
				if (env)
					printf(" (%s %s)", src, env);
				else if (strcmp(src, "profile"))
					printf(" (%s)", src);
				if (json_integer_value(json_object_get(v, "availableAt")))
					printf(" (cooling down)");
			}
			printf("\n");
		}
	}
	rc = json_is_true(json_object_get(out, "usable")) ? 0 : 1;
	auth_store_free(st);
	json_decref(out);
	free(adir);
	free(aid);
	config_release(&cfg);
	return rc;
}

static int models_set(int argc, char **argv, struct ctx *ctx)
{
	int r = cli_parse(ctx, argc, argv, NULL);
	struct config cfg;
	struct prov_model m = { 0 };
	char err[256];

	if (r < 0)
		return CLI_PARSE_EXIT(r);
	if (r != 1)
		return cli_usage_error(ctx, "expected one model, e.g. anthropic/claude-sonnet-4-5");
	if (models_load(ctx, &cfg))
		return 1;
	if (catalog_resolve(&cfg, argv[0], &m, err, sizeof(err)) < 0) {
		config_release(&cfg);
		return cli_error("%s", err);
	}
	prov_model_release(&m);
	config_release(&cfg);
	return cmd_config_set_value(ctx, "agents.defaults.model.primary", argv[0]);
}

const struct cmd cmd_models_sub[] = {
	{ "list", models_list, "every known model", "usage: pincer models list [--json]", NULL },
	{ "status", models_status, "the default model and its credentials",
	  "usage: pincer models status [--json] [--agent ID]", NULL },
	{ "set", models_set, "set the default model (agents.defaults.model.primary)",
	  "usage: pincer models set provider/model", NULL },
	{ NULL },
};
