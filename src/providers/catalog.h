/*
 * catalog.h - which models exist and how to reach them.
 *
 * Sources, later wins per field:
 *  1. built-in presets: anthropic, openai, google (gemini), ollama, and the
 *     OpenAI-compatible services openrouter, deepseek, groq, mistral, xai,
 *     moonshot, minimax, together, vllm, lmstudio (base URL, api, env var of
 *     the key, a few well-known models with context windows);
 *  2. `models.providers.<id>` (baseUrl, api, apiKey, headers, authHeader,
 *     timeoutSeconds, models[] {id, name, api, baseUrl, reasoning, input[],
 *     contextWindow, maxTokens, headers}).
 *
 * A model ref is "provider/model" (the model part may itself contain '/',
 * as OpenRouter's do: "openrouter/anthropic/claude-sonnet-4"). A bare name
 * is looked up first as an alias (`agents.defaults.models.<ref>.alias`),
 * then as a model id of any configured provider. A model id the catalog does
 * not list is still usable on a known provider: it gets the provider's api
 * and defaults (context 128000, max tokens 4096).
 */
#ifndef PINCER_PROVIDERS_CATALOG_H
#define PINCER_PROVIDERS_CATALOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "providers/provider.h"

struct config;

/*
 * Resolve `ref` to a model. 0, or -1 with `err` ("unknown provider \"x\" in
 * model \"x/y\"", "unknown model alias \"fast\"", …).
 */
int catalog_resolve(const struct config *cfg, const char *ref, struct prov_model *out, char *err,
		    size_t errlen);

/*
 * The default model ref for an agent: agents.list[id].model(.primary),
 * else agents.defaults.model(.primary), else the first usable preset
 * (a provider whose key is in the environment), else NULL.
 * Returns a new string or NULL.
 */
char *catalog_default_ref(const struct config *cfg, const char *agent_id);

/* The fallback refs (agents.list[id].model.fallbacks, else agents.defaults.model.fallbacks). New array. */
json_t *catalog_fallbacks(const struct config *cfg, const char *agent_id);

/*
 * Every model the catalog knows, as models.list rows:
 * [{"id","name","provider","contextWindow","reasoning","input":[…],"api","alias"?}].
 * New reference.
 */
json_t *catalog_list(const struct config *cfg);

/*
 * The provider's env var for its key ("ANTHROPIC_API_KEY", …), or NULL
 * when it has none (ollama, custom providers).
 */
const char *catalog_env_key(const char *provider);

/*
 * Every env var that may hold the provider's key, in lookup order (e.g.
 * {"GEMINI_API_KEY","GOOGLE_API_KEY",NULL}), or NULL. catalog_env_key
 * returns the first of them that is set, else the canonical one.
 */
const char *const *catalog_env_keys(const char *provider);

/*
 * Whether the provider can be called without a key: the local-server
 * presets (ollama, vllm, lmstudio) and custom `models.providers` entries.
 */
bool catalog_keyless(const struct config *cfg, const char *provider);

/*
 * The API key for `provider` from config alone: models.providers.<id>.apiKey
 * (string or SecretRef), else the preset's env var. Returns 1 with a new
 * string in *out, 0 when there is none, -1 with err on a SecretRef failure.
 */
int catalog_config_key(const struct config *cfg, const char *provider, char **out, char *err,
		       size_t errlen);

/* Where catalog_config_key found a key; a report, so it never holds the key itself. */
enum catalog_key_src {
	CATALOG_KEY_NONE,      /* nothing in config or the environment */
	CATALOG_KEY_CONFIG,    /* models.providers.<id>.apiKey as a plain string */
	CATALOG_KEY_SECRETREF, /* models.providers.<id>.apiKey as a SecretRef */
	CATALOG_KEY_ENV,       /* one of the preset's env vars */
};

struct catalog_key_info {
	enum catalog_key_src src;
	char ref_source[8]; /* SECRETREF: "env", "file" or "exec" */
	char env_var[129];  /* ENV: the variable that held it; SECRETREF env: the ref's id */
	bool failed;        /* SECRETREF that did not resolve (catalog_config_key_info gave -1) */
};

/* catalog_config_key, also telling where the key came from (or was meant to). */
int catalog_config_key_info(const struct config *cfg, const char *provider, char **out,
			    struct catalog_key_info *info, char *err, size_t errlen);

/* A provider's display name ("Anthropic", "Google Gemini"); the id itself when unknown. */
const char *catalog_provider_name(const char *provider);

/*
 * Every provider id the catalog knows: the presets (unless models.mode is
 * "replace"), then models.providers keys not among them, normalized.
 * New array of strings.
 */
json_t *catalog_providers(const struct config *cfg);

/* A provider id as the catalog keys it: lowercased, aliases folded ("gemini" -> "google"). New. */
char *catalog_provider_id(const char *s);

#endif
