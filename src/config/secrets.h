/*
 * secrets.h - SecretRef resolution (OpenClaw's `secrets` model).
 *
 * Any config field that holds a credential may be a plain string or a
 * SecretRef object {source: "env"|"file"|"exec", provider: "<alias>", id}:
 *  - env:  id is a variable name [A-Z][A-Z0-9_]{0,127}; the provider may
 *          restrict names with an `allowlist`.
 *  - file: the provider names a file (`path`, `mode` json|singleValue); id
 *          is an absolute JSON pointer into it ("/providers/openai/apiKey")
 *          or "value" in singleValue mode. The file must be owned by the
 *          user and not readable by group or others.
 *  - exec: the provider names an absolute command run without a shell; it
 *          gets {"protocolVersion":1,"provider":…,"ids":[…]} on stdin and
 *          answers {"protocolVersion":1,"values":{id:value},"errors"?:…}
 *          on stdout within its timeout.
 * Providers live in `secrets.providers.<alias>`; `provider` may be omitted
 * to use `secrets.defaults.<source>` or else the alias "default" (an env
 * provider named "default" always exists implicitly).
 *
 * Resolved values are registered with log_add_secret so they can never be
 * logged.
 */
#ifndef PINCER_CONFIG_SECRETS_H
#define PINCER_CONFIG_SECRETS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* True when `v` is an object with a "source" member (i.e. meant as a SecretRef). */
bool secret_is_ref(const json_t *v);

/*
 * Check the shape of a SecretRef (known keys only, source enum, provider
 * and id patterns for the source). 0, or -1 with a message in `err`.
 */
int secret_ref_check(const json_t *ref, char *err, size_t errlen);

/*
 * Check one `secrets.providers.<alias>` entry. 0, or -1 with `err`.
 */
int secret_provider_check(const json_t *provider, char *err, size_t errlen);

/*
 * Resolve `v` (a string, or a SecretRef) against the providers in
 * `config_root`. On success *out is a new string and 0 is returned; on
 * failure -1 with a message in `err` that names the source, provider and
 * id but never a secret value.
 */
int secret_resolve(const json_t *config_root, const json_t *v, char **out, char *err,
		   size_t errlen);

#endif
