/* auth.c - auth-profiles.json: credentials per agent, their order and health. */
#include "providers/auth.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "config/secrets.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "providers/catalog.h"

/*
 * Health bookkeeping follows OpenClaw 2026.9.6
 * (src/agents/auth-profiles/usage-failure-state.ts, usage-state.ts,
 * order.ts, profiles.ts), which supersedes the older documented schedule:
 *
 *  - transient failures (auth, timeout, unknown): cooldown 30 s, 60 s, then
 *    5 min for errorCount 1, 2, ≥3 (calculateAuthProfileCooldownMs);
 *  - rate limits: 30 s doubling per consecutive rate-limit failure
 *    (failureCounts.rate_limit, kept across expired cooldowns) up to 24 h;
 *  - billing: the profile is disabled for 10 min doubling per billing
 *    failure up to 24 h (disabledUntil, disabledReason "billing");
 *  - a failure while a window is still active keeps that window;
 *  - errorCount restarts after 24 h without failure, or once every window
 *    has expired (the backoff counts survive the latter, see
 *    backoff_counts); 24 h without failure also clears the backoff counts
 *    (OpenClaw keeps the rate-limit count until a success);
 *  - overloaded, server, format, context-overflow and malformed-stream
 *    failures do not touch the profile (OpenClaw's
 *    resolveAuthProfileFailureReason): failover moves on instead;
 *  - openrouter manages its own limits: its profiles never cool down.
 *
 * pincer additions: a Retry-After longer than the computed cooldown wins,
 * and NETWORK failures count as timeouts. OpenClaw 2026.9.6 keeps this
 * state in SQLite and only migrates auth-profiles.json; pincer keeps the
 * JSON file, in the same shape.
 */

#define AUTH_FILE_MAX            (4u << 20)
#define AUTH_FAILURE_WINDOW_MS   (24LL * 3600 * 1000)
#define AUTH_RATE_LIMIT_BASE_MS  30000LL
#define AUTH_RATE_LIMIT_MAX_MS   (24LL * 3600 * 1000)
#define AUTH_BILLING_BASE_MS     (10LL * 60 * 1000)
#define AUTH_BILLING_MAX_MS      (24LL * 3600 * 1000)
#define AUTH_INLINE_USAGE_PREFIX "inline-api-key:"
/* A token this close to its expiry is reported "expiring" (OpenClaw's DEFAULT_OAUTH_WARN_MS). */
#define AUTH_EXPIRING_MS         (24LL * 3600 * 1000)

struct auth_store {
	char *path;
	json_t *doc;    /* the whole file; unknown fields ride along */
	bool corrupt;   /* unparsable on disk: never overwritten */
	bool loaded;    /* doc reflects the file as of `st` */
	struct stat st; /* of the file when read or written */
	bool st_valid;  /* the file existed then */
};

/* ==== load and save ==== */

static json_t *empty_doc(void)
{
	return json_pack("{s:i, s:{}}", "version", 1, "profiles");
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Re-read the file when it changed on disk since we last saw it. */
static void store_refresh(struct auth_store *s)
{
	struct stat st;
	struct buf b;
	json_error_t jerr;
	json_t *doc;

	if (stat(s->path, &st) < 0) {
		if (s->loaded && !s->st_valid)
			return;
		json_decref(s->doc);
		s->doc = empty_doc();
		s->corrupt = false;
		s->st_valid = false;
		s->loaded = true;
		return;
	}
	if (s->loaded && s->st_valid && same_file(&st, &s->st))
		return;
	s->st = st;
	s->st_valid = true;
	s->loaded = true;
	buf_init(&b, AUTH_FILE_MAX);
	if (fs_read_file(s->path, &b) < 0) {
		log_warn("auth", "cannot read %s: %s; using no profiles", s->path, strerror(errno));
		doc = NULL;
	} else {
		doc = json_loadb(b.p, b.len, 0, &jerr);
		if (!doc)
			log_warn("auth",
				 "corrupt %s (line %d: %s); using no profiles and leaving the file "
				 "untouched",
				 s->path, jerr.line, jerr.text);
		else if (!json_is_object(doc)) {
			log_warn("auth", "corrupt %s: not a JSON object; leaving it untouched",
				 s->path);
			json_decref(doc);
			doc = NULL;
		}
	}
	buf_release(&b);
	json_decref(s->doc);
	s->corrupt = doc == NULL;
	s->doc = doc ? doc : empty_doc();
	if (!json_is_object(json_object_get(s->doc, "profiles")))
		json_object_set_new(s->doc, "profiles", json_object());
}

static void store_save(struct auth_store *s)
{
	char *text, *dir;
	struct stat st;

	if (s->corrupt) {
		log_warn("auth", "not updating %s: it is corrupt (fix or remove it)", s->path);
		return;
	}
	dir = fs_dirname(s->path);
	if (fs_mkdir_p(dir, 0700) < 0)
		log_warn("auth", "cannot create %s: %s", dir, strerror(errno));
	free(dir);
	text = json_dump_str(s->doc, JSON_INDENT(2));
	if (fs_write_atomic(s->path, text, strlen(text), 0600) < 0)
		log_warn("auth", "cannot write %s: %s", s->path, strerror(errno));
	else if (stat(s->path, &st) == 0) {
		s->st = st;
		s->st_valid = true;
	}
	free(text);
}

struct auth_store *auth_store_open(const char *agent_dir)
{
	struct auth_store *s = xcalloc(1, sizeof(*s));

	s->path = fs_join(agent_dir, "auth-profiles.json");
	return s;
}

void auth_store_free(struct auth_store *s)
{
	if (!s)
		return;
	json_decref(s->doc);
	free(s->path);
	free(s);
}

/* ==== profile fields ==== */

static json_t *profiles(struct auth_store *s)
{
	return json_object_get(s->doc, "profiles");
}

/* OpenClaw's aliases: `mode` for `type`, "apiKey" for "api_key". */
static const char *profile_type(json_t *p)
{
	const char *t = json_string_value(json_object_get(p, "type"));

	if (!t)
		t = json_string_value(json_object_get(p, "mode"));
	if (str_eq(t, "apiKey"))
		return "api_key";
	return t;
}

static bool provider_match(const char *a, const char *b)
{
	return a && b && !strcasecmp(a, b);
}

static const char *profile_provider(json_t *p)
{
	return json_string_value(json_object_get(p, "provider"));
}

static bool nonblank(json_t *v)
{
	const char *s = json_string_value(v);

	if (!s)
		return false;
	while (isspace((unsigned char)*s))
		s++;
	return *s != '\0';
}

/* The credential value (string or SecretRef) of an api_key/token profile, or NULL. */
static json_t *profile_secret(json_t *p, const char *type)
{
	const char *val = !strcmp(type, "token") ? "token" : "key";
	const char *ref = !strcmp(type, "token") ? "tokenRef" : "keyRef";
	json_t *v;

	if ((v = json_object_get(p, ref)) && secret_is_ref(v))
		return v;
	if ((v = json_object_get(p, val)) && (secret_is_ref(v) || nonblank(v)))
		return v;
	if (!strcmp(type, "api_key") && nonblank(v = json_object_get(p, "apiKey")))
		return v;
	return NULL;
}

static int64_t jms(json_t *v)
{
	if (json_is_integer(v))
		return (int64_t)json_integer_value(v);
	if (json_is_real(v))
		return (int64_t)json_real_value(v);
	return 0;
}

/*
 * Whether the stored credential can be used now (OpenClaw's
 * evaluateStoredCredentialEligibility, minus OAuth, which pincer cannot
 * refresh yet).
 */
static bool profile_usable(json_t *p, int64_t now)
{
	const char *type = profile_type(p);
	json_t *exp;

	if (!type || (strcmp(type, "api_key") && strcmp(type, "token")))
		return false;
	if (!profile_secret(p, type))
		return false;
	if (!strcmp(type, "token") && (exp = json_object_get(p, "expires")) && jms(exp) > 0 &&
	    jms(exp) <= now)
		return false;
	return true;
}

/* ==== usage stats ==== */

static bool cooldown_bypassed(const char *provider)
{
	return provider_match(provider, "openrouter") || provider_match(provider, "kilocode");
}

static json_t *stats_get(struct auth_store *s, const char *id)
{
	return json_object_get(json_object_get(s->doc, "usageStats"), id);
}

static json_t *stats_ensure(struct auth_store *s, const char *id)
{
	json_t *all = json_object_get(s->doc, "usageStats"), *st;

	if (!json_is_object(all)) {
		all = json_object();
		json_object_set_new(s->doc, "usageStats", all);
	}
	st = json_object_get(all, id);
	if (!json_is_object(st)) {
		st = json_object();
		json_object_set_new(all, id, st);
	}
	return st;
}

static int64_t stat_ms(json_t *st, const char *field)
{
	return jms(json_object_get(st, field));
}

/* The latest of the windows that make a profile unusable; 0 for none. */
static int64_t unusable_until(json_t *st)
{
	static const char *const fields[] = { "blockedUntil", "cooldownUntil", "disabledUntil" };
	int64_t until = 0;

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		int64_t v = stat_ms(st, fields[i]);

		if (v > until)
			until = v;
	}
	return until;
}

static void del_fields(json_t *st, const char *const *fields, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_object_del(st, fields[i]);
}

static const char *const cooldown_fields[] = { "cooldownUntil", "cooldownReason",
					       "cooldownClassification", "cooldownModel" };
static const char *const blocked_fields[] = { "blockedUntil", "blockedReason", "blockedSource",
					      "blockedModel", "blockedScope" };
static const char *const disabled_fields[] = { "disabledUntil", "disabledReason" };

/*
 * The failure counts that survive an expired window: the ones driving an
 * exponential backoff. OpenClaw keeps only rate_limit; it also resets the
 * billing count, which makes its billing doubling unreachable (every new
 * window starts at the base again). pincer keeps billing too, so repeated
 * billing failures really back off to 24 h, as OpenClaw documents.
 */
static json_t *backoff_counts(json_t *fc)
{
	static const char *const keep[] = { "rate_limit", "billing" };
	json_t *out = json_object();

	for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
		json_int_t n = json_integer_value(json_object_get(fc, keep[i]));

		if (n > 0)
			json_object_set_new(out, keep[i], json_integer(n));
	}
	return out;
}

/*
 * OpenClaw's clearExpiredCooldowns: drop windows that have passed; when
 * none is left the profile starts fresh, except that the rate-limit count
 * survives so repeated limits keep backing off. In memory only; the next
 * write persists it.
 */
static void clear_expired(struct auth_store *s, int64_t now)
{
	json_t *all = json_object_get(s->doc, "usageStats"), *st;
	const char *id;

	json_object_foreach(all, id, st)
	{
		bool changed = false;
		int64_t v;

		if ((v = stat_ms(st, "cooldownUntil")) > 0 && now >= v) {
			del_fields(st, cooldown_fields, ARRAY_SIZE(cooldown_fields));
			changed = true;
		}
		if ((v = stat_ms(st, "blockedUntil")) > 0 && now >= v) {
			del_fields(st, blocked_fields, ARRAY_SIZE(blocked_fields));
			changed = true;
		}
		if ((v = stat_ms(st, "disabledUntil")) > 0 && now >= v) {
			del_fields(st, disabled_fields, ARRAY_SIZE(disabled_fields));
			changed = true;
		}
		if (changed && !unusable_until(st)) {
			json_t *fc = backoff_counts(json_object_get(st, "failureCounts"));

			json_object_set_new(st, "errorCount", json_integer(0));
			if (json_object_size(fc))
				json_object_set_new(st, "failureCounts", fc);
			else {
				json_decref(fc);
				json_object_del(st, "failureCounts");
			}
		}
	}
}

int64_t auth_cooldown_ms(int error_count)
{
	if (error_count <= 1)
		return 30000;
	if (error_count == 2)
		return 60000;
	return 300000;
}

/* base * 2^(n-1), capped (OpenClaw's calculateCappedExponentialBackoffMs). */
static int64_t capped_backoff(int64_t n, int64_t base, int64_t max)
{
	int64_t ms = base;

	for (int64_t i = 1; i < n && ms < max; i++)
		ms *= 2;
	return ms < max ? ms : max;
}

/* The failure reason OpenClaw records for an error kind, or NULL: leave the profile alone. */
static const char *failure_reason(enum prov_err_kind kind)
{
	switch (kind) {
	case PROV_ERR_AUTH:
		return "auth";
	case PROV_ERR_BILLING:
		return "billing";
	case PROV_ERR_RATE_LIMIT:
		return "rate_limit";
	case PROV_ERR_TIMEOUT:
	case PROV_ERR_NETWORK:
		return "timeout";
	case PROV_ERR_UNKNOWN:
		return "unknown";
	default:
		return NULL;
	}
}

/* computeNextProfileUsageStats, for one failure with `reason` at `now`. */
static void apply_failure(json_t *st, const char *reason, long retry_after_ms, int64_t now)
{
	int64_t last_failure = stat_ms(st, "lastFailureAt");
	int64_t until = unusable_until(st);
	bool quiet = last_failure > 0 && now - last_failure > AUTH_FAILURE_WINDOW_MS;
	bool reset = quiet || (until > 0 && now >= until);
	json_t *old_fc = json_object_get(st, "failureCounts");
	json_t *fc;
	int64_t errors = (reset ? 0 : stat_ms(st, "errorCount")) + 1;
	int64_t count;

	if (quiet)
		fc = json_object();
	else if (reset)
		fc = backoff_counts(old_fc);
	else
		fc = json_is_object(old_fc) ? json_deep_copy(old_fc) : json_object();
	count = jms(json_object_get(fc, reason)) + 1;
	json_object_set_new(fc, reason, json_integer(count));
	json_object_set_new(st, "failureCounts", fc);
	json_object_set_new(st, "errorCount", json_integer(errors));
	json_object_set_new(st, "lastFailureAt", json_integer(now));
	json_object_del(st, "cooldownClassification");

	if (!strcmp(reason, "billing")) {
		int64_t cur = stat_ms(st, "disabledUntil");

		if (cur <= now)
			json_object_set_new(
				st, "disabledUntil",
				json_integer(now + capped_backoff(count, AUTH_BILLING_BASE_MS,
								  AUTH_BILLING_MAX_MS)));
		json_object_set_new(st, "disabledReason", json_string(reason));
		return;
	}

	int64_t ms =
		!strcmp(reason, "rate_limit")
			? capped_backoff(count, AUTH_RATE_LIMIT_BASE_MS, AUTH_RATE_LIMIT_MAX_MS)
			: auth_cooldown_ms((int)(errors > 1000 ? 1000 : errors));
	int64_t cur = stat_ms(st, "cooldownUntil");
	int64_t next = cur > now ? cur : now + ms;

	/* pincer: the provider said when to come back; believe it when it is later. */
	if (retry_after_ms > 0 && now + retry_after_ms > next)
		next = now + retry_after_ms;
	json_object_set_new(st, "cooldownUntil", json_integer(next));
	json_object_set_new(st, "cooldownReason", json_string(reason));
	json_object_del(st, "cooldownModel");
}

/* resetAuthProfileFailureState, plus lastUsed. */
static void apply_success(json_t *st, int64_t now)
{
	del_fields(st, cooldown_fields, ARRAY_SIZE(cooldown_fields));
	del_fields(st, blocked_fields, ARRAY_SIZE(blocked_fields));
	del_fields(st, disabled_fields, ARRAY_SIZE(disabled_fields));
	json_object_del(st, "failureCounts");
	json_object_set_new(st, "errorCount", json_integer(0));
	json_object_set_new(st, "lastUsed", json_integer(now));
}

/* "<provider>:env" -> "inline-api-key:<provider>" (new string), else NULL. */
static char *inline_usage_id(const char *profile_id)
{
	size_t n = strlen(profile_id);

	if (n <= 4 || strcmp(profile_id + n - 4, ":env"))
		return NULL;
	return xasprintf(AUTH_INLINE_USAGE_PREFIX "%.*s", (int)(n - 4), profile_id);
}

void auth_mark_success(struct auth_store *s, const char *profile_id, int64_t now_ms)
{
	json_t *p, *good;
	char *inl;

	store_refresh(s);
	p = json_object_get(profiles(s), profile_id);
	if (json_is_object(p)) {
		const char *prov = profile_provider(p);

		apply_success(stats_ensure(s, profile_id), now_ms);
		if (prov) {
			good = json_object_get(s->doc, "lastGood");
			if (!json_is_object(good)) {
				good = json_object();
				json_object_set_new(s->doc, "lastGood", good);
			}
			json_object_set_new(good, prov, json_string(profile_id));
		}
		store_save(s);
		return;
	}
	inl = inline_usage_id(profile_id);
	if (inl && stats_get(s, inl)) {
		apply_success(stats_ensure(s, inl), now_ms);
		store_save(s);
	}
	free(inl);
}

void auth_mark_failure(struct auth_store *s, const char *profile_id, enum prov_err_kind kind,
		       long retry_after_ms, int64_t now_ms)
{
	const char *reason = failure_reason(kind);
	json_t *p;
	char *inl;

	if (!reason)
		return;
	store_refresh(s);
	p = json_object_get(profiles(s), profile_id);
	if (json_is_object(p)) {
		if (cooldown_bypassed(profile_provider(p)))
			return;
		apply_failure(stats_ensure(s, profile_id), reason, retry_after_ms, now_ms);
		store_save(s);
		return;
	}
	/*
	 * A key from config or the environment: OpenClaw remembers only auth
	 * and billing failures for it, under "inline-api-key:<provider>".
	 */
	inl = inline_usage_id(profile_id);
	if (inl && (!strcmp(reason, "auth") || !strcmp(reason, "billing")) &&
	    !cooldown_bypassed(inl + strlen(AUTH_INLINE_USAGE_PREFIX))) {
		apply_failure(stats_ensure(s, inl), reason, retry_after_ms, now_ms);
		store_save(s);
	}
	free(inl);
}

/* ==== candidates ==== */

struct cand {
	const char *id;
	int type_score; /* token before api_key, as OpenClaw orders (oauth would be 0) */
	int64_t last_used;
	int64_t until; /* unusable until; 0 usable */
	size_t pos;    /* position in the base order, for stable sorts */
};

static int cmp_available(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->type_score != y->type_score)
		return x->type_score - y->type_score;
	if (x->last_used != y->last_used)
		return x->last_used < y->last_used ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int cmp_pos(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int cmp_cooldown(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->until != y->until)
		return x->until < y->until ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* order[provider] in `obj`, matched case-insensitively; borrowed. */
static json_t *order_for(json_t *obj, const char *provider)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		if (provider_match(key, provider) && json_is_array(v))
			return v;
	}
	return NULL;
}

static bool list_has(json_t *arr, const char *id)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		if (str_eq(json_string_value(v), id))
			return true;
	}
	return false;
}

static void push_id(json_t *arr, const char *id)
{
	if (id && !list_has(arr, id))
		json_array_append_new(arr, json_string(id));
}

/* Stored profiles for the provider, in file order. New array. */
static json_t *store_ids(struct auth_store *s, const char *provider)
{
	json_t *out = json_array(), *p;
	const char *id;

	json_object_foreach(profiles(s), id, p)
	{
		if (provider_match(profile_provider(p), provider))
			push_id(out, id);
	}
	return out;
}

/*
 * A profile the order may use: stored, for this provider, with a usable
 * credential, and of the type config's auth.profiles.<id>.mode expects.
 */
static bool eligible(struct auth_store *s, const struct config *cfg, const char *provider,
		     const char *id, int64_t now)
{
	json_t *p = json_object_get(profiles(s), id);
	json_t *pc = json_object_get(json_object_get(config_get(cfg, "auth"), "profiles"), id);
	const char *mode;

	if (!json_is_object(p) || !provider_match(profile_provider(p), provider))
		return false;
	if (json_is_object(pc)) {
		const char *cp = json_string_value(json_object_get(pc, "provider"));

		if (cp && !provider_match(cp, provider))
			return false;
		mode = json_string_value(json_object_get(pc, "mode"));
		if (mode && !str_eq(mode, profile_type(p)) &&
		    !(str_eq(mode, "oauth") && str_eq(profile_type(p), "token")))
			return false;
	}
	return profile_usable(p, now);
}

/* OpenClaw's resolveAuthProfileOrder. New array of ids. */
static json_t *resolve_order(struct auth_store *s, const struct config *cfg, const char *provider,
			     const char *sticky, int64_t now)
{
	json_t *auth_cfg = config_get(cfg, "auth");
	json_t *explicit = order_for(json_object_get(s->doc, "order"), provider);
	bool from_store = explicit != NULL;
	json_t *cfg_profiles = json_object_get(auth_cfg, "profiles"), *base, *v, *out;
	json_t *stored = store_ids(s, provider);
	const char *id;
	size_t i, n = 0, navail = 0, ncool = 0;
	bool all_missing = true, repaired = false;
	struct cand *c;

	if (!explicit)
		explicit = order_for(json_object_get(auth_cfg, "order"), provider);
	base = json_array();
	if (explicit) {
		json_array_foreach(explicit, i, v) push_id(base, json_string_value(v));
	} else {
		json_object_foreach(cfg_profiles, id, v)
		{
			if (provider_match(json_string_value(json_object_get(v, "provider")),
					   provider))
				push_id(base, id);
		}
		if (!json_array_size(base))
			json_array_extend(base, stored);
	}
	c = xcalloc(json_array_size(base) + json_array_size(stored) + 1, sizeof(*c));
	json_array_foreach(base, i, v)
	{
		const char *pid = json_string_value(v);

		if (json_object_get(profiles(s), pid))
			all_missing = false;
		if (eligible(s, cfg, provider, pid, now))
			c[n++].id = pid;
	}
	/* An explicit order naming only profiles that are gone: fall back to what is stored. */
	if (!n && json_array_size(base) && all_missing &&
	    (from_store || json_object_size(cfg_profiles))) {
		repaired = true;
		json_array_foreach(stored, i, v)
		{
			if (eligible(s, cfg, provider, json_string_value(v), now))
				c[n++].id = json_string_value(v);
		}
	}
	for (i = 0; i < n; i++) {
		json_t *st = stats_get(s, c[i].id);
		json_t *p = json_object_get(profiles(s), c[i].id);
		int64_t until = unusable_until(st);

		c[i].pos = i;
		c[i].type_score = str_eq(profile_type(p), "token") ? 1 : 2;
		c[i].last_used = stat_ms(st, "lastUsed");
		c[i].until = (!cooldown_bypassed(provider) && until > now) ? until : 0;
		if (c[i].until)
			ncool++;
		else
			navail++;
	}
	/* Partition: usable first, then by when they come back. */
	{
		struct cand *avail = xcalloc(navail + 1, sizeof(*avail));
		struct cand *cool = xcalloc(ncool + 1, sizeof(*cool));
		size_t a = 0, k = 0;

		for (i = 0; i < n; i++) {
			if (c[i].until)
				cool[k++] = c[i];
			else
				avail[a++] = c[i];
		}
		qsort(avail, a, sizeof(*avail), explicit && !repaired ? cmp_pos : cmp_available);
		qsort(cool, k, sizeof(*cool), cmp_cooldown);
		memcpy(c, avail, a * sizeof(*c));
		memcpy(c + a, cool, k * sizeof(*c));
		free(avail);
		free(cool);
	}
	out = json_array();
	/* The session's profile leads while it is healthy (SPEC §4.8: sticky until cooldown). */
	for (i = 0; sticky && i < n; i++)
		if (!strcmp(c[i].id, sticky) && !c[i].until)
			push_id(out, sticky);
	for (i = 0; i < n; i++)
		push_id(out, c[i].id);
	free(c);
	json_decref(base);
	json_decref(stored);
	return out;
}

static int64_t avail_at(struct auth_store *s, const char *usage_id, const char *provider,
			int64_t now)
{
	int64_t until = unusable_until(stats_get(s, usage_id));

	return (!cooldown_bypassed(provider) && until > now) ? until : 0;
}

size_t auth_candidates(struct auth_store *s, const struct config *cfg, const char *provider,
		       const char *sticky, int64_t now_ms, struct auth_candidate **out)
{
	json_t *order, *v;
	struct auth_candidate *c;
	size_t i, n = 0;

	store_refresh(s);
	clear_expired(s, now_ms);
	order = resolve_order(s, cfg, provider, sticky, now_ms);
	c = xcalloc(json_array_size(order) + 1, sizeof(*c));
	json_array_foreach(order, i, v)
	{
		const char *id = json_string_value(v);
		json_t *p = json_object_get(profiles(s), id);
		char *key = NULL, err[256];

		if (secret_resolve(cfg->root, profile_secret(p, profile_type(p)), &key, err,
				   sizeof(err)) < 0) {
			log_warn("auth", "skipping auth profile %s: %s", id, err);
			continue;
		}
		log_add_secret(key);
		c[n].profile_id = xstrdup(id);
		c[n].key = key;
		c[n].available_at = avail_at(s, id, provider, now_ms);
		n++;
	}
	json_decref(order);
	if (!n) {
		/* No usable stored profile: the key from config or the environment. */
		char *key = NULL, err[256], *inl;
		int rc = catalog_config_key(cfg, provider, &key, err, sizeof(err));

		if (rc < 0)
			log_warn("auth", "no key for %s: %s", provider, err);
		/* A configured key that does not resolve is no key, even on a keyless provider. */
		if (rc > 0 || (rc == 0 && catalog_keyless(cfg, provider))) {
			c[0].profile_id = xasprintf("%s:env", provider);
			c[0].key = key;
			inl = xasprintf(AUTH_INLINE_USAGE_PREFIX "%s", provider);
			c[0].available_at = avail_at(s, inl, provider, now_ms);
			free(inl);
			n = 1;
		}
	}
	if (!n) {
		free(c);
		c = NULL;
	}
	*out = c;
	return n;
}

void auth_candidates_free(struct auth_candidate *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++) {
		free(c[i].profile_id);
		free(c[i].key);
	}
	free(c);
}

/* A profile's live cooldown or disable (not for providers that bypass cooldowns) into `row`. */
static void put_cooldown(json_t *row, json_t *st, const char *provider, int64_t now)
{
	int64_t v;

	if (cooldown_bypassed(provider))
		return;
	if ((v = stat_ms(st, "cooldownUntil")) > now)
		json_object_set_new(row, "cooldownUntil", json_integer(v));
	if ((v = stat_ms(st, "disabledUntil")) > now) {
		json_object_set_new(row, "disabledUntil", json_integer(v));
		if (json_is_string(json_object_get(st, "disabledReason")))
			json_object_set(row, "disabledReason",
					json_object_get(st, "disabledReason"));
	}
}

/* ==== status ==== */

json_t *auth_status(struct auth_store *s)
{
	json_t *rows = json_array(), *p;
	const char *id;
	int64_t now = time_now_ms();

	store_refresh(s);
	json_object_foreach(profiles(s), id, p)
	{
		json_t *st = stats_get(s, id);
		const char *prov = profile_provider(p), *type = profile_type(p);
		json_t *row =
			json_pack("{s:s, s:s?, s:s?, s:I}", "id", id, "provider", prov, "type",
				  type, "errorCount", (json_int_t)stat_ms(st, "errorCount"));

		put_cooldown(row, st, prov, now);
		json_array_append_new(rows, row);
	}
	return json_pack("{s:o}", "profiles", rows);
}

/* ==== status reports (models status, models.authStatus) ==== */

/* Every env var that may hold the provider's key. New array. */
static json_t *env_vars_json(const char *provider)
{
	json_t *out = json_array();

	for (const char *const *e = catalog_env_keys(provider); e && *e; e++)
		json_array_append_new(out, json_string(*e));
	return out;
}

/*
 * One stored profile, as models.authStatus shows it: OpenClaw's
 * buildProfileHealth statuses ("static" for a usable key, "missing" or
 * "expired" with a reasonCode otherwise) plus pincer's cooldown fields.
 * Resolves a SecretRef only to learn whether it resolves.
 */
static json_t *profile_row(struct auth_store *s, const struct config *cfg, const char *id,
			   json_t *p, int64_t now)
{
	const char *type = profile_type(p), *status = "static", *reason = NULL;
	json_t *cfg_prof =
		json_object_get(json_object_get(config_get(cfg, "auth"), "profiles"), id);
	json_t *st = stats_get(s, id), *row, *secret;

	if (!type || (strcmp(type, "api_key") && strcmp(type, "token"))) {
		/* OAuth (or unknown) profiles are kept but pincer cannot use them yet. */
		status = "missing";
		reason = str_eq(type, "oauth") ? "oauth_unsupported" : "missing_credential";
	} else if (!(secret = profile_secret(p, type))) {
		status = "missing";
		reason = "missing_credential";
	} else if (!profile_usable(p, now)) {
		status = "expired";
		reason = "expired";
	} else if (secret_is_ref(secret)) {
		char *key = NULL, err[256];

		if (secret_resolve(cfg->root, secret, &key, err, sizeof(err)) < 0) {
			status = "missing";
			reason = "unresolved_ref";
		} else {
			log_add_secret(key);
		}
		free(key);
	}
	/* A token with an expiry: OpenClaw's "ok", or "expiring" within its 24 h warning. */
	if (!reason && !strcmp(type, "token") && jms(json_object_get(p, "expires")) > now)
		status = jms(json_object_get(p, "expires")) - now < AUTH_EXPIRING_MS ? "expiring"
										     : "ok";
	row = json_pack("{s:s, s:s, s:s, s:s}", "profileId", id, "type", type ? type : "unknown",
			"status", status, "source", json_is_object(cfg_prof) ? "config" : "saved");
	if (reason)
		json_object_set_new(row, "reasonCode", json_string(reason));
	if (json_is_object(secret = profile_secret(p, type ? type : "api_key")) &&
	    secret_is_ref(secret))
		json_object_set_new(
			row, "secretRef",
			json_pack("{s:O?}", "source", json_object_get(secret, "source")));
	put_cooldown(row, st, profile_provider(p), now);
	return row;
}

/* The sentence saying why `provider` has no credential. */
static char *missing_reason(const char *provider, const struct catalog_key_info *ki,
			    const char *key_err)
{
	const char *const *env = catalog_env_keys(provider);
	struct buf b;
	char *out;

	if (ki->failed)
		return xstrdup(key_err);
	buf_init(&b, 1024);
	buf_printf(&b, "no API key for %s: set ", provider);
	for (const char *const *e = env; e && *e; e++)
		buf_printf(&b, "%s, ", *e);
	buf_printf(&b, "models.providers.%s.apiKey, or add an auth profile", provider);
	out = xstrndup(b.p ? b.p : "", b.len);
	buf_release(&b);
	return out;
}

json_t *auth_provider_status(struct auth_store *s, const struct config *cfg, const char *provider,
			     int64_t now_ms)
{
	struct auth_candidate *c = NULL;
	struct catalog_key_info ki;
	char *key = NULL, err[256] = "";
	json_t *row, *rows = json_array(), *p, *order;
	const char *id;
	bool usable, expired = false;
	size_t n;

	n = auth_candidates(s, cfg, provider, NULL, now_ms, &c);
	usable = n > 0;
	auth_candidates_free(c, n);
	json_object_foreach(profiles(s), id, p)
	{
		json_t *r;

		if (!provider_match(profile_provider(p), provider))
			continue;
		r = profile_row(s, cfg, id, p, now_ms);
		expired = expired ||
			  str_eq(json_string_value(json_object_get(r, "status")), "expired");
		json_array_append_new(rows, r);
	}
	catalog_config_key_info(cfg, provider, &key, &ki, err, sizeof(err));
	free(key); /* only where it came from is reported */
	row = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:b, s:o}", "provider", provider,
			"authProvider", provider, "displayName", catalog_provider_name(provider),
			"status",
			usable    ? "static"
			: expired ? "expired"
				  : "missing",
			"profiles", rows, "usable", usable, "keyless",
			catalog_keyless(cfg, provider), "envVars", env_vars_json(provider));
	order = order_for(json_object_get(s->doc, "order"), provider);
	if (!order)
		order = order_for(json_object_get(config_get(cfg, "auth"), "order"), provider);
	if (order)
		json_object_set(row, "profileOrder", order);
	if (ki.src == CATALOG_KEY_SECRETREF) {
		json_t *ref = json_pack("{s:s}", "source", ki.ref_source);

		if (*ki.env_var)
			json_object_set_new(ref, "envVar", json_string(ki.env_var));
		json_object_set_new(row, "secretRef", ref);
	}
	/* OpenClaw's apiKey: a usable key from config or env (an env SecretRef counts as env). */
	if (!ki.failed && ki.src != CATALOG_KEY_NONE) {
		if (*ki.env_var)
			json_object_set_new(
				row, "apiKey",
				json_pack("{s:s, s:s}", "source", "env", "envVar", ki.env_var));
		else
			json_object_set_new(row, "apiKey", json_pack("{s:s}", "source", "config"));
	}
	if (!usable) {
		char *why = missing_reason(provider, &ki, err);

		json_object_set_new(row, "problem", json_string(why));
		free(why);
	}
	return row;
}

/* Add `provider` to the sorted set `set` unless present. */
static void set_add(json_t *set, const char *provider)
{
	size_t i;
	json_t *v;

	if (!provider || !*provider)
		return;
	json_array_foreach(set, i, v)
	{
		int c = strcmp(json_string_value(v), provider);

		if (!c)
			return;
		if (c > 0) {
			json_array_insert_new(set, i, json_string(provider));
			return;
		}
	}
	json_array_append_new(set, json_string(provider));
}

/* The provider of model `ref`, added to `set` when the ref resolves. */
static void set_add_ref(json_t *set, const struct config *cfg, const char *ref)
{
	struct prov_model m = { 0 };
	char err[256];

	if (ref && catalog_resolve(cfg, ref, &m, err, sizeof(err)) == 0)
		set_add(set, m.provider);
	prov_model_release(&m);
}

/*
 * The providers worth a row: the agent's model and fallbacks, every
 * configured provider, every provider of a stored profile, and the presets
 * whose key is in the environment (OpenClaw's resolveProviderApiKeys set).
 */
static json_t *report_providers(struct auth_store *s, const struct config *cfg, const char *ref,
				json_t *fallbacks)
{
	json_t *set = json_array(), *v, *known;
	const char *key;
	size_t i;

	set_add_ref(set, cfg, ref);
	json_array_foreach(fallbacks, i, v) set_add_ref(set, cfg, json_string_value(v));
	json_object_foreach(config_get(cfg, "models.providers"), key, v)
	{
		char *id = catalog_provider_id(key);

		set_add(set, id);
		free(id);
	}
	json_object_foreach(profiles(s), key, v)
	{
		const char *prov = profile_provider(v);
		char *id = prov ? catalog_provider_id(prov) : NULL;

		set_add(set, id);
		free(id);
	}
	known = catalog_providers(cfg);
	json_array_foreach(known, i, v)
	{
		for (const char *const *e = catalog_env_keys(json_string_value(v)); e && *e; e++) {
			const char *val = getenv(*e);

			while (val && isspace((unsigned char)*val))
				val++;
			if (val && *val) {
				set_add(set, json_string_value(v));
				break;
			}
		}
	}
	json_decref(known);
	return set;
}

/* The credentials the agent's model would use, best first, as sources. */
static json_t *credential_rows(struct auth_store *s, const struct config *cfg, const char *provider,
			       int64_t now, size_t *count)
{
	struct auth_candidate *c = NULL;
	size_t n = auth_candidates(s, cfg, provider, NULL, now, &c);
	json_t *rows = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *row =
			json_pack("{s:s, s:b, s:I}", "id", c[i].profile_id, "hasKey",
				  c[i].key != NULL, "availableAt", (json_int_t)c[i].available_at);
		const char *src = "profile";

		if (json_object_get(profiles(s), c[i].profile_id) == NULL) {
			struct catalog_key_info ki;
			char *key = NULL, err[256];

			catalog_config_key_info(cfg, provider, &key, &ki, err, sizeof(err));
			free(key);
			src = !c[i].key                         ? "keyless"
			      : ki.src == CATALOG_KEY_ENV       ? "env"
			      : ki.src == CATALOG_KEY_SECRETREF ? "secretRef"
								: "config";
			if (c[i].key && *ki.env_var)
				json_object_set_new(row, "envVar", json_string(ki.env_var));
		}
		json_object_set_new(row, "source", json_string(src));
		json_array_append_new(rows, row);
	}
	auth_candidates_free(c, n);
	*count = n;
	return rows;
}

json_t *auth_report(struct auth_store *s, const struct config *cfg, const char *agent_id,
		    int64_t now_ms)
{
	char *ref = catalog_default_ref(cfg, agent_id), err[256];
	json_t *fb = catalog_fallbacks(cfg, agent_id), *set, *rows, *v, *out;
	struct prov_model m = { 0 };
	size_t i, n = 0;

	store_refresh(s);
	out = json_pack("{s:s, s:s?, s:O}", "agentId", agent_id, "model", ref, "fallbacks", fb);
	if (!ref) {
		json_object_set_new(out, "usable", json_false());
		json_object_set_new(out, "problem",
				    json_string("no model is set: choose one with `pincer models "
						"set provider/model` or in the Control UI"));
	} else if (catalog_resolve(cfg, ref, &m, err, sizeof(err)) < 0) {
		json_object_set_new(out, "usable", json_false());
		json_object_set_new(out, "error", json_string(err));
		json_object_set_new(out, "problem", json_string(err));
	} else {
		json_object_set_new(out, "provider", json_string(m.provider));
		json_object_set_new(out, "displayName",
				    json_string(catalog_provider_name(m.provider)));
		json_object_set_new(out, "api", json_string(m.api));
		json_object_set_new(out, "baseUrl", json_string(m.base_url));
		json_object_set_new(out, "credentials",
				    credential_rows(s, cfg, m.provider, now_ms, &n));
		json_object_set_new(out, "usable", json_boolean(n > 0));
		json_object_set_new(out, "keyless", json_boolean(catalog_keyless(cfg, m.provider)));
		json_object_set_new(out, "envVars", env_vars_json(m.provider));
	}
	set = report_providers(s, cfg, ref, fb);
	rows = json_array();
	json_array_foreach(set, i, v)
	{
		json_t *row = auth_provider_status(s, cfg, json_string_value(v), now_ms);

		/* The model's problem is its provider's, said once. */
		if (m.provider && !n && !strcmp(m.provider, json_string_value(v)))
			json_object_set(out, "problem", json_object_get(row, "problem"));
		json_array_append_new(rows, row);
	}
	json_object_set_new(out, "providers", rows);
	json_decref(set);
	prov_model_release(&m);
	json_decref(fb);
	free(ref);
	return out;
}
