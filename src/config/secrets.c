/*
 * secrets.c - SecretRef checks and resolution; see secrets.h.
 *
 * The rules are OpenClaw's (docs/gateway/secrets.md and
 * src/secrets/resolve.ts): the same id grammars, the same provider keys,
 * limits and defaults, the same file and command trust checks, the same
 * exec protocol. Two things are stricter on purpose: an exec resolver's
 * free-form error text is never shown (it is resolver output, which may
 * hold credential material), and neither is a parser's "near '...'" text
 * for a secrets file.
 *
 * Every error names the ref as <source>:<provider>:<id> and never quotes a
 * value; nothing here logs.
 */
#include "config/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/jsonx.h"
#include "core/mem.h"

/* OpenClaw's defaults and schema limits (src/secrets/resolve.ts, zod schema). */
#define SECRET_DEFAULT_ALIAS       "default"
#define SECRET_SINGLE_VALUE_ID     "value"
#define SECRET_DEFAULT_TIMEOUT_MS  5000
#define SECRET_MAX_TIMEOUT_MS      120000
#define SECRET_DEFAULT_MAX_BYTES   (1024 * 1024)
#define SECRET_MAX_MAX_BYTES       (20 * 1024 * 1024)
#define SECRET_DEFAULT_BATCH_BYTES (256 * 1024)
#define SECRET_MAX_BATCH_BYTES     (5 * 1024 * 1024)
#define SECRET_MAX_ALLOWLIST       256
#define SECRET_MAX_ARGS            128
#define SECRET_MAX_ARG_LEN         1024
#define SECRET_MAX_PASS_ENV        128
#define SECRET_MAX_TRUSTED_DIRS    64
#define SECRET_PLUGIN_ID_MAX       128

#define SECRET_ALIAS_RULE "must match /^[a-z][a-z0-9_-]{0,63}$/ (example: \"default\")"

/* ------------------------------------------------------------ patterns */

static bool secret_is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool secret_is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool secret_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool secret_is_alnum(char c)
{
	return secret_is_lower(c) || secret_is_upper(c) || secret_is_digit(c);
}

/* A jansson string that is a plain C string (no embedded NUL). */
static const char *secret_cstr(const json_t *v)
{
	const char *s = json_string_value(v);

	if (!s || strlen(s) != json_string_length(v))
		return NULL;
	return s;
}

/* ^[a-z][a-z0-9_-]{0,63}$ */
static bool secret_alias_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64 || !secret_is_lower(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!secret_is_lower(s[i]) && !secret_is_digit(s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/* ^[A-Z][A-Z0-9_]{0,127}$ */
static bool secret_env_id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 128 || !secret_is_upper(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!secret_is_upper(s[i]) && !secret_is_digit(s[i]) && s[i] != '_')
			return false;
	return true;
}

/* "value", or an absolute JSON pointer whose '~' are all ~0 or ~1 escapes. */
static bool secret_file_id_valid(const char *s)
{
	if (strcmp(s, SECRET_SINGLE_VALUE_ID) == 0)
		return true;
	if (s[0] != '/')
		return false;
	for (const char *p = s; *p; p++)
		if (*p == '~' && p[1] != '0' && p[1] != '1')
			return false;
	return true;
}

/*
 * ^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,255}$ with no "." or ".." path segment.
 * '#' is in the set because current OpenClaw accepts selectors such as
 * "secret#json_key"; older releases did not, so this only widens.
 */
static bool secret_exec_id_valid(const char *s)
{
	size_t n = strlen(s);
	const char *seg;

	if (n < 1 || n > 256 || !secret_is_alnum(s[0]))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];

		if (!secret_is_alnum(c) && !strchr("._:/#-", c))
			return false;
	}
	for (seg = s;;) {
		const char *slash = strchr(seg, '/');
		size_t len = slash ? (size_t)(slash - seg) : strlen(seg);

		if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		if (!slash)
			break;
		seg = slash + 1;
	}
	return true;
}

/* ------------------------------------------------------------ checking */

bool secret_is_ref(const json_t *v)
{
	return json_is_object(v) && json_object_get(v, "source") != NULL;
}

static bool secret_source_known(const char *s)
{
	return s && (!strcmp(s, "env") || !strcmp(s, "file") || !strcmp(s, "exec"));
}

int secret_ref_check(const json_t *ref, char *err, size_t errlen)
{
	const char *key, *source, *provider, *id;
	const json_t *v;

	if (!json_is_object(ref)) {
		snprintf(err, errlen, "SecretRef must be an object {source, provider, id}");
		return -1;
	}
	json_object_foreach((json_t *)ref, key, v)
	{
		if (strcmp(key, "source") && strcmp(key, "provider") && strcmp(key, "id")) {
			snprintf(err, errlen,
				 "SecretRef has unknown key \"%s\" (allowed: source, provider, id)",
				 key);
			return -1;
		}
	}
	source = secret_cstr(json_object_get(ref, "source"));
	if (!secret_source_known(source)) {
		snprintf(err, errlen, "SecretRef source must be \"env\", \"file\" or \"exec\"");
		return -1;
	}
	v = json_object_get(ref, "provider");
	if (v) {
		provider = secret_cstr(v);
		if (!provider || !secret_alias_valid(provider)) {
			snprintf(err, errlen, "Secret reference provider " SECRET_ALIAS_RULE ".");
			return -1;
		}
	}
	id = secret_cstr(json_object_get(ref, "id"));
	if (!strcmp(source, "env") && !(id && secret_env_id_valid(id))) {
		snprintf(err, errlen,
			 "Env secret reference id must match /^[A-Z][A-Z0-9_]{0,127}$/ "
			 "(example: \"OPENAI_API_KEY\").");
		return -1;
	}
	if (!strcmp(source, "file") && !(id && secret_file_id_valid(id))) {
		snprintf(err, errlen,
			 "File secret reference id must be an absolute JSON pointer "
			 "(example: \"/providers/openai/apiKey\"), or \"value\" for singleValue "
			 "mode.");
		return -1;
	}
	if (!strcmp(source, "exec") && !(id && secret_exec_id_valid(id))) {
		snprintf(err, errlen,
			 "Exec secret reference id must match "
			 "/^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,255}$/ "
			 "and must not include \".\" or \"..\" path segments "
			 "(example: \"vault/openai/api-key\").");
		return -1;
	}
	return 0;
}

/* JSON numbers that are whole (5000 and 5000.0 alike, as in JavaScript). */
static bool secret_whole_number(const json_t *v, long long *out)
{
	double d;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	if (!json_is_real(v))
		return false;
	d = json_real_value(v);
	if (d != d || d < -9e15 || d > 9e15 || d != (double)(long long)d)
		return false;
	*out = (long long)d;
	return true;
}

static int secret_check_int(const json_t *p, const char *key, long long max, char *err,
			    size_t errlen)
{
	const json_t *v = json_object_get(p, key);
	long long n;

	if (!v)
		return 0;
	if (!secret_whole_number(v, &n) || n < 1 || n > max) {
		snprintf(err, errlen, "\"%s\" must be an integer from 1 to %lld", key, max);
		return -1;
	}
	return 0;
}

static int secret_check_bool(const json_t *p, const char *key, char *err, size_t errlen)
{
	const json_t *v = json_object_get(p, key);

	if (v && !json_is_boolean(v)) {
		snprintf(err, errlen, "\"%s\" must be true or false", key);
		return -1;
	}
	return 0;
}

static bool secret_is_absolute(const char *s)
{
	return s[0] == '/';
}

/* OpenClaw's isSafeExecutableValue, for an absolute path. */
static bool secret_command_safe(const char *s)
{
	if (!*s)
		return false;
	for (const char *p = s; *p; p++)
		if (strchr(";&|`$<>\"'\r\n", *p))
			return false;
	return true;
}

enum secret_item_kind {
	SECRET_ITEM_ANY,
	SECRET_ITEM_ENV_NAME,
	SECRET_ITEM_ABSOLUTE,
};

static int secret_check_str_array(const json_t *p, const char *key, size_t maxn, size_t maxlen,
				  enum secret_item_kind kind, char *err, size_t errlen)
{
	const json_t *arr = json_object_get(p, key), *item;
	size_t i;

	if (!arr)
		return 0;
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "\"%s\" must be an array of strings", key);
		return -1;
	}
	if (json_array_size(arr) > maxn) {
		snprintf(err, errlen, "\"%s\" may hold at most %zu entries", key, maxn);
		return -1;
	}
	json_array_foreach(arr, i, item)
	{
		const char *s = secret_cstr(item);

		if (!s) {
			snprintf(err, errlen, "\"%s\"[%zu] must be a string", key, i);
			return -1;
		}
		if (maxlen && strlen(s) > maxlen) {
			snprintf(err, errlen, "\"%s\"[%zu] is longer than %zu characters", key, i,
				 maxlen);
			return -1;
		}
		if (kind == SECRET_ITEM_ENV_NAME && !secret_env_id_valid(s)) {
			snprintf(err, errlen, "\"%s\"[%zu] must match /^[A-Z][A-Z0-9_]{0,127}$/",
				 key, i);
			return -1;
		}
		if (kind == SECRET_ITEM_ABSOLUTE && (!*s || !secret_is_absolute(s))) {
			snprintf(err, errlen, "\"%s\"[%zu] must be an absolute path", key, i);
			return -1;
		}
	}
	return 0;
}

static int secret_check_keys(const json_t *p, const char *const *allowed, const char *source,
			     char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)p, key, v)
	{
		size_t i;

		for (i = 0; allowed[i]; i++)
			if (!strcmp(key, allowed[i]))
				break;
		if (!allowed[i]) {
			snprintf(err, errlen, "unknown key \"%s\" for a %s provider", key, source);
			return -1;
		}
	}
	return 0;
}

static int secret_check_env_provider(const json_t *p, char *err, size_t errlen)
{
	static const char *const keys[] = { "source", "allowlist", NULL };

	if (secret_check_keys(p, keys, "env", err, errlen))
		return -1;
	return secret_check_str_array(p, "allowlist", SECRET_MAX_ALLOWLIST, 0, SECRET_ITEM_ENV_NAME,
				      err, errlen);
}

static int secret_check_file_provider(const json_t *p, char *err, size_t errlen)
{
	static const char *const keys[] = { "source",    "path",     "mode",
					    "timeoutMs", "maxBytes", "allowInsecurePath",
					    NULL };
	const json_t *mode = json_object_get(p, "mode");
	const char *path = secret_cstr(json_object_get(p, "path"));

	if (secret_check_keys(p, keys, "file", err, errlen))
		return -1;
	if (!path || !*path) {
		snprintf(err, errlen, "\"path\" must be a non-empty string");
		return -1;
	}
	if (mode && !(json_is_string(mode) && (!strcmp(json_string_value(mode), "json") ||
					       !strcmp(json_string_value(mode), "singleValue")))) {
		snprintf(err, errlen, "\"mode\" must be \"json\" or \"singleValue\"");
		return -1;
	}
	if (secret_check_int(p, "timeoutMs", SECRET_MAX_TIMEOUT_MS, err, errlen) ||
	    secret_check_int(p, "maxBytes", SECRET_MAX_MAX_BYTES, err, errlen) ||
	    secret_check_bool(p, "allowInsecurePath", err, errlen))
		return -1;
	return 0;
}

/* {source:"exec", pluginIntegration:{pluginId, integrationId}}: shape only. */
static int secret_check_plugin_exec(const json_t *p, char *err, size_t errlen)
{
	static const char *const keys[] = { "source", "pluginIntegration", NULL };
	static const char *const pkeys[] = { "pluginId", "integrationId", NULL };
	const json_t *pi = json_object_get(p, "pluginIntegration");

	if (secret_check_keys(p, keys, "plugin-managed exec", err, errlen))
		return -1;
	if (!json_is_object(pi) || secret_check_keys(pi, pkeys, "pluginIntegration", err, errlen)) {
		if (!json_is_object(pi))
			snprintf(err, errlen, "\"pluginIntegration\" must be an object");
		return -1;
	}
	for (size_t i = 0; pkeys[i]; i++) {
		const char *s = secret_cstr(json_object_get(pi, pkeys[i]));

		if (!s || !*s || strlen(s) > SECRET_PLUGIN_ID_MAX) {
			snprintf(err, errlen,
				 "\"pluginIntegration.%s\" must be a string of 1 to %d characters",
				 pkeys[i], SECRET_PLUGIN_ID_MAX);
			return -1;
		}
	}
	return 0;
}

static int secret_check_exec_provider(const json_t *p, char *err, size_t errlen)
{
	static const char *const keys[] = { "source",
					    "command",
					    "args",
					    "timeoutMs",
					    "noOutputTimeoutMs",
					    "maxOutputBytes",
					    "jsonOnly",
					    "env",
					    "passEnv",
					    "trustedDirs",
					    "allowInsecurePath",
					    "allowSymlinkCommand",
					    NULL };
	const json_t *env = json_object_get(p, "env"), *v;
	const char *command, *key;

	if (json_object_get(p, "pluginIntegration") && !json_object_get(p, "command"))
		return secret_check_plugin_exec(p, err, errlen);
	if (secret_check_keys(p, keys, "exec", err, errlen))
		return -1;
	command = secret_cstr(json_object_get(p, "command"));
	if (!command || !*command) {
		snprintf(err, errlen, "\"command\" must be a non-empty string");
		return -1;
	}
	if (!secret_command_safe(command)) {
		snprintf(err, errlen, "\"command\" is unsafe (shell metacharacters or quotes)");
		return -1;
	}
	if (!secret_is_absolute(command)) {
		snprintf(err, errlen, "\"command\" must be an absolute path");
		return -1;
	}
	if (env && !json_is_object(env)) {
		snprintf(err, errlen, "\"env\" must be an object of strings");
		return -1;
	}
	json_object_foreach((json_t *)env, key, v)
	{
		if (!secret_cstr(v) || !*key || strchr(key, '=')) {
			snprintf(err, errlen, "\"env\" must map variable names to strings");
			return -1;
		}
	}
	if (secret_check_str_array(p, "args", SECRET_MAX_ARGS, SECRET_MAX_ARG_LEN, SECRET_ITEM_ANY,
				   err, errlen) ||
	    secret_check_str_array(p, "passEnv", SECRET_MAX_PASS_ENV, 0, SECRET_ITEM_ENV_NAME, err,
				   errlen) ||
	    secret_check_str_array(p, "trustedDirs", SECRET_MAX_TRUSTED_DIRS, 0,
				   SECRET_ITEM_ABSOLUTE, err, errlen) ||
	    secret_check_int(p, "timeoutMs", SECRET_MAX_TIMEOUT_MS, err, errlen) ||
	    secret_check_int(p, "noOutputTimeoutMs", SECRET_MAX_TIMEOUT_MS, err, errlen) ||
	    secret_check_int(p, "maxOutputBytes", SECRET_MAX_MAX_BYTES, err, errlen) ||
	    secret_check_bool(p, "jsonOnly", err, errlen) ||
	    secret_check_bool(p, "allowInsecurePath", err, errlen) ||
	    secret_check_bool(p, "allowSymlinkCommand", err, errlen))
		return -1;
	return 0;
}

int secret_provider_check(const json_t *provider, char *err, size_t errlen)
{
	const char *source;

	if (!json_is_object(provider)) {
		snprintf(err, errlen, "a secrets provider must be an object with a \"source\"");
		return -1;
	}
	source = secret_cstr(json_object_get(provider, "source"));
	if (!secret_source_known(source)) {
		snprintf(err, errlen, "\"source\" must be \"env\", \"file\" or \"exec\"");
		return -1;
	}
	if (!strcmp(source, "env"))
		return secret_check_env_provider(provider, err, errlen);
	if (!strcmp(source, "file"))
		return secret_check_file_provider(provider, err, errlen);
	return secret_check_exec_provider(provider, err, errlen);
}

/* ----------------------------------------------------------- resolving */

struct secret_req {
	const json_t *root; /* whole config, may be NULL */
	const char *source;
	const char *provider; /* alias, after defaults */
	const char *id;
	const json_t *pcfg; /* the provider entry, NULL for the built-in env one */
	char *err;
	size_t errlen;
};

static int secret_fail(struct secret_req *r, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Fill err with "secret <source>:<provider>:<id>: <message>"; returns -1. */
static int secret_fail(struct secret_req *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->errlen, "secret %s:%s:%s: %s", r->source, r->provider, r->id, msg);
	return -1;
}

static long long secret_opt_int(const json_t *p, const char *key, long long def)
{
	long long n;

	if (p && secret_whole_number(json_object_get(p, key), &n) && n > 0)
		return n;
	return def;
}

static bool secret_opt_bool(const json_t *p, const char *key, bool def)
{
	const json_t *v = p ? json_object_get(p, key) : NULL;

	return json_is_boolean(v) ? json_is_true(v) : def;
}

static const json_t *secret_get2(const json_t *root, const char *a, const char *b)
{
	const json_t *v = json_is_object(root) ? json_object_get(root, a) : NULL;

	return json_is_object(v) ? json_object_get(v, b) : NULL;
}

/* secrets.defaults.<source>, else "default". */
static const char *secret_default_alias(const json_t *root, const char *source)
{
	const json_t *defaults = secret_get2(root, "secrets", "defaults");
	const char *s =
		json_is_object(defaults) ? secret_cstr(json_object_get(defaults, source)) : NULL;

	return s && *s ? s : SECRET_DEFAULT_ALIAS;
}

/* Deadlines use the monotonic clock: a wall-clock jump must not fire them. */
static long long secret_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A resolved value must be a non-empty string without NUL, as in OpenClaw. */
static int secret_take_value(struct secret_req *r, const json_t *v, char **out)
{
	const char *s = secret_cstr(v);

	if (!s || !*s)
		return secret_fail(r, "resolved to a non-string or empty value");
	*out = xstrdup(s);
	return 0;
}

/* -------------------------------------------------------------- env */

static int secret_resolve_env(struct secret_req *r, char **out)
{
	const json_t *allow = r->pcfg ? json_object_get(r->pcfg, "allowlist") : NULL;
	const char *v;

	if (json_is_array(allow)) {
		const json_t *item;
		size_t i;
		bool found = false;

		json_array_foreach(allow, i, item)
		{
			const char *s = secret_cstr(item);

			if (s && !strcmp(s, r->id))
				found = true;
		}
		if (!found)
			return secret_fail(r,
					   "environment variable \"%s\" is not allowlisted in "
					   "secrets.providers.%s.allowlist",
					   r->id, r->provider);
	}
	v = getenv(r->id);
	if (!v || !*v)
		return secret_fail(r, "environment variable \"%s\" is missing or empty", r->id);
	*out = xstrdup(v);
	return 0;
}

/* ------------------------------------------------------------- file */

/*
 * Read a credentials file the way OpenClaw's assertSecurePath allows:
 * a regular file, not a symlink; unless allowInsecurePath, owned by us,
 * no group/other bits and one link (a second name could be anyone's).
 * The checks are made on the opened descriptor, so the file cannot be
 * swapped between check and read.
 */
static int secret_read_private_file(struct secret_req *r, const char *path, struct buf *out)
{
	long long max_bytes = secret_opt_int(r->pcfg, "maxBytes", SECRET_DEFAULT_MAX_BYTES);
	long long timeout_ms = secret_opt_int(r->pcfg, "timeoutMs", SECRET_DEFAULT_TIMEOUT_MS);
	bool insecure = secret_opt_bool(r->pcfg, "allowInsecurePath", false);
	long long deadline = secret_now_ms() + timeout_ms;
	struct stat lst, st;
	int fd = -1, rc = -1;

	if (lstat(path, &lst) < 0) {
		secret_fail(r, "secrets.providers.%s.path is not readable: %s (%s)", r->provider,
			    path, strerror(errno));
		goto out;
	}
	if (S_ISLNK(lst.st_mode)) {
		secret_fail(r, "secrets.providers.%s.path must not be a symlink: %s", r->provider,
			    path);
		goto out;
	}
	if (!S_ISREG(lst.st_mode)) {
		secret_fail(r, "secrets.providers.%s.path must be a regular file: %s", r->provider,
			    path);
		goto out;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		secret_fail(r, "secrets.providers.%s.path is not readable: %s (%s)", r->provider,
			    path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0 || st.st_dev != lst.st_dev || st.st_ino != lst.st_ino ||
	    !S_ISREG(st.st_mode)) {
		secret_fail(r, "secrets.providers.%s.path changed while it was checked: %s",
			    r->provider, path);
		goto out;
	}
	if (!insecure) {
		if (st.st_mode & 077) {
			secret_fail(
				r,
				"secrets.providers.%s.path permissions are too open (mode %04o): "
				"%s; run chmod 600 on it, or set allowInsecurePath",
				r->provider, (unsigned)(st.st_mode & 07777), path);
			goto out;
		}
		if (st.st_uid != getuid()) {
			secret_fail(r,
				    "secrets.providers.%s.path must be owned by the current user "
				    "(uid=%u, file uid=%u): %s",
				    r->provider, (unsigned)getuid(), (unsigned)st.st_uid, path);
			goto out;
		}
		if (st.st_nlink != 1) {
			secret_fail(r, "secrets.providers.%s.path must not be hardlinked: %s",
				    r->provider, path);
			goto out;
		}
	}
	if (st.st_size > max_bytes) {
		secret_fail(r, "secrets.providers.%s.path is larger than maxBytes (%lld): %s",
			    r->provider, max_bytes, path);
		goto out;
	}
	buf_init(out, (size_t)max_bytes);
	for (;;) {
		char chunk[8192];
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			secret_fail(r, "reading %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (buf_append(out, chunk, (size_t)n) < 0) {
			secret_fail(r,
				    "secrets.providers.%s.path is larger than maxBytes (%lld): %s",
				    r->provider, max_bytes, path);
			goto out;
		}
		if (secret_now_ms() > deadline) {
			secret_fail(r, "file provider \"%s\" timed out after %lldms", r->provider,
				    timeout_ms);
			goto out;
		}
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* RFC 6901 pointer walk; messages as OpenClaw's readJsonPointer. */
static const json_t *secret_json_pointer(struct secret_req *r, const json_t *doc)
{
	const char *p = r->id;
	struct buf tok;
	const json_t *cur = doc;

	if (*p != '/') {
		secret_fail(r, "File-backed secret ids must be absolute JSON pointers "
			       "(for example: \"/providers/openai/apiKey\").");
		return NULL;
	}
	buf_init(&tok, BUF_UNLIMITED);
	while (*p == '/') {
		p++;
		buf_reset(&tok);
		while (*p && *p != '/') {
			if (*p == '~' && (p[1] == '0' || p[1] == '1')) {
				buf_putc(&tok, p[1] == '0' ? '~' : '/');
				p += 2;
			} else {
				buf_putc(&tok, *p++);
			}
		}
		if (json_is_array(cur)) {
			char *end;
			unsigned long long idx;

			errno = 0;
			idx = strtoull(tok.p, &end, 10);
			if (!tok.len || *end || errno || !secret_is_digit(tok.p[0]) ||
			    idx >= json_array_size(cur)) {
				secret_fail(r, "JSON pointer segment \"%s\" is out of bounds.",
					    tok.p);
				cur = NULL;
				break;
			}
			cur = json_array_get(cur, (size_t)idx);
		} else if (json_is_object(cur) && json_object_getn(cur, tok.p, tok.len)) {
			cur = json_object_getn(cur, tok.p, tok.len);
		} else {
			secret_fail(r, "JSON pointer segment \"%s\" does not exist.", tok.p);
			cur = NULL;
			break;
		}
	}
	buf_release(&tok);
	return cur;
}

static int secret_resolve_file(struct secret_req *r, char **out)
{
	const char *mode = secret_cstr(json_object_get(r->pcfg, "mode"));
	const char *cfg_path = secret_cstr(json_object_get(r->pcfg, "path"));
	bool single = mode && !strcmp(mode, "singleValue");
	char *path = fs_expand_home(cfg_path);
	struct buf text;
	const char *p;
	size_t n;
	json_t *doc = NULL;
	json_error_t jerr;
	int rc = -1;

	buf_init(&text, 0);
	if (single && strcmp(r->id, SECRET_SINGLE_VALUE_ID)) {
		secret_fail(r, "singleValue file provider \"%s\" expects ref id \"value\".",
			    r->provider);
		goto out;
	}
	if (secret_read_private_file(r, path, &text))
		goto out;
	p = text.p;
	n = text.len;
	if (n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) { /* a UTF-8 BOM is not content */
		p += 3;
		n -= 3;
	}
	if (single) {
		/* The whole file, minus one trailing newline (editors add it). */
		if (n && p[n - 1] == '\n')
			n--;
		if (n && p[n - 1] == '\r')
			n--;
		if (!n || memchr(p, '\0', n)) {
			secret_fail(r, "resolved to a non-string or empty value");
			goto out;
		}
		*out = xstrndup(p, n);
		rc = 0;
		goto out;
	}
	/* The parser's own message is not shown: it quotes the text near the error. */
	doc = json_loadb(p, n, JSON_DECODE_ANY, &jerr);
	if (!doc) {
		secret_fail(r, "file provider \"%s\" payload is not valid JSON (line %d)",
			    r->provider, jerr.line);
		goto out;
	}
	if (!json_is_object(doc)) {
		secret_fail(r, "File provider \"%s\" payload is not a JSON object.", r->provider);
		goto out;
	}
	{
		const json_t *v = secret_json_pointer(r, doc);

		if (v)
			rc = secret_take_value(r, v, out);
	}
out:
	json_decref(doc);
	buf_release(&text);
	free(path);
	return rc;
}

/* ------------------------------------------------------------- exec */

/* Is `path` (resolved) inside one of trustedDirs (resolved)? */
static bool secret_in_trusted_dirs(const json_t *dirs, const char *path)
{
	const json_t *item;
	size_t i;
	bool inside = false;

	json_array_foreach(dirs, i, item)
	{
		char *expanded = fs_expand_home(json_string_value(item));
		char *real = realpath(expanded, NULL);
		const char *dir = real ? real : expanded;
		size_t n = strlen(dir);

		while (n > 1 && dir[n - 1] == '/')
			n--;
		if (n == 1 && dir[0] == '/')
			inside = path[0] == '/';
		else if (!strncmp(path, dir, n) && path[n] == '/')
			inside = true;
		free(real);
		free(expanded);
		if (inside)
			break;
	}
	return inside;
}

/*
 * The command must be a regular file that only we can change (OpenClaw's
 * assertSecurePath with allowReadableByOthers): not group/world writable,
 * owned by us, not a symlink unless allowSymlinkCommand, inside trustedDirs
 * when given. Returns the path to run (symlinks resolved) or NULL.
 */
static char *secret_check_command(struct secret_req *r, const char *command)
{
	bool symlink_ok = secret_opt_bool(r->pcfg, "allowSymlinkCommand", false);
	bool insecure = secret_opt_bool(r->pcfg, "allowInsecurePath", false);
	const json_t *dirs = json_object_get(r->pcfg, "trustedDirs");
	char *path = NULL, *real;
	struct stat st;

	if (!secret_is_absolute(command)) {
		secret_fail(r, "secrets.providers.%s.command must be an absolute path.",
			    r->provider);
		return NULL;
	}
	if (lstat(command, &st) < 0) {
		secret_fail(r, "secrets.providers.%s.command is not readable: %s (%s)", r->provider,
			    command, strerror(errno));
		return NULL;
	}
	if (S_ISLNK(st.st_mode)) {
		if (!symlink_ok) {
			secret_fail(r,
				    "secrets.providers.%s.command must not be a symlink: %s "
				    "(set allowSymlinkCommand to allow it)",
				    r->provider, command);
			return NULL;
		}
		real = realpath(command, NULL);
		if (!real || stat(real, &st) < 0) {
			secret_fail(
				r,
				"secrets.providers.%s.command symlink target is not readable: %s",
				r->provider, command);
			free(real);
			return NULL;
		}
		path = real;
	} else {
		path = xstrdup(command);
	}
	if (!S_ISREG(st.st_mode)) {
		secret_fail(r, "secrets.providers.%s.command must be a regular file: %s",
			    r->provider, path);
		goto bad;
	}
	if (json_is_array(dirs) && json_array_size(dirs) > 0) {
		bool ok;

		real = realpath(path, NULL);
		ok = secret_in_trusted_dirs(dirs, real ? real : path);
		free(real);
		if (!ok) {
			secret_fail(r, "secrets.providers.%s.command is outside trustedDirs: %s",
				    r->provider, path);
			goto bad;
		}
	}
	if (!insecure) {
		if (st.st_mode & 022) {
			secret_fail(r,
				    "secrets.providers.%s.command permissions are too open "
				    "(mode %04o, writable by group or others): %s",
				    r->provider, (unsigned)(st.st_mode & 07777), path);
			goto bad;
		}
		if (st.st_uid != getuid()) {
			secret_fail(
				r,
				"secrets.providers.%s.command must be owned by the current user "
				"(uid=%u, file uid=%u): %s",
				r->provider, (unsigned)getuid(), (unsigned)st.st_uid, path);
			goto bad;
		}
	}
	return path;
bad:
	free(path);
	return NULL;
}

/* NULL-terminated vector of owned strings. */
struct secret_vec {
	char **v;
	size_t n, alloc;
};

static void secret_vec_push(struct secret_vec *vec, char *s)
{
	vec->v = xgrow(vec->v, &vec->alloc, vec->n + 2, sizeof(*vec->v));
	vec->v[vec->n++] = s;
	vec->v[vec->n] = NULL;
}

static void secret_vec_free(struct secret_vec *vec)
{
	for (size_t i = 0; i < vec->n; i++)
		free(vec->v[i]);
	free(vec->v);
}

/* Set NAME=value, replacing an earlier NAME (provider env beats passEnv). */
static void secret_env_set(struct secret_vec *env, const char *name, const char *value)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < env->n; i++) {
		if (!strncmp(env->v[i], name, n) && env->v[i][n] == '=') {
			free(env->v[i]);
			env->v[i] = xasprintf("%s=%s", name, value);
			return;
		}
	}
	secret_vec_push(env, xasprintf("%s=%s", name, value));
}

struct secret_run {
	const char *path;  /* what to execute */
	char *const *argv; /* argv[0] included */
	char *const *envp;
	const char *cwd;
	const char *input;
	long long timeout_ms, idle_ms;
	size_t max_output;
	/* results */
	struct buf out;
	int status;
	enum { RUN_EXITED, RUN_TIMEOUT, RUN_IDLE, RUN_TOO_BIG, RUN_SPAWN_FAILED } how;
	int spawn_errno;
};

/* Move an fd out of 0..2 so the child's dup2 onto 0..2 cannot clobber it. */
static int secret_fd_high(int fd)
{
	int nfd;

	if (fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

/*
 * The child half: only async-signal-safe calls between fork and execve.
 * An execve failure is reported to the parent through `report` as errno.
 */
static NORETURN void secret_child(const struct secret_run *run, int in, int out, int err,
				  int report)
{
	struct sigaction sa;
	sigset_t none;
	int e;

	setpgid(0, 0); /* our own group, so a timeout can kill its children too */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || chdir(run->cwd) < 0)
		goto fail;
	execve(run->path, run->argv, run->envp);
fail:
	e = errno;
	if (write(report, &e, sizeof(e)) < 0) {
		/* nothing more to do: the parent sees a bare exit 127 */
	}
	_exit(127);
}

static void secret_kill_group(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

static void secret_reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

/*
 * Run the resolver: request on stdin, stdout collected (stderr drained and
 * counted but dropped), all bounded by the byte cap, the overall timeout
 * and the no-output timeout. The child is always reaped before returning.
 * stdin is a socket so that a resolver that exits without reading cannot
 * SIGPIPE us (send with MSG_NOSIGNAL).
 */
static int secret_run_child(struct secret_run *run)
{
	int sv[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, rep[2] = { -1, -1 };
	size_t in_len = strlen(run->input), in_off = 0;
	long long start = secret_now_ms(), last_output = start, now;
	bool out_open = true, err_open = true, exited = false;
	size_t total = 0;
	pid_t pid;
	int e = 0;
	ssize_t nr;

	buf_init(&run->out, run->max_output);
	run->how = RUN_EXITED;
	run->status = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0) {
		run->spawn_errno = errno;
		run->how = RUN_SPAWN_FAILED;
		goto close_all;
	}
	sv[1] = secret_fd_high(sv[1]);
	outp[1] = secret_fd_high(outp[1]);
	errp[1] = secret_fd_high(errp[1]);
	rep[1] = secret_fd_high(rep[1]);
	if (sv[1] < 0 || outp[1] < 0 || errp[1] < 0 || rep[1] < 0) {
		run->spawn_errno = EMFILE;
		run->how = RUN_SPAWN_FAILED;
		goto close_all;
	}

	pid = fork();
	if (pid < 0) {
		run->spawn_errno = errno;
		run->how = RUN_SPAWN_FAILED;
		goto close_all;
	}
	if (pid == 0)
		secret_child(run, sv[1], outp[1], errp[1], rep[1]);
	setpgid(pid, pid); /* also here: whichever runs first wins the race */

	close(sv[1]);
	close(outp[1]);
	close(errp[1]);
	close(rep[1]);
	sv[1] = outp[1] = errp[1] = rep[1] = -1;

	/* EOF here means execve succeeded (the pipe is close-on-exec). */
	do
		nr = read(rep[0], &e, sizeof(e));
	while (nr < 0 && errno == EINTR);
	if (nr == (ssize_t)sizeof(e)) {
		secret_reap(pid, &run->status);
		run->spawn_errno = e;
		run->how = RUN_SPAWN_FAILED;
		goto close_all;
	}

	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	if (in_len == 0) {
		close(sv[0]);
		sv[0] = -1;
	}

	while (out_open || err_open) {
		struct pollfd pf[3];
		nfds_t n = 0;
		int wait_ms, in_slot = -1, out_slot = -1, err_slot = -1;
		long long left;

		now = secret_now_ms();
		if (now - start >= run->timeout_ms) {
			run->how = RUN_TIMEOUT;
			break;
		}
		if (now - last_output >= run->idle_ms) {
			run->how = RUN_IDLE;
			break;
		}
		left = run->timeout_ms - (now - start);
		if (run->idle_ms - (now - last_output) < left)
			left = run->idle_ms - (now - last_output);
		wait_ms = left > INT_MAX ? INT_MAX : (int)left;

		if (sv[0] >= 0) {
			pf[n] = (struct pollfd){ .fd = sv[0], .events = POLLOUT };
			in_slot = (int)n++;
		}
		if (out_open) {
			pf[n] = (struct pollfd){ .fd = outp[0], .events = POLLIN };
			out_slot = (int)n++;
		}
		if (err_open) {
			pf[n] = (struct pollfd){ .fd = errp[0], .events = POLLIN };
			err_slot = (int)n++;
		}
		if (poll(pf, n, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			run->how = RUN_TIMEOUT;
			break;
		}

		if (in_slot >= 0 && pf[in_slot].revents) {
			ssize_t w = send(sv[0], run->input + in_off, in_len - in_off,
					 MSG_NOSIGNAL | MSG_DONTWAIT);

			if (w > 0)
				in_off += (size_t)w;
			/* A resolver that does not read its input is its own business. */
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_off == in_len) {
				close(sv[0]);
				sv[0] = -1;
			}
		}
		for (int k = 0; k < 2; k++) {
			int slot = k == 0 ? out_slot : err_slot;
			char chunk[4096];

			if (slot < 0 || !pf[slot].revents)
				continue;
			nr = read(pf[slot].fd, chunk, sizeof(chunk));
			if (nr < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (nr <= 0) {
				if (k == 0)
					out_open = false;
				else
					err_open = false;
				continue;
			}
			last_output = secret_now_ms();
			/* stdout and stderr share the cap, as in OpenClaw. */
			total += (size_t)nr;
			if (total > run->max_output) {
				run->how = RUN_TOO_BIG;
				break;
			}
			if (k == 0)
				buf_append(&run->out, chunk, (size_t)nr);
		}
		if (run->how == RUN_TOO_BIG)
			break;
	}

	/* Output is closed; give the process the rest of its time to exit. */
	while (run->how == RUN_EXITED) {
		pid_t w = waitpid(pid, &run->status, WNOHANG);

		if (w == pid || (w < 0 && errno != EINTR)) {
			exited = true;
			break;
		}
		now = secret_now_ms();
		if (now - start >= run->timeout_ms) {
			run->how = RUN_TIMEOUT;
			break;
		}
		{
			struct timespec ts = { 0, 5 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	/*
	 * Killed while still unreaped, so the group id cannot have been reused.
	 * After a normal exit the group is left alone for that same reason.
	 */
	if (!exited) {
		secret_kill_group(pid);
		secret_reap(pid, &run->status);
	}

close_all:
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
		if (rep[i] >= 0)
			close(rep[i]);
	}
	return run->how == RUN_EXITED ? 0 : -1;
}

/* Whitespace as JavaScript's String.prototype.trim sees it (ASCII part). */
static bool secret_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Parse the resolver's stdout (OpenClaw's parseExecValues, for one id). */
static int secret_exec_parse(struct secret_req *r, const char *s, size_t n, bool json_only,
			     char **out)
{
	const json_t *values, *errors, *v, *entry;
	json_t *doc;
	json_error_t jerr;
	int rc = -1;

	while (n && secret_is_space(*s))
		s++, n--;
	while (n && secret_is_space(s[n - 1]))
		n--;
	if (!n)
		return secret_fail(r, "exec provider \"%s\" returned empty stdout", r->provider);

	doc = json_loadb(s, n, JSON_DECODE_ANY, &jerr);
	if (!doc) {
		/* Plain text is the value for a single id when jsonOnly is off. */
		if (!json_only) {
			if (memchr(s, '\0', n))
				return secret_fail(r, "resolved to a non-string or empty value");
			*out = xstrndup(s, n);
			return 0;
		}
		return secret_fail(r, "exec provider \"%s\" returned invalid JSON", r->provider);
	}
	if (!json_is_object(doc)) {
		if (!json_only && json_is_string(doc)) {
			rc = secret_take_value(r, doc, out);
			goto out;
		}
		secret_fail(r, "exec provider \"%s\" response must be an object", r->provider);
		goto out;
	}
	v = json_object_get(doc, "protocolVersion");
	{
		long long ver;

		if (!v || !secret_whole_number(v, &ver) || ver != 1) {
			secret_fail(r, "exec provider \"%s\" protocolVersion must be 1",
				    r->provider);
			goto out;
		}
	}
	values = json_object_get(doc, "values");
	if (!json_is_object(values)) {
		secret_fail(r, "exec provider \"%s\" response missing \"values\"", r->provider);
		goto out;
	}
	errors = json_object_get(doc, "errors");
	entry = json_is_object(errors) ? json_object_get(errors, r->id) : NULL;
	if (entry) {
		/*
		 * Only the recognised diagnostic codes are shown: anything else in
		 * the entry is resolver output and may hold credential material.
		 */
		const char *code =
			json_is_object(entry) ? secret_cstr(json_object_get(entry, "code")) : NULL;

		if (code &&
		    (!strcmp(code, "NOT_FOUND") || !strcmp(code, "AMBIGUOUS_DUPLICATE_KEY")))
			secret_fail(r, "exec provider \"%s\" failed for id \"%s\" (%s)",
				    r->provider, r->id, code);
		else
			secret_fail(r, "exec provider \"%s\" failed for id \"%s\"", r->provider,
				    r->id);
		goto out;
	}
	v = json_object_get(values, r->id);
	if (!v) {
		secret_fail(r, "exec provider \"%s\" response missing id \"%s\"", r->provider,
			    r->id);
		goto out;
	}
	rc = secret_take_value(r, v, out);
out:
	json_decref(doc);
	return rc;
}

static int secret_resolve_exec(struct secret_req *r, char **out)
{
	const json_t *p = r->pcfg;
	const json_t *args = json_object_get(p, "args"), *pass = json_object_get(p, "passEnv");
	const json_t *env = json_object_get(p, "env"), *item;
	const json_t *resolution = secret_get2(r->root, "secrets", "resolution");
	long long max_batch =
		secret_opt_int(resolution, "maxBatchBytes", SECRET_DEFAULT_BATCH_BYTES);
	struct secret_vec argv = { 0 }, envp = { 0 };
	struct secret_run run = { 0 };
	char *path = NULL, *cwd = NULL, *input = NULL;
	json_t *req = NULL;
	const char *key;
	size_t i;
	int rc = -1;

	buf_init(&run.out, 0);
	if (json_object_get(p, "pluginIntegration")) {
		secret_fail(r, "plugin-managed exec providers (pluginIntegration) are not "
			       "supported; configure \"command\" instead");
		goto out;
	}
	path = secret_check_command(r, secret_cstr(json_object_get(p, "command")));
	if (!path)
		goto out;

	req = json_pack("{s:i, s:s, s:[s]}", "protocolVersion", 1, "provider", r->provider, "ids",
			r->id);
	input = json_dump_str(req, JSON_COMPACT);
	if ((long long)strlen(input) > max_batch) {
		secret_fail(r, "exec provider \"%s\" request exceeded maxBatchBytes (%lld)",
			    r->provider, max_batch);
		goto out;
	}

	secret_vec_push(&argv, xstrdup(path));
	json_array_foreach(args, i, item) secret_vec_push(&argv, xstrdup(json_string_value(item)));
	/* A minimal environment: passEnv names that are set, then `env`. */
	json_array_foreach(pass, i, item)
	{
		const char *v = getenv(json_string_value(item));

		if (v)
			secret_env_set(&envp, json_string_value(item), v);
	}
	json_object_foreach((json_t *)env, key, item)
		secret_env_set(&envp, key, json_string_value(item));
	if (!envp.v)
		envp.v = xcalloc(1, sizeof(*envp.v)); /* empty environment */

	cwd = fs_dirname(path);
	run.path = path;
	run.argv = argv.v;
	run.envp = envp.v;
	run.cwd = cwd;
	run.input = input;
	run.timeout_ms = secret_opt_int(p, "timeoutMs", SECRET_DEFAULT_TIMEOUT_MS);
	run.idle_ms = secret_opt_int(p, "noOutputTimeoutMs", run.timeout_ms);
	run.max_output = (size_t)secret_opt_int(p, "maxOutputBytes", SECRET_DEFAULT_MAX_BYTES);
	{
		size_t cap = run.max_output;

		secret_run_child(&run);
		switch (run.how) {
		case RUN_SPAWN_FAILED:
			secret_fail(r, "exec provider \"%s\" could not run %s: %s", r->provider,
				    path, strerror(run.spawn_errno));
			goto out;
		case RUN_TIMEOUT:
			secret_fail(r, "exec provider \"%s\" timed out after %lldms", r->provider,
				    run.timeout_ms);
			goto out;
		case RUN_IDLE:
			secret_fail(r, "exec provider \"%s\" produced no output for %lldms",
				    r->provider, run.idle_ms);
			goto out;
		case RUN_TOO_BIG:
			secret_fail(r, "exec provider \"%s\" output exceeded maxOutputBytes (%zu)",
				    r->provider, cap);
			goto out;
		case RUN_EXITED:
			break;
		}
	}
	if (WIFSIGNALED(run.status)) {
		secret_fail(r, "exec provider \"%s\" was killed by signal %d", r->provider,
			    WTERMSIG(run.status));
		goto out;
	}
	if (!WIFEXITED(run.status) || WEXITSTATUS(run.status) != 0) {
		secret_fail(r, "exec provider \"%s\" exited with code %d", r->provider,
			    WIFEXITED(run.status) ? WEXITSTATUS(run.status) : -1);
		goto out;
	}
	rc = secret_exec_parse(r, run.out.p, run.out.len, secret_opt_bool(p, "jsonOnly", true),
			       out);
out:
	buf_release(&run.out);
	secret_vec_free(&argv);
	secret_vec_free(&envp);
	json_decref(req);
	free(input);
	free(cwd);
	free(path);
	return rc;
}

/* ---------------------------------------------------------- dispatch */

int secret_resolve(const json_t *config_root, const json_t *v, char **out, char *err, size_t errlen)
{
	struct secret_req r = { .root = config_root, .err = err, .errlen = errlen };
	const json_t *providers, *entry;
	const char *env_default;
	char msg[400];

	*out = NULL;
	if (json_is_string(v)) {
		*out = xstrdup(json_string_value(v));
		return 0;
	}
	if (!json_is_object(v)) {
		snprintf(err, errlen, "expected a string or a SecretRef object, got %s",
			 json_kind(v));
		return -1;
	}
	if (secret_ref_check(v, msg, sizeof(msg))) {
		snprintf(err, errlen, "invalid SecretRef: %s", msg);
		return -1;
	}
	r.source = json_string_value(json_object_get(v, "source"));
	r.id = json_string_value(json_object_get(v, "id"));
	r.provider = json_string_value(json_object_get(v, "provider"));
	if (!r.provider)
		r.provider = secret_default_alias(config_root, r.source);

	providers = secret_get2(config_root, "secrets", "providers");
	entry = json_is_object(providers) ? json_object_get(providers, r.provider) : NULL;
	env_default = secret_default_alias(config_root, "env");

	/*
	 * The env source's default alias always has a built-in provider; an
	 * explicit env entry of that name (e.g. one with an allowlist) wins,
	 * an entry of another source under that name does not.
	 */
	if (!strcmp(r.source, "env") && !strcmp(r.provider, env_default)) {
		const char *esrc = entry ? secret_cstr(json_object_get(entry, "source")) : NULL;

		if (!esrc || strcmp(esrc, "env"))
			entry = NULL;
		r.pcfg = entry;
	} else if (!entry) {
		return secret_fail(&r,
				   "secret provider \"%s\" is not configured "
				   "(add it under secrets.providers)",
				   r.provider);
	} else {
		const char *esrc = secret_cstr(json_object_get(entry, "source"));

		if (!esrc || strcmp(esrc, r.source))
			return secret_fail(&r,
					   "secret provider \"%s\" has source \"%s\" but the ref "
					   "requests \"%s\"",
					   r.provider, esrc ? esrc : "?", r.source);
		r.pcfg = entry;
	}
	if (r.pcfg && secret_provider_check(r.pcfg, msg, sizeof(msg)))
		return secret_fail(&r, "secrets.providers.%s: %s", r.provider, msg);

	if (!strcmp(r.source, "env"))
		return secret_resolve_env(&r, out);
	if (!strcmp(r.source, "file"))
		return secret_resolve_file(&r, out);
	return secret_resolve_exec(&r, out);
}
