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
	int r = cli_parse(ctx, argc, argv, opts), rc = 0;
	struct config cfg;
	char *aid, *ref, *adir, err[256];
	struct prov_model m = { 0 };
	struct auth_store *st;
	struct auth_candidate *cands = NULL;
	size_t n = 0, i;
	json_t *out, *fb, *profiles;

	if (r < 0)
		return CLI_PARSE_EXIT(r);
	if (models_load(ctx, &cfg))
		return 1;
	aid = agent ? xstrdup(agent) : workspace_default_agent_id(&cfg);
	ref = catalog_default_ref(&cfg, aid);
	fb = catalog_fallbacks(&cfg, aid);
	adir = agent_dir(cli_paths(ctx), aid);
	st = auth_store_open(adir);
	out = json_pack("{s:s, s:s?, s:O}", "agentId", aid, "model", ref, "fallbacks", fb);
	if (ref && catalog_resolve(&cfg, ref, &m, err, sizeof(err)) == 0) {
		n = auth_candidates(st, &cfg, m.provider, NULL, 0, &cands);
		profiles = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(
				profiles, json_pack("{s:s, s:b, s:I}", "id", cands[i].profile_id,
						    "hasKey", cands[i].key != NULL, "availableAt",
						    (json_int_t)cands[i].available_at));
		json_object_set_new(out, "provider", json_string(m.provider));
		json_object_set_new(out, "api", json_string(m.api));
		json_object_set_new(out, "baseUrl", json_string(m.base_url));
		json_object_set_new(out, "credentials", profiles);
		json_object_set_new(out, "usable", json_boolean(n > 0));
	} else if (ref) {
		json_object_set_new(out, "error", json_string(err));
		json_object_set_new(out, "usable", json_false());
	} else {
		json_object_set_new(out, "usable", json_false());
	}
	json_object_set_new(out, "auth", auth_status(st));
	if (json) {
		cmd_gw_print_json(out, false);
	} else {
		printf("Agent: %s\nModel: %s\n", aid,
		       ref ? ref : "(none: set one with `pincer models set provider/model`)");
		if (json_array_size(fb)) {
			json_t *v;
			printf("Fallbacks:");
			json_array_foreach(fb, i, v) printf(" %s", json_string_value(v));
			printf("\n");
		}
		if (json_object_get(out, "error"))
			printf("Problem: %s\n", json_string_value(json_object_get(out, "error")));
		else if (ref && !n) {
			const char *env = catalog_env_key(m.provider);
			printf("Credentials: none for %s — set %s or models.providers.%s.apiKey\n",
			       m.provider, env ? env : "its API key", m.provider);
		} else if (ref) {
			printf("Credentials:");
			for (i = 0; i < n; i++)
				printf(" %s%s", cands[i].profile_id,
				       cands[i].available_at ? " (cooling down)" : "");
			printf("\n");
		}
	}
	rc = json_is_true(json_object_get(out, "usable")) ? 0 : 1;
	auth_candidates_free(cands, n);
	prov_model_release(&m);
	auth_store_free(st);
	json_decref(out);
	json_decref(fb);
	free(adir);
	free(ref);
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
