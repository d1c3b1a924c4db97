/*
 * redact.h - keeping credentials out of what the config RPCs hand out,
 * and putting them back when a client returns an edited copy.
 *
 * OpenClaw's contract (src/config/redact-snapshot.ts): config.get and the
 * results of config writes replace every credential with the sentinel
 * "__OPENCLAW_REDACTED__"; a client that sends the sentinel back (the
 * Control UI round-trips whole configs) keeps the stored value. A sentinel
 * anywhere else is refused, so it can never be written as a real value.
 *
 * What counts as a credential: a key the schema marks as a string-or-
 * SecretRef (gateway.auth.token, models.providers.*.apiKey, ...), and any
 * string whose path looks like one by OpenClaw's rules (ends in "token",
 * or contains "password", "secret", "api key", "encrypt key", "private
 * key"; "maxTokens" and friends excepted), which covers channel and plugin
 * sections the schema leaves free-form. ${VAR} placeholders are not
 * secrets and stay visible; a SecretRef keeps its source and provider and
 * loses only its id.
 */
#ifndef PINCER_CONFIG_REDACT_H
#define PINCER_CONFIG_REDACT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CONFIG_REDACTED "__OPENCLAW_REDACTED__"

/*
 * Is the value at `path` a credential? `path` is a JSON path (jsonx.h);
 * array indices may be written [N] or [].
 */
bool config_path_sensitive(const char *path);

/*
 * A copy of the config tree `v` with every credential replaced by
 * CONFIG_REDACTED. When `values` is not NULL, every string replaced is
 * appended to it (for config_redact_text). New reference.
 */
json_t *config_redact(const json_t *v, json_t *values);

/*
 * `text` with each string of `values` replaced by CONFIG_REDACTED wherever
 * it occurs, longest first. New string. This is how the raw file text is
 * masked; the caller must check that the result still parses to the
 * redacted tree (a short secret can also occur inside other text).
 */
char *config_redact_text(const char *text, const json_t *values);

/*
 * `incoming` with every CONFIG_REDACTED at a credential path replaced by
 * the value at the same place in `original` (array entries are matched by
 * "id" when they have unique ones, else by position). Returns a new
 * reference, or NULL with a message in `err` when a sentinel has nothing
 * to stand for or sits where no credential belongs.
 */
json_t *config_restore_redacted(const json_t *incoming, const json_t *original, char *err,
				size_t errlen);

#endif
