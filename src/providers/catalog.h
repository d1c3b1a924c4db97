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

#endif
