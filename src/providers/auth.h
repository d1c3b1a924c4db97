/*
 * auth.h - credentials per agent and their health: OpenClaw's
 * `agents/<id>/agent/auth-profiles.json`.
 *
 *	{"version":1,
 *	 "profiles":{"anthropic:default":{"type":"api_key","provider":"anthropic","key":"sk-…"},
 *	             "openai:work":{"type":"api_key","provider":"openai","key":{"source":"env","id":"OPENAI_WORK_KEY"}}},
 *	 "order":{"anthropic":["anthropic:default"]},            (optional)
 *	 "usageStats":{"anthropic:default":{"lastUsed":ms,"cooldownUntil":ms,"errorCount":n,
 *	                                    "disabledUntil":ms,"disabledReason":"billing"}}}
 *
 * `key` may be a string or a SecretRef; `type:"token"` (a bearer token) is
 * treated like api_key; OAuth profiles are kept on disk untouched but not
 * used (pincer has no OAuth flows yet). Unknown fields are preserved.
 *
 * Candidates for a provider, in order (OpenClaw's resolveAuthProfileOrder):
 * the session's sticky profile if still healthy; then the file's
 * `order[provider]`, else config `auth.order[provider]` (the stored order
 * wins, as in OpenClaw), kept as written; without an explicit order the
 * profiles config `auth.profiles` names for the provider, else every stored
 * profile of it, tokens before api keys and oldest lastUsed first. Profiles
 * in cooldown or disabled go last (soonest available first). When no stored
 * profile is usable, one synthetic candidate "<provider>:env" carries the
 * key from config/env (catalog_config_key), or NULL for a keyless provider.
 *
 * Health follows OpenClaw 2026.9.6 (usage-failure-state.ts), not the older
 * documented 1 m/5 m/25 m/1 h schedule: auth, timeout and unknown failures
 * cool down 30 s, 60 s, then 5 min (errorCount 1, 2, ≥3); rate limits 30 s
 * doubling per consecutive limit up to 24 h; billing disables the profile
 * for 10 min doubling per repeat up to 24 h. A failure inside an active
 * window keeps that window; a Retry-After longer than the cooldown wins
 * (pincer). Overloaded, server, format, overflow and protocol failures leave
 * the profile alone (failover moves on). A success clears errorCount and
 * every window and sets lastUsed and lastGood[provider]. Counters restart
 * after 24 h without failure or once the windows have expired. openrouter
 * profiles never cool down (it manages limits itself). Failures of the
 * "<provider>:env" key are kept, as OpenClaw does, only for auth and
 * billing, under usageStats["inline-api-key:<provider>"].
 *
 * The file is re-read when its mtime changes and written atomically (0600)
 * after every state change; a corrupt file is reported and treated as empty
 * (and never overwritten, so nothing is lost).
 */
#ifndef PINCER_PROVIDERS_AUTH_H
#define PINCER_PROVIDERS_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "providers/provider.h"

struct config;
struct auth_store;

/* Open (lazily read) `<agent_dir>/auth-profiles.json`. Never fails. */
struct auth_store *auth_store_open(const char *agent_dir);
void auth_store_free(struct auth_store *s);

struct auth_candidate {
	char *profile_id;     /* "anthropic:default", or "<provider>:env" */
	char *key;            /* resolved secret; NULL for keyless providers (ollama, local) */
	int64_t available_at; /* ms; 0 when usable now */
};

/*
 * Candidates for `provider`, best first (see above), keys resolved. `sticky`
 * (may be NULL) is the session's profile. Returns the count (0 when there
 * is no credential at all and the provider needs one), with *out a new
 * array freed by auth_candidates_free. Profiles whose SecretRef cannot be
 * resolved are skipped with a warning.
 */
size_t auth_candidates(struct auth_store *s, const struct config *cfg, const char *provider,
		       const char *sticky, int64_t now_ms, struct auth_candidate **out);
void auth_candidates_free(struct auth_candidate *c, size_t n);

/* Record the outcome of a call made with `profile_id`. Writes the file. */
void auth_mark_success(struct auth_store *s, const char *profile_id, int64_t now_ms);
void auth_mark_failure(struct auth_store *s, const char *profile_id, enum prov_err_kind kind,
		       long retry_after_ms, int64_t now_ms);

/* For `models status`: {"profiles":[{"id","provider","type","cooldownUntil"?,"disabledUntil"?,"errorCount"}]}. New. */
json_t *auth_status(struct auth_store *s);

/*
 * Where `provider`'s credentials come from, never a credential itself (no
 * key, no part of one): one row of OpenClaw's models.authStatus
 * `providers`,
 *	{"provider","authProvider","displayName",
 *	 "status":"static"|"expired"|"missing",
 *	 "profiles":[{"profileId","type","status":"static"|"expired"|"missing",
 *	              "reasonCode"?,"source":"config"|"saved","secretRef"?:{"source"},
 *	              "cooldownUntil"?,"disabledUntil"?,"disabledReason"?}],
 *	 "profileOrder"?:[ids],
 *	 "apiKey"?:{"source":"env","envVar"}|{"source":"config"}}
 * ("static" is OpenClaw's word for a key that does not expire), plus
 * pincer's own: "usable" (auth_candidates would give a credential now or
 * after a cooldown: the same test a run makes), "keyless" (a local server
 * that needs none), "envVars" (where the preset looks for a key),
 * "secretRef"?:{"source","envVar"?} (models.providers.<id>.apiKey is one)
 * and "problem"? (why it is not usable: no key anywhere, or the SecretRef's
 * resolution error, which never contains a secret). SecretRefs are
 * resolved to learn whether they resolve (an exec ref runs its command).
 */
json_t *auth_provider_status(struct auth_store *s, const struct config *cfg, const char *provider,
			     int64_t now_ms);

/*
 * The credential picture of one agent, shared by `pincer models status`
 * and the gateway's models.authStatus:
 *	{"agentId","model":ref|null,"fallbacks":[refs],
 *	 "provider"?,"displayName"?,"api"?,"baseUrl"?,"keyless"?,"envVars"?,
 *	 "credentials"?:[{"id","hasKey","availableAt","source":
 *	     "profile"|"config"|"secretRef"|"env"|"keyless","envVar"?}],
 *	 "usable":bool,"error"?:"unknown provider …","problem"?:sentence,
 *	 "providers":[auth_provider_status rows, by provider id]}
 * The rows cover the model's and fallbacks' providers, every
 * models.providers entry, every provider of a stored profile and every
 * preset whose key is in the environment.
 */
json_t *auth_report(struct auth_store *s, const struct config *cfg, const char *agent_id,
		    int64_t now_ms);

/* The regular cooldown after the n-th consecutive failure (n ≥ 1), ms: 30 s, 60 s, 5 min. */
int64_t auth_cooldown_ms(int error_count);

#endif
