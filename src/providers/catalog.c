/* catalog.c - model presets, models.providers merge, aliases and default refs. */
#include "providers/catalog.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/secrets.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"

/* ==== presets ==== */

/*
 * The values below follow OpenClaw 2026.9.6: the bundled plugin manifests
 * (extensions/<id>/openclaw.plugin.json modelCatalog and setup.providers
 * envVars), the plugin defaults (ollama, vllm, lmstudio, minimax), and the
 * official external provider catalog for deepseek, groq, mistral and
 * moonshot (whose plugins are not bundled; their base URLs are the
 * providers' documented OpenAI-compatible endpoints). A few older,
 * still-served model ids (claude-sonnet-4-5, gpt-5, gpt-4.1, …) are kept
 * because configs name them.
 */

#define CAT_DEFAULT_CONTEXT 128000
#define CAT_DEFAULT_MAX     4096

struct cat_model {
	const char *id;
	const char *name;
	long ctx;
	long max;
	bool reasoning;
	bool image;
};

struct cat_preset {
	const char *id;
	const char *base_url;
	const char *api;
	const char *const *env; /* NULL-terminated, in lookup order; NULL: none */
	bool keyless;           /* works without a key (local servers) */
	bool auth_header;       /* Authorization: Bearer (else the API's own header) */
	const char *default_model;
	const struct cat_model *models;
	size_t nmodels;
};

static const char *const env_anthropic[] = { "ANTHROPIC_API_KEY", NULL };
static const char *const env_openai[] = { "OPENAI_API_KEY", NULL };
static const char *const env_google[] = { "GEMINI_API_KEY", "GOOGLE_API_KEY", NULL };
static const char *const env_ollama[] = { "OLLAMA_API_KEY", NULL };
static const char *const env_openrouter[] = { "OPENROUTER_API_KEY", NULL };
static const char *const env_deepseek[] = { "DEEPSEEK_API_KEY", NULL };
static const char *const env_groq[] = { "GROQ_API_KEY", NULL };
static const char *const env_mistral[] = { "MISTRAL_API_KEY", NULL };
static const char *const env_xai[] = { "XAI_API_KEY", NULL };
static const char *const env_moonshot[] = { "MOONSHOT_API_KEY", "KIMI_API_KEY", NULL };
static const char *const env_minimax[] = { "MINIMAX_CODE_PLAN_KEY", "MINIMAX_CODING_API_KEY",
					   "MINIMAX_API_KEY", NULL };
static const char *const env_together[] = { "TOGETHER_API_KEY", NULL };
static const char *const env_vllm[] = { "VLLM_API_KEY", NULL };
static const char *const env_lmstudio[] = { "LM_API_TOKEN", NULL };

/*
 * OpenClaw also reads ANTHROPIC_OAUTH_TOKEN first for anthropic; that is a
 * subscription token needing the OAuth request shape, which pincer does
 * not speak yet, so only the API key is looked up.
 */

static const struct cat_model m_anthropic[] = {
	{ "claude-opus-5-5", "Claude Opus 5.5", 1000000, 128000, true, true },
	{ "claude-opus-5", "Claude Opus 5", 1000000, 128000, true, true },
	{ "claude-sonnet-5", "Claude Sonnet 5", 1000000, 128000, true, true },
	{ "claude-fable-5-1", "Claude Fable 5.1", 1000000, 128000, true, true },
	{ "claude-haiku-4-5", "Claude Haiku 4.5", 200000, 64000, true, true },
	{ "claude-opus-4-8", "Claude Opus 4.8", 1000000, 128000, true, true },
	{ "claude-sonnet-4-5", "Claude Sonnet 4.5", 200000, 64000, true, true },
	{ "claude-opus-4-1", "Claude Opus 4.1", 200000, 32000, true, true },
};

static const struct cat_model m_openai[] = {
	{ "gpt-6-astra", "GPT-6 Astra", 1050000, 128000, true, true },
	{ "gpt-6-sol", "GPT-6 Sol", 1050000, 128000, true, true },
	{ "gpt-6-luna", "GPT-6 Luna", 1050000, 128000, true, true },
	{ "gpt-5.6-sol", "GPT-5.6 Sol", 1050000, 128000, true, true },
	{ "gpt-5.4", "GPT-5.4", 1050000, 128000, true, true },
	{ "gpt-5.4-mini", "GPT-5.4 Mini", 400000, 128000, true, true },
	{ "gpt-5", "GPT-5", 400000, 128000, true, true },
	{ "gpt-5-mini", "GPT-5 Mini", 400000, 128000, true, true },
	{ "gpt-4.1", "GPT-4.1", 1047576, 32768, false, true },
	{ "gpt-4o", "GPT-4o", 128000, 16384, false, true },
};

static const struct cat_model m_google[] = {
	{ "gemini-3.1-pro-preview", "Gemini 3.1 Pro Preview", 1048576, 65536, true, true },
	{ "gemini-3.5-flash", "Gemini 3.5 Flash", 1048576, 65536, true, true },
	{ "gemini-2.5-pro", "Gemini 2.5 Pro", 1048576, 65536, true, true },
	{ "gemini-2.5-flash", "Gemini 2.5 Flash", 1048576, 65536, true, true },
	{ "gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite", 1048576, 65536, true, true },
};

static const struct cat_model m_openrouter[] = {
	{ "openrouter/auto", "OpenRouter Auto", 200000, 8192, false, true },
	{ "moonshotai/kimi-k2.6", "MoonshotAI: Kimi K2.6", 262144, 262144, true, true },
};

static const struct cat_model m_deepseek[] = {
	{ "deepseek-chat", "DeepSeek Chat", 128000, 8192, false, false },
	{ "deepseek-reasoner", "DeepSeek Reasoner", 128000, 65536, true, false },
};

static const struct cat_model m_groq[] = {
	{ "llama-3.3-70b-versatile", "Llama 3.3 70B Versatile", 131072, 32768, false, false },
	{ "openai/gpt-oss-120b", "GPT-OSS 120B", 131072, 65536, true, false },
};

static const struct cat_model m_mistral[] = {
	{ "mistral-large-latest", "Mistral Large", 131072, 16384, false, true },
	{ "mistral-medium-latest", "Mistral Medium", 131072, 16384, false, true },
	{ "codestral-latest", "Codestral", 256000, 16384, false, false },
};

static const struct cat_model m_xai[] = {
	{ "grok-4.7", "Grok 4.7", 500000, 64000, true, true },
	{ "grok-4.3", "Grok 4.3", 1000000, 64000, true, true },
	{ "grok-4.20-0309-reasoning", "Grok 4.20 0309 (Reasoning)", 1000000, 30000, true, true },
	{ "grok-4.20-0309-non-reasoning", "Grok 4.20 0309 (Non-Reasoning)", 1000000, 30000, false,
	  true },
};

static const struct cat_model m_moonshot[] = {
	{ "kimi-k2.6", "Kimi K2.6", 262144, 262144, true, true },
	{ "kimi-k2.5", "Kimi K2.5", 262144, 262144, true, true },
};

static const struct cat_model m_minimax[] = {
	{ "MiniMax-M3", "MiniMax M3", 1000000, 131072, true, true },
	{ "MiniMax-M2.7", "MiniMax M2.7", 204800, 131072, true, false },
	{ "MiniMax-M2.7-highspeed", "MiniMax M2.7 Highspeed", 204800, 131072, true, false },
};

static const struct cat_model m_together[] = {
	{ "moonshotai/Kimi-K2.6", "Kimi K2.6 FP4", 262144, 32768, true, true },
	{ "meta-llama/Llama-3.3-70B-Instruct-Turbo", "Llama 3.3 70B Instruct Turbo", 131072, 8192,
	  false, false },
	{ "deepseek-ai/DeepSeek-V4-Pro", "DeepSeek V4 Pro", 512000, 384000, true, false },
	{ "zai-org/GLM-5.2", "GLM 5.2 FP4", 262144, 131072, true, false },
};

#define MODELS(a) a, ARRAY_SIZE(a)

/*
 * Order matters for catalog_default_ref: the first preset with a key in
 * the environment provides the default model.
 */
static const struct cat_preset presets[] = {
	{ "anthropic", "https://api.anthropic.com", "anthropic-messages", env_anthropic, false,
	  false, "claude-opus-5", MODELS(m_anthropic) },
	{ "openai", "https://api.openai.com/v1", "openai-responses", env_openai, false, true,
	  "gpt-6-astra", MODELS(m_openai) },
	{ "google", "https://generativelanguage.googleapis.com/v1beta", "google-generative-ai",
	  env_google, false, false, "gemini-3.1-pro-preview", MODELS(m_google) },
	{ "openrouter", "https://openrouter.ai/api/v1", "openai-completions", env_openrouter, false,
	  true, "openrouter/auto", MODELS(m_openrouter) },
	{ "deepseek", "https://api.deepseek.com/v1", "openai-completions", env_deepseek, false,
	  true, "deepseek-chat", MODELS(m_deepseek) },
	{ "groq", "https://api.groq.com/openai/v1", "openai-completions", env_groq, false, true,
	  "llama-3.3-70b-versatile", MODELS(m_groq) },
	{ "mistral", "https://api.mistral.ai/v1", "openai-completions", env_mistral, false, true,
	  "mistral-large-latest", MODELS(m_mistral) },
	/* OpenClaw's xai plugin speaks the Responses API to api.x.ai. */
	{ "xai", "https://api.x.ai/v1", "openai-responses", env_xai, false, true, "grok-4.7",
	  MODELS(m_xai) },
	{ "moonshot", "https://api.moonshot.ai/v1", "openai-completions", env_moonshot, false, true,
	  "kimi-k2.6", MODELS(m_moonshot) },
	/* MiniMax's Anthropic-compatible endpoint, key as a Bearer token (authHeader: true). */
	{ "minimax", "https://api.minimax.io/anthropic", "anthropic-messages", env_minimax, false,
	  true, "MiniMax-M3", MODELS(m_minimax) },
	{ "together", "https://api.together.xyz/v1", "openai-completions", env_together, false,
	  true, "moonshotai/Kimi-K2.6", MODELS(m_together) },
	/* Local servers: models are whatever is loaded there, so none are listed. */
	{ "ollama", "http://127.0.0.1:11434", "ollama", env_ollama, true, true, NULL, NULL, 0 },
	{ "vllm", "http://127.0.0.1:8000/v1", "openai-completions", env_vllm, true, true, NULL,
	  NULL, 0 },
	{ "lmstudio", "http://localhost:1234/v1", "openai-completions", env_lmstudio, true, true,
	  NULL, NULL, 0 },
};

/* Provider id aliases OpenClaw normalizes (provider-id normalization). */
static const struct {
	const char *alias, *id;
} provider_aliases[] = {
	{ "moonshotai", "moonshot" }, { "moonshot-ai", "moonshot" },
	{ "gemini", "google" },       { "x-ai", "xai" },
	{ "lm-studio", "lmstudio" },
};

static const struct cat_preset *preset_find(const char *id)
{
	for (size_t i = 0; i < ARRAY_SIZE(presets); i++)
		if (!strcmp(presets[i].id, id))
			return &presets[i];
	return NULL;
}

static const struct cat_model *preset_model(const struct cat_preset *p, const char *id)
{
	for (size_t i = 0; p && i < p->nmodels; i++)
		if (!strcmp(p->models[i].id, id))
			return &p->models[i];
	return NULL;
}

/* Lowercased, aliases folded; new string. */
static char *provider_norm(const char *s, size_t n)
{
	char *id = xstrndup(s, n);

	for (char *p = id; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (size_t i = 0; i < ARRAY_SIZE(provider_aliases); i++)
		if (!strcmp(id, provider_aliases[i].alias)) {
			free(id);
			return xstrdup(provider_aliases[i].id);
		}
	return id;
}

/* ==== config access ==== */

static bool replace_mode(const struct config *cfg)
{
	return str_eq(config_get_str(cfg, "models.mode"), "replace");
}

/* models.providers.<id>, borrowed, or NULL. Keys are matched case-insensitively. */
static json_t *cfg_provider(const struct config *cfg, const char *id)
{
	json_t *providers = config_get(cfg, "models.providers");
	const char *key;
	json_t *v;

	if (!json_is_object(providers))
		return NULL;
	if ((v = json_object_get(providers, id)) && json_is_object(v))
		return v;
	json_object_foreach(providers, key, v)
	{
		char *norm = provider_norm(key, strlen(key));
		bool same = !strcmp(norm, id);

		free(norm);
		if (same && json_is_object(v))
			return v;
	}
	return NULL;
}

/* The preset for `id` unless models.mode is "replace". */
static const struct cat_preset *active_preset(const struct config *cfg, const char *id)
{
	return replace_mode(cfg) ? NULL : preset_find(id);
}

static json_t *cfg_model_entry(json_t *prov, const char *model)
{
	json_t *models = json_object_get(prov, "models"), *m;
	size_t i;

	json_array_foreach(models, i, m)
	{
		if (str_eq(json_string_value(json_object_get(m, "id")), model))
			return m;
	}
	return NULL;
}

/* ==== resolution ==== */

static void model_clear(struct prov_model *m)
{
	free(m->provider);
	free(m->id);
	free(m->name);
	free(m->api);
	free(m->base_url);
	json_decref(m->headers);
	memset(m, 0, sizeof(*m));
}

static void set_str(char **dst, const char *s)
{
	if (!s || !*s)
		return;
	free(*dst);
	*dst = xstrdup(s);
}

/* Copy `s` without trailing slashes. */
static void set_url(char **dst, const char *s)
{
	size_t n;

	if (!s || !*s)
		return;
	n = strlen(s);
	while (n > 1 && s[n - 1] == '/')
		n--;
	free(*dst);
	*dst = xstrndup(s, n);
}

static long json_long(json_t *v, long dflt)
{
	if (json_is_integer(v))
		return (long)json_integer_value(v);
	if (json_is_real(v))
		return (long)json_real_value(v);
	return dflt;
}

/* Resolve every value of a headers object into m->headers. */
static int merge_headers(const struct config *cfg, struct prov_model *m, json_t *hdrs, char *err,
			 size_t errlen)
{
	const char *name;
	json_t *v;

	if (!json_is_object(hdrs))
		return 0;
	json_object_foreach(hdrs, name, v)
	{
		char *val = NULL, e[256];

		if (secret_resolve(cfg->root, v, &val, e, sizeof(e)) < 0) {
			snprintf(err, errlen, "models.providers.%s header %s: %s", m->provider,
				 name, e);
			return -1;
		}
		if (!m->headers)
			m->headers = json_object();
		json_object_set_new(m->headers, name, json_string(val));
		free(val);
	}
	return 0;
}

static bool input_has_image(json_t *input)
{
	size_t i;
	json_t *v;

	json_array_foreach(input, i, v)
	{
		if (str_eq(json_string_value(v), "image"))
			return true;
	}
	return false;
}

/* Anthropic and Gemini carry the key in their own header unless told otherwise. */
static bool api_default_bearer(const char *api)
{
	return !str_eq(api, "anthropic-messages") && !str_eq(api, "google-generative-ai");
}

/*
 * Build the model for provider/model from the preset and the config entry,
 * later sources winning per field. `pcfg` and `p` may each be NULL but not
 * both.
 */
static int build_model(const struct config *cfg, const char *provider, const char *model,
		       const struct cat_preset *p, json_t *pcfg, struct prov_model *out, char *err,
		       size_t errlen)
{
	const struct cat_model *pm = preset_model(p, model);
	json_t *mcfg = pcfg ? cfg_model_entry(pcfg, model) : NULL;
	json_t *v;
	bool have_bearer = false;

	memset(out, 0, sizeof(*out));
	out->provider = xstrdup(provider);
	out->id = xstrdup(model);
	out->context_window = CAT_DEFAULT_CONTEXT;
	out->max_tokens = CAT_DEFAULT_MAX;
	if (p) {
		out->api = xstrdup(p->api);
		out->base_url = xstrdup(p->base_url);
		out->auth_header = p->auth_header;
		have_bearer = true;
	}
	if (pm) {
		set_str(&out->name, pm->name);
		out->context_window = pm->ctx;
		out->max_tokens = pm->max;
		out->reasoning = pm->reasoning;
		out->input_image = pm->image;
	}
	if (pcfg) {
		set_url(&out->base_url, json_string_value(json_object_get(pcfg, "baseUrl")));
		set_str(&out->api, json_string_value(json_object_get(pcfg, "api")));
		if ((v = json_object_get(pcfg, "authHeader")) && json_is_boolean(v)) {
			out->auth_header = json_is_true(v);
			have_bearer = true;
		}
		out->timeout_ms = json_long(json_object_get(pcfg, "timeoutSeconds"), 0) * 1000;
		out->max_tokens = json_long(json_object_get(pcfg, "maxTokens"), out->max_tokens);
		if (merge_headers(cfg, out, json_object_get(pcfg, "headers"), err, errlen) < 0)
			goto fail;
	}
	if (mcfg) {
		set_str(&out->name, json_string_value(json_object_get(mcfg, "name")));
		set_str(&out->api, json_string_value(json_object_get(mcfg, "api")));
		set_url(&out->base_url, json_string_value(json_object_get(mcfg, "baseUrl")));
		if ((v = json_object_get(mcfg, "reasoning")) && json_is_boolean(v))
			out->reasoning = json_is_true(v);
		if ((v = json_object_get(mcfg, "input")) && json_is_array(v))
			out->input_image = input_has_image(v);
		out->context_window =
			json_long(json_object_get(mcfg, "contextWindow"), out->context_window);
		out->max_tokens = json_long(json_object_get(mcfg, "maxTokens"), out->max_tokens);
		if (merge_headers(cfg, out, json_object_get(mcfg, "headers"), err, errlen) < 0)
			goto fail;
	}
	/* A custom provider without an api is OpenAI-compatible, as in OpenClaw. */
	if (!out->api)
		out->api = xstrdup("openai-completions");
	if (!have_bearer)
		out->auth_header = api_default_bearer(out->api);
	if (!out->name)
		out->name = xstrdup(model);
	if (!out->base_url) {
		snprintf(err, errlen,
			 "provider \"%s\" has no baseUrl (set models.providers.%s.baseUrl)",
			 provider, provider);
		goto fail;
	}
	return 0;
fail:
	model_clear(out);
	return -1;
}

/* agents.defaults.models.<ref>.alias == name: the ref (borrowed key), else NULL. */
static const char *alias_target(const struct config *cfg, const char *name)
{
	json_t *models = config_get(cfg, "agents.defaults.models"), *v;
	const char *key;

	json_object_foreach(models, key, v)
	{
		const char *alias = json_string_value(json_object_get(v, "alias"));

		if (alias && !strcmp(alias, name))
			return key;
	}
	return NULL;
}

/* A bare model id: the first configured provider listing it, then the presets. */
static char *find_bare_model(const struct config *cfg, const char *model)
{
	json_t *providers = config_get(cfg, "models.providers"), *pv;
	const char *key;

	json_object_foreach(providers, key, pv)
	{
		if (json_is_object(pv) && cfg_model_entry(pv, model))
			return provider_norm(key, strlen(key));
	}
	if (replace_mode(cfg))
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(presets); i++)
		if (preset_model(&presets[i], model))
			return xstrdup(presets[i].id);
	return NULL;
}

int catalog_resolve(const struct config *cfg, const char *ref, struct prov_model *out, char *err,
		    size_t errlen)
{
	const char *target = ref, *slash;
	char *provider = NULL;
	const char *model;
	const struct cat_preset *p;
	json_t *pcfg;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!ref || !*ref) {
		snprintf(err, errlen, "empty model reference");
		return -1;
	}
	if (!strchr(ref, '/')) {
		const char *a = alias_target(cfg, ref);

		if (a)
			target = a;
	}
	slash = strchr(target, '/');
	if (slash) {
		provider = provider_norm(target, (size_t)(slash - target));
		model = slash + 1;
	} else {
		model = target;
		provider = find_bare_model(cfg, model);
		if (!provider) {
			snprintf(err, errlen, "unknown model alias \"%s\"", ref);
			return -1;
		}
	}
	if (!*model) {
		snprintf(err, errlen, "missing model id in \"%s\"", ref);
		free(provider);
		return -1;
	}
	p = active_preset(cfg, provider);
	pcfg = cfg_provider(cfg, provider);
	if (!p && !pcfg) {
		snprintf(err, errlen, "unknown provider \"%s\" in model \"%s\"", provider, target);
		free(provider);
		return -1;
	}
	rc = build_model(cfg, provider, model, p, pcfg, out, err, errlen);
	free(provider);
	return rc;
}

/* ==== agent defaults ==== */

static json_t *agent_entry(const struct config *cfg, const char *agent_id)
{
	json_t *list = config_get(cfg, "agents.list"), *a;
	size_t i;

	if (!agent_id)
		return NULL;
	json_array_foreach(list, i, a)
	{
		if (str_eq(json_string_value(json_object_get(a, "id")), agent_id))
			return a;
	}
	return NULL;
}

/* A `model` value, string or {primary}: the primary ref or NULL. */
static const char *model_primary(json_t *model)
{
	const char *s;

	if (json_is_string(model))
		s = json_string_value(model);
	else
		s = json_string_value(json_object_get(model, "primary"));
	return s && *s ? s : NULL;
}

static bool env_has(const char *name)
{
	const char *v = getenv(name);

	if (!v)
		return false;
	while (*v && isspace((unsigned char)*v))
		v++;
	return *v != '\0';
}

char *catalog_default_ref(const struct config *cfg, const char *agent_id)
{
	json_t *a = agent_entry(cfg, agent_id);
	const char *s;

	if (a && (s = model_primary(json_object_get(a, "model"))))
		return xstrdup(s);
	if ((s = model_primary(config_get(cfg, "agents.defaults.model"))))
		return xstrdup(s);
	if (replace_mode(cfg))
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(presets); i++) {
		const struct cat_preset *p = &presets[i];

		if (!p->default_model || !p->env)
			continue;
		for (const char *const *e = p->env; *e; e++)
			if (env_has(*e))
				return xasprintf("%s/%s", p->id, p->default_model);
	}
	return NULL;
}

json_t *catalog_fallbacks(const struct config *cfg, const char *agent_id)
{
	json_t *a = agent_entry(cfg, agent_id), *fb = NULL, *out = json_array(), *v;
	size_t i;

	if (a)
		fb = json_object_get(json_object_get(a, "model"), "fallbacks");
	if (!json_is_array(fb))
		fb = json_object_get(config_get(cfg, "agents.defaults.model"), "fallbacks");
	json_array_foreach(fb, i, v)
	{
		if (json_is_string(v) && *json_string_value(v))
			json_array_append(out, v);
	}
	return out;
}

/* ==== listing ==== */

static void list_row(json_t *rows, json_t *aliases, const struct prov_model *m)
{
	char *ref = xasprintf("%s/%s", m->provider, m->id);
	json_t *row =
		json_pack("{s:s, s:s, s:s, s:I, s:b, s:[s], s:s}", "id", m->id, "name", m->name,
			  "provider", m->provider, "contextWindow", (json_int_t)m->context_window,
			  "reasoning", m->reasoning, "input", "text", "api", m->api);
	const char *alias =
		json_string_value(json_object_get(json_object_get(aliases, ref), "alias"));
	size_t i;
	json_t *r;

	if (m->input_image)
		json_array_append_new(json_object_get(row, "input"), json_string("image"));
	if (alias)
		json_object_set_new(row, "alias", json_string(alias));
	/* A configured entry for a preset model replaces the preset's row. */
	json_array_foreach(rows, i, r)
	{
		if (str_eq(json_string_value(json_object_get(r, "provider")), m->provider) &&
		    str_eq(json_string_value(json_object_get(r, "id")), m->id)) {
			json_array_set_new(rows, i, row);
			free(ref);
			return;
		}
	}
	json_array_append_new(rows, row);
	free(ref);
}

json_t *catalog_list(const struct config *cfg)
{
	json_t *rows = json_array();
	json_t *aliases = config_get(cfg, "agents.defaults.models");
	json_t *providers = config_get(cfg, "models.providers"), *pv, *mv;
	const char *key;
	char err[256];

	for (size_t i = 0; !replace_mode(cfg) && i < ARRAY_SIZE(presets); i++) {
		const struct cat_preset *p = &presets[i];

		for (size_t j = 0; j < p->nmodels; j++) {
			struct prov_model m;

			if (build_model(cfg, p->id, p->models[j].id, p, cfg_provider(cfg, p->id),
					&m, err, sizeof(err)) < 0)
				continue;
			list_row(rows, aliases, &m);
			model_clear(&m);
		}
	}
	json_object_foreach(providers, key, pv)
	{
		char *id = provider_norm(key, strlen(key));
		size_t j;

		json_array_foreach(json_object_get(pv, "models"), j, mv)
		{
			const char *mid = json_string_value(json_object_get(mv, "id"));
			struct prov_model m;

			if (!mid || build_model(cfg, id, mid, active_preset(cfg, id), pv, &m, err,
						sizeof(err)) < 0)
				continue;
			list_row(rows, aliases, &m);
			model_clear(&m);
		}
		free(id);
	}
	return rows;
}

/* ==== keys ==== */

const char *const *catalog_env_keys(const char *provider)
{
	const struct cat_preset *p = provider ? preset_find(provider) : NULL;

	return p ? p->env : NULL;
}

const char *catalog_env_key(const char *provider)
{
	const char *const *env = catalog_env_keys(provider);

	if (!env)
		return NULL;
	for (const char *const *e = env; *e; e++)
		if (env_has(*e))
			return *e;
	/* None set: the canonical name (the last one listed is the plain API key). */
	while (env[1])
		env++;
	return *env;
}

bool catalog_keyless(const struct config *cfg, const char *provider)
{
	const struct cat_preset *p = active_preset(cfg, provider);

	if (p)
		return p->keyless;
	/* A custom provider is keyless unless it configures a key. */
	return cfg_provider(cfg, provider) != NULL;
}

int catalog_config_key_info(const struct config *cfg, const char *provider, char **out,
			    struct catalog_key_info *info, char *err, size_t errlen)
{
	json_t *pcfg = cfg_provider(cfg, provider);
	json_t *v = pcfg ? json_object_get(pcfg, "apiKey") : NULL;
	const char *const *env;

	*out = NULL;
	memset(info, 0, sizeof(*info));
	if (v && !json_is_null(v) && !(json_is_string(v) && !*json_string_value(v))) {
		char e[256];

		if (secret_is_ref(v)) {
			const char *src = json_string_value(json_object_get(v, "source"));
			const char *id = json_string_value(json_object_get(v, "id"));

			info->src = CATALOG_KEY_SECRETREF;
			snprintf(info->ref_source, sizeof(info->ref_source), "%s", src ? src : "");
			if (str_eq(src, "env") && id)
				snprintf(info->env_var, sizeof(info->env_var), "%s", id);
		} else {
			info->src = CATALOG_KEY_CONFIG;
		}
		if (secret_resolve(cfg->root, v, out, e, sizeof(e)) < 0) {
			info->failed = true;
			snprintf(err, errlen, "models.providers.%s.apiKey: %s", provider, e);
			return -1;
		}
		log_add_secret(*out);
		return 1;
	}
	env = catalog_env_keys(provider);
	for (; env && *env; env++) {
		const char *val = getenv(*env);
		size_t n;

		if (!env_has(*env))
			continue;
		while (isspace((unsigned char)*val))
			val++;
		n = strlen(val);
		while (n && isspace((unsigned char)val[n - 1]))
			n--;
		*out = xstrndup(val, n);
		log_add_secret(*out);
		info->src = CATALOG_KEY_ENV;
		snprintf(info->env_var, sizeof(info->env_var), "%s", *env);
		return 1;
	}
	return 0;
}

int catalog_config_key(const struct config *cfg, const char *provider, char **out, char *err,
		       size_t errlen)
{
	struct catalog_key_info info;

	return catalog_config_key_info(cfg, provider, out, &info, err, errlen);
}

const char *catalog_provider_name(const char *provider)
{
	static const struct {
		const char *id, *name;
	} names[] = {
		{ "anthropic", "Anthropic" },
		{ "openai", "OpenAI" },
		{ "google", "Google Gemini" },
		{ "openrouter", "OpenRouter" },
		{ "deepseek", "DeepSeek" },
		{ "groq", "Groq" },
		{ "mistral", "Mistral" },
		{ "xai", "xAI" },
		{ "moonshot", "Moonshot" },
		{ "minimax", "MiniMax" },
		{ "together", "Together" },
		{ "ollama", "Ollama" },
		{ "vllm", "vLLM" },
		{ "lmstudio", "LM Studio" },
	};

	for (size_t i = 0; provider && i < ARRAY_SIZE(names); i++)
		if (!strcmp(names[i].id, provider))
			return names[i].name;
	return provider;
}

json_t *catalog_providers(const struct config *cfg)
{
	json_t *out = json_array(), *providers = config_get(cfg, "models.providers"), *v;
	const char *key;

	for (size_t i = 0; !replace_mode(cfg) && i < ARRAY_SIZE(presets); i++)
		json_array_append_new(out, json_string(presets[i].id));
	json_object_foreach(providers, key, v)
	{
		char *id = provider_norm(key, strlen(key));

		bool seen = false;
		size_t i;
		json_t *e;

		json_array_foreach(out, i, e) seen = seen || str_eq(json_string_value(e), id);
		if (json_is_object(v) && !seen)
			json_array_append_new(out, json_string(id));
		free(id);
	}
	return out;
}

char *catalog_provider_id(const char *s)
{
	return provider_norm(s, strlen(s));
}
