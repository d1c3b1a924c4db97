/*
 * devices.c - the paired-device store; see devices.h.
 *
 * The state is kept as the JSON the files hold (two objects keyed by
 * request id and device id), so fields written by OpenClaw or by a later
 * pincer survive a round trip untouched. The rules follow OpenClaw
 * 2026.9.6: src/infra/device-pairing-core.kernel.ts (request, reject,
 * remove), device-pairing-approval.kernel.ts (approve),
 * device-pairing-tokens.kernel.ts (token verify/ensure/rotate/revoke),
 * device-pairing-state.kernel.ts (merging, expiry),
 * src/shared/operator-scope-compat.ts and src/shared/device-auth.ts (scope
 * rules), src/gateway/server-methods/devices.ts (list and event shapes).
 */
#include "gateway/devices.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/fs.h"
#include "core/id.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "gateway/device_auth.h"

#define DV_OPERATOR        "operator"
#define DV_OPERATOR_PREFIX "operator."
#define DV_ADMIN           "operator.admin"
#define DV_READ            "operator.read"
#define DV_WRITE           "operator.write"
#define DV_TALK            "operator.talk"
#define DV_SESSIONS_READ   "operator.sessions.read"
#define DV_SESSIONS_WRITE  "operator.sessions.write"

struct devices {
	char *pending_path;
	char *paired_path;
	json_t *pending; /* requestId -> PendingRequest */
	json_t *paired;  /* deviceId -> PairedDevice */
};

/* ==== small helpers ==== */

static void PRINTF_LIKE(3, 4) dv_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static json_t *dv_copy(const json_t *v)
{
	json_t *c = json_deep_copy(v);

	/* jansson only fails here when out of memory; so does xmalloc, loudly. */
	if (!c)
		BUG("out of memory copying json");
	return c;
}

static const char *dv_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int64_t dv_int(const json_t *obj, const char *key, int64_t dflt)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

/* Set a key, or delete it when `v` is NULL (JSON.stringify drops undefined). Steals `v`. */
static void dv_set(json_t *obj, const char *key, json_t *v)
{
	if (v)
		json_object_set_new(obj, key, v);
	else
		json_object_del(obj, key);
}

static json_t *dv_jstr(const char *s)
{
	return s ? json_string(s) : NULL;
}

/* A copy of member `key` of `obj`, or NULL. */
static json_t *dv_member_copy(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return v ? dv_copy(v) : NULL;
}

/* `s` trimmed the JavaScript way, as a new string; NULL when nothing is left. */
static char *dv_trim_dup(const char *s)
{
	const char *p;
	size_t n;

	if (!s)
		return NULL;
	device_auth_js_trim(s, &p, &n);
	return n ? xstrndup(p, n) : NULL;
}

/* Whether `s` has something besides whitespace. */
static bool dv_nonblank(const char *s)
{
	const char *p;
	size_t n;

	if (!s)
		return false;
	device_auth_js_trim(s, &p, &n);
	return n > 0;
}

/* Whether `s` trims to exactly `want`. */
static bool dv_trim_eq(const char *s, const char *want)
{
	const char *p;
	size_t n;

	if (!s || !want)
		return false;
	device_auth_js_trim(s, &p, &n);
	return n == strlen(want) && memcmp(p, want, n) == 0;
}

/* ==== string lists (JSON arrays of strings) ==== */

static bool dv_list_has(const json_t *list, const char *s)
{
	size_t i;
	const json_t *v;

	json_array_foreach(list, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	}
	return false;
}

/* Append `s` trimmed, unless it is blank or already there. */
static void dv_list_add_trimmed(json_t *list, const char *s)
{
	char *t = dv_trim_dup(s);

	if (t && !dv_list_has(list, t))
		json_array_append_new(list, json_string(t));
	free(t);
}

/*
 * normalizeUniqueSingleOrTrimmedStringList: the strings of an array, or a
 * lone string, trimmed, without blanks and duplicates, in first-seen order.
 */
static void dv_list_add_all(json_t *list, const json_t *v)
{
	size_t i;
	const json_t *item;

	if (json_is_string(v)) {
		dv_list_add_trimmed(list, json_string_value(v));
		return;
	}
	json_array_foreach(v, i, item)
	{
		if (json_is_string(item))
			dv_list_add_trimmed(list, json_string_value(item));
	}
}

/* mergeDevicePairingRoles: the union of strings and lists; NULL when empty. */
static json_t *dv_merge_roles(const json_t *const *items, size_t n)
{
	json_t *out = json_array();

	for (size_t i = 0; i < n; i++)
		dv_list_add_all(out, items[i]);
	if (json_array_size(out) == 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/*
 * mergeDevicePairingScopes: the union of the lists (other values are
 * ignored); NULL when no list was given, [] when the lists were empty.
 */
static json_t *dv_merge_scopes(const json_t *const *items, size_t n)
{
	json_t *out = json_array();
	bool saw_list = false;

	for (size_t i = 0; i < n; i++) {
		if (!json_is_array(items[i]))
			continue;
		saw_list = true;
		dv_list_add_all(out, items[i]);
	}
	if (!saw_list) {
		json_decref(out);
		return NULL;
	}
	return out;
}

static bool dv_same_set(const json_t *a, const json_t *b)
{
	size_t i;
	const json_t *v;

	if (json_array_size(a) != json_array_size(b))
		return false;
	json_array_foreach(a, i, v)
	{
		if (!dv_list_has(b, json_string_value(v)))
			return false;
	}
	return true;
}

static bool dv_subset(const json_t *a, const json_t *b)
{
	size_t i;
	const json_t *v;

	json_array_foreach(a, i, v)
	{
		if (!dv_list_has(b, json_string_value(v)))
			return false;
	}
	return true;
}

static int dv_cmp_jstr(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
		      json_string_value(*(json_t *const *)b));
}

/* Sort an array of strings by byte order (JavaScript's default sort, for ASCII). */
static void dv_list_sort(json_t *list)
{
	size_t n = json_array_size(list);
	json_t **items;

	if (n < 2)
		return;
	items = xmalloc(n * sizeof(*items));
	for (size_t i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(list, i));
	qsort(items, n, sizeof(*items), dv_cmp_jstr);
	json_array_clear(list);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, items[i]);
	free(items);
}

/* ==== scope rules ==== */

json_t *devices_normalize_scopes(const json_t *scopes)
{
	json_t *out = json_array();
	size_t i;
	const json_t *v;

	json_array_foreach(scopes, i, v)
	{
		if (json_is_string(v))
			dv_list_add_trimmed(out, json_string_value(v));
	}
	if (dv_list_has(out, DV_ADMIN)) {
		dv_list_add_trimmed(out, DV_READ);
		dv_list_add_trimmed(out, DV_WRITE);
	} else if (dv_list_has(out, DV_WRITE)) {
		dv_list_add_trimmed(out, DV_READ);
	}
	dv_list_sort(out);
	return out;
}

/* resolveRoleTokenScopes: the normalised scopes that belong to `role`'s token. */
static json_t *dv_role_token_scopes(const char *role, const json_t *scopes)
{
	json_t *all = devices_normalize_scopes(scopes), *out = json_array();
	bool for_operator = role && strcmp(role, DV_OPERATOR) == 0;
	size_t i;
	const json_t *v;

	json_array_foreach(all, i, v)
	{
		bool is_operator_scope = str_starts_with(json_string_value(v), DV_OPERATOR_PREFIX);

		if (is_operator_scope == for_operator)
			json_array_append(out, (json_t *)v);
	}
	json_decref(all);
	return out;
}

/* operatorScopeSatisfied: `granted` holds trimmed strings. */
static bool dv_operator_scope_ok(const char *s, const json_t *granted)
{
	if (!str_starts_with(s, DV_OPERATOR_PREFIX))
		return false;
	if (dv_list_has(granted, s) || dv_list_has(granted, DV_ADMIN))
		return true;
	if ((!strcmp(s, DV_READ) || !strcmp(s, DV_TALK) || !strcmp(s, DV_SESSIONS_READ) ||
	     !strcmp(s, DV_SESSIONS_WRITE)) &&
	    dv_list_has(granted, DV_WRITE))
		return true;
	return !strcmp(s, DV_SESSIONS_READ) &&
	       (dv_list_has(granted, DV_READ) || dv_list_has(granted, DV_SESSIONS_WRITE));
}

/*
 * resolveMissingRequestedScope: the first requested scope (as given) that
 * `allowed` does not grant to `role`, or NULL. Borrowed from `requested`.
 */
static const char *dv_missing_scope(const char *role, const json_t *requested,
				    const json_t *allowed)
{
	char *r = dv_trim_dup(role);
	json_t *granted = json_array();
	const char *missing = NULL;
	size_t i;
	const json_t *v;

	json_array_foreach(allowed, i, v)
	{
		char *t = json_is_string(v) ? dv_trim_dup(json_string_value(v)) : NULL;

		json_array_append_new(granted, json_string(t ? t : ""));
		free(t);
	}
	json_array_foreach(requested, i, v)
	{
		const char *raw = json_string_value(v);
		char *s = raw ? dv_trim_dup(raw) : NULL;
		bool ok;

		if (!s)
			continue;
		if (r && strcmp(r, DV_OPERATOR) == 0) {
			ok = dv_operator_scope_ok(s, granted);
		} else {
			size_t rl = r ? strlen(r) : 0;

			ok = strncmp(s, r ? r : "", rl) == 0 && s[rl] == '.' &&
			     dv_list_has(granted, s);
		}
		free(s);
		if (!ok) {
			missing = raw;
			break;
		}
	}
	json_decref(granted);
	free(r);
	return missing;
}

bool devices_role_scopes_allow(const char *role, const json_t *requested, const json_t *allowed)
{
	return dv_missing_scope(role, requested, allowed) == NULL;
}

/* resolveScopeOutsideRequestedRoles: the first scope no requested role owns, or NULL. */
static const char *dv_scope_outside_roles(const json_t *roles, const json_t *scopes)
{
	size_t i, j;
	const json_t *s, *r;

	json_array_foreach(scopes, i, s)
	{
		char *t = dv_trim_dup(json_string_value(s));
		bool owned = false;

		json_array_foreach(roles, j, r)
		{
			char *role = dv_trim_dup(json_string_value(r));
			size_t rl = role ? strlen(role) : 0;

			/* A blank scope belongs to any role; a role's scopes are "<role>.*". */
			if (!t || (strncmp(t, role ? role : "", rl) == 0 && t[rl] == '.'))
				owned = true;
			free(role);
			if (owned)
				break;
		}
		free(t);
		if (!owned)
			return json_string_value(s);
	}
	return NULL;
}

/* resolveRequestedDeviceRoles: the record's roles and role, merged; never NULL. */
static json_t *dv_record_roles(const json_t *rec)
{
	json_t *roles = dv_merge_roles(
		(const json_t *[]){ json_object_get(rec, "roles"), json_object_get(rec, "role") },
		2);

	return roles ? roles : json_array();
}

/* The approved scope baseline: approvedScopes, else scopes; NULL when neither is a list. */
static const json_t *dv_baseline(const json_t *device)
{
	const json_t *v = json_object_get(device, "approvedScopes");

	if (json_is_array(v))
		return v;
	v = json_object_get(device, "scopes");
	return json_is_array(v) ? v : NULL;
}

/* resolvePairedAccessScopes: the baseline trimmed, unique and sorted. */
static json_t *dv_access_scopes(const json_t *device)
{
	json_t *out = json_array();

	dv_list_add_all(out, dv_baseline(device));
	dv_list_sort(out);
	return out;
}

/* listEffectivePairedDeviceRoles: roles with an unrevoked token that are also approved. */
static json_t *dv_effective_roles(const json_t *device)
{
	const json_t *tokens = json_object_get(device, "tokens"), *entry;
	json_t *active = json_array(), *approved = dv_record_roles(device), *out = json_array();
	const char *key;
	size_t i;
	const json_t *v;

	json_object_foreach((json_t *)tokens, key, entry)
	{
		if (dv_int(entry, "revokedAtMs", 0) == 0 && dv_str(entry, "role"))
			dv_list_add_trimmed(active, dv_str(entry, "role"));
	}
	json_array_foreach(active, i, v)
	{
		if (dv_list_has(approved, json_string_value(v)))
			json_array_append(out, (json_t *)v);
	}
	json_decref(active);
	json_decref(approved);
	return out;
}

/* ==== files ==== */

static int dv_write(const char *path, const json_t *obj, char *err, size_t errlen)
{
	char *text = json_dump_str(obj, JSON_INDENT(2));
	size_t len = strlen(text);
	int r;

	text = xrealloc(text, len + 2);
	text[len++] = '\n';
	text[len] = '\0';
	r = fs_write_atomic(path, text, len, 0600);
	if (r < 0)
		dv_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
	free(text);
	return r;
}

static bool dv_valid_pending(const char *key, json_t *rec)
{
	const char *id;

	if (!json_is_object(rec) || !dv_nonblank(key) || !dv_trim_eq(key, key))
		return false;
	id = dv_str(rec, "requestId");
	if (json_object_get(rec, "requestId") && (!id || strcmp(id, key) != 0))
		return false;
	if (!id)
		json_object_set_new(rec, "requestId", json_string(key));
	return dv_nonblank(dv_str(rec, "deviceId")) && dv_nonblank(dv_str(rec, "publicKey")) &&
	       json_is_integer(json_object_get(rec, "ts"));
}

static bool dv_valid_token(const json_t *entry)
{
	return json_is_object(entry) && dv_str(entry, "token") && dv_str(entry, "role");
}

static bool dv_valid_paired(const char *key, json_t *rec)
{
	const json_t *tokens, *entry;
	const char *id, *k;

	if (!json_is_object(rec) || !dv_nonblank(key) || !dv_trim_eq(key, key))
		return false;
	id = dv_str(rec, "deviceId");
	if (json_object_get(rec, "deviceId") && (!id || strcmp(id, key) != 0))
		return false;
	if (!id)
		json_object_set_new(rec, "deviceId", json_string(key));
	if (!dv_nonblank(dv_str(rec, "publicKey")) ||
	    !json_is_integer(json_object_get(rec, "createdAtMs")) ||
	    !json_is_integer(json_object_get(rec, "approvedAtMs")))
		return false;
	tokens = json_object_get(rec, "tokens");
	if (tokens && !json_is_null(tokens)) {
		if (!json_is_object(tokens))
			return false;
		json_object_foreach((json_t *)tokens, k, entry)
		{
			if (!dv_valid_token(entry))
				return false;
		}
	}
	return true;
}

/*
 * Load one store file into *out. Damage is never silent and never fatal
 * by itself: the original goes to <path>.bad before anything is dropped.
 */
static int dv_load(const char *path, const char *what, bool (*valid)(const char *, json_t *),
		   json_t **out, char *err, size_t errlen)
{
	char *bad = xasprintf("%s.bad", path);
	json_t *root = NULL, *rec;
	json_error_t jerr;
	struct buf b;
	const char *key;
	void *tmp;
	int dropped = 0, r = -1;

	buf_init(&b, DEVICES_MAX_FILE_BYTES);
	if (fs_read_file(path, &b) < 0) {
		if (errno == ENOENT) {
			*out = json_object();
			r = 0;
		} else if (errno == E2BIG) {
			dv_err(err, errlen, "cannot read %s: larger than %d bytes", path,
			       DEVICES_MAX_FILE_BYTES);
		} else {
			dv_err(err, errlen, "cannot read %s: %s", path, strerror(errno));
		}
		goto out;
	}
	root = json_loadb(b.p, b.len, 0, &jerr);
	if (!json_is_object(root)) {
		if (fs_write_atomic(bad, b.p, b.len, 0600) < 0) {
			dv_err(err, errlen, "%s is corrupt and cannot be saved to %s: %s", path,
			       bad, strerror(errno));
			goto out;
		}
		if (root)
			log_warn("devices",
				 "%s is not a JSON object; saved it as %s, starting with no %s",
				 path, bad, what);
		else
			log_warn("devices",
				 "%s is corrupt (%s at line %d); saved it as %s, starting with no "
				 "%s",
				 path, jerr.text, jerr.line, bad, what);
		json_decref(root);
		*out = json_object();
		r = 0;
		goto out;
	}
	json_object_foreach_safe(root, tmp, key, rec)
	{
		if (!valid(key, rec)) {
			json_object_del(root, key);
			dropped++;
		}
	}
	if (dropped) {
		if (fs_write_atomic(bad, b.p, b.len, 0600) < 0) {
			dv_err(err, errlen, "%s has invalid records and cannot be saved to %s: %s",
			       path, bad, strerror(errno));
			json_decref(root);
			goto out;
		}
		log_warn("devices",
			 "%s: left out %d invalid record(s); the original is saved as %s", path,
			 dropped, bad);
	}
	*out = root;
	r = 0;
out:
	buf_release(&b);
	free(bad);
	return r;
}

struct devices *devices_open(const char *state_dir, char *err, size_t errlen)
{
	struct devices *d = xcalloc(1, sizeof(*d));
	char *dir = fs_join(state_dir, "devices");

	if (fs_ensure_dir(dir, 0700) < 0) {
		dv_err(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		goto fail;
	}
	d->pending_path = fs_join(dir, "pending.json");
	d->paired_path = fs_join(dir, "paired.json");
	if (dv_load(d->paired_path, "paired devices", dv_valid_paired, &d->paired, err, errlen) <
		    0 ||
	    dv_load(d->pending_path, "pending requests", dv_valid_pending, &d->pending, err,
		    errlen) < 0)
		goto fail;
	free(dir);
	return d;
fail:
	free(dir);
	devices_free(d);
	return NULL;
}

void devices_free(struct devices *d)
{
	if (!d)
		return;
	json_decref(d->pending);
	json_decref(d->paired);
	free(d->pending_path);
	free(d->paired_path);
	free(d);
}

/* ==== transactions ==== */

/* A mutation's working copy; committed only once it is on disk. */
struct dv_txn {
	json_t *pending;
	json_t *paired;
	bool pending_dirty;
	bool paired_dirty;
};

static bool dv_expired(const json_t *req, int64_t now_ms)
{
	int64_t at = dv_int(req, "refreshedAtMs", dv_int(req, "ts", 0));

	return now_ms - at > DEVICES_PENDING_TTL_MS;
}

static void dv_begin(const struct devices *d, struct dv_txn *t, int64_t now_ms)
{
	const char *key;
	json_t *req;
	void *tmp;

	t->pending = dv_copy(d->pending);
	t->paired = dv_copy(d->paired);
	t->pending_dirty = t->paired_dirty = false;
	json_object_foreach_safe(t->pending, tmp, key, req)
	{
		if (dv_expired(req, now_ms)) {
			json_object_del(t->pending, key);
			t->pending_dirty = true;
		}
	}
}

static void dv_abort(struct dv_txn *t)
{
	json_decref(t->pending);
	json_decref(t->paired);
	t->pending = t->paired = NULL;
}

/*
 * Write what changed, paired first, adopting each file's new state as
 * soon as it is on disk, so memory never claims what the disk does not.
 */
static int dv_commit(struct devices *d, struct dv_txn *t, char *err, size_t errlen)
{
	if (t->paired_dirty) {
		if (dv_write(d->paired_path, t->paired, err, errlen) < 0)
			goto fail;
		json_decref(d->paired);
		d->paired = t->paired;
		t->paired = NULL;
	}
	if (t->pending_dirty) {
		if (dv_write(d->pending_path, t->pending, err, errlen) < 0)
			goto fail;
		json_decref(d->pending);
		d->pending = t->pending;
		t->pending = NULL;
	}
	dv_abort(t);
	return DEVICES_OK;
fail:
	dv_abort(t);
	return DEVICES_EIO;
}

/* ==== reading ==== */

static json_t *dv_paired_get(const json_t *paired, const char *device_id)
{
	char *id = dv_trim_dup(device_id);
	json_t *rec = id ? json_object_get(paired, id) : NULL;

	free(id);
	return rec;
}

int devices_get_paired(const struct devices *d, const char *device_id, struct devices_paired *out)
{
	const json_t *rec = dv_paired_get(d->paired, device_id);
	const json_t *v;

	if (!rec)
		return -1;
	memset(out, 0, sizeof(*out));
	out->record = rec;
	out->device_id = dv_str(rec, "deviceId");
	out->public_key = dv_str(rec, "publicKey");
	out->display_name = dv_str(rec, "displayName");
	out->operator_label = dv_str(rec, "operatorLabel");
	out->platform = dv_str(rec, "platform");
	out->device_family = dv_str(rec, "deviceFamily");
	out->client_id = dv_str(rec, "clientId");
	out->client_mode = dv_str(rec, "clientMode");
	out->role = dv_str(rec, "role");
	out->remote_ip = dv_str(rec, "remoteIp");
	out->approved_via = dv_str(rec, "approvedVia");
	v = json_object_get(rec, "roles");
	out->roles = json_is_array(v) ? v : NULL;
	out->scopes = dv_baseline(rec);
	v = json_object_get(rec, "tokens");
	out->tokens = json_is_object(v) ? v : NULL;
	out->created_at_ms = dv_int(rec, "createdAtMs", 0);
	out->approved_at_ms = dv_int(rec, "approvedAtMs", 0);
	return 0;
}

const json_t *devices_get_pending(const struct devices *d, const char *request_id, int64_t now_ms)
{
	const json_t *req = request_id ? json_object_get(d->pending, request_id) : NULL;

	return req && !dv_expired(req, now_ms) ? req : NULL;
}

enum devices_access devices_check_access(const struct devices *d, const char *device_id,
					 const char *public_key, const char *role,
					 const json_t *scopes)
{
	const json_t *device = dv_paired_get(d->paired, device_id);
	enum devices_access a = DEVICES_ACCESS_OK;
	json_t *roles, *granted;

	if (!device || !public_key || !str_eq(dv_str(device, "publicKey"), public_key))
		return DEVICES_ACCESS_NOT_PAIRED;
	roles = dv_effective_roles(device);
	granted = dv_access_scopes(device);
	if (!role || !dv_list_has(roles, role))
		a = DEVICES_ACCESS_ROLE_UPGRADE;
	else if (json_array_size(scopes) > 0 && !(json_array_size(granted) > 0 &&
						  devices_role_scopes_allow(role, scopes, granted)))
		a = DEVICES_ACCESS_SCOPE_UPGRADE;
	json_decref(roles);
	json_decref(granted);
	return a;
}

const char *devices_access_reason(enum devices_access a)
{
	switch (a) {
	case DEVICES_ACCESS_NOT_PAIRED:
		return "not-paired";
	case DEVICES_ACCESS_ROLE_UPGRADE:
		return "role-upgrade";
	case DEVICES_ACCESS_SCOPE_UPGRADE:
		return "scope-upgrade";
	default:
		return NULL;
	}
}

/* ==== pairing ==== */

/* The request as others see it: without the internal refreshedAtMs. */
static json_t *dv_public_request(const json_t *req)
{
	json_t *out = dv_copy(req);

	json_object_del(out, "refreshedAtMs");
	return out;
}

static bool dv_truthy(const json_t *rec, const char *key)
{
	return json_is_true(json_object_get(rec, key));
}

/* The incoming request's roles: its role, trimmed, or none. */
static json_t *dv_incoming_roles(const struct devices_request *req)
{
	json_t *role = dv_jstr(req->role), *roles;

	roles = dv_merge_roles((const json_t *[]){ role }, 1);
	json_decref(role);
	return roles ? roles : json_array();
}

/* Same key, same origin and same primary role: the common part of both tests below. */
static bool dv_same_identity(const json_t *existing, const struct devices_request *req)
{
	char *a = dv_trim_dup(dv_str(existing, "role")), *b = dv_trim_dup(req->role);
	bool same = str_eq(dv_str(existing, "publicKey"), req->public_key) &&
		    !dv_str(existing, "browserOrigin") && str_eq(a, b);

	free(a);
	free(b);
	return same;
}

/* samePendingApprovalSnapshot || incomingApprovalCoveredByExisting */
static bool dv_can_refresh(const json_t *existing, const struct devices_request *req)
{
	json_t *eroles, *iroles, *escopes, *iscopes;
	bool ok;
	size_t i, j;
	const json_t *s, *r;

	if (!dv_same_identity(existing, req))
		return false;
	eroles = dv_record_roles(existing);
	iroles = dv_incoming_roles(req);
	escopes = devices_normalize_scopes(json_object_get(existing, "scopes"));
	iscopes = devices_normalize_scopes(req->scopes);
	ok = dv_same_set(eroles, iroles) && dv_same_set(escopes, iscopes);
	if (!ok && dv_subset(iroles, eroles)) {
		/* Covered: every incoming scope is granted, for some incoming role, by the pending ones. */
		ok = true;
		json_array_foreach(iscopes, i, s)
		{
			json_t *one = json_pack("[O]", s);
			bool any = false;

			json_array_foreach(iroles, j, r)
			{
				if (devices_role_scopes_allow(json_string_value(r), one, escopes))
					any = true;
			}
			json_decref(one);
			if (!any) {
				ok = false;
				break;
			}
		}
	}
	json_decref(eroles);
	json_decref(iroles);
	json_decref(escopes);
	json_decref(iscopes);
	return ok;
}

/* refreshPendingDevicePairingRequest: same request id and ts, fresher metadata. */
static json_t *dv_refresh_request(const json_t *existing, const struct devices_request *req,
				  bool is_repair, int64_t now_ms)
{
	json_t *r = dv_copy(existing);

	json_object_set_new(r, "publicKey", json_string(req->public_key));
	if (req->display_name)
		json_object_set_new(r, "displayName", json_string(req->display_name));
	if (req->platform)
		json_object_set_new(r, "platform", json_string(req->platform));
	if (req->device_family)
		json_object_set_new(r, "deviceFamily", json_string(req->device_family));
	if (req->client_id)
		json_object_set_new(r, "clientId", json_string(req->client_id));
	if (req->client_mode)
		json_object_set_new(r, "clientMode", json_string(req->client_mode));
	if (req->remote_ip)
		json_object_set_new(r, "remoteIp", json_string(req->remote_ip));
	json_object_set_new(r, "silent",
			    json_boolean(dv_truthy(existing, "silent") && req->silent));
	json_object_set_new(r, "isRepair",
			    json_boolean(dv_truthy(existing, "isRepair") || is_repair));
	json_object_set_new(r, "refreshedAtMs", json_integer(now_ms));
	return r;
}

static int dv_cmp_ts_desc(const void *a, const void *b)
{
	int64_t x = dv_int(*(json_t *const *)a, "ts", 0), y = dv_int(*(json_t *const *)b, "ts", 0);

	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * A new request that replaces `existing` (newest first, may be empty),
 * carrying the union of what they and the incoming one ask for.
 */
static json_t *dv_new_request(const json_t *const *existing, size_t n,
			      const struct devices_request *req, const char *device_id,
			      bool is_repair, int64_t now_ms)
{
	const json_t **items = xcalloc(2 * n + 1, sizeof(*items));
	json_t *r = json_object(), *role_json, *roles, *scopes;
	char request_id[DEVICES_REQUEST_ID_SIZE];
	char *role = dv_trim_dup(req->role);
	bool silent = req->silent;

	if (!role && n)
		role = dv_trim_dup(dv_str(existing[0], "role"));
	role_json = dv_jstr(role);
	for (size_t i = 0; i < n; i++) {
		items[2 * i] = json_object_get(existing[i], "roles");
		items[2 * i + 1] = json_object_get(existing[i], "role");
		silent = silent && dv_truthy(existing[i], "silent");
	}
	items[2 * n] = role_json;
	roles = dv_merge_roles(items, 2 * n + 1);
	for (size_t i = 0; i < n; i++)
		items[i] = json_object_get(existing[i], "scopes");
	items[n] = req->scopes;
	scopes = dv_merge_scopes(items, n + 1);

	id_uuid(request_id);
	json_object_set_new(r, "requestId", json_string(request_id));
	json_object_set_new(r, "deviceId", json_string(device_id));
	json_object_set_new(r, "publicKey", json_string(req->public_key));
	dv_set(r, "displayName", dv_jstr(req->display_name));
	dv_set(r, "platform", dv_jstr(req->platform));
	dv_set(r, "deviceFamily", dv_jstr(req->device_family));
	dv_set(r, "clientId", dv_jstr(req->client_id));
	dv_set(r, "clientMode", dv_jstr(req->client_mode));
	dv_set(r, "role", role_json);
	dv_set(r, "roles", roles);
	dv_set(r, "scopes", scopes);
	dv_set(r, "remoteIp", dv_jstr(req->remote_ip));
	json_object_set_new(r, "silent", json_boolean(silent));
	json_object_set_new(r, "isRepair", json_boolean(is_repair));
	json_object_set_new(r, "ts", json_integer(now_ms));
	free(role);
	free(items);
	return r;
}

/* Apply a request inside a transaction; the answer as devices_request documents it. */
static int dv_request(struct dv_txn *t, const struct devices_request *req, int64_t now_ms,
		      json_t **result, char *err, size_t errlen)
{
	char *device_id = dv_trim_dup(req->device_id);
	json_t **mine = NULL, *rec, *res, *superseded = NULL;
	const char *key;
	size_t n = 0, alloc = 0;
	bool is_repair, created;

	if (!device_id || !req->public_key || !*req->public_key) {
		dv_err(err, errlen, device_id ? "publicKey required" : "deviceId required");
		free(device_id);
		return DEVICES_DENIED;
	}
	is_repair = json_object_get(t->paired, device_id) != NULL;
	json_object_foreach(t->pending, key, rec)
	{
		if (str_eq(dv_str(rec, "deviceId"), device_id)) {
			mine = xgrow(mine, &alloc, n + 1, sizeof(*mine));
			mine[n++] = rec;
		}
	}
	if (n > 1)
		qsort(mine, n, sizeof(*mine), dv_cmp_ts_desc);

	if (n == 1 && dv_can_refresh(mine[0], req)) {
		rec = dv_refresh_request(mine[0], req, is_repair, now_ms);
		created = false;
	} else {
		rec = dv_new_request((const json_t *const *)mine, n, req, device_id, is_repair,
				     now_ms);
		created = true;
		if (n)
			superseded = json_array();
		for (size_t i = 0; i < n; i++) {
			char *id = xstrdup(dv_str(mine[i], "requestId"));

			json_array_append_new(superseded,
					      json_pack("{s:s, s:s?}", "requestId", id, "deviceId",
							dv_str(mine[i], "deviceId")));
			json_object_del(t->pending, id);
			free(id);
		}
	}
	json_object_set_new(t->pending, dv_str(rec, "requestId"), rec);
	t->pending_dirty = true;

	res = json_pack("{s:s, s:o, s:b, s:I}", "status", "pending", "request",
			dv_public_request(rec), "created", created, "expiresAtMs",
			(json_int_t)(dv_int(rec, "refreshedAtMs", dv_int(rec, "ts", now_ms)) +
				     DEVICES_PENDING_TTL_MS));
	if (superseded)
		json_object_set_new(res, "superseded", superseded);
	*result = res;
	free(mine);
	free(device_id);
	return DEVICES_OK;
}

/*
 * End a transaction whose step returned `r` and produced `value` (owned):
 * on success commit it and hand `value` out (or drop it when `out` is
 * NULL), else abort. Returns the result.
 */
static int dv_finish(struct devices *d, struct dv_txn *t, int r, json_t *value, json_t **out,
		     char *err, size_t errlen)
{
	if (r == DEVICES_OK)
		r = dv_commit(d, t, err, errlen);
	else
		dv_abort(t);
	if (r == DEVICES_OK && out)
		*out = value;
	else
		json_decref(value);
	return r;
}

int devices_request(struct devices *d, const struct devices_request *req, int64_t now_ms,
		    json_t **result, char *err, size_t errlen)
{
	struct dv_txn t;
	json_t *res = NULL;
	int r;

	dv_begin(d, &t, now_ms);
	r = dv_request(&t, req, now_ms, &res, err, errlen);
	return dv_finish(d, &t, r, res, result, err, errlen);
}

/* A fresh token for `role`, keeping what OpenClaw keeps of the one it replaces. */
static json_t *dv_new_token(const char *role, json_t *scopes, const json_t *existing,
			    bool keep_issuer, int64_t now_ms, bool rotated)
{
	char token[B64URL_ENCODED_LEN(DEVICES_TOKEN_BYTES) + 1];
	json_t *e = json_object();

	crypto_random_b64url(token, DEVICES_TOKEN_BYTES);
	json_object_set_new(e, "token", json_string(token));
	json_object_set_new(e, "role", json_string(role));
	json_object_set_new(e, "scopes", scopes);
	if (keep_issuer && existing)
		dv_set(e, "issuer", dv_member_copy(existing, "issuer"));
	json_object_set_new(
		e, "createdAtMs",
		json_integer(existing ? dv_int(existing, "createdAtMs", now_ms) : now_ms));
	if (rotated)
		json_object_set_new(e, "rotatedAtMs", json_integer(now_ms));
	if (existing)
		dv_set(e, "lastUsedAtMs", dv_member_copy(existing, "lastUsedAtMs"));
	explicit_bzero(token, sizeof(token));
	return e;
}

/* resolveApprovedTokenScopes: what the new token for `role` may do. */
static json_t *dv_approved_token_scopes(const char *role, const json_t *pending,
					const json_t *existing_token, const json_t *approved,
					const json_t *existing)
{
	json_t *pend = dv_role_token_scopes(role, json_object_get(pending, "scopes")), *out;
	const json_t *fallback;

	if (json_array_size(pend) > 0) {
		json_t *base = dv_role_token_scopes(role, existing ? dv_baseline(existing) : NULL);
		json_t *delta = json_array(), *merged;
		size_t i;
		const json_t *v;

		json_array_foreach(pend, i, v)
		{
			if (!(existing_token && json_array_size(base) > 0) ||
			    !dv_list_has(base, json_string_value(v)))
				json_array_append(delta, (json_t *)v);
		}
		if (json_array_size(delta) == 0 && existing_token) {
			out = dv_role_token_scopes(role, json_object_get(existing_token, "scopes"));
		} else {
			merged = dv_merge_scopes(
				(const json_t *[]){ json_object_get(existing_token, "scopes"),
						    delta },
				2);
			out = dv_role_token_scopes(role, merged);
			json_decref(merged);
		}
		json_decref(base);
		json_decref(delta);
		json_decref(pend);
		return out;
	}
	json_decref(pend);
	fallback = existing_token ? json_object_get(existing_token, "scopes") : NULL;
	if (!fallback)
		fallback = approved;
	if (!fallback && existing)
		fallback = dv_baseline(existing);
	return dv_role_token_scopes(role, fallback);
}

/* mergeApprovalKind: owner and bootstrap approvals are sticky. */
static const char *dv_approval_kind(const json_t *existing, const char *incoming)
{
	const char *was;

	if (!strcmp(incoming, "owner") || !existing)
		return incoming;
	was = dv_str(existing, "approvedVia");
	if (!was)
		return !strcmp(incoming, "bootstrap") ? "bootstrap" : NULL;
	if (!strcmp(was, "owner") || !strcmp(was, "bootstrap"))
		return was;
	return incoming;
}

/* buildApprovedPairedDevice */
static json_t *dv_paired_record(const json_t *pending, const json_t *existing, json_t *roles,
				const json_t *approved, json_t *tokens, int64_t now_ms,
				const char *approved_via, const struct devices_approve_opts *o)
{
	json_t *dev = json_object();
	const char *via = dv_approval_kind(existing, approved_via);

	json_object_set_new(dev, "deviceId", json_string(dv_str(pending, "deviceId")));
	json_object_set_new(dev, "publicKey", json_string(dv_str(pending, "publicKey")));
	dv_set(dev, "displayName",
	       o->display_name ? json_string(o->display_name)
			       : dv_member_copy(pending, "displayName"));
	dv_set(dev, "platform", dv_member_copy(pending, "platform"));
	dv_set(dev, "deviceFamily", dv_member_copy(pending, "deviceFamily"));
	dv_set(dev, "clientId", dv_member_copy(pending, "clientId"));
	dv_set(dev, "clientMode", dv_member_copy(pending, "clientMode"));
	dv_set(dev, "browserOrigin", dv_member_copy(pending, "browserOrigin"));
	dv_set(dev, "role", dv_member_copy(pending, "role"));
	dv_set(dev, "roles", roles);
	dv_set(dev, "scopes", approved ? dv_copy(approved) : NULL);
	dv_set(dev, "approvedScopes", approved ? dv_copy(approved) : NULL);
	dv_set(dev, "remoteIp",
	       o->remote_ip ? json_string(o->remote_ip) : dv_member_copy(pending, "remoteIp"));
	json_object_set_new(dev, "tokens", tokens);
	dv_set(dev, "approvedVia", dv_jstr(via));
	if (existing) {
		dv_set(dev, "nodeSurface", dv_member_copy(existing, "nodeSurface"));
		dv_set(dev, "pendingNodeSurface", dv_member_copy(existing, "pendingNodeSurface"));
		dv_set(dev, "operatorLabel", dv_member_copy(existing, "operatorLabel"));
	}
	json_object_set_new(
		dev, "createdAtMs",
		json_integer(existing ? dv_int(existing, "createdAtMs", now_ms) : now_ms));
	json_object_set_new(dev, "approvedAtMs", json_integer(now_ms));
	dv_set(dev, "lastSeenAtMs",
	       o->last_seen_at_ms ? json_integer(o->last_seen_at_ms)
				  : (existing ? dv_member_copy(existing, "lastSeenAtMs") : NULL));
	dv_set(dev, "lastSeenReason",
	       o->last_seen_reason
		       ? json_string(o->last_seen_reason)
		       : (existing ? dv_member_copy(existing, "lastSeenReason") : NULL));
	return dev;
}

/* approveDevicePairingInWorker, inside a transaction. */
static int dv_approve(struct dv_txn *t, const char *request_id,
		      const struct devices_approve_opts *o, int64_t now_ms, json_t **device,
		      char *err, size_t errlen)
{
	const json_t *pending = request_id ? json_object_get(t->pending, request_id) : NULL;
	const json_t *existing, *etokens;
	json_t *roles_req = NULL, *scopes_req = NULL, *roles = NULL, *approved = NULL;
	json_t *tokens = NULL, *next = NULL, *dev;
	const char *device_id, *bad, *key;
	json_t *entry;
	size_t i;
	const json_t *role;
	int r = DEVICES_DENIED;

	if (!pending) {
		dv_err(err, errlen, "unknown requestId");
		return DEVICES_NOT_FOUND;
	}
	device_id = dv_str(pending, "deviceId");
	existing = json_object_get(t->paired, device_id);
	roles_req = dv_record_roles(pending);
	scopes_req = devices_normalize_scopes(json_object_get(pending, "scopes"));
	bad = dv_scope_outside_roles(roles_req, scopes_req);
	if (bad) {
		dv_err(err, errlen, "invalid scope for requested roles: %s", bad);
		goto out;
	}
	roles = dv_merge_roles((const json_t *[]){ json_object_get(existing, "roles"),
						   json_object_get(existing, "role"),
						   json_object_get(pending, "roles"),
						   json_object_get(pending, "role") },
			       4);
	approved = dv_merge_scopes((const json_t *[]){ existing ? dv_baseline(existing) : NULL,
						       json_object_get(pending, "scopes") },
				   2);
	etokens = json_object_get(existing, "tokens");
	tokens = json_is_object(etokens) ? dv_copy(etokens) : json_object();

	/* Work out every role's scopes, and check the caller, before issuing anything. */
	next = json_object();
	json_array_foreach(roles_req, i, role)
	{
		const char *rn = json_string_value(role);
		json_t *scopes = dv_approved_token_scopes(rn, pending, json_object_get(tokens, rn),
							  approved, existing);

		json_object_set_new(next, rn, scopes);
		if (!strcmp(rn, DV_OPERATOR) && json_array_size(scopes) > 0) {
			json_t *own = dv_role_token_scopes(rn, json_object_get(pending, "scopes"));
			json_t *need = dv_merge_scopes((const json_t *[]){ own, scopes }, 2);
			const char *missing = NULL;
			bool denied = false;

			/* OpenClaw: caller-scopes-required, then caller-missing-scope. */
			if (!o->caller_scopes) {
				dv_err(err, errlen, "missing scope: %s",
				       json_string_value(json_array_get(need, 0)));
				denied = true;
			} else if ((missing = dv_missing_scope(rn, need, o->caller_scopes))) {
				dv_err(err, errlen, "missing scope: %s", missing);
				denied = true;
			}
			json_decref(own);
			json_decref(need);
			if (denied)
				goto out;
		}
	}
	json_object_foreach(next, key, entry)
	{
		const json_t *old = json_object_get(tokens, key);

		json_object_set_new(
			tokens, key,
			dv_new_token(key, json_incref(entry), old, true, now_ms, old != NULL));
	}

	dev = dv_paired_record(pending, existing, roles, approved, tokens, now_ms,
			       o->approved_via ? o->approved_via : "owner", o);
	roles = tokens = NULL;
	json_object_set_new(t->paired, device_id, dev);
	t->paired_dirty = true;
	if (device)
		*device = json_incref(dev);
	/* Last: device_id points into the pending record. */
	json_object_del(t->pending, request_id);
	t->pending_dirty = true;
	r = DEVICES_OK;
out:
	json_decref(roles_req);
	json_decref(scopes_req);
	json_decref(roles);
	json_decref(approved);
	json_decref(tokens);
	json_decref(next);
	return r;
}

int devices_approve(struct devices *d, const char *request_id,
		    const struct devices_approve_opts *opts, int64_t now_ms, json_t **device,
		    char *err, size_t errlen)
{
	static const struct devices_approve_opts none;
	struct dv_txn t;
	json_t *dev = NULL;
	int r;

	dv_begin(d, &t, now_ms);
	r = dv_approve(&t, request_id, opts ? opts : &none, now_ms, &dev, err, errlen);
	return dv_finish(d, &t, r, dev, device, err, errlen);
}

int devices_auto_approve(struct devices *d, const struct devices_request *req, int64_t now_ms,
			 json_t **result, char *err, size_t errlen)
{
	struct devices_request silent = *req;
	struct devices_approve_opts o = {
		.approved_via = "silent",
		.display_name = req->display_name,
		.remote_ip = req->remote_ip,
		.last_seen_at_ms = now_ms,
		.last_seen_reason = "connect",
	};
	const json_t *existing = dv_paired_get(d->paired, req->device_id);
	json_t *caller = json_array(), *asked = NULL, *dev = NULL;
	const char *request_id;
	int r;

	/* The connection approves itself: what it asks for plus what it already had. */
	dv_list_add_all(caller, req->scopes);
	if (existing) {
		json_t *had = dv_access_scopes(existing);

		dv_list_add_all(caller, had);
		json_decref(had);
	}
	o.caller_scopes = caller;
	silent.silent = true;
	r = devices_request(d, &silent, now_ms, &asked, err, errlen);
	if (r != DEVICES_OK)
		goto out;
	request_id = dv_str(json_object_get(asked, "request"), "requestId");
	r = devices_approve(d, request_id, &o, now_ms, &dev, err, errlen);
	if (r == DEVICES_DENIED) {
		if (result)
			*result = json_incref(asked);
		goto out;
	}
	if (r == DEVICES_OK && result) {
		*result = json_pack("{s:s, s:O}", "requestId", request_id, "device", dev);
		if (json_object_get(asked, "superseded"))
			json_object_set(*result, "superseded",
					json_object_get(asked, "superseded"));
	}
out:
	json_decref(caller);
	json_decref(asked);
	json_decref(dev);
	return r;
}

int devices_reject(struct devices *d, const char *request_id, int64_t now_ms, json_t **result,
		   char *err, size_t errlen)
{
	struct dv_txn t;
	const json_t *pending;
	json_t *res;
	int r;

	dv_begin(d, &t, now_ms);
	pending = request_id ? json_object_get(t.pending, request_id) : NULL;
	if (!pending) {
		dv_abort(&t);
		dv_err(err, errlen, "unknown requestId");
		return DEVICES_NOT_FOUND;
	}
	res = json_pack("{s:s, s:s?}", "requestId", request_id, "deviceId",
			dv_str(pending, "deviceId"));
	json_object_del(t.pending, request_id);
	t.pending_dirty = true;
	r = dv_commit(d, &t, err, errlen);
	if (r == DEVICES_OK && result)
		*result = res;
	else
		json_decref(res);
	return r;
}

int devices_remove(struct devices *d, const char *device_id, int64_t now_ms, char *err,
		   size_t errlen)
{
	char *id = dv_trim_dup(device_id);
	struct dv_txn t;
	const char *key;
	json_t *req;
	void *tmp;

	dv_begin(d, &t, now_ms);
	if (!id || !json_object_get(t.paired, id)) {
		dv_abort(&t);
		free(id);
		dv_err(err, errlen, "unknown deviceId");
		return DEVICES_NOT_FOUND;
	}
	json_object_del(t.paired, id);
	json_object_foreach_safe(t.pending, tmp, key, req)
	{
		if (str_eq(dv_str(req, "deviceId"), id))
			json_object_del(t.pending, key);
	}
	t.paired_dirty = t.pending_dirty = true;
	free(id);
	return dv_commit(d, &t, err, errlen);
}

int devices_update_metadata(struct devices *d, const char *device_id,
			    const struct devices_metadata *m, int64_t now_ms, char *err,
			    size_t errlen)
{
	struct dv_txn t;
	json_t *dev;

	dv_begin(d, &t, now_ms);
	dev = dv_paired_get(t.paired, device_id);
	if (!dev) {
		dv_abort(&t);
		dv_err(err, errlen, "unknown deviceId");
		return DEVICES_NOT_FOUND;
	}
	if (m->display_name)
		json_object_set_new(dev, "displayName", json_string(m->display_name));
	if (m->operator_label)
		json_object_set_new(dev, "operatorLabel", json_string(m->operator_label));
	if (m->platform)
		json_object_set_new(dev, "platform", json_string(m->platform));
	if (m->client_id)
		json_object_set_new(dev, "clientId", json_string(m->client_id));
	if (m->client_mode)
		json_object_set_new(dev, "clientMode", json_string(m->client_mode));
	if (m->remote_ip)
		json_object_set_new(dev, "remoteIp", json_string(m->remote_ip));
	if (m->last_seen_at_ms)
		json_object_set_new(dev, "lastSeenAtMs", json_integer(m->last_seen_at_ms));
	if (m->last_seen_reason)
		json_object_set_new(dev, "lastSeenReason", json_string(m->last_seen_reason));
	t.paired_dirty = true;
	return dv_commit(d, &t, err, errlen);
}

/* ==== device tokens ==== */

const char *devices_token_check_reason(enum devices_token_check c)
{
	static const char *const reasons[] = {
		[DEVICES_TOKEN_OK] = "ok",
		[DEVICES_TOKEN_DEVICE_NOT_PAIRED] = "device-not-paired",
		[DEVICES_TOKEN_ROLE_MISSING] = "role-missing",
		[DEVICES_TOKEN_MISSING] = "token-missing",
		[DEVICES_TOKEN_REVOKED] = "token-revoked",
		[DEVICES_TOKEN_MISMATCH] = "token-mismatch",
		[DEVICES_TOKEN_ISSUER_STALE] = "issuer-generation-stale",
		[DEVICES_TOKEN_SCOPE_MISMATCH] = "scope-mismatch",
		[DEVICES_TOKEN_EIO] = "store-write-failed",
	};

	return (size_t)c < ARRAY_SIZE(reasons) && reasons[c] ? reasons[c] : "unknown";
}

/* verifyPairingToken: both non-blank, then compared in constant time. */
static bool dv_token_equal(const char *given, const char *want)
{
	const char *p;
	size_t n;

	device_auth_js_trim(given, &p, &n);
	if (!n)
		return false;
	device_auth_js_trim(want, &p, &n);
	if (!n)
		return false;
	return str_ct_equal(given, strlen(given), want, strlen(want));
}

/* scopesWithinApprovedDeviceBaseline */
static bool dv_within_baseline(const char *role, const json_t *scopes, const json_t *device)
{
	const json_t *base = dv_baseline(device);
	json_t *norm;
	bool ok;

	if (!base)
		return false;
	norm = devices_normalize_scopes(base);
	ok = devices_role_scopes_allow(role, scopes, norm);
	json_decref(norm);
	return ok;
}

enum devices_token_check devices_token_verify(struct devices *d, const char *device_id,
					      const char *role, const char *token,
					      const json_t *scopes, int64_t now_ms,
					      json_t **scopes_out, char *err, size_t errlen)
{
	enum devices_token_check c = DEVICES_TOKEN_OK;
	char *rn = dv_trim_dup(role);
	const json_t *issuer;
	json_t *dev, *entry, *wanted = NULL;
	struct dv_txn t;

	dv_begin(d, &t, now_ms);
	dev = dv_paired_get(t.paired, device_id);
	entry = rn ? json_object_get(json_object_get(dev, "tokens"), rn) : NULL;
	issuer = json_object_get(entry, "issuer");
	if (!dev)
		c = DEVICES_TOKEN_DEVICE_NOT_PAIRED;
	else if (!rn)
		c = DEVICES_TOKEN_ROLE_MISSING;
	else if (!json_is_object(entry))
		c = DEVICES_TOKEN_MISSING;
	else if (dv_int(entry, "revokedAtMs", 0) != 0)
		c = DEVICES_TOKEN_REVOKED;
	else if (!token || !dv_str(entry, "token") ||
		 !dv_token_equal(token, dv_str(entry, "token")))
		c = DEVICES_TOKEN_MISMATCH;
	/*
	 * OpenClaw binds some tokens to its shared-auth generation and checks
	 * it against the current one; pincer has none, which OpenClaw treats
	 * as a mismatch for every token that names a generation.
	 */
	else if (str_eq(dv_str(issuer, "kind"), "shared-gateway-auth") &&
		 json_object_get(issuer, "generation"))
		c = DEVICES_TOKEN_ISSUER_STALE;
	else if (!dv_within_baseline(rn, json_object_get(entry, "scopes"), dev))
		c = DEVICES_TOKEN_SCOPE_MISMATCH;
	else {
		wanted = devices_normalize_scopes(scopes);
		if (!devices_role_scopes_allow(rn, wanted, json_object_get(entry, "scopes")))
			c = DEVICES_TOKEN_SCOPE_MISMATCH;
	}
	if (c != DEVICES_TOKEN_OK) {
		dv_abort(&t);
		goto out;
	}
	json_object_set_new(entry, "lastUsedAtMs", json_integer(now_ms));
	json_object_set_new(dev, "lastSeenAtMs", json_integer(now_ms));
	json_object_set_new(dev, "lastSeenReason", json_string("device-token-auth"));
	t.paired_dirty = true;
	if (scopes_out)
		*scopes_out = dv_member_copy(entry, "scopes");
	if (dv_commit(d, &t, err, errlen) != DEVICES_OK) {
		c = DEVICES_TOKEN_EIO;
		if (scopes_out) {
			json_decref(*scopes_out);
			*scopes_out = NULL;
		}
	}
out:
	json_decref(wanted);
	free(rn);
	return c;
}

/*
 * resolveDeviceTokenUpdateContext: the device and the role, when the role
 * is one the device was approved for. NULL otherwise.
 */
static json_t *dv_token_context(struct dv_txn *t, const char *device_id, const char *role,
				char **rn_out)
{
	json_t *dev = dv_paired_get(t->paired, device_id), *roles;
	char *rn = dv_trim_dup(role);
	bool ok;

	if (!dev || !rn) {
		free(rn);
		return NULL;
	}
	roles = dv_record_roles(dev);
	ok = dv_list_has(roles, rn);
	json_decref(roles);
	if (!ok) {
		free(rn);
		return NULL;
	}
	*rn_out = rn;
	return dev;
}

/* The device's token map, created when missing. */
static json_t *dv_tokens_of(json_t *dev)
{
	json_t *tokens = json_object_get(dev, "tokens");

	if (!json_is_object(tokens)) {
		tokens = json_object();
		json_object_set_new(dev, "tokens", tokens);
	}
	return tokens;
}

/* Commit `t`, handing the caller a copy of `value` (NULL unless it was persisted). */
static int dv_commit_entry(struct devices *d, struct dv_txn *t, const json_t *value, json_t **entry,
			   char *err, size_t errlen)
{
	int r;

	if (entry)
		*entry = dv_copy(value);
	r = dv_commit(d, t, err, errlen);
	if (r != DEVICES_OK && entry) {
		json_decref(*entry);
		*entry = NULL;
	}
	return r;
}

int devices_token_ensure(struct devices *d, const char *device_id, const char *role,
			 const json_t *scopes, int64_t now_ms, json_t **entry, char *err,
			 size_t errlen)
{
	json_t *dev, *want, *tokens, *old, *next;
	char *rn = NULL;
	struct dv_txn t;
	int r;

	dv_begin(d, &t, now_ms);
	dev = dv_token_context(&t, device_id, role, &rn);
	if (!dev) {
		dv_abort(&t);
		dv_err(err, errlen, "unknown-device-or-role");
		return DEVICES_NOT_FOUND;
	}
	want = devices_normalize_scopes(scopes);
	if (!dv_within_baseline(rn, want, dev)) {
		dv_abort(&t);
		json_decref(want);
		free(rn);
		dv_err(err, errlen, "scope-outside-approved-baseline");
		return DEVICES_DENIED;
	}
	tokens = dv_tokens_of(dev);
	old = json_object_get(tokens, rn);
	/* Reuse the live token when it already covers the request (and no issuer binds it). */
	if (json_is_object(old) && dv_int(old, "revokedAtMs", 0) == 0 &&
	    !json_object_get(old, "issuer") &&
	    dv_within_baseline(rn, json_object_get(old, "scopes"), dev) &&
	    devices_role_scopes_allow(rn, want, json_object_get(old, "scopes"))) {
		if (entry)
			*entry = dv_copy(old);
		dv_abort(&t);
		json_decref(want);
		free(rn);
		return DEVICES_OK;
	}
	if (!json_is_object(old))
		old = NULL;
	next = dv_new_token(rn, want, old, false, now_ms, old != NULL);
	json_object_set_new(tokens, rn, next);
	t.paired_dirty = true;
	r = dv_commit_entry(d, &t, next, entry, err, errlen);
	free(rn);
	return r;
}

int devices_token_rotate(struct devices *d, const char *device_id, const char *role,
			 const json_t *scopes, const json_t *caller_scopes, int64_t now_ms,
			 json_t **entry, char *err, size_t errlen)
{
	json_t *dev, *want = NULL, *tokens, *old, *next;
	const json_t *from;
	const char *missing;
	char *rn = NULL;
	struct dv_txn t;
	int r = DEVICES_DENIED;

	dv_begin(d, &t, now_ms);
	dev = dv_token_context(&t, device_id, role, &rn);
	if (!dev) {
		dv_abort(&t);
		dv_err(err, errlen, "unknown-device-or-role");
		return DEVICES_NOT_FOUND;
	}
	tokens = dv_tokens_of(dev);
	old = json_object_get(tokens, rn);
	if (!json_is_object(old))
		old = NULL;
	from = scopes;
	if (!from && old)
		from = json_object_get(old, "scopes");
	if (!from)
		from = json_object_get(dev, "scopes");
	want = devices_normalize_scopes(from);
	if (!dv_baseline(dev)) {
		dv_err(err, errlen, "missing-approved-scope-baseline");
		goto fail;
	}
	if (!dv_within_baseline(rn, want, dev)) {
		dv_err(err, errlen, "scope-outside-approved-baseline");
		goto fail;
	}
	if (caller_scopes && (missing = dv_missing_scope(rn, want, caller_scopes))) {
		dv_err(err, errlen, "caller-missing-scope scope=%s", missing);
		goto fail;
	}
	next = dv_new_token(rn, want, old, true, now_ms, true);
	want = NULL;
	json_object_set_new(tokens, rn, next);
	t.paired_dirty = true;
	r = dv_commit_entry(d, &t, next, entry, err, errlen);
	free(rn);
	return r;
fail:
	dv_abort(&t);
	json_decref(want);
	free(rn);
	return r;
}

int devices_token_revoke(struct devices *d, const char *device_id, const char *role,
			 const json_t *caller_scopes, int64_t now_ms, json_t **entry, char *err,
			 size_t errlen)
{
	json_t *dev, *old, *target;
	const json_t *from;
	const char *missing = NULL;
	char *rn = NULL;
	struct dv_txn t;
	int r;

	dv_begin(d, &t, now_ms);
	dev = dv_token_context(&t, device_id, role, &rn);
	old = dev ? json_object_get(json_object_get(dev, "tokens"), rn) : NULL;
	if (!json_is_object(old)) {
		dv_abort(&t);
		free(rn);
		dv_err(err, errlen, "unknown-device-or-role");
		return DEVICES_NOT_FOUND;
	}
	from = json_object_get(old, "scopes");
	if (!json_is_array(from))
		from = json_object_get(dev, "scopes");
	target = devices_normalize_scopes(from);
	if (caller_scopes)
		missing = dv_missing_scope(rn, target, caller_scopes);
	if (missing) {
		dv_err(err, errlen, "caller-missing-scope scope=%s", missing);
		json_decref(target);
		dv_abort(&t);
		free(rn);
		return DEVICES_DENIED;
	}
	json_decref(target);
	json_object_set_new(old, "revokedAtMs", json_integer(now_ms));
	t.paired_dirty = true;
	r = dv_commit_entry(d, &t, old, entry, err, errlen);
	free(rn);
	return r;
}

/* ==== JSON views ==== */

static int dv_cmp_role(const void *a, const void *b)
{
	const char *x = dv_str(*(json_t *const *)a, "role"),
		   *y = dv_str(*(json_t *const *)b, "role");

	return strcmp(x ? x : "", y ? y : "");
}

/* summarizeDeviceTokens: no token strings; NULL when there are none. */
static json_t *dv_token_summary(const json_t *tokens)
{
	static const char *const fields[] = { "role",        "scopes",      "createdAtMs",
					      "rotatedAtMs", "revokedAtMs", "lastUsedAtMs" };
	size_t n = json_object_size(tokens), i = 0;
	json_t **items, *out;
	const char *key;
	json_t *entry;

	if (!json_is_object(tokens) || n == 0)
		return NULL;
	items = xmalloc(n * sizeof(*items));
	json_object_foreach((json_t *)tokens, key, entry)
	{
		json_t *s = json_object();

		for (size_t f = 0; f < ARRAY_SIZE(fields); f++)
			dv_set(s, fields[f], dv_member_copy(entry, fields[f]));
		items[i++] = s;
	}
	qsort(items, n, sizeof(*items), dv_cmp_role);
	out = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(out, items[i]);
	free(items);
	return out;
}

json_t *devices_paired_public_json(const json_t *record, int connected)
{
	json_t *out = json_object(), *v;
	const char *key;

	json_object_foreach((json_t *)record, key, v)
	{
		if (strcmp(key, "tokens") && strcmp(key, "approvedScopes"))
			json_object_set_new(out, key, dv_copy(v));
	}
	if (connected >= 0)
		json_object_set_new(out, "connected", json_boolean(connected));
	dv_set(out, "tokens", dv_token_summary(json_object_get(record, "tokens")));
	return out;
}

/* Stable sort of records by an integer field, largest first. */
static void dv_sort_desc(json_t **items, size_t n, const char *field)
{
	/* Insertion sort: lists are short, and equal keys keep their order (like toSorted). */
	for (size_t i = 1; i < n; i++) {
		json_t *x = items[i];
		int64_t k = dv_int(x, field, 0);
		size_t j = i;

		while (j > 0 && dv_int(items[j - 1], field, 0) < k) {
			items[j] = items[j - 1];
			j--;
		}
		items[j] = x;
	}
}

json_t *devices_list_json(const struct devices *d, int64_t now_ms, const char *only_device_id,
			  devices_connected_fn connected, void *ctx)
{
	size_t np = json_object_size(d->pending), nd = json_object_size(d->paired), i, n;
	json_t **items = xmalloc((np > nd ? np : nd) * sizeof(*items) + 1);
	json_t *pending = json_array(), *paired = json_array(), *rec;
	char *only = dv_trim_dup(only_device_id);
	const char *key;

	n = 0;
	json_object_foreach(d->pending, key, rec)
	{
		if (dv_expired(rec, now_ms))
			continue;
		if (only_device_id && !dv_trim_eq(dv_str(rec, "deviceId"), only ? only : ""))
			continue;
		items[n++] = rec;
	}
	dv_sort_desc(items, n, "ts");
	for (i = 0; i < n; i++)
		json_array_append_new(pending, dv_public_request(items[i]));

	n = 0;
	json_object_foreach(d->paired, key, rec)
	{
		if (only_device_id && !dv_trim_eq(dv_str(rec, "deviceId"), only ? only : ""))
			continue;
		items[n++] = rec;
	}
	dv_sort_desc(items, n, "approvedAtMs");
	for (i = 0; i < n; i++) {
		char *id = dv_trim_dup(dv_str(items[i], "deviceId"));
		int c = connected ? (id && connected(id, ctx)) : -1;

		json_array_append_new(paired, devices_paired_public_json(items[i], c));
		free(id);
	}
	free(items);
	free(only);
	return json_pack("{s:o, s:o}", "pending", pending, "paired", paired);
}

json_t *devices_resolved_event(const char *request_id, const char *device_id, const char *decision,
			       int64_t ts)
{
	return json_pack("{s:s, s:s, s:s, s:I}", "requestId", request_id, "deviceId", device_id,
			 "decision", decision, "ts", (json_int_t)ts);
}
